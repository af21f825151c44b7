//! The effects on the forest: bind and describe it, list one level of the OU tree, search
//! groups, list the schema's directory extension candidates, and create the AD DS connector
//! account with its rights. A forest configured as an
//! LDIF file (the demo's sample directory) gets the same answers computed from the file; it has
//! no domain controller, so no connector account can be created in it.
//!
//! Invariants: the bind's password stays in the runner's session (memory) for the later tree
//! and group reads and is never stored; the connector account's password goes straight into the
//! credential store; the account is only created over an encrypted connection
//! ([`provision::account`](crate::provision::account) refuses otherwise).

use std::path::Path;

use ldap3::Scope;

use super::context::Context;
use super::runner::{ForestAccess, Shared, lock};
use super::{
    ExtensionCandidate, ExtensionClass, Failure, ForestDomain, ForestInfo, GroupEntry, OuEntry,
    StepOutput,
};
use crate::config::validate::is_dns_name;
use crate::connectors::ad::schema::{Schema, Syntax};
use crate::connectors::ad::{AdConnector, AdError, AdOptions, Endpoint, discovery};
use crate::connectors::file::ldif::{self, Entry};
use crate::credentials::SecretRef;
use crate::domain::AttributeName;
use crate::domain::{Dn, ObjectGuid, Secret};
use crate::provision::account::{self, AccountRequest};
use crate::provision::rights::Features;

pub(super) fn ad_failure(e: &AdError) -> Failure {
    let fix = match e {
        AdError::Connect { .. } | AdError::Timeout { .. } | AdError::Dropped { .. } => {
            "check the forest name and domain controllers (DNS SRV records _ldap._tcp.<forest>), \
             that port 636 (LDAPS) or 389 (StartTLS) is open, and that the DC's certificate is \
             trusted by this machine"
        }
        AdError::Bind { .. } => "check the account name and password",
        _ => "check the forest and the account, then try again",
    };
    Failure::new(e.to_string(), fix)
}

pub(super) fn connector(
    ctx: &Context,
    forest: &str,
    access: &ForestAccess,
) -> Result<AdConnector, Failure> {
    let port = access.tls.default_port();
    let endpoints = access
        .domain_controllers
        .iter()
        .map(|dc| Endpoint::parse(dc, port))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ad_failure(&e))?;
    let mut o = AdOptions::new(
        forest,
        Endpoint {
            host: String::new(),
            port,
        },
        &access.username,
        access.password.clone(),
    );
    o.endpoints = endpoints;
    o.domain = forest.to_string();
    o.settings.tls = access.tls;
    o.settings.ca_file = ctx.ad_ca_file.clone();
    o.settings.timeout = std::time::Duration::from_secs(30);
    Ok(AdConnector::new(o))
}

fn access(session: &Shared, forest: &str) -> Result<ForestAccess, Failure> {
    lock(session)
        .forests
        .get(&forest.to_ascii_lowercase())
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                format!("the wizard has not connected to {forest} yet"),
                "go back to Connect your directories and connect to the forest",
            )
        })
}

/// Bind to the forest and describe it.
pub(crate) async fn bind(
    ctx: &Context,
    session: &Shared,
    forest: &str,
    access: ForestAccess,
) -> Result<ForestInfo, Failure> {
    if let Some(file) = ctx.ldif_file(forest) {
        return ldif_forest(file, forest).await;
    }
    let c = connector(ctx, forest, &access)?;
    let mut s = c.connect(None).await.map_err(|e| ad_failure(&e))?;
    let info = describe(&mut s, forest).await;
    s.close().await;
    let info = info.map_err(|e| ad_failure(&e))?;
    lock(session)
        .forests
        .insert(forest.to_ascii_lowercase(), access);
    Ok(info)
}

async fn describe(
    s: &mut crate::connectors::ad::Session,
    forest: &str,
) -> Result<ForestInfo, AdError> {
    let root = discovery::root_dse(s).await?;
    let partitions = format!("CN=Partitions,{}", root.configuration_naming_context);
    let refs = s
        .search_all(
            &partitions,
            Scope::OneLevel,
            "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
            &["dnsRoot", "nCName"],
        )
        .await?;
    let mut domains = Vec::new();
    let mut suffixes = Vec::new();
    for r in refs {
        let (Some(dns), Some(nc)) = (r.text("dnsRoot"), r.text("nCName")) else {
            continue;
        };
        let Ok(nc) = Dn::parse(nc) else { continue };
        suffixes.push(dns.to_ascii_lowercase());
        domains.push(ForestDomain {
            name: dns.to_ascii_lowercase(),
            naming_context: nc,
        });
    }
    for p in s
        .search_all(
            &partitions,
            Scope::Base,
            "(objectClass=*)",
            &["uPNSuffixes"],
        )
        .await?
    {
        suffixes.extend(
            p.texts("uPNSuffixes")
                .iter()
                .map(|x| x.to_ascii_lowercase()),
        );
    }
    if domains.is_empty()
        && let Ok(nc) = Dn::parse(&root.default_naming_context)
    {
        let name = account::dns_name(&nc);
        suffixes.push(name.clone());
        domains.push(ForestDomain {
            name,
            naming_context: nc,
        });
    }
    dedup(&mut suffixes);
    let exchange = s
        .search_all(
            &root.schema_naming_context,
            Scope::OneLevel,
            "(cn=ms-Exch-Schema-Version-Pt)",
            &["rangeUpper"],
        )
        .await
        .map(|v| !v.is_empty())
        .unwrap_or(false);
    Ok(ForestInfo {
        forest: forest.to_ascii_lowercase(),
        domains,
        upn_suffixes: suffixes,
        exchange_schema: exchange,
    })
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// One level of the OU tree.
pub(crate) async fn children(
    ctx: &Context,
    session: &Shared,
    forest: &str,
    parent: &Dn,
) -> Result<Vec<OuEntry>, Failure> {
    if let Some(file) = ctx.ldif_file(forest) {
        let entries = read_ldif(file).await?;
        return Ok(ldif_children(&entries, parent));
    }
    let c = connector(ctx, forest, &access(session, forest)?)?;
    let nodes = c.children(parent).await.map_err(|e| ad_failure(&e))?;
    Ok(nodes
        .into_iter()
        .map(|n| OuEntry {
            dn: n.dn,
            guid: Some(n.guid),
            has_children: true,
        })
        .collect())
}

/// Attributes no directory extension can be made of: identity, naming and bookkeeping.
const NOT_EXTENSIONS: &[&str] = &[
    "objectclass",
    "objectguid",
    "objectsid",
    "objectcategory",
    "distinguishedname",
    "name",
    "cn",
    "instancetype",
    "whencreated",
    "whenchanged",
    "usncreated",
    "usnchanged",
    "samaccounttype",
    "grouptype",
    "useraccountcontrol",
    "primarygroupid",
    "admincount",
    "iscriticalsystemobject",
    "systemflags",
    "pwdlastset",
    "lastlogon",
    "lastlogontimestamp",
    "lastlogoff",
    "logoncount",
    "badpwdcount",
    "badpasswordtime",
    "accountexpires",
    "codepage",
    "countrycode",
    "unicodepwd",
];

/// Attributes the AD schema makes multi-valued, which an LDIF export may show with one value.
const MULTI_VALUED: &[&str] = &[
    "proxyaddresses",
    "member",
    "memberof",
    "othertelephone",
    "othermobile",
    "otherhomephone",
    "otheripphone",
    "otherpager",
    "otherfacsimiletelephonenumber",
    "url",
    "serviceprincipalname",
    "showinaddressbook",
    "userworkstations",
];

fn extension_candidate(
    class: ExtensionClass,
    name: &str,
    kind: &'static str,
) -> Option<ExtensionCandidate> {
    if name.contains(';') || NOT_EXTENSIONS.contains(&name.to_ascii_lowercase().as_str()) {
        return None;
    }
    Some(ExtensionCandidate {
        class,
        name: AttributeName::new(name).ok()?,
        kind,
    })
}

/// The candidates a schema offers: single-valued text, number or boolean attributes that
/// `user` or `group` may hold.
pub(crate) fn schema_extension_candidates(schema: &Schema) -> Vec<ExtensionCandidate> {
    let mut out = Vec::new();
    for class in [ExtensionClass::User, ExtensionClass::Group] {
        for name in schema.class_attributes(class.prefix()) {
            let Some(info) = schema.attribute(&name) else {
                continue;
            };
            if info.single_valued
                && !info.constructed_or_local()
                && matches!(info.syntax, Syntax::Str | Syntax::Num | Syntax::Bool)
                && let Some(c) = extension_candidate(class, &info.name, info.syntax.kind())
            {
                out.push(c);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The candidates an LDIF forest offers: the attributes its users and groups use, single-valued
/// on every entry, whose values are text, numbers or booleans.
fn ldif_extension_candidates(entries: &[Entry]) -> Vec<ExtensionCandidate> {
    use crate::engine::expr::Value;
    let mut seen: std::collections::BTreeMap<
        (ExtensionClass, String),
        (String, Option<&'static str>),
    > = std::collections::BTreeMap::new();
    for e in entries {
        let cls = classes(e);
        let class = if cls.iter().any(|c| c == "group") {
            ExtensionClass::Group
        } else if cls.iter().any(|c| c == "user") && !cls.iter().any(|c| c == "computer") {
            ExtensionClass::User
        } else {
            continue;
        };
        for a in &e.attributes {
            let multi = MULTI_VALUED.contains(&a.name.to_ascii_lowercase().as_str());
            let kind = match a.values.as_slice() {
                [one] if !multi => match crate::connectors::file::typing::typed_value(&a.name, one)
                {
                    Value::Str(_) => Some("str"),
                    Value::Num(_) => Some("num"),
                    Value::Bool(_) => Some("bool"),
                    _ => None,
                },
                _ => None,
            };
            let slot = seen
                .entry((class, a.name.to_ascii_lowercase()))
                .or_insert((a.name.clone(), kind));
            if slot.1 != kind {
                slot.1 = None;
            }
        }
    }
    let mut out: Vec<ExtensionCandidate> = seen
        .into_iter()
        .filter_map(|((class, _), (name, kind))| extension_candidate(class, &name, kind?))
        .collect();
    out.sort();
    out
}

/// The directory extension candidates of the forest.
pub(crate) async fn extension_attributes(
    ctx: &Context,
    session: &Shared,
    forest: &str,
) -> Result<Vec<ExtensionCandidate>, Failure> {
    if let Some(file) = ctx.ldif_file(forest) {
        let entries = read_ldif(file).await?;
        return Ok(ldif_extension_candidates(&entries));
    }
    let c = connector(ctx, forest, &access(session, forest)?)?;
    let schema = c.read_schema().await.map_err(|e| ad_failure(&e))?;
    Ok(schema_extension_candidates(&schema))
}

/// Groups whose name starts with `query`.
pub(crate) async fn groups(
    ctx: &Context,
    session: &Shared,
    forest: &str,
    query: &str,
) -> Result<Vec<GroupEntry>, Failure> {
    if let Some(file) = ctx.ldif_file(forest) {
        let entries = read_ldif(file).await?;
        return Ok(ldif_groups(&entries, query));
    }
    let c = connector(ctx, forest, &access(session, forest)?)?;
    let mut s = c.connect(None).await.map_err(|e| ad_failure(&e))?;
    let found = async {
        let root = discovery::root_dse(&mut s).await?;
        let filter = format!(
            "(&(objectClass=group)(cn={}*))",
            crate::connectors::ad::import::escape_filter(query.as_bytes())
        );
        s.search_all(
            &root.default_naming_context,
            Scope::Subtree,
            &filter,
            &["objectGUID", "member"],
        )
        .await
    }
    .await;
    s.close().await;
    let found = found.map_err(|e| ad_failure(&e))?;
    let mut out: Vec<GroupEntry> = found
        .into_iter()
        .filter_map(|e| {
            Some(GroupEntry {
                dn: Dn::parse(e.dn_text()?).ok()?,
                guid: e
                    .get("objectGUID")
                    .and_then(|v| v.first())
                    .and_then(|g| ObjectGuid::from_bytes(g).ok()),
                members: e.get("member").map_or(0, <[Vec<u8>]>::len),
            })
        })
        .collect();
    out.sort_by(|a, b| a.dn.cmp(&b.dn));
    Ok(out)
}

/// Create (or bring up to date) the connector account and store its password.
pub(crate) async fn create_account(
    ctx: &Context,
    session: &Shared,
    forest: &str,
    admin_username: String,
    admin_password: Secret,
    secret_name: &str,
    features: &Features,
) -> Result<StepOutput, Failure> {
    if ctx.ldif_file(forest).is_some() {
        return Err(Failure::new(
            format!(
                "{forest} is read from an LDIF file: there is no domain controller to create an account in"
            ),
            "nothing to do for an LDIF forest; go back and start over",
        ));
    }
    let store = super::runner::store(ctx, session)?;
    let mut access = access(session, forest)?;
    access.username = admin_username;
    access.password = admin_password;
    let c = connector(ctx, forest, &access)?;
    let mut s = c.connect(None).await.map_err(|e| ad_failure(&e))?;
    let existing_password = store
        .resolve(&SecretRef::Store(secret_name.to_string()))
        .ok();
    let req = AccountRequest {
        features: features.clone(),
        existing_password,
        ..AccountRequest::default()
    };
    let probe = access.clone();
    let try_bind = |bind_name: String, password: Secret| {
        let mut a = probe.clone();
        a.username = bind_name;
        a.password = password;
        async move {
            match connector(ctx, forest, &a) {
                Ok(c) => match c.connect(None).await {
                    Ok(s) => {
                        s.close().await;
                        true
                    }
                    Err(_) => false,
                },
                Err(_) => false,
            }
        }
    };
    let outcome = account::ensure_account(&mut s, &req, try_bind).await;
    s.close().await;
    let outcome = outcome.map_err(|e| {
        Failure::new(
            e.to_string(),
            "sign in with an Enterprise Admin (or an account that may create users in CN=Users \
             and change the domain root's permissions) over LDAPS or StartTLS, then retry",
        )
    })?;
    store.store(secret_name, &outcome.password).map_err(|e| {
        Failure::new(
            format!(
                "{} was created, but its password could not be stored: {e}",
                outcome.bind_name
            ),
            "check that the state directory is writable, then retry (the account is reused and \
             given a new password)",
        )
    })?;
    // Later reads of the tree and groups use the new account, not the admin's.
    lock(session).forests.insert(
        forest.to_ascii_lowercase(),
        ForestAccess {
            username: outcome.bind_name.clone(),
            password: outcome.password,
            ..access
        },
    );
    Ok(StepOutput::ConnectorAccount {
        username: outcome.bind_name,
        secret_ref: SecretRef::Store(secret_name.to_string()),
    })
}

async fn read_ldif(file: &Path) -> Result<Vec<Entry>, Failure> {
    let text = tokio::fs::read_to_string(file).await.map_err(|e| {
        Failure::new(
            format!("cannot read {}: {e}", file.display()),
            "give the path of a readable LDIF file",
        )
    })?;
    ldif::read_entries(&text).map_err(|e| {
        Failure::new(
            format!("{}: {e}", file.display()),
            "fix the LDIF file (an ldapsearch or ldifde export)",
        )
    })
}

fn classes(e: &Entry) -> Vec<String> {
    e.get("objectClass")
        .map(|a| {
            a.values
                .iter()
                .filter_map(|v| std::str::from_utf8(v).ok())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn guid(e: &Entry) -> Option<ObjectGuid> {
    e.get("objectGUID")
        .and_then(|a| a.values.first())
        .and_then(|g| ObjectGuid::from_bytes(g).ok())
}

/// The forest an LDIF file describes, as a bind would describe it.
async fn ldif_forest(file: &Path, forest: &str) -> Result<ForestInfo, Failure> {
    let entries = read_ldif(file).await?;
    let mut domains = Vec::new();
    for e in &entries {
        if classes(e).iter().any(|c| c == "domaindns")
            && let Ok(nc) = Dn::parse(&e.dn)
        {
            domains.push(ForestDomain {
                name: account::dns_name(&nc).to_ascii_lowercase(),
                naming_context: nc,
            });
        }
    }
    if !domains.iter().any(|d| d.name.eq_ignore_ascii_case(forest)) {
        let held: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        return Err(Failure::new(
            format!(
                "{} holds {}, not {forest}",
                file.display(),
                if held.is_empty() {
                    "no domain object".to_string()
                } else {
                    held.join(", ")
                }
            ),
            "give the forest the LDIF file was exported from",
        ));
    }
    // No Partitions container in an export: the suffixes are the domains' names plus those the
    // users' UPNs use.
    let mut suffixes: Vec<String> = domains.iter().map(|d| d.name.clone()).collect();
    for e in &entries {
        if let Some((_, suffix)) = e.text("userPrincipalName").and_then(|u| u.rsplit_once('@'))
            && is_dns_name(suffix)
        {
            suffixes.push(suffix.to_ascii_lowercase());
        }
    }
    dedup(&mut suffixes);
    let exchange = entries.iter().any(|e| {
        e.attributes
            .iter()
            .any(|a| a.name.to_ascii_lowercase().starts_with("msexch"))
    });
    Ok(ForestInfo {
        forest: forest.to_ascii_lowercase(),
        domains,
        upn_suffixes: suffixes,
        exchange_schema: exchange,
    })
}

fn is_container(e: &Entry) -> bool {
    classes(e)
        .iter()
        .any(|c| ["organizationalunit", "container", "builtindomain"].contains(&c.as_str()))
}

fn ldif_children(entries: &[Entry], parent: &Dn) -> Vec<OuEntry> {
    let dns: Vec<(Dn, &Entry)> = entries
        .iter()
        .filter_map(|e| Some((Dn::parse(&e.dn).ok()?, e)))
        .collect();
    let mut out: Vec<OuEntry> = dns
        .iter()
        .filter(|(dn, e)| dn.parent().as_ref() == Some(parent) && is_container(e))
        .map(|(dn, e)| OuEntry {
            dn: dn.clone(),
            guid: guid(e),
            has_children: dns
                .iter()
                .any(|(c, ce)| c.parent().as_ref() == Some(dn) && is_container(ce)),
        })
        .collect();
    out.sort_by(|a, b| a.dn.cmp(&b.dn));
    out
}

fn ldif_groups(entries: &[Entry], query: &str) -> Vec<GroupEntry> {
    let q = query.to_lowercase();
    let mut out: Vec<GroupEntry> = entries
        .iter()
        .filter(|e| classes(e).iter().any(|c| c == "group"))
        .filter(|e| {
            e.text("cn")
                .is_some_and(|cn| cn.to_lowercase().starts_with(&q))
        })
        .filter_map(|e| {
            Some(GroupEntry {
                dn: Dn::parse(&e.dn).ok()?,
                guid: guid(e),
                members: e.get("member").map_or(0, |a| a.values.len()),
            })
        })
        .collect();
    out.sort_by(|a, b| a.dn.cmp(&b.dn));
    out
}

/// The effective rights of the account `forest` was bound with (an existing connector account),
/// for `features`; an LDIF forest has no rights to check.
pub(crate) async fn account_rights(
    ctx: &Context,
    session: &Shared,
    forest: &str,
    features: &Features,
) -> Result<super::AccountRights, Failure> {
    if ctx.ldif_file(forest).is_some() {
        return Ok(super::AccountRights::default());
    }
    let access = access(session, forest)?;
    let c = connector(ctx, forest, &access)?;
    let mut s = c.connect(None).await.map_err(|e| ad_failure(&e))?;
    let checked = async {
        let root = discovery::root_dse(&mut s)
            .await
            .map_err(|e| ad_failure(&e))?;
        crate::provision::rights::check_account(&mut s, &root, &access.username, features)
            .await
            .map_err(|e| {
                Failure::new(
                    format!("cannot read the rights of {}: {e}", access.username),
                    "let the account read its own tokenGroups and the domain's nTSecurityDescriptor, or let hybridsync create the connector account",
                )
            })
    }
    .await;
    s.close().await;
    let (token, lines) = checked?;
    Ok(super::AccountRights {
        privileged: token
            .privileged_groups()
            .into_iter()
            .map(str::to_string)
            .collect(),
        lines: lines
            .into_iter()
            .map(|l| super::RightLine {
                feature: l.feature,
                right: l.right,
                status: l.status,
                fix: l.fix,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/sample-directory.ldif"
    );

    #[tokio::test]
    async fn the_sample_directory_answers_like_a_forest() {
        let file = Path::new(SAMPLE);
        let info = ldif_forest(file, "contoso.example").await.unwrap();
        assert_eq!(info.domains.len(), 1);
        assert_eq!(
            info.domains[0].naming_context.to_string(),
            "DC=contoso,DC=example"
        );
        assert_eq!(info.upn_suffixes[0], "contoso.example");
        assert!(info.upn_suffixes.contains(&"contoso.local".to_string()));
        let wrong = ldif_forest(file, "fabrikam.example").await.unwrap_err();
        assert!(wrong.message.contains("contoso.example"), "{wrong:?}");

        let entries = read_ldif(file).await.unwrap();
        let top = ldif_children(&entries, &Dn::parse("DC=contoso,DC=example").unwrap());
        let contoso = top
            .iter()
            .find(|o| o.dn.to_string() == "OU=Contoso,DC=contoso,DC=example")
            .unwrap();
        assert!(contoso.has_children && contoso.guid.is_some());
        let below = ldif_children(&entries, &contoso.dn);
        assert!(!below.is_empty());
        assert!(
            below
                .iter()
                .all(|o| o.dn.parent().as_ref() == Some(&contoso.dn))
        );

        let all = ldif_groups(&entries, "");
        assert_eq!(all.len(), 20);
        let some = ldif_groups(&entries, &all[0].dn.rdn().unwrap().value()[..3]);
        assert!(!some.is_empty() && some.len() <= all.len());
    }

    #[tokio::test]
    async fn an_ldif_forest_offers_the_single_valued_text_attributes_its_file_uses() {
        let entries = read_ldif(Path::new(SAMPLE)).await.unwrap();
        let keys: Vec<String> = ldif_extension_candidates(&entries)
            .iter()
            .map(|c| c.key())
            .collect();
        for want in ["user.employeeID", "user.department", "group.description"] {
            assert!(keys.contains(&want.to_string()), "{want}: {keys:?}");
        }
        for never in [
            "user.proxyAddresses",
            "user.objectGUID",
            "user.whenCreated",
            "user.cn",
            "group.member",
            "group.managedBy",
        ] {
            assert!(!keys.contains(&never.to_string()), "{never}: {keys:?}");
        }
        let users = keys.iter().take_while(|k| k.starts_with("user.")).count();
        assert!(keys[users..].iter().all(|k| k.starts_with("group.")));
    }

    #[test]
    fn a_schema_offers_single_valued_text_number_and_boolean_attributes() {
        use crate::connectors::ad::schema::{AttributeInfo, ClassInfo};
        let attr = |name: &str, syntax, single_valued| AttributeInfo {
            name: name.into(),
            syntax,
            single_valued,
            system_flags: 0,
        };
        let class = |name: &str, parent: Option<&str>, attributes: &[&str]| ClassInfo {
            name: name.into(),
            parent: parent.map(str::to_string),
            auxiliary: vec![],
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
        };
        let schema = Schema::new(
            vec![
                attr("employeeID", Syntax::Str, true),
                attr("proxyAddresses", Syntax::Str, false),
                attr("manager", Syntax::Ref, true),
                attr("shoeSize", Syntax::Num, true),
                attr("isPublic", Syntax::Bool, true),
                attr("objectGUID", Syntax::Bin, true),
                attr("whenCreated", Syntax::Date, true),
                attr("info", Syntax::Str, true),
                attr("cn", Syntax::Str, true),
                AttributeInfo {
                    system_flags: 0x4,
                    ..attr("msDS-User-Account-Control-Computed", Syntax::Num, true)
                },
                AttributeInfo {
                    system_flags: 0x1,
                    ..attr("msDS-FailedInteractiveLogonCount", Syntax::Num, true)
                },
            ],
            vec![
                class("top", None, &["objectGUID", "whenCreated", "cn"]),
                class("person", Some("top"), &["shoeSize"]),
                class(
                    "user",
                    Some("person"),
                    &[
                        "employeeID",
                        "proxyAddresses",
                        "manager",
                        "info",
                        "msDS-User-Account-Control-Computed",
                        "msDS-FailedInteractiveLogonCount",
                    ],
                ),
                class("group", Some("top"), &["info", "isPublic"]),
            ],
        );
        let keys: Vec<String> = schema_extension_candidates(&schema)
            .iter()
            .map(|c| c.key())
            .collect();
        assert_eq!(
            keys,
            vec![
                "user.employeeID",
                "user.info",
                "user.shoeSize",
                "group.info",
                "group.isPublic"
            ]
        );
    }
}
