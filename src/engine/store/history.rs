//! [`HistoryStore`] on SQLite: run history and configuration history.
//!
//! A run is a `run` row (profile, status, counters, times, a run-level message), its
//! connectors in `run_connector`, and its per-object errors in `run_error` (connector, DN and/or
//! anchor, attribute, message). A run starts as `in-progress`; one still in progress when a new
//! process starts was interrupted, and [`HistoryStore::interrupt_unfinished_runs`] says so.
//! Purging by age deletes runs with everything attached. Configuration history keeps every
//! distinct applied configuration text with its checksum.

use std::time::Duration;

use rusqlite::params;

use super::codec;
use super::records::{
    ConfigRecord, NewRun, RunCounts, RunEnd, RunId, RunObjectError, RunRecord, RunStatus,
};
use super::sqlite::{Db, SqliteTx, limit};
use super::{HistoryStore, StoreResult};
use crate::engine::expr::DateTime;
use crate::engine::model::ConnectorName;

/// The message of a run found unfinished.
const INTERRUPTED: &str = "interrupted: hybridsync stopped before the run finished (crash, \
                           kill or power loss); the next cycle resumes from the last committed \
                           stage";

type RawRun = (
    i64,
    String,
    i64,
    Option<i64>,
    String,
    [i64; 5],
    Option<i64>,
    Option<String>,
);

fn raw_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        [r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
        r.get(10)?,
        r.get(11)?,
    ))
}

fn load_run(db: &Db<'_>, raw: RawRun, errors_per_run: usize) -> StoreResult<RunRecord> {
    let (id, profile, started, finished, status, counts, duration_ms, message) = raw;
    let per_connector: Vec<(ConnectorName, RunCounts)> = db
        .rows(
            "reading a run's connectors",
            "SELECT connector, adds, updates, deletes, errors, filtered FROM run_connector \
             WHERE run_id = ?1 ORDER BY position",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    [
                        r.get::<_, i64>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ],
                ))
            },
        )?
        .into_iter()
        .map(|(name, c)| {
            (
                ConnectorName::new(name),
                RunCounts {
                    adds: codec::count(c[0]),
                    updates: codec::count(c[1]),
                    deletes: codec::count(c[2]),
                    errors: codec::count(c[3]),
                    filtered: codec::count(c[4]),
                },
            )
        })
        .collect();
    let connectors = per_connector.iter().map(|(n, _)| n.clone()).collect();
    let raw_errors = db.rows(
        "reading a run's errors",
        "SELECT connector, dn, anchor_kind, anchor, attribute, message FROM run_error \
         WHERE run_id = ?1 ORDER BY id LIMIT ?2",
        params![id, limit(errors_per_run)],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        },
    )?;
    let mut errors = Vec::with_capacity(raw_errors.len());
    for (connector, dn, kind, anchor, attribute, message) in raw_errors {
        errors.push(RunObjectError {
            connector: ConnectorName::new(connector),
            dn: dn.map(|d| db.decode(codec::dn_from(&d))).transpose()?,
            anchor: db.decode(codec::anchor_from(kind, anchor))?,
            attribute: attribute
                .map(|a| db.decode(codec::attribute_from(&a)))
                .transpose()?,
            message,
        });
    }
    let stored: Option<i64> = db.row(
        "counting a run's errors",
        "SELECT count(*) FROM run_error WHERE run_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(RunRecord {
        id: RunId(id),
        profile,
        connectors,
        per_connector,
        started_at: db.decode(codec::time_from(started))?,
        finished_at: finished
            .map(|t| db.decode(codec::time_from(t)))
            .transpose()?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| db.corrupt(format!("unknown run status '{status}'")))?,
        counts: RunCounts {
            adds: codec::count(counts[0]),
            updates: codec::count(counts[1]),
            deletes: codec::count(counts[2]),
            errors: codec::count(counts[3]),
            filtered: codec::count(counts[4]),
        },
        duration: duration_ms.map(|ms| Duration::from_millis(codec::count(ms))),
        message,
        errors,
        stored_errors: codec::count(stored.unwrap_or(0)),
    })
}

impl HistoryStore for SqliteTx<'_> {
    fn start_run(&mut self, run: &NewRun) -> StoreResult<RunId> {
        self.atomic(|db| {
            db.exec(
                "recording the start of a run",
                "INSERT INTO run (profile, started_at, status) VALUES (?1, ?2, ?3)",
                params![
                    run.profile,
                    run.started_at.ticks(),
                    RunStatus::InProgress.as_str()
                ],
            )?;
            let id = db.last_id();
            for (position, c) in run.connectors.iter().enumerate() {
                db.exec(
                    "recording a run's connectors",
                    "INSERT INTO run_connector (run_id, position, connector) VALUES (?1, ?2, ?3)",
                    params![id, position as i64, c.as_str()],
                )?;
            }
            Ok(RunId(id))
        })
    }

    fn add_run_error(&mut self, run: RunId, error: &RunObjectError) -> StoreResult<()> {
        self.atomic(|db| {
            let exists = db
                .row(
                    "looking up a run",
                    "SELECT 1 FROM run WHERE id = ?1",
                    [run.0],
                    |_| Ok(()),
                )?
                .is_some();
            if !exists {
                return Err(db.not_found(format!("run {}", run.0)));
            }
            let (kind, bytes) = match error.anchor.as_ref().map(codec::anchor_parts) {
                Some((k, b)) => (Some(k), Some(b)),
                None => (None, None),
            };
            db.exec(
                "recording a run error",
                "INSERT INTO run_error (run_id, connector, dn, anchor_kind, anchor, attribute, \
                 message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.0,
                    error.connector.as_str(),
                    error.dn.as_ref().map(ToString::to_string),
                    kind,
                    bytes,
                    error.attribute.as_ref().map(|a| a.as_str()),
                    error.message
                ],
            )?;
            Ok(())
        })
    }

    fn finish_run(&mut self, run: RunId, end: &RunEnd) -> StoreResult<()> {
        self.atomic(|db| {
            let c = &end.counts;
            let n = db.exec(
                "recording the end of a run",
                "UPDATE run SET finished_at = ?2, status = ?3, adds = ?4, updates = ?5, \
                 deletes = ?6, errors = ?7, filtered = ?8, duration_ms = ?9, message = ?10 \
                 WHERE id = ?1",
                params![
                    run.0,
                    end.finished_at.ticks(),
                    end.status.as_str(),
                    codec::to_i64(c.adds),
                    codec::to_i64(c.updates),
                    codec::to_i64(c.deletes),
                    codec::to_i64(c.errors),
                    codec::to_i64(c.filtered),
                    i64::try_from(end.duration.as_millis()).unwrap_or(i64::MAX),
                    end.message
                ],
            )?;
            if n == 0 {
                return Err(db.not_found(format!("run {}", run.0)));
            }
            for (connector, c) in &end.per_connector {
                db.exec(
                    "recording a connector's counts",
                    "UPDATE run_connector SET adds = ?3, updates = ?4, deletes = ?5, errors = ?6, \
                     filtered = ?7 WHERE run_id = ?1 AND connector = ?2 COLLATE NOCASE",
                    params![
                        run.0,
                        connector.as_str(),
                        codec::to_i64(c.adds),
                        codec::to_i64(c.updates),
                        codec::to_i64(c.deletes),
                        codec::to_i64(c.errors),
                        codec::to_i64(c.filtered)
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn interrupt_unfinished_runs(&mut self, at: DateTime) -> StoreResult<u64> {
        self.atomic(|db| {
            let n = db.exec(
                "closing interrupted runs",
                "UPDATE run SET status = ?1, finished_at = ?2, message = ?3 WHERE status = ?4",
                params![
                    RunStatus::Failed.as_str(),
                    at.ticks(),
                    INTERRUPTED,
                    RunStatus::InProgress.as_str()
                ],
            )?;
            Ok(n as u64)
        })
    }

    fn recent_runs(&self, limit_to: usize, errors_per_run: usize) -> StoreResult<Vec<RunRecord>> {
        let db = self.db();
        let raws = db.rows(
            "listing runs",
            "SELECT id, profile, started_at, finished_at, status, adds, updates, deletes, errors, \
             filtered, duration_ms, message FROM run ORDER BY started_at DESC, id DESC LIMIT ?1",
            [limit(limit_to)],
            raw_run,
        )?;
        raws.into_iter()
            .map(|r| load_run(&db, r, errors_per_run))
            .collect()
    }

    fn purge_runs(&mut self, before: DateTime) -> StoreResult<u64> {
        self.atomic(|db| {
            let n = db.exec(
                "purging run history",
                "DELETE FROM run WHERE started_at < ?1",
                [before.ticks()],
            )?;
            Ok(n as u64)
        })
    }

    fn record_config(&mut self, at: DateTime, checksum: &str, text: &str) -> StoreResult<bool> {
        self.atomic(|db| {
            let latest: Option<String> = db.row(
                "reading configuration history",
                "SELECT checksum FROM config_history ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?;
            if latest.as_deref() == Some(checksum) {
                return Ok(false);
            }
            db.exec(
                "recording an applied configuration",
                "INSERT INTO config_history (applied_at, checksum, text) VALUES (?1, ?2, ?3)",
                params![at.ticks(), checksum, text],
            )?;
            Ok(true)
        })
    }

    fn latest_config(&self) -> StoreResult<Option<ConfigRecord>> {
        let db = self.db();
        let raw = db.row(
            "reading configuration history",
            "SELECT applied_at, checksum, text FROM config_history ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?;
        raw.map(|(at, checksum, text)| {
            Ok(ConfigRecord {
                applied_at: db.decode(codec::time_from(at))?,
                checksum,
                text,
            })
        })
        .transpose()
    }
}
