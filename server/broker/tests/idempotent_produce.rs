//! Idempotent produce through the broker API: a resent batch is stored once and answered with
//! its original offsets, a sequence gap is refused, and both hold after a restart (the producer
//! state is rebuilt from the log). Producer ids stay unique across restarts.

use bytes::Bytes;
use weir_broker::{
    Acks, AppendInfo, Broker, BrokerConfig, BrokerError, DEFAULT_TENANT, TenantId, TopicConfig,
    TopicName,
};
use weir_codec::ErrorCode;
use weir_codec::batch::{BatchOptions, Record, encode};

fn open(dir: &std::path::Path) -> Broker {
    Broker::open(BrokerConfig::new(dir)).unwrap()
}

/// A batch of `count` records from an idempotent producer.
fn batch(producer_id: i64, base_sequence: i32, count: usize) -> Vec<u8> {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            value: Some(Bytes::from(format!("r{}", base_sequence as usize + i))),
            timestamp: 1_700_000_000_000,
            ..Record::default()
        })
        .collect();
    let options = BatchOptions {
        producer_id,
        producer_epoch: 0,
        base_sequence,
        ..BatchOptions::default()
    };
    encode(&records, &options).unwrap()
}

/// Produces to partition 0 of `orders`, answered once the leader's log holds the batch.
fn produce(broker: &Broker, tenant: &TenantId, batch: &[u8]) -> Result<AppendInfo, BrokerError> {
    broker
        .produce_batch(tenant, "orders", 0, batch, Acks::Leader)
        .map(|produced| produced.info())
}

fn code(e: BrokerError) -> ErrorCode {
    e.code()
}

#[test]
fn resent_batches_are_stored_once_and_gaps_are_refused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::parse(DEFAULT_TENANT).unwrap();
    let (first, second);
    let producer_id;
    {
        let broker = open(dir.path());
        let name = TopicName::parse("orders").unwrap();
        broker
            .create_topic(&admin(), &tenant, name, 1, TopicConfig::default())
            .unwrap();
        (producer_id, _) = broker.init_producer(&tenant).unwrap();
        first = produce(&broker, &tenant, &batch(producer_id, 0, 3)).unwrap();
        second = produce(&broker, &tenant, &batch(producer_id, 3, 2)).unwrap();
        let again = produce(&broker, &tenant, &batch(producer_id, 0, 3)).unwrap();
        assert_eq!(again, first);
        let gap = produce(&broker, &tenant, &batch(producer_id, 9, 1));
        assert_eq!(code(gap.unwrap_err()), ErrorCode::OutOfOrderSequence);
        let topic = broker.topic(&tenant, "orders").unwrap();
        assert_eq!(topic.partition(0).unwrap().offsets().high_watermark, 5);
        broker.shutdown().unwrap();
    }
    let broker = open(dir.path());
    let again = produce(&broker, &tenant, &batch(producer_id, 3, 2)).unwrap();
    assert_eq!(again, second);
    let gap = produce(&broker, &tenant, &batch(producer_id, 6, 1));
    assert_eq!(code(gap.unwrap_err()), ErrorCode::OutOfOrderSequence);
    let next = produce(&broker, &tenant, &batch(producer_id, 5, 1)).unwrap();
    assert_eq!(next.base_offset, 5);
    // Batches without a producer id are never deduplicated.
    let plain = encode(&[Record::default()], &BatchOptions::default()).unwrap();
    produce(&broker, &tenant, &plain).unwrap();
    produce(&broker, &tenant, &plain).unwrap();
    let topic = broker.topic(&tenant, "orders").unwrap();
    assert_eq!(topic.partition(0).unwrap().offsets().high_watermark, 8);
    let (after_restart, _) = broker.init_producer(&tenant).unwrap();
    assert!(
        after_restart > producer_id,
        "{after_restart} <= {producer_id}"
    );
}

#[test]
fn producer_ids_are_unique_and_need_a_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::parse(DEFAULT_TENANT).unwrap();
    let broker = open(dir.path());
    let ids: Vec<i64> = (0..5)
        .map(|_| broker.init_producer(&tenant).unwrap().0)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let missing = TenantId::parse("nobody").unwrap();
    let e = broker.init_producer(&missing).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenantNotFound);
}

fn admin() -> weir_broker::Principal {
    weir_broker::Principal::anonymous(weir_broker::TenantId::parse("default").unwrap())
}
