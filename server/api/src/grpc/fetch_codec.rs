//! The gRPC Fetch service's messages on the wire: requests are the proto's `FetchRequest`;
//! responses are `FetchReply`s, encoded into exactly the bytes of a `FetchResponse`, with the
//! batches read from the segment files straight into tonic's output buffer.
//!
//! Owns that encoding. The proto (`fetch.proto`) stays the contract and clients decode plain
//! `FetchResponse`s; a test here checks the bytes match prost's. Must not change what is sent,
//! only how many times it is copied: a `Vec` in between would cost a zero-fill and a copy per
//! response, which showed as ~5–10% of consume time.

use bytes::Bytes;
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use tonic::Status;
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic_prost::ProstDecoder;
use weir_broker::{BrokerError, FetchedSlices};
use weir_proto::v1::{FetchRequest, FetchResponse};

use crate::ApiError;

/// Field number of `FetchResponse.batches`.
const BATCHES_FIELD: u32 = 1;
/// Most bytes in front of the batches: the field key (1) and the length varint (up to 10).
const BATCHES_PREFIX_BYTES_MAX: usize = 11;

/// A `FetchResponse` whose batches are still in the log.
#[derive(Debug, Clone)]
pub struct FetchReply {
    pub slices: FetchedSlices,
    pub throttle_time_ms: u32,
}

impl FetchReply {
    pub(crate) fn new(slices: FetchedSlices) -> Self {
        FetchReply {
            slices,
            throttle_time_ms: 0,
        }
    }

    /// Bytes of batches this reply carries.
    pub(crate) fn batches_len(&self) -> usize {
        self.slices.len
    }

    /// Every field but `batches`, which prost leaves out when empty.
    fn other_fields(&self) -> FetchResponse {
        FetchResponse {
            batches: Bytes::new(),
            next_offset: self.slices.next_offset,
            high_watermark: self.slices.offsets.high_watermark,
            log_start_offset: self.slices.offsets.log_start_offset,
            throttle_time_ms: self.throttle_time_ms,
        }
    }

    /// Writes the reply as a `FetchResponse`: `batches` (read from the files here) first, then
    /// the other fields (`rest`, from `other_fields`). Protobuf allows fields in any order.
    fn encode_to(&self, rest: &FetchResponse, buf: &mut impl bytes::BufMut) -> std::io::Result<()> {
        let len = self.batches_len();
        if len > 0 {
            encode_key(BATCHES_FIELD, WireType::LengthDelimited, buf);
            encode_varint(u64::try_from(len).expect("usize is at most 64 bits"), buf);
            for slice in &self.slices.slices {
                slice.read_to(buf)?;
            }
            buf.put_slice(&self.slices.remote);
        }
        rest.encode(buf).map_err(std::io::Error::other)
    }
}

/// Encodes `FetchReply`s and decodes `FetchRequest`s (with prost, as every other service).
#[derive(Debug, Default, Clone, Copy)]
pub struct FetchCodec;

impl Codec for FetchCodec {
    type Encode = FetchReply;
    type Decode = FetchRequest;
    type Encoder = FetchEncoder;
    type Decoder = ProstDecoder<FetchRequest>;

    fn encoder(&mut self) -> FetchEncoder {
        FetchEncoder
    }

    fn decoder(&mut self) -> ProstDecoder<FetchRequest> {
        ProstDecoder::default()
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct FetchEncoder;

impl Encoder for FetchEncoder {
    type Item = FetchReply;
    type Error = Status;

    /// Grows the buffer once for the whole message, then reads into it. A read that fails
    /// (the disk) ends the call or stream with STORAGE_UNAVAILABLE, as a failed read does
    /// anywhere else; the client resumes from its last `next_offset`.
    fn encode(&mut self, item: FetchReply, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        let rest = item.other_fields();
        buf.reserve(BATCHES_PREFIX_BYTES_MAX + item.batches_len() + rest.encoded_len());
        item.encode_to(&rest, buf).map_err(|e| {
            let e = BrokerError::StorageUnavailable(format!("reading the log failed: {e}"));
            ApiError::from(e).into_status()
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use weir_broker::PartitionOffsets;
    use weir_log::{Log, LogConfig};
    use weir_proto::batch::{BatchOptions, Record, encode};

    use super::*;

    fn batch(value: &str) -> Vec<u8> {
        let record = Record {
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
            timestamp: 1,
            ..Record::default()
        };
        encode(&[record], &BatchOptions::default()).unwrap()
    }

    fn reply(slices: Vec<weir_log::ReadSlice>, next_offset: i64) -> FetchReply {
        let len = slices.iter().map(weir_log::ReadSlice::len).sum();
        let offsets = PartitionOffsets {
            log_start_offset: 0,
            high_watermark: 9,
            size_bytes: 0,
        };
        FetchReply {
            slices: FetchedSlices {
                remote: Bytes::new(),
                slices,
                len,
                next_offset,
                offsets,
            },
            throttle_time_ms: 7,
        }
    }

    /// The reply's bytes are exactly prost's encoding of the `FetchResponse` clients decode.
    #[test]
    fn a_reply_encodes_as_the_fetch_response_it_stands_for() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 1024,
            ..LogConfig::default()
        };
        let mut log = Log::open(dir.path(), config).unwrap();
        for i in 0..9 {
            log.append(&batch(&"x".repeat(300 + i))).unwrap();
        }
        // Slices of two segments, as a fetch across a roll returns them.
        let first = log.read(0, 1 << 20).unwrap();
        let second = log.read(first.next_offset(), 1 << 20).unwrap();
        assert!(
            !second.is_empty(),
            "the log rolled, so there is a second slice"
        );
        let mut stored = first.to_vec().unwrap();
        stored.extend(second.to_vec().unwrap());
        let next = second.next_offset();

        let mut ours = BytesMut::new();
        let reply = reply(vec![first, second], next);
        reply.encode_to(&reply.other_fields(), &mut ours).unwrap();
        let expected = FetchResponse {
            batches: Bytes::from(stored),
            next_offset: next,
            high_watermark: 9,
            log_start_offset: 0,
            throttle_time_ms: 7,
        };
        assert_eq!(ours.as_ref(), expected.encode_to_vec().as_slice());
        assert_eq!(FetchResponse::decode(ours.freeze()).unwrap(), expected);
    }

    #[test]
    fn an_empty_reply_has_no_batches_field() {
        let mut ours = BytesMut::new();
        let reply = reply(Vec::new(), 3);
        reply.encode_to(&reply.other_fields(), &mut ours).unwrap();
        let expected = FetchResponse {
            next_offset: 3,
            high_watermark: 9,
            throttle_time_ms: 7,
            ..FetchResponse::default()
        };
        assert_eq!(ours.as_ref(), expected.encode_to_vec().as_slice());
    }
}
