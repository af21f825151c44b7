#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The AD connector against a real Samba AD DC (tests/support/samba.rs): full import of the
//! seeded domain with exact values, DirSync deltas (add, modify, move, rename, delete,
//! membership), the cookie across a restart, USN polling for an account without replication
//! rights, ranged retrieval, export round trips, discovery (rootDSE, schema, OU tree, DNS SRV),
//! bind, TLS and dead-DC errors, and the engine end to end from the DC into an LDIF tenant.

#[path = "support/samba.rs"]
mod samba;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hybridsync::config::model::TlsMode;
use hybridsync::connectors::ad::dirsync::{AdWatermark, Position};
use hybridsync::connectors::ad::{AdConnector, AdOptions, Endpoint, dns};
use hybridsync::domain::{AttributeName, Dn, Secret};
use hybridsync::engine::connector::{
    Connector, ConnectorError, ImportSink, ImportSummary, Watermark,
};
use hybridsync::engine::expr::Value;
use hybridsync::engine::model::{
    Anchor, AttributeChange, ConnectorName, CsId, ExportOutcome, ImportItem, ImportedObject,
    Operation, PendingExport, ValueDelta,
};
use samba::SambaDc;

#[derive(Default)]
struct Collect(Vec<ImportItem>);

impl ImportSink for Collect {
    fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
        self.0.push(item);
        Ok(())
    }
}

impl Collect {
    fn objects(&self) -> impl Iterator<Item = &ImportedObject> {
        self.0.iter().filter_map(|i| match i {
            ImportItem::Object(o) => Some(o),
            _ => None,
        })
    }

    fn under(&self, base: &str) -> Vec<&ImportedObject> {
        let base = Dn::parse(base).unwrap();
        self.objects().filter(|o| o.dn.is_within(&base)).collect()
    }

    fn find(&self, dn: &str) -> &ImportedObject {
        let dn = Dn::parse(dn).unwrap();
        self.objects()
            .find(|o| o.dn == dn)
            .unwrap_or_else(|| panic!("{dn} was not imported: {:#?}", self.dns()))
    }

    fn deleted(&self) -> Vec<&Anchor> {
        self.0
            .iter()
            .filter_map(|i| match i {
                ImportItem::Deleted { anchor } => Some(anchor),
                _ => None,
            })
            .collect()
    }

    fn dns(&self) -> Vec<String> {
        self.objects().map(|o| o.dn.to_string()).collect()
    }
}

fn options(dc: &SambaDc) -> AdOptions {
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
    o.settings.timeout = Duration::from_secs(20);
    o
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn full(rt: &tokio::runtime::Runtime, c: &AdConnector) -> (Collect, ImportSummary) {
    let mut sink = Collect::default();
    let summary = rt
        .block_on(c.full_import(&mut sink))
        .unwrap_or_else(|e| panic!("full import: {e}"));
    (sink, summary)
}

fn delta(rt: &tokio::runtime::Runtime, c: &AdConnector, w: &Watermark) -> (Collect, Watermark) {
    let mut sink = Collect::default();
    let summary = rt
        .block_on(c.delta_import(w, &mut sink))
        .unwrap_or_else(|e| panic!("delta import: {e}"));
    assert_eq!(summary.objects, sink.0.len() as u64);
    (sink, summary.watermark)
}

fn attr<'a>(o: &'a ImportedObject, name: &str) -> &'a [Value] {
    o.attributes
        .get(&AttributeName::new(name).unwrap())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn strs(o: &ImportedObject, name: &str) -> Vec<String> {
    attr(o, name).iter().map(|v| v.to_string()).collect()
}

/// The objectGUID of `dn` as ldapsearch reports it.
fn ldapsearch_guid(dc: &SambaDc, dn: &str) -> Vec<u8> {
    let out = dc.ldap_search(dn, "(objectClass=*)", &["objectGUID"]);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("objectGUID:: "))
        .unwrap_or_else(|| panic!("no objectGUID for {dn} in {out}"));
    base64::engine::general_purpose::STANDARD
        .decode(line.trim())
        .unwrap()
}

const CORP: &str = "OU=Corp,DC=lab,DC=example";

#[test]
fn full_import_of_the_seeded_domain_has_exact_values() {
    let dc = SambaDc::shared();
    let rt = rt();
    let c = AdConnector::new(options(dc));
    let started = Instant::now();
    let (items, summary) = full(&rt, &c);
    eprintln!(
        "full import: {} objects in {:?}",
        summary.objects,
        started.elapsed()
    );
    assert_eq!(summary.objects, items.0.len() as u64);
    assert!(
        !items
            .0
            .iter()
            .any(|i| matches!(i, ImportItem::Rejected { .. })),
        "nothing rejected"
    );
    let corp = items.under(CORP);
    let count = |class: &str| corp.iter().filter(|o| o.object_class == class).count();
    assert_eq!(count("user"), 50);
    assert_eq!(count("group"), 8);
    assert_eq!(count("computer"), 2);
    assert_eq!(count("contact"), 2);
    assert_eq!(count("organizationalUnit"), 10);
    assert_eq!(corp.len(), 72);
    // The domain object and built-in containers come too.
    assert!(items.objects().any(|o| o.object_class == "domainDNS"));
    assert!(
        items
            .objects()
            .any(|o| o.dn == Dn::parse("CN=Users,DC=lab,DC=example").unwrap())
    );

    // Non-ASCII, and the GUID is exactly what ldapsearch sees.
    let zoe_dn = "CN=Zoë Ångström,OU=People,OU=Corp,DC=lab,DC=example";
    let zoe = items.find(zoe_dn);
    let guid = ldapsearch_guid(dc, zoe_dn);
    assert_eq!(zoe.anchor, Anchor::Bytes(guid.clone()));
    assert_eq!(attr(zoe, "objectGUID"), &[Value::Bin(guid)]);
    assert_eq!(strs(zoe, "givenName"), ["Zoë"]);
    assert_eq!(strs(zoe, "sn"), ["Ångström"]);
    assert_eq!(attr(zoe, "userAccountControl"), &[Value::Num(512)]);
    assert_eq!(strs(zoe, "sAMAccountName"), ["zoe.angstrom"]);
    assert!(matches!(attr(zoe, "objectSid"), [Value::Bin(b)] if b.len() == 28));
    assert!(matches!(attr(zoe, "whenCreated"), [Value::Date(_)]));
    assert!(matches!(attr(zoe, "uSNChanged"), [Value::Num(n)] if *n > 0));

    // Escaped DNs, references typed as references.
    let smith = items.find("CN=Smith\\, John,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(strs(smith, "displayName"), ["Smith, John"]);
    assert_eq!(attr(smith, "manager"), &[Value::Ref(zoe_dn.into())]);
    let helpdesk = items.find("CN=\\#Helpdesk,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(helpdesk.dn.rdn().unwrap().value(), "#Helpdesk");
    items.find("CN=Lee\\+Park,OU=People,OU=Corp,DC=lab,DC=example");
    let taro = items.find("CN=Taro Tanaka,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(strs(taro, "displayName"), ["田中 太郎"]);
    let ben = items.find("CN=Ben Okafor,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(strs(ben, "info"), ["Line one\nLine two"]);
    let renee = items.find("CN=Renée Dubois,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(
        attr(renee, "mS-DS-ConsistencyGuid"),
        &[Value::Bin((0x10..0x20).collect())]
    );
    let priya = items.find("CN=Priya Raman,OU=People,OU=Corp,DC=lab,DC=example");
    assert_eq!(attr(priya, "proxyAddresses").len(), 4);

    // Groups: members as references, exact; groupType as a number.
    let all_staff = items.find("CN=All Staff,OU=Groups,OU=Corp,DC=lab,DC=example");
    let members: BTreeSet<Dn> = attr(all_staff, "member")
        .iter()
        .map(|v| match v {
            Value::Ref(r) => Dn::parse(r).unwrap(),
            other => panic!("member {other:?} is not a reference"),
        })
        .collect();
    let expected: BTreeSet<Dn> = [
        "CN=Sales Team,OU=Groups,OU=Corp,DC=lab,DC=example",
        "CN=Engineering Team,OU=Groups,OU=Corp,DC=lab,DC=example",
        zoe_dn,
        "CN=Smith\\, John,OU=People,OU=Corp,DC=lab,DC=example",
        "CN=\\#Helpdesk,OU=People,OU=Corp,DC=lab,DC=example",
    ]
    .iter()
    .map(|d| Dn::parse(d).unwrap())
    .collect();
    assert_eq!(members, expected);
    assert_eq!(attr(all_staff, "groupType"), &[Value::Num(-2_147_483_646)]);
    let vpn = items.find("CN=VPN Users,OU=Groups,OU=Corp,DC=lab,DC=example");
    assert_eq!(attr(vpn, "member").len(), 2);
    let empty = items.find("CN=Empty Group,OU=Groups,OU=Corp,DC=lab,DC=example");
    assert!(attr(empty, "member").is_empty());
    let total_members: usize = corp
        .iter()
        .filter(|o| o.object_class == "group")
        .map(|o| attr(o, "member").len())
        .sum();
    assert_eq!(total_members, 45);

    // The watermark is a DirSync cookie for the domain (the administrator may replicate).
    let w = AdWatermark::decode(&summary.watermark).unwrap();
    assert_eq!(w.contexts.len(), 1);
    assert_eq!(w.contexts[0].0, dc.base_dn);
    assert!(matches!(&w.contexts[0].1, Position::DirSync(c) if !c.is_empty()));
}

#[test]
fn dirsync_deltas_follow_adds_modifies_moves_renames_deletes_and_membership() {
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("delta");
    let sub = format!("OU=Sub,{ou}");
    dc.ldif_modify(&format!(
        "dn: {sub}\nchangetype: add\nobjectClass: organizationalUnit\n\n\
         dn: CN=Keep,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dkeep\n\n\
         dn: CN=Mover,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dmover\n\n\
         dn: CN=Old Name,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: drename\n\n\
         dn: CN=Doomed,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: ddoomed\n\n\
         dn: CN=Team,{ou}\nchangetype: add\nobjectClass: group\nsAMAccountName: dteam\n\
         member: CN=Keep,{ou}\nmember: CN=Doomed,{ou}\n"
    ));
    let c = AdConnector::new(options(dc));
    let (base, summary) = full(&rt, &c);
    assert_eq!(base.under(&ou).len(), 7);
    let doomed_guid = base.find(&format!("CN=Doomed,{ou}")).anchor.clone();
    let mover_guid = base.find(&format!("CN=Mover,{ou}")).anchor.clone();
    let renamed_guid = base.find(&format!("CN=Old Name,{ou}")).anchor.clone();

    // Nothing changed under the OU: the delta names nothing there.
    let (quiet, w1) = delta(&rt, &c, &summary.watermark);
    assert!(quiet.under(&ou).is_empty(), "{:?}", quiet.dns());

    dc.ldif_modify(&format!(
        "dn: CN=Added,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dadded\n\
         givenName: Neu\n\n\
         dn: CN=Keep,{ou}\nchangetype: modify\nreplace: title\ntitle: Boss\n\n\
         dn: CN=Mover,{ou}\nchangetype: modrdn\nnewrdn: CN=Mover\ndeleteoldrdn: 1\n\
         newsuperior: {sub}\n\n\
         dn: CN=Old Name,{ou}\nchangetype: modrdn\nnewrdn: CN=New Name\ndeleteoldrdn: 1\n\n\
         dn: CN=Team,{ou}\nchangetype: modify\nadd: member\nmember: CN=Added,{ou}\n-\n\
         delete: member\nmember: CN=Keep,{ou}\n\n\
         dn: CN=Doomed,{ou}\nchangetype: delete\n"
    ));
    let (d, w2) = delta(&rt, &c, &w1);
    let added = d.find(&format!("CN=Added,{ou}"));
    let d2_added_guid = added.anchor.clone();
    assert_eq!(strs(added, "givenName"), ["Neu"]);
    assert_eq!(strs(added, "sAMAccountName"), ["dadded"]);
    let keep = d.find(&format!("CN=Keep,{ou}"));
    assert_eq!(strs(keep, "title"), ["Boss"]);
    // Whole objects, not just the changed attribute.
    assert_eq!(strs(keep, "sAMAccountName"), ["dkeep"]);
    assert!(matches!(attr(keep, "objectGUID"), [Value::Bin(_)]));
    let mover = d.find(&format!("CN=Mover,{sub}"));
    assert_eq!(mover.anchor, mover_guid);
    let renamed = d.find(&format!("CN=New Name,{ou}"));
    assert_eq!(renamed.anchor, renamed_guid);
    // The group's membership change arrives as the changed values (all DirSync sent).
    let team_anchor = base.find(&format!("CN=Team,{ou}")).anchor.clone();
    let team = value_items(&d, &team_anchor);
    let [ImportItem::ValueChanges { dn, changes, .. }] = team[..] else {
        panic!(
            "the group's change is not one value-change item: {:#?}",
            d.0
        );
    };
    assert_eq!(
        dn.as_ref(),
        Some(&Dn::parse(&format!("CN=Team,{ou}")).unwrap())
    );
    let dns = |values: &[Value]| -> BTreeSet<Dn> {
        values
            .iter()
            .map(|v| Dn::parse(&v.to_string()).unwrap())
            .collect()
    };
    let [member] = &changes[..] else {
        panic!("{changes:#?}")
    };
    assert_eq!(member.attribute, AttributeName::new("member").unwrap());
    assert_eq!(
        (dns(&member.added), dns(&member.removed)),
        (
            [Dn::parse(&format!("CN=Added,{ou}")).unwrap()].into(),
            [Dn::parse(&format!("CN=Keep,{ou}")).unwrap()].into()
        ),
        "{changes:#?}"
    );
    assert!(d.deleted().contains(&&doomed_guid), "{:?}", d.0);
    assert!(d.under(&ou).iter().all(|o| o.anchor != doomed_guid));

    // A restart: a new connector from the stored watermark sees only what changed since.
    let again = AdConnector::new(options(dc));
    dc.ldif_modify(&format!(
        "dn: CN=Keep,{ou}\nchangetype: modify\nreplace: title\ntitle: Chief\n"
    ));
    let (d, _) = delta(&rt, &again, &w2);
    let under: Vec<_> = d.under(&ou);
    assert_eq!(under.len(), 1, "{:?}", d.dns());
    assert_eq!(strs(under[0], "title"), ["Chief"]);
    assert!(d.deleted().is_empty() || !d.deleted().contains(&&doomed_guid));

    // A member deleted alone: Samba's DirSync names the tombstone, not the group (the link
    // removal is not reported as a value change, nor as a change of the group).
    let added_guid = d2_added_guid;
    dc.ldif_modify(&format!("dn: CN=Added,{ou}\nchangetype: delete\n"));
    let (d, _) = delta(&rt, &again, &w2);
    assert!(d.deleted().contains(&&added_guid), "{:?}", d.0);
    assert!(value_items(&d, &team_anchor).is_empty(), "{:?}", d.0);
    assert!(
        d.objects().all(|o| o.anchor != team_anchor),
        "{:?}",
        d.dns()
    );

    // A cookie the DC cannot read: the engine is told to run a full import.
    let mut broken = AdWatermark::decode(&w2).unwrap();
    broken.contexts[0].1 = Position::DirSync(b"garbage".to_vec());
    let mut sink = Collect::default();
    let err = rt
        .block_on(c.delta_import(&broken.encode(), &mut sink))
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::WatermarkExpired { .. }),
        "{err}"
    );
    let err = rt
        .block_on(c.delta_import(&Watermark(b"not ours".to_vec()), &mut sink))
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::WatermarkExpired { .. }),
        "{err}"
    );
}

#[test]
fn usn_polling_for_an_account_without_replication_rights() {
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("usn");
    let user = format!("usnreader{}", std::process::id() % 10_000);
    let password = "Reader-Passw0rd!";
    dc.samba_tool(&[
        "user",
        "create",
        &user,
        password,
        "--userou",
        &ou_rdn(&ou, dc),
    ]);
    dc.ldif_modify(&format!(
        "dn: CN=Target,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: utarget\n\n\
         dn: CN=Gone,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: ugone\n"
    ));
    let mut o = options(dc);
    o.settings.bind_name = format!("{user}@{}", dc.realm);
    o.settings.password = Secret::new(password.into());
    let c = AdConnector::new(o);
    let (base, summary) = full(&rt, &c);
    let w = AdWatermark::decode(&summary.watermark).unwrap();
    assert!(
        matches!(&w.contexts[0].1, Position::Usn { usn, dc: host, .. } if *usn > 0 && host == &dc.dc_host_name),
        "{w:?}"
    );
    assert!(
        base.under(CORP).len() >= 62,
        "a reader sees the seeded objects"
    );
    let gone = base.find(&format!("CN=Gone,{ou}")).anchor.clone();

    dc.ldif_modify(&format!(
        "dn: CN=Target,{ou}\nchangetype: modify\nreplace: title\ntitle: Polled\n\n\
         dn: CN=Gone,{ou}\nchangetype: delete\n"
    ));
    let (d, w2) = delta(&rt, &c, &summary.watermark);
    let target = d.find(&format!("CN=Target,{ou}"));
    assert_eq!(strs(target, "title"), ["Polled"]);
    assert_eq!(strs(target, "sAMAccountName"), ["utarget"]);
    // Like on Windows, an ordinary account may not list CN=Deleted Objects: the tombstone stays
    // invisible to it, and the next full import removes the object by its absence.
    assert!(!d.deleted().contains(&&gone), "{:?}", d.0);
    let (quiet, _) = delta(&rt, &c, &w2);
    assert!(quiet.under(&ou).is_empty(), "{:?}", quiet.dns());

    // An account that may read tombstones, polling USNs: deletions arrive as deletes.
    let mut o = options(dc);
    o.dirsync = false;
    let admin = AdConnector::new(o);
    let (_, summary) = full(&rt, &admin);
    assert!(matches!(
        AdWatermark::decode(&summary.watermark).unwrap().contexts[0].1,
        Position::Usn { .. }
    ));
    let target_guid = target.anchor.clone();
    dc.ldif_modify(&format!("dn: CN=Target,{ou}\nchangetype: delete\n"));
    let (d, _) = delta(&rt, &admin, &summary.watermark);
    assert!(
        d.deleted().contains(&&target_guid),
        "the tombstone is seen through show-deleted: {:?}",
        d.0
    );
}

/// `OU=usn-3,OU=Tests` from `OU=usn-3,OU=Tests,DC=lab,DC=example` (samba-tool's --userou).
fn ou_rdn(ou: &str, dc: &SambaDc) -> String {
    ou.strip_suffix(&format!(",{}", dc.base_dn))
        .unwrap()
        .to_owned()
}

#[test]
fn ranged_retrieval_reads_every_member_of_a_large_group() {
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("ranged");
    let t = Instant::now();
    let users = dc.add_users(&ou, 1600);
    eprintln!("1600 users added in {:?}", t.elapsed());
    let mut ldif = format!("dn: CN=Big,{ou}\nchangetype: add\nobjectClass: group\n");
    for u in &users {
        ldif.push_str(&format!("member: {u}\n"));
    }
    dc.ldif_modify(&ldif);
    eprintln!("group of 1600 added after {:?}", t.elapsed());
    let mut o = options(dc);
    o.value_range = Some(1500); // as a Windows DC's MaxValRange would
    let c = AdConnector::new(o);
    let (items, _) = full(&rt, &c);
    let big = items.find(&format!("CN=Big,{ou}"));
    let got: BTreeSet<Dn> = attr(big, "member")
        .iter()
        .map(|v| Dn::parse(&v.to_string()).unwrap())
        .collect();
    let want: BTreeSet<Dn> = users.iter().map(|u| Dn::parse(u).unwrap()).collect();
    assert_eq!(attr(big, "member").len(), 1600);
    assert_eq!(got, want);
    assert_eq!(items.under(&ou).len(), 1602); // OU, group, users
}

/// A writer for a scoped `tracing` subscriber: what the connector logs, kept for the test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The value-change items of `anchor` in a delta.
fn value_items<'a>(items: &'a Collect, anchor: &Anchor) -> Vec<&'a ImportItem> {
    items
        .0
        .iter()
        .filter(|i| matches!(i, ImportItem::ValueChanges { anchor: a, .. } if a == anchor))
        .collect()
}

#[test]
fn dirsync_hands_over_a_membership_change_of_a_large_group_as_its_two_values() {
    let dc = SambaDc::shared();
    // One thread: the scoped log subscriber below sees everything the connector logs.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ou = dc.fresh_ou("values");
    let t = Instant::now();
    let users = dc.add_users(&ou, 3000);
    let joiner = dc.add_users(&ou, 1).remove(0);
    let mut ldif = format!(
        "dn: CN=Big,{ou}\nchangetype: add\nobjectClass: group\nsAMAccountName: big-{}\n",
        std::process::id()
    );
    for u in &users {
        ldif.push_str(&format!("member: {u}\n"));
    }
    dc.ldif_modify(&ldif);
    eprintln!("3001 users and a group of 3000 added in {:?}", t.elapsed());
    let c = AdConnector::new(options(dc));
    let (base, summary) = full(&rt, &c);
    let big = base.find(&format!("CN=Big,{ou}")).clone();
    assert_eq!(attr(&big, "member").len(), 3000);
    let leaver = Dn::parse(&users[17]).unwrap();
    let leaver_value = attr(&big, "member")
        .iter()
        .find(|v| Dn::parse(&v.to_string()).unwrap() == leaver)
        .unwrap()
        .clone();

    dc.ldif_modify(&format!(
        "dn: CN=Big,{ou}\nchangetype: modify\nadd: member\nmember: {joiner}\n-\n\
         delete: member\nmember: {}\n",
        users[17]
    ));
    let before = c.statistics();
    let log = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("hybridsync::connectors::ad::import=debug")
        .with_ansi(false)
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .finish();
    let (d, _) =
        tracing::subscriber::with_default(subscriber, || delta(&rt, &c, &summary.watermark));
    let after = c.statistics();

    // What Samba sent for the group: its GUID and instance type, and the two values as
    // `member;range=1-1` (added) and `member;range=0-0` (removed), nothing else.
    let text = log.text();
    let line = text
        .lines()
        .find(|l| l.contains("DirSync entry") && l.contains(&format!("CN=Big,{ou}")))
        .unwrap_or_else(|| panic!("no DirSync entry for the group logged:\n{text}"));
    eprintln!("{line}");
    for part in [
        "(\"objectGUID\", 1)",
        "(\"instanceType\", 1)",
        "(\"member;range=1-1\", 1)",
        "(\"member;range=0-0\", 1)",
    ] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert_eq!(
        line.matches("\", ").count(),
        4,
        "exactly four attributes: {line}"
    );

    // The engine gets exactly the two values, typed as a full read types them, and the group
    // is not read again.
    assert_eq!(
        value_items(&d, &big.anchor),
        vec![&ImportItem::ValueChanges {
            anchor: big.anchor.clone(),
            dn: Some(big.dn.clone()),
            changes: vec![ValueDelta {
                attribute: AttributeName::new("member").unwrap(),
                added: vec![Value::Ref(joiner.clone())],
                removed: vec![leaver_value],
            }],
        }]
    );
    assert!(d.under(&ou).is_empty(), "{:?}", d.dns());
    assert!(d.objects().all(|o| o.anchor != big.anchor));
    assert_eq!(after.value_change_items - before.value_change_items, 1);
    // Whatever else other tests changed meanwhile was re-read; the group was not.
    assert_eq!(
        after.objects_reread - before.objects_reread,
        d.objects().count() as u64
    );

    // The same cookie again (a crash before the engine stored the new one): the same item.
    let (again, w) = delta(&rt, &c, &summary.watermark);
    assert_eq!(
        value_items(&again, &big.anchor),
        value_items(&d, &big.anchor)
    );

    // A change of an ordinary attribute with a membership change: read again whole.
    dc.ldif_modify(&format!(
        "dn: CN=Big,{ou}\nchangetype: modify\nreplace: description\ndescription: everyone\n-\n\
         delete: member\nmember: {joiner}\n"
    ));
    let (d, _) = delta(&rt, &c, &w);
    assert!(value_items(&d, &big.anchor).is_empty(), "{:?}", d.0);
    let whole = d.find(&format!("CN=Big,{ou}"));
    assert_eq!(strs(whole, "description"), ["everyone"]);
    assert_eq!(attr(whole, "member").len(), 2999);
}

/// The connector alone: DirSync delta import of a one-member change in a group of N members
/// (`HYBRIDSYNC_BENCH_MEMBERS`, default 500 so the suite runs it against the DC; the figures in
/// the notes come from `HYBRIDSYNC_BENCH_MEMBERS=20000 cargo test --test ad_connector --
/// --nocapture measure`; `HYBRIDSYNC_BENCH_RANGE`: ranged reads of
/// that many values), reading the group again whole versus handing over the two values. Prints
/// the figures; asserts only what must hold whatever the speed.
#[test]
fn measure_dirsync_delta_of_a_one_member_change() {
    let n: usize = std::env::var("HYBRIDSYNC_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("measure");
    let users = dc.add_users(&ou, n);
    let joiner = dc.add_users(&ou, 1).remove(0);
    let group = format!("CN=Big,{ou}");
    let mut ldif = format!("dn: {group}\nchangetype: add\nobjectClass: group\n");
    for u in &users {
        ldif.push_str(&format!("member: {u}\n"));
    }
    dc.ldif_modify(&ldif);
    // `HYBRIDSYNC_BENCH_RANGE=1500`: read ranges as a Windows DC hands them out.
    let range = std::env::var("HYBRIDSYNC_BENCH_RANGE")
        .ok()
        .and_then(|v| v.parse().ok());
    let connector = |value_changes: bool| {
        let mut o = options(dc);
        o.value_changes = value_changes;
        o.value_range = range;
        AdConnector::new(o)
    };
    let (whole, values) = (connector(false), connector(true));
    // The full import unranged (only the deltas are compared).
    let (_, summary) = full(&rt, &AdConnector::new(options(dc)));
    let mut w = summary.watermark;
    // Warm up both (schema read).
    let (_, next) = delta(&rt, &whole, &w);
    let (_, next) = delta(&rt, &values, &next);
    w = next;
    let mut inside = false;
    for round in 0..5 {
        for c in [&whole, &values] {
            let (add, remove) = if inside {
                (users[1].as_str(), joiner.as_str())
            } else {
                (joiner.as_str(), users[1].as_str())
            };
            inside = !inside;
            dc.ldif_modify(&format!(
                "dn: {group}\nchangetype: modify\nadd: member\nmember: {add}\n-\n\
                 delete: member\nmember: {remove}\n"
            ));
            let t = Instant::now();
            let (d, next) = delta(&rt, c, &w);
            let took = t.elapsed();
            w = next;
            let sent: usize =
                d.0.iter()
                    .map(|i| match i {
                        ImportItem::Object(o) => o.attributes.values().map(Vec::len).sum(),
                        ImportItem::ValueChanges { changes, .. } => changes
                            .iter()
                            .map(|c| c.added.len() + c.removed.len())
                            .sum(),
                        _ => 0,
                    })
                    .sum();
            assert!(!d.0.is_empty());
            eprintln!(
                "N={n} range {range:?} round {round} {}: delta import {took:?}, {} items, \
                 {sent} values handed over",
                if c.options().value_changes {
                    "as values"
                } else {
                    "whole    "
                },
                d.0.len()
            );
        }
    }
}

#[test]
fn export_adds_modifies_renames_and_deletes_with_per_object_results() {
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("export");
    let c = AdConnector::new(options(dc));
    let name = ConnectorName::new("lab.example");
    let s = |v: &str| Value::Str(v.into());
    let a = |n: &str| AttributeName::new(n).unwrap();
    let dn = |d: String| Dn::parse(&d).unwrap();
    let export = |op, id, anchor: Option<Anchor>, d: String, class: &str, changes| PendingExport {
        connector: name.clone(),
        cs: CsId(id),
        anchor,
        dn: dn(d),
        object_class: String::from(class),
        operation: op,
        changes,
    };
    let password = "Wr1teback-Pass!";
    let batch = vec![
        export(
            Operation::Add,
            1,
            None,
            format!("CN=Written Back,{ou}"),
            "user",
            vec![
                AttributeChange::replace(a("sAMAccountName"), vec![], vec![s("wback")]),
                AttributeChange::replace(a("givenName"), vec![], vec![s("Wrïtten")]),
                AttributeChange::replace(a("unicodePwd"), vec![], vec![s(password)]),
                AttributeChange::replace(a("userAccountControl"), vec![], vec![Value::Num(512)]),
            ],
        ),
        export(
            Operation::Add,
            2,
            None,
            format!("CN=Group W,{ou}"),
            "group",
            vec![AttributeChange::replace(
                a("sAMAccountName"),
                vec![],
                vec![s("groupw")],
            )],
        ),
        // Fails (no such parent), and the batch goes on.
        export(
            Operation::Add,
            3,
            None,
            format!("CN=Orphan,OU=Nowhere,{ou}"),
            "user",
            vec![],
        ),
    ];
    let results = rt.block_on(c.export(&batch)).unwrap();
    assert_eq!(results.len(), 3);
    let anchor_of = |i: usize| match &results[i].outcome {
        ExportOutcome::Exported { anchor } => anchor.clone(),
        other => panic!("export {i}: {other:?}"),
    };
    let user = anchor_of(0);
    let group = anchor_of(1);
    assert_eq!(
        user,
        Anchor::Bytes(ldapsearch_guid(dc, &format!("CN=Written Back,{ou}")))
    );
    match &results[2].outcome {
        ExportOutcome::Failed { error, retryable } => {
            assert!(error.contains("LDAP 32"), "{error}");
            assert!(!retryable);
        }
        other => panic!("{other:?}"),
    }
    // Over plain LDAP (an explicit, warned opt-in) passwords are not sent at all.
    let mut o = options(dc);
    o.settings.tls = TlsMode::Plain;
    o.endpoints[0].port = dc.ldap_port;
    let plain = vec![export(
        Operation::Add,
        4,
        None,
        format!("CN=Plain Pw,{ou}"),
        "user",
        vec![AttributeChange::replace(
            a("unicodePwd"),
            vec![],
            vec![s(password)],
        )],
    )];
    let results = rt.block_on(AdConnector::new(o).export(&plain)).unwrap();
    match &results[0].outcome {
        ExportOutcome::Failed { error, .. } => {
            assert!(
                error.contains("only written over an encrypted connection"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }

    // The password works: bind as the new user.
    let mut o = options(dc);
    o.settings.bind_name = format!("wback@{}", dc.realm);
    o.settings.password = Secret::new(password.into());
    rt.block_on(AdConnector::new(o).root_dse())
        .unwrap_or_else(|e| panic!("bind with the written password: {e}"));

    // Modify (replace and incremental), rename + move, then delete.
    dc.ldif_modify(&format!(
        "dn: OU=Moved,{ou}\nchangetype: add\nobjectClass: organizationalUnit\n"
    ));
    let batch = vec![
        export(
            Operation::Update,
            1,
            Some(user.clone()),
            format!("CN=Written Back,{ou}"),
            "user",
            vec![
                AttributeChange::replace(a("title"), vec![], vec![s("Engineer")]),
                AttributeChange::replace(a("givenName"), vec![s("Wrïtten")], vec![]),
            ],
        ),
        export(
            Operation::Update,
            2,
            Some(group.clone()),
            format!("CN=Group W,{ou}"),
            "group",
            vec![AttributeChange::incremental(
                a("member"),
                vec![],
                vec![Value::Ref(format!("CN=Written Back,{ou}"))],
            )],
        ),
        export(
            Operation::Rename,
            1,
            Some(user.clone()),
            format!("CN=Renamed Back,OU=Moved,{ou}"),
            "user",
            vec![],
        ),
    ];
    let results = rt.block_on(c.export(&batch)).unwrap();
    for r in &results {
        assert!(matches!(r.outcome, ExportOutcome::Exported { .. }), "{r:?}");
    }
    let (items, _) = full(&rt, &c);
    let u = items.find(&format!("CN=Renamed Back,OU=Moved,{ou}"));
    assert_eq!(u.anchor, user);
    assert_eq!(strs(u, "title"), ["Engineer"]);
    assert!(attr(u, "givenName").is_empty());
    let g = items.find(&format!("CN=Group W,{ou}"));
    assert_eq!(
        strs(g, "member"),
        [format!("CN=Renamed Back,OU=Moved,{ou}")]
    );
    // Incremental removal.
    let batch = vec![export(
        Operation::Update,
        2,
        Some(group.clone()),
        format!("CN=Group W,{ou}"),
        "group",
        vec![AttributeChange::incremental(
            a("member"),
            vec![Value::Ref(format!("CN=Renamed Back,OU=Moved,{ou}"))],
            vec![],
        )],
    )];
    let results = rt.block_on(c.export(&batch)).unwrap();
    assert!(matches!(results[0].outcome, ExportOutcome::Exported { .. }));

    let batch = vec![
        export(
            Operation::Delete,
            1,
            Some(user.clone()),
            format!("CN=Renamed Back,OU=Moved,{ou}"),
            "user",
            vec![],
        ),
        export(
            Operation::Delete,
            2,
            Some(group.clone()),
            format!("CN=Group W,{ou}"),
            "group",
            vec![],
        ),
    ];
    let results = rt.block_on(c.export(&batch)).unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, ExportOutcome::Exported { .. })),
        "{results:?}"
    );
    let (items, _) = full(&rt, &c);
    assert_eq!(items.under(&ou).len(), 2, "{:?}", items.dns()); // the OU and OU=Moved
    // Deleting again is not an error: the object is already gone.
    let results = rt.block_on(c.export(&batch[..1])).unwrap();
    assert!(matches!(results[0].outcome, ExportOutcome::Exported { .. }));
}

#[test]
fn discovery_root_dse_schema_ou_tree_and_dns_srv() {
    let dc = SambaDc::shared();
    let rt = rt();
    let c = AdConnector::new(options(dc));
    let root = rt.block_on(c.root_dse()).unwrap();
    assert_eq!(root.default_naming_context, dc.base_dn);
    assert_eq!(root.dns_host_name, dc.dc_host_name);
    assert_eq!(
        root.schema_naming_context,
        format!("CN=Schema,CN=Configuration,{}", dc.base_dn)
    );
    assert!(root.naming_contexts.contains(&dc.base_dn));
    assert!(root.supports("1.2.840.113556.1.4.841"));
    assert!(root.supports("1.2.840.113556.1.4.417"));
    assert!(root.highest_committed_usn > 1000);
    assert_eq!(root.domain_functionality, Some(4));

    // Only naming contexts can be imported (DirSync works from their roots only).
    let mut o = options(dc);
    o.naming_contexts = vec![Dn::parse(CORP).unwrap()];
    let mut sink = Collect::default();
    let err = rt
        .block_on(AdConnector::new(o).full_import(&mut sink))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a naming context"), "{err}");

    let classes = rt.block_on(c.schema()).unwrap();
    let class = |n: &str| classes.iter().find(|c| c.name == n).unwrap();
    let a = |c: &str, n: &str| {
        class(c)
            .attributes
            .iter()
            .find(|a| a.name.eq_ignore_case(n))
            .unwrap_or_else(|| panic!("{c} has no {n}"))
            .clone()
    };
    assert_eq!(a("user", "objectGUID").kind, "bin");
    assert!(!a("user", "objectGUID").multi_valued);
    assert_eq!(a("user", "objectSid").kind, "bin");
    assert_eq!(a("user", "userAccountControl").kind, "num");
    assert_eq!(a("user", "pwdLastSet").kind, "num");
    assert_eq!(a("user", "manager").kind, "ref");
    assert_eq!(a("user", "whenChanged").kind, "dt");
    assert_eq!(a("user", "displayName").kind, "str");
    assert_eq!(a("user", "mail").kind, "str");
    assert!(a("user", "proxyAddresses").multi_valued);
    assert_eq!(a("group", "member").kind, "ref");
    assert!(a("group", "member").multi_valued);
    assert_eq!(a("user", "isCriticalSystemObject").kind, "bool");

    let corp = rt.block_on(c.children(&Dn::parse(CORP).unwrap())).unwrap();
    let names: Vec<String> = corp
        .iter()
        .map(|n| n.dn.rdn().unwrap().value().to_owned())
        .collect();
    assert_eq!(
        names.iter().cloned().collect::<BTreeSet<_>>(),
        [
            "People",
            "Former Staff",
            "Service Accounts",
            "Groups",
            "Workstations",
            "External Contacts"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    let people = corp
        .iter()
        .find(|n| n.dn.rdn().unwrap().value() == "People")
        .unwrap();
    assert_eq!(people.class, "organizationalUnit");
    let below = rt.block_on(c.children(&people.dn)).unwrap();
    assert_eq!(below.len(), 2, "Sales and Engineering");

    // DC discovery through the DC's own DNS server.
    assert!(
        !dc.disabled_services.iter().any(|s| s == "dns"),
        "the DC's DNS service is off (port 53 taken on this host): DNS SRV discovery cannot \
         be tested"
    );
    let server = SocketAddr::new(dc.host.parse().unwrap(), 53);
    let records = rt
        .block_on(dns::srv_lookup(
            server,
            &dns::dc_srv_name(&dc.dns_domain),
            Duration::from_secs(5),
        ))
        .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].target.eq_ignore_ascii_case(&dc.dc_host_name),
        "{records:?}"
    );
    assert_eq!(records[0].port, 389);
    let mut o = options(dc);
    o.endpoints.clear();
    o.domain = dc.dns_domain.clone();
    o.dns_server = Some(server);
    let eps = rt.block_on(AdConnector::new(o).endpoints()).unwrap();
    assert_eq!(
        eps,
        [Endpoint {
            host: dc.dc_host_name.clone(),
            port: 636
        }]
    );
    let err = rt
        .block_on(dns::srv_lookup(
            server,
            &dns::dc_srv_name("nowhere.example"),
            Duration::from_secs(5),
        ))
        .unwrap_err();
    assert!(
        err.to_string().contains("NXDOMAIN") || err.to_string().contains("rcode"),
        "{err}"
    );
}

#[test]
fn starttls_and_bind_name_forms_work() {
    let dc = SambaDc::shared();
    let rt = rt();
    for user in [
        dc.admin_user.clone(),
        dc.admin_down_level(),
        dc.admin_dn.clone(),
    ] {
        let mut o = options(dc);
        o.settings.bind_name = user.clone();
        o.settings.tls = TlsMode::Starttls;
        o.endpoints[0].port = dc.ldap_port;
        rt.block_on(AdConnector::new(o).root_dse())
            .unwrap_or_else(|e| panic!("StartTLS bind as {user}: {e}"));
    }
}

#[test]
fn bad_credentials_tls_failures_and_dead_dcs_are_clear_errors() {
    let dc = SambaDc::shared();
    let rt = rt();

    // Wrong password: LDAP 49 with AD's data code, in a sentence.
    let mut o = options(dc);
    o.settings.password = Secret::new("wrong-password".into());
    let mut sink = Collect::default();
    let err = rt
        .block_on(AdConnector::new(o).full_import(&mut sink))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Access { .. }), "{text}");
    assert!(text.contains("LDAP 49 (invalidCredentials)"), "{text}");
    assert!(text.contains("52e"), "{text}");
    assert!(
        text.contains("the user name or password is wrong"),
        "{text}"
    );
    assert!(!text.contains("wrong-password"), "no secret in errors");

    // A CA that did not issue the DC's certificate.
    let other_ca = other_ca();
    let mut o = options(dc);
    o.settings.ca_file = Some(other_ca.clone());
    let err = rt.block_on(AdConnector::new(o).root_dse()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains(&other_ca.display().to_string()), "{text}");
    // The system roots do not know the lab CA either.
    let mut o = options(dc);
    o.settings.ca_file = None;
    let text = rt
        .block_on(AdConnector::new(o).root_dse())
        .unwrap_err()
        .to_string();
    assert!(text.contains("system trust store"), "{text}");
    // Explicitly unverified: works (with a warning in the log).
    let mut o = options(dc);
    o.settings.ca_file = Some(other_ca);
    o.settings.verify_certificate = false;
    rt.block_on(AdConnector::new(o).root_dse()).unwrap();

    // Connection refused.
    let mut o = options(dc);
    o.endpoints = vec![Endpoint {
        host: "127.0.0.1".into(),
        port: free_port(),
    }];
    let mut sink = Collect::default();
    let err = rt
        .block_on(AdConnector::new(o).full_import(&mut sink))
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("cannot connect"), "{err}");

    // A DC that accepts the connection and never answers: the timeout, not a hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(conns);
    });
    let mut o = options(dc);
    o.endpoints = vec![Endpoint {
        host: "127.0.0.1".into(),
        port,
    }];
    o.settings.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = rt.block_on(AdConnector::new(o).root_dse()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A freshly made CA certificate that signed nothing.
fn other_ca() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ad-connector-ca-{}", std::process::id()));
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

mod engine_end_to_end {
    use super::*;
    use hybridsync::config::model::DeleteGuard;
    use hybridsync::connectors::file::connector::LdifConnector;
    use hybridsync::connectors::file::ldif;
    use hybridsync::engine::cycle::{CycleKind, Requested, fingerprint};
    use hybridsync::engine::rules::{ConnectorKind, RuleSet};
    use hybridsync::engine::run::{
        CycleOptions, CycleReport, Engine, EngineConnector, ExportMode, Role, directory_params,
    };
    use hybridsync::engine::store::{RunStatus, SqliteStore, Store};

    fn cycle(
        rt: &tokio::runtime::Runtime,
        db: &std::path::Path,
        source: Arc<AdConnector>,
        tenant: &std::path::Path,
        requested: Requested,
    ) -> CycleReport {
        cycle_mode(rt, db, source, tenant, requested, ExportMode::Send)
    }

    /// The AD connector without [`Connector::reread`] (as a connector that cannot read single
    /// objects again).
    struct NoReread(Arc<AdConnector>);

    impl Connector for NoReread {
        fn name(&self) -> &ConnectorName {
            self.0.name()
        }

        fn kind(&self) -> ConnectorKind {
            self.0.kind()
        }

        fn capabilities(&self) -> hybridsync::engine::connector::Capabilities {
            self.0.capabilities()
        }

        fn schema(
            &self,
        ) -> hybridsync::engine::connector::BoxFuture<
            '_,
            Result<Vec<hybridsync::engine::connector::SchemaClass>, ConnectorError>,
        > {
            self.0.schema()
        }

        fn full_import<'a>(
            &'a self,
            sink: &'a mut dyn ImportSink,
        ) -> hybridsync::engine::connector::BoxFuture<'a, Result<ImportSummary, ConnectorError>>
        {
            self.0.full_import(sink)
        }

        fn delta_import<'a>(
            &'a self,
            since: &'a Watermark,
            sink: &'a mut dyn ImportSink,
        ) -> hybridsync::engine::connector::BoxFuture<'a, Result<ImportSummary, ConnectorError>>
        {
            self.0.delta_import(since, sink)
        }

        fn export<'a>(
            &'a self,
            batch: &'a [PendingExport],
        ) -> hybridsync::engine::connector::BoxFuture<
            'a,
            Result<Vec<hybridsync::engine::model::ExportResult>, ConnectorError>,
        > {
            self.0.export(batch)
        }
    }

    /// Forgets the connector-space object of `dn` (as if an earlier import had lost it).
    fn forget(db: &std::path::Path, dn: &str) -> CsId {
        let mut store = SqliteStore::open(db, "test").unwrap();
        let mut tx = store.begin().unwrap();
        let ad = ConnectorName::new("lab.example");
        let [cs] = tx.find_cs_by_dn(&ad, &Dn::parse(dn).unwrap()).unwrap()[..] else {
            panic!("{dn} is not in the connector space")
        };
        assert!(tx.delete_cs_object(cs).unwrap());
        tx.commit().unwrap();
        cs
    }

    fn cs_members(db: &std::path::Path, dn: &str) -> usize {
        let mut store = SqliteStore::open(db, "test").unwrap();
        let tx = store.begin().unwrap();
        let ad = ConnectorName::new("lab.example");
        match tx.find_cs_by_dn(&ad, &Dn::parse(dn).unwrap()).unwrap()[..] {
            [cs] => tx
                .cs_attribute(cs, &AttributeName::new("member").unwrap())
                .unwrap()
                .len(),
            _ => 0,
        }
    }

    #[test]
    fn value_changes_for_an_object_the_connector_space_lost_read_it_again_or_ask_for_a_full_import()
    {
        let (dc, users, joiner, group) = dc_with_a_large_group(20);
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        let tenant_path = dir.path().join("tenant.ldif");
        let source = Arc::new(AdConnector::new(options(&dc)));
        let first = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        assert_eq!(first.status, RunStatus::Success, "{:#?}", first.errors);

        // The engine reads the group again through the connector: it is back, whole.
        let old = forget(&db, &group);
        swap_member(&dc, &group, &joiner, &users[3]);
        let before = source.statistics();
        let r = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        assert_eq!(r.status, RunStatus::Success, "{:#?}", r.errors);
        let after = source.statistics();
        assert_eq!(after.value_change_items - before.value_change_items, 1);
        assert_eq!(after.objects_reread - before.objects_reread, 1);
        assert_eq!(report(&r, "lab.example").import.added, 1, "{r:#?}");
        assert_eq!(cs_members(&db, &group), 20);
        assert_ne!(forget(&db, &group), old, "a new connector-space object");

        // A connector that cannot read single objects: a per-object error that asks for a full
        // import, and the next cycle is one.
        swap_member(&dc, &group, &users[3], &users[4]);
        let blind: Arc<dyn Connector> = Arc::new(NoReread(source.clone()));
        let r = cycle_mode(
            &rt,
            &db,
            blind.clone(),
            &tenant_path,
            Requested::Auto,
            ExportMode::Send,
        );
        assert_eq!(r.kind, CycleKind::Delta, "{:?}", r.kind);
        assert_eq!(r.error_count, 1, "{:#?}", r.errors);
        let e = &r.errors[0];
        assert!(e.message.contains("full import"), "{}", e.message);
        assert_eq!(
            e.dn.as_ref().map(ToString::to_string),
            Some(Dn::parse(&group).unwrap().to_string())
        );
        assert_eq!(cs_members(&db, &group), 0, "not guessed from two values");
        let r = cycle_mode(
            &rt,
            &db,
            blind,
            &tenant_path,
            Requested::Auto,
            ExportMode::Send,
        );
        assert!(report(&r, "lab.example").import.full, "{r:#?}");
        assert_eq!(r.error_count, 0, "{:#?}", r.errors);
        assert_eq!(cs_members(&db, &group), 20);
    }

    fn cycle_mode(
        rt: &tokio::runtime::Runtime,
        db: &std::path::Path,
        source: Arc<dyn Connector>,
        tenant: &std::path::Path,
        requested: Requested,
        export: ExportMode,
    ) -> CycleReport {
        let connectors = vec![
            EngineConnector {
                connector: source,
                role: Role::Source,
                scope: Default::default(),
                pilot_group: None,
                delete_guard: DeleteGuard::default(),
                params: directory_params("lab.example", "lab.example", "lab.example"),
            },
            EngineConnector {
                connector: Arc::new(LdifConnector::target("entra", ConnectorKind::Entra, tenant)),
                role: Role::Target,
                scope: Default::default(),
                pilot_group: None,
                delete_guard: DeleteGuard::default(),
                params: Default::default(),
            },
        ];
        let rules = RuleSet::builtin().unwrap();
        let mut store = SqliteStore::open(db, "test").unwrap();
        let mut engine = Engine::new(
            &mut store,
            &rules,
            &connectors,
            fingerprint(["rules-v1"]),
            fingerprint(["scope-v1"]),
        )
        .unwrap();
        let options = CycleOptions {
            requested,
            export,
            ..CycleOptions::default()
        };
        engine.run_cycle(rt.handle(), &options).unwrap()
    }

    fn tenant(path: &std::path::Path) -> Vec<ldif::Entry> {
        ldif::read_entries(&std::fs::read_to_string(path).unwrap_or_default()).unwrap()
    }

    fn by_upn<'a>(t: &'a [ldif::Entry], upn: &str) -> Option<&'a ldif::Entry> {
        t.iter().find(|e| {
            e.text("userPrincipalName")
                .is_some_and(|v| v.eq_ignore_ascii_case(upn))
        })
    }

    #[test]
    fn the_dc_syncs_into_an_ldif_tenant_and_a_delta_exports_exactly_the_change() {
        // A private DC: the delta must see only this test's change.
        let dc = SambaDc::start();
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        let tenant_path = dir.path().join("tenant.ldif");
        let source = Arc::new(AdConnector::new(options(&dc)));

        let first = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        assert!(matches!(first.kind, CycleKind::Full(_)), "{:?}", first.kind);
        assert_eq!(first.status, RunStatus::Success, "{:#?}", first.errors);
        let t = tenant(&tenant_path);
        let zoe = by_upn(&t, "zoe.angstrom@lab.example").expect("Zoë arrived");
        assert_eq!(zoe.text("displayName"), Some("Zoë Ångström"));
        assert_eq!(zoe.text("givenName"), Some("Zoë"));
        assert_eq!(zoe.text("surname"), Some("Ångström"));
        let guid = ldapsearch_guid(&dc, "CN=Zoë Ångström,OU=People,OU=Corp,DC=lab,DC=example");
        let immutable = base64::engine::general_purpose::STANDARD.encode(&guid);
        assert_eq!(
            zoe.text("onPremisesImmutableId"),
            Some(immutable.as_str()),
            "the source anchor is the objectGUID"
        );
        let taro = by_upn(&t, "taro.tanaka@lab.example").expect("Taro arrived");
        assert_eq!(taro.text("displayName"), Some("田中 太郎"));
        let users = t
            .iter()
            .filter(|e| {
                e.text("userPrincipalName")
                    .is_some_and(|u| u.starts_with("load") || u.contains('@'))
            })
            .count();
        assert!(users >= 45, "{users} users in the tenant");

        // One change in AD: the delta cycle exports exactly that.
        dc.ldif_modify(
            "dn: CN=Zoë Ångström,OU=People,OU=Corp,DC=lab,DC=example\nchangetype: modify\n\
             replace: title\ntitle: Chief Cartographer\n",
        );
        let second = cycle(&rt, &db, source, &tenant_path, Requested::Auto);
        assert_eq!(second.kind, CycleKind::Delta, "{:?}", second.kind);
        assert_eq!(second.status, RunStatus::Success, "{:#?}", second.errors);
        let e = second
            .connectors
            .iter()
            .find(|c| c.name == "entra")
            .unwrap();
        assert_eq!(
            (e.export.adds, e.export.updates, e.export.deletes),
            (0, 1, 0),
            "{second:#?}"
        );
        let t = tenant(&tenant_path);
        let zoe = by_upn(&t, "zoe.angstrom@lab.example").unwrap();
        assert_eq!(zoe.text("jobTitle"), Some("Chief Cartographer"));

        // A third cycle without changes exports nothing.
        let source = Arc::new(AdConnector::new(options(&dc)));
        let third = cycle(&rt, &db, source, &tenant_path, Requested::Auto);
        let e = third.connectors.iter().find(|c| c.name == "entra").unwrap();
        assert_eq!(
            (e.export.adds, e.export.updates, e.export.deletes),
            (0, 0, 0)
        );
    }

    fn report<'a>(r: &'a CycleReport, name: &str) -> &'a hybridsync::engine::run::ConnectorReport {
        r.connectors
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no report for {name}: {r:#?}"))
    }

    fn members(t: &[ldif::Entry], display_name: &str) -> BTreeSet<String> {
        let group = t
            .iter()
            .find(|e| e.text("displayName") == Some(display_name))
            .unwrap_or_else(|| panic!("{display_name} is not in the tenant"));
        group
            .get("members")
            .map(|a| {
                a.values
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).to_lowercase())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The tenant DN of the user `CN=load<k>,...` (its UPN's local part is `load<k>`).
    fn tenant_dn(t: &[ldif::Entry], ad_dn: &str) -> String {
        let cn = ad_dn
            .split(',')
            .next()
            .and_then(|rdn| rdn.strip_prefix("CN="))
            .unwrap();
        by_upn(t, &format!("{cn}@lab.example"))
            .unwrap_or_else(|| panic!("{cn} is not in the tenant"))
            .dn
            .to_lowercase()
    }

    /// A private DC with a group of `n` users and one more user outside it. Returns the DC,
    /// the users, the extra user and the group's DN.
    fn dc_with_a_large_group(n: usize) -> (SambaDc, Vec<String>, String, String) {
        let dc = SambaDc::start();
        let ou = dc.fresh_ou("biggroup");
        let t = Instant::now();
        let users = dc.add_users(&ou, n);
        let joiner = dc.add_users(&ou, 1).remove(0);
        let group = format!("CN=Big,{ou}");
        let mut ldif = format!(
            "dn: {group}\nchangetype: add\nobjectClass: group\nsAMAccountName: big\n\
             displayName: Big Group\n"
        );
        for u in &users {
            ldif.push_str(&format!("member: {u}\n"));
        }
        dc.ldif_modify(&ldif);
        eprintln!(
            "{} users and a group of {n} added in {:?}",
            n + 1,
            t.elapsed()
        );
        (dc, users, joiner, group)
    }

    fn swap_member(dc: &SambaDc, group: &str, add: &str, remove: &str) {
        dc.ldif_modify(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {add}\n-\n\
             delete: member\nmember: {remove}\n"
        ));
    }

    #[test]
    fn a_one_member_change_in_a_large_group_flows_as_one_value_end_to_end() {
        let (dc, users, joiner, group) = dc_with_a_large_group(3000);
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        let tenant_path = dir.path().join("tenant.ldif");
        let source = Arc::new(AdConnector::new(options(&dc)));
        let ad = ConnectorName::new("lab.example");

        let first = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        assert_eq!(first.status, RunStatus::Success, "{:#?}", first.errors);
        let t = tenant(&tenant_path);
        assert_eq!(members(&t, "Big Group").len(), 3000);
        let joiner_dn = tenant_dn(&t, &joiner);
        let leaver_dn = tenant_dn(&t, &users[42]);
        let watermark_before = {
            let mut store = SqliteStore::open(&db, "test").unwrap();
            let tx = store.begin().unwrap();
            tx.connector_state(&ad).unwrap().unwrap().watermark.unwrap()
        };

        // One member joins, one leaves: the delta hands over the two values, the sync works on
        // the group alone, and the pending export changes exactly those two values.
        swap_member(&dc, &group, &joiner, &users[42]);
        let before = source.statistics();
        let second = cycle_mode(
            &rt,
            &db,
            source.clone(),
            &tenant_path,
            Requested::Auto,
            ExportMode::Staging,
        );
        assert_eq!(second.kind, CycleKind::Delta, "{:?}", second.kind);
        assert_eq!(second.status, RunStatus::Success, "{:#?}", second.errors);
        let after = source.statistics();
        assert_eq!(after.value_change_items - before.value_change_items, 1);
        assert_eq!(
            after.objects_reread - before.objects_reread,
            0,
            "nothing read again whole, least of all the group"
        );
        let r = report(&second, "lab.example");
        assert_eq!((r.import.updated, r.import.added), (1, 0), "{second:#?}");
        assert_eq!(r.sync.processed, 1, "{second:#?}");
        eprintln!("one-member delta cycle: {:?}", second.stages);
        {
            let mut store = SqliteStore::open(&db, "test").unwrap();
            let tx = store.begin().unwrap();
            let pending = tx
                .pending_exports(Some(&ConnectorName::new("entra")), None, 10)
                .unwrap();
            assert_eq!(pending.len(), 1, "{pending:#?}");
            let changes = &pending[0].export.changes;
            assert_eq!(changes.len(), 1, "{changes:#?}");
            let c = &changes[0];
            assert_eq!(c.kind, hybridsync::engine::model::ChangeKind::Incremental);
            let text = |v: &[Value]| -> Vec<String> {
                v.iter().map(|x| x.to_string().to_lowercase()).collect()
            };
            assert_eq!(
                (text(&c.new), text(&c.old)),
                (vec![joiner_dn.clone()], vec![leaver_dn.clone()])
            );
        }
        let third = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        let e = report(&third, "entra");
        assert_eq!(
            (e.export.adds, e.export.updates, e.export.deletes),
            (0, 1, 0),
            "{third:#?}"
        );
        let t = tenant(&tenant_path);
        let now = members(&t, "Big Group");
        assert_eq!(now.len(), 3000);
        assert!(now.contains(&joiner_dn) && !now.contains(&leaver_dn));

        // A crash before the cookie was stored: the same DirSync batch comes again. Nothing
        // changes and nothing is exported.
        {
            let mut store = SqliteStore::open(&db, "test").unwrap();
            let mut tx = store.begin().unwrap();
            tx.set_watermark(&ad, Some(&watermark_before)).unwrap();
            tx.commit().unwrap();
        }
        let before = source.statistics();
        let replay = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
        assert_eq!(replay.status, RunStatus::Success, "{:#?}", replay.errors);
        assert_eq!(
            source.statistics().value_change_items - before.value_change_items,
            1
        );
        let r = report(&replay, "lab.example");
        assert_eq!((r.import.updated, r.import.added), (0, 0), "{replay:#?}");
        let e = report(&replay, "entra");
        assert_eq!(
            (e.export.adds, e.export.updates, e.export.deletes),
            (0, 0, 0),
            "{replay:#?}"
        );
        assert_eq!(members(&tenant(&tenant_path), "Big Group"), now);
    }

    /// Delta import and delta sync of a one-member change in a group of N members
    /// (`HYBRIDSYNC_BENCH_MEMBERS`, default 500 so the suite runs it; 20,000 for the figures in the
    /// notes), reading the changed group again whole
    /// (as before DirSync value changes reached the engine) and as value changes. Prints the
    /// figures; asserts only what must hold whatever the speed.
    #[test]
    fn measure_a_one_member_change_whole_versus_as_values() {
        let n: usize = std::env::var("HYBRIDSYNC_BENCH_MEMBERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500);
        let (dc, users, joiner, group) = dc_with_a_large_group(n);
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        let tenant_path = dir.path().join("tenant.ldif");
        let connector = |value_changes: bool| {
            let mut o = options(&dc);
            o.value_changes = value_changes;
            Arc::new(AdConnector::new(o))
        };
        let t = Instant::now();
        let first = cycle(&rt, &db, connector(true), &tenant_path, Requested::Auto);
        assert_eq!(first.status, RunStatus::Success, "{:#?}", first.errors);
        eprintln!("full cycle with {n} members: {:?}", t.elapsed());
        // One connector per way, each warmed up by a delta (schema read, TLS session).
        let whole = connector(false);
        let values = connector(true);
        cycle(&rt, &db, whole.clone(), &tenant_path, Requested::Auto);
        cycle(&rt, &db, values.clone(), &tenant_path, Requested::Auto);
        // The joiner comes in for one member and goes again for it, alternately.
        let mut inside = false;
        for round in 0..3 {
            for source in [&whole, &values] {
                let (add, remove) = if inside {
                    (users[1].as_str(), joiner.as_str())
                } else {
                    (joiner.as_str(), users[1].as_str())
                };
                inside = !inside;
                swap_member(&dc, &group, add, remove);
                let before = source.statistics();
                let r = cycle(&rt, &db, source.clone(), &tenant_path, Requested::Auto);
                assert_eq!(r.status, RunStatus::Success, "{:#?}", r.errors);
                let e = report(&r, "entra");
                assert_eq!(e.export.updates, 1, "{r:#?}");
                let s = source.statistics();
                eprintln!(
                    "N={n} round {round} {}: import {:?}, sync {:?}, export {:?} \
                     (objects re-read {}, value-change items {})",
                    if source.options().value_changes {
                        "as values"
                    } else {
                        "whole    "
                    },
                    r.stages.import,
                    r.stages.sync,
                    r.stages.export,
                    s.objects_reread - before.objects_reread,
                    s.value_change_items - before.value_change_items
                );
            }
        }
    }
}

/// `hybridsync sync run` with a `[[directories]]` table that points at the DC over LDAPS, the
/// password in a private `file:` secret: the forest arrives in the LDIF tenant.
#[test]
fn cli_sync_run_reads_the_dc_over_ldap() {
    use std::os::unix::fs::PermissionsExt;
    let dc = SambaDc::shared();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let secret = work.path().join("ad-bind.secret");
    std::fs::write(&secret, &dc.admin_password).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
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
secret_ref = "file:{secret}"

[sign_in]
method = "do-not-configure"

[tenant]
tenant_id = "lab.onmicrosoft.com"
ldif_file = "tenant.ldif"

[tenant.application]
client_id = "6f1c2b7a-1d3e-4c5b-9a8f-0e2d4c6b8a10"
certificate_ref = "store:entra-app-certificate"
"#,
        state = work.path().join("state").display(),
        domain = dc.dns_domain,
        host = dc.host,
        port = dc.ldaps_port,
        ca = dc.ca_file.display(),
        user = dc.admin_down_level(),
        secret = secret.display(),
    );
    let path = work.path().join("hybridsync.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hybridsync"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .arg("--config")
        .arg(&path)
        .args(["sync", "run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("full cycle"), "{stdout}");
    let tenant = std::fs::read_to_string(work.path().join("tenant.ldif")).unwrap();
    assert!(tenant.contains("zoe.angstrom@lab.example"), "{tenant}");
    assert!(!stdout.contains(&dc.admin_password) && !stderr.contains(&dc.admin_password));
}

/// A TCP relay to the DC that cuts the connection (both ways, without forwarding it) when it
/// sees the first LDAP ModifyRequest: a network drop in the middle of an export.
fn dropping_relay(
    dc: &SambaDc,
) -> (
    u16,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::{Read as _, Write as _};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let upstream = (dc.host.clone(), dc.ldap_port);
    let counter = connections.clone();
    let seen = dropped.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            let Ok(mut server) = std::net::TcpStream::connect((upstream.0.as_str(), upstream.1))
            else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
            });
            let dropped = dropped.clone();
            std::thread::spawn(move || {
                // Read whole LDAPMessages (SEQUENCE, BER length), look at the operation's tag.
                loop {
                    let mut head = [0u8; 2];
                    if client.read_exact(&mut head).is_err() {
                        break;
                    }
                    let mut lenbytes = Vec::new();
                    let len = if head[1] & 0x80 == 0 {
                        usize::from(head[1])
                    } else {
                        lenbytes = vec![0u8; usize::from(head[1] & 0x7f)];
                        if client.read_exact(&mut lenbytes).is_err() {
                            break;
                        }
                        lenbytes
                            .iter()
                            .fold(0usize, |a, b| (a << 8) | usize::from(*b))
                    };
                    let mut body = vec![0u8; len];
                    if client.read_exact(&mut body).is_err() {
                        break;
                    }
                    // body: INTEGER messageID (02 len ...), then the operation's tag.
                    let op = body
                        .get(2 + usize::from(body.get(1).copied().unwrap_or(0)))
                        .copied();
                    if op == Some(0x66) && !dropped.swap(true, Ordering::SeqCst) {
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        let _ = server.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                    let mut msg = head.to_vec();
                    msg.extend(lenbytes);
                    msg.extend(body);
                    if server.write_all(&msg).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, connections, seen)
}

#[test]
fn a_connection_dropped_mid_export_is_reopened_and_the_object_retried_once() {
    let dc = SambaDc::shared();
    let rt = rt();
    let ou = dc.fresh_ou("drop");
    dc.ldif_modify(&format!(
        "dn: CN=Dropped Conn,{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: dropconn\n"
    ));
    let anchor = Anchor::Bytes(ldapsearch_guid(dc, &format!("CN=Dropped Conn,{ou}")));
    let (port, connections, dropped) = dropping_relay(dc);
    // Plain LDAP through the relay (an explicit opt-in; the relay cannot read TLS).
    let mut o = options(dc);
    o.settings.tls = TlsMode::Plain;
    o.endpoints[0].host = "127.0.0.1".into();
    o.endpoints[0].port = port;
    let c = AdConnector::new(o);
    let update = PendingExport {
        connector: ConnectorName::new("lab.example"),
        cs: CsId(1),
        anchor: Some(anchor),
        dn: Dn::parse(&format!("CN=Dropped Conn,{ou}")).unwrap(),
        object_class: "user".into(),
        operation: Operation::Update,
        changes: vec![AttributeChange::replace(
            AttributeName::new("description").unwrap(),
            vec![],
            vec![Value::Str("written after a reconnect".into())],
        )],
    };
    let results = rt.block_on(c.export(&[update])).unwrap();
    assert!(
        matches!(results[0].outcome, ExportOutcome::Exported { .. }),
        "{:?}",
        results[0].outcome
    );
    assert!(
        dropped.load(std::sync::atomic::Ordering::SeqCst),
        "the relay cut the connection at the modify"
    );
    assert!(
        connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the connector opened a second connection after the drop"
    );
    let found = dc.ldap_search(
        &format!("CN=Dropped Conn,{ou}"),
        "(objectClass=*)",
        &["description"],
    );
    assert!(found.contains("written after a reconnect"), "{found}");
}
