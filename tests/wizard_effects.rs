#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The wizard's real effects, effect in and reply out, against real parts: the tenant emulator
//! (device-code sign-in approved through its approval endpoint, the tenant's domains, the sync
//! application registered with its certificate in the credential store) and a Samba AD DC (the
//! bind describes the forest, the OU tree and group search read it, the connector account is
//! created with its password in the credential store and then binds). Also: two forests through
//! the wizard's pages on the real runner (the Samba DC plus the sample LDIF forest, each with its
//! own OU selection and account step), and the Custom path's install options on this machine.

#[path = "support/emulator.rs"]
mod emulator;
#[path = "support/samba.rs"]
mod samba;

use std::sync::Arc;
use std::time::Duration;

use hybridsync::config::model::TlsMode;
use hybridsync::credentials::{BackendChoice, CredentialStore, Env, SecretRef};
use hybridsync::domain::{Dn, Secret};
use hybridsync::effects::{
    CERTIFICATE_SECRET, ConfigureStep, Context, Effect, EffectKind, Endpoints, Reply, Runner,
    StepOutput, TokioRunner,
};
use hybridsync::provision::rights::Features;
use tokio::sync::mpsc::UnboundedReceiver;

fn store(dir: &std::path::Path) -> Arc<CredentialStore> {
    Arc::new(
        CredentialStore::open_with(dir, &Env::default(), BackendChoice::EncryptedFile).unwrap(),
    )
}

fn emulator_context(e: &emulator::Emu, approve: bool, dir: &std::path::Path) -> Context {
    Context {
        endpoints: Endpoints {
            authority_host: Some(e.b.base_url.clone()),
            graph_endpoint: Some(e.b.graph_base_url.clone()),
            ca_file: e.b.ca_file.clone(),
            ..Endpoints::default()
        },
        sign_in_client_id: e.b.application.client_id.clone(),
        emulator_approves_sign_in: approve,
        credentials: Some(store(dir)),
        application_name: "hybridsync effects test".into(),
        ..Context::default()
    }
}

async fn next(rx: &mut UnboundedReceiver<Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(120), rx.recv())
        .await
        .expect("no reply within 2 minutes")
        .expect("the runner's channel closed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_domains_and_the_sync_application_against_the_emulator() {
    let e = emulator::start_with(|c| c.domains = vec!["contoso.example".into()]).await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = emulator_context(&e, true, dir.path());
    let creds = ctx.credentials.clone().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(tokio::runtime::Handle::current(), tx, ctx);

    // Steps that need the admin's token refuse before the sign-in, with a fix.
    runner.run(Effect::Configure(ConfigureStep::RegisterApplication));
    match next(&mut rx).await {
        Reply::Step(Err(f)) => assert!(f.message.contains("signed in"), "{f:?}"),
        other => panic!("{other:?}"),
    }

    runner.run(Effect::SignInDeviceCode);
    let Reply::DeviceCode {
        verification_uri,
        user_code,
    } = next(&mut rx).await
    else {
        panic!("the device code comes first");
    };
    assert!(
        verification_uri.starts_with(&e.b.base_url),
        "{verification_uri}"
    );
    assert_eq!(user_code.len(), 9);
    let Reply::SignedIn(tenant) = next(&mut rx).await else {
        panic!("expected the sign-in");
    };
    assert_eq!(tenant.tenant_id, e.b.tenant_id);
    assert_eq!(tenant.initial_domain, e.b.initial_domain);
    assert_eq!(tenant.admin, format!("admin@{}", e.b.initial_domain));
    assert!(
        tenant
            .domains
            .iter()
            .any(|d| d.name == "contoso.example" && d.verified),
        "{:?}",
        tenant.domains
    );

    runner.run(Effect::RefreshTenantDomains);
    let Reply::TenantDomains(Ok(domains)) = next(&mut rx).await else {
        panic!("expected the domains");
    };
    assert_eq!(domains, tenant.domains);

    runner.run(Effect::Configure(ConfigureStep::RegisterApplication));
    let Reply::Step(Ok(StepOutput::Application {
        client_id,
        certificate_ref,
    })) = next(&mut rx).await
    else {
        panic!("expected the application");
    };
    assert_eq!(
        certificate_ref,
        SecretRef::Store(CERTIFICATE_SECRET.to_string())
    );
    let pem = creds.resolve(&certificate_ref).unwrap();
    assert!(pem.expose().contains("-----BEGIN PRIVATE KEY-----"));
    let (status, apps) = e
        .graph(
            "GET",
            "/applications?$filter=displayName eq 'hybridsync effects test'",
            None,
        )
        .await;
    assert_eq!(status, 200, "{apps}");
    assert_eq!(apps["value"][0]["appId"], client_id.as_str());

    // A rerun keeps the application and the stored certificate.
    runner.run(Effect::Configure(ConfigureStep::RegisterApplication));
    let Reply::Step(Ok(StepOutput::Application {
        client_id: again, ..
    })) = next(&mut rx).await
    else {
        panic!("expected the application again");
    };
    assert_eq!(again, client_id);
    assert_eq!(
        creds.resolve(&certificate_ref).unwrap().expose(),
        pem.expose()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_sign_in_is_cancelled_and_a_declined_one_fails_with_a_fix() {
    let e = emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(
        tokio::runtime::Handle::current(),
        tx,
        emulator_context(&e, false, dir.path()),
    );
    runner.run(Effect::SignInDeviceCode);
    assert!(matches!(next(&mut rx).await, Reply::DeviceCode { .. }));
    runner.run(Effect::Cancel(EffectKind::SignIn));
    assert_eq!(next(&mut rx).await, Reply::Cancelled(EffectKind::SignIn));

    runner.run(Effect::SignInDeviceCode);
    let Reply::DeviceCode { user_code, .. } = next(&mut rx).await else {
        panic!("expected a code");
    };
    let r = e
        .http
        .post(e.url("/_emulator/devicecode/approve"))
        .json(&serde_json::json!({"user_code": user_code, "decline": true}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let Reply::SignInFailed(f) = next(&mut rx).await else {
        panic!("expected a failure");
    };
    assert!(
        f.message.contains("declined") && f.fix.contains("Ctrl+R"),
        "{f:?}"
    );
}

#[test]
fn bind_tree_groups_and_the_connector_account_against_samba() {
    let dc = samba::SambaDc::shared();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let creds = store(dir.path());
    let ctx = Context {
        credentials: Some(creds.clone()),
        ad_ca_file: Some(dc.ca_file.clone()),
        ..Context::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(rt.handle().clone(), tx, ctx);
    let dcs = vec![format!("{}:{}", dc.host, dc.ldaps_port)];
    let bind = |password: &str| Effect::TestAdBind {
        forest: "lab.example".into(),
        domain_controllers: dcs.clone(),
        tls: TlsMode::Ldaps,
        username: dc.admin_user.clone(),
        password: Secret::new(password.to_string()),
    };
    rt.block_on(async {
        runner.run(bind("not the password"));
        let Reply::Forest(Err(f)) = next(&mut rx).await else {
            panic!("a wrong password must fail");
        };
        assert!(f.fix.contains("password"), "{f:?}");

        runner.run(bind(&dc.admin_password));
        let Reply::Forest(Ok(forest)) = next(&mut rx).await else {
            panic!("expected the forest");
        };
        assert_eq!(forest.forest, "lab.example");
        assert_eq!(forest.domains.len(), 1);
        assert_eq!(forest.domains[0].naming_context.to_string(), dc.base_dn);
        assert!(forest.upn_suffixes.contains(&"lab.example".to_string()));

        let root = Dn::parse(&dc.base_dn).unwrap();
        runner.run(Effect::ListOus {
            forest: "lab.example".into(),
            parent: root.clone(),
        });
        let Reply::Ous { parent, children } = next(&mut rx).await else {
            panic!("expected the tree");
        };
        assert_eq!(parent, root);
        let children = children.unwrap();
        let names: Vec<String> = children.iter().map(|c| c.dn.to_string()).collect();
        assert!(
            names.iter().any(|n| n.starts_with("OU=Domain Controllers")),
            "{names:?}"
        );
        assert!(children.iter().all(|c| c.guid.is_some()));

        runner.run(Effect::FindGroups {
            forest: "lab.example".into(),
            query: "Domain Adm".into(),
        });
        let Reply::Groups(Ok(groups)) = next(&mut rx).await else {
            panic!("expected groups");
        };
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert!(groups[0].dn.to_string().starts_with("CN=Domain Admins"));
        assert!(groups[0].members >= 1);

        // Directory extension candidates from the live schema: single-valued text, number or
        // boolean attributes of user and group, never identity, reference or multi-valued ones.
        runner.run(Effect::ListExtensionAttributes {
            forest: "lab.example".into(),
        });
        let Reply::ExtensionAttributes {
            forest,
            result: Ok(candidates),
        } = next(&mut rx).await
        else {
            panic!("expected the extension candidates");
        };
        assert_eq!(forest, "lab.example", "the reply names the forest read");
        let keys: Vec<String> = candidates.iter().map(|c| c.key()).collect();
        for want in [
            "user.employeeID",
            "user.department",
            "user.msDS-cloudExtensionAttribute1",
            "group.info",
        ] {
            assert!(
                keys.iter().any(|k| k.eq_ignore_ascii_case(want)),
                "{want}: {keys:?}"
            );
        }
        for never in [
            "user.objectGUID",
            "user.manager",
            "user.proxyAddresses",
            "user.memberOf",
            "group.member",
            "user.whenCreated",
            // Constructed (systemFlags 0x4).
            "user.msDS-User-Account-Control-Computed",
            "user.msDS-UserPasswordExpiryTimeComputed",
        ] {
            assert!(
                !keys.iter().any(|k| k.eq_ignore_ascii_case(never)),
                "{never}: {keys:?}"
            );
        }
        assert!(
            candidates
                .iter()
                .all(|c| ["str", "num", "bool"].contains(&c.kind))
        );

        runner.run(Effect::Configure(ConfigureStep::CreateConnectorAccount {
            forest: "lab.example".into(),
            admin_username: dc.admin_user.clone(),
            admin_password: Secret::new(dc.admin_password.clone()),
            secret_name: "ad-lab.example".into(),
            features: Features::default(),
        }));
        let Reply::Step(Ok(StepOutput::ConnectorAccount {
            username,
            secret_ref,
        })) = next(&mut rx).await
        else {
            panic!("expected the connector account");
        };
        assert!(
            username.starts_with("MSOL_") && username.ends_with("@lab.example"),
            "{username}"
        );
        assert_eq!(secret_ref, SecretRef::Store("ad-lab.example".into()));
        let password = creds.resolve(&secret_ref).unwrap();
        assert!(password.expose().len() >= 64);

        // The stored password binds as the new account.
        runner.run(Effect::TestAdBind {
            forest: "lab.example".into(),
            domain_controllers: dcs.clone(),
            tls: TlsMode::Ldaps,
            username: username.clone(),
            password,
        });
        assert!(matches!(next(&mut rx).await, Reply::Forest(Ok(_))));
    });
}

// --- install options ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_options_are_checked_on_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::new(tokio::runtime::Handle::current(), tx);
    let broken = dir.path().join("settings.json");
    std::fs::write(&broken, "not json").unwrap();
    runner.run(Effect::CheckInstallOptions {
        state_dir: Some(dir.path().join("new/state")),
        // The real user database: root exists and is refused as the service account.
        service_user: Some("root".into()),
        import: Some(broken.clone()),
    });
    match next(&mut rx).await {
        Reply::InstallOptions {
            state_dir: Some(Ok(d)),
            service_user: Some(Err(u)),
            import: Some(Err(i)),
        } => {
            assert!(d.starts_with("will be created in"), "{d}");
            assert!(u.message.contains("uid 0"), "{u:?}");
            assert!(i.message.contains(&broken.display().to_string()), "{i:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!dir.path().join("new").exists(), "checking creates nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_state_directory_receives_the_secrets_stored_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let default_dir = dir.path().join("default");
    let custom = dir.path().join("srv/hybridsync");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opener: hybridsync::effects::StoreOpener = Arc::new(|d: &std::path::Path| Ok(store(d)));
    let context = Context {
        credentials: Some(store(&default_dir)),
        open_store: Some(opener),
        ..Context::default()
    };
    let mut runner = TokioRunner::with_context(tokio::runtime::Handle::current(), tx, context);
    runner.run(Effect::Configure(ConfigureStep::UseStateDir {
        path: custom.clone(),
    }));
    assert_eq!(next(&mut rx).await, Reply::Step(Ok(StepOutput::Done)));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&custom).unwrap().permissions().mode() & 0o777,
        0o700
    );
    runner.run(Effect::Configure(ConfigureStep::StoreSecret {
        name: "ad-corp.example.com".into(),
        secret: Secret::new("s3cret".to_string()),
    }));
    assert_eq!(next(&mut rx).await, Reply::Step(Ok(StepOutput::Done)));
    let r = SecretRef::Store("ad-corp.example.com".into());
    assert_eq!(store(&custom).resolve(&r).unwrap().expose(), "s3cret");
    assert!(
        store(&default_dir).resolve(&r).is_err(),
        "nothing went to the default state directory"
    );
}

// --- several forests ---

/// Run `effects` on the real runner and feed every reply back to the wizard until nothing is
/// outstanding (each effect here answers once).
fn settle(
    rt: &tokio::runtime::Runtime,
    runner: &mut TokioRunner,
    rx: &mut UnboundedReceiver<Reply>,
    s: &mut hybridsync::wizard::app::State,
    mut effects: Vec<Effect>,
) {
    use hybridsync::wizard::app::{Message, update};
    let mut outstanding = 0;
    loop {
        for e in effects.drain(..) {
            if !matches!(e, Effect::Cancel(_)) {
                outstanding += 1;
            }
            runner.run(e);
        }
        if outstanding == 0 {
            return;
        }
        let r = rt.block_on(next(rx));
        outstanding -= 1;
        effects = update(s, Message::Reply(r));
    }
}

#[test]
fn two_forests_samba_and_ldif_through_the_pages_with_the_real_runner() {
    use hybridsync::wizard::app::{InstallPath, Message, PageId, State, build_config, update};
    use hybridsync::wizard::keys::{ctrl, press};
    use hybridsync::wizard::pages::{configure, ou_filtering};
    use ratatui::crossterm::event::KeyCode;

    let dc = samba::SambaDc::shared();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let creds = store(&dir.path().join("state"));
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/sample-directory.ldif"
    );
    let ctx = Context {
        credentials: Some(creds.clone()),
        ad_ca_file: Some(dc.ca_file.clone()),
        ldif_forests: vec![("contoso.example".into(), sample.into())],
        ..Context::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(rt.handle().clone(), tx, ctx);
    let mut s = State::new(dir.path().join("hybridsync.toml"), dir.path().join("state"));
    s.path = InstallPath::Custom;
    s.page = PageId::ConnectDirectories;
    let mut key = |s: &mut State, k| {
        let effects = update(s, Message::Key(k));
        settle(&rt, &mut runner, &mut rx, s, effects);
    };
    let typ = |s: &mut State, text: &str| {
        for c in text.chars() {
            let _ = update(s, Message::Key(press(KeyCode::Char(c))));
        }
    };
    // The Samba forest: its domain controller over LDAPS, a new connector account (Ctrl+N
    // keeps the page for the next forest).
    typ(&mut s, "lab.example");
    key(&mut s, press(KeyCode::Tab));
    typ(&mut s, &format!("{}:{}", dc.host, dc.ldaps_port));
    for _ in 0..3 {
        key(&mut s, press(KeyCode::Tab));
    }
    typ(&mut s, &dc.admin_user);
    key(&mut s, press(KeyCode::Tab));
    typ(&mut s, &dc.admin_password);
    key(&mut s, ctrl('n'));
    assert_eq!(
        s.directories.added.len(),
        1,
        "{:?} {:?}",
        s.directories.bind,
        s.directories.errors
    );
    // The sample directory (read from its LDIF file; the account is not used to read it).
    typ(&mut s, "contoso.example");
    for _ in 0..3 {
        key(&mut s, press(KeyCode::Tab));
    }
    key(&mut s, press(KeyCode::Char(' '))); // existing account
    key(&mut s, press(KeyCode::Tab));
    typ(&mut s, "svc-sync@contoso.example");
    key(&mut s, press(KeyCode::Tab));
    typ(&mut s, "unused");
    key(&mut s, press(KeyCode::Enter));
    assert_eq!(s.page, PageId::UpnSuffixes, "{:?}", s.directories.bind);
    key(&mut s, press(KeyCode::Enter));
    assert_eq!(s.page, PageId::OuFiltering);

    // lab.example: clear the Domain Controllers OU (read live, with its objectGUID).
    let clear = |s: &mut State,
                 key: &mut dyn FnMut(&mut State, ratatui::crossterm::event::KeyEvent),
                 starts: &str| {
        key(s, press(KeyCode::Down));
        key(s, press(KeyCode::Down));
        key(s, press(KeyCode::Char(' '))); // Sync selected
        let rows = ou_filtering::rows(&s.ous);
        let i = rows
            .iter()
            .position(|(dn, _)| dn.to_string().starts_with(starts))
            .unwrap_or_else(|| panic!("{starts} in {rows:?}"));
        for _ in 0..=i {
            key(s, press(KeyCode::Down));
        }
        key(s, press(KeyCode::Char(' ')));
        for _ in 0..s.ous.cursor {
            key(s, press(KeyCode::Up));
        }
    };
    assert_eq!(s.ous.forest, "lab.example");
    clear(&mut s, &mut key, "OU=Domain Controllers,");
    key(&mut s, press(KeyCode::Char(' '))); // the Forest row: contoso.example
    assert_eq!(s.ous.forest, "contoso.example");
    clear(&mut s, &mut key, "OU=Contoso,");
    key(&mut s, press(KeyCode::Enter));
    assert_eq!(s.page, PageId::IdentifyingUsers);

    let c = build_config(&s);
    assert_eq!(c.directories.len(), 2);
    let (lab, contoso) = (&c.directories[0], &c.directories[1]);
    assert_eq!(lab.forest, "lab.example");
    assert_eq!(lab.scope.exclude.len(), 1, "{:?}", lab.scope);
    assert!(
        lab.scope.exclude[0]
            .dn
            .to_string()
            .starts_with("OU=Domain Controllers,")
    );
    assert!(lab.scope.exclude[0].guid.is_some(), "the live objectGUID");
    assert_eq!(contoso.forest, "contoso.example");
    assert_eq!(
        contoso.scope.exclude[0].dn.to_string(),
        "OU=Contoso,DC=contoso,DC=example"
    );

    // Configure: the account is created in the Samba forest, the existing account's password
    // stored for the other; the sync application needs the Entra ID sign-in this test skipped,
    // so the run stops there with its fix.
    let effects = configure::enter(&mut s);
    settle(&rt, &mut runner, &mut rx, &mut s, effects);
    let (user, r) = configure::created_account(&s, "lab.example").expect("the account");
    assert!(
        user.starts_with("MSOL_") && user.ends_with("@lab.example"),
        "{user}"
    );
    assert!(creds.resolve(r).unwrap().expose().len() >= 64);
    assert_eq!(
        creds
            .resolve(&SecretRef::Store("ad-contoso.example".into()))
            .unwrap()
            .expose(),
        "unused"
    );
    assert!(matches!(
        s.configure.steps[2],
        (
            configure::Step::RegisterApplication,
            configure::Status::Failed(_)
        )
    ));
    assert_eq!(build_config(&s).directories[0].account.username, user);

    // The rights check of an existing account, live: the account hybridsync created holds every
    // right the features need; the domain administrator is refused as a connector account.
    let features = hybridsync::provision::rights::Features::from_config(&build_config(&s));
    rt.block_on(async {
        runner.run(Effect::CheckAccountRights {
            forest: "lab.example".into(),
            features: features.clone(),
        });
        let Reply::AccountRights {
            result: Ok(rights), ..
        } = next(&mut rx).await
        else {
            panic!("expected the rights");
        };
        assert!(rights.privileged.is_empty(), "{rights:?}");
        assert!(!rights.lines.is_empty());
        assert!(rights.missing().is_empty(), "{rights:?}");
        runner.run(Effect::TestAdBind {
            forest: "lab.example".into(),
            domain_controllers: vec![format!("{}:{}", dc.host, dc.ldaps_port)],
            tls: TlsMode::Ldaps,
            username: dc.admin_user.clone(),
            password: Secret::new(dc.admin_password.clone()),
        });
        assert!(matches!(next(&mut rx).await, Reply::Forest(Ok(_))));
        runner.run(Effect::CheckAccountRights {
            forest: "lab.example".into(),
            features,
        });
        let Reply::AccountRights {
            result: Ok(rights), ..
        } = next(&mut rx).await
        else {
            panic!("expected the rights");
        };
        assert!(!rights.privileged.is_empty(), "{rights:?}");
    });
}
