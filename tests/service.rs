//! `hybridsync service` as a process: it runs a cycle at start, serves /healthz and /metrics on
//! loopback, logs JSON lines with `--log-format json`, and stops cleanly on SIGTERM, also in the
//! middle of a cycle, leaving a state the next cycle finishes without duplicates; while the
//! wizard's suspend lock is held it starts no cycle, and it resumes once the lock is released.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{hybridsync, root, run, text};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn setup(work: &Path, port: u16) -> std::path::PathBuf {
    std::fs::copy(
        root().join("templates/sample-directory.ldif"),
        work.join("contoso.ldif"),
    )
    .unwrap();
    let minimal = std::fs::read_to_string(root().join("tests/config/valid/minimal.toml")).unwrap();
    let config = minimal
        .replace(
            "forest = \"corp.example.com\"",
            "forest = \"contoso.example\"\nldif_file = \"contoso.ldif\"",
        )
        .replace(
            "tenant_id = \"contoso.onmicrosoft.com\"",
            "tenant_id = \"contoso.onmicrosoft.com\"\nldif_file = \"tenant.ldif\"",
        )
        .replace(
            "schema_version = 1",
            &format!(
                "schema_version = 1\n\n[install]\nstate_dir = '{}'\n\n[service]\nmetrics_listen = \"127.0.0.1:{port}\"",
                work.join("state").display()
            ),
        );
    let path = work.join("hybridsync.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn start(home: &Path, config: &Path, log: &Path) -> Child {
    let mut cmd: Command = hybridsync(home);
    cmd.arg("--config")
        .arg(config)
        .args(["--log-format", "json", "service"])
        .env("HYBRIDSYNC_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    cmd.spawn().unwrap()
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, 120, f);
}

fn wait_within(what: &str, seconds: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn service_runs_a_cycle_serves_metrics_and_stops_on_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = setup(work.path(), port);
    let log = work.path().join("service.log");
    let mut child = start(home.path(), &config, &log);

    wait_for("/healthz", || {
        get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200") && r.ends_with("ok\n"))
    });
    wait_for("a successful cycle in /metrics", || {
        get(port, "/metrics")
            .is_some_and(|r| r.contains("hybridsync_cycles_total{status=\"success\"} 1"))
    });
    let metrics = get(port, "/metrics").unwrap();
    assert!(
        metrics.contains("hybridsync_pending_exports{connector=\"entra\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("hybridsync_connector_objects{connector=\"contoso.example\"} 254"));
    assert!(!metrics.contains("hybridsync_last_successful_cycle_timestamp_seconds 0\n"));
    assert!(get(port, "/nothing").unwrap().starts_with("HTTP/1.1 404"));
    assert!(work.path().join("tenant.ldif").exists());

    let status = sigterm(&mut child);
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let logs = std::fs::read_to_string(&log).unwrap();
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{line}"
        );
    }
    assert!(
        logs.contains("cycle finished") && logs.contains("service stopped"),
        "{logs}"
    );
}

#[test]
fn sigterm_in_the_middle_of_a_cycle_loses_nothing() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = setup(work.path(), port);
    let log = work.path().join("service.log");
    let mut child = start(home.path(), &config, &log);
    // Stop as soon as the service answers: the first cycle is under way.
    wait_for("/healthz", || get(port, "/healthz").is_some());
    let status = sigterm(&mut child);
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );

    // The next cycle completes what the stopped one left.
    let out = run(hybridsync(home.path())
        .arg("--config")
        .arg(&config)
        .args(["sync", "run"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tenant = std::fs::read_to_string(work.path().join("tenant.ldif")).unwrap();
    let entries = hybridsync::connectors::file::ldif::read_entries(&tenant).unwrap();
    let mut ids: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.text("onPremisesImmutableId"))
        .collect();
    let users = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), users, "no user was created twice");
    assert!(users >= 200, "{users} users");
}

#[test]
fn the_systemd_unit_starts_a_command_this_binary_has() {
    let unit =
        std::fs::read_to_string(root().join("templates/systemd/hybridsync.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/bin/hybridsync"));
    let args: Vec<&str> = words.collect();
    let out = run(hybridsync(Path::new("/nonexistent"))
        .args(&args)
        .arg("--help"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Run as a service"),
        "{}",
        text(&out.stdout)
    );
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.lines().any(|l| l == hardening), "{hardening}");
    }
}

#[test]
fn no_cycle_runs_while_the_wizard_holds_the_suspend_lock_and_cycles_resume_after() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = setup(work.path(), port);
    let state = work.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // The lock `hybridsync wizard` takes over an existing configuration (tests/wizard_pty.rs
    // checks the wizard holds it while open).
    let wizard = hybridsync::service::SuspendLock::acquire(&state, "wizard")
        .unwrap()
        .unwrap();
    let log = work.path().join("service.log");
    let mut child = start(home.path(), &config, &log);
    wait_for("a skipped cycle in /metrics", || {
        get(port, "/metrics").is_some_and(|r| r.contains("hybridsync_cycles_skipped_total 1"))
    });
    let metrics = get(port, "/metrics").unwrap();
    assert!(
        metrics.contains("hybridsync_cycles_total{status=\"success\"} 0"),
        "no cycle ran: {metrics}"
    );
    assert!(
        !work.path().join("tenant.ldif").exists(),
        "nothing exported"
    );
    // The wizard closes: the scheduler notices at once and runs the cycle (the configured
    // interval is 30 minutes, so only the release can have started it).
    drop(wizard);
    // (The old behaviour looked again after a minute; 30 s tells the two apart.)
    wait_within("a successful cycle after the wizard closed", 30, || {
        get(port, "/metrics")
            .is_some_and(|r| r.contains("hybridsync_cycles_total{status=\"success\"} 1"))
    });
    let status = sigterm(&mut child);
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
}
