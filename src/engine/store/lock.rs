//! [`StoreLock`]: the advisory lock that keeps two sync cycles (or a cycle and the wizard) from
//! running against one database at once.
//!
//! The lock is an exclusive `flock` on `<database>.lock` next to the database, taken with
//! [`std::fs::File::try_lock`] so a second taker fails at once instead of waiting. It is held for
//! as long as the [`StoreLock`] lives and released by the operating system when it is dropped or
//! the process dies (a crashed cycle never leaves a stale lock). The file itself stays: removing
//! it would let a third process lock a new file while a second still holds the old one. The
//! holder writes its pid and role into the file, so the error a second taker gets says who holds
//! it. The lock is advisory: it orders hybridsync processes, nothing else. The file is created
//! with mode 0600 like the database.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use super::error::{Holder, StoreError};

/// An exclusive lock on a database, held until dropped.
#[derive(Debug)]
pub struct StoreLock {
    file: File,
    path: PathBuf,
}

impl StoreLock {
    /// The lock file that guards `database`: the same path with `.lock` appended.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock guarding `database`, failing at once with [`StoreError::Locked`] when
    /// another process (or another `StoreLock` in this one) holds it. `role` says who takes it
    /// (`"sync cycle"`, `"wizard"`) and is shown to whoever finds it taken.
    pub fn acquire(database: &Path, role: &str) -> Result<StoreLock, StoreError> {
        let path = Self::path_for(database);
        let io_err = |source| StoreError::Lock {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // Best effort: the holder may be rewriting it right now.
                let _ = file.read_to_string(&mut text);
                let text = text.trim();
                return Err(StoreError::Locked {
                    path,
                    holder: Holder(if text.is_empty() {
                        String::new()
                    } else {
                        text.chars().take(200).collect()
                    }),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let note = format!("pid {} ({role})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .map_err(io_err)?;
        Ok(StoreLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Say nobody holds it; the lock itself goes with the file handle.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_second_taker_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        let first = StoreLock::acquire(&db, "sync cycle").unwrap();
        let err = StoreLock::acquire(&db, "wizard").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "another hybridsync sync cycle or the wizard is running (lock held on "
            ),
            "{msg}"
        );
        assert!(msg.contains("hybridsync.db.lock"), "{msg}");
        assert!(
            msg.contains(&format!("pid {} (sync cycle)", std::process::id())),
            "{msg}"
        );
        drop(first);
        let again = StoreLock::acquire(&db, "wizard").unwrap();
        assert_eq!(again.path(), StoreLock::path_for(&db));
        let mode = std::fs::metadata(again.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
