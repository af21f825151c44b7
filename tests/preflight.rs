#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The preflight against a real Samba AD DC (tests/support/samba.rs) and the in-process tenant
//! emulator: a complete report with the exact verdicts of the seeded domain (UPN suffixes
//! Verified / Not verified / Not added), and the failing cases: a CA that did not sign the DC's
//! certificate, closed ports, a skewed clock, a wrong password, a refused token, Exchange hybrid
//! without the Exchange schema, and an account without rights reported with exactly the rights
//! it lacks; with two forests, group writeback is checked only in its writeback forest.

#[path = "support/emulator.rs"]
mod emulator;
#[path = "support/samba.rs"]
mod samba;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hybridsync::connectors::ad::{AdOptions, Endpoint};
use hybridsync::connectors::entra::{
    ClientCredential, EntraOptions, ExportPolicy, RetryPolicy, WriteLimit,
};
use hybridsync::domain::Secret;
use hybridsync::preflight::{
    self, AdContext, DirectoryTarget, Inputs, LocalTarget, Ports, Report, Status,
};
use hybridsync::provision::rights::Features;
use samba::SambaDc;
use serde_json::json;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(dc: &SambaDc, user: &str, password: &str) -> AdOptions {
    let mut o = AdOptions::new(
        "lab.example",
        Endpoint {
            host: dc.host.clone(),
            port: dc.ldaps_port,
        },
        user,
        Secret::new(password.to_owned()),
    );
    o.settings.ca_file = Some(dc.ca_file.clone());
    o.settings.timeout = Duration::from_secs(10);
    o.domain = dc.dns_domain.clone();
    o.dns_server = Some(SocketAddr::new(dc.host.parse().unwrap(), 53));
    o
}

fn ports(dc: &SambaDc) -> Ports {
    Ports {
        ldap: dc.ldap_port,
        ldaps: dc.ldaps_port,
        gc: dc.gc_port,
        kerberos: dc.kerberos_port,
    }
}

fn target(dc: &SambaDc, o: AdOptions) -> DirectoryTarget {
    DirectoryTarget {
        name: "lab.example".into(),
        options: o,
        ports: ports(dc),
        scope: Default::default(),
        features: features(),
    }
}

fn tenant(emu: &emulator::Emu, secret: &str) -> EntraOptions {
    let a = &emu.b.application;
    EntraOptions {
        name: "entra".into(),
        tenant: emu.b.tenant_id.clone(),
        authority_host: emu.b.base_url.clone(),
        graph_base: emu.b.graph_base_url.clone(),
        scope: "https://graph.microsoft.com/.default".into(),
        ca_file: emu.b.ca_file.clone(),
        client_id: a.client_id.clone(),
        credential: ClientCredential::Secret(Secret::new(secret.to_owned())),
        policy: ExportPolicy { soft_match: true },
        write_limit: WriteLimit::default(),
        retry: RetryPolicy::default(),
        extensions: Vec::new(),
    }
}

fn features() -> Features {
    Features {
        password_hash_sync: true,
        consistency_guid_anchor: true,
        ..Features::default()
    }
}

fn inputs(directories: Vec<DirectoryTarget>, t: Option<EntraOptions>) -> Inputs {
    Inputs {
        directories,
        tenant: t,
        tenant_missing: None,
        local: None,
        context: AdContext { clock_offset: 0 },
        continue_without_verified: false,
        readiness: None,
    }
}

fn run(rt: &tokio::runtime::Runtime, i: Inputs) -> Report {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let report = rt.block_on(preflight::run(
        i,
        Arc::new(move |r| s.lock().unwrap().push(r.id.clone())),
    ));
    assert_eq!(
        seen.lock().unwrap().len(),
        report.checks.len(),
        "every result went through the progress callback"
    );
    report
}

fn one<'a>(r: &'a Report, id: &str) -> &'a preflight::CheckResult {
    r.get(id)
        .unwrap_or_else(|| panic!("no {id} in the report:\n{}", r.text()))
}

/// An emulated tenant with lab.example verified and example.com added but not verified.
fn emulated_tenant(rt: &tokio::runtime::Runtime) -> emulator::Emu {
    let emu = rt.block_on(emulator::start_with(|c| {
        c.domains = vec!["lab.example".into()];
    }));
    let (status, body) =
        rt.block_on(emu.graph("POST", "/domains", Some(json!({"id": "example.com"}))));
    assert_eq!(status, 201, "{body}");
    emu
}

#[test]
fn a_complete_report_against_the_dc_and_the_tenant() {
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);
    let state = tempfile::tempdir().unwrap();
    let mut i = inputs(
        vec![target(dc, options(dc, &dc.admin_user, &dc.admin_password))],
        Some(tenant(&emu, &emu.b.application.client_secret)),
    );
    i.local = Some(LocalTarget {
        config: (state.path().join("hybridsync.toml"), Ok(())),
        state_dir: state.path().to_path_buf(),
        database: state.path().join("hybridsync.db"),
    });
    let r = run(&rt, i);
    let text = r.text();
    let pass = |id: &str| {
        let c = one(&r, id);
        assert_eq!(c.status, Status::Pass, "{id}:\n{text}");
        c
    };
    assert!(
        pass("ad.dns")
            .found
            .contains(&format!("{}:389", dc.dc_host_name)),
        "{text}"
    );
    let ports = pass("ad.ports");
    for p in [dc.ldap_port, dc.ldaps_port, dc.gc_port, dc.kerberos_port] {
        assert!(ports.found.contains(&format!("{p}/tcp open")), "{text}");
    }
    let tls = pass("ad.tls");
    assert!(tls.found.contains("expires in"), "{text}");
    assert!(tls.found.contains("verified against the CA file"), "{text}");
    assert!(
        tls.found.contains(&dc.host),
        "the certificate names the address: {text}"
    );
    assert!(pass("ad.bind").found.contains("encrypted"), "{text}");
    assert!(
        pass("ad.clock").found.contains("s ahead of")
            || pass("ad.clock").found.contains("s behind")
    );
    assert!(
        pass("ad.functional_level")
            .found
            .contains("Windows Server 2008 R2"),
        "{text}"
    );
    assert!(pass("ad.schema").found.contains("mS-DS-ConsistencyGuid"));
    assert_ne!(one(&r, "ad.recycle_bin").status, Status::Fail, "{text}");
    assert!(
        !one(&r, "ad.recycle_bin").fix.is_empty()
            || one(&r, "ad.recycle_bin").status == Status::Pass
    );
    // The administrator has every right, but may not be the connector account.
    let perms = one(&r, "ad.permissions");
    assert_eq!(perms.status, Status::Fail, "{text}");
    assert!(perms.found.contains("Domain Admins"), "{text}");
    assert!(
        perms
            .found
            .contains("Replicating Directory Changes All -- granted"),
        "{text}"
    );
    assert!(perms.fix.contains("not allowed"), "{text}");
    pass("tenant.reachable");
    pass("tenant.token");
    let domains = pass("tenant.domains");
    assert!(
        domains.found.contains("example.com (not verified)"),
        "{text}"
    );
    // The seeded suffixes: lab.example x41 (plus users other tests add), example.com x7,
    // lab.local x1 (tests/samba/seed.ldif), as the wizard's sign-in page shows them.
    let upn = one(&r, "upn.suffixes");
    assert_eq!(upn.status, Status::Fail, "{text}");
    assert!(upn.found.contains("lab.example: Verified"), "{text}");
    assert!(
        upn.found.contains("example.com: Not verified (7 users)"),
        "{text}"
    );
    assert!(
        upn.found.contains("lab.local: Not added (1 user)"),
        "{text}"
    );
    assert!(upn.fix.contains("verify example.com"), "{text}");
    assert!(
        upn.fix.contains("lab.local can never be verified"),
        "{text}"
    );
    for id in ["local.config", "local.service", "local.state_dir"] {
        pass(id);
    }
    assert_ne!(one(&r, "local.disk").status, Status::Skip);
    // Declaration order: the forest, the tenant, the suffixes, this machine.
    let ids: Vec<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    let pos = |id| ids.iter().position(|x| *x == id).unwrap();
    assert!(pos("ad.dns") < pos("ad.bind") && pos("ad.bind") < pos("tenant.token"));
    assert!(
        pos("tenant.domains") < pos("upn.suffixes") && pos("upn.suffixes") < pos("local.config")
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["summary"]["fail"], 2, "{json:#}");
    // With the checkbox "continue without matching all UPN suffixes", a warning.
    let mut i = inputs(
        vec![target(dc, options(dc, &dc.admin_user, &dc.admin_password))],
        Some(tenant(&emu, &emu.b.application.client_secret)),
    );
    i.continue_without_verified = true;
    let r = run(&rt, i);
    assert_eq!(one(&r, "upn.suffixes").status, Status::Warn);
}

/// A freshly made CA certificate that signed nothing.
fn other_ca() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("other-ca.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=Some Other CA", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    cert
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn failing_cases_say_what_was_found_and_the_fix() {
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);

    // A CA file that did not sign the DC's certificate.
    let mut o = options(dc, &dc.admin_user, &dc.admin_password);
    o.settings.ca_file = Some(other_ca());
    let r = run(&rt, inputs(vec![target(dc, o)], None));
    let tls = one(&r, "ad.tls");
    assert_eq!(tls.status, Status::Fail, "{}", r.text());
    assert!(tls.found.contains("the handshake failed"), "{}", r.text());
    assert!(
        tls.found.contains("subject"),
        "the certificate is still described: {}",
        r.text()
    );
    assert!(tls.fix.contains("set tls.ca_file"), "{}", r.text());
    assert_eq!(one(&r, "ad.bind").status, Status::Fail);
    assert_eq!(one(&r, "ad.clock").status, Status::Skip, "{}", r.text());

    // Closed ports: Kerberos and the global catalog warn, LDAPS (the configured mode) fails.
    let mut p = ports(dc);
    p.kerberos = free_port();
    p.gc = free_port();
    let r = run(
        &rt,
        inputs(
            vec![DirectoryTarget {
                name: "lab.example".into(),
                options: options(dc, &dc.admin_user, &dc.admin_password),
                ports: p,
                scope: Default::default(),
                features: features(),
            }],
            None,
        ),
    );
    let ports_result = one(&r, "ad.ports");
    assert_eq!(ports_result.status, Status::Warn, "{}", r.text());
    assert!(
        ports_result
            .found
            .contains(&format!("Kerberos {}/tcp closed", p.kerberos))
    );
    assert!(ports_result.fix.contains(&format!("open TCP {}", p.gc)));
    let mut p = ports(dc);
    p.ldaps = free_port();
    let mut o = options(dc, &dc.admin_user, &dc.admin_password);
    o.endpoints[0].port = p.ldaps;
    let r = run(
        &rt,
        inputs(
            vec![DirectoryTarget {
                name: "x".into(),
                options: o,
                ports: p,
                scope: Default::default(),
                features: features(),
            }],
            None,
        ),
    );
    assert_eq!(one(&r, "ad.ports").status, Status::Fail, "{}", r.text());
    assert_eq!(one(&r, "ad.tls").status, Status::Fail, "{}", r.text());
    assert!(
        one(&r, "ad.bind").found.contains("cannot connect"),
        "{}",
        r.text()
    );

    // A clock 10 minutes ahead (simulated: the DC's clock cannot be moved in a shared test).
    let mut i = inputs(
        vec![target(dc, options(dc, &dc.admin_user, &dc.admin_password))],
        None,
    );
    i.context.clock_offset = 600;
    let r = run(&rt, i);
    let clock = one(&r, "ad.clock");
    assert_eq!(clock.status, Status::Fail, "{}", r.text());
    assert!(clock.found.contains("ahead of the DC's"), "{}", clock.found);
    assert!(clock.fix.contains("5 minutes"));

    // A wrong password: the bind fails with AD's reason, the checks that need it are skipped.
    let r = run(
        &rt,
        inputs(vec![target(dc, options(dc, &dc.admin_user, "wrong"))], None),
    );
    let bind = one(&r, "ad.bind");
    assert_eq!(bind.status, Status::Fail);
    assert!(bind.found.contains("LDAP 49"), "{}", bind.found);
    assert!(bind.fix.contains("credential store"));
    for id in [
        "ad.clock",
        "ad.functional_level",
        "ad.schema",
        "ad.permissions",
    ] {
        assert_eq!(one(&r, id).status, Status::Skip, "{id}");
    }
    assert_eq!(r.worst(), Status::Fail);

    // Exchange hybrid chosen but no Exchange schema.
    let mut i = inputs(
        vec![target(dc, options(dc, &dc.admin_user, &dc.admin_password))],
        None,
    );
    i.directories[0].features.exchange_hybrid = true;
    let r = run(&rt, i);
    let schema = one(&r, "ad.schema");
    assert_eq!(schema.status, Status::Fail);
    assert!(
        schema.found.contains("msExchRecipientTypeDetails"),
        "{}",
        schema.found
    );
    assert!(schema.fix.contains("PrepareSchema"));

    // A refused token: the tenant answers, the token is refused, domains are not read.
    let r = run(
        &rt,
        inputs(Vec::new(), Some(tenant(&emu, "not-the-secret"))),
    );
    assert_eq!(
        one(&r, "tenant.reachable").status,
        Status::Pass,
        "{}",
        r.text()
    );
    let token = one(&r, "tenant.token");
    assert_eq!(token.status, Status::Fail, "{}", r.text());
    assert!(token.found.contains("refused"), "{}", token.found);
    assert!(r.get("tenant.domains").is_none());
}

#[test]
fn an_account_without_rights_is_reported_with_exactly_the_rights_it_lacks() {
    let dc = SambaDc::shared();
    let rt = rt();
    let user = format!("norights{}", std::process::id() % 10_000);
    let password = "NoRights-Passw0rd!";
    dc.samba_tool(&["user", "create", &user, password]);
    let mut i = inputs(
        vec![target(
            dc,
            options(dc, &format!("{user}@{}", dc.realm), password),
        )],
        None,
    );
    i.directories[0].features = Features {
        password_hash_sync: true,
        consistency_guid_anchor: true,
        password_writeback: true,
        ..Features::default()
    };
    let r = run(&rt, i);
    let perms = one(&r, "ad.permissions");
    assert_eq!(perms.status, Status::Fail, "{}", r.text());
    let missing: Vec<&str> = perms
        .found
        .lines()
        .filter(|l| !l.ends_with("-- granted"))
        .collect();
    assert_eq!(
        missing,
        [
            "synchronization: Replicating Directory Changes -- missing CR",
            "synchronization: Read all properties on descendant user objects -- missing RP",
            "synchronization: Read all properties on descendant inetOrgPerson objects -- missing RP",
            "synchronization: Read all properties on descendant group objects -- missing RP",
            "synchronization: Read all properties on descendant contact objects -- missing RP",
            "synchronization: Read all properties on descendant computer objects -- missing RP",
            "password hash sync: Replicating Directory Changes All -- missing CR",
            "mS-DS-ConsistencyGuid source anchor: Write mS-DS-ConsistencyGuid on descendant user objects -- missing WP",
            "password writeback: Reset password on descendant user objects -- missing CR",
            "password writeback: Write lockoutTime on descendant user objects -- missing WP",
            "password writeback: Write pwdLastSet on descendant user objects -- missing WP",
        ],
        "{}",
        perms.found
    );
    assert!(
        perms.fix.contains(&format!(
            "dsacls \"{}\" /G \"{user}:CA;Replicating Directory Changes All\"",
            dc.base_dn
        )),
        "{}",
        perms.fix
    );
}

/// `hybridsync preflight` end to end: a configuration naming the DC, the emulated tenant and a
/// connector account that hybridsync created itself gives a report with no failure (exit 0):
/// only the suffixes that cannot be verified (accepted by the checkbox) and the recycle bin warn.
#[test]
fn cli_preflight_against_the_dc_and_the_tenant() {
    use std::os::unix::fs::PermissionsExt;
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("state")).unwrap();
    // The connector account, created the way the wizard does.
    let admin = options(dc, &dc.admin_user, &dc.admin_password);
    let account = rt.block_on(async {
        let mut s = hybridsync::connectors::ad::Session::open(&admin.settings, &admin.endpoints[0])
            .await
            .unwrap();
        let r = hybridsync::provision::account::ensure_account(
            &mut s,
            &hybridsync::provision::account::AccountRequest {
                features: features(),
                ..Default::default()
            },
            |_: String, _: Secret| async { false },
        )
        .await
        .unwrap();
        s.close().await;
        r
    });
    let secret_file = |name: &str, value: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, value).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let ad_secret = secret_file("ad.secret", account.password.expose());
    let app_secret = secret_file("app.secret", &emu.b.application.client_secret);
    let config = format!(
        r#"schema_version = 1

[install]
state_dir = '{state}'

[[directories]]
forest = "{domain}"
domain_controllers = ["{host}:{port}"]
dns_server = "{host}"

[directories.tls]
ca_file = '{ca}'

[directories.account]
username = '{user}'
secret_ref = "file:{ad_secret}"

[sign_in]
method = "password-hash-sync"
continue_without_verified_domains = true

[tenant]
tenant_id = "{tenant}"
authority_host = "{authority}"
graph_endpoint = "{graph}"
ca_file = '{tenant_ca}'

[tenant.application]
client_id = "{client}"
client_secret_ref = "file:{app_secret}"
"#,
        state = work.path().join("state").display(),
        domain = dc.dns_domain,
        host = dc.host,
        port = dc.ldaps_port,
        ca = dc.ca_file.display(),
        user = account.bind_name,
        ad_secret = ad_secret.display(),
        tenant = emu.b.tenant_id,
        authority = emu.b.base_url,
        graph = emu.b.graph_base_url,
        tenant_ca = emu.b.ca_file.as_ref().unwrap().display(),
        client = emu.b.application.client_id,
        app_secret = app_secret.display(),
    );
    let path = work.path().join("hybridsync.toml");
    std::fs::write(&path, config).unwrap();
    let cli = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hybridsync"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .arg("--config")
            .arg(&path)
            .arg("preflight");
        if json {
            cmd.arg("--json")
                .arg("--csv")
                .arg(work.path().join("readiness.csv"));
        }
        cmd.output().unwrap()
    };
    let out = cli(true);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let status = |id: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {v:#}"))["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for id in [
        "ad.dns",
        "ad.ports",
        "ad.tls",
        "ad.bind",
        "ad.clock",
        "ad.functional_level",
        "ad.schema",
        "ad.permissions",
        "tenant.reachable",
        "tenant.token",
        "tenant.domains",
        "local.config",
        "local.service",
        "local.state_dir",
    ] {
        assert_eq!(status(id), "pass", "{id}: {v:#}");
    }
    assert_eq!(status("upn.suffixes"), "warn", "{v:#}");
    assert_eq!(status("ad.readiness"), "warn", "{v:#}");
    assert_eq!(v["summary"]["fail"], 0, "{v:#}");
    assert!(
        v["readiness"][0]["summary"]["synchronized"]
            .as_u64()
            .unwrap()
            >= 60,
        "{v:#}"
    );
    let csv = std::fs::read_to_string(work.path().join("readiness.csv")).unwrap();
    assert!(csv.starts_with("forest,dn,class,attribute,value,severity,problem,fix\n"));
    assert!(
        csv.contains("oliver.grant@lab.local,warning,the suffix lab.local is Not added"),
        "{csv}"
    );
    // The connector account itself is kept out of the tenant, as Entra Connect's MSOL_ is.
    assert!(
        csv.contains(&format!("CN={},CN=Users", account.sam_account_name)),
        "{csv}"
    );
    let out = cli(false);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("[PASS] Bind as"), "{text}");
    assert!(
        text.contains("[WARN] UPN suffixes of lab.example"),
        "{text}"
    );
    assert!(text.contains("lab.local: Not added (1 user)"), "{text}");
    assert!(
        text.contains("Directory readiness of lab.example:"),
        "{text}"
    );
    for secret in [
        account.password.expose(),
        emu.b.application.client_secret.as_str(),
    ] {
        assert!(!text.contains(secret) && !stdout.contains(secret) && !stderr.contains(secret));
    }
}

fn scoped_to(dc: &SambaDc, ou: &str) -> DirectoryTarget {
    use hybridsync::config::model::{ObjectRef, Scope, ScopeMode};
    let mut t = target(dc, options(dc, &dc.admin_user, &dc.admin_password));
    t.scope = Scope {
        mode: ScopeMode::Selected,
        include: vec![ObjectRef {
            dn: hybridsync::domain::Dn::parse(ou).unwrap(),
            guid: None,
        }],
        ..Scope::default()
    };
    t
}

fn readiness(
    rt: &tokio::runtime::Runtime,
    emu: &emulator::Emu,
    t: DirectoryTarget,
) -> (Report, hybridsync::preflight::readiness::ReadinessReport) {
    let mut i = inputs(vec![t], Some(tenant(emu, &emu.b.application.client_secret)));
    i.readiness = Some(Arc::new(
        hybridsync::engine::rules::RuleSet::builtin().unwrap(),
    ));
    let r = run(rt, i);
    assert_eq!(r.readiness.len(), 1, "{}", r.text());
    let rr = r.readiness[0].clone();
    (r, rr)
}

/// The readiness report over the seeded OU=Corp (tests/samba/seed.ldif), with the tenant's
/// domains: the engine's rules decide what is filtered (and the rules' cn fallback gives the
/// groups a display name), the checks find the suffixes the tenant has not verified.
#[test]
fn the_readiness_report_of_the_seeded_directory() {
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);
    let (r, rr) = readiness(&rt, &emu, scoped_to(dc, "OU=Corp,DC=lab,DC=example"));
    let s = rr.summary;
    assert_eq!(
        (s.objects, s.synchronized, s.filtered, s.out_of_scope),
        (62, 60, 2, 0),
        "50 users, 8 groups, 2 contacts, 2 computers:\n{}",
        r.text()
    );
    assert_eq!(
        (s.objects_with_errors, s.objects_with_warnings, s.issues),
        (0, 9, 9)
    );
    let flagged: Vec<&str> = rr
        .issues
        .iter()
        .map(|i| i.dn.split(',').next().unwrap())
        .collect();
    assert_eq!(
        flagged,
        [
            "CN=Legacy Account",
            "CN=Oliver Grant",
            "CN=Omar Haddad",
            "CN=Petra Novak",
            "CN=Priya Raman",
            "CN=Quentin Blanc",
            "CN=Rosa Ferreira",
            "CN=Stefan Horvat",
            "CN=Tessa Jansen",
        ]
    );
    let oliver = rr
        .issues
        .iter()
        .find(|i| i.dn.starts_with("CN=Oliver"))
        .unwrap();
    assert_eq!(oliver.value, "oliver.grant@lab.local");
    assert!(
        oliver.problem.contains("lab.local is Not added"),
        "{oliver:?}"
    );
    let priya = rr
        .issues
        .iter()
        .find(|i| i.dn.starts_with("CN=Priya"))
        .unwrap();
    assert!(
        priya.problem.contains("example.com is Not verified"),
        "{priya:?}"
    );
    assert!(rr.filtered.iter().all(|f| {
        f.class == "computer"
            && f.reason
                .contains("cloudFiltered by 'In from AD - Computer Join'")
            && f.reason.contains("userCertificate")
    }));
    let readiness_check = one(&r, "ad.readiness");
    assert_eq!(readiness_check.status, Status::Warn);
    assert!(
        readiness_check
            .found
            .contains("62 objects read: 60 would synchronize")
    );
    let csv = hybridsync::preflight::readiness::csv(&r.readiness);
    assert_eq!(csv.lines().count(), 1 + 9 + 2, "{csv}");
    assert!(csv.starts_with("forest,dn,class,attribute,value,severity,problem,fix\n"));
    assert!(csv.contains(
        "lab.example,\"CN=Oliver Grant,OU=People,OU=Corp,DC=lab,DC=example\",user,userPrincipalName,oliver.grant@lab.local,warning,"
    ), "{csv}");
    assert!(
        r.text()
            .contains("Directory readiness of lab.example: 62 objects read")
    );
}

/// Values Entra ID rejects or that collide, written into a fresh OU of the real DC (Samba has no
/// Exchange schema, so mailNickname is covered by the unit tests only).
#[test]
fn the_readiness_report_finds_invalid_and_duplicate_values() {
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);
    let ou = dc.fresh_ou("idfix");
    let n = std::process::id() % 10_000;
    dc.ldif_modify(&format!(
        "dn: CN=Dup A,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dupa{n}\n\
         userPrincipalName: dup.a{n}@lab.example\nmail: shared{n}@lab.example\n\
         proxyAddresses: SMTP:shared{n}@lab.example\ndisplayName: Dup A\n\n\
         dn: CN=Dup B,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dupb{n}\n\
         userPrincipalName: dup.b{n}@lab.example\nmail: shared{n}@lab.example\n\
         proxyAddresses: SMTP:shared{n}@lab.example\ndisplayName: Dup B\n\n\
         dn: CN=Bad Values,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: bad{n}\n\
         userPrincipalName: bad value{n}.@lab.example\n\
         proxyAddresses: SMTP:one{n}@lab.example\nproxyAddresses: SMTP:two{n}@lab.example\n\
         proxyAddresses: smtp:nowhere\ndisplayName:  padded \n\n\
         dn: CN=No Display Group,{ou}\nchangetype: add\nobjectClass: group\n\
         sAMAccountName: nodisplay{n}\n\n\
         dn: CN=MSOL_0123456789ab,{ou}\nchangetype: add\nobjectClass: user\n\
         sAMAccountName: MSOL_{n}\n"
    ));
    let (r, rr) = readiness(&rt, &emu, scoped_to(dc, &ou));
    let text = r.text();
    let s = rr.summary;
    assert_eq!((s.objects, s.synchronized, s.filtered), (5, 4, 1), "{text}");
    let about = |cn: &str| -> Vec<String> {
        rr.issues
            .iter()
            .filter(|i| i.dn == format!("CN={cn},{ou}"))
            .map(|i| format!("{} {}: {}", i.attribute, i.value, i.problem))
            .collect()
    };
    let dup_a = about("Dup A");
    assert!(
        dup_a.contains(&format!(
            "mail shared{n}@lab.example: duplicate: also on CN=Dup B,{ou}"
        )),
        "{dup_a:#?}"
    );
    assert!(
        dup_a.contains(&format!(
            "proxyAddresses smtp:shared{n}@lab.example: duplicate: also on CN=Dup B,{ou}"
        )),
        "{dup_a:#?}"
    );
    assert_eq!(about("Dup B").len(), 2);
    let bad = about("Bad Values").join("\n");
    for needle in [
        "characters not allowed before '@': ' '",
        "a '.' right before '@'",
        "more than one primary address",
        "proxyAddresses smtp:nowhere: not a routable SMTP address",
        "leading or trailing whitespace",
    ] {
        assert!(bad.contains(needle), "{needle} in\n{bad}");
    }
    assert!(
        about("No Display Group").is_empty(),
        "the rules fall back to cn: {text}"
    );
    assert_eq!(rr.filtered.len(), 1);
    assert!(
        rr.filtered[0]
            .reason
            .contains("an Entra Connect account (MSOL_)"),
        "{:?}",
        rr.filtered
    );
    assert_eq!(s.objects_with_errors, 3, "{text}");
}

/// Rights granted on the domain root reach only what inherits: an OU in scope with inheritance
/// disabled is named (a failure when a chosen feature writes to users, a warning otherwise),
/// and so are protected accounts (adminCount=1) when a feature writes to users.
#[test]
fn ous_that_block_inheritance_and_protected_accounts_are_reported() {
    use hybridsync::provision::rights::Features;
    use hybridsync::provision::sd::SE_DACL_PROTECTED;
    // A DC of its own: the protected OU and account would change the other tests' domain.
    let own = SambaDc::start();
    let dc = &own;
    let rt = rt();
    let inheriting = dc.fresh_ou("inherits");
    let closed = dc.fresh_ou("noinherit");
    dc.ldif_modify(&format!(
        "dn: CN=Ops Admin,{closed}\nchangetype: add\nobjectClass: user\nsAMAccountName: opsadmin\nadminCount: 1\n"
    ));
    rt.block_on(async {
        let o = options(dc, &dc.admin_user, &dc.admin_password);
        let mut s = hybridsync::connectors::ad::Session::open(&o.settings, &o.endpoints[0])
            .await
            .unwrap();
        let dn = hybridsync::domain::Dn::parse(&closed).unwrap();
        let (mut sd, _) = hybridsync::provision::rights::read_dacl(&mut s, &dn)
            .await
            .unwrap();
        sd.control |= SE_DACL_PROTECTED;
        sd.owner = None;
        sd.group = None;
        sd.sacl = None;
        s.modify_with(
            &closed,
            vec![ldap3::Mod::Replace(
                b"nTSecurityDescriptor".to_vec(),
                std::collections::HashSet::from([sd.serialize()]),
            )],
            vec![hybridsync::connectors::ad::dirsync::sd_flags(
                hybridsync::connectors::ad::dirsync::SD_DACL,
            )],
        )
        .await
        .unwrap();
        s.close().await;
    });
    let check = |ou: &str, features: Features| {
        let mut i = inputs(vec![scoped_to(dc, ou)], None);
        i.directories[0].features = features;
        let r = run(&rt, i);
        one(&r, "ad.inheritance").clone()
    };
    let writes = Features {
        consistency_guid_anchor: true,
        ..Features::default()
    };
    let c = check(&inheriting, writes.clone());
    assert_eq!(c.status, Status::Pass, "{c:?}");

    let c = check(&closed, writes);
    assert_eq!(c.status, Status::Fail, "{c:?}");
    assert!(
        c.found.contains("inheritance is disabled on 1 OU(s)") && c.found.contains(&closed),
        "{c:?}"
    );
    assert!(
        c.found.contains("1 protected account(s)") && c.found.contains("opsadmin"),
        "{c:?}"
    );
    assert!(c.fix.contains("Enable inheritance"), "{c:?}");

    // Only reading: the OU is a warning, protected accounts are not mentioned.
    let c = check(&closed, Features::default());
    assert_eq!(c.status, Status::Warn, "{c:?}");
    assert!(!c.found.contains("protected account"), "{c:?}");
}

/// `hybridsync preflight` with two forests: the DC's (lab.example) and fabrikam.example, which
/// no DC answers for. Group writeback goes to fabrikam: the DC's forest is checked without it
/// (no group writeback rights, no writeback container check) and fabrikam's writeback check is
/// reported as its own (skipped: its bind fails). Moved to lab.example, the same run checks the
/// OU and its rights there, and no longer in fabrikam.
#[test]
fn cli_preflight_checks_group_writeback_only_in_its_forest() {
    use std::os::unix::fs::PermissionsExt;
    let dc = SambaDc::shared();
    let rt = rt();
    let emu = emulated_tenant(&rt);
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("state")).unwrap();
    let lab_ou = dc.fresh_ou("cloudgroups");
    let secret_file = |name: &str, value: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, value).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let lab_secret = secret_file("lab.secret", &dc.admin_password);
    let fab_secret = secret_file("fab.secret", "Fabrikam-Passw0rd!");
    let app_secret = secret_file("app.secret", &emu.b.application.client_secret);
    let closed = free_port();
    let config = |writeback_forest: &str, ou: &str| {
        format!(
            r#"schema_version = 1

[install]
state_dir = '{state}'

[[directories]]
forest = "{domain}"
domain_controllers = ["{host}:{port}"]
dns_server = "{host}"

[directories.tls]
ca_file = '{ca}'

[directories.account]
username = '{user}'
secret_ref = "file:{lab_secret}"

[[directories]]
forest = "fabrikam.example"
domain_controllers = ["127.0.0.1:{closed}"]
dns_server = "{host}"

[directories.tls]
ca_file = '{ca}'

[directories.account]
username = 'svc-sync@fabrikam.example'
secret_ref = "file:{fab_secret}"

[sign_in]
method = "password-hash-sync"
continue_without_verified_domains = true

[features.group_writeback]
enabled = true
forest = "{writeback_forest}"
target_ou = {{ dn = "{ou}" }}

[tenant]
tenant_id = "{tenant}"
authority_host = "{authority}"
graph_endpoint = "{graph}"
ca_file = '{tenant_ca}'

[tenant.application]
client_id = "{client}"
client_secret_ref = "file:{app_secret}"
"#,
            state = work.path().join("state").display(),
            domain = dc.dns_domain,
            host = dc.host,
            port = dc.ldaps_port,
            ca = dc.ca_file.display(),
            user = dc.admin_user,
            lab_secret = lab_secret.display(),
            fab_secret = fab_secret.display(),
            tenant = emu.b.tenant_id,
            authority = emu.b.base_url,
            graph = emu.b.graph_base_url,
            tenant_ca = emu.b.ca_file.as_ref().unwrap().display(),
            client = emu.b.application.client_id,
            app_secret = app_secret.display(),
        )
    };
    let path = work.path().join("hybridsync.toml");
    let cli = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hybridsync"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .arg("--config")
            .arg(&path)
            .arg("preflight");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // The administrator may not be the connector account and fabrikam cannot be reached:
        // failures, but a report.
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        stdout
    };
    let checks = |v: &serde_json::Value, forest: &str, id: &str| -> Vec<serde_json::Value> {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["forest"] == forest && c["id"] == id)
            .cloned()
            .collect()
    };
    let lab = dc.dns_domain.as_str();

    // Group writeback into fabrikam.example.
    std::fs::write(
        &path,
        config("fabrikam.example", "OU=Cloud Groups,DC=fabrikam,DC=example"),
    )
    .unwrap();
    let stdout = cli(true);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(checks(&v, lab, "ad.bind")[0]["status"], "pass", "{v:#}");
    let perms = checks(&v, lab, "ad.permissions");
    assert_eq!(perms.len(), 1, "{v:#}");
    let found = perms[0]["found"].as_str().unwrap();
    assert!(
        found.contains("password hash sync: Replicating Directory Changes All -- granted"),
        "the features of every forest are checked in lab.example: {found}"
    );
    assert!(
        !found.contains("group writeback"),
        "group writeback is not checked in lab.example: {found}"
    );
    assert!(checks(&v, lab, "ad.writeback").is_empty(), "{v:#}");
    assert_eq!(
        checks(&v, "fabrikam.example", "ad.bind")[0]["status"],
        "fail",
        "{v:#}"
    );
    let wb = checks(&v, "fabrikam.example", "ad.writeback");
    assert_eq!(wb.len(), 1, "{v:#}");
    assert_eq!(wb[0]["status"], "skip", "{v:#}");
    // Every forest check names its forest; the tenant's name none.
    for c in v["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if id.starts_with("ad.") || id.starts_with("upn.") {
            assert!(
                c["forest"] == lab || c["forest"] == "fabrikam.example",
                "{c:#}"
            );
        } else {
            assert!(c.get("forest").is_none(), "{c:#}");
        }
    }
    let text = cli(false);
    assert!(
        text.contains("(ad.writeback, forest fabrikam.example)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("(ad.permissions, forest {lab})")),
        "{text}"
    );

    // Group writeback into lab.example: the OU and its rights are checked there, not in
    // fabrikam.
    std::fs::write(&path, config(lab, &lab_ou)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&cli(true)).unwrap();
    let wb = checks(&v, lab, "ad.writeback");
    assert_eq!(wb.len(), 1, "{v:#}");
    assert_eq!(wb[0]["status"], "pass", "{v:#}");
    assert!(
        wb[0]["found"]
            .as_str()
            .unwrap()
            .contains(&format!("group writeback: {lab_ou} exists")),
        "{v:#}"
    );
    let found = checks(&v, lab, "ad.permissions")[0]["found"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        found.contains(&format!(
            "group writeback: Create and delete group objects in {lab_ou} -- granted"
        )),
        "{found}"
    );
    assert!(
        checks(&v, "fabrikam.example", "ad.writeback").is_empty(),
        "{v:#}"
    );

    // An OU that lab.example does not have: the writeback check fails naming it, and the
    // rights check still evaluates every other right.
    let missing = format!("OU=No Such Groups,{}", dc.base_dn);
    std::fs::write(&path, config(lab, &missing)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&cli(true)).unwrap();
    let wb = &checks(&v, lab, "ad.writeback")[0];
    assert_eq!(wb["status"], "fail", "{v:#}");
    assert!(
        wb["found"].as_str().unwrap().contains("does not exist")
            && wb["fix"].as_str().unwrap().contains("No Such Groups"),
        "{wb:#}"
    );
    let found = checks(&v, lab, "ad.permissions")[0]["found"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        found.contains("password hash sync: Replicating Directory Changes All -- granted"),
        "{found}"
    );
    assert!(
        found.contains("group writeback: Create and delete group objects in OU=No Such Groups")
            && found.contains("-- not checked: OU=No Such Groups")
            && found.contains("does not exist"),
        "{found}"
    );
}
