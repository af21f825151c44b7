#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! Provisioning against a real Samba AD DC (tests/support/samba.rs): the security descriptor
//! parser round-trips every real descriptor of the domain, configuration and schema partitions
//! byte for byte; the AD DS connector account is created with exactly the ACEs its features
//! need, binds, passes the permission check, runs a full import and a DirSync delta; a rerun
//! changes nothing; turning a feature off removes its ACE; administrators are refused.
//!
//! The tests that edit the domain root's DACL hold [`DACL`]: the DC is shared by the tests of
//! this binary and a DACL edit is a read-modify-write.

#[path = "support/samba.rs"]
mod samba;

use std::sync::Mutex;
use std::time::Duration;

use hybridsync::connectors::ad::dirsync::{self, AdWatermark, Position};
use hybridsync::connectors::ad::{AdConnector, AdOptions, Endpoint, Session, discovery, entry};
use hybridsync::domain::{Dn, Secret};
use hybridsync::engine::connector::{Connector, ConnectorError, ImportSink};
use hybridsync::engine::model::ImportItem;
use hybridsync::provision::account::{self, AccountRequest, ProvisionError};
use hybridsync::provision::rights::{self, Features, Guids};
use hybridsync::provision::sd::SecurityDescriptor;
use ldap3::Scope;
use samba::SambaDc;

static DACL: Mutex<()> = Mutex::new(());

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(dc: &SambaDc, user: &str, password: &Secret) -> AdOptions {
    let mut o = AdOptions::new(
        "lab.example",
        Endpoint {
            host: dc.host.clone(),
            port: dc.ldaps_port,
        },
        user,
        password.clone(),
    );
    o.settings.ca_file = Some(dc.ca_file.clone());
    o.settings.timeout = Duration::from_secs(20);
    o
}

fn admin(dc: &SambaDc) -> AdOptions {
    options(dc, &dc.admin_user, &Secret::new(dc.admin_password.clone()))
}

async fn session(o: &AdOptions) -> Session {
    Session::open(&o.settings, &o.endpoints[0]).await.unwrap()
}

#[derive(Default)]
struct Collect(Vec<ImportItem>);

impl ImportSink for Collect {
    fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
        self.0.push(item);
        Ok(())
    }
}

impl Collect {
    fn dns(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|i| match i {
                ImportItem::Object(o) => Some(o.dn.to_string()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn real_descriptors_round_trip_byte_for_byte() {
    let dc = SambaDc::shared();
    let rt = rt();
    rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let root = discovery::root_dse(&mut s).await.unwrap();
        let mut seen = 0;
        let mut object_aces = 0;
        for base in [
            root.default_naming_context.clone(),
            root.configuration_naming_context.clone(),
            root.schema_naming_context.clone(),
        ] {
            // Owner, group and DACL (the SACL needs SeSecurityPrivilege on Windows).
            let (entries, result) = s
                .search(
                    &base,
                    Scope::Subtree,
                    "(objectClass=*)",
                    &["nTSecurityDescriptor".to_owned()],
                    vec![dirsync::sd_flags(
                        dirsync::SD_OWNER | dirsync::SD_GROUP | dirsync::SD_DACL,
                    )],
                )
                .await
                .unwrap();
            assert_eq!(result.rc, 0, "{result:?}");
            for e in entries {
                let e = entry::parse(e).unwrap();
                let Some(bytes) = e.get("nTSecurityDescriptor").and_then(|v| v.first()) else {
                    continue;
                };
                let sd = SecurityDescriptor::parse(bytes)
                    .unwrap_or_else(|err| panic!("{}: {err}", e.dn_lossy()));
                assert_eq!(
                    &sd.serialize(),
                    bytes,
                    "{}: the descriptor does not round-trip",
                    e.dn_lossy()
                );
                assert!(sd.owner.is_some() && sd.dacl.is_some(), "{}", e.dn_lossy());
                object_aces += sd
                    .dacl
                    .iter()
                    .flat_map(|d| &d.aces)
                    .filter(|a| a.object_types() != (None, None))
                    .count();
                seen += 1;
            }
        }
        assert!(seen > 1000, "only {seen} descriptors read");
        assert!(object_aces > 1000, "only {object_aces} object ACEs");
        s.close().await;
    });
}

#[test]
fn the_dc_names_the_rights_with_the_documented_guids() {
    let dc = SambaDc::shared();
    let rt = rt();
    rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let root = discovery::root_dse(&mut s).await.unwrap();
        let g = Guids::read(&mut s, &root).await.unwrap();
        assert_eq!(
            g.right("DS-Replication-Get-Changes").unwrap(),
            rights::DS_REPLICATION_GET_CHANGES
        );
        assert_eq!(
            g.right("DS-Replication-Get-Changes-All").unwrap(),
            rights::DS_REPLICATION_GET_CHANGES_ALL
        );
        // adschema a-ms-ds-consistencyguid: System-Id-Guid.
        assert_eq!(
            g.schema_id("mS-DS-ConsistencyGuid").unwrap().to_string(),
            "23773dc2-b63a-11d2-90e1-00c04fd91ab1"
        );
        // sync-engine.md 8.1: User-Force-Change-Password.
        assert_eq!(
            g.right("User-Force-Change-Password").unwrap().to_string(),
            "00299570-246d-11d0-a768-00aa006e0529"
        );
        s.close().await;
    });
}

#[test]
fn the_connector_account_gets_exactly_its_rights_imports_and_follows_dirsync() {
    let dc = SambaDc::shared();
    let _guard = DACL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = rt();
    let features = Features {
        password_hash_sync: true,
        consistency_guid_anchor: true,
        ..Features::default()
    };
    let binds = |bind_name: String, password: Secret| {
        let o = options(dc, &bind_name, &password);
        async move { Session::open(&o.settings, &o.endpoints[0]).await.is_ok() }
    };
    let created = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let r = account::ensure_account(
            &mut s,
            &AccountRequest {
                features: features.clone(),
                ..AccountRequest::default()
            },
            binds,
        )
        .await
        .unwrap();
        s.close().await;
        r
    });
    assert!(created.created && created.password_set);
    let name = &created.sam_account_name;
    assert!(name.starts_with("MSOL_") && name.len() == 17, "{name}");
    assert_eq!(
        created.dn.to_string(),
        format!("CN={name},CN=Users,{}", dc.base_dn)
    );
    assert_eq!(created.bind_name, format!("{name}@{}", dc.dns_domain));
    assert_eq!(created.password.expose().len(), 80);
    assert_eq!(created.added.len(), 8, "{:#?}", created.added);
    let entry = dc.ldap_search(
        &created.dn.to_string(),
        "(objectClass=user)",
        &["userAccountControl"],
    );
    assert!(
        entry.contains("userAccountControl: 66048"),
        "enabled, password never expires: {entry}"
    );

    // The ACEs read back from the domain root: exactly the ones for these features.
    let (aces, report) = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let domain = Dn::parse(&dc.base_dn).unwrap();
        let (sd, _) = rights::read_dacl(&mut s, &domain).await.unwrap();
        let mine: Vec<String> = sd
            .dacl
            .unwrap()
            .aces
            .iter()
            .filter(|a| a.sid() == Some(&created.sid))
            .map(ToString::to_string)
            .collect();
        s.close().await;
        // The permission check as the new account itself.
        let mut s = session(&options(dc, &created.bind_name, &created.password)).await;
        let root = discovery::root_dse(&mut s).await.unwrap();
        let (token, report) = rights::check_account(&mut s, &root, &created.bind_name, &features)
            .await
            .unwrap();
        assert!(token.privileged_groups().is_empty());
        s.close().await;
        (mine, report)
    });
    let sid = created.sid.to_string();
    assert_eq!(aces.len(), 8, "{aces:#?}");
    assert!(aces.contains(&format!(
        "(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;{sid})"
    )));
    assert!(aces.contains(&format!(
        "(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;{sid})"
    )));
    assert!(
        aces.iter()
            .any(|a| a.starts_with("(OA;CIIO;WP;23773dc2-b63a-11d2-90e1-00c04fd91ab1;")),
        "{aces:#?}"
    );
    assert_eq!(
        aces.iter()
            .filter(|a| a.starts_with("(OA;CIIO;RP;;"))
            .count(),
        5
    );
    assert!(report.iter().all(|l| l.status == "granted"), "{report:#?}");

    // A full import and a DirSync delta as the new account.
    let ou = dc.fresh_ou("msol");
    dc.ldif_modify(&format!(
        "dn: CN=Watched,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: watched{}\n",
        std::process::id() % 10_000
    ));
    let c = AdConnector::new(options(dc, &created.bind_name, &created.password));
    let mut sink = Collect::default();
    let summary = rt.block_on(c.full_import(&mut sink)).unwrap();
    let dns = sink.dns();
    assert!(
        dns.iter()
            .filter(|d| d.ends_with("OU=Corp,DC=lab,DC=example"))
            .count()
            >= 62,
        "{} objects",
        dns.len()
    );
    assert!(dns.contains(&format!("CN=Watched,{ou}")));
    let w = AdWatermark::decode(&summary.watermark).unwrap();
    assert!(
        matches!(&w.contexts[0].1, Position::DirSync(c) if !c.is_empty()),
        "the account may use DirSync: {w:?}"
    );
    dc.ldif_modify(&format!(
        "dn: CN=Watched,{ou}\nchangetype: modify\nreplace: title\ntitle: Seen by MSOL\n"
    ));
    let mut delta = Collect::default();
    rt.block_on(c.delta_import(&summary.watermark, &mut delta))
        .unwrap();
    assert_eq!(delta.dns(), [format!("CN=Watched,{ou}")]);

    // A rerun with the stored password changes nothing.
    let again = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let r = account::ensure_account(
            &mut s,
            &AccountRequest {
                name: Some(name.clone()),
                features: features.clone(),
                existing_password: Some(created.password.clone()),
                ..AccountRequest::default()
            },
            binds,
        )
        .await
        .unwrap();
        s.close().await;
        r
    });
    assert!(!again.created && !again.password_set);
    assert!(
        again.added.is_empty() && again.removed.is_empty(),
        "{again:#?}"
    );
    assert_eq!(again.present.len(), 8);
    assert_eq!(again.sid, created.sid);

    // Password hash sync turned off: exactly its ACE goes; a lost password is replaced.
    let fewer = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let r = account::ensure_account(
            &mut s,
            &AccountRequest {
                name: Some(name.clone()),
                features: Features {
                    password_hash_sync: false,
                    ..features.clone()
                },
                existing_password: None,
                ..AccountRequest::default()
            },
            binds,
        )
        .await
        .unwrap();
        s.close().await;
        r
    });
    assert!(fewer.password_set && !fewer.created);
    assert_eq!(
        fewer
            .removed
            .iter()
            .map(|(_, a)| a.as_str())
            .collect::<Vec<_>>(),
        [format!("(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;{sid})").as_str()]
    );
    assert!(fewer.added.is_empty());
    assert!(rt.block_on(binds(fewer.bind_name.clone(), fewer.password.clone())));
    // (The old password may still bind for a while: Samba, like Windows for NTLM, honours an
    // "old password allowed period".)
    assert_ne!(fewer.password.expose(), created.password.expose());
}

#[test]
fn administrators_are_refused_as_the_connector_account() {
    let dc = SambaDc::shared();
    let _guard = DACL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = rt();
    let err = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let r = account::ensure_account(
            &mut s,
            &AccountRequest {
                name: Some("Administrator".into()),
                ..AccountRequest::default()
            },
            |_: String, _: Secret| async { true },
        )
        .await;
        s.close().await;
        r
    });
    let err = match err {
        Err(e) => e,
        Ok(o) => panic!("Administrator was accepted: {o:#?}"),
    };
    assert!(matches!(err, ProvisionError::Privileged { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("Domain Admins"), "{text}");
    assert!(text.contains("is not allowed"), "{text}");
}

#[test]
fn device_writeback_rights_go_on_the_registered_devices_container() {
    let dc = SambaDc::shared();
    let _guard = DACL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = rt();
    let container = format!("CN=RegisteredDevices,{}", dc.base_dn);
    let features = Features {
        device_writeback: true,
        ..Features::default()
    };
    let ensure = |name: &str| {
        let request = AccountRequest {
            name: Some(name.to_owned()),
            features: features.clone(),
            ..AccountRequest::default()
        };
        rt.block_on(async {
            let mut s = session(&admin(dc)).await;
            let r =
                account::ensure_account(&mut s, &request, |_: String, _: Secret| async { true })
                    .await;
            s.close().await;
            r
        })
    };

    // A forest not prepared for device writeback: the container is missing, the error says so.
    assert!(
        !dc.ldap_search(&dc.base_dn, "(cn=RegisteredDevices)", &["cn"])
            .contains("dn: "),
        "a fresh domain has no RegisteredDevices container"
    );
    let err = ensure("hsdevwb").expect_err("no container to grant on");
    let text = err.to_string();
    assert!(text.contains("CN=RegisteredDevices"), "{text}");

    // Prepared (as Initialize-ADSyncDeviceWriteback does): two ACEs on the container for
    // msDS-Device objects, and the permission check as the account finds them.
    dc.ldif_modify(&format!(
        "dn: {container}\nchangetype: add\nobjectClass: msDS-DeviceContainer\n"
    ));
    let done = ensure("hsdevwb").unwrap();
    let holders: Vec<String> = done
        .added
        .iter()
        .chain(done.present.iter())
        .filter(|(h, _)| h.to_string().eq_ignore_ascii_case(&container))
        .map(|(_, a)| a.clone())
        .collect();
    assert_eq!(holders.len(), 2, "{done:#?}");
    let (aces, report) = rt.block_on(async {
        let mut s = session(&admin(dc)).await;
        let (sd, _) = rights::read_dacl(&mut s, &Dn::parse(&container).unwrap())
            .await
            .unwrap();
        let mine: Vec<String> = sd
            .dacl
            .unwrap()
            .aces
            .iter()
            .filter(|a| a.sid() == Some(&done.sid) && !a.is_inherited())
            .map(ToString::to_string)
            .collect();
        let root = discovery::root_dse(&mut s).await.unwrap();
        let guids = Guids::read(&mut s, &root).await.unwrap();
        let device = guids.schema_id("msDS-Device").unwrap().to_string();
        let (_, report) = rights::check_account(&mut s, &root, &done.bind_name, &features)
            .await
            .unwrap();
        s.close().await;
        (
            mine.into_iter()
                .map(|a| a.replace(&device, "<msDS-Device>"))
                .collect::<Vec<_>>(),
            report,
        )
    });
    let sid = done.sid.to_string();
    let mut aces = aces;
    aces.sort();
    assert_eq!(
        aces,
        [
            format!("(OA;CI;CCDC;<msDS-Device>;;{sid})"),
            format!("(OA;CIIO;RPWPDTSD;;<msDS-Device>;{sid})"),
        ],
        "{aces:#?}"
    );
    let device_rights: Vec<(&str, &str)> = report
        .iter()
        .filter(|r| r.feature == "device writeback")
        .map(|r| (r.on.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(device_rights.len(), 2, "{report:#?}");
    for (on, status) in device_rights {
        assert!(on.eq_ignore_ascii_case(&container), "{on}");
        assert_eq!(status, "granted");
    }
}
