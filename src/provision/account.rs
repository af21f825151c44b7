//! The AD DS connector account: created (or brought up to date) with an administrator's session
//! that is used for this one operation, given a random password and exactly the ACEs on the domain
//! root (and the group writeback OU) that the chosen features need.
//!
//! Invariants: the administrator's credentials live only in the caller's [`Session`] and are
//! never stored or logged; the new password is returned for the credential store and never
//! printed; re-running changes nothing that is already right (an existing account keeps a
//! password that still binds, ACEs already present are not added again) and removes explicit
//! ACEs of this account that no chosen feature needs any more; an account in Domain Admins,
//! Enterprise Admins or Administrators is refused, as Entra Connect refuses it; the password is
//! only sent over an encrypted connection.

use std::collections::HashSet;

use ldap3::{Mod, Scope};

use super::rights::{self, Features, Guids, RightsError, Token};
use super::sd::{Ace, Acl};
use crate::connectors::ad::{AdError, RootDse, Session, discovery};
use crate::domain::{Dn, Secret, Sid};

/// `NORMAL_ACCOUNT`.
const UF_NORMAL_ACCOUNT: u32 = 0x200;
/// `DONT_EXPIRE_PASSWORD`.
const UF_DONT_EXPIRE_PASSWD: u32 = 0x1_0000;
/// `ACCOUNTDISABLE`.
const UF_ACCOUNTDISABLE: u32 = 0x2;

/// What to create.
#[derive(Debug, Clone, Default)]
pub struct AccountRequest {
    /// sAMAccountName; `None`: `MSOL_<12 hex>`.
    pub name: Option<String>,
    /// Where to create it; `None`: `CN=Users` of the forest root domain.
    pub container: Option<Dn>,
    /// The features whose rights it gets.
    pub features: Features,
    /// The password the credential store already holds for it (kept if it still binds).
    pub existing_password: Option<Secret>,
}

/// What was done.
#[derive(Debug)]
pub struct AccountOutcome {
    /// The account's DN.
    pub dn: Dn,
    /// Its sAMAccountName.
    pub sam_account_name: String,
    /// `name@dns.domain`, the bind name to configure.
    pub bind_name: String,
    /// Its objectSid.
    pub sid: Sid,
    /// Its password (store it; never print it).
    pub password: Secret,
    /// Whether the account was created now.
    pub created: bool,
    /// Whether the password was set now.
    pub password_set: bool,
    /// ACEs added (SDDL), with the object they were added to.
    pub added: Vec<(Dn, String)>,
    /// ACEs that were already there.
    pub present: Vec<(Dn, String)>,
    /// Explicit ACEs of this account that no chosen feature needs, removed.
    pub removed: Vec<(Dn, String)>,
}

/// Why the account could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The DC failed.
    #[error(transparent)]
    Ad(#[from] AdError),
    /// Rights could not be read or resolved.
    #[error(transparent)]
    Rights(#[from] RightsError),
    /// The chosen account is privileged.
    #[error(
        "'{account}' is a member of {groups}: using an Enterprise or Domain administrator account \
         as the AD DS connector account is not allowed (as in Entra Connect). Let hybridsync \
         create the account (no name given) or name a normal user account"
    )]
    Privileged {
        /// The account.
        account: String,
        /// The groups.
        groups: String,
    },
    /// The request cannot work.
    #[error("{0}")]
    Invalid(String),
}

/// A random password of `len` characters with upper- and lower-case letters, digits and
/// symbols (AD's complexity rule needs three of the four classes; all four are always present).
pub fn random_password(len: usize) -> Result<Secret, ProvisionError> {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#%+-.:=?@^_~";
    let len = len.max(64);
    let classes = [UPPER, LOWER, DIGIT, SYMBOL];
    loop {
        let mut bytes = vec![0u8; len * 2];
        getrandom::fill(&mut bytes)
            .map_err(|e| ProvisionError::Invalid(format!("no randomness: {e}")))?;
        let mut out = String::with_capacity(len);
        for pair in bytes.chunks_exact(2) {
            let (Some(&c), Some(&v)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let class = classes[usize::from(c) % 4];
            out.push(char::from(class[usize::from(v) % class.len()]));
        }
        if classes
            .iter()
            .all(|cl| out.bytes().any(|b| cl.contains(&b)))
        {
            return Ok(Secret::new(out));
        }
    }
}

/// `MSOL_` and 12 random hex digits.
pub fn random_name() -> Result<String, ProvisionError> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(|e| ProvisionError::Invalid(format!("no randomness: {e}")))?;
    Ok(format!(
        "MSOL_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

/// `unicodePwd`'s value: the password in double quotes, UTF-16LE.
fn unicode_pwd(password: &Secret) -> Vec<u8> {
    format!("\"{}\"", password.expose())
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// The DNS name of a domain naming context (`DC=lab,DC=example` -> `lab.example`).
pub fn dns_name(nc: &Dn) -> String {
    nc.rdns()
        .iter()
        .filter_map(|r| r.value_of("DC"))
        .collect::<Vec<_>>()
        .join(".")
}

fn one(attr: &str, value: impl Into<Vec<u8>>) -> (Vec<u8>, HashSet<Vec<u8>>) {
    (attr.as_bytes().to_vec(), HashSet::from([value.into()]))
}

/// Create or update the connector account as the administrator of `session`, and grant it
/// exactly the rights of `req.features`. `try_bind` checks whether a password still binds for
/// a bind name (the caller opens a separate session; the administrator's stays untouched).
pub async fn ensure_account<F, Fut>(
    session: &mut Session,
    req: &AccountRequest,
    try_bind: F,
) -> Result<AccountOutcome, ProvisionError>
where
    F: Fn(String, Secret) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if !session.encrypted() {
        return Err(ProvisionError::Invalid(
            "creating the connector account sends its password: use LDAPS or StartTLS".into(),
        ));
    }
    let root: RootDse = discovery::root_dse(session).await?;
    let domain = Dn::parse(&root.default_naming_context)
        .map_err(|e| ProvisionError::Invalid(e.to_string()))?;
    let forest_root = Dn::parse(&root.root_domain_naming_context).unwrap_or(domain.clone());
    let dns = dns_name(&domain);
    let name = match &req.name {
        Some(n) => n.clone(),
        None => random_name()?,
    };
    if name.is_empty()
        || name.chars().count() > 20
        || name.chars().any(|c| "\"/\\[]:;|=,+*?<>@".contains(c))
    {
        return Err(ProvisionError::Invalid(format!(
            "'{name}' cannot be a sAMAccountName: 1-20 characters without \" / \\ [ ] : ; | = , + * ? < > @"
        )));
    }
    let bind_name = format!("{name}@{dns}");
    let existing = session
        .search_all(
            &domain.to_string(),
            Scope::Subtree,
            &rights::account_filter(&name),
            &["userAccountControl"],
        )
        .await?;
    let mut created = false;
    let mut password_set = false;
    let password;
    let dn;
    match existing.first() {
        Some(e) => {
            dn = e
                .dn_text()
                .and_then(|d| Dn::parse(d).ok())
                .ok_or_else(|| ProvisionError::Invalid(format!("'{name}' has no readable DN")))?;
            let token = rights::token_of(session, &domain, &dn.to_string()).await?;
            refuse_privileged(&name, &token)?;
            let uac: u32 = e
                .text("userAccountControl")
                .and_then(|t| t.parse().ok())
                .unwrap_or(UF_NORMAL_ACCOUNT);
            let wanted = (uac | UF_DONT_EXPIRE_PASSWD) & !UF_ACCOUNTDISABLE;
            let keep = match &req.existing_password {
                Some(p) => try_bind(bind_name.clone(), p.clone()).await,
                None => false,
            };
            password = match (&req.existing_password, keep) {
                (Some(p), true) => p.clone(),
                _ => {
                    let p = random_password(80)?;
                    session
                        .modify(
                            &dn.to_string(),
                            vec![Mod::Replace(
                                b"unicodePwd".to_vec(),
                                HashSet::from([unicode_pwd(&p)]),
                            )],
                        )
                        .await?;
                    password_set = true;
                    p
                }
            };
            if wanted != uac {
                session
                    .modify(
                        &dn.to_string(),
                        vec![Mod::Replace(
                            b"userAccountControl".to_vec(),
                            HashSet::from([wanted.to_string().into_bytes()]),
                        )],
                    )
                    .await?;
            }
        }
        None => {
            let container = req.container.clone().unwrap_or_else(|| {
                Dn::parse(&format!("CN=Users,{forest_root}")).unwrap_or(forest_root.clone())
            });
            dn = Dn::parse(&format!(
                "CN={},{container}",
                crate::domain::escape_value(&name)
            ))
            .map_err(|e| ProvisionError::Invalid(e.to_string()))?;
            let p = random_password(80)?;
            session
                .add(
                    &dn.to_string(),
                    vec![
                        (b"objectClass".to_vec(), HashSet::from([b"user".to_vec()])),
                        one("sAMAccountName", name.clone()),
                        one("userPrincipalName", bind_name.clone()),
                        one(
                            "description",
                            "AD DS connector account of hybridsync (its password is in \
                             hybridsync's credential store)",
                        ),
                        one("unicodePwd", unicode_pwd(&p)),
                        one(
                            "userAccountControl",
                            (UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD).to_string(),
                        ),
                    ],
                )
                .await?;
            created = true;
            password_set = true;
            password = p;
        }
    }
    let token = rights::token_of(session, &domain, &dn.to_string()).await?;
    refuse_privileged(&name, &token)?;
    let (added, present, removed) =
        grant(session, &root, &domain, &token.sid, &req.features).await?;
    Ok(AccountOutcome {
        dn,
        sam_account_name: name,
        bind_name,
        sid: token.sid,
        password,
        created,
        password_set,
        added,
        present,
        removed,
    })
}

fn refuse_privileged(name: &str, token: &Token) -> Result<(), ProvisionError> {
    let groups = token.privileged_groups();
    if groups.is_empty() {
        Ok(())
    } else {
        Err(ProvisionError::Privileged {
            account: name.to_owned(),
            groups: groups.join(", "),
        })
    }
}

/// Explicit (not inherited) ACE equality, ignoring trailing bytes.
fn same(a: &Ace, b: &Ace) -> bool {
    a.ace_type == b.ace_type && a.flags == b.flags && a.body == b.body
}

type Changes = (Vec<(Dn, String)>, Vec<(Dn, String)>, Vec<(Dn, String)>);

/// Give `sid` exactly the ACEs `features` need on the domain root and the writeback OU.
pub async fn grant(
    session: &mut Session,
    root: &RootDse,
    domain: &Dn,
    sid: &Sid,
    features: &Features,
) -> Result<Changes, ProvisionError> {
    let guids = Guids::read(session, root).await?;
    let reqs = rights::required(features, &guids)?;
    let mut holders: Vec<Dn> = vec![domain.clone()];
    for r in &reqs {
        let h = r.holder(domain);
        if !holders.contains(&h) {
            holders.push(h);
        }
    }
    let (mut added, mut present, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for holder in holders {
        let wanted: Vec<Ace> = reqs
            .iter()
            .filter(|r| r.holder(domain) == holder)
            .map(|r| r.ace(sid, &guids))
            .collect::<Result<_, _>>()?;
        let (mut desc, _) = match rights::read_dacl(session, &holder).await {
            Err(RightsError::Ad(AdError::Ldap { code: 32, .. })) => {
                return Err(ProvisionError::Invalid(
                    if reqs.iter().any(|r| {
                        r.target == rights::Target::RegisteredDevices && r.holder(domain) == holder
                    }) {
                        format!(
                            "device writeback: '{holder}' does not exist: the forest is not prepared \
                         for device writeback. As an Enterprise Admin, create the device \
                         registration containers (Entra Connect's Initialize-ADSyncDeviceWriteback \
                         does it), then run this again"
                        )
                    } else {
                        format!(
                            "'{holder}' does not exist: choose an existing OU, then run this again"
                        )
                    },
                ));
            }
            other => other?,
        };
        let dacl = desc.dacl.get_or_insert_with(|| Acl {
            revision: 4,
            aces: Vec::new(),
            trailing: Vec::new(),
        });
        let before = dacl.aces.len();
        let mut changed = false;
        // Drop this account's explicit ACEs that are no longer wanted.
        dacl.aces.retain(|a| {
            let ours = a.sid() == Some(sid) && !a.is_inherited();
            if ours && !wanted.iter().any(|w| same(w, a)) {
                removed.push((holder.clone(), a.to_string()));
                false
            } else {
                true
            }
        });
        changed |= dacl.aces.len() != before;
        for ace in wanted {
            if dacl.aces.iter().any(|a| same(a, &ace)) {
                present.push((holder.clone(), ace.to_string()));
                continue;
            }
            // Canonical order: explicit denies, explicit allows, then inherited ACEs.
            let at = dacl
                .aces
                .iter()
                .position(Ace::is_inherited)
                .unwrap_or(dacl.aces.len());
            added.push((holder.clone(), ace.to_string()));
            dacl.aces.insert(at, ace);
            changed = true;
        }
        if changed {
            desc.owner = None;
            desc.group = None;
            desc.sacl = None;
            session
                .modify_with(
                    &holder.to_string(),
                    vec![Mod::Replace(
                        b"nTSecurityDescriptor".to_vec(),
                        HashSet::from([desc.serialize()]),
                    )],
                    vec![crate::connectors::ad::dirsync::sd_flags(
                        crate::connectors::ad::dirsync::SD_DACL,
                    )],
                )
                .await?;
        }
    }
    Ok((added, present, removed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn passwords_are_long_and_complex_and_names_look_like_entra_connects() {
        for _ in 0..50 {
            let p = random_password(80).unwrap();
            let s = p.expose();
            assert_eq!(s.len(), 80);
            assert!(s.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(s.bytes().any(|b| b.is_ascii_lowercase()));
            assert!(s.bytes().any(|b| b.is_ascii_digit()));
            assert!(s.bytes().any(|b| !b.is_ascii_alphanumeric()));
        }
        assert_eq!(random_password(10).unwrap().expose().len(), 64);
        let n = random_name().unwrap();
        assert_eq!(n.len(), 17);
        assert!(n.starts_with("MSOL_"));
        assert!(n[5..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            dns_name(&Dn::parse("DC=lab,DC=example").unwrap()),
            "lab.example"
        );
        assert_eq!(
            unicode_pwd(&Secret::new("ab".into())),
            [0x22, 0, b'a', 0, b'b', 0, 0x22, 0]
        );
    }
}
