//! Shared by the planner tests: a full import of an LDIF directory as the source connector
//! `contoso.example` delivers it, turned into connector-space objects (numbered in import
//! order, not yet joined, each a pending Add) without a store.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hybridsync::connectors::file::connector::LdifConnector;
use hybridsync::engine::connector::{Connector as _, ConnectorError, ImportSink};
use hybridsync::engine::model::{ConnectorName, CsId, CsObject, ImportItem, PendingImport};
use hybridsync::engine::rules::ConnectorKind;

struct Sink(Vec<ImportItem>);

impl ImportSink for Sink {
    fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError> {
        self.0.push(item);
        Ok(())
    }
}

/// The objects of the LDIF file at `path`.
pub async fn import(path: &Path) -> Vec<CsObject> {
    let source = LdifConnector::source("contoso.example", ConnectorKind::Ad, path);
    let mut sink = Sink(Vec::new());
    source.full_import(&mut sink).await.unwrap();
    sink.0
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            ImportItem::Object(o) => Some(CsObject {
                id: CsId(i as i64),
                connector: ConnectorName::new("contoso.example"),
                anchor: Some(o.anchor),
                dn: o.dn,
                object_class: o.object_class,
                attributes: o.attributes,
                mv: None,
                pending_import: PendingImport::Add,
            }),
            _ => None,
        })
        .collect()
}
