//! The import stage: a connector's objects into its connector space, in batches of one
//! transaction each.
//!
//! Invariants: a full import starts a generation before its first batch and sweeps (marks
//! pending Delete) only after the connector delivered everything; the watermark is stored in the
//! transaction of the last batch, so a crash re-imports rather than loses; an expired watermark
//! falls back to a full import in the same cycle; a rejected entry is a per-object error.
//! Value changes ([`ImportItem::ValueChanges`]) for an object the connector space does not hold
//! are never dropped: once the connector has delivered everything, those objects are read again
//! whole through [`Connector::reread`](crate::engine::connector::Connector::reread), before the
//! watermark is stored; a connector that cannot do that gets a per-object error for each and a
//! full import next cycle.

use super::{Cycle, CycleOptions, EngineConnector};
use crate::domain::Dn;
use crate::engine::connector::{ConnectorError, ImportSink, Watermark};
use crate::engine::model::{Anchor, ConnectorName, ImportItem};
use crate::engine::store::{ImportChange, ImportGeneration, Store, StoreError};

/// Why an import did not complete.
pub(super) enum ImportFailure {
    /// The connector failed (unreachable, access denied, bad data): the cycle goes on without
    /// this connector's new state.
    Connector(ConnectorError),
    /// The store failed: the cycle ends.
    Store(StoreError),
    /// A stop was requested between batches.
    Stopped,
}

struct Sink<'s, 'c, 'r> {
    store: &'s mut dyn Store,
    connector: ConnectorName,
    buffer: Vec<ImportItem>,
    batch: usize,
    cx: &'c mut Cycle<'r>,
    failure: Option<StoreError>,
    stop: &'c std::sync::atomic::AtomicBool,
    /// Objects a delta reported value changes for that the connector space does not hold, with
    /// the DN the connector gave: read again whole once the delta is done.
    unknown: Vec<(Anchor, Option<Dn>)>,
}

impl Sink<'_, '_, '_> {
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin()?;
        for item in std::mem::take(&mut self.buffer) {
            match tx.import_item(&self.connector, &item) {
                Ok(Some(outcome)) => {
                    let r = &mut self.cx.report(&self.connector).import;
                    match outcome.change {
                        ImportChange::Added => r.added += 1,
                        ImportChange::Updated => r.updated += 1,
                        ImportChange::Unchanged => r.unchanged += 1,
                        ImportChange::Deleted => r.deleted += 1,
                    }
                }
                Ok(None) => {
                    if let ImportItem::ValueChanges { anchor, dn, .. } = &item {
                        self.unknown.push((anchor.clone(), dn.clone()));
                    }
                    if let ImportItem::Rejected { dn, reason } = &item {
                        self.cx.report(&self.connector).import.rejected += 1;
                        let dn_parsed = crate::domain::Dn::parse(dn).ok();
                        self.cx.error(
                            &mut *tx,
                            &self.connector,
                            dn_parsed.as_ref(),
                            None,
                            None,
                            format!("not imported: {reason} (entry '{dn}')"),
                        )?;
                    }
                }
                Err(e @ (StoreError::Conflict { .. } | StoreError::Corrupt { .. })) => {
                    let (dn, anchor) = match &item {
                        ImportItem::Object(o) => (Some(o.dn.clone()), Some(o.anchor.clone())),
                        ImportItem::ValueChanges { anchor, dn, .. } => {
                            (dn.clone(), Some(anchor.clone()))
                        }
                        ImportItem::Deleted { anchor } => (None, Some(anchor.clone())),
                        ImportItem::Rejected { .. } => (None, None),
                    };
                    self.cx.report(&self.connector).import.rejected += 1;
                    self.cx.error(
                        &mut *tx,
                        &self.connector,
                        dn.as_ref(),
                        anchor.as_ref(),
                        None,
                        format!("not imported: {e}"),
                    )?;
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit()
    }
}

impl ImportSink for Sink<'_, '_, '_> {
    fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
        if self.failure.is_some() {
            return Err(ConnectorError::Sink("the store failed earlier".into()));
        }
        self.buffer.push(item);
        if self.buffer.len() >= self.batch {
            if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(ConnectorError::Sink("stopped on request".into()));
            }
            if let Err(e) = self.flush() {
                let text = e.to_string();
                self.failure = Some(e);
                return Err(ConnectorError::Sink(text));
            }
        }
        Ok(())
    }
}

/// Imports one connector: delta from its watermark when possible, else full.
pub(super) fn run(
    store: &mut dyn Store,
    rt: &tokio::runtime::Handle,
    c: &EngineConnector,
    cx: &mut Cycle<'_>,
    options: &CycleOptions,
) -> Result<(), ImportFailure> {
    let name = c.name().clone();
    let state = {
        let tx = store.begin().map_err(ImportFailure::Store)?;
        let s = tx.connector_state(&name).map_err(ImportFailure::Store)?;
        tx.rollback().map_err(ImportFailure::Store)?;
        s
    };
    let watermark = state
        .as_ref()
        .filter(|s| !s.full_import_required)
        .and_then(|s| s.watermark.clone());
    let delta = !cx.full && c.connector.capabilities().delta_import && watermark.is_some();
    let result = if delta {
        let w = Watermark(watermark.unwrap_or_default());
        match once(store, rt, c, cx, options, Some(&w)) {
            Err(ImportFailure::Connector(ConnectorError::WatermarkExpired { detail, .. })) => {
                tracing::warn!(connector = %name, "delta watermark expired ({detail}); running a full import");
                once(store, rt, c, cx, options, None)
            }
            other => other,
        }
    } else {
        once(store, rt, c, cx, options, None)
    };
    if let Err(ImportFailure::Connector(_)) = &result {
        // Later cycles must not trust a watermark taken before the failure.
        let mut tx = store.begin().map_err(ImportFailure::Store)?;
        tx.set_full_import_required(&name, !delta)
            .map_err(ImportFailure::Store)?;
        tx.commit().map_err(ImportFailure::Store)?;
    }
    result
}

fn once(
    store: &mut dyn Store,
    rt: &tokio::runtime::Handle,
    c: &EngineConnector,
    cx: &mut Cycle<'_>,
    options: &CycleOptions,
    since: Option<&Watermark>,
) -> Result<(), ImportFailure> {
    let name = c.name().clone();
    let generation: Option<ImportGeneration> = match since {
        Some(_) => None,
        None => {
            let mut tx = store.begin().map_err(ImportFailure::Store)?;
            let g = tx.begin_full_import(&name).map_err(ImportFailure::Store)?;
            tx.commit().map_err(ImportFailure::Store)?;
            Some(g)
        }
    };
    cx.report(&name).import.full = since.is_none();
    let mut sink = Sink {
        store: &mut *store,
        connector: name.clone(),
        buffer: Vec::with_capacity(options.page_size.max(1)),
        batch: options.page_size.max(1),
        cx: &mut *cx,
        failure: None,
        stop: &options.stop,
        unknown: Vec::new(),
    };
    let summary = rt.block_on(async {
        match since {
            Some(w) => c.connector.delta_import(w, &mut sink).await,
            None => c.connector.full_import(&mut sink).await,
        }
    });
    if let Some(e) = sink.failure.take() {
        return Err(ImportFailure::Store(e));
    }
    if options.stop.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ImportFailure::Stopped);
    }
    let summary = summary.map_err(ImportFailure::Connector)?;
    sink.flush().map_err(ImportFailure::Store)?;
    let unreadable = reread_unknown(rt, c, &mut sink)?;
    let mut tx = store.begin().map_err(ImportFailure::Store)?;
    for (anchor, dn) in &unreadable {
        cx.error(
            &mut *tx,
            &name,
            dn.as_ref(),
            Some(anchor),
            None,
            "the delta reported changed values of an object the connector space does not \
             hold, and this connector cannot read single objects again: the next cycle runs a \
             full import to pick it up (or run `hybridsync sync run --full` now)"
                .to_owned(),
        )
        .map_err(ImportFailure::Store)?;
    }
    if let Some(g) = generation {
        let swept = tx
            .finish_full_import(&name, g)
            .map_err(ImportFailure::Store)?;
        cx.report(&name).import.deleted += swept.marked_deleted + swept.removed;
    }
    tx.set_watermark(&name, Some(&summary.watermark.0))
        .map_err(ImportFailure::Store)?;
    tx.set_full_import_required(&name, !unreadable.is_empty())
        .map_err(ImportFailure::Store)?;
    tx.commit().map_err(ImportFailure::Store)?;
    tracing::info!(
        connector = %name,
        full = since.is_none(),
        objects = summary.objects,
        "import finished"
    );
    Ok(())
}

/// Reads whole, through the connector, the objects a delta reported value changes for that the
/// connector space did not hold (it lost them, or an earlier import rejected them), and stores
/// them. Returns those it could not read because the connector cannot read single objects (the
/// caller reports them and asks for a full import); an object the connector looked for and did
/// not find no longer exists in scope, and its deletion comes with a later delta.
fn reread_unknown(
    rt: &tokio::runtime::Handle,
    c: &EngineConnector,
    sink: &mut Sink<'_, '_, '_>,
) -> Result<Vec<(Anchor, Option<Dn>)>, ImportFailure> {
    let unknown = std::mem::take(&mut sink.unknown);
    if unknown.is_empty() {
        return Ok(unknown);
    }
    let anchors: Vec<Anchor> = unknown.iter().map(|(a, _)| a.clone()).collect();
    let Some(read) = c.connector.reread(&anchors, &mut *sink) else {
        return Ok(unknown);
    };
    let result = rt.block_on(read);
    if let Some(e) = sink.failure.take() {
        return Err(ImportFailure::Store(e));
    }
    // The DC failed half way: no watermark is stored, so the next cycle repeats the delta
    // (applying value changes twice changes nothing).
    let read = result.map_err(ImportFailure::Connector)?;
    sink.flush().map_err(ImportFailure::Store)?;
    tracing::info!(
        connector = %c.name(),
        asked = anchors.len(),
        read,
        "objects with value changes but not in the connector space were read again whole"
    );
    Ok(Vec::new())
}
