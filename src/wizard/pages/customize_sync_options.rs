//! Customize synchronization options: the first page of the rerun task that reopens the
//! first-run pages (Domain and OU filtering, Optional features) pre-filled from the loaded
//! configuration. It says what can change, shows the one-shot choices read-only with why they
//! are fixed, and offers the one thing a rerun may do to the pilot group: remove it. "Add a
//! directory" puts Connect your directories into the task, where another forest is connected
//! (its account created or stored on Configure); every configured forest keeps its own OU
//! filtering.
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
    /// Add a directory (Connect your directories joins the task).
    pub add_directory: bool,
    /// Focused checkbox (the pilot group's comes first when there is one).
    pub focus: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    RemovePilot,
    AddDirectory,
}

fn items(s: &State) -> Vec<Item> {
    let mut v = Vec::new();
    if pilot(s).is_some() {
        v.push(Item::RemovePilot);
    }
    v.push(Item::AddDirectory);
    v
}

fn pilot(s: &State) -> Option<String> {
    s.loaded()
        .and_then(|c| c.directories.iter().find_map(|d| d.pilot_group.as_ref()))
        .map(|g| g.dn.to_string())
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let items = items(s);
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            s.customize.focus = crate::wizard::widgets::cycle(s.customize.focus, items.len(), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            s.customize.focus =
                crate::wizard::widgets::cycle(s.customize.focus, items.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            match items.get(s.customize.focus) {
                Some(Item::RemovePilot) => {
                    s.customize.remove_pilot_group = !s.customize.remove_pilot_group;
                }
                Some(Item::AddDirectory) => set_add_directory(s, !s.customize.add_directory),
                None => {}
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
        _ => Flow::Unhandled,
    }
}

/// Tick or clear "Add a directory": ticking empties Connect your directories' form for the new
/// forest; clearing forgets the forests added on this run.
pub fn set_add_directory(s: &mut State, on: bool) {
    s.customize.add_directory = on;
    crate::wizard::pages::connect_directories::start_adding(s, on);
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Up, Action::Toggle]
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
    let focused = items(s).get(s.customize.focus).copied();
    match pilot(s) {
        Some(group) => {
            let is = focused == Some(Item::RemovePilot);
            b.text(t::pilot(&group), st.text);
            b.push_focus(
                checkbox(
                    s.customize.remove_pilot_group.into(),
                    t::REMOVE_PILOT,
                    is,
                    true,
                    st,
                ),
                is,
            );
            b.push(note(t::PILOT_WHY, st));
        }
        None => b.text(t::NO_PILOT, st.muted),
    }
    // --- several forests ---
    let is = focused == Some(Item::AddDirectory);
    if let Some(c) = s.loaded() {
        let names: Vec<&str> = c.directories.iter().map(|d| d.forest.as_str()).collect();
        b.text(t::forests(&names.join(", ")), st.text);
    }
    b.push_focus(
        checkbox(
            s.customize.add_directory.into(),
            t::ADD_DIRECTORY,
            is,
            true,
            st,
        ),
        is,
    );
    b.push(note(t::ADD_DIRECTORY_HELP, st));
    // --- end several forests ---
    b
}

/// Remove the pilot group when asked.
pub fn apply(s: &State, c: &mut Config) {
    if s.customize.remove_pilot_group {
        for d in &mut c.directories {
            d.pilot_group = None;
        }
    }
}
