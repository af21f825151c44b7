//! The metadirectory's objects: connector-space objects, metaverse objects, and the pending
//! exports between them (Entra Connect's architecture, `reference/sync-engine.md` section 1).
//!
//! Invariants:
//! - A connector-space object belongs to exactly one connector and links to at most one metaverse
//!   object; an imported object is found again by its [`Anchor`] (AD: objectGUID; Graph: object
//!   id), never by its DN, so renames and moves keep its identity.
//! - Attribute values are stored as single [`Value`]s in a list (never `Multi`, never NULL): an
//!   attribute that is absent has no entry, one with values has at least one.
//! - Every metaverse attribute remembers which rule and connector contributed it (lineage), for
//!   precedence, for `AuthoritativeNull`, and for the admin asking "where did this come from?".
//! - A pending export is computed and stored before anything is sent; it names every attribute
//!   change with the old and new values, which is what `sync pending-exports` shows.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;

use crate::domain::{AttributeName, Dn, ObjectGuid};
use crate::engine::expr::Value;
use crate::engine::rules::MvObjectType;

/// A connector's name as configured (an AD forest's connector name, or `entra`); compared
/// without regard to case. Shared, not copied: every metaverse attribute's lineage names one,
/// so a clone is a reference count.
#[derive(Debug, Clone, Eq)]
pub struct ConnectorName(std::sync::Arc<str>);

impl ConnectorName {
    /// A connector name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(std::sync::Arc::from(name.into()))
    }

    /// The name as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for ConnectorName {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl std::hash::Hash for ConnectorName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl PartialOrd for ConnectorName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConnectorName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(other.0.bytes().map(|b| b.to_ascii_lowercase()))
    }
}

impl fmt::Display for ConnectorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The immutable identity a connected directory gives an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Anchor {
    /// Raw bytes (AD's objectGUID in AD byte order).
    Bytes(Vec<u8>),
    /// Text (a Microsoft Graph object id, an LDIF file's anchor attribute).
    Text(String),
}

impl Anchor {
    /// The anchor of an AD object.
    pub fn guid(g: ObjectGuid) -> Self {
        Anchor::Bytes(g.as_bytes().to_vec())
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::Bytes(b) => match ObjectGuid::from_bytes(b) {
                Ok(g) => write!(f, "{g}"),
                Err(_) => f.write_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            },
            Anchor::Text(t) => f.write_str(t),
        }
    }
}

/// Attribute values by name. Each list holds single values and is never empty.
pub type Attributes = BTreeMap<AttributeName, Vec<Value>>;

/// An object as a connector reads it from its directory.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedObject {
    /// Its anchor.
    pub anchor: Anchor,
    /// Its distinguished name (or the connector's equivalent path).
    pub dn: Dn,
    /// Its most specific object class (`user`, `group`, `contact`, `computer`, `inetOrgPerson`).
    pub object_class: String,
    /// Its attributes (only those the connector imports).
    pub attributes: Attributes,
}

/// Values added to and removed from one attribute, as a directory's change stream reports them.
/// Adding a value the attribute has, or removing one it lacks, changes nothing (a change stream
/// may deliver the same change twice).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueDelta {
    /// The attribute.
    pub attribute: AttributeName,
    /// Values added (single values).
    pub added: Vec<Value>,
    /// Values removed (single values).
    pub removed: Vec<Value>,
}

/// One item of an import.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportItem {
    /// The object as it is now (added or changed).
    Object(ImportedObject),
    /// The object was deleted in the directory (delta imports; a full import implies deletes by
    /// absence).
    Deleted {
        /// Its anchor.
        anchor: Anchor,
    },
    /// Only some values of an existing object's multi-valued attributes changed (an AD DirSync
    /// entry with `LDAP_DIRSYNC_INCREMENTAL_VALUES`: one member more or less in a 50,000-member
    /// group). Every other attribute is as the connector space has it. The store applies the
    /// values one by one, without reading the attribute's other values; an object the connector
    /// space does not hold is read again whole (or reported), never guessed.
    ValueChanges {
        /// Its anchor.
        anchor: Anchor,
        /// Its DN now, when the connector knows it (a different DN is stored as a rename).
        dn: Option<Dn>,
        /// The values added and removed, per attribute (an attribute at most once).
        changes: Vec<ValueDelta>,
    },
    /// An object the connector read but cannot hand over (no anchor, a DN that does not parse):
    /// it becomes a per-object error in the run report, and the import goes on.
    Rejected {
        /// Its DN as the directory gave it.
        dn: String,
        /// Why, for the admin.
        reason: String,
    },
}

/// A stable engine-internal id of a connector-space object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CsId(pub i64);

/// A stable engine-internal id of a metaverse object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MvId(pub i64);

/// What the last import changed on a connector-space object, awaiting synchronization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PendingImport {
    /// Nothing to synchronize.
    #[default]
    None,
    /// New object.
    Add,
    /// Changed attributes or DN.
    Update,
    /// Gone from the directory (or out of scope).
    Delete,
}

/// A connector-space object.
#[derive(Debug, Clone, PartialEq)]
pub struct CsObject {
    /// Engine id.
    pub id: CsId,
    /// Its connector.
    pub connector: ConnectorName,
    /// The directory's id; `None` for an object provisioned by the engine and not yet exported.
    pub anchor: Option<Anchor>,
    /// Distinguished name.
    pub dn: Dn,
    /// Object class.
    pub object_class: String,
    /// Attribute values as last imported (or, for an export object, as provisioned).
    pub attributes: Attributes,
    /// The linked metaverse object.
    pub mv: Option<MvId>,
    /// Awaiting synchronization.
    pub pending_import: PendingImport,
}

/// One metaverse attribute with its lineage.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The values (single values, at least one).
    pub values: Vec<Value>,
    /// The rule that contributed them (shared: every object a rule contributes to names it).
    pub rule: std::sync::Arc<str>,
    /// The connector whose object they came from.
    pub connector: ConnectorName,
}

/// A metaverse object: one real identity.
#[derive(Debug, Clone, PartialEq)]
pub struct MvObject {
    /// Engine id.
    pub id: MvId,
    /// person, group or device.
    pub object_type: MvObjectType,
    /// Attributes with their lineage.
    pub attributes: BTreeMap<AttributeName, Contribution>,
}

/// What an export does to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Create it.
    Add,
    /// Change attributes.
    Update,
    /// Rename or move it.
    Rename,
    /// Delete it.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Add => "add",
            Operation::Update => "update",
            Operation::Rename => "rename",
            Operation::Delete => "delete",
        })
    }
}

/// One attribute's change in a pending export.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeChange {
    /// The attribute.
    pub attribute: AttributeName,
    /// [`ChangeKind::Replace`]: the values before (empty: none). [`ChangeKind::Incremental`]:
    /// the values removed.
    pub old: Vec<Value>,
    /// [`ChangeKind::Replace`]: the values after (empty: remove the attribute).
    /// [`ChangeKind::Incremental`]: the values added.
    pub new: Vec<Value>,
    /// How the change applies.
    pub kind: ChangeKind,
}

impl AttributeChange {
    /// A change that replaces every value.
    pub fn replace(attribute: AttributeName, old: Vec<Value>, new: Vec<Value>) -> Self {
        Self {
            attribute,
            old,
            new,
            kind: ChangeKind::Replace,
        }
    }

    /// A change that removes and adds single values of a multi-valued attribute, leaving the
    /// others alone (group membership: one member of 50,000 changes, one value is sent).
    pub fn incremental(attribute: AttributeName, removed: Vec<Value>, added: Vec<Value>) -> Self {
        Self {
            attribute,
            old: removed,
            new: added,
            kind: ChangeKind::Incremental,
        }
    }

    /// Whether the change does nothing.
    pub fn is_noop(&self) -> bool {
        match self.kind {
            ChangeKind::Replace => false,
            ChangeKind::Incremental => self.old.is_empty() && self.new.is_empty(),
        }
    }
}

/// How an [`AttributeChange`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeKind {
    /// The attribute gets exactly the new values.
    #[default]
    Replace,
    /// The old values are removed and the new ones added; other values stay.
    Incremental,
}

/// A change waiting to be exported to a connected directory.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingExport {
    /// The connector it goes to.
    pub connector: ConnectorName,
    /// The connector-space object it concerns.
    pub cs: CsId,
    /// The object's anchor in the target, when it has one (not for adds).
    pub anchor: Option<Anchor>,
    /// Its DN (for a rename: the new DN).
    pub dn: Dn,
    /// Its object class in the target.
    pub object_class: String,
    /// What to do.
    pub operation: Operation,
    /// The attribute changes (empty for deletes).
    pub changes: Vec<AttributeChange>,
}

/// What happened to one pending export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportOutcome {
    /// Done; the object's anchor in the target (new for adds).
    Exported {
        /// The anchor.
        anchor: Anchor,
    },
    /// Not done, with a reason an admin can act on.
    Failed {
        /// Why.
        error: String,
        /// Whether trying again later may succeed (throttling, timeouts).
        retryable: bool,
    },
}

/// The outcome of one pending export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportResult {
    /// The connector-space object.
    pub cs: CsId,
    /// What happened.
    pub outcome: ExportOutcome,
}

fn attribute_value(values: &[Value]) -> Option<Value> {
    match values {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(Value::Multi(many.to_vec())),
    }
}

impl crate::engine::expr::Object for CsObject {
    fn get(&self, name: &str) -> Option<Value> {
        self.get_attr(&AttributeName::new(name).ok()?)
    }

    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        if name.is_dn() {
            return Some(Value::Ref(self.dn.to_string()));
        }
        attribute_value(self.attributes.get(name)?)
    }

    fn attr_values(&self, name: &AttributeName) -> Option<std::borrow::Cow<'_, [Value]>> {
        if name.is_dn() {
            return Some(std::borrow::Cow::Owned(vec![Value::Ref(
                self.dn.to_string(),
            )]));
        }
        let values = self.attributes.get(name)?;
        (!values.is_empty()).then_some(std::borrow::Cow::Borrowed(values.as_slice()))
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
        Some(self.dn.to_string())
    }
}

impl crate::engine::expr::Object for MvObject {
    fn get(&self, name: &str) -> Option<Value> {
        self.get_attr(&AttributeName::new(name).ok()?)
    }

    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        attribute_value(&self.attributes.get(name)?.values)
    }

    fn attr_values(&self, name: &AttributeName) -> Option<std::borrow::Cow<'_, [Value]>> {
        let values = &self.attributes.get(name)?.values;
        (!values.is_empty()).then_some(std::borrow::Cow::Borrowed(values.as_slice()))
    }

    fn list_attributes(&self, f: &mut dyn FnMut(&AttributeName)) -> bool {
        for (name, c) in &self.attributes {
            if !c.values.is_empty() {
                f(name);
            }
        }
        true
    }

    fn dn(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expr::{Object, assert_reads_agree, attr_value};

    fn attributes() -> Attributes {
        let name = |n: &str| AttributeName::new(n).unwrap();
        [
            (name("cn"), vec![Value::Str("Ann".into())]),
            (
                name("proxyAddresses"),
                vec![
                    Value::Str("SMTP:ann@corp.example".into()),
                    Value::Str("smtp:a@corp.example".into()),
                ],
            ),
            (name("objectSid"), vec![Value::Bin(vec![1, 5, 0])]),
        ]
        .into_iter()
        .collect()
    }

    const NAMES: [&str; 7] = [
        "cn",
        "CN",
        "proxyaddresses",
        "objectSid",
        "dn",
        "distinguishedName",
        "mail",
    ];

    #[test]
    fn borrowed_and_owned_reads_agree_for_connector_space_objects() {
        let cs = CsObject {
            id: CsId(1),
            connector: ConnectorName::new("corp.example"),
            anchor: None,
            dn: Dn::parse("CN=Ann,DC=corp,DC=example").unwrap(),
            object_class: "user".into(),
            attributes: attributes(),
            mv: None,
            pending_import: PendingImport::None,
        };
        for name in NAMES {
            assert_reads_agree(&cs, name);
        }
        let dn = AttributeName::new("dn").unwrap();
        assert_eq!(
            attr_value(&cs, &dn).map(std::borrow::Cow::into_owned),
            Some(Value::Ref(cs.dn.to_string()))
        );
        let cn = AttributeName::new("cn").unwrap();
        assert!(matches!(
            attr_value(&cs, &cn),
            Some(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn borrowed_and_owned_reads_agree_for_metaverse_objects() {
        let mv = MvObject {
            id: MvId(1),
            object_type: MvObjectType::Person,
            attributes: attributes()
                .into_iter()
                .map(|(name, values)| {
                    (
                        name,
                        Contribution {
                            values,
                            rule: std::sync::Arc::from("In from AD - User Common"),
                            connector: ConnectorName::new("corp.example"),
                        },
                    )
                })
                .collect(),
        };
        for name in NAMES {
            assert_reads_agree(&mv, name);
        }
        // A metaverse object has no DN attribute.
        assert_eq!(mv.attr_values(&AttributeName::new("dn").unwrap()), None);
        let proxies = AttributeName::new("proxyAddresses").unwrap();
        assert!(matches!(
            mv.attr_values(&proxies),
            Some(std::borrow::Cow::Borrowed(v)) if v.len() == 2
        ));
    }
}
