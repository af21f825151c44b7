//! Pending exports as admins read them: what `sync pending-exports` prints (the csexport +
//! CSExportAnalyzer workflow of Entra Connect, as one command), as a table or as JSON.
//!
//! Invariants: every pending add, update, rename and delete appears, with each attribute's old and
//! new values; a large multi-valued change (a group's members) is shown as the values added and
//! removed, not as two full lists; binary values appear as base64, never raw bytes; the JSON shape
//! is stable for scripts: `[{connector, operation, dn, anchor, object_class, attempts, last_error,
//! changes: [{attribute, old: [..], new: [..], added: [..], removed: [..]}]}]`; an incremental change
//! (only some values of a membership) has `incremental: true` and only `added` and `removed`.

use base64::Engine as _;

use crate::engine::cycle::CycleKind;
use crate::engine::expr::Value;
use crate::engine::model::{AttributeChange, ChangeKind};
use crate::engine::run::CycleReport;
use crate::engine::store::StoredExport;

/// Most values listed in full for one attribute before switching to added/removed.
const FULL_LIST_MAX: usize = 3;
/// Most added or removed values listed for one attribute.
const DELTA_LIST_MAX: usize = 5;

fn show(v: &Value) -> String {
    match v {
        Value::Bin(b) => base64::engine::general_purpose::STANDARD.encode(b),
        Value::Str(s) | Value::Ref(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Bin(b) => base64::engine::general_purpose::STANDARD.encode(b).into(),
        Value::Str(s) | Value::Ref(s) => s.clone().into(),
        Value::Num(n) => (*n).into(),
        Value::Bool(b) => (*b).into(),
        other => other.to_string().into(),
    }
}

/// Values in `a` that are not in `b`.
fn minus<'a>(a: &'a [Value], b: &[Value]) -> Vec<&'a Value> {
    a.iter().filter(|v| !b.contains(v)).collect()
}

fn list(values: &[&Value], max: usize) -> String {
    let mut parts: Vec<String> = values.iter().take(max).map(|v| show(v)).collect();
    if values.len() > max {
        parts.push(format!("... {} more", values.len() - max));
    }
    parts.join(", ")
}

fn describe(c: &AttributeChange) -> String {
    let all = |vs: &[Value]| {
        if vs.is_empty() {
            "(none)".to_string()
        } else {
            list(&vs.iter().collect::<Vec<_>>(), FULL_LIST_MAX)
        }
    };
    if c.kind == ChangeKind::Incremental {
        let mut parts = vec![format!("{}: only these values", c.attribute)];
        if !c.new.is_empty() {
            parts.push(format!(
                "+ {}",
                list(&c.new.iter().collect::<Vec<_>>(), DELTA_LIST_MAX)
            ));
        }
        if !c.old.is_empty() {
            parts.push(format!(
                "- {}",
                list(&c.old.iter().collect::<Vec<_>>(), DELTA_LIST_MAX)
            ));
        }
        return parts.join("; ");
    }
    if c.old.len() <= FULL_LIST_MAX && c.new.len() <= FULL_LIST_MAX {
        return format!("{}: {} -> {}", c.attribute, all(&c.old), all(&c.new));
    }
    let added = minus(&c.new, &c.old);
    let removed = minus(&c.old, &c.new);
    let mut parts = vec![format!(
        "{}: {} -> {} values",
        c.attribute,
        c.old.len(),
        c.new.len()
    )];
    if !added.is_empty() {
        parts.push(format!("+ {}", list(&added, DELTA_LIST_MAX)));
    }
    if !removed.is_empty() {
        parts.push(format!("- {}", list(&removed, DELTA_LIST_MAX)));
    }
    parts.join("; ")
}

/// The table `sync pending-exports` prints.
pub fn table(exports: &[StoredExport]) -> String {
    if exports.is_empty() {
        return "no pending exports\n".to_string();
    }
    let mut out = String::new();
    let mut counts = std::collections::BTreeMap::new();
    for e in exports {
        let x = &e.export;
        *counts.entry(x.operation).or_insert(0u64) += 1;
        let anchor = x
            .anchor
            .as_ref()
            .map(|a| format!(" [{a}]"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<7} {} {}{anchor} ({})\n",
            x.operation.to_string().to_uppercase(),
            x.connector,
            x.dn,
            x.object_class
        ));
        for c in &x.changes {
            out.push_str(&format!("          {}\n", describe(c)));
        }
        if e.attempts > 0 {
            out.push_str(&format!(
                "          failed {} time(s){}\n",
                e.attempts,
                e.last_error
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
        }
    }
    let summary: Vec<String> = counts.iter().map(|(op, n)| format!("{n} {op}")).collect();
    out.push_str(&format!(
        "{} pending export(s): {}\n",
        exports.len(),
        summary.join(", ")
    ));
    out
}

/// The JSON `sync pending-exports --json` prints.
pub fn to_json(exports: &[StoredExport]) -> serde_json::Value {
    exports
        .iter()
        .map(|e| {
            let x = &e.export;
            let changes: Vec<serde_json::Value> = x
                .changes
                .iter()
                .map(|c| {
                    if c.kind == ChangeKind::Incremental {
                        return serde_json::json!({
                            "attribute": c.attribute.to_string(),
                            "incremental": true,
                            "added": c.new.iter().map(json).collect::<Vec<_>>(),
                            "removed": c.old.iter().map(json).collect::<Vec<_>>(),
                        });
                    }
                    serde_json::json!({
                        "attribute": c.attribute.to_string(),
                        "old": c.old.iter().map(json).collect::<Vec<_>>(),
                        "new": c.new.iter().map(json).collect::<Vec<_>>(),
                        "added": minus(&c.new, &c.old).into_iter().map(json).collect::<Vec<_>>(),
                        "removed": minus(&c.old, &c.new).into_iter().map(json).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::json!({
                "connector": x.connector.to_string(),
                "operation": x.operation.to_string(),
                "dn": x.dn.to_string(),
                "anchor": x.anchor.as_ref().map(ToString::to_string),
                "object_class": x.object_class,
                "attempts": e.attempts,
                "last_error": e.last_error,
                "changes": changes,
            })
        })
        .collect()
}

/// A cycle's report as `sync run` prints it: one line per connector per stage, the held
/// exports, the first per-object errors and how to see the rest.
pub fn cycle_text(r: &CycleReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let kind = match &r.kind {
        CycleKind::Full(why) => format!("full cycle ({why})"),
        CycleKind::Delta => "delta cycle".to_string(),
    };
    let _ = writeln!(
        out,
        "run {}: {kind}, {} in {:.1} s",
        r.run.0,
        r.status,
        r.duration.as_secs_f64()
    );
    for c in &r.connectors {
        let i = &c.import;
        let _ = writeln!(
            out,
            "  {:<20} import ({}): {} added, {} updated, {} deleted, {} unchanged, {} rejected",
            c.name,
            if i.full { "full" } else { "delta" },
            i.added,
            i.updated,
            i.deleted,
            i.unchanged,
            i.rejected
        );
        let s = &c.sync;
        if s.processed > 0 {
            let _ = writeln!(
                out,
                "  {:<20} sync: {} processed, {} projected, {} joined, {} disconnected, {} filtered, {} errors",
                "", s.processed, s.projected, s.joined, s.disconnected, s.filtered, s.errors
            );
        }
        let e = &c.export;
        if e.adds + e.updates + e.deletes + e.failed + e.pending + e.recovered > 0
            || c.export_held.is_some()
        {
            let _ = writeln!(
                out,
                "  {:<20} export: {} added, {} updated, {} deleted, {} failed, {} still pending{}",
                "",
                e.adds,
                e.updates,
                e.deletes,
                e.failed,
                e.pending,
                if e.recovered > 0 {
                    format!(", {} recovered after an interrupted export", e.recovered)
                } else {
                    String::new()
                }
            );
        }
        if let Some(h) = &c.export_held {
            let _ = writeln!(out, "  {:<20} export held: {h}", "");
        }
    }
    for e in &r.errors {
        let _ = writeln!(
            out,
            "  error: {} {}: {}",
            e.connector,
            e.dn.as_ref().map_or_else(String::new, ToString::to_string),
            e.message
        );
    }
    if r.error_count > r.errors.len() as u64 {
        let _ = writeln!(
            out,
            "  ... {} more errors: 'hybridsync sync history' lists them",
            r.error_count - r.errors.len() as u64
        );
    }
    out
}

/// A cycle's report as `sync run --json` prints it.
pub fn cycle_json(r: &CycleReport) -> serde_json::Value {
    serde_json::json!({
        "run": r.run.0,
        "kind": match &r.kind { CycleKind::Full(_) => "full", CycleKind::Delta => "delta" },
        "full_reason": match &r.kind { CycleKind::Full(why) => Some(why.clone()), CycleKind::Delta => None },
        "status": r.status.as_str(),
        "duration_ms": r.duration.as_millis() as u64,
        "stages_ms": {
            "import": r.stages.import.as_millis() as u64,
            "sync": r.stages.sync.as_millis() as u64,
            "export": r.stages.export.as_millis() as u64,
        },
        "message": r.message,
        "guard_blocked": r.guard_blocked,
        "connectors": r.connectors.iter().map(|c| serde_json::json!({
            "name": c.name,
            "import": {
                "full": c.import.full, "added": c.import.added, "updated": c.import.updated,
                "deleted": c.import.deleted, "unchanged": c.import.unchanged,
                "rejected": c.import.rejected,
            },
            "sync": {
                "processed": c.sync.processed, "projected": c.sync.projected,
                "joined": c.sync.joined, "disconnected": c.sync.disconnected,
                "filtered": c.sync.filtered, "errors": c.sync.errors,
            },
            "export": {
                "adds": c.export.adds, "updates": c.export.updates, "deletes": c.export.deletes,
                "failed": c.export.failed, "pending": c.export.pending,
                "recovered": c.export.recovered,
            },
            "export_held": c.export_held,
        })).collect::<Vec<_>>(),
        "error_count": r.error_count,
        "errors": r.errors.iter().map(|e| serde_json::json!({
            "connector": e.connector.to_string(),
            "dn": e.dn.as_ref().map(ToString::to_string),
            "attribute": e.attribute.as_ref().map(ToString::to_string),
            "message": e.message,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AttributeName, Dn};
    use crate::engine::expr::DateTime;
    use crate::engine::model::{ConnectorName, CsId, Operation, PendingExport};
    use crate::engine::store::PendingExportId;

    fn export(op: Operation, changes: Vec<AttributeChange>) -> StoredExport {
        StoredExport {
            id: PendingExportId(1),
            export: PendingExport {
                connector: ConnectorName::new("entra"),
                cs: CsId(1),
                anchor: None,
                dn: Dn::parse("CN=Ann,OU=Staff").unwrap(),
                object_class: "user".into(),
                operation: op,
                changes,
            },
            created_at: DateTime::MIN,
            attempts: 0,
            last_error: None,
        }
    }

    fn change(a: &str, old: Vec<Value>, new: Vec<Value>) -> AttributeChange {
        AttributeChange::replace(AttributeName::new(a).unwrap(), old, new)
    }

    #[test]
    fn small_changes_show_old_and_new_values() {
        let t = table(&[export(
            Operation::Update,
            vec![change(
                "department",
                vec![Value::Str("Sales".into())],
                vec![Value::Str("Audit".into())],
            )],
        )]);
        assert_eq!(
            t,
            "UPDATE  entra CN=Ann,OU=Staff (user)\n          department: 'Sales' -> 'Audit'\n1 pending export(s): 1 update\n"
        );
    }

    #[test]
    fn large_multi_valued_changes_show_what_was_added_and_removed() {
        let members = |n: usize| {
            (0..n)
                .map(|i| Value::Ref(format!("CN=m{i}")))
                .collect::<Vec<_>>()
        };
        let mut new = members(1000);
        new.retain(|v| *v != Value::Ref("CN=m5".into()));
        new.push(Value::Ref("CN=new".into()));
        let c = change("members", members(1000), new);
        assert_eq!(
            describe(&c),
            "members: 1000 -> 1000 values; + 'CN=new'; - 'CN=m5'"
        );
        let j = to_json(&[export(Operation::Update, vec![c])]);
        assert_eq!(j[0]["changes"][0]["added"], serde_json::json!(["CN=new"]));
        assert_eq!(j[0]["changes"][0]["removed"], serde_json::json!(["CN=m5"]));
    }

    #[test]
    fn empty_and_binary() {
        assert_eq!(table(&[]), "no pending exports\n");
        let c = change(
            "onPremisesImmutableId",
            vec![],
            vec![Value::Bin(vec![1, 2, 3])],
        );
        assert_eq!(describe(&c), "onPremisesImmutableId: (none) -> AQID");
    }
}
