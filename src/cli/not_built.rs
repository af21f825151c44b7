//! Commands whose machinery arrives in later issues: they exist, say so plainly, and exit 2.
//!
//! Invariants: a command listed here never touches the directory, the tenant or the state
//! directory; its message names what is missing so nobody mistakes it for a silent success. Each
//! entry is removed when its issue lands.

use crate::cli::Outcome;
use crate::cli::args::Command;
use crate::cli::exit;

/// (command as typed, what is missing).
fn describe(cmd: &Command) -> (&'static str, &'static str) {
    match cmd {
        Command::Demo(_) => (
            "demo",
            "the demo needs the tenant emulator, the sync engine and the wizard, which are not built yet",
        ),
        Command::Wizard(_)
        | Command::Config(_)
        | Command::Sync(_)
        | Command::Service(_)
        | Command::Staging(_)
        | Command::Secrets(_)
        | Command::Rules(_)
        | Command::Preflight(_)
        | Command::TenantEmulator(_)
        | Command::Completions(_) => ("", ""),
    }
}

/// Print the not-built message and return exit code 2.
pub fn report(cmd: &Command) -> Outcome {
    let (name, what) = describe(cmd);
    eprintln!("hybridsync {name}: not available in this version: {what}. Nothing was changed.");
    Ok(exit::USAGE)
}
