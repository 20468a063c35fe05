//! tonic's own refusals of a request it could not read, given our ErrorCode.
//!
//! tonic reads a unary or server-streaming call's request before any handler runs, and refuses
//! one it cannot read with a bare status: `OUT_OF_RANGE` for a message above the limit,
//! `RESOURCE_EXHAUSTED` for one that decompresses above it, `INTERNAL` for a cut message, a bad
//! compressed flag or bytes that are no message. Clients look for the ErrorCode every other
//! error carries, so `WithErrorCodes` rewrites those refusals into `REQUEST_TOO_LARGE` and
//! `INVALID_REQUEST` statuses as `ApiError` makes them. Owns only that: a status that already
//! has an ErrorCode, or another code (`UNIMPLEMENTED` for an unknown method or encoding), passes
//! as it is. ProduceStream reads its own requests (`produce_stream`).

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;
use weir_proto::ErrorCode;

use crate::{ApiError, GRPC_ERROR_CODE_KEY};

/// A tonic server whose refusals of unreadable requests carry an ErrorCode.
#[derive(Debug, Clone)]
pub(crate) struct WithErrorCodes<S>(pub(crate) S);

impl<S: NamedService> NamedService for WithErrorCodes<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for WithErrorCodes<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(self.0.call(request).map(|r| r.map(with_error_code)))
    }
}

/// `response`, or the refusal it is rewritten with an ErrorCode. A refusal is a status in the
/// headers (a trailers-only answer), as tonic sends before the handler runs.
fn with_error_code(response: http::Response<Body>) -> http::Response<Body> {
    if response.headers().contains_key(GRPC_ERROR_CODE_KEY) {
        return response;
    }
    let Some(status) = tonic::Status::from_header_map(response.headers()) else {
        return response;
    };
    let code = match status.code() {
        tonic::Code::OutOfRange | tonic::Code::ResourceExhausted => ErrorCode::RequestTooLarge,
        tonic::Code::Internal => ErrorCode::InvalidRequest,
        _ => return response,
    };
    ApiError::new(code, status.message())
        .into_status()
        .into_http()
}
