//! The parsed form of an expression: a tree of nodes, each with the span of text it came from.
//!
//! Invariants: every node carries its [`Span`], so an evaluation error can point at the
//! function or operator that failed; function calls are resolved and arity-checked at parse time
//! ([`Call::function`] is an entry of the function table), so evaluation never meets an unknown
//! name.

use crate::domain::AttributeName;
use crate::engine::expr::functions::Function;
use crate::engine::expr::lexer::Span;
use crate::engine::expr::value::Value;

/// A node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Where it came from.
    pub span: Span,
}

/// Node kinds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A literal: text, number, `True`/`False`, `NULL`, `CRLF`, `AuthoritativeNull`, `IgnoreThisFlow`.
    Literal(Value),
    /// `[attribute]`.
    Attribute(AttributeName),
    /// `%Parameter%`.
    Parameter(String),
    /// `$variable`.
    Variable(String),
    /// A bare name used as an enumeration value (`UTF8`, `vbTextCompare`, `CaseInsensitive`).
    Enum(String),
    /// `!x` or `-x`.
    Unary(UnaryOp, Box<Node>),
    /// `a op b`.
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `Function(args)`.
    Call(Call),
}

/// A function call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The function, from the table.
    pub function: &'static Function,
    /// Its arguments.
    pub args: Vec<Node>,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!`: logical not.
    Not,
    /// `-`: negation.
    Neg,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `&`.
    Concat,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
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
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Concat => "&",
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::And => "&&",
            Self::Or => "||",
        }
    }
}

impl Node {
    /// Visit this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.kind {
            Kind::Unary(_, a) => a.walk(f),
            Kind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Kind::Call(c) => c.args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }
}
