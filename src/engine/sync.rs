//! The synchronization stage as pure planning functions: what the rules say should happen to one
//! connector-space object (inbound: join, project, disconnect, attribute contributions) and to one
//! metaverse object towards one target connector (outbound: provision, update, deprovision).
//!
//! The semantics follow Entra Connect's documented model (`reference/sync-engine.md` 1.3, 2.1):
//! - Only one in-scope inbound rule may carry join groups; its groups are tried in order and the
//!   first that matches **exactly one** metaverse object wins. With no match, a `provision` rule
//!   projects a new metaverse object, but only when at least one join attribute has a value.
//! - A joined object stays joined while some in-scope rule links it (the join is not re-evaluated
//!   when join values change); when none does, it is disconnected (deprovisioned).
//! - A metaverse attribute takes the value of the highest-precedence (lowest number) rule that
//!   contributes a value across every joined object; `AuthoritativeNull` stops lower rules;
//!   `IgnoreThisFlow` keeps the existing value; merge types unite multi-values.
//! - Outbound, an in-scope `provision` rule creates the target object when none is linked; when no
//!   in-scope rule links a linked object any more (e.g. `cloudFiltered` became True), it is deleted.
//!
//! Invariants: planning reads, never writes (the store applies plans); it never panics; every
//! expression failure is reported per object and blocks only that object.

use std::collections::BTreeMap;

use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{Object, Value};
use crate::engine::model::{
    AttributeChange, Attributes, ConnectorName, Contribution, CsObject, MvId, MvObject, Operation,
};
use crate::engine::rules::{
    Connector, Direction, FlowError, LinkType, MergeType, MvObjectType, PreviewEnv, Resolved,
    RuleSet, text_form,
};

/// Finds metaverse objects for join rules (the store answers from its value index).
pub trait MetaverseLookup {
    /// Metaverse objects of `mv_type` whose `attribute` holds `value`.
    fn find(
        &self,
        mv_type: MvObjectType,
        attribute: &AttributeName,
        value: &Value,
        case_sensitive: bool,
    ) -> Vec<MvId>;
}

/// What happens to the link of a connector-space object.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkDecision {
    /// It stays as it is (joined to its metaverse object, or a disconnector).
    Keep,
    /// Join it to an existing metaverse object.
    Join {
        /// The metaverse object.
        mv: MvId,
        /// The rule whose join group matched.
        rule: String,
    },
    /// Create a metaverse object for it.
    Project {
        /// The new object's type.
        mv_type: MvObjectType,
        /// The provisioning rule.
        rule: String,
    },
    /// Unlink it from its metaverse object (no in-scope rule links it any more).
    Disconnect,
}

/// One rule's contribution to one metaverse attribute, with what is needed to rank it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flowed {
    /// The result: a value, NULL, `AuthoritativeNull` or `IgnoreThisFlow`.
    pub value: Value,
    /// The rule (shared by every flow of the rule: one allocation per rule and object).
    pub rule: std::sync::Arc<str>,
    /// Its precedence.
    pub precedence: u32,
    /// How it merges.
    pub merge: MergeType,
}

/// The inbound plan for one connector-space object.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundPlan {
    /// What happens to its link.
    pub link: LinkDecision,
    /// The metaverse type it is linked as (for projection and attribute checks).
    pub mv_type: Option<MvObjectType>,
    /// Every contribution of every in-scope rule, by metaverse attribute, highest precedence
    /// first; except NULL flowing into an attribute that is not a reference (of any metaverse
    /// type): it cannot change what [`resolve_metaverse`] gives, and most flows of the default
    /// rules read attributes an object does not have.
    pub contributions: BTreeMap<AttributeName, Vec<Flowed>>,
    /// Flow failures: the object is not synchronized this time.
    pub errors: Vec<FlowError>,
    /// A join that could not be decided (several rules with join groups in scope).
    pub join_error: Option<String>,
}

/// Plan the inbound synchronization of `cs`, a connector-space object of `object_class`
/// (`linked`: whether it is joined now).
pub fn plan_inbound(
    rules: &RuleSet,
    connector: &Connector<'_>,
    cs: &dyn Object,
    object_class: &str,
    linked: bool,
    env: &PreviewEnv<'_>,
    lookup: &dyn MetaverseLookup,
) -> InboundPlan {
    let plan = rules.plan(Direction::Inbound, connector, object_class);
    // Every contribution in arrival order, chained per target slot (most targets get nothing:
    // no list per target is made until the end). `first`/`last`: per slot, the first and last
    // contribution; the `usize` of each: the next one of its slot (`NONE`: none).
    const NONE: usize = usize::MAX;
    let mut flowed: Vec<(Option<Flowed>, usize)> = Vec::with_capacity(64);
    let mut first = vec![NONE; plan.targets.len()];
    let mut last = vec![NONE; plan.targets.len()];
    let mut errors = Vec::new();
    let mut in_scope = Vec::new();
    let present = plan.presence(cs);
    for (planned, rule) in plan.rules(rules.rules()) {
        let scoped = rule.each_result(planned, present.as_deref(), cs, env, |pf, flow, result| {
            match result {
                // A NULL cannot change a resolved value; only a reference attribute needs to
                // see it.
                Ok(Value::Null) if !plan.references.get(pf.slot).copied().unwrap_or(true) => {}
                Ok(value) => {
                    if let (Some(head), Some(tail)) =
                        (first.get_mut(pf.slot), last.get_mut(pf.slot))
                    {
                        let at = flowed.len();
                        flowed.push((
                            Some(Flowed {
                                value,
                                rule: planned.name.clone(),
                                precedence: rule.precedence,
                                merge: flow.merge,
                            }),
                            NONE,
                        ));
                        match flowed.get_mut(*tail) {
                            Some((_, next)) => *next = at,
                            None => *head = at,
                        }
                        *tail = at;
                    }
                }
                Err(error) => errors.push(FlowError {
                    rule: rule.name.clone(),
                    target: flow.target.clone(),
                    error,
                }),
            }
        });
        if scoped {
            in_scope.push(rule);
        }
    }
    let linking: Vec<_> = in_scope.iter().copied().filter(|r| r.links()).collect();
    let mv_type = linking.first().and_then(|r| r.mv_object_type());
    let mut join_error = None;
    let link = if linked {
        if linking.is_empty() {
            LinkDecision::Disconnect
        } else {
            LinkDecision::Keep
        }
    } else {
        let joiners: Vec<_> = linking
            .iter()
            .copied()
            .filter(|r| !r.join.is_empty())
            .collect();
        if joiners.len() > 1 {
            let names: Vec<&str> = joiners.iter().map(|r| r.name.as_str()).collect();
            join_error = Some(format!(
                "more than one rule with join conditions has this object in scope ({}); only one may, so it was not joined",
                names.join(", ")
            ));
            LinkDecision::Keep
        } else {
            let mut decision = LinkDecision::Keep;
            let mut any_join_value = false;
            if let Some(rule) = joiners.first() {
                let ty = rule.mv_object_type();
                'groups: for group in &rule.join {
                    let mut matches: Option<Vec<MvId>> = None;
                    for cond in group {
                        let Some(values) = cs.attr_values(&cond.source) else {
                            continue 'groups;
                        };
                        any_join_value = true;
                        let Some(ty) = ty else { continue 'groups };
                        let mut found: Vec<MvId> = Vec::new();
                        for v in values.iter().flat_map(Value::values) {
                            found.extend(lookup.find(ty, &cond.target, v, cond.case_sensitive));
                        }
                        found.sort();
                        found.dedup();
                        matches = Some(match matches {
                            None => found,
                            Some(prev) => prev.into_iter().filter(|m| found.contains(m)).collect(),
                        });
                    }
                    if let Some([one]) = matches.as_deref() {
                        decision = LinkDecision::Join {
                            mv: *one,
                            rule: rule.name.clone(),
                        };
                        break;
                    }
                }
            }
            if decision == LinkDecision::Keep {
                let provisioner = linking.iter().find(|r| r.link_type == LinkType::Provision);
                let needs_value = joiners.first().is_some_and(|r| !r.join.is_empty());
                if let Some(p) = provisioner
                    && let (Some(t), true) = (p.mv_object_type(), any_join_value || !needs_value)
                {
                    decision = LinkDecision::Project {
                        mv_type: t,
                        rule: p.name.clone(),
                    };
                }
            }
            decision
        }
    };
    // Slots order as their names do: the lists come in name order and the map is built in one
    // pass.
    let mut lists = Vec::with_capacity(flowed.len());
    for (target, head) in plan.targets.iter().zip(first) {
        let mut list = Vec::new();
        let mut at = head;
        while let Some((f, next)) = flowed.get_mut(at) {
            list.extend(f.take());
            at = *next;
        }
        if !list.is_empty() {
            // A stable sort: equal precedences keep their rule order.
            list.sort_by_key(|f| f.precedence);
            lists.push((target.clone(), list));
        }
    }
    let contributions = lists.into_iter().collect();
    InboundPlan {
        link,
        mv_type,
        contributions,
        errors,
        join_error,
    }
}

/// Resolve a metaverse object's attributes from the contributions of every object joined to it.
///
/// `joined`: for each joined connector-space object, its connector and its plan's contributions.
/// `existing`: the metaverse object's current attributes (for `IgnoreThisFlow`).
pub fn resolve_metaverse(
    joined: &[(ConnectorName, &BTreeMap<AttributeName, Vec<Flowed>>)],
    existing: &BTreeMap<AttributeName, Contribution>,
) -> BTreeMap<AttributeName, Contribution> {
    if let [(connector, contributions)] = joined {
        // One joined object (the common case): its lists, in name order, are the candidates.
        let mut sorted = Vec::new();
        return contributions
            .iter()
            .filter_map(|(attr, flows)| {
                let resolved = if flows.is_sorted_by_key(|f| f.precedence) {
                    resolve_attribute(attr, flows.iter().map(|f| (connector, f)), existing)
                } else {
                    sorted.clear();
                    sorted.extend(flows.iter());
                    sorted.sort_by_key(|f| f.precedence);
                    resolve_attribute(attr, sorted.iter().map(|f| (connector, *f)), existing)
                };
                resolved.map(|c| (attr.clone(), c))
            })
            .collect();
    }
    let mut all: BTreeMap<&AttributeName, Vec<(&ConnectorName, &Flowed)>> = BTreeMap::new();
    for (connector, contributions) in joined {
        for (attr, flows) in contributions.iter() {
            all.entry(attr)
                .or_default()
                .extend(flows.iter().map(|f| (connector, f)));
        }
    }
    all.into_iter()
        .filter_map(|(attr, mut flows)| {
            flows.sort_by_key(|(_, f)| f.precedence);
            resolve_attribute(attr, flows.into_iter(), existing).map(|c| (attr.clone(), c))
        })
        .collect()
}

/// The resolved value of `attr` from its contributions, highest precedence first.
fn resolve_attribute<'f>(
    attr: &AttributeName,
    flows: impl Iterator<Item = (&'f ConnectorName, &'f Flowed)>,
    existing: &BTreeMap<AttributeName, Contribution>,
) -> Option<Contribution> {
    let mut result: Option<Contribution> = None;
    let mut keep_existing = false;
    for (connector, f) in flows {
        match (&f.value, &mut result) {
            (Value::IgnoreThisFlow, None) => keep_existing = true,
            (Value::IgnoreThisFlow, Some(_)) => {}
            (Value::AuthoritativeNull, None) => break,
            (Value::Null, _) | (Value::AuthoritativeNull, Some(_)) => {}
            (v, None) => {
                if keep_existing {
                    break;
                }
                result = Some(Contribution {
                    values: singles(v),
                    rule: f.rule.clone(),
                    connector: connector.clone(),
                });
            }
            (v, Some(current)) if f.merge.is_union() => {
                let ignore_case = f.merge == MergeType::MergeCaseInsensitive;
                for value in singles(v) {
                    let key = |x: &Value| {
                        let t = text_form(x).unwrap_or_default();
                        if ignore_case { t.to_lowercase() } else { t }
                    };
                    if !current.values.iter().any(|c| key(c) == key(&value)) {
                        current.values.push(value);
                    }
                }
            }
            _ => {}
        }
    }
    match result {
        Some(c) => Some(c),
        None if keep_existing => existing.get(attr).cloned(),
        None => None,
    }
}

fn singles(v: &Value) -> Vec<Value> {
    v.values().to_vec()
}

/// [`singles`] of a value that is no longer needed (no copies).
fn into_singles(v: Value) -> Vec<Value> {
    match v {
        Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => Vec::new(),
        Value::Multi(values) => values,
        one => vec![one],
    }
}

/// What an outbound plan does to the target connector's object.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboundPlan {
    /// Nothing: out of scope and not linked, or linked and nothing changed.
    Nothing,
    /// Create the object.
    Provision {
        /// Its object class in the target.
        object_class: String,
        /// Its DN in the target connector space.
        dn: Dn,
        /// Its attributes.
        attributes: Attributes,
        /// The provisioning rule.
        rule: String,
    },
    /// Change the linked object.
    Update {
        /// The changes.
        changes: Vec<AttributeChange>,
    },
    /// Delete the linked object: no in-scope rule links it any more.
    Deprovision,
    /// A flow failed: nothing is exported for this object this time.
    Failed {
        /// The failures.
        errors: Vec<FlowError>,
    },
}

/// Plan what `mv` needs in the target `connector`, whose linked object (if any) is `existing`.
pub fn plan_outbound(
    rules: &RuleSet,
    connector: &Connector<'_>,
    mv: &MvObject,
    existing: Option<&CsObject>,
    env: &PreviewEnv<'_>,
) -> OutboundPlan {
    let applied = rules.apply(
        mv,
        mv.object_type.as_str(),
        Direction::Outbound,
        connector,
        env,
        false,
    );
    if !applied.errors.is_empty() {
        return OutboundPlan::Failed {
            errors: applied.errors,
        };
    }
    // Every attribute some in-scope flow writes (when the object is connected), in name order.
    let mut written: Vec<&AttributeName> = Vec::with_capacity(applied.plan.targets.len());
    let mut desired = Attributes::new();
    let mut unchanged: Vec<&AttributeName> = Vec::new();
    if applied.connected {
        let mut values = Vec::with_capacity(applied.plan.targets.len());
        for (attr, slot) in applied.plan.targets.iter().zip(applied.slots) {
            let Some(slot) = slot else { continue };
            written.push(attr);
            match slot.outcome {
                Resolved::Value { value, .. } => values.push((attr.clone(), into_singles(value))),
                Resolved::Unchanged => unchanged.push(attr),
                Resolved::Null | Resolved::Cleared { .. } | Resolved::Error { .. } => {}
            }
        }
        // In name order: the map is built in one pass.
        desired = values.into_iter().collect();
    }
    match (applied.connected, existing) {
        (false, None) => OutboundPlan::Nothing,
        (false, Some(_)) => OutboundPlan::Deprovision,
        (true, None) => {
            let Some(rule) = applied
                .plan
                .rules(rules.rules())
                .zip(&applied.in_scope)
                .find(|((_, r), in_scope)| **in_scope && r.link_type == LinkType::Provision)
                .map(|((_, r), _)| r)
            else {
                return OutboundPlan::Nothing;
            };
            let object_class = rule.target_object_type.clone();
            let dn = desired
                .get(&AttributeName::known("dn"))
                .and_then(|v| v.first())
                .and_then(|v| Dn::parse(&v.to_string()).ok())
                .or_else(|| provisional_dn(mv.id))
                .unwrap_or_else(Dn::root);
            desired.remove(&AttributeName::known("dn"));
            OutboundPlan::Provision {
                object_class,
                dn,
                attributes: desired,
                rule: rule.name.clone(),
            }
        }
        (true, Some(cs)) => {
            let mut changes = Vec::new();
            for (attr, new) in &desired {
                if attr.eq_ignore_case("dn") {
                    continue;
                }
                let old = cs.attributes.get(attr).cloned().unwrap_or_default();
                if !same_values(&old, new) {
                    changes.push(AttributeChange {
                        attribute: attr.clone(),
                        old,
                        new: new.clone(),
                        kind: crate::engine::model::ChangeKind::Replace,
                    });
                }
            }
            for attr in written {
                let cleared = !desired.contains_key(attr) && !unchanged.contains(&attr);
                if cleared && let Some(old) = cs.attributes.get(attr) {
                    changes.push(AttributeChange {
                        attribute: attr.clone(),
                        old: old.clone(),
                        new: Vec::new(),
                        kind: crate::engine::model::ChangeKind::Replace,
                    });
                }
            }
            if changes.is_empty() {
                OutboundPlan::Nothing
            } else {
                OutboundPlan::Update { changes }
            }
        }
    }
}

/// Whether two value lists hold the same values, ignoring order (multi-valued attributes are
/// sets in a directory).
fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// The operation a plan becomes in the pending-export queue.
pub fn operation(plan: &OutboundPlan) -> Option<Operation> {
    match plan {
        OutboundPlan::Provision { .. } => Some(Operation::Add),
        OutboundPlan::Update { .. } => Some(Operation::Update),
        OutboundPlan::Deprovision => Some(Operation::Delete),
        OutboundPlan::Nothing | OutboundPlan::Failed { .. } => None,
    }
}

/// The DN an object provisioned to a target without a DN rule carries until the target names
/// it (Graph: `CN=<object id>` after the confirming import): `CN=<metaverse id>`.
pub fn provisional_dn(mv: MvId) -> Option<Dn> {
    Dn::parse(&format!("CN={}", mv.0)).ok()
}

/// The metaverse id a [`provisional_dn`] names; `None` for any other DN.
pub fn provisional_mv(dn: &Dn) -> Option<MvId> {
    let text = dn.to_string();
    let id = text
        .strip_prefix("CN=")
        .or_else(|| text.strip_prefix("cn="))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().map(MvId)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn provisional_dns_name_their_metaverse_object_and_nothing_else_does() {
        let dn = provisional_dn(MvId(71)).unwrap();
        assert_eq!(dn.to_string(), "CN=71");
        assert_eq!(provisional_mv(&dn), Some(MvId(71)));
        assert_eq!(provisional_mv(&Dn::parse("cn=9").unwrap()), Some(MvId(9)));
        for other in [
            "CN=71,DC=corp,DC=example",
            "CN=7a",
            "OU=71",
            "CN=4f2c9b1e-0b7e-4a43-9d7e-5e1f7e3c2a10",
        ] {
            assert_eq!(provisional_mv(&Dn::parse(other).unwrap()), None, "{other}");
        }
    }
}
