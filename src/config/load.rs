//! Reading a configuration file: syntax, shape, then meaning, reporting every problem at once.
//!
//! Invariants: loading never stops at the first problem. Syntax errors end the pass (nothing else
//! can be trusted), but shape errors (unknown keys, wrong types, missing keys, bad values) are
//! collected by deserializing, recording the failure with its key path and line, removing the
//! offending piece and trying again; only a file whose shape is clean goes on to the semantic
//! checks of `validate.rs`. Inline secrets are caught before anything else with a message that
//! says how to store them. Every issue's key path is in the terms of the file as written (array
//! indices are not shifted by pieces removed along the way).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_path_to_error::Segment;

use crate::config::issue::{ConfigIssue, quote};
use crate::config::model::{Config, SCHEMA_VERSION};
use crate::config::validate;

/// A configuration that passed every check, with the warnings worth printing.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective configuration.
    pub config: Config,
    /// Non-fatal issues.
    pub warnings: Vec<ConfigIssue>,
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file '{}': {io}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error (part of the message, so not a separate `source`).
        io: std::io::Error,
    },
    /// The file has problems; each issue says which key and how to fix it.
    #[error("{}", render_issues(file, issues))]
    Invalid {
        /// The file name as shown to the admin.
        file: String,
        /// Every problem found (errors and warnings).
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(file: &str, issues: &[ConfigIssue]) -> String {
    let lines: Vec<String> = issues.iter().map(|i| i.render(file)).collect();
    lines.join("\n")
}

/// Keys that must never hold a secret value inline.
const SECRET_WORDS: [&str; 8] = [
    "password",
    "passwd",
    "secret",
    "client_secret",
    "passphrase",
    "private_key",
    "token",
    "api_key",
];

/// Read and check the file at `path`. Relative paths inside the file are not resolved here.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|io| ConfigError::Read {
        path: path.to_path_buf(),
        io,
    })?;
    let file = path.display().to_string();
    let mut loaded = parse(&text).map_err(|issues| ConfigError::Invalid {
        file: file.clone(),
        issues,
    })?;
    let mut env_issues = validate::check_environment(&loaded.config);
    locate_all(&text, &mut env_issues);
    if env_issues.iter().any(ConfigIssue::is_error) {
        let mut issues = env_issues;
        issues.extend(loaded.warnings);
        issues.sort_by_key(|i| (std::cmp::Reverse(i.severity), i.line.unwrap_or(0)));
        return Err(ConfigError::Invalid { file, issues });
    }
    loaded.warnings.extend(env_issues);
    Ok(loaded)
}

/// Check configuration text: syntax, shape and meaning. Pure: touches no files.
pub fn parse(text: &str) -> Result<Loaded, Vec<ConfigIssue>> {
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let mut issue = ConfigIssue::error(
                "(file)",
                format!(
                    "this is not valid TOML: {}. Fix the syntax at the line shown (templates/hybridsync.toml is a complete example)",
                    e.message()
                        .trim_end_matches('\n')
                        .trim_end_matches('.')
                        .replace('`', "'")
                ),
            );
            issue.line = e.span().map(|s| line_of(text, s.start));
            return Err(vec![issue]);
        }
    };
    let mut root: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return Err(vec![ConfigIssue::error(
                "(file)",
                format!("this is not valid TOML: {}", e.message()),
            )]);
        }
    };

    let mut issues = Vec::new();
    find_inline_secrets(
        &toml::Value::Table(root.clone()),
        &mut Vec::new(),
        &mut issues,
    );
    for issue in &issues {
        remove_path(&mut root, &parse_key_path(&issue.key));
    }

    let secret_tables: Vec<String> = issues
        .iter()
        .map(|i: &ConfigIssue| {
            i.key
                .rsplit_once('.')
                .map_or(String::new(), |(p, _)| p.to_string())
        })
        .collect();
    let mut cut: Vec<String> = Vec::new();
    let mut removed = IndexMap::default();
    let mut config = None;
    for _ in 0..200 {
        match serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(root.clone())) {
            Ok(c) => {
                config = Some(c);
                break;
            }
            Err(err) => {
                let current: Vec<PathPart> = err
                    .path()
                    .iter()
                    .filter_map(PathPart::from_segment)
                    .collect();
                let message = err.inner().message().to_string();
                let (report, remove_at) = classify(&current, &message);
                let parent = render_path(&removed.original(&current));
                if let Some((suffix, text)) = report {
                    let mut key_path = removed.original(&current);
                    key_path.extend(suffix);
                    let key = render_path(&key_path);
                    // A required key we cut ourselves, or one an inline secret stood in for, is
                    // an echo of a problem already reported.
                    let echo = message.starts_with("missing field")
                        && (cut.contains(&key) || secret_tables.contains(&parent));
                    if !echo {
                        let text = match get_mut(&mut root, &current) {
                            Some(v) if text.starts_with("is not") => {
                                format!("{} {text}", quote(show(v)))
                            }
                            _ => text,
                        };
                        issues.push(ConfigIssue::error(key, text));
                    }
                }
                cut.push(render_path(&removed.original(&remove_at)));
                if remove_at.is_empty() {
                    // Only the root can be "missing" something; schema_version is the one required
                    // root key. Put in a stand-in so the rest of the file still gets checked.
                    root.insert(
                        "schema_version".into(),
                        toml::Value::Integer(i64::from(SCHEMA_VERSION)),
                    );
                    continue;
                }
                if !removed.remove(&mut root, &remove_at) {
                    break;
                }
            }
        }
    }
    locate_all_in(&doc, text, &mut issues);
    let Some(config) = config.filter(|_| issues.is_empty()) else {
        return Err(issues);
    };

    let mut found = validate::validate(&config);
    locate_all_in(&doc, text, &mut found);
    if found.iter().any(ConfigIssue::is_error) {
        found.sort_by_key(|i| std::cmp::Reverse(i.severity));
        return Err(found);
    }
    Ok(Loaded {
        config,
        warnings: found,
    })
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PathPart {
    Key(String),
    Index(usize),
}

impl PathPart {
    fn from_segment(s: &Segment) -> Option<Self> {
        match s {
            Segment::Seq { index } => Some(Self::Index(*index)),
            Segment::Map { key } => Some(Self::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        }
    }
}

/// `directories[0].tls.mode` style rendering.
fn render_path(path: &[PathPart]) -> String {
    let mut out = String::new();
    for part in path {
        match part {
            PathPart::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathPart::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() { "(file)".into() } else { out }
}

/// Inverse of [`render_path`] for the paths this module renders.
fn parse_key_path(key: &str) -> Vec<PathPart> {
    let mut parts = Vec::new();
    for piece in key.split('.') {
        let (name, rest) = piece.split_once('[').unwrap_or((piece, ""));
        if !name.is_empty() {
            parts.push(PathPart::Key(name.to_string()));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                parts.push(PathPart::Index(i));
            }
        }
    }
    parts
}

/// Turn a serde error into (what to report, where to cut the table to go on).
///
/// The report is `(extra key parts after the error path, message)`, or `None` when the error is
/// an echo of an earlier cut (a required key we removed ourselves).
#[allow(clippy::type_complexity)]
fn classify(path: &[PathPart], message: &str) -> (Option<(Vec<PathPart>, String)>, Vec<PathPart>) {
    if let Some(field) = between(message, "missing field `", "`") {
        let text = format!(
            "required key '{field}' is missing. Add it (templates/hybridsync.toml shows every key with its meaning)"
        );
        return (
            Some((vec![PathPart::Key(field.to_string())], text)),
            path.to_vec(),
        );
    }
    if let Some(field) = between(message, "unknown field `", "`") {
        // serde_path_to_error already points at the unknown key itself.
        let allowed = message
            .split_once("expected ")
            .map(|(_, rest)| rest.replace('`', "'"))
            .unwrap_or_default();
        let allowed = allowed.trim_start_matches("one of ").to_string();
        let text = if allowed.is_empty() || allowed.starts_with("no fields") {
            format!(
                "unknown key {}: this table takes no keys. Remove it",
                quote(field)
            )
        } else {
            format!(
                "unknown key {}: check the spelling. Keys allowed here: {allowed}",
                quote(field)
            )
        };
        let key_path = if path.last() == Some(&PathPart::Key(field.to_string())) {
            vec![]
        } else {
            vec![PathPart::Key(field.to_string())]
        };
        let mut cut = path.to_vec();
        cut.extend(key_path.clone());
        return (Some((key_path, text)), cut);
    }
    if let Some(variant) = between(message, "unknown variant `", "`") {
        let allowed = message
            .split_once("expected ")
            .map(|(_, rest)| rest.replace('`', "'"))
            .unwrap_or_default();
        let allowed = allowed.trim_start_matches("one of ").to_string();
        let text = format!(
            "{} is not an accepted value. Use one of {allowed}",
            quote(variant)
        );
        return (Some((vec![], text)), path.to_vec());
    }
    if message.starts_with("invalid type: ") {
        let text = humanize_type_error(message);
        return (Some((vec![], text)), path.to_vec());
    }
    let text = match message {
        "invalid socket address syntax" => {
            "is not an address with a port. Write e.g. '127.0.0.1:9464'".to_string()
        }
        "invalid IP address syntax" => {
            "is not an IP address. Write e.g. '10.0.0.10' or '::1'".to_string()
        }
        other => other.trim_end_matches('.').to_string(),
    };
    (Some((vec![], text)), path.to_vec())
}

/// `invalid type: string "x", expected u32` -> `expected a whole number, found the text 'x'`.
fn humanize_type_error(message: &str) -> String {
    let body = message.trim_start_matches("invalid type: ");
    let (found, expected) = body
        .split_once(", expected ")
        .unwrap_or((body, "another type"));
    let found = if let Some(s) = found.strip_prefix("string ") {
        format!("the text '{}'", s.trim_matches('"'))
    } else if let Some(n) = found.strip_prefix("integer `") {
        format!("the number {}", n.trim_end_matches('`'))
    } else if let Some(b) = found.strip_prefix("boolean `") {
        format!("the boolean {}", b.trim_end_matches('`'))
    } else if let Some(n) = found.strip_prefix("floating point `") {
        format!("the number {}", n.trim_end_matches('`'))
    } else {
        found.replace('`', "'")
    };
    let expected = match expected {
        e if e.starts_with('u') || e.starts_with('i') && e.len() <= 5 => {
            "a whole number".to_string()
        }
        "a boolean" | "bool" => "true or false".to_string(),
        "a string" => "a quoted text value".to_string(),
        "a sequence" => "a list [ ... ]".to_string(),
        e if e.starts_with("struct ") => "a table of keys".to_string(),
        e => e.replace('`', "'"),
    };
    format!("expected {expected}, found {found}. Fix the value's type")
}

/// A TOML value as an admin wrote it, for quoting in a message.
fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// Tracks array elements removed while collecting errors, so reported paths keep the indices the
/// admin sees in the file.
#[derive(Default)]
struct IndexMap {
    /// Original path of an array (rendered) -> current index -> original index.
    arrays: HashMap<String, Vec<usize>>,
}

impl IndexMap {
    /// Translate a path in current terms into the file's terms.
    fn original(&self, current: &[PathPart]) -> Vec<PathPart> {
        let mut out = Vec::with_capacity(current.len());
        for part in current {
            match part {
                PathPart::Index(i) => {
                    let key = render_path(&out);
                    let orig = self
                        .arrays
                        .get(&key)
                        .and_then(|m| m.get(*i))
                        .copied()
                        .unwrap_or(*i);
                    out.push(PathPart::Index(orig));
                }
                other => out.push(other.clone()),
            }
        }
        out
    }

    /// Remove the value at `path` (current terms) from `root`. Returns false if nothing could be
    /// removed (the loop must stop rather than spin).
    fn remove(&mut self, root: &mut toml::Table, path: &[PathPart]) -> bool {
        if let Some(PathPart::Index(i)) = path.last().cloned() {
            let parent = &path[..path.len() - 1];
            let orig_parent = render_path(&self.original(parent));
            if let Some(toml::Value::Array(items)) = get_mut(root, parent)
                && i < items.len()
            {
                items.remove(i);
                let len = items.len() + 1;
                let map = self
                    .arrays
                    .entry(orig_parent)
                    .or_insert_with(|| (0..len).collect());
                if i < map.len() {
                    map.remove(i);
                }
                return true;
            }
            return false;
        }
        remove_path(root, path)
    }
}

fn get_mut<'a>(root: &'a mut toml::Table, path: &[PathPart]) -> Option<&'a mut toml::Value> {
    let (first, rest) = path.split_first()?;
    let PathPart::Key(k) = first else { return None };
    let mut cur = root.get_mut(k)?;
    for part in rest {
        cur = match (part, cur) {
            (PathPart::Key(k), toml::Value::Table(t)) => t.get_mut(k)?,
            (PathPart::Index(i), toml::Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Remove a map entry at `path`. Returns whether something was removed.
fn remove_path(root: &mut toml::Table, path: &[PathPart]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let PathPart::Key(k) = last else { return false };
    if parent.is_empty() {
        return root.remove(k).is_some();
    }
    match get_mut(root, parent) {
        Some(toml::Value::Table(t)) => t.remove(k).is_some(),
        _ => false,
    }
}

/// Report every key that looks like an inline secret.
fn find_inline_secrets(value: &toml::Value, path: &mut Vec<PathPart>, out: &mut Vec<ConfigIssue>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(PathPart::Key(k.clone()));
                let lower = k.to_ascii_lowercase();
                let secretish = !lower.ends_with("_ref")
                    && SECRET_WORDS
                        .iter()
                        .any(|w| lower == *w || lower.ends_with(&format!("_{w}")));
                if secretish && !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)) {
                    let hint = ref_key_for(path);
                    out.push(ConfigIssue::error(
                        render_path(path),
                        format!(
                            "secrets are never kept in the configuration file. Remove this key, store the value \
                             with 'hybridsync secrets set <name>' (it asks without echo, or reads standard input) \
                             and reference it here as {hint} = \"store:<name>\""
                        ),
                    ));
                } else {
                    find_inline_secrets(v, path, out);
                }
                path.pop();
            }
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(PathPart::Index(i));
                find_inline_secrets(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The reference key of the table holding an inline secret at `path`.
fn ref_key_for(path: &[PathPart]) -> &'static str {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|p| match p {
            PathPart::Key(k) => Some(k.as_str()),
            PathPart::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        ["directories", "account", _] => "secret_ref",
        ["tenant", "application", _] => "certificate_ref (or client_secret_ref)",
        ["store", _] => "postgres_url_ref",
        _ => "the table's *_ref key",
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |s| s.matches('\n').count() + 1)
}

/// Fill in `line` for issues whose key can be found in the file.
pub(crate) fn locate_all(text: &str, issues: &mut [ConfigIssue]) {
    if let Ok(doc) = toml_edit::Document::parse(text) {
        locate_all_in(&doc, text, issues);
    }
}

fn locate_all_in(doc: &toml_edit::Document<&str>, text: &str, issues: &mut [ConfigIssue]) {
    for issue in issues.iter_mut().filter(|i| i.line.is_none()) {
        issue.line = locate(doc, &parse_key_path(&issue.key)).map(|offset| line_of(text, offset));
    }
}

/// Where a path step can lead inside a parsed document.
#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a toml_edit::Table),
    Inline(&'a toml_edit::InlineTable),
    Array(&'a toml_edit::Array),
    Tables(&'a toml_edit::ArrayOfTables),
    Leaf,
}

impl<'a> Node<'a> {
    fn of_item(item: &'a toml_edit::Item) -> Self {
        match item {
            toml_edit::Item::Table(t) => Self::Table(t),
            toml_edit::Item::ArrayOfTables(a) => Self::Tables(a),
            toml_edit::Item::Value(v) => Self::of_value(v),
            toml_edit::Item::None => Self::Leaf,
        }
    }

    fn of_value(value: &'a toml_edit::Value) -> Self {
        match value {
            toml_edit::Value::InlineTable(t) => Self::Inline(t),
            toml_edit::Value::Array(a) => Self::Array(a),
            _ => Self::Leaf,
        }
    }
}

/// Byte offset of the deepest part of `path` present in the document (the key when there is
/// one, else the element).
fn locate(doc: &toml_edit::Document<&str>, path: &[PathPart]) -> Option<usize> {
    let mut best = None;
    let mut node = Node::Table(doc.as_table());
    for part in path {
        node = match (part, node) {
            (PathPart::Key(k), Node::Table(t)) => {
                let Some((key, item)) = t.get_key_value(k) else {
                    return best;
                };
                best = key.span().map(|s| s.start).or(best);
                Node::of_item(item)
            }
            (PathPart::Key(k), Node::Inline(t)) => {
                let Some((key, item)) = t.get_key_value(k) else {
                    return best;
                };
                best = key.span().map(|s| s.start).or(best);
                Node::of_item(item)
            }
            (PathPart::Index(i), Node::Array(a)) => {
                let Some(value) = a.get(*i) else { return best };
                best = value.span().map(|s| s.start).or(best);
                Node::of_value(value)
            }
            (PathPart::Index(i), Node::Tables(a)) => {
                let Some(table) = a.get(*i) else { return best };
                best = table.span().map(|s| s.start).or(best);
                Node::Table(table)
            }
            _ => return best,
        };
    }
    best
}
