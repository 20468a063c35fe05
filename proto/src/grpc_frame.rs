//! gRPC's message framing over HTTP/2 DATA frames, for the calls that bypass tonic's codec:
//! the SDK's fetch and produce calls and the server's ProduceStream.
//!
//! Owns cutting length-prefixed messages out of the frames of a body (`Messages`, each message
//! a `Framed`; `Messages::poll_next` reads them from an HTTP body) and prefixing one
//! (`encode`). Exists because tonic copies every incoming
//! message into a buffer of its own; these calls carry megabyte batches that are only read,
//! so a message is decoded from the frames it arrived in: bytes within one frame (a batch the
//! sender put in a frame of its own, or a whole message in one frame) are slices of it, and
//! only bytes split over frames are joined. Must not decode the messages themselves or know
//! any call.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use tonic::codegen::Body;
use tonic::codegen::http::HeaderMap;

/// gRPC's message prefix: a compression flag and a 4-byte big-endian length.
pub const PREFIX_BYTES: usize = 5;

/// Why a message cannot be cut from a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The compression flag is set; these calls never negotiate compression.
    #[error("the message is compressed, and no compression was negotiated")]
    Compressed,
    /// The prefix announces more bytes than the receiver accepts.
    #[error("a message of {len} B is above the limit of {max} B")]
    TooLarge {
        /// Length announced by the prefix.
        len: usize,
        /// The receiver's limit.
        max: usize,
    },
}

/// What a body gave next.
#[derive(Debug)]
pub enum Next {
    /// A whole message.
    Message(Framed),
    /// The end of the body, with its trailers when it had some. Whether it ended inside a
    /// message is `Messages::is_empty`.
    End(Option<HeaderMap>),
}

/// Why a body gave no next message.
#[derive(Debug)]
pub enum ReadError<E> {
    /// The bytes are no gRPC message this receiver takes.
    Frame(FrameError),
    /// The body itself failed (the peer reset the stream, the connection broke).
    Body(E),
}

/// `message` encoded and prefixed, ready to be one gRPC message of a body.
pub fn encode(message: &impl Message) -> Bytes {
    let len = message.encoded_len();
    let mut out = BytesMut::with_capacity(PREFIX_BYTES + len);
    out.put_u8(0);
    out.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message.encode_raw(&mut out);
    out.freeze()
}

/// gRPC messages cut from the data frames of a body, in order.
#[derive(Debug)]
pub struct Messages {
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    buffered: usize,
    /// The length of the message whose prefix was read, while its bytes are still arriving.
    message_len: Option<usize>,
    /// The largest message accepted.
    max: usize,
}

impl Messages {
    /// Cuts messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Messages {
            chunks: VecDeque::new(),
            buffered: 0,
            message_len: None,
            max,
        }
    }

    /// Adds the next data frame of the body.
    pub fn push(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.buffered += data.len();
            self.chunks.push_back(data);
        }
    }

    /// Whether nothing of a next message has arrived: the body may end here.
    pub fn is_empty(&self) -> bool {
        self.buffered == 0 && self.message_len.is_none()
    }

    /// Reads `body` until a whole message has arrived, or until the body ends.
    pub fn poll_next<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Next, ReadError<B::Error>>>
    where
        B: Body<Data = Bytes>,
    {
        loop {
            match self.next_message() {
                Err(e) => return Poll::Ready(Err(ReadError::Frame(e))),
                Ok(Some(message)) => return Poll::Ready(Ok(Next::Message(message))),
                Ok(None) => {}
            }
            match ready!(body.as_mut().poll_frame(cx)) {
                None => return Poll::Ready(Ok(Next::End(None))),
                Some(Err(e)) => return Poll::Ready(Err(ReadError::Body(e))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.push(data),
                    Err(frame) => return Poll::Ready(Ok(Next::End(frame.into_trailers().ok()))),
                },
            }
        }
    }

    /// The next whole message, if it has arrived.
    pub fn next_message(&mut self) -> Result<Option<Framed>, FrameError> {
        let len = match self.message_len {
            Some(len) => len,
            None if self.buffered < PREFIX_BYTES => return Ok(None),
            None => {
                let mut prefix = self.take(PREFIX_BYTES);
                if prefix.get_u8() != 0 {
                    return Err(FrameError::Compressed);
                }
                let len = usize::try_from(prefix.get_u32()).unwrap_or(usize::MAX);
                if len > self.max {
                    return Err(FrameError::TooLarge { len, max: self.max });
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

    /// The next `len` buffered bytes, as the chunks that hold them (the last one cut). `len`
    /// must not be above `buffered`.
    fn take(&mut self, len: usize) -> Framed {
        self.buffered -= len;
        let mut taken = Framed {
            chunks: VecDeque::new(),
            remaining: len,
        };
        let mut missing = len;
        while missing > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if front.len() > missing {
                taken.chunks.push_back(front.split_to(missing));
                break;
            }
            missing -= front.len();
            taken.chunks.extend(self.chunks.pop_front());
        }
        taken
    }
}

/// One message's bytes, in the chunks (frames) they arrived in; a `Buf` to decode it from.
/// `copy_to_bytes` of bytes within one chunk is a slice of it, so prost decodes a `bytes`
/// field that came in one frame without copying it.
#[derive(Debug)]
pub struct Framed {
    /// Never an empty chunk.
    chunks: VecDeque<Bytes>,
    remaining: usize,
}

impl Buf for Framed {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks.front().map_or(&[], |c| c)
    }

    fn advance(&mut self, mut n: usize) {
        assert!(n <= self.remaining, "advance past the end of a message");
        self.remaining -= n;
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                return;
            };
            if front.len() > n {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.chunks.pop_front();
        }
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        if let Some(front) = self.chunks.front_mut()
            && front.len() >= len
        {
            let out = front.split_to(len);
            if front.is_empty() {
                self.chunks.pop_front();
            }
            self.remaining -= len;
            return out;
        }
        assert!(len <= self.remaining, "copy past the end of a message");
        let mut out = BytesMut::with_capacity(len);
        out.put((&mut *self).take(len));
        out.freeze()
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
                let mut frames = Messages::new(64);
                let mut got = Vec::new();
                for chunk in wire.chunks(step) {
                    frames.push(Bytes::copy_from_slice(chunk));
                    while let Some(mut m) = frames.next_message().unwrap() {
                        got.push(m.copy_to_bytes(m.remaining()));
                    }
                }
                assert_eq!(got, messages, "chunks of {step}");
                assert!(frames.is_empty());
            }
        }
    }

    #[test]
    fn bytes_within_one_frame_are_not_copied() {
        let wire = Bytes::from(framed(&[b"zero copy", b"second"]));
        let mut frames = Messages::new(64);
        frames.push(wire.clone());
        let mut first = frames.next_message().unwrap().unwrap();
        let bytes = first.copy_to_bytes(first.remaining());
        assert_eq!(bytes, &b"zero copy"[..]);
        assert_eq!(bytes.as_ptr(), wire[PREFIX_BYTES..].as_ptr());
        let mut second = frames.next_message().unwrap().unwrap();
        assert_eq!(second.copy_to_bytes(6), &b"second"[..]);
        assert_eq!(frames.next_message().unwrap().map(|m| m.remaining()), None);

        // A message in two frames, the second all payload (as the SDK sends a batch): that
        // payload is a slice of its frame; bytes across the cut are joined.
        let payload = Bytes::from_static(b"payload!");
        let mut frames = Messages::new(64);
        frames.push(Bytes::from_static(&[0, 0, 0, 0, 11, b'h', b'e', b'a']));
        frames.push(payload.clone());
        let mut message = frames.next_message().unwrap().unwrap();
        assert_eq!(message.remaining(), 11);
        assert_eq!(message.chunk(), b"hea");
        message.advance(2);
        assert_eq!(
            message.copy_to_bytes(2),
            &b"ap"[..],
            "joined across the cut"
        );
        let mut message = Framed {
            chunks: [Bytes::from_static(b"hea"), payload.clone()].into(),
            remaining: 11,
        };
        message.advance(3);
        let got = message.copy_to_bytes(8);
        assert_eq!(got.as_ptr(), payload.as_ptr());
        assert_eq!(message.remaining(), 0);
    }

    #[test]
    fn compressed_or_oversized_messages_are_refused() {
        let mut frames = Messages::new(64);
        frames.push(Bytes::from_static(&[1, 0, 0, 0, 1, 7]));
        assert_eq!(frames.next_message().err(), Some(FrameError::Compressed));
        let mut frames = Messages::new(64);
        frames.push(Bytes::from_static(&[0, 0, 0, 0, 65]));
        assert_eq!(
            frames.next_message().err(),
            Some(FrameError::TooLarge { len: 65, max: 64 })
        );
        let mut frames = Messages::new(64);
        frames.push(Bytes::from_static(&[0, 0, 0, 0, 64]));
        assert!(
            frames.next_message().unwrap().is_none(),
            "at the limit, and waiting"
        );
    }

    #[test]
    fn encode_prefixes_the_message() {
        let message = crate::v1::FetchRequest {
            topic: "t".into(),
            offset: 7,
            ..Default::default()
        };
        let wire = encode(&message);
        let mut frames = Messages::new(64);
        frames.push(wire);
        let got = frames.next_message().unwrap().unwrap();
        assert_eq!(crate::v1::FetchRequest::decode(got).unwrap(), message);
    }
}
