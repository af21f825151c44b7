//! Uniquely identifying your users: how users present in several forests are matched, and the
//! source anchor, with each choice's consequences spelled out (moving users between forests,
//! write access the connector account needs, DirSync migrations, permanence).
//!
//! Invariants: a custom anchor must be a valid attribute name and never `userPrincipalName`,
//! `mail` or `targetAddress` (they change); the message is shown next to the field and Next is
//! refused until it is fixed.

use crate::config::Config;
use crate::config::model::UserMatching;
use crate::domain::AttributeName;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::{self, identity as t};
use crate::wizard::ui::{Body, Styles, note, radio};
use crate::wizard::widgets::{TextField, cycle};

/// The source anchor choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// `mS-DS-ConsistencyGuid` (default).
    #[default]
    ConsistencyGuid,
    /// `objectGUID`.
    ObjectGuid,
    /// Another attribute.
    Custom,
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentifyingUsers {
    /// Matching across forests.
    pub matching: UserMatching,
    /// Anchor.
    pub anchor: Anchor,
    /// The custom attribute.
    pub custom: TextField,
    /// Focus: 0 matching, 1 anchor, 2 custom field.
    pub focus: usize,
    /// Validation message for the custom field.
    pub error: Option<&'static str>,
}

const FORBIDDEN: [&str; 3] = ["userPrincipalName", "mail", "targetAddress"];

fn focus_count(i: &IdentifyingUsers) -> usize {
    if i.anchor == Anchor::Custom { 3 } else { 2 }
}

/// Check the custom attribute.
pub fn validate(i: &IdentifyingUsers) -> Option<&'static str> {
    if i.anchor != Anchor::Custom {
        return None;
    }
    let name = i.custom.text();
    if name.is_empty() {
        Some(text::REQUIRED)
    } else if FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(name)) {
        Some(t::FORBIDDEN)
    } else if AttributeName::new(name).is_err() || name.contains(';') {
        Some(t::BAD_ATTRIBUTE)
    } else {
        None
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let i = &mut s.identity;
    if i.focus == 2 && i.custom.input(input) {
        i.error = None;
        return Flow::stay();
    }
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            i.focus = cycle(i.focus, focus_count(i), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            i.focus = cycle(i.focus, focus_count(i), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if i.focus == 0 {
                i.matching = match i.matching {
                    UserMatching::Once => UserMatching::Mail,
                    _ => UserMatching::Once,
                };
            } else {
                i.anchor = match i.anchor {
                    Anchor::ConsistencyGuid => Anchor::ObjectGuid,
                    Anchor::ObjectGuid => Anchor::Custom,
                    Anchor::Custom => Anchor::ConsistencyGuid,
                };
                i.error = None;
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            i.error = validate(i);
            if i.error.is_some() {
                i.focus = 2;
                Flow::stay()
            } else {
                Flow::Next(Vec::new())
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::FocusNext, Action::Toggle]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let i = &s.identity;
    let mut b = Body::default();
    b.text(t::MATCHING, st.text);
    for (m, label) in [(UserMatching::Once, t::ONCE), (UserMatching::Mail, t::MAIL)] {
        let sel = i.matching == m;
        let f = i.focus == 0 && sel;
        b.push_focus(radio(sel, label, f, st), f);
    }
    b.blank();
    b.text(t::ANCHOR, st.text);
    for (a, label, why) in [
        (Anchor::ConsistencyGuid, t::CONSISTENCY, t::CONSISTENCY_WHY),
        (Anchor::ObjectGuid, t::OBJECTGUID, t::OBJECTGUID_WHY),
        (Anchor::Custom, t::CUSTOM, t::CUSTOM_WHY),
    ] {
        let sel = i.anchor == a;
        let f = i.focus == 1 && sel;
        b.push_focus(radio(sel, label, f, st), f);
        if sel {
            b.push(note(why, st));
        }
    }
    if i.anchor == Anchor::Custom {
        b.field(t::ATTRIBUTE, &i.custom, i.focus == 2, i.error, st);
    }
    b.text(t::PERMANENT, st.warning);
    b
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let i = &s.identity;
    c.identity.user_matching = i.matching;
    let name = match i.anchor {
        Anchor::ConsistencyGuid => "mS-DS-ConsistencyGuid",
        Anchor::ObjectGuid => "objectGUID",
        Anchor::Custom => i.custom.text(),
    };
    if let Ok(a) = AttributeName::new(name) {
        c.identity.source_anchor = a;
    }
}
