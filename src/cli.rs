//! The command line: every command an admin can run, its help text, and its exit code.
//!
//! Role: parse arguments with clap (the derive types in [`args`]), dispatch to the command
//! implementations, and map results to the documented exit codes ([`exit`]). `main.rs` only calls
//! [`run`] and prints the error it returns.
//!
//! Invariants: help text is written for an admin who has never read the code (what it does, what
//! it changes, where it reads from); read-only commands accept `--json`; a command whose machinery
//! is not built yet says so and exits with [`exit::USAGE`] (2), never pretending to work; output
//! never contains a secret value.

pub mod args;
mod config_cmd;
mod demo_cmd;
mod emulator_cmd;
pub mod exit;
mod preflight_cmd;
mod rotate_cmd;
mod rules_cmd;
mod secrets_cmd;
mod service_cmd;
mod staging_cmd;
mod sync_cmd;
mod wizard_cmd;
mod wizard_world;

use std::io::Write;

use clap::CommandFactory;

pub use args::Cli;
use args::{Command, ConfigCommand};

/// What a command produced: an exit code (output has already been written).
pub type Outcome = anyhow::Result<u8>;

/// Run one parsed command line.
pub fn run(cli: Cli) -> Outcome {
    let ctx = crate::config::paths::Context::from_process();
    let config_path = crate::config::paths::config_file(cli.config.as_deref(), &ctx);
    let global = Global {
        config_path,
        state_dir_flag: cli.state_dir.clone(),
        ctx,
    };
    match cli.command {
        Command::Config(c) => match c {
            ConfigCommand::Check(a) => config_cmd::check(&global, &a),
            ConfigCommand::Show(a) => config_cmd::show(&global, &a),
            ConfigCommand::Export(a) => config_cmd::export(&global, &a),
            ConfigCommand::RotateCertificate(a) => rotate_cmd::run(&global, &a),
            ConfigCommand::Import(a) => config_cmd::import(&a),
            ConfigCommand::Diff(a) => config_cmd::diff(&a),
        },
        Command::Staging(a) => staging_cmd::run(&global, &a),
        Command::Sync(args::SyncCommand::PendingExports(a)) => {
            sync_cmd::pending_exports(&global, &a)
        }
        Command::Sync(args::SyncCommand::History(a)) => sync_cmd::history(&global, a.count, a.json),
        Command::Sync(args::SyncCommand::Run(a)) => sync_cmd::run(&global, &a),
        Command::Service(a) => service_cmd::run(&global, &a),
        Command::Sync(args::SyncCommand::Status(a)) => sync_cmd::status(&global, a.json),
        Command::Sync(args::SyncCommand::AllowDeletes(a)) => {
            sync_cmd::allow_deletes(&global, a.connector.as_deref())
        }
        Command::Rules(r) => match r {
            args::RulesCommand::List(j) => rules_cmd::list(&global, j.json),
            args::RulesCommand::Show { name, json } => rules_cmd::show(&global, &name, json),
            args::RulesCommand::Test(a) => rules_cmd::test(&global, &a),
        },
        Command::Secrets(a) => secrets_cmd::run(&global, &a),
        Command::Preflight(a) => preflight_cmd::run(&global, &a),
        Command::TenantEmulator(a) => emulator_cmd::run(&global, &a),
        Command::Wizard(a) => wizard_cmd::run(&global, &a),
        Command::Demo(a) => demo_cmd::run(&global, &a),
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(a.shell, &mut cmd, "hybridsync", &mut out);
            out.flush()?;
            Ok(exit::SUCCESS)
        }
    }
}

/// Options every command sees.
#[derive(Debug, Clone)]
pub(crate) struct Global {
    /// The configuration file in effect (`--config`, `HYBRIDSYNC_CONFIG`, or the default).
    pub config_path: std::path::PathBuf,
    /// `--state-dir` / `HYBRIDSYNC_STATE_DIR`.
    pub state_dir_flag: Option<std::path::PathBuf>,
    /// Process facts for default paths.
    pub ctx: crate::config::paths::Context,
}

impl Global {
    /// The state directory, given the loaded configuration (if any).
    pub fn state_dir(&self, config: Option<&crate::config::Config>) -> std::path::PathBuf {
        crate::config::paths::state_dir(
            self.state_dir_flag.as_deref(),
            config.and_then(|c| c.install.state_dir.as_deref()),
            &self.ctx,
        )
    }
}
