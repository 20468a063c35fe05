//! Property tests of the RecordBatch codec against a simple model: what goes in comes out, and
//! no input, however damaged, makes decoding panic.
//!
//! Cases are kept few and small so the suite stays fast in debug builds; proptest prints the
//! failing input and persists its seed on failure.

use bytes::Bytes;
use proptest::prelude::*;
use weir_codec::batch::{
    self, BatchOptions, Compression, DecodeLimits, DecodedRecord, Header, Record, TimestampType,
};

/// A small bound so decompression bombs among the mutations stay cheap.
const LIMITS: DecodeLimits = DecodeLimits {
    decompressed_bytes_max: 1 << 20,
};

fn bytes(len_max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..len_max).prop_map(Bytes::from)
}

fn header() -> impl Strategy<Value = Header> {
    (".{0,6}", prop::option::of(bytes(12))).prop_map(|(key, value)| Header { key, value })
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop::option::of(bytes(24)),
        prop::option::of(bytes(300)),
        prop::collection::vec(header(), 0..3),
        -(1i64 << 45)..(1i64 << 45),
    )
        .prop_map(|(key, value, headers, timestamp)| Record {
            key,
            value,
            headers,
            timestamp,
        })
}

fn options() -> impl Strategy<Value = BatchOptions> {
    (
        prop::sample::select(Compression::ALL.to_vec()),
        any::<(i64, i16, i32, i32)>(),
        0..(1i64 << 62),
        prop::bool::ANY,
    )
        .prop_map(
            |(
                compression,
                (producer_id, producer_epoch, base_sequence, epoch),
                base_offset,
                log_append,
            )| {
                BatchOptions {
                    compression,
                    producer_id,
                    producer_epoch,
                    base_sequence,
                    base_offset,
                    partition_leader_epoch: epoch,
                    timestamp_type: if log_append {
                        TimestampType::LogAppendTime
                    } else {
                        TimestampType::CreateTime
                    },
                }
            },
        )
}

/// What decoding must return for `records` encoded with `opts`.
fn model(records: &[Record], opts: &BatchOptions) -> Vec<DecodedRecord> {
    let max_timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or_default();
    records
        .iter()
        .enumerate()
        .map(|(i, r)| DecodedRecord {
            offset: opts.base_offset + i as i64,
            timestamp: match opts.timestamp_type {
                TimestampType::CreateTime => r.timestamp,
                TimestampType::LogAppendTime => max_timestamp,
            },
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r.headers.clone(),
        })
        .collect()
}

/// Runs every reader over `bytes`; each may fail, none may panic.
fn read_everything(bytes: &[u8]) {
    let _ = batch::validate(bytes);
    let _ = batch::decode(bytes, &LIMITS);
    let _ = batch::peek_total_len(bytes);
    let _ = batch::BatchHeader::parse(bytes);
    for (_, one) in batch::batches(bytes).flatten() {
        let _ = batch::decode(one, &LIMITS);
    }
}

/// Recomputes the CRC so that damage past the header reaches the record parser and codecs.
fn fix_crc(batch: &mut [u8]) {
    if batch.len() >= batch::HEADER_LEN {
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_then_decode_returns_the_records(
        records in prop::collection::vec(record(), 1..12),
        opts in options(),
    ) {
        let encoded = batch::encode(&records, &opts).expect("encode");
        let (header, decoded) = batch::decode(&encoded, &LIMITS).expect("decode");
        prop_assert_eq!(decoded, model(&records, &opts));
        prop_assert_eq!(header.compression(), Ok(opts.compression));
        prop_assert_eq!(header.timestamp_type(), opts.timestamp_type);
        prop_assert_eq!(header.base_timestamp, records[0].timestamp);
        prop_assert_eq!(header.producer_id, opts.producer_id);
        prop_assert_eq!(header.producer_epoch, opts.producer_epoch);
        prop_assert_eq!(header.base_sequence, opts.base_sequence);
        prop_assert_eq!(header.partition_leader_epoch, opts.partition_leader_epoch);
        prop_assert_eq!(header.total_len(), encoded.len());
        prop_assert_eq!(header.next_offset(), opts.base_offset + records.len() as i64);
    }

    #[test]
    fn a_run_of_encoded_batches_walks_back_batch_by_batch(
        runs in prop::collection::vec((prop::collection::vec(record(), 1..4), options()), 1..5),
    ) {
        let mut run = Vec::new();
        for (records, opts) in &runs {
            batch::encode_into(records, opts, &mut run).expect("encode");
        }
        let walked: Vec<_> = batch::batches(&run).collect::<Result<_, _>>().expect("walk");
        prop_assert_eq!(walked.len(), runs.len());
        for ((_, one), (records, opts)) in walked.iter().zip(&runs) {
            let (_, decoded) = batch::decode(one, &LIMITS).expect("decode");
            prop_assert_eq!(decoded, model(records, opts));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        read_everything(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_never_panic(
        records in prop::collection::vec(record(), 1..3),
        opts in options(),
        tail in prop::collection::vec(any::<u8>(), 0..300),
        count in any::<i32>(),
    ) {
        let mut encoded = batch::encode(&records, &opts).expect("encode");
        encoded.truncate(batch::HEADER_LEN);
        encoded.extend_from_slice(&tail);
        let batch_length = (encoded.len() - batch::LOG_OVERHEAD) as i32;
        encoded[8..12].copy_from_slice(&batch_length.to_be_bytes());
        encoded[57..61].copy_from_slice(&count.to_be_bytes());
        fix_crc(&mut encoded);
        read_everything(&encoded);
    }

    #[test]
    fn damaged_batches_never_panic(
        records in prop::collection::vec(record(), 1..6),
        opts in options(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
        crc_fixed in prop::bool::ANY,
    ) {
        let mut encoded = batch::encode(&records, &opts).expect("encode");
        for (at, mask) in flips {
            let at = at.index(encoded.len());
            encoded[at] ^= mask;
        }
        if let Some(cut) = cut {
            encoded.truncate(cut.index(encoded.len()));
        }
        if crc_fixed {
            fix_crc(&mut encoded);
        }
        read_everything(&encoded);
    }
}
