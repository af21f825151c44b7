//! Evaluation, math and logic functions: `IsPresent`, `IsNull`, `IsBitSet`, `BitAnd`, `BitOr`,
//! `RandomNum`, `Error`, `Coalesce`, `Not`...
//!
//! Invariants: the `Is...` functions never fail, whatever they are given (they exist to test
//! values before converting them); `IsPresent` is the exact inverse of `IsNullOrEmpty`; a
//! multi-valued attribute is present when it has at least one non-empty value.

use crate::domain::ObjectGuid;
use crate::engine::expr::convert::parse_num;
use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::functions::{Args, FnError};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

fn empty_text(v: &Value) -> bool {
    matches!(v, Value::Str(s) if s.is_empty())
}

fn null_or_empty(v: &Value) -> bool {
    match v {
        Value::Multi(items) => items.iter().all(empty_text),
        Value::Bin(b) => b.is_empty(),
        other => other.is_null() || matches!(other, Value::IgnoreThisFlow) || empty_text(other),
    }
}

pub(super) fn is_present(a: &Args<'_>) -> R {
    Ok(Value::Bool(!null_or_empty(a.value(0))))
}

pub(super) fn is_null_or_empty(a: &Args<'_>) -> R {
    Ok(Value::Bool(null_or_empty(a.value(0))))
}

pub(super) fn is_null(a: &Args<'_>) -> R {
    Ok(Value::Bool(a.value(0).is_null()))
}

pub(super) fn is_empty(a: &Args<'_>) -> R {
    Ok(Value::Bool(match a.value(0) {
        Value::Multi(items) => items.iter().all(empty_text),
        v => empty_text(v),
    }))
}

pub(super) fn is_date(a: &Args<'_>) -> R {
    Ok(Value::Bool(match a.value(0) {
        Value::Date(_) => true,
        Value::Str(s) => DateTime::parse(s).is_some(),
        _ => false,
    }))
}

pub(super) fn is_guid(a: &Args<'_>) -> R {
    Ok(Value::Bool(match a.value(0) {
        Value::Str(s) => s.trim().parse::<ObjectGuid>().is_ok(),
        _ => false,
    }))
}

pub(super) fn is_numeric(a: &Args<'_>) -> R {
    Ok(Value::Bool(match a.value(0) {
        Value::Num(_) => true,
        Value::Str(s) => parse_num(s).is_some(),
        _ => false,
    }))
}

pub(super) fn is_string(a: &Args<'_>) -> R {
    Ok(Value::Bool(matches!(
        a.value(0),
        Value::Str(_) | Value::Num(_) | Value::Bool(_) | Value::Ref(_) | Value::Date(_)
    )))
}

/// `IsBitSet(value, flag)`: true when every bit of `flag` is set in `value`.
pub(super) fn is_bit_set(a: &Args<'_>) -> R {
    let (Some(v), Some(f)) = (a.num(0)?, a.num(1)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Bool(v & f == f))
}

pub(super) fn bit_and(a: &Args<'_>) -> R {
    let (Some(x), Some(y)) = (a.num(0)?, a.num(1)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Num(x & y))
}

pub(super) fn bit_or(a: &Args<'_>) -> R {
    let (Some(x), Some(y)) = (a.num(0)?, a.num(1)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Num(x | y))
}

/// A random number between `start` and `end`, both included.
pub(super) fn random_num(a: &Args<'_>) -> R {
    let (lo, hi) = (a.req_num(0)?, a.req_num(1)?);
    if lo > hi {
        return Err(FnError::Message(format!(
            "the start {lo} is greater than the end {hi}"
        )));
    }
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)
        .map_err(|e| FnError::Message(format!("no randomness available: {e}")))?;
    let span = u128::from(hi.abs_diff(lo)) + 1;
    let pick = (u128::from(u64::from_le_bytes(b)) % span) as i128;
    Ok(Value::Num((i128::from(lo) + pick) as i64))
}

pub(super) fn error(a: &Args<'_>) -> R {
    let msg = a
        .text(0)?
        .unwrap_or_else(|| "Error() was called".to_string());
    Err(FnError::Custom(msg))
}

/// The first argument that is neither NULL nor empty text.
pub(super) fn coalesce(a: &Args<'_>) -> R {
    Ok(a.values
        .iter()
        .find(|v| !null_or_empty(v))
        .map(|v| v.as_ref().clone())
        .unwrap_or(Value::Null))
}

pub(super) fn not(a: &Args<'_>) -> R {
    Ok(a.bool(0)?.map_or(Value::Null, |b| Value::Bool(!b)))
}
