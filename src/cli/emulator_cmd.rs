//! `hybridsync tenant-emulator`: run the local tenant in the foreground until Ctrl-C or SIGTERM.
//!
//! Invariants: prints exactly one line on standard output once the emulator accepts connections
//! (scripts wait for it); keys and the local CA live in `<state-dir>/tenant-emulator`; the
//! directory is saved to `--state` on shutdown when given.

use crate::cli::args::EmulatorArgs;
use crate::cli::{Global, Outcome, exit};
use crate::emulator::{self, EmulatorConfig, FaultConfig};

/// Run the emulator until interrupted.
pub fn run(g: &Global, a: &EmulatorArgs) -> Outcome {
    for (name, rate) in [("--fail-rate", a.fail_rate), ("--drop-rate", a.drop_rate)] {
        if !(0.0..=1.0).contains(&rate) {
            eprintln!("hybridsync tenant-emulator: {name} must be between 0 and 1");
            return Ok(exit::USAGE);
        }
    }
    if a.time_scale <= 0.0 {
        eprintln!("hybridsync tenant-emulator: --time-scale must be above 0");
        return Ok(exit::USAGE);
    }
    if a.throttle_scale <= 0.0 {
        eprintln!("hybridsync tenant-emulator: --throttle-scale must be above 0");
        return Ok(exit::USAGE);
    }
    let config = EmulatorConfig {
        listen: a.listen,
        state_dir: g.state_dir(None).join("tenant-emulator"),
        ca_out: a.ca_out.clone(),
        bootstrap_out: a.bootstrap_out.clone(),
        tenant_id: a.tenant.clone(),
        tenant_name: a.tenant_name.clone(),
        domains: a.domains.clone(),
        plain_http: a.plain_http,
        faults: FaultConfig {
            throttle: !a.no_throttle,
            throttle_scale: a.throttle_scale,
            time_scale: a.time_scale,
            fail_rate: a.fail_rate,
            latency_ms: a.latency_ms,
            drop_rate: a.drop_rate,
        },
        seed: a.seed.clone(),
        state_file: a.state.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = emulator::start(config).await?;
        let b = &running.bootstrap;
        let ca = b.ca_file.as_ref().map_or_else(
            || "not written (use --ca-out)".to_string(),
            |p| p.display().to_string(),
        );
        println!(
            "tenant emulator ready on {} (authority {}, Graph {}, CA {ca})",
            b.base_url, b.authority, b.graph_base_url
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        running.shutdown().await?;
        Ok(exit::SUCCESS)
    })
}
