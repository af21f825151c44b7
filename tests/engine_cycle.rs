//! The engine end to end with the LDIF connector on both sides: the sample directory plays the AD
//! forest, a writable LDIF file plays the tenant. Full cycle, a quiet second cycle, deltas after
//! edits, staging, the delete guard, OU filtering by GUID, and incremental membership.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hybridsync::config::model::{DeleteGuard, ObjectRef, Scope, ScopeMode};
use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::connectors::file::ldif;
use hybridsync::domain::{AttributeName, Dn, ObjectGuid};
use hybridsync::engine::cycle::{Requested, fingerprint};
use hybridsync::engine::expr::{DateTime, Params};
use hybridsync::engine::model::ConnectorName;
use hybridsync::engine::rules::{ConnectorKind, RuleSet};
use hybridsync::engine::run::{
    CycleOptions, CycleReport, Engine, EngineConnector, ExportMode, Role, directory_params,
};
use hybridsync::engine::store::{RunStatus, SqliteStore};

struct Lab {
    _dir: tempfile::TempDir,
    source: PathBuf,
    target: PathBuf,
    db: PathBuf,
    rules: RuleSet,
    rt: tokio::runtime::Runtime,
    guard: DeleteGuard,
    scope: Scope,
    pilot: Option<Dn>,
    excluded: Vec<(String, AttributeName)>,
    rules_version: &'static str,
}

fn params() -> Params {
    directory_params("contoso.example", "contoso.example", "contoso.example")
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.ldif");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sample-directory.ldif"),
            &source,
        )
        .unwrap();
        Lab {
            source,
            target: dir.path().join("tenant.ldif"),
            db: dir.path().join("hybridsync.db"),
            _dir: dir,
            rules: RuleSet::builtin().unwrap(),
            rt: tokio::runtime::Runtime::new().unwrap(),
            guard: DeleteGuard::default(),
            scope: Scope::default(),
            pilot: None,
            excluded: Vec::new(),
            rules_version: "rules-v1",
        }
    }

    fn connectors(&self) -> Vec<EngineConnector> {
        vec![
            EngineConnector {
                connector: Arc::new(LdifConnector::source(
                    "contoso.example",
                    ConnectorKind::Ad,
                    &self.source,
                )),
                role: Role::Source,
                scope: self.scope.clone(),
                pilot_group: self.pilot.clone(),
                delete_guard: DeleteGuard::default(),
                params: params(),
            },
            EngineConnector {
                connector: Arc::new(LdifConnector::target(
                    "entra",
                    ConnectorKind::Entra,
                    &self.target,
                )),
                role: Role::Target,
                scope: Default::default(),
                pilot_group: None,
                delete_guard: self.guard.clone(),
                params: Params::new(),
            },
        ]
    }

    fn cycle(&self, requested: Requested, export: ExportMode) -> CycleReport {
        self.cycle_in_pages(requested, export, CycleOptions::default().page_size)
    }

    /// A cycle that reads and writes `page_size` objects per transaction.
    fn cycle_in_pages(
        &self,
        requested: Requested,
        export: ExportMode,
        page_size: usize,
    ) -> CycleReport {
        let mut store = SqliteStore::open(&self.db, "test").unwrap();
        let connectors = self.connectors();
        let mut engine = Engine::new(
            &mut store,
            &self.rules,
            &connectors,
            fingerprint([self.rules_version]),
            fingerprint([format!("{:?}", self.scope).as_str()]),
        )
        .unwrap();
        let options = CycleOptions {
            requested,
            export,
            excluded_attributes: self.excluded.clone(),
            page_size,
            ..CycleOptions::default()
        };
        engine.run_cycle(self.rt.handle(), &options).unwrap()
    }

    /// Edits the source directory as an admin would in AD.
    fn edit(&self, f: impl FnOnce(&mut Vec<ldif::Entry>)) {
        let mut entries =
            ldif::read_entries(&std::fs::read_to_string(&self.source).unwrap()).unwrap();
        f(&mut entries);
        std::fs::write(&self.source, ldif::write_entries(&entries)).unwrap();
    }

    fn pending(&self) -> Vec<hybridsync::engine::store::StoredExport> {
        use hybridsync::engine::store::Store;
        let mut store = SqliteStore::open_read_only(&self.db).unwrap();
        let tx = store.begin().unwrap();
        tx.pending_exports(None, None, 10_000).unwrap()
    }

    fn tenant_entry(&self, attr: &str, value: &str) -> Option<ldif::Entry> {
        self.tenant()
            .into_iter()
            .find(|e| e.text(attr).is_some_and(|v| v.eq_ignore_ascii_case(value)))
    }

    fn tenant(&self) -> Vec<ldif::Entry> {
        ldif::read_entries(&std::fs::read_to_string(&self.target).unwrap_or_default()).unwrap()
    }
}

fn entra(r: &CycleReport) -> &hybridsync::engine::run::ConnectorReport {
    r.connectors.iter().find(|c| c.name == "entra").unwrap()
}

#[test]
fn full_cycle_then_a_quiet_delta() {
    let lab = Lab::new();
    let first = lab.cycle(Requested::Auto, ExportMode::Send);
    assert!(matches!(
        first.kind,
        hybridsync::engine::cycle::CycleKind::Full(_)
    ));
    assert_eq!(first.status, RunStatus::Success, "{:#?}", first.errors);
    let e = entra(&first);
    eprintln!("{first:#?}");
    assert!(e.export.adds >= 210, "{e:?}");
    assert_eq!(e.export.pending, 0);
    let tenant = lab.tenant();
    assert_eq!(tenant.len() as u64, e.export.adds);

    let second = lab.cycle(Requested::Auto, ExportMode::Send);
    assert_eq!(second.kind, hybridsync::engine::cycle::CycleKind::Delta);
    let e = entra(&second);
    assert_eq!(
        (e.export.adds, e.export.updates, e.export.deletes),
        (0, 0, 0),
        "a cycle without changes exports nothing: {second:#?}"
    );
}

const GRACE: &str = "CN=Grace Wilson,OU=Users,OU=Seattle,OU=Contoso,DC=contoso,DC=example";
const ON_CALL: &str = "CN=Platform On-Call,OU=Groups,OU=Contoso,DC=contoso,DC=example";

fn set(entries: &mut [ldif::Entry], dn: &str, attr: &str, values: &[&str]) {
    let e = entries
        .iter_mut()
        .find(|e| e.dn.eq_ignore_ascii_case(dn))
        .unwrap_or_else(|| panic!("no {dn}"));
    e.attributes.retain(|a| !a.name.eq_ignore_ascii_case(attr));
    for v in values {
        e.push(attr, v.as_bytes().to_vec());
    }
}

fn values(e: &ldif::Entry, attr: &str) -> Vec<String> {
    e.get(attr)
        .map(|a| {
            a.values
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn groups_arrive_with_their_members_as_target_references() {
    let lab = Lab::new();
    lab.cycle(Requested::Auto, ExportMode::Send);
    let group = lab.tenant_entry("displayName", "Platform On-Call").unwrap();
    let members = values(&group, "members");
    assert_eq!(members.len(), 4, "{members:?}");
    let tenant = lab.tenant();
    for m in &members {
        assert!(
            tenant.iter().any(|e| e.dn.eq_ignore_ascii_case(m)),
            "member {m} is an object of the tenant"
        );
    }
    let grace = lab
        .tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
        .unwrap();
    assert!(members.iter().any(|m| m.eq_ignore_ascii_case(&grace.dn)));
    // Nesting is kept: Platform Team contains Platform On-Call.
    let team = lab.tenant_entry("displayName", "Platform Team").unwrap();
    assert!(
        values(&team, "members")
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&group.dn))
    );
}

#[test]
fn a_group_before_its_members_gets_them_whatever_the_pages() {
    // The group first in the directory: its metaverse object comes before its members', so it
    // is planned before they have counterparts in the tenant. Small pages put them on other
    // pages than the group; one large page holds them all.
    for page_size in [7, 1000] {
        let lab = Lab::new();
        lab.edit(|e| {
            let at = e
                .iter()
                .position(|x| {
                    x.dn.to_ascii_lowercase()
                        .starts_with("cn=platform on-call,")
                })
                .unwrap();
            let group = e.remove(at);
            e.insert(0, group);
        });
        let r = lab.cycle_in_pages(Requested::Full, ExportMode::Send, page_size);
        assert_eq!(r.error_count, 0, "{:#?}", r.errors);
        let group = lab.tenant_entry("displayName", "Platform On-Call").unwrap();
        let members = values(&group, "members");
        assert_eq!(members.len(), 4, "page size {page_size}: {members:?}");
        let tenant = lab.tenant();
        for m in &members {
            assert!(tenant.iter().any(|e| e.dn.eq_ignore_ascii_case(m)), "{m}");
        }
    }
}

#[test]
fn deltas_export_exactly_what_changed() {
    let lab = Lab::new();
    lab.cycle(Requested::Auto, ExportMode::Send);

    // One attribute of one user.
    lab.edit(|e| set(e, GRACE, "title", &["Director of Engineering"]));
    let r = lab.cycle(Requested::Delta, ExportMode::Staging);
    let pending = lab.pending();
    assert_eq!(
        pending.len(),
        1,
        "{}",
        hybridsync::engine::report::table(&pending)
    );
    let p = &pending[0].export;
    assert_eq!(p.operation.to_string(), "update");
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].attribute.as_str(), "jobTitle");
    assert_eq!(entra(&r).export.pending, 1);
    assert!(
        entra(&r)
            .export_held
            .as_deref()
            .unwrap()
            .contains("staging")
    );
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(entra(&r).export.updates, 1);
    let grace = lab
        .tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
        .unwrap();
    assert_eq!(values(&grace, "jobTitle"), vec!["Director of Engineering"]);

    // One member removed from a group: one incremental change, one value.
    lab.edit(|e| {
        let g = e
            .iter_mut()
            .find(|x| x.dn.eq_ignore_ascii_case(ON_CALL))
            .unwrap();
        for a in g
            .attributes
            .iter_mut()
            .filter(|a| a.name.eq_ignore_ascii_case("member"))
        {
            a.values
                .retain(|v| !String::from_utf8_lossy(v).starts_with("CN=Grace Wilson"));
        }
    });
    lab.cycle(Requested::Delta, ExportMode::Staging);
    let pending = lab.pending();
    assert_eq!(
        pending.len(),
        1,
        "{}",
        hybridsync::engine::report::table(&pending)
    );
    let ch = &pending[0].export.changes;
    assert_eq!(ch.len(), 1);
    assert_eq!(
        ch[0].kind,
        hybridsync::engine::model::ChangeKind::Incremental
    );
    assert_eq!((ch[0].old.len(), ch[0].new.len()), (1, 0));
    lab.cycle(Requested::Delta, ExportMode::Send);
    let group = lab.tenant_entry("displayName", "Platform On-Call").unwrap();
    assert_eq!(values(&group, "members").len(), 3);
    assert!(
        !values(&group, "members")
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&grace.dn))
    );

    // A user deleted in AD: deleted in the tenant; a quiet cycle afterwards.
    lab.edit(|e| e.retain(|x| !x.dn.eq_ignore_ascii_case(GRACE)));
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(entra(&r).export.deletes, 1, "{r:#?}");
    assert!(
        lab.tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
            .is_none()
    );
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    let e = entra(&r);
    assert_eq!(
        (e.export.adds, e.export.updates, e.export.deletes),
        (0, 0, 0),
        "{r:#?}"
    );
}

fn rename_subtree(entries: &mut [ldif::Entry], from: &str, to: &str) {
    for e in entries.iter_mut() {
        if e.dn
            .to_ascii_lowercase()
            .ends_with(&from.to_ascii_lowercase())
        {
            let keep = e.dn.len() - from.len();
            e.dn = format!("{}{to}", &e.dn[..keep]);
        }
        for a in e.attributes.iter_mut() {
            for v in a.values.iter_mut() {
                let text = String::from_utf8_lossy(v).into_owned();
                if text
                    .to_ascii_lowercase()
                    .ends_with(&from.to_ascii_lowercase())
                {
                    let keep = text.len() - from.len();
                    *v = format!("{}{to}", &text[..keep]).into_bytes();
                }
            }
        }
    }
    for e in entries.iter_mut().filter(|e| e.dn.eq_ignore_ascii_case(to)) {
        let rdn_value = to
            .split(',')
            .next()
            .unwrap()
            .split('=')
            .nth(1)
            .unwrap()
            .to_string();
        e.attributes.retain(|a| !a.name.eq_ignore_ascii_case("ou"));
        e.push("ou", rdn_value.into_bytes());
    }
}

#[test]
fn renaming_an_in_scope_ou_keeps_its_objects_and_leaving_scope_deletes() {
    let mut lab = Lab::new();
    let seattle = "OU=Seattle,OU=Contoso,DC=contoso,DC=example";
    let guid = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "dXBviSDn5EyhnlDNwUNeqw==",
    )
    .unwrap();
    lab.scope = Scope {
        mode: ScopeMode::Selected,
        domains: Vec::new(),
        include: vec![ObjectRef {
            dn: Dn::parse(seattle).unwrap(),
            guid: Some(ObjectGuid::from_bytes(&guid).unwrap()),
        }],
        exclude: Vec::new(),
    };
    let first = lab.cycle(Requested::Auto, ExportMode::Send);
    let synced = entra(&first).export.adds;
    assert!(synced > 20, "Seattle has users: {first:#?}");
    assert!(
        lab.tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
            .is_some()
    );
    let total = lab.tenant().len();

    // The OU is renamed in AD: by GUID it is still the selected one.
    lab.edit(|e| rename_subtree(e, seattle, "OU=Seattle HQ,OU=Contoso,DC=contoso,DC=example"));
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(entra(&r).export.deletes, 0, "{r:#?}");
    assert_eq!(lab.tenant().len(), total);

    // A user moved to London leaves scope: deleted in the tenant, counted as filtered.
    let grace_now = "CN=Grace Wilson,OU=Users,OU=Seattle HQ,OU=Contoso,DC=contoso,DC=example";
    lab.edit(|e| {
        let g = e
            .iter_mut()
            .find(|x| x.dn.eq_ignore_ascii_case(grace_now))
            .unwrap();
        g.dn = "CN=Grace Wilson,OU=Users,OU=London,OU=Contoso,DC=contoso,DC=example".into();
    });
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(entra(&r).export.deletes, 1, "{r:#?}");
    let ad = r
        .connectors
        .iter()
        .find(|c| c.name == "contoso.example")
        .unwrap();
    assert!(ad.sync.filtered >= 1);
    assert!(
        lab.tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
            .is_none()
    );
}

#[test]
fn the_delete_guard_blocks_the_whole_export_until_released_once() {
    let mut lab = Lab::new();
    lab.guard = DeleteGuard {
        enabled: true,
        count: 5,
        percent: None,
    };
    lab.cycle(Requested::Auto, ExportMode::Send);
    let before = lab.tenant().len();
    let victims: Vec<String> = {
        let text = std::fs::read_to_string(&lab.source).unwrap();
        ldif::read_entries(&text)
            .unwrap()
            .into_iter()
            .filter(|e| e.dn.starts_with("CN=") && e.dn.contains("OU=Users,OU=Munich"))
            .map(|e| e.dn.clone())
            .take(8)
            .collect()
    };
    assert_eq!(victims.len(), 8);
    lab.edit(|e| {
        e.retain(|x| !victims.contains(&x.dn));
        // An unrelated change waits with the deletes.
        set(e, GRACE, "title", &["Principal Engineer"]);
    });
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(r.status, RunStatus::StoppedDeletionThresholdExceeded);
    assert!(r.guard_blocked);
    let held = entra(&r).export_held.clone().unwrap();
    assert!(
        held.contains("8 objects") && held.contains("allow-deletes"),
        "{held}"
    );
    assert_eq!(lab.tenant().len(), before, "nothing was exported");
    // The deletes, Grace's title, and the groups that lose the deleted members.
    let pending = lab.pending();
    let deletes = pending
        .iter()
        .filter(|p| p.export.operation.to_string() == "delete")
        .count();
    assert_eq!(deletes, 8);
    assert_eq!(entra(&r).export.pending, pending.len() as u64);
    let updates = pending.len() as u64 - 8;
    // Still blocked on the next cycle.
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert!(r.guard_blocked);

    {
        use hybridsync::engine::store::Store;
        let mut store = SqliteStore::open(&lab.db, "test").unwrap();
        let mut tx = store.begin().unwrap();
        tx.grant_delete_release(&ConnectorName::new("entra"), DateTime::now())
            .unwrap();
        tx.commit().unwrap();
    }
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(r.status, RunStatus::Success, "{r:#?}");
    assert_eq!(
        (entra(&r).export.deletes, entra(&r).export.updates),
        (8, updates)
    );
    assert_eq!(lab.tenant().len(), before - 8);

    // The release was used up: the next mass delete is blocked again.
    let more: Vec<String> = {
        let text = std::fs::read_to_string(&lab.source).unwrap();
        ldif::read_entries(&text)
            .unwrap()
            .into_iter()
            .filter(|e| e.dn.starts_with("CN=") && e.dn.contains("OU=Users,OU=London"))
            .map(|e| e.dn.clone())
            .take(6)
            .collect()
    };
    lab.edit(|e| e.retain(|x| !more.contains(&x.dn)));
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert!(r.guard_blocked);
}

#[test]
fn a_pilot_group_limits_the_sync_to_its_direct_members() {
    let mut lab = Lab::new();
    lab.pilot = Some(Dn::parse(ON_CALL).unwrap());
    lab.cycle(Requested::Auto, ExportMode::Send);
    let tenant = lab.tenant();
    assert_eq!(
        tenant.len(),
        4,
        "the group's four direct members, nothing else"
    );
    assert!(
        lab.tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
            .is_some()
    );

    // Leaving the pilot group leaves the sync.
    lab.edit(|e| {
        let g = e
            .iter_mut()
            .find(|x| x.dn.eq_ignore_ascii_case(ON_CALL))
            .unwrap();
        for a in g
            .attributes
            .iter_mut()
            .filter(|a| a.name.eq_ignore_ascii_case("member"))
        {
            a.values
                .retain(|v| !String::from_utf8_lossy(v).starts_with("CN=Grace Wilson"));
        }
    });
    let r = lab.cycle(Requested::Auto, ExportMode::Send);
    assert_eq!(entra(&r).export.deletes, 1, "{r:#?}");
    assert_eq!(lab.tenant().len(), 3);
}

#[test]
fn excluded_attributes_never_reach_the_tenant() {
    let mut lab = Lab::new();
    lab.excluded = vec![("user".into(), AttributeName::new("title").unwrap())];
    lab.cycle(Requested::Auto, ExportMode::Send);
    let grace = lab
        .tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
        .unwrap();
    assert!(values(&grace, "jobTitle").is_empty());
    assert_eq!(values(&grace, "department"), vec!["Engineering"]);
    // A change to an excluded attribute exports nothing.
    lab.edit(|e| set(e, GRACE, "title", &["Chief Architect"]));
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(entra(&r).export.updates, 0, "{r:#?}");
}

#[test]
fn a_rule_or_scope_change_forces_a_full_cycle_and_says_why() {
    use hybridsync::engine::cycle::CycleKind;
    let mut lab = Lab::new();
    lab.cycle(Requested::Auto, ExportMode::Send);
    assert_eq!(
        lab.cycle(Requested::Delta, ExportMode::Send).kind,
        CycleKind::Delta
    );
    lab.rules_version = "rules-v2";
    let r = lab.cycle(Requested::Delta, ExportMode::Send);
    assert_eq!(
        r.kind,
        CycleKind::Full("the synchronization rules changed since the last full cycle".into())
    );
    assert_eq!(
        lab.cycle(Requested::Auto, ExportMode::Send).kind,
        CycleKind::Delta
    );
    lab.scope.mode = ScopeMode::Selected;
    lab.scope.include = vec![ObjectRef {
        dn: Dn::parse("OU=Contoso,DC=contoso,DC=example").unwrap(),
        guid: None,
    }];
    let r = lab.cycle(Requested::Auto, ExportMode::Send);
    assert_eq!(
        r.kind,
        CycleKind::Full("domain/OU filtering changed since the last full cycle".into())
    );
    // Objects outside OU=Contoso (the built-in Administrator, krbtgt...) were never exported,
    // so the narrower scope deletes nothing that matters here.
    assert_eq!(r.status, RunStatus::Success, "{r:#?}");
}

/// Every tenant user's (userPrincipalName, onPremisesImmutableId).
fn immutable_ids(lab: &Lab) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = lab
        .tenant()
        .iter()
        .filter_map(|e| {
            Some((
                e.text("userPrincipalName")?.to_ascii_lowercase(),
                e.text("onPremisesImmutableId")?.to_string(),
            ))
        })
        .collect();
    v.sort();
    v
}

// wizfeatures: the source anchor switch of the rerun wizard ("Configure source anchor").
#[test]
fn the_object_guid_anchor_ignores_a_foreign_consistency_guid_and_the_switch_keeps_immutable_ids() {
    let cguid = AttributeName::new("mS-DS-ConsistencyGuid").unwrap();
    let mut lab = Lab::new();
    // objectGUID anchor: `sync run` drops mS-DS-ConsistencyGuid for users (cli::sync_cmd).
    lab.excluded = vec![("user".into(), cguid.clone())];
    lab.cycle(Requested::Auto, ExportMode::Send);
    let baseline = immutable_ids(&lab);
    assert!(baseline.len() > 3, "{baseline:?}");
    let grace = "grace.wilson@contoso.example";
    assert!(baseline.iter().any(|(u, _)| u == grace));

    // Another tool writes a consistency guid on Grace that is not her objectGUID: with the
    // objectGUID anchor nothing changes.
    lab.edit(|e| {
        let g = e
            .iter_mut()
            .find(|x| x.dn.eq_ignore_ascii_case(GRACE))
            .unwrap();
        g.push("mS-DS-ConsistencyGuid", vec![0x11; 16]);
    });
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(entra(&r).export.updates, 0, "{r:#?}");
    assert_eq!(immutable_ids(&lab), baseline);

    // The switch, once the check finds no value in use: the sample directory has one more
    // (Ingrid Lindqvist's, not her objectGUID), and the admin clears both. The anchor is then
    // mS-DS-ConsistencyGuid, and every user keeps the immutableId it had.
    lab.edit(|e| {
        let with: Vec<String> = e
            .iter()
            .filter(|x| x.get("mS-DS-ConsistencyGuid").is_some())
            .map(|x| x.dn.clone())
            .collect();
        assert_eq!(with.len(), 2, "{with:?}");
        for x in e.iter_mut() {
            x.attributes
                .retain(|a| !a.name.eq_ignore_ascii_case("mS-DS-ConsistencyGuid"));
        }
    });
    lab.excluded = Vec::new();
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(r.status, RunStatus::Success, "{r:#?}");
    assert_eq!(entra(&r).export.updates, 0, "{r:#?}");
    assert_eq!(immutable_ids(&lab), baseline);

    // The wizard's writeback of the anchor: every user's objectGUID into its
    // mS-DS-ConsistencyGuid. The anchor is now the consistency guid, and nothing changes.
    let mut stamped = 0;
    lab.edit(|e| {
        for x in e.iter_mut() {
            let is_user = x.get("objectClass").is_some_and(|a| {
                a.values.iter().any(|v| {
                    v.eq_ignore_ascii_case(b"user") || v.eq_ignore_ascii_case(b"inetOrgPerson")
                })
            });
            let guid = x.get("objectGUID").and_then(|a| a.values.first()).cloned();
            if let (true, Some(g)) = (is_user, guid) {
                x.push("mS-DS-ConsistencyGuid", g);
                stamped += 1;
            }
        }
    });
    assert!(stamped >= baseline.len(), "{stamped} users stamped");
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(entra(&r).export.updates, 0, "{r:#?}");
    assert_eq!(immutable_ids(&lab), baseline);
}

// wizfeatures: attribute filtering turned on later (`sync run` then changes the rules
// fingerprint, which forces a full cycle).
#[test]
fn an_attribute_filtered_later_is_removed_from_the_tenant_by_the_full_cycle() {
    let mut lab = Lab::new();
    lab.cycle(Requested::Auto, ExportMode::Send);
    let grace = |lab: &Lab| {
        lab.tenant_entry("userPrincipalName", "grace.wilson@contoso.example")
            .unwrap()
    };
    assert!(!values(&grace(&lab), "jobTitle").is_empty());
    lab.excluded = vec![("user".into(), AttributeName::new("title").unwrap())];
    lab.rules_version = "rules-v1 + excluded user.title";
    let r = lab.cycle(Requested::Auto, ExportMode::Send);
    assert!(
        matches!(r.kind, hybridsync::engine::cycle::CycleKind::Full(_)),
        "{:?}",
        r.kind
    );
    assert!(
        values(&grace(&lab), "jobTitle").is_empty(),
        "{:?}",
        grace(&lab)
    );
    assert_eq!(values(&grace(&lab), "department"), vec!["Engineering"]);
}

/// A full cycle writes a page's projections together; an object later in the page whose join
/// value a waiting projection holds must still find it (as one by one it would).
#[test]
fn a_join_finds_an_object_projected_earlier_in_the_same_page() {
    let lab = Lab::new();
    let mut later = String::new();
    lab.edit(|e| {
        // An ordinary person: a user (not a computer) with a UPN, not a critical system object.
        let is_user = |x: &ldif::Entry| {
            let classes = values(x, "objectClass");
            classes.iter().any(|c| c.eq_ignore_ascii_case("user"))
                && !classes.iter().any(|c| c.eq_ignore_ascii_case("computer"))
                && x.get("userPrincipalName").is_some()
                && x.get("isCriticalSystemObject").is_none()
        };
        // A user without manager (so its projection waits with the page's others) and the
        // next user, which claims its objectGUID as consistency guid.
        let at = e
            .iter()
            .position(|x| {
                is_user(x)
                    && x.get("manager").is_none()
                    && x.get("mS-DS-ConsistencyGuid").is_none()
                    && x.get("objectGUID").is_some()
            })
            .unwrap();
        let guid = e[at].get("objectGUID").unwrap().values[0].clone();
        let other = e[at + 1..]
            .iter_mut()
            .find(|x| is_user(x) && x.get("mS-DS-ConsistencyGuid").is_none())
            .unwrap();
        other.push("mS-DS-ConsistencyGuid", guid);
        later = other.dn.clone();
    });
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    let ad = r
        .connectors
        .iter()
        .find(|c| c.name == "contoso.example")
        .unwrap();
    // It joins Grace's metaverse object, which already has her from this connector: an error
    // for that object alone, and no second projection.
    assert_eq!(ad.sync.errors, 1, "{:#?}", r.errors);
    let e = r
        .errors
        .iter()
        .find(|e| {
            e.dn.as_ref()
                .is_some_and(|d| d.to_string().eq_ignore_ascii_case(&later))
        })
        .unwrap_or_else(|| panic!("{later}: {:#?}", r.errors));
    assert!(e.message.contains("would join it"), "{}", e.message);
}

#[test]
fn a_reference_removed_while_unresolved_stays_removed_when_its_target_arrives() {
    // Jessica is missing at first: Carlos Brown's and Carlos Singh's manager reference waits
    // for her. Carlos Brown then loses his manager in a full cycle (which reads which objects
    // of the page hold waiting references, to clear only theirs); when Jessica arrives, only
    // Carlos Singh gets her.
    const JESSICA: &str = "CN=Jessica Hill,OU=Users,OU=Seattle,OU=Contoso,DC=contoso,DC=example";
    const BROWN: &str = "CN=Carlos Brown,OU=Users,OU=Seattle,OU=Contoso,DC=contoso,DC=example";
    const SINGH: &str = "CN=Carlos Singh,OU=Users,OU=Seattle,OU=Contoso,DC=contoso,DC=example";
    let lab = Lab::new();
    let mut jessica = None;
    lab.edit(|e| {
        let at = e
            .iter()
            .position(|x| x.dn.eq_ignore_ascii_case(JESSICA))
            .unwrap();
        jessica = Some(e.remove(at));
        set(e, BROWN, "manager", &[JESSICA]);
        set(e, SINGH, "manager", &[JESSICA]);
    });
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(r.error_count, 0, "{:#?}", r.errors);
    lab.edit(|e| set(e, BROWN, "manager", &[]));
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(r.error_count, 0, "{:#?}", r.errors);
    let jessica = jessica.unwrap();
    lab.edit(|e| e.push(jessica));
    let r = lab.cycle(Requested::Full, ExportMode::Send);
    assert_eq!(r.error_count, 0, "{:#?}", r.errors);
    let boss = lab.tenant_entry("displayName", "Jessica Hill").unwrap();
    let singh = lab.tenant_entry("displayName", "Carlos Singh").unwrap();
    assert_eq!(values(&singh, "manager"), vec![boss.dn.clone()]);
    let brown = lab.tenant_entry("displayName", "Carlos Brown").unwrap();
    assert_eq!(values(&brown, "manager"), Vec::<String>::new());
}
