//! `SecretServiceStore`: secrets in the desktop keyring (freedesktop Secret Service over the
//! D-Bus session bus), through `keyring-core` and the zbus Secret Service store.
//!
//! Items are stored under service `hybridsync` with the secret name as user. This backend is only
//! chosen when a session bus is visible (`DBUS_SESSION_BUS_ADDRESS` set, or `$XDG_RUNTIME_DIR/bus`
//! exists; see [`session_bus_available`]) *and* connecting to the Secret Service succeeds.
//! Invariants: every keyring call runs on a short-lived helper thread, because the zbus blocking
//! API drives its own tokio runtime and would panic if called from inside one of ours; a panic
//! in the keyring layer becomes an error, not a crash; keyring errors that carry secret bytes
//! (undecodable values) are zeroized and replaced by a fixed description, so no secret reaches
//! an error message.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::Error as KeyringError;
use keyring_core::api::CredentialStoreApi;
use zeroize::Zeroize;

use super::{CredentialBackend, CredentialError, Env, validate_name};
use crate::domain::Secret;

/// The Secret Service `service` attribute of every hybridsync item.
pub const SERVICE: &str = "hybridsync";

/// True when a D-Bus session bus is visible in `env`: `DBUS_SESSION_BUS_ADDRESS` is set and not
/// empty, or `$XDG_RUNTIME_DIR/bus` exists. This does not prove a Secret Service is running.
pub fn session_bus_available(env: &Env) -> bool {
    env.dbus_session_bus_address
        .as_ref()
        .is_some_and(|address| !address.is_empty())
        || env
            .xdg_runtime_dir
            .as_ref()
            .is_some_and(|dir| !dir.as_os_str().is_empty() && dir.join("bus").exists())
}

/// Secrets in the Secret Service of the session bus.
pub struct SecretServiceStore {
    store: Arc<zbus_secret_service_keyring_store::Store>,
}

impl std::fmt::Debug for SecretServiceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretServiceStore")
            .field("service", &SERVICE)
            .finish_non_exhaustive()
    }
}

/// Runs `f` on a fresh thread (no async runtime context there) and turns a panic into an error.
fn off_thread<T: Send>(
    action: &'static str,
    name: &str,
    f: impl FnOnce() -> Result<T, CredentialError> + Send,
) -> Result<T, CredentialError> {
    std::thread::scope(|scope| scope.spawn(f).join()).unwrap_or_else(|_| {
        Err(CredentialError::SecretService {
            action,
            name: name.to_owned(),
            detail: "the keyring library failed unexpectedly (it panicked)".into(),
        })
    })
}

/// Describes a keyring error without any secret data it may carry.
fn describe(err: KeyringError) -> String {
    match err {
        KeyringError::BadEncoding(mut bytes) => {
            bytes.zeroize();
            "the stored value is not valid UTF-8 text".into()
        }
        KeyringError::BadDataFormat(mut bytes, _) => {
            bytes.zeroize();
            "the stored value is malformed".into()
        }
        KeyringError::Ambiguous(entries) => format!(
            "{} keyring items match; remove the duplicates (e.g. with `secret-tool clear service \
             {SERVICE}`) and store the secret again",
            entries.len()
        ),
        KeyringError::NoStorageAccess(e) => {
            format!("the keyring is locked or access was refused ({e}): unlock it and retry")
        }
        other => other.to_string(),
    }
}

impl SecretServiceStore {
    /// Connects to the Secret Service of the session bus.
    pub fn connect() -> Result<Self, CredentialError> {
        off_thread("connect to", SERVICE, || {
            zbus_secret_service_keyring_store::Store::new()
                .map(|store| Self { store })
                .map_err(|e| CredentialError::SecretServiceUnavailable {
                    detail: describe(e),
                })
        })
    }

    fn error(action: &'static str, name: &str, err: KeyringError) -> CredentialError {
        match err {
            KeyringError::NoEntry => CredentialError::NotFound {
                name: name.to_owned(),
                location: format!("the Secret Service keyring (service '{SERVICE}')"),
            },
            other => CredentialError::SecretService {
                action,
                name: name.to_owned(),
                detail: describe(other),
            },
        }
    }

    fn entry(
        &self,
        action: &'static str,
        name: &str,
    ) -> Result<keyring_core::Entry, CredentialError> {
        self.store
            .build(SERVICE, name, None)
            .map_err(|e| Self::error(action, name, e))
    }
}

impl CredentialBackend for SecretServiceStore {
    fn name(&self) -> &'static str {
        "secret-service"
    }

    fn get(&self, name: &str) -> Result<Secret, CredentialError> {
        validate_name(name)?;
        off_thread("read", name, || {
            let entry = self.entry("read", name)?;
            entry
                .get_password()
                .map(Secret::new)
                .map_err(|e| Self::error("read", name, e))
        })
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<(), CredentialError> {
        validate_name(name)?;
        off_thread("store", name, || {
            let entry = self.entry("store", name)?;
            entry
                .set_password(secret.expose())
                .map_err(|e| Self::error("store", name, e))
        })
    }

    fn delete(&self, name: &str) -> Result<(), CredentialError> {
        validate_name(name)?;
        off_thread("delete", name, || {
            let entry = self.entry("delete", name)?;
            entry
                .delete_credential()
                .map_err(|e| Self::error("delete", name, e))
        })
    }

    fn list(&self) -> Result<Vec<String>, CredentialError> {
        off_thread("list", SERVICE, || {
            let spec = HashMap::from([("service", SERVICE)]);
            let entries =
                self.store
                    .search(&spec)
                    .map_err(|e| CredentialError::ListUnsupported {
                        detail: describe(e),
                    })?;
            let mut names: Vec<String> = entries
                .iter()
                .filter_map(|entry| entry.get_specifiers())
                .filter(|(service, user)| service == SERVICE && super::is_valid_name(user))
                .map(|(_, user)| user)
                .collect();
            names.sort();
            names.dedup();
            Ok(names)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn no_bus_without_env() {
        assert!(!session_bus_available(&Env::default()));
    }

    #[test]
    fn bus_address_counts() {
        let env = Env {
            dbus_session_bus_address: Some("unix:path=/run/user/1000/bus".into()),
            ..Env::default()
        };
        assert!(session_bus_available(&env));
        let env = Env {
            dbus_session_bus_address: Some("".into()),
            ..Env::default()
        };
        assert!(!session_bus_available(&env));
    }

    #[test]
    fn runtime_dir_bus_socket_counts_only_if_present() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            xdg_runtime_dir: Some(dir.path().to_owned()),
            ..Env::default()
        };
        assert!(!session_bus_available(&env));
        std::fs::write(dir.path().join("bus"), "").unwrap();
        assert!(session_bus_available(&env));
        let env = Env {
            xdg_runtime_dir: Some(PathBuf::new()),
            ..Env::default()
        };
        assert!(!session_bus_available(&env));
    }

    #[test]
    fn keyring_errors_never_carry_secret_bytes() {
        let text = describe(KeyringError::BadEncoding(b"hunter2\xff".to_vec()));
        assert!(!text.contains("hunter2"));
        assert_eq!(text, "the stored value is not valid UTF-8 text");
        let err = SecretServiceStore::error("read", "ad", KeyringError::NoEntry);
        assert!(matches!(err, CredentialError::NotFound { .. }));
    }

    #[test]
    fn helper_thread_turns_panics_into_errors() {
        let result: Result<(), _> = off_thread("read", "ad", || panic!("boom"));
        assert!(matches!(result, Err(CredentialError::SecretService { .. })));
        assert_eq!(off_thread("read", "ad", || Ok(7)).unwrap(), 7);
    }
}
