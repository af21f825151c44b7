//! [`ReferenceStore`] on SQLite: the bookkeeping that keeps reference attributes (group
//! members, managers) incremental.
//!
//! Layout: `unresolved_ref` holds a connector-space reference value whose target was not joined
//! to the metaverse when the value was synchronized, keyed by the target's folded DN; the
//! partial index `mv_value_ref` finds metaverse values that reference a metaverse object.
//!
//! Invariants: an unresolved row exists only while its value is still on the connector-space
//! object (rows go with the object, and the engine removes a row when the value goes or the
//! reference resolves); no method loads a whole attribute: each answers with an index probe.

use std::collections::{HashMap, HashSet};

use rusqlite::params;

use super::codec;
use super::records::Counterpart;
use super::sqlite::{Db, SqliteTx, after_bound};
use super::{ReferenceStore, StoreResult};
use crate::domain::{AttributeName, Dn};
use crate::engine::model::{Anchor, ConnectorName, CsId, MvId};
use crate::engine::refs;

/// A counterpart row as read: `mv_id, id, dn, object_class, anchor_kind, anchor`.
type CounterpartRow = (i64, i64, String, String, Option<i64>, Option<Vec<u8>>);

fn counterpart_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CounterpartRow> {
    r.try_into()
}

fn decode_counterpart(db: &Db<'_>, row: CounterpartRow) -> StoreResult<(MvId, Counterpart)> {
    let (mv, id, dn, object_class, kind, anchor) = row;
    Ok((
        MvId(mv),
        Counterpart {
            cs: CsId(id),
            dn: db.decode(codec::dn_from(&dn))?,
            object_class,
            anchor: db.decode(codec::anchor_from(kind, anchor))?,
        },
    ))
}

/// The lookup of the references waiting for `n` DN keys: `?1` the connector id, then the keys.
/// CROSS JOIN keeps the waiting references the outer loop (one index probe per key): with a
/// long key list the planner would otherwise walk every object of the connector and probe the
/// references of each, even with the index named.
pub(crate) fn waiting_refs_sql(n: usize) -> String {
    format!(
        "SELECT u.target_key, u.cs_id, u.attribute, u.rule FROM unresolved_ref u \
         CROSS JOIN cs_object o ON o.id = u.cs_id \
         WHERE o.connector_id = ?1 AND u.target_key IN ({}) \
         ORDER BY u.cs_id, u.attribute",
        vec!["?"; n].join(", ")
    )
}

/// The objects of connector `?1` at `n` DN keys (then per key its position in the caller's
/// list and the key): one probe of the connector's DN index per key, driven from the list
/// (`CROSS JOIN` keeps that order whatever the planner guesses); each row names the position.
pub(crate) fn linked_by_dn_sql(n: usize) -> String {
    format!(
        "SELECT v.column1, o.id, o.mv_id FROM (VALUES {}) AS v \
         CROSS JOIN cs_object AS o ON o.connector_id = ?1 AND o.dn_key = v.column2",
        (0..n)
            .map(|i| format!("(?{}, ?{})", 2 * i + 2, 2 * i + 3))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The objects of connector `?1` joined to `n` metaverse objects (then their ids): one probe
/// of the join index per id.
pub(crate) fn counterparts_of_sql(n: usize) -> String {
    format!(
        "SELECT mv_id, id, dn, object_class, anchor_kind, anchor FROM cs_object \
         INDEXED BY cs_object_join WHERE connector_id = ?1 AND mv_id IN ({})",
        vec!["?"; n].join(", ")
    )
}

/// Each key once, in first-seen order.
fn distinct(keys: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    keys.iter()
        .map(String::as_str)
        .filter(|k| seen.insert(*k))
        .collect()
}

/// The parameters of a batched lookup: the connector id, then the keys.
fn with_connector<'a, K: rusqlite::ToSql>(
    connector: &'a i64,
    keys: &'a [K],
) -> Vec<&'a dyn rusqlite::ToSql> {
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(keys.len() + 1);
    params.push(connector);
    for k in keys {
        params.push(k);
    }
    params
}

/// The most DN keys one lookup of waiting references names.
const IN_CHUNK: usize = 500;

impl ReferenceStore for SqliteTx<'_> {
    fn add_unresolved_ref(
        &mut self,
        cs: CsId,
        attribute: &AttributeName,
        target: &Dn,
        rule: &str,
    ) -> StoreResult<()> {
        // One statement: atomic by itself, so no savepoint is needed.
        let db = self.db();
        db.exec(
            "remembering an unresolved reference",
            "INSERT OR REPLACE INTO unresolved_ref (cs_id, attribute, target_key, value, rule) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                cs.0,
                attribute.as_str(),
                codec::dn_key(target),
                target.to_string(),
                rule
            ],
        )?;
        Ok(())
    }

    fn remove_unresolved_ref(
        &mut self,
        cs: CsId,
        attribute: &AttributeName,
        target: &Dn,
    ) -> StoreResult<bool> {
        // One statement: atomic by itself, so no savepoint is needed.
        let db = self.db();
        let n = db.exec(
            "forgetting an unresolved reference",
            "DELETE FROM unresolved_ref WHERE cs_id = ?1 AND attribute = ?2 AND target_key = ?3",
            params![cs.0, attribute.as_str(), codec::dn_key(target)],
        )?;
        Ok(n > 0)
    }

    fn clear_unresolved_refs(&mut self, cs: CsId, attribute: &AttributeName) -> StoreResult<u64> {
        // One statement: atomic by itself, so no savepoint is needed.
        let db = self.db();
        let n = db.exec(
            "forgetting unresolved references",
            "DELETE FROM unresolved_ref WHERE cs_id = ?1 AND attribute = ?2",
            params![cs.0, attribute.as_str()],
        )?;
        Ok(n as u64)
    }

    fn unresolved_holders_between(
        &self,
        after: Option<CsId>,
        through: CsId,
    ) -> StoreResult<Vec<CsId>> {
        let db = self.db();
        Ok(db
            .rows(
                "finding a page's unresolved references",
                "SELECT DISTINCT cs_id FROM unresolved_ref WHERE cs_id > ?1 AND cs_id <= ?2 \
                 ORDER BY cs_id",
                params![after_bound(after.map(|c| c.0)), through.0],
                |r| r.get(0),
            )?
            .into_iter()
            .map(CsId)
            .collect())
    }

    fn unresolved_refs_to(
        &self,
        connector: &ConnectorName,
        target: &Dn,
    ) -> StoreResult<Vec<(CsId, AttributeName, String)>> {
        Ok(self
            .unresolved_refs_to_many(connector, std::slice::from_ref(target))?
            .pop()
            .unwrap_or_default())
    }

    fn unresolved_refs_to_many(
        &self,
        connector: &ConnectorName,
        targets: &[Dn],
    ) -> StoreResult<Vec<Vec<(CsId, AttributeName, String)>>> {
        let mut out = vec![Vec::new(); targets.len()];
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(out);
        };
        let keys: Vec<String> = targets.iter().map(codec::dn_key).collect();
        let mut at: HashMap<&str, Vec<usize>> = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            at.entry(k.as_str()).or_default().push(i);
        }
        let distinct = distinct(&keys);
        for chunk in distinct.chunks(IN_CHUNK) {
            let sql = waiting_refs_sql(chunk.len());
            let params = with_connector(&c.id, chunk);
            let rows: Vec<(String, i64, String, String)> = db.rows(
                "finding references waiting for objects",
                &sql,
                params.as_slice(),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            for (key, cs, a, rule) in rows {
                let name = db.decode(codec::attribute_from(&a))?;
                for &i in at.get(key.as_str()).map(Vec::as_slice).unwrap_or_default() {
                    out[i].push((CsId(cs), name.clone(), rule.clone()));
                }
            }
        }
        Ok(out)
    }

    fn linked_mvs_by_dn(
        &self,
        connector: &ConnectorName,
        dns: &[Dn],
    ) -> StoreResult<Vec<Option<MvId>>> {
        let mut out = vec![None; dns.len()];
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(out);
        };
        let keys: Vec<String> = dns.iter().map(codec::dn_key).collect();
        let positions: Vec<i64> = (0..keys.len())
            .map(|i| i64::try_from(i).unwrap_or(i64::MAX))
            .collect();
        // Per DN the object `linked_mv_by_dn` picks: a joined one first, then the lowest id.
        let mut best: Vec<Option<(bool, i64, Option<i64>)>> = vec![None; keys.len()];
        for (chunk, at) in keys.chunks(IN_CHUNK).zip(positions.chunks(IN_CHUNK)) {
            let sql = linked_by_dn_sql(chunk.len());
            let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(1 + 2 * chunk.len());
            params.push(&c.id);
            for (p, k) in at.iter().zip(chunk) {
                params.push(p);
                params.push(k);
            }
            db.for_each("resolving references", &sql, params.as_slice(), |r| {
                let (at, id, mv): (i64, i64, Option<i64>) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let rank = (mv.is_none(), id, mv);
                if let Some(slot) = usize::try_from(at).ok().and_then(|i| best.get_mut(i))
                    && slot.is_none_or(|b| (rank.0, rank.1) < (b.0, b.1))
                {
                    *slot = Some(rank);
                }
                Ok(())
            })?;
        }
        for (slot, b) in out.iter_mut().zip(best) {
            *slot = b.and_then(|b| b.2).map(MvId);
        }
        Ok(out)
    }

    fn linked_mv_by_dn(&self, connector: &ConnectorName, dn: &Dn) -> StoreResult<Option<MvId>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(None);
        };
        let found: Option<Option<i64>> = db.row(
            "resolving a reference",
            "SELECT mv_id FROM cs_object WHERE connector_id = ?1 AND dn_key = ?2 \
             ORDER BY mv_id IS NULL, id LIMIT 1",
            params![c.id, codec::dn_key(dn)],
            |r| r.get(0),
        )?;
        Ok(found.flatten().map(MvId))
    }

    fn cs_link(&self, cs: CsId) -> StoreResult<Option<MvId>> {
        let found: Option<Option<i64>> = self.db().row(
            "reading a join",
            "SELECT mv_id FROM cs_object WHERE id = ?1",
            params![cs.0],
            |r| r.get(0),
        )?;
        Ok(found.flatten().map(MvId))
    }

    fn cs_anchor_by_dn(
        &self,
        connector: &ConnectorName,
        dn: &Dn,
    ) -> StoreResult<Option<(CsId, Option<Anchor>)>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(None);
        };
        let found: Option<(i64, Option<i64>, Option<Vec<u8>>)> = db.row(
            "resolving a reference by DN",
            "SELECT id, anchor_kind, anchor FROM cs_object WHERE connector_id = ?1 AND dn_key = ?2 \
             ORDER BY id LIMIT 1",
            params![c.id, codec::dn_key(dn)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        found
            .map(|(id, kind, anchor)| Ok((CsId(id), db.decode(codec::anchor_from(kind, anchor))?)))
            .transpose()
    }

    fn counterpart(&self, connector: &ConnectorName, mv: MvId) -> StoreResult<Option<Counterpart>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(None);
        };
        let found = db.row(
            "finding an object's counterpart",
            "SELECT mv_id, id, dn, object_class, anchor_kind, anchor FROM cs_object \
             WHERE mv_id = ?1 AND connector_id = ?2",
            params![mv.0, c.id],
            counterpart_row,
        )?;
        found
            .map(|row| Ok(decode_counterpart(&db, row)?.1))
            .transpose()
    }

    fn counterparts_of(
        &self,
        connector: &ConnectorName,
        mvs: &[MvId],
    ) -> StoreResult<Vec<(MvId, Counterpart)>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(mvs.len());
        for chunk in mvs.chunks(IN_CHUNK) {
            let sql = counterparts_of_sql(chunk.len());
            let ids: Vec<i64> = chunk.iter().map(|m| m.0).collect();
            let params = with_connector(&c.id, &ids);
            let found = db.rows(
                "finding the counterparts of referenced objects",
                &sql,
                params.as_slice(),
                counterpart_row,
            )?;
            for row in found {
                out.push(decode_counterpart(&db, row)?);
            }
        }
        Ok(out)
    }

    fn counterparts_between(
        &self,
        connector: &ConnectorName,
        after: Option<MvId>,
        through: MvId,
    ) -> StoreResult<Vec<(MvId, Counterpart)>> {
        let db = self.db();
        let Some(c) = db.connector(connector)? else {
            return Ok(Vec::new());
        };
        let found = db.rows(
            "finding the counterparts of a page of objects",
            "SELECT mv_id, id, dn, object_class, anchor_kind, anchor FROM cs_object \
             INDEXED BY cs_object_join WHERE mv_id IS NOT NULL AND mv_id > ?1 AND mv_id <= ?2 \
             AND connector_id = ?3 \
             ORDER BY mv_id",
            params![after_bound(after.map(|m| m.0)), through.0, c.id],
            counterpart_row,
        )?;
        found
            .into_iter()
            .map(|row| decode_counterpart(&db, row))
            .collect()
    }

    fn mv_lineage(
        &self,
        mv: MvId,
        attribute: &AttributeName,
    ) -> StoreResult<Option<(String, ConnectorName)>> {
        super::metaverse::lineage_of(&self.db(), mv, attribute)
    }

    fn mv_referencing(&self, mv: MvId) -> StoreResult<Vec<(MvId, AttributeName)>> {
        let db = self.db();
        let target = refs::mv_ref_text(mv);
        let rows: Vec<(i64, String)> = db.rows(
            "finding objects that reference a metaverse object",
            "SELECT mv_id, attribute FROM mv_value WHERE tag = 5 AND value = ?1 \
             ORDER BY mv_id, attribute",
            params![target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        rows.into_iter()
            .map(|(m, a)| Ok((MvId(m), db.decode(codec::attribute_from(&a))?)))
            .collect()
    }

    fn cs_value_count(&self, cs: CsId, attribute: &AttributeName) -> StoreResult<u64> {
        let db = self.db();
        if let Some(values) = super::space::inline_attribute(&db, cs.0, attribute)? {
            return Ok(values.len() as u64);
        }
        let n: Option<i64> = db.row(
            "counting an attribute's values",
            "SELECT COUNT(*) FROM cs_value WHERE cs_id = ?1 AND attribute = ?2",
            params![cs.0, attribute.as_str()],
            |r| r.get(0),
        )?;
        Ok(codec::count(n.unwrap_or(0)))
    }
}
