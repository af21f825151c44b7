//! Rule files as a tree of TOML values that remember where they are: the form `load.rs` checks.
//!
//! Invariants: every value carries the byte range it came from and every table entry the offset
//! of its key, so any problem can be reported at its line; `[[rule]]` arrays of tables and inline
//! arrays become the same `Array` node, and standard and inline tables the same `Table` node, so
//! the checks do not care how the admin wrote a piece; nothing here panics.

use std::ops::Range;

/// Line numbers from byte offsets.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The 1-based line holding byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset)
    }
}

/// A TOML value with its position.
#[derive(Debug, Clone)]
pub(super) struct Spanned {
    pub node: Node,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Str(String),
    Int(i64),
    Float,
    Bool(bool),
    Datetime,
    Array(Vec<Spanned>),
    Table(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub key: String,
    pub key_start: usize,
    pub value: Spanned,
}

impl Node {
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Str(_) => "text",
            Node::Int(_) => "a whole number",
            Node::Float => "a decimal number",
            Node::Bool(_) => "true/false",
            Node::Datetime => "a date",
            Node::Array(_) => "a list",
            Node::Table(_) => "a table",
        }
    }
}

pub(super) fn table_node(table: &toml_edit::Table) -> Spanned {
    let mut entries = Vec::new();
    for (key, item) in table.iter() {
        let key_start = table
            .key(key)
            .and_then(toml_edit::Key::span)
            .map_or(0, |s| s.start);
        if let Some(value) = item_node(item, key_start) {
            entries.push(Entry {
                key: key.to_string(),
                key_start,
                value,
            });
        }
    }
    let first = entries.first().map_or(0, |e| e.key_start);
    let span = table.span().unwrap_or(first..first);
    Spanned {
        node: Node::Table(entries),
        span,
    }
}

fn item_node(item: &toml_edit::Item, fallback: usize) -> Option<Spanned> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(value_node(v)),
        toml_edit::Item::Table(t) => Some(table_node(t)),
        toml_edit::Item::ArrayOfTables(a) => {
            let items = a.iter().map(table_node).collect();
            let span = a.span().unwrap_or(fallback..fallback);
            Some(Spanned {
                node: Node::Array(items),
                span,
            })
        }
    }
}

fn value_node(value: &toml_edit::Value) -> Spanned {
    use toml_edit::Value as V;
    let span = value.span().unwrap_or(0..0);
    let node = match value {
        V::String(s) => Node::Str(s.value().clone()),
        V::Integer(i) => Node::Int(*i.value()),
        V::Float(_) => Node::Float,
        V::Boolean(b) => Node::Bool(*b.value()),
        V::Datetime(_) => Node::Datetime,
        V::Array(a) => Node::Array(a.iter().map(value_node).collect()),
        V::InlineTable(t) => {
            let mut entries = Vec::new();
            for (key, v) in t.iter() {
                let key_start = t
                    .key(key)
                    .and_then(toml_edit::Key::span)
                    .map_or(span.start, |s| s.start);
                entries.push(Entry {
                    key: key.to_string(),
                    key_start,
                    value: value_node(v),
                });
            }
            Node::Table(entries)
        }
    };
    Spanned { node, span }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one() {
        let index = LineIndex::new("a\nbb\n\nc");
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(1), 1);
        assert_eq!(index.line(2), 2);
        assert_eq!(index.line(5), 3);
        assert_eq!(index.line(6), 4);
        assert_eq!(index.line(99), 4);
    }

    #[test]
    fn every_value_remembers_where_it_was() {
        let text = "[[rule]]\nname = \"x\"\nscope = [[{ attribute = \"a\" }]]\n\n[[rule.flow]]\ntarget = \"t\"\n";
        let doc = toml_edit::Document::parse(text).unwrap();
        let root = table_node(doc.as_table());
        let lines = LineIndex::new(text);
        let Node::Table(entries) = &root.node else {
            panic!()
        };
        let Node::Array(rules) = &entries[0].value.node else {
            panic!()
        };
        assert_eq!(lines.line(rules[0].span.start), 1, "the [[rule]] header");
        let Node::Table(rule) = &rules[0].node else {
            panic!()
        };
        let keys: Vec<(&str, usize)> = rule
            .iter()
            .map(|e| (e.key.as_str(), lines.line(e.key_start)))
            .collect();
        assert_eq!(keys, [("name", 2), ("scope", 3), ("flow", 5)]);
        let Node::Array(flows) = &rule[2].value.node else {
            panic!()
        };
        let Node::Table(flow) = &flows[0].node else {
            panic!()
        };
        assert_eq!(lines.line(flow[0].value.span.start), 6);
        assert_eq!(rule[1].value.node.kind(), "a list");
    }
}
