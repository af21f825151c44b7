//! Domain types shared by every part of hybridsync: the identifiers and names that flow between
//! Active Directory and Entra ID. Each type validates on construction, so a value that exists is
//! well formed; parsing never panics and reports bad input through [`DomainError`], whose
//! messages quote the offending value and say what was expected. Types with a canonical text form
//! (de)serialize as that string and are re-validated when deserialized; [`Secret`] never
//! (de)serializes at all.

/// Implements `Serialize` via `Display` and `Deserialize` via `FromStr` for a domain type, so
/// that every deserialized value passes the same validation as a parsed one.
macro_rules! serde_as_string {
    ($ty:ty, $expecting:literal) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct Visitor;

                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

mod attribute;
mod dn;
mod guid;
mod immutable_id;
mod secret;
mod sid;

pub use attribute::AttributeName;
pub use dn::{Dn, Rdn, escape_value};
pub use guid::ObjectGuid;
pub use immutable_id::ImmutableId;
pub use secret::Secret;
pub use sid::Sid;

/// Why a domain value could not be constructed; every message quotes the rejected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A GUID string was not in the `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form.
    #[error(
        "invalid GUID '{}': expected 32 hex digits in the form \
         xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, optionally wrapped in {{braces}}",
        Shown(.value)
    )]
    InvalidGuid {
        /// The rejected text.
        value: String,
    },
    /// A binary objectGUID did not have exactly 16 bytes.
    #[error("invalid objectGUID value: expected exactly 16 bytes, got {len}")]
    InvalidGuidLength {
        /// The number of bytes received.
        len: usize,
    },
    /// A value was not a valid `onPremisesImmutableId` (standard base64).
    #[error("invalid immutable ID '{}': {reason}", Shown(.value))]
    InvalidImmutableId {
        /// The rejected text.
        value: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A string was not a valid RFC 4514 distinguished name.
    #[error("invalid distinguished name '{}': {reason}", Shown(.value))]
    InvalidDn {
        /// The rejected text.
        value: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A string was not a valid LDAP attribute name.
    #[error("invalid attribute name '{}': {reason}", Shown(.value))]
    InvalidAttributeName {
        /// The rejected text.
        value: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A string was not a valid `S-1-...` security identifier.
    #[error("invalid SID '{}': {reason}", Shown(.value))]
    InvalidSid {
        /// The rejected text.
        value: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A binary objectSid value was malformed.
    #[error("invalid binary SID ({len} bytes): {reason}")]
    InvalidSidBytes {
        /// The number of bytes received.
        len: usize,
        /// What is wrong and what was expected.
        reason: String,
    },
}

/// Shows user input in an error message: control characters are escaped (so a message stays on
/// one line), everything else, backslashes included, is shown as typed.
struct Shown<'a>(&'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_input_as_typed_but_escape_control_characters() {
        let err = Dn::parse("CN=a\\q\nb").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid distinguished name 'CN=a\\q\\nb': ")
        );
        let err = "S-1-5-\u{0}\t".parse::<Sid>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid SID 'S-1-5-\\u{0}\\t': "),
            "{err}"
        );
    }
}
