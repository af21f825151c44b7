//! The synchronization planner on the sample directory with the shipped rules, held in memory:
//! projection and joins, cloudFiltered, what would be provisioned to Entra, and that one change in
//! AD plans exactly one attribute update. (The engine issue wires the same planner to the store.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/ldif_import.rs"]
mod ldif_import;

use std::collections::BTreeMap;
use std::path::Path;

use hybridsync::domain::{AttributeName, Dn};
use hybridsync::engine::expr::{DateTime, Params, Value};
use hybridsync::engine::model::{
    Attributes, ConnectorName, CsId, CsObject, MvId, MvObject, PendingImport,
};
use hybridsync::engine::rules::{Connector, ConnectorKind, MvObjectType, PreviewEnv, RuleSet};
use hybridsync::engine::run::directory_params;
use hybridsync::engine::sync::{
    Flowed, LinkDecision, MetaverseLookup, OutboundPlan, plan_inbound, plan_outbound,
    resolve_metaverse,
};

/// A metaverse held in memory, answering join lookups by scanning.
#[derive(Default)]
struct Metaverse {
    objects: BTreeMap<MvId, MvObject>,
}

impl MetaverseLookup for Metaverse {
    fn find(
        &self,
        ty: MvObjectType,
        attribute: &AttributeName,
        value: &Value,
        case_sensitive: bool,
    ) -> Vec<MvId> {
        self.objects
            .values()
            .filter(|o| o.object_type == ty)
            .filter(|o| {
                o.attributes.get(attribute).is_some_and(|c| {
                    c.values.iter().any(|v| match (v, value) {
                        (Value::Str(a), Value::Str(b)) if !case_sensitive => {
                            a.eq_ignore_ascii_case(b)
                        }
                        (a, b) => a == b,
                    })
                })
            })
            .map(|o| o.id)
            .collect()
    }
}

fn params() -> Params {
    directory_params("contoso.example", "contoso.example", "contoso.example")
}

/// Inbound sync of every object: project or join, then resolve each metaverse object.
fn sync_in(
    rules: &RuleSet,
    cs: &mut [CsObject],
    mv: &mut Metaverse,
) -> BTreeMap<CsId, Vec<String>> {
    let p = params();
    let no_groups = |_: &Dn| false;
    let env = PreviewEnv {
        params: &p,
        now: DateTime::now(),
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let ad = Connector {
        kind: ConnectorKind::Ad,
        name: "contoso.example",
    };
    let mut contributions: BTreeMap<MvId, Vec<BTreeMap<AttributeName, Vec<Flowed>>>> =
        BTreeMap::new();
    let mut errors = BTreeMap::new();
    for o in cs.iter_mut() {
        let plan = plan_inbound(rules, &ad, o, &o.object_class, o.mv.is_some(), &env, &*mv);
        if !plan.errors.is_empty() {
            errors.insert(
                o.id,
                plan.errors
                    .iter()
                    .map(|e| e.error.message.clone())
                    .collect(),
            );
            continue;
        }
        match plan.link {
            LinkDecision::Project { mv_type, .. } => {
                let id = MvId(mv.objects.len() as i64 + 1);
                mv.objects.insert(
                    id,
                    MvObject {
                        id,
                        object_type: mv_type,
                        attributes: BTreeMap::new(),
                    },
                );
                o.mv = Some(id);
            }
            LinkDecision::Join { mv: id, .. } => o.mv = Some(id),
            LinkDecision::Disconnect => o.mv = None,
            LinkDecision::Keep => {}
        }
        if let Some(id) = o.mv {
            contributions
                .entry(id)
                .or_default()
                .push(plan.contributions);
        }
    }
    for (id, list) in &contributions {
        let joined: Vec<_> = list
            .iter()
            .map(|c| (ConnectorName::new("contoso.example"), c))
            .collect();
        let existing = mv.objects[id].attributes.clone();
        let resolved = resolve_metaverse(&joined, &existing);
        mv.objects.get_mut(id).unwrap().attributes = resolved;
    }
    errors
}

fn by_cn<'a>(cs: &'a [CsObject], cn: &str) -> &'a CsObject {
    cs.iter()
        .find(|o| o.dn.rdn().is_some_and(|r| r.value() == cn))
        .unwrap_or_else(|| panic!("{cn} in the sample"))
}

fn mv_value(mv: &Metaverse, id: MvId, attr: &str) -> Option<Vec<Value>> {
    mv.objects[&id]
        .attributes
        .get(&AttributeName::new(attr).unwrap())
        .map(|c| c.values.clone())
}

#[tokio::test]
async fn sample_directory_through_the_default_rules() {
    let rules = RuleSet::builtin().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sample-directory.ldif");
    let mut cs = ldif_import::import(&path).await;
    let mut mv = Metaverse::default();
    let errors = sync_in(&rules, &mut cs, &mut mv);
    assert!(errors.is_empty(), "{errors:?}");

    // Critical system objects never enter the metaverse.
    assert_eq!(by_cn(&cs, "krbtgt").mv, None);
    assert_eq!(by_cn(&cs, "Domain Admins").mv, None);
    // Filtered ones do, with cloudFiltered = True.
    let msol = by_cn(&cs, "MSOL_0123456789ab").mv.unwrap();
    assert_eq!(
        mv_value(&mv, msol, "cloudFiltered"),
        Some(vec![Value::Bool(true)])
    );
    // A disabled user: projected, not enabled, still anchored.
    let disabled = by_cn(&cs, "Gregory Stanton").mv.unwrap();
    assert_eq!(
        mv_value(&mv, disabled, "accountEnabled"),
        Some(vec![Value::Bool(false)])
    );
    assert!(mv_value(&mv, disabled, "sourceAnchor").is_some());

    // Outbound to Entra: what would be created.
    let p = params();
    let no_groups = |_: &Dn| false;
    let env = PreviewEnv {
        params: &p,
        now: DateTime::now(),
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let entra = Connector {
        kind: ConnectorKind::Entra,
        name: "entra",
    };
    let mut provisioned = BTreeMap::new();
    for o in mv.objects.values() {
        if let OutboundPlan::Provision {
            object_class,
            attributes,
            ..
        } = plan_outbound(&rules, &entra, o, None, &env)
        {
            provisioned.insert(o.id, (object_class, attributes));
        }
    }
    assert!(
        !provisioned.contains_key(&msol),
        "cloudFiltered objects are never exported"
    );
    let (class, attrs) = &provisioned[&disabled];
    assert_eq!(class, "user");
    assert_eq!(
        attrs[&AttributeName::new("accountEnabled").unwrap()],
        vec![Value::Bool(false)]
    );
    assert!(attrs.contains_key(&AttributeName::new("onPremisesImmutableId").unwrap()));
    let users = provisioned.values().filter(|(c, _)| c == "user").count();
    let groups = provisioned.values().filter(|(c, _)| c == "group").count();
    eprintln!("provisioned to Entra: {users} users, {groups} groups");
    assert!(users >= 200, "{users} users provisioned");
    assert!(groups >= 10, "{groups} groups provisioned");
    let news = by_cn(&cs, "Contoso News").mv.unwrap();
    assert!(
        !provisioned.contains_key(&news),
        "a distribution group cannot be created through Graph"
    );

    // One change in AD: exactly one planned attribute update for that user.
    let ann = by_cn(&cs, "Gregory Stanton").id;
    let target = {
        let (_, attrs): &(String, Attributes) = &provisioned[&disabled];
        CsObject {
            id: CsId(1_000_000),
            connector: ConnectorName::new("entra"),
            anchor: None,
            dn: Dn::parse("CN=x").unwrap(),
            object_class: "user".into(),
            attributes: attrs.clone(),
            mv: Some(disabled),
            pending_import: PendingImport::None,
        }
    };
    let o = cs.iter_mut().find(|o| o.id == ann).unwrap();
    o.attributes.insert(
        AttributeName::new("department").unwrap(),
        vec![Value::Str("Audit".into())],
    );
    sync_in(&rules, &mut cs, &mut mv);
    let plan = plan_outbound(&rules, &entra, &mv.objects[&disabled], Some(&target), &env);
    let OutboundPlan::Update { changes } = plan else {
        panic!("an update: {plan:?}")
    };
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].attribute.as_str(), "department");
    assert_eq!(changes[0].new, vec![Value::Str("Audit".into())]);

    // Becoming cloudFiltered deprovisions what was exported.
    let o = cs.iter_mut().find(|o| o.id == ann).unwrap();
    o.attributes.insert(
        AttributeName::new("sAMAccountName").unwrap(),
        vec![Value::Str("MSOL_abc".into())],
    );
    sync_in(&rules, &mut cs, &mut mv);
    assert_eq!(
        plan_outbound(&rules, &entra, &mv.objects[&disabled], Some(&target), &env),
        OutboundPlan::Deprovision
    );
}
