//! The inbound half of synchronization: each connector-space object with a pending import (all
//! objects in a full cycle) is filtered, planned ([`plan_inbound`]), joined, projected or
//! disconnected, and its contributions written to the metaverse; references are translated to
//! metaverse references as they are written.
//!
//! Invariants: filtering (domain/OU, then the pilot group) comes before any rule, and an object
//! leaving scope is disconnected exactly as one that was deleted, so its deprovisioning shows up
//! as pending deletes the guard counts; an object whose rules fail keeps its pending import and
//! is retried next cycle; a metaverse object goes when its last source object does; a reference
//! to an object that is not joined (yet) is remembered and completed when that object joins; in
//! a delta cycle a joined object's large reference attributes are never loaded: their value
//! changes are applied one by one.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{Cycle, CycleOptions, EngineConnector, EngineError, Role, find};
use crate::domain::{AttributeName, Dn, ObjectGuid};
use crate::engine::expr::{Object, Value};
use crate::engine::filter;
use crate::engine::hash::{FastMap, FastSet};
use crate::engine::model::{
    Anchor, ConnectorName, Contribution, CsId, CsObject, MvId, MvObject, Operation, PendingExport,
    PendingImport,
};
use crate::engine::refs;
use crate::engine::rules::{Direction, FlowKind, MvObjectType, PreviewEnv};
use crate::engine::store::{CsScope, JoinCase, Projection, Store, StoreError, StoreTx};
use crate::engine::sync::{Flowed, LinkDecision, MetaverseLookup, plan_inbound, resolve_metaverse};

type Contributions = BTreeMap<AttributeName, Vec<Flowed>>;

/// Synchronizes one connector's objects (pending ones, or all in a full cycle).
pub(super) fn run(
    store: &mut dyn Store,
    c: &EngineConnector,
    all: &[EngineConnector],
    cx: &mut Cycle<'_>,
    options: &CycleOptions,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), EngineError> {
    let scope = if cx.full {
        CsScope::All
    } else {
        CsScope::PendingImport
    };
    // In a delta cycle, objects that joined or left the pilot group did not change themselves:
    // they are re-evaluated after the pending ones.
    let pilot_changes = if cx.full {
        Vec::new()
    } else {
        let tx = store.begin()?;
        let ids = pilot_membership_changes(&*tx, c)?;
        tx.rollback()?;
        ids
    };
    let mut after: Option<CsId> = None;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(EngineError::Stopped);
        }
        let mut tx = store.begin()?;
        if cx.full {
            // A full cycle reads each page of objects whole, in two queries: synchronizing
            // one object of a connector never changes another object of the same connector.
            let objects = tx.cs_page(c.name(), scope, after, options.page_size.max(1))?;
            let Some(last) = objects.last().map(|o| o.id) else {
                tx.rollback()?;
                break;
            };
            if c.role == Role::Source {
                prefetch_metaverse(&*tx, cx, &objects)?;
                cx.unresolved = Some(UnresolvedPage {
                    after,
                    through: last,
                    holders: tx
                        .unresolved_holders_between(after, last)?
                        .into_iter()
                        .collect(),
                });
            }
            after = Some(last);
            for o in objects {
                sync_one(&mut *tx, c, all, cx, o.id, Some(o))?;
            }
            cx.metaverse.clear();
            cx.unresolved = None;
            flush(&mut *tx, c, cx)?;
            let added = std::mem::take(&mut cx.added);
            tx.clear_pending_adds(&added)?;
            tx.commit()?;
            continue;
        }
        let ids = tx.cs_ids_page(c.name(), scope, after, options.page_size.max(1))?;
        let Some(last) = ids.last().copied() else {
            tx.rollback()?;
            break;
        };
        after = Some(last);
        for id in ids {
            sync_one(&mut *tx, c, all, cx, id, None)?;
        }
        tx.commit()?;
    }
    for chunk in pilot_changes.chunks(options.page_size.max(1)) {
        let mut tx = store.begin()?;
        for id in chunk {
            sync_one(&mut *tx, c, all, cx, *id, None)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// The objects whose membership of the connector's pilot group changed since the last sync.
fn pilot_membership_changes(
    tx: &dyn StoreTx,
    c: &EngineConnector,
) -> Result<Vec<CsId>, EngineError> {
    let Some(group) = &c.pilot_group else {
        return Ok(Vec::new());
    };
    let member = AttributeName::known("member");
    let mut out = Vec::new();
    for g in tx.find_cs_by_dn(c.name(), group)? {
        for change in tx.pending_value_changes(g)? {
            if change.attribute != member {
                continue;
            }
            for v in change.added.iter().chain(&change.removed) {
                if let Some(dn) = reference_dn(v) {
                    out.extend(tx.find_cs_by_dn(c.name(), &dn)?);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The store as the planner's join lookup. A value that a projection still waiting in
/// `deferred` also has sets `deferred_hit` (the caller writes the waiting projections and plans
/// again, so the join sees them).
struct Lookup<'t> {
    tx: &'t dyn StoreTx,
    deferred: &'t Deferred,
    deferred_hit: &'t std::cell::Cell<bool>,
}

impl MetaverseLookup for Lookup<'_> {
    fn find(
        &self,
        mv_type: MvObjectType,
        attribute: &AttributeName,
        value: &Value,
        case_sensitive: bool,
    ) -> Vec<MvId> {
        let case = if case_sensitive {
            JoinCase::Sensitive
        } else {
            JoinCase::Insensitive
        };
        if self.deferred.holds(attribute, value) {
            self.deferred_hit.set(true);
        }
        match self
            .tx
            .find_mv_by_value(Some(mv_type), attribute, value, case)
        {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("join lookup failed: {e}");
                Vec::new()
            }
        }
    }
}

/// A connector-space object whose large attributes stay in the store: read on demand, counted
/// by an index.
struct Lazy<'o> {
    cs: &'o CsObject,
    tx: &'o dyn StoreTx,
    skipped: &'o [AttributeName],
}

impl Lazy<'_> {
    fn skipped(&self, name: &AttributeName) -> bool {
        self.skipped.contains(name)
    }
}

impl Object for Lazy<'_> {
    fn get(&self, name: &str) -> Option<Value> {
        self.get_attr(&AttributeName::new(name).ok()?)
    }

    fn get_attr(&self, name: &AttributeName) -> Option<Value> {
        if self.skipped(name) {
            let values = self.tx.cs_attribute(self.cs.id, name).ok()?;
            return match Value::multi(values) {
                Value::Null => None,
                v => Some(v),
            };
        }
        self.cs.get_attr(name)
    }

    fn attr_values(&self, name: &AttributeName) -> Option<std::borrow::Cow<'_, [Value]>> {
        if self.skipped(name) {
            let values = self.tx.cs_attribute(self.cs.id, name).ok()?;
            // The same values `get_attr` gives: `Value::multi` drops NULLs and flattens.
            return match Value::multi(values) {
                Value::Null => None,
                Value::Multi(many) => Some(std::borrow::Cow::Owned(many)),
                one => Some(std::borrow::Cow::Owned(vec![one])),
            };
        }
        self.cs.attr_values(name)
    }

    fn list_attributes(&self, f: &mut dyn FnMut(&AttributeName)) -> bool {
        // The large attributes left in the store may have values: named too.
        if !self.cs.list_attributes(f) {
            return false;
        }
        for a in self.skipped {
            f(a);
        }
        true
    }

    fn value_count(&self, name: &str) -> usize {
        match AttributeName::new(name) {
            Ok(a) if self.skipped(&a) => self
                .tx
                .cs_value_count(self.cs.id, &a)
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            _ => self.imported(name).map_or(0, |v| v.values().len()),
        }
    }

    fn dn(&self) -> Option<String> {
        Some(self.cs.dn.to_string())
    }
}

/// Whether `who` is a direct member of `group` in connector `c` (cached per cycle).
fn member_of(tx: &dyn StoreTx, cx: &Cycle<'_>, c: &ConnectorName, group: &Dn, who: &Dn) -> bool {
    let key = (c.as_str().to_ascii_lowercase(), group.clone());
    if let Some(set) = cx.members.borrow().get(&key) {
        return set.contains(who);
    }
    let mut set = HashSet::new();
    let member = AttributeName::known("member");
    if let Ok(ids) = tx.find_cs_by_dn(c, group) {
        for id in ids {
            for v in tx.cs_attribute(id, &member).unwrap_or_default() {
                if let Value::Ref(text) | Value::Str(text) = &v
                    && let Ok(dn) = Dn::parse(text)
                {
                    set.insert(dn);
                }
            }
        }
    }
    let found = set.contains(who);
    cx.members.borrow_mut().insert(key, set);
    found
}

/// The objectGUID of a container of connector `c` as the connector space has it now.
fn container_guid(
    tx: &dyn StoreTx,
    cx: &Cycle<'_>,
    c: &ConnectorName,
    container: &Dn,
) -> Option<ObjectGuid> {
    let key = (c.as_str().to_ascii_lowercase(), container.clone());
    if let Some(g) = cx.containers.borrow().get(&key) {
        return *g;
    }
    let guid = tx
        .find_cs_by_dn(c, container)
        .ok()
        .and_then(|ids| ids.first().copied())
        .and_then(|id| tx.cs_object_without(id, &[]).ok().flatten())
        .and_then(|o| match o.anchor {
            Some(Anchor::Bytes(b)) => ObjectGuid::from_bytes(&b).ok(),
            _ => None,
        });
    cx.containers.borrow_mut().insert(key, guid);
    guid
}

/// Domain/OU filtering, then the pilot group.
fn in_scope(tx: &dyn StoreTx, c: &EngineConnector, cx: &Cycle<'_>, cs: &CsObject) -> bool {
    let name = c.name();
    let by_place = filter::in_scope(&c.scope, &cs.dn, &|container| {
        container_guid(tx, cx, name, container)
    });
    if !by_place {
        return false;
    }
    match &c.pilot_group {
        None => true,
        Some(group) => member_of(tx, cx, name, group, &cs.dn),
    }
}

/// Synchronizes one object; `read`: the object with all its attributes, if already read.
fn sync_one(
    tx: &mut dyn StoreTx,
    c: &EngineConnector,
    all: &[EngineConnector],
    cx: &mut Cycle<'_>,
    id: CsId,
    read: Option<CsObject>,
) -> Result<(), EngineError> {
    // A full cycle evaluates every attribute: the object is read whole, in one go.
    let skip: &[AttributeName] = if cx.full { &[] } else { &cx.big_sources };
    let read = match read {
        Some(o) if cx.full => Some(o),
        _ => tx.cs_object_without(id, skip)?,
    };
    let Some(mut cs) = read else {
        return Ok(());
    };
    cx.report(c.name()).sync.processed += 1;
    let fast = cx.full
        && c.role == Role::Source
        && cs.mv.is_none()
        && cs.pending_import != PendingImport::Delete;
    if !fast {
        // Anything else may read or write what the waiting projections will hold.
        flush(tx, c, cx)?;
    }
    if c.role == Role::Target {
        if let Some(mv) = cs.mv
            && cs.pending_import != PendingImport::None
        {
            cx.dirty(mv).attrs = true;
        }
        clear_pending(tx, cx, &cs)?;
        return Ok(());
    }
    if cs.pending_import == PendingImport::Delete {
        if let Some(mv) = cs.mv {
            detach(tx, c, all, cx, &cs, mv, true)?;
            cx.report(c.name()).sync.disconnected += 1;
        }
        tx.clear_pending_import(id)?;
        return Ok(());
    }
    if !in_scope(&*tx, c, cx, &cs) {
        cx.report(c.name()).sync.filtered += 1;
        if let Some(mv) = cs.mv {
            detach(tx, c, all, cx, &cs, mv, false)?;
            cx.report(c.name()).sync.disconnected += 1;
        }
        if cs.pending_import != PendingImport::None {
            tx.clear_pending_import(id)?;
        }
        return Ok(());
    }
    exclude_filtered_attributes(cx, &mut cs);
    let incremental = !cx.full
        && cs.pending_import == PendingImport::Update
        && cs.mv.is_some()
        && !cx.big_sources.is_empty();
    if !incremental && !cx.full {
        load_big_sources(&*tx, cx, &mut cs)?;
    }
    let (mut plan, deferred_hit) = plan_seeing(&*tx, c, cx, &cs, cs.mv.is_some(), incremental);
    if deferred_hit {
        // It may join a projection that is still waiting: write those, then plan again.
        flush(tx, c, cx)?;
        plan = self::plan(&*tx, c, cx, &cs, cs.mv.is_some(), incremental);
    }
    if fast
        && plan.errors.is_empty()
        && plan.join_error.is_none()
        && let LinkDecision::Project { mv_type, .. } = &plan.link
        && let Some(p) = deferrable(c, &cs, *mv_type, &plan.contributions)
    {
        cx.report(c.name()).sync.projected += 1;
        cx.deferred.add(p, cs.dn.clone());
        clear_pending(tx, cx, &cs)?;
        return Ok(());
    }
    flush(tx, c, cx)?;
    if !plan.errors.is_empty() || plan.join_error.is_some() {
        for e in &plan.errors {
            cx.error(
                tx,
                c.name(),
                Some(&cs.dn),
                cs.anchor.as_ref(),
                Some(&e.target),
                format!(
                    "rule '{}' could not compute {}: {}; the object is retried next cycle",
                    e.rule, e.target, e.error
                ),
            )?;
        }
        if let Some(j) = &plan.join_error {
            cx.error(
                tx,
                c.name(),
                Some(&cs.dn),
                cs.anchor.as_ref(),
                None,
                j.clone(),
            )?;
        }
        cx.report(c.name()).sync.errors += 1;
        return Ok(());
    }
    let mut newly_linked = false;
    let mut fresh = None;
    let mv = match &plan.link {
        LinkDecision::Keep => cs.mv,
        LinkDecision::Join { mv, rule } => match tx.link(id, *mv) {
            Ok(()) => {
                cx.report(c.name()).sync.joined += 1;
                tracing::debug!(dn = %cs.dn, rule, "joined");
                newly_linked = true;
                Some(*mv)
            }
            Err(StoreError::Conflict { what: detail, .. }) => {
                cx.error(
                    tx,
                    c.name(),
                    Some(&cs.dn),
                    cs.anchor.as_ref(),
                    None,
                    format!("rule '{rule}' would join it, but {detail}"),
                )?;
                cx.report(c.name()).sync.errors += 1;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
        LinkDecision::Project { mv_type, .. } => {
            let mv = tx.project(id, *mv_type)?;
            cx.report(c.name()).sync.projected += 1;
            newly_linked = true;
            fresh = Some(*mv_type);
            Some(mv)
        }
        LinkDecision::Disconnect => {
            if let Some(mv) = cs.mv {
                detach(tx, c, all, cx, &cs, mv, false)?;
                cx.report(c.name()).sync.disconnected += 1;
            }
            None
        }
    };
    if let Some(mv) = mv {
        let state = match fresh {
            Some(object_type) => Joined::Fresh(object_type),
            None => match (&plan.link, cx.metaverse.remove(&mv)) {
                (LinkDecision::Keep, Some((object, links))) => Joined::Read(object, links),
                _ => Joined::Stored,
            },
        };
        flow(
            tx,
            c,
            all,
            cx,
            &cs,
            mv,
            &plan.contributions,
            incremental,
            state,
        )?;
        if incremental {
            member_changes(tx, c, cx, &cs, mv)?;
        }
        if newly_linked {
            complete_waiting_references(tx, c.name(), cx, &cs.dn, mv)?;
            cx.dirty(mv).full = true;
        }
    }
    clear_pending(tx, cx, &cs)?;
    Ok(())
}

/// Clears the pending import of a synchronized object: at once, or, for a pending Add in a full
/// cycle, with the rest of the page ([`run`] clears them together before the page commits).
fn clear_pending(
    tx: &mut dyn StoreTx,
    cx: &mut Cycle<'_>,
    cs: &CsObject,
) -> Result<(), EngineError> {
    match cs.pending_import {
        PendingImport::None => {}
        PendingImport::Add if cx.full => cx.added.push(cs.id),
        _ => tx.clear_pending_import(cs.id)?,
    }
    Ok(())
}

/// Attribute filtering: the excluded attributes of the object's class are removed before any
/// rule sees the object.
fn exclude_filtered_attributes(cx: &Cycle<'_>, cs: &mut CsObject) {
    cs.attributes
        .retain(|attr, _| !is_excluded(cx, &cs.object_class, attr));
}

/// Whether attribute filtering excludes `attr` of objects of `class` (`user` covers
/// `inetOrgPerson`).
fn is_excluded(cx: &Cycle<'_>, class: &str, attr: &AttributeName) -> bool {
    cx.excluded.iter().any(|(c, a)| {
        a == attr
            && (c.eq_ignore_ascii_case(class)
                || (c.eq_ignore_ascii_case("user") && class.eq_ignore_ascii_case("inetOrgPerson")))
    })
}

/// Full cycle: the projections of a page, written together ([`StoreTx::project_many`])
/// instead of a projection and an attribute write each. Only objects whose new metaverse
/// object holds no reference wait here (references resolve against other objects, so those go
/// the one-by-one way); anything else that could read or write the metaverse writes the
/// waiting ones first ([`flush`]), and a join lookup that finds a waiting object's value does
/// too, then plans again. So the result is the same as one by one.
pub(super) struct Deferred {
    /// The metaverse attributes join rules look up (their values are indexed).
    join_targets: Vec<AttributeName>,
    /// The waiting projections.
    projections: Vec<Projection>,
    /// Their source objects' DNs (references waiting for them complete when they are written).
    dns: Vec<Dn>,
    /// The join keys of their values of `join_targets`: (index into it, key).
    keys: HashSet<(usize, Vec<u8>)>,
}

impl Deferred {
    pub(super) fn new(join_targets: Vec<AttributeName>) -> Self {
        Self {
            join_targets,
            projections: Vec::new(),
            dns: Vec::new(),
            keys: HashSet::new(),
        }
    }

    fn add(&mut self, p: Projection, dn: Dn) {
        for (a, c) in &p.attributes {
            if let Some(i) = self.join_targets.iter().position(|t| t == a) {
                for v in &c.values {
                    if let Some(k) = crate::engine::store::join_key(v) {
                        self.keys.insert((i, k));
                    }
                }
            }
        }
        self.projections.push(p);
        self.dns.push(dn);
    }

    /// Whether a waiting projection has `value` in `attribute` (ignoring case: a hit only
    /// costs an early write).
    fn holds(&self, attribute: &AttributeName, value: &Value) -> bool {
        if self.projections.is_empty() {
            return false;
        }
        let Some(i) = self.join_targets.iter().position(|t| t == attribute) else {
            return false;
        };
        crate::engine::store::join_key(value).is_some_and(|k| self.keys.contains(&(i, k)))
    }
}

/// The projection of `cs` with its first attributes, if it can wait (nothing in it is a
/// reference).
fn deferrable(
    c: &EngineConnector,
    cs: &CsObject,
    mv_type: MvObjectType,
    contributions: &Contributions,
) -> Option<Projection> {
    // Decided before resolving, so an object that cannot wait (a group with members) is not
    // resolved twice: any value flowing into a reference attribute sends it the one-by-one way.
    let references = contributions.iter().any(|(a, flows)| {
        refs::is_reference(mv_type, a) && flows.iter().any(|f| !matches!(f.value, Value::Null))
    });
    if references {
        return None;
    }
    let joined = [(c.name().clone(), contributions)];
    let resolved = resolve_metaverse(&joined, &BTreeMap::new());
    Some(Projection {
        cs: cs.id,
        object_type: mv_type,
        attributes: resolved
            .into_iter()
            .filter(|(_, c)| !c.values.is_empty())
            .collect(),
    })
}

/// Writes the waiting projections; then, as for any new join, references waiting for them
/// complete and the targets look at them whole.
fn flush(tx: &mut dyn StoreTx, c: &EngineConnector, cx: &mut Cycle<'_>) -> Result<(), EngineError> {
    if cx.deferred.projections.is_empty() {
        return Ok(());
    }
    let projections = std::mem::take(&mut cx.deferred.projections);
    let dns = std::mem::take(&mut cx.deferred.dns);
    cx.deferred.keys.clear();
    let ids = tx.project_many(&projections)?;
    // Completing one object's waiting references never touches another's: look them all up
    // at once.
    let waiting = tx.unresolved_refs_to_many(c.name(), &dns)?;
    for (((mv, dn), p), waiting) in ids.into_iter().zip(&dns).zip(&projections).zip(waiting) {
        tracing::debug!(%dn, "projected");
        let dirty = cx.dirty(mv);
        dirty.attrs |= !p.attributes.is_empty();
        dirty.full = true;
        complete_references(tx, c.name(), cx, dn, mv, waiting)?;
    }
    Ok(())
}

/// What [`flow`] knows about the metaverse object it writes.
enum Joined {
    /// It is in the store, maybe joined to other objects too.
    Stored,
    /// In the store and read with the page ([`prefetch_metaverse`]): the object without its
    /// large references, and its links.
    Read(MvObject, Vec<(ConnectorName, CsId)>),
    /// Just projected from `cs`: no attributes, no other joined object (nothing to read).
    Fresh(MvObjectType),
}

/// Full cycle: the metaverse objects a page's objects are joined to, read with the page (two
/// range queries instead of three per object), when their ids are close together, as they are
/// when a directory was projected in order. An object that keeps its join takes its own entry
/// ([`Joined::Read`]); anything that writes another object's metaverse attributes or links
/// (completed references, a deleted metaverse object, a disconnection) empties the cache, so
/// what is taken is what the store holds.
pub(super) type MetaverseCache = FastMap<MvId, (MvObject, Vec<(ConnectorName, CsId)>)>;

fn prefetch_metaverse(
    tx: &dyn StoreTx,
    cx: &mut Cycle<'_>,
    objects: &[CsObject],
) -> Result<(), EngineError> {
    cx.metaverse.clear();
    let wanted: FastSet<MvId> = objects.iter().filter_map(|o| o.mv).collect();
    let (Some(first), Some(last)) = (wanted.iter().min(), wanted.iter().max()) else {
        return Ok(());
    };
    let span = usize::try_from(last.0.saturating_sub(first.0)).unwrap_or(usize::MAX);
    if span > 4 * wanted.len() {
        return Ok(());
    }
    let after = MvId(first.0.saturating_sub(1));
    let mut links: FastMap<MvId, Vec<(ConnectorName, CsId)>> = FastMap::default();
    for (mv, name, cs) in tx.links_between(Some(after), *last)? {
        if wanted.contains(&mv) {
            links.entry(mv).or_default().push((name, cs));
        }
    }
    for o in tx.mv_page(Some(after), *last, &cx.big_mv)? {
        if !wanted.contains(&o.id) {
            continue;
        }
        let l = links.remove(&o.id).unwrap_or_default();
        cx.metaverse.insert(o.id, (o, l));
    }
    Ok(())
}

/// Writes the metaverse attributes of `mv` from the contributions of every source object
/// joined to it (`contributions` is `cs`'s own).
#[allow(clippy::too_many_arguments)]
fn flow(
    tx: &mut dyn StoreTx,
    c: &EngineConnector,
    all: &[EngineConnector],
    cx: &mut Cycle<'_>,
    cs: &CsObject,
    mv: MvId,
    contributions: &Contributions,
    incremental: bool,
    state: Joined,
) -> Result<(), EngineError> {
    let fresh = matches!(state, Joined::Fresh(_));
    let (existing, links) = match state {
        Joined::Read(existing, links) => (existing, links),
        Joined::Fresh(object_type) => (
            crate::engine::model::MvObject {
                id: mv,
                object_type,
                attributes: BTreeMap::new(),
            },
            Vec::new(),
        ),
        Joined::Stored => {
            let Some(existing) = tx.mv_object_without(mv, &cx.big_mv)? else {
                return Ok(());
            };
            (existing, tx.links(mv)?)
        }
    };
    let mut others: Vec<(ConnectorName, Contributions)> = Vec::new();
    for (name, other) in links {
        if other == cs.id {
            continue;
        }
        let Some(oc) = find(all, &name).filter(|x| x.role == Role::Source) else {
            continue;
        };
        if let Some(plan) = plan_for(&*tx, oc, cx, other, incremental)? {
            others.push((name, plan));
        }
    }
    let mut joined: Vec<(ConnectorName, &Contributions)> = vec![(c.name().clone(), contributions)];
    joined.extend(others.iter().map(|(n, p)| (n.clone(), p)));
    let mut resolved = resolve_metaverse(&joined, &existing.attributes);
    let mut names: BTreeSet<&AttributeName> = resolved.keys().collect();
    names.extend(existing.attributes.keys());
    for (_, p) in &joined {
        names.extend(p.keys());
    }
    let mut changed: Vec<AttributeName> = Vec::new();
    for attr in names {
        if incremental && cx.big_mv.contains(attr) {
            continue;
        }
        let want = resolved.get(attr);
        if refs::is_reference(existing.object_type, attr) {
            // Without values now, and known to have none stored (attributes left out of the
            // read are not known): nothing to write.
            let absent =
                !existing.attributes.contains_key(attr) && (fresh || !cx.big_mv.contains(attr));
            references(tx, c, cx, cs, mv, attr, want, absent)?;
            continue;
        }
        if existing.attributes.get(attr) != want {
            changed.push(attr.clone());
        }
    }
    // The resolved contributions move into the writes (no copy of their values).
    let writes: Vec<(AttributeName, Option<Contribution>)> = changed
        .into_iter()
        .map(|attr| {
            let want = resolved.remove(&attr);
            (attr, want)
        })
        .collect();
    if !writes.is_empty() {
        // Something differs (values or lineage): the targets must look at the object.
        tx.set_mv_attributes(mv, &writes)?;
        cx.dirty(mv).attrs = true;
    }
    Ok(())
}

/// Adds the large reference attributes (left out when the object was read) to `cs`.
fn load_big_sources(
    tx: &dyn StoreTx,
    cx: &Cycle<'_>,
    cs: &mut CsObject,
) -> Result<(), EngineError> {
    for a in &cx.big_sources {
        let values = tx.cs_attribute(cs.id, a)?;
        if !values.is_empty() {
            cs.attributes.insert(a.clone(), values);
        }
    }
    Ok(())
}

/// Plans `cs` inbound; `incremental`: its large reference attributes stay in the store and
/// their direct flows are skipped (their value changes are applied separately).
fn plan(
    tx: &dyn StoreTx,
    c: &EngineConnector,
    cx: &Cycle<'_>,
    cs: &CsObject,
    linked: bool,
    incremental: bool,
) -> crate::engine::sync::InboundPlan {
    plan_seeing(tx, c, cx, cs, linked, incremental).0
}

/// [`plan`], and whether a join lookup hit a projection still waiting in [`Cycle::deferred`].
fn plan_seeing(
    tx: &dyn StoreTx,
    c: &EngineConnector,
    cx: &Cycle<'_>,
    cs: &CsObject,
    linked: bool,
    incremental: bool,
) -> (crate::engine::sync::InboundPlan, bool) {
    let skipped: &[AttributeName] = if incremental { &cx.big_sources } else { &[] };
    let obj = Lazy { cs, tx, skipped };
    let name = c.name();
    let is_member_of = |group: &Dn| member_of(tx, cx, name, group, &cs.dn);
    let skip = |a: &AttributeName| skipped.contains(a);
    let env = PreviewEnv {
        params: &c.params,
        now: cx.now,
        is_member_of: &is_member_of,
        skip_direct: incremental.then_some(&skip as &dyn Fn(&AttributeName) -> bool),
    };
    let deferred_hit = std::cell::Cell::new(false);
    let lookup = Lookup {
        tx,
        deferred: &cx.deferred,
        deferred_hit: &deferred_hit,
    };
    let plan = plan_inbound(
        cx.rules,
        &c.rule_connector(),
        &obj,
        &cs.object_class,
        linked,
        &env,
        &lookup,
    );
    (plan, deferred_hit.get())
}

/// The contributions of another joined source object (multi-forest joins).
fn plan_for(
    tx: &dyn StoreTx,
    c: &EngineConnector,
    cx: &Cycle<'_>,
    id: CsId,
    incremental: bool,
) -> Result<Option<Contributions>, EngineError> {
    let Some(mut cs) = tx.cs_object_without(id, &cx.big_sources)? else {
        return Ok(None);
    };
    exclude_filtered_attributes(cx, &mut cs);
    if !incremental {
        load_big_sources(tx, cx, &mut cs)?;
    }
    let plan = plan(tx, c, cx, &cs, true, incremental);
    Ok(plan.errors.is_empty().then_some(plan.contributions))
}

/// Full cycle: the objects of the current source page that hold unresolved references, read
/// with the page, so that resolving an attribute afresh only clears the old ones where there
/// are any. Every unresolved reference the engine adds goes through [`remember_unresolved`],
/// which notes its holder here: the set only ever over-approximates.
pub(super) struct UnresolvedPage {
    after: Option<CsId>,
    through: CsId,
    holders: FastSet<CsId>,
}

/// Whether `cs` may hold unresolved references (true unless the current page knows it holds
/// none).
fn may_hold_unresolved(cx: &Cycle<'_>, cs: CsId) -> bool {
    match &cx.unresolved {
        Some(page) if page.after.is_none_or(|a| cs > a) && cs <= page.through => {
            page.holders.contains(&cs)
        }
        _ => true,
    }
}

/// Remembers an unresolved reference of `holder` (see [`StoreTx::add_unresolved_ref`]) and
/// notes the holder in the current page's [`UnresolvedPage`].
fn remember_unresolved(
    tx: &mut dyn StoreTx,
    cx: &mut Cycle<'_>,
    holder: CsId,
    attribute: &AttributeName,
    target: &Dn,
    rule: &str,
) -> Result<(), EngineError> {
    if let Some(page) = &mut cx.unresolved {
        page.holders.insert(holder);
    }
    tx.add_unresolved_ref(holder, attribute, target, rule)?;
    Ok(())
}

/// Writes a reference attribute: each source DN becomes the metaverse reference of the object
/// joined to it; DNs of objects not joined are remembered for when they are. `absent`: the
/// metaverse object is known to have no value of `attr`.
#[allow(clippy::too_many_arguments)]
fn references(
    tx: &mut dyn StoreTx,
    c: &EngineConnector,
    cx: &mut Cycle<'_>,
    cs: &CsObject,
    mv: MvId,
    attr: &AttributeName,
    want: Option<&Contribution>,
    absent: bool,
) -> Result<(), EngineError> {
    if may_hold_unresolved(cx, cs.id) {
        tx.clear_unresolved_refs(cs.id, attr)?;
    }
    let new = match want {
        None => None,
        Some(contribution) => {
            let source = &contribution.connector;
            let holder = if source == c.name() {
                Some(cs.id)
            } else {
                tx.counterpart(source, mv)?.map(|x| x.cs)
            };
            if let Some(h) = holder.filter(|h| *h != cs.id && may_hold_unresolved(cx, *h)) {
                tx.clear_unresolved_refs(h, attr)?;
            }
            // The values' DNs first (a value that is no DN is reported and left out), then
            // every target looked up at once: looking up never changes a link.
            let mut dns = Vec::with_capacity(contribution.values.len());
            for v in &contribution.values {
                let Some(dn) = reference_dn(v) else {
                    cx.error(
                        tx,
                        c.name(),
                        Some(&cs.dn),
                        cs.anchor.as_ref(),
                        Some(attr),
                        format!("'{v}' is not a distinguished name, so it cannot be a reference; it was left out"),
                    )?;
                    continue;
                };
                dns.push(dn);
            }
            let targets = tx.linked_mvs_by_dn(source, &dns)?;
            let mut values = Vec::with_capacity(dns.len());
            for (dn, target) in dns.iter().zip(targets) {
                match target {
                    Some(target) => values.push(refs::mv_ref(target)),
                    None => {
                        if let Some(h) = holder {
                            remember_unresolved(tx, cx, h, attr, dn, &contribution.rule)?;
                        }
                    }
                }
            }
            (!values.is_empty()).then(|| Contribution {
                values,
                rule: contribution.rule.clone(),
                connector: source.clone(),
            })
        }
    };
    if new.is_none() && absent {
        // (Still noted as looked at, as a write that changed nothing is.)
        cx.record_refs(mv, attr, Vec::new(), Vec::new());
        return Ok(());
    }
    let changes = tx.set_mv_attribute(mv, attr, new.as_ref())?;
    cx.record_refs(mv, attr, changes.added, changes.removed);
    Ok(())
}

fn reference_dn(v: &Value) -> Option<Dn> {
    match v {
        Value::Ref(text) | Value::Str(text) => Dn::parse(text).ok(),
        _ => None,
    }
}

/// Delta cycle, joined object: applies the added and removed values of its large reference
/// attributes (group members) to the metaverse one by one.
fn member_changes(
    tx: &mut dyn StoreTx,
    c: &EngineConnector,
    cx: &mut Cycle<'_>,
    cs: &CsObject,
    mv: MvId,
) -> Result<(), EngineError> {
    let big = cx.big_sources.clone();
    let changes = tx.pending_value_changes(cs.id)?;
    let changes: Vec<_> = changes
        .into_iter()
        .filter(|ch| {
            big.contains(&ch.attribute) && !is_excluded(cx, &cs.object_class, &ch.attribute)
        })
        .collect();
    for change in &changes {
        for (rule, target) in direct_targets(&*tx, c, cx, cs, &change.attribute) {
            if let Some((_, owner)) = tx.mv_lineage(mv, &target)?
                && &owner != c.name()
            {
                continue;
            }
            let mut add = Vec::new();
            for v in &change.added {
                let Some(dn) = reference_dn(v) else { continue };
                match tx.linked_mv_by_dn(c.name(), &dn)? {
                    Some(m) => add.push(refs::mv_ref(m)),
                    None => remember_unresolved(tx, cx, cs.id, &target, &dn, &rule)?,
                }
            }
            let mut remove = Vec::new();
            for v in &change.removed {
                let Some(dn) = reference_dn(v) else { continue };
                tx.remove_unresolved_ref(cs.id, &target, &dn)?;
                if let Some(m) = tx.linked_mv_by_dn(c.name(), &dn)? {
                    remove.push(refs::mv_ref(m));
                }
            }
            let added = tx.add_mv_values(mv, &target, &add, &rule, c.name())?;
            let removed = tx.remove_mv_values(mv, &target, &remove)?;
            cx.record_refs(mv, &target, added.added, removed.removed);
        }
    }
    Ok(())
}

/// The in-scope inbound rules of `c` for `cs` that copy `source` directly, with the metaverse
/// attribute each writes.
fn direct_targets(
    tx: &dyn StoreTx,
    c: &EngineConnector,
    cx: &Cycle<'_>,
    cs: &CsObject,
    source: &AttributeName,
) -> Vec<(String, AttributeName)> {
    let connector = c.rule_connector();
    let name = c.name();
    let is_member_of = |group: &Dn| member_of(tx, cx, name, group, &cs.dn);
    let mut out = Vec::new();
    for r in cx.rules.enabled().filter(|r| {
        r.direction == Direction::Inbound
            && r.connector.matches(&connector)
            && r.source_object_type.eq_ignore_ascii_case(&cs.object_class)
    }) {
        let direct: Vec<_> = r
            .flows
            .iter()
            .filter(|f| matches!(&f.kind, FlowKind::Direct(s) if s == source))
            .collect();
        if direct.is_empty() || !r.scope.matches(cs, &is_member_of) {
            continue;
        }
        for f in direct {
            out.push((r.name.clone(), f.target.clone()));
        }
    }
    out
}

/// A newly joined object completes the references that were waiting for it.
fn complete_waiting_references(
    tx: &mut dyn StoreTx,
    connector: &ConnectorName,
    cx: &mut Cycle<'_>,
    dn: &Dn,
    mv: MvId,
) -> Result<(), EngineError> {
    let waiting = tx.unresolved_refs_to(connector, dn)?;
    complete_references(tx, connector, cx, dn, mv, waiting)
}

/// Completes the references `waiting` for the object at `dn`, now joined to `mv`.
fn complete_references(
    tx: &mut dyn StoreTx,
    connector: &ConnectorName,
    cx: &mut Cycle<'_>,
    dn: &Dn,
    mv: MvId,
    waiting: Vec<(CsId, AttributeName, String)>,
) -> Result<(), EngineError> {
    if !waiting.is_empty() {
        // Other objects' metaverse attributes change.
        cx.metaverse.clear();
    }
    for (holder, attr, rule) in waiting {
        let Some(m) = tx.cs_link(holder)? else {
            continue;
        };
        if let Some((_, owner)) = tx.mv_lineage(m, &attr)?
            && &owner != connector
        {
            continue;
        }
        let added = tx.add_mv_values(m, &attr, &[refs::mv_ref(mv)], &rule, connector)?;
        tx.remove_unresolved_ref(holder, &attr, dn)?;
        cx.record_refs(m, &attr, added.added, Vec::new());
    }
    Ok(())
}

/// `cs` leaves `mv` (deleted in its directory when `gone`, else out of scope): the metaverse
/// object goes with its last source object; otherwise the remaining sources decide its
/// attributes.
fn detach(
    tx: &mut dyn StoreTx,
    c: &EngineConnector,
    all: &[EngineConnector],
    cx: &mut Cycle<'_>,
    cs: &CsObject,
    mv: MvId,
    gone: bool,
) -> Result<(), EngineError> {
    // Links change, and maybe other objects' references.
    cx.metaverse.clear();
    tx.unlink(cs.id)?;
    let remaining: Vec<(ConnectorName, CsId)> = tx
        .links(mv)?
        .into_iter()
        .filter(|(n, _)| find(all, n).is_some_and(|x| x.role == Role::Source))
        .collect();
    match remaining.first() {
        None => {
            let kept = (!gone).then_some((c.name(), &cs.dn));
            delete_metaverse_object(tx, all, cx, mv, kept)
        }
        Some((name, other)) => {
            if let Some(oc) = find(all, name)
                && let Some(plan) = plan_for(&*tx, oc, cx, *other, false)?
                && let Some(o) = tx.cs_object_without(*other, &cx.big_sources)?
            {
                flow(tx, oc, all, cx, &o, mv, &plan, false, Joined::Stored)?;
            }
            cx.dirty(mv).full = true;
            Ok(())
        }
    }
}

/// Deletes a metaverse object: its target objects get pending deletes (or vanish if never
/// exported), references to it are removed from other objects (and remembered, when its source
/// object still exists, for when it comes back).
fn delete_metaverse_object(
    tx: &mut dyn StoreTx,
    all: &[EngineConnector],
    cx: &mut Cycle<'_>,
    mv: MvId,
    kept: Option<(&ConnectorName, &Dn)>,
) -> Result<(), EngineError> {
    cx.metaverse.clear();
    for (name, _) in tx.links(mv)? {
        if !find(all, &name).is_some_and(|x| x.role == Role::Target) {
            continue;
        }
        let Some(cp) = tx.counterpart(&name, mv)? else {
            continue;
        };
        match &cp.anchor {
            Some(anchor) => {
                tx.put_pending_export(&PendingExport {
                    connector: name.clone(),
                    cs: cp.cs,
                    anchor: Some(anchor.clone()),
                    dn: cp.dn.clone(),
                    object_class: cp.object_class.clone(),
                    operation: Operation::Delete,
                    changes: Vec::new(),
                })?;
            }
            None => {
                tx.delete_cs_object(cp.cs)?;
            }
        }
    }
    for (referrer, attr) in tx.mv_referencing(mv)? {
        if referrer == mv {
            continue;
        }
        let lineage = tx.mv_lineage(referrer, &attr)?;
        let removed = tx.remove_mv_values(referrer, &attr, &[refs::mv_ref(mv)])?;
        cx.record_refs(referrer, &attr, Vec::new(), removed.removed);
        if let (Some((connector, dn)), Some((rule, owner))) = (kept, lineage)
            && &owner == connector
            && let Some(holder) = tx.counterpart(connector, referrer)?
        {
            remember_unresolved(tx, cx, holder.cs, &attr, dn, &rule)?;
        }
    }
    tx.delete_mv(mv)?;
    cx.dirty.remove(&mv);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expr::{assert_reads_agree, attr_value};
    use crate::engine::model::ImportedObject;
    use crate::engine::store::SqliteStore;

    #[test]
    fn lazy_reads_agree_borrowed_and_owned_and_load_skipped_attributes_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("hybridsync.db"), "test").unwrap();
        let mut tx = store.begin().unwrap();
        let name = |n: &str| AttributeName::new(n).unwrap();
        let member = |n: u32| Value::Ref(format!("CN=User {n},DC=corp,DC=example,DC=com"));
        let group = ImportedObject {
            anchor: Anchor::Bytes(vec![7; 16]),
            dn: Dn::parse("CN=Staff,DC=corp,DC=example,DC=com").unwrap(),
            object_class: "group".into(),
            attributes: [
                (name("cn"), vec![Value::Str("Staff".into())]),
                (name("member"), vec![member(1), member(2), member(3)]),
                (name("managedBy"), vec![member(1)]),
                (
                    name("proxyAddresses"),
                    vec![
                        Value::Str("SMTP:staff@corp.example.com".into()),
                        Value::Str("smtp:all@corp.example.com".into()),
                    ],
                ),
            ]
            .into_iter()
            .collect(),
        };
        let corp = ConnectorName::new("corp.example.com");
        let id = tx.import_object(&corp, &group).unwrap().cs;
        let skipped = [name("member"), name("managedBy"), name("description")];
        let cs = tx.cs_object_without(id, &skipped).unwrap().unwrap();
        assert!(!cs.attributes.contains_key(&name("member")));
        let lazy = Lazy {
            cs: &cs,
            tx: &*tx,
            skipped: &skipped,
        };
        for n in [
            "cn",
            "member",
            "Member",
            "managedBy",
            "proxyAddresses",
            "description",
            "dn",
            "mail",
        ] {
            assert_reads_agree(&lazy, n);
        }
        // The skipped attributes come from the store, whole.
        assert_eq!(
            lazy.attr_values(&name("member")).unwrap().as_ref(),
            [member(1), member(2), member(3)]
        );
        assert_eq!(
            attr_value(&lazy, &name("managedBy")).map(std::borrow::Cow::into_owned),
            Some(member(1))
        );
        assert_eq!(lazy.attr_values(&name("description")), None);
        // The others are lent by the connector-space object.
        assert!(matches!(
            lazy.attr_values(&name("proxyAddresses")),
            Some(std::borrow::Cow::Borrowed(v)) if v.len() == 2
        ));
    }
}
