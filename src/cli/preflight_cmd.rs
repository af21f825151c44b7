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
use crate::config::{self, Config};
use crate::preflight::{self, AdContext, DirectoryTarget, Inputs, LocalTarget, Ports, Status};
use crate::provision::rights::Features;

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
    for d in c.directories.iter().filter(|d| d.ldif_file.is_none()) {
        match ad_connector(g, c, d) {
            Ok(conn) => {
                let mut options = conn.options().clone();
                options.settings.ca_file = options.settings.ca_file.as_deref().map(resolve);
                directories.push(DirectoryTarget {
                    name: d.connector().to_owned(),
                    options,
                    ports: Ports::default(),
                    scope: d.scope.clone(),
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
        context: AdContext {
            features: Features::from_config(c),
            clock_offset: 0,
        },
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
