//! Domain and OU filtering: "Sync all domains and OUs" (the default) or "Sync selected domains and
//! OUs" with a live tree of the forest. Each node has a tri-state checkbox (`[x]` all, `[ ]` none,
//! `[-]` some below differ); children are read lazily (an [`Effect::ListOus`] when a node is first
//! opened), so a large forest is never read whole.
//!
//! Invariants: a tick applies to the node's whole subtree, including OUs created later; the
//! selection is stored as the fewest overrides (a node is recorded only where it differs from its
//! parent), which maps directly onto the configuration's `include`/`exclude` lists; OUs are kept
//! with their objectGUID so a rename does not drop them from scope.
//!
//! Several forests: a "Forest" row above the options picks which forest's tree is shown; each
//! forest keeps its own tree and selection ([`OuFiltering::others`] holds the trees not shown),
//! and each `[[directories]]` entry gets its own scope.

use std::collections::BTreeMap;

use ratatui::text::{Line, Span};

use crate::config::Config;
use crate::config::model::{ObjectRef, Scope, ScopeMode};
use crate::domain::{Dn, ObjectGuid};
use crate::effects::{Effect, Failure, OuEntry};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories;
use crate::wizard::text::ous as t;
use crate::wizard::ui::{Body, Check, Styles, radio};

/// A node's children.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Children {
    /// Not read yet.
    #[default]
    NotLoaded,
    /// Being read.
    Loading,
    /// Read.
    Loaded(Vec<Dn>),
    /// Could not be read.
    Failed(Failure),
}

/// A container in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its name on screen.
    pub label: String,
    /// objectGUID.
    pub guid: Option<ObjectGuid>,
    /// Whether it may have children.
    pub has_children: bool,
    /// Open.
    pub expanded: bool,
    /// Its children.
    pub children: Children,
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OuFiltering {
    /// All or selected.
    pub mode: ScopeMode,
    /// Domain roots.
    pub roots: Vec<Dn>,
    /// Every node seen.
    pub nodes: BTreeMap<Dn, Node>,
    /// Nodes whose tick differs from their parent's.
    pub overrides: BTreeMap<Dn, bool>,
    /// Cursor: 0 and 1 are the two options, then the visible tree rows.
    pub cursor: usize,
    /// Next refused: nothing selected.
    pub nothing: bool,
    /// The forest this tree is of (lower case; empty until the page is first built).
    pub forest: String,
    /// The trees of the other forests, by forest (lower case).
    pub others: BTreeMap<String, OuFiltering>,
}

fn forest_name(s: &State) -> String {
    if !s.ous.forest.is_empty() {
        return s.ous.forest.clone();
    }
    connect_directories::forest(s)
        .map(|f| f.forest.to_ascii_lowercase())
        .unwrap_or_default()
}

// --- several forests ---
/// Whether several forests are connected (the page then shows the Forest row).
pub fn multi(s: &State) -> bool {
    connect_directories::forests(s).len() > 1
}

/// The rows above the tree: the Forest row (several forests), then the two options.
fn base(s: &State) -> usize {
    if multi(s) { 3 } else { 2 }
}

/// The tree of `forest` (shown or not).
pub fn tree_for<'a>(o: &'a OuFiltering, forest: &str) -> Option<&'a OuFiltering> {
    let key = forest.to_ascii_lowercase();
    if o.forest == key {
        Some(o)
    } else {
        o.others.get(&key)
    }
}

/// Show the tree of `forest` (building it from the bind, or from an imported scope, the first
/// time) and read what it needs.
pub fn switch_forest(s: &mut State, forest: &str) -> Vec<Effect> {
    let key = forest.to_ascii_lowercase();
    if s.ous.forest != key {
        let mut others = std::mem::take(&mut s.ous.others);
        let cur = std::mem::take(&mut s.ous);
        if !cur.forest.is_empty() {
            others.insert(cur.forest.clone(), cur);
        }
        let mut next = others.remove(&key).unwrap_or_else(|| OuFiltering {
            forest: key.clone(),
            ..OuFiltering::default()
        });
        next.others = others;
        s.ous = next;
    }
    enter(s)
}

fn step_forest(s: &mut State, forward: bool) -> Vec<Effect> {
    let names: Vec<String> = connect_directories::forests(s)
        .iter()
        .map(|f| f.forest.to_ascii_lowercase())
        .collect();
    let i = names.iter().position(|n| *n == s.ous.forest).unwrap_or(0);
    let j = crate::wizard::widgets::cycle(i, names.len(), forward);
    match names.get(j) {
        Some(n) => {
            let n = n.clone();
            let effects = switch_forest(s, &n);
            s.ous.cursor = 0;
            effects
        }
        None => Vec::new(),
    }
}
// --- end several forests ---

fn load(s: &mut State, dn: &Dn) -> Vec<Effect> {
    let forest = forest_name(s);
    match s.ous.nodes.get_mut(dn) {
        Some(n) if matches!(n.children, Children::NotLoaded | Children::Failed(_)) => {
            n.children = Children::Loading;
            n.expanded = true;
            vec![Effect::ListOus {
                forest,
                parent: dn.clone(),
            }]
        }
        Some(n) => {
            n.expanded = true;
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Open `dn` (as → on its row does), reading its children if they were never read.
pub fn open(s: &mut State, dn: &Dn) -> Vec<Effect> {
    load(s, dn)
}

/// Build the roots from the forest's domains and read their first level.
pub fn enter(s: &mut State) -> Vec<Effect> {
    let forests: Vec<crate::effects::ForestInfo> = connect_directories::forests(s)
        .into_iter()
        .cloned()
        .collect();
    s.ous
        .others
        .retain(|k, _| forests.iter().any(|f| f.forest.eq_ignore_ascii_case(k)));
    let Some(forest) = forests
        .iter()
        .find(|f| f.forest.eq_ignore_ascii_case(&s.ous.forest))
        .or(forests.first())
        .cloned()
    else {
        return Vec::new();
    };
    let key = forest.forest.to_ascii_lowercase();
    if s.ous.forest.is_empty() {
        s.ous.forest = key.clone();
    } else if s.ous.forest != key {
        return switch_forest(s, &key);
    }
    let roots: Vec<Dn> = forest
        .domains
        .iter()
        .map(|d| d.naming_context.clone())
        .collect();
    if s.ous.roots == roots {
        // Already built (going back and forth, or pre-filled on a rerun): read only the roots
        // never read.
        let unread: Vec<Dn> = roots
            .iter()
            .filter(|r| {
                s.ous
                    .nodes
                    .get(*r)
                    .is_some_and(|n| n.children == Children::NotLoaded)
            })
            .cloned()
            .collect();
        return unread.iter().flat_map(|r| load(s, r)).collect();
    }
    let others = std::mem::take(&mut s.ous.others);
    s.ous = OuFiltering {
        mode: s.ous.mode,
        forest: key.clone(),
        others,
        ..OuFiltering::default()
    };
    // An imported forest starts with the imported selection.
    if let Some(d) = crate::wizard::pages::install_components::imported(s)
        .and_then(|c| {
            c.directories
                .iter()
                .find(|d| d.forest.eq_ignore_ascii_case(&key))
        })
        .cloned()
    {
        let others = std::mem::take(&mut s.ous.others);
        let domains: Vec<crate::effects::ForestDomain> = forest.domains.clone();
        s.ous = crate::wizard::pages::additional_tasks::scope_tree(&d, &domains);
        s.ous.forest = key.clone();
        s.ous.others = others;
        return roots.iter().flat_map(|r| load(s, r)).collect();
    }
    for d in &forest.domains {
        s.ous.nodes.insert(
            d.naming_context.clone(),
            Node {
                label: d.name.clone(),
                guid: None,
                has_children: true,
                expanded: false,
                children: Children::NotLoaded,
            },
        );
    }
    s.ous.roots = roots.clone();
    roots.iter().flat_map(|r| load(s, r)).collect()
}

/// Children arrived.
pub fn on_children(s: &mut State, parent: &Dn, r: Result<Vec<OuEntry>, Failure>) {
    // The tree the container is in (the admin may have switched forests meanwhile).
    let o = if s.ous.nodes.contains_key(parent) {
        &mut s.ous
    } else {
        match s
            .ous
            .others
            .values_mut()
            .find(|t| t.nodes.contains_key(parent))
        {
            Some(t) => t,
            None => return,
        }
    };
    let children = match r {
        Ok(entries) => {
            let mut dns = Vec::new();
            for e in entries {
                let label =
                    e.dn.rdn()
                        .map(|r| r.value().to_string())
                        .unwrap_or_else(|| e.dn.to_string());
                dns.push(e.dn.clone());
                o.nodes.entry(e.dn).or_insert(Node {
                    label,
                    guid: e.guid,
                    has_children: e.has_children,
                    expanded: false,
                    children: Children::NotLoaded,
                });
            }
            Children::Loaded(dns)
        }
        Err(f) => Children::Failed(f),
    };
    if let Some(n) = o.nodes.get_mut(parent) {
        n.children = children;
    }
}

/// The visible tree rows: DN and depth.
pub fn rows(o: &OuFiltering) -> Vec<(Dn, usize)> {
    fn walk(o: &OuFiltering, dn: &Dn, depth: usize, out: &mut Vec<(Dn, usize)>) {
        out.push((dn.clone(), depth));
        if let Some(n) = o.nodes.get(dn)
            && n.expanded
            && let Children::Loaded(kids) = &n.children
        {
            for k in kids {
                walk(o, k, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for r in &o.roots {
        walk(o, r, 0, &mut out);
    }
    out
}

fn is_root(o: &OuFiltering, dn: &Dn) -> bool {
    o.roots.contains(dn)
}

/// Whether `dn` is ticked, following overrides up to its domain root.
pub fn effective(o: &OuFiltering, dn: &Dn) -> bool {
    let mut cur = Some(dn.clone());
    while let Some(d) = cur {
        if let Some(v) = o.overrides.get(&d) {
            return *v;
        }
        if is_root(o, &d) {
            return true;
        }
        cur = d.parent();
    }
    true
}

/// The tri-state of `dn`.
pub fn check(o: &OuFiltering, dn: &Dn) -> Check {
    let eff = effective(o, dn);
    let differs = o
        .overrides
        .iter()
        .any(|(d, v)| d.is_descendant_of(dn) && *v != eff);
    match (eff, differs) {
        (_, true) => Check::Partial,
        (true, false) => Check::On,
        (false, false) => Check::Off,
    }
}

/// Tick or clear `dn` with its whole subtree.
pub fn toggle(o: &mut OuFiltering, dn: &Dn) {
    let new = check(o, dn) != Check::On;
    o.overrides
        .retain(|d, _| !(d == dn || d.is_descendant_of(dn)));
    let parent = if is_root(o, dn) {
        true
    } else {
        dn.parent().is_none_or(|p| effective(o, &p))
    };
    if new != parent {
        o.overrides.insert(dn.clone(), new);
    }
    o.nothing = false;
}

fn anything_selected(o: &OuFiltering) -> bool {
    o.roots.iter().any(|r| check(o, r) != Check::Off)
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let rows = rows(&s.ous);
    let base = base(s);
    // The option rows: with several forests row 0 is the Forest row.
    let (all_row, selected_row) = (base - 2, base - 1);
    let total = base + rows.len();
    let cur_row = s
        .ous
        .cursor
        .checked_sub(base)
        .and_then(|i| rows.get(i))
        .cloned();
    let on_forest_row = base == 3 && s.ous.cursor == 0;
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.ous.cursor = (s.ous.cursor + 1).min(total.saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.ous.cursor = s.ous.cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Toggle | Action::Expand) | Input::Char(' ') if on_forest_row => {
            Flow::Stay(step_forest(s, true))
        }
        Input::Action(Action::Collapse) if on_forest_row => Flow::Stay(step_forest(s, false)),
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            match (s.ous.cursor, cur_row) {
                (c, _) if c == all_row => s.ous.mode = ScopeMode::All,
                (c, _) if c == selected_row => s.ous.mode = ScopeMode::Selected,
                (_, Some((dn, _))) => {
                    s.ous.mode = ScopeMode::Selected;
                    toggle(&mut s.ous, &dn);
                }
                _ => {}
            }
            s.ous.nothing = false;
            Flow::stay()
        }
        Input::Action(Action::Expand) => match cur_row {
            Some((dn, _)) => Flow::Stay(load(s, &dn)),
            None => Flow::stay(),
        },
        Input::Action(Action::Collapse) => {
            if let Some((dn, _)) = cur_row
                && let Some(n) = s.ous.nodes.get_mut(&dn)
            {
                n.expanded = false;
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            let empty = |o: &OuFiltering| o.mode == ScopeMode::Selected && !anything_selected(o);
            if empty(&s.ous) {
                s.ous.nothing = true;
                return Flow::stay();
            }
            // Another forest's selection is empty: show it.
            if let Some(k) = s
                .ous
                .others
                .iter()
                .find(|(_, o)| empty(o))
                .map(|(k, _)| k.clone())
            {
                let effects = switch_forest(s, &k);
                s.ous.nothing = true;
                return Flow::Stay(effects);
            }
            Flow::Next(Vec::new())
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
    let o = &s.ous;
    let mut b = Body::default();
    if o.roots.is_empty() {
        b.text(t::NO_FOREST, st.error);
        return b;
    }
    let base = base(s);
    if base == 3 {
        let names: Vec<String> = connect_directories::forests(s)
            .iter()
            .map(|f| f.forest.clone())
            .collect();
        let i = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(&o.forest))
            .unwrap_or(0);
        let focused = o.cursor == 0;
        let name = names.get(i).cloned().unwrap_or_default();
        b.push_focus(
            Line::from(vec![
                Span::styled(if focused { "› " } else { "  " }, st.focus_border),
                Span::styled(format!("{} ", t::FOREST), st.text),
                Span::styled(
                    format!("‹ {name} ›"),
                    if focused { st.selection } else { st.title },
                ),
                Span::styled(format!("  {}", t::forest_of(i + 1, names.len())), st.muted),
            ]),
            focused,
        );
    }
    b.push_focus(
        radio(o.mode == ScopeMode::All, t::ALL, o.cursor == base - 2, st),
        o.cursor == base - 2,
    );
    b.push_focus(
        radio(
            o.mode == ScopeMode::Selected,
            t::SELECTED,
            o.cursor == base - 1,
            st,
        ),
        o.cursor == base - 1,
    );
    let enabled = o.mode == ScopeMode::Selected;
    for (i, (dn, depth)) in rows(o).iter().enumerate() {
        let focused = o.cursor == i + base;
        let mark = match check(o, dn) {
            Check::On => "[x]",
            Check::Off => "[ ]",
            Check::Partial => "[-]",
        };
        if let Some(line) = tree_row(o, dn, *depth, focused, mark, enabled, st) {
            b.push_focus(line, focused);
        }
    }
    b.blank();
    b.text(t::NEW_OUS, st.muted);
    if o.nothing {
        b.text(t::NOTHING, st.error);
    }
    b
}

/// One row of the lazy OU tree (shared with the group writeback OU picker): cursor, indent,
/// open/closed arrow, `mark` (a checkbox or radio), the name, and a loading or failure note.
pub fn tree_row(
    o: &OuFiltering,
    dn: &Dn,
    depth: usize,
    focused: bool,
    mark: &'static str,
    enabled: bool,
    st: &Styles,
) -> Option<Line<'static>> {
    let n = o.nodes.get(dn)?;
    let arrow = match (&n.children, n.expanded, n.has_children) {
        (Children::Loaded(k), _, _) if k.is_empty() => " ",
        (_, _, false) => " ",
        (_, true, _) => "▾",
        (_, false, _) => "▸",
    };
    let label_style = if focused {
        st.selection
    } else if enabled {
        st.text
    } else {
        st.muted
    };
    let mut spans = vec![
        Span::styled(if focused { "› " } else { "  " }, st.focus_border),
        Span::raw("  ".repeat(depth)),
        Span::styled(format!("{arrow} "), st.muted),
        Span::styled(mark, if enabled { st.checkbox } else { st.muted }),
        Span::raw(" "),
        Span::styled(n.label.clone(), label_style),
    ];
    match &n.children {
        Children::Loading if n.expanded => {
            spans.push(Span::styled(format!("  {}", t::LOADING), st.progress));
        }
        Children::Failed(f) => {
            spans.push(Span::styled(format!("  ✗ {}", f.message), st.error));
        }
        _ => {}
    }
    Some(Line::from(spans))
}

/// Close `dn` (as ← on its row does).
pub fn close(o: &mut OuFiltering, dn: &Dn) {
    if let Some(n) = o.nodes.get_mut(dn) {
        n.expanded = false;
    }
}

/// The scope a tree describes.
pub fn scope_of(o: &OuFiltering) -> Scope {
    if o.mode == ScopeMode::All {
        return Scope::default();
    }
    let obj = |dn: &Dn| ObjectRef {
        dn: dn.clone(),
        guid: o.nodes.get(dn).and_then(|n| n.guid),
    };
    let mut scope = Scope {
        mode: ScopeMode::Selected,
        ..Scope::default()
    };
    for r in &o.roots {
        if effective(o, r) {
            scope.include.push(obj(r));
        }
    }
    for (dn, v) in &o.overrides {
        if is_root(o, dn) {
            continue;
        }
        if *v {
            scope.include.push(obj(dn));
        } else {
            scope.exclude.push(obj(dn));
        }
    }
    scope
}

/// Put each forest's scope into its `[[directories]]` entry (a forest whose tree was never
/// built keeps the scope it has).
pub fn apply(s: &State, c: &mut Config) {
    for d in &mut c.directories {
        let tree = if s.ous.forest.is_empty() && connect_directories::forests(s).len() <= 1 {
            // Built before forests were named (one forest): the shown tree is its tree.
            Some(&s.ous).filter(|o| !o.roots.is_empty())
        } else {
            tree_for(&s.ous, &d.forest)
        };
        if let Some(o) = tree {
            d.scope = scope_of(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    fn tree() -> OuFiltering {
        let mut o = OuFiltering {
            mode: ScopeMode::Selected,
            roots: vec![dn("DC=corp,DC=example,DC=com")],
            ..OuFiltering::default()
        };
        for d in [
            "DC=corp,DC=example,DC=com",
            "OU=Sales,DC=corp,DC=example,DC=com",
            "OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com",
        ] {
            o.nodes.insert(
                dn(d),
                Node {
                    label: d.into(),
                    guid: None,
                    has_children: true,
                    expanded: true,
                    children: Children::NotLoaded,
                },
            );
        }
        o
    }

    #[test]
    fn tri_state_follows_the_subtree_and_keeps_the_fewest_overrides() {
        let mut o = tree();
        let (root, sales, emea) = (
            dn("DC=corp,DC=example,DC=com"),
            dn("OU=Sales,DC=corp,DC=example,DC=com"),
            dn("OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com"),
        );
        assert_eq!(check(&o, &emea), Check::On, "everything starts ticked");
        toggle(&mut o, &emea);
        assert_eq!(check(&o, &emea), Check::Off);
        assert_eq!(check(&o, &sales), Check::Partial);
        assert_eq!(check(&o, &root), Check::Partial);
        // Clearing Sales clears EMEA too and leaves one override.
        toggle(&mut o, &sales);
        assert_eq!(
            check(&o, &sales),
            Check::On,
            "a partly ticked node ticks everything first"
        );
        toggle(&mut o, &sales);
        assert_eq!(check(&o, &sales), Check::Off);
        assert_eq!(check(&o, &emea), Check::Off);
        assert_eq!(o.overrides.len(), 1);
        // Re-ticking EMEA under a cleared Sales is an include below an exclude.
        toggle(&mut o, &emea);
        assert_eq!(check(&o, &emea), Check::On);
        assert_eq!(check(&o, &sales), Check::Partial);
        assert_eq!(o.overrides.len(), 2);
        // A partly ticked root ticks everything and forgets the overrides.
        toggle(&mut o, &root);
        assert_eq!(check(&o, &root), Check::On);
        assert!(o.overrides.is_empty());
        toggle(&mut o, &root);
        assert_eq!(check(&o, &emea), Check::Off);
        assert!(!anything_selected(&o));
    }
}
