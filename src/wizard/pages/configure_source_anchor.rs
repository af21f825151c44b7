//! Configure source anchor (rerun task, offered only while the anchor is objectGUID): switch to
//! mS-DS-ConsistencyGuid. When the page opens it looks, in every forest and under its scope, for
//! users whose mS-DS-ConsistencyGuid is already set (the connector account's stored password
//! binds); found values are listed (a few DNs and the count) and block the switch unless the
//! admin ticks the explicit override (Entra Connect's `/SkipLdapSearch`).
//!
//! Invariants: the page never moves on while the check runs, failed or found values, unless the
//! override is ticked; it changes only `identity.source_anchor`; users already synchronized keep
//! their immutableId (the shipped rules take objectGUID while the consistency guid is empty).

use crate::config::Config;
use crate::config::model::ScopeMode;
use crate::domain::AttributeName;
use crate::effects::{Effect, Failure, ForestLogin, ForestSearch, GuidsInUse, LoginSecret};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::additional_tasks::naming_context;
use crate::wizard::text::source_anchor as t;
use crate::wizard::ui::{Body, Check as Tick, Styles, checkbox, note, working};

/// The check's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Check {
    /// Not run.
    #[default]
    NotRun,
    /// Running.
    Running,
    /// No user in scope has the attribute set.
    Clear,
    /// Some do.
    InUse(GuidsInUse),
    /// The check could not run.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigureSourceAnchor {
    /// The check.
    pub check: Check,
    /// The override (`/SkipLdapSearch`).
    pub skip: bool,
    /// Next refused.
    pub refused: bool,
}

/// Whether the task is offered: the anchor is objectGUID.
pub fn offered(c: &Config) -> bool {
    c.identity.source_anchor.eq_ignore_case("objectGUID")
}

/// One search per forest with a domain controller (an LDIF forest has none), under its scope,
/// bound as its connector account.
pub fn searches(c: &Config) -> Vec<ForestSearch> {
    c.directories
        .iter()
        .filter(|d| d.ldif_file.is_none())
        .map(|d| {
            let bases = if d.scope.mode == ScopeMode::Selected && !d.scope.include.is_empty() {
                d.scope.include.iter().map(|o| o.dn.clone()).collect()
            } else if d.scope.domains.is_empty() {
                naming_context(&d.forest).into_iter().collect()
            } else {
                d.scope
                    .domains
                    .iter()
                    .map(|x| x.naming_context.clone())
                    .collect()
            };
            ForestSearch {
                login: ForestLogin {
                    forest: d.forest.clone(),
                    domain_controllers: d.domain_controllers.clone(),
                    tls: d.tls.mode,
                    username: d.account.username.clone(),
                    password: LoginSecret::Stored(d.account.secret_ref.clone()),
                },
                bases,
                exclude: d.scope.exclude.iter().map(|o| o.dn.clone()).collect(),
            }
        })
        .collect()
}

/// Run the check.
pub fn enter(s: &mut State) -> Vec<Effect> {
    let Some(c) = s.loaded() else {
        return Vec::new();
    };
    let searches = searches(c);
    s.source_anchor.refused = false;
    if searches.is_empty() {
        s.source_anchor.check = Check::Clear;
        return Vec::new();
    }
    s.source_anchor.check = Check::Running;
    vec![Effect::FindConsistencyGuids { searches }]
}

/// The check answered.
pub fn on_checked(s: &mut State, r: Result<GuidsInUse, Failure>) {
    s.source_anchor.check = match r {
        Ok(g) if g.total == 0 => Check::Clear,
        Ok(g) => Check::InUse(g),
        Err(f) => Check::Failed(f),
    };
}

fn blocked(a: &ConfigureSourceAnchor) -> bool {
    matches!(a.check, Check::InUse(_) | Check::Failed(_))
}

/// Whether Next is allowed.
pub fn may_continue(a: &ConfigureSourceAnchor) -> bool {
    a.check == Check::Clear || (blocked(a) && a.skip)
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Retry) => Flow::Stay(enter(s)),
        Input::Action(Action::Toggle) | Input::Char(' ') if blocked(&s.source_anchor) => {
            s.source_anchor.skip = !s.source_anchor.skip;
            s.source_anchor.refused = false;
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if may_continue(&s.source_anchor) {
                Flow::Next(Vec::new())
            } else {
                s.source_anchor.refused = s.source_anchor.check != Check::Running;
                Flow::stay()
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    let mut v = vec![Action::Next];
    if blocked(&s.source_anchor) {
        v.push(Action::Toggle);
    }
    v.push(Action::Retry);
    v
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let a = &s.source_anchor;
    let mut b = Body::default();
    b.text(t::INTRO, st.text);
    b.text(t::KEEPS, st.muted);
    b.blank();
    match &a.check {
        Check::NotRun => {}
        Check::Running => b.push(working(s.tick, t::CHECKING, st)),
        Check::Clear => b.text(t::CLEAR, st.success),
        Check::InUse(g) => {
            b.text(t::in_use(g.total), st.error);
            for dn in &g.sample {
                b.text(format!("  {dn}"), st.text);
            }
            if g.total > g.sample.len() {
                b.text(t::more(g.total - g.sample.len()), st.muted);
            }
        }
        Check::Failed(f) => {
            b.text(t::FAILED, st.error);
            b.text(format!("  {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
    }
    if blocked(a) {
        b.blank();
        b.push_focus(checkbox(Tick::from(a.skip), t::SKIP, true, true, st), true);
        b.push(note(t::SKIP_NOTE, st));
    }
    if a.refused {
        b.text(t::REFUSED, st.error);
    }
    b.blank();
    b.text(t::RIGHTS, st.muted);
    b
}

/// Put the answer into the configuration.
pub fn apply(_: &State, c: &mut Config) {
    c.identity.source_anchor = AttributeName::new("mS-DS-ConsistencyGuid")
        .unwrap_or_else(|_| c.identity.source_anchor.clone());
}
