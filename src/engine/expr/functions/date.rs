//! Date functions: `DateAdd`, `DateFromNum`, `FormatDateTime`, `Now`, `NumFromDate`.
//!
//! Invariants: dates are UTC; AD's numeric dates are FILETIMEs (100-ns intervals since
//! 1601-01-01); `Now()` is the run's fixed clock, so one run sees one time; NULL gives NULL.

use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::functions::{Args, FnError};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

pub(super) fn date_add(a: &Args<'_>) -> R {
    let interval = a.req_text(0)?;
    let Some(n) = a.num(1)? else {
        return Ok(Value::Null);
    };
    let Some(d) = a.date(2)? else {
        return Ok(Value::Null);
    };
    d.add(&interval, n)
        .map(Value::Date)
        .map_err(FnError::Message)
}

pub(super) fn date_from_num(a: &Args<'_>) -> R {
    let Some(n) = a.num(0)? else {
        return Ok(Value::Null);
    };
    DateTime::from_filetime(n).map(Value::Date).ok_or_else(|| {
        FnError::Message(format!(
            "{n} is not a date AD can store (a FILETIME between 1601 and 9999)"
        ))
    })
}

pub(super) fn format_date_time(a: &Args<'_>) -> R {
    let Some(d) = a.date(0)? else {
        return Ok(Value::Null);
    };
    let fmt = a.req_text_ref(1)?;
    d.format(&fmt).map(Value::Str).map_err(FnError::Message)
}

pub(super) fn now(a: &Args<'_>) -> R {
    Ok(Value::Date(a.ctx.now))
}

pub(super) fn num_from_date(a: &Args<'_>) -> R {
    let Some(d) = a.date(0)? else {
        return Ok(Value::Null);
    };
    d.to_filetime()
        .map(Value::Num)
        .ok_or_else(|| FnError::Message(format!("{d} is before 1601-01-01, which AD cannot store")))
}
