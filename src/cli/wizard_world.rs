//! The world the wizard's effects act on, as the command line sees it: the credential store of
//! the state directory and the first cycle run through the same code as `hybridsync sync run`.
//!
//! Invariants: the cycle hook reads the configuration the wizard has just written (nothing is
//! handed over in memory), so the first cycle is exactly what `sync run` would do; it never prints
//! to the terminal (the wizard owns it): what it has to say comes back as lines or a failure.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::cli::Global;
use crate::cli::sync_cmd::{CycleFailure, one_cycle};
use crate::credentials::{BackendChoice, CredentialStore, Env};
use crate::effects::{CycleHook, Failure};
use crate::engine::run::CycleReport;
use crate::wizard::text::complete as t;

/// The credential store of `state_dir` with `choice` (root uses the encrypted file on `Auto`).
pub(crate) fn credential_store(
    g: &Global,
    state_dir: &std::path::Path,
    choice: BackendChoice,
) -> Option<Arc<CredentialStore>> {
    let choice = match choice {
        BackendChoice::Auto if g.ctx.is_root => BackendChoice::EncryptedFile,
        other => other,
    };
    CredentialStore::open_with(state_dir, &Env::from_process(), choice)
        .inspect_err(|e| tracing::warn!(error = %e, "cannot open the credential store"))
        .ok()
        .map(Arc::new)
}

/// Opens the credential store of a custom state directory chosen on "Install required
/// components" (the wizard's Configure page stores the secrets there).
pub(crate) fn store_opener(g: &Global, choice: BackendChoice) -> crate::effects::StoreOpener {
    let g = g.clone();
    Arc::new(move |dir: &std::path::Path| {
        credential_store(&g, dir, choice).ok_or_else(|| {
            Failure::new(
                format!("cannot open a credential store in {}", dir.display()),
                "check that the directory is on a local disk root can write; the wizard log names the cause",
            )
        })
    })
}

/// The lines the Complete page shows for a first cycle.
pub(crate) fn cycle_lines(
    r: &CycleReport,
    config: &std::path::Path,
    state: &std::path::Path,
    log: Option<&std::path::Path>,
) -> Vec<String> {
    let mut out = vec![t::first_cycle(
        r.run.0,
        r.status.as_str(),
        r.duration.as_secs_f64(),
    )];
    for c in &r.connectors {
        if c.import.added + c.import.rejected > 0 {
            out.push(t::imported(&c.name, c.import.added, c.import.rejected));
        }
        let e = &c.export;
        if e.adds + e.updates + e.deletes + e.failed > 0 {
            out.push(t::exported(&c.name, e.adds, e.updates, e.deletes, e.failed));
        }
        if let Some(h) = &c.export_held {
            out.push(t::held(&c.name, h));
        }
    }
    if r.error_count > 0 {
        out.push(t::errors(r.error_count));
    }
    out.push(t::state(&state.display().to_string()));
    out.push(t::history(&config.display().to_string()));
    if let Some(log) = log {
        out.push(t::log(&log.display().to_string()));
    }
    out
}

/// Run one full cycle from the configuration at the path given, as `sync run --full` does;
/// `log` is where standard error goes meanwhile (named on the Complete page).
pub(crate) fn cycle_hook(g: &Global, log: Option<PathBuf>) -> CycleHook {
    let g = g.clone();
    Arc::new(move |config_path: PathBuf, stop: Arc<AtomicBool>| {
        let mut g = Global {
            config_path: config_path.clone(),
            ..g.clone()
        };
        // A state directory the configuration names (the Custom path's choice, where the
        // wizard stored the secrets) is where the service will run: the first cycle runs there.
        if crate::config::load(&config_path).is_ok_and(|l| l.config.install.state_dir.is_some()) {
            g.state_dir_flag = None;
        }
        let handle = tokio::runtime::Handle::current();
        let report = one_cycle(
            &g,
            crate::engine::cycle::Requested::Full,
            false,
            stop,
            "wizard",
            &handle,
        );
        match report {
            Ok(r) => {
                let state = crate::config::load(&config_path)
                    .map(|l| g.state_dir(Some(&l.config)))
                    .unwrap_or_else(|_| g.state_dir(None));
                Ok(cycle_lines(&r, &config_path, &state, log.as_deref()))
            }
            Err(CycleFailure::Config) => Err(Failure::new(
                "the configuration just written does not load",
                format!(
                    "run 'hybridsync --config {} config check' to see why",
                    config_path.display()
                ),
            )),
            Err(CycleFailure::NotBuilt(why)) => Err(Failure::new(why, "see the README's status")),
            Err(CycleFailure::Busy(why)) => Err(Failure::new(
                why,
                "another cycle holds the store; wait for it to end, then retry",
            )),
            Err(CycleFailure::Other(e)) => Err(Failure::new(
                format!("{e:#}"),
                "fix the cause, then retry (the cycle starts again from the configuration)",
            )),
        }
    })
}

/// While the wizard owns the terminal, standard error (log lines, warnings) goes to a file, so
/// nothing is written over the screen; dropping this puts standard error back.
pub(crate) struct StderrToFile {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StderrToFile {
    /// Send standard error to `path` (appended, created 0600). On failure standard error stays.
    pub(crate) fn new(path: &std::path::Path) -> Self {
        use std::os::fd::AsFd as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let file = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)
            });
        let saved = file.ok().and_then(|f| {
            let saved = rustix::io::dup(std::io::stderr().as_fd()).ok()?;
            rustix::stdio::dup2_stderr(&f).ok()?;
            Some(saved)
        });
        Self { saved }
    }
}

impl Drop for StderrToFile {
    fn drop(&mut self) {
        if let Some(s) = self.saved.take() {
            let _ = rustix::stdio::dup2_stderr(&s);
        }
    }
}
