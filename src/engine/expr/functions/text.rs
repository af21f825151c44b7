//! Text functions: `InStr`, `Left`, `Mid`, `PadLeft`, `PCase`, `Replace`, `ReplaceChars`, `Word`...
//!
//! Invariants: positions and lengths count characters, 1-based as in VBA; the NULL rules are the
//! ones Microsoft documents per function (`Left`, `Mid`, `Right`, `PadLeft`, `PadRight`, `Word`
//! return empty text for NULL; the others pass NULL through).

use crate::engine::expr::functions::{Args, FnError, chars, num_to_usize, text_or_null};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

pub(super) fn guid(_: &Args<'_>) -> R {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)
        .map_err(|e| FnError::Message(format!("no randomness available: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    Ok(Value::Str(crate::domain::ObjectGuid::from(b).to_string()))
}

fn compare_mode(a: &Args<'_>, i: usize) -> Result<bool, FnError> {
    Ok(a.choice(i, &["vbBinaryCompare", "vbTextCompare"])? == Some("vbTextCompare"))
}

fn fold(s: &str, insensitive: bool) -> Vec<char> {
    if insensitive {
        s.chars().flat_map(char::to_lowercase).collect()
    } else {
        chars(s)
    }
}

fn find_from(hay: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return (from <= hay.len()).then_some(from);
    }
    (from..=hay.len().saturating_sub(needle.len()))
        .find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

pub(super) fn instr(a: &Args<'_>) -> R {
    let Some(s) = a.text_ref(0)? else {
        return Ok(Value::Null);
    };
    let m = a.text_ref(1)?.unwrap_or_default();
    let start = if a.has(2) { a.req_num(2)? } else { 1 };
    if start < 1 {
        return Err(FnError::Message(format!(
            "argument 3 (start) must be 1 or more, not {start}"
        )));
    }
    let ci = compare_mode(a, 3)?;
    let from = num_to_usize(start - 1);
    let found = if !ci && s.is_ascii() && m.is_ascii() {
        find_ascii(&s, &m, from)
    } else {
        find_from(&fold(&s, ci), &fold(&m, ci), from)
    };
    Ok(Value::Num(found.map_or(0, |i| i + 1) as i64))
}

/// [`find_from`] for ASCII text, where characters are bytes: searched without copies.
fn find_ascii(hay: &str, needle: &str, from: usize) -> Option<usize> {
    hay.get(from..)?.find(needle).map(|i| i + from)
}

pub(super) fn instr_rev(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let m = a.text(1)?.unwrap_or_default();
    let ci = compare_mode(a, 3)?;
    let (hay, needle) = (fold(&s, ci), fold(&m, ci));
    // `start` is the position the backwards search starts from; -1 (the default) is the end.
    let start = if a.has(2) { a.req_num(2)? } else { -1 };
    let last_start = if start == -1 {
        hay.len()
    } else {
        num_to_usize(start)
    };
    if start == 0 || start < -1 {
        return Err(FnError::Message(format!(
            "argument 3 (start) must be -1 or 1 or more, not {start}"
        )));
    }
    let limit = last_start.min(hay.len());
    let pos = (0..limit)
        .rev()
        .find(|&i| {
            i + needle.len() <= limit && hay.get(i..i + needle.len()) == Some(needle.as_slice())
        })
        .map_or(0, |i| i + 1);
    Ok(Value::Num(pos as i64))
}

pub(super) fn lcase(a: &Args<'_>) -> R {
    Ok(text_or_null(a.text_ref(0)?.map(|s| s.to_lowercase())))
}

pub(super) fn ucase(a: &Args<'_>) -> R {
    Ok(text_or_null(a.text_ref(0)?.map(|s| s.to_uppercase())))
}

pub(super) fn len(a: &Args<'_>) -> R {
    Ok(a.text_ref(0)?
        .map_or(Value::Null, |s| Value::Num(s.chars().count() as i64)))
}

pub(super) fn left(a: &Args<'_>) -> R {
    let s = a.text_ref(0)?.unwrap_or_default();
    let n = a.req_num(1)?;
    // The first `n` characters: the text up to where the `n+1`th starts.
    let end = match s.char_indices().nth(num_to_usize(n)) {
        Some((end, _)) if n >= 0 => end,
        _ => s.len(),
    };
    Ok(Value::Str(s.get(..end).unwrap_or_default().to_string()))
}

pub(super) fn right(a: &Args<'_>) -> R {
    let s = a.text(0)?.unwrap_or_default();
    let n = a.req_num(1)?;
    if n < 0 {
        return Ok(Value::Str(s));
    }
    let c = chars(&s);
    let skip = c.len().saturating_sub(num_to_usize(n));
    Ok(Value::Str(
        c.get(skip..).unwrap_or_default().iter().collect(),
    ))
}

pub(super) fn mid(a: &Args<'_>) -> R {
    let s = a.text(0)?.unwrap_or_default();
    let start = a.req_num(1)?;
    let c = chars(&s);
    let n = if a.has(2) { a.req_num(2)? } else { i64::MAX };
    if n == 0 {
        return Ok(Value::Str(String::new()));
    }
    if n < 0 || start <= 0 || num_to_usize(start) > c.len() {
        return Ok(Value::Str(s));
    }
    let from = num_to_usize(start - 1);
    Ok(Value::Str(
        c.iter().skip(from).take(num_to_usize(n)).collect(),
    ))
}

fn pad(a: &Args<'_>, left_side: bool) -> R {
    let s = a.text(0)?.unwrap_or_default();
    let len = num_to_usize(a.req_num(1)?);
    let p = a.req_text(2)?;
    let mut pc = p.chars();
    let (Some(ch), None) = (pc.next(), pc.next()) else {
        return Err(FnError::Message(format!(
            "argument 3 (padCharacter) must be exactly one character, not '{p}'"
        )));
    };
    let have = s.chars().count();
    if have >= len {
        return Ok(Value::Str(s));
    }
    let fill: String = std::iter::repeat_n(ch, len - have).collect();
    Ok(Value::Str(if left_side { fill + &s } else { s + &fill }))
}

pub(super) fn pad_left(a: &Args<'_>) -> R {
    pad(a, true)
}

pub(super) fn pad_right(a: &Args<'_>) -> R {
    pad(a, false)
}

/// Upper-cases the first letter of each space-delimited word and lower-cases the rest; a word
/// written entirely in capitals (an acronym) is left alone, as Microsoft documents.
pub(super) fn pcase(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let words: Vec<String> = s
        .split(' ')
        .map(|w| {
            let has_lower = w.chars().any(char::is_lowercase);
            let has_upper = w.chars().any(char::is_uppercase);
            if has_upper && !has_lower && w.chars().filter(|c| c.is_alphabetic()).count() > 1 {
                return w.to_string();
            }
            let mut out = String::new();
            for (i, c) in w.chars().enumerate() {
                if i == 0 {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
            out
        })
        .collect();
    Ok(Value::Str(words.join(" ")))
}

fn monikers(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
}

pub(super) fn replace(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let old = monikers(&a.text(1)?.unwrap_or_default());
    let new = monikers(&a.text(2)?.unwrap_or_default());
    if old.is_empty() {
        return Ok(Value::Str(s));
    }
    Ok(Value::Str(s.replace(&old, &new)))
}

pub(super) fn replace_chars(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    let pattern: String = a
        .req_text(1)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut map: Vec<(char, String)> = Vec::new();
    for entry in pattern.split(',').filter(|e| !e.is_empty()) {
        let Some((src, target)) = entry.split_once(':') else {
            return Err(FnError::Message(format!(
                "argument 2 (ReplacePattern): '{entry}' is not 'source:target' (write e.g. 'ö:o,ß:ss')"
            )));
        };
        let mut it = src.chars();
        let (Some(c), None) = (it.next(), it.next()) else {
            return Err(FnError::Message(format!(
                "argument 2 (ReplacePattern): the source '{src}' must be exactly one character"
            )));
        };
        map.push((c, target.to_string()));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match map.iter().find(|(src, _)| *src == c) {
            Some((_, t)) => out.push_str(t),
            None => out.push(c),
        }
    }
    Ok(Value::Str(out))
}

pub(super) fn ltrim(a: &Args<'_>) -> R {
    Ok(text_or_null(
        a.text_ref(0)?.map(|s| s.trim_start().to_string()),
    ))
}

pub(super) fn rtrim(a: &Args<'_>) -> R {
    Ok(text_or_null(
        a.text_ref(0)?.map(|s| s.trim_end().to_string()),
    ))
}

pub(super) fn trim(a: &Args<'_>) -> R {
    Ok(text_or_null(a.text_ref(0)?.map(|s| s.trim().to_string())))
}

pub(super) fn word(a: &Args<'_>) -> R {
    let s = a.text(0)?.unwrap_or_default();
    let n = a.req_num(1)?;
    let delims = a.text(2)?.unwrap_or_default();
    if n < 1 {
        return Ok(Value::Str(String::new()));
    }
    let found = s
        .split(|c: char| delims.contains(c))
        .filter(|w| !w.is_empty())
        .nth(num_to_usize(n - 1))
        .unwrap_or_default();
    Ok(Value::Str(found.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_takes_the_first_characters() {
        use crate::engine::expr::{DateTime, EvalContext, Expr, MemoryObject, Params};
        let (object, params) = (MemoryObject::new(None), Params::new());
        let ctx = EvalContext {
            object: &object,
            params: &params,
            now: DateTime::now(),
        };
        for text in ["", "abc", "Åsa Ström", "SystemMailbox{1}"] {
            for n in -2..20i64 {
                let e = Expr::parse(&format!("Left(\"{text}\",{n})")).unwrap();
                let expected: String = if n < 0 {
                    text.to_string()
                } else {
                    text.chars().take(n as usize).collect()
                };
                assert_eq!(e.evaluate(&ctx), Ok(Value::Str(expected)), "{text} {n}");
            }
        }
    }

    #[test]
    fn the_ascii_search_finds_what_the_character_search_finds() {
        let texts = [
            "",
            "a",
            "CAS_{x}",
            "SystemMailbox{1}",
            "abcabc",
            "}}",
            "x}y}z",
        ];
        let needles = ["", "}", "abc", "c", "CAS_", "zz", "x}y}z!", "{"];
        for hay in texts {
            for needle in needles {
                for from in 0..hay.len() + 3 {
                    assert_eq!(
                        find_ascii(hay, needle, from),
                        find_from(&chars(hay), &chars(needle), from),
                        "{hay:?} {needle:?} {from}"
                    );
                }
            }
        }
    }
}
