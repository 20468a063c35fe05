//! Producer against the real binary: round trips with every codec, key partitioning equal to
//! Kafka's murmur2 and to the server's REST produce, explicit partitions, the sticky
//! partitioner, per-key order with many batches in flight, and an unknown topic's error.

mod common;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Server;
use support::{client, drain, topic, within};
use weir::admin::TopicChange;
use weir::{
    Compression, Consumer, ErrorCode, Producer, ProducerRecord, RecordMetadata, TopicPartition,
};
use weir_proto::partitioner::partition_for_key;

async fn producer(server: &Server) -> weir::ProducerBuilder {
    Producer::builder()
        .url(&server.grpc)
        .token(server.admin_token())
        .request_timeout(Duration::from_secs(10))
        .linger(Duration::from_millis(2))
}

async fn deliver(p: &Producer, record: ProducerRecord) -> RecordMetadata {
    let delivery = within("send", p.send(record)).await.expect("send");
    within("delivery", delivery).await.expect("delivered")
}

async fn reader(server: &Server, partitions: &[TopicPartition]) -> Consumer {
    let mut c = Consumer::builder()
        .config(weir::ConsumerConfig {
            client: client(server),
            auto_offset_reset: weir::AutoOffsetReset::Earliest,
            ..weir::ConsumerConfig::default()
        })
        .build()
        .await
        .expect("consumer");
    c.assign(partitions).expect("assign");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_with_every_codec() {
    let server = common::Server::start();
    for codec in Compression::ALL {
        let name = format!("codec-{}", codec.name());
        topic(&server, &name, 1).await;
        let p = producer(&server)
            .await
            .compression(codec)
            .build()
            .await
            .expect("producer");
        let mut deliveries = Vec::new();
        for i in 0..50 {
            let r = ProducerRecord::new(&name, format!("value-{i}-{}", "z".repeat(i)))
                .key(format!("key-{i}"))
                .header("n", i.to_string());
            deliveries.push(within("send", p.send(r)).await.expect("send"));
        }
        within("flush", p.flush()).await.expect("flush");
        for (i, d) in deliveries.into_iter().enumerate() {
            assert_eq!(
                within("delivery", d).await.expect("delivered").offset,
                i as i64
            );
        }
        let mut c = reader(&server, &[TopicPartition::new(&name, 0)]).await;
        let records = drain(&mut c, 50).await;
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.offset, i as i64, "{codec:?}");
            assert_eq!(r.key.as_deref(), Some(format!("key-{i}").as_bytes()));
            let value = format!("value-{i}-{}", "z".repeat(i));
            assert_eq!(r.value.as_deref(), Some(value.as_bytes()));
            assert_eq!(
                r.headers[0].value.as_deref(),
                Some(i.to_string().as_bytes())
            );
        }
        c.close().await.expect("close consumer");
        p.close().await.expect("close producer");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_lands_where_murmur2_and_rest_put_it() {
    let server = common::Server::start();
    topic(&server, "keyed", 6).await;
    let p = producer(&server).await.build().await.expect("producer");
    let http = server.client(Duration::from_secs(10));
    for i in 0..20 {
        let key = format!("customer-{i}");
        let sdk = deliver(&p, ProducerRecord::new("keyed", "v").key(key.clone())).await;
        assert_eq!(sdk.partition, partition_for_key(key.as_bytes(), 6).unwrap());
        let body = serde_json::json!({"records": [{"key": key, "value": "v"}]});
        let url = server.url("/v1/tenants/default/topics/keyed/records");
        let response = within("rest produce", http.post(url).json(&body).send())
            .await
            .expect("rest produce");
        let json: serde_json::Value = response.json().await.expect("json");
        assert_eq!(json["results"][0]["partition"], sdk.partition, "key {key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_partition_wins_over_the_key() {
    let server = common::Server::start();
    topic(&server, "explicit", 3).await;
    let p = producer(&server).await.build().await.expect("producer");
    let hashed = partition_for_key(b"alice", 3).unwrap();
    let forced = (hashed + 1) % 3;
    let meta = deliver(
        &p,
        ProducerRecord::new("explicit", "v")
            .key("alice")
            .partition(forced),
    )
    .await;
    assert_eq!(meta.partition, forced);
    let missing = deliver_err(&p, ProducerRecord::new("explicit", "v").partition(7)).await;
    assert_eq!(missing.code(), Some(ErrorCode::PartitionNotFound));
}

async fn deliver_err(p: &Producer, record: ProducerRecord) -> weir::Error {
    let delivery = within("send", p.send(record)).await.expect("send");
    within("delivery", delivery)
        .await
        .expect_err("delivery should fail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_partitioner_fills_a_batch_before_moving_on() {
    let server = common::Server::start();
    topic(&server, "sticky", 4).await;
    // 100-byte values plus 21 bytes of overhead: 8 records fit 1000 bytes, the 9th does not.
    let p = producer(&server)
        .await
        .batch_bytes(1000)
        .build()
        .await
        .expect("producer");
    let mut deliveries = Vec::new();
    for _ in 0..40 {
        let r = ProducerRecord::new("sticky", vec![b'x'; 100]);
        deliveries.push(within("send", p.send(r)).await.expect("send"));
    }
    let mut partitions = Vec::new();
    for d in deliveries {
        partitions.push(within("delivery", d).await.expect("delivered").partition);
    }
    for (run, chunk) in partitions.chunks(8).enumerate() {
        assert!(
            chunk.iter().all(|&q| q == chunk[0]),
            "run {run}: {partitions:?}"
        );
        if run > 0 {
            assert_eq!(
                chunk[0],
                (partitions[(run - 1) * 8] + 1) % 4,
                "{partitions:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_per_key_holds_with_many_batches_in_flight() {
    let server = common::Server::start();
    topic(&server, "ordered", 3).await;
    let p = producer(&server)
        .await
        .linger(Duration::ZERO)
        .batch_bytes(600)
        .max_in_flight(5)
        .build()
        .await
        .expect("producer");
    let keys = 10;
    let total = 2000;
    let mut deliveries = Vec::new();
    for i in 0..total {
        let r =
            ProducerRecord::new("ordered", format!("{}", i / keys)).key(format!("k{}", i % keys));
        deliveries.push(within("send", p.send(r)).await.expect("send"));
    }
    let mut last: BTreeMap<u32, i64> = BTreeMap::new();
    for d in deliveries {
        let meta = within("delivery", d).await.expect("delivered");
        let previous = last.insert(meta.partition, meta.offset);
        assert!(
            previous.is_none_or(|o| o < meta.offset),
            "offsets out of send order"
        );
    }
    let tps: Vec<TopicPartition> = (0..3).map(|q| TopicPartition::new("ordered", q)).collect();
    let mut c = reader(&server, &tps).await;
    let records = drain(&mut c, total).await;
    let mut seen: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for r in &records {
        let n: u64 = std::str::from_utf8(r.value.as_deref().unwrap())
            .unwrap()
            .parse()
            .unwrap();
        let key = r.key.clone().unwrap().to_vec();
        if let Some(prev) = seen.insert(key, n) {
            assert_eq!(n, prev + 1, "a key's records out of order");
        }
    }
    assert_eq!(seen.len(), keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_topic_fails_with_topic_not_found_not_retryable() {
    let server = common::Server::start();
    let admin = topic(&server, "exists", 1).await;
    let p = producer(&server).await.build().await.expect("producer");
    let e = within("send", p.send(ProducerRecord::new("nope", "v").key("k")))
        .await
        .expect_err("unknown topic");
    assert_eq!(e.code(), Some(ErrorCode::TopicNotFound), "{e}");
    assert!(!e.is_retryable());
    let e = within("describe", admin.describe_topic("nope"))
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), Some(ErrorCode::TopicNotFound));
    let consumer = Consumer::builder()
        .url(&server.grpc)
        .token(server.admin_token())
        .group("g")
        .subscribe(["nope"])
        .build()
        .await
        .expect_err("subscribe to an unknown topic");
    assert_eq!(consumer.code(), Some(ErrorCode::TopicNotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_topics() {
    let server = common::Server::start();
    let admin = topic(&server, "managed", 2).await;
    let names: Vec<String> = admin
        .list_topics()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["managed"]);
    let change = TopicChange {
        partitions: Some(4),
        config: Some(weir::admin::TopicConfig {
            retention_ms: Some(60_000),
            ..Default::default()
        }),
    };
    let altered = admin.alter_topic("managed", change).await.expect("alter");
    assert_eq!(altered.partitions.len(), 4);
    assert_eq!(altered.config.unwrap().retention_ms, Some(60_000));
    assert_eq!(admin.partition_count("managed").await.expect("count"), 4);
    let e = admin
        .create_topic("managed", 1, Default::default())
        .await
        .expect_err("twice");
    assert_eq!(e.code(), Some(ErrorCode::TopicAlreadyExists));
    admin.delete_topic("managed").await.expect("delete");
    assert!(admin.list_topics().await.expect("list").is_empty());
}
