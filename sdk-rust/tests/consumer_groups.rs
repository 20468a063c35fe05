//! Consumer groups against the real binary: three members joining and leaving mid-stream
//! lose no record, manual and auto commits survive a consumer restart, and group
//! administration (describe, list, preview and apply a reset, delete).

mod common;
mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Server;
use support::{client, drain, producer, topic, within};
use weir::admin::ResetTo;
use weir::{
    AutoOffsetReset, CommitMode, Consumer, ConsumerConfig, ProducerRecord, RebalanceListener,
    TopicPartition,
};

fn member(server: &Server, group: &str, topic: &str, commit: CommitMode) -> ConsumerConfig {
    ConsumerConfig {
        client: client(server),
        group: Some(group.to_owned()),
        topics: vec![topic.to_owned()],
        auto_offset_reset: AutoOffsetReset::Earliest,
        commit,
        heartbeat_interval: Duration::from_millis(100),
        session_timeout: Duration::from_secs(10),
        fetch_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    }
}

const AUTO: CommitMode = CommitMode::Auto {
    interval: Duration::from_millis(100),
};

async fn produce(server: &Server, topic: &str, values: std::ops::Range<usize>) {
    let p = producer(server).await;
    let mut deliveries = Vec::new();
    for i in values {
        let r = ProducerRecord::new(topic, i.to_string()).key(format!("k{i}"));
        deliveries.push(within("send", p.send(r)).await.expect("send"));
    }
    for d in deliveries {
        within("delivery", d).await.expect("delivered");
    }
}

/// Counts rebalance callbacks.
#[derive(Debug, Default, Clone)]
struct Counting(Arc<Mutex<(usize, usize)>>);

impl RebalanceListener for Counting {
    fn assigned(&self, partitions: &[TopicPartition]) {
        self.0.lock().unwrap().0 += partitions.len();
    }
    fn revoked(&self, partitions: &[TopicPartition]) {
        self.0.lock().unwrap().1 += partitions.len();
    }
}

/// Polls in a task, recording every value seen, until told to stop; then closes.
fn spawn_member(
    config: ConsumerConfig,
    seen: Arc<Mutex<BTreeSet<usize>>>,
    listener: Counting,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let builder = Consumer::builder().config(config).listener(listener);
        let mut c = within("join", builder.build()).await.expect("join");
        while stopped.try_recv().is_err() {
            for r in c.poll(Duration::from_millis(100)).await.expect("poll") {
                let v = std::str::from_utf8(r.value.as_deref().unwrap())
                    .unwrap()
                    .parse()
                    .unwrap();
                seen.lock().unwrap().insert(v);
            }
        }
        within("close", c.close()).await.expect("close");
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_join_and_leave_mid_stream_without_losing_records() {
    let server = common::Server::start();
    topic(&server, "stream", 6).await;
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let listener = Counting::default();
    let config = member(&server, "trio", "stream", AUTO);
    let (stop1, m1) = spawn_member(config.clone(), Arc::clone(&seen), listener.clone());
    produce(&server, "stream", 0..200).await;
    let (stop2, m2) = spawn_member(config.clone(), Arc::clone(&seen), listener.clone());
    produce(&server, "stream", 200..400).await;
    let (stop3, m3) = spawn_member(config.clone(), Arc::clone(&seen), listener.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop1.send(()).unwrap();
    within("first member leaves", m1).await.unwrap();
    produce(&server, "stream", 400..600).await;
    within("every record seen", async {
        while seen.lock().unwrap().len() < 600 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(*seen.lock().unwrap(), (0..600).collect::<BTreeSet<_>>());
    for (stop, task) in [(stop2, m2), (stop3, m3)] {
        stop.send(()).unwrap();
        within("member leaves", task).await.unwrap();
    }
    let (assigned, revoked) = *listener.0.lock().unwrap();
    assert!(
        assigned >= 6 && revoked >= 6,
        "assigned {assigned}, revoked {revoked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_commit_persists_across_a_consumer_restart() {
    let server = common::Server::start();
    topic(&server, "manual", 1).await;
    produce(&server, "manual", 0..20).await;
    let tp = TopicPartition::new("manual", 0);
    let mut config = member(&server, "m", "manual", CommitMode::Manual);
    config.max_poll_records = 5;
    let mut c = Consumer::builder()
        .config(config.clone())
        .build()
        .await
        .expect("join");
    let first = drain(&mut c, 5).await;
    assert_eq!(first.last().unwrap().offset, 4);
    within("commit", c.commit()).await.expect("commit");
    assert_eq!(c.committed(&tp).await.expect("committed"), Some(5));
    drain(&mut c, 5).await; // handed out, never committed
    within("close", c.close()).await.expect("close");

    let mut again = Consumer::builder()
        .config(config)
        .build()
        .await
        .expect("rejoin");
    let next = drain(&mut again, 1).await;
    assert_eq!(next[0].offset, 5, "restarts at the committed offset");
    within("commit offsets", again.commit_offsets(&[(tp.clone(), 12)]))
        .await
        .expect("commit");
    assert_eq!(again.committed(&tp).await.expect("committed"), Some(12));
    within("close", again.close()).await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_commit_persists_and_groups_can_be_administered() {
    let server = common::Server::start();
    let admin = topic(&server, "auto", 2).await;
    produce(&server, "auto", 0..20).await;
    let config = member(&server, "a", "auto", AUTO);
    let mut c = Consumer::builder()
        .config(config.clone())
        .build()
        .await
        .expect("join");
    drain(&mut c, 20).await;
    let live = admin.describe_group("a").await.expect("describe");
    assert_eq!(live.members.len(), 1);
    within("close", c.close()).await.expect("close");
    let committed: i64 = admin
        .committed_offsets("a", &[])
        .await
        .expect("committed")
        .iter()
        .map(|o| o.offset)
        .sum();
    assert_eq!(committed, 20);

    let mut again = Consumer::builder()
        .config(config)
        .build()
        .await
        .expect("rejoin");
    assert!(
        again
            .poll(Duration::from_millis(500))
            .await
            .expect("poll")
            .is_empty()
    );
    produce(&server, "auto", 20..25).await;
    let more = drain(&mut again, 5).await;
    let values: BTreeSet<String> = more
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(values, (20..25).map(|i| i.to_string()).collect());
    within("close", again.close()).await.expect("close");

    let groups = admin.list_groups().await.expect("list");
    assert_eq!(
        groups.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    let preview = admin
        .preview_reset_offsets("a", ResetTo::Earliest, &[])
        .await
        .expect("preview");
    assert!(preview.iter().all(|c| c.offset == 0) && preview.len() == 2);
    let still: i64 = admin
        .committed_offsets("a", &[])
        .await
        .expect("committed")
        .iter()
        .map(|o| o.offset)
        .sum();
    assert_eq!(still, 25, "a dry run changes nothing");
    admin
        .reset_offsets("a", ResetTo::Earliest, &[])
        .await
        .expect("reset");
    admin.delete_group("a").await.expect("delete");
    assert!(admin.list_groups().await.expect("list").is_empty());
}
