//! Welcome: what hybridsync does, and the license acknowledgement that must be ticked before
//! anything else happens.
//!
//! Invariants: Next is refused (with the reason shown under the box) until the box is ticked.

use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::welcome as t;
use crate::wizard::ui::{Body, Styles, checkbox};

/// Welcome page state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Welcome {
    /// The license box.
    pub agreed: bool,
    /// Next was pressed without agreeing.
    pub must_agree: bool,
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let w = &mut s.welcome;
    match input {
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            w.agreed = !w.agreed;
            w.must_agree = false;
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if w.agreed {
                Flow::Next(Vec::new())
            } else {
                w.must_agree = true;
                Flow::stay()
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Toggle]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.text);
    b.blank();
    b.text(t::LICENSE, st.muted);
    b.blank();
    b.push_focus(
        checkbox(s.welcome.agreed.into(), t::AGREE, true, true, st),
        true,
    );
    if s.welcome.must_agree {
        b.text(format!("  {}", t::MUST_AGREE), st.error);
    }
    b
}
