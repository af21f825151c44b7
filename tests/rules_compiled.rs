//! The compiled rule evaluation (rules planned per direction, connector and object type; flows
//! whose attributes an object lacks answered from their precomputed result) gives exactly what
//! interpreting the rules one by one gives. The reference here is built only from the public,
//! interpreted pieces: `Rule::preview_with` (scope, then every flow evaluated), and the
//! precedence rules written out again as the engine documents them.
//!
//! Compared: the preview of every object of the sample directory (`templates/sample-directory.ldif`)
//! and of random users; the sync stage's inbound plan (contributions and errors); and the
//! outbound plan to Entra for every projected object, both to provision and to update. Each
//! object is also evaluated through a wrapper that cannot list its attributes, so both the
//! shortcut and the plain path are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/ldif_import.rs"]
mod ldif_import;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hybridsync::domain::{AttributeName, Dn};
use hybridsync::engine::expr::{DateTime, EvalError, MemoryObject, Object, Params, Value};
use hybridsync::engine::model::{
    AttributeChange, Attributes, ChangeKind, ConnectorName, CsId, CsObject, MvId, MvObject,
    PendingImport,
};
use hybridsync::engine::rules::schema::{AttrType, mv_attribute};
use hybridsync::engine::rules::{
    Connector, ConnectorKind, Direction, FlowError, LinkType, MergeType, MvObjectType,
    ObjectPreview, Outcome, Preview, PreviewEnv, RulePreview, RuleSet, text_form,
};
use hybridsync::engine::run::directory_params;
use hybridsync::engine::sync::{
    Flowed, LinkDecision, MetaverseLookup, OutboundPlan, plan_inbound, plan_outbound,
    provisional_dn,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The reference: rules interpreted one by one.

struct Slot {
    outcome: Outcome,
    decided: bool,
    merge: MergeType,
}

fn union(a: &Value, b: &Value, ignore_case: bool) -> Value {
    let key = |v: &Value| {
        let t = text_form(v).unwrap_or_default();
        if ignore_case { t.to_lowercase() } else { t }
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

fn contribute(slot: &mut Slot, rule: &str, merge: MergeType, result: &Result<Value, EvalError>) {
    if slot.decided {
        if let (
            true,
            Ok(value),
            Outcome::Value {
                value: current,
                rules,
            },
        ) = (
            slot.merge.is_union() && merge.is_union(),
            result,
            &mut slot.outcome,
        ) && !value.is_null()
            && *value != Value::IgnoreThisFlow
        {
            *current = union(
                current,
                value,
                slot.merge == MergeType::MergeCaseInsensitive,
            );
            rules.push(rule.to_string());
        }
        return;
    }
    match result {
        Err(error) => {
            slot.outcome = Outcome::Error {
                rule: rule.to_string(),
                error: error.clone(),
            };
            slot.decided = true;
        }
        Ok(Value::IgnoreThisFlow) => {}
        Ok(Value::AuthoritativeNull) => {
            slot.outcome = Outcome::Cleared {
                rule: rule.to_string(),
            };
            slot.decided = true;
        }
        Ok(Value::Null) => slot.outcome = Outcome::Null,
        Ok(value) => {
            slot.outcome = Outcome::Value {
                value: value.clone(),
                rules: vec![rule.to_string()],
            };
            slot.decided = true;
            slot.merge = merge;
        }
    }
}

fn reference_preview(
    rules: &RuleSet,
    obj: &dyn Object,
    object_type: &str,
    direction: Direction,
    connector: &Connector<'_>,
    env: &PreviewEnv<'_>,
) -> ObjectPreview {
    let mut previews = Vec::new();
    let mut connected = false;
    let mut slots: BTreeMap<AttributeName, Slot> = BTreeMap::new();
    let mut errors = Vec::new();
    for rule in rules.enabled().filter(|r| {
        r.direction == direction
            && r.connector.matches(connector)
            && r.source_object_type.eq_ignore_ascii_case(object_type)
    }) {
        let preview = rule.preview_with(obj, env);
        if preview.in_scope {
            connected |= rule.links();
            for (flow, result) in rule.flows.iter().zip(&preview.flows) {
                assert_eq!(flow.target, result.target);
                if let Err(error) = &result.result {
                    errors.push(FlowError {
                        rule: rule.name.clone(),
                        target: flow.target.clone(),
                        error: error.clone(),
                    });
                }
                let slot = slots.entry(flow.target.clone()).or_insert(Slot {
                    outcome: Outcome::Unchanged,
                    decided: false,
                    merge: flow.merge,
                });
                contribute(slot, &rule.name, flow.merge, &result.result);
            }
        }
        previews.push(RulePreview {
            rule: rule.name.clone(),
            precedence: rule.precedence,
            preview: Preview {
                in_scope: preview.in_scope,
                flows: preview.flows,
            },
        });
    }
    ObjectPreview {
        rules: previews,
        connected,
        attributes: if connected {
            slots.into_iter().map(|(n, s)| (n, s.outcome)).collect()
        } else {
            BTreeMap::new()
        },
        errors,
    }
}

/// Whether some metaverse type has `attr` as a reference (NULL flowing into anything else is
/// left out of an inbound plan).
fn is_reference_anywhere(attr: &AttributeName) -> bool {
    MvObjectType::ALL
        .iter()
        .any(|ty| mv_attribute(*ty, attr.as_str()).is_some_and(|a| a.ty == AttrType::Ref))
}

type Contributions = BTreeMap<AttributeName, Vec<Flowed>>;

fn reference_contributions(
    rules: &RuleSet,
    connector: &Connector<'_>,
    obj: &dyn Object,
    class: &str,
    env: &PreviewEnv<'_>,
) -> (Contributions, Vec<FlowError>) {
    let mut contributions: Contributions = BTreeMap::new();
    let mut errors = Vec::new();
    for rule in rules.enabled().filter(|r| {
        r.direction == Direction::Inbound
            && r.connector.matches(connector)
            && r.source_object_type.eq_ignore_ascii_case(class)
    }) {
        let preview = rule.preview_with(obj, env);
        for (flow, result) in rule.flows.iter().zip(preview.flows) {
            match result.result {
                Ok(Value::Null) if !is_reference_anywhere(&flow.target) => {}
                Ok(value) => contributions
                    .entry(flow.target.clone())
                    .or_default()
                    .push(Flowed {
                        value,
                        rule: Arc::from(rule.name.as_str()),
                        precedence: rule.precedence,
                        merge: flow.merge,
                    }),
                Err(error) => errors.push(FlowError {
                    rule: rule.name.clone(),
                    target: flow.target.clone(),
                    error,
                }),
            }
        }
    }
    for list in contributions.values_mut() {
        list.sort_by_key(|f| f.precedence);
    }
    (contributions, errors)
}

fn singles(v: &Value) -> Vec<Value> {
    v.values().to_vec()
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

fn reference_outbound(
    rules: &RuleSet,
    connector: &Connector<'_>,
    mv: &MvObject,
    existing: Option<&CsObject>,
    env: &PreviewEnv<'_>,
) -> OutboundPlan {
    let preview = reference_preview(
        rules,
        mv,
        mv.object_type.as_str(),
        Direction::Outbound,
        connector,
        env,
    );
    if !preview.errors.is_empty() {
        return OutboundPlan::Failed {
            errors: preview.errors,
        };
    }
    let mut desired = Attributes::new();
    let mut unchanged: Vec<&AttributeName> = Vec::new();
    for (attr, outcome) in &preview.attributes {
        match outcome {
            Outcome::Value { value, .. } => {
                desired.insert(attr.clone(), singles(value));
            }
            Outcome::Unchanged => unchanged.push(attr),
            _ => {}
        }
    }
    let dn_attr = AttributeName::new("dn").unwrap();
    match (preview.connected, existing) {
        (false, None) => OutboundPlan::Nothing,
        (false, Some(_)) => OutboundPlan::Deprovision,
        (true, None) => {
            let Some(rule) = preview.rules.iter().find(|r| {
                r.preview.in_scope
                    && rules
                        .get(&r.rule)
                        .is_some_and(|x| x.link_type == LinkType::Provision)
            }) else {
                return OutboundPlan::Nothing;
            };
            let object_class = rules
                .get(&rule.rule)
                .map(|r| r.target_object_type.clone())
                .unwrap_or_default();
            let dn = desired
                .get(&dn_attr)
                .and_then(|v| v.first())
                .and_then(|v| Dn::parse(&v.to_string()).ok())
                .or_else(|| provisional_dn(mv.id))
                .unwrap_or_else(Dn::root);
            desired.remove(&dn_attr);
            OutboundPlan::Provision {
                object_class,
                dn,
                attributes: desired,
                rule: rule.rule.clone(),
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
                        kind: ChangeKind::Replace,
                    });
                }
            }
            for attr in preview.attributes.keys() {
                if !desired.contains_key(attr)
                    && !unchanged.contains(&attr)
                    && let Some(old) = cs.attributes.get(attr)
                {
                    changes.push(AttributeChange {
                        attribute: attr.clone(),
                        old: old.clone(),
                        new: Vec::new(),
                        kind: ChangeKind::Replace,
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

// ---------------------------------------------------------------------------------------------
// Objects and the environment.

/// An object that cannot list its attributes: every flow is evaluated.
struct Unlisted<'a>(&'a dyn Object);

impl Object for Unlisted<'_> {
    fn get(&self, name: &str) -> Option<Value> {
        self.0.get(name)
    }

    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        self.0.get_attr(name)
    }

    fn imported(&self, name: &str) -> Option<Value> {
        self.0.imported(name)
    }

    fn value_count(&self, name: &str) -> usize {
        self.0.value_count(name)
    }

    fn dn(&self) -> Option<String> {
        self.0.dn()
    }
}

struct NoMatches;

impl MetaverseLookup for NoMatches {
    fn find(&self, _: MvObjectType, _: &AttributeName, _: &Value, _: bool) -> Vec<MvId> {
        Vec::new()
    }
}

async fn sample() -> Vec<CsObject> {
    ldif_import::import(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sample-directory.ldif"),
    )
    .await
}

fn params() -> Params {
    directory_params("contoso.example", "contoso.example", "contoso.example")
}

const AD: Connector<'static> = Connector {
    kind: ConnectorKind::Ad,
    name: "contoso.example",
};

const ENTRA: Connector<'static> = Connector {
    kind: ConnectorKind::Entra,
    name: "tenant",
};

/// Every inbound comparison for one object, listed and unlisted, with and without direct flows
/// from `member` skipped.
fn check_inbound(rules: &RuleSet, obj: &dyn Object, class: &str, what: &str) {
    let p = params();
    let now = DateTime::from_parts(2026, 3, 1, 12, 0, 0, 0).unwrap();
    let member = AttributeName::new("member").unwrap();
    let skip = |a: &AttributeName| *a == member;
    let in_group = |g: &Dn| g.to_string().to_ascii_lowercase().contains("pilot");
    for skip_direct in [None, Some(&skip as &dyn Fn(&AttributeName) -> bool)] {
        let env = PreviewEnv {
            params: &p,
            now,
            is_member_of: &in_group,
            skip_direct,
        };
        for (o, how) in [(obj, "listed"), (&Unlisted(obj) as &dyn Object, "unlisted")] {
            let expected = reference_preview(rules, o, class, Direction::Inbound, &AD, &env);
            let got = rules.preview_object(o, class, Direction::Inbound, &AD, &env);
            assert_eq!(got, expected, "preview of {what} ({how})");
            let (contributions, errors) = reference_contributions(rules, &AD, o, class, &env);
            let plan = plan_inbound(rules, &AD, o, class, false, &env, &NoMatches);
            assert_eq!(
                plan.contributions, contributions,
                "contributions of {what} ({how})"
            );
            assert_eq!(plan.errors, errors, "errors of {what} ({how})");
        }
    }
}

fn check_outbound(rules: &RuleSet, mv: &MvObject, existing: Option<&CsObject>, what: &str) {
    let p = params();
    let now = DateTime::from_parts(2026, 3, 1, 12, 0, 0, 0).unwrap();
    let no_groups = |_: &Dn| false;
    let env = PreviewEnv {
        params: &p,
        now,
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let expected = reference_outbound(rules, &ENTRA, mv, existing, &env);
    assert_eq!(
        plan_outbound(rules, &ENTRA, mv, existing, &env),
        expected,
        "outbound plan of {what}"
    );
}

// ---------------------------------------------------------------------------------------------
// The comparisons.

#[tokio::test]
async fn compiled_rules_match_interpreted_rules_on_the_sample_directory() {
    let rules = RuleSet::builtin().unwrap();
    let objects = sample().await;
    assert!(objects.len() > 200, "the sample directory has its objects");
    let p = params();
    let now = DateTime::from_parts(2026, 3, 1, 12, 0, 0, 0).unwrap();
    let no_groups = |_: &Dn| false;
    let env = PreviewEnv {
        params: &p,
        now,
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let mut provisioned = 0;
    let mut updated = 0;
    for (i, cs) in objects.iter().enumerate() {
        let what = cs.dn.to_string();
        check_inbound(&rules, cs, &cs.object_class, &what);
        let memory = MemoryObject {
            dn: Some(what.clone()),
            attributes: cs.attributes.clone(),
        };
        check_inbound(&rules, &memory, &cs.object_class, &what);

        // The metaverse object it would project as, then the outbound plans for it.
        let plan = plan_inbound(&rules, &AD, cs, &cs.object_class, false, &env, &NoMatches);
        let LinkDecision::Project { mv_type, .. } = plan.link else {
            continue;
        };
        let mv = MvObject {
            id: MvId(i as i64 + 1),
            object_type: mv_type,
            attributes: hybridsync::engine::sync::resolve_metaverse(
                &[(ConnectorName::new("contoso.example"), &plan.contributions)],
                &BTreeMap::new(),
            ),
        };
        check_outbound(&rules, &mv, None, &what);
        let OutboundPlan::Provision { attributes, .. } =
            plan_outbound(&rules, &ENTRA, &mv, None, &env)
        else {
            continue;
        };
        provisioned += 1;
        // As exported, then with one value changed, one removed and one the rules do not write.
        let mut target = CsObject {
            id: CsId(100_000 + i as i64),
            connector: ConnectorName::new("tenant"),
            anchor: None,
            dn: Dn::parse(&format!("CN={}", i + 1)).unwrap(),
            object_class: "user".into(),
            attributes: attributes.clone(),
            mv: Some(mv.id),
            pending_import: PendingImport::None,
        };
        check_outbound(&rules, &mv, Some(&target), &what);
        let names: Vec<AttributeName> = attributes.keys().cloned().collect();
        if let Some(first) = names.first() {
            target
                .attributes
                .insert(first.clone(), vec![Value::Str("stale".into())]);
        }
        if let Some(last) = names.last().filter(|_| names.len() > 1) {
            target.attributes.remove(last);
        }
        target.attributes.insert(
            AttributeName::new("faxNumber").unwrap(),
            vec![Value::Str("+1 555 0100".into())],
        );
        check_outbound(&rules, &mv, Some(&target), &what);
        updated += 1;
    }
    assert!(provisioned > 200, "{provisioned} objects provisioned");
    assert_eq!(updated, provisioned);
}

/// Values a generated user's attribute may take: absent, blank, padded, several, numbers.
fn value_strategy() -> impl Strategy<Value = Vec<Value>> {
    prop_oneof![
        Just(Vec::new()),
        Just(vec![Value::Str(String::new())]),
        Just(vec![Value::Str("   ".into())]),
        "[ a-zA-Z0-9_@.{}-]{1,12}".prop_map(|s| vec![Value::Str(s)]),
        ("[a-z]{1,6}", "[A-Z]{1,6}").prop_map(|(a, b)| vec![Value::Str(a), Value::Str(b)]),
        (0i64..4096).prop_map(|n| vec![Value::Num(n)]),
        proptest::collection::vec(any::<u8>(), 16..=16).prop_map(|b| vec![Value::Bin(b)]),
    ]
}

/// Attributes the default user rules read, scope and flows, including the special cases of
/// `cloudFiltered` and the source anchor.
const USER_ATTRIBUTES: &[&str] = &[
    "sAMAccountName",
    "userPrincipalName",
    "isCriticalSystemObject",
    "adminDescription",
    "mailNickname",
    "msExchRecipientTypeDetails",
    "mS-DS-ConsistencyGuid",
    "objectGUID",
    "objectSid",
    "userAccountControl",
    "pwdLastSet",
    "displayName",
    "cn",
    "description",
    "department",
    "givenName",
    "proxyAddresses",
    "mail",
    "info",
    "telephoneNumber",
    "manager",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn compiled_rules_match_interpreted_rules_on_generated_users(
        values in proptest::collection::vec(value_strategy(), USER_ATTRIBUTES.len()),
        class in prop_oneof![Just("user"), Just("inetOrgPerson"), Just("contact")],
    ) {
        let rules = RuleSet::builtin().unwrap();
        let mut user = MemoryObject::new(Some("CN=Generated,OU=Staff,DC=contoso,DC=example"));
        for (name, vs) in USER_ATTRIBUTES.iter().zip(values) {
            for v in vs {
                user.add(name, v);
            }
        }
        check_inbound(&rules, &user, class, "a generated user");
    }
}
