//! Turns expression text into tokens, each with the character columns it spans.
//!
//! Invariants: columns are 1-based and count characters (not bytes), so an error can point at the
//! exact place an admin typed; the lexer never panics and reports the first character it cannot
//! read. String literals follow VBA (`""` inside a string is one `"`) and additionally read `\\`
//! as one backslash, so Microsoft's published rules (`"\\0ACNF:"`) mean what they say; every other
//! backslash is kept as typed (Replace's `\n` monikers are handled by that function).

use std::fmt;

/// A character span: 1-based first column and the column after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First column (1-based, in characters).
    pub start: usize,
    /// One past the last column.
    pub end: usize,
}

impl Span {
    /// The span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// `[name]`.
    Attribute(String),
    /// `%name%`.
    Parameter(String),
    /// `$name`.
    Variable(String),
    /// `"text"`.
    Str(String),
    /// A decimal or `&H` hexadecimal integer.
    Num(i64),
    /// A name: function, constant (`True`, `NULL`, ...) or enumeration value (`UTF8`).
    Ident(String),
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// `&` (concatenate).
    Amp,
    /// `+`.
    Plus,
    /// `-`.
    Minus,
    /// `*`.
    Star,
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `&&`.
    And,
    /// `||`.
    Or,
    /// `!`.
    Not,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Attribute(a) => write!(f, "[{a}]"),
            Token::Parameter(p) => write!(f, "%{p}%"),
            Token::Variable(v) => write!(f, "${v}"),
            Token::Str(s) => write!(f, "\"{s}\""),
            Token::Num(n) => write!(f, "{n}"),
            Token::Ident(i) => f.write_str(i),
            Token::LParen => f.write_str("("),
            Token::RParen => f.write_str(")"),
            Token::Comma => f.write_str(","),
            Token::Amp => f.write_str("&"),
            Token::Plus => f.write_str("+"),
            Token::Minus => f.write_str("-"),
            Token::Star => f.write_str("*"),
            Token::Eq => f.write_str("="),
            Token::Ne => f.write_str("<>"),
            Token::Lt => f.write_str("<"),
            Token::Le => f.write_str("<="),
            Token::Gt => f.write_str(">"),
            Token::Ge => f.write_str(">="),
            Token::And => f.write_str("&&"),
            Token::Or => f.write_str("||"),
            Token::Not => f.write_str("!"),
        }
    }
}

/// A lexing failure: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// 1-based column.
    pub column: usize,
    /// What is wrong, for an admin.
    pub message: String,
}

/// Split `text` into tokens with their spans.
pub fn lex(text: &str) -> Result<Vec<(Token, Span)>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    let err = |column: usize, message: String| Err(LexError { column, message });
    while let Some(c) = at(i) {
        let start = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (token, next) = match c {
            '[' => {
                let Some(close) = (i + 1..chars.len()).find(|&j| at(j) == Some(']')) else {
                    return err(
                        start,
                        "'[' starts an attribute name but there is no closing ']'".into(),
                    );
                };
                let name: String = chars.get(i + 1..close).unwrap_or_default().iter().collect();
                let name = name.trim().to_string();
                if name.is_empty() {
                    return err(
                        start,
                        "'[]' names no attribute: write [attributeName]".into(),
                    );
                }
                (Token::Attribute(name), close + 1)
            }
            '%' => {
                let Some(close) = (i + 1..chars.len()).find(|&j| at(j) == Some('%')) else {
                    return err(
                        start,
                        "'%' starts a parameter name but there is no closing '%'".into(),
                    );
                };
                let name: String = chars.get(i + 1..close).unwrap_or_default().iter().collect();
                if name.trim().is_empty() {
                    return err(
                        start,
                        "'%%' names no parameter: write %Domain.FQDN% or similar".into(),
                    );
                }
                (Token::Parameter(name.trim().to_string()), close + 1)
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match at(j) {
                        None => {
                            return err(start, "this text has no closing '\"'".into());
                        }
                        Some('"') if at(j + 1) == Some('"') => {
                            s.push('"');
                            j += 2;
                        }
                        Some('"') => break,
                        Some('\\') if at(j + 1) == Some('\\') => {
                            s.push('\\');
                            j += 2;
                        }
                        Some(ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                (Token::Str(s), j + 1)
            }
            '\u{201C}' | '\u{201D}' => {
                return err(
                    start,
                    "this is a typographic quote (“ or ”): write text in straight quotes \"...\""
                        .into(),
                );
            }
            '$' => {
                let end = ident_end(&chars, i + 1);
                if end == i + 1 {
                    return err(
                        start,
                        "'$' must be followed by a variable name such as $item".into(),
                    );
                }
                (
                    Token::Variable(chars.get(i + 1..end).unwrap_or_default().iter().collect()),
                    end,
                )
            }
            '&' if at(i + 1) == Some('&') => (Token::And, i + 2),
            '&' if matches!(at(i + 1), Some('H' | 'h'))
                && at(i + 2).is_some_and(|d| d.is_ascii_hexdigit()) =>
            {
                let end = (i + 2..=chars.len())
                    .find(|&j| !at(j).is_some_and(|d| d.is_ascii_hexdigit()))
                    .unwrap_or(chars.len());
                let digits: String = chars.get(i + 2..end).unwrap_or_default().iter().collect();
                if at(end).is_some_and(is_ident_char) {
                    (Token::Amp, i + 1)
                } else {
                    match u64::from_str_radix(&digits, 16) {
                        // VBA reads &H80000000 as a negative 32-bit number; wider values are 64-bit.
                        Ok(v) if digits.len() <= 8 => (Token::Num(i64::from(v as u32 as i32)), end),
                        Ok(v) => (Token::Num(v as i64), end),
                        Err(_) => return err(start, format!("'&H{digits}' is too large a number")),
                    }
                }
            }
            '&' => (Token::Amp, i + 1),
            '|' if at(i + 1) == Some('|') => (Token::Or, i + 2),
            '|' => {
                return err(
                    start,
                    "a single '|' is not an operator: write '||' for OR".into(),
                );
            }
            '(' => (Token::LParen, i + 1),
            ')' => (Token::RParen, i + 1),
            ',' => (Token::Comma, i + 1),
            '+' => (Token::Plus, i + 1),
            '-' => (Token::Minus, i + 1),
            '*' => (Token::Star, i + 1),
            '=' if at(i + 1) == Some('=') => (Token::Eq, i + 2),
            '=' => (Token::Eq, i + 1),
            '<' if at(i + 1) == Some('>') => (Token::Ne, i + 2),
            '<' if at(i + 1) == Some('=') => (Token::Le, i + 2),
            '<' => (Token::Lt, i + 1),
            '>' if at(i + 1) == Some('=') => (Token::Ge, i + 2),
            '>' => (Token::Gt, i + 1),
            '!' if at(i + 1) == Some('=') => (Token::Ne, i + 2),
            '!' => (Token::Not, i + 1),
            d if d.is_ascii_digit() => {
                let end = (i..=chars.len())
                    .find(|&j| !at(j).is_some_and(|x| x.is_ascii_digit()))
                    .unwrap_or(chars.len());
                let digits: String = chars.get(i..end).unwrap_or_default().iter().collect();
                if at(end).is_some_and(|x| x == '.' || is_ident_char(x)) {
                    return err(
                        start,
                        format!(
                            "'{digits}{}' is not a number: numbers are whole decimal numbers or &H hexadecimal",
                            at(end).unwrap_or(' ')
                        ),
                    );
                }
                match digits.parse::<i64>() {
                    Ok(n) => (Token::Num(n), end),
                    Err(_) => return err(start, format!("{digits} is too large a number")),
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = ident_end(&chars, i);
                (
                    Token::Ident(chars.get(i..end).unwrap_or_default().iter().collect()),
                    end,
                )
            }
            other => {
                return err(start, format!("'{other}' is not allowed here"));
            }
        };
        out.push((
            token,
            Span {
                start,
                end: next + 1,
            },
        ));
        i = next;
    }
    Ok(out)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

fn ident_end(chars: &[char], from: usize) -> usize {
    (from..=chars.len())
        .find(|&j| !chars.get(j).is_some_and(|&c| is_ident_char(c)))
        .unwrap_or(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<Token> {
        lex(s).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn reads_the_documented_forms() {
        assert_eq!(
            tokens(r#"IIF([a]&"x"="y",%Domain.FQDN%,$item)"#),
            vec![
                Token::Ident("IIF".into()),
                Token::LParen,
                Token::Attribute("a".into()),
                Token::Amp,
                Token::Str("x".into()),
                Token::Eq,
                Token::Str("y".into()),
                Token::Comma,
                Token::Parameter("Domain.FQDN".into()),
                Token::Comma,
                Token::Variable("item".into()),
                Token::RParen,
            ]
        );
        assert_eq!(
            tokens("&HF7 &H21C07000"),
            vec![Token::Num(0xF7), Token::Num(0x21C0_7000)]
        );
        assert_eq!(tokens("&H80000000"), vec![Token::Num(-2_147_483_648)]);
        assert_eq!(
            tokens("a && b || !c <> d <= e >= f"),
            vec![
                Token::Ident("a".into()),
                Token::And,
                Token::Ident("b".into()),
                Token::Or,
                Token::Not,
                Token::Ident("c".into()),
                Token::Ne,
                Token::Ident("d".into()),
                Token::Le,
                Token::Ident("e".into()),
                Token::Ge,
                Token::Ident("f".into()),
            ]
        );
    }

    #[test]
    fn strings_follow_vba_plus_double_backslash() {
        assert_eq!(
            tokens(r#""say ""hi""""#),
            vec![Token::Str(r#"say "hi""#.into())]
        );
        assert_eq!(tokens(r#""\\0ACNF:""#), vec![Token::Str(r"\0ACNF:".into())]);
        assert_eq!(tokens(r#""\r\n""#), vec![Token::Str(r"\r\n".into())]);
    }

    #[test]
    fn columns_count_characters() {
        let toks = lex("Left(\"Ünï\", 2)").unwrap();
        assert_eq!(toks[2].1, Span { start: 6, end: 11 });
        assert_eq!(toks[4].1.start, 13);
    }

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(lex("Left([cn, 2)").unwrap_err().column, 6);
        assert_eq!(
            lex("Left(\"abc, 2)").unwrap_err().message,
            "this text has no closing '\"'"
        );
        assert_eq!(lex("a | b").unwrap_err().column, 3);
        assert_eq!(lex("“x”").unwrap_err().column, 1);
        assert_eq!(lex("1.5").unwrap_err().column, 1);
    }
}
