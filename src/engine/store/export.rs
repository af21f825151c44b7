//! The export side on SQLite: export objects, pending exports ([`ExportStore`]) and the export
//! journal ([`JournalStore`]).
//!
//! A pending export is one `pending_export` row per connector-space object (a new one replaces
//! the old), its attribute changes with their old and new values encoded in its `changes`
//! column (`codec::changes_to_blob`; a change that removes every value is kept too). Exports
//! stored before schema version 3 have their changes in `pending_export_attribute` (position,
//! name) and `pending_export_value` (position, side, ordinal) instead, and are read from there.
//!
//! The journal makes exports crash-safe: the engine commits an intent (state 0) before calling
//! the target, then records sent (1, with the anchor the target reported), failed (3) or
//! confirmed (2). An import that sees the object confirms its sent entries. Entries copy what
//! reconciliation needs (connector, operation, DN, request key) so they outlive the pending
//! export and even the object. At most one open entry per connector has a given request key.

use rusqlite::params;

use super::codec;
use super::records::{
    ExportSummary, JournalEntry, JournalId, JournalState, PendingExportId, StoredExport,
};
use super::space::{
    CsHeader, IncomingAttribute, NewCsRow, insert_object, insert_rows, joined_in_connector,
    require_mv,
};
use super::sqlite::{ConnectorRow, Db, SqliteTx, after_bound, limit, value_at};
use super::{ExportStore, JournalStore, StoreResult};
use crate::domain::Dn;
use crate::engine::expr::DateTime;
use crate::engine::model::{
    Anchor, AttributeChange, Attributes, ChangeKind, ConnectorName, CsId, MvId, Operation,
    PendingExport, PendingImport,
};

const EXPORT_COLUMNS: &str = "e.id, k.name, e.cs_id, e.operation, e.anchor_kind, e.anchor, \
                              e.dn, e.object_class, e.created_at, e.attempts, e.last_error, \
                              e.changes";

type RawExport = (
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<Vec<u8>>,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<Vec<u8>>,
);

fn raw_export(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawExport> {
    r.try_into()
}

fn load_export(db: &Db<'_>, raw: RawExport) -> StoreResult<StoredExport> {
    let (id, connector, cs, op, kind, anchor, dn, class, created, attempts, last_error, blob) = raw;
    let changes = match blob {
        Some(blob) => db.decode(codec::changes_from_blob(&blob))?,
        None => changes_from_rows(db, id)?,
    };
    Ok(StoredExport {
        id: PendingExportId(id),
        export: PendingExport {
            connector: ConnectorName::new(connector),
            cs: CsId(cs),
            anchor: db.decode(codec::anchor_from(kind, anchor))?,
            dn: db.decode(codec::dn_from(&dn))?,
            object_class: class,
            operation: db.decode(codec::operation_from(op))?,
            changes,
        },
        created_at: db.decode(codec::time_from(created))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error,
    })
}

/// The changes of an export stored before schema version 3, from its attribute and value rows.
fn changes_from_rows(db: &Db<'_>, id: i64) -> StoreResult<Vec<AttributeChange>> {
    let attrs = db.rows(
        "reading a pending export",
        "SELECT position, attribute FROM pending_export_attribute WHERE export_id = ?1 \
         ORDER BY position",
        [id],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut changes: Vec<AttributeChange> = Vec::with_capacity(attrs.len());
    let mut positions: Vec<i64> = Vec::with_capacity(attrs.len());
    for (position, attr) in attrs {
        changes.push(AttributeChange::replace(
            db.decode(codec::attribute_from(&attr))?,
            Vec::new(),
            Vec::new(),
        ));
        positions.push(position);
    }
    let values = db.rows(
        "reading a pending export's values",
        "SELECT position, side, tag, value FROM pending_export_value WHERE export_id = ?1 \
         ORDER BY position, side, ordinal",
        [id],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, value_at(r, 2, 3)?)),
    )?;
    for (position, side, value) in values {
        let i = positions
            .binary_search(&position)
            .map_err(|_| db.corrupt(format!("pending export {id} has values without attribute")))?;
        let value = db.decode(value)?;
        // Sides: 0 old / 1 new values of a replacement, 2 removed / 3 added values of an
        // incremental change (an incremental change always has at least one value row).
        if side >= 2 {
            changes[i].kind = ChangeKind::Incremental;
        }
        if side % 2 == 0 {
            changes[i].old.push(value);
        } else {
            changes[i].new.push(value);
        }
    }
    Ok(changes)
}

/// Inserts an export object, and with `add` its pending Add. The object must not exist yet in
/// the connector for `mv`, and `mv` must exist: the unique join index and the foreign key
/// enforce both, so the checks that name the problem only run when the insert fails.
///
/// Atomic without a savepoint: the object row is the first write, and a statement that fails
/// undoes itself; should a later write fail, the object row is deleted again, which takes its
/// value rows and pending export with it (`ON DELETE CASCADE`).
#[allow(clippy::too_many_arguments)]
fn new_export_object(
    db: &Db<'_>,
    c: ConnectorRow,
    connector: &ConnectorName,
    mv: MvId,
    dn: &Dn,
    object_class: &str,
    attributes: &Attributes,
    add: Option<&[AttributeChange]>,
) -> StoreResult<CsId> {
    let incoming = IncomingAttribute::all(attributes);
    let digests: Vec<_> = incoming
        .iter()
        .map(IncomingAttribute::fresh_digest)
        .collect();
    let inserted = insert_object(
        db,
        &NewCsRow {
            connector_id: c.id,
            anchor: None,
            dn,
            object_class,
            mv: Some(mv.0),
            pending: PendingImport::None,
            generation: c.generation,
            digests: &digests,
            inline: &IncomingAttribute::inline_blob(&incoming),
        },
    );
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            require_mv(db, mv)?;
            if let Some(other) = joined_in_connector(db, c.id, mv.0)? {
                return Err(db.conflict(format!(
                    "metaverse object {} already has connector-space object {other} in \
                     connector '{connector}'; provisioning a second one ({dn}) would be ambiguous",
                    mv.0
                )));
            }
            return Err(e);
        }
    };
    let rest = insert_rows(db, id, &incoming).and_then(|()| match add {
        Some(changes) => insert_export(
            db,
            CsId(id),
            c.id,
            Operation::Add,
            None,
            dn,
            object_class,
            changes,
        )
        .map(|_| ()),
        None => Ok(()),
    });
    if let Err(e) = rest {
        let undone = db.exec(
            "undoing a failed provisioning",
            "DELETE FROM cs_object WHERE id = ?1",
            [id],
        );
        if let Err(undo) = undone {
            tracing::error!(
                error = %undo,
                "could not undo a failed store step; the transaction must be rolled back"
            );
        }
        return Err(e);
    }
    Ok(CsId(id))
}

/// Stores a pending export row (the caller has removed any earlier one of the object).
#[allow(clippy::too_many_arguments)]
fn insert_export(
    db: &Db<'_>,
    cs: CsId,
    connector_id: i64,
    operation: Operation,
    anchor: Option<&Anchor>,
    dn: &Dn,
    object_class: &str,
    changes: &[AttributeChange],
) -> StoreResult<PendingExportId> {
    let (kind, bytes) = match anchor.map(codec::anchor_parts) {
        Some((k, b)) => (Some(k), Some(b)),
        None => (None, None),
    };
    let changes: Vec<&AttributeChange> = changes.iter().filter(|c| !c.is_noop()).collect();
    db.exec(
        "storing a pending export",
        "INSERT INTO pending_export (cs_id, connector_id, operation, anchor_kind, anchor, \
         dn, object_class, created_at, changes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            cs.0,
            connector_id,
            codec::operation_code(operation),
            kind,
            bytes,
            dn.to_string(),
            object_class,
            DateTime::now().ticks(),
            codec::changes_to_blob(&changes)
        ],
    )?;
    Ok(PendingExportId(db.last_id()))
}

impl SqliteTx<'_> {
    /// [`ExportStore::provision_export_add`] and [`ExportStore::provision_export_object`]: no
    /// savepoint once the connector exists (see [`new_export_object`]); its first export
    /// creates the connector's row inside one.
    fn provision(
        &mut self,
        connector: &ConnectorName,
        mv: MvId,
        dn: &Dn,
        object_class: &str,
        attributes: &Attributes,
        add: Option<&[AttributeChange]>,
    ) -> StoreResult<CsId> {
        let known = self.db().connector(connector)?;
        match known {
            Some(c) => new_export_object(
                &self.db(),
                c,
                connector,
                mv,
                dn,
                object_class,
                attributes,
                add,
            ),
            None => self.atomic(|db| {
                let c = db.connector_or_create(connector)?;
                new_export_object(db, c, connector, mv, dn, object_class, attributes, add)
            }),
        }
    }
}

impl ExportStore for SqliteTx<'_> {
    fn provision_export_object(
        &mut self,
        connector: &ConnectorName,
        mv: MvId,
        dn: &Dn,
        object_class: &str,
        attributes: &Attributes,
    ) -> StoreResult<CsId> {
        self.provision(connector, mv, dn, object_class, attributes, None)
    }

    fn provision_export_add(
        &mut self,
        connector: &ConnectorName,
        mv: MvId,
        dn: &Dn,
        object_class: &str,
        attributes: &Attributes,
        changes: &[AttributeChange],
    ) -> StoreResult<CsId> {
        self.provision(connector, mv, dn, object_class, attributes, Some(changes))
    }

    fn set_cs_anchor(&mut self, cs: CsId, anchor: &Anchor) -> StoreResult<()> {
        self.atomic(|db| {
            let header = CsHeader::require(db, cs)?;
            let (kind, bytes) = codec::anchor_parts(anchor);
            let other: Option<(i64, Option<i64>)> = db.row(
                "looking up an object by anchor",
                "SELECT id, mv_id FROM cs_object WHERE connector_id = ?1 AND anchor_kind = ?2 \
                 AND anchor = ?3 AND id <> ?4",
                params![header.connector_id, kind, bytes, cs.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            // The target matched an object an import already holds and nothing is joined to
            // (a hard or soft match, or an add a crash interrupted after it reached the
            // target): the export object takes its place.
            if let Some((other, None)) = other {
                db.exec(
                    "replacing an imported object the export matched",
                    "DELETE FROM cs_object WHERE id = ?1 AND mv_id IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM pending_export p WHERE p.cs_id = ?1)",
                    [other],
                )?;
            }
            let other: Option<i64> = db.row(
                "looking up an object by anchor",
                "SELECT id FROM cs_object WHERE connector_id = ?1 AND anchor_kind = ?2 \
                 AND anchor = ?3 AND id <> ?4",
                params![header.connector_id, kind, bytes, cs.0],
                |r| r.get(0),
            )?;
            if let Some(other) = other {
                let connector = db.connector_name(header.connector_id)?;
                return Err(db.conflict(format!(
                    "anchor {anchor} reported for connector-space object {} ({}) already \
                     belongs to object {other} of connector '{connector}'",
                    cs.0, header.dn_text
                )));
            }
            db.exec(
                "recording an exported object's anchor",
                "UPDATE cs_object SET anchor_kind = ?2, anchor = ?3 WHERE id = ?1",
                params![cs.0, kind, bytes],
            )?;
            Ok(())
        })
    }

    fn set_cs_dn(&mut self, cs: CsId, dn: &Dn) -> StoreResult<()> {
        self.atomic(|db| {
            let n = db.exec(
                "recording an exported rename",
                "UPDATE cs_object SET dn = ?2, dn_key = ?3 WHERE id = ?1",
                params![cs.0, dn.to_string(), codec::dn_key(dn)],
            )?;
            if n == 0 {
                return Err(db.not_found(format!("connector-space object {}", cs.0)));
            }
            Ok(())
        })
    }

    fn put_pending_export(&mut self, export: &PendingExport) -> StoreResult<PendingExportId> {
        self.atomic(|db| {
            let header = CsHeader::require(db, export.cs)?;
            let owner = db.connector_name(header.connector_id)?;
            if owner != export.connector {
                return Err(db.conflict(format!(
                    "a pending export for connector '{}' names connector-space object {}, which \
                     belongs to connector '{owner}'",
                    export.connector, export.cs.0
                )));
            }
            db.exec(
                "replacing a pending export",
                "DELETE FROM pending_export WHERE cs_id = ?1",
                [export.cs.0],
            )?;
            insert_export(
                db,
                export.cs,
                header.connector_id,
                export.operation,
                export.anchor.as_ref(),
                &export.dn,
                &export.object_class,
                &export.changes,
            )
        })
    }

    fn pending_export_for(&self, cs: CsId) -> StoreResult<Option<StoredExport>> {
        let db = self.db();
        let raw = db.row(
            "reading a pending export",
            &format!(
                "SELECT {EXPORT_COLUMNS} FROM pending_export e \
                 JOIN connector k ON k.id = e.connector_id WHERE e.cs_id = ?1"
            ),
            [cs.0],
            raw_export,
        )?;
        raw.map(|r| load_export(&db, r)).transpose()
    }

    fn pending_exports(
        &self,
        connector: Option<&ConnectorName>,
        after: Option<PendingExportId>,
        limit_to: usize,
    ) -> StoreResult<Vec<StoredExport>> {
        let db = self.db();
        let Some(connector_id) = connector_filter(&db, connector)? else {
            return Ok(Vec::new());
        };
        let raws = db.rows(
            "listing pending exports",
            &format!(
                "SELECT {EXPORT_COLUMNS} FROM pending_export e \
                 JOIN connector k ON k.id = e.connector_id \
                 WHERE e.id > ?1 AND (?2 IS NULL OR e.connector_id = ?2) ORDER BY e.id LIMIT ?3"
            ),
            params![
                after_bound(after.map(|a| a.0)),
                connector_id,
                limit(limit_to)
            ],
            raw_export,
        )?;
        raws.into_iter().map(|r| load_export(&db, r)).collect()
    }

    fn export_summary(&self, connector: &ConnectorName) -> StoreResult<ExportSummary> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(ExportSummary::default());
        };
        let mut summary = ExportSummary::default();
        let counts = db.rows(
            "counting pending exports",
            "SELECT operation, count(*) FROM pending_export WHERE connector_id = ?1 \
             GROUP BY operation",
            [c.id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        for (op, n) in counts {
            let n = codec::count(n);
            match db.decode(codec::operation_from(op))? {
                crate::engine::model::Operation::Add => summary.adds = n,
                crate::engine::model::Operation::Update => summary.updates = n,
                crate::engine::model::Operation::Rename => summary.renames = n,
                crate::engine::model::Operation::Delete => summary.deletes = n,
            }
        }
        let total: Option<i64> = db.row(
            "counting connector-space objects",
            "SELECT count(*) FROM cs_object WHERE connector_id = ?1 AND anchor IS NOT NULL",
            [c.id],
            |r| r.get(0),
        )?;
        summary.total_objects = codec::count(total.unwrap_or(0));
        Ok(summary)
    }

    fn remove_pending_export(&mut self, id: PendingExportId) -> StoreResult<bool> {
        self.atomic(|db| {
            let n = db.exec(
                "removing a pending export",
                "DELETE FROM pending_export WHERE id = ?1",
                [id.0],
            )?;
            Ok(n > 0)
        })
    }

    fn record_export_failure(&mut self, id: PendingExportId, error: &str) -> StoreResult<()> {
        self.atomic(|db| {
            let n = db.exec(
                "recording an export failure",
                "UPDATE pending_export SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id.0, error],
            )?;
            if n == 0 {
                return Err(db.not_found(format!("pending export {}", id.0)));
            }
            Ok(())
        })
    }
}

const JOURNAL_COLUMNS: &str = "j.id, k.name, j.pending_export_id, j.cs_id, j.operation, j.dn, \
                               j.request_key, j.state, j.anchor_kind, j.anchor, j.detail, \
                               j.created_at, j.updated_at";

type RawJournal = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<Vec<u8>>,
    Option<String>,
    i64,
    i64,
);

fn raw_journal(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawJournal> {
    r.try_into()
}

fn decode_journal(db: &Db<'_>, raw: RawJournal) -> StoreResult<JournalEntry> {
    let (id, name, export, cs, op, dn, key, state, kind, anchor, detail, created, updated) = raw;
    Ok(JournalEntry {
        id: JournalId(id),
        connector: ConnectorName::new(name),
        pending_export: export.map(PendingExportId),
        cs: cs.map(CsId),
        operation: db.decode(codec::operation_from(op))?,
        dn: db.decode(codec::dn_from(&dn))?,
        request_key: key,
        state: JournalState::from_code(state)
            .ok_or_else(|| db.corrupt(format!("unknown journal state {state}")))?,
        anchor: db.decode(codec::anchor_from(kind, anchor))?,
        detail,
        created_at: db.decode(codec::time_from(created))?,
        updated_at: db.decode(codec::time_from(updated))?,
    })
}

fn journal_entry(db: &Db<'_>, id: JournalId) -> StoreResult<Option<JournalEntry>> {
    let raw = db.row(
        "reading a journal entry",
        &format!(
            "SELECT {JOURNAL_COLUMNS} FROM export_journal j \
             JOIN connector k ON k.id = j.connector_id WHERE j.id = ?1"
        ),
        [id.0],
        raw_journal,
    )?;
    raw.map(|r| decode_journal(db, r)).transpose()
}

/// Moves an entry to `to` if it is in one of `from`.
fn transition(
    db: &Db<'_>,
    id: JournalId,
    to: JournalState,
    from: &[JournalState],
    anchor: Option<&Anchor>,
    detail: Option<&str>,
) -> StoreResult<()> {
    let current = journal_entry(db, id)?
        .ok_or_else(|| db.not_found(format!("export journal entry {}", id.0)))?;
    if !from.contains(&current.state) {
        return Err(db.conflict(format!(
            "export journal entry {} ({} of {}) is {:?} and cannot become {to:?}",
            id.0, current.operation, current.dn, current.state
        )));
    }
    let (kind, bytes) = match anchor.map(codec::anchor_parts) {
        Some((k, b)) => (Some(k), Some(b)),
        None => (None, None),
    };
    db.exec(
        "updating an export journal entry",
        "UPDATE export_journal SET state = ?2, anchor_kind = coalesce(?3, anchor_kind), \
         anchor = coalesce(?4, anchor), detail = coalesce(?5, detail), updated_at = ?6 \
         WHERE id = ?1",
        params![
            id.0,
            to.code(),
            kind,
            bytes,
            detail,
            DateTime::now().ticks()
        ],
    )?;
    Ok(())
}

impl JournalStore for SqliteTx<'_> {
    fn journal_intent(
        &mut self,
        export: PendingExportId,
        request_key: &str,
    ) -> StoreResult<JournalId> {
        self.atomic(|db| {
            let row = db.row(
                "reading a pending export",
                "SELECT connector_id, cs_id, operation, dn FROM pending_export WHERE id = ?1",
                [export.0],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?;
            let (connector_id, cs, op, dn) =
                row.ok_or_else(|| db.not_found(format!("pending export {}", export.0)))?;
            let open: Option<i64> = db.row(
                "checking open journal entries",
                "SELECT id FROM export_journal WHERE connector_id = ?1 AND request_key = ?2 \
                 AND state IN (0, 1)",
                params![connector_id, request_key],
                |r| r.get(0),
            )?;
            if let Some(open) = open {
                return Err(db.conflict(format!(
                    "export journal entry {open} with request key '{request_key}' is still open; \
                     reconcile it (mark it sent, confirmed or failed) before sending again"
                )));
            }
            let now = DateTime::now().ticks();
            db.exec(
                "recording an export intent",
                "INSERT INTO export_journal (connector_id, pending_export_id, cs_id, operation, \
                 dn, request_key, state, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)",
                params![connector_id, export.0, cs, op, dn, request_key, now],
            )?;
            Ok(JournalId(db.last_id()))
        })
    }

    fn journal_sent(&mut self, id: JournalId, anchor: Option<&Anchor>) -> StoreResult<()> {
        use JournalState::{Intent, Sent};
        self.atomic(|db| transition(db, id, Sent, &[Intent, Sent], anchor, None))
    }

    fn journal_confirmed(&mut self, id: JournalId) -> StoreResult<()> {
        use JournalState::{Confirmed, Intent, Sent};
        self.atomic(|db| transition(db, id, Confirmed, &[Intent, Sent, Confirmed], None, None))
    }

    fn journal_failed(&mut self, id: JournalId, error: &str) -> StoreResult<()> {
        use JournalState::{Failed, Intent, Sent};
        self.atomic(|db| transition(db, id, Failed, &[Intent, Sent, Failed], None, Some(error)))
    }

    fn journal_entry(&self, id: JournalId) -> StoreResult<Option<JournalEntry>> {
        journal_entry(&self.db(), id)
    }

    fn open_journal(&self, connector: Option<&ConnectorName>) -> StoreResult<Vec<JournalEntry>> {
        let db = self.db();
        let Some(connector_id) = connector_filter(&db, connector)? else {
            return Ok(Vec::new());
        };
        let raws = db.rows(
            "listing open journal entries",
            &format!(
                "SELECT {JOURNAL_COLUMNS} FROM export_journal j \
                 JOIN connector k ON k.id = j.connector_id \
                 WHERE j.state IN (0, 1) AND (?1 IS NULL OR j.connector_id = ?1) ORDER BY j.id"
            ),
            [connector_id],
            raw_journal,
        )?;
        raws.into_iter().map(|r| decode_journal(&db, r)).collect()
    }

    fn purge_journal(&mut self, before: DateTime) -> StoreResult<u64> {
        self.atomic(|db| {
            let n = db.exec(
                "purging the export journal",
                "DELETE FROM export_journal WHERE state IN (2, 3) AND updated_at < ?1",
                [before.ticks()],
            )?;
            Ok(n as u64)
        })
    }
}

/// The id to filter on for an optional connector: `Some(None)` = every connector,
/// `Some(Some(id))` = that one, `None` = a connector the store has never seen (nothing matches).
fn connector_filter(
    db: &Db<'_>,
    connector: Option<&ConnectorName>,
) -> StoreResult<Option<Option<i64>>> {
    match connector {
        None => Ok(Some(None)),
        Some(name) => Ok(db.connector(name)?.map(|c| Some(c.id))),
    }
}
