//! Interop with software no one here wrote: start the real `hybridsync tenant-emulator` binary and
//! drive it with Microsoft's Python SDKs (`msal` for tokens by secret and certificate and for the
//! device flow, approved from a thread through the emulator's approval endpoint, with its id token
//! and refresh token; `msgraph-sdk` for users, groups, members, paging, filters, errors, delta and
//! restore).
//!
//! The venv comes from `tests/sdk/setup.sh` (pinned versions in `tests/sdk/requirements.txt`).
//! Nothing is skipped: if the venv cannot be made, the test fails and says why.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the emulator when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn venv() -> std::path::PathBuf {
    std::env::var_os("HYBRIDSYNC_SDK_VENV")
        .map(Into::into)
        .unwrap_or_else(|| support::root().join("target").join("sdk-venv"))
}

#[test]
fn microsoft_sdks_msal_and_msgraph_work_against_the_emulator() {
    let root = support::root();
    let venv = venv();
    let setup = Command::new("bash")
        .arg(root.join("tests/sdk/setup.sh"))
        .arg(&venv)
        .output()
        .expect("bash runs tests/sdk/setup.sh");
    assert!(
        setup.status.success(),
        "could not create the SDK venv at {} (needs python3 with the venv module and PyPI access; \
         tests/run.sh installs python3-venv):\n{}{}",
        venv.display(),
        support::text(&setup.stdout),
        support::text(&setup.stderr)
    );

    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("ca.pem");
    let boot = home.path().join("bootstrap.json");
    let started = Instant::now();
    let mut child = Child(
        support::hybridsync(home.path())
            .args(["--state-dir"])
            .arg(home.path().join("state"))
            .args(["tenant-emulator", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(&ca)
            .arg("--bootstrap-out")
            .arg(&boot)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the hybridsync binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the emulator prints its ready line");
    let startup = started.elapsed();
    assert!(
        line.starts_with("tenant emulator ready on https://127.0.0.1:"),
        "{line}"
    );
    eprintln!("emulator ready in {startup:?} (first start, keys generated): {line}");

    let out = Command::new(venv.join("bin/python"))
        .arg(root.join("tests/sdk/sdk_check.py"))
        .arg(&boot)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("SSL_CERT_FILE", &ca)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("the venv's python runs");
    let stdout = support::text(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all SDK checks passed"),
        "Microsoft's SDKs failed against the emulator:\n{stdout}{}",
        support::text(&out.stderr)
    );
}
