//! Imports from the tenant with Graph delta queries (sync-engine.md section 10.6): a full import
//! is the initial round of `/users/delta` and `/groups/delta` (with `manager` and `members`),
//! which also yields the delta links; a delta import follows the saved links.
//!
//! Invariants:
//! - An object is handed to the engine whole. In the initial round an object may come in
//!   several pieces across pages (Graph says the same object can appear more than once): the
//!   pieces are merged, and objects are handed over only after the last page. In a delta round
//!   Graph sends only changed properties, so every changed object is read again whole (its
//!   properties, and its manager or all of its members) in `$batch`es.
//! - `@removed` means deleted (soft-deleted or gone for good) to the engine; an object restored
//!   in the cloud comes back as changed.
//! - The watermark (both delta links, JSON) is returned only after every object was handed over;
//!   a delta link Graph no longer accepts (410, `resyncRequired`, a bad token) asks for a full
//!   import.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::client::{CallError, GraphClient, Request};
use super::mapping::{Kind, object_from_json};
use crate::engine::connector::{ConnectorError, ImportSink, ImportSummary, Watermark};
use crate::engine::model::{Anchor, ImportItem};

/// Both delta links.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Links {
    users: String,
    groups: String,
}

/// What one delta round found for a collection.
struct Round {
    /// Objects seen, merged by id (initial round: whole; later: only which ones changed).
    objects: BTreeMap<String, (Value, Vec<String>)>,
    removed: Vec<String>,
    link: String,
}

/// The properties read for each kind: the built-in list plus the directory extensions.
#[derive(Debug, Clone, Default)]
pub struct Selects {
    /// Extension properties of users.
    pub user: Vec<String>,
    /// Extension properties of groups.
    pub group: Vec<String>,
}

impl Selects {
    /// `$select` for `kind`.
    pub fn of(&self, kind: Kind) -> String {
        let extra = match kind {
            Kind::User => &self.user,
            Kind::Group => &self.group,
        };
        let mut s = kind.select().to_string();
        for e in extra {
            s.push(',');
            s.push_str(e);
        }
        s
    }
}

fn start_url(kind: Kind, sel: &Selects) -> String {
    format!(
        "/{}/delta?$select={},{}",
        kind.collection(),
        sel.of(kind),
        kind.reference()
    )
}

fn expired(e: &super::client::Reply) -> bool {
    e.status == 410
        || e.code().eq_ignore_ascii_case("resyncRequired")
        || e.code().eq_ignore_ascii_case("syncStateNotFound")
        || (e.status == 400 && e.message().to_ascii_lowercase().contains("token"))
}

async fn round(
    client: &GraphClient,
    connector: &str,
    kind: Kind,
    first: String,
) -> Result<Round, ConnectorError> {
    let mut objects: BTreeMap<String, (Value, Vec<String>)> = BTreeMap::new();
    let mut removed = Vec::new();
    let mut next = Some(first);
    let ref_key = format!("{}@delta", kind.reference());
    while let Some(url) = next.take() {
        let reply = client
            .call(Request::get(url))
            .await
            .map_err(|e| call(connector, e))?;
        if !reply.ok() {
            if expired(&reply) {
                return Err(ConnectorError::WatermarkExpired {
                    connector: connector.to_string(),
                    detail: reply.describe(),
                });
            }
            return Err(failed(
                connector,
                &format!("{} delta", kind.collection()),
                &reply,
            ));
        }
        for item in reply
            .body
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            if item.get("@removed").is_some() {
                objects.remove(id);
                removed.push(id.to_string());
                continue;
            }
            removed.retain(|r| r != id);
            let entry = objects
                .entry(id.to_string())
                .or_insert_with(|| (Value::Object(Default::default()), Vec::new()));
            if let (Value::Object(into), Value::Object(from)) = (&mut entry.0, item) {
                for (k, v) in from {
                    if k != &ref_key {
                        into.insert(k.clone(), v.clone());
                    }
                }
            }
            for r in item
                .get(&ref_key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(rid) = r.get("id").and_then(Value::as_str) else {
                    continue;
                };
                entry.1.retain(|x| x != rid);
                if r.get("@removed").is_none() {
                    entry.1.push(rid.to_string());
                }
            }
        }
        if let Some(n) = reply.body.get("@odata.nextLink").and_then(Value::as_str) {
            next = Some(n.to_string());
        } else if let Some(d) = reply.body.get("@odata.deltaLink").and_then(Value::as_str) {
            return Ok(Round {
                objects,
                removed,
                link: d.to_string(),
            });
        } else {
            return Err(ConnectorError::Data {
                connector: connector.to_string(),
                detail: format!(
                    "a {} delta page had neither @odata.nextLink nor @odata.deltaLink",
                    kind.collection()
                ),
            });
        }
    }
    Err(ConnectorError::Data {
        connector: connector.to_string(),
        detail: "the delta round ended without a delta link".into(),
    })
}

pub(super) fn call(connector: &str, e: CallError) -> ConnectorError {
    match e {
        CallError::Auth(a) => ConnectorError::Access {
            connector: connector.to_string(),
            detail: a.to_string(),
        },
        CallError::Unreachable { .. } => ConnectorError::Unavailable {
            connector: connector.to_string(),
            detail: e.to_string(),
        },
        CallError::Protocol(_) => ConnectorError::Data {
            connector: connector.to_string(),
            detail: e.to_string(),
        },
    }
}

pub(super) fn failed(connector: &str, what: &str, r: &super::client::Reply) -> ConnectorError {
    let detail = format!("{what}: {}", r.describe());
    match r.status {
        401 | 403 => ConnectorError::Access {
            connector: connector.to_string(),
            detail: format!(
                "{detail} (grant the application the Graph permissions hybridsync needs: User.ReadWrite.All, Group.ReadWrite.All, GroupMember.ReadWrite.All, Directory.Read.All, with admin consent)"
            ),
        },
        0 | 429 | 500.. => ConnectorError::Unavailable {
            connector: connector.to_string(),
            detail,
        },
        _ => ConnectorError::Data {
            connector: connector.to_string(),
            detail,
        },
    }
}

/// The initial round of both collections: every object, and the delta links.
pub(super) async fn full(
    client: &GraphClient,
    connector: &str,
    sel: &Selects,
    sink: &mut dyn ImportSink,
) -> Result<ImportSummary, ConnectorError> {
    let users = round(client, connector, Kind::User, start_url(Kind::User, sel)).await?;
    let groups = round(client, connector, Kind::Group, start_url(Kind::Group, sel)).await?;
    let mut count = 0;
    for (kind, r) in [(Kind::User, &users), (Kind::Group, &groups)] {
        for (value, refs) in r.objects.values() {
            if let Some(o) = object_from_json(kind, value, Some(refs)) {
                sink.item(ImportItem::Object(o))?;
                count += 1;
            }
        }
    }
    Ok(ImportSummary {
        watermark: watermark(&users.link, &groups.link),
        objects: count,
    })
}

fn watermark(users: &str, groups: &str) -> Watermark {
    Watermark(
        serde_json::to_vec(&Links {
            users: users.to_string(),
            groups: groups.to_string(),
        })
        .unwrap_or_default(),
    )
}

/// The changes since `since`: changed objects read again whole, removed ones as deletes.
pub(super) async fn delta(
    client: &GraphClient,
    connector: &str,
    sel: &Selects,
    since: &Watermark,
    sink: &mut dyn ImportSink,
) -> Result<ImportSummary, ConnectorError> {
    let links: Links =
        serde_json::from_slice(&since.0).map_err(|_| ConnectorError::WatermarkExpired {
            connector: connector.to_string(),
            detail: "the saved watermark is not a pair of Graph delta links".into(),
        })?;
    let users = round(client, connector, Kind::User, links.users).await?;
    let groups = round(client, connector, Kind::Group, links.groups).await?;
    let mut count = 0;
    for (kind, r) in [(Kind::User, &users), (Kind::Group, &groups)] {
        let ids: Vec<&String> = r.objects.keys().collect();
        for chunk in ids.chunks(10) {
            for o in reread(client, connector, sel, kind, chunk).await? {
                sink.item(o)?;
                count += 1;
            }
        }
        for id in &r.removed {
            sink.item(ImportItem::Deleted {
                anchor: Anchor::Text(id.clone()),
            })?;
            count += 1;
        }
    }
    Ok(ImportSummary {
        watermark: watermark(&users.link, &groups.link),
        objects: count,
    })
}

/// Reads objects whole: properties and the reference attribute, two requests each in one
/// batch, then any further pages of members. An object gone meanwhile is a delete.
async fn reread(
    client: &GraphClient,
    connector: &str,
    sel: &Selects,
    kind: Kind,
    ids: &[&String],
) -> Result<Vec<ImportItem>, ConnectorError> {
    let mut requests = Vec::with_capacity(ids.len() * 2);
    for id in ids {
        requests.push(Request::get(format!(
            "/{}/{id}?$select={}",
            kind.collection(),
            sel.of(kind)
        )));
        requests.push(Request::get(match kind {
            Kind::User => format!("/users/{id}/manager?$select=id"),
            Kind::Group => format!("/groups/{id}/members?$select=id&$top=999"),
        }));
    }
    let replies = client
        .batch(&requests)
        .await
        .map_err(|e| call(connector, e))?;
    let mut out = Vec::with_capacity(ids.len());
    let mut more: HashMap<usize, String> = HashMap::new();
    let mut refs: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    for (i, id) in ids.iter().enumerate() {
        let (obj, r) = (&replies[2 * i], &replies[2 * i + 1]);
        if obj.status == 404 {
            out.push(Some(ImportItem::Deleted {
                anchor: Anchor::Text((*id).clone()),
            }));
            continue;
        }
        if !obj.ok() {
            return Err(failed(
                connector,
                &format!("reading {} {id}", kind.class()),
                obj,
            ));
        }
        match kind {
            Kind::User => {
                if r.ok() {
                    if let Some(m) = r.body.get("id").and_then(Value::as_str) {
                        refs[i].push(m.to_string());
                    }
                } else if r.status != 404 {
                    return Err(failed(
                        connector,
                        &format!("reading the manager of {id}"),
                        r,
                    ));
                }
            }
            Kind::Group => {
                if !r.ok() {
                    return Err(failed(
                        connector,
                        &format!("reading the members of {id}"),
                        r,
                    ));
                }
                refs[i].extend(ids_of(&r.body));
                if let Some(n) = r.body.get("@odata.nextLink").and_then(Value::as_str) {
                    more.insert(i, n.to_string());
                }
            }
        }
        out.push(None);
    }
    for (i, link) in more {
        let rest = client
            .get_all(Request::get(link))
            .await
            .map_err(|e| call(connector, e))?;
        refs[i].extend(
            rest.iter()
                .filter_map(|v| v.get("id").and_then(Value::as_str))
                .map(str::to_string),
        );
    }
    Ok(out
        .into_iter()
        .enumerate()
        .filter_map(|(i, deleted)| {
            deleted.or_else(|| {
                object_from_json(kind, &replies[2 * i].body, Some(&refs[i])).map(ImportItem::Object)
            })
        })
        .collect())
}

fn ids_of(page: &Value) -> impl Iterator<Item = String> + '_ {
    page.get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("id").and_then(Value::as_str))
        .map(str::to_string)
}
