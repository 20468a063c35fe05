//! gRPC side of the grpc_* tests: clients connected to a test server that send its bootstrap
//! admin key with every call, a timeout around every call (a test fails, never hangs), the
//! ErrorCode read out of a status, and batch building.
//!
//! Must not start or stop servers (that is `common`) and must not assert on a scenario: each
//! test file says what it expects.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use prost::Message;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use weir_proto::batch::{
    BatchOptions, Compression, DecodeLimits, DecodedRecord, Header, Record, batches, decode, encode,
};
use weir_proto::v1::admin_client::AdminClient;
use weir_proto::v1::fetch_client::FetchClient;
use weir_proto::v1::groups_client::GroupsClient;
use weir_proto::v1::produce_client::ProduceClient;
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{
    Acks, CreateTopicRequest, ErrorDetail, FetchRequest, FetchResponse, ProduceRequest,
    ProduceResponse, TopicConfig, TopicInfo,
};
use weir_testkit::Server;

/// Longest any one call or stream message may take before the test fails.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The tenant every fresh server has.
pub const TENANT: &str = "default";

/// Milliseconds since the epoch that test records start from (fixed, so runs compare).
pub const TIMESTAMP_BASE: i64 = 1_700_000_000_000;

/// Adds `authorization: Bearer <key>` to every call.
#[derive(Debug, Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A connection whose calls carry the server's bootstrap admin key.
pub type AuthChannel = InterceptedService<Channel, Bearer>;

/// One client per service, over one connection.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Admin service.
    pub admin: AdminClient<AuthChannel>,
    /// Produce service.
    pub produce: ProduceClient<AuthChannel>,
    /// Fetch service.
    pub fetch: FetchClient<AuthChannel>,
}

/// A new connection to the gRPC endpoint `server` printed, as its bootstrap admin.
pub async fn channel(server: &Server) -> AuthChannel {
    let channel = within(
        "connect",
        Channel::from_shared(server.grpc.clone())
            .expect("endpoint")
            .connect(),
    )
    .await
    .expect("connect to weir over gRPC");
    let bearer = server.bearer().parse().expect("metadata value");
    InterceptedService::new(channel, Bearer(bearer))
}

/// Connects to a test server's gRPC endpoint, as its bootstrap admin.
pub async fn connect(server: &Server) -> Clients {
    let channel = channel(server).await;
    Clients {
        admin: AdminClient::new(channel.clone()),
        produce: ProduceClient::new(channel.clone()),
        fetch: FetchClient::new(channel),
    }
}

/// A Groups client on its own connection to a test server, as its bootstrap admin.
pub async fn groups(server: &Server) -> GroupsClient<AuthChannel> {
    GroupsClient::new(channel(server).await)
}

/// Awaits `f`, failing the test when it takes longer than `CALL_TIMEOUT`.
pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(CALL_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {CALL_TIMEOUT:?}"))
}

/// The Weir ErrorCode a failed call carries in its status details.
pub fn error_code(status: &tonic::Status) -> String {
    ErrorDetail::decode(status.details())
        .unwrap_or_else(|e| panic!("status {status:?} has no ErrorDetail: {e}"))
        .code
}

/// The ErrorCode of a call that must fail.
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> String {
    error_code(&result.expect_err("the call should fail"))
}

/// Creates a topic in `TENANT`.
pub async fn create_topic(
    c: &mut Clients,
    name: &str,
    partitions: u32,
    config: Option<TopicConfig>,
) -> TopicInfo {
    let request = CreateTopicRequest {
        tenant: TENANT.into(),
        name: name.into(),
        partitions,
        config,
    };
    within("create topic", c.admin.create_topic(request))
        .await
        .expect("create topic")
        .into_inner()
}

/// `n` records with keys, values, headers and increasing timestamps; every third value is a
/// tombstone and every fourth key is null, so nulls round-trip too.
pub fn records(n: usize, tag: &str, timestamp: i64) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            key: (i % 4 != 3).then(|| format!("{tag}-key-{i}").into()),
            value: (i % 3 != 2).then(|| format!("{tag}-value-{i}-{}", "x".repeat(i)).into()),
            headers: vec![
                Header {
                    key: "tag".into(),
                    value: Some(tag.to_owned().into()),
                },
                Header {
                    key: "null".into(),
                    value: None,
                },
            ],
            timestamp: timestamp + i as i64,
        })
        .collect()
}

/// One batch of `records` compressed with `compression`.
pub fn batch(records: &[Record], compression: Compression) -> Vec<u8> {
    let opts = BatchOptions {
        compression,
        ..BatchOptions::default()
    };
    encode(records, &opts).expect("encode batch")
}

/// A request producing `batch` to `topic`/`partition` with leader acks.
pub fn batch_request(topic: &str, partition: i32, batch: Vec<u8>) -> ProduceRequest {
    ProduceRequest {
        tenant: TENANT.into(),
        topic: topic.into(),
        partition,
        acks: Acks::Leader.into(),
        payload: Some(Payload::Batch(batch.into())),
        sequence: 0,
    }
}

/// Produces one batch (unary).
pub async fn produce_batch(
    c: &mut Clients,
    topic: &str,
    partition: i32,
    batch: Vec<u8>,
) -> Result<ProduceResponse, tonic::Status> {
    within(
        "produce",
        c.produce.produce(batch_request(topic, partition, batch)),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// A fetch of `topic`/`partition` from `offset`, default size, no wait.
pub fn fetch_request(topic: &str, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest {
        tenant: TENANT.into(),
        topic: topic.into(),
        partition,
        offset,
        max_bytes: 0,
        wait_ms: 0,
    }
}

/// Fetches once (unary).
pub async fn fetch(c: &mut Clients, request: FetchRequest) -> Result<FetchResponse, tonic::Status> {
    within("fetch", c.fetch.fetch(request))
        .await
        .map(tonic::Response::into_inner)
}

/// Every record of every whole batch in `bytes`, with each batch's codec.
pub fn decode_batches(bytes: &[u8]) -> Vec<(Compression, DecodedRecord)> {
    let mut out = Vec::new();
    for batch in batches(bytes) {
        let (header, bytes) = batch.expect("a valid batch");
        let codec = header.compression().expect("a known codec");
        let (_, records) = decode(bytes, &DecodeLimits::default()).expect("decode batch");
        out.extend(records.into_iter().map(|r| (codec, r)));
    }
    out
}

/// Asserts that `got` holds `sent` in order from offset `base`.
pub fn assert_same_records(sent: &[Record], got: &[DecodedRecord], base: i64) {
    assert_eq!(got.len(), sent.len(), "record count");
    for (i, (s, g)) in sent.iter().zip(got).enumerate() {
        assert_eq!(g.offset, base + i as i64, "offset of record {i}");
        assert_eq!(g.key, s.key, "key of record {i}");
        assert_eq!(g.value, s.value, "value of record {i}");
        assert_eq!(g.headers, s.headers, "headers of record {i}");
        assert_eq!(g.timestamp, s.timestamp, "timestamp of record {i}");
    }
}
