//! End to end with real parts: the Samba AD DC of the test harness as the source, the local
//! tenant emulator as the target, and the `hybridsync` binary in between (`sync run`), signed in
//! with the emulator's application certificate from a private `file:` secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/emulator.rs"]
mod emulator;
#[path = "support/samba.rs"]
mod samba;

use std::collections::BTreeMap;

use base64::Engine as _;
use e2e::{Lab, Setup, cn, enabled_users, entra, group, ou_scope, upn};
use hybridsync::emulator::faults::FaultConfig;
use samba::SambaDc;
use serde_json::{Value, json};

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

/// Modify, move out of scope, delete, enable, membership add/remove in AD, then a delta cycle:
/// exactly those changes reach the tenant; moving a user back in scope restores the same
/// cloud user.
#[test]
fn delta_cycles_carry_exactly_what_changed_in_ad() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-delta");
    let outside = dc.fresh_ou("e2e-outside");
    let users = dc.add_users(&ou, 4); // disabled (no password)
    let enabled = enabled_users(dc, &ou, 1);
    let g = group(dc, &ou, "DeltaGroup", &[&users[0], &users[1]]);
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        ..Setup::default()
    });
    let first = lab.sync(&["--full"], 0);
    assert_eq!(entra(&first)["export"]["adds"].as_u64(), Some(6), "{first}");
    let id = |dn: &str| {
        lab.user_by_upn(&upn(dc, dn)).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, b, c, d) = (id(&users[0]), id(&users[1]), id(&users[2]), id(&users[3]));
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(lab.members("DeltaGroup"), want);

    dc.ldif_modify(&format!(
        "dn: {u0}\nchangetype: modify\nreplace: displayName\ndisplayName: Renamed Zero\n-\n\n\
         dn: {u1}\nchangetype: modrdn\nnewrdn: CN={c1}\ndeleteoldrdn: 1\nnewsuperior: {outside}\n\n\
         dn: {u2}\nchangetype: delete\n\n\
         dn: {u3}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 544\n-\n\n\
         dn: {g}\nchangetype: modify\nadd: member\nmember: {u3}\n-\ndelete: member\nmember: {u0}\n-\n\n\
         dn: {e0}\nchangetype: modify\nreplace: department\ndepartment: Finance\n-\n",
        u0 = users[0],
        u1 = users[1],
        c1 = cn(&users[1]),
        u2 = users[2],
        u3 = users[3],
        e0 = enabled[0],
    ));
    let report = lab.sync(&["--delta"], 0);
    let ex = &entra(&report)["export"];
    assert_eq!(
        (
            ex["adds"].as_u64(),
            ex["updates"].as_u64(),
            ex["deletes"].as_u64(),
            ex["failed"].as_u64()
        ),
        (Some(0), Some(4), Some(2), Some(0)),
        "renamed, enabled, department, group; moved out and deleted: {report}"
    );
    let zero = lab.user_by_upn(&upn(dc, &users[0])).unwrap();
    assert_eq!(zero["displayName"], "Renamed Zero");
    assert_eq!(
        lab.user_by_upn(&upn(dc, &users[3])).unwrap()["accountEnabled"],
        json!(true)
    );
    assert!(
        lab.user_by_upn(&upn(dc, &users[1])).is_none(),
        "moved out of scope: deleted"
    );
    assert!(lab.user_by_upn(&upn(dc, &users[2])).is_none(), "deleted");
    let deleted: Vec<String> = lab
        .deleted_users()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        deleted.contains(&b) && deleted.contains(&c),
        "soft-deleted: {deleted:?}"
    );
    assert_eq!(lab.members("DeltaGroup"), vec![d.clone()]);
    // Nothing more to do.
    let quiet = lab.sync(&["--delta"], 0);
    let ex = &entra(&quiet)["export"];
    assert_eq!(
        (
            ex["adds"].as_u64(),
            ex["updates"].as_u64(),
            ex["deletes"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{quiet}"
    );
    // Back in scope: the same cloud user is restored, not created again.
    dc.ldif_modify(&format!(
        "dn: CN={c1},{outside}\nchangetype: modrdn\nnewrdn: CN={c1}\ndeleteoldrdn: 1\nnewsuperior: {ou}\n",
        c1 = cn(&users[1]),
    ));
    let back = lab.sync(&["--delta"], 0);
    assert_eq!(entra(&back)["export"]["adds"].as_u64(), Some(1), "{back}");
    assert_eq!(
        lab.user_by_upn(&upn(dc, &users[1])).unwrap()["id"].as_str(),
        Some(b.as_str())
    );
}

/// Staging mode exports nothing, and `sync pending-exports` shows what would go; turning it off
/// exports exactly that.
#[test]
fn staging_mode_exports_nothing_and_lists_what_would_go() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-staging");
    let users = dc.add_users(&ou, 3);
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        sync: "staging_mode = true",
        ..Setup::default()
    });
    let report = lab.sync(&["--full"], 0);
    assert_eq!(
        entra(&report)["export"]["adds"].as_u64(),
        Some(0),
        "{report}"
    );
    assert!(lab.users().is_empty(), "nothing reached the tenant");
    let (code, out, err) = lab.hs(&["sync", "pending-exports", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    for u in &users {
        assert!(out.contains(&upn(dc, u)), "{u} is listed: {out}");
    }
    let (code, out, err) = lab.hs(&["staging", "off"]);
    assert_eq!(code, 0, "{out}{err}");
    let report = lab.sync(&["--delta"], 0);
    assert_eq!(
        entra(&report)["export"]["adds"].as_u64(),
        Some(3),
        "{report}"
    );
    assert_eq!(lab.users().len(), 3);
}

/// Deleting 600 users in AD: the delete guard (500) stops the export with exit code 4 and the
/// tenant keeps them; `sync allow-deletes` releases exactly that export.
#[test]
fn the_delete_guard_stops_600_deletes_until_released() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-guard");
    let users = dc.add_users(&ou, 600);
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        ..Setup::default()
    });
    let report = lab.sync(&["--full"], 0);
    assert_eq!(entra(&report)["export"]["adds"].as_u64(), Some(600));
    let ldif: String = users
        .iter()
        .map(|dn| format!("dn: {dn}\nchangetype: delete\n\n"))
        .collect();
    dc.ldif_modify(&ldif);
    let blocked = lab.sync(&["--delta"], 4);
    assert_eq!(blocked["guard_blocked"], json!(true), "{blocked}");
    assert_eq!(lab.users().len(), 600, "nothing deleted");
    let (code, out, err) = lab.hs(&["sync", "allow-deletes"]);
    assert_eq!(code, 0, "{out}{err}");
    let released = lab.sync(&["--delta"], 0);
    assert_eq!(
        entra(&released)["export"]["deletes"].as_u64(),
        Some(600),
        "{released}"
    );
    assert!(lab.users().is_empty());
}

/// Graph throttling (its limits scaled in time: 60 writes per 3 s, the same rate), 20% of
/// requests answered 503 or 504 and 5% of connections dropped: the cycles complete and every
/// object is there once.
#[test]
fn throttling_and_server_errors_duplicate_nothing() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-faults");
    let users = enabled_users(dc, &ou, 40);
    let refs: Vec<&String> = users.iter().take(25).collect();
    group(dc, &ou, "FaultGroup", &refs);
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        tenant: "write_limit = { requests = 60, window = \"3s\" }",
        faults: FaultConfig {
            throttle: true,
            throttle_scale: 0.02,
            fail_rate: 0.2,
            drop_rate: 0.05,
            ..FaultConfig::default()
        },
        ..Setup::default()
    });
    // A cycle may end with retryable errors when a request fails more often than the retries
    // allow; the next cycle finishes the job. Either way nothing is duplicated.
    let mut runs = 0;
    loop {
        runs += 1;
        let (code, out, err) = lab.hs(&["sync", "run", "--json"]);
        assert!(code == 0 || code == 1, "{out}{err}");
        if code == 0 || runs == 4 {
            break;
        }
    }
    let st = lab
        .rt
        .block_on(
            lab.emu
                .http
                .post(lab.emu.url("/_emulator/faults"))
                .json(&json!({"throttle": false, "fail_rate": 0.0, "drop_rate": 0.0}))
                .send(),
        )
        .unwrap()
        .status();
    assert_eq!(st, 200);
    assert_eq!(lab.users().len(), 40, "each user exactly once");
    let groups = lab.groups();
    assert_eq!(groups.len(), 1, "the group exactly once");
    assert_eq!(groups["FaultGroup"].1.len(), 25);
    let quiet = lab.sync(&["--delta"], 0);
    let ex = &entra(&quiet)["export"];
    assert_eq!(
        (ex["adds"].as_u64(), ex["updates"].as_u64()),
        (Some(0), Some(0)),
        "{quiet}"
    );
}

/// `sync run` killed (SIGKILL) in the middle of its export, then run again: every object is in
/// the tenant exactly once and the group has all its members.
#[test]
fn killed_mid_export_then_rerun_leaves_each_object_once() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-kill");
    let users = enabled_users(dc, &ou, 120);
    let refs: Vec<&String> = users.iter().collect();
    group(dc, &ou, "KillGroup", &refs);
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        faults: FaultConfig {
            latency_ms: 150,
            ..FaultConfig::default()
        },
        ..Setup::default()
    });
    let mut child = lab.command(&["sync", "run"]).spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        let n = lab.users().len();
        if n > 0 && n < 120 {
            break;
        }
        assert!(n < 120, "the export finished before it could be killed");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "no export started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = lab.users().len();
    assert!(partial < 120);
    let st = lab
        .rt
        .block_on(
            lab.emu
                .http
                .post(lab.emu.url("/_emulator/faults"))
                .json(&json!({"latency_ms": 0}))
                .send(),
        )
        .unwrap()
        .status();
    assert_eq!(st, 200);
    lab.sync(&[], 0);
    let all = lab.users();
    assert_eq!(all.len(), 120, "each user once (killed after {partial})");
    let groups = lab.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups["KillGroup"].1.len(), 120);
}

/// Directory extensions: an AD attribute picked in `[features.directory_extensions]` is
/// registered on the sync application and reaches the tenant as
/// `extension_<appId>_<attribute>`; a change in AD follows in the next delta, and nothing is
/// written when nothing changed.
#[test]
fn directory_extension_attributes_reach_the_tenant() {
    let dc = SambaDc::shared();
    let ou = dc.fresh_ou("e2e-ext");
    let users = enabled_users(dc, &ou, 2);
    dc.ldif_modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: employeeNumber\nemployeeNumber: N-1001\n-\n",
        users[0]
    ));
    let lab = Lab::new(Setup {
        scope: &ou_scope(&ou),
        extra: "[features.directory_extensions]\nenabled = true\nattributes = [\"user.employeeNumber\"]\n",
        ..Setup::default()
    });
    lab.sync(&["--full"], 0);
    let app = lab.emu.b.application.client_id.replace('-', "");
    let prop = format!("extension_{app}_employeeNumber");
    let read = |dn: &str| {
        let id = lab.user_by_upn(&upn(dc, dn)).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, v) = lab.rt.block_on(lab.emu.graph(
            "GET",
            &format!("/users/{id}?$select={prop}"),
            None,
        ));
        assert_eq!(st, 200, "{v}");
        v[&prop].clone()
    };
    assert_eq!(read(&users[0]), json!("N-1001"));
    assert_eq!(
        read(&users[1]),
        Value::Null,
        "no value in AD, none in the tenant"
    );
    let quiet = lab.sync(&["--delta"], 0);
    assert_eq!(
        entra(&quiet)["export"]["updates"].as_u64(),
        Some(0),
        "{quiet}"
    );
    dc.ldif_modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: employeeNumber\nemployeeNumber: N-2002\n-\n",
        users[0]
    ));
    let changed = lab.sync(&["--delta"], 0);
    assert_eq!(
        entra(&changed)["export"]["updates"].as_u64(),
        Some(1),
        "{changed}"
    );
    assert_eq!(read(&users[0]), json!("N-2002"));
}
