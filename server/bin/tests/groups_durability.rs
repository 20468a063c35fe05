//! Committed offsets and lag across restarts of the real binary: a group drains a topic and
//! commits (lag 0), more records arrive (lag grows), and the offsets and lag are the same
//! after a clean stop (SIGTERM) and after SIGKILL; a member joining afterwards resumes at the
//! committed offsets and drains the lag to 0 again.

mod common;
mod groups_support;

use std::time::{Duration, Instant};

use groups_support::{
    Member, Offsets, client, commit, committed, create_topic, describe, leave, produce,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const GROUP: &str = "ledger";
const TOPIC: &str = "payments";

fn lags(d: &Value) -> Vec<(u32, Option<i64>, i64, Option<i64>)> {
    d["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_u64().unwrap() as u32,
                p["committed_offset"].as_i64(),
                p["high_watermark"].as_i64().unwrap(),
                p["lag"].as_i64(),
            )
        })
        .collect()
}

/// Fetches and commits until `member` has received `n` records.
async fn drain(base: &str, member: &mut Member, n: usize) -> Vec<i64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut offsets = Vec::new();
    while offsets.len() < n {
        assert!(Instant::now() < deadline, "drained only {offsets:?}");
        let records = member.fetch(100, 100).await;
        member.commit_after(base, GROUP, &records).await;
        offsets.extend(records.iter().map(|r| r.offset));
    }
    offsets
}

#[tokio::test]
async fn offsets_and_lag_survive_sigterm_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start_in(dir.path(), &[]);
    // The bootstrap admin key is the data directory's: the same after every restart.
    let c = client(&server);
    let base = server.http.clone();
    create_topic(&c, &base, TOPIC, 2).await;
    for p in 0..2 {
        produce(&c, &base, TOPIC, p, 10, "first").await;
    }
    let settings = json!({"auto_offset_reset": "earliest"});
    let mut member = Member::new(&server, GROUP, &[TOPIC], settings);
    drain(&base, &mut member, 20).await;
    let d = describe(&c, &base, GROUP).await;
    assert_eq!(d["total_lag"], 0, "{d}");
    assert_eq!(
        lags(&d),
        [(0, Some(10), 10, Some(0)), (1, Some(10), 10, Some(0))]
    );
    produce(&c, &base, TOPIC, 1, 5, "second").await;
    let r = leave(&c, &base, GROUP, member.id.as_deref().unwrap()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let before_stop = describe(&c, &base, GROUP).await;
    assert_eq!(before_stop["total_lag"], 5);
    assert_eq!(before_stop["state"], "empty");

    let (status, _) = server.stop();
    assert!(status.success());
    let server = common::Server::start_in(dir.path(), &[]);
    let base = server.http.clone();
    let after = describe(&c, &base, GROUP).await;
    assert_eq!(lags(&after), lags(&before_stop), "after SIGTERM");
    assert_eq!(after["total_lag"], 5);

    // An admin commit on the empty group, then SIGKILL: replayed from the offsets log.
    let r = commit(&c, &base, GROUP, None, &[(TOPIC, 0, 7)]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let expected: Offsets = [((TOPIC.into(), 0), 7), ((TOPIC.into(), 1), 10)].into();
    assert_eq!(committed(&c, &base, GROUP).await, expected);
    server.kill();
    let server = common::Server::start_in(dir.path(), &[]);
    let base = server.http.clone();
    assert_eq!(committed(&c, &base, GROUP).await, expected, "after SIGKILL");
    let d = describe(&c, &base, GROUP).await;
    assert_eq!(d["total_lag"], 3 + 5);

    // A new member resumes at the commits (not at `latest`) and drains the lag.
    let mut member = Member::new(
        &server,
        GROUP,
        &[TOPIC],
        json!({"auto_offset_reset": "latest"}),
    );
    let mut offsets = drain(&base, &mut member, 8).await;
    offsets.sort_unstable();
    assert_eq!(offsets, [7, 8, 9, 10, 11, 12, 13, 14]);
    let d = describe(&c, &base, GROUP).await;
    assert_eq!(d["total_lag"], 0, "{d}");
    let list: Value = c
        .get(format!("{base}/v1/tenants/default/groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list,
        json!({"groups": [{"group": GROUP, "state": "stable", "members": 1, "total_lag": 0}]})
    );
}
