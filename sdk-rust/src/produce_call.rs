//! `ProduceStream` made with `grpc_call`: `Connection::produce_stream`.
//!
//! Owns the request side of the SDK's ProduceStream. Each request goes out as one gRPC message
//! in two DATA frames: every field but the batch, then the batch bytes as they are. tonic
//! would first copy the whole request into its encode buffer; here the batch is never copied
//! on its way to the socket, and the server decodes it from the frame it came in without a
//! copy either. Must not change the wire: the bytes are a `ProduceRequest` as prost encodes
//! it, except that the batch field comes last (protobuf readers take fields in any order).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::Frame;
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};
use tokio::sync::mpsc;
use weir_proto::grpc_frame::{self, PREFIX_BYTES};
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{ProduceRequest, ProduceResponse};

use crate::Error;
use crate::connection::Connection;
use crate::error::within;
use crate::grpc_call::Responses;

const PRODUCE_STREAM_PATH: &str = "/weir.v1.Produce/ProduceStream";
/// Field number of `ProduceRequest.batch` (proto/weir/v1/produce.proto).
const BATCH_FIELD: u32 = 5;

/// The answers of a ProduceStream, one per request, in request order.
pub(crate) type ProduceResponses = Responses<ProduceResponse>;

impl Connection {
    /// Opens a ProduceStream. Requests given to the returned sender (at most `queue` waiting)
    /// go out in order; the answers arrive on the responses. Opening is bounded by
    /// `request_timeout`. Dropping the sender ends the stream once its requests are out.
    pub(crate) async fn produce_stream(
        &self,
        queue: usize,
    ) -> Result<(mpsc::Sender<ProduceRequest>, ProduceResponses), Error> {
        let (tx, rx) = mpsc::channel(queue);
        let body = tonic::body::Body::new(RequestBody {
            requests: rx,
            batch: None,
        });
        let opened = self.call_grpc(PRODUCE_STREAM_PATH, body, "produce");
        let responses = within("open produce stream", self.request_timeout(), opened).await?;
        Ok((tx, responses))
    }
}

/// The request body of a ProduceStream.
struct RequestBody {
    requests: mpsc::Receiver<ProduceRequest>,
    /// The batch of the request whose other fields just went out.
    batch: Option<Bytes>,
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(batch) = self.batch.take() {
            return Poll::Ready(Some(Ok(Frame::data(batch))));
        }
        let Some(request) = ready!(self.requests.poll_recv(cx)) else {
            return Poll::Ready(None);
        };
        let (head, batch) = split(request);
        self.batch = batch.filter(|b| !b.is_empty());
        Poll::Ready(Some(Ok(Frame::data(head))))
    }
}

/// `request` as one gRPC message in two parts: the prefix and every field but the batch
/// (ending with the batch field's key and length), then the batch itself. A request of plain
/// records is one part.
fn split(mut request: ProduceRequest) -> (Bytes, Option<Bytes>) {
    let batch = match request.payload.take() {
        Some(Payload::Batch(batch)) => batch,
        other => {
            request.payload = other;
            return (grpc_frame::encode(&request), None);
        }
    };
    let len = batch.len();
    let batch_field = key_len(BATCH_FIELD) + encoded_len_varint(len as u64);
    let rest = request.encoded_len() + batch_field;
    let mut head = BytesMut::with_capacity(PREFIX_BYTES + rest);
    head.put_u8(0);
    head.put_u32(u32::try_from(rest + len).unwrap_or(u32::MAX));
    request.encode_raw(&mut head);
    encode_key(BATCH_FIELD, WireType::LengthDelimited, &mut head);
    encode_varint(len as u64, &mut head);
    (head.freeze(), Some(batch))
}

#[cfg(test)]
mod tests {
    use bytes::Buf;
    use weir_proto::grpc_frame::Messages;
    use weir_proto::v1::{PlainRecord, RecordList};

    use super::*;

    /// What a server reads from `split`'s parts, each a frame of its own.
    fn read_back(request: &ProduceRequest) -> (ProduceRequest, usize) {
        let (head, batch) = split(request.clone());
        let parts = 1 + usize::from(batch.is_some());
        let mut frames = Messages::new(1 << 20);
        frames.push(head);
        if let Some(batch) = batch {
            frames.push(batch);
        }
        let mut message = frames.next_message().unwrap().expect("one whole message");
        let decoded = ProduceRequest::decode(&mut message).expect("a ProduceRequest");
        assert_eq!(message.remaining(), 0);
        assert!(frames.is_empty());
        (decoded, parts)
    }

    #[test]
    fn a_request_split_around_its_batch_reads_back_whole() {
        let request = ProduceRequest {
            tenant: "default".into(),
            topic: "orders".into(),
            partition: 3,
            acks: 2,
            payload: Some(Payload::Batch(Bytes::from(vec![7_u8; 300]))),
            sequence: 42,
        };
        assert_eq!(read_back(&request), (request.clone(), 2));

        let empty = ProduceRequest {
            payload: Some(Payload::Batch(Bytes::new())),
            ..request.clone()
        };
        assert_eq!(read_back(&empty).0, empty);

        let records = ProduceRequest {
            payload: Some(Payload::Records(RecordList {
                records: vec![PlainRecord {
                    value: Some(Bytes::from_static(b"v")),
                    ..PlainRecord::default()
                }],
            })),
            ..request
        };
        assert_eq!(read_back(&records), (records, 1));
    }
}
