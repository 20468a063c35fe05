//! Credentials over their life: the bootstrap admin key, API keys (scoped, revoked, expiring,
//! exchanged for tokens), trusted issuers' JWTs through key rotation, and `--auth none`.

mod auth_support;

use std::time::{Duration, Instant};

use auth_support::*;
use reqwest::StatusCode;
use serde_json::json;

/// Polls `check` until it holds or `limit` passes.
async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_key_is_private_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data, &[]);
    let token = server.admin_token().to_owned();
    assert!(token.starts_with("weir_"), "{token}");
    let mode = std::fs::metadata(data.join("bootstrap-admin.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let c = plain_client();
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, printed) = server.stop();
    assert!(
        printed.iter().all(|l| !l.contains(&token)),
        "the key was printed"
    );
    // The console's sign-in link carries a short-lived token instead, which works.
    let link = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("sign in:"))
        .expect("a sign-in link is printed");
    let jwt = link
        .split("#token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the link carries a token")
        .to_owned();
    assert!(jwt.starts_with("ey"), "{link}");
    // A restart keeps the same key and does not mint another.
    let server = Server::start_in(&data, &[]);
    assert_eq!(server.admin_token(), token);
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics",
        Some(&jwt),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the sign-in token does not work");
    let (status, keys) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/keys",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    assert!(
        !keys.to_string().contains(&token),
        "a listing shows a secret"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_scoped_revocable_expiring_and_exchangeable() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_topic(&c, &server, &admin, "default", "orders-eu").await;
    create_topic(&c, &server, &admin, "default", "payments").await;
    let (id, writer) = create_key(&c, &server, &admin, "default", &["topics:write:orders-*"]).await;
    let produce = |topic: &str| format!("/v1/tenants/default/topics/{topic}/records");
    let record = json!({"records": [{"value": "x"}]});
    let (status, _) = call(
        &c,
        &server,
        "POST",
        &produce("orders-eu"),
        Some(&writer),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &c,
        &server,
        "POST",
        &produce("payments"),
        Some(&writer),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "FORBIDDEN");
    // Writing is not reading.
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics/orders-eu/partitions/0/records",
        Some(&writer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Exchanged for a JWT with the same rights; a JWT cannot be exchanged again.
    let (status, token) = call(&c, &server, "POST", "/v1/auth/token", Some(&writer), None).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    let jwt = token["access_token"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &c,
        &server,
        "POST",
        &produce("orders-eu"),
        Some(&jwt),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &c,
        &server,
        "POST",
        &produce("payments"),
        Some(&jwt),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&c, &server, "POST", "/v1/auth/token", Some(&jwt), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The JWT verifies against the published JWKS.
    let (status, jwks) = call(&c, &server, "GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");

    // Revoked: refused at once.
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        &format!("/v1/tenants/default/keys/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(
        &c,
        &server,
        "POST",
        &produce("orders-eu"),
        Some(&writer),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        &format!("/v1/tenants/default/keys/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoking twice");

    // Expiring: works until its time, then not.
    let expires = (now() + 2) * 1000;
    let (status, body) = call(
        &c,
        &server,
        "POST",
        "/v1/tenants/default/keys",
        Some(&admin),
        Some(json!({"name": "short", "scopes": ["topics:write"], "expires_at": expires})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let short = body["key"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &c,
        &server,
        "POST",
        &produce("payments"),
        Some(&short),
        Some(record.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expired = eventually(Duration::from_secs(10), async || {
        let (status, _) = call(
            &c,
            &server,
            "POST",
            &produce("payments"),
            Some(&short),
            Some(record.clone()),
        )
        .await;
        status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(expired, "an expired key still works");

    // Nobody grants more than it holds; unknown fields are refused.
    let (_, keymaster) = create_key(
        &c,
        &server,
        &admin,
        "default",
        &["keys:admin", "topics:read:orders-*"],
    )
    .await;
    for scopes in [
        json!(["admin"]),
        json!(["topics:read"]),
        json!(["topics:write:orders-*"]),
    ] {
        let (status, body) = call(
            &c,
            &server,
            "POST",
            "/v1/tenants/default/keys",
            Some(&keymaster),
            Some(json!({"name": "escalate", "scopes": scopes})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{scopes}: {body}");
    }
    let (status, _) = call(
        &c,
        &server,
        "POST",
        "/v1/tenants/default/keys",
        Some(&keymaster),
        Some(json!({"name": "ok", "scopes": ["topics:read:orders-eu"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(
        &c,
        &server,
        "POST",
        "/v1/tenants/default/keys",
        Some(&admin),
        Some(json!({"name": "x", "scopes": ["topics:read"], "tenant": "other"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_issuer_keys_rotate_by_kid() {
    let dir = tempfile::tempdir().unwrap();
    let old = TestKey::new("2026-01", 1);
    let new = TestKey::new("2026-02", 2);
    let (server, jwks) = start_trusting(dir.path(), &[&old], "");
    let c = plain_client();
    let claims = claims("default", "topics:read");
    let list = async |token: &str| {
        call(
            &c,
            &server,
            "GET",
            "/v1/tenants/default/topics",
            Some(token),
            None,
        )
        .await
        .0
    };
    assert_eq!(list(&old.sign(&claims)).await, StatusCode::OK);
    // Not published yet: refused.
    assert_eq!(list(&new.sign(&claims)).await, StatusCode::UNAUTHORIZED);
    // Published: the unknown kid makes the server reload the set, and the token passes.
    publish(&jwks, &[&old, &new]);
    assert_eq!(list(&new.sign(&claims)).await, StatusCode::OK);
    // The old key is withdrawn: once the set is refreshed, its tokens are refused.
    publish(&jwks, &[&new]);
    let withdrawn = eventually(Duration::from_secs(10), async || {
        list(&old.sign(&claims)).await == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(withdrawn, "a withdrawn key still verifies");
    assert_eq!(list(&new.sign(&claims)).await, StatusCode::OK);
    // Scopes in the token apply: reading yes, administering topics no.
    let (status, _) = call(
        &c,
        &server,
        "POST",
        "/v1/tenants/default/topics",
        Some(&new.sign(&claims)),
        Some(json!({"name": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A token for a tenant in its `tid` claim only acts there.
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics",
        Some(&new.sign(&claims_for_other())),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop();
}

fn claims_for_other() -> serde_json::Value {
    claims("other", "topics:read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_takes_the_same_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::new("k", 3);
    let (server, _) = start_trusting(dir.path(), &[&key], "");
    let admin = server.admin_token().to_owned();
    let connect = async |token: Option<String>| {
        let config = weir_sdk::ClientConfig {
            url: server.grpc.clone(),
            token,
            ..Default::default()
        };
        weir_sdk::Admin::connect(config).await.unwrap()
    };
    let a = connect(Some(admin)).await;
    a.create_topic("g", 1, Default::default()).await.unwrap();
    let jwt = key.sign(&claims("default", "topics:read"));
    let topics = connect(Some(jwt)).await.list_topics().await.unwrap();
    assert_eq!(topics.len(), 1);
    let err = connect(None).await.list_topics().await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(weir_sdk::ErrorCode::Unauthenticated),
        "{err}"
    );
    let err = connect(Some(key.forge_hs256(&claims("default", "admin"))))
        .await
        .list_topics()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(weir_sdk::ErrorCode::Unauthenticated),
        "{err}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_none_says_so_and_asks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data, &["--auth", "none"]);
    assert!(server.token.is_none());
    assert!(!data.join("bootstrap-admin.token").exists());
    let c = plain_client();
    let (status, _) = call(&c, &server, "GET", "/v1/tenants/default/topics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, printed) = server.stop();
    assert!(
        printed.iter().any(|l| l.contains("authentication is OFF")),
        "{printed:?}"
    );
}

/// Serves `body()` as the answer to every HTTP request on a loopback port until dropped.
async fn jwks_server(
    body: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = match body.lock().unwrap().clone() {
                Some(b) => format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}", b.len()),
                None => "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
            };
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_url_is_followed_and_an_unreachable_issuer_fails_closed() {
    let key = TestKey::new("url-key", 5);
    let body = std::sync::Arc::new(std::sync::Mutex::new(Some(
        json!({"keys": [key.jwk()]}).to_string(),
    )));
    let (url, task) = jwks_server(body.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_source(dir.path(), &format!("jwks_url = \"{url}\""), "");
    let c = plain_client();
    let token = key.sign(&claims("default", "topics:read"));
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The issuer goes away: its keys are dropped once they could not be refreshed for a while.
    *body.lock().unwrap() = None;
    let closed = eventually(Duration::from_secs(15), async || {
        call(
            &c,
            &server,
            "GET",
            "/v1/tenants/default/topics",
            Some(&token),
            None,
        )
        .await
        .0 == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        closed,
        "tokens still pass while the issuer's keys cannot be fetched"
    );
    // Back again: accepted again.
    *body.lock().unwrap() = Some(json!({"keys": [key.jwk()]}).to_string());
    let open = eventually(Duration::from_secs(15), async || {
        call(
            &c,
            &server,
            "GET",
            "/v1/tenants/default/topics",
            Some(&token),
            None,
        )
        .await
        .0 == StatusCode::OK
    })
    .await;
    assert!(
        open,
        "the issuer's keys came back but tokens are still refused"
    );
    server.stop();
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_jwks_that_cannot_be_verified_is_not_trusted() {
    // The keys are there, but over plain HTTP while the config says https: the TLS handshake
    // fails, so the issuer has no keys and its tokens are refused (fail closed).
    let key = TestKey::new("tls-key", 6);
    let body = std::sync::Arc::new(std::sync::Mutex::new(Some(
        json!({"keys": [key.jwk()]}).to_string(),
    )));
    let (url, task) = jwks_server(body).await;
    let https = url.replacen("http://", "https://", 1);
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_source(dir.path(), &format!("jwks_url = \"{https}\""), "");
    let c = plain_client();
    let token = key.sign(&claims("default", "topics:read"));
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/default/topics",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop();
    task.abort();
}
