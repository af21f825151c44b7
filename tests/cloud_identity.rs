#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! The cloud sync identity against the tenant emulator: the admin signs in with the device code
//! flow (approved through the emulator's approval endpoint), hybridsync creates the application,
//! its service principal and a certificate credential, grants exactly the Graph permissions the
//! features need, and proves a client-credentials token works; a rerun with the stored
//! certificate changes nothing; fewer features revoke the permission no longer needed.

#[path = "support/emulator.rs"]
mod emulator;

use hybridsync::connectors::entra::auth::{self, DevicePoll};
use hybridsync::connectors::entra::{CertificateCredential, ClientCredential, TokenSource};
use hybridsync::domain::Secret;
use hybridsync::provision::cloud::{self, CloudRequest, Tenant};
use serde_json::json;
use std::os::unix::fs::PermissionsExt as _;

async fn admin_token(e: &emulator::Emu) -> Secret {
    let http = emulator::client_for(&e.b);
    let scopes = "https://graph.microsoft.com/Application.ReadWrite.All \
                  https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All";
    let code = auth::start_device_code(
        &http,
        &e.b.base_url,
        &e.b.tenant_id,
        &e.b.application.client_id,
        scopes,
    )
    .await
    .unwrap();
    let r = e
        .http
        .post(e.url("/_emulator/devicecode/approve"))
        .json(&json!({"user_code": code.user_code}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    match auth::poll_device_code(
        &http,
        &e.b.base_url,
        &e.b.tenant_id,
        &e.b.application.client_id,
        &code,
    )
    .await
    .unwrap()
    {
        DevicePoll::Done(t) => t.access_token,
        other => panic!("device code: {other:?}"),
    }
}

fn tenant(e: &emulator::Emu) -> Tenant {
    Tenant {
        tenant: e.b.tenant_id.clone(),
        authority_host: e.b.base_url.clone(),
        graph_base: e.b.graph_base_url.clone(),
        scope: "https://graph.microsoft.com/.default".into(),
        ca_file: e.b.ca_file.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_identity_is_created_with_a_certificate_and_only_the_needed_permissions() {
    let e = emulator::start().await;
    let admin = admin_token(&e).await;
    let wanted: Vec<String> = cloud::permissions(false, false)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let req = CloudRequest {
        display_name: "hybridsync lab.example".into(),
        permissions: wanted.clone(),
        existing_certificate: None,
    };
    let id = cloud::ensure_cloud_identity(&tenant(&e), &admin, &req)
        .await
        .unwrap();
    assert!(id.created && id.new_certificate);
    assert_eq!(id.granted, wanted);
    assert!(id.revoked.is_empty());
    assert_eq!(id.thumbprint.len(), 40);
    let pem = id.certificate.expose();
    assert!(
        pem.contains("-----BEGIN CERTIFICATE-----") && pem.contains("-----BEGIN PRIVATE KEY-----")
    );

    // The application's token carries exactly those roles.
    let tokens = TokenSource::new(
        emulator::client_for(&e.b),
        auth::token_url(&e.b.base_url, &e.b.tenant_id),
        id.app_id.clone(),
        "https://graph.microsoft.com/.default".into(),
        ClientCredential::Certificate(CertificateCredential::from_pem(pem).unwrap()),
    );
    let token = tokens.token().await.unwrap();
    let mut roles: Vec<String> = emulator::claims(&token)["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    roles.sort();
    let mut expected = wanted.clone();
    expected.sort();
    assert_eq!(roles, expected);
    let (status, sp) = e
        .graph(
            "GET",
            &format!("/servicePrincipals/{}", id.service_principal_id),
            None,
        )
        .await;
    assert_eq!(status, 200, "{sp}");
    assert_eq!(sp["appId"], id.app_id.as_str());

    // A rerun with the stored certificate: nothing changes.
    let again = cloud::ensure_cloud_identity(
        &tenant(&e),
        &admin,
        &CloudRequest {
            existing_certificate: Some(id.certificate.clone()),
            ..req.clone()
        },
    )
    .await
    .unwrap();
    assert!(!again.created && !again.new_certificate);
    assert!(again.granted.is_empty() && again.revoked.is_empty());
    assert_eq!(
        (again.app_id.as_str(), again.thumbprint.as_str()),
        (id.app_id.as_str(), id.thumbprint.as_str())
    );
    let (_, apps) = e
        .graph(
            "GET",
            "/applications?$filter=displayName eq 'hybridsync lab.example'",
            None,
        )
        .await;
    assert_eq!(apps["value"].as_array().unwrap().len(), 1, "{apps}");

    // Directory extensions on, then the permission set shrinks back: grant, then revoke.
    let more = cloud::ensure_cloud_identity(
        &tenant(&e),
        &admin,
        &CloudRequest {
            permissions: cloud::permissions(true, false)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            existing_certificate: Some(id.certificate.clone()),
            ..req.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(more.granted, ["Application.ReadWrite.OwnedBy"]);
    let fewer = cloud::ensure_cloud_identity(
        &tenant(&e),
        &admin,
        &CloudRequest {
            existing_certificate: Some(id.certificate.clone()),
            ..req.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(fewer.revoked, ["Application.ReadWrite.OwnedBy"]);

    // A lost certificate is replaced (the old one stops working).
    let replaced = cloud::ensure_cloud_identity(&tenant(&e), &admin, &req)
        .await
        .unwrap();
    assert!(replaced.new_certificate && !replaced.created);
    assert_ne!(replaced.thumbprint, id.thumbprint);
    tokens.invalidate().await;
    assert!(
        tokens.token().await.is_err(),
        "the replaced certificate no longer signs in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_without_the_rights_is_a_clear_error() {
    let e = emulator::start().await;
    let http = emulator::client_for(&e.b);
    let code = auth::start_device_code(
        &http,
        &e.b.base_url,
        &e.b.tenant_id,
        &e.b.application.client_id,
        "https://graph.microsoft.com/User.Read",
    )
    .await
    .unwrap();
    e.http
        .post(e.url("/_emulator/devicecode/approve"))
        .json(&json!({"user_code": code.user_code}))
        .send()
        .await
        .unwrap();
    let DevicePoll::Done(t) = auth::poll_device_code(
        &http,
        &e.b.base_url,
        &e.b.tenant_id,
        &e.b.application.client_id,
        &code,
    )
    .await
    .unwrap() else {
        panic!("not approved");
    };
    let err = cloud::ensure_cloud_identity(
        &tenant(&e),
        &t.access_token,
        &CloudRequest {
            display_name: "hybridsync x".into(),
            permissions: vec!["User.ReadWrite.All".into()],
            existing_certificate: None,
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("HTTP 403"), "{err}");
    assert!(err.contains("Hybrid Identity Administrator"), "{err}");
}

/// A configuration pointing at the emulator, its application signing in with the certificate in
/// a root-only file; an LDIF forest so no directory is needed.
fn rotation_config(e: &emulator::Emu, dir: &std::path::Path, cert_ref: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("forest.ldif"), "version: 1\n").unwrap();
    let config = format!(
        r#"schema_version = 1

[install]
state_dir = '{state}'

[[directories]]
forest = "lab.example"
ldif_file = '{ldif}'

[directories.account]
username = "LAB\\MSOL_0123456789ab"
secret_ref = "store:ad-connector"

[sign_in]
method = "do-not-configure"

[tenant]
tenant_id = "{tenant}"
authority_host = "{authority}"
graph_endpoint = "{graph}"
ca_file = '{ca}'

[tenant.application]
client_id = "{client}"
certificate_ref = "{cert_ref}"
"#,
        state = dir.join("state").display(),
        ldif = dir.join("forest.ldif").display(),
        tenant = e.b.tenant_id,
        authority = e.b.base_url,
        graph = e.b.graph_base_url,
        ca = e.b.ca_file.as_ref().unwrap().display(),
        client = e.b.application.client_id,
    );
    let path = dir.join("hybridsync.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs `hybridsync config rotate-certificate`; `approve` answers the device code (true =
/// approve, false = decline) through the emulator's approval endpoint once the code is shown.
async fn rotate(
    e: &emulator::Emu,
    config: &std::path::Path,
    home: &std::path::Path,
    approve: Option<bool>,
) -> (i32, String, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hybridsync"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .arg("--config")
        .arg(config)
        .args(["config", "rotate-certificate"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    if let Some(approve) = approve {
        let line = tokio::task::spawn_blocking(move || {
            rx.iter()
                .find(|l| l.contains("enter the code"))
                .expect("the device code is shown")
        })
        .await
        .unwrap();
        let user_code = line.split_whitespace().last().unwrap().to_owned();
        let r = e
            .http
            .post(e.url("/_emulator/devicecode/approve"))
            .json(&json!({"user_code": user_code, "decline": !approve}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "approve={approve}: {}", r.status());
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = reader.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

async fn signs_in(e: &emulator::Emu, pem: &str) -> bool {
    TokenSource::new(
        emulator::client_for(&e.b),
        auth::token_url(&e.b.base_url, &e.b.tenant_id),
        e.b.application.client_id.clone(),
        "https://graph.microsoft.com/.default".into(),
        ClientCredential::Certificate(CertificateCredential::from_pem(pem).unwrap()),
    )
    .token()
    .await
    .is_ok()
}

async fn app_keys(e: &emulator::Emu) -> Vec<serde_json::Value> {
    let (status, apps) = e
        .graph(
            "GET",
            &format!(
                "/applications?$filter=appId eq '{}'",
                e.b.application.client_id
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{apps}");
    apps["value"][0]["keyCredentials"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_certificate_replaces_the_key_and_the_old_one_stops_working() {
    let e = emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let a = &e.b.application;
    let old_pem = format!("{}\n{}", a.certificate_pem, a.private_key_pem);
    let cert_file = dir.path().join("entra-app.pem");
    std::fs::write(&cert_file, &old_pem).unwrap();
    std::fs::set_permissions(&cert_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = rotation_config(&e, dir.path(), &format!("file:{}", cert_file.display()));
    assert_eq!(app_keys(&e).await.len(), 1);

    // Declined: nothing changes.
    let (code, _, err) = rotate(&e, &config, home.path(), Some(false)).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the sign-in was declined; nothing was changed"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&cert_file).unwrap(), old_pem);
    assert!(signs_in(&e, &old_pem).await);

    // Approved: a new certificate in the file, registered alone on the application.
    let (code, out, err) = rotate(&e, &config, home.path(), Some(true)).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let new_pem = std::fs::read_to_string(&cert_file).unwrap();
    assert_ne!(new_pem, old_pem);
    assert!(
        new_pem.contains("-----BEGIN CERTIFICATE-----")
            && new_pem.contains("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(
        std::fs::metadata(&cert_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!out.contains("PRIVATE KEY") && !err.contains("PRIVATE KEY"));
    assert!(out.starts_with("certificate rotated: "), "{out}");
    assert!(signs_in(&e, &new_pem).await, "the new certificate signs in");
    assert!(
        !signs_in(&e, &old_pem).await,
        "the old certificate no longer does"
    );
    let keys = app_keys(&e).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    // The thumbprint printed is the one registered.
    let new_thumb = out
        .split("-> ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()
        .unwrap()
        .to_owned();
    let registered = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        keys[0]["customKeyIdentifier"].as_str().unwrap(),
    )
    .unwrap();
    let hex: String = registered.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(hex, new_thumb);

    // A second rotation works from the rotated certificate.
    let (code, out, err) = rotate(&e, &config, home.path(), Some(true)).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!signs_in(&e, &new_pem).await);
    assert_eq!(app_keys(&e).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_certificate_refuses_what_it_cannot_write_or_prove() {
    let e = emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    // A systemd credential cannot be rewritten: refused before any sign-in.
    let config = rotation_config(&e, dir.path(), "systemd:entra-app");
    let (code, _, err) = rotate(&e, &config, home.path(), None).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("a systemd credential cannot be rewritten by hybridsync"),
        "{err}"
    );
    assert!(!err.contains("enter the code"), "{err}");

    // A stored certificate the application does not know: Graph would refuse the proof, so
    // hybridsync says which certificate and what to do, and changes nothing.
    let (other, _) = cloud::new_certificate("not registered").unwrap();
    let cert_file = dir.path().join("other.pem");
    std::fs::write(&cert_file, other.expose()).unwrap();
    std::fs::set_permissions(&cert_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = rotation_config(&e, dir.path(), &format!("file:{}", cert_file.display()));
    let (code, _, err) = rotate(&e, &config, home.path(), None).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not sign in as the application"), "{err}");
    assert!(!err.contains("enter the code"), "{err}");
    assert_eq!(app_keys(&e).await.len(), 1);
}
