//! The credential store: where hybridsync keeps the secrets it needs (AD bind password, Entra
//! client secret...) and how the configuration points at them.
//!
//! Secrets never live in the configuration file. It holds a [`SecretRef`] (`store:<name>`,
//! `systemd:<name>` or `file:<absolute path>`), and [`CredentialStore::resolve`] turns that into
//! a [`Secret`]. `store:` names live in the machine's default backend, picked once by
//! [`CredentialStore::open`]: the Secret Service keyring when a session bus is visible and a
//! Secret Service answers, otherwise the [`EncryptedFileStore`] in the state directory (the
//! headless default). `systemd:` names are read from `$CREDENTIALS_DIRECTORY`
//! ([`SystemdCredentials`]), and `file:` paths from a private file ([`read_secret_file`]).
//! Invariants: no secret value ever appears in an error, a `Debug` output or a log line; every
//! error names the file or secret concerned and says how to fix the problem; the process
//! environment is only read by [`Env::from_process`], so everything else can be tested with
//! injected values.

mod encrypted_file;
mod error;
pub(crate) mod private_file;
mod secret_ref;
mod secret_service;
mod systemd;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

pub use encrypted_file::{CREDENTIALS_FILE, EncryptedFileStore, KEY_FILE, LOCK_FILE};
pub use error::CredentialError;
pub use private_file::read_secret_file;
pub use secret_ref::{MAX_NAME_LEN, SecretRef, SecretRefError, is_valid_name};
pub use secret_service::{
    SERVICE as SECRET_SERVICE_NAME, SecretServiceStore, session_bus_available,
};
pub use systemd::SystemdCredentials;

use crate::domain::Secret;

/// A place secrets can be read from and (for most backends) written to.
///
/// Implementations validate names with [`is_valid_name`] and return
/// [`CredentialError::NotFound`] for an unknown name.
pub trait CredentialBackend {
    /// Short stable identifier of the backend ("encrypted-file", "secret-service",
    /// "systemd-credentials"), for logs and `status` output.
    fn name(&self) -> &'static str;
    /// The secret stored under `name`.
    fn get(&self, name: &str) -> Result<Secret, CredentialError>;
    /// Stores `secret` under `name`, replacing any previous value.
    fn set(&self, name: &str, secret: &Secret) -> Result<(), CredentialError>;
    /// Removes the secret stored under `name`.
    fn delete(&self, name: &str) -> Result<(), CredentialError>;
    /// The names of all stored secrets, sorted.
    fn list(&self) -> Result<Vec<String>, CredentialError>;
}

/// Checks a secret name against the naming rule.
pub(crate) fn validate_name(name: &str) -> Result<(), CredentialError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(CredentialError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// The environment variables the credential store consults. Tests build one by hand;
/// production code uses [`Env::from_process`]. Empty variables count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `$CREDENTIALS_DIRECTORY`, set by systemd for units with credentials.
    pub credentials_directory: Option<PathBuf>,
    /// `$DBUS_SESSION_BUS_ADDRESS`.
    pub dbus_session_bus_address: Option<OsString>,
    /// `$XDG_RUNTIME_DIR`.
    pub xdg_runtime_dir: Option<PathBuf>,
}

impl Env {
    /// Reads the variables from the environment of this process.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Self {
            credentials_directory: var("CREDENTIALS_DIRECTORY").map(PathBuf::from),
            dbus_session_bus_address: var("DBUS_SESSION_BUS_ADDRESS"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
        }
    }
}

/// Which backend `store:` references use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// The Secret Service when a session bus is visible and it answers, else the encrypted file.
    #[default]
    Auto,
    /// Always the encrypted file in the state directory.
    EncryptedFile,
    /// Always the Secret Service; opening fails if it is not available.
    SecretService,
}

/// The credential store of this machine: the default backend for `store:` names plus the
/// systemd credentials of the running service, behind one `resolve`.
pub struct CredentialStore {
    backend: Box<dyn CredentialBackend + Send + Sync>,
    systemd: Option<SystemdCredentials>,
}

impl fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialStore")
            .field("backend", &self.backend.name())
            .field(
                "systemd",
                &self.systemd.as_ref().map(SystemdCredentials::dir),
            )
            .finish()
    }
}

impl CredentialStore {
    /// Opens the default store: the Secret Service when available, else the encrypted file
    /// `<state_dir>/credentials.enc`. Nothing is created on disk until a secret is stored.
    pub fn open(state_dir: &Path, env: &Env) -> Result<Self, CredentialError> {
        Self::open_with(state_dir, env, BackendChoice::Auto)
    }

    /// Opens the store with an explicit backend choice (for a configuration setting or a
    /// command-line flag that pins the backend).
    pub fn open_with(
        state_dir: &Path,
        env: &Env,
        choice: BackendChoice,
    ) -> Result<Self, CredentialError> {
        let backend: Box<dyn CredentialBackend + Send + Sync> = match choice {
            BackendChoice::EncryptedFile => Box::new(EncryptedFileStore::new(state_dir)),
            BackendChoice::SecretService => {
                if !session_bus_available(env) {
                    return Err(CredentialError::SecretServiceUnavailable {
                        detail: "no D-Bus session bus (neither DBUS_SESSION_BUS_ADDRESS nor \
                                 $XDG_RUNTIME_DIR/bus): use the encrypted-file backend on \
                                 headless machines"
                            .into(),
                    });
                }
                Box::new(SecretServiceStore::connect()?)
            }
            BackendChoice::Auto => {
                let secret_service = if session_bus_available(env) {
                    SecretServiceStore::connect()
                        .inspect_err(|e| {
                            tracing::info!(
                                error = %e,
                                "session bus found but no usable Secret Service; using the \
                                 encrypted credentials file"
                            );
                        })
                        .ok()
                } else {
                    None
                };
                match secret_service {
                    Some(store) => Box::new(store),
                    None => Box::new(EncryptedFileStore::new(state_dir)),
                }
            }
        };
        tracing::debug!(backend = backend.name(), "opened credential store");
        Ok(Self::with_backend(backend, env))
    }

    /// A store over an explicit backend (also the way to inject a test double).
    pub fn with_backend(backend: Box<dyn CredentialBackend + Send + Sync>, env: &Env) -> Self {
        Self {
            backend,
            systemd: env
                .credentials_directory
                .as_deref()
                .map(SystemdCredentials::new),
        }
    }

    /// Name of the backend used for `store:` references.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// The backend used for `store:` references.
    pub fn backend(&self) -> &dyn CredentialBackend {
        &*self.backend
    }

    /// Fetches the secret a reference points at.
    pub fn resolve(&self, reference: &SecretRef) -> Result<Secret, CredentialError> {
        match reference {
            SecretRef::Store(name) => self.backend.get(name),
            SecretRef::Systemd(name) => match &self.systemd {
                Some(systemd) => systemd.get(name),
                None => Err(CredentialError::SystemdUnavailable { name: name.clone() }),
            },
            SecretRef::File(path) => read_secret_file(path),
        }
    }

    /// Stores `secret` under `name` in the default backend (for `store:<name>` references).
    pub fn store(&self, name: &str, secret: &Secret) -> Result<(), CredentialError> {
        validate_name(name)?;
        self.backend.set(name, secret)
    }

    /// Deletes `name` from the default backend.
    pub fn delete(&self, name: &str) -> Result<(), CredentialError> {
        validate_name(name)?;
        self.backend.delete(name)
    }

    /// Names stored in the default backend, sorted.
    pub fn list(&self) -> Result<Vec<String>, CredentialError> {
        self.backend.list()
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, Permissions};
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.to_owned())
    }

    #[test]
    fn headless_default_is_the_encrypted_file() {
        let state = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(state.path(), &Env::default()).unwrap();
        assert_eq!(store.backend_name(), "encrypted-file");
        assert!(
            !state.path().join(KEY_FILE).exists(),
            "open must not create files"
        );
        store.store("ad-bind", &secret("hunter2")).unwrap();
        assert_eq!(store.list().unwrap(), ["ad-bind"]);
        let r: SecretRef = "store:ad-bind".parse().unwrap();
        assert_eq!(store.resolve(&r).unwrap().expose(), "hunter2");
        store.delete("ad-bind").unwrap();
        assert!(matches!(
            store.resolve(&r),
            Err(CredentialError::NotFound { .. })
        ));
        assert!(matches!(
            store.store("bad name", &secret("x")),
            Err(CredentialError::InvalidName { .. })
        ));
        assert!(!format!("{store:?}").contains("hunter2"));
    }

    #[test]
    fn explicit_choices() {
        let state = tempfile::tempdir().unwrap();
        let store =
            CredentialStore::open_with(state.path(), &Env::default(), BackendChoice::EncryptedFile)
                .unwrap();
        assert_eq!(store.backend_name(), "encrypted-file");
        let err =
            CredentialStore::open_with(state.path(), &Env::default(), BackendChoice::SecretService)
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the Secret Service keyring is not available: no D-Bus session bus")
        );
        assert_eq!(
            serde_json::from_str::<BackendChoice>("\"encrypted-file\"").unwrap(),
            BackendChoice::EncryptedFile
        );
    }

    #[test]
    fn systemd_references_use_the_injected_directory() {
        let state = tempfile::tempdir().unwrap();
        let creds = tempfile::tempdir().unwrap();
        fs::write(creds.path().join("ad-bind"), "from-systemd\n").unwrap();
        let env = Env {
            credentials_directory: Some(creds.path().to_owned()),
            ..Env::default()
        };
        let store = CredentialStore::open(state.path(), &env).unwrap();
        let r: SecretRef = "systemd:ad-bind".parse().unwrap();
        assert_eq!(store.resolve(&r).unwrap().expose(), "from-systemd");
    }

    #[test]
    fn systemd_reference_without_credentials_directory() {
        let state = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(state.path(), &Env::default()).unwrap();
        let r: SecretRef = "systemd:ad-bind".parse().unwrap();
        assert_eq!(
            store.resolve(&r).unwrap_err().to_string(),
            "systemd credential 'ad-bind' is referenced but $CREDENTIALS_DIRECTORY is not set: \
             the service must be started by systemd with LoadCredential=ad-bind:<file> or \
             LoadCredentialEncrypted=ad-bind:<file> in its unit"
        );
    }

    #[test]
    fn file_references() {
        let state = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(state.path(), &Env::default()).unwrap();
        let path = state.path().join("bind.secret");
        fs::write(&path, "from-file\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        let r: SecretRef = format!("file:{}", path.display()).parse().unwrap();
        assert_eq!(store.resolve(&r).unwrap().expose(), "from-file");
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            store.resolve(&r),
            Err(CredentialError::InsecurePermissions { mode: 0o640, .. })
        ));
    }

    #[test]
    fn env_from_process_reads_variables() {
        // Only checks that it does not panic and agrees with std::env for one variable that
        // tests cannot safely set (set_var is unsafe in edition 2024).
        let env = Env::from_process();
        assert_eq!(
            env.xdg_runtime_dir,
            std::env::var_os("XDG_RUNTIME_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        );
    }
}
