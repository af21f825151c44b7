//! Engine throughput: a full cycle over a generated forest (default 100,000 users and 10,000
//! groups, one of them with 50,000 members), then a delta cycle after one member of the large
//! group changes, then a full cycle again with nothing changed (the re-evaluation a rule change
//! causes). Prints objects per second per stage and the peak memory (VmHWM); for the sync
//! stage also per second of its CPU time (per core: the stage is single-threaded, and on a busy
//! machine its wall time includes waiting for a core). Exports go
//! to an LDIF tenant in batches of 10,000 (the file target rewrites its file per batch, so its
//! export figure is the file's, not Graph's); the delta cycle then works on exported objects.
//!
//! `cargo bench --bench engine`; sizes: HYBRIDSYNC_BENCH_USERS, HYBRIDSYNC_BENCH_GROUPS;
//! HYBRIDSYNC_BENCH_PAGE sets the objects per transaction (the engine's default otherwise);
//! HYBRIDSYNC_BENCH_FULL_ONLY=1 stops after the full cycle (for a profile of it alone).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use hybridsync::config::model::DeleteGuard;
use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::engine::cycle::{Requested, fingerprint};
use hybridsync::engine::expr::Params;
use hybridsync::engine::rules::{ConnectorKind, RuleSet};
use hybridsync::engine::run::{
    CycleOptions, CycleReport, Engine, EngineConnector, ExportMode, Role, directory_params,
};
use hybridsync::engine::store::SqliteStore;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn guid(n: usize, kind: u8) -> String {
    let mut b = [0u8; 16];
    b[0] = kind;
    b[8..].copy_from_slice(&(n as u64).to_le_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)
}

const BASE: &str = "OU=Staff,DC=contoso,DC=example";

fn user_dn(i: usize) -> String {
    format!("CN=User {i:06},{BASE}")
}

/// The forest as LDIF; `big_extra` adds one more member to the large group.
fn forest(users: usize, groups: usize, big_extra: bool) -> String {
    let mut out = String::with_capacity(users * 400);
    let _ = writeln!(out, "version: 1\n");
    let _ = writeln!(
        out,
        "dn: {BASE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: Staff\nobjectGUID:: {}\n",
        guid(0, 9)
    );
    for i in 0..users {
        let _ = writeln!(
            out,
            "dn: {}\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\ncn: User {i:06}\nsAMAccountName: u{i:06}\nuserPrincipalName: u{i:06}@contoso.example\ngivenName: Given{i}\nsn: Family{i}\ndisplayName: User {i:06}\nmail: u{i:06}@contoso.example\ndepartment: Dept {}\nuserAccountControl: 512\nobjectGUID:: {}\nobjectSid:: {}\n",
            user_dn(i),
            i % 40,
            guid(i, 1),
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                [
                    &[1u8, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0][..],
                    &[7u8; 12],
                    &(1000 + i as u32).to_le_bytes()
                ]
                .concat()
            )
        );
    }
    let big = users.min(50_000);
    for g in 0..groups {
        let _ = writeln!(
            out,
            "dn: CN=Group {g:05},{BASE}\nobjectClass: top\nobjectClass: group\ncn: Group {g:05}\nsAMAccountName: g{g:05}\ngroupType: -2147483646\nobjectGUID:: {}",
            guid(g, 2)
        );
        let members: Vec<usize> = if g == 0 {
            (0..big - 1).chain(big_extra.then_some(big - 1)).collect()
        } else {
            (0..10).map(|k| (g * 7 + k * 13) % users).collect()
        };
        for m in members {
            let _ = writeln!(out, "member: {}", user_dn(m));
        }
        out.push('\n');
    }
    out
}

fn cycle(dir: &std::path::Path, requested: Requested) -> CycleReport {
    let rules = RuleSet::builtin().unwrap();
    let connectors = vec![
        EngineConnector {
            connector: Arc::new(LdifConnector::source(
                "contoso.example",
                ConnectorKind::Ad,
                &dir.join("forest.ldif"),
            )),
            role: Role::Source,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: directory_params("contoso.example", "contoso.example", "contoso.example"),
        },
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
    let mut store = SqliteStore::open(&dir.join("bench.db"), "bench").unwrap();
    let mut engine = Engine::new(
        &mut store,
        &rules,
        &connectors,
        fingerprint(["r"]),
        fingerprint(["s"]),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let options = CycleOptions {
        requested,
        export: ExportMode::Send,
        export_batch: 10_000,
        page_size: size("HYBRIDSYNC_BENCH_PAGE", CycleOptions::default().page_size),
        ..CycleOptions::default()
    };
    engine.run_cycle(rt.handle(), &options).unwrap()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let users = size("HYBRIDSYNC_BENCH_USERS", 100_000);
    let groups = size("HYBRIDSYNC_BENCH_GROUPS", 10_000);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("forest.ldif"), forest(users, groups, false)).unwrap();
    let objects = (users + groups) as f64;

    let t = Instant::now();
    let full = cycle(dir.path(), Requested::Full);
    let ad = &full.connectors[0];
    let entra = &full.connectors[1];
    println!(
        "full cycle, {users} users + {groups} groups: {:.1} s total; import {:.1} s ({:.0} objects/s), sync {:.1} s ({:.0} objects/s; {} per core: {}), export to the LDIF file {:.1} s; {} projected, {} exported, {} errors; peak memory {:.0} MiB",
        t.elapsed().as_secs_f64(),
        full.stages.import.as_secs_f64(),
        objects / full.stages.import.as_secs_f64(),
        full.stages.sync.as_secs_f64(),
        objects / full.stages.sync.as_secs_f64(),
        full.stages
            .sync_cpu
            .map_or("CPU time unknown".to_string(), |c| format!(
                "{:.1} s CPU",
                c.as_secs_f64()
            )),
        full.stages.sync_cpu.map_or("-".to_string(), |c| format!(
            "{:.0} objects/s",
            objects / c.as_secs_f64()
        )),
        full.stages.export.as_secs_f64(),
        ad.sync.projected,
        entra.export.adds,
        full.error_count,
        peak_rss_mib()
    );

    if std::env::var_os("HYBRIDSYNC_BENCH_FULL_ONLY").is_some() {
        // For profiling the full cycle alone.
        return;
    }
    // The confirming import of the export (the first delta after it) settles every object once.
    let settle = cycle(dir.path(), Requested::Delta);
    println!(
        "confirming delta cycle after the export: {:.1} s (sync {:.1} s over {} tenant objects)",
        settle.duration.as_secs_f64(),
        settle.stages.sync.as_secs_f64(),
        settle.connectors[1].sync.processed
    );

    // One member more in the 50,000-member group.
    std::fs::write(dir.path().join("forest.ldif"), forest(users, groups, true)).unwrap();
    let delta = cycle(dir.path(), Requested::Delta);
    let ad = &delta.connectors[0];
    println!(
        "delta cycle after one member change in a {}-member group: sync processed {} source object(s) and {} tenant object(s) in {:.1} ms (import of both whole LDIF files: {:.1} s); {} update(s) exported",
        users.min(50_000),
        ad.sync.processed,
        delta.connectors[1].sync.processed,
        delta.stages.sync.as_secs_f64() * 1000.0,
        delta.stages.import.as_secs_f64(),
        delta.connectors[1].export.updates
    );

    // A full cycle over the synchronized directory (as after a rule change that changes no
    // value): every object is read and re-evaluated, and nothing needs writing.
    let again = cycle(dir.path(), Requested::Full);
    println!(
        "full cycle again, nothing changed: sync {:.1} s ({}; {} objects, {} update(s) exported)",
        again.stages.sync.as_secs_f64(),
        again
            .stages
            .sync_cpu
            .map_or("CPU time unknown".to_string(), |c| format!(
                "{:.1} s CPU, {:.0} objects/s per core",
                c.as_secs_f64(),
                objects / c.as_secs_f64()
            )),
        again.connectors[0].sync.processed,
        again.connectors[1].export.updates
    );
}
