//! [`ValueSet`]: the distinct values of one attribute as they arrive, for comparing with what is
//! stored without decoding it.
//!
//! Each value is hashed (the stable hash of `codec`), the values are de-duplicated (first
//! occurrence kept, equality checked exactly so a hash collision never merges two values), and
//! a stored row `(tag, payload)` is looked up by its hash, computed straight from the SQLite
//! row, and confirmed by comparing payloads. Comparing 50,000 stored members with 50,000
//! imported ones therefore allocates nothing per unchanged value.

use rusqlite::types::ValueRef;

use super::codec;
use crate::engine::expr::Value;

/// Distinct values with their hashes, searchable by hash.
pub(crate) struct ValueSet<'a> {
    values: Vec<&'a Value>,
    /// (hash, index into `values`), sorted.
    by_hash: Vec<(u64, usize)>,
    sum: u64,
}

impl<'a> ValueSet<'a> {
    /// The distinct values of `values`, in their order.
    pub(crate) fn new(values: &'a [Value]) -> ValueSet<'a> {
        let mut order: Vec<(u64, usize)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (codec::value_hash(v), i))
            .collect();
        order.sort_unstable();
        // Within a run of equal hashes, drop every value equal to an earlier one.
        let mut keep = vec![true; values.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && order[end].0 == order[start].0 {
                end += 1;
            }
            if end - start > 1 {
                let mut run: Vec<usize> = order[start..end].iter().map(|&(_, i)| i).collect();
                run.sort_unstable();
                for (k, &i) in run.iter().enumerate() {
                    if run[..k].iter().any(|&j| keep[j] && values[j] == values[i]) {
                        keep[i] = false;
                    }
                }
            }
            start = end;
        }
        let mut kept = Vec::with_capacity(values.len());
        let mut renumber = vec![usize::MAX; values.len()];
        for (i, v) in values.iter().enumerate() {
            if keep[i] {
                renumber[i] = kept.len();
                kept.push(v);
            }
        }
        let by_hash: Vec<(u64, usize)> = order
            .into_iter()
            .filter(|&(_, i)| keep[i])
            .map(|(h, i)| (h, renumber[i]))
            .collect();
        let sum = by_hash
            .iter()
            .fold(0u64, |acc, &(h, _)| acc.wrapping_add(h));
        ValueSet {
            values: kept,
            by_hash,
            sum,
        }
    }

    /// The distinct values, in arrival order.
    pub(crate) fn values(&self) -> &[&'a Value] {
        &self.values
    }

    /// How many distinct values.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The wrapping sum of the value hashes (with [`ValueSet::len`], the attribute's digest).
    pub(crate) fn sum(&self) -> u64 {
        self.sum
    }

    /// The index of the value stored as `(tag, payload)`, if the set has it.
    pub(crate) fn find(&self, tag: i64, payload: ValueRef<'_>) -> Option<usize> {
        let h = codec::sql_value_hash(tag, payload);
        let start = self.by_hash.partition_point(|&(x, _)| x < h);
        self.by_hash[start..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, i)| i)
            .find(|&i| codec::sql_matches(self.values[i], tag, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_dropped_and_stored_rows_are_found() {
        let values = vec![
            Value::Str("b".into()),
            Value::Str("a".into()),
            Value::Str("b".into()),
            Value::Ref("a".into()),
            Value::Num(1),
            Value::Bool(true),
            Value::Num(1),
        ];
        let set = ValueSet::new(&values);
        assert_eq!(set.len(), 5);
        assert_eq!(
            set.values()
                .iter()
                .map(|v| (*v).clone())
                .collect::<Vec<_>>(),
            vec![
                Value::Str("b".into()),
                Value::Str("a".into()),
                Value::Ref("a".into()),
                Value::Num(1),
                Value::Bool(true),
            ]
        );
        for (i, v) in set.values().iter().enumerate() {
            let payload = codec::payload(v);
            let r = match &payload {
                rusqlite::types::ToSqlOutput::Borrowed(r) => *r,
                rusqlite::types::ToSqlOutput::Owned(o) => o.into(),
                _ => unreachable!(),
            };
            assert_eq!(set.find(codec::tag(v), r), Some(i));
        }
        assert_eq!(
            set.find(codec::tag(&Value::Num(2)), ValueRef::Integer(2)),
            None
        );
        let same: u64 = set
            .values()
            .iter()
            .fold(0, |a, v| a.wrapping_add(codec::value_hash(v)));
        assert_eq!(set.sum(), same);
    }
}
