//! gRPC Admin against the real binary: topic create/list/describe/alter/delete, settings
//! (defaults, -1 = unlimited, unset = keep), metadata, ListOffsets, and the ErrorCode every
//! refusal carries.

mod common;
mod grpc_client;

use grpc_client::{
    Clients, TENANT, TIMESTAMP_BASE, batch, connect, create_topic, expect_code, produce_batch,
    records, within,
};
use weir_proto::batch::Compression;
use weir_proto::v1::{
    AlterTopicRequest, CreateTopicRequest, ListOffsetsRequest, ListTopicsRequest, MetadataRequest,
    OffsetSpec, TopicConfig, TopicRef,
};

fn topic_ref(name: &str) -> TopicRef {
    TopicRef {
        tenant: TENANT.into(),
        name: name.into(),
    }
}

async fn list_names(c: &mut Clients) -> Vec<String> {
    let request = ListTopicsRequest {
        tenant: TENANT.into(),
    };
    within("list topics", c.admin.list_topics(request))
        .await
        .expect("list topics")
        .into_inner()
        .topics
        .into_iter()
        .map(|t| t.name)
        .collect()
}

#[tokio::test]
async fn topic_crud_over_grpc() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    let config = TopicConfig {
        retention_ms: Some(-1),
        segment_bytes: Some(1 << 20),
        ..TopicConfig::default()
    };
    let created = create_topic(&mut c, "orders", 2, Some(config)).await;
    assert_eq!(created.name, "orders");
    assert_eq!(created.partitions.len(), 2);
    for (i, p) in created.partitions.iter().enumerate() {
        assert_eq!(p.partition, i as i32);
        assert_eq!((p.log_start_offset, p.high_watermark, p.leader), (0, 0, 0));
    }
    let cfg = created.config.expect("config filled in");
    assert_eq!(cfg.retention_ms, Some(-1), "-1 stays unlimited");
    assert_eq!(cfg.retention_bytes, Some(-1), "default: no size limit");
    assert_eq!(cfg.segment_bytes, Some(1 << 20));
    assert!(cfg.batch_bytes_max.is_some(), "defaults are filled in");

    assert_eq!(list_names(&mut c).await, ["orders"]);
    let described = within("describe", c.admin.describe_topic(topic_ref("orders")))
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(described, created);

    let alter = AlterTopicRequest {
        tenant: TENANT.into(),
        name: "orders".into(),
        config: Some(TopicConfig {
            retention_bytes: Some(1_000_000),
            ..TopicConfig::default()
        }),
        partitions: Some(3),
    };
    let altered = within("alter", c.admin.alter_topic(alter))
        .await
        .expect("alter")
        .into_inner();
    assert_eq!(altered.partitions.len(), 3);
    let cfg = altered.config.expect("config");
    assert_eq!(cfg.retention_bytes, Some(1_000_000));
    assert_eq!(cfg.retention_ms, Some(-1), "unset fields keep their value");
    assert_eq!(
        cfg.segment_bytes,
        Some(1 << 20),
        "unset fields keep their value"
    );

    within("delete", c.admin.delete_topic(topic_ref("orders")))
        .await
        .expect("delete");
    let gone = within("describe", c.admin.describe_topic(topic_ref("orders"))).await;
    assert_eq!(expect_code(gone), "TOPIC_NOT_FOUND");
    assert!(list_names(&mut c).await.is_empty());
}

#[tokio::test]
async fn unset_partition_count_creates_one_partition() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    let created = create_topic(&mut c, "single", 0, None).await;
    assert_eq!(created.partitions.len(), 1);
}

#[tokio::test]
async fn admin_refusals_carry_their_error_code() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "taken", 2, None).await;
    let create = |tenant: &str, name: &str, partitions: u32| CreateTopicRequest {
        tenant: tenant.into(),
        name: name.into(),
        partitions,
        config: None,
    };

    let dup = within("create", c.admin.create_topic(create(TENANT, "taken", 1))).await;
    let status = dup.as_ref().expect_err("duplicate");
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert_eq!(expect_code(dup), "TOPIC_ALREADY_EXISTS");
    let bad = within(
        "create",
        c.admin.create_topic(create(TENANT, "bad/name", 1)),
    )
    .await;
    assert_eq!(expect_code(bad), "INVALID_REQUEST");
    let huge = within(
        "create",
        c.admin.create_topic(create(TENANT, "huge", 1 << 30)),
    )
    .await;
    assert_eq!(expect_code(huge), "INVALID_PARTITIONS");
    let no_tenant = within("create", c.admin.create_topic(create("nobody", "t", 1))).await;
    assert_eq!(expect_code(no_tenant), "TENANT_NOT_FOUND");

    let shrink = AlterTopicRequest {
        tenant: TENANT.into(),
        name: "taken".into(),
        config: None,
        partitions: Some(1),
    };
    let shrink = within("alter", c.admin.alter_topic(shrink)).await;
    assert_eq!(expect_code(shrink), "INVALID_PARTITIONS");
    let negative = AlterTopicRequest {
        tenant: TENANT.into(),
        name: "taken".into(),
        config: Some(TopicConfig {
            retention_ms: Some(-2),
            ..TopicConfig::default()
        }),
        partitions: None,
    };
    let negative = within("alter", c.admin.alter_topic(negative)).await;
    assert_eq!(expect_code(negative), "INVALID_CONFIG");
    let missing = within("delete", c.admin.delete_topic(topic_ref("missing"))).await;
    assert_eq!(expect_code(missing), "TOPIC_NOT_FOUND");
}

#[tokio::test]
async fn metadata_names_this_node_and_the_tenants_topics() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "a", 1, None).await;
    create_topic(&mut c, "b", 2, None).await;
    let metadata = |topics: &[&str]| MetadataRequest {
        tenant: TENANT.into(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
    };

    let all = within("metadata", c.admin.metadata(metadata(&[])))
        .await
        .expect("metadata")
        .into_inner();
    assert_eq!(all.brokers.len(), 1);
    let node = &all.brokers[0];
    assert_eq!(node.id, 0);
    assert_eq!(format!("http://{}", node.grpc_addr), server.grpc);
    assert_eq!(format!("http://{}", node.http_addr), server.http);
    let names: Vec<_> = all.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);

    let one = within("metadata", c.admin.metadata(metadata(&["b"])))
        .await
        .expect("metadata")
        .into_inner();
    assert_eq!(one.topics.len(), 1);
    assert_eq!(one.topics[0].partitions.len(), 2);
    let unknown = within("metadata", c.admin.metadata(metadata(&["a", "zzz"]))).await;
    assert_eq!(expect_code(unknown), "TOPIC_NOT_FOUND");
}

fn offsets_request(partitions: &[i32], spec: OffsetSpec, timestamp: i64) -> ListOffsetsRequest {
    ListOffsetsRequest {
        tenant: TENANT.into(),
        topic: "events".into(),
        partitions: partitions.to_vec(),
        spec: spec.into(),
        timestamp,
    }
}

async fn offsets(c: &mut Clients, request: ListOffsetsRequest) -> Vec<(i32, i64)> {
    within("list offsets", c.admin.list_offsets(request))
        .await
        .expect("list offsets")
        .into_inner()
        .offsets
        .into_iter()
        .map(|o| (o.partition, o.offset))
        .collect()
}

#[tokio::test]
async fn list_offsets_by_position_and_timestamp() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "events", 2, None).await;
    // Partition 0: two batches of five records, timestamps TIMESTAMP_BASE + 0..5 and + 100..105.
    for (i, base) in [0, 100].into_iter().enumerate() {
        let sent = records(5, &format!("b{i}"), TIMESTAMP_BASE + base);
        produce_batch(&mut c, "events", 0, batch(&sent, Compression::None))
            .await
            .expect("produce");
    }

    let earliest = offsets_request(&[], OffsetSpec::Earliest, 0);
    assert_eq!(offsets(&mut c, earliest).await, [(0, 0), (1, 0)]);
    let latest = offsets_request(&[], OffsetSpec::Latest, 0);
    assert_eq!(offsets(&mut c, latest).await, [(0, 10), (1, 0)]);
    let ts = |t: i64| offsets_request(&[0], OffsetSpec::Timestamp, TIMESTAMP_BASE + t);
    assert_eq!(offsets(&mut c, ts(0)).await, [(0, 0)]);
    assert_eq!(offsets(&mut c, ts(3)).await, [(0, 3)], "inside a batch");
    assert_eq!(offsets(&mut c, ts(50)).await, [(0, 5)], "between batches");
    assert_eq!(offsets(&mut c, ts(104)).await, [(0, 9)]);
    assert_eq!(
        offsets(&mut c, ts(105)).await,
        [(0, -1)],
        "nothing that recent"
    );
    let empty = offsets_request(&[1], OffsetSpec::Timestamp, TIMESTAMP_BASE);
    assert_eq!(offsets(&mut c, empty).await, [(1, -1)]);

    let missing = offsets_request(&[7], OffsetSpec::Latest, 0);
    let missing = within("list offsets", c.admin.list_offsets(missing)).await;
    assert_eq!(expect_code(missing), "PARTITION_NOT_FOUND");
    let unspecified = offsets_request(&[], OffsetSpec::Unspecified, 0);
    let unspecified = within("list offsets", c.admin.list_offsets(unspecified)).await;
    assert_eq!(expect_code(unspecified), "INVALID_REQUEST");
}
