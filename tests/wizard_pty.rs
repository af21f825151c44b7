//! The real binary in a pseudo-terminal (util-linux `script` provides it): `hybridsync wizard`
//! opens full screen on the Welcome page, runs the real prerequisite checks, and restores the
//! terminal when the admin leaves with Ctrl+C or Esc, y — without writing the configuration;
//! `hybridsync demo` walks the Express path against the local tenant and the sample directory
//! to the Complete page with the first cycle's counts.
//!
//! Over an existing configuration it opens the Additional tasks menu, holds the scheduler's
//! suspend lock while open, toggles staging mode and writes the file with every comment kept.
//!
//! Fails (never skips) where `script` is not installed. The screen is read back through a
//! VT100 emulator (`vt100`), so assertions see what an admin sees.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Pty {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn start(dir: &Path) -> Self {
        let cmd = format!(
            "--config '{}' --state-dir '{}' wizard",
            dir.join("etc/hybridsync.toml").display(),
            dir.join("state").display()
        );
        Self::start_args(dir, &cmd)
    }

    fn start_args(dir: &Path, args: &str) -> Self {
        // tests/run.sh installs util-linux's `script` (package bsdutils); without it this
        // test fails rather than skipping.
        assert!(
            Command::new("script").arg("--version").output().is_ok(),
            "util-linux 'script' is needed to run the wizard in a pseudo-terminal (Debian package bsdutils)"
        );
        let bin = env!("CARGO_BIN_EXE_hybridsync");
        let cmd = format!("stty cols 80 rows 24; exec '{bin}' {args}");
        let mut child = Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .env("TERM", "xterm-256color")
            .env("HOME", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self { child, out }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// What the terminal shows now (the output replayed through a VT100 emulator).
    fn screen(&self) -> String {
        let nz = |n| std::num::NonZero::new(n).unwrap();
        let mut vt = vt100::Parser::new(nz(24), nz(80), 0);
        vt.process(&self.out.lock().unwrap());
        vt.screen().contents()
    }

    /// Wait until the screen shows `needle`.
    fn wait_for(&self, needle: &str) {
        self.wait_for_within(needle, 30);
    }

    /// Wait until the screen shows `needle`, at most `secs` seconds.
    fn wait_for_within(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.screen().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("'{needle}' never appeared; screen:\n{}", self.screen());
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the wizard did not exit; output:\n{}", self.text());
    }
}

#[test]
fn wizard_opens_runs_live_checks_and_restores_the_terminal_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::start(dir.path());
    pty.wait_for("Welcome to hybridsync");
    pty.wait_for("I agree to the license terms");
    pty.send(b" ");
    pty.send(b"\r");
    pty.wait_for("State directory is writable");
    pty.send(b"\x03");
    assert_eq!(pty.exit_code(), Some(1), "{}", pty.text());
    let out = pty.text();
    let entered = out
        .find("\x1b[?1049h")
        .expect("entered the alternate screen");
    let left = out.rfind("\x1b[?1049l").expect("left the alternate screen");
    assert!(left > entered);
    assert!(out.contains("Nothing was written"), "{out}");
    assert!(!dir.path().join("etc/hybridsync.toml").exists());
}

#[test]
fn esc_asks_before_quitting() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::start(dir.path());
    pty.wait_for("I agree to the license terms");
    pty.send(b"\x1b");
    pty.wait_for("Quit the wizard?");
    pty.send(b"y");
    assert_eq!(pty.exit_code(), Some(1), "{}", pty.text());
    assert!(pty.text().contains("\x1b[?1049l"));
}

#[test]
fn rerun_toggles_staging_keeps_comments_and_suspends_the_scheduler_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let template = include_str!("../templates/hybridsync.toml");
    let config = dir.path().join("etc/hybridsync.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, template).unwrap();
    let state = dir.path().join("state");
    let mut pty = Pty::start(dir.path());
    pty.wait_for("Additional tasks");
    pty.wait_for("Configure staging mode");
    assert!(
        hybridsync::service::SuspendLock::is_held(&state).unwrap(),
        "the scheduler is suspended while the wizard is open"
    );
    for _ in 0..3 {
        pty.send(b"\x1b[B");
    }
    pty.send(b"\r");
    pty.wait_for("not in staging mode now");
    pty.wait_for("No synchronization has run yet");
    pty.send(b" ");
    pty.wait_for("Entering staging mode");
    pty.send(b"\r");
    pty.wait_for("sync.staging_mode: false -> true");
    pty.send(b"\r");
    pty.wait_for("hybridsync is configured.");
    pty.wait_for("Staging mode is on");
    pty.send(b"\r");
    assert_eq!(pty.exit_code(), Some(0), "{}", pty.text());
    assert!(
        pty.text().contains("hybridsync is configured: "),
        "{}",
        pty.text()
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        written,
        template.replace("staging_mode = false", "staging_mode = true"),
        "only staging changed; every comment kept"
    );
    assert!(
        !hybridsync::service::SuspendLock::is_held(&state).unwrap(),
        "the scheduler resumes when the wizard exits"
    );
}

#[test]
fn rerun_troubleshoot_runs_the_real_preflight_for_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    // A forest and a tenant read from LDIF files: the preflight runs its local checks only.
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/sample-directory.ldif"
        ),
        etc.join("contoso.ldif"),
    )
    .unwrap();
    let config = include_str!("config/valid/minimal.toml")
        .replace(
            "forest = \"corp.example.com\"",
            "forest = \"contoso.example\"\nldif_file = \"contoso.ldif\"",
        )
        .replace(
            "tenant_id = \"contoso.onmicrosoft.com\"",
            "tenant_id = \"contoso.onmicrosoft.com\"\nldif_file = \"tenant.ldif\"",
        );
    std::fs::write(etc.join("hybridsync.toml"), config).unwrap();
    let mut pty = Pty::start(dir.path());
    pty.wait_for("Choose a task");
    for _ in 0..5 {
        pty.send(b"\x1b[B");
    }
    pty.send(b"\r");
    pty.wait_for("Object DN");
    pty.send(b"CN=Nobody,DC=contoso,DC=example");
    pty.send(b"\r");
    pty.wait_for("About CN=Nobody,DC=contoso,DC=example:");
    let screen = pty.screen();
    assert!(
        screen.contains("Every preflight check passed") || screen.contains("Checks that failed"),
        "{screen}"
    );
    assert!(
        screen.contains("The readiness report has no problem with this object"),
        "{screen}"
    );
    pty.send(b"\x1b");
    pty.wait_for("Quit the wizard?");
    pty.send(b"y");
    assert_eq!(pty.exit_code(), Some(0), "{}", pty.text());
    assert!(
        pty.text()
            .contains("closed without changing the configuration")
    );
}

#[test]
fn demo_walks_the_express_path_to_a_synced_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut pty = Pty::start_args(
        dir.path(),
        &format!("demo --state-dir '{}'", demo.display()),
    );
    pty.wait_for("I agree to the license terms");
    pty.send(b" ");
    pty.send(b"\r");
    pty.wait_for("State directory is writable");
    pty.send(b"\r"); // Express Settings
    pty.wait_for("Use express settings");
    pty.send(b"\r"); // Connect to Entra ID: the local tenant approves the code itself
    pty.wait_for("Signed in as admin@contoso.onmicrosoft.com");
    pty.send(b"\r"); // Connect your directories: the LDIF forest, no credentials asked
    pty.wait_for("read from an LDIF file");
    assert!(
        !pty.screen().contains("Enterprise Admin ("),
        "{}",
        pty.screen()
    );
    pty.send(b"\r");
    pty.wait_for("contoso.local"); // a suffix no tenant can verify
    pty.send(b" ");
    pty.send(b"\r");
    pty.wait_for("Ready to configure");
    pty.send(b"\r");
    pty.wait_for_within("hybridsync is configured", 300);
    pty.wait_for("First cycle (run 1)");
    assert!(
        pty.screen().contains("254 objects imported"),
        "{}",
        pty.screen()
    );
    pty.send(b"\r");
    assert_eq!(pty.exit_code(), Some(0), "{}", pty.text());
    assert!(demo.join("hybridsync.toml").exists());
    assert!(demo.join("tenant.json").exists());
}

#[test]
fn demo_walks_the_custom_path_to_a_synced_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut pty = Pty::start_args(
        dir.path(),
        &format!("demo --state-dir '{}'", demo.display()),
    );
    pty.wait_for("I agree to the license terms");
    pty.send(b" ");
    pty.send(b"\r");
    pty.wait_for("State directory is writable");
    pty.send(b"\r");
    pty.wait_for("Use express settings");
    pty.send(b"\x1b[B"); // Down: Customize
    pty.send(b"\r");
    pty.wait_for("Import synchronization settings"); // Install required components: defaults
    pty.send(b"\r");
    pty.wait_for("Federation with PingFederate"); // User sign-in: keep password hash sync
    pty.send(b"\r");
    pty.wait_for("Signed in as admin@contoso.onmicrosoft.com");
    pty.send(b"\r");
    pty.wait_for("read from an LDIF file");
    pty.send(b"\r");
    pty.wait_for("contoso.local");
    pty.send(b"\t"); // from the UPN attribute to the checkbox
    pty.send(b" ");
    pty.send(b"\r");
    pty.wait_for("Domain and OU filtering");
    pty.wait_for("contoso.example"); // the forest's domain, from the bind
    pty.send(b"\r");
    pty.wait_for("Uniquely identifying your users");
    pty.send(b"\r");
    pty.wait_for("Filter users and devices");
    pty.send(b"\r");
    pty.wait_for("Optional features");
    pty.send(b"\r");
    pty.wait_for("Ready to configure");
    pty.send(b"\r");
    pty.wait_for_within("hybridsync is configured", 300);
    pty.wait_for("First cycle (run 1)");
    pty.send(b"\r");
    assert_eq!(pty.exit_code(), Some(0), "{}", pty.text());
    let config = std::fs::read_to_string(demo.join("hybridsync.toml")).unwrap();
    assert!(config.contains("mode = \"custom\""), "{config}");
}
