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
fn database(g: &Global, c: &Config) -> PathBuf {
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
