//! Values that expressions compute with, and the objects they read attributes from.
//!
//! Invariants: a [`Value::Multi`] built with [`Value::multi`] is never nested, never holds `Null`,
//! `AuthoritativeNull` or `IgnoreThisFlow`, and has at least two values (one value is that value,
//! none is `Null`), the same shape [`Object::get`] gives attributes; [`Object::attr_values`] hands
//! out the same values as [`Object::get_attr`], as a list of single values and borrowed where the
//! object holds them, so that an expression that only reads an attribute does not copy it;
//! attribute names are looked up case-insensitively; nothing here panics.

use std::borrow::Cow;
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
    pub fn values(&self) -> &[Value] {
        match self {
            Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => &[],
            Value::Multi(v) => v,
            v => std::slice::from_ref(v),
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

    /// The values of [`Object::get_attr`] as a list, borrowed where the object holds them: one
    /// value is a list of one, a [`Value::Multi`] the list of its values; `None` when absent.
    /// The default copies [`Object::get_attr`]'s value; objects that keep their values as
    /// lists hand them out without copying. Must agree with [`Object::get_attr`] (see
    /// [`attr_value`]).
    fn attr_values(&self, name: &AttributeName) -> Option<Cow<'_, [Value]>> {
        Some(match self.get_attr(name)? {
            Value::Multi(values) => Cow::Owned(values),
            one => Cow::Owned(vec![one]),
        })
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

/// [`Object::get_attr`] through [`Object::attr_values`]: the value of `name`, borrowed when the
/// object holds it as one value (the usual case) and only read.
pub fn attr_value<'o>(obj: &'o dyn Object, name: &AttributeName) -> Option<Cow<'o, Value>> {
    if name.is_dn() {
        // A DN is made on request, not held as a value: no list of it is needed either.
        return obj.get_attr(name).map(Cow::Owned);
    }
    match obj.attr_values(name)? {
        Cow::Borrowed(values) => match values {
            [] => None,
            [one] => Some(Cow::Borrowed(one)),
            many => Some(Cow::Owned(Value::Multi(many.to_vec()))),
        },
        Cow::Owned(mut values) => match values.len() {
            0 => None,
            1 => values.pop().map(Cow::Owned),
            _ => Some(Cow::Owned(Value::Multi(values))),
        },
    }
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
        if name.is_dn()
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

    fn attr_values(&self, name: &AttributeName) -> Option<Cow<'_, [Value]>> {
        if name.is_dn()
            && let Some(dn) = &self.dn
        {
            return Some(Cow::Owned(vec![Value::Ref(dn.clone())]));
        }
        let values = self.attributes.get(name)?;
        (!values.is_empty()).then_some(Cow::Borrowed(values.as_slice()))
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

/// Asserts that [`Object::attr_values`] and [`attr_value`] give what [`Object::get_attr`] gives
/// for attribute `name` of `obj` (the borrowed and the owned reads agree).
#[cfg(test)]
pub(crate) fn assert_reads_agree(obj: &dyn Object, name: &str) {
    let name = AttributeName::new(name).unwrap();
    let owned = obj.get_attr(&name);
    let listed = obj.attr_values(&name).map(Cow::into_owned);
    let expected_list = owned.clone().map(|v| match v {
        Value::Multi(values) => values,
        one => vec![one],
    });
    assert_eq!(listed, expected_list, "attr_values of {name}");
    assert_eq!(
        attr_value(obj, &name).map(Cow::into_owned),
        owned,
        "attr_value of {name}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object that implements only what the trait requires: the defaults apply.
    struct Minimal(MemoryObject);

    impl Object for Minimal {
        fn get(&self, name: &str) -> Option<Value> {
            self.0.get(name)
        }

        fn dn(&self) -> Option<String> {
            self.0.dn()
        }
    }

    fn sample() -> MemoryObject {
        let mut o = MemoryObject::new(Some("CN=Ann,DC=corp,DC=example,DC=com"))
            .with("cn", Value::Str("Ann".into()))
            .with("objectGUID", Value::Bin(vec![1, 2, 3]))
            .with("proxyAddresses", Value::Str("SMTP:ann@corp.example".into()))
            .with("proxyAddresses", Value::Str("smtp:a@corp.example".into()))
            .with("proxyAddresses", Value::Str("SIP:ann@corp.example".into()));
        // An attribute with an empty value list reads as absent.
        o.attributes
            .insert(AttributeName::new("description").unwrap(), Vec::new());
        o
    }

    const NAMES: [&str; 8] = [
        "cn",
        "CN",
        "objectGUID",
        "proxyAddresses",
        "description",
        "dn",
        "distinguishedName",
        "mail",
    ];

    #[test]
    fn borrowed_and_owned_reads_agree_for_memory_objects_and_the_defaults() {
        let o = sample();
        for name in NAMES {
            assert_reads_agree(&o, name);
            assert_reads_agree(&Minimal(o.clone()), name);
        }
        // Without a DN, `dn` is an ordinary (here absent) attribute.
        let no_dn = MemoryObject {
            dn: None,
            ..sample()
        };
        for name in NAMES {
            assert_reads_agree(&no_dn, name);
        }
        let dn = AttributeName::new("dn").unwrap();
        assert_eq!(no_dn.attr_values(&dn), None);
        assert_eq!(
            o.attr_values(&dn).unwrap().as_ref(),
            [Value::Ref("CN=Ann,DC=corp,DC=example,DC=com".into())]
        );
    }

    #[test]
    fn a_memory_object_lends_its_values_without_copying() {
        let o = sample();
        let cn = AttributeName::new("cn").unwrap();
        assert!(matches!(attr_value(&o, &cn), Some(Cow::Borrowed(Value::Str(s))) if s == "Ann"));
        let proxies = AttributeName::new("proxyaddresses").unwrap();
        match o.attr_values(&proxies) {
            Some(Cow::Borrowed(values)) => assert_eq!(values.len(), 3),
            other => panic!("expected borrowed values, got {other:?}"),
        }
        // The multi-valued attribute as one value is a copy, the same as `get_attr`'s.
        assert!(matches!(
            attr_value(&o, &proxies),
            Some(Cow::Owned(Value::Multi(v))) if v.len() == 3
        ));
    }

    #[test]
    fn values_lists_the_single_values_of_any_value() {
        assert!(Value::Null.values().is_empty());
        assert!(Value::AuthoritativeNull.values().is_empty());
        assert!(Value::IgnoreThisFlow.values().is_empty());
        assert_eq!(Value::Num(3).values(), [Value::Num(3)]);
        let m = Value::multi([Value::Num(1), Value::Null, Value::Num(2)]);
        assert_eq!(m.values(), [Value::Num(1), Value::Num(2)]);
    }
}
