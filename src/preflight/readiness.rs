//! The directory readiness report (what IdFix does): every object a full import reads is put
//! through the inbound synchronization rules (so "would it sync" is the engine's own answer,
//! `cloudFiltered` included, with the reason), and the objects that would sync are checked for
//! values Entra ID rejects or that collide: invalid characters and lengths in
//! userPrincipalName, mailNickname, proxyAddresses, targetAddress, sAMAccountName and
//! displayName, duplicate UPNs, mail and proxyAddresses, UPN suffixes the tenant has not
//! verified, and missing required values. Summary counts, a per-object table, JSON and CSV.
//!
//! Invariants: reads only; the verdict on filtering comes from the rule set in effect (the
//! documented reasons are only the explanation); values are shown as found, so an admin can find
//! the object; each issue names the attribute, the problem and the fix.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tenant::{SuffixState, TenantDomains, suffix_state};
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::{DateTime, MemoryObject, Params, Value};
use crate::engine::model::ImportedObject;
use crate::engine::rules::{ConnectorKind, Direction, PreviewEnv, RuleSet};

/// How bad an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Entra ID rejects the object or the value (a sync error until fixed).
    Error,
    /// It syncs, but not as the admin probably wants.
    Warning,
}

/// One problem with one value of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// The object.
    pub dn: String,
    /// Its class.
    pub class: String,
    /// The attribute.
    pub attribute: String,
    /// The value as found (empty when missing).
    pub value: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// An object the rules keep out of Entra ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filtered {
    /// The object.
    pub dn: String,
    /// Its class.
    pub class: String,
    /// Why.
    pub reason: String,
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadinessSummary {
    /// Objects read.
    pub objects: usize,
    /// Objects that would synchronize.
    pub synchronized: usize,
    /// Objects `cloudFiltered` keeps out.
    pub filtered: usize,
    /// Objects no inbound rule takes (out of scope).
    pub out_of_scope: usize,
    /// Synchronized objects with at least one error.
    pub objects_with_errors: usize,
    /// Synchronized objects with warnings only.
    pub objects_with_warnings: usize,
    /// Issues in all.
    pub issues: usize,
}

/// The report of one forest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadinessReport {
    /// The forest.
    pub forest: String,
    /// Counts.
    pub summary: ReadinessSummary,
    /// Issues, by DN then attribute.
    pub issues: Vec<Issue>,
    /// Filtered and out-of-scope objects with the reason.
    pub filtered: Vec<Filtered>,
}

fn text_of(v: &Value) -> Vec<String> {
    match v {
        Value::Str(s) | Value::Ref(s) => vec![s.clone()],
        Value::Num(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Multi(vs) => vs.iter().flat_map(text_of).collect(),
        _ => Vec::new(),
    }
}

fn values(o: &ImportedObject, name: &str) -> Vec<String> {
    AttributeName::new(name)
        .ok()
        .and_then(|a| o.attributes.get(&a))
        .map(|vs| vs.iter().flat_map(text_of).collect())
        .unwrap_or_default()
}

fn first(o: &ImportedObject, name: &str) -> Option<String> {
    values(o, name).into_iter().next()
}

/// The object classes that synchronize (the readiness report looks at these only).
pub const SYNCED_CLASSES: &[&str] = &["user", "inetOrgPerson", "group", "contact", "computer"];

/// The documented reason `cloudFiltered` is True (Entra Connect's out-of-box rules), if any.
pub fn filter_reason(o: &ImportedObject) -> Option<String> {
    let sam = first(o, "sAMAccountName").unwrap_or_default();
    let nick = first(o, "mailNickname").unwrap_or_default();
    let lower = sam.to_ascii_lowercase();
    if first(o, "isCriticalSystemObject").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Some("a critical system object (isCriticalSystemObject)".into());
    }
    if o.dn.to_string().contains("\\0ACNF:") {
        return Some("a replication conflict object (CNF in its name)".into());
    }
    if sam.is_empty() && o.object_class != "contact" {
        return Some("it has no sAMAccountName".into());
    }
    for (prefix, what) in [
        ("msol_", "an Entra Connect account (MSOL_)"),
        ("aad_", "an Entra Connect account (AAD_)"),
        ("support_388945a0", "the SUPPORT_388945a0 account"),
    ] {
        if lower.starts_with(prefix) {
            return Some(what.into());
        }
    }
    let no_certificate = AttributeName::new("userCertificate")
        .ok()
        .and_then(|a| o.attributes.get(&a))
        .is_none_or(Vec::is_empty);
    if o.object_class == "computer" && no_certificate {
        return Some(
            "a computer without userCertificate (only devices that registered a certificate, \
             Windows 10 and later, are synchronized)"
                .into(),
        );
    }
    if nick.starts_with("SystemMailbox{") {
        return Some("an Exchange system mailbox (SystemMailbox{...})".into());
    }
    if (nick.starts_with("CAS_") && nick.contains('}'))
        || (sam.starts_with("CAS_") && sam.contains('}'))
    {
        return Some("an Exchange CAS_{...} mailbox".into());
    }
    None
}

/// Checks of a userPrincipalName (sync-engine.md 3.4: the UPN policy and IdFix).
fn upn_problems(upn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((local, domain)) = upn.rsplit_once('@') else {
        out.push("it has no '@'".into());
        return out;
    };
    if local.contains('@') {
        out.push("it has more than one '@'".into());
    }
    let bad: Vec<char> = local
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(*c)))
        .collect();
    if !bad.is_empty() {
        out.push(format!(
            "characters not allowed before '@': {}",
            bad.iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if domain
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
    {
        out.push("the suffix has characters not allowed in a domain name".into());
    }
    if local.ends_with('.') {
        out.push("a '.' right before '@'".into());
    }
    if local.starts_with('.') {
        out.push("it starts with '.'".into());
    }
    let (n, l, d) = (
        upn.chars().count(),
        local.chars().count(),
        domain.chars().count(),
    );
    if n > 113 {
        out.push(format!("{n} characters (at most 113)"));
    }
    if l > 64 {
        out.push(format!("{l} characters before '@' (at most 64)"));
    }
    if d > 48 {
        out.push(format!("{d} characters after '@' (at most 48)"));
    }
    if !domain.contains('.') {
        out.push("the suffix is not a routable domain name".into());
    }
    out
}

/// Checks of one proxyAddresses value.
fn proxy_problems(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let smtp = v
        .split_once(':')
        .is_some_and(|(k, _)| k.eq_ignore_ascii_case("smtp"));
    // X500 and other address types legitimately hold spaces (legacyExchangeDN).
    let mut bad: Vec<char> = v
        .chars()
        .filter(|c| smtp && (c.is_whitespace() || "<>();,[]\"".contains(*c)))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    bad.sort_unstable();
    bad.dedup();
    if !bad.is_empty() {
        out.push(format!(
            "characters not allowed: {}",
            bad.iter()
                .map(|c| if c.is_whitespace() {
                    "whitespace".to_owned()
                } else {
                    format!("'{c}'")
                })
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if v.chars().count() > 256 {
        out.push(format!("{} characters (at most 256)", v.chars().count()));
    }
    match v.split_once(':') {
        None => out.push("no address type prefix (such as SMTP:)".into()),
        Some((kind, addr)) if kind.eq_ignore_ascii_case("smtp") => {
            let ok = addr
                .rsplit_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'));
            if !ok {
                out.push("not a routable SMTP address".into());
            }
        }
        Some(_) => {}
    }
    out
}

struct Ctx<'a> {
    issues: Vec<Issue>,
    o: &'a ImportedObject,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        attribute: &str,
        value: &str,
        severity: Severity,
        problem: String,
        fix: &str,
    ) {
        self.issues.push(Issue {
            dn: self.o.dn.to_string(),
            class: self.o.object_class.clone(),
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            severity,
            problem,
            fix: fix.to_owned(),
        });
    }
}

fn check_object(
    o: &ImportedObject,
    display_name: Option<&Value>,
    domains: Option<&TenantDomains>,
) -> Vec<Issue> {
    let mut c = Ctx {
        issues: Vec::new(),
        o,
    };
    let class = o.object_class.as_str();
    let person = matches!(class, "user" | "inetOrgPerson");
    if person {
        match first(o, "userPrincipalName") {
            Some(upn) => {
                for p in upn_problems(&upn) {
                    c.push(
                        "userPrincipalName",
                        &upn,
                        Severity::Error,
                        p,
                        "change the UPN to name@suffix with letters, digits and ' . - _ ! # ^ ~ \
                         before '@', on a routable suffix",
                    );
                }
                if let (Some(d), Some((_, suffix))) = (domains, upn.rsplit_once('@')) {
                    let state = suffix_state(suffix, d);
                    if state != SuffixState::Verified {
                        c.push(
                            "userPrincipalName",
                            &upn,
                            Severity::Warning,
                            format!("the suffix {suffix} is {} in the tenant", state.text()),
                            "add and verify the suffix in the tenant, or change the UPN to a \
                             verified suffix; until then the user signs in as \
                             <name>@<tenant>.onmicrosoft.com",
                        );
                    }
                }
            }
            None => {
                let sam = first(o, "sAMAccountName").unwrap_or_default();
                c.push(
                    "userPrincipalName",
                    "",
                    Severity::Warning,
                    "missing: Entra ID gets <sAMAccountName>@<domain> instead".into(),
                    "set a userPrincipalName on a verified suffix",
                );
                let bad: Vec<char> = sam
                    .chars()
                    .filter(|ch| "[\\\"|,/:<>+=;?*]".contains(*ch))
                    .collect();
                if !bad.is_empty() || sam.chars().count() > 20 {
                    c.push(
                        "sAMAccountName",
                        &sam,
                        Severity::Error,
                        "characters not allowed, or more than 20 characters".into(),
                        "rename the account",
                    );
                }
            }
        }
    }
    if matches!(class, "user" | "inetOrgPerson" | "group") {
        // The value the rules give the cloud object (for groups: cn when displayName is empty).
        let resolved = display_name.map(text_of).and_then(|v| v.into_iter().next());
        match resolved.or_else(|| first(o, "displayName")) {
            None if class == "group" => c.push(
                "displayName",
                "",
                Severity::Error,
                "missing: Entra ID requires a display name for groups and the rules give none"
                    .into(),
                "set displayName",
            ),
            None => c.push(
                "displayName",
                "",
                Severity::Warning,
                "missing: the cloud user gets no display name".into(),
                "set displayName",
            ),
            Some(d) => {
                if d.chars().count() > 256 {
                    c.push(
                        "displayName",
                        &d,
                        Severity::Error,
                        format!("{} characters (at most 256)", d.chars().count()),
                        "shorten it",
                    );
                }
                if d.trim() != d {
                    c.push(
                        "displayName",
                        &d,
                        Severity::Warning,
                        "leading or trailing whitespace".into(),
                        "trim it",
                    );
                }
            }
        }
    }
    if let Some(nick) = first(o, "mailNickname") {
        if nick.starts_with('.') {
            c.push(
                "mailNickname",
                &nick,
                Severity::Error,
                "it starts with '.'".into(),
                "remove the leading '.'",
            );
        }
        let bad: Vec<char> = nick
            .chars()
            .filter(|ch| !ch.is_ascii() || "@()\\[]\";:<>, ".contains(*ch))
            .collect();
        let count = nick.chars().count();
        if !bad.is_empty() || count > 64 {
            let mut why = Vec::new();
            if !bad.is_empty() {
                why.push(format!(
                    "characters not allowed: {}",
                    bad.iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            if count > 64 {
                why.push(format!("{count} characters (at most 64)"));
            }
            c.push(
                "mailNickname",
                &nick,
                Severity::Error,
                why.join("; "),
                "use ASCII letters, digits and . - _ only",
            );
        }
    }
    let proxies = values(o, "proxyAddresses");
    if proxies.iter().filter(|p| p.starts_with("SMTP:")).count() > 1 {
        c.push(
            "proxyAddresses",
            &proxies.join("; "),
            Severity::Error,
            "more than one primary address (SMTP: in capitals)".into(),
            "keep one SMTP: value; write the others as smtp:",
        );
    }
    for p in &proxies {
        for problem in proxy_problems(p) {
            c.push(
                "proxyAddresses",
                p,
                Severity::Error,
                problem,
                "correct or remove the value",
            );
        }
    }
    if let Some(t) = first(o, "targetAddress")
        && (t
            .chars()
            .any(|ch| ch.is_whitespace() || "\\<>();,[]\"".contains(ch))
            || t.chars().count() > 255)
    {
        c.push(
            "targetAddress",
            &t,
            Severity::Error,
            "characters not allowed or more than 255 characters".into(),
            "correct the value",
        );
    }
    c.issues
}

/// Analyze the objects of one forest's full import.
pub fn analyze(
    forest: &str,
    objects: &[ImportedObject],
    rules: &RuleSet,
    params: &Params,
    domains: Option<&TenantDomains>,
) -> ReadinessReport {
    let connector = crate::engine::rules::Connector {
        kind: ConnectorKind::Ad,
        name: "ad",
    };
    let no_groups = |_: &Dn| false;
    let env = PreviewEnv {
        params,
        now: DateTime::now(),
        is_member_of: &no_groups,
        skip_direct: None,
    };
    let mut report = ReadinessReport {
        forest: forest.to_owned(),
        ..ReadinessReport::default()
    };
    let mut synced: Vec<(&ImportedObject, Option<Value>)> = Vec::new();
    // Containers (OUs) are read by the import but never synchronized.
    for o in objects
        .iter()
        .filter(|o| SYNCED_CLASSES.contains(&o.object_class.as_str()))
    {
        report.summary.objects += 1;
        let obj = MemoryObject {
            dn: Some(o.dn.to_string()),
            attributes: o.attributes.clone(),
        };
        let p = rules.preview_object(&obj, &o.object_class, Direction::Inbound, &connector, &env);
        if !p.connected {
            report.summary.out_of_scope += 1;
            report.filtered.push(Filtered {
                dn: o.dn.to_string(),
                class: o.object_class.clone(),
                reason: format!(
                    "out of scope: no inbound rule for {} takes it{}",
                    o.object_class,
                    filter_reason(o)
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            });
            continue;
        }
        if p.value("cloudFiltered") == Some(&Value::Bool(true)) {
            report.summary.filtered += 1;
            let rule = p
                .winner("cloudFiltered")
                .unwrap_or("an inbound rule")
                .to_owned();
            report.filtered.push(Filtered {
                dn: o.dn.to_string(),
                class: o.object_class.clone(),
                reason: format!(
                    "cloudFiltered by '{rule}': {}",
                    filter_reason(o).unwrap_or_else(|| "its expression returned True".into())
                ),
            });
            continue;
        }
        report.summary.synchronized += 1;
        synced.push((o, p.value("displayName").cloned()));
    }
    let mut issues: Vec<Issue> = Vec::new();
    for (o, display_name) in &synced {
        issues.extend(check_object(o, display_name.as_ref(), domains));
    }
    let synced: Vec<&ImportedObject> = synced.iter().map(|(o, _)| *o).collect();
    // Duplicates among the objects that synchronize.
    let mut seen: BTreeMap<(&str, String), Vec<&ImportedObject>> = BTreeMap::new();
    for o in &synced {
        if let Some(upn) = first(o, "userPrincipalName") {
            seen.entry(("userPrincipalName", upn.to_lowercase()))
                .or_default()
                .push(o);
        }
        if let Some(mail) = first(o, "mail") {
            seen.entry(("mail", mail.to_lowercase()))
                .or_default()
                .push(o);
        }
        for p in values(o, "proxyAddresses") {
            seen.entry(("proxyAddresses", p.to_lowercase()))
                .or_default()
                .push(o);
        }
    }
    for ((attribute, value), holders) in &seen {
        if holders.len() < 2 {
            continue;
        }
        for o in holders {
            let others: Vec<String> = holders
                .iter()
                .filter(|h| h.dn != o.dn)
                .map(|h| h.dn.to_string())
                .collect();
            issues.push(Issue {
                dn: o.dn.to_string(),
                class: o.object_class.clone(),
                attribute: (*attribute).to_owned(),
                value: value.clone(),
                severity: Severity::Error,
                problem: format!("duplicate: also on {}", others.join("; ")),
                fix: "keep the value on one object only (Entra ID quarantines the duplicate)"
                    .into(),
            });
        }
    }
    issues.sort_by(|a, b| (&a.dn, &a.attribute, &a.value).cmp(&(&b.dn, &b.attribute, &b.value)));
    let mut per_object: BTreeMap<&str, Severity> = BTreeMap::new();
    for i in &issues {
        let e = per_object.entry(&i.dn).or_insert(i.severity);
        *e = (*e).min(i.severity);
    }
    report.summary.objects_with_errors = per_object
        .values()
        .filter(|s| **s == Severity::Error)
        .count();
    report.summary.objects_with_warnings = per_object
        .values()
        .filter(|s| **s == Severity::Warning)
        .count();
    report.summary.issues = issues.len();
    report.issues = issues;
    report.filtered.sort_by(|a, b| a.dn.cmp(&b.dn));
    report
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The CSV of reports: one row per issue and per filtered object.
pub fn csv(reports: &[ReadinessReport]) -> String {
    let mut out = String::from("forest,dn,class,attribute,value,severity,problem,fix\n");
    for r in reports {
        for i in &r.issues {
            let sev = match i.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let row = [
                r.forest.as_str(),
                &i.dn,
                &i.class,
                &i.attribute,
                &i.value,
                sev,
                &i.problem,
                &i.fix,
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        for f in &r.filtered {
            let row = [
                r.forest.as_str(),
                &f.dn,
                &f.class,
                "",
                "",
                "filtered",
                &f.reason,
                "",
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
    }
    out
}

/// The text form: summary, then the per-object table.
pub fn text(r: &ReadinessReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "Directory readiness of {}: {} objects read, {} would synchronize ({} with errors, {} \
         with warnings only), {} filtered by cloudFiltered, {} out of scope; {} issues\n",
        r.forest,
        s.objects,
        s.synchronized,
        s.objects_with_errors,
        s.objects_with_warnings,
        s.filtered,
        s.out_of_scope,
        s.issues
    );
    let mut last = "";
    for i in &r.issues {
        if i.dn != last {
            out.push_str(&format!("  {} ({})\n", i.dn, i.class));
            last = &i.dn;
        }
        let sev = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "    {sev:7} {} = '{}': {}\n            fix: {}\n",
            i.attribute, i.value, i.problem, i.fix
        ));
    }
    if !r.filtered.is_empty() {
        out.push_str("  Not synchronized:\n");
        for f in &r.filtered {
            out.push_str(&format!("    {} ({}): {}\n", f.dn, f.class, f.reason));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn upn_rules_follow_the_documented_policy() {
        assert!(upn_problems("mira#novak@lab.example").is_empty());
        assert!(upn_problems("o'neil.j-k_l!^~@lab.example").is_empty());
        assert!(upn_problems("zoë@lab.example")[0].contains("'ë'"));
        assert!(upn_problems("a b@lab.example")[0].contains("' '"));
        assert!(upn_problems("ab.@lab.example")[0].contains("right before '@'"));
        assert!(upn_problems("ab@lab")[0].contains("routable"));
        assert!(
            upn_problems(&format!("{}@lab.example", "a".repeat(65)))
                .iter()
                .any(|p| p.contains("at most 64"))
        );
        assert!(upn_problems("noat")[0].contains("no '@'"));
        assert!(proxy_problems("SMTP:a@b.example").is_empty());
        assert!(proxy_problems("X500:/o=Org/ou=Admin").is_empty());
        assert!(proxy_problems("SMTP:a b@b.example")[0].contains("whitespace"));
        assert!(proxy_problems("X500:/o=Lab/ou=Exchange Administrative Group/cn=x").is_empty());
        assert!(proxy_problems("smtp:nobody")[0].contains("routable"));
        assert_eq!(csv_field("Doe, John \"JD\""), "\"Doe, John \"\"JD\"\"\"");
    }
}
