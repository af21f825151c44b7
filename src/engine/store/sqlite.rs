//! [`SqliteStore`]: the embedded store, one SQLite file in the state directory.
//!
//! Opening for writing takes the [`StoreLock`] first, creates the file with mode 0600 if it is
//! new (SQLite gives its `-wal` and `-shm` files the database's mode), sets
//! `journal_mode=WAL`, `synchronous=NORMAL` (a process crash loses nothing committed; a power
//! loss may lose the last commits, never corrupt the file) and `foreign_keys=ON`, then applies
//! pending migrations, each in its own transaction. A database from a newer hybridsync is
//! refused before anything is written. Opening read-only takes no lock, writes nothing and
//! requires the schema to be current. Tuning, measured with `tests/bench/store.rs`: a 64 MiB
//! page cache, savepoint journals in memory, WAL checkpoints every 8,192 pages, and SQLite's
//! query-planner stability guarantee (plans never depend on bound values, so cached statements
//! are never re-prepared).
//!
//! [`SqliteTx`] is one SQLite transaction (`BEGIN IMMEDIATE` when writable, so a writer never
//! has to upgrade a read lock). Each mutating method of more than one statement runs inside a
//! savepoint ([`SqliteTx::atomic`]) so it is all-or-nothing within the transaction; a method that
//! is one statement needs none (SQLite undoes a failed statement by itself), which spares the
//! savepoint's journal copies of the pages it touches; provisioning, whose later writes all hang
//! off the object row it writes first, undoes a failure by deleting that row instead (see
//! `export.rs`). [`Db`] is what the per-stage files work
//! with: the transaction's connection, the path for error messages, and a small per-transaction
//! cache (connector rows, join attributes) that a failed step empties.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension as _, Params, Row, Transaction, TransactionBehavior,
};

use super::codec;
use super::error::StoreError;
use super::lock::StoreLock;
use super::schema::{self, MIGRATIONS, VERSION_TABLE};
use super::{Store, StoreResult, StoreTx};
use crate::domain::AttributeName;
use crate::engine::expr::{DateTime, Value};
use crate::engine::hash::FastMap;
use crate::engine::model::ConnectorName;

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The page cache, in KiB as `PRAGMA cache_size` takes it when negative: 64 MiB holds the hot
/// index pages of a few hundred thousand objects (SQLite's default of 2 MiB thrashes on them).
const CACHE_KIB: i64 = -65_536;

/// WAL pages between automatic checkpoints.
const WAL_CHECKPOINT_PAGES: i64 = 8_192;

/// Prepared statements kept per connection (multi-row inserts take up to [`MAX_ROWS`] per
/// table).
const STATEMENT_CACHE: usize = 384;

/// Rows per multi-row insert statement ([`Db::insert_rows`]).
pub(crate) const MAX_ROWS: usize = 32;

/// The SQLite metadirectory.
#[derive(Debug)]
pub struct SqliteStore {
    // Field order is drop order: close the database before releasing the lock.
    conn: Connection,
    path: PathBuf,
    read_only: bool,
    _lock: Option<StoreLock>,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` for a writer: takes the lock (see
    /// [`StoreLock::acquire`]; `role` names the taker, e.g. `"sync cycle"`), creates a missing
    /// state directory (mode 0700) and database file (mode 0600), and upgrades the schema.
    pub fn open(path: &Path, role: &str) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        let lock = StoreLock::acquire(path, role)?;
        create_private(path)?;
        let open_err = |what, source| StoreError::Open {
            path: path.to_path_buf(),
            what,
            source,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err("opening the file", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_err("setting the busy timeout", e))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| open_err("switching to WAL mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_err(
                "switching to WAL mode",
                rusqlite::Error::InvalidParameterName(format!(
                    "journal_mode stayed '{mode}' (is the file on a network file system?)"
                )),
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| open_err("setting synchronous=NORMAL", e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| open_err("enabling foreign keys", e))?;
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(|e| open_err("sizing the page cache", e))?;
        // Checkpoint the WAL every 8,192 pages (32 MiB) instead of SQLite's 1,000: a page
        // that several transactions of a cycle write is copied back once per checkpoint.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(|e| open_err("setting the WAL checkpoint interval", e))?;
        // Savepoint journals (one per store method) stay in memory instead of a temp file.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(|e| open_err("keeping temporary data in memory", e))?;
        stable_plans(&conn).map_err(|e| open_err("enabling stable query plans", e))?;
        migrate(&mut conn, path)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            read_only: false,
            _lock: Some(lock),
        })
    }

    /// Opens an existing database for reading only (status, history, pending exports), without
    /// the lock: it may run while a cycle writes, and sees what the cycle has committed.
    pub fn open_read_only(path: &Path) -> StoreResult<SqliteStore> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        let open_err = |what, source| StoreError::Open {
            path: path.to_path_buf(),
            what,
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err("opening the file read-only", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_err("setting the busy timeout", e))?;
        stable_plans(&conn).map_err(|e| open_err("enabling stable query plans", e))?;
        let found = match version_of(&conn, path)? {
            Some(v) => v,
            None if has_tables(&conn, path)? => {
                return Err(StoreError::NotOurs {
                    path: path.to_path_buf(),
                });
            }
            None => 0,
        };
        let supported = schema::latest();
        if found > supported {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        if found < supported {
            return Err(StoreError::OlderSchema {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            read_only: true,
            _lock: None,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the database has.
    pub fn schema_version(&self) -> StoreResult<i64> {
        Ok(version_of(&self.conn, &self.path)?.unwrap_or(0))
    }

    /// The connection itself, for tests that look under the hood.
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &Connection {
        &self.conn
    }

    /// The newest schema version this build knows.
    pub fn supported_schema_version() -> i64 {
        schema::latest()
    }
}

impl Store for SqliteStore {
    fn begin(&mut self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let behavior = if self.read_only {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        };
        let path = self.path.as_path();
        let tx = Transaction::new(&mut self.conn, behavior).map_err(|source| StoreError::Sql {
            path: path.to_path_buf(),
            what: "beginning a transaction",
            source,
        })?;
        Ok(Box::new(SqliteTx {
            tx,
            path,
            cache: TxCache::default(),
        }))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Turns on SQLite's query planner stability guarantee: plans never depend on the values bound
/// to a statement. Without it the planner may look at bound values (`?3 IS NULL`, `LIMIT`,
/// joins) and then must re-prepare the statement whenever they change, which made every cached
/// join lookup and lineage read compile its SQL again.
fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map(|_| ())
}

/// Creates the database file with mode 0600 if it does not exist; warns about an existing
/// file that others can read.
fn create_private(path: &Path) -> StoreResult<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{mode:04o}"),
                        "the database file is readable by other users; it holds directory data: \
                         run 'chmod 600' on it"
                    );
                }
            }
            Ok(())
        }
        Err(source) => Err(StoreError::CreateFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The highest applied migration, `None` without a `schema_version` table.
fn version_of(conn: &Connection, path: &Path) -> StoreResult<Option<i64>> {
    let err = |source| StoreError::Open {
        path: path.to_path_buf(),
        what: "reading the schema version",
        source,
    };
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
             AND name = 'schema_version')",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if !exists {
        return Ok(None);
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )
    .map(Some)
    .map_err(err)
}

fn has_tables(conn: &Connection, path: &Path) -> StoreResult<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')",
        [],
        |r| r.get(0),
    )
    .map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        what: "listing tables",
        source,
    })
}

/// Applies every migration newer than the database, each in its own transaction.
fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    let current = match version_of(conn, path)? {
        Some(v) => v,
        None if has_tables(conn, path)? => {
            return Err(StoreError::NotOurs {
                path: path.to_path_buf(),
            });
        }
        None => {
            conn.execute_batch(VERSION_TABLE)
                .map_err(|source| StoreError::Open {
                    path: path.to_path_buf(),
                    what: "creating the schema_version table",
                    source,
                })?;
            0
        }
    };
    let supported = schema::latest();
    if current > supported {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: current,
            supported,
        });
    }
    let mut from = current;
    for step in MIGRATIONS.iter().filter(|m| m.version > current) {
        let fail = |source| StoreError::Migration {
            path: path.to_path_buf(),
            version: step.version,
            description: step.description,
            from,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute_batch(step.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![step.version, step.description, DateTime::now().ticks()],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(
            path = %path.display(),
            version = step.version,
            "database schema upgraded: {}",
            step.description
        );
        from = step.version;
    }
    Ok(())
}

/// One transaction on a [`SqliteStore`].
pub(crate) struct SqliteTx<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
    cache: TxCache,
}

/// What a transaction remembers between its own statements: connector rows by folded name and
/// the join attributes. Dropped with the transaction, and emptied whenever a method fails (its
/// savepoint is undone, so what it cached may be gone).
#[derive(Default)]
pub(crate) struct TxCache {
    connectors: RefCell<HashMap<String, ConnectorRow>>,
    names: RefCell<FastMap<i64, ConnectorName>>,
    join_attributes: RefCell<Option<Vec<AttributeName>>>,
    spellings: RefCell<Spellings>,
}

/// Attribute names and rule names by their stored spelling, each spelling validated and
/// allocated once per transaction (the objects it reads share them). A spelling always means
/// the same name, so nothing here ever needs forgetting.
#[derive(Default)]
pub(crate) struct Spellings {
    names: FastMap<String, AttributeName>,
    rules: FastMap<String, std::sync::Arc<str>>,
}

impl Spellings {
    pub(crate) fn resolve(&mut self, text: &[u8]) -> Result<AttributeName, String> {
        let text = std::str::from_utf8(text).map_err(|e| format!("stored attribute name: {e}"))?;
        if let Some(name) = self.names.get(text) {
            return Ok(name.clone());
        }
        let name = super::codec::attribute_from(text)?;
        self.names.insert(text.to_owned(), name.clone());
        Ok(name)
    }

    /// The shared rule name spelled `text`.
    pub(crate) fn rule(&mut self, text: &str) -> std::sync::Arc<str> {
        if let Some(rule) = self.rules.get(text) {
            return rule.clone();
        }
        let rule: std::sync::Arc<str> = text.into();
        self.rules.insert(text.to_owned(), rule.clone());
        rule
    }
}

impl TxCache {
    fn clear(&self) {
        if let Ok(mut c) = self.connectors.try_borrow_mut() {
            c.clear();
        }
        if let Ok(mut n) = self.names.try_borrow_mut() {
            n.clear();
        }
        if let Ok(mut j) = self.join_attributes.try_borrow_mut() {
            *j = None;
        }
    }
}

impl SqliteTx<'_> {
    /// The transaction, for reads.
    pub(crate) fn db(&self) -> Db<'_> {
        Db {
            conn: &self.tx,
            path: self.path,
            cache: &self.cache,
        }
    }

    /// Runs `f` inside a savepoint: if it fails, everything it wrote is undone and the
    /// transaction is as it was before the call. (The savepoint statements are prepared once
    /// and cached; a method call costs two extra statement steps.)
    pub(crate) fn atomic<T>(
        &mut self,
        f: impl FnOnce(&Db<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let db = self.db();
        db.exec("starting a savepoint", "SAVEPOINT store_step", [])?;
        match f(&db) {
            Ok(out) => {
                db.exec("releasing a savepoint", "RELEASE store_step", [])?;
                Ok(out)
            }
            Err(e) => {
                db.cache.clear();
                let undone = db
                    .exec("undoing a failed step", "ROLLBACK TO store_step", [])
                    .and_then(|_| db.exec("undoing a failed step", "RELEASE store_step", []));
                if let Err(undo) = undone {
                    tracing::error!(
                        error = %undo,
                        "could not undo a failed store step; the transaction must be rolled back"
                    );
                }
                Err(e)
            }
        }
    }
}

impl StoreTx for SqliteTx<'_> {
    fn commit(self: Box<Self>) -> StoreResult<()> {
        let path = self.path;
        self.tx.commit().map_err(|source| StoreError::Sql {
            path: path.to_path_buf(),
            what: "committing",
            source,
        })
    }

    fn rollback(self: Box<Self>) -> StoreResult<()> {
        let path = self.path;
        self.tx.rollback().map_err(|source| StoreError::Sql {
            path: path.to_path_buf(),
            what: "rolling back",
            source,
        })
    }
}

/// A connection inside a transaction, with the path for messages and the transaction's cache:
/// what the per-stage code runs its statements on.
pub(crate) struct Db<'c> {
    pub conn: &'c Connection,
    pub path: &'c Path,
    pub cache: &'c TxCache,
}

/// A connector's row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectorRow {
    pub id: i64,
    pub generation: i64,
}

impl Db<'_> {
    /// Maps an SQLite error to [`StoreError::Sql`] saying what was being done.
    pub(crate) fn sql(
        &self,
        what: &'static str,
    ) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.to_path_buf(),
            what,
            source,
        }
    }

    /// A [`StoreError::Corrupt`].
    pub(crate) fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.to_path_buf(),
            what: what.into(),
        }
    }

    /// A [`StoreError::NotFound`].
    pub(crate) fn not_found(&self, what: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            path: self.path.to_path_buf(),
            what: what.into(),
        }
    }

    /// A [`StoreError::Conflict`].
    pub(crate) fn conflict(&self, what: impl Into<String>) -> StoreError {
        StoreError::Conflict {
            path: self.path.to_path_buf(),
            what: what.into(),
        }
    }

    /// Turns a decoding result into [`StoreError::Corrupt`].
    pub(crate) fn decode<T>(&self, r: Result<T, String>) -> StoreResult<T> {
        r.map_err(|what| self.corrupt(what))
    }

    /// Runs a cached statement; the number of rows changed.
    pub(crate) fn exec(
        &self,
        what: &'static str,
        sql: &str,
        params: impl Params,
    ) -> StoreResult<usize> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params))
            .map_err(self.sql(what))
    }

    /// Runs a cached query for at most one row.
    pub(crate) fn row<T>(
        &self,
        what: &'static str,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(params, f).optional())
            .map_err(self.sql(what))
    }

    /// Runs a cached query for every row.
    pub(crate) fn rows<T>(
        &self,
        what: &'static str,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(self.sql(what))?;
        let rows = stmt.query_map(params, f).map_err(self.sql(what))?;
        rows.collect::<Result<Vec<T>, _>>().map_err(self.sql(what))
    }

    /// Runs a cached query, handing every row to `f` (nothing is collected).
    pub(crate) fn for_each(
        &self,
        what: &'static str,
        sql: &str,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> rusqlite::Result<()>,
    ) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(self.sql(what))?;
        let mut rows = stmt.query(params).map_err(self.sql(what))?;
        while let Some(row) = rows.next().map_err(self.sql(what))? {
            f(row).map_err(self.sql(what))?;
        }
        Ok(())
    }

    /// Inserts many rows with few statements: `head` is `INSERT ... INTO t (c1, c2, ...)`,
    /// `values` holds `width` parameters per row. Rows go in groups of [`MAX_ROWS`], the rest
    /// in one statement of its exact size (an object's dozen values are one statement), so at
    /// most [`MAX_ROWS`] statement texts per table enter the statement cache.
    pub(crate) fn insert_rows(
        &self,
        what: &'static str,
        head: &str,
        width: usize,
        values: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<()> {
        self.insert_rows_then(what, head, "", width, values)
    }

    /// [`Db::insert_rows`] with `tail` after the values (an `ON CONFLICT` clause).
    pub(crate) fn insert_rows_then(
        &self,
        what: &'static str,
        head: &str,
        tail: &str,
        width: usize,
        values: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<()> {
        if width == 0 {
            return Ok(());
        }
        let mut rest = values;
        while !rest.is_empty() {
            let rows = rest.len() / width;
            let take = rows.clamp(1, MAX_ROWS);
            let (chunk, remaining) = rest.split_at((take * width).min(rest.len()));
            let row = format!("({})", vec!["?"; width].join(", "));
            let sql = format!("{head} VALUES {} {tail}", vec![row; take].join(", "));
            self.conn
                .prepare_cached(&sql)
                .and_then(|mut st| st.execute(rusqlite::params_from_iter(chunk.iter())))
                .map_err(self.sql(what))?;
            rest = remaining;
        }
        Ok(())
    }

    /// The id of the last inserted row.
    pub(crate) fn last_id(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    /// A connector's row, `None` if it was never stored.
    pub(crate) fn connector(&self, name: &ConnectorName) -> StoreResult<Option<ConnectorRow>> {
        // A transaction knows a handful of connectors: comparing the folded keys directly
        // spares folding (allocating) the name on every call.
        if let Some(row) = self.cache.connectors.try_borrow().ok().and_then(|c| {
            c.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name.as_str()))
                .map(|(_, row)| *row)
        }) {
            return Ok(Some(row));
        }
        let row = self.row(
            "looking up a connector",
            "SELECT id, import_generation FROM connector WHERE name = ?1",
            [name.as_str()],
            |r| {
                Ok(ConnectorRow {
                    id: r.get(0)?,
                    generation: r.get(1)?,
                })
            },
        )?;
        if let Some(row) = row {
            self.remember_connector(name, row);
        }
        Ok(row)
    }

    /// Updates the cached row of a connector (after changing its generation).
    pub(crate) fn remember_connector(&self, name: &ConnectorName, row: ConnectorRow) {
        if let Ok(mut c) = self.cache.connectors.try_borrow_mut() {
            c.insert(name.as_str().to_ascii_lowercase(), row);
        }
    }

    /// A connector's row, created (with both "full ... required" flags set) if missing.
    pub(crate) fn connector_or_create(&self, name: &ConnectorName) -> StoreResult<ConnectorRow> {
        if let Some(row) = self.connector(name)? {
            return Ok(row);
        }
        self.exec(
            "creating a connector record",
            "INSERT INTO connector (name) VALUES (?1)",
            [name.as_str()],
        )?;
        let row = ConnectorRow {
            id: self.last_id(),
            generation: 0,
        };
        self.remember_connector(name, row);
        Ok(row)
    }

    /// Whether `attribute` is a join attribute (from the cache without copying it, after the
    /// first read of the transaction).
    pub(crate) fn is_join_attribute(&self, attribute: &AttributeName) -> StoreResult<bool> {
        if let Ok(cached) = self.cache.join_attributes.try_borrow()
            && let Some(names) = cached.as_ref()
        {
            return Ok(names.contains(attribute));
        }
        Ok(self.join_attributes()?.contains(attribute))
    }

    /// The join attributes (cached for the transaction).
    pub(crate) fn join_attributes(&self) -> StoreResult<Vec<AttributeName>> {
        if let Some(j) = self
            .cache
            .join_attributes
            .try_borrow()
            .ok()
            .and_then(|j| j.clone())
        {
            return Ok(j);
        }
        let names = self
            .rows(
                "reading the join attributes",
                "SELECT attribute FROM join_attribute",
                [],
                |r| r.get::<_, String>(0),
            )?
            .iter()
            .map(|a| self.decode(codec::attribute_from(a)))
            .collect::<StoreResult<Vec<_>>>()?;
        self.forget_join_attributes();
        if let Ok(mut j) = self.cache.join_attributes.try_borrow_mut() {
            *j = Some(names.clone());
        }
        Ok(names)
    }

    /// Drops the cached join attributes (after changing them).
    pub(crate) fn forget_join_attributes(&self) {
        if let Ok(mut j) = self.cache.join_attributes.try_borrow_mut() {
            *j = None;
        }
    }

    /// The transaction's shared attribute and rule names (see [`Spellings`]); held only while
    /// decoding one object or row, never across another store call.
    pub(crate) fn spellings(&self) -> std::cell::RefMut<'_, Spellings> {
        self.cache.spellings.borrow_mut()
    }

    /// A connector's name by id (cached for the transaction: connectors are never renamed or
    /// deleted while one runs).
    pub(crate) fn connector_name(&self, id: i64) -> StoreResult<ConnectorName> {
        if let Some(name) = self
            .cache
            .names
            .try_borrow()
            .ok()
            .and_then(|n| n.get(&id).cloned())
        {
            return Ok(name);
        }
        let name = self
            .row(
                "looking up a connector",
                "SELECT name FROM connector WHERE id = ?1",
                [id],
                |r| r.get::<_, String>(0),
            )?
            .map(ConnectorName::new)
            .ok_or_else(|| self.corrupt(format!("connector id {id} is referenced but missing")))?;
        if let Ok(mut n) = self.cache.names.try_borrow_mut() {
            n.insert(id, name.clone());
        }
        Ok(name)
    }
}

/// Reads a value from its tag and payload columns (decoding errors are returned inside).
pub(crate) fn value_at(
    row: &Row<'_>,
    tag: usize,
    payload: usize,
) -> rusqlite::Result<Result<Value, String>> {
    Ok(codec::from_sql(row.get(tag)?, row.get_ref(payload)?))
}

/// The `id > ?` bound of a page.
pub(crate) fn after_bound(after: Option<i64>) -> i64 {
    after.unwrap_or(0)
}

/// A page size as SQLite's `LIMIT`.
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
