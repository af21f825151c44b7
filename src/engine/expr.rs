//! Microsoft's declarative provisioning expression language, as Entra Connect's Synchronization
//! Rules Editor accepts it: `[attribute]` references, `%Parameter%`s, literals, the operators
//! (`&`, `+ - *`, comparisons, `&&`, `||`, `!`) and the whole function library.
//!
//! Pipeline: [`lexer`] (text to tokens with columns) -> [`parser`] (tokens to an [`ast`], function
//! calls resolved against [`functions::FUNCTIONS`]) -> [`eval`] (tree plus an object to a
//! [`Value`]). [`Expr`] is the handle the rest of the engine uses.
//!
//! Invariants: parsing and evaluation never panic, whatever the input (property-tested); a parse
//! error carries the column and an admin-readable message; an evaluation error is data (it
//! becomes a per-object error in the run report, the run goes on); an `Expr` is immutable and
//! cheap to evaluate many times (rules are parsed once at load).

pub mod ast;
pub mod cert;
pub mod convert;
pub mod datetime;
pub mod eval;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod value;

use std::fmt;

use crate::domain::AttributeName;

pub use datetime::DateTime;
pub use eval::{EvalContext, EvalError};
pub use parser::ParseError;
#[cfg(test)]
pub(crate) use value::assert_reads_agree;
pub use value::{MemoryObject, Object, Params, Value, attr_value};

/// A parsed expression.
#[derive(Clone)]
pub struct Expr {
    source: String,
    root: ast::Node,
}

impl Expr {
    /// Parse `text`.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        Ok(Expr {
            source: text.to_string(),
            root: parser::parse(text)?,
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every attribute the expression reads (`[name]` and `ImportedValue("name")`,
    /// `ValueCount("name")`), without duplicates, in order of appearance. `[dn]` is not listed.
    pub fn attributes(&self) -> Vec<AttributeName> {
        let mut out: Vec<AttributeName> = Vec::new();
        self.root.walk(&mut |n| {
            let name = match &n.kind {
                ast::Kind::Attribute(a) => Some(a.as_str()),
                ast::Kind::Call(c)
                    if matches!(
                        c.function.imp,
                        functions::Imp::Special(
                            functions::Special::ImportedValue | functions::Special::ValueCount
                        )
                    ) =>
                {
                    match c.args.first().map(|a| &a.kind) {
                        Some(ast::Kind::Literal(Value::Str(s))) => Some(s.as_str()),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(attr) = name
                .filter(|a| !a.eq_ignore_ascii_case("dn"))
                .and_then(|a| AttributeName::new(a).ok())
                && !out.contains(&attr)
            {
                out.push(attr);
            }
        });
        out
    }

    /// Every `%Parameter%` the expression reads, without duplicates.
    pub fn parameters(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.root.walk(&mut |n| {
            if let ast::Kind::Parameter(p) = &n.kind
                && !out.iter().any(|o| o.eq_ignore_ascii_case(p))
            {
                out.push(p.clone());
            }
        });
        out
    }

    /// Whether the result depends on nothing but the values of the `[attribute]`s the
    /// expression reads ([`Expr::attributes`]): no `[dn]`, `%Parameter%`, `ImportedValue`,
    /// `ValueCount`, `Now()` or randomness (`GUID`, `RandomNum`). Such an expression gives the
    /// same result for every object without those attributes, so the sync stage computes it
    /// once.
    pub fn reads_only_attributes(&self) -> bool {
        let mut pure = true;
        self.root.walk(&mut |n| match &n.kind {
            ast::Kind::Attribute(a) if a.is_dn() => {
                pure = false;
            }
            ast::Kind::Parameter(_) => pure = false,
            ast::Kind::Call(c)
                if matches!(
                    c.function.imp,
                    functions::Imp::Special(
                        functions::Special::ImportedValue | functions::Special::ValueCount
                    )
                ) || ["Now", "GUID", "RandomNum", "Random"]
                    .iter()
                    .any(|f| c.function.name.eq_ignore_ascii_case(f)) =>
            {
                pure = false;
            }
            _ => {}
        });
        pure
    }

    /// Evaluate against one object.
    pub fn evaluate(&self, ctx: &EvalContext<'_>) -> Result<Value, EvalError> {
        eval::Env::new(ctx).eval(&self.root)
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(obj: &MemoryObject, text: &str) -> Result<Value, String> {
        let e = Expr::parse(text).map_err(|e| e.to_string())?;
        let p = Params::new().with("Domain.FQDN", "corp.example.com");
        let now = DateTime::from_parts(2026, 1, 1, 0, 0, 0, 0).ok_or("date")?;
        e.evaluate(&EvalContext {
            object: obj,
            params: &p,
            now,
        })
        .map_err(|e| e.to_string())
    }

    fn parse_err(text: &str) -> String {
        Expr::parse(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn parse_errors_point_at_the_column_in_plain_words() {
        assert_eq!(
            parse_err("Lefft([cn],2)"),
            "column 1: unknown function 'Lefft'. Did you mean Left?"
        );
        assert_eq!(
            parse_err("Left([cn])"),
            "column 1: Left takes 2 arguments, not 1: str Left(str string, num NumChars)"
        );
        assert_eq!(
            parse_err("Left([cn], 2"),
            "column 13: expected ',' or ')' in the call to Left opened at column 5"
        );
        assert_eq!(
            parse_err("([cn] & \"x\""),
            "column 12: expected ')' to close the '(' at column 1"
        );
        assert_eq!(
            parse_err("[cn] & "),
            "column 8: the expression ends too early: a value is missing here"
        );
        assert_eq!(
            parse_err("[cn] [sn]"),
            "column 6: unexpected '[sn]' after a complete expression: is an operator or ',' missing?"
        );
        assert_eq!(
            parse_err("Trim"),
            "column 1: Trim is a function: write Trim(...)"
        );
        assert_eq!(
            parse_err("Select(x, [a], 1)"),
            "column 8: the first argument of Select must be a variable such as $item"
        );
        assert_eq!(
            parse_err("ImportedValue([a])"),
            "column 15: ImportedValue takes the attribute name in quotes, e.g. ImportedValue(\"proxyAddresses\")"
        );
        assert_eq!(parse_err(""), "column 1: the expression is empty");
        assert_eq!(
            parse_err("Left([cn],2))"),
            "column 13: there is a ')' without a matching '('"
        );
        assert!(parse_err(&"(".repeat(200)).contains("nests more than 64 levels"));
    }

    #[test]
    fn function_and_attribute_names_ignore_case() {
        let o = MemoryObject::default().with("givenName", Value::Str(" Ann ".into()));
        assert_eq!(run(&o, "trim([GIVENNAME])"), Ok(Value::Str("Ann".into())));
    }

    #[test]
    fn type_errors_are_per_object_errors_with_the_argument_named() {
        let o = MemoryObject::default().with("cn", Value::Str("x".into()));
        assert_eq!(
            run(&o, "Left([cn], \"two\")"),
            Err(
                "column 1: Left: argument 2 (NumChars): expected a number, got the text 'two'"
                    .into()
            )
        );
        assert_eq!(
            run(&o, "[cn] + 1"),
            Err("column 5: '+' needs numbers, not text; use '&' to join text".into())
        );
        assert_eq!(
            run(&o, "BitAnd(9223372036854775807 + 1, 1)"),
            Err("column 27: 9223372036854775807 + 1 is too large a number".into())
        );
        assert_eq!(
            run(&o, "%Nope%"),
            Err("column 1: the parameter %Nope% is not defined for this connector".into())
        );
        assert_eq!(
            run(&o, "$x"),
            Err("column 1: $x is used outside the Select, Where or With that defines it".into())
        );
    }

    #[test]
    fn null_semantics() {
        let o = MemoryObject::default();
        assert_eq!(run(&o, "[a] + 1"), Ok(Value::Null));
        assert_eq!(run(&o, "[a] = 1"), Ok(Value::Null));
        assert_eq!(
            run(&o, "IIF([a] = 1, \"y\", \"n\")"),
            Ok(Value::Str("n".into()))
        );
        assert_eq!(run(&o, "![a]"), Ok(Value::Null));
        assert_eq!(run(&o, "Trim([a])"), Ok(Value::Null));
        assert_eq!(run(&o, "[a] && True"), Ok(Value::Bool(false)));
        assert_eq!(run(&o, "CBool(NULL) || True"), Ok(Value::Bool(true)));
    }

    #[test]
    fn iif_only_evaluates_the_branch_it_returns() {
        let o = MemoryObject::default().with("sAMAccountName", Value::Str("jdoe".into()));
        let upn = r#"IIF(IsPresent([userPrincipalName]),[userPrincipalName], IIF(IsPresent([sAMAccountName]),([sAMAccountName]&"@"&%Domain.FQDN%),Error("AccountName is not present")))"#;
        assert_eq!(run(&o, upn), Ok(Value::Str("jdoe@corp.example.com".into())));
        assert_eq!(
            run(&MemoryObject::default(), upn),
            Err("column 126: AccountName is not present".into())
        );
    }

    #[test]
    fn multi_values_of_different_lengths_cannot_be_zipped() {
        let o = MemoryObject::default()
            .with("a", Value::Str("1".into()))
            .with("a", Value::Str("2".into()))
            .with("b", Value::Str("1".into()))
            .with("b", Value::Str("2".into()))
            .with("b", Value::Str("3".into()));
        assert!(
            run(&o, "[a] & [b]")
                .unwrap_err()
                .contains("one has 2 values, the other 3")
        );
        assert_eq!(
            run(&o, "[a] & [a]"),
            Ok(Value::Multi(vec![
                Value::Str("11".into()),
                Value::Str("22".into())
            ]))
        );
    }

    #[test]
    fn lists_what_it_reads() {
        let e = Expr::parse(r#"IIF(IsPresent([mS-DS-ConsistencyGuid]),[mS-DS-ConsistencyGuid],[objectGUID]) & RemoveDuplicates(ImportedValue("proxyAddresses")) & %Domain.FQDN% & DNComponent(CRef([dn]),1)"#)
            .unwrap();
        let attrs: Vec<String> = e.attributes().iter().map(ToString::to_string).collect();
        assert_eq!(
            attrs,
            ["mS-DS-ConsistencyGuid", "objectGUID", "proxyAddresses"]
        );
        assert_eq!(e.parameters(), ["Domain.FQDN"]);
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            ".{0,12}".prop_map(Value::Str),
            any::<i64>().prop_map(Value::Num),
            any::<bool>().prop_map(Value::Bool),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bin),
            proptest::collection::vec(".{0,6}".prop_map(Value::Str), 2..4).prop_map(Value::Multi),
        ]
    }

    /// Expressions built from the real grammar: every function with random arguments.
    fn arb_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("[a]".to_string()),
            Just("[b]".to_string()),
            Just("[dn]".to_string()),
            Just("%Domain.FQDN%".to_string()),
            Just("NULL".to_string()),
            Just("True".to_string()),
            Just("CRLF".to_string()),
            Just("$item".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            "[a-zA-Z0-9 ,:=\\\\]{0,8}".prop_map(|s| format!("\"{s}\"")),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            let names: Vec<&'static str> = functions::FUNCTIONS.iter().map(|f| f.name).collect();
            prop_oneof![
                (
                    proptest::sample::select(names),
                    proptest::collection::vec(inner.clone(), 0..4)
                )
                    .prop_map(|(f, args)| format!("{f}({})", args.join(","))),
                (
                    inner.clone(),
                    proptest::sample::select(vec![
                        "&", "+", "-", "*", "=", "<>", "<", ">=", "&&", "||"
                    ]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                inner.clone().prop_map(|a| format!("!({a})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("Select($item,{a},{b})")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parser_never_panics_on_any_text(text in ".{0,80}") {
            let _ = Expr::parse(&text);
        }

        #[test]
        fn parser_never_panics_on_token_soup(parts in proptest::collection::vec(
            proptest::sample::select(vec!["(", ")", ",", "[a]", "%p%", "$v", "\"s\"", "&H", "&HFF", "&&", "||", "!", "-", "1", "IIF", "Left", "Switch", "=", "<>", "<=", "&", "\"", "[", "%"]), 0..30)) {
            let _ = Expr::parse(&parts.concat());
        }

        #[test]
        fn evaluator_never_panics(text in arb_expr(), a in arb_value(), b in arb_value()) {
            let mut o = MemoryObject::new(Some("CN=x\\,y,OU=z,DC=corp,DC=example,DC=com"));
            for (name, v) in [("a", a), ("b", b)] {
                match v {
                    Value::Multi(items) => items.into_iter().for_each(|i| { o.add(name, i); }),
                    Value::Null => {}
                    other => { o.add(name, other); }
                }
            }
            if let Ok(e) = Expr::parse(&text) {
                let p = Params::new().with("Domain.FQDN", "corp.example.com");
                let _ = e.evaluate(&EvalContext { object: &o, params: &p, now: DateTime::MIN });
            }
        }
    }
}
