//! [`Dn`] and [`Rdn`]: LDAP distinguished names in the RFC 4514 string form, such as
//! `CN=Smith\, John,OU=Sales,DC=corp,DC=example,DC=com`. A `Dn` is a list of RDNs from the leaf
//! to the root (the empty DN is the root DSE); each RDN is one or more attribute/value pairs
//! (`+`-separated when multi-valued) whose values are stored unescaped. Invariants: attribute
//! types are option-free [`AttributeName`]s and every RDN has at least one pair. Equality,
//! hashing and ordering follow Active Directory: attribute types and values compare
//! case-insensitively (Unicode lower-casing), escaping and insignificant spaces do not matter,
//! and neither does the order of pairs within a multi-valued RDN. `Display` prints the canonical
//! form, re-escaped with [`escape_value`], keeping the original letter case.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use super::{AttributeName, DomainError, Shown};

/// Escapes an attribute value for use in a DN string (RFC 4514 section 2.4).
///
/// Backslash-escapes `, + " \ < > ; =`, a leading `#` or space and a trailing space, and writes
/// control characters (including NUL) as `\XX` hex pairs of their UTF-8 bytes. Other non-ASCII
/// characters are kept as UTF-8.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_into(&mut out, value);
    out
}

/// [`escape_value`], appended to `out`.
fn escape_into(out: &mut String, value: &str) {
    for (i, c) in value.char_indices() {
        let leading = i == 0;
        let trailing = i + c.len_utf8() == value.len();
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if leading => out.push_str("\\#"),
            ' ' if leading || trailing => out.push_str("\\ "),
            c if c.is_control() => {
                for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\{byte:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

/// A relative distinguished name: one or more attribute/value pairs, such as `CN=Smith\, John`.
#[derive(Clone)]
pub struct Rdn {
    first: (AttributeName, String),
    rest: Vec<(AttributeName, String)>,
    /// Case-folded, sorted, escaped form used for equality, hashing and ordering.
    key: String,
}

impl Rdn {
    /// A single-valued RDN; fails if the attribute name carries `;options`.
    pub fn new(attribute: AttributeName, value: impl Into<String>) -> Result<Self, DomainError> {
        let value = value.into();
        check_type(&attribute, &value)?;
        let mut rdn = Self {
            first: (attribute, value),
            rest: Vec::new(),
            key: String::new(),
        };
        rdn.rekey();
        Ok(rdn)
    }

    /// Adds another pair, making a multi-valued RDN such as `CN=x+UID=y`.
    pub fn with(
        mut self,
        attribute: AttributeName,
        value: impl Into<String>,
    ) -> Result<Self, DomainError> {
        let value = value.into();
        check_type(&attribute, &value)?;
        self.rest.push((attribute, value));
        self.rekey();
        Ok(self)
    }

    /// The attribute type of the first (usually only) pair, such as `CN` or `OU`.
    pub fn attribute(&self) -> &AttributeName {
        &self.first.0
    }

    /// The unescaped value of the first (usually only) pair.
    pub fn value(&self) -> &str {
        &self.first.1
    }

    /// All pairs, in the order they were written.
    pub fn avas(&self) -> impl Iterator<Item = (&AttributeName, &str)> {
        std::iter::once(&self.first)
            .chain(&self.rest)
            .map(|(name, value)| (name, value.as_str()))
    }

    /// The value for `attribute` (compared case-insensitively), if this RDN has one.
    pub fn value_of(&self, attribute: &str) -> Option<&str> {
        self.avas()
            .find(|(name, _)| name.eq_ignore_case(attribute))
            .map(|(_, value)| value)
    }

    /// The form equality, hashing and ordering compare: each pair's attribute type and value
    /// lower-cased, the value escaped, the pairs sorted and joined with `+` (`cn=smith\, john`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether this RDN has more than one pair.
    pub fn is_multi_valued(&self) -> bool {
        !self.rest.is_empty()
    }

    fn rekey(&mut self) {
        if self.rest.is_empty() {
            // One pair (almost every RDN): the key in one buffer.
            let (name, value) = &self.first;
            let value = value.to_lowercase();
            let mut key = String::with_capacity(name.as_str().len() + 1 + value.len());
            key.extend(name.as_str().chars().map(|c| c.to_ascii_lowercase()));
            key.push('=');
            escape_into(&mut key, &value);
            self.key = key;
            return;
        }
        let mut pairs: Vec<(String, String)> = self
            .avas()
            .map(|(name, value)| (name.as_str().to_ascii_lowercase(), value.to_lowercase()))
            .collect();
        pairs.sort();
        self.key = pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", escape_value(value)))
            .collect::<Vec<_>>()
            .join("+");
    }
}

/// Rejects attribute names with `;options`, which cannot appear in a DN.
fn check_type(attribute: &AttributeName, value: &str) -> Result<(), DomainError> {
    if attribute.has_options() {
        return Err(DomainError::InvalidDn {
            value: format!("{attribute}={}", escape_value(value)),
            reason: format!(
                "attribute type '{attribute}' has ';options', which a DN cannot contain; \
                 expected a plain name like 'CN'"
            ),
        });
    }
    Ok(())
}

impl PartialEq for Rdn {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Rdn {}

impl Hash for Rdn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for Rdn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rdn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.avas().enumerate() {
            if i > 0 {
                f.write_char('+')?;
            }
            write!(f, "{name}={}", escape_value(value))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rdn({:?})", self.to_string())
    }
}

/// A distinguished name: RDNs from the leaf (first) to the root (last).
///
/// Ordering compares from the root down, so sorting puts every entry after its ancestors.
#[derive(Clone, Default)]
pub struct Dn {
    rdns: Vec<Rdn>,
}

impl Dn {
    /// Parses an RFC 4514 DN string; the empty string is the root DSE.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Parser { input, pos: 0 }.dn()
    }

    /// The empty DN (the root DSE).
    pub fn root() -> Self {
        Self::default()
    }

    /// Builds a DN from RDNs listed leaf first.
    pub fn from_rdns(rdns: impl IntoIterator<Item = Rdn>) -> Self {
        Self {
            rdns: rdns.into_iter().collect(),
        }
    }

    /// The RDNs, leaf first.
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// The leaf RDN (`CN=x` in `CN=x,DC=y`); `None` for the root DSE.
    pub fn rdn(&self) -> Option<&Rdn> {
        self.rdns.first()
    }

    /// The DN one level up; a single-RDN DN has the root DSE as parent, the root has none.
    pub fn parent(&self) -> Option<Dn> {
        let (_, parent) = self.rdns.split_first()?;
        Some(Self {
            rdns: parent.to_vec(),
        })
    }

    /// The DN of the entry named `rdn` directly below this one.
    pub fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = Vec::with_capacity(self.rdns.len() + 1);
        rdns.push(rdn);
        rdns.extend_from_slice(&self.rdns);
        Self { rdns }
    }

    /// Places the relative DN `relative` below this one (`OU=a` joined onto `DC=b` is
    /// `OU=a,DC=b`), like [`std::path::Path::join`].
    pub fn join(&self, relative: &Dn) -> Dn {
        Self {
            rdns: relative.rdns.iter().chain(&self.rdns).cloned().collect(),
        }
    }

    /// Whether this DN is strictly below `base` (never true for `base` itself).
    pub fn is_descendant_of(&self, base: &Dn) -> bool {
        self.rdns.len() > base.rdns.len() && self.is_within(base)
    }

    /// Whether this DN is `base` itself or below it.
    pub fn is_within(&self, base: &Dn) -> bool {
        self.rdns.ends_with(&base.rdns)
    }

    /// The number of RDNs (0 for the root DSE).
    pub fn len(&self) -> usize {
        self.rdns.len()
    }

    /// Whether this is the empty DN (the root DSE).
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Self) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rdns.hash(state);
    }
}

impl PartialOrd for Dn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rdns.iter().rev().cmp(other.rdns.iter().rev())
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({:?})", self.to_string())
    }
}

impl FromStr for Dn {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_as_string!(Dn, "an LDAP distinguished name like CN=x,DC=example,DC=com");

/// Characters that may follow a backslash as themselves.
fn is_escapable(b: u8) -> bool {
    matches!(
        b,
        b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' | b'=' | b'#' | b' '
    )
}

/// The value of one ASCII hex digit.
fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes a BER-encoded string value (a `#hexstring` DN value) to text.
///
/// Accepts the primitive string types that carry UTF-8-compatible text (OCTET STRING,
/// UTF8String, NumericString, PrintableString, IA5String, VisibleString) with a definite length.
fn ber_string(bytes: &[u8]) -> Option<String> {
    let (&tag, rest) = bytes.split_first()?;
    if !matches!(tag, 0x04 | 0x0c | 0x12 | 0x13 | 0x16 | 0x1a) {
        return None;
    }
    let (&first_len, rest) = rest.split_first()?;
    let (len, content) = match first_len {
        0..=0x7f => (usize::from(first_len), rest),
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            (usize::from(len), rest)
        }
        0x82 => {
            let (len, rest) = rest.split_first_chunk::<2>()?;
            (usize::from(u16::from_be_bytes(*len)), rest)
        }
        _ => return None,
    };
    if content.len() != len {
        return None;
    }
    String::from_utf8(content.to_vec()).ok()
}

/// A cursor over a DN string; every read is bounds-checked.
struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, pos: usize) -> Option<u8> {
        self.input.as_bytes().get(pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// The 1-based character position of byte offset `pos`, for error messages.
    fn position(&self, pos: usize) -> usize {
        self.input
            .get(..pos)
            .map_or(pos, |before| before.chars().count())
            + 1
    }

    /// The character starting at byte offset `pos`, escaped for error messages.
    fn char_at(&self, pos: usize) -> String {
        let c = self.input.get(pos..).and_then(|rest| rest.chars().next());
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        Shown(c.encode_utf8(&mut [0; 4])).to_string()
    }

    fn error(&self, reason: String) -> DomainError {
        DomainError::InvalidDn {
            value: self.input.to_owned(),
            reason,
        }
    }

    fn dn(mut self) -> Result<Dn, DomainError> {
        let mut rdns = Vec::new();
        self.skip_spaces();
        if self.peek().is_none() {
            return Ok(Dn { rdns });
        }
        loop {
            rdns.push(self.rdn()?);
            match self.bump() {
                None => return Ok(Dn { rdns }),
                Some(b',') => {}
                Some(_) => {
                    return Err(self.error(format!(
                        "unexpected '{}' at position {}; expected ',' between RDNs",
                        self.char_at(self.pos - 1),
                        self.position(self.pos - 1)
                    )));
                }
            }
        }
    }

    fn rdn(&mut self) -> Result<Rdn, DomainError> {
        let (name, value) = self.ava()?;
        let mut rdn = Rdn {
            first: (name, value),
            rest: Vec::new(),
            key: String::new(),
        };
        while self.peek() == Some(b'+') {
            self.pos += 1;
            rdn.rest.push(self.ava()?);
        }
        rdn.rekey();
        Ok(rdn)
    }

    fn ava(&mut self) -> Result<(AttributeName, String), DomainError> {
        self.skip_spaces();
        let start = self.pos;
        let rest = self.input.get(start..).unwrap_or_default();
        let len = rest.find(['=', ',', '+']).unwrap_or(rest.len());
        let type_text = rest.get(..len).unwrap_or_default().trim_end_matches(' ');
        self.pos += len;
        if type_text.is_empty() {
            return Err(self.error(match self.peek() {
                None => "it ends where an attribute=value pair was expected (after ',' or '+')"
                    .to_owned(),
                Some(_) => format!(
                    "expected an attribute type like 'CN' at position {}, found '{}'",
                    self.position(self.pos),
                    self.char_at(self.pos)
                ),
            }));
        }
        let name = AttributeName::new(type_text)
            .ok()
            .filter(|name| !name.has_options())
            .ok_or_else(|| {
                self.error(format!(
                    "'{}' is not a valid attribute type; expected a name like 'CN' or an OID \
                     like '2.5.4.3'",
                    Shown(type_text)
                ))
            })?;
        if self.bump() != Some(b'=') {
            return Err(self.error(format!(
                "attribute type '{}' must be followed by '=' and a value",
                Shown(type_text)
            )));
        }
        self.skip_spaces();
        let value = match self.hexstring_end() {
            Some(end) => self.hexstring(end)?,
            None => self.string_value()?,
        };
        Ok((name, value))
    }

    /// If the value at the cursor is `#` followed by an even, non-zero number of hex digits and
    /// then only spaces up to a separator, the byte offset where the hex digits end.
    fn hexstring_end(&self) -> Option<usize> {
        if self.peek() != Some(b'#') {
            return None;
        }
        let mut end = self.pos + 1;
        while self.peek_at(end).is_some_and(|b| b.is_ascii_hexdigit()) {
            end += 1;
        }
        let digits = end - self.pos - 1;
        let mut after = end;
        while self.peek_at(after) == Some(b' ') {
            after += 1;
        }
        let at_separator = matches!(self.peek_at(after), None | Some(b',' | b'+'));
        (digits > 0 && digits.is_multiple_of(2) && at_separator).then_some(end)
    }

    /// Decodes a `#hexstring` value (BER-encoded) ending at byte offset `end`.
    fn hexstring(&mut self, end: usize) -> Result<String, DomainError> {
        let start = self.pos;
        let digits = self
            .input
            .get(start + 1..end)
            .unwrap_or_default()
            .as_bytes();
        let bytes: Vec<u8> = digits
            .as_chunks::<2>()
            .0
            .iter()
            .filter_map(|&[hi, lo]| Some((hex_value(hi)? << 4) | hex_value(lo)?))
            .collect();
        self.pos = end;
        self.skip_spaces();
        ber_string(&bytes).ok_or_else(|| {
            self.error(format!(
                "the value at position {} starts with '#', so it must be a hex-encoded BER \
                 string (like #0c0461626364); escape a literal leading '#' as '\\#'",
                self.position(start)
            ))
        })
    }

    /// Reads a string value up to an unescaped ',' or '+' or the end, unescaping it and dropping
    /// unescaped trailing spaces.
    fn string_value(&mut self) -> Result<String, DomainError> {
        let mut out = Vec::new();
        // Length of `out` without unescaped trailing spaces.
        let mut significant = 0;
        while let Some(b) = self.peek() {
            match b {
                b',' | b'+' => break,
                b'\\' => {
                    let at = self.pos;
                    self.pos += 1;
                    let byte = self.escape(at)?;
                    out.push(byte);
                    significant = out.len();
                }
                b'"' | b';' | b'<' | b'>' => {
                    return Err(self.error(format!(
                        "unescaped '{c}' at position {}; escape it as '\\{c}'",
                        self.position(self.pos),
                        c = char::from(b)
                    )));
                }
                b'\0' => {
                    return Err(self.error(format!(
                        "unescaped NUL character at position {}; escape it as '\\00'",
                        self.position(self.pos)
                    )));
                }
                b' ' => {
                    self.pos += 1;
                    out.push(b);
                }
                _ => {
                    self.pos += 1;
                    out.push(b);
                    significant = out.len();
                }
            }
        }
        out.truncate(significant);
        String::from_utf8(out).map_err(|_| {
            self.error(
                "its \\XX escapes do not form valid UTF-8; escape each byte of a multi-byte \
                 character, like \\C3\\A9 for 'é'"
                    .to_owned(),
            )
        })
    }

    /// Reads what follows a backslash at byte offset `at`: a special character or a hex pair.
    fn escape(&mut self, at: usize) -> Result<u8, DomainError> {
        match self.bump() {
            Some(b) if is_escapable(b) => Ok(b),
            Some(hi) if hi.is_ascii_hexdigit() => {
                match self
                    .peek()
                    .and_then(|lo| Some((hex_value(hi)?, hex_value(lo)?)))
                {
                    Some((hi, lo)) => {
                        self.pos += 1;
                        Ok((hi << 4) | lo)
                    }
                    None => Err(self.error(format!(
                        "incomplete escape at position {}; '\\' must be followed by two hex \
                         digits or one of , + \" \\ < > ; = # space",
                        self.position(at)
                    ))),
                }
            }
            Some(_) => Err(self.error(format!(
                "invalid escape '\\{}' at position {}; '\\' must be followed by two hex digits \
                 or one of , + \" \\ < > ; = # space",
                self.char_at(at + 1),
                self.position(at)
            ))),
            None => Err(self.error(
                "it ends with a lone '\\'; escape a literal backslash as '\\\\'".to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    fn attr(s: &str) -> AttributeName {
        AttributeName::new(s).unwrap()
    }

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    /// Every (type, value) pair, RDN by RDN, exactly as stored.
    fn pairs(dn: &Dn) -> Vec<Vec<(String, String)>> {
        dn.rdns()
            .iter()
            .map(|rdn| {
                rdn.avas()
                    .map(|(name, value)| (name.to_string(), value.to_owned()))
                    .collect()
            })
            .collect()
    }

    fn parse_err(s: &str) -> String {
        match Dn::parse(s) {
            Err(err @ DomainError::InvalidDn { .. }) => err.to_string(),
            other => panic!("{s:?} should be an invalid DN, got {other:?}"),
        }
    }

    #[test]
    fn real_ad_dns_round_trip() {
        for s in [
            "CN=Smith\\, John,OU=Sales,DC=corp,DC=example,DC=com",
            "OU=Ünïcode Dept,DC=corp,DC=example,DC=com",
            "CN=Administrator,CN=Users,DC=corp,DC=example,DC=com",
            "CN=\\#hash\\ ,DC=x",
            "CN=a\\=b\\;c\\<d\\>e\\\"f\\+g\\\\h,DC=x",
            "CN=x+UID=y,DC=x",
        ] {
            let parsed = dn(s);
            assert_eq!(parsed.to_string(), s);
            assert_eq!(dn(&parsed.to_string()), parsed);
        }
        let smith = dn("CN=Smith\\, John,OU=Sales,DC=corp,DC=example,DC=com");
        assert_eq!(smith.len(), 5);
        assert_eq!(smith.rdn().unwrap().value(), "Smith, John");
        assert_eq!(smith.rdn().unwrap().attribute().as_str(), "CN");
        let unicode = dn("OU=Ünïcode Dept,DC=corp,DC=example,DC=com");
        assert_eq!(unicode.rdn().unwrap().value(), "Ünïcode Dept");
    }

    #[test]
    fn unescaped_leading_hash_that_is_not_hex_is_literal() {
        let parsed = dn("CN=#hash\\ ,DC=x");
        assert_eq!(parsed.rdn().unwrap().value(), "#hash ");
        assert_eq!(parsed.to_string(), "CN=\\#hash\\ ,DC=x");
        assert_eq!(dn(&parsed.to_string()), parsed);
        assert_eq!(pairs(&dn(&parsed.to_string())), pairs(&parsed));
        assert_eq!(dn("CN=#abc").rdn().unwrap().value(), "#abc");
        assert_eq!(dn("CN=#").rdn().unwrap().value(), "#");
    }

    #[test]
    fn hexstring_values_decode_ber_strings() {
        // UTF8String "abcd", OCTET STRING "Hi", PrintableString "x" with spaces around.
        assert_eq!(dn("CN=#0c0461626364").rdn().unwrap().value(), "abcd");
        assert_eq!(dn("CN=#04024869,DC=x").rdn().unwrap().value(), "Hi");
        assert_eq!(dn("CN = #130178 , DC=x").rdn().unwrap().value(), "x");
        assert_eq!(dn("CN=#0C00").rdn().unwrap().value(), "");
        assert_eq!(dn("CN=#0c8103616263+UID=u").rdn().unwrap().value(), "abc");
        assert_eq!(dn("CN=#0c820002c3a9").rdn().unwrap().value(), "é");
        assert_eq!(dn("CN=#0c0461626364"), dn("CN=abcd"));
        for bad in [
            "CN=#41",
            "CN=#0c05616263",
            "CN=#3003020101",
            "CN=#0c02c328",
            "CN=#0c",
        ] {
            let msg = parse_err(bad);
            assert!(msg.contains("hex-encoded BER string"), "{msg}");
        }
    }

    #[test]
    fn escapes_are_unescaped() {
        let parsed = dn("CN=\\4A\\6f\\68n\\20\\C3\\A9\\E2\\82\\AC,DC=x");
        assert_eq!(parsed.rdn().unwrap().value(), "John é€");
        assert_eq!(parsed.to_string(), "CN=John é€,DC=x");
        assert_eq!(dn("CN=\\ lead\\ ").rdn().unwrap().value(), " lead ");
        assert_eq!(dn("CN=a\\00b").rdn().unwrap().value(), "a\0b");
        assert_eq!(dn("CN=a\\00b").to_string(), "CN=a\\00b");
        assert_eq!(dn("CN=a=b").rdn().unwrap().value(), "a=b");
        assert_eq!(dn("CN=a#b").rdn().unwrap().value(), "a#b");
        assert_eq!(dn("CN=a\\ \\ ").rdn().unwrap().value(), "a  ");
        assert_eq!(dn("CN=a\\  ").rdn().unwrap().value(), "a ");
        assert_eq!(dn("CN=a  b").rdn().unwrap().value(), "a  b");
    }

    #[test]
    fn whitespace_around_separators_is_ignored() {
        let spaced = dn("  CN = Smith\\, John ,  OU=Sales ,DC = corp  ");
        assert_eq!(spaced.to_string(), "CN=Smith\\, John,OU=Sales,DC=corp");
        assert_eq!(spaced, dn("CN=Smith\\, John,OU=Sales,DC=corp"));
        assert_eq!(dn("CN=x + UID=y").to_string(), "CN=x+UID=y");
        assert_eq!(dn("CN=").rdn().unwrap().value(), "");
        assert_eq!(dn("CN=  ").rdn().unwrap().value(), "");
    }

    #[test]
    fn root_dse() {
        for s in ["", "   "] {
            let root = dn(s);
            assert!(root.is_empty());
            assert_eq!(root.len(), 0);
            assert_eq!(root.to_string(), "");
            assert_eq!(root.parent(), None);
            assert_eq!(root.rdn(), None);
            assert_eq!(root, Dn::root());
        }
    }

    #[test]
    fn equality_ignores_case_escaping_and_ava_order() {
        let pairs_of_equal = [
            ("CN=a\\,b", "cn=A\\2Cb"),
            ("CN=Smith\\, John,OU=Sales", "cn=SMITH\\, JOHN , ou=sales"),
            ("OU=Ünïcode", "ou=üNÏCODE"),
            ("CN=x+UID=y,DC=z", "uid=Y+cn=X,dc=Z"),
            ("CN=\\#a", "CN=\\23a"),
            ("CN=a b", "CN=a\\20b"),
        ];
        for (a, b) in pairs_of_equal {
            assert_eq!(dn(a), dn(b), "{a} vs {b}");
            assert_eq!(hash_of(&dn(a)), hash_of(&dn(b)), "{a} vs {b}");
            assert_eq!(dn(a).cmp(&dn(b)), Ordering::Equal);
        }
        for (a, b) in [
            ("CN=a,DC=x", "CN=b,DC=x"),
            ("CN=a", "OU=a"),
            ("CN=a b", "CN=a  b"),
            ("CN=a+UID=b", "CN=a"),
            ("CN=a,DC=x", "CN=a"),
        ] {
            assert_ne!(dn(a), dn(b), "{a} vs {b}");
        }
    }

    #[test]
    fn hierarchy() {
        let base = dn("DC=corp,DC=example,DC=com");
        let ou = dn("OU=Sales,DC=corp,DC=example,DC=com");
        let user = dn("CN=Smith\\, John,OU=Sales,DC=Corp,DC=example,DC=com");
        assert_eq!(user.parent().unwrap(), ou);
        assert_eq!(ou.parent().unwrap(), base);
        assert_eq!(dn("DC=com").parent().unwrap(), Dn::root());
        assert!(user.is_descendant_of(&base) && user.is_descendant_of(&ou));
        assert!(user.is_within(&base) && user.is_within(&user));
        assert!(!user.is_descendant_of(&user));
        assert!(!base.is_within(&ou) && !base.is_descendant_of(&ou));
        assert!(!dn("OU=Sales,DC=other,DC=com").is_within(&base));
        assert!(user.is_descendant_of(&Dn::root()) && Dn::root().is_within(&Dn::root()));
        assert!(!Dn::root().is_descendant_of(&Dn::root()));

        let rdn = Rdn::new(attr("CN"), "Smith, John").unwrap();
        assert_eq!(ou.child(rdn.clone()), user);
        assert_eq!(base.join(&dn("CN=Smith\\, John,OU=Sales")), user);
        assert_eq!(base.join(&Dn::root()), base);
        assert_eq!(Dn::from_rdns(vec![rdn]).to_string(), "CN=Smith\\, John");
    }

    #[test]
    fn ordering_puts_ancestors_first() {
        let mut dns = [
            dn("CN=u,OU=b,DC=x"),
            dn("OU=b,DC=x"),
            dn("DC=x"),
            dn("OU=a,DC=x"),
            dn("CN=v,OU=a,DC=x"),
            Dn::root(),
        ];
        dns.sort();
        let shown: Vec<String> = dns.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "",
                "DC=x",
                "OU=a,DC=x",
                "CN=v,OU=a,DC=x",
                "OU=b,DC=x",
                "CN=u,OU=b,DC=x"
            ]
        );
    }

    #[test]
    fn rdn_accessors_and_builders() {
        let rdn = Rdn::new(attr("CN"), "x")
            .unwrap()
            .with(attr("uid"), "y")
            .unwrap();
        assert!(rdn.is_multi_valued());
        assert_eq!(rdn.value_of("UID"), Some("y"));
        assert_eq!(rdn.value_of("ou"), None);
        assert_eq!(rdn.to_string(), "CN=x+uid=y");
        assert_eq!(format!("{rdn:?}"), "Rdn(\"CN=x+uid=y\")");
        assert!(!Rdn::new(attr("CN"), "x").unwrap().is_multi_valued());
        let err = Rdn::new(attr("member;range=0-1"), "x").unwrap_err();
        assert!(err.to_string().contains("has ';options'"), "{err}");
        assert!(
            Rdn::new(attr("CN"), "x")
                .unwrap()
                .with(attr("cn;x"), "y")
                .is_err()
        );
        assert_eq!(format!("{:?}", dn("CN=a\\,b")), "Dn(\"CN=a\\\\,b\")");
    }

    #[test]
    fn escape_value_cases() {
        assert_eq!(escape_value(""), "");
        assert_eq!(escape_value(" "), "\\ ");
        assert_eq!(escape_value("  "), "\\ \\ ");
        assert_eq!(escape_value("#a#"), "\\#a#");
        assert_eq!(escape_value(" a b "), "\\ a b\\ ");
        assert_eq!(escape_value(",+\"\\<>;="), "\\,\\+\\\"\\\\\\<\\>\\;\\=");
        assert_eq!(escape_value("a\0b\nc"), "a\\00b\\0Ac");
        assert_eq!(escape_value("\u{85}"), "\\C2\\85");
        assert_eq!(escape_value("Ünïcode €"), "Ünïcode €");
    }

    #[test]
    fn rejects_malformed_dns() {
        let cases = [
            (",", "expected an attribute type"),
            ("CN=a,", "ends where an attribute=value pair was expected"),
            (
                "CN=a,,DC=x",
                "expected an attribute type like 'CN' at position 6, found ','",
            ),
            ("CN=a+", "ends where an attribute=value pair was expected"),
            ("=a", "found '='"),
            ("CN", "must be followed by '='"),
            ("CN,DC=x", "must be followed by '='"),
            ("C N=a", "'C N' is not a valid attribute type"),
            ("1CN=a", "'1CN' is not a valid attribute type"),
            ("cn;x=a", "'cn;x' is not a valid attribute type"),
            (
                "CN=a\"b",
                "unescaped '\"' at position 5; escape it as '\\\"'",
            ),
            ("CN=a;b", "unescaped ';'"),
            ("CN=a<b", "unescaped '<'"),
            ("CN=a>b", "unescaped '>'"),
            (
                "CN=a\0b",
                "unescaped NUL character at position 5; escape it as '\\00'",
            ),
            ("CN=a\\", "lone '\\'"),
            ("CN=a\\q", "invalid escape '\\q' at position 5"),
            ("CN=a\\é", "invalid escape '\\é'"),
            ("CN=a\\4", "incomplete escape at position 5"),
            ("CN=a\\4g", "incomplete escape"),
            ("CN=\\C3", "do not form valid UTF-8"),
            ("CN=\\FF\\FE", "do not form valid UTF-8"),
        ];
        for (input, needle) in cases {
            let msg = parse_err(input);
            assert!(msg.contains(needle), "{input:?}: {msg}");
            assert!(msg.starts_with("invalid distinguished name '"), "{msg}");
        }
        assert_eq!(
            parse_err("CN=a\\q"),
            "invalid distinguished name 'CN=a\\q': invalid escape '\\q' at position 5; \
             '\\' must be followed by two hex digits or one of , + \" \\ < > ; = # space"
        );
    }

    #[test]
    fn serde_round_trips_as_string() {
        let value = dn("CN=Smith\\, John,OU=Ünïcode Dept,DC=corp");
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(json, "\"CN=Smith\\\\, John,OU=Ünïcode Dept,DC=corp\"");
        let back: Dn = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
        assert_eq!(pairs(&back), pairs(&value));
        assert!(serde_json::from_str::<Dn>("\"CN=a,\"").is_err());

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            base: Dn,
            root: Dn,
        }
        let doc = Doc {
            base: value,
            root: Dn::root(),
        };
        let text = toml::to_string(&doc).unwrap();
        let back: Doc = toml::from_str(&text).unwrap();
        assert_eq!(back, doc);
        assert_eq!(pairs(&back.base), pairs(&doc.base));
    }

    fn arb_type() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("CN".to_owned()),
            Just("ou".to_owned()),
            Just("DC".to_owned()),
            Just("2.5.4.3".to_owned()),
            "[a-zA-Z][a-zA-Z0-9-]{0,8}",
        ]
    }

    fn arb_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ #,+\"\\\\<>;=\0a-zA-Zé]{0,8}",
            "#[0-9a-fA-F]{0,8}",
            "\\PC{0,12}",
        ]
    }

    fn arb_pairs() -> impl Strategy<Value = Vec<Vec<(String, String)>>> {
        proptest::collection::vec(
            proptest::collection::vec((arb_type(), arb_value()), 1..4),
            0..5,
        )
    }

    fn build(pairs: &[Vec<(String, String)>]) -> Dn {
        Dn::from_rdns(pairs.iter().map(|rdn| {
            let mut avas = rdn.iter();
            let (name, value) = avas.next().unwrap();
            let mut built = Rdn::new(attr(name), value.clone()).unwrap();
            for (name, value) in avas {
                built = built.with(attr(name), value.clone()).unwrap();
            }
            built
        }))
    }

    proptest! {
        #[test]
        fn display_parse_round_trip_preserves_values(input in arb_pairs()) {
            let built = build(&input);
            let text = built.to_string();
            let reparsed = Dn::parse(&text).unwrap();
            prop_assert_eq!(&reparsed, &built);
            prop_assert_eq!(pairs(&reparsed), input);
            prop_assert_eq!(reparsed.to_string(), text);
        }

        #[test]
        fn case_insensitive_equality_implies_equal_hashes(input in arb_pairs()) {
            let built = build(&input);
            let changed: Vec<Vec<(String, String)>> = input
                .iter()
                .map(|rdn| {
                    rdn.iter()
                        .rev()
                        .map(|(name, value)| {
                            let upper = value.to_uppercase();
                            let value = if upper.to_lowercase() == value.to_lowercase() {
                                upper
                            } else {
                                value.clone()
                            };
                            (name.to_ascii_uppercase(), value)
                        })
                        .collect()
                })
                .collect();
            let other = build(&changed);
            prop_assert_eq!(&built, &other);
            prop_assert_eq!(hash_of(&built), hash_of(&other));
            prop_assert_eq!(built.cmp(&other), Ordering::Equal);
            let spaced: Vec<String> = other.rdns().iter().map(|r| format!(" {r} ")).collect();
            let respaced = Dn::parse(&spaced.join(",")).unwrap();
            prop_assert_eq!(&respaced, &built);
            prop_assert_eq!(hash_of(&respaced), hash_of(&built));
        }

        #[test]
        fn ord_is_consistent_with_eq(a in arb_pairs(), b in arb_pairs()) {
            let (a, b) = (build(&a), build(&b));
            prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        }

        #[test]
        fn parse_never_panics(
            s in prop_oneof![
                any::<String>(),
                "[a-zA-Z0-9=,+\\\\#\" ;<>.é-]{0,30}",
                "(CN|ou|1.2)=[a-f0-9#\\\\, +]{0,12}(,DC=[a-f0-9#\\\\ ]{0,6}){0,3}",
            ]
        ) {
            if let Ok(parsed) = Dn::parse(&s) {
                let reparsed = Dn::parse(&parsed.to_string()).unwrap();
                prop_assert_eq!(pairs(&reparsed), pairs(&parsed));
                prop_assert_eq!(reparsed, parsed);
            }
        }
    }
}
