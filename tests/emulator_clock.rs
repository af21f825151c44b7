//! The emulator's clock moved forward: 30-day retention of soft-deleted users and the expiry of
//! tokens, device codes and (after 90 days) refresh tokens. A binary of its own because the clock is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/emulator.rs"]
mod emulator;

use serde_json::{Value, json};

#[tokio::test]
async fn retention_token_and_device_code_expiry() {
    let e = emulator::start().await;
    let id = e.create_user("gone").await;
    let kept = e.create_user("kept").await;
    let tok = e.token().await;
    e.graph_as(&tok, "DELETE", &format!("/users/{id}"), None, &[])
        .await;
    e.graph_as(&tok, "DELETE", &format!("/users/{kept}"), None, &[])
        .await;
    let d: Value = e
        .http
        .post(format!("{}/oauth2/v2.0/devicecode", e.b.authority))
        .form(&[
            ("client_id", e.b.application.client_id.as_str()),
            ("scope", "User.Read.All"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let advance = |secs: i64| {
        let e = &e;
        async move {
            let r = e
                .http
                .post(e.url("/_emulator/clock"))
                .json(&json!({"advanceSeconds": secs}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    // A refresh token from an approved device code with offline_access.
    let client = e.b.application.client_id.clone();
    let d2: Value = e
        .http
        .post(format!("{}/oauth2/v2.0/devicecode", e.b.authority))
        .form(&[
            ("client_id", client.as_str()),
            ("scope", "User.Read.All openid offline_access"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    e.http
        .post(e.url("/_emulator/devicecode/approve"))
        .json(&json!({"user_code": d2["user_code"]}))
        .send()
        .await
        .unwrap();
    let (s, v) = e
        .token_form(&[
            ("client_id", client.as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", d2["device_code"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(s, 200, "{v}");
    let rt = v["refresh_token"].as_str().unwrap().to_string();
    let refresh = || {
        let e = &e;
        let (client, rt) = (client.clone(), rt.clone());
        async move {
            e.token_form(&[
                ("client_id", client.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ])
            .await
        }
    };

    advance(3600).await;
    let (s, v) = refresh().await;
    assert_eq!(s, 200, "an expired access token is renewed: {v}");
    let (s, v) = e.graph_as(&tok, "GET", "/users", None, &[]).await;
    assert_eq!(s, 401);
    assert_eq!(
        emulator::graph_error(&v).1,
        "Lifetime validation failed, the token is expired."
    );
    let (_, v) = e
        .token_form(&[
            ("client_id", e.b.application.client_id.as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", d["device_code"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(v["error"], "expired_token");

    let (s, _) = e
        .graph(
            "POST",
            &format!("/directory/deletedItems/{kept}/restore"),
            None,
        )
        .await;
    assert_eq!(s, 200, "restorable within 30 days");
    advance(30 * 86_400).await;
    let (s, _) = e
        .graph("GET", &format!("/directory/deletedItems/{id}"), None)
        .await;
    assert_eq!(s, 404, "purged after 30 days");
    let (s, _) = e.graph("GET", &format!("/users/{kept}"), None).await;
    assert_eq!(s, 200);

    advance(61 * 86_400).await;
    let (s, v) = refresh().await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(v["error_codes"], json!([700082]), "expired after 90 days");
}
