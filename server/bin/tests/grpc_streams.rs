//! gRPC streams against the real binary: ProduceStream with many requests in flight answered
//! in order (failures answered in place, the stream going on), its requests read whatever
//! HTTP/2 frames they come in and bad framing refused with an ErrorCode (as tonic's refusals of
//! the other methods' requests are), and FetchStream as a live tail that ends with an ErrorCode
//! when its partition goes away.

mod common;
mod grpc_client;

use bytes::{BufMut, Bytes, BytesMut};
use grpc_client::{
    Clients, TENANT, TIMESTAMP_BASE, assert_same_records, batch, batch_request, connect,
    create_topic, decode_batches, error_code, expect_code, fetch_request, produce_batch, records,
    within,
};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::{Service, http};
use weir_proto::batch::{Compression, DecodedRecord};
use weir_proto::grpc_frame::{self, Messages};
use weir_proto::v1::{Acks, FetchResponse, ProduceRequest, ProduceResponse, TopicRef};

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

/// Calls ProduceStream with `wire` (requests framed as gRPC) cut into `chunk`-byte HTTP/2 DATA
/// frames, and returns the answers and the status the call ended with.
async fn produce_stream_raw(
    server: &common::Server,
    wire: Bytes,
    chunk: usize,
) -> (Vec<ProduceResponse>, tonic::Status) {
    call_raw(server, "/weir.v1.Produce/ProduceStream", wire, chunk).await
}

/// Calls the method at `path` with `wire` as its request body, cut into `chunk`-byte HTTP/2
/// DATA frames, and returns the answers and the status the call ended with.
async fn call_raw<M: Message + Default>(
    server: &common::Server,
    path: &str,
    wire: Bytes,
    chunk: usize,
) -> (Vec<M>, tonic::Status) {
    let mut channel = tonic::transport::Channel::from_shared(server.grpc.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let frames: Vec<Result<_, std::convert::Infallible>> = wire
        .chunks(chunk)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let body = StreamBody::new(tokio_stream::iter(frames));
    let request = http::Request::post(path)
        .version(http::Version::HTTP_2)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", server.bearer())
        .body(tonic::body::Body::new(body))
        .expect("request");
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .expect("ready");
    let response = within("produce stream call", channel.call(request))
        .await
        .expect("an HTTP answer");
    let (parts, body) = response.into_parts();
    if let Some(refused) = tonic::Status::from_header_map(&parts.headers) {
        return (Vec::new(), refused);
    }
    let body = within("produce stream body", body.collect())
        .await
        .expect("the whole body");
    let status = body
        .trailers()
        .and_then(tonic::Status::from_header_map)
        .expect("a status in the trailers");
    let mut messages = Messages::new(1 << 20);
    messages.push(body.to_bytes());
    let mut answers = Vec::new();
    while let Some(m) = messages.next_message().expect("answers framed as gRPC") {
        answers.push(M::decode(m).expect("an answer"));
    }
    assert!(messages.is_empty(), "no partial answer");
    (answers, status)
}

/// Request `i` of a raw stream: three records for partition 0.
fn framed_request(i: u64) -> Bytes {
    let recs = records(3, &format!("raw{i}"), TIMESTAMP_BASE);
    let mut request = batch_request("raw", 0, batch(&recs, Compression::None));
    request.sequence = i;
    grpc_frame::encode(&request)
}

fn joined(parts: &[&[u8]]) -> Bytes {
    let mut out = BytesMut::new();
    for p in parts {
        out.put_slice(p);
    }
    out.freeze()
}

#[tokio::test]
async fn produce_stream_reads_requests_in_any_frames_and_refuses_bad_framing() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "raw", 1, None).await;
    let (first, second) = (framed_request(1), framed_request(2));

    // Cut at 7 bytes, then at 1 byte: every request straddles many frames.
    let mut end = 0;
    for chunk in [7, 1] {
        let (answers, status) =
            produce_stream_raw(&server, joined(&[&first, &second]), chunk).await;
        assert_eq!(status.code(), tonic::Code::Ok, "{status:?}");
        let offsets: Vec<_> = answers
            .iter()
            .map(|a| (a.sequence, a.base_offset))
            .collect();
        assert_eq!(offsets, [(1, end), (2, end + 3)], "chunks of {chunk}");
        end += 6;
    }

    // A compressed message (nothing negotiated it): the request before it is answered and kept.
    let mut compressed = second.to_vec();
    compressed[0] = 1;
    let (answers, status) = produce_stream_raw(&server, joined(&[&first, &compressed]), 64).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(error_code(&status), "INVALID_REQUEST");
    end += 3;

    // The body ends inside a message.
    let cut = &second[..second.len() - 1];
    let (answers, status) = produce_stream_raw(&server, joined(&[&first, cut]), 4096).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(error_code(&status), "INVALID_REQUEST");
    assert!(
        status.message().contains("middle of a message"),
        "{status:?}"
    );
    end += 3;

    // A prefix announcing more than the server's message limit (16 MiB) is refused at once.
    let announced = (17_u32 << 20).to_be_bytes();
    let oversized = [&[0_u8][..], &announced[..]].concat();
    let (answers, status) = produce_stream_raw(&server, joined(&[&first, &oversized]), 4096).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(error_code(&status), "REQUEST_TOO_LARGE");
    end += 3;

    // Bytes that are no ProduceRequest.
    let garbage = [&[0_u8, 0, 0, 0, 3][..], &[0xff, 0xff, 0xff][..]].concat();
    let (answers, status) = produce_stream_raw(&server, joined(&[&garbage]), 4096).await;
    assert!(answers.is_empty());
    assert_eq!(error_code(&status), "INVALID_REQUEST");

    let read = grpc_client::fetch(&mut c, fetch_request("raw", 0, 0))
        .await
        .expect("fetch");
    assert_eq!(
        read.high_watermark, end,
        "every answered request, nothing else"
    );
}

#[tokio::test]
async fn requests_tonic_cannot_read_are_refused_with_an_error_code() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    create_topic(&mut c, "raw", 1, None).await;
    let oversized = [&[0_u8][..], &(17_u32 << 20).to_be_bytes()[..]].concat();
    let garbage = [&[0_u8, 0, 0, 0, 3][..], &[0xff, 0xff, 0xff][..]].concat();
    let cut = framed_request(1).slice(..20);
    let cases: [(&str, &[u8], &str); 6] = [
        ("/weir.v1.Produce/Produce", &oversized, "REQUEST_TOO_LARGE"),
        ("/weir.v1.Produce/Produce", &garbage, "INVALID_REQUEST"),
        ("/weir.v1.Produce/Produce", &cut, "INVALID_REQUEST"),
        ("/weir.v1.Produce/Produce", &[], "INVALID_REQUEST"),
        ("/weir.v1.Fetch/FetchStream", &garbage, "INVALID_REQUEST"),
        (
            "/weir.v1.Admin/CreateTopic",
            &oversized,
            "REQUEST_TOO_LARGE",
        ),
    ];
    for (path, wire, expected) in cases {
        let wire = Bytes::copy_from_slice(wire);
        let (answers, status) = call_raw::<ProduceResponse>(&server, path, wire, 4096).await;
        assert!(answers.is_empty(), "{path}");
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{path}: {status:?}"
        );
        assert_eq!(error_code(&status), expected, "{path}: {status:?}");
    }

    // An unknown method is no request error: it stays UNIMPLEMENTED.
    let (_, status) =
        call_raw::<ProduceResponse>(&server, "/weir.v1.Produce/Nope", framed_request(1), 4096)
            .await;
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");

    let read = grpc_client::fetch(&mut c, fetch_request("raw", 0, 0))
        .await
        .expect("fetch");
    assert_eq!(read.high_watermark, 0, "nothing was appended");
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
