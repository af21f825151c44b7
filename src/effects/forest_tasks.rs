//! The rerun wizard's forest tasks: the check that no user in scope already has
//! `mS-DS-ConsistencyGuid` set (before the source anchor switches from objectGUID, as Entra
//! Connect checks unless `/SkipLdapSearch`), the Microsoft Entra hybrid join service connection
//! point (`CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration
//! Configuration,CN=Services,<configuration NC>`, `keywords` = `azureADName:<verified domain>`
//! and `azureADId:<tenant id>`), and the containers device writeback writes into
//! (`CN=Device Registration Configuration,CN=Services,<configuration NC>`, a container, and
//! `CN=RegisteredDevices,<domain NC>`, an msDS-DeviceContainer), with the connector account's
//! rights on them.
//!
//! Invariants: an admin's password is used for the one effect and never stored; admin
//! credentials only travel over an encrypted connection; every write is idempotent (an existing
//! container is kept, an existing SCP gets its keywords replaced); the SCP is read back after it
//! is written, and the reply carries what the DC returned.

use std::collections::HashSet;

use ldap3::{Mod, Scope};

use super::context::Context;
use super::directory::{ad_failure, connector};
use super::runner::ForestAccess;
use super::{
    Failure, ForestLogin, ForestSearch, GuidsInUse, LoginSecret, SCP_CN, ScpWritten, StepOutput,
};
use crate::connectors::ad::{AdError, Session, discovery};
use crate::domain::Dn;
use crate::provision::rights::Features;

/// How many DNs a [`GuidsInUse`] lists.
const SAMPLE: usize = 5;

const DRC: &str = "CN=Device Registration Configuration,CN=Services";

async fn open(ctx: &Context, login: &ForestLogin, admin: bool) -> Result<Session, Failure> {
    let password = match &login.password {
        LoginSecret::Given(p) => p.clone(),
        LoginSecret::Stored(r) => ctx.store()?.resolve(r).map_err(|e| {
            Failure::new(
                format!("cannot read the password of {}: {e}", login.username),
                "check the credential store (hybridsync secrets list) and the account's secret_ref",
            )
        })?,
    };
    let access = ForestAccess {
        domain_controllers: login.domain_controllers.clone(),
        tls: login.tls,
        username: login.username.clone(),
        password,
    };
    let c = connector(ctx, &login.forest, &access)?;
    let s = c.connect(None).await.map_err(|e| ad_failure(&e))?;
    if admin && !s.encrypted() {
        s.close().await;
        return Err(Failure::new(
            format!(
                "refusing to send the administrator's password to {} without encryption",
                login.forest
            ),
            "use LDAPS or StartTLS for this forest (directories.tls.mode)",
        ));
    }
    Ok(s)
}

fn under(dn: &Dn, parent: &Dn) -> bool {
    let d = dn.to_string().to_ascii_lowercase();
    let p = parent.to_string().to_ascii_lowercase();
    d == p || d.ends_with(&format!(",{p}"))
}

/// Users in scope whose `mS-DS-ConsistencyGuid` is set, in every forest.
pub(crate) async fn consistency_guids(
    ctx: &Context,
    searches: &[ForestSearch],
) -> Result<GuidsInUse, Failure> {
    let mut found: Vec<Dn> = Vec::new();
    for search in searches {
        let mut s = open(ctx, &search.login, false).await?;
        let mut result = Ok(());
        for base in &search.bases {
            match s
                .search_all(
                    &base.to_string(),
                    Scope::Subtree,
                    "(&(|(objectClass=user)(objectClass=inetOrgPerson))(!(objectClass=computer))(mS-DS-ConsistencyGuid=*))",
                    &["objectClass"],
                )
                .await
            {
                Ok(entries) => {
                    for e in entries {
                        let Some(dn) = e.dn_text().and_then(|d| Dn::parse(d).ok()) else {
                            continue;
                        };
                        if search.exclude.iter().any(|x| under(&dn, x))
                            || found.contains(&dn)
                        {
                            continue;
                        }
                        found.push(dn);
                    }
                }
                Err(e) => {
                    result = Err(ad_failure(&e));
                    break;
                }
            }
        }
        s.close().await;
        result?;
    }
    let total = found.len();
    found.sort();
    found.truncate(SAMPLE);
    Ok(GuidsInUse {
        total,
        sample: found,
    })
}

/// Whether `dn` exists.
async fn exists(s: &mut Session, dn: &str) -> Result<bool, AdError> {
    match s
        .search_all(dn, Scope::Base, "(objectClass=*)", &["objectClass"])
        .await
    {
        Ok(v) => Ok(!v.is_empty()),
        Err(AdError::Ldap { code: 32, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

fn attr(name: &str, values: &[&str]) -> (Vec<u8>, HashSet<Vec<u8>>) {
    (
        name.as_bytes().to_vec(),
        values.iter().map(|v| v.as_bytes().to_vec()).collect(),
    )
}

/// Create `dn` (of `class`) unless it exists; true when it was created.
async fn ensure_container(
    s: &mut Session,
    dn: &str,
    cn: &str,
    class: &str,
) -> Result<bool, AdError> {
    if exists(s, dn).await? {
        return Ok(false);
    }
    s.add(dn, vec![attr("objectClass", &[class]), attr("cn", &[cn])])
        .await?;
    Ok(true)
}

fn admin_failure(e: &AdError, what: &str) -> Failure {
    match e {
        AdError::Ldap { code: 50, .. } => Failure::new(
            format!("{what}: {e}"),
            "sign in with an Enterprise Admin of the forest (the configuration partition is \
             writable only by Enterprise Admins), then retry",
        ),
        other => ad_failure(other),
    }
}

/// Write (or update) the hybrid join SCP and read it back.
pub(crate) async fn configure_scp(
    ctx: &Context,
    login: &ForestLogin,
    tenant_id: &str,
    domain: &str,
) -> Result<ScpWritten, Failure> {
    let mut s = open(ctx, login, true).await?;
    let r = write_scp(&mut s, tenant_id, domain).await;
    s.close().await;
    r.map_err(|e| admin_failure(&e, "cannot write the service connection point"))
}

async fn write_scp(s: &mut Session, tenant_id: &str, domain: &str) -> Result<ScpWritten, AdError> {
    let root = discovery::root_dse(s).await?;
    let drc = format!("{DRC},{}", root.configuration_naming_context);
    ensure_container(s, &drc, "Device Registration Configuration", "container").await?;
    let scp = format!("CN={SCP_CN},{drc}");
    let name = format!("azureADName:{domain}");
    let id = format!("azureADId:{tenant_id}");
    let created = if exists(s, &scp).await? {
        s.modify(
            &scp,
            vec![Mod::Replace(
                b"keywords".to_vec(),
                HashSet::from([name.clone().into_bytes(), id.clone().into_bytes()]),
            )],
        )
        .await?;
        false
    } else {
        s.add(
            &scp,
            vec![
                attr("objectClass", &["serviceConnectionPoint"]),
                attr("cn", &[SCP_CN]),
                attr("keywords", &[&name, &id]),
            ],
        )
        .await?;
        true
    };
    let back = s
        .search_all(&scp, Scope::Base, "(objectClass=*)", &["keywords"])
        .await?;
    let mut keywords = back
        .first()
        .map(|e| e.texts("keywords"))
        .unwrap_or_default();
    keywords.sort();
    Ok(ScpWritten {
        dn: Dn::parse(&scp).map_err(|e| AdError::Config(e.to_string()))?,
        keywords,
        created,
    })
}

/// Create the device writeback containers and give the connector account its rights.
pub(crate) async fn prepare_device_writeback(
    ctx: &Context,
    login: &ForestLogin,
    grant: Option<&(String, Features)>,
) -> Result<StepOutput, Failure> {
    let mut s = open(ctx, login, true).await?;
    let r = prepare(&mut s, grant).await;
    s.close().await;
    r
}

async fn prepare(
    s: &mut Session,
    grant: Option<&(String, Features)>,
) -> Result<StepOutput, Failure> {
    let what = "cannot create the device writeback containers";
    let root = discovery::root_dse(s)
        .await
        .map_err(|e| admin_failure(&e, what))?;
    let drc = format!("{DRC},{}", root.configuration_naming_context);
    ensure_container(s, &drc, "Device Registration Configuration", "container")
        .await
        .map_err(|e| admin_failure(&e, what))?;
    let devices = format!(
        "{},{}",
        crate::provision::rights::REGISTERED_DEVICES,
        root.default_naming_context
    );
    ensure_container(s, &devices, "RegisteredDevices", "msDS-DeviceContainer")
        .await
        .map_err(|e| admin_failure(&e, what))?;
    if let Some((account, features)) = grant {
        let fix = "check that the connector account exists, then retry as an Enterprise Admin";
        grant_rights(s, &root, account, features, fix).await?;
    }
    Ok(StepOutput::Done)
}

/// Grants the connector `account` the rights `features` need in the forest's domain; `fix`
/// says what to do when the account cannot be found or the rights cannot be written.
async fn grant_rights(
    s: &mut Session,
    root: &discovery::RootDse,
    account: &str,
    features: &Features,
    fix: &str,
) -> Result<(), Failure> {
    let domain = Dn::parse(&root.default_naming_context)
        .map_err(|e| Failure::new(e.to_string(), "check the forest's naming context"))?;
    let token = crate::provision::rights::token_of(s, &domain, account)
        .await
        .map_err(|e| Failure::new(e.to_string(), fix))?;
    crate::provision::account::grant(s, root, &domain, &token.sid, features)
        .await
        .map_err(|e| Failure::new(e.to_string(), fix))?;
    Ok(())
}

/// Give the connector account its rights, then write each in-scope user's objectGUID into its
/// empty mS-DS-ConsistencyGuid; answers with how many users were written.
pub(crate) async fn stamp_consistency_guids(
    ctx: &Context,
    searches: &[(ForestSearch, Option<String>)],
    features: &Features,
) -> Result<StepOutput, Failure> {
    let mut written = 0usize;
    for (search, account) in searches {
        let mut s = open(ctx, &search.login, true).await?;
        let grant = account.as_ref().map(|a| (a.clone(), features.clone()));
        let r = stamp(&mut s, search, grant.as_ref()).await;
        s.close().await;
        written += r?;
    }
    Ok(StepOutput::Stamped(written))
}

async fn stamp(
    s: &mut Session,
    search: &ForestSearch,
    grant: Option<&(String, Features)>,
) -> Result<usize, Failure> {
    let what = "cannot write mS-DS-ConsistencyGuid";
    let fix = "sign in with a Domain or Enterprise Admin of the forest, then retry";
    if let Some((account, features)) = grant {
        let root = discovery::root_dse(s)
            .await
            .map_err(|e| admin_failure(&e, what))?;
        grant_rights(s, &root, account, features, fix).await?;
    }
    let mut written = 0;
    for base in &search.bases {
        let users = s
            .search_all(
                &base.to_string(),
                Scope::Subtree,
                "(&(|(objectClass=user)(objectClass=inetOrgPerson))(!(objectClass=computer))(!(mS-DS-ConsistencyGuid=*)))",
                &["objectGUID"],
            )
            .await
            .map_err(|e| admin_failure(&e, what))?;
        for u in users {
            let Some(dn) = u.dn_text().and_then(|d| Dn::parse(d).ok()) else {
                continue;
            };
            if search.exclude.iter().any(|x| under(&dn, x)) {
                continue;
            }
            let Some(guid) = u.get("objectGUID").and_then(|v| v.first()).cloned() else {
                continue;
            };
            s.modify(
                &dn.to_string(),
                vec![Mod::Replace(
                    b"mS-DS-ConsistencyGuid".to_vec(),
                    HashSet::from([guid]),
                )],
            )
            .await
            .map_err(|e| admin_failure(&e, &format!("{what} on {dn}")))?;
            written += 1;
        }
    }
    Ok(written)
}
