//! Values that expressions compute with, and the objects they read attributes from.
//!
//! Invariants: a [`Value::Multi`] built with [`Value::multi`] is never nested, never holds `Null`,
//! `AuthoritativeNull` or `IgnoreThisFlow`, and has at least two values (one value is that value,
//! none is `Null`), the same shape [`Object::get`] gives attributes; attribute names are looked up
//! case-insensitively; nothing here panics.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::AttributeName;
use crate::engine::expr::datetime::DateTime;

/// A value in the expression language (the types of Entra Connect's function reference).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: an absent attribute, or a flow that contributes nothing.
    Null,
    /// `str`.
    Str(String),
    /// `num`: 64-bit integer (AD's Integer and Large Integer syntaxes).
    Num(i64),
    /// `bool`.
    Bool(bool),
    /// `bin`: raw bytes (objectGUID, objectSid, mS-DS-ConsistencyGuid, certificates).
    Bin(Vec<u8>),
    /// `ref`: a reference to another object, by DN.
    Ref(String),
    /// `dt`: a UTC date and time.
    Date(DateTime),
    /// A multi-valued attribute or result (`mvstr`, `mvbin`, `mvref`).
    Multi(Vec<Value>),
    /// `AuthoritativeNull`: no value, and lower-precedence rules may not contribute either.
    AuthoritativeNull,
    /// `IgnoreThisFlow`: as if the flow did not exist; the target keeps its value.
    IgnoreThisFlow,
}

impl Value {
    /// A multi-value from parts: nested multi-values are flattened, nulls dropped; no values give
    /// `Null` and one value gives that value.
    pub fn multi(parts: impl IntoIterator<Item = Value>) -> Value {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Value::Multi(inner) => out.extend(inner),
                Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => {}
                v => out.push(v),
            }
        }
        match out.len() {
            0 => Value::Null,
            1 => out.pop().unwrap_or(Value::Null),
            _ => Value::Multi(out),
        }
    }

    /// Whether this is `Null` (or `AuthoritativeNull`).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::AuthoritativeNull)
    }

    /// The type name used in messages: `text`, `number`, `boolean`, ...
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "nothing (NULL)",
            Value::Str(_) => "text",
            Value::Num(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Bin(_) => "binary data",
            Value::Ref(_) => "a reference",
            Value::Date(_) => "a date",
            Value::Multi(_) => "a multi-valued attribute",
            Value::AuthoritativeNull => "AuthoritativeNull",
            Value::IgnoreThisFlow => "IgnoreThisFlow",
        }
    }

    /// The values as a list: `[]` for null, the elements of a multi-value, else `[self]`.
    pub fn values(&self) -> Vec<&Value> {
        match self {
            Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => Vec::new(),
            Value::Multi(v) => v.iter().collect(),
            v => vec![v],
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Str(s) | Value::Ref(s) => f.write_str(s),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Bin(b) => {
                use base64::Engine as _;
                write!(f, "{}", base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Date(d) => write!(f, "{d}"),
            Value::Multi(v) => {
                let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Value::AuthoritativeNull => f.write_str("AuthoritativeNull"),
            Value::IgnoreThisFlow => f.write_str("IgnoreThisFlow"),
        }
    }
}

/// Something expressions read attributes from: a connector-space or metaverse object.
pub trait Object {
    /// The value of attribute `name` (case-insensitive): single value, [`Value::Multi`] for
    /// several, `None` when absent.
    fn get(&self, name: &str) -> Option<Value>;

    /// [`Object::get`] for a name already validated (rules resolve their names once, at load).
    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        self.get(name.as_str())
    }

    /// Calls `f` with the name of every attribute [`Object::get_attr`] may find values for
    /// (naming more costs only a lookup; `dn` need not be named), and returns true; or returns
    /// false without calling `f` when the object cannot list its attributes cheaply (the
    /// default). The sync stage uses the list to skip flows whose attributes are all absent.
    fn list_attributes(&self, f: &mut dyn FnMut(&AttributeName)) -> bool {
        let _ = f;
        false
    }

    /// The value confirmed by the last import (`ImportedValue("name")`), without pending
    /// exported changes. Defaults to [`Object::get`].
    fn imported(&self, name: &str) -> Option<Value> {
        self.get(name)
    }

    /// How many values [`Object::imported`] has for `name` (`ValueCount`). An object backed by
    /// the store answers from an index, without loading a large membership.
    fn value_count(&self, name: &str) -> usize {
        self.imported(name).map_or(0, |v| v.values().len())
    }

    /// The object's distinguished name (`[dn]`), if it has one.
    fn dn(&self) -> Option<String>;
}

/// An in-memory object: fixtures, `rules test`, and the LDIF connector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryObject {
    /// Distinguished name.
    pub dn: Option<String>,
    /// Attribute values; several values make a multi-valued attribute.
    pub attributes: BTreeMap<AttributeName, Vec<Value>>,
}

impl MemoryObject {
    /// An object with this DN and no attributes.
    pub fn new(dn: Option<&str>) -> Self {
        Self {
            dn: dn.map(str::to_string),
            attributes: BTreeMap::new(),
        }
    }

    /// Add one value to attribute `name` (builder style). Invalid names are ignored.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.add(name, value);
        self
    }

    /// Add one value to attribute `name`. Returns false (and adds nothing) for an invalid name.
    pub fn add(&mut self, name: &str, value: Value) -> bool {
        match AttributeName::new(name) {
            Ok(attr) => {
                self.attributes.entry(attr).or_default().push(value);
                true
            }
            Err(_) => false,
        }
    }
}

impl Object for MemoryObject {
    fn get(&self, name: &str) -> Option<Value> {
        self.get_attr(&AttributeName::new(name).ok()?)
    }

    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        if (name.eq_ignore_case("dn") || name.eq_ignore_case("distinguishedName"))
            && let Some(dn) = &self.dn
        {
            return Some(Value::Ref(dn.clone()));
        }
        let values = self.attributes.get(name)?;
        match values.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(Value::Multi(many.to_vec())),
        }
    }

    fn list_attributes(&self, f: &mut dyn FnMut(&AttributeName)) -> bool {
        for (name, values) in &self.attributes {
            if !values.is_empty() {
                f(name);
            }
        }
        true
    }

    fn dn(&self) -> Option<String> {
        self.dn.clone()
    }
}

/// Connector parameters such as `%Domain.FQDN%`, looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a parameter (builder style).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_ascii_lowercase(), value.to_string());
        self
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        // Short names (all real ones) are folded on the stack.
        let mut buf = [0u8; 64];
        let found = match buf.get_mut(..name.len()) {
            Some(folded) => {
                folded.copy_from_slice(name.as_bytes());
                folded.make_ascii_lowercase();
                self.0.get(std::str::from_utf8(folded).ok()?)
            }
            None => self.0.get(&name.to_ascii_lowercase()),
        };
        found.map(String::as_str)
    }
}
