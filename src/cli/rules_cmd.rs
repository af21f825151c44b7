//! `hybridsync rules list|show|test`: the Synchronization Rules Editor from the command line.
//!
//! Invariants: the rule set is the shipped rules plus the admin's files in the `rules/` directory
//! next to the configuration file, checked as the engine checks them (a broken set is reported,
//! never half-used); the test object is built only from the command line and an LDIF file, never
//! from a live directory; `rules test --expr --json` prints exactly `{"value": <json>}` or
//! `{"error": "<message>"}` (scripts parse it) and an error exits 1; binary values are shown as
//! base64, dates in ISO 8601.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use std::path::PathBuf;

use crate::cli::args::RulesTestArgs;
use crate::cli::{Global, Outcome, exit};
use crate::connectors::file::{ldif, typing};
use crate::domain::Dn;
use crate::engine::expr::{DateTime, EvalContext, Expr, MemoryObject, Params, Value};
use crate::engine::rules::{
    Connector, ConnectorKind, Direction, FlowKind, Outcome as FlowOutcome, PreviewEnv, Rule,
    RuleSet,
};

/// The directory with the admin's rule files: `rules/` next to the configuration file.
fn user_rules_dir(g: &Global) -> Option<PathBuf> {
    let dir = g.config_path.parent()?.join("rules");
    dir.is_dir().then_some(dir)
}

/// The rule set in effect, or its problems printed (returns `None`).
pub(crate) fn load_rules(g: &Global) -> anyhow::Result<Option<RuleSet>> {
    let builtin =
        RuleSet::builtin().map_err(|e| anyhow::anyhow!("the shipped rules do not load: {e}"))?;
    match RuleSet::load(&builtin, user_rules_dir(g).as_deref()) {
        Ok(set) => {
            for w in set.warnings() {
                eprintln!("{w}");
            }
            Ok(Some(set))
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(None)
        }
    }
}

pub(crate) fn list(g: &Global, json: bool) -> Outcome {
    let Some(set) = load_rules(g)? else {
        return Ok(exit::CONFIG);
    };
    if json {
        let rows: Vec<serde_json::Value> = set.rules().iter().map(rule_summary_json).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(exit::SUCCESS);
    }
    println!(
        "{:>5}  {:<8}  {:<6}  {:<24}  {:<11}  NAME",
        "PREC", "DIR", "CONN", "OBJECT TYPES", "LINK"
    );
    for r in set.rules() {
        println!(
            "{:>5}  {:<8}  {:<6}  {:<24}  {:<11}  {}{}",
            r.precedence,
            r.direction.to_string(),
            r.connector.to_string(),
            format!("{} -> {}", r.source_object_type, r.target_object_type),
            r.link_type.to_string(),
            r.name,
            if r.disabled { "  (disabled)" } else { "" }
        );
    }
    Ok(exit::SUCCESS)
}

fn rule_summary_json(r: &Rule) -> serde_json::Value {
    serde_json::json!({
        "name": r.name,
        "precedence": r.precedence,
        "direction": r.direction.to_string(),
        "connector": r.connector.to_string(),
        "source_object_type": r.source_object_type,
        "target_object_type": r.target_object_type,
        "link_type": r.link_type.to_string(),
        "disabled": r.disabled,
        "origin": r.origin.to_string(),
    })
}

fn flow_source(kind: &FlowKind) -> String {
    match kind {
        FlowKind::Direct(a) => format!("[{a}]"),
        FlowKind::Constant(v) => format!("constant {}", to_text(v)),
        FlowKind::Expression(e) => e.source().split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

pub(crate) fn show(g: &Global, name: &str, json: bool) -> Outcome {
    let Some(set) = load_rules(g)? else {
        return Ok(exit::CONFIG);
    };
    let Some(r) = set.get(name) else {
        eprintln!("no rule is named '{name}'; 'hybridsync rules list' shows them all");
        return Ok(exit::FAILURE);
    };
    let joins: Vec<String> = r
        .join
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|j| {
                    format!(
                        "{} = {}{}",
                        j.source,
                        j.target,
                        if j.case_sensitive {
                            " (case-sensitive)"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        })
        .collect();
    if json {
        let mut v = rule_summary_json(r);
        v["description"] = serde_json::json!(r.description);
        v["enable_password_sync"] = serde_json::json!(r.enable_password_sync);
        v["scope"] = serde_json::json!(r.scope.to_string());
        v["join"] = serde_json::json!(joins);
        v["flows"] = r
            .flows
            .iter()
            .map(|f| {
                serde_json::json!({
                    "target": f.target.to_string(),
                    "kind": f.kind.key(),
                    "source": flow_source(&f.kind),
                    "apply_once": f.apply_once,
                    "merge": format!("{:?}", f.merge).to_lowercase(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(exit::SUCCESS);
    }
    println!("{}", r.name);
    println!(
        "  {}",
        r.description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("  defined in     {}", r.origin);
    println!(
        "  direction      {} ({} -> {}), connector {}",
        r.direction, r.source_object_type, r.target_object_type, r.connector
    );
    println!(
        "  link type      {}, precedence {}{}",
        r.link_type,
        r.precedence,
        if r.disabled { ", DISABLED" } else { "" }
    );
    if r.enable_password_sync {
        println!("  password sync  this rule's scope decides password hash sync eligibility");
    }
    println!("  scope          {}", r.scope);
    for (i, j) in joins.iter().enumerate() {
        println!("  join {:<9} {j}", format!("{}", i + 1));
    }
    println!("  flows");
    for f in &r.flows {
        let mut extra = Vec::new();
        if f.apply_once {
            extra.push("apply once".to_string());
        }
        if f.merge != crate::engine::rules::MergeType::Update {
            extra.push(format!("merge: {:?}", f.merge).to_lowercase());
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("  ({})", extra.join(", "))
        };
        println!("    {} <- {}{extra}", f.target, flow_source(&f.kind));
    }
    Ok(exit::SUCCESS)
}

/// The test object: the first entry of `--ldif`, then `--attr` values.
fn test_object(a: &RulesTestArgs) -> Result<MemoryObject, String> {
    let mut obj = MemoryObject::default();
    if let Some(path) = &a.ldif {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let entries = ldif::read_entries(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(entry) = entries.into_iter().next() else {
            return Err(format!("{} has no entry", path.display()));
        };
        obj.dn = Some(entry.dn.clone());
        for attr in &entry.attributes {
            for v in &attr.values {
                obj.add(&attr.name, typing::typed_value(&attr.name, v));
            }
        }
    }
    let extra = object_from_args(&a.attrs)?;
    if extra.dn.is_some() {
        obj.dn = extra.dn;
    }
    for (name, values) in extra.attributes {
        for v in values {
            obj.add(name.as_str(), v);
        }
    }
    Ok(obj)
}

/// Build the test object from `--attr` values.
pub(crate) fn object_from_args(attrs: &[String]) -> Result<MemoryObject, String> {
    let mut obj = MemoryObject::default();
    for a in attrs {
        let (name, value) = if let Some((n, b64)) = a.split_once("::") {
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| format!("--attr {a}: the value after '::' is not base64"))?;
            (n, Value::Bin(bytes))
        } else if let Some((n, v)) = a.split_once('=') {
            (n, Value::Str(v.to_string()))
        } else {
            return Err(format!(
                "--attr {a}: write name=value (text) or name::base64 (binary)"
            ));
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("dn") {
            obj.dn = Some(match value {
                Value::Str(s) => s,
                other => other.to_string(),
            });
        } else if !obj.add(name, value) {
            return Err(format!("--attr {a}: '{name}' is not an attribute name"));
        }
    }
    Ok(obj)
}

pub(crate) fn params_from_args(params: &[String]) -> Result<Params, String> {
    let mut out = Params::new();
    for p in params {
        let Some((n, v)) = p.split_once('=') else {
            return Err(format!(
                "--param {p}: write name=value, e.g. --param Domain.FQDN=corp.example.com"
            ));
        };
        out = out.with(n.trim(), v);
    }
    Ok(out)
}

/// A value as JSON: text, number, boolean, null, or an array for several values.
pub(crate) fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => serde_json::Value::Null,
        Value::Str(s) | Value::Ref(s) => serde_json::Value::String(s.clone()),
        Value::Num(n) => serde_json::Value::from(*n),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Bin(b) => serde_json::Value::String(STANDARD.encode(b)),
        Value::Date(d) => {
            serde_json::Value::String(d.format("o").unwrap_or_else(|_| d.to_string()))
        }
        Value::Multi(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
    }
}

/// A value for people: one line per value; NULL, AuthoritativeNull and IgnoreThisFlow by name.
pub(crate) fn to_text(v: &Value) -> String {
    match v {
        Value::Multi(items) => items.iter().map(to_text).collect::<Vec<_>>().join("\n"),
        Value::Date(d) => d.format("o").unwrap_or_else(|_| d.to_string()),
        other => other.to_string(),
    }
}

fn fail(json: bool, message: &str) -> Outcome {
    if json {
        println!("{}", serde_json::json!({ "error": message }));
    } else {
        eprintln!("error: {message}");
    }
    Ok(exit::FAILURE)
}

pub(crate) fn test(g: &Global, a: &RulesTestArgs) -> Outcome {
    let obj = match test_object(a) {
        Ok(o) => o,
        Err(m) => return fail(a.json, &m),
    };
    let params = match params_from_args(&a.params) {
        Ok(p) => p,
        Err(m) => return fail(a.json, &m),
    };
    if let Some(name) = &a.rule {
        return test_rule(g, a, name, &obj, &with_defaults(&params, obj.dn.as_deref()));
    }
    if let Some(class) = &a.object_type {
        return test_object_type(
            g,
            a,
            class,
            &obj,
            &with_defaults(&params, obj.dn.as_deref()),
        );
    }
    let text = a.expr.as_deref().unwrap_or_default();
    let expr = match Expr::parse(text) {
        Ok(e) => e,
        Err(e) => return fail(a.json, &format!("the expression does not parse: {e}")),
    };
    let ctx = EvalContext {
        object: &obj,
        params: &params,
        now: DateTime::now(),
    };
    match expr.evaluate(&ctx) {
        Ok(v) => {
            if a.json {
                println!("{}", serde_json::json!({ "value": to_json(&v) }));
            } else {
                println!("{}", to_text(&v));
            }
            Ok(exit::SUCCESS)
        }
        Err(e) => fail(a.json, &e.to_string()),
    }
}

/// Connector parameters the command line did not give, as the object's DN implies them: the
/// domain is the DN's `DC=` components (and, for a preview, the forest is taken to be the same).
fn with_defaults(params: &Params, dn: Option<&str>) -> Params {
    let dcs: Vec<String> = dn
        .and_then(|d| Dn::parse(d).ok())
        .map(|d| {
            d.rdns()
                .iter()
                .filter(|r| r.attribute().eq_ignore_case("dc"))
                .map(|r| r.value().to_string())
                .collect()
        })
        .unwrap_or_default();
    let fqdn = dcs.join(".");
    let ldap = dcs
        .iter()
        .map(|d| format!("DC={d}"))
        .collect::<Vec<_>>()
        .join(",");
    let netbios = dcs.first().map(|d| d.to_uppercase()).unwrap_or_default();
    let mut out = params.clone();
    for (name, value) in [
        ("Domain.FQDN", &fqdn),
        ("Domain.LDAP", &ldap),
        ("Domain.Netbios", &netbios),
        ("Forest.FQDN", &fqdn),
        ("Forest.LDAP", &ldap),
        ("Forest.Netbios", &netbios),
        ("Connector.ID", &"rules-test".to_string()),
    ] {
        if out.get(name).is_none() && !value.is_empty() {
            out = out.with(name, value);
        }
    }
    out
}

fn no_groups(_: &Dn) -> bool {
    false
}

fn test_rule(
    g: &Global,
    a: &RulesTestArgs,
    name: &str,
    obj: &MemoryObject,
    params: &Params,
) -> Outcome {
    let Some(set) = load_rules(g)? else {
        return Ok(exit::CONFIG);
    };
    let Some(rule) = set.get(name) else {
        return fail(
            a.json,
            &format!("no rule is named '{name}'; 'hybridsync rules list' shows them all"),
        );
    };
    let p = rule.preview(obj, params, DateTime::now(), &no_groups);
    let failed = p.flows.iter().any(|f| f.result.is_err());
    if a.json {
        let flows: Vec<serde_json::Value> = p
            .flows
            .iter()
            .map(|f| match &f.result {
                Ok(v) => serde_json::json!({ "target": f.target.to_string(), "value": to_json(v), "kind": flow_value_kind(v) }),
                Err(e) => serde_json::json!({ "target": f.target.to_string(), "error": e.to_string() }),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "rule": rule.name, "in_scope": p.in_scope, "flows": flows })
        );
    } else {
        println!(
            "{}: {}",
            rule.name,
            if p.in_scope {
                "in scope"
            } else {
                "NOT in scope (no flows apply)"
            }
        );
        println!("  scope: {}", rule.scope);
        for f in &p.flows {
            match &f.result {
                Ok(v) => println!("  {} = {}", f.target, to_text(v).replace('\n', "\n    ")),
                Err(e) => println!("  {} FAILED: {e}", f.target),
            }
        }
    }
    Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
}

/// How a flow's value acts: a value, `null` (no contribution), `authoritative-null` or `ignore`.
fn flow_value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::AuthoritativeNull => "authoritative-null",
        Value::IgnoreThisFlow => "ignore",
        _ => "value",
    }
}

fn test_object_type(
    g: &Global,
    a: &RulesTestArgs,
    class: &str,
    obj: &MemoryObject,
    params: &Params,
) -> Outcome {
    let Some(set) = load_rules(g)? else {
        return Ok(exit::CONFIG);
    };
    let connector = Connector {
        kind: ConnectorKind::Ad,
        name: "ad",
    };
    let env = PreviewEnv {
        params,
        now: DateTime::now(),
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let p = set.preview_object(obj, class, Direction::Inbound, &connector, &env);
    if a.json {
        let attrs: serde_json::Map<String, serde_json::Value> = p
            .attributes
            .iter()
            .map(|(name, o)| {
                let v = match o {
                    FlowOutcome::Value { value, rules } => {
                        serde_json::json!({ "value": to_json(value), "rules": rules })
                    }
                    FlowOutcome::Cleared { rule } => {
                        serde_json::json!({ "value": null, "cleared_by": rule })
                    }
                    FlowOutcome::Null => serde_json::json!({ "value": null }),
                    FlowOutcome::Unchanged => serde_json::json!({ "unchanged": true }),
                    FlowOutcome::Error { rule, error } => {
                        serde_json::json!({ "error": error.to_string(), "rule": rule })
                    }
                };
                (name.to_string(), v)
            })
            .collect();
        let in_scope: Vec<&str> = p
            .rules
            .iter()
            .filter(|r| r.preview.in_scope)
            .map(|r| r.rule.as_str())
            .collect();
        println!(
            "{}",
            serde_json::json!({ "connected": p.connected, "rules_in_scope": in_scope, "attributes": attrs })
        );
    } else {
        if !p.connected {
            println!(
                "No inbound rule joins or provisions this {class}: it stays a disconnector and nothing flows to the metaverse."
            );
        }
        for r in &p.rules {
            println!(
                "{:>5}  {:<44} {}",
                r.precedence,
                r.rule,
                if r.preview.in_scope { "in scope" } else { "-" }
            );
        }
        println!();
        let mut empty = Vec::new();
        for (name, o) in &p.attributes {
            match o {
                FlowOutcome::Value { value, rules } => {
                    println!(
                        "  {name} = {}    <- {}",
                        to_text(value).replace('\n', ", "),
                        rules.join(" + ")
                    )
                }
                FlowOutcome::Cleared { rule } => {
                    println!("  {name} cleared (AuthoritativeNull) <- {rule}")
                }
                FlowOutcome::Null => empty.push(name.to_string()),
                FlowOutcome::Unchanged => println!("  {name} unchanged (IgnoreThisFlow)"),
                FlowOutcome::Error { rule, error } => {
                    println!("  {name} FAILED in '{rule}': {error}")
                }
            }
        }
        if !empty.is_empty() {
            println!("  no value ({}): {}", empty.len(), empty.join(", "));
        }
    }
    Ok(if p.errors.is_empty() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}
