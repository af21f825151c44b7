//! [`Sid`]: a Windows security identifier such as `S-1-5-21-…-1104`, as found in `objectSid`.
//! The binary form is a revision byte (always 1), a sub-authority count (0 to 15), a 6-byte
//! big-endian identifier authority, then that many little-endian `u32` sub-authorities. Invariant:
//! the authority fits in 48 bits and there are at most 15 sub-authorities, so every `Sid` converts
//! to both forms losslessly. The text form writes the authority in decimal below 2^32 and as
//! `0x` plus 12 hex digits otherwise, as Windows does.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

/// The largest number of sub-authorities a SID may carry.
const MAX_SUB_AUTHORITIES: usize = 15;
/// One past the largest 48-bit identifier authority.
const AUTHORITY_LIMIT: u64 = 1 << 48;

/// A Windows security identifier (SID).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    authority: u64,
    sub_authorities: Vec<u32>,
}

impl Sid {
    /// Builds a SID from its identifier authority (below 2^48) and up to 15 sub-authorities.
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Result<Self, DomainError> {
        let sid = Self {
            authority,
            sub_authorities: sub_authorities.to_vec(),
        };
        let reason = if authority >= AUTHORITY_LIMIT {
            "the identifier authority must be below 2^48"
        } else if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            "a SID has at most 15 sub-authorities"
        } else {
            return Ok(sid);
        };
        Err(DomainError::InvalidSid {
            value: sid.to_string(),
            reason: reason.to_owned(),
        })
    }

    /// Decodes the binary form (an `objectSid` value); rejects truncated or trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DomainError> {
        let invalid = |reason: String| DomainError::InvalidSidBytes {
            len: bytes.len(),
            reason,
        };
        let Some((&[revision, count], rest)) = bytes.split_first_chunk::<2>() else {
            return Err(invalid(
                "expected at least 8 bytes (revision, count, 6-byte authority)".to_owned(),
            ));
        };
        if revision != 1 {
            return Err(invalid(format!("revision is {revision}, expected 1")));
        }
        let count = usize::from(count);
        if count > MAX_SUB_AUTHORITIES {
            return Err(invalid(format!(
                "it declares {count} sub-authorities, but a SID has at most 15"
            )));
        }
        let expected = 8 + 4 * count;
        let Some((authority, subs)) = rest.split_first_chunk::<6>() else {
            return Err(invalid(format!(
                "expected {expected} bytes for {count} sub-authorities"
            )));
        };
        if bytes.len() != expected {
            return Err(invalid(format!(
                "expected {expected} bytes for {count} sub-authorities"
            )));
        }
        let [a0, a1, a2, a3, a4, a5] = *authority;
        let authority = u64::from_be_bytes([0, 0, a0, a1, a2, a3, a4, a5]);
        let (chunks, _) = subs.as_chunks::<4>();
        let sub_authorities = chunks.iter().map(|c| u32::from_le_bytes(*c)).collect();
        Ok(Self {
            authority,
            sub_authorities,
        })
    }

    /// The binary form, as stored in `objectSid`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * self.sub_authorities.len());
        out.push(1);
        // At most 15 by construction.
        out.push(u8::try_from(self.sub_authorities.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.authority.to_be_bytes().get(2..).unwrap_or_default());
        for sub in &self.sub_authorities {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        out
    }

    /// The 48-bit identifier authority (5 for `NT AUTHORITY`).
    pub fn authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, in order.
    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub_authorities
    }

    /// The relative identifier: the last sub-authority, if any.
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    /// The SID without its last sub-authority (the domain SID of an account), if it has one.
    pub fn domain_sid(&self) -> Option<Sid> {
        let (_, domain) = self.sub_authorities.split_last()?;
        Some(Self {
            authority: self.authority,
            sub_authorities: domain.to_vec(),
        })
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.authority < 1 << 32 {
            write!(f, "S-1-{}", self.authority)?;
        } else {
            write!(f, "S-1-0x{:012X}", self.authority)?;
        }
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

impl FromStr for Sid {
    type Err = DomainError;

    /// Parses `S-1-<authority>-<sub>...`; the authority may be decimal or `0x` hex.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| DomainError::InvalidSid {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = s.split('-');
        if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("S")) {
            return Err(invalid(
                "expected it to start with 'S-1-', like S-1-5-32-544",
            ));
        }
        if parts.next() != Some("1") {
            return Err(invalid(
                "only SID revision 1 exists; expected it to start with 'S-1-'",
            ));
        }
        let authority = parts.next().and_then(parse_authority).ok_or_else(|| {
            invalid(
                "the identifier authority must be a decimal number below 2^48, \
                 or 0x followed by 1 to 12 hex digits",
            )
        })?;
        let sub_authorities = parts
            .map(|p| parse_decimal(p).and_then(|n| u32::try_from(n).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| {
                invalid("each sub-authority must be a decimal number from 0 to 4294967295")
            })?;
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(invalid("a SID has at most 15 sub-authorities"));
        }
        Ok(Self {
            authority,
            sub_authorities,
        })
    }
}

/// Parses an identifier authority: decimal below 2^48, or `0x` and 1 to 12 hex digits.
fn parse_authority(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex)
            if (1..=12).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None => parse_decimal(s).filter(|a| *a < AUTHORITY_LIMIT),
    }
}

/// Parses a non-empty run of ASCII digits (no sign, no whitespace).
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

serde_as_string!(Sid, "a SID string like S-1-5-32-544");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ADMINS: [u8; 16] = [
        0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00,
        0x00,
    ];

    #[test]
    fn builtin_administrators_vector() {
        let sid = Sid::from_bytes(&ADMINS).unwrap();
        assert_eq!(sid.to_string(), "S-1-5-32-544");
        assert_eq!(sid.to_bytes(), ADMINS);
        assert_eq!("S-1-5-32-544".parse::<Sid>().unwrap(), sid);
        assert_eq!(sid.authority(), 5);
        assert_eq!(sid.sub_authorities(), &[32, 544]);
        assert_eq!(sid.rid(), Some(544));
        assert_eq!(sid.domain_sid().unwrap().to_string(), "S-1-5-32");
    }

    #[test]
    fn domain_account_sid() {
        let sid: Sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
            .parse()
            .unwrap();
        assert_eq!(sid.rid(), Some(1013));
        assert_eq!(
            sid.domain_sid().unwrap(),
            "S-1-5-21-3623811015-3361044348-30300820".parse().unwrap()
        );
        assert_eq!(Sid::from_bytes(&sid.to_bytes()).unwrap(), sid);
        assert_eq!(sid.to_bytes().len(), 8 + 4 * 5);
    }

    #[test]
    fn no_sub_authorities() {
        let sid = Sid::new(5, &[]).unwrap();
        assert_eq!(sid.to_string(), "S-1-5");
        assert_eq!(sid.rid(), None);
        assert_eq!(sid.domain_sid(), None);
        assert_eq!(Sid::from_bytes(&sid.to_bytes()).unwrap(), sid);
        assert_eq!("S-1-5".parse::<Sid>().unwrap(), sid);
    }

    #[test]
    fn large_authority_uses_hex() {
        let sid = Sid::new(0x0000_1234_5678_9ABC, &[7]).unwrap();
        assert_eq!(sid.to_string(), "S-1-0x123456789ABC-7");
        assert_eq!("S-1-0x123456789abc-7".parse::<Sid>().unwrap(), sid);
        assert_eq!(
            Sid::new(u64::from(u32::MAX), &[]).unwrap().to_string(),
            "S-1-4294967295"
        );
        assert_eq!(
            Sid::new(1 << 32, &[]).unwrap().to_string(),
            "S-1-0x000100000000"
        );
        assert_eq!("S-1-0x5-32".parse::<Sid>().unwrap().to_string(), "S-1-5-32");
        assert_eq!(
            "s-1-281474976710655".parse::<Sid>().unwrap().to_string(),
            "S-1-0xFFFFFFFFFFFF"
        );
    }

    #[test]
    fn new_validates() {
        assert!(Sid::new(1 << 48, &[]).is_err());
        assert!(Sid::new(5, &[0; 16]).is_err());
        assert!(Sid::new(5, &[0; 15]).is_ok());
    }

    #[test]
    fn rejects_bad_bytes() {
        let mut too_many = vec![1, 16, 0, 0, 0, 0, 0, 5];
        too_many.extend(std::iter::repeat_n(0, 64));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "at least 8 bytes"),
            (vec![1], "at least 8 bytes"),
            (vec![1, 0, 0, 0, 0], "expected 8 bytes"),
            (vec![2, 0, 0, 0, 0, 0, 0, 5], "revision is 2"),
            (too_many, "at most 15"),
            (ADMINS[..15].to_vec(), "expected 16 bytes for 2"),
            ([&ADMINS[..], &[0]].concat(), "expected 16 bytes for 2"),
        ];
        for (bytes, needle) in cases {
            let err = Sid::from_bytes(&bytes).unwrap_err();
            assert!(
                matches!(err, DomainError::InvalidSidBytes { len, .. } if len == bytes.len()),
                "{err}"
            );
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn rejects_bad_strings() {
        for s in [
            "",
            "S",
            "S-1",
            "S-1-",
            "S-2-5-32",
            "X-1-5-32",
            "S-1-5-",
            "S-1-5--32",
            "S-1-5-+32",
            "S-1-5-32 ",
            "S-1-5-4294967296",
            "S-1-281474976710656",
            "S-1-0x-1",
            "S-1-0x1234567890ABC-1",
            "S-1-0x+5",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            let err = s.parse::<Sid>().unwrap_err();
            assert!(
                matches!(&err, DomainError::InvalidSid { value, .. } if value == s),
                "{s}: {err}"
            );
        }
        let msg = "S-1-5-x".parse::<Sid>().unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid SID 'S-1-5-x': each sub-authority must be a decimal number from 0 to 4294967295"
        );
    }

    #[test]
    fn serde_round_trips_as_string() {
        let sid = Sid::from_bytes(&ADMINS).unwrap();
        let json = serde_json::to_string(&sid).unwrap();
        assert_eq!(json, "\"S-1-5-32-544\"");
        assert_eq!(serde_json::from_str::<Sid>(&json).unwrap(), sid);
        assert!(serde_json::from_str::<Sid>("\"S-1-5-x\"").is_err());

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            sid: Sid,
        }
        let doc = Doc { sid };
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc);
    }

    fn arb_sid() -> impl Strategy<Value = Sid> {
        (
            prop_oneof![0u64..16, 0u64..AUTHORITY_LIMIT],
            proptest::collection::vec(any::<u32>(), 0..=MAX_SUB_AUTHORITIES),
        )
            .prop_map(|(authority, subs)| Sid::new(authority, &subs).unwrap())
    }

    proptest! {
        #[test]
        fn bytes_round_trip(sid in arb_sid()) {
            prop_assert_eq!(Sid::from_bytes(&sid.to_bytes()).unwrap(), sid);
        }

        #[test]
        fn string_round_trip(sid in arb_sid()) {
            prop_assert_eq!(sid.to_string().parse::<Sid>().unwrap(), sid);
        }

        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(sid) = Sid::from_bytes(&bytes) {
                prop_assert_eq!(sid.to_bytes(), bytes);
            }
        }

        #[test]
        fn from_bytes_never_panics_on_near_valid(
            count in any::<u8>(),
            tail in proptest::collection::vec(any::<u8>(), 0..70),
        ) {
            let bytes = [&[1, count, 0, 0, 0, 0, 0, 5][..], &tail].concat();
            let _ = Sid::from_bytes(&bytes);
        }

        #[test]
        fn parse_never_panics(s in "(S-1-)?[-0-9a-fA-Fx]{0,40}|\\PC*") {
            if let Ok(sid) = s.parse::<Sid>() {
                prop_assert_eq!(Sid::from_bytes(&sid.to_bytes()).unwrap(), sid);
            }
        }
    }
}
