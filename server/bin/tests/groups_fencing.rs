//! Zombie fencing against the real binary, over REST: commits from a member with an old epoch
//! (after a rebalance, or after a static member restarted elsewhere), for a partition the
//! member does not own, or from an unknown member are refused with their own codes, and
//! nothing changes; a group with live members refuses commits without a member.

mod common;
mod groups_support;

use groups_support::{Member, client, commit, committed, create_topic, expect_problem, produce};
use reqwest::StatusCode;
use serde_json::json;

const GROUP: &str = "fenced";

#[tokio::test]
async fn stale_foreign_and_unknown_commits_are_refused() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, "t", 2).await;
    for p in 0..2 {
        produce(&c, base, "t", p, 5, "r").await;
    }
    let settings = json!({"auto_offset_reset": "earliest", "session_timeout_ms": 30_000});
    let mut a = Member::new(&server, GROUP, &["t"], settings.clone());
    a.fetch(0, 1).await;
    assert_eq!(a.assignment.len(), 2, "alone, a owns both partitions");
    let r = commit(
        &c,
        base,
        GROUP,
        Some(a.ident()),
        &[("t", 0, 1), ("t", 1, 1)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let before = committed(&c, base, GROUP).await;

    // b joins; a's next heartbeat gives one partition up and bumps a's epoch.
    let mut b = Member::new(&server, GROUP, &["t"], settings.clone());
    b.fetch(0, 1).await;
    let old_epoch = a.epoch.unwrap();
    a.fetch(0, 1).await;
    assert!(a.epoch.unwrap() > old_epoch);
    let a_id = a.id.clone().unwrap();
    let r = commit(&c, base, GROUP, Some((&a_id, old_epoch)), &[("t", 0, 2)]).await;
    expect_problem(r, StatusCode::CONFLICT, "STALE_MEMBER_EPOCH").await;

    // Once a acknowledged, b gets the other partition; a may not commit it.
    a.fetch(0, 1).await;
    b.fetch(0, 1).await;
    let (_, theirs) = b.assignment.first().cloned().expect("b owns a partition");
    assert!(!a.assignment.iter().any(|(_, p)| *p == theirs));
    let r = commit(&c, base, GROUP, Some(a.ident()), &[("t", theirs, 3)]).await;
    expect_problem(r, StatusCode::CONFLICT, "PARTITION_NOT_ASSIGNED").await;

    let r = commit(&c, base, GROUP, Some(("no-such-member", 1)), &[("t", 0, 4)]).await;
    expect_problem(r, StatusCode::CONFLICT, "UNKNOWN_MEMBER").await;
    let r = commit(&c, base, GROUP, None, &[("t", 0, 4)]).await;
    expect_problem(r, StatusCode::CONFLICT, "GROUP_NOT_EMPTY").await;
    let r = c
        .post(groups_support::group_url(base, GROUP, "/offsets"))
        .json(&json!({"member_id": a_id, "offsets": [{"topic": "t", "partition": 0, "offset": 1}]}))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    // A heartbeat with an old epoch is refused as well.
    let mut stale = a.clone();
    stale.epoch = Some(old_epoch);
    let (status, body) = stale.try_fetch(0, 1).await.expect_err("stale heartbeat");
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("STALE_MEMBER_EPOCH"))
    );

    assert_eq!(committed(&c, base, GROUP).await, before, "nothing changed");
}

#[tokio::test]
async fn a_restarted_static_member_fences_its_old_process() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, "t", 1).await;
    produce(&c, base, "t", 0, 3, "r").await;
    let settings = json!({"instance_id": "worker-1", "auto_offset_reset": "earliest"});
    let mut old = Member::new(&server, "static", &["t"], settings.clone());
    let records = old.fetch(0, 2).await;
    old.commit_after(base, "static", &records).await;

    // The same instance restarts: same member id, same partition, a new epoch.
    let mut new = Member::new(&server, "static", &["t"], settings);
    let again = new.fetch(0, 10).await;
    assert_eq!(new.id, old.id);
    assert!(new.epoch > old.epoch);
    assert_eq!(new.assignment, old.assignment);
    assert_eq!(
        again.first().map(|r| r.offset),
        Some(2),
        "resumes at the commit"
    );

    let r = commit(&c, base, "static", Some(old.ident()), &[("t", 0, 3)]).await;
    expect_problem(r, StatusCode::CONFLICT, "STALE_MEMBER_EPOCH").await;
    let offsets = committed(&c, base, "static").await;
    assert_eq!(offsets.values().copied().collect::<Vec<_>>(), [2]);
    new.commit_after(base, "static", &again).await;
    let offsets = committed(&c, base, "static").await;
    assert_eq!(offsets.values().copied().collect::<Vec<_>>(), [3]);
}
