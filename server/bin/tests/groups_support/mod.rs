//! REST side of the groups_* tests: a client with the server's admin credential and a timeout
//! on every call, topic setup and produce, a group member that remembers its id and epoch
//! between fetches, polling with a deadline, and problem+json checks.
//!
//! Must not start or stop servers (that is `common`) and must not assert on a scenario: each
//! test file says what it expects. Every wait has a deadline; nothing sleeps blindly.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use weir_testkit::Server;

/// Longest any one HTTP call may take (long polls included) before the test fails.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause between two polls of a condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// The tenant every fresh server has.
pub const TENANT: &str = "default";
/// User-Agent of the test client; a member without `client_id` shows it in describe.
pub const USER_AGENT: &str = "weir-groups-test/1";
/// Milliseconds since the epoch that test records start from (fixed, so runs compare).
pub const TIMESTAMP_BASE: i64 = 1_700_000_000_000;

/// (topic, partition) → committed offset.
pub type Offsets = BTreeMap<(String, u32), i64>;

/// A client that sends `server`'s bootstrap admin key with every request, and whose every
/// request times out after `CALL_TIMEOUT`. The key stays valid across restarts on the same data
/// directory.
pub fn client(server: &Server) -> Client {
    let bearer = HeaderValue::from_str(&server.bearer()).expect("header value");
    Client::builder()
        .default_headers(HeaderMap::from_iter([(AUTHORIZATION, bearer)]))
        .timeout(CALL_TIMEOUT)
        .user_agent(USER_AGENT)
        .build()
        .expect("http client")
}

/// `<base>/v1/tenants/default/groups/<group><suffix>`
pub fn group_url(base: &str, group: &str, suffix: &str) -> String {
    format!("{base}/v1/tenants/{TENANT}/groups/{group}{suffix}")
}

/// Creates a topic.
pub async fn create_topic(c: &Client, base: &str, name: &str, partitions: u32) {
    let r = c
        .post(format!("{base}/v1/tenants/{TENANT}/topics"))
        .json(&json!({"name": name, "partitions": partitions}))
        .send()
        .await
        .expect("create topic");
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

/// Produces `n` records to one partition: value `{"tag", "i"}`, timestamps
/// `TIMESTAMP_BASE + first + i`. Returns their offsets.
pub async fn produce(
    c: &Client,
    base: &str,
    topic: &str,
    partition: u32,
    n: usize,
    tag: &str,
) -> Vec<i64> {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "key": format!("{tag}-{i}"),
                "value": {"tag": tag, "i": i},
                "partition": partition,
                "timestamp": TIMESTAMP_BASE + i as i64,
            })
        })
        .collect();
    let r = c
        .post(format!("{base}/v1/tenants/{TENANT}/topics/{topic}/records"))
        .json(&json!({ "records": records }))
        .send()
        .await
        .expect("produce");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("produce response");
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["offset"].as_i64().expect("record stored"))
        .collect()
}

/// Asserts a problem+json response with this status and code; returns its body.
pub async fn expect_problem(r: Response, status: StatusCode, code: &str) -> Value {
    let got = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body: Value = r.json().await.expect("problem body");
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(ct.as_deref(), Some("application/problem+json"));
    body
}

/// GET the group description (must succeed).
pub async fn describe(c: &Client, base: &str, group: &str) -> Value {
    let r = c
        .get(group_url(base, group, ""))
        .send()
        .await
        .expect("describe");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json().await.expect("description")
}

/// GET the committed offsets (must succeed).
pub async fn committed(c: &Client, base: &str, group: &str) -> Offsets {
    let r = c
        .get(group_url(base, group, "/offsets"))
        .send()
        .await
        .expect("committed offsets");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("offsets");
    body["offsets"]
        .as_array()
        .expect("offsets array")
        .iter()
        .map(|o| {
            let key = (str_of(&o["topic"]), o["partition"].as_u64().unwrap() as u32);
            (key, o["offset"].as_i64().unwrap())
        })
        .collect()
}

/// POST offsets as a member (`Some((id, epoch))`) or as an admin of an empty group.
pub async fn commit(
    c: &Client,
    base: &str,
    group: &str,
    member: Option<(&str, i32)>,
    offsets: &[(&str, u32, i64)],
) -> Response {
    let offsets: Vec<Value> = offsets
        .iter()
        .map(|(t, p, o)| json!({"topic": t, "partition": p, "offset": o}))
        .collect();
    let mut body = json!({ "offsets": offsets });
    if let Some((id, epoch)) = member {
        body["member_id"] = json!(id);
        body["member_epoch"] = json!(epoch);
    }
    c.post(group_url(base, group, "/offsets"))
        .json(&body)
        .send()
        .await
        .expect("commit")
}

/// DELETE a member (leave).
pub async fn leave(c: &Client, base: &str, group: &str, member_id: &str) -> Response {
    c.delete(group_url(base, group, &format!("/members/{member_id}")))
        .send()
        .await
        .expect("leave")
}

/// Polls `check` until it returns `Some`, failing the test after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().expect("a string").to_owned()
}

/// A record a member received: topic, partition, offset and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Got {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: i64,
    /// The JSON value.
    pub value: String,
}

/// A stateless HTTP group member: it remembers its id, epoch and assignment between fetches.
#[derive(Debug, Clone)]
pub struct Member {
    c: Client,
    url: String,
    topics: Vec<String>,
    /// Fields sent with every fetch (session timeout, reset policy, client id, ...).
    pub settings: Value,
    /// Id, once joined.
    pub id: Option<String>,
    /// Epoch of the last response.
    pub epoch: Option<i32>,
    /// Partitions owned according to the last response.
    pub assignment: BTreeSet<(String, u32)>,
}

impl Member {
    /// A member-to-be of `group` on `server`, consuming `topics`, with its own client (sending
    /// the server's admin key); `settings` is merged into every fetch.
    pub fn new(server: &Server, group: &str, topics: &[&str], settings: Value) -> Member {
        Member {
            c: client(server),
            url: group_url(&server.http, group, ""),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            settings,
            id: None,
            epoch: None,
            assignment: BTreeSet::new(),
        }
    }

    /// `(member_id, member_epoch)` for commits.
    pub fn ident(&self) -> (&str, i32) {
        (
            self.id.as_deref().expect("joined"),
            self.epoch.expect("joined"),
        )
    }

    /// One fetch (join or heartbeat). On success updates id, epoch and assignment; on failure
    /// returns the status and problem body and changes nothing.
    pub async fn try_fetch(
        &mut self,
        wait_ms: u64,
        max_records: usize,
    ) -> Result<Vec<Got>, (StatusCode, Value)> {
        let mut body = self.settings.clone();
        body["topics"] = json!(self.topics);
        body["wait_ms"] = json!(wait_ms);
        body["max_records"] = json!(max_records);
        if let (Some(id), Some(epoch)) = (&self.id, self.epoch) {
            body["member_id"] = json!(id);
            body["member_epoch"] = json!(epoch);
        }
        let r = self
            .c
            .post(format!("{}/fetch", self.url))
            .json(&body)
            .send()
            .await
            .expect("group fetch");
        let status = r.status();
        let body: Value = r.json().await.expect("group fetch body");
        if status != StatusCode::OK {
            return Err((status, body));
        }
        self.id = Some(str_of(&body["member_id"]));
        self.epoch = Some(body["member_epoch"].as_i64().unwrap() as i32);
        self.assignment = assignment_of(&body["assignment"]);
        Ok(body["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| Got {
                topic: str_of(&r["topic"]),
                partition: r["partition"].as_u64().unwrap() as u32,
                offset: r["offset"].as_i64().unwrap(),
                value: r["value"].to_string(),
            })
            .collect())
    }

    /// A fetch that must succeed.
    pub async fn fetch(&mut self, wait_ms: u64, max_records: usize) -> Vec<Got> {
        self.try_fetch(wait_ms, max_records)
            .await
            .unwrap_or_else(|(status, body)| panic!("group fetch failed: {status} {body}"))
    }

    /// Commits, per partition, the offset after the last of `records`; must succeed.
    pub async fn commit_after(&self, base: &str, group: &str, records: &[Got]) {
        let mut next: BTreeMap<(&str, u32), i64> = BTreeMap::new();
        for r in records {
            let e = next.entry((r.topic.as_str(), r.partition)).or_default();
            *e = (*e).max(r.offset + 1);
        }
        if next.is_empty() {
            return;
        }
        let offsets: Vec<(&str, u32, i64)> = next.iter().map(|(&(t, p), &o)| (t, p, o)).collect();
        let r = commit(&self.c, base, group, Some(self.ident()), &offsets).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    }
}

/// `[{"topic", "partitions": [..]}]` as a set of (topic, partition).
pub fn assignment_of(v: &Value) -> BTreeSet<(String, u32)> {
    v.as_array()
        .expect("assignment array")
        .iter()
        .flat_map(|tp| {
            let topic = str_of(&tp["topic"]);
            tp["partitions"]
                .as_array()
                .expect("partitions")
                .iter()
                .map(move |p| (topic.clone(), p.as_u64().unwrap() as u32))
        })
        .collect()
}
