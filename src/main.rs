//! The `hybridsync` binary: parse the command line, set up logging, run, map to an exit code.
//! Everything else lives in the library (`src/lib.rs` has the map).

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = hybridsync::cli::Cli::parse();
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("HYBRIDSYNC_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        hybridsync::cli::args::LogFormat::Json => logs.json().init(),
        hybridsync::cli::args::LogFormat::Text => logs.init(),
    }
    match hybridsync::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(hybridsync::cli::exit::FAILURE)
        }
    }
}
