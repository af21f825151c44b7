//! `templates/sample-directory.ldif` is the sample Active Directory that `hybridsync demo` syncs to
//! the tenant emulator and that engine tests use. Read with the project's own LDIF reader, it
//! must be a directory that could exist: every DN parses (`Dn::parse`) and is unique, parents come
//! before children, every `member`, `manager` and `managedBy` value is the DN of an entry earlier in
//! the file (spelled exactly as that entry's DN), objectGUIDs are 16 unique bytes, objectSids are
//! valid, unique and in the domain, and the reporting tree has no cycles. It must also hold what
//! the demo and the tests rely on: 200+ users with complete profiles, each special case (disabled
//! accounts, system and Discovery mailboxes, a `#` in a UPN, an unroutable UPN suffix,
//! mS-DS-ConsistencyGuid, adminCount, the MSOL_ and an ordinary service account, a replication
//! conflict object, no UPN, no mail, names that need escaping or base64), every kind of group with
//! nesting two levels deep, external contacts and computers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::{HashMap, HashSet};

use hybridsync::connectors::file::ldif::{Entry, read_entries};
use hybridsync::domain::{AttributeName, Dn, ObjectGuid, Rdn, Sid};

const LDIF: &str = include_str!("../templates/sample-directory.ldif");
const ROOT: &str = "DC=contoso,DC=example";
const CONTOSO: &str = "OU=Contoso,DC=contoso,DC=example";
const GLOBAL_SECURITY: &str = "-2147483646";
const UNIVERSAL_SECURITY: &str = "-2147483640";
const UNIVERSAL_DISTRIBUTION: &str = "8";
/// Entra Connect's `msExchRecipientTypeDetails` mask for mailboxes it never syncs.
const FILTERED_RECIPIENT_TYPES: u64 = 0x21C0_7000;
const DISCOVERY_MAILBOX: u64 = 536_870_912;

/// The sample directory: its entries in file order, with their parsed DNs.
struct Directory {
    entries: Vec<Entry>,
    dns: Vec<Dn>,
    index: HashMap<Dn, usize>,
}

impl Directory {
    fn load() -> Self {
        let entries = read_entries(LDIF).unwrap_or_else(|e| panic!("sample-directory.ldif: {e}"));
        let dns: Vec<Dn> = entries
            .iter()
            .map(|e| Dn::parse(&e.dn).unwrap_or_else(|err| panic!("line {}: {err}", e.line)))
            .collect();
        let mut index = HashMap::new();
        for (i, dn) in dns.iter().enumerate() {
            index.entry(dn.clone()).or_insert(i);
        }
        Self {
            entries,
            dns,
            index,
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&Entry, &Dn)> {
        self.entries.iter().zip(&self.dns)
    }

    /// The entry with this DN, or a panic naming it.
    fn get(&self, dn: &str) -> &Entry {
        let i = self.index.get(&parse(dn));
        &self.entries[*i.unwrap_or_else(|| panic!("{dn} is not in the file"))]
    }

    /// The only entry `pred` accepts; `what` names it in the failure message.
    fn one(&self, what: &str, pred: impl Fn(&Entry, &Dn) -> bool) -> (&Entry, &Dn) {
        let found: Vec<_> = self.iter().filter(|(e, dn)| pred(e, dn)).collect();
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {what}, found {:?}",
            found.iter().map(|(e, _)| &e.dn).collect::<Vec<_>>()
        );
        found[0]
    }

    fn users(&self) -> impl Iterator<Item = (&Entry, &Dn)> {
        self.iter().filter(|(e, _)| is_user(e))
    }

    fn groups(&self) -> impl Iterator<Item = (&Entry, &Dn)> {
        self.iter().filter(|(e, _)| has_class(e, "group"))
    }

    /// Enabled people in `OU=Users,OU=<site>,OU=Contoso`, the conflict copy excepted.
    fn employees(&self) -> impl Iterator<Item = (&Entry, &Dn)> {
        self.users()
            .filter(|(e, dn)| in_site_users_ou(dn) && !is_disabled(e) && !is_conflict(dn))
    }

    /// The DNs in the `member` attribute of the group `cn` (in `OU=Groups` or `CN=Users`).
    fn members_of(&self, cn: &str) -> HashSet<Dn> {
        let (group, _) = self.one(&format!("group {cn}"), |e, _| {
            has_class(e, "group") && e.text("cn") == Some(cn)
        });
        texts(group, "member")
            .into_iter()
            .map(|m| Dn::parse(m).unwrap())
            .collect()
    }
}

fn parse(text: &str) -> Dn {
    Dn::parse(text).unwrap()
}

/// Every value of `name` as text (panics on a value that is not UTF-8).
fn texts<'a>(e: &'a Entry, name: &str) -> Vec<&'a str> {
    e.get(name).map_or_else(Vec::new, |a| {
        a.values
            .iter()
            .map(|v| {
                std::str::from_utf8(v).unwrap_or_else(|_| panic!("{}: {name} is not UTF-8", e.dn))
            })
            .collect()
    })
}

fn has_class(e: &Entry, class: &str) -> bool {
    texts(e, "objectClass")
        .iter()
        .any(|c| c.eq_ignore_ascii_case(class))
}

fn is_user(e: &Entry) -> bool {
    has_class(e, "user") && !has_class(e, "computer")
}

fn uac(e: &Entry) -> u32 {
    e.text("userAccountControl")
        .unwrap_or_else(|| panic!("{}: no userAccountControl", e.dn))
        .parse()
        .unwrap()
}

fn is_disabled(e: &Entry) -> bool {
    uac(e) & 2 != 0
}

fn is_conflict(dn: &Dn) -> bool {
    dn.rdn().unwrap().value().contains("\nCNF:")
}

/// Whether `dn` is directly in `OU=Users,OU=<site>,OU=Contoso,...`.
fn in_site_users_ou(dn: &Dn) -> bool {
    let Some(users) = dn.parent() else {
        return false;
    };
    users
        .rdn()
        .is_some_and(|r| r.value() == "Users" && r.attribute().eq_ignore_case("OU"))
        && users.parent().and_then(|site| site.parent()) == Some(contoso())
}

fn contoso() -> Dn {
    parse(CONTOSO)
}

fn sid_of(e: &Entry) -> Option<Sid> {
    let attribute = e.get("objectSid")?;
    let bytes = attribute.values.first()?;
    Some(Sid::from_bytes(bytes).unwrap_or_else(|err| panic!("{}: objectSid: {err}", e.dn)))
}

fn guid_of(e: &Entry) -> ObjectGuid {
    let attribute = e
        .get("objectGUID")
        .unwrap_or_else(|| panic!("{}: no objectGUID", e.dn));
    assert_eq!(attribute.values.len(), 1, "{}: objectGUID", e.dn);
    ObjectGuid::from_bytes(&attribute.values[0])
        .unwrap_or_else(|err| panic!("{}: objectGUID: {err}", e.dn))
}

#[test]
fn reads_with_the_project_reader_and_stays_small() {
    assert!(LDIF.len() < 400_000, "{} bytes", LDIF.len());
    let d = Directory::load();
    assert!(d.entries.len() > 200);
    assert_eq!(d.dns[0], parse(ROOT), "the domain object comes first");
    assert!(has_class(&d.entries[0], "domainDNS"));
    // Lines are folded at 76 bytes, like ldapsearch output.
    for (i, line) in LDIF.lines().enumerate() {
        assert!(
            line.starts_with('#') || line.len() <= 76,
            "line {} is {} bytes",
            i + 1,
            line.len()
        );
    }
}

#[test]
fn every_dn_parses_and_is_unique() {
    let d = Directory::load();
    let mut seen: HashMap<&Dn, usize> = HashMap::new();
    for (e, dn) in d.iter() {
        if let Some(first) = seen.insert(dn, e.line) {
            panic!("{} (line {}) repeats the DN of line {first}", e.dn, e.line);
        }
    }
    assert_eq!(d.index.len(), d.entries.len());
}

#[test]
fn parents_come_before_children() {
    let d = Directory::load();
    let root = parse(ROOT);
    for (i, (e, dn)) in d.iter().enumerate() {
        assert!(dn.is_within(&root), "{} is outside {ROOT}", e.dn);
        if *dn == root {
            continue;
        }
        let parent = dn.parent().unwrap();
        match d.index.get(&parent) {
            Some(&p) => assert!(p < i, "{} comes before its parent {parent}", e.dn),
            None => panic!("{}: parent {parent} is not in the file", e.dn),
        }
    }
}

#[test]
fn references_name_earlier_entries_exactly() {
    let d = Directory::load();
    let mut checked = 0;
    for (i, (e, _)) in d.iter().enumerate() {
        for attribute in ["member", "manager", "managedBy"] {
            for value in texts(e, attribute) {
                let target = Dn::parse(value)
                    .unwrap_or_else(|err| panic!("{}: {attribute} {value:?}: {err}", e.dn));
                let Some(&j) = d.index.get(&target) else {
                    panic!("{}: {attribute} {value:?} is not in the file", e.dn);
                };
                assert!(j < i, "{}: {attribute} {value:?} comes later", e.dn);
                assert_eq!(
                    value, d.entries[j].dn,
                    "{}: {attribute} is spelled differently from the entry's DN",
                    e.dn
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "{checked} references");
}

#[test]
fn object_guids_are_16_bytes_and_unique() {
    let d = Directory::load();
    let mut seen = HashMap::new();
    for (e, _) in d.iter() {
        let guid = guid_of(e);
        if let Some(other) = seen.insert(guid, &e.dn) {
            panic!("{} has the objectGUID {guid} of {other}", e.dn);
        }
    }
    for (e, _) in d.iter() {
        if let Some(a) = e.get("mS-DS-ConsistencyGuid") {
            let anchor = ObjectGuid::from_bytes(&a.values[0]).unwrap();
            assert!(
                !seen.contains_key(&anchor),
                "{}: anchor reuses a GUID",
                e.dn
            );
        }
    }
}

#[test]
fn object_sids_are_valid_unique_and_in_the_domain() {
    let d = Directory::load();
    let domain = sid_of(&d.entries[0]).expect("the domain object has an objectSid");
    assert_eq!(domain.authority(), 5);
    assert_eq!(
        domain.sub_authorities().len(),
        4,
        "S-1-5-21-x-y-z: {domain}"
    );
    assert_eq!(domain.sub_authorities()[0], 21);
    let builtin_users = parse(&format!("CN=Users,{ROOT}"));
    let mut seen = HashMap::new();
    seen.insert(domain.clone(), &d.entries[0].dn);
    for (e, dn) in d.iter().skip(1) {
        let principal = has_class(e, "user") || has_class(e, "group");
        let Some(sid) = sid_of(e) else {
            assert!(
                !principal,
                "{}: a security principal without objectSid",
                e.dn
            );
            continue;
        };
        assert!(principal, "{}: objectSid on a non-principal", e.dn);
        assert_eq!(sid.domain_sid().as_ref(), Some(&domain), "{}: {sid}", e.dn);
        assert_eq!(Sid::from_bytes(&sid.to_bytes()).unwrap(), sid);
        let rid = sid.rid().unwrap();
        let builtin = dn.parent().as_ref() == Some(&builtin_users)
            && e.text("isCriticalSystemObject") == Some("TRUE");
        if builtin {
            assert!([500, 501, 502, 512].contains(&rid), "{}: RID {rid}", e.dn);
        } else {
            assert!(rid >= 1104, "{}: RID {rid} is below 1104", e.dn);
        }
        if let Some(other) = seen.insert(sid.clone(), &e.dn) {
            panic!("{} has the objectSid {sid} of {other}", e.dn);
        }
    }
}

#[test]
fn object_counts_and_containers() {
    let d = Directory::load();
    let users = d.users().count();
    assert!(users >= 200, "{users} users");
    assert!(d.employees().count() >= 180);
    assert!(d.groups().count() >= 10);
    for ou in [
        "OU=Contoso",
        "OU=Users,OU=Seattle,OU=Contoso",
        "OU=Users,OU=London,OU=Contoso",
        "OU=Groups,OU=Contoso",
        "OU=Service Accounts,OU=Contoso",
        "OU=Disabled Users,OU=Contoso",
        "OU=Contacts,OU=Contoso",
        "OU=Workstations,OU=Contoso",
    ] {
        let e = d.get(&format!("{ou},{ROOT}"));
        assert!(has_class(e, "organizationalUnit"), "{ou}");
    }
    let users_container = d.get(&format!("CN=Users,{ROOT}"));
    assert!(has_class(users_container, "container"));

    let contacts: Vec<_> = d.iter().filter(|(e, _)| has_class(e, "contact")).collect();
    assert_eq!(contacts.len(), 5);
    for (e, dn) in contacts {
        assert_eq!(dn.parent(), Some(parse(&format!("OU=Contacts,{CONTOSO}"))));
        let classes = texts(e, "objectClass");
        assert_eq!(
            classes,
            ["top", "person", "organizationalPerson", "contact"]
        );
        let mail = e.text("mail").unwrap();
        assert!(!mail.ends_with("@contoso.example"), "{mail} is external");
        assert_eq!(texts(e, "proxyAddresses"), [format!("SMTP:{mail}")]);
        assert_eq!(
            e.text("targetAddress"),
            Some(format!("SMTP:{mail}").as_str())
        );
        assert!(e.text("displayName").is_some());
    }

    let computers: Vec<_> = d.iter().filter(|(e, _)| has_class(e, "computer")).collect();
    assert_eq!(computers.len(), 5);
    let mut with_certificate = 0;
    for (e, dn) in computers {
        assert_eq!(
            dn.parent(),
            Some(parse(&format!("OU=Workstations,{CONTOSO}")))
        );
        assert_eq!(
            texts(e, "objectClass"),
            ["top", "person", "organizationalPerson", "user", "computer"]
        );
        let cn = e.text("cn").unwrap();
        assert_eq!(e.text("sAMAccountName"), Some(format!("{cn}$").as_str()));
        let host = e.text("dNSHostName").unwrap();
        assert_eq!(host, format!("{}.contoso.example", cn.to_lowercase()));
        assert!(e.text("operatingSystem").unwrap().starts_with("Windows"));
        assert!(e.text("operatingSystemVersion").is_some());
        assert_eq!(uac(e), 4096);
        if let Some(cert) = e.get("userCertificate") {
            // A DER certificate is a SEQUENCE.
            assert_eq!(cert.values[0].first(), Some(&0x30), "{}", e.dn);
            with_certificate += 1;
        }
    }
    assert_eq!(with_certificate, 2);
}

#[test]
fn employees_have_complete_profiles() {
    let d = Directory::load();
    let mut sams = HashSet::new();
    let mut upns = HashSet::new();
    let mut proxies = HashSet::new();
    let mut employee_ids = HashSet::new();
    for (e, _) in d.iter() {
        if let Some(sam) = e.text("sAMAccountName") {
            assert!(
                sams.insert(sam.to_lowercase()),
                "sAMAccountName {sam} repeats"
            );
        }
        if let Some(upn) = e.text("userPrincipalName") {
            assert!(upns.insert(upn.to_lowercase()), "UPN {upn} repeats");
        }
        for proxy in texts(e, "proxyAddresses") {
            let address = proxy.split_once(':').unwrap().1.to_lowercase();
            assert!(proxies.insert(address), "proxy address {proxy} repeats");
        }
    }
    let mut without_manager = Vec::new();
    let mut people = 0;
    // The people: employees at the sites (the conflict copy too) and former employees.
    let disabled_ou = parse(&format!("OU=Disabled Users,{CONTOSO}"));
    let in_people_ou = |dn: &Dn| in_site_users_ou(dn) || dn.parent().as_ref() == Some(&disabled_ou);
    for (e, dn) in d.users().filter(|(_, dn)| in_people_ou(dn)) {
        assert_eq!(
            texts(e, "objectClass"),
            ["top", "person", "organizationalPerson", "user"],
            "{}",
            e.dn
        );
        for attribute in [
            "cn",
            "sn",
            "givenName",
            "displayName",
            "sAMAccountName",
            "department",
            "title",
            "company",
            "l",
            "st",
            "c",
            "co",
            "employeeID",
            "whenCreated",
            "whenChanged",
            "pwdLastSet",
        ] {
            assert!(e.text(attribute).is_some(), "{}: no {attribute}", e.dn);
        }
        assert!(
            matches!(uac(e), 512 | 514),
            "{}: userAccountControl {}",
            e.dn,
            uac(e)
        );
        if !is_conflict(dn) {
            assert_eq!(e.text("displayName"), e.text("cn"), "{}", e.dn);
        }
        for attribute in ["whenCreated", "whenChanged"] {
            let time = e.text(attribute).unwrap();
            assert!(
                time.len() == 17
                    && time.ends_with(".0Z")
                    && time[..14].bytes().all(|b| b.is_ascii_digit()),
                "{}: {attribute} {time}",
                e.dn
            );
        }
        assert!(e.text("whenCreated") <= e.text("whenChanged"), "{}", e.dn);
        let pwd_last_set: u64 = e.text("pwdLastSet").unwrap().parse().unwrap();
        // A FILETIME between 2010 and 2030.
        assert!(
            (129_067_776_000_000_000..135_379_296_000_000_000).contains(&pwd_last_set),
            "{}: pwdLastSet {pwd_last_set}",
            e.dn
        );
        people += 1;
        let id = e.text("employeeID").unwrap();
        assert!(employee_ids.insert(id), "employeeID {id} repeats");
        if let Some(mail) = e.text("mail") {
            let primary: Vec<_> = texts(e, "proxyAddresses")
                .into_iter()
                .filter(|p| p.starts_with("SMTP:"))
                .collect();
            assert_eq!(primary, [format!("SMTP:{mail}")], "{}", e.dn);
            assert!(mail.ends_with("@contoso.example"), "{}: {mail}", e.dn);
        }
        if e.get("manager").is_none() {
            without_manager.push(e.dn.clone());
        }
    }
    assert!(people >= 195, "{people} people");
    assert_eq!(
        without_manager.len(),
        1,
        "only the CEO has no manager: {without_manager:?}"
    );
    assert!(
        d.employees()
            .filter(|(e, _)| e.get("telephoneNumber").is_some())
            .count()
            > 100,
        "many have a telephone number"
    );
    assert!(
        d.employees()
            .filter(|(e, _)| texts(e, "proxyAddresses").len() > 1)
            .count()
            > 20,
        "some have a secondary smtp: address"
    );
}

#[test]
fn managers_form_a_reporting_tree() {
    let d = Directory::load();
    let manager_of: HashMap<&Dn, Dn> = d
        .users()
        .filter_map(|(e, dn)| Some((dn, Dn::parse(e.text("manager")?).unwrap())))
        .collect();
    let mut deepest = 0;
    for (e, dn) in d.users() {
        let mut depth = 0;
        let mut current = dn;
        while let Some(manager) = manager_of.get(current) {
            let i = d.index[manager];
            assert!(
                is_user(&d.entries[i]),
                "{}: the manager is not a user",
                e.dn
            );
            current = &d.dns[i];
            depth += 1;
            assert!(depth < 20, "{}: the manager chain loops", e.dn);
        }
        deepest = deepest.max(depth);
    }
    assert!(deepest >= 3, "the reporting tree is only {deepest} deep");
}

#[test]
fn names_need_unicode_and_escaping() {
    let d = Directory::load();
    let display_names: HashSet<&str> = d
        .users()
        .filter_map(|(e, _)| e.text("displayName"))
        .collect();
    for name in ["Zoë Ångström", "José Núñez", "Łukasz Wójcik", "Smith, Ann"] {
        assert!(display_names.contains(name), "{name}");
    }
    assert!(
        d.users()
            .any(|(e, _)| e.text("sn").is_some_and(|sn| sn.contains('\'')))
    );
    assert!(
        d.users()
            .any(|(e, _)| e.text("sn").is_some_and(|sn| sn.contains('-')))
    );
    let (ann, ann_dn) = d.one("CN=Smith\\, Ann", |_, dn| {
        dn.rdn().unwrap().value() == "Smith, Ann"
    });
    assert!(
        ann.dn.starts_with("CN=Smith\\, Ann,OU=Users,"),
        "{}",
        ann.dn
    );
    assert!(in_site_users_ou(ann_dn));
    // Non-ASCII DNs are written base64, as RFC 2849 asks.
    assert!(!LDIF.lines().any(|l| !l.starts_with('#') && !l.is_ascii()));
}

#[test]
fn special_cases_are_present() {
    let d = Directory::load();
    let all_staff = d.members_of("All Staff");
    let disabled_ou = parse(&format!("OU=Disabled Users,{CONTOSO}"));
    let service_ou = parse(&format!("OU=Service Accounts,{CONTOSO}"));
    let builtin_users = parse(&format!("CN=Users,{ROOT}"));

    // Disabled accounts.
    let disabled: Vec<_> = d
        .users()
        .filter(|(e, dn)| uac(e) == 514 && dn.parent().as_ref() == Some(&disabled_ou))
        .collect();
    assert_eq!(disabled.len(), 3);
    assert!(disabled.iter().all(|(_, dn)| !all_staff.contains(dn)));

    // Exchange system mailboxes.
    let recipient_type = |e: &Entry| -> Option<u64> {
        e.text("msExchRecipientTypeDetails")
            .map(|v| v.parse().unwrap())
    };
    let (system, at) = d.one("system mailbox", |e, _| {
        e.text("mailNickname")
            .is_some_and(|n| n.starts_with("SystemMailbox{1f05a927-"))
    });
    assert!(recipient_type(system).unwrap() & FILTERED_RECIPIENT_TYPES != 0);
    assert_eq!(e_text(system, "cn"), e_text(system, "mailNickname"));
    assert_eq!(at.parent().as_ref(), Some(&builtin_users));
    let (discovery, _) = d.one("Discovery mailbox", |e, _| {
        e.text("mailNickname")
            .is_some_and(|n| n.starts_with("DiscoverySearchMailbox{"))
    });
    assert_eq!(recipient_type(discovery), Some(DISCOVERY_MAILBOX));

    // UPN problems.
    let (hash, _) = d.one("'#' in a UPN", |e, _| {
        e.text("userPrincipalName").is_some_and(|u| u.contains('#'))
    });
    assert_eq!(e_text(hash, "userPrincipalName"), "dev#ops@contoso.example");
    assert!(!e_text(hash, "mail").contains('#'));
    let (_, at) = d.one("UPN with an unroutable suffix", |e, _| {
        e.text("userPrincipalName")
            .is_some_and(|u| !u.ends_with("@contoso.example"))
    });
    assert!(in_site_users_ou(at));
    d.one("@contoso.local UPN", |e, _| {
        e.text("userPrincipalName")
            .is_some_and(|u| u.ends_with("@contoso.local"))
    });

    // mS-DS-ConsistencyGuid, different from the objectGUID.
    let (migrated, _) = d.one("mS-DS-ConsistencyGuid", |e, _| {
        e.get("mS-DS-ConsistencyGuid").is_some()
    });
    let anchor = &migrated.get("mS-DS-ConsistencyGuid").unwrap().values;
    assert_eq!(anchor.len(), 1);
    assert_eq!(anchor[0].len(), 16);
    assert_ne!(anchor[0].as_slice(), guid_of(migrated).as_bytes());

    // adminCount 1: protected, enabled, a Domain Admin, and an ordinary synced employee.
    let (protected, at) = d.one("adminCount 1 user under OU=Contoso", |e, dn| {
        e.text("adminCount") == Some("1") && dn.is_within(&contoso())
    });
    assert_eq!(uac(protected), 512);
    assert!(all_staff.contains(at));
    let domain_admins = d.members_of("Domain Admins");
    assert!(domain_admins.contains(at));
    assert!(domain_admins.contains(&parse(&format!("CN=Administrator,CN=Users,{ROOT}"))));

    // Service accounts.
    for sam in ["MSOL_0123456789ab", "svc-backup"] {
        let (_, at) = d.one(sam, |e, _| e.text("sAMAccountName") == Some(sam));
        assert_eq!(at.parent().as_ref(), Some(&service_ou), "{sam}");
    }

    // A replication-conflict object, named after its own objectGUID, next to the original.
    let (conflict, at) = d.one("replication-conflict object", |_, dn| is_conflict(dn));
    assert!(
        conflict.dn.starts_with("CN=Pat Kim\\0ACNF:"),
        "{}",
        conflict.dn
    );
    let rdn = at.rdn().unwrap().value();
    let (name, guid) = rdn.split_once("\nCNF:").unwrap();
    assert_eq!(guid, guid_of(conflict).to_string());
    let original = at
        .parent()
        .unwrap()
        .child(Rdn::new(AttributeName::new("CN").unwrap(), name).unwrap());
    assert!(d.index.contains_key(&original), "{original}");
    assert!(!all_staff.contains(at));

    // No UPN; no mail.
    let (_, at) = d.one("employee without a UPN", |e, dn| {
        is_user(e) && in_site_users_ou(dn) && e.get("userPrincipalName").is_none()
    });
    assert!(d.entries[d.index[at]].text("sAMAccountName").is_some());
    d.one("employee without mail and proxyAddresses", |e, dn| {
        is_user(e)
            && in_site_users_ou(dn)
            && e.get("mail").is_none()
            && e.get("proxyAddresses").is_none()
    });

    // Built-in accounts and groups: critical system objects with their well-known RIDs.
    for (cn, rid) in [
        ("Administrator", 500),
        ("Guest", 501),
        ("krbtgt", 502),
        ("Domain Admins", 512),
    ] {
        let e = d.get(&format!("CN={cn},CN=Users,{ROOT}"));
        assert_eq!(e.text("isCriticalSystemObject"), Some("TRUE"), "{cn}");
        assert_eq!(sid_of(e).unwrap().rid(), Some(rid), "{cn}");
    }
}

fn e_text<'a>(e: &'a Entry, name: &str) -> &'a str {
    e.text(name)
        .unwrap_or_else(|| panic!("{}: no {name}", e.dn))
}

#[test]
fn groups_cover_every_kind_and_nest_two_levels() {
    let d = Directory::load();
    let groups_ou = parse(&format!("OU=Groups,{CONTOSO}"));
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for (e, dn) in d.groups() {
        assert_eq!(texts(e, "objectClass"), ["top", "group"], "{}", e.dn);
        for attribute in ["cn", "sAMAccountName", "description", "groupType"] {
            assert!(e.text(attribute).is_some(), "{}: no {attribute}", e.dn);
        }
        if e.text("cn") != Some("Domain Admins") {
            assert_eq!(dn.parent().as_ref(), Some(&groups_ou), "{}", e.dn);
        }
        let kind = e_text(e, "groupType");
        *kinds.entry(kind).or_default() += 1;
        if let Some(mail) = e.text("mail") {
            let primary: Vec<_> = texts(e, "proxyAddresses")
                .into_iter()
                .filter(|p| p.starts_with("SMTP:"))
                .collect();
            assert_eq!(primary, [format!("SMTP:{mail}")], "{}", e.dn);
        }
    }
    assert!(
        kinds.get(GLOBAL_SECURITY).is_some_and(|&n| n >= 10),
        "{kinds:?}"
    );

    let mail_enabled = |kind: &str| {
        d.groups().any(|(e, _)| {
            e.text("groupType") == Some(kind)
                && e.text("mail").is_some()
                && !texts(e, "proxyAddresses").is_empty()
        })
    };
    assert!(
        mail_enabled(UNIVERSAL_DISTRIBUTION),
        "a mail-enabled distribution group"
    );
    assert!(
        mail_enabled(UNIVERSAL_SECURITY),
        "a mail-enabled security group"
    );
    assert!(
        d.groups().any(|(e, _)| e.get("member").is_none()),
        "an empty group"
    );
    let contact_member = d.groups().any(|(e, _)| {
        texts(e, "member")
            .iter()
            .any(|m| has_class(&d.entries[d.index[&parse(m)]], "contact"))
    });
    assert!(contact_member, "a group with a contact among its members");

    // All Staff: every enabled employee, and only people.
    let all_staff = d.members_of("All Staff");
    let employees: HashSet<Dn> = d.employees().map(|(_, dn)| dn.clone()).collect();
    assert_eq!(all_staff, employees);

    // Nesting: depth of groups inside groups, cycles forbidden.
    fn depth(d: &Directory, group: &Dn, path: &mut Vec<Dn>) -> usize {
        assert!(!path.contains(group), "group nesting loops through {group}");
        path.push(group.clone());
        let e = &d.entries[d.index[group]];
        let deepest = texts(e, "member")
            .into_iter()
            .map(parse)
            .filter(|m| has_class(&d.entries[d.index[m]], "group"))
            .map(|m| 1 + depth(d, &m, path))
            .max()
            .unwrap_or(0);
        path.pop();
        deepest
    }
    let deepest = d
        .groups()
        .map(|(_, g)| depth(&d, g, &mut Vec::new()))
        .max()
        .unwrap();
    assert!(deepest >= 2, "groups nest only {deepest} level(s) deep");
}
