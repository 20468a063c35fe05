//! gRPC unary Produce and Fetch against the real binary: batches round-trip byte-exact with
//! every codec, plain records get per-record positions, acks=none, long polls, and the
//! ErrorCode each refusal carries.

mod common;
mod grpc_client;

use grpc_client::{
    Clients, TENANT, TIMESTAMP_BASE, assert_same_records, batch, batch_request, connect,
    create_topic, decode_batches, expect_code, fetch, fetch_request, produce_batch, records,
    within,
};
use weir_proto::batch::{Compression, DecodedRecord};
use weir_proto::partitioner::partition_for_key;
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{
    Acks, FetchRequest, PlainRecord, ProduceRequest, RecordHeader, RecordList, TopicConfig,
};

const RECORDS_PER_BATCH: usize = 6;

#[tokio::test]
async fn batches_round_trip_with_every_codec() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "codecs", 1, None).await;
    let mut sent = Vec::new();
    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        let timestamp = TIMESTAMP_BASE + 1000 * i as i64;
        let recs = records(RECORDS_PER_BATCH, codec.name(), timestamp);
        let ack = produce_batch(&mut c, "codecs", 0, batch(&recs, codec))
            .await
            .unwrap_or_else(|e| panic!("produce {}: {e}", codec.name()));
        let base = (i * RECORDS_PER_BATCH) as i64;
        assert_eq!(ack.partition, 0);
        assert_eq!(ack.base_offset, base, "{}", codec.name());
        assert_eq!(ack.last_offset, base + RECORDS_PER_BATCH as i64 - 1);
        sent.push((codec, recs));
    }
    let total = (Compression::ALL.len() * RECORDS_PER_BATCH) as i64;

    let all = fetch(&mut c, fetch_request("codecs", 0, 0))
        .await
        .expect("fetch");
    assert_eq!(
        (all.next_offset, all.high_watermark, all.log_start_offset),
        (total, total, 0)
    );
    let got = decode_batches(&all.batches);
    for (i, (codec, recs)) in sent.iter().enumerate() {
        let base = (i * RECORDS_PER_BATCH) as i64;
        let of_codec: Vec<DecodedRecord> = got
            .iter()
            .filter(|(c, _)| c == codec)
            .map(|(_, r)| r.clone())
            .collect();
        assert_same_records(recs, &of_codec, base);
    }

    // From the middle of the zstd batch: the batch comes whole, starting before the offset.
    let mid = total - 2;
    let tail = fetch(&mut c, fetch_request("codecs", 0, mid))
        .await
        .expect("fetch");
    let got = decode_batches(&tail.batches);
    assert_eq!(
        got.first().map(|(c, r)| (*c, r.offset)),
        Some((Compression::Zstd, mid - 4))
    );
    assert_eq!(tail.next_offset, total);
}

fn plain(key: Option<&str>, value: &[u8], partition: Option<i32>) -> PlainRecord {
    PlainRecord {
        key: key.map(|k| k.to_owned().into()),
        value: Some(value.to_vec().into()),
        headers: vec![RecordHeader {
            key: "h".into(),
            value: Some("v".into()),
        }],
        timestamp: Some(TIMESTAMP_BASE),
        partition,
    }
}

fn records_request(topic: &str, records: Vec<PlainRecord>, acks: Acks) -> ProduceRequest {
    ProduceRequest {
        tenant: TENANT.into(),
        topic: topic.into(),
        partition: 0,
        acks: acks.into(),
        payload: Some(Payload::Records(RecordList { records })),
        sequence: 7,
    }
}

#[tokio::test]
async fn plain_records_get_a_position_or_an_error_each() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "plain", 3, None).await;
    let keyed = partition_for_key(b"user-1", 3).unwrap() as i32;
    let other = (keyed + 1) % 3;
    let too_large = vec![b'x'; (1 << 20) + 1];
    let sent = vec![
        plain(Some("user-1"), b"a", None),
        plain(None, b"b", Some(other)),
        plain(Some("user-1"), b"c", None),
        plain(None, b"d", Some(9)),
        plain(None, &too_large, Some(0)),
    ];
    let request = records_request("plain", sent, Acks::Leader);
    let response = within("produce records", c.produce.produce(request))
        .await
        .expect("produce records")
        .into_inner();
    assert_eq!(response.sequence, 7);
    let p = &response.positions;
    assert_eq!(p.len(), 5);
    assert_eq!((p[0].partition, p[2].partition), (keyed, keyed));
    assert_eq!(
        p[2].offset,
        p[0].offset + 1,
        "same key, same partition, in order"
    );
    assert_eq!((p[1].partition, p[1].error.as_ref()), (other, None));
    assert_eq!(p[1].timestamp, TIMESTAMP_BASE);
    let code = |i: usize| p[i].error.as_ref().map(|e| e.code.as_str());
    assert_eq!(code(3), Some("PARTITION_NOT_FOUND"));
    assert_eq!(code(4), Some("RECORD_TOO_LARGE"));

    let read = fetch(&mut c, fetch_request("plain", other, p[1].offset))
        .await
        .expect("fetch");
    let got = decode_batches(&read.batches);
    let (_, record) = &got[0];
    assert_eq!(record.value.as_deref(), Some(&b"b"[..]));
    assert_eq!(record.headers[0].key, "h");
    assert_eq!(record.headers[0].value.as_deref(), Some(&b"v"[..]));
}

#[tokio::test]
async fn acks_none_answers_at_once_and_still_appends() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "fire", 1, None).await;
    let mut request = batch_request(
        "fire",
        0,
        batch(&records(3, "n", TIMESTAMP_BASE), Compression::Lz4),
    );
    request.acks = Acks::None.into();
    let ack = within("produce", c.produce.produce(request))
        .await
        .expect("produce")
        .into_inner();
    assert_eq!(
        (ack.base_offset, ack.last_offset),
        (-1, -1),
        "no offsets are known yet"
    );

    // A long poll sees the records whenever the append lands.
    let wait = FetchRequest {
        wait_ms: 5_000,
        ..fetch_request("fire", 0, 0)
    };
    let read = fetch(&mut c, wait).await.expect("fetch");
    assert_eq!(decode_batches(&read.batches).len(), 3);
}

#[tokio::test]
async fn a_long_poll_returns_when_records_arrive() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "poll", 1, None).await;
    let mut reader = c.clone();
    let poll = tokio::spawn(async move {
        let wait = FetchRequest {
            wait_ms: 8_000,
            ..fetch_request("poll", 0, 0)
        };
        fetch(&mut reader, wait).await
    });
    let sent = records(2, "late", TIMESTAMP_BASE);
    produce_batch(&mut c, "poll", 0, batch(&sent, Compression::Snappy))
        .await
        .expect("produce");
    let read = within("long poll", poll)
        .await
        .expect("join")
        .expect("fetch");
    let got: Vec<_> = decode_batches(&read.batches)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_same_records(&sent, &got, 0);
}

async fn produce_code(c: &mut Clients, request: ProduceRequest) -> String {
    expect_code(within("produce", c.produce.produce(request)).await)
}

#[tokio::test]
async fn produce_refusals_carry_their_error_code() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    let small = TopicConfig {
        batch_bytes_max: Some(1024),
        ..TopicConfig::default()
    };
    create_topic(&mut c, "small", 2, Some(small)).await;
    let ok = batch(&records(2, "ok", TIMESTAMP_BASE), Compression::None);

    assert_eq!(
        produce_code(&mut c, batch_request("nope", 0, ok.clone())).await,
        "TOPIC_NOT_FOUND"
    );
    assert_eq!(
        produce_code(&mut c, batch_request("small", 5, ok.clone())).await,
        "PARTITION_NOT_FOUND"
    );
    let mut corrupt = ok.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let status = within(
        "produce",
        c.produce.produce(batch_request("small", 0, corrupt)),
    )
    .await
    .expect_err("a corrupted batch is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(grpc_client::error_code(&status), "INVALID_BATCH");
    let large = batch(&records(40, "large", TIMESTAMP_BASE), Compression::None);
    assert!(large.len() > 1024);
    assert_eq!(
        produce_code(&mut c, batch_request("small", 0, large)).await,
        "BATCH_TOO_LARGE"
    );

    let mut no_payload = batch_request("small", 0, ok.clone());
    no_payload.payload = None;
    assert_eq!(produce_code(&mut c, no_payload).await, "INVALID_REQUEST");
    let empty = records_request("small", Vec::new(), Acks::Leader);
    assert_eq!(produce_code(&mut c, empty).await, "INVALID_REQUEST");
    let mut no_tenant = batch_request("small", 0, ok.clone());
    no_tenant.tenant = "nobody".into();
    assert_eq!(produce_code(&mut c, no_tenant).await, "TENANT_NOT_FOUND");

    // Nothing refused was stored; the valid batch still goes in at offset 0.
    let ack = produce_batch(&mut c, "small", 0, ok)
        .await
        .expect("produce");
    assert_eq!(ack.base_offset, 0);
}

#[tokio::test]
async fn fetch_refusals_carry_their_error_code() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "reads", 1, None).await;
    let sent = records(3, "r", TIMESTAMP_BASE);
    produce_batch(&mut c, "reads", 0, batch(&sent, Compression::Gzip))
        .await
        .expect("produce");

    let code = |r| expect_code(r);
    assert_eq!(
        code(fetch(&mut c, fetch_request("nope", 0, 0)).await),
        "TOPIC_NOT_FOUND"
    );
    assert_eq!(
        code(fetch(&mut c, fetch_request("reads", 1, 0)).await),
        "PARTITION_NOT_FOUND"
    );
    assert_eq!(
        code(fetch(&mut c, fetch_request("reads", -1, 0)).await),
        "PARTITION_NOT_FOUND"
    );
    let beyond = fetch(&mut c, fetch_request("reads", 0, 100)).await;
    let status = beyond.as_ref().expect_err("beyond the end");
    assert_eq!(status.code(), tonic::Code::OutOfRange);
    assert_eq!(code(beyond), "OFFSET_OUT_OF_RANGE");
    let at_end = fetch(&mut c, fetch_request("reads", 0, 3))
        .await
        .expect("fetch at the end");
    assert!(at_end.batches.is_empty());
    assert_eq!(at_end.next_offset, 3);
}
