//! Acks, the broker's door to partitions and leader epochs, through the broker API on one
//! node: every acks level answers right after the append (the high watermark is the log end
//! there), the door refuses what does not exist with the usual codes, every stored batch
//! carries leader epoch 0, and a data directory written before leader epochs opens whole and
//! gets its checkpoints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use weir_broker::{
    Acks, Broker, BrokerConfig, DEFAULT_TENANT, NewRecord, Principal, TenantId, TopicConfig,
    TopicName,
};
use weir_codec::ErrorCode;
use weir_codec::batch::{BatchOptions, Record, batches, encode};

const CHECKPOINT: &str = "leader-epoch-checkpoint";

fn open(dir: &Path) -> Broker {
    Broker::open(BrokerConfig::new(dir)).unwrap()
}

fn admin() -> Principal {
    Principal::anonymous(TenantId::parse(DEFAULT_TENANT).unwrap())
}

fn tenant() -> TenantId {
    TenantId::parse(DEFAULT_TENANT).unwrap()
}

fn batch(count: usize) -> Vec<u8> {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            value: Some(Bytes::from(format!("v{i}"))),
            timestamp: 1_700_000_000_000,
            ..Record::default()
        })
        .collect();
    encode(&records, &BatchOptions::default()).unwrap()
}

fn record(value: &str, partition: i64) -> NewRecord {
    NewRecord {
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        partition: Some(partition),
        ..NewRecord::default()
    }
}

/// (base offset, leader epoch) of every batch readable in partition `p` of `topic`.
async fn stamps(broker: &Broker, topic: &str, p: i64) -> Vec<(i64, i32)> {
    let fetched = broker
        .fetch(&tenant(), topic, p, 0, 1 << 20, Duration::ZERO)
        .await
        .unwrap()
        .read()
        .unwrap();
    batches(&fetched.batches)
        .map(|b| {
            let (h, _) = b.unwrap();
            (h.base_offset, h.partition_leader_epoch)
        })
        .collect()
}

/// Every partition directory of every topic under the data directory.
fn partition_dirs(data: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for topic in std::fs::read_dir(data.join("topics")).unwrap() {
        for partition in std::fs::read_dir(topic.unwrap().path()).unwrap() {
            dirs.push(partition.unwrap().path());
        }
    }
    dirs.sort();
    dirs
}

#[tokio::test]
async fn every_acks_level_answers_after_the_append_on_one_node() {
    let dir = tempfile::tempdir().unwrap();
    let broker = open(dir.path());
    let name = TopicName::parse("orders").unwrap();
    broker
        .create_topic(&admin(), &tenant(), name, 2, TopicConfig::default())
        .unwrap();
    let mut expected = 0;
    for acks in [Acks::None, Acks::Leader, Acks::All] {
        let produced = broker
            .produce_batch(&tenant(), "orders", 1, &batch(3), acks)
            .unwrap();
        assert_eq!(produced.info().base_offset, expected);
        let info = tokio::time::timeout(Duration::from_secs(5), produced.acknowledged())
            .await
            .expect("one node: the high watermark is past the batch at once")
            .unwrap();
        assert_eq!(
            (info.base_offset, info.last_offset),
            (expected, expected + 2)
        );
        let partition = broker.partition(&tenant(), "orders", 1).unwrap();
        assert_eq!(partition.high_watermark(), expected + 3);
        assert_eq!(partition.log_end_offset(), expected + 3);
        expected += 3;
    }
    let produced = broker
        .produce_records_acked(
            &tenant(),
            "orders",
            vec![record("a", 0), record("b", 1), record("c", 0)],
            Acks::All,
        )
        .unwrap();
    let results = tokio::time::timeout(Duration::from_secs(5), produced.acknowledged())
        .await
        .unwrap()
        .unwrap();
    let offsets: Vec<(u32, i64)> = results
        .iter()
        .map(|r| {
            let p = r.as_ref().unwrap();
            (p.partition, p.offset)
        })
        .collect();
    assert_eq!(offsets, [(0, 0), (1, 9), (0, 1)]);
    let offsets = broker.partition(&tenant(), "orders", 0).unwrap().offsets();
    assert_eq!(offsets.high_watermark, 2);
}

#[tokio::test]
async fn the_door_refuses_what_does_not_exist() {
    fn code<T: std::fmt::Debug>(r: Result<T, weir_broker::BrokerError>) -> ErrorCode {
        r.unwrap_err().code()
    }
    let dir = tempfile::tempdir().unwrap();
    let broker = open(dir.path());
    let name = TopicName::parse("t").unwrap();
    broker
        .create_topic(&admin(), &tenant(), name, 3, TopicConfig::default())
        .unwrap();
    let all = broker.partitions(&tenant(), "t").unwrap();
    assert_eq!(all.iter().map(|p| p.index()).collect::<Vec<_>>(), [0, 1, 2]);
    let topic = broker.topic(&tenant(), "t").unwrap();
    assert_eq!(broker.topic_partitions(&topic).len(), 3);
    assert_eq!(
        code(broker.partition(&tenant(), "t", 3)),
        ErrorCode::PartitionNotFound
    );
    assert_eq!(
        code(broker.partition(&tenant(), "t", -1)),
        ErrorCode::PartitionNotFound
    );
    assert_eq!(
        code(broker.partitions(&tenant(), "nope")),
        ErrorCode::TopicNotFound
    );
    let nobody = TenantId::parse("nobody").unwrap();
    assert_eq!(
        code(broker.partition(&nobody, "t", 0)),
        ErrorCode::TenantNotFound
    );
    assert_eq!(
        code(broker.produce_batch(&tenant(), "t", 7, &batch(1), Acks::All)),
        ErrorCode::PartitionNotFound
    );
}

#[tokio::test]
async fn batches_carry_epoch_0_and_an_older_data_directory_opens_whole() {
    let dir = tempfile::tempdir().unwrap();
    {
        let broker = open(dir.path());
        let name = TopicName::parse("old").unwrap();
        broker
            .create_topic(&admin(), &tenant(), name, 2, TopicConfig::default())
            .unwrap();
        for p in [0, 1, 0] {
            broker
                .produce_batch(&tenant(), "old", p, &batch(2), Acks::Leader)
                .unwrap()
                .acknowledged()
                .await
                .unwrap();
        }
        assert_eq!(stamps(&broker, "old", 0).await, [(0, 0), (2, 0)]);
        broker.shutdown().unwrap();
    }
    let partitions = partition_dirs(dir.path());
    assert_eq!(partitions.len(), 2);
    for p in &partitions {
        let text = std::fs::read_to_string(p.join(CHECKPOINT)).unwrap();
        assert_eq!(text, "0\n1\n0 0\n", "{}", p.display());
        // What a data directory of an older Weir holds: no checkpoint.
        std::fs::remove_file(p.join(CHECKPOINT)).unwrap();
    }

    let broker = open(dir.path());
    assert_eq!(stamps(&broker, "old", 0).await, [(0, 0), (2, 0)]);
    assert_eq!(stamps(&broker, "old", 1).await, [(0, 0)]);
    let ends = ["0\n1\n0 4\n", "0\n1\n0 2\n"];
    for (p, end) in partitions.iter().zip(ends) {
        let text = std::fs::read_to_string(p.join(CHECKPOINT)).unwrap();
        assert_eq!(text, end, "{}", p.display());
    }
    let offsets = broker.partition(&tenant(), "old", 0).unwrap().offsets();
    assert_eq!((offsets.log_start_offset, offsets.high_watermark), (0, 4));
    let info = broker
        .produce_batch(&tenant(), "old", 0, &batch(1), Acks::All)
        .unwrap()
        .acknowledged()
        .await
        .unwrap();
    assert_eq!(info.base_offset, 4);
    assert_eq!(stamps(&broker, "old", 0).await, [(0, 0), (2, 0), (4, 0)]);
}
