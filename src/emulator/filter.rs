//! OData `$filter` for the emulator: a parser for the subset Microsoft Graph supports on
//! directory objects and an evaluator over JSON objects.
//!
//! Supported: `eq`, `ne`, `not`, `startswith(p,'x')`, `endswith(p,'x')`, `in (...)`, `and`, `or`,
//! parentheses, and lambda `any` on multi-valued strings (`proxyAddresses/any(p:p eq 'x')`).
//! Invariants: string comparisons are case-insensitive like the directory's; a property the
//! caller may not filter on is rejected by the caller-supplied allow list, never silently
//! ignored; the parser never panics on hostile input.

use serde_json::Value;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both sides hold.
    And(Box<Expr>, Box<Expr>),
    /// Either side holds.
    Or(Box<Expr>, Box<Expr>),
    /// The inner expression does not hold.
    Not(Box<Expr>),
    /// `prop op literal`.
    Cmp(String, Op, Value),
    /// `prop in (a, b, ...)`.
    In(String, Vec<Value>),
    /// `startswith(prop, 'x')` / `endswith(prop, 'x')`.
    Func(Func, String, String),
    /// `prop/any(v: v op literal)` or `prop/any(v: startswith(v, 'x'))`.
    Any(String, Box<AnyBody>),
}

/// The body of an `any` lambda, over the bound variable.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyBody {
    /// `v op literal`.
    Cmp(Op, Value),
    /// `startswith(v, 'x')`.
    Func(Func, String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `ge`.
    Ge,
    /// `le`.
    Le,
}

/// String functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
}

/// A filter the parser rejected, with Graph's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
}

fn lex(s: &str) -> Result<Vec<Tok>, FilterError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '/' => {
                out.push(Tok::Slash);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(FilterError("Unterminated string literal.".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '-')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) => out.push(Tok::Num(n)),
                    // A bare GUID, e.g. `id eq 1234-...` is not valid OData but keep it.
                    Err(_) => out.push(Tok::Str(text)),
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '@' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                i = i.max(start + 1);
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => {
                return Err(FilterError(format!(
                    "Syntax error: character '{other}' is not valid at position {i} in '{s}'."
                )));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }
    fn expect(&mut self, t: Tok) -> Result<(), FilterError> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(FilterError(format!(
                "Syntax error: expected {t:?} but found {other:?}."
            ))),
        }
    }
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        if let Some(f) = self.func_name() {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let prop = self.path()?;
            self.expect(Tok::Comma)?;
            let lit = self.string()?;
            self.expect(Tok::RParen)?;
            return Ok(Expr::Func(f, prop, lit));
        }
        let prop = self.path()?;
        if self.peek() == Some(&Tok::Slash) {
            // prop/any(v: ...)
            self.pos += 1;
            match self.next() {
                Some(Tok::Ident(a)) if a.eq_ignore_ascii_case("any") => {}
                other => {
                    return Err(FilterError(format!(
                        "Syntax error: expected 'any' but found {other:?}."
                    )));
                }
            }
            self.expect(Tok::LParen)?;
            let var = match self.next() {
                Some(Tok::Ident(v)) => v,
                other => return Err(FilterError(format!("Syntax error at {other:?}."))),
            };
            self.expect(Tok::Colon)?;
            let body = if let Some(f) = self.func_name() {
                self.pos += 1;
                self.expect(Tok::LParen)?;
                self.bound(&var)?;
                self.expect(Tok::Comma)?;
                let lit = self.string()?;
                self.expect(Tok::RParen)?;
                AnyBody::Func(f, lit)
            } else {
                self.bound(&var)?;
                let op = self.op()?;
                AnyBody::Cmp(op, self.literal()?)
            };
            self.expect(Tok::RParen)?;
            return Ok(Expr::Any(prop, Box::new(body)));
        }
        if self.keyword("in") {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let mut items = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                items.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In(prop, items));
        }
        let op = self.op()?;
        Ok(Expr::Cmp(prop, op, self.literal()?))
    }
    fn bound(&mut self, var: &str) -> Result<(), FilterError> {
        match self.next() {
            Some(Tok::Ident(v)) if v == var => Ok(()),
            other => Err(FilterError(format!(
                "Syntax error: expected range variable '{var}' but found {other:?}."
            ))),
        }
    }
    fn func_name(&self) -> Option<Func> {
        if !matches!(self.toks.get(self.pos + 1), Some(Tok::LParen)) {
            return None;
        }
        match self.peek() {
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("startswith") => Some(Func::StartsWith),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("endswith") => Some(Func::EndsWith),
            _ => None,
        }
    }
    fn path(&mut self) -> Result<String, FilterError> {
        let mut p = match self.next() {
            Some(Tok::Ident(s)) => s,
            other => {
                return Err(FilterError(format!(
                    "Syntax error: expected a property name but found {other:?}."
                )));
            }
        };
        // onPremisesExtensionAttributes/extensionAttribute1 (but not prop/any)
        while self.peek() == Some(&Tok::Slash)
            && matches!(self.toks.get(self.pos + 1), Some(Tok::Ident(s)) if !s.eq_ignore_ascii_case("any"))
        {
            self.pos += 1;
            if let Some(Tok::Ident(s)) = self.next() {
                p.push('/');
                p.push_str(&s);
            }
        }
        Ok(p)
    }
    fn op(&mut self) -> Result<Op, FilterError> {
        match self.next() {
            Some(Tok::Ident(s)) => match s.to_ascii_lowercase().as_str() {
                "eq" => Ok(Op::Eq),
                "ne" => Ok(Op::Ne),
                "ge" => Ok(Op::Ge),
                "le" => Ok(Op::Le),
                _ => Err(FilterError(format!("Unsupported operator '{s}'."))),
            },
            other => Err(FilterError(format!(
                "Syntax error: expected an operator but found {other:?}."
            ))),
        }
    }
    fn string(&mut self) -> Result<String, FilterError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            other => Err(FilterError(format!(
                "Syntax error: expected a string literal but found {other:?}."
            ))),
        }
    }
    fn literal(&mut self) -> Result<Value, FilterError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Num(n)) => Ok(serde_json::json!(n)),
            Some(Tok::Ident(s)) if s == "true" => Ok(Value::Bool(true)),
            Some(Tok::Ident(s)) if s == "false" => Ok(Value::Bool(false)),
            Some(Tok::Ident(s)) if s == "null" => Ok(Value::Null),
            other => Err(FilterError(format!(
                "Syntax error: expected a literal but found {other:?}."
            ))),
        }
    }
}

/// Parse a `$filter` value.
pub fn parse(s: &str) -> Result<Expr, FilterError> {
    let mut p = Parser {
        toks: lex(s)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(FilterError(format!(
            "Syntax error at position {} in '{s}'.",
            p.pos
        )));
    }
    Ok(e)
}

impl Expr {
    /// Every property the expression reads (for allow-list checks).
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.properties();
                v.extend(b.properties());
                v
            }
            Expr::Not(a) => a.properties(),
            Expr::Cmp(p, _, _) | Expr::In(p, _) | Expr::Func(_, p, _) | Expr::Any(p, _) => {
                vec![p.as_str()]
            }
        }
    }

    /// Whether the expression uses an operator Graph calls an advanced query (`ne`, `not`,
    /// `endswith`), which needs `$count=true` and `ConsistencyLevel: eventual`.
    pub fn is_advanced(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.is_advanced() || b.is_advanced(),
            Expr::Not(_) => true,
            Expr::Cmp(_, op, _) => *op == Op::Ne,
            Expr::Func(f, _, _) => *f == Func::EndsWith,
            Expr::Any(_, b) => matches!(**b, AnyBody::Func(Func::EndsWith, _)),
            Expr::In(_, _) => false,
        }
    }

    /// Evaluate against an object's JSON properties.
    pub fn matches(&self, obj: &serde_json::Map<String, Value>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(obj) && b.matches(obj),
            Expr::Or(a, b) => a.matches(obj) || b.matches(obj),
            Expr::Not(a) => !a.matches(obj),
            Expr::Cmp(p, op, lit) => cmp(lookup(obj, p), *op, lit),
            Expr::In(p, items) => {
                let v = lookup(obj, p);
                items.iter().any(|lit| cmp(v, Op::Eq, lit))
            }
            Expr::Func(f, p, lit) => match lookup(obj, p) {
                Value::String(s) => func(*f, s, lit),
                _ => false,
            },
            Expr::Any(p, body) => match lookup(obj, p) {
                Value::Array(items) => items.iter().any(|item| match &**body {
                    AnyBody::Cmp(op, lit) => cmp(item, *op, lit),
                    AnyBody::Func(f, lit) => item.as_str().is_some_and(|s| func(*f, s, lit)),
                }),
                _ => false,
            },
        }
    }
}

static NULL: Value = Value::Null;

fn lookup<'a>(obj: &'a serde_json::Map<String, Value>, path: &str) -> &'a Value {
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or_default();
    let mut cur = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(first))
        .map(|(_, v)| v)
        .unwrap_or(&NULL);
    for part in parts {
        cur = match cur {
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
                .unwrap_or(&NULL),
            _ => &NULL,
        };
    }
    cur
}

fn func(f: Func, s: &str, lit: &str) -> bool {
    let (s, lit) = (s.to_lowercase(), lit.to_lowercase());
    match f {
        Func::StartsWith => s.starts_with(&lit),
        Func::EndsWith => s.ends_with(&lit),
    }
}

fn cmp(v: &Value, op: Op, lit: &Value) -> bool {
    let ord = match (v, lit) {
        (Value::String(a), Value::String(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        _ => None,
    };
    match op {
        Op::Eq => ord == Some(std::cmp::Ordering::Equal),
        Op::Ne => ord != Some(std::cmp::Ordering::Equal),
        Op::Ge => ord.is_some_and(|o| o != std::cmp::Ordering::Less),
        Op::Le => ord.is_some_and(|o| o != std::cmp::Ordering::Greater),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn evaluates_the_engine_lookups() {
        let u = obj(json!({
            "userPrincipalName": "Ann@Contoso.com", "onPremisesImmutableId": "ab+/cd==",
            "displayName": "Ann O'Neil", "proxyAddresses": ["SMTP:ann@contoso.com"],
            "accountEnabled": true
        }));
        for (f, want) in [
            ("userPrincipalName eq 'ann@contoso.com'", true),
            ("onPremisesImmutableId eq 'ab+/cd=='", true),
            ("startswith(displayName,'ann')", true),
            ("displayName eq 'Ann O''Neil'", true),
            ("proxyAddresses/any(p:p eq 'smtp:ann@contoso.com')", true),
            ("proxyAddresses/any(x:startswith(x,'smtp:bob'))", false),
            ("userPrincipalName in ('x@y', 'ann@contoso.com')", true),
            (
                "accountEnabled eq true and (mail eq null or mail eq 'x')",
                true,
            ),
            (
                "not (displayName eq 'x') and userPrincipalName ne 'y'",
                true,
            ),
            ("id eq 'nope' or displayName ne 'Ann O''Neil'", false),
        ] {
            assert_eq!(parse(f).unwrap().matches(&u), want, "{f}");
        }
        assert!(parse("displayName ne 'x'").unwrap().is_advanced());
        assert!(!parse("displayName eq 'x'").unwrap().is_advanced());
    }

    #[test]
    fn rejects_garbage() {
        for f in [
            "",
            "displayName",
            "displayName eq",
            "'x' eq",
            "a eq 'b' and",
            "a gt 1",
            "a eq 'x",
        ] {
            assert!(parse(f).is_err(), "{f}");
        }
    }
}
