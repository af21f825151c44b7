//! The outbound half of synchronization: for one target connector, what each changed metaverse
//! object (every object in a full cycle) needs there, stored as pending exports.
//!
//! Invariants: a pending export is always computed against the target's connector space (what
//! the last import confirmed), so recomputing it is idempotent and replacing an older pending
//! export never loses a change; metaverse references become the DNs of the referenced objects'
//! counterparts in the target, and a reference whose object has no counterpart is left out and
//! added, as a single value, when that counterpart is provisioned; membership changes that
//! arrive as value changes leave as incremental changes, never as a rewrite of the whole list;
//! an object never exported is still an add, however often it changes before export.

use std::collections::BTreeMap;

use super::{Cycle, CycleOptions, Dirty, EngineConnector, EngineError, RefDelta};
use crate::domain::{AttributeName, Dn};
use crate::engine::expr::Value;
use crate::engine::hash::FastMap;
use crate::engine::model::{
    AttributeChange, Attributes, ChangeKind, CsObject, MvId, MvObject, Operation, PendingExport,
};
use crate::engine::refs;
use crate::engine::rules::{Direction, FlowKind, MvObjectType, PreviewEnv};
use crate::engine::store::{Counterpart, Store, StoreTx};
use crate::engine::sync::{OutboundPlan, plan_outbound};

/// Plans every changed metaverse object (all of them in a full cycle) for target `t`.
pub(super) fn run(
    store: &mut dyn Store,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    options: &CycleOptions,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), EngineError> {
    let page = options.page_size.max(1);
    cx.counterparts.clear();
    let outcome = pass(store, t, cx, page, stop);
    cx.counterparts.clear();
    outcome
}

/// [`run`]'s work, in pages of `page` objects.
fn pass(
    store: &mut dyn Store,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    page: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), EngineError> {
    if cx.full {
        let mut after: Option<MvId> = None;
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(EngineError::Stopped);
            }
            let mut tx = store.begin()?;
            let ids = tx.mv_ids_page(None, after, page)?;
            let Some(last) = ids.last().copied() else {
                tx.rollback()?;
                break;
            };
            // The page's objects and their counterparts in a few range queries: planning one
            // object never changes another's metaverse attributes or counterpart.
            let objects = tx.mv_page(after, last, &[])?;
            cx.counterparts.prefetch(&*tx, t, &objects)?;
            let mut objects = objects.into_iter().peekable();
            let counterparts = tx.counterparts_between(t.name(), after, last)?;
            // The counterparts' objects too, in one go (what the plans compare against).
            let target_ids: Vec<_> = counterparts.iter().map(|(_, cp)| cp.cs).collect();
            let mut targets: FastMap<_, _> = tx
                .cs_objects(&target_ids)?
                .into_iter()
                .map(|o| (o.id, o))
                .collect();
            let mut counterparts = counterparts.into_iter().peekable();
            after = Some(last);
            let dirty = Dirty {
                full: true,
                ..Dirty::default()
            };
            for mv in ids {
                let object = objects.next_if(|o| o.id <= mv).filter(|o| o.id == mv);
                let counterpart = counterparts
                    .next_if(|(m, _)| *m <= mv)
                    .filter(|(m, _)| *m == mv)
                    .map(|(_, cp)| cp);
                let Some(object) = object else {
                    continue;
                };
                let target = counterpart.as_ref().and_then(|cp| targets.remove(&cp.cs));
                let known = Known {
                    object,
                    counterpart,
                    target,
                };
                one(&mut *tx, t, cx, mv, &dirty, Some(known))?;
            }
            tx.commit()?;
        }
        return Ok(());
    }
    let work: Vec<(MvId, Dirty)> = cx.dirty.iter().map(|(k, v)| (*k, v.clone())).collect();
    for chunk in work.chunks(page) {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(EngineError::Stopped);
        }
        let mut tx = store.begin()?;
        for (mv, dirty) in chunk {
            one(&mut *tx, t, cx, *mv, dirty, None)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// The counterparts in the target of the current [`run`] that were looked up: `None` for an
/// object without one. Within the outbound pass a counterpart only changes when it is
/// provisioned or deprovisioned, and both record it here ([`provision`], [`deprovision`]), so
/// an entry stays true until the pass ends; the pass starts and ends with it empty.
#[derive(Default)]
pub(super) struct Counterparts(FastMap<MvId, Option<Counterpart>>);

impl Counterparts {
    /// The counterpart of `mv` in `t`.
    fn get(
        &mut self,
        tx: &dyn StoreTx,
        t: &EngineConnector,
        mv: MvId,
    ) -> Result<Option<Counterpart>, EngineError> {
        if let Some(known) = self.0.get(&mv) {
            return Ok(known.clone());
        }
        let found = tx.counterpart(t.name(), mv)?;
        self.0.insert(mv, found.clone());
        Ok(found)
    }

    /// Looks up, in one go, the counterparts of the objects that `objects` reference.
    fn prefetch(
        &mut self,
        tx: &dyn StoreTx,
        t: &EngineConnector,
        objects: &[MvObject],
    ) -> Result<(), EngineError> {
        let mut wanted: Vec<MvId> = objects
            .iter()
            .flat_map(|o| o.attributes.values())
            .flat_map(|c| &c.values)
            .filter_map(refs::parse_mv_ref)
            .filter(|m| !self.0.contains_key(m))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(());
        }
        for &m in &wanted {
            self.0.insert(m, None);
        }
        for (m, cp) in tx.counterparts_of(t.name(), &wanted)? {
            self.0.insert(m, Some(cp));
        }
        Ok(())
    }

    fn clear(&mut self) {
        self.0 = FastMap::default();
    }
}

/// A metaverse object read with its page, and its counterpart in the target.
struct Known {
    object: MvObject,
    counterpart: Option<Counterpart>,
    /// The counterpart's connector-space object, whole.
    target: Option<CsObject>,
}

/// Plans one metaverse object for `t`; `known`: the object (all attributes) and its
/// counterpart, already read (a full cycle reads them page by page).
fn one(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    mv: MvId,
    dirty: &Dirty,
    known: Option<Known>,
) -> Result<(), EngineError> {
    let (counterpart, known_object, known_target) = match known {
        Some(k) => (k.counterpart, Some(k.object), k.target),
        None => (cx.counterparts.get(&*tx, t, mv)?, None, None),
    };
    let exported = counterpart.as_ref().is_some_and(|c| c.anchor.is_some());
    if !dirty.full && !dirty.attrs && exported {
        if let Some(cp) = &counterpart {
            let Some(ty) = tx.mv_object_without(mv, &cx.big_mv)?.map(|m| m.object_type) else {
                return Ok(());
            };
            for (attr, delta) in &dirty.refs {
                reference_delta(tx, t, cx, ty, cp, attr, delta)?;
            }
        }
        return Ok(());
    }
    // Planning with large references only when the object is new there or fully re-evaluated.
    let light = !dirty.full && exported;
    let skip: Vec<AttributeName> = if light { cx.big_mv.clone() } else { Vec::new() };
    let object = match known_object {
        Some(o) if !light => o,
        _ => match tx.mv_object_without(mv, &skip)? {
            Some(o) => o,
            None => return Ok(()),
        },
    };
    let existing = match &counterpart {
        Some(_) if !light && known_target.is_some() => known_target,
        Some(cp) => {
            let target_skip = if light {
                big_targets(cx, t, object.object_type)
            } else {
                Vec::new()
            };
            tx.cs_object_without(cp.cs, &target_skip)?
        }
        None => None,
    };
    let plan = {
        let no_groups = |_: &Dn| false;
        let skip_fn = |a: &AttributeName| skip.contains(a);
        let env = PreviewEnv {
            params: &t.params,
            now: cx.now,
            is_member_of: &no_groups,
            skip_direct: light.then_some(&skip_fn as &dyn Fn(&AttributeName) -> bool),
        };
        plan_outbound(
            cx.rules,
            &t.rule_connector(),
            &object,
            existing.as_ref(),
            &env,
        )
    };
    if light && let (Some(cp), Some(cs)) = (&counterpart, &existing) {
        // Exported object, large references not loaded: the plan covers the other attributes;
        // membership arrives as value changes.
        let big_targets = big_targets(cx, t, object.object_type);
        match plan {
            OutboundPlan::Nothing | OutboundPlan::Update { .. } => {
                let changes = match plan {
                    OutboundPlan::Update { changes } => {
                        translate_changes(&*tx, t, &mut cx.counterparts, cs, changes)?
                    }
                    _ => Vec::new(),
                };
                replace_other_changes(tx, t, cp, changes, &big_targets)?;
                for (attr, delta) in &dirty.refs {
                    reference_delta(tx, t, cx, object.object_type, cp, attr, delta)?;
                }
                return Ok(());
            }
            OutboundPlan::Deprovision => {
                deprovision(tx, t, cx, mv, cp)?;
                return Ok(());
            }
            OutboundPlan::Failed { .. } | OutboundPlan::Provision { .. } => {}
        }
    }
    match plan {
        OutboundPlan::Nothing => {
            if let Some(cp) = &counterpart
                && let Some(stored) = tx.pending_export_for(cp.cs)?
                && stored.export.operation != Operation::Delete
                && cp.anchor.is_some()
            {
                tx.remove_pending_export(stored.id)?;
            }
        }
        OutboundPlan::Failed { errors } => {
            for e in errors {
                cx.error(
                    tx,
                    t.name(),
                    counterpart.as_ref().map(|c| &c.dn),
                    None,
                    Some(&e.target),
                    format!(
                        "rule '{}' could not compute {} for {}: {}; nothing is exported for it this cycle",
                        e.rule, e.target, t.name(), e.error
                    ),
                )?;
            }
            cx.report(t.name()).sync.errors += 1;
        }
        OutboundPlan::Provision {
            object_class,
            dn,
            attributes,
            ..
        } => {
            let attributes = translate_all(&*tx, t, &mut cx.counterparts, &attributes)?;
            provision(tx, t, cx, mv, &dn, &object_class, attributes)?;
        }
        OutboundPlan::Update { changes } => {
            let (Some(cp), Some(cs)) = (&counterpart, &existing) else {
                return Ok(());
            };
            let changes = translate_changes(&*tx, t, &mut cx.counterparts, cs, changes)?;
            if cp.anchor.is_none() {
                // Never exported: still one add, with the attributes it should have now.
                let mut attributes = cs.attributes.clone();
                for ch in &changes {
                    apply(&mut attributes, ch);
                }
                put_add(tx, t, cp, &attributes)?;
            } else if changes.is_empty() {
                if let Some(stored) = tx.pending_export_for(cp.cs)?
                    && stored.export.operation != Operation::Delete
                {
                    tx.remove_pending_export(stored.id)?;
                }
            } else {
                tx.put_pending_export(&PendingExport {
                    connector: t.name().clone(),
                    cs: cp.cs,
                    anchor: cp.anchor.clone(),
                    dn: cp.dn.clone(),
                    object_class: cp.object_class.clone(),
                    operation: Operation::Update,
                    changes,
                })?;
            }
        }
        OutboundPlan::Deprovision => {
            if let Some(cp) = &counterpart {
                deprovision(tx, t, cx, mv, cp)?;
            }
        }
    }
    Ok(())
}

/// Direct outbound flows of references for `t` and objects of `ty`: (metaverse attribute,
/// target attribute).
fn out_refs(
    cx: &mut Cycle<'_>,
    t: &EngineConnector,
    ty: MvObjectType,
) -> Vec<(AttributeName, AttributeName)> {
    let key = (t.name().as_str().to_ascii_lowercase(), ty);
    if let Some(v) = cx.out_refs.get(&key) {
        return v.clone();
    }
    let connector = t.rule_connector();
    let mut out = Vec::new();
    for r in cx.rules.enabled().filter(|r| {
        r.direction == Direction::Outbound
            && r.connector.matches(&connector)
            && r.source_object_type.eq_ignore_ascii_case(ty.as_str())
    }) {
        for f in &r.flows {
            if let FlowKind::Direct(source) = &f.kind
                && refs::is_reference(ty, source)
                && !out
                    .iter()
                    .any(|(s, t): &(AttributeName, AttributeName)| s == source && t == &f.target)
            {
                out.push((source.clone(), f.target.clone()));
            }
        }
    }
    cx.out_refs.insert(key, out.clone());
    out
}

/// The target attributes that large metaverse reference attributes (members) flow to.
fn big_targets(cx: &mut Cycle<'_>, t: &EngineConnector, ty: MvObjectType) -> Vec<AttributeName> {
    out_refs(cx, t, ty)
        .into_iter()
        .filter(|(m, _)| cx.big_mv.contains(m))
        .map(|(_, a)| a)
        .collect()
}

/// The target DN of a metaverse reference, if the referenced object has a counterpart in `t`.
fn target_ref(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    known: &mut Counterparts,
    v: &Value,
) -> Result<Option<Value>, EngineError> {
    let Some(m) = refs::parse_mv_ref(v) else {
        return Ok(Some(v.clone()));
    };
    Ok(known.get(tx, t, m)?.map(|cp| Value::Ref(cp.dn.to_string())))
}

fn translate_values(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    known: &mut Counterparts,
    values: &[Value],
) -> Result<Vec<Value>, EngineError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        if let Some(x) = target_ref(tx, t, known, v)? {
            out.push(x);
        }
    }
    Ok(out)
}

fn translate_all(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    known: &mut Counterparts,
    attributes: &Attributes,
) -> Result<Attributes, EngineError> {
    let mut out = Attributes::new();
    for (k, v) in attributes {
        let values = translate_values(tx, t, known, v)?;
        if !values.is_empty() {
            out.insert(k.clone(), values);
        }
    }
    Ok(out)
}

/// A value as a set key: references by parsed DN (case- and escaping-insensitive), others as
/// they are.
#[derive(PartialEq, Eq, Hash)]
enum RefKey {
    Dn(Dn),
    Other(String),
}

fn ref_key(v: &Value) -> RefKey {
    match v {
        Value::Ref(x) => Dn::parse(x).map_or_else(|_| RefKey::Other(x.clone()), RefKey::Dn),
        other => RefKey::Other(format!("{other:?}")),
    }
}

/// Two references name the same object (DNs compare case- and escaping-insensitively).
fn same_ref(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Ref(x), Value::Ref(y)) => match (Dn::parse(x), Dn::parse(y)) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// The values of `new` that `old` lacks and those of `old` that `new` lacks, references compared
/// as DNs. When every reference is spelled alike on both sides (the connector space holds what
/// was exported, so a list that did not change is), no DN is parsed; otherwise each value is
/// parsed once.
fn reference_diff(old: &[Value], new: &[Value]) -> (Vec<Value>, Vec<Value>) {
    fn texts(values: &[Value]) -> Option<std::collections::HashSet<&str>> {
        values
            .iter()
            .map(|v| match v {
                Value::Ref(x) => Some(x.as_str()),
                _ => None,
            })
            .collect()
    }
    if let (Some(o), Some(n)) = (texts(old), texts(new))
        && o.len() == n.len()
        && o.iter().all(|x| n.contains(x))
    {
        return (Vec::new(), Vec::new());
    }
    let old_keys: Vec<RefKey> = old.iter().map(ref_key).collect();
    let new_keys: Vec<RefKey> = new.iter().map(ref_key).collect();
    let old_set: std::collections::HashSet<&RefKey> = old_keys.iter().collect();
    let new_set: std::collections::HashSet<&RefKey> = new_keys.iter().collect();
    let added = new
        .iter()
        .zip(&new_keys)
        .filter(|(_, k)| !old_set.contains(k))
        .map(|(v, _)| v.clone())
        .collect();
    let removed = old
        .iter()
        .zip(&old_keys)
        .filter(|(_, k)| !new_set.contains(k))
        .map(|(v, _)| v.clone())
        .collect();
    (added, removed)
}

/// Outbound changes with metaverse references translated, compared again as DNs, and
/// reference lists turned into incremental changes.
fn translate_changes(
    tx: &dyn StoreTx,
    t: &EngineConnector,
    known: &mut Counterparts,
    cs: &CsObject,
    changes: Vec<AttributeChange>,
) -> Result<Vec<AttributeChange>, EngineError> {
    let mut out = Vec::with_capacity(changes.len());
    for ch in changes {
        let has_refs = ch.new.iter().any(|v| refs::parse_mv_ref(v).is_some())
            || ch.old.iter().any(|v| matches!(v, Value::Ref(_)));
        if !has_refs {
            out.push(ch);
            continue;
        }
        let new = translate_values(tx, t, known, &ch.new)?;
        let old: &[Value] = cs.attributes.get(&ch.attribute).map_or(&[], Vec::as_slice);
        let (added, removed) = reference_diff(old, &new);
        if added.is_empty() && removed.is_empty() {
            continue;
        }
        if old.len() <= 1 && new.len() <= 1 {
            out.push(AttributeChange::replace(ch.attribute, old.to_vec(), new));
        } else {
            out.push(AttributeChange::incremental(ch.attribute, removed, added));
        }
    }
    Ok(out)
}

fn apply(attributes: &mut Attributes, ch: &AttributeChange) {
    match ch.kind {
        ChangeKind::Replace => {
            if ch.new.is_empty() {
                attributes.remove(&ch.attribute);
            } else {
                attributes.insert(ch.attribute.clone(), ch.new.clone());
            }
        }
        ChangeKind::Incremental => {
            let values = attributes.entry(ch.attribute.clone()).or_default();
            let removed: std::collections::HashSet<RefKey> = ch.old.iter().map(ref_key).collect();
            values.retain(|v| !removed.contains(&ref_key(v)));
            let mut present: std::collections::HashSet<RefKey> =
                values.iter().map(ref_key).collect();
            for v in &ch.new {
                if present.insert(ref_key(v)) {
                    values.push(v.clone());
                }
            }
            if values.is_empty() {
                attributes.remove(&ch.attribute);
            }
        }
    }
}

fn put_add(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cp: &Counterpart,
    attributes: &Attributes,
) -> Result<(), EngineError> {
    tx.put_pending_export(&PendingExport {
        connector: t.name().clone(),
        cs: cp.cs,
        anchor: None,
        dn: cp.dn.clone(),
        object_class: cp.object_class.clone(),
        operation: Operation::Add,
        changes: add_changes(attributes),
    })?;
    Ok(())
}

/// The changes of an add: every attribute, from nothing to its values.
fn add_changes(attributes: &Attributes) -> Vec<AttributeChange> {
    attributes
        .iter()
        .map(|(k, v)| AttributeChange::replace(k.clone(), Vec::new(), v.clone()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn provision(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    mv: MvId,
    dn: &Dn,
    object_class: &str,
    attributes: Attributes,
) -> Result<(), EngineError> {
    let changes = add_changes(&attributes);
    // The export object and its pending add, in one store step.
    // Whether an object planned earlier in this pass referenced this one (and left it out).
    let wanted = cx.counterparts.0.contains_key(&mv);
    match tx.provision_export_add(t.name(), mv, dn, object_class, &attributes, &changes) {
        Ok(cs) => {
            cx.counterparts.0.insert(
                mv,
                Some(Counterpart {
                    cs,
                    dn: dn.clone(),
                    object_class: object_class.to_string(),
                    anchor: None,
                }),
            );
        }
        Err(e @ crate::engine::store::StoreError::Conflict { .. }) => {
            cx.error(
                tx,
                t.name(),
                Some(dn),
                None,
                None,
                format!("cannot be provisioned to {}: {e}", t.name()),
            )?;
            cx.report(t.name()).sync.errors += 1;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    // A full cycle plans every object, page by page, and looks up the counterparts of every
    // object its pages reference before planning them ([`Counterparts::prefetch`]): when
    // nothing has asked for this one yet, no object planned so far references it, and each
    // later one finds its counterpart in the cache. Nothing to add then.
    if cx.full && !wanted {
        return Ok(());
    }
    // Objects that reference this one and are already there get it as one added value.
    let target_value = Value::Ref(dn.to_string());
    for (referrer, attr) in tx.mv_referencing(mv)? {
        if referrer == mv {
            continue;
        }
        let Some(rcp) = cx.counterparts.get(&*tx, t, referrer)? else {
            continue;
        };
        let Some(rty) = tx
            .mv_object_without(referrer, &cx.big_mv)?
            .map(|m| m.object_type)
        else {
            continue;
        };
        for (_, target_attr) in out_refs(cx, t, rty).into_iter().filter(|(m, _)| *m == attr) {
            merge(
                tx,
                t,
                &rcp,
                &target_attr,
                &[],
                std::slice::from_ref(&target_value),
            )?;
        }
    }
    Ok(())
}

/// Membership-only change of an exported object: the added and removed references, translated,
/// merged into its pending export.
fn reference_delta(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    ty: MvObjectType,
    cp: &Counterpart,
    attr: &AttributeName,
    delta: &RefDelta,
) -> Result<(), EngineError> {
    let added = translate_values(&*tx, t, &mut cx.counterparts, &delta.added)?;
    let removed = translate_values(&*tx, t, &mut cx.counterparts, &delta.removed)?;
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    for (_, target_attr) in out_refs(cx, t, ty).into_iter().filter(|(m, _)| m == attr) {
        merge(tx, t, cp, &target_attr, &removed, &added)?;
    }
    Ok(())
}

/// Merges single-value removals and additions of one attribute into an object's pending export
/// (creating an update if there is none).
fn merge(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cp: &Counterpart,
    attr: &AttributeName,
    removed: &[Value],
    added: &[Value],
) -> Result<(), EngineError> {
    let incoming = AttributeChange::incremental(attr.clone(), removed.to_vec(), added.to_vec());
    let export = match tx.pending_export_for(cp.cs)? {
        Some(stored) => {
            let mut e = stored.export;
            match e.operation {
                Operation::Delete => return Ok(()),
                Operation::Add => {
                    let mut attributes: Attributes = BTreeMap::new();
                    for ch in &e.changes {
                        attributes.insert(ch.attribute.clone(), ch.new.clone());
                    }
                    apply(&mut attributes, &incoming);
                    e.changes = attributes
                        .into_iter()
                        .map(|(k, v)| AttributeChange::replace(k, Vec::new(), v))
                        .collect();
                }
                Operation::Update | Operation::Rename => {
                    match e.changes.iter_mut().find(|c| &c.attribute == attr) {
                        Some(ch) if ch.kind == ChangeKind::Replace => {
                            let mut a = Attributes::new();
                            a.insert(attr.clone(), ch.new.clone());
                            apply(&mut a, &incoming);
                            ch.new = a.remove(attr).unwrap_or_default();
                        }
                        Some(ch) => {
                            for v in removed {
                                ch.new.retain(|x| !same_ref(x, v));
                                if !ch.old.iter().any(|x| same_ref(x, v)) {
                                    ch.old.push(v.clone());
                                }
                            }
                            for v in added {
                                ch.old.retain(|x| !same_ref(x, v));
                                if !ch.new.iter().any(|x| same_ref(x, v)) {
                                    ch.new.push(v.clone());
                                }
                            }
                        }
                        None => e.changes.push(incoming),
                    }
                    e.changes.retain(|c| !c.is_noop());
                    if e.changes.is_empty() {
                        tx.remove_pending_export(stored.id)?;
                        return Ok(());
                    }
                }
            }
            e
        }
        None => PendingExport {
            connector: t.name().clone(),
            cs: cp.cs,
            anchor: cp.anchor.clone(),
            dn: cp.dn.clone(),
            object_class: cp.object_class.clone(),
            operation: Operation::Update,
            changes: vec![incoming],
        },
    };
    tx.put_pending_export(&export)?;
    Ok(())
}

/// Replaces the changes of an exported object's pending export except those of `keep`
/// attributes (membership changes collected earlier) with `changes`.
fn replace_other_changes(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cp: &Counterpart,
    changes: Vec<AttributeChange>,
    keep: &[AttributeName],
) -> Result<(), EngineError> {
    let stored = tx.pending_export_for(cp.cs)?;
    let mut all: Vec<AttributeChange> = match &stored {
        Some(s) if s.export.operation == Operation::Delete => return Ok(()),
        Some(s) => s
            .export
            .changes
            .iter()
            .filter(|c| keep.contains(&c.attribute))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    all.extend(changes);
    match (all.is_empty(), stored) {
        (true, Some(s)) => {
            tx.remove_pending_export(s.id)?;
        }
        (true, None) => {}
        (false, _) => {
            tx.put_pending_export(&PendingExport {
                connector: t.name().clone(),
                cs: cp.cs,
                anchor: cp.anchor.clone(),
                dn: cp.dn.clone(),
                object_class: cp.object_class.clone(),
                operation: Operation::Update,
                changes: all,
            })?;
        }
    }
    Ok(())
}

fn deprovision(
    tx: &mut dyn StoreTx,
    t: &EngineConnector,
    cx: &mut Cycle<'_>,
    mv: MvId,
    cp: &Counterpart,
) -> Result<(), EngineError> {
    // Either way `mv` has no counterpart in `t` any more.
    cx.counterparts.0.insert(mv, None);
    match &cp.anchor {
        Some(anchor) => {
            tx.put_pending_export(&PendingExport {
                connector: t.name().clone(),
                cs: cp.cs,
                anchor: Some(anchor.clone()),
                dn: cp.dn.clone(),
                object_class: cp.object_class.clone(),
                operation: Operation::Delete,
                changes: Vec::new(),
            })?;
            tx.unlink(cp.cs)?;
        }
        None => {
            tx.delete_cs_object(cp.cs)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(dn: &str) -> Value {
        Value::Ref(dn.to_string())
    }

    #[test]
    fn reference_lists_differ_by_dn_not_by_spelling() {
        let old = vec![r("CN=Ann,OU=Staff,DC=x"), r("CN=Bob,OU=Staff,DC=x")];
        // The same list, the same spelling, any order: nothing changes.
        let same = vec![old[1].clone(), old[0].clone()];
        assert_eq!(reference_diff(&old, &same), (vec![], vec![]));
        // Spelled otherwise (case, spaces after commas): still the same objects.
        let respelled = vec![r("cn=ann, ou=staff, dc=x"), r("CN=BOB,OU=Staff,DC=X")];
        assert_eq!(reference_diff(&old, &respelled), (vec![], vec![]));
        // One member swapped for another, the other respelled: only the swap shows.
        let swapped = vec![r("cn=ann,ou=staff,dc=x"), r("CN=Cy,OU=Staff,DC=x")];
        assert_eq!(
            reference_diff(&old, &swapped),
            (
                vec![r("CN=Cy,OU=Staff,DC=x")],
                vec![r("CN=Bob,OU=Staff,DC=x")]
            )
        );
        // From and to nothing; values that are not references compare as they are.
        assert_eq!(reference_diff(&[], &old), (old.clone(), vec![]));
        assert_eq!(reference_diff(&old, &[]), (vec![], old.clone()));
        let text = vec![Value::Str("CN=Ann,OU=Staff,DC=x".into())];
        assert_eq!(
            reference_diff(&old[..1], &text),
            (text.clone(), old[..1].to_vec())
        );
    }
}
