//! `SystemdCredentials`: read-only access to systemd service credentials.
//!
//! systemd places the credentials of a unit (`LoadCredential=`, `LoadCredentialEncrypted=`,
//! `SetCredential=`...) as files in a private directory and passes its path in
//! `$CREDENTIALS_DIRECTORY`; the secret named `<name>` is the file `<dir>/<name>`. Invariants:
//! this backend never writes or deletes anything (systemd owns the directory, and
//! `set`/`delete` return an error explaining `systemd-creds encrypt`); names are validated before
//! they are joined to the directory, so a name can never escape it; the directory's protection is
//! systemd's job, so file modes are not checked here (unlike `file:` references).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::private_file::{MAX_SECRET_FILE_LEN, read_limited, secret_from_bytes};
use super::{CredentialBackend, CredentialError, validate_name};
use crate::domain::Secret;

/// The systemd credentials directory of the running service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdCredentials {
    dir: PathBuf,
}

impl SystemdCredentials {
    /// A backend reading from `dir` (normally `$CREDENTIALS_DIRECTORY`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The credentials directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl CredentialBackend for SystemdCredentials {
    fn name(&self) -> &'static str {
        "systemd-credentials"
    }

    fn get(&self, name: &str) -> Result<Secret, CredentialError> {
        const WHAT: &str = "systemd credential file";
        validate_name(name)?;
        let path = self.dir.join(name);
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CredentialError::SystemdMissing {
                    name: name.to_owned(),
                    dir: self.dir.clone(),
                });
            }
            Err(source) => {
                return Err(CredentialError::Io {
                    action: "open the systemd credential",
                    path,
                    source,
                });
            }
        };
        let meta = file.metadata().map_err(|source| CredentialError::Io {
            action: "inspect the systemd credential",
            path: path.clone(),
            source,
        })?;
        if !meta.file_type().is_file() {
            return Err(CredentialError::NotRegularFile { what: WHAT, path });
        }
        let bytes = read_limited(
            &mut file,
            &path,
            "read the systemd credential",
            MAX_SECRET_FILE_LEN,
        )?
        .ok_or_else(|| CredentialError::BadSecretFile {
            what: WHAT,
            path: path.clone(),
            problem: "is larger than 1 MiB: it should hold only the secret",
        })?;
        secret_from_bytes(bytes, &path, WHAT)
    }

    fn set(&self, name: &str, _secret: &Secret) -> Result<(), CredentialError> {
        Err(CredentialError::ReadOnly {
            name: name.to_owned(),
        })
    }

    fn delete(&self, name: &str) -> Result<(), CredentialError> {
        Err(CredentialError::ReadOnly {
            name: name.to_owned(),
        })
    }

    fn list(&self) -> Result<Vec<String>, CredentialError> {
        let entries = fs::read_dir(&self.dir).map_err(|source| CredentialError::Io {
            action: "list the systemd credentials directory",
            path: self.dir.clone(),
            source,
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CredentialError::Io {
                action: "list the systemd credentials directory",
                path: self.dir.clone(),
                source,
            })?;
            let is_file = fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            if let Some(name) = entry.file_name().to_str()
                && is_file
                && super::is_valid_name(name)
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_lists_credentials() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ad-bind"), "hunter2\n").unwrap();
        fs::write(dir.path().join("graph"), "abc").unwrap();
        fs::write(dir.path().join("not valid"), "x").unwrap();
        fs::create_dir(dir.path().join("subdir")).unwrap();
        let creds = SystemdCredentials::new(dir.path());
        assert_eq!(creds.get("ad-bind").unwrap().expose(), "hunter2");
        assert_eq!(creds.get("graph").unwrap().expose(), "abc");
        assert_eq!(creds.list().unwrap(), ["ad-bind", "graph"]);
        assert!(matches!(
            creds.get("subdir"),
            Err(CredentialError::NotRegularFile { .. })
        ));
        assert!(matches!(
            creds.get("../etc"),
            Err(CredentialError::InvalidName { .. })
        ));
    }

    #[test]
    fn missing_credential_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let creds = SystemdCredentials::new(dir.path());
        assert_eq!(
            creds.get("ad-bind").unwrap_err().to_string(),
            format!(
                "systemd credential 'ad-bind' is not in {}: add LoadCredential=ad-bind:<file> or \
                 LoadCredentialEncrypted=ad-bind:<file> to the service unit and restart it",
                dir.path().display()
            )
        );
    }

    #[test]
    fn read_only() {
        let dir = tempfile::tempdir().unwrap();
        let creds = SystemdCredentials::new(dir.path());
        let err = creds
            .set("ad-bind", &Secret::new("x".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "systemd credentials are read-only for hybridsync, so 'ad-bind' cannot be changed \
             here: create it with `systemd-creds encrypt` and load it with \
             LoadCredentialEncrypted=ad-bind:<file> in the service unit"
        );
        assert!(matches!(
            creds.delete("ad-bind"),
            Err(CredentialError::ReadOnly { .. })
        ));
        assert!(!dir.path().join("ad-bind").exists());
    }
}
