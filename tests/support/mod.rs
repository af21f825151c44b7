//! Shared helpers for the integration tests: run the real `hybridsync` binary with a clean
//! environment and compare its output with expected files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package root (tests run with it as the current directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `hybridsync` command with no inherited hybridsync environment, run from the package root,
/// with HOME pointed at `home` so no test reads the real user's files.
pub fn hybridsync(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hybridsync"));
    cmd.current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"));
    cmd
}

/// Run and capture.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the hybridsync binary runs")
}

/// Text of a stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compare `actual` with the file `expected`; with HYBRIDSYNC_BLESS=1 write it instead.
pub fn assert_matches_file(actual: &str, expected: &Path) {
    if std::env::var_os("HYBRIDSYNC_BLESS").is_some() {
        std::fs::write(expected, actual).expect("write expected file");
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|e| {
        panic!(
            "missing expected file {}: {e} (HYBRIDSYNC_BLESS=1 writes it)",
            expected.display()
        )
    });
    assert_eq!(actual, want, "output differs from {}", expected.display());
}
