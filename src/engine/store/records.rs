//! The records the store hands back and takes in, beyond the model's own types: connector
//! state, import outcomes with per-value deltas, stored pending exports, journal entries, runs
//! and configuration history. Plain data: no behaviour beyond small helpers, no database types.

use std::time::Duration;

use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{DateTime, Value};
use crate::engine::model::{Anchor, ConnectorName, CsId, Operation, PendingExport, PendingImport};

/// A connector's bookkeeping between runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorState {
    /// The connector.
    pub name: ConnectorName,
    /// Where the next delta import starts (a DirSync cookie, a Graph delta link...), opaque to
    /// the store; `None` before the first import and after it is reset.
    pub watermark: Option<Vec<u8>>,
    /// The next import of this connector must be a full import (new connector, filter change).
    pub full_import_required: bool,
    /// The next sync of this connector must be a full sync (new connector, rule change).
    pub full_sync_required: bool,
    /// When the last full sync of this connector finished.
    pub last_full_sync: Option<DateTime>,
    /// When the last cycle that included this connector finished without errors.
    pub last_successful_cycle: Option<DateTime>,
    /// When `sync allow-deletes` released the delete guard for the next export, if it has not
    /// been used yet.
    pub delete_release_granted: Option<DateTime>,
}

/// A connector-space object joined to a metaverse object, without its attributes: what the
/// engine needs to address it in an export.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterpart {
    /// Its id.
    pub cs: CsId,
    /// Its DN.
    pub dn: Dn,
    /// Its object class.
    pub object_class: String,
    /// Its anchor; `None` for an export object that was never exported.
    pub anchor: Option<Anchor>,
}

/// Identifies one full import, for the sweep at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportGeneration(pub i64);

/// What one import did to a connector-space object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportChange {
    /// A new object was created.
    Added,
    /// DN, class or values changed.
    Updated,
    /// Nothing changed (the object was still marked as seen by this import).
    Unchanged,
    /// The object is gone: marked pending Delete, or removed outright when no sync had seen it
    /// yet (see [`ImportOutcome::pending`]).
    Deleted,
}

/// One projection of a batch ([`super::MetaverseStore::project_many`]): a connector-space
/// object not joined to anything, the type of the metaverse object it gets, and that object's
/// first attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The connector-space object.
    pub cs: CsId,
    /// The new metaverse object's type.
    pub object_type: crate::engine::rules::MvObjectType,
    /// Its attributes (each with at least one value).
    pub attributes: Vec<(AttributeName, crate::engine::model::Contribution)>,
}

/// Values added to and removed from one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueChanges {
    /// The attribute.
    pub attribute: AttributeName,
    /// Values that are new.
    pub added: Vec<Value>,
    /// Values that are gone.
    pub removed: Vec<Value>,
}

impl ValueChanges {
    /// Whether nothing was added or removed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// The result of importing one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// The connector-space object (for an object removed outright: the id it had).
    pub cs: CsId,
    /// What this import did.
    pub change: ImportChange,
    /// What the object now awaits from the sync (accumulated over imports since the last sync;
    /// `None` for an object removed outright).
    pub pending: PendingImport,
    /// The DN before this import, when this import renamed or moved the object.
    pub previous_dn: Option<Dn>,
    /// The object class before this import, when it changed.
    pub previous_object_class: Option<String>,
    /// This import's value changes per attribute, for [`ImportChange::Updated`] (empty for a new
    /// object: all its values are new). An attribute that appeared or disappeared lists all its
    /// values. The same changes accumulate in the store until the sync clears the pending import.
    pub values: Vec<ValueChanges>,
    /// The object had no anchor (an export object not yet confirmed) and was found by its DN;
    /// it now has the imported anchor.
    pub adopted: bool,
}

/// What the sweep at the end of a full import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepOutcome {
    /// Objects not seen by this import, now pending Delete.
    pub marked_deleted: u64,
    /// Objects not seen that no sync had processed yet (pending Add, not joined): removed.
    pub removed: u64,
}

/// Which connector-space objects a page walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsScope {
    /// Objects with a pending import (delta sync).
    PendingImport,
    /// Every object (full sync).
    All,
}

/// Whether a join compares text exactly or ignoring case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinCase {
    /// `"Ann"` matches `"ann"` (the default of join rules).
    #[default]
    Insensitive,
    /// `"Ann"` matches only `"Ann"`.
    Sensitive,
}

/// The id of a stored pending export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingExportId(pub i64);

/// A pending export as stored, with its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExport {
    /// Its id.
    pub id: PendingExportId,
    /// The export.
    pub export: PendingExport,
    /// When it was computed.
    pub created_at: DateTime,
    /// How many times sending it failed.
    pub attempts: u32,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// What a connector's next export would do, for the accidental-delete guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Pending adds.
    pub adds: u64,
    /// Pending updates.
    pub updates: u64,
    /// Pending renames.
    pub renames: u64,
    /// Pending deletes.
    pub deletes: u64,
    /// Objects of the connector space that exist in the directory (have an anchor): the base of
    /// the percentage threshold.
    pub total_objects: u64,
}

/// The id of an export journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JournalId(pub i64);

/// Where an export request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalState {
    /// Recorded before calling the target; the call may or may not have happened.
    Intent,
    /// The target accepted it; waiting for an import to confirm.
    Sent,
    /// An import saw the result.
    Confirmed,
    /// The target refused it.
    Failed,
}

impl JournalState {
    pub(crate) fn code(self) -> i64 {
        match self {
            JournalState::Intent => 0,
            JournalState::Sent => 1,
            JournalState::Confirmed => 2,
            JournalState::Failed => 3,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(JournalState::Intent),
            1 => Some(JournalState::Sent),
            2 => Some(JournalState::Confirmed),
            3 => Some(JournalState::Failed),
            _ => None,
        }
    }

    /// Whether the entry still needs attention (intent or sent).
    pub fn is_open(self) -> bool {
        matches!(self, JournalState::Intent | JournalState::Sent)
    }
}

/// One export journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Its id.
    pub id: JournalId,
    /// The target connector.
    pub connector: ConnectorName,
    /// The pending export it was recorded for, while that still exists.
    pub pending_export: Option<PendingExportId>,
    /// The connector-space object, while it still exists.
    pub cs: Option<CsId>,
    /// What was (to be) done.
    pub operation: Operation,
    /// The object's DN at the time.
    pub dn: Dn,
    /// The key the engine can find the request's effect by in the target (for an add: the
    /// immutable id it set), unique among a connector's open entries.
    pub request_key: String,
    /// Where it stands.
    pub state: JournalState,
    /// The anchor the target reported.
    pub anchor: Option<Anchor>,
    /// The failure message, for a failed entry.
    pub detail: Option<String>,
    /// When the intent was recorded.
    pub created_at: DateTime,
    /// When the state last changed.
    pub updated_at: DateTime,
}

/// The id of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Not finished: running, or the process died (see
    /// [`super::HistoryStore::interrupt_unfinished_runs`]).
    InProgress,
    /// Everything done.
    Success,
    /// Done, with per-object errors.
    CompletedWithErrors,
    /// The export was blocked by the accidental-delete guard.
    StoppedDeletionThresholdExceeded,
    /// The run could not complete.
    Failed,
}

impl RunStatus {
    /// The spelling stored and shown (`completed-with-errors`, Entra Connect's words).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::InProgress => "in-progress",
            RunStatus::Success => "success",
            RunStatus::CompletedWithErrors => "completed-with-errors",
            RunStatus::StoppedDeletionThresholdExceeded => "stopped-deletion-threshold-exceeded",
            RunStatus::Failed => "failed",
        }
    }

    /// Reads a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        [
            RunStatus::InProgress,
            RunStatus::Success,
            RunStatus::CompletedWithErrors,
            RunStatus::StoppedDeletionThresholdExceeded,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run being started.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The run profile (`"delta-import"`, `"full-sync"`, `"export"`, `"delta-cycle"`...), as
    /// the engine names it.
    pub profile: String,
    /// The connectors it covers.
    pub connectors: Vec<ConnectorName>,
    /// When it started.
    pub started_at: DateTime,
}

/// A run's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunCounts {
    /// Objects added.
    pub adds: u64,
    /// Objects updated.
    pub updates: u64,
    /// Objects deleted.
    pub deletes: u64,
    /// Objects that failed.
    pub errors: u64,
    /// Objects filtered out of scope.
    pub filtered: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    /// Its status (not [`RunStatus::InProgress`]).
    pub status: RunStatus,
    /// Its counters.
    pub counts: RunCounts,
    /// The counters of each connector (the connectors the run started with).
    pub per_connector: Vec<(ConnectorName, RunCounts)>,
    /// When it finished.
    pub finished_at: DateTime,
    /// How long it took (measured with a monotonic clock by the engine).
    pub duration: Duration,
    /// A run-level message (why it failed, the guard's numbers).
    pub message: Option<String>,
}

/// An error about one object in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunObjectError {
    /// The connector the object belongs to.
    pub connector: ConnectorName,
    /// The object's DN, when known.
    pub dn: Option<Dn>,
    /// The object's anchor, when known.
    pub anchor: Option<Anchor>,
    /// The attribute concerned, if one.
    pub attribute: Option<AttributeName>,
    /// What went wrong and what to do, for the admin.
    pub message: String,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// Its profile.
    pub profile: String,
    /// Its connectors.
    pub connectors: Vec<ConnectorName>,
    /// The counters of each of its connectors (all zero for a run that did not finish).
    pub per_connector: Vec<(ConnectorName, RunCounts)>,
    /// When it started.
    pub started_at: DateTime,
    /// When it finished.
    pub finished_at: Option<DateTime>,
    /// Its status.
    pub status: RunStatus,
    /// Its counters.
    pub counts: RunCounts,
    /// How long it took.
    pub duration: Option<Duration>,
    /// A run-level message.
    pub message: Option<String>,
    /// Its per-object errors (the first ones, up to the limit asked for).
    pub errors: Vec<RunObjectError>,
    /// How many per-object errors are stored in all.
    pub stored_errors: u64,
}

/// One applied configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRecord {
    /// When it was applied.
    pub applied_at: DateTime,
    /// Its checksum (as the configuration module computes it).
    pub checksum: String,
    /// The configuration text (secrets are references, never values).
    pub text: String,
}
