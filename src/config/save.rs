//! Writing a configuration back without losing the admin's file.
//!
//! Invariants: only keys whose *effective* value changed are touched; comments, blank lines, key
//! order and keys this version does not know stay exactly as they were. A key whose new value is
//! the default and that the file never mentioned is not added. A brand-new file is the commented
//! template with the admin's answers applied, so it carries the same explanations. The result is
//! always re-read and checked before it is returned: we never write a file we could not load.

use toml_edit::{DocumentMut, Item, TableLike};

use crate::config::TEMPLATE;
use crate::config::issue::ConfigIssue;
use crate::config::load;
use crate::config::model::Config;

/// Why a configuration could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The existing file is not TOML, so it cannot be edited in place.
    #[error("the existing configuration is not valid TOML ({0}); fix or move it before saving")]
    Unparsable(String),
    /// The configuration to save cannot be represented as TOML.
    #[error("cannot represent the configuration as TOML: {0}")]
    Serialize(String),
    /// The edited file would not load; nothing was written.
    #[error("the edited configuration would not load: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    WouldNotLoad(Vec<ConfigIssue>),
}

/// Apply `new` to the text of an existing file, keeping everything the admin wrote.
pub fn update_document(existing: &str, new: &Config) -> Result<String, SaveError> {
    let mut doc: DocumentMut = existing
        .parse()
        .map_err(|e: toml_edit::TomlError| SaveError::Unparsable(e.message().to_string()))?;
    let old = effective_or_raw(existing);
    let new_value = to_table(new)?;
    apply_table(doc.as_table_mut(), &old, &new_value, 0);
    let text = doc.to_string();
    match load::parse(&text) {
        Ok(_) => Ok(text),
        Err(issues) => Err(SaveError::WouldNotLoad(issues)),
    }
}

/// A new file: the commented template with `config` applied.
pub fn render_new(config: &Config) -> Result<String, SaveError> {
    update_document(TEMPLATE, config)
}

/// The effective configuration of `text` as a TOML table, or the raw table if it does not load.
fn effective_or_raw(text: &str) -> toml::Table {
    match toml::from_str::<Config>(text) {
        Ok(c) => to_table(&c).unwrap_or_default(),
        Err(_) => toml::from_str(text).unwrap_or_default(),
    }
}

/// The effective configuration as a TOML table (every default filled in).
pub fn to_table(c: &Config) -> Result<toml::Table, SaveError> {
    match toml::Value::try_from(c) {
        Ok(toml::Value::Table(t)) => Ok(t),
        Ok(_) => Err(SaveError::Serialize(
            "the configuration is not a table".into(),
        )),
        Err(e) => Err(SaveError::Serialize(e.to_string())),
    }
}

fn apply_table(t: &mut dyn TableLike, old: &toml::Table, new: &toml::Table, depth: usize) {
    for (k, nv) in new {
        let ov = old.get(k);
        if ov == Some(nv) {
            continue;
        }
        match (t.get_mut(k), ov, nv) {
            (Some(item), _, _) if !item.is_none() => apply_item(item, ov, nv, depth + 1),
            // A section the file never spelled out (all defaults): add only what changed.
            (_, Some(toml::Value::Table(ot)), toml::Value::Table(nt))
                if depth == 0 || !is_small_leaf(nt) =>
            {
                let mut fresh = toml_edit::Table::new();
                fresh.set_implicit(true);
                apply_table(&mut fresh, ot, nt, depth + 1);
                t.insert(k, Item::Table(fresh));
            }
            _ => {
                t.insert(k, new_item(nv, depth + 1));
            }
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            t.remove(k);
        }
    }
}

fn apply_item(item: &mut Item, old: Option<&toml::Value>, new: &toml::Value, depth: usize) {
    let empty = toml::Table::new();
    let old_table = old.and_then(toml::Value::as_table).unwrap_or(&empty);
    match (item, new) {
        (Item::Table(t), toml::Value::Table(nt)) => apply_table(t, old_table, nt, depth),
        (Item::Value(toml_edit::Value::InlineTable(t)), toml::Value::Table(nt)) => {
            apply_table(t, old_table, nt, depth)
        }
        (Item::ArrayOfTables(a), toml::Value::Array(na))
            if na.iter().all(toml::Value::is_table) =>
        {
            let old_items = old.and_then(toml::Value::as_array);
            for (i, nv) in na.iter().enumerate() {
                let Some(nt) = nv.as_table() else { continue };
                let ot = old_items
                    .and_then(|o| o.get(i))
                    .and_then(toml::Value::as_table)
                    .unwrap_or(&empty);
                match a.get_mut(i) {
                    Some(t) => apply_table(t, ot, nt, depth),
                    None => a.push(new_table(nt, depth)),
                }
            }
            while a.len() > na.len() {
                a.remove(a.len() - 1);
            }
        }
        (Item::Value(toml_edit::Value::Array(a)), toml::Value::Array(na)) => {
            apply_array(a, old.and_then(toml::Value::as_array), na);
        }
        (item @ Item::Value(_), nv) => {
            let mut fresh = to_edit_value(nv);
            if let Item::Value(v) = item {
                *fresh.decor_mut() = v.decor().clone();
            }
            *item = Item::Value(fresh);
        }
        (item, nv) => *item = new_item(nv, depth),
    }
}

/// Edit an inline array element by element, so unchanged elements keep their layout and comments.
fn apply_array(a: &mut toml_edit::Array, old: Option<&Vec<toml::Value>>, new: &[toml::Value]) {
    for (i, nv) in new.iter().enumerate() {
        let ov = old.and_then(|o| o.get(i));
        if ov == Some(nv) {
            continue;
        }
        match (a.get_mut(i), nv) {
            (Some(toml_edit::Value::InlineTable(t)), toml::Value::Table(nt)) => {
                let empty = toml::Table::new();
                apply_table(
                    t,
                    ov.and_then(toml::Value::as_table).unwrap_or(&empty),
                    nt,
                    2,
                );
            }
            (Some(v), nv) => {
                let mut fresh = to_edit_value(nv);
                *fresh.decor_mut() = v.decor().clone();
                *v = fresh;
            }
            (None, nv) => push_keeping_layout(a, to_edit_value(nv)),
        }
    }
    while a.len() > new.len() {
        a.remove(a.len() - 1);
    }
}

/// Append to an array; in a multi-line array the new element goes on its own line, indented like
/// the others, and a comment after the last element stays with that element.
fn push_keeping_layout(a: &mut toml_edit::Array, mut v: toml_edit::Value) {
    let last_prefix = a
        .iter()
        .last()
        .and_then(|x| x.decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_string);
    match last_prefix {
        Some(prefix) if prefix.contains('\n') => {
            let indent = prefix.rsplit('\n').next().unwrap_or_default().to_string();
            let trailing = a.trailing().as_str().unwrap_or_default().to_string();
            let before = if trailing.contains('\n') {
                trailing
            } else {
                "\n".to_string()
            };
            v.decor_mut().set_prefix(format!("{before}{indent}"));
            v.decor_mut().set_suffix("");
            a.push_formatted(v);
            a.set_trailing("\n");
            a.set_trailing_comma(true);
        }
        _ => a.push(v),
    }
}

/// A fresh item for a key the file did not have: sections and arrays of sections as standard
/// tables, small leaf tables inline.
fn new_item(v: &toml::Value, depth: usize) -> Item {
    match v {
        toml::Value::Table(t) if depth <= 1 || !is_small_leaf(t) => {
            Item::Table(new_table(t, depth))
        }
        toml::Value::Array(a)
            if !a.is_empty()
                && a.iter()
                    .all(|x| x.as_table().is_some_and(|t| !is_small_leaf(t))) =>
        {
            let mut tables = toml_edit::ArrayOfTables::new();
            for t in a.iter().filter_map(toml::Value::as_table) {
                tables.push(new_table(t, depth));
            }
            Item::ArrayOfTables(tables)
        }
        other => Item::Value(to_edit_value(other)),
    }
}

fn is_small_leaf(t: &toml::Table) -> bool {
    t.len() <= 3 && t.values().all(|v| !v.is_table() && !v.is_array())
}

fn new_table(t: &toml::Table, depth: usize) -> toml_edit::Table {
    let mut out = toml_edit::Table::new();
    for (k, v) in t {
        out.insert(k, new_item(v, depth + 1));
    }
    out
}

fn to_edit_value(v: &toml::Value) -> toml_edit::Value {
    match v {
        toml::Value::String(s) => s.as_str().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => {
            let mut arr = toml_edit::Array::new();
            for x in a {
                arr.push(to_edit_value(x));
            }
            toml_edit::Value::Array(arr)
        }
        toml::Value::Table(t) => {
            let mut it = toml_edit::InlineTable::new();
            for (k, x) in t {
                it.insert(k, to_edit_value(x));
            }
            toml_edit::Value::InlineTable(it)
        }
    }
}
