//! Exit codes, the contract scripts rely on.
//!
//! Invariants: codes never change meaning once released; every command documents which it uses;
//! the table is printed in `hybridsync --help` (see [`HELP_TABLE`]).

/// The command did what was asked.
pub const SUCCESS: u8 = 0;
/// The command failed (details on standard error), or `config diff` found differences.
pub const FAILURE: u8 = 1;
/// Bad arguments, or the capability is not built yet in this version.
pub const USAGE: u8 = 2;
/// The configuration file has errors.
pub const CONFIG: u8 = 3;
/// The export was stopped by the accidental-delete guard (release it with `sync allow-deletes`).
pub const DELETE_GUARD: u8 = 4;
/// Another sync cycle or the wizard holds the state-directory lock.
pub const BUSY: u8 = 5;

/// The table shown at the end of `hybridsync --help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0  success
  1  failure (see the message), or 'config diff' found differences
  2  bad arguments, or the capability is not built yet in this version
  3  the configuration file has errors (each is listed with its key and the fix)
  4  export stopped by the accidental-delete guard ('hybridsync sync allow-deletes' releases one)
  5  busy: a sync cycle or the wizard is running";
