//! `SecretRef`: how the configuration file points at a secret without containing it.
//!
//! A reference is one string of the form `store:<name>` (the machine's credential store),
//! `systemd:<name>` (a systemd credential in `$CREDENTIALS_DIRECTORY`) or `file:<absolute path>`
//! (a private file holding the secret). Invariants: a parsed `SecretRef` always has a valid name
//! (1..=64 characters of `[A-Za-z0-9._-]`) or an absolute path; `Display` writes back exactly
//! the accepted string form, and serde uses that same string. Parse errors quote the value only
//! when it has a recognised prefix: anything else may be a password pasted into the
//! configuration by mistake, so it is never echoed into an error message or a log.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The longest accepted secret name.
pub const MAX_NAME_LEN: usize = 64;

/// The naming rule, as shown to users in error messages.
pub(crate) const NAME_RULE: &str =
    "a secret name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-' (but not '.' or '..')";

/// True when `name` is 1..=64 characters of `[A-Za-z0-9._-]` and not `.` or `..` (which would
/// name a directory when the name is used as a file name in `$CREDENTIALS_DIRECTORY`).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Where a secret lives, as written in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// `store:<name>`: the default credential store of this machine.
    Store(String),
    /// `systemd:<name>`: the file `$CREDENTIALS_DIRECTORY/<name>`.
    Systemd(String),
    /// `file:<absolute path>`: a private file holding the secret.
    File(PathBuf),
}

/// Why a string is not a valid [`SecretRef`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    /// The string is empty.
    #[error(
        "the secret reference is empty: use 'store:<name>', 'systemd:<name>' or \
         'file:/absolute/path'"
    )]
    Empty,
    /// The string has no known prefix. The value is deliberately not kept: it may be a secret.
    #[error(
        "the value is not a secret reference (it is not shown, in case it is a secret itself). \
         If it is the secret, store it with 'hybridsync secrets set <name>' and write \
         'store:<name>' here; otherwise use 'systemd:<name>' or 'file:/absolute/path'"
    )]
    UnknownKind,
    /// `store:` or `systemd:` followed by an invalid name.
    #[error(
        "'{value}' is not a valid secret reference: {NAME_RULE}; use 'store:<name>', \
         'systemd:<name>' or 'file:/absolute/path'"
    )]
    BadName {
        /// The whole rejected reference.
        value: String,
    },
    /// `file:` followed by something that is not an absolute path.
    #[error(
        "'{value}' is not a valid secret reference: the path after 'file:' must be absolute; use \
         'store:<name>', 'systemd:<name>' or 'file:/absolute/path'"
    )]
    RelativePath {
        /// The whole rejected reference.
        value: String,
    },
}

impl SecretRef {
    /// The secret name for `store:` and `systemd:` references, `None` for `file:`.
    pub fn name(&self) -> Option<&str> {
        match self {
            SecretRef::Store(name) | SecretRef::Systemd(name) => Some(name),
            SecretRef::File(_) => None,
        }
    }

    /// The path for `file:` references.
    pub fn path(&self) -> Option<&Path> {
        match self {
            SecretRef::File(path) => Some(path),
            _ => None,
        }
    }
}

impl FromStr for SecretRef {
    type Err = SecretRefError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.is_empty() {
            return Err(SecretRefError::Empty);
        }
        let bad_name = || SecretRefError::BadName {
            value: value.to_owned(),
        };
        if let Some(name) = value.strip_prefix("store:") {
            if !is_valid_name(name) {
                return Err(bad_name());
            }
            Ok(SecretRef::Store(name.to_owned()))
        } else if let Some(name) = value.strip_prefix("systemd:") {
            if !is_valid_name(name) {
                return Err(bad_name());
            }
            Ok(SecretRef::Systemd(name.to_owned()))
        } else if let Some(path) = value.strip_prefix("file:") {
            if !path.starts_with('/') {
                return Err(SecretRefError::RelativePath {
                    value: value.to_owned(),
                });
            }
            Ok(SecretRef::File(PathBuf::from(path)))
        } else {
            Err(SecretRefError::UnknownKind)
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Store(name) => write!(f, "store:{name}"),
            SecretRef::Systemd(name) => write!(f, "systemd:{name}"),
            SecretRef::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl serde::Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SecretRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret reference: 'store:<name>', 'systemd:<name>' or 'file:/path'")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SecretRef, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_forms_round_trip() {
        for s in [
            "store:ad-bind",
            "store:a",
            "store:Graph.client_secret-2",
            "systemd:ad-bind",
            "file:/etc/hybridsync/ad-bind.secret",
            "file:/",
        ] {
            let r: SecretRef = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
        let long = format!("store:{}", "x".repeat(64));
        assert_eq!(long.parse::<SecretRef>().unwrap().to_string(), long);
    }

    #[test]
    fn parsed_variants() {
        assert_eq!("store:x".parse(), Ok(SecretRef::Store("x".into())));
        assert_eq!("systemd:x".parse(), Ok(SecretRef::Systemd("x".into())));
        assert_eq!(
            "file:/run/s".parse(),
            Ok(SecretRef::File(PathBuf::from("/run/s")))
        );
        let r: SecretRef = "store:x".parse().unwrap();
        assert_eq!(r.name(), Some("x"));
        assert_eq!(r.path(), None);
    }

    #[test]
    fn unknown_kind_message_does_not_echo_the_value() {
        let err = "password:hunter2".parse::<SecretRef>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the value is not a secret reference (it is not shown, in case it is a secret \
             itself). If it is the secret, store it with 'hybridsync secrets set <name>' and \
             write 'store:<name>' here; otherwise use 'systemd:<name>' or 'file:/absolute/path'"
        );
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        let err = "password:x".parse::<SecretRef>().unwrap_err();
        assert_eq!(err, SecretRefError::UnknownKind);
        assert_eq!(
            "hunter2".parse::<SecretRef>().unwrap_err(),
            SecretRefError::UnknownKind
        );
        assert_eq!(
            "STORE:x".parse::<SecretRef>().unwrap_err(),
            SecretRefError::UnknownKind
        );
    }

    #[test]
    fn exact_messages() {
        let msg = |s: &str| s.parse::<SecretRef>().unwrap_err().to_string();
        assert_eq!(
            msg("store:"),
            "'store:' is not a valid secret reference: a secret name is 1 to 64 characters of \
             A-Z, a-z, 0-9, '.', '_' and '-' (but not '.' or '..'); use 'store:<name>', \
             'systemd:<name>' or 'file:/absolute/path'"
        );
        assert_eq!(
            msg("store:a/b"),
            "'store:a/b' is not a valid secret reference: a secret name is 1 to 64 characters \
             of A-Z, a-z, 0-9, '.', '_' and '-' (but not '.' or '..'); use 'store:<name>', \
             'systemd:<name>' or 'file:/absolute/path'"
        );
        assert_eq!(
            msg("file:relative"),
            "'file:relative' is not a valid secret reference: the path after 'file:' must be \
             absolute; use 'store:<name>', 'systemd:<name>' or 'file:/absolute/path'"
        );
        assert_eq!(
            msg(""),
            "the secret reference is empty: use 'store:<name>', 'systemd:<name>' or \
             'file:/absolute/path'"
        );
    }

    #[test]
    fn invalid_names() {
        for s in [
            "systemd:",
            "systemd:../etc",
            "store:a b",
            "store:é",
            "store:a\n",
            "file:",
        ] {
            assert!(s.parse::<SecretRef>().is_err(), "{s:?} should be rejected");
        }
        let too_long = format!("store:{}", "x".repeat(65));
        assert!(too_long.parse::<SecretRef>().is_err());
        assert!(!is_valid_name("."));
        assert!(!is_valid_name(".."));
        assert!(is_valid_name("..."));
        assert!(is_valid_name(".hidden"));
    }

    #[test]
    fn serde_as_string() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Conf {
            password: SecretRef,
        }
        let c = Conf {
            password: SecretRef::Systemd("ad".into()),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"password":"systemd:ad"}"#);
        assert_eq!(serde_json::from_str::<Conf>(&json).unwrap(), c);
        let err = serde_json::from_str::<Conf>(r#"{"password":"store:a/b"}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("'store:a/b' is not a valid secret reference")
        );
        let err = serde_json::from_str::<Conf>(r#"{"password":"hunter2"}"#).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
