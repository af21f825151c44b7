//! `hybridsync preflight`: every prerequisite check against the configured forests, the tenant
//! and this machine, then the directory readiness report, as text with live progress on
//! standard error, or as JSON; `--csv FILE` also writes the readiness report as CSV.
//!
//! Invariants: changes nothing (except the CSV file asked for); exit 0 when nothing failed (warnings allowed), 1 when a check
//! failed or could not run, 3 when the configuration cannot be read at all (the local checks
//! still run and say so); secrets are read from the credential store and never printed.

use std::io::IsTerminal as _;
use std::sync::Arc;

use crate::cli::args::PreflightArgs;
use crate::cli::sync_cmd::{ad_connector, database, entra_options};
use crate::cli::{Global, Outcome, exit};
use crate::config::model::Directory;
use crate::config::{self, Config};
use crate::preflight::{self, AdContext, DirectoryTarget, Inputs, LocalTarget, Ports, Status};
use crate::provision::rights::Features;

/// The forests the preflight checks over LDAP (not those read from an LDIF file), each with the
/// features that concern its connector account: group and device writeback only in their
/// writeback forest, the rest everywhere ([`Features::for_forest`], as account creation uses).
fn checked_forests(c: &Config) -> Vec<(&Directory, Features)> {
    c.directories
        .iter()
        .filter(|d| d.ldif_file.is_none())
        .map(|d| (d, Features::for_forest(c, &d.forest)))
        .collect()
}

fn inputs(g: &Global, c: &Config) -> anyhow::Result<Inputs> {
    let base = g
        .config_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let resolve = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let mut directories = Vec::new();
    let mut problems = Vec::new();
    for (d, features) in checked_forests(c) {
        match ad_connector(g, c, d) {
            Ok(conn) => {
                let mut options = conn.options().clone();
                options.settings.ca_file = options.settings.ca_file.as_deref().map(resolve);
                directories.push(DirectoryTarget {
                    name: d.connector().to_owned(),
                    options,
                    ports: Ports::default(),
                    scope: d.scope.clone(),
                    features,
                });
            }
            Err(e) => problems.push(e),
        }
    }
    let (tenant, tenant_missing) = if c.tenant.ldif_file.is_some() {
        (None, None)
    } else {
        match entra_options(g, c, &resolve) {
            Ok(o) => (Some(o), None),
            Err(e) => (None, Some(e)),
        }
    };
    for p in &problems {
        eprintln!("preflight: {p}");
    }
    let readiness = crate::cli::rules_cmd::load_rules(g)?.map(Arc::new);
    if readiness.is_none() {
        eprintln!("preflight: the synchronization rules have errors (above): no readiness report");
    }
    Ok(Inputs {
        directories,
        tenant,
        tenant_missing,
        local: Some(LocalTarget {
            config: (g.config_path.clone(), Ok(())),
            state_dir: g.state_dir(Some(c)),
            database: database(g, c),
        }),
        context: AdContext { clock_offset: 0 },
        continue_without_verified: c.sign_in.continue_without_verified_domains,
        readiness,
    })
}

/// Run `hybridsync preflight`.
pub(crate) fn run(g: &Global, a: &PreflightArgs) -> Outcome {
    let (inputs, config_ok) = match config::load(&g.config_path) {
        Ok(loaded) => (inputs(g, &loaded.config)?, true),
        Err(e) => {
            let state_dir = g.state_dir(None);
            (
                Inputs {
                    directories: Vec::new(),
                    tenant: None,
                    tenant_missing: None,
                    local: Some(LocalTarget {
                        config: (g.config_path.clone(), Err(e.to_string())),
                        database: state_dir.join("hybridsync.db"),
                        state_dir,
                    }),
                    context: AdContext::default(),
                    continue_without_verified: false,
                    readiness: None,
                },
                false,
            )
        }
    };
    let show_progress = !a.json && std::io::stderr().is_terminal();
    let progress: preflight::Progress = Arc::new(move |r| {
        if show_progress {
            eprintln!("  {} {}", r.status.word(), r.title);
        }
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(preflight::run(inputs, progress));
    rt.shutdown_background();
    if let Some(path) = &a.csv {
        std::fs::write(path, preflight::readiness::csv(&report.readiness)).map_err(|e| {
            anyhow::anyhow!(
                "cannot write the readiness report to '{}': {e}",
                path.display()
            )
        })?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(if !config_ok {
        exit::CONFIG
    } else if report.worst() == Status::Fail {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::domain::Dn;

    fn two_forests() -> Config {
        crate::config::parse(include_str!(
            "../../tests/config/valid/two_forests_selected_ous.toml"
        ))
        .unwrap()
        .config
    }

    fn features_of<'a>(list: &'a [(&Directory, Features)], forest: &str) -> &'a Features {
        &list
            .iter()
            .find(|(d, _)| d.forest == forest)
            .unwrap_or_else(|| panic!("{forest} is not checked"))
            .1
    }

    #[test]
    fn writeback_is_checked_only_in_its_forest_the_rest_everywhere() {
        let mut c = two_forests();
        c.features.password_writeback.enabled = true;
        c.features.device_writeback.enabled = true;
        c.features.device_writeback.forest = Some("Fabrikam.Example".into());
        let list = checked_forests(&c);
        assert_eq!(list.len(), 2);
        let corp = features_of(&list, "corp.example.com");
        let fab = features_of(&list, "fabrikam.example");
        let ou = Dn::parse("OU=Cloud Groups,DC=corp,DC=example,DC=com").unwrap();
        assert_eq!(corp.group_writeback_ou, Some(ou));
        assert!(!corp.device_writeback);
        assert_eq!(fab.group_writeback_ou, None);
        assert!(fab.device_writeback, "the forest name matches in any case");
        for f in [corp, fab] {
            assert!(f.exchange_hybrid && f.password_writeback);
        }
        // The same per-forest features as account creation asks for.
        for (d, f) in &list {
            assert_eq!(*f, Features::for_forest(&c, &d.forest));
        }
    }

    #[test]
    fn unset_writeback_forest_is_the_first_directory() {
        let mut c = two_forests();
        c.features.group_writeback.forest = None;
        c.features.device_writeback.enabled = true;
        let list = checked_forests(&c);
        let corp = features_of(&list, "corp.example.com");
        let fab = features_of(&list, "fabrikam.example");
        assert!(corp.group_writeback_ou.is_some() && corp.device_writeback);
        assert!(fab.group_writeback_ou.is_none() && !fab.device_writeback);
        // Group writeback into the second forest: the first no longer checks it.
        c.features.group_writeback.forest = Some("fabrikam.example".into());
        c.features.group_writeback.target_ou = Some(crate::config::model::ObjectRef {
            dn: Dn::parse("OU=Cloud Groups,DC=fabrikam,DC=example").unwrap(),
            guid: None,
        });
        let list = checked_forests(&c);
        assert_eq!(
            features_of(&list, "corp.example.com").group_writeback_ou,
            None
        );
        assert_eq!(
            features_of(&list, "fabrikam.example")
                .group_writeback_ou
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("OU=Cloud Groups,DC=fabrikam,DC=example")
        );
    }

    #[test]
    fn forests_read_from_ldif_are_not_checked() {
        let mut c = two_forests();
        c.directories[1].ldif_file = Some("fabrikam.ldif".into());
        let list = checked_forests(&c);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].0.forest, "corp.example.com");
        assert!(list[0].1.group_writeback_ou.is_some());
    }
}
