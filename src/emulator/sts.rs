//! The identity platform v2.0 stand-in: OpenID configuration, JWKS, instance discovery, the token
//! endpoint (client credentials by secret or certificate assertion, device code), and the
//! access-token checks Graph applies.
//!
//! Invariants: a client assertion is accepted only when its signature verifies against a
//! certificate registered on the application (found by `x5t#S256` or `x5t`), with RS256 or
//! PS256, `aud` equal to this tenant's token endpoint, `iss` = `sub` = the client id, and a live
//! `nbf`..`exp` window of at most 10 minutes; the proof of possession of `addKey`/`removeKey`
//! is checked the same way against the application's certificates, with `aud` = the Azure AD
//! Graph id and `iss` = the application's object id. Issued access tokens are RS256 JWTs for
//! `https://graph.microsoft.com` carrying `tid` and `roles` (application) or `scp` (delegated);
//! a device-code or refresh-token grant that asked for `openid` also gets an `id_token` (signed
//! by the key in the JWKS, `aud` = client id, `iss` = the OpenID configuration's issuer, no
//! `nonce`) and `client_info`, and one that asked for `offline_access` a refresh token. A refresh
//! token is a signed, self-contained grant (client, user, scopes, expiry), so it needs no state
//! and survives a restart like the signing key does.

use std::collections::HashMap;

use aws_lc_rs::signature;
use serde_json::{Map, Value, json};

use super::error::{GraphError, StsError};
use super::pki::{TokenSigner, thumbprints};
use super::tenant::Tenant;
use super::util::{b64url, b64url_decode, new_guid, now_secs};

/// Graph's resource identifier and the audiences Graph accepts.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
const GRAPH_AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];
/// Lifetime of issued access tokens.
pub const TOKEN_LIFETIME: i64 = 3599;
/// Device codes expire after this many seconds.
pub const DEVICE_CODE_LIFETIME: i64 = 900;
/// Poll interval handed to device-code clients.
pub const DEVICE_POLL_INTERVAL: i64 = 5;

/// A pending device authorization.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// Client that asked.
    pub client_id: String,
    /// The short code a user types.
    pub user_code: String,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// Approved by this user, declined, or still pending.
    pub state: DeviceState,
    /// Last poll time, for `slow_down`.
    pub last_poll: i64,
}

/// Where a device authorization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    /// Waiting for the user.
    Pending,
    /// Approved by this user (UPN).
    Approved(String),
    /// The user declined.
    Declined,
}

/// Pending device codes by device code.
pub type DeviceCodes = HashMap<String, DeviceCode>;

/// The OpenID configuration document for a tenant at `base` (e.g. `https://127.0.0.1:8443`).
pub fn openid_configuration(base: &str, tenant_id: &str) -> Value {
    let t = format!("{base}/{tenant_id}");
    json!({
        "token_endpoint": format!("{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{t}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

/// The answer to `GET /common/discovery/instance?authorization_endpoint=...`.
pub fn instance_discovery(base: &str, authorization_endpoint: Option<&str>) -> Value {
    // The tenant segment of the authorization endpoint the client named.
    let tenant = authorization_endpoint
        .and_then(|a| a.strip_prefix(base))
        .and_then(|p| p.trim_start_matches('/').split('/').next())
        .filter(|t| !t.is_empty())
        .unwrap_or("common");
    let host = base
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    json!({
        "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": host,
            "preferred_cache": host,
            "aliases": [host],
        }],
    })
}

/// Sign a JWT (RS256) with the emulator's key.
pub fn sign_jwt(signer: &TokenSigner, claims: &Value) -> Result<String, StsError> {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": signer.kid, "x5t": signer.kid});
    let msg = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = signer
        .sign(msg.as_bytes())
        .map_err(|e| StsError::new("server_error", 90000, e.to_string()))?;
    Ok(format!("{msg}.{}", b64url(&sig)))
}

fn split_jwt(jwt: &str) -> Option<(Value, Value, String, Vec<u8>)> {
    let mut parts = jwt.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = serde_json::from_slice(&b64url_decode(h)?).ok()?;
    let claims = serde_json::from_slice(&b64url_decode(c)?).ok()?;
    Some((header, claims, format!("{h}.{c}"), b64url_decode(s)?))
}

/// Issue an access token for Graph.
fn access_token(
    signer: &TokenSigner,
    base: &str,
    tenant: &Tenant,
    app_id: &str,
    roles: Option<&[String]>,
    delegated: Option<(&str, &str)>,
) -> Result<Value, StsError> {
    let now = now_secs();
    let mut claims = json!({
        "aud": GRAPH_RESOURCE,
        "iss": format!("{base}/{}/v2.0", tenant.tenant_id),
        "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME,
        "tid": tenant.tenant_id,
        "appid": app_id, "azp": app_id,
        "oid": new_guid(), "sub": new_guid(),
        "ver": "1.0", "uti": new_guid(),
    });
    if let Some(m) = claims.as_object_mut() {
        if let Some(r) = roles {
            m.insert("roles".into(), json!(r));
            m.insert("idtyp".into(), json!("app"));
        }
        if let Some((upn, scp)) = delegated {
            m.insert("scp".into(), json!(scp));
            m.insert("upn".into(), json!(upn));
            m.insert("idtyp".into(), json!("user"));
        }
    }
    let token = sign_jwt(signer, &claims)?;
    let mut out = json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": token,
    });
    if let (Some((_, scp)), Some(m)) = (delegated, out.as_object_mut()) {
        m.insert("scope".into(), json!(scp));
    }
    Ok(out)
}

fn require_default_scope(form: &HashMap<String, String>) -> Result<(), StsError> {
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let ok = scope.split_whitespace().any(|s| {
        s.eq_ignore_ascii_case("https://graph.microsoft.com/.default")
            || s.eq_ignore_ascii_case("00000003-0000-0000-c000-000000000000/.default")
    });
    if ok {
        Ok(())
    } else {
        Err(StsError::new(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ))
    }
}

/// Everything the token endpoint needs.
pub struct TokenContext<'a> {
    /// Key that signs tokens.
    pub signer: &'a TokenSigner,
    /// Public base URL (`https://127.0.0.1:8443`).
    pub base: &'a str,
    /// The tenant segment of the request path.
    pub tenant_segment: &'a str,
}

fn check_tenant(ctx: &TokenContext<'_>, tenant: &Tenant) -> Result<(), StsError> {
    let seg = ctx.tenant_segment;
    let known = seg.eq_ignore_ascii_case(&tenant.tenant_id)
        || seg.eq_ignore_ascii_case(&tenant.initial_domain())
        || ["organizations", "common"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(seg))
        || tenant.domains.iter().any(|d| {
            d.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(seg))
        });
    if known {
        Ok(())
    } else {
        Err(StsError::new(
            "invalid_request",
            90002,
            format!(
                "Tenant '{seg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ))
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub fn token(
    ctx: &TokenContext<'_>,
    tenant: &Tenant,
    devices: &mut DeviceCodes,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    check_tenant(ctx, tenant)?;
    let grant = form
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    match grant {
        "client_credentials" => {
            require_default_scope(form)?;
            let client_id = if client_id.is_empty() {
                form.get("client_assertion")
                    .and_then(|a| split_jwt(a))
                    .and_then(|(_, c, _, _)| {
                        c.get("iss").and_then(Value::as_str).map(str::to_string)
                    })
                    .unwrap_or_default()
            } else {
                client_id
            };
            let client = tenant.clients.get(&client_id).ok_or_else(|| {
                StsError::new(
                    "unauthorized_client",
                    700016,
                    format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", tenant.tenant_id),
                )
            })?;
            if let Some(secret) = form.get("client_secret") {
                if !client.secrets.iter().any(|s| s == secret) {
                    let mut e = StsError::new(
                        "invalid_client",
                        7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '".to_string() + &client_id + "'.",
                    );
                    e.status = 401;
                    return Err(e);
                }
            } else if let Some(assertion) = form.get("client_assertion") {
                if form.get("client_assertion_type").map(String::as_str)
                    != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                {
                    return Err(StsError::new(
                        "invalid_request",
                        900144,
                        "The request body must contain the following parameter: 'client_assertion_type'.",
                    ));
                }
                verify_assertion(ctx, tenant, &client.certificates, &client_id, assertion)?;
            } else {
                let mut e = StsError::new(
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                );
                e.status = 401;
                return Err(e);
            }
            access_token(
                ctx.signer,
                ctx.base,
                tenant,
                &client_id,
                Some(&client.roles),
                None,
            )
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let code = form.get("device_code").cloned().unwrap_or_default();
            let now = now_secs();
            let Some(d) = devices.get_mut(&code) else {
                return Err(StsError::new(
                    "bad_verification_code",
                    70019,
                    "Verification code was not recognized.",
                ));
            };
            if now >= d.expires_at {
                devices.remove(&code);
                return Err(StsError::new(
                    "expired_token",
                    70020,
                    "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                ));
            }
            match d.state.clone() {
                DeviceState::Pending => {
                    let too_fast = now - d.last_poll < DEVICE_POLL_INTERVAL / 2 && d.last_poll > 0;
                    d.last_poll = now;
                    if too_fast {
                        Err(StsError::new(
                            "slow_down",
                            70016,
                            "OAuth 2.0 device flow error. Polling too fast; slow down.",
                        ))
                    } else {
                        Err(StsError::new(
                            "authorization_pending",
                            70016,
                            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                        ))
                    }
                }
                DeviceState::Declined => {
                    devices.remove(&code);
                    Err(StsError::new(
                        "authorization_declined",
                        70000,
                        "The user declined to authorize the request.",
                    ))
                }
                DeviceState::Approved(upn) => {
                    let d = devices.remove(&code).ok_or_else(|| {
                        StsError::new(
                            "bad_verification_code",
                            70019,
                            "Verification code was not recognized.",
                        )
                    })?;
                    user_tokens(ctx, tenant, &d.client_id, &upn, &d.scopes)
                }
            }
        }
        "refresh_token" => {
            let rt = form
                .get("refresh_token")
                .map(String::as_str)
                .unwrap_or_default();
            let grant = refresh_grant(ctx.signer, rt)?;
            if grant.client_id != client_id {
                return Err(StsError::new(
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
                ));
            }
            // A refresh may narrow the scopes, never widen them beyond the original grant's.
            let scopes: Vec<String> = match form.get("scope") {
                Some(s) if !s.trim().is_empty() => {
                    let asked: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                    let held = |x: &String| {
                        grant.scopes.iter().any(|g| {
                            g.eq_ignore_ascii_case(x)
                                || short_scope(g).eq_ignore_ascii_case(short_scope(x))
                        })
                    };
                    if let Some(extra) = asked
                        .iter()
                        .find(|x| !OIDC_SCOPES.contains(&x.as_str()) && !held(x))
                    {
                        return Err(StsError::new(
                            "invalid_grant",
                            65001,
                            format!(
                                "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource. Scope '{extra}' was not granted."
                            ),
                        ));
                    }
                    asked
                }
                _ => grant.scopes.clone(),
            };
            user_tokens(ctx, tenant, &client_id, &grant.upn, &scopes)
        }
        "" => Err(StsError::new(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
        other => Err(StsError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// OpenID Connect scopes: they shape the answer (id token, refresh token), not the access token.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];
/// Refresh tokens stay valid this long (the identity platform's 90-day inactivity window).
pub const REFRESH_TOKEN_LIFETIME: i64 = 90 * 24 * 3600;

fn short_scope(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A refresh token's content.
struct RefreshGrant {
    client_id: String,
    upn: String,
    scopes: Vec<String>,
}

fn refresh_grant(signer: &TokenSigner, token: &str) -> Result<RefreshGrant, StsError> {
    let invalid = || {
        StsError::new(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
    };
    let (_, claims, signed, sig) = split_jwt(token).ok_or_else(invalid)?;
    if !signer.verify(signed.as_bytes(), &sig)
        || claims.get("typ").and_then(Value::as_str) != Some("refresh")
    {
        return Err(invalid());
    }
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) <= now_secs() {
        return Err(StsError::new(
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity.",
        ));
    }
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(RefreshGrant {
        client_id: text("client_id"),
        upn: text("upn"),
        scopes: text("scope")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

/// The signed-in user's object id: the directory's user with this UPN, or a stable id derived
/// from the UPN when the approver is not in the directory.
fn user_object_id(tenant: &Tenant, upn: &str) -> (String, String) {
    if let Ok(u) = tenant.live(super::tenant::Kind::User, upn) {
        let name = u
            .props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(upn)
            .to_string();
        return (u.id().to_string(), name);
    }
    let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, upn.to_lowercase().as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.as_ref()[..16]);
    let name = upn.split('@').next().unwrap_or(upn).to_string();
    (uuid::Uuid::from_bytes(b).to_string(), name)
}

/// Tokens for a signed-in user (device code, refresh token): a delegated access token for the
/// resource scopes, plus an id token and `client_info` when `openid` was asked and a refresh
/// token when `offline_access` was.
fn user_tokens(
    ctx: &TokenContext<'_>,
    tenant: &Tenant,
    client_id: &str,
    upn: &str,
    scopes: &[String],
) -> Result<Value, StsError> {
    let has = |x: &str| scopes.iter().any(|s| s.eq_ignore_ascii_case(x));
    let scp: Vec<&str> = scopes
        .iter()
        .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
        .map(|s| short_scope(s))
        .collect();
    let mut out = access_token(
        ctx.signer,
        ctx.base,
        tenant,
        client_id,
        None,
        Some((upn, &scp.join(" "))),
    )?;
    let now = now_secs();
    let (oid, name) = user_object_id(tenant, upn);
    let Some(m) = out.as_object_mut() else {
        return Ok(out);
    };
    if has("openid") {
        let mut claims = json!({
            "aud": client_id,
            "iss": format!("{}/{}/v2.0", ctx.base, tenant.tenant_id),
            "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME,
            "tid": tenant.tenant_id,
            "oid": oid,
            "sub": b64url(&aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("{oid}{client_id}").as_bytes(),
            ).as_ref()[..24]),
            "ver": "2.0",
            "uti": new_guid(),
        });
        if has("profile")
            && let Some(c) = claims.as_object_mut()
        {
            c.insert("preferred_username".into(), json!(upn));
            c.insert("name".into(), json!(name));
        }
        m.insert("id_token".into(), json!(sign_jwt(ctx.signer, &claims)?));
        m.insert(
            "client_info".into(),
            json!(b64url(
                json!({"uid": oid, "utid": tenant.tenant_id})
                    .to_string()
                    .as_bytes()
            )),
        );
    }
    if has("offline_access") {
        let grant = json!({
            "typ": "refresh",
            "client_id": client_id,
            "upn": upn,
            "scope": scopes.join(" "),
            "iat": now,
            "exp": now + REFRESH_TOKEN_LIFETIME,
            "jti": new_guid(),
        });
        m.insert("refresh_token".into(), json!(sign_jwt(ctx.signer, &grant)?));
        m.insert(
            "refresh_token_expires_in".into(),
            json!(REFRESH_TOKEN_LIFETIME),
        );
    }
    // The answer's `scope` names every granted scope, the OpenID ones included.
    let mut granted: Vec<String> = scp.iter().map(|s| s.to_string()).collect();
    for s in OIDC_SCOPES {
        if has(s) {
            granted.push(s.to_string());
        }
    }
    m.insert("scope".into(), json!(granted.join(" ")));
    Ok(out)
}

/// The audience of an `addKey`/`removeKey` proof: Azure AD Graph's application id.
pub const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// Check the proof of possession of `POST /applications/{id}/addKey` and `removeKey`: a JWT
/// signed (RS256 or PS256) with the private key of a certificate already registered on the
/// application (named by `x5t`, `x5t#S256` or a hex-thumbprint `kid`), `aud` =
/// [`PROOF_AUDIENCE`], `iss` = the application's object id, `nbf` and `exp` at most 10 minutes
/// apart and now within them (5 minutes of clock skew). Graph documents no error text for a bad
/// proof; callers report `401 Authentication_MissingOrMalformed` "Access Token missing or
/// malformed.", which is what this answers for every failure.
pub fn verify_proof(
    certificates: &[Vec<u8>],
    application_object_id: &str,
    proof: &str,
) -> Result<(), GraphError> {
    let bad = || {
        GraphError::new(
            401,
            "Authentication_MissingOrMalformed",
            "Access Token missing or malformed.",
        )
    };
    let (header, claims, signed, sig) = split_jwt(proof).ok_or_else(bad)?;
    let named = |k: &str| header.get(k).and_then(Value::as_str);
    let x5t = named("x5t").and_then(b64url_decode);
    let x5t256 = named("x5t#S256").and_then(b64url_decode);
    let kid = named("kid").map(str::to_ascii_uppercase);
    let cert = certificates
        .iter()
        .find(|c| {
            let (sha1, sha256) = thumbprints(c);
            let hex: String = sha1.iter().map(|b| format!("{b:02X}")).collect();
            x5t.as_deref() == Some(&sha1[..])
                || x5t256.as_deref() == Some(&sha256[..])
                || kid.as_deref() == Some(hex.as_str())
        })
        .ok_or_else(bad)?;
    let alg: &dyn signature::VerificationAlgorithm = match named("alg") {
        Some("RS256") => &signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &signature::RSA_PSS_2048_8192_SHA256,
        _ => return Err(bad()),
    };
    let public = super::util::cert_rsa_public_key(cert).ok_or_else(bad)?;
    signature::UnparsedPublicKey::new(alg, public)
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| bad())?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == PROOF_AUDIENCE,
        Some(Value::Array(xs)) => xs.iter().any(|a| a.as_str() == Some(PROOF_AUDIENCE)),
        _ => false,
    };
    if !aud_ok
        || !claims
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|i| i.eq_ignore_ascii_case(application_object_id))
    {
        return Err(bad());
    }
    let num = |k: &str| claims.get(k).and_then(Value::as_f64).map(|x| x as i64);
    let (Some(nbf), Some(exp)) = (num("nbf"), num("exp")) else {
        return Err(bad());
    };
    let now = now_secs();
    if exp - nbf > 600 || exp <= nbf || nbf - 300 > now || exp + 300 < now {
        return Err(bad());
    }
    Ok(())
}

fn verify_assertion(
    ctx: &TokenContext<'_>,
    tenant: &Tenant,
    certificates: &[Vec<u8>],
    client_id: &str,
    assertion: &str,
) -> Result<(), StsError> {
    let invalid = |code: u32, msg: &str| {
        let mut e = StsError::new("invalid_client", code, msg.to_string());
        e.status = 401;
        e
    };
    let (header, claims, signed, sig) =
        split_jwt(assertion).ok_or_else(|| invalid(50027, "JWT token is invalid or malformed."))?;
    let thumb_s256 = header
        .get("x5t#S256")
        .and_then(Value::as_str)
        .and_then(b64url_decode);
    let thumb_sha1 = header
        .get("x5t")
        .and_then(Value::as_str)
        .and_then(b64url_decode);
    let cert = certificates.iter().find(|c| {
        let (sha1, sha256) = thumbprints(c);
        thumb_s256.as_deref() == Some(&sha256[..]) || thumb_sha1.as_deref() == Some(&sha1[..])
    });
    let Some(cert) = cert else {
        return Err(invalid(
            700027,
            &format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]",
                header
                    .get("x5t")
                    .or(header.get("x5t#S256"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
        ));
    };
    let alg: &dyn signature::VerificationAlgorithm = match header.get("alg").and_then(Value::as_str)
    {
        Some("RS256") => &signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &signature::RSA_PSS_2048_8192_SHA256,
        other => {
            return Err(invalid(
                5002738,
                &format!(
                    "Invalid JWT token. '{}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'",
                    other.unwrap_or("none")
                ),
            ));
        }
    };
    let public = super::util::cert_rsa_public_key(cert)
        .ok_or_else(|| invalid(700027, "The registered certificate has no RSA public key."))?;
    signature::UnparsedPublicKey::new(alg, public)
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| invalid(700027, "Client assertion failed signature validation."))?;
    let expected_aud: Vec<String> = [tenant.tenant_id.as_str(), ctx.tenant_segment]
        .iter()
        .map(|t| format!("{}/{t}/oauth2/v2.0/token", ctx.base))
        .collect();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => expected_aud.iter().any(|e| e.eq_ignore_ascii_case(a)),
        Some(Value::Array(xs)) => xs
            .iter()
            .filter_map(Value::as_str)
            .any(|a| expected_aud.iter().any(|e| e.eq_ignore_ascii_case(a))),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid(
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'.",
                claims.get("aud").map(Value::to_string).unwrap_or_default()
            ),
        ));
    }
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != Some(client_id) || sub != Some(client_id) {
        return Err(invalid(
            700023,
            "Client assertion audience claim does not match Realm issuer, or the assertion iss and sub claims must equal the client id.",
        ));
    }
    let now = now_secs();
    // Numeric dates may be fractional (RFC 7519 NumericDate).
    let num = |k: &str| claims.get(k).and_then(Value::as_f64).map(|x| x as i64);
    let exp = num("exp").unwrap_or(0);
    let nbf = num("nbf").or_else(|| num("iat")).unwrap_or(now);
    if exp + 300 < now || nbf - 300 > now || exp - nbf > 600 + 300 {
        return Err(invalid(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// Microsoft's first-party public clients that every tenant knows and that may start the
/// device code flow: "Microsoft Graph Command Line Tools", the client hybridsync's admin
/// sign-in uses.
pub const FIRST_PARTY_PUBLIC_CLIENTS: &[&str] = &["14d82eec-204b-4c2f-b7e8-296a70dab67e"];

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub fn device_code(
    ctx: &TokenContext<'_>,
    tenant: &Tenant,
    devices: &mut DeviceCodes,
    form: &HashMap<String, String>,
) -> Result<Value, StsError> {
    check_tenant(ctx, tenant)?;
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if !tenant.clients.contains_key(&client_id)
        && !FIRST_PARTY_PUBLIC_CLIENTS.contains(&client_id.as_str())
    {
        return Err(StsError::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                tenant.tenant_id
            ),
        ));
    }
    let scopes: Vec<String> = form
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let device_code = b64url(format!("{}{}", new_guid(), new_guid()).as_bytes());
    let raw = new_guid().replace('-', "").to_uppercase();
    let user_code = raw.get(..9).unwrap_or("ABCDEFGHI").to_string();
    let uri = format!("{}/devicelogin", ctx.base);
    devices.insert(
        device_code.clone(),
        DeviceCode {
            client_id,
            user_code: user_code.clone(),
            scopes,
            expires_at: now_secs() + DEVICE_CODE_LIFETIME,
            state: DeviceState::Pending,
            last_poll: 0,
        },
    );
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": DEVICE_CODE_LIFETIME,
        "interval": DEVICE_POLL_INTERVAL,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
}

/// The caller of a Graph request, from a validated token.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The calling application's client id (`appid`).
    pub app_id: String,
    /// Application permissions.
    pub roles: Vec<String>,
    /// Delegated permissions.
    pub scopes: Vec<String>,
}

impl Caller {
    /// Whether any of these permissions is held (role or scope).
    pub fn has_any(&self, perms: &[&str]) -> bool {
        perms.iter().any(|p| {
            self.roles.iter().any(|r| r.eq_ignore_ascii_case(p))
                || self.scopes.iter().any(|s| s.eq_ignore_ascii_case(p))
        })
    }
}

/// Check a bearer token the way Graph does.
pub fn validate(
    signer: &TokenSigner,
    tenant_id: &str,
    authorization: Option<&str>,
) -> Result<Caller, GraphError> {
    let token = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::unauthorized("Access token is empty."))?;
    let (_, claims, signed, sig) = split_jwt(token).ok_or_else(|| {
        GraphError::unauthorized("IDX14100: JWT is not well formed, there are no dots (.).")
    })?;
    if !signer.verify(signed.as_bytes(), &sig) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid signature.",
        ));
    }
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !GRAPH_AUDIENCES.contains(&aud) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid audience.",
        ));
    }
    if claims.get("tid").and_then(Value::as_str) != Some(tenant_id) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid tenant.",
        ));
    }
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) <= now_secs() {
        return Err(GraphError::unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Caller {
        app_id: claims
            .get("appid")
            .or(claims.get("azp"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        roles: strings(claims.get("roles")),
        scopes: claims
            .get("scp")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

/// The JWKS document.
pub fn jwks(signer: &TokenSigner) -> Value {
    json!({ "keys": [signer.jwk()] })
}

/// Parse `application/x-www-form-urlencoded`.
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in body.split(|&b| b == b'&') {
        let mut kv = pair.splitn(2, |&b| b == b'=');
        let k = percent_decode(kv.next().unwrap_or_default());
        let v = percent_decode(kv.next().unwrap_or_default());
        if !k.is_empty() {
            out.insert(k, v);
        }
    }
    out
}

/// Decode `%xx` and `+` (form and query encoding).
pub fn percent_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Claims of a token, unverified (for tests and the admin view).
pub fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    match split_jwt(token)?.1 {
        Value::Object(m) => Some(m),
        _ => None,
    }
}
