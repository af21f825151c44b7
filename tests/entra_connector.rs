//! The Entra ID connector against the local tenant emulator: sign-in with a certificate and a
//! secret, creates with hard and soft match, restores, duplicates, members, deletes, delta
//! imports, and exports under throttling, 503s and dropped connections (nothing duplicated).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/emulator.rs"]
mod emulator;

use std::time::Duration;

use emulator::{Emu, start, start_with};
use hybridsync::connectors::entra::{
    CertificateCredential, ClientCredential, EntraConnector, EntraOptions, ExportPolicy,
    RetryPolicy, WriteLimit,
};
use hybridsync::domain::{AttributeName, Dn, Secret};
use hybridsync::emulator::faults::FaultConfig;
use hybridsync::engine::connector::{Connector, ImportSink, Watermark};
use hybridsync::engine::expr::Value as V;
use hybridsync::engine::model::{
    Anchor, AttributeChange, CsId, ExportOutcome, ImportItem, ImportedObject, Operation,
    PendingExport,
};
use serde_json::{Value, json};

fn an(s: &str) -> AttributeName {
    AttributeName::new(s).unwrap()
}

fn options(emu: &Emu, certificate: bool, soft_match: bool) -> EntraOptions {
    let a = &emu.b.application;
    let credential = if certificate {
        ClientCredential::Certificate(
            CertificateCredential::from_pem(&format!(
                "{}\n{}",
                a.certificate_pem, a.private_key_pem
            ))
            .unwrap(),
        )
    } else {
        ClientCredential::Secret(Secret::new(a.client_secret.clone()))
    };
    EntraOptions {
        name: "entra".into(),
        tenant: emu.b.tenant_id.clone(),
        authority_host: emu.b.base_url.clone(),
        graph_base: emu.b.graph_base_url.clone(),
        scope: "https://graph.microsoft.com/.default".into(),
        ca_file: emu.b.ca_file.clone(),
        client_id: a.client_id.clone(),
        credential,
        policy: ExportPolicy { soft_match },
        write_limit: WriteLimit::default(),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            attempts: 10,
        },
        extensions: Vec::new(),
    }
}

fn connector(emu: &Emu) -> EntraConnector {
    EntraConnector::new(options(emu, true, true)).unwrap()
}

fn s(v: &str) -> Vec<V> {
    vec![V::Str(v.into())]
}

fn user_add(emu: &Emu, cs: i64, nick: &str, immutable: &str) -> PendingExport {
    PendingExport {
        connector: hybridsync::engine::model::ConnectorName::new("entra"),
        cs: CsId(cs),
        anchor: None,
        dn: Dn::parse(&format!("CN={cs}")).unwrap(),
        object_class: "user".into(),
        operation: Operation::Add,
        changes: vec![
            AttributeChange::replace(an("onPremisesImmutableId"), vec![], s(immutable)),
            AttributeChange::replace(an("userPrincipalName"), vec![], s(&emu.upn(nick))),
            AttributeChange::replace(an("displayName"), vec![], s(nick)),
            AttributeChange::replace(an("mailNickname"), vec![], s(nick)),
            AttributeChange::replace(an("accountEnabled"), vec![], vec![V::Bool(true)]),
            AttributeChange::replace(an("department"), vec![], s("Sales")),
            AttributeChange::replace(an("extensionAttribute1"), vec![], s("x1")),
            AttributeChange::replace(an("proxyAddresses"), vec![], s("SMTP:a@b.example")),
        ],
    }
}

fn update(cs: i64, class: &str, id: &str, changes: Vec<AttributeChange>) -> PendingExport {
    PendingExport {
        connector: hybridsync::engine::model::ConnectorName::new("entra"),
        cs: CsId(cs),
        anchor: Some(Anchor::Text(id.into())),
        dn: Dn::parse(&format!("CN={id}")).unwrap(),
        object_class: class.into(),
        operation: Operation::Update,
        changes,
    }
}

fn exported(o: &ExportOutcome) -> String {
    match o {
        ExportOutcome::Exported {
            anchor: Anchor::Text(t),
        } => t.clone(),
        other => panic!("not exported: {other:?}"),
    }
}

fn refv(id: &str) -> V {
    V::Ref(format!("CN={id}"))
}

async fn users_with(emu: &Emu, filter: &str) -> Vec<Value> {
    let (st, v) = emu
        .graph("GET", &format!("/users?$filter={filter}"), None)
        .await;
    assert_eq!(st, 200, "{v}");
    v["value"].as_array().unwrap().clone()
}

#[derive(Default)]
struct Collect(Vec<ImportItem>);

impl ImportSink for Collect {
    fn item(
        &mut self,
        item: ImportItem,
    ) -> Result<(), hybridsync::engine::connector::ConnectorError> {
        self.0.push(item);
        Ok(())
    }
}

fn objects(c: &Collect) -> Vec<&ImportedObject> {
    c.0.iter()
        .filter_map(|i| match i {
            ImportItem::Object(o) => Some(o),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn creates_users_and_groups_with_members_and_imports_them_back() {
    let emu = start().await;
    for certificate in [true, false] {
        // Both credentials sign in.
        let c = EntraConnector::new(options(&emu, certificate, true)).unwrap();
        let mut sink = Collect::default();
        c.full_import(&mut sink).await.unwrap();
    }
    let c = connector(&emu);
    let r = c
        .export(&[
            user_add(&emu, 1, "ann", "AAAAAAAAAAAAAAAAAAAAAA=="),
            user_add(&emu, 2, "bob", "AAAAAAAAAAAAAAAAAAAAAQ=="),
        ])
        .await
        .unwrap();
    let ann = exported(&r.iter().find(|x| x.cs == CsId(1)).unwrap().outcome);
    let bob = exported(&r.iter().find(|x| x.cs == CsId(2)).unwrap().outcome);
    let (_, u) = emu
        .graph(
            "GET",
            &format!("/users/{ann}?$select=department,onPremisesImmutableId,onPremisesExtensionAttributes"),
            None,
        )
        .await;
    assert_eq!(u["department"], "Sales");
    assert_eq!(u["onPremisesImmutableId"], "AAAAAAAAAAAAAAAAAAAAAA==");
    assert_eq!(
        u["onPremisesExtensionAttributes"]["extensionAttribute1"],
        "x1"
    );
    // A group, then its members and bob's manager as updates.
    let group = PendingExport {
        connector: hybridsync::engine::model::ConnectorName::new("entra"),
        cs: CsId(3),
        anchor: None,
        dn: Dn::parse("CN=3").unwrap(),
        object_class: "group".into(),
        operation: Operation::Add,
        changes: vec![
            AttributeChange::replace(an("displayName"), vec![], s("Sales Team")),
            AttributeChange::replace(an("mailNickname"), vec![], s("sales")),
            AttributeChange::replace(an("securityEnabled"), vec![], vec![V::Bool(true)]),
            AttributeChange::replace(an("mailEnabled"), vec![], vec![V::Bool(false)]),
        ],
    };
    let r = c.export(&[group]).await.unwrap();
    let g = exported(&r[0].outcome);
    let r = c
        .export(&[
            update(
                3,
                "group",
                &g,
                vec![AttributeChange::incremental(
                    an("members"),
                    vec![],
                    vec![refv(&ann), refv(&bob)],
                )],
            ),
            update(
                2,
                "user",
                &bob,
                vec![AttributeChange::replace(
                    an("manager"),
                    vec![],
                    vec![refv(&ann)],
                )],
            ),
        ])
        .await
        .unwrap();
    for x in &r {
        exported(&x.outcome);
    }
    // The full import reads them back typed as the rules compute them.
    let mut sink = Collect::default();
    let summary = c.full_import(&mut sink).await.unwrap();
    let all = objects(&sink);
    let go = all
        .iter()
        .find(|o| o.anchor == Anchor::Text(g.clone()))
        .unwrap();
    let mut members = go.attributes[&an("members")].clone();
    members.sort_by_key(|v| v.to_string());
    let mut want = vec![refv(&ann), refv(&bob)];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(members, want);
    assert_eq!(go.attributes[&an("securityEnabled")], vec![V::Bool(true)]);
    let bo = all
        .iter()
        .find(|o| o.anchor == Anchor::Text(bob.clone()))
        .unwrap();
    assert_eq!(bo.attributes[&an("manager")], vec![refv(&ann)]);
    assert_eq!(bo.attributes[&an("accountEnabled")], vec![V::Bool(true)]);
    assert_eq!(bo.dn, EntraConnector::dn_of(&bob));
    // One member removed, ann disabled: the delta import reads both again, whole.
    let r = c
        .export(&[
            update(
                3,
                "group",
                &g,
                vec![AttributeChange::incremental(
                    an("members"),
                    vec![refv(&bob)],
                    vec![],
                )],
            ),
            update(
                1,
                "user",
                &ann,
                vec![AttributeChange::replace(
                    an("accountEnabled"),
                    vec![V::Bool(true)],
                    vec![V::Bool(false)],
                )],
            ),
        ])
        .await
        .unwrap();
    for x in &r {
        exported(&x.outcome);
    }
    let mut sink = Collect::default();
    let next = c.delta_import(&summary.watermark, &mut sink).await.unwrap();
    let changed = objects(&sink);
    assert_eq!(changed.len(), 2, "{changed:?}");
    let go = changed
        .iter()
        .find(|o| o.anchor == Anchor::Text(g.clone()))
        .unwrap();
    assert_eq!(go.attributes[&an("members")], vec![refv(&ann)]);
    assert_eq!(
        go.attributes[&an("displayName")],
        s("Sales Team"),
        "whole object"
    );
    let ao = changed
        .iter()
        .find(|o| o.anchor == Anchor::Text(ann.clone()))
        .unwrap();
    assert_eq!(ao.attributes[&an("accountEnabled")], vec![V::Bool(false)]);
    // Delete bob (soft delete): the delta reports it removed.
    let mut del = update(2, "user", &bob, vec![]);
    del.operation = Operation::Delete;
    let r = c.export(std::slice::from_ref(&del)).await.unwrap();
    exported(&r[0].outcome);
    let r = c.export(&[del]).await.unwrap();
    exported(&r[0].outcome); // already gone: done, not an error
    let mut sink = Collect::default();
    c.delta_import(&next.watermark, &mut sink).await.unwrap();
    assert!(sink.0.iter().any(
        |i| matches!(i, ImportItem::Deleted { anchor } if *anchor == Anchor::Text(bob.clone()))
    ));
    // Bob comes back in scope: the add hard-matches the deleted user and restores it.
    let r = c
        .export(&[user_add(&emu, 4, "bob", "AAAAAAAAAAAAAAAAAAAAAQ==")])
        .await
        .unwrap();
    assert_eq!(exported(&r[0].outcome), bob, "restored, not created again");
    assert_eq!(
        users_with(&emu, "startswith(userPrincipalName,'bob@')")
            .await
            .len(),
        1
    );
    // A watermark that is not ours asks for a full import.
    let e = c
        .delta_import(&Watermark(b"junk".to_vec()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("full import"), "{e}");
}

#[tokio::test]
async fn hard_and_soft_match_take_over_and_duplicates_name_both_objects() {
    // A cloud-only user with the primary SMTP address of an on-premises user but another UPN.
    let seed_dir = tempfile::tempdir().unwrap();
    let seed = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({"users": [{
            "accountEnabled": true, "displayName": "Mail Only", "mailNickname": "mailonly",
            "userPrincipalName": "mail.only@contoso.onmicrosoft.com",
            "proxyAddresses": ["SMTP:smtp.match@contoso.onmicrosoft.com"],
        }]})
        .to_string(),
    )
    .unwrap();
    let emu = start_with(|c| c.seed = Some(seed.clone())).await;
    // A cloud user already carrying the anchor (hard match), one with the UPN and no anchor
    // (soft match), one with the UPN of another on-premises object (refused).
    let (st, v) = emu
        .graph(
            "POST",
            "/users",
            Some({
                let mut b = emulator::user_body(&emu.upn("hard"), "hard");
                b["onPremisesImmutableId"] = json!("AAAAAAAAAAAAAAAAAAAAEA==");
                b
            }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let hard = v["id"].as_str().unwrap().to_string();
    let soft = emu.create_user("soft").await;
    let (st, v) = emu
        .graph(
            "POST",
            "/users",
            Some({
                let mut b = emulator::user_body(&emu.upn("taken"), "taken");
                b["onPremisesImmutableId"] = json!("AAAAAAAAAAAAAAAAAAAAEQ==");
                b
            }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let c = connector(&emu);
    let r = c
        .export(&[
            user_add(&emu, 1, "hard", "AAAAAAAAAAAAAAAAAAAAEA=="),
            user_add(&emu, 2, "soft", "AAAAAAAAAAAAAAAAAAAAEg=="),
            user_add(&emu, 3, "taken", "AAAAAAAAAAAAAAAAAAAAEw=="),
            user_add(&emu, 4, "new", "AAAAAAAAAAAAAAAAAAAAFA=="),
        ])
        .await
        .unwrap();
    let by = |cs: i64| &r.iter().find(|x| x.cs == CsId(cs)).unwrap().outcome;
    assert_eq!(exported(by(1)), hard);
    assert_eq!(exported(by(2)), soft);
    let (_, u) = emu
        .graph(
            "GET",
            &format!("/users/{soft}?$select=onPremisesImmutableId"),
            None,
        )
        .await;
    assert_eq!(
        u["onPremisesImmutableId"], "AAAAAAAAAAAAAAAAAAAAEg==",
        "soft match stamps the anchor"
    );
    match by(3) {
        ExportOutcome::Failed { error, retryable } => {
            assert!(!retryable);
            assert!(error.contains(&emu.upn("taken")), "{error}");
            assert!(error.contains("AAAAAAAAAAAAAAAAAAAAEQ=="), "{error}");
        }
        other => panic!("{other:?}"),
    }
    exported(by(4));
    // Soft match by primary SMTP address: the seeded user is taken over.
    let mail_only = users_with(
        &emu,
        "userPrincipalName%20eq%20'mail.only@contoso.onmicrosoft.com'",
    )
    .await;
    let mut by_mail = user_add(&emu, 7, "other.upn", "AAAAAAAAAAAAAAAAAAAAFw==");
    by_mail.changes.push(AttributeChange::replace(
        an("mail"),
        vec![],
        s("smtp.match@contoso.onmicrosoft.com"),
    ));
    let r = c.export(&[by_mail]).await.unwrap();
    assert_eq!(
        exported(&r[0].outcome),
        mail_only[0]["id"].as_str().unwrap()
    );
    // Without soft match, a duplicate UPN is a conflict naming the cloud object.
    let strict = EntraConnector::new(options(&emu, false, false)).unwrap();
    let dup = emu.create_user("dup").await;
    let r = strict
        .export(&[
            user_add(&emu, 5, "dup", "AAAAAAAAAAAAAAAAAAAAFQ=="),
            user_add(&emu, 6, "fine", "AAAAAAAAAAAAAAAAAAAAFg=="),
        ])
        .await
        .unwrap();
    match &r.iter().find(|x| x.cs == CsId(5)).unwrap().outcome {
        ExportOutcome::Failed { error, retryable } => {
            assert!(!retryable);
            assert!(error.contains(&dup), "names the holder: {error}");
            assert!(error.contains("userPrincipalName"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    exported(&r.iter().find(|x| x.cs == CsId(6)).unwrap().outcome);
}

#[tokio::test]
async fn faults_and_throttling_never_duplicate_anything() {
    // Graph's write limit scaled down (3 writes per 0.15 s), 20% of requests answered 503/504,
    // 5% of connections dropped: every object is created exactly once.
    let emu = start_with(|c| {
        c.faults = FaultConfig {
            throttle: true,
            throttle_scale: 0.01,
            fail_rate: 0.2,
            drop_rate: 0.05,
            ..FaultConfig::default()
        }
    })
    .await;
    let mut o = options(&emu, true, true);
    o.retry.attempts = 30;
    let c = EntraConnector::new(o).unwrap();
    let batch: Vec<PendingExport> = (0..60)
        .map(|i| {
            user_add(
                &emu,
                i,
                &format!("u{i}"),
                &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [i as u8; 16]),
            )
        })
        .collect();
    let mut done = std::collections::HashMap::new();
    for round in 0..5 {
        let pending: Vec<PendingExport> = batch
            .iter()
            .filter(|e| !done.contains_key(&e.cs))
            .cloned()
            .collect();
        if pending.is_empty() {
            break;
        }
        for chunk in pending.chunks(20) {
            match c.export(chunk).await {
                Ok(results) => {
                    for r in results {
                        if let ExportOutcome::Exported { anchor } = r.outcome {
                            done.insert(r.cs, anchor);
                        }
                    }
                }
                Err(e) => eprintln!("round {round}: {e}"),
            }
        }
    }
    assert_eq!(done.len(), 60, "every object exported");
    let st = emu
        .http
        .post(emu.url("/_emulator/faults"))
        .json(&json!({"throttle": false, "fail_rate": 0.0, "drop_rate": 0.0}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, 200);
    let all = users_with(&emu, "startswith(userPrincipalName,'u')").await;
    assert_eq!(all.len(), 60, "no duplicates: {}", all.len());
    let (_, _, throttled, retries) = c.client().stats.snapshot();
    assert!(retries > 0, "the faults were met");
    eprintln!("throttled {throttled}, retries {retries}");
}

/// The administrator's sign-in for the wizard: the device code flow, pending until approved,
/// then tokens (an ID token with `openid`, a refresh token with `offline_access`); a declined
/// code says so.
#[tokio::test]
async fn device_code_sign_in_waits_for_the_administrator() {
    use hybridsync::connectors::entra::auth::{DevicePoll, poll_device_code, start_device_code};
    let emu = start().await;
    let http = hybridsync::connectors::entra::http_client(emu.b.ca_file.as_deref()).unwrap();
    let client = &emu.b.application.client_id;
    let scopes = "openid profile offline_access https://graph.microsoft.com/.default";
    let code = start_device_code(&http, &emu.b.base_url, &emu.b.tenant_id, client, scopes)
        .await
        .unwrap();
    assert!(code.message.contains(&code.user_code), "{}", code.message);
    assert!(code.verification_uri.starts_with("https://"));
    assert!(matches!(
        poll_device_code(&http, &emu.b.base_url, &emu.b.tenant_id, client, &code)
            .await
            .unwrap(),
        DevicePoll::Pending
    ));
    let approve = |user_code: String, decline: bool| {
        emu.http
            .post(emu.url("/_emulator/devicecode/approve"))
            .json(&json!({"user_code": user_code, "decline": decline}))
            .send()
    };
    assert_eq!(
        approve(code.user_code.clone(), false)
            .await
            .unwrap()
            .status(),
        200
    );
    match poll_device_code(&http, &emu.b.base_url, &emu.b.tenant_id, client, &code)
        .await
        .unwrap()
    {
        DevicePoll::Done(t) => {
            assert!(!t.access_token.expose().is_empty());
            assert!(
                t.refresh_token.is_some(),
                "offline_access gives a refresh token"
            );
            let id = emulator::claims(t.id_token.as_deref().unwrap());
            assert_eq!(id["aud"].as_str(), Some(client.as_str()));
            assert!(
                id["preferred_username"]
                    .as_str()
                    .unwrap()
                    .starts_with("admin@")
            );
            assert!(!format!("{t:?}").contains(t.access_token.expose()));
        }
        other => panic!("{other:?}"),
    }
    let declined = start_device_code(&http, &emu.b.base_url, &emu.b.tenant_id, client, scopes)
        .await
        .unwrap();
    approve(declined.user_code.clone(), true).await.unwrap();
    assert!(matches!(
        poll_device_code(&http, &emu.b.base_url, &emu.b.tenant_id, client, &declined)
            .await
            .unwrap(),
        DevicePoll::Declined
    ));
}
