//! Whole batches through the producer (`send_batch`): sent behind the records queued before
//! them, stamped with the producer id and sequence when idempotent, and refused when they are
//! not a batch or name a partition the topic lacks.

mod common;
mod support;

use std::time::Duration;

use bytes::Bytes;
use common::Server;
use support::{client, drain, topic, within};
use weir::{
    AutoOffsetReset, Consumer, ConsumerConfig, ErrorCode, Producer, ProducerRecord, TopicPartition,
};
use weir_proto::batch::{BatchOptions, Record, encode};

fn batch(values: std::ops::Range<u32>) -> Bytes {
    let records: Vec<Record> = values
        .map(|i| Record {
            value: Some(Bytes::from(format!("b{i}"))),
            timestamp: 1_700_000_000_000,
            ..Record::default()
        })
        .collect();
    Bytes::from(encode(&records, &BatchOptions::default()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_keep_their_place_and_are_numbered_when_idempotent() {
    let server = Server::start();
    let _admin = topic(&server, "raw", 2).await;
    for idempotent in [true, false] {
        let p = within(
            "producer",
            Producer::builder()
                .config(Default::default())
                .url(server.grpc.clone())
                .token(server.admin_token())
                .idempotence(idempotent)
                .build(),
        )
        .await
        .unwrap();
        let first = within(
            "send",
            p.send(ProducerRecord::new("raw", "r0").partition(1)),
        )
        .await
        .unwrap();
        let whole = within("send batch", p.send_batch("raw", 1, batch(0..5)))
            .await
            .unwrap();
        let last = within(
            "send",
            p.send(ProducerRecord::new("raw", "r1").partition(1)),
        )
        .await
        .unwrap();
        let first = within("first", first).await.unwrap();
        let whole = within("batch", whole).await.unwrap();
        let last = within("last", last).await.unwrap();
        assert_eq!(
            whole.base_offset,
            first.offset + 1,
            "idempotent={idempotent}"
        );
        assert_eq!(whole.last_offset, whole.base_offset + 4);
        assert_eq!(last.offset, whole.last_offset + 1);
        // The same bytes again: a second, distinct batch (a new sequence, not a duplicate).
        let again = within("again", p.send_batch("raw", 1, batch(0..5)))
            .await
            .unwrap();
        let again = within("again", again).await.unwrap();
        assert_eq!(again.base_offset, last.offset + 1);
        within("close", p.close()).await.unwrap();
    }
    let config = ConsumerConfig {
        client: client(&server),
        auto_offset_reset: AutoOffsetReset::Earliest,
        fetch_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    let mut c = within("consumer", Consumer::builder().config(config).build())
        .await
        .unwrap();
    c.assign(&[TopicPartition::new("raw", 1)]).unwrap();
    let values: Vec<String> = drain(&mut c, 24)
        .await
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap().to_vec()).unwrap())
        .collect();
    let round: Vec<String> = [
        "r0", "b0", "b1", "b2", "b3", "b4", "r1", "b0", "b1", "b2", "b3", "b4",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(values[..12], round[..]);
    assert_eq!(values[12..], round[..]);
    c.close().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_a_batch_is_refused_before_sending() {
    let server = Server::start();
    let _admin = topic(&server, "raw", 1).await;
    let p = within(
        "producer",
        Producer::builder()
            .config(Default::default())
            .url(server.grpc.clone())
            .token(server.admin_token())
            .build(),
    )
    .await
    .unwrap();
    let mut damaged = batch(0..3).to_vec();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    for bytes in [Bytes::from_static(b"not a batch"), Bytes::from(damaged)] {
        let err = p.send_batch("raw", 0, bytes).await.unwrap_err();
        assert!(matches!(err, weir::Error::InvalidArgument(_)), "{err}");
    }
    let err = p.send_batch("raw", 5, batch(0..3)).await.unwrap_err();
    assert!(matches!(err, weir::Error::InvalidArgument(_)), "{err}");
    let err = p.send_batch("nowhere", 0, batch(0..3)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TopicNotFound), "{err}");
    p.close().await.unwrap();
    server.stop();
}
