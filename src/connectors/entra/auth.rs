//! Signing in to the Microsoft identity platform (v2.0): the client credentials grant with a
//! certificate (a signed JWT assertion) or a client secret, a token cache that renews before
//! expiry, and the device code flow an administrator uses in the wizard.
//!
//! Invariants: secrets and private keys never appear in logs, errors or `Debug` output; a
//! certificate assertion is signed with PS256 and names the certificate by `x5t#S256` (the
//! current documentation; sync-engine.md section 10.1), lives at most 10 minutes and has a
//! fresh `jti`; a cached token is handed out only while more than five minutes of it remain;
//! an error from the token endpoint carries its `AADSTS` text, which says what to fix.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::domain::Secret;

/// The scope of an application token for Microsoft Graph at `graph_base` (`https://graph.microsoft.com`).
pub fn graph_default_scope(graph_base: &str) -> String {
    format!("{}/.default", graph_origin(graph_base))
}

/// `https://host[:port]` of a URL (a Graph base URL may carry `/v1.0`).
pub fn graph_origin(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| url.strip_prefix("http://").map(|r| ("http://", r)));
    match rest {
        Some((scheme, r)) => format!("{scheme}{}", r.split('/').next().unwrap_or(r)),
        None => url.trim_end_matches('/').to_string(),
    }
}

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The identity platform refused (wrong secret, unknown application, missing consent).
    #[error("the identity platform refused the sign-in: {0}")]
    Refused(String),
    /// It could not be reached.
    #[error("the identity platform at {url} could not be reached: {detail}")]
    Unreachable {
        /// The token endpoint.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The certificate or key in the credential store cannot be used.
    #[error("the application certificate cannot be used: {0}")]
    Certificate(String),
    /// The answer was not what the protocol describes.
    #[error("the identity platform answered something unexpected: {0}")]
    Protocol(String),
}

/// How the application proves who it is.
pub enum ClientCredential {
    /// A client secret.
    Secret(Secret),
    /// A certificate and its RSA private key (PEM, as stored in the credential store).
    Certificate(CertificateCredential),
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientCredential::Secret(_) => f.write_str("ClientCredential::Secret(<redacted>)"),
            ClientCredential::Certificate(c) => {
                write!(f, "ClientCredential::Certificate(x5t#S256={})", c.x5t_s256)
            }
        }
    }
}

/// The public client an administrator signs in with (device code) when hybridsync acts with
/// the admin's rights: creating the sync application, rotating its certificate. This is
/// Microsoft's "Microsoft Graph Command Line Tools" application, a first-party public client
/// present in every tenant that allows the device code flow and asks for delegated Graph scopes
/// (the admin consents to them at sign-in).
pub const ADMIN_PUBLIC_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// The audience of the proof of possession Graph's `addKey`/`removeKey` require.
pub const KEY_PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// A certificate credential: the key signs assertions, the certificate's hash names it.
pub struct CertificateCredential {
    key: RsaKeyPair,
    x5t_s256: String,
    x5t: String,
}

impl CertificateCredential {
    /// From one PEM text holding the certificate and its PKCS#8 private key (the form
    /// `hybridsync secrets set` stores), or from the two parts.
    pub fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let cert = pem_block(pem, "CERTIFICATE").ok_or_else(|| {
            AuthError::Certificate(
                "no '-----BEGIN CERTIFICATE-----' block; store the certificate and its private key together in one PEM secret".into(),
            )
        })?;
        let key = pem_block(pem, "PRIVATE KEY").ok_or_else(|| {
            AuthError::Certificate(
                "no '-----BEGIN PRIVATE KEY-----' (PKCS#8) block; convert an RSA key with 'openssl pkcs8 -topk8 -nocrypt'".into(),
            )
        })?;
        let key = RsaKeyPair::from_pkcs8(&key).map_err(|e| {
            AuthError::Certificate(format!("the private key is not an RSA PKCS#8 key ({e})"))
        })?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &cert);
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert);
        Ok(Self {
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
        })
    }

    /// The proof of possession of this certificate's key that Graph's
    /// `POST /applications/{id}/addKey` and `removeKey` require: a JWT signed with RS256,
    /// naming the certificate by `x5t`, `aud` = [`KEY_PROOF_AUDIENCE`], `iss` = the
    /// application's *object* id, valid for ten minutes.
    pub fn key_proof(&self, application_object_id: &str) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = json!({
            "aud": KEY_PROOF_AUDIENCE,
            "iss": application_object_id,
            "nbf": now,
            "exp": now + 600,
        });
        self.sign(&header, &claims, &aws_lc_rs::signature::RSA_PKCS1_SHA256)
    }

    fn sign(
        &self,
        header: &Value,
        claims: &Value,
        alg: &'static dyn aws_lc_rs::signature::RsaEncoding,
    ) -> Result<String, AuthError> {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                alg,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|e| AuthError::Certificate(format!("signing with the key failed ({e})")))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// A client assertion for `client_id` at `token_url`, valid for five minutes.
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + 300,
        });
        self.sign(&header, &claims, &RSA_PSS_SHA256)
    }
}

/// The bytes of the first PEM block labelled `label`.
fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

/// The token endpoint of `tenant` at `authority_host` (`https://login.microsoftonline.com`).
pub fn token_url(authority_host: &str, tenant: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/')
    )
}

struct Cached {
    token: Arc<str>,
    renew_after: Instant,
}

/// Application tokens for one client, cached until shortly before they expire.
pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scope: String,
    credential: ClientCredential,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// How long before expiry a cached token is renewed.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

impl TokenSource {
    /// A token source for the client credentials grant.
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        scope: String,
        credential: ClientCredential,
    ) -> Self {
        Self {
            http,
            token_url,
            client_id,
            scope,
            credential,
            cache: Mutex::new(None),
        }
    }

    /// A valid access token, from the cache or freshly acquired.
    pub async fn token(&self) -> Result<Arc<str>, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.renew_after
        {
            return Ok(c.token.clone());
        }
        let (token, expires_in) = self.acquire().await?;
        let lifetime = Duration::from_secs(expires_in);
        let renew_after = Instant::now() + lifetime.saturating_sub(RENEW_MARGIN).max(lifetime / 2);
        *cache = Some(Cached {
            token: token.clone(),
            renew_after,
        });
        Ok(token)
    }

    /// Forgets the cached token (Graph answered 401: it was revoked or has expired early).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn acquire(&self) -> Result<(Arc<str>, u64), AuthError> {
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".into()),
        ];
        match &self.credential {
            ClientCredential::Secret(s) => form.push(("client_secret", s.expose().to_string())),
            ClientCredential::Certificate(c) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    c.assertion(&self.client_id, &self.token_url)?,
                ));
            }
        }
        let v = post_form(&self.http, &self.token_url, &form).await?;
        let v = v.map_err(|e| AuthError::Refused(e.describe()))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| AuthError::Protocol("no access_token in the token response".into()))?;
        let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3599);
        Ok((Arc::from(token), expires_in))
    }
}

/// An OAuth error answer (`error`, `error_description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `error` (`invalid_client`, `authorization_pending`, ...).
    pub error: String,
    /// `error_description` (starts with the `AADSTS` code).
    pub description: String,
}

impl OAuthError {
    fn describe(&self) -> String {
        if self.description.is_empty() {
            self.error.clone()
        } else {
            format!("{}: {}", self.error, self.description)
        }
    }
}

/// POSTs a form; `Ok(Err(_))` is an OAuth error answer.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, String)],
) -> Result<Result<Value, OAuthError>, AuthError> {
    let unreachable = |e: reqwest::Error| AuthError::Unreachable {
        url: url.to_string(),
        detail: crate::connectors::entra::client::error_chain(&e),
    };
    let r = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(unreachable)?;
    let status = r.status();
    let text = r.text().await.map_err(unreachable)?;
    let v: Value = serde_json::from_str(&text).map_err(|_| {
        AuthError::Protocol(format!(
            "HTTP {status} with a body that is not JSON: {}",
            text.chars().take(200).collect::<String>()
        ))
    })?;
    if status.is_success() {
        return Ok(Ok(v));
    }
    Ok(Err(OAuthError {
        error: v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_string(),
        description: v
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }))
}

/// What the device code endpoint answered: what to show the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The code the administrator types.
    pub user_code: String,
    /// Where they type it.
    pub verification_uri: String,
    /// The ready-made sentence to show.
    pub message: String,
    /// Seconds between polls.
    pub interval: u64,
    /// Seconds until the code expires.
    pub expires_in: u64,
    device_code: String,
}

/// A signed-in administrator's tokens.
pub struct UserTokens {
    /// Access token for the requested scopes.
    pub access_token: Secret,
    /// Refresh token, when `offline_access` was asked.
    pub refresh_token: Option<Secret>,
    /// The ID token, when `openid` was asked.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for UserTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserTokens(<redacted>)")
    }
}

/// How one poll of the device code flow ended.
#[derive(Debug)]
pub enum DevicePoll {
    /// Signed in.
    Done(UserTokens),
    /// Not yet: poll again after the interval.
    Pending,
    /// The administrator declined.
    Declined,
    /// The code expired; start again.
    Expired,
}

/// Starts the device code flow for `client_id` (public client) asking `scopes`.
pub async fn start_device_code(
    http: &reqwest::Client,
    authority_host: &str,
    tenant: &str,
    client_id: &str,
    scopes: &str,
) -> Result<DeviceCode, AuthError> {
    let url = format!(
        "{}/{tenant}/oauth2/v2.0/devicecode",
        authority_host.trim_end_matches('/')
    );
    let form = [
        ("client_id", client_id.to_string()),
        ("scope", scopes.to_string()),
    ];
    let v = post_form(http, &url, &form)
        .await?
        .map_err(|e| AuthError::Refused(e.describe()))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    Ok(DeviceCode {
        user_code: s("user_code")
            .ok_or_else(|| AuthError::Protocol("no user_code in the device code answer".into()))?,
        device_code: s("device_code").ok_or_else(|| {
            AuthError::Protocol("no device_code in the device code answer".into())
        })?,
        verification_uri: s("verification_uri").unwrap_or_default(),
        message: s("message").unwrap_or_default(),
        interval: n("interval").unwrap_or(5),
        expires_in: n("expires_in").unwrap_or(900),
    })
}

/// Polls once for the outcome of a device code sign-in.
pub async fn poll_device_code(
    http: &reqwest::Client,
    authority_host: &str,
    tenant: &str,
    client_id: &str,
    code: &DeviceCode,
) -> Result<DevicePoll, AuthError> {
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:device_code".to_string(),
        ),
        ("client_id", client_id.to_string()),
        ("device_code", code.device_code.clone()),
    ];
    match post_form(http, &token_url(authority_host, tenant), &form).await? {
        Ok(v) => {
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            Ok(DevicePoll::Done(UserTokens {
                access_token: Secret::new(s("access_token").ok_or_else(|| {
                    AuthError::Protocol("no access_token in the token response".into())
                })?),
                refresh_token: s("refresh_token").map(Secret::new),
                id_token: s("id_token"),
            }))
        }
        Err(e) => match e.error.as_str() {
            "authorization_pending" | "slow_down" => Ok(DevicePoll::Pending),
            "authorization_declined" => Ok(DevicePoll::Declined),
            "expired_token" | "code_expired" => Ok(DevicePoll::Expired),
            _ => Err(AuthError::Refused(e.describe())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_scopes() {
        assert_eq!(
            graph_default_scope("https://graph.microsoft.com/v1.0"),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            graph_origin("https://127.0.0.1:8443/v1.0/"),
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            token_url(
                "https://login.microsoftonline.com/",
                "contoso.onmicrosoft.com"
            ),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn a_pem_without_a_key_says_how_to_store_one() {
        let e = CertificateCredential::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("PKCS#8"), "{e}");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let c = ClientCredential::Secret(Secret::new("hunter2".into()));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
