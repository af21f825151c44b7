//! [`ImmutableId`]: Entra ID's `onPremisesImmutableId`, the source anchor that ties a cloud
//! object to its on-premises original. It is the standard (RFC 4648, padded) base64 encoding of
//! the anchor bytes, usually an `objectGUID` or `mS-DS-ConsistencyGuid`. Invariant: the string is
//! non-empty canonical base64, so decoding it and encoding again gives the same text. Because it
//! is base64, comparison is case-sensitive.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::DomainError;

/// An Entra `onPremisesImmutableId` (source anchor): canonical base64 of the anchor bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImmutableId(String);

impl ImmutableId {
    /// Encodes raw anchor bytes (for example an `objectGUID`) as an immutable ID.
    pub fn from_anchor_bytes(bytes: &[u8]) -> Self {
        Self(STANDARD.encode(bytes))
    }

    /// Validates an immutable ID read from Entra or typed by a user.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::InvalidImmutableId {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(invalid(
                "it is empty; expected the base64 of the source anchor bytes",
            ));
        }
        if s.contains(['$', '_', '-']) {
            return Err(invalid(
                "it contains '$', '_' or '-'; expected standard base64 (A-Z, a-z, 0-9, '+', '/', \
                 '=' padding), not a URL-safe or escaped form",
            ));
        }
        match STANDARD.decode(s) {
            Ok(bytes) if !bytes.is_empty() => Ok(Self(s.to_owned())),
            _ => Err(invalid(
                "it is not valid standard base64; expected characters A-Z, a-z, 0-9, '+', '/' \
                 with '=' padding to a multiple of 4 characters",
            )),
        }
    }

    /// The base64 text, exactly as sent to or received from Entra.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The raw anchor bytes.
    pub fn decode(&self) -> Vec<u8> {
        // Validated on construction, so decoding cannot fail; fall back to empty regardless.
        STANDARD.decode(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ImmutableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ImmutableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImmutableId({})", self.0)
    }
}

impl FromStr for ImmutableId {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for ImmutableId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

serde_as_string!(ImmutableId, "a base64 immutable ID");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_valid_base64() {
        let id = ImmutableId::parse("1MOyofblGAcpOktcbX6PkA==").unwrap();
        assert_eq!(id.as_str(), "1MOyofblGAcpOktcbX6PkA==");
        assert_eq!(id.decode().len(), 16);
        assert_eq!(id.to_string(), "1MOyofblGAcpOktcbX6PkA==");
        assert_eq!(
            ImmutableId::parse("+/8=").unwrap().decode(),
            vec![0xfb, 0xff]
        );
    }

    #[test]
    fn comparison_is_case_sensitive() {
        let a = ImmutableId::parse("abcd").unwrap();
        let b = ImmutableId::parse("ABCD").unwrap();
        assert_ne!(a, b);
        assert_ne!(a.decode(), b.decode());
    }

    #[test]
    fn rejects_invalid_values() {
        for s in [
            "",
            "abc",
            "ab$d",
            "ab_d",
            "ab-d",
            "abd=",
            "ab==x",
            "abcd ",
            " abcd",
            "a===",
            "====",
            "1MOyofblGAcpOktcbX6PkA",
            "1MOyofblGAcpOktcbX6PkB==",
            "é",
        ] {
            let err = ImmutableId::parse(s).unwrap_err();
            assert!(
                matches!(&err, DomainError::InvalidImmutableId { value, .. } if value == s),
                "{s}: {err}"
            );
        }
        let msg = ImmutableId::parse("ab_d").unwrap_err().to_string();
        assert!(
            msg.starts_with("invalid immutable ID 'ab_d': it contains"),
            "{msg}"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let id = ImmutableId::from_anchor_bytes(&[1, 2, 3, 4, 5]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"AQIDBAU=\"");
        assert_eq!(serde_json::from_str::<ImmutableId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ImmutableId>("\"not base64!\"").is_err());

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            anchor: ImmutableId,
        }
        let doc = Doc { anchor: id };
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc);
    }

    proptest! {
        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
            let id = ImmutableId::from_anchor_bytes(&bytes);
            prop_assert_eq!(id.decode(), bytes);
            prop_assert_eq!(ImmutableId::parse(id.as_str()).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            if let Ok(id) = ImmutableId::parse(&s) {
                prop_assert_eq!(ImmutableId::from_anchor_bytes(&id.decode()), id);
            }
        }
    }
}
