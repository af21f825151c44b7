//! The directory's schema as the connector needs it: for every attribute its value type (from
//! `attributeSyntax` and `oMSyntax`) and whether it is single-valued, and for every class its
//! attributes (own, inherited through `subClassOf`, and from auxiliary classes); and the typing
//! of raw LDAP values by that schema.
//!
//! Invariants: a value's type comes from its attribute's syntax, never from its bytes, so an
//! objectGUID that happens to be valid UTF-8 is still binary; an attribute the schema does not
//! know (a schema read that failed, a constructed attribute) falls back to the file connector's
//! table of well-known AD attributes and then to text; a value that does not parse as its
//! syntax (a number that is not one) is kept as text, never dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::connectors::file::typing;
use crate::domain::AttributeName;
use crate::engine::connector::{SchemaAttribute, SchemaClass};
use crate::engine::expr::{DateTime, Value};

/// The value type of an attribute syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Text (Unicode, IA5, printable, numeric strings, OIDs, DN-Binary/DN-String).
    Str,
    /// Integer, enumeration, large integer.
    Num,
    /// Boolean.
    Bool,
    /// Octet string, SID, security descriptor (GUIDs are octet strings).
    Bin,
    /// Distinguished name (a reference to another object).
    Ref,
    /// Generalized or UTC time.
    Date,
}

impl Syntax {
    /// The engine's name for the type (`SchemaAttribute::kind`).
    pub fn kind(self) -> &'static str {
        match self {
            Syntax::Str => "str",
            Syntax::Num => "num",
            Syntax::Bool => "bool",
            Syntax::Bin => "bin",
            Syntax::Ref => "ref",
            Syntax::Date => "dt",
        }
    }

    /// The type of `attributeSyntax` (`2.5.5.x`) with `oMSyntax` (MS-ADTS 3.1.1.2.2.2).
    pub fn from_ad(attribute_syntax: &str, om_syntax: i64) -> Syntax {
        match attribute_syntax {
            "2.5.5.1" => Syntax::Ref,
            "2.5.5.8" => Syntax::Bool,
            "2.5.5.9" | "2.5.5.16" => Syntax::Num,
            "2.5.5.10" | "2.5.5.15" | "2.5.5.17" => Syntax::Bin,
            "2.5.5.11" => Syntax::Date,
            // 2.5.5.7 DN-Binary / OR-Name and 2.5.5.14 DN-String / Access-Point are
            // "B:len:hex:DN" / "S:len:text:DN" strings; 127 with 2.5.5.13 is a
            // presentation address. All text.
            _ if om_syntax == 4 => Syntax::Bin,
            _ => Syntax::Str,
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeInfo {
    /// lDAPDisplayName.
    pub name: String,
    /// Value type.
    pub syntax: Syntax,
    /// isSingleValued.
    pub single_valued: bool,
    /// systemFlags (0x1: not replicated, 0x4: constructed).
    pub system_flags: i64,
}

impl AttributeInfo {
    /// Whether the attribute is computed on read or not replicated between domain controllers
    /// (neither can be synchronized reliably).
    pub fn constructed_or_local(&self) -> bool {
        self.system_flags & 0x5 != 0
    }
}

/// One class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassInfo {
    /// lDAPDisplayName.
    pub name: String,
    /// subClassOf.
    pub parent: Option<String>,
    /// Auxiliary classes (auxiliaryClass and systemAuxiliaryClass).
    pub auxiliary: Vec<String>,
    /// Must and may attributes (system and not).
    pub attributes: Vec<String>,
}

/// The schema: attributes and classes by lower-case name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    attributes: HashMap<String, AttributeInfo>,
    classes: HashMap<String, ClassInfo>,
}

impl Schema {
    /// A schema from what was read.
    pub fn new(attributes: Vec<AttributeInfo>, classes: Vec<ClassInfo>) -> Self {
        Self {
            attributes: attributes
                .into_iter()
                .map(|a| (a.name.to_ascii_lowercase(), a))
                .collect(),
            classes: classes
                .into_iter()
                .map(|c| (c.name.to_ascii_lowercase(), c))
                .collect(),
        }
    }

    /// How many attributes it knows.
    pub fn attribute_count(&self) -> usize {
        self.attributes.len()
    }

    /// An attribute (its base name, without options).
    pub fn attribute(&self, name: &str) -> Option<&AttributeInfo> {
        let base = name.split(';').next().unwrap_or(name);
        self.attributes.get(&base.to_ascii_lowercase())
    }

    /// The value type of attribute `name`.
    pub fn syntax(&self, name: &str) -> Option<Syntax> {
        self.attribute(name).map(|a| a.syntax)
    }

    /// Attribute `name`'s raw value as the engine's typed value.
    pub fn value(&self, name: &str, bytes: &[u8]) -> Value {
        let Some(syntax) = self.syntax(name) else {
            return typing::typed_value(name, bytes);
        };
        if syntax == Syntax::Bin {
            return Value::Bin(bytes.to_vec());
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Value::Bin(bytes.to_vec());
        };
        match syntax {
            Syntax::Ref => Value::Ref(text.to_owned()),
            Syntax::Num => match text.trim().parse::<i64>() {
                Ok(n) => Value::Num(n),
                Err(_) => Value::Str(text.to_owned()),
            },
            Syntax::Bool if text.eq_ignore_ascii_case("TRUE") => Value::Bool(true),
            Syntax::Bool if text.eq_ignore_ascii_case("FALSE") => Value::Bool(false),
            Syntax::Date => match DateTime::parse(text) {
                Some(d) => Value::Date(d),
                None => Value::Str(text.to_owned()),
            },
            _ => Value::Str(text.to_owned()),
        }
    }

    /// Every attribute of `class`: its own, its superclasses' and its auxiliary classes'.
    pub fn class_attributes(&self, class: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo = vec![class.to_ascii_lowercase()];
        let mut seen = BTreeSet::new();
        while let Some(c) = todo.pop() {
            if !seen.insert(c.clone()) {
                continue;
            }
            let Some(info) = self.classes.get(&c) else {
                continue;
            };
            out.extend(info.attributes.iter().cloned());
            if let Some(p) = &info.parent {
                todo.push(p.to_ascii_lowercase());
            }
            todo.extend(info.auxiliary.iter().map(|a| a.to_ascii_lowercase()));
        }
        out
    }

    /// The engine's view of `classes`.
    pub fn engine_classes(&self, classes: &[String]) -> Vec<SchemaClass> {
        classes
            .iter()
            .map(|class| {
                let mut attrs: BTreeMap<String, SchemaAttribute> = BTreeMap::new();
                for name in self.class_attributes(class) {
                    let Some(info) = self.attribute(&name) else {
                        continue;
                    };
                    let Ok(attr) = AttributeName::new(&info.name) else {
                        continue;
                    };
                    attrs.insert(
                        info.name.to_ascii_lowercase(),
                        SchemaAttribute {
                            name: attr,
                            multi_valued: !info.single_valued,
                            kind: info.syntax.kind(),
                        },
                    );
                }
                SchemaClass {
                    name: class.clone(),
                    attributes: attrs.into_values().collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn schema() -> Schema {
        let a = |name: &str, syntax, single_valued| AttributeInfo {
            system_flags: 0,
            name: name.into(),
            syntax,
            single_valued,
        };
        Schema::new(
            vec![
                a("objectGUID", Syntax::Bin, true),
                a("member", Syntax::Ref, false),
                a("userAccountControl", Syntax::Num, true),
                a("isDeleted", Syntax::Bool, true),
                a("whenChanged", Syntax::Date, true),
                a("cn", Syntax::Str, true),
            ],
            vec![
                ClassInfo {
                    name: "top".into(),
                    attributes: vec!["objectGUID".into(), "whenChanged".into()],
                    ..Default::default()
                },
                ClassInfo {
                    name: "group".into(),
                    parent: Some("top".into()),
                    attributes: vec!["member".into(), "cn".into()],
                    ..Default::default()
                },
            ],
        )
    }

    #[test]
    fn values_are_typed_by_syntax_not_by_bytes() {
        let s = schema();
        assert_eq!(
            s.value("objectGUID", b"ABCDEFGHIJKLMNOP"),
            Value::Bin(b"ABCDEFGHIJKLMNOP".to_vec())
        );
        assert_eq!(
            s.value("member;range=0-*", b"CN=a,DC=x"),
            Value::Ref("CN=a,DC=x".into())
        );
        assert_eq!(s.value("userAccountControl", b"512"), Value::Num(512));
        assert_eq!(s.value("userAccountControl", b"x"), Value::Str("x".into()));
        assert_eq!(s.value("isDeleted", b"TRUE"), Value::Bool(true));
        assert!(matches!(
            s.value("whenChanged", b"20240102030405.0Z"),
            Value::Date(_)
        ));
        assert_eq!(s.value("cn", b"\xff"), Value::Bin(vec![0xff]));
        // Unknown to the schema: the well-known table, then text.
        assert_eq!(s.value("objectSid", b"abc"), Value::Bin(b"abc".to_vec()));
        assert_eq!(s.value("custom", b"abc"), Value::Str("abc".into()));
    }

    #[test]
    fn syntaxes() {
        assert_eq!(Syntax::from_ad("2.5.5.10", 4), Syntax::Bin);
        assert_eq!(Syntax::from_ad("2.5.5.17", 4), Syntax::Bin);
        assert_eq!(Syntax::from_ad("2.5.5.16", 65), Syntax::Num);
        assert_eq!(Syntax::from_ad("2.5.5.1", 127), Syntax::Ref);
        assert_eq!(Syntax::from_ad("2.5.5.12", 64), Syntax::Str);
        assert_eq!(Syntax::from_ad("2.5.5.11", 24), Syntax::Date);
        assert_eq!(Syntax::from_ad("2.5.5.7", 127), Syntax::Str);
    }

    #[test]
    fn classes_inherit() {
        let classes = schema().engine_classes(&["group".into()]);
        let names: Vec<_> = classes[0]
            .attributes
            .iter()
            .map(|a| a.name.as_str().to_owned())
            .collect();
        assert_eq!(names, ["cn", "member", "objectGUID", "whenChanged"]);
        assert!(classes[0].attributes[1].multi_valued);
        assert_eq!(classes[0].attributes[1].kind, "ref");
    }
}
