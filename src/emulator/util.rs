//! Small helpers the emulator's layers share: clock and ISO 8601 timestamps, identifiers,
//! base64url, a minimal DER reader for RSA keys and X.509 public keys.
//!
//! Invariants: no panics on hostile input (every DER read is bounds-checked and returns `None`);
//! the clock can be advanced for tests (retention, token expiry) but never goes back.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Seconds added to the wall clock by `POST /_emulator/clock` (tests of retention and expiry).
static CLOCK_OFFSET: AtomicI64 = AtomicI64::new(0);

/// The emulator's notion of now, in seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    wall + CLOCK_OFFSET.load(Ordering::Relaxed)
}

/// Move the emulator's clock forward (never back).
pub fn advance_clock(secs: i64) {
    if secs > 0 {
        CLOCK_OFFSET.fetch_add(secs, Ordering::Relaxed);
    }
}

/// `2024-05-01T12:00:00Z` for a Unix time.
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `2024-05-01 12:00:00Z`, the identity platform's `timestamp` format.
pub fn sts_timestamp(secs: i64) -> String {
    iso8601(secs).replace('T', " ")
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A fresh random GUID in its usual lower-case form.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random float in `[0, 1)` for fault injection.
pub fn random_unit() -> f64 {
    let b = *uuid::Uuid::new_v4().as_bytes();
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    (u64::from_le_bytes(x) >> 11) as f64 / (1u64 << 53) as f64
}

/// base64url without padding (JWT segments, thumbprints).
pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decode base64url, with or without padding.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Standard base64 (X.509 `x5c`, `keyCredentials.key`).
pub fn b64std(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decode standard base64.
pub fn b64std_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.trim()).ok()
}

/// The DER body of the first PEM block with this label.
pub fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].split_whitespace().collect();
    b64std_decode(&body)
}

/// One DER TLV: (tag, content, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPublicKey` inside an X.509 certificate's SubjectPublicKeyInfo.
pub fn cert_rsa_public_key(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert, _) = der_tlv(cert_der)?;
    let (_, tbs, _) = der_tlv(cert)?;
    let mut rest = tbs;
    // [0] version (optional), serial, signature, issuer, validity, subject, spki
    let (tag, _, r) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    for _ in 0..5 {
        let (_, _, r) = der_tlv(rest)?;
        rest = r;
    }
    let (_, spki, _) = der_tlv(rest)?;
    let (_, _alg, r) = der_tlv(spki)?;
    let (tag, bits, _) = der_tlv(r)?;
    if tag != 0x03 {
        return None;
    }
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then(|| key.to_vec())
}

/// (modulus, exponent) of a PKCS#1 `RSAPublicKey`, without leading zero bytes.
pub fn rsa_components(pkcs1: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, seq, _) = der_tlv(pkcs1)?;
    let (_, n, r) = der_tlv(seq)?;
    let (_, e, _) = der_tlv(r)?;
    let strip = |v: &[u8]| {
        let i = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        v[i..].to_vec()
    };
    Some((strip(n), strip(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(sts_timestamp(0), "1970-01-01 00:00:00Z");
    }

    #[test]
    fn random_unit_in_range() {
        for _ in 0..100 {
            let x = random_unit();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn hostile_der_is_none() {
        assert!(cert_rsa_public_key(&[0x30, 0x85, 1, 2]).is_none());
        assert!(rsa_components(&[]).is_none());
    }
}
