//! The full-screen terminal wizard (ratatui + crossterm): app state as plain data plus messages,
//! one file per page named after the step an admin knows, pages that return effects, all strings in
//! one module, key bindings in one table that also renders the footer hints, themes as partial
//! overrides of a complete built-in theme.
//!
//! Invariants: the wizard never blocks on I/O (effects run elsewhere and come back as messages);
//! the terminal is always restored; nothing is written before the Configure step.
//!
//! Layout: [`app`] (state, messages, `update`), [`pages`] (one module per page), [`answers`]
//! (the unattended driver), [`ui`] (drawing),
//! [`keys`] (the key table and footer), [`text`] (every string), [`widgets`] (text fields),
//! [`theme`] (colours), [`terminal`] (raw mode, alternate screen, the event loop and restoring
//! the terminal), [`target`] (where the answers point: Entra ID or the demo). The theme names it
//! accepts are `config::validate::BUILTIN_THEMES`.
//!
//! Status (issue 9): the first-run Express and Custom paths run on the real effects (see
//! [`crate::effects`]); [`target`] points them at the demo's local tenant and LDIF forest. The
//! Custom path asks for the user sign-in method (password hash sync, pass-through, AD FS,
//! PingFederate or do not configure, with Seamless single sign-on) before the Entra ID sign-in,
//! and, when directory extensions are ticked, offers every connected forest's candidate
//! attributes from the live schema in a filtered picker ([`pages::directory_extensions`]); with
//! group writeback ticked, its writeback forest (one whose schema has Exchange) and its target
//! OU in that forest's lazy OU tree are chosen ([`pages::group_writeback`]). Over
//! an existing configuration the wizard opens the rerun "Additional tasks" menu
//! ([`pages::additional_tasks`]: view or export the configuration, customize synchronization
//! options by reopening the OU filtering and optional features pages pre-filled, with the
//! one-shot choices read-only; refresh directory schema and troubleshoot, both through
//! `hybridsync preflight`; configure staging mode with the pending-export count; change user
//! sign-in); a task writes only its keys, through `config::save` (comments kept), and the CLI
//! holds the scheduler's suspend lock while the wizard is open. [`answers`] runs the same pages
//! unattended (`--answers FILE`). On a rerun the forest is not bound (no password is asked), so
//! the OU tree is listed with the configuration's connector account, and Exchange options count
//! as available only when an Exchange feature is already on. The Custom path opens with
//! "Install required components" ([`pages::install_components`]: state directory, the database
//! (PostgreSQL shown but not built), the service account, and importing a settings export, which
//! pre-fills the pages and turns staging on); Connect your directories takes several forests,
//! each with its own OU tree and `[[directories]]` entry (an existing connector account's rights
//! are checked before Configure), and the rerun's customize task can add one. Not built yet: the app and attribute filtering pages, device options, source anchor
//! change and mouse support.

pub mod answers;
pub mod app;
pub mod keys;
pub mod pages;
pub mod target;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod ui;
pub mod widgets;
