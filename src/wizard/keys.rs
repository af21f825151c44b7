//! The key table: every key the wizard understands, the [`Action`] it means and the hint the
//! footer shows for it. The footer is rendered from this table ([`footer_hints`]), so a key and
//! its hint can never disagree.
//!
//! Invariants: one key maps to at most one action; a focused text field receives printable
//! characters before the table is consulted ([`Input::Char`]), so typing a space or a letter never
//! triggers an action; only key presses count (releases and repeats of releases are ignored).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key means to the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Next / Continue / Configure.
    Next,
    /// Previous page; answers are kept.
    Back,
    /// Focus the next field.
    FocusNext,
    /// Focus the previous field.
    FocusPrev,
    /// Move up in a list or tree.
    Up,
    /// Move down in a list or tree.
    Down,
    /// Tick a checkbox, choose a radio option.
    Toggle,
    /// Expand a tree node.
    Expand,
    /// Collapse a tree node.
    Collapse,
    /// Rerun checks, refresh, retry a failed step.
    Retry,
    /// Search (the pilot group picker).
    Search,
    /// Export (View configuration).
    Export,
    /// Ask before quitting (or cancel what is running).
    Quit,
    /// Leave at once, writing nothing (Ctrl+C).
    Abort,
    /// Answer "yes" in the quit dialog.
    Yes,
    /// Answer "no" in the quit dialog.
    No,
    // --- several forests ---
    /// Add another directory (Connect your directories).
    AddDirectory,
    /// Remove the focused entry (a listed directory).
    Remove,
    // --- end several forests ---
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The key.
    pub code: KeyCode,
    /// Modifiers that must be held.
    pub modifiers: KeyModifiers,
    /// What it does.
    pub action: Action,
    /// How the footer names the key and the action; `None` when another row already shows it.
    pub hint: Option<(&'static str, &'static str)>,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn bind(
    code: KeyCode,
    modifiers: KeyModifiers,
    action: Action,
    hint: Option<(&'static str, &'static str)>,
) -> Binding {
    Binding {
        code,
        modifiers,
        action,
        hint,
    }
}

/// The key table, in the order the footer lists hints.
pub const BINDINGS: &[Binding] = &[
    bind(KeyCode::Enter, NONE, Action::Next, Some(("Enter", "next"))),
    bind(
        KeyCode::Char('b'),
        CTRL,
        Action::Back,
        Some(("Ctrl+B", "back")),
    ),
    bind(
        KeyCode::Tab,
        NONE,
        Action::FocusNext,
        Some(("Tab", "field")),
    ),
    bind(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
        Action::FocusPrev,
        None,
    ),
    bind(KeyCode::BackTab, NONE, Action::FocusPrev, None),
    bind(KeyCode::Up, NONE, Action::Up, Some(("↑↓", "move"))),
    bind(KeyCode::Down, NONE, Action::Down, None),
    bind(
        KeyCode::Char(' '),
        NONE,
        Action::Toggle,
        Some(("Space", "select")),
    ),
    bind(
        KeyCode::Right,
        NONE,
        Action::Expand,
        Some(("→←", "open/close")),
    ),
    bind(KeyCode::Left, NONE, Action::Collapse, None),
    bind(
        KeyCode::Char('f'),
        CTRL,
        Action::Search,
        Some(("Ctrl+F", "search")),
    ),
    bind(
        KeyCode::Char('e'),
        CTRL,
        Action::Export,
        Some(("Ctrl+E", "export")),
    ),
    bind(
        KeyCode::Char('r'),
        CTRL,
        Action::Retry,
        Some(("Ctrl+R", "retry")),
    ),
    // --- several forests ---
    bind(
        KeyCode::Char('n'),
        CTRL,
        Action::AddDirectory,
        Some(("Ctrl+N", "add directory")),
    ),
    bind(
        KeyCode::Delete,
        NONE,
        Action::Remove,
        Some(("Del", "remove")),
    ),
    // --- end several forests ---
    bind(KeyCode::Esc, NONE, Action::Quit, Some(("Esc", "quit"))),
    bind(KeyCode::Char('c'), CTRL, Action::Abort, None),
    bind(KeyCode::Char('y'), NONE, Action::Yes, Some(("y", "quit"))),
    bind(KeyCode::Char('n'), NONE, Action::No, Some(("n", "stay"))),
];

/// A key press as the pages see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A bound key.
    Action(Action),
    /// A printable character (for a focused text field).
    Char(char),
    /// Backspace (for a focused text field).
    Backspace,
}

/// The action bound to `key`, if any.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    BINDINGS
        .iter()
        .find(|b| b.code == key.code && key.modifiers == b.modifiers)
        .map(|b| b.action)
}

/// `key` as typed text, when it is a printable character without Ctrl or Alt.
pub fn typed(key: &KeyEvent) -> Option<Input> {
    if key.kind == KeyEventKind::Release
        || key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    match key.code {
        KeyCode::Char(c) => Some(Input::Char(c)),
        KeyCode::Backspace => Some(Input::Backspace),
        _ => None,
    }
}

/// The footer's `(key, hint)` pairs for the actions a page offers, in table order.
pub fn footer_hints(actions: &[Action]) -> Vec<(&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| actions.contains(&b.action))
        .filter_map(|b| b.hint)
        .collect()
}

/// A key event for `code` without modifiers (tests and scripted flows).
pub fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A key event for Ctrl + `c` (tests and scripted flows).
pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                assert!(
                    !(a.code == b.code && a.modifiers == b.modifiers),
                    "{:?} bound twice",
                    a.code
                );
            }
        }
    }

    #[test]
    fn footer_follows_the_table() {
        let hints = footer_hints(&[Action::Quit, Action::Next, Action::Up, Action::Down]);
        assert_eq!(
            hints,
            vec![("Enter", "next"), ("↑↓", "move"), ("Esc", "quit")]
        );
    }

    #[test]
    fn ctrl_letters_are_actions_not_text() {
        assert_eq!(action_for(&ctrl('b')), Some(Action::Back));
        assert_eq!(typed(&ctrl('b')), None);
        assert_eq!(typed(&press(KeyCode::Char('b'))), Some(Input::Char('b')));
    }
}
