//! [`AttributeName`]: an LDAP attribute description such as `userPrincipalName`, `2.5.4.3` or
//! `member;range=0-1499`. Invariant: the base is an RFC 4512 `descr` (a letter, then letters,
//! digits and hyphens; underscores are accepted too, for Microsoft Graph property names such as
//! `extension_<appId>_<name>`) or a numeric OID (at least two dot-separated numbers without leading
//! zeros), optionally followed by `;option` parts made of letters, digits, `-`, `=` and `*`.
//! Equality, hashing and ordering ignore ASCII case, as LDAP does; `Display` keeps the spelling
//! it was created with.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use super::DomainError;

/// An LDAP attribute name (or OID), with optional `;options`, compared case-insensitively. The
/// text is shared, so a clone (names are map keys everywhere in the engine) allocates nothing.
///
/// Names are compared very often (they key the engine's maps), so each carries its first eight
/// bytes folded to lower case as one big-endian number: most comparisons end there, without
/// looking at the text.
#[derive(Clone)]
pub struct AttributeName {
    /// The first (up to) eight bytes of the name, ASCII-lower-cased, big-endian, zero-padded.
    /// Valid names hold no NUL byte, so padding orders a shorter name first, as byte order does.
    prefix: u64,
    text: std::sync::Arc<str>,
}

/// The folded first eight bytes of `name` as a big-endian number (see [`AttributeName`]).
fn folded_prefix(name: &str) -> u64 {
    let mut buf = [0u8; 8];
    for (b, c) in buf.iter_mut().zip(name.bytes()) {
        *b = c.to_ascii_lowercase();
    }
    u64::from_be_bytes(buf)
}

impl AttributeName {
    /// Validates an attribute name, optionally with `;options` (e.g. `member;range=0-1499`).
    pub fn new(name: &str) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::InvalidAttributeName {
            value: name.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = name.split(';');
        let base = parts.next().unwrap_or_default();
        if !is_descr(base) && !is_numeric_oid(base) {
            return Err(invalid(
                "expected a name that starts with a letter and continues with letters, digits, '_' \
                 or '-' (like 'userPrincipalName'), or a numeric OID (like '2.5.4.3')",
            ));
        }
        for option in parts {
            let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '=' | '*');
            if option.is_empty() || !option.chars().all(valid_char) {
                return Err(invalid(
                    "each ';option' must be non-empty and use only letters, digits, '-', '=' \
                     or '*' (like ';range=0-1499')",
                ));
            }
        }
        Ok(Self::unchecked(name))
    }

    fn unchecked(name: &str) -> Self {
        Self {
            prefix: folded_prefix(name),
            text: std::sync::Arc::from(name),
        }
    }

    /// A name written as a literal in this crate's own source (defaults such as
    /// `userPrincipalName`). Not validated: every caller passes a literal that `new` accepts, and
    /// the tests of those callers check it.
    pub(crate) fn known(name: &'static str) -> Self {
        Self::unchecked(name)
    }

    /// The name as it was spelled when created.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name without any `;options` (`member;range=0-1499` gives `member`).
    pub fn base_name(&self) -> &str {
        self.text.split(';').next().unwrap_or_default()
    }

    /// Whether the name carries `;options`.
    pub fn has_options(&self) -> bool {
        self.text.contains(';')
    }

    /// Compares with a plain string the way LDAP does (ASCII case-insensitively).
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.text.eq_ignore_ascii_case(other)
    }

    /// Whether this is `dn` or `distinguishedName` (in any case), the names under which objects
    /// give their DN. Decided from the length and folded prefix where they differ (every other
    /// name, on every attribute read), without reading the text.
    pub fn is_dn(&self) -> bool {
        const DN: u64 = u64::from_be_bytes(*b"dn\0\0\0\0\0\0");
        const DISTINGU: u64 = u64::from_be_bytes(*b"distingu");
        match self.text.len() {
            2 => self.prefix == DN,
            17 => self.prefix == DISTINGU && self.eq_ignore_case("distinguishedName"),
            _ => false,
        }
    }
}

/// RFC 4512 `descr`: a letter, then letters, digits and hyphens.
fn is_descr(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// RFC 4512 `numericoid`: two or more dot-separated numbers, none with a leading zero.
fn is_numeric_oid(s: &str) -> bool {
    let valid_number = |n: &str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    s.contains('.') && s.split('.').all(valid_number)
}

impl PartialEq for AttributeName {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.text, &other.text)
            || (self.prefix == other.prefix
                && self.text.len() == other.text.len()
                && self.eq_ignore_case(&other.text))
    }
}

impl Eq for AttributeName {}

impl Hash for AttributeName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The folded bytes, a buffer at a time (hashers are slow byte by byte).
        let mut buf = [0u8; 32];
        for chunk in self.text.as_bytes().chunks(buf.len()) {
            let folded = &mut buf[..chunk.len()];
            folded.copy_from_slice(chunk);
            folded.make_ascii_lowercase();
            state.write(folded);
        }
        // Terminator, as `str` hashing does, so adjacent names in a tuple cannot collide.
        state.write_u8(0xff);
    }
}

impl PartialOrd for AttributeName {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AttributeName {
    /// The folded bytes compared lexicographically: the folded eight-byte prefixes first (most
    /// comparisons end there), then the rest (equal bytes are skipped without folding).
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match self.prefix.cmp(&other.prefix) {
            Ordering::Equal => self.cmp_rest(other),
            unequal => unequal,
        }
    }
}

impl AttributeName {
    /// [`Ord::cmp`] for names with equal prefixes: the bytes after the eighth.
    fn cmp_rest(&self, other: &Self) -> Ordering {
        if std::sync::Arc::ptr_eq(&self.text, &other.text) {
            return Ordering::Equal;
        }
        let (a, b) = (self.text.as_bytes(), other.text.as_bytes());
        let (a, b) = (
            a.get(8..).unwrap_or_default(),
            b.get(8..).unwrap_or_default(),
        );
        for (x, y) in a.iter().zip(b) {
            if x != y {
                let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
                if x != y {
                    return x.cmp(&y);
                }
            }
        }
        a.len().cmp(&b.len())
    }
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttributeName({})", self.text)
    }
}

impl FromStr for AttributeName {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for AttributeName {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

serde_as_string!(AttributeName, "an LDAP attribute name");

#[cfg(test)]
mod tests {

    #[test]
    fn is_dn_names_exactly_dn_and_distinguished_name() {
        for name in [
            "dn",
            "DN",
            "dN",
            "distinguishedName",
            "DISTINGUISHEDNAME",
            "distinguishedNamf",
            "distinguishedNam",
            "distinguishedNames",
            "dns",
            "d",
            "dc",
            "cn",
            "distinguishedName;binary",
            "sAMAccountName",
        ] {
            let attr = AttributeName::new(name).unwrap();
            let expected =
                name.eq_ignore_ascii_case("dn") || name.eq_ignore_ascii_case("distinguishedName");
            assert_eq!(attr.is_dn(), expected, "{name}");
        }
    }
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn accepts_valid_names() {
        for s in [
            "cn",
            "CN",
            "userPrincipalName",
            "ms-DS-ConsistencyGuid",
            "msDS-cloudExtensionAttribute1",
            "2.5.4.3",
            "1.2.840.113556.1.4.656",
            "0.9",
            "member;range=0-1499",
            "member;range=1500-*",
            "userCertificate;binary",
            "cn;lang-en;x-foo",
        ] {
            let name = AttributeName::new(s).unwrap();
            assert_eq!(name.as_str(), s);
            assert_eq!(name.to_string(), s);
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for s in [
            "",
            "1cn",
            "-cn",
            "c n",
            "cn ",
            "_cn",
            "cn;",
            "cn;;x",
            "cn;a b",
            "2.5.04.3",
            "2",
            "2.",
            ".2.5",
            "2..5",
            "ün",
            "cn=x",
            "cn;range=0-1499;",
            ";x",
        ] {
            let err = AttributeName::new(s).unwrap_err();
            assert!(
                matches!(&err, DomainError::InvalidAttributeName { value, .. } if value == s),
                "{s}: {err}"
            );
        }
        let msg = AttributeName::new("c n").unwrap_err().to_string();
        assert!(
            msg.starts_with("invalid attribute name 'c n': expected"),
            "{msg}"
        );
    }

    #[test]
    fn base_name_strips_options() {
        let name = AttributeName::new("Member;Range=0-1499").unwrap();
        assert_eq!(name.base_name(), "Member");
        assert!(name.has_options());
        let plain = AttributeName::new("mail").unwrap();
        assert_eq!(plain.base_name(), "mail");
        assert!(!plain.has_options());
    }

    #[test]
    fn comparison_ignores_ascii_case_but_display_preserves_it() {
        let a = AttributeName::new("sAMAccountName").unwrap();
        let b = AttributeName::new("samaccountname").unwrap();
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(a.to_string(), "sAMAccountName");
        assert!(a.eq_ignore_case("SAMACCOUNTNAME"));
        assert!(!a.eq_ignore_case("sAMAccountNam"));
        let c = AttributeName::new("mail").unwrap();
        assert!(c < a && c.cmp(&b) == Ordering::Less);
        assert!(AttributeName::new("B").unwrap() > AttributeName::new("a").unwrap());
    }

    #[test]
    fn serde_round_trips_as_string() {
        let name = AttributeName::new("objectGUID").unwrap();
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, "\"objectGUID\"");
        let back: AttributeName = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_str(), "objectGUID");
        assert!(serde_json::from_str::<AttributeName>("\"bad name\"").is_err());

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            attrs: Vec<AttributeName>,
        }
        let doc = Doc {
            attrs: vec![name, AttributeName::new("member;range=0-*").unwrap()],
        };
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc);
    }

    proptest! {
        #[test]
        fn case_insensitive_equality_implies_equal_hashes(s in "[a-zA-Z][a-zA-Z0-9-]{0,20}") {
            let a = AttributeName::new(&s).unwrap();
            let b = AttributeName::new(&s.to_ascii_uppercase()).unwrap();
            let c = AttributeName::new(&s.to_ascii_lowercase()).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&b, &c);
            prop_assert_eq!(hash_of(&a), hash_of(&b));
            prop_assert_eq!(hash_of(&b), hash_of(&c));
            prop_assert_eq!(a.cmp(&b), Ordering::Equal);
        }

        #[test]
        fn order_is_the_order_of_the_folded_names(
            x in "[a-zA-Z][a-zA-Z0-9-]{0,12}",
            y in "[a-zA-Z][a-zA-Z0-9-]{0,12}",
        ) {
            let (a, b) = (AttributeName::new(&x).unwrap(), AttributeName::new(&y).unwrap());
            let folded = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
            prop_assert_eq!(a.cmp(&b), folded);
            prop_assert_eq!(a == b, folded == Ordering::Equal);
            let shared = a.clone();
            prop_assert_eq!(shared.cmp(&a), Ordering::Equal);
        }

        #[test]
        fn names_sharing_a_long_prefix_order_and_compare_by_their_folded_text(
            stem in "(msDS-Phonetic|otherTelephone|extension_0a1b|userP)?",
            x in "[a-zA-Z][a-zA-Z0-9-]{0,10}",
            y in "[a-zA-Z][a-zA-Z0-9-]{0,10}",
            upper in any::<bool>(),
        ) {
            let (x, y) = (format!("{stem}{x}"), format!("{stem}{y}"));
            let y = if upper { y.to_ascii_uppercase() } else { y };
            let (a, b) = (AttributeName::new(&x).unwrap(), AttributeName::new(&y).unwrap());
            let folded = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
            prop_assert_eq!(a.cmp(&b), folded);
            prop_assert_eq!(b.cmp(&a), folded.reverse());
            prop_assert_eq!(a == b, folded == Ordering::Equal);
            prop_assert_eq!(a == b, hash_of(&a) == hash_of(&b));
        }

        #[test]
        fn new_never_panics(s in "\\PC*") {
            if let Ok(name) = AttributeName::new(&s) {
                prop_assert_eq!(name.as_str(), s.as_str());
            }
        }
    }
}
