//! The Microsoft Graph side, measured against the local tenant emulator with Graph's throttling
//! in force (issue 7):
//!
//! 1. **Export rate.** 10,000 users + 1,000 groups (10 members each) from an LDIF directory
//!    through the engine and the Graph connector into the emulator, whose write limit is Graph's
//!    (3,000 writes per 150 s per application and tenant) with time scaled by
//!    `HYBRIDSYNC_BENCH_TIME_SCALE` (default 0.1: 3,000 per 15 s); the connector paces for the
//!    same limit. Prints the write rate achieved as a share of the allowed rate and the share of
//!    requests Graph throttled.
//! 2. **Delta end to end.** `HYBRIDSYNC_BENCH_DELTA_USERS` (default 20,000) users in the Samba
//!    AD DC of the test harness (needs root), synced to the emulator by `hybridsync sync run`;
//!    then 10 changes in AD and one `hybridsync sync run --delta`, timed as a whole (process
//!    start to exit).
//!
//! `cargo bench --bench graph` (both), `-- export` or `-- delta` (one). Sizes:
//! HYBRIDSYNC_BENCH_USERS, HYBRIDSYNC_BENCH_GROUPS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

#[path = "../support/e2e.rs"]
mod e2e;
#[path = "../support/emulator.rs"]
mod emulator;
#[path = "../support/samba.rs"]
mod samba;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hybridsync::config::model::DeleteGuard;
use hybridsync::connectors::entra::{
    CertificateCredential, ClientCredential, EntraConnector, EntraOptions, ExportPolicy,
    RetryPolicy, WriteLimit,
};
use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::emulator::faults::FaultConfig;
use hybridsync::engine::cycle::{Requested, fingerprint};
use hybridsync::engine::expr::Params;
use hybridsync::engine::rules::{ConnectorKind, RuleSet};
use hybridsync::engine::run::{
    CycleOptions, Engine, EngineConnector, ExportMode, Role, directory_params,
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

const BASE: &str = "OU=Staff,DC=bench,DC=example";

/// Users in a verified domain, groups of 10 members.
fn directory(users: usize, groups: usize) -> String {
    let mut out = String::with_capacity(users * 350);
    let _ = writeln!(out, "version: 1\n");
    for i in 0..users {
        let _ = writeln!(
            out,
            "dn: CN=User {i:06},{BASE}\nobjectClass: user\ncn: User {i:06}\nsAMAccountName: u{i:06}\nuserPrincipalName: u{i:06}@bench.example\ngivenName: Given{i}\nsn: Family{i}\ndisplayName: User {i:06}\ndepartment: Dept {}\nuserAccountControl: 512\nobjectGUID:: {}\n",
            i % 40,
            guid(i, 1)
        );
    }
    for g in 0..groups {
        let _ = writeln!(
            out,
            "dn: CN=Group {g:05},{BASE}\nobjectClass: group\ncn: Group {g:05}\nsAMAccountName: g{g:05}\ngroupType: -2147483646\nobjectGUID:: {}",
            guid(g, 2)
        );
        for k in 0..10 {
            let _ = writeln!(
                out,
                "member: CN=User {:06},{BASE}",
                (g * 7 + k * 13) % users
            );
        }
        out.push('\n');
    }
    out
}

fn export_rate() {
    let users = size("HYBRIDSYNC_BENCH_USERS", 10_000);
    let groups = size("HYBRIDSYNC_BENCH_GROUPS", 1_000);
    let scale: f64 = std::env::var("HYBRIDSYNC_BENCH_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(emulator::start_with(|c| {
        c.domains = vec!["bench.example".into()];
        c.faults = FaultConfig {
            time_scale: scale,
            ..FaultConfig::default()
        };
    }));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("forest.ldif"), directory(users, groups)).unwrap();
    let a = &emu.b.application;
    let window = Duration::from_secs_f64(150.0 * scale);
    let graph = Arc::new(
        EntraConnector::new(EntraOptions {
            name: "entra".into(),
            tenant: emu.b.tenant_id.clone(),
            authority_host: emu.b.base_url.clone(),
            graph_base: emu.b.graph_base_url.clone(),
            scope: "https://graph.microsoft.com/.default".into(),
            ca_file: emu.b.ca_file.clone(),
            client_id: a.client_id.clone(),
            credential: ClientCredential::Certificate(
                CertificateCredential::from_pem(&format!(
                    "{}\n{}",
                    a.certificate_pem, a.private_key_pem
                ))
                .unwrap(),
            ),
            policy: ExportPolicy { soft_match: true },
            write_limit: WriteLimit {
                requests: 3000,
                window,
                ..WriteLimit::default()
            },
            retry: RetryPolicy::default(),
            extensions: Vec::new(),
        })
        .unwrap(),
    );
    let connectors = vec![
        EngineConnector {
            connector: Arc::new(LdifConnector::source(
                "bench.example",
                ConnectorKind::Ad,
                &dir.path().join("forest.ldif"),
            )),
            role: Role::Source,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: directory_params("bench.example", "bench.example", "bench.example"),
        },
        EngineConnector {
            connector: graph.clone(),
            role: Role::Target,
            scope: Default::default(),
            pilot_group: None,
            delete_guard: DeleteGuard::default(),
            params: Params::new(),
        },
    ];
    let rules = RuleSet::builtin().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("bench.db"), "bench").unwrap();
    let mut engine = Engine::new(
        &mut store,
        &rules,
        &connectors,
        fingerprint(["r"]),
        fingerprint(["s"]),
    )
    .unwrap();
    let options = CycleOptions {
        requested: Requested::Full,
        export: ExportMode::Send,
        ..CycleOptions::default()
    };
    let report = engine.run_cycle(rt.handle(), &options).unwrap();
    let (requests, writes, throttled, retries) = graph.client().stats.snapshot();
    let export = report.stages.export.as_secs_f64();
    let allowed = 3000.0 / window.as_secs_f64();
    let entra = &report.connectors[1];
    println!(
        "export of {users} users + {groups} groups to the emulator (Graph's write limit, time x{scale}: {allowed:.0} writes/s allowed): {} adds, {} updates, {} failed, {} errors in {export:.1} s; {writes} writes = {:.0} writes/s = {:.1}% of the allowed rate; {requests} Graph requests ({} reads), {throttled} throttled ({:.2}%), {retries} retries",
        entra.export.adds,
        entra.export.updates,
        entra.export.failed,
        report.error_count,
        writes as f64 / export,
        100.0 * writes as f64 / export / allowed,
        requests - writes,
        100.0 * throttled as f64 / requests.max(1) as f64,
    );
    let mut kinds: Vec<String> = Vec::new();
    for e in &report.errors {
        let head: String = e.message.chars().take(160).collect();
        if !kinds
            .iter()
            .any(|k| k[..40.min(k.len())] == head[..40.min(head.len())])
        {
            kinds.push(head);
        }
    }
    for k in kinds.iter().take(5) {
        println!("  error: {k}");
    }
    rt.block_on(emu.running.shutdown()).unwrap();
}

fn delta_end_to_end() {
    let users = size("HYBRIDSYNC_BENCH_DELTA_USERS", 20_000);
    let dc = samba::SambaDc::shared();
    let ou = dc.fresh_ou("bench-delta");
    let t = Instant::now();
    for chunk in 0..users.div_ceil(5000) {
        dc.add_users(&ou, (users - chunk * 5000).min(5000));
    }
    println!(
        "{users} users added to the DC in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let lab = e2e::Lab::new(e2e::Setup {
        scope: &e2e::ou_scope(&ou),
        tenant: "write_limit = { requests = 3000, window = \"3s\" }",
        faults: FaultConfig {
            time_scale: 0.02,
            ..FaultConfig::default()
        },
        ..e2e::Setup::default()
    });
    let t = Instant::now();
    let full = lab.sync(&["--full"], 0);
    println!(
        "full cycle (DC -> emulator, time x0.02): {:.0} s, {} adds",
        t.elapsed().as_secs_f64(),
        e2e::entra(&full)["export"]["adds"]
    );
    let settle = Instant::now();
    lab.sync(&["--delta"], 0);
    println!(
        "confirming delta cycle: {:.1} s",
        settle.elapsed().as_secs_f64()
    );
    let first: Vec<String> = lab
        .dc
        .ldap_search(&ou, "(objectClass=user)", &["dn"])
        .lines()
        .filter_map(|l| l.strip_prefix("dn: ").map(str::to_string))
        .take(10)
        .collect();
    let ldif: String = first
        .iter()
        .map(|dn| {
            format!("dn: {dn}\nchangetype: modify\nreplace: department\ndepartment: Changed\n-\n\n")
        })
        .collect();
    lab.dc.ldif_modify(&ldif);
    let t = Instant::now();
    let delta = lab.sync(&["--delta"], 0);
    let elapsed = t.elapsed().as_secs_f64();
    println!(
        "delta cycle with 10 changes on {users} synced users, end to end (process start to exit): {elapsed:.2} s; engine stages (ms) {}; {} updates exported",
        delta["stages_ms"],
        e2e::entra(&delta)["export"]["updates"]
    );
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if want("export") {
        export_rate();
    }
    if want("delta") {
        delta_end_to_end();
    }
}
