//! Refresh directory schema: re-reads the schema of the configured forests now and shows the
//! checks that depend on it (the preflight's bind and schema checks), with their fixes.
//! hybridsync keeps no stored copy of the schema and generates no rules from it (it reads the
//! schema from a domain controller when it connects), so unlike Entra Connect there is nothing
//! to regenerate: this task tells an admin whether the schema now has what the enabled features
//! need (after an Exchange schema update, for example).
//!
//! Invariants: read-only; the checks run in a separate `hybridsync preflight` process, the same
//! code as the command; Ctrl+R runs them again.

use crate::effects::{CheckStatus, Effect, Failure, PreflightCheck, PreflightResult};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::schema as t;
use crate::wizard::ui::{Body, Styles, status, working};

/// A preflight run as a page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Run {
    /// Not started.
    #[default]
    NotStarted,
    /// Running.
    Running,
    /// Done.
    Done(PreflightResult),
    /// Could not run.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshDirectorySchema {
    /// The run.
    pub run: Run,
}

/// The effect that runs the preflight on the saved configuration.
pub fn preflight(s: &State) -> Effect {
    Effect::RunPreflight {
        config_path: s.config_path.clone(),
        state_dir: s.state_dir.clone(),
    }
}

/// Start reading.
pub fn enter(s: &mut State) -> Vec<Effect> {
    s.schema.run = Run::Running;
    vec![preflight(s)]
}

/// The preflight finished.
pub fn on_preflight(s: &mut State, r: Result<PreflightResult, Failure>) {
    s.schema.run = match r {
        Ok(p) => Run::Done(p),
        Err(f) => Run::Failed(f),
    };
}

/// The checks this page shows: each forest's bind and schema.
pub fn relevant(p: &PreflightResult) -> Vec<&PreflightCheck> {
    p.checks
        .iter()
        .filter(|c| c.id == "ad.schema" || c.id == "ad.bind")
        .collect()
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Retry) if s.schema.run != Run::Running => Flow::Stay(enter(s)),
        Input::Action(Action::Next) => Flow::Back,
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Retry]
}

/// Draw checks with their fixes.
pub fn checks(b: &mut Body, list: &[&PreflightCheck], st: &Styles) {
    for c in list {
        let (sym, style) = status(c.status, st);
        b.text(format!("{sym} {}: {}", c.title, c.found), style);
        if c.status != CheckStatus::Pass && !c.fix.is_empty() {
            b.text(format!("  {}{}", crate::wizard::text::FIX, c.fix), st.text);
        }
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    match &s.schema.run {
        Run::NotStarted => {}
        Run::Running => b.push(working(s.tick, t::READING, st)),
        Run::Done(p) => {
            let list = relevant(p);
            if list.is_empty() {
                b.text(t::NO_FOREST, st.warning);
            } else {
                checks(&mut b, &list, st);
            }
        }
        Run::Failed(f) => {
            b.text(format!("✗ {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
    }
    b.blank();
    b.text(t::AGAIN, st.muted);
    b
}
