//! Consumer positions without a group against the real binary: assign, seek by offset and
//! by timestamp, pause and resume, and a poll that times out empty.

mod common;
mod support;

use std::time::Duration;

use support::{client, drain, producer, topic, within};
use weir::{AutoOffsetReset, Consumer, ConsumerConfig, ProducerRecord, TopicPartition};

const BASE: i64 = 1_700_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seek_by_offset_and_timestamp_pause_and_resume() {
    let server = common::Server::start();
    topic(&server, "timed", 1).await;
    let p = producer(&server).await;
    for i in 0..10 {
        let r = ProducerRecord::new("timed", i.to_string()).timestamp(BASE + i * 1000);
        let d = within("send", p.send(r)).await.expect("send");
        within("delivery", d).await.expect("delivered");
    }
    let tp = TopicPartition::new("timed", 0);
    let config = ConsumerConfig {
        client: client(&server),
        auto_offset_reset: AutoOffsetReset::Latest,
        fetch_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    let mut c = Consumer::builder()
        .config(config)
        .build()
        .await
        .expect("consumer");
    c.assign(std::slice::from_ref(&tp)).expect("assign");
    assert!(
        c.poll(Duration::from_millis(300))
            .await
            .expect("poll")
            .is_empty(),
        "latest"
    );
    assert_eq!(c.position(&tp), Some(10));

    within("seek", c.seek_to_timestamp(&tp, BASE + 5_500))
        .await
        .expect("seek");
    let records = drain(&mut c, 4).await;
    assert_eq!(records[0].offset, 6);
    assert_eq!(records[0].timestamp, BASE + 6_000);

    c.seek(&tp, 2).expect("seek");
    c.pause(std::slice::from_ref(&tp));
    assert!(
        c.poll(Duration::from_millis(300))
            .await
            .expect("poll")
            .is_empty(),
        "paused"
    );
    c.resume(std::slice::from_ref(&tp));
    let records = drain(&mut c, 8).await;
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (2..10).collect::<Vec<_>>()
    );
    // One record at a time: only what was handed out moves the position.
    c.seek(&tp, 0).expect("seek");
    let one = within("poll_up_to", c.poll_up_to(Duration::from_secs(5), 1))
        .await
        .expect("poll_up_to");
    assert_eq!(one.iter().map(|r| r.offset).collect::<Vec<_>>(), [0]);
    assert_eq!(c.position(&tp), Some(1));
    let missing = TopicPartition::new("timed", 3);
    assert!(c.seek(&missing, 0).is_err());
    within("close", c.close()).await.expect("close");
}
