//! Two forests feeding one metaverse: objects with the same source anchor join instead of being
//! duplicated, and an object leaves the tenant only when the last forest that has it lets go.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;
use std::sync::Arc;

use hybridsync::config::model::DeleteGuard;
use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::connectors::file::ldif;
use hybridsync::engine::cycle::fingerprint;
use hybridsync::engine::expr::Params;
use hybridsync::engine::rules::{ConnectorKind, RuleSet};
use hybridsync::engine::run::{
    CycleOptions, CycleReport, Engine, EngineConnector, Role, directory_params,
};
use hybridsync::engine::store::{RunStatus, SqliteStore};

const GRACE: &str = "CN=Grace Wilson,OU=Users,OU=Seattle,OU=Contoso,DC=contoso,DC=example";

fn source(name: &str, path: &Path) -> EngineConnector {
    EngineConnector {
        connector: Arc::new(LdifConnector::source(name, ConnectorKind::Ad, path)),
        role: Role::Source,
        scope: Default::default(),
        pilot_group: None,
        delete_guard: DeleteGuard::default(),
        params: directory_params(name, "contoso.example", "contoso.example"),
    }
}

fn cycle(dir: &Path) -> CycleReport {
    let rules = RuleSet::builtin().unwrap();
    let connectors = vec![
        source("forest-a", &dir.join("a.ldif")),
        source("forest-b", &dir.join("b.ldif")),
        EngineConnector {
            connector: Arc::new(LdifConnector::target(
                "entra",
                ConnectorKind::Entra,
                &dir.join("tenant.ldif"),
            )),
            role: Role::Target,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: Params::new(),
        },
    ];
    let mut store = SqliteStore::open(&dir.join("db"), "test").unwrap();
    let mut engine = Engine::new(
        &mut store,
        &rules,
        &connectors,
        fingerprint(["r"]),
        fingerprint(["s"]),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = engine
        .run_cycle(rt.handle(), &CycleOptions::default())
        .unwrap();
    assert_eq!(r.status, RunStatus::Success, "{r:#?}");
    r
}

fn entries(path: &Path) -> Vec<ldif::Entry> {
    ldif::read_entries(&std::fs::read_to_string(path).unwrap_or_default()).unwrap()
}

fn write(path: &Path, entries: &[ldif::Entry]) {
    std::fs::write(path, ldif::write_entries(entries)).unwrap();
}

fn upns(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = entries(&dir.join("tenant.ldif"))
        .iter()
        .filter_map(|e| e.text("userPrincipalName").map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn the_same_user_in_two_forests_is_one_user_in_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        entries(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sample-directory.ldif"));
    write(&dir.path().join("a.ldif"), &sample);
    // Forest B holds Grace too (same objectGUID, as after a migration) and nothing else.
    let grace: Vec<ldif::Entry> = sample
        .iter()
        .filter(|e| e.dn.eq_ignore_ascii_case(GRACE))
        .cloned()
        .collect();
    assert_eq!(grace.len(), 1);
    write(&dir.path().join("b.ldif"), &grace);

    let first = cycle(dir.path());
    let b = first
        .connectors
        .iter()
        .find(|c| c.name == "forest-b")
        .unwrap();
    assert_eq!((b.sync.joined, b.sync.projected), (1, 0), "{first:#?}");
    let all = upns(dir.path());
    let mut deduped = all.clone();
    deduped.dedup();
    assert_eq!(all, deduped, "nobody is exported twice");
    assert!(all.contains(&"grace.wilson@contoso.example".to_string()));

    // Gone from forest A: forest B still has her, so she stays.
    let without: Vec<ldif::Entry> = sample
        .iter()
        .filter(|e| !e.dn.eq_ignore_ascii_case(GRACE))
        .cloned()
        .collect();
    write(&dir.path().join("a.ldif"), &without);
    let r = cycle(dir.path());
    let entra = r.connectors.iter().find(|c| c.name == "entra").unwrap();
    assert_eq!(entra.export.deletes, 0, "{r:#?}");
    assert!(upns(dir.path()).contains(&"grace.wilson@contoso.example".to_string()));

    // Gone from forest B too: now she leaves the tenant.
    write(&dir.path().join("b.ldif"), &[]);
    let r = cycle(dir.path());
    let entra = r.connectors.iter().find(|c| c.name == "entra").unwrap();
    assert_eq!(entra.export.deletes, 1, "{r:#?}");
    assert!(!upns(dir.path()).contains(&"grace.wilson@contoso.example".to_string()));
}
