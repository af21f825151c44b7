//! Tokens to a tree, with the operator rules of Entra Connect's expression language.
//!
//! Precedence, loosest first: `||`, then `&&`, then the comparisons (`= <> < <= > >=`), then the
//! arithmetic and concatenation operators (`+ - * &`), which share one level and are evaluated
//! strictly left to right as Microsoft documents ("the * is not evaluated before -": `3+2*5` is
//! 25), then the prefix operators `!` and `-`. Comparisons bind tighter than `&&`/`||` because
//! Microsoft's own default rules (`IsPresent([x]) = False || ...`) only make sense that way;
//! `&&` binding tighter than `||` is our documented choice where Microsoft is silent.
//!
//! Invariants: never panics; nesting is limited ([`MAX_DEPTH`]) so hostile input cannot exhaust the
//! stack; every error carries the 1-based column of the token it is about and says what was
//! expected in words an admin can act on.

use crate::domain::AttributeName;
use crate::engine::expr::ast::{BinaryOp, Call, Kind, Node, UnaryOp};
use crate::engine::expr::functions;
use crate::engine::expr::lexer::{Span, Token, lex};
use crate::engine::expr::value::Value;

/// How deeply expressions may nest (parentheses, calls, prefix operators).
pub const MAX_DEPTH: usize = 64;

/// Why an expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Parse a whole expression.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let tokens = lex(text).map_err(|e| ParseError {
        column: e.column,
        message: e.message,
    })?;
    let end = text.chars().count() + 1;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        end,
    };
    if p.tokens.is_empty() {
        return Err(ParseError {
            column: 1,
            message: "the expression is empty".into(),
        });
    }
    let node = p.or()?;
    if let Some((tok, span)) = p.peek() {
        let hint = match tok {
            Token::RParen => "there is a ')' without a matching '('".to_string(),
            _ => format!(
                "unexpected '{tok}' after a complete expression: is an operator or ',' missing?"
            ),
        };
        return Err(ParseError {
            column: span.start,
            message: hint,
        });
    }
    Ok(node)
}

struct Parser {
    tokens: Vec<(Token, Span)>,
    pos: usize,
    depth: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&(Token, Span)> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<(Token, Span)> {
        let t = self.tokens.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, want: &Token) -> Option<Span> {
        match self.peek() {
            Some((t, s)) if t == want => {
                let s = *s;
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }

    fn error<T>(&self, column: usize, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            column,
            message: message.into(),
        })
    }

    fn column_here(&self) -> usize {
        self.peek().map_or(self.end, |(_, s)| s.start)
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(
                self.column_here(),
                format!("the expression nests more than {MAX_DEPTH} levels deep"),
            );
        }
        Ok(())
    }

    fn binary_level(
        &mut self,
        ops: &[(Token, BinaryOp)],
        next: fn(&mut Self) -> Result<Node, ParseError>,
    ) -> Result<Node, ParseError> {
        let mut left = next(self)?;
        while let Some(op) = self
            .peek()
            .and_then(|(tok, _)| ops.iter().find(|(t, _)| t == tok).map(|(_, op)| *op))
        {
            self.pos += 1;
            let right = next(self)?;
            let span = left.span.to(right.span);
            left = Node {
                kind: Kind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        self.binary_level(&[(Token::Or, BinaryOp::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        self.binary_level(&[(Token::And, BinaryOp::And)], Self::comparison)
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        self.binary_level(
            &[
                (Token::Eq, BinaryOp::Eq),
                (Token::Ne, BinaryOp::Ne),
                (Token::Lt, BinaryOp::Lt),
                (Token::Le, BinaryOp::Le),
                (Token::Gt, BinaryOp::Gt),
                (Token::Ge, BinaryOp::Ge),
            ],
            Self::arithmetic,
        )
    }

    fn arithmetic(&mut self) -> Result<Node, ParseError> {
        self.binary_level(
            &[
                (Token::Amp, BinaryOp::Concat),
                (Token::Plus, BinaryOp::Add),
                (Token::Minus, BinaryOp::Sub),
                (Token::Star, BinaryOp::Mul),
            ],
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        let op = match self.peek() {
            Some((Token::Not, _)) => UnaryOp::Not,
            Some((Token::Minus, _)) => UnaryOp::Neg,
            _ => return self.primary(),
        };
        let Some((_, span)) = self.next() else {
            return self.primary();
        };
        self.enter()?;
        let operand = self.unary()?;
        self.depth -= 1;
        // Fold `-<number>` into a literal so `-2147483648` is one value.
        if let (UnaryOp::Neg, Kind::Literal(Value::Num(n))) = (op, &operand.kind)
            && let Some(neg) = n.checked_neg()
        {
            return Ok(Node {
                kind: Kind::Literal(Value::Num(neg)),
                span: span.to(operand.span),
            });
        }
        let full = span.to(operand.span);
        Ok(Node {
            kind: Kind::Unary(op, Box::new(operand)),
            span: full,
        })
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let Some((tok, span)) = self.next() else {
            return self.error(
                self.end,
                "the expression ends too early: a value is missing here",
            );
        };
        let kind = match tok {
            Token::Attribute(a) => match AttributeName::new(&a) {
                Ok(name) => Kind::Attribute(name),
                Err(_) => {
                    return self.error(
                        span.start,
                        format!("[{a}] is not an attribute name: names start with a letter and hold letters, digits and '-'"),
                    );
                }
            },
            Token::Parameter(p) => Kind::Parameter(p),
            Token::Variable(v) => Kind::Variable(v),
            Token::Str(s) => Kind::Literal(Value::Str(s)),
            Token::Num(n) => Kind::Literal(Value::Num(n)),
            Token::LParen => {
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                let Some(close) = self.eat(&Token::RParen) else {
                    return self.error(
                        self.column_here(),
                        format!("expected ')' to close the '(' at column {}", span.start),
                    );
                };
                return Ok(Node {
                    kind: inner.kind,
                    span: span.to(close),
                });
            }
            Token::Ident(name) => {
                if matches!(self.peek(), Some((Token::LParen, _))) {
                    return self.call(&name, span);
                }
                match name.to_ascii_lowercase().as_str() {
                    "true" => Kind::Literal(Value::Bool(true)),
                    "false" => Kind::Literal(Value::Bool(false)),
                    "null" | "nothing" => Kind::Literal(Value::Null),
                    "crlf" => Kind::Literal(Value::Str("\r\n".into())),
                    "authoritativenull" => Kind::Literal(Value::AuthoritativeNull),
                    "ignorethisflow" => Kind::Literal(Value::IgnoreThisFlow),
                    _ if functions::lookup(&name).is_some() => {
                        return self.error(
                            span.start,
                            format!("{name} is a function: write {name}(...)"),
                        );
                    }
                    _ => Kind::Enum(name),
                }
            }
            Token::RParen => return self.error(span.start, "a value is missing before ')'"),
            Token::Comma => return self.error(span.start, "a value is missing before ','"),
            other => {
                return self.error(span.start, format!("a value is missing before '{other}'"));
            }
        };
        Ok(Node { kind, span })
    }

    fn call(&mut self, name: &str, name_span: Span) -> Result<Node, ParseError> {
        let Some(function) = functions::lookup(name) else {
            let hint = functions::suggest(name)
                .map(|s| format!(" Did you mean {s}?"))
                .unwrap_or_default();
            return self.error(name_span.start, format!("unknown function '{name}'.{hint}"));
        };
        let open = self.eat(&Token::LParen).unwrap_or(name_span);
        self.enter()?;
        let mut args = Vec::new();
        let close = if let Some(close) = self.eat(&Token::RParen) {
            close
        } else {
            loop {
                args.push(self.or()?);
                if self.eat(&Token::Comma).is_some() {
                    continue;
                }
                if let Some(close) = self.eat(&Token::RParen) {
                    break close;
                }
                return self.error(
                    self.column_here(),
                    format!(
                        "expected ',' or ')' in the call to {} opened at column {}",
                        function.name, open.start
                    ),
                );
            }
        };
        self.depth -= 1;
        if args.len() < function.min_args || args.len() > function.max_args {
            let count = match (function.min_args, function.max_args) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return self.error(
                name_span.start,
                format!(
                    "{} takes {count} argument{}, not {}: {}",
                    function.name,
                    if count == "1" { "" } else { "s" },
                    args.len(),
                    function.signature
                ),
            );
        }
        functions::check_call(function, &args)
            .map_err(|(column, message)| ParseError { column, message })?;
        Ok(Node {
            kind: Kind::Call(Call { function, args }),
            span: name_span.to(close),
        })
    }
}
