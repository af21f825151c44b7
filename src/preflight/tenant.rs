//! The tenant checks: the identity platform and Microsoft Graph answer, the sync application
//! obtains a token with its configured credential, and the UPN suffixes in use on premises are
//! compared with the tenant's domains (Verified / Not verified / Not added, as the wizard's
//! "Microsoft Entra sign-in configuration" page shows them).
//!
//! Invariants: reads only (a token and `GET /domains`); the credential is never shown; a suffix
//! is "Verified" only when the tenant lists it with `isVerified: true`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::ad::SuffixCounts;
use super::report::{CheckResult, Status};
use crate::connectors::entra::auth::{self, AuthError};
use crate::connectors::entra::client::{CallError, Request};
use crate::connectors::entra::{EntraOptions, GraphClient, RetryPolicy, TokenSource, http_client};

/// The tenant's domains: name (lower case) -> verified.
pub type TenantDomains = BTreeMap<String, bool>;

/// A suffix's state, as the wizard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuffixState {
    /// The tenant has it, verified.
    Verified,
    /// The tenant has it, not verified.
    NotVerified,
    /// The tenant does not have it.
    NotAdded,
}

impl SuffixState {
    /// The wizard's words.
    pub fn text(self) -> &'static str {
        match self {
            SuffixState::Verified => "Verified",
            SuffixState::NotVerified => "Not verified",
            SuffixState::NotAdded => "Not added",
        }
    }
}

/// The state of `suffix` in `domains`.
pub fn suffix_state(suffix: &str, domains: &TenantDomains) -> SuffixState {
    match domains.get(&suffix.to_ascii_lowercase()) {
        Some(true) => SuffixState::Verified,
        Some(false) => SuffixState::NotVerified,
        None => SuffixState::NotAdded,
    }
}

/// Whether a suffix can never be verified (not a public DNS name).
fn non_routable(suffix: &str) -> bool {
    let tld = suffix.rsplit('.').next().unwrap_or_default();
    !suffix.contains('.')
        || matches!(
            tld,
            "local" | "lan" | "internal" | "corp" | "home" | "localdomain" | "intranet" | "test"
        )
}

/// Sign in as the sync application and read the tenant's domains.
pub async fn check_tenant(options: EntraOptions) -> (Vec<CheckResult>, Option<TenantDomains>) {
    let tenant = options.tenant.clone();
    let mut out = Vec::new();
    let token_title = format!(
        "Token for the sync application {} ({tenant})",
        options.client_id
    );
    let reach_title = format!("Tenant {tenant} reachable");
    let http = match http_client(options.ca_file.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            out.push(CheckResult::new(
                "tenant.reachable",
                reach_title,
                Status::Fail,
                e.to_string(),
                "fix [tenant] ca_file (a readable PEM file with the CA that signs the endpoint)",
            ));
            out.push(CheckResult::skip(
                "tenant.token",
                token_title,
                "tenant.reachable failed",
            ));
            return (out, None);
        }
    };
    let token_url = auth::token_url(&options.authority_host, &options.tenant);
    let tokens = TokenSource::new(
        http.clone(),
        token_url.clone(),
        options.client_id.clone(),
        options.scope.clone(),
        options.credential,
    );
    let token = tokens.token().await;
    match &token {
        Err(AuthError::Unreachable { url, detail }) => {
            out.push(CheckResult::new(
                "tenant.reachable",
                reach_title,
                Status::Fail,
                format!("{url}: {detail}"),
                "allow HTTPS (443) from this machine to the identity platform and Microsoft \
                 Graph (login.microsoftonline.com, graph.microsoft.com), directly or through the \
                 proxy in HTTPS_PROXY",
            ));
            out.push(CheckResult::skip(
                "tenant.token",
                token_title,
                "tenant.reachable failed",
            ));
            return (out, None);
        }
        _ => out.push(CheckResult::pass(
            "tenant.reachable",
            reach_title,
            format!("the identity platform answered at {token_url}"),
        )),
    }
    if let Err(e) = token {
        let fix = match e {
            AuthError::Certificate(_) => {
                "store the application's certificate and private key again (hybridsync secrets \
                 set <name>) or rotate it (hybridsync config rotate-certificate)"
            }
            _ => {
                "check [tenant.application] client_id and its credential in the credential \
                 store; the application must exist in the tenant with that certificate or secret"
            }
        };
        out.push(CheckResult::new(
            "tenant.token",
            token_title,
            Status::Fail,
            e.to_string(),
            fix,
        ));
        return (out, None);
    }
    out.push(CheckResult::pass(
        "tenant.token",
        token_title,
        "a client-credentials token was issued",
    ));
    let retry = RetryPolicy {
        attempts: 2,
        timeout: Duration::from_secs(30),
        ..RetryPolicy::default()
    };
    let graph = GraphClient::new(http, options.graph_base, tokens, options.write_limit, retry);
    let domains_title = format!("Domains of tenant {tenant}");
    match graph.get_all(Request::get("/domains")).await {
        Ok(list) => {
            let domains: TenantDomains = list
                .iter()
                .filter_map(|d| {
                    Some((
                        d.get("id")?.as_str()?.to_ascii_lowercase(),
                        d.get("isVerified")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    ))
                })
                .collect();
            out.push(CheckResult::pass(
                "tenant.domains",
                domains_title,
                domains
                    .iter()
                    .map(|(d, v)| format!("{d} ({})", if *v { "verified" } else { "not verified" }))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            (out, Some(domains))
        }
        Err(e) => {
            let fix = match e {
                CallError::Protocol(_) => {
                    "grant the sync application the Domain.Read.All application permission \
                     (admin consent)"
                }
                _ => "allow HTTPS to Microsoft Graph from this machine",
            };
            out.push(CheckResult::new(
                "tenant.domains",
                domains_title,
                Status::Fail,
                e.to_string(),
                fix,
            ));
            (out, None)
        }
    }
}

/// The UPN-suffix comparison: every suffix in use (or declared by the forest) with its state.
pub fn upn_suffix_result(
    forest: &str,
    suffixes: &SuffixCounts,
    domains: &TenantDomains,
    continue_without_verified: bool,
) -> CheckResult {
    let title = format!("UPN suffixes of {forest} vs the tenant's verified domains");
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (suffix, users) in suffixes {
        let state = suffix_state(suffix, domains);
        let noun = if *users == 1 { "user" } else { "users" };
        found.push(format!("{suffix}: {} ({users} {noun})", state.text()));
        if state != SuffixState::Verified && *users > 0 {
            problems.push((suffix.clone(), state));
        }
    }
    if found.is_empty() {
        return CheckResult::new(
            "upn.suffixes",
            title,
            Status::Warn,
            "no user has a userPrincipalName",
            "set userPrincipalName on the users to sync",
        );
    }
    if problems.is_empty() {
        return CheckResult::pass("upn.suffixes", title, found.join("\n"));
    }
    let mut fix: Vec<String> = problems
        .iter()
        .map(|(s, state)| match state {
            _ if non_routable(s) => format!(
                "{s} can never be verified (not a public DNS name): add a routable UPN suffix \
                 to the forest and change these users' UPNs to it"
            ),
            SuffixState::NotAdded => format!(
                "add {s} to the tenant (POST /domains or the Entra admin center) and verify it \
                 with the DNS TXT record it gives"
            ),
            _ => format!("verify {s} in the tenant (publish the DNS TXT record it shows)"),
        })
        .collect();
    fix.push(
        "users whose UPN suffix is not verified sign in as <name>@<tenant>.onmicrosoft.com \
         instead of with their on-premises UPN"
            .into(),
    );
    CheckResult::new(
        "upn.suffixes",
        title,
        if continue_without_verified {
            Status::Warn
        } else {
            Status::Fail
        },
        found.join("\n"),
        if continue_without_verified {
            fix.join("\n")
        } else {
            format!(
                "{}\nor accept it: set sign_in.continue_without_verified_domains = true",
                fix.join("\n")
            )
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn suffix_states_are_the_wizards() {
        let domains: TenantDomains = [
            ("contoso.onmicrosoft.com".to_owned(), true),
            ("lab.example".to_owned(), true),
            ("example.com".to_owned(), false),
        ]
        .into();
        assert_eq!(suffix_state("LAB.example", &domains), SuffixState::Verified);
        assert_eq!(
            suffix_state("example.com", &domains),
            SuffixState::NotVerified
        );
        assert_eq!(suffix_state("lab.local", &domains), SuffixState::NotAdded);
        let counts: SuffixCounts = [
            ("lab.example".to_owned(), 41),
            ("example.com".to_owned(), 7),
            ("lab.local".to_owned(), 1),
        ]
        .into();
        let r = upn_suffix_result("lab.example", &counts, &domains, false);
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.found.contains("example.com: Not verified (7 users)"),
            "{}",
            r.found
        );
        assert!(
            r.found.contains("lab.local: Not added (1 user)"),
            "{}",
            r.found
        );
        assert!(
            r.fix.contains("lab.local can never be verified"),
            "{}",
            r.fix
        );
        assert!(r.fix.contains("verify example.com"), "{}", r.fix);
        let r = upn_suffix_result("lab.example", &counts, &domains, true);
        assert_eq!(r.status, Status::Warn);
    }
}
