//! Crash safety: the process is killed (SIGKILL) in the middle of an export, by a target that
//! stalls inside a batch, then the next run reconciles and finishes. Each object must exist in
//! the target exactly once and nothing may be missing.
//!
//! The test re-runs its own binary as the child that crashes (`HYBRIDSYNC_CRASH_CHILD` names
//! the lab directory), so the kill is a real process death with the database mid-use, not a
//! simulated error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hybridsync::config::model::DeleteGuard;
use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::connectors::file::ldif;
use hybridsync::engine::connector::{
    BoxFuture, Capabilities, Connector, ConnectorError, ImportSink, ImportSummary, SchemaClass,
    Watermark,
};
use hybridsync::engine::cycle::{Requested, fingerprint};
use hybridsync::engine::expr::Params;
use hybridsync::engine::model::{ConnectorName, ExportResult, PendingExport};
use hybridsync::engine::rules::{ConnectorKind, RuleSet};
use hybridsync::engine::run::{
    CycleOptions, CycleReport, Engine, EngineConnector, Role, directory_params,
};
use hybridsync::engine::store::{RunStatus, SqliteStore};

/// Where a stalling target stops: before or after the batch reached the file.
#[derive(Clone, Copy, PartialEq)]
enum Stall {
    BeforeWrite,
    AfterWrite,
}

/// An LDIF tenant that hangs forever in its second export batch.
struct StallingTarget {
    inner: LdifConnector,
    calls: AtomicUsize,
    stall: Stall,
    marker: PathBuf,
}

impl Connector for StallingTarget {
    fn name(&self) -> &ConnectorName {
        self.inner.name()
    }
    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn schema(&self) -> BoxFuture<'_, Result<Vec<SchemaClass>, ConnectorError>> {
        self.inner.schema()
    }
    fn full_import<'a>(
        &'a self,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        self.inner.full_import(sink)
    }
    fn delta_import<'a>(
        &'a self,
        since: &'a Watermark,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        self.inner.delta_import(since, sink)
    }
    fn export<'a>(
        &'a self,
        batch: &'a [PendingExport],
    ) -> BoxFuture<'a, Result<Vec<ExportResult>, ConnectorError>> {
        Box::pin(async move {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if call == 1 {
                if self.stall == Stall::AfterWrite {
                    self.inner.export(batch).await?;
                }
                std::fs::write(&self.marker, b"stalled").unwrap();
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            self.inner.export(batch).await
        })
    }
}

fn params() -> Params {
    directory_params("contoso.example", "contoso.example", "contoso.example")
}

fn run(dir: &Path, target: Arc<dyn Connector>) -> CycleReport {
    let rules = RuleSet::builtin().unwrap();
    let connectors = vec![
        EngineConnector {
            connector: Arc::new(LdifConnector::source(
                "contoso.example",
                ConnectorKind::Ad,
                &dir.join("source.ldif"),
            )),
            role: Role::Source,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: params(),
        },
        EngineConnector {
            connector: target,
            role: Role::Target,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: Params::new(),
        },
    ];
    let mut store = SqliteStore::open(&dir.join("hybridsync.db"), "test").unwrap();
    let mut engine = Engine::new(
        &mut store,
        &rules,
        &connectors,
        fingerprint(["rules"]),
        fingerprint(["scope"]),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let options = CycleOptions {
        requested: Requested::Auto,
        export_batch: 40,
        ..CycleOptions::default()
    };
    engine.run_cycle(rt.handle(), &options).unwrap()
}

fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sample-directory.ldif"),
        dir.path().join("source.ldif"),
    )
    .unwrap();
    dir
}

fn tenant(dir: &Path) -> Vec<ldif::Entry> {
    let text = std::fs::read_to_string(dir.join("tenant.ldif")).unwrap_or_default();
    ldif::read_entries(&text).unwrap()
}

/// Tenant objects by a key that identifies them (immutable id for users, display name for
/// groups), with how often each occurs.
fn census(dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in tenant(dir) {
        let key = e
            .text("onPremisesImmutableId")
            .or_else(|| e.text("displayName"))
            .unwrap_or(&e.dn)
            .to_string();
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

fn child(dir: &Path, stall: Stall) {
    let target = StallingTarget {
        inner: LdifConnector::target("entra", ConnectorKind::Entra, &dir.join("tenant.ldif")),
        calls: AtomicUsize::new(0),
        stall,
        marker: dir.join("stalled"),
    };
    run(dir, Arc::new(target));
    panic!("the stalling target should have hung the export");
}

fn crash_and_recover(test: &str, stall: Stall) {
    if let Ok(dir) = std::env::var("HYBRIDSYNC_CRASH_CHILD") {
        child(Path::new(&dir), stall);
        return;
    }
    // What a run without a crash produces.
    let clean = lab();
    let target = LdifConnector::target(
        "entra",
        ConnectorKind::Entra,
        &clean.path().join("tenant.ldif"),
    );
    let report = run(clean.path(), Arc::new(target));
    assert_eq!(report.status, RunStatus::Success, "{report:#?}");
    let expected = census(clean.path());
    assert!(expected.values().all(|n| *n == 1));

    let dir = lab();
    let mut process = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("HYBRIDSYNC_CRASH_CHILD", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.path().join("stalled").exists() {
        if let Some(status) = process.try_wait().unwrap() {
            panic!("the child exited ({status}) before stalling in its export");
        }
        assert!(
            Instant::now() < deadline,
            "the child never reached its export"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    process.kill().unwrap(); // SIGKILL: no destructor, no rollback, no goodbye
    process.wait().unwrap();
    let before = census(dir.path());
    assert!(
        !before.is_empty(),
        "the first batch reached the tenant before the crash"
    );
    assert!(
        before.len() < expected.len(),
        "the crash left the export unfinished"
    );

    let target = LdifConnector::target(
        "entra",
        ConnectorKind::Entra,
        &dir.path().join("tenant.ldif"),
    );
    let report = run(dir.path(), Arc::new(target));
    assert_eq!(report.status, RunStatus::Success, "{report:#?}");
    let entra = report
        .connectors
        .iter()
        .find(|c| c.name == "entra")
        .unwrap();
    if stall == Stall::AfterWrite {
        assert_eq!(
            entra.export.recovered, 40,
            "the stalled batch had reached the tenant"
        );
    } else {
        assert_eq!(entra.export.recovered, 0);
    }
    let after = census(dir.path());
    let duplicated: Vec<_> = after.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "created twice: {duplicated:?}");
    assert_eq!(
        after, expected,
        "every object exactly once, nothing missing"
    );

    // And a further cycle finds nothing left to do.
    let target = LdifConnector::target(
        "entra",
        ConnectorKind::Entra,
        &dir.path().join("tenant.ldif"),
    );
    let report = run(dir.path(), Arc::new(target));
    let entra = report
        .connectors
        .iter()
        .find(|c| c.name == "entra")
        .unwrap();
    assert_eq!(
        (
            entra.export.adds,
            entra.export.updates,
            entra.export.deletes
        ),
        (0, 0, 0)
    );
}

#[test]
fn killed_after_the_target_applied_a_batch() {
    crash_and_recover("killed_after_the_target_applied_a_batch", Stall::AfterWrite);
}

#[test]
fn killed_before_the_target_applied_a_batch() {
    crash_and_recover(
        "killed_before_the_target_applied_a_batch",
        Stall::BeforeWrite,
    );
}
