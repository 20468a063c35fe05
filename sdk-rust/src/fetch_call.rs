//! Fetch calls read straight from HTTP/2 frames: `Connection::fetch_once` (unary `Fetch`) and
//! `Connection::fetch_stream` (`FetchStream`).
//!
//! Owns the client side of `weir.v1.Fetch`, made with `grpc_call` rather than tonic's client:
//! a fetch response is nearly all batch bytes, which the caller only reads, and each is
//! decoded from the frame it arrived in without a copy.

use std::time::Duration;

use futures_util::StreamExt;
use http_body_util::Full;
use weir_proto::grpc_frame;
use weir_proto::v1::{FetchRequest, FetchResponse};

use crate::Error;
use crate::connection::Connection;
use crate::error::within;
use crate::grpc_call::Responses;

/// The responses of a fetch call.
pub type FetchResponses = Responses<FetchResponse>;

const FETCH_PATH: &str = "/weir.v1.Fetch/Fetch";
const FETCH_STREAM_PATH: &str = "/weir.v1.Fetch/FetchStream";

impl Connection {
    /// One `Fetch` call, bounded by `request_timeout` plus the long poll's `wait_ms`.
    pub async fn fetch_once(&self, request: &FetchRequest) -> Result<FetchResponse, Error> {
        let timeout = self.request_timeout() + Duration::from_millis(request.wait_ms.into());
        let call = async {
            let mut responses = self.call_fetch(FETCH_PATH, request).await?;
            let response = responses.next().await.transpose()?;
            if let Some(extra) = responses.next().await.transpose()? {
                let e = format!(
                    "a unary fetch answered twice (next offset {})",
                    extra.next_offset
                );
                return Err(Error::Corrupt(e));
            }
            response.ok_or_else(|| Error::Corrupt("a unary fetch ended without a response".into()))
        };
        within("fetch", timeout, call).await
    }

    /// Opens a `FetchStream`: responses from `request.offset` on, as the partition grows.
    /// Opening is bounded by `request_timeout`; the stream itself has no end of its own.
    pub async fn fetch_stream(&self, request: &FetchRequest) -> Result<FetchResponses, Error> {
        let opened = self.call_fetch(FETCH_STREAM_PATH, request);
        within("open fetch stream", self.request_timeout(), opened).await
    }

    async fn call_fetch(
        &self,
        path: &'static str,
        request: &FetchRequest,
    ) -> Result<FetchResponses, Error> {
        let body = tonic::body::Body::new(Full::new(grpc_frame::encode(request)));
        self.call_grpc(path, body, "fetch").await
    }
}
