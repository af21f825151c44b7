//! X.509 certificate reading for the expression language's certificate functions
//! (`CertThumbprint`, `CertSubject`, `CertNameInfo`, ...). Entra Connect hands
//! `certificateRawData` (typically a `userCertificate` value) to .NET's `X509Certificate2` and
//! reads its properties; [`Certificate`] reads the same values from the same bytes with a small
//! hand-written DER parser.
//!
//! Invariants: [`Certificate::parse`] never panics and never recurses (the parser walks the fixed
//! shape of a certificate iteratively; no nesting depth depends on the input); it allocates at most
//! a small multiple of the input size; it returns `None` for anything that is not exactly one
//! certificate (bytes after the outer SEQUENCE are rejected, where .NET would ignore them). Only the
//! parts every accessor needs are mandatory (TBS framing, version 1-3, serial, algorithms, names as
//! SEQUENCEs, validity, public key); extensions and alternative names are read leniently: a broken
//! extension is skipped and a broken alternative-name list is searched up to the break, so those
//! never make `parse` fail. Every accessor returns data, never an error. Nothing is verified
//! (signature, chain, validity window): the functions only read.
//!
//! Mirrored .NET behaviour (its managed `CertificateData`/`X500NameEncoder`, which reproduce
//! Windows): names in `X500DistinguishedName.Name` form (RDNs reversed, `", "` between RDNs,
//! `" + "` inside a multi-valued RDN, .NET's fixed short-name table, `OID.` prefix for other types,
//! quoting and `""` doubling by .NET's rule, trailing NULs trimmed); `GetNameInfo`'s search order;
//! `SerialNumber` as stored (a leading `00` stays); thumbprint = SHA-1 of the DER; UTCTime years
//! 50-99 are 19xx. Deliberate differences, all in the direction of returning data where .NET would
//! throw or return nothing: a name value that is not a character string is written `#` + the
//! upper-case hex of its DER (RFC 4514 style; .NET on Linux turns the whole name into `""`);
//! VisibleString and UniversalString values are decoded; invalid UTF-8/UTF-16 is decoded lossily
//! (T61String is UTF-8 when valid, else ISO-8859-1, as in .NET); non-minimal DER lengths and a
//! v1/v2 certificate carrying extensions are accepted. The subject and issuer name "OIDs" are
//! `""` (see [`Certificate::subject_name_oid`]).

use base64::Engine as _;
use sha1::Digest as _;
use std::fmt::Write as _;

/// A UTC date and time: year, month (1-12), day, hour, minute, second.
pub type UtcDateTime = (i32, u32, u32, u32, u32, u32);

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0C;
const TAG_NUMERIC_STRING: u8 = 0x12;
const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_T61_STRING: u8 = 0x14;
const TAG_IA5_STRING: u8 = 0x16;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_VISIBLE_STRING: u8 = 0x1A;
const TAG_UNIVERSAL_STRING: u8 = 0x1C;
const TAG_BMP_STRING: u8 = 0x1E;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
/// `[0]` constructed: TBS version, and `otherName` inside a GeneralName list.
const TAG_CONTEXT_0: u8 = 0xA0;
/// `[3]` constructed: TBS extensions.
const TAG_CONTEXT_3: u8 = 0xA3;
/// GeneralName `rfc822Name [1] IMPLICIT IA5String`.
const TAG_GN_RFC822: u8 = 0x81;
/// GeneralName `dNSName [2] IMPLICIT IA5String`.
const TAG_GN_DNS: u8 = 0x82;
/// GeneralName `uniformResourceIdentifier [6] IMPLICIT IA5String`.
const TAG_GN_URI: u8 = 0x86;

const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
const OID_ISSUER_ALT_NAME: &str = "2.5.29.18";
const OID_UPN: &str = "1.3.6.1.4.1.311.20.2.3";
const OID_COMMON_NAME: &str = "2.5.4.3";
const OID_ORGANIZATION: &str = "2.5.4.10";
const OID_ORGANIZATIONAL_UNIT: &str = "2.5.4.11";
const OID_EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";

/// .NET's friendly names for name attribute types (the attribute entries of its OID table,
/// which comes from Windows); any other type prints as `OID.<dotted>`.
const ATTRIBUTE_SHORT_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "S"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "T"),
    ("2.5.4.13", "Description"),
    ("2.5.4.17", "PostalCode"),
    ("2.5.4.18", "POBox"),
    ("2.5.4.20", "Phone"),
    ("2.5.4.24", "X21Address"),
    ("2.5.4.42", "G"),
    ("2.5.4.43", "I"),
    ("2.5.4.46", "dnQualifier"),
    ("1.2.840.113549.1.9.1", "E"),
    ("0.9.2342.19200300.100.1.25", "DC"),
];

/// One parsed X.509 v1/v2/v3 certificate: the values Entra Connect's certificate functions read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate's DER encoding (what the thumbprint hashes).
    der: Vec<u8>,
    /// 1, 2 or 3.
    version: u32,
    /// Content octets of the serial number INTEGER, as stored.
    serial: Vec<u8>,
    /// The issuer name's RDNs in encoding order; `None` when the name is malformed.
    issuer: Option<Vec<Vec<Ava>>>,
    /// The subject name's RDNs in encoding order; `None` when the name is malformed.
    subject: Option<Vec<Vec<Ava>>>,
    not_before: UtcDateTime,
    not_after: UtcDateTime,
    /// Public key algorithm OID (dotted).
    key_algorithm: String,
    /// Full DER of the public key algorithm parameters, when present.
    key_algorithm_params: Option<Vec<u8>>,
    /// Outer `signatureAlgorithm` OID (dotted).
    signature_algorithm: String,
    /// The extensions that parsed, in certificate order.
    extensions: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Extension {
    oid: String,
    critical: bool,
    /// Content of the `extnValue` OCTET STRING (the extension's own DER).
    value: Vec<u8>,
}

/// The `X509NameType` values `CertNameInfo` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameType {
    Simple,
    Email,
    Upn,
    Dns,
    DnsFromAlternativeName,
    Url,
}

/// Which GeneralName choice an alternative-name search wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AltName {
    Email,
    Dns,
    Uri,
    Upn,
}

/// One attribute of a distinguished name: type OID (dotted) and display value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ava {
    oid: String,
    value: String,
    /// The value is the `#hex` form of a non-string value (never quoted).
    hex: bool,
}

impl Certificate {
    /// Reads one X.509 v1/v2/v3 certificate from `raw`: its DER bytes, or the bytes of Base64
    /// text, bare (whitespace and line breaks ignored, padding optional) or PEM-armoured (the
    /// first `CERTIFICATE` / `X509 CERTIFICATE` block; text around it is ignored). Returns
    /// `None` when the bytes are not exactly one certificate.
    pub fn parse(raw: &[u8]) -> Option<Certificate> {
        if let Some(cert) = parse_der(raw) {
            return Some(cert);
        }
        let der = decode_base64_text(raw)?;
        parse_der(&der)
    }

    /// `CertExtensionOids`: the dotted OIDs of the certificate's *critical* extensions, in
    /// certificate order (empty for v1 certificates and when none is critical).
    pub fn extension_oids(&self) -> Vec<String> {
        self.extensions
            .iter()
            .filter(|e| e.critical)
            .map(|e| e.oid.clone())
            .collect()
    }

    /// `CertFormat`: always `"X509"`, as .NET's `GetFormat()`.
    pub fn format(&self) -> &'static str {
        "X509"
    }

    /// `CertFriendlyName`: always `""`. A friendly name is a property of a Windows certificate
    /// store entry, never part of the certificate's bytes, so .NET reports it empty here too.
    pub fn friendly_name(&self) -> String {
        String::new()
    }

    /// `CertHashString`: SHA-1 of the DER encoding as upper-case hex (.NET `GetCertHashString`).
    pub fn hash_string(&self) -> String {
        hex_upper(&sha1::Sha1::digest(&self.der))
    }

    /// `CertThumbprint`: the same value as [`Certificate::hash_string`] (.NET `Thumbprint`).
    pub fn thumbprint(&self) -> String {
        self.hash_string()
    }

    /// `CertIssuer` / `CertIssuerDN`: the issuer in .NET's `X500DistinguishedName.Name` form,
    /// e.g. `CN=Contoso Root, O=Contoso, C=US`. `""` when the name is malformed (as .NET).
    pub fn issuer(&self) -> String {
        format_name(self.issuer.as_deref())
    }

    /// `CertIssuerOid`: always `""`. In .NET, `IssuerName.Oid` of a name read from a certificate
    /// is an `Oid` with a null `Value`, so Entra Connect has no OID to return; callers that need
    /// .NET's null may map `""` to an absent value.
    pub fn issuer_oid(&self) -> String {
        String::new()
    }

    /// `CertKeyAlgorithm`: the public key algorithm OID, e.g. `1.2.840.113549.1.1.1` for RSA
    /// (.NET `GetKeyAlgorithm()`).
    pub fn key_algorithm(&self) -> String {
        self.key_algorithm.clone()
    }

    /// `CertKeyAlgorithmParams`: the public key algorithm parameters as upper-case hex of their
    /// DER (`0500` for RSA's NULL, `06082A8648CE3D030107` for P-256); `""` when absent.
    pub fn key_algorithm_params(&self) -> String {
        self.key_algorithm_params
            .as_deref()
            .map(hex_upper)
            .unwrap_or_default()
    }

    /// `CertNameInfo`: .NET `GetNameInfo(nameType, forIssuer)`. `name_type` is an
    /// `X509NameType` name (`SimpleName`, `EmailName`, `UpnName`, `DnsName`,
    /// `DnsFromAlternativeName`, `UrlName`; ASCII case-insensitive, surrounding whitespace
    /// ignored) or its number (`0`-`5`), as `Enum.Parse` accepts; anything else gives `""`.
    /// With `for_issuer`, the issuer name and the issuer alternative name are searched instead
    /// of the subject and the subject alternative name.
    ///
    /// Search order (as .NET): SimpleName = CN, else OU, else O, else E, else the first other
    /// attribute (most specific RDN first), else the alternative name's e-mail; EmailName = the
    /// alternative name's rfc822Name, else E; UpnName = the alternative name's otherName of type
    /// 1.3.6.1.4.1.311.20.2.3 (a UTF8String); DnsName = the first dNSName, else CN;
    /// DnsFromAlternativeName = the first dNSName only; UrlName = the first URI. `""` when
    /// nothing matches.
    pub fn name_info(&self, name_type: &str, for_issuer: bool) -> String {
        let Some(kind) = parse_name_type(name_type) else {
            return String::new();
        };
        let name = if for_issuer {
            self.issuer.as_deref()
        } else {
            self.subject.as_deref()
        };
        // Most specific RDN first; inside an RDN, encoding order (as .NET's ReadReverseRdns).
        let avas: Vec<&Ava> = name
            .unwrap_or_default()
            .iter()
            .rev()
            .flat_map(|rdn| rdn.iter())
            .collect();

        if kind == NameType::Simple
            && let Some(simple) = simple_name(&avas)
        {
            return simple;
        }

        let alt_oid = if for_issuer {
            OID_ISSUER_ALT_NAME
        } else {
            OID_SUBJECT_ALT_NAME
        };
        let wanted = match kind {
            NameType::Simple | NameType::Email => AltName::Email,
            NameType::Upn => AltName::Upn,
            NameType::Dns | NameType::DnsFromAlternativeName => AltName::Dns,
            NameType::Url => AltName::Uri,
        };
        let from_alt = self
            .extensions
            .iter()
            .filter(|e| e.oid == alt_oid)
            .find_map(|e| find_general_name(&e.value, wanted));
        if let Some(found) = from_alt {
            return found;
        }

        let fallback_oid = match kind {
            NameType::Email => OID_EMAIL_ADDRESS,
            NameType::Dns => OID_COMMON_NAME,
            _ => return String::new(),
        };
        avas.into_iter()
            .find(|a| a.oid == fallback_oid)
            .map(|a| a.value.clone())
            .unwrap_or_default()
    }

    /// `CertNotAfter`: end of validity, UTC.
    pub fn not_after(&self) -> UtcDateTime {
        self.not_after
    }

    /// `CertNotBefore`: start of validity, UTC.
    pub fn not_before(&self) -> UtcDateTime {
        self.not_before
    }

    /// `CertPublicKeyOid`: the public key algorithm OID (.NET `PublicKey.Oid.Value`; the same
    /// value as [`Certificate::key_algorithm`]).
    pub fn public_key_oid(&self) -> String {
        self.key_algorithm.clone()
    }

    /// `CertPublicKeyParametersOid`: the OID the public key algorithm parameters consist of
    /// (the named curve of an EC key, e.g. `1.2.840.10045.3.1.7` for P-256); `""` when the
    /// parameters are absent or not an OID (RSA's NULL, explicit curve parameters).
    pub fn public_key_parameters_oid(&self) -> String {
        self.key_algorithm_params
            .as_deref()
            .and_then(read_single)
            .filter(|tlv| tlv.tag == TAG_OID)
            .and_then(|tlv| decode_oid(tlv.content))
            .unwrap_or_default()
    }

    /// `CertSerialNumber`: the serial number as upper-case hex of its bytes, big-endian as
    /// stored (a positive serial whose top bit is set keeps its leading `00`, as .NET).
    pub fn serial_number(&self) -> String {
        hex_upper(&self.serial)
    }

    /// `CertSignatureAlgorithmOid`: the certificate's signature algorithm OID, e.g.
    /// `1.2.840.113549.1.1.11` (sha256RSA).
    pub fn signature_algorithm_oid(&self) -> String {
        self.signature_algorithm.clone()
    }

    /// `CertSubject` / `CertSubjectNameDN`: the subject in the same form as
    /// [`Certificate::issuer`].
    pub fn subject(&self) -> String {
        format_name(self.subject.as_deref())
    }

    /// `CertSubjectNameOid`: always `""`, for the reason given at [`Certificate::issuer_oid`]
    /// (.NET's `SubjectName.Oid.Value` is null for a name read from a certificate).
    pub fn subject_name_oid(&self) -> String {
        String::new()
    }

    /// `CertVersion`: 1, 2 or 3.
    pub fn version(&self) -> u32 {
        self.version
    }
}

// ---------------------------------------------------------------------------------------------
// DER reading
// ---------------------------------------------------------------------------------------------

/// One DER element: its first identifier octet, its content and its whole encoding.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one element from the front of `input`; `None` when it is malformed or truncated.
/// Definite lengths only (up to 4 length octets; non-minimal forms are accepted); high tag
/// numbers (up to 4 continuation octets) are read so that such elements can be skipped.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, mut rest) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        let mut count = 0;
        loop {
            let (&b, r) = rest.split_first()?;
            rest = r;
            count += 1;
            if count > 4 {
                return None;
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return None; // indefinite length (BER only) or absurdly long
        }
        let (bytes, r) = rest.split_at_checked(count)?;
        rest = r;
        bytes.iter().try_fold(0usize, |acc, &b| {
            acc.checked_mul(256)?.checked_add(usize::from(b))
        })?
    };
    let (content, after) = rest.split_at_checked(len)?;
    let raw = input.get(..input.len().checked_sub(after.len())?)?;
    Some((Tlv { tag, content, raw }, after))
}

/// Reads `input` as exactly one element.
fn read_single(input: &[u8]) -> Option<Tlv<'_>> {
    let (tlv, rest) = read_tlv(input)?;
    rest.is_empty().then_some(tlv)
}

/// Sequential reader over the elements of a constructed value.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(content: &'a [u8]) -> Self {
        Reader { rest: content }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element; on a malformed one, `None`, and the reader is left empty.
    fn next_tlv(&mut self) -> Option<Tlv<'a>> {
        match read_tlv(self.rest) {
            Some((tlv, rest)) => {
                self.rest = rest;
                Some(tlv)
            }
            None => {
                self.rest = &[];
                None
            }
        }
    }

    /// The next element, which must carry `tag`.
    fn expect(&mut self, tag: u8) -> Option<Tlv<'a>> {
        self.next_tlv().filter(|t| t.tag == tag)
    }

    /// The next element if it carries `tag`; otherwise nothing is consumed.
    fn next_if(&mut self, tag: u8) -> Option<Tlv<'a>> {
        let (tlv, rest) = read_tlv(self.rest)?;
        if tlv.tag != tag {
            return None;
        }
        self.rest = rest;
        Some(tlv)
    }
}

fn parse_der(input: &[u8]) -> Option<Certificate> {
    let outer = read_single(input)?;
    if outer.tag != TAG_SEQUENCE {
        return None;
    }
    let mut cert = Reader::new(outer.content);
    let tbs = cert.expect(TAG_SEQUENCE)?;
    let signature_algorithm = cert.expect(TAG_SEQUENCE)?;
    let signature = cert.expect(TAG_BIT_STRING)?;
    if !cert.is_empty() || signature.content.is_empty() {
        return None;
    }
    let (signature_algorithm, _) = parse_algorithm(signature_algorithm.content)?;

    let mut tbs = Reader::new(tbs.content);
    let version = match tbs.next_if(TAG_CONTEXT_0) {
        Some(explicit) => {
            let integer = read_single(explicit.content)?;
            if integer.tag != TAG_INTEGER {
                return None;
            }
            small_unsigned(integer.content)?
        }
        None => 0,
    };
    if version > 2 {
        return None;
    }
    let serial = tbs.expect(TAG_INTEGER)?;
    if serial.content.is_empty() {
        return None;
    }
    parse_algorithm(tbs.expect(TAG_SEQUENCE)?.content)?;
    let issuer = tbs.expect(TAG_SEQUENCE)?;
    let validity = tbs.expect(TAG_SEQUENCE)?;
    let subject = tbs.expect(TAG_SEQUENCE)?;
    let spki = tbs.expect(TAG_SEQUENCE)?;

    let mut validity = Reader::new(validity.content);
    let not_before = parse_time(validity.next_tlv()?)?;
    let not_after = parse_time(validity.next_tlv()?)?;
    if !validity.is_empty() {
        return None;
    }

    let mut spki = Reader::new(spki.content);
    let (key_algorithm, key_algorithm_params) =
        parse_algorithm(spki.expect(TAG_SEQUENCE)?.content)?;
    spki.expect(TAG_BIT_STRING)?;
    if !spki.is_empty() {
        return None;
    }

    Some(Certificate {
        der: outer.raw.to_vec(),
        version: version.checked_add(1)?,
        serial: serial.content.to_vec(),
        issuer: decode_name(issuer.content),
        subject: decode_name(subject.content),
        not_before,
        not_after,
        key_algorithm,
        key_algorithm_params: key_algorithm_params.map(<[u8]>::to_vec),
        signature_algorithm,
        extensions: parse_extensions(tbs),
    })
}

/// The rest of a TBSCertificate after the public key: unique identifiers (skipped) and the
/// `[3]` extensions. Lenient: what parses is kept, a malformed extension is skipped, and a
/// malformed list ends the reading.
fn parse_extensions(mut tbs: Reader<'_>) -> Vec<Extension> {
    let mut out = Vec::new();
    while let Some(element) = tbs.next_tlv() {
        if element.tag != TAG_CONTEXT_3 {
            continue;
        }
        let Some(list) = read_single(element.content).filter(|l| l.tag == TAG_SEQUENCE) else {
            break;
        };
        let mut items = Reader::new(list.content);
        while let Some(item) = items.next_tlv() {
            if let Some(extension) = parse_extension(item) {
                out.push(extension);
            }
        }
        break;
    }
    out
}

/// `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`
fn parse_extension(item: Tlv<'_>) -> Option<Extension> {
    if item.tag != TAG_SEQUENCE {
        return None;
    }
    let mut r = Reader::new(item.content);
    let oid = decode_oid(r.expect(TAG_OID)?.content)?;
    let critical = match r.next_if(TAG_BOOLEAN) {
        Some(b) => match b.content {
            [v] => *v != 0,
            _ => return None,
        },
        None => false,
    };
    let value = r.expect(TAG_OCTET_STRING)?;
    if !r.is_empty() {
        return None;
    }
    Some(Extension {
        oid,
        critical,
        value: value.content.to_vec(),
    })
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`:
/// the dotted OID and the parameters' full DER.
fn parse_algorithm(content: &[u8]) -> Option<(String, Option<&[u8]>)> {
    let mut r = Reader::new(content);
    let oid = decode_oid(r.expect(TAG_OID)?.content)?;
    let params = if r.is_empty() {
        None
    } else {
        Some(r.next_tlv()?.raw)
    };
    r.is_empty().then_some((oid, params))
}

/// A non-negative INTEGER content that fits in a `u32`.
fn small_unsigned(content: &[u8]) -> Option<u32> {
    let (&first, _) = content.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    content.iter().try_fold(0u32, |acc, &b| {
        acc.checked_mul(256)?.checked_add(u32::from(b))
    })
}

/// Dotted form of OBJECT IDENTIFIER content; `None` when empty, truncated, non-minimal or
/// when an arc exceeds 128 bits.
fn decode_oid(content: &[u8]) -> Option<String> {
    if content.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut value: u128 = 0;
    let mut in_arc = false;
    for &b in content {
        if !in_arc && b == 0x80 {
            return None; // leading 0x80: non-minimal sub-identifier
        }
        in_arc = true;
        value = value.checked_mul(128)?.checked_add(u128::from(b & 0x7F))?;
        if b & 0x80 == 0 {
            if out.is_empty() {
                let (first, second) = match value {
                    0..40 => (0, value),
                    40..80 => (1, value - 40),
                    _ => (2, value - 80),
                };
                let _ = write!(out, "{first}.{second}");
            } else {
                let _ = write!(out, ".{value}");
            }
            value = 0;
            in_arc = false;
        }
    }
    (!in_arc).then_some(out)
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` in DER form
/// (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSS[.fff]Z`), validated as a real date and time.
fn parse_time(tlv: Tlv<'_>) -> Option<UtcDateTime> {
    let text = tlv.content;
    let (year, rest) = match tlv.tag {
        TAG_UTC_TIME => {
            let (yy, rest) = text.split_at_checked(2)?;
            let yy = digits(yy)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        TAG_GENERALIZED_TIME => {
            let (yyyy, rest) = text.split_at_checked(4)?;
            (digits(yyyy)?, rest)
        }
        _ => return None,
    };
    let (fields, rest) = rest.split_at_checked(10)?;
    let month = digits(fields.get(0..2)?)?;
    let day = digits(fields.get(2..4)?)?;
    let hour = digits(fields.get(4..6)?)?;
    let minute = digits(fields.get(6..8)?)?;
    let second = digits(fields.get(8..10)?)?;
    let zone = match (tlv.tag, rest.split_first()) {
        (TAG_GENERALIZED_TIME, Some((b'.', fraction))) => {
            let digits_len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits_len == 0 {
                return None;
            }
            fraction.get(digits_len..)?
        }
        _ => rest,
    };
    if zone != b"Z" {
        return None;
    }
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    Some((i32::try_from(year).ok()?, month, day, hour, minute, second))
}

/// The value of a run of ASCII digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        } else {
            None
        }
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// `Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }` (content of the outer
/// SEQUENCE): the RDNs in encoding order (least specific first). `None` when malformed.
fn decode_name(content: &[u8]) -> Option<Vec<Vec<Ava>>> {
    let mut rdns = Vec::new();
    let mut r = Reader::new(content);
    while !r.is_empty() {
        let set = r.expect(TAG_SET)?;
        let mut avas = Vec::new();
        let mut s = Reader::new(set.content);
        while !s.is_empty() {
            let pair = s.expect(TAG_SEQUENCE)?;
            let mut p = Reader::new(pair.content);
            let oid = decode_oid(p.expect(TAG_OID)?.content)?;
            let (value, hex) = attribute_value(p.next_tlv()?);
            if !p.is_empty() {
                return None;
            }
            avas.push(Ava { oid, value, hex });
        }
        rdns.push(avas);
    }
    Some(rdns)
}

/// The display value of an attribute: character strings decoded (trailing NULs trimmed, as
/// .NET), anything else `#` + upper-case hex of its DER (then `true`).
fn attribute_value(tlv: Tlv<'_>) -> (String, bool) {
    let text = match tlv.tag {
        TAG_UTF8_STRING | TAG_PRINTABLE_STRING | TAG_IA5_STRING | TAG_NUMERIC_STRING
        | TAG_VISIBLE_STRING => String::from_utf8_lossy(tlv.content).into_owned(),
        // T.61 as .NET reads it: UTF-8 when valid, else ISO-8859-1.
        TAG_T61_STRING => match std::str::from_utf8(tlv.content) {
            Ok(s) => s.to_owned(),
            Err(_) => tlv.content.iter().map(|&b| char::from(b)).collect(),
        },
        TAG_BMP_STRING => {
            let chunks = tlv.content.chunks_exact(2);
            let odd = !chunks.remainder().is_empty();
            let units = chunks.map(|c| c.iter().fold(0u16, |acc, &b| (acc << 8) | u16::from(b)));
            let mut s: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            if odd {
                s.push(char::REPLACEMENT_CHARACTER);
            }
            s
        }
        TAG_UNIVERSAL_STRING => {
            let chunks = tlv.content.chunks_exact(4);
            let odd = !chunks.remainder().is_empty();
            let mut s: String = chunks
                .map(|c| c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
                .map(|u| char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            if odd {
                s.push(char::REPLACEMENT_CHARACTER);
            }
            s
        }
        _ => return (format!("#{}", hex_upper(tlv.raw)), true),
    };
    (text.trim_end_matches('\0').to_owned(), false)
}

/// .NET's `X500DistinguishedName.Name` (flags `Reversed`): `""` when the name is malformed.
fn format_name(rdns: Option<&[Vec<Ava>]>) -> String {
    let Some(rdns) = rdns else {
        return String::new();
    };
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, ava) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            match ATTRIBUTE_SHORT_NAMES
                .iter()
                .find(|(oid, _)| *oid == ava.oid)
            {
                Some((_, short)) => out.push_str(short),
                None => {
                    out.push_str("OID.");
                    out.push_str(&ava.oid);
                }
            }
            out.push('=');
            if !ava.hex && needs_quoting(&ava.value) {
                out.push('"');
                out.push_str(&ava.value.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(&ava.value);
            }
        }
    }
    out
}

/// .NET's (and Windows') rule: empty, leading or trailing space/tab/CR/LF/VT/FF, or any of
/// `, + = " \n < > # ;` anywhere.
fn needs_quoting(value: &str) -> bool {
    let quotable_space = |c: char| c == ' ' || ('\u{9}'..='\u{d}').contains(&c);
    value.is_empty()
        || value.starts_with(quotable_space)
        || value.ends_with(quotable_space)
        || value.contains([',', '+', '=', '"', '\n', '<', '>', '#', ';'])
}

fn parse_name_type(name: &str) -> Option<NameType> {
    let name = name.trim();
    let table = [
        ("SimpleName", NameType::Simple),
        ("EmailName", NameType::Email),
        ("UpnName", NameType::Upn),
        ("DnsName", NameType::Dns),
        ("DnsFromAlternativeName", NameType::DnsFromAlternativeName),
        ("UrlName", NameType::Url),
    ];
    if let Ok(number) = name.parse::<usize>() {
        return table.get(number).map(|(_, kind)| *kind);
    }
    table
        .iter()
        .find(|(text, _)| text.eq_ignore_ascii_case(name))
        .map(|(_, kind)| *kind)
}

/// .NET's `GetSimpleNameInfo` over AVAs in most-specific-first order: CN, else OU, else O,
/// else E (for these three the last one met wins, as in .NET), else the first other value.
fn simple_name(avas: &[&Ava]) -> Option<String> {
    let mut ou = None;
    let mut o = None;
    let mut e = None;
    let mut first_other = None;
    for ava in avas {
        match ava.oid.as_str() {
            OID_COMMON_NAME => return Some(ava.value.clone()),
            OID_ORGANIZATIONAL_UNIT => ou = Some(&ava.value),
            OID_ORGANIZATION => o = Some(&ava.value),
            OID_EMAIL_ADDRESS => e = Some(&ava.value),
            _ => {
                first_other.get_or_insert(&ava.value);
            }
        }
    }
    ou.or(o).or(e).or(first_other).cloned()
}

/// The first GeneralName of the wanted kind in a SubjectAltName/IssuerAltName value
/// (`GeneralNames ::= SEQUENCE OF GeneralName`). As .NET, the search stops without a result
/// at the first malformed entry before a match (broken framing, an rfc822Name/dNSName/URI that
/// is not ASCII, a UPN otherName that is not one UTF8String); other choices are skipped.
fn find_general_name(value: &[u8], wanted: AltName) -> Option<String> {
    let list = read_single(value).filter(|l| l.tag == TAG_SEQUENCE)?;
    let mut names = Reader::new(list.content);
    while let Some(name) = names.next_tlv() {
        match (name.tag, wanted) {
            (TAG_GN_RFC822 | TAG_GN_DNS | TAG_GN_URI, _) if !name.content.is_ascii() => {
                return None;
            }
            (TAG_GN_RFC822, AltName::Email)
            | (TAG_GN_DNS, AltName::Dns)
            | (TAG_GN_URI, AltName::Uri) => {
                return Some(String::from_utf8_lossy(name.content).into_owned());
            }
            (TAG_CONTEXT_0, AltName::Upn) => {
                // OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } (IMPLICIT [0])
                let mut other = Reader::new(name.content);
                let type_id = decode_oid(other.expect(TAG_OID)?.content)?;
                let explicit = other.expect(TAG_CONTEXT_0)?;
                if !other.is_empty() {
                    return None;
                }
                if type_id == OID_UPN {
                    let upn = read_single(explicit.content)?;
                    if upn.tag != TAG_UTF8_STRING {
                        return None;
                    }
                    return std::str::from_utf8(upn.content).ok().map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Text input and output
// ---------------------------------------------------------------------------------------------

/// The bytes of Base64 text, optionally PEM-armoured (`CERTIFICATE` or `X509 CERTIFICATE`).
fn decode_base64_text(raw: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(raw).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = match text.find("-----BEGIN ") {
        Some(start) => pem_body(text.get(start..)?)?,
        None => text,
    };
    let compact: Vec<u8> = body
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C))
        .collect();
    if compact.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(&compact)
        .ok()
}

/// The Base64 body between `-----BEGIN <label>-----` and `-----END <label>-----`.
fn pem_body(armoured: &str) -> Option<&str> {
    let after_begin = armoured.strip_prefix("-----BEGIN ")?;
    let (label, rest) = after_begin.split_once("-----")?;
    if label != "CERTIFICATE" && label != "X509 CERTIFICATE" {
        return None;
    }
    let end_marker = format!("-----END {label}-----");
    let (body, _) = rest.split_once(end_marker.as_str())?;
    Some(body)
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Fixtures made with the openssl command line tool (OpenSSL 3.0):
    //
    // RSA_PEM: `openssl req -x509 -newkey rsa:2048 -days 3650 -sha256
    //   -set_serial 0x8f1e2d3c4b5a69788796a5b4c3d2e1f0` with subject
    //   C=US/ST=Washington/L=Redmond/O=Contoso/OU=Identity/CN=Contoso Device 01/
    //   emailAddress=device01@contoso.com, critical basicConstraints (CA:FALSE) and keyUsage,
    //   extendedKeyUsage, and subjectAltName DNS:device01.contoso.com, DNS:device01,
    //   email:alice@contoso.com, otherName UPN (UTF8) alice@contoso.onmicrosoft.com,
    //   URI:https://contoso.com/devices/01.
    // EC_PEM: self-signed P-256, `-days 36500` (notAfter is a GeneralizedTime),
    //   `-multivalue-rdn -subj "/DC=com/DC=contoso/OU=Devices/CN=ec-device+serialNumber=42"`,
    //   critical basicConstraints CA:TRUE and subjectKeyIdentifier.
    // V1_PEM: `openssl ca -selfsign` without extensions (version 1), RSA 1024,
    //   -startdate 990101000000Z (UTCTime 99 => 1999) -enddate 20500101000000Z (GeneralizedTime).
    // Q_PEM: P-384 key issued by EC_PEM with sha384, subject needing quotes:
    //   `-utf8 -subj "/C=US/L=Zürich/O=Contoso, Ltd/OU= Leading space/
    //   businessCategory=Private Organization/jurisdictionC=US/title=Mgr;x/CN=Name \"quoted\" #1"`,
    //   issuerAltName DNS:ca.contoso.com, email:ca@contoso.com; keyUsage (not critical).
    const RSA_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIEpzCCA4+gAwIBAgIRAI8eLTxLWml4h5altMPS4fAwDQYJKoZIhvcNAQELBQAw\n\
gZoxCzAJBgNVBAYTAlVTMRMwEQYDVQQIDApXYXNoaW5ndG9uMRAwDgYDVQQHDAdS\n\
ZWRtb25kMRAwDgYDVQQKDAdDb250b3NvMREwDwYDVQQLDAhJZGVudGl0eTEaMBgG\n\
A1UEAwwRQ29udG9zbyBEZXZpY2UgMDExIzAhBgkqhkiG9w0BCQEWFGRldmljZTAx\n\
QGNvbnRvc28uY29tMB4XDTI2MTEyMjAyMjYyM1oXDTM2MTExOTAyMjYyM1owgZox\n\
CzAJBgNVBAYTAlVTMRMwEQYDVQQIDApXYXNoaW5ndG9uMRAwDgYDVQQHDAdSZWRt\n\
b25kMRAwDgYDVQQKDAdDb250b3NvMREwDwYDVQQLDAhJZGVudGl0eTEaMBgGA1UE\n\
AwwRQ29udG9zbyBEZXZpY2UgMDExIzAhBgkqhkiG9w0BCQEWFGRldmljZTAxQGNv\n\
bnRvc28uY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyBpyTlba\n\
DcbU4qMGdifcs1MWaQFnGqk36gg4z10xj11LctjjVMfhVFUPWz7CyWQdn+Zgjf2t\n\
KPrRGEjfNi3eHxuv/SAdPF0GcseVBH96iE5SP0knR1Ke9/wQQQiIwsjjNRtveogQ\n\
X9ONYCaFhmWiGDKN6irnyZNJNQQ/WJb2F55KGwqdJdYOD93qJ9a6QB9rvhLAgMZo\n\
k9Nf9AVw3R3PX0b7EWEppyyKhDMowzt8hwMN/FStWQ8/3Is5FL8wif+oG9aCzaqt\n\
/GS62yKHBo4AELYhGnpTRCUxnh/Gx8tSCGykhZE9cRpAPt85nsdz1vgG3BI+MMMH\n\
bIAaS5pmXxzeEQIDAQABo4HlMIHiMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQD\n\
AgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMCMIGNBgNVHREEgYUwgYKCFGRldmljZTAx\n\
LmNvbnRvc28uY29tgghkZXZpY2UwMYERYWxpY2VAY29udG9zby5jb22gLQYKKwYB\n\
BAGCNxQCA6AfDB1hbGljZUBjb250b3NvLm9ubWljcm9zb2Z0LmNvbYYeaHR0cHM6\n\
Ly9jb250b3NvLmNvbS9kZXZpY2VzLzAxMB0GA1UdDgQWBBTtSFwL8wCmzuw5tEJ4\n\
y2zuajO1/jANBgkqhkiG9w0BAQsFAAOCAQEAHUKFw8d8UwxUjiCVd8zGz9ase1pG\n\
K4Xsk1VgIKLrurwO4F/j1oOIclQd4OS5KSQQwTj0TBtfrJebSR7vcBgcKXfQGsmB\n\
hRtc0Qc7E6id/IbIyryynzdRJKD1NtUtgn7IsOfXta6uYVpwvlwP7ESPi1ROKQ36\n\
q/hg82UXWXEIuJiU4L+bYDbzPRdjrKpkHY3E9h5yDzJK4Wih0RuB37rGPI4dE7tz\n\
kNnKoOAQWVU8kq6BD/Gxzno7T0UzIcZehgzAb/MatCq7FfJn9yVZ+a2Lx7Ojgama\n\
COBMineuufDzDGURLi8Y59voq7yJ16598Z4pnSTor7IMFovuF/qJiKOezA==\n\
-----END CERTIFICATE-----\n\
";
    const EC_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB4DCCAYegAwIBAgIBATAKBggqhkjOPQQDAjBfMRMwEQYKCZImiZPyLGQBGRYD\n\
Y29tMRcwFQYKCZImiZPyLGQBGRYHY29udG9zbzEQMA4GA1UECwwHRGV2aWNlczEd\n\
MAkGA1UEBRMCNDIwEAYDVQQDDAllYy1kZXZpY2UwIBcNMjYxMTIyMDIyNjM1WhgP\n\
MjEyNjEwMjkwMjI2MzVaMF8xEzARBgoJkiaJk/IsZAEZFgNjb20xFzAVBgoJkiaJ\n\
k/IsZAEZFgdjb250b3NvMRAwDgYDVQQLDAdEZXZpY2VzMR0wCQYDVQQFEwI0MjAQ\n\
BgNVBAMMCWVjLWRldmljZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN0F7hPG\n\
Hxf2ghILfaiZj7zLoGec3i1vDOv4HPY2q7iF7zoH3htcmR0tV1Z0XmRDEgsrHRLw\n\
udoSjbGD/sy6cvKjMjAwMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFL5DKMc/\n\
1XFM3U+iKawoY1a7q/NFMAoGCCqGSM49BAMCA0cAMEQCIGdy8xYLeoKkseuQIR1Q\n\
S6xKdtRP/jLxnuqcp06cncEMAiBURT2oJMPKt2LJB82d36YkHj9sOO1pxX7U1TnV\n\
XZBzBA==\n\
-----END CERTIFICATE-----\n\
";
    const V1_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB5zCCAVACAwChsjANBgkqhkiG9w0BAQsFADA6MRgwFgYDVQQDDA9GYWJyaWth\n\
bSBMZWdhY3kxETAPBgNVBAoMCEZhYnJpa2FtMQswCQYDVQQGEwJHQjAgFw05OTAx\n\
MDEwMDAwMDBaGA8yMDUwMDEwMTAwMDAwMFowOjEYMBYGA1UEAwwPRmFicmlrYW0g\n\
TGVnYWN5MREwDwYDVQQKDAhGYWJyaWthbTELMAkGA1UEBhMCR0IwgZ8wDQYJKoZI\n\
hvcNAQEBBQADgY0AMIGJAoGBAN9pIBsskFBMactCVjyDjILkIda1HkBh6n7HRi8O\n\
KT8SII7BkWhJNPe/i85ZkI72e0igykRYFvP/WyM3gS7bgDLq84UlL4/XsDPDfxdN\n\
lcYCvikSZrxq/bsaPOOheChHdhlMBsyY9oe8fp0yFdsZA0tXz5cthehGcAbQxYYV\n\
fbVvAgMBAAEwDQYJKoZIhvcNAQELBQADgYEAI5lmeNtrpZXQ7FZ81h42goXxQpLs\n\
Yc33tK1AIeIOlADhKdF3faelgIrojhUaLX9E9mi0wKiq+v0T6bkbXa2jvIg4PkV4\n\
W8KK1RldP7LcAdYDJ22yj0r3YVNWbY933UBuXLtvvgYdU5kdYdZVQqKSZ3rtbc8D\n\
/WabjyiHpNfKir8=\n\
-----END CERTIFICATE-----\n\
";
    const Q_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIClTCCAjugAwIBAgICf/8wCgYIKoZIzj0EAwMwXzETMBEGCgmSJomT8ixkARkW\n\
A2NvbTEXMBUGCgmSJomT8ixkARkWB2NvbnRvc28xEDAOBgNVBAsMB0RldmljZXMx\n\
HTAJBgNVBAUTAjQyMBAGA1UEAwwJZWMtZGV2aWNlMB4XDTI2MTEyMjAyMjYzNloX\n\
DTI3MTEyMjAyMjYzNlowga4xCzAJBgNVBAYTAlVTMRAwDgYDVQQHDAdaw7xyaWNo\n\
MRUwEwYDVQQKDAxDb250b3NvLCBMdGQxFzAVBgNVBAsMDiBMZWFkaW5nIHNwYWNl\n\
MR0wGwYDVQQPDBRQcml2YXRlIE9yZ2FuaXphdGlvbjETMBEGCysGAQQBgjc8AgED\n\
EwJVUzEOMAwGA1UEDAwFTWdyO3gxGTAXBgNVBAMMEE5hbWUgInF1b3RlZCIgIzEw\n\
djAQBgcqhkjOPQIBBgUrgQQAIgNiAATiKcvcsDrbB3X+yXDYGUKysEuvNhXsfGtv\n\
cPrdPfDZUUoqXzGhuj6+IIaoJZL1Yul2UJAXE2MBLhS/zmN//eccARxhIhdqg4sY\n\
Vr3HUCnA6DWgsCA8TxwrVazszzIXcE+jejB4MCkGA1UdEgQiMCCCDmNhLmNvbnRv\n\
c28uY29tgQ5jYUBjb250b3NvLmNvbTALBgNVHQ8EBAMCB4AwHQYDVR0OBBYEFA9C\n\
BdRdqEY6pxF9f662fMIyOhaGMB8GA1UdIwQYMBaAFL5DKMc/1XFM3U+iKawoY1a7\n\
q/NFMAoGCCqGSM49BAMDA0gAMEUCIQCqFX798AOwZTgsrm4Nxut8xVkptFQpBxKt\n\
mX5KYq8CNgIgDfdToDqfNRYxAfyQxAa2flbMzuY09re49mJpT0n8Rvc=\n\
-----END CERTIFICATE-----\n\
";

    /// DER of a PEM fixture, decoded independently of the code under test.
    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    fn cert(pem: &str) -> Certificate {
        Certificate::parse(&der(pem)).unwrap()
    }

    /// openssl's `-fingerprint -sha1` form (`AB:CD:...`) to .NET's thumbprint form.
    fn thumbprint_from_openssl(fingerprint: &str) -> String {
        fingerprint.replace(':', "")
    }

    const NAME_TYPES: [&str; 6] = [
        "SimpleName",
        "EmailName",
        "UpnName",
        "DnsName",
        "DnsFromAlternativeName",
        "UrlName",
    ];

    fn name_infos(c: &Certificate, for_issuer: bool) -> Vec<String> {
        NAME_TYPES
            .iter()
            .map(|t| c.name_info(t, for_issuer))
            .collect()
    }

    /// Calls every accessor (the property tests only care that none panics).
    fn touch_all(c: &Certificate) {
        let _ = c.extension_oids();
        let _ = c.format();
        let _ = c.friendly_name();
        let _ = c.hash_string();
        let _ = c.thumbprint();
        let _ = c.issuer();
        let _ = c.issuer_oid();
        let _ = c.key_algorithm();
        let _ = c.key_algorithm_params();
        let _ = c.not_after();
        let _ = c.not_before();
        let _ = c.public_key_oid();
        let _ = c.public_key_parameters_oid();
        let _ = c.serial_number();
        let _ = c.signature_algorithm_oid();
        let _ = c.subject();
        let _ = c.subject_name_oid();
        let _ = c.version();
        for for_issuer in [false, true] {
            let _ = name_infos(c, for_issuer);
        }
    }

    #[test]
    fn rsa_v3_certificate_with_san() {
        let c = cert(RSA_PEM);
        // openssl: sha1 Fingerprint=88:5B:7E:E1:54:E2:AF:50:58:36:C4:05:32:AD:94:10:80:97:9E:F1
        let fingerprint = "88:5B:7E:E1:54:E2:AF:50:58:36:C4:05:32:AD:94:10:80:97:9E:F1";
        assert_eq!(c.thumbprint(), thumbprint_from_openssl(fingerprint));
        assert_eq!(c.hash_string(), c.thumbprint());
        // openssl: serial=8F1E2D3C4B5A69788796A5B4C3D2E1F0; the DER INTEGER keeps a leading 00
        // (top bit set), which .NET's SerialNumber shows.
        assert_eq!(c.serial_number(), "008F1E2D3C4B5A69788796A5B4C3D2E1F0");
        // openssl: notBefore=Nov 22 02:26:23 2026 GMT, notAfter=Nov 19 02:26:23 2036 GMT
        assert_eq!(c.not_before(), (2026, 11, 22, 2, 26, 23));
        assert_eq!(c.not_after(), (2036, 11, 19, 2, 26, 23));
        // openssl -nameopt RFC2253: emailAddress=device01@contoso.com,CN=Contoso Device 01,
        // OU=Identity,O=Contoso,L=Redmond,ST=Washington,C=US
        let dn = "E=device01@contoso.com, CN=Contoso Device 01, OU=Identity, O=Contoso, \
                  L=Redmond, S=Washington, C=US";
        assert_eq!(c.subject(), dn);
        assert_eq!(c.issuer(), dn);
        assert_eq!(c.version(), 3);
        assert_eq!(c.format(), "X509");
        assert_eq!(c.friendly_name(), "");
        assert_eq!(c.issuer_oid(), "");
        assert_eq!(c.subject_name_oid(), "");
        assert_eq!(c.extension_oids(), ["2.5.29.19", "2.5.29.15"]);
        assert_eq!(c.key_algorithm(), "1.2.840.113549.1.1.1");
        assert_eq!(c.public_key_oid(), "1.2.840.113549.1.1.1");
        assert_eq!(c.key_algorithm_params(), "0500");
        assert_eq!(c.public_key_parameters_oid(), "");
        assert_eq!(c.signature_algorithm_oid(), "1.2.840.113549.1.1.11");
        assert_eq!(
            name_infos(&c, false),
            [
                "Contoso Device 01",
                "alice@contoso.com",
                "alice@contoso.onmicrosoft.com",
                "device01.contoso.com",
                "device01.contoso.com",
                "https://contoso.com/devices/01",
            ]
        );
        // Self-signed without an issuerAltName: only the name-based fallbacks answer.
        assert_eq!(
            name_infos(&c, true),
            [
                "Contoso Device 01",
                "device01@contoso.com",
                "",
                "Contoso Device 01",
                "",
                ""
            ]
        );
    }

    #[test]
    fn ec_p256_certificate() {
        let c = cert(EC_PEM);
        let fingerprint = "FC:2D:0A:C5:9D:DF:BB:30:4C:BB:E6:82:C7:35:FD:2D:04:A7:6D:05";
        assert_eq!(c.thumbprint(), thumbprint_from_openssl(fingerprint));
        assert_eq!(c.serial_number(), "01"); // openssl: serial=01
        // openssl: notBefore=Nov 22 02:26:35 2026 GMT, notAfter=Oct 29 02:26:35 2126 GMT
        assert_eq!(c.not_before(), (2026, 11, 22, 2, 26, 35));
        assert_eq!(c.not_after(), (2126, 10, 29, 2, 26, 35));
        // openssl RFC2253: CN=ec-device+serialNumber=42,OU=Devices,DC=contoso,DC=com. openssl
        // reverses the AVAs inside the multi-valued RDN too; .NET keeps their encoded order
        // (serialNumber first, as DER sorts the SET).
        let dn = "SERIALNUMBER=42 + CN=ec-device, OU=Devices, DC=contoso, DC=com";
        assert_eq!(c.subject(), dn);
        assert_eq!(c.issuer(), dn);
        assert_eq!(c.version(), 3);
        assert_eq!(c.extension_oids(), ["2.5.29.19"]);
        assert_eq!(c.key_algorithm(), "1.2.840.10045.2.1");
        assert_eq!(c.public_key_oid(), "1.2.840.10045.2.1");
        assert_eq!(c.key_algorithm_params(), "06082A8648CE3D030107");
        assert_eq!(c.public_key_parameters_oid(), "1.2.840.10045.3.1.7");
        assert_eq!(c.signature_algorithm_oid(), "1.2.840.10045.4.3.2");
        assert_eq!(
            name_infos(&c, false),
            ["ec-device", "", "", "ec-device", "", ""]
        );
    }

    #[test]
    fn v1_certificate_without_extensions() {
        let c = cert(V1_PEM);
        let fingerprint = "D5:8F:63:E6:95:42:64:FB:9A:88:04:C3:FA:4D:3E:11:5B:B8:8D:20";
        assert_eq!(c.thumbprint(), thumbprint_from_openssl(fingerprint));
        assert_eq!(c.serial_number(), "00A1B2"); // openssl: serial=A1B2 (DER 00 A1 B2)
        // openssl: notBefore=Jan  1 00:00:00 1999 GMT (UTCTime 990101000000Z),
        // notAfter=Jan  1 00:00:00 2050 GMT (GeneralizedTime)
        assert_eq!(c.not_before(), (1999, 1, 1, 0, 0, 0));
        assert_eq!(c.not_after(), (2050, 1, 1, 0, 0, 0));
        // openssl RFC2253: C=GB,O=Fabrikam,CN=Fabrikam Legacy (CN is encoded first here)
        assert_eq!(c.subject(), "C=GB, O=Fabrikam, CN=Fabrikam Legacy");
        assert_eq!(c.issuer(), "C=GB, O=Fabrikam, CN=Fabrikam Legacy");
        assert_eq!(c.version(), 1);
        assert!(c.extension_oids().is_empty());
        assert_eq!(c.key_algorithm(), "1.2.840.113549.1.1.1");
        assert_eq!(c.key_algorithm_params(), "0500");
        assert_eq!(c.public_key_parameters_oid(), "");
        assert_eq!(c.signature_algorithm_oid(), "1.2.840.113549.1.1.11");
        assert_eq!(
            name_infos(&c, false),
            ["Fabrikam Legacy", "", "", "Fabrikam Legacy", "", ""]
        );
    }

    #[test]
    fn subject_needing_quotes_and_distinct_issuer() {
        let c = cert(Q_PEM);
        let fingerprint = "34:16:CA:92:9E:78:3F:BF:D7:53:11:61:7B:58:10:45:0E:74:15:9F";
        assert_eq!(c.thumbprint(), thumbprint_from_openssl(fingerprint));
        assert_eq!(c.serial_number(), "7FFF"); // openssl: serial=7FFF
        // openssl: notBefore=Nov 22 02:26:36 2026 GMT, notAfter=Nov 22 02:26:36 2027 GMT
        assert_eq!(c.not_before(), (2026, 11, 22, 2, 26, 36));
        assert_eq!(c.not_after(), (2027, 11, 22, 2, 26, 36));
        // openssl RFC2253: CN=Name \"quoted\" #1,title=Mgr\;x,jurisdictionC=US,
        // businessCategory=Private Organization,OU=\ Leading space,O=Contoso\, Ltd,
        // L=Z\C3\BCrich,C=US. .NET quotes instead of escaping, doubles embedded quotes, and
        // knows neither jurisdictionC nor businessCategory.
        assert_eq!(
            c.subject(),
            "CN=\"Name \"\"quoted\"\" #1\", T=\"Mgr;x\", OID.1.3.6.1.4.1.311.60.2.1.3=US, \
             OID.2.5.4.15=Private Organization, OU=\" Leading space\", O=\"Contoso, Ltd\", \
             L=Zürich, C=US"
        );
        assert_eq!(
            c.issuer(),
            "SERIALNUMBER=42 + CN=ec-device, OU=Devices, DC=contoso, DC=com"
        );
        assert_eq!(c.version(), 3);
        assert!(c.extension_oids().is_empty()); // keyUsage is not critical here
        assert_eq!(c.key_algorithm(), "1.2.840.10045.2.1");
        assert_eq!(c.key_algorithm_params(), "06052B81040022");
        assert_eq!(c.public_key_parameters_oid(), "1.3.132.0.34");
        assert_eq!(c.signature_algorithm_oid(), "1.2.840.10045.4.3.3");
        assert_eq!(
            name_infos(&c, false),
            ["Name \"quoted\" #1", "", "", "Name \"quoted\" #1", "", ""]
        );
        // The issuer alternative name answers for the issuer.
        assert_eq!(
            name_infos(&c, true),
            [
                "ec-device",
                "ca@contoso.com",
                "",
                "ca.contoso.com",
                "ca.contoso.com",
                ""
            ]
        );
    }

    #[test]
    fn pem_and_bare_base64_read_like_der() {
        for pem in [RSA_PEM, EC_PEM, V1_PEM, Q_PEM] {
            let from_der = cert(pem);
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let wrapped: String = pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(|l| format!("{l}\r\n"))
                .collect();
            let crlf_pem = pem.replace('\n', "\r\n");
            let with_preamble = format!("Certificate:\n    Data: ...\n{pem}\n");
            let with_bom = format!("\u{feff}  {body}\n");
            let x509_label = pem
                .replace("BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE")
                .replace("END CERTIFICATE", "END X509 CERTIFICATE");
            let unpadded = body.trim_end_matches('=').to_owned();
            for text in [
                pem.to_owned(),
                body,
                wrapped,
                crlf_pem,
                with_preamble,
                with_bom,
                x509_label,
                unpadded,
            ] {
                assert_eq!(
                    Certificate::parse(text.as_bytes()).as_ref(),
                    Some(&from_der)
                );
            }
        }
    }

    #[test]
    fn rejects_what_is_not_one_certificate() {
        let d = der(RSA_PEM);
        let mut trailing = d.clone();
        trailing.push(0);
        assert!(Certificate::parse(&trailing).is_none());
        assert!(Certificate::parse(&d[..d.len() - 1]).is_none());
        assert!(Certificate::parse(&[]).is_none());
        assert!(Certificate::parse(b"   \n").is_none());
        assert!(Certificate::parse(b"not base64 at all!").is_none());
        assert!(Certificate::parse(b"TWFu").is_none()); // valid Base64, not a certificate
        let key = RSA_PEM.replace("CERTIFICATE", "PRIVATE KEY");
        assert!(Certificate::parse(key.as_bytes()).is_none());
        let unterminated = RSA_PEM.replace("-----END CERTIFICATE-----", "");
        assert!(Certificate::parse(unterminated.as_bytes()).is_none());
        // Indefinite length (BER only).
        let mut indefinite = d.clone();
        indefinite[1] = 0x80;
        assert!(Certificate::parse(&indefinite).is_none());
    }

    // ---- hand-built certificates for the edge cases openssl won't produce ----

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(TAG_SEQUENCE, &parts.concat())
    }

    fn oid(dotted_der_content: &[u8]) -> Vec<u8> {
        tlv(TAG_OID, dotted_der_content)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0A];
    const OU: &[u8] = &[0x55, 0x04, 0x0B];
    const SHA256_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
    const RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
    const SAN: &[u8] = &[0x55, 0x1D, 0x11];

    /// A Name of single-valued RDNs, each `(type OID content, full value TLV)`.
    fn name(rdns: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let sets: Vec<Vec<u8>> = rdns
            .iter()
            .map(|(t, v)| tlv(TAG_SET, &seq(&[oid(t), v.clone()])))
            .collect();
        seq(&sets)
    }

    fn utc(text: &str) -> Vec<u8> {
        tlv(TAG_UTC_TIME, text.as_bytes())
    }

    struct Parts {
        version: Option<Vec<u8>>,
        subject: Vec<u8>,
        validity: Vec<u8>,
        tail: Vec<u8>,
    }

    impl Default for Parts {
        fn default() -> Self {
            Parts {
                version: Some(tlv(TAG_CONTEXT_0, &tlv(TAG_INTEGER, &[2]))),
                subject: name(&[(CN, tlv(TAG_UTF8_STRING, b"test"))]),
                validity: seq(&[utc("250101000000Z"), utc("350101000000Z")]),
                tail: Vec::new(),
            }
        }
    }

    fn build(p: Parts) -> Vec<u8> {
        let alg = seq(&[oid(SHA256_RSA), tlv(0x05, &[])]);
        let spki = seq(&[
            seq(&[oid(RSA), tlv(0x05, &[])]),
            tlv(TAG_BIT_STRING, &[0, 0x30, 0]),
        ]);
        let mut tbs = Vec::new();
        if let Some(v) = p.version {
            tbs.extend(v);
        }
        tbs.extend(tlv(TAG_INTEGER, &[0x01]));
        tbs.extend(alg.clone());
        tbs.extend(name(&[(CN, tlv(TAG_PRINTABLE_STRING, b"Issuer"))]));
        tbs.extend(p.validity);
        tbs.extend(p.subject);
        tbs.extend(spki);
        tbs.extend(p.tail);
        seq(&[tlv(TAG_SEQUENCE, &tbs), alg, tlv(TAG_BIT_STRING, &[0, 1])])
    }

    fn extensions(exts: &[Vec<u8>]) -> Vec<u8> {
        tlv(TAG_CONTEXT_3, &seq(exts))
    }

    fn extension(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
        let mut parts = vec![oid(id)];
        if critical {
            parts.push(tlv(TAG_BOOLEAN, &[0xFF]));
        }
        parts.push(tlv(TAG_OCTET_STRING, value));
        seq(&parts)
    }

    fn with_subject(rdns: &[(&[u8], Vec<u8>)]) -> Certificate {
        Certificate::parse(&build(Parts {
            subject: name(rdns),
            ..Parts::default()
        }))
        .unwrap()
    }

    #[test]
    fn name_value_string_types() {
        let c = with_subject(&[
            (
                O,
                tlv(
                    TAG_BMP_STRING,
                    &[0x00, 0x5A, 0x00, 0xFC, 0xD8, 0x3D, 0xDE, 0x00],
                ),
            ),
            (
                OU,
                tlv(TAG_UNIVERSAL_STRING, &[0, 0, 0, 0x41, 0, 1, 0xF6, 0x00]),
            ),
            (OU, tlv(TAG_T61_STRING, &[0x5A, 0xFC])), // not UTF-8: read as Latin-1
            (OU, tlv(TAG_T61_STRING, "Zü".as_bytes())),
            (OU, tlv(TAG_VISIBLE_STRING, b"vis")),
            (OU, tlv(TAG_IA5_STRING, b"nul\0\0")), // trailing NULs trimmed
            (OU, tlv(TAG_OCTET_STRING, &[0xAB, 0x01])), // not a string
            (OU, tlv(TAG_UTF8_STRING, b"")),
            (OU, tlv(TAG_UTF8_STRING, b"#hash")),
            (OU, tlv(TAG_UTF8_STRING, b"tab\t")),
            (OU, tlv(TAG_UTF8_STRING, b"a\rb")), // \r inside is not quoted (as Windows)
            (&[0x2A, 0x03], tlv(TAG_UTF8_STRING, b"x")), // 1.2.3, unknown
            (CN, tlv(TAG_UTF8_STRING, b"<cn>")),
        ]);
        assert_eq!(
            c.subject(),
            "CN=\"<cn>\", OID.1.2.3=x, OU=a\rb, OU=\"tab\t\", OU=\"#hash\", OU=\"\", \
             OU=#0402AB01, OU=nul, OU=vis, OU=Zü, OU=Zü, OU=A\u{1F600}, O=Zü\u{1F600}"
        );
        assert_eq!(c.name_info("SimpleName", false), "<cn>");
    }

    #[test]
    fn multi_valued_rdn_and_simple_name_order() {
        // SET { O=Org, OU=Unit } then L=Town: most specific first, encoding order inside.
        let rdn = tlv(
            TAG_SET,
            &[
                seq(&[oid(O), tlv(TAG_UTF8_STRING, b"Org")]),
                seq(&[oid(OU), tlv(TAG_UTF8_STRING, b"Unit")]),
            ]
            .concat(),
        );
        let town = tlv(
            TAG_SET,
            &seq(&[oid(&[0x55, 0x04, 0x07]), tlv(TAG_UTF8_STRING, b"Town")]),
        );
        let subject = seq(&[rdn, town]);
        let c = Certificate::parse(&build(Parts {
            subject,
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(c.subject(), "L=Town, O=Org + OU=Unit");
        // No CN: OU wins over O and over the first other attribute (L).
        assert_eq!(c.name_info("SimpleName", false), "Unit");
        assert_eq!(c.name_info("DnsName", false), "");

        let only_other = with_subject(&[(&[0x55, 0x04, 0x07], tlv(TAG_UTF8_STRING, b"Town"))]);
        assert_eq!(only_other.name_info("SimpleName", false), "Town");
        // Two OUs: the least specific one wins, as in .NET's loop.
        let two_ou = with_subject(&[
            (OU, tlv(TAG_UTF8_STRING, b"Outer")),
            (OU, tlv(TAG_UTF8_STRING, b"Inner")),
        ]);
        assert_eq!(two_ou.name_info("SimpleName", false), "Outer");
        // Two CNs: the most specific one.
        let two_cn = with_subject(&[
            (CN, tlv(TAG_UTF8_STRING, b"Outer")),
            (CN, tlv(TAG_UTF8_STRING, b"Inner")),
        ]);
        assert_eq!(two_cn.name_info("SimpleName", false), "Inner");
        assert_eq!(two_cn.name_info("DnsName", false), "Inner");
    }

    #[test]
    fn malformed_name_gives_empty_string_but_parses() {
        // SEQUENCE { SET { SEQUENCE { OID } } }: the attribute has no value.
        let subject = seq(&[tlv(TAG_SET, &seq(&[oid(CN)]))]);
        let c = Certificate::parse(&build(Parts {
            subject,
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(c.subject(), "");
        assert_eq!(c.name_info("SimpleName", false), "");
        assert_eq!(c.issuer(), "CN=Issuer");
        // An empty name is valid and prints as "".
        let empty = Certificate::parse(&build(Parts {
            subject: seq(&[]),
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(empty.subject(), "");
    }

    #[test]
    fn name_type_parsing() {
        let c = cert(RSA_PEM);
        assert_eq!(c.name_info("dnsname", false), "device01.contoso.com");
        assert_eq!(
            c.name_info(" UrlName ", false),
            "https://contoso.com/devices/01"
        );
        assert_eq!(c.name_info("2", false), "alice@contoso.onmicrosoft.com");
        assert_eq!(c.name_info("0", false), "Contoso Device 01");
        assert_eq!(c.name_info("6", false), "");
        assert_eq!(c.name_info("", false), "");
        assert_eq!(c.name_info("Dns", false), "");
    }

    #[test]
    fn alternative_name_edge_cases() {
        let upn_oid: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03];
        let other = |type_id: &[u8], value: Vec<u8>| {
            tlv(
                TAG_CONTEXT_0,
                &[oid(type_id), tlv(TAG_CONTEXT_0, &value)].concat(),
            )
        };
        let high_tag = vec![0x9F, 0x81, 0x00, 0x01, 0x00]; // [128] primitive, skipped
        let names = seq(&[
            high_tag,
            other(&[0x2A, 0x03], tlv(TAG_UTF8_STRING, b"not a upn")),
            other(upn_oid, tlv(TAG_UTF8_STRING, "ü@contoso.com".as_bytes())),
            tlv(0xA4, &name(&[(CN, tlv(TAG_UTF8_STRING, b"dir"))])), // directoryName
            tlv(TAG_GN_DNS, b"first.example"),
            tlv(TAG_GN_DNS, b"second.example"),
            tlv(TAG_GN_URI, b"ur\xC3\xA9"), // non-ASCII IA5String: .NET's decoder stops here
            tlv(TAG_GN_RFC822, b"late@example.com"),
        ]);
        let c = Certificate::parse(&build(Parts {
            tail: extensions(&[extension(SAN, false, &names)]),
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(c.name_info("UpnName", false), "ü@contoso.com");
        assert_eq!(c.name_info("DnsName", false), "first.example");
        assert_eq!(c.name_info("UrlName", false), "");
        assert_eq!(c.name_info("EmailName", false), "");
        assert_eq!(c.name_info("SimpleName", false), "test");

        // A SAN that is not DER: parse still succeeds, the name-based fallbacks answer.
        let broken = Certificate::parse(&build(Parts {
            tail: extensions(&[extension(SAN, true, &[0x30, 0x05, 0x82, 0x01])]),
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(broken.name_info("DnsName", false), "test");
        assert_eq!(broken.name_info("DnsFromAlternativeName", false), "");
        assert_eq!(broken.extension_oids(), ["2.5.29.17"]);
    }

    #[test]
    fn lenient_extensions() {
        let bc: &[u8] = &[0x55, 0x1D, 0x13];
        let ku: &[u8] = &[0x55, 0x1D, 0x0F];
        // An extension without its OCTET STRING is skipped; the others stay.
        let bad = seq(&[oid(ku), tlv(TAG_BOOLEAN, &[0xFF])]);
        let c = Certificate::parse(&build(Parts {
            tail: [
                tlv(0x81, &[0x00, 0xAA]), // issuerUniqueID, skipped
                extensions(&[
                    extension(bc, true, &[0x30, 0x00]),
                    bad,
                    extension(ku, true, &[]),
                ]),
            ]
            .concat(),
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(c.extension_oids(), ["2.5.29.19", "2.5.29.15"]);

        // A broken [3] wrapper: no extensions, certificate still read.
        let c = Certificate::parse(&build(Parts {
            tail: tlv(TAG_CONTEXT_3, &[0x30, 0x7F, 0x00]),
            ..Parts::default()
        }))
        .unwrap();
        assert!(c.extension_oids().is_empty());
        assert_eq!(c.version(), 3);

        // Extensions in a v1 certificate are still read.
        let c = Certificate::parse(&build(Parts {
            version: None,
            tail: extensions(&[extension(bc, true, &[0x30, 0x00])]),
            ..Parts::default()
        }))
        .unwrap();
        assert_eq!(c.version(), 1);
        assert_eq!(c.extension_oids(), ["2.5.29.19"]);
    }

    #[test]
    fn versions() {
        let v = |n: &[u8]| {
            Certificate::parse(&build(Parts {
                version: Some(tlv(TAG_CONTEXT_0, &tlv(TAG_INTEGER, n))),
                ..Parts::default()
            }))
        };
        assert_eq!(v(&[0]).map(|c| c.version()), Some(1));
        assert_eq!(v(&[1]).map(|c| c.version()), Some(2));
        assert_eq!(v(&[2]).map(|c| c.version()), Some(3));
        assert!(v(&[3]).is_none());
        assert!(v(&[0xFF]).is_none()); // -1
        assert!(v(&[]).is_none());
        assert!(v(&[0x7F, 0xFF, 0xFF, 0xFF, 0xFF]).is_none());
    }

    #[test]
    fn times() {
        let t = |validity: Vec<u8>| {
            Certificate::parse(&build(Parts {
                validity,
                ..Parts::default()
            }))
            .map(|c| (c.not_before(), c.not_after()))
        };
        let gen_time = |s: &str| tlv(TAG_GENERALIZED_TIME, s.as_bytes());
        assert_eq!(
            t(seq(&[utc("491231235959Z"), utc("500101000000Z")])),
            Some(((2049, 12, 31, 23, 59, 59), (1950, 1, 1, 0, 0, 0)))
        );
        assert_eq!(
            t(seq(&[
                gen_time("20240229120000.25Z"),
                gen_time("99991231235959Z")
            ])),
            Some(((2024, 2, 29, 12, 0, 0), (9999, 12, 31, 23, 59, 59)))
        );
        for bad in [
            utc("250230000000Z"), // 30 February
            utc("230229000000Z"), // not a leap year
            utc("251301000000Z"), // month 13
            utc("250101240000Z"), // hour 24
            utc("250101000060Z"), // second 60
            utc("2501010000Z"),   // no seconds
            utc("250101000000"),  // no zone
            utc("250101000000+0100"),
            utc("25010100000aZ"),
            gen_time("20250101000000.Z"),
            gen_time("19000229000000Z"),
            tlv(TAG_INTEGER, b"250101000000Z"),
        ] {
            assert_eq!(
                t(seq(&[bad.clone(), utc("350101000000Z")])),
                None,
                "{bad:?}"
            );
        }
        assert_eq!(
            t(seq(&[gen_time("20000229000000Z"), utc("350101000000Z")])).map(|v| v.0),
            Some((2000, 2, 29, 0, 0, 0))
        );
    }

    #[test]
    fn oid_decoding() {
        assert_eq!(decode_oid(&[0x2A, 0x86, 0x48]).as_deref(), Some("1.2.840"));
        assert_eq!(decode_oid(&[0x00]).as_deref(), Some("0.0"));
        assert_eq!(decode_oid(&[0x81, 0x34, 0x03]).as_deref(), Some("2.100.3"));
        assert_eq!(decode_oid(&[0x2A, 0x80, 0x01]), None); // non-minimal
        assert_eq!(decode_oid(&[0x2A, 0x86]), None); // truncated
        assert_eq!(decode_oid(&[]), None);
        // 2.25.<128-bit> fits; one more septet does not.
        let mut big = vec![0x69];
        big.extend([0xFF; 19]);
        big.push(0x7F);
        assert!(decode_oid(&big).is_none());
        let mut uuid = vec![0x69, 0x83];
        uuid.extend([0xFF; 17]);
        uuid.push(0x7F);
        assert_eq!(decode_oid(&uuid), Some(format!("2.25.{}", u128::MAX)));
    }

    #[test]
    fn long_form_lengths() {
        // Non-minimal long-form length on the outer SEQUENCE is accepted (BER leniency);
        // the thumbprint hashes the bytes as given.
        let d = der(V1_PEM);
        assert_eq!(&d[..2], &[0x30, 0x82]);
        let mut long = vec![0x30, 0x84, 0x00, 0x00];
        long.extend_from_slice(&d[2..]);
        let c = Certificate::parse(&long).unwrap();
        assert_eq!(c.subject(), cert(V1_PEM).subject());
        assert_ne!(c.thumbprint(), cert(V1_PEM).thumbprint());
        // More than four length octets is refused.
        let mut too_long = vec![0x30, 0x85, 0x00, 0x00, 0x00];
        too_long.extend_from_slice(&d[2..]);
        assert!(Certificate::parse(&too_long).is_none());
    }

    /// Offsets of the bytes nothing reads: the contents of the public key and signature
    /// BIT STRINGs.
    fn opaque_bytes(d: &[u8]) -> [std::ops::Range<usize>; 2] {
        let range = |part: &[u8]| {
            let start = part.as_ptr() as usize - d.as_ptr() as usize;
            start..start + part.len()
        };
        let outer = read_single(d).unwrap();
        let mut cert = Reader::new(outer.content);
        let tbs = cert.expect(TAG_SEQUENCE).unwrap();
        cert.expect(TAG_SEQUENCE).unwrap();
        let signature = cert.expect(TAG_BIT_STRING).unwrap();
        let mut fields = Reader::new(tbs.content);
        fields.next_if(TAG_CONTEXT_0);
        for _ in 0..5 {
            fields.next_tlv().unwrap(); // serial, signature, issuer, validity, subject
        }
        let mut spki = Reader::new(fields.expect(TAG_SEQUENCE).unwrap().content);
        spki.expect(TAG_SEQUENCE).unwrap();
        let key = spki.expect(TAG_BIT_STRING).unwrap();
        [range(key.content), range(signature.content)]
    }

    #[test]
    fn every_single_byte_mutation_never_panics() {
        for d in fixture_ders() {
            let [key, signature] = opaque_bytes(&d);
            for i in 0..d.len() {
                if key.contains(&i) || signature.contains(&i) {
                    continue;
                }
                let original = d[i];
                for byte in [0x00, 0xFF, 0x80, original ^ 0x01] {
                    let mut m = d.clone();
                    m[i] = byte;
                    if let Some(c) = Certificate::parse(&m) {
                        touch_all(&c);
                    }
                }
            }
        }
    }

    fn fixture_ders() -> Vec<Vec<u8>> {
        [RSA_PEM, EC_PEM, V1_PEM, Q_PEM]
            .iter()
            .map(|p| der(p))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            if let Some(c) = Certificate::parse(&bytes) {
                touch_all(&c);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "(-----BEGIN CERTIFICATE-----)?[A-Za-z0-9+/=\\s]{0,200}") {
            if let Some(c) = Certificate::parse(text.as_bytes()) {
                touch_all(&c);
            }
        }

        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let mut d = fixture_ders().swap_remove(which);
            for (at, byte) in edits {
                let i = at.index(d.len());
                d[i] = byte;
            }
            if let Some(c) = Certificate::parse(&d) {
                touch_all(&c);
            }
        }

        #[test]
        fn truncated_fixtures_are_rejected(which in 0usize..4, at in any::<prop::sample::Index>()) {
            let d = fixture_ders().swap_remove(which);
            let cut = at.index(d.len());
            prop_assert!(Certificate::parse(&d[..cut]).is_none());
        }

        #[test]
        fn mutated_then_truncated_never_panic(
            which in 0usize..4,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            keep in any::<prop::sample::Index>(),
        ) {
            let mut d = fixture_ders().swap_remove(which);
            let i = at.index(d.len());
            d[i] = byte;
            let keep = keep.index(d.len() + 1);
            if let Some(c) = Certificate::parse(&d[..keep]) {
                touch_all(&c);
            }
        }
    }
}
