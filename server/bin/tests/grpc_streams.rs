//! gRPC streams against the real binary: ProduceStream with many requests in flight answered
//! in order (failures answered in place, the stream going on), and FetchStream as a live tail
//! that ends with an ErrorCode when its partition goes away.

mod common;
mod grpc_client;

use grpc_client::{
    Clients, TENANT, TIMESTAMP_BASE, assert_same_records, batch, batch_request, connect,
    create_topic, decode_batches, error_code, expect_code, fetch_request, produce_batch, records,
    within,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use weir_proto::batch::{Compression, DecodedRecord};
use weir_proto::v1::{Acks, FetchResponse, ProduceRequest, TopicRef};

/// More requests than the server keeps answered-but-unsent, so its bound is exercised.
const STREAM_REQUESTS: usize = 100;
const RECORDS_PER_REQUEST: usize = 2;

/// What request `i` of the stream is, and what its answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Appended(i32),
    Unacked(i32),
    Fails(&'static str),
}

fn kind(i: usize) -> Kind {
    match i {
        _ if i % 10 == 5 => Kind::Fails("PARTITION_NOT_FOUND"),
        17 => Kind::Fails("INVALID_REQUEST"),
        _ if i % 25 == 12 => Kind::Unacked((i % 2) as i32),
        _ => Kind::Appended((i % 2) as i32),
    }
}

fn stream_request(i: usize) -> ProduceRequest {
    let recs = records(RECORDS_PER_REQUEST, &format!("s{i}"), TIMESTAMP_BASE);
    let (partition, acks) = match kind(i) {
        Kind::Appended(p) => (p, Acks::Leader),
        Kind::Unacked(p) => (p, Acks::None),
        Kind::Fails(_) => (9, Acks::All),
    };
    let mut request = batch_request("stream", partition, batch(&recs, Compression::Snappy));
    request.acks = acks.into();
    request.sequence = 1_000 + i as u64;
    if kind(i) == Kind::Fails("INVALID_REQUEST") {
        request.payload = None;
    }
    request
}

#[tokio::test]
async fn produce_stream_answers_every_request_in_order() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "stream", 2, None).await;
    let (tx, rx) = mpsc::channel(STREAM_REQUESTS);
    // Every request is queued before a single answer is read: all are in flight at once.
    for i in 0..STREAM_REQUESTS {
        tx.send(stream_request(i)).await.expect("queue request");
    }
    let mut answers = within(
        "open produce stream",
        c.produce.produce_stream(ReceiverStream::new(rx)),
    )
    .await
    .expect("produce stream")
    .into_inner();

    let mut next = [0_i64; 2];
    for i in 0..STREAM_REQUESTS {
        let answer = within("stream answer", answers.message())
            .await
            .expect("stream answer")
            .expect("one answer per request");
        assert_eq!(
            answer.sequence,
            1_000 + i as u64,
            "answers come in request order"
        );
        match kind(i) {
            Kind::Appended(p) => {
                assert_eq!(answer.error, None, "request {i}");
                assert_eq!(answer.base_offset, next[p as usize], "request {i}");
                next[p as usize] += RECORDS_PER_REQUEST as i64;
            }
            Kind::Unacked(p) => {
                assert_eq!((answer.base_offset, answer.error), (-1, None));
                // Appended right after its answer, before the next request.
                next[p as usize] += RECORDS_PER_REQUEST as i64;
            }
            Kind::Fails(code) => {
                let error = answer
                    .error
                    .unwrap_or_else(|| panic!("request {i} must fail"));
                assert_eq!(error.code, code, "request {i}");
            }
        }
    }
    drop(tx);
    let end = within("stream end", answers.message())
        .await
        .expect("clean end");
    assert!(end.is_none(), "no answer without a request");

    for (p, &end) in next.iter().enumerate() {
        let read = grpc_client::fetch(&mut c, fetch_request("stream", p as i32, 0))
            .await
            .expect("fetch");
        assert_eq!(read.high_watermark, end, "partition {p}");
    }
}

async fn next_message(stream: &mut tonic::Streaming<FetchResponse>) -> FetchResponse {
    within("fetch stream message", stream.message())
        .await
        .expect("a stream message")
        .expect("the stream is open")
}

#[tokio::test]
async fn fetch_stream_delivers_records_produced_after_it_started() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "tail", 1, None).await;
    let mut stream = within(
        "open fetch stream",
        c.fetch.fetch_stream(fetch_request("tail", 0, 0)),
    )
    .await
    .expect("fetch stream")
    .into_inner();

    let mut sent = Vec::new();
    for (i, codec) in [Compression::None, Compression::Zstd, Compression::Gzip]
        .into_iter()
        .enumerate()
    {
        let recs = records(4, &format!("t{i}"), TIMESTAMP_BASE + i as i64 * 10);
        produce_batch(&mut c, "tail", 0, batch(&recs, codec))
            .await
            .expect("produce");
        sent.extend(recs);
    }

    let mut got: Vec<DecodedRecord> = Vec::new();
    while got.len() < sent.len() {
        let message = next_message(&mut stream).await;
        assert!(!message.batches.is_empty(), "only non-empty reads are sent");
        assert_eq!(message.log_start_offset, 0);
        got.extend(decode_batches(&message.batches).into_iter().map(|(_, r)| r));
        assert_eq!(message.next_offset, got.len() as i64);
    }
    assert_same_records(&sent, &got, 0);
}

#[tokio::test]
async fn fetch_stream_ends_with_an_error_when_its_topic_is_deleted() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "doomed", 1, None).await;
    let mut stream = within(
        "open fetch stream",
        c.fetch.fetch_stream(fetch_request("doomed", 0, 0)),
    )
    .await
    .expect("fetch stream")
    .into_inner();
    produce_batch(
        &mut c,
        "doomed",
        0,
        batch(&records(1, "d", TIMESTAMP_BASE), Compression::None),
    )
    .await
    .expect("produce");
    next_message(&mut stream).await;

    let doomed = TopicRef {
        tenant: TENANT.into(),
        name: "doomed".into(),
    };
    within("delete", c.admin.delete_topic(doomed))
        .await
        .expect("delete");
    let end = within("fetch stream end", stream.message())
        .await
        .expect_err("the stream ends with an error");
    assert_eq!(error_code(&end), "TOPIC_NOT_FOUND");
}

async fn open_error(c: &mut Clients, partition: i32, offset: i64) -> String {
    let request = fetch_request("checked", partition, offset);
    let opened = within("open fetch stream", c.fetch.fetch_stream(request)).await;
    match opened {
        Err(status) => error_code(&status),
        Ok(response) => {
            let mut stream = response.into_inner();
            expect_code(within("first message", stream.message()).await)
        }
    }
}

#[tokio::test]
async fn fetch_stream_refusals_carry_their_error_code() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "checked", 1, None).await;
    assert_eq!(open_error(&mut c, 3, 0).await, "PARTITION_NOT_FOUND");
    assert_eq!(open_error(&mut c, 0, 50).await, "OFFSET_OUT_OF_RANGE");
    let mut no_topic = fetch_request("missing", 0, 0);
    no_topic.tenant = TENANT.into();
    let opened = within("open fetch stream", c.fetch.fetch_stream(no_topic)).await;
    assert_eq!(expect_code(opened.map(|_| ())), "TOPIC_NOT_FOUND");
}

#[tokio::test]
async fn fetch_stream_ends_with_unavailable_when_the_server_stops() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "idle", 1, None).await;
    let mut stream = within(
        "open fetch stream",
        c.fetch.fetch_stream(fetch_request("idle", 0, 0)),
    )
    .await
    .expect("fetch stream")
    .into_inner();

    // SIGTERM while the tail idles: the stream is told to go elsewhere, the server exits.
    let stopped = tokio::task::spawn_blocking(move || server.stop());
    let end = within("fetch stream end", stream.message())
        .await
        .expect_err("the stream ends with an error");
    assert_eq!(end.code(), tonic::Code::Unavailable);
    assert_eq!(error_code(&end), "UNAVAILABLE");
    let (status, _) = within("server exit", stopped).await.expect("join");
    assert!(status.success(), "clean exit: {status:?}");
}
