//! Consumer-group rebalancing against the real binary, with stateless HTTP members that loop
//! on the group fetch: members join one by one until there are more members than partitions,
//! one leaves, one dies. At every response any member gets, no partition is owned by two
//! members (each member's latest assignment is tracked and checked against the others'); after
//! each change the assignment settles balanced (±1), and a departed member's partitions move
//! to the others within the session timeout. Records flow all along and members long-poll,
//! so a handover that does not wait for the old owner to hear of it shows up as an overlap.

mod common;
mod groups_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use groups_support::{Member, USER_AGENT, client, describe, eventually, leave};
use reqwest::StatusCode;
use serde_json::json;
use tokio::task::JoinHandle;

const TOPIC: &str = "events";
const GROUP: &str = "workers";
const PARTITIONS: u32 = 6;
/// One more member than partitions: one must stay idle.
const MEMBERS: usize = 7;
/// The group default set in the server's config; members ask for none.
const SESSION_TIMEOUT: Duration = Duration::from_millis(3_000);
/// Each fetch long-polls up to this long. Long on purpose: a member must hear about a
/// revocation at once, not at the end of its poll, and must not lose a partition it has not
/// been told about while its poll is still open.
const WAIT_MS: u64 = 1_000;
/// Records flow to every partition all along, so owners return from their polls with
/// records while others rebalance.
const PRODUCE_INTERVAL: Duration = Duration::from_millis(20);
/// How long a join or a leave may take to settle: well within one session timeout.
const SETTLE_LIMIT: Duration = SESSION_TIMEOUT;
/// How long a dead member's partitions may take to move: its session timeout, plus slack for
/// the next heartbeat on a loaded machine.
const EXPIRY_LIMIT: Duration = Duration::from_millis(3_000 + 4_000);

/// Every member's latest assignment, as its own responses said, and what went wrong.
#[derive(Debug, Default)]
struct Tracker {
    owned: BTreeMap<usize, BTreeSet<u32>>,
    violations: Vec<String>,
    responses: usize,
}

impl Tracker {
    /// Records a member's new assignment, checking it against everyone else's.
    fn update(&mut self, who: usize, now: BTreeSet<u32>) {
        for (other, theirs) in &self.owned {
            let shared: Vec<&u32> = theirs.intersection(&now).collect();
            if *other != who && !shared.is_empty() {
                self.violations.push(format!(
                    "members {who} and {other} both own partitions {shared:?}"
                ));
            }
        }
        self.owned.insert(who, now);
        self.responses += 1;
    }

    /// Every partition owned once, by the given members only, balanced to within one.
    fn settled(&self, live: &BTreeSet<usize>) -> bool {
        let counts: Vec<usize> = live
            .iter()
            .filter_map(|i| self.owned.get(i).map(BTreeSet::len))
            .collect();
        let union: BTreeSet<u32> = live
            .iter()
            .filter_map(|i| self.owned.get(i))
            .flatten()
            .copied()
            .collect();
        let (min, max) = (counts.iter().min(), counts.iter().max());
        counts.len() == live.len()
            && self.owned.keys().all(|k| live.contains(k))
            && union.len() == PARTITIONS as usize
            && max.zip(min).is_some_and(|(max, min)| max - min <= 1)
    }
}

type Shared = Arc<Mutex<Tracker>>;

fn lock(t: &Shared) -> std::sync::MutexGuard<'_, Tracker> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// A member looping on fetch until told to stop.
struct Running {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Member>,
}

impl Running {
    /// Stops heartbeating (the member stays in the group until it leaves or expires); the
    /// tracker forgets it once its last response is in.
    async fn halt(self, who: usize, tracker: &Shared) -> Member {
        self.stop.store(true, Ordering::SeqCst);
        let member = self.task.await.expect("member task");
        lock(tracker).owned.remove(&who);
        member
    }
}

fn spawn_member(server: &common::Server, who: usize, tracker: Shared) -> Running {
    let settings = json!({"auto_offset_reset": "earliest"});
    let mut member = Member::new(server, GROUP, &[TOPIC], settings);
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let task = tokio::spawn(async move {
        while !stopped.load(Ordering::SeqCst) {
            match member.try_fetch(WAIT_MS, 10).await {
                Ok(records) => {
                    let parts: BTreeSet<u32> = member.assignment.iter().map(|(_, p)| *p).collect();
                    let mut t = lock(&tracker);
                    if let Some(r) = records.iter().find(|r| !parts.contains(&r.partition)) {
                        let why = format!("member {who} got a record of unowned {}", r.partition);
                        t.violations.push(why);
                    }
                    t.update(who, parts);
                }
                Err((status, body)) => {
                    let why = format!("member {who} was refused: {status} {body}");
                    lock(&tracker).violations.push(why);
                    break;
                }
            }
        }
        member
    });
    Running { stop, task }
}

/// Waits until the members in `live` hold a settled assignment and the server agrees the
/// group is stable with exactly them; returns each member's partitions.
async fn settle(
    server: &common::Server,
    tracker: &Shared,
    live: &BTreeSet<usize>,
    limit: Duration,
) -> BTreeMap<usize, BTreeSet<u32>> {
    let (c, base) = (client(server), server.http.as_str());
    eventually(&format!("members {live:?} settle"), limit, || async {
        if !lock(tracker).settled(live) {
            return None;
        }
        let d = describe(&c, base, GROUP).await;
        let members = d["members"].as_array().map_or(0, Vec::len);
        (d["state"] == "stable" && members == live.len()).then(|| lock(tracker).owned.clone())
    })
    .await
}

/// Produces one record to every partition each `PRODUCE_INTERVAL` with `c` until `on` is
/// cleared.
async fn produce_steadily(c: reqwest::Client, base: String, on: Arc<AtomicBool>) {
    let records: Vec<_> = (0..PARTITIONS)
        .map(|p| json!({"value": p, "partition": p}))
        .collect();
    let url = format!("{base}/v1/tenants/default/topics/{TOPIC}/records");
    while on.load(Ordering::SeqCst) {
        let body = json!({ "records": records });
        let r = c.post(&url).json(&body).send().await.expect("produce");
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(PRODUCE_INTERVAL).await;
    }
}

fn no_violations(tracker: &Shared) {
    let t = lock(tracker);
    assert!(t.violations.is_empty(), "{:#?}", t.violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_join_leave_and_die_without_sharing_a_partition() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weir.toml");
    let timeout_ms = SESSION_TIMEOUT.as_millis();
    std::fs::write(
        &config,
        format!("[groups]\nsession_timeout_ms_default = {timeout_ms}\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = common::Server::start_in(&data, &["--config", config.to_str().unwrap()]);
    let base = server.http.clone();
    groups_support::create_topic(&client(&server), &base, TOPIC, PARTITIONS).await;
    let tracker = Shared::default();

    let producing = Arc::new(AtomicBool::new(true));
    let producer = tokio::spawn(produce_steadily(
        client(&server),
        base.clone(),
        Arc::clone(&producing),
    ));
    let mut running = BTreeMap::new();
    let mut live = BTreeSet::new();
    for who in 0..MEMBERS {
        running.insert(who, spawn_member(&server, who, Arc::clone(&tracker)));
        live.insert(who);
        settle(&server, &tracker, &live, SETTLE_LIMIT).await;
        no_violations(&tracker);
    }
    let owned = settle(&server, &tracker, &live, SETTLE_LIMIT).await;
    for who in 0..MEMBERS - 1 {
        assert_eq!(owned[&who].len(), 1, "member {who}: {owned:?}");
    }
    assert!(owned[&(MEMBERS - 1)].is_empty(), "the 7th member idles");
    let d = describe(&client(&server), &base, GROUP).await;
    let first = &d["members"][0];
    assert_eq!(first["host"], "127.0.0.1", "{d}");
    assert_eq!(first["client_id"], USER_AGENT, "{d}");
    assert_eq!(first["topics"], json!([TOPIC]));

    // A member leaves: its partition goes to the idle member, within the session timeout.
    let gone = owned[&0].clone();
    let member = running.remove(&0).unwrap().halt(0, &tracker).await;
    live.remove(&0);
    let r = leave(
        &client(&server),
        &base,
        GROUP,
        member.id.as_deref().unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let left = Instant::now();
    let owned = settle(&server, &tracker, &live, SETTLE_LIMIT).await;
    assert!(left.elapsed() < SESSION_TIMEOUT);
    assert_eq!(owned[&(MEMBERS - 1)], gone, "the idle member took over");
    assert!(live.iter().all(|w| owned[w].len() == 1), "{owned:?}");

    // A member dies (stops heartbeating): its partition moves once its session runs out.
    let gone = owned[&1].clone();
    let mut zombie = running.remove(&1).unwrap().halt(1, &tracker).await;
    live.remove(&1);
    let owned = settle(&server, &tracker, &live, EXPIRY_LIMIT).await;
    let heir: Vec<_> = owned.values().filter(|p| p.is_superset(&gone)).collect();
    assert_eq!(heir.len(), 1, "{owned:?}");
    let mut counts: Vec<usize> = owned.values().map(BTreeSet::len).collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 1, 1, 1, 2]);
    let (status, body) = zombie.try_fetch(0, 1).await.expect_err("expired");
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("UNKNOWN_MEMBER"))
    );

    for (who, r) in running {
        r.halt(who, &tracker).await;
    }
    producing.store(false, Ordering::SeqCst);
    producer.await.unwrap();
    no_violations(&tracker);
    assert!(
        lock(&tracker).responses > MEMBERS * 3,
        "members kept heartbeating"
    );
}
