//! [`MetaverseStore`] on SQLite: metaverse objects, their attributes with lineage, and join
//! lookups.
//!
//! Layout: `mv_object` (id, type, `attrs`); most attributes live **inline**, in the object's
//! own row: `attrs` is one BLOB with each attribute's name, lineage (the rule and connector
//! that contributed it) and values in order (`codec::inline_to_blob`). Attributes holding
//! references live in rows instead (a group's members: a member added or removed is one row,
//! never a rewrite of the whole membership, and the partial index `mv_value_ref` finds who
//! references an object): a row attribute has its lineage and next ordinal in `mv_attribute`
//! and one `mv_value` row per value. Join attributes (named in `join_attribute`) are stored
//! like any other attribute, and each of their values also has its join key (see
//! `codec::join_key`) in `mv_join` (attribute, key, object), so "which person has this
//! employeeID" is one probe of that table's key; a case-sensitive lookup then compares the
//! candidates' stored text exactly. Writing a typical person is therefore one row plus one
//! key row per join value. Databases from before schema version 4 have every attribute in
//! rows, and before version 6 join attributes were rows too: they are read as they are and
//! move inline when next written.
//!
//! Invariants: an attribute is in exactly one place (inline, or in rows); every write puts it
//! where [`goes_inline`] says (moving it if needed) and reports its changes against the values
//! it had wherever they were; a row attribute has a lineage row exactly when it has at least
//! one value row; `mv_join` holds exactly the keys of the current values of every join
//! attribute (every write of a join attribute applies the difference between its old and new
//! keys, a key two values share stays while either does, deleting an object removes its keys,
//! and [`MetaverseStore::set_join_attributes`] indexes a new join attribute's stored values and
//! drops a former one's keys); inline values keep their order (kept values first, in their
//! order, then new ones), as rows do by ordinal.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::params;

use super::codec;
use super::records::{JoinCase, Projection, ValueChanges};
use super::space::CsHeader;
use super::sqlite::{Db, MAX_ROWS, SqliteTx, after_bound, limit, value_at};
use super::valueset::ValueSet;
use super::{MetaverseStore, StoreResult};
use crate::domain::AttributeName;
use crate::engine::expr::{DateTime, Value};
use crate::engine::model::{ConnectorName, Contribution, CsId, MvId, MvObject};
use crate::engine::rules::MvObjectType;

/// An attribute's lineage row.
struct Lineage {
    rule: String,
    connector: ConnectorName,
    next_ordinal: i64,
}

fn lineage(db: &Db<'_>, mv: i64, attribute: &AttributeName) -> StoreResult<Option<Lineage>> {
    db.row(
        "reading an attribute's lineage",
        "SELECT a.rule, k.name, a.next_ordinal FROM mv_attribute a \
         JOIN connector k ON k.id = a.connector_id WHERE a.mv_id = ?1 AND a.attribute = ?2",
        params![mv, attribute.as_str()],
        |r| {
            Ok(Lineage {
                rule: r.get(0)?,
                connector: ConnectorName::new(r.get::<_, String>(1)?),
                next_ordinal: r.get(2)?,
            })
        },
    )
}

fn write_lineage(
    db: &Db<'_>,
    mv: i64,
    attribute: &AttributeName,
    rule: &str,
    connector: &ConnectorName,
    next_ordinal: i64,
) -> StoreResult<()> {
    let c = db.connector_or_create(connector)?;
    db.exec(
        "recording an attribute's lineage",
        "INSERT INTO mv_attribute (mv_id, attribute, rule, connector_id, next_ordinal) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (mv_id, attribute) DO UPDATE SET \
         rule = excluded.rule, connector_id = excluded.connector_id, \
         next_ordinal = excluded.next_ordinal",
        params![mv, attribute.as_str(), rule, c.id, next_ordinal],
    )?;
    Ok(())
}

/// The values of one attribute, in ordinal order.
fn values_of(db: &Db<'_>, mv: i64, attribute: &AttributeName) -> StoreResult<Vec<Value>> {
    let rows = db.rows(
        "reading a metaverse attribute",
        "SELECT tag, value, ordinal FROM mv_value WHERE mv_id = ?1 AND attribute = ?2",
        params![mv, attribute.as_str()],
        |r| Ok((value_at(r, 0, 1)?, r.get::<_, i64>(2)?)),
    )?;
    let mut rows = rows
        .into_iter()
        .map(|(v, o)| Ok((db.decode(v)?, o)))
        .collect::<StoreResult<Vec<_>>>()?;
    rows.sort_by_key(|(_, o)| *o);
    Ok(rows.into_iter().map(|(v, _)| v).collect())
}

fn is_join_attribute(db: &Db<'_>, attribute: &AttributeName) -> StoreResult<bool> {
    db.is_join_attribute(attribute)
}

/// Inserts a value unless present; whether it was inserted.
fn insert_value(
    db: &Db<'_>,
    mv: i64,
    attribute: &AttributeName,
    value: &Value,
    ordinal: i64,
) -> StoreResult<bool> {
    let n = db.exec(
        "storing a metaverse value",
        "INSERT OR IGNORE INTO mv_value (mv_id, attribute, tag, value, ordinal) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            mv,
            attribute.as_str(),
            codec::tag(value),
            codec::payload(value),
            ordinal
        ],
    )?;
    Ok(n > 0)
}

/// The join keys of `values` (see `codec::join_key`), each once.
fn join_keys<'v>(values: impl IntoIterator<Item = &'v Value>) -> BTreeSet<Vec<u8>> {
    values.into_iter().filter_map(codec::join_key).collect()
}

/// Keeps `mv_join` true for one join attribute of one object whose values go from `old` to
/// `new`: keys only `new` has are added, keys only `old` had are removed (a key two values
/// share stays while either is left).
fn rekey<'v>(
    db: &Db<'_>,
    mv: i64,
    attribute: &AttributeName,
    old: impl IntoIterator<Item = &'v Value>,
    new: impl IntoIterator<Item = &'v Value>,
) -> StoreResult<()> {
    let (old, new) = (join_keys(old), join_keys(new));
    for key in old.difference(&new) {
        db.exec(
            "removing a join key",
            "DELETE FROM mv_join WHERE attribute = ?1 AND value_key = ?2 AND mv_id = ?3",
            params![attribute.as_str(), key, mv],
        )?;
    }
    for key in new.difference(&old) {
        db.exec(
            "storing a join key",
            "INSERT OR IGNORE INTO mv_join (attribute, value_key, mv_id) VALUES (?1, ?2, ?3)",
            params![attribute.as_str(), key, mv],
        )?;
    }
    Ok(())
}

/// The values an object has for `attribute`, inline or in rows (`None`: no such object).
fn stored_values(
    db: &Db<'_>,
    mv: i64,
    attribute: &AttributeName,
) -> StoreResult<Option<Vec<Value>>> {
    match read_row(db, mv)? {
        Some((_, inline)) => values_among(db, mv, &inline, attribute).map(Some),
        None => Ok(None),
    }
}

/// The values of `attribute` of an object whose inline attributes were read already: inline,
/// or in rows.
fn values_among(
    db: &Db<'_>,
    mv: i64,
    inline: &[Inline],
    attribute: &AttributeName,
) -> StoreResult<Vec<Value>> {
    match inline.iter().find(|a| &a.name == attribute) {
        Some(a) => Ok(a.values.clone()),
        None => values_of(db, mv, attribute),
    }
}

/// Deletes a value; whether it was there.
fn delete_value(
    db: &Db<'_>,
    mv: i64,
    attribute: &AttributeName,
    value: &Value,
) -> StoreResult<bool> {
    let n = db.exec(
        "removing a metaverse value",
        "DELETE FROM mv_value WHERE mv_id = ?1 AND attribute = ?2 AND tag = ?3 AND value = ?4",
        params![
            mv,
            attribute.as_str(),
            codec::tag(value),
            codec::payload(value)
        ],
    )?;
    Ok(n > 0)
}

/// Removes an attribute (values and lineage); the values it had.
fn remove_attribute(db: &Db<'_>, mv: i64, attribute: &AttributeName) -> StoreResult<Vec<Value>> {
    let old = values_of(db, mv, attribute)?;
    db.exec(
        "removing a metaverse attribute",
        "DELETE FROM mv_value WHERE mv_id = ?1 AND attribute = ?2",
        params![mv, attribute.as_str()],
    )?;
    db.exec(
        "removing a metaverse attribute's lineage",
        "DELETE FROM mv_attribute WHERE mv_id = ?1 AND attribute = ?2",
        params![mv, attribute.as_str()],
    )?;
    Ok(old)
}

type Inline = codec::InlineAttribute<AttributeName>;

/// Whether an attribute with these values is kept inline (see the module doc): no reference
/// among its values.
fn goes_inline(values: &[Value]) -> bool {
    !values.iter().any(|v| matches!(v, Value::Ref(_)))
}

/// Decodes an object's inline attributes, their names and rules shared through the
/// transaction's [`Spellings`](super::sqlite::Spellings).
fn decode_inline(db: &Db<'_>, blob: &[u8]) -> StoreResult<Vec<Inline>> {
    let decoded = db.decode(codec::inline_from_blob(blob))?;
    let mut names = db.spellings();
    let mut out = Vec::with_capacity(decoded.len());
    for a in decoded {
        out.push(Inline {
            name: db.decode(names.resolve(a.name.as_bytes()))?,
            rule: names.rule(a.rule),
            connector_id: a.connector_id,
            values: a.values,
        });
    }
    Ok(out)
}

/// An object's type text and inline attributes; `None` when there is no such object.
fn read_row(db: &Db<'_>, mv: i64) -> StoreResult<Option<(String, Vec<Inline>)>> {
    let Some((type_text, blob)) = db.row(
        "reading a metaverse object",
        "SELECT object_type, attrs FROM mv_object WHERE id = ?1",
        [mv],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?)),
    )?
    else {
        return Ok(None);
    };
    let inline = match blob {
        Some(b) => decode_inline(db, &b)?,
        None => Vec::new(),
    };
    Ok(Some((type_text, inline)))
}

/// Like [`read_row`], for a write: a missing object is an error.
fn require_row(db: &Db<'_>, mv: MvId) -> StoreResult<Vec<Inline>> {
    match read_row(db, mv.0)? {
        Some((_, inline)) => Ok(inline),
        None => Err(db.not_found(format!("metaverse object {}", mv.0))),
    }
}

/// Stores an object's inline attributes (NULL when there are none).
fn write_inline(db: &Db<'_>, mv: i64, inline: &[Inline]) -> StoreResult<()> {
    let blob = (!inline.is_empty()).then(|| codec::inline_to_blob(inline));
    db.exec(
        "storing a metaverse object's attributes",
        "UPDATE mv_object SET attrs = ?2 WHERE id = ?1",
        params![mv, blob],
    )?;
    Ok(())
}

/// An inline attribute as a contribution.
fn contribution_of(db: &Db<'_>, a: Inline) -> StoreResult<(AttributeName, Contribution)> {
    Ok((
        a.name,
        Contribution {
            values: a.values,
            rule: a.rule,
            connector: db.connector_name(a.connector_id)?,
        },
    ))
}

/// Writes an attribute's values as rows (ordinals from 0) with its lineage; used when an
/// inline attribute moves into rows.
fn write_rows(db: &Db<'_>, mv: i64, a: &Inline) -> StoreResult<()> {
    let mut next = 0;
    for v in &a.values {
        if insert_value(db, mv, &a.name, v, next)? {
            next += 1;
        }
    }
    let connector = db.connector_name(a.connector_id)?;
    write_lineage(db, mv, &a.name, &a.rule, &connector, next)
}

/// The lineage (rule, connector) of one attribute, inline or in rows.
pub(crate) fn lineage_of(
    db: &Db<'_>,
    mv: MvId,
    attribute: &AttributeName,
) -> StoreResult<Option<(String, ConnectorName)>> {
    if let Some((_, inline)) = read_row(db, mv.0)?
        && let Some(a) = inline.into_iter().find(|a| &a.name == attribute)
    {
        return Ok(Some((
            a.rule.to_string(),
            db.connector_name(a.connector_id)?,
        )));
    }
    Ok(lineage(db, mv.0, attribute)?.map(|l| (l.rule, l.connector)))
}

/// A value row to insert: object, attribute, value, ordinal.
type ValueRow<'a> = (i64, &'a AttributeName, &'a Value, i64);

/// A lineage row to write: object, attribute, rule, connector row id, next ordinal.
type LineageRow<'a> = (i64, &'a AttributeName, &'a str, i64, i64);

/// Inserts value rows, a few statements for many rows (a value already there stays).
fn insert_value_rows(db: &Db<'_>, rows: &[ValueRow<'_>]) -> StoreResult<()> {
    let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let tags: Vec<i64> = rows.iter().map(|r| codec::tag(r.2)).collect();
    let payloads: Vec<_> = rows.iter().map(|r| codec::payload(r.2)).collect();
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 5);
    for (i, r) in rows.iter().enumerate() {
        params.push(&r.0);
        params.push(&names[i]);
        params.push(&tags[i]);
        params.push(&payloads[i]);
        params.push(&r.3);
    }
    db.insert_rows(
        "storing metaverse values",
        "INSERT OR IGNORE INTO mv_value (mv_id, attribute, tag, value, ordinal)",
        5,
        &params,
    )
}

/// Inserts join keys (object, attribute, key), a few statements for many (a key already there
/// stays).
fn insert_join_keys(db: &Db<'_>, keys: &[(i64, &AttributeName, Vec<u8>)]) -> StoreResult<()> {
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(keys.len() * 3);
    let names: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    for (k, name) in keys.iter().zip(&names) {
        params.push(name);
        params.push(&k.2);
        params.push(&k.0);
    }
    db.insert_rows(
        "storing join keys",
        "INSERT OR IGNORE INTO mv_join (attribute, value_key, mv_id)",
        3,
        &params,
    )
}

/// Writes lineage rows (replacing an attribute's earlier lineage), a few statements for many.
fn upsert_lineage_rows(db: &Db<'_>, rows: &[LineageRow<'_>]) -> StoreResult<()> {
    let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 5);
    for (i, r) in rows.iter().enumerate() {
        params.push(&r.0);
        params.push(&names[i]);
        params.push(&r.2);
        params.push(&r.3);
        params.push(&r.4);
    }
    db.insert_rows_then(
        "recording attributes' lineage",
        "INSERT INTO mv_attribute (mv_id, attribute, rule, connector_id, next_ordinal)",
        "ON CONFLICT (mv_id, attribute) DO UPDATE SET rule = excluded.rule, \
         connector_id = excluded.connector_id, next_ordinal = excluded.next_ordinal",
        5,
        &params,
    )
}

/// [`MetaverseStore::set_mv_attributes`]: one read of the object's row and lineage, then only
/// the differences are written (inline attributes in one row update at the end, new row
/// values and lineage in a few statements for the whole object).
fn write_attributes(
    db: &Db<'_>,
    mv: MvId,
    attributes: &[(&AttributeName, Option<&Contribution>)],
) -> StoreResult<Vec<ValueChanges>> {
    let mut inline = require_row(db, mv)?;
    let mut inline_changed = false;
    let mut lineages: BTreeMap<AttributeName, i64> = BTreeMap::new();
    for (attr, next) in db.rows(
        "reading a metaverse object's lineage",
        "SELECT attribute, next_ordinal FROM mv_attribute WHERE mv_id = ?1",
        [mv.0],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        lineages.insert(db.decode(codec::attribute_from(&attr))?, next);
    }
    let mut out = Vec::with_capacity(attributes.len());
    let mut inserts: Vec<ValueRow<'_>> = Vec::new();
    let mut lineage_rows: Vec<LineageRow<'_>> = Vec::new();
    let mut last_connector: Option<(&ConnectorName, i64)> = None;
    for &(attribute, contribution) in attributes {
        let pos = inline.iter().position(|a| &a.name == attribute);
        let in_rows = lineages.contains_key(attribute);
        // Only the attributes being written are read (never, say, a group's whole
        // membership), and only those that have values at all.
        let old: Vec<Value> = match pos {
            Some(i) => inline[i].values.clone(),
            None if in_rows => values_of(db, mv.0, attribute)?,
            None => Vec::new(),
        };
        let mut changes = ValueChanges {
            attribute: attribute.clone(),
            added: Vec::new(),
            removed: Vec::new(),
        };
        let join = is_join_attribute(db, attribute)?;
        let Some(c) = contribution.filter(|c| !c.values.is_empty()) else {
            if join {
                rekey(db, mv.0, attribute, &old, [])?;
            }
            if let Some(i) = pos {
                inline.remove(i);
                inline_changed = true;
                changes.removed = old;
            } else if in_rows || !old.is_empty() {
                changes.removed = remove_attribute(db, mv.0, attribute)?;
            }
            out.push(changes);
            continue;
        };
        let new = ValueSet::new(&c.values);
        let new_index = HashIndex::new(new.values().iter().copied());
        let old_index = HashIndex::new(old.iter());
        changes.removed = old
            .iter()
            .filter(|v| !new_index.contains(v))
            .cloned()
            .collect();
        changes.added = new
            .values()
            .iter()
            .filter(|v| !old_index.contains(v))
            .map(|v| (*v).clone())
            .collect();
        // Attributes of an object mostly come from one connector: its row is looked up once.
        let connector_id = match &last_connector {
            Some((name, id)) if *name == &c.connector => *id,
            _ => {
                let id = db.connector_or_create(&c.connector)?.id;
                last_connector = Some((&c.connector, id));
                id
            }
        };
        if join {
            rekey(db, mv.0, attribute, &old, new.values().iter().copied())?;
        }
        if goes_inline(&c.values) {
            if in_rows {
                remove_attribute(db, mv.0, attribute)?;
            }
            let values: Vec<Value> = old
                .iter()
                .filter(|v| new_index.contains(v))
                .cloned()
                .chain(changes.added.iter().cloned())
                .collect();
            let entry = Inline {
                name: attribute.clone(),
                rule: c.rule.clone(),
                connector_id,
                values,
            };
            match pos {
                Some(i) if inline[i] == entry => {}
                Some(i) => {
                    inline[i] = entry;
                    inline_changed = true;
                }
                None => {
                    inline.push(entry);
                    inline_changed = true;
                }
            }
            out.push(changes);
            continue;
        }
        // Into rows: what is in rows now is compared with the new values (an attribute that
        // was inline has no rows yet, so all its values are written).
        let mut next = lineages.get(attribute).copied().unwrap_or(0);
        let fresh: Vec<&Value> = if let Some(i) = pos {
            inline.remove(i);
            inline_changed = true;
            new.values().to_vec()
        } else {
            for v in &changes.removed {
                delete_value(db, mv.0, attribute, v)?;
            }
            new.values()
                .iter()
                .copied()
                .filter(|v| !old_index.contains(v))
                .collect()
        };
        for v in fresh {
            inserts.push((mv.0, attribute, v, next));
            next += 1;
        }
        lineage_rows.push((mv.0, attribute, &c.rule, connector_id, next));
        out.push(changes);
    }
    if inline_changed {
        write_inline(db, mv.0, &inline)?;
    }
    insert_value_rows(db, &inserts)?;
    upsert_lineage_rows(db, &lineage_rows)?;
    Ok(out)
}

/// Indexes every stored value of `attribute`, which just became a join attribute, wherever it
/// lives (inline or in rows).
fn index_join_attribute(db: &Db<'_>, attribute: &AttributeName) -> StoreResult<()> {
    let blobs: Vec<(i64, Vec<u8>)> = db.rows(
        "finding metaverse objects with a new join attribute",
        "SELECT id, attrs FROM mv_object WHERE attrs IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut keys: Vec<(i64, &AttributeName, Vec<u8>)> = Vec::new();
    for (mv, blob) in blobs {
        for a in decode_inline(db, &blob)? {
            if &a.name == attribute {
                keys.extend(join_keys(&a.values).into_iter().map(|k| (mv, attribute, k)));
            }
        }
    }
    let rows = db.rows(
        "indexing a join attribute",
        "SELECT mv_id, tag, value FROM mv_value WHERE attribute = ?1",
        [attribute.as_str()],
        |r| Ok((r.get::<_, i64>(0)?, value_at(r, 1, 2)?)),
    )?;
    for (mv, value) in rows {
        if let Some(k) = codec::join_key(&db.decode(value)?) {
            keys.push((mv, attribute, k));
        }
    }
    insert_join_keys(db, &keys)
}

/// [`MetaverseStore::project_many`].
fn project_batch(db: &Db<'_>, batch: &[Projection]) -> StoreResult<Vec<MvId>> {
    let now = DateTime::now().ticks();
    // Connector rows are cached by the transaction.
    let connector_id =
        |name: &ConnectorName| -> StoreResult<i64> { Ok(db.connector_or_create(name)?.id) };
    // Each object's inline attributes as one BLOB; references as rows; the join attributes'
    // keys (object by index into the batch until the ids are known).
    let mut blobs: Vec<Option<Vec<u8>>> = Vec::with_capacity(batch.len());
    let mut row_attributes: Vec<(usize, Inline)> = Vec::new();
    let mut keys: Vec<(usize, &AttributeName, Vec<u8>)> = Vec::new();
    for (i, p) in batch.iter().enumerate() {
        let mut inline: Vec<Inline> = Vec::new();
        for (name, c) in &p.attributes {
            if c.values.is_empty() {
                continue;
            }
            let join = is_join_attribute(db, name)?;
            let entry = Inline {
                name: name.clone(),
                rule: c.rule.clone(),
                connector_id: connector_id(&c.connector)?,
                values: ValueSet::new(&c.values)
                    .values()
                    .iter()
                    .map(|v| (*v).clone())
                    .collect(),
            };
            if join {
                keys.extend(join_keys(&entry.values).into_iter().map(|k| (i, name, k)));
            }
            if goes_inline(&c.values) {
                inline.push(entry);
            } else {
                row_attributes.push((i, entry));
            }
        }
        blobs.push((!inline.is_empty()).then(|| codec::inline_to_blob(&inline)));
    }
    // The objects, a chunk per statement: the ids of one INSERT are consecutive (nothing else
    // writes meanwhile), which the count below confirms.
    let mut ids: Vec<MvId> = Vec::with_capacity(batch.len());
    for (chunk, chunk_blobs) in batch.chunks(MAX_ROWS).zip(blobs.chunks(MAX_ROWS)) {
        let types: Vec<&str> = chunk.iter().map(|p| p.object_type.as_str()).collect();
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 3);
        for (t, b) in types.iter().zip(chunk_blobs) {
            params.push(t);
            params.push(&now);
            params.push(b);
        }
        db.insert_rows(
            "creating metaverse objects",
            "INSERT INTO mv_object (object_type, created_at, attrs)",
            3,
            &params,
        )?;
        let last = db.last_id();
        let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        let first = last - n + 1;
        let counted: Option<i64> = db.row(
            "checking new metaverse objects",
            "SELECT COUNT(*) FROM mv_object WHERE id BETWEEN ?1 AND ?2",
            params![first, last],
            |r| r.get(0),
        )?;
        if counted != Some(n) {
            return Err(db.corrupt(format!(
                "{n} metaverse objects were created, but ids {first}..{last} hold {counted:?}"
            )));
        }
        ids.extend((first..=last).map(MvId));
    }
    // Joins: every object must still be free.
    for (chunk, chunk_ids) in batch.chunks(MAX_ROWS).zip(ids.chunks(MAX_ROWS)) {
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 2);
        for (p, mv) in chunk.iter().zip(chunk_ids) {
            params.push(&p.cs.0);
            params.push(&mv.0);
        }
        let rows = vec!["(?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "UPDATE cs_object SET mv_id = v.column2 FROM (VALUES {rows}) AS v \
             WHERE cs_object.id = v.column1 AND cs_object.mv_id IS NULL"
        );
        let n = db.exec("joining objects", &sql, params.as_slice())?;
        if n != chunk.len() {
            let taken: Vec<String> = chunk
                .iter()
                .filter_map(|p| {
                    let header = CsHeader::require(db, p.cs);
                    match header {
                        Ok(h) if h.mv.is_none() => None,
                        Ok(h) => Some(format!("{} ({})", p.cs.0, h.dn_text)),
                        Err(_) => Some(format!("{} (missing)", p.cs.0)),
                    }
                })
                .collect();
            return Err(db.conflict(format!(
                "connector-space objects {} are joined already or gone; nothing was projected",
                taken.join(", ")
            )));
        }
    }
    // Row attributes (references) with their lineage, and the join keys.
    let mut values: Vec<ValueRow<'_>> = Vec::new();
    let mut lineage_rows: Vec<LineageRow<'_>> = Vec::new();
    for (i, a) in &row_attributes {
        let mv = ids[*i].0;
        let mut next = 0;
        for v in &a.values {
            values.push((mv, &a.name, v, next));
            next += 1;
        }
        lineage_rows.push((mv, &a.name, &a.rule, a.connector_id, next));
    }
    insert_value_rows(db, &values)?;
    upsert_lineage_rows(db, &lineage_rows)?;
    let keys: Vec<(i64, &AttributeName, Vec<u8>)> = keys
        .into_iter()
        .map(|(i, name, k)| (ids[i].0, name, k))
        .collect();
    insert_join_keys(db, &keys)?;
    // Unresolved references these objects held (from an earlier join) are void now.
    for chunk in batch.chunks(MAX_ROWS) {
        let list = vec!["?"; chunk.len()].join(", ");
        let cs: Vec<i64> = chunk.iter().map(|p| p.cs.0).collect();
        db.exec(
            "forgetting unresolved references",
            &format!("DELETE FROM unresolved_ref WHERE cs_id IN ({list})"),
            rusqlite::params_from_iter(cs.iter()),
        )?;
    }
    Ok(ids)
}

fn read_mv(db: &Db<'_>, mv: MvId, skip: &[AttributeName]) -> StoreResult<Option<MvObject>> {
    let Some((type_text, inline)) = read_row(db, mv.0)? else {
        return Ok(None);
    };
    let object_type = MvObjectType::parse(&type_text)
        .ok_or_else(|| db.corrupt(format!("unknown metaverse object type '{type_text}'")))?;
    let mut attributes = BTreeMap::new();
    for a in inline {
        if !skip.contains(&a.name) {
            let (name, c) = contribution_of(db, a)?;
            attributes.insert(name, c);
        }
    }
    let lineages = db.rows(
        "reading a metaverse object's lineage",
        "SELECT a.attribute, a.rule, k.name FROM mv_attribute a \
         JOIN connector k ON k.id = a.connector_id WHERE a.mv_id = ?1",
        [mv.0],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    let mut named = Vec::with_capacity(lineages.len());
    for (attr, rule, connector) in lineages {
        named.push((db.decode(codec::attribute_from(&attr))?, rule, connector));
    }
    // One query for every value unless a skipped attribute is there (then one per attribute,
    // so a group's membership stays unread).
    let mut all: Option<HashMap<AttributeName, Vec<(i64, Value)>>> = None;
    if !named.is_empty() && !named.iter().any(|(name, _, _)| skip.contains(name)) {
        let mut by_name: HashMap<AttributeName, Vec<(i64, Value)>> =
            HashMap::with_capacity(named.len());
        for (name, _, _) in &named {
            by_name.insert(name.clone(), Vec::new());
        }
        let rows = db.rows(
            "reading a metaverse object's values",
            "SELECT attribute, tag, value, ordinal FROM mv_value WHERE mv_id = ?1",
            [mv.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    value_at(r, 1, 2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )?;
        for (attr, value, ordinal) in rows {
            let name = db.decode(codec::attribute_from(&attr))?;
            let value = db.decode(value)?;
            if let Some(list) = by_name.get_mut(&name) {
                list.push((ordinal, value));
            }
        }
        all = Some(by_name);
    }
    for (name, rule, connector) in named {
        if skip.contains(&name) {
            continue;
        }
        let values = match all.as_mut().and_then(|a| a.remove(&name)) {
            Some(mut rows) => {
                rows.sort_by_key(|(o, _)| *o);
                rows.into_iter().map(|(_, v)| v).collect()
            }
            None => values_of(db, mv.0, &name)?,
        };
        if values.is_empty() {
            continue;
        }
        attributes.insert(
            name,
            Contribution {
                values,
                rule: rule.into(),
                connector: ConnectorName::new(connector),
            },
        );
    }
    Ok(Some(MvObject {
        id: mv,
        object_type,
        attributes,
    }))
}

/// Values by hash, for set differences without quadratic comparisons.
struct HashIndex<'a>(std::collections::HashMap<u64, Vec<&'a Value>>);

impl<'a> HashIndex<'a> {
    fn new(values: impl Iterator<Item = &'a Value>) -> Self {
        let mut map: std::collections::HashMap<u64, Vec<&'a Value>> =
            std::collections::HashMap::new();
        for v in values {
            map.entry(codec::value_hash(v)).or_default().push(v);
        }
        Self(map)
    }

    fn contains(&self, v: &Value) -> bool {
        self.0
            .get(&codec::value_hash(v))
            .is_some_and(|vs| vs.contains(&v))
    }
}

/// A join lookup: `?1` attribute, `?2` join key, `?3` object type (bound as NULL when
/// `typed` is false); one probe of `mv_join`'s key, then each candidate's type.
pub(crate) fn join_lookup_sql(typed: bool) -> String {
    format!(
        "SELECT j.mv_id FROM mv_join AS j JOIN mv_object o ON o.id = j.mv_id \
         WHERE j.attribute = ?1 AND j.value_key = ?2 {} ORDER BY j.mv_id",
        if typed {
            "AND o.object_type = ?3"
        } else {
            "AND ?3 IS NULL"
        },
    )
}

/// A lineage row of a page.
struct PageLineage {
    mv: i64,
    name: AttributeName,
    rule: std::sync::Arc<str>,
    connector: ConnectorName,
}

/// Puts a page of metaverse objects together while their value rows stream by in key order:
/// each finished attribute (its values, then its lineage) goes into its object.
struct PageAssembler<'p> {
    /// The page's objects, in id order.
    objects: &'p mut Vec<MvObject>,
    /// The first object not before the current one.
    object: usize,
    /// Lineage rows in object order.
    lineages: Vec<PageLineage>,
    /// The first lineage row not before the current object.
    lineage: usize,
    /// The attribute whose values are being collected.
    current: Option<(i64, AttributeName)>,
    /// Its values with their ordinals.
    values: Vec<(i64, Value)>,
}

impl PageAssembler<'_> {
    /// Ends the current attribute: as `read_mv`, an attribute is its lineage row with its
    /// values in ordinal order (values without lineage, or lineage without values, are left
    /// out).
    fn flush(&mut self) {
        let Some((mv, name)) = self.current.take() else {
            return;
        };
        while self.objects.get(self.object).is_some_and(|o| o.id.0 < mv) {
            self.object += 1;
        }
        while self.lineages.get(self.lineage).is_some_and(|l| l.mv < mv) {
            self.lineage += 1;
        }
        let object = self.objects.get_mut(self.object).filter(|o| o.id.0 == mv);
        let lineage = self.lineages.get_mut(self.lineage..).and_then(|rest| {
            rest.iter_mut()
                .take_while(|l| l.mv == mv)
                .find(|l| l.name == name)
        });
        let (Some(object), Some(lineage)) = (object, lineage) else {
            self.values.clear();
            return;
        };
        if self.values.len() > 1 {
            self.values.sort_by_key(|(o, _)| *o);
        }
        object.attributes.insert(
            name,
            Contribution {
                values: self.values.drain(..).map(|(_, v)| v).collect(),
                rule: lineage.rule.clone(),
                connector: lineage.connector.clone(),
            },
        );
    }
}

impl MetaverseStore for SqliteTx<'_> {
    fn create_mv(&mut self, object_type: MvObjectType) -> StoreResult<MvId> {
        self.atomic(|db| {
            db.exec(
                "creating a metaverse object",
                "INSERT INTO mv_object (object_type, created_at) VALUES (?1, ?2)",
                params![object_type.as_str(), DateTime::now().ticks()],
            )?;
            Ok(MvId(db.last_id()))
        })
    }

    fn project(&mut self, cs: CsId, object_type: MvObjectType) -> StoreResult<MvId> {
        self.atomic(|db| {
            db.exec(
                "creating a metaverse object",
                "INSERT INTO mv_object (object_type, created_at) VALUES (?1, ?2)",
                params![object_type.as_str(), DateTime::now().ticks()],
            )?;
            let mv = db.last_id();
            // A new metaverse object has no joins, so only `cs` itself can be in the way.
            let n = db.exec(
                "joining objects",
                "UPDATE cs_object SET mv_id = ?2 WHERE id = ?1 AND mv_id IS NULL",
                params![cs.0, mv],
            )?;
            if n == 0 {
                let header = CsHeader::require(db, cs)?;
                return Err(db.conflict(format!(
                    "connector-space object {} ({}) is already joined to metaverse object {}; \
                     disjoin it before projecting it",
                    cs.0,
                    header.dn_text,
                    header.mv.unwrap_or_default()
                )));
            }
            Ok(MvId(mv))
        })
    }

    fn project_many(&mut self, batch: &[Projection]) -> StoreResult<Vec<MvId>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.atomic(|db| project_batch(db, batch))
    }

    fn delete_mv(&mut self, mv: MvId) -> StoreResult<bool> {
        self.atomic(|db| {
            // Its join keys go first (found from its values, its row read once: the key table is
            // indexed by key).
            if let Some((_, inline)) = read_row(db, mv.0)? {
                for attribute in db.join_attributes()? {
                    let values = values_among(db, mv.0, &inline, &attribute)?;
                    rekey(db, mv.0, &attribute, &values, [])?;
                }
            }
            let n = db.exec(
                "deleting a metaverse object",
                "DELETE FROM mv_object WHERE id = ?1",
                [mv.0],
            )?;
            Ok(n > 0)
        })
    }

    fn mv_object(&self, mv: MvId) -> StoreResult<Option<MvObject>> {
        read_mv(&self.db(), mv, &[])
    }

    fn mv_object_without(&self, mv: MvId, skip: &[AttributeName]) -> StoreResult<Option<MvObject>> {
        read_mv(&self.db(), mv, skip)
    }

    fn mv_attribute(
        &self,
        mv: MvId,
        attribute: &AttributeName,
    ) -> StoreResult<Option<Contribution>> {
        let db = self.db();
        if let Some((_, inline)) = read_row(&db, mv.0)?
            && let Some(a) = inline.into_iter().find(|a| &a.name == attribute)
        {
            return Ok(Some(contribution_of(&db, a)?.1));
        }
        let Some(l) = lineage(&db, mv.0, attribute)? else {
            return Ok(None);
        };
        let values = values_of(&db, mv.0, attribute)?;
        Ok((!values.is_empty()).then_some(Contribution {
            values,
            rule: l.rule.into(),
            connector: l.connector,
        }))
    }

    fn set_mv_attribute(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        contribution: Option<&Contribution>,
    ) -> StoreResult<ValueChanges> {
        let mut changes =
            self.atomic(|db| write_attributes(db, mv, &[(attribute, contribution)]))?;
        Ok(changes.pop().unwrap_or(ValueChanges {
            attribute: attribute.clone(),
            added: Vec::new(),
            removed: Vec::new(),
        }))
    }

    fn set_mv_attributes(
        &mut self,
        mv: MvId,
        attributes: &[(AttributeName, Option<Contribution>)],
    ) -> StoreResult<Vec<ValueChanges>> {
        if attributes.is_empty() {
            return Ok(Vec::new());
        }
        let attributes: Vec<(&AttributeName, Option<&Contribution>)> =
            attributes.iter().map(|(a, c)| (a, c.as_ref())).collect();
        self.atomic(|db| write_attributes(db, mv, &attributes))
    }

    fn add_mv_values(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        values: &[Value],
        rule: &str,
        connector: &ConnectorName,
    ) -> StoreResult<ValueChanges> {
        self.atomic(|db| {
            let mut inline = require_row(db, mv)?;
            let join = is_join_attribute(db, attribute)?;
            let pos = inline.iter().position(|a| &a.name == attribute);
            let in_rows = pos.is_none() && lineage(db, mv.0, attribute)?.is_some();
            if !in_rows && goes_inline(values) {
                let connector_id = db.connector_or_create(connector)?.id;
                let entry = match pos {
                    Some(i) => &mut inline[i],
                    None => {
                        inline.push(Inline {
                            name: attribute.clone(),
                            rule: std::sync::Arc::from(""),
                            connector_id,
                            values: Vec::new(),
                        });
                        let last = inline.len() - 1;
                        &mut inline[last]
                    }
                };
                let have = HashIndex::new(entry.values.iter());
                let added: Vec<Value> = ValueSet::new(values)
                    .values()
                    .iter()
                    .filter(|v| !have.contains(v))
                    .map(|v| (*v).clone())
                    .collect();
                drop(have);
                entry.values.extend(added.iter().cloned());
                entry.rule = rule.into();
                entry.connector_id = connector_id;
                if !entry.values.is_empty() {
                    write_inline(db, mv.0, &inline)?;
                }
                if join {
                    rekey(db, mv.0, attribute, [], &added)?;
                }
                return Ok(ValueChanges {
                    attribute: attribute.clone(),
                    added,
                    removed: Vec::new(),
                });
            }
            if let Some(i) = pos {
                // A reference arrives: the attribute moves into rows.
                let moved = inline.remove(i);
                write_inline(db, mv.0, &inline)?;
                write_rows(db, mv.0, &moved)?;
            }
            let mut next = lineage(db, mv.0, attribute)?.map_or(0, |l| l.next_ordinal);
            let mut added = Vec::new();
            for v in ValueSet::new(values).values() {
                if insert_value(db, mv.0, attribute, v, next)? {
                    next += 1;
                    added.push((*v).clone());
                }
            }
            if join {
                rekey(db, mv.0, attribute, [], &added)?;
            }
            if !added.is_empty() || lineage(db, mv.0, attribute)?.is_some() {
                write_lineage(db, mv.0, attribute, rule, connector, next)?;
            }
            Ok(ValueChanges {
                attribute: attribute.clone(),
                added,
                removed: Vec::new(),
            })
        })
    }

    fn remove_mv_values(
        &mut self,
        mv: MvId,
        attribute: &AttributeName,
        values: &[Value],
    ) -> StoreResult<ValueChanges> {
        self.atomic(|db| {
            let mut removed = Vec::new();
            if let Some((_, mut inline)) = read_row(db, mv.0)?
                && let Some(i) = inline.iter().position(|a| &a.name == attribute)
            {
                let gone = ValueSet::new(values);
                let gone = HashIndex::new(gone.values().iter().copied());
                let entry = &mut inline[i];
                let (out, kept): (Vec<Value>, Vec<Value>) = std::mem::take(&mut entry.values)
                    .into_iter()
                    .partition(|v| gone.contains(v));
                entry.values = kept;
                removed = out;
                if !removed.is_empty() && is_join_attribute(db, attribute)? {
                    let kept = &inline[i].values;
                    rekey(db, mv.0, attribute, removed.iter().chain(kept), kept)?;
                }
                if inline[i].values.is_empty() {
                    inline.remove(i);
                }
                if !removed.is_empty() {
                    write_inline(db, mv.0, &inline)?;
                }
                return Ok(ValueChanges {
                    attribute: attribute.clone(),
                    added: Vec::new(),
                    removed,
                });
            }
            for v in ValueSet::new(values).values() {
                if delete_value(db, mv.0, attribute, v)? {
                    removed.push((*v).clone());
                }
            }
            let any_left = db
                .row(
                    "reading a metaverse attribute",
                    "SELECT 1 FROM mv_value WHERE mv_id = ?1 AND attribute = ?2 LIMIT 1",
                    params![mv.0, attribute.as_str()],
                    |_| Ok(()),
                )?
                .is_some();
            if !any_left {
                db.exec(
                    "removing a metaverse attribute's lineage",
                    "DELETE FROM mv_attribute WHERE mv_id = ?1 AND attribute = ?2",
                    params![mv.0, attribute.as_str()],
                )?;
            }
            if !removed.is_empty() && is_join_attribute(db, attribute)? {
                let kept = values_of(db, mv.0, attribute)?;
                rekey(db, mv.0, attribute, removed.iter().chain(&kept), &kept)?;
            }
            Ok(ValueChanges {
                attribute: attribute.clone(),
                added: Vec::new(),
                removed,
            })
        })
    }

    fn set_join_attributes(&mut self, attributes: &[AttributeName]) -> StoreResult<()> {
        self.atomic(|db| {
            let current = db.join_attributes()?;
            db.forget_join_attributes();
            for gone in current.iter().filter(|a| !attributes.contains(a)) {
                db.exec(
                    "dropping a join index",
                    "DELETE FROM mv_join WHERE attribute = ?1",
                    [gone.as_str()],
                )?;
                db.exec(
                    "dropping a join attribute",
                    "DELETE FROM join_attribute WHERE attribute = ?1",
                    [gone.as_str()],
                )?;
            }
            for new in attributes.iter().filter(|a| !current.contains(a)) {
                db.exec(
                    "adding a join attribute",
                    "INSERT OR IGNORE INTO join_attribute (attribute) VALUES (?1)",
                    [new.as_str()],
                )?;
                index_join_attribute(db, new)?;
            }
            Ok(())
        })
    }

    fn find_mv_by_value(
        &self,
        object_type: Option<MvObjectType>,
        attribute: &AttributeName,
        value: &Value,
        case: JoinCase,
    ) -> StoreResult<Vec<MvId>> {
        let db = self.db();
        if !is_join_attribute(&db, attribute)? {
            return Err(db.conflict(format!(
                "the metaverse attribute '{attribute}' is not a join attribute, so it has no \
                 index: declare it with set_join_attributes before joining on it"
            )));
        }
        let Some(key) = codec::join_key(value) else {
            return Ok(Vec::new());
        };
        let found: Vec<MvId> = db
            .rows(
                "looking up metaverse objects for a join",
                &join_lookup_sql(object_type.is_some()),
                params![
                    attribute.as_str(),
                    key,
                    object_type.map(MvObjectType::as_str)
                ],
                |r| r.get(0),
            )?
            .into_iter()
            .map(MvId)
            .collect();
        let exact = case == JoinCase::Sensitive && matches!(value, Value::Str(_) | Value::Ref(_));
        if !exact {
            return Ok(found);
        }
        // A case-sensitive join: the key matched ignoring case; the stored text must match
        // exactly (candidates are few: usually one).
        let mut out = Vec::with_capacity(found.len());
        for mv in found {
            if stored_values(&db, mv.0, attribute)?.is_some_and(|vs| vs.contains(value)) {
                out.push(mv);
            }
        }
        Ok(out)
    }

    fn mv_page(
        &self,
        after: Option<MvId>,
        through: MvId,
        skip: &[AttributeName],
    ) -> StoreResult<Vec<MvObject>> {
        let db = self.db();
        let after = after_bound(after.map(|m| m.0));
        let mut objects: Vec<MvObject> = Vec::new();
        for (id, type_text, blob) in db.rows(
            "reading a page of metaverse objects",
            "SELECT id, object_type, attrs FROM mv_object WHERE id > ?1 AND id <= ?2 ORDER BY id",
            params![after, through.0],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            },
        )? {
            let object_type = MvObjectType::parse(&type_text).ok_or_else(|| {
                db.corrupt(format!("unknown metaverse object type '{type_text}'"))
            })?;
            let mut attributes = BTreeMap::new();
            if let Some(blob) = blob {
                for a in decode_inline(&db, &blob)? {
                    if !skip.contains(&a.name) {
                        let (name, c) = contribution_of(&db, a)?;
                        attributes.insert(name, c);
                    }
                }
            }
            objects.push(MvObject {
                id: MvId(id),
                object_type,
                attributes,
            });
        }
        // Lineage rows of row attributes come per object in key order; the value rows are then
        // streamed in key order too, so an attribute's values arrive together and are turned
        // into its contribution as soon as the next attribute starts (no map of the page).
        let mut raw: Vec<(i64, AttributeName, String, i64)> = Vec::new();
        let mut failure: Option<String> = None;
        db.for_each(
            "reading a page of metaverse lineage",
            "SELECT mv_id, attribute, rule, connector_id FROM mv_attribute \
             WHERE mv_id > ?1 AND mv_id <= ?2 ORDER BY mv_id",
            params![after, through.0],
            |r| {
                match db.spellings().resolve(r.get_ref(1)?.as_bytes()?) {
                    Ok(name) => raw.push((r.get(0)?, name, r.get(2)?, r.get(3)?)),
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
                Ok(())
            },
        )?;
        if let Some(e) = failure.take() {
            return Err(db.corrupt(e));
        }
        let mut connectors: HashMap<i64, ConnectorName> = HashMap::new();
        let mut lineages = Vec::with_capacity(raw.len());
        for (mv, name, rule, connector_id) in raw {
            let rule = db.spellings().rule(&rule);
            let connector = match connectors.get(&connector_id) {
                Some(c) => c.clone(),
                None => {
                    let c = db.connector_name(connector_id)?;
                    connectors.insert(connector_id, c.clone());
                    c
                }
            };
            lineages.push(PageLineage {
                mv,
                name,
                rule,
                connector,
            });
        }
        // The attribute being left out, while its rows stream by.
        let mut skipped: Option<(i64, AttributeName)> = None;
        let mut page = PageAssembler {
            objects: &mut objects,
            object: 0,
            lineages,
            lineage: 0,
            current: None,
            values: Vec::new(),
        };
        db.for_each(
            "reading a page of metaverse values",
            "SELECT mv_id, attribute, tag, value, ordinal FROM mv_value \
             WHERE mv_id > ?1 AND mv_id <= ?2 ORDER BY mv_id, attribute",
            params![after, through.0],
            |r| {
                let mv: i64 = r.get(0)?;
                let attribute = r.get_ref(1)?.as_bytes()?;
                let is = |current: &Option<(i64, AttributeName)>| {
                    current.as_ref().is_some_and(|(m, a)| {
                        *m == mv && a.as_str().as_bytes().eq_ignore_ascii_case(attribute)
                    })
                };
                if is(&skipped) {
                    return Ok(());
                }
                if !is(&page.current) {
                    page.flush();
                    match db.spellings().resolve(attribute) {
                        Ok(name) if skip.contains(&name) => {
                            skipped = Some((mv, name));
                            return Ok(());
                        }
                        Ok(name) => page.current = Some((mv, name)),
                        Err(e) => {
                            failure.get_or_insert(e);
                            return Ok(());
                        }
                    }
                }
                match codec::from_sql(r.get(2)?, r.get_ref(3)?) {
                    Ok(value) => page.values.push((r.get(4)?, value)),
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
                Ok(())
            },
        )?;
        page.flush();
        if let Some(e) = failure {
            return Err(db.corrupt(e));
        }
        Ok(objects)
    }

    fn mv_ids_page(
        &self,
        object_type: Option<MvObjectType>,
        after: Option<MvId>,
        limit_to: usize,
    ) -> StoreResult<Vec<MvId>> {
        Ok(self
            .db()
            .rows(
                "reading a page of metaverse ids",
                "SELECT id FROM mv_object WHERE id > ?1 AND (?2 IS NULL OR object_type = ?2) \
                 ORDER BY id LIMIT ?3",
                params![
                    after_bound(after.map(|m| m.0)),
                    object_type.map(MvObjectType::as_str),
                    limit(limit_to)
                ],
                |r| r.get(0),
            )?
            .into_iter()
            .map(MvId)
            .collect())
    }
}
