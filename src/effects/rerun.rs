//! The rerun wizard's local effects: the pending-export count the staging page shows (the
//! database opened read-only, so a running cycle is never disturbed), the settings bundle of
//! "View configuration", and the preflight that "Refresh directory schema" and "Troubleshoot"
//! run (this very binary's `preflight --json` in a child process, the same checks as the
//! command).
//!
//! Invariants: nothing here writes except the bundle file asked for; every failure carries a fix.

use std::path::PathBuf;

use super::{CheckStatus, Failure, ObjectNote, PendingCount, PreflightCheck, PreflightResult};
use crate::config::Config;

/// The pending exports of every connector in `database`, read-only (no lock is taken, so a
/// running cycle is never disturbed).
pub fn count_pending(database: &std::path::Path) -> Result<Option<PendingCount>, Failure> {
    use crate::engine::store::{SqliteStore, Store, StoreError};
    let fail = |e: StoreError| {
        Failure::new(
            format!("cannot read the pending exports: {e}"),
            "run 'hybridsync sync pending-exports' to see them, and check the state directory",
        )
    };
    let mut store = match SqliteStore::open_read_only(database) {
        Ok(s) => s,
        Err(StoreError::Missing { .. }) => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    let tx = store.begin().map_err(fail)?;
    let mut count = PendingCount::default();
    for c in tx.connector_states().map_err(fail)? {
        let s = tx.export_summary(&c.name).map_err(fail)?;
        count.adds += s.adds;
        count.updates += s.updates + s.renames;
        count.deletes += s.deletes;
    }
    Ok(Some(count))
}

pub(crate) async fn export_config(
    config: &Config,
    path: &std::path::Path,
) -> Result<PathBuf, Failure> {
    let fail = |what: String| {
        Failure::new(
            what,
            "check that the state directory is writable, or run 'hybridsync config export --output FILE'",
        )
    };
    let host = tokio::fs::read_to_string("/proc/sys/kernel/hostname")
        .await
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let bundle = crate::config::export::export(config, std::time::SystemTime::now(), &host);
    let json = serde_json::to_string_pretty(&bundle)
        .map_err(|e| fail(format!("cannot render the settings: {e}")))?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    tokio::fs::write(path, json + "\n")
        .await
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.to_path_buf())
}

/// Runs this very binary's `preflight --json` (the same checks as the command) and reads its
/// report.
pub(crate) async fn run_preflight(
    config_path: &std::path::Path,
    state_dir: &std::path::Path,
) -> Result<PreflightResult, Failure> {
    let fix = "run 'hybridsync preflight' in a shell to see the full report";
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(format!("cannot find the hybridsync binary: {e}"), fix))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--config")
        .arg(config_path)
        .arg("--state-dir")
        .arg(state_dir)
        .args(["preflight", "--json"])
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| Failure::new(format!("the preflight stopped: {e}"), fix))?
        .map_err(|e| Failure::new(format!("cannot start the preflight: {e}"), fix))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_preflight(&text).ok_or_else(|| {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("no output");
        Failure::new(
            format!("the preflight did not produce a report: {first}"),
            fix,
        )
    })
}

/// Reads `hybridsync preflight --json` output.
pub fn parse_preflight(json: &str) -> Option<PreflightResult> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let s = |x: &serde_json::Value, k: &str| {
        x.get(k).and_then(|y| y.as_str()).unwrap_or("").to_string()
    };
    let mut r = PreflightResult::default();
    for c in v.get("checks")?.as_array()? {
        r.checks.push(PreflightCheck {
            id: s(c, "id"),
            title: s(c, "title"),
            status: match c.get("status").and_then(|x| x.as_str()) {
                Some("pass") => CheckStatus::Pass,
                Some("fail") => CheckStatus::Fail,
                _ => CheckStatus::Warn,
            },
            found: s(c, "found"),
            fix: s(c, "fix"),
        });
    }
    for forest in v
        .get("readiness")
        .and_then(|x| x.as_array())
        .into_iter()
        .flatten()
    {
        for i in forest
            .get("issues")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            r.objects.push(ObjectNote {
                dn: s(i, "dn"),
                text: format!(
                    "{}: {} ({})",
                    s(i, "attribute"),
                    s(i, "problem"),
                    s(i, "fix")
                ),
                error: s(i, "severity") == "error",
            });
        }
        for f in forest
            .get("filtered")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            r.objects.push(ObjectNote {
                dn: s(f, "dn"),
                text: format!("not synchronized: {}", s(f, "reason")),
                error: true,
            });
        }
    }
    Some(r)
}
