//! The sync rule model: what one rule file entry means once it has been checked.
//!
//! Invariants: a [`Rule`] only exists after `load.rs` has accepted it, so every flow has exactly
//! one kind, every expression parsed, every scope condition carries the kind of value its operator
//! needs (none, text, a list, a bit mask or a group DN), and every attribute name was found in the
//! schema of the side it reads or writes (`schema.rs`). Names of rules compare
//! case-insensitively. Nothing here evaluates anything: `scope.rs` and `apply.rs` do.

use std::fmt;
use std::sync::Arc;

use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{Expr, Value};

/// Which way a rule moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Connector space to metaverse (import attribute flow, projection, join).
    Inbound,
    /// Metaverse to connector space (provisioning, export attribute flow).
    Outbound,
}

impl Direction {
    /// The spelling used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule links a source object to a target object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Links to an existing object only (through the rule's join groups, or because another rule
    /// already linked the pair); attribute flows run on linked objects.
    Join,
    /// Like `Join`, but once joined the target object survives until the source is deleted.
    StickyJoin,
    /// Joins, and creates (projects / provisions) the target object when nothing joins.
    Provision,
}

impl LinkType {
    /// The spelling used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Join => "join",
            LinkType::StickyJoin => "sticky-join",
            LinkType::Provision => "provision",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The connector(s) a rule applies to, as written in `connector = "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConnectorRef {
    /// `"ad"`: every Active Directory forest connector.
    AllAd,
    /// `"entra"`: the Entra ID tenant (the Microsoft Graph target).
    Entra,
    /// One Active Directory forest connector, by its name in the configuration.
    Named(String),
}

impl ConnectorRef {
    /// Reads the `connector` value: `ad`, `entra` (any case) or a connector name.
    pub fn parse(text: &str) -> ConnectorRef {
        if text.eq_ignore_ascii_case("ad") {
            ConnectorRef::AllAd
        } else if text.eq_ignore_ascii_case("entra") {
            ConnectorRef::Entra
        } else {
            ConnectorRef::Named(text.to_string())
        }
    }

    /// The kind of directory the rule's connector side speaks.
    pub fn kind(&self) -> ConnectorKind {
        match self {
            ConnectorRef::Entra => ConnectorKind::Entra,
            ConnectorRef::AllAd | ConnectorRef::Named(_) => ConnectorKind::Ad,
        }
    }

    /// Whether a rule with this connector applies to `connector`.
    pub fn matches(&self, connector: &Connector<'_>) -> bool {
        match self {
            ConnectorRef::AllAd => connector.kind == ConnectorKind::Ad,
            ConnectorRef::Entra => connector.kind == ConnectorKind::Entra,
            ConnectorRef::Named(name) => {
                connector.kind == ConnectorKind::Ad && name.eq_ignore_ascii_case(connector.name)
            }
        }
    }
}

impl fmt::Display for ConnectorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorRef::AllAd => f.write_str("ad"),
            ConnectorRef::Entra => f.write_str("entra"),
            ConnectorRef::Named(name) => f.write_str(name),
        }
    }
}

/// The kind of a connected directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorKind {
    /// An Active Directory forest (LDAP).
    Ad,
    /// The Entra ID tenant (Microsoft Graph).
    Entra,
}

/// One concrete connector an object comes from (inbound) or goes to (outbound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connector<'a> {
    /// What it speaks.
    pub kind: ConnectorKind,
    /// Its name in the configuration (for an AD forest, usually the forest's DNS name).
    pub name: &'a str,
}

/// The metaverse object types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MvObjectType {
    /// Users, inetOrgPersons and contacts.
    Person,
    /// Groups.
    Group,
    /// Computers and registered devices.
    Device,
}

impl MvObjectType {
    /// Every type, in schema order.
    pub const ALL: [MvObjectType; 3] = [
        MvObjectType::Person,
        MvObjectType::Group,
        MvObjectType::Device,
    ];

    /// The spelling used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            MvObjectType::Person => "person",
            MvObjectType::Group => "group",
            MvObjectType::Device => "device",
        }
    }

    /// Reads a type name, case-insensitively.
    pub fn parse(text: &str) -> Option<MvObjectType> {
        MvObjectType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for MvObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a flow's value combines with other rules' values for the same attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MergeType {
    /// The highest-precedence rule with a value wins (the default).
    #[default]
    Update,
    /// Multi-valued union of every contributing rule's values (exact comparison).
    Merge,
    /// Multi-valued union, values compared case-insensitively.
    MergeCaseInsensitive,
    /// Legacy spelling of `Update`; behaves the same.
    Replace,
}

impl MergeType {
    /// The spelling used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeType::Update => "update",
            MergeType::Merge => "merge",
            MergeType::MergeCaseInsensitive => "merge-case-insensitive",
            MergeType::Replace => "replace",
        }
    }

    /// Whether values from several rules are united instead of the winner taking all.
    pub fn is_union(self) -> bool {
        matches!(self, MergeType::Merge | MergeType::MergeCaseInsensitive)
    }
}

/// What a flow computes its value from.
#[derive(Clone)]
pub enum FlowKind {
    /// `source = "attr"`: copy the source attribute (NULL when absent).
    Direct(AttributeName),
    /// `constant = ...`: a fixed text, number or boolean.
    Constant(Value),
    /// `expression = '...'`: an expression in the declarative provisioning language.
    Expression(Arc<Expr>),
}

impl FlowKind {
    /// The key the kind is written with in rule files.
    pub fn key(&self) -> &'static str {
        match self {
            FlowKind::Direct(_) => "source",
            FlowKind::Constant(_) => "constant",
            FlowKind::Expression(_) => "expression",
        }
    }
}

impl fmt::Debug for FlowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowKind::Direct(a) => write!(f, "Direct({a})"),
            FlowKind::Constant(v) => write!(f, "Constant({v:?})"),
            FlowKind::Expression(e) => write!(f, "Expression({:?})", e.source()),
        }
    }
}

impl fmt::Display for FlowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowKind::Direct(a) => write!(f, "[{a}]"),
            FlowKind::Constant(Value::Str(s)) => write!(f, "\"{s}\""),
            FlowKind::Constant(v) => write!(f, "{v}"),
            FlowKind::Expression(e) => f.write_str(e.source()),
        }
    }
}

/// One attribute flow (transformation) of a rule.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The attribute written: a metaverse attribute (inbound) or a connector attribute
    /// (outbound).
    pub target: AttributeName,
    /// Where the value comes from.
    pub kind: FlowKind,
    /// Flow only when the target object is created (`apply_once = true`).
    pub apply_once: bool,
    /// How values from several rules combine.
    pub merge: MergeType,
    /// The line of the flow's `target` in its file.
    pub line: usize,
}

/// A scoping operator, as named in the Synchronization Rules Editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are the documentation; see `Operator::describe`
pub enum Operator {
    Equal,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    IsNull,
    IsNotNull,
    IsIn,
    IsNotIn,
    IsBitSet,
    IsNotBitSet,
    IsMemberOf,
    IsNotMemberOf,
}

/// What kind of `value` an operator takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    /// No value (`ISNULL`, `ISNOTNULL`).
    None,
    /// A text, number or boolean, compared as text (numerically when both sides are integers).
    Text,
    /// A list of texts (`ISIN`, `ISNOTIN`).
    List,
    /// An integer bit mask (`ISBITSET`, `ISNOTBITSET`).
    Mask,
    /// A group's distinguished name (`ISMEMBEROF`, `ISNOTMEMBEROF`).
    Group,
}

impl Operator {
    /// Every operator with its canonical name.
    pub const ALL: [(Operator, &'static str); 20] = [
        (Operator::Equal, "EQUAL"),
        (Operator::NotEqual, "NOTEQUAL"),
        (Operator::LessThan, "LESSTHAN"),
        (Operator::LessThanOrEqual, "LESSTHAN_OR_EQUAL"),
        (Operator::GreaterThan, "GREATERTHAN"),
        (Operator::GreaterThanOrEqual, "GREATERTHAN_OR_EQUAL"),
        (Operator::Contains, "CONTAINS"),
        (Operator::NotContains, "NOTCONTAINS"),
        (Operator::StartsWith, "STARTSWITH"),
        (Operator::NotStartsWith, "NOTSTARTSWITH"),
        (Operator::EndsWith, "ENDSWITH"),
        (Operator::NotEndsWith, "NOTENDSWITH"),
        (Operator::IsNull, "ISNULL"),
        (Operator::IsNotNull, "ISNOTNULL"),
        (Operator::IsIn, "ISIN"),
        (Operator::IsNotIn, "ISNOTIN"),
        (Operator::IsBitSet, "ISBITSET"),
        (Operator::IsNotBitSet, "ISNOTBITSET"),
        (Operator::IsMemberOf, "ISMEMBEROF"),
        (Operator::IsNotMemberOf, "ISNOTMEMBEROF"),
    ];

    /// Reads an operator name case-insensitively. `ISBITNOTSET` (the spelling of Entra
    /// Connect's rule export) is accepted for `ISNOTBITSET`.
    pub fn parse(text: &str) -> Option<Operator> {
        if text.eq_ignore_ascii_case("ISBITNOTSET") {
            return Some(Operator::IsNotBitSet);
        }
        Operator::ALL
            .into_iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(text))
            .map(|(op, _)| op)
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        Operator::ALL
            .into_iter()
            .find(|(op, _)| *op == self)
            .map_or("?", |(_, name)| name)
    }

    /// The kind of value the operator compares with.
    pub fn operand(self) -> OperandKind {
        match self {
            Operator::IsNull | Operator::IsNotNull => OperandKind::None,
            Operator::IsIn | Operator::IsNotIn => OperandKind::List,
            Operator::IsBitSet | Operator::IsNotBitSet => OperandKind::Mask,
            Operator::IsMemberOf | Operator::IsNotMemberOf => OperandKind::Group,
            _ => OperandKind::Text,
        }
    }

    /// For a negated operator, the positive one it negates (`NOTEQUAL` gives `EQUAL`).
    pub fn negated(self) -> Option<Operator> {
        Some(match self {
            Operator::NotEqual => Operator::Equal,
            Operator::NotContains => Operator::Contains,
            Operator::NotStartsWith => Operator::StartsWith,
            Operator::NotEndsWith => Operator::EndsWith,
            Operator::IsNotNull => Operator::IsNull,
            Operator::IsNotIn => Operator::IsIn,
            Operator::IsNotBitSet => Operator::IsBitSet,
            Operator::IsNotMemberOf => Operator::IsMemberOf,
            _ => return None,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value a scope condition compares with; its kind always matches the operator's
/// [`OperandKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// No value.
    None,
    /// A text (numbers and booleans from the file are kept in their text form: `2`, `True`).
    Text(String),
    /// A list of texts.
    List(Vec<String>),
    /// A bit mask.
    Mask(i64),
    /// A group DN.
    Group(Dn),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::None => Ok(()),
            Operand::Text(t) => write!(f, "\"{t}\""),
            Operand::List(l) => {
                let quoted: Vec<String> = l.iter().map(|s| format!("\"{s}\"")).collect();
                write!(f, "[{}]", quoted.join(", "))
            }
            Operand::Mask(m) => write!(f, "{m}"),
            Operand::Group(dn) => write!(f, "\"{dn}\""),
        }
    }
}

/// One scoping clause: `attribute OPERATOR value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The attribute tested (of the rule's source object).
    pub attribute: AttributeName,
    /// The test.
    pub operator: Operator,
    /// What it compares with.
    pub operand: Operand,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operand {
            Operand::None => write!(f, "{} {}", self.attribute, self.operator),
            _ => write!(f, "{} {} {}", self.attribute, self.operator, self.operand),
        }
    }
}

/// A scoping filter: OR of groups, AND inside a group. No groups means every object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The groups; an object is in scope when every condition of at least one group holds.
    pub groups: Vec<Vec<Condition>>,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.groups.is_empty() {
            return f.write_str("every object");
        }
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let parts: Vec<String> = g.iter().map(ToString::to_string).collect();
                parts.join(" AND ")
            })
            .collect();
        if groups.len() == 1 {
            f.write_str(&groups.join(""))
        } else {
            let wrapped: Vec<String> = groups.iter().map(|g| format!("({g})")).collect();
            f.write_str(&wrapped.join(" OR "))
        }
    }
}

/// One join clause: the source attribute's value must equal the target attribute's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCondition {
    /// Attribute of the rule's source object (inbound: connector space; outbound: metaverse).
    pub source: AttributeName,
    /// Attribute of the rule's target object (inbound: metaverse; outbound: connector space).
    pub target: AttributeName,
    /// Whether text values must match case-sensitively.
    pub case_sensitive: bool,
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, as shown to the admin (`templates/rules/in-from-ad-user.toml` for shipped
    /// rules).
    pub file: String,
    /// The line of the rule's `[[rule]]` header.
    pub line: usize,
    /// Whether the rule ships with hybridsync.
    pub shipped: bool,
    /// For a user rule that replaces a shipped rule of the same name: where that rule was.
    pub replaces: Option<Box<Origin>>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if self.shipped {
            f.write_str(" (shipped)")?;
        }
        if let Some(replaced) = &self.replaces {
            write!(
                f,
                ", replacing the shipped rule at {}:{}",
                replaced.file, replaced.line
            )?;
        }
        Ok(())
    }
}

/// A checked sync rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique (case-insensitively) name, e.g. `In from AD - User Join`.
    pub name: String,
    /// What the rule is for, in words an admin understands.
    pub description: String,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The connector(s) it applies to.
    pub connector: ConnectorRef,
    /// Inbound: the connector-space object class (`user`); outbound: the metaverse type.
    pub source_object_type: String,
    /// Inbound: the metaverse type (`person`); outbound: the connector object type (`user`).
    pub target_object_type: String,
    /// Join, sticky join or provision.
    pub link_type: LinkType,
    /// Lower numbers win; unique across enabled rules.
    pub precedence: u32,
    /// Marks the rule whose scope decides password hash sync eligibility.
    pub enable_password_sync: bool,
    /// Marks a shipped rule and its version.
    pub immutable_tag: Option<String>,
    /// A disabled rule is loaded and checked but never applied.
    pub disabled: bool,
    /// Which source objects the rule applies to.
    pub scope: Scope,
    /// Join groups, tried in order.
    pub join: Vec<Vec<JoinCondition>>,
    /// Attribute flows, in file order.
    pub flows: Vec<Flow>,
    /// Where it was defined.
    pub origin: Origin,
}

impl Rule {
    /// Whether the rule can link an object to the other side by itself: it provisions, or it
    /// has join groups. (A join rule without join groups only flows attributes between objects
    /// that another rule linked.)
    pub fn links(&self) -> bool {
        self.link_type == LinkType::Provision || !self.join.is_empty()
    }

    /// The metaverse object type on the rule's metaverse side.
    pub fn mv_object_type(&self) -> Option<MvObjectType> {
        match self.direction {
            Direction::Inbound => MvObjectType::parse(&self.target_object_type),
            Direction::Outbound => MvObjectType::parse(&self.source_object_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse_case_insensitively_with_the_export_alias() {
        assert_eq!(
            Operator::parse("notstartswith"),
            Some(Operator::NotStartsWith)
        );
        assert_eq!(Operator::parse("ISBITNOTSET"), Some(Operator::IsNotBitSet));
        assert_eq!(Operator::parse("IsNotBitSet"), Some(Operator::IsNotBitSet));
        assert_eq!(Operator::parse("EQUALS"), None);
        for (op, name) in Operator::ALL {
            assert_eq!(Operator::parse(name), Some(op));
            assert_eq!(op.as_str(), name);
        }
    }

    #[test]
    fn scopes_and_origins_print_for_rules_show() {
        let cond = |a: &str, op, operand| Condition {
            attribute: AttributeName::new(a).unwrap(),
            operator: op,
            operand,
        };
        let scope = Scope {
            groups: vec![
                vec![
                    cond(
                        "cloudFiltered",
                        Operator::NotEqual,
                        Operand::Text("True".into()),
                    ),
                    cond("sourceAnchor", Operator::IsNotNull, Operand::None),
                ],
                vec![cond("groupType", Operator::IsBitSet, Operand::Mask(8))],
            ],
        };
        assert_eq!(
            scope.to_string(),
            "(cloudFiltered NOTEQUAL \"True\" AND sourceAnchor ISNOTNULL) OR (groupType ISBITSET 8)"
        );
        assert_eq!(Scope::default().to_string(), "every object");
        let shipped = Origin {
            file: "templates/rules/in-from-ad-user.toml".into(),
            line: 6,
            shipped: true,
            replaces: None,
        };
        assert_eq!(
            shipped.to_string(),
            "templates/rules/in-from-ad-user.toml:6 (shipped)"
        );
        let user = Origin {
            file: "/etc/hybridsync/rules/mine.toml".into(),
            line: 3,
            shipped: false,
            replaces: Some(Box::new(shipped)),
        };
        assert_eq!(
            user.to_string(),
            "/etc/hybridsync/rules/mine.toml:3, replacing the shipped rule at \
             templates/rules/in-from-ad-user.toml:6"
        );
    }

    #[test]
    fn connectors_match_by_kind_or_name() {
        let forest = Connector {
            kind: ConnectorKind::Ad,
            name: "corp.example.com",
        };
        let tenant = Connector {
            kind: ConnectorKind::Entra,
            name: "entra",
        };
        assert!(ConnectorRef::parse("AD").matches(&forest));
        assert!(!ConnectorRef::parse("ad").matches(&tenant));
        assert!(ConnectorRef::parse("Entra").matches(&tenant));
        assert!(ConnectorRef::parse("CORP.example.com").matches(&forest));
        assert!(!ConnectorRef::parse("other.example.com").matches(&forest));
    }
}
