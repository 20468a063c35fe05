//! Consumer-group delivery against the real binary, over REST: two groups on one topic each
//! get every record, and delivery is at least once — a member that dies after processing but
//! before committing is replaced by one that resumes at the committed offset, skipping
//! nothing. A member whose position retention deleted starts over by its reset policy.

mod common;
mod groups_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use groups_support::{Got, Member, client, committed, create_topic, eventually, produce};
use serde_json::json;

/// Longest a group may take to drain a few dozen records.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// Fetches with every member in turn, committing after each fetch, until the group has seen
/// `want` distinct records. Returns every record received (duplicates included).
async fn drain(base: &str, group: &str, members: &mut [Member], want: usize) -> Vec<Got> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut got = Vec::new();
    let mut distinct = BTreeSet::new();
    while distinct.len() < want {
        assert!(Instant::now() < deadline, "{group} saw {distinct:?}");
        for m in members.iter_mut() {
            let records = m.fetch(50, 7).await;
            m.commit_after(base, group, &records).await;
            distinct.extend(records.iter().map(|r| (r.partition, r.offset)));
            got.extend(records);
        }
    }
    got
}

#[tokio::test]
async fn two_groups_each_see_every_record() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, "orders", 3).await;
    let mut want = BTreeSet::new();
    for p in 0..3 {
        for offset in produce(&c, base, "orders", p, 12, &format!("p{p}")).await {
            want.insert((p, offset));
        }
    }
    let settings = json!({"auto_offset_reset": "earliest", "session_timeout_ms": 10_000});
    for group in ["billing", "shipping"] {
        let mut members = vec![
            Member::new(&server, group, &["orders"], settings.clone()),
            Member::new(&server, group, &["orders"], settings.clone()),
        ];
        let got = drain(base, group, &mut members, want.len()).await;
        let seen: BTreeSet<(u32, i64)> = got.iter().map(|r| (r.partition, r.offset)).collect();
        assert_eq!(seen, want, "{group}");
        for r in &got {
            let expected = json!({"tag": format!("p{}", r.partition), "i": r.offset});
            assert_eq!(r.value, expected.to_string());
            assert_eq!(r.topic, "orders");
        }
        let offsets = committed(&c, base, group).await;
        let at_end: Vec<i64> = offsets.values().copied().collect();
        assert_eq!(at_end, [12, 12, 12], "{group}: {offsets:?}");
    }
}

#[tokio::test]
async fn a_replacement_resumes_at_the_committed_offset() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, "jobs", 1).await;
    produce(&c, base, "jobs", 0, 20, "job").await;
    let settings =
        |timeout: u64| json!({"auto_offset_reset": "earliest", "session_timeout_ms": timeout});

    // The first worker processes and commits 0..5, then processes 5..10 and dies before
    // committing them.
    let mut first = Member::new(&server, "workers", &["jobs"], settings(1_000));
    let done = first.fetch(0, 5).await;
    assert_eq!(
        done.iter().map(|r| r.offset).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    first.commit_after(base, "workers", &done).await;
    let lost = first.fetch(0, 5).await;
    assert_eq!(lost.first().map(|r| r.offset), Some(5));

    // Its replacement gets the partition once the first one's session ran out, and starts at
    // the committed offset: 5..10 are processed again, nothing is skipped.
    let mut second = Member::new(&server, "workers", &["jobs"], settings(10_000));
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < 15 {
        assert!(Instant::now() < deadline, "replacement got {got:?}");
        let records = second.fetch(200, 100).await;
        second.commit_after(base, "workers", &records).await;
        got.extend(records);
    }
    let offsets: Vec<i64> = got.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (5..20).collect::<Vec<_>>());
    let c_offsets = committed(&c, base, "workers").await;
    assert_eq!(c_offsets.values().copied().collect::<Vec<_>>(), [20]);
    let (status, body) = first
        .try_fetch(0, 1)
        .await
        .expect_err("the first worker expired");
    assert_eq!(body["code"], "UNKNOWN_MEMBER", "{status} {body}");
}

#[tokio::test]
async fn a_member_left_behind_by_retention_restarts_at_the_log_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weir.toml");
    std::fs::write(&config, "maintenance_interval_ms = 50\n").unwrap();
    let server = common::Server::start_in(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let (c, base) = (client(&server), server.http.as_str());
    let topic = json!({"name": "tiny", "config": {"segment_bytes": 1024, "retention_bytes": 1024}});
    let r = c
        .post(format!("{base}/v1/tenants/default/topics"))
        .json(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    produce(&c, base, "tiny", 0, 2, "early").await;
    let mut member = Member::new(
        &server,
        "slow",
        &["tiny"],
        json!({"auto_offset_reset": "earliest"}),
    );
    assert_eq!(member.fetch(0, 1).await[0].offset, 0);

    // Retention deletes the segments holding the member's position (1), never committed.
    for _ in 0..40 {
        produce(&c, base, "tiny", 0, 1, &"x".repeat(200)).await;
    }
    let url = format!("{base}/v1/tenants/default/topics/tiny");
    let start = eventually("retention runs", Duration::from_secs(10), || async {
        let t: serde_json::Value = c.get(&url).send().await.unwrap().json().await.unwrap();
        let start = t["partitions"][0]["log_start_offset"].as_i64().unwrap();
        (start > 1).then_some(start)
    })
    .await;

    // The member starts again where its reset policy says: the new log start.
    // One fetch finds the position gone; the next starts over.
    let deadline = Instant::now() + Duration::from_secs(5);
    let first = loop {
        assert!(Instant::now() < deadline, "the member is stuck");
        if let Some(r) = member.fetch(100, 1).await.first() {
            break r.offset;
        }
    };
    assert!(first >= start, "read {first}, log starts at {start}");
}
