//! gRPC `ProduceStream` served from the HTTP/2 frames themselves, and the `weir.v1.Produce`
//! route that sends it there.
//!
//! Owns the route (`ProduceRoutes`: `ProduceStream` here, the other methods through the tonic
//! service build.rs generates) and the stream's framing: requests cut from the body's frames
//! (`Requests`) and responses encoded into it (`Responses`). tonic copies every incoming
//! message into a buffer of its own before decoding it; a produce request is nearly all batch
//! bytes, which the log writes as they are, and that copy was a tenth of the server's CPU in
//! a loopback produce. Here a request is decoded from the frames it arrived in: a batch within
//! one frame (a whole request in one frame, as the server accepts frames larger than a
//! request, or the batch in a frame of its own, as the SDK sends it) is a slice of it, and only
//! bytes split over frames are joined. Must not change the wire: the `weir.v1` messages
//! framed as gRPC, the status in the trailers, or in the headers of a refused open. What a
//! request does is `produce::serve_stream`'s.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{FutureExt, Stream};
use prost::Message;
use tokio::sync::mpsc;
use tonic::body::Body;
use tonic::codegen::http::{self, HeaderMap, HeaderValue, header};
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;
use weir_proto::ErrorCode;
use weir_proto::grpc_frame::{self, FrameError, Messages, Next, ReadError};
use weir_proto::v1::{ProduceRequest, ProduceResponse};

use super::generated::produce_server::ProduceServer;
use super::grpc_caller;
use super::produce::{METHOD_PRODUCE_STREAM, PRODUCE_STREAM_IN_FLIGHT_MAX, ProduceService};
use super::unary;
use super::unreadable::WithErrorCodes;
use crate::{ApiError, ApiState};

/// The `weir.v1.Produce` service as routed.
#[derive(Clone)]
pub(crate) struct ProduceRoutes {
    state: Arc<ApiState>,
    /// `Produce` and `InitProducer`, with tonic's codec and message limits.
    others: WithErrorCodes<ProduceServer<ProduceService>>,
}

impl ProduceRoutes {
    pub(crate) fn new(
        state: Arc<ApiState>,
        others: WithErrorCodes<ProduceServer<ProduceService>>,
    ) -> Self {
        ProduceRoutes { state, others }
    }
}

impl std::fmt::Debug for ProduceRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProduceRoutes").finish_non_exhaustive()
    }
}

impl NamedService for ProduceRoutes {
    const NAME: &'static str = <ProduceServer<ProduceService> as NamedService>::NAME;
}

impl Service<http::Request<Body>> for ProduceRoutes {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() == METHOD_PRODUCE_STREAM {
            Box::pin(open(Arc::clone(&self.state), request).map(Ok))
        } else {
            self.others.call(request)
        }
    }
}

/// Authenticates the caller and starts serving the stream; a refusal is the whole answer.
async fn open(state: Arc<ApiState>, request: http::Request<Body>) -> http::Response<Body> {
    let (parts, body) = request.into_parts();
    let metadata = tonic::metadata::MetadataMap::from_headers(parts.headers);
    let connection = parts.extensions.get::<crate::ConnectionAuth>();
    let caller = match unary(
        METHOD_PRODUCE_STREAM,
        grpc_caller(&state, &metadata, connection),
    )
    .await
    {
        Ok(caller) => caller.into_inner(),
        Err(status) => return status.into_http(),
    };
    let requests = Requests {
        body,
        messages: Messages::new(state.limits.grpc_message_bytes_max),
        ended: false,
    };
    let (tx, rx) = mpsc::channel(PRODUCE_STREAM_IN_FLIGHT_MAX);
    tokio::spawn(super::produce::serve_stream(state, caller, requests, tx));
    let mut response = http::Response::new(Body::new(Responses { rx, ended: false }));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// The requests of one stream, in order. A request that cannot be read is the last item.
pub(crate) struct Requests {
    body: Body,
    messages: Messages,
    ended: bool,
}

impl Requests {
    fn fail(&mut self, error: ApiError) -> Poll<Option<Result<ProduceRequest, tonic::Status>>> {
        self.ended = true;
        Poll::Ready(Some(Err(error.into_status())))
    }
}

impl Stream for Requests {
    type Item = Result<ProduceRequest, tonic::Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.messages.poll_next(Pin::new(&mut this.body), cx)) {
            Ok(Next::Message(message)) => match ProduceRequest::decode(message) {
                Ok(request) => Poll::Ready(Some(Ok(request))),
                Err(e) => this.fail(ApiError::invalid(format!("bad request: {e}"))),
            },
            Ok(Next::End(_)) if this.messages.is_empty() => {
                this.ended = true;
                Poll::Ready(None)
            }
            Ok(Next::End(_)) => {
                let e = "the request stream ended in the middle of a message";
                this.fail(ApiError::invalid(e))
            }
            Err(ReadError::Frame(e @ FrameError::TooLarge { .. })) => {
                this.fail(ApiError::new(ErrorCode::RequestTooLarge, e.to_string()))
            }
            Err(ReadError::Frame(e @ FrameError::Compressed)) => {
                this.fail(ApiError::invalid(e.to_string()))
            }
            Err(ReadError::Body(status)) => {
                this.ended = true;
                Poll::Ready(Some(Err(status)))
            }
        }
    }
}

/// The response body: each response as a gRPC message, then the status as trailers (OK when
/// the responses simply end).
struct Responses {
    rx: mpsc::Receiver<Result<ProduceResponse, tonic::Status>>,
    ended: bool,
}

impl http_body::Body for Responses {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, tonic::Status>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let status = match ready!(self.rx.poll_recv(cx)) {
            Some(Ok(response)) => {
                let data = grpc_frame::encode(&response);
                return Poll::Ready(Some(Ok(http_body::Frame::data(data))));
            }
            Some(Err(status)) => status,
            None => tonic::Status::ok(""),
        };
        self.ended = true;
        Poll::Ready(Some(Ok(http_body::Frame::trailers(trailers(&status)))))
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

/// `status` as gRPC trailers.
fn trailers(status: &tonic::Status) -> HeaderMap {
    let mut map = HeaderMap::new();
    if let Err(unwritable) = status.add_header(&mut map) {
        // Only a message or detail that is no header value; the code still goes out.
        map.clear();
        tracing::warn!(error = %unwritable, "cannot write a status as trailers");
        let code = i32::from(tonic::Code::Internal);
        map.insert("grpc-status", HeaderValue::from(code));
    }
    map
}
