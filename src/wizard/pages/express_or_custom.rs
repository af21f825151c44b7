//! Express Settings: "Use express settings" (the default) or "Customize", with what express does
//! spelled out.
//!
//! Invariants: the choice only sets [`State::path`](crate::wizard::app::State); answers given on
//! either path are kept when the admin comes back and changes it.

use crate::wizard::app::{Flow, InstallPath, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::express as t;
use crate::wizard::ui::{Body, Styles, note, radio};

/// Express Settings state (the choice itself is [`State::path`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpressOrCustom {}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(
            Action::Up | Action::Down | Action::FocusNext | Action::FocusPrev | Action::Toggle,
        )
        | Input::Char(' ') => {
            s.path = match (s.path, input) {
                (_, Input::Action(Action::Up)) => InstallPath::Express,
                (_, Input::Action(Action::Down)) => InstallPath::Custom,
                (InstallPath::Express, _) => InstallPath::Custom,
                (InstallPath::Custom, _) => InstallPath::Express,
            };
            Flow::stay()
        }
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Up]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.text);
    for d in t::DOES {
        b.text(format!("  • {d}"), st.muted);
    }
    b.blank();
    let express = s.path == InstallPath::Express;
    b.push_focus(radio(express, t::USE_EXPRESS, express, st), express);
    b.push_focus(radio(!express, t::CUSTOMIZE, !express, st), !express);
    b.push(note(t::CUSTOMIZE_HELP, st));
    b
}
