//! Prerequisite checks: run as soon as the page opens, shown live (a spinner while they run, then
//! one line per check with what to fix), rerun with Ctrl+R.
//!
//! Invariants: Next is refused while the checks run or when any check failed; warnings do not
//! block.

use crate::effects::{CheckResult, CheckStatus, Effect, Failure};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::prerequisites as t;
use crate::wizard::ui::{Body, Styles, status, working};

/// Where the checks are.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Checks {
    /// Not started.
    #[default]
    NotRun,
    /// Running.
    Running,
    /// Finished.
    Done(Vec<CheckResult>),
    /// Could not run at all.
    Failed(Failure),
}

/// Prerequisites page state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prerequisites {
    /// The checks.
    pub checks: Checks,
}

fn start(s: &mut State) -> Vec<Effect> {
    s.prerequisites.checks = Checks::Running;
    vec![Effect::CheckPrerequisites {
        config_path: s.config_path.clone(),
        state_dir: s.state_dir.clone(),
    }]
}

/// Start the checks.
pub fn enter(s: &mut State) -> Vec<Effect> {
    start(s)
}

/// The checks came back.
pub fn on_checks(s: &mut State, checks: Vec<CheckResult>) {
    s.prerequisites.checks = Checks::Done(checks);
}

/// The checks could not run.
pub fn on_failure(s: &mut State, f: Failure) {
    s.prerequisites.checks = Checks::Failed(f);
}

fn passed(p: &Prerequisites) -> bool {
    matches!(&p.checks, Checks::Done(c) if c.iter().all(|c| c.status != CheckStatus::Fail))
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Retry) if s.prerequisites.checks != Checks::Running => {
            Flow::Stay(start(s))
        }
        Input::Action(Action::Next) if passed(&s.prerequisites) => Flow::Next(Vec::new()),
        Input::Action(Action::Next) => Flow::stay(),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    match &s.prerequisites.checks {
        Checks::Running => vec![],
        _ if passed(&s.prerequisites) => vec![Action::Next, Action::Retry],
        _ => vec![Action::Retry],
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    match &s.prerequisites.checks {
        Checks::NotRun => {}
        Checks::Running => b.push(working(s.tick, t::RUNNING, st)),
        Checks::Failed(f) => {
            b.text(format!("✗ {}: {}", t::COULD_NOT_RUN, f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.muted);
        }
        Checks::Done(checks) => {
            for c in checks {
                let (sym, style) = status(c.status, st);
                b.text(format!("{sym} {}", c.name), style);
                b.text(format!("  {}", c.detail), st.muted);
                if !c.fix.is_empty() {
                    b.text(format!("  {}{}", crate::wizard::text::FIX, c.fix), st.text);
                }
            }
            b.blank();
            let (line, style) = if checks.iter().any(|c| c.status == CheckStatus::Fail) {
                (t::BLOCKED, st.error)
            } else if checks.iter().any(|c| c.status == CheckStatus::Warn) {
                (t::WARNINGS, st.warning)
            } else {
                (t::ALL_PASSED, st.success)
            };
            b.text(line, style);
        }
    }
    b
}
