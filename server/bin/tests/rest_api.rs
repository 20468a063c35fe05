//! REST end to end against the real binary: topic CRUD, produce/fetch round trips with keys,
//! headers, JSON, text and binary values, timestamp lookup, long-poll wake-up, the SSE live
//! tail with resume, and every error path returning problem+json with the right code.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use common::Server;

const TIMEOUT: Duration = Duration::from_secs(30);

/// A client sending the server's bootstrap admin key with every request.
fn client(s: &Server) -> Client {
    s.client(TIMEOUT)
}

async fn create_topic(c: &Client, s: &Server, name: &str, partitions: u32) -> Value {
    let r = c
        .post(s.url("/v1/tenants/default/topics"))
        .json(&json!({"name": name, "partitions": partitions}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn produce(c: &Client, s: &Server, topic: &str, records: Value) -> Value {
    let r = c
        .post(s.url(&format!("/v1/tenants/default/topics/{topic}/records")))
        .json(&json!({ "records": records }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json().await.unwrap()
}

async fn fetch(c: &Client, s: &Server, topic: &str, partition: u32, query: &str) -> Value {
    let url = s.url(&format!(
        "/v1/tenants/default/topics/{topic}/partitions/{partition}/records?{query}"
    ));
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json().await.unwrap()
}

/// Asserts a problem+json response with the given status and code.
async fn assert_problem(r: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(r.status(), status);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn topic_crud() {
    let s = Server::start();
    let c = client(&s);
    let created = create_topic(&c, &s, "orders", 3).await;
    assert_eq!(created["partitions"].as_array().unwrap().len(), 3);
    assert_eq!(created["config"]["retention_ms"], 604_800_000);

    let dup = c
        .post(s.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "orders"}))
        .send()
        .await
        .unwrap();
    assert_problem(dup, StatusCode::CONFLICT, "TOPIC_ALREADY_EXISTS").await;

    let list: Value = c
        .get(s.url("/v1/tenants/default/topics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["topics"][0]["name"], "orders");
    assert_eq!(list["topics"][0]["partitions"], 3);

    let patched: Value = c
        .patch(s.url("/v1/tenants/default/topics/orders"))
        .json(&json!({"partitions": 5, "config": {"retention_ms": -1, "segment_bytes": 1048576}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["partitions"].as_array().unwrap().len(), 5);
    assert_eq!(patched["config"]["retention_ms"], -1);
    assert_eq!(patched["config"]["segment_bytes"], 1_048_576);

    let shrink = c
        .patch(s.url("/v1/tenants/default/topics/orders"))
        .json(&json!({"partitions": 2}))
        .send()
        .await
        .unwrap();
    assert_problem(shrink, StatusCode::BAD_REQUEST, "INVALID_PARTITIONS").await;

    let described: Value = c
        .get(s.url("/v1/tenants/default/topics/orders"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(described["partitions"][4]["high_watermark"], 0);

    let deleted = c
        .delete(s.url("/v1/tenants/default/topics/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = c
        .get(s.url("/v1/tenants/default/topics/orders"))
        .send()
        .await
        .unwrap();
    assert_problem(gone, StatusCode::NOT_FOUND, "TOPIC_NOT_FOUND").await;
}

#[tokio::test]
async fn produce_and_fetch_round_trip_every_value_kind() {
    let s = Server::start();
    let c = client(&s);
    create_topic(&c, &s, "events", 4).await;
    let binary = [0xffu8, 0x00, 0xfe];
    let results = produce(
        &c,
        &s,
        "events",
        json!([
            {"key": "user-1", "value": {"a": 1, "b": [true, null]}, "headers": {"trace": "t-1"}, "timestamp": 1000},
            {"key": "user-1", "value": "plain string", "timestamp": 2000},
            {"key": "user-1", "value": 42, "timestamp": 3000},
            {"key": "user-1", "value_b64": B64.encode(binary), "timestamp": 4000},
            {"key": "user-1", "value_b64": B64.encode("not json"), "timestamp": 5000},
            {"key_b64": B64.encode(binary), "value": null, "partition": 2},
        ]),
    )
    .await;
    let results = results["results"].as_array().unwrap();
    let expected = weir_proto::partitioner::partition_for_key(b"user-1", 4).unwrap();
    for (i, r) in results[..5].iter().enumerate() {
        assert_eq!(r["partition"], expected, "keyed records follow murmur2");
        assert_eq!(r["offset"], i as i64);
    }
    assert_eq!(results[5]["partition"], 2);

    let got = fetch(&c, &s, "events", expected, "offset=0").await;
    let records = got["records"].as_array().unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(got["next_offset"], 5);
    assert_eq!(got["high_watermark"], 5);
    assert_eq!(records[0]["key"], "user-1");
    assert_eq!(records[0]["value"], json!({"a": 1, "b": [true, null]}));
    assert_eq!(records[0]["value_format"], "json");
    assert_eq!(records[0]["headers"]["trace"], "t-1");
    assert_eq!(records[0]["timestamp"], 1000);
    assert_eq!(records[1]["value"], "plain string");
    assert_eq!(records[1]["value_format"], "json");
    assert_eq!(records[2]["value"], 42);
    assert_eq!(records[3]["value_b64"], B64.encode(binary));
    assert_eq!(records[3]["value_format"], "binary");
    assert_eq!(records[4]["value"], "not json");
    assert_eq!(records[4]["value_format"], "string");

    let tomb = fetch(&c, &s, "events", 2, "").await;
    assert_eq!(tomb["records"][0]["key_b64"], B64.encode(binary));
    assert_eq!(tomb["records"][0]["value_format"], "null");

    // UTF-8 that holds control characters (other than tab, newline, CR) is shown as bytes.
    let controls = [0x00u8, 0x01, 0x02];
    produce(
        &c,
        &s,
        "events",
        json!([
            {"value_b64": B64.encode(controls), "key_b64": B64.encode(controls),
             "headers": {"h": "\u{7}"}, "partition": 3},
            {"value_b64": B64.encode("tab\there\r\n"), "partition": 3},
        ]),
    )
    .await;
    let shown = fetch(&c, &s, "events", 3, "offset=0").await;
    let shown = shown["records"].as_array().unwrap();
    assert_eq!(shown[0]["value_format"], "binary", "{shown:?}");
    assert_eq!(shown[0]["value_b64"], B64.encode(controls));
    assert_eq!(shown[0]["key_b64"], B64.encode(controls));
    assert_eq!(shown[0]["headers_b64"]["h"], B64.encode([7u8]));
    assert_eq!(shown[1]["value_format"], "string");
    assert_eq!(shown[1]["value"], "tab\there\r\n");

    // By timestamp, and paging with max_records.
    let by_time = fetch(&c, &s, "events", expected, "timestamp=2500").await;
    assert_eq!(by_time["records"][0]["offset"], 2);
    let page = fetch(&c, &s, "events", expected, "offset=1&max_records=2").await;
    assert_eq!(page["records"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_offset"], 3);
    let empty = fetch(&c, &s, "events", expected, "timestamp=999999999").await;
    assert!(empty["records"].as_array().unwrap().is_empty());
    assert_eq!(empty["next_offset"], 5);
}

#[tokio::test]
async fn unkeyed_records_spread_over_partitions() {
    let s = Server::start();
    let c = client(&s);
    create_topic(&c, &s, "spread", 3).await;
    let records: Vec<Value> = (0..30).map(|i| json!({"value": i})).collect();
    let results = produce(&c, &s, "spread", Value::Array(records)).await;
    let mut counts = [0; 3];
    for r in results["results"].as_array().unwrap() {
        counts[r["partition"].as_u64().unwrap() as usize] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[tokio::test]
async fn long_poll_wakes_when_a_record_arrives() {
    let s = Server::start();
    let c = client(&s);
    create_topic(&c, &s, "poll", 1).await;
    let url = s.url("/v1/tenants/default/topics/poll/partitions/0/records?offset=0&wait_ms=20000");
    let waiting = tokio::spawn({
        let c = c.clone();
        async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the fetch should wait for data");
    produce(&c, &s, "poll", json!([{"value": "wake up"}])).await;
    let got = tokio::time::timeout(TIMEOUT, waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["records"][0]["value"], "wake up");

    // Without data, the wait ends with an empty answer.
    let empty = fetch(&c, &s, "poll", 0, "offset=1&wait_ms=200").await;
    assert!(empty["records"].as_array().unwrap().is_empty());
}

/// Reads SSE events from a response until `n` `record` events arrived; returns (id, data).
async fn read_events(resp: &mut reqwest::Response, n: usize) -> Vec<(String, Value)> {
    let mut buf = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(TIMEOUT, resp.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_owned()))
            };
            if field("event:").as_deref() == Some("record") {
                let data = serde_json::from_str(&field("data:").unwrap()).unwrap();
                events.push((field("id:").unwrap(), data));
            }
        }
    }
    events
}

#[tokio::test]
async fn sse_tail_sees_new_records_and_resumes_by_last_event_id() {
    let s = Server::start();
    let c = client(&s);
    create_topic(&c, &s, "live", 2).await;
    produce(&c, &s, "live", json!([{"value": "before", "partition": 0}])).await;
    let url = s.url("/v1/tenants/default/topics/live/records:stream");
    let mut tail = c.get(&url).send().await.unwrap();
    assert_eq!(tail.status(), StatusCode::OK);
    assert_eq!(tail.headers()["content-type"], "text/event-stream");
    tokio::time::sleep(Duration::from_millis(200)).await;
    produce(&c, &s, "live", json!([{"value": "first", "partition": 1}])).await;
    let events = read_events(&mut tail, 1).await;
    assert_eq!(
        events[0].1["value"], "first",
        "the tail starts at the end, not before"
    );
    assert_eq!(events[0].1["partition"], 1);
    assert_eq!(events[0].0, "0:1,1:1");
    drop(tail);

    produce(
        &c,
        &s,
        "live",
        json!([{"value": "second", "partition": 1}, {"value": "third", "partition": 0}]),
    )
    .await;
    let mut resumed = c
        .get(&url)
        .header("Last-Event-ID", &events[0].0)
        .send()
        .await
        .unwrap();
    let mut seen: Vec<String> = read_events(&mut resumed, 2)
        .await
        .into_iter()
        .map(|(_, d)| d["value"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, ["second", "third"]);

    let earliest = format!("{url}?from=earliest&partitions=0");
    let mut from_start = c.get(&earliest).send().await.unwrap();
    let values: Vec<Value> = read_events(&mut from_start, 2)
        .await
        .into_iter()
        .map(|(_, d)| d["value"].clone())
        .collect();
    assert_eq!(values, [json!("before"), json!("third")]);
}

#[tokio::test]
async fn bad_requests_get_problem_json_with_the_right_code() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weir.toml");
    std::fs::write(
        &config,
        "[limits]\nrequest_bytes_max = 65536\nrecord_bytes_max = 1024\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let s = Server::start_in(&data, &["--config", config.to_str().unwrap()]);
    let c = client(&s);
    create_topic(&c, &s, "t", 2).await;
    let records = s.url("/v1/tenants/default/topics/t/records");

    let many_headers: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("h{i}"), json!("v"))).collect();
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            c.post(&records)
                .json(&json!({"records": [{"value": 1, "headers": many_headers}]})),
            StatusCode::BAD_REQUEST,
            "INVALID_RECORD",
        ),
        (
            c.get(s.url("/nope")),
            StatusCode::NOT_FOUND,
            "ROUTE_NOT_FOUND",
        ),
        (
            c.put(s.url("/v1/tenants/default/topics")),
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        ),
        (
            c.get(s.url("/v1/tenants/nobody/topics")),
            StatusCode::NOT_FOUND,
            "TENANT_NOT_FOUND",
        ),
        (
            c.get(s.url("/v1/tenants/Bad_Name/topics")),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics"))
                .json(&json!({"name": "bad/name"})),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics"))
                .json(&json!({"name": "x", "partitions": 0})),
            StatusCode::BAD_REQUEST,
            "INVALID_PARTITIONS",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics"))
                .json(&json!({"name": "x", "config": {"retention_ms": -5}})),
            StatusCode::BAD_REQUEST,
            "INVALID_CONFIG",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics"))
                .json(&json!({"name": "x", "config": {"segment_bytes": 1}})),
            StatusCode::BAD_REQUEST,
            "INVALID_CONFIG",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics"))
                .json(&json!({"name": "x", "owner": "me"})),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records)
                .body("{not json")
                .header("content-type", "application/json"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records).body("{}"),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records).json(&json!({"records": []})),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records)
                .json(&json!({"records": [{"value": 1, "value_b64": "AA=="}]})),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records)
                .json(&json!({"records": [{"value_b64": "%%%"}]})),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.post(&records)
                .json(&json!({"records": [{"value": "x", "partition": 7}]})),
            StatusCode::NOT_FOUND,
            "PARTITION_NOT_FOUND",
        ),
        (
            c.post(&records)
                .json(&json!({"records": [{"value": "x".repeat(2000)}]})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "RECORD_TOO_LARGE",
        ),
        (
            c.post(&records)
                .json(&json!({"records": [{"value": "x".repeat(100_000)}]})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_TOO_LARGE",
        ),
        (
            c.post(s.url("/v1/tenants/default/topics/missing/records"))
                .json(&json!({"records": [{"value": 1}]})),
            StatusCode::NOT_FOUND,
            "TOPIC_NOT_FOUND",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/partitions/9/records")),
            StatusCode::NOT_FOUND,
            "PARTITION_NOT_FOUND",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/partitions/0/records?offset=5")),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "OFFSET_OUT_OF_RANGE",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/partitions/0/records?offset=x")),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/partitions/0/records?offset=0&timestamp=1")),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/partitions/0/records?max_records=0")),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            c.get(s.url("/v1/tenants/default/topics/t/records:stream?from=middle")),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
    ];
    for (request, status, code) in cases {
        let r = request.send().await.unwrap();
        assert_problem(r, status, code).await;
    }
    // Nothing of the refused produces was written.
    let t: Value = c
        .get(s.url("/v1/tenants/default/topics/t"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        t["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["high_watermark"] == 0)
    );
}

#[tokio::test]
async fn health_readiness_metrics_and_docs() {
    let s = Server::start();
    let c = client(&s);
    let health: Value = c
        .get(s.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        c.get(s.url("/readyz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    create_topic(&c, &s, "m", 1).await;
    produce(&c, &s, "m", json!([{"value": 1}, {"value": 2}])).await;
    let metrics = c
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("weir_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("weir_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let end = metrics
        .lines()
        .find(|l| l.starts_with("weir_log_end_offset") && l.contains("topic=\"m\""))
        .expect("log end offset gauge");
    assert!(end.ends_with(" 2"), "{end}");
    assert!(metrics.contains("weir_records_in_total"), "{metrics}");

    let spec: Value = c
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let docs = c.get(s.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}
