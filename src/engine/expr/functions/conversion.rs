//! Conversion functions: `CBool`, `CDate`, `CGuid`, `CNum`, `CRef`, `CStr`, `CBin`, the base64 and
//! UTF-8 hex encodings, `StringFromGuid`, `StringFromSid`.
//!
//! Invariants: `ConvertToBase64` of text encodes its UTF-16LE bytes (Microsoft's "Unicode"), of
//! binary data the bytes themselves (the default rules' `ConvertToBase64([objectGUID])` is the
//! 24-character immutable ID); GUIDs use AD's byte order; NULL in gives NULL out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::domain::{ObjectGuid, Sid};
use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::functions::{Args, FnError};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

pub(super) fn cbool(a: &Args<'_>) -> R {
    Ok(a.bool(0)?.map_or(Value::Null, Value::Bool))
}

pub(super) fn cdate(a: &Args<'_>) -> R {
    match a.value(0) {
        Value::Date(d) => Ok(Value::Date(*d)),
        v if v.is_null() => Ok(Value::Null),
        _ => {
            let s = a.req_text(0)?;
            DateTime::parse(&s)
                .map(Value::Date)
                .ok_or_else(|| FnError::Message(format!("'{s}' is not a date (write e.g. '2013-01-10 4:00 PM -8' or '2012-01-01 23:00:00')")))
        }
    }
}

pub(super) fn cguid(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let g: ObjectGuid = s
        .parse()
        .map_err(|e: crate::domain::DomainError| FnError::Message(e.to_string()))?;
    Ok(Value::Bin(g.as_bytes().to_vec()))
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub(super) fn to_base64(a: &Args<'_>) -> R {
    match a.value(0) {
        Value::Bin(b) => Ok(Value::Str(STANDARD.encode(b))),
        v if v.is_null() => Ok(Value::Null),
        _ => Ok(Value::Str(STANDARD.encode(utf16le(&a.req_text(0)?)))),
    }
}

pub(super) fn from_base64(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let encoding = a
        .choice(1, &["Unicode", "ASCII", "UTF8"])?
        .unwrap_or("Unicode");
    let bytes = STANDARD
        .decode(s.trim())
        .map_err(|_| FnError::Message(format!("'{s}' is not base64 text")))?;
    let text = match encoding {
        "Unicode" => {
            if bytes.len() % 2 != 0 {
                return Err(FnError::Message(format!(
                    "'{s}' decodes to an odd number of bytes, so it is not Unicode (UTF-16) text; add UTF8 or ASCII"
                )));
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units)
                .map_err(|_| FnError::Message(format!("'{s}' is not Unicode (UTF-16) text")))?
        }
        "ASCII" => bytes
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect(),
        _ => String::from_utf8(bytes)
            .map_err(|_| FnError::Message(format!("'{s}' is not UTF-8 text")))?,
    };
    Ok(Value::Str(text))
}

pub(super) fn to_utf8_hex(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    Ok(Value::Str(s.bytes().map(|b| format!("{b:02X}")).collect()))
}

pub(super) fn from_utf8_hex(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let bad = || {
        FnError::Message(format!(
            "'{s}' is not UTF-8 hex (pairs of hex digits such as 48656C6C6F)"
        ))
    };
    let t = s.trim();
    if t.len() % 2 != 0 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let bytes: Result<Vec<u8>, _> = (0..t.len())
        .step_by(2)
        .map(|i| {
            t.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(())
        })
        .collect();
    let bytes = bytes.map_err(|()| bad())?;
    String::from_utf8(bytes).map(Value::Str).map_err(|_| bad())
}

pub(super) fn cnum(a: &Args<'_>) -> R {
    Ok(a.num(0)?.map_or(Value::Null, Value::Num))
}

pub(super) fn cref(a: &Args<'_>) -> R {
    Ok(a.text(0)?.map_or(Value::Null, Value::Ref))
}

pub(super) fn cstr(a: &Args<'_>) -> R {
    Ok(a.text(0)?.map_or(Value::Null, Value::Str))
}

/// `CBin`: binary stays binary; text is read as base64 (how binary values are written in rules).
pub(super) fn cbin(a: &Args<'_>) -> R {
    match a.value(0) {
        Value::Bin(b) => Ok(Value::Bin(b.clone())),
        v if v.is_null() => Ok(Value::Null),
        _ => {
            let s = a.req_text(0)?;
            STANDARD.decode(s.trim()).map(Value::Bin).map_err(|_| {
                FnError::Message(format!(
                    "'{s}' is not base64 text, so it cannot become binary data"
                ))
            })
        }
    }
}

/// `StringFromGuid`: the GUID's string form as AD tools show it (lower case, no braces).
pub(super) fn string_from_guid(a: &Args<'_>) -> R {
    let Some(b) = binary(a)? else {
        return Ok(Value::Null);
    };
    let g = ObjectGuid::from_bytes(b).map_err(|e| FnError::Message(e.to_string()))?;
    Ok(Value::Str(g.to_string()))
}

pub(super) fn string_from_sid(a: &Args<'_>) -> R {
    let Some(b) = binary(a)? else {
        return Ok(Value::Null);
    };
    let sid = Sid::from_bytes(b).map_err(|e| FnError::Message(e.to_string()))?;
    Ok(Value::Str(sid.to_string()))
}

fn binary<'a>(a: &'a Args<'_>) -> Result<Option<&'a [u8]>, FnError> {
    match a.value(0) {
        Value::Bin(b) => Ok(Some(b)),
        v if v.is_null() => Ok(None),
        other => Err(FnError::Message(format!(
            "argument 1: expected binary data, got {}",
            crate::engine::expr::convert::describe(other)
        ))),
    }
}
