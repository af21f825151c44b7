//! Prerequisite checks for `hybridsync preflight` and the wizard: per AD forest (DNS SRV, ports,
//! TLS, bind, clock skew, functional level, recycle bin, schema, the account's rights), the tenant
//! (reachable, token, domains), the UPN suffixes in use vs the tenant's verified domains, and this
//! machine (configuration, running cycle, state directory, disk space).
//!
//! Invariants: checks change nothing (a probe file in the state directory, removed at once, is
//! the only write); each result has an id, a pass/warn/fail (or skip when a check it needs
//! failed), what was found and the fix; forests, the tenant and the local checks run
//! concurrently and each result is handed to the progress callback as it arrives; the report is
//! in declaration order whatever the timing.
//!
//! | file | role |
//! |---|---|
//! | [`report`] | results, the report, text and JSON |
//! | [`ad`] | the checks of one forest |
//! | [`tls`] | the TLS handshake probe with certificate details |
//! | [`tenant`] | token, domains, UPN suffix states |
//! | [`local`] | configuration, running cycle, state directory, disk |
//!
//! Status: the directory readiness report (IdFix-like, issue 8 part 2) is not built yet.

pub mod ad;
pub mod local;
pub mod report;
pub mod tenant;
pub mod tls;

use std::sync::Arc;

pub use ad::{AdContext, DirectoryTarget, Ports};
pub use local::LocalTarget;
pub use report::{CheckResult, Report, Status};

use crate::connectors::entra::EntraOptions;

/// Everything the preflight looks at.
#[derive(Debug)]
pub struct Inputs {
    /// The forests.
    pub directories: Vec<DirectoryTarget>,
    /// The tenant, when the configuration has a Graph target with a credential.
    pub tenant: Option<EntraOptions>,
    /// Why the tenant is not checked, when it is not (shown as a failed check).
    pub tenant_missing: Option<String>,
    /// This machine.
    pub local: Option<LocalTarget>,
    /// Features and clock offset.
    pub context: AdContext,
    /// `sign_in.continue_without_verified_domains`.
    pub continue_without_verified: bool,
}

/// A callback that sees each result as it is produced.
pub type Progress = Arc<dyn Fn(&CheckResult) + Send + Sync>;

fn numbered(group: usize, mut results: Vec<CheckResult>, progress: &Progress) -> Vec<CheckResult> {
    for (i, r) in results.iter_mut().enumerate() {
        r.order = (group, i);
        progress(r);
    }
    results
}

/// Run every check and return the report.
pub async fn run(inputs: Inputs, progress: Progress) -> Report {
    let mut tasks = tokio::task::JoinSet::new();
    let ctx = inputs.context.clone();
    let forests: Vec<String> = inputs
        .directories
        .iter()
        .map(|d| {
            if d.options.domain.is_empty() {
                d.name.clone()
            } else {
                d.options.domain.clone()
            }
        })
        .collect();
    let n_dirs = inputs.directories.len();
    for (i, d) in inputs.directories.into_iter().enumerate() {
        let ctx = ctx.clone();
        let p = progress.clone();
        tasks.spawn(async move {
            let (results, suffixes) = ad::check_directory(&d, &ctx).await;
            (i, numbered(i, results, &p), Some(suffixes), None)
        });
    }
    if let Some(options) = inputs.tenant {
        let p = progress.clone();
        tasks.spawn(async move {
            let (results, domains) = tenant::check_tenant(options).await;
            (n_dirs, numbered(n_dirs, results, &p), None, Some(domains))
        });
    } else if let Some(why) = &inputs.tenant_missing {
        let r = CheckResult::new(
            "tenant.token",
            "Token for the sync application",
            Status::Fail,
            why.clone(),
            "connect the tenant (hybridsync wizard) or fix [tenant.application]",
        );
        let results = numbered(n_dirs, vec![r], &progress);
        tasks.spawn(async move { (n_dirs, results, None, Some(None)) });
    }
    if let Some(local) = inputs.local {
        let p = progress.clone();
        tasks.spawn(async move {
            let results = tokio::task::spawn_blocking(move || local::check_local(&local))
                .await
                .unwrap_or_default();
            (n_dirs + 2, numbered(n_dirs + 2, results, &p), None, None)
        });
    }
    let mut all = Vec::new();
    let mut suffixes: Vec<(usize, ad::SuffixCounts)> = Vec::new();
    let mut domains: Option<Option<tenant::TenantDomains>> = None;
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, results, s, d)) = joined else {
            continue;
        };
        all.extend(results);
        if let Some(Some(s)) = s {
            suffixes.push((i, s));
        }
        if let Some(d) = d {
            domains = Some(d);
        }
    }
    // The UPN suffixes need both sides.
    suffixes.sort_by_key(|(i, _)| *i);
    let mut upn = Vec::new();
    for (i, s) in &suffixes {
        let forest = forests.get(*i).cloned().unwrap_or_default();
        upn.push(match &domains {
            Some(Some(d)) => {
                tenant::upn_suffix_result(&forest, s, d, inputs.continue_without_verified)
            }
            _ => CheckResult::skip(
                "upn.suffixes",
                format!("UPN suffixes of {forest} vs the tenant's verified domains"),
                "the tenant's domains could not be read (tenant.*)",
            ),
        });
    }
    all.extend(numbered(n_dirs + 1, upn, &progress));
    Report::new(all)
}
