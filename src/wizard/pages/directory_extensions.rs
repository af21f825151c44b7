//! Directory extensions: the attribute picker Entra Connect shows after Optional features when
//! "Directory extension attribute sync" is ticked. The candidates (single-valued text, number or
//! boolean attributes of `user` and `group`, read from the live schema; an LDIF forest offers the
//! attributes its file uses) are listed with a filter box; Space adds or removes the highlighted
//! one; the chosen ones become `[features.directory_extensions] attributes`.
//!
//! Several forests: every connected forest's schema is read (one
//! [`Effect::ListExtensionAttributes`] each); the candidates are merged by attribute and each
//! row names the forests whose schema has it.
//!
//! Invariants: the page never moves on with nothing chosen; an attribute chosen earlier (a
//! rerun's configuration) stays chosen even when the schema read fails; at most 100 are chosen
//! (Entra ID's limit per object); the list is shown only when every forest's read is done.

use crate::config::Config;
use crate::effects::{Effect, ExtensionCandidate, Failure};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories;
use crate::wizard::text::extensions as t;
use crate::wizard::ui::{Body, Styles, checkbox, working};
use crate::wizard::widgets::TextField;

/// Entra ID's limit of extension attributes per object.
pub const MAX: usize = 100;
/// Candidate rows drawn at once.
const ROWS: usize = 8;

/// A candidate of one or more forests.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The attribute (as the first forest that has it spells it).
    pub attribute: ExtensionCandidate,
    /// The forests whose schema has it, in connection order.
    pub forests: Vec<String>,
}

impl Candidate {
    /// The configuration's spelling: `user.employeeID`.
    pub fn key(&self) -> String {
        self.attribute.key()
    }
}

/// The schema read (of every forest, merged).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Load {
    /// Not asked yet.
    #[default]
    NotLoaded,
    /// Asked (some forest has not answered yet).
    Loading,
    /// The candidates of every forest.
    Loaded(Vec<Candidate>),
    /// Why not (the first forest whose read failed).
    Failed(Failure),
}

/// One forest's schema read.
#[derive(Debug, Clone, PartialEq)]
pub enum ForestLoad {
    /// Asked.
    Loading,
    /// Its candidates.
    Loaded(Vec<ExtensionCandidate>),
    /// Why not.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryExtensions {
    /// The schema read, merged over the forests.
    pub load: Load,
    /// Each forest's read, in connection order.
    pub forests: Vec<(String, ForestLoad)>,
    /// The filter (a part of `user.name`, any case).
    pub filter: TextField,
    /// The chosen attributes, `user.employeeID`, in the order chosen.
    pub selected: Vec<String>,
    /// The highlighted row among the filtered candidates.
    pub cursor: usize,
    /// The validation message.
    pub error: Option<&'static str>,
}

/// Whether the page is part of the path (directory extensions ticked).
pub fn needed(s: &State) -> bool {
    s.features.extensions
}

/// Read the schemas not read yet (or whose read failed) of the connected forests.
fn read(s: &mut State) -> Vec<Effect> {
    let names: Vec<String> = connect_directories::forests(s)
        .iter()
        .map(|f| f.forest.clone())
        .collect();
    let e = &mut s.extensions;
    // Forget forests no longer connected and failed reads; keep the others.
    e.forests.retain(|(f, l)| {
        names.iter().any(|n| n.eq_ignore_ascii_case(f)) && !matches!(l, ForestLoad::Failed(_))
    });
    let mut out = Vec::new();
    for n in &names {
        if !e.forests.iter().any(|(f, _)| f.eq_ignore_ascii_case(n)) {
            e.forests.push((n.clone(), ForestLoad::Loading));
            out.push(Effect::ListExtensionAttributes { forest: n.clone() });
        }
    }
    // Connection order.
    e.forests.sort_by_key(|(f, _)| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(f))
            .unwrap_or(usize::MAX)
    });
    merge(e);
    out
}

/// Recompute the merged state from each forest's read.
fn merge(e: &mut DirectoryExtensions) {
    if e.forests.is_empty() {
        e.load = Load::NotLoaded;
        return;
    }
    if e.forests.iter().any(|(_, l)| *l == ForestLoad::Loading) {
        e.load = Load::Loading;
        return;
    }
    if let Some(f) = e.forests.iter().find_map(|(_, l)| match l {
        ForestLoad::Failed(f) => Some(f.clone()),
        _ => None,
    }) {
        e.load = Load::Failed(f);
        return;
    }
    let mut all: Vec<Candidate> = Vec::new();
    for (forest, l) in &e.forests {
        let ForestLoad::Loaded(list) = l else {
            continue;
        };
        for c in list {
            let key = c.key();
            match all.iter_mut().find(|x| x.key().eq_ignore_ascii_case(&key)) {
                Some(x) => x.forests.push(forest.clone()),
                None => all.push(Candidate {
                    attribute: c.clone(),
                    forests: vec![forest.clone()],
                }),
            }
        }
    }
    all.sort_by_key(|c| {
        (
            c.attribute.class,
            c.attribute.name.to_string().to_ascii_lowercase(),
        )
    });
    e.load = Load::Loaded(all);
}

/// Entered going forward: read the candidates once (each forest's).
pub fn enter(s: &mut State) -> Vec<Effect> {
    read(s)
}

/// The candidates of `forest` arrived.
pub fn on_candidates(s: &mut State, forest: &str, r: Result<Vec<ExtensionCandidate>, Failure>) {
    let e = &mut s.extensions;
    let Some((_, l)) = e
        .forests
        .iter_mut()
        .find(|(f, _)| f.eq_ignore_ascii_case(forest))
    else {
        return;
    };
    *l = match r {
        Ok(c) => ForestLoad::Loaded(c),
        Err(f) => ForestLoad::Failed(f),
    };
    merge(e);
    e.cursor = 0;
}

/// The candidates the filter lets through.
pub fn filtered(e: &DirectoryExtensions) -> Vec<&Candidate> {
    let Load::Loaded(all) = &e.load else {
        return Vec::new();
    };
    let q = e.filter.text().to_ascii_lowercase();
    all.iter()
        .filter(|c| c.key().to_ascii_lowercase().contains(&q))
        .collect()
}

/// Whether `key` is chosen (case-insensitive, as attribute names are).
pub fn is_selected(e: &DirectoryExtensions, key: &str) -> bool {
    e.selected.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Add `key` if it is not chosen, remove it if it is.
pub fn toggle(e: &mut DirectoryExtensions, key: &str) {
    if is_selected(e, key) {
        e.selected.retain(|k| !k.eq_ignore_ascii_case(key));
        e.error = None;
    } else if e.selected.len() >= MAX {
        e.error = Some(t::TOO_MANY);
    } else {
        e.selected.push(key.to_string());
        e.error = None;
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let n = filtered(&s.extensions).len();
    let e = &mut s.extensions;
    match input {
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if let Some(key) = filtered(e).get(e.cursor).map(|c| c.key()) {
                toggle(e, &key);
            }
            Flow::stay()
        }
        Input::Char(_) | Input::Backspace => {
            e.filter.input(input);
            e.cursor = 0;
            Flow::stay()
        }
        Input::Action(Action::Down | Action::FocusNext) => {
            e.cursor = (e.cursor + 1).min(n.saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            e.cursor = e.cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Retry) if matches!(e.load, Load::Failed(_)) => Flow::Stay(read(s)),
        Input::Action(Action::Next) => {
            if e.selected.is_empty() {
                e.error = Some(t::NOTHING);
                Flow::stay()
            } else {
                e.error = None;
                Flow::Next(Vec::new())
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    let mut a = vec![Action::Next, Action::Up, Action::Toggle];
    if matches!(s.extensions.load, Load::Failed(_)) {
        a.push(Action::Retry);
    }
    a
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let e = &s.extensions;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.field(t::FILTER, &e.filter, true, None, st);
    match &e.load {
        Load::NotLoaded | Load::Loading => b.push(working(s.tick, t::LOADING, st)),
        Load::Failed(f) => {
            b.text(format!("✗ {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.muted);
            b.text(t::RETRY, st.muted);
        }
        Load::Loaded(all) if all.is_empty() => b.text(t::NONE_IN_FOREST, st.warning),
        Load::Loaded(_) => {
            let rows = filtered(e);
            if rows.is_empty() {
                b.text(t::NO_MATCH, st.warning);
            }
            let start = e
                .cursor
                .saturating_sub(ROWS - 1)
                .min(rows.len().saturating_sub(ROWS));
            for (i, c) in rows.iter().enumerate().skip(start).take(ROWS) {
                let focused = i == e.cursor;
                let key = c.key();
                let label = if e.forests.len() > 1 {
                    format!("{key}  ({}; {})", c.attribute.kind, c.forests.join(", "))
                } else {
                    format!("{key}  ({})", c.attribute.kind)
                };
                b.push_focus(
                    checkbox(is_selected(e, &key).into(), &label, focused, true, st),
                    focused,
                );
            }
            if rows.len() > ROWS {
                let below = rows.len().saturating_sub(start + ROWS);
                b.text(t::more(start, below), st.muted);
            }
        }
    }
    b.blank();
    b.text(
        t::selected(e.selected.len(), &e.selected.join(", ")),
        if e.selected.is_empty() {
            st.muted
        } else {
            st.success
        },
    );
    if let Some(m) = e.error {
        b.text(m, st.error);
    }
    b
}

/// Put the chosen attributes into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    if c.features.directory_extensions.enabled {
        c.features.directory_extensions.attributes = s.extensions.selected.clone();
    }
}
