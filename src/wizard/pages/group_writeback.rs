//! Group writeback: the OU that receives the written-back groups, chosen in the same lazy OU
//! tree as Domain and OU filtering ([`ou_filtering::tree_row`]; the tree's nodes are shared, so a
//! container read on one page is not read again on the other), with a single selection. Shown
//! after Optional features when group writeback is ticked (it needs Exchange in the schema).
//!
//! Several forests: a "Writeback forest" row above the tree picks the forest that receives the
//! groups (as Entra Connect's writeback forest), among the connected forests whose schema has
//! the Exchange attributes; the tree shown is that forest's ([`ou_filtering::switch_forest`]).
//!
//! Invariants: the page never moves on without an OU; the chosen OU keeps its objectGUID, so a
//! rename does not lose it; the OU always belongs to the writeback forest (changing the forest
//! forgets it); only `features.group_writeback.{forest,target_ou}` come from this page.

use crate::config::Config;
use crate::config::model::ObjectRef;
use crate::domain::Dn;
use crate::effects::{Effect, ForestInfo};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::{connect_directories, optional_features, ou_filtering};
use crate::wizard::text::group_writeback as t;
use crate::wizard::ui::{Body, Styles};

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupWriteback {
    /// The highlighted row: the Forest row first (several forests), then the tree rows.
    pub cursor: usize,
    /// The writeback forest as chosen (a rerun's or an import's configured one, or picked on
    /// the Forest row); `None`: the first connected forest with the Exchange schema.
    pub forest: Option<String>,
    /// The chosen OU.
    pub chosen: Option<ObjectRef>,
    /// Next refused: no OU chosen.
    pub nothing: bool,
}

/// Whether the page is part of the path.
pub fn needed(s: &State) -> bool {
    optional_features::group_writeback_on(s)
}

/// The forests that can receive groups: the connected ones whose schema has Exchange.
pub fn candidates(s: &State) -> Vec<&ForestInfo> {
    connect_directories::forests(s)
        .into_iter()
        .filter(|f| f.exchange_schema)
        .collect()
}

/// The writeback forest: the one chosen when it is connected (with or without Exchange, so the
/// Exchange check can refuse it), else the first candidate.
pub fn forest(s: &State) -> Option<&ForestInfo> {
    let forests = connect_directories::forests(s);
    if let Some(name) = &s.group_wb.forest
        && let Some(f) = forests.iter().find(|f| f.forest.eq_ignore_ascii_case(name))
    {
        return Some(f);
    }
    forests.into_iter().find(|f| f.exchange_schema)
}

/// Whether the Forest row is shown.
fn several(s: &State) -> bool {
    connect_directories::forests(s).len() > 1
}

/// The rows above the tree.
fn base(s: &State) -> usize {
    usize::from(several(s))
}

/// Why a forest cannot be the writeback forest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForestRefusal {
    /// Not a connected forest.
    NotConnected,
    /// Its schema has no Exchange attributes.
    NoExchange,
}

/// Make `name` the writeback forest: the tree shown becomes its tree and the OU chosen in
/// another forest is forgotten. Returns the reads the tree needs.
pub fn choose_forest(s: &mut State, name: &str) -> Result<Vec<Effect>, ForestRefusal> {
    let f = connect_directories::forests(s)
        .into_iter()
        .find(|f| f.forest.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or(ForestRefusal::NotConnected)?;
    if !f.exchange_schema {
        return Err(ForestRefusal::NoExchange);
    }
    let before = forest(s).map(|x| x.forest.to_ascii_lowercase());
    s.group_wb.forest = Some(f.forest.clone());
    if before.as_deref() != Some(f.forest.to_ascii_lowercase().as_str()) {
        s.group_wb.chosen = None;
    }
    Ok(enter(s))
}

fn step_forest(s: &mut State) -> Vec<Effect> {
    let names: Vec<String> = candidates(s).iter().map(|f| f.forest.clone()).collect();
    let cur = forest(s).map(|f| f.forest.clone()).unwrap_or_default();
    let i = names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(&cur))
        .unwrap_or(0);
    let j = crate::wizard::widgets::cycle(i, names.len(), true);
    match names.get(j) {
        Some(n) if !n.eq_ignore_ascii_case(&cur) => {
            let n = n.clone();
            choose_forest(s, &n).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// Entered going forward: the writeback forest's tree (its roots read once, as on Domain and
/// OU filtering).
pub fn enter(s: &mut State) -> Vec<Effect> {
    match forest(s).map(|f| f.forest.clone()) {
        Some(f) if several(s) => ou_filtering::switch_forest(s, &f),
        _ => ou_filtering::enter(s),
    }
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
    let base = base(s);
    let rows = ou_filtering::rows(&s.ous);
    let cursor = s.group_wb.cursor;
    let on_forest = base == 1 && cursor == 0;
    let row = cursor
        .checked_sub(base)
        .and_then(|i| rows.get(i))
        .map(|(dn, _)| dn.clone());
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.group_wb.cursor = (cursor + 1).min((rows.len() + base).saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.group_wb.cursor = cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') if on_forest => Flow::Stay(step_forest(s)),
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
    let base = base(s);
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    if base == 1 {
        let name = forest(s).map(|f| f.forest.clone()).unwrap_or_default();
        let focused = g.cursor == 0;
        b.push_focus(
            ratatui::text::Line::from(vec![
                ratatui::text::Span::styled(if focused { "› " } else { "  " }, st.focus_border),
                ratatui::text::Span::styled(t::forest(&name), st.text),
            ]),
            focused,
        );
        let without: Vec<String> = connect_directories::forests(s)
            .iter()
            .filter(|f| !f.exchange_schema)
            .map(|f| f.forest.clone())
            .collect();
        if !without.is_empty() {
            b.text(
                format!("  {}", t::no_exchange(&without.join(", "))),
                st.muted,
            );
        }
    }
    if s.ous.roots.is_empty() {
        b.text(crate::wizard::text::ous::NO_FOREST, st.error);
        return b;
    }
    b.blank();
    for (i, (dn, depth)) in ou_filtering::rows(&s.ous).iter().enumerate() {
        let focused = g.cursor == i + base;
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

/// Put the forest and the OU into the configuration. The forest is written with several
/// forests (with one, the default "the first directory" is that forest).
pub fn apply(s: &State, c: &mut Config) {
    let gw = &mut c.features.group_writeback;
    if gw.enabled {
        gw.target_ou = s.group_wb.chosen.clone();
        if several(s) {
            gw.forest = forest(s).map(|f| f.forest.clone());
        }
    }
}
