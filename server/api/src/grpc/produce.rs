//! gRPC Produce: unary and bidirectional-stream appends of RecordBatch v2 bytes or plain
//! records, with the acks each request asks for, and idempotent producer ids (InitProducer;
//! the sequence checks themselves are the broker's, per partition).
//!
//! Owns turning `ProduceRequest`s into broker calls and `ProduceResponse`s, and the stream's
//! in-flight bound. Must not validate batches, check record limits or choose partitions: the
//! broker does, for REST and gRPC alike.
//!
//! Acks: what each level waits for is the broker's (`weir_broker::Acks`, shared with REST):
//! `ACKS_LEADER` and `ACKS_UNSPECIFIED` answer after the append, `ACKS_ALL` once the
//! partition's high watermark passes the batch (on one node, at once: the leader is every
//! in-sync replica). `ACKS_NONE` checks the request's shape and tenant, answers with offsets
//! `OFFSET_UNKNOWN`, and appends afterwards through the same broker call, not waiting for
//! it; append errors are logged at debug level, never reported, as the contract says. A unary `ACKS_NONE` append runs on a
//! blocking task (so two such calls have no order between them, like two unary calls in
//! flight); on a stream it runs right after its answer is queued, so a stream's appends keep
//! request order whatever the acks. An acks value `weir.v1.Acks` does not list is
//! `INVALID_REQUIRED_ACKS`.

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use weir_broker::{
    Action, Broker, BrokerError, NewRecord, Principal, Produced, ProducedRecords, Rate, TenantId,
};
use weir_proto::ErrorCode;
use weir_proto::batch::Header;
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{
    Acks, InitProducerRequest, InitProducerResponse, PlainRecord, ProduceRequest, ProduceResponse,
    RecordPosition,
};

use super::authed;
use super::generated::produce_server::Produce;
use super::produce_stream::Requests;
use crate::access::{admit, admit_produce, amount, authorize, hold};
use crate::metrics::track_grpc;
use crate::{ApiError, ApiState, grpc_code};

/// Responses a ProduceStream may hold computed but not yet written to the client. When they
/// are all waiting, the stream stops reading requests, so HTTP/2 flow control slows the
/// producer down instead of the server buffering without bound.
pub const PRODUCE_STREAM_IN_FLIGHT_MAX: usize = 32;

/// Offset reported when none is known: under `ACKS_NONE`, and as `base_offset`/`last_offset`
/// of a `records` request (whose offsets are in `positions`).
pub const OFFSET_UNKNOWN: i64 = -1;

const METHOD_PRODUCE: &str = "/weir.v1.Produce/Produce";
pub(crate) const METHOD_PRODUCE_STREAM: &str = "/weir.v1.Produce/ProduceStream";
const METHOD_INIT_PRODUCER: &str = "/weir.v1.Produce/InitProducer";

/// The Produce service's unary methods (`ProduceStream` is routed to `produce_stream`).
#[derive(Debug)]
pub(crate) struct ProduceService {
    state: Arc<ApiState>,
}

impl ProduceService {
    pub(crate) fn new(state: Arc<ApiState>) -> Self {
        ProduceService { state }
    }
}

/// A request whose shape and tenant were checked, ready for the broker.
#[derive(Debug)]
struct Append {
    tenant: TenantId,
    topic: String,
    sequence: u64,
    acks: Acks,
    body: Body,
    /// Payload bytes, as counted against the produce quota.
    bytes: u64,
}

/// What to append.
#[derive(Debug)]
enum Body {
    /// One RecordBatch, as it came in the message (the log stores it without copying it here).
    Batch { partition: i32, bytes: bytes::Bytes },
    /// Plain records; the broker partitions and batches them.
    Records(Vec<NewRecord>),
}

/// Checks a request's tenant, acks and payload, and converts it.
fn prepare(
    state: &ApiState,
    caller: &Principal,
    request: ProduceRequest,
) -> Result<Append, ApiError> {
    let tenant = authorize(
        state,
        caller,
        &request.tenant,
        Action::WriteTopic(&request.topic),
    )?;
    let bytes = payload_bytes(&request);
    admit_produce(state, &tenant, bytes, state.limits.grpc_message_bytes_max)?;
    let acks = Acks::try_from(request.acks).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidRequiredAcks,
            format!("unknown acks value {}", request.acks),
        )
    })?;
    let body = match request.payload {
        None => return Err(ApiError::invalid("payload must be a batch or records")),
        Some(Payload::Batch(bytes)) => Body::Batch {
            partition: request.partition,
            bytes,
        },
        Some(Payload::Records(list)) if list.records.is_empty() => {
            return Err(ApiError::invalid("records must not be empty"));
        }
        Some(Payload::Records(list)) => {
            Body::Records(list.records.into_iter().map(new_record).collect())
        }
    };
    Ok(Append {
        tenant,
        topic: request.topic,
        sequence: request.sequence,
        acks,
        body,
        bytes: amount(bytes),
    })
}

/// Bytes of a request's payload: the batch, or keys, values and headers of plain records.
fn payload_bytes(request: &ProduceRequest) -> usize {
    match &request.payload {
        None => 0,
        Some(Payload::Batch(bytes)) => bytes.len(),
        Some(Payload::Records(list)) => list
            .records
            .iter()
            .map(|r| {
                let headers: usize = r
                    .headers
                    .iter()
                    .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
                    .sum();
                r.key.as_ref().map_or(0, |k| k.len())
                    + r.value.as_ref().map_or(0, |v| v.len())
                    + headers
            })
            .sum(),
    }
}

fn new_record(r: PlainRecord) -> NewRecord {
    NewRecord {
        key: r.key,
        value: r.value,
        headers: r
            .headers
            .into_iter()
            .map(|h| Header {
                key: h.key,
                value: h.value,
            })
            .collect(),
        partition: r.partition.map(i64::from),
        timestamp: r.timestamp,
    }
}

/// How far the broker must take a request before it is answered: `ACKS_UNSPECIFIED` is
/// `ACKS_LEADER`, as the contract says.
fn broker_acks(acks: Acks) -> weir_broker::Acks {
    match acks {
        Acks::None => weir_broker::Acks::None,
        Acks::Unspecified | Acks::Leader => weir_broker::Acks::Leader,
        Acks::All => weir_broker::Acks::All,
    }
}

/// A request the leader's log holds, waiting for its acks before it is answered.
#[derive(Debug)]
enum Appended {
    Batch {
        sequence: u64,
        partition: i32,
        produced: Produced,
    },
    Records {
        sequence: u64,
        produced: ProducedRecords,
    },
}

impl Append {
    /// Appends (blocking: the caller runs it in `crate::blocking` or on a blocking task).
    fn append(self, broker: &Broker) -> Result<Appended, ApiError> {
        let (tenant, topic, sequence) = (&self.tenant, self.topic.as_str(), self.sequence);
        let acks = broker_acks(self.acks);
        Ok(match self.body {
            Body::Batch { partition, bytes } => Appended::Batch {
                sequence,
                partition,
                produced: broker.produce_batch(tenant, topic, partition.into(), &bytes, acks)?,
            },
            Body::Records(records) => Appended::Records {
                sequence,
                produced: broker.produce_records_acked(tenant, topic, records, acks)?,
            },
        })
    }

    /// The answer to an `ACKS_NONE` request, given before it is appended.
    fn unacked_response(&self) -> ProduceResponse {
        let partition = match &self.body {
            Body::Batch { partition, .. } => *partition,
            Body::Records(_) => 0,
        };
        ProduceResponse {
            sequence: self.sequence,
            partition,
            base_offset: OFFSET_UNKNOWN,
            last_offset: OFFSET_UNKNOWN,
            ..ProduceResponse::default()
        }
    }

    /// Appends an `ACKS_NONE` request whose answer is gone: nobody waits for its acks, and a
    /// failure has nobody to tell.
    fn run_unacked(self, broker: &Broker) {
        let (topic, sequence) = (self.topic.clone(), self.sequence);
        match self.append(broker) {
            Ok(unacknowledged) => drop(unacknowledged),
            Err(e) => tracing::debug!(%topic, sequence, error = %e, "an acks=none produce failed"),
        }
    }
}

impl Appended {
    /// The answer, once the request is as replicated as its acks asked (an async wait on the
    /// partition's high watermark for `ACKS_ALL`; nothing to wait for on one node).
    async fn acknowledged(self) -> Result<ProduceResponse, ApiError> {
        match self {
            Appended::Batch {
                sequence,
                partition,
                produced,
            } => {
                let info = produced.acknowledged().await?;
                Ok(ProduceResponse {
                    sequence,
                    partition,
                    base_offset: info.base_offset,
                    last_offset: info.last_offset,
                    ..ProduceResponse::default()
                })
            }
            Appended::Records { sequence, produced } => {
                let results = produced.acknowledged().await?;
                Ok(ProduceResponse {
                    sequence,
                    base_offset: OFFSET_UNKNOWN,
                    last_offset: OFFSET_UNKNOWN,
                    positions: results.into_iter().map(position).collect(),
                    ..ProduceResponse::default()
                })
            }
        }
    }
}

fn position(result: Result<weir_broker::RecordPosition, BrokerError>) -> RecordPosition {
    match result {
        Ok(p) => RecordPosition {
            partition: i32::try_from(p.partition).unwrap_or(i32::MAX),
            offset: p.offset,
            timestamp: p.timestamp,
            error: None,
        },
        Err(e) => RecordPosition {
            partition: 0,
            offset: OFFSET_UNKNOWN,
            timestamp: 0,
            error: Some(ApiError::from(e).detail()),
        },
    }
}

/// One unary produce.
async fn produce_unary(
    state: Arc<ApiState>,
    caller: Principal,
    request: ProduceRequest,
) -> Result<ProduceResponse, ApiError> {
    let append = prepare(&state, &caller, request)?;
    let (tenant, bytes) = (append.tenant.clone(), append.bytes);
    let mut response = if append.acks != Acks::None {
        let appended = crate::blocking(|| append.append(&state.broker))?;
        appended.acknowledged().await?
    } else {
        let response = append.unacked_response();
        let broker = Arc::clone(&state.broker);
        tokio::task::spawn_blocking(move || append.run_unacked(&broker));
        response
    };
    response.throttle_time_ms = throttle_ms(hold(&state, &tenant, Rate::Produce, bytes).await);
    Ok(response)
}

fn throttle_ms(ms: u64) -> u32 {
    u32::try_from(ms).unwrap_or(u32::MAX)
}

/// A new idempotent producer id for the request's tenant.
async fn init_producer(
    state: Arc<ApiState>,
    caller: Principal,
    request: InitProducerRequest,
) -> Result<InitProducerResponse, ApiError> {
    let tenant = authorize(&state, &caller, &request.tenant, Action::ReadTenant)?;
    let (producer_id, epoch) = state.broker.init_producer(&tenant)?;
    Ok(InitProducerResponse {
        producer_id,
        producer_epoch: epoch.into(),
    })
}

type ResponseSender = mpsc::Sender<Result<ProduceResponse, tonic::Status>>;

/// Serves one ProduceStream (opened by `produce_stream`): requests in order, one response
/// each, until the client stops sending or goes away.
pub(crate) async fn serve_stream(
    state: Arc<ApiState>,
    caller: Principal,
    mut requests: Requests,
    responses: ResponseSender,
) {
    loop {
        let request = match requests.next().await {
            Some(Ok(request)) => request,
            None => return,
            Some(Err(status)) => {
                // The request stream broke (bad message, reset): nothing more will come.
                let _ = responses.send(Err(status)).await;
                return;
            }
        };
        if !answer_in_stream(&state, &caller, request, &responses).await {
            return;
        }
    }
}

/// Processes one stream request and queues its response. Returns false once the client is
/// gone.
async fn answer_in_stream(
    state: &ApiState,
    caller: &Principal,
    request: ProduceRequest,
    responses: &ResponseSender,
) -> bool {
    let started = Instant::now();
    let sequence = request.sequence;
    // The stream authenticated once, when it opened: the caller must still stand, else the
    // stream ends with UNAUTHENTICATED and nothing of this request is written.
    if let Err(e) = state.auth.recheck(&state.broker, caller) {
        track_grpc(METHOD_PRODUCE_STREAM, started, grpc_code(e.code));
        let _ = responses.send(Err(e.into_status())).await;
        return false;
    }
    let admitted = admit(state, caller).await;
    let prepared = admitted.and_then(|()| prepare(state, caller, request));
    let charge = prepared.as_ref().ok().map(|a| (a.tenant.clone(), a.bytes));
    let (mut outcome, unacked) = match prepared {
        Ok(append) if append.acks == Acks::None => (Ok(append.unacked_response()), Some(append)),
        Ok(append) => match crate::blocking(|| append.append(&state.broker)) {
            Ok(appended) => (appended.acknowledged().await, None),
            Err(e) => (Err(e), None),
        },
        Err(e) => (Err(e), None),
    };
    // Holding the answer holds the whole stream: a throttled producer slows down in order.
    if let (Some((tenant, bytes)), Ok(response)) = (charge, outcome.as_mut()) {
        response.throttle_time_ms = throttle_ms(hold(state, &tenant, Rate::Produce, bytes).await);
    }
    let code = outcome
        .as_ref()
        .map_or_else(|e| grpc_code(e.code), |_| tonic::Code::Ok);
    track_grpc(METHOD_PRODUCE_STREAM, started, code);
    let response = outcome.unwrap_or_else(|e| ProduceResponse {
        sequence,
        error: Some(e.detail()),
        ..ProduceResponse::default()
    });
    if responses.send(Ok(response)).await.is_err() {
        return false;
    }
    if let Some(append) = unacked {
        append.run_unacked(&state.broker);
    }
    true
}

#[tonic::async_trait]
impl Produce for ProduceService {
    async fn produce(
        &self,
        request: tonic::Request<ProduceRequest>,
    ) -> Result<tonic::Response<ProduceResponse>, tonic::Status> {
        let state = Arc::clone(&self.state);
        authed(&self.state, METHOD_PRODUCE, request, |caller, r| {
            produce_unary(state, caller, r)
        })
        .await
    }

    async fn init_producer(
        &self,
        request: tonic::Request<InitProducerRequest>,
    ) -> Result<tonic::Response<InitProducerResponse>, tonic::Status> {
        let state = Arc::clone(&self.state);
        authed(&self.state, METHOD_INIT_PRODUCER, request, |caller, r| {
            init_producer(state, caller, r)
        })
        .await
    }
}
