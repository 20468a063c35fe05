//! Per-tenant quotas from the outside: a produce rate held by delaying answers, with no error
//! for a client that honours it; 429 / RESOURCE_EXHAUSTED with a retry delay past the delay
//! bound; storage refused until retention frees space; counts and sizes refused with clear
//! codes; usage and metrics showing it all.

mod auth_support;

use std::time::{Duration, Instant};

use auth_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_sdk::{Producer, ProducerRecord};

/// Sets quotas of `tenant` as the bootstrap admin.
async fn set_quotas(c: &reqwest::Client, s: &Server, tenant: &str, quotas: Value) {
    let (status, body) = call(
        c,
        s,
        "PUT",
        &format!("/v1/tenants/{tenant}/quotas"),
        Some(s.admin_token()),
        Some(quotas),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn tenant_with_key(c: &reqwest::Client, s: &Server, tenant: &str, quotas: Value) -> String {
    create_tenant(c, s, s.admin_token(), tenant).await;
    set_quotas(c, s, tenant, quotas).await;
    let scopes = [
        "topics:admin",
        "topics:read",
        "topics:write",
        "groups:read",
        "groups:write",
    ];
    create_key(c, s, s.admin_token(), tenant, &scopes).await.1
}

async fn usage(c: &reqwest::Client, s: &Server, tenant: &str, key: &str) -> Value {
    let (status, body) = call(
        c,
        s,
        "GET",
        &format!("/v1/tenants/{tenant}/usage"),
        Some(key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_quota_holds_a_pushing_client_to_its_rate_without_errors() {
    const QUOTA: u64 = 1_000_000;
    const OFFERED_PER_TICK: usize = 50; // 1 KiB records every 10 ms: about 5 MB/s
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let key = tenant_with_key(
        &c,
        &server,
        "noisy",
        json!({"produce_bytes_per_sec": QUOTA}),
    )
    .await;
    create_topic(&c, &server, &key, "noisy", "flood").await;
    let producer = Producer::builder()
        .url(server.grpc.clone())
        .tenant("noisy")
        .token(key.clone())
        .linger(Duration::from_millis(5))
        .buffer_bytes(1 << 20)
        .build()
        .await
        .unwrap();
    let value = vec![b'x'; 1024];
    let started = Instant::now();
    let window = Duration::from_secs(10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut offered = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while started.elapsed() < window {
        tick.tick().await;
        for _ in 0..OFFERED_PER_TICK {
            let delivery = producer
                .send(ProducerRecord::new("flood", value.clone()))
                .await
                .expect("send is never refused: the producer waits for buffer room");
            offered += 1;
            let tx = tx.clone();
            tokio::spawn(async move {
                let outcome = delivery.await;
                let _ = tx.send((Instant::now(), outcome));
            });
        }
    }
    producer.flush().await.expect("flush");
    drop(tx);
    let mut in_window = 0u64;
    let mut delivered = 0usize;
    while let Some((at, outcome)) = rx.recv().await {
        outcome.expect("a throttled client sees no error");
        delivered += 1;
        if at.duration_since(started) <= window {
            in_window += value.len() as u64;
        }
    }
    assert_eq!(delivered, offered);
    let rate = in_window as f64 / window.as_secs_f64();
    eprintln!(
        "offered {offered} records, {delivered} delivered; {rate:.0} B/s acknowledged within the window"
    );
    assert!(
        rate <= 1.1 * QUOTA as f64,
        "achieved {rate:.0} B/s against a quota of {QUOTA}"
    );
    let used = usage(&c, &server, "noisy", &key).await;
    assert!(
        used["throttle_time_ms_total"].as_u64().unwrap() > 0,
        "{used}"
    );
    producer.close().await.unwrap();
    let (status, metrics) = call(
        &c,
        &server,
        "GET",
        "/metrics",
        Some(server.admin_token()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics
            .to_string()
            .contains("weir_tenant_throttle_time_ms_total")
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overage_past_the_delay_bound_is_refused_with_a_retry_delay() {
    const QUOTA: u64 = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let key = tenant_with_key(
        &c,
        &server,
        "burst",
        json!({"produce_bytes_per_sec": QUOTA}),
    )
    .await;
    create_topic(&c, &server, &key, "burst", "t").await;
    let big = json!({"records": [{"value_b64": base64_of(&vec![7u8; 90_000])}]});
    let path = "/v1/tenants/burst/topics/t/records";
    // Push far past the quota from several requests at once until one is refused.
    let mut refused = None;
    for _ in 0..40 {
        let (c2, s2, k2, b2) = (c.clone(), server.url(path), key.clone(), big.clone());
        let held = tokio::spawn(async move { c2.post(s2).bearer_auth(k2).json(&b2).send().await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let response = c
            .post(server.url(path))
            .bearer_auth(&key)
            .json(&big)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        let first = held.await.unwrap().unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let body: Value = first.json().await.unwrap();
        assert!(body["throttle_time_ms"].as_u64().is_some(), "{body}");
    }
    let refused = refused.expect("a tenant far over its quota is refused");
    let headers = refused.headers().clone();
    assert!(
        headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(headers.get("ratelimit-limit").unwrap(), &QUOTA.to_string());
    assert_eq!(headers.get("ratelimit-remaining").unwrap(), "0");
    assert!(headers.get("ratelimit-reset").is_some());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "QUOTA_EXCEEDED");
    assert_eq!(body["retryable"], true);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("produce_bytes_per_sec"),
        "{body}"
    );

    // gRPC: RESOURCE_EXHAUSTED with the delay in the details.
    let config = weir_sdk::ClientConfig {
        url: server.grpc.clone(),
        tenant: "burst".into(),
        token: Some(key.clone()),
        ..Default::default()
    };
    let connection = weir_sdk::Connection::open(config).await.unwrap();
    let client = connection.produce();
    let mut status = None;
    for _ in 0..40 {
        let request = weir_proto::v1::ProduceRequest {
            tenant: "burst".into(),
            topic: "t".into(),
            payload: Some(weir_proto::v1::produce_request::Payload::Records(
                weir_proto::v1::RecordList {
                    records: vec![weir_proto::v1::PlainRecord {
                        value: Some(vec![1u8; 90_000].into()),
                        ..Default::default()
                    }],
                },
            )),
            ..Default::default()
        };
        let mut held = client.clone();
        tokio::spawn(async move { held.produce(request).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let request = weir_proto::v1::ProduceRequest {
            tenant: "burst".into(),
            topic: "t".into(),
            payload: Some(weir_proto::v1::produce_request::Payload::Records(
                weir_proto::v1::RecordList {
                    records: vec![weir_proto::v1::PlainRecord {
                        value: Some(vec![2u8; 90_000].into()),
                        ..Default::default()
                    }],
                },
            )),
            ..Default::default()
        };
        if let Err(s) = client.clone().produce(request).await {
            status = Some(s);
            break;
        }
    }
    let status = status.expect("gRPC is refused as well");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    let detail = <weir_proto::v1::ErrorDetail as prost::Message>::decode(status.details()).unwrap();
    assert_eq!(detail.code, "QUOTA_EXCEEDED");
    assert!(detail.retry_after_ms > 0, "{detail:?}");
    server.stop();
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_quota_refuses_writes_until_retention_frees_space() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let key = tenant_with_key(&c, &server, "full", json!({"storage_bytes": 200_000})).await;
    let (status, body) = call(
        &c,
        &server,
        "POST",
        "/v1/tenants/full/topics",
        Some(&key),
        Some(json!({"name": "t", "config": {"segment_bytes": 20_000}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = "/v1/tenants/full/topics/t/records";
    let record = json!({"records": [{"value_b64": base64_of(&vec![3u8; 10_000])}]});
    let mut refusal = None;
    for _ in 0..100 {
        let (status, body) =
            call(&c, &server, "POST", path, Some(&key), Some(record.clone())).await;
        if status != StatusCode::OK {
            refusal = Some((status, body));
            break;
        }
        // The tenant's total is summed at most every 250 ms.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (status, body) = refusal.expect("writes past the storage quota are refused");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["code"], "STORAGE_QUOTA_EXCEEDED");
    let stored = usage(&c, &server, "full", &key).await["storage_bytes"]
        .as_u64()
        .unwrap();
    assert!(stored <= 200_000 + 10_000 * 10, "{stored}");
    // Retention frees space; writes are accepted again.
    let (status, _) = call(
        &c,
        &server,
        "PATCH",
        "/v1/tenants/full/topics/t",
        Some(&key),
        Some(json!({"config": {"retention_bytes": 40_000}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) =
            call(&c, &server, "POST", path, Some(&key), Some(record.clone())).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(body["code"], "STORAGE_QUOTA_EXCEEDED", "{body}");
        assert!(Instant::now() < deadline, "retention never freed space");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_and_size_quotas_refuse_with_clear_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    let quotas = json!({"topics": 2, "partitions": 3, "groups": 1, "record_bytes_max": 1000, "request_bytes_max": 5000, "requests_per_sec": 20});
    let key = tenant_with_key(&c, &server, "small", quotas).await;
    let create = async |name: &str, partitions: u32| {
        call(
            &c,
            &server,
            "POST",
            "/v1/tenants/small/topics",
            Some(&key),
            Some(json!({"name": name, "partitions": partitions})),
        )
        .await
    };
    assert_eq!(create("a", 2).await.0, StatusCode::CREATED);
    let (status, body) = create("b", 2).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("COUNT_QUOTA_EXCEEDED")),
        "{body}"
    );
    assert_eq!(create("b", 1).await.0, StatusCode::CREATED);
    let (status, body) = create("c", 1).await;
    assert_eq!(body["code"], "COUNT_QUOTA_EXCEEDED", "{status} {body}");
    let (status, body) = call(
        &c,
        &server,
        "PATCH",
        "/v1/tenants/small/topics/b",
        Some(&key),
        Some(json!({"partitions": 2})),
    )
    .await;
    assert_eq!(body["code"], "COUNT_QUOTA_EXCEEDED", "{status} {body}");
    // Over a lowered quota, only what adds is refused: settings still change.
    set_quotas(&c, &server, "small", json!({"partitions": 1, "topics": 1})).await;
    for change in [json!({}), json!({"config": {"retention_ms": 60000}})] {
        let path = "/v1/tenants/small/topics/b";
        let (status, body) = call(&c, &server, "PATCH", path, Some(&key), Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let path = "/v1/tenants/small/topics/b";
    let more = json!({"partitions": 2});
    let (status, body) = call(&c, &server, "PATCH", path, Some(&key), Some(more)).await;
    assert_eq!(body["code"], "COUNT_QUOTA_EXCEEDED", "{status} {body}");
    set_quotas(&c, &server, "small", json!({"partitions": 3, "topics": 2})).await;

    let commit = async |group: &str| {
        call(
            &c,
            &server,
            "POST",
            &format!("/v1/tenants/small/groups/{group}/offsets"),
            Some(&key),
            Some(json!({"offsets": [{"topic": "a", "partition": 0, "offset": 0}]})),
        )
        .await
    };
    assert_eq!(commit("g1").await.0, StatusCode::NO_CONTENT);
    let (status, body) = commit("g2").await;
    assert_eq!(body["code"], "COUNT_QUOTA_EXCEEDED", "{status} {body}");

    let produce = async |records: Value| {
        call(
            &c,
            &server,
            "POST",
            "/v1/tenants/small/topics/a/records",
            Some(&key),
            Some(json!({"records": records})),
        )
        .await
    };
    let (status, body) = produce(json!([{"value": "x".repeat(2000)}])).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("RECORD_TOO_LARGE")),
        "{body}"
    );
    let many: Vec<Value> = (0..10).map(|_| json!({"value": "y".repeat(900)})).collect();
    let (status, body) = produce(json!(many)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("REQUEST_TOO_LARGE")),
        "{body}"
    );
    let (status, _) = produce(json!([{"value": "fits"}])).await;
    assert_eq!(status, StatusCode::OK);

    // Requests past requests_per_sec are held, not failed, for a client waiting its turn.
    for _ in 0..60 {
        let (status, _) = call(
            &c,
            &server,
            "GET",
            "/v1/tenants/small/topics",
            Some(&key),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let used = usage(&c, &server, "small", &key).await;
    assert_eq!(
        (
            used["topics"].as_u64(),
            used["partitions"].as_u64(),
            used["groups"].as_u64()
        ),
        (Some(2), Some(3), Some(1)),
        "{used}"
    );
    assert!(
        used["throttle_time_ms_total"].as_u64().unwrap() > 0,
        "{used}"
    );
    assert_eq!(used["quotas"]["topics"], 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_is_charged_to_the_tenant_it_acts_on_not_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_trusting(dir.path(), &[], "");
    let c = plain_client();
    // The admin's own tenant has a tight request rate; the tenant it works on a wide one.
    set_quotas(&c, &server, "default", json!({"requests_per_sec": 5})).await;
    let key = tenant_with_key(&c, &server, "busy", json!({"requests_per_sec": 1000})).await;
    let (_, default_reader) = create_key(
        &c,
        &server,
        server.admin_token(),
        "default",
        &["topics:read"],
    )
    .await;
    for _ in 0..40 {
        let path = "/v1/tenants/busy/topics";
        let (status, body) = call(&c, &server, "GET", path, Some(server.admin_token()), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let busy = usage(&c, &server, "busy", &key).await;
    assert_eq!(busy["throttled_requests_total"], 0, "{busy}");
    let default = usage(&c, &server, "default", &default_reader).await;
    assert_eq!(default["throttle_time_ms_total"], 0, "{default}");
    assert_eq!(default["throttled_requests_total"], 0, "{default}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_tails_are_shared_per_tenant_and_come_back_when_clients_leave() {
    let dir = tempfile::tempdir().unwrap();
    let limits = "[limits]\nsse_streams_max = 4\nsse_streams_per_tenant_max = 3\n";
    let (server, _) = start_trusting(dir.path(), &[], limits);
    let c = plain_client();
    let mut keys = Vec::new();
    for tenant in ["greedy", "other"] {
        let key = tenant_with_key(&c, &server, tenant, json!({})).await;
        create_topic(&c, &server, &key, tenant, "t").await;
        keys.push(key);
    }
    let tail = async |tenant: &str, key: &str| {
        let url = server.url(&format!("/v1/tenants/{tenant}/topics/t/records:stream"));
        c.get(url).bearer_auth(key).send().await.unwrap()
    };
    let mut greedy = Vec::new();
    for _ in 0..3 {
        let open = tail("greedy", &keys[0]).await;
        assert_eq!(open.status(), StatusCode::OK);
        greedy.push(open);
    }
    // The tenant's share is taken; another tenant still gets a tail.
    let refused = tail("greedy", &keys[0]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "COUNT_QUOTA_EXCEEDED", "{body}");
    let other = tail("other", &keys[1]).await;
    assert_eq!(other.status(), StatusCode::OK);
    let full = tail("other", &keys[1]).await;
    assert_eq!(
        full.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the node holds 4"
    );

    // A client that goes away frees its slot at once, not when the tail next looks.
    drop(greedy.pop());
    let deadline = Instant::now() + Duration::from_secs(3);
    let reopened = loop {
        let open = tail("other", &keys[1]).await;
        if open.status() == StatusCode::OK || Instant::now() > deadline {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        reopened.status(),
        StatusCode::OK,
        "the slot did not come back"
    );

    // The tenant's `live_tails` quota narrows its share further.
    drop(reopened);
    drop(other);
    set_quotas(&c, &server, "greedy", json!({"live_tails": 2})).await;
    let narrowed = tail("greedy", &keys[0]).await;
    assert_eq!(narrowed.status(), StatusCode::CONFLICT, "2 held, 2 allowed");
    server.stop();
}
