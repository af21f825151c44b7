//! Imports: the full import (a paged subtree search of each naming context) and the delta
//! import (the DirSync control, or USN polling when the account lacks the "Replicating
//! Directory Changes" right), delivering whole objects typed by the schema, and, for a
//! membership change, only the changed values.
//!
//! Invariants:
//! - The engine compares *whole* objects (an attribute missing from an imported object is
//!   removed from its connector-space copy), but DirSync returns only the changed attributes,
//!   and with `LDAP_DIRSYNC_INCREMENTAL_VALUES` only the added and removed values of linked
//!   attributes. An entry that carries nothing but such values (besides the objectGUID and
//!   instanceType every entry has; Samba sends `member;range=1-1: <dn>` for each added and
//!   `member;range=0-0: <dn>` for each removed member, checked against a real DC in
//!   `tests/ad_connector.rs`) is handed over as [`ImportItem::ValueChanges`]: one member more or
//!   less in a 50,000-member group costs two values, not 50,000. Every other changed entry (a new
//!   object, a rename or move, a change of an ordinary attribute alone or together with linked
//!   values, a removed link that names a deleted object's tombstone DN, which no stored value
//!   would match) is read again in full (batched by objectGUID, with ranged retrieval), which is
//!   exact whatever DirSync reported. Applying such an entry's attributes as replacements was
//!   rejected: the connector space would then trust a partial entry for what it leaves out (an
//!   attribute cleared to nothing, a value whose typing depends on the whole object), and these
//!   entries are rare next to membership changes. Tombstones (`isDeleted=TRUE`) become deletes. (Samba does not report the removal
//!   of a deleted member's link from its groups at all, neither as values nor as a changed
//!   group: the connector space keeps such a value until the next full import, as it did when
//!   every changed object was read again.)
//! - Value changes are idempotent in the store, and the engine reads an object whose value
//!   changes it cannot place (not in its connector space) again through
//!   [`Connector::reread`](crate::engine::connector::Connector::reread), so repeating a DirSync batch (a crash before the cookie was
//!   stored) or a lost object never corrupts state silently.
//! - The watermark of a full import is taken *before* its objects are read (a DirSync cookie
//!   from a search that matches nothing, or the highestCommittedUSN), so a change made during
//!   the import is delivered again by the next delta, never lost. The engine persists it only
//!   after the import's objects are committed.
//! - Multi-valued attributes that come back ranged (`member;range=0-1499`) are completed with
//!   further range requests until `;range=N-*`.
//! - Objects whose most specific class is not imported are skipped; objects without a 16-byte
//!   objectGUID or with a DN that does not parse are `Rejected`, and the import goes on.

use std::collections::BTreeSet;

use ldap3::Scope;

use super::AdConnector;
use super::connection::{Session, check_search};
use super::dirsync::{self, AdWatermark, Position};
use super::discovery::{self, RootDse};
use super::entry::{RawEntry, range_of};
use super::error::AdError;
use super::schema::Schema;
use crate::domain::{AttributeName, Dn};
use crate::engine::connector::{ConnectorError, ImportSink, ImportSummary};
use crate::engine::expr::Value;
use crate::engine::model::{Anchor, Attributes, ImportItem, ImportedObject, ValueDelta};

/// The DirSync flags of delta imports.
pub const DIRSYNC_FLAGS: u32 = dirsync::FLAG_INCREMENTAL_VALUES
    | dirsync::FLAG_ANCESTORS_FIRST_ORDER
    | dirsync::FLAG_PUBLIC_DATA_ONLY;

/// Attributes never imported: security descriptors change with every ACL edit and say nothing
/// the sync rules use.
const EXCLUDED: &[&str] = &["nTSecurityDescriptor"];

/// What a DirSync entry carries whatever changed: the object's identity and its instance
/// type (verified against Samba's answer for a membership change: exactly these two, plus the
/// `member;range=1-1` and `member;range=0-0` values).
const DIRSYNC_ALWAYS: &[&str] = &["objectGUID", "instanceType"];

/// How many objectGUIDs one re-read search names.
const REREAD_BATCH: usize = 50;

/// An LDAP filter matching the imported classes.
pub fn class_filter(classes: &[String]) -> String {
    let mut f = String::from("(|");
    for c in classes {
        f.push_str("(objectClass=");
        f.push_str(&escape_filter(c.as_bytes()));
        f.push(')');
    }
    f.push(')');
    f
}

/// Escape bytes for an LDAP filter value (RFC 4515): special characters and every byte that
/// is not printable ASCII as `\xx`.
pub fn escape_filter(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b" -_.@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\{b:02x}"));
        }
    }
    out
}

fn guid_filter(guids: &[Vec<u8>]) -> String {
    let mut f = String::from("(|");
    for g in guids {
        f.push_str("(objectGUID=");
        f.push_str(&escape_filter(g));
        f.push(')');
    }
    f.push(')');
    f
}

/// Reads objects over one session.
pub(crate) struct Reader<'a> {
    pub session: &'a mut Session,
    pub schema: &'a Schema,
    pub classes: &'a [String],
    pub page_size: i32,
    pub value_range: Option<u32>,
}

impl Reader<'_> {
    fn attrs(&self) -> Vec<String> {
        let mut attrs = vec!["*".to_owned()];
        if let Some(n) = self.value_range {
            attrs.push(format!("member;range=0-{}", n.saturating_sub(1)));
        }
        attrs
    }

    /// Every in-scope object below `base` that matches `filter`, handed to `sink`.
    pub async fn read(
        &mut self,
        base: &str,
        filter: &str,
        sink: &mut dyn ImportSink,
    ) -> Result<u64, ReadError> {
        let attrs = self.attrs();
        let mut cookie = Vec::new();
        let mut count = 0;
        loop {
            let (entries, next) = self
                .session
                .search_page(
                    base,
                    Scope::Subtree,
                    filter,
                    &attrs,
                    Vec::new(),
                    self.page_size,
                    &cookie,
                )
                .await?;
            for e in entries {
                if let Some(item) = self.item(e).await? {
                    sink.item(item).map_err(ReadError::Sink)?;
                    count += 1;
                }
            }
            match next {
                Some(c) => cookie = c,
                None => return Ok(count),
            }
        }
    }

    /// The in-scope objects below `base` with these objectGUIDs, whole, handed to `sink` (in
    /// batches of [`REREAD_BATCH`] GUIDs per search).
    pub async fn read_by_guid(
        &mut self,
        base: &str,
        guids: &[Vec<u8>],
        sink: &mut dyn ImportSink,
    ) -> Result<u64, ReadError> {
        let classes = class_filter(self.classes);
        let mut count = 0;
        for batch in guids.chunks(REREAD_BATCH) {
            let filter = format!("(&{classes}{})", guid_filter(batch));
            count += self.read(base, &filter, sink).await?;
        }
        Ok(count)
    }

    /// The rest of a ranged attribute of `dn`, from value `start` on.
    async fn rest_of_range(
        &mut self,
        dn: &str,
        base: &str,
        mut start: u64,
    ) -> Result<Vec<Vec<u8>>, AdError> {
        let mut out = Vec::new();
        loop {
            let request = match self.value_range {
                Some(n) => format!("{base};range={start}-{}", start + u64::from(n.max(1)) - 1),
                None => format!("{base};range={start}-*"),
            };
            let entries = self
                .session
                .search_all(dn, Scope::Base, "(objectClass=*)", &[&request])
                .await?;
            let Some((desc, values)) = entries.into_iter().next().and_then(|e| {
                e.attrs.into_iter().find(|(d, _)| {
                    range_of(d).is_some_and(|(b, _, _)| b.eq_ignore_ascii_case(base))
                })
            }) else {
                return Ok(out);
            };
            out.extend(values);
            match range_of(&desc) {
                Some((_, _, Some(high))) if high >= start => start = high + 1,
                _ => return Ok(out),
            }
        }
    }

    /// The entry of a DirSync delta as value changes, when that is all it carries: besides
    /// [`DIRSYNC_ALWAYS`], only linked values added (`member;range=1-1`) and removed
    /// (`member;range=0-0`). `None` for anything else (a new object, a rename or move, a changed
    /// ordinary attribute, a DN that does not parse): that entry is read again whole.
    fn value_changes(&self, entry: &RawEntry, guid: &[u8]) -> Option<ImportItem> {
        let dn = Dn::parse(entry.dn_text()?).ok()?;
        let mut changes: Vec<ValueDelta> = Vec::new();
        for (desc, values) in &entry.attrs {
            if DIRSYNC_ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(desc)) {
                continue;
            }
            let (base, low, high) = range_of(desc)?;
            let added = match (low, high) {
                (1, Some(1)) => true,
                (0, Some(0)) => false,
                _ => return None,
            };
            if EXCLUDED.iter().any(|x| x.eq_ignore_ascii_case(&base)) {
                return None;
            }
            let attribute = AttributeName::new(&base).ok()?;
            // A link to a deleted object names its tombstone (`CN=x\0ADEL:<guid>,...`), which
            // no stored value matches: read the object whole instead.
            if values.iter().any(|v| names_tombstone(v)) {
                return None;
            }
            let typed: Vec<Value> = values.iter().map(|v| self.schema.value(&base, v)).collect();
            let at = match changes.iter().position(|c| c.attribute == attribute) {
                Some(i) => i,
                None => {
                    changes.push(ValueDelta {
                        attribute,
                        added: Vec::new(),
                        removed: Vec::new(),
                    });
                    changes.len() - 1
                }
            };
            if added {
                changes[at].added.extend(typed);
            } else {
                changes[at].removed.extend(typed);
            }
        }
        if changes.is_empty() {
            return None;
        }
        Some(ImportItem::ValueChanges {
            anchor: Anchor::Bytes(guid.to_vec()),
            dn: Some(dn),
            changes,
        })
    }

    /// What the engine gets for one entry: `None` when its class is not imported.
    pub async fn item(&mut self, entry: RawEntry) -> Result<Option<ImportItem>, AdError> {
        let Some(class) = entry.texts("objectClass").pop() else {
            return Ok(None);
        };
        if entry.is_deleted() {
            return Ok(anchor(&entry).map(|anchor| ImportItem::Deleted { anchor }));
        }
        if !self.classes.iter().any(|c| c.eq_ignore_ascii_case(&class)) {
            return Ok(None);
        }
        let Some(dn_text) = entry.dn_text().map(str::to_owned) else {
            return Ok(Some(ImportItem::Rejected {
                dn: entry.dn_lossy(),
                reason: "its DN is not valid UTF-8".into(),
            }));
        };
        let dn = match Dn::parse(&dn_text) {
            Ok(dn) => dn,
            Err(e) => {
                return Ok(Some(ImportItem::Rejected {
                    dn: dn_text,
                    reason: e.to_string(),
                }));
            }
        };
        let Some(anchor) = anchor(&entry) else {
            return Ok(Some(ImportItem::Rejected {
                dn: dn_text,
                reason: "it has no 16-byte objectGUID, so it cannot be tracked".into(),
            }));
        };
        let mut attributes = Attributes::new();
        for (desc, mut values) in entry.attrs {
            let name = match range_of(&desc) {
                Some((base, _, high)) => {
                    if let Some(high) = high {
                        values.extend(self.rest_of_range(&dn_text, &base, high + 1).await?);
                    }
                    base
                }
                None => desc,
            };
            if EXCLUDED.iter().any(|x| x.eq_ignore_ascii_case(&name)) || values.is_empty() {
                continue;
            }
            let Ok(attr) = AttributeName::new(&name) else {
                continue;
            };
            let typed = values.iter().map(|v| self.schema.value(&name, v));
            attributes.entry(attr).or_default().extend(typed);
        }
        Ok(Some(ImportItem::Object(ImportedObject {
            anchor,
            dn,
            object_class: class,
            attributes,
        })))
    }
}

/// Whether a DN value names a deleted object (its RDN carries `\nDEL:`, escaped `\0ADEL:`).
fn names_tombstone(value: &[u8]) -> bool {
    let text = String::from_utf8_lossy(value).to_ascii_uppercase();
    text.contains("\\0ADEL:") || text.contains("\nDEL:")
}

fn anchor(entry: &RawEntry) -> Option<Anchor> {
    let guid = entry.get("objectGUID")?.first()?;
    (guid.len() == 16).then(|| Anchor::Bytes(guid.clone()))
}

/// Why a read stopped.
pub(crate) enum ReadError {
    /// The DC.
    Ad(AdError),
    /// The engine's store.
    Sink(ConnectorError),
}

impl From<AdError> for ReadError {
    fn from(e: AdError) -> Self {
        ReadError::Ad(e)
    }
}

impl ReadError {
    fn into_connector(self, name: &str) -> ConnectorError {
        match self {
            ReadError::Ad(e) => e.into_connector(name),
            ReadError::Sink(e) => e,
        }
    }
}

async fn usn_position(session: &mut Session, root: &RootDse) -> Position {
    Position::Usn {
        usn: root.highest_committed_usn,
        dc: root.dns_host_name.clone(),
        invocation_id: discovery::invocation_id(session, root).await,
    }
}

/// Where the change stream of `nc` stands now: a DirSync cookie, or (when the account may not
/// use DirSync) the DC's highest committed USN.
async fn position_now(
    session: &mut Session,
    root: &RootDse,
    nc: &str,
    use_dirsync: bool,
) -> Result<Position, AdError> {
    if !use_dirsync {
        return Ok(usn_position(session, root).await);
    }
    if !root.supports(dirsync::DIRSYNC_OID) {
        tracing::warn!(
            nc,
            "the DC does not offer DirSync: delta imports poll uSNChanged"
        );
        return Ok(usn_position(session, root).await);
    }
    let mut cookie = Vec::new();
    // A DirSync search that matches nothing still returns the cookie of the current state.
    for _ in 0..1_000 {
        let (_, result) = session
            .search(
                nc,
                Scope::Subtree,
                "(objectGUID=\\00)",
                &["objectGUID".to_owned()],
                vec![dirsync::dirsync_request(DIRSYNC_FLAGS, 0, &cookie)],
            )
            .await?;
        if matches!(result.rc, 8 | 50) {
            tracing::warn!(
                nc,
                code = result.rc,
                diagnostic = %result.text,
                "the connector account may not use DirSync (it lacks the Replicating \
                 Directory Changes right): delta imports poll uSNChanged on this DC instead, \
                 and see deletions only if the account may list CN=Deleted Objects \
                 (otherwise the next full import removes deleted objects)"
            );
            return Ok(usn_position(session, root).await);
        }
        check_search(nc, "(DirSync)", &result)?;
        let response = dirsync_response(&result)?;
        cookie = response.cookie;
        if !response.more {
            return Ok(Position::DirSync(cookie));
        }
    }
    Err(AdError::Malformed(
        "the DC kept answering DirSync with 'more results' for an empty search".into(),
    ))
}

fn dirsync_response(result: &ldap3::LdapResult) -> Result<dirsync::DirSyncResponse, AdError> {
    let value = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == dirsync::DIRSYNC_OID)
        .and_then(|c| c.1.val.as_deref())
        .ok_or_else(|| AdError::Malformed("the DC's DirSync answer has no cookie".into()))?;
    dirsync::parse_dirsync_response(value)
        .map_err(|e| AdError::Malformed(format!("the DC's DirSync control is malformed: {e}")))
}

impl AdConnector {
    pub(crate) async fn run_full_import(
        &self,
        sink: &mut dyn ImportSink,
    ) -> Result<ImportSummary, ConnectorError> {
        let name = self.name.as_str();
        let ad = |e: AdError| e.into_connector(name);
        let mut session = self.connect(None).await.map_err(ad)?;
        let root = discovery::root_dse(&mut session).await.map_err(ad)?;
        let schema = self.schema_for(&mut session, &root).await.map_err(ad)?;
        let filter = class_filter(&self.options.classes);
        let mut watermark = AdWatermark::default();
        let mut objects = 0;
        for nc in self.contexts_of(&root).map_err(ad)? {
            let position = position_now(&mut session, &root, &nc, self.options.dirsync)
                .await
                .map_err(ad)?;
            let mut reader = Reader {
                session: &mut session,
                schema: &schema,
                classes: &self.options.classes,
                page_size: self.options.page_size,
                value_range: self.options.value_range,
            };
            objects += reader
                .read(&nc, &filter, sink)
                .await
                .map_err(|e| e.into_connector(name))?;
            watermark.contexts.push((nc, position));
        }
        session.close().await;
        Ok(ImportSummary {
            watermark: watermark.encode(),
            objects,
        })
    }

    pub(crate) async fn run_delta_import(
        &self,
        since: &crate::engine::connector::Watermark,
        sink: &mut dyn ImportSink,
    ) -> Result<ImportSummary, ConnectorError> {
        let name = self.name.as_str();
        let expired = |detail: String| ConnectorError::WatermarkExpired {
            connector: name.to_owned(),
            detail,
        };
        let ad = |e: AdError| e.into_connector(name);
        let before = AdWatermark::decode(since).map_err(expired)?;
        let usn_dc = before.contexts.iter().find_map(|(_, p)| match p {
            Position::Usn { dc, .. } => Some(dc.clone()),
            Position::DirSync(_) => None,
        });
        let mut session = self.connect(usn_dc.as_deref()).await.map_err(ad)?;
        let root = discovery::root_dse(&mut session).await.map_err(ad)?;
        let wanted = self.contexts_of(&root).map_err(ad)?;
        let had: Vec<&String> = before.contexts.iter().map(|(nc, _)| nc).collect();
        if wanted.len() != had.len() || wanted.iter().zip(&had).any(|(a, b)| a != *b) {
            return Err(expired(format!(
                "the naming contexts changed from {had:?} to {wanted:?}"
            )));
        }
        let schema = self.schema_for(&mut session, &root).await.map_err(ad)?;
        let mut after = AdWatermark::default();
        let mut objects = 0;
        for (nc, position) in before.contexts {
            let mut reader = Reader {
                session: &mut session,
                schema: &schema,
                classes: &self.options.classes,
                page_size: self.options.page_size,
                value_range: self.options.value_range,
            };
            let (count, next) = match position {
                Position::DirSync(cookie) => {
                    let (counts, cookie) =
                        dirsync_delta(&mut reader, &nc, cookie, self.options.value_changes, sink)
                            .await
                            .map_err(|e| match e {
                                DeltaError::Expired(d) => expired(d),
                                DeltaError::Read(e) => e.into_connector(name),
                            })?;
                    self.count(counts.reread, counts.value_items);
                    (counts.items, Position::DirSync(cookie))
                }
                Position::Usn {
                    usn,
                    dc,
                    invocation_id,
                } => {
                    if !dc.eq_ignore_ascii_case(&root.dns_host_name) {
                        return Err(expired(format!(
                            "the USN watermark belongs to DC {dc}, but {} answered (USNs are \
                             per DC)",
                            root.dns_host_name
                        )));
                    }
                    let now = discovery::invocation_id(reader.session, &root).await;
                    if !invocation_id.is_empty() && now != invocation_id {
                        return Err(expired(format!(
                            "DC {dc} was restored from a backup (its invocationId changed)"
                        )));
                    }
                    let count = usn_delta(&mut reader, &nc, usn, sink)
                        .await
                        .map_err(|e| e.into_connector(name))?;
                    (
                        count,
                        Position::Usn {
                            usn: root.highest_committed_usn,
                            dc,
                            invocation_id: now,
                        },
                    )
                }
            };
            objects += count;
            after.contexts.push((nc, next));
        }
        session.close().await;
        Ok(ImportSummary {
            watermark: after.encode(),
            objects,
        })
    }
}

impl AdConnector {
    /// [`Connector::reread`](crate::engine::connector::Connector::reread): the objects with
    /// these objectGUIDs, whole, from every imported naming context.
    pub(crate) async fn run_reread(
        &self,
        anchors: &[Anchor],
        sink: &mut dyn ImportSink,
    ) -> Result<u64, ConnectorError> {
        let name = self.name.as_str();
        let ad = |e: AdError| e.into_connector(name);
        let guids: Vec<Vec<u8>> = anchors
            .iter()
            .filter_map(|a| match a {
                Anchor::Bytes(g) if g.len() == 16 => Some(g.clone()),
                _ => None,
            })
            .collect();
        if guids.is_empty() {
            return Ok(0);
        }
        let mut session = self.connect(None).await.map_err(ad)?;
        let root = discovery::root_dse(&mut session).await.map_err(ad)?;
        let schema = self.schema_for(&mut session, &root).await.map_err(ad)?;
        let mut count = 0;
        for nc in self.contexts_of(&root).map_err(ad)? {
            let mut reader = Reader {
                session: &mut session,
                schema: &schema,
                classes: &self.options.classes,
                page_size: self.options.page_size,
                value_range: self.options.value_range,
            };
            count += reader
                .read_by_guid(&nc, &guids, sink)
                .await
                .map_err(|e| e.into_connector(name))?;
        }
        session.close().await;
        self.count(count, 0);
        Ok(count)
    }
}

enum DeltaError {
    Expired(String),
    Read(ReadError),
}

impl From<AdError> for DeltaError {
    fn from(e: AdError) -> Self {
        DeltaError::Read(ReadError::Ad(e))
    }
}

/// What one DirSync delta of one naming context did.
struct DeltaCounts {
    /// Items handed to the sink.
    items: u64,
    /// Objects read again whole.
    reread: u64,
    /// Value-change items.
    value_items: u64,
}

/// DirSync from `cookie`: tombstones become deletes, entries that carry only linked-value
/// changes become [`ImportItem::ValueChanges`], every other changed object is read again in
/// full. Returns the counts and the new cookie.
async fn dirsync_delta(
    reader: &mut Reader<'_>,
    nc: &str,
    mut cookie: Vec<u8>,
    value_changes: bool,
    sink: &mut dyn ImportSink,
) -> Result<(DeltaCounts, Vec<u8>), DeltaError> {
    let filter = class_filter(reader.classes);
    let mut changed: Vec<Vec<u8>> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    let mut counts = DeltaCounts {
        items: 0,
        reread: 0,
        value_items: 0,
    };
    let send = |sink: &mut dyn ImportSink, item| {
        sink.item(item)
            .map_err(|e| DeltaError::Read(ReadError::Sink(e)))
    };
    loop {
        let (entries, result) = reader
            .session
            .search(
                nc,
                Scope::Subtree,
                &filter,
                &[],
                vec![dirsync::dirsync_request(DIRSYNC_FLAGS, 0, &cookie)],
            )
            .await?;
        match result.rc {
            0 => {}
            8 | 50 => {
                return Err(DeltaError::Expired(format!(
                    "the connector account may no longer use DirSync (LDAP {}: {}); a full \
                     import switches to USN polling",
                    result.rc, result.text
                )));
            }
            1 | 2 | 12 | 53 => {
                return Err(DeltaError::Expired(format!(
                    "the DC rejected the DirSync cookie (LDAP {}: {})",
                    result.rc,
                    result.text.trim_end_matches('\0')
                )));
            }
            _ => check_search(nc, "(DirSync)", &result)?,
        }
        for raw in entries {
            let e = super::entry::parse(raw)?;
            let Some(Anchor::Bytes(guid)) = anchor(&e) else {
                continue;
            };
            tracing::debug!(
                dn = %e.dn_lossy(),
                attributes = ?e.attrs.iter().map(|(d, v)| (d.as_str(), v.len())).collect::<Vec<_>>(),
                "DirSync entry"
            );
            if e.is_deleted() {
                if deleted.insert(guid.clone()) {
                    send(
                        sink,
                        ImportItem::Deleted {
                            anchor: Anchor::Bytes(guid),
                        },
                    )?;
                    counts.items += 1;
                }
            } else if seen.contains(&guid) {
                // Read again whole after the DirSync pass anyway.
            } else if let Some(item) = value_changes
                .then(|| reader.value_changes(&e, &guid))
                .flatten()
            {
                send(sink, item)?;
                counts.items += 1;
                counts.value_items += 1;
            } else {
                seen.insert(guid.clone());
                changed.push(guid);
            }
        }
        let response = dirsync_response(&result)?;
        cookie = response.cookie;
        if !response.more {
            break;
        }
    }
    changed.retain(|g| !deleted.contains(g));
    let read = reader
        .read_by_guid(nc, &changed, sink)
        .await
        .map_err(DeltaError::Read)?;
    counts.items += read;
    counts.reread += read;
    Ok((counts, cookie))
}

/// USN polling: objects with uSNChanged above `usn` in full, then tombstones (show-deleted).
async fn usn_delta(
    reader: &mut Reader<'_>,
    nc: &str,
    usn: i64,
    sink: &mut dyn ImportSink,
) -> Result<u64, ReadError> {
    let next = usn.saturating_add(1);
    let filter = format!("(&{}(uSNChanged>={next}))", class_filter(reader.classes));
    let mut count = reader.read(nc, &filter, sink).await?;
    let tombstones = format!("(&(isDeleted=TRUE)(uSNChanged>={next}))");
    let attrs = vec!["objectGUID".to_owned(), "isDeleted".to_owned()];
    let mut cookie = Vec::new();
    loop {
        let (entries, more) = reader
            .session
            .search_page(
                nc,
                Scope::Subtree,
                &tombstones,
                &attrs,
                vec![dirsync::show_deleted()],
                reader.page_size,
                &cookie,
            )
            .await?;
        for e in entries {
            if let Some(anchor) = anchor(&e) {
                sink.item(ImportItem::Deleted { anchor })
                    .map_err(ReadError::Sink)?;
                count += 1;
            }
        }
        match more {
            Some(c) => cookie = c,
            None => return Ok(count),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn tombstone_dns_are_recognised() {
        assert!(names_tombstone(
            b"CN=Doomed\\0ADEL:2c5e9a62-5a3b-4ec9-8f2e-0c1d2e3f4a5b,CN=Deleted Objects,DC=lab"
        ));
        assert!(names_tombstone(
            b"CN=Doomed\nDEL:2c5e,CN=Deleted Objects,DC=lab"
        ));
        assert!(!names_tombstone(b"CN=Delia,OU=People,DC=lab"));
    }

    #[test]
    fn filters_escape_binary_guids() {
        assert_eq!(
            guid_filter(&[vec![0x00, b'(', b'a', 0xff]]),
            "(|(objectGUID=\\00\\28a\\ff))"
        );
        assert_eq!(
            class_filter(&["user".into(), "group".into()]),
            "(|(objectClass=user)(objectClass=group))"
        );
    }
}
