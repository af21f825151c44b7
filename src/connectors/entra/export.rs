//! Export to the tenant: creates with hard and soft match, restores, updates, soft deletes,
//! managers and memberships, in `$batch`es (sync-engine.md sections 3.2, 10.2, 10.3).
//!
//! A batch of pending exports goes through stages, each one `$batch` round (or a few):
//! 1. lookups for every add, 15 values per request (`in`): a user by `onPremisesImmutableId`
//!    among live users (hard match), then among deleted users (restore), then, with soft match
//!    on, by `userPrincipalName`, and for those still unmatched by primary SMTP address (one per
//!    request); a group by `mailNickname` and `displayName`;
//! 2. restores of soft-deleted matches;
//! 3. the main writes: POST (create), PATCH (takeover, update), DELETE (soft delete);
//! 4. follow-ups that need the object's id: manager, members added (20 per PATCH with
//!    `members@odata.bind`) and removed.
//!
//! Invariants:
//! - A create is never repeated blindly: when it got no answer or a 5xx, the object is looked up
//!   by its anchor (users: `onPremisesImmutableId`; groups: `mailNickname` + `displayName`)
//!   before it is created again, so a timeout or a crash never makes a duplicate.
//! - A soft match never takes over a user whose `onPremisesImmutableId` is set to another value;
//!   that, and a duplicate `userPrincipalName`, is a per-object error naming both objects; the
//!   other objects of the batch go on.
//! - A delete of an object that is already gone is done; adding a member that is already there
//!   and removing one that is not are done (exports are sent again after a crash).
//! - Each object gets exactly one result. An add whose object exists reports its id even when a
//!   follow-up failed (the next confirming import shows what is missing, and the engine sends it
//!   again); an update with a failed follow-up fails as a whole and is sent again.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::client::{GraphClient, Reply, Request};
use super::mapping::{Kind, Writes, filter_literal, random_password, ref_id_or_text, writes};
use crate::engine::connector::ConnectorError;
use crate::engine::model::{Anchor, ExportOutcome, ExportResult, Operation, PendingExport};

/// Export settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportPolicy {
    /// Soft match new users by userPrincipalName and primary SMTP address.
    pub soft_match: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Action {
    Create,
    Takeover { restore: bool },
    Update,
    Delete,
}

struct Job<'a> {
    e: &'a PendingExport,
    kind: Kind,
    w: Writes,
    id: Option<String>,
    action: Action,
    outcome: Option<ExportOutcome>,
    /// Follow-up problems (unresolved references, refused member adds).
    problems: Vec<String>,
}

impl Job<'_> {
    fn fail(&mut self, error: impl Into<String>, retryable: bool) {
        if self.outcome.is_none() {
            self.outcome = Some(ExportOutcome::Failed {
                error: error.into(),
                retryable,
            });
        }
    }

    fn done(&self) -> bool {
        self.outcome.is_some()
    }

    fn text(&self, key: &str) -> Option<String> {
        self.w
            .body
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// How the admin recognises the object: UPN or display name.
    fn label(&self) -> String {
        let name = self.text("displayName").unwrap_or_default();
        match (self.kind, self.text("userPrincipalName")) {
            (Kind::User, Some(upn)) if !name.is_empty() => format!("user '{upn}' ({name})"),
            (Kind::User, Some(upn)) => format!("user '{upn}'"),
            (k, _) if !name.is_empty() => format!("{} '{name}'", k.class()),
            (k, _) => format!("{} {}", k.class(), self.e.dn),
        }
    }
}

fn retryable(r: &Reply) -> bool {
    r.status == 0 || r.status == 429 || r.status >= 500
}

fn first_value(r: &Reply) -> Option<&Value> {
    r.body.get("value").and_then(Value::as_array)?.first()
}

/// Sends one batch of pending exports; one result per export.
pub(super) async fn export(
    client: &GraphClient,
    policy: ExportPolicy,
    not_synced: &std::sync::Mutex<HashSet<String>>,
    batch: &[PendingExport],
) -> Result<Vec<ExportResult>, ConnectorError> {
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(batch.len());
    for e in batch {
        let kind = Kind::of_class(&e.object_class);
        let w = kind.map(|k| writes(k, &e.changes)).unwrap_or_default();
        for a in &w.not_writable {
            let key = format!("{}.{}", e.object_class, a.as_str()).to_ascii_lowercase();
            let mut seen = not_synced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if seen.insert(key) {
                tracing::warn!(
                    class = %e.object_class,
                    attribute = %a,
                    "Microsoft Graph cannot write this attribute; it is not synced (reported once)"
                );
            }
        }
        let id = match &e.anchor {
            Some(Anchor::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let action = match e.operation {
            Operation::Add => Action::Create,
            Operation::Update | Operation::Rename => Action::Update,
            Operation::Delete => Action::Delete,
        };
        let mut job = Job {
            e,
            kind: kind.unwrap_or(Kind::User),
            w,
            id,
            action,
            outcome: None,
            problems: Vec::new(),
        };
        if kind.is_none() {
            job.fail(
                format!(
                    "the Microsoft Graph connector writes users and groups only, not '{}'",
                    e.object_class
                ),
                false,
            );
        } else if job.action != Action::Create && job.id.is_none() {
            job.fail("it has no object id in Entra ID yet", true);
        }
        jobs.push(job);
    }
    lookups(client, policy, &mut jobs).await?;
    restores(client, &mut jobs).await?;
    for _ in 0..3 {
        main_writes(client, &mut jobs).await?;
        if !recheck_creates(client, &mut jobs).await? {
            break;
        }
    }
    follow_ups(client, &mut jobs).await?;
    Ok(jobs
        .into_iter()
        .map(|mut j| {
            let outcome = match j.outcome.take() {
                Some(o) => o,
                None => match (&j.id, j.problems.is_empty(), &j.action) {
                    (Some(id), true, _) => ExportOutcome::Exported {
                        anchor: Anchor::Text(id.clone()),
                    },
                    (Some(id), false, Action::Create | Action::Takeover { .. }) => {
                        tracing::warn!(
                            object = %j.label(),
                            "created in Entra ID, but: {}; the next cycle sends it again",
                            j.problems.join("; ")
                        );
                        ExportOutcome::Exported {
                            anchor: Anchor::Text(id.clone()),
                        }
                    }
                    (_, _, _) => ExportOutcome::Failed {
                        error: j.problems.join("; "),
                        retryable: true,
                    },
                },
            };
            ExportResult {
                cs: j.e.cs,
                outcome,
            }
        })
        .collect())
}

fn user_lookup(filter: String, eventual: bool) -> Request {
    let r = Request::get(format!(
        "/users?$filter={filter}&$select=id,userPrincipalName,displayName,onPremisesImmutableId"
    ));
    if eventual { r.eventual() } else { r }
}

/// Graph takes at most 15 values in one `in (...)` filter clause.
const IN_LIMIT: usize = 15;

/// What a lookup looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// Live users by onPremisesImmutableId (hard match).
    Hard,
    /// Deleted users by onPremisesImmutableId (restore).
    Deleted,
    /// Users by userPrincipalName (soft match).
    Upn,
    /// Groups by mailNickname.
    Group,
}

impl Probe {
    fn key(self) -> &'static str {
        match self {
            Probe::Hard | Probe::Deleted => "onPremisesImmutableId",
            Probe::Upn => "userPrincipalName",
            Probe::Group => "mailNickname",
        }
    }

    /// Whether values compare exactly (the immutable id is case-sensitive).
    fn exact(self) -> bool {
        matches!(self, Probe::Hard | Probe::Deleted)
    }

    fn request(self, values: &[String]) -> Request {
        let list: Vec<String> = values
            .iter()
            .map(|v| format!("'{}'", filter_literal(v)))
            .collect();
        let filter = format!("{}%20in%20({})", self.key(), list.join(","));
        let select = "id,userPrincipalName,displayName,onPremisesImmutableId,mailNickname";
        Request::get(match self {
            Probe::Hard | Probe::Upn => {
                format!("/users?$filter={filter}&$select={select}&$top=999")
            }
            Probe::Deleted => format!(
                "/directory/deletedItems/microsoft.graph.user?$filter={filter}&$select={select}&$top=999"
            ),
            Probe::Group => {
                format!("/groups?$filter={filter}&$select=id,displayName,mailNickname&$top=999")
            }
        })
    }
}

/// Stage 1: decides create, takeover or restore for every add. Lookups go 15 values per
/// request (`in`), so an initial load of thousands of users costs a few hundred reads; the
/// primary-SMTP soft match, which Graph can only ask one address at a time, runs for the users
/// nothing else matched.
async fn lookups(
    client: &GraphClient,
    policy: ExportPolicy,
    jobs: &mut [Job<'_>],
) -> Result<(), ConnectorError> {
    let adds: Vec<usize> = (0..jobs.len())
        .filter(|i| !jobs[*i].done() && jobs[*i].action == Action::Create)
        .collect();
    let mut probes: Vec<(Probe, Vec<String>)> = Vec::new();
    let mut wanted = |probe: Probe, value: Option<String>| {
        if let Some(v) = value {
            match probes
                .iter_mut()
                .find(|(p, vs)| *p == probe && vs.len() < IN_LIMIT)
            {
                Some((_, vs)) => {
                    if !vs.contains(&v) {
                        vs.push(v);
                    }
                }
                None => probes.push((probe, vec![v])),
            }
        }
    };
    for &i in &adds {
        let j = &jobs[i];
        match j.kind {
            Kind::User => {
                let imm = j.text("onPremisesImmutableId");
                wanted(Probe::Hard, imm.clone());
                wanted(Probe::Deleted, imm);
                if policy.soft_match {
                    wanted(Probe::Upn, j.text("userPrincipalName"));
                }
            }
            Kind::Group => wanted(Probe::Group, j.text("mailNickname")),
        }
    }
    if probes.is_empty() {
        return Ok(());
    }
    let requests: Vec<Request> = probes.iter().map(|(p, vs)| p.request(vs)).collect();
    let replies = send(client, &requests).await?;
    // Found objects per probe; a failed lookup fails the adds that needed it.
    let mut found: Vec<(Probe, Vec<Value>)> = Vec::new();
    let mut failed: Vec<(Probe, Vec<String>, String, bool)> = Vec::new();
    for ((p, vs), r) in probes.iter().zip(&replies) {
        if r.ok() {
            let items = r
                .body
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            found.push((*p, items));
        } else {
            failed.push((*p, vs.clone(), r.describe(), retryable(r)));
        }
    }
    let lookup = |probe: Probe, value: &str| -> Vec<Value> {
        found
            .iter()
            .filter(|(p, _)| *p == probe)
            .flat_map(|(_, items)| items.iter())
            .filter(|o| {
                o.get(probe.key()).and_then(Value::as_str).is_some_and(|v| {
                    if probe.exact() {
                        v == value
                    } else {
                        v.eq_ignore_ascii_case(value)
                    }
                })
            })
            .cloned()
            .collect()
    };
    let mut smtp: Vec<usize> = Vec::new();
    for &i in &adds {
        let j = &mut jobs[i];
        let needs = |probe: Probe, value: &Option<String>| {
            value.as_ref().and_then(|v| {
                failed
                    .iter()
                    .find(|(p, vs, _, _)| *p == probe && vs.contains(v))
            })
        };
        let imm = j.text("onPremisesImmutableId");
        let upn = j.text("userPrincipalName");
        let nick = j.text("mailNickname");
        let failure = match j.kind {
            Kind::User => needs(Probe::Hard, &imm)
                .or_else(|| needs(Probe::Deleted, &imm))
                .or_else(|| needs(Probe::Upn, &upn).filter(|_| policy.soft_match)),
            Kind::Group => needs(Probe::Group, &nick),
        };
        if let Some((_, _, why, again)) = failure {
            j.fail(format!("looking it up in Entra ID failed: {why}"), *again);
            continue;
        }
        match j.kind {
            Kind::User => {
                let first_id = |objs: Vec<Value>| {
                    objs.first()
                        .and_then(|u| u.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                if let Some(id) = imm
                    .as_deref()
                    .and_then(|v| first_id(lookup(Probe::Hard, v)))
                {
                    j.id = Some(id);
                    j.action = Action::Takeover { restore: false };
                } else if let Some(id) = imm
                    .as_deref()
                    .and_then(|v| first_id(lookup(Probe::Deleted, v)))
                {
                    j.id = Some(id);
                    j.action = Action::Takeover { restore: true };
                } else if let Some(u) = upn
                    .as_deref()
                    .filter(|_| policy.soft_match)
                    .and_then(|v| lookup(Probe::Upn, v).into_iter().next())
                {
                    soft_match(j, &u, "userPrincipalName");
                } else if policy.soft_match && j.text("mail").is_some() {
                    smtp.push(i);
                }
            }
            Kind::Group => {
                let name = j.text("displayName").unwrap_or_default();
                let twin = nick.as_deref().and_then(|v| {
                    lookup(Probe::Group, v).into_iter().find(|g| {
                        g.get("displayName")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.eq_ignore_ascii_case(&name))
                    })
                });
                if let Some(g) = twin {
                    j.id = g.get("id").and_then(Value::as_str).map(str::to_string);
                    j.action = Action::Takeover { restore: false };
                }
            }
        }
    }
    if smtp.is_empty() {
        return Ok(());
    }
    let requests: Vec<Request> = smtp
        .iter()
        .map(|i| {
            let mail = jobs[*i].text("mail").unwrap_or_default();
            user_lookup(
                format!(
                    "proxyAddresses/any(p:p%20eq%20'{}')",
                    filter_literal(&format!("SMTP:{mail}"))
                ),
                true,
            )
        })
        .collect();
    let replies = send(client, &requests).await?;
    for (i, r) in smtp.into_iter().zip(replies) {
        let j = &mut jobs[i];
        if !r.ok() {
            j.fail(
                format!("looking it up in Entra ID failed: {}", r.describe()),
                retryable(&r),
            );
        } else if let Some(u) = first_value(&r).cloned() {
            soft_match(j, &u, "primary SMTP address");
        }
    }
    Ok(())
}

/// Takes over the cloud user `u` that a soft match found, unless it belongs to another
/// on-premises object.
fn soft_match(j: &mut Job<'_>, u: &Value, by: &str) {
    let mine = j.text("onPremisesImmutableId");
    let theirs = u.get("onPremisesImmutableId").and_then(Value::as_str);
    match theirs {
        Some(t) if Some(t) != mine.as_deref() => {
            let msg = format!(
                "{} matches cloud user '{}' (id {}) by {by}, but that user already belongs to another on-premises object (onPremisesImmutableId '{t}'); resolve the duplicate in AD or in Entra ID",
                j.label(),
                u.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                u.get("id").and_then(Value::as_str).unwrap_or_default(),
            );
            j.fail(msg, false);
        }
        _ => {
            j.id = u.get("id").and_then(Value::as_str).map(str::to_string);
            j.action = Action::Takeover { restore: false };
            tracing::info!(
                object = %j.label(),
                cloud_id = j.id.as_deref().unwrap_or_default(),
                by,
                "soft match: an existing cloud user is taken over"
            );
        }
    }
}

fn group_lookup(nick: &str) -> Request {
    Request::get(format!(
        "/groups?$filter=mailNickname%20eq%20'{}'&$select=id,displayName,mailNickname",
        filter_literal(nick)
    ))
}

/// Stage 2: restores soft-deleted users that hard-matched.
async fn restores(client: &GraphClient, jobs: &mut [Job<'_>]) -> Result<(), ConnectorError> {
    let picked: Vec<usize> = (0..jobs.len())
        .filter(|i| !jobs[*i].done() && jobs[*i].action == Action::Takeover { restore: true })
        .collect();
    let requests: Vec<Request> = picked
        .iter()
        .map(|i| {
            Request::write(
                "POST",
                format!(
                    "/directory/deletedItems/{}/restore",
                    jobs[*i].id.as_deref().unwrap_or_default()
                ),
                None,
            )
        })
        .collect();
    if requests.is_empty() {
        return Ok(());
    }
    let replies = send(client, &requests).await?;
    for (i, r) in picked.into_iter().zip(replies) {
        let j = &mut jobs[i];
        if r.ok() {
            tracing::info!(object = %j.label(), "restored from deleted users (it came back in scope)");
            j.action = Action::Takeover { restore: false };
        } else {
            j.fail(
                format!("restoring the deleted user failed: {}", r.describe()),
                retryable(&r),
            );
        }
    }
    Ok(())
}

fn create_body(j: &Job<'_>) -> Value {
    let mut body: Map<String, Value> = j.w.body.clone();
    if j.kind == Kind::User {
        body.entry("accountEnabled").or_insert(Value::Bool(true));
        body.insert(
            "passwordProfile".into(),
            json!({"password": random_password(), "forceChangePasswordNextSignIn": false}),
        );
    } else {
        body.entry("securityEnabled").or_insert(Value::Bool(true));
        body.entry("mailEnabled").or_insert(Value::Bool(false));
    }
    Value::Object(body)
}

/// Stage 3: creates, PATCHes and DELETEs. Creates without a clear answer are marked for a
/// re-check (`id` stays `None`, no outcome).
async fn main_writes(client: &GraphClient, jobs: &mut [Job<'_>]) -> Result<(), ConnectorError> {
    let mut picked = Vec::new();
    let mut requests = Vec::new();
    for (i, j) in jobs.iter_mut().enumerate() {
        if j.done() {
            continue;
        }
        let coll = j.kind.collection();
        let req = match (&j.action, &j.id) {
            (Action::Create, None) => Request::create(format!("/{coll}"), create_body(j)),
            (Action::Create, Some(_)) => continue,
            (Action::Takeover { .. } | Action::Update, Some(id)) => {
                let mut body = j.w.body.clone();
                if matches!(j.action, Action::Takeover { .. }) {
                    body.remove("passwordProfile");
                }
                if body.is_empty() {
                    continue;
                }
                Request::write("PATCH", format!("/{coll}/{id}"), Some(Value::Object(body)))
            }
            (Action::Delete, Some(id)) => Request::write("DELETE", format!("/{coll}/{id}"), None),
            (_, None) => {
                j.fail("it has no object id in Entra ID", true);
                continue;
            }
        };
        picked.push(i);
        requests.push(req);
    }
    if requests.is_empty() {
        return Ok(());
    }
    let replies = send(client, &requests).await?;
    let mut conflicts = Vec::new();
    for (i, r) in picked.into_iter().zip(replies) {
        let j = &mut jobs[i];
        match (&j.action, r.status) {
            (Action::Create, 200..=299) => {
                j.id = r.body.get("id").and_then(Value::as_str).map(str::to_string);
                if j.id.is_none() {
                    j.fail("Entra ID created it but did not say its id", true);
                }
            }
            (Action::Create, _) if r.ambiguous() => {
                tracing::warn!(object = %j.label(), "a create got no clear answer ({}); checking whether it was made before trying again", r.describe());
                j.problems.push(format!("create: {}", r.describe()));
            }
            (Action::Create, 400 | 409)
                if r.detail_codes().contains(&"ObjectConflict")
                    || r.message().contains("already exists") =>
            {
                conflicts.push((i, r));
            }
            (Action::Delete, 200..=299 | 404) => {}
            (_, 200..=299) => {}
            (Action::Update | Action::Takeover { .. }, 404) => j.fail(
                format!(
                    "{} no longer exists in Entra ID (deleted in the cloud?); the next full import notices it and it is created again",
                    j.label()
                ),
                false,
            ),
            (a, _) => {
                let what = match a {
                    Action::Create => "creating",
                    Action::Delete => "deleting",
                    _ => "updating",
                };
                j.fail(
                    format!("{what} {} failed: {}", j.label(), r.describe()),
                    retryable(&r),
                );
            }
        }
    }
    name_conflicts(client, jobs, conflicts).await
}

/// Fails each conflicting create with a message naming the object that holds the value.
async fn name_conflicts(
    client: &GraphClient,
    jobs: &mut [Job<'_>],
    conflicts: Vec<(usize, Reply)>,
) -> Result<(), ConnectorError> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let requests: Vec<Request> = conflicts
        .iter()
        .map(|(i, _)| {
            let j = &jobs[*i];
            match (j.kind, j.text("userPrincipalName")) {
                (Kind::User, Some(upn)) => user_lookup(
                    format!("userPrincipalName%20eq%20'{}'", filter_literal(&upn)),
                    false,
                ),
                _ => group_lookup(&j.text("mailNickname").unwrap_or_default()),
            }
        })
        .collect();
    let replies = send(client, &requests).await?;
    for ((i, original), r) in conflicts.into_iter().zip(replies) {
        let j = &mut jobs[i];
        let holder = first_value(&r).map(|o| {
            format!(
                "'{}' (id {})",
                o.get("userPrincipalName")
                    .or_else(|| o.get("displayName"))
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                o.get("id").and_then(Value::as_str).unwrap_or_default()
            )
        });
        let target = original
            .body
            .pointer("/error/details/0/target")
            .and_then(Value::as_str)
            .unwrap_or("a unique property");
        let msg = match holder {
            Some(h) => format!(
                "{} collides with the existing Entra ID object {h} on {target} ({}); change the value in AD or remove the duplicate in Entra ID",
                j.label(),
                original.message()
            ),
            None => format!(
                "{} collides with an existing Entra ID object on {target}: {}",
                j.label(),
                original.message()
            ),
        };
        j.fail(msg, false);
    }
    Ok(())
}

/// After creates without an answer: looks each object up by its anchor; found = created.
/// Returns whether some must be created again.
async fn recheck_creates(
    client: &GraphClient,
    jobs: &mut [Job<'_>],
) -> Result<bool, ConnectorError> {
    let picked: Vec<usize> = (0..jobs.len())
        .filter(|i| {
            let j = &jobs[*i];
            !j.done() && j.action == Action::Create && j.id.is_none() && !j.problems.is_empty()
        })
        .collect();
    if picked.is_empty() {
        return Ok(false);
    }
    let requests: Vec<Request> = picked
        .iter()
        .map(|i| {
            let j = &jobs[*i];
            match j.kind {
                Kind::User => user_lookup(
                    format!(
                        "onPremisesImmutableId%20eq%20'{}'",
                        filter_literal(&j.text("onPremisesImmutableId").unwrap_or_default())
                    ),
                    false,
                ),
                Kind::Group => group_lookup(&j.text("mailNickname").unwrap_or_default()),
            }
        })
        .collect();
    let replies = send(client, &requests).await?;
    for (i, r) in picked.iter().zip(replies) {
        let j = &mut jobs[*i];
        let name = j.text("displayName").unwrap_or_default();
        let hit = r.body.get("value").and_then(Value::as_array).and_then(|v| {
            v.iter()
                .find(|o| {
                    j.kind == Kind::User
                        || o.get("displayName")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.eq_ignore_ascii_case(&name))
                })
                .cloned()
        });
        if !r.ok() {
            j.fail(
                format!(
                    "a create got no answer and checking for it failed: {}",
                    r.describe()
                ),
                true,
            );
        } else if let Some(o) = hit {
            j.id = o.get("id").and_then(Value::as_str).map(str::to_string);
            j.problems.clear();
        } else {
            j.problems.clear();
        }
    }
    Ok(picked
        .iter()
        .any(|i| !jobs[*i].done() && jobs[*i].id.is_none()))
}

/// Stage 4: manager and members.
async fn follow_ups(client: &GraphClient, jobs: &mut [Job<'_>]) -> Result<(), ConnectorError> {
    let base = client.base().to_string();
    let bind = |id: &str| format!("{base}/directoryObjects/{id}");
    let mut picked: Vec<(usize, &'static str)> = Vec::new();
    let mut requests = Vec::new();
    for (i, j) in jobs.iter_mut().enumerate() {
        if j.done() || j.action == Action::Delete {
            continue;
        }
        let Some(id) = j.id.clone() else {
            if j.action == Action::Create && !j.problems.is_empty() {
                let p = j.problems.join("; ");
                j.fail(format!("creating {} got no answer: {p}", j.label()), true);
            }
            continue;
        };
        if let Some(m) = j.w.manager.take() {
            match m.as_ref().map(ref_id_or_text) {
                None => {
                    picked.push((i, "manager-"));
                    requests.push(Request::write(
                        "DELETE",
                        format!("/users/{id}/manager/$ref"),
                        None,
                    ));
                }
                Some(Ok(mid)) => {
                    picked.push((i, "manager"));
                    requests.push(Request::write(
                        "PUT",
                        format!("/users/{id}/manager/$ref"),
                        Some(json!({"@odata.id": bind(&mid)})),
                    ));
                }
                Some(Err(text)) => j
                    .problems
                    .push(format!("its manager {text} is not in Entra ID yet")),
            }
        }
        let adds = std::mem::take(&mut j.w.add_members);
        let mut ids = Vec::new();
        for v in &adds {
            match ref_id_or_text(v) {
                Ok(m) => ids.push(m),
                Err(text) => j
                    .problems
                    .push(format!("member {text} is not in Entra ID yet")),
            }
        }
        for chunk in ids.chunks(20) {
            picked.push((i, "members"));
            let binds: Vec<Value> = chunk.iter().map(|m| Value::String(bind(m))).collect();
            requests.push(Request::write(
                "PATCH",
                format!("/groups/{id}"),
                Some(json!({"members@odata.bind": binds})),
            ));
        }
        for v in std::mem::take(&mut j.w.remove_members) {
            // A member that never reached Entra ID is not there to remove.
            if let Ok(m) = ref_id_or_text(&v) {
                picked.push((i, "member-"));
                requests.push(Request::write(
                    "DELETE",
                    format!("/groups/{id}/members/{m}/$ref"),
                    None,
                ));
            }
        }
    }
    if requests.is_empty() {
        return Ok(());
    }
    let replies = send(client, &requests).await?;
    // Bulk member adds refused because one member is already there: add them one by one.
    let mut singles: Vec<(usize, Request)> = Vec::new();
    for ((i, what), (req, r)) in picked.iter().zip(requests.iter().zip(&replies)) {
        let j = &mut jobs[*i];
        match (*what, r.status) {
            (_, 200..=299) | ("manager-" | "member-", 404) => {}
            ("members", 400) if already_there(r) => {
                let group = j.id.clone().unwrap_or_default();
                for b in req
                    .body
                    .as_ref()
                    .and_then(|b| b.get("members@odata.bind"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    singles.push((
                        *i,
                        Request::write(
                            "POST",
                            format!("/groups/{group}/members/$ref"),
                            Some(json!({"@odata.id": b})),
                        ),
                    ));
                }
            }
            (w, _) => j.problems.push(format!(
                "{} failed: {}",
                match w {
                    "manager" => "setting the manager",
                    "manager-" => "removing the manager",
                    "members" => "adding members",
                    _ => "removing a member",
                },
                r.describe()
            )),
        }
    }
    if !singles.is_empty() {
        let reqs: Vec<Request> = singles.iter().map(|(_, r)| r.clone()).collect();
        let replies = send(client, &reqs).await?;
        for ((i, _), r) in singles.iter().zip(replies) {
            if !r.ok() && !already_there(&r) {
                jobs[*i]
                    .problems
                    .push(format!("adding a member failed: {}", r.describe()));
            }
        }
    }
    Ok(())
}

fn already_there(r: &Reply) -> bool {
    r.status == 400 && r.message().contains("already exist")
}

/// One round of requests in `$batch`es; a failure of the whole round is the connector's.
async fn send(client: &GraphClient, requests: &[Request]) -> Result<Vec<Reply>, ConnectorError> {
    client
        .batch(requests)
        .await
        .map_err(|e| super::import::call("entra", e))
}
