//! The Entra ID connector over Microsoft Graph: the tenant as the engine's target. It signs in as
//! the sync application (certificate or secret), exports users and groups with hard and soft
//! match, restores, soft deletes and memberships through `$batch`, paces its writes under
//! Graph's limits, and imports the tenant with delta queries for confirming imports.
//!
//! Invariants (sync-engine.md sections 3 and 10): TLS is always verified (against the system
//! roots, plus a configured CA file for the local tenant emulator); objects are anchored on their
//! Graph object id and named `CN=<id>` (a reference is the DN of the object it names);
//! only properties Graph can write are sent, the others are reported once per class and
//! attribute, never per object per cycle; a create is never repeated without first looking for
//! the object it may have made.
//!
//! | file | role |
//! |---|---|
//! | [`auth`] | client credentials (certificate, secret), token cache, device code |
//! | [`client`] | HTTP, `$batch`, pacing, retries |
//! | [`mapping`] | Graph JSON and engine attributes |
//! | [`import`] | delta queries |
//! | [`export`] | creates, matches, updates, deletes, members |

pub mod auth;
pub mod client;
pub mod export;
pub mod import;
pub mod mapping;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::config::model::{Cloud, Tenant};
use crate::domain::{AttributeName, Dn};
use crate::engine::connector::{
    BoxFuture, Capabilities, Connector, ConnectorError, ImportSink, ImportSummary, SchemaAttribute,
    SchemaClass, Watermark,
};
use crate::engine::model::{Anchor, ConnectorName, ExportResult, PendingExport};
use crate::engine::rules::ConnectorKind;
use crate::engine::rules::schema::{AttrType, graph_writable};

pub use auth::{AuthError, CertificateCredential, ClientCredential, TokenSource};
pub use client::{GraphClient, RetryPolicy, WriteLimit};
pub use export::ExportPolicy;

/// Everything the connector needs.
#[derive(Debug)]
pub struct EntraOptions {
    /// The connector's name (`entra`).
    pub name: String,
    /// Tenant id or initial domain.
    pub tenant: String,
    /// `https://login.microsoftonline.com` or an override.
    pub authority_host: String,
    /// `https://graph.microsoft.com/v1.0` or an override.
    pub graph_base: String,
    /// The token scope: the cloud's Graph resource with `/.default`
    /// (`https://graph.microsoft.com/.default`), also when `graph_base` is overridden.
    pub scope: String,
    /// Extra CA certificate file to trust (the emulator's CA).
    pub ca_file: Option<PathBuf>,
    /// The application (client) id.
    pub client_id: String,
    /// Its credential.
    pub credential: ClientCredential,
    /// Soft match.
    pub policy: ExportPolicy,
    /// The write limit to pace under.
    pub write_limit: WriteLimit,
    /// Retries.
    pub retry: RetryPolicy,
    /// Directory extensions to register (on the application hybridsync signs in as) and read.
    pub extensions: Vec<DirectoryExtension>,
}

/// A directory extension property the connector registers, writes and reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryExtension {
    /// Users or groups.
    pub kind: mapping::Kind,
    /// The name without prefix (the AD attribute): `employeeNumber`.
    pub name: String,
}

/// The endpoints of a national cloud: (identity platform, Graph).
pub fn cloud_endpoints(cloud: Cloud) -> (&'static str, &'static str) {
    match cloud {
        Cloud::Global => (
            "https://login.microsoftonline.com",
            "https://graph.microsoft.com",
        ),
        Cloud::UsGov => (
            "https://login.microsoftonline.us",
            "https://graph.microsoft.us",
        ),
        Cloud::UsGovDod => (
            "https://login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
        ),
        Cloud::China => (
            "https://login.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
        ),
    }
}

impl EntraOptions {
    /// From `[tenant]` and the credential read from the credential store.
    pub fn from_tenant(name: &str, t: &Tenant, credential: ClientCredential) -> Self {
        let (authority, graph) = cloud_endpoints(t.cloud);
        let endpoint = t
            .graph_endpoint
            .clone()
            .unwrap_or_else(|| graph.to_string());
        let graph_base = if endpoint.trim_end_matches('/').ends_with("/v1.0") {
            endpoint.trim_end_matches('/').to_string()
        } else {
            format!("{}/v1.0", endpoint.trim_end_matches('/'))
        };
        Self {
            name: name.to_string(),
            tenant: t.tenant_id.clone(),
            authority_host: t
                .authority_host
                .clone()
                .unwrap_or_else(|| authority.to_string()),
            graph_base,
            scope: auth::graph_default_scope(graph),
            ca_file: t.ca_file.clone(),
            client_id: t.application.client_id.clone(),
            credential,
            policy: ExportPolicy {
                soft_match: t.soft_match,
            },
            write_limit: WriteLimit {
                requests: t.write_limit.requests.max(1),
                window: t
                    .write_limit
                    .window
                    .as_duration()
                    .max(std::time::Duration::from_secs(1)),
                ..WriteLimit::default()
            },
            retry: RetryPolicy::default(),
            extensions: Vec::new(),
        }
    }
}

/// Why the connector could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    /// The CA file could not be read or is not PEM.
    #[error("the CA file '{path}' cannot be used: {detail}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("the HTTPS client could not be set up: {0}")]
    Http(String),
}

/// The connector.
#[derive(Debug)]
pub struct EntraConnector {
    name: ConnectorName,
    client: GraphClient,
    policy: ExportPolicy,
    not_synced: Mutex<HashSet<String>>,
    client_id: String,
    extensions: Vec<DirectoryExtension>,
    selects: import::Selects,
    registered: tokio::sync::OnceCell<()>,
}

/// An HTTPS client that trusts the system roots and, when given, the CA in `ca_file`.
pub fn http_client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, EntraError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("hybridsync/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(20))
        .pool_idle_timeout(std::time::Duration::from_secs(60));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| EntraError::CaFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| EntraError::CaFile {
                path: path.display().to_string(),
                detail: format!("not PEM certificates ({e})"),
            })?;
        if certs.is_empty() {
            return Err(EntraError::CaFile {
                path: path.display().to_string(),
                detail: "it holds no certificate".into(),
            });
        }
        // Only the configured CA: an override points at a private endpoint (the emulator).
        b = b.tls_certs_only(certs);
    }
    b.build()
        .map_err(|e| EntraError::Http(client::error_chain(&e)))
}

impl EntraConnector {
    /// A connector from its options.
    pub fn new(o: EntraOptions) -> Result<Self, EntraError> {
        let http = http_client(o.ca_file.as_deref())?;
        let tokens = TokenSource::new(
            http.clone(),
            auth::token_url(&o.authority_host, &o.tenant),
            o.client_id.clone(),
            o.scope,
            o.credential,
        );
        let graph_name =
            |e: &DirectoryExtension| crate::engine::rules::extension_name(&o.client_id, &e.name);
        let selects = import::Selects {
            user: o
                .extensions
                .iter()
                .filter(|e| e.kind == mapping::Kind::User)
                .map(graph_name)
                .collect(),
            group: o
                .extensions
                .iter()
                .filter(|e| e.kind == mapping::Kind::Group)
                .map(graph_name)
                .collect(),
        };
        Ok(Self {
            name: ConnectorName::new(o.name),
            client: GraphClient::new(http, o.graph_base, tokens, o.write_limit, o.retry),
            policy: o.policy,
            not_synced: Mutex::new(HashSet::new()),
            client_id: o.client_id,
            extensions: o.extensions,
            selects,
            registered: tokio::sync::OnceCell::new(),
        })
    }

    /// Registers the directory extension properties the configuration names on the
    /// application hybridsync signs in as, once per connector (an extension must exist before
    /// Graph accepts or returns its values).
    async fn register_extensions(&self) -> Result<(), ConnectorError> {
        if self.extensions.is_empty() {
            return Ok(());
        }
        self.registered
            .get_or_try_init(|| async {
                let name = self.name.as_str();
                let apps = self
                    .client
                    .get_all(client::Request::get(format!(
                        "/applications?$filter=appId%20eq%20'{}'&$select=id,appId",
                        mapping::filter_literal(&self.client_id)
                    )))
                    .await
                    .map_err(|e| import::call(name, e))?;
                let app = apps
                    .first()
                    .and_then(|a| a.get("id"))
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| ConnectorError::Access {
                        connector: name.to_string(),
                        detail: format!(
                            "directory extensions need the application object of {} (Application.ReadWrite.OwnedBy, with the application's service principal as an owner of it); Graph did not return it",
                            self.client_id
                        ),
                    })?
                    .to_string();
                let existing = self
                    .client
                    .get_all(client::Request::get(format!(
                        "/applications/{app}/extensionProperties?$select=name,targetObjects"
                    )))
                    .await
                    .map_err(|e| import::call(name, e))?;
                let have: HashSet<String> = existing
                    .iter()
                    .filter_map(|e| e.get("name").and_then(serde_json::Value::as_str))
                    .map(str::to_ascii_lowercase)
                    .collect();
                for e in &self.extensions {
                    let full = crate::engine::rules::extension_name(&self.client_id, &e.name);
                    if have.contains(&full.to_ascii_lowercase()) {
                        continue;
                    }
                    let target = match e.kind {
                        mapping::Kind::User => "User",
                        mapping::Kind::Group => "Group",
                    };
                    let reply = self
                        .client
                        .call(client::Request::create(
                            format!("/applications/{app}/extensionProperties"),
                            serde_json::json!({
                                "name": e.name,
                                "dataType": "String",
                                "targetObjects": [target],
                            }),
                        ))
                        .await
                        .map_err(|err| import::call(name, err))?;
                    if !reply.ok() && !reply.message().contains("already") {
                        return Err(import::failed(
                            name,
                            &format!("registering the directory extension {full}"),
                            &reply,
                        ));
                    }
                    tracing::info!(extension = %full, "directory extension registered");
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// The Graph client (counters for reports and benchmarks).
    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    /// The DN a Graph object id has in the connector space.
    pub fn dn_of(id: &str) -> Dn {
        mapping::dn_of(id)
    }
}

fn kind_name(t: AttrType) -> &'static str {
    match t {
        AttrType::Str => "str",
        AttrType::Num => "num",
        AttrType::Bool => "bool",
        AttrType::Bin => "bin",
        AttrType::Ref => "ref",
        AttrType::Dt => "dt",
    }
}

impl Connector for EntraConnector {
    fn name(&self) -> &ConnectorName {
        &self.name
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Entra
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            delta_import: true,
            export: true,
            rename: false,
            writable: ["user", "group"]
                .iter()
                .map(|c| {
                    (
                        (*c).to_string(),
                        graph_writable(c)
                            .iter()
                            .filter_map(|d| AttributeName::new(d.name).ok())
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    fn schema(&self) -> BoxFuture<'_, Result<Vec<SchemaClass>, ConnectorError>> {
        Box::pin(async move {
            Ok(["user", "group"]
                .iter()
                .map(|c| SchemaClass {
                    name: (*c).to_string(),
                    attributes: graph_writable(c)
                        .iter()
                        .filter_map(|d| {
                            Some(SchemaAttribute {
                                name: AttributeName::new(d.name).ok()?,
                                multi_valued: d.multi,
                                kind: kind_name(d.ty),
                            })
                        })
                        .collect(),
                })
                .collect())
        })
    }

    fn full_import<'a>(
        &'a self,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(async move {
            self.register_extensions().await?;
            import::full(&self.client, self.name.as_str(), &self.selects, sink).await
        })
    }

    fn delta_import<'a>(
        &'a self,
        since: &'a Watermark,
        sink: &'a mut dyn ImportSink,
    ) -> BoxFuture<'a, Result<ImportSummary, ConnectorError>> {
        Box::pin(async move {
            self.register_extensions().await?;
            import::delta(&self.client, self.name.as_str(), &self.selects, since, sink).await
        })
    }

    fn export<'a>(
        &'a self,
        batch: &'a [PendingExport],
    ) -> BoxFuture<'a, Result<Vec<ExportResult>, ConnectorError>> {
        Box::pin(async move {
            self.register_extensions().await?;
            export::export(&self.client, self.policy, &self.not_synced, batch)
                .await
                .map_err(|e| match e {
                    ConnectorError::Unavailable { detail, .. } => ConnectorError::Unavailable {
                        connector: self.name.to_string(),
                        detail,
                    },
                    other => other,
                })
        })
    }

    fn reference_dn(&self, anchor: &Anchor) -> Option<Dn> {
        match anchor {
            Anchor::Text(id) => Some(mapping::dn_of(id)),
            Anchor::Bytes(_) => None,
        }
    }
}
