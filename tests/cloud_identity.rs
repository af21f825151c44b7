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
