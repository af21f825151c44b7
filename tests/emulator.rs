//! The tenant emulator over HTTPS, in-process: identity platform (discovery, client credentials
//! by secret and certificate, device code), Graph (CRUD, queries, paging, delta, batch, errors in
//! Graph's shape) and fault injection.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/emulator.rs"]
mod emulator;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair};
use emulator::{Emu, claims, graph_error, start, start_with, user_body};
use hybridsync::emulator::pki;
use hybridsync::emulator::util::{b64url, now_secs, pem_block};
use serde_json::{Value, json};

#[tokio::test]
async fn discovery_documents_and_the_ca_survive_a_restart() {
    let e = start().await;
    let t = &e.b.tenant_id;
    let oidc: Value = e
        .http
        .get(e.url(&format!("/{t}/v2.0/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        oidc["token_endpoint"],
        format!("{}/oauth2/v2.0/token", e.b.authority)
    );
    assert_eq!(
        oidc["device_authorization_endpoint"],
        format!("{}/oauth2/v2.0/devicecode", e.b.authority)
    );
    assert_eq!(oidc["issuer"], format!("{}/v2.0", e.b.authority));
    let jwks: Value = e
        .http
        .get(oidc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let inst: Value = e
        .http
        .get(format!(
            "{}?api-version=1.0&authorization_endpoint={}/oauth2/v2.0/authorize",
            e.b.instance_discovery_endpoint, e.b.authority
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        inst["tenant_discovery_endpoint"],
        format!("{}/v2.0/.well-known/openid-configuration", e.b.authority)
    );
    let ca_file = std::fs::read_to_string(e.dir.path().join("ca.pem")).unwrap();
    assert_eq!(ca_file, e.b.ca_pem);
    // Same state directory: same CA, same app credentials.
    let again = hybridsync::emulator::start(emulator::config(e.dir.path()))
        .await
        .unwrap();
    assert_eq!(again.bootstrap.ca_pem, e.b.ca_pem);
    assert_eq!(
        again.bootstrap.application.client_id,
        e.b.application.client_id
    );
    again.shutdown().await.unwrap();
    // Unknown tenant.
    let r = e
        .http
        .get(e.url("/nope/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn client_secret_tokens_and_their_errors() {
    let e = start().await;
    let tok = e.token().await;
    let c = claims(&tok);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["tid"], e.b.tenant_id.as_str());
    assert!(
        c["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "User.ReadWrite.All")
    );
    assert!(c.get("scp").is_none());

    let a = &e.b.application;
    let (s, v) = e
        .token_form(&[
            ("client_id", &a.client_id),
            ("client_secret", "wrong"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], json!([7000215]));
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    for k in ["timestamp", "trace_id", "correlation_id"] {
        assert!(v[k].is_string(), "{k} in {v}");
    }
    let (s, v) = e
        .token_form(&[
            ("client_id", "00000000-0000-0000-0000-000000000001"),
            ("client_secret", "x"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("unauthorized_client")));
    let (s, v) = e
        .token_form(&[
            ("client_id", &a.client_id),
            ("client_secret", &a.client_secret),
            ("grant_type", "client_credentials"),
            ("scope", "User.Read"),
        ])
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
    let (s, v) = e
        .token_form(&[("client_id", &a.client_id), ("grant_type", "password")])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

fn assertion(e: &Emu, alg: &str, aud: &str, lifetime: i64, tamper: bool) -> String {
    assertion_for(e, &e.b.application.client_id, alg, aud, lifetime, tamper)
}

fn assertion_for(
    e: &Emu,
    client_id: &str,
    alg: &str,
    aud: &str,
    lifetime: i64,
    tamper: bool,
) -> String {
    let a = &e.b.application;
    let der = pem_block(&a.certificate_pem, "CERTIFICATE").unwrap();
    let (sha1, sha256) = pki::thumbprints(&der);
    let header = if alg == "PS256" {
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": b64url(&sha256)})
    } else {
        json!({"alg": "RS256", "typ": "JWT", "x5t": b64url(&sha1)})
    };
    let now = now_secs();
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": "1", "nbf": now, "iat": now, "exp": now + lifetime});
    let msg = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let key =
        RsaKeyPair::from_pkcs8(&pem_block(&a.private_key_pem, "PRIVATE KEY").unwrap()).unwrap();
    let mut sig = vec![0; key.public_modulus_len()];
    let padding: &dyn signature::RsaEncoding = if alg == "PS256" {
        &signature::RSA_PSS_SHA256
    } else {
        &signature::RSA_PKCS1_SHA256
    };
    key.sign(padding, &SystemRandom::new(), msg.as_bytes(), &mut sig)
        .unwrap();
    if tamper {
        sig[10] ^= 1;
    }
    format!("{msg}.{}", b64url(&sig))
}

#[tokio::test]
async fn certificate_assertions_rs256_and_ps256() {
    let e = start().await;
    let aud = format!("{}/oauth2/v2.0/token", e.b.authority);
    let id = e.b.application.client_id.clone();
    let try_it = |jwt: String| {
        let id = id.clone();
        let e = &e;
        async move {
            e.token_form(&[
                ("client_id", id.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", jwt.as_str()),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .await
        }
    };
    for alg in ["PS256", "RS256"] {
        let (s, v) = try_it(assertion(&e, alg, &aud, 300, false)).await;
        assert_eq!(s, 200, "{alg}: {v}");
        assert!(v["access_token"].is_string());
    }
    let (s, v) = try_it(assertion(&e, "PS256", &aud, 300, true)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "tampered: {v}"
    );
    let (s, v) = try_it(assertion(
        &e,
        "PS256",
        "https://login.microsoftonline.com/x/oauth2/v2.0/token",
        300,
        false,
    ))
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "wrong aud: {v}"
    );
    let (s, _) = try_it(assertion(&e, "RS256", &aud, 3600, false)).await;
    assert_eq!(s, 401, "an assertion living an hour is refused");
}

#[tokio::test]
async fn device_code_flow_pending_declined_approved_and_scopes_enforced() {
    let e = start().await;
    let id = e.b.application.client_id.clone();
    let dc = |scope: &'static str| {
        let e = &e;
        let id = id.clone();
        async move {
            let r = e
                .http
                .post(format!("{}/oauth2/v2.0/devicecode", e.b.authority))
                .form(&[("client_id", id.as_str()), ("scope", scope)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let poll = |code: String| {
        let e = &e;
        let id = id.clone();
        async move {
            e.token_form(&[
                ("client_id", id.as_str()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", code.as_str()),
            ])
            .await
        }
    };
    let approve = |user_code: String, decline: bool| {
        let e = &e;
        async move {
            let r = e
                .http
                .post(e.url("/_emulator/devicecode/approve"))
                .json(&json!({"user_code": user_code, "decline": decline}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    };

    let d = dc("https://graph.microsoft.com/User.Read.All offline_access").await;
    assert_eq!(d["expires_in"], 900);
    assert!(d["verification_uri"].is_string() && d.get("verification_uri_complete").is_none());
    let code = d["device_code"].as_str().unwrap().to_string();
    let (s, v) = poll(code.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (_, v) = poll(code.clone()).await;
    assert_eq!(v["error"], "slow_down", "an immediate second poll");
    approve(d["user_code"].as_str().unwrap().to_string(), false).await;
    let (s, v) = poll(code.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["refresh_token"].is_string());
    let tok = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&tok)["scp"], "User.Read.All");
    // Delegated read works, a write is 403 in Graph's shape.
    let (s, _) = e.graph_as(&tok, "GET", "/users", None, &[]).await;
    assert_eq!(s, 200);
    let (s, v) = e
        .graph_as(
            &tok,
            "POST",
            "/users",
            Some(user_body(&e.upn("x"), "x")),
            &[],
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(graph_error(&v).0, "Authorization_RequestDenied");
    let (s, v) = poll(code).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("bad_verification_code")),
        "a code is single use"
    );

    let d = dc("User.Read").await;
    approve(d["user_code"].as_str().unwrap().to_string(), true).await;
    let (_, v) = poll(d["device_code"].as_str().unwrap().to_string()).await;
    assert_eq!(v["error"], "authorization_declined");
}

#[tokio::test]
async fn graph_rejects_missing_and_forged_tokens() {
    let e = start().await;
    let (s, v) = e.graph_as("", "GET", "/users", None, &[]).await;
    assert_eq!(s, 401);
    assert_eq!(
        graph_error(&v),
        (
            "InvalidAuthenticationToken".into(),
            "Access token is empty.".into()
        )
    );
    let mut tok = e.token().await;
    tok.push('x');
    let (s, v) = e
        .graph_as(&tok, "GET", "/users", None, &[("client-request-id", "abc")])
        .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["innerError"]["client-request-id"], "abc");
}

#[tokio::test]
async fn users_crud_and_graph_errors() {
    let e = start().await;
    let id = e.create_user("ann").await;
    let (s, v) = e.graph("GET", &format!("/users/{id}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["userPrincipalName"], e.upn("ann"));
    assert!(v.get("passwordProfile").is_none());
    // By UPN too.
    let (s, _) = e
        .graph("GET", &format!("/users/{}", e.upn("ANN")), None)
        .await;
    assert_eq!(s, 200);

    let (s, v) = e
        .graph("POST", "/users", Some(user_body(&e.upn("ANN"), "ann2")))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v),
        (
            "Request_BadRequest".into(),
            "Another object with the same value for property userPrincipalName already exists."
                .into()
        )
    );
    assert_eq!(
        v["error"]["details"],
        json!([{"target": "userPrincipalName", "code": "ObjectConflict"}])
    );

    let (s, _) = e
        .graph(
            "PATCH",
            &format!("/users/{id}"),
            Some(json!({"onPremisesImmutableId": "AAAA+/=="})),
        )
        .await;
    assert_eq!(s, 204);
    let other = e.create_user("bob").await;
    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/users/{other}"),
            Some(json!({"onPremisesImmutableId": "AAAA+/=="})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(graph_error(&v).1.contains("onPremisesImmutableId"));
    // The immutable ID is base64 and compares with case: another value.
    let (s, _) = e
        .graph(
            "PATCH",
            &format!("/users/{other}"),
            Some(json!({"onPremisesImmutableId": "aaaa+/=="})),
        )
        .await;
    assert_eq!(s, 204);

    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/users/{id}"),
            Some(json!({"proxyAddresses": ["SMTP:a@b"]})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v).1,
        "Property 'proxyAddresses' is read-only and cannot be set."
    );
    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/users/{id}"),
            Some(json!({"favouriteColour": "red"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(graph_error(&v).1.contains("favouriteColour"));
    let (s, v) = e
        .graph("POST", "/users", Some(user_body("x@notmine.example", "x")))
        .await;
    assert_eq!(s, 400, "{v}");

    let (s, v) = e
        .graph("GET", "/users/00000000-0000-0000-0000-000000000000", None)
        .await;
    assert_eq!(s, 404);
    assert_eq!(graph_error(&v).0, "Request_ResourceNotFound");

    let (s, _) = e.graph("DELETE", &format!("/users/{id}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = e.graph("GET", &format!("/users/{id}"), None).await;
    assert_eq!(s, 404);
    // The UPN is free again for a live user; restoring the old one then conflicts.
    let _new = e.create_user("ann").await;
    let (s, v) = e
        .graph(
            "POST",
            &format!("/directory/deletedItems/{id}/restore"),
            None,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = e
        .graph("GET", "/directory/deletedItems/microsoft.graph.user", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["id"], id.as_str());
    let (s, _) = e
        .graph("DELETE", &format!("/directory/deletedItems/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = e
        .graph("GET", &format!("/directory/deletedItems/{id}"), None)
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn queries_select_filter_top_count_and_paging() {
    let e = start().await;
    for i in 0..7 {
        e.create_user(&format!("page{i}")).await;
    }
    e.create_user("other").await;
    let (s, v) = e.graph("GET", "/users?$top=1000", None).await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v).1,
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
    let (s, _) = e.graph("GET", "/users?$top=0", None).await;
    assert_eq!(s, 400);

    let mut url =
        "/users?$filter=startswith(displayName,'page')&$select=id,displayName&$top=3".to_string();
    let mut pages = 0;
    let mut names = Vec::new();
    loop {
        let (s, v) = e.graph("GET", &url, None).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        for u in v["value"].as_array().unwrap() {
            assert_eq!(u.as_object().unwrap().len(), 2, "$select: {u}");
            names.push(u["displayName"].as_str().unwrap().to_string());
        }
        match v["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 7);

    let (s, v) = e
        .graph("GET", "/users?$filter=displayName ne 'other'", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(graph_error(&v).0, "Request_UnsupportedQuery");
    let tok = e.token().await;
    let ev = [("ConsistencyLevel", "eventual")];
    let (s, v) = e
        .graph_as(
            &tok,
            "GET",
            "/users?$filter=displayName ne 'other'&$count=true",
            None,
            &ev,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["@odata.count"], 7);
    let (s, v) = e
        .graph_as(
            &tok,
            "GET",
            "/users?$orderby=displayName desc&$top=2&$select=displayName",
            None,
            &ev,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["value"],
        json!([{"displayName": "page6"}, {"displayName": "page5"}])
    );
    let next = v["@odata.nextLink"].as_str().unwrap().to_string();
    let (_, v) = e.graph_as(&tok, "GET", &next, None, &ev).await;
    assert_eq!(
        v["value"][0]["displayName"], "page4",
        "the order holds across pages"
    );
    let (s, _) = e.graph("GET", "/users?$orderby=displayName", None).await;
    assert_eq!(s, 400, "$orderby needs ConsistencyLevel: eventual");
    let (s, v) = e.graph("GET", "/users?$count=true", None).await;
    assert_eq!(s, 400, "$count needs ConsistencyLevel: {v}");
    let (s, v) = e.graph_as(&tok, "GET", "/users/$count", None, &ev).await;
    assert_eq!((s, v), (200, json!(8)));
    let (s, v) = e
        .graph("GET", "/users?$filter=favouriteColour eq 'red'", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(graph_error(&v).0, "Request_UnsupportedQuery");
    let (s, _) = e.graph("GET", "/users?$filter=displayName eq", None).await;
    assert_eq!(s, 400);
    let (s, v) = e
        .graph(
            "GET",
            &format!(
                "/users?$filter=userPrincipalName in ('{}','{}') or mailNickname eq 'page5'",
                e.upn("page1"),
                e.upn("other")
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    // proxyAddresses/any on a user whose mail is set.
    let id = e.create_user("mailer").await;
    e.graph(
        "PATCH",
        &format!("/users/{id}"),
        Some(json!({"mail": "mailer@contoso.com"})),
    )
    .await;
    let (s, v) = e
        .graph(
            "GET",
            "/users?$filter=proxyAddresses/any(p:p eq 'smtp:mailer@contoso.com')&$select=id",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"], json!([{"id": id}]));
}

#[tokio::test]
async fn groups_members_binds_and_delta() {
    let e = start().await;
    let users: Vec<String> = futures_join(&e, 22).await;
    let g = e.create_group("sec", false).await;
    let binds: Vec<String> = users
        .iter()
        .map(|u| format!("{}/directoryObjects/{u}", e.b.graph_base_url))
        .collect();
    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/groups/{g}"),
            Some(json!({"members@odata.bind": binds[..21]})),
        )
        .await;
    assert_eq!(s, 400, "21 binds: {v}");
    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/groups/{g}"),
            Some(json!({"members@odata.bind": binds[..20]})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = e
        .graph(
            "POST",
            &format!("/groups/{g}/members/$ref"),
            Some(json!({"@odata.id": binds[0]})),
        )
        .await;
    assert_eq!(s, 400, "already a member: {v}");
    let (s, v) = e
        .graph("GET", &format!("/groups/{g}/members?$top=999"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 20);
    assert_eq!(v["value"][0]["@odata.type"], "#microsoft.graph.user");

    // Delta: initial round with members, then changes only.
    let (s, v) = e
        .graph("GET", "/groups/delta?$select=displayName,members", None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"][0]["members@delta"].as_array().unwrap().len(), 20);
    let link = v["@odata.deltaLink"].as_str().unwrap().to_string();
    let (s, _) = e
        .graph(
            "DELETE",
            &format!("/groups/{g}/members/{}/$ref", users[0]),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = e
        .graph(
            "POST",
            &format!("/groups/{g}/members/$ref"),
            Some(json!({"@odata.id": binds[21]})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, v) = e.graph("GET", &link, None).await;
    let md = v["value"][0]["members@delta"].as_array().unwrap();
    assert_eq!(md.len(), 2, "{v}");
    assert_eq!(md[0]["id"], users[0].as_str());
    assert_eq!(md[0]["@removed"]["reason"], "deleted");
    assert_eq!(md[1]["id"], users[21].as_str());
    let link = v["@odata.deltaLink"].as_str().unwrap().to_string();
    // Security groups are deleted for good.
    let (s, _) = e.graph("DELETE", &format!("/groups/{g}"), None).await;
    assert_eq!(s, 204);
    let (_, v) = e.graph("GET", &link, None).await;
    assert_eq!(v["value"][0]["@removed"]["reason"], "deleted");
    let (s, _) = e
        .graph("GET", &format!("/directory/deletedItems/{g}"), None)
        .await;
    assert_eq!(s, 404);

    // Microsoft 365 groups: users only, mail-enabled, soft-deleted.
    let m = e.create_group("team", true).await;
    let other = e.create_group("sec2", false).await;
    let (s, _) = e
        .graph(
            "POST",
            &format!("/groups/{m}/members/$ref"),
            Some(json!({"@odata.id": format!("{}/directoryObjects/{other}", e.b.graph_base_url)})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = e
        .graph("POST", "/groups", Some(json!({"displayName": "t", "mailNickname": "TEAM", "mailEnabled": true, "securityEnabled": false, "groupTypes": ["Unified"]})))
        .await;
    assert_eq!(s, 400);
    assert!(graph_error(&v).1.contains("proxyAddresses"));
    let (s, _) = e
        .graph("POST", "/groups", Some(json!({"displayName": "dl", "mailNickname": "dl", "mailEnabled": true, "securityEnabled": false})))
        .await;
    assert_eq!(
        s, 400,
        "distribution groups cannot be created through Graph"
    );
    e.graph("DELETE", &format!("/groups/{m}"), None).await;
    let (s, v) = e
        .graph("GET", "/directory/deletedItems/microsoft.graph.group", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["id"], m.as_str());

    // Users delta with $deltatoken=latest then one change.
    let (_, v) = e
        .graph("GET", "/users/delta?$deltatoken=latest", None)
        .await;
    assert_eq!(v["value"], json!([]));
    let link = v["@odata.deltaLink"].as_str().unwrap().to_string();
    e.graph(
        "PATCH",
        &format!("/users/{}", users[3]),
        Some(json!({"jobTitle": "Boss"})),
    )
    .await;
    let (_, v) = e.graph("GET", &link, None).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    assert_eq!(v["value"][0]["jobTitle"], "Boss");
}

async fn futures_join(e: &Emu, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(e.create_user(&format!("m{i}")).await);
    }
    out
}

#[tokio::test]
async fn batch_limits_depends_on_and_per_item_results() {
    let e = start().await;
    let reqs: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let (s, _) = e
        .graph("POST", "/$batch", Some(json!({"requests": reqs})))
        .await;
    assert_eq!(s, 400);
    let (s, _) = e.graph("POST", "/$batch", Some(json!({"requests": [{"id": "1", "method": "GET", "url": "/users"}, {"id": "1", "method": "GET", "url": "/users"}]}))).await;
    assert_eq!(s, 400);
    let body = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"}, "body": user_body(&e.upn("b1"), "b1")},
        {"id": "2", "method": "POST", "url": "/users", "dependsOn": ["1"], "headers": {"Content-Type": "application/json"}, "body": user_body(&e.upn("b1"), "b1")},
        {"id": "3", "method": "GET", "url": "/users?$select=id", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}},
    ]});
    let (s, v) = e.graph("POST", "/$batch", Some(body)).await;
    assert_eq!(s, 200, "{v}");
    let by_id = |id: &str| {
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], 201);
    assert_eq!(by_id("2")["status"], 400);
    assert_eq!(graph_error(&by_id("2")["body"]).0, "Request_BadRequest");
    assert_eq!(by_id("3")["status"], 424);
    assert_eq!(by_id("4")["body"], "1");

    // A dependency listed after its dependent runs first; unknown ids and cycles are refused.
    let body = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/users/$count", "dependsOn": ["b"], "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "b", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"}, "body": user_body(&e.upn("b2"), "b2")},
    ]});
    let (s, v) = e.graph("POST", "/$batch", Some(body)).await;
    assert_eq!(s, 200, "{v}");
    let responses = v["responses"].as_array().unwrap();
    assert_eq!(responses[0]["id"], "b", "the dependency ran first");
    assert_eq!(responses[0]["status"], 201);
    assert_eq!(responses[1]["id"], "a");
    assert_eq!(
        responses[1]["body"], "2",
        "the count sees the user created before it"
    );
    let unknown =
        json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]});
    assert_eq!(e.graph("POST", "/$batch", Some(unknown)).await.0, 400);
    let cycle = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
        {"id": "2", "method": "GET", "url": "/users", "dependsOn": ["1"]},
    ]});
    assert_eq!(e.graph("POST", "/$batch", Some(cycle)).await.0, 400);
}

#[tokio::test]
async fn faults_throttling_failures_drops_and_reset() {
    let e = start().await;
    let tok = e.token().await;
    let set = |v: Value| {
        let e = &e;
        async move {
            let r = e
                .http
                .post(e.url("/_emulator/faults"))
                .json(&v)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    // 3,000 writes per 150 s scaled by 0.001: 3 writes per 0.15 s.
    set(json!({"throttle": true, "throttle_scale": 0.001})).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..4 {
        let (s, h, v) = e
            .graph_full(
                &tok,
                "POST",
                "/users",
                Some(user_body(&e.upn(&format!("t{i}")), &format!("t{i}"))),
                &[],
            )
            .await;
        statuses.push(s);
        last = Some((h, v));
    }
    assert_eq!(statuses, [201, 201, 201, 429]);
    let (h, v) = last.unwrap();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(graph_error(&v).0, "TooManyRequests");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (s, _) = e
        .graph_as(
            &tok,
            "POST",
            "/users",
            Some(user_body(&e.upn("t9"), "t9")),
            &[],
        )
        .await;
    assert_eq!(s, 201, "the window recovers");

    set(json!({"throttle": false, "fail_rate": 1.0})).await;
    let (s, v) = e.graph_as(&tok, "GET", "/users", None, &[]).await;
    assert!(s == 503 || s == 504, "{s}");
    graph_error(&v);

    set(json!({"drop_rate": 1.0, "throttle": false})).await;
    let err = e
        .http
        .get(format!("{}/users", e.b.graph_base_url))
        .bearer_auth(&tok)
        .send()
        .await;
    assert!(err.is_err(), "the connection is dropped: {err:?}");

    set(json!({"latency_ms": 150})).await;
    let t0 = std::time::Instant::now();
    let (s, _) = e.graph_as(&tok, "GET", "/organization", None, &[]).await;
    assert_eq!(s, 200);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(150));

    let r = e.http.post(e.url("/_emulator/reset")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = e.graph_as(&tok, "GET", "/users", None, &[]).await;
    assert_eq!((s, v["value"].as_array().unwrap().len()), (200, 0));
    let state: Value = e
        .http
        .get(e.url("/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["tenantId"], e.b.tenant_id.as_str());
}

#[tokio::test]
async fn organization_domains_applications_and_extensions() {
    let e = start_with(|c| c.domains = vec!["contoso.com".into()]).await;
    let (s, v) = e.graph("GET", "/organization", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["id"], e.b.tenant_id.as_str());
    assert_eq!(
        v["value"][0]["verifiedDomains"].as_array().unwrap().len(),
        2
    );
    let (s, v) = e
        .graph(
            "PATCH",
            &format!("/organization/{}", e.b.tenant_id),
            Some(json!({"onPremisesSyncEnabled": true})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v).1,
        "Property 'onPremisesSyncEnabled' is read-only and cannot be set."
    );
    let (s, _) = e
        .graph("POST", "/users", Some(user_body("ann@contoso.com", "ann")))
        .await;
    assert_eq!(s, 201);
    let (s, v) = e
        .graph("POST", "/domains", Some(json!({"id": "fabrikam.com"})))
        .await;
    assert_eq!((s, v["isVerified"].as_bool()), (201, Some(false)));
    let (s, _) = e
        .graph("POST", "/users", Some(user_body("bob@fabrikam.com", "bob")))
        .await;
    assert_eq!(s, 400, "unverified domain");
    let (s, _) = e.graph("POST", "/domains/fabrikam.com/verify", None).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .graph("POST", "/users", Some(user_body("bob@fabrikam.com", "bob")))
        .await;
    assert_eq!(s, 201);

    let (s, app) = e
        .graph(
            "POST",
            "/applications",
            Some(json!({"displayName": "Tenant Schema Extension App"})),
        )
        .await;
    assert_eq!(s, 201);
    let app_id = app["appId"].as_str().unwrap().replace('-', "");
    let (s, ext) = e
        .graph(
            "POST",
            &format!(
                "/applications/{}/extensionProperties",
                app["id"].as_str().unwrap()
            ),
            Some(json!({"name": "employeeID", "dataType": "String", "targetObjects": ["User"]})),
        )
        .await;
    assert_eq!(s, 201, "{ext}");
    let name = format!("extension_{app_id}_employeeID");
    assert_eq!(ext["name"], name.as_str());
    let (s, _) = e
        .graph(
            "PATCH",
            &format!("/users/{}", "ann@contoso.com"),
            Some(json!({name.clone(): "E-1"})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, v) = e
        .graph(
            "GET",
            &format!("/users?$filter={name} eq 'E-1'&$select=id,{name}"),
            None,
        )
        .await;
    assert_eq!(v["value"][0][&name], "E-1");

    let (s, sp) = e
        .graph(
            "POST",
            "/servicePrincipals",
            Some(json!({"appId": app["appId"]})),
        )
        .await;
    assert_eq!(s, 201, "{sp}");
    let (s, pw) = e
        .graph(
            "POST",
            &format!("/applications/{}/addPassword", app["id"].as_str().unwrap()),
            Some(json!({"passwordCredential": {"displayName": "x"}})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = e
        .token_form(&[
            ("client_id", app["appId"].as_str().unwrap()),
            ("client_secret", pw["secretText"].as_str().unwrap()),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(s, 200, "{v}");
    // No permissions granted: Graph answers 403.
    let tok = v["access_token"].as_str().unwrap();
    let (s, _) = e.graph_as(tok, "GET", "/users", None, &[]).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn plain_http_and_state_file_persistence() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = emulator::config(dir.path());
    c.plain_http = true;
    c.state_file = Some(dir.path().join("tenant.json"));
    let running = hybridsync::emulator::start(c.clone()).await.unwrap();
    assert!(running.bootstrap.base_url.starts_with("http://"));
    let e = Emu {
        http: reqwest::Client::new(),
        b: running.bootstrap.clone(),
        running,
        dir: tempfile::tempdir().unwrap(),
    };
    let id = e.create_user("kept").await;
    e.running.shutdown().await.unwrap();
    let again = hybridsync::emulator::start(c).await.unwrap();
    let e = Emu {
        http: reqwest::Client::new(),
        b: again.bootstrap.clone(),
        running: again,
        dir,
    };
    let (s, v) = e.graph("GET", &format!("/users/{id}"), None).await;
    assert_eq!((s, v["displayName"].as_str()), (200, Some("kept")));
}

/// A delegated token through the device-code flow, approved at once.
async fn delegated(e: &Emu, scope: &str) -> String {
    let d: Value = e
        .http
        .post(format!("{}/oauth2/v2.0/devicecode", e.b.authority))
        .form(&[
            ("client_id", e.b.application.client_id.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    e.http
        .post(e.url("/_emulator/devicecode/approve"))
        .json(&json!({"user_code": d["user_code"]}))
        .send()
        .await
        .unwrap();
    let (s, v) = e
        .token_form(&[
            ("client_id", e.b.application.client_id.as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", d["device_code"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(s, 200, "{v}");
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn provisioning_an_app_key_credentials_and_app_role_assignments() {
    let e = start().await;
    let admin = delegated(
        &e,
        "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
    )
    .await;
    let (s, app) = e
        .graph_as(
            &admin,
            "POST",
            "/applications",
            Some(json!({"displayName": "hybridsync-test"})),
            &[],
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let app_id = app["appId"].as_str().unwrap().to_string();
    let der = pem_block(&e.b.application.certificate_pem, "CERTIFICATE").unwrap();
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(&der);
    let (s, v) = e
        .graph_as(&admin, "PATCH", &format!("/applications/{}", app["id"].as_str().unwrap()), Some(json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": key}]})), &[])
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = e
        .graph_as(&admin, "PATCH", &format!("/applications/{}", app["id"].as_str().unwrap()), Some(json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}]})), &[])
        .await;
    assert_eq!(s, 400, "not a certificate: {v}");
    let (s, sp) = e
        .graph_as(
            &admin,
            "POST",
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
            &[],
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = e
        .graph_as(
            &admin,
            "GET",
            "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'",
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let graph_sp = v["value"][0].clone();
    let role_id = graph_sp["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "User.Read.All")
        .unwrap()["id"]
        .clone();
    let assign =
        json!({"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_id});
    let path = format!(
        "/servicePrincipals/{}/appRoleAssignedTo",
        graph_sp["id"].as_str().unwrap()
    );
    let (s, a) = e
        .graph_as(&admin, "POST", &path, Some(assign.clone()), &[])
        .await;
    assert_eq!(s, 201, "{a}");
    let (s, _) = e.graph_as(&admin, "POST", &path, Some(assign), &[]).await;
    assert_eq!(s, 400, "assigned twice");

    let aud = format!("{}/oauth2/v2.0/token", e.b.authority);
    let token_for_app = || {
        let e = &e;
        let app_id = app_id.clone();
        let aud = aud.clone();
        async move {
            let jwt = assertion_for(e, &app_id, "PS256", &aud, 300, false);
            let (s, v) = e
                .token_form(&[
                    ("client_id", app_id.as_str()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", jwt.as_str()),
                    ("grant_type", "client_credentials"),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .await;
            assert_eq!(s, 200, "{v}");
            v["access_token"].as_str().unwrap().to_string()
        }
    };
    let tok = token_for_app().await;
    assert_eq!(claims(&tok)["roles"], json!(["User.Read.All"]));
    assert_eq!(e.graph_as(&tok, "GET", "/users", None, &[]).await.0, 200);
    assert_eq!(
        e.graph_as(
            &tok,
            "POST",
            "/users",
            Some(user_body(&e.upn("z"), "z")),
            &[]
        )
        .await
        .0,
        403
    );
    let (s, v) = e
        .graph_as(
            &admin,
            "GET",
            &format!(
                "/servicePrincipals/{}/appRoleAssignments",
                sp["id"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert_eq!((s, v["value"].as_array().unwrap().len()), (200, 1));
    let (s, _) = e
        .graph_as(
            &admin,
            "DELETE",
            &format!(
                "/servicePrincipals/{}/appRoleAssignments/{}",
                sp["id"].as_str().unwrap(),
                a["id"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let tok = token_for_app().await;
    assert_eq!(e.graph_as(&tok, "GET", "/users", None, &[]).await.0, 403);
    // The bootstrap app's grants show as assignments on its service principal.
    let (_, v) = e
        .graph_as(
            &admin,
            "GET",
            "/servicePrincipals?$filter=displayName eq 'hybridsync'",
            None,
            &[],
        )
        .await;
    let (_, v) = e
        .graph_as(
            &admin,
            "GET",
            &format!(
                "/servicePrincipals/{}/appRoleAssignments",
                v["value"][0]["id"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert!(v["value"].as_array().unwrap().len() >= 5, "{v}");
}

#[tokio::test]
async fn managers_by_ref_and_in_delta() {
    let e = start().await;
    let boss = e.create_user("boss").await;
    let ann = e.create_user("ann").await;
    let (s, v) = e.graph("GET", &format!("/users/{ann}/manager"), None).await;
    assert_eq!(s, 404, "{v}");
    let (_, v) = e
        .graph("GET", "/users/delta?$select=displayName,manager", None)
        .await;
    let link = v["@odata.deltaLink"].as_str().unwrap().to_string();
    let body = json!({"@odata.id": format!("{}/users/{boss}", e.b.graph_base_url)});
    let (s, _) = e
        .graph("PUT", &format!("/users/{ann}/manager/$ref"), Some(body))
        .await;
    assert_eq!(s, 204);
    let (s, v) = e.graph("GET", &format!("/users/{ann}/manager"), None).await;
    assert_eq!((s, v["id"].as_str()), (200, Some(boss.as_str())));
    assert_eq!(v["@odata.type"], "#microsoft.graph.user");
    let (_, v) = e.graph("GET", &link, None).await;
    assert_eq!(v["value"][0]["id"], ann.as_str());
    assert_eq!(v["value"][0]["manager@delta"][0]["id"], boss.as_str());
    let (s, _) = e
        .graph("DELETE", &format!("/users/{ann}/manager/$ref"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = e.graph("GET", &format!("/users/{ann}/manager"), None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_seed_file_registers_applications_and_domains() {
    let seed_dir = tempfile::tempdir().unwrap();
    let seed = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({
            "applications": [{"displayName": "reader", "clientId": "11111111-2222-3333-4444-555555555555",
                              "clientSecret": "s3cret", "roles": ["User.Read.All"]}],
            "domains": ["fabrikam.com"],
            "users": [{"displayName": "Cloud Only", "mailNickname": "cloud.only",
                       "userPrincipalName": "cloud.only@fabrikam.com", "mail": "cloud.only@fabrikam.com",
                       "proxyAddresses": ["SMTP:cloud.only@fabrikam.com", "smtp:c.only@fabrikam.com"]}],
        })
        .to_string(),
    )
    .unwrap();
    let e = start_with(|c| c.seed = Some(seed.clone())).await;
    // The seeded cloud user is found by a secondary SMTP address, as soft match needs.
    let (s, v) = e
        .graph(
            "GET",
            "/users?$filter=proxyAddresses/any(p:p eq 'smtp:c.only@fabrikam.com')",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["value"][0]["userPrincipalName"], "cloud.only@fabrikam.com",
        "{v}"
    );
    let (s, v) = e
        .token_form(&[
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("client_secret", "s3cret"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(s, 200, "{v}");
    let tok = v["access_token"].as_str().unwrap();
    assert_eq!(claims(tok)["roles"], json!(["User.Read.All"]));
    let (s, v) = e
        .graph_as(tok, "GET", "/domains/fabrikam.com", None, &[])
        .await;
    assert_eq!((s, v["isVerified"].as_bool()), (200, Some(true)));
    std::fs::write(&seed, r#"{"applications": [{"clientId": "x"}]}"#).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = emulator::config(dir.path());
    c.seed = Some(seed.clone());
    let err = hybridsync::emulator::start(c).await.err().unwrap();
    assert!(err.to_string().contains("seed file"), "{err}");
    // A seeded user Graph would refuse (no mailNickname) is a clear start-up error.
    std::fs::write(
        &seed,
        r#"{"users": [{"displayName": "x", "userPrincipalName": "x@fabrikam.com"}]}"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = emulator::config(dir.path());
    c.seed = Some(seed);
    let err = hybridsync::emulator::start(c).await.err().unwrap();
    assert!(
        err.to_string().contains("a seeded user is refused"),
        "{err}"
    );
}

/// A JWT signed with a PKCS#8 RSA key (RS256), `x5t` naming the certificate.
fn signed_jwt(key_pkcs8: &[u8], cert_der: &[u8], claims: &Value) -> String {
    let (sha1, _) = pki::thumbprints(cert_der);
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": b64url(&sha1)});
    let msg = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let key = RsaKeyPair::from_pkcs8(key_pkcs8).unwrap();
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        msg.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{msg}.{}", b64url(&sig))
}

/// A new self-signed RSA certificate: (certificate DER, PKCS#8 key DER).
fn new_certificate(cn: &str) -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let cert = params.self_signed(&key).unwrap();
    (cert.der().to_vec(), key.serialize_der())
}

fn proof_claims(iss: &str, aud: &str, lifetime: i64) -> Value {
    let now = now_secs();
    json!({"aud": aud, "iss": iss, "nbf": now, "exp": now + lifetime})
}

#[tokio::test]
async fn add_key_and_remove_key_need_a_proof_of_possession() {
    let e = start().await;
    let a = &e.b.application;
    let (_, v) = e
        .graph(
            "GET",
            &format!("/applications?$filter=appId eq '{}'", a.client_id),
            None,
        )
        .await;
    let object_id = v["value"][0]["id"].as_str().unwrap().to_string();
    let old_key_id = v["value"][0]["keyCredentials"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_string();
    let cert_der = pem_block(&a.certificate_pem, "CERTIFICATE").unwrap();
    let key_der = pem_block(&a.private_key_pem, "PRIVATE KEY").unwrap();
    let aud = "00000002-0000-0000-c000-000000000000";
    let (new_cert, new_key) = new_certificate("rolled");
    let add_body = |proof: Option<String>| {
        let mut b = json!({
            "keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify",
                              "key": hybridsync::emulator::util::b64std(&new_cert)},
            "passwordCredential": null,
        });
        if let Some(p) = proof {
            b["proof"] = json!(p);
        }
        b
    };
    let add = format!("/applications/{object_id}/addKey");

    // Every bad proof is 401 Authentication_MissingOrMalformed.
    let bad = [
        None,
        Some("not-a-jwt".to_string()),
        Some(signed_jwt(
            &key_der,
            &cert_der,
            &proof_claims(&object_id, "00000003-0000-0000-c000-000000000000", 600),
        )),
        Some(signed_jwt(
            &key_der,
            &cert_der,
            &proof_claims(&a.client_id, aud, 600),
        )),
        Some(signed_jwt(
            &key_der,
            &cert_der,
            &proof_claims(&object_id, aud, 1200),
        )),
        // Signed by a key the application does not have yet.
        Some(signed_jwt(
            &new_key,
            &new_cert,
            &proof_claims(&object_id, aud, 600),
        )),
    ];
    for proof in bad {
        let (s, v) = e.graph("POST", &add, Some(add_body(proof.clone()))).await;
        assert_eq!(s, 401, "{proof:?}: {v}");
        assert_eq!(
            graph_error(&v),
            (
                "Authentication_MissingOrMalformed".to_string(),
                "Access Token missing or malformed.".to_string()
            )
        );
    }
    let proof = signed_jwt(&key_der, &cert_der, &proof_claims(&object_id, aud, 600));
    let (s, v) = e
        .graph(
            "POST",
            &add,
            Some(json!({"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Sign", "key": "eA=="}, "proof": proof})),
        )
        .await;
    assert_eq!((s, graph_error(&v).0.as_str()), (400, "Request_BadRequest"));
    let (s, v) = e.graph("POST", &add, Some(add_body(Some(proof)))).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.keyCredential")
    );
    assert_eq!(
        (v["type"].as_str(), v["usage"].as_str(), &v["key"]),
        (Some("AsymmetricX509Cert"), Some("Verify"), &Value::Null)
    );
    assert_eq!(
        v["customKeyIdentifier"],
        hybridsync::emulator::util::b64std(&pki::thumbprints(&new_cert).0)
    );
    let new_key_id = v["keyId"].as_str().unwrap().to_string();
    let (_, app) = e
        .graph("GET", &format!("/applications/{object_id}"), None)
        .await;
    assert_eq!(app["keyCredentials"].as_array().unwrap().len(), 2);

    // The new certificate signs client assertions at once.
    let assertion_with = |key: &[u8], cert: &[u8]| {
        let now = now_secs();
        signed_jwt(
            key,
            cert,
            &json!({"aud": format!("{}/oauth2/v2.0/token", e.b.authority), "iss": a.client_id,
                    "sub": a.client_id, "jti": "j", "nbf": now, "exp": now + 300}),
        )
    };
    let by_assertion = |assertion: String| {
        let e = &e;
        async move {
            e.token_form(&[
                ("client_id", a.client_id.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .await
        }
    };
    let (s, v) = by_assertion(assertion_with(&new_key, &new_cert)).await;
    assert_eq!(s, 200, "{v}");

    // removeKey: the proof is made with the new key, the old one goes, and with it its
    // certificate's client assertions.
    let remove = format!("/applications/{object_id}/removeKey");
    let proof = signed_jwt(&new_key, &new_cert, &proof_claims(&object_id, aud, 600));
    let (s, v) = e
        .graph(
            "POST",
            &remove,
            Some(json!({"keyId": new_guid_like(), "proof": proof})),
        )
        .await;
    assert_eq!(
        (s, graph_error(&v).0.as_str()),
        (404, "Request_ResourceNotFound")
    );
    let (s, v) = e
        .graph(
            "POST",
            &remove,
            Some(json!({"keyId": old_key_id, "proof": "x.y.z"})),
        )
        .await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = e
        .graph(
            "POST",
            &remove,
            Some(json!({"keyId": old_key_id, "proof": proof})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (_, app) = e
        .graph("GET", &format!("/applications/{object_id}"), None)
        .await;
    let keys = app["keyCredentials"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["keyId"], new_key_id.as_str());
    let (s, v) = by_assertion(assertion_with(&key_der, &cert_der)).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
}

fn new_guid_like() -> String {
    "0b7d2c0e-1111-4a4a-9b9b-000000000000".to_string()
}

#[tokio::test]
async fn device_code_with_openid_gives_an_id_token_and_a_refresh_token() {
    let e = start().await;
    let client = e.b.application.client_id.clone();
    let uid = e.create_user("signer").await;
    let upn = e.upn("signer");
    let device = |scope: &'static str| {
        let e = &e;
        let client = client.clone();
        async move {
            let d: Value = e
                .http
                .post(format!("{}/oauth2/v2.0/devicecode", e.b.authority))
                .form(&[("client_id", client.as_str()), ("scope", scope)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let r = e
                .http
                .post(e.url("/_emulator/devicecode/approve"))
                .json(&json!({"user_code": d["user_code"], "user": e.upn("signer")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            e.token_form(&[
                ("client_id", client.as_str()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", d["device_code"].as_str().unwrap()),
            ])
            .await
        }
    };
    let (s, v) =
        device("https://graph.microsoft.com/User.Read.All openid profile offline_access").await;
    assert_eq!(s, 200, "{v}");
    let id_token = v["id_token"].as_str().unwrap();
    let c = claims(id_token);
    assert_eq!(c["aud"], client.as_str());
    assert_eq!(c["iss"], format!("{}/v2.0", e.b.authority));
    assert_eq!(c["tid"], e.b.tenant_id.as_str());
    assert_eq!(
        c["oid"],
        uid.as_str(),
        "the approver is the directory's user"
    );
    assert_eq!(c["preferred_username"], upn.as_str());
    assert_eq!(c["name"], "signer");
    assert!(c.get("nonce").is_none());
    // Signed by the key the JWKS publishes.
    let jwks: Value = e
        .http
        .get(format!("{}/discovery/v2.0/keys", e.b.authority))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header: Value = {
        use base64::Engine as _;
        let h = id_token.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    let info = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v["client_info"].as_str().unwrap())
            .unwrap();
        serde_json::from_slice::<Value>(&raw).unwrap()
    };
    assert_eq!(
        (info["uid"].as_str(), info["utid"].as_str()),
        (Some(uid.as_str()), Some(e.b.tenant_id.as_str()))
    );
    let scope = v["scope"].as_str().unwrap();
    assert!(
        scope.contains("User.Read.All") && scope.contains("openid"),
        "{scope}"
    );
    let rt = v["refresh_token"].as_str().unwrap().to_string();

    // The refresh token buys a new access token (and id token), also for fewer scopes.
    let refresh = |rt: String, client: String, scope: Option<&'static str>| {
        let e = &e;
        async move {
            let mut form = vec![
                ("client_id", client),
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", rt),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_string()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            e.token_form(&form).await
        }
    };
    let (s, v) = refresh(rt.clone(), client.clone(), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["scp"],
        "User.Read.All"
    );
    assert!(v["id_token"].is_string() && v["refresh_token"].is_string());
    let (gs, _) = e
        .graph_as(
            v["access_token"].as_str().unwrap(),
            "GET",
            "/users",
            None,
            &[],
        )
        .await;
    assert_eq!(gs, 200);
    let (s, v) = refresh(rt.clone(), client.clone(), Some("openid User.Read.All")).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("refresh_token").is_none(), "offline_access not asked");
    let (s, v) = refresh(rt.clone(), client.clone(), Some("User.ReadWrite.All")).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (s, v) = refresh(rt.clone(), "someone-else".into(), None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (s, v) = refresh("garbage".into(), client.clone(), None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS")
    );

    // Without openid/offline_access: neither an id token nor a refresh token.
    let (s, v) = device("User.Read.All").await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("id_token").is_none() && v.get("refresh_token").is_none());
}

#[tokio::test]
async fn search_users_and_groups_tokenized_with_filter_count_and_top() {
    let e = start().await;
    let tok = e.token().await;
    for (nick, name) in [
        ("s1", "Contoso OneVideo Room"),
        ("s2", "hello-world"),
        ("s3", "Bob Smith"),
        ("s4", "Video Wall 2"),
    ] {
        let mut b = user_body(&e.upn(nick), nick);
        b["displayName"] = json!(name);
        let (s, v) = e.graph_as(&tok, "POST", "/users", Some(b), &[]).await;
        assert_eq!(s, 201, "{v}");
    }
    let eventual = [("ConsistencyLevel", "eventual")];
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["displayName"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    // Without ConsistencyLevel: Graph's documented refusal.
    let (s, v) = e
        .graph_as(
            &tok,
            "GET",
            "/users?$search=\"displayName:video\"",
            None,
            &[],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v),
        (
            "Request_UnsupportedQuery".to_string(),
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'".to_string()
        )
    );
    let search = |q: &'static str| {
        let e = &e;
        let tok = tok.clone();
        async move {
            let (s, v) = e.graph_as(&tok, "GET", q, None, &eventual).await;
            assert_eq!(s, 200, "{q}: {v}");
            v
        }
    };
    // Tokens split at case changes, spaces, symbols and digits; prefixes match in any order.
    let v = search("/users?$search=\"displayName:video\"").await;
    assert_eq!(names(&v), ["Contoso OneVideo Room", "Video Wall 2"]);
    let v = search("/users?$search=\"displayName:vid\"").await;
    assert_eq!(names(&v).len(), 2);
    let v = search("/users?$search=\"displayName:room one\"").await;
    assert_eq!(names(&v), ["Contoso OneVideo Room"]);
    let v = search("/users?$search=\"displayName:helloworld\"").await;
    assert_eq!(names(&v), ["hello-world"]);
    let v = search("/users?$search=\"displayName:world\"").await;
    assert_eq!(names(&v), ["hello-world"]);
    let v = search("/users?$search=\"displayName:ideo\"").await;
    assert_eq!(names(&v), Vec::<String>::new(), "a prefix, not a substring");
    let v = search("/users?$search=\"displayName:bob\" OR \"displayName:wall\"").await;
    assert_eq!(names(&v), ["Bob Smith", "Video Wall 2"]);
    let v = search("/users?$search=\"displayName:video\" AND \"displayName:2\"").await;
    assert_eq!(names(&v), ["Video Wall 2"]);
    // Other properties: startswith.
    let v = search("/users?$search=\"userPrincipalName:s3@\"").await;
    assert_eq!(names(&v), ["Bob Smith"]);
    // With $filter (AND), $count and $top.
    let v = search(
        "/users?$search=\"displayName:video\"&$filter=startswith(userPrincipalName,'s4')&$count=true",
    )
    .await;
    assert_eq!(
        (names(&v), v["@odata.count"].as_u64()),
        (vec!["Video Wall 2".to_string()], Some(1))
    );
    let v = search("/users?$search=\"displayName:video\"&$top=1&$count=true").await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    assert_eq!(v["@odata.count"], 2);
    let next = v["@odata.nextLink"].as_str().unwrap().to_string();
    let (s, v2) = e.graph_as(&tok, "GET", &next, None, &eventual).await;
    assert_eq!(s, 200);
    assert_eq!(v2["value"].as_array().unwrap().len(), 1);
    assert!(v2.get("@odata.nextLink").is_none());
    let (s, v) = e
        .graph_as(
            &tok,
            "GET",
            "/users/$count?$search=\"displayName:video\"",
            None,
            &eventual,
        )
        .await;
    assert_eq!((s, v), (200, json!(2)), "text/plain 2");
    let (s, v) = e
        .graph_as(&tok, "GET", "/users?$search=displayName", None, &eventual)
        .await;
    assert_eq!(s, 400, "{v}");

    // Groups: displayName and description are tokenized.
    let (s, _) = e
        .graph_as(
            &tok,
            "POST",
            "/groups",
            Some(
                json!({"displayName": "Finance Team", "description": "Quarterly closeOut crew",
                        "mailNickname": "fin", "mailEnabled": false, "securityEnabled": true}),
            ),
            &[],
        )
        .await;
    assert_eq!(s, 201);
    e.create_group("other", false).await;
    let v = search("/groups?$search=\"description:close\"").await;
    assert_eq!(names(&v), ["Finance Team"]);
    let v = search("/groups?$search=\"displayName:team\"&$filter=securityEnabled eq true").await;
    assert_eq!(names(&v), ["Finance Team"]);
}

#[tokio::test]
async fn mail_nickname_is_unique_only_as_a_mail_address() {
    let e = start().await;
    // Users: unique by UPN, not by mailNickname.
    for upn in ["dup1", "dup2"] {
        let (s, v) = e
            .graph("POST", "/users", Some(user_body(&e.upn(upn), "same.nick")))
            .await;
        assert_eq!(s, 201, "{v}");
    }
    // Security groups: mailNickname need not be unique.
    for _ in 0..2 {
        let (s, v) = e
            .graph(
                "POST",
                "/groups",
                Some(json!({"displayName": "sec", "mailNickname": "same.nick",
                "mailEnabled": false, "securityEnabled": true})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    // A Microsoft 365 group's address is unique among proxy addresses.
    let m365 = json!({"displayName": "team", "mailNickname": "team", "mailEnabled": true,
        "securityEnabled": false, "groupTypes": ["Unified"]});
    let (s, _) = e.graph("POST", "/groups", Some(m365.clone())).await;
    assert_eq!(s, 201);
    let (s, v) = e.graph("POST", "/groups", Some(m365)).await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v).1,
        "Another object with the same value for property proxyAddresses already exists."
    );
    assert_eq!(
        v["error"]["details"],
        json!([{"target": "proxyAddresses", "code": "ObjectConflict"}])
    );
    // ... a user's address included.
    let mut b = user_body(&e.upn("mailuser"), "mailuser");
    b["mail"] = json!(format!("sales@{}", e.b.initial_domain));
    let (s, _) = e.graph("POST", "/users", Some(b)).await;
    assert_eq!(s, 201);
    let (s, v) = e
        .graph(
            "POST",
            "/groups",
            Some(json!({"displayName": "Sales", "mailNickname": "SALES",
            "mailEnabled": true, "securityEnabled": false, "groupTypes": ["Unified"]})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    // A security group may reuse a Microsoft 365 group's nickname.
    let (s, _) = e
        .graph(
            "POST",
            "/groups",
            Some(json!({"displayName": "t2", "mailNickname": "team",
            "mailEnabled": false, "securityEnabled": true})),
        )
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn directory_extensions_registered_typed_written_and_read() {
    let e = start().await;
    let tok = e.token().await;
    let (s, app) = e
        .graph_as(
            &tok,
            "POST",
            "/applications",
            Some(json!({"displayName": "Tenant Schema Extension App"})),
            &[],
        )
        .await;
    assert_eq!(s, 201);
    let app_obj = app["id"].as_str().unwrap().to_string();
    let prefix = format!(
        "extension_{}",
        app["appId"].as_str().unwrap().replace('-', "")
    );
    let register = |body: Value| {
        let e = &e;
        let tok = tok.clone();
        let app_obj = app_obj.clone();
        async move {
            e.graph_as(
                &tok,
                "POST",
                &format!("/applications/{app_obj}/extensionProperties"),
                Some(body),
                &[],
            )
            .await
        }
    };
    let (s, v) =
        register(json!({"name": "employeeID", "dataType": "String", "targetObjects": ["User"]}))
            .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["name"], format!("{prefix}_employeeID"));
    assert_eq!(v["isMultiValued"], false);
    let (s, _) = register(json!({"name": "badges", "dataType": "String", "isMultiValued": true, "targetObjects": ["User", "Group"]})).await;
    assert_eq!(s, 201);
    let (s, _) =
        register(json!({"name": "level", "dataType": "Integer", "targetObjects": ["Group"]})).await;
    assert_eq!(s, 201);
    let (s, _) =
        register(json!({"name": "active", "dataType": "Boolean", "targetObjects": ["User"]})).await;
    assert_eq!(s, 201);
    let (s, ext_hired) =
        register(json!({"name": "hired", "dataType": "DateTime", "targetObjects": ["User"]})).await;
    assert_eq!(s, 201);
    for bad in [
        json!({"name": "x", "dataType": "Float", "targetObjects": ["User"]}),
        json!({"name": "x", "dataType": "String", "targetObjects": []}),
        json!({"name": "x", "dataType": "String", "targetObjects": ["Printer"]}),
        json!({"name": "", "dataType": "String", "targetObjects": ["User"]}),
    ] {
        let (s, v) = register(bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    let (s, _) =
        register(json!({"name": "employeeID", "dataType": "String", "targetObjects": ["User"]}))
            .await;
    assert_eq!(s, 400, "registered twice");
    let (_, list) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/applications/{app_obj}/extensionProperties"),
            None,
            &[],
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 5);

    let emp = format!("{prefix}_employeeID");
    let badges = format!("{prefix}_badges");
    let level = format!("{prefix}_level");
    let active = format!("{prefix}_active");
    let hired = format!("{prefix}_hired");

    // POST /users with extensions; read back with $select only.
    let mut body = user_body(&e.upn("ext1"), "ext1");
    body[&emp] = json!("E-1");
    body[&badges] = json!(["a", "b"]);
    let (s, v) = e.graph_as(&tok, "POST", "/users", Some(body), &[]).await;
    assert_eq!(s, 201, "{v}");
    let uid = v["id"].as_str().unwrap().to_string();
    let (_, v) = e
        .graph_as(&tok, "GET", &format!("/users/{uid}"), None, &[])
        .await;
    assert!(v.get(&emp).is_none(), "not a default property");
    let (_, v) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/users/{uid}?$select=id,{emp},{badges},{active}"),
            None,
            &[],
        )
        .await;
    assert_eq!((&v[&emp], &v[&badges]), (&json!("E-1"), &json!(["a", "b"])));
    assert!(v.get(&active).is_none(), "an unset extension is left out");

    // PATCH: typed values, null clears.
    let patch = |path: String, body: Value| {
        let e = &e;
        let tok = tok.clone();
        async move { e.graph_as(&tok, "PATCH", &path, Some(body), &[]).await }
    };
    let (s, v) = patch(
        format!("/users/{uid}"),
        json!({active.clone(): true, hired.clone(): "2024-05-01T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    for (k, bad) in [
        (&active, json!("yes")),
        (&emp, json!(5)),
        (&emp, json!("x".repeat(257))),
        (&badges, json!("not-a-list")),
        (&hired, json!("May 1st")),
    ] {
        let (s, v) = patch(format!("/users/{uid}"), json!({k.clone(): bad})).await;
        assert_eq!(s, 400, "{k}: {v}");
        assert_eq!(
            graph_error(&v).1,
            format!("Invalid value specified for property '{k}' of resource 'User'.")
        );
    }
    let (s, _) = patch(format!("/users/{uid}"), json!({emp.clone(): null})).await;
    assert_eq!(s, 204);
    let (_, v) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/users/{uid}?$select=id,{emp},{active}"),
            None,
            &[],
        )
        .await;
    assert!(v.get(&emp).is_none(), "{v}");
    assert_eq!(v[&active], true);

    // Unregistered, or registered for another kind of object: Graph's error.
    let unknown = format!("{prefix}_nope");
    let (s, v) = patch(format!("/users/{uid}"), json!({unknown.clone(): "x"})).await;
    assert_eq!(s, 400);
    assert_eq!(
        graph_error(&v),
        (
            "Request_BadRequest".to_string(),
            format!(
                "Property '{unknown}' does not exist as a declared property or extension property."
            )
        )
    );
    let gid = e.create_group("extgroup", false).await;
    let (s, v) = patch(format!("/groups/{gid}"), json!({emp.clone(): "x"})).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/users?$select=id,{unknown}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s, graph_error(&v).0.as_str()),
        (400, "Request_UnsupportedQuery")
    );

    // Groups, through $batch.
    let (s, v) = e
        .graph_as(
            &tok,
            "POST",
            "/$batch",
            Some(json!({"requests": [
                {"id": "1", "method": "PATCH", "url": format!("/groups/{gid}"),
                 "headers": {"Content-Type": "application/json"},
                 "body": {level.clone(): 7, badges.clone(): ["g"]}},
                {"id": "2", "method": "PATCH", "url": format!("/groups/{gid}"),
                 "headers": {"Content-Type": "application/json"},
                 "body": {level.clone(): "seven"}},
                {"id": "3", "dependsOn": ["1"], "method": "GET",
                 "url": format!("/groups/{gid}?$select=id,{level},{badges}")},
            ]})),
            &[],
        )
        .await;
    assert_eq!(s, 200);
    let by_id = |id: &str| {
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], 204);
    assert_eq!(by_id("2")["status"], 400);
    assert_eq!(by_id("3")["body"][&level], 7);
    assert_eq!(by_id("3")["body"][&badges], json!(["g"]));

    // $filter and delta carry them.
    let (_, v) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/users?$filter={active} eq true&$select=id,{active}"),
            None,
            &[],
        )
        .await;
    assert_eq!(v["value"][0]["id"], uid.as_str());
    let (s, d) = e
        .graph_as(
            &tok,
            "GET",
            &format!("/users/delta?$select=displayName,{badges}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let mine = d["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == uid.as_str())
        .unwrap();
    assert_eq!(mine[&badges], json!(["a", "b"]));
    let link = d["@odata.deltaLink"].as_str().unwrap().to_string();
    let (s, _) = patch(format!("/users/{uid}"), json!({badges.clone(): ["c"]})).await;
    assert_eq!(s, 204);
    let (_, d) = e.graph_as(&tok, "GET", &link, None, &[]).await;
    assert_eq!(d["value"][0]["id"], uid.as_str());
    assert_eq!(d["value"][0][&badges], json!(["c"]));

    // Deleting the definition stops writes.
    let (s, _) = e
        .graph_as(
            &tok,
            "DELETE",
            &format!(
                "/applications/{app_obj}/extensionProperties/{}",
                ext_hired["id"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = patch(
        format!("/users/{uid}"),
        json!({hired.clone(): "2024-05-01T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_tenant_wide_write_limit_throttles_every_application() {
    // Graph's write limits: 3,000 per app+tenant per 150 s, 18,000 per tenant per 5 min. An app
    // alone can make at most 6,000 writes in 5 min, so the tenant-wide limit needs more than
    // three applications writing at their full rate; scaled by 0.01: 30 per app per 1.5 s and
    // 180 per tenant per 3 s. Six applications make 30 writes each (in $batch requests, each
    // item counted); then a seventh application, which has never written, is throttled.
    let seed_dir = tempfile::tempdir().unwrap();
    let seed = seed_dir.path().join("seed.json");
    let apps: Vec<Value> = (0..7)
        .map(|i| {
            json!({"displayName": format!("writer-{i}"),
                        "clientId": format!("00000000-0000-0000-0000-00000000000{i}"),
                        "clientSecret": "s"})
        })
        .collect();
    std::fs::write(&seed, json!({"applications": apps}).to_string()).unwrap();
    let e = start_with(|c| {
        c.seed = Some(seed.clone());
        c.faults.throttle_scale = 0.01;
    })
    .await;
    let mut tokens = Vec::new();
    for i in 0..7 {
        let id = format!("00000000-0000-0000-0000-00000000000{i}");
        let (s, v) = e
            .token_form(&[
                ("client_id", id.as_str()),
                ("client_secret", "s"),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .await;
        assert_eq!(s, 200, "{v}");
        tokens.push(v["access_token"].as_str().unwrap().to_string());
    }
    let org = format!("/organization/{}", e.b.tenant_id);
    let batch = |n: usize| {
        let requests: Vec<Value> = (0..n)
            .map(|i| {
                json!({"id": i.to_string(), "method": "PATCH", "url": org,
                            "headers": {"Content-Type": "application/json"}, "body": {}})
            })
            .collect();
        json!({ "requests": requests })
    };
    let started = std::time::Instant::now();
    for tok in &tokens[..6] {
        for n in [20, 10] {
            let (s, v) = e
                .graph_as(tok, "POST", "/$batch", Some(batch(n)), &[])
                .await;
            assert_eq!(s, 200);
            assert!(
                v["responses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["status"] == 204),
                "within every limit: {v}"
            );
        }
    }
    let (s, h, v) = e
        .graph_full(&tokens[6], "PATCH", &org, Some(json!({})), &[])
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the writes took longer than the scaled tenant window; the test proves nothing"
    );
    assert_eq!(s, 429, "{v}");
    assert_eq!(graph_error(&v).0, "TooManyRequests");
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    // Reads are not writes.
    let (s, _) = e
        .graph_as(&tokens[6], "GET", "/organization", None, &[])
        .await;
    assert_ne!(s, 429);
}
