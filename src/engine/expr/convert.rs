//! Conversions between value types, the way VBA converts variants.
//!
//! Invariants: every conversion returns `Ok(None)` for NULL (the caller decides what NULL means),
//! `Ok(Some(..))` for a value it can convert, and `Err(message)` naming the value's type and what
//! was needed; nothing panics. Text compares case-sensitively (VBA's binary comparison) unless a
//! function is told otherwise.

use std::cmp::Ordering;

use crate::engine::expr::value::Value;

/// A value as text: text and references as they are, numbers in decimal, booleans as
/// `True`/`False`, dates as `yyyy-MM-dd HH:mm:ss`.
pub fn as_text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null | Value::AuthoritativeNull => Ok(None),
        Value::Str(s) | Value::Ref(s) => Ok(Some(s.clone())),
        Value::Num(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
        Value::Date(d) => Ok(Some(d.to_string())),
        other => Err(format!("expected text, got {}", describe(other))),
    }
}

/// [`as_text`] borrowing text and references instead of copying them.
pub fn as_text_ref(v: &Value) -> Result<Option<std::borrow::Cow<'_, str>>, String> {
    match v {
        Value::Str(s) | Value::Ref(s) => Ok(Some(std::borrow::Cow::Borrowed(s))),
        other => as_text(other).map(|t| t.map(std::borrow::Cow::Owned)),
    }
}

/// A value as a number: numbers, and text that is a whole decimal number (or `&H` hex);
/// booleans as VBA does (True = -1, False = 0).
pub fn as_num(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null | Value::AuthoritativeNull => Ok(None),
        Value::Num(n) => Ok(Some(*n)),
        Value::Bool(b) => Ok(Some(if *b { -1 } else { 0 })),
        Value::Str(s) => parse_num(s)
            .map(Some)
            .ok_or_else(|| format!("expected a number, got the text '{}'", shorten(s))),
        other => Err(format!("expected a number, got {}", describe(other))),
    }
}

/// A value as a boolean: booleans; numbers (non-zero is true); text `True`/`False` (any case) or a
/// number.
pub fn as_bool(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::Null | Value::AuthoritativeNull => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Num(n) => Ok(Some(*n != 0)),
        Value::Str(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Ok(Some(true))
            } else if t.eq_ignore_ascii_case("false") {
                Ok(Some(false))
            } else if let Some(n) = parse_num(t) {
                Ok(Some(n != 0))
            } else {
                Err(format!(
                    "expected True or False, got the text '{}'",
                    shorten(s)
                ))
            }
        }
        other => Err(format!("expected True or False, got {}", describe(other))),
    }
}

/// Whole decimal (optionally signed) or `&H` hexadecimal text as a number.
pub fn parse_num(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("&H").or_else(|| t.strip_prefix("&h")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    t.parse::<i64>().ok()
}

/// Compare two single values as `=`, `<` etc. do: numbers numerically (text that is a number
/// counts as one when the other side is a number), booleans as booleans, dates as dates, binary
/// byte by byte, everything else as text (case-sensitive). NULL on either side gives `None`.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, String> {
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    Ok(Some(match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.cmp(y),
        (Value::Num(x), Value::Str(s)) | (Value::Str(s), Value::Num(x))
            if parse_num(s).is_some() =>
        {
            let y = parse_num(s).unwrap_or_default();
            if matches!(a, Value::Num(_)) {
                x.cmp(&y)
            } else {
                y.cmp(x)
            }
        }
        (Value::Bool(_), _) | (_, Value::Bool(_)) => {
            let (x, y) = (as_bool(a)?, as_bool(b)?);
            x.cmp(&y)
        }
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Bin(x), Value::Bin(y)) => x.cmp(y),
        (Value::Bin(_), _) | (_, Value::Bin(_)) => {
            return Err(format!(
                "cannot compare {} with {}",
                describe(a),
                describe(b)
            ));
        }
        _ => {
            let (x, y) = (as_text_ref(a)?, as_text_ref(b)?);
            x.as_deref()
                .unwrap_or_default()
                .cmp(y.as_deref().unwrap_or_default())
        }
    }))
}

/// A value's type with a short sample, for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("the text '{}'", shorten(s)),
        Value::Num(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {}", if *b { "True" } else { "False" }),
        Value::Bin(b) => format!("binary data ({} bytes)", b.len()),
        Value::Ref(r) => format!("the reference '{}'", shorten(r)),
        Value::Date(d) => format!("the date {d}"),
        Value::Multi(v) => format!("a multi-valued attribute ({} values)", v.len()),
        other => other.type_name().to_string(),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(37).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vba_conversions() {
        assert_eq!(as_num(&Value::Str(" 514 ".into())), Ok(Some(514)));
        assert_eq!(as_num(&Value::Str("&H10".into())), Ok(Some(16)));
        assert!(
            as_num(&Value::Str("abc".into()))
                .unwrap_err()
                .contains("the text 'abc'")
        );
        assert_eq!(as_bool(&Value::Str("TRUE".into())), Ok(Some(true)));
        assert_eq!(as_bool(&Value::Num(0)), Ok(Some(false)));
        assert_eq!(as_text(&Value::Bool(true)), Ok(Some("True".into())));
        assert_eq!(as_text(&Value::Null), Ok(None));
    }

    #[test]
    fn comparisons() {
        assert_eq!(
            compare(&Value::Num(2), &Value::Str("10".into())),
            Ok(Some(Ordering::Less))
        );
        assert_eq!(
            compare(&Value::Str("a".into()), &Value::Str("A".into())),
            Ok(Some(Ordering::Greater))
        );
        assert_eq!(
            compare(&Value::Bool(true), &Value::Str("true".into())),
            Ok(Some(Ordering::Equal))
        );
        assert_eq!(compare(&Value::Null, &Value::Num(1)), Ok(None));
    }
}
