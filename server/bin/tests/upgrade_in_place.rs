//! Upgrade in place: a data directory written by a single-node release (its metadata in the
//! command log `meta/`, built at commit e265a91 and kept under `fixtures/`) starts on this
//! release with nothing lost — tenants, keys (revoked ones stay revoked), quotas, topics,
//! records and committed offsets — its metadata moved into the node's one-voter quorum. It
//! also does so when the node starts as the first node of a cluster, and a node run alone
//! becomes the first node of a cluster the same way; a data directory of another node is
//! refused with a clear message, and nothing changes.

mod cluster_support;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cluster_support::{bearer_client, free_port, node_config, refused_start};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use common::Server;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/single-node-e265a91"
);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

async fn get(c: &Client, s: &Server, path: &str) -> Value {
    let r = c.get(s.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.json().await.unwrap()
}

/// `(partition, offset, key, value)` of every record of acme's `orders`.
async fn orders(c: &Client, s: &Server) -> Vec<(i64, i64, String, String)> {
    let mut out = Vec::new();
    for p in 0..3 {
        let body = get(
            c,
            s,
            &format!("/v1/tenants/acme/topics/orders/partitions/{p}/records?max_records=1000"),
        )
        .await;
        for r in body["records"].as_array().unwrap() {
            out.push((
                p,
                r["offset"].as_i64().unwrap(),
                r["key"].as_str().unwrap().to_owned(),
                r["value"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// Everything the fixture holds, as a client of the upgraded node sees it.
async fn check_everything_is_there(admin: &Client, acme: &Client, s: &Server) {
    let tenants = get(admin, s, "/v1/admin/tenants").await;
    let mut names: Vec<&str> = tenants["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["acme", "default"]);

    let quotas = get(admin, s, "/v1/tenants/acme/quotas").await;
    assert_eq!(quotas["topics"], 10);
    assert_eq!(quotas["produce_bytes_per_sec"], 50_000_000);

    let keys = get(admin, s, "/v1/tenants/acme/keys").await;
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let old = keys.iter().find(|k| k["name"] == "old").unwrap();
    assert!(
        !old["revoked_at"].is_null(),
        "a revoked key stays revoked: {old}"
    );

    let topics = get(acme, s, "/v1/tenants/acme/topics").await;
    let topics = topics["topics"].as_array().unwrap();
    assert!(
        topics.iter().all(|t| t["name"] != "gone"),
        "the deleted topic stays deleted: {topics:?}"
    );
    let listed = topics.iter().find(|t| t["name"] == "orders").unwrap();
    assert_eq!(listed["partitions"], 3);

    let mut records = orders(acme, s).await;
    // What the node took after the upgrade is checked by the caller.
    records.retain(|r| r.3.starts_with("order-"));
    let mut values: Vec<&str> = records.iter().map(|r| r.3.as_str()).collect();
    values.sort_unstable();
    let mut want: Vec<String> = (0..100).map(|i| format!("order-{i}")).collect();
    want.sort_unstable();
    assert_eq!(values, want, "every record, once");
    for (p, _, key, value) in &records {
        let n: usize = value["order-".len()..].parse().unwrap();
        assert_eq!(key, &format!("k{}", n % 25 % 7), "{value} kept its key");
        let same_key = records.iter().filter(|r| &r.2 == key);
        assert!(
            same_key.clone().all(|r| r.0 == *p),
            "a key stays in its partition"
        );
    }

    let events = get(
        admin,
        s,
        "/v1/tenants/default/topics/events/partitions/0/records",
    )
    .await;
    let events: Vec<&str> = events["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["e0", "e1"]);

    let committed = get(acme, s, "/v1/tenants/acme/groups/billing/offsets").await;
    let committed = committed["offsets"].as_array().unwrap();
    let at = |p: i64| {
        committed
            .iter()
            .find(|o| o["topic"] == "orders" && o["partition"] == p)
            .unwrap_or_else(|| panic!("partition {p} committed: {committed:?}"))
    };
    assert_eq!(at(0)["offset"], 5);
    assert_eq!(at(0)["metadata"], "m0");
    assert_eq!(at(2)["offset"], 3);
}

/// The fixture's data directory, copied into `dir` (the upgrade changes it).
fn fixture_in(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    copy_dir(&Path::new(FIXTURE).join("data"), &data);
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    data
}

/// A client of tenant acme, with the key the fixture's node made for it.
fn acme_client() -> Client {
    let acme_key = std::fs::read_to_string(Path::new(FIXTURE).join("acme.key")).unwrap();
    bearer_client(acme_key.trim())
}

/// A `[cluster]` file for node `id`, listening for nodes on `port`, with these voters.
fn cluster_config(dir: &Path, id: u64, port: u16, voters: &[(u64, u16)]) -> PathBuf {
    node_config(dir, id, port, voters, "")
}

#[tokio::test]
async fn a_single_node_data_directory_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture_in(dir.path());

    let s = Server::start_in(&data, &[]);
    let (admin, acme) = (s.client(Duration::from_secs(30)), acme_client());
    check_everything_is_there(&admin, &acme, &s).await;
    assert!(
        !data.join("meta").exists(),
        "the command log was moved aside"
    );
    assert!(data.join("meta.imported").is_dir(), "and kept");
    assert!(data.join("raft").is_dir(), "the metadata is in the quorum");

    // The node goes on: a new topic takes an id never used (not the deleted topic's), and
    // records continue at the partitions' next offsets.
    let r = acme
        .post(s.url("/v1/tenants/acme/topics"))
        .json(&json!({"name": "invoices", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(data.join("topics/3").is_dir(), "topic ids 0..=2 were used");
    let before = orders(&acme, &s).await;
    let r = acme
        .post(s.url("/v1/tenants/acme/topics/orders/records"))
        .json(&json!({"records": [{"key": "k0", "value": "after"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let at: Value = r.json().await.unwrap();
    let p = at["results"][0]["partition"].as_i64().unwrap();
    let next = before.iter().filter(|r| r.0 == p).count();
    assert_eq!(at["results"][0]["offset"].as_i64().unwrap(), next as i64);
    let (status, _) = tokio::task::spawn_blocking(move || s.stop()).await.unwrap();
    assert!(status.success());

    // A restart finds everything in the quorum and imports nothing again.
    let s = Server::start_in(&data, &[]);
    let (admin, acme) = (s.client(Duration::from_secs(30)), acme_client());
    check_everything_is_there(&admin, &acme, &s).await;
    assert_eq!(orders(&acme, &s).await.len(), 101);
    let topics = get(&acme, &s, "/v1/tenants/acme/topics").await;
    assert_eq!(
        topics["topics"].as_array().unwrap().len(),
        2,
        "orders and invoices"
    );
    let (status, _) = tokio::task::spawn_blocking(move || s.stop()).await.unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_data_directory_is_upgraded_into_the_first_node_of_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture_in(dir.path());
    let port = free_port();
    let config = cluster_config(dir.path(), 1, port, &[(1, port)]);
    let s = Server::start_in(&data, &["--config", config.to_str().unwrap()]);
    let (admin, acme) = (s.client(Duration::from_secs(30)), acme_client());
    check_everything_is_there(&admin, &acme, &s).await;
    assert!(data.join("meta.imported").is_dir());
    let view = get(&admin, &s, "/v1/cluster").await;
    assert_eq!(view["mode"], "raft", "{view}");
    assert_eq!(view["voters"], json!([1]), "{view}");
    // Once registered, it claims the coordination of the groups whose offsets it kept, so
    // nodes added later do not take them over empty.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let view = get(&admin, &s, "/v1/cluster").await;
        if view["nodes"][0]["coordinator_shards"].as_u64() >= Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = tokio::task::spawn_blocking(move || s.stop()).await.unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_run_alone_becomes_the_first_node_of_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let alone = Server::start_in(&data, &["--auth", "none"]);
    let c = Client::new();
    let r = c
        .post(alone.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "kept", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .post(alone.url("/v1/tenants/default/topics/kept/records"))
        .json(&json!({"records": [{"value": "a"}, {"value": "b"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _) = tokio::task::spawn_blocking(move || alone.stop())
        .await
        .unwrap();
    assert!(status.success());

    // Another node's id, or founding a three-voter cluster with it, is refused as it is.
    let (port, other) = (free_port(), free_port());
    let stderr = refused_start(&data, &cluster_config(dir.path(), 2, port, &[(2, port)]));
    assert!(stderr.contains("belongs to another node"), "{stderr}");
    let three = [(1, port), (2, other), (3, free_port())];
    let stderr = refused_start(&data, &cluster_config(dir.path(), 1, port, &three));
    assert!(stderr.contains("a node run alone"), "{stderr}");
    assert!(
        stderr.contains(&format!("[\"1@127.0.0.1:{port}\"]")),
        "{stderr}"
    );

    // As the only initial voter it keeps its metadata and records, and now has an address
    // other nodes can reach it at.
    let config = cluster_config(dir.path(), 1, port, &[(1, port)]);
    let node = Server::start_in(
        &data,
        &["--auth", "none", "--config", config.to_str().unwrap()],
    );
    let view: Value = c
        .get(node.url("/v1/cluster"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["mode"], "raft", "{view}");
    assert_eq!(view["voters"], json!([1]), "{view}");
    let records: Value = c
        .get(node.url("/v1/tenants/default/topics/kept/partitions/0/records"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let values: Vec<&str> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["a", "b"]);
    let r = c
        .post(node.url("/v1/tenants/default/topics"))
        .json(&json!({"name": "more", "partitions": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (status, _) = tokio::task::spawn_blocking(move || node.stop())
        .await
        .unwrap();
    assert!(status.success());
}
