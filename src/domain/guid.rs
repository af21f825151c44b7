//! [`ObjectGuid`]: Active Directory's `objectGUID`, the stable identity of a directory object.
//! It stores the 16 bytes exactly as AD returns them over LDAP, which is Microsoft's mixed-endian
//! layout (`Data1` u32 little-endian, `Data2` and `Data3` u16 little-endian, `Data4` as-is; .NET's
//! `Guid.ToByteArray()`). The text form is the lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
//! string AD tools show, which reads those fields byte-swapped; the default Entra source anchor
//! is the base64 of the raw bytes, see [`ImmutableId`].

use std::fmt;
use std::str::FromStr;

use super::{DomainError, ImmutableId};

/// An Active Directory `objectGUID`, stored in AD's on-the-wire byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectGuid([u8; 16]);

impl ObjectGuid {
    /// Wraps 16 bytes in AD's on-the-wire (mixed-endian) order.
    pub const fn from_array(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Reads an `objectGUID` attribute value, which must be exactly 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DomainError> {
        <[u8; 16]>::try_from(bytes)
            .map(Self)
            .map_err(|_| DomainError::InvalidGuidLength { len: bytes.len() })
    }

    /// The raw bytes in AD's on-the-wire order, as sent in LDAP filters and binds.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The Entra source anchor for this GUID: standard base64 of the raw bytes.
    pub fn to_immutable_id(&self) -> ImmutableId {
        ImmutableId::from_anchor_bytes(&self.0)
    }
}

impl From<[u8; 16]> for ObjectGuid {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl TryFrom<&ImmutableId> for ObjectGuid {
    type Error = DomainError;

    /// Recovers the GUID from an immutable ID that was derived from an `objectGUID` (or an
    /// `mS-DS-ConsistencyGuid` holding one); fails unless it decodes to exactly 16 bytes.
    fn try_from(id: &ImmutableId) -> Result<Self, Self::Error> {
        let bytes = id.decode();
        <[u8; 16]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| DomainError::InvalidImmutableId {
                value: id.as_str().to_owned(),
                reason: format!(
                    "it decodes to {} bytes, but a GUID-based source anchor is exactly 16 bytes",
                    bytes.len()
                ),
            })
    }
}

impl fmt::Display for ObjectGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [
            a0,
            a1,
            a2,
            a3,
            b0,
            b1,
            c0,
            c1,
            d0,
            d1,
            e0,
            e1,
            e2,
            e3,
            e4,
            e5,
        ] = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{d0:02x}{d1:02x}-{e0:02x}{e1:02x}{e2:02x}{e3:02x}{e4:02x}{e5:02x}",
            u32::from_le_bytes([a0, a1, a2, a3]),
            u16::from_le_bytes([b0, b1]),
            u16::from_le_bytes([c0, c1]),
        )
    }
}

impl fmt::Debug for ObjectGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectGuid({self})")
    }
}

impl FromStr for ObjectGuid {
    type Err = DomainError;

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in any letter case, with or without braces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::InvalidGuid {
            value: s.to_owned(),
        };
        let inner = match s.strip_prefix('{') {
            Some(rest) => rest.strip_suffix('}').ok_or_else(invalid)?,
            None => s,
        };
        if inner.len() != 36 {
            return Err(invalid());
        }
        // Bytes in the order the text shows them (big-endian fields).
        let mut shown = [0u8; 16];
        let mut nibbles = 0usize;
        for (pos, c) in inner.bytes().enumerate() {
            if matches!(pos, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(invalid());
                }
                continue;
            }
            let digit = char::from(c).to_digit(16).ok_or_else(invalid)?;
            let slot = shown.get_mut(nibbles / 2).ok_or_else(invalid)?;
            // `digit` < 16, so the conversion is lossless.
            *slot = (*slot << 4) | digit as u8;
            nibbles += 1;
        }
        let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = shown;
        let [d0, d1, e0, e1, e2, e3, e4, e5] = rest;
        Ok(Self([
            a3, a2, a1, a0, b1, b0, c1, c0, d0, d1, e0, e1, e2, e3, e4, e5,
        ]))
    }
}

serde_as_string!(
    ObjectGuid,
    "a GUID string like a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TEXT: &str = "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90";
    const WIRE: [u8; 16] = [
        0xd4, 0xc3, 0xb2, 0xa1, 0xf6, 0xe5, 0x18, 0x07, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f,
        0x90,
    ];
    // base64 of WIRE, computed by hand: d4c3b2 -> 1MOy, a1f6e5 -> ofbl, 180729 -> GAcp,
    // 3a4b5c -> Oktc, 6d7e8f -> bX6P, 90 -> kA==.
    const ANCHOR: &str = "1MOyofblGAcpOktcbX6PkA==";

    #[test]
    fn known_vector_parses_to_wire_bytes() {
        let guid: ObjectGuid = TEXT.parse().unwrap();
        assert_eq!(guid.as_bytes(), &WIRE);
        assert_eq!(guid.to_string(), TEXT);
        assert_eq!(ObjectGuid::from_bytes(&WIRE).unwrap(), guid);
    }

    #[test]
    fn known_vector_immutable_id() {
        let guid = ObjectGuid::from_array(WIRE);
        let id = guid.to_immutable_id();
        assert_eq!(id.as_str(), ANCHOR);
        assert_eq!(ObjectGuid::try_from(&id).unwrap(), guid);
    }

    #[test]
    fn accepts_upper_case_and_braces() {
        let expected = ObjectGuid::from_array(WIRE);
        for s in [
            "A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90",
            "{a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90}",
            "{A1b2C3d4-E5f6-0718-293A-4b5c6d7e8F90}",
        ] {
            assert_eq!(s.parse::<ObjectGuid>().unwrap(), expected, "{s}");
        }
    }

    #[test]
    fn rejects_malformed_strings() {
        for s in [
            "",
            "xyz",
            "{a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90}",
            "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f9g",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f9",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f900",
            "a1b2c3d4_e5f6-0718-293a-4b5c6d7e8f90",
            "a1b2c3d-4e5f6-0718-293a-4b5c6d7e8f90",
            " a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f9é",
            "+1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90",
        ] {
            let err = s.parse::<ObjectGuid>().unwrap_err();
            assert_eq!(
                err,
                DomainError::InvalidGuid {
                    value: s.to_owned()
                }
            );
        }
        let msg = "xyz".parse::<ObjectGuid>().unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid GUID 'xyz': expected 32 hex digits in the form \
             xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, optionally wrapped in {braces}"
        );
    }

    #[test]
    fn rejects_wrong_byte_lengths() {
        for len in [0, 1, 15, 17, 32] {
            let err = ObjectGuid::from_bytes(&vec![0; len]).unwrap_err();
            assert_eq!(err, DomainError::InvalidGuidLength { len });
        }
        assert_eq!(
            ObjectGuid::from_bytes(&[0; 3]).unwrap_err().to_string(),
            "invalid objectGUID value: expected exactly 16 bytes, got 3"
        );
    }

    #[test]
    fn non_guid_immutable_id_does_not_convert() {
        let id = ImmutableId::from_anchor_bytes(b"short");
        let err = ObjectGuid::try_from(&id).unwrap_err();
        assert!(err.to_string().contains("decodes to 5 bytes"), "{err}");
    }

    #[test]
    fn serde_round_trips_as_string() {
        let guid = ObjectGuid::from_array(WIRE);
        let json = serde_json::to_string(&guid).unwrap();
        assert_eq!(json, format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<ObjectGuid>(&json).unwrap(), guid);

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            guid: ObjectGuid,
        }
        let doc = Doc { guid };
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc);

        let err = serde_json::from_str::<ObjectGuid>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("invalid GUID 'nope'"), "{err}");
        assert!(serde_json::from_str::<ObjectGuid>("42").is_err());
    }

    #[test]
    fn debug_shows_string_form() {
        assert_eq!(
            format!("{:?}", ObjectGuid::from_array(WIRE)),
            format!("ObjectGuid({TEXT})")
        );
    }

    proptest! {
        #[test]
        fn string_round_trip(bytes in any::<[u8; 16]>()) {
            let guid = ObjectGuid::from_array(bytes);
            let text = guid.to_string();
            prop_assert_eq!(text.parse::<ObjectGuid>().unwrap(), guid);
            prop_assert_eq!(text.to_uppercase().parse::<ObjectGuid>().unwrap(), guid);
            prop_assert_eq!(format!("{{{text}}}").parse::<ObjectGuid>().unwrap(), guid);
        }

        #[test]
        fn immutable_id_round_trip(bytes in any::<[u8; 16]>()) {
            let guid = ObjectGuid::from_array(bytes);
            let id = guid.to_immutable_id();
            prop_assert_eq!(ObjectGuid::try_from(&id).unwrap(), guid);
            prop_assert_eq!(id.as_str().parse::<ImmutableId>().unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = s.parse::<ObjectGuid>();
        }
    }
}
