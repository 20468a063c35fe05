//! Tenants, quotas and the audit log as an administrator and as a tenant see them: who may
//! create, change and delete what, what a tenant may see of others, and the record of it.

mod auth_support;

use auth_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_tenants_and_tenants_see_only_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_tenant(&c, &server, &admin, "acme").await;
    let (status, body) = call(
        &c,
        &server,
        "POST",
        "/v1/admin/tenants",
        Some(&admin),
        Some(json!({"name": "acme"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = call(
        &c,
        &server,
        "POST",
        "/v1/admin/tenants",
        Some(&admin),
        Some(json!({"name": "Bad Name"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (_, acme) = create_key(
        &c,
        &server,
        &admin,
        "acme",
        &["topics:admin", "topics:read", "topics:write", "keys:admin"],
    )
    .await;
    // A tenant lists itself only, and cannot create tenants or change its own quotas.
    let (status, list) = call(&c, &server, "GET", "/v1/admin/tenants", Some(&acme), None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme"]);
    let (_, all) = call(&c, &server, "GET", "/v1/admin/tenants", Some(&admin), None).await;
    assert_eq!(all["tenants"].as_array().unwrap().len(), 2, "{all}");
    let (status, _) = call(
        &c,
        &server,
        "POST",
        "/v1/admin/tenants",
        Some(&acme),
        Some(json!({"name": "mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &c,
        &server,
        "PUT",
        "/v1/tenants/acme/quotas",
        Some(&acme),
        Some(json!({"topics": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, quotas) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/acme/quotas",
        Some(&acme),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{quotas}");

    // No request field sets a tenant or owner: unknown fields are refused.
    for (path, body) in [
        (
            "/v1/tenants/acme/topics",
            json!({"name": "x", "tenant": "default"}),
        ),
        (
            "/v1/tenants/acme/keys",
            json!({"name": "x", "scopes": ["topics:read"], "owner": "root"}),
        ),
        (
            "/v1/admin/tenants",
            json!({"name": "y", "quotas": {"topics": 0}}),
        ),
    ] {
        let (status, answer) = call(&c, &server, "POST", path, Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
    }
    let (status, answer) = call(
        &c,
        &server,
        "PUT",
        "/v1/tenants/acme/quotas",
        Some(&admin),
        Some(json!({"tenant": "default"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // Deleting: refused while the tenant holds topics, then its keys die with it.
    create_topic(&c, &server, &acme, "acme", "t").await;
    let (status, body) = call(
        &c,
        &server,
        "DELETE",
        "/v1/admin/tenants/acme",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "TENANT_NOT_EMPTY");
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        "/v1/tenants/acme/topics/t",
        Some(&acme),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        "/v1/admin/tenants/acme",
        Some(&acme),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a tenant deletes itself");
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        "/v1/admin/tenants/acme",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &c,
        &server,
        "GET",
        "/v1/tenants/acme/topics",
        Some(&acme),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop();
}

fn audit_lines(server: &Server) -> Vec<Value> {
    std::fs::read_to_string(server.data_dir.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_audited_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_tenant(&c, &server, &admin, "acme").await;
    let (key_id, key) = create_key(&c, &server, &admin, "acme", &["topics:admin"]).await;
    create_topic(&c, &server, &key, "acme", "t").await;
    let (status, _) = call(
        &c,
        &server,
        "PATCH",
        "/v1/tenants/acme/topics/t",
        Some(&key),
        Some(json!({"partitions": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &c,
        &server,
        "PUT",
        "/v1/tenants/acme/quotas",
        Some(&admin),
        Some(json!({"topics": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        "/v1/tenants/acme/topics/t",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &c,
        &server,
        "DELETE",
        &format!("/v1/tenants/acme/keys/{key_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let lines = audit_lines(&server);
    let text = std::fs::read_to_string(server.data_dir.join("audit.log")).unwrap();
    assert!(
        !text.contains(&key) && !text.contains(&admin),
        "a secret reached the audit log"
    );
    let actions: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap().into(),
                l["subject"].as_str().unwrap().into(),
                l["target"].as_str().unwrap().into(),
            )
        })
        .collect();
    let by_key = format!("key:{key_id}");
    for (action, subject, target) in [
        ("tenant.create", None, "".to_owned()),
        ("key.create", None, key_id.clone()),
        ("topic.create", Some(by_key.as_str()), "t".to_owned()),
        ("topic.alter", Some(by_key.as_str()), "t".to_owned()),
        ("quotas.set", None, "".to_owned()),
        ("topic.delete", Some(by_key.as_str()), "t".to_owned()),
        ("key.revoke", None, key_id.clone()),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, s, t)| a == action && subject.is_none_or(|x| x == s) && *t == target),
            "no {action} by {subject:?} on {target:?} in {actions:?}"
        );
    }
    assert!(
        lines
            .iter()
            .all(|l| l["ts_ms"].as_u64().unwrap() > 1_700_000_000_000)
    );
    server.stop();
}
