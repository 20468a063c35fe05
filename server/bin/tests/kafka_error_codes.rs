//! The refusals a Kafka client tells apart carry codes of their own, with Kafka's names, on
//! both transports: a session timeout out of bounds (INVALID_SESSION_TIMEOUT), offset metadata
//! past `offset_metadata_bytes_max` (OFFSET_METADATA_TOO_LARGE), a record with more headers
//! than `record_headers_max` (INVALID_RECORD) and, on gRPC (REST has no acks), an acks value
//! the server does not know (INVALID_REQUIRED_ACKS). Nothing refused is stored.

mod common;
mod groups_support;
mod grpc_client;

use std::collections::BTreeMap;

use groups_support::{client, committed, expect_problem, group_url};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{
    Acks, CommitRequest, FetchCommittedRequest, HeartbeatRequest, OffsetCommit, PlainRecord,
    ProduceRequest, RecordHeader, RecordList,
};

const TOPIC: &str = "events";
const GROUP: &str = "kafka-codes";
/// The server's defaults (`weir serve` without configuration).
const SESSION_TIMEOUT_MS_MIN: u64 = 1_000;
const SESSION_TIMEOUT_MS_MAX: u64 = 300_000;
const OFFSET_METADATA_BYTES_MAX: usize = 4_096;
const RECORD_HEADERS_MAX: usize = 64;

fn headers(n: usize) -> BTreeMap<String, String> {
    (0..n).map(|i| (format!("h{i}"), "v".to_owned())).collect()
}

#[tokio::test]
async fn rest_refusals_carry_the_kafka_codes() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    groups_support::create_topic(&c, base, TOPIC, 1).await;

    for timeout in [SESSION_TIMEOUT_MS_MIN - 1, SESSION_TIMEOUT_MS_MAX + 1] {
        let r = c
            .post(group_url(base, GROUP, "/fetch"))
            .json(&json!({"topics": [TOPIC], "session_timeout_ms": timeout}))
            .send()
            .await
            .unwrap();
        let body = expect_problem(r, StatusCode::BAD_REQUEST, "INVALID_SESSION_TIMEOUT").await;
        assert_eq!(body["retryable"], false);
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(&timeout.to_string()), "{detail}");
    }

    let commit = |offset: i64, metadata_bytes: usize| {
        c.post(group_url(base, GROUP, "/offsets"))
            .json(&json!({"offsets": [{
                "topic": TOPIC, "partition": 0, "offset": offset,
                "metadata": "m".repeat(metadata_bytes),
            }]}))
            .send()
    };
    let r = commit(1, OFFSET_METADATA_BYTES_MAX).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let r = commit(5, OFFSET_METADATA_BYTES_MAX + 1).await.unwrap();
    let body = expect_problem(
        r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "OFFSET_METADATA_TOO_LARGE",
    )
    .await;
    assert_eq!(body["retryable"], false);
    assert_eq!(
        committed(&c, base, GROUP).await,
        [((TOPIC.to_owned(), 0), 1)].into()
    );

    let records_url = format!("{base}/v1/tenants/default/topics/{TOPIC}/records");
    let produce = |records: Value| {
        c.post(&records_url)
            .json(&json!({ "records": records }))
            .send()
    };
    let r = produce(json!([
        {"value": "fine", "headers": headers(RECORD_HEADERS_MAX)},
        {"value": "too many", "headers": headers(RECORD_HEADERS_MAX + 1)},
    ]))
    .await
    .unwrap();
    let body = expect_problem(r, StatusCode::BAD_REQUEST, "INVALID_RECORD").await;
    assert!(
        body["detail"].as_str().unwrap().starts_with("records[1]: "),
        "{body}"
    );
    // The request was refused whole: the first record was not written either.
    let r = produce(json!([{"value": "fine", "headers": headers(RECORD_HEADERS_MAX)}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let written: Value = r.json().await.unwrap();
    assert_eq!(written["results"][0]["offset"], 0, "{written}");
}

fn plain(value: &str, header_count: usize) -> PlainRecord {
    PlainRecord {
        value: Some(value.to_owned().into()),
        headers: (0..header_count)
            .map(|i| RecordHeader {
                key: format!("h{i}"),
                value: Some("v".into()),
            })
            .collect(),
        partition: Some(0),
        ..PlainRecord::default()
    }
}

#[tokio::test]
async fn grpc_refusals_carry_the_kafka_codes() {
    let server = common::Server::start();
    let mut c = grpc_client::connect(&server).await;
    grpc_client::create_topic(&mut c, TOPIC, 1, None).await;
    let mut g = grpc_client::groups(&server).await;

    for timeout in [SESSION_TIMEOUT_MS_MIN - 1, SESSION_TIMEOUT_MS_MAX + 1] {
        let join = HeartbeatRequest {
            tenant: "default".into(),
            group: GROUP.into(),
            topics: vec![TOPIC.into()],
            session_timeout_ms: Some(timeout),
            ..HeartbeatRequest::default()
        };
        let status = grpc_client::within("heartbeat", g.heartbeat(join))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(grpc_client::error_code(&status), "INVALID_SESSION_TIMEOUT");
    }

    let commit = |offset: i64, metadata_bytes: usize| CommitRequest {
        tenant: "default".into(),
        group: GROUP.into(),
        offsets: vec![OffsetCommit {
            topic: TOPIC.into(),
            partition: 0,
            offset,
            metadata: "m".repeat(metadata_bytes),
        }],
        ..CommitRequest::default()
    };
    grpc_client::within("commit", g.commit(commit(1, OFFSET_METADATA_BYTES_MAX)))
        .await
        .expect("metadata of offset_metadata_bytes_max bytes is accepted");
    let status = grpc_client::within("commit", g.commit(commit(5, OFFSET_METADATA_BYTES_MAX + 1)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        grpc_client::error_code(&status),
        "OFFSET_METADATA_TOO_LARGE"
    );
    let stored = FetchCommittedRequest {
        tenant: "default".into(),
        group: GROUP.into(),
        topics: vec![],
    };
    let stored = grpc_client::within("fetch committed", g.fetch_committed(stored))
        .await
        .expect("fetch committed")
        .into_inner()
        .offsets;
    assert_eq!(
        stored.iter().map(|o| o.offset).collect::<Vec<_>>(),
        [1],
        "{stored:?}"
    );

    // Plain records are answered one by one: the record with too many headers fails alone.
    let records = |acks: i32| ProduceRequest {
        tenant: "default".into(),
        topic: TOPIC.into(),
        acks,
        payload: Some(Payload::Records(RecordList {
            records: vec![
                plain("fine", RECORD_HEADERS_MAX),
                plain("too many", RECORD_HEADERS_MAX + 1),
            ],
        })),
        ..ProduceRequest::default()
    };
    let answer = grpc_client::within("produce", c.produce.produce(records(Acks::Leader.into())))
        .await
        .expect("produce")
        .into_inner();
    let [fine, bad] = answer.positions.as_slice() else {
        panic!("one position per record: {answer:?}");
    };
    assert_eq!((fine.error.as_ref(), fine.offset), (None, 0));
    let error = bad.error.as_ref().expect("the second record fails");
    assert_eq!(error.code, "INVALID_RECORD");

    let status = grpc_client::within("produce", c.produce.produce(records(42)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(grpc_client::error_code(&status), "INVALID_REQUIRED_ACKS");
    // Nothing of the refused request was written.
    let end = grpc_client::fetch(&mut c, grpc_client::fetch_request(TOPIC, 0, 0))
        .await
        .expect("fetch")
        .high_watermark;
    assert_eq!(end, 1);
}
