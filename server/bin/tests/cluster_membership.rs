//! Growing and shrinking a cluster: a node run alone becomes the first node of a cluster, two
//! started nodes join it (`weir cluster add-node` over gRPC, `POST /v1/cluster/nodes` sent to
//! a follower, which hands it to the controller), catch up with the metadata and vote; bad
//! changes are refused with a clear error and change nothing; nodes are removed down to the
//! last voter, which cannot be.

mod cli_support;
mod cluster_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cli_support::Cli;
use cluster_support::{
    WITHIN, bearer_client, bootstrap_token, free_port, liveness_is, node_config, signal, view,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_testkit::Server;

/// A `[cluster]` file for node `id` at `port`; `founder`: the only initial voter (else it
/// joins, naming none); `extra` lines go into `[cluster]`.
fn config(dir: &Path, id: u64, port: u16, founder: bool, extra: &str) -> PathBuf {
    let voters: &[(u64, u16)] = if founder { &[(id, port)] } else { &[] };
    node_config(dir, id, port, voters, extra)
}

fn start(dir: &Path, id: u64, config: &Path) -> Server {
    let data = dir.join(format!("data{id}"));
    Server::start_in(&data, &["--config", config.to_str().unwrap()])
}

/// Waits until `node` sees exactly `voters` and no learner.
async fn sees_voters(c: &reqwest::Client, node: &Server, voters: &[u64]) -> Value {
    let deadline = Instant::now() + WITHIN;
    loop {
        let v = view(c, node).await;
        let learners = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["role"] == "learner")
            .count();
        if v["voters"] == json!(voters) && learners == 0 && !v["controller"].is_null() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "never saw voters {voters:?}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `node` lists topic `name` in tenant `default`.
async fn has_topic(c: &reqwest::Client, node: &Server, name: &str) {
    let deadline = Instant::now() + WITHIN;
    let url = node.url(&format!("/v1/tenants/default/topics/{name}"));
    while c.get(&url).send().await.unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "{} never had {name}", node.http);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// POSTs `body` to `/v1/cluster/nodes` on `node`: the status and the answer.
async fn add(c: &reqwest::Client, node: &Server, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(node.url("/v1/cluster/nodes"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_join_a_running_cluster_and_leave_it() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let first = start(dir.path(), 1, &config(dir.path(), 1, ports[0], true, ""));
    // The founder writes the bootstrap admin key once it leads.
    let token = bootstrap_token(&first.data_dir).await;
    let c = bearer_client(&token);
    let admin = Cli::with_token(&token);
    sees_voters(&c, &first, &[1]).await;
    let r = c
        .post(first.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "before", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Started with no initial_voters, a node waits to be added; it serves no metadata yet.
    let second = start(dir.path(), 2, &config(dir.path(), 2, ports[1], false, ""));
    let third = start(dir.path(), 3, &config(dir.path(), 3, ports[2], false, ""));

    // The CLI adds node 2 over gRPC; it caught up (it has the topic) and votes.
    let addr2 = format!("127.0.0.1:{}", ports[1]);
    let out = admin.ok(
        &[
            "cluster",
            "add-node",
            "2",
            &addr2,
            "--url",
            &first.grpc,
            "--json",
        ],
        "",
    );
    let added = out.json();
    assert_eq!(added["voters"], json!([1, 2]), "{added}");
    let c2 = c.clone();
    // The admin key is in the replicated metadata: it works on every node.
    has_topic(&c2, &second, "before").await;
    sees_voters(&c2, &second, &[1, 2]).await;

    // Asked of a follower, the change goes to the controller.
    let addr3 = format!("127.0.0.1:{}", ports[2]);
    let follower = if view(&c2, &second).await["controller"] == 2 {
        &first
    } else {
        &second
    };
    let (status, body) = add(&c2, follower, json!({"node_id": 3, "internal_addr": addr3})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for node in [&first, &second, &third] {
        sees_voters(&c2, node, &[1, 2, 3]).await;
        has_topic(&c2, node, "before").await;
    }
    // A topic created on the newest node is on every node.
    let r = c2
        .post(third.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "after", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    for node in [&first, &second, &third] {
        has_topic(&c2, node, "after").await;
    }

    // Bad changes: each refused with a clear message, nothing changed.
    let bad = [
        (
            json!({"node_id": 2, "internal_addr": "127.0.0.1:1"}),
            StatusCode::CONFLICT,
            "already a member",
        ),
        (
            json!({"node_id": 9, "internal_addr": addr2.clone()}),
            StatusCode::CONFLICT,
            "internal address of node 2",
        ),
        (
            json!({"node_id": 0, "internal_addr": "127.0.0.1:1"}),
            StatusCode::BAD_REQUEST,
            "node ids are 1 to",
        ),
        (
            json!({"node_id": 9, "internal_addr": "not an address"}),
            StatusCode::BAD_REQUEST,
            "not an internal address",
        ),
    ];
    for (body, status, expected) in bad {
        let (got, problem) = add(&c2, &second, body.clone()).await;
        assert_eq!(got, status, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(expected),
            "{body}: {problem}"
        );
    }
    let r = c2
        .delete(second.url("/v1/cluster/nodes/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "NODE_NOT_FOUND", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("no node 7"),
        "{problem}"
    );
    // A caller without the admin scope may look, not change.
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .post(first.url("/v1/cluster/nodes"))
        .json(&json!({"node_id": 4, "internal_addr": "127.0.0.1:4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    sees_voters(&c2, &first, &[1, 2, 3]).await;

    // Removing nodes (the CLI, then REST) down to one voter; the last cannot go.
    let out = admin.ok(&["cluster", "remove-node", "3", "--url", &second.grpc], "");
    assert!(out.stdout.contains("controller: node"), "{}", out.stdout);
    sees_voters(&c2, &first, &[1, 2]).await;
    let r = c2
        .delete(first.url("/v1/cluster/nodes/2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    sees_voters(&c2, &first, &[1]).await;
    let r = c2
        .delete(first.url("/v1/cluster/nodes/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("last voter"),
        "{problem}"
    );
    let status = admin.ok(&["cluster", "status", "--url", &first.grpc, "--json"], "");
    assert_eq!(status.json()["voters"], json!([1]));

    // The remaining node still takes changes on its own.
    let r = c2
        .post(first.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "alone-again", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    for node in [third, second, first] {
        let (status, _) = tokio::task::spawn_blocking(move || node.stop())
            .await
            .unwrap();
        assert!(status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_run_alone_adds_no_nodes() {
    let node = Server::start();
    let c = node.client(Duration::from_secs(10));
    let (status, problem) = add(
        &c,
        &node,
        json!({"node_id": 2, "internal_addr": "127.0.0.1:1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("runs alone"),
        "{problem}"
    );
    let (status, _) = tokio::task::spawn_blocking(move || node.stop())
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_is_fenced_and_unfenced_when_heard_again() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let quick = "node_heartbeat_interval_ms = 100\nnode_session_timeout_ms = 1000\n";
    let racks = ["rack = \"a\"\n", "rack = \"b\"\n", ""];
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let i = usize::try_from(id - 1).unwrap();
        let extra = format!("{quick}{}", racks[i]);
        let path = config(dir.path(), id, ports[i], id == 1, &extra);
        nodes.push(start(dir.path(), id, &path));
    }
    let token = bootstrap_token(&nodes[0].data_dir).await;
    let c = bearer_client(&token);
    for id in [2u64, 3] {
        let i = usize::try_from(id - 1).unwrap();
        let body = json!({"node_id": id, "internal_addr": format!("127.0.0.1:{}", ports[i])});
        let (status, answer) = add(&c, &nodes[0], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    // Every node registered where clients reach it, with its rack.
    for (i, node) in nodes.iter().enumerate() {
        let id = u64::try_from(i + 1).unwrap();
        let v = liveness_is(&c, &nodes[0], &[id], "live").await;
        let seen = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node_id"] == id)
            .unwrap()
            .clone();
        assert_eq!(
            seen["http_addr"],
            node.http.trim_start_matches("http://"),
            "{seen}"
        );
        assert_eq!(
            seen["grpc_addr"],
            node.grpc.trim_start_matches("http://"),
            "{seen}"
        );
        let rack = ["a", "b"].get(i).map_or(Value::Null, |r| json!(r));
        assert_eq!(seen["rack"], rack, "{seen}");
    }
    // A token issued by one node is accepted by every node (each registered the keys that
    // verify its tokens); one signed by no node is not.
    let issued: Value = c
        .post(nodes[0].url("/v1/auth/token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = issued["access_token"].as_str().unwrap().to_owned();
    for node in &nodes[1..] {
        let r = reqwest::Client::new()
            .get(node.url("/v1/tenants/default/topics"))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let mut forged = jwt.clone();
        forged.pop();
        forged.push(if jwt.ends_with('A') { 'B' } else { 'A' });
        let r = reqwest::Client::new()
            .get(node.url("/v1/tenants/default/topics"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }

    // gRPC Metadata lists every live node.
    let metadata = Cli::with_token(&token).ok(
        &["cluster", "status", "--url", &nodes[1].grpc, "--json"],
        "",
    );
    assert_eq!(metadata.json()["nodes"].as_array().unwrap().len(), 3);

    // A paused node (not the controller) is fenced after its session timeout, and live
    // again once it is heard from.
    let controller = view(&c, &nodes[0]).await["controller"].as_u64().unwrap();
    let paused = (1..=3u64).find(|&id| id != controller).unwrap();
    let watcher = (1..=3u64).find(|&id| id != paused).unwrap();
    let at = |id: u64| &nodes[usize::try_from(id - 1).unwrap()];
    signal(at(paused), "-STOP");
    liveness_is(&c, at(watcher), &[paused], "fenced").await;
    signal(at(paused), "-CONT");
    liveness_is(&c, at(watcher), &[paused], "live").await;

    for node in nodes.into_iter().rev() {
        let (status, _) = tokio::task::spawn_blocking(move || node.stop())
            .await
            .unwrap();
        assert!(status.success());
    }
}
