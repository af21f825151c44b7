//! A minimal BER (ITU-T X.690) reader and writer for the values of the LDAP controls the AD
//! connector builds and parses itself (DirSync, paged results) and for its own watermark.
//!
//! Invariants: decoding never panics, whatever the input (it returns [`BerError`]: property
//! tested); only what LDAP allows is accepted (single-byte tags, definite lengths of at most four
//! length octets, INTEGERs of at most eight content octets); encoding writes minimal lengths and
//! minimal two's-complement INTEGERs, so what is written reads back unchanged.

/// Universal INTEGER.
pub const INTEGER: u8 = 0x02;
/// Universal OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Universal ENUMERATED.
pub const ENUMERATED: u8 = 0x0a;
/// Universal SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;

/// Why BER input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// The input ended inside an element.
    #[error("BER value truncated: {0}")]
    Truncated(&'static str),
    /// An element had another tag than expected.
    #[error("BER tag 0x{found:02x} where 0x{expected:02x} was expected")]
    UnexpectedTag {
        /// The tag wanted.
        expected: u8,
        /// The tag read.
        found: u8,
    },
    /// Something LDAP does not allow (multi-byte tag, indefinite length, oversized integer).
    #[error("unsupported BER: {0}")]
    Unsupported(&'static str),
    /// Bytes were left after the last expected element.
    #[error("{0} trailing bytes after the BER value")]
    Trailing(usize),
}

/// One element: its tag and content octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
}

/// Reads consecutive elements from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails unless everything was read.
    pub fn finish(&self) -> Result<(), BerError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(BerError::Trailing(self.buf.len()))
        }
    }

    /// The next element.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, BerError> {
        let (&tag, rest) = self
            .buf
            .split_first()
            .ok_or(BerError::Truncated("no tag"))?;
        if tag & 0x1f == 0x1f {
            return Err(BerError::Unsupported("multi-byte tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(BerError::Truncated("no length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 {
                return Err(BerError::Unsupported("indefinite length"));
            }
            if n > 4 {
                return Err(BerError::Unsupported("length of more than four octets"));
            }
            let (octets, after) = rest
                .split_at_checked(n)
                .ok_or(BerError::Truncated("in the length"))?;
            rest = after;
            octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (content, after) = rest
            .split_at_checked(len)
            .ok_or(BerError::Truncated("content shorter than its length"))?;
        self.buf = after;
        Ok(Tlv { tag, content })
    }

    /// The content of the next element, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<&'a [u8], BerError> {
        let tlv = self.next_tlv()?;
        if tlv.tag != tag {
            return Err(BerError::UnexpectedTag {
                expected: tag,
                found: tlv.tag,
            });
        }
        Ok(tlv.content)
    }

    /// The next element as a SEQUENCE, returned as a reader over its elements.
    pub fn sequence(&mut self) -> Result<Reader<'a>, BerError> {
        self.expect(SEQUENCE).map(Reader::new)
    }

    /// The next element as an INTEGER.
    pub fn integer(&mut self) -> Result<i64, BerError> {
        decode_integer(self.expect(INTEGER)?)
    }

    /// The next element as an OCTET STRING.
    pub fn octets(&mut self) -> Result<&'a [u8], BerError> {
        self.expect(OCTET_STRING)
    }
}

/// The value of INTEGER content octets (two's complement, big-endian).
pub fn decode_integer(content: &[u8]) -> Result<i64, BerError> {
    let Some(&first) = content.first() else {
        return Err(BerError::Truncated("empty INTEGER"));
    };
    if content.len() > 8 {
        return Err(BerError::Unsupported("INTEGER of more than 64 bits"));
    }
    let start: i64 = if first & 0x80 != 0 { -1 } else { 0 };
    Ok(content
        .iter()
        .fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

/// An element with `tag` and `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// An INTEGER in the fewest octets.
pub fn integer(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    // Drop a leading octet while the next one carries the same sign.
    while start < 7 {
        let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
            break;
        };
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(INTEGER, bytes.get(start..).unwrap_or_default())
}

/// An OCTET STRING.
pub fn octets(value: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, value)
}

/// A SEQUENCE of already encoded elements.
pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_are_minimal_twos_complement() {
        assert_eq!(integer(0), vec![2, 1, 0]);
        assert_eq!(integer(127), vec![2, 1, 0x7f]);
        assert_eq!(integer(128), vec![2, 2, 0, 0x80]);
        assert_eq!(integer(-1), vec![2, 1, 0xff]);
        assert_eq!(integer(-128), vec![2, 1, 0x80]);
        // DirSync's INCREMENTAL_VALUES flag, 0x80000000 as a signed 32-bit value.
        assert_eq!(
            integer(i64::from(0x8000_0000u32 as i32)),
            vec![2, 4, 0x80, 0, 0, 0]
        );
    }

    #[test]
    fn long_lengths() {
        let content = vec![7u8; 300];
        let encoded = octets(&content);
        assert_eq!(&encoded[..4], &[4, 0x82, 0x01, 0x2c]);
        assert_eq!(Reader::new(&encoded).octets().unwrap(), &content[..]);
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(Reader::new(&[0x30]).sequence().is_err());
        assert!(Reader::new(&[0x30, 0x80, 0, 0]).sequence().is_err());
        assert!(Reader::new(&[0x30, 5, 1]).sequence().is_err());
        assert!(Reader::new(&[0x1f, 1, 1]).next_tlv().is_err());
        assert!(
            Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1])
                .next_tlv()
                .is_err()
        );
        assert!(Reader::new(&[2, 0]).integer().is_err());
        assert!(
            Reader::new(&[2, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1])
                .integer()
                .is_err()
        );
        assert!(Reader::new(&[4, 0]).integer().is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            while let Ok(t) = r.next_tlv() {
                let _ = decode_integer(t.content);
                let mut inner = Reader::new(t.content);
                let _ = inner.sequence().and_then(|mut s| s.integer());
            }
        }

        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            prop_assert_eq!(Reader::new(&integer(v)).integer().unwrap(), v);
        }

        #[test]
        fn sequences_round_trip(
            n in any::<i64>(),
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let encoded = sequence(&[integer(n), octets(&bytes)]);
            let mut outer = Reader::new(&encoded);
            let mut seq = outer.sequence().unwrap();
            prop_assert_eq!(seq.integer().unwrap(), n);
            prop_assert_eq!(seq.octets().unwrap(), &bytes[..]);
            prop_assert!(seq.finish().is_ok());
            prop_assert!(outer.finish().is_ok());
        }
    }
}
