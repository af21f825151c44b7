//! The contract every connector (AD over LDAP, Entra ID over Graph, LDIF files) fulfils for the
//! engine: imports that stream objects into a sink, exports of batches with a result per object,
//! schema discovery and capability flags.
//!
//! Invariants: the engine holds no protocol types (no LDAP, no HTTP): connectors translate; an
//! import hands over its new [`Watermark`] only when it has delivered every object, and the engine
//! persists the watermark only after the imported objects are committed, so a crash re-imports
//! rather than loses changes; an export returns one [`ExportResult`] per pending export it was
//! given (a failure is data, per object), and an error of the whole call means nothing in the
//! batch is known to be done; a confirming import is simply the next import. A delta may hand
//! over only the changed values of an object ([`ImportItem::ValueChanges`]: a membership change
//! without the other 50,000 members); a connector that does so implements
//! [`Connector::reread`], so the engine can fetch an object whole when its connector space does
//! not hold it.

use std::future::Future;
use std::pin::Pin;

use crate::domain::{AttributeName, Dn};
use crate::engine::model::{Anchor, ConnectorName, ExportResult, ImportItem, PendingExport};
use crate::engine::rules::ConnectorKind;

/// A boxed future, so connectors can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where an import puts what it reads. Called once per object, in any order.
pub trait ImportSink: Send {
    /// Take one imported item. An error stops the import (the engine's store failed).
    fn item(&mut self, item: ImportItem) -> Result<(), ConnectorError>;
}

/// A connector's position in its directory's change stream (DirSync cookies per naming context,
/// a USN, a Graph delta link), opaque to the engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Watermark(pub Vec<u8>);

/// How an import went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Where the next delta import starts.
    pub watermark: Watermark,
    /// Objects delivered.
    pub objects: u64,
}

/// What a connector can do, so rules and the wizard only offer what works.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// It can import only what changed since a watermark.
    pub delta_import: bool,
    /// It can export (write) at all.
    pub export: bool,
    /// It can rename or move objects.
    pub rename: bool,
    /// For each object class it can create, the attributes it can write; empty = any attribute.
    pub writable: Vec<(String, Vec<AttributeName>)>,
}

/// One attribute of a connector's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaAttribute {
    /// Its name.
    pub name: AttributeName,
    /// Whether it holds several values.
    pub multi_valued: bool,
    /// Its kind: `str`, `num`, `bool`, `bin`, `ref`, `dt`.
    pub kind: &'static str,
}

/// An object class and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaClass {
    /// The class (`user`, `group`, ...).
    pub name: String,
    /// Its attributes.
    pub attributes: Vec<SchemaAttribute>,
}

/// Why a connector call failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The directory could not be reached or did not answer; trying again later may work.
    #[error("{connector}: the directory is unavailable: {detail}")]
    Unavailable {
        /// The connector.
        connector: String,
        /// What happened.
        detail: String,
    },
    /// The credentials were refused or lack rights.
    #[error("{connector}: access denied: {detail}")]
    Access {
        /// The connector.
        connector: String,
        /// What happened, with the fix.
        detail: String,
    },
    /// The directory sent something the connector cannot read, or the data is wrong.
    #[error("{connector}: {detail}")]
    Data {
        /// The connector.
        connector: String,
        /// What happened.
        detail: String,
    },
    /// The saved watermark can no longer be used (expired cookie or delta link): run a full
    /// import.
    #[error(
        "{connector}: the delta watermark is no longer valid ({detail}); a full import is needed"
    )]
    WatermarkExpired {
        /// The connector.
        connector: String,
        /// What happened.
        detail: String,
    },
    /// The engine's own store failed while taking the import.
    #[error("storing imported objects failed: {0}")]
    Sink(String),
}

/// A connected directory.
pub trait Connector: Send + Sync {
    /// Its configured name.
    fn name(&self) -> &ConnectorName;

    /// What it speaks (rules name connectors by kind).
    fn kind(&self) -> ConnectorKind;

    /// What it can do.
    fn capabilities(&self) -> Capabilities;

    /// The object classes it imports, and their attributes.
    fn schema(&self) -> BoxFuture<'_, Result<Vec<SchemaClass>, ConnectorError>>;

    /// Read every object in scope.
    fn full_import<'a>(
        &'a self,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>>;

    /// Read what changed since `since` (added, changed and deleted objects).
    fn delta_import<'a>(
        &'a self,
        since: &'a Watermark,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>>;

    /// Read the objects with these anchors again, whole, into `sink` (an object that no longer
    /// exists or is out of scope is simply not delivered); the number delivered. The engine
    /// calls it when a delta handed over [`ImportItem::ValueChanges`] for an object its
    /// connector space does not hold. `None` (the default): this connector cannot read single
    /// objects, and the engine asks for a full import instead.
    fn reread<'a>(
        &'a self,
        anchors: &'a [Anchor],
        sink: &'a mut dyn ImportSink,
    ) -> Option<BoxFuture<'a, Result<u64, ConnectorError>>> {
        let _ = (anchors, sink);
        None
    }

    /// Apply a batch of pending exports; one result per export, in any order.
    fn export<'a>(
        &'a self,
        batch: &'a [PendingExport],
    ) -> BoxFuture<'a, Result<Vec<ExportResult>, ConnectorError>>;

    /// For a directory without names of its own (Microsoft Graph): the DN an object with
    /// `anchor` has in the connector space once imported, which is how references to it are
    /// written. The engine rewrites references to objects it created before their confirming
    /// import (they still carry the name it gave them) with this. `None` (the default): DNs are
    /// the directory's own names and references are sent as they are.
    fn reference_dn(&self, anchor: &Anchor) -> Option<Dn> {
        let _ = anchor;
        None
    }
}
