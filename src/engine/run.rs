//! Run orchestration: one synchronization cycle over every connector, in the order Entra
//! Connect's scheduler runs its profiles (`reference/sync-engine.md` 1.5): import from every
//! connector (sources and targets; a target's import is the confirming import of the last
//! export), reconcile the export journal, synchronize (inbound: join, projection, attribute
//! flow, references; outbound: provisioning, updates, deprovisioning into pending exports),
//! check the accidental-delete guard, then export unless staging mode (or a dry run) holds it
//! back.
//!
//! Invariants:
//! - **Durable steps.** Every import batch, sync page and export step is one store transaction;
//!   a watermark is stored only with (after) the objects it covers; an export's intent is
//!   journaled and committed before the target is called, its result after. A crash at any
//!   point leaves a state the next cycle continues from: it re-imports rather than loses, and
//!   it recognises an add that reached the target (the confirming import adopts it by DN)
//!   rather than sending it twice.
//! - **Per-object errors.** A rule that fails, a reference that cannot be stored, a rejected
//!   entry or a refused export is recorded against its object in the run history; the cycle
//!   goes on. Only a store failure or a stop request ends a cycle early.
//! - **Incremental membership.** In a delta cycle a changed group is evaluated without loading
//!   its membership: its added and removed member values flow through the metaverse to the
//!   targets as incremental changes, so one member change costs one value's work.
//! - **No protocol types.** Connectors are reached only through [`Connector`]; the store is
//!   synchronous, so a cycle runs on a blocking thread and drives connector futures with the
//!   runtime handle it is given.

mod export;
mod import;
mod inbound;
mod outbound;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::model::{DeleteGuard, Scope};
use crate::domain::{AttributeName, Dn};
use crate::engine::connector::{Connector, ConnectorError};
use crate::engine::cycle::{self, CycleKind, LastFull, Requested};
use crate::engine::expr::{DateTime, Params, Value};
use crate::engine::model::{Anchor, ConnectorName, MvId};
use crate::engine::rules::{self, ConnectorKind, Direction, FlowKind, MvObjectType, RuleSet};
use crate::engine::store::{
    NewRun, RunCounts, RunEnd, RunId, RunObjectError, RunStatus, Store, StoreError, StoreTx,
};

/// Whether a connector feeds the metaverse or is written from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An authoritative source (an AD forest): inbound rules apply to its objects.
    Source,
    /// A target (the tenant): objects are provisioned to it; its imports confirm exports.
    Target,
}

/// A connector as the engine runs it: the connector and its per-connector settings.
pub struct EngineConnector {
    /// The connector.
    pub connector: Arc<dyn Connector>,
    /// What it is for.
    pub role: Role,
    /// Domain and OU filtering (sources; `mode = all` for targets).
    pub scope: Scope,
    /// Group-based filtering: only direct members of this group are synchronized.
    pub pilot_group: Option<Dn>,
    /// The accidental-delete guard for exports to this connector.
    pub delete_guard: DeleteGuard,
    /// Connector parameters for the rules (`%Domain.FQDN%`, ...).
    pub params: Params,
}

impl EngineConnector {
    fn name(&self) -> &ConnectorName {
        self.connector.name()
    }

    fn rule_connector(&self) -> rules::Connector<'_> {
        rules::Connector {
            kind: self.connector.kind(),
            name: self.connector.name().as_str(),
        }
    }
}

/// What happens to pending exports at the end of the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportMode {
    /// Send them (after the delete guard).
    Send,
    /// Staging mode: keep them pending; nothing is sent.
    Staging,
    /// `sync run --dry-run`: keep them pending this once; nothing is sent.
    DryRun,
}

/// How to run a cycle.
#[derive(Debug, Clone)]
pub struct CycleOptions {
    /// Full, delta, or whatever is due.
    pub requested: Requested,
    /// Send, or hold back.
    pub export: ExportMode,
    /// Objects per import batch and sync page (one transaction each).
    pub page_size: usize,
    /// Pending exports per call to a connector's export.
    pub export_batch: usize,
    /// Set to stop the cycle at the next step boundary (SIGTERM).
    pub stop: Arc<AtomicBool>,
    /// Runs and settled journal entries older than this are purged after the cycle.
    pub history_retention: Duration,
    /// Attribute filtering (`features.app_and_attribute_filtering.excluded_attributes`): source
    /// attributes, by object class, that never reach the rules, as if not imported. The class
    /// `user` covers `inetOrgPerson` too.
    pub excluded_attributes: Vec<(String, AttributeName)>,
}

impl Default for CycleOptions {
    fn default() -> Self {
        Self {
            requested: Requested::Auto,
            export: ExportMode::Send,
            page_size: 500,
            export_batch: 50,
            stop: Arc::new(AtomicBool::new(false)),
            history_retention: Duration::from_secs(7 * 86_400),
            excluded_attributes: Vec::new(),
        }
    }
}

/// Import figures for one connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Whether it was a full import.
    pub full: bool,
    /// New objects.
    pub added: u64,
    /// Changed objects.
    pub updated: u64,
    /// Deleted objects (incl. those a full import no longer saw).
    pub deleted: u64,
    /// Objects read without change.
    pub unchanged: u64,
    /// Entries the connector could not use.
    pub rejected: u64,
}

/// Synchronization figures for one connector's objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Objects the sync stage processed.
    pub processed: u64,
    /// New metaverse objects.
    pub projected: u64,
    /// Joins to existing metaverse objects.
    pub joined: u64,
    /// Objects disconnected (out of scope of every rule, filtered, or deleted).
    pub disconnected: u64,
    /// Objects kept out by domain/OU or group filtering.
    pub filtered: u64,
    /// Objects that could not be synchronized.
    pub errors: u64,
}

/// Export figures for one target connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Objects created.
    pub adds: u64,
    /// Objects changed (incl. renames).
    pub updates: u64,
    /// Objects deleted.
    pub deletes: u64,
    /// Exports the target refused (they stay pending).
    pub failed: u64,
    /// Pending exports left after the cycle.
    pub pending: u64,
    /// Adds found in the target after an interrupted export (not sent again).
    pub recovered: u64,
}

/// One connector's part of a cycle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectorReport {
    /// The connector.
    pub name: String,
    /// Import.
    pub import: ImportCounts,
    /// Synchronization of its objects.
    pub sync: SyncCounts,
    /// Export (targets).
    pub export: ExportCounts,
    /// Why the export was not made, if it was not (guard, staging, a failed import).
    pub export_held: Option<String>,
}

/// The outcome of a cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleReport {
    /// Its run-history id.
    pub run: RunId,
    /// Full or delta, and why.
    pub kind: CycleKind,
    /// How it ended.
    pub status: RunStatus,
    /// Per connector.
    pub connectors: Vec<ConnectorReport>,
    /// Per-object errors (the first [`MAX_REPORTED_ERRORS`]; the history has them all).
    pub errors: Vec<RunObjectError>,
    /// How many per-object errors there were.
    pub error_count: u64,
    /// A sentence for the admin when the cycle did not simply succeed.
    pub message: Option<String>,
    /// Wall time.
    pub duration: Duration,
    /// Whether the delete guard stopped an export.
    pub guard_blocked: bool,
    /// Wall time of each stage: import, sync (inbound and outbound), export.
    pub stages: StageTimes,
}

/// Wall time per stage of a cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Imports from every connector, with journal reconciliation.
    pub import: Duration,
    /// Inbound and outbound synchronization.
    pub sync: Duration,
    /// Delete guard and exports.
    pub export: Duration,
    /// Processor time the synchronization took on the thread that ran it (the stage is
    /// single-threaded), from `/proc/thread-self/schedstat`; `None` where that is not available.
    /// Unlike [`StageTimes::sync`] it leaves out time spent waiting for a core on a busy
    /// machine, so it is the per-core figure benchmarks report.
    pub sync_cpu: Option<Duration>,
}

/// The processor time the calling thread has used so far (Linux), `None` if unknown.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Errors kept in memory for the report (all of them go to the history).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// What ends a cycle early.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stop was requested (SIGTERM); everything done so far is committed.
    #[error("the cycle was stopped on request; the next cycle continues where it ended")]
    Stopped,
    /// The configuration names no connector, or two with one name.
    #[error("{0}")]
    Setup(String),
}

/// Engine-wide keys in the store.
mod keys {
    pub const LAST_FULL_AT: &str = "cycle.last_full_at";
    pub const RULES: &str = "cycle.rules_fingerprint";
    pub const SCOPE: &str = "cycle.scope_fingerprint";
}

/// What the outbound stage must look at for one metaverse object.
#[derive(Debug, Default, Clone)]
struct Dirty {
    /// Everything, references included.
    full: bool,
    /// Every attribute except large reference attributes.
    attrs: bool,
    /// Reference values added and removed, by metaverse attribute (values are `mv:` refs).
    refs: BTreeMap<AttributeName, RefDelta>,
}

#[derive(Debug, Default, Clone)]
struct RefDelta {
    removed: Vec<Value>,
    added: Vec<Value>,
}

impl RefDelta {
    fn add(&mut self, v: Value) {
        self.removed.retain(|x| x != &v);
        if !self.added.contains(&v) {
            self.added.push(v);
        }
    }

    fn remove(&mut self, v: Value) {
        self.added.retain(|x| x != &v);
        if !self.removed.contains(&v) {
            self.removed.push(v);
        }
    }
}

/// The per-cycle state shared by the stages.
struct Cycle<'r> {
    rules: &'r RuleSet,
    now: DateTime,
    full: bool,
    dirty: BTreeMap<MvId, Dirty>,
    reports: Vec<ConnectorReport>,
    stages: StageTimes,
    errors: Vec<RunObjectError>,
    error_count: u64,
    run: RunId,
    /// Source attributes whose direct flows go to multi-valued reference attributes of the
    /// metaverse (AD `member`): skipped and applied as value changes in delta cycles.
    big_sources: Vec<AttributeName>,
    /// The multi-valued reference attributes of the metaverse those flows fill.
    big_mv: Vec<AttributeName>,
    /// Per target connector and metaverse type: (metaverse attribute, target attribute) of
    /// direct outbound flows of references.
    out_refs: HashMap<(String, MvObjectType), Vec<(AttributeName, AttributeName)>>,
    /// The outbound pass's counterparts in its target, as looked up so far.
    counterparts: outbound::Counterparts,
    /// Containers' objectGUIDs per connector (for OU filtering), filled on demand.
    containers: std::cell::RefCell<HashMap<(String, Dn), Option<crate::domain::ObjectGuid>>>,
    /// Attribute filtering: (object class, attribute) never shown to the rules.
    excluded: Vec<(String, AttributeName)>,
    /// Group members per connector and group DN (ISMEMBEROF, pilot group), filled on demand.
    members: std::cell::RefCell<HashMap<(String, Dn), HashSet<Dn>>>,
    /// Full cycle: objects of the current page synchronized from a pending Add, whose pending
    /// imports are cleared together before the page commits.
    added: Vec<crate::engine::model::CsId>,
    /// Full cycle: projections of the current page waiting to be written together.
    deferred: inbound::Deferred,
    /// Full cycle: the metaverse objects of the current page, read with it.
    metaverse: inbound::MetaverseCache,
    /// Full cycle: which objects of the current source page hold unresolved references.
    unresolved: Option<inbound::UnresolvedPage>,
}

impl Cycle<'_> {
    fn report(&mut self, connector: &ConnectorName) -> &mut ConnectorReport {
        let i = match self
            .reports
            .iter()
            .position(|r| r.name.eq_ignore_ascii_case(connector.as_str()))
        {
            Some(i) => i,
            None => {
                self.reports.push(ConnectorReport {
                    name: connector.to_string(),
                    ..ConnectorReport::default()
                });
                self.reports.len() - 1
            }
        };
        &mut self.reports[i]
    }

    fn error(
        &mut self,
        tx: &mut dyn StoreTx,
        connector: &ConnectorName,
        dn: Option<&Dn>,
        anchor: Option<&Anchor>,
        attribute: Option<&AttributeName>,
        message: String,
    ) -> Result<(), StoreError> {
        let e = RunObjectError {
            connector: connector.clone(),
            dn: dn.cloned(),
            anchor: anchor.cloned(),
            attribute: attribute.cloned(),
            message,
        };
        tracing::warn!(connector = %connector, dn = ?dn.map(ToString::to_string), "{}", e.message);
        tx.add_run_error(self.run, &e)?;
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(e);
        }
        Ok(())
    }

    fn dirty(&mut self, mv: MvId) -> &mut Dirty {
        self.dirty.entry(mv).or_default()
    }

    /// Records reference values added to and removed from `attr` of `mv` for the outbound
    /// stage. Nothing is recorded when the outbound stage re-evaluates the object whole anyway
    /// (a full cycle, or an object already marked `full`), so a large membership written at
    /// once costs no bookkeeping.
    fn record_refs(
        &mut self,
        mv: MvId,
        attr: &AttributeName,
        added: Vec<Value>,
        removed: Vec<Value>,
    ) {
        if self.full {
            return;
        }
        let dirty = self.dirty.entry(mv).or_default();
        if dirty.full || (added.is_empty() && removed.is_empty()) {
            return;
        }
        let d = dirty.refs.entry(attr.clone()).or_default();
        if d.added.is_empty() && d.removed.is_empty() {
            // The store reports each value once: nothing to merge with.
            d.added = added;
            d.removed = removed;
            return;
        }
        for v in added {
            d.add(v);
        }
        for v in removed {
            d.remove(v);
        }
    }
}

/// The metadirectory engine over one store, one rule set and the configured connectors.
pub struct Engine<'a> {
    store: &'a mut dyn Store,
    rules: &'a RuleSet,
    connectors: &'a [EngineConnector],
    rules_fingerprint: String,
    scope_fingerprint: String,
}

impl<'a> Engine<'a> {
    /// An engine. `rules_fingerprint` and `scope_fingerprint` identify the rule texts and the
    /// filtering configuration ([`cycle::fingerprint`]): when either differs from the last full
    /// cycle's, the next cycle is a full one.
    pub fn new(
        store: &'a mut dyn Store,
        rules: &'a RuleSet,
        connectors: &'a [EngineConnector],
        rules_fingerprint: String,
        scope_fingerprint: String,
    ) -> Result<Self, EngineError> {
        let mut seen = HashSet::new();
        for c in connectors {
            if !seen.insert(c.name().as_str().to_ascii_lowercase()) {
                return Err(EngineError::Setup(format!(
                    "two connectors are named '{}'; connector names must be unique",
                    c.name()
                )));
            }
        }
        if !connectors.iter().any(|c| c.role == Role::Source) {
            return Err(EngineError::Setup(
                "no source directory is configured: add a [[directory]] section".into(),
            ));
        }
        Ok(Self {
            store,
            rules,
            connectors,
            rules_fingerprint,
            scope_fingerprint,
        })
    }

    /// Decides which kind of cycle `requested` becomes, without running it.
    pub fn plan(&mut self, requested: Requested) -> Result<CycleKind, EngineError> {
        let tx = self.store.begin()?;
        let last = LastFull {
            finished_at: tx
                .engine_value(keys::LAST_FULL_AT)?
                .and_then(|v| v.parse().ok()),
            rules: tx.engine_value(keys::RULES)?,
            scope: tx.engine_value(keys::SCOPE)?,
        };
        tx.rollback()?;
        Ok(cycle::choose(
            requested,
            &last,
            &self.rules_fingerprint,
            &self.scope_fingerprint,
            unix_now(),
        ))
    }

    /// Runs one cycle. Blocks: call it from a blocking thread; connector futures run on `rt`.
    pub fn run_cycle(
        &mut self,
        rt: &tokio::runtime::Handle,
        options: &CycleOptions,
    ) -> Result<CycleReport, EngineError> {
        let started = Instant::now();
        let kind = self.plan(options.requested)?;
        let full = matches!(kind, CycleKind::Full(_));
        let now = DateTime::now();
        let run = {
            let mut tx = self.store.begin()?;
            let interrupted = tx.interrupt_unfinished_runs(now)?;
            if interrupted > 0 {
                tracing::warn!(
                    "{interrupted} earlier run(s) did not finish (the process stopped); \
                     this cycle continues from the stored state"
                );
            }
            let profile = match (&kind, options.export) {
                (_, ExportMode::DryRun) => "dry-run",
                (CycleKind::Full(_), _) => "full",
                (CycleKind::Delta, _) => "delta",
            };
            let run = tx.start_run(&NewRun {
                profile: profile.into(),
                connectors: self.connectors.iter().map(|c| c.name().clone()).collect(),
                started_at: now,
            })?;
            tx.set_join_attributes(&join_attributes(self.rules))?;
            tx.commit()?;
            run
        };
        if let CycleKind::Full(reason) = &kind {
            tracing::info!("full cycle: {reason}");
        }
        let (big_sources, big_mv) = big_reference_flows(self.rules);
        let mut cx = Cycle {
            rules: self.rules,
            now,
            full,
            dirty: BTreeMap::new(),
            reports: self
                .connectors
                .iter()
                .map(|c| ConnectorReport {
                    name: c.name().to_string(),
                    ..ConnectorReport::default()
                })
                .collect(),
            stages: StageTimes::default(),
            errors: Vec::new(),
            error_count: 0,
            run,
            big_sources,
            big_mv,
            out_refs: HashMap::new(),
            counterparts: outbound::Counterparts::default(),
            containers: std::cell::RefCell::new(HashMap::new()),
            excluded: options.excluded_attributes.clone(),
            members: std::cell::RefCell::new(HashMap::new()),
            added: Vec::new(),
            deferred: inbound::Deferred::new(join_attributes(self.rules)),
            metaverse: inbound::MetaverseCache::default(),
            unresolved: None,
        };
        let outcome = self.stages(rt, options, &mut cx);
        let mut tx = self.store.begin()?;
        let (status, message, guard_blocked) = match &outcome {
            Ok(o) => (o.status, o.message.clone(), o.guard_blocked),
            Err(EngineError::Stopped) => (
                RunStatus::Failed,
                Some(EngineError::Stopped.to_string()),
                false,
            ),
            Err(e) => (RunStatus::Failed, Some(e.to_string()), false),
        };
        let counts = totals(&cx.reports, cx.error_count);
        let per_connector = cx
            .reports
            .iter()
            .map(|r| {
                (
                    ConnectorName::new(r.name.clone()),
                    RunCounts {
                        adds: r.export.adds,
                        updates: r.export.updates,
                        deletes: r.export.deletes,
                        errors: r.import.rejected + r.sync.errors + r.export.failed,
                        filtered: r.sync.filtered,
                    },
                )
            })
            .collect();
        tx.finish_run(
            run,
            &RunEnd {
                status,
                counts,
                per_connector,
                finished_at: DateTime::now(),
                duration: started.elapsed(),
                message: message.clone(),
            },
        )?;
        if matches!(status, RunStatus::Success | RunStatus::CompletedWithErrors) {
            let at = DateTime::now();
            for c in self.connectors {
                if status == RunStatus::Success {
                    tx.set_last_successful_cycle(c.name(), at)?;
                }
                if full {
                    tx.set_last_full_sync(c.name(), at)?;
                    tx.set_full_sync_required(c.name(), false)?;
                }
            }
            if full {
                tx.set_engine_value(keys::LAST_FULL_AT, Some(&unix_now().to_string()))?;
                tx.set_engine_value(keys::RULES, Some(&self.rules_fingerprint))?;
                tx.set_engine_value(keys::SCOPE, Some(&self.scope_fingerprint))?;
            }
        }
        let retention = i64::try_from(options.history_retention.as_secs())
            .unwrap_or(i64::MAX / 20_000_000)
            .saturating_mul(10_000_000);
        if let Some(before) = DateTime::from_ticks(now.ticks().saturating_sub(retention)) {
            let runs = tx.purge_runs(before)?;
            let entries = tx.purge_journal(before)?;
            if runs + entries > 0 {
                tracing::info!(
                    runs,
                    journal_entries = entries,
                    "history older than the retention purged"
                );
            }
        }
        tx.commit()?;
        outcome?;
        Ok(CycleReport {
            run,
            kind,
            status,
            connectors: cx.reports,
            errors: cx.errors,
            error_count: cx.error_count,
            message,
            duration: started.elapsed(),
            guard_blocked,
            stages: cx.stages,
        })
    }

    fn stages(
        &mut self,
        rt: &tokio::runtime::Handle,
        options: &CycleOptions,
        cx: &mut Cycle<'_>,
    ) -> Result<StageOutcome, EngineError> {
        let stop = || -> Result<(), EngineError> {
            if options.stop.load(Ordering::Relaxed) {
                Err(EngineError::Stopped)
            } else {
                Ok(())
            }
        };
        let mut import_failed: Vec<(ConnectorName, ConnectorError)> = Vec::new();
        let mut clock = Instant::now();
        // 1. Import from every connector (sources first, then the confirming imports).
        for c in self.connectors {
            stop()?;
            if let Err(e) = import::run(self.store, rt, c, cx, options) {
                match e {
                    import::ImportFailure::Store(s) => return Err(s.into()),
                    import::ImportFailure::Stopped => return Err(EngineError::Stopped),
                    import::ImportFailure::Connector(e) => {
                        tracing::error!("{e}");
                        import_failed.push((c.name().clone(), e));
                    }
                }
            }
        }
        // 2. Reconcile interrupted exports against what the confirming imports found.
        for c in self.connectors.iter().filter(|c| c.role == Role::Target) {
            if import_failed.iter().any(|(n, _)| n == c.name()) {
                continue;
            }
            export::reconcile(self.store, c, cx)?;
        }
        cx.stages.import = clock.elapsed();
        clock = Instant::now();
        let cpu_before = thread_cpu_time();
        // 3. Synchronize: inbound for every connector's objects, then outbound.
        for c in self.connectors {
            stop()?;
            inbound::run(self.store, c, self.connectors, cx, options, &options.stop)?;
        }
        for c in self.connectors.iter().filter(|c| c.role == Role::Target) {
            stop()?;
            outbound::run(self.store, c, cx, options, &options.stop)?;
        }
        cx.dirty.clear();
        cx.stages.sync = clock.elapsed();
        cx.stages.sync_cpu = thread_cpu_time()
            .zip(cpu_before)
            .and_then(|(after, before)| after.checked_sub(before));
        clock = Instant::now();
        // 4. Export, unless held back.
        let mut guard_blocked = false;
        let mut messages = Vec::new();
        for (name, e) in &import_failed {
            messages.push(format!("import from {name} failed: {e}"));
        }
        for c in self.connectors.iter().filter(|c| c.role == Role::Target) {
            stop()?;
            let held = match options.export {
                ExportMode::Staging => Some(
                    "staging mode: nothing is exported (see 'hybridsync sync pending-exports')"
                        .to_string(),
                ),
                ExportMode::DryRun => Some(
                    "dry run: nothing is exported (see 'hybridsync sync pending-exports')".into(),
                ),
                ExportMode::Send if import_failed.iter().any(|(n, _)| n == c.name()) => Some(
                    "its confirming import failed, so exports wait for the next cycle".to_string(),
                ),
                ExportMode::Send => None,
            };
            if let Some(h) = held {
                cx.report(c.name()).export_held = Some(h);
            } else {
                match export::run(self.store, rt, c, cx, options)? {
                    export::ExportEnd::Done => {}
                    export::ExportEnd::Blocked(message) => {
                        guard_blocked = true;
                        messages.push(message.clone());
                        cx.report(c.name()).export_held = Some(message);
                    }
                    export::ExportEnd::Failed(message) => {
                        messages.push(message.clone());
                        cx.report(c.name()).export_held = Some(message);
                    }
                }
            }
            let tx = self.store.begin()?;
            let pending = tx.export_summary(c.name())?;
            tx.rollback()?;
            cx.report(c.name()).export.pending =
                pending.adds + pending.updates + pending.renames + pending.deletes;
        }
        cx.stages.export = clock.elapsed();
        let status = if guard_blocked {
            RunStatus::StoppedDeletionThresholdExceeded
        } else if !import_failed.is_empty() {
            RunStatus::Failed
        } else if cx.error_count > 0 || !messages.is_empty() {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Success
        };
        Ok(StageOutcome {
            status,
            message: (!messages.is_empty()).then(|| messages.join("; ")),
            guard_blocked,
        })
    }
}

struct StageOutcome {
    status: RunStatus,
    message: Option<String>,
    guard_blocked: bool,
}

fn totals(reports: &[ConnectorReport], errors: u64) -> RunCounts {
    let mut c = RunCounts {
        errors,
        ..RunCounts::default()
    };
    for r in reports {
        c.adds += r.export.adds;
        c.updates += r.export.updates;
        c.deletes += r.export.deletes;
        c.filtered += r.sync.filtered;
    }
    c
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Every metaverse attribute a join condition looks up.
fn join_attributes(rules: &RuleSet) -> Vec<AttributeName> {
    let mut out: Vec<AttributeName> = Vec::new();
    for r in rules.enabled() {
        for group in &r.join {
            for cond in group {
                if !out.contains(&cond.target) {
                    out.push(cond.target.clone());
                }
            }
        }
    }
    out
}

/// Direct inbound flows that fill multi-valued reference attributes of the metaverse: their
/// source attributes and the metaverse attributes.
fn big_reference_flows(rules: &RuleSet) -> (Vec<AttributeName>, Vec<AttributeName>) {
    let mut sources = Vec::new();
    let mut targets = Vec::new();
    for r in rules
        .enabled()
        .filter(|r| r.direction == Direction::Inbound && r.connector.kind() == ConnectorKind::Ad)
    {
        let Some(ty) = r
            .mv_object_type()
            .or_else(|| MvObjectType::parse(&r.target_object_type))
        else {
            continue;
        };
        for f in &r.flows {
            let FlowKind::Direct(source) = &f.kind else {
                continue;
            };
            let big = rules::schema::mv_attribute(ty, f.target.as_str())
                .is_some_and(|a| a.ty == rules::schema::AttrType::Ref && a.multi);
            if big {
                if !sources.contains(source) {
                    sources.push(source.clone());
                }
                if !targets.contains(&f.target) {
                    targets.push(f.target.clone());
                }
            }
        }
    }
    (sources, targets)
}

/// The connector of `name` among `connectors`.
fn find<'c>(
    connectors: &'c [EngineConnector],
    name: &ConnectorName,
) -> Option<&'c EngineConnector> {
    connectors.iter().find(|c| c.name() == name)
}

/// The parameters the shipped rules read for an AD connector (`%Domain.FQDN%`,
/// `%Forest.Netbios%`, `%Connector.ID%` ...), derived from DNS names when the directory does not
/// say otherwise: the NetBIOS name is the first label in upper case, the LDAP form the
/// `DC=` components.
pub fn directory_params(connector: &str, domain: &str, forest: &str) -> Params {
    let netbios = |fqdn: &str| {
        fqdn.split('.')
            .next()
            .unwrap_or(fqdn)
            .chars()
            .take(15)
            .collect::<String>()
            .to_ascii_uppercase()
    };
    let ldap = |fqdn: &str| {
        fqdn.split('.')
            .filter(|l| !l.is_empty())
            .map(|l| format!("DC={l}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    Params::new()
        .with("Domain.FQDN", domain)
        .with("Domain.Netbios", &netbios(domain))
        .with("Domain.LDAP", &ldap(domain))
        .with("Forest.FQDN", forest)
        .with("Forest.Netbios", &netbios(forest))
        .with("Forest.LDAP", &ldap(forest))
        .with("Connector.ID", connector)
}
