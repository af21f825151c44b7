//! Reading one rule file: TOML syntax, then the shape of every `[[rule]]`, then what each rule
//! means against the schemas, collecting every problem with its file, line and rule.
//!
//! Invariants: the file is parsed with `toml_edit` so every key and value keeps its position;
//! a syntax error ends the file (nothing after it can be trusted), but any other problem only
//! spoils the piece it is in: the rest of the rule and the other rules are still checked, and a
//! rule with a problem is kept as a [`Candidate`] without a [`Rule`] so that checks across rules
//! (names, precedences) still see it. Attributes are checked only when the rule's direction,
//! connector and object types are valid, so one mistake does not cascade into dozens of messages.
//! Nothing here panics on any input.

use std::ops::Range;
use std::sync::Arc;

use super::check::{self, Side};
use super::issue::RuleIssue;
use super::model::{
    Condition, ConnectorKind, ConnectorRef, Direction, Flow, FlowKind, JoinCondition, LinkType,
    MergeType, MvObjectType, Operand, OperandKind, Operator, Origin, Rule, Scope,
};
use super::schema::{self, AttrDef};
use super::toml_tree::{Entry, LineIndex, Node, Spanned, table_node};
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{Expr, Value};

/// A rule as far as it could be read: always a name (when present), its origin and the fields
/// cross-rule checks need; the complete [`Rule`] only when the rule has no problem.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub name: Option<String>,
    pub name_line: usize,
    pub origin: Origin,
    pub precedence: Option<(u32, usize)>,
    pub disabled: bool,
    pub rule: Option<Rule>,
}

impl Candidate {
    pub(super) fn from_rule(rule: Rule) -> Self {
        Candidate {
            name: Some(rule.name.clone()),
            name_line: rule.origin.line,
            origin: rule.origin.clone(),
            precedence: Some((rule.precedence, rule.origin.line)),
            disabled: rule.disabled,
            rule: Some(rule),
        }
    }
}

/// Parses one file. `file` is the name shown in messages.
pub(super) fn parse_file(
    file: &str,
    text: &str,
    shipped: bool,
    issues: &mut Vec<RuleIssue>,
) -> Vec<Candidate> {
    let lines = LineIndex::new(text);
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e
                .message()
                .trim()
                .trim_end_matches('.')
                .replace('`', "'")
                .replace('\n', "; ");
            let line = e.span().map(|s| lines.line(s.start));
            issues.push(RuleIssue::error(
                file,
                line,
                format!(
                    "this is not valid TOML: {message}. Fix the syntax at the line shown \
                     (the files in templates/rules/ are complete examples)"
                ),
            ));
            return Vec::new();
        }
    };
    let root = table_node(doc.as_table());
    let mut fx = FileCx {
        file,
        text,
        lines,
        shipped,
        issues,
    };
    let Node::Table(entries) = &root.node else {
        return Vec::new();
    };
    let mut rules = Vec::new();
    let mut saw_rules = false;
    for entry in entries {
        if entry.key != "rule" {
            let hint = if entry.key.eq_ignore_ascii_case("rules") {
                " Write each rule as a [[rule]] table.".to_string()
            } else {
                " A rule file holds only [[rule]] tables.".to_string()
            };
            let line = fx.lines.line(entry.key_start);
            fx.issues.push(RuleIssue::error(
                file,
                Some(line),
                format!("unknown top-level key '{}'.{hint}", entry.key),
            ));
            continue;
        }
        saw_rules = true;
        let Node::Array(items) = &entry.value.node else {
            let line = fx.lines.line(entry.key_start);
            fx.issues.push(RuleIssue::error(
                file,
                Some(line),
                "'rule' must be written as [[rule]] tables, one per rule",
            ));
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            if let Some(c) = fx.rule(index + 1, item) {
                rules.push(c);
            }
        }
    }
    if !saw_rules {
        fx.issues.push(RuleIssue::warning(
            file,
            None,
            "this file defines no rules. Add [[rule]] tables or remove the file",
        ));
    }
    rules
}

struct FileCx<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
    shipped: bool,
    issues: &'a mut Vec<RuleIssue>,
}

/// The keys a rule may have, in the order the documentation lists them.
const RULE_KEYS: &[&str] = &[
    "name",
    "description",
    "direction",
    "connector",
    "source_object_type",
    "target_object_type",
    "link_type",
    "precedence",
    "enable_password_sync",
    "immutable_tag",
    "disabled",
    "scope",
    "join",
    "flow",
];

const FLOW_KEYS: &[&str] = &[
    "target",
    "source",
    "constant",
    "expression",
    "apply_once",
    "merge",
];
const CONDITION_KEYS: &[&str] = &["attribute", "operator", "value"];
const JOIN_KEYS: &[&str] = &["source", "target", "case_sensitive"];

/// How a key is written correctly, for messages.
fn example(key: &str) -> &'static str {
    match key {
        "name" => "name = \"In from AD - User Custom\"",
        "description" => "description = \"What this rule is for\"",
        "direction" => "direction = \"inbound\"",
        "connector" => "connector = \"ad\"",
        "source_object_type" => "source_object_type = \"user\"",
        "target_object_type" => "target_object_type = \"person\"",
        "link_type" => "link_type = \"join\"",
        "precedence" => "precedence = 90",
        "enable_password_sync" | "disabled" | "apply_once" | "case_sensitive" => {
            "true or false, without quotes"
        }
        "immutable_tag" => "immutable_tag = \"Contoso.InFromADUserCustom.001\"",
        "scope" => {
            "scope = [ [ { attribute = \"department\", operator = \"EQUAL\", value = \"Sales\" } ] ]"
        }
        "join" => "join = [ [ { source = \"objectGUID\", target = \"sourceAnchorBinary\" } ] ]",
        "flow" => "[[rule.flow]] tables",
        "target" => "target = \"displayName\"",
        "source" => "source = \"displayName\"",
        "expression" => "expression = 'Trim([displayName])'",
        "merge" => "merge = \"update\"",
        "attribute" => "attribute = \"department\"",
        "operator" => "operator = \"EQUAL\"",
        _ => "the form shown in templates/rules/",
    }
}

/// The issue context of one rule: its name (or position) and where it is.
struct RuleCx {
    name: Option<String>,
    number: usize,
}

impl RuleCx {
    fn part(&self, part: Option<&str>) -> Option<String> {
        let unnamed = format!("[[rule]] number {}", self.number);
        match (&self.name, part) {
            (Some(_), p) => p.map(str::to_string),
            (None, Some(p)) => Some(format!("{unnamed}, {p}")),
            (None, None) => Some(unnamed),
        }
    }
}

impl FileCx<'_> {
    fn issue(&mut self, rc: &RuleCx, at: usize, part: Option<&str>, message: String) {
        let mut issue = RuleIssue::error(self.file, Some(self.lines.line(at)), message);
        issue.rule.clone_from(&rc.name);
        issue.part = rc.part(part);
        self.issues.push(issue);
    }

    /// Reports keys not in `allowed`.
    fn unknown_keys(
        &mut self,
        rc: &RuleCx,
        entries: &[Entry],
        allowed: &[&str],
        part: Option<&str>,
        what: &str,
    ) {
        for entry in entries {
            if allowed.contains(&entry.key.as_str()) {
                continue;
            }
            let hint = match schema::closest(&entry.key, allowed.iter().copied()) {
                Some(near) => format!("Did you mean '{near}'? "),
                None => String::new(),
            };
            let message = format!(
                "unknown key '{}'. {hint}{what} may have: {}",
                entry.key,
                allowed.join(", ")
            );
            self.issue(rc, entry.key_start, part, message);
        }
    }

    fn wrong_type(&mut self, rc: &RuleCx, entry: &Entry, part: Option<&str>, wanted: &str) {
        let message = format!(
            "'{}' must be {wanted} ({}), not {}",
            entry.key,
            example(&entry.key),
            entry.value.node.kind()
        );
        self.issue(rc, entry.value.span.start, part, message);
    }

    fn string(&mut self, rc: &RuleCx, entry: &Entry, part: Option<&str>) -> Option<String> {
        match &entry.value.node {
            Node::Str(s) if s.trim().is_empty() => {
                let message = format!(
                    "'{}' is empty. Write, for example, {}",
                    entry.key,
                    example(&entry.key)
                );
                self.issue(rc, entry.value.span.start, part, message);
                None
            }
            Node::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(rc, entry, part, "text in quotes");
                None
            }
        }
    }

    fn boolean(&mut self, rc: &RuleCx, entry: &Entry, part: Option<&str>) -> Option<bool> {
        match &entry.value.node {
            Node::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(rc, entry, part, "true or false");
                None
            }
        }
    }

    fn attribute(
        &mut self,
        rc: &RuleCx,
        entry: &Entry,
        part: Option<&str>,
    ) -> Option<AttributeName> {
        let text = self.string(rc, entry, part)?;
        match AttributeName::new(text.trim()) {
            Ok(a) => Some(a),
            Err(e) => {
                let message = format!("'{}': {e}", entry.key);
                self.issue(rc, entry.value.span.start, part, message);
                None
            }
        }
    }

    fn missing(&mut self, rc: &RuleCx, at: usize, part: Option<&str>, key: &str, why: &str) {
        let message = format!("missing required key '{key}'. Add {}{why}", example(key));
        self.issue(rc, at, part, message);
    }

    /// Reads one `[[rule]]` table.
    fn rule(&mut self, number: usize, item: &Spanned) -> Option<Candidate> {
        let header = item.span.start;
        let mut rc = RuleCx { name: None, number };
        let Node::Table(entries) = &item.node else {
            self.issue(
                &rc,
                header,
                None,
                "each rule must be a [[rule]] table".to_string(),
            );
            return None;
        };
        let get = |key: &str| entries.iter().find(|e| e.key == key);

        let errors = self.error_count();
        let name_entry = get("name");
        let name = match name_entry {
            Some(e) => self.string(&rc, e, None).map(|n| n.trim().to_string()),
            None => {
                self.missing(
                    &rc,
                    header,
                    None,
                    "name",
                    " (rule names are unique, ignoring case)",
                );
                None
            }
        };
        rc.name.clone_from(&name);
        self.unknown_keys(&rc, entries, RULE_KEYS, None, "A rule");

        let description = match get("description") {
            Some(e) => self.string(&rc, e, None).unwrap_or_default(),
            None => String::new(),
        };
        let direction = self.enum_key(
            &rc,
            header,
            "direction",
            get("direction"),
            &[
                (
                    "inbound",
                    Direction::Inbound,
                    "connector space to metaverse",
                ),
                (
                    "outbound",
                    Direction::Outbound,
                    "metaverse to connector space",
                ),
            ],
        );
        let connector = match get("connector") {
            Some(e) => self
                .string(&rc, e, None)
                .map(|c| ConnectorRef::parse(c.trim())),
            None => {
                self.missing(
                    &rc,
                    header,
                    None,
                    "connector",
                    " (\"ad\" = every AD forest, \"entra\" = the tenant, or one connector's name)",
                );
                None
            }
        };
        let source_type = self.required_string(
            &rc,
            header,
            "source_object_type",
            get("source_object_type"),
            " (inbound: the connector's object type, like \"user\"; outbound: the metaverse type, like \"person\")",
        );
        let target_type = self.required_string(
            &rc,
            header,
            "target_object_type",
            get("target_object_type"),
            " (inbound: the metaverse type, like \"person\"; outbound: the connector's object type, like \"user\")",
        );
        let link_type = self.enum_key(
            &rc,
            header,
            "link_type",
            get("link_type"),
            &[
                ("join", LinkType::Join, "link to an existing object"),
                (
                    "sticky-join",
                    LinkType::StickyJoin,
                    "join, and keep the link until the source is deleted",
                ),
                (
                    "provision",
                    LinkType::Provision,
                    "join, or create the target object",
                ),
            ],
        );
        let precedence = self.precedence(&rc, header, get("precedence"));
        let flag = |cx: &mut Self, key: &str| get(key).and_then(|e| cx.boolean(&rc, e, None));
        let enable_password_sync = flag(self, "enable_password_sync").unwrap_or(false);
        let disabled = flag(self, "disabled").unwrap_or(false);
        let immutable_tag = get("immutable_tag").and_then(|e| self.string(&rc, e, None));

        // The sides the rule reads and writes, once direction, connector and types are valid.
        let sides = match (direction, &connector, &source_type, &target_type) {
            (Some(d), Some(c), Some((s, s_at)), Some((t, t_at))) => {
                self.sides(&rc, d, c, (s, *s_at), (t, *t_at))
            }
            _ => None,
        };

        let scope = self.scope(&rc, get("scope"), sides.as_ref().map(|(r, _, _)| r));
        let join = self.join(&rc, get("join"), sides.as_ref());
        let flows = self.flows(&rc, get("flow"), sides.as_ref());

        let origin = Origin {
            file: self.file.to_string(),
            line: self.lines.line(header),
            shipped: self.shipped,
            replaces: None,
        };
        let complete = || {
            Some(Rule {
                name: name.clone()?,
                description,
                direction: direction?,
                connector: connector?,
                source_object_type: source_type?.0,
                target_object_type: target_type?.0,
                link_type: link_type?,
                precedence: precedence?.0,
                enable_password_sync,
                immutable_tag,
                disabled,
                scope: scope?,
                join: join?,
                flows: flows?,
                origin: origin.clone(),
            })
        };
        // Any error inside this rule (this file's issues grew) leaves it incomplete.
        let rule = if self.error_count() == errors {
            complete()
        } else {
            None
        };
        Some(Candidate {
            name,
            name_line: name_entry.map_or(origin.line, |e| self.lines.line(e.value.span.start)),
            origin,
            precedence: precedence.map(|(p, at)| (p, self.lines.line(at))),
            disabled,
            rule,
        })
    }

    fn required_string(
        &mut self,
        rc: &RuleCx,
        header: usize,
        key: &str,
        entry: Option<&Entry>,
        why: &str,
    ) -> Option<(String, usize)> {
        let Some(entry) = entry else {
            self.missing(rc, header, None, key, why);
            return None;
        };
        self.string(rc, entry, None)
            .map(|s| (s.trim().to_string(), entry.value.span.start))
    }

    fn enum_key<T: Copy>(
        &mut self,
        rc: &RuleCx,
        header: usize,
        key: &str,
        entry: Option<&Entry>,
        choices: &[(&str, T, &str)],
    ) -> Option<T> {
        let options: Vec<String> = choices
            .iter()
            .map(|(n, _, what)| format!("\"{n}\" ({what})"))
            .collect();
        let Some(entry) = entry else {
            let why = format!("; the choices are {}", check::join_or(&options));
            self.missing(rc, header, None, key, &why);
            return None;
        };
        let text = self.string(rc, entry, None)?;
        if let Some((_, value, _)) = choices
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(text.trim()))
        {
            return Some(*value);
        }
        let message = format!(
            "{} '{}' is not valid. Write {}",
            entry.key,
            text,
            check::join_or(&options)
        );
        self.issue(rc, entry.value.span.start, None, message);
        None
    }

    fn precedence(
        &mut self,
        rc: &RuleCx,
        header: usize,
        entry: Option<&Entry>,
    ) -> Option<(u32, usize)> {
        let Some(entry) = entry else {
            self.missing(rc, header, None, "precedence", "; lower numbers win, and custom rules usually take 1-99 to win over the shipped rules");
            return None;
        };
        match entry.value.node {
            Node::Int(p) if (1..=i64::from(i32::MAX)).contains(&p) => {
                u32::try_from(p).ok().map(|p| (p, entry.value.span.start))
            }
            Node::Int(p) => {
                let message = format!(
                    "precedence {p} is out of range. Use a number from 1 to {}; lower numbers win",
                    i32::MAX
                );
                self.issue(rc, entry.value.span.start, None, message);
                None
            }
            _ => {
                self.wrong_type(rc, entry, None, "a whole number");
                None
            }
        }
    }

    /// Works out what the rule reads and writes; reports direction/connector/type mismatches.
    /// Returns (read side, write side, join-target side).
    fn sides(
        &mut self,
        rc: &RuleCx,
        direction: Direction,
        connector: &ConnectorRef,
        source: (&str, usize),
        target: (&str, usize),
    ) -> Option<(Side, Side, Side)> {
        let kind = connector.kind();
        let mv_type = |cx: &mut Self, (text, at): (&str, usize), key: &str| {
            match MvObjectType::parse(text) {
                Some(t) => Some(t),
                None => {
                    let message = format!(
                        "{key} '{text}' is not a metaverse object type. Write \"person\" (users, inetOrgPersons, contacts), \"group\" or \"device\""
                    );
                    cx.issue(rc, at, None, message);
                    None
                }
            }
        };
        let cs_type = |cx: &mut Self, (text, at): (&str, usize), key: &str| -> Option<String> {
            let known: &[&str] = match kind {
                ConnectorKind::Ad => schema::AD_OBJECT_CLASSES,
                ConnectorKind::Entra => schema::GRAPH_OBJECT_TYPES,
            };
            if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(text)) {
                return Some((*k).to_string());
            }
            let side = match kind {
                ConnectorKind::Ad => "an Active Directory object class",
                ConnectorKind::Entra => "a Microsoft Graph object type hybridsync writes",
            };
            let quoted: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
            let message = format!(
                "{key} '{text}' is not {side} for connector '{connector}'. Write {}",
                check::join_or(&quoted)
            );
            cx.issue(rc, at, None, message);
            None
        };
        let cs_side = |t: String| match kind {
            ConnectorKind::Ad => Side::Ad,
            ConnectorKind::Entra => Side::Graph(t),
        };
        match direction {
            Direction::Inbound => {
                let s = cs_type(self, source, "source_object_type");
                let t = mv_type(self, target, "target_object_type");
                let (s, t) = (s?, t?);
                Some((cs_side(s), Side::Mv(t), Side::Mv(t)))
            }
            Direction::Outbound => {
                let s = mv_type(self, source, "source_object_type");
                let t = cs_type(self, target, "target_object_type");
                let (s, t) = (s?, t?);
                let written = cs_side(t);
                Some((Side::Mv(s), written.clone(), written))
            }
        }
    }

    fn scope(&mut self, rc: &RuleCx, entry: Option<&Entry>, read: Option<&Side>) -> Option<Scope> {
        let Some(entry) = entry else {
            return Some(Scope::default());
        };
        let groups = self.groups(rc, entry)?;
        let mut ok = true;
        let mut scope = Scope::default();
        for (g, group) in groups.iter().enumerate() {
            let mut conditions = Vec::new();
            for (c, item) in group.iter().enumerate() {
                let part = format!("scope group {}, condition {}", g + 1, c + 1);
                match self.condition(rc, item, &part, read) {
                    Some(cond) => conditions.push(cond),
                    None => ok = false,
                }
            }
            scope.groups.push(conditions);
        }
        ok.then_some(scope)
    }

    /// Reads `[[ {...}, ... ], ...]`: a list of groups of inline tables.
    fn groups<'e>(&mut self, rc: &RuleCx, entry: &'e Entry) -> Option<Vec<Vec<&'e Spanned>>> {
        let shape = |cx: &mut Self, at: usize| {
            let message = format!(
                "'{}' must be a list of groups, each a list of conditions: {}",
                entry.key,
                example(&entry.key)
            );
            cx.issue(rc, at, None, message);
        };
        let Node::Array(groups) = &entry.value.node else {
            shape(self, entry.value.span.start);
            return None;
        };
        let mut out = Vec::new();
        for group in groups {
            match &group.node {
                Node::Array(items) if items.iter().all(|i| matches!(i.node, Node::Table(_))) => {
                    out.push(items.iter().collect());
                }
                _ => {
                    shape(self, group.span.start);
                    return None;
                }
            }
        }
        Some(out)
    }

    fn condition(
        &mut self,
        rc: &RuleCx,
        item: &Spanned,
        part: &str,
        read: Option<&Side>,
    ) -> Option<Condition> {
        let Node::Table(entries) = &item.node else {
            return None;
        };
        let errors = self.error_count();
        self.unknown_keys(rc, entries, CONDITION_KEYS, Some(part), "A scope condition");
        let get = |key: &str| entries.iter().find(|e| e.key == key);
        let operator = match get("operator") {
            Some(e) => {
                let text = self.string(rc, e, Some(part))?;
                match Operator::parse(text.trim()) {
                    Some(op) => Some(op),
                    None => {
                        let names: Vec<&str> = Operator::ALL.iter().map(|(_, n)| *n).collect();
                        let hint = check::did_you_mean(text.trim(), names.iter().copied());
                        let message = format!(
                            "unknown operator '{text}'.{hint} Operators: {}",
                            names.join(", ")
                        );
                        self.issue(rc, e.value.span.start, Some(part), message);
                        None
                    }
                }
            }
            None => {
                self.missing(rc, item.span.start, Some(part), "operator", "");
                None
            }
        };
        let attribute = match get("attribute") {
            Some(e) => self.attribute(rc, e, Some(part)),
            None if operator.is_some_and(|o| o.operand() == OperandKind::Group) => {
                AttributeName::new("dn").ok()
            }
            None => {
                self.missing(rc, item.span.start, Some(part), "attribute", "");
                None
            }
        };
        let operator = operator?;
        let operand = self.operand(rc, item, get("value"), operator, part)?;
        let attribute = attribute?;
        if operator.operand() != OperandKind::Group
            && let (Some(side), Some(e)) = (read, get("attribute"))
            && let Some(message) = check::read_problem(side, attribute.as_str())
        {
            self.issue(rc, e.value.span.start, Some(part), message);
        }
        (self.error_count() == errors).then_some(Condition {
            attribute,
            operator,
            operand,
        })
    }

    fn operand(
        &mut self,
        rc: &RuleCx,
        item: &Spanned,
        entry: Option<&Entry>,
        op: Operator,
        part: &str,
    ) -> Option<Operand> {
        let kind = op.operand();
        let Some(entry) = entry else {
            if kind == OperandKind::None {
                return Some(Operand::None);
            }
            let what = match kind {
                OperandKind::List => "value = [\"a\", \"b\"] (a list of texts)",
                OperandKind::Mask => "value = 2 (a bit mask)",
                OperandKind::Group => {
                    "value = \"CN=Pilot,OU=Groups,DC=corp,DC=example,DC=com\" (the group's DN)"
                }
                _ => "value = \"...\"",
            };
            let message = format!("operator {op} needs a value. Add {what}");
            self.issue(rc, item.span.start, Some(part), message);
            return None;
        };
        let at = entry.value.span.start;
        let scalar = |node: &Node| match node {
            Node::Str(s) => Some(s.clone()),
            Node::Int(i) => Some(i.to_string()),
            Node::Bool(true) => Some("True".to_string()),
            Node::Bool(false) => Some("False".to_string()),
            _ => None,
        };
        match kind {
            OperandKind::None => {
                let message = format!("operator {op} takes no value. Remove 'value'");
                self.issue(rc, at, Some(part), message);
                None
            }
            OperandKind::Text => match scalar(&entry.value.node) {
                Some(t) => Some(Operand::Text(t)),
                None => {
                    let message = format!(
                        "operator {op} compares with one text, number or boolean, not {}. Write, for example, value = \"Sales\"",
                        entry.value.node.kind()
                    );
                    self.issue(rc, at, Some(part), message);
                    None
                }
            },
            OperandKind::List => {
                let items = match &entry.value.node {
                    Node::Array(items) => items
                        .iter()
                        .map(|i| scalar(&i.node))
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                if items.is_none() {
                    let message = format!(
                        "operator {op} needs a list of texts, like value = [\"Sales\", \"Marketing\"]"
                    );
                    self.issue(rc, at, Some(part), message);
                }
                items.map(Operand::List)
            }
            OperandKind::Mask => {
                let mask = match &entry.value.node {
                    Node::Int(i) => Some(*i),
                    Node::Str(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match mask {
                    Some(0) | None => {
                        let message = format!(
                            "operator {op} needs a non-zero whole number as its bit mask, like value = 2 (the ACCOUNTDISABLE bit of userAccountControl)"
                        );
                        self.issue(rc, at, Some(part), message);
                        None
                    }
                    Some(m) => Some(Operand::Mask(m)),
                }
            }
            OperandKind::Group => {
                let Node::Str(text) = &entry.value.node else {
                    let message = format!(
                        "operator {op} needs the group's distinguished name in quotes, like value = \"CN=Pilot,OU=Groups,DC=corp,DC=example,DC=com\""
                    );
                    self.issue(rc, at, Some(part), message);
                    return None;
                };
                match Dn::parse(text.trim()) {
                    Ok(dn) if !dn.is_empty() => Some(Operand::Group(dn)),
                    Ok(_) => {
                        let message = format!(
                            "operator {op} needs a group's distinguished name, not an empty one"
                        );
                        self.issue(rc, at, Some(part), message);
                        None
                    }
                    Err(e) => {
                        let message = format!(
                            "{e}. Write the group's full DN, like \"CN=Pilot,OU=Groups,DC=corp,DC=example,DC=com\""
                        );
                        self.issue(rc, at, Some(part), message);
                        None
                    }
                }
            }
        }
    }

    fn join(
        &mut self,
        rc: &RuleCx,
        entry: Option<&Entry>,
        sides: Option<&(Side, Side, Side)>,
    ) -> Option<Vec<Vec<JoinCondition>>> {
        let Some(entry) = entry else {
            return Some(Vec::new());
        };
        let groups = self.groups(rc, entry)?;
        let mut ok = true;
        let mut out = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let mut conditions = Vec::new();
            for (c, item) in group.iter().enumerate() {
                let part = format!("join group {}, condition {}", g + 1, c + 1);
                match self.join_condition(rc, item, &part, sides) {
                    Some(j) => conditions.push(j),
                    None => ok = false,
                }
            }
            out.push(conditions);
        }
        ok.then_some(out)
    }

    fn join_condition(
        &mut self,
        rc: &RuleCx,
        item: &Spanned,
        part: &str,
        sides: Option<&(Side, Side, Side)>,
    ) -> Option<JoinCondition> {
        let Node::Table(entries) = &item.node else {
            return None;
        };
        let errors = self.error_count();
        self.unknown_keys(rc, entries, JOIN_KEYS, Some(part), "A join condition");
        let get = |key: &str| entries.iter().find(|e| e.key == key);
        let read = |cx: &mut Self, key: &str, side: Option<&Side>| -> Option<AttributeName> {
            let Some(e) = get(key) else {
                cx.missing(rc, item.span.start, Some(part), key, "");
                return None;
            };
            let attr = cx.attribute(rc, e, Some(part))?;
            if let Some(message) = side.and_then(|s| check::read_problem(s, attr.as_str())) {
                cx.issue(rc, e.value.span.start, Some(part), message);
            }
            Some(attr)
        };
        let source = read(self, "source", sides.map(|(r, _, _)| r));
        let target = read(self, "target", sides.map(|(_, _, j)| j));
        let case_sensitive = match get("case_sensitive") {
            Some(e) => self.boolean(rc, e, Some(part)),
            None => Some(false),
        };
        let (source, target, case_sensitive) = (source?, target?, case_sensitive?);
        (self.error_count() == errors).then_some(JoinCondition {
            source,
            target,
            case_sensitive,
        })
    }

    fn flows(
        &mut self,
        rc: &RuleCx,
        entry: Option<&Entry>,
        sides: Option<&(Side, Side, Side)>,
    ) -> Option<Vec<Flow>> {
        let Some(entry) = entry else {
            return Some(Vec::new());
        };
        let Node::Array(items) = &entry.value.node else {
            let message =
                "flows must be written as [[rule.flow]] tables, one per attribute".to_string();
            self.issue(rc, entry.key_start, None, message);
            return None;
        };
        let mut ok = true;
        let mut flows: Vec<Flow> = Vec::new();
        let mut seen: Vec<(AttributeName, usize)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let Node::Table(entries) = &item.node else {
                let message = "each flow must be a [[rule.flow]] table".to_string();
                self.issue(rc, item.span.start, None, message);
                ok = false;
                continue;
            };
            match self.flow(rc, index + 1, item.span.start, entries, sides) {
                Some(flow) => {
                    if let Some((_, line)) = seen.iter().find(|(t, _)| *t == flow.target) {
                        let part = format!("flow '{}'", flow.target);
                        let message = format!(
                            "a second flow into '{}' (the first is at line {line}). A rule writes each attribute once; keep one of them",
                            flow.target
                        );
                        let at = entries
                            .iter()
                            .find(|e| e.key == "target")
                            .map_or(item.span.start, |e| e.value.span.start);
                        self.issue(rc, at, Some(&part), message);
                        ok = false;
                    } else {
                        seen.push((flow.target.clone(), flow.line));
                        flows.push(flow);
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(flows)
    }

    fn flow(
        &mut self,
        rc: &RuleCx,
        number: usize,
        at: usize,
        entries: &[Entry],
        sides: Option<&(Side, Side, Side)>,
    ) -> Option<Flow> {
        let get = |key: &str| entries.iter().find(|e| e.key == key);
        let errors = self.error_count();
        let target_name = get("target").and_then(|e| match &e.value.node {
            Node::Str(s) => Some(s.trim().to_string()),
            _ => None,
        });
        let part = match &target_name {
            Some(t) => format!("flow '{t}'"),
            None => format!("flow number {number}"),
        };
        let part = part.as_str();
        self.unknown_keys(rc, entries, FLOW_KEYS, Some(part), "A flow");
        let target = match get("target") {
            Some(e) => self.attribute(rc, e, Some(part)),
            None => {
                self.missing(
                    rc,
                    at,
                    Some(part),
                    "target",
                    " (the attribute this flow writes)",
                );
                None
            }
        };
        let target_entry = get("target");
        let line = self.lines.line(target_entry.map_or(at, |e| e.key_start));

        // Exactly one kind.
        let kinds: Vec<&Entry> = ["source", "constant", "expression"]
            .iter()
            .filter_map(|k| get(k))
            .collect();
        let kind_entry = match kinds.as_slice() {
            [one] => Some(*one),
            [] => {
                let message = "has no value: add exactly one of source = \"attribute\" (copy it), constant = ... (a fixed text, number or true/false) or expression = '...'".to_string();
                self.issue(
                    rc,
                    target_entry.map_or(at, |e| e.key_start),
                    Some(part),
                    message,
                );
                None
            }
            [first, ..] => {
                let names: Vec<String> = kinds.iter().map(|e| format!("'{}'", e.key)).collect();
                let message = format!(
                    "has {}. A flow takes exactly one of source (copy an attribute), constant (a fixed value) or expression; keep one",
                    check::join_and(&names)
                );
                self.issue(rc, first.key_start, Some(part), message);
                None
            }
        };

        let written = match (sides, &target, target_entry) {
            (Some((_, write, _)), Some(t), Some(e)) => {
                match check::write_problem(write, t.as_str()) {
                    Ok(def) => def,
                    Err(message) => {
                        self.issue(rc, e.value.span.start, Some(part), message);
                        None
                    }
                }
            }
            _ => None,
        };
        let read = sides.map(|(r, _, _)| r);

        let kind = match kind_entry {
            Some(e) if e.key == "source" => {
                let attr = self.attribute(rc, e, Some(part));
                if let (Some(a), Some(side)) = (&attr, read)
                    && let Some(message) = check::read_problem(side, a.as_str())
                {
                    self.issue(rc, e.value.span.start, Some(part), message);
                }
                attr.map(FlowKind::Direct)
            }
            Some(e) if e.key == "constant" => {
                let value = match &e.value.node {
                    Node::Str(s) => Some(Value::Str(s.clone())),
                    Node::Int(i) => Some(Value::Num(*i)),
                    Node::Bool(b) => Some(Value::Bool(*b)),
                    other => {
                        let message = format!(
                            "'constant' must be text, a whole number or true/false, not {}",
                            other.kind()
                        );
                        self.issue(rc, e.value.span.start, Some(part), message);
                        None
                    }
                };
                if let (Some(v), Some(def)) = (&value, written)
                    && let Some(message) = check::constant_problem(v, def)
                {
                    self.issue(rc, e.value.span.start, Some(part), message);
                }
                value.map(FlowKind::Constant)
            }
            Some(e) => self
                .expression(rc, e, part, read)
                .map(|x| FlowKind::Expression(Arc::new(x))),
            None => None,
        };

        let apply_once = match get("apply_once") {
            Some(e) => self.boolean(rc, e, Some(part)),
            None => Some(false),
        };
        let merge = match get("merge") {
            Some(e) => self.merge(rc, e, part, written),
            None => Some(MergeType::Update),
        };
        let (target, kind, apply_once, merge) = (target?, kind?, apply_once?, merge?);
        (self.error_count() == errors).then_some(Flow {
            target,
            kind,
            apply_once,
            merge,
            line,
        })
    }

    fn merge(
        &mut self,
        rc: &RuleCx,
        entry: &Entry,
        part: &str,
        written: Option<AttrDef>,
    ) -> Option<MergeType> {
        let text = self.string(rc, entry, Some(part))?;
        let choices = [
            MergeType::Update,
            MergeType::Merge,
            MergeType::MergeCaseInsensitive,
            MergeType::Replace,
        ];
        let Some(merge) = choices
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text.trim()))
        else {
            let message = format!(
                "merge '{text}' is not valid. Write \"update\" (the highest-precedence rule wins; the default), \"merge\" or \"merge-case-insensitive\" (unite the values of a multi-valued attribute) or \"replace\" (the same as update)"
            );
            self.issue(rc, entry.value.span.start, Some(part), message);
            return None;
        };
        if let Some(def) = written
            && merge.is_union()
            && !def.multi
        {
            let message = format!(
                "merge = \"{}\" unites the values of a multi-valued attribute, but '{}' holds one value. Remove 'merge' (the default \"update\" lets the highest-precedence rule win)",
                merge.as_str(),
                def.name
            );
            self.issue(rc, entry.value.span.start, Some(part), message);
            return None;
        }
        Some(merge)
    }

    fn expression(
        &mut self,
        rc: &RuleCx,
        entry: &Entry,
        part: &str,
        read: Option<&Side>,
    ) -> Option<Expr> {
        let Node::Str(text) = &entry.value.node else {
            self.wrong_type(rc, entry, Some(part), "text in quotes");
            return None;
        };
        let span = entry.value.span.clone();
        match Expr::parse(text) {
            Ok(expr) => {
                let mut ok = true;
                if let Some(side) = read {
                    for attr in expr.attributes() {
                        if let Some(message) = check::read_problem(side, attr.as_str()) {
                            let column = check::find_column(text, attr.as_str());
                            self.expression_issue(rc, part, &span, column, message);
                            ok = false;
                        }
                    }
                }
                for param in expr.parameters() {
                    if schema::parameter(&param).is_none() {
                        let column = check::find_column(text, &format!("%{param}%"));
                        let message = format!(
                            "unknown parameter '%{param}%'. Parameters: {}",
                            schema::PARAMETERS
                                .iter()
                                .map(|p| format!("%{p}%"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                        self.expression_issue(rc, part, &span, column, message);
                        ok = false;
                    }
                }
                ok.then_some(expr)
            }
            Err(e) => {
                self.expression_issue(rc, part, &span, Some(e.column), e.message);
                None
            }
        }
    }

    /// An issue inside an expression: the line is the line of the column (multi-line literal
    /// strings map exactly; escapes in basic strings can shift it).
    fn expression_issue(
        &mut self,
        rc: &RuleCx,
        part: &str,
        span: &Range<usize>,
        column: Option<usize>,
        message: String,
    ) {
        let at = column.map_or(span.start, |c| check::expression_offset(self.text, span, c));
        let mut issue = RuleIssue::error(self.file, Some(self.lines.line(at)), message);
        issue.rule.clone_from(&rc.name);
        issue.part = rc.part(Some(part));
        issue.column = column;
        self.issues.push(issue);
    }

    fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }
}

/// A rule name folded for comparison: rule names are unique ignoring case.
pub(super) fn fold(name: &str) -> String {
    name.to_lowercase()
}
