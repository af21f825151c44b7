//! The LDIF file connector: a directory kept in an LDIF file, as a source (the demo's sample
//! directory, test fixtures that play an AD forest) or as a writable target (tests that need a
//! real export destination without a network).
//!
//! Invariants: an import reads the whole file (a file has no change stream, so a "delta" import
//! is a full one and the engine finds what changed); an entry the engine cannot use (a DN that
//! does not parse, no anchor) is handed over as [`ImportItem::Rejected`] and the import goes on;
//! an export rewrites the file atomically (temporary file, fsync, rename), so a crash leaves either
//! the old or the new file; objects the connector creates get a fresh random objectGUID, which is
//! their anchor from then on.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::connectors::file::ldif::{self, Entry};
use crate::connectors::file::typing::{typed_graph_value, typed_value, value_bytes};
use crate::domain::{AttributeName, Dn, ObjectGuid};
use crate::engine::connector::{
    BoxFuture, Capabilities, Connector, ConnectorError, ImportSink, ImportSummary, SchemaAttribute,
    SchemaClass, Watermark,
};
use crate::engine::model::{
    Anchor, AttributeChange, Attributes, ChangeKind, ConnectorName, ExportOutcome, ExportResult,
    ImportItem, ImportedObject, Operation, PendingExport,
};
use crate::engine::rules::ConnectorKind;

/// The object classes imported unless configured otherwise.
pub const DEFAULT_CLASSES: &[&str] = &[
    "user",
    "inetOrgPerson",
    "group",
    "contact",
    "computer",
    "organizationalUnit",
    "container",
    "domainDNS",
];

/// A directory in an LDIF file.
pub struct LdifConnector {
    name: ConnectorName,
    kind: ConnectorKind,
    path: PathBuf,
    anchor: AttributeName,
    classes: Vec<String>,
    writable: bool,
    /// Serializes exports (read-modify-write of the file).
    lock: Mutex<()>,
}

impl LdifConnector {
    /// A read-only connector over `path` that plays a directory of `kind`, anchored on
    /// objectGUID, importing [`DEFAULT_CLASSES`].
    pub fn source(name: &str, kind: ConnectorKind, path: &Path) -> Self {
        Self {
            name: ConnectorName::new(name),
            kind,
            path: path.to_path_buf(),
            anchor: AttributeName::known("objectGUID"),
            classes: DEFAULT_CLASSES.iter().map(|c| c.to_string()).collect(),
            writable: false,
            lock: Mutex::new(()),
        }
    }

    /// The same, and writable: exports change the file.
    pub fn target(name: &str, kind: ConnectorKind, path: &Path) -> Self {
        Self {
            writable: true,
            ..Self::source(name, kind, path)
        }
    }

    fn error(&self, detail: String) -> ConnectorError {
        ConnectorError::Data {
            connector: self.name.to_string(),
            detail,
        }
    }

    fn read(&self) -> Result<(Vec<Entry>, u64), ConnectorError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.writable => String::new(),
            Err(e) => {
                return Err(ConnectorError::Unavailable {
                    connector: self.name.to_string(),
                    detail: format!("cannot read '{}': {e}", self.path.display()),
                });
            }
        };
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        let entries = ldif::read_entries(&text)
            .map_err(|e| self.error(format!("'{}' {e}", self.path.display())))?;
        Ok((entries, h.finish()))
    }

    /// The most specific object class of an entry (AD lists them from `top` down).
    fn class_of(entry: &Entry) -> Option<String> {
        let values = &entry.get("objectClass")?.values;
        values
            .last()
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_string)
    }

    fn anchor_of(&self, entry: &Entry) -> Option<Anchor> {
        let value = entry.get(self.anchor.as_str())?.values.first()?;
        Some(match typed_value(self.anchor.as_str(), value) {
            crate::engine::expr::Value::Bin(b) => Anchor::Bytes(b),
            other => Anchor::Text(other.to_string()),
        })
    }

    fn to_item(&self, entry: &Entry, class: String) -> ImportItem {
        let dn = match Dn::parse(&entry.dn) {
            Ok(dn) => dn,
            Err(e) => {
                return ImportItem::Rejected {
                    dn: entry.dn.clone(),
                    reason: e.to_string(),
                };
            }
        };
        let Some(anchor) = self.anchor_of(entry) else {
            return ImportItem::Rejected {
                dn: entry.dn.clone(),
                reason: format!(
                    "it has no {} (line {}), so it cannot be tracked",
                    self.anchor, entry.line
                ),
            };
        };
        let mut attributes = Attributes::new();
        for attr in &entry.attributes {
            let Ok(name) = AttributeName::new(&attr.name) else {
                continue;
            };
            let values = attr
                .values
                .iter()
                .map(|v| match self.kind {
                    ConnectorKind::Entra => typed_graph_value(&class, &attr.name, v),
                    ConnectorKind::Ad => typed_value(&attr.name, v),
                })
                .collect();
            attributes.insert(name, values);
        }
        ImportItem::Object(ImportedObject {
            anchor,
            dn,
            object_class: class,
            attributes,
        })
    }

    fn import(&self, sink: &mut dyn ImportSink) -> Result<ImportSummary, ConnectorError> {
        let (entries, hash) = self.read()?;
        let mut objects = 0;
        for entry in &entries {
            let Some(class) = Self::class_of(entry) else {
                continue;
            };
            if !self.classes.iter().any(|c| c.eq_ignore_ascii_case(&class)) {
                continue;
            }
            sink.item(self.to_item(entry, class))?;
            objects += 1;
        }
        Ok(ImportSummary {
            watermark: Watermark(hash.to_le_bytes().to_vec()),
            objects,
        })
    }

    fn apply(&self, entries: &mut Vec<Entry>, e: &PendingExport) -> ExportOutcome {
        let failed = |error: String| ExportOutcome::Failed {
            error,
            retryable: false,
        };
        let position = e.anchor.as_ref().and_then(|a| {
            entries
                .iter()
                .position(|x| self.anchor_of(x).as_ref() == Some(a))
        });
        match e.operation {
            Operation::Add => {
                let mut guid = [0u8; 16];
                if getrandom::fill(&mut guid).is_err() {
                    return ExportOutcome::Failed {
                        error: "no randomness for a new objectGUID".into(),
                        retryable: true,
                    };
                }
                let mut entry = Entry::new(e.dn.to_string());
                for class in ["top", e.object_class.as_str()] {
                    entry.push("objectClass", class.as_bytes().to_vec());
                }
                entry.push(self.anchor.as_str(), guid.to_vec());
                for c in &e.changes {
                    for v in &c.new {
                        entry.push(c.attribute.as_str(), value_bytes(v));
                    }
                }
                entries.push(entry);
                ExportOutcome::Exported {
                    anchor: Anchor::guid(ObjectGuid::from(guid)),
                }
            }
            Operation::Update | Operation::Rename => {
                let Some(i) = position else {
                    return failed(format!(
                        "no object with anchor {} in '{}'",
                        anchor_text(e),
                        self.path.display()
                    ));
                };
                let Some(entry) = entries.get_mut(i) else {
                    return failed("the object vanished".into());
                };
                if e.operation == Operation::Rename {
                    entry.dn = e.dn.to_string();
                }
                for c in &e.changes {
                    apply_change(entry, c);
                }
                match self.anchor_of(entry) {
                    Some(anchor) => ExportOutcome::Exported { anchor },
                    None => failed("the update removed the object's anchor".into()),
                }
            }
            Operation::Delete => match position {
                Some(i) => {
                    let entry = entries.remove(i);
                    match self.anchor_of(&entry) {
                        Some(anchor) => ExportOutcome::Exported { anchor },
                        None => failed("the deleted object had no anchor".into()),
                    }
                }
                None => failed(format!(
                    "no object with anchor {} to delete",
                    anchor_text(e)
                )),
            },
        }
    }

    fn export_now(&self, batch: &[PendingExport]) -> Result<Vec<ExportResult>, ConnectorError> {
        if !self.writable {
            return Err(self.error(format!(
                "'{}' is a read-only source; nothing is exported to it",
                self.path.display()
            )));
        }
        let _guard = self
            .lock
            .lock()
            .map_err(|_| self.error("an earlier export failed mid-way".into()))?;
        let (mut entries, _) = self.read()?;
        let results = batch
            .iter()
            .map(|e| ExportResult {
                cs: e.cs,
                outcome: self.apply(&mut entries, e),
            })
            .collect();
        write_atomically(&self.path, ldif::write_entries(&entries).as_bytes()).map_err(|e| {
            ConnectorError::Unavailable {
                connector: self.name.to_string(),
                detail: format!("cannot write '{}': {e}", self.path.display()),
            }
        })?;
        Ok(results)
    }
}

/// Applies one attribute change to an entry: a replacement sets exactly the new values; an
/// incremental change removes and adds single values (compared as stored bytes).
fn apply_change(entry: &mut Entry, c: &AttributeChange) {
    let name = c.attribute.as_str();
    match c.kind {
        ChangeKind::Replace => {
            entry
                .attributes
                .retain(|a| !a.name.eq_ignore_ascii_case(name));
            for v in &c.new {
                entry.push(name, value_bytes(v));
            }
        }
        ChangeKind::Incremental => {
            let removed: Vec<Vec<u8>> = c.old.iter().map(value_bytes).collect();
            for a in entry
                .attributes
                .iter_mut()
                .filter(|a| a.name.eq_ignore_ascii_case(name))
            {
                a.values.retain(|v| !removed.contains(v));
            }
            entry.attributes.retain(|a| !a.values.is_empty());
            for v in &c.new {
                let bytes = value_bytes(v);
                let present = entry.get(name).is_some_and(|a| a.values.contains(&bytes));
                if !present {
                    entry.push(name, bytes);
                }
            }
        }
    }
}

fn anchor_text(e: &PendingExport) -> String {
    e.anchor
        .as_ref()
        .map_or_else(|| "(none)".to_string(), ToString::to_string)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Connector for LdifConnector {
    fn name(&self) -> &ConnectorName {
        &self.name
    }

    fn kind(&self) -> ConnectorKind {
        self.kind
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            delta_import: false,
            export: self.writable,
            rename: self.writable,
            writable: Vec::new(),
        }
    }

    fn schema(&self) -> BoxFuture<'_, Result<Vec<SchemaClass>, ConnectorError>> {
        Box::pin(async move {
            let (entries, _) = self.read()?;
            let mut classes: Vec<SchemaClass> = Vec::new();
            for entry in &entries {
                let Some(class) = Self::class_of(entry) else {
                    continue;
                };
                let idx = match classes
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(&class))
                {
                    Some(i) => i,
                    None => {
                        classes.push(SchemaClass {
                            name: class,
                            attributes: Vec::new(),
                        });
                        classes.len() - 1
                    }
                };
                let Some(c) = classes.get_mut(idx) else {
                    continue;
                };
                for attr in &entry.attributes {
                    let Ok(name) = AttributeName::new(&attr.name) else {
                        continue;
                    };
                    let kind = match attr.values.first().map(|v| typed_value(&attr.name, v)) {
                        Some(crate::engine::expr::Value::Num(_)) => "num",
                        Some(crate::engine::expr::Value::Bool(_)) => "bool",
                        Some(crate::engine::expr::Value::Bin(_)) => "bin",
                        Some(crate::engine::expr::Value::Ref(_)) => "ref",
                        _ => "str",
                    };
                    match c.attributes.iter_mut().find(|a| a.name == name) {
                        Some(a) => a.multi_valued |= attr.values.len() > 1,
                        None => c.attributes.push(SchemaAttribute {
                            name,
                            multi_valued: attr.values.len() > 1,
                            kind,
                        }),
                    }
                }
            }
            Ok(classes)
        })
    }

    fn full_import<'a>(
        &'a self,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(async move { self.import(sink) })
    }

    /// A file has no change stream: this reads everything, as a full import does.
    fn delta_import<'a>(
        &'a self,
        _since: &'a Watermark,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(async move { self.import(sink) })
    }

    fn export<'a>(
        &'a self,
        batch: &'a [PendingExport],
    ) -> BoxFuture<'a, Result<Vec<ExportResult>, ConnectorError>> {
        Box::pin(async move { self.export_now(batch) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expr::Value;
    use crate::engine::model::{AttributeChange, CsId};

    struct Collect(Vec<ImportItem>);

    impl ImportSink for Collect {
        fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
            self.0.push(item);
            Ok(())
        }
    }

    const SOURCE: &str = "version: 1

dn: OU=Staff,DC=corp,DC=example
objectClass: top
objectClass: organizationalUnit
ou: Staff

dn: CN=Ann Smith,OU=Staff,DC=corp,DC=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Ann Smith
userAccountControl: 512
objectGUID:: 1MOyofblGAcpOktcbX6PkA==
member: CN=x,DC=corp,DC=example

dn: CN=No Guid,OU=Staff,DC=corp,DC=example
objectClass: user
cn: No Guid
";

    #[tokio::test]
    async fn imports_typed_objects_and_rejects_what_it_cannot_track() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("src.ldif");
        std::fs::write(&path, SOURCE).unwrap();
        let c = LdifConnector::source("corp", ConnectorKind::Ad, &path);
        let mut sink = Collect(Vec::new());
        let summary = c.full_import(&mut sink).await.unwrap();
        assert_eq!(
            summary.objects, 3,
            "the OU is imported too (OU filtering by GUID)"
        );
        assert!(
            matches!(&sink.0[0], ImportItem::Rejected { dn, .. } if dn.starts_with("OU=Staff")),
            "an OU without objectGUID cannot be tracked"
        );
        let ImportItem::Object(ann) = &sink.0[1] else {
            panic!("an object")
        };
        assert_eq!(ann.object_class, "user");
        assert_eq!(
            ann.anchor.to_string(),
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90"
        );
        assert_eq!(
            ann.attributes[&AttributeName::new("userAccountControl").unwrap()],
            vec![Value::Num(512)]
        );
        assert_eq!(
            ann.attributes[&AttributeName::new("member").unwrap()],
            vec![Value::Ref("CN=x,DC=corp,DC=example".into())]
        );
        assert!(
            matches!(&sink.0[2], ImportItem::Rejected { reason, .. } if reason.contains("no objectGUID"))
        );
        // Same file, same watermark; a source refuses exports.
        let again = c
            .delta_import(&summary.watermark, &mut Collect(Vec::new()))
            .await
            .unwrap();
        assert_eq!(again.watermark, summary.watermark);
        assert!(c.export(&[]).await.is_err());
        let schema = c.schema().await.unwrap();
        assert!(schema.iter().any(|s| {
            s.name == "user"
                && s.attributes
                    .iter()
                    .any(|a| a.name.as_str() == "member" && a.kind == "ref")
        }));
    }

    #[tokio::test]
    async fn exports_add_update_rename_delete_and_reimports_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target.ldif");
        let c = LdifConnector::target("entra", ConnectorKind::Entra, &path);
        let dn = |s: &str| Dn::parse(s).unwrap();
        let change = |a: &str, v: &str| AttributeChange {
            attribute: AttributeName::new(a).unwrap(),
            old: vec![],
            new: vec![Value::Str(v.into())],
            kind: crate::engine::model::ChangeKind::Replace,
        };
        let add = PendingExport {
            connector: ConnectorName::new("entra"),
            cs: CsId(1),
            anchor: None,
            dn: dn("CN=Ann,OU=Cloud"),
            object_class: "user".into(),
            operation: Operation::Add,
            changes: vec![
                change("displayName", "Ann"),
                change("userPrincipalName", "ann@contoso.example"),
            ],
        };
        let results = c.export(std::slice::from_ref(&add)).await.unwrap();
        let ExportOutcome::Exported { anchor } = results[0].outcome.clone() else {
            panic!("{results:?}")
        };
        let update = PendingExport {
            anchor: Some(anchor.clone()),
            operation: Operation::Update,
            changes: vec![change("displayName", "Ann Smith")],
            ..add.clone()
        };
        let rename = PendingExport {
            anchor: Some(anchor.clone()),
            operation: Operation::Rename,
            dn: dn("CN=Ann Smith,OU=Cloud"),
            changes: vec![],
            ..add.clone()
        };
        let results = c.export(&[update, rename]).await.unwrap();
        assert!(
            results
                .iter()
                .all(|r| matches!(r.outcome, ExportOutcome::Exported { .. })),
            "{results:?}"
        );
        let mut sink = Collect(Vec::new());
        c.full_import(&mut sink).await.unwrap();
        let ImportItem::Object(ann) = &sink.0[0] else {
            panic!("an object")
        };
        assert_eq!(ann.anchor, anchor, "the anchor survives the rename");
        assert_eq!(ann.dn, dn("CN=Ann Smith,OU=Cloud"));
        assert_eq!(
            ann.attributes[&AttributeName::new("displayName").unwrap()],
            vec![Value::Str("Ann Smith".into())]
        );
        let delete = PendingExport {
            anchor: Some(anchor),
            operation: Operation::Delete,
            changes: vec![],
            ..add.clone()
        };
        let missing = PendingExport {
            anchor: Some(Anchor::Text("nope".into())),
            operation: Operation::Delete,
            cs: CsId(2),
            ..add
        };
        let results = c.export(&[delete, missing]).await.unwrap();
        assert!(matches!(results[0].outcome, ExportOutcome::Exported { .. }));
        assert!(
            matches!(&results[1].outcome, ExportOutcome::Failed { error, retryable: false } if error.contains("no object with anchor nope"))
        );
        let mut sink = Collect(Vec::new());
        assert_eq!(c.full_import(&mut sink).await.unwrap().objects, 0);
    }
}
