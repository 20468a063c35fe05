//! The broker with its metadata in a single-voter Raft quorum: the same operations as with
//! the local command log, surviving a restart, with no local command log written.

use std::time::Duration;

use bytes::Bytes;
use weir_broker::{
    Broker, BrokerConfig, DEFAULT_TENANT, NewRecord, Principal, TenantId, TopicConfig, TopicName,
};
use weir_cluster::RaftMetadataLog;

fn open(dir: &std::path::Path) -> Broker {
    let config = BrokerConfig::new(dir);
    let policy = config.policy();
    let broker =
        Broker::open_with(config, |data| RaftMetadataLog::open_single(1, data, policy)).unwrap();
    broker.bootstrap_if_fresh().unwrap();
    broker
}

fn admin() -> Principal {
    Principal::anonymous(TenantId::parse(DEFAULT_TENANT).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_records_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let default = TenantId::parse(DEFAULT_TENANT).unwrap();
    let acme = TenantId::parse("acme").unwrap();
    let orders = TopicName::parse("orders").unwrap();
    {
        let broker = open(dir.path());
        assert_eq!(broker.tenants(), std::slice::from_ref(&default));
        broker.create_tenant(&admin(), &acme).unwrap();
        broker
            .create_topic(&admin(), &acme, orders.clone(), 2, TopicConfig::default())
            .unwrap();
        let record = NewRecord {
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            ..NewRecord::default()
        };
        let produced = broker
            .produce_records(&acme, "orders", vec![record])
            .unwrap();
        assert!(produced[0].is_ok(), "{produced:?}");
        let (first, _) = broker.init_producer(&acme).unwrap();
        let (second, _) = broker.init_producer(&acme).unwrap();
        assert_eq!(second, first + 1);
        broker.shutdown().unwrap();
    }
    assert!(
        !dir.path().join("meta").exists(),
        "no local command log in cluster mode"
    );
    assert!(dir.path().join("raft/log/log").exists());

    let broker = open(dir.path());
    assert_eq!(broker.tenants(), [acme.clone(), default]);
    let topic = broker.topic(&acme, "orders").unwrap();
    assert_eq!(topic.partition_count(), 2);
    let stored: i64 = topic
        .partitions()
        .iter()
        .map(|p| p.offsets().high_watermark)
        .sum();
    assert_eq!(stored, 1);
    // A restarted node reserves a new block of producer ids: none is handed out twice.
    let (after, _) = broker.init_producer(&acme).unwrap();
    assert!(after >= weir_broker::PRODUCER_ID_BLOCK, "{after}");
    let fetched = broker
        .fetch(&acme, "orders", 0, 0, 1 << 20, Duration::ZERO)
        .await
        .unwrap();
    assert!(fetched.next_offset >= 0);
    broker.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_registers_before_the_bootstrap_still_gets_tenant_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig::new(dir.path());
    let policy = config.policy();
    let broker =
        Broker::open_with(config, |data| RaftMetadataLog::open_single(1, data, policy)).unwrap();
    let spec = weir_broker::metadata::NodeSpec {
        id: 1,
        http_addr: "127.0.0.1:8780".into(),
        grpc_addr: "127.0.0.1:8781".into(),
        rack: None,
        fenced: false,
        token_jwks: None,
    };
    broker.register_node(spec).unwrap();
    broker.bootstrap_if_fresh().unwrap();
    let default = TenantId::parse(DEFAULT_TENANT).unwrap();
    assert_eq!(broker.tenants(), [default]);
    // Once anything but registrations is there, it bootstraps nothing again.
    let acme = TenantId::parse("acme").unwrap();
    broker.create_tenant(&admin(), &acme).unwrap();
    broker
        .delete_tenant(&admin(), &TenantId::parse(DEFAULT_TENANT).unwrap())
        .unwrap();
    broker.bootstrap_if_fresh().unwrap();
    assert_eq!(broker.tenants(), [acme]);
    broker.shutdown().unwrap();
}
