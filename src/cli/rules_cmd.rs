//! `hybridsync rules test`: the Synchronization Rules Editor's preview from the command line.
//!
//! Invariants: the object is built only from the command line (and an LDIF file when given), never
//! from a live directory; `--json` prints exactly `{"value": <json>}` or `{"error": "<message>"}`
//! (scripts parse it) and an error exits 1; binary values are shown as base64, dates in ISO 8601.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::cli::args::RulesTestArgs;
use crate::cli::{Outcome, exit};
use crate::engine::expr::{DateTime, EvalContext, Expr, MemoryObject, Params, Value};

/// Build the test object from `--attr` values.
pub(crate) fn object_from_args(attrs: &[String]) -> Result<MemoryObject, String> {
    let mut obj = MemoryObject::default();
    for a in attrs {
        let (name, value) = if let Some((n, b64)) = a.split_once("::") {
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| format!("--attr {a}: the value after '::' is not base64"))?;
            (n, Value::Bin(bytes))
        } else if let Some((n, v)) = a.split_once('=') {
            (n, Value::Str(v.to_string()))
        } else {
            return Err(format!(
                "--attr {a}: write name=value (text) or name::base64 (binary)"
            ));
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("dn") {
            obj.dn = Some(match value {
                Value::Str(s) => s,
                other => other.to_string(),
            });
        } else if !obj.add(name, value) {
            return Err(format!("--attr {a}: '{name}' is not an attribute name"));
        }
    }
    Ok(obj)
}

pub(crate) fn params_from_args(params: &[String]) -> Result<Params, String> {
    let mut out = Params::new();
    for p in params {
        let Some((n, v)) = p.split_once('=') else {
            return Err(format!(
                "--param {p}: write name=value, e.g. --param Domain.FQDN=corp.example.com"
            ));
        };
        out = out.with(n.trim(), v);
    }
    Ok(out)
}

/// A value as JSON: text, number, boolean, null, or an array for several values.
pub(crate) fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => serde_json::Value::Null,
        Value::Str(s) | Value::Ref(s) => serde_json::Value::String(s.clone()),
        Value::Num(n) => serde_json::Value::from(*n),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Bin(b) => serde_json::Value::String(STANDARD.encode(b)),
        Value::Date(d) => {
            serde_json::Value::String(d.format("o").unwrap_or_else(|_| d.to_string()))
        }
        Value::Multi(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
    }
}

/// A value for people: one line per value; NULL, AuthoritativeNull and IgnoreThisFlow by name.
pub(crate) fn to_text(v: &Value) -> String {
    match v {
        Value::Multi(items) => items.iter().map(to_text).collect::<Vec<_>>().join("\n"),
        Value::Date(d) => d.format("o").unwrap_or_else(|_| d.to_string()),
        other => other.to_string(),
    }
}

fn fail(json: bool, message: &str) -> Outcome {
    if json {
        println!("{}", serde_json::json!({ "error": message }));
    } else {
        eprintln!("error: {message}");
    }
    Ok(exit::FAILURE)
}

pub(crate) fn test(a: &RulesTestArgs) -> Outcome {
    if a.rule.is_some() || a.ldif.is_some() {
        eprintln!(
            "hybridsync rules test: not available in this version: testing a whole rule (--rule) and reading objects from LDIF (--ldif) are not built yet; use --expr with --attr. Nothing was changed."
        );
        return Ok(exit::USAGE);
    }
    let obj = match object_from_args(&a.attrs) {
        Ok(o) => o,
        Err(m) => return fail(a.json, &m),
    };
    let params = match params_from_args(&a.params) {
        Ok(p) => p,
        Err(m) => return fail(a.json, &m),
    };
    let text = a.expr.as_deref().unwrap_or_default();
    let expr = match Expr::parse(text) {
        Ok(e) => e,
        Err(e) => return fail(a.json, &format!("the expression does not parse: {e}")),
    };
    let ctx = EvalContext {
        object: &obj,
        params: &params,
        now: DateTime::now(),
    };
    match expr.evaluate(&ctx) {
        Ok(v) => {
            if a.json {
                println!("{}", serde_json::json!({ "value": to_json(&v) }));
            } else {
                println!("{}", to_text(&v));
            }
            Ok(exit::SUCCESS)
        }
        Err(e) => fail(a.json, &e.to_string()),
    }
}
