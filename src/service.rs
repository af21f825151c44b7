//! `hybridsync service`: the scheduler that replaces Entra Connect's ADSync service and its
//! 30-minute task. It runs a cycle at start and then every `sync.interval` (a full cycle when
//! one is due), serves `/healthz` and Prometheus `/metrics` on a loopback address, honours the
//! wizard's suspend lock, and stops cleanly on SIGTERM or SIGINT.
//!
//! Invariants: a cycle runs on a blocking thread, never on the runtime's workers; a stop signal
//! only sets the cycle's stop flag, so the cycle ends at its next step boundary with everything
//! done so far committed (the next start continues from there); while the suspend lock is held
//! (the wizard is changing the configuration) no cycle starts, and one that finds the database
//! locked by another cycle is skipped, not queued; the HTTP listener answers GET only, reads at
//! most 8 KiB per request and never blocks the scheduler.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::engine::run::{CycleReport, unix_now};
use crate::engine::store::RunStatus;

/// Errors of the service layer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The metrics address cannot be used.
    #[error("cannot listen on {addr} for /metrics and /healthz: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The suspend lock file cannot be opened.
    #[error("cannot open the suspend lock {path}: {source}")]
    SuspendLock {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Signal handlers cannot be installed.
    #[error("cannot install the SIGTERM handler: {0}")]
    Signal(std::io::Error),
}

/// The lock the wizard holds while it changes the configuration: the scheduler starts no cycle
/// while it is held. An exclusive `flock` on `<state dir>/scheduler.suspend`, released by the
/// operating system when the holder exits.
#[derive(Debug)]
pub struct SuspendLock {
    _file: File,
}

impl SuspendLock {
    /// The lock file in `state_dir`.
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("scheduler.suspend")
    }

    fn open(state_dir: &Path) -> Result<File, ServiceError> {
        let path = Self::path(state_dir);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| ServiceError::SuspendLock { path, source })
    }

    /// Suspends the scheduler until the returned lock is dropped; `None` if someone else already
    /// holds it. `who` is written into the file for `sync status`.
    pub fn acquire(state_dir: &Path, who: &str) -> Result<Option<SuspendLock>, ServiceError> {
        let mut file = Self::open(state_dir)?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = writeln!(file, "{} {who}", std::process::id());
                Ok(Some(SuspendLock { _file: file }))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(ServiceError::SuspendLock {
                path: Self::path(state_dir),
                source,
            }),
        }
    }

    /// Blocks until nobody holds the lock (at once when it is free). The caller's thread
    /// waits: call it from a blocking task.
    pub fn wait_released(state_dir: &Path) -> Result<(), ServiceError> {
        let file = Self::open(state_dir)?;
        file.lock_shared()
            .map_err(|source| ServiceError::SuspendLock {
                path: Self::path(state_dir),
                source,
            })?;
        let _ = file.unlock();
        Ok(())
    }

    /// Whether someone holds the lock now.
    pub fn is_held(state_dir: &Path) -> Result<bool, ServiceError> {
        let file = Self::open(state_dir)?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(false)
            }
            Err(TryLockError::WouldBlock) => Ok(true),
            Err(TryLockError::Error(source)) => Err(ServiceError::SuspendLock {
                path: Self::path(state_dir),
                source,
            }),
        }
    }
}

/// What `/metrics` reports, updated after every cycle.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    /// Cycles by final status.
    pub cycles: BTreeMap<String, u64>,
    /// Duration of the last cycle.
    pub last_duration: Option<Duration>,
    /// Unix time of the last cycle that ended successfully.
    pub last_success: Option<u64>,
    /// Unix time the last cycle ended.
    pub last_end: Option<u64>,
    /// Per-object errors over all cycles.
    pub errors: u64,
    /// Per connector: objects imported by the last cycle (added + updated + unchanged).
    pub objects: BTreeMap<String, u64>,
    /// Per connector: pending exports after the last cycle.
    pub pending: BTreeMap<String, u64>,
    /// Per connector and stage ("import", "sync", "export"): the last cycle's time.
    pub stage_seconds: BTreeMap<&'static str, f64>,
    /// Cycles skipped because the wizard held the suspend lock or another cycle ran.
    pub skipped: u64,
    /// Whether the last cycle's export was stopped by the delete guard.
    pub guard_blocked: bool,
}

impl Metrics {
    /// Takes in a finished cycle.
    pub fn record(&mut self, r: &CycleReport) {
        *self
            .cycles
            .entry(r.status.as_str().to_string())
            .or_insert(0) += 1;
        self.last_duration = Some(r.duration);
        let now = unix_now();
        self.last_end = Some(now);
        if r.status == RunStatus::Success {
            self.last_success = Some(now);
        }
        self.errors += r.error_count;
        self.guard_blocked = r.guard_blocked;
        for c in &r.connectors {
            self.objects.insert(
                c.name.clone(),
                c.import.added + c.import.updated + c.import.unchanged,
            );
            self.pending.insert(c.name.clone(), c.export.pending);
        }
        self.stage_seconds
            .insert("import", r.stages.import.as_secs_f64());
        self.stage_seconds
            .insert("sync", r.stages.sync.as_secs_f64());
        self.stage_seconds
            .insert("export", r.stages.export.as_secs_f64());
    }

    /// Takes in a cycle that ended early (store failure, stop).
    pub fn record_failure(&mut self) {
        *self.cycles.entry("failed".into()).or_insert(0) += 1;
        self.last_end = Some(unix_now());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let label = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(
            o,
            "# HELP hybridsync_cycles_total Synchronization cycles by final status."
        );
        let _ = writeln!(o, "# TYPE hybridsync_cycles_total counter");
        for status in [
            "success",
            "completed-with-errors",
            "stopped-deletion-threshold-exceeded",
            "failed",
        ] {
            let n = self.cycles.get(status).copied().unwrap_or(0);
            let _ = writeln!(o, "hybridsync_cycles_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP hybridsync_cycle_duration_seconds Duration of the last cycle."
        );
        let _ = writeln!(o, "# TYPE hybridsync_cycle_duration_seconds gauge");
        let _ = writeln!(
            o,
            "hybridsync_cycle_duration_seconds {}",
            self.last_duration.map_or(0.0, |d| d.as_secs_f64())
        );
        let _ = writeln!(
            o,
            "# HELP hybridsync_stage_duration_seconds Duration of each stage of the last cycle."
        );
        let _ = writeln!(o, "# TYPE hybridsync_stage_duration_seconds gauge");
        for (stage, s) in &self.stage_seconds {
            let _ = writeln!(
                o,
                "hybridsync_stage_duration_seconds{{stage=\"{stage}\"}} {s}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP hybridsync_last_successful_cycle_timestamp_seconds Unix time the last successful cycle ended (0: none yet)."
        );
        let _ = writeln!(
            o,
            "# TYPE hybridsync_last_successful_cycle_timestamp_seconds gauge"
        );
        let _ = writeln!(
            o,
            "hybridsync_last_successful_cycle_timestamp_seconds {}",
            self.last_success.unwrap_or(0)
        );
        let _ = writeln!(
            o,
            "# HELP hybridsync_object_errors_total Per-object errors in all cycles."
        );
        let _ = writeln!(o, "# TYPE hybridsync_object_errors_total counter");
        let _ = writeln!(o, "hybridsync_object_errors_total {}", self.errors);
        let _ = writeln!(
            o,
            "# HELP hybridsync_connector_objects Objects each connector's last import read."
        );
        let _ = writeln!(o, "# TYPE hybridsync_connector_objects gauge");
        for (c, n) in &self.objects {
            let _ = writeln!(
                o,
                "hybridsync_connector_objects{{connector=\"{}\"}} {n}",
                label(c)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hybridsync_pending_exports Exports waiting after the last cycle."
        );
        let _ = writeln!(o, "# TYPE hybridsync_pending_exports gauge");
        for (c, n) in &self.pending {
            let _ = writeln!(
                o,
                "hybridsync_pending_exports{{connector=\"{}\"}} {n}",
                label(c)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hybridsync_delete_guard_blocked Whether the delete guard stopped the last export (1) or not (0)."
        );
        let _ = writeln!(o, "# TYPE hybridsync_delete_guard_blocked gauge");
        let _ = writeln!(
            o,
            "hybridsync_delete_guard_blocked {}",
            u8::from(self.guard_blocked)
        );
        let _ = writeln!(
            o,
            "# HELP hybridsync_cycles_skipped_total Cycles not started (wizard suspend lock, database busy)."
        );
        let _ = writeln!(o, "# TYPE hybridsync_cycles_skipped_total counter");
        let _ = writeln!(o, "hybridsync_cycles_skipped_total {}", self.skipped);
        o
    }
}

/// Serves `/healthz` and `/metrics` until the process ends.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    metrics: Arc<Mutex<Metrics>>,
) -> Result<tokio::task::JoinHandle<()>, ServiceError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Listen { addr, source })?;
    tracing::info!(%addr, "serving /metrics and /healthz");
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                let read = tokio::time::timeout(Duration::from_secs(5), async {
                    while len < buf.len() {
                        let n = socket.read(&mut buf[len..]).await?;
                        if n == 0 {
                            break;
                        }
                        len += n;
                        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    Ok::<_, std::io::Error>(())
                })
                .await;
                if !matches!(read, Ok(Ok(()))) {
                    return;
                }
                let head = String::from_utf8_lossy(&buf[..len]);
                let mut parts = head.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let (status, ctype, body) = match (method, path) {
                    ("GET", "/healthz") => ("200 OK", "text/plain", "ok\n".to_string()),
                    ("GET", "/metrics") => {
                        let text = metrics.lock().map(|m| m.render()).unwrap_or_default();
                        ("200 OK", "text/plain; version=0.0.4", text)
                    }
                    ("GET", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
                    _ => (
                        "405 Method Not Allowed",
                        "text/plain",
                        "only GET\n".to_string(),
                    ),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    }))
}

/// What one scheduled cycle came to.
pub enum Tick {
    /// It ran.
    Ran(Box<CycleReport>),
    /// It did not start (suspended, database busy): why.
    Skipped(String),
    /// It failed as a whole (or was stopped).
    Failed(String),
}

/// Runs cycles until SIGTERM/SIGINT: one now, then every `interval`. `cycle` runs one cycle on
/// the calling (blocking) thread, watching the stop flag it is given.
pub async fn run_scheduler<F>(
    interval: Duration,
    state_dir: PathBuf,
    metrics: Arc<Mutex<Metrics>>,
    cycle: F,
) -> Result<(), ServiceError>
where
    F: Fn(Arc<AtomicBool>) -> Tick + Send + Sync + 'static,
{
    use tokio::signal::unix::{SignalKind, signal};
    let stop = Arc::new(AtomicBool::new(false));
    let mut term = signal(SignalKind::terminate()).map_err(ServiceError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServiceError::Signal)?;
    let notify = Arc::new(tokio::sync::Notify::new());
    {
        let stop = stop.clone();
        let notify = notify.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stop requested: finishing the current step, then exiting");
            stop.store(true, Ordering::SeqCst);
            notify.notify_waiters();
        });
    }
    let cycle = Arc::new(cycle);
    while !stop.load(Ordering::SeqCst) {
        let suspended = SuspendLock::is_held(&state_dir)?;
        if suspended {
            tracing::info!("the wizard holds the suspend lock; no cycle now");
            if let Ok(mut m) = metrics.lock() {
                m.skipped += 1;
            }
        } else {
            let c = cycle.clone();
            let s = stop.clone();
            let tick = tokio::task::spawn_blocking(move || c(s))
                .await
                .unwrap_or_else(|e| Tick::Failed(format!("the cycle thread failed: {e}")));
            if let Ok(mut m) = metrics.lock() {
                match &tick {
                    Tick::Ran(r) => m.record(r),
                    Tick::Skipped(_) => m.skipped += 1,
                    Tick::Failed(_) => m.record_failure(),
                }
            }
            match tick {
                Tick::Ran(r) => tracing::info!(
                    run = r.run.0,
                    status = %r.status,
                    seconds = r.duration.as_secs_f64(),
                    errors = r.error_count,
                    "cycle finished"
                ),
                Tick::Skipped(why) => tracing::info!("cycle skipped: {why}"),
                Tick::Failed(why) => tracing::error!("cycle failed: {why}"),
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if suspended {
            // Resume as soon as the wizard closes: a thread waits for the lock to be free.
            // Should that wait fail, look again within a minute.
            let dir = state_dir.clone();
            let released = tokio::task::spawn_blocking(move || SuspendLock::wait_released(&dir));
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = notify.notified() => {}
                r = released => {
                    if !matches!(r, Ok(Ok(()))) {
                        tokio::select! {
                            _ = tokio::time::sleep(interval.min(Duration::from_secs(60))) => {}
                            _ = notify.notified() => {}
                        }
                    }
                }
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = notify.notified() => {}
            }
        }
    }
    tracing::info!("service stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspend_lock_is_seen_while_held_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!SuspendLock::is_held(dir.path()).unwrap());
        let lock = SuspendLock::acquire(dir.path(), "wizard").unwrap().unwrap();
        assert!(SuspendLock::is_held(dir.path()).unwrap());
        assert!(
            SuspendLock::acquire(dir.path(), "second")
                .unwrap()
                .is_none()
        );
        drop(lock);
        assert!(!SuspendLock::is_held(dir.path()).unwrap());
    }

    #[test]
    fn metrics_render_as_prometheus_text() {
        let mut m = Metrics::default();
        m.pending.insert("entra".into(), 3);
        m.cycles.insert("success".into(), 2);
        let text = m.render();
        assert!(text.contains("hybridsync_cycles_total{status=\"success\"} 2"));
        assert!(text.contains("hybridsync_pending_exports{connector=\"entra\"} 3"));
        assert!(text.contains("# TYPE hybridsync_cycle_duration_seconds gauge"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
