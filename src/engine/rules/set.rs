//! The rule set: the shipped rules, plus the admin's rule files, checked as a whole.
//!
//! Invariants: a [`RuleSet`] holds only rules that passed every check, sorted by precedence
//! (then name); enabled rules have distinct precedences and distinct names (ignoring case); a
//! user rule with the name of a shipped rule replaces it, and its [`Origin`] records both places.
//! Loading collects every problem from every file before failing, and errors come before
//! warnings, each group in file and line order.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::issue::{RuleErrors, RuleIssue, Severity};
use super::load::{Candidate, fold, parse_file};
use super::model::{Connector, Direction, Origin, Rule};
use super::plan::{Plan, Plans};

/// One rule file's text and the name messages show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// The file as shown to the admin.
    pub file: String,
    /// Its contents.
    pub text: String,
}

impl RuleSource {
    /// A source from a name and text.
    pub fn new(file: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            text: text.into(),
        }
    }
}

/// The shipped rule files, embedded in the binary, in the order they are read.
const SHIPPED: &[(&str, &str)] = &[
    (
        "templates/rules/in-from-ad-user.toml",
        include_str!("../../../templates/rules/in-from-ad-user.toml"),
    ),
    (
        "templates/rules/in-from-ad-inetorgperson.toml",
        include_str!("../../../templates/rules/in-from-ad-inetorgperson.toml"),
    ),
    (
        "templates/rules/in-from-ad-group.toml",
        include_str!("../../../templates/rules/in-from-ad-group.toml"),
    ),
    (
        "templates/rules/in-from-ad-contact.toml",
        include_str!("../../../templates/rules/in-from-ad-contact.toml"),
    ),
    (
        "templates/rules/in-from-ad-computer.toml",
        include_str!("../../../templates/rules/in-from-ad-computer.toml"),
    ),
    (
        "templates/rules/out-to-entra.toml",
        include_str!("../../../templates/rules/out-to-entra.toml"),
    ),
];

/// A checked set of sync rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    warnings: Vec<RuleIssue>,
    /// The rules compiled per direction, connector and object type, built on first use.
    plans: Plans,
}

impl RuleSet {
    /// The shipped rule files as sources (what [`RuleSet::builtin`] loads).
    pub fn shipped_sources() -> Vec<RuleSource> {
        SHIPPED
            .iter()
            .map(|(file, text)| RuleSource::new(*file, *text))
            .collect()
    }

    /// The shipped default rules.
    pub fn builtin() -> Result<RuleSet, RuleErrors> {
        RuleSet::from_sources(&RuleSet::shipped_sources(), &[])
    }

    /// The rules in effect: `builtin` (normally [`RuleSet::builtin`]) plus every `*.toml` file in
    /// `user_dir` (read in name order). A user rule with the same name as a rule of `builtin`
    /// replaces it. A missing `user_dir` means no user rules.
    pub fn load(builtin: &RuleSet, user_dir: Option<&Path>) -> Result<RuleSet, RuleErrors> {
        let mut issues = Vec::new();
        let user = match user_dir {
            Some(dir) => read_dir(dir, &mut issues),
            None => Vec::new(),
        };
        let shipped: Vec<Candidate> = builtin
            .rules
            .iter()
            .cloned()
            .map(Candidate::from_rule)
            .collect();
        let mut user_candidates = Vec::new();
        for source in &user {
            user_candidates.extend(parse_file(&source.file, &source.text, false, &mut issues));
        }
        let mut order: Vec<String> = builtin
            .rules
            .iter()
            .map(|r| r.origin.file.clone())
            .collect();
        order.extend(user.iter().map(|s| s.file.clone()));
        issues.extend(builtin.warnings.iter().cloned());
        combine(shipped, user_candidates, issues, &order)
    }

    /// Loads rules from in-memory files: `shipped` files (checked together), then `user` files
    /// whose rules add to or replace them.
    pub fn from_sources(
        shipped: &[RuleSource],
        user: &[RuleSource],
    ) -> Result<RuleSet, RuleErrors> {
        let mut issues = Vec::new();
        let mut shipped_candidates = Vec::new();
        for source in shipped {
            shipped_candidates.extend(parse_file(&source.file, &source.text, true, &mut issues));
        }
        let mut user_candidates = Vec::new();
        for source in user {
            user_candidates.extend(parse_file(&source.file, &source.text, false, &mut issues));
        }
        let order: Vec<String> = shipped.iter().chain(user).map(|s| s.file.clone()).collect();
        combine(shipped_candidates, user_candidates, issues, &order)
    }

    /// Every rule, enabled or not, by precedence.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The enabled rules, by precedence.
    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| !r.disabled)
    }

    /// A rule by name (ignoring case).
    pub fn get(&self, name: &str) -> Option<&Rule> {
        let wanted = fold(name);
        self.rules.iter().find(|r| fold(&r.name) == wanted)
    }

    /// Problems that did not stop loading.
    pub fn warnings(&self) -> &[RuleIssue] {
        &self.warnings
    }

    /// Adds a rule generated from the configuration (it was built from checked rules), in
    /// precedence order.
    pub(super) fn push_generated(&mut self, rule: Rule) {
        let at = self
            .rules
            .partition_point(|r| r.precedence <= rule.precedence);
        self.rules.insert(at, rule);
        self.plans = Plans::default();
    }

    /// The enabled rules for `direction`, `connector` and source `object_type`, compiled (once
    /// per rule set and key).
    pub(crate) fn plan(
        &self,
        direction: Direction,
        connector: &Connector<'_>,
        object_type: &str,
    ) -> Arc<Plan> {
        self.plans
            .get(&self.rules, direction, connector, object_type)
    }
}

/// Reads the `*.toml` files of a directory, in name order.
fn read_dir(dir: &Path, issues: &mut Vec<RuleIssue>) -> Vec<RuleSource> {
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            issues.push(RuleIssue::error(
                &shown,
                None,
                format!("cannot read the rule directory: {e}. Check that it is a directory hybridsync may read"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.is_dir())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => out.push(RuleSource { file, text }),
            Err(e) => issues.push(RuleIssue::error(
                &file,
                None,
                format!("cannot read the rule file: {e}. Check that hybridsync may read it and that it is UTF-8 text"),
            )),
        }
    }
    out
}

/// The cross-rule checks, and the set if nothing is wrong.
fn combine(
    shipped: Vec<Candidate>,
    user: Vec<Candidate>,
    mut issues: Vec<RuleIssue>,
    file_order: &[String],
) -> Result<RuleSet, RuleErrors> {
    let mut shipped = unique_names(shipped, &mut issues);
    let user = unique_names(user, &mut issues);

    // A user rule replaces the shipped rule of the same name.
    let mut effective = Vec::new();
    for mut candidate in user {
        if let Some(name) = &candidate.name
            && let Some(pos) = shipped
                .iter()
                .position(|s| s.name.as_deref().map(fold) == Some(fold(name)))
        {
            let replaced = shipped.remove(pos);
            if let (Some(new), Some(old)) = (&candidate.rule, &replaced.rule)
                && let Some(message) = changed_kind(new, old)
            {
                issues.push(RuleIssue {
                    rule: Some(name.clone()),
                    ..RuleIssue::warning(
                        &candidate.origin.file,
                        Some(candidate.origin.line),
                        message,
                    )
                });
            }
            let replaces = Some(Box::new(Origin {
                replaces: None,
                ..replaced.origin
            }));
            candidate.origin.replaces = replaces.clone();
            if let Some(rule) = &mut candidate.rule {
                rule.origin.replaces = replaces;
            }
        }
        effective.push(candidate);
    }
    let mut all = shipped;
    all.extend(effective);

    precedence_conflicts(&all, &mut issues);
    merge_conflicts(&all, &mut issues);

    let position = |file: &str| {
        file_order
            .iter()
            .position(|f| f == file)
            .unwrap_or(usize::MAX)
    };
    issues.sort_by_key(|i| {
        (
            std::cmp::Reverse(i.severity),
            position(&i.file),
            i.line.unwrap_or(0),
        )
    });
    if issues.iter().any(RuleIssue::is_error) {
        return Err(RuleErrors { issues });
    }
    let mut rules: Vec<Rule> = all.into_iter().filter_map(|c| c.rule).collect();
    rules.sort_by(|a, b| {
        a.precedence
            .cmp(&b.precedence)
            .then_with(|| fold(&a.name).cmp(&fold(&b.name)))
    });
    let warnings = issues
        .into_iter()
        .filter(|i| i.severity == Severity::Warning)
        .collect();
    Ok(RuleSet {
        rules,
        warnings,
        plans: Plans::default(),
    })
}

/// Drops (and reports) later rules whose name an earlier rule of the same source already uses.
fn unique_names(candidates: Vec<Candidate>, issues: &mut Vec<RuleIssue>) -> Vec<Candidate> {
    let mut seen: HashMap<String, Origin> = HashMap::new();
    let mut out = Vec::new();
    for candidate in candidates {
        if let Some(name) = &candidate.name {
            if let Some(first) = seen.get(&fold(name)) {
                issues.push(RuleIssue {
                    rule: Some(name.clone()),
                    ..RuleIssue::error(
                        &candidate.origin.file,
                        Some(candidate.name_line),
                        format!(
                            "the name is already used by the rule at {}:{}. Rule names must be unique (ignoring case); rename one of them",
                            first.file, first.line
                        ),
                    )
                });
                continue;
            }
            seen.insert(fold(name), candidate.origin.clone());
        }
        out.push(candidate);
    }
    out
}

/// A warning when a replacing rule changes what the replaced rule applied to (likely a name
/// reused by accident).
fn changed_kind(new: &Rule, old: &Rule) -> Option<String> {
    let same = new.direction == old.direction
        && new
            .source_object_type
            .eq_ignore_ascii_case(&old.source_object_type)
        && new
            .target_object_type
            .eq_ignore_ascii_case(&old.target_object_type);
    (!same).then(|| {
        format!(
            "this rule replaces the shipped rule of the same name at {}:{}, which is {} from '{}' to '{}', but this one is {} from '{}' to '{}'. If that is not intended, give this rule another name",
            old.origin.file,
            old.origin.line,
            old.direction,
            old.source_object_type,
            old.target_object_type,
            new.direction,
            new.source_object_type,
            new.target_object_type
        )
    })
}

/// Two enabled rules may not share a precedence; each later rule of a clash is reported with the
/// first one's place, and a free number is suggested.
fn precedence_conflicts(all: &[Candidate], issues: &mut Vec<RuleIssue>) {
    let enabled: Vec<&Candidate> = all
        .iter()
        .filter(|c| !c.disabled && c.precedence.is_some())
        .collect();
    let taken: Vec<u32> = enabled
        .iter()
        .filter_map(|c| c.precedence.map(|(p, _)| p))
        .collect();
    let mut first_at: HashMap<u32, &Candidate> = HashMap::new();
    for candidate in &enabled {
        let Some((precedence, line)) = candidate.precedence else {
            continue;
        };
        let Some(first) = first_at.get(&precedence) else {
            first_at.insert(precedence, candidate);
            continue;
        };
        let other = first.name.as_deref().unwrap_or("(unnamed)");
        let free = free_precedence(precedence, &taken);
        issues.push(RuleIssue {
            rule: candidate.name.clone(),
            ..RuleIssue::error(
                &candidate.origin.file,
                Some(line),
                format!(
                    "precedence {precedence} is also used by rule '{other}' ({}:{}). Two enabled rules cannot share a precedence; give this rule a free number such as {free} (lower numbers win)",
                    first.origin.file, first.origin.line
                ),
            )
        });
    }
}

/// The free precedence nearest to `wanted`, preferring higher priority (lower numbers).
fn free_precedence(wanted: u32, taken: &[u32]) -> u32 {
    let free = |p: &u32| *p >= 1 && !taken.contains(p);
    (1..wanted)
        .rev()
        .find(free)
        .or_else(|| (wanted + 1..).find(free))
        .unwrap_or(wanted)
}

/// Rules that write the same attribute of the same object type must agree on uniting values or
/// not ("all rules in scope must use the same merge type").
fn merge_conflicts(all: &[Candidate], issues: &mut Vec<RuleIssue>) {
    type Key = (Direction, String, String);
    let mut first: HashMap<Key, (&Rule, usize)> = HashMap::new();
    let mut rules: Vec<&Rule> = all
        .iter()
        .filter_map(|c| c.rule.as_ref())
        .filter(|r| !r.disabled)
        .collect();
    rules.sort_by_key(|r| r.precedence);
    for rule in rules {
        for (index, flow) in rule.flows.iter().enumerate() {
            let key = (
                rule.direction,
                rule.target_object_type.to_ascii_lowercase(),
                fold(flow.target.as_str()),
            );
            let Some((other, other_index)) = first.get(&key).copied() else {
                first.insert(key, (rule, index));
                continue;
            };
            let other_merge = other.flows[other_index].merge;
            let union = |m: super::model::MergeType| if m.is_union() { Some(m) } else { None };
            if union(flow.merge) == union(other_merge) {
                continue;
            }
            issues.push(RuleIssue {
                rule: Some(rule.name.clone()),
                part: Some(format!("flow '{}'", flow.target)),
                ..RuleIssue::error(
                    &rule.origin.file,
                    Some(flow.line),
                    format!(
                        "merge type '{}' differs from rule '{}' ({}:{}), which writes the same attribute with merge type '{}'. Rules that write one attribute must all unite values (merge, merge-case-insensitive) or all let the winner take it (update)",
                        flow.merge.as_str(),
                        other.name,
                        other.origin.file,
                        other.flows[other_index].line,
                        other_merge.as_str()
                    ),
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggested_precedence_is_the_nearest_free_one_above() {
        assert_eq!(free_precedence(100, &[100, 101]), 99);
        assert_eq!(free_precedence(100, &[98, 99, 100]), 97);
        assert_eq!(free_precedence(1, &[1, 2]), 3);
    }
}
