//! Running several `weir serve` nodes from tests: their `[cluster]` files, ports, credentials
//! and the waits on what they report.
//!
//! Owns the helpers the cluster tests share (`common` runs one node). Must not guess at
//! timing: every wait has a deadline and reports what it saw last.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_testkit::{Server, weir_bin};

/// The cluster secret every test node shares.
pub const SECRET: &str = "a-cluster-secret-for-tests";
/// Longest any wait on a cluster takes (debug builds on a shared two-core machine).
pub const WITHIN: Duration = Duration::from_secs(60);

/// A free loopback port (bound, then released for a node to take).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Writes `<dir>/node<id>.toml`: node `id` listening for nodes on 127.0.0.1:`port`, founding
/// the cluster with `voters` (id, port), or joining one when there are none; `extra` lines
/// go into `[cluster]`.
pub fn node_config(dir: &Path, id: u64, port: u16, voters: &[(u64, u16)], extra: &str) -> PathBuf {
    // One file per node and voter count: a test may start a node both ways.
    let path = dir.join(format!("node{id}-{}.toml", voters.len()));
    let voters = if voters.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = voters
            .iter()
            .map(|(v, p)| format!("\"{v}@127.0.0.1:{p}\""))
            .collect();
        format!("initial_voters = [{}]\n", list.join(", "))
    };
    let toml = format!(
        "[cluster]\nnode_id = {id}\ninternal_addr = \"127.0.0.1:{port}\"\n{voters}secret = \"{SECRET}\"\n{extra}"
    );
    std::fs::write(&path, toml).unwrap();
    path
}

/// A client sending `token` as its bearer credential.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let value = format!("Bearer {token}").parse().unwrap();
    reqwest::Client::builder()
        .default_headers(
            [(reqwest::header::AUTHORIZATION, value)]
                .into_iter()
                .collect(),
        )
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The bootstrap admin key in `data`, once the node that founded the cluster wrote it.
pub async fn bootstrap_token(data: &Path) -> String {
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Ok(t) = std::fs::read_to_string(data.join("bootstrap-admin.token")) {
            return t.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no bootstrap token in {}",
            data.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /v1/cluster` of `node`.
pub async fn view(c: &reqwest::Client, node: &Server) -> Value {
    c.get(node.url("/v1/cluster"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until `node` reports each of `ids` as `liveness` and knows a controller; its view
/// then.
pub async fn liveness_is(c: &reqwest::Client, node: &Server, ids: &[u64], liveness: &str) -> Value {
    let deadline = Instant::now() + WITHIN;
    loop {
        let v = view(c, node).await;
        let all = ids.iter().all(|id| {
            v["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["node_id"] == *id && n["liveness"] == liveness)
        });
        if all && !v["controller"].is_null() {
            return v;
        }
        assert!(Instant::now() < deadline, "never {liveness}: {ids:?}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `weir serve` on `data` with `config`, which must refuse to start; its stderr.
pub fn refused_start(data: &Path, config: &Path) -> String {
    let out = Command::new(weir_bin())
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--grpc-addr",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(!out.status.success(), "started with {}", config.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Sends `sig` (`-STOP`, `-CONT`, ...) to `node`'s process.
pub fn signal(node: &Server, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Node `id` of founding voters at `ports` (ids 1, 2, ...), with quick heartbeats and auth
/// off, its data in `<dir>/data<id>`.
pub fn start_open(dir: &Path, id: u64, ports: &[u16]) -> Server {
    let voters: Vec<(u64, u16)> = (1..).zip(ports.iter().copied()).collect();
    let port = ports[usize::try_from(id - 1).unwrap()];
    let quick = "node_heartbeat_interval_ms = 100\nnode_session_timeout_ms = 1500\n";
    let config = node_config(dir, id, port, &voters, quick);
    let data = dir.join(format!("data{id}"));
    Server::start_in(
        &data,
        &["--auth", "none", "--config", config.to_str().unwrap()],
    )
}
