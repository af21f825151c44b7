//! Applying rules to one object, as the Rules Editor preview and `hybridsync rules test` show it:
//! which rules have the object in scope, what each flow computes, and the resulting attribute
//! values after precedence.
//!
//! Invariants: evaluation never panics and never stops at a failing flow: every flow of every
//! in-scope rule is evaluated and every failure is reported (as Entra Connect does, one `Error()`
//! fails the whole object). Precedence follows the documented model: for each target attribute
//! the highest-precedence rule (lowest number) whose flow gives a value wins; NULL lets lower
//! rules contribute; `AuthoritativeNull` clears the attribute and stops lower rules;
//! `IgnoreThisFlow` acts as if the flow did not exist; `merge` / `merge-case-insensitive` flows
//! unite their multi-values. An object that no in-scope rule joins or provisions stays a
//! disconnector, and nothing flows.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::{Connector, Direction, Flow, FlowKind, MergeType, Rule};
use super::plan::{Plan, PlannedFlow, PlannedRule};
use super::scope::text_form;
use super::set::RuleSet;
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{DateTime, EvalContext, EvalError, Object, Params, Value};

/// What one rule does to one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Whether the rule's scoping filter has the object in scope.
    pub in_scope: bool,
    /// Each flow's result, in rule order; empty when out of scope.
    pub flows: Vec<FlowResult>,
}

/// One flow's result.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowResult {
    /// The attribute the flow writes.
    pub target: AttributeName,
    /// The value, or why the expression failed.
    pub result: Result<Value, EvalError>,
}

/// The environment flows evaluate in.
pub struct PreviewEnv<'a> {
    /// Connector parameters (`%Domain.FQDN%`, ...).
    pub params: &'a Params,
    /// The time `Now()` returns.
    pub now: DateTime,
    /// Answers `ISMEMBEROF`: is the object a member of this group?
    pub is_member_of: &'a dyn Fn(&Dn) -> bool,
    /// Direct flows from these source attributes are not evaluated and contribute
    /// `IgnoreThisFlow` (the engine applies a large membership's value changes itself instead of
    /// re-reading every value). `None`: every flow is evaluated.
    pub skip_direct: Option<&'a dyn Fn(&AttributeName) -> bool>,
}

impl Rule {
    /// Evaluates the rule on `obj`: scope, then every flow (none when out of scope).
    pub fn preview(
        &self,
        obj: &dyn Object,
        params: &Params,
        now: DateTime,
        is_member_of: &dyn Fn(&Dn) -> bool,
    ) -> Preview {
        let ctx = EvalContext {
            object: obj,
            params,
            now,
        };
        self.preview_in(&ctx, is_member_of, None)
    }

    /// [`Rule::preview`] in an environment (honouring [`PreviewEnv::skip_direct`]).
    pub fn preview_with(&self, obj: &dyn Object, env: &PreviewEnv<'_>) -> Preview {
        let ctx = EvalContext {
            object: obj,
            params: env.params,
            now: env.now,
        };
        self.preview_in(&ctx, env.is_member_of, env.skip_direct)
    }

    fn preview_in(
        &self,
        ctx: &EvalContext<'_>,
        is_member_of: &dyn Fn(&Dn) -> bool,
        skip_direct: Option<&dyn Fn(&AttributeName) -> bool>,
    ) -> Preview {
        match self.results_in(ctx, is_member_of, skip_direct) {
            None => Preview {
                in_scope: false,
                flows: Vec::new(),
            },
            Some(results) => Preview {
                in_scope: true,
                flows: self
                    .flows
                    .iter()
                    .zip(results)
                    .map(|(flow, result)| FlowResult {
                        target: flow.target.clone(),
                        result,
                    })
                    .collect(),
            },
        }
    }

    /// [`Rule::preview_with`] for the sync stage, without building a preview: hands each flow
    /// (with its compiled form, `planned` being this rule in a [`Plan`]) and its result to `f`,
    /// in rule order; `false` (and no call) when out of scope. `present`: which of the plan's
    /// sources the object has ([`Plan::presence`]), to skip flows whose result is known.
    pub(crate) fn each_result(
        &self,
        planned: &PlannedRule,
        present: Option<&[bool]>,
        obj: &dyn Object,
        env: &PreviewEnv<'_>,
        mut f: impl FnMut(&PlannedFlow, &Flow, Result<Value, EvalError>),
    ) -> bool {
        let ctx = EvalContext {
            object: obj,
            params: env.params,
            now: env.now,
        };
        if !self.scope.matches(ctx.object, env.is_member_of) {
            return false;
        }
        for (flow, pf) in self.flows.iter().zip(&planned.flows) {
            f(
                pf,
                flow,
                planned_result(flow, pf, present, &ctx, env.skip_direct),
            );
        }
        true
    }

    fn results_in(
        &self,
        ctx: &EvalContext<'_>,
        is_member_of: &dyn Fn(&Dn) -> bool,
        skip_direct: Option<&dyn Fn(&AttributeName) -> bool>,
    ) -> Option<Vec<Result<Value, EvalError>>> {
        if !self.scope.matches(ctx.object, is_member_of) {
            return None;
        }
        Some(
            self.flows
                .iter()
                .map(|flow| flow_result(flow, ctx, skip_direct))
                .collect(),
        )
    }
}

/// [`flow_result`], or the result its compiled form `pf` knows without evaluating it.
fn planned_result(
    flow: &Flow,
    pf: &PlannedFlow,
    present: Option<&[bool]>,
    ctx: &EvalContext<'_>,
    skip_direct: Option<&dyn Fn(&AttributeName) -> bool>,
) -> Result<Value, EvalError> {
    if let FlowKind::Direct(source) = &flow.kind
        && skip_direct.is_some_and(|skip| skip(source))
    {
        return Ok(Value::IgnoreThisFlow);
    }
    match pf.known(present) {
        Some(known) => known,
        None => flow_result(flow, ctx, skip_direct),
    }
}

/// What one flow computes for the object of `ctx`.
fn flow_result(
    flow: &Flow,
    ctx: &EvalContext<'_>,
    skip_direct: Option<&dyn Fn(&AttributeName) -> bool>,
) -> Result<Value, EvalError> {
    match &flow.kind {
        FlowKind::Direct(source) if skip_direct.is_some_and(|skip| skip(source)) => {
            Ok(Value::IgnoreThisFlow)
        }
        FlowKind::Direct(source) => Ok(ctx.object.get_attr(source).unwrap_or(Value::Null)),
        FlowKind::Constant(value) => Ok(value.clone()),
        FlowKind::Expression(expr) => expr.evaluate(ctx),
    }
}

/// One rule's part in an object preview.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePreview {
    /// The rule's name.
    pub rule: String,
    /// Its precedence.
    pub precedence: u32,
    /// What it computed.
    pub preview: Preview,
}

/// The resulting value of one target attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A value, from the winning rule (several rules for merged multi-values).
    Value {
        /// The value.
        value: Value,
        /// The contributing rules, highest precedence first.
        rules: Vec<String>,
    },
    /// `AuthoritativeNull` from this rule: the attribute is cleared, lower rules are ignored.
    Cleared {
        /// The rule.
        rule: String,
    },
    /// Every flow gave NULL: no value (an existing value is removed).
    Null,
    /// Every flow gave `IgnoreThisFlow`: the attribute keeps whatever value it has.
    Unchanged,
    /// The flow that would have decided the value failed; the object cannot be synchronized.
    Error {
        /// The rule.
        rule: String,
        /// Why.
        error: EvalError,
    },
}

/// A flow that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowError {
    /// The rule.
    pub rule: String,
    /// The flow's target.
    pub target: AttributeName,
    /// Why it failed.
    pub error: EvalError,
}

/// The rule set applied to one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPreview {
    /// Every enabled rule for this object type, direction and connector, by precedence.
    pub rules: Vec<RulePreview>,
    /// Whether an in-scope rule joins or provisions the object; if not, it stays a
    /// disconnector and `attributes` is empty.
    pub connected: bool,
    /// The resulting value of each attribute some in-scope flow writes.
    pub attributes: BTreeMap<AttributeName, Outcome>,
    /// Every failing flow; any failure fails the object.
    pub errors: Vec<FlowError>,
}

impl ObjectPreview {
    /// The resulting value of `attribute`: the value, NULL when cleared or nothing contributed,
    /// `None` when unchanged, failed, or not written at all.
    pub fn value(&self, attribute: &str) -> Option<&Value> {
        const NULL: &Value = &Value::Null;
        let name = AttributeName::new(attribute).ok()?;
        match self.attributes.get(&name)? {
            Outcome::Value { value, .. } => Some(value),
            Outcome::Cleared { .. } | Outcome::Null => Some(NULL),
            Outcome::Unchanged | Outcome::Error { .. } => None,
        }
    }

    /// The rule whose value `attribute` got (the first, for merged values).
    pub fn winner(&self, attribute: &str) -> Option<&str> {
        let name = AttributeName::new(attribute).ok()?;
        match self.attributes.get(&name)? {
            Outcome::Value { rules, .. } => rules.first().map(String::as_str),
            Outcome::Cleared { rule } | Outcome::Error { rule, .. } => Some(rule),
            Outcome::Null | Outcome::Unchanged => None,
        }
    }
}

/// The resulting value of one target attribute while rules are applied in precedence order,
/// with rules named by their position in the [`Plan`] (names are looked up only for a preview).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    /// See [`Outcome::Value`]; `first` and then `more` contributed.
    Value {
        /// The value.
        value: Value,
        /// The winning rule.
        first: usize,
        /// Rules whose values were merged in, in precedence order (usually none).
        more: Vec<usize>,
    },
    /// See [`Outcome::Cleared`].
    Cleared {
        /// The rule.
        rule: usize,
    },
    /// See [`Outcome::Null`].
    Null,
    /// See [`Outcome::Unchanged`].
    Unchanged,
    /// See [`Outcome::Error`].
    Error {
        /// The rule.
        rule: usize,
        /// Why.
        error: EvalError,
    },
}

/// The state of one target attribute while rules are applied in precedence order.
pub(crate) struct Slot {
    /// Where it stands.
    pub(crate) outcome: Resolved,
    decided: bool,
    merge: MergeType,
}

/// A rule set applied to one object, as [`RuleSet::apply`] gives it: what the sync stage reads,
/// and what [`RuleSet::preview_object`] turns into an [`ObjectPreview`].
pub(crate) struct Applied {
    /// The compiled rules that were applied.
    pub(crate) plan: Arc<Plan>,
    /// For each rule of the plan, whether it has the object in scope.
    pub(crate) in_scope: Vec<bool>,
    /// For each rule of the plan, its flows' results (only when asked to keep them).
    pub(crate) kept: Vec<Vec<FlowResult>>,
    /// Whether an in-scope rule joins or provisions the object.
    pub(crate) connected: bool,
    /// For each target of the plan, its state; `None` when no in-scope flow writes it.
    pub(crate) slots: Vec<Option<Slot>>,
    /// Every failing flow.
    pub(crate) errors: Vec<FlowError>,
}

impl Applied {
    fn outcome(&self, resolved: &Resolved) -> Outcome {
        let name = |i: usize| {
            self.plan
                .rules
                .get(i)
                .map(|r| r.name.to_string())
                .unwrap_or_default()
        };
        match resolved {
            Resolved::Value { value, first, more } => Outcome::Value {
                value: value.clone(),
                rules: std::iter::once(*first)
                    .chain(more.iter().copied())
                    .map(name)
                    .collect(),
            },
            Resolved::Cleared { rule } => Outcome::Cleared { rule: name(*rule) },
            Resolved::Null => Outcome::Null,
            Resolved::Unchanged => Outcome::Unchanged,
            Resolved::Error { rule, error } => Outcome::Error {
                rule: name(*rule),
                error: error.clone(),
            },
        }
    }
}

impl RuleSet {
    /// Applies every enabled rule for `object_type` (the source object type: the connector
    /// object class inbound, the metaverse type outbound), `direction` and `connector` to `obj`,
    /// in precedence order, and resolves each target attribute the way the sync engine does.
    pub fn preview_object(
        &self,
        obj: &dyn Object,
        object_type: &str,
        direction: Direction,
        connector: &Connector<'_>,
        env: &PreviewEnv<'_>,
    ) -> ObjectPreview {
        self.apply_object(obj, object_type, direction, connector, env, true)
    }

    /// [`RuleSet::preview_object`]; without `keep_flows` each rule's preview says only whether
    /// it has the object in scope (its `flows` stay empty).
    pub(crate) fn apply_object(
        &self,
        obj: &dyn Object,
        object_type: &str,
        direction: Direction,
        connector: &Connector<'_>,
        env: &PreviewEnv<'_>,
        keep_flows: bool,
    ) -> ObjectPreview {
        let mut applied = self.apply(obj, object_type, direction, connector, env, keep_flows);
        let mut kept = std::mem::take(&mut applied.kept).into_iter();
        let rules = applied
            .plan
            .rules(self.rules())
            .zip(&applied.in_scope)
            .map(|((planned, rule), in_scope)| RulePreview {
                rule: planned.name.to_string(),
                precedence: rule.precedence,
                preview: Preview {
                    in_scope: *in_scope,
                    flows: kept.next().unwrap_or_default(),
                },
            })
            .collect();
        let attributes = if applied.connected {
            applied
                .plan
                .targets
                .iter()
                .zip(&applied.slots)
                .filter_map(|(name, slot)| {
                    slot.as_ref()
                        .map(|s| (name.clone(), applied.outcome(&s.outcome)))
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        ObjectPreview {
            rules,
            connected: applied.connected,
            attributes,
            errors: applied.errors,
        }
    }

    /// The work of [`RuleSet::apply_object`], with rules and attributes numbered as in the
    /// compiled [`Plan`]; `keep_flows`: keep every flow's result in [`Applied::kept`].
    pub(crate) fn apply(
        &self,
        obj: &dyn Object,
        object_type: &str,
        direction: Direction,
        connector: &Connector<'_>,
        env: &PreviewEnv<'_>,
        keep_flows: bool,
    ) -> Applied {
        let plan = self.plan(direction, connector, object_type);
        let ctx = EvalContext {
            object: obj,
            params: env.params,
            now: env.now,
        };
        let mut in_scope = Vec::with_capacity(plan.rules.len());
        let mut all_kept = Vec::new();
        let mut connected = false;
        let mut slots: Vec<Option<Slot>> = Vec::new();
        slots.resize_with(plan.targets.len(), || None);
        let mut errors = Vec::new();
        let present = plan.presence(obj);
        for (number, (planned, rule)) in plan.rules(self.rules()).enumerate() {
            let mut kept = Vec::new();
            let scoped = rule.scope.matches(ctx.object, env.is_member_of);
            if scoped {
                connected |= rule.links();
                for (flow, pf) in rule.flows.iter().zip(&planned.flows) {
                    let result =
                        planned_result(flow, pf, present.as_deref(), &ctx, env.skip_direct);
                    if let Err(error) = &result {
                        errors.push(FlowError {
                            rule: rule.name.clone(),
                            target: flow.target.clone(),
                            error: error.clone(),
                        });
                    }
                    if keep_flows {
                        kept.push(FlowResult {
                            target: flow.target.clone(),
                            result: result.clone(),
                        });
                    }
                    if let Some(entry) = slots.get_mut(pf.slot) {
                        let slot = entry.get_or_insert_with(|| Slot {
                            outcome: Resolved::Unchanged,
                            decided: false,
                            merge: flow.merge,
                        });
                        contribute(slot, number, flow.merge, result);
                    }
                }
            }
            in_scope.push(scoped);
            if keep_flows {
                all_kept.push(kept);
            }
        }
        Applied {
            plan,
            in_scope,
            kept: all_kept,
            connected,
            slots,
            errors,
        }
    }
}

/// Adds one flow's result to its attribute's slot (flows arrive in precedence order; `rule` is
/// the flow's rule's position in the plan).
fn contribute(slot: &mut Slot, rule: usize, merge: MergeType, result: Result<Value, EvalError>) {
    if slot.decided {
        // Only a union keeps collecting once decided.
        if let (
            true,
            Ok(value),
            Resolved::Value {
                value: current,
                more,
                ..
            },
        ) = (
            slot.merge.is_union() && merge.is_union(),
            &result,
            &mut slot.outcome,
        ) && !value.is_null()
            && *value != Value::IgnoreThisFlow
        {
            let ignore_case = slot.merge == MergeType::MergeCaseInsensitive;
            *current = union(current, value, ignore_case);
            more.push(rule);
        }
        return;
    }
    match result {
        Err(error) => {
            slot.outcome = Resolved::Error { rule, error };
            slot.decided = true;
        }
        Ok(Value::IgnoreThisFlow) => {}
        Ok(Value::AuthoritativeNull) => {
            slot.outcome = Resolved::Cleared { rule };
            slot.decided = true;
        }
        Ok(Value::Null) => slot.outcome = Resolved::Null,
        Ok(value) => {
            slot.outcome = Resolved::Value {
                value,
                first: rule,
                more: Vec::new(),
            };
            slot.decided = true;
            slot.merge = merge;
        }
    }
}

/// The values of `a` and then those of `b` not already present.
fn union(a: &Value, b: &Value, ignore_case: bool) -> Value {
    let key = |v: &Value| {
        let text = text_form(v).unwrap_or_default();
        if ignore_case {
            text.to_lowercase()
        } else {
            text
        }
    };
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for v in a.values().iter().chain(b.values()) {
        let k = key(v);
        if !keys.contains(&k) {
            keys.push(k);
            out.push(v.clone());
        }
    }
    Value::multi(out)
}
