//! `hybridsync wizard`: open the terminal wizard for a first run.
//!
//! Invariants: the wizard only starts in an interactive terminal; a rerun over an existing
//! configuration and `--answers` are refused plainly (not built yet) rather than overwriting
//! anything; a theme that cannot be loaded is reported and the default theme is used.

use std::io::IsTerminal;

use crate::cli::args::WizardArgs;
use crate::cli::{Global, Outcome, exit};
use crate::wizard::app::State;
use crate::wizard::terminal::{self, Outcome as Ended};
use crate::wizard::theme::Theme;

/// Run the wizard.
pub fn run(global: &Global, args: &WizardArgs) -> Outcome {
    if args.answers.is_some() {
        eprintln!(
            "hybridsync wizard: --answers is not available in this version: unattended runs are not built yet. Nothing was changed."
        );
        return Ok(exit::USAGE);
    }
    if global.config_path.exists() {
        eprintln!(
            "hybridsync wizard: {} already exists, and the wizard for a second run (the \"Additional tasks\" menu) is not built yet. Edit the file and check it with 'hybridsync config check', or move it away to start over. Nothing was changed.",
            global.config_path.display()
        );
        return Ok(exit::USAGE);
    }
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!(
            "hybridsync wizard: needs an interactive terminal (stdin and stdout must be a terminal). Nothing was changed."
        );
        return Ok(exit::USAGE);
    }
    let name = args.theme.as_deref().unwrap_or("default");
    let theme = Theme::load(name).unwrap_or_else(|e| {
        eprintln!("hybridsync wizard: {e}; using the default theme");
        Theme::default()
    });
    let state_dir = global.state_dir(None);
    let log = state_dir.join("wizard.log");
    let state = State::new(global.config_path.clone(), state_dir.clone());
    let context = crate::effects::Context {
        credentials: crate::cli::wizard_world::credential_store(
            global,
            &state_dir,
            crate::credentials::BackendChoice::Auto,
        ),
        first_cycle: Some(crate::cli::wizard_world::cycle_hook(
            global,
            Some(log.clone()),
        )),
        ..crate::effects::Context::default()
    };
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
        Ended::Quit => {
            eprintln!("hybridsync wizard: quit before the end. Nothing was written.");
            Ok(exit::FAILURE)
        }
    }
}
