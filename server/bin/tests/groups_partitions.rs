//! Topology changes reach a group without any member doing anything special: adding
//! partitions to a subscribed topic triggers a reassignment that hands the new partitions out,
//! balanced, on the members' next heartbeats.

mod common;
mod groups_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use groups_support::{Member, client, create_topic};
use serde_json::json;

/// Longest a group may take to settle after a change.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// Heartbeats both members until each owns `each` partitions; never two owners at once.
async fn settle(a: &mut Member, b: &mut Member, each: usize) -> BTreeSet<u32> {
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        a.fetch(0, 10).await;
        b.fetch(0, 10).await;
        assert_eq!(
            a.assignment.intersection(&b.assignment).count(),
            0,
            "a partition had two owners"
        );
        if a.assignment.len() == each && b.assignment.len() == each {
            return a.assignment.union(&b.assignment).map(|(_, p)| *p).collect();
        }
        assert!(
            Instant::now() < deadline,
            "not settled at {each} each: {:?} {:?}",
            a.assignment,
            b.assignment
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn added_partitions_are_assigned_to_the_members() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, "grow", 2).await;
    let settings = json!({"session_timeout_ms": 10000});
    let mut a = Member::new(&server, "g", &["grow"], settings.clone());
    let mut b = Member::new(&server, "g", &["grow"], settings);
    assert_eq!(settle(&mut a, &mut b, 1).await, (0..2).collect());

    let r = c
        .patch(format!("{base}/v1/tenants/default/topics/grow"))
        .json(&json!({"partitions": 6}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(settle(&mut a, &mut b, 3).await, (0..6).collect());
}
