#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! `hybridsync demo --unattended --state-dir DIR` as a real binary: the Express path end to end
//! against the in-process tenant emulator and the sample directory, then the result inspected:
//! the tenant saved in DIR holds the sample's users, the configuration written in DIR loads and
//! names no secret, and `sync history` reads the first cycle from the store in DIR.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn hybridsync(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hybridsync"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TMPDIR", home);
    c
}

/// A child process that is killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(c: &mut Command) -> Output {
    c.output().expect("hybridsync runs")
}

/// The sample's users (not the critical system accounts) named in contoso.example, by
/// lower-case UPN.
fn sample_upns() -> HashSet<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/sample-directory.ldif"
    ))
    .unwrap();
    let entries =
        hybridsync::connectors::file::ldif::read_entries(&text).expect("the sample reads");
    entries
        .iter()
        .filter(|e| {
            let classes: Vec<String> = e
                .get("objectClass")
                .map(|a| {
                    a.values
                        .iter()
                        .map(|v| String::from_utf8_lossy(v).to_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            classes.contains(&"user".to_string()) && !classes.contains(&"computer".to_string())
        })
        .filter(|e| e.text("isCriticalSystemObject") != Some("TRUE"))
        .filter_map(|e| {
            // Without a UPN the user is named sAMAccountName@domain, as Entra Connect does.
            e.text("userPrincipalName")
                .map(str::to_lowercase)
                .or_else(|| {
                    e.text("sAMAccountName")
                        .map(|s| format!("{}@contoso.example", s.to_lowercase()))
                })
        })
        .filter(|u| u.ends_with("@contoso.example"))
        .collect()
}

#[test]
fn demo_unattended_syncs_the_sample_directory_into_the_saved_tenant() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("demo");
    let out = run(hybridsync(home.path()).args([
        "demo",
        "--unattended",
        "--state-dir",
        dir.to_str().unwrap(),
    ]));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for needle in [
        "Connect to Microsoft Entra ID",
        "approved by the local tenant",
        "done: Register the sync application and store its certificate",
        "done: Write the configuration file",
        "done: Start the first synchronization cycle",
        "First cycle (run 1)",
        "contoso.example: 254 objects imported, 0 rejected",
        "tenant-emulator --listen 127.0.0.1:",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in\n{stdout}");
    }
    // The LDIF forest asks for no admin credentials and creates no connector account.
    assert!(
        !stdout.contains("Create the AD DS connector account"),
        "{stdout}"
    );

    // The saved tenant holds the sample's users, created by sync (anchored on-premises).
    let tenant: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tenant.json")).unwrap()).unwrap();
    let users: Vec<&Value> = tenant["objects"]
        .as_object()
        .unwrap()
        .values()
        .filter(|o| o["kind"] == "User")
        .map(|o| &o["props"])
        .collect();
    let synced: HashSet<String> = users
        .iter()
        .filter(|u| u["onPremisesImmutableId"].is_string())
        .map(|u| u["userPrincipalName"].as_str().unwrap().to_lowercase())
        .collect();
    let sample = sample_upns();
    assert!(sample.len() > 200, "{}", sample.len());
    // Every synced user comes from the sample; the sample's users are all there except those
    // the default rules filter: the Exchange system mailboxes and the replication-conflict copy
    // of 'Pat Kim' (pat.kim2) and an older connector account (MSOL_...).
    assert!(
        synced.is_subset(&sample),
        "{:?}",
        synced.difference(&sample)
    );
    let missing: Vec<&String> = sample.difference(&synced).collect();
    assert!(
        missing.len() <= 4
            && missing.iter().all(|u| u.starts_with("systemmailbox{")
                || u.starts_with("discoverysearchmailbox{")
                || u.starts_with("pat.kim2@")
                || u.starts_with("msol_")),
        "{missing:?}"
    );
    assert!(synced.contains("isla.thompson@contoso.example"));

    // The configuration: the local tenant, the LDIF forest, secrets only as references.
    let config = std::fs::read_to_string(dir.join("hybridsync.toml")).unwrap();
    let loaded = hybridsync::config::load(&dir.join("hybridsync.toml")).unwrap();
    let c = &loaded.config;
    assert!(
        c.tenant
            .authority_host
            .as_deref()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    assert_eq!(
        c.directories[0].ldif_file.as_deref(),
        Some(dir.join("sample-directory.ldif").as_path())
    );
    assert_eq!(
        c.tenant.application.certificate_ref,
        Some(hybridsync::credentials::SecretRef::Store(
            "entra-app-certificate".into()
        ))
    );
    assert!(!config.contains("PRIVATE KEY"));
    assert!(dir.join("state/credentials.enc").exists());

    // The store in DIR answers `sync history` afterwards.
    let out = run(hybridsync(home.path()).args([
        "--config",
        dir.join("hybridsync.toml").to_str().unwrap(),
        "sync",
        "history",
        "--json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    assert!(
        runs[0]["adds"].as_u64().unwrap() >= synced.len() as u64,
        "{runs}"
    );

    // The saved tenant served again, as the demo's last line says: later cycles report only
    // the one user no tenant can take (its UPN suffix contoso.local cannot be verified). The
    // group memberships that waited for it were computed while their members still had the
    // names they were provisioned with; they resolve to the members' Entra ids.
    let serve = stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("serve that tenant again: hybridsync ")
        })
        .expect("the demo prints how to serve its tenant again")
        .to_owned();
    let args: Vec<&str> = serve.split_whitespace().collect();
    let mut emulator = KillOnDrop(
        hybridsync(home.path())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    {
        use std::io::BufRead as _;
        let lines = std::io::BufReader::new(emulator.0.stdout.take().unwrap()).lines();
        for line in lines {
            if line.unwrap().contains("ready on") {
                break;
            }
        }
    }
    let mut reports = Vec::new();
    for _ in 0..2 {
        let out = run(hybridsync(home.path()).args([
            "--config",
            dir.join("hybridsync.toml").to_str().unwrap(),
            "sync",
            "run",
            "--json",
        ]));
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}\n{}", text(&out.stdout), text(&out.stderr)));
        reports.push(report);
    }
    drop(emulator);
    for report in &reports {
        let errors: Vec<&str> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].contains("hbennett@contoso.local"), "{errors:#?}");
    }
}

#[test]
fn demo_refuses_a_directory_that_is_not_a_demo() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("var-lib-hybridsync");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("hybridsync.db"), b"not a demo").unwrap();
    let out = run(hybridsync(home.path())
        .env("HYBRIDSYNC_STATE_DIR", &state)
        .args(["demo", "--unattended"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not an earlier demo's directory"));
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 1);
}

#[test]
fn demo_without_a_terminal_points_at_unattended() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).arg("demo"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--unattended"), "{stderr}");
    assert!(std::fs::read_dir(home.path()).unwrap().next().is_none());
}
