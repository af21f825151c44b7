//! What the real runner needs to know about the world it acts on: where the tenant's identity
//! platform and Graph are (Entra ID or the local tenant emulator), which public client signs the
//! administrator in, the credential store, forests read from LDIF files instead of LDAP, and how
//! to run the first cycle (handed in by the command line, which owns the engine's wiring).
//!
//! Invariants: the context holds no secret (the admin's token lives in the runner's session and
//! dies with it); a context without a credential store or a cycle hook makes the steps that need
//! them fail with a fix, never pretend.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::model::Cloud;
use crate::credentials::CredentialStore;
use crate::effects::Failure;

/// The public client the administrator signs in with by device code when nothing else is set:
/// Microsoft Graph Command Line Tools, a Microsoft first-party public client that allows the
/// device code flow and the delegated Graph permissions the wizard asks for.
pub const DEFAULT_SIGN_IN_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// The credential store name of the sync application's certificate and key.
pub const CERTIFICATE_SECRET: &str = "entra-app-certificate";

/// Runs the first cycle from the configuration file given, returning the lines the Complete page
/// shows (counts, where the history and logs are). Called on a blocking thread; the flag turns
/// true when the admin cancels the step, and the cycle then stops at its next safe point.
pub type CycleHook = Arc<
    dyn Fn(PathBuf, Arc<std::sync::atomic::AtomicBool>) -> Result<Vec<String>, Failure>
        + Send
        + Sync,
>;

/// Opens the credential store of another state directory (the Custom path's "custom state
/// directory"); handed in by the command line, which knows the backend.
pub type StoreOpener =
    Arc<dyn Fn(&std::path::Path) -> Result<Arc<CredentialStore>, Failure> + Send + Sync>;

/// Where the tenant is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// The national cloud (default endpoints and token scopes).
    pub cloud: Cloud,
    /// Override of the identity platform host (the emulator's base URL).
    pub authority_host: Option<String>,
    /// Override of the Graph endpoint (the emulator's `/v1.0`).
    pub graph_endpoint: Option<String>,
    /// An extra CA to trust for both (the emulator's local CA).
    pub ca_file: Option<PathBuf>,
}

impl Endpoints {
    /// The identity platform host, without a trailing slash.
    pub fn authority(&self) -> String {
        self.authority_host
            .clone()
            .unwrap_or_else(|| self.cloud.authority_host().to_string())
            .trim_end_matches('/')
            .to_string()
    }

    /// Graph's version root (`.../v1.0`).
    pub fn graph_base(&self) -> String {
        let endpoint = self
            .graph_endpoint
            .clone()
            .unwrap_or_else(|| self.cloud.graph_endpoint().to_string());
        let e = endpoint.trim_end_matches('/');
        if e.ends_with("/v1.0") {
            e.to_string()
        } else {
            format!("{e}/v1.0")
        }
    }

    /// The resource Graph scopes are named after (`https://graph.microsoft.com`).
    pub fn scope_origin(&self) -> String {
        crate::connectors::entra::auth::graph_origin(self.cloud.graph_endpoint())
    }
}

/// Everything the [`TokioRunner`](crate::effects::TokioRunner) acts on.
#[derive(Clone)]
pub struct Context {
    /// The tenant's endpoints.
    pub endpoints: Endpoints,
    /// The public client of the device-code sign-in.
    pub sign_in_client_id: String,
    /// The tenant segment of the sign-in (`organizations`: any work account).
    pub sign_in_tenant: String,
    /// Approve the device code through the emulator's approval endpoint (the demo, where no
    /// browser sign-in exists); never set against Entra ID.
    pub emulator_approves_sign_in: bool,
    /// Where secrets go; `None`: the steps that store one fail with a fix.
    pub credentials: Option<Arc<CredentialStore>>,
    /// Forests read from an LDIF file instead of over LDAP: (forest, file).
    pub ldif_forests: Vec<(String, PathBuf)>,
    /// CA certificates that verify the domain controllers (`None`: the system trust store).
    pub ad_ca_file: Option<PathBuf>,
    /// How the first cycle runs; `None`: that step fails with a fix.
    pub first_cycle: Option<CycleHook>,
    /// The sync application's display name (a rerun finds it by this name).
    pub application_name: String,
    /// Opens the credential store of a custom state directory; `None`: that step fails with a
    /// fix.
    pub open_store: Option<StoreOpener>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("endpoints", &self.endpoints)
            .field("sign_in_client_id", &self.sign_in_client_id)
            .field("emulator_approves_sign_in", &self.emulator_approves_sign_in)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|c| c.backend_name()),
            )
            .field("ldif_forests", &self.ldif_forests)
            .field("first_cycle", &self.first_cycle.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Context {
    fn default() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "this machine".to_string());
        Self {
            endpoints: Endpoints::default(),
            sign_in_client_id: DEFAULT_SIGN_IN_CLIENT_ID.to_string(),
            sign_in_tenant: "organizations".to_string(),
            emulator_approves_sign_in: false,
            credentials: None,
            ldif_forests: Vec::new(),
            ad_ca_file: None,
            first_cycle: None,
            application_name: format!("hybridsync ({host})"),
            open_store: None,
        }
    }
}

impl Context {
    /// The LDIF file a forest is read from, when it is one.
    pub fn ldif_file(&self, forest: &str) -> Option<&PathBuf> {
        self.ldif_forests
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(forest))
            .map(|(_, p)| p)
    }

    /// The credential store, or the failure a step shows without one.
    pub fn store(&self) -> Result<&CredentialStore, Failure> {
        self.credentials.as_deref().ok_or_else(|| {
            Failure::new(
                "no credential store is open, so the secret cannot be kept",
                "run the wizard through 'hybridsync wizard', which opens the credential store of the state directory",
            )
        })
    }
}
