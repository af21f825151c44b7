//! The full-screen terminal wizard (ratatui + crossterm): app state as plain data plus messages,
//! one file per page named after the step an admin knows, pages that return effects, all strings in
//! one module, key bindings in one table that also renders the footer hints, themes as partial
//! overrides of a complete built-in theme.
//!
//! Invariants: the wizard never blocks on I/O (effects run elsewhere and come back as messages);
//! the terminal is always restored; nothing is written before the Configure step.
//!
//! Status: only the theme model ([`theme`], with `themes/*.toml`) is built; the screens come with
//! issue 9. The theme names it accepts are `config::validate::BUILTIN_THEMES`.

pub mod theme;
