//! Problems found in rule files, as data.
//!
//! Invariants: every issue names the file and, whenever the problem is inside a rule, the rule
//! (by name, or by its position when the name itself is missing) and the part of the rule (a
//! flow by its target, a scope or join condition by its position); the line is the line of the
//! offending key or value, and expression problems also carry the column inside the expression.
//! Every message says what is wrong and how to fix it. Issues are collected, never thrown one at a
//! time: loading reports everything it can find in one pass.

use std::fmt;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rules load; the admin should know.
    Warning,
    /// The rule set cannot be used.
    Error,
}

/// One problem in a rule file (serializes as JSON for machine-readable reports).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleIssue {
    /// Error or warning.
    pub severity: Severity,
    /// The file as shown to the admin.
    pub file: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// The rule's name; `None` for file-level problems and for rules without a usable name.
    pub rule: Option<String>,
    /// Which part of the rule: `flow 'displayName'`, `scope group 1, condition 2`,
    /// `join group 1, condition 1`, or `[[rule]] number 3` for a rule without a name.
    pub part: Option<String>,
    /// For expression problems: the 1-based column (in characters) inside the expression.
    pub column: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl RuleIssue {
    /// An error at `file:line`.
    pub fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_string(),
            line,
            rule: None,
            part: None,
            column: None,
            message: message.into(),
        }
    }

    /// A warning at `file:line`.
    pub fn warning(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, line, message)
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for RuleIssue {
    /// One line: `error: FILE:LINE: rule 'NAME', PART: expression column N: MESSAGE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        match (&self.rule, &self.part) {
            (Some(rule), Some(part)) => write!(f, "rule '{rule}', {part}: ")?,
            (Some(rule), None) => write!(f, "rule '{rule}': ")?,
            (None, Some(part)) => write!(f, "{part}: ")?,
            (None, None) => {}
        }
        if let Some(column) = self.column {
            write!(f, "expression column {column}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a rule set could not be loaded: every problem found, errors first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.issues))]
pub struct RuleErrors {
    /// Every issue found (errors, then warnings), in file and line order within each severity.
    pub issues: Vec<RuleIssue>,
}

impl RuleErrors {
    /// The number of errors (warnings not counted).
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }
}

fn render(issues: &[RuleIssue]) -> String {
    let mut lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
    let errors = issues.iter().filter(|i| i.is_error()).count();
    lines.push(format!(
        "{errors} error(s) in the sync rules: the rule set was not loaded."
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_print_file_line_rule_part_column_and_message() {
        let mut issue = RuleIssue::error("rules/a.toml", Some(42), "bad");
        assert_eq!(issue.to_string(), "error: rules/a.toml:42: bad");
        issue.rule = Some("In from AD - User Common".into());
        assert_eq!(
            issue.to_string(),
            "error: rules/a.toml:42: rule 'In from AD - User Common': bad"
        );
        issue.part = Some("flow 'displayName'".into());
        issue.column = Some(17);
        assert_eq!(
            issue.to_string(),
            "error: rules/a.toml:42: rule 'In from AD - User Common', flow 'displayName': \
             expression column 17: bad"
        );
        let warning = RuleIssue::warning("rules/b.toml", None, "empty");
        assert_eq!(warning.to_string(), "warning: rules/b.toml: empty");
        let errors = RuleErrors {
            issues: vec![issue, warning],
        };
        assert_eq!(errors.error_count(), 1);
        let json = serde_json::to_string(&errors.issues[1]).unwrap();
        assert_eq!(
            json,
            r#"{"severity":"warning","file":"rules/b.toml","line":null,"rule":null,"part":null,"column":null,"message":"empty"}"#
        );
        assert!(
            errors
                .to_string()
                .ends_with("\n1 error(s) in the sync rules: the rule set was not loaded.")
        );
    }
}
