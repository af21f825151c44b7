//! Evaluating a parsed expression against one object.
//!
//! Semantics, where Microsoft documents them and where we had to choose:
//! - **Multi-valued attributes** flow through functions value by value ("the function operates
//!   over every value"): a function or operator whose argument expects a single value and receives
//!   a multi-value is applied to each value, and values that come out `NULL` are dropped, so
//!   `IIF(InStr([proxyAddresses],"SIP:")=1,NULL,[proxyAddresses])` removes the SIP addresses.
//!   Two multi-values combined element by element must have the same number of values.
//! - **NULL** (an absent attribute) follows VBA: `&` treats it as empty text (and gives NULL only
//!   when both sides are NULL); arithmetic and comparisons with NULL give NULL; in a condition
//!   (`IIF`, `&&`, `||`, `!`) NULL counts as false.
//! - **Types** are converted the way VBA converts variants: numeric text is a number where a number
//!   is needed, numbers and booleans are text where text is needed. Anything else is an
//!   [`EvalError`] naming the function, the argument and the column, never a panic.
//! - `IIF` evaluates only the branch it returns (so `Error(...)` in the other branch is not raised);
//!   `Switch` evaluates every condition, as documented; `&&` and `||` stop early.

use std::borrow::Cow;

use crate::engine::expr::ast::{BinaryOp, Kind, Node, UnaryOp};
use crate::engine::expr::convert::{as_bool, as_num, as_text_ref, compare};
use crate::engine::expr::datetime::DateTime;
use crate::engine::expr::functions::{Arg, Args, FnError, Imp, Special};
use crate::engine::expr::lexer::Span;
use crate::engine::expr::value::{Object, Params, Value, attr_value};

/// Why an expression failed for one object. It becomes a per-object error in the run report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct EvalError {
    /// 1-based column of the failing function or operator.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

/// What an expression can see while it runs.
pub struct EvalContext<'a> {
    /// The object whose attributes `[name]` reads.
    pub object: &'a dyn Object,
    /// Connector parameters (`%Domain.FQDN%`).
    pub params: &'a Params,
    /// The time `Now()` returns (fixed for a whole run, and in tests).
    pub now: DateTime,
}

/// The evaluator's state: the context plus variables bound by `Select`, `Where` and `With`.
pub struct Env<'a, 'c> {
    /// The context.
    pub ctx: &'a EvalContext<'c>,
    vars: Vec<(String, Value)>,
}

impl<'a, 'c> Env<'a, 'c> {
    /// A fresh environment.
    pub fn new(ctx: &'a EvalContext<'c>) -> Self {
        Self {
            ctx,
            vars: Vec::new(),
        }
    }

    /// Evaluate `node`.
    pub fn eval(&mut self, node: &Node) -> Result<Value, EvalError> {
        let err = |message: String| EvalError {
            column: node.span.start,
            message,
        };
        match &node.kind {
            Kind::Literal(v) => Ok(v.clone()),
            Kind::Enum(name) => Ok(Value::Str(name.clone())),
            Kind::Attribute(name) => Ok(self.ctx.object.get_attr(name).unwrap_or(Value::Null)),
            Kind::Parameter(name) => match self.ctx.params.get(name) {
                Some(v) => Ok(Value::Str(v.to_string())),
                None => Err(err(format!(
                    "the parameter %{name}% is not defined for this connector"
                ))),
            },
            Kind::Variable(name) => self
                .vars
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    err(format!(
                        "${name} is used outside the Select, Where or With that defines it"
                    ))
                }),
            Kind::Unary(op, operand) => {
                let v = self.operand(operand)?;
                broadcast1(&v, |x| unary(*op, x)).map_err(err)
            }
            Kind::Binary(BinaryOp::And, a, b) => self.logical(a, b, false),
            Kind::Binary(BinaryOp::Or, a, b) => self.logical(a, b, true),
            Kind::Binary(op, a, b) => {
                let (x, y) = (self.operand(a)?, self.operand(b)?);
                broadcast2(&x, &y, |p, q| binary(*op, p, q)).map_err(|m| EvalError {
                    column: op_column(a, b),
                    message: m,
                })
            }
            Kind::Call(call) => match &call.function.imp {
                Imp::Special(s) => self.special(*s, &call.args, node.span),
                Imp::Eager { args: specs, f } => {
                    // Most calls have few arguments: their values stay on the stack, and
                    // literals and attributes are borrowed, not copied.
                    let mut few: [Cow<'_, Value>; FEW] =
                        std::array::from_fn(|_| Cow::Borrowed(&NULL));
                    let mut many = Vec::new();
                    let values: &[Cow<'_, Value>] = match few.get_mut(..call.args.len()) {
                        Some(slots) => {
                            for (slot, a) in slots.iter_mut().zip(&call.args) {
                                *slot = self.operand(a)?;
                            }
                            slots
                        }
                        None => {
                            many.reserve_exact(call.args.len());
                            for a in &call.args {
                                many.push(self.operand(a)?);
                            }
                            &many
                        }
                    };
                    let (name, function, ctx) = (call.function.name, call.function, self.ctx);
                    apply(specs, values, &mut |scalars| {
                        f(&Args {
                            values: scalars,
                            ctx,
                            function,
                        })
                    })
                    .map_err(|e| match e {
                        FnError::Custom(m) => err(m),
                        FnError::Message(m) => err(format!("{name}: {m}")),
                    })
                }
            },
        }
    }

    /// [`Env::eval`] for an operand that is only read: a literal, and an attribute the object
    /// holds as one value, are borrowed, not copied.
    fn operand<'r>(&mut self, node: &'r Node) -> Result<Cow<'r, Value>, EvalError>
    where
        'c: 'r,
    {
        match &node.kind {
            Kind::Literal(v) => Ok(Cow::Borrowed(v)),
            Kind::Attribute(name) => {
                let object: &'c dyn Object = self.ctx.object;
                Ok(attr_value(object, name).unwrap_or(Cow::Borrowed(&NULL)))
            }
            _ => self.eval(node).map(Cow::Owned),
        }
    }

    fn logical(&mut self, a: &Node, b: &Node, is_or: bool) -> Result<Value, EvalError> {
        let x = self.operand(a)?;
        if let Value::Multi(_) = x.as_ref() {
            let y = self.operand(b)?;
            return broadcast2(&x, &y, |p, q| {
                let (p, q) = (truthy(p)?, truthy(q)?);
                Ok(Value::Bool(if is_or { p || q } else { p && q }))
            })
            .map_err(|m| EvalError {
                column: a.span.end,
                message: m,
            });
        }
        let left = truthy(&x).map_err(|m| EvalError {
            column: a.span.start,
            message: m,
        })?;
        if left == is_or {
            return Ok(Value::Bool(left));
        }
        let y = self.operand(b)?;
        if let Value::Multi(_) = y.as_ref() {
            return broadcast1(&y, |q| Ok(Value::Bool(truthy(q)?))).map_err(|m| EvalError {
                column: b.span.start,
                message: m,
            });
        }
        truthy(&y).map(Value::Bool).map_err(|m| EvalError {
            column: b.span.start,
            message: m,
        })
    }

    fn special(&mut self, s: Special, args: &[Node], span: Span) -> Result<Value, EvalError> {
        let err = |message: String| EvalError {
            column: span.start,
            message,
        };
        match s {
            Special::Iif => {
                let [cond, yes, no] = args else {
                    return Err(err("IIF takes 3 arguments".into()));
                };
                let c = self.operand(cond)?;
                if let Value::Multi(conds) = c.as_ref() {
                    let (y, n) = (self.eval(yes)?, self.eval(no)?);
                    let pick = |i: usize, v: &Value| match v {
                        Value::Multi(items) => items.get(i).cloned().unwrap_or(Value::Null),
                        other => other.clone(),
                    };
                    let mut out = Vec::with_capacity(conds.len());
                    for (i, ci) in conds.iter().enumerate() {
                        let t = truthy(ci).map_err(err)?;
                        out.push(if t { pick(i, &y) } else { pick(i, &n) });
                    }
                    return Ok(Value::multi(out));
                }
                if truthy(&c).map_err(|m| EvalError {
                    column: cond.span.start,
                    message: m,
                })? {
                    self.eval(yes)
                } else {
                    self.eval(no)
                }
            }
            Special::Switch => {
                if !args.len().is_multiple_of(2) {
                    return Err(err(
                        "Switch needs pairs of condition and value: the last condition has no value".into(),
                    ));
                }
                // Documented: every condition is evaluated, even after the first true one.
                let mut chosen = None;
                for pair in args.chunks(2) {
                    let [cond, value] = pair else { continue };
                    let c = self.operand(cond)?;
                    let t = truthy(&c).map_err(|m| EvalError {
                        column: cond.span.start,
                        message: m,
                    })?;
                    if t && chosen.is_none() {
                        chosen = Some(value);
                    }
                }
                match chosen {
                    Some(v) => self.eval(v),
                    None => Ok(Value::Null),
                }
            }
            Special::Select | Special::Where => {
                let [var, source, body] = args else {
                    return Err(err("takes 3 arguments".into()));
                };
                let Kind::Variable(name) = &var.kind else {
                    return Err(err(
                        "the first argument must be a variable such as $item".into()
                    ));
                };
                let items = self.operand(source)?;
                let mut out = Vec::new();
                for item in items.values() {
                    self.vars.push((name.clone(), item.clone()));
                    let r = self.eval(body);
                    self.vars.pop();
                    let r = r?;
                    if s == Special::Select {
                        out.push(r);
                    } else if truthy(&r).map_err(|m| EvalError {
                        column: body.span.start,
                        message: m,
                    })? {
                        out.push(item.clone());
                    }
                }
                Ok(Value::multi(out))
            }
            Special::With => {
                let [var, sub, body] = args else {
                    return Err(err("With takes 3 arguments".into()));
                };
                let Kind::Variable(name) = &var.kind else {
                    return Err(err(
                        "the first argument of With must be a variable such as $value".into(),
                    ));
                };
                let v = self.eval(sub)?;
                self.vars.push((name.clone(), v));
                let r = self.eval(body);
                self.vars.pop();
                r
            }
            Special::ImportedValue | Special::ValueCount => {
                let Some(Kind::Literal(Value::Str(name))) = args.first().map(|a| &a.kind) else {
                    return Err(err("the attribute name must be written in quotes, e.g. ImportedValue(\"proxyAddresses\")".into()));
                };
                if s == Special::ImportedValue {
                    Ok(self.ctx.object.imported(name).unwrap_or(Value::Null))
                } else {
                    let n = self.ctx.object.value_count(name);
                    Ok(Value::Num(i64::try_from(n).unwrap_or(i64::MAX)))
                }
            }
        }
    }
}

/// How many argument values a call keeps on the stack.
const FEW: usize = 4;

/// The value of an absent attribute or argument, to borrow.
static NULL: Value = Value::Null;

fn op_column(a: &Node, b: &Node) -> usize {
    // The operator sits between its operands; point just after the left one.
    a.span.end.min(b.span.start)
}

/// Truth of a value in a condition: NULL is false.
pub fn truthy(v: &Value) -> Result<bool, String> {
    Ok(as_bool(v)?.unwrap_or(false))
}

/// Apply `f` to each value of a multi-value (dropping NULL results), or once to a single value.
pub fn broadcast1(
    v: &Value,
    mut f: impl FnMut(&Value) -> Result<Value, String>,
) -> Result<Value, String> {
    match v {
        Value::Multi(items) => {
            let mut out = Vec::with_capacity(items.len());
            for x in items {
                out.push(f(x)?);
            }
            Ok(Value::multi(out))
        }
        other => f(other),
    }
}

/// Combine two values element by element when either is multi-valued.
pub fn broadcast2(
    a: &Value,
    b: &Value,
    mut f: impl FnMut(&Value, &Value) -> Result<Value, String>,
) -> Result<Value, String> {
    match (a, b) {
        (Value::Multi(xs), Value::Multi(ys)) => {
            if xs.len() != ys.len() {
                return Err(format!(
                    "cannot combine two multi-valued attributes value by value: one has {} values, the other {}",
                    xs.len(),
                    ys.len()
                ));
            }
            let mut out = Vec::with_capacity(xs.len());
            for (x, y) in xs.iter().zip(ys) {
                out.push(f(x, y)?);
            }
            Ok(Value::multi(out))
        }
        (Value::Multi(_), y) => broadcast1(a, |x| f(x, y)),
        (x, Value::Multi(_)) => broadcast1(b, |y| f(x, y)),
        (x, y) => f(x, y),
    }
}

/// A function's implementation as [`apply`] calls it, with one row of argument values.
type Call<'f> = dyn FnMut(&[Cow<'_, Value>]) -> Result<Value, FnError> + 'f;

/// Call a function: positions marked [`Arg::Scalar`] are applied value by value.
fn apply(specs: &[Arg], values: &[Cow<'_, Value>], f: &mut Call<'_>) -> Result<Value, FnError> {
    let spec_at = |i: usize| specs.get(i).or(specs.last()).copied().unwrap_or(Arg::Whole);
    let mut multi_len = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v.as_ref() {
            Value::Multi(items) if spec_at(i) == Arg::Scalar => Some(items.len()),
            _ => None,
        });
    let Some(n) = multi_len.next() else {
        return f(values);
    };
    if multi_len.any(|m| m != n) {
        return Err(FnError::Message(
            "cannot combine multi-valued arguments with different numbers of values".into(),
        ));
    }
    let mut out = Vec::with_capacity(n);
    let mut row: Vec<Cow<'_, Value>> = Vec::with_capacity(values.len());
    for i in 0..n {
        row.clear();
        row.extend(values.iter().enumerate().map(|(pos, v)| match v.as_ref() {
            Value::Multi(items) if spec_at(pos) == Arg::Scalar => {
                Cow::Borrowed(items.get(i).unwrap_or(&NULL))
            }
            other => Cow::Borrowed(other),
        }));
        out.push(f(&row)?);
    }
    Ok(Value::multi(out))
}

fn unary(op: UnaryOp, v: &Value) -> Result<Value, String> {
    match op {
        UnaryOp::Not => Ok(match as_bool(v)? {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        }),
        UnaryOp::Neg => match as_num(v)? {
            Some(n) => n
                .checked_neg()
                .map(Value::Num)
                .ok_or_else(|| "the number is too large to negate".into()),
            None => Ok(Value::Null),
        },
    }
}

fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, String> {
    match op {
        BinaryOp::Concat => {
            if a.is_null() && b.is_null() {
                return Ok(Value::Null);
            }
            let x = as_text_ref(a)?;
            let y = as_text_ref(b)?;
            let (x, y) = (
                x.as_deref().unwrap_or_default(),
                y.as_deref().unwrap_or_default(),
            );
            let mut joined = String::with_capacity(x.len() + y.len());
            joined.push_str(x);
            joined.push_str(y);
            Ok(Value::Str(joined))
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
            let (Some(x), Some(y)) = (num_operand(op, a)?, num_operand(op, b)?) else {
                return Ok(Value::Null);
            };
            let r = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                _ => x.checked_mul(y),
            };
            r.map(Value::Num)
                .ok_or_else(|| format!("{x} {} {y} is too large a number", op.symbol()))
        }
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let Some(ord) = compare(a, b)? else {
                return Ok(Value::Null);
            };
            use std::cmp::Ordering::{Equal, Greater, Less};
            Ok(Value::Bool(match op {
                BinaryOp::Eq => ord == Equal,
                BinaryOp::Ne => ord != Equal,
                BinaryOp::Lt => ord == Less,
                BinaryOp::Le => ord != Greater,
                BinaryOp::Gt => ord == Greater,
                _ => ord != Less,
            }))
        }
        BinaryOp::And | BinaryOp::Or => {
            let (x, y) = (truthy(a)?, truthy(b)?);
            Ok(Value::Bool(if op == BinaryOp::And {
                x && y
            } else {
                x || y
            }))
        }
    }
}

fn num_operand(op: BinaryOp, v: &Value) -> Result<Option<i64>, String> {
    as_num(v).map_err(|_| {
        format!(
            "'{}' needs numbers, not {}{}",
            op.symbol(),
            v.type_name(),
            if op == BinaryOp::Add {
                "; use '&' to join text"
            } else {
                ""
            }
        )
    })
}
