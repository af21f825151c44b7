//! Group writeback: the OU that receives the written-back groups, chosen in the same lazy OU
//! tree as Domain and OU filtering ([`ou_filtering::tree_row`]; the tree's nodes are shared, so a
//! container read on one page is not read again on the other), with a single selection. Shown
//! after Optional features when group writeback is ticked (it needs Exchange in the schema).
//!
//! Invariants: the page never moves on without an OU; the chosen OU keeps its objectGUID, so a
//! rename does not lose it; only `features.group_writeback.target_ou` comes from this page.

use crate::config::Config;
use crate::config::model::ObjectRef;
use crate::domain::Dn;
use crate::effects::Effect;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::{optional_features, ou_filtering};
use crate::wizard::text::group_writeback as t;
use crate::wizard::ui::{Body, Styles};

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupWriteback {
    /// The highlighted tree row.
    pub cursor: usize,
    /// The chosen OU.
    pub chosen: Option<ObjectRef>,
    /// Next refused: no OU chosen.
    pub nothing: bool,
}

/// Whether the page is part of the path.
pub fn needed(s: &State) -> bool {
    optional_features::group_writeback_on(s)
}

/// Entered going forward: the tree (its roots read once, as on Domain and OU filtering).
pub fn enter(s: &mut State) -> Vec<Effect> {
    ou_filtering::enter(s)
}

/// Choose `dn` (as Space on its row does); false when the tree does not hold it.
pub fn choose(s: &mut State, dn: &Dn) -> bool {
    let Some(n) = s.ous.nodes.get(dn) else {
        return false;
    };
    s.group_wb.chosen = Some(ObjectRef {
        dn: dn.clone(),
        guid: n.guid,
    });
    s.group_wb.nothing = false;
    true
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let rows = ou_filtering::rows(&s.ous);
    let row = rows.get(s.group_wb.cursor).map(|(dn, _)| dn.clone());
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.group_wb.cursor = (s.group_wb.cursor + 1).min(rows.len().saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.group_wb.cursor = s.group_wb.cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if let Some(dn) = row {
                choose(s, &dn);
            }
            Flow::stay()
        }
        Input::Action(Action::Expand) => match row {
            Some(dn) => Flow::Stay(ou_filtering::open(s, &dn)),
            None => Flow::stay(),
        },
        Input::Action(Action::Collapse) => {
            if let Some(dn) = row {
                ou_filtering::close(&mut s.ous, &dn);
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if s.group_wb.chosen.is_none() {
                s.group_wb.nothing = true;
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
    vec![Action::Next, Action::Up, Action::Toggle, Action::Expand]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let g = &s.group_wb;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    if s.ous.roots.is_empty() {
        b.text(crate::wizard::text::ous::NO_FOREST, st.error);
        return b;
    }
    b.blank();
    for (i, (dn, depth)) in ou_filtering::rows(&s.ous).iter().enumerate() {
        let focused = g.cursor == i;
        let on = g.chosen.as_ref().is_some_and(|c| c.dn == *dn);
        let mark = if on { "(•)" } else { "( )" };
        if let Some(line) = ou_filtering::tree_row(&s.ous, dn, *depth, focused, mark, true, st) {
            b.push_focus(line, focused);
        }
    }
    b.blank();
    match &g.chosen {
        Some(c) => b.text(t::chosen(&c.dn.to_string()), st.success),
        None => b.text(t::PICK, st.muted),
    }
    b.text(t::SCOPE, st.muted);
    if g.nothing {
        b.text(t::NOTHING, st.error);
    }
    b
}

/// Put the OU into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    if c.features.group_writeback.enabled {
        c.features.group_writeback.target_ou = s.group_wb.chosen.clone();
    }
}
