//! [`StoreError`]: everything the store can fail with, worded for the admin who reads it in a
//! log or a run report. Every variant that concerns the database names its file (or, for a
//! future server-backed store, its location), says what was being done, and where there is
//! something to do about it, what.

use std::fmt;
use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory that should hold the database could not be created.
    #[error("cannot create the state directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// The database file could not be created with owner-only permissions.
    #[error("cannot create the database file {path} (mode 0600): {source}")]
    CreateFile {
        /// The database file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// A read-only open found no database.
    #[error(
        "the database {path} does not exist yet: run the wizard or 'hybridsync sync run' first, \
         or point HYBRIDSYNC_STATE_DIR at the right state directory"
    )]
    Missing {
        /// The database file looked for.
        path: PathBuf,
    },

    /// SQLite could not open the file or set it up (permissions, not a database, disk full).
    #[error("cannot open the hybridsync database {path}: {what}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// SQLite's reason.
        source: rusqlite::Error,
    },

    /// The file is an SQLite database, but not one hybridsync created.
    #[error(
        "{path} is an SQLite database but not a hybridsync one (it has tables but no \
         schema_version table): move it away or choose another state directory"
    )]
    NotOurs {
        /// The database file.
        path: PathBuf,
    },

    /// The database was created or upgraded by a newer hybridsync.
    #[error(
        "the database {path} has schema version {found}, written by a newer hybridsync; this \
         hybridsync supports schema versions up to {supported}: upgrade hybridsync (or restore a \
         backup taken before the upgrade)"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The version the database has.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// A read-only open found a database that a cycle has not upgraded yet.
    #[error(
        "the database {path} has schema version {found}, older than this hybridsync's {supported}: \
         run one sync cycle (or the wizard) to upgrade it, then retry"
    )]
    OlderSchema {
        /// The database file.
        path: PathBuf,
        /// The version the database has.
        found: i64,
        /// The version this build needs.
        supported: i64,
    },

    /// One migration step failed; the database stays at the version before it.
    #[error(
        "upgrading the database {path} to schema version {version} ({description}) failed; it \
         stays at version {from}: {source}"
    )]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The version being applied.
        version: i64,
        /// What the step does.
        description: &'static str,
        /// The version the database keeps.
        from: i64,
        /// SQLite's reason.
        source: rusqlite::Error,
    },

    /// Another process holds the lock (a sync cycle or the wizard).
    #[error("another hybridsync sync cycle or the wizard is running (lock held on {path}{holder})")]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it (shown as `" by pid 123 (sync cycle)"`), as the holder wrote it.
        holder: Holder,
    },

    /// The lock file could not be created or locked.
    #[error("cannot take the lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// An SQL statement failed.
    #[error("database {path}: {what} failed: {source}{}", busy_hint(.source))]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What was being done (`"importing an object"`).
        what: &'static str,
        /// SQLite's reason.
        source: rusqlite::Error,
    },

    /// Stored data could not be decoded.
    #[error(
        "database {path} holds data this hybridsync cannot read ({what}); the file may be \
         damaged: restore a backup, or move it away and run a full cycle to rebuild it"
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What could not be read.
        what: String,
    },

    /// An id the engine passed does not exist (a bug in the caller, or a concurrent purge).
    #[error("database {path}: {what} does not exist")]
    NotFound {
        /// The database file.
        path: PathBuf,
        /// What was looked for (`"connector-space object 12"`).
        what: String,
    },

    /// A change would break an invariant of the metadirectory.
    #[error("database {path}: {what}")]
    Conflict {
        /// The database file.
        path: PathBuf,
        /// What would break, and why.
        what: String,
    },
}

impl StoreError {
    /// Whether the failure was SQLite's "database is busy / locked" (another process kept a
    /// write lock longer than the busy timeout); retrying later may succeed.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Sql { source, .. } | StoreError::Open { source, .. } => is_busy(source),
            _ => false,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn busy_hint(e: &rusqlite::Error) -> &'static str {
    if is_busy(e) {
        " (another process kept the database busy; retry when it has finished)"
    } else {
        ""
    }
}

/// Who holds a lock, as its holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holder(pub String);

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " by {}", self.0)
        }
    }
}
