//! The function library: every function of Entra Connect's Functions Reference, plus the few
//! its shipped rules use without documenting (`ImportedValue`, `ValueCount`, `CBin`) and
//! `Coalesce`/`Not` from the Cloud Sync language.
//!
//! Invariants: the table ([`FUNCTIONS`]) is the single list of names, arities and signatures (the
//! parser checks calls against it, `rules` help prints it); names are matched case-insensitively;
//! implementations receive values already broadcast over multi-valued arguments where the
//! argument is marked [`Arg::Scalar`], and report problems as [`FnError`] data, never by
//! panicking; a function whose result depends on anything but its arguments (the clock, the
//! context, randomness) is named in [`crate::engine::expr::Expr::reads_only_attributes`], since
//! the sync stage computes other expressions once for every object that lacks their attributes.
//! The per-category files hold the implementations.

mod certificate;
mod conversion;
mod date;
mod directory;
mod evaluation;
mod multivalued;
mod text;

use crate::engine::expr::ast::{Kind, Node};
use crate::engine::expr::convert::{as_bool, as_num, as_text, as_text_ref, describe};
use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::eval::EvalContext;
use crate::engine::expr::value::Value;

/// How an argument position receives a multi-valued attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// The function runs once per value (`Trim([proxyAddresses])` trims each).
    Scalar,
    /// The function receives all values at once (`Count`, `Join`, `IsPresent`).
    Whole,
}

/// Forms the evaluator handles itself (laziness, variables, access to imported values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `IIF(cond, a, b)`: only the chosen branch is evaluated.
    Iif,
    /// `Switch(c1, v1, ...)`.
    Switch,
    /// `Select($item, values, expression)`.
    Select,
    /// `Where($item, values, condition)`.
    Where,
    /// `With($var, value, expression)`.
    With,
    /// `ImportedValue("attribute")`.
    ImportedValue,
    /// `ValueCount("attribute")`.
    ValueCount,
}

/// A function's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnError {
    /// A problem with the arguments; the evaluator prefixes the function name.
    Message(String),
    /// `Error("...")`: the admin's own message, shown as written.
    Custom(String),
}

impl From<String> for FnError {
    fn from(m: String) -> Self {
        FnError::Message(m)
    }
}

/// How a function is implemented.
#[derive(Debug)]
pub enum Imp {
    /// Arguments are evaluated first.
    Eager {
        /// How each position treats multi-values (the last entry repeats for extra arguments).
        args: &'static [Arg],
        /// The implementation.
        f: fn(&Args<'_>) -> Result<Value, FnError>,
    },
    /// Handled by the evaluator.
    Special(Special),
}

/// One entry of the function table.
#[derive(Debug)]
pub struct Function {
    /// Canonical spelling.
    pub name: &'static str,
    /// Fewest arguments.
    pub min_args: usize,
    /// Most arguments (`usize::MAX` for any number).
    pub max_args: usize,
    /// The documented signature, shown in errors and help.
    pub signature: &'static str,
    /// Argument names, for messages.
    pub params: &'static [&'static str],
    /// The implementation.
    pub imp: Imp,
}

/// The arguments of one call, with typed accessors whose errors name the argument.
pub struct Args<'a> {
    /// The values (one per argument, after broadcasting), borrowed where they can be.
    pub values: &'a [std::borrow::Cow<'a, Value>],
    /// The evaluation context (`Now()`, randomness has none).
    pub ctx: &'a EvalContext<'a>,
    /// The function being called.
    pub function: &'static Function,
}

impl Args<'_> {
    /// The raw value of argument `i` (NULL when absent).
    pub fn value(&self, i: usize) -> &Value {
        self.values.get(i).map_or(&Value::Null, |v| v.as_ref())
    }

    /// Whether argument `i` was given.
    pub fn has(&self, i: usize) -> bool {
        i < self.values.len()
    }

    fn label(&self, i: usize) -> String {
        match self.function.params.get(i) {
            Some(name) => format!("argument {} ({name})", i + 1),
            None => format!("argument {}", i + 1),
        }
    }

    fn wrap<T>(&self, i: usize, r: Result<T, String>) -> Result<T, FnError> {
        r.map_err(|m| FnError::Message(format!("{}: {m}", self.label(i))))
    }

    /// Argument `i` as text (`None` for NULL).
    pub fn text(&self, i: usize) -> Result<Option<String>, FnError> {
        self.wrap(i, as_text(self.value(i)))
    }

    /// [`Args::text`] borrowing text and references instead of copying them.
    pub fn text_ref(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>, FnError> {
        self.wrap(i, as_text_ref(self.value(i)))
    }

    /// Argument `i` as a number (`None` for NULL).
    pub fn num(&self, i: usize) -> Result<Option<i64>, FnError> {
        self.wrap(i, as_num(self.value(i)))
    }

    /// Argument `i` as a number that must be present.
    pub fn req_num(&self, i: usize) -> Result<i64, FnError> {
        self.num(i)?.ok_or_else(|| {
            FnError::Message(format!("{} is NULL; a number is needed", self.label(i)))
        })
    }

    /// Argument `i` as text that must be present.
    pub fn req_text(&self, i: usize) -> Result<String, FnError> {
        self.text(i)?
            .ok_or_else(|| FnError::Message(format!("{} is NULL; text is needed", self.label(i))))
    }

    /// [`Args::req_text`] borrowing text and references instead of copying them.
    pub fn req_text_ref(&self, i: usize) -> Result<std::borrow::Cow<'_, str>, FnError> {
        self.text_ref(i)?
            .ok_or_else(|| FnError::Message(format!("{} is NULL; text is needed", self.label(i))))
    }

    /// Argument `i` as a boolean (`None` for NULL).
    pub fn bool(&self, i: usize) -> Result<Option<bool>, FnError> {
        self.wrap(i, as_bool(self.value(i)))
    }

    /// Argument `i` as bytes: binary as is, text as its UTF-8 bytes (`None` for NULL).
    pub fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, FnError> {
        match self.value(i) {
            Value::Bin(b) => Ok(Some(b.clone())),
            Value::Str(s) => Ok(Some(s.as_bytes().to_vec())),
            v if v.is_null() => Ok(None),
            other => Err(FnError::Message(format!(
                "{}: expected binary data, got {}",
                self.label(i),
                describe(other)
            ))),
        }
    }

    /// Argument `i` as a date: dates as they are, text parsed as `CDate` does.
    pub fn date(&self, i: usize) -> Result<Option<DateTime>, FnError> {
        match self.value(i) {
            Value::Date(d) => Ok(Some(*d)),
            Value::Str(s) => DateTime::parse(s)
                .map(Some)
                .ok_or_else(|| FnError::Message(format!("{}: '{s}' is not a date", self.label(i)))),
            v if v.is_null() => Ok(None),
            other => Err(FnError::Message(format!(
                "{}: expected a date, got {}",
                self.label(i),
                describe(other)
            ))),
        }
    }

    /// An optional enumeration argument (`UTF8`, `vbTextCompare`, ...), compared case-insensitively
    /// against `allowed`; returns the canonical spelling.
    pub fn choice(
        &self,
        i: usize,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, FnError> {
        if !self.has(i) {
            return Ok(None);
        }
        let Some(given) = self.text(i)? else {
            return Ok(None);
        };
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(given.trim()))
            .map(|a| Some(*a))
            .ok_or_else(|| {
                FnError::Message(format!(
                    "{}: '{given}' is not one of {}",
                    self.label(i),
                    allowed.join(", ")
                ))
            })
    }
}

const S: Arg = Arg::Scalar;
const W: Arg = Arg::Whole;

macro_rules! f {
    ($name:literal, $min:literal..=$max:expr, $sig:literal, [$($p:literal),*], [$($a:expr),*], $f:expr) => {
        Function {
            name: $name,
            min_args: $min,
            max_args: $max,
            signature: $sig,
            params: &[$($p),*],
            imp: Imp::Eager { args: &[$($a),*], f: $f },
        }
    };
    ($name:literal, $min:literal..=$max:expr, $sig:literal, [$($p:literal),*], special $s:expr) => {
        Function { name: $name, min_args: $min, max_args: $max, signature: $sig, params: &[$($p),*], imp: Imp::Special($s) }
    };
}

const ANY: usize = usize::MAX;

/// Every function, grouped as in Microsoft's reference.
#[rustfmt::skip]
pub static FUNCTIONS: &[Function] = &[
    // Certificate
    f!("CertExtensionOids", 1..=1, "mvstr CertExtensionOids(binary certificateRawData)", ["certificateRawData"], [S], certificate::extension_oids),
    f!("CertFormat", 1..=1, "str CertFormat(binary certificateRawData)", ["certificateRawData"], [S], certificate::format),
    f!("CertFriendlyName", 1..=1, "str CertFriendlyName(binary certificateRawData)", ["certificateRawData"], [S], certificate::friendly_name),
    f!("CertHashString", 1..=1, "str CertHashString(binary certificateRawData)", ["certificateRawData"], [S], certificate::hash_string),
    f!("CertIssuer", 1..=1, "str CertIssuer(binary certificateRawData)", ["certificateRawData"], [S], certificate::issuer),
    f!("CertIssuerDN", 1..=1, "str CertIssuerDN(binary certificateRawData)", ["certificateRawData"], [S], certificate::issuer),
    f!("CertIssuerOid", 1..=1, "str CertIssuerOid(binary certificateRawData)", ["certificateRawData"], [S], certificate::issuer_oid),
    f!("CertKeyAlgorithm", 1..=1, "str CertKeyAlgorithm(binary certificateRawData)", ["certificateRawData"], [S], certificate::key_algorithm),
    f!("CertKeyAlgorithmParams", 1..=1, "str CertKeyAlgorithmParams(binary certificateRawData)", ["certificateRawData"], [S], certificate::key_algorithm_params),
    f!("CertNameInfo", 3..=3, "str CertNameInfo(binary certificateRawData, str x509NameType, bool includesIssuerName)", ["certificateRawData", "x509NameType", "includesIssuerName"], [S, S, S], certificate::name_info),
    f!("CertNotAfter", 1..=1, "dt CertNotAfter(binary certificateRawData)", ["certificateRawData"], [S], certificate::not_after),
    f!("CertNotBefore", 1..=1, "dt CertNotBefore(binary certificateRawData)", ["certificateRawData"], [S], certificate::not_before),
    f!("CertPublicKeyOid", 1..=1, "str CertPublicKeyOid(binary certificateRawData)", ["certificateRawData"], [S], certificate::public_key_oid),
    f!("CertPublicKeyParametersOid", 1..=1, "str CertPublicKeyParametersOid(binary certificateRawData)", ["certificateRawData"], [S], certificate::public_key_parameters_oid),
    f!("CertSerialNumber", 1..=1, "str CertSerialNumber(binary certificateRawData)", ["certificateRawData"], [S], certificate::serial_number),
    f!("CertSignatureAlgorithmOid", 1..=1, "str CertSignatureAlgorithmOid(binary certificateRawData)", ["certificateRawData"], [S], certificate::signature_algorithm_oid),
    f!("CertSubject", 1..=1, "str CertSubject(binary certificateRawData)", ["certificateRawData"], [S], certificate::subject),
    f!("CertSubjectNameDN", 1..=1, "str CertSubjectNameDN(binary certificateRawData)", ["certificateRawData"], [S], certificate::subject),
    f!("CertSubjectNameOid", 1..=1, "str CertSubjectNameOid(binary certificateRawData)", ["certificateRawData"], [S], certificate::subject_name_oid),
    f!("CertThumbprint", 1..=1, "str CertThumbprint(binary certificateRawData)", ["certificateRawData"], [S], certificate::thumbprint),
    f!("CertVersion", 1..=1, "str CertVersion(binary certificateRawData)", ["certificateRawData"], [S], certificate::version),
    f!("IsCert", 1..=1, "bool IsCert(binary certificateRawData)", ["certificateRawData"], [S], certificate::is_cert),
    // Conversion
    f!("CBool", 1..=1, "bool CBool(exp Expression)", ["Expression"], [S], conversion::cbool),
    f!("CDate", 1..=1, "dt CDate(str value)", ["value"], [S], conversion::cdate),
    f!("CGuid", 1..=1, "bin CGuid(str GUID)", ["GUID"], [S], conversion::cguid),
    f!("ConvertFromBase64", 1..=2, "str ConvertFromBase64(str source[, enum Encoding])", ["source", "Encoding"], [S, S], conversion::from_base64),
    f!("ConvertToBase64", 1..=1, "str ConvertToBase64(str source)", ["source"], [S], conversion::to_base64),
    f!("ConvertFromUTF8Hex", 1..=1, "str ConvertFromUTF8Hex(str source)", ["source"], [S], conversion::from_utf8_hex),
    f!("ConvertToUTF8Hex", 1..=1, "str ConvertToUTF8Hex(str source)", ["source"], [S], conversion::to_utf8_hex),
    f!("CNum", 1..=1, "num CNum(str value)", ["value"], [S], conversion::cnum),
    f!("CRef", 1..=1, "ref CRef(str value)", ["value"], [S], conversion::cref),
    f!("CStr", 1..=1, "str CStr(num|ref|bool value)", ["value"], [S], conversion::cstr),
    f!("CBin", 1..=1, "bin CBin(str base64Value)", ["value"], [S], conversion::cbin),
    f!("StringFromGuid", 1..=1, "str StringFromGuid(bin GUID)", ["GUID"], [S], conversion::string_from_guid),
    f!("StringFromSid", 1..=1, "str StringFromSid(bin ObjectSID)", ["ObjectSID"], [S], conversion::string_from_sid),
    // Date / Time
    f!("DateAdd", 3..=3, "dt DateAdd(str interval, num value, dt date)", ["interval", "value", "date"], [S, S, S], date::date_add),
    f!("DateFromNum", 1..=1, "dt DateFromNum(num value)", ["value"], [S], date::date_from_num),
    f!("FormatDateTime", 2..=2, "str FormatDateTime(dt value, str format)", ["value", "format"], [S, S], date::format_date_time),
    f!("Now", 0..=0, "dt Now()", [], [], date::now),
    f!("NumFromDate", 1..=1, "num NumFromDate(dt value)", ["value"], [S], date::num_from_date),
    // Directory
    f!("DNComponent", 2..=2, "str DNComponent(ref dn, num ComponentNumber)", ["dn", "ComponentNumber"], [S, S], directory::dn_component),
    f!("DNComponentRev", 2..=3, "str DNComponentRev(ref dn, num ComponentNumber[, enum Options])", ["dn", "ComponentNumber", "Options"], [S, S, S], directory::dn_component_rev),
    f!("EscapeDNComponent", 1..=1, "str EscapeDNComponent(str value)", ["value"], [S], directory::escape_dn_component),
    // Evaluation
    f!("IsBitSet", 2..=2, "bool IsBitSet(num value, num flag)", ["value", "flag"], [S, S], evaluation::is_bit_set),
    f!("IsDate", 1..=1, "bool IsDate(var Expression)", ["Expression"], [W], evaluation::is_date),
    f!("IsEmpty", 1..=1, "bool IsEmpty(var Expression)", ["Expression"], [W], evaluation::is_empty),
    f!("IsGuid", 1..=1, "bool IsGuid(str GUID)", ["GUID"], [S], evaluation::is_guid),
    f!("IsNull", 1..=1, "bool IsNull(var Expression)", ["Expression"], [W], evaluation::is_null),
    f!("IsNullOrEmpty", 1..=1, "bool IsNullOrEmpty(var Expression)", ["Expression"], [W], evaluation::is_null_or_empty),
    f!("IsNumeric", 1..=1, "bool IsNumeric(var Expression)", ["Expression"], [W], evaluation::is_numeric),
    f!("IsPresent", 1..=1, "bool IsPresent(var expression)", ["expression"], [W], evaluation::is_present),
    f!("IsString", 1..=1, "bool IsString(var expression)", ["expression"], [W], evaluation::is_string),
    // Math
    f!("BitAnd", 2..=2, "num BitAnd(num value1, num value2)", ["value1", "value2"], [S, S], evaluation::bit_and),
    f!("BitOr", 2..=2, "num BitOr(num value1, num value2)", ["value1", "value2"], [S, S], evaluation::bit_or),
    f!("RandomNum", 2..=2, "num RandomNum(num start, num end)", ["start", "end"], [S, S], evaluation::random_num),
    f!("Random", 2..=2, "num Random(num start, num end) (the reference's example spelling of RandomNum)", ["start", "end"], [S, S], evaluation::random_num),
    // Multi-valued
    f!("Contains", 2..=3, "num Contains(mvstr attribute, str search[, enum Casetype])", ["attribute", "search", "Casetype"], [W, S, S], multivalued::contains),
    f!("Count", 1..=1, "num Count(mvstr attribute)", ["attribute"], [W], multivalued::count),
    f!("Item", 2..=2, "var Item(mvstr attribute, num index)", ["attribute", "index"], [W, S], multivalued::item),
    f!("ItemOrNull", 2..=2, "var ItemOrNull(mvstr attribute, num index)", ["attribute", "index"], [W, S], multivalued::item_or_null),
    f!("Join", 1..=2, "str Join(mvstr attribute[, str Delimiter])", ["attribute", "Delimiter"], [W, S], multivalued::join),
    f!("RemoveDuplicates", 1..=1, "mvstr RemoveDuplicates(mvstr attribute)", ["attribute"], [W], multivalued::remove_duplicates),
    f!("Split", 2..=3, "mvstr Split(str value, str delimiter[, num limit])", ["value", "delimiter", "limit"], [S, S, S], multivalued::split),
    f!("ImportedValue", 1..=1, "var ImportedValue(\"attribute\")", ["attribute"], special Special::ImportedValue),
    f!("ValueCount", 1..=1, "num ValueCount(\"attribute\")", ["attribute"], special Special::ValueCount),
    // Program flow
    f!("Error", 1..=1, "void Error(str ErrorMessage)", ["ErrorMessage"], [W], evaluation::error),
    f!("IIF", 3..=3, "var IIF(exp condition, var valueIfTrue, var valueIfFalse)", ["condition", "valueIfTrue", "valueIfFalse"], special Special::Iif),
    f!("Select", 3..=3, "mvattr Select(variable item, mvattr attribute, func function)", ["item", "attribute", "function"], special Special::Select),
    f!("Switch", 2..=ANY, "var Switch(exp expr1, var value1[, exp expr2, var value2 ...])", ["expr", "value"], special Special::Switch),
    f!("Where", 3..=3, "mvattr Where(variable item, mvattr attribute, exp condition)", ["item", "attribute", "condition"], special Special::Where),
    f!("With", 3..=3, "var With(var variable, exp subExpression, exp complexExpression)", ["variable", "subExpression", "complexExpression"], special Special::With),
    f!("Coalesce", 1..=ANY, "var Coalesce(var value1, var value2, ...) (from the Cloud Sync language)", ["value"], [W], evaluation::coalesce),
    f!("Not", 1..=1, "bool Not(bool value) (from the Cloud Sync language)", ["value"], [S], evaluation::not),
    // Text
    f!("GUID", 0..=0, "str GUID()", [], [], text::guid),
    f!("InStr", 2..=4, "num InStr(str stringcheck, str stringmatch[, num start[, enum compare]])", ["stringcheck", "stringmatch", "start", "compare"], [S, S, S, S], text::instr),
    f!("InStrRev", 2..=4, "num InStrRev(str stringcheck, str stringmatch[, num start[, enum compare]])", ["stringcheck", "stringmatch", "start", "compare"], [S, S, S, S], text::instr_rev),
    f!("LCase", 1..=1, "str LCase(str value)", ["value"], [S], text::lcase),
    f!("Left", 2..=2, "str Left(str string, num NumChars)", ["string", "NumChars"], [S, S], text::left),
    f!("Len", 1..=1, "num Len(str value)", ["value"], [S], text::len),
    f!("LTrim", 1..=1, "str LTrim(str value)", ["value"], [S], text::ltrim),
    f!("Mid", 2..=3, "str Mid(str string, num start[, num NumChars])", ["string", "start", "NumChars"], [S, S, S], text::mid),
    f!("PadLeft", 3..=3, "str PadLeft(str string, num length, str padCharacter)", ["string", "length", "padCharacter"], [S, S, S], text::pad_left),
    f!("PadRight", 3..=3, "str PadRight(str string, num length, str padCharacter)", ["string", "length", "padCharacter"], [S, S, S], text::pad_right),
    f!("PCase", 1..=1, "str PCase(str string)", ["string"], [S], text::pcase),
    f!("Replace", 3..=3, "str Replace(str string, str OldValue, str NewValue)", ["string", "OldValue", "NewValue"], [S, S, S], text::replace),
    f!("ReplaceChars", 2..=2, "str ReplaceChars(str string, str ReplacePattern)", ["string", "ReplacePattern"], [S, S], text::replace_chars),
    f!("Right", 2..=2, "str Right(str string, num NumChars)", ["string", "NumChars"], [S, S], text::right),
    f!("RTrim", 1..=1, "str RTrim(str value)", ["value"], [S], text::rtrim),
    f!("Trim", 1..=1, "str Trim(str value)", ["value"], [S], text::trim),
    f!("UCase", 1..=1, "str UCase(str string)", ["string"], [S], text::ucase),
    f!("Word", 3..=3, "str Word(str string, num WordNumber, str delimiters)", ["string", "WordNumber", "delimiters"], [S, S, S], text::word),
];

/// Find a function by name, ignoring case.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The closest known function name, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        .map(|f| (distance(&lower, &f.name.to_ascii_lowercase()), f.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Checks a call can only fail at parse time: variables where variables belong, quoted names
/// where names belong. Returns (column, message) on failure.
pub fn check_call(f: &Function, args: &[Node]) -> Result<(), (usize, String)> {
    if let Imp::Special(s) = f.imp {
        match s {
            Special::Select | Special::Where | Special::With => {
                if let Some(first) = args.first()
                    && !matches!(first.kind, Kind::Variable(_))
                {
                    return Err((
                        first.span.start,
                        format!(
                            "the first argument of {} must be a variable such as $item",
                            f.name
                        ),
                    ));
                }
            }
            Special::ImportedValue | Special::ValueCount => {
                if let Some(first) = args.first()
                    && !matches!(&first.kind, Kind::Literal(Value::Str(_)))
                {
                    return Err((
                        first.span.start,
                        format!(
                            "{} takes the attribute name in quotes, e.g. {}(\"proxyAddresses\")",
                            f.name, f.name
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Small helpers shared by the implementation files.
pub(crate) fn text_or_null(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::Str)
}

/// Characters of a string (columns and counts are in characters, as in .NET strings for the
/// Basic Multilingual Plane).
pub(crate) fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

pub(crate) fn num_to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}
