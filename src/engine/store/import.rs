//! [`ImportStore`] on SQLite: connector spaces from what connectors read.
//!
//! An imported object is found by (connector, anchor); failing that, an export object without
//! anchor and with the same DN is adopted (it is the object an earlier export created, whose
//! anchor was not recorded). Otherwise it is new. For an existing object only what differs is
//! written: an attribute whose value count and hash sum match the stored digest is not read at
//! all; a changed attribute's stored values are read and only the added and removed values are
//! written, so one member more or less in a 50,000-member group costs one row (plus reading the
//! group's stored values once to find which).
//!
//! A delta's value changes ([`ImportStore::import_value_changes`]: DirSync's added and removed
//! members) are applied without comparing anything: each removed value is one `DELETE` and each
//! added one an `INSERT OR IGNORE` by the value's primary key, and the attribute's digest is
//! adjusted by the values that really went or came (count, wrapping hash sum, next ordinal), so
//! the cost follows the change and a later whole import still compares by digest. A value
//! already present or already absent changes nothing, which makes a repeated DirSync batch a
//! no-op. The effective changes are recorded and the object marked exactly as `update_existing`
//! does for a changed object; an unknown anchor writes nothing and returns `None`.
//!
//! Pending imports accumulate between syncs: Add stays Add until synced (value changes are not
//! recorded for it, the whole object is new), an Update records its value changes in
//! `cs_pending_value` (a value added and then removed again cancels out), a Delete of an object
//! no sync has seen (pending Add, not joined) removes it outright, and an object that comes back
//! after a Delete becomes an Update.
//!
//! A full import is mark-and-sweep: [`ImportStore::begin_full_import`] increases the
//! connector's import generation, every imported object is stamped with the current
//! generation, and [`ImportStore::finish_full_import`] marks the objects with an older stamp
//! (and an anchor: unexported export objects are not in the directory yet) pending Delete with
//! one `UPDATE` over the connector's objects. The stamp itself is deliberately not indexed:
//! re-stamping every object of a full import then rewrites rows in place instead of moving
//! 100,000 index entries, and the sweep, once per full import, walks the connector's index.

use std::collections::HashMap;

use rusqlite::params;

use super::codec::{self, Digest};
use super::records::{ImportChange, ImportGeneration, ImportOutcome, SweepOutcome, ValueChanges};
use super::space::{
    CsHeader, IncomingAttribute, NewCsRow, accumulate, confirm_journal, cs_columns, delete_value,
    goes_inline, insert_object, insert_rows, insert_value, row_values,
};
use super::sqlite::{ConnectorRow, Db, SqliteTx};
use super::valueset::ValueSet;
use super::{ImportStore, StoreResult};
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::Value;
use crate::engine::model::{
    Anchor, ConnectorName, CsId, ImportedObject, PendingImport, ValueDelta,
};

/// The sweep's removal of unseen objects no sync has seen: `?1` connector, `?2` generation.
pub(crate) const SWEEP_REMOVE_SQL: &str = "DELETE FROM cs_object INDEXED BY cs_object_connector \
     WHERE connector_id = ?1 AND seen_generation < ?2 AND anchor IS NOT NULL \
     AND pending_import = 1 AND mv_id IS NULL";

/// The sweep's marking of unseen objects as deleted: `?1` connector, `?2` generation.
pub(crate) const SWEEP_MARK_SQL: &str = "UPDATE cs_object INDEXED BY cs_object_connector \
     SET pending_import = 3 WHERE connector_id = ?1 AND seen_generation < ?2 \
     AND anchor IS NOT NULL AND pending_import <> 3";

/// A delta's removal of one value (a no-op when absent): `?1` object, `?2` attribute, `?3`
/// tag, `?4` payload. One primary-key lookup.
pub(crate) const VALUE_REMOVE_SQL: &str =
    "DELETE FROM cs_value WHERE cs_id = ?1 AND attribute = ?2 AND tag = ?3 AND value = ?4";

/// A delta's addition of one value (a no-op when present): `?5` the ordinal.
pub(crate) const VALUE_ADD_SQL: &str = "INSERT OR IGNORE INTO cs_value \
     (cs_id, attribute, tag, value, ordinal) VALUES (?1, ?2, ?3, ?4, ?5)";

impl ImportStore for SqliteTx<'_> {
    fn begin_full_import(&mut self, connector: &ConnectorName) -> StoreResult<ImportGeneration> {
        self.atomic(|db| {
            let c = db.connector_or_create(connector)?;
            let generation = c.generation + 1;
            db.exec(
                "starting a full import",
                "UPDATE connector SET import_generation = ?2 WHERE id = ?1",
                params![c.id, generation],
            )?;
            db.remember_connector(
                connector,
                ConnectorRow {
                    id: c.id,
                    generation,
                },
            );
            Ok(ImportGeneration(generation))
        })
    }

    fn import_object(
        &mut self,
        connector: &ConnectorName,
        object: &ImportedObject,
    ) -> StoreResult<ImportOutcome> {
        self.atomic(|db| import_object(db, connector, object))
    }

    fn import_deleted(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<ImportOutcome>> {
        self.atomic(|db| import_deleted(db, connector, anchor))
    }

    fn import_value_changes(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
        dn: Option<&Dn>,
        changes: &[ValueDelta],
    ) -> StoreResult<Option<ImportOutcome>> {
        self.atomic(|db| import_value_changes(db, connector, anchor, dn, changes))
    }

    fn finish_full_import(
        &mut self,
        connector: &ConnectorName,
        generation: ImportGeneration,
    ) -> StoreResult<SweepOutcome> {
        self.atomic(|db| {
            let Some(c) = db.connector(connector)? else {
                return Ok(SweepOutcome::default());
            };
            let removed = db.exec(
                "removing objects a full import no longer saw",
                SWEEP_REMOVE_SQL,
                params![c.id, generation.0],
            )?;
            let marked = db.exec(
                "marking objects a full import no longer saw as deleted",
                SWEEP_MARK_SQL,
                params![c.id, generation.0],
            )?;
            Ok(SweepOutcome {
                marked_deleted: marked as u64,
                removed: removed as u64,
            })
        })
    }
}

fn find_by_anchor(
    db: &Db<'_>,
    connector_id: i64,
    anchor: &Anchor,
) -> StoreResult<Option<CsHeader>> {
    let (kind, bytes) = codec::anchor_parts(anchor);
    let raw = db.row(
        "looking up an object by anchor",
        concat!(
            "SELECT ",
            cs_columns!(),
            " FROM cs_object c WHERE c.connector_id = ?1 AND c.anchor_kind = ?2 AND c.anchor = ?3"
        ),
        params![connector_id, kind, bytes],
        CsHeader::raw,
    )?;
    raw.map(|r| CsHeader::decode(db, r)).transpose()
}

fn import_object(
    db: &Db<'_>,
    connector: &ConnectorName,
    object: &ImportedObject,
) -> StoreResult<ImportOutcome> {
    let c = db.connector_or_create(connector)?;
    let incoming = IncomingAttribute::all(&object.attributes);
    if let Some(header) = find_by_anchor(db, c.id, &object.anchor)? {
        return update_existing(db, c, header, object, &incoming, false);
    }
    // An export object this connector created, confirmed now: adopt it.
    let dn_key = codec::dn_key(&object.dn);
    let orphan = db.row(
        "looking up an unconfirmed export object by DN",
        concat!(
            "SELECT ",
            cs_columns!(),
            " FROM cs_object c WHERE c.connector_id = ?1 AND c.dn_key = ?2 \
             AND c.anchor IS NULL ORDER BY c.id LIMIT 1"
        ),
        params![c.id, dn_key],
        CsHeader::raw,
    )?;
    if let Some(raw) = orphan {
        let header = CsHeader::decode(db, raw)?;
        let (kind, bytes) = codec::anchor_parts(&object.anchor);
        db.exec(
            "recording the anchor of a confirmed export object",
            "UPDATE cs_object SET anchor_kind = ?2, anchor = ?3 WHERE id = ?1",
            params![header.id, kind, bytes],
        )?;
        return update_existing(db, c, header, object, &incoming, true);
    }
    let digests: Vec<Digest> = incoming
        .iter()
        .map(IncomingAttribute::fresh_digest)
        .collect();
    let id = insert_object(
        db,
        &NewCsRow {
            connector_id: c.id,
            anchor: Some(&object.anchor),
            dn: &object.dn,
            object_class: &object.object_class,
            mv: None,
            pending: PendingImport::Add,
            generation: c.generation,
            digests: &digests,
            inline: &IncomingAttribute::inline_blob(&incoming),
        },
    )?;
    insert_rows(db, id, &incoming)?;
    Ok(ImportOutcome {
        cs: CsId(id),
        change: ImportChange::Added,
        pending: PendingImport::Add,
        previous_dn: None,
        previous_object_class: None,
        values: Vec::new(),
        adopted: false,
    })
}

/// Compares an existing object with what was imported and writes the differences. An
/// attribute is placed anew (inline or rows, see `space.rs`) only when it changed.
fn update_existing(
    db: &Db<'_>,
    c: ConnectorRow,
    header: CsHeader,
    object: &ImportedObject,
    incoming: &[IncomingAttribute<'_>],
    adopted: bool,
) -> StoreResult<ImportOutcome> {
    let cs = header.id;
    let old_digests = header.digests(db)?;
    let old_inline = header.inline(db)?;
    let inline_at =
        |name: &AttributeName| old_inline.iter().position(|(n, _)| name.eq_ignore_case(n));
    let mut stored: Vec<Option<Digest>> = old_digests.iter().cloned().map(Some).collect();
    let index: HashMap<&AttributeName, usize> = old_digests
        .iter()
        .enumerate()
        .map(|(i, d)| (&d.name, i))
        .collect();
    let mut digests = Vec::with_capacity(incoming.len());
    let mut changes: Vec<ValueChanges> = Vec::new();
    let mut new_inline: Vec<(&AttributeName, Vec<&Value>)> = Vec::new();
    // Inline values that stay, read back from rows an attribute moves out of.
    let mut from_rows: Vec<(usize, Vec<Value>)> = Vec::new();

    for (i, attr) in incoming.iter().enumerate() {
        let previous = index.get(attr.name).and_then(|&i| stored[i].take());
        let Some(d) = previous else {
            if attr.inline {
                new_inline.push((attr.name, attr.set.values().to_vec()));
            } else {
                for (ordinal, value) in attr.set.values().iter().enumerate() {
                    insert_value(db, cs, attr.name, value, ordinal as u64)?;
                }
            }
            digests.push(attr.fresh_digest());
            changes.push(ValueChanges {
                attribute: attr.name.clone(),
                added: attr.set.values().iter().map(|v| (*v).clone()).collect(),
                removed: Vec::new(),
            });
            continue;
        };
        let was_inline = inline_at(attr.name);
        if d.count == attr.count() && d.sum == attr.set.sum() {
            if let Some(p) = was_inline {
                new_inline.push((attr.name, old_inline[p].1.iter().collect()));
            }
            digests.push(Digest {
                name: attr.name.clone(),
                ..d
            });
            continue;
        }
        match (was_inline, attr.inline) {
            (None, false) => {
                let (digest, change) = rewrite_attribute(db, cs, &d, attr)?;
                digests.push(digest);
                changes.push(change);
            }
            (Some(p), false) => {
                // Now references or a long list: into rows, all of them.
                for (ordinal, value) in attr.set.values().iter().enumerate() {
                    insert_value(db, cs, attr.name, value, ordinal as u64)?;
                }
                digests.push(attr.fresh_digest());
                changes.push(difference(attr, &old_inline[p].1));
            }
            (Some(p), true) => {
                let old = &old_inline[p].1;
                new_inline.push((attr.name, kept_then_added(old, attr)));
                digests.push(attr.fresh_digest());
                changes.push(difference(attr, old));
            }
            (None, true) => {
                // Rows (stored before inline attributes, or references no more): move inline.
                let old: Vec<Value> = row_values(db, cs, &d.name)?
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect();
                db.exec(
                    "moving a connector-space attribute inline",
                    "DELETE FROM cs_value WHERE cs_id = ?1 AND attribute = ?2",
                    params![cs, d.name.as_str()],
                )?;
                changes.push(difference(attr, &old));
                digests.push(attr.fresh_digest());
                from_rows.push((i, old));
                new_inline.push((attr.name, Vec::new()));
            }
        }
    }
    // The values of attributes moved out of rows, in their old order (filled in now that
    // `from_rows` no longer grows, so the borrows are stable).
    for (i, old) in &from_rows {
        let attr = &incoming[*i];
        if let Some(slot) = new_inline.iter_mut().find(|(n, _)| *n == attr.name) {
            slot.1 = kept_then_added(old, attr);
        }
    }
    for gone in stored.into_iter().flatten() {
        let removed = match inline_at(&gone.name) {
            Some(p) => old_inline[p].1.clone(),
            None => {
                let values = row_values(db, cs, &gone.name)?;
                db.exec(
                    "removing a connector-space attribute",
                    "DELETE FROM cs_value WHERE cs_id = ?1 AND attribute = ?2",
                    params![cs, gone.name.as_str()],
                )?;
                values.into_iter().map(|(v, _)| v).collect()
            }
        };
        changes.push(ValueChanges {
            attribute: gone.name,
            added: Vec::new(),
            removed,
        });
    }
    let inline_blob = codec::cs_inline_to_blob(new_inline.iter().map(|(n, v)| (*n, v.as_slice())));
    // An object from before inline attributes with none now keeps its NULL.
    let inline_blob =
        (header.inline_blob.is_some() || !inline_blob.is_empty()).then_some(inline_blob);

    let new_dn = object.dn.to_string();
    let previous_dn = if new_dn == header.dn_text {
        None
    } else {
        Some(header.dn(db)?)
    };
    let previous_object_class =
        (object.object_class != header.object_class).then(|| header.object_class.clone());
    let changed = !changes.is_empty() || previous_dn.is_some() || previous_object_class.is_some();
    let pending = pending_after(db, cs, header.pending, changed, &changes)?;
    let blob = codec::digests_to_blob(&digests);
    if changed
        || pending != header.pending
        || blob != header.digests_blob
        || inline_blob != header.inline_blob
    {
        db.exec(
            "updating a connector-space object",
            "UPDATE cs_object SET dn = ?2, dn_key = ?3, object_class = ?4, pending_import = ?5, \
             seen_generation = ?6, digests = ?7, attrs = ?8 WHERE id = ?1",
            params![
                cs,
                new_dn,
                codec::dn_key(&object.dn),
                object.object_class,
                codec::pending_code(pending),
                c.generation,
                blob,
                inline_blob
            ],
        )?;
    } else {
        mark_seen(db, cs, c.generation)?;
    }
    confirm_journal(db, cs)?;
    Ok(ImportOutcome {
        cs: CsId(cs),
        change: if changed || pending != header.pending {
            ImportChange::Updated
        } else {
            ImportChange::Unchanged
        },
        pending,
        previous_dn,
        previous_object_class,
        values: changes,
        adopted,
    })
}

/// The values an attribute gained and lost against `old` (exact comparison, as the rows'
/// primary key compares).
fn difference(attr: &IncomingAttribute<'_>, old: &[Value]) -> ValueChanges {
    ValueChanges {
        attribute: attr.name.clone(),
        added: attr
            .set
            .values()
            .iter()
            .filter(|v| !old.contains(v))
            .map(|v| (*v).clone())
            .collect(),
        removed: old
            .iter()
            .filter(|v| !attr.set.values().contains(v))
            .cloned()
            .collect(),
    }
}

/// The new inline values in stored order: the old values that stay, then the added ones in the
/// order they arrived (as ordinals keep the order for rows).
fn kept_then_added<'v>(old: &'v [Value], attr: &IncomingAttribute<'v>) -> Vec<&'v Value> {
    let now = attr.set.values();
    let mut out: Vec<&Value> = old.iter().filter(|v| now.contains(v)).collect();
    out.extend(now.iter().copied().filter(|v| !old.contains(v)));
    out
}

/// Writes the difference between an attribute's stored values and the imported ones. Stored
/// rows are matched against the imported set by hash and exact payload, straight from SQLite;
/// only the rows that are gone are decoded.
fn rewrite_attribute(
    db: &Db<'_>,
    cs: i64,
    stored: &Digest,
    attr: &IncomingAttribute<'_>,
) -> StoreResult<(Digest, ValueChanges)> {
    let mut present = vec![false; attr.set.len()];
    let gone = db.rows(
        "reading a connector-space attribute",
        "SELECT tag, value FROM cs_value WHERE cs_id = ?1 AND attribute = ?2",
        params![cs, stored.name.as_str()],
        |r| {
            let (tag, payload) = (r.get::<_, i64>(0)?, r.get_ref(1)?);
            Ok(match attr.set.find(tag, payload) {
                Some(i) => {
                    present[i] = true;
                    None
                }
                None => Some(codec::from_sql(tag, payload)),
            })
        },
    )?;
    let mut removed: Vec<Value> = Vec::new();
    for value in gone.into_iter().flatten() {
        let value = db.decode(value)?;
        delete_value(db, cs, &stored.name, &value)?;
        removed.push(value);
    }
    let mut added: Vec<Value> = Vec::new();
    let mut next = stored.next_ordinal;
    for (value, _) in attr.set.values().iter().zip(&present).filter(|(_, p)| !**p) {
        insert_value(db, cs, attr.name, value, next)?;
        next += 1;
        added.push((*value).clone());
    }
    Ok((
        Digest {
            name: attr.name.clone(),
            count: attr.count(),
            sum: attr.set.sum(),
            next_ordinal: next,
        },
        ValueChanges {
            attribute: attr.name.clone(),
            added,
            removed,
        },
    ))
}

/// Applies a delta's value changes to an existing object: one statement per value, the
/// attribute's digest (count, hash sum, next ordinal) adjusted by the values that really came or
/// went, so nothing else of the attribute is read.
fn import_value_changes(
    db: &Db<'_>,
    connector: &ConnectorName,
    anchor: &Anchor,
    dn: Option<&Dn>,
    changes: &[ValueDelta],
) -> StoreResult<Option<ImportOutcome>> {
    let Some(c) = db.connector(connector)? else {
        return Ok(None);
    };
    let Some(header) = find_by_anchor(db, c.id, anchor)? else {
        return Ok(None);
    };
    let cs = header.id;
    let mut digests = header.digests(db)?;
    let mut inline: Vec<(AttributeName, Vec<Value>)> = Vec::new();
    for (text, values) in header.inline(db)? {
        inline.push((db.decode(codec::attribute_from(text))?, values));
    }
    let mut inline_changed = false;
    let mut effective: Vec<ValueChanges> = Vec::new();
    for delta in changes {
        let at = digests.iter().position(|d| d.name == delta.attribute);
        let mut digest = match at {
            Some(i) => digests[i].clone(),
            None => Digest {
                name: delta.attribute.clone(),
                count: 0,
                sum: 0,
                next_ordinal: 0,
            },
        };
        let mut change = ValueChanges {
            attribute: digest.name.clone(),
            added: Vec::new(),
            removed: Vec::new(),
        };
        let inline_at = inline.iter().position(|(n, _)| *n == digest.name);
        let added = ValueSet::new(&delta.added);
        let goes_to_rows = match inline_at {
            Some(_) => false,
            // A new attribute is placed by what arrives; one already in rows stays there.
            None if at.is_none() => !goes_inline(added.values()),
            None => true,
        };
        if !goes_to_rows {
            // Inline: the values change in memory and the BLOB is written once below.
            let p = match inline_at {
                Some(p) => p,
                None => {
                    inline.push((digest.name.clone(), Vec::new()));
                    inline.len() - 1
                }
            };
            let values = &mut inline[p].1;
            for value in ValueSet::new(&delta.removed).values() {
                if let Some(i) = values.iter().position(|v| v == *value) {
                    let v = values.remove(i);
                    digest.count = digest.count.saturating_sub(1);
                    digest.sum = digest.sum.wrapping_sub(codec::value_hash(&v));
                    change.removed.push(v);
                }
            }
            for value in added.values() {
                if !values.contains(value) {
                    values.push((*value).clone());
                    digest.count += 1;
                    digest.sum = digest.sum.wrapping_add(codec::value_hash(value));
                    change.added.push((*value).clone());
                }
            }
            digest.next_ordinal = digest.count;
            inline_changed |= !change.is_empty();
            let refs: Vec<&Value> = inline[p].1.iter().collect();
            if inline[p].1.is_empty() {
                inline.remove(p);
            } else if !goes_inline(&refs) {
                // Grown into references or a long list: the attribute moves to rows.
                let (name, values) = inline.remove(p);
                for (ordinal, value) in values.iter().enumerate() {
                    insert_value(db, cs, &name, value, ordinal as u64)?;
                }
            }
        } else {
            // Removals first: a value both removed and added in one delta ends up present.
            for value in ValueSet::new(&delta.removed).values() {
                let gone = db.exec(
                    "removing a connector-space value",
                    VALUE_REMOVE_SQL,
                    params![
                        cs,
                        digest.name.as_str(),
                        codec::tag(value),
                        codec::payload(value)
                    ],
                )?;
                if gone > 0 {
                    digest.count = digest.count.saturating_sub(1);
                    digest.sum = digest.sum.wrapping_sub(codec::value_hash(value));
                    change.removed.push((*value).clone());
                }
            }
            for value in added.values() {
                let new = db.exec(
                    "storing a connector-space value",
                    VALUE_ADD_SQL,
                    params![
                        cs,
                        digest.name.as_str(),
                        codec::tag(value),
                        codec::payload(value),
                        codec::to_i64(digest.next_ordinal)
                    ],
                )?;
                if new > 0 {
                    digest.count += 1;
                    digest.sum = digest.sum.wrapping_add(codec::value_hash(value));
                    digest.next_ordinal += 1;
                    change.added.push((*value).clone());
                }
            }
        }
        if change.is_empty() {
            continue;
        }
        match at {
            Some(i) if digest.count == 0 => {
                digests.remove(i);
            }
            Some(i) => digests[i] = digest,
            None if digest.count == 0 => {}
            None => digests.push(digest),
        }
        effective.push(change);
    }

    let previous_dn = match dn {
        Some(dn) if dn.to_string() != header.dn_text => Some(header.dn(db)?),
        _ => None,
    };
    let changed = !effective.is_empty() || previous_dn.is_some();
    let pending = pending_after(db, cs, header.pending, changed, &effective)?;
    if changed || pending != header.pending {
        if let (Some(dn), Some(_)) = (dn, &previous_dn) {
            db.exec(
                "renaming a connector-space object",
                "UPDATE cs_object SET dn = ?2, dn_key = ?3 WHERE id = ?1",
                params![cs, dn.to_string(), codec::dn_key(dn)],
            )?;
        }
        let inline_blob = if inline_changed {
            let refs: Vec<(&AttributeName, Vec<&Value>)> = inline
                .iter()
                .map(|(n, v)| (n, v.iter().collect()))
                .collect();
            Some(codec::cs_inline_to_blob(
                refs.iter().map(|(n, v)| (*n, v.as_slice())),
            ))
        } else {
            header.inline_blob.clone()
        };
        db.exec(
            "updating a connector-space object",
            "UPDATE cs_object SET pending_import = ?2, seen_generation = ?3, digests = ?4, \
             attrs = ?5 WHERE id = ?1",
            params![
                cs,
                codec::pending_code(pending),
                c.generation,
                codec::digests_to_blob(&digests),
                inline_blob
            ],
        )?;
    } else {
        mark_seen(db, cs, c.generation)?;
    }
    confirm_journal(db, cs)?;
    Ok(Some(ImportOutcome {
        cs: CsId(cs),
        change: if changed || pending != header.pending {
            ImportChange::Updated
        } else {
            ImportChange::Unchanged
        },
        pending,
        previous_dn,
        previous_object_class: None,
        values: effective,
        adopted: false,
    }))
}

/// Records that this import generation saw the object (the full import's sweep spares it).
fn mark_seen(db: &Db<'_>, cs: i64, generation: i64) -> StoreResult<()> {
    db.exec(
        "marking an object as seen",
        "UPDATE cs_object SET seen_generation = ?2 WHERE id = ?1 AND seen_generation <> ?2",
        params![cs, generation],
    )?;
    Ok(())
}

/// The pending import of an object after an import that `changed` it (or not), recording the
/// value changes the delta sync will see when it becomes (or stays) an Update. A new object
/// stays Add (its values are all new anyway); a deleted one that comes back is an Update.
fn pending_after(
    db: &Db<'_>,
    cs: i64,
    before: PendingImport,
    changed: bool,
    changes: &[ValueChanges],
) -> StoreResult<PendingImport> {
    let pending = if changed || before == PendingImport::Delete {
        match before {
            PendingImport::Add => PendingImport::Add,
            _ => PendingImport::Update,
        }
    } else {
        before
    };
    if pending == PendingImport::Update {
        for change in changes {
            for v in &change.added {
                accumulate(db, cs, &change.attribute, v, true)?;
            }
            for v in &change.removed {
                accumulate(db, cs, &change.attribute, v, false)?;
            }
        }
    }
    Ok(pending)
}

fn import_deleted(
    db: &Db<'_>,
    connector: &ConnectorName,
    anchor: &Anchor,
) -> StoreResult<Option<ImportOutcome>> {
    let Some(c) = db.connector(connector)? else {
        return Ok(None);
    };
    let Some(header) = find_by_anchor(db, c.id, anchor)? else {
        return Ok(None);
    };
    confirm_journal(db, header.id)?;
    let outcome = |change, pending| ImportOutcome {
        cs: CsId(header.id),
        change,
        pending,
        previous_dn: None,
        previous_object_class: None,
        values: Vec::new(),
        adopted: false,
    };
    match header.pending {
        PendingImport::Delete => Ok(Some(outcome(
            ImportChange::Unchanged,
            PendingImport::Delete,
        ))),
        PendingImport::Add if header.mv.is_none() => {
            db.exec(
                "removing an object deleted before it was synchronized",
                "DELETE FROM cs_object WHERE id = ?1",
                [header.id],
            )?;
            Ok(Some(outcome(ImportChange::Deleted, PendingImport::None)))
        }
        _ => {
            db.exec(
                "marking an object deleted",
                "UPDATE cs_object SET pending_import = 3, seen_generation = ?2 WHERE id = ?1",
                params![header.id, c.generation],
            )?;
            Ok(Some(outcome(ImportChange::Deleted, PendingImport::Delete)))
        }
    }
}
