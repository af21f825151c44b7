//! Directory functions: `DNComponent`, `DNComponentRev`, `EscapeDNComponent`.
//!
//! Invariants: components are returned exactly as written in the DN (still escaped), which is
//! what the default rules rely on when they look for the `\0ACNF:` of replication-conflict
//! objects; a component number outside the DN gives NULL; splitting honours backslash escapes
//! and quoted values, so `CN=Smith\, John` is one component.

use crate::engine::expr::functions::{Args, FnError, num_to_usize};
use crate::engine::expr::value::Value;

type R = Result<Value, FnError>;

/// The `(type, value)` parts of a DN's components, left to right, values as written (slices of
/// `dn`, not copies).
fn components(dn: &str) -> impl DoubleEndedIterator<Item = (&str, &str)> {
    parts(dn).filter_map(|part| {
        let part = part.trim();
        if part.is_empty() {
            return None;
        }
        Some(match part.split_once('=') {
            Some((t, v)) => (t.trim(), v.trim()),
            None => ("", part),
        })
    })
}

/// The text between unquoted, unescaped `,` or `;` separators.
fn parts(dn: &str) -> impl DoubleEndedIterator<Item = &str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in dn.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' | ';' if !quoted => {
                out.push(dn.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(dn.get(start..).unwrap_or_default());
    out.into_iter()
}

fn dn_text<'a>(a: &'a Args<'_>) -> Result<Option<std::borrow::Cow<'a, str>>, FnError> {
    a.text_ref(0)
}

pub(super) fn dn_component(a: &Args<'_>) -> R {
    let Some(dn) = dn_text(a)? else {
        return Ok(Value::Null);
    };
    let n = a.req_num(1)?;
    if n < 1 {
        return Ok(Value::Null);
    }
    Ok(components(&dn)
        .nth(num_to_usize(n - 1))
        .map_or(Value::Null, |(_, v)| Value::Str(v.to_string())))
}

pub(super) fn dn_component_rev(a: &Args<'_>) -> R {
    let Some(dn) = dn_text(a)? else {
        return Ok(Value::Null);
    };
    let n = a.req_num(1)?;
    let skip_dc = a.choice(2, &["DC"])?.is_some();
    if n < 1 {
        return Ok(Value::Null);
    }
    Ok(components(&dn)
        .rev()
        .filter(|(t, _)| !(skip_dc && t.eq_ignore_ascii_case("dc")))
        .nth(num_to_usize(n - 1))
        .map_or(Value::Null, |(_, v)| Value::Str(v.to_string())))
}

/// Escapes the value of one `type=value` component (or the whole text when it has no `=`).
pub(super) fn escape_dn_component(a: &Args<'_>) -> R {
    let Some(s) = a.text(0)? else {
        return Ok(Value::Null);
    };
    Ok(Value::Str(match s.split_once('=') {
        Some((t, v)) => format!("{t}={}", crate::domain::escape_value(v)),
        None => crate::domain::escape_value(&s),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splitting a character at a time into copies, as `components` did before it returned
    /// slices: the two must agree.
    fn copied_components(dn: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut chars = dn.chars();
        let mut quoted = false;
        let push = |part: &str, out: &mut Vec<(String, String)>| {
            let part = part.trim();
            if part.is_empty() {
                return;
            }
            match part.split_once('=') {
                Some((t, v)) => out.push((t.trim().to_string(), v.trim().to_string())),
                None => out.push((String::new(), part.to_string())),
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    current.push(c);
                    if let Some(n) = chars.next() {
                        current.push(n);
                    }
                }
                '"' => {
                    quoted = !quoted;
                    current.push(c);
                }
                ',' | ';' if !quoted => {
                    push(&current, &mut out);
                    current.clear();
                }
                _ => current.push(c),
            }
        }
        push(&current, &mut out);
        out
    }

    #[test]
    fn components_are_the_written_parts_between_unescaped_unquoted_separators() {
        for dn in [
            "",
            "cn=Joe,ou=Atlanta,ou=GA,ou=US, dc=contoso,dc=com",
            r"CN=Smith\, John;OU=Staff,DC=corp",
            r#"CN="Smith, John",OU=a\"b,DC=corp"#,
            r"CN=John\0ACNF:4c5d6e7f,OU=Staff",
            r"CN=trailing\",
            r"CN=end\\,OU=x",
            ",, ,CN=a,,novalue, =empty type ,ou = spaced ",
            "CN=Åsa Ström,OU=Göteborg;DC=exämple",
            r#"CN="unterminated, quote,OU=x"#,
        ] {
            let got: Vec<(String, String)> = components(dn)
                .map(|(t, v)| (t.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, copied_components(dn), "{dn}");
            let reversed: Vec<(&str, &str)> = components(dn).rev().collect();
            assert_eq!(reversed.len(), got.len(), "{dn}");
        }
        assert_eq!(
            components(r"CN=Smith\, John,DC=corp").collect::<Vec<_>>(),
            [("CN", r"Smith\, John"), ("DC", "corp")]
        );
    }
}
