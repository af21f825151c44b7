//! The cloud sync identity: with the admin's delegated token (device code sign-in), an
//! application and its service principal, a new self-signed RSA 2048 certificate as its only
//! credential (private key returned for the credential store), exactly the Microsoft Graph
//! application permissions the chosen features need (granted as app role assignments, extras
//! removed), and a check that a client-credentials token with the certificate works.
//!
//! Invariants: the admin token is only sent to the configured Graph endpoint and never stored;
//! the private key is returned once for the credential store and never printed; re-running finds
//! the application by display name and changes nothing that is right (a certificate the caller
//! still holds is kept, granted permissions are not granted twice).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::connectors::entra::auth::{self, CertificateCredential, ClientCredential};
use crate::connectors::entra::{TokenSource, http_client};
use crate::domain::Secret;

/// Microsoft Graph's application id (the resource of its app roles).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The Graph application permissions the sync identity needs for the chosen features.
pub fn permissions(directory_extensions: bool, device_writeback: bool) -> Vec<&'static str> {
    let mut p = vec![
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "Domain.Read.All",
        "Organization.Read.All",
    ];
    if directory_extensions {
        p.push("Application.ReadWrite.OwnedBy");
    }
    if device_writeback {
        p.push("Device.Read.All");
    }
    p
}

/// Where and as whom.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Tenant id or initial domain.
    pub tenant: String,
    /// The identity platform (`https://login.microsoftonline.com` or the emulator).
    pub authority_host: String,
    /// Graph's version root (`https://graph.microsoft.com/v1.0`).
    pub graph_base: String,
    /// The token scope for the application (`https://graph.microsoft.com/.default`).
    pub scope: String,
    /// An extra CA to trust (the emulator's).
    pub ca_file: Option<std::path::PathBuf>,
}

/// What to set up.
#[derive(Debug, Clone)]
pub struct CloudRequest {
    /// The application's display name (how a rerun finds it).
    pub display_name: String,
    /// Graph application permissions (values such as `User.ReadWrite.All`).
    pub permissions: Vec<String>,
    /// The certificate and key (PEM) the credential store holds from an earlier run.
    pub existing_certificate: Option<Secret>,
}

/// What was set up.
#[derive(Debug)]
pub struct CloudIdentity {
    /// The application (client) id: `[tenant.application] client_id`.
    pub app_id: String,
    /// The application object's id.
    pub application_id: String,
    /// The service principal's id.
    pub service_principal_id: String,
    /// Certificate and PKCS#8 key, PEM: store it (`certificate_ref`), never print it.
    pub certificate: Secret,
    /// SHA-1 thumbprint of the certificate (upper-case hex), as Entra shows it.
    pub thumbprint: String,
    /// Whether the application was created now.
    pub created: bool,
    /// Whether a new certificate was made now.
    pub new_certificate: bool,
    /// Permissions granted now.
    pub granted: Vec<String>,
    /// Permissions removed (held but not needed).
    pub revoked: Vec<String>,
}

/// Why the cloud identity could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// Graph refused or failed.
    #[error("{what}: {detail}")]
    Graph {
        /// The step.
        what: String,
        /// Graph's answer.
        detail: String,
    },
    /// The certificate could not be made or read.
    #[error("the application certificate: {0}")]
    Certificate(String),
    /// The new credential does not give a token.
    #[error(
        "the application was set up, but a client-credentials token with its certificate \
         failed: {0}"
    )]
    Verify(String),
}

struct Admin<'a> {
    http: reqwest::Client,
    base: &'a str,
    token: &'a Secret,
}

impl<'a> Admin<'a> {
    /// Graph as the signed-in administrator.
    fn new(tenant: &'a Tenant, token: &'a Secret) -> Result<Self, CloudError> {
        let http = http_client(tenant.ca_file.as_deref()).map_err(|e| CloudError::Graph {
            what: "the HTTPS client".into(),
            detail: e.to_string(),
        })?;
        Ok(Admin {
            http,
            base: tenant.graph_base.trim_end_matches('/'),
            token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), CloudError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| CloudError::Graph {
            what: format!("{method} {path}"),
            detail: crate::connectors::entra::client::error_chain(&e),
        })?;
        let status = resp.status().as_u16();
        let v = resp.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, v))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, CloudError> {
        let (status, v) = self.call(method.clone(), path, body).await?;
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            let code = v
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let message = v
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let hint = if status == 403 {
                " (the signed-in admin needs Application.ReadWrite.All and \
                 AppRoleAssignment.ReadWrite.All: sign in as a Global or Hybrid Identity \
                 Administrator)"
            } else {
                ""
            };
            Err(CloudError::Graph {
                what: format!("{method} {path}"),
                detail: format!("HTTP {status} {code}: {message}{hint}"),
            })
        }
    }

    async fn first(&self, path: &str) -> Result<Option<Value>, CloudError> {
        let v = self.ok(reqwest::Method::GET, path, None).await?;
        Ok(v.get("value")
            .and_then(Value::as_array)
            .and_then(|a| a.first().cloned()))
    }
}

fn id_of(v: &Value) -> String {
    v.get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn odata_quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// A new self-signed RSA 2048 certificate for `name`: (PEM of certificate and PKCS#8 key, DER).
pub fn new_certificate(name: &str) -> Result<(Secret, Vec<u8>), CloudError> {
    let bad = |e: rcgen::Error| CloudError::Certificate(e.to_string());
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .map_err(bad)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("CN={name}"));
    // Valid from the start of this year for two years (Entra rotates well before).
    let year = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(2026, |d| {
            1970 + i32::try_from(d.as_secs() / 31_556_952).unwrap_or(56)
        });
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let cert = params.self_signed(&key).map_err(bad)?;
    let pem = format!("{}{}", cert.pem(), key.serialize_pem());
    Ok((Secret::new(pem), cert.der().to_vec()))
}

fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

fn sha1_bytes(der: &[u8]) -> Vec<u8> {
    use sha1::Digest as _;
    sha1::Sha1::digest(der).to_vec()
}

fn sha1_hex(der: &[u8]) -> String {
    sha1_bytes(der).iter().map(|b| format!("{b:02X}")).collect()
}

/// Create or update the sync identity with the admin's delegated token.
pub async fn ensure_cloud_identity(
    tenant: &Tenant,
    admin_token: &Secret,
    req: &CloudRequest,
) -> Result<CloudIdentity, CloudError> {
    let admin = Admin::new(tenant, admin_token)?;
    let http = admin.http.clone();
    use reqwest::Method;
    // The application, found by name on a rerun.
    let filter = format!(
        "/applications?$filter=displayName eq '{}'",
        odata_quote(&req.display_name)
    );
    let (app, created) = match admin.first(&filter).await? {
        Some(a) => (a, false),
        None => (
            admin
                .ok(
                    Method::POST,
                    "/applications",
                    Some(
                        json!({"displayName": req.display_name, "signInAudience": "AzureADMyOrg"}),
                    ),
                )
                .await?,
            true,
        ),
    };
    let application_id = id_of(&app);
    let app_id = app
        .get("appId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let sp = match admin
        .first(&format!("/servicePrincipals?$filter=appId eq '{app_id}'"))
        .await?
    {
        Some(s) => s,
        None => {
            admin
                .ok(
                    Method::POST,
                    "/servicePrincipals",
                    Some(json!({"appId": app_id})),
                )
                .await?
        }
    };
    let service_principal_id = id_of(&sp);
    // The certificate: keep the stored one if the application still has it.
    let registered: Vec<String> = app
        .get("keyCredentials")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| {
                    k.get("customKeyIdentifier")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    let kept = req.existing_certificate.as_ref().and_then(|pem| {
        let der = pem_der(pem.expose())?;
        let id = STANDARD.encode(sha1_bytes(&der));
        registered.contains(&id).then(|| (pem.clone(), der))
    });
    let (certificate, der, new_certificate) = match kept {
        Some((pem, der)) => (pem, der, false),
        None => {
            let (pem, der) = new_certificate(&req.display_name)?;
            admin
                .ok(
                    Method::PATCH,
                    &format!("/applications/{application_id}"),
                    Some(json!({"keyCredentials": [{
                        "type": "AsymmetricX509Cert",
                        "usage": "Verify",
                        "key": STANDARD.encode(&der),
                        "displayName": format!("CN={}", req.display_name),
                    }]})),
                )
                .await?;
            (pem, der, true)
        }
    };
    // Permissions: exactly the requested Graph app roles.
    let graph = admin
        .first(&format!(
            "/servicePrincipals?$filter=appId eq '{GRAPH_APP_ID}'"
        ))
        .await?
        .ok_or_else(|| CloudError::Graph {
            what: "finding Microsoft Graph's service principal".into(),
            detail: "the tenant has none".into(),
        })?;
    let graph_id = id_of(&graph);
    let roles: Vec<(String, String)> = graph
        .get("appRoles")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|x| {
                    Some((
                        x.get("value")?.as_str()?.to_owned(),
                        x.get("id")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let held = admin
        .ok(
            Method::GET,
            &format!("/servicePrincipals/{service_principal_id}/appRoleAssignments"),
            None,
        )
        .await?;
    let held: Vec<(String, String)> = held
        .get("value")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|x| x.get("resourceId").and_then(Value::as_str) == Some(graph_id.as_str()))
                .filter_map(|x| {
                    Some((
                        x.get("id")?.as_str()?.to_owned(),
                        x.get("appRoleId")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut granted = Vec::new();
    let mut wanted_ids = Vec::new();
    for p in &req.permissions {
        let role_id = roles
            .iter()
            .find(|(v, _)| v == p)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| CloudError::Graph {
                what: format!("granting {p}"),
                detail: "Microsoft Graph has no application permission of that name".into(),
            })?;
        wanted_ids.push(role_id.clone());
        if held.iter().any(|(_, r)| *r == role_id) {
            continue;
        }
        admin
            .ok(
                Method::POST,
                &format!("/servicePrincipals/{service_principal_id}/appRoleAssignments"),
                Some(json!({
                    "principalId": service_principal_id,
                    "resourceId": graph_id,
                    "appRoleId": role_id,
                })),
            )
            .await?;
        granted.push(p.clone());
    }
    let mut revoked = Vec::new();
    for (assignment, role_id) in &held {
        if wanted_ids.contains(role_id) {
            continue;
        }
        admin
            .ok(
                Method::DELETE,
                &format!(
                    "/servicePrincipals/{service_principal_id}/appRoleAssignments/{assignment}"
                ),
                None,
            )
            .await?;
        revoked.push(
            roles
                .iter()
                .find(|(_, id)| id == role_id)
                .map_or_else(|| role_id.clone(), |(v, _)| v.clone()),
        );
    }
    verify_certificate(tenant, http, &app_id, &certificate, 6).await?;
    Ok(CloudIdentity {
        app_id,
        application_id,
        service_principal_id,
        certificate,
        thumbprint: sha1_hex(&der),
        created,
        new_certificate,
        granted,
        revoked,
    })
}

/// Prove that `certificate` gives `app_id` a client-credentials token, trying `attempts`
/// times (a new credential needs retries: Entra replicates it within seconds to minutes).
pub async fn verify_certificate(
    tenant: &Tenant,
    http: reqwest::Client,
    app_id: &str,
    certificate: &Secret,
    attempts: u32,
) -> Result<(), CloudError> {
    let credential = CertificateCredential::from_pem(certificate.expose())
        .map_err(|e| CloudError::Certificate(e.to_string()))?;
    let tokens = TokenSource::new(
        http,
        auth::token_url(&tenant.authority_host, &tenant.tenant),
        app_id.to_owned(),
        tenant.scope.clone(),
        ClientCredential::Certificate(credential),
    );
    let mut last = String::new();
    for attempt in 0..attempts {
        match tokens.token().await {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = e.to_string();
                if attempt + 1 == attempts {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt + 1))).await;
            }
        }
    }
    Err(CloudError::Verify(last))
}

/// A certificate rotation half done: the new certificate is registered on the application and
/// gives a token; the caller stores it, then calls [`retire_certificate`] for the old one.
#[derive(Debug)]
pub struct Rotation {
    /// The application object's id (the `iss` of key proofs).
    pub application_id: String,
    /// The new certificate and PKCS#8 key, PEM: store it, never print it.
    pub certificate: Secret,
    /// SHA-1 thumbprint of the new certificate (upper-case hex).
    pub thumbprint: String,
    /// SHA-1 thumbprint of the certificate it replaces.
    pub old_thumbprint: String,
    /// The key credential id of the old certificate on the application.
    pub old_key_id: String,
    /// When the new certificate expires (RFC 3339).
    pub not_after: String,
}

/// Rotate the sync application's certificate, first half: with the admin's delegated token
/// find the application of `app_id` and the key credential of `current`, make a new RSA 2048
/// certificate, register it with `addKey` (the proof of possession signed by the current
/// certificate's key, as Graph requires) and prove it gives a token. The old certificate
/// keeps working until [`retire_certificate`], so a failure here loses nothing.
pub async fn rotate_certificate(
    tenant: &Tenant,
    admin_token: &Secret,
    app_id: &str,
    current: &Secret,
) -> Result<Rotation, CloudError> {
    let admin = Admin::new(tenant, admin_token)?;
    let http = admin.http.clone();
    let current_der = pem_der(current.expose()).ok_or_else(|| {
        CloudError::Certificate("the stored credential holds no PEM certificate".into())
    })?;
    let signer = CertificateCredential::from_pem(current.expose())
        .map_err(|e| CloudError::Certificate(e.to_string()))?;
    let app = admin
        .first(&format!(
            "/applications?$filter=appId eq '{}'",
            odata_quote(app_id)
        ))
        .await?
        .ok_or_else(|| CloudError::Graph {
            what: format!("finding the application {app_id}"),
            detail: "the tenant has no application with this client id; check \
                     [tenant.application] client_id or run the wizard to create it"
                .into(),
        })?;
    let application_id = id_of(&app);
    let display_name = app
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or(app_id)
        .to_owned();
    let current_id = STANDARD.encode(sha1_bytes(&current_der));
    let old_key_id = app
        .get("keyCredentials")
        .and_then(Value::as_array)
        .and_then(|keys| {
            keys.iter().find(|k| {
                k.get("customKeyIdentifier").and_then(Value::as_str) == Some(current_id.as_str())
            })
        })
        .and_then(|k| k.get("keyId").and_then(Value::as_str))
        .map(str::to_owned)
        .ok_or_else(|| {
            CloudError::Certificate(format!(
                "the stored certificate (thumbprint {}) is not registered on the application \
                 '{display_name}'; Graph only accepts a new key proven by a registered one: \
                 store the registered certificate again or rerun the wizard to add a new one",
                sha1_hex(&current_der)
            ))
        })?;
    let (certificate, der) = new_certificate(&display_name)?;
    let proof = signer
        .key_proof(&application_id)
        .map_err(|e| CloudError::Certificate(e.to_string()))?;
    let added = admin
        .ok(
            reqwest::Method::POST,
            &format!("/applications/{application_id}/addKey"),
            Some(json!({
                "keyCredential": {
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                    "key": STANDARD.encode(&der),
                    "displayName": format!("CN={display_name}"),
                },
                "passwordCredential": null,
                "proof": proof,
            })),
        )
        .await?;
    let not_after = added
        .get("endDateTime")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default();
    verify_certificate(tenant, http, app_id, &certificate, 6).await?;
    Ok(Rotation {
        application_id,
        certificate,
        thumbprint: sha1_hex(&der),
        old_thumbprint: sha1_hex(&current_der),
        old_key_id,
        not_after,
    })
}

/// Rotate the sync application's certificate, second half (after the new certificate is
/// stored): remove the old key credential with `removeKey`, proven by the new certificate.
pub async fn retire_certificate(
    tenant: &Tenant,
    admin_token: &Secret,
    rotation: &Rotation,
) -> Result<(), CloudError> {
    let admin = Admin::new(tenant, admin_token)?;
    let signer = CertificateCredential::from_pem(rotation.certificate.expose())
        .map_err(|e| CloudError::Certificate(e.to_string()))?;
    let proof = signer
        .key_proof(&rotation.application_id)
        .map_err(|e| CloudError::Certificate(e.to_string()))?;
    admin
        .ok(
            reqwest::Method::POST,
            &format!("/applications/{}/removeKey", rotation.application_id),
            Some(json!({"keyId": rotation.old_key_id, "proof": proof})),
        )
        .await?;
    Ok(())
}
