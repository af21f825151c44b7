//! Between Graph's JSON and the engine's typed attributes: users and groups as the engine sees
//! them, and the request bodies that write attribute changes.
//!
//! Invariants:
//! - A Graph object's anchor is its object id (`Anchor::Text`) and its DN is `CN=<id>`; a
//!   reference (manager, members) is the DN of the object it names, so a reference the engine
//!   computed from an imported object resolves to an id without a lookup.
//! - Values are typed by the Graph property table the rules are checked against
//!   (`rules::schema::graph_writable`): the value a confirming import reads back equals the
//!   value the rules computed, so nothing is exported twice.
//! - `onPremisesExtensionAttributes.extensionAttributeN` is `extensionAttributeN` on the
//!   engine side; directory extensions keep their `extension_<appId>_<name>` names.
//! - Only writable properties reach a request body; the rest is returned to the caller, which
//!   reports it once.

use serde_json::{Map, Value, json};

use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{DateTime, Value as V};
use crate::engine::model::{Anchor, AttributeChange, Attributes, ChangeKind, ImportedObject};
use crate::engine::rules::schema::{AttrType, graph_writable_property};

/// The Graph object types the connector handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `user`.
    User,
    /// `group`.
    Group,
}

impl Kind {
    /// From an engine object class.
    pub fn of_class(class: &str) -> Option<Self> {
        if class.eq_ignore_ascii_case("user") {
            Some(Kind::User)
        } else if class.eq_ignore_ascii_case("group") {
            Some(Kind::Group)
        } else {
            None
        }
    }

    /// The engine object class.
    pub fn class(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }

    /// The collection (`users`, `groups`).
    pub fn collection(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Group => "groups",
        }
    }

    /// The properties imported, for `$select` (the reference is selected separately).
    pub fn select(self) -> &'static str {
        match self {
            Kind::User => {
                "id,userPrincipalName,displayName,accountEnabled,givenName,surname,mail,mailNickname,\
                 onPremisesImmutableId,usageLocation,jobTitle,department,companyName,employeeId,\
                 employeeType,officeLocation,businessPhones,mobilePhone,faxNumber,streetAddress,city,\
                 state,postalCode,country,preferredLanguage,otherMails,onPremisesExtensionAttributes,\
                 employeeHireDate,proxyAddresses,onPremisesSyncEnabled,createdDateTime"
            }
            Kind::Group => {
                "id,displayName,description,mailNickname,mailEnabled,securityEnabled,groupTypes,\
                 proxyAddresses,mail,createdDateTime"
            }
        }
    }

    /// The reference attribute delta queries carry (`manager`, `members`).
    pub fn reference(self) -> &'static str {
        match self {
            Kind::User => "manager",
            Kind::Group => "members",
        }
    }
}

/// The DN of the Graph object `id`.
pub fn dn_of(id: &str) -> Dn {
    Dn::parse(&format!("CN={}", crate::domain::escape_value(id))).unwrap_or_else(|_| Dn::root())
}

/// The object id a reference value names, when it names a Graph object (`CN=<guid>`).
pub fn ref_id(v: &V) -> Option<String> {
    let text = match v {
        V::Ref(s) | V::Str(s) => s,
        _ => return None,
    };
    let dn = Dn::parse(text).ok()?;
    let [rdn] = dn.rdns() else { return None };
    let id = rdn.value_of("CN")?;
    uuid::Uuid::parse_str(id).ok().map(|u| u.to_string())
}

/// An object id from a reference value, or the text of a reference that does not name one yet.
pub fn ref_id_or_text(v: &V) -> Result<String, String> {
    ref_id(v).ok_or_else(|| match v {
        V::Ref(s) | V::Str(s) => s.clone(),
        other => other.to_string(),
    })
}

fn typed(kind: Kind, name: &str, v: &Value) -> Option<V> {
    let ty = graph_writable_property(kind.class(), name).map(|d| d.ty);
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(V::Bool(*b)),
        Value::Number(n) => n.as_i64().map(V::Num),
        Value::String(s) => Some(match ty {
            Some(AttrType::Dt) => DateTime::parse(s).map_or_else(|| V::Str(s.clone()), V::Date),
            Some(AttrType::Ref) => V::Ref(s.clone()),
            _ => V::Str(s.clone()),
        }),
        _ => None,
    }
}

fn put(attrs: &mut Attributes, name: &str, values: Vec<V>) {
    if values.is_empty() {
        return;
    }
    if let Ok(n) = AttributeName::new(name) {
        attrs.insert(n, values);
    }
}

/// An object from Graph's JSON (a GET or a delta page); `refs` are the ids of its reference
/// attribute (manager or members), when read. `None` without an id.
pub fn object_from_json(kind: Kind, v: &Value, refs: Option<&[String]>) -> Option<ImportedObject> {
    let obj = v.as_object()?;
    let id = obj.get("id")?.as_str()?.to_string();
    let mut attrs = Attributes::new();
    for (k, val) in obj {
        if k.starts_with('@') || k.contains('@') || k == "id" {
            continue;
        }
        if k == "onPremisesExtensionAttributes" {
            if let Some(m) = val.as_object() {
                for (ek, ev) in m {
                    if let Some(x) = typed(kind, ek, ev) {
                        put(&mut attrs, ek, vec![x]);
                    }
                }
            }
            continue;
        }
        match val {
            Value::Array(items) => {
                let values = items.iter().filter_map(|i| typed(kind, k, i)).collect();
                put(&mut attrs, k, values);
            }
            Value::Object(_) => {}
            other => {
                if let Some(x) = typed(kind, k, other) {
                    put(&mut attrs, k, vec![x]);
                }
            }
        }
    }
    if let Some(ids) = refs {
        let values = ids.iter().map(|i| V::Ref(dn_of(i).to_string())).collect();
        put(&mut attrs, kind.reference(), values);
    }
    Some(ImportedObject {
        anchor: Anchor::Text(id.clone()),
        dn: dn_of(&id),
        object_class: kind.class().to_string(),
        attributes: attrs,
    })
}

/// One engine value as JSON.
pub fn json_value(v: &V) -> Value {
    match v {
        V::Str(s) | V::Ref(s) => Value::String(s.clone()),
        V::Num(n) => json!(n),
        V::Bool(b) => Value::Bool(*b),
        V::Bin(b) => Value::String(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b,
        )),
        V::Date(d) => {
            let p = d.parts();
            Value::String(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                p.year, p.month, p.day, p.hour, p.minute, p.second
            ))
        }
        V::Multi(items) => Value::Array(items.iter().map(json_value).collect()),
        V::Null | V::AuthoritativeNull | V::IgnoreThisFlow => Value::Null,
    }
}

/// What writing a set of attribute changes takes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Writes {
    /// The JSON body for POST (create) or PATCH.
    pub body: Map<String, Value>,
    /// The manager: `Some(Some(v))` set it, `Some(None)` remove it.
    pub manager: Option<Option<V>>,
    /// Members to add.
    pub add_members: Vec<V>,
    /// Members to remove.
    pub remove_members: Vec<V>,
    /// Attributes Graph cannot write, left out.
    pub not_writable: Vec<AttributeName>,
}

fn multi_valued(kind: Kind, name: &str) -> bool {
    graph_writable_property(kind.class(), name).is_some_and(|d| d.multi)
}

/// The requests' content for `changes` on an object of `kind`.
pub fn writes(kind: Kind, changes: &[AttributeChange]) -> Writes {
    let mut w = Writes::default();
    for ch in changes {
        let name = ch.attribute.as_str();
        if kind == Kind::User && name.eq_ignore_ascii_case("manager") {
            w.manager = Some(ch.new.first().cloned());
            continue;
        }
        if kind == Kind::Group && name.eq_ignore_ascii_case("members") {
            match ch.kind {
                ChangeKind::Incremental => {
                    w.add_members.extend(ch.new.iter().cloned());
                    w.remove_members.extend(ch.old.iter().cloned());
                }
                ChangeKind::Replace => {
                    let key = |v: &V| ref_id_or_text(v).unwrap_or_else(|t| t.to_ascii_lowercase());
                    let old: std::collections::HashSet<String> = ch.old.iter().map(key).collect();
                    let new: std::collections::HashSet<String> = ch.new.iter().map(key).collect();
                    w.add_members
                        .extend(ch.new.iter().filter(|v| !old.contains(&key(v))).cloned());
                    w.remove_members
                        .extend(ch.old.iter().filter(|v| !new.contains(&key(v))).cloned());
                }
            }
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if kind == Kind::User
            && let Some(n) = lower.strip_prefix("extensionattribute")
            && n.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n))
        {
            let ext = w
                .body
                .entry("onPremisesExtensionAttributes")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = ext {
                m.insert(
                    format!("extensionAttribute{n}"),
                    ch.new.first().map_or(Value::Null, json_value),
                );
            }
            continue;
        }
        let is_extension = lower.starts_with("extension_");
        let Some(def) = graph_writable_property(kind.class(), name)
            .map(|d| d.name)
            .or(is_extension.then_some(""))
        else {
            w.not_writable.push(ch.attribute.clone());
            continue;
        };
        let key = if def.is_empty() { name } else { def };
        let value = if multi_valued(kind, key) || (is_extension && ch.new.len() > 1) {
            Value::Array(ch.new.iter().map(json_value).collect())
        } else {
            ch.new.first().map_or(Value::Null, json_value)
        };
        w.body.insert(key.to_string(), value);
    }
    w
}

/// A password for a user created through Graph, which requires one: random, 32 characters
/// from every class, never stored or logged (Graph cannot receive the AD password hash; the
/// user sets a password through self-service reset or an administrator).
pub fn random_password() -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-.:=?@_~",
    ];
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: a v4 UUID still comes from the OS generator's fallback path.
        return format!("Aa1!{}", uuid::Uuid::new_v4().simple());
    }
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let set = SETS[i % SETS.len()];
            set[*b as usize % set.len()] as char
        })
        .collect()
}

/// `'` doubled, then percent-encoded for a `$filter` string literal in a URL.
pub fn filter_literal(s: &str) -> String {
    let quoted = s.replace('\'', "''");
    let mut out = String::with_capacity(quoted.len());
    for b in quoted.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an(s: &str) -> AttributeName {
        AttributeName::new(s).unwrap()
    }

    #[test]
    fn users_are_typed_and_flattened() {
        let v = json!({
            "id": "6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f00",
            "userPrincipalName": "ann@contoso.example",
            "accountEnabled": true,
            "businessPhones": ["+1 555", "+1 556"],
            "onPremisesExtensionAttributes": {"extensionAttribute1": "x", "extensionAttribute2": null},
            "employeeHireDate": "2020-01-02T00:00:00Z",
            "mobilePhone": null,
            "manager@delta": [{"id": "zzz"}],
        });
        let o = object_from_json(
            Kind::User,
            &v,
            Some(&["6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f01".into()]),
        )
        .unwrap();
        assert_eq!(o.dn.to_string(), "CN=6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f00");
        assert_eq!(o.attributes[&an("accountEnabled")], vec![V::Bool(true)]);
        assert_eq!(o.attributes[&an("businessPhones")].len(), 2);
        assert_eq!(
            o.attributes[&an("extensionAttribute1")],
            vec![V::Str("x".into())]
        );
        assert!(!o.attributes.contains_key(&an("extensionAttribute2")));
        assert!(!o.attributes.contains_key(&an("mobilePhone")));
        assert!(matches!(
            o.attributes[&an("employeeHireDate")][0],
            V::Date(_)
        ));
        assert_eq!(
            ref_id(&o.attributes[&an("manager")][0]).as_deref(),
            Some("6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f01")
        );
    }

    #[test]
    fn changes_become_bodies_and_follow_ups() {
        let m1 = V::Ref("CN=6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f01".into());
        let m2 = V::Ref("CN=6c2a0a34-4a0e-4b53-9a7e-2f3f8a4f1f02".into());
        let w = writes(
            Kind::User,
            &[
                AttributeChange::replace(an("displayName"), vec![], vec![V::Str("Ann".into())]),
                AttributeChange::replace(an("businessPhones"), vec![], vec![V::Str("1".into())]),
                AttributeChange::replace(
                    an("extensionAttribute3"),
                    vec![V::Str("a".into())],
                    vec![],
                ),
                AttributeChange::replace(an("manager"), vec![], vec![m1.clone()]),
                AttributeChange::replace(
                    an("proxyAddresses"),
                    vec![],
                    vec![V::Str("SMTP:a@b".into())],
                ),
                AttributeChange::replace(an("mobilePhone"), vec![V::Str("1".into())], vec![]),
            ],
        );
        assert_eq!(
            Value::Object(w.body.clone()),
            json!({"displayName": "Ann", "businessPhones": ["1"], "onPremisesExtensionAttributes": {"extensionAttribute3": null}, "mobilePhone": null})
        );
        assert_eq!(w.manager, Some(Some(m1.clone())));
        assert_eq!(w.not_writable, vec![an("proxyAddresses")]);
        let g = writes(
            Kind::Group,
            &[AttributeChange::replace(
                an("members"),
                vec![m1.clone()],
                vec![m2.clone()],
            )],
        );
        assert_eq!((g.add_members, g.remove_members), (vec![m2], vec![m1]));
    }

    #[test]
    fn references_resolve_only_to_object_ids() {
        assert_eq!(ref_id(&V::Ref("CN=42".into())), None);
        assert_eq!(ref_id_or_text(&V::Ref("CN=42".into())), Err("CN=42".into()));
        assert_eq!(filter_literal("O'Neil+x/y=="), "O%27%27Neil%2Bx%2Fy%3D%3D");
        let p = random_password();
        assert_eq!(p.chars().count(), 32);
        assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_uppercase()));
    }
}
