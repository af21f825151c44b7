//! The engine's store: the metadirectory on disk. Connector spaces, the metaverse with attribute
//! lineage, the links between them, pending exports and the export journal, per-connector
//! watermarks and flags, run history with per-object errors, and configuration history.
//!
//! The engine sees it through [`Store`], which opens transactions, and [`StoreTx`], one
//! transaction, whose methods are grouped by the engine stage that calls them
//! ([`ConnectorStore`], [`ImportStore`], [`SyncStore`], [`MetaverseStore`], [`ExportStore`],
//! [`JournalStore`], [`HistoryStore`]). The traits are object-safe, so the back end is chosen at
//! run time; only SQLite ([`SqliteStore`]) exists now, PostgreSQL can follow behind the same
//! traits.
//!
//! Invariants:
//! - **Atomicity.** Nothing a transaction does is visible to other connections, or survives a
//!   crash, until [`StoreTx::commit`]; dropping a transaction rolls it back. Each engine stage
//!   (an import batch, a sync page, one export's journal step) is one transaction. Within a
//!   transaction every method is itself all-or-nothing: a method that returns an error has
//!   changed nothing, so the engine can record a per-object error and go on.
//! - **Identity.** A connector-space object is found by its connector and anchor, never by DN:
//!   a renamed object keeps its [`CsId`]. Ids are never reused, even after a delete. A CS
//!   object links to at most one MV object, and an MV object to at most one CS object per
//!   connector (a second join is refused as ambiguous).
//! - **Values.** Attribute values are a set per attribute (an LDAP attribute has no duplicate
//!   values; a repeated value is stored once). Most attributes live inline in their object's
//!   row; references and long value lists keep one row per value, so changing one member of a
//!   50,000-member group writes one row and is reported as that one change; join attributes'
//!   values also have their keys in a key table. Every [`Value`] is stored losslessly (type tag
//!   plus payload; dates as ticks).
//! - **Lock.** A writable [`SqliteStore`] holds an exclusive advisory lock on
//!   `<database>.lock` for its whole life: two sync cycles, or a cycle and the wizard, never
//!   write one database at once. Read-only stores (status, history, pending exports) take no
//!   lock and see the last committed state (WAL keeps readers and the writer apart).
//! - **Synchronous.** The store blocks; the engine calls it from a blocking thread, never from
//!   async code.
//!
//! [`Value`]: crate::engine::expr::Value

mod codec;
mod connectors;
mod error;
mod export;
mod history;
mod import;
mod lock;
mod metaverse;
mod records;
mod references;
mod schema;
mod space;
mod sqlite;
mod valueset;

pub use error::{Holder, StoreError};
pub use lock::StoreLock;
pub use records::{
    ConfigRecord, ConnectorState, Counterpart, CsScope, ExportSummary, ImportChange,
    ImportGeneration, ImportOutcome, JoinCase, JournalEntry, JournalId, JournalState, NewRun,
    PendingExportId, Projection, RunCounts, RunEnd, RunId, RunObjectError, RunRecord, RunStatus,
    StoredExport, SweepOutcome, ValueChanges,
};
pub use sqlite::SqliteStore;

/// The key a join looks a value up by (text case-folded, binary as is; `None` for values that
/// never join): what the store's join index holds, for callers that keep values of their own
/// to join against.
pub(crate) fn join_key(v: &Value) -> Option<Vec<u8>> {
    codec::join_key(v)
}

use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{DateTime, Value};
use crate::engine::model::{
    Anchor, AttributeChange, Attributes, ConnectorName, Contribution, CsId, CsObject, ImportItem,
    ImportedObject, MvId, MvObject, PendingExport, ValueDelta,
};
use crate::engine::rules::MvObjectType;

/// A result of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// A metadirectory database.
pub trait Store: Send {
    /// Begins a transaction. On a read-only store its write methods fail.
    fn begin(&mut self) -> StoreResult<Box<dyn StoreTx + '_>>;

    /// Where the data lives, for messages (a file path).
    fn location(&self) -> String;
}

/// One transaction: everything the engine reads and writes, committed together.
pub trait StoreTx:
    ConnectorStore
    + ImportStore
    + SyncStore
    + MetaverseStore
    + ExportStore
    + JournalStore
    + HistoryStore
    + ReferenceStore
{
    /// Makes every change of this transaction durable and visible at once.
    fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Discards every change of this transaction (dropping it does the same).
    fn rollback(self: Box<Self>) -> StoreResult<()>;
}

/// Per-connector bookkeeping, and a few engine-wide values. A connector's record is created the
/// first time anything is written for it, with both "full ... required" flags set.
pub trait ConnectorStore {
    /// An engine-wide value by key (such as the rule and scope fingerprints and the end time of
    /// the last full cycle); `None` if never set.
    fn engine_value(&self, key: &str) -> StoreResult<Option<String>>;

    /// Sets (or, with `None`, removes) an engine-wide value.
    fn set_engine_value(&mut self, key: &str, value: Option<&str>) -> StoreResult<()>;

    /// One connector's state; `None` if nothing was ever stored for it.
    fn connector_state(&self, connector: &ConnectorName) -> StoreResult<Option<ConnectorState>>;

    /// Every connector's state, by name.
    fn connector_states(&self) -> StoreResult<Vec<ConnectorState>>;

    /// Stores (or, with `None`, forgets) where the next delta import starts.
    fn set_watermark(
        &mut self,
        connector: &ConnectorName,
        watermark: Option<&[u8]>,
    ) -> StoreResult<()>;

    /// Sets or clears "the next import must be a full import".
    fn set_full_import_required(
        &mut self,
        connector: &ConnectorName,
        required: bool,
    ) -> StoreResult<()>;

    /// Sets or clears "the next sync must be a full sync".
    fn set_full_sync_required(
        &mut self,
        connector: &ConnectorName,
        required: bool,
    ) -> StoreResult<()>;

    /// Records when a full sync of the connector finished.
    fn set_last_full_sync(&mut self, connector: &ConnectorName, at: DateTime) -> StoreResult<()>;

    /// Records when a cycle including the connector last finished without errors.
    fn set_last_successful_cycle(
        &mut self,
        connector: &ConnectorName,
        at: DateTime,
    ) -> StoreResult<()>;

    /// `sync allow-deletes`: lets the connector's next export exceed the delete guard once.
    fn grant_delete_release(&mut self, connector: &ConnectorName, at: DateTime) -> StoreResult<()>;

    /// Uses up the release granted by [`ConnectorStore::grant_delete_release`]: `true` (and the
    /// grant is gone) if there was one.
    fn take_delete_release(&mut self, connector: &ConnectorName) -> StoreResult<bool>;
}

/// The import stage: connector spaces from what connectors read.
pub trait ImportStore {
    /// Starts a full import of `connector`: every object it does not import before
    /// [`ImportStore::finish_full_import`] is then taken as deleted. Commit this with the first
    /// batch (or before it).
    fn begin_full_import(&mut self, connector: &ConnectorName) -> StoreResult<ImportGeneration>;

    /// Stores an object as the directory has it now, found by anchor (then, for an unconfirmed
    /// export object without anchor, by DN). Compares it with what is stored and writes only the
    /// differences; marks the object pending Add or Update when it changed, and marks it seen by
    /// the current import. Confirms the connector's sent journal entries for the object.
    fn import_object(
        &mut self,
        connector: &ConnectorName,
        object: &ImportedObject,
    ) -> StoreResult<ImportOutcome>;

    /// The directory deleted the object with this anchor: marks it pending Delete (or removes it
    /// outright if no sync has seen it yet). `None` if the connector space has no such object.
    /// Confirms the connector's sent journal entries for the object.
    fn import_deleted(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<ImportOutcome>>;

    /// Values of the object with this anchor were added and removed (a delta that reports only
    /// the changed values of multi-valued attributes). Writes exactly those value rows, never
    /// reading the attribute's other values (the cost follows the change, not the attribute's
    /// size): adding a value the attribute has, or removing one it lacks, is a no-op, so the same
    /// changes applied twice leave the same state. Records the effective changes for the sync
    /// and marks the object pending Update (a pending Add stays Add) exactly as
    /// [`ImportStore::import_object`] does for a changed object; `dn`, when given and different,
    /// is stored as a rename. Confirms the connector's sent journal entries for the object.
    /// `None` if the connector space has no such object: nothing was written, and the engine
    /// must read the object whole (or ask for a full import).
    fn import_value_changes(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
        dn: Option<&Dn>,
        changes: &[ValueDelta],
    ) -> StoreResult<Option<ImportOutcome>>;

    /// [`ImportStore::import_object`], [`ImportStore::import_value_changes`] or
    /// [`ImportStore::import_deleted`], by item. A rejected item changes nothing (`None`): it is
    /// the engine's to report; so does value changes for an unknown anchor (`None` too).
    fn import_item(
        &mut self,
        connector: &ConnectorName,
        item: &ImportItem,
    ) -> StoreResult<Option<ImportOutcome>> {
        match item {
            ImportItem::Object(o) => self.import_object(connector, o).map(Some),
            ImportItem::ValueChanges {
                anchor,
                dn,
                changes,
            } => self.import_value_changes(connector, anchor, dn.as_ref(), changes),
            ImportItem::Deleted { anchor } => self.import_deleted(connector, anchor),
            ImportItem::Rejected { .. } => Ok(None),
        }
    }

    /// Ends a full import: every object of the connector with an anchor that this import did
    /// not see is marked pending Delete (in one statement, nothing loaded into memory).
    fn finish_full_import(
        &mut self,
        connector: &ConnectorName,
        generation: ImportGeneration,
    ) -> StoreResult<SweepOutcome>;
}

/// The sync stage's view of connector spaces: reading objects, walking them, linking them.
pub trait SyncStore {
    /// A connector-space object with all its attributes.
    fn cs_object(&self, cs: CsId) -> StoreResult<Option<CsObject>>;

    /// A connector-space object without the listed attributes (to leave a large membership
    /// out when the engine works from the value changes).
    fn cs_object_without(&self, cs: CsId, skip: &[AttributeName]) -> StoreResult<Option<CsObject>>;

    /// The values of one attribute of a connector-space object (empty when absent).
    fn cs_attribute(&self, cs: CsId, attribute: &AttributeName) -> StoreResult<Vec<Value>>;

    /// The object of `connector` with this anchor.
    fn find_cs_by_anchor(
        &self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<CsId>>;

    /// The objects of `connector` with this DN (compared as DNs: case and escaping do not
    /// matter); more than one only while a rename is half imported.
    fn find_cs_by_dn(&self, connector: &ConnectorName, dn: &Dn) -> StoreResult<Vec<CsId>>;

    /// Up to `limit` objects of `connector` in `scope` with ids above `after`, in id order
    /// (stable across pages while the stage changes objects it has already passed).
    fn cs_page(
        &self,
        connector: &ConnectorName,
        scope: CsScope,
        after: Option<CsId>,
        limit: usize,
    ) -> StoreResult<Vec<CsObject>>;

    /// The ids [`SyncStore::cs_page`] would return.
    fn cs_ids_page(
        &self,
        connector: &ConnectorName,
        scope: CsScope,
        after: Option<CsId>,
        limit: usize,
    ) -> StoreResult<Vec<CsId>>;

    /// How many objects of `connector` are in `scope` (for progress reports).
    fn cs_count(&self, connector: &ConnectorName, scope: CsScope) -> StoreResult<u64>;

    /// The values added and removed since the last sync of this object (pending Update only).
    fn pending_value_changes(&self, cs: CsId) -> StoreResult<Vec<ValueChanges>>;

    /// The sync has processed the object's pending import. For a pending Delete the object
    /// itself is removed (with its pending export and values); otherwise it is marked as
    /// having nothing pending and its accumulated value changes are dropped.
    fn clear_pending_import(&mut self, cs: CsId) -> StoreResult<()>;

    /// [`SyncStore::clear_pending_import`] for many objects at once (a full sync clears a page
    /// of new objects together); objects whose pending import is not an Add are cleared as
    /// that method would.
    fn clear_pending_adds(&mut self, cs: &[CsId]) -> StoreResult<()>;

    /// Removes a connector-space object (deprovisioned, or an export object never exported).
    /// `false` if it did not exist.
    fn delete_cs_object(&mut self, cs: CsId) -> StoreResult<bool>;

    /// Joins a connector-space object to a metaverse object. Fails with
    /// [`StoreError::Conflict`] if it is joined to another one, or if the metaverse object
    /// already has an object of the same connector (an ambiguous join).
    fn link(&mut self, cs: CsId, mv: MvId) -> StoreResult<()>;

    /// Disjoins a connector-space object (it becomes a disconnector). `false` if it was not
    /// joined.
    fn unlink(&mut self, cs: CsId) -> StoreResult<bool>;

    /// Several connector-space objects at once, whole, in the order of `ids` (ids without an
    /// object are left out).
    fn cs_objects(&self, ids: &[CsId]) -> StoreResult<Vec<CsObject>>;

    /// The connector-space objects joined to a metaverse object, by connector name.
    fn links(&self, mv: MvId) -> StoreResult<Vec<(ConnectorName, CsId)>>;

    /// [`SyncStore::links`] of the metaverse objects with ids in `(after, through]`, in id
    /// order and per object as `links` orders them.
    fn links_between(
        &self,
        after: Option<MvId>,
        through: MvId,
    ) -> StoreResult<Vec<(MvId, ConnectorName, CsId)>>;
}

/// The metaverse: objects, attributes with lineage, and join lookups.
pub trait MetaverseStore {
    /// Creates an empty metaverse object (projection).
    fn create_mv(&mut self, object_type: MvObjectType) -> StoreResult<MvId>;

    /// Projection: creates an empty metaverse object and joins `cs` to it, in one step. Fails
    /// with [`StoreError::Conflict`] if `cs` is joined already ([`StoreError::NotFound`] if it
    /// does not exist); then nothing is created.
    fn project(&mut self, cs: CsId, object_type: MvObjectType) -> StoreResult<MvId>;

    /// Many projections with their first attributes, in one step and a few statements: what
    /// [`MetaverseStore::project`] and [`MetaverseStore::set_mv_attributes`] do for each, plus
    /// forgetting any unresolved reference the objects held. The new objects' ids, in order.
    /// If any object is joined already or missing, nothing is written and the error says
    /// which (the caller then goes one by one).
    fn project_many(&mut self, batch: &[Projection]) -> StoreResult<Vec<MvId>>;

    /// Deletes a metaverse object; objects joined to it become disconnectors. `false` if it did
    /// not exist.
    fn delete_mv(&mut self, mv: MvId) -> StoreResult<bool>;

    /// A metaverse object with all its attributes and their lineage.
    fn mv_object(&self, mv: MvId) -> StoreResult<Option<MvObject>>;

    /// A metaverse object without the listed attributes.
    fn mv_object_without(&self, mv: MvId, skip: &[AttributeName]) -> StoreResult<Option<MvObject>>;

    /// One attribute with its lineage.
    fn mv_attribute(
        &self,
        mv: MvId,
        attribute: &AttributeName,
    ) -> StoreResult<Option<Contribution>>;

    /// Replaces one attribute (values and lineage); `None` removes it. Writes only the values
    /// that changed and returns them.
    fn set_mv_attribute(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        contribution: Option<&Contribution>,
    ) -> StoreResult<ValueChanges>;

    /// [`MetaverseStore::set_mv_attribute`] for several attributes of one object at once (one
    /// step; only the attributes given are read): the changes per attribute, in the order given.
    fn set_mv_attributes(
        &mut self,
        mv: MvId,
        attributes: &[(AttributeName, Option<Contribution>)],
    ) -> StoreResult<Vec<ValueChanges>>;

    /// Adds values to an attribute (incremental membership), recording `rule` and `connector`
    /// as its lineage; values already present are skipped. Returns what was added.
    fn add_mv_values(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        values: &[Value],
        rule: &str,
        connector: &ConnectorName,
    ) -> StoreResult<ValueChanges>;

    /// Removes values from an attribute; the attribute goes when its last value does. Returns
    /// what was removed.
    fn remove_mv_values(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        values: &[Value],
    ) -> StoreResult<ValueChanges>;

    /// Declares the metaverse attributes join rules look up (idempotent; attributes that join
    /// the set are indexed from their stored values, those that leave it are dropped from the
    /// index).
    fn set_join_attributes(&mut self, attributes: &[AttributeName]) -> StoreResult<()>;

    /// The metaverse objects (of `object_type`, if given) whose `attribute` has `value`: text
    /// compared per `case`, other values exactly. `attribute` must be a join attribute.
    fn find_mv_by_value(
        &self,
        object_type: Option<MvObjectType>,
        attribute: &AttributeName,
        value: &Value,
        case: JoinCase,
    ) -> StoreResult<Vec<MvId>>;

    /// Every metaverse object with an id above `after` and up to `through`, in id order, with
    /// all its attributes but `skip` (a few range queries for the whole page: what a full
    /// cycle's outbound stage reads after [`MetaverseStore::mv_ids_page`]; the inbound stage
    /// leaves out the large references, whose values it never compares whole).
    fn mv_page(
        &self,
        after: Option<MvId>,
        through: MvId,
        skip: &[AttributeName],
    ) -> StoreResult<Vec<MvObject>>;

    /// Up to `limit` metaverse ids (of `object_type`, if given) above `after`, in order.
    fn mv_ids_page(
        &self,
        object_type: Option<MvObjectType>,
        after: Option<MvId>,
        limit: usize,
    ) -> StoreResult<Vec<MvId>>;
}

/// The export side: export objects, pending exports and the delete guard's numbers.
pub trait ExportStore {
    /// Creates an export object: a connector-space object without anchor, joined to `mv`, with
    /// the attributes it is provisioned with. It gets its anchor from the export
    /// ([`ExportStore::set_cs_anchor`]) or from an import that finds it by DN.
    fn provision_export_object(
        &mut self,
        connector: &ConnectorName,
        mv: MvId,
        dn: &Dn,
        object_class: &str,
        attributes: &Attributes,
    ) -> StoreResult<CsId>;

    /// [`ExportStore::provision_export_object`] together with its pending export: an `Add` with
    /// `changes` (what [`ExportStore::put_pending_export`] would store for it), in one step.
    fn provision_export_add(
        &mut self,
        connector: &ConnectorName,
        mv: MvId,
        dn: &Dn,
        object_class: &str,
        attributes: &Attributes,
        changes: &[AttributeChange],
    ) -> StoreResult<CsId>;

    /// Gives an object the anchor the target reported. Another object of the connector with
    /// that anchor that is joined to nothing and has no pending export (an imported object the
    /// target matched) is replaced by it; any other holder fails with [`StoreError::Conflict`].
    fn set_cs_anchor(&mut self, cs: CsId, anchor: &Anchor) -> StoreResult<()>;

    /// Records an object's new DN after an exported rename.
    fn set_cs_dn(&mut self, cs: CsId, dn: &Dn) -> StoreResult<()>;

    /// Stores the pending export of `export.cs`, replacing any earlier one (journal entries of
    /// the earlier one keep their record).
    fn put_pending_export(&mut self, export: &PendingExport) -> StoreResult<PendingExportId>;

    /// The pending export of one object.
    fn pending_export_for(&self, cs: CsId) -> StoreResult<Option<StoredExport>>;

    /// Up to `limit` pending exports (of `connector`, if given) with ids above `after`, in id
    /// order.
    fn pending_exports(
        &self,
        connector: Option<&ConnectorName>,
        after: Option<PendingExportId>,
        limit: usize,
    ) -> StoreResult<Vec<StoredExport>>;

    /// Counts per operation and the connector's object count, for the delete guard.
    fn export_summary(&self, connector: &ConnectorName) -> StoreResult<ExportSummary>;

    /// Removes a pending export (done, or obsolete). `false` if it did not exist.
    fn remove_pending_export(&mut self, id: PendingExportId) -> StoreResult<bool>;

    /// Records a failed attempt to send a pending export (it stays pending).
    fn record_export_failure(&mut self, id: PendingExportId, error: &str) -> StoreResult<()>;
}

/// The export journal: intent before calling the target, outcome after.
pub trait JournalStore {
    /// Records the intent to send a pending export, under `request_key` (how the engine will
    /// recognise the request's effect in the target after a crash). Commit before calling the
    /// target. Fails with [`StoreError::Conflict`] if an open entry of the connector has the key.
    fn journal_intent(
        &mut self,
        export: PendingExportId,
        request_key: &str,
    ) -> StoreResult<JournalId>;

    /// The target accepted the request (reporting `anchor`, for an add).
    fn journal_sent(&mut self, id: JournalId, anchor: Option<&Anchor>) -> StoreResult<()>;

    /// An import (or the engine's reconciliation) saw the request's effect.
    fn journal_confirmed(&mut self, id: JournalId) -> StoreResult<()>;

    /// The target refused the request.
    fn journal_failed(&mut self, id: JournalId, error: &str) -> StoreResult<()>;

    /// One entry.
    fn journal_entry(&self, id: JournalId) -> StoreResult<Option<JournalEntry>>;

    /// Open entries (intent or sent), oldest first, of `connector` if given: what the engine
    /// reconciles at start-up.
    fn open_journal(&self, connector: Option<&ConnectorName>) -> StoreResult<Vec<JournalEntry>>;

    /// Deletes confirmed and failed entries last changed before `before`. Returns how many.
    fn purge_journal(&mut self, before: DateTime) -> StoreResult<u64>;
}

/// Run history and configuration history.
pub trait HistoryStore {
    /// Records the start of a run.
    fn start_run(&mut self, run: &NewRun) -> StoreResult<RunId>;

    /// Records an error about one object in a run.
    fn add_run_error(&mut self, run: RunId, error: &RunObjectError) -> StoreResult<()>;

    /// Records how a run ended.
    fn finish_run(&mut self, run: RunId, end: &RunEnd) -> StoreResult<()>;

    /// Marks runs left in progress by a process that died as failed ("interrupted"). Returns
    /// how many.
    fn interrupt_unfinished_runs(&mut self, at: DateTime) -> StoreResult<u64>;

    /// The last `limit` runs, newest first, each with up to `errors_per_run` of its errors.
    fn recent_runs(&self, limit: usize, errors_per_run: usize) -> StoreResult<Vec<RunRecord>>;

    /// Deletes runs (and their errors) that started before `before`. Returns how many.
    fn purge_runs(&mut self, before: DateTime) -> StoreResult<u64>;

    /// Records an applied configuration; `false` (nothing stored) when its checksum equals the
    /// latest one's.
    fn record_config(&mut self, at: DateTime, checksum: &str, text: &str) -> StoreResult<bool>;

    /// The configuration applied last.
    fn latest_config(&self) -> StoreResult<Option<ConfigRecord>>;
}

/// Reference bookkeeping: what keeps membership changes proportional to the change.
pub trait ReferenceStore {
    /// Remembers that `cs` holds a reference to `target`, which is not joined to the metaverse
    /// yet, and that it flows to the metaverse `attribute` through `rule` (idempotent).
    fn add_unresolved_ref(
        &mut self,
        cs: CsId,
        attribute: &AttributeName,
        target: &Dn,
        rule: &str,
    ) -> StoreResult<()>;

    /// Forgets one unresolved reference (resolved, or the value is gone). `false` if there was
    /// none.
    fn remove_unresolved_ref(
        &mut self,
        cs: CsId,
        attribute: &AttributeName,
        target: &Dn,
    ) -> StoreResult<bool>;

    /// Forgets every unresolved reference of one attribute of `cs` (before it is resolved
    /// afresh). Returns how many.
    fn clear_unresolved_refs(&mut self, cs: CsId, attribute: &AttributeName) -> StoreResult<u64>;

    /// The objects with ids after `after` up to `through` that hold any unresolved reference
    /// (a page's, in one range query), in id order.
    fn unresolved_holders_between(
        &self,
        after: Option<CsId>,
        through: CsId,
    ) -> StoreResult<Vec<CsId>>;

    /// The objects of `connector` holding an unresolved reference to `target` (compared as
    /// DNs): each with the metaverse attribute and rule the reference flows through.
    fn unresolved_refs_to(
        &self,
        connector: &ConnectorName,
        target: &Dn,
    ) -> StoreResult<Vec<(CsId, AttributeName, String)>>;

    /// [`ReferenceStore::unresolved_refs_to`] for several targets at once (a page of new
    /// objects): one list per target, in order.
    fn unresolved_refs_to_many(
        &self,
        connector: &ConnectorName,
        targets: &[Dn],
    ) -> StoreResult<Vec<Vec<(CsId, AttributeName, String)>>>;

    /// The metaverse object joined to the object of `connector` at `dn`, if any.
    fn linked_mv_by_dn(&self, connector: &ConnectorName, dn: &Dn) -> StoreResult<Option<MvId>>;

    /// [`ReferenceStore::linked_mv_by_dn`] for several DNs at once (a group's members): one
    /// answer per DN, in order.
    fn linked_mvs_by_dn(
        &self,
        connector: &ConnectorName,
        dns: &[Dn],
    ) -> StoreResult<Vec<Option<MvId>>>;

    /// The metaverse object a connector-space object is joined to, without loading it.
    fn cs_link(&self, cs: CsId) -> StoreResult<Option<MvId>>;

    /// The first object of `connector` at `dn` and its anchor (`None` until exported),
    /// without its attributes: how the export stage resolves references.
    fn cs_anchor_by_dn(
        &self,
        connector: &ConnectorName,
        dn: &Dn,
    ) -> StoreResult<Option<(CsId, Option<Anchor>)>>;

    /// The object of `connector` joined to `mv`, without its attributes.
    fn counterpart(&self, connector: &ConnectorName, mv: MvId) -> StoreResult<Option<Counterpart>>;

    /// The counterparts in `connector` of the given metaverse objects (those that have one),
    /// in one go.
    fn counterparts_of(
        &self,
        connector: &ConnectorName,
        mvs: &[MvId],
    ) -> StoreResult<Vec<(MvId, Counterpart)>>;

    /// [`ReferenceStore::counterpart`] for every metaverse object with an id above `after` and
    /// up to `through` that has one (one range query).
    fn counterparts_between(
        &self,
        connector: &ConnectorName,
        after: Option<MvId>,
        through: MvId,
    ) -> StoreResult<Vec<(MvId, Counterpart)>>;

    /// Which rule and connector contributed a metaverse attribute, without its values.
    fn mv_lineage(
        &self,
        mv: MvId,
        attribute: &AttributeName,
    ) -> StoreResult<Option<(String, ConnectorName)>>;

    /// The metaverse objects (and their attributes) that reference `mv`.
    fn mv_referencing(&self, mv: MvId) -> StoreResult<Vec<(MvId, AttributeName)>>;

    /// How many values one attribute of a connector-space object has, without loading them.
    fn cs_value_count(&self, cs: CsId, attribute: &AttributeName) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests;
