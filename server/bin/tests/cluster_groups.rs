//! Consumer groups across three `weir serve` processes: each group has one coordinator in the
//! cluster, whichever node its members and admins talk to. Two members joining through
//! different nodes split the partitions between them and read every record once; a commit
//! made through a third node is what every node describes; every node lists the same groups;
//! coordination spreads over the nodes as groups are used; deleting a topic forgets its
//! offsets on every coordinator; and a group whose coordinator is down answers UNAVAILABLE
//! on the nodes still up, while the groups coordinated elsewhere go on.

mod cluster_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use cluster_support::{WITHIN, free_port, liveness_is, start_open, view};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_testkit::Server;

const PARTITIONS: u64 = 6;
const RECORDS: usize = 120;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn group_url(node: &Server, group: &str, suffix: &str) -> String {
    node.url(&format!("/v1/tenants/default/groups/{group}{suffix}"))
}

async fn post(url: String, body: Value) -> (StatusCode, Value) {
    let r = client().post(url).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(url: String) -> (StatusCode, Value) {
    let r = client().get(url).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn create_topic(node: &Server, name: &str, partitions: u64) {
    let (status, body) = post(
        node.url("/v1/tenants/default/topics"),
        json!({"name": name, "partitions": partitions}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A REST group member, remembering its id and epoch between fetches.
struct Member {
    id: Option<String>,
    epoch: Option<i64>,
    assignment: BTreeSet<u64>,
}

impl Member {
    fn new() -> Member {
        Member {
            id: None,
            epoch: None,
            assignment: BTreeSet::new(),
        }
    }

    /// One group fetch of `orders` through `node`: (partition, offset, value) of each record.
    async fn fetch(&mut self, node: &Server, group: &str) -> Vec<(u64, i64, String)> {
        let mut body = json!({"topics": ["orders"], "wait_ms": 200, "max_records": 1000,
                              "auto_offset_reset": "earliest"});
        if let (Some(id), Some(epoch)) = (&self.id, self.epoch) {
            body["member_id"] = json!(id);
            body["member_epoch"] = json!(epoch);
        }
        let (status, body) = post(group_url(node, group, "/fetch"), body).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "fetch through {}: {body}",
            node.http
        );
        self.id = Some(body["member_id"].as_str().unwrap().to_owned());
        self.epoch = body["member_epoch"].as_i64();
        self.assignment = body["assignment"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["partitions"].as_array().unwrap().clone())
            .map(|p| p.as_u64().unwrap())
            .collect();
        body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["partition"].as_u64().unwrap(),
                    r["offset"].as_i64().unwrap(),
                    r["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// Commits `offsets` (partition → next offset) of `orders` for `group` through `node`,
/// as `member` when given.
async fn commit(
    node: &Server,
    group: &str,
    topic: &str,
    member: Option<&Member>,
    offsets: &BTreeMap<u64, i64>,
) -> (StatusCode, Value) {
    let offsets: Vec<Value> = offsets
        .iter()
        .map(|(p, o)| json!({"topic": topic, "partition": p, "offset": o}))
        .collect();
    let mut body = json!({ "offsets": offsets });
    if let Some(m) = member {
        body["member_id"] = json!(m.id);
        body["member_epoch"] = json!(m.epoch);
    }
    post(group_url(node, group, "/offsets"), body).await
}

/// The group as `node` describes it, with the partitions in a stable order.
async fn describe(node: &Server, group: &str) -> (StatusCode, Value) {
    get(group_url(node, group, "")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_group_has_one_coordinator_whichever_node_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Option<Server>> = (1..=3)
        .map(|id| Some(start_open(dir.path(), id, &ports)))
        .collect();
    let (n1, n2, n3) = (node(&nodes, 1), node(&nodes, 2), node(&nodes, 3));
    liveness_is(&client(), n1, &[1, 2, 3], "live").await;
    create_topic(n1, "orders", PARTITIONS).await;
    let records: Vec<Value> = (0..RECORDS)
        .map(|i| json!({"key": format!("k{i}"), "value": format!("v{i}")}))
        .collect();
    let (status, body) = post(
        n2.url("/v1/tenants/default/topics/orders/records"),
        json!({ "records": records }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Every node lists the topic with all its records, asking each other node once for the
    // offsets of the partitions it leads.
    for n in [n1, n2, n3] {
        let (status, list) = get(n.url("/v1/tenants/default/topics")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["topics"][0]["name"], "orders", "{list}");
        assert_eq!(list["topics"][0]["records"], RECORDS, "{list}");
    }

    // Two members, one through node 1 and one through node 3, share the partitions and,
    // committing through node 2 after each fetch, read every record once between them.
    let (mut a, mut b) = (Member::new(), Member::new());
    let mut read: BTreeMap<(u64, i64), String> = BTreeMap::new();
    let mut committed: BTreeMap<u64, i64> = BTreeMap::new();
    let deadline = Instant::now() + WITHIN;
    loop {
        for (m, via) in [(&mut a, n1), (&mut b, n3)] {
            let mut next = BTreeMap::new();
            for (p, o, v) in m.fetch(via, "billing").await {
                next.insert(p, o + 1);
                assert!(read.insert((p, o), v).is_none(), "p{p}@{o} read twice");
            }
            if !next.is_empty() {
                let (status, body) = commit(n2, "billing", "orders", Some(m), &next).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
                committed.extend(next);
            }
        }
        let split = a.assignment.is_disjoint(&b.assignment)
            && a.assignment.len() + b.assignment.len() == PARTITIONS as usize
            && !a.assignment.is_empty()
            && !b.assignment.is_empty();
        if split && read.len() == RECORDS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a owns {:?}, b owns {:?}, {} of {RECORDS} records read",
            a.assignment,
            b.assignment,
            read.len()
        );
    }
    let values: BTreeSet<&String> = read.values().collect();
    assert_eq!(values.len(), RECORDS, "every record, each once");

    // Every node describes the group alike: two members, the coordinator, the commits.
    let (_, first) = describe(n1, "billing").await;
    let coordinator = first["coordinator"].as_u64().expect("a coordinator");
    assert!((1..=3).contains(&coordinator), "{first}");
    for n in [n1, n2, n3] {
        let (status, d) = describe(n, "billing").await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["members"].as_array().unwrap().len(), 2, "{d}");
        assert_eq!(d["coordinator"], first["coordinator"], "{d}");
        let described: BTreeMap<u64, i64> = d["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| Some((p["partition"].as_u64()?, p["committed_offset"].as_i64()?)))
            .collect();
        assert_eq!(described, committed, "as node {} describes it", n.http);
        let (status, list) = get(n.url("/v1/tenants/default/groups")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert!(list.to_string().contains("\"billing\""), "{list}");
    }

    // Groups used through one node are coordinated by all three, spread by shard.
    let mut coordinators = BTreeMap::new();
    for i in 0..24 {
        let group = format!("g{i}");
        let (status, body) = commit(n1, &group, "orders", None, &BTreeMap::from([(0, 1)])).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, d) = describe(n2, &group).await;
        coordinators.insert(group, d["coordinator"].as_u64().unwrap());
    }
    let used: BTreeSet<u64> = coordinators.values().copied().collect();
    assert_eq!(used, BTreeSet::from([1, 2, 3]), "{coordinators:?}");
    let cluster = view(&client(), n3).await;
    let shards: u64 = cluster["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["coordinator_shards"].as_u64().unwrap())
        .sum();
    assert!(shards >= 3, "{cluster}");

    // Deleting a topic forgets its offsets in every group, on every coordinator.
    create_topic(n1, "scratch", 1).await;
    for group in coordinators.keys() {
        let (status, body) = commit(n2, group, "scratch", None, &BTreeMap::from([(0, 0)])).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let r = client()
        .delete(n3.url("/v1/tenants/default/topics/scratch"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Each coordinator forgets them when the deletion reaches its metadata (milliseconds
    // after the node that deleted the topic answered).
    let deadline = Instant::now() + WITHIN;
    for group in coordinators.keys() {
        loop {
            let (_, d) = describe(n1, group).await;
            if !d.to_string().contains("scratch") {
                break;
            }
            assert!(Instant::now() < deadline, "{group}: {d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // With one coordinator down, its groups answer UNAVAILABLE on the other nodes, and the
    // groups the others coordinate go on.
    let down = coordinators["g0"];
    let up = (1..=3).find(|n| *n != down).unwrap();
    let other = coordinators
        .iter()
        .find(|(_, c)| **c != down)
        .map(|(g, _)| g.clone())
        .unwrap();
    let status = nodes[usize::try_from(down - 1).unwrap()]
        .take()
        .unwrap()
        .kill();
    assert!(!status.success());
    let asked = node(&nodes, up);
    liveness_is(&client(), asked, &[down], "fenced").await;
    let (status, problem) = describe(asked, "g0").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "UNAVAILABLE", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("coordinat"),
        "{problem}"
    );
    let (status, d) = describe(asked, &other).await;
    assert_eq!(status, StatusCode::OK, "{d}");
}

/// Node `id` of `nodes` (still running).
fn node(nodes: &[Option<Server>], id: u64) -> &Server {
    nodes[usize::try_from(id - 1).unwrap()].as_ref().unwrap()
}
