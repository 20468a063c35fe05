//! Partitions placed across three `weir serve` processes, any node serving any request: a
//! topic's partitions are led evenly by the nodes (every node says the same), records
//! produced over REST to one node are fetched from every other, byte for byte, gRPC produce
//! and consume through the CLI work against nodes that lead none of the partitions asked for,
//! and a partition whose only node is gone is reported offline while the others go on.

mod cli_support;
mod cluster_support;

use std::collections::BTreeMap;
use std::time::Duration;

use cli_support::ANONYMOUS;
use cluster_support::{free_port, liveness_is, start_open as start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_testkit::Server;

const PARTITIONS: u64 = 6;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn get(node: &Server, path: &str) -> (StatusCode, Value) {
    let r = client().get(node.url(path)).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Each partition's leader, as `node` describes the topic.
async fn leaders(node: &Server) -> Vec<u64> {
    let (status, topic) = get(node, "/v1/tenants/default/topics/orders").await;
    assert_eq!(status, StatusCode::OK, "{topic}");
    topic["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["leader"].as_u64().unwrap())
        .collect()
}

/// Every record of partition `p` as `node` serves it: (offset, key, value).
async fn records(node: &Server, p: u64) -> Vec<(i64, String, String)> {
    let path = format!("/v1/tenants/default/topics/orders/partitions/{p}/records?max_records=1000");
    let (status, body) = get(node, &path).await;
    assert_eq!(status, StatusCode::OK, "{} p{p}: {body}", node.http);
    body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["offset"].as_i64().unwrap(),
                r["key"].as_str().unwrap().to_owned(),
                r["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `node`'s Prometheus metrics.
async fn scrape(node: &Server) -> String {
    let r = client().get(node.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// The value of the sample named `name` (with its labels, as printed).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Node `id` of `nodes` (still running).
fn node(nodes: &[Option<Server>], id: u64) -> &Server {
    nodes[usize::try_from(id - 1).unwrap()].as_ref().unwrap()
}

async fn produce(node: &Server, records: Value) -> (StatusCode, Value) {
    let r = client()
        .post(node.url("/v1/tenants/default/topics/orders/records"))
        .json(&json!({ "records": records }))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_serves_any_partition() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Option<Server>> = (1..=3)
        .map(|id| Some(start(dir.path(), id, &ports)))
        .collect();
    liveness_is(&client(), node(&nodes, 1), &[1, 2, 3], "live").await;

    // Created on any node, the partitions are led evenly, and every node says so.
    let r = client()
        .post(node(&nodes, 2).url("/v1/tenants/default/topics"))
        .json(&json!({"name": "orders", "partitions": PARTITIONS}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let placed = leaders(node(&nodes, 1)).await;
    let mut per_node: BTreeMap<u64, usize> = BTreeMap::new();
    for l in &placed {
        *per_node.entry(*l).or_default() += 1;
    }
    assert_eq!(
        per_node,
        BTreeMap::from([(1, 2), (2, 2), (3, 2)]),
        "{placed:?}"
    );
    for id in [2, 3] {
        assert_eq!(leaders(node(&nodes, id)).await, placed);
    }

    // Produced over REST to node 1 (which leads a third of them), fetched from every node.
    let batch: Vec<Value> = (0..60)
        .map(|i| json!({"key": format!("k{i}"), "value": format!("v{i}")}))
        .collect();
    let (status, answer) = produce(node(&nodes, 1), json!(batch)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["offset"].is_i64()), "{answer}");
    let mut everything = Vec::new();
    for p in 0..PARTITIONS {
        let from_1 = records(node(&nodes, 1), p).await;
        for id in [2, 3] {
            assert_eq!(records(node(&nodes, id), p).await, from_1, "partition {p}");
        }
        let offsets: Vec<i64> = from_1.iter().map(|r| r.0).collect();
        assert_eq!(
            offsets,
            (0..i64::try_from(offsets.len()).unwrap()).collect::<Vec<_>>()
        );
        everything.extend(from_1.into_iter().map(|r| (r.1, r.2)));
    }
    everything.sort();
    let mut want: Vec<(String, String)> = (0..60)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    want.sort();
    assert_eq!(everything, want, "every record once");
    let (_, described) = get(node(&nodes, 3), "/v1/tenants/default/topics/orders").await;
    let stored: i64 = described["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["high_watermark"].as_i64().unwrap())
        .sum();
    assert_eq!(stored, 60, "{described}");

    // Metrics show the forwarding, the partitions hosted and the nodes' liveness.
    let metrics = scrape(node(&nodes, 1)).await;
    assert!(
        metric(&metrics, "weir_forwarded_requests_total") > 0.0,
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "weir_cluster_partitions_hosted"), 2.0);
    assert_eq!(
        metric(&metrics, "weir_cluster_nodes{liveness=\"live\"}"),
        3.0
    );
    assert_eq!(metric(&metrics, "weir_cluster_offline_partitions"), 0.0);

    // gRPC: the CLI produces through node 2 and consumes through node 3.
    let lines = "x1:a\nx2:b\nx3:c\nx4:d\nx5:e\nx6:f\n";
    let grpc2 = node(&nodes, 2).grpc.clone();
    let produced = ANONYMOUS.ok(
        &["produce", "orders", "--key-separator", ":", "--url", &grpc2],
        lines,
    );
    assert!(
        produced.stderr.contains("produced 6 records"),
        "{}",
        produced.stderr
    );
    let grpc3 = node(&nodes, 3).grpc.clone();
    let consumed = ANONYMOUS
        .ok(
            &["consume", "orders", "--from-beginning", "--url", &grpc3],
            "",
        )
        .json_lines();
    assert_eq!(consumed.len(), 66);
    // FetchStream (what the SDK consumers and `weir bench` read with), through node 1.
    let grpc1 = node(&nodes, 1).grpc.clone();
    let streamed = ANONYMOUS
        .ok(
            &[
                "bench", "consume", "--topic", "orders", "--url", &grpc1, "--json",
            ],
            "",
        )
        .stdout;
    let last: Value = serde_json::from_str(streamed.lines().last().unwrap()).unwrap();
    assert_eq!(last["records"], 66, "{streamed}");

    // A node gone (not the controller): once fenced, its partitions are offline, with the
    // error that says so; the others take records as before.
    let view = liveness_is(&client(), node(&nodes, 1), &[1, 2, 3], "live").await;
    let controller = view["controller"].as_u64().unwrap();
    let gone = (1..=3u64).rev().find(|&id| id != controller).unwrap();
    let asked = (1..=3u64).find(|&id| id != gone).unwrap();
    let status = nodes[usize::try_from(gone - 1).unwrap()]
        .take()
        .unwrap()
        .kill();
    assert!(!status.success());
    liveness_is(&client(), node(&nodes, asked), &[gone], "fenced").await;
    let offline = placed.iter().position(|&l| l == gone).unwrap();
    let online = placed.iter().position(|&l| l != gone).unwrap();
    let (status, problem) = produce(
        node(&nodes, asked),
        json!([{"value": "lost?", "partition": offline}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{problem}");
    let result = &problem["results"][0];
    assert_eq!(result["error"]["code"], "UNAVAILABLE", "{problem}");
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("offline"),
        "{problem}"
    );
    let (status, answer) = produce(
        node(&nodes, asked),
        json!([{"value": "kept", "partition": online}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["results"][0]["offset"].is_i64(), "{answer}");
    let metrics = scrape(node(&nodes, asked)).await;
    assert_eq!(metric(&metrics, "weir_cluster_offline_partitions"), 2.0);
    assert_eq!(
        metric(&metrics, "weir_cluster_nodes{liveness=\"fenced\"}"),
        1.0
    );

    for server in nodes.into_iter().flatten() {
        let (status, _) = tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
        assert!(status.success());
    }
}
