//! Problems found in a configuration file, as data.
//!
//! Invariants: every issue names the key it is about (a dotted path such as
//! `directories[0].tls.mode`, or `(file)` for the file as a whole) and carries a message that
//! quotes the offending value in single quotes and says how to fix it. Issues are collected, never
//! thrown one at a time: loading reports every problem it can find in one pass. Errors make the
//! file unusable; warnings are accepted but printed (a loud opt-out, a capability the chosen
//! target lacks).

use std::fmt;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Accepted, but the admin should know.
    Warning,
    /// The file cannot be used.
    Error,
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigIssue {
    /// Error or warning.
    pub severity: Severity,
    /// Dotted key path, e.g. `directories[0].account.secret_ref`.
    pub key: String,
    /// 1-based line in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigIssue {
    /// An error about `key`.
    pub fn error(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            key: key.into(),
            line: None,
            message: message.into(),
        }
    }

    /// A warning about `key`.
    pub fn warning(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            key: key.into(),
            line: None,
            message: message.into(),
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render as one line prefixed with the file name, e.g.
    /// `error: hybridsync.toml:12: sync.interval: '1m' is shorter than ...`.
    pub fn render(&self, file: &str) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(line) => format!("{sev}: {file}:{line}: {}: {}", self.key, self.message),
            None => format!("{sev}: {file}: {}: {}", self.key, self.message),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Quote a value for a message the way every message in hybridsync does: single quotes.
pub fn quote(value: impl fmt::Display) -> String {
    format!("'{value}'")
}
