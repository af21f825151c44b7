//! LDIF (RFC 2849) reader and writer.
//!
//! LDIF is the text form in which the file connector, the demo sample directory and the test
//! fixtures describe directory objects, and in which `hybridsync rules test --ldif FILE` reads an
//! object. [`read`] turns a file into [`Record`]s: content records (an object as it is) and change
//! records (`changetype: add | delete | modify | modrdn | moddn`). [`read_entries`] keeps only
//! objects. [`write()`], [`write_entries`] and [`write_entry`] produce LDIF that any RFC 2849
//! reader accepts.
//!
//! Invariants:
//!
//! - **The reader never panics and never recurses**, whatever the input. Every problem is an
//!   [`LdifError`]: the 1-based number of the line where the offending (possibly folded) line
//!   starts, and a message an administrator can act on (`line 12: 'objectClass' has no ':' ...`).
//!   The first problem stops the read; nothing is returned half-read.
//! - **Accepted**: an optional UTF-8 byte-order mark; LF or CRLF line ends; an optional leading
//!   `version: 1`; comments (`#` at the start of a line, folded comments included); folded lines
//!   (a line starting with one space continues the previous line, that one space is removed);
//!   blank lines between records (empty, or only spaces and tabs where no line is open to be
//!   continued); `name: text`, `name:: base64` and `name:< file:///path` (read only when
//!   [`ReadOptions::allow_file_urls`] says so); attribute options kept as part of the name
//!   (`userCertificate;binary`). Lenient where it is harmless: UTF-8 text in plain values (RFC 2849
//!   wants base64 for non-ASCII), base64 with or without `=` padding and with trailing blanks, a
//!   `-` line with trailing blanks, a missing final `-` at the end of a modify record, and names
//!   and keywords (`changetype: Modify`, `ADD: cn`) in any letter case.
//! - **Not accepted**: LDAP controls (`control:` lines), URLs other than `file://`, attribute names
//!   other than letters, digits, `-` and `.` (with `;options`), and any other deviation from RFC
//!   2849's grammar; each is an error naming the line.
//! - **Values are bytes**: a text value is its UTF-8 bytes, a binary value (`objectGUID`,
//!   `objectSid`, certificates) stays exactly as it was. DNs, new RDNs and new superiors are text.
//! - **Round trip**: `read(&write(&records), &opts)` gives `records` back, and
//!   `read_entries(&write_entries(&entries))` gives `entries` back, up to the `line` fields (the
//!   reader sets them to where each record starts in the text it read), for every record in the
//!   form the reader produces: attribute names valid ([`is_valid_attribute_name`]), entry
//!   attributes with distinct names (ASCII case-insensitive, as [`Entry::push`] keeps them) and at
//!   least one value each, and no entry attribute named `dn`, `changetype` or `control`. Values,
//!   DNs, RDNs and superiors may be anything: the writer base64-encodes whatever RFC 2849's
//!   `SAFE-STRING` cannot carry (and values ending in a space), and folds lines at 76 bytes.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::DecodeError;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// Longest physical line the writer produces, in bytes (RFC 2849 recommends folding at 76).
const MAX_LINE: usize = 76;

/// How many characters of an offending line an error message quotes.
const SHOWN_CHARS: usize = 60;

/// A problem in LDIF text: where it is and what is wrong, for an administrator to fix.
///
/// Displays as `line 12: 'objectClass' has no ':' (...)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LdifError {
    /// 1-based number of the line where the offending line starts (the first physical line of
    /// a folded line).
    pub line: usize,
    /// What is wrong, in words an administrator can act on.
    pub message: String,
}

impl LdifError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// One attribute of an entry, or the attribute a modify change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute description as written, options included (`userCertificate;binary`).
    pub name: String,
    /// The values as raw bytes, in file order; a text value is its UTF-8 bytes.
    pub values: Vec<Vec<u8>>,
}

impl Attribute {
    /// An attribute with these values.
    pub fn new(name: impl Into<String>, values: Vec<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            values,
        }
    }
}

/// A directory object: its DN and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The distinguished name, as written (not normalised).
    pub dn: String,
    /// The attributes in the order they first appear; lines with the same name (compared
    /// ASCII-case-insensitively) are merged into one attribute, spelled as first seen.
    pub attributes: Vec<Attribute>,
    /// 1-based line of the record's `dn:` line; 0 for an entry that was not read from text.
    /// The writer ignores it.
    pub line: usize,
}

impl Entry {
    /// An entry with no attributes yet, not read from any text (`line` 0).
    pub fn new(dn: impl Into<String>) -> Self {
        Self {
            dn: dn.into(),
            attributes: Vec::new(),
            line: 0,
        }
    }

    /// The attribute with this name, compared ASCII-case-insensitively (options included:
    /// `cn` and `cn;lang-en` are different attributes).
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The first value of the attribute `name` as text, or `None` when the attribute is absent,
    /// has no value, or its first value is not valid UTF-8.
    pub fn text(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.get(name)?.values.first()?).ok()
    }

    /// Adds a value to the attribute `name` (compared ASCII-case-insensitively), creating the
    /// attribute at the end when it is absent. This keeps the entry in the form the reader
    /// produces.
    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        let value = value.into();
        match self
            .attributes
            .iter_mut()
            .find(|a| a.name.eq_ignore_ascii_case(name))
        {
            Some(attribute) => attribute.values.push(value),
            None => self.attributes.push(Attribute::new(name, vec![value])),
        }
    }
}

/// One modification of a `changetype: modify` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `add: name`: add these values.
    Add(Attribute),
    /// `delete: name`: delete these values; with no values, delete the whole attribute.
    Delete(Attribute),
    /// `replace: name`: replace all values with these; with no values, remove the attribute.
    Replace(Attribute),
}

impl Change {
    /// The attribute this change is about.
    pub fn attribute(&self) -> &Attribute {
        match self {
            Change::Add(a) | Change::Delete(a) | Change::Replace(a) => a,
        }
    }

    fn keyword(&self) -> &'static str {
        match self {
            Change::Add(_) => "add",
            Change::Delete(_) => "delete",
            Change::Replace(_) => "replace",
        }
    }
}

/// One LDIF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A content record: an object as it is (no `changetype:`).
    Content(Entry),
    /// `changetype: add`: create this object.
    Add(Entry),
    /// `changetype: delete`: delete the object `dn`.
    Delete {
        /// The object to delete.
        dn: String,
        /// 1-based line of the record's `dn:` line (0 when not read from text).
        line: usize,
    },
    /// `changetype: modify`: apply these changes, in order, to the object `dn`.
    Modify {
        /// The object to modify.
        dn: String,
        /// The changes, in file order.
        changes: Vec<Change>,
        /// 1-based line of the record's `dn:` line (0 when not read from text).
        line: usize,
    },
    /// `changetype: modrdn` or `moddn` (synonyms): rename and/or move the object `dn`.
    ModRdn {
        /// The object to rename.
        dn: String,
        /// Its new RDN (`newrdn:`).
        new_rdn: String,
        /// Whether the old RDN values are removed from the object (`deleteoldrdn: 1`).
        delete_old_rdn: bool,
        /// The new parent (`newsuperior:`), when the object moves.
        new_superior: Option<String>,
        /// 1-based line of the record's `dn:` line (0 when not read from text).
        line: usize,
    },
}

impl Record {
    /// The DN the record is about.
    pub fn dn(&self) -> &str {
        match self {
            Record::Content(e) | Record::Add(e) => &e.dn,
            Record::Delete { dn, .. } | Record::Modify { dn, .. } | Record::ModRdn { dn, .. } => dn,
        }
    }

    /// 1-based line of the record's `dn:` line (0 when not read from text).
    pub fn line(&self) -> usize {
        match self {
            Record::Content(e) | Record::Add(e) => e.line,
            Record::Delete { line, .. }
            | Record::Modify { line, .. }
            | Record::ModRdn { line, .. } => *line,
        }
    }
}

/// What the reader may do beyond parsing the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read `name:< file:///path` values from the local file system (regular files only). When
    /// false (the default), such a value is an error saying URL values are not read.
    pub allow_file_urls: bool,
}

/// Whether `name` is an attribute description the reader accepts: a type made of ASCII letters,
/// digits, `-` and `.` (a name like `sAMAccountName` or an OID like `2.5.4.3`), then any number
/// of `;option`s made of letters, digits and `-` (`userCertificate;binary`, `cn;lang-ja`).
pub fn is_valid_attribute_name(name: &str) -> bool {
    let mut parts = name.split(';');
    let type_ok = parts.next().is_some_and(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    });
    type_ok
        && parts.all(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

// ------------------------------------------------------------------------------------------
// Reading
// ------------------------------------------------------------------------------------------

/// Reads every record of an LDIF text: all of them, or the first error.
pub fn read(text: &str, opts: &ReadOptions) -> Result<Vec<Record>, LdifError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader {
        opts,
        records: Vec::new(),
        seen_first: false,
    };
    // The logical lines (folding undone, comments dropped) of the record being gathered.
    let mut group: Vec<Line> = Vec::new();
    // The logical line being unfolded, which may still be continued.
    let mut open: Option<Line> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix(' ') {
            if let Some(line) = open.as_mut() {
                line.text.push_str(rest);
                continue;
            }
            if !is_blank(raw) {
                return Err(LdifError::at(
                    number,
                    "a continuation line (starting with a space) has no line before it to \
                     continue",
                ));
            }
        }
        if let Some(line) = open.take().filter(|l| !l.is_comment()) {
            group.push(line);
        }
        if is_blank(raw) {
            reader.finish_group(&mut group)?;
        } else {
            open = Some(Line {
                number,
                text: raw.to_owned(),
            });
        }
    }
    if let Some(line) = open.take().filter(|l| !l.is_comment()) {
        group.push(line);
    }
    reader.finish_group(&mut group)?;
    Ok(reader.records)
}

/// Reads the objects of an LDIF text: content records and `changetype: add` records, as
/// entries. Any other change record is an error at its `dn:` line. File URLs are not read.
pub fn read_entries(text: &str) -> Result<Vec<Entry>, LdifError> {
    read_entries_with(text, &ReadOptions::default())
}

/// [`read_entries`] with options (for instance to allow `file://` values).
pub fn read_entries_with(text: &str, opts: &ReadOptions) -> Result<Vec<Entry>, LdifError> {
    read(text, opts)?
        .into_iter()
        .map(|record| match record {
            Record::Content(entry) | Record::Add(entry) => Ok(entry),
            Record::Delete { line, .. } => Err(not_an_entry(line, "delete")),
            Record::Modify { line, .. } => Err(not_an_entry(line, "modify")),
            Record::ModRdn { line, .. } => Err(not_an_entry(line, "modrdn")),
        })
        .collect()
}

fn not_an_entry(line: usize, changetype: &str) -> LdifError {
    LdifError::at(
        line,
        format!(
            "a 'changetype: {changetype}' record where objects are expected (only content records \
             and 'changetype: add' records are accepted here)"
        ),
    )
}

/// A logical line: folding undone, with the number of its first physical line.
struct Line {
    number: usize,
    text: String,
}

impl Line {
    fn is_comment(&self) -> bool {
        self.text.starts_with('#')
    }

    /// Whether this is a `-` line (the end of a modify block); trailing blanks are tolerated.
    fn is_dash(&self) -> bool {
        self.text.trim_end_matches([' ', '\t']) == "-"
    }

    fn error(&self, message: impl Into<String>) -> LdifError {
        LdifError::at(self.number, message)
    }
}

fn is_blank(raw: &str) -> bool {
    raw.bytes().all(|b| b == b' ' || b == b'\t')
}

/// The start of `text`, for quoting in an error message.
fn shown(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// How a value is written after the attribute name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `name: text`
    Text,
    /// `name:: base64`
    Base64,
    /// `name:< url`
    Url,
}

/// A logical line split into its name, its kind of value and the value as written.
struct Spec<'a> {
    name: &'a str,
    kind: Kind,
    raw: &'a str,
}

impl Spec<'_> {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

fn split(line: &Line) -> Result<Spec<'_>, LdifError> {
    let Some((name, after)) = line.text.split_once(':') else {
        return Err(line.error(format!(
            "'{}' has no ':' (expected 'name: value', 'name:: base64' or 'name:< file:///path')",
            shown(&line.text)
        )));
    };
    if name.is_empty() {
        return Err(line.error("':' with no attribute name before it"));
    }
    if !is_valid_attribute_name(name) {
        return Err(line.error(format!(
            "'{}' is not a valid attribute name (letters, digits and '-', options after ';')",
            shown(name)
        )));
    }
    let (kind, raw) = if let Some(rest) = after.strip_prefix(':') {
        (Kind::Base64, rest)
    } else if let Some(rest) = after.strip_prefix('<') {
        (Kind::Url, rest)
    } else {
        (Kind::Text, after)
    };
    Ok(Spec {
        name,
        kind,
        raw: raw.trim_start_matches(' '),
    })
}

fn decode(line: &Line, spec: &Spec<'_>, opts: &ReadOptions) -> Result<Vec<u8>, LdifError> {
    match spec.kind {
        Kind::Text => Ok(spec.raw.as_bytes().to_vec()),
        Kind::Base64 => {
            let encoded = spec.raw.trim_end_matches([' ', '\t']);
            STANDARD_PAD_INDIFFERENT.decode(encoded).map_err(|e| {
                line.error(format!(
                    "'{}' has an invalid base64 value after '::': {}",
                    spec.name,
                    describe_base64_error(&e)
                ))
            })
        }
        Kind::Url => read_url(
            line,
            spec.name,
            spec.raw.trim_end_matches([' ', '\t']),
            opts,
        ),
    }
}

fn describe_base64_error(error: &DecodeError) -> String {
    match *error {
        DecodeError::InvalidByte(offset, b'=') => {
            format!(
                "misplaced '=' padding at position {}",
                offset.saturating_add(1)
            )
        }
        DecodeError::InvalidByte(offset, byte) => {
            let what = if byte.is_ascii_graphic() {
                format!("'{}'", char::from(byte))
            } else if byte == b' ' {
                "a space".to_owned()
            } else {
                format!("byte 0x{byte:02x}")
            };
            format!(
                "{what} at position {} is not a base64 character",
                offset.saturating_add(1)
            )
        }
        DecodeError::InvalidLength(_) => {
            "its length does not fit base64 (is the value cut short?)".to_owned()
        }
        DecodeError::InvalidLastSymbol { .. } => {
            "its last character does not fit base64 (is the value cut short?)".to_owned()
        }
        DecodeError::InvalidPadding => "the '=' padding is wrong".to_owned(),
    }
}

fn text_value(line: &Line, spec: &Spec<'_>, opts: &ReadOptions) -> Result<String, LdifError> {
    String::from_utf8(decode(line, spec, opts)?).map_err(|_| {
        line.error(format!(
            "the value of '{}' is not valid UTF-8 text",
            spec.name
        ))
    })
}

/// Reads the value of `name:< url`, when the caller allows it.
fn read_url(line: &Line, name: &str, url: &str, opts: &ReadOptions) -> Result<Vec<u8>, LdifError> {
    if !opts.allow_file_urls {
        return Err(line.error(format!(
            "'{name}' takes its value from the URL '{}', and URL values are not read here",
            shown(url)
        )));
    }
    let unsupported = || {
        line.error(format!(
            "'{name}' refers to '{}'; only absolute file:/// URLs are supported",
            shown(url)
        ))
    };
    let scheme_ok = url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("file://"));
    let rest = url.get(7..).filter(|_| scheme_ok).ok_or_else(unsupported)?;
    let path = if rest.starts_with('/') {
        rest
    } else {
        let host_ok = rest
            .get(..10)
            .is_some_and(|h| h.eq_ignore_ascii_case("localhost/"));
        rest.get(9..).filter(|_| host_ok).ok_or_else(unsupported)?
    };
    let path = percent_decode(path).ok_or_else(|| {
        line.error(format!(
            "'{name}' refers to '{}', which has an invalid %-escape",
            shown(url)
        ))
    })?;
    let path = path_from_bytes(path);
    let shown_path = path.display().to_string();
    let metadata = std::fs::metadata(&path).map_err(|e| {
        line.error(format!(
            "'{name}' refers to '{shown_path}', which cannot be read: {e}"
        ))
    })?;
    if !metadata.is_file() {
        return Err(line.error(format!(
            "'{name}' refers to '{shown_path}', which is not a regular file"
        )));
    }
    std::fs::read(&path).map_err(|e| {
        line.error(format!(
            "'{name}' refers to '{shown_path}', which cannot be read: {e}"
        ))
    })
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let high = hex_digit(bytes.next()?)?;
            let low = hex_digit(bytes.next()?)?;
            out.push(high * 16 + low);
        } else {
            out.push(byte);
        }
    }
    Some(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// Turns groups of logical lines (one per record) into records.
struct Reader<'o> {
    opts: &'o ReadOptions,
    records: Vec<Record>,
    /// Whether a non-empty group was seen (only the first may open with `version:`).
    seen_first: bool,
}

impl Reader<'_> {
    /// Parses the gathered group, if any, and empties it.
    fn finish_group(&mut self, group: &mut Vec<Line>) -> Result<(), LdifError> {
        let lines = std::mem::take(group);
        let mut lines: &[Line] = &lines;
        if lines.is_empty() {
            return Ok(());
        }
        if !self.seen_first {
            self.seen_first = true;
            lines = self.skip_version(lines)?;
        }
        if let Some((first, rest)) = lines.split_first() {
            let record = parse_record(first, rest, self.opts)?;
            self.records.push(record);
        }
        Ok(())
    }

    /// Checks and skips a leading `version:` line.
    fn skip_version<'l>(&self, lines: &'l [Line]) -> Result<&'l [Line], LdifError> {
        let Some((first, rest)) = lines.split_first() else {
            return Ok(lines);
        };
        if first.is_dash() {
            return Ok(lines);
        }
        let spec = split(first)?;
        if !spec.is("version") {
            return Ok(lines);
        }
        let version = text_value(first, &spec, self.opts)?;
        if version.trim_end() != "1" {
            return Err(first.error(format!(
                "unsupported LDIF version '{}' (only 'version: 1' exists)",
                shown(&version)
            )));
        }
        Ok(rest)
    }
}

fn dash_outside_modify(line: &Line) -> LdifError {
    line.error("'-' outside a modify block (only 'changetype: modify' records use '-' lines)")
}

fn second_dn(line: &Line) -> LdifError {
    line.error(
        "a second 'dn:' in one record (separate records with an empty line; a line of only \
         spaces continues the line before it)",
    )
}

fn controls_unsupported(line: &Line) -> LdifError {
    line.error("LDAP controls ('control:' lines) are not supported")
}

/// Parses one record: `first` should be its `dn:` line.
fn parse_record(first: &Line, rest: &[Line], opts: &ReadOptions) -> Result<Record, LdifError> {
    if first.is_dash() {
        return Err(dash_outside_modify(first));
    }
    let spec = split(first)?;
    if spec.is("version") {
        return Err(first.error("'version:' may only appear once, at the start of the file"));
    }
    if !spec.is("dn") {
        return Err(first.error(format!(
            "'{}' comes before 'dn:' (every record starts with a 'dn:' line)",
            spec.name
        )));
    }
    let dn = text_value(first, &spec, opts)?;
    let line = first.number;
    let Some((second, tail)) = rest.split_first() else {
        return Ok(Record::Content(Entry {
            dn,
            attributes: Vec::new(),
            line,
        }));
    };
    if second.is_dash() {
        return Err(dash_outside_modify(second));
    }
    let spec = split(second)?;
    if spec.is("control") {
        return Err(controls_unsupported(second));
    }
    if !spec.is("changetype") {
        let attributes = collect_attributes(rest, opts)?;
        return Ok(Record::Content(Entry {
            dn,
            attributes,
            line,
        }));
    }
    let changetype = text_value(second, &spec, opts)?;
    let changetype = changetype.trim_end();
    match changetype.to_ascii_lowercase().as_str() {
        "add" => Ok(Record::Add(Entry {
            dn,
            attributes: collect_attributes(tail, opts)?,
            line,
        })),
        "delete" => match tail.first() {
            Some(extra) => Err(extra.error(format!(
                "'{}' after 'changetype: delete' (a delete record has nothing after \
                 'changetype:')",
                shown(&extra.text)
            ))),
            None => Ok(Record::Delete { dn, line }),
        },
        "modify" => Ok(Record::Modify {
            dn,
            changes: parse_changes(tail, opts)?,
            line,
        }),
        "modrdn" | "moddn" => parse_modrdn(dn, line, second, changetype, tail, opts),
        _ => Err(second.error(format!(
            "unknown changetype '{}' (expected add, delete, modify, modrdn or moddn)",
            shown(changetype)
        ))),
    }
}

/// The attribute lines of a content or add record, merged by name.
fn collect_attributes(lines: &[Line], opts: &ReadOptions) -> Result<Vec<Attribute>, LdifError> {
    let mut attributes: Vec<Attribute> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for line in lines {
        if line.is_dash() {
            return Err(dash_outside_modify(line));
        }
        let spec = split(line)?;
        if spec.is("dn") {
            return Err(second_dn(line));
        }
        if spec.is("changetype") {
            return Err(line.error("'changetype:' must come right after 'dn:'"));
        }
        if spec.is("control") {
            return Err(controls_unsupported(line));
        }
        let value = decode(line, &spec, opts)?;
        let key = spec.name.to_ascii_lowercase();
        match index.get(&key).and_then(|&i| attributes.get_mut(i)) {
            Some(attribute) => attribute.values.push(value),
            None => {
                index.insert(key, attributes.len());
                attributes.push(Attribute::new(spec.name, vec![value]));
            }
        }
    }
    Ok(attributes)
}

/// The `add:` / `delete:` / `replace:` blocks of a modify record.
fn parse_changes(lines: &[Line], opts: &ReadOptions) -> Result<Vec<Change>, LdifError> {
    let mut changes = Vec::new();
    let mut open: Option<Change> = None;
    for line in lines {
        if line.is_dash() {
            match open.take() {
                Some(change) => changes.push(change),
                None => return Err(dash_outside_modify(line)),
            }
            continue;
        }
        let spec = split(line)?;
        if let Some(change) = open.as_mut() {
            let keyword = change.keyword();
            let attribute = match change {
                Change::Add(a) | Change::Delete(a) | Change::Replace(a) => a,
            };
            if spec.is(&attribute.name) {
                attribute.values.push(decode(line, &spec, opts)?);
                continue;
            }
            let message = if spec.is("add") || spec.is("delete") || spec.is("replace") {
                format!(
                    "'{}:' starts a new change, but the '{keyword}: {}' block before it has no \
                     closing '-'",
                    spec.name, attribute.name
                )
            } else {
                format!(
                    "'{}' inside the '{keyword}: {}' block (expected '{}' values or a '-' line)",
                    spec.name, attribute.name, attribute.name
                )
            };
            return Err(line.error(message));
        }
        let make: fn(Attribute) -> Change = if spec.is("add") {
            Change::Add
        } else if spec.is("delete") {
            Change::Delete
        } else if spec.is("replace") {
            Change::Replace
        } else if spec.is("dn") {
            return Err(second_dn(line));
        } else {
            return Err(line.error(format!(
                "expected 'add:', 'delete:' or 'replace:' in a modify record, found '{}'",
                spec.name
            )));
        };
        let name = text_value(line, &spec, opts)?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_valid_attribute_name(name) {
            return Err(line.error(format!(
                "'{}:' names '{}', which is not a valid attribute name",
                spec.name.to_ascii_lowercase(),
                shown(name)
            )));
        }
        open = Some(make(Attribute::new(name, Vec::new())));
    }
    // RFC 2849 ends every block with '-'; a missing one at the end of the record is tolerated.
    changes.extend(open);
    Ok(changes)
}

/// The `newrdn:`, `deleteoldrdn:` and optional `newsuperior:` lines of a modrdn record.
fn parse_modrdn(
    dn: String,
    line: usize,
    changetype_line: &Line,
    changetype: &str,
    lines: &[Line],
    opts: &ReadOptions,
) -> Result<Record, LdifError> {
    let mut lines = lines.iter();

    let Some(rdn_line) = lines.next() else {
        return Err(changetype_line.error(format!(
            "'changetype: {changetype}' must be followed by a 'newrdn:' line"
        )));
    };
    let spec = split_not_dash(rdn_line)?;
    if !spec.is("newrdn") {
        return Err(rdn_line.error(format!(
            "expected 'newrdn:' after 'changetype: {changetype}', found '{}'",
            spec.name
        )));
    }
    let new_rdn = text_value(rdn_line, &spec, opts)?;

    let Some(delete_line) = lines.next() else {
        return Err(rdn_line.error("'newrdn:' must be followed by 'deleteoldrdn: 0' or '1'"));
    };
    let spec = split_not_dash(delete_line)?;
    if !spec.is("deleteoldrdn") {
        return Err(delete_line.error(format!(
            "expected 'deleteoldrdn: 0' or '1' after 'newrdn:', found '{}'",
            spec.name
        )));
    }
    let delete_old_rdn = match text_value(delete_line, &spec, opts)?.trim_end() {
        "0" => false,
        "1" => true,
        other => {
            return Err(delete_line.error(format!(
                "'deleteoldrdn' must be 0 or 1, found '{}'",
                shown(other)
            )));
        }
    };

    let mut new_superior = None;
    if let Some(superior_line) = lines.next() {
        let spec = split_not_dash(superior_line)?;
        if !spec.is("newsuperior") {
            return Err(superior_line.error(format!(
                "unexpected '{}' in a 'changetype: {changetype}' record (only 'newsuperior:' may \
                 follow 'deleteoldrdn:')",
                spec.name
            )));
        }
        new_superior = Some(text_value(superior_line, &spec, opts)?);
    }
    if let Some(extra) = lines.next() {
        return Err(extra.error(format!(
            "'{}' after 'newsuperior:' (a '{changetype}' record ends there)",
            shown(&extra.text)
        )));
    }
    Ok(Record::ModRdn {
        dn,
        new_rdn,
        delete_old_rdn,
        new_superior,
        line,
    })
}

fn split_not_dash(line: &Line) -> Result<Spec<'_>, LdifError> {
    if line.is_dash() {
        return Err(dash_outside_modify(line));
    }
    split(line)
}

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------

/// Writes records as an LDIF file: `version: 1`, then each record after a blank line.
///
/// Values are written as text when RFC 2849's `SAFE-STRING` allows it, base64 otherwise; lines
/// are folded at 76 bytes; line ends are LF. Change records are written with `changetype:`;
/// [`Record::ModRdn`] as `changetype: modrdn`.
pub fn write(records: &[Record]) -> String {
    let mut out = String::from("version: 1\n");
    for record in records {
        out.push('\n');
        push_record(&mut out, record);
    }
    out
}

/// Writes entries as an LDIF file of content records: `version: 1`, then each entry after a
/// blank line.
pub fn write_entries(entries: &[Entry]) -> String {
    let mut out = String::from("version: 1\n");
    for entry in entries {
        out.push('\n');
        push_entry(&mut out, entry);
    }
    out
}

/// Writes one entry as a content record (its `dn:` line and attribute lines, each line ending
/// in LF), without `version:` or blank lines around it.
pub fn write_entry(entry: &Entry) -> String {
    let mut out = String::new();
    push_entry(&mut out, entry);
    out
}

fn push_record(out: &mut String, record: &Record) {
    match record {
        Record::Content(entry) => push_entry(out, entry),
        Record::Add(entry) => {
            push_value(out, "dn", entry.dn.as_bytes());
            push_folded(out, "changetype: add");
            push_attributes(out, &entry.attributes);
        }
        Record::Delete { dn, .. } => {
            push_value(out, "dn", dn.as_bytes());
            push_folded(out, "changetype: delete");
        }
        Record::Modify { dn, changes, .. } => {
            push_value(out, "dn", dn.as_bytes());
            push_folded(out, "changetype: modify");
            for change in changes {
                let attribute = change.attribute();
                push_folded(out, &format!("{}: {}", change.keyword(), attribute.name));
                for value in &attribute.values {
                    push_value(out, &attribute.name, value);
                }
                push_folded(out, "-");
            }
        }
        Record::ModRdn {
            dn,
            new_rdn,
            delete_old_rdn,
            new_superior,
            ..
        } => {
            push_value(out, "dn", dn.as_bytes());
            push_folded(out, "changetype: modrdn");
            push_value(out, "newrdn", new_rdn.as_bytes());
            push_folded(
                out,
                if *delete_old_rdn {
                    "deleteoldrdn: 1"
                } else {
                    "deleteoldrdn: 0"
                },
            );
            if let Some(superior) = new_superior {
                push_value(out, "newsuperior", superior.as_bytes());
            }
        }
    }
}

fn push_entry(out: &mut String, entry: &Entry) {
    push_value(out, "dn", entry.dn.as_bytes());
    push_attributes(out, &entry.attributes);
}

fn push_attributes(out: &mut String, attributes: &[Attribute]) {
    for attribute in attributes {
        for value in &attribute.values {
            push_value(out, &attribute.name, value);
        }
    }
}

/// Writes `name: value`, `name:: base64` or `name:` (empty value), folded.
fn push_value(out: &mut String, name: &str, value: &[u8]) {
    let line = if value.is_empty() {
        format!("{name}:")
    } else if let Some(text) = safe_string(value) {
        format!("{name}: {text}")
    } else {
        format!("{name}:: {}", STANDARD.encode(value))
    };
    push_folded(out, &line);
}

/// The value as text when it may be written as a plain value: ASCII without NUL, CR or LF, not
/// starting with a space, ':' or '<', not ending with a space (RFC 2849's `SAFE-STRING`, plus
/// its advice on trailing spaces).
fn safe_string(value: &[u8]) -> Option<&str> {
    let (first, last) = (value.first()?, value.last()?);
    if matches!(first, b' ' | b':' | b'<') || *last == b' ' {
        return None;
    }
    if value
        .iter()
        .any(|&b| matches!(b, 0 | b'\r' | b'\n') || !b.is_ascii())
    {
        return None;
    }
    std::str::from_utf8(value).ok()
}

/// Writes a logical line, folded so that no physical line exceeds [`MAX_LINE`] bytes (never
/// inside a UTF-8 character), and a LF.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > MAX_LINE {
            out.push_str("\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push('\n');
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_default(text: &str) -> Result<Vec<Record>, LdifError> {
        read(text, &ReadOptions::default())
    }

    /// The error message (with its line) that reading `text` produces.
    fn error_of(text: &str) -> String {
        match read_default(text) {
            Ok(records) => panic!("expected an error, read {records:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn values(entry: &Entry, name: &str) -> Vec<String> {
        entry
            .get(name)
            .map(|a| {
                a.values
                    .iter()
                    .map(|v| String::from_utf8(v.clone()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn content(record: &Record) -> &Entry {
        match record {
            Record::Content(e) => e,
            other => panic!("expected a content record, got {other:?}"),
        }
    }

    /// A record with its `line` set to 0, for comparisons that ignore where it was read.
    fn unlined(record: Record) -> Record {
        match record {
            Record::Content(e) => Record::Content(Entry { line: 0, ..e }),
            Record::Add(e) => Record::Add(Entry { line: 0, ..e }),
            Record::Delete { dn, .. } => Record::Delete { dn, line: 0 },
            Record::Modify { dn, changes, .. } => Record::Modify {
                dn,
                changes,
                line: 0,
            },
            Record::ModRdn {
                dn,
                new_rdn,
                delete_old_rdn,
                new_superior,
                ..
            } => Record::ModRdn {
                dn,
                new_rdn,
                delete_old_rdn,
                new_superior,
                line: 0,
            },
        }
    }

    /// A scratch file that is removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(tag: &str, contents: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("ldif-test-{}-{tag}.bin", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
        fn url(&self) -> String {
            format!("file://{}", self.0.display())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    // ---- RFC 2849's examples --------------------------------------------------------------

    const RFC_EXAMPLE_1: &str = "\
version: 1
dn: cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com
objectclass: top
objectclass: person
objectclass: organizationalPerson
cn: Barbara Jensen
cn: Barbara J Jensen
cn: Babs Jensen
sn: Jensen
uid: bjensen
telephonenumber: +1 408 555 1212
description: A big sailing fan.

dn: cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com
objectclass: top
objectclass: person
objectclass: organizationalPerson
cn: Bjorn Jensen
sn: Jensen
telephonenumber: +1 408 555 1212
";

    #[test]
    fn rfc_example_1_two_content_records() {
        let records = read_default(RFC_EXAMPLE_1).unwrap();
        assert_eq!(records.len(), 2);
        let barbara = content(&records[0]);
        assert_eq!(
            barbara.dn,
            "cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com"
        );
        assert_eq!(barbara.line, 2);
        assert_eq!(
            values(barbara, "objectClass"),
            ["top", "person", "organizationalPerson"]
        );
        assert_eq!(
            values(barbara, "cn"),
            ["Barbara Jensen", "Barbara J Jensen", "Babs Jensen"]
        );
        assert_eq!(barbara.text("telephoneNumber"), Some("+1 408 555 1212"));
        assert_eq!(barbara.text("description"), Some("A big sailing fan."));
        let names: Vec<&str> = barbara.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "objectclass",
                "cn",
                "sn",
                "uid",
                "telephonenumber",
                "description"
            ],
            "file order, same name merged, spelled as written"
        );
        let bjorn = content(&records[1]);
        assert_eq!(
            bjorn.dn,
            "cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com"
        );
        assert_eq!(bjorn.line, 14);
        assert_eq!(bjorn.attributes.len(), 4);
        assert_eq!(read_entries(RFC_EXAMPLE_1).unwrap().len(), 2);
    }

    #[test]
    fn rfc_example_2_folded_value_and_no_fill() {
        let text = "\
version: 1
dn:cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com
objectclass:top
objectclass:person
objectclass:organizationalPerson
cn:Barbara Jensen
cn:Barbara J Jensen
cn:Babs Jensen
sn:Jensen
uid:bjensen
telephonenumber:+1 408 555 1212
description:Babs is a big sailing fan, and travels extensively in sea
 rch of perfect sailing conditions.
title:Product Manager, Rod and Reel Division
";
        let entries = read_entries(text).unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(
            e.dn,
            "cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com"
        );
        assert_eq!(
            e.text("description"),
            Some(
                "Babs is a big sailing fan, and travels extensively in search of perfect \
                 sailing conditions."
            )
        );
        assert_eq!(
            e.text("title"),
            Some("Product Manager, Rod and Reel Division")
        );
        assert_eq!(values(e, "cn").len(), 3);
    }

    #[test]
    fn rfc_example_3_base64_value_with_cr() {
        let text = "\
version: 1
dn: cn=Gern Jensen, ou=Product Testing, dc=airius, dc=com
objectclass: top
objectclass: person
objectclass: organizationalPerson
cn: Gern Jensen
cn: Gern O Jensen
sn: Jensen
uid: gernj
telephonenumber: +1 408 555 1212
description:: V2hhdCBhIGNhcmVmdWwgcmVhZGVyIHlvdSBhcmUhICBUaGlzIHZhbHVl
 IGlzIGJhc2UtNjQtZW5jb2RlZCBiZWNhdXNlIGl0IGhhcyBhIGNvbnRyb2wgY2hhcmFjdG
 VyIGluIGl0IChhIENSKS4NICBCeSB0aGUgd2F5LCB5b3Ugc2hvdWxkIHJlYWxseSBnZXQg
 b3V0IG1vcmUu
";
        let entries = read_entries(text).unwrap();
        assert_eq!(
            entries[0].text("description"),
            Some(
                "What a careful reader you are!  This value is base-64-encoded because it has a \
                 control character in it (a CR).\r  By the way, you should really get out more."
            )
        );
        // Written back, the CR forces base64 again.
        let written = write_entries(&entries);
        assert!(written.contains("description:: V2hhdCBh"), "{written}");
    }

    #[test]
    fn rfc_example_4_utf8_values_options_and_folded_comments() {
        let text = "\
version: 1
dn:: b3U95Za25qWt6YOoLG89QWlyaXVz
# dn:: ou=<JapaneseOU>,o=Airius
objectclass: top
objectclass: organizationalUnit
ou:: 5Za25qWt6YOo
# ou:: <JapaneseOU>
ou;lang-ja:: 5Za25qWt6YOo
# ou;lang-ja:: <JapaneseOU>
ou;lang-ja;phonetic:: 44GI44GE44GO44KH44GG44G2
# ou;lang-ja:: <JapaneseOU_in_phonetic_representation>
ou;lang-en: Sales
description: Japanese office

dn:: dWlkPXJvZ2FzYXdhcmEsb3U95Za25qWt6YOoLG89QWlyaXVz
# dn:: uid=<uid>,ou=<JapaneseOU>,o=Airius
userpassword: {SHA}O3HSv1MusyL4kTjP+HKI5uxuNoM=
objectclass: top
objectclass: person
objectclass: organizationalPerson
objectclass: inetOrgPerson
uid: rogasawara
mail: rogasawara@airius.co.jp
givenname;lang-ja:: 44Ot44OJ44OL44O8
# givenname;lang-ja:: <JapaneseGivenname>
sn;lang-ja:: 5bCP56yg5Y6f
# sn;lang-ja:: <JapaneseSn>
cn;lang-ja:: 5bCP56yg5Y6fIOODreODieODi+ODvA==
# cn;lang-ja:: <JapaneseCn>
title;lang-ja:: 5Za25qWt6YOoIOmDqOmVtw==
# title;lang-ja:: <JapaneseTitle>
preferredlanguage: ja
givenname:: 44Ot44OJ44OL44O8
# givenname:: <JapaneseGivenname>
sn:: 5bCP56yg5Y6f
# sn:: <JapaneseSn>
cn:: 5bCP56yg5Y6fIOODreODieODi+ODvA==
# cn:: <JapaneseCn>
title:: 5Za25qWt6YOoIOmDqOmVtw==
# title:: <JapaneseTitle>
givenname;lang-ja;phonetic:: 44KN44Gp44Gr44O8
# givenname;lang-ja;phonetic::
  <JapaneseGivenname_in_phonetic_representation_kana>
sn;lang-ja;phonetic:: 44GK44GM44GV44KP44KJ
# sn;lang-ja;phonetic:: <JapaneseSn_in_phonetic_representation_kana>
cn;lang-ja;phonetic:: 44GK44GM44GV44KP44KJIOOCjeOBqeOBq+ODvA==
# cn;lang-ja;phonetic:: <JapaneseCn_in_phonetic_representation_kana>
title;lang-ja;phonetic:: 44GI44GE44GO44KH44GG44G2IOOBtuOBoeOCh+OBhg==
# title;lang-ja;phonetic::
# <JapaneseTitle_in_phonetic_representation_kana>
givenname;lang-en: Rodney
sn;lang-en: Ogasawara
cn;lang-en: Rodney Ogasawara
title;lang-en: Sales, Director
";
        let entries = read_entries(text).unwrap();
        assert_eq!(entries.len(), 2);
        let ou = &entries[0];
        assert_eq!(ou.dn, "ou=営業部,o=Airius");
        assert_eq!(ou.text("ou"), Some("営業部"));
        assert_eq!(ou.text("OU;LANG-JA"), Some("営業部"));
        assert_eq!(ou.text("ou;lang-ja;phonetic"), Some("えいぎょうぶ"));
        assert_eq!(ou.text("ou;lang-en"), Some("Sales"));
        assert_eq!(ou.attributes.len(), 6);
        let person = &entries[1];
        assert_eq!(person.dn, "uid=rogasawara,ou=営業部,o=Airius");
        assert_eq!(person.line, 15);
        assert_eq!(
            person.text("userPassword"),
            Some("{SHA}O3HSv1MusyL4kTjP+HKI5uxuNoM=")
        );
        assert_eq!(person.text("givenname;lang-ja"), Some("ロドニー"));
        assert_eq!(person.text("cn"), Some("小笠原 ロドニー"));
        assert_eq!(person.text("givenname;lang-ja;phonetic"), Some("ろどにー"));
        assert_eq!(
            person.text("title;lang-ja;phonetic"),
            Some("えいぎょうぶ ぶちょう")
        );
        assert_eq!(person.text("title;lang-en"), Some("Sales, Director"));
        // The folded comment's second line is part of the comment, not an attribute.
        assert!(person.attributes.iter().all(|a| !a.name.contains('<')));

        // Written back: non-ASCII DN and values in base64, and read back unchanged.
        let written = write_entries(&entries);
        assert!(
            written.contains("\ndn:: b3U95Za25qWt6YOoLG89QWlyaXVz\n"),
            "{written}"
        );
        assert!(written.contains("\nou;lang-en: Sales\n"), "{written}");
        let back: Vec<Entry> = read_entries(&written)
            .unwrap()
            .into_iter()
            .map(|e| Entry { line: 0, ..e })
            .collect();
        let original: Vec<Entry> = entries
            .into_iter()
            .map(|e| Entry { line: 0, ..e })
            .collect();
        assert_eq!(back, original);
    }

    fn rfc_example_5(url: &str) -> String {
        format!(
            "\
version: 1
dn: cn=Horatio Jensen, ou=Product Testing, dc=airius, dc=com
objectclass: top
objectclass: person
objectclass: organizationalPerson
cn: Horatio Jensen
cn: Horatio N Jensen
sn: Jensen
uid: hjensen
telephonenumber: +1 408 555 1212
jpegphoto:< {url}
"
        )
    }

    #[test]
    fn rfc_example_5_file_url_refused_by_default() {
        let text = rfc_example_5("file:///usr/local/directory/photos/hjensen.jpg");
        assert_eq!(
            read_entries(&text).unwrap_err().to_string(),
            "line 11: 'jpegphoto' takes its value from the URL \
             'file:///usr/local/directory/photos/hjensen.jpg', and URL values are not read here"
        );
    }

    #[test]
    fn rfc_example_5_file_url_read_when_allowed() {
        let photo: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let file = TempFile::new("horatio", &photo);
        let allow = ReadOptions {
            allow_file_urls: true,
        };
        let entries = read_entries_with(&rfc_example_5(&file.url()), &allow).unwrap();
        assert_eq!(
            entries[0].get("jpegPhoto").unwrap().values,
            std::slice::from_ref(&photo)
        );
        // file://localhost/ and %-escapes are understood too.
        let escaped = file
            .url()
            .replacen("file://", "FILE://localhost", 1)
            .replace('-', "%2D");
        let entries = read_entries_with(&rfc_example_5(&escaped), &allow).unwrap();
        assert_eq!(entries[0].get("jpegPhoto").unwrap().values, [photo]);
    }

    #[test]
    fn file_url_problems_are_errors() {
        let allow = ReadOptions {
            allow_file_urls: true,
        };
        let one = |url: &str| {
            read(&format!("dn: cn=x\njpegPhoto:< {url}\n"), &allow)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            one("http://example.com/x.jpg"),
            "line 2: 'jpegPhoto' refers to 'http://example.com/x.jpg'; only absolute file:/// \
             URLs are supported"
        );
        assert_eq!(
            one("file://server/x.jpg"),
            "line 2: 'jpegPhoto' refers to 'file://server/x.jpg'; only absolute file:/// URLs are \
             supported"
        );
        assert_eq!(
            one("file:///tmp/%zz"),
            "line 2: 'jpegPhoto' refers to 'file:///tmp/%zz', which has an invalid %-escape"
        );
        assert_eq!(
            one("file:///"),
            "line 2: 'jpegPhoto' refers to '/', which is not a regular file"
        );
        let missing = one("file:///nonexistent/hybridsync/photo.jpg");
        assert!(
            missing.starts_with(
                "line 2: 'jpegPhoto' refers to '/nonexistent/hybridsync/photo.jpg', which cannot \
                 be read: "
            ),
            "{missing}"
        );
    }

    fn rfc_example_6(url: &str) -> String {
        format!(
            "\
version: 1
# Add a new entry
dn: cn=Fiona Jensen, ou=Marketing, dc=airius, dc=com
changetype: add
objectclass: top
objectclass: person
objectclass: organizationalPerson
cn: Fiona Jensen
sn: Jensen
uid: fiona
telephonenumber: +1 408 555 1212
jpegphoto:< {url}

# Delete an existing entry
dn: cn=Robert Jensen, ou=Marketing, dc=airius, dc=com
changetype: delete

# Modify an entry's relative distinguished name
dn: cn=Paul Jensen, ou=Product Development, dc=airius, dc=com
changetype: modrdn
newrdn: cn=Paula Jensen
deleteoldrdn: 1

# Rename an entry and move all of its children to a new location in
# the directory tree (only implemented by LDAPv3 servers).
dn: ou=PD Accountants, ou=Product Development, dc=airius, dc=com
changetype: modrdn
newrdn: ou=Product Development Accountants
deleteoldrdn: 0
newsuperior: ou=Accounting, dc=airius, dc=com

# Modify an entry: add an additional value to the postaladdress
# attribute, completely delete the description attribute, replace
# the telephonenumber attribute with two values, and delete a specific
# value from the facsimiletelephonenumber attribute
dn: cn=Paula Jensen, ou=Product Development, dc=airius, dc=com
changetype: modify
add: postaladdress
postaladdress: 123 Anystreet $ Sunnyvale, CA $ 94086
-
delete: description
-
replace: telephonenumber
telephonenumber: +1 408 555 1234
telephonenumber: +1 408 555 5678
-
delete: facsimiletelephonenumber
facsimiletelephonenumber: +1 408 555 9876
-

# Modify an entry: replace the postaladdress attribute with an empty
# set of values (which will cause the attribute to be removed), and
# delete the entire description attribute. Note that the first will
# always succeed, while the second will only succeed if at least
# one value for the description attribute is present.
dn: cn=Ingrid Jensen, ou=Product Support, dc=airius, dc=com
changetype: modify
replace: postaladdress
-
delete: description
-
"
        )
    }

    #[test]
    fn rfc_example_6_change_records() {
        let photo = b"\xff\xd8\xff\xe0 not really a JPEG".to_vec();
        let file = TempFile::new("fiona", &photo);
        let text = rfc_example_6(&file.url());
        let records = read(
            &text,
            &ReadOptions {
                allow_file_urls: true,
            },
        )
        .unwrap();
        let text_attr = |name: &str, vals: &[&str]| {
            Attribute::new(name, vals.iter().map(|v| v.as_bytes().to_vec()).collect())
        };
        let mut fiona = Entry::new("cn=Fiona Jensen, ou=Marketing, dc=airius, dc=com");
        fiona.line = 3;
        for (name, value) in [
            ("objectclass", "top"),
            ("objectclass", "person"),
            ("objectclass", "organizationalPerson"),
            ("cn", "Fiona Jensen"),
            ("sn", "Jensen"),
            ("uid", "fiona"),
            ("telephonenumber", "+1 408 555 1212"),
        ] {
            fiona.push(name, value);
        }
        fiona.push("jpegphoto", photo);
        let expected = vec![
            Record::Add(fiona),
            Record::Delete {
                dn: "cn=Robert Jensen, ou=Marketing, dc=airius, dc=com".into(),
                line: 15,
            },
            Record::ModRdn {
                dn: "cn=Paul Jensen, ou=Product Development, dc=airius, dc=com".into(),
                new_rdn: "cn=Paula Jensen".into(),
                delete_old_rdn: true,
                new_superior: None,
                line: 19,
            },
            Record::ModRdn {
                dn: "ou=PD Accountants, ou=Product Development, dc=airius, dc=com".into(),
                new_rdn: "ou=Product Development Accountants".into(),
                delete_old_rdn: false,
                new_superior: Some("ou=Accounting, dc=airius, dc=com".into()),
                line: 26,
            },
            Record::Modify {
                dn: "cn=Paula Jensen, ou=Product Development, dc=airius, dc=com".into(),
                changes: vec![
                    Change::Add(text_attr(
                        "postaladdress",
                        &["123 Anystreet $ Sunnyvale, CA $ 94086"],
                    )),
                    Change::Delete(text_attr("description", &[])),
                    Change::Replace(text_attr(
                        "telephonenumber",
                        &["+1 408 555 1234", "+1 408 555 5678"],
                    )),
                    Change::Delete(text_attr("facsimiletelephonenumber", &["+1 408 555 9876"])),
                ],
                line: 36,
            },
            Record::Modify {
                dn: "cn=Ingrid Jensen, ou=Product Support, dc=airius, dc=com".into(),
                changes: vec![
                    Change::Replace(text_attr("postaladdress", &[])),
                    Change::Delete(text_attr("description", &[])),
                ],
                line: 56,
            },
        ];
        assert_eq!(records, expected);
        assert_eq!(
            records[4].dn(),
            "cn=Paula Jensen, ou=Product Development, dc=airius, dc=com"
        );
        assert_eq!(records[4].line(), 36);

        // Written and read back: the same records.
        let back: Vec<Record> = read_default(&write(&records)).unwrap();
        let unlined_records: Vec<Record> = records.into_iter().map(unlined).collect();
        assert_eq!(
            back.into_iter().map(unlined).collect::<Vec<_>>(),
            unlined_records
        );

        // read_entries refuses the change records other than add.
        assert_eq!(
            read_entries_with(
                &text,
                &ReadOptions {
                    allow_file_urls: true
                }
            )
            .unwrap_err()
            .to_string(),
            "line 15: a 'changetype: delete' record where objects are expected (only content \
             records and 'changetype: add' records are accepted here)"
        );
    }

    #[test]
    fn rfc_example_7_controls_are_refused() {
        let text = "\
version: 1
# Delete an entry. The operation will attach the LDAPv3
# Tree Delete Control defined in [9]. The criticality
# field is \"true\" and the controlValue field is
# absent, as required by [9].
dn: ou=Product Development, dc=airius, dc=com
control: 1.2.840.113556.1.4.805 true
changetype: delete
";
        assert_eq!(
            error_of(text),
            "line 7: LDAP controls ('control:' lines) are not supported"
        );
    }

    // ---- Active Directory style entries -----------------------------------------------------

    fn sid_bytes() -> Vec<u8> {
        // S-1-5-21-1004336348-1177238915-682003330-1104
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1_004_336_348, 1_177_238_915, 682_003_330, 1104] {
            sid.extend_from_slice(&sub.to_le_bytes());
        }
        sid
    }

    const GUID: [u8; 16] = [
        0x4f, 0x1c, 0x9a, 0x0b, 0x00, 0x3d, 0x4c, 0x2a, 0x9e, 0x0a, 0x20, 0x0d, 0x3a, 0xfe, 0x0a,
        0x3c,
    ];

    fn ad_sample() -> String {
        format!(
            "\
# Exported from DC01 with ldifde-like settings
dn: CN=Smith\\, John,OU=Users,OU=Contoso,DC=contoso,DC=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Smith, John
sAMAccountName: jsmith
userPrincipalName: jsmith@contoso.com
objectGUID:: {guid}
objectSid:: {sid}
userAccountControl: 512
proxyAddresses: SMTP:john.smith@contoso.com
proxyAddresses: smtp:jsmith@contoso.com
proxyAddresses: X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/c
 n=Recipients/cn=jsmith
mail: john.smith@contoso.com

dn: CN=Sales\\, EMEA,OU=Groups,DC=contoso,DC=com
objectClass: top
objectClass: group
cn: Sales, EMEA
groupType: -2147483646
member: CN=Smith\\, John,OU=Users,OU=Contoso,DC=contoso,DC=com
member: CN=Doe\\, Jane,OU=Users,OU=Contoso,DC=contoso,DC=com
member: CN=O'Brien\\, Pat\\+Ops,OU=Users,OU=Contoso,DC=contoso,DC=com
",
            guid = STANDARD.encode(GUID),
            sid = STANDARD.encode(sid_bytes()),
        )
    }

    #[test]
    fn ad_entries_keep_binary_and_multi_values() {
        let entries = read_entries(&ad_sample()).unwrap();
        assert_eq!(entries.len(), 2);
        let user = &entries[0];
        assert_eq!(
            user.dn,
            "CN=Smith\\, John,OU=Users,OU=Contoso,DC=contoso,DC=com"
        );
        assert_eq!(user.line, 2);
        assert_eq!(user.get("objectguid").unwrap().values, [GUID.to_vec()]);
        assert_eq!(user.get("objectSid").unwrap().values, [sid_bytes()]);
        assert_eq!(
            user.text("objectGUID"),
            None,
            "binary GUID is not UTF-8 text"
        );
        assert_eq!(user.text("userAccountControl"), Some("512"));
        assert_eq!(user.text("cn"), Some("Smith, John"));
        assert_eq!(
            values(user, "proxyAddresses"),
            [
                "SMTP:john.smith@contoso.com",
                "smtp:jsmith@contoso.com",
                "X500:/o=Contoso/ou=Exchange Administrative Group \
                 (FYDIBOHF23SPDLT)/cn=Recipients/cn=jsmith",
            ]
        );
        let group = &entries[1];
        assert_eq!(group.line, 19);
        assert_eq!(group.text("groupType"), Some("-2147483646"));
        assert_eq!(
            values(group, "member"),
            [
                "CN=Smith\\, John,OU=Users,OU=Contoso,DC=contoso,DC=com",
                "CN=Doe\\, Jane,OU=Users,OU=Contoso,DC=contoso,DC=com",
                "CN=O'Brien\\, Pat\\+Ops,OU=Users,OU=Contoso,DC=contoso,DC=com",
            ]
        );

        let written = write_entry(user);
        assert!(
            written.starts_with("dn: CN=Smith\\, John,OU=Users,OU=Contoso,DC=contoso,DC=com\n")
        );
        assert!(written.contains(&format!("\nobjectGUID:: {}\n", STANDARD.encode(GUID))));
        assert!(written.contains("\nuserAccountControl: 512\n"));
        assert!(written.lines().all(|l| l.len() <= MAX_LINE), "{written}");
        let back = read_entries(&written).unwrap();
        assert_eq!(
            back,
            vec![Entry {
                line: 1,
                ..user.clone()
            }]
        );
    }

    #[test]
    fn crlf_bom_blank_lines_and_comments() {
        let text = "\u{feff}version: 1\r\n\r\n\r\n# a comment\r\n#  folded\r\n  comment\r\n\
                    dn: cn=a\r\ncn: a\r\n \r\n\t\r\n\r\ndn: cn=b\r\n# inside\r\ncn: b\r\n";
        let records = read_default(text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(content(&records[0]).line, 7);
        assert_eq!(
            content(&records[0]).text("cn"),
            Some("a"),
            "' ' after a line continues it"
        );
        assert_eq!(content(&records[1]).line, 12);
        assert_eq!(content(&records[1]).text("cn"), Some("b"));
        // Version directly followed by the first record, without a blank line.
        assert_eq!(
            read_default("version: 1\ndn: cn=a\ncn: a").unwrap().len(),
            1
        );
        // Empty text, comments only, version only: no records.
        assert_eq!(read_default("").unwrap(), []);
        assert_eq!(read_default("# nothing\n\n# here\n").unwrap(), []);
        assert_eq!(read_default("version: 1\n").unwrap(), []);
        // A record with only a DN; an empty DN (the root DSE).
        assert_eq!(
            read_entries("dn: cn=a\n").unwrap(),
            [Entry {
                line: 1,
                ..Entry::new("cn=a")
            }]
        );
        assert_eq!(read_entries("dn:\nx: 1\n").unwrap()[0].dn, "");
    }

    #[test]
    fn values_keep_their_bytes() {
        let entries = read_entries(
            "dn: cn=a\nempty:\nspaces: a  b  \nfolded: a\n  b\nutf8: Jürgen\ncolon: a:b\n\
             b64nopad:: YQ\nb64spaces:: YQ==  \nb64empty::\n",
        )
        .unwrap();
        let e = &entries[0];
        assert_eq!(e.get("empty").unwrap().values, [Vec::<u8>::new()]);
        assert_eq!(
            e.text("spaces"),
            Some("a  b  "),
            "trailing spaces of a value are kept"
        );
        assert_eq!(
            e.text("folded"),
            Some("a b"),
            "only the first space of a fold is removed"
        );
        assert_eq!(e.text("utf8"), Some("Jürgen"));
        assert_eq!(e.text("colon"), Some("a:b"));
        assert_eq!(e.text("b64nopad"), Some("a"));
        assert_eq!(e.text("b64spaces"), Some("a"));
        assert_eq!(e.get("b64empty").unwrap().values, [Vec::<u8>::new()]);
    }

    // ---- Errors: exact line and message -----------------------------------------------------

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases: &[(&str, &str)] = &[
            (
                "dn: cn=a\ncn: a\n\n\n\n\n\n\n\n\n\nobjectClass: top\n",
                "line 12: 'objectClass' comes before 'dn:' (every record starts with a 'dn:' line)",
            ),
            (
                "dn: cn=a\ncn: a\n\n\n\n\n\n\n\n\ndn: cn=b\nobjectClass\n",
                "line 12: 'objectClass' has no ':' (expected 'name: value', 'name:: base64' or \
                 'name:< file:///path')",
            ),
            (
                "dn: cn=a\ncn: a\nobjectClass top\n",
                "line 3: 'objectClass top' has no ':' (expected 'name: value', 'name:: base64' or \
                 'name:< file:///path')",
            ),
            (
                "dn: cn=a\nobjectGUID:: not*base64\n",
                "line 2: 'objectGUID' has an invalid base64 value after '::': '*' at position 4 \
                 is not a base64 character",
            ),
            (
                "dn: cn=a\nobjectGUID:: YWJj\n =\n",
                "line 2: 'objectGUID' has an invalid base64 value after '::': misplaced '=' \
                 padding at position 5",
            ),
            (
                "dn: cn=a\nobjectSid:: YWJjZ\n",
                "line 2: 'objectSid' has an invalid base64 value after '::': its length does not \
                 fit base64 (is the value cut short?)",
            ),
            (
                "dn: cn=a\nobjectSid:: YR==\n",
                "line 2: 'objectSid' has an invalid base64 value after '::': its last character \
                 does not fit base64 (is the value cut short?)",
            ),
            (
                "dn: cn=a\nx:: YW Jj\n",
                "line 2: 'x' has an invalid base64 value after '::': a space at position 3 is not \
                 a base64 character",
            ),
            (
                " dn: cn=a\n",
                "line 1: a continuation line (starting with a space) has no line before it to \
                 continue",
            ),
            (
                "dn: cn=a\ncn: a\n\n continued\n",
                "line 4: a continuation line (starting with a space) has no line before it to \
                 continue",
            ),
            (
                "version: 1\ncn: a\ndn: cn=a\n",
                "line 2: 'cn' comes before 'dn:' (every record starts with a 'dn:' line)",
            ),
            (
                "version: 2\ndn: cn=a\n",
                "line 1: unsupported LDIF version '2' (only 'version: 1' exists)",
            ),
            (
                "dn: cn=a\ncn: a\n\nversion: 1\n",
                "line 4: 'version:' may only appear once, at the start of the file",
            ),
            (
                "dn: cn=a\nchangetype: rename\n",
                "line 2: unknown changetype 'rename' (expected add, delete, modify, modrdn or \
                 moddn)",
            ),
            (
                "dn: cn=a\ncn: a\n-\n",
                "line 3: '-' outside a modify block (only 'changetype: modify' records use '-' \
                 lines)",
            ),
            (
                "dn: cn=a\nchangetype: modify\nreplace: cn\ncn: b\n-\n-\n",
                "line 6: '-' outside a modify block (only 'changetype: modify' records use '-' \
                 lines)",
            ),
            (
                "-\n",
                "line 1: '-' outside a modify block (only 'changetype: modify' records use '-' \
                 lines)",
            ),
            (
                "dn: cn=a\ncn: a\ndn: cn=b\ncn: b\n",
                "line 3: a second 'dn:' in one record (separate records with an empty line; a \
                 line of only spaces continues the line before it)",
            ),
            (
                "dn: cn=a\ncn: a\nchangetype: add\n",
                "line 3: 'changetype:' must come right after 'dn:'",
            ),
            (
                "dn: cn=a\nchangetype: delete\ncn: a\n",
                "line 3: 'cn: a' after 'changetype: delete' (a delete record has nothing after \
                 'changetype:')",
            ),
            (
                "dn: cn=a\nchangetype: modify\ncn: a\n",
                "line 3: expected 'add:', 'delete:' or 'replace:' in a modify record, found 'cn'",
            ),
            (
                "dn: cn=a\nchangetype: modify\nadd: cn\ncn: a\nreplace: sn\nsn: b\n-\n",
                "line 5: 'replace:' starts a new change, but the 'add: cn' block before it has no \
                 closing '-'",
            ),
            (
                "dn: cn=a\nchangetype: modify\nadd: cn\nsn: a\n-\n",
                "line 4: 'sn' inside the 'add: cn' block (expected 'cn' values or a '-' line)",
            ),
            (
                "dn: cn=a\nchangetype: modify\ndelete: bad name\n-\n",
                "line 3: 'delete:' names 'bad name', which is not a valid attribute name",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\n",
                "line 2: 'changetype: modrdn' must be followed by a 'newrdn:' line",
            ),
            (
                "dn: cn=a\nchangetype: moddn\ndeleteoldrdn: 1\n",
                "line 3: expected 'newrdn:' after 'changetype: moddn', found 'deleteoldrdn'",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\n",
                "line 3: 'newrdn:' must be followed by 'deleteoldrdn: 0' or '1'",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\nnewsuperior: dc=x\n",
                "line 4: expected 'deleteoldrdn: 0' or '1' after 'newrdn:', found 'newsuperior'",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: yes\n",
                "line 4: 'deleteoldrdn' must be 0 or 1, found 'yes'",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\ncn: b\n",
                "line 5: unexpected 'cn' in a 'changetype: modrdn' record (only 'newsuperior:' \
                 may follow 'deleteoldrdn:')",
            ),
            (
                "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: dc=x\n\
                 cn: b\n",
                "line 6: 'cn: b' after 'newsuperior:' (a 'modrdn' record ends there)",
            ),
            (
                "dn:: //79\ncn: a\n",
                "line 1: the value of 'dn' is not valid UTF-8 text",
            ),
            (
                "dn: cn=a\n: value\n",
                "line 2: ':' with no attribute name before it",
            ),
            (
                "dn: cn=a\nsAMAccount Name: x\n",
                "line 2: 'sAMAccount Name' is not a valid attribute name (letters, digits and \
                 '-', options after ';')",
            ),
            (
                "dn: cn=a\ncn;: x\n",
                "line 2: 'cn;' is not a valid attribute name (letters, digits and '-', options \
                 after ';')",
            ),
            (
                "dn: cn=a\njpegPhoto:< file:///etc/hostname\n",
                "line 2: 'jpegPhoto' takes its value from the URL 'file:///etc/hostname', and URL \
                 values are not read here",
            ),
            (
                "dn: cn=a\ncn: a\ncontrol: 1.2.3 true\n",
                "line 3: LDAP controls ('control:' lines) are not supported",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error_of(text), *expected, "for {text:?}");
        }
    }

    #[test]
    fn error_lines_count_folds_and_crlf() {
        // The error is reported at the first physical line of the folded line.
        let text = "dn: cn=a\r\ndescription: a\r\n b\r\nbroken\r\n line\r\n";
        let err = read_default(text).unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(
            err.message,
            "'brokenline' has no ':' (expected 'name: value', 'name:: base64' or 'name:< \
             file:///path')"
        );
        // Long offending text is shortened in the message.
        let long = format!("dn: cn=a\n{}\n", "x".repeat(200));
        let message = read_default(&long).unwrap_err().message;
        assert!(message.starts_with(&format!("'{}...' has no ':'", "x".repeat(SHOWN_CHARS))));
    }

    #[test]
    fn lenient_forms_are_accepted() {
        let records =
            read_default("dn: cn=a\nChangeType: Modify\nADD: cn\ncn: b\nCN: c\n- \nDelete: sn\n")
                .unwrap();
        assert_eq!(
            records,
            [Record::Modify {
                dn: "cn=a".into(),
                changes: vec![
                    Change::Add(Attribute::new("cn", vec![b"b".to_vec(), b"c".to_vec()])),
                    Change::Delete(Attribute::new("sn", vec![])),
                ],
                line: 1,
            }]
        );
        let records = read_default("dn: cn=a\nchangetype: modify\n").unwrap();
        assert_eq!(
            records,
            [Record::Modify {
                dn: "cn=a".into(),
                changes: vec![],
                line: 1
            }]
        );
        let records = read_default("dn: cn=a\nchangetype: add\n").unwrap();
        assert_eq!(
            records,
            [Record::Add(Entry {
                line: 1,
                ..Entry::new("cn=a")
            })]
        );
    }

    // ---- Writing ------------------------------------------------------------------------------

    #[test]
    fn writer_uses_base64_exactly_when_needed() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain text", "x: plain text\n"),
            (b"a:b<c", "x: a:b<c\n"),
            (b"#not a comment", "x: #not a comment\n"),
            (b"", "x:\n"),
            (b" leading space", "x:: IGxlYWRpbmcgc3BhY2U=\n"),
            (b":colon", "x:: OmNvbG9u\n"),
            (b"<angle", "x:: PGFuZ2xl\n"),
            (b"trailing ", "x:: dHJhaWxpbmcg\n"),
            (b"nul\0", "x:: bnVsAA==\n"),
            (b"cr\r", "x:: Y3IN\n"),
            (b"lf\n", "x:: bGYK\n"),
            ("Jürgen".as_bytes(), "x:: SsO8cmdlbg==\n"),
            (b"\xff\xfe", "x:: //4=\n"),
        ];
        for (value, expected) in cases {
            let mut out = String::new();
            push_value(&mut out, "x", value);
            assert_eq!(out, *expected, "for {value:?}");
        }
        let mut entry = Entry::new(" leading,dc=x");
        entry.push("cn", "a");
        assert_eq!(write_entry(&entry), "dn:: IGxlYWRpbmcsZGM9eA==\ncn: a\n");
    }

    #[test]
    fn writer_folds_at_76_bytes() {
        let mut entry = Entry::new(format!("cn={},dc=example,dc=com", "n".repeat(100)));
        entry.push("description", "d".repeat(200));
        entry.push("jpegPhoto", vec![0xffu8; 300]);
        let written = write_entry(&entry);
        for line in written.lines() {
            assert!(line.len() <= MAX_LINE, "{line:?} is {} bytes", line.len());
        }
        let first = written.lines().next().unwrap();
        assert_eq!(first.len(), MAX_LINE);
        assert_eq!(
            written.lines().nth(1).unwrap(),
            format!(" {}", &entry.dn[72..])
        );
        let back = read_entries(&written).unwrap();
        assert_eq!(back, [Entry { line: 1, ..entry }]);
    }

    #[test]
    fn write_produces_the_expected_text() {
        let records = vec![
            Record::Content({
                let mut e = Entry::new("cn=a,dc=x");
                e.push("objectClass", "top");
                e.push("objectClass", "person");
                e
            }),
            Record::Delete {
                dn: "cn=b,dc=x".into(),
                line: 0,
            },
            Record::ModRdn {
                dn: "cn=c,dc=x".into(),
                new_rdn: "cn=d".into(),
                delete_old_rdn: false,
                new_superior: Some("ou=y,dc=x".into()),
                line: 0,
            },
            Record::Modify {
                dn: "cn=d,ou=y,dc=x".into(),
                changes: vec![
                    Change::Replace(Attribute::new("mail", vec![b"d@x".to_vec()])),
                    Change::Delete(Attribute::new("description", vec![])),
                ],
                line: 0,
            },
            Record::Add({
                let mut e = Entry::new("cn=e,dc=x");
                e.push("cn", "e");
                e
            }),
        ];
        assert_eq!(
            write(&records),
            "version: 1\n\
             \n\
             dn: cn=a,dc=x\nobjectClass: top\nobjectClass: person\n\
             \n\
             dn: cn=b,dc=x\nchangetype: delete\n\
             \n\
             dn: cn=c,dc=x\nchangetype: modrdn\nnewrdn: cn=d\ndeleteoldrdn: 0\n\
             newsuperior: ou=y,dc=x\n\
             \n\
             dn: cn=d,ou=y,dc=x\nchangetype: modify\nreplace: mail\nmail: d@x\n-\n\
             delete: description\n-\n\
             \n\
             dn: cn=e,dc=x\nchangetype: add\ncn: e\n"
        );
        let back: Vec<Record> = read_default(&write(&records)).unwrap();
        assert_eq!(back.into_iter().map(unlined).collect::<Vec<_>>(), records);
        assert_eq!(write(&[]), "version: 1\n");
        assert_eq!(read_default(&write(&[])).unwrap(), []);
    }

    #[test]
    fn entry_helpers() {
        let mut e = Entry::new("cn=a");
        e.push("cn", "a");
        e.push("CN", "b");
        e.push("cn;lang-en", "c");
        e.push("photo", vec![0xffu8]);
        assert_eq!(e.attributes.len(), 3);
        assert_eq!(e.get("Cn").unwrap().name, "cn");
        assert_eq!(values(&e, "cn"), ["a", "b"]);
        assert_eq!(e.text("cn;LANG-EN"), Some("c"));
        assert_eq!(e.text("photo"), None);
        assert_eq!(e.text("missing"), None);
        assert!(is_valid_attribute_name("msDS-ExternalDirectoryObjectId"));
        assert!(is_valid_attribute_name("2.5.4.3"));
        assert!(is_valid_attribute_name("userCertificate;binary"));
        assert!(!is_valid_attribute_name(""));
        assert!(!is_valid_attribute_name(";binary"));
        assert!(!is_valid_attribute_name("cn;"));
        assert!(!is_valid_attribute_name("cn;a.b"));
        assert!(!is_valid_attribute_name("c n"));
    }

    // ---- Properties ---------------------------------------------------------------------------

    fn arb_name() -> impl Strategy<Value = String> {
        "[a-zA-Z][a-zA-Z0-9-]{0,12}(;[a-zA-Z0-9-]{1,6}){0,2}".prop_filter("reserved name", |n| {
            !["dn", "changetype", "control"]
                .iter()
                .any(|r| n.eq_ignore_ascii_case(r))
        })
    }

    fn arb_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "[ -~]{0,120}".prop_map(String::into_bytes),
            any::<String>().prop_map(String::into_bytes),
            "[ :<#a-z\r\n\t\0-]{0,20}".prop_map(String::into_bytes),
        ]
    }

    fn arb_dn() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,150}",
            "(CN|OU|DC)=[a-zA-Z0-9 ,\\\\+\"<>;#=:]{0,30}(,(OU|DC)=[a-z]{1,10}){0,4}",
        ]
    }

    fn arb_attributes(max: usize) -> impl Strategy<Value = Vec<Attribute>> {
        prop::collection::vec(
            (arb_name(), prop::collection::vec(arb_value(), 1..4)),
            0..max,
        )
        .prop_map(|attrs| {
            // Build through Entry::push so names are unique, as the reader produces them.
            let mut entry = Entry::new("");
            for (name, vals) in attrs {
                for value in vals {
                    entry.push(&name, value);
                }
            }
            entry.attributes
        })
    }

    fn arb_entry() -> impl Strategy<Value = Entry> {
        (arb_dn(), arb_attributes(8)).prop_map(|(dn, attributes)| Entry {
            dn,
            attributes,
            line: 0,
        })
    }

    fn arb_change() -> impl Strategy<Value = Change> {
        (0..3u8, arb_name(), prop::collection::vec(arb_value(), 0..3)).prop_map(
            |(kind, name, vals)| {
                let attribute = Attribute::new(name, vals);
                match kind {
                    0 => Change::Add(attribute),
                    1 => Change::Delete(attribute),
                    _ => Change::Replace(attribute),
                }
            },
        )
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        prop_oneof![
            arb_entry().prop_map(Record::Content),
            arb_entry().prop_map(Record::Add),
            arb_dn().prop_map(|dn| Record::Delete { dn, line: 0 }),
            (arb_dn(), prop::collection::vec(arb_change(), 0..5)).prop_map(|(dn, changes)| {
                Record::Modify {
                    dn,
                    changes,
                    line: 0,
                }
            }),
            (
                arb_dn(),
                arb_dn(),
                any::<bool>(),
                prop::option::of(arb_dn())
            )
                .prop_map(|(dn, new_rdn, delete_old_rdn, new_superior)| {
                    Record::ModRdn {
                        dn,
                        new_rdn,
                        delete_old_rdn,
                        new_superior,
                        line: 0,
                    }
                }),
        ]
    }

    /// Text made of LDIF-looking pieces, to reach deep into the parser.
    fn arb_ldifish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("dn: cn=a".to_owned()),
            Just("dn:: ".to_owned()),
            Just("changetype: ".to_owned()),
            Just("modify".to_owned()),
            Just("modrdn".to_owned()),
            Just("add".to_owned()),
            Just("delete".to_owned()),
            Just("replace: cn".to_owned()),
            Just("newrdn: cn=b".to_owned()),
            Just("deleteoldrdn: 1".to_owned()),
            Just("newsuperior:".to_owned()),
            Just("version: 1".to_owned()),
            Just("control: 1.2".to_owned()),
            Just("cn".to_owned()),
            Just(":".to_owned()),
            Just("::".to_owned()),
            Just(":<".to_owned()),
            Just(" file:///".to_owned()),
            Just("-".to_owned()),
            Just("#".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("\u{feff}".to_owned()),
            Just("%".to_owned()),
            "[A-Za-z0-9+/=]{0,9}",
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = read(&text, &ReadOptions::default());
            let _ = read_entries(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = read(&String::from_utf8_lossy(&bytes), &ReadOptions::default());
        }

        #[test]
        fn ldif_like_text_never_panics(text in arb_ldifish()) {
            let _ = read(&text, &ReadOptions::default());
            let _ = read(&text, &ReadOptions { allow_file_urls: true });
            if let Err(e) = read(&text, &ReadOptions::default()) {
                let lines = text.split('\n').count();
                prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {}", e.line, lines);
            }
        }

        #[test]
        fn entries_round_trip(entries in prop::collection::vec(arb_entry(), 0..5)) {
            let written = write_entries(&entries);
            prop_assert!(written.lines().all(|l| l.len() <= MAX_LINE));
            let back = read_entries(&written).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{written}"))
            })?;
            let back: Vec<Entry> = back.into_iter().map(|e| Entry { line: 0, ..e }).collect();
            prop_assert_eq!(back, entries);
        }

        #[test]
        fn single_entry_round_trips(entry in arb_entry()) {
            let back = read_entries(&write_entry(&entry))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, vec![Entry { line: 1, ..entry }]);
        }

        #[test]
        fn records_round_trip(records in prop::collection::vec(arb_record(), 0..5)) {
            let written = write(&records);
            prop_assert!(written.lines().all(|l| l.len() <= MAX_LINE));
            let back = read(&written, &ReadOptions::default()).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{written}"))
            })?;
            // Each record's line is where its dn: line was written.
            for record in &back {
                let line = written.split('\n').nth(record.line() - 1).unwrap_or_default();
                prop_assert!(line.starts_with("dn:"), "line {} is {:?}", record.line(), line);
            }
            prop_assert_eq!(back.into_iter().map(unlined).collect::<Vec<_>>(), records);
        }
    }
}
