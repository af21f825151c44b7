//! The export stage for one target: the delete guard, then the pending exports in batches, each
//! journaled before the call and settled after it; and the reconciliation of exports a crash
//! interrupted.
//!
//! Invariants: the guard sees every pending delete of the connector before anything is sent and
//! stops all of its exports; an export's journal intent is committed before the target is
//! called; after a crash, an add whose object the confirming import found in the target (adopted
//! by DN) is settled, never sent again; an update is sent again (it sets values, so sending it
//! twice is harmless); a delete whose object is gone is settled. Adds go first, so references in
//! later updates can name the objects they created; a reference to an object the target does
//! not have yet is never sent: its value waits in the object's next pending update, which goes
//! out after the adds of this cycle (or next cycle), and an update goes out at most once per
//! cycle. References are sent as the target names its objects
//! ([`reference_dn`](crate::engine::connector::Connector::reference_dn)).

use std::collections::HashSet;

use super::{Cycle, CycleOptions, EngineConnector, EngineError};
use crate::domain::Dn;
use crate::engine::connector::ConnectorError;
use crate::engine::expr::Value;
use crate::engine::guard::{self, GuardDecision};
use crate::engine::model::{
    Anchor, AttributeChange, ChangeKind, CsId, ExportOutcome, Operation, PendingExport,
    PendingImport,
};
use crate::engine::store::{JournalId, JournalState, Store, StoreError, StoreTx, StoredExport};

/// How a target's export ended.
pub(super) enum ExportEnd {
    /// Everything was sent (individual objects may have failed; they are in the report).
    Done,
    /// The delete guard stopped it; the message says why and what to do.
    Blocked(String),
    /// The target failed as a whole; what was not sent stays pending.
    Failed(String),
}

/// Settles the journal entries a crash left open, from what the confirming import found.
pub(super) fn reconcile(
    store: &mut dyn Store,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
) -> Result<(), EngineError> {
    let mut tx = store.begin()?;
    for entry in tx.open_journal(Some(t.name()))? {
        if entry.state != JournalState::Intent {
            continue;
        }
        let object = match entry.cs {
            Some(cs) => tx.cs_object_without(cs, &[])?,
            None => None,
        };
        let applied = match entry.operation {
            Operation::Add => object.as_ref().is_some_and(|o| o.anchor.is_some()),
            Operation::Delete => object
                .as_ref()
                .is_none_or(|o| o.pending_import == PendingImport::Delete),
            Operation::Update | Operation::Rename => false,
        };
        if applied {
            tx.journal_confirmed(entry.id)?;
            if let Some(o) = &object
                && let Some(stored) = tx.pending_export_for(o.id)?
                && stored.export.operation == entry.operation
            {
                tx.remove_pending_export(stored.id)?;
            }
            if let Some(mv) = object.as_ref().and_then(|o| o.mv) {
                cx.dirty(mv).attrs = true;
            }
            if entry.operation == Operation::Add {
                cx.report(t.name()).export.recovered += 1;
            }
            tracing::info!(
                connector = %t.name(),
                dn = %entry.dn,
                operation = %entry.operation,
                "an export interrupted by a crash had reached the target; it is not sent again"
            );
        } else {
            tx.journal_failed(
                entry.id,
                "interrupted before the target answered; the target does not show it, so it is sent again",
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Checks the guard and sends the pending exports of `t`.
pub(super) fn run(
    store: &mut dyn Store,
    rt: &tokio::runtime::Handle,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    options: &CycleOptions,
) -> Result<ExportEnd, EngineError> {
    let name = t.name().clone();
    {
        let mut tx = store.begin()?;
        let summary = tx.export_summary(&name)?;
        let released = tx
            .connector_state(&name)?
            .is_some_and(|s| s.delete_release_granted.is_some());
        match guard::check(
            &t.delete_guard,
            summary.deletes,
            summary.total_objects,
            released,
        ) {
            GuardDecision::Allow => {}
            GuardDecision::AllowReleased => {
                tx.take_delete_release(&name)?;
                tracing::warn!(
                    connector = %name,
                    deletes = summary.deletes,
                    "the delete guard was released once by 'sync allow-deletes'; exporting"
                );
            }
            GuardDecision::Block { deletes, reason } => {
                tx.rollback()?;
                let message = guard::blocked_message(name.as_str(), deletes, &reason);
                tracing::error!(connector = %name, "{message}");
                return Ok(ExportEnd::Blocked(message));
            }
        }
        tx.commit()?;
    }
    for adds in [true, false] {
        // An update a batch put back (references still waiting) waits for the next cycle.
        let mut sent: HashSet<CsId> = HashSet::new();
        let mut after = None;
        loop {
            if options.stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(EngineError::Stopped);
            }
            let tx = store.begin()?;
            let page = tx.pending_exports(Some(&name), after, 500)?;
            tx.rollback()?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let batch: Vec<StoredExport> = page
                .into_iter()
                .filter(|e| (e.export.operation == Operation::Add) == adds)
                .filter(|e| sent.insert(e.export.cs))
                .collect();
            for chunk in batch.chunks(options.export_batch.max(1)) {
                if options.stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(EngineError::Stopped);
                }
                if let Err(e) = send(store, rt, t, cx, chunk)? {
                    let message = format!(
                        "export to {name} failed: {e}; what was not sent stays pending for the next cycle"
                    );
                    tracing::error!("{message}");
                    return Ok(ExportEnd::Failed(message));
                }
            }
        }
    }
    Ok(ExportEnd::Done)
}

/// Sends one batch: intent, call, outcome. The inner error is the connector's failure as a
/// whole (the journal entries stay open for the next cycle's reconciliation).
fn send(
    store: &mut dyn Store,
    rt: &tokio::runtime::Handle,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    chunk: &[StoredExport],
) -> Result<Result<(), ConnectorError>, EngineError> {
    let name = t.name().clone();
    let mut journal: Vec<JournalId> = Vec::with_capacity(chunk.len());
    {
        let mut tx = store.begin()?;
        for e in chunk {
            let key = format!("{}:{}:{}", e.export.operation, e.export.cs.0, e.id.0);
            journal.push(tx.journal_intent(e.id, &key)?);
        }
        tx.commit()?;
    }
    let mut batch = Vec::with_capacity(chunk.len());
    let mut deferred = Vec::with_capacity(chunk.len());
    {
        let tx = store.begin()?;
        for e in chunk {
            let (ready, waiting) = resolve_references(&*tx, t, &e.export)?;
            batch.push(ready);
            deferred.push(waiting);
        }
        tx.rollback()?;
    }
    let result = rt.block_on(t.connector.export(&batch));
    let mut tx = store.begin()?;
    let results = match result {
        Ok(r) => r,
        Err(e) => {
            for stored in chunk {
                tx.record_export_failure(stored.id, &e.to_string())?;
            }
            tx.commit()?;
            return Ok(Err(e));
        }
    };
    for ((stored, jid), waiting) in chunk.iter().zip(&journal).zip(deferred) {
        let e = &stored.export;
        let Some(r) = results.iter().find(|r| r.cs == e.cs) else {
            let msg = "the target gave no result for it; it is sent again next cycle";
            tx.journal_failed(*jid, msg)?;
            tx.record_export_failure(stored.id, msg)?;
            cx.report(&name).export.failed += 1;
            continue;
        };
        match &r.outcome {
            ExportOutcome::Exported { anchor } => {
                tx.journal_sent(*jid, Some(anchor))?;
                match e.operation {
                    Operation::Add => {
                        match tx.set_cs_anchor(e.cs, anchor) {
                            Ok(()) => {}
                            Err(err @ StoreError::Conflict { .. }) => {
                                cx.error(
                                    &mut *tx,
                                    &name,
                                    Some(&e.dn),
                                    Some(anchor),
                                    None,
                                    format!("created in {name}, but {err}"),
                                )?;
                            }
                            Err(err) => return Err(err.into()),
                        }
                        tx.remove_pending_export(stored.id)?;
                        put_back(&mut *tx, e, anchor, waiting)?;
                        cx.report(&name).export.adds += 1;
                    }
                    Operation::Update | Operation::Rename => {
                        if e.operation == Operation::Rename {
                            tx.set_cs_dn(e.cs, &e.dn)?;
                        }
                        tx.remove_pending_export(stored.id)?;
                        put_back(&mut *tx, e, anchor, waiting)?;
                        cx.report(&name).export.updates += 1;
                    }
                    Operation::Delete => {
                        tx.journal_confirmed(*jid)?;
                        tx.delete_cs_object(e.cs)?;
                        cx.report(&name).export.deletes += 1;
                    }
                }
            }
            ExportOutcome::Failed { error, retryable } => {
                tx.journal_failed(*jid, error)?;
                tx.record_export_failure(stored.id, error)?;
                cx.report(&name).export.failed += 1;
                let when = if *retryable {
                    "it is retried next cycle"
                } else {
                    "fix the cause; it is retried next cycle"
                };
                cx.error(
                    &mut *tx,
                    &name,
                    Some(&e.dn),
                    e.anchor.as_ref(),
                    None,
                    format!("{} to {name} refused: {error}; {when}", e.operation),
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// References to objects of the target: each becomes the name the target knows its object by
/// ([`Connector::reference_dn`](crate::engine::connector::Connector::reference_dn), for objects
/// the engine created and the confirming import has not renamed yet); a reference to an object
/// not created in the target yet cannot be sent: the added values wait (returned, to be put
/// back as an update once this export is done). Removed values of such objects are dropped (the
/// target never had them).
fn resolve_references(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    e: &PendingExport,
) -> Result<(PendingExport, Vec<AttributeChange>), EngineError> {
    let has_ref = |c: &AttributeChange| {
        c.old
            .iter()
            .chain(&c.new)
            .any(|v| matches!(v, Value::Ref(_)))
    };
    if !e.changes.iter().any(has_ref) {
        return Ok((e.clone(), Vec::new()));
    }
    let mut ready = PendingExport {
        changes: Vec::with_capacity(e.changes.len()),
        ..e.clone()
    };
    let mut waiting = Vec::new();
    for ch in &e.changes {
        if !has_ref(ch) {
            ready.changes.push(ch.clone());
            continue;
        }
        let mut later = Vec::new();
        let new = resolve_values(tx, t, &ch.new, &mut later)?;
        let old = resolve_values(tx, t, &ch.old, &mut Vec::new())?;
        if !later.is_empty() {
            waiting.push(match ch.kind {
                // Replace sends every value again once they all exist.
                ChangeKind::Replace => ch.clone(),
                ChangeKind::Incremental => {
                    AttributeChange::incremental(ch.attribute.clone(), Vec::new(), later)
                }
            });
        }
        let resolved = AttributeChange {
            attribute: ch.attribute.clone(),
            old,
            new,
            kind: ch.kind,
        };
        if !resolved.is_noop() {
            ready.changes.push(resolved);
        }
    }
    Ok((ready, waiting))
}

fn resolve_values(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    values: &[Value],
    waiting: &mut Vec<Value>,
) -> Result<Vec<Value>, EngineError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let Value::Ref(text) = v else {
            out.push(v.clone());
            continue;
        };
        let Ok(dn) = Dn::parse(text) else {
            out.push(v.clone());
            continue;
        };
        let found = match tx.cs_anchor_by_dn(t.name(), &dn)? {
            Some(hit) => Some(hit),
            // A reference computed while its object still had the provisional DN it was
            // provisioned with; the confirming import has given it the target's name since.
            None => match crate::engine::sync::provisional_mv(&dn) {
                Some(mv) => tx.counterpart(t.name(), mv)?.map(|c| (c.cs, c.anchor)),
                None => None,
            },
        };
        match found {
            Some((_, Some(anchor))) => out.push(
                t.connector
                    .reference_dn(&anchor)
                    .map_or_else(|| v.clone(), |d| Value::Ref(d.to_string())),
            ),
            Some((_, None)) => waiting.push(v.clone()),
            None => out.push(v.clone()),
        }
    }
    Ok(out)
}

/// After an export went out: the reference values that had to wait become the object's next
/// pending update (sent later in this cycle when they are created by then, else next cycle).
fn put_back(
    tx: &mut dyn StoreTx,
    e: &PendingExport,
    anchor: &Anchor,
    waiting: Vec<AttributeChange>,
) -> Result<(), EngineError> {
    if waiting.is_empty() {
        return Ok(());
    }
    tracing::debug!(
        connector = %e.connector,
        dn = %e.dn,
        "references to objects not yet created in the target are sent after them"
    );
    tx.put_pending_export(&PendingExport {
        anchor: Some(anchor.clone()),
        operation: Operation::Update,
        changes: waiting,
        ..e.clone()
    })?;
    Ok(())
}
