//! Troubleshoot: why does one object not synchronize? The admin enters the object's DN; the page
//! runs the preflight (every check, then the directory readiness report) and shows the checks
//! that failed or warned, and everything the readiness report says about that object (invalid
//! or duplicate values, an unverified UPN suffix, filtered out of scope and why).
//!
//! Invariants: read-only; the DN is validated before anything runs; an object the report says
//! nothing about is reported as such (with the checks), never as "fine" without evidence.

use crate::domain::Dn;
use crate::effects::{CheckStatus, Failure, ObjectNote, PreflightResult};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::refresh_directory_schema::{self, Run, checks};
use crate::wizard::text::troubleshoot as t;
use crate::wizard::ui::{Body, Styles, working};
use crate::wizard::widgets::TextField;

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Troubleshoot {
    /// The object's DN.
    pub object: TextField,
    /// Validation message for the DN.
    pub error: Option<&'static str>,
    /// The run.
    pub run: Run,
    /// The DN the run was for.
    pub ran_for: Option<Dn>,
}

/// The preflight finished.
pub fn on_preflight(s: &mut State, r: Result<PreflightResult, Failure>) {
    s.troubleshoot.run = match r {
        Ok(p) => Run::Done(p),
        Err(f) => Run::Failed(f),
    };
}

/// What the readiness report says about `dn`.
pub fn notes<'a>(p: &'a PreflightResult, dn: &Dn) -> Vec<&'a ObjectNote> {
    p.objects
        .iter()
        .filter(|o| Dn::parse(&o.dn).is_ok_and(|d| d == *dn))
        .collect()
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let tr = &mut s.troubleshoot;
    match input {
        Input::Char(c) => {
            tr.object.input(Input::Char(c));
            tr.error = None;
            Flow::stay()
        }
        Input::Backspace => {
            tr.object.input(Input::Backspace);
            tr.error = None;
            Flow::stay()
        }
        Input::Action(Action::Next | Action::Retry) => {
            if tr.run == Run::Running {
                return Flow::stay();
            }
            let text = tr.object.text();
            let dn = if text.is_empty() {
                tr.error = Some(crate::wizard::text::REQUIRED);
                None
            } else {
                match Dn::parse(text) {
                    Ok(d) if !d.is_empty() => Some(d),
                    _ => {
                        tr.error = Some(t::BAD_DN);
                        None
                    }
                }
            };
            let Some(dn) = dn else {
                return Flow::stay();
            };
            tr.ran_for = Some(dn);
            tr.run = Run::Running;
            Flow::Stay(vec![refresh_directory_schema::preflight(s)])
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let tr = &s.troubleshoot;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    b.field(t::OBJECT, &tr.object, true, tr.error, st);
    b.blank();
    match (&tr.run, &tr.ran_for) {
        (Run::Running, _) => b.push(working(s.tick, t::RUNNING, st)),
        (Run::Done(p), Some(dn)) => {
            let found = notes(p, dn);
            b.text(t::about(&dn.to_string()), st.title);
            if found.is_empty() {
                b.text(t::NOTHING_FOUND, st.text);
            }
            for n in found {
                b.text(
                    format!("{} {}", if n.error { "✗" } else { "!" }, n.text),
                    if n.error { st.error } else { st.warning },
                );
            }
            let bad: Vec<_> = p
                .checks
                .iter()
                .filter(|c| c.status != CheckStatus::Pass)
                .collect();
            b.blank();
            if bad.is_empty() {
                b.text(t::CHECKS_PASS, st.success);
            } else {
                b.text(t::CHECKS_BAD, st.title);
                checks(&mut b, &bad, st);
            }
        }
        (Run::Failed(f), _) => {
            b.text(format!("✗ {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
        _ => {}
    }
    b
}
