//! gRPC calls made on the tonic channel as plain HTTP/2, for the calls whose messages carry
//! batches: `Connection::call_grpc` sends a request body and reads the answer as `Responses`.
//!
//! Owns the client side of those calls' framing and status. tonic copies every message it
//! receives into a buffer of its own before decoding it, and every message it sends into
//! another before writing it; these messages are nearly all batch bytes, and those copies
//! were a tenth of the CPU of a loopback consume and of a produce. Here each response is
//! decoded from the HTTP/2 frames it arrived in (`weir_proto::grpc_frame`; the connection
//! accepts frames up to `FRAME_BYTES`, larger than any response), and senders put a batch in a
//! frame of its own (`produce_call`). Must not change the wire: the `weir.v1` messages framed
//! as gRPC, and failures read from the status in the headers or trailers as tonic reads them.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::Stream;
use prost::Message;
use sync_wrapper::SyncWrapper;
use tonic::codegen::Service;
use tonic::codegen::http::{self, HeaderValue, header};
use weir_proto::grpc_frame::{Messages, Next, ReadError};

use crate::Error;
use crate::connection::{Connection, MESSAGE_BYTES_MAX};

impl Connection {
    /// Calls `path` with `body` (requests already framed as gRPC) and returns once the answer's
    /// headers are in: a refusal is an error, otherwise the responses follow. `what` names the
    /// call in errors ("fetch", "produce").
    pub(crate) async fn call_grpc<M>(
        &self,
        path: &'static str,
        body: tonic::body::Body,
        what: &'static str,
    ) -> Result<Responses<M>, Error> {
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
        let request = builder
            .body(body)
            .map_err(|e| Error::InvalidArgument(format!("cannot build a {what} request: {e}")))?;
        let mut channel = self.channel().clone();
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .map_err(|e| Error::transport(self.url(), &e))?;
        let response = channel
            .call(request)
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
        Ok(Responses {
            body: SyncWrapper::new(body),
            frames: Messages::new(MESSAGE_BYTES_MAX),
            conn: self.clone(),
            what,
            finished: false,
            ok_in_headers: status.is_some(),
            message: PhantomData,
        })
    }
}

/// The responses of a call, in order; ends when the server ends the call. A failure is the
/// last item.
#[derive(Debug)]
pub struct Responses<M> {
    /// Only ever used through `&mut`: the responses are `Sync` (as tonic's are) though the
    /// body is not.
    body: SyncWrapper<tonic::body::Body>,
    frames: Messages,
    conn: Connection,
    what: &'static str,
    finished: bool,
    /// The headers said OK already: the body ends without trailers.
    ok_in_headers: bool,
    message: PhantomData<fn() -> M>,
}

impl<M> Responses<M> {
    fn fail(&mut self, error: Error) -> Poll<Option<Result<M, Error>>> {
        self.finished = true;
        Poll::Ready(Some(Err(error)))
    }

    /// The end of the body: fine after an OK status and a whole last message.
    fn end(&mut self, trailers: Option<&http::HeaderMap>) -> Poll<Option<Result<M, Error>>> {
        self.finished = true;
        let status = trailers.and_then(tonic::Status::from_header_map);
        match status {
            Some(status) if status.code() != tonic::Code::Ok => self.fail(self.conn.error(&status)),
            Some(_) if self.frames.is_empty() => Poll::Ready(None),
            Some(_) => {
                let e = format!("a {} response was cut short", self.what);
                self.fail(Error::Corrupt(e))
            }
            None if self.ok_in_headers && self.frames.is_empty() => Poll::Ready(None),
            None => {
                let e = self.conn.stream_ended(&format!("the {} call", self.what));
                self.fail(e)
            }
        }
    }
}

impl<M: Message + Default> Stream for Responses<M> {
    type Item = Result<M, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::Corrupt(format!("bad {what} response: {e}"))
        };
        match ready!(this.frames.poll_next(Pin::new(this.body.get_mut()), cx)) {
            Ok(Next::Message(message)) => {
                Poll::Ready(Some(M::decode(message).map_err(|e| bad(this.what, &e))))
            }
            Ok(Next::End(trailers)) => this.end(trailers.as_ref()),
            Err(ReadError::Frame(e)) => this.fail(bad(this.what, &e)),
            Err(ReadError::Body(status)) => {
                let e = this.conn.error(&status);
                this.fail(e)
            }
        }
    }
}
