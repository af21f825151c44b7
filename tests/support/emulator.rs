//! Helpers for the tenant emulator's integration tests: start an emulator in-process on a free
//! loopback port, an HTTPS client that trusts its CA, tokens, and Graph calls.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hybridsync::emulator::{self, Bootstrap, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

/// A running emulator with a client that trusts it.
pub struct Emu {
    pub running: RunningEmulator,
    pub b: Bootstrap,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn config(dir: &std::path::Path) -> EmulatorConfig {
    let mut c = EmulatorConfig::new(dir.join("keys"));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.ca_out = Some(dir.join("ca.pem"));
    c
}

pub fn client_for(b: &Bootstrap) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(b.ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap()
}

pub async fn start_with(f: impl FnOnce(&mut EmulatorConfig)) -> Emu {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    f(&mut c);
    let running = emulator::start(c).await.unwrap();
    let b = running.bootstrap.clone();
    Emu {
        http: client_for(&b),
        running,
        b,
        dir,
    }
}

pub async fn start() -> Emu {
    start_with(|_| {}).await
}

impl Emu {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.b.base_url)
    }

    pub async fn token_form(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/oauth2/v2.0/token", self.b.authority))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn token(&self) -> String {
        let a = &self.b.application;
        let (status, v) = self
            .token_form(&[
                ("client_id", &a.client_id),
                ("client_secret", &a.client_secret),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .await;
        assert_eq!(status, 200, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// A Graph call with the bootstrap app's token: (status, headers, JSON body or Null).
    pub async fn graph(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.token().await;
        self.graph_as(&token, method, path, body, &[]).await
    }

    pub async fn graph_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let (s, _, v) = self.graph_full(token, method, path, body, headers).await;
        (s, v)
    }

    pub async fn graph_full(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = if path.starts_with("https://") || path.starts_with("http://") {
            path.to_string()
        } else {
            format!("{}{path}", self.b.graph_base_url)
        };
        let mut rb = self
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        });
        (status, headers, v)
    }

    pub fn upn(&self, nick: &str) -> String {
        format!("{nick}@{}", self.b.initial_domain)
    }

    pub async fn create_user(&self, nick: &str) -> String {
        let (s, v) = self
            .graph("POST", "/users", Some(user_body(&self.upn(nick), nick)))
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    pub async fn create_group(&self, nick: &str, unified: bool) -> String {
        let body = json!({
            "displayName": nick, "mailNickname": nick, "mailEnabled": unified,
            "securityEnabled": !unified, "groupTypes": if unified { json!(["Unified"]) } else { json!([]) },
        });
        let (s, v) = self.graph("POST", "/groups", Some(body)).await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

pub fn user_body(upn: &str, nick: &str) -> Value {
    json!({
        "accountEnabled": true, "displayName": nick, "mailNickname": nick,
        "userPrincipalName": upn,
        "passwordProfile": {"password": "P@ssw0rd!x", "forceChangePasswordNextSignIn": false},
    })
}

/// Assert Graph's error body shape and return (code, message).
pub fn graph_error(v: &Value) -> (String, String) {
    let e = &v["error"];
    let inner = &e["innerError"];
    assert!(inner["date"].is_string(), "innerError.date in {v}");
    assert!(
        inner["request-id"].is_string(),
        "innerError.request-id in {v}"
    );
    assert!(
        inner["client-request-id"].is_string(),
        "innerError.client-request-id in {v}"
    );
    (
        e["code"].as_str().unwrap().to_string(),
        e["message"].as_str().unwrap().to_string(),
    )
}

/// Claims of a JWT (unverified).
pub fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
