//! One check's result and the whole report: an id, a pass/warn/fail (or skip, when a check could
//! not run because one it depends on failed), what was found, and the fix an admin can apply;
//! rendered as text for a terminal or as JSON.
//!
//! Invariants: results are ordered by the order the checks were declared, not by when they
//! finished (concurrent checks give a stable report); a failed or warned check always carries a
//! fix; nothing here holds or prints a secret.

use serde::Serialize;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// All good.
    Pass,
    /// Works, but an admin should look.
    Warn,
    /// Blocks synchronization until fixed.
    Fail,
    /// Not run: a check it depends on failed.
    Skip,
}

impl Status {
    /// The word shown in text reports.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Stable id, e.g. `ad.tls` (what scripts match on).
    pub id: String,
    /// The forest the finding is about (empty for the tenant and this machine).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub forest: String,
    /// What the check is about, including which DC or directory.
    pub title: String,
    /// The verdict.
    pub status: Status,
    /// What was found.
    pub found: String,
    /// What to do about it (empty when it passed).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
    /// Declaration order, for a stable report.
    #[serde(skip)]
    pub order: (usize, usize),
}

impl CheckResult {
    /// A result.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        status: Status,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        CheckResult {
            id: id.into(),
            forest: String::new(),
            title: title.into(),
            status,
            found: found.into(),
            fix: fix.into(),
            order: (0, 0),
        }
    }

    /// A pass.
    pub fn pass(id: impl Into<String>, title: impl Into<String>, found: impl Into<String>) -> Self {
        Self::new(id, title, Status::Pass, found, "")
    }

    /// The same result, about `forest`.
    #[must_use]
    pub fn in_forest(mut self, forest: &str) -> Self {
        forest.clone_into(&mut self.forest);
        self
    }

    /// A skipped check: `because` names the failed check it needs.
    pub fn skip(id: impl Into<String>, title: impl Into<String>, because: &str) -> Self {
        Self::new(
            id,
            title,
            Status::Skip,
            format!("not checked: {because}"),
            "fix the failed check above, then run the preflight again",
        )
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Passed.
    pub pass: usize,
    /// Warnings.
    pub warn: usize,
    /// Failures.
    pub fail: usize,
    /// Skipped.
    pub skip: usize,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Counts.
    pub summary: Summary,
    /// Every result, in declaration order.
    pub checks: Vec<CheckResult>,
    /// The directory readiness report of each forest (when it ran).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<super::readiness::ReadinessReport>,
}

impl Report {
    /// A report of `checks` (sorted into declaration order).
    pub fn new(mut checks: Vec<CheckResult>) -> Self {
        checks.sort_by_key(|c| c.order);
        let mut summary = Summary::default();
        for c in &checks {
            match c.status {
                Status::Pass => summary.pass += 1,
                Status::Warn => summary.warn += 1,
                Status::Fail => summary.fail += 1,
                Status::Skip => summary.skip += 1,
            }
        }
        Report {
            summary,
            checks,
            readiness: Vec::new(),
        }
    }

    /// The worst status (Pass for an empty report; Skip counts as Fail: something is unknown).
    pub fn worst(&self) -> Status {
        if self.summary.fail > 0 || self.summary.skip > 0 {
            Status::Fail
        } else if self.summary.warn > 0 {
            Status::Warn
        } else {
            Status::Pass
        }
    }

    /// The result with `id` (the first, when a check runs per DC).
    pub fn get(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Every result with `id`.
    pub fn all(&self, id: &str) -> Vec<&CheckResult> {
        self.checks.iter().filter(|c| c.id == id).collect()
    }

    /// Every result about `forest` (case-insensitive).
    pub fn of_forest(&self, forest: &str) -> Vec<&CheckResult> {
        self.checks
            .iter()
            .filter(|c| c.forest.eq_ignore_ascii_case(forest))
            .collect()
    }

    /// The text report: one block per check, then the counts.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            if c.forest.is_empty() {
                out.push_str(&format!("[{}] {}  ({})\n", c.status.word(), c.title, c.id));
            } else {
                out.push_str(&format!(
                    "[{}] {}  ({}, forest {})\n",
                    c.status.word(),
                    c.title,
                    c.id,
                    c.forest
                ));
            }
            for line in c.found.lines() {
                out.push_str(&format!("       found: {line}\n"));
            }
            if c.status != Status::Pass && !c.fix.is_empty() {
                for line in c.fix.lines() {
                    out.push_str(&format!("       fix:   {line}\n"));
                }
            }
        }
        for r in &self.readiness {
            out.push('\n');
            out.push_str(&super::readiness::text(r));
        }
        out.push_str(&format!(
            "\n{} passed, {} warnings, {} failed, {} not checked\n",
            self.summary.pass, self.summary.warn, self.summary.fail, self.summary.skip
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn reports_sort_count_and_render() {
        let mut a = CheckResult::new("b.two", "Second", Status::Fail, "port closed", "open it");
        a.order = (1, 0);
        let mut b = CheckResult::pass("a.one", "First", "fine");
        b.order = (0, 0);
        let r = Report::new(vec![a, b]);
        assert_eq!(r.checks[0].id, "a.one");
        assert_eq!(r.summary.fail, 1);
        assert_eq!(r.worst(), Status::Fail);
        let text = r.text();
        assert!(text.contains("[FAIL] Second  (b.two)"), "{text}");
        assert!(text.contains("fix:   open it"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["summary"]["pass"], 1);
        assert!(json["checks"][0].get("fix").is_none());
        assert!(json["checks"][0].get("forest").is_none());
    }

    #[test]
    fn a_finding_names_its_forest() {
        let r = Report::new(vec![
            CheckResult::new("ad.schema", "Schema", Status::Fail, "lacks x", "extend it")
                .in_forest("corp.example.com"),
            CheckResult::pass("tenant.token", "Token", "ok"),
        ]);
        let text = r.text();
        assert!(
            text.contains("[FAIL] Schema  (ad.schema, forest corp.example.com)"),
            "{text}"
        );
        assert!(text.contains("[PASS] Token  (tenant.token)\n"), "{text}");
        assert_eq!(r.of_forest("CORP.example.com").len(), 1);
        let json = serde_json::to_value(&r).unwrap();
        let schema = json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "ad.schema")
            .unwrap();
        assert_eq!(schema["forest"], "corp.example.com");
    }
}
