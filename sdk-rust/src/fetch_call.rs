//! Fetch calls read straight from HTTP/2 frames: `Connection::fetch_once` (unary `Fetch`) and
//! `Connection::fetch_stream` (`FetchStream`).
//!
//! Owns the client side of `weir.v1.Fetch`. tonic copies every response message into a buffer
//! of its own before decoding it; a fetch response is nearly all batch bytes, which the
//! caller only reads, and that copy was a tenth of the CPU of a loopback consume. Here a
//! message that arrived in one HTTP/2 frame is decoded from that frame's bytes without a copy
//! (the connection accepts frames up to `FRAME_BYTES`, larger than a fetch response), and a
//! message split over frames is joined once, as tonic would. Must not change the wire: the
//! requests and responses are the `weir.v1` messages framed as gRPC, and failures are read
//! from the status in the headers or trailers as tonic reads them.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body_util::Full;
use prost::Message;
use tonic::codegen::http::{self, HeaderValue, header};
use tonic::codegen::{Body as _, Service};
use weir_proto::v1::{FetchRequest, FetchResponse};

use crate::Error;
use crate::connection::{Connection, MESSAGE_BYTES_MAX};
use crate::error::within;

const FETCH_PATH: &str = "/weir.v1.Fetch/Fetch";
const FETCH_STREAM_PATH: &str = "/weir.v1.Fetch/FetchStream";
/// gRPC's message prefix: a compression flag and a 4-byte big-endian length.
const PREFIX_BYTES: usize = 5;

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
            frames: Frames::default(),
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
        let len = request.encoded_len();
        let mut message = BytesMut::with_capacity(PREFIX_BYTES + len);
        message.put_u8(0);
        message.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
        request.encode_raw(&mut message);
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
        let body = tonic::body::Body::new(Full::new(message.freeze()));
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
    frames: Frames,
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
                Err(e) => return this.fail(e),
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

/// gRPC messages cut from the data frames of a response body.
#[derive(Debug, Default)]
struct Frames {
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    buffered: usize,
    /// The length of the message whose prefix was read, while its bytes are still arriving.
    message_len: Option<usize>,
}

impl Frames {
    fn push(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.buffered += data.len();
            self.chunks.push_back(data);
        }
    }

    fn is_empty(&self) -> bool {
        self.buffered == 0 && self.message_len.is_none()
    }

    /// The next whole message, if it has arrived.
    fn next_message(&mut self) -> Result<Option<Bytes>, Error> {
        let len = match self.message_len {
            Some(len) => len,
            None if self.buffered < PREFIX_BYTES => return Ok(None),
            None => {
                let mut prefix = self.take(PREFIX_BYTES);
                if prefix.get_u8() != 0 {
                    let e = "a fetch response is compressed, which the client did not ask for";
                    return Err(Error::Corrupt(e.into()));
                }
                let len = usize::try_from(prefix.get_u32()).unwrap_or(usize::MAX);
                if len > MESSAGE_BYTES_MAX {
                    let e = format!("a fetch response of {len} B is above {MESSAGE_BYTES_MAX} B");
                    return Err(Error::Corrupt(e));
                }
                self.message_len = Some(len);
                len
            }
        };
        if self.buffered < len {
            return Ok(None);
        }
        self.message_len = None;
        Ok(Some(self.take(len)))
    }

    /// The next `len` buffered bytes: a slice of the first chunk when it holds them all, else
    /// a copy joining the chunks. `len` must not be above `buffered`.
    fn take(&mut self, len: usize) -> Bytes {
        self.buffered -= len;
        if let Some(front) = self.chunks.front_mut()
            && front.len() >= len
        {
            let taken = front.split_to(len);
            if front.is_empty() {
                self.chunks.pop_front();
            }
            return taken;
        }
        let mut joined = BytesMut::with_capacity(len);
        while joined.len() < len {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            let n = front.len().min(len - joined.len());
            joined.extend_from_slice(&front[..n]);
            front.advance(n);
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
        joined.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(messages: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.push(0);
            out.extend_from_slice(&u32::try_from(m.len()).unwrap().to_be_bytes());
            out.extend_from_slice(m);
        }
        out
    }

    #[test]
    fn messages_are_cut_at_any_frame_boundary() {
        let messages: [&[u8]; 4] = [b"first", b"", b"a longer third message", b"4"];
        let wire = framed(&messages);
        for cut in 1..wire.len() {
            for step in [cut, 1] {
                let mut frames = Frames::default();
                let mut got = Vec::new();
                for chunk in wire.chunks(step) {
                    frames.push(Bytes::copy_from_slice(chunk));
                    while let Some(m) = frames.next_message().unwrap() {
                        got.push(m);
                    }
                }
                assert_eq!(got, messages, "chunks of {step}");
                assert!(frames.is_empty());
            }
        }
    }

    #[test]
    fn a_message_within_one_frame_is_not_copied() {
        let wire = Bytes::from(framed(&[b"zero copy", b"second"]));
        let mut frames = Frames::default();
        frames.push(wire.clone());
        let first = frames.next_message().unwrap().unwrap();
        assert_eq!(first, &b"zero copy"[..]);
        assert_eq!(first.as_ptr(), wire[PREFIX_BYTES..].as_ptr());
        assert_eq!(frames.next_message().unwrap().unwrap(), &b"second"[..]);
        assert_eq!(frames.next_message().unwrap(), None);
    }

    #[test]
    fn compressed_or_oversized_messages_are_refused() {
        let mut frames = Frames::default();
        frames.push(Bytes::from_static(&[1, 0, 0, 0, 1, 7]));
        assert!(matches!(frames.next_message(), Err(Error::Corrupt(_))));
        let mut frames = Frames::default();
        let too_long = u32::try_from(MESSAGE_BYTES_MAX + 1).unwrap().to_be_bytes();
        frames.push(Bytes::from_iter([0].into_iter().chain(too_long)));
        assert!(matches!(frames.next_message(), Err(Error::Corrupt(_))));
    }
}
