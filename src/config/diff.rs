//! Key-by-key comparison of two configurations (`hybridsync config diff`).
//!
//! Invariants: configurations are compared by their *effective* values, so a key spelled out with
//! its default value equals a key left out; keys are reported as dotted paths in a stable
//! (sorted) order; nothing secret can appear because configurations hold only references.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::model::Config;
use crate::config::save::{SaveError, to_table};

/// One difference between configuration A and B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    /// Only B has the key.
    Added {
        /// Dotted key path.
        key: String,
        /// Value in B.
        new: String,
    },
    /// Only A has the key.
    Removed {
        /// Dotted key path.
        key: String,
        /// Value in A.
        old: String,
    },
    /// Both have it, with different values.
    Changed {
        /// Dotted key path.
        key: String,
        /// Value in A.
        old: String,
        /// Value in B.
        new: String,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Added { key, new } => write!(f, "+ {key} = {new}"),
            Self::Removed { key, old } => write!(f, "- {key} = {old}"),
            Self::Changed { key, old, new } => write!(f, "~ {key}: {old} -> {new}"),
        }
    }
}

/// Every key whose effective value differs between `a` and `b`.
pub fn diff(a: &Config, b: &Config) -> Result<Vec<Change>, SaveError> {
    let fa = flatten(&toml::Value::Table(to_table(a)?));
    let fb = flatten(&toml::Value::Table(to_table(b)?));
    let mut out = Vec::new();
    for (key, old) in &fa {
        match fb.get(key) {
            None => out.push(Change::Removed {
                key: key.clone(),
                old: old.clone(),
            }),
            Some(new) if new != old => out.push(Change::Changed {
                key: key.clone(),
                old: old.clone(),
                new: new.clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, new) in &fb {
        if !fa.contains_key(key) {
            out.push(Change::Added {
                key: key.clone(),
                new: new.clone(),
            });
        }
    }
    out.sort_by(|x, y| key_of(x).cmp(key_of(y)));
    Ok(out)
}

fn key_of(c: &Change) -> &str {
    match c {
        Change::Added { key, .. } | Change::Removed { key, .. } | Change::Changed { key, .. } => {
            key
        }
    }
}

/// Leaves of a TOML tree as `path -> TOML rendering`. Arrays of scalars are leaves; arrays of
/// tables are walked element by element (`directories[0].forest`).
pub fn flatten(v: &toml::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &toml::Value, path: String, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(x, p, out);
            }
        }
        toml::Value::Array(a) if a.iter().any(toml::Value::is_table) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{path}[{i}]"), out);
            }
        }
        other => {
            out.insert(path, render_value(other));
        }
    }
}

fn render_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("'{s}'"),
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(render_value).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}
