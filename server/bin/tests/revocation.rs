//! Revocation holds: nobody revokes a key holding more than they hold, the last admin key
//! stays, tokens die with their key and their tenant, and `weir admin recover` is the local way
//! back when no admin key is left.

mod auth_support;

use std::process::Command;

use auth_support::*;
use reqwest::StatusCode;
use serde_json::json;

const TOPICS: &str = "/v1/tenants/default/topics";

/// The id of an API key (`weir_<id>_<secret>`).
fn id_of(key: &str) -> String {
    key.split('_').nth(1).expect("a key has an id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_admin_revokes_only_keys_it_could_have_created() {
    let server = Server::start();
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    let (_, keymaster) = create_key(&c, &server, &admin, "default", &["keys:admin"]).await;
    let (reader_id, _) = create_key(&c, &server, &admin, "default", &["topics:read"]).await;
    let (narrow_id, _) = create_key(&c, &server, &admin, "default", &["keys:admin"]).await;

    // The bootstrap admin key and a reader hold more than `keys:admin`: refused, still alive.
    for id in [id_of(&admin), reader_id] {
        let path = format!("/v1/tenants/default/keys/{id}");
        let (status, body) = call(&c, &server, "DELETE", &path, Some(&keymaster), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{id}: {body}");
        assert_eq!(body["code"], "FORBIDDEN");
    }
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "the admin key was revoked");
    // A key holding no more than the caller may go.
    let path = format!("/v1/tenants/default/keys/{narrow_id}");
    let (status, body) = call(&c, &server, "DELETE", &path, Some(&keymaster), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The last live admin key cannot be revoked, even by itself; once another exists it can.
    let path = format!("/v1/tenants/default/keys/{}", id_of(&admin));
    let (status, body) = call(&c, &server, "DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("last live admin key"),
        "{body}"
    );
    let (_, second) = create_key(&c, &server, &admin, "default", &["admin"]).await;
    let (status, body) = call(&c, &server, "DELETE", &path, Some(&second), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&second), None).await;
    assert_eq!(status, StatusCode::OK);
    server.stop();
}

/// A token for `key`, from `POST /v1/auth/token`.
async fn token_for(c: &reqwest::Client, server: &Server, key: &str) -> String {
    let (status, body) = call(c, server, "POST", "/v1/auth/token", Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_die_with_their_key_and_their_tenant() {
    let server = Server::start();
    let c = plain_client();
    let admin = server.admin_token().to_owned();

    // Revoking a key kills the tokens issued for it at once, on REST and gRPC alike.
    let (id, reader) = create_key(&c, &server, &admin, "default", &["topics:read"]).await;
    let jwt = token_for(&c, &server, &reader).await;
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&jwt), None).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/v1/tenants/default/keys/{id}");
    let (status, _) = call(&c, &server, "DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&c, &server, "GET", TOPICS, Some(&jwt), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let refused = grpc_list_topics(&server, &jwt).await;
    assert_eq!(refused, Err(tonic::Code::Unauthenticated));

    // A token of a deleted tenant does not come back with a new tenant of the same name.
    create_tenant(&c, &server, &admin, "acme").await;
    let (_, acme_key) = create_key(&c, &server, &admin, "acme", &["topics:read"]).await;
    let acme_jwt = token_for(&c, &server, &acme_key).await;
    let acme_topics = "/v1/tenants/acme/topics";
    let (status, _) = call(&c, &server, "GET", acme_topics, Some(&acme_jwt), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &c,
        &server,
        "DELETE",
        "/v1/admin/tenants/acme",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    create_tenant(&c, &server, &admin, "acme").await;
    let (status, body) = call(&c, &server, "GET", acme_topics, Some(&acme_jwt), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // ... while a token of the new tenant works, also after a restart.
    let (_, new_key) = create_key(&c, &server, &admin, "acme", &["topics:read"]).await;
    let new_jwt = token_for(&c, &server, &new_key).await;
    let data = server.data_dir.clone();
    let mut server = server;
    let temp = server.take_temp();
    server.stop();
    let server = Server::start_in(&data, &[]);
    let (status, _) = call(&c, &server, "GET", acme_topics, Some(&new_jwt), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a live tenant's token died at restart"
    );
    let (status, _) = call(&c, &server, "GET", acme_topics, Some(&acme_jwt), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop();
    drop(temp);
}

/// `Admin.ListTopics` over gRPC with `bearer`: the status code of a refusal.
async fn grpc_list_topics(server: &Server, bearer: &str) -> Result<(), tonic::Code> {
    use weir_proto::v1::admin_client::AdminClient;
    let channel = tonic::transport::Endpoint::from_shared(server.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = tonic::Request::new(weir_proto::v1::ListTopicsRequest {
        tenant: "default".into(),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    AdminClient::new(channel)
        .list_topics(request)
        .await
        .map(|_| ())
        .map_err(|s| s.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_recover_is_the_local_way_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data, &[]);
    let c = plain_client();
    let lost = server.admin_token().to_owned();
    let recover = || {
        Command::new(weir_testkit::weir_bin())
            .args(["admin", "recover", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap()
    };
    // Not while the node runs: the data directory is locked.
    let out = recover();
    assert!(!out.status.success(), "recovered beside a running node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use"), "{stderr}");

    // Lose every admin: a second admin key revokes the bootstrap one, then the file goes too.
    let (second_id, second) = create_key(&c, &server, &lost, "default", &["admin"]).await;
    let path = format!("/v1/tenants/default/keys/{}", id_of(&lost));
    let (status, _) = call(&c, &server, "DELETE", &path, Some(&second), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.stop();
    std::fs::remove_file(data.join("bootstrap-admin.token")).unwrap();

    let out = recover();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = data.join("bootstrap-admin.token");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let recovered = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&recovered),
        "the key was printed"
    );
    let server = Server::start_in(&data, &[]);
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&recovered), None).await;
    assert_eq!(status, StatusCode::OK, "the recovered key does not work");
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&lost), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The other admin key was untouched, and the recovery is in the audit log.
    let path = format!("/v1/tenants/default/keys/{second_id}");
    let (status, _) = call(&c, &server, "GET", TOPICS, Some(&second), None).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    let audit = std::fs::read_to_string(data.join("audit.log")).unwrap();
    let line = audit
        .lines()
        .find(|l| l.contains("\"key.recover\""))
        .expect("the recovery is audited");
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["subject"], json!("system:recover"));
    server.stop();
}

/// Streams authenticate once, when they open: they must still end when their key goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_end_when_their_key_is_revoked() {
    use tokio_stream::StreamExt;
    use weir_proto::v1::FetchRequest;
    use weir_proto::v1::fetch_client::FetchClient;

    let server = Server::start();
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    let body = json!({"name": "streams", "partitions": 1});
    let (status, body) = call(&c, &server, "POST", TOPICS, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let scopes = ["topics:write", "topics:read"];
    let (id, key) = create_key(&c, &server, &admin, "default", &scopes).await;

    // A producer and a FetchStream open with the key, and work.
    let producer = weir_sdk::Producer::builder()
        .url(server.grpc.clone())
        .token(key.clone())
        .build()
        .await
        .unwrap();
    let record = |v: &str| weir_sdk::ProducerRecord::new("streams", v.as_bytes().to_vec());
    producer
        .send(record("before"))
        .await
        .unwrap()
        .await
        .unwrap();
    let channel = tonic::transport::Endpoint::from_shared(server.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = tonic::Request::new(FetchRequest {
        tenant: "default".into(),
        topic: "streams".into(),
        partition: 0,
        offset: 0,
        max_bytes: 1 << 20,
        wait_ms: 0,
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let mut fetched = FetchClient::new(channel)
        .fetch_stream(request)
        .await
        .unwrap()
        .into_inner();
    let first = fetched.next().await.expect("a reply").expect("the record");
    assert_eq!(first.next_offset, 1);
    let tail_url = server.url("/v1/tenants/default/topics/streams/records:stream");
    let mut tail = c.get(&tail_url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(tail.status(), StatusCode::OK);

    // The key is revoked: the producer's next record is refused on its open stream, and the
    // FetchStream ends instead of sending what is written next.
    let path = format!("/v1/tenants/default/keys/{id}");
    let (status, _) = call(&c, &server, "DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refused = producer.send(record("after")).await.unwrap().await;
    let code = refused.expect_err("a revoked key produced").code();
    assert_eq!(code, Some(weir_proto::ErrorCode::Unauthenticated));
    let admin_producer = weir_sdk::Producer::builder()
        .url(server.grpc.clone())
        .token(admin.clone())
        .build()
        .await
        .unwrap();
    admin_producer
        .send(record("by admin"))
        .await
        .unwrap()
        .await
        .unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(30), fetched.next())
        .await
        .expect("the FetchStream ended in time");
    let status = ended
        .expect("an end status")
        .expect_err("a revoked key read on");
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    // ... and so does the live tail, without the record.
    let mut text = String::new();
    let deadline = std::time::Duration::from_secs(30);
    while let Some(chunk) = tokio::time::timeout(deadline, tail.chunk())
        .await
        .expect("the live tail ended in time")
        .expect("the live tail's body")
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        !text.contains("by admin"),
        "a revoked key tailed on: {text}"
    );
    server.stop();
}
