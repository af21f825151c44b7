//! The rights the AD DS connector account needs per chosen feature (design.md section 7,
//! sync-engine.md sections 7 and 8), the GUIDs that name them (read from the DC's own schema and
//! extended-rights container, never guessed), and the effective-rights evaluation of a DACL for an
//! account's token (its SID, its transitive groups, Everyone and Authenticated Users).
//!
//! Invariants: every required right says which feature needs it, what it is called in AD's UI,
//! and the ACE that grants it; the evaluation is conservative: a right counts as held only when an
//! allow ACE that applies to the target covers it before any deny ACE takes it away (ACEs in
//! order, as Windows evaluates a canonical DACL). Grants through property sets count (the
//! attribute's `attributeSecurityGUID`); grants that only reach direct children
//! (`NO_PROPAGATE_INHERIT`) do not, and neither do rights on objects whose inheritance is blocked
//! (those are per-object and outside a domain-root check).

use std::collections::BTreeMap;

use ldap3::Scope;

use super::sd::{self, Ace, Acl, rights};
use crate::config::Config;
use crate::connectors::ad::{AdError, RootDse, Session};
use crate::domain::{Dn, ObjectGuid, Sid};

/// `DS-Replication-Get-Changes` ("Replicating Directory Changes"), MS-ADTS / adschema
/// `r-ds-replication-get-changes`.
pub const DS_REPLICATION_GET_CHANGES: ObjectGuid = guid(
    0x1131_f6aa,
    0x9c07,
    0x11d1,
    [0xf7, 0x9f, 0x00, 0xc0, 0x4f, 0xc2, 0xdc, 0xd2],
);
/// `DS-Replication-Get-Changes-All` ("Replicating Directory Changes All").
pub const DS_REPLICATION_GET_CHANGES_ALL: ObjectGuid = guid(
    0x1131_f6ad,
    0x9c07,
    0x11d1,
    [0xf7, 0x9f, 0x00, 0xc0, 0x4f, 0xc2, 0xdc, 0xd2],
);

/// A GUID from its text fields (Data1, Data2, Data3, Data4) in AD's mixed-endian byte layout.
pub const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> ObjectGuid {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    ObjectGuid::from_array([
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ])
}

/// The optional features that change what the connector account needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Password hash sync: Replicating Directory Changes All.
    pub password_hash_sync: bool,
    /// `mS-DS-ConsistencyGuid` is the source anchor: write it on users.
    pub consistency_guid_anchor: bool,
    /// Password writeback: reset/change password, write lockoutTime and pwdLastSet.
    pub password_writeback: bool,
    /// Exchange hybrid: read/write all properties on users, inetOrgPersons, groups, contacts.
    pub exchange_hybrid: bool,
    /// Group writeback into this OU: create, delete and write groups there.
    pub group_writeback_ou: Option<Dn>,
    /// Device writeback: create, delete and write `msDS-Device` objects in
    /// `CN=RegisteredDevices,<domain>`.
    pub device_writeback: bool,
}

impl Features {
    /// The features a configuration chooses.
    pub fn from_config(c: &Config) -> Self {
        use crate::config::model::SignInMethod;
        let f = &c.features;
        Features {
            password_hash_sync: f
                .password_hash_sync
                .enabled
                .unwrap_or(c.sign_in.method == SignInMethod::PasswordHashSync),
            consistency_guid_anchor: c
                .identity
                .source_anchor
                .eq_ignore_case("mS-DS-ConsistencyGuid"),
            password_writeback: f.password_writeback.enabled,
            exchange_hybrid: f.exchange_hybrid.enabled,
            group_writeback_ou: f
                .group_writeback
                .enabled
                .then(|| f.group_writeback.target_ou.as_ref().map(|o| o.dn.clone()))
                .flatten(),
            device_writeback: f.device_writeback.enabled,
        }
    }

    /// The features that concern the connector account of `forest`: group and device
    /// writeback only in their writeback forest (unset: the first directory), the others
    /// everywhere.
    pub fn for_forest(c: &Config, forest: &str) -> Self {
        let mut out = Self::from_config(c);
        let first = c.directories.first().map(|d| d.forest.as_str());
        let here = |set: &Option<String>| {
            set.as_deref()
                .or(first)
                .is_some_and(|w| w.eq_ignore_ascii_case(forest))
        };
        if !here(&c.features.group_writeback.forest) {
            out.group_writeback_ou = None;
        }
        if !here(&c.features.device_writeback.forest) {
            out.device_writeback = false;
        }
        out
    }
}

/// Where a right must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// On the domain object itself (replication rights).
    DomainRoot,
    /// On every descendant object of a class (inherited from the domain root).
    Descendants {
        /// The class's lDAPDisplayName.
        class: String,
    },
    /// On an OU and below it (group writeback's target OU: groups).
    Ou(Dn),
    /// On `CN=RegisteredDevices,<domain>` and below it (device writeback: `msDS-Device`).
    RegisteredDevices,
}

/// The container device writeback writes into, under the domain root.
pub const REGISTERED_DEVICES: &str = "CN=RegisteredDevices";

impl Target {
    /// The class of the objects a container target creates and writes.
    fn child_class(&self) -> Option<&'static str> {
        match self {
            Target::Ou(_) => Some("group"),
            Target::RegisteredDevices => Some("msDS-Device"),
            _ => None,
        }
    }
}

/// One right the account needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    /// The feature that needs it ("synchronization", "password hash sync", ...).
    pub feature: &'static str,
    /// What AD's security UI calls it.
    pub right: String,
    /// Where it must hold.
    pub target: Target,
    /// The access mask bits.
    pub mask: u32,
    /// The property, property set, extended right or child class it is limited to.
    pub object_type: Option<ObjectGuid>,
    /// The attribute's property set, which also grants it (for RP/WP on one attribute).
    pub property_set: Option<ObjectGuid>,
}

/// Names an extended right or a schema object by GUID, as read from the DC.
#[derive(Debug, Clone, Default)]
pub struct Guids {
    /// lDAPDisplayName (lower case) -> (schemaIDGUID, attributeSecurityGUID).
    pub schema: BTreeMap<String, (ObjectGuid, Option<ObjectGuid>)>,
    /// Extended right cn (lower case) -> rightsGuid.
    pub extended: BTreeMap<String, ObjectGuid>,
}

/// The schema classes and attributes and the extended rights the rights table names.
const SCHEMA_NAMES: &[&str] = &[
    "user",
    "group",
    "contact",
    "computer",
    "inetOrgPerson",
    "domainDNS",
    "mS-DS-ConsistencyGuid",
    "lockoutTime",
    "pwdLastSet",
    "msDS-Device",
];
const EXTENDED_RIGHTS: &[&str] = &[
    "DS-Replication-Get-Changes",
    "DS-Replication-Get-Changes-All",
    "User-Force-Change-Password",
];

/// Why rights could not be read, evaluated or granted.
#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    /// The DC failed.
    #[error(transparent)]
    Ad(#[from] AdError),
    /// The DC lacks a schema object or extended right the feature needs.
    #[error(
        "the directory has no {0} (not in the schema or CN=Extended-Rights): the feature that \
         needs it cannot be used with this forest"
    )]
    Unknown(String),
    /// A security descriptor could not be read.
    #[error("{what}: {source}")]
    Descriptor {
        /// Whose descriptor.
        what: String,
        /// Why.
        source: sd::SdError,
    },
    /// The account could not be found.
    #[error("no account named '{0}' in the directory")]
    NoAccount(String),
}

impl Guids {
    /// Read the GUIDs the rights table needs from the DC.
    pub async fn read(session: &mut Session, root: &RootDse) -> Result<Self, RightsError> {
        let mut out = Guids::default();
        let filter = format!(
            "(|{})",
            SCHEMA_NAMES
                .iter()
                .map(|n| format!("(lDAPDisplayName={n})"))
                .collect::<String>()
        );
        let entries = session
            .search_all(
                &root.schema_naming_context,
                Scope::OneLevel,
                &filter,
                &["lDAPDisplayName", "schemaIDGUID", "attributeSecurityGUID"],
            )
            .await?;
        for e in entries {
            let (Some(name), Some(id)) = (
                e.text("lDAPDisplayName"),
                e.get("schemaIDGUID")
                    .and_then(|v| v.first())
                    .and_then(|b| ObjectGuid::from_bytes(b).ok()),
            ) else {
                continue;
            };
            let set = e
                .get("attributeSecurityGUID")
                .and_then(|v| v.first())
                .and_then(|b| ObjectGuid::from_bytes(b).ok());
            out.schema.insert(name.to_ascii_lowercase(), (id, set));
        }
        let filter = format!(
            "(|{})",
            EXTENDED_RIGHTS
                .iter()
                .map(|n| format!("(cn={n})"))
                .collect::<String>()
        );
        let base = format!("CN=Extended-Rights,{}", root.configuration_naming_context);
        let entries = session
            .search_all(&base, Scope::OneLevel, &filter, &["cn", "rightsGuid"])
            .await?;
        for e in entries {
            let (Some(cn), Some(g)) = (
                e.text("cn"),
                e.text("rightsGuid").and_then(|g| g.parse().ok()),
            ) else {
                continue;
            };
            out.extended.insert(cn.to_ascii_lowercase(), g);
        }
        Ok(out)
    }

    /// A schema object's GUID.
    pub fn schema_id(&self, name: &str) -> Result<ObjectGuid, RightsError> {
        self.schema
            .get(&name.to_ascii_lowercase())
            .map(|(g, _)| *g)
            .ok_or_else(|| RightsError::Unknown(format!("schema object {name}")))
    }

    fn property_set(&self, name: &str) -> Option<ObjectGuid> {
        self.schema
            .get(&name.to_ascii_lowercase())
            .and_then(|(_, s)| *s)
    }

    /// An extended right's GUID.
    pub fn right(&self, cn: &str) -> Result<ObjectGuid, RightsError> {
        self.extended
            .get(&cn.to_ascii_lowercase())
            .copied()
            .ok_or_else(|| RightsError::Unknown(format!("extended right {cn}")))
    }
}

/// The rights `features` need, in a stable order.
pub fn required(features: &Features, g: &Guids) -> Result<Vec<Required>, RightsError> {
    let mut out = Vec::new();
    let domain = |feature, right: &str, cn: &str| -> Result<Required, RightsError> {
        Ok(Required {
            feature,
            right: right.to_owned(),
            target: Target::DomainRoot,
            mask: rights::CONTROL_ACCESS,
            object_type: Some(g.right(cn)?),
            property_set: None,
        })
    };
    let on = |feature, right: String, class: &str, mask, attr: Option<&str>| {
        Ok::<Required, RightsError>(Required {
            feature,
            right,
            target: Target::Descendants {
                class: class.to_owned(),
            },
            mask,
            object_type: attr.map(|a| g.schema_id(a)).transpose()?,
            property_set: attr.and_then(|a| g.property_set(a)),
        })
    };
    out.push(domain(
        "synchronization",
        "Replicating Directory Changes",
        "DS-Replication-Get-Changes",
    )?);
    for class in ["user", "inetOrgPerson", "group", "contact", "computer"] {
        out.push(on(
            "synchronization",
            format!("Read all properties on descendant {class} objects"),
            class,
            rights::READ_PROPERTY,
            None,
        )?);
    }
    if features.password_hash_sync {
        out.push(domain(
            "password hash sync",
            "Replicating Directory Changes All",
            "DS-Replication-Get-Changes-All",
        )?);
    }
    if features.consistency_guid_anchor {
        out.push(on(
            "mS-DS-ConsistencyGuid source anchor",
            "Write mS-DS-ConsistencyGuid on descendant user objects".into(),
            "user",
            rights::WRITE_PROPERTY,
            Some("mS-DS-ConsistencyGuid"),
        )?);
    }
    if features.password_writeback {
        // As Entra Connect's Set-ADSyncPasswordWritebackPermissions grants them.
        out.push(Required {
            feature: "password writeback",
            right: "Reset password on descendant user objects".into(),
            target: Target::Descendants {
                class: "user".into(),
            },
            mask: rights::CONTROL_ACCESS,
            object_type: Some(g.right("User-Force-Change-Password")?),
            property_set: None,
        });
        for attr in ["lockoutTime", "pwdLastSet"] {
            out.push(on(
                "password writeback",
                format!("Write {attr} on descendant user objects"),
                "user",
                rights::WRITE_PROPERTY,
                Some(attr),
            )?);
        }
    }
    if features.exchange_hybrid {
        for class in ["user", "inetOrgPerson", "group", "contact"] {
            out.push(on(
                "Exchange hybrid",
                format!("Read/write all properties on descendant {class} objects"),
                class,
                rights::READ_PROPERTY | rights::WRITE_PROPERTY,
                None,
            )?);
        }
    }
    // A writeback container: create and delete the class's objects there, and read, write
    // and delete them below it.
    let container = |feature: &'static str, target: Target, class: &str, class_id, place: &str| {
        [
            Required {
                feature,
                right: format!("Create and delete {class} objects in {place}"),
                target: target.clone(),
                mask: rights::CREATE_CHILD | rights::DELETE_CHILD,
                object_type: Some(class_id),
                property_set: None,
            },
            Required {
                feature,
                right: format!("Read/write all properties, delete on {class} objects in {place}"),
                target,
                mask: rights::READ_PROPERTY
                    | rights::WRITE_PROPERTY
                    | rights::DELETE
                    | rights::DELETE_TREE,
                object_type: None,
                property_set: None,
            },
        ]
    };
    if let Some(ou) = &features.group_writeback_ou {
        out.extend(container(
            "group writeback",
            Target::Ou(ou.clone()),
            "group",
            g.schema_id("group")?,
            &ou.to_string(),
        ));
    }
    if features.device_writeback {
        // As Entra Connect's Initialize-ADSyncDeviceWriteback grants them on the container.
        let device = g.schema_id("msDS-Device").map_err(|_| {
            RightsError::Unknown(
                "schema class msDS-Device: device writeback needs the Windows Server 2012 R2 \
                 schema or later (adprep /forestprep)"
                    .into(),
            )
        })?;
        out.extend(container(
            "device writeback",
            Target::RegisteredDevices,
            "msDS-Device",
            device,
            REGISTERED_DEVICES,
        ));
    }
    Ok(out)
}

impl Required {
    /// The ACE that grants this right to `sid` (on the domain root, or on the OU of
    /// [`Target::Ou`]).
    pub fn ace(&self, sid: &Sid, g: &Guids) -> Result<Ace, RightsError> {
        Ok(match &self.target {
            Target::DomainRoot => Ace::allow(sid.clone(), self.mask, self.object_type, None, 0),
            Target::Descendants { class } => Ace::allow(
                sid.clone(),
                self.mask,
                self.object_type,
                Some(g.schema_id(class)?),
                sd::CONTAINER_INHERIT | sd::INHERIT_ONLY,
            ),
            Target::Ou(_) | Target::RegisteredDevices => {
                let class = self.target.child_class().unwrap_or("group");
                if self.object_type.is_some() {
                    // Create/delete children of one class: on the OU and its sub-OUs.
                    Ace::allow(
                        sid.clone(),
                        self.mask,
                        self.object_type,
                        None,
                        sd::CONTAINER_INHERIT,
                    )
                } else {
                    Ace::allow(
                        sid.clone(),
                        self.mask,
                        None,
                        Some(g.schema_id(class)?),
                        sd::CONTAINER_INHERIT | sd::INHERIT_ONLY,
                    )
                }
            }
        })
    }

    /// The object whose DACL holds this right (`domain` for the domain-root targets).
    pub fn holder(&self, domain: &Dn) -> Dn {
        match &self.target {
            Target::Ou(ou) => ou.clone(),
            Target::RegisteredDevices => Dn::parse(&format!("{REGISTERED_DEVICES},{domain}"))
                .unwrap_or_else(|_| domain.clone()),
            _ => domain.clone(),
        }
    }

    /// A `dsacls` command that grants it, for an admin who prefers to do it by hand.
    pub fn dsacls(&self, domain: &Dn, account: &str) -> String {
        let what = match (&self.target, self.mask) {
            (Target::DomainRoot, _) => format!("CA;{}", self.right),
            (Target::Descendants { class }, m) if m == rights::READ_PROPERTY => {
                format!("RP;;{class}")
            }
            (Target::Descendants { class }, m)
                if m == rights::READ_PROPERTY | rights::WRITE_PROPERTY =>
            {
                format!("RPWP;;{class}")
            }
            (Target::Descendants { class }, m) if m == rights::CONTROL_ACCESS => {
                let name = self
                    .right
                    .split(" on ")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                format!("CA;{name};{class}")
            }
            (Target::Descendants { class }, _) => {
                let attr = self
                    .right
                    .strip_prefix("Write ")
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or_default()
                    .to_owned();
                format!("WP;{attr};{class}")
            }
            (t @ (Target::Ou(_) | Target::RegisteredDevices), _) if self.object_type.is_some() => {
                format!("CCDC;{}", t.child_class().unwrap_or("group"))
            }
            (t @ (Target::Ou(_) | Target::RegisteredDevices), _) => {
                format!("RPWPSDDT;;{}", t.child_class().unwrap_or("group"))
            }
        };
        let inherit = match self.target {
            Target::DomainRoot => "",
            _ => " /I:S",
        };
        format!(
            "dsacls \"{}\"{inherit} /G \"{account}:{what}\"",
            self.holder(domain)
        )
    }
}

/// Generic rights mapped to directory rights (MS-ADTS 5.1.3.3).
fn mapped(mask: u32) -> u32 {
    let mut m = mask & 0x00FF_FFFF;
    if mask & rights::GENERIC_ALL != 0 {
        m |= rights::FULL_CONTROL;
    }
    if mask & rights::GENERIC_READ != 0 {
        m |= rights::READ;
    }
    if mask & rights::GENERIC_WRITE != 0 {
        m |= rights::WRITE_PROPERTY | rights::SELF_WRITE | rights::READ_CONTROL;
    }
    m
}

/// Whether `ace` reaches the target of `req` (on the object whose DACL it is in).
fn applies(ace: &Ace, req: &Required, g: &Guids) -> bool {
    let (_, inherited_type) = ace.object_types();
    let inherits_to = |class: &str| {
        ace.flags & sd::CONTAINER_INHERIT != 0
            && ace.flags & sd::NO_PROPAGATE_INHERIT == 0
            && inherited_type.is_none_or(|t| g.schema_id(class).is_ok_and(|c| c == t))
    };
    match &req.target {
        Target::DomainRoot => {
            ace.flags & sd::INHERIT_ONLY == 0
                && inherited_type.is_none_or(|t| g.schema_id("domainDNS").is_ok_and(|d| d == t))
        }
        Target::Descendants { class } => inherits_to(class),
        // Create/delete child objects on the OU itself.
        Target::Ou(_) | Target::RegisteredDevices if req.object_type.is_some() => {
            ace.flags & sd::INHERIT_ONLY == 0 && inherited_type.is_none()
        }
        t @ (Target::Ou(_) | Target::RegisteredDevices) => {
            inherits_to(t.child_class().unwrap_or("group"))
        }
    }
}

/// Whether `ace`'s object type covers `req`'s.
fn covers_object(ace: &Ace, req: &Required) -> bool {
    let (object_type, _) = ace.object_types();
    match object_type {
        None => true,
        Some(t) => Some(t) == req.object_type || (req.property_set == Some(t)),
    }
}

/// What an account holds of one required right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holding {
    /// Every bit is allowed.
    Granted,
    /// These bits are not allowed by any applicable ACE.
    Missing(u32),
    /// These bits are denied by an applicable deny ACE.
    Denied(u32),
}

/// Evaluate `req` against `dacl` for a token (the account's SID and its groups' SIDs).
pub fn evaluate(dacl: &Acl, token: &[Sid], req: &Required, g: &Guids) -> Holding {
    let mut remaining = req.mask;
    for ace in &dacl.aces {
        if remaining == 0 {
            break;
        }
        let (Some(sid), Some(mask)) = (ace.sid(), ace.mask()) else {
            continue;
        };
        if !token.contains(sid) || !applies(ace, req, g) || !covers_object(ace, req) {
            continue;
        }
        let hit = mapped(mask) & remaining;
        if hit == 0 {
            continue;
        }
        if ace.is_deny() {
            return Holding::Denied(hit);
        }
        if ace.is_allow() {
            remaining &= !hit;
        }
    }
    if remaining == 0 {
        Holding::Granted
    } else {
        Holding::Missing(remaining)
    }
}

/// An account's token: its SID, the SIDs of its transitive groups (`tokenGroups`), Everyone and
/// Authenticated Users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The account's DN.
    pub dn: Dn,
    /// Its sAMAccountName.
    pub sam_account_name: String,
    /// Its objectSid.
    pub sid: Sid,
    /// Its group SIDs, with Everyone (S-1-1-0) and Authenticated Users (S-1-5-11).
    pub groups: Vec<Sid>,
}

impl Token {
    /// Every SID of the token.
    pub fn sids(&self) -> Vec<Sid> {
        let mut v = vec![self.sid.clone()];
        v.extend(self.groups.iter().cloned());
        v
    }

    /// The privileged groups this account belongs to that Entra Connect refuses for its
    /// connector account: Domain Admins (RID 512), Enterprise Admins (519), and the built-in
    /// Administrators (S-1-5-32-544).
    pub fn privileged_groups(&self) -> Vec<&'static str> {
        let domain = self.sid.domain_sid();
        let mut out = Vec::new();
        for g in &self.groups {
            if g.to_string() == "S-1-5-32-544" {
                out.push("Administrators");
            } else if g.domain_sid() == domain {
                match g.rid() {
                    Some(512) => out.push("Domain Admins"),
                    Some(519) => out.push("Enterprise Admins"),
                    _ => {}
                }
            }
        }
        out
    }
}

/// The LDAP filter that finds an account by any of its bind-name forms.
pub fn account_filter(bind_name: &str) -> String {
    let esc = |s: &str| {
        s.chars()
            .map(|c| match c {
                '*' => "\\2a".to_owned(),
                '(' => "\\28".to_owned(),
                ')' => "\\29".to_owned(),
                '\\' => "\\5c".to_owned(),
                '\0' => "\\00".to_owned(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    if let Some((_, user)) = bind_name.split_once('\\') {
        format!("(&(objectClass=user)(sAMAccountName={}))", esc(user))
    } else if let Some((user, _)) = bind_name.split_once('@') {
        format!(
            "(&(objectClass=user)(|(userPrincipalName={})(sAMAccountName={})))",
            esc(bind_name),
            esc(user)
        )
    } else {
        format!("(&(objectClass=user)(sAMAccountName={}))", esc(bind_name))
    }
}

/// Find an account (by DN or any bind-name form) below `base` and read its token.
pub async fn token_of(
    session: &mut Session,
    base: &Dn,
    account: &str,
) -> Result<Token, RightsError> {
    let dn = match Dn::parse(account) {
        Ok(dn) if account.contains('=') => dn,
        _ => {
            let found = session
                .search_all(
                    &base.to_string(),
                    Scope::Subtree,
                    &account_filter(account),
                    &["sAMAccountName"],
                )
                .await?;
            let first = found
                .first()
                .and_then(|e| e.dn_text())
                .and_then(|d| Dn::parse(d).ok())
                .ok_or_else(|| RightsError::NoAccount(account.to_owned()))?;
            if found.len() > 1 {
                return Err(RightsError::NoAccount(format!(
                    "{account} (it names {} accounts)",
                    found.len()
                )));
            }
            first
        }
    };
    let entries = session
        .search_all(
            &dn.to_string(),
            Scope::Base,
            "(objectClass=*)",
            &["objectSid", "tokenGroups", "sAMAccountName"],
        )
        .await?;
    let e = entries
        .first()
        .ok_or_else(|| RightsError::NoAccount(account.to_owned()))?;
    let sid = e
        .get("objectSid")
        .and_then(|v| v.first())
        .and_then(|b| Sid::from_bytes(b).ok())
        .ok_or_else(|| RightsError::NoAccount(format!("{account} (no objectSid)")))?;
    let mut groups: Vec<Sid> = e
        .get("tokenGroups")
        .unwrap_or_default()
        .iter()
        .filter_map(|b| Sid::from_bytes(b).ok())
        .collect();
    for well_known in ["S-1-1-0", "S-1-5-11"] {
        if let Ok(s) = well_known.parse::<Sid>()
            && !groups.contains(&s)
        {
            groups.push(s);
        }
    }
    Ok(Token {
        dn,
        sam_account_name: e.text("sAMAccountName").unwrap_or_default().to_owned(),
        sid,
        groups,
    })
}

/// Read the DACL of `dn` (with the SD flags control, so no SACL privilege is needed).
pub async fn read_dacl(
    session: &mut Session,
    dn: &Dn,
) -> Result<(sd::SecurityDescriptor, Vec<u8>), RightsError> {
    let (entries, result) = session
        .search(
            &dn.to_string(),
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor".to_owned()],
            vec![crate::connectors::ad::dirsync::sd_flags(
                crate::connectors::ad::dirsync::SD_DACL,
            )],
        )
        .await?;
    crate::connectors::ad::connection::check_search(&dn.to_string(), "(objectClass=*)", &result)?;
    let entry = entries
        .into_iter()
        .next()
        .map(crate::connectors::ad::entry::parse)
        .transpose()?;
    let bytes = entry
        .as_ref()
        .and_then(|e| e.get("nTSecurityDescriptor"))
        .and_then(|v| v.first())
        .cloned()
        .ok_or_else(|| RightsError::Descriptor {
            what: format!("'{dn}'"),
            source: sd::SdError::Malformed(
                "the DC returned no nTSecurityDescriptor (the account may not read it: it needs \
                 READ_CONTROL on the object)"
                    .into(),
            ),
        })?;
    let parsed =
        sd::SecurityDescriptor::parse(&bytes).map_err(|source| RightsError::Descriptor {
            what: format!("'{dn}'"),
            source,
        })?;
    Ok((parsed, bytes))
}

/// One line of a permission report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RightReport {
    /// The feature that needs it.
    pub feature: String,
    /// The right.
    pub right: String,
    /// Where it must hold.
    pub on: String,
    /// `granted`, `missing …`, `denied …`, or `not checked: <dn> does not exist` for a
    /// writeback container that is not there.
    pub status: String,
    /// The ACE (SDDL) that grants it.
    pub ace: String,
    /// A command that grants it.
    pub fix: String,
}

/// The effective rights of `account` for `features` on the domain `domain` (and the group
/// writeback OU): one line per required right. A writeback container that does not exist
/// gives its lines a `not checked` status instead of failing the whole check.
pub async fn check_account(
    session: &mut Session,
    root: &RootDse,
    account: &str,
    features: &Features,
) -> Result<(Token, Vec<RightReport>), RightsError> {
    let domain = Dn::parse(&root.default_naming_context)
        .map_err(|e| RightsError::Ad(AdError::Malformed(e.to_string())))?;
    let guids = Guids::read(session, root).await?;
    let token = token_of(session, &domain, account).await?;
    let sids = token.sids();
    let reqs = required(features, &guids)?;
    let mut dacls: BTreeMap<String, Acl> = BTreeMap::new();
    let mut out = Vec::new();
    let down_level = token.sam_account_name.clone();
    for req in &reqs {
        let holder = req.holder(&domain);
        let key = holder.to_string();
        if !dacls.contains_key(&key) {
            let sd = match read_dacl(session, &holder).await {
                Ok((sd, _)) => sd,
                // A writeback container that does not exist yet: its rights cannot hold, the
                // others are still evaluated.
                Err(RightsError::Ad(e))
                    if e.code() == Some(32) && req.target.child_class().is_some() =>
                {
                    out.push(RightReport {
                        feature: req.feature.to_owned(),
                        right: req.right.clone(),
                        on: key,
                        status: format!("not checked: {holder} does not exist"),
                        ace: req.ace(&token.sid, &guids)?.to_string(),
                        fix: req.dsacls(&domain, &down_level),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            dacls.insert(
                key.clone(),
                sd.dacl.unwrap_or(Acl {
                    revision: 4,
                    aces: Vec::new(),
                    trailing: Vec::new(),
                }),
            );
        }
        let Some(dacl) = dacls.get(&key) else {
            continue;
        };
        let status = match evaluate(dacl, &sids, req, &guids) {
            Holding::Granted => "granted".to_owned(),
            Holding::Missing(bits) => format!("missing {}", sd::mask_text(bits)),
            Holding::Denied(bits) => format!("denied {}", sd::mask_text(bits)),
        };
        out.push(RightReport {
            feature: req.feature.to_owned(),
            right: req.right.clone(),
            on: key,
            status,
            ace: req.ace(&token.sid, &guids)?.to_string(),
            fix: req.dsacls(&domain, &down_level),
        });
    }
    Ok((token, out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn writeback_rights_concern_only_the_writeback_forest() {
        let mut c = crate::config::parse(include_str!(
            "../../tests/config/valid/two_forests_selected_ous.toml"
        ))
        .unwrap()
        .config;
        c.features.device_writeback.enabled = true;
        c.features.device_writeback.forest = Some("FABRIKAM.example".into());
        let ou = Dn::parse("OU=Cloud Groups,DC=corp,DC=example,DC=com").unwrap();
        let corp = Features::for_forest(&c, "corp.example.com");
        let fab = Features::for_forest(&c, "fabrikam.example");
        assert_eq!(corp.group_writeback_ou, Some(ou.clone()));
        assert!(!corp.device_writeback);
        assert_eq!(fab.group_writeback_ou, None);
        assert!(fab.device_writeback);
        // The rest concerns every forest.
        assert_eq!(corp.exchange_hybrid, fab.exchange_hybrid);
        assert!(corp.exchange_hybrid);
        // Unset forests: the first directory.
        c.features.group_writeback.forest = None;
        c.features.device_writeback.forest = None;
        assert_eq!(
            Features::for_forest(&c, "corp.example.com").group_writeback_ou,
            Some(ou)
        );
        assert!(Features::for_forest(&c, "corp.example.com").device_writeback);
        let fab = Features::for_forest(&c, "fabrikam.example");
        assert_eq!(fab.group_writeback_ou, None);
        assert!(!fab.device_writeback);
    }

    #[test]
    fn documented_guids_have_their_text_form() {
        assert_eq!(
            DS_REPLICATION_GET_CHANGES.to_string(),
            "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
        );
        assert_eq!(
            DS_REPLICATION_GET_CHANGES_ALL.to_string(),
            "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
        );
    }

    fn guids() -> Guids {
        let mut g = Guids::default();
        for (i, n) in SCHEMA_NAMES.iter().enumerate() {
            g.schema.insert(
                n.to_ascii_lowercase(),
                (ObjectGuid::from_array([i as u8 + 1; 16]), None),
            );
        }
        g.extended.insert(
            "ds-replication-get-changes".into(),
            DS_REPLICATION_GET_CHANGES,
        );
        g.extended.insert(
            "ds-replication-get-changes-all".into(),
            DS_REPLICATION_GET_CHANGES_ALL,
        );
        g.extended.insert(
            "user-force-change-password".into(),
            ObjectGuid::from_array([0xaa; 16]),
        );
        g
    }

    #[test]
    fn the_aces_we_grant_are_the_rights_we_require() {
        let g = guids();
        let sid: Sid = "S-1-5-21-1-2-3-1234".parse().unwrap();
        let features = Features {
            password_hash_sync: true,
            consistency_guid_anchor: true,
            password_writeback: true,
            exchange_hybrid: true,
            group_writeback_ou: Some(Dn::parse("OU=WB,DC=lab,DC=example").unwrap()),
            device_writeback: true,
        };
        let reqs = required(&features, &g).unwrap();
        let aces: Vec<Ace> = reqs.iter().map(|r| r.ace(&sid, &g).unwrap()).collect();
        let dacl = Acl {
            revision: 4,
            aces: aces.clone(),
            trailing: Vec::new(),
        };
        for r in &reqs {
            assert_eq!(
                evaluate(&dacl, std::slice::from_ref(&sid), r, &g),
                Holding::Granted,
                "{r:?}"
            );
        }
        // Without the replication-all ACE exactly that one is missing.
        let without: Vec<Ace> = aces
            .iter()
            .filter(|a| a.object_types().0 != Some(DS_REPLICATION_GET_CHANGES_ALL))
            .cloned()
            .collect();
        let dacl = Acl {
            revision: 4,
            aces: without,
            trailing: Vec::new(),
        };
        let missing: Vec<&str> = reqs
            .iter()
            .filter(|r| evaluate(&dacl, std::slice::from_ref(&sid), r, &g) != Holding::Granted)
            .map(|r| r.right.as_str())
            .collect();
        assert_eq!(missing, ["Replicating Directory Changes All"]);
        // Another SID holds nothing; a deny before the allow wins.
        let other: Sid = "S-1-5-21-1-2-3-999".parse().unwrap();
        assert_eq!(
            evaluate(&dacl, &[other], &reqs[0], &g),
            Holding::Missing(rights::CONTROL_ACCESS)
        );
        let mut deny = Ace::allow(sid.clone(), rights::CONTROL_ACCESS, None, None, 0);
        deny.ace_type = sd::ACCESS_DENIED;
        let mut with_deny = dacl.clone();
        with_deny.aces.insert(0, deny);
        assert_eq!(
            evaluate(&with_deny, std::slice::from_ref(&sid), &reqs[0], &g),
            Holding::Denied(rights::CONTROL_ACCESS)
        );
        // Full control through a group counts for everything on the domain root.
        let admins: Sid = "S-1-5-32-544".parse().unwrap();
        let full = Acl {
            revision: 4,
            aces: vec![Ace::allow(
                admins.clone(),
                rights::FULL_CONTROL,
                None,
                None,
                sd::CONTAINER_INHERIT,
            )],
            trailing: Vec::new(),
        };
        for r in reqs
            .iter()
            .filter(|r| !matches!(r.target, Target::Ou(_) | Target::RegisteredDevices))
        {
            assert_eq!(
                evaluate(&full, &[sid.clone(), admins.clone()], r, &g),
                Holding::Granted,
                "{r:?}"
            );
        }
    }

    #[test]
    fn account_filters_cover_the_bind_name_forms() {
        assert_eq!(
            account_filter("LAB\\svc"),
            "(&(objectClass=user)(sAMAccountName=svc))"
        );
        assert_eq!(
            account_filter("svc@LAB.EXAMPLE"),
            "(&(objectClass=user)(|(userPrincipalName=svc@LAB.EXAMPLE)(sAMAccountName=svc)))"
        );
        assert_eq!(
            account_filter("a*b"),
            "(&(objectClass=user)(sAMAccountName=a\\2ab))"
        );
    }
}
