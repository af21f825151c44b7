//! File-system helpers shared by the backends: reading private files and writing files
//! atomically with mode 0600.
//!
//! Invariants: a file holding a secret or key material is only read after checking the
//! *opened* handle (fstat, so there is no window between check and read) for being a regular
//! file, having no group/other permission bits and being owned by root or by the effective uid
//! of this process. Buffers that held secret bytes are `Zeroizing`. Files we create are created
//! with `create_new` and mode 0600 from the start (never widened and narrowed afterwards), and
//! replaced only by rename of a fully written and fsynced temporary file in the same directory.
//! This is also the home of `file:` reference resolution.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

use super::CredentialError;
use crate::domain::Secret;

/// Largest secret file we read (`file:` references and systemd credentials).
pub(crate) const MAX_SECRET_FILE_LEN: u64 = 1024 * 1024;

/// The effective uid of this process, from `/proc/self/status` (std has no `geteuid`, and the
/// project forbids `unsafe`).
pub(crate) fn current_euid() -> Result<u32, CredentialError> {
    let status = fs::read_to_string("/proc/self/status")
        .map_err(|e| CredentialError::CurrentUid(e.to_string()))?;
    parse_euid(&status).ok_or_else(|| CredentialError::CurrentUid("no valid 'Uid:' line".into()))
}

/// The second field of the `Uid:` line (real, effective, saved, filesystem).
fn parse_euid(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Checks that an opened file may hold a secret: regular file, no group/other permission bits,
/// owned by root or by us. `what` names the file in errors ("key file").
pub(crate) fn check_private(
    meta: &fs::Metadata,
    path: &Path,
    what: &'static str,
) -> Result<(), CredentialError> {
    if !meta.file_type().is_file() {
        return Err(CredentialError::NotRegularFile {
            what,
            path: path.to_owned(),
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CredentialError::InsecurePermissions {
            what,
            path: path.to_owned(),
            mode,
        });
    }
    let owner = meta.uid();
    if owner != 0 {
        let current = current_euid()?;
        if owner != current {
            return Err(CredentialError::WrongOwner {
                what,
                path: path.to_owned(),
                owner,
                current,
            });
        }
    }
    Ok(())
}

/// Opens `path` for reading; `Ok(None)` when it does not exist.
pub(crate) fn open_if_exists(
    path: &Path,
    action: &'static str,
) -> Result<Option<File>, CredentialError> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        }),
    }
}

/// Reads at most `limit` bytes of an opened file into a zeroizing buffer; `Ok(None)` when the
/// file is longer than `limit`.
pub(crate) fn read_limited(
    file: &mut File,
    path: &Path,
    action: &'static str,
    limit: u64,
) -> Result<Option<Zeroizing<Vec<u8>>>, CredentialError> {
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit) + 1;
    let mut buf = Zeroizing::new(Vec::with_capacity(usize::try_from(hint).unwrap_or(0)));
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(buf))
}

/// Turns the bytes of a secret file into a `Secret`: UTF-8, trailing newline(s) removed, not
/// empty.
pub(crate) fn secret_from_bytes(
    mut bytes: Zeroizing<Vec<u8>>,
    path: &Path,
    what: &'static str,
) -> Result<Secret, CredentialError> {
    let mut text = match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => text,
        Err(e) => {
            e.into_bytes().zeroize();
            return Err(CredentialError::BadSecretFile {
                what,
                path: path.to_owned(),
                problem: "is not valid UTF-8 text: store the secret as a single line of text",
            });
        }
    };
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed);
    let secret = Secret::new(text);
    if secret.expose().is_empty() {
        return Err(CredentialError::BadSecretFile {
            what,
            path: path.to_owned(),
            problem: "is empty: write the secret into it as a single line",
        });
    }
    Ok(secret)
}

/// Resolves a `file:` reference: a root-only (or own) file with mode 0600/0400 holding the
/// secret on one line.
pub fn read_secret_file(path: &Path) -> Result<Secret, CredentialError> {
    const WHAT: &str = "secret file";
    let mut file = File::open(path).map_err(|source| CredentialError::Io {
        action: "open the secret file",
        path: path.to_owned(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| CredentialError::Io {
        action: "inspect the secret file",
        path: path.to_owned(),
        source,
    })?;
    check_private(&meta, path, WHAT)?;
    let bytes = read_limited(&mut file, path, "read the secret file", MAX_SECRET_FILE_LEN)?
        .ok_or_else(|| CredentialError::BadSecretFile {
            what: WHAT,
            path: path.to_owned(),
            problem: "is larger than 1 MiB: it should hold only the secret, on one line",
        })?;
    secret_from_bytes(bytes, path, WHAT)
}

/// Creates `dir` (and parents) with mode 0700 if it does not exist.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), CredentialError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CredentialError::Io {
            action: "create the state directory",
            path: dir.to_owned(),
            source,
        })
}

/// Creates a new file with mode 0600 that must not exist yet.
pub(crate) fn create_new_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // The umask can only have removed bits; make the mode exactly 0600 whatever it was.
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A temporary file name next to `path`: `.<name>.tmp-<random>`.
fn temp_path_for(path: &Path) -> Result<PathBuf, CredentialError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| CredentialError::Random(e.to_string()))?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}.tmp-{suffix}")))
}

/// Writes `data` to a fresh 0600 temporary file next to `path` and fsyncs it; returns its path.
fn write_temp(path: &Path, data: &[u8], action: &'static str) -> Result<PathBuf, CredentialError> {
    let temp = temp_path_for(path)?;
    let result = create_new_private(&temp).and_then(|mut file| {
        file.write_all(data)?;
        file.sync_all()
    });
    if let Err(source) = result {
        let _ = fs::remove_file(&temp);
        return Err(CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        });
    }
    Ok(temp)
}

/// Fsyncs the directory containing `path`, so a rename or link in it is durable. Failure is
/// only logged: some file systems do not support it and the data itself is already synced.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Err(e) = File::open(dir).and_then(|d| d.sync_all())
    {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot fsync directory");
    }
}

/// Atomically replaces `path` with `data`: temp file (0600, same directory), fsync, rename,
/// fsync of the directory. Readers see either the old or the new content, never a mix.
pub(crate) fn write_atomic(
    path: &Path,
    data: &[u8],
    action: &'static str,
) -> Result<(), CredentialError> {
    let temp = write_temp(path, data, action)?;
    if let Err(source) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        });
    }
    sync_parent(path);
    Ok(())
}

/// Creates `path` with `data` only if it does not exist yet, atomically: the complete content
/// is written to a 0600 temp file first, then hard-linked to `path` (which fails if `path`
/// exists, so two processes can never both create it, and a crash never leaves a half-written
/// file). Returns `Ok(false)` when `path` already existed.
pub(crate) fn create_atomic(
    path: &Path,
    data: &[u8],
    action: &'static str,
) -> Result<bool, CredentialError> {
    let temp = write_temp(path, data, action)?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(CredentialError::Io {
            action,
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_mode(path: &Path, content: &str, mode: u32) {
        // Remove first: a previous 0400 file is not writable by a non-root test run.
        let _ = fs::remove_file(path);
        fs::write(path, content).unwrap();
        fs::set_permissions(path, Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn parses_effective_uid() {
        let status = "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t5\t5\t5\n";
        assert_eq!(parse_euid(status), Some(1001));
        assert_eq!(parse_euid("Name: x\n"), None);
        assert!(current_euid().is_ok());
    }

    #[test]
    fn file_ref_0640_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bind.secret");
        write_mode(&path, "s3cret\n", 0o640);
        let err = read_secret_file(&path).unwrap_err();
        let msg = err.to_string();
        assert_eq!(
            msg,
            format!(
                "secret file {0} has mode 640, which gives access to users other than its owner: \
                 run `chmod 600 {0}`",
                path.display()
            )
        );
        assert!(!msg.contains("s3cret") && !format!("{err:?}").contains("s3cret"));
    }

    #[test]
    fn file_ref_0600_and_0400_accepted_and_newline_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bind.secret");
        write_mode(&path, "s3cret\n", 0o600);
        assert_eq!(read_secret_file(&path).unwrap().expose(), "s3cret");
        write_mode(&path, "with space\r\n", 0o400);
        assert_eq!(read_secret_file(&path).unwrap().expose(), "with space");
        write_mode(&path, "no-newline", 0o600);
        assert_eq!(read_secret_file(&path).unwrap().expose(), "no-newline");
    }

    #[test]
    fn file_ref_problems_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        write_mode(&path, "\n", 0o600);
        assert!(
            read_secret_file(&path)
                .unwrap_err()
                .to_string()
                .contains("is empty")
        );
        fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        assert!(
            read_secret_file(&path)
                .unwrap_err()
                .to_string()
                .contains("not valid UTF-8")
        );
        let missing = dir.path().join("missing");
        let msg = read_secret_file(&missing).unwrap_err().to_string();
        assert!(msg.starts_with(&format!(
            "cannot open the secret file {}",
            missing.display()
        )));
        fs::set_permissions(dir.path(), Permissions::from_mode(0o700)).unwrap();
        let msg = read_secret_file(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("is not a regular file"), "{msg}");
    }

    #[test]
    fn wrong_owner_refused_when_we_can_chown() {
        if current_euid().unwrap() != 0 {
            return; // only root can give a file away
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        write_mode(&path, "x\n", 0o600);
        std::os::unix::fs::chown(&path, Some(4242), None).unwrap();
        // Owned by someone else: refused even for root, since the file is not under our control.
        // (Owner 4242 is neither root nor us.)
        let msg = read_secret_file(&path).unwrap_err().to_string();
        assert!(msg.contains("is owned by uid 4242"), "{msg}");
        assert!(msg.contains("chown 0"), "{msg}");
    }

    #[test]
    fn atomic_writes_are_0600_and_create_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one", "write").unwrap();
        write_atomic(&path, b"two", "write").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
        let key = dir.path().join("k");
        assert!(create_atomic(&key, b"first", "create").unwrap());
        assert!(!create_atomic(&key, b"second", "create").unwrap());
        assert_eq!(fs::read(&key).unwrap(), b"first");
        assert_eq!(fs::metadata(&key).unwrap().mode() & 0o7777, 0o600);
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
