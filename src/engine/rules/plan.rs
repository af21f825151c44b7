//! Rule sets compiled for evaluation: for one direction, connector and source object type, the
//! enabled rules that apply (in precedence order) and every attribute their flows write,
//! numbered, so evaluating an object indexes slots instead of searching rules and attribute maps
//! by name.
//!
//! Invariants: a [`Plan`] holds exactly the rules `RuleSet::enabled` gives for its key, in the
//! same order; `targets` is sorted by [`AttributeName`] order and holds each target once, so a
//! slot's index orders as its name does; plans are built on first use and cached in the rule set
//! (a rule set never changes once shared; the one method that changes it empties the cache).

use std::sync::{Arc, Mutex};

use super::model::{Connector, ConnectorKind, Direction, MvObjectType, Rule};
use super::schema::{self, AttrType};
use crate::domain::AttributeName;

/// One enabled rule of a [`Plan`].
#[derive(Debug)]
pub(crate) struct PlannedRule {
    /// Its position in the rule set.
    pub(crate) index: usize,
    /// Its name, shared by everything that records it per object.
    pub(crate) name: Arc<str>,
    /// For each flow, in rule order, the slot of its target in [`Plan::targets`].
    pub(crate) slots: Vec<usize>,
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
        let planned = chosen
            .iter()
            .map(|(index, rule)| PlannedRule {
                index: *index,
                name: Arc::from(rule.name.as_str()),
                slots: rule
                    .flows
                    .iter()
                    // Every target is in the list: the search always finds it.
                    .map(|f| targets.binary_search(&f.target).unwrap_or_default())
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
        Plan {
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
