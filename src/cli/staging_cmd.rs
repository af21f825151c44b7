//! `hybridsync staging on|off|status`: staging mode is one key of the configuration file.
//!
//! Invariants: toggling rewrites only `sync.staging_mode` (comments and everything else stay as the
//! admin wrote them) and only after the whole file loads; turning staging off is refused while the
//! configuration has errors, so a broken file never starts exporting.

use crate::cli::args::{StagingAction, StagingArgs};
use crate::cli::config_cmd::{load_or_report, write_atomic};
use crate::cli::{Global, Outcome, exit};
use crate::config::save;

pub(crate) fn run(g: &Global, a: &StagingArgs) -> Outcome {
    let path = &g.config_path;
    let Some(loaded) = load_or_report(path)? else {
        return Ok(exit::CONFIG);
    };
    let current = loaded.config.sync.staging_mode;
    let wanted = match a.action {
        StagingAction::Status => {
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "config": path.display().to_string(), "staging_mode": current })
                );
            } else if current {
                println!("staging mode: on (import and sync run; nothing is exported)");
            } else {
                println!("staging mode: off (this server exports)");
            }
            return Ok(exit::SUCCESS);
        }
        StagingAction::On => true,
        StagingAction::Off => false,
    };
    if wanted == current {
        println!(
            "staging mode is already {}",
            if current { "on" } else { "off" }
        );
        return Ok(exit::SUCCESS);
    }
    let text = std::fs::read_to_string(path)?;
    let mut config = loaded.config;
    config.sync.staging_mode = wanted;
    let updated = save::update_document(&text, &config)?;
    write_atomic(path, updated.as_bytes(), true)?;
    if wanted {
        println!(
            "staging mode: on. Exports stop from the next cycle; 'hybridsync sync pending-exports' shows what would be exported."
        );
    } else {
        println!(
            "staging mode: off. The next cycle exports; check 'hybridsync sync pending-exports' first."
        );
    }
    Ok(exit::SUCCESS)
}
