//! gRPC Fetch: unary long-poll reads and server-streamed live reads of whole RecordBatch v2
//! batches from one partition.
//!
//! Owns the request defaults and the stream's read loop and back-pressure. Must not decode or
//! re-encode batches: bytes go out as the log stored them, and the broker applies its fetch
//! limits (`fetch_bytes_max`, `fetch_wait_ms_max`) as for REST.
//!
//! A FetchStream ends when the client goes away (quietly), when a read fails (with that
//! error's status: a deleted topic gives TOPIC_NOT_FOUND) or when the node starts shutting
//! down (UNAVAILABLE; the client resumes from the last `next_offset` elsewhere or later).
//! Its outcome and whole duration are recorded once, when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use weir_broker::{Action, Principal, Rate, TenantId};
use weir_proto::ErrorCode;
use weir_proto::v1::FetchRequest;

use super::authed;
use super::fetch_codec::FetchReply;
use super::generated::fetch_server::Fetch;
use super::grpc_caller;
use crate::access::{amount, authorize, hold};
use crate::dto::FETCH_BYTES_DEFAULT;
use crate::metrics::track_grpc;
use crate::{ApiError, ApiState};

/// How long one read of a FetchStream waits for new records before it reads again. Short
/// enough that a stream whose topic was deleted ends promptly; long enough that an idle
/// stream costs a couple of wake-ups per second.
pub const FETCH_STREAM_WAIT_MS: u64 = 500;

/// Responses a FetchStream reads ahead of the client. Once they wait, reading stops until
/// the client takes one, so a slow consumer holds the server back through HTTP/2 flow
/// control instead of making it buffer.
pub const FETCH_STREAM_AHEAD_MAX: usize = 2;

const METHOD_FETCH: &str = "/weir.v1.Fetch/Fetch";
const METHOD_FETCH_STREAM: &str = "/weir.v1.Fetch/FetchStream";

/// The Fetch service.
#[derive(Debug)]
pub(crate) struct FetchService {
    state: Arc<ApiState>,
}

impl FetchService {
    pub(crate) fn new(state: Arc<ApiState>) -> Self {
        FetchService { state }
    }
}

/// Room left in a FetchResponse message for everything but `batches`: three varint offsets,
/// field tags and the length prefix come to well under this.
const RESPONSE_FIELDS_BYTES_MAX: usize = 64;

/// Bytes to read per response: as asked (`FETCH_BYTES_DEFAULT` when 0), and never more than
/// fits a gRPC message, so a large `max_bytes` cannot make an unsendable response.
fn max_bytes(state: &ApiState, request: &FetchRequest) -> usize {
    let asked = match request.max_bytes {
        0 => FETCH_BYTES_DEFAULT,
        // Capped just below at what fits a message: more than usize can hold is as good.
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let fits = state
        .limits
        .grpc_message_bytes_max
        .saturating_sub(RESPONSE_FIELDS_BYTES_MAX);
    asked.min(fits).max(1)
}

/// Counts a response's bytes against the fetch quota and holds it as long as the quota says.
async fn throttled(state: &ApiState, tenant: &TenantId, mut response: FetchReply) -> FetchReply {
    let held = hold(state, tenant, Rate::Fetch, amount(response.batches_len())).await;
    response.throttle_time_ms = u32::try_from(held).unwrap_or(u32::MAX);
    response
}

/// One unary fetch.
async fn fetch_unary(
    state: &ApiState,
    caller: Principal,
    request: FetchRequest,
) -> Result<FetchReply, ApiError> {
    let tenant = authorize(
        state,
        &caller,
        &request.tenant,
        Action::ReadTopic(&request.topic),
    )?;
    state.broker.check_rate(&tenant, Rate::Fetch)?;
    let wait = Duration::from_millis(u64::from(request.wait_ms));
    let fetched = state
        .broker
        .fetch(
            &tenant,
            &request.topic,
            request.partition.into(),
            request.offset,
            max_bytes(state, &request),
            wait,
        )
        .await?;
    Ok(throttled(state, &tenant, FetchReply::new(fetched)).await)
}

/// Whether the node stopped being ready since the stream began: it is shutting down, and a
/// live tail would otherwise hold the graceful shutdown open for its whole grace period. A
/// stream opened before the node first became ready is not stopped by that.
fn stopping(state: &ApiState, seen_ready: &mut bool) -> bool {
    let ready = state.is_ready();
    let stopping = *seen_ready && !ready;
    *seen_ready |= ready;
    stopping
}

/// Sends `error` as the stream's last message; returns its code.
async fn end_with(responses: &ResponseSender, error: ApiError) -> tonic::Code {
    let status = error.into_status();
    let code = status.code();
    let _ = responses.send(Err(status)).await;
    code
}

type ResponseSender = mpsc::Sender<Result<FetchReply, tonic::Status>>;

/// Reads on from `request.offset` and sends every non-empty read, until the client goes
/// away, the node stops or a read fails. Returns the code the stream ended with.
async fn stream_batches(
    state: &ApiState,
    (caller, tenant): (&Principal, &TenantId),
    request: &FetchRequest,
    responses: &ResponseSender,
) -> tonic::Code {
    let wait = Duration::from_millis(FETCH_STREAM_WAIT_MS);
    let (partition, max_bytes) = (request.partition.into(), max_bytes(state, request));
    let mut offset = request.offset;
    let mut seen_ready = state.is_ready();
    loop {
        if stopping(state, &mut seen_ready) {
            let stop = ApiError::new(ErrorCode::Unavailable, "the server is stopping");
            return end_with(responses, stop).await;
        }
        // The stream authenticated once, when it opened: the caller must still stand.
        if let Err(e) = state.auth.recheck(&state.broker, caller) {
            return end_with(responses, e).await;
        }
        let read = state
            .broker
            .fetch(tenant, &request.topic, partition, offset, max_bytes, wait);
        let fetched = tokio::select! {
            () = responses.closed() => return tonic::Code::Cancelled,
            fetched = read => fetched,
        };
        let fetched = match fetched {
            Ok(fetched) => fetched,
            Err(e) => return end_with(responses, e.into()).await,
        };
        offset = fetched.next_offset.max(offset);
        if fetched.len == 0 {
            continue;
        }
        let response = throttled(state, tenant, FetchReply::new(fetched)).await;
        // Nothing read is sent after a revocation, even when the read or the quota's hold
        // waited through it.
        if let Err(e) = state.auth.recheck(&state.broker, caller) {
            return end_with(responses, e).await;
        }
        if responses.send(Ok(response)).await.is_err() {
            return tonic::Code::Cancelled;
        }
    }
}

#[tonic::async_trait]
impl Fetch for FetchService {
    async fn fetch(
        &self,
        request: tonic::Request<FetchRequest>,
    ) -> Result<tonic::Response<FetchReply>, tonic::Status> {
        authed(&self.state, METHOD_FETCH, request, |caller, r| {
            fetch_unary(&self.state, caller, r)
        })
        .await
    }

    type FetchStreamStream = ReceiverStream<Result<FetchReply, tonic::Status>>;

    /// Checks tenant, topic and partition before the stream starts (so a wrong name fails the
    /// call itself), then reads in a task of its own.
    async fn fetch_stream(
        &self,
        request: tonic::Request<FetchRequest>,
    ) -> Result<tonic::Response<Self::FetchStreamStream>, tonic::Status> {
        let started = Instant::now();
        let connection = request.extensions().get::<crate::ConnectionAuth>();
        let caller = grpc_caller(&self.state, request.metadata(), connection).await;
        let request = request.into_inner();
        let checked = caller.and_then(|caller| {
            let action = Action::ReadTopic(&request.topic);
            let tenant = authorize(&self.state, &caller, &request.tenant, action)?;
            // It exists, here or on the node that leads it (reads are forwarded there).
            let topic = self.state.broker.topic(&tenant, &request.topic)?;
            topic.slot(request.partition.into())?;
            Ok((caller, tenant))
        });
        let (caller, tenant) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                let status = e.into_status();
                track_grpc(METHOD_FETCH_STREAM, started, status.code());
                return Err(status);
            }
        };
        let (tx, rx) = mpsc::channel(FETCH_STREAM_AHEAD_MAX);
        let state = Arc::clone(&self.state);
        tokio::spawn(async move {
            let code = stream_batches(&state, (&caller, &tenant), &request, &tx).await;
            track_grpc(METHOD_FETCH_STREAM, started, code);
        });
        Ok(tonic::Response::new(ReceiverStream::new(rx)))
    }
}
