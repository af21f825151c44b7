//! Connector spaces on SQLite: reading objects and pages of objects, links to the metaverse,
//! clearing pending imports ([`SyncStore`]), and the value-level helpers the import and the
//! export side share.
//!
//! Layout: `cs_object` holds the object (anchor, DN and its comparison key, class, link,
//! pending import, the generation of the last import that saw it) plus one small BLOB of
//! per-attribute digests (spelling, value count, sum of value hashes, next ordinal) and, since
//! schema version 5, one BLOB of inline attributes (`attrs`, see [`codec::cs_inline_to_blob`]).
//! An attribute without references and with at most [`INLINE_MAX_VALUES`] values lives inline,
//! its values in the order they arrived; any other attribute (group members, managers, long
//! lists) has a row of `cs_value` per value, keyed by (object, attribute, tag, value), with an
//! ordinal that keeps the order values first appeared in, so a member change stays one row.
//! Values added or removed since the last sync are rows of `cs_pending_value`.
//!
//! Invariants: an attribute is inline exactly when the object's `attrs` BLOB holds it (objects
//! from before version 5 have `attrs` NULL: every attribute in rows); an object's digests
//! describe exactly its inline attributes plus its `cs_value` rows, one digest per attribute
//! (all are written together, inside one savepoint); values are a set per attribute (the import
//! drops repeats).

use std::collections::HashMap;

use rusqlite::params;

use super::codec::{self, Digest};
use super::records::{CsScope, ValueChanges};
use super::sqlite::{Db, SqliteTx, after_bound, limit, value_at};
use super::valueset::ValueSet;
use super::{StoreResult, SyncStore};
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::Value;
use crate::engine::hash::FastMap;
use crate::engine::model::{
    Anchor, Attributes, ConnectorName, CsId, CsObject, MvId, PendingImport,
};

/// The columns [`CsHeader::raw`] reads, from `cs_object c` (a macro so that queries are
/// string literals: no formatting per call).
macro_rules! cs_columns {
    () => {
        "c.id, c.connector_id, c.anchor_kind, c.anchor, c.dn, c.object_class, c.mv_id, \
         c.pending_import, c.digests, c.attrs"
    };
}
pub(crate) use cs_columns;

/// A connector-space object's row, without its values.
pub(crate) struct CsHeader {
    pub id: i64,
    pub connector_id: i64,
    pub anchor: Option<Anchor>,
    pub dn_text: String,
    pub object_class: String,
    pub mv: Option<i64>,
    pub pending: PendingImport,
    pub digests_blob: Vec<u8>,
    /// The inline attributes' BLOB (`None`: stored before schema version 5, all in rows).
    pub inline_blob: Option<Vec<u8>>,
}

type RawHeader = (
    i64,
    i64,
    Option<i64>,
    Option<Vec<u8>>,
    String,
    String,
    Option<i64>,
    i64,
    Vec<u8>,
    Option<Vec<u8>>,
);

impl CsHeader {
    /// Reads the raw columns of [`cs_columns`].
    pub(crate) fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawHeader> {
        r.try_into()
    }

    /// Decodes raw columns.
    pub(crate) fn decode(db: &Db<'_>, raw: RawHeader) -> StoreResult<CsHeader> {
        let (id, connector_id, kind, anchor, dn_text, object_class, mv, pending, blob, inline) =
            raw;
        Ok(CsHeader {
            id,
            connector_id,
            anchor: db.decode(codec::anchor_from(kind, anchor))?,
            dn_text,
            object_class,
            mv,
            pending: db.decode(codec::pending_from(pending))?,
            digests_blob: blob,
            inline_blob: inline,
        })
    }

    /// The object's header by id.
    pub(crate) fn load(db: &Db<'_>, cs: i64) -> StoreResult<Option<CsHeader>> {
        let raw = db.row(
            "reading a connector-space object",
            concat!(
                "SELECT ",
                cs_columns!(),
                " FROM cs_object c WHERE c.id = ?1"
            ),
            [cs],
            CsHeader::raw,
        )?;
        raw.map(|r| CsHeader::decode(db, r)).transpose()
    }

    /// The object's header by id, or [`super::StoreError::NotFound`].
    pub(crate) fn require(db: &Db<'_>, cs: CsId) -> StoreResult<CsHeader> {
        CsHeader::load(db, cs.0)?
            .ok_or_else(|| db.not_found(format!("connector-space object {}", cs.0)))
    }

    /// The stored DN.
    pub(crate) fn dn(&self, db: &Db<'_>) -> StoreResult<Dn> {
        db.decode(codec::dn_from(&self.dn_text))
    }

    /// The per-attribute digests.
    pub(crate) fn digests(&self, db: &Db<'_>) -> StoreResult<Vec<Digest>> {
        db.decode(codec::digests_from_blob(&self.digests_blob))
    }

    /// The inline attributes, names as stored.
    pub(crate) fn inline<'b>(&'b self, db: &Db<'_>) -> StoreResult<Vec<(&'b str, Vec<Value>)>> {
        match &self.inline_blob {
            Some(blob) => db.decode(codec::cs_inline_from_blob(blob)),
            None => Ok(Vec::new()),
        }
    }

    /// Whether some attribute has value rows: the digests list more attributes than the inline
    /// BLOB holds (the BLOB's attributes are always among the digests').
    pub(crate) fn has_rows(&self, db: &Db<'_>, inline: usize) -> StoreResult<bool> {
        Ok(db.decode(codec::digest_count(&self.digests_blob))? > inline)
    }
}

/// The most ids one read of several objects names.
const IDS_CHUNK: usize = 500;

/// The most ids [`SyncStore::clear_pending_adds`] clears with one statement.
const CLEAR_CHUNK: usize = 2_000;

/// The most values an attribute can have and still live inline.
pub(crate) const INLINE_MAX_VALUES: usize = 64;

/// Whether values go inline: no reference among them, and not too many.
pub(crate) fn goes_inline(values: &[&Value]) -> bool {
    fn holds_ref(v: &Value) -> bool {
        match v {
            Value::Ref(_) => true,
            Value::Multi(parts) => parts.iter().any(holds_ref),
            _ => false,
        }
    }
    values.len() <= INLINE_MAX_VALUES && !values.iter().any(|v| holds_ref(v))
}

/// One value row as read: attribute, value, ordinal (decoding errors kept for later).
type ValueRow = (Result<AttributeName, String>, Result<Value, String>, i64);

/// Attribute names already parsed while reading (names repeat from row to row and from object
/// to object, so each distinct spelling is validated and allocated once).
#[derive(Default)]
struct Names(FastMap<String, AttributeName>);

impl Names {
    fn resolve(&mut self, text: &[u8]) -> Result<AttributeName, String> {
        let text = std::str::from_utf8(text).map_err(|e| format!("stored attribute name: {e}"))?;
        if let Some(name) = self.0.get(text) {
            return Ok(name.clone());
        }
        let name = codec::attribute_from(text)?;
        self.0.insert(text.to_owned(), name.clone());
        Ok(name)
    }

    /// Reads `attribute, tag, value, ordinal` starting at column `first`.
    fn row(&mut self, r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ValueRow> {
        let name = self.resolve(r.get_ref(first)?.as_bytes()?);
        Ok((name, value_at(r, first + 1, first + 2)?, r.get(first + 3)?))
    }
}

/// An object's values as they are read: its inline attributes, whole and in order, and its
/// value rows (attribute, ordinal, value) in any order. An attribute is in one of the two.
#[derive(Default)]
struct ValueRows {
    inline: Vec<(AttributeName, Vec<Value>)>,
    rows: Vec<(AttributeName, i64, Value)>,
}

/// Collects value rows into [`ValueRows`], keeping the first decoding error.
#[derive(Default)]
struct Collector {
    names: Names,
    error: Option<String>,
}

impl Collector {
    /// Adds the row `attribute, tag, value, ordinal` (from column `first`) to `rows`.
    fn add(
        &mut self,
        rows: &mut ValueRows,
        r: &rusqlite::Row<'_>,
        first: usize,
    ) -> rusqlite::Result<()> {
        match self.names.row(r, first)? {
            (Ok(name), Ok(value), ordinal) => rows.rows.push((name, ordinal, value)),
            (Err(e), _, _) | (_, Err(e), _) => {
                self.error.get_or_insert(e);
            }
        }
        Ok(())
    }

    /// Adds the header's inline attributes (leaving out `skip`) to `rows`; how many the BLOB
    /// holds (skipped ones included).
    fn inline(
        &mut self,
        db: &Db<'_>,
        rows: &mut ValueRows,
        header: &CsHeader,
        skip: &[AttributeName],
    ) -> StoreResult<usize> {
        let inline = header.inline(db)?;
        let n = inline.len();
        for (text, values) in inline {
            match self.names.resolve(text.as_bytes()) {
                Ok(name) if skip.contains(&name) => {}
                Ok(name) => rows.inline.push((name, values)),
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        }
        Ok(n)
    }

    fn check(self, db: &Db<'_>) -> StoreResult<()> {
        match self.error {
            Some(e) => Err(db.corrupt(e)),
            None => Ok(()),
        }
    }
}

/// Puts an object together from its header and values.
fn assemble(
    db: &Db<'_>,
    header: CsHeader,
    connector: ConnectorName,
    mut values: ValueRows,
) -> StoreResult<CsObject> {
    let dn = header.dn(db)?;
    let mut attributes: Attributes = values
        .inline
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .collect();
    values
        .rows
        .sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut current: Option<(AttributeName, Vec<Value>)> = None;
    for (name, _, value) in values.rows {
        match &mut current {
            Some((n, list)) if *n == name => list.push(value),
            _ => {
                if let Some((n, list)) = current.replace((name, vec![value])) {
                    attributes.entry(n).or_default().extend(list);
                }
            }
        }
    }
    if let Some((n, list)) = current {
        attributes.entry(n).or_default().extend(list);
    }
    Ok(CsObject {
        id: CsId(header.id),
        connector,
        anchor: header.anchor,
        dn,
        object_class: header.object_class,
        attributes,
        mv: header.mv.map(MvId),
        pending_import: header.pending,
    })
}

/// Objects from their header rows: inline attributes from the headers, value rows (when some
/// object has any) from `value_query` (columns `cs_id, attribute, tag, value, ordinal`) run
/// with `params`.
fn assemble_all(
    db: &Db<'_>,
    headers: Vec<RawHeader>,
    mut connector_of: impl FnMut(i64) -> StoreResult<ConnectorName>,
    value_query: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<CsObject>> {
    let headers = headers
        .into_iter()
        .map(|raw| CsHeader::decode(db, raw))
        .collect::<StoreResult<Vec<_>>>()?;
    let mut collector = Collector::default();
    let mut by_object: FastMap<i64, ValueRows> =
        FastMap::with_capacity_and_hasher(headers.len(), Default::default());
    let mut rows_needed = false;
    for header in &headers {
        let values = by_object.entry(header.id).or_default();
        let inline = collector.inline(db, values, header, &[])?;
        rows_needed |= header.has_rows(db, inline)?;
    }
    // Value rows only when some object has them (references, long lists, or objects stored
    // before inline attributes): one query for all.
    if rows_needed {
        db.for_each("reading connector-space values", value_query, params, |r| {
            let rows = by_object.entry(r.get::<_, i64>(0)?).or_default();
            collector.add(rows, r, 1)
        })?;
    }
    collector.check(db)?;
    headers
        .into_iter()
        .map(|header| {
            let values = by_object.remove(&header.id).unwrap_or_default();
            let connector = connector_of(header.connector_id)?;
            assemble(db, header, connector, values)
        })
        .collect()
}

/// Reads one object, leaving out `skip`.
fn read_object(db: &Db<'_>, cs: CsId, skip: &[AttributeName]) -> StoreResult<Option<CsObject>> {
    let Some(header) = CsHeader::load(db, cs.0)? else {
        return Ok(None);
    };
    let connector = db.connector_name(header.connector_id)?;
    let mut collector = Collector::default();
    let mut values = ValueRows::default();
    let inline = collector.inline(db, &mut values, &header, skip)?;
    if header.has_rows(db, inline)? {
        // One query for every value row unless a skipped attribute is actually there (the
        // digests list the attributes): a group without members costs one statement, not one
        // per attribute.
        let digests = if skip.is_empty() {
            Vec::new()
        } else {
            header.digests(db)?
        };
        if !digests.iter().any(|d| skip.contains(&d.name)) {
            db.for_each(
                "reading a connector-space object's values",
                "SELECT attribute, tag, value, ordinal FROM cs_value WHERE cs_id = ?1",
                [cs.0],
                |r| collector.add(&mut values, r, 0),
            )?;
        } else {
            for d in digests.iter().filter(|d| !skip.contains(&d.name)) {
                db.for_each(
                    "reading a connector-space object's values",
                    "SELECT attribute, tag, value, ordinal FROM cs_value \
                     WHERE cs_id = ?1 AND attribute = ?2",
                    params![cs.0, d.name.as_str()],
                    |r| collector.add(&mut values, r, 0),
                )?;
            }
        }
    }
    collector.check(db)?;
    assemble(db, header, connector, values).map(Some)
}

/// The inline attribute `attribute` of an object, if it is inline (`None`: it has rows, or the
/// object does not exist).
pub(crate) fn inline_attribute(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
) -> StoreResult<Option<Vec<Value>>> {
    let blob: Option<Option<Vec<u8>>> = db.row(
        "reading a connector-space object's inline attributes",
        "SELECT attrs FROM cs_object WHERE id = ?1",
        [cs],
        |r| r.get(0),
    )?;
    let Some(blob) = blob.flatten() else {
        return Ok(None);
    };
    Ok(db
        .decode(codec::cs_inline_from_blob(&blob))?
        .into_iter()
        .find(|(name, _)| attribute.eq_ignore_case(name))
        .map(|(_, values)| values))
}

/// The values of one attribute with their ordinals, in ordinal order (inline values count
/// 0, 1, ... in their stored order).
pub(crate) fn attribute_values(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
) -> StoreResult<Vec<(Value, i64)>> {
    if let Some(values) = inline_attribute(db, cs, attribute)? {
        return Ok(values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (v, i as i64))
            .collect());
    }
    row_values(db, cs, attribute)
}

/// The value rows of one attribute with their ordinals, in ordinal order.
pub(crate) fn row_values(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
) -> StoreResult<Vec<(Value, i64)>> {
    let rows = db.rows(
        "reading a connector-space attribute",
        "SELECT tag, value, ordinal FROM cs_value WHERE cs_id = ?1 AND attribute = ?2",
        params![cs, attribute.as_str()],
        |r| Ok((value_at(r, 0, 1)?, r.get::<_, i64>(2)?)),
    )?;
    let mut out = rows
        .into_iter()
        .map(|(v, o)| Ok((db.decode(v)?, o)))
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by_key(|(_, o)| *o);
    Ok(out)
}

/// One attribute of an object as it arrives: its distinct values (see [`ValueSet`]) and their
/// digest.
pub(crate) struct IncomingAttribute<'a> {
    pub name: &'a AttributeName,
    pub set: ValueSet<'a>,
    /// Whether it goes inline ([`goes_inline`]) or into value rows.
    pub inline: bool,
}

impl<'a> IncomingAttribute<'a> {
    /// Every non-empty attribute, values de-duplicated (first occurrence kept).
    pub(crate) fn all(attributes: &'a Attributes) -> Vec<IncomingAttribute<'a>> {
        attributes
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(name, values)| {
                let set = ValueSet::new(values);
                IncomingAttribute {
                    name,
                    inline: goes_inline(set.values()),
                    set,
                }
            })
            .collect()
    }

    /// The BLOB of the inline ones (see [`codec::cs_inline_to_blob`]).
    pub(crate) fn inline_blob(incoming: &[IncomingAttribute<'_>]) -> Vec<u8> {
        codec::cs_inline_to_blob(
            incoming
                .iter()
                .filter(|a| a.inline)
                .map(|a| (a.name, a.set.values())),
        )
    }

    /// The number of distinct values.
    pub(crate) fn count(&self) -> u64 {
        self.set.len() as u64
    }

    /// Its digest when all its values are freshly written with ordinals 0, 1, ...
    pub(crate) fn fresh_digest(&self) -> Digest {
        Digest {
            name: self.name.clone(),
            count: self.count(),
            sum: self.set.sum(),
            next_ordinal: self.count(),
        }
    }
}

/// Inserts one value row.
pub(crate) fn insert_value(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
    value: &Value,
    ordinal: u64,
) -> StoreResult<()> {
    db.exec(
        "storing a connector-space value",
        "INSERT INTO cs_value (cs_id, attribute, tag, value, ordinal) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            cs,
            attribute.as_str(),
            codec::tag(value),
            codec::payload(value),
            codec::to_i64(ordinal)
        ],
    )?;
    Ok(())
}

/// Deletes one value row.
pub(crate) fn delete_value(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
    value: &Value,
) -> StoreResult<()> {
    db.exec(
        "removing a connector-space value",
        "DELETE FROM cs_value WHERE cs_id = ?1 AND attribute = ?2 AND tag = ?3 AND value = ?4",
        params![
            cs,
            attribute.as_str(),
            codec::tag(value),
            codec::payload(value)
        ],
    )?;
    Ok(())
}

/// Inserts the value rows of a new object's attributes that are not inline, with ordinals 0,
/// 1, ...
pub(crate) fn insert_rows(
    db: &Db<'_>,
    cs: i64,
    incoming: &[IncomingAttribute<'_>],
) -> StoreResult<()> {
    let rows: Vec<(&AttributeName, i64, rusqlite::types::ToSqlOutput<'_>, i64)> = incoming
        .iter()
        .filter(|attr| !attr.inline)
        .flat_map(|attr| {
            attr.set
                .values()
                .iter()
                .enumerate()
                .map(move |(ordinal, value)| {
                    (
                        attr.name,
                        codec::tag(value),
                        codec::payload(value),
                        codec::to_i64(ordinal as u64),
                    )
                })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 5);
    for (row, name) in rows.iter().zip(&names) {
        params.push(&cs);
        params.push(name);
        params.push(&row.1);
        params.push(&row.2);
        params.push(&row.3);
    }
    db.insert_rows(
        "storing a connector-space object's values",
        "INSERT INTO cs_value (cs_id, attribute, tag, value, ordinal)",
        5,
        &params,
    )
}

/// A connector-space object row to insert.
pub(crate) struct NewCsRow<'a> {
    pub connector_id: i64,
    pub anchor: Option<&'a Anchor>,
    pub dn: &'a Dn,
    pub object_class: &'a str,
    pub mv: Option<i64>,
    pub pending: PendingImport,
    pub generation: i64,
    pub digests: &'a [Digest],
    /// The inline attributes' BLOB.
    pub inline: &'a [u8],
}

/// Inserts a connector-space object row; its id.
pub(crate) fn insert_object(db: &Db<'_>, row: &NewCsRow<'_>) -> StoreResult<i64> {
    let (kind, bytes) = match row.anchor.map(codec::anchor_parts) {
        Some((k, b)) => (Some(k), Some(b)),
        None => (None, None),
    };
    db.exec(
        "creating a connector-space object",
        "INSERT INTO cs_object (connector_id, anchor_kind, anchor, dn, dn_key, object_class, \
         mv_id, pending_import, seen_generation, digests, attrs) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            row.connector_id,
            kind,
            bytes,
            row.dn.to_string(),
            codec::dn_key(row.dn),
            row.object_class,
            row.mv,
            codec::pending_code(row.pending),
            row.generation,
            codec::digests_to_blob(row.digests),
            row.inline
        ],
    )?;
    Ok(db.last_id())
}

/// Adds a value change to what the sync will see for the object: an addition cancels a
/// recorded removal of the same value and vice versa.
pub(crate) fn accumulate(
    db: &Db<'_>,
    cs: i64,
    attribute: &AttributeName,
    value: &Value,
    added: bool,
) -> StoreResult<()> {
    let cancelled = db.exec(
        "recording a value change",
        "DELETE FROM cs_pending_value WHERE cs_id = ?1 AND attribute = ?2 AND tag = ?3 \
         AND value = ?4 AND added = ?5",
        params![
            cs,
            attribute.as_str(),
            codec::tag(value),
            codec::payload(value),
            !added
        ],
    )?;
    if cancelled == 0 {
        db.exec(
            "recording a value change",
            "INSERT OR REPLACE INTO cs_pending_value (cs_id, attribute, tag, value, added) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                cs,
                attribute.as_str(),
                codec::tag(value),
                codec::payload(value),
                added
            ],
        )?;
    }
    Ok(())
}

/// Marks the connector's sent journal entries for the object confirmed.
pub(crate) fn confirm_journal(db: &Db<'_>, cs: i64) -> StoreResult<()> {
    db.exec(
        "confirming exported changes",
        "UPDATE export_journal SET state = 2, updated_at = ?2 WHERE cs_id = ?1 AND state = 1",
        params![cs, crate::engine::expr::DateTime::now().ticks()],
    )?;
    Ok(())
}

/// The index a scope walks (named, so the planner cannot pick a scan of the whole connector
/// for a delta sync with few pending objects) and the condition that matches it.
fn scope_parts(scope: CsScope) -> (&'static str, &'static str) {
    match scope {
        CsScope::PendingImport => ("cs_object_pending", "AND pending_import <> 0"),
        CsScope::All => ("cs_object_connector", ""),
    }
}

/// The ids of a page: `?1` connector id, `?2` ids above, `?3` page size.
pub(crate) fn page_ids_sql(scope: CsScope) -> String {
    let (index, filter) = scope_parts(scope);
    format!(
        "SELECT id FROM cs_object INDEXED BY {index} WHERE connector_id = ?1 AND id > ?2 \
         {filter} ORDER BY id LIMIT ?3"
    )
}

impl SyncStore for SqliteTx<'_> {
    fn cs_object(&self, cs: CsId) -> StoreResult<Option<CsObject>> {
        read_object(&self.db(), cs, &[])
    }

    fn cs_object_without(&self, cs: CsId, skip: &[AttributeName]) -> StoreResult<Option<CsObject>> {
        read_object(&self.db(), cs, skip)
    }

    fn cs_attribute(&self, cs: CsId, attribute: &AttributeName) -> StoreResult<Vec<Value>> {
        Ok(attribute_values(&self.db(), cs.0, attribute)?
            .into_iter()
            .map(|(v, _)| v)
            .collect())
    }

    fn find_cs_by_anchor(
        &self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<CsId>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(None);
        };
        let (kind, bytes) = codec::anchor_parts(anchor);
        Ok(db
            .row(
                "looking up an object by anchor",
                "SELECT id FROM cs_object WHERE connector_id = ?1 AND anchor_kind = ?2 \
                 AND anchor = ?3",
                params![c.id, kind, bytes],
                |r| r.get(0),
            )?
            .map(CsId))
    }

    fn find_cs_by_dn(&self, connector: &ConnectorName, dn: &Dn) -> StoreResult<Vec<CsId>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(Vec::new());
        };
        Ok(db
            .rows(
                "looking up an object by DN",
                "SELECT id FROM cs_object WHERE connector_id = ?1 AND dn_key = ?2 ORDER BY id",
                params![c.id, codec::dn_key(dn)],
                |r| r.get(0),
            )?
            .into_iter()
            .map(CsId)
            .collect())
    }

    fn cs_page(
        &self,
        connector: &ConnectorName,
        scope: CsScope,
        after: Option<CsId>,
        limit_to: usize,
    ) -> StoreResult<Vec<CsObject>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(Vec::new());
        };
        let (index, filter) = scope_parts(scope);
        let (after, limit_to) = (after_bound(after.map(|a| a.0)), limit(limit_to));
        let headers = db.rows(
            "reading a page of connector-space objects",
            &format!(
                concat!(
                    "SELECT ",
                    cs_columns!(),
                    " FROM cs_object AS c INDEXED BY {} \
                 WHERE c.connector_id = ?1 AND c.id > ?2 {} ORDER BY c.id LIMIT ?3"
                ),
                index,
                filter.replace("pending_import", "c.pending_import")
            ),
            params![c.id, after, limit_to],
            CsHeader::raw,
        )?;
        let value_query = format!(
            "SELECT cs_id, attribute, tag, value, ordinal FROM cs_value WHERE cs_id IN ({})",
            page_ids_sql(scope)
        );
        assemble_all(
            &db,
            headers,
            |_| Ok(connector.clone()),
            &value_query,
            params![c.id, after, limit_to],
        )
    }

    fn cs_objects(&self, ids: &[CsId]) -> StoreResult<Vec<CsObject>> {
        let db = self.db();
        let mut out = Vec::with_capacity(ids.len());
        let mut names: HashMap<i64, ConnectorName> = HashMap::new();
        for chunk in ids.chunks(IDS_CHUNK) {
            let list = vec!["?"; chunk.len()].join(", ");
            let raw: Vec<i64> = chunk.iter().map(|c| c.0).collect();
            let headers = db.rows(
                "reading connector-space objects",
                &format!(
                    concat!(
                        "SELECT ",
                        cs_columns!(),
                        " FROM cs_object c WHERE c.id IN ({})"
                    ),
                    list
                ),
                rusqlite::params_from_iter(raw.iter()),
                CsHeader::raw,
            )?;
            let value_query = format!(
                "SELECT cs_id, attribute, tag, value, ordinal FROM cs_value WHERE cs_id IN ({list})"
            );
            let connector_of = |id: i64| -> StoreResult<ConnectorName> {
                if let Some(n) = names.get(&id) {
                    return Ok(n.clone());
                }
                let n = db.connector_name(id)?;
                names.insert(id, n.clone());
                Ok(n)
            };
            out.extend(assemble_all(
                &db,
                headers,
                connector_of,
                &value_query,
                rusqlite::params_from_iter(raw.iter()),
            )?);
        }
        // In the order asked for.
        let at: HashMap<CsId, usize> = ids.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        out.sort_by_key(|o| at.get(&o.id).copied().unwrap_or(usize::MAX));
        Ok(out)
    }

    fn cs_ids_page(
        &self,
        connector: &ConnectorName,
        scope: CsScope,
        after: Option<CsId>,
        limit_to: usize,
    ) -> StoreResult<Vec<CsId>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(Vec::new());
        };
        Ok(db
            .rows(
                "reading a page of connector-space ids",
                &page_ids_sql(scope),
                params![c.id, after_bound(after.map(|a| a.0)), limit(limit_to)],
                |r| r.get(0),
            )?
            .into_iter()
            .map(CsId)
            .collect())
    }

    fn cs_count(&self, connector: &ConnectorName, scope: CsScope) -> StoreResult<u64> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(0);
        };
        let n: Option<i64> = db.row(
            "counting connector-space objects",
            &format!(
                "SELECT count(*) FROM cs_object INDEXED BY {} WHERE connector_id = ?1 {}",
                scope_parts(scope).0,
                scope_parts(scope).1
            ),
            [c.id],
            |r| r.get(0),
        )?;
        Ok(codec::count(n.unwrap_or(0)))
    }

    fn pending_value_changes(&self, cs: CsId) -> StoreResult<Vec<ValueChanges>> {
        let db = self.db();
        let rows = db.rows(
            "reading pending value changes",
            "SELECT attribute, tag, value, added FROM cs_pending_value WHERE cs_id = ?1",
            [cs.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    value_at(r, 1, 2)?,
                    r.get::<_, bool>(3)?,
                ))
            },
        )?;
        let mut out: Vec<ValueChanges> = Vec::new();
        for (attr, value, added) in rows {
            let name = db.decode(codec::attribute_from(&attr))?;
            let value = db.decode(value)?;
            let entry = match out.iter_mut().position(|c| c.attribute == name) {
                Some(i) => &mut out[i],
                None => {
                    out.push(ValueChanges {
                        attribute: name,
                        added: Vec::new(),
                        removed: Vec::new(),
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            if added {
                entry.added.push(value);
            } else {
                entry.removed.push(value);
            }
        }
        Ok(out)
    }

    fn clear_pending_adds(&mut self, ids: &[CsId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // One statement per chunk of ids, atomic by itself; a savepoint only when there are
        // several.
        let clear = |db: &Db<'_>| -> StoreResult<usize> {
            let mut cleared = 0;
            for chunk in ids.chunks(CLEAR_CHUNK) {
                let sql = format!(
                    "UPDATE cs_object SET pending_import = 0 WHERE pending_import = 1 \
                     AND id IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                cleared += db.exec(
                    "clearing pending imports",
                    &sql,
                    rusqlite::params_from_iter(chunk.iter().map(|c| c.0)),
                )?;
            }
            Ok(cleared)
        };
        let cleared = if ids.len() > CLEAR_CHUNK {
            self.atomic(clear)?
        } else {
            clear(&self.db())?
        };
        if cleared < ids.len() {
            // Some were not pending Adds (or an id repeats): each the one-by-one way, which
            // leaves an object already cleared as it is.
            for cs in ids {
                self.clear_pending_import(*cs)?;
            }
        }
        Ok(())
    }

    fn clear_pending_import(&mut self, cs: CsId) -> StoreResult<()> {
        self.atomic(|db| {
            let pending: i64 = db
                .row(
                    "reading a pending import",
                    "SELECT pending_import FROM cs_object WHERE id = ?1",
                    [cs.0],
                    |r| r.get(0),
                )?
                .ok_or_else(|| db.not_found(format!("connector-space object {}", cs.0)))?;
            match db.decode(codec::pending_from(pending))? {
                PendingImport::None => Ok(()),
                PendingImport::Delete => {
                    db.exec(
                        "removing a deleted connector-space object",
                        "DELETE FROM cs_object WHERE id = ?1",
                        [cs.0],
                    )?;
                    Ok(())
                }
                PendingImport::Add => {
                    db.exec(
                        "clearing a pending import",
                        "UPDATE cs_object SET pending_import = 0 WHERE id = ?1",
                        [cs.0],
                    )?;
                    Ok(())
                }
                PendingImport::Update => {
                    db.exec(
                        "clearing a pending import",
                        "UPDATE cs_object SET pending_import = 0 WHERE id = ?1",
                        [cs.0],
                    )?;
                    db.exec(
                        "clearing pending value changes",
                        "DELETE FROM cs_pending_value WHERE cs_id = ?1",
                        [cs.0],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn delete_cs_object(&mut self, cs: CsId) -> StoreResult<bool> {
        self.atomic(|db| {
            let n = db.exec(
                "removing a connector-space object",
                "DELETE FROM cs_object WHERE id = ?1",
                [cs.0],
            )?;
            Ok(n > 0)
        })
    }

    fn link(&mut self, cs: CsId, mv: MvId) -> StoreResult<()> {
        self.atomic(|db| {
            let header = CsHeader::require(db, cs)?;
            match header.mv {
                Some(current) if current == mv.0 => return Ok(()),
                Some(current) => {
                    return Err(db.conflict(format!(
                        "connector-space object {} ({}) is already joined to metaverse object \
                         {current}; disjoin it before joining it to {}",
                        cs.0, header.dn_text, mv.0
                    )));
                }
                None => {}
            }
            require_mv(db, mv)?;
            if let Some(other) = joined_in_connector(db, header.connector_id, mv.0)? {
                let connector = db.connector_name(header.connector_id)?;
                return Err(db.conflict(format!(
                    "metaverse object {} is already joined to connector-space object {other} of \
                     connector '{connector}'; joining {} ({}) too would be ambiguous (one object \
                     per connector): check the join rules for duplicate matches",
                    mv.0, cs.0, header.dn_text
                )));
            }
            db.exec(
                "joining objects",
                "UPDATE cs_object SET mv_id = ?2 WHERE id = ?1",
                params![cs.0, mv.0],
            )?;
            Ok(())
        })
    }

    fn unlink(&mut self, cs: CsId) -> StoreResult<bool> {
        self.atomic(|db| {
            let header = CsHeader::require(db, cs)?;
            if header.mv.is_none() {
                return Ok(false);
            }
            db.exec(
                "disjoining objects",
                "UPDATE cs_object SET mv_id = NULL WHERE id = ?1",
                [cs.0],
            )?;
            Ok(true)
        })
    }

    fn links(&self, mv: MvId) -> StoreResult<Vec<(ConnectorName, CsId)>> {
        // One object's joins: the range that holds only it.
        Ok(self
            .links_between(Some(MvId(mv.0 - 1)), mv)?
            .into_iter()
            .map(|(_, name, cs)| (name, cs))
            .collect())
    }

    fn links_between(
        &self,
        after: Option<MvId>,
        through: MvId,
    ) -> StoreResult<Vec<(MvId, ConnectorName, CsId)>> {
        let rows = self.db().rows(
            "reading a page of objects' joins",
            "SELECT c.mv_id, k.name, c.id FROM cs_object c INDEXED BY cs_object_join \
             JOIN connector k ON k.id = c.connector_id \
             WHERE c.mv_id IS NOT NULL AND c.mv_id > ?1 AND c.mv_id <= ?2 \
             ORDER BY c.mv_id, k.name, c.id",
            params![after_bound(after.map(|m| m.0)), through.0],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        Ok(rows
            .into_iter()
            .map(|(mv, name, id)| (MvId(mv), ConnectorName::new(name), CsId(id)))
            .collect())
    }
}

/// Fails with NotFound unless the metaverse object exists.
pub(crate) fn require_mv(db: &Db<'_>, mv: MvId) -> StoreResult<()> {
    let exists = db
        .row(
            "looking up a metaverse object",
            "SELECT 1 FROM mv_object WHERE id = ?1",
            [mv.0],
            |_| Ok(()),
        )?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(db.not_found(format!("metaverse object {}", mv.0)))
    }
}

/// The object of a connector joined to a metaverse object, if any.
pub(crate) fn joined_in_connector(
    db: &Db<'_>,
    connector_id: i64,
    mv: i64,
) -> StoreResult<Option<i64>> {
    db.row(
        "looking up joins",
        "SELECT id FROM cs_object WHERE connector_id = ?1 AND mv_id = ?2",
        params![connector_id, mv],
        |r| r.get(0),
    )
}
