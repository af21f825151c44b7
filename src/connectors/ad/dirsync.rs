//! The LDAP controls the AD connector encodes and decodes itself: DirSync
//! (`1.2.840.113556.1.4.841`, MS-ADTS 3.1.1.3.4.1.3), paged results (RFC 2696), show-deleted
//! (`1.2.840.113556.1.4.417`), SD flags (`1.2.840.113556.1.4.801`, MS-ADTS 3.1.1.3.4.1.11: which
//! parts of `nTSecurityDescriptor` a search returns or a modify replaces), and the connector's [`Watermark`] format (per naming context: a
//! DirSync cookie, or a USN with the DC it belongs to).
//!
//! Invariants: every decoder returns an error on malformed input and never panics (property
//! tested); the DirSync flags are sent as a signed 32-bit INTEGER, so `0x80000000`
//! (INCREMENTAL_VALUES) is the four octets `80 00 00 00` AD expects; a watermark written here
//! reads back unchanged, and a watermark of another format (or of another connector kind) is
//! an error, never a silent full re-read.

use ldap3::controls::RawControl;

use super::ber::{self, BerError, Reader};
use crate::engine::connector::Watermark;

/// `LDAP_SERVER_DIRSYNC_OID`.
pub const DIRSYNC_OID: &str = "1.2.840.113556.1.4.841";
/// Paged results (RFC 2696).
pub const PAGED_OID: &str = "1.2.840.113556.1.4.319";
/// `LDAP_SERVER_SHOW_DELETED_OID`.
pub const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";

/// `LDAP_SERVER_SD_FLAGS_OID`.
pub const SD_FLAGS_OID: &str = "1.2.840.113556.1.4.801";
/// SD flags: the owner.
pub const SD_OWNER: u32 = 0x1;
/// SD flags: the primary group.
pub const SD_GROUP: u32 = 0x2;
/// SD flags: the DACL (readable and writable by the object's owner and holders of WRITE_DAC,
/// without the SeSecurityPrivilege the SACL needs).
pub const SD_DACL: u32 = 0x4;
/// SD flags: the SACL.
pub const SD_SACL: u32 = 0x8;

/// The SD flags control: `SEQUENCE { flags INTEGER }`. Not critical, as AD's own tools send it.
pub fn sd_flags(flags: u32) -> RawControl {
    RawControl {
        ctype: SD_FLAGS_OID.to_owned(),
        crit: false,
        val: Some(ber::sequence(&[ber::integer(i64::from(flags))])),
    }
}

/// `LDAP_DIRSYNC_OBJECT_SECURITY`: no replication right needed, only readable objects returned.
pub const FLAG_OBJECT_SECURITY: u32 = 0x1;
/// `LDAP_DIRSYNC_ANCESTORS_FIRST_ORDER`: parents before children.
pub const FLAG_ANCESTORS_FIRST_ORDER: u32 = 0x800;
/// `LDAP_DIRSYNC_PUBLIC_DATA_ONLY`: no secret attributes.
pub const FLAG_PUBLIC_DATA_ONLY: u32 = 0x2000;
/// `LDAP_DIRSYNC_INCREMENTAL_VALUES`: only the changed values of linked multi-valued attributes.
pub const FLAG_INCREMENTAL_VALUES: u32 = 0x8000_0000;

/// The DirSync request control (always critical).
pub fn dirsync_request(flags: u32, max_bytes: i32, cookie: &[u8]) -> RawControl {
    let value = ber::sequence(&[
        // AD reads the flags as a signed 32-bit integer.
        ber::integer(i64::from(flags as i32)),
        ber::integer(i64::from(max_bytes)),
        ber::octets(cookie),
    ]);
    RawControl {
        ctype: DIRSYNC_OID.to_owned(),
        crit: true,
        val: Some(value),
    }
}

/// What a DirSync response control says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSyncResponse {
    /// More changes wait: search again with [`DirSyncResponse::cookie`].
    pub more: bool,
    /// The cookie for the next call.
    pub cookie: Vec<u8>,
}

/// Decode a DirSync response control's value.
pub fn parse_dirsync_response(value: &[u8]) -> Result<DirSyncResponse, BerError> {
    let mut outer = Reader::new(value);
    let mut seq = outer.sequence()?;
    let more = seq.integer()?;
    let _unused = seq.integer()?;
    let cookie = seq.octets()?.to_vec();
    seq.finish()?;
    outer.finish()?;
    Ok(DirSyncResponse {
        more: more != 0,
        cookie,
    })
}

/// The paged results request control (not critical: a server without paging answers in full).
pub fn paged_request(size: i32, cookie: &[u8]) -> RawControl {
    RawControl {
        ctype: PAGED_OID.to_owned(),
        crit: false,
        val: Some(ber::sequence(&[
            ber::integer(i64::from(size)),
            ber::octets(cookie),
        ])),
    }
}

/// The cookie of a paged results response control (empty: the last page).
pub fn parse_paged_response(value: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut outer = Reader::new(value);
    let mut seq = outer.sequence()?;
    let _estimate = seq.integer()?;
    let cookie = seq.octets()?.to_vec();
    seq.finish()?;
    outer.finish()?;
    Ok(cookie)
}

/// The show-deleted control (no value).
pub fn show_deleted() -> RawControl {
    RawControl {
        ctype: SHOW_DELETED_OID.to_owned(),
        crit: true,
        val: None,
    }
}

/// How one naming context's changes are tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A DirSync cookie (domain-wide, any DC).
    DirSync(Vec<u8>),
    /// USN polling: changes with a higher `uSNChanged` on this DC (USNs are per DC).
    Usn {
        /// The highest committed USN when the last import started.
        usn: i64,
        /// The DC's dnsHostName.
        dc: String,
        /// The DC's invocationId (changes when the DC's database is restored).
        invocation_id: Vec<u8>,
    },
}

/// The connector's position in every naming context it imports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdWatermark {
    /// Naming context DN (as text) and its position.
    pub contexts: Vec<(String, Position)>,
}

const WATERMARK_VERSION: i64 = 1;

impl AdWatermark {
    /// Encode for the engine.
    pub fn encode(&self) -> Watermark {
        let contexts: Vec<Vec<u8>> = self
            .contexts
            .iter()
            .map(|(nc, pos)| match pos {
                Position::DirSync(cookie) => ber::sequence(&[
                    ber::octets(nc.as_bytes()),
                    ber::integer(0),
                    ber::octets(cookie),
                ]),
                Position::Usn {
                    usn,
                    dc,
                    invocation_id,
                } => ber::sequence(&[
                    ber::octets(nc.as_bytes()),
                    ber::integer(1),
                    ber::integer(*usn),
                    ber::octets(dc.as_bytes()),
                    ber::octets(invocation_id),
                ]),
            })
            .collect();
        Watermark(ber::sequence(&[
            ber::integer(WATERMARK_VERSION),
            ber::sequence(&contexts),
        ]))
    }

    /// Decode what [`AdWatermark::encode`] wrote.
    pub fn decode(w: &Watermark) -> Result<Self, String> {
        Self::decode_bytes(&w.0).map_err(|e| format!("the saved watermark is unreadable ({e})"))
    }

    fn decode_bytes(bytes: &[u8]) -> Result<Self, BerError> {
        let mut outer = Reader::new(bytes);
        let mut seq = outer.sequence()?;
        if seq.integer()? != WATERMARK_VERSION {
            return Err(BerError::Unsupported("watermark version"));
        }
        let mut list = seq.sequence()?;
        seq.finish()?;
        outer.finish()?;
        let mut contexts = Vec::new();
        while !list.is_empty() {
            let mut item = list.sequence()?;
            let nc = String::from_utf8(item.octets()?.to_vec())
                .map_err(|_| BerError::Unsupported("naming context not UTF-8"))?;
            let pos = match item.integer()? {
                0 => Position::DirSync(item.octets()?.to_vec()),
                1 => Position::Usn {
                    usn: item.integer()?,
                    dc: String::from_utf8(item.octets()?.to_vec())
                        .map_err(|_| BerError::Unsupported("DC name not UTF-8"))?,
                    invocation_id: item.octets()?.to_vec(),
                },
                _ => return Err(BerError::Unsupported("position kind")),
            };
            item.finish()?;
            contexts.push((nc, pos));
        }
        Ok(Self { contexts })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dirsync_request_bytes() {
        let c = dirsync_request(FLAG_INCREMENTAL_VALUES | FLAG_ANCESTORS_FIRST_ORDER, 0, b"");
        assert_eq!(c.ctype, DIRSYNC_OID);
        assert!(c.crit);
        assert_eq!(
            c.val.unwrap(),
            vec![0x30, 0x0b, 2, 4, 0x80, 0, 0x08, 0, 2, 1, 0, 4, 0]
        );
    }

    #[test]
    fn dirsync_response() {
        let v = ber::sequence(&[ber::integer(1), ber::integer(0), ber::octets(b"ck")]);
        assert_eq!(
            parse_dirsync_response(&v).unwrap(),
            DirSyncResponse {
                more: true,
                cookie: b"ck".to_vec()
            }
        );
        assert!(parse_dirsync_response(&v[..v.len() - 1]).is_err());
        assert!(parse_dirsync_response(&[]).is_err());
    }

    #[test]
    fn paged_round_trip() {
        let c = paged_request(500, b"abc");
        let v = c.val.unwrap();
        assert_eq!(parse_paged_response(&v).unwrap(), b"abc");
    }

    #[test]
    fn watermark_of_another_format_is_an_error() {
        assert!(AdWatermark::decode(&Watermark(vec![1, 2, 3])).is_err());
        assert!(AdWatermark::decode(&Watermark(Vec::new())).is_err());
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse_dirsync_response(&bytes);
            let _ = parse_paged_response(&bytes);
            let _ = AdWatermark::decode(&Watermark(bytes));
        }

        #[test]
        fn dirsync_round_trip(
            flags in any::<u32>(),
            more in any::<bool>(),
            cookie in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            // The request's cookie and flags read back with the generic reader.
            let req = dirsync_request(flags, 0, &cookie).val.unwrap();
            let mut r = Reader::new(&req);
            let mut s = r.sequence().unwrap();
            prop_assert_eq!(s.integer().unwrap() as i32 as u32, flags);
            prop_assert_eq!(s.integer().unwrap(), 0);
            prop_assert_eq!(s.octets().unwrap(), &cookie[..]);
            let resp = ber::sequence(&[
                ber::integer(i64::from(more)), ber::integer(0), ber::octets(&cookie),
            ]);
            let parsed = parse_dirsync_response(&resp).unwrap();
            prop_assert_eq!(parsed, DirSyncResponse { more, cookie });
        }

        #[test]
        fn watermark_round_trip(
            cookie in proptest::collection::vec(any::<u8>(), 0..200),
            usn in any::<i64>(),
            nc in "[A-Za-z=, ]{0,40}",
        ) {
            let w = AdWatermark { contexts: vec![
                (nc.clone(), Position::DirSync(cookie.clone())),
                (nc, Position::Usn { usn, dc: "dc1.lab".into(), invocation_id: cookie }),
            ]};
            prop_assert_eq!(AdWatermark::decode(&w.encode()).unwrap(), w);
        }
    }
}
