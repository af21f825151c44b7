//! `hybridsync wizard`: open the terminal wizard: the first-run pages when no configuration
//! exists, the "Additional tasks" menu over an existing one, or, with `--answers FILE`, the same
//! pages unattended ([`crate::wizard::answers`]), printing progress lines.
//!
//! Invariants: the interactive wizard only starts in an interactive terminal; a configuration
//! that does not load is reported (with `hybridsync config check`'s messages) and never
//! overwritten; while the wizard runs over an existing configuration it holds the scheduler's
//! suspend lock ([`crate::service::SuspendLock`]), so `hybridsync service` starts no cycle until
//! it exits; a theme that cannot be loaded is reported and the default theme is used.

use std::io::IsTerminal;

use crate::cli::args::WizardArgs;
use crate::cli::config_cmd::load_or_report;
use crate::cli::{Global, Outcome, exit};
use crate::service::SuspendLock;
use crate::wizard::app::State;
use crate::wizard::terminal::{self, Outcome as Ended};
use crate::wizard::theme::Theme;

/// Run the wizard.
pub fn run(global: &Global, args: &WizardArgs) -> Outcome {
    if args.answers.is_none()
        && (!std::io::stdin().is_terminal() || !std::io::stdout().is_terminal())
    {
        eprintln!(
            "hybridsync wizard: needs an interactive terminal (stdin and stdout must be a terminal), or --answers FILE. Nothing was changed."
        );
        return Ok(exit::USAGE);
    }
    let existing = if global.config_path.exists() {
        let Some(loaded) = load_or_report(&global.config_path)? else {
            eprintln!(
                "hybridsync wizard: {} has errors (above); correct them first. Nothing was changed.",
                global.config_path.display()
            );
            return Ok(exit::CONFIG);
        };
        Some(loaded.config)
    } else {
        None
    };
    let state_dir = global.state_dir(existing.as_ref());
    // Keep the scheduler from starting a cycle while the configuration may change. On a first
    // run the state directory may not exist yet and no scheduler can be running.
    let _suspend = if existing.is_some() {
        if let Err(e) = std::fs::create_dir_all(&state_dir) {
            eprintln!(
                "hybridsync wizard: cannot create the state directory {}: {e}. Nothing was changed.",
                state_dir.display()
            );
            return Ok(exit::FAILURE);
        }
        match SuspendLock::acquire(&state_dir, "wizard") {
            Ok(Some(lock)) => Some(lock),
            Ok(None) => {
                eprintln!(
                    "hybridsync wizard: another wizard is open on this server ({} is locked). Nothing was changed.",
                    SuspendLock::path(&state_dir).display()
                );
                return Ok(exit::FAILURE);
            }
            Err(e) => {
                eprintln!("hybridsync wizard: {e}. Nothing was changed.");
                return Ok(exit::FAILURE);
            }
        }
    } else {
        None
    };
    let backend = existing
        .as_ref()
        .map(|c| c.install.credential_backend)
        .unwrap_or_default();
    let state = match existing {
        Some(config) => State::rerun(global.config_path.clone(), state_dir, config),
        None => State::new(global.config_path.clone(), state_dir),
    };
    if let Some(file) = &args.answers {
        let context = context(global, &state.state_dir, backend, None);
        return crate::wizard::answers::run_file(state, file, context)
            .map(|ok| if ok { exit::SUCCESS } else { exit::FAILURE });
    }
    let name = args.theme.as_deref().unwrap_or("default");
    let theme = Theme::load(name).unwrap_or_else(|e| {
        eprintln!("hybridsync wizard: {e}; using the default theme");
        Theme::default()
    });
    let rerun = state.rerun.is_some();
    let log = state.state_dir.join("wizard.log");
    let context = context(global, &state.state_dir, backend, Some(log.clone()));
    let ended = {
        let _stderr = crate::cli::wizard_world::StderrToFile::new(&log);
        terminal::run_with(state, &theme, context)
    }?;
    eprintln!("hybridsync wizard: log of this run: {}", log.display());
    match ended {
        Ended::Configured => {
            println!("hybridsync is configured: {}", global.config_path.display());
            Ok(exit::SUCCESS)
        }
        Ended::Quit if rerun => {
            eprintln!(
                "hybridsync wizard: closed without changing the configuration; the scheduler resumes."
            );
            Ok(exit::SUCCESS)
        }
        Ended::Quit => {
            eprintln!("hybridsync wizard: quit before the end. Nothing was written.");
            Ok(exit::FAILURE)
        }
    }
}

/// The world the wizard's effects act on: the credential store of this server and the first
/// cycle run the way `sync run` runs it (its messages into `log` while the screen is in use).
fn context(
    global: &Global,
    state_dir: &std::path::Path,
    backend: crate::credentials::BackendChoice,
    log: Option<std::path::PathBuf>,
) -> crate::effects::Context {
    crate::effects::Context {
        credentials: crate::cli::wizard_world::credential_store(global, state_dir, backend),
        first_cycle: Some(crate::cli::wizard_world::cycle_hook(global, log)),
        open_store: Some(crate::cli::wizard_world::store_opener(global, backend)),
        ..crate::effects::Context::default()
    }
}
