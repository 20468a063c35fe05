//! Three `weir serve` processes on loopback form one metadata quorum: a topic created on the
//! controller is listed by every node, the controller's kill -9 elects another that takes
//! changes within seconds, and a node that comes back catches up. Bad cluster settings stop
//! a node at start with a clear message.

mod cluster_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cluster_support::{WITHIN, free_port, node_config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_testkit::{Server, weir_bin};

/// Node `id`'s file, of three founding voters at `ports`.
fn write_config(dir: &Path, id: u64, ports: &[u16]) -> std::path::PathBuf {
    let voters: Vec<(u64, u16)> = (1..).zip(ports.iter().copied()).collect();
    node_config(
        dir,
        id,
        ports[usize::try_from(id - 1).unwrap()],
        &voters,
        "",
    )
}

fn start(data: &Path, config: &Path) -> Server {
    let config = config.to_str().unwrap();
    Server::start_in(data, &["--config", config, "--auth", "none"])
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Creates `topic` on `node`; the status it answered.
async fn create_on(node: &Server, topic: &str) -> StatusCode {
    client()
        .post(node.url("/v1/tenants/default/topics"))
        .json(&json!({"name": topic, "partitions": 2}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Creates `topic` on whichever node takes it first (any, once the quorum has a
/// controller); returns that node's index.
async fn create_anywhere(nodes: &[Option<Server>], topic: &str) -> usize {
    let c = client();
    let deadline = Instant::now() + WITHIN;
    loop {
        for (i, node) in nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let r = c
                .post(node.url("/v1/tenants/default/topics"))
                .json(&json!({"name": topic, "partitions": 2}))
                .send()
                .await;
            if let Ok(r) = r {
                match r.status() {
                    StatusCode::CREATED => return i,
                    // No controller yet, or `default` not created yet.
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::NOT_FOUND => {}
                    other => panic!("node {i}: {other}: {}", r.text().await.unwrap()),
                }
            }
        }
        assert!(Instant::now() < deadline, "no node took topic {topic}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `node` lists exactly `want`.
async fn lists(node: &Server, want: &[&str]) {
    let c = client();
    let deadline = Instant::now() + WITHIN;
    loop {
        let r = c.get(node.url("/v1/tenants/default/topics")).send().await;
        if let Ok(r) = r
            && r.status() == StatusCode::OK
        {
            let body: Value = r.json().await.unwrap();
            let mut names: Vec<String> = body["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            if names == want {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never listed {want:?}",
            node.http
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET /v1/cluster` of `node`, once it knows the controller and the three voters.
async fn cluster_view(node: &Server) -> Value {
    let c = client();
    let deadline = Instant::now() + WITHIN;
    loop {
        let view: Value = c
            .get(node.url("/v1/cluster"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // A node may hear of the controller (a vote) before the membership reaches it.
        let voters = view["voters"].as_array().map_or(0, Vec::len);
        if !view["controller"].is_null() && voters == 3 {
            return view;
        }
        assert!(Instant::now() < deadline, "{view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_reports_itself_as_its_own_controller() {
    let server = Server::start();
    let view: Value = server
        .client(Duration::from_secs(5))
        .get(server.url("/v1/cluster"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["mode"], "single", "{view}");
    assert_eq!(view["controller"], view["node_id"], "{view}");
    let (status, _) = server.stop();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_metadata_and_survive_the_controller() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Option<Server>> = Vec::new();
    let mut configs = Vec::new();
    for id in 1..=3 {
        let data = dir.path().join(format!("data{id}"));
        let config = write_config(dir.path(), id, &ports);
        nodes.push(Some(start(&data, &config)));
        configs.push((data, config));
    }

    // Every node names the same controller once the quorum has one.
    let controller = cluster_view(nodes[0].as_ref().unwrap()).await["controller"]
        .as_u64()
        .unwrap();
    for node in nodes.iter().flatten() {
        let view = cluster_view(node).await;
        assert_eq!(view["mode"], "raft", "{view}");
        assert_eq!(view["controller"], controller, "{view}");
        assert_eq!(view["voters"], json!([1, 2, 3]), "{view}");
    }
    // Tenant `default` exists everywhere once the first controller created it.
    for node in nodes.iter().flatten() {
        lists(node, &[]).await;
    }
    // A change sent to a node that is not the controller is forwarded to it (one hop) and
    // answered once that node holds it too.
    let follower = (0..3)
        .find(|&i| i + 1 != usize::try_from(controller).unwrap())
        .unwrap();
    let on_follower = nodes[follower].as_ref().unwrap();
    let c = client();
    let created = create_on(on_follower, "orders").await;
    assert_eq!(created, StatusCode::CREATED);
    let r = c
        .get(on_follower.url("/v1/tenants/default/topics/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the forwarding node answers after it applied"
    );
    for node in nodes.iter().flatten() {
        lists(node, &["orders"]).await;
    }
    // A refusal comes back with the controller's code.
    let again = c
        .post(on_follower.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "orders"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["code"], "TOPIC_ALREADY_EXISTS", "{problem}");

    // A follower killed and restarted with its last committed index lost (an unsynced file a
    // crash may lose) opens with its image still catching up: it must not take its topics
    // for deleted ones. Partitions are not replicated yet, so what it stored, it keeps.
    let produced = c
        .post(on_follower.url("/v1/tenants/default/topics/orders/records"))
        .json(&json!({"records": [{"partition": 1, "value": "kept"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(produced.status(), StatusCode::OK);
    let _ = nodes[follower].take().unwrap().kill();
    let (data, config) = &configs[follower];
    std::fs::remove_file(data.join("raft/log/committed")).unwrap();
    nodes[follower] = Some(start(data, config));
    let on_follower = nodes[follower].as_ref().unwrap();
    lists(on_follower, &["orders"]).await;
    let records: Value = c
        .get(on_follower.url("/v1/tenants/default/topics/orders/partitions/1/records?offset=0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(records["records"][0]["value"], "kept", "{records}");

    // kill -9 the controller: another node takes the next change.
    let killed_index = usize::try_from(controller).unwrap() - 1;
    let killed = nodes[killed_index].take().unwrap();
    let _ = killed.kill();
    let failed_over = Instant::now();
    create_anywhere(&nodes, "payments").await;
    assert!(
        failed_over.elapsed() < Duration::from_secs(20),
        "{:?}",
        failed_over.elapsed()
    );
    for node in nodes.iter().flatten() {
        let view = cluster_view(node).await;
        assert_ne!(view["controller"], controller, "{view}");
        lists(node, &["orders", "payments"]).await;
    }
    let controller = killed_index;

    // The killed node comes back and catches up.
    let (data, config) = &configs[controller];
    let back = start(data, config);
    lists(&back, &["orders", "payments"]).await;

    // A topic deleted through any node is gone everywhere, its data too.
    let deleted = client()
        .delete(back.url("/v1/tenants/default/topics/payments"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    lists(&back, &["orders"]).await;
    for node in nodes.iter().flatten() {
        lists(node, &["orders"]).await;
    }
    // `payments` was the second topic created: its directory is `topics/1` on the nodes
    // that host one of its partitions.
    for (data, _) in &configs {
        let deadline = Instant::now() + WITHIN;
        while data.join("topics/1").exists() {
            assert!(
                Instant::now() < deadline,
                "{} keeps a deleted topic",
                data.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (status, _) = back.stop();
    assert!(status.success());
    for node in nodes.into_iter().flatten() {
        let (status, _) = node.stop();
        assert!(status.success(), "{status}");
    }
}

#[test]
fn bad_cluster_settings_stop_the_node_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "node_id = 4\ninternal_addr = \"127.0.0.1:1\"\ninitial_voters = [\"1@127.0.0.1:1\"]\nsecret = \"0123456789abcdef\"",
            "not among cluster.initial_voters",
        ),
        (
            "node_id = 1\ninternal_addr = \"127.0.0.1:1\"\ninitial_voters = [\"1@127.0.0.1:1\", \"1@127.0.0.1:2\", \"3@127.0.0.1:3\"]\nsecret = \"0123456789abcdef\"",
            "appears twice",
        ),
        (
            "node_id = 1\ninternal_addr = \"127.0.0.1:1\"\ninitial_voters = [\"1@127.0.0.1:1\", \"2@127.0.0.1:2\"]\nsecret = \"0123456789abcdef\"",
            "1, 3 or 5 voters",
        ),
        (
            "node_id = 1\ninternal_addr = \"127.0.0.1:1\"\ninitial_voters = [\"1@127.0.0.1:1\"]\nsecret = \"short\"",
            "at least 16 bytes",
        ),
        (
            "node_id = 1\ninternal_addr = \"127.0.0.1:1\"\ninitial_voters = [\"1@127.0.0.1:2\"]\nsecret = \"0123456789abcdef\"",
            "but internal_addr is",
        ),
    ];
    for (i, (cluster, expected)) in cases.iter().enumerate() {
        let config = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&config, format!("[cluster]\n{cluster}\n")).unwrap();
        let data = dir.path().join(format!("data{i}"));
        let out = Command::new(weir_bin())
            .args([
                "serve",
                "--http-addr",
                "127.0.0.1:0",
                "--grpc-addr",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {i} started");
        assert!(stderr.contains(expected), "case {i}: {stderr}");
        assert!(!data.join("raft").exists(), "case {i} wrote a quorum");
    }
}
