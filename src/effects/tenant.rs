//! The effects on the tenant: the administrator's device-code sign-in (the code and URL are sent
//! to the wizard at once, then the token endpoint is polled at the interval it asks), the
//! tenant's domains, and the sync application registered with the admin's delegated token.
//!
//! Invariants: the admin's token goes only to the configured identity platform and Graph, and
//! lives in the runner's session (memory) only; the application's certificate and key go straight
//! into the credential store and never into a reply.

use std::time::Duration;

use serde_json::Value;

use super::context::{CERTIFICATE_SECRET, Context};
use super::local::error_chain;
use super::runner::{Shared, lock};
use super::{Failure, Reply, StepOutput, TenantDomain, TenantInfo};
use crate::connectors::entra::auth::{self, DevicePoll};
use crate::credentials::SecretRef;
use crate::domain::Secret;
use crate::provision::cloud::{self, CloudRequest, Tenant};

/// The delegated permissions the sign-in asks: register and consent the sync application, read
/// the organization and its domains.
const DELEGATED: &[&str] = &[
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
];

fn http(ctx: &Context) -> Result<reqwest::Client, Failure> {
    crate::connectors::entra::http_client(ctx.endpoints.ca_file.as_deref()).map_err(|e| {
        Failure::new(
            e.to_string(),
            "give a readable PEM file of CA certificates, or none to use the system's",
        )
    })
}

fn unreachable_fix(ctx: &Context) -> String {
    format!(
        "check that this machine reaches {} over HTTPS (firewall, proxy), then press Ctrl+R",
        ctx.endpoints.authority()
    )
}

/// Sign the administrator in by device code.
pub(crate) async fn sign_in(
    ctx: &Context,
    session: &Shared,
    tx: &tokio::sync::mpsc::UnboundedSender<Reply>,
) -> Result<TenantInfo, Failure> {
    let http = http(ctx)?;
    let authority = ctx.endpoints.authority();
    let origin = ctx.endpoints.scope_origin();
    let mut scopes: Vec<String> = DELEGATED.iter().map(|p| format!("{origin}/{p}")).collect();
    scopes.extend(["openid", "profile", "offline_access"].map(String::from));
    let scopes = scopes.join(" ");
    let tenant = &ctx.sign_in_tenant;
    let client = &ctx.sign_in_client_id;
    let code = auth::start_device_code(&http, &authority, tenant, client, &scopes)
        .await
        .map_err(|e| {
            Failure::new(
                format!("the sign-in could not start: {e}"),
                unreachable_fix(ctx),
            )
        })?;
    let _ = tx.send(Reply::DeviceCode {
        verification_uri: code.verification_uri.clone(),
        user_code: code.user_code.clone(),
    });
    if ctx.emulator_approves_sign_in {
        approve_on_emulator(&http, &authority, &code.user_code).await?;
    }
    let interval = Duration::from_secs(code.interval.clamp(1, 30));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(code.expires_in.max(60));
    let tokens = loop {
        tokio::time::sleep(interval).await;
        match auth::poll_device_code(&http, &authority, tenant, client, &code).await {
            Ok(DevicePoll::Done(t)) => break t,
            Ok(DevicePoll::Pending) if tokio::time::Instant::now() < deadline => {}
            Ok(DevicePoll::Pending | DevicePoll::Expired) => {
                return Err(Failure::new(
                    "the code expired before the sign-in was finished",
                    "press Ctrl+R for a new code and enter it within 15 minutes",
                ));
            }
            Ok(DevicePoll::Declined) => {
                return Err(Failure::new(
                    "the sign-in was declined",
                    "press Ctrl+R and approve the sign-in with an administrator of the tenant",
                ));
            }
            Err(e) => {
                return Err(Failure::new(
                    format!("the sign-in failed: {e}"),
                    unreachable_fix(ctx),
                ));
            }
        }
    };
    let token = tokens.access_token;
    let org = get(ctx, &http, &token, "/organization").await?;
    let org = org
        .get("value")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or(Value::Null);
    let tenant_id = org
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let initial_domain = org
        .get("verifiedDomains")
        .and_then(Value::as_array)
        .and_then(|v| {
            v.iter()
                .find(|d| d.get("isInitial").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|d| d.get("name").and_then(Value::as_str))
        .unwrap_or(&tenant_id)
        .to_string();
    let domains = read_domains(ctx, &http, &token).await?;
    let admin = tokens
        .id_token
        .as_deref()
        .and_then(|t| claim(t, "preferred_username"))
        .unwrap_or_else(|| "the administrator".to_string());
    {
        let mut s = lock(session);
        s.admin_token = Some(token);
        s.tenant_id = Some(tenant_id.clone());
    }
    Ok(TenantInfo {
        tenant_id,
        initial_domain,
        admin,
        domains,
    })
}

/// The local tenant approves its own device code (the demo has no browser sign-in page).
async fn approve_on_emulator(
    http: &reqwest::Client,
    authority: &str,
    user_code: &str,
) -> Result<(), Failure> {
    // Long enough to read the code on screen.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = http
        .post(format!("{authority}/_emulator/devicecode/approve"))
        .json(&serde_json::json!({ "user_code": user_code }))
        .send()
        .await
        .map_err(|e| {
            Failure::new(
                format!(
                    "the local tenant did not approve the sign-in: {}",
                    error_chain(&e)
                ),
                "restart 'hybridsync demo'",
            )
        })?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(Failure::new(
            format!(
                "the local tenant refused to approve the sign-in: HTTP {}",
                r.status()
            ),
            "restart 'hybridsync demo'",
        ))
    }
}

/// A claim of a JWT's payload (not verified: for display only).
fn claim(jwt: &str, name: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get(name).and_then(Value::as_str).map(str::to_string)
}

async fn get(
    ctx: &Context,
    http: &reqwest::Client,
    token: &Secret,
    path: &str,
) -> Result<Value, Failure> {
    let url = format!("{}{path}", ctx.endpoints.graph_base());
    let r = http
        .get(&url)
        .bearer_auth(token.expose())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| Failure::new(format!("{url}: {}", error_chain(&e)), unreachable_fix(ctx)))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let detail = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Err(Failure::new(
        format!("Microsoft Graph answered HTTP {status} to {path}: {detail}"),
        "sign in again (Ctrl+R on the sign-in page) as a Hybrid Identity Administrator or Global Administrator",
    ))
}

async fn read_domains(
    ctx: &Context,
    http: &reqwest::Client,
    token: &Secret,
) -> Result<Vec<TenantDomain>, Failure> {
    let v = get(ctx, http, token, "/domains").await?;
    Ok(v.get("value")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    Some(TenantDomain {
                        name: d.get("id")?.as_str()?.to_string(),
                        verified: d
                            .get("isVerified")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

fn token(session: &Shared) -> Result<(Secret, String), Failure> {
    let s = lock(session);
    match (&s.admin_token, &s.tenant_id) {
        (Some(t), Some(id)) => Ok((t.clone(), id.clone())),
        _ => Err(Failure::new(
            "nobody is signed in to the tenant",
            "go back to Connect to Microsoft Entra ID and sign in",
        )),
    }
}

/// Re-read the tenant's domains.
pub(crate) async fn domains(ctx: &Context, session: &Shared) -> Result<Vec<TenantDomain>, Failure> {
    let (token, _) = token(session)?;
    let http = http(ctx)?;
    read_domains(ctx, &http, &token).await
}

/// Register (or bring up to date) the sync application and store its certificate.
pub(crate) async fn register_application(
    ctx: &Context,
    session: &Shared,
) -> Result<StepOutput, Failure> {
    let (admin, tenant_id) = token(session)?;
    let store = super::runner::store(ctx, session)?;
    let existing_certificate = store
        .resolve(&SecretRef::Store(CERTIFICATE_SECRET.to_string()))
        .ok();
    let tenant = Tenant {
        tenant: tenant_id,
        authority_host: ctx.endpoints.authority(),
        graph_base: ctx.endpoints.graph_base(),
        scope: format!("{}/.default", ctx.endpoints.scope_origin()),
        ca_file: ctx.endpoints.ca_file.clone(),
    };
    let req = CloudRequest {
        display_name: ctx.application_name.clone(),
        permissions: cloud::permissions(false, false)
            .into_iter()
            .map(str::to_string)
            .collect(),
        existing_certificate,
    };
    let id = cloud::ensure_cloud_identity(&tenant, &admin, &req)
        .await
        .map_err(|e| {
            Failure::new(
                e.to_string(),
                "sign in as a Global Administrator or Privileged Role Administrator (consent needs one), then retry",
            )
        })?;
    store.store(CERTIFICATE_SECRET, &id.certificate).map_err(|e| {
        Failure::new(
            format!("the application was registered, but its certificate could not be stored: {e}"),
            "check that the state directory is writable, then retry (the application is reused)",
        )
    })?;
    Ok(StepOutput::Application {
        client_id: id.app_id,
        certificate_ref: SecretRef::Store(CERTIFICATE_SECRET.to_string()),
    })
}
