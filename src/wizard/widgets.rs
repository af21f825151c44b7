//! Small pieces of page state shared by several pages: a one-line text field (optionally a masked
//! password field) and a focus ring.
//!
//! Invariants: a masked field's text is never rendered, never printed by `Debug`, and zeroed when
//! the field is dropped; it leaves the field only as a [`Secret`].

use zeroize::Zeroizing;

use crate::domain::Secret;
use crate::wizard::keys::Input;

/// A one-line text field.
#[derive(Clone, Default)]
pub struct TextField {
    value: Zeroizing<String>,
    masked: bool,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.masked {
            write!(
                f,
                "TextField([redacted], {} chars)",
                self.value.chars().count()
            )
        } else {
            write!(f, "TextField({:?})", self.value.as_str())
        }
    }
}

impl PartialEq for TextField {
    fn eq(&self, other: &Self) -> bool {
        self.masked == other.masked && *self.value == *other.value
    }
}

impl TextField {
    /// A plain field holding `value`.
    pub fn new(value: &str) -> Self {
        Self {
            value: Zeroizing::new(value.to_string()),
            masked: false,
        }
    }

    /// An empty password field.
    pub fn password() -> Self {
        Self {
            value: Zeroizing::new(String::new()),
            masked: true,
        }
    }

    /// The text of a plain field, trimmed; empty for a masked field.
    pub fn text(&self) -> &str {
        if self.masked { "" } else { self.value.trim() }
    }

    /// The content as a secret (for password fields).
    pub fn secret(&self) -> Secret {
        Secret::new(self.value.as_str().to_string())
    }

    /// Whether nothing (but spaces) was typed.
    pub fn is_empty(&self) -> bool {
        self.value.trim().is_empty()
    }

    /// What the screen shows: the text, or one `•` per character when masked.
    pub fn display(&self) -> String {
        if self.masked {
            "•".repeat(self.value.chars().count())
        } else {
            self.value.to_string()
        }
    }

    /// Apply a typed key; returns whether the field used it.
    pub fn input(&mut self, input: Input) -> bool {
        match input {
            Input::Char(c) => {
                self.value.push(c);
                true
            }
            Input::Backspace => {
                self.value.pop();
                true
            }
            Input::Action(_) => false,
        }
    }
}

/// Move a focus index `by` steps (±1) over `len` items, wrapping.
pub fn cycle(focus: usize, len: usize, forward: bool) -> usize {
    if len == 0 {
        return 0;
    }
    if forward {
        (focus + 1) % len
    } else {
        (focus + len - 1) % len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let mut f = TextField::password();
        for c in "hunter2".chars() {
            f.input(Input::Char(c));
        }
        assert_eq!(f.display(), "•••••••");
        assert_eq!(f.text(), "");
        assert!(!format!("{f:?}").contains("hunter2"));
        assert_eq!(f.secret().expose(), "hunter2");
    }
}
