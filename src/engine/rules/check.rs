//! What a rule may read and write, by side: the AD attribute list, the metaverse schema, the
//! Graph properties; and the helpers that turn a problem into a message that names the fix.
//!
//! Invariants: every message says what is wrong, suggests the closest known name when one is a
//! likely typo, and says how to fix it honestly (the metaverse schema and the AD attribute list
//! are fixed in this version); checks are pure functions of the schemas in `schema.rs`.

use std::ops::Range;

use super::model::MvObjectType;
use super::schema::{self, AttrDef, AttrType};
use crate::engine::expr::Value;

/// Where a rule reads from and writes to, for attribute checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Side {
    /// An Active Directory object (the built-in attribute list).
    Ad,
    /// A metaverse object of this type.
    Mv(MvObjectType),
    /// A Graph object of this type (`user` or `group`).
    Graph(String),
}

/// Checks that the rule may read `name` on `side`; returns the message when not.
pub(super) fn read_problem(side: &Side, name: &str) -> Option<String> {
    match side {
        Side::Ad => {
            if schema::ad_attribute(name).is_some() {
                return None;
            }
            let hint = did_you_mean(name, schema::AD_ATTRIBUTES.iter().copied());
            Some(format!(
                "'{name}' is not in hybridsync's built-in list of Active Directory attributes.{hint} Check the spelling; if your directory really has this attribute, reading it needs a refresh of the directory schema, which this version of hybridsync cannot do yet"
            ))
        }
        Side::Mv(ty) => {
            if schema::mv_attribute(*ty, name).is_some() {
                return None;
            }
            let names: Vec<&str> = schema::mv_attributes(*ty).iter().map(|d| d.name).collect();
            let hint = did_you_mean(name, names);
            Some(format!(
                "'{name}' is not an attribute of the metaverse object type '{ty}'.{hint} Read one of the {ty} attributes (an inbound rule puts values there first)"
            ))
        }
        Side::Graph(ty) => {
            if schema::graph_readable(ty, name) {
                return None;
            }
            let names: Vec<&str> = schema::graph_writable(ty).iter().map(|d| d.name).collect();
            let hint = did_you_mean(name, names);
            Some(format!(
                "'{name}' is not a Microsoft Graph {ty} property hybridsync reads.{hint}"
            ))
        }
    }
}

/// Checks that the rule may write `name` on `side`: the attribute's definition when known
/// (`None` for AD, whose list carries no types), or the message.
pub(super) fn write_problem(side: &Side, name: &str) -> Result<Option<AttrDef>, String> {
    match side {
        Side::Ad => match schema::ad_attribute(name) {
            Some(_) if name.eq_ignore_ascii_case("dn") => Err(
                "'dn' cannot be written by a flow; the connector names objects itself".to_string(),
            ),
            Some(_) => Ok(None),
            None => Err(read_problem(side, name).unwrap_or_default()),
        },
        Side::Mv(ty) => match schema::mv_attribute(*ty, name) {
            Some(def) => Ok(Some(def)),
            None => {
                let names: Vec<&str> = schema::mv_attributes(*ty).iter().map(|d| d.name).collect();
                let hint = did_you_mean(name, names);
                Err(format!(
                    "'{name}' is not an attribute of the metaverse object type '{ty}'.{hint} Flow into one of the {ty} attributes; this version's metaverse schema cannot be extended yet"
                ))
            }
        },
        Side::Graph(ty) => {
            if let Some(def) = schema::graph_writable_property(ty, name) {
                return Ok(Some(def));
            }
            if let Some(why) = schema::graph_read_only_reason(ty, name) {
                return Err(format!(
                    "Microsoft Graph cannot write '{name}' on a {ty}: {why}. Remove this flow"
                ));
            }
            let other = if ty.eq_ignore_ascii_case("user") {
                "group"
            } else {
                "user"
            };
            if schema::graph_writable_property(other, name).is_some() {
                return Err(format!(
                    "'{name}' is a Microsoft Graph {other} property, but this rule writes {ty} objects. Move the flow to a rule whose target_object_type is \"{other}\""
                ));
            }
            let names: Vec<&str> = schema::graph_writable(ty).iter().map(|d| d.name).collect();
            let hint = did_you_mean(name, names.iter().copied());
            Err(format!(
                "'{name}' is not a {ty} property hybridsync can write through Microsoft Graph.{hint} Writable {ty} properties: {}",
                names.join(", ")
            ))
        }
    }
}

/// The byte offset in the file of character `column` (1-based) of the string value at `span`.
pub(super) fn expression_offset(text: &str, span: &Range<usize>, column: usize) -> usize {
    let raw = text.get(span.clone()).unwrap_or_default();
    let mut skip = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    let after = raw.get(skip..).unwrap_or_default();
    if skip == 3 {
        if after.starts_with("\r\n") {
            skip += 2;
        } else if after.starts_with('\n') {
            skip += 1;
        }
    }
    let content = raw.get(skip..).unwrap_or_default();
    let inner = content
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(content.len(), |(i, _)| i);
    span.start + skip + inner
}

/// The 1-based character column of `[name]`, `"name"` or `needle` in an expression.
pub(super) fn find_column(source: &str, name: &str) -> Option<usize> {
    let lower = source.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let candidates = if name.starts_with('%') {
        vec![name]
    } else {
        vec![format!("[{name}]"), format!("\"{name}\"")]
    };
    candidates
        .iter()
        .find_map(|needle| lower.find(needle.as_str()))
        .map(|byte| source.get(..byte).map_or(byte, |s| s.chars().count()) + 1)
}

/// Whether a constant fits the attribute it is written to.
pub(super) fn constant_problem(value: &Value, def: AttrDef) -> Option<String> {
    let fits = matches!(
        (value, def.ty),
        (Value::Str(_), AttrType::Str)
            | (Value::Num(_), AttrType::Num)
            | (Value::Bool(_), AttrType::Bool)
    );
    if fits {
        return None;
    }
    let example = match def.ty {
        AttrType::Str => "constant = \"text\"".to_string(),
        AttrType::Num => "constant = 1 (no quotes)".to_string(),
        AttrType::Bool => "constant = true or constant = false (no quotes)".to_string(),
        AttrType::Bin | AttrType::Ref | AttrType::Dt => {
            return Some(format!(
                "'{}' holds {}, which a constant cannot give. Use an expression or a source attribute",
                def.name,
                def.ty.describe()
            ));
        }
    };
    Some(format!(
        "'{}' holds {}, but the constant is {}. Write {example}",
        def.name,
        def.ty.describe(),
        value.type_name()
    ))
}

pub(super) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match schema::closest(name, candidates) {
        Some(near) if !near.eq_ignore_ascii_case(name) => format!(" Did you mean '{near}'?"),
        _ => String::new(),
    }
}

pub(super) fn join_or(items: &[String]) -> String {
    join_words(items, "or")
}

pub(super) fn join_and(items: &[String]) -> String {
    join_words(items, "and")
}

fn join_words(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_map_to_file_offsets_in_single_and_multi_line_strings() {
        let text = "x = 'abc'\ny = '''\nab\ncd'''\n";
        let one = 4..9;
        assert_eq!(&text[expression_offset(text, &one, 2)..][..1], "b");
        let start = text.find("'''").unwrap();
        let multi = start..text.len() - 1;
        assert_eq!(&text[expression_offset(text, &multi, 1)..][..1], "a");
        assert_eq!(&text[expression_offset(text, &multi, 4)..][..1], "c");
    }

    #[test]
    fn find_column_finds_references_case_insensitively() {
        assert_eq!(find_column("Trim([Mail])", "mail"), Some(6));
        assert_eq!(
            find_column("ImportedValue(\"proxyAddresses\")", "proxyaddresses"),
            Some(15)
        );
        assert_eq!(find_column("[a] & %Domain.X%", "%Domain.X%"), Some(7));
        assert_eq!(find_column("[a]", "b"), None);
    }

    #[test]
    fn reads_and_writes_are_checked_per_side() {
        assert!(read_problem(&Side::Ad, "sAMAccountName").is_none());
        assert!(read_problem(&Side::Ad, "dn").is_none());
        assert!(read_problem(&Side::Mv(MvObjectType::Group), "member").is_none());
        let msg = read_problem(&Side::Mv(MvObjectType::Person), "membr").unwrap_or_default();
        assert!(
            msg.contains("not an attribute of the metaverse object type 'person'"),
            "{msg}"
        );
        assert!(write_problem(&Side::Ad, "dn").is_err());
        let def = write_problem(&Side::Graph("user".into()), "accountenabled").unwrap();
        assert_eq!(def.map(|d| d.ty), Some(AttrType::Bool));
        let msg = write_problem(&Side::Graph("group".into()), "mail").unwrap_err();
        assert!(msg.contains("read-only"), "{msg}");
    }

    #[test]
    fn constants_fit_their_type() {
        let def = |ty| AttrDef {
            name: "x",
            ty,
            multi: false,
        };
        assert!(constant_problem(&Value::Bool(true), def(AttrType::Bool)).is_none());
        assert!(constant_problem(&Value::Num(1), def(AttrType::Num)).is_none());
        assert!(constant_problem(&Value::Num(1), def(AttrType::Str)).is_some());
        let msg = constant_problem(&Value::Str("x".into()), def(AttrType::Ref)).unwrap_or_default();
        assert!(msg.contains("a constant cannot give"), "{msg}");
    }

    #[test]
    fn word_lists_read_naturally() {
        let words = |w: &[&str]| w.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(join_or(&words(&["a"])), "a");
        assert_eq!(join_or(&words(&["a", "b", "c"])), "a, b or c");
        assert_eq!(join_and(&words(&["a", "b"])), "a and b");
    }
}
