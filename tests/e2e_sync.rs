//! End to end with real parts: the Samba AD DC of the test harness as the source, the local
//! tenant emulator as the target, and the `hybridsync` binary in between (`sync run`), signed in
//! with the emulator's application certificate from a private `file:` secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/emulator.rs"]
mod emulator;
#[path = "support/samba.rs"]
mod samba;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use emulator::Emu;
use hybridsync::emulator::faults::FaultConfig;
use samba::SambaDc;
use serde_json::{Value, json};

/// One scenario's world: the shared DC, a private emulator, a config and a state dir.
struct Lab {
    dc: &'static SambaDc,
    rt: tokio::runtime::Runtime,
    emu: Emu,
    _work: tempfile::TempDir,
    home: tempfile::TempDir,
    config: PathBuf,
}

/// The scope and sync settings a scenario varies.
struct Setup<'a> {
    /// `[directories.scope]` body.
    scope: &'a str,
    /// `[sync]` extra lines.
    sync: &'a str,
    faults: FaultConfig,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Self {
            scope: "mode = \"all\"",
            sync: "",
            faults: FaultConfig::default(),
        }
    }
}

impl Lab {
    fn new(setup: Setup<'_>) -> Lab {
        let dc = SambaDc::shared();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let faults = setup.faults.clone();
        let emu = rt.block_on(emulator::start_with(move |c| {
            c.domains = vec!["lab.example".into(), "example.com".into()];
            c.faults = faults;
        }));
        let work = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let secret = |name: &str, text: &str| {
            let p = work.path().join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            p
        };
        let ad_secret = secret("ad-bind.secret", &dc.admin_password);
        let a = &emu.b.application;
        let cert = secret(
            "entra-app.pem",
            &format!("{}\n{}", a.certificate_pem, a.private_key_pem),
        );
        let config = format!(
            r#"schema_version = 1

[install]
state_dir = '{state}'

[[directories]]
forest = "{domain}"
domain_controllers = ["{host}:{port}"]

[directories.tls]
ca_file = '{ca}'

[directories.account]
username = '{user}'
secret_ref = "file:{ad_secret}"

[directories.scope]
{scope}

[sign_in]
method = "do-not-configure"

[tenant]
tenant_id = "{tenant}"
authority_host = "{authority}"
graph_endpoint = "{graph}"
ca_file = '{emu_ca}'

[tenant.application]
client_id = "{client}"
certificate_ref = "file:{cert}"

[sync]
{sync}
"#,
            state = work.path().join("state").display(),
            domain = dc.dns_domain,
            host = dc.host,
            port = dc.ldaps_port,
            ca = dc.ca_file.display(),
            user = dc.admin_down_level(),
            ad_secret = ad_secret.display(),
            scope = setup.scope,
            tenant = emu.b.tenant_id,
            authority = emu.b.base_url,
            graph = emu.b.graph_base_url,
            emu_ca = emu.b.ca_file.as_ref().unwrap().display(),
            client = a.client_id,
            cert = cert.display(),
            sync = setup.sync,
        );
        let path = work.path().join("hybridsync.toml");
        std::fs::write(&path, config).unwrap();
        Lab {
            dc,
            rt,
            emu,
            _work: work,
            home,
            config: path,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hybridsync"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .arg("--config")
            .arg(&self.config)
            .args(args);
        c
    }

    /// Runs `hybridsync ARGS`: (exit code, stdout, stderr).
    fn hs(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `sync run ARGS --json`, asserting the exit code; the report.
    fn sync(&self, args: &[&str], code: i32) -> Value {
        let mut all = vec!["sync", "run", "--json"];
        all.extend_from_slice(args);
        let (c, out, err) = self.hs(&all);
        assert_eq!(c, code, "sync run {args:?}:\n{out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
    }

    fn graph_all(&self, path: &str) -> Vec<Value> {
        self.rt.block_on(async {
            let token = self.emu.token().await;
            let mut out = Vec::new();
            let mut next = Some(path.to_string());
            while let Some(p) = next.take() {
                let (st, v) = self.emu.graph_as(&token, "GET", &p, None, &[]).await;
                assert_eq!(st, 200, "GET {p}: {v}");
                out.extend(v["value"].as_array().unwrap().iter().cloned());
                next = v["@odata.nextLink"].as_str().map(str::to_string);
            }
            out
        })
    }

    /// The tenant's users by onPremisesImmutableId.
    fn users(&self) -> BTreeMap<String, Value> {
        self.graph_all("/users?$top=999&$select=id,userPrincipalName,displayName,accountEnabled,onPremisesImmutableId,department,givenName,surname,jobTitle,mail,companyName,employeeId,city")
            .into_iter()
            .filter_map(|u| Some((u["onPremisesImmutableId"].as_str()?.to_string(), u)))
            .collect()
    }

    /// The tenant's groups by displayName, with their members' ids.
    fn groups(&self) -> BTreeMap<String, (Value, Vec<String>)> {
        let groups = self.graph_all("/groups?$top=999&$select=id,displayName,mailNickname,securityEnabled,mailEnabled,description");
        groups
            .into_iter()
            .map(|g| {
                let id = g["id"].as_str().unwrap().to_string();
                let mut members: Vec<String> = self
                    .graph_all(&format!("/groups/{id}/members?$select=id"))
                    .iter()
                    .map(|m| m["id"].as_str().unwrap().to_string())
                    .collect();
                members.sort();
                (g["displayName"].as_str().unwrap().to_string(), (g, members))
            })
            .collect()
    }
}

/// One AD object as `ldapsearch` shows it: attribute -> values (base64 ones decoded).
fn entries(ldif: &str) -> Vec<BTreeMap<String, Vec<Vec<u8>>>> {
    let mut out = Vec::new();
    for block in ldif.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut e: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for line in block.lines() {
            if let Some((k, v)) = line.split_once(":: ") {
                e.entry(k.to_ascii_lowercase())
                    .or_default()
                    .push(base64::engine::general_purpose::STANDARD.decode(v).unwrap());
            } else if let Some((k, v)) = line.split_once(": ") {
                e.entry(k.to_ascii_lowercase())
                    .or_default()
                    .push(v.as_bytes().to_vec());
            }
        }
        out.push(e);
    }
    out
}

fn text(e: &BTreeMap<String, Vec<Vec<u8>>>, k: &str) -> Option<String> {
    e.get(k)
        .and_then(|v| v.first())
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The immutable id hybridsync gives an AD object: mS-DS-ConsistencyGuid, else objectGUID,
/// base64 of the bytes as AD stores them.
fn immutable_id(e: &BTreeMap<String, Vec<Vec<u8>>>) -> String {
    let bytes = e
        .get("ms-ds-consistencyguid")
        .or_else(|| e.get("objectguid"))
        .and_then(|v| v.first())
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn report_errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

fn entra(report: &Value) -> &Value {
    report["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "entra")
        .unwrap()
}

fn corp_scope() -> String {
    format!(
        "mode = \"selected\"\ninclude = [{{ dn = \"OU=Corp,{}\" }}]",
        SambaDc::shared().base_dn
    )
}

/// Full sync of the seeded OU=Corp: every user and security group arrives with its attributes,
/// members and manager as AD has them (read independently with ldapsearch); the one user whose
/// UPN suffix is not a verified domain is a clear per-object error; a second cycle finds nothing
/// to change.
#[test]
fn the_seeded_domain_arrives_in_the_tenant_attribute_by_attribute() {
    let lab = Lab::new(Setup {
        scope: &corp_scope(),
        ..Setup::default()
    });
    let report = lab.sync(&["--full"], 1);
    let errors = report_errors(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("oliver.grant@lab.local") && errors[0].contains("verified domain"),
        "{errors:?}"
    );
    let users = lab.users();
    let corp = format!("OU=Corp,{}", lab.dc.base_dn);
    let ad = entries(&lab.dc.ldap_search(
        &corp,
        "(&(objectCategory=person)(objectClass=user))",
        &[
            "objectGUID",
            "mS-DS-ConsistencyGuid",
            "sAMAccountName",
            "userPrincipalName",
            "displayName",
            "userAccountControl",
            "department",
            "givenName",
            "sn",
            "title",
            "mail",
            "company",
            "employeeID",
            "l",
            "manager",
        ],
    ));
    assert_eq!(ad.len(), 50);
    // AD DN -> tenant id, for members and managers.
    let mut tenant_id: BTreeMap<String, String> = BTreeMap::new();
    let mut expected_users = 0;
    for e in &ad {
        let dn = text(e, "dn").unwrap().to_ascii_lowercase();
        let upn = text(e, "userprincipalname").unwrap_or_else(|| {
            // No UPN in AD: Entra Connect's rule makes one from sAMAccountName.
            format!(
                "{}@{}",
                text(e, "samaccountname").unwrap(),
                lab.dc.dns_domain
            )
        });
        let u = users.get(&immutable_id(e));
        if upn.ends_with("@lab.local") {
            assert!(u.is_none(), "{upn} has no verified domain");
            continue;
        }
        expected_users += 1;
        let u = u.unwrap_or_else(|| panic!("{upn} is not in the tenant"));
        tenant_id.insert(dn, u["id"].as_str().unwrap().to_string());
        let uac: i64 = text(e, "useraccountcontrol").unwrap().parse().unwrap();
        assert_eq!(u["userPrincipalName"].as_str(), Some(upn.as_str()));
        assert_eq!(u["accountEnabled"], json!(uac & 2 == 0), "{u}");
        for (graph, ldap) in [
            ("displayName", "displayname"),
            ("department", "department"),
            ("givenName", "givenname"),
            ("surname", "sn"),
            ("jobTitle", "title"),
            ("mail", "mail"),
            ("companyName", "company"),
            ("employeeId", "employeeid"),
            ("city", "l"),
        ] {
            assert_eq!(
                u[graph].as_str(),
                text(e, ldap).as_deref(),
                "{graph} of {u}"
            );
        }
    }
    assert_eq!(users.len(), expected_users, "nothing else in the tenant");
    assert_eq!(expected_users, 49);
    // Managers.
    for e in &ad {
        let Some(m) = text(e, "manager") else {
            continue;
        };
        let Some(id) = tenant_id.get(&text(e, "dn").unwrap().to_ascii_lowercase()) else {
            continue;
        };
        let (st, v) = lab.rt.block_on(lab.emu.graph(
            "GET",
            &format!("/users/{id}/manager?$select=id"),
            None,
        ));
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            v["id"].as_str(),
            tenant_id.get(&m.to_ascii_lowercase()).map(String::as_str),
            "manager of {:?}",
            text(e, "dn")
        );
    }
    // Security groups with their members (users and groups that are in the tenant; computers
    // and contacts are not); the distribution group is not exported.
    let groups = lab.groups();
    let ad_groups = entries(&lab.dc.ldap_search(
        &corp,
        "(objectClass=group)",
        &["displayName", "cn", "groupType", "member", "description"],
    ));
    assert_eq!(ad_groups.len(), 8);
    for g in &ad_groups {
        let name = text(g, "displayname").or_else(|| text(g, "cn")).unwrap();
        let security = text(g, "grouptype").unwrap().parse::<i64>().unwrap() & 0x8000_0000 != 0;
        if let Some((tg, _)) = groups.get(&name) {
            tenant_id.insert(
                text(g, "dn").unwrap().to_ascii_lowercase(),
                tg["id"].as_str().unwrap().to_string(),
            );
        }
        assert_eq!(groups.contains_key(&name), security, "{name}");
    }
    assert_eq!(groups.len(), 7);
    for g in &ad_groups {
        let name = text(g, "displayname").or_else(|| text(g, "cn")).unwrap();
        let Some((tg, members)) = groups.get(&name) else {
            continue;
        };
        let mut want: Vec<String> = g
            .get("member")
            .into_iter()
            .flatten()
            .filter_map(|m| tenant_id.get(&String::from_utf8_lossy(m).to_ascii_lowercase()))
            .cloned()
            .collect();
        want.sort();
        assert_eq!(members, &want, "members of {name}");
        assert_eq!(
            tg["description"].as_str(),
            text(g, "description").as_deref()
        );
        assert_eq!(tg["securityEnabled"], json!(true));
    }
    assert_eq!(groups["All Staff"].1.len(), 5);
    assert_eq!(groups["Engineering Team"].1.len(), 15);
    // The next cycle confirms everything: nothing is written again (only the one failing add
    // is retried, and fails the same way).
    let again = lab.sync(&["--delta"], 1);
    let e = &entra(&again)["export"];
    assert_eq!(
        (
            e["adds"].as_u64(),
            e["updates"].as_u64(),
            e["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(1)),
        "{again}"
    );
}
