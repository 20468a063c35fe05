//! Group settings a consumer chooses: the range assignor, static membership (a restarted
//! instance takes its own partitions back and nobody else moves), and asynchronous commits.

mod common;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::Server;
use support::{client, drain, topic, within};
use weir::{
    Assignor, AutoOffsetReset, CommitMode, Consumer, ConsumerConfig, Producer, ProducerRecord,
    TopicPartition,
};

fn member(server: &Server, group: &str, instance: &str) -> ConsumerConfig {
    ConsumerConfig {
        client: client(server),
        group: Some(group.to_owned()),
        topics: vec!["m".to_owned()],
        auto_offset_reset: AutoOffsetReset::Earliest,
        commit: CommitMode::Manual,
        heartbeat_interval: Duration::from_millis(100),
        session_timeout: Duration::from_secs(10),
        fetch_wait: Duration::from_millis(100),
        instance_id: Some(instance.to_owned()),
        assignor: Assignor::Range,
        ..ConsumerConfig::default()
    }
}

/// Polls both consumers until each owns `each` partitions and they own all `total`.
async fn settle(a: &mut Consumer, b: &mut Consumer, each: usize, total: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let _ = a.poll(Duration::from_millis(50)).await;
        let _ = b.poll(Duration::from_millis(50)).await;
        let (x, y) = (a.assignment(), b.assignment());
        let all: BTreeSet<_> = x.iter().chain(y.iter()).cloned().collect();
        if x.len() == each && y.len() == each && all.len() == total {
            return;
        }
        assert!(Instant::now() < deadline, "no balance: {x:?} / {y:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_members_with_the_range_assignor_get_their_own_partitions_back() {
    let server = Server::start();
    let admin = topic(&server, "m", 4).await;
    let mut a = within(
        "a",
        Consumer::builder()
            .config(member(&server, "g", "pod-a"))
            .build(),
    )
    .await
    .unwrap();
    let mut b = within(
        "b",
        Consumer::builder()
            .config(member(&server, "g", "pod-b"))
            .build(),
    )
    .await
    .unwrap();
    settle(&mut a, &mut b, 2, 4).await;
    let info = within("describe", admin.describe_group("g")).await.unwrap();
    assert_eq!(info.assignor, "range");
    // Range: each member holds a contiguous run of partitions.
    let mine: Vec<u32> = a.assignment().iter().map(|tp| tp.partition).collect();
    assert_eq!(mine[1], mine[0] + 1, "{mine:?}");
    let (before_a, before_b) = (a.assignment(), b.assignment());

    // pod-a crashes (no leave) and comes back under the same instance id at once.
    drop(a);
    let mut a = within(
        "a again",
        Consumer::builder()
            .config(member(&server, "g", "pod-a"))
            .build(),
    )
    .await
    .unwrap();
    settle(&mut a, &mut b, 2, 4).await;
    assert_eq!(
        a.assignment(),
        before_a,
        "the restarted instance got other partitions"
    );
    assert_eq!(b.assignment(), before_b, "the other member moved");
    within("close a", a.close()).await.unwrap();
    within("close b", b.close()).await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_async_returns_at_once_and_lands() {
    let server = Server::start();
    let admin = topic(&server, "m", 1).await;
    let producer = within(
        "producer",
        Producer::builder()
            .config(Default::default())
            .url(server.grpc.clone())
            .token(server.admin_token())
            .build(),
    )
    .await
    .unwrap();
    for i in 0..10 {
        let d = within(
            "send",
            producer.send(ProducerRecord::new("m", i.to_string())),
        )
        .await
        .unwrap();
        within("delivery", d).await.unwrap();
    }
    let mut c = within(
        "consumer",
        Consumer::builder()
            .config(member(&server, "async", "pod-1"))
            .build(),
    )
    .await
    .unwrap();
    let records = drain(&mut c, 10).await;
    assert_eq!(records.len(), 10);
    let pending = c.commit_async();
    within("commit", pending).await.unwrap().unwrap();
    let tp = TopicPartition::new("m", 0);
    assert_eq!(
        within("committed", c.committed(&tp)).await.unwrap(),
        Some(10)
    );
    let offsets = within("admin", admin.committed_offsets("async", &["m"]))
        .await
        .unwrap();
    assert_eq!(offsets[0].offset, 10);
    within("close", c.close()).await.unwrap();
    server.stop();
}
