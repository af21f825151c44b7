//! Directory functions: `DNComponent`, `DNComponentRev`, `EscapeDNComponent`.
//!
//! Invariants: components are returned exactly as written in the DN (still escaped), which is
//! what the default rules rely on when they look for the `\0ACNF:` of replication-conflict
//! objects; a component number outside the DN gives NULL; splitting honours backslash escapes
//! and quoted values, so `CN=Smith\, John` is one component.

use crate::engine::expr::functions::{Args, FnError, num_to_usize};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

/// The `(type, value)` parts of a DN's components, left to right, values as written.
fn components(dn: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    let mut quoted = false;
    let push = |part: &str, out: &mut Vec<(String, String)>| {
        let part = part.trim();
        if part.is_empty() {
            return;
        }
        match part.split_once('=') {
            Some((t, v)) => out.push((t.trim().to_string(), v.trim().to_string())),
            None => out.push((String::new(), part.to_string())),
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' | ';' if !quoted => {
                push(&current, &mut out);
                current.clear();
            }
            _ => current.push(c),
        }
    }
    push(&current, &mut out);
    out
}

fn dn_text(a: &Args<'_>) -> Result<Option<String>, FnError> {
    a.text(0)
}

pub(super) fn dn_component(a: &Args<'_>) -> R {
    let Some(dn) = dn_text(a)? else {
        return Ok(Value::Null);
    };
    let n = a.req_num(1)?;
    if n < 1 {
        return Ok(Value::Null);
    }
    Ok(components(&dn)
        .into_iter()
        .nth(num_to_usize(n - 1))
        .map_or(Value::Null, |(_, v)| Value::Str(v)))
}

pub(super) fn dn_component_rev(a: &Args<'_>) -> R {
    let Some(dn) = dn_text(a)? else {
        return Ok(Value::Null);
    };
    let n = a.req_num(1)?;
    let skip_dc = a.choice(2, &["DC"])?.is_some();
    if n < 1 {
        return Ok(Value::Null);
    }
    Ok(components(&dn)
        .into_iter()
        .rev()
        .filter(|(t, _)| !(skip_dc && t.eq_ignore_ascii_case("dc")))
        .nth(num_to_usize(n - 1))
        .map_or(Value::Null, |(_, v)| Value::Str(v)))
}

/// Escapes the value of one `type=value` component (or the whole text when it has no `=`).
pub(super) fn escape_dn_component(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    Ok(Value::Str(match s.split_once('=') {
        Some((t, v)) => format!("{t}={}", crate::domain::escape_value(v)),
        None => crate::domain::escape_value(&s),
    }))
}
