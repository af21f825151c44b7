#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The rerun wizard's forest tasks, effect in and reply out, against a real Samba AD DC: the
//! Microsoft Entra hybrid join service connection point is written into the configuration
//! partition and read back (by the effect and independently with ldapsearch), rewriting it
//! updates its keywords; the check for mS-DS-ConsistencyGuid values in use finds the users
//! that have one, under the scope only, binding with a password from the credential store; the
//! device writeback containers are created and the connector account gets its rights on them.

#[path = "support/samba.rs"]
mod samba;

use std::sync::Arc;
use std::time::Duration;

use hybridsync::config::model::TlsMode;
use hybridsync::connectors::ad::{AdOptions, Endpoint, Session, discovery};
use hybridsync::credentials::{BackendChoice, CredentialStore, Env, SecretRef};
use hybridsync::domain::{Dn, Secret};
use hybridsync::effects::{
    ConfigureStep, Context, Effect, ForestLogin, ForestSearch, LoginSecret, Reply, Runner,
    StepOutput, TokioRunner,
};
use hybridsync::provision::rights::{self, Features};
use tokio::sync::mpsc::UnboundedReceiver;

const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

async fn next(rx: &mut UnboundedReceiver<Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(120), rx.recv())
        .await
        .expect("no reply within 2 minutes")
        .expect("the runner's channel closed")
}

struct Lab {
    dc: &'static samba::SambaDc,
    rt: tokio::runtime::Runtime,
    runner: TokioRunner,
    rx: UnboundedReceiver<Reply>,
    creds: Arc<CredentialStore>,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn start() -> Self {
        let dc = samba::SambaDc::shared();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let creds = Arc::new(
            CredentialStore::open_with(dir.path(), &Env::default(), BackendChoice::EncryptedFile)
                .unwrap(),
        );
        let ctx = Context {
            credentials: Some(creds.clone()),
            ad_ca_file: Some(dc.ca_file.clone()),
            ..Context::default()
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = TokioRunner::with_context(rt.handle().clone(), tx, ctx);
        Self {
            dc,
            rt,
            runner,
            rx,
            creds,
            _dir: dir,
        }
    }

    fn login(&self, username: &str, password: LoginSecret) -> ForestLogin {
        ForestLogin {
            forest: "lab.example".into(),
            domain_controllers: vec![format!("{}:{}", self.dc.host, self.dc.ldaps_port)],
            tls: TlsMode::Ldaps,
            username: username.into(),
            password,
        }
    }

    fn admin(&self) -> ForestLogin {
        self.login(
            &self.dc.admin_user,
            LoginSecret::Given(Secret::new(self.dc.admin_password.clone())),
        )
    }

    fn ask(&mut self, e: Effect) -> Reply {
        self.runner.run(e);
        self.rt.block_on(next(&mut self.rx))
    }
}

fn config_nc(dc: &samba::SambaDc) -> String {
    format!("CN=Configuration,{}", dc.base_dn)
}

#[test]
fn the_service_connection_point_is_written_read_back_and_updated() {
    let mut lab = Lab::start();
    let dc = lab.dc;
    let scp = format!(
        "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services,{}",
        config_nc(dc)
    );

    // A wrong password writes nothing and says what to check.
    let wrong = lab.login(
        &dc.admin_user,
        LoginSecret::Given(Secret::new("not the password".into())),
    );
    let Reply::Scp(Err(f)) = lab.ask(Effect::ConfigureScp {
        login: wrong,
        tenant_id: TENANT_ID.into(),
        domain: "contoso.com".into(),
    }) else {
        panic!("a wrong password must fail");
    };
    assert!(f.fix.contains("password"), "{f:?}");
    assert!(
        !dc.ldap_search(
            &config_nc(dc),
            "(cn=62a0ff2e-97b9-4513-943f-0d221bd30080)",
            &["cn"]
        )
        .contains("dn: "),
        "nothing written"
    );

    let Reply::Scp(Ok(w)) = lab.ask(Effect::ConfigureScp {
        login: lab.admin(),
        tenant_id: TENANT_ID.into(),
        domain: "contoso.com".into(),
    }) else {
        panic!("the SCP must be written");
    };
    assert!(w.created);
    assert_eq!(w.dn, Dn::parse(&scp).unwrap());
    assert_eq!(
        w.keywords,
        vec![
            format!("azureADId:{TENANT_ID}"),
            "azureADName:contoso.com".to_string()
        ]
    );
    // Read back independently: a serviceConnectionPoint with exactly the two keywords.
    let seen = dc.ldap_search(&scp, "(objectClass=serviceConnectionPoint)", &["keywords"]);
    assert!(
        seen.contains(&format!("keywords: azureADId:{TENANT_ID}")),
        "{seen}"
    );
    assert!(seen.contains("keywords: azureADName:contoso.com"), "{seen}");
    assert_eq!(seen.matches("keywords:").count(), 2, "{seen}");

    // Run again with another domain: updated in place, never duplicated.
    let Reply::Scp(Ok(again)) = lab.ask(Effect::ConfigureScp {
        login: lab.admin(),
        tenant_id: TENANT_ID.into(),
        domain: "fabrikam.com".into(),
    }) else {
        panic!("the SCP must be updated");
    };
    assert!(!again.created);
    let seen = dc.ldap_search(&scp, "(objectClass=*)", &["keywords"]);
    assert!(
        seen.contains("keywords: azureADName:fabrikam.com"),
        "{seen}"
    );
    assert!(!seen.contains("contoso.com"), "{seen}");
    assert_eq!(seen.matches("keywords:").count(), 2, "{seen}");
}

#[test]
fn consistency_guids_in_use_are_found_under_the_scope_only() {
    let mut lab = Lab::start();
    let dc = lab.dc;
    // The bind password comes from the credential store, as the connector account's does.
    lab.creds
        .store("ad-lab", &Secret::new(dc.admin_password.clone()))
        .unwrap();
    let stored = lab.login(
        &dc.admin_user,
        LoginSecret::Stored(SecretRef::Store("ad-lab".into())),
    );
    let scope = dc.fresh_ou("anchor");
    let users = dc.add_users(&scope, 3);
    let search = |bases: Vec<&str>, exclude: Vec<&str>| Effect::FindConsistencyGuids {
        searches: vec![ForestSearch {
            login: stored.clone(),
            bases: bases.iter().map(|b| Dn::parse(b).unwrap()).collect(),
            exclude: exclude.iter().map(|b| Dn::parse(b).unwrap()).collect(),
        }],
    };

    let Reply::ConsistencyGuids(Ok(g)) = lab.ask(search(vec![&scope], vec![])) else {
        panic!("the check must run");
    };
    assert_eq!(g.total, 0, "{g:?}");

    // One user gets a consistency guid (16 bytes, base64 in LDIF); one in a sub-OU too.
    let sub = format!("OU=Moved,{scope}");
    dc.ldif_modify(&format!(
        "dn: {sub}\nchangetype: add\nobjectClass: organizationalUnit\n"
    ));
    let moved = dc.add_users(&sub, 1);
    for u in [&users[1], &moved[0]] {
        dc.ldif_modify(&format!(
            "dn: {u}\nchangetype: modify\nreplace: mS-DS-ConsistencyGuid\nmS-DS-ConsistencyGuid:: ESIzRFVmd4iZqrvM3e7/AA==\n-\n"
        ));
    }
    let Reply::ConsistencyGuids(Ok(g)) = lab.ask(search(vec![&scope], vec![])) else {
        panic!("the check must run");
    };
    assert_eq!(g.total, 2, "{g:?}");
    let sample: Vec<String> = g.sample.iter().map(ToString::to_string).collect();
    for u in [&users[1], &moved[0]] {
        assert!(
            sample.iter().any(|s| s.eq_ignore_ascii_case(u)),
            "{u}: {sample:?}"
        );
    }
    // An excluded OU is out of scope.
    let Reply::ConsistencyGuids(Ok(g)) = lab.ask(search(vec![&scope], vec![&sub])) else {
        panic!("the check must run");
    };
    assert_eq!(g.total, 1, "{g:?}");
    assert!(g.sample[0].to_string().eq_ignore_ascii_case(&users[1]));

    // A missing stored password fails with a fix, before any bind.
    let missing = lab.login(
        &dc.admin_user,
        LoginSecret::Stored(SecretRef::Store("nothing-here".into())),
    );
    let Reply::ConsistencyGuids(Err(f)) = lab.ask(Effect::FindConsistencyGuids {
        searches: vec![ForestSearch {
            login: missing,
            bases: vec![Dn::parse(&scope).unwrap()],
            exclude: vec![],
        }],
    }) else {
        panic!("no password, no check");
    };
    assert!(f.message.contains("password"), "{f:?}");
}

#[test]
fn device_writeback_containers_are_created_and_the_account_gets_its_rights() {
    let mut lab = Lab::start();
    let dc = lab.dc;
    // The connector account, created as the Configure page does (no device writeback yet).
    let bound = lab.ask(Effect::TestAdBind {
        forest: "lab.example".into(),
        domain_controllers: vec![format!("{}:{}", dc.host, dc.ldaps_port)],
        tls: TlsMode::Ldaps,
        username: dc.admin_user.clone(),
        password: Secret::new(dc.admin_password.clone()),
    });
    assert!(matches!(bound, Reply::Forest(Ok(_))), "{bound:?}");
    let Reply::Step(Ok(StepOutput::ConnectorAccount { username, .. })) =
        lab.ask(Effect::Configure(ConfigureStep::CreateConnectorAccount {
            forest: "lab.example".into(),
            admin_username: dc.admin_user.clone(),
            admin_password: Secret::new(dc.admin_password.clone()),
            secret_name: "ad-lab.example".into(),
            features: Features::default(),
        }))
    else {
        panic!("the connector account must be created");
    };
    let devices = format!("CN=RegisteredDevices,{}", dc.base_dn);
    assert!(
        !dc.ldap_search(&dc.base_dn, "(cn=RegisteredDevices)", &["cn"])
            .contains("dn: "),
        "a fresh domain has no RegisteredDevices container"
    );
    let features = Features {
        device_writeback: true,
        ..Features::default()
    };
    let prepare = |lab: &Lab| {
        Effect::Configure(ConfigureStep::PrepareDeviceWriteback {
            login: lab.admin(),
            grant: Some((username.clone(), features.clone())),
        })
    };
    let e = prepare(&lab);
    assert_eq!(lab.ask(e), Reply::Step(Ok(StepOutput::Done)));
    let seen = dc.ldap_search(&dc.base_dn, "(cn=RegisteredDevices)", &["objectClass"]);
    assert!(seen.contains("objectClass: msDS-DeviceContainer"), "{seen}");
    let drc = dc.ldap_search(
        &config_nc(dc),
        "(cn=Device Registration Configuration)",
        &["objectClass"],
    );
    assert!(drc.contains("objectClass: container"), "{drc}");

    // The permission check, as the account's token sees the container: device rights granted.
    let report = lab.rt.block_on(async {
        let mut o = AdOptions::new(
            "lab.example",
            Endpoint {
                host: dc.host.clone(),
                port: dc.ldaps_port,
            },
            &dc.admin_user,
            Secret::new(dc.admin_password.clone()),
        );
        o.settings.ca_file = Some(dc.ca_file.clone());
        let mut s = Session::open(&o.settings, &o.endpoints[0]).await.unwrap();
        let root = discovery::root_dse(&mut s).await.unwrap();
        let (_, report) = rights::check_account(&mut s, &root, &username, &features)
            .await
            .unwrap();
        s.close().await;
        report
    });
    let device: Vec<&rights::RightReport> = report
        .iter()
        .filter(|r| r.feature == "device writeback")
        .collect();
    assert_eq!(device.len(), 2, "{report:#?}");
    for r in device {
        assert!(r.on.eq_ignore_ascii_case(&devices), "{r:?}");
        assert_eq!(r.status, "granted", "{r:?}");
    }
    // Idempotent: a second run succeeds and changes nothing visible.
    let e = prepare(&lab);
    assert_eq!(lab.ask(e), Reply::Step(Ok(StepOutput::Done)));
}

#[test]
fn object_guids_are_written_into_empty_consistency_guids_under_the_scope() {
    let mut lab = Lab::start();
    let dc = lab.dc;
    let scope = dc.fresh_ou("stamp");
    let users = dc.add_users(&scope, 3);
    let out = format!("OU=Out,{scope}");
    dc.ldif_modify(&format!(
        "dn: {out}\nchangetype: add\nobjectClass: organizationalUnit\n"
    ));
    let outside = dc.add_users(&out, 1);
    // One user already has a value: it is kept.
    dc.ldif_modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: mS-DS-ConsistencyGuid\nmS-DS-ConsistencyGuid:: ESIzRFVmd4iZqrvM3e7/AA==\n-\n",
        users[2]
    ));
    let search = ForestSearch {
        login: lab.admin(),
        bases: vec![Dn::parse(&scope).unwrap()],
        exclude: vec![Dn::parse(&out).unwrap()],
    };
    let step = Effect::Configure(ConfigureStep::StampConsistencyGuids {
        searches: vec![(search, None)],
        features: Features {
            consistency_guid_anchor: true,
            ..Features::default()
        },
    });
    assert_eq!(
        lab.ask(step.clone()),
        Reply::Step(Ok(StepOutput::Stamped(2)))
    );
    // Read back: objectGUID and mS-DS-ConsistencyGuid hold the same bytes (the same base64).
    let value = |dn: &str, attr: &str| -> Option<String> {
        let text = dc.ldap_search(dn, "(objectClass=*)", &[attr]);
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{attr}:: ")).map(str::to_string))
    };
    for u in &users[..2] {
        let guid = value(u, "objectGUID").unwrap();
        assert_eq!(value(u, "mS-DS-ConsistencyGuid"), Some(guid), "{u}");
    }
    assert_eq!(
        value(&users[2], "mS-DS-ConsistencyGuid").as_deref(),
        Some("ESIzRFVmd4iZqrvM3e7/AA=="),
        "a value already there is kept"
    );
    assert_eq!(
        value(&outside[0], "mS-DS-ConsistencyGuid"),
        None,
        "out of scope: untouched"
    );
    // Run again: nothing left to write.
    assert_eq!(lab.ask(step), Reply::Step(Ok(StepOutput::Stamped(0))));
}
