//! Data survives restarts: a graceful stop (SIGTERM: in-flight requests finish, logs flush,
//! clean-shutdown markers written, exit 0) and a SIGKILL (every acknowledged record is there
//! after recovery).

mod common;

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use common::Server;

async fn produce_n(c: &Client, s: &Server, from: usize, n: usize) {
    let records: Vec<Value> = (from..from + n)
        .map(|i| json!({"key": format!("k{i}"), "value": {"n": i}}))
        .collect();
    let r = c
        .post(s.url("/v1/tenants/default/topics/keep/records"))
        .json(&json!({ "records": records }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let body: Value = r.json().await.unwrap();
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["offset"].is_i64())
    );
}

/// Every value stored, across partitions, sorted.
async fn all_values(c: &Client, s: &Server) -> Vec<i64> {
    let mut values = Vec::new();
    for p in 0..3 {
        let url = s.url(&format!(
            "/v1/tenants/default/topics/keep/partitions/{p}/records?max_records=10000"
        ));
        let body: Value = c.get(url).send().await.unwrap().json().await.unwrap();
        values.extend(
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["value"]["n"].as_i64().unwrap()),
        );
    }
    values.sort_unstable();
    values
}

#[tokio::test]
async fn data_survives_sigterm_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), &[]);
    // The bootstrap admin key belongs to the data directory: it still works after restarts.
    let c = s.client(Duration::from_secs(30));
    let r = c
        .post(s.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "keep", "partitions": 3}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    produce_n(&c, &s, 0, 200).await;

    // A long poll in flight when SIGTERM arrives is answered, and the exit is clean.
    let url =
        s.url("/v1/tenants/default/topics/keep/partitions/0/records?offset=999999&wait_ms=1000");
    let in_flight = tokio::spawn({
        let c = c.clone();
        async move { c.get(url).send().await.map(|r| r.status()) }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, printed) = tokio::task::spawn_blocking(move || s.stop()).await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        printed.iter().any(|l| l.contains("stopped cleanly")),
        "{printed:?}"
    );
    let answered = in_flight.await.unwrap();
    assert!(
        answered.is_ok(),
        "the in-flight request was cut off: {answered:?}"
    );
    let partition_dir = dir.path().join("topics/0/0");
    assert!(partition_dir.join("clean-shutdown").exists());

    let s = Server::start_in(dir.path(), &[]);
    assert_eq!(all_values(&c, &s).await, (0..200).collect::<Vec<_>>());
    produce_n(&c, &s, 200, 100).await;
    let status = s.kill();
    assert!(!status.success());

    let s = Server::start_in(dir.path(), &[]);
    assert_eq!(all_values(&c, &s).await, (0..300).collect::<Vec<_>>());
    let ready = c.get(s.url("/readyz")).send().await.unwrap();
    assert!(ready.status().is_success());
}
