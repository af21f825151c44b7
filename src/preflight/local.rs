//! The checks of this machine: the configuration file (present and valid), whether a sync cycle
//! or the service holds the store right now, whether the state directory is writable, and the
//! free disk space there.
//!
//! Invariants: the only write is a probe file in the state directory, removed at once; the store
//! lock is probed with a non-blocking shared lock that is released immediately.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::report::{CheckResult, Status};

/// What the local checks look at.
#[derive(Debug, Clone)]
pub struct LocalTarget {
    /// The configuration file, and the result of loading it (`Err`: the problems found).
    pub config: (PathBuf, Result<(), String>),
    /// The state directory.
    pub state_dir: PathBuf,
    /// The store's database file.
    pub database: PathBuf,
}

/// Free space below which the check warns, and fails.
pub const WARN_FREE_BYTES: u64 = 1 << 30;
/// Free space below which the check fails.
pub const FAIL_FREE_BYTES: u64 = 100 << 20;

/// Every local check.
pub fn check_local(t: &LocalTarget) -> Vec<CheckResult> {
    vec![
        config(t),
        service(t),
        state_dir(&t.state_dir),
        disk(&t.state_dir),
    ]
}

fn config(t: &LocalTarget) -> CheckResult {
    let (path, loaded) = &t.config;
    let title = "Configuration file".to_owned();
    match loaded {
        Ok(()) => CheckResult::pass(
            "local.config",
            title,
            format!("'{}' loads and validates", path.display()),
        ),
        Err(e) => CheckResult::new(
            "local.config",
            title,
            Status::Fail,
            format!("'{}': {e}", path.display()),
            "fix the file (hybridsync config check shows every problem) or create it with \
             hybridsync wizard",
        ),
    }
}

fn service(t: &LocalTarget) -> CheckResult {
    let title = "Running sync cycle or service".to_owned();
    let lock = {
        let mut name = t.database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    };
    let file = match OpenOptions::new().read(true).open(&lock) {
        Ok(f) => f,
        Err(_) => {
            return CheckResult::pass(
                "local.service",
                title,
                format!(
                    "no cycle has run here yet ('{}' does not exist)",
                    lock.display()
                ),
            );
        }
    };
    let held = |mut f: &File| -> String {
        let mut text = String::new();
        let _ = f.read_to_string(&mut text);
        text.trim().to_owned()
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            CheckResult::pass("local.service", title, "no sync cycle is running now")
        }
        Err(TryLockError::WouldBlock) => CheckResult::new(
            "local.service",
            title,
            Status::Warn,
            format!("a sync cycle is running now ({})", held(&file)),
            "changes to the configuration wait for it: run the wizard (it suspends the \
             scheduler) or stop the service while you change the setup",
        ),
        Err(TryLockError::Error(e)) => CheckResult::new(
            "local.service",
            title,
            Status::Warn,
            format!("cannot probe '{}': {e}", lock.display()),
            "check the permissions of the state directory",
        ),
    }
}

fn state_dir(dir: &Path) -> CheckResult {
    let title = "State directory writable".to_owned();
    let fix = format!(
        "create '{}' owned by the account that runs hybridsync (mode 0700), or choose another \
         with --state-dir / HYBRIDSYNC_STATE_DIR",
        dir.display()
    );
    if !dir.is_dir() {
        let parent = dir.ancestors().skip(1).find(|p| p.is_dir());
        let writable = parent.is_some_and(|p| {
            let probe = p.join(format!(".hybridsync-preflight-{}", std::process::id()));
            let ok = std::fs::write(&probe, b"probe").is_ok();
            let _ = std::fs::remove_file(&probe);
            ok
        });
        return if writable {
            CheckResult::new(
                "local.state_dir",
                title,
                Status::Warn,
                format!("'{}' does not exist yet; it can be created", dir.display()),
                "nothing to do: the first sync creates it (or create it now, mode 0700)",
            )
        } else {
            CheckResult::new(
                "local.state_dir",
                title,
                Status::Fail,
                format!("'{}' does not exist and cannot be created", dir.display()),
                fix,
            )
        };
    }
    let probe = dir.join(format!(".preflight-{}", std::process::id()));
    match std::fs::write(&probe, b"probe") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            CheckResult::pass(
                "local.state_dir",
                title,
                format!("'{}' is writable", dir.display()),
            )
        }
        Err(e) => CheckResult::new(
            "local.state_dir",
            title,
            Status::Fail,
            format!("cannot write in '{}': {e}", dir.display()),
            fix,
        ),
    }
}

/// Human-readable bytes.
pub fn bytes_text(b: u64) -> String {
    const GB: f64 = (1u64 << 30) as f64;
    const MB: f64 = (1u64 << 20) as f64;
    if b as f64 >= GB {
        format!("{:.1} GiB", b as f64 / GB)
    } else {
        format!("{:.0} MiB", b as f64 / MB)
    }
}

/// The verdict for `free` bytes in `dir`.
pub fn disk_result(dir: &Path, free: u64) -> CheckResult {
    let title = "Free disk space for the state directory".to_owned();
    let found = format!(
        "{} free on the file system of '{}'",
        bytes_text(free),
        dir.display()
    );
    let fix = "free space or move the state directory (the store grows with the directory: \
               about 100 GB for 100,000 objects is Microsoft's sizing for Entra Connect, \
               hybridsync needs far less, but keep at least 1 GiB free)";
    if free < FAIL_FREE_BYTES {
        CheckResult::new("local.disk", title, Status::Fail, found, fix)
    } else if free < WARN_FREE_BYTES {
        CheckResult::new("local.disk", title, Status::Warn, found, fix)
    } else {
        CheckResult::pass("local.disk", title, found)
    }
}

fn disk(dir: &Path) -> CheckResult {
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or_else(|| Path::new("/"));
    match rustix::fs::statvfs(existing) {
        Ok(s) => disk_result(dir, s.f_bavail.saturating_mul(s.f_frsize)),
        Err(e) => CheckResult::new(
            "local.disk",
            "Free disk space for the state directory",
            Status::Warn,
            format!(
                "cannot read the free space of '{}': {e}",
                existing.display()
            ),
            "check the free space by hand (df -h)",
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn local_checks_on_a_fresh_directory() {
        let dir = tempfile::tempdir().unwrap();
        let t = LocalTarget {
            config: (dir.path().join("hybridsync.toml"), Err("missing".into())),
            state_dir: dir.path().join("state"),
            database: dir.path().join("state/hybridsync.db"),
        };
        let r = check_local(&t);
        assert_eq!(r[0].status, Status::Fail);
        assert_eq!(r[1].status, Status::Pass, "{:?}", r[1]);
        assert_eq!(r[2].status, Status::Warn, "{:?}", r[2]);
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        assert_eq!(check_local(&t)[2].status, Status::Pass);
        assert_ne!(r[3].status, Status::Skip);
        assert_eq!(disk_result(dir.path(), 50 << 20).status, Status::Fail);
        assert_eq!(disk_result(dir.path(), 500 << 20).status, Status::Warn);
        assert_eq!(disk_result(dir.path(), 5 << 30).status, Status::Pass);
        // A held store lock is a running cycle.
        let db = dir.path().join("state/hybridsync.db");
        let _lock = crate::engine::store::StoreLock::acquire(&db, "sync cycle").unwrap();
        let r = check_local(&t);
        assert_eq!(r[1].status, Status::Warn, "{:?}", r[1]);
        assert!(r[1].found.contains("running"), "{}", r[1].found);
    }
}
