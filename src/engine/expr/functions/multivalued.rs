//! Multi-valued functions: `Contains`, `Count`, `Item`, `ItemOrNull`, `Join`, `RemoveDuplicates`,
//! `Split`.
//!
//! Invariants: indexes are 1-based (as `Contains` returns them); a single value counts as a list
//! of one, NULL as an empty list; results that would have no values are NULL.

use crate::engine::expr::functions::{Args, FnError, num_to_usize};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

pub(super) fn contains(a: &Args<'_>) -> R {
    let Some(search) = a.text(1)? else {
        return Ok(Value::Num(0));
    };
    let insensitive =
        a.choice(2, &["CaseSensitive", "CaseInsensitive"])? == Some("CaseInsensitive");
    let norm = |s: &str| {
        if insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let needle = norm(&search);
    for (i, v) in a.value(0).values().iter().enumerate() {
        let found = match v {
            // References must match exactly (case-insensitively for DNs).
            Value::Ref(r) => r.eq_ignore_ascii_case(&search),
            Value::Str(s) => norm(s).contains(&needle),
            other => crate::engine::expr::convert::as_text(other)
                .ok()
                .flatten()
                .is_some_and(|s| norm(&s).contains(&needle)),
        };
        if found {
            return Ok(Value::Num(i as i64 + 1));
        }
    }
    Ok(Value::Num(0))
}

pub(super) fn count(a: &Args<'_>) -> R {
    Ok(Value::Num(a.value(0).values().len() as i64))
}

fn nth(a: &Args<'_>) -> Result<(Option<Value>, i64, usize), FnError> {
    let index = a.req_num(1)?;
    let values = a.value(0).values();
    let found = (index >= 1)
        .then(|| values.get(num_to_usize(index - 1)).map(|v| (*v).clone()))
        .flatten();
    Ok((found, index, values.len()))
}

pub(super) fn item(a: &Args<'_>) -> R {
    match nth(a)? {
        (Some(v), _, _) => Ok(v),
        (None, index, len) => Err(FnError::Message(format!(
            "index {index} is outside the attribute's {len} value{} (use ItemOrNull to get NULL instead)",
            if len == 1 { "" } else { "s" }
        ))),
    }
}

pub(super) fn item_or_null(a: &Args<'_>) -> R {
    Ok(nth(a)?.0.unwrap_or(Value::Null))
}

pub(super) fn join(a: &Args<'_>) -> R {
    let values = a.value(0).values();
    if values.is_empty() {
        return Ok(Value::Null);
    }
    let delim = if a.has(1) {
        a.text(1)?.unwrap_or_default()
    } else {
        " ".to_string()
    };
    let mut parts = Vec::with_capacity(values.len());
    for v in values {
        parts.push(
            crate::engine::expr::convert::as_text(v)
                .map_err(FnError::Message)?
                .unwrap_or_default(),
        );
    }
    Ok(Value::Str(parts.join(&delim)))
}

/// Keeps the first of equal values (exact, case-sensitive comparison: `SMTP:` and `smtp:` differ).
pub(super) fn remove_duplicates(a: &Args<'_>) -> R {
    let mut out: Vec<Value> = Vec::new();
    for v in a.value(0).values() {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::multi(out))
}

/// Splits on a single-character delimiter; empty pieces are dropped (an attribute cannot hold
/// empty values); with `limit`, the last value keeps the rest of the text.
pub(super) fn split(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let d = a.req_text(1)?;
    let mut it = d.chars();
    let (Some(delim), None) = (it.next(), it.next()) else {
        return Err(FnError::Message(format!(
            "argument 2 (delimiter) must be exactly one character, not '{d}' (Split cannot split on longer text)"
        )));
    };
    let pieces: Vec<String> = if a.has(2) {
        let limit = a.req_num(2)?;
        if limit < 1 {
            return Err(FnError::Message(format!(
                "argument 3 (limit) must be 1 or more, not {limit}"
            )));
        }
        s.splitn(num_to_usize(limit), delim)
            .map(str::to_string)
            .collect()
    } else {
        s.split(delim).map(str::to_string).collect()
    };
    Ok(Value::multi(
        pieces.into_iter().filter(|p| !p.is_empty()).map(Value::Str),
    ))
}
