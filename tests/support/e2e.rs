//! The end-to-end lab shared by tests/e2e_sync.rs and the Graph benchmark: the shared Samba
//! AD DC as the source, a private tenant emulator as the target, a configuration and state
//! directory, and the `hybridsync` binary run against them. The including crate declares the
//! `samba` and `emulator` support modules next to this one.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use hybridsync::emulator::faults::FaultConfig;
use serde_json::Value;

use crate::emulator::{self, Emu};
use crate::samba::SambaDc;

/// One scenario's world: the shared DC, a private emulator, a config and a state dir.
pub struct Lab {
    pub dc: &'static SambaDc,
    pub rt: tokio::runtime::Runtime,
    pub emu: Emu,
    pub work: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub config: PathBuf,
}

/// The scope and sync settings a scenario varies.
pub struct Setup<'a> {
    /// `[directories.scope]` body.
    pub scope: &'a str,
    /// `[sync]` extra lines.
    pub sync: &'a str,
    /// `[tenant]` extra lines.
    pub tenant: &'a str,
    /// Extra tables at the end (`[features.directory_extensions]` ...).
    pub extra: &'a str,
    pub faults: FaultConfig,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Self {
            scope: "mode = \"all\"",
            sync: "",
            tenant: "",
            extra: "",
            faults: FaultConfig::default(),
        }
    }
}

impl Lab {
    pub fn new(setup: Setup<'_>) -> Lab {
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
{tenant_extra}

[tenant.application]
client_id = "{client}"
certificate_ref = "file:{cert}"

[sync]
{sync}

{extra}
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
            tenant_extra = setup.tenant,
            extra = setup.extra,
        );
        let path = work.path().join("hybridsync.toml");
        std::fs::write(&path, config).unwrap();
        Lab {
            dc,
            rt,
            emu,
            work,
            home,
            config: path,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
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
    pub fn hs(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `sync run ARGS --json`, asserting the exit code; the report.
    pub fn sync(&self, args: &[&str], code: i32) -> Value {
        let mut all = vec!["sync", "run", "--json"];
        all.extend_from_slice(args);
        let (c, out, err) = self.hs(&all);
        assert_eq!(c, code, "sync run {args:?}:\n{out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
    }

    pub fn graph_all(&self, path: &str) -> Vec<Value> {
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
    pub fn users(&self) -> BTreeMap<String, Value> {
        self.graph_all("/users?$top=999&$select=id,userPrincipalName,displayName,accountEnabled,onPremisesImmutableId,department,givenName,surname,jobTitle,mail,companyName,employeeId,city")
            .into_iter()
            .filter_map(|u| Some((u["onPremisesImmutableId"].as_str()?.to_string(), u)))
            .collect()
    }

    /// The tenant's groups by displayName, with their members' ids.
    pub fn groups(&self) -> BTreeMap<String, (Value, Vec<String>)> {
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

/// The tenant connector's part of a `sync run --json` report.
pub fn entra(report: &Value) -> &Value {
    report["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "entra")
        .unwrap()
}

pub fn ou_scope(ou: &str) -> String {
    format!("mode = \"selected\"\ninclude = [{{ dn = \"{ou}\" }}]")
}

/// `count` enabled users below `ou` (userAccountControl 544: enabled, no password required)
/// with a UPN and mail in lab.example; their DNs.
pub fn enabled_users(dc: &SambaDc, ou: &str, count: usize) -> Vec<String> {
    let dns = dc.add_users(ou, count);
    let ldif: String = dns
        .iter()
        .map(|dn| {
            format!("dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 544\n-\n\n")
        })
        .collect();
    dc.ldif_modify(&ldif);
    dns
}

pub fn group(dc: &SambaDc, ou: &str, name: &str, members: &[&String]) -> String {
    let dn = format!("CN={name},{ou}");
    let mut ldif = format!(
        "dn: {dn}\nchangetype: add\nobjectClass: group\nsAMAccountName: {name}\ngroupType: -2147483646\ndisplayName: {name}\n"
    );
    for m in members {
        ldif.push_str(&format!("member: {m}\n"));
    }
    dc.ldif_modify(&ldif);
    dn
}

pub fn cn(dn: &str) -> String {
    dn.split(',')
        .next()
        .unwrap()
        .trim_start_matches("CN=")
        .to_string()
}

impl Lab {
    pub fn user_by_upn(&self, upn: &str) -> Option<Value> {
        self.graph_all(&format!(
            "/users?$filter=userPrincipalName%20eq%20'{upn}'&$select=id,displayName,accountEnabled,userPrincipalName"
        ))
        .into_iter()
        .next()
    }

    pub fn deleted_users(&self) -> Vec<Value> {
        self.graph_all("/directory/deletedItems/microsoft.graph.user?$select=id,userPrincipalName")
    }

    pub fn members(&self, group: &str) -> Vec<String> {
        let mut m: Vec<String> = self.groups()[group].1.clone();
        m.sort();
        m
    }
}

pub fn upn(dc: &SambaDc, dn: &str) -> String {
    format!("{}@{}", cn(dn), dc.dns_domain)
}
