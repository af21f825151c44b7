//! What a DC says about itself and its forest: the rootDSE (naming contexts, functional levels,
//! supported controls, highestCommittedUSN, host name), the schema (attribute syntaxes and
//! classes), the DC's invocationId, and the OU tree one level at a time (for the wizard).
//!
//! Invariants: reads only, as the bound account; a rootDSE without a defaultNamingContext is
//! an error (the server is not an AD DC); the OU tree is read lazily, one level per call, so a
//! forest with 100,000 OUs costs nothing until the admin opens a branch.

use ldap3::Scope;

use super::connection::Session;
use super::entry::RawEntry;
use super::error::AdError;
use super::schema::{AttributeInfo, ClassInfo, Schema, Syntax};
use crate::domain::{Dn, ObjectGuid};

/// The rootDSE of a DC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootDse {
    /// The DC's domain, e.g. `DC=corp,DC=example,DC=com`.
    pub default_naming_context: String,
    /// Every naming context the DC holds.
    pub naming_contexts: Vec<String>,
    /// `CN=Configuration,...`.
    pub configuration_naming_context: String,
    /// `CN=Schema,CN=Configuration,...`.
    pub schema_naming_context: String,
    /// The forest root domain.
    pub root_domain_naming_context: String,
    /// domainFunctionality (4 = 2008 R2, 7 = 2016).
    pub domain_functionality: Option<i64>,
    /// forestFunctionality.
    pub forest_functionality: Option<i64>,
    /// domainControllerFunctionality.
    pub dc_functionality: Option<i64>,
    /// supportedControl OIDs.
    pub supported_controls: Vec<String>,
    /// highestCommittedUSN.
    pub highest_committed_usn: i64,
    /// The DC's DNS host name.
    pub dns_host_name: String,
    /// The DN of the DC's NTDS Settings object.
    pub ds_service_name: String,
    /// The DC's clock when it answered (`currentTime`, GeneralizedTime such as
    /// `20261122074500.0Z`), for the clock-skew check; `None` if the DC does not say.
    pub current_time: Option<String>,
}

impl RootDse {
    /// Whether the DC announces control `oid`.
    pub fn supports(&self, oid: &str) -> bool {
        self.supported_controls.iter().any(|c| c == oid)
    }
}

const ROOT_DSE_ATTRS: &[&str] = &[
    "defaultNamingContext",
    "namingContexts",
    "configurationNamingContext",
    "schemaNamingContext",
    "rootDomainNamingContext",
    "domainFunctionality",
    "forestFunctionality",
    "domainControllerFunctionality",
    "supportedControl",
    "highestCommittedUSN",
    "dnsHostName",
    "dsServiceName",
    "currentTime",
];

fn number(e: &RawEntry, name: &str) -> Option<i64> {
    e.text(name).and_then(|t| t.trim().parse().ok())
}

/// Read the rootDSE.
pub async fn root_dse(session: &mut Session) -> Result<RootDse, AdError> {
    let entries = session
        .search_all("", Scope::Base, "(objectClass=*)", ROOT_DSE_ATTRS)
        .await?;
    let e = entries
        .first()
        .ok_or_else(|| AdError::Malformed("the DC returned no rootDSE".into()))?;
    let text = |name: &str| e.text(name).unwrap_or_default().to_owned();
    let default_naming_context = text("defaultNamingContext");
    if default_naming_context.is_empty() {
        return Err(AdError::Malformed(format!(
            "{} has no defaultNamingContext in its rootDSE: it is not an Active Directory \
             domain controller",
            session.url()
        )));
    }
    Ok(RootDse {
        default_naming_context,
        naming_contexts: e.texts("namingContexts"),
        configuration_naming_context: text("configurationNamingContext"),
        schema_naming_context: text("schemaNamingContext"),
        root_domain_naming_context: text("rootDomainNamingContext"),
        domain_functionality: number(e, "domainFunctionality"),
        forest_functionality: number(e, "forestFunctionality"),
        dc_functionality: number(e, "domainControllerFunctionality"),
        supported_controls: e.texts("supportedControl"),
        highest_committed_usn: number(e, "highestCommittedUSN").unwrap_or(0),
        dns_host_name: text("dnsHostName"),
        ds_service_name: text("dsServiceName"),
        current_time: e.text("currentTime").map(str::to_owned),
    })
}

/// The DC's invocationId (from its NTDS Settings object); empty when it cannot be read.
pub async fn invocation_id(session: &mut Session, root: &RootDse) -> Vec<u8> {
    if root.ds_service_name.is_empty() {
        return Vec::new();
    }
    match session
        .search_all(
            &root.ds_service_name,
            Scope::Base,
            "(objectClass=*)",
            &["invocationId"],
        )
        .await
    {
        Ok(entries) => entries
            .first()
            .and_then(|e| e.get("invocationId"))
            .and_then(|v| v.first().cloned())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// Read the schema's attributes and classes.
pub async fn schema(session: &mut Session, root: &RootDse) -> Result<Schema, AdError> {
    let base = &root.schema_naming_context;
    let attrs = session
        .search_all(
            base,
            Scope::OneLevel,
            "(objectClass=attributeSchema)",
            &[
                "lDAPDisplayName",
                "attributeSyntax",
                "oMSyntax",
                "isSingleValued",
                "systemFlags",
            ],
        )
        .await?;
    let attributes = attrs
        .iter()
        .filter_map(|e| {
            Some(AttributeInfo {
                name: e.text("lDAPDisplayName")?.to_owned(),
                syntax: Syntax::from_ad(
                    e.text("attributeSyntax").unwrap_or_default(),
                    number(e, "oMSyntax").unwrap_or(0),
                ),
                single_valued: e
                    .text("isSingleValued")
                    .is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
                system_flags: number(e, "systemFlags").unwrap_or(0),
            })
        })
        .collect();
    let classes = session
        .search_all(
            base,
            Scope::OneLevel,
            "(objectClass=classSchema)",
            &[
                "lDAPDisplayName",
                "subClassOf",
                "auxiliaryClass",
                "systemAuxiliaryClass",
                "mustContain",
                "systemMustContain",
                "mayContain",
                "systemMayContain",
            ],
        )
        .await?;
    let classes = classes
        .iter()
        .filter_map(|e| {
            let mut attributes = Vec::new();
            for a in [
                "mustContain",
                "systemMustContain",
                "mayContain",
                "systemMayContain",
            ] {
                attributes.extend(e.texts(a));
            }
            let mut auxiliary = e.texts("auxiliaryClass");
            auxiliary.extend(e.texts("systemAuxiliaryClass"));
            Some(ClassInfo {
                name: e.text("lDAPDisplayName")?.to_owned(),
                parent: e.text("subClassOf").map(str::to_owned),
                auxiliary,
                attributes,
            })
        })
        .collect();
    Ok(Schema::new(attributes, classes))
}

/// A container in the OU tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// Its DN.
    pub dn: Dn,
    /// Its objectGUID (what the configuration remembers, so a rename keeps the selection).
    pub guid: ObjectGuid,
    /// Its most specific class (`organizationalUnit`, `container`, `builtinDomain`).
    pub class: String,
}

/// The containers directly below `parent`, sorted by DN.
pub async fn children(session: &mut Session, parent: &Dn) -> Result<Vec<TreeNode>, AdError> {
    let base = parent.to_string();
    let entries = session
        .search_all(
            &base,
            Scope::OneLevel,
            "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=builtinDomain))",
            &["objectGUID", "objectClass"],
        )
        .await?;
    let mut out = Vec::new();
    for e in entries {
        let (Some(dn), Some(guid)) = (
            e.dn_text().and_then(|d| Dn::parse(d).ok()),
            e.get("objectGUID")
                .and_then(|v| v.first())
                .and_then(|g| ObjectGuid::from_bytes(g).ok()),
        ) else {
            continue;
        };
        let class = e.texts("objectClass").pop().unwrap_or_default();
        out.push(TreeNode { dn, guid, class });
    }
    out.sort_by(|a, b| a.dn.cmp(&b.dn));
    Ok(out)
}
