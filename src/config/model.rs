//! The typed configuration: one struct per section of `hybridsync.toml`.
//!
//! Invariants: every section has a complete built-in default (`Default`), so a file only needs the
//! keys that differ; every struct rejects unknown keys (`deny_unknown_fields`) so a typo is an
//! error, never a silently ignored setting; secrets appear only as [`SecretRef`]s. Serializing a
//! `Config` gives the *effective* configuration (all defaults filled in), which is what `config
//! show`, `config export` and `config diff` work on. Cross-field rules live in `validate.rs`, not
//! here: this file is the shape, that file is the meaning.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::interval::Interval;
use crate::credentials::{BackendChoice, SecretRef};
use crate::domain::{AttributeName, Dn, ObjectGuid};

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Version of the file format; this build understands [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Installation options: where state lives and who the service runs as.
    #[serde(default)]
    pub install: Install,
    /// On-premises AD forests, one entry per forest (Connect your directories).
    #[serde(default)]
    pub directories: Vec<Directory>,
    /// The Entra ID tenant and the sync application identity (Connect to Entra ID).
    #[serde(default)]
    pub tenant: Tenant,
    /// User sign-in method and the UPN attribute (User sign-in, Entra sign-in configuration).
    #[serde(default)]
    pub sign_in: SignIn,
    /// Source anchor and cross-forest matching (Uniquely identifying your users).
    #[serde(default)]
    pub identity: Identity,
    /// Optional features (writebacks, PHS, Exchange hybrid, directory extensions, filtering).
    #[serde(default)]
    pub features: Features,
    /// Scheduler, staging mode and the accidental-delete guard.
    #[serde(default)]
    pub sync: Sync,
    /// The engine's database.
    #[serde(default)]
    pub store: Store,
    /// Logs.
    #[serde(default)]
    pub logging: Logging,
    /// The long-running service: metrics and health endpoint.
    #[serde(default)]
    pub service: Service,
    /// Terminal wizard preferences.
    #[serde(default)]
    pub wizard: Wizard,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            install: Install::default(),
            directories: Vec::new(),
            tenant: Tenant::default(),
            sign_in: SignIn::default(),
            identity: Identity::default(),
            features: Features::default(),
            sync: Sync::default(),
            store: Store::default(),
            logging: Logging::default(),
            service: Service::default(),
            wizard: Wizard::default(),
        }
    }
}

/// How the configuration was first made: the wizard's Express or Custom path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallMode {
    /// Express settings: one forest, all domains and OUs, password hash sync.
    #[default]
    Express,
    /// Custom settings: every page of the wizard.
    Custom,
}

/// `[install]`: installation options (the Custom path's "Install required components").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Install {
    /// Express or custom (informational; shown by "view configuration").
    pub mode: InstallMode,
    /// State directory (database, credential file, locks, logs). Unset: `/var/lib/hybridsync`
    /// as root, the XDG state directory otherwise. `--state-dir` and `HYBRIDSYNC_STATE_DIR` win.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// The Unix account the service runs as.
    pub service_user: String,
    /// Where `store:` secrets live: `auto`, `encrypted-file` or `secret-service`. `auto` means the
    /// encrypted file when running as root (the system service has no desktop session), else the
    /// Secret Service when a desktop session offers one, else the encrypted file.
    pub credential_backend: BackendChoice,
}

impl Default for Install {
    fn default() -> Self {
        Self {
            mode: InstallMode::Express,
            state_dir: None,
            service_user: "hybridsync".into(),
            credential_backend: BackendChoice::Auto,
        }
    }
}

/// One on-premises AD forest and its connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Forest root DNS name, e.g. `corp.example.com`.
    pub forest: String,
    /// Connector name shown in status and history. Default: the forest name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_name: Option<String>,
    /// Domain controllers to use, `host` or `host:port`. Empty: discover them through DNS SRV
    /// (`_ldap._tcp.dc._msdcs.<domain>`).
    #[serde(default)]
    pub domain_controllers: Vec<String>,
    /// DNS server for SRV discovery when this host's resolver does not point at AD DNS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_server: Option<IpAddr>,
    /// Transport security towards the DCs.
    #[serde(default)]
    pub tls: DirectoryTls,
    /// The AD DS connector account.
    pub account: ConnectorAccount,
    /// Domain and OU filtering.
    #[serde(default)]
    pub scope: Scope,
    /// Group-based filtering for a pilot ("Synchronize selected"): only direct members sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pilot_group: Option<ObjectRef>,
    /// Delete-guard thresholds for exports to this directory (writeback); unset: `[sync.delete_guard]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_guard: Option<DeleteGuard>,
    /// Read this forest from an LDIF file instead of over LDAP (the demo's sample directory, a
    /// dry run against an `ldifde` export). The LDAP settings are then unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldif_file: Option<PathBuf>,
}

impl Directory {
    /// The connector's name: the configured one, or the forest name.
    pub fn connector(&self) -> &str {
        self.connector_name.as_deref().unwrap_or(&self.forest)
    }
}

/// How LDAP traffic to the DCs is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// LDAP over TLS on port 636.
    #[default]
    Ldaps,
    /// LDAP on port 389 upgraded with StartTLS.
    Starttls,
    /// Unencrypted LDAP on port 389: passwords and directory data cross the network in clear.
    Plain,
}

impl TlsMode {
    /// The port used when a DC entry has none.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Ldaps => 636,
            Self::Starttls | Self::Plain => 389,
        }
    }
}

/// `[directories.tls]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryTls {
    /// `ldaps` (default), `starttls` or `plain`.
    pub mode: TlsMode,
    /// PEM file with the CA certificate(s) that issued the DCs' certificates. Unset: the system
    /// trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Verify the DC certificate and name. Turning this off is an explicit, warned opt-in.
    pub verify_certificate: bool,
}

impl Default for DirectoryTls {
    fn default() -> Self {
        Self {
            mode: TlsMode::Ldaps,
            ca_file: None,
            verify_certificate: true,
        }
    }
}

/// `[directories.account]`: the AD DS connector account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorAccount {
    /// Bind name: `user@realm`, `DOMAIN\user` or a DN.
    pub username: String,
    /// Where its password is kept.
    pub secret_ref: SecretRef,
    /// True when hybridsync created the account (`MSOL_<hex>`) and manages its rights.
    #[serde(default)]
    pub managed: bool,
}

/// Whether all domains and OUs sync or only a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeMode {
    /// Sync all domains and OUs.
    #[default]
    All,
    /// Sync selected domains and OUs.
    Selected,
}

/// `[directories.scope]`: domain and OU filtering.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scope {
    /// `all` (default) or `selected`.
    pub mode: ScopeMode,
    /// With `selected`: the domains (naming contexts) to sync. Empty: every domain that has an
    /// included OU.
    pub domains: Vec<DomainRef>,
    /// With `selected`: containers included with their whole subtree (new child OUs included).
    pub include: Vec<ObjectRef>,
    /// Containers excluded below an included one.
    pub exclude: Vec<ObjectRef>,
}

/// A domain partition chosen for sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRef {
    /// DNS name of the domain.
    pub name: String,
    /// Its naming context, e.g. `DC=corp,DC=example,DC=com`.
    pub naming_context: Dn,
}

/// A directory object remembered by DN *and* objectGUID, so a rename keeps its meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    /// Distinguished name when last seen.
    pub dn: Dn,
    /// objectGUID; the engine fills it in when missing and follows renames by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<ObjectGuid>,
}

/// Which cloud the tenant lives in; sets the default endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Microsoft Entra ID global service.
    #[default]
    Global,
    /// Microsoft Entra ID for US Government (GCC High).
    UsGov,
    /// Microsoft Entra ID for US Government DoD.
    UsGovDod,
    /// Microsoft Entra ID operated by 21Vianet (China).
    China,
}

impl Cloud {
    /// The identity platform host for this cloud.
    pub fn authority_host(self) -> &'static str {
        match self {
            Self::Global => "https://login.microsoftonline.com",
            Self::UsGov | Self::UsGovDod => "https://login.microsoftonline.us",
            Self::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Microsoft Graph endpoint for this cloud.
    pub fn graph_endpoint(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com",
            Self::UsGov => "https://graph.microsoft.us",
            Self::UsGovDod => "https://dod-graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// What the cloud side is written through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// Microsoft Graph v1.0 (public API; objects it creates are cloud-managed).
    #[default]
    Graph,
}

/// `[tenant]`: the Entra ID tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tenant {
    /// Tenant ID (GUID) or its initial domain (`contoso.onmicrosoft.com`).
    pub tenant_id: String,
    /// `global` (default), `us-gov`, `us-gov-dod` or `china`.
    pub cloud: Cloud,
    /// The write path to the cloud.
    pub target: TargetKind,
    /// Override of the identity platform host (the local tenant emulator stands in here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority_host: Option<String>,
    /// Override of the Graph endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_endpoint: Option<String>,
    /// Extra CA certificate(s) to trust for the endpoints above (e.g. the emulator's local CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Soft match new objects by UPN / primary SMTP address (as Entra Connect does by default).
    pub soft_match: bool,
    /// The sync application identity.
    pub application: Application,
    /// The write rate hybridsync keeps under (Graph's limit per application and tenant).
    pub write_limit: GraphWriteLimit,
    /// Write the tenant into an LDIF file instead of Microsoft Graph (the demo without an
    /// emulator, tests). Only for trying hybridsync out: nothing reaches Entra ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldif_file: Option<PathBuf>,
}

impl Default for Tenant {
    fn default() -> Self {
        Self {
            tenant_id: String::new(),
            cloud: Cloud::Global,
            target: TargetKind::Graph,
            authority_host: None,
            graph_endpoint: None,
            ca_file: None,
            soft_match: true,
            application: Application::default(),
            write_limit: GraphWriteLimit::default(),
            ldif_file: None,
        }
    }
}

/// `[tenant.write_limit]`: the writes hybridsync sends to Microsoft Graph in any window, paced
/// so that Graph does not throttle. Graph allows 3,000 write requests per 150 seconds per
/// application and tenant; change it only for the local tenant emulator with scaled limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphWriteLimit {
    /// Write requests per window.
    pub requests: u32,
    /// The window.
    pub window: Interval,
}

impl Default for GraphWriteLimit {
    fn default() -> Self {
        Self {
            requests: 3000,
            window: Interval::from_secs(150),
        }
    }
}

/// `[tenant.application]`: the app registration hybridsync signs in as.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Application {
    /// Application (client) ID.
    pub client_id: String,
    /// Certificate credential (PEM key and certificate) in the credential store. Preferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_ref: Option<SecretRef>,
    /// Client secret in the credential store, when no certificate is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_ref: Option<SecretRef>,
}

/// User sign-in method (the wizard's "User sign-in" page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInMethod {
    /// Password hash synchronization.
    #[default]
    PasswordHashSync,
    /// Pass-through authentication (Microsoft's agent on Windows).
    PassThrough,
    /// Federation with AD FS.
    FederationAdfs,
    /// Federation with PingFederate.
    FederationPingfederate,
    /// Do not configure: a third-party identity provider handles sign-in.
    DoNotConfigure,
}

/// `[sign_in]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignIn {
    /// How users sign in to Entra ID.
    pub method: SignInMethod,
    /// Seamless single sign-on (only with password hash sync or pass-through).
    pub single_sign_on: bool,
    /// On-premises attribute used as the Entra user principal name.
    pub upn_attribute: AttributeName,
    /// Continue although some UPN suffixes are not verified domains in the tenant.
    pub continue_without_verified_domains: bool,
}

impl Default for SignIn {
    fn default() -> Self {
        Self {
            method: SignInMethod::PasswordHashSync,
            single_sign_on: false,
            upn_attribute: default_attr("userPrincipalName"),
            continue_without_verified_domains: false,
        }
    }
}

/// How users that appear in more than one forest are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserMatching {
    /// Users are represented only once across all forests.
    #[default]
    Once,
    /// Join users and contacts on `mail`.
    Mail,
    /// Join on objectSID and msExchangeMasterAccountSID (linked mailboxes).
    ObjectsidMsexchmasteraccountsid,
    /// Join on sAMAccountName and mailNickname.
    SamaccountnameMailnickname,
    /// Join on `identity.matching_attribute`.
    Attribute,
}

/// `[identity]`: uniquely identifying your users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Identity {
    /// Source anchor attribute: `mS-DS-ConsistencyGuid` (default), `objectGUID` or another
    /// immutable, unique attribute. Cannot be changed after the first export.
    pub source_anchor: AttributeName,
    /// Cross-forest matching of users.
    pub user_matching: UserMatching,
    /// The join attribute when `user_matching = "attribute"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_attribute: Option<AttributeName>,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            source_anchor: default_attr("mS-DS-ConsistencyGuid"),
            user_matching: UserMatching::Once,
            matching_attribute: None,
        }
    }
}

/// `[features]`: the optional features page.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    /// Exchange hybrid deployment: write back Exchange Online attributes to AD.
    pub exchange_hybrid: Toggle,
    /// Exchange mail public folders.
    pub exchange_mail_public_folders: Toggle,
    /// Password hash synchronization (also as a backup for other sign-in methods).
    pub password_hash_sync: PasswordHashSync,
    /// Password writeback (self-service password reset).
    pub password_writeback: Toggle,
    /// Group writeback: cloud groups written to an AD OU.
    pub group_writeback: GroupWriteback,
    /// Device writeback: registered devices written to AD.
    pub device_writeback: DeviceWriteback,
    /// Directory extension attribute sync.
    pub directory_extensions: DirectoryExtensions,
    /// Entra app and attribute filtering.
    pub app_and_attribute_filtering: AppAndAttributeFiltering,
}

/// A feature with nothing to set but on/off.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Toggle {
    /// Whether the feature is on.
    pub enabled: bool,
}

/// `[features.password_hash_sync]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordHashSync {
    /// On, off, or unset: follow the sign-in method (on for `password-hash-sync`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `[features.group_writeback]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupWriteback {
    /// Whether the feature is on.
    pub enabled: bool,
    /// Forest that receives the groups. Default: the first directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forest: Option<String>,
    /// OU that receives written-back groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_ou: Option<ObjectRef>,
    /// Name written-back groups `CN=<displayName>_<last 12 hex of id>` instead of `CN=Group_<id>`.
    pub dn_from_display_name: bool,
}

/// `[features.device_writeback]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceWriteback {
    /// Whether the feature is on.
    pub enabled: bool,
    /// Forest that receives devices. Default: the first directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forest: Option<String>,
}

/// `[features.directory_extensions]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryExtensions {
    /// Whether the feature is on.
    pub enabled: bool,
    /// Attributes to sync as `extension_<appId>_<name>`, written `user.<attribute>` or
    /// `group.<attribute>`.
    pub attributes: Vec<String>,
}

/// Cloud services whose attributes are synced (app and attribute filtering, page 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloudApp {
    /// Office 365 ProPlus / Microsoft 365 Apps.
    Office365Proplus,
    /// Exchange Online.
    ExchangeOnline,
    /// SharePoint Online.
    SharepointOnline,
    /// Lync / Skype for Business Online.
    LyncOnline,
    /// Azure RMS.
    AzureRms,
    /// Intune.
    Intune,
    /// Dynamics CRM.
    DynamicsCrm,
    /// Third-party applications.
    ThirdPartyApplications,
}

/// `[features.app_and_attribute_filtering]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppAndAttributeFiltering {
    /// Whether the feature is on.
    pub enabled: bool,
    /// Cloud services in use; attributes only they need are not synced otherwise.
    pub apps: Vec<CloudApp>,
    /// Attributes not to sync, written `user.<attribute>`, `group.<attribute>` or
    /// `contact.<attribute>`.
    pub excluded_attributes: Vec<String>,
}

/// `[sync]`: scheduler, staging and the delete guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sync {
    /// Staging mode: import and sync run, nothing is exported.
    pub staging_mode: bool,
    /// Whether the scheduler runs cycles (the wizard's "Start the synchronization process").
    pub scheduler_enabled: bool,
    /// Time between delta cycles (`30m` by default, between `2m` and `7d`).
    pub interval: Interval,
    /// How long run history and per-object errors are kept.
    pub history_retention: Interval,
    /// Accidental-delete guard for exports to the tenant.
    pub delete_guard: DeleteGuard,
}

impl Default for Sync {
    fn default() -> Self {
        Self {
            staging_mode: false,
            scheduler_enabled: true,
            interval: Interval::from_minutes(30),
            history_retention: Interval::from_days(7),
            delete_guard: DeleteGuard::default(),
        }
    }
}

/// Thresholds that stop an export which would delete too much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeleteGuard {
    /// Whether the guard is on.
    pub enabled: bool,
    /// Block an export with more than this many deletes.
    pub count: u32,
    /// Also block when deletes exceed this percentage of the connector's objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
}

impl Default for DeleteGuard {
    fn default() -> Self {
        Self {
            enabled: true,
            count: 500,
            percent: None,
        }
    }
}

/// Which database holds the engine state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreBackend {
    /// SQLite in the state directory.
    #[default]
    Sqlite,
    /// PostgreSQL (reserved for large or highly available deployments).
    Postgres,
}

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Store {
    /// `sqlite` (default) or `postgres` (reserved).
    pub backend: StoreBackend,
    /// SQLite file; relative paths are inside the state directory.
    pub path: PathBuf,
    /// PostgreSQL connection URL, kept in the credential store (it carries a password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres_url_ref: Option<SecretRef>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Sqlite,
            path: PathBuf::from("hybridsync.db"),
            postgres_url_ref: None,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a filter such as `info,hybridsync::engine=debug`.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
    /// Log file; relative paths are inside the state directory. Unset: standard error (the
    /// wizard always logs to `<state dir>/logs/wizard.log`, never to the screen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

impl Default for Logging {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
            file: None,
        }
    }
}

/// `[service]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Service {
    /// Address for `/metrics` (Prometheus) and `/healthz`. Unset: no listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
}

/// `[wizard]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Wizard {
    /// Theme: a built-in name (`default`, `high-contrast`, `light`, `monochrome`) or a path to a
    /// theme file.
    pub theme: String,
}

impl Default for Wizard {
    fn default() -> Self {
        Self {
            theme: "default".into(),
        }
    }
}

/// A default attribute name; `defaults_are_valid` proves each literal passes validation.
fn default_attr(name: &'static str) -> AttributeName {
    AttributeName::known(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        for name in ["userPrincipalName", "mS-DS-ConsistencyGuid"] {
            AttributeName::new(name).unwrap();
        }
        assert_eq!(
            SignIn::default().upn_attribute.to_string(),
            "userPrincipalName"
        );
        assert_eq!(
            Identity::default().source_anchor.to_string(),
            "mS-DS-ConsistencyGuid"
        );
    }

    #[test]
    fn connector_name_defaults_to_forest() {
        let d: Directory = toml::from_str(
            "forest = 'corp.example.com'\n[account]\nusername = 'x@corp.example.com'\nsecret_ref = 'store:ad'\n",
        )
        .unwrap();
        assert_eq!(d.connector(), "corp.example.com");
    }
}
