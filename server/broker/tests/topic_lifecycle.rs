//! Topic lifecycle through the broker API: create, produce records and batches, fetch with and
//! without waiting, alter, restart, delete — and tenant scoping of every lookup.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use weir_broker::{
    Broker, BrokerConfig, BrokerError, DEFAULT_TENANT, NewRecord, TenantId, TopicChange,
    TopicConfig, TopicName,
};
use weir_codec::ErrorCode;
use weir_codec::batch::{DecodeLimits, batches, decode};
use weir_codec::partitioner::partition_for_key;

fn open(dir: &std::path::Path) -> Broker {
    Broker::open(BrokerConfig::new(dir)).unwrap()
}

fn record(key: Option<&str>, value: &str) -> NewRecord {
    NewRecord {
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        ..NewRecord::default()
    }
}

fn values(fetched: &weir_broker::FetchedSlices) -> Vec<String> {
    let fetched = fetched.clone().read().unwrap();
    let mut out = Vec::new();
    for batch in batches(&fetched.batches) {
        let (_, bytes) = batch.unwrap();
        let (_, records) = decode(bytes, &DecodeLimits::default()).unwrap();
        out.extend(
            records
                .into_iter()
                .map(|r| String::from_utf8(r.value.unwrap().to_vec()).unwrap()),
        );
    }
    out
}

#[tokio::test]
async fn topics_survive_restart_and_stay_in_their_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let default = TenantId::parse(DEFAULT_TENANT).unwrap();
    let other = TenantId::parse("other").unwrap();
    {
        let broker = open(dir.path());
        assert_eq!(broker.tenants(), vec![default.clone()]);
        broker.create_tenant(&admin(), &other).unwrap();
        let name = TopicName::parse("orders").unwrap();
        broker
            .create_topic(&admin(), &default, name.clone(), 3, TopicConfig::default())
            .unwrap();
        let err = broker
            .create_topic(&admin(), &default, name, 3, TopicConfig::default())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::TopicAlreadyExists);

        let results = broker
            .produce_records(
                &default,
                "orders",
                vec![
                    record(Some("user-1"), "a"),
                    record(Some("user-1"), "b"),
                    record(None, "c"),
                ],
            )
            .unwrap();
        let expected = partition_for_key(b"user-1", 3).unwrap();
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.partition, expected);
        assert_eq!(results[1].as_ref().unwrap().partition, expected);
        assert_eq!(results[1].as_ref().unwrap().offset, first.offset + 1);

        let fetched = broker
            .fetch(
                &default,
                "orders",
                i64::from(expected),
                0,
                1 << 20,
                Duration::ZERO,
            )
            .await
            .unwrap();
        assert_eq!(values(&fetched), ["a", "b"]);
        assert_eq!(fetched.next_offset, 2);

        // The other tenant sees nothing of it, with the same error as for a missing topic.
        let err = broker
            .fetch(&other, "orders", 0, 0, 1024, Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::TopicNotFound);
        assert!(broker.list_topics(&other).unwrap().is_empty());

        broker
            .alter_topic(
                &admin(),
                &default,
                "orders",
                TopicChange {
                    partitions: Some(5),
                    config: None,
                },
            )
            .unwrap();
        let err = broker
            .alter_topic(
                &admin(),
                &default,
                "orders",
                TopicChange {
                    partitions: Some(2),
                    config: None,
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPartitions);
        broker.shutdown().unwrap();
        assert!(matches!(
            broker.produce_records(&default, "orders", vec![record(None, "late")]),
            Err(BrokerError::ShuttingDown)
        ));
    }
    let broker = open(dir.path());
    let topic = broker.topic(&default, "orders").unwrap();
    assert_eq!(topic.partition_count(), 5);
    let expected = partition_for_key(b"user-1", 3).unwrap();
    let fetched = broker
        .fetch(
            &default,
            "orders",
            i64::from(expected),
            0,
            1 << 20,
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(values(&fetched), ["a", "b"]);
    broker.delete_topic(&admin(), &default, "orders").unwrap();
    assert_eq!(
        broker.topic(&default, "orders").unwrap_err().code(),
        ErrorCode::TopicNotFound
    );
    drop(broker);
    let broker = open(dir.path());
    assert!(broker.list_topics(&default).unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("topics"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn a_waiting_fetch_wakes_when_records_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Arc::new(open(dir.path()));
    let tenant = TenantId::parse(DEFAULT_TENANT).unwrap();
    broker
        .create_topic(
            &admin(),
            &tenant,
            TopicName::parse("t").unwrap(),
            1,
            TopicConfig::default(),
        )
        .unwrap();
    let waiter = {
        let broker = Arc::clone(&broker);
        let tenant = tenant.clone();
        tokio::spawn(async move {
            broker
                .fetch(&tenant, "t", 0, 0, 1024, Duration::from_secs(20))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished());
    broker
        .produce_records(&tenant, "t", vec![record(None, "wake")])
        .unwrap();
    let fetched = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(values(&fetched), ["wake"]);

    // Out of range and bad partitions are typed errors.
    let err = broker
        .fetch(&tenant, "t", 0, 5, 1024, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OffsetOutOfRange);
    let err = broker
        .fetch(&tenant, "t", 3, 0, 1024, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PartitionNotFound);
    let big = NewRecord {
        value: Some(Bytes::from(vec![0u8; (1 << 20) + 1])),
        ..NewRecord::default()
    };
    let results = broker
        .produce_records(&tenant, "t", vec![big, record(None, "ok")])
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err().code(),
        ErrorCode::RecordTooLarge
    );
    assert_eq!(results[1].as_ref().unwrap().offset, 1);
}

fn admin() -> weir_broker::Principal {
    weir_broker::Principal::anonymous(weir_broker::TenantId::parse("default").unwrap())
}
