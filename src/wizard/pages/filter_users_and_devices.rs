//! Filter users and devices: "Synchronize all users and devices" (the default) or a pilot group,
//! found by searching the forest (an [`Effect::FindGroups`]) and picked from the results, with the
//! pilot's limits spelled out (direct members only; for pilots, not production).
//!
//! With several forests (Custom path), a Forest row above the search picks the forest the group
//! is searched in, as Entra Connect's FOREST field does; the group goes to that forest's
//! directory.
//!
//! Invariants: with "selected", Next is refused until a group is picked; the group is kept by DN
//! and objectGUID; changing the forest forgets the search and the choice (a group belongs to
//! one forest).

use ratatui::text::{Line, Span};

use crate::config::Config;
use crate::config::model::ObjectRef;
use crate::effects::{Effect, Failure, GroupEntry};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories;
use crate::wizard::text::filter as t;
use crate::wizard::ui::{Body, Styles, radio, working};
use crate::wizard::widgets::TextField;

/// The search.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Search {
    /// None yet.
    #[default]
    Idle,
    /// Running.
    Running,
    /// Results.
    Done(Vec<GroupEntry>),
    /// Failed.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterUsersAndDevices {
    /// Pilot group instead of everyone.
    pub selected: bool,
    /// The search text.
    pub query: TextField,
    /// The search.
    pub search: Search,
    /// Focus: 0 the option, then the Forest row (several forests only), the search field and
    /// the result rows (see [`search_row`]).
    pub focus: usize,
    /// The forest searched, as an index into the connected forests.
    pub forest: usize,
    /// The chosen group.
    pub chosen: Option<GroupEntry>,
    /// Next refused: no group.
    pub must_pick: bool,
}

fn results(f: &FilterUsersAndDevices) -> &[GroupEntry] {
    match &f.search {
        Search::Done(r) => r,
        _ => &[],
    }
}

/// Whether the Forest row is shown.
fn several(s: &State) -> bool {
    connect_directories::forests(s).len() > 1
}

/// The focus index of the search field (the result rows follow it).
fn search_row(s: &State) -> usize {
    if several(s) { 2 } else { 1 }
}

/// The forest searched and given the group.
fn chosen_forest(s: &State) -> Option<String> {
    let forests = connect_directories::forests(s);
    forests
        .get(s.filter.forest)
        .or(forests.first())
        .map(|f| f.forest.clone())
}

fn search(s: &mut State) -> Flow {
    let forest = chosen_forest(s).unwrap_or_default();
    let f = &mut s.filter;
    if f.query.is_empty() {
        return Flow::stay();
    }
    f.search = Search::Running;
    Flow::Stay(vec![Effect::FindGroups {
        forest,
        query: f.query.text().to_string(),
    }])
}

/// Search results arrived.
pub fn on_groups(s: &mut State, r: Result<Vec<GroupEntry>, Failure>) {
    s.filter.search = match r {
        Ok(g) => Search::Done(g),
        Err(f) => Search::Failed(f),
    };
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let row = search_row(s);
    let forests = connect_directories::forests(s).len();
    let f = &mut s.filter;
    let count = if f.selected {
        row + 1 + results(f).len()
    } else {
        1
    };
    if f.focus == row && f.query.input(input) {
        return Flow::stay();
    }
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            f.focus = (f.focus + 1).min(count - 1);
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            f.focus = f.focus.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Search) => search(s),
        Input::Action(Action::Next) if f.focus == row => search(s),
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if f.focus == 0 {
                f.selected = !f.selected;
            } else if f.focus == 1 && row == 2 {
                f.forest = (f.forest + 1) % forests.max(1);
                f.search = Search::Idle;
                f.chosen = None;
            } else if let Some(g) = f.focus.checked_sub(row + 1).and_then(|i| results(f).get(i)) {
                f.chosen = Some(g.clone());
                f.must_pick = false;
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if f.selected && f.chosen.is_none() {
                f.must_pick = true;
                Flow::stay()
            } else {
                Flow::Next(Vec::new())
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    let mut a = vec![Action::Next, Action::Up, Action::Toggle];
    if s.filter.selected {
        a.push(Action::Search);
    }
    a
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let f = &s.filter;
    let mut b = Body::default();
    b.push_focus(
        radio(!f.selected, t::ALL, f.focus == 0 && !f.selected, st),
        f.focus == 0,
    );
    b.push(radio(
        f.selected,
        t::SELECTED,
        f.focus == 0 && f.selected,
        st,
    ));
    b.text(format!("      {}", t::PILOT), st.warning);
    if !f.selected {
        return b;
    }
    b.blank();
    let row = search_row(s);
    if row == 2 {
        let name = chosen_forest(s).unwrap_or_default();
        b.push_focus(
            Line::from(vec![
                Span::styled(if f.focus == 1 { "› " } else { "  " }, st.focus_border),
                Span::styled(t::forest(&name), st.text),
            ]),
            f.focus == 1,
        );
    }
    b.field(t::SEARCH, &f.query, f.focus == row, None, st);
    match &f.search {
        Search::Idle => b.text(t::PICK, st.muted),
        Search::Running => b.push(working(s.tick, t::SEARCHING, st)),
        Search::Failed(e) => {
            b.text(format!("✗ {}", e.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, e.fix), st.muted);
        }
        Search::Done(groups) if groups.is_empty() => b.text(t::NONE_FOUND, st.warning),
        Search::Done(groups) => {
            for (i, g) in groups.iter().enumerate() {
                let focused = f.focus == i + row + 1;
                let chosen = f.chosen.as_ref().is_some_and(|c| c.dn == g.dn);
                b.push_focus(
                    Line::from(vec![
                        Span::styled(if focused { "› " } else { "  " }, st.focus_border),
                        Span::styled(if chosen { "(•) " } else { "( ) " }, st.checkbox),
                        Span::styled(
                            g.dn.to_string(),
                            if focused { st.selection } else { st.text },
                        ),
                        Span::styled(format!("  {}", t::members(g.members)), st.muted),
                    ]),
                    focused,
                );
            }
        }
    }
    if let Some(c) = &f.chosen {
        b.text(t::chosen(&c.dn.to_string()), st.success);
    }
    if f.must_pick {
        b.text(t::PICK, st.error);
    }
    b
}

/// Put the pilot group into the configuration: the directory of the forest it was found in.
pub fn apply(s: &State, c: &mut Config) {
    let f = &s.filter;
    let (true, Some(g)) = (f.selected, &f.chosen) else {
        return;
    };
    let forest = chosen_forest(s);
    let at = c
        .directories
        .iter()
        .position(|d| {
            forest
                .as_ref()
                .is_some_and(|n| d.forest.eq_ignore_ascii_case(n))
        })
        .unwrap_or(0);
    if let Some(d) = c.directories.get_mut(at) {
        d.pilot_group = Some(ObjectRef {
            dn: g.dn.clone(),
            guid: g.guid,
        });
    }
}
