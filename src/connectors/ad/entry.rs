//! Search result entries read from the raw BER ldap3 hands over, instead of ldap3's
//! `SearchEntry::construct` (which panics on malformed entries and on non-UTF-8 DNs, and sorts
//! values into text or binary by whether the bytes happen to be valid UTF-8).
//!
//! Invariants: reading never panics; every value stays bytes here (typing is the schema's job,
//! by attribute name, never by the bytes); attribute names keep their options
//! (`member;range=0-1499`) for the ranged-retrieval logic to see.

use ldap3::ResultEntry;
use ldap3::asn1::{PL, StructureTag};

use super::error::AdError;

/// One entry of a search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The DN as the DC sent it (not necessarily UTF-8).
    pub dn: Vec<u8>,
    /// Attribute descriptions (with options) and their values, in the DC's order.
    pub attrs: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    /// The DN as text, if it is UTF-8.
    pub fn dn_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.dn).ok()
    }

    /// The DN for messages (lossy).
    pub fn dn_lossy(&self) -> String {
        String::from_utf8_lossy(&self.dn).into_owned()
    }

    /// The values of an attribute (exact description, case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of an attribute as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name)?
            .first()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// All values of an attribute as text (values that are not UTF-8 are skipped).
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok().map(str::to_owned))
            .collect()
    }

    /// Whether `isDeleted` is TRUE.
    pub fn is_deleted(&self) -> bool {
        self.text("isDeleted")
            .is_some_and(|v| v.eq_ignore_ascii_case("TRUE"))
    }
}

fn malformed(what: &str) -> AdError {
    AdError::Malformed(format!("the DC sent a malformed search entry ({what})"))
}

fn constructed(tag: StructureTag, what: &str) -> Result<Vec<StructureTag>, AdError> {
    match tag.payload {
        PL::C(inner) => Ok(inner),
        PL::P(_) => Err(malformed(what)),
    }
}

fn primitive(tag: StructureTag, what: &str) -> Result<Vec<u8>, AdError> {
    match tag.payload {
        PL::P(bytes) => Ok(bytes),
        PL::C(_) => Err(malformed(what)),
    }
}

/// Read a SearchResultEntry (`[APPLICATION 4]`).
pub fn parse(entry: ResultEntry) -> Result<RawEntry, AdError> {
    let tag = entry.0;
    if tag.id != 4 {
        return Err(malformed("not a SearchResultEntry"));
    }
    let mut parts = constructed(tag, "entry")?.into_iter();
    let dn = primitive(parts.next().ok_or_else(|| malformed("no DN"))?, "DN")?;
    let list = match parts.next() {
        Some(t) => constructed(t, "attribute list")?,
        None => Vec::new(),
    };
    let mut attrs = Vec::with_capacity(list.len());
    for attr in list {
        let mut pair = constructed(attr, "attribute")?.into_iter();
        let name = primitive(
            pair.next().ok_or_else(|| malformed("no attribute name"))?,
            "attribute name",
        )?;
        let name = String::from_utf8(name).map_err(|_| malformed("attribute name not UTF-8"))?;
        let values = match pair.next() {
            Some(set) => constructed(set, "value set")?
                .into_iter()
                .map(|v| primitive(v, "value"))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        attrs.push((name, values));
    }
    Ok(RawEntry { dn, attrs })
}

/// A `name;range=LOW-HIGH` attribute description: the base name (other options kept), the low
/// bound and the high bound (`None` for `*`, the last range).
pub fn range_of(description: &str) -> Option<(String, u64, Option<u64>)> {
    let mut base = Vec::new();
    let mut range = None;
    for (i, part) in description.split(';').enumerate() {
        match part.get(..6) {
            Some(p) if i > 0 && p.eq_ignore_ascii_case("range=") => {
                let (lo, hi) = part.get(6..)?.split_once('-')?;
                let lo = lo.parse().ok()?;
                let hi = if hi == "*" {
                    None
                } else {
                    Some(hi.parse().ok()?)
                };
                range = Some((lo, hi));
            }
            _ => base.push(part),
        }
    }
    let (lo, hi) = range?;
    Some((base.join(";"), lo, hi))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ldap3::asn1::TagClass;

    fn p(bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id: 4,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn c(id: u64, class: TagClass, inner: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(inner),
        }
    }

    #[test]
    fn binary_values_stay_bytes_and_bad_dns_do_not_panic() {
        let guid_that_is_utf8 = b"ABCDEFGHIJKLMNOP";
        let entry = c(
            4,
            TagClass::Application,
            vec![
                p(b"CN=\xff\xfe,DC=x"),
                c(
                    16,
                    TagClass::Universal,
                    vec![c(
                        16,
                        TagClass::Universal,
                        vec![
                            p(b"objectGUID"),
                            c(17, TagClass::Universal, vec![p(guid_that_is_utf8)]),
                        ],
                    )],
                ),
            ],
        );
        let e = parse(ResultEntry::new(entry)).unwrap();
        assert_eq!(e.dn_text(), None);
        assert_eq!(e.get("objectguid").unwrap(), &[guid_that_is_utf8.to_vec()]);
        // Malformed shapes are errors.
        assert!(parse(ResultEntry::new(p(b"x"))).is_err());
        assert!(parse(ResultEntry::new(c(4, TagClass::Application, vec![]))).is_err());
        let bad = c(
            4,
            TagClass::Application,
            vec![p(b"DC=x"), c(16, TagClass::Universal, vec![p(b"flat")])],
        );
        assert!(parse(ResultEntry::new(bad)).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            range_of("member;range=0-1499"),
            Some(("member".into(), 0, Some(1499)))
        );
        assert_eq!(
            range_of("member;Range=1500-*"),
            Some(("member".into(), 1500, None))
        );
        assert_eq!(range_of("member"), None);
        assert_eq!(range_of("member;range=x-1"), None);
        assert_eq!(range_of("range=0-1"), None);
    }
}
