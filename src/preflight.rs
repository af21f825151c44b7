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
//! | [`readiness`] | the directory readiness report (IdFix-like), run after the checks |

pub mod ad;
pub mod local;
pub mod readiness;
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
    /// What the checks of every forest share (each forest's features are its own, in
    /// [`DirectoryTarget::features`]).
    pub context: AdContext,
    /// `sign_in.continue_without_verified_domains`.
    pub continue_without_verified: bool,
    /// The rules in effect: when given, the readiness report runs over every forest whose bind
    /// worked.
    pub readiness: Option<Arc<crate::engine::rules::RuleSet>>,
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
    let forests: Vec<String> = inputs.directories.iter().map(ad::forest_name).collect();
    let n_dirs = inputs.directories.len();
    let targets = inputs.directories.clone();
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
        upn.push(
            match &domains {
                Some(Some(d)) => {
                    tenant::upn_suffix_result(&forest, s, d, inputs.continue_without_verified)
                }
                _ => CheckResult::skip(
                    "upn.suffixes",
                    format!("UPN suffixes of {forest} vs the tenant's verified domains"),
                    "the tenant's domains could not be read (tenant.*)",
                ),
            }
            .in_forest(&forest),
        );
    }
    all.extend(numbered(n_dirs + 1, upn, &progress));
    let mut readiness = Vec::new();
    if let Some(rules) = &inputs.readiness {
        let tenant_domains = domains.clone().flatten();
        let mut results = Vec::new();
        for (i, d) in targets.iter().enumerate() {
            let forest = forests.get(i).cloned().unwrap_or_default();
            let bound = all
                .iter()
                .any(|c| c.order.0 == i && c.id == "ad.bind" && c.status == Status::Pass);
            if !bound {
                results.push(
                    CheckResult::skip(
                        "ad.readiness",
                        format!("Directory readiness of {forest}"),
                        "the bind failed (ad.bind)",
                    )
                    .in_forest(&forest),
                );
                continue;
            }
            match readiness_of(d, &forest, rules, tenant_domains.as_ref()).await {
                Ok(r) => {
                    results.push(readiness_result(&r).in_forest(&forest));
                    readiness.push(r);
                }
                Err(e) => results.push(
                    CheckResult::new(
                        "ad.readiness",
                        format!("Directory readiness of {forest}"),
                        Status::Fail,
                        format!("the full import for the report failed: {e}"),
                        "fix the connector account's read access (see ad.permissions)",
                    )
                    .in_forest(&forest),
                ),
            }
        }
        all.extend(numbered(n_dirs + 3, results, &progress));
    }
    let mut report = Report::new(all);
    report.readiness = readiness;
    report
}

/// A full import of one forest, its in-scope objects put through the rules.
async fn readiness_of(
    d: &DirectoryTarget,
    forest: &str,
    rules: &crate::engine::rules::RuleSet,
    domains: Option<&tenant::TenantDomains>,
) -> Result<readiness::ReadinessReport, String> {
    use crate::engine::connector::{Connector, ConnectorError, ImportSink};
    use crate::engine::model::{ImportItem, ImportedObject};
    struct Sink(Vec<ImportedObject>);
    impl ImportSink for Sink {
        fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
            if let ImportItem::Object(o) = item {
                self.0.push(o);
            }
            Ok(())
        }
    }
    let connector = crate::connectors::ad::AdConnector::new(d.options.clone());
    let mut sink = Sink(Vec::new());
    connector
        .full_import(&mut sink)
        .await
        .map_err(|e| e.to_string())?;
    let objects: Vec<ImportedObject> = sink
        .0
        .into_iter()
        .filter(|o| crate::engine::filter::in_scope(&d.scope, &o.dn, &|_| None))
        .collect();
    let params = crate::engine::run::directory_params(&d.name, forest, forest);
    Ok(readiness::analyze(
        forest, &objects, rules, &params, domains,
    ))
}

fn readiness_result(r: &readiness::ReadinessReport) -> CheckResult {
    let s = &r.summary;
    let title = format!("Directory readiness of {}", r.forest);
    let found = format!(
        "{} objects read: {} would synchronize ({} with errors, {} with warnings only), {} \
         filtered by cloudFiltered, {} out of scope; {} issues",
        s.objects,
        s.synchronized,
        s.objects_with_errors,
        s.objects_with_warnings,
        s.filtered,
        s.out_of_scope,
        s.issues
    );
    if s.issues == 0 {
        CheckResult::pass("ad.readiness", title, found)
    } else {
        CheckResult::new(
            "ad.readiness",
            title,
            Status::Warn,
            found,
            "fix the values the readiness report lists (below; --csv FILE writes them for a \
             spreadsheet): objects with errors fail to synchronize until then",
        )
    }
}
