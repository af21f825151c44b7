//! Rule sets compiled for evaluation: for one direction, connector and source object type, the
//! enabled rules that apply (in precedence order) and every attribute their flows write,
//! numbered, so evaluating an object indexes slots instead of searching rules and attribute maps
//! by name; and for each flow the attributes it reads and, when that is fixed, its result for an
//! object that has none of them (most flows of the default rules read attributes most objects
//! lack: `Trim([otherPager])`), so such flows are not evaluated at all.
//!
//! Invariants: a [`Plan`] holds exactly the rules `RuleSet::enabled` gives for its key, in the
//! same order; `targets` and `sources` are sorted by [`AttributeName`] order and hold each name
//! once, so a slot's index orders as its name does; a flow's `when_absent` is exactly what
//! evaluating it gives for an object without the attributes it reads (it is computed that way,
//! and only for flows that read nothing else: see `Expr::reads_only_attributes`); plans are
//! built on first use and cached in the rule set (a rule set never changes once shared; the one
//! method that changes it empties the cache).

use std::sync::{Arc, Mutex};

use super::model::{Connector, ConnectorKind, Direction, FlowKind, MvObjectType, Rule};
use super::schema::{self, AttrType};
use crate::domain::AttributeName;
use crate::engine::expr::{DateTime, EvalContext, EvalError, MemoryObject, Object, Params, Value};

/// One enabled rule of a [`Plan`].
#[derive(Debug)]
pub(crate) struct PlannedRule {
    /// Its position in the rule set.
    pub(crate) index: usize,
    /// Its name, shared by everything that records it per object.
    pub(crate) name: Arc<str>,
    /// Its flows, in rule order.
    pub(crate) flows: Vec<PlannedFlow>,
}

/// One flow of a [`PlannedRule`].
#[derive(Debug)]
pub(crate) struct PlannedFlow {
    /// The slot of its target in [`Plan::targets`].
    pub(crate) slot: usize,
    /// The positions in [`Plan::sources`] of the attributes it reads.
    reads: Vec<usize>,
    /// Its result for an object without any of those attributes, when that is fixed.
    when_absent: Option<Result<Value, EvalError>>,
}

impl PlannedFlow {
    /// The flow's result without evaluating it, when the object has none of the attributes it
    /// reads (`present`: [`Plan::presence`]) and that result is fixed.
    pub(crate) fn known(&self, present: Option<&[bool]>) -> Option<Result<Value, EvalError>> {
        let (result, present) = (self.when_absent.as_ref()?, present?);
        self.reads
            .iter()
            .all(|i| !present.get(*i).copied().unwrap_or(true))
            .then(|| result.clone())
    }
}

/// The rules of one direction, connector and source object type, compiled.
#[derive(Debug)]
pub(crate) struct Plan {
    direction: Direction,
    kind: ConnectorKind,
    connector: String,
    object_type: String,
    /// The rules, in precedence order.
    pub(crate) rules: Vec<PlannedRule>,
    /// Every attribute the rules' flows write, sorted, once each.
    pub(crate) targets: Vec<AttributeName>,
    /// Every attribute the rules' flows read, sorted, once each.
    sources: Vec<AttributeName>,
    /// How many flows have a result for objects without their attributes.
    known_flows: usize,
    /// For each target, whether it is a reference attribute of some metaverse object type (a
    /// NULL flowing into one still tells the sync stage something: see `engine::sync`).
    pub(crate) references: Vec<bool>,
}

impl Plan {
    /// Compiles the enabled rules of `rules` for this key.
    pub(crate) fn build(
        rules: &[Rule],
        direction: Direction,
        connector: &Connector<'_>,
        object_type: &str,
    ) -> Plan {
        let chosen: Vec<(usize, &Rule)> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !r.disabled
                    && r.direction == direction
                    && r.connector.matches(connector)
                    && r.source_object_type.eq_ignore_ascii_case(object_type)
            })
            .collect();
        let mut targets: Vec<AttributeName> = chosen
            .iter()
            .flat_map(|(_, r)| r.flows.iter().map(|f| f.target.clone()))
            .collect();
        targets.sort();
        targets.dedup();
        let mut sources: Vec<AttributeName> = chosen
            .iter()
            .flat_map(|(_, r)| r.flows.iter().flat_map(|f| reads(&f.kind)))
            .collect();
        sources.sort();
        sources.dedup();
        // Every name is in its list: the searches always find it.
        let position = |list: &[AttributeName], name: &AttributeName| {
            list.binary_search(name).unwrap_or_default()
        };
        let planned: Vec<PlannedRule> = chosen
            .iter()
            .map(|(index, rule)| PlannedRule {
                index: *index,
                name: Arc::from(rule.name.as_str()),
                flows: rule
                    .flows
                    .iter()
                    .map(|f| PlannedFlow {
                        slot: position(&targets, &f.target),
                        reads: reads(&f.kind)
                            .iter()
                            .map(|a| position(&sources, a))
                            .collect(),
                        when_absent: when_absent(&f.kind),
                    })
                    .collect(),
            })
            .collect();
        let references = targets
            .iter()
            .map(|t| {
                MvObjectType::ALL.iter().any(|ty| {
                    schema::mv_attribute(*ty, t.as_str()).is_some_and(|a| a.ty == AttrType::Ref)
                })
            })
            .collect();
        let known_flows = planned
            .iter()
            .flat_map(|r| &r.flows)
            .filter(|f| f.when_absent.is_some())
            .count();
        Plan {
            known_flows,
            sources,
            references,
            direction,
            kind: connector.kind,
            connector: connector.name.to_string(),
            object_type: object_type.to_string(),
            rules: planned,
            targets,
        }
    }

    fn is_for(&self, direction: Direction, connector: &Connector<'_>, object_type: &str) -> bool {
        self.direction == direction
            && self.kind == connector.kind
            && self.connector.eq_ignore_ascii_case(connector.name)
            && self.object_type.eq_ignore_ascii_case(object_type)
    }

    /// Which of [`Plan::sources`] `obj` has values for; `None` when it cannot list its
    /// attributes (then every flow is evaluated).
    pub(crate) fn presence(&self, obj: &dyn Object) -> Option<Vec<bool>> {
        if self.known_flows < MIN_KNOWN_FLOWS {
            return None;
        }
        let mut present = vec![false; self.sources.len()];
        // Objects usually list their names in order, as `sources` holds them: each name is then
        // found by walking on from the previous one. `next`: every source before it orders
        // before the names listed so far.
        let mut next: usize = 0;
        let listed = obj.list_attributes(&mut |name| {
            let passed = next
                .checked_sub(1)
                .and_then(|i| self.sources.get(i))
                .is_some_and(|before| before >= name);
            let found = if passed {
                // Out of order: searched.
                self.sources.binary_search(name).ok()
            } else {
                while self.sources.get(next).is_some_and(|s| s < name) {
                    next += 1;
                }
                (self.sources.get(next) == Some(name)).then_some(next)
            };
            if let Some(p) = found.and_then(|i| present.get_mut(i)) {
                *p = true;
            }
        });
        listed.then_some(present)
    }

    /// The planned rules with the rules themselves.
    pub(crate) fn rules<'r>(
        &'r self,
        all: &'r [Rule],
    ) -> impl Iterator<Item = (&'r PlannedRule, &'r Rule)> + 'r {
        self.rules
            .iter()
            .filter_map(move |p| all.get(p.index).map(|r| (p, r)))
    }
}

/// The attributes a flow reads.
fn reads(kind: &FlowKind) -> Vec<AttributeName> {
    match kind {
        FlowKind::Direct(source) => vec![source.clone()],
        FlowKind::Constant(_) => Vec::new(),
        FlowKind::Expression(e) => e.attributes(),
    }
}

/// A flow's result for an object without the attributes it reads, when nothing else (the DN,
/// parameters, the clock) can change it: computed by evaluating it on an empty object.
fn when_absent(kind: &FlowKind) -> Option<Result<Value, EvalError>> {
    let is_dn = |a: &AttributeName| a.is_dn();
    match kind {
        FlowKind::Direct(source) if is_dn(source) => None,
        FlowKind::Direct(_) => Some(Ok(Value::Null)),
        FlowKind::Constant(_) => None,
        FlowKind::Expression(e) if e.reads_only_attributes() => {
            let empty = MemoryObject::new(None);
            let params = Params::new();
            Some(e.evaluate(&EvalContext {
                object: &empty,
                params: &params,
                now: DateTime::now(),
            }))
        }
        FlowKind::Expression(_) => None,
    }
}

/// Listing an object's attributes costs about as much as looking up a few dozen: below this
/// many flows with a known result (the outbound rules, ~50 flows for objects of ~40 attributes)
/// every flow is simply evaluated. The inbound user rules have about 200.
const MIN_KNOWN_FLOWS: usize = 64;

/// How many plans a rule set keeps: more keys than this (object classes no rule reads, in
/// great variety) are compiled each time instead of cached.
const MAX_CACHED: usize = 256;

/// The plans of one rule set, built on first use.
#[derive(Default)]
pub(crate) struct Plans(Mutex<Vec<Arc<Plan>>>);

impl Plans {
    /// The plan for this key, from the cache or compiled now.
    pub(crate) fn get(
        &self,
        rules: &[Rule],
        direction: Direction,
        connector: &Connector<'_>,
        object_type: &str,
    ) -> Arc<Plan> {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = cache
            .iter()
            .find(|p| p.is_for(direction, connector, object_type))
        {
            return p.clone();
        }
        let plan = Arc::new(Plan::build(rules, direction, connector, object_type));
        if cache.len() < MAX_CACHED {
            cache.push(plan.clone());
        }
        plan
    }
}

impl Clone for Plans {
    /// A copy starts with no plans (the copy may change before it is used).
    fn clone(&self) -> Self {
        Plans::default()
    }
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plans")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rules::RuleSet;

    const AD: Connector<'static> = Connector {
        kind: ConnectorKind::Ad,
        name: "contoso.example",
    };

    #[test]
    fn a_plan_holds_the_enabled_rules_of_its_key_in_order_and_each_target_once() {
        let set = RuleSet::builtin().unwrap();
        let plan = set.plan(Direction::Inbound, &AD, "USER");
        let expected: Vec<&str> = set
            .enabled()
            .filter(|r| {
                r.direction == Direction::Inbound
                    && r.connector.matches(&AD)
                    && r.source_object_type.eq_ignore_ascii_case("user")
            })
            .map(|r| r.name.as_str())
            .collect();
        let got: Vec<&str> = plan
            .rules(set.rules())
            .map(|(_, r)| r.name.as_str())
            .collect();
        assert_eq!(got, expected);
        assert!(plan.targets.windows(2).all(|w| w[0] < w[1]));
        for (planned, rule) in plan.rules(set.rules()) {
            for (pf, flow) in planned.flows.iter().zip(&rule.flows) {
                assert_eq!(plan.targets[pf.slot], flow.target);
            }
        }
        // Cached: the same plan again, whatever the spelling of the key.
        let again = set.plan(Direction::Inbound, &AD, "user");
        assert!(Arc::ptr_eq(&plan, &again));
    }

    #[test]
    fn the_absent_attribute_shortcut_is_used_where_it_pays() {
        let set = RuleSet::builtin().unwrap();
        let users = set.plan(Direction::Inbound, &AD, "user");
        assert!(
            users.known_flows >= MIN_KNOWN_FLOWS,
            "{}",
            users.known_flows
        );
        let entra = Connector {
            kind: ConnectorKind::Entra,
            name: "tenant",
        };
        let persons = set.plan(Direction::Outbound, &entra, "person");
        assert!(
            persons.known_flows < MIN_KNOWN_FLOWS,
            "{}",
            persons.known_flows
        );
        let empty = MemoryObject::new(None);
        assert!(users.presence(&empty).is_some());
        assert!(persons.presence(&empty).is_none());
    }

    /// A [`MemoryObject`] that lists its attribute names in reverse order, and one more name
    /// (unknown to the rules) first.
    struct Reversed(MemoryObject);

    impl Object for Reversed {
        fn get(&self, name: &str) -> Option<Value> {
            self.0.get(name)
        }

        fn list_attributes(&self, f: &mut dyn FnMut(&AttributeName)) -> bool {
            f(&AttributeName::new("zzNotRead").unwrap());
            for name in self.0.attributes.keys().rev() {
                f(name);
            }
            true
        }

        fn dn(&self) -> Option<String> {
            self.0.dn()
        }
    }

    #[test]
    fn presence_finds_every_listed_source_in_any_order() {
        let set = RuleSet::builtin().unwrap();
        let users = set.plan(Direction::Inbound, &AD, "user");
        let mut o = MemoryObject::new(Some("CN=Ann,DC=contoso,DC=example"));
        // Every other source the rules read, a name they do not read, and names in mixed case.
        for (i, name) in users.sources.iter().enumerate() {
            if i % 2 == 0 {
                o.add(&name.as_str().to_ascii_uppercase(), Value::Str("x".into()));
            }
        }
        o.add("aaNotRead", Value::Num(1));
        let expected: Vec<bool> = (0..users.sources.len()).map(|i| i % 2 == 0).collect();
        assert_eq!(users.presence(&o), Some(expected.clone()));
        assert_eq!(users.presence(&Reversed(o)), Some(expected));
    }
}
