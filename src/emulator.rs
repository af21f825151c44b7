//! The local tenant: a Microsoft Graph v1.0 and identity-platform v2.0 emulator on loopback, in the
//! spirit of Azurite, checked with Microsoft's own Python clients (msal, msgraph-sdk).
//!
//! Invariants: depends on nothing above it in the layering (never the CLI, wizard or TUI); HTTPS
//! by default with a local CA generated once per state directory and written for clients to trust
//! (plain HTTP only when asked); error bodies in Graph's exact shape; state lives in memory behind
//! one mutex that is never held across an `.await`.
//!
//! Layout: [`pki`] (CA, server certificate, token key), [`sts`] (OpenID configuration, token and
//! device-code endpoints, token checks), [`tenant`] (the directory), [`graph`] (Graph routing and
//! query options), [`filter`] (`$filter`), [`faults`] (throttling and failures), [`error`].

pub mod error;
pub mod faults;
pub mod filter;
pub mod graph;
pub mod pki;
pub mod sts;
pub mod tenant;
pub mod util;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use error::{EmulatorError, GraphError, StsError};
pub use faults::FaultConfig;

use graph::{GraphBody, GraphRequest};
use sts::{DeviceCodes, DeviceState, TokenContext};
use tenant::{Client, Tenant};

/// The default tenant id (a fixed GUID so scripts can hard-code it).
pub const DEFAULT_TENANT_ID: &str = "8f3c2a71-5b0e-4d2a-9c61-0e5a7d4b1f20";
/// The default tenant name (`contoso.onmicrosoft.com`).
pub const DEFAULT_TENANT_NAME: &str = "contoso";

/// Graph application permissions the pre-registered application holds, granted.
pub const BOOTSTRAP_ROLES: &[&str] = &[
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Directory.ReadWrite.All",
    "OrgContact.Read.All",
    "Device.ReadWrite.All",
    "Domain.Read.All",
    "Organization.Read.All",
    "Application.ReadWrite.OwnedBy",
    "OnPremDirectorySynchronization.ReadWrite.All",
    "SynchronizationData-User.Upload",
];

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Listen address (loopback by default; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Where the CA, certificates and keys live across restarts.
    pub state_dir: PathBuf,
    /// Also write the CA certificate here.
    pub ca_out: Option<PathBuf>,
    /// Write the bootstrap JSON (tenant, URLs, application credentials) here.
    pub bootstrap_out: Option<PathBuf>,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name: the initial domain is `<name>.onmicrosoft.com`.
    pub tenant_name: String,
    /// Extra verified domains.
    pub domains: Vec<String>,
    /// Serve plain HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Fault injection at start.
    pub faults: FaultConfig,
    /// A JSON seed file with more applications (see [`Seed`]).
    pub seed: Option<PathBuf>,
    /// Load the directory from this file at start (when it exists) and save it on shutdown.
    pub state_file: Option<PathBuf>,
}

impl EmulatorConfig {
    /// Defaults for a state directory: 127.0.0.1:8443, HTTPS, tenant `contoso`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            state_dir: state_dir.into(),
            ca_out: None,
            bootstrap_out: None,
            tenant_id: DEFAULT_TENANT_ID.to_string(),
            tenant_name: DEFAULT_TENANT_NAME.to_string(),
            domains: Vec::new(),
            plain_http: false,
            faults: FaultConfig::default(),
            seed: None,
            state_file: None,
        }
    }
}

/// A seed file: applications to register at start.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Seed {
    /// Applications.
    #[serde(default)]
    pub applications: Vec<SeedApp>,
    /// Extra verified domains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Cloud-only users: `POST /users` bodies that may carry `proxyAddresses` (see
    /// `Tenant::seed_user`), for soft-match and duplicate tests.
    #[serde(default)]
    pub users: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// One seeded application.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedApp {
    /// Display name.
    pub display_name: String,
    /// Client (application) id.
    pub client_id: String,
    /// Accepted client secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Registered certificate, PEM.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// Granted application permissions (default: [`BOOTSTRAP_ROLES`]).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// What scripts and tests need to talk to a running emulator.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    /// Tenant id.
    pub tenant_id: String,
    /// Initial domain.
    pub initial_domain: String,
    /// `https://127.0.0.1:<port>/<tenant>`, the MSAL authority.
    pub authority: String,
    /// The instance discovery endpoint to hand MSAL (`instance_discovery=`).
    pub instance_discovery_endpoint: String,
    /// `https://127.0.0.1:<port>/v1.0`.
    pub graph_base_url: String,
    /// The emulator's root (`https://127.0.0.1:<port>`).
    pub base_url: String,
    /// The CA file clients must trust, when written.
    pub ca_file: Option<PathBuf>,
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The pre-registered application.
    pub application: BootstrapApp,
}

/// The pre-registered application's credentials.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapApp {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Certificate (PEM).
    pub certificate_pem: String,
    /// Private key (PKCS#8 PEM).
    pub private_key_pem: String,
    /// SHA-1 thumbprint, hex upper case (what MSAL calls `thumbprint`).
    pub thumbprint_sha1: String,
    /// Granted permissions.
    pub roles: Vec<String>,
}

struct Shared {
    tenant: Mutex<Tenant>,
    initial: Tenant,
    devices: Mutex<DeviceCodes>,
    faults: Mutex<faults::Faults>,
    signer: Arc<pki::TokenSigner>,
    base: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator; dropping it does not stop it, call [`RunningEmulator::shutdown`].
pub struct RunningEmulator {
    /// The bound address.
    pub addr: SocketAddr,
    /// Connection details and credentials.
    pub bootstrap: Bootstrap,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
    state_file: Option<PathBuf>,
}

impl RunningEmulator {
    /// Stop accepting connections, wait for the accept loop to end, and save the directory to
    /// the state file when one was configured.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(path) = &self.state_file {
            let text = serde_json::to_string(&*lock(&self.shared.tenant))
                .map_err(|e| EmulatorError::Seed(path.clone(), e.to_string()))?;
            write_file(path, &text)?;
        }
        Ok(())
    }
}

fn write_file(path: &Path, content: &str) -> Result<(), EmulatorError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| EmulatorError::Io(parent.to_path_buf(), e))?;
    }
    std::fs::write(path, content).map_err(|e| EmulatorError::Io(path.to_path_buf(), e))
}

fn bootstrap_app(state_dir: &Path) -> Result<(String, String), EmulatorError> {
    let path = state_dir.join("bootstrap-app.json");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && let (Some(id), Some(secret)) = (v["clientId"].as_str(), v["clientSecret"].as_str())
    {
        return Ok((id.to_string(), secret.to_string()));
    }
    let id = util::new_guid();
    let secret = format!("emu~{}", util::b64url(util::new_guid().as_bytes()));
    write_file(
        &path,
        &json!({"clientId": id, "clientSecret": secret}).to_string(),
    )?;
    Ok((id, secret))
}

/// Start the emulator: load or create keys, bind, serve in the background.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let pki = pki::Pki::load_or_create(&config.state_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| EmulatorError::Bind(config.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| EmulatorError::Bind(config.listen, e))?;
    let scheme = if config.plain_http { "http" } else { "https" };
    let host = if addr.ip().is_loopback() && addr.is_ipv4() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let base = format!("{scheme}://{host}:{}", addr.port());

    let seed: Seed = match &config.seed {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| EmulatorError::Io(p.clone(), e))?;
            serde_json::from_str(&text)
                .map_err(|e| EmulatorError::Seed(p.clone(), e.to_string()))?
        }
        None => Seed::default(),
    };
    let mut domains = config.domains.clone();
    domains.extend(seed.domains.iter().cloned());
    let mut tenant = Tenant::new(&config.tenant_id, &config.tenant_name, &domains);
    let saved = match &config.state_file {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p).map_err(|e| EmulatorError::Io(p.clone(), e))?;
            Some(
                serde_json::from_str::<Tenant>(&text)
                    .map_err(|e| EmulatorError::Seed(p.clone(), e.to_string()))?,
            )
        }
        _ => None,
    };
    let (client_id, client_secret) = bootstrap_app(&config.state_dir)?;
    let app_cert_der = util::pem_block(&pki.app_cert_pem, "CERTIFICATE")
        .ok_or_else(|| EmulatorError::Crypto("application certificate is not PEM".into()))?;
    let roles: Vec<String> = BOOTSTRAP_ROLES.iter().map(|s| s.to_string()).collect();
    tenant.register_client(
        "hybridsync",
        Client {
            app_id: client_id.clone(),
            secrets: vec![client_secret.clone()],
            certificates: vec![app_cert_der.clone()],
            roles: roles.clone(),
        },
    );
    for app in &seed.applications {
        let mut certificates = Vec::new();
        if let Some(pem) = &app.certificate_pem {
            certificates.push(util::pem_block(pem, "CERTIFICATE").ok_or_else(|| {
                EmulatorError::Seed(
                    config.seed.clone().unwrap_or_default(),
                    format!(
                        "{}: certificatePem is not a PEM certificate",
                        app.display_name
                    ),
                )
            })?);
        }
        tenant.register_client(
            &app.display_name,
            Client {
                app_id: app.client_id.clone(),
                secrets: app.client_secret.iter().cloned().collect(),
                certificates,
                roles: app.roles.clone().unwrap_or_else(|| roles.clone()),
            },
        );
    }

    for user in &seed.users {
        tenant.seed_user(user.clone()).map_err(|e| {
            EmulatorError::Seed(
                config.seed.clone().unwrap_or_default(),
                format!("a seeded user is refused: {}", e.message),
            )
        })?;
    }

    let initial = tenant.clone();
    if let Some(saved) = saved {
        tenant = saved;
    }
    if let Some(p) = &config.ca_out {
        write_file(p, &pki.ca_pem)?;
    }
    let (sha1, _) = pki::thumbprints(&app_cert_der);
    let bootstrap = Bootstrap {
        tenant_id: config.tenant_id.clone(),
        initial_domain: tenant.initial_domain(),
        authority: format!("{base}/{}", config.tenant_id),
        instance_discovery_endpoint: format!("{base}/common/discovery/instance"),
        graph_base_url: format!("{base}/v1.0"),
        base_url: base.clone(),
        ca_file: config.ca_out.clone(),
        ca_pem: pki.ca_pem.clone(),
        application: BootstrapApp {
            client_id,
            client_secret,
            certificate_pem: pki.app_cert_pem.clone(),
            private_key_pem: pki.app_key_pem.clone(),
            thumbprint_sha1: sha1.iter().map(|b| format!("{b:02X}")).collect(),
            roles,
        },
    };
    if let Some(p) = &config.bootstrap_out {
        let text = serde_json::to_string_pretty(&bootstrap)
            .map_err(|e| EmulatorError::Crypto(format!("bootstrap: {e}")))?;
        write_file(p, &text)?;
    }

    let shared = Arc::new(Shared {
        initial,
        tenant: Mutex::new(tenant),
        devices: Mutex::new(HashMap::new()),
        faults: Mutex::new(faults::Faults::new(config.faults.clone())),
        signer: pki.signer.clone(),
        base,
    });
    let app = router(shared.clone());
    let accept_shared = shared.clone();
    let tls = if config.plain_http {
        None
    } else {
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(
            pki.server_config()?,
        )))
    };
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = &mut stop_rx => break,
                a = listener.accept() => a,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let app = app.clone();
            let tls = tls.clone();
            let shared = accept_shared.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            serve_connection(stream, app, shared).await;
                        }
                    }
                    None => serve_connection(tcp, app, shared).await,
                }
            });
        }
    });
    Ok(RunningEmulator {
        addr,
        bootstrap,
        stop: Some(stop_tx),
        task,
        shared,
        state_file: config.state_file.clone(),
    })
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

async fn serve_connection<S>(stream: S, app: Router, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use tower::ServiceExt as _;
    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let drop_it =
            req.uri().path().starts_with("/v1.0/") && lock(&shared.faults).drop_connection();
        async move {
            if drop_it {
                return Err(Dropped);
            }
            app.oneshot(req.map(Body::new))
                .await
                .map_err(|e| match e {})
        }
    });
    let builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let _ = builder
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
        .await;
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/common/discovery/instance", get(instance))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route("/devicelogin", get(devicelogin))
        .route("/v1.0/{*rest}", any(graph_entry))
        .route("/_emulator/faults", get(get_faults).post(set_faults))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(state_view))
        .route("/_emulator/devicecode/approve", post(approve))
        .route("/_emulator/clock", post(clock))
        .fallback(not_found)
        .with_state(shared)
}

type St = State<Arc<Shared>>;

fn json_response(status: u16, v: &Value) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        v.to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn sts_error(e: &StsError) -> Response {
    json_response(e.status, &e.body())
}

async fn openid(State(s): St, UrlPath(tenant): UrlPath<String>) -> Response {
    let t = lock(&s.tenant);
    let id = if ["common", "organizations"].contains(&tenant.as_str())
        || tenant.eq_ignore_ascii_case(&t.initial_domain())
    {
        t.tenant_id.clone()
    } else if tenant.eq_ignore_ascii_case(&t.tenant_id) {
        tenant
    } else {
        return sts_error(&StsError::new(
            "invalid_tenant",
            90002,
            format!("Tenant '{tenant}' not found."),
        ));
    };
    json_response(200, &sts::openid_configuration(&s.base, &id))
}

async fn keys(State(s): St) -> Response {
    json_response(200, &sts::jwks(&s.signer))
}

async fn instance(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    json_response(
        200,
        &sts::instance_discovery(&s.base, q.get("authorization_endpoint").map(String::as_str)),
    )
}

async fn token(State(s): St, UrlPath(tenant): UrlPath<String>, body: Bytes) -> Response {
    let form = sts::parse_form(&body);
    let ctx = TokenContext {
        signer: &s.signer,
        base: &s.base,
        tenant_segment: &tenant,
    };
    let t = lock(&s.tenant);
    let mut d = lock(&s.devices);
    match sts::token(&ctx, &t, &mut d, &form) {
        Ok(v) => json_response(200, &v),
        Err(e) => sts_error(&e),
    }
}

async fn devicecode(State(s): St, UrlPath(tenant): UrlPath<String>, body: Bytes) -> Response {
    let form = sts::parse_form(&body);
    let ctx = TokenContext {
        signer: &s.signer,
        base: &s.base,
        tenant_segment: &tenant,
    };
    let t = lock(&s.tenant);
    let mut d = lock(&s.devices);
    match sts::device_code(&ctx, &t, &mut d, &form) {
        Ok(v) => json_response(200, &v),
        Err(e) => sts_error(&e),
    }
}

async fn devicelogin() -> Response {
    (
        StatusCode::OK,
        "hybridsync tenant emulator: approve a device code with\n  POST /_emulator/devicecode/approve {\"user_code\": \"...\", \"user\": \"admin@contoso.onmicrosoft.com\"}\n",
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Approve {
    user_code: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    decline: bool,
}

async fn approve(State(s): St, body: Bytes) -> Response {
    let Ok(a) = serde_json::from_slice::<Approve>(&body) else {
        return json_response(
            400,
            &json!({"error": "expected {\"user_code\", \"user\"?, \"decline\"?}"}),
        );
    };
    let initial = lock(&s.tenant).initial_domain();
    let mut d = lock(&s.devices);
    match d
        .values_mut()
        .find(|x| x.user_code.eq_ignore_ascii_case(&a.user_code))
    {
        Some(x) => {
            x.state = if a.decline {
                DeviceState::Declined
            } else {
                DeviceState::Approved(a.user.unwrap_or_else(|| format!("admin@{initial}")))
            };
            json_response(200, &json!({"approved": !a.decline}))
        }
        None => json_response(404, &json!({"error": "unknown user_code"})),
    }
}

async fn get_faults(State(s): St) -> Response {
    json_response(200, &json!(lock(&s.faults).config))
}

async fn set_faults(State(s): St, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(c) => {
            lock(&s.faults).set(c.clone());
            json_response(200, &json!(c))
        }
        Err(e) => json_response(400, &json!({"error": e.to_string()})),
    }
}

async fn reset(State(s): St) -> Response {
    *lock(&s.tenant) = s.initial.clone();
    lock(&s.devices).clear();
    lock(&s.faults).set(FaultConfig::default());
    json_response(200, &json!({"reset": true}))
}

async fn clock(body: Bytes) -> Response {
    let secs = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("advanceSeconds").and_then(Value::as_i64))
        .unwrap_or(0);
    util::advance_clock(secs);
    json_response(200, &json!({"now": util::iso8601(util::now_secs())}))
}

async fn state_view(State(s): St) -> Response {
    let t = lock(&s.tenant);
    let objects: Vec<Value> = t
        .order
        .values()
        .filter_map(|id| t.objects.get(id))
        .map(|o| json!({"kind": o.kind, "props": o.props, "members": o.members, "deletedAt": o.deleted_at}))
        .collect();
    json_response(
        200,
        &json!({
            "tenantId": t.tenant_id,
            "domains": t.domains,
            "objects": objects,
            "sequence": t.seq,
            "faults": lock(&s.faults).config,
        }),
    )
}

async fn not_found(uri: Uri) -> Response {
    json_response(
        404,
        &GraphError::new(
            404,
            "Request_ResourceNotFound",
            format!("No route for '{}'.", uri.path()),
        )
        .body(None),
    )
}

fn graph_error(e: &GraphError, client_request_id: Option<&str>) -> Response {
    let mut r = json_response(e.status, &e.body(client_request_id));
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Run one Graph request (also a `$batch` item): throttle, then dispatch.
fn run_graph(s: &Shared, app: &str, req: &GraphRequest) -> Result<(u16, GraphBody), GraphError> {
    lock(&s.faults).throttle(app, req.is_write())?;
    let mut t = lock(&s.tenant);
    graph::dispatch(&mut t, &format!("{}/v1.0", s.base), req)
}

async fn graph_entry(
    State(s): St,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let crid = client_request_id.as_deref();
    let (latency, failure) = {
        let f = lock(&s.faults);
        (f.config.latency_ms, f.random_failure())
    };
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    if let Some(e) = failure {
        return graph_error(&e, crid);
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match sts::validate(&s.signer, &lock(&s.tenant).tenant_id, auth) {
        Ok(c) => c,
        Err(e) => return graph_error(&e, crid),
    };
    let app = auth
        .and_then(|a| sts::peek_claims(a.trim_start_matches("Bearer ")))
        .and_then(|c| c.get("appid").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let path = uri.path().strip_prefix("/v1.0/").unwrap_or_default();
    let segments: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| sts::percent_decode(p.as_bytes()))
        .collect();
    let parsed_body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(_) => {
                return graph_error(
                    &GraphError::bad_request(
                        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
                    ),
                    crid,
                );
            }
        }
    };
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let req = GraphRequest {
        method: method.as_str().to_string(),
        segments,
        query: graph::parse_query(uri.query().unwrap_or_default()),
        eventual,
        body: parsed_body,
        caller,
    };
    if req.segments == ["$batch"] && req.method == "POST" {
        return match batch(&s, &app, &req, eventual) {
            Ok(v) => json_response(200, &v),
            Err(e) => graph_error(&e, crid),
        };
    }
    match run_graph(&s, &app, &req) {
        Ok((status, body)) => {
            let mut r = match body {
                GraphBody::Json(v) => json_response(status, &v),
                GraphBody::Text(t) => (StatusCode::OK, t).into_response(),
                GraphBody::Empty => StatusCode::from_u16(status)
                    .unwrap_or(StatusCode::NO_CONTENT)
                    .into_response(),
            };
            if let Some(c) = crid.and_then(|c| HeaderValue::from_str(c).ok()) {
                r.headers_mut().insert("client-request-id", c);
            }
            if let Ok(v) = HeaderValue::from_str(&util::new_guid()) {
                r.headers_mut().insert("request-id", v);
            }
            r
        }
        Err(e) => graph_error(&e, crid),
    }
}

/// `POST /$batch`: at most 20 requests, unique ids, `dependsOn` honoured in any listing order
/// (424 when a dependency failed; 400 for an unknown id or a cycle), each item throttled on its
/// own.
fn batch(s: &Shared, app: &str, outer: &GraphRequest, eventual: bool) -> Result<Value, GraphError> {
    let requests = outer
        .body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
        .ok_or_else(|| GraphError::new(400, "BadRequest", "Invalid batch payload format."))?;
    if requests.len() > 20 {
        return Err(GraphError::new(
            400,
            "BadRequest",
            "Invalid batch payload format: the number of requests exceeds the limit of 20.",
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for r in requests {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() || !ids.insert(id.to_string()) {
            return Err(GraphError::new(
                400,
                "BadRequest",
                "Batch request ids must be unique and non-empty.",
            ));
        }
    }
    let deps_of = |r: &Value| -> Vec<String> {
        r.get("dependsOn")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    // The whole batch is checked before anything runs: every dependency names a request of the
    // batch, and the dependencies have an order (no cycle). Requests then run in that order, so
    // a request may depend on one listed after it.
    for r in requests {
        if deps_of(r).iter().any(|d| !ids.contains(d)) {
            return Err(GraphError::new(
                400,
                "BadRequest",
                "Invalid batch payload format: dependsOn names a request id that is not in the batch.",
            ));
        }
    }
    let mut order: Vec<&Value> = Vec::with_capacity(requests.len());
    let mut placed: std::collections::HashSet<String> = std::collections::HashSet::new();
    while order.len() < requests.len() {
        let before = order.len();
        for r in requests {
            let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
            if !placed.contains(id) && deps_of(r).iter().all(|d| placed.contains(d)) {
                placed.insert(id.to_string());
                order.push(r);
            }
        }
        if order.len() == before {
            return Err(GraphError::new(
                400,
                "BadRequest",
                "Invalid batch payload format: the dependsOn relations form a cycle.",
            ));
        }
    }
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in order {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let deps = deps_of(r);
        let failed_dep = deps
            .iter()
            .any(|d| statuses.get(d).is_none_or(|st| *st >= 400));
        let (status, body, headers) = if failed_dep {
            let e = GraphError::new(
                424,
                "FailedDependency",
                "The request could not be processed because a request it depends on failed.",
            );
            (
                424,
                Some(e.body(None)),
                json!({"Content-Type": "application/json"}),
            )
        } else {
            let method = r
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_ascii_uppercase();
            let url = r.get("url").and_then(Value::as_str).unwrap_or_default();
            let url = url.trim_start_matches('/').trim_start_matches("v1.0/");
            let (path, query) = url.split_once('?').unwrap_or((url, ""));
            let body = r.get("body").cloned();
            let item_eventual = eventual
                || r.pointer("/headers/ConsistencyLevel")
                    .or(r.pointer("/headers/consistencylevel"))
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
            let req = GraphRequest {
                method,
                segments: path
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(|p| sts::percent_decode(p.as_bytes()))
                    .collect(),
                query: graph::parse_query(query),
                eventual: item_eventual,
                body,
                caller: outer.caller.clone(),
            };
            match run_graph(s, app, &req) {
                Ok((st, GraphBody::Json(v))) => {
                    (st, Some(v), json!({"Content-Type": "application/json"}))
                }
                Ok((st, GraphBody::Text(t))) => {
                    (st, Some(json!(t)), json!({"Content-Type": "text/plain"}))
                }
                Ok((st, GraphBody::Empty)) => (st, None, json!({})),
                Err(e) => {
                    let mut h = json!({"Content-Type": "application/json"});
                    if let (Some(secs), Some(m)) = (e.retry_after, h.as_object_mut()) {
                        m.insert("Retry-After".into(), json!(secs.to_string()));
                    }
                    (e.status, Some(e.body(None)), h)
                }
            }
        };
        statuses.insert(id.clone(), status);
        let mut item = json!({"id": id, "status": status, "headers": headers});
        if let (Some(b), Some(m)) = (body, item.as_object_mut()) {
            m.insert("body".into(), b);
        }
        responses.push(item);
    }
    Ok(json!({ "responses": responses }))
}
