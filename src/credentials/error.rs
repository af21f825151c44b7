//! The one error type of the credential store, `CredentialError`.
//!
//! Every message is meant for the administrator reading it on a terminal or in the journal: it
//! says what failed, which file or secret name is involved, and how to fix it. Invariant: no
//! variant ever carries a secret value, so neither `Display` nor `Debug` of an error can leak
//! one. Only names, paths, modes, uids and the text of operating-system or D-Bus errors are
//! stored.

use std::io;
use std::path::PathBuf;

use super::secret_ref::NAME_RULE;

/// Everything that can go wrong while reading, writing or resolving a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A secret name does not follow the naming rule.
    #[error("'{name}' is not a valid secret name: {NAME_RULE}")]
    InvalidName {
        /// The rejected name.
        name: String,
    },

    /// The backend holds no secret with this name.
    #[error(
        "no secret named '{name}' in {location}: store it first, or correct the reference in the \
         configuration"
    )]
    NotFound {
        /// The secret name that was looked up.
        name: String,
        /// Human description of where we looked (backend and file or directory).
        location: String,
    },

    /// An operating-system call on a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing, as a verb phrase ("read the key file").
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A file holding key material or a secret can be read by group or other users.
    #[error(
        "{what} {} has mode {mode:03o}, which gives access to users other than its owner: \
         run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// What the file is ("key file", "secret file").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Its permission bits (`st_mode & 0o7777`).
        mode: u32,
    },

    /// A file holding key material or a secret belongs to someone other than root or us.
    #[error(
        "{what} {} is owned by uid {owner}, not by root or the user running hybridsync \
         (uid {current}): run `chown {current} {}` (or `chown root {}`)",
        path.display(),
        path.display(),
        path.display()
    )]
    WrongOwner {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Its owner uid.
        owner: u32,
        /// The effective uid of this process.
        current: u32,
    },

    /// Something that must be a regular file is a directory, socket, device...
    #[error("{what} {} is not a regular file: point the reference at a plain file", path.display())]
    NotRegularFile {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },

    /// A secret read from a file is unusable (empty, not UTF-8, too large).
    #[error("{what} {} {problem}", path.display())]
    BadSecretFile {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it and how to fix it.
        problem: &'static str,
    },

    /// The key file exists but is not 32 bytes long.
    #[error(
        "key file {} is not a valid key ({len} bytes, expected 32): restore it from a backup; if \
         it is lost, move {} and the key file away and store the secrets again",
        key.display(),
        credentials.display()
    )]
    InvalidKey {
        /// The key file.
        key: PathBuf,
        /// The credentials file that key belongs to.
        credentials: PathBuf,
        /// Its actual length.
        len: u64,
    },

    /// The credentials file exists but its key file does not.
    #[error(
        "credentials file {} exists but its key file {} is missing: restore the key file from a \
         backup (the stored secrets cannot be decrypted without it), or move {} away to start \
         an empty store",
        credentials.display(),
        key.display(),
        credentials.display()
    )]
    KeyMissing {
        /// The credentials file.
        credentials: PathBuf,
        /// The missing key file.
        key: PathBuf,
    },

    /// Authenticated decryption failed: wrong key, or either file was altered.
    #[error(
        "credentials file {} cannot be decrypted with key {}: the key file does not belong to \
         this credentials file or one of them was altered; restore both from the same backup",
        credentials.display(),
        key.display()
    )]
    Decrypt {
        /// The credentials file.
        credentials: PathBuf,
        /// The key file used.
        key: PathBuf,
    },

    /// The credentials file is not in our format (bad magic, truncated, empty).
    #[error(
        "credentials file {} is damaged ({problem}): restore it from a backup, or move it away \
         and store the secrets again",
        path.display()
    )]
    Corrupt {
        /// The credentials file.
        path: PathBuf,
        /// What is wrong, without any content of the file.
        problem: &'static str,
    },

    /// The credentials file was written by a newer format version.
    #[error(
        "credentials file {} uses format version '{version}', which this version of hybridsync \
         does not understand: upgrade hybridsync",
        path.display()
    )]
    UnsupportedVersion {
        /// The credentials file.
        path: PathBuf,
        /// The version character found in the header.
        version: char,
    },

    /// Encryption itself failed (only possible for absurdly large inputs).
    #[error("cannot encrypt the secrets for {}: {reason}", path.display())]
    Encrypt {
        /// The credentials file being written.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },

    /// The operating system could not provide random bytes.
    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),

    /// The effective uid of this process could not be determined.
    #[error("cannot determine the user id of this process from /proc/self/status: {0}")]
    CurrentUid(String),

    /// A `systemd:` reference was used outside a systemd service with credentials.
    #[error(
        "systemd credential '{name}' is referenced but $CREDENTIALS_DIRECTORY is not set: the \
         service must be started by systemd with LoadCredential={name}:<file> or \
         LoadCredentialEncrypted={name}:<file> in its unit"
    )]
    SystemdUnavailable {
        /// The credential name.
        name: String,
    },

    /// The systemd credentials directory does not contain the credential.
    #[error(
        "systemd credential '{name}' is not in {}: add LoadCredential={name}:<file> or \
         LoadCredentialEncrypted={name}:<file> to the service unit and restart it",
        dir.display()
    )]
    SystemdMissing {
        /// The credential name.
        name: String,
        /// `$CREDENTIALS_DIRECTORY`.
        dir: PathBuf,
    },

    /// An attempt to write or delete a systemd credential.
    #[error(
        "systemd credentials are read-only for hybridsync, so '{name}' cannot be changed here: \
         create it with `systemd-creds encrypt` and load it with \
         LoadCredentialEncrypted={name}:<file> in the service unit"
    )]
    ReadOnly {
        /// The credential name.
        name: String,
    },

    /// The Secret Service (desktop keyring over D-Bus) reported an error.
    #[error("Secret Service keyring could not {action} '{name}': {detail}")]
    SecretService {
        /// What we were doing ("read", "store", "delete").
        action: &'static str,
        /// The secret name.
        name: String,
        /// The error reported by the keyring layer (never secret data).
        detail: String,
    },

    /// The Secret Service could not enumerate our secrets.
    #[error(
        "the Secret Service keyring cannot list the stored secrets ({detail}): look them up by \
         name, or browse service 'hybridsync' with a keyring tool such as `secret-tool search \
         service hybridsync`"
    )]
    ListUnsupported {
        /// Why.
        detail: String,
    },

    /// The Secret Service backend was explicitly requested but cannot be used.
    #[error("the Secret Service keyring is not available: {detail}")]
    SecretServiceUnavailable {
        /// Why.
        detail: String,
    },
}
