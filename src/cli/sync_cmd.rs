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

pub(crate) fn pending_exports(g: &Global, a: &PendingExportsArgs) -> Outcome {
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Ok(exit::CONFIG);
    };
    let db = database(g, &loaded.config);
    let mut store = match SqliteStore::open_read_only(&db) {
        Ok(s) => s,
        Err(StoreError::Missing { .. }) => {
            if a.json {
                println!("[]");
            } else {
                println!(
                    "no pending exports: no synchronization has run yet ('{}' does not exist)",
                    db.display()
                );
            }
            return Ok(exit::SUCCESS);
        }
        Err(e) => return Err(e.into()),
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
