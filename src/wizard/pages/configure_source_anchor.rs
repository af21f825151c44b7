//! Configure source anchor (rerun task, offered only while the anchor is objectGUID): switch to
//! mS-DS-ConsistencyGuid. When the page opens it looks, in every forest and under its scope, for
//! users whose mS-DS-ConsistencyGuid is already set (the connector account's stored password
//! binds); found values are listed (a few DNs and the count) and block the switch unless the
//! admin ticks the explicit override (Entra Connect's `/SkipLdapSearch`).
//!
//! An option writes the anchor back as Entra Connect does: on the Configure page, with a Domain
//! or Enterprise Admin's credentials (used once, never stored), the connector account (when
//! hybridsync manages it) gets the right to write mS-DS-ConsistencyGuid, and every in-scope
//! user with an empty one gets its objectGUID there.
//!
//! Invariants: the page never moves on while the check runs, failed or found values, unless the
//! override is ticked; it changes only `identity.source_anchor`; users already synchronized keep
//! their immutableId (the shipped rules take objectGUID while the consistency guid is empty, and
//! the value written back is the objectGUID itself).

use crate::config::Config;
use crate::config::model::ScopeMode;
use crate::domain::AttributeName;
use crate::effects::{Effect, Failure, ForestLogin, ForestSearch, GuidsInUse, LoginSecret};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::additional_tasks::naming_context;
use crate::wizard::text::source_anchor as t;
use crate::wizard::ui::{Body, Check as Tick, Styles, checkbox, note, working};
use crate::wizard::widgets::TextField;

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

/// A focusable row of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The override (shown when the check is blocked).
    #[default]
    Skip,
    /// The writeback option.
    Stamp,
    /// The admin.
    Admin,
    /// Its password.
    Password,
}

/// The page's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigureSourceAnchor {
    /// The check.
    pub check: Check,
    /// The override (`/SkipLdapSearch`).
    pub skip: bool,
    /// Next refused.
    pub refused: bool,
    /// Write objectGUID into mS-DS-ConsistencyGuid on the Configure page.
    pub stamp: bool,
    /// The admin for it.
    pub admin: TextField,
    /// Its password (never stored).
    pub password: TextField,
    /// The focused row.
    pub focus: Focus,
    /// Validation messages.
    pub errors: Vec<(Focus, &'static str)>,
}

impl Default for ConfigureSourceAnchor {
    fn default() -> Self {
        Self {
            check: Check::NotRun,
            skip: false,
            refused: false,
            stamp: false,
            admin: TextField::default(),
            password: TextField::password(),
            focus: Focus::Skip,
            errors: Vec::new(),
        }
    }
}

/// The rows that take the focus, in order.
fn rows(a: &ConfigureSourceAnchor) -> Vec<Focus> {
    let mut v = Vec::new();
    if blocked(a) {
        v.push(Focus::Skip);
    }
    v.push(Focus::Stamp);
    if a.stamp {
        v.extend([Focus::Admin, Focus::Password]);
    }
    v
}

/// The focused row (the first when the remembered one is not shown).
pub fn focus(a: &ConfigureSourceAnchor) -> Focus {
    let r = rows(a);
    if r.contains(&a.focus) {
        a.focus
    } else {
        r.first().copied().unwrap_or(Focus::Stamp)
    }
}

/// The searches of the writeback step, bound as the admin, each with the connector account to
/// grant (only one hybridsync manages).
pub fn stamp_searches(s: &State) -> Vec<(ForestSearch, Option<String>)> {
    let Some(c) = s.loaded() else {
        return Vec::new();
    };
    let a = &s.source_anchor;
    searches(c)
        .into_iter()
        .map(|mut f| {
            let d = c.directories.iter().find(|d| d.forest == f.login.forest);
            let account = d
                .filter(|d| d.account.managed)
                .map(|d| d.account.username.clone());
            f.login.username = a.admin.text().trim().to_string();
            f.login.password = LoginSecret::Given(a.password.secret());
            (f, account)
        })
        .collect()
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

/// Validate the writeback option's fields.
pub fn validate(a: &ConfigureSourceAnchor) -> Vec<(Focus, &'static str)> {
    let mut v = Vec::new();
    if a.stamp {
        if a.admin.text().trim().is_empty() {
            v.push((Focus::Admin, crate::wizard::text::REQUIRED));
        }
        if a.password.is_empty() {
            v.push((Focus::Password, crate::wizard::text::REQUIRED));
        }
    }
    v
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let a = &mut s.source_anchor;
    let rows = rows(a);
    let at = rows.iter().position(|r| *r == focus(a)).unwrap_or(0);
    match input {
        Input::Action(Action::Retry) => Flow::Stay(enter(s)),
        Input::Action(Action::FocusNext | Action::Down) => {
            a.focus = rows[(at + 1) % rows.len()];
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            a.focus = rows[(at + rows.len() - 1) % rows.len()];
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ')
            if matches!(focus(a), Focus::Skip | Focus::Stamp) =>
        {
            if focus(a) == Focus::Skip {
                a.skip = !a.skip;
                a.refused = false;
            } else {
                a.stamp = !a.stamp;
                a.errors.clear();
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            a.errors = validate(a);
            if let Some((f, _)) = a.errors.first() {
                a.focus = *f;
                return Flow::stay();
            }
            if may_continue(a) {
                Flow::Next(Vec::new())
            } else {
                a.refused = a.check != Check::Running;
                Flow::stay()
            }
        }
        other => {
            let field = match focus(a) {
                Focus::Admin => &mut a.admin,
                Focus::Password => &mut a.password,
                _ => return Flow::Unhandled,
            };
            if field.input(other) {
                a.errors.clear();
                Flow::stay()
            } else {
                Flow::Unhandled
            }
        }
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![
        Action::Next,
        Action::FocusNext,
        Action::Toggle,
        Action::Retry,
    ]
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
    let f = focus(a);
    if blocked(a) {
        b.blank();
        let on = f == Focus::Skip;
        b.push_focus(checkbox(Tick::from(a.skip), t::SKIP, on, true, st), on);
        b.push(note(t::SKIP_NOTE, st));
    }
    if a.refused {
        b.text(t::REFUSED, st.error);
    }
    b.blank();
    let on = f == Focus::Stamp;
    b.push_focus(checkbox(Tick::from(a.stamp), t::STAMP, on, true, st), on);
    b.push(note(t::STAMP_NOTE, st));
    if a.stamp {
        let err = |x: Focus| a.errors.iter().find(|(y, _)| *y == x).map(|(_, m)| *m);
        b.field(t::ADMIN, &a.admin, f == Focus::Admin, err(Focus::Admin), st);
        b.field(
            t::PASSWORD,
            &a.password,
            f == Focus::Password,
            err(Focus::Password),
            st,
        );
    } else {
        b.text(t::RIGHTS, st.muted);
    }
    b
}

/// Put the answer into the configuration.
pub fn apply(_: &State, c: &mut Config) {
    c.identity.source_anchor = AttributeName::new("mS-DS-ConsistencyGuid")
        .unwrap_or_else(|_| c.identity.source_anchor.clone());
}
