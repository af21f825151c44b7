#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The Samba AD lab harness itself (tests/support/samba.rs, tests/samba/lab.sh): the DC answers
//! over plain LDAP, LDAPS and StartTLS with a certificate that verifies against the harness's
//! CA only, the administrator binds in all three name forms, the seeded directory is exactly what
//! tests/samba/seed.ldif documents, test OUs and bulk users work, a dropped DC frees its port,
//! and a DC outlives no test process, not even one killed with SIGKILL.

#[path = "support/samba.rs"]
mod samba;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use samba::SambaDc;

/// What tests/samba/seed.ldif puts under OU=Corp (its header has the full list).
const SEEDED_USERS: usize = 50;
const SEEDED_DISABLED_USERS: usize = 4;
const SEEDED_GROUPS: usize = 8;
const SEEDED_OUS_UNDER_CORP: usize = 10; // OU=Corp itself and 9 below it
const SEEDED_CONTACTS: usize = 2;
const SEEDED_COMPUTERS: usize = 2;
/// Users that are members of "VPN Users" directly or through nested groups.
const VPN_USERS_TRANSITIVE: usize = 36;

const PERSONS: &str = "(&(objectCategory=person)(objectClass=user))";

/// Trust exactly the lab's CA.
fn tls_config(ca_file: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    assert_eq!(
        roots.len(),
        1,
        "{} holds one CA certificate",
        ca_file.display()
    );
    Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn connect(url: &str, settings: LdapConnSettings) -> Ldap {
    let settings = settings.set_conn_timeout(Duration::from_secs(10));
    let (conn, ldap) = LdapConnAsync::with_settings(settings, url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    ldap3::drive!(conn);
    ldap
}

/// LDAPS, verified against the lab CA, bound as the administrator.
async fn admin(dc: &SambaDc) -> Ldap {
    let settings = LdapConnSettings::new().set_config(tls_config(&dc.ca_file));
    let mut ldap = connect(&dc.ldaps_url(), settings).await;
    ldap.simple_bind(&dc.admin_user, &dc.admin_password)
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

async fn default_naming_context(ldap: &mut Ldap) -> String {
    let (entries, _) = ldap
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec!["defaultNamingContext"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let root = SearchEntry::construct(entries.into_iter().next().unwrap());
    root.attrs["defaultNamingContext"][0].clone()
}

async fn search(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> Vec<SearchEntry> {
    let (entries, _) = ldap
        .search(base, scope, filter, attrs.to_vec())
        .await
        .unwrap_or_else(|e| panic!("search {base} {filter}: {e}"))
        .success()
        .unwrap_or_else(|e| panic!("search {base} {filter}: {e}"));
    entries.into_iter().map(SearchEntry::construct).collect()
}

async fn count(ldap: &mut Ldap, base: &str, filter: &str) -> usize {
    search(ldap, base, Scope::Subtree, filter, &["1.1"])
        .await
        .len()
}

fn one<'a>(entry: &'a SearchEntry, attr: &str) -> &'a str {
    match entry.attrs.get(attr).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("{}: expected one {attr}, got {other:?}", entry.dn),
    }
}

fn port_open(host: &str, port: u16) -> bool {
    let addr: SocketAddr = format!("{host}:{port}").parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// True while `pid` is a live (non-zombie) process.
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn root_dse_over_ldap_ldaps_and_starttls_verified_against_the_lab_ca() {
    let dc = SambaDc::shared();
    let tls = tls_config(&dc.ca_file);

    let mut plain = connect(&dc.ldap_url(), LdapConnSettings::new()).await;
    assert_eq!(default_naming_context(&mut plain).await, dc.base_dn);

    let mut ldaps = connect(
        &dc.ldaps_url(),
        LdapConnSettings::new().set_config(tls.clone()),
    )
    .await;
    assert_eq!(default_naming_context(&mut ldaps).await, dc.base_dn);

    let starttls = LdapConnSettings::new().set_starttls(true).set_config(tls);
    let mut starttls = connect(&dc.ldap_url(), starttls).await;
    assert_eq!(default_naming_context(&mut starttls).await, dc.base_dn);

    // The verification is real: trusting nothing (or the system's CAs) fails the handshake.
    let untrusted = Arc::new(
        ClientConfig::builder()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    );
    let settings = LdapConnSettings::new()
        .set_config(untrusted)
        .set_conn_timeout(Duration::from_secs(10));
    let err = LdapConnAsync::with_settings(settings, &dc.ldaps_url())
        .await
        .err()
        .expect("an LDAPS handshake without the lab CA must fail");
    assert!(
        err.to_string().contains("UnknownIssuer"),
        "unexpected error: {err}"
    );
}

#[tokio::test]
async fn administrator_binds_as_upn_down_level_name_and_dn() {
    let dc = SambaDc::shared();
    let tls = tls_config(&dc.ca_file);
    for name in [
        dc.admin_user.clone(),
        dc.admin_down_level(),
        dc.admin_dn.clone(),
    ] {
        let mut ldap = connect(
            &dc.ldaps_url(),
            LdapConnSettings::new().set_config(tls.clone()),
        )
        .await;
        ldap.simple_bind(&name, &dc.admin_password)
            .await
            .unwrap()
            .success()
            .unwrap_or_else(|e| panic!("bind as {name}: {e}"));
        // Samba refuses anonymous searches, so reading the domain object proves the bind.
        let domain = search(
            &mut ldap,
            &dc.base_dn,
            Scope::Base,
            "(objectClass=domain)",
            &["dc"],
        )
        .await;
        assert_eq!(one(&domain[0], "dc"), "lab", "as {name}");
        ldap.unbind().await.unwrap();
    }
    let mut ldap = connect(&dc.ldaps_url(), LdapConnSettings::new().set_config(tls)).await;
    let wrong = ldap
        .simple_bind(&dc.admin_user, "not the password")
        .await
        .unwrap();
    assert_eq!(wrong.rc, 49, "invalidCredentials: {wrong:?}");
}

#[tokio::test]
async fn seeded_directory_matches_seed_ldif() {
    let dc = SambaDc::shared();
    let mut ldap = admin(dc).await;
    let corp = format!("OU=Corp,{}", dc.base_dn);

    assert_eq!(count(&mut ldap, &corp, PERSONS).await, SEEDED_USERS);
    let disabled = format!("(&{PERSONS}(userAccountControl:1.2.840.113556.1.4.803:=2))");
    assert_eq!(
        count(&mut ldap, &corp, &disabled).await,
        SEEDED_DISABLED_USERS
    );
    assert_eq!(
        count(&mut ldap, &corp, "(objectClass=group)").await,
        SEEDED_GROUPS
    );
    assert_eq!(
        count(&mut ldap, &corp, "(objectClass=organizationalUnit)").await,
        SEEDED_OUS_UNDER_CORP
    );
    assert_eq!(
        count(&mut ldap, &corp, "(objectClass=contact)").await,
        SEEDED_CONTACTS
    );
    assert_eq!(
        count(&mut ldap, &corp, "(objectClass=computer)").await,
        SEEDED_COMPUTERS
    );
    let tests_ou = format!("OU=Tests,{}", dc.base_dn);
    assert_eq!(
        search(
            &mut ldap,
            &tests_ou,
            Scope::Base,
            "(objectClass=*)",
            &["1.1"]
        )
        .await
        .len(),
        1
    );

    // A DN that needs escaping comes back escaped, and works as a search base.
    let smith = search(
        &mut ldap,
        &corp,
        Scope::Subtree,
        "(sAMAccountName=john.smith)",
        &["cn", "displayName"],
    )
    .await;
    let smith_dn = format!("CN=Smith\\, John,OU=People,{corp}");
    assert_eq!(smith.len(), 1);
    assert_eq!(smith[0].dn, smith_dn);
    assert_eq!(one(&smith[0], "cn"), "Smith, John");
    assert_eq!(
        search(
            &mut ldap,
            &smith_dn,
            Scope::Base,
            "(objectClass=user)",
            &["1.1"]
        )
        .await
        .len(),
        1
    );

    // Non-ASCII names, exactly.
    let attrs = ["cn", "givenName", "sn", "displayName", "userPrincipalName"];
    let zoe = search(
        &mut ldap,
        &corp,
        Scope::Subtree,
        "(sAMAccountName=zoe.angstrom)",
        &attrs,
    )
    .await;
    assert_eq!(zoe.len(), 1);
    assert_eq!(zoe[0].dn, format!("CN=Zoë Ångström,OU=People,{corp}"));
    assert_eq!(one(&zoe[0], "cn"), "Zoë Ångström");
    assert_eq!(one(&zoe[0], "givenName"), "Zoë");
    assert_eq!(one(&zoe[0], "sn"), "Ångström");
    assert_eq!(
        one(&zoe[0], "userPrincipalName"),
        "zoe.angstrom@lab.example"
    );

    // '#' in a UPN and other UPN suffixes.
    let mira = search(
        &mut ldap,
        &corp,
        Scope::Subtree,
        "(sAMAccountName=mira.novak)",
        &["userPrincipalName"],
    )
    .await;
    assert_eq!(one(&mira[0], "userPrincipalName"), "mira#novak@lab.example");
    let suffixes: BTreeSet<String> = search(
        &mut ldap,
        &corp,
        Scope::Subtree,
        PERSONS,
        &["userPrincipalName"],
    )
    .await
    .iter()
    .filter_map(|e| e.attrs.get("userPrincipalName"))
    .map(|upn| upn[0].rsplit_once('@').unwrap().1.to_owned())
    .collect();
    assert_eq!(
        suffixes,
        BTreeSet::from([
            "example.com".into(),
            "lab.example".into(),
            "lab.local".into()
        ])
    );

    // Nesting: VPN Users > All Staff > Engineering Team > Contractors, resolved by the server.
    let vpn = format!("CN=VPN Users,OU=Groups,{corp}");
    let chain = format!("(&{PERSONS}(memberOf:1.2.840.113556.1.4.1941:={vpn}))");
    assert_eq!(count(&mut ldap, &corp, &chain).await, VPN_USERS_TRANSITIVE);
    let eng = search(
        &mut ldap,
        &format!("CN=Engineering Team,OU=Groups,{corp}"),
        Scope::Base,
        "(objectClass=group)",
        &["member"],
    )
    .await;
    assert!(eng[0].attrs["member"].contains(&format!("CN=Contractors,OU=Groups,{corp}")));
}

#[tokio::test]
async fn fresh_ous_are_isolated_and_take_bulk_users_and_ldif_changes() {
    let dc = SambaDc::shared();
    let a = dc.fresh_ou("harness");
    let b = dc.fresh_ou("harness");
    assert_ne!(a, b);
    let users = dc.add_users(&a, 25);
    assert_eq!(users.len(), 25);
    dc.ldif_modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: title\ntitle: Load tester\n",
        users[0]
    ));

    let mut ldap = admin(dc).await;
    assert_eq!(count(&mut ldap, &a, PERSONS).await, 25);
    assert_eq!(count(&mut ldap, &b, PERSONS).await, 0);
    let first = search(
        &mut ldap,
        &users[0],
        Scope::Base,
        "(objectClass=user)",
        &["title", "userAccountControl"],
    )
    .await;
    assert_eq!(one(&first[0], "title"), "Load tester");
    assert_eq!(
        one(&first[0], "userAccountControl"),
        "546",
        "no password: disabled"
    );

    // A refused change is reported, not swallowed: UPNs are unique in AD.
    let upn = one(
        &search(
            &mut ldap,
            &users[1],
            Scope::Base,
            "(objectClass=user)",
            &["userPrincipalName"],
        )
        .await[0],
        "userPrincipalName",
    )
    .to_owned();
    let dup = format!(
        "dn: CN=dup,{b}\nchangetype: add\nobjectClass: user\nsAMAccountName: dup{}\n\
         userPrincipalName: {upn}\n",
        users.len()
    );
    let err = dc
        .try_ldif_modify(&dup)
        .expect_err("a duplicate UPN must be refused");
    assert!(err.contains("Constraint violation"), "{err}");

    // The CLI helper sees the same data.
    let found = dc.ldap_search(&a, "(sAMAccountName=load*)", &["sAMAccountName"]);
    assert_eq!(found.matches("sAMAccountName: load").count(), 25);
}

#[test]
fn a_private_dc_runs_beside_the_shared_one_and_frees_its_port_when_dropped() {
    let shared = SambaDc::shared();
    let dc = SambaDc::start();
    assert_ne!(dc.host, shared.host, "each DC has its own address");
    assert!(port_open(&dc.host, dc.ldap_port) && port_open(&dc.host, dc.ldaps_port));
    let (host, port, pid, dir) = (dc.host.clone(), dc.ldap_port, dc.pid, dc.dir().to_owned());
    assert!(process_alive(pid));

    drop(dc);
    assert!(
        !port_open(&host, port),
        "{host}:{port} still accepts connections after drop"
    );
    assert!(!process_alive(pid), "samba {pid} survived the drop");
    assert!(!dir.exists(), "{} was not removed", dir.display());
    // The shared DC is untouched.
    assert!(port_open(&shared.host, shared.ldap_port));
}

/// Set in the child process of the watchdog test.
const WATCHDOG_CHILD: &str = "HYBRIDSYNC_SAMBA_WATCHDOG_CHILD";

#[test]
fn the_dc_dies_with_a_test_process_killed_by_sigkill() {
    if std::env::var_os(WATCHDOG_CHILD).is_some() {
        // Child: start the (static, never dropped) shared DC, report it, and wait to be killed.
        let dc = SambaDc::shared();
        println!(
            "WATCHDOG host={} port={} pid={} dir={}",
            dc.host,
            dc.ldap_port,
            dc.pid,
            dc.dir().display()
        );
        std::thread::sleep(Duration::from_secs(300));
        panic!("the parent test did not kill this process");
    }

    // Parent: run this very test in a child process, then SIGKILL it.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_dc_dies_with_a_test_process_killed_by_sigkill",
            "--nocapture",
        ])
        .env(WATCHDOG_CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr_text = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("WATCHDOG "));
    let Some(line) = line else {
        child.kill().ok();
        child.wait().ok();
        panic!(
            "the child did not start its DC:\n{}",
            stderr_text.join().unwrap()
        );
    };
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")).map(str::to_owned))
            .unwrap()
    };
    let (host, port, pid, dir) = (
        field("host"),
        field("port").parse::<u16>().unwrap(),
        field("pid").parse::<u32>().unwrap(),
        field("dir"),
    );
    assert!(process_alive(pid) && port_open(&host, port));

    child.kill().unwrap(); // SIGKILL: no destructor, no exit handler runs in the child
    child.wait().unwrap();
    wait_until(
        "samba stopped after its test process was killed",
        Duration::from_secs(20),
        || !process_alive(pid),
    );
    wait_until("the DC's port closed", Duration::from_secs(5), || {
        !port_open(&host, port)
    });
    wait_until("the DC's directory removed", Duration::from_secs(5), || {
        !Path::new(&dir).exists()
    });
}
