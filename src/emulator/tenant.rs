//! The emulated tenant's directory, in memory: organization, domains, users, groups and their
//! members, applications and service principals, soft-deleted items, and the change log that
//! delta queries read.
//!
//! Invariants: `userPrincipalName` (without case) and `onPremisesImmutableId` (with case: it is
//! base64) are unique among live users, and the SMTP address of a mail-enabled group among live
//! objects' `proxyAddresses` (case-insensitive), checked on create, update and restore; `mailNickname` alone is not unique
//! (Entra ID does not require it for users or security groups); `extension_*` properties are
//! written only when an application registered them for the object's kind, with a value of the
//! registered type; every change bumps one tenant-wide sequence number and the object's `seq`,
//! so a delta token is a sequence number; soft-deleted users and Microsoft 365 groups are kept 30
//! days and then purged (security groups are deleted at once, like Entra ID); a purge leaves a
//! tombstone for delta.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::error::GraphError;
use super::util::{iso8601, new_guid, now_secs};

/// Microsoft Graph's application id (its service principal is the resource of app roles).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Microsoft Graph application permissions the emulator knows: (value, app role id).
pub const GRAPH_APP_ROLES: &[(&str, &str)] = &[
    ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214"),
    ("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca"),
    ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b"),
    (
        "Group.ReadWrite.All",
        "62a82d76-70ea-41e2-9197-370581804d09",
    ),
    (
        "GroupMember.ReadWrite.All",
        "dbaae8cf-10b5-4b86-a4a1-f871c94c06a1",
    ),
    ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
    (
        "Directory.ReadWrite.All",
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    ),
    (
        "Application.ReadWrite.All",
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    ),
    (
        "Application.ReadWrite.OwnedBy",
        "18a4783c-866b-4cc7-a460-3d5e5662c884",
    ),
    (
        "Organization.Read.All",
        "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    ),
    ("Domain.Read.All", "dbb9058a-0e50-45d7-ae91-66909b5d4664"),
    (
        "OrgContact.Read.All",
        "e1a88a34-94c4-4418-be12-c87b00e26bea",
    ),
    (
        "Device.ReadWrite.All",
        "1138cb37-bd11-4084-a2b7-9f71582aeddb",
    ),
];

/// Soft-deleted items are purged after this many seconds (30 days).
pub const RETENTION_SECS: i64 = 30 * 24 * 3600;
/// At most this many `members@odata.bind` / `owners@odata.bind` entries per request.
pub const MAX_BIND: usize = 20;

/// Kinds of directory object the emulator stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// `microsoft.graph.user`.
    User,
    /// `microsoft.graph.group`.
    Group,
    /// `microsoft.graph.application`.
    Application,
    /// `microsoft.graph.servicePrincipal`.
    ServicePrincipal,
}

impl Kind {
    /// The OData type name without namespace.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Application => "application",
            Kind::ServicePrincipal => "servicePrincipal",
        }
    }
    /// Graph's resource name in messages (`User`, `Group`).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Application => "Application",
            Kind::ServicePrincipal => "ServicePrincipal",
        }
    }
}

/// One directory object.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Object {
    /// What it is.
    pub kind: Kind,
    /// Its properties as Graph returns them (including `id`).
    pub props: Map<String, Value>,
    /// Member ids (groups only), in insertion order.
    pub members: Vec<String>,
    /// Last change (tenant sequence number).
    pub seq: u64,
    /// Creation order.
    pub created: u64,
    /// Soft-deletion time (Unix seconds) when in the recycle bin.
    pub deleted_at: Option<i64>,
    /// Groups it belonged to when it was soft-deleted (restored with it).
    pub deleted_from: Vec<String>,
    /// The user's manager (users only).
    #[serde(default)]
    pub manager: Option<String>,
}

impl Object {
    /// The object id.
    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    fn str_prop(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(Value::as_str)
    }
}

/// A membership change, for `members@delta`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MemberChange {
    /// Sequence number of the change.
    pub seq: u64,
    /// The group.
    pub group: String,
    /// The member.
    pub member: String,
    /// Added (true) or removed (false).
    pub added: bool,
}

/// A registered client of the token endpoint (an application with credentials).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Client {
    /// The application (client) id.
    pub app_id: String,
    /// Client secrets that are accepted.
    pub secrets: Vec<String>,
    /// Registered certificates (DER).
    pub certificates: Vec<Vec<u8>>,
    /// Granted application permissions (`roles` claim).
    pub roles: Vec<String>,
}

/// The whole tenant.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tenant {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant short name (`contoso` of `contoso.onmicrosoft.com`).
    pub name: String,
    /// Domains as Graph returns them.
    pub domains: Vec<Map<String, Value>>,
    /// Organization properties that can change (`onPremisesSyncEnabled`, ...).
    pub organization: Map<String, Value>,
    /// Every object by id.
    pub objects: HashMap<String, Object>,
    /// Creation order.
    pub order: BTreeMap<u64, String>,
    /// Membership changes.
    pub member_log: Vec<MemberChange>,
    /// Purged objects: (seq, kind, id).
    pub purged: Vec<(u64, Kind, String)>,
    /// Token-endpoint clients by app id.
    pub clients: HashMap<String, Client>,
    /// App role assignments (application permissions granted to service principals).
    #[serde(default)]
    pub assignments: Vec<Map<String, Value>>,
    /// The tenant-wide change counter.
    pub seq: u64,
    /// Where to look for a user holding a unique value (not persisted; built on first use).
    #[serde(skip)]
    unique: UniqueIndex,
}

/// Candidate users per unique value: the lower-cased `userPrincipalName` and
/// `onPremisesImmutableId` (lower-cased too, so `$filter`'s case-insensitive `eq` can use it;
/// uniqueness re-checks the exact value). Entries are only ever added (on create and update), and every
/// candidate is checked against the object as it is now, so an entry that went stale (the
/// value changed, the object was deleted or purged) is harmless. Without it a create costs
/// a scan of the whole tenant, which made large exports measure the emulator, not hybridsync.
#[derive(Debug, Clone, Default)]
struct UniqueIndex {
    built: bool,
    upn: HashMap<String, Vec<String>>,
    immutable: HashMap<String, Vec<String>>,
}

impl UniqueIndex {
    fn add(&mut self, o: &Object) {
        if !self.built || o.kind != Kind::User {
            return;
        }
        let id = o.id().to_string();
        let put = |map: &mut HashMap<String, Vec<String>>, key: String| {
            let ids = map.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id.clone());
            }
        };
        if let Some(v) = o.str_prop("userPrincipalName") {
            put(&mut self.upn, v.to_lowercase());
        }
        if let Some(v) = o.str_prop("onPremisesImmutableId") {
            put(&mut self.immutable, v.to_lowercase());
        }
    }
}

/// User properties a client may write (besides `extension_*` directory extensions).
const USER_WRITABLE: &[&str] = &[
    "accountEnabled",
    "displayName",
    "mailNickname",
    "userPrincipalName",
    "passwordProfile",
    "onPremisesImmutableId",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "companyName",
    "officeLocation",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "businessPhones",
    "mobilePhone",
    "faxNumber",
    "employeeId",
    "employeeType",
    "preferredLanguage",
    "otherMails",
    "passwordPolicies",
    "usageLocation",
    "mail",
    "userType",
    "ageGroup",
    "consentProvidedForMinor",
    "employeeHireDate",
    "employeeLeaveDateTime",
    "onPremisesExtensionAttributes",
    "showInAddressList",
    "preferredName",
    "aboutMe",
    "birthday",
    "interests",
    "mySite",
    "pastProjects",
    "responsibilities",
    "schools",
    "skills",
    "identities",
    "employeeOrgData",
    "creationType",
    "externalUserState",
];
/// Properties Graph reports as read-only on users.
const USER_READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "proxyAddresses",
    "onPremisesSyncEnabled",
    "onPremisesSamAccountName",
    "onPremisesDistinguishedName",
    "onPremisesSecurityIdentifier",
    "onPremisesDomainName",
    "onPremisesUserPrincipalName",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "securityIdentifier",
    "imAddresses",
    "assignedLicenses",
    "assignedPlans",
    "provisionedPlans",
    "lastPasswordChangeDateTime",
];
const GROUP_WRITABLE: &[&str] = &[
    "displayName",
    "description",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "groupTypes",
    "visibility",
    "membershipRule",
    "membershipRuleProcessingState",
    "classification",
    "isAssignableToRole",
    "preferredDataLocation",
    "preferredLanguage",
    "theme",
];
const GROUP_READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "proxyAddresses",
    "mail",
    "onPremisesSyncEnabled",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesDomainName",
    "onPremisesNetBiosName",
    "onPremisesLastSyncDateTime",
    "securityIdentifier",
    "renewedDateTime",
    "expirationDateTime",
    "onPremisesProvisioningErrors",
];

/// The properties `GET /users` returns without `$select`.
pub const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The properties `GET /groups` returns without `$select`.
pub const GROUP_DEFAULT: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
    "onPremisesProvisioningErrors",
];

/// Extract the object id from an `@odata.id` / bind URL (`.../directoryObjects/{id}`).
pub fn id_from_ref(url: &str) -> String {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_start_matches("directoryObjects('")
        .trim_end_matches("')")
        .to_string()
}

impl Tenant {
    /// A fresh tenant with its initial `<name>.onmicrosoft.com` domain and any extra verified
    /// domains.
    pub fn new(tenant_id: &str, name: &str, extra_domains: &[String]) -> Self {
        let mut domains = vec![domain(&format!("{name}.onmicrosoft.com"), true, true)];
        for d in extra_domains {
            domains.push(domain(d, true, false));
        }
        let mut organization = Map::new();
        organization.insert("onPremisesSyncEnabled".into(), Value::Null);
        organization.insert("onPremisesLastSyncDateTime".into(), Value::Null);
        let mut t = Self {
            tenant_id: tenant_id.to_string(),
            name: name.to_string(),
            domains,
            organization,
            objects: HashMap::new(),
            order: BTreeMap::new(),
            member_log: Vec::new(),
            purged: Vec::new(),
            clients: HashMap::new(),
            assignments: Vec::new(),
            seq: 0,
            unique: UniqueIndex::default(),
        };
        let roles: Vec<Value> = GRAPH_APP_ROLES
            .iter()
            .map(|(value, id)| {
                json!({
                    "allowedMemberTypes": ["Application"], "id": id, "isEnabled": true,
                    "origin": "Application", "value": value, "displayName": value,
                    "description": format!("Application permission {value}"),
                })
            })
            .collect();
        let mut graph = Map::new();
        graph.insert("appId".into(), json!(GRAPH_APP_ID));
        graph.insert("displayName".into(), json!("Microsoft Graph"));
        graph.insert("servicePrincipalType".into(), json!("Application"));
        graph.insert("accountEnabled".into(), json!(true));
        graph.insert("appRoles".into(), Value::Array(roles));
        t.insert(Kind::ServicePrincipal, graph);
        t
    }

    /// The initial domain name.
    pub fn initial_domain(&self) -> String {
        format!("{}.onmicrosoft.com", self.name)
    }

    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `GET /organization` single entry.
    pub fn organization(&self) -> Value {
        let verified: Vec<Value> = self
            .domains
            .iter()
            .filter(|d| d.get("isVerified") == Some(&Value::Bool(true)))
            .map(|d| {
                json!({
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": d.get("isDefault"),
                    "isInitial": d.get("isInitial"),
                    "name": d.get("id"),
                    "type": "Managed",
                })
            })
            .collect();
        let mut org = json!({
            "id": self.tenant_id,
            "displayName": self.name,
            "tenantType": "AAD",
            "countryLetterCode": "US",
            "preferredLanguage": "en",
            "createdDateTime": "2024-01-01T00:00:00Z",
            "businessPhones": [],
            "technicalNotificationMails": [],
            "verifiedDomains": verified,
            "assignedPlans": [],
        });
        if let Some(m) = org.as_object_mut() {
            for (k, v) in &self.organization {
                m.insert(k.clone(), v.clone());
            }
        }
        org
    }

    /// Purge soft-deleted items older than the retention.
    pub fn expire(&mut self) {
        let now = now_secs();
        let expired: Vec<String> = self
            .objects
            .values()
            .filter(|o| o.deleted_at.is_some_and(|t| now - t >= RETENTION_SECS))
            .map(|o| o.id().to_string())
            .collect();
        for id in expired {
            self.purge(&id);
        }
    }

    /// A live object of a kind.
    pub fn live(&self, kind: Kind, id: &str) -> Result<&Object, GraphError> {
        self.objects
            .get(id)
            .filter(|o| o.kind == kind && o.deleted_at.is_none())
            .or_else(|| {
                // Users are addressable by UPN too.
                (kind == Kind::User)
                    .then(|| {
                        self.objects.values().find(|o| {
                            o.kind == Kind::User
                                && o.deleted_at.is_none()
                                && o.str_prop("userPrincipalName")
                                    .is_some_and(|u| u.eq_ignore_ascii_case(id))
                        })
                    })
                    .flatten()
            })
            .ok_or_else(|| GraphError::not_found(id))
    }

    /// Live objects of a kind in creation order.
    pub fn list(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.order
            .values()
            .filter_map(|id| self.objects.get(id))
            .filter(move |o| o.kind == kind && o.deleted_at.is_none())
    }

    /// The live users a `$filter` can only match through an equality on `userPrincipalName`
    /// or `onPremisesImmutableId` (`eq`, `in`, under `and`/`or`), in [`Tenant::list`]'s order;
    /// `None` when the filter does not narrow that way or the index is not built yet (the
    /// caller then scans). A superset: the caller still applies the whole filter.
    pub fn indexed_users(&self, expr: &super::filter::Expr) -> Option<Vec<&Object>> {
        use super::filter::{Expr, Op};
        fn ids<'a>(index: &'a UniqueIndex, e: &Expr, out: &mut Vec<&'a String>) -> bool {
            let map = |p: &str| {
                if p.eq_ignore_ascii_case("userPrincipalName") {
                    Some(&index.upn)
                } else if p.eq_ignore_ascii_case("onPremisesImmutableId") {
                    Some(&index.immutable)
                } else {
                    None
                }
            };
            let mut add = |m: &'a HashMap<String, Vec<String>>, v: &Value| match v.as_str() {
                Some(v) => {
                    out.extend(m.get(&v.to_lowercase()).into_iter().flatten());
                    true
                }
                None => false,
            };
            match e {
                Expr::Cmp(p, Op::Eq, v) => map(p).is_some_and(|m| add(m, v)),
                Expr::In(p, vs) => map(p).is_some_and(|m| vs.iter().all(|v| add(m, v))),
                Expr::And(a, b) => {
                    let mut left = Vec::new();
                    if ids(index, a, &mut left) {
                        out.extend(left);
                        true
                    } else {
                        ids(index, b, out)
                    }
                }
                Expr::Or(a, b) => ids(index, a, out) && ids(index, b, out),
                _ => false,
            }
        }
        if !self.unique.built {
            return None;
        }
        let mut found = Vec::new();
        if !ids(&self.unique, expr, &mut found) {
            return None;
        }
        let mut objs: Vec<&Object> = found
            .into_iter()
            .filter_map(|id| self.objects.get(id))
            .filter(|o| o.kind == Kind::User && o.deleted_at.is_none())
            .collect();
        objs.sort_by_key(|o| o.created);
        objs.dedup_by_key(|o| o.created);
        Some(objs)
    }

    /// Soft-deleted objects of a kind.
    pub fn deleted(&self, kind: Option<Kind>) -> impl Iterator<Item = &Object> {
        self.order
            .values()
            .filter_map(|id| self.objects.get(id))
            .filter(move |o| o.deleted_at.is_some() && kind.is_none_or(|k| k == o.kind))
    }

    /// Uniqueness as Entra ID enforces it: users by `userPrincipalName` and
    /// `onPremisesImmutableId`; a mail-enabled (Microsoft 365) group by the SMTP address its
    /// `mailNickname` gives, against every live object's `proxyAddresses`. `mailNickname` itself
    /// need not be unique (users, security groups).
    fn check_unique(
        &mut self,
        kind: Kind,
        props: &Map<String, Value>,
        except: &str,
    ) -> Result<(), GraphError> {
        if kind == Kind::User && !self.unique.built {
            self.unique.built = true;
            let mut index = std::mem::take(&mut self.unique);
            for o in self.objects.values() {
                index.add(o);
            }
            self.unique = index;
        }
        let live_others = || {
            self.objects
                .values()
                .filter(move |o| o.deleted_at.is_none() && o.id() != except)
        };
        if kind == Kind::User {
            for key in ["userPrincipalName", "onPremisesImmutableId"] {
                let Some(v) = props.get(key).and_then(Value::as_str) else {
                    continue;
                };
                // The UPN compares without case; the immutable ID is case-sensitive
                // (sync-engine.md 3.1: base64 values differ by case).
                let (same, candidates): (&dyn Fn(&str) -> bool, _) =
                    if key == "onPremisesImmutableId" {
                        (
                            &|x: &str| x == v,
                            self.unique.immutable.get(&v.to_lowercase()),
                        )
                    } else {
                        (
                            &|x: &str| x.eq_ignore_ascii_case(v),
                            self.unique.upn.get(&v.to_lowercase()),
                        )
                    };
                let clash = candidates.into_iter().flatten().any(|id| {
                    self.objects.get(id).is_some_and(|o| {
                        o.deleted_at.is_none()
                            && o.id() != except
                            && o.kind == Kind::User
                            && o.str_prop(key).is_some_and(same)
                    })
                });
                if clash {
                    return Err(GraphError::conflict(key));
                }
            }
        }
        if kind == Kind::Group && props.get("mailEnabled") == Some(&Value::Bool(true)) {
            let Some(nick) = props.get("mailNickname").and_then(Value::as_str) else {
                return Ok(());
            };
            let address = format!("smtp:{nick}@{}", self.initial_domain());
            let clash = live_others().any(|o| {
                o.props
                    .get("proxyAddresses")
                    .and_then(Value::as_array)
                    .is_some_and(|xs| {
                        xs.iter()
                            .filter_map(Value::as_str)
                            .any(|x| x.eq_ignore_ascii_case(&address))
                    })
            });
            if clash {
                return Err(GraphError::conflict("proxyAddresses"));
            }
        }
        Ok(())
    }

    fn check_upn_domain(&self, upn: &str) -> Result<(), GraphError> {
        let domain = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        let ok = !upn.starts_with('@')
            && self.domains.iter().any(|d| {
                d.get("isVerified") == Some(&Value::Bool(true))
                    && d.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(domain))
            });
        if ok {
            Ok(())
        } else {
            Err(GraphError::bad_request(
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
            ))
        }
    }

    /// Validate written properties against the kind's schema (read-only, unknown).
    fn check_writable(&self, kind: Kind, body: &Map<String, Value>) -> Result<(), GraphError> {
        let (writable, read_only) = match kind {
            Kind::User => (USER_WRITABLE, USER_READ_ONLY),
            Kind::Group => (GROUP_WRITABLE, GROUP_READ_ONLY),
            _ => return Ok(()),
        };
        for key in body.keys() {
            if key.starts_with('@') || key.ends_with("@odata.bind") {
                continue;
            }
            if read_only.iter().any(|r| r.eq_ignore_ascii_case(key)) {
                return Err(GraphError::read_only(key));
            }
            if key.starts_with("extension_") {
                self.check_extension_value(kind, key, body.get(key).unwrap_or(&Value::Null))?;
                continue;
            }
            if !writable.iter().any(|w| w == key) {
                return Err(unknown_property(key));
            }
        }
        if let Some(v) = body.get("onPremisesImmutableId").and_then(Value::as_str)
            && (v.contains('$') || v.contains('_'))
        {
            return Err(GraphError::bad_request(
                "Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.",
            ));
        }
        Ok(())
    }

    /// The directory extension registered (by a live application) under this name.
    pub fn extension_property(&self, name: &str) -> Option<&Map<String, Value>> {
        self.list(Kind::Application).find_map(|a| {
            a.props
                .get("extensionProperties")
                .and_then(Value::as_array)?
                .iter()
                .filter_map(Value::as_object)
                .find(|x| {
                    x.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
        })
    }

    /// Whether `name` is an extension registered for objects of `kind`.
    pub fn extension_applies(&self, kind: Kind, name: &str) -> bool {
        self.extension_property(name).is_some_and(|x| {
            x.get("targetObjects")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(kind.resource())))
        })
    }

    /// A value written to an `extension_*` property: the extension must be registered for this
    /// kind of object, and the value (each value when multi-valued) must have its `dataType`.
    /// `null` clears it.
    fn check_extension_value(
        &self,
        kind: Kind,
        key: &str,
        value: &Value,
    ) -> Result<(), GraphError> {
        if !self.extension_applies(kind, key) {
            return Err(unknown_property(key));
        }
        let ext = self.extension_property(key).cloned().unwrap_or_default();
        let data_type = ext
            .get("dataType")
            .and_then(Value::as_str)
            .unwrap_or("String");
        let multi = ext.get("isMultiValued") == Some(&Value::Bool(true));
        let invalid = || {
            GraphError::bad_request(format!(
                "Invalid value specified for property '{key}' of resource '{}'.",
                kind.resource()
            ))
        };
        let one_ok = |v: &Value| match data_type {
            "String" => v.as_str().is_some_and(|s| s.chars().count() <= 256),
            "Boolean" => v.is_boolean(),
            "Integer" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "LargeInteger" => v.as_i64().is_some(),
            "DateTime" => v.as_str().is_some_and(looks_like_datetime),
            "Binary" => v
                .as_str()
                .and_then(super::util::b64std_decode)
                .is_some_and(|b| b.len() <= 256),
            _ => false,
        };
        let ok = match value {
            Value::Null => true,
            Value::Array(xs) if multi => xs.iter().all(one_ok),
            v if !multi => one_ok(v),
            _ => false,
        };
        if ok { Ok(()) } else { Err(invalid()) }
    }

    fn resolve_binds(&self, body: &Map<String, Value>) -> Result<Vec<String>, GraphError> {
        let mut out = Vec::new();
        for key in ["members@odata.bind", "owners@odata.bind"] {
            let Some(v) = body.get(key) else { continue };
            let urls = v.as_array().ok_or_else(|| {
                GraphError::bad_request(format!("Invalid value for '{key}': expected an array."))
            })?;
            if urls.len() > MAX_BIND {
                return Err(GraphError::bad_request(format!(
                    "The request exceeded the maximum of {MAX_BIND} references in '{key}'."
                )));
            }
            if key.starts_with("owners") {
                continue;
            }
            for u in urls {
                let id = id_from_ref(u.as_str().unwrap_or_default());
                if self.objects.get(&id).is_none_or(|o| o.deleted_at.is_some()) {
                    return Err(GraphError::not_found(&id));
                }
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Store a new object (the id is generated unless `props` has one); returns the id.
    pub fn insert(&mut self, kind: Kind, props: Map<String, Value>) -> String {
        let seq = self.bump();
        let id = props
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(new_guid, str::to_string);
        let mut props = props;
        props.insert("id".into(), json!(id));
        self.order.insert(seq, id.clone());
        self.objects.insert(
            id.clone(),
            Object {
                kind,
                props,
                members: Vec::new(),
                seq,
                created: seq,
                deleted_at: None,
                deleted_from: Vec::new(),
                manager: None,
            },
        );
        if let Some(o) = self.objects.get(&id) {
            self.unique.add(o);
        }
        id
    }

    /// `POST /users`.
    pub fn create_user(&mut self, body: Map<String, Value>) -> Result<&Object, GraphError> {
        self.check_writable(Kind::User, &body)?;
        for required in [
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "passwordProfile",
        ] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::bad_request(format!(
                    "Invalid value specified for property '{required}' of resource 'User'."
                )));
            }
        }
        let upn = body
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.check_upn_domain(&upn)?;
        self.check_unique(Kind::User, &body, "")?;
        let mut props = body;
        props.remove("passwordProfile");
        drop_cleared_extensions(&mut props);
        props.insert("createdDateTime".into(), json!(iso8601(now_secs())));
        props.entry("businessPhones").or_insert(json!([]));
        props.insert("proxyAddresses".into(), proxy_for(props.get("mail")));
        props.insert("onPremisesSyncEnabled".into(), Value::Null);
        props.entry("userType").or_insert(json!("Member"));
        props.insert("deletedDateTime".into(), Value::Null);
        let id = self.insert(Kind::User, props);
        self.live(Kind::User, &id)
    }

    /// A cloud-only user from a seed file: a `POST /users` body that may also carry
    /// `proxyAddresses` (read-only in Graph; Exchange Online sets them in a real tenant), so
    /// soft-match tests can find a user by a secondary SMTP address. `passwordProfile` may be
    /// left out.
    pub fn seed_user(&mut self, mut body: Map<String, Value>) -> Result<String, GraphError> {
        let proxies = body.remove("proxyAddresses");
        body.entry("passwordProfile")
            .or_insert(json!({"password": new_guid(), "forceChangePasswordNextSignIn": false}));
        body.entry("accountEnabled").or_insert(json!(true));
        let id = self
            .create_user(body)?
            .props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let (Some(proxies @ Value::Array(_)), Some(o)) = (proxies, self.objects.get_mut(&id)) {
            o.props.insert("proxyAddresses".into(), proxies);
        }
        Ok(id)
    }

    /// `POST /groups`.
    pub fn create_group(&mut self, body: Map<String, Value>) -> Result<&Object, GraphError> {
        self.check_writable(Kind::Group, &body)?;
        for required in [
            "displayName",
            "mailEnabled",
            "mailNickname",
            "securityEnabled",
        ] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::bad_request(format!(
                    "Invalid value specified for property '{required}' of resource 'Group'."
                )));
            }
        }
        let unified = body
            .get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "Unified"));
        if body.get("mailEnabled") == Some(&Value::Bool(true)) && !unified {
            return Err(GraphError::bad_request(
                "The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or is set to false.",
            ));
        }
        self.check_unique(Kind::Group, &body, "")?;
        let members = self.resolve_binds(&body)?;
        let mut props: Map<String, Value> = body
            .into_iter()
            .filter(|(k, _)| !k.ends_with("@odata.bind"))
            .collect();
        drop_cleared_extensions(&mut props);
        props.insert("createdDateTime".into(), json!(iso8601(now_secs())));
        props.entry("groupTypes").or_insert(json!([]));
        props.entry("description").or_insert(Value::Null);
        let mail = unified.then(|| {
            let nick = props
                .get("mailNickname")
                .and_then(Value::as_str)
                .unwrap_or_default();
            json!(format!("{nick}@{}", self.initial_domain()))
        });
        props.insert("proxyAddresses".into(), proxy_for(mail.as_ref()));
        props.insert("mail".into(), mail.unwrap_or(Value::Null));
        props.insert("onPremisesSyncEnabled".into(), Value::Null);
        props.insert("deletedDateTime".into(), Value::Null);
        props.insert(
            "securityIdentifier".into(),
            json!(format!("S-1-12-1-{}", self.seq + 1)),
        );
        props.insert(
            "visibility".into(),
            if unified {
                json!("Public")
            } else {
                Value::Null
            },
        );
        let id = self.insert(Kind::Group, props);
        for m in members {
            self.add_member(&id, &m)?;
        }
        self.live(Kind::Group, &id)
    }

    /// `PATCH /users/{id}` or `PATCH /groups/{id}` (with `members@odata.bind`).
    pub fn update(
        &mut self,
        kind: Kind,
        id: &str,
        body: Map<String, Value>,
    ) -> Result<(), GraphError> {
        let id = self.live(kind, id)?.id().to_string();
        if kind == Kind::Application || kind == Kind::ServicePrincipal {
            let mut body = body;
            if kind == Kind::Application
                && let Some(keys) = body.get_mut("keyCredentials")
            {
                let certs = register_key_credentials(keys)?;
                let app_id = self
                    .live(kind, &id)?
                    .props
                    .get("appId")
                    .and_then(Value::as_str);
                let app_id = app_id.unwrap_or_default().to_string();
                self.client_mut(&app_id).certificates = certs;
            }
            let seq = self.bump();
            if let Some(o) = self.objects.get_mut(&id) {
                for (k, v) in body {
                    o.props.insert(k, v);
                }
                o.seq = seq;
            }
            return Ok(());
        }
        self.check_writable(kind, &body)?;
        if kind == Kind::User
            && let Some(upn) = body.get("userPrincipalName").and_then(Value::as_str)
        {
            self.check_upn_domain(upn)?;
        }
        let mut merged = self.live(kind, &id)?.props.clone();
        for (k, v) in &body {
            if !k.ends_with("@odata.bind") && k != "passwordProfile" {
                merged.insert(k.clone(), v.clone());
            }
        }
        self.check_unique(kind, &merged, &id)?;
        let members = self.resolve_binds(&body)?;
        for m in &members {
            if self.objects.get(&id).is_some_and(|g| g.members.contains(m)) {
                return Err(member_exists());
            }
        }
        if kind == Kind::User && body.contains_key("mail") {
            merged.insert("proxyAddresses".into(), proxy_for(merged.get("mail")));
        }
        let seq = self.bump();
        if let Some(o) = self.objects.get_mut(&id) {
            drop_cleared_extensions(&mut merged);
            o.props = merged;
            o.seq = seq;
            self.unique.add(o);
        }
        for m in members {
            self.add_member(&id, &m)?;
        }
        Ok(())
    }

    /// `POST /groups/{id}/members/$ref`.
    pub fn add_member(&mut self, group: &str, member: &str) -> Result<(), GraphError> {
        let g = self.live(Kind::Group, group)?;
        let group = g.id().to_string();
        let unified = g
            .props
            .get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "Unified"));
        if g.members.iter().any(|m| m == member) {
            return Err(member_exists());
        }
        let m = self
            .objects
            .get(member)
            .filter(|o| o.deleted_at.is_none())
            .ok_or_else(|| GraphError::not_found(member))?;
        if unified && m.kind != Kind::User {
            return Err(GraphError::bad_request(
                "Microsoft 365 groups can contain only users.",
            ));
        }
        if m.id() == group {
            return Err(GraphError::bad_request(
                "A group cannot be a member of itself.",
            ));
        }
        let seq = self.bump();
        if let Some(g) = self.objects.get_mut(&group) {
            g.members.push(member.to_string());
            g.seq = seq;
        }
        self.member_log.push(MemberChange {
            seq,
            group,
            member: member.to_string(),
            added: true,
        });
        Ok(())
    }

    /// `DELETE /groups/{id}/members/{member}/$ref`.
    pub fn remove_member(&mut self, group: &str, member: &str) -> Result<(), GraphError> {
        let group = self.live(Kind::Group, group)?.id().to_string();
        let present = self
            .objects
            .get(&group)
            .is_some_and(|g| g.members.iter().any(|m| m == member));
        if !present {
            return Err(GraphError::not_found(member));
        }
        let seq = self.bump();
        if let Some(g) = self.objects.get_mut(&group) {
            g.members.retain(|m| m != member);
            g.seq = seq;
        }
        self.member_log.push(MemberChange {
            seq,
            group,
            member: member.to_string(),
            added: false,
        });
        Ok(())
    }

    fn groups_of(&self, member: &str) -> Vec<String> {
        self.list(Kind::Group)
            .filter(|g| g.members.iter().any(|m| m == member))
            .map(|g| g.id().to_string())
            .collect()
    }

    /// `DELETE /users/{id}` etc.: soft delete users, Microsoft 365 groups and applications;
    /// hard delete security groups.
    pub fn delete(&mut self, kind: Kind, id: &str) -> Result<(), GraphError> {
        let o = self.live(kind, id)?;
        let id = o.id().to_string();
        let unified = o
            .props
            .get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "Unified"));
        let groups = self.groups_of(&id);
        for g in &groups {
            self.remove_member(g, &id)?;
        }
        if kind == Kind::Group && !unified || kind == Kind::ServicePrincipal {
            self.purge(&id);
            return Ok(());
        }
        let seq = self.bump();
        let now = now_secs();
        if let Some(o) = self.objects.get_mut(&id) {
            o.deleted_at = Some(now);
            o.deleted_from = groups;
            o.seq = seq;
            o.props
                .insert("deletedDateTime".into(), json!(iso8601(now)));
        }
        Ok(())
    }

    /// Remove an object for good (leaves a delta tombstone).
    pub fn purge(&mut self, id: &str) {
        if let Some(o) = self.objects.remove(id) {
            self.order.remove(&o.created);
            let seq = self.bump();
            self.purged.push((seq, o.kind, id.to_string()));
            for g in self.objects.values_mut() {
                g.members.retain(|m| m != id);
            }
        }
    }

    /// `POST /directory/deletedItems/{id}/restore`.
    pub fn restore(&mut self, id: &str) -> Result<&Object, GraphError> {
        let o = self
            .objects
            .get(id)
            .filter(|o| o.deleted_at.is_some())
            .ok_or_else(|| GraphError::not_found(id))?;
        let (kind, props, groups) = (o.kind, o.props.clone(), o.deleted_from.clone());
        self.check_unique(kind, &props, id)?;
        let seq = self.bump();
        if let Some(o) = self.objects.get_mut(id) {
            o.deleted_at = None;
            o.deleted_from.clear();
            o.seq = seq;
            o.props.insert("deletedDateTime".into(), Value::Null);
        }
        for g in groups {
            if self.live(Kind::Group, &g).is_ok() {
                self.add_member(&g, id)?;
            }
        }
        self.objects
            .get(id)
            .ok_or_else(|| GraphError::not_found(id))
    }

    /// Register an application for the token endpoint (and as a directory object).
    pub fn register_client(&mut self, display_name: &str, client: Client) {
        let mut props = Map::new();
        props.insert("appId".into(), json!(client.app_id));
        props.insert("displayName".into(), json!(display_name));
        props.insert("createdDateTime".into(), json!(iso8601(now_secs())));
        props.insert("signInAudience".into(), json!("AzureADMyOrg"));
        props.insert("extensionProperties".into(), json!([]));
        let key_credentials: Vec<Value> = client
            .certificates
            .iter()
            .map(|c| {
                json!({"type": "AsymmetricX509Cert", "usage": "Verify", "keyId": new_guid(),
                       "customKeyIdentifier": super::util::b64std(&super::pki::thumbprints(c).0)})
            })
            .collect();
        props.insert("keyCredentials".into(), json!(key_credentials));
        props.insert("passwordCredentials".into(), json!([]));
        self.insert(Kind::Application, props);
        let mut sp = Map::new();
        sp.insert("appId".into(), json!(client.app_id));
        sp.insert("displayName".into(), json!(display_name));
        sp.insert("servicePrincipalType".into(), json!("Application"));
        sp.insert("accountEnabled".into(), json!(true));
        let sp_id = self.insert(Kind::ServicePrincipal, sp);
        let graph = self
            .list(Kind::ServicePrincipal)
            .find(|o| o.props.get("appId").and_then(Value::as_str) == Some(GRAPH_APP_ID))
            .map(|o| o.id().to_string());
        for role in &client.roles {
            let known = GRAPH_APP_ROLES.iter().find(|(v, _)| v == role);
            if let (Some((_, role_id)), Some(graph)) = (known, &graph) {
                let mut a = Map::new();
                a.insert("id".into(), json!(new_guid()));
                a.insert("appRoleId".into(), json!(role_id));
                a.insert("createdDateTime".into(), json!(iso8601(now_secs())));
                a.insert("principalDisplayName".into(), json!(display_name));
                a.insert("principalId".into(), json!(sp_id));
                a.insert("principalType".into(), json!("ServicePrincipal"));
                a.insert("resourceDisplayName".into(), json!("Microsoft Graph"));
                a.insert("resourceId".into(), json!(graph));
                self.assignments.push(a);
            }
        }
        self.clients.insert(client.app_id.clone(), client);
    }
}

/// The token-endpoint client for an app id, created without credentials when missing.
impl Tenant {
    /// `PUT /users/{id}/manager/$ref` (`None` for `DELETE`).
    pub fn set_manager(&mut self, user: &str, manager: Option<&str>) -> Result<(), GraphError> {
        let uid = self.live(Kind::User, user)?.id().to_string();
        if let Some(m) = manager {
            let mo = self.objects.get(m).filter(|o| o.deleted_at.is_none());
            if mo.is_none_or(|o| o.kind != Kind::User) {
                return Err(GraphError::not_found(m));
            }
            if m == uid {
                return Err(GraphError::bad_request(
                    "A user cannot be their own manager.",
                ));
            }
        } else if self.objects.get(&uid).is_some_and(|o| o.manager.is_none()) {
            return Err(GraphError::not_found(&format!("{uid}/manager")));
        }
        let seq = self.bump();
        if let Some(o) = self.objects.get_mut(&uid) {
            o.manager = manager.map(str::to_string);
            o.seq = seq;
        }
        Ok(())
    }

    pub(crate) fn client_mut(&mut self, app_id: &str) -> &mut Client {
        self.clients
            .entry(app_id.to_string())
            .or_insert_with(|| Client {
                app_id: app_id.to_string(),
                secrets: Vec::new(),
                certificates: Vec::new(),
                roles: Vec::new(),
            })
    }

    /// `POST /applications/{id}/addKey` after its proof was checked: validate the new
    /// `keyCredential` (`AsymmetricX509Cert` with usage `Verify`, or `X509CertAndPassword` with
    /// usage `Sign` and a `passwordCredential.secretText`), append it to the application's
    /// `keyCredentials` (without `key`, as Graph answers) and, for a `Verify` key, accept the
    /// certificate for client assertions. Returns the stored entry.
    pub fn add_key_credential(
        &mut self,
        app: &str,
        kc: &Map<String, Value>,
        password: Option<&Value>,
    ) -> Result<Map<String, Value>, GraphError> {
        let invalid = |p: &str| {
            GraphError::bad_request(format!(
                "Invalid value specified for property '{p}' of resource 'Application'."
            ))
        };
        let kind = kc.get("type").and_then(Value::as_str).unwrap_or_default();
        let usage = kc.get("usage").and_then(Value::as_str).unwrap_or_default();
        match (kind, usage) {
            ("AsymmetricX509Cert", "Verify") => {}
            ("X509CertAndPassword", "Sign") => {
                let secret = password
                    .and_then(|p| p.get("secretText"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if secret.is_empty() {
                    return Err(invalid("passwordCredential"));
                }
            }
            _ => return Err(invalid("keyCredential")),
        }
        let der = kc
            .get("key")
            .and_then(Value::as_str)
            .and_then(super::util::b64std_decode)
            .filter(|d| super::util::cert_rsa_public_key(d).is_some())
            .ok_or_else(|| invalid("keyCredential"))?;
        let app_id = self
            .live(Kind::Application, app)?
            .str_prop("appId")
            .unwrap_or_default()
            .to_string();
        let now = iso8601(now_secs());
        let field = |k: &str| kc.get(k).cloned().unwrap_or(Value::Null);
        let mut entry = Map::new();
        entry.insert(
            "customKeyIdentifier".into(),
            json!(super::util::b64std(&super::pki::thumbprints(&der).0)),
        );
        entry.insert("displayName".into(), field("displayName"));
        entry.insert("endDateTime".into(), field("endDateTime"));
        entry.insert("key".into(), Value::Null);
        entry.insert("keyId".into(), json!(new_guid()));
        entry.insert(
            "startDateTime".into(),
            kc.get("startDateTime").cloned().unwrap_or(json!(now)),
        );
        entry.insert("type".into(), json!(kind));
        entry.insert("usage".into(), json!(usage));
        let seq = self.bump();
        if let Some(o) = self.objects.get_mut(app) {
            let keys = o.props.entry("keyCredentials").or_insert_with(|| json!([]));
            if let Some(xs) = keys.as_array_mut() {
                xs.push(Value::Object(entry.clone()));
            }
            o.seq = seq;
        }
        if usage == "Verify" {
            self.client_mut(&app_id).certificates.push(der);
        }
        Ok(entry)
    }

    /// `POST /applications/{id}/removeKey` after its proof was checked: drop the key credential
    /// and stop accepting its certificate.
    pub fn remove_key_credential(&mut self, app: &str, key_id: &str) -> Result<(), GraphError> {
        let o = self.live(Kind::Application, app)?;
        let app_id = o.str_prop("appId").unwrap_or_default().to_string();
        let keys = o
            .props
            .get("keyCredentials")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(pos) = keys
            .iter()
            .position(|k| k.get("keyId").and_then(Value::as_str) == Some(key_id))
        else {
            return Err(GraphError::not_found(key_id));
        };
        let thumb = keys[pos]
            .get("customKeyIdentifier")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut keys = keys;
        keys.remove(pos);
        let seq = self.bump();
        if let Some(o) = self.objects.get_mut(app) {
            o.props.insert("keyCredentials".into(), Value::Array(keys));
            o.seq = seq;
        }
        self.client_mut(&app_id)
            .certificates
            .retain(|c| super::util::b64std(&super::pki::thumbprints(c).0) != thumb);
        Ok(())
    }

    /// `POST /servicePrincipals/{id}/appRoleAssignments`: grant an application permission.
    pub fn assign_app_role(
        &mut self,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, GraphError> {
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (principal, resource, role_id) = (
            field("principalId"),
            field("resourceId"),
            field("appRoleId"),
        );
        let p = self.live(Kind::ServicePrincipal, &principal)?;
        let (p_app, p_name) = (
            p.props
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            p.props.get("displayName").cloned().unwrap_or(Value::Null),
        );
        let r = self.live(Kind::ServicePrincipal, &resource)?;
        let r_name = r.props.get("displayName").cloned().unwrap_or(Value::Null);
        let value = r
            .props
            .get("appRoles")
            .and_then(Value::as_array)
            .and_then(|roles| {
                roles
                    .iter()
                    .find(|x| x.get("id").and_then(Value::as_str) == Some(&role_id))
            })
            .and_then(|x| x.get("value").and_then(Value::as_str))
            .map(str::to_string)
            .ok_or_else(|| {
                GraphError::bad_request("Permission being assigned was not found on application")
            })?;
        let exists = self.assignments.iter().any(|a| {
            a.get("principalId") == Some(&json!(principal))
                && a.get("resourceId") == Some(&json!(resource))
                && a.get("appRoleId") == Some(&json!(role_id))
        });
        if exists {
            return Err(GraphError::bad_request(
                "Permission being assigned already exists on the object",
            ));
        }
        let a = match json!({
            "id": new_guid(), "deletedDateTime": null, "appRoleId": role_id,
            "createdDateTime": iso8601(now_secs()), "principalDisplayName": p_name,
            "principalId": principal, "principalType": "ServicePrincipal",
            "resourceDisplayName": r_name, "resourceId": resource,
        }) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.assignments.push(a.clone());
        let c = self.client_mut(&p_app);
        if !c.roles.contains(&value) {
            c.roles.push(value);
        }
        Ok(a)
    }

    /// `DELETE /servicePrincipals/{id}/appRoleAssignments/{assignment}`.
    pub fn unassign_app_role(&mut self, sp: &str, assignment: &str) -> Result<(), GraphError> {
        let pos = self
            .assignments
            .iter()
            .position(|a| {
                a.get("id").and_then(Value::as_str) == Some(assignment)
                    && (a.get("principalId").and_then(Value::as_str) == Some(sp)
                        || a.get("resourceId").and_then(Value::as_str) == Some(sp))
            })
            .ok_or_else(|| GraphError::not_found(assignment))?;
        let a = self.assignments.remove(pos);
        let field = |k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let role = self
            .objects
            .get(&field("resourceId"))
            .and_then(|r| r.props.get("appRoles").and_then(Value::as_array).cloned())
            .and_then(|roles| {
                roles
                    .into_iter()
                    .find(|x| x.get("id").and_then(Value::as_str) == Some(&field("appRoleId")))
            })
            .and_then(|x| x.get("value").and_then(Value::as_str).map(str::to_string));
        let app = self.objects.get(&field("principalId")).and_then(|p| {
            p.props
                .get("appId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if let (Some(role), Some(app)) = (role, app) {
            self.client_mut(&app).roles.retain(|r| *r != role);
        }
        Ok(())
    }
}

/// Validate `keyCredentials` written to an application: each `AsymmetricX509Cert` needs its
/// certificate in `key` (base64 DER). Returns the certificates and replaces `key` with null as
/// Graph does on read.
fn register_key_credentials(keys: &mut Value) -> Result<Vec<Vec<u8>>, GraphError> {
    let invalid = || {
        GraphError::bad_request(
            "Invalid value specified for property 'keyCredentials' of resource 'Application'.",
        )
    };
    let items = keys.as_array_mut().ok_or_else(invalid)?;
    let mut certs = Vec::new();
    for k in items.iter_mut() {
        let m = k.as_object_mut().ok_or_else(invalid)?;
        let der = m
            .get("key")
            .and_then(Value::as_str)
            .and_then(super::util::b64std_decode)
            .filter(|d| super::util::cert_rsa_public_key(d).is_some())
            .ok_or_else(invalid)?;
        m.insert(
            "customKeyIdentifier".into(),
            json!(super::util::b64std(&super::pki::thumbprints(&der).0)),
        );
        m.entry("keyId").or_insert_with(|| json!(new_guid()));
        m.entry("type").or_insert(json!("AsymmetricX509Cert"));
        m.entry("usage").or_insert(json!("Verify"));
        m.insert("key".into(), Value::Null);
        certs.push(der);
    }
    Ok(certs)
}

/// Graph's answer to a property that is neither declared nor a registered extension. The text
/// is the one Graph sends (seen in answers to `$select` and writes naming an unregistered
/// `extension_*`); the code is `Request_BadRequest` for writes.
pub fn unknown_property(name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property '{name}' does not exist as a declared property or extension property."
    ))
}

/// `2024-05-01T12:00:00Z` or with fractional seconds / an offset: the ISO 8601 shape Graph's
/// `DateTimeOffset` takes.
fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

/// A directory extension written as `null` is cleared: it is not stored, and reads leave it out.
fn drop_cleared_extensions(props: &mut Map<String, Value>) {
    props.retain(|k, v| !(k.starts_with("extension_") && v.is_null()));
}

fn member_exists() -> GraphError {
    GraphError::bad_request(
        "One or more added object references already exist for the following modified properties: 'members'.",
    )
}

fn proxy_for(mail: Option<&Value>) -> Value {
    match mail.and_then(Value::as_str) {
        Some(m) if !m.is_empty() => json!([format!("SMTP:{m}")]),
        _ => json!([]),
    }
}

fn domain(name: &str, verified: bool, initial: bool) -> Map<String, Value> {
    match json!({
        "id": name,
        "authenticationType": "Managed",
        "availabilityStatus": null,
        "isAdminManaged": true,
        "isDefault": initial,
        "isInitial": initial,
        "isRoot": true,
        "isVerified": verified,
        "passwordNotificationWindowInDays": 14,
        "passwordValidityPeriodInDays": 2147483647,
        "supportedServices": if verified { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!([]) },
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A domain entry as Graph returns it (for `POST /domains`).
pub fn new_domain(name: &str, verified: bool) -> Map<String, Value> {
    domain(name, verified, false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn user(upn: &str, immutable: Option<&str>) -> Map<String, Value> {
        let mut m = json!({
            "accountEnabled": true,
            "displayName": upn,
            "mailNickname": upn.split('@').next().unwrap(),
            "userPrincipalName": upn,
            "passwordProfile": {"password": "Pa55-word-1234", "forceChangePasswordNextSignIn": false},
        });
        if let Some(i) = immutable {
            m["onPremisesImmutableId"] = json!(i);
        }
        m.as_object().unwrap().clone()
    }

    fn patch(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn conflict_on(r: Result<impl std::fmt::Debug, GraphError>) -> String {
        let e = r.expect_err("a conflict");
        e.details.unwrap()[0]["target"].as_str().unwrap().to_owned()
    }

    #[test]
    fn indexed_user_lookups_find_what_a_scan_finds() {
        let mut t = Tenant::new("t1", "contoso", &[]);
        for (n, i) in [("a", "QUFB"), ("b", "qufb"), ("c", "Q0ND"), ("d", "RERE")] {
            t.create_user(user(&format!("{n}@contoso.onmicrosoft.com"), Some(i)))
                .unwrap();
        }
        let d = t
            .list(Kind::User)
            .find(|o| o.str_prop("onPremisesImmutableId") == Some("RERE"))
            .unwrap()
            .id()
            .to_string();
        t.delete(Kind::User, &d).unwrap();
        let scan = |t: &Tenant, e: &super::super::filter::Expr| -> Vec<String> {
            t.list(Kind::User)
                .filter(|o| e.matches(&o.props))
                .map(|o| o.id().to_string())
                .collect()
        };
        for f in [
            "userPrincipalName eq 'A@CONTOSO.onmicrosoft.com'",
            "onPremisesImmutableId eq 'QUFB'",
            "onPremisesImmutableId in ('qufb', 'Q0ND', 'RERE', 'nope')",
            "onPremisesImmutableId eq 'QUFB' and accountEnabled eq true",
            "accountEnabled eq true and userPrincipalName eq 'c@contoso.onmicrosoft.com'",
            "userPrincipalName eq 'a@contoso.onmicrosoft.com' or onPremisesImmutableId eq 'Q0ND'",
        ] {
            let e = super::super::filter::parse(f).unwrap();
            let found: Vec<String> = t
                .indexed_users(&e)
                .unwrap_or_else(|| panic!("{f} is indexed"))
                .into_iter()
                .filter(|o| e.matches(&o.props))
                .map(|o| o.id().to_string())
                .collect();
            assert_eq!(found, scan(&t, &e), "{f}");
            assert!(!found.is_empty() || f.contains("nope"), "{f}");
        }
        // Filters the index cannot narrow are scanned.
        for f in [
            "displayName eq 'a'",
            "startswith(userPrincipalName, 'a')",
            "userPrincipalName eq 'a@contoso.onmicrosoft.com' or displayName eq 'x'",
        ] {
            let e = super::super::filter::parse(f).unwrap();
            assert!(t.indexed_users(&e).is_none(), "{f}");
        }
    }

    #[test]
    fn unique_values_follow_updates_deletes_restores_and_purges() {
        let mut t = Tenant::new("t1", "contoso", &[]);
        let a = t
            .create_user(user("a@contoso.onmicrosoft.com", Some("QUFB")))
            .unwrap()
            .id()
            .to_string();
        // The UPN clashes without case, the immutable id only with it.
        assert_eq!(
            conflict_on(t.create_user(user("A@CONTOSO.onmicrosoft.com", None))),
            "userPrincipalName"
        );
        assert_eq!(
            conflict_on(t.create_user(user("b@contoso.onmicrosoft.com", Some("QUFB")))),
            "onPremisesImmutableId"
        );
        let b = t
            .create_user(user("b@contoso.onmicrosoft.com", Some("qufb")))
            .unwrap()
            .id()
            .to_string();
        // A renamed user frees its old UPN and holds the new one.
        t.update(
            Kind::User,
            &a,
            patch(json!({"userPrincipalName": "a2@contoso.onmicrosoft.com"})),
        )
        .unwrap();
        assert_eq!(
            conflict_on(t.update(
                Kind::User,
                &b,
                patch(json!({"userPrincipalName": "A2@contoso.onmicrosoft.com"}))
            )),
            "userPrincipalName"
        );
        let c = t
            .create_user(user("a@contoso.onmicrosoft.com", None))
            .unwrap()
            .id()
            .to_string();
        // A deleted user's values are free; restoring it while taken conflicts.
        t.delete(Kind::User, &a).unwrap();
        t.update(
            Kind::User,
            &c,
            patch(json!({"userPrincipalName": "a2@contoso.onmicrosoft.com"})),
        )
        .unwrap();
        assert_eq!(conflict_on(t.restore(&a)), "userPrincipalName");
        // Purged, its immutable id can be used again.
        t.purge(&a);
        t.update(
            Kind::User,
            &c,
            patch(json!({"onPremisesImmutableId": "QUFB"})),
        )
        .unwrap();
        // A tenant loaded from its persisted form finds the same clashes.
        let mut loaded: Tenant = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(
            conflict_on(loaded.create_user(user("x@contoso.onmicrosoft.com", Some("QUFB")))),
            "onPremisesImmutableId"
        );
        assert_eq!(
            conflict_on(loaded.create_user(user("A2@contoso.onmicrosoft.com", None))),
            "userPrincipalName"
        );
    }
}
