//! `hybridsync service`: the scheduler loop of [`crate::service`], with cycles built from the
//! configuration file afresh each time.
//!
//! Invariants: the configuration is read at start (to fail early, with exit 3, on a broken
//! file) and again before every cycle; a cycle that cannot start (database busy, configuration
//! broken by a half-finished edit) is logged and retried at the next tick, never fatal.

use std::sync::{Arc, Mutex};

use crate::cli::args::ServiceArgs;
use crate::cli::config_cmd::load_or_report;
use crate::cli::sync_cmd::{CycleFailure, one_cycle};
use crate::cli::{Global, Outcome, exit};
use crate::engine::cycle::Requested;
use crate::service::{Metrics, Tick, run_scheduler, serve_metrics};

/// Runs the service until SIGTERM or SIGINT.
pub(crate) fn run(g: &Global, a: &ServiceArgs) -> Outcome {
    let Some(loaded) = load_or_report(&g.config_path)? else {
        return Ok(exit::CONFIG);
    };
    let c = loaded.config;
    let state_dir = g.state_dir(Some(&c));
    std::fs::create_dir_all(&state_dir)?;
    let interval = c.sync.interval.as_duration();
    let listen = a.metrics_listen.or(c.service.metrics_listen);
    let metrics = Arc::new(Mutex::new(Metrics::default()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let global = g.clone();
    let scheduler_enabled = c.sync.scheduler_enabled;
    let result = rt.block_on(async move {
        if let Some(addr) = listen {
            serve_metrics(addr, metrics.clone()).await?;
        }
        if !scheduler_enabled {
            tracing::warn!(
                "sync.scheduler_enabled is false: no cycle runs on a schedule; /metrics and \
                 /healthz stay up until the service is stopped"
            );
        }
        tracing::info!(
            interval_secs = interval.as_secs(),
            state_dir = %state_dir.display(),
            "service started"
        );
        let cycle = move |stop| {
            if !scheduler_enabled {
                return Tick::Skipped("the scheduler is disabled (sync.scheduler_enabled)".into());
            }
            // The cycle's connectors run on the service's own runtime (this is one of its
            // blocking threads).
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                return Tick::Failed("no async runtime on the cycle thread".into());
            };
            match one_cycle(&global, Requested::Auto, false, stop, "service", &rt) {
                Ok(r) => Tick::Ran(Box::new(r)),
                Err(CycleFailure::Busy(why)) => Tick::Skipped(why),
                Err(CycleFailure::Config) => {
                    Tick::Failed("the configuration has errors (see above)".into())
                }
                Err(CycleFailure::NotBuilt(why)) => Tick::Failed(why),
                Err(CycleFailure::Other(e)) => Tick::Failed(format!("{e:#}")),
            }
        };
        run_scheduler(interval, state_dir, metrics, cycle).await?;
        Ok::<(), anyhow::Error>(())
    });
    // A thread may still wait for the wizard's suspend lock: do not wait for it.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    Ok(exit::SUCCESS)
}
