//! The Active Directory connector over LDAP: full imports with paged results, delta imports
//! with the DirSync control (or USN polling without replication rights), export for writeback,
//! schema and OU-tree discovery, and DC discovery through DNS SRV. Works with Windows AD DS and
//! Samba AD.
//!
//! Invariants (design.md section 9, sync-engine.md section 9): TLS with verification by default
//! (plain LDAP or an unverified certificate only by explicit configuration, warned on every
//! connection); objects are anchored on objectGUID (`Anchor::Bytes`), never on the DN; values
//! are typed by the directory's schema, binary attributes stay binary; referrals are never
//! chased and search references are ignored; nothing here panics on what a DC sends (BER is
//! decoded by our own checked readers); the watermark (per naming context: a DirSync cookie or
//! a USN with its DC) is handed to the engine, which persists it only after the imported
//! objects are committed.
//!
//! | file | role |
//! |---|---|
//! | [`connection`] | TCP/TLS, bind, timeouts, the LDAP operations |
//! | [`discovery`] | rootDSE, schema read, invocationId, the OU tree |
//! | [`dns`] | DC discovery by DNS SRV |
//! | [`schema`] | attribute syntaxes and value typing |
//! | [`ber`], [`dirsync`] | BER, the DirSync and paging controls, the watermark format |
//! | [`entry`] | search entries from raw BER |
//! | [`import`] | full and delta imports |
//! | [`export`] | writeback |
//! | [`error`] | errors with LDAP result codes and AD's bind data codes |

pub mod ber;
pub mod connection;
pub mod dirsync;
pub mod discovery;
pub mod dns;
pub mod entry;
pub mod error;
pub mod export;
pub mod import;
pub mod schema;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use connection::{Endpoint, Session, Settings};
pub use discovery::{RootDse, TreeNode};
pub use error::AdError;

use crate::config::model::{Directory, TlsMode};
use crate::connectors::file::connector::DEFAULT_CLASSES;
use crate::domain::{Dn, Secret};
use crate::engine::connector::{
    BoxFuture, Capabilities, Connector, ConnectorError, ImportSink, ImportSummary, SchemaClass,
    Watermark,
};
use crate::engine::model::{Anchor, ConnectorName, ExportResult, PendingExport};
use crate::engine::rules::ConnectorKind;
use schema::Schema;

/// Everything the connector needs to know.
#[derive(Debug, Clone)]
pub struct AdOptions {
    /// The connector's name.
    pub name: String,
    /// DCs to use, in order of preference; empty: discover them with DNS SRV for `domain`.
    pub endpoints: Vec<Endpoint>,
    /// The domain whose DCs DNS discovery looks for.
    pub domain: String,
    /// The DNS server for discovery; `None`: the first of /etc/resolv.conf.
    pub dns_server: Option<SocketAddr>,
    /// TLS, credentials and timeouts.
    pub settings: Settings,
    /// Naming contexts to import; empty: the DC's default naming context.
    pub naming_contexts: Vec<Dn>,
    /// Object classes imported (most specific class).
    pub classes: Vec<String>,
    /// Use DirSync for deltas when the account may; `false`: always poll uSNChanged.
    pub dirsync: bool,
    /// Paged results page size.
    pub page_size: i32,
    /// Read multi-valued linked attributes (`member`) in ranges of this many values, as a
    /// Windows DC with this MaxValRange would hand them out; `None`: as the DC sends them
    /// (Windows ranges at 1500 by itself; Samba never does).
    pub value_range: Option<u32>,
    /// Hand over a DirSync entry that carries only linked-value changes (one member more or
    /// less) as those values ([`ImportItem::ValueChanges`](crate::engine::model::ImportItem));
    /// `false`: read every changed object again whole (for comparison; the default is `true`).
    pub value_changes: bool,
}

impl AdOptions {
    /// Options for one DC with the defaults: LDAPS, verification, 30 s timeout, page size 500.
    pub fn new(name: &str, endpoint: Endpoint, bind_name: &str, password: Secret) -> Self {
        Self {
            name: name.to_owned(),
            endpoints: vec![endpoint],
            domain: String::new(),
            dns_server: None,
            settings: Settings {
                tls: TlsMode::Ldaps,
                ca_file: None,
                verify_certificate: true,
                bind_name: bind_name.to_owned(),
                password,
                timeout: Duration::from_secs(30),
            },
            naming_contexts: Vec::new(),
            classes: DEFAULT_CLASSES.iter().map(|c| (*c).to_owned()).collect(),
            dirsync: true,
            page_size: 500,
            value_range: None,
            value_changes: true,
        }
    }

    /// Options from a `[[directories]]` table and the account's password.
    pub fn from_directory(d: &Directory, password: Secret) -> Result<Self, AdError> {
        let port = d.tls.mode.default_port();
        let endpoints = d
            .domain_controllers
            .iter()
            .map(|dc| Endpoint::parse(dc, port))
            .collect::<Result<Vec<_>, _>>()?;
        let mut o = Self::new(
            d.connector(),
            Endpoint {
                host: String::new(),
                port,
            },
            &d.account.username,
            password,
        );
        o.endpoints = endpoints;
        o.domain = d.forest.clone();
        o.dns_server = d.dns_server.map(|ip: IpAddr| SocketAddr::new(ip, 53));
        o.settings.tls = d.tls.mode;
        o.settings.ca_file = d.tls.ca_file.clone();
        o.settings.verify_certificate = d.tls.verify_certificate;
        o.naming_contexts = d
            .scope
            .domains
            .iter()
            .map(|dom| dom.naming_context.clone())
            .collect();
        Ok(o)
    }
}

/// A connected AD forest.
pub struct AdConnector {
    name: ConnectorName,
    options: AdOptions,
    schema: Mutex<Option<Arc<Schema>>>,
    stats: Counters,
}

/// What this connector's delta imports did so far (since it was created): how much DirSync
/// made it read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdStatistics {
    /// Objects a delta import read again whole (every value of every attribute): changed
    /// objects whose DirSync entry carried more than linked-value changes, and objects the
    /// engine asked for again ([`Connector::reread`]).
    pub objects_reread: u64,
    /// Objects handed over as [`ImportItem::ValueChanges`](crate::engine::model::ImportItem)
    /// (only the added and removed values, nothing read again).
    pub value_change_items: u64,
}

#[derive(Debug, Default)]
struct Counters {
    objects_reread: std::sync::atomic::AtomicU64,
    value_change_items: std::sync::atomic::AtomicU64,
}

impl AdConnector {
    /// A connector; nothing is contacted until it is used.
    pub fn new(options: AdOptions) -> Self {
        Self {
            name: ConnectorName::new(options.name.clone()),
            options,
            schema: Mutex::new(None),
            stats: Counters::default(),
        }
    }

    /// What its delta imports did so far.
    pub fn statistics(&self) -> AdStatistics {
        use std::sync::atomic::Ordering::Relaxed;
        AdStatistics {
            objects_reread: self.stats.objects_reread.load(Relaxed),
            value_change_items: self.stats.value_change_items.load(Relaxed),
        }
    }

    fn count(&self, reread: u64, value_change_items: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats.objects_reread.fetch_add(reread, Relaxed);
        self.stats
            .value_change_items
            .fetch_add(value_change_items, Relaxed);
    }

    /// Its options.
    pub fn options(&self) -> &AdOptions {
        &self.options
    }

    /// The DCs to try: the configured ones, else those DNS SRV names (with the port of the
    /// TLS mode for LDAPS).
    pub async fn endpoints(&self) -> Result<Vec<Endpoint>, AdError> {
        if !self.options.endpoints.is_empty() {
            return Ok(self.options.endpoints.clone());
        }
        if self.options.domain.is_empty() {
            return Err(AdError::Config(
                "no domain controller configured and no domain to discover them in".into(),
            ));
        }
        let server = match self.options.dns_server {
            Some(s) => s,
            None => SocketAddr::new(
                dns::system_dns_server().ok_or_else(|| {
                    AdError::Dns(
                        "no DNS server configured and none in /etc/resolv.conf; set \
                         dns_server or domain_controllers"
                            .into(),
                    )
                })?,
                53,
            ),
        };
        let name = dns::dc_srv_name(&self.options.domain);
        let records = dns::srv_lookup(server, &name, self.options.settings.timeout).await?;
        if records.is_empty() {
            return Err(AdError::Dns(format!(
                "{server} knows no SRV records for {name}: set domain_controllers"
            )));
        }
        Ok(records
            .into_iter()
            .map(|r| Endpoint {
                host: r.target,
                port: match self.options.settings.tls {
                    TlsMode::Ldaps => 636,
                    _ => r.port,
                },
            })
            .collect())
    }

    /// Open a bound session with the first DC that answers (`prefer`red DC first). A refused
    /// bind is final: other DCs would refuse it too.
    pub async fn connect(&self, prefer: Option<&str>) -> Result<Session, AdError> {
        let mut endpoints = self.endpoints().await?;
        if let Some(p) = prefer {
            endpoints.sort_by_key(|e| !e.host.eq_ignore_ascii_case(p));
        }
        let mut last = None;
        for ep in &endpoints {
            match Session::open(&self.options.settings, ep).await {
                Ok(s) => return Ok(s),
                Err(e) if e.is_connection() => {
                    tracing::warn!(dc = %ep.url(self.options.settings.tls), error = %e, "DC unreachable");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AdError::Config("no domain controller to connect to".into())))
    }

    /// The rootDSE of the first DC that answers.
    pub async fn root_dse(&self) -> Result<RootDse, AdError> {
        let mut s = self.connect(None).await?;
        let root = discovery::root_dse(&mut s).await;
        s.close().await;
        root
    }

    /// The containers directly below `parent` (the wizard's OU tree, one level at a time).
    pub async fn children(&self, parent: &Dn) -> Result<Vec<TreeNode>, AdError> {
        let mut s = self.connect(None).await?;
        let nodes = discovery::children(&mut s, parent).await;
        s.close().await;
        nodes
    }

    /// The naming contexts to import: the configured ones (which must be naming contexts of
    /// the DC: DirSync only works from a naming context's root), else the DC's domain.
    fn contexts_of(&self, root: &RootDse) -> Result<Vec<String>, AdError> {
        if self.options.naming_contexts.is_empty() {
            return Ok(vec![root.default_naming_context.clone()]);
        }
        self.options
            .naming_contexts
            .iter()
            .map(|nc| {
                let held = root
                    .naming_contexts
                    .iter()
                    .any(|h| Dn::parse(h).is_ok_and(|h| &h == nc));
                if held {
                    Ok(nc.to_string())
                } else {
                    Err(AdError::Config(format!(
                        "'{nc}' is not a naming context of {} (it holds {})",
                        root.dns_host_name,
                        root.naming_contexts.join("; ")
                    )))
                }
            })
            .collect()
    }

    /// The forest's schema (attributes and classes), read once per connector.
    pub async fn read_schema(&self) -> Result<Arc<Schema>, AdError> {
        let mut s = self.connect(None).await?;
        let schema = match discovery::root_dse(&mut s).await {
            Ok(root) => self.schema_for(&mut s, &root).await,
            Err(e) => Err(e),
        };
        s.close().await;
        schema
    }

    /// The schema, read once per connector.
    async fn schema_for(
        &self,
        session: &mut Session,
        root: &RootDse,
    ) -> Result<Arc<Schema>, AdError> {
        if let Some(s) = self.schema.lock().ok().and_then(|g| g.clone()) {
            return Ok(s);
        }
        let schema = Arc::new(discovery::schema(session, root).await?);
        if let Ok(mut g) = self.schema.lock() {
            *g = Some(Arc::clone(&schema));
        }
        Ok(schema)
    }

    async fn engine_schema(&self) -> Result<Vec<SchemaClass>, ConnectorError> {
        let ad = |e: AdError| e.into_connector(self.name.as_str());
        let mut s = self.connect(None).await.map_err(ad)?;
        let root = discovery::root_dse(&mut s).await.map_err(ad)?;
        let schema = self.schema_for(&mut s, &root).await.map_err(ad)?;
        s.close().await;
        Ok(schema.engine_classes(&self.options.classes))
    }
}

impl Connector for AdConnector {
    fn name(&self) -> &ConnectorName {
        &self.name
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Ad
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            delta_import: true,
            export: true,
            rename: true,
            writable: Vec::new(),
        }
    }

    fn schema(&self) -> BoxFuture<'_, Result<Vec<SchemaClass>, ConnectorError>> {
        Box::pin(self.engine_schema())
    }

    fn full_import<'a>(
        &'a self,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(self.run_full_import(sink))
    }

    fn delta_import<'a>(
        &'a self,
        since: &'a Watermark,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(self.run_delta_import(since, sink))
    }

    fn reread<'a>(
        &'a self,
        anchors: &'a [Anchor],
        sink: &'a mut dyn ImportSink,
    ) -> Option<BoxFuture<'a, Result<u64, ConnectorError>>> {
        Some(Box::pin(self.run_reread(anchors, sink)))
    }

    fn export<'a>(
        &'a self,
        batch: &'a [PendingExport],
    ) -> BoxFuture<'a, Result<Vec<ExportResult>, ConnectorError>> {
        Box::pin(self.run_export(batch))
    }
}
