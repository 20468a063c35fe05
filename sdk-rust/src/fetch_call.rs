//! Fetch calls read straight from HTTP/2 frames: `Connection::fetch_once` (unary `Fetch`) and
//! `Connection::fetch_stream` (`FetchStream`).
//!
//! Owns the client side of `weir.v1.Fetch`. tonic copies every response message into a
//! buffer of its own before decoding it; a fetch response is nearly all batch bytes, which the
//! caller only reads, and that copy was a tenth of the CPU of a loopback consume. Here the
//! messages are cut from the frames by `weir_proto::grpc_frame`: one that arrived in one
//! HTTP/2 frame is decoded from that frame's bytes without a copy (the connection accepts
//! frames up to `FRAME_BYTES`, larger than a fetch response). Must not change the wire: the
//! requests and responses are the `weir.v1` messages framed as gRPC, and failures are read
//! from the status in the headers or trailers as tonic reads them.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use http_body_util::Full;
use prost::Message;
use tonic::codegen::http::{self, HeaderValue, header};
use tonic::codegen::{Body as _, Service};
use weir_proto::grpc_frame::{self, Messages};
use weir_proto::v1::{FetchRequest, FetchResponse};

use crate::Error;
use crate::connection::{Connection, MESSAGE_BYTES_MAX};
use crate::error::within;

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
        let mut channel = self.channel().clone();
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .map_err(|e| Error::transport(self.url(), &e))?;
        let response = channel
            .call(self.grpc_request(path, request)?)
            .await
            .map_err(|e| Error::transport(self.url(), &e))?;
        let (parts, body) = response.into_parts();
        // A call answered without a message ("trailers-only", usually a refusal) has its
        // status in the headers.
        let status = tonic::Status::from_header_map(&parts.headers);
        if let Some(status) = &status
            && status.code() != tonic::Code::Ok
        {
            return Err(self.error(status));
        }
        if parts.status != http::StatusCode::OK {
            return Err(Error::Transport {
                url: self.url().to_owned(),
                reason: format!("the server answered HTTP {}", parts.status),
            });
        }
        Ok(FetchResponses {
            body,
            frames: Messages::new(MESSAGE_BYTES_MAX),
            conn: self.clone(),
            finished: false,
            ok_in_headers: status.is_some(),
        })
    }

    fn grpc_request(
        &self,
        path: &'static str,
        request: &FetchRequest,
    ) -> Result<http::Request<tonic::body::Body>, Error> {
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri(path)
            .version(http::Version::HTTP_2)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            )
            .header(header::TE, HeaderValue::from_static("trailers"));
        if let Some(value) = self.authorization() {
            builder = builder.header(header::AUTHORIZATION, value.clone());
        }
        let body = tonic::body::Body::new(Full::new(grpc_frame::encode(request)));
        builder
            .body(body)
            .map_err(|e| Error::InvalidArgument(format!("cannot build a fetch request: {e}")))
    }
}

/// The responses of a fetch call, in order; ends when the server ends the call. A failure is
/// the last item.
#[derive(Debug)]
pub struct FetchResponses {
    body: tonic::body::Body,
    frames: Messages,
    conn: Connection,
    finished: bool,
    /// The headers said OK already: the body ends without trailers.
    ok_in_headers: bool,
}

impl FetchResponses {
    fn fail(&mut self, error: Error) -> Poll<Option<Result<FetchResponse, Error>>> {
        self.finished = true;
        Poll::Ready(Some(Err(error)))
    }

    /// The end of the body: fine after an OK status and a whole last message.
    fn end(
        &mut self,
        trailers: Option<&http::HeaderMap>,
    ) -> Poll<Option<Result<FetchResponse, Error>>> {
        self.finished = true;
        let status = trailers.and_then(tonic::Status::from_header_map);
        match status {
            Some(status) if status.code() != tonic::Code::Ok => self.fail(self.conn.error(&status)),
            Some(_) if self.frames.is_empty() => Poll::Ready(None),
            Some(_) => self.fail(Error::Corrupt("a fetch response was cut short".into())),
            None if self.ok_in_headers && self.frames.is_empty() => Poll::Ready(None),
            None => self.fail(self.conn.stream_ended("the fetch call")),
        }
    }
}

impl Stream for FetchResponses {
    type Item = Result<FetchResponse, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            match this.frames.next_message() {
                Err(e) => return this.fail(Error::Corrupt(format!("bad fetch response: {e}"))),
                Ok(Some(message)) => {
                    let decoded = FetchResponse::decode(message)
                        .map_err(|e| Error::Corrupt(format!("bad fetch response: {e}")));
                    return Poll::Ready(Some(decoded));
                }
                Ok(None) => {}
            }
            let frame = match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                None => return this.end(None),
                Some(Err(status)) => {
                    let e = this.conn.error(&status);
                    return this.fail(e);
                }
                Some(Ok(frame)) => frame,
            };
            match frame.into_data() {
                Ok(data) => this.frames.push(data),
                Err(frame) => return this.end(frame.trailers_ref()),
            }
        }
    }
}
