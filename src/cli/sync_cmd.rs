//! `hybridsync sync ...` commands that read the engine's store.
//!
//! Invariants: these commands open the database read-only (no lock, no writes), so they work while
//! a cycle runs and can never disturb it; a machine where no cycle has run yet has no database,
//! which is reported as "nothing yet", not as an error.

use std::path::PathBuf;

use crate::cli::args::PendingExportsArgs;
use crate::cli::config_cmd::load_or_report;
use crate::cli::{Global, Outcome, exit};
use crate::config::Config;
use crate::engine::model::ConnectorName;
use crate::engine::report;
use crate::engine::store::{SqliteStore, Store, StoreError};

/// The database file: `store.path`, inside the state directory when relative.
pub(crate) fn database(g: &Global, c: &Config) -> PathBuf {
    let path = &c.store.path;
    if path.is_absolute() {
        path.clone()
    } else {
        g.state_dir(Some(c)).join(path)
    }
}

/// A reporting command's store, or the exit code when there is nothing to read.
enum Reading {
    Store(SqliteStore),
    Done(u8),
}

/// Open the store read-only for a reporting command. A configuration with errors prints them
/// (exit 3); a machine where no cycle has run yet says `nothing` and why (or prints `[]` for
/// JSON) and exits 0.
fn open_for_reading(g: &Global, json: bool, nothing: &str) -> anyhow::Result<Reading> {
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Ok(Reading::Done(exit::CONFIG));
    };
    let db = database(g, &loaded.config);
    match SqliteStore::open_read_only(&db) {
        Ok(s) => Ok(Reading::Store(s)),
        Err(StoreError::Missing { .. }) => {
            if json {
                println!("[]");
            } else {
                println!(
                    "{nothing}: no synchronization has run yet ('{}' does not exist)",
                    db.display()
                );
            }
            Ok(Reading::Done(exit::SUCCESS))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn pending_exports(g: &Global, a: &PendingExportsArgs) -> Outcome {
    let mut store = match open_for_reading(g, a.json, "no pending exports")? {
        Reading::Store(s) => s,
        Reading::Done(code) => return Ok(code),
    };
    let connector = a.connector.as_deref().map(ConnectorName::new);
    let tx = store.begin()?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = tx.pending_exports(connector.as_ref(), after, 1000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report::to_json(&all))?);
    } else {
        print!("{}", report::table(&all));
    }
    Ok(exit::SUCCESS)
}

/// How many per-object errors `sync history` shows per run.
const ERRORS_PER_RUN: usize = 20;

pub(crate) fn history(g: &Global, count: usize, json: bool) -> Outcome {
    let mut store = match open_for_reading(g, json, "no runs yet")? {
        Reading::Store(s) => s,
        Reading::Done(code) => return Ok(code),
    };
    let tx = store.begin()?;
    let runs = tx.recent_runs(count, ERRORS_PER_RUN)?;
    if json {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id.0,
                    "profile": r.profile,
                    "connectors": r.connectors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "per_connector": r.per_connector.iter().map(|(n, c)| serde_json::json!({
                        "connector": n.to_string(),
                        "adds": c.adds, "updates": c.updates, "deletes": c.deletes,
                        "errors": c.errors, "filtered": c.filtered,
                    })).collect::<Vec<_>>(),
                    "started_at": r.started_at.format("o").ok(),
                    "finished_at": r.finished_at.and_then(|t| t.format("o").ok()),
                    "status": r.status.as_str(),
                    "adds": r.counts.adds,
                    "updates": r.counts.updates,
                    "deletes": r.counts.deletes,
                    "errors": r.counts.errors,
                    "filtered": r.counts.filtered,
                    "duration_ms": r.duration.map(|d| d.as_millis() as u64),
                    "message": r.message,
                    "object_errors": r.errors.iter().map(|e| serde_json::json!({
                        "connector": e.connector.to_string(),
                        "dn": e.dn.as_ref().map(ToString::to_string),
                        "anchor": e.anchor.as_ref().map(ToString::to_string),
                        "attribute": e.attribute.as_ref().map(ToString::to_string),
                        "message": e.message,
                    })).collect::<Vec<_>>(),
                    "stored_errors": r.stored_errors,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(exit::SUCCESS);
    }
    if runs.is_empty() {
        println!("no runs yet");
        return Ok(exit::SUCCESS);
    }
    for r in &runs {
        let connectors: Vec<String> = r.connectors.iter().map(ToString::to_string).collect();
        let duration = r
            .duration
            .map(|d| format!(", {:.1} s", d.as_secs_f64()))
            .unwrap_or_default();
        println!(
            "#{} {} {} [{}] {}{duration}: {} added, {} updated, {} deleted, {} errors, {} filtered",
            r.id.0,
            r.started_at,
            r.profile,
            connectors.join(", "),
            r.status.as_str(),
            r.counts.adds,
            r.counts.updates,
            r.counts.deletes,
            r.counts.errors,
            r.counts.filtered
        );
        if let Some(m) = &r.message {
            println!("    {m}");
        }
        for (name, c) in &r.per_connector {
            if (c.adds, c.updates, c.deletes, c.errors, c.filtered) != (0, 0, 0, 0, 0) {
                println!(
                    "    {name}: {} added, {} updated, {} deleted, {} errors, {} filtered",
                    c.adds, c.updates, c.deletes, c.errors, c.filtered
                );
            }
        }
        for e in &r.errors {
            let place =
                e.dn.as_ref()
                    .map(ToString::to_string)
                    .or_else(|| e.anchor.as_ref().map(ToString::to_string))
                    .unwrap_or_default();
            let attr = e
                .attribute
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default();
            println!("    {} {place}{attr}: {}", e.connector, e.message);
        }
        if r.stored_errors > r.errors.len() as u64 {
            println!(
                "    ... {} more errors ('--json' lists the first {ERRORS_PER_RUN})",
                r.stored_errors - r.errors.len() as u64
            );
        }
    }
    Ok(exit::SUCCESS)
}

pub(crate) fn allow_deletes(g: &Global, connector: Option<&str>) -> Outcome {
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Ok(exit::CONFIG);
    };
    let db = database(g, &loaded.config);
    if !db.exists() {
        println!(
            "nothing to release: no synchronization has run yet ('{}' does not exist)",
            db.display()
        );
        return Ok(exit::SUCCESS);
    }
    let name = ConnectorName::new(connector.unwrap_or("entra"));
    let mut store = match SqliteStore::open(&db, "sync allow-deletes") {
        Ok(s) => s,
        Err(e @ StoreError::Locked { .. }) => {
            eprintln!("{e}");
            return Ok(exit::BUSY);
        }
        Err(e) => return Err(e.into()),
    };
    let mut tx = store.begin()?;
    tx.grant_delete_release(&name, crate::engine::expr::DateTime::now())?;
    let summary = tx.export_summary(&name)?;
    tx.commit()?;
    println!(
        "the next export to {name} may delete {} object(s) even above the delete threshold; the release is used up by that one export",
        summary.deletes
    );
    Ok(exit::SUCCESS)
}

/// The AD connector of a `[[directories]]` table, with the account's password from the
/// credential store.
pub(crate) fn ad_connector(
    g: &Global,
    c: &Config,
    d: &crate::config::model::Directory,
) -> Result<crate::connectors::ad::AdConnector, String> {
    use crate::connectors::ad::{AdConnector, AdOptions};
    let store =
        crate::cli::secrets_cmd::open_store(g, Some(c), &g.state_dir(Some(c))).map_err(|e| {
            format!(
                "directory '{}': cannot open the credential store: {e:#}",
                d.connector()
            )
        })?;
    let password = store.resolve(&d.account.secret_ref).map_err(|e| {
        format!(
            "directory '{}': cannot read the password of the connector account '{}': {e}",
            d.connector(),
            d.account.username
        )
    })?;
    let options = AdOptions::from_directory(d, password)
        .map_err(|e| format!("directory '{}': {e}", d.connector()))?;
    Ok(AdConnector::new(options))
}

/// The Microsoft Graph connector's options for `[tenant]`, with the certificate or secret from
/// the credential store.
pub(crate) fn entra_options(
    g: &Global,
    c: &Config,
    resolve: &dyn Fn(&std::path::Path) -> PathBuf,
) -> Result<crate::connectors::entra::EntraOptions, String> {
    use crate::connectors::entra::{CertificateCredential, ClientCredential, EntraOptions};
    let app = &c.tenant.application;
    let store = crate::cli::secrets_cmd::open_store(g, Some(c), &g.state_dir(Some(c)))
        .map_err(|e| format!("[tenant]: cannot open the credential store: {e:#}"))?;
    let credential = match (&app.certificate_ref, &app.client_secret_ref) {
        (Some(r), _) => {
            let pem = store.resolve(r).map_err(|e| {
                format!("[tenant.application] certificate_ref: cannot read the certificate: {e}")
            })?;
            ClientCredential::Certificate(
                CertificateCredential::from_pem(pem.expose())
                    .map_err(|e| format!("[tenant.application] certificate_ref: {e}"))?,
            )
        }
        (None, Some(r)) => ClientCredential::Secret(store.resolve(r).map_err(|e| {
            format!("[tenant.application] client_secret_ref: cannot read the client secret: {e}")
        })?),
        (None, None) => {
            return Err(
                "[tenant.application] has neither certificate_ref nor client_secret_ref; store the application's certificate (hybridsync secrets set <name>) and set certificate_ref = \"store:<name>\""
                    .into(),
            );
        }
    };
    let mut tenant = c.tenant.clone();
    tenant.ca_file = tenant.ca_file.as_deref().map(resolve);
    let mut options = EntraOptions::from_tenant(TENANT_CONNECTOR, &tenant, credential);
    options.extensions = directory_extensions(c)
        .into_iter()
        .filter_map(|e| {
            Some(crate::connectors::entra::DirectoryExtension {
                kind: crate::connectors::entra::mapping::Kind::of_class(&e.object_type)?,
                name: e.attribute.as_str().to_string(),
            })
        })
        .collect();
    Ok(options)
}

/// The Microsoft Graph connector of `[tenant]`, signed in with the certificate or secret from
/// the credential store.
fn entra_connector(
    g: &Global,
    c: &Config,
    resolve: &dyn Fn(&std::path::Path) -> PathBuf,
) -> Result<crate::connectors::entra::EntraConnector, String> {
    crate::connectors::entra::EntraConnector::new(entra_options(g, c, resolve)?)
        .map_err(|e| format!("[tenant]: {e}"))
}

/// The directory extension attributes of `[features.directory_extensions]`, when it is on.
fn directory_extensions(c: &Config) -> Vec<crate::engine::rules::ExtensionAttribute> {
    let de = &c.features.directory_extensions;
    if !de.enabled {
        return Vec::new();
    }
    de.attributes
        .iter()
        .filter_map(|a| crate::engine::rules::ExtensionAttribute::parse(a))
        .collect()
}

/// The connectors a configuration describes, or why they cannot run yet.
fn engine_connectors(
    g: &Global,
    c: &Config,
) -> Result<Vec<crate::engine::run::EngineConnector>, String> {
    use crate::connectors::file::connector::LdifConnector;
    use crate::engine::rules::ConnectorKind;
    use crate::engine::run::{EngineConnector, Role, directory_params};
    use std::sync::Arc;
    let base = g
        .config_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let resolve = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let mut out = Vec::new();
    for d in &c.directories {
        let connector: Arc<dyn crate::engine::connector::Connector> = match &d.ldif_file {
            Some(file) => Arc::new(LdifConnector::source(
                d.connector(),
                ConnectorKind::Ad,
                &resolve(file),
            )),
            None => Arc::new(ad_connector(g, c, d)?),
        };
        out.push(EngineConnector {
            connector,
            role: Role::Source,
            scope: d.scope.clone(),
            pilot_group: d.pilot_group.as_ref().map(|p| p.dn.clone()),
            delete_guard: d
                .delete_guard
                .clone()
                .unwrap_or_else(|| c.sync.delete_guard.clone()),
            params: directory_params(d.connector(), &d.forest, &d.forest),
        });
    }
    let connector: Arc<dyn crate::engine::connector::Connector> = match &c.tenant.ldif_file {
        Some(file) => Arc::new(LdifConnector::target(
            TENANT_CONNECTOR,
            ConnectorKind::Entra,
            &resolve(file),
        )),
        None => Arc::new(entra_connector(g, c, &resolve)?),
    };
    out.push(EngineConnector {
        connector,
        role: Role::Target,
        scope: Default::default(),
        pilot_group: None,
        delete_guard: c.sync.delete_guard.clone(),
        params: crate::engine::expr::Params::new(),
    });
    Ok(out)
}

/// The source attributes that never reach the rules, as (class, attribute) pairs: app and
/// attribute filtering ([`crate::config::apps::effective_excluded`]: the cleared attributes and
/// those only unchosen cloud services use), and `mS-DS-ConsistencyGuid` while the source anchor
/// is `objectGUID` (the shipped rules prefer a populated consistency guid, which must not
/// become the anchor unless it is configured as such).
fn excluded_attributes(c: &Config) -> Vec<(String, crate::domain::AttributeName)> {
    // wizfeatures: apps are honoured; the objectGUID anchor ignores mS-DS-ConsistencyGuid.
    let mut out = crate::config::apps::effective_excluded(&c.features.app_and_attribute_filtering);
    if c.identity.source_anchor.eq_ignore_case("objectGUID") {
        // `user` covers inetOrgPerson too.
        out.push((
            "user".to_string(),
            crate::domain::AttributeName::known("mS-DS-ConsistencyGuid"),
        ));
    }
    out
}

/// The tenant's connector name in status, history and `--connector`.
pub(crate) const TENANT_CONNECTOR: &str = "entra";

/// Why a cycle could not start.
pub(crate) enum CycleFailure {
    /// The configuration or the rules have errors (already printed): exit 3.
    Config,
    /// A configured connector is not built yet: exit 2.
    NotBuilt(String),
    /// Another process holds the database: exit 5.
    Busy(String),
    /// Anything else.
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for CycleFailure {
    fn from(e: E) -> Self {
        CycleFailure::Other(e.into())
    }
}

/// Runs one cycle from the configuration as it is now (the service calls this every interval,
/// so a change made by the wizard or `hybridsync staging` applies to the next cycle).
pub(crate) fn one_cycle(
    g: &Global,
    requested: crate::engine::cycle::Requested,
    dry_run: bool,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    role: &str,
    rt: &tokio::runtime::Handle,
) -> Result<crate::engine::run::CycleReport, CycleFailure> {
    use crate::engine::cycle::fingerprint;
    use crate::engine::run::{CycleOptions, Engine, ExportMode};
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Err(CycleFailure::Config);
    };
    let c = &loaded.config;
    let Some(rules) = crate::cli::rules_cmd::load_rules(g)? else {
        return Err(CycleFailure::Config);
    };
    let rules =
        rules.with_directory_extensions(&c.tenant.application.client_id, &directory_extensions(c));
    let connectors = engine_connectors(g, c).map_err(CycleFailure::NotBuilt)?;
    let db = database(g, c);
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut store = match SqliteStore::open(&db, role) {
        Ok(s) => s,
        Err(e @ StoreError::Locked { .. }) => return Err(CycleFailure::Busy(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    // Configuration history: the file as applied by this cycle (it holds no secrets, only
    // references to them), stored when it differs from the last one.
    if let Ok(text) = std::fs::read_to_string(&g.config_path) {
        let mut tx = store.begin()?;
        tx.record_config(
            crate::engine::expr::DateTime::now(),
            &fingerprint([text.as_str()]),
            &text,
        )?;
        tx.commit()?;
    }
    // wizfeatures: attribute filtering changes what the rules see, as a rule change does, so a
    // change to it forces a full cycle (values of a newly filtered attribute then disappear).
    // (Nothing filtered: the fingerprint is the rules' alone, as before.)
    let excluded = excluded_attributes(c);
    let mut fp_parts = vec![format!("{:?}", rules.rules())];
    if !excluded.is_empty() {
        fp_parts.push(format!("{excluded:?}"));
    }
    let rules_fp = fingerprint(fp_parts.iter().map(String::as_str));
    let scope_text = serde_json::to_string(
        &c.directories
            .iter()
            .map(|d| (&d.scope, &d.pilot_group))
            .collect::<Vec<_>>(),
    )?;
    let scope_fp = fingerprint([scope_text.as_str()]);
    let mut engine = Engine::new(&mut store, &rules, &connectors, rules_fp, scope_fp)?;
    let options = CycleOptions {
        requested,
        export: if dry_run {
            ExportMode::DryRun
        } else if c.sync.staging_mode {
            ExportMode::Staging
        } else {
            ExportMode::Send
        },
        stop,
        history_retention: c.sync.history_retention.as_duration(),
        excluded_attributes: excluded,
        ..CycleOptions::default()
    };
    Ok(engine.run_cycle(rt, &options)?)
}

/// `hybridsync sync run`: one cycle now.
pub(crate) fn run(g: &Global, a: &crate::cli::args::SyncRunArgs) -> Outcome {
    use crate::engine::cycle::Requested;
    use crate::engine::store::RunStatus;
    let requested = if a.full {
        Requested::Full
    } else if a.delta {
        Requested::Delta
    } else {
        Requested::Auto
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = one_cycle(g, requested, a.dry_run, stop, "sync run", rt.handle());
    rt.shutdown_background();
    let report = match outcome {
        Ok(r) => r,
        Err(CycleFailure::Config) => return Ok(exit::CONFIG),
        Err(CycleFailure::NotBuilt(why)) => {
            eprintln!("sync run: {why}");
            return Ok(exit::USAGE);
        }
        Err(CycleFailure::Busy(why)) => {
            eprintln!("sync run: {why}");
            return Ok(exit::BUSY);
        }
        Err(CycleFailure::Other(e)) => return Err(e),
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::cycle_json(&report))?
        );
    } else {
        print!("{}", report::cycle_text(&report));
    }
    Ok(match report.status {
        RunStatus::Success => exit::SUCCESS,
        RunStatus::StoppedDeletionThresholdExceeded => exit::DELETE_GUARD,
        _ => exit::FAILURE,
    })
}

/// `hybridsync sync status`: staging, the scheduler, the last cycle, what blocks exports.
pub(crate) fn status(g: &Global, json: bool) -> Outcome {
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Ok(exit::CONFIG);
    };
    let c = &loaded.config;
    let db = database(g, c);
    let mut store = match SqliteStore::open_read_only(&db) {
        Ok(s) => Some(s),
        Err(StoreError::Missing { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let mut last = None;
    let mut connectors = Vec::new();
    if let Some(store) = store.as_mut() {
        let tx = store.begin()?;
        last = tx.recent_runs(1, 5)?.into_iter().next();
        for s in tx.connector_states()? {
            let pending = tx.export_summary(&s.name)?;
            connectors.push((s, pending));
        }
    }
    let suspended = crate::service::SuspendLock::is_held(&g.state_dir(Some(c))).unwrap_or(false);
    let scheduler = match (c.sync.scheduler_enabled, suspended) {
        (false, _) => "off".to_string(),
        (true, true) => format!(
            "every {}, suspended now (the wizard is changing the configuration)",
            c.sync.interval
        ),
        (true, false) => format!("every {}", c.sync.interval),
    };
    let guard_blocked = last.as_ref().is_some_and(|r| {
        r.status == crate::engine::store::RunStatus::StoppedDeletionThresholdExceeded
    });
    if json {
        let v = serde_json::json!({
            "staging_mode": c.sync.staging_mode,
            "scheduler": {
                "enabled": c.sync.scheduler_enabled,
                "interval": c.sync.interval.to_string(),
                "suspended": suspended,
            },
            "exports_blocked_by_delete_guard": guard_blocked,
            "database": db.display().to_string(),
            "last_run": last.as_ref().map(|r| serde_json::json!({
                "id": r.id.0,
                "profile": r.profile,
                "status": r.status.as_str(),
                "started_at": r.started_at.format("o").ok(),
                "finished_at": r.finished_at.and_then(|t| t.format("o").ok()),
                "message": r.message,
                "errors": r.counts.errors,
            })),
            "connectors": connectors.iter().map(|(s, p)| serde_json::json!({
                "name": s.name.to_string(),
                "last_successful_cycle": s.last_successful_cycle.and_then(|t| t.format("o").ok()),
                "last_full_sync": s.last_full_sync.and_then(|t| t.format("o").ok()),
                "delete_release_granted": s.delete_release_granted.is_some(),
                "pending_exports": { "adds": p.adds, "updates": p.updates, "renames": p.renames, "deletes": p.deletes },
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(exit::SUCCESS);
    }
    println!(
        "staging mode: {}",
        if c.sync.staging_mode {
            "ON (imports and synchronization run; nothing is exported)"
        } else {
            "off"
        }
    );
    println!("scheduler:    {scheduler}");
    match &last {
        None => println!("last cycle:   none yet ('hybridsync sync run' runs one)"),
        Some(r) => {
            let when = r
                .finished_at
                .unwrap_or(r.started_at)
                .format("yyyy-MM-dd HH:mm:ss")
                .unwrap_or_default();
            println!(
                "last cycle:   run {} ({}) {} at {when} UTC, {} error(s)",
                r.id.0, r.profile, r.status, r.counts.errors
            );
            if let Some(m) = &r.message {
                println!("              {m}");
            }
        }
    }
    if guard_blocked {
        println!(
            "exports:      STOPPED by the accidental-delete guard; review with 'hybridsync sync pending-exports', release once with 'hybridsync sync allow-deletes'"
        );
    }
    for (s, p) in &connectors {
        let when = s
            .last_successful_cycle
            .and_then(|t| t.format("yyyy-MM-dd HH:mm:ss").ok())
            .unwrap_or_else(|| "never".into());
        println!(
            "connector {}: last successful cycle {when}; pending exports: {} add, {} update, {} delete{}",
            s.name,
            p.adds,
            p.updates + p.renames,
            p.deletes,
            if s.delete_release_granted.is_some() {
                "; the delete guard is released for the next export"
            } else {
                ""
            }
        );
    }
    Ok(exit::SUCCESS)
}

// wizfeatures: what the cycle is told to drop.
#[cfg(test)]
mod excluded_tests {
    use super::*;
    use crate::config::model::CloudApp;

    #[test]
    fn apps_cleared_attributes_and_the_object_guid_anchor_reach_the_cycle() {
        let mut c = Config::default();
        let has = |v: &[(String, crate::domain::AttributeName)], class: &str, attr: &str| {
            v.iter().any(|(k, a)| k == class && a.eq_ignore_case(attr))
        };
        // Defaults: consistency-guid anchor, no filtering: nothing dropped.
        assert!(excluded_attributes(&c).is_empty());
        let f = &mut c.features.app_and_attribute_filtering;
        f.enabled = true;
        f.apps = vec![CloudApp::SharepointOnline];
        f.excluded_attributes = vec!["user.title".into()];
        let v = excluded_attributes(&c);
        assert!(has(&v, "user", "title"));
        assert!(has(&v, "group", "msExchHideFromAddressLists"));
        assert!(!has(&v, "user", "wWWHomePage"), "SharePoint needs it");
        assert!(!has(&v, "user", "mS-DS-ConsistencyGuid"));
        c.identity.source_anchor = crate::domain::AttributeName::new("objectGUID").unwrap();
        assert!(has(
            &excluded_attributes(&c),
            "user",
            "mS-DS-ConsistencyGuid"
        ));
    }
}
