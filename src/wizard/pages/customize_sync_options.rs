//! Customize synchronization options: the first page of the rerun task that reopens the
//! first-run pages (Domain and OU filtering, Optional features) pre-filled from the loaded
//! configuration. It says what can change, shows the one-shot choices read-only with why they
//! are fixed, and offers the one thing a rerun may do to the pilot group: remove it.
//!
//! Invariants: the source anchor, the UPN attribute and the user matching are never changed
//! here; a pilot group can be removed but never added or changed on a rerun (as in Entra
//! Connect).

use crate::config::Config;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::customize as t;
use crate::wizard::ui::{Body, Styles, checkbox, note};

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomizeSyncOptions {
    /// Remove the pilot group filter.
    pub remove_pilot_group: bool,
}

fn pilot(s: &State) -> Option<String> {
    s.loaded()
        .and_then(|c| c.directories.first())
        .and_then(|d| d.pilot_group.as_ref())
        .map(|g| g.dn.to_string())
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Toggle) | Input::Char(' ') if pilot(s).is_some() => {
            s.customize.remove_pilot_group = !s.customize.remove_pilot_group;
            Flow::stay()
        }
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    if pilot(s).is_some() {
        vec![Action::Next, Action::Toggle]
    } else {
        vec![Action::Next]
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.text);
    b.blank();
    b.text(t::FIXED, st.title);
    if let Some(c) = s.loaded() {
        b.text(
            format!("  • {}", t::anchor(c.identity.source_anchor.as_str())),
            st.text,
        );
        b.push(note(t::ANCHOR_WHY, st));
        b.text(
            format!("  • {}", t::upn(c.sign_in.upn_attribute.as_str())),
            st.text,
        );
        b.push(note(t::UPN_WHY, st));
        b.text(
            format!("  • {}", t::matching(c.identity.user_matching)),
            st.text,
        );
        b.push(note(t::MATCHING_WHY, st));
    }
    b.blank();
    match pilot(s) {
        Some(group) => {
            b.text(t::pilot(&group), st.text);
            b.push_focus(
                checkbox(
                    s.customize.remove_pilot_group.into(),
                    t::REMOVE_PILOT,
                    true,
                    true,
                    st,
                ),
                true,
            );
            b.push(note(t::PILOT_WHY, st));
        }
        None => b.text(t::NO_PILOT, st.muted),
    }
    b
}

/// Remove the pilot group when asked.
pub fn apply(s: &State, c: &mut Config) {
    if s.customize.remove_pilot_group
        && let Some(d) = c.directories.first_mut()
    {
        d.pilot_group = None;
    }
}
