//! Decoding untrusted batches: every malformed records section is an error naming what is
//! wrong, and decompression never grows past the caller's bound.

use bytes::Bytes;
use weir_codec::batch::{
    self, BatchError, BatchOptions, Compression, DecodeLimits, HEADER_LEN, LOG_OVERHEAD, Record,
    RecordError,
};
use weir_codec::compression::{self, CodecError};

fn zigzag(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One record body as Kafka lays it out, with a caller-chosen length prefix.
fn raw_record(len_prefix: Option<i64>, offset_delta: i64, key_len: i64, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8]; // attributes
    zigzag(&mut body, 0); // timestamp delta
    zigzag(&mut body, offset_delta);
    zigzag(&mut body, key_len);
    body.extend_from_slice(rest);
    let mut out = Vec::new();
    zigzag(&mut out, len_prefix.unwrap_or(body.len() as i64));
    out.extend_from_slice(&body);
    out
}

/// A well-formed record: null key, null value, no headers, at `offset_delta`.
fn plain_record(offset_delta: i64) -> Vec<u8> {
    raw_record(None, offset_delta, -1, &[0x01, 0x00])
}

/// A valid batch (CRC and lengths fixed up) around a hand-made records section.
fn batch_with_section(section: &[u8], records_count: i32, last_offset_delta: i32) -> Vec<u8> {
    let record = Record::default();
    let mut out = batch::encode(&[record], &BatchOptions::default()).expect("encode");
    out.truncate(HEADER_LEN);
    out.extend_from_slice(section);
    let batch_length = (out.len() - LOG_OVERHEAD) as i32;
    out[8..12].copy_from_slice(&batch_length.to_be_bytes());
    out[23..27].copy_from_slice(&last_offset_delta.to_be_bytes());
    out[57..61].copy_from_slice(&records_count.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

fn decode_err(batch: &[u8]) -> BatchError {
    batch::decode(batch, &DecodeLimits::default()).expect_err("must not decode")
}

fn record_err(batch: &[u8]) -> (usize, RecordError) {
    match decode_err(batch) {
        BatchError::InvalidRecord { index, error } => (index, error),
        other => panic!("expected a record error, got {other}"),
    }
}

#[test]
fn hand_made_section_decodes_when_well_formed() {
    let mut section = plain_record(0);
    section.extend(plain_record(2)); // a gap, as compaction leaves
    let (_, records) =
        batch::decode(&batch_with_section(&section, 2, 2), &Default::default()).expect("decode");
    assert_eq!(records.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 2]);
}

#[test]
fn fewer_records_than_the_header_counts_is_an_error() {
    let batch = batch_with_section(&plain_record(0), 2, 1);
    assert!(matches!(
        record_err(&batch),
        (1, RecordError::Truncated { .. })
    ));
}

#[test]
fn bytes_after_the_last_counted_record_are_an_error() {
    let mut section = plain_record(0);
    section.extend(plain_record(1));
    assert_eq!(
        decode_err(&batch_with_section(&section, 1, 1)),
        BatchError::TrailingBytes(section.len() / 2)
    );
}

#[test]
fn length_prefix_longer_than_the_fields_is_an_error() {
    let section = raw_record(Some(7), 0, -1, &[0x01, 0x00, 0xAA]);
    let (_, error) = record_err(&batch_with_section(&section, 1, 0));
    assert_eq!(
        error,
        RecordError::LengthMismatch {
            declared: 7,
            unread: 1
        }
    );
}

#[test]
fn length_prefix_shorter_than_the_fields_is_an_error() {
    let section = raw_record(Some(4), 0, -1, &[0x01, 0x00]);
    assert!(matches!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::Truncated { .. })
    ));
}

#[test]
fn negative_lengths_other_than_null_are_errors() {
    let section = raw_record(None, 0, -2, &[0x01, 0x00]);
    assert_eq!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::InvalidLength(-2))
    );
    let section = raw_record(Some(-3), 0, -1, &[0x01, 0x00]);
    assert_eq!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::InvalidLength(-3))
    );
    // Null value, then a header count of -1.
    let section = raw_record(None, 0, -1, &[0x01, 0x01]);
    assert_eq!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::InvalidLength(-1))
    );
}

#[test]
fn offset_delta_outside_the_batch_is_an_error() {
    let batch = batch_with_section(&plain_record(3), 1, 2);
    assert_eq!(record_err(&batch), (0, RecordError::OffsetDelta(3)));
    let batch = batch_with_section(&plain_record(-1), 1, 2);
    assert_eq!(record_err(&batch), (0, RecordError::OffsetDelta(-1)));
}

#[test]
fn header_key_that_is_not_utf8_is_an_error() {
    // Null value, one header: key of 2 bytes (invalid UTF-8), null value.
    let section = raw_record(None, 0, -1, &[0x01, 0x02, 0x04, 0xC3, 0x28, 0x01]);
    assert_eq!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::HeaderKeyNotUtf8)
    );
}

#[test]
fn overlong_varint_is_an_error() {
    let mut section = vec![0xFF; 6];
    section.extend(plain_record(0));
    assert_eq!(
        record_err(&batch_with_section(&section, 1, 0)),
        (0, RecordError::VarintTooLong)
    );
}

#[test]
fn empty_batch_left_by_compaction_decodes_to_no_records() {
    let batch = batch_with_section(&[], 0, 0);
    let (header, records) = batch::decode(&batch, &DecodeLimits::default()).expect("decode");
    assert_eq!(header.records_count, 0);
    assert!(records.is_empty());
}

#[test]
fn corrupt_crc_is_reported_before_any_record() {
    let mut batch = batch_with_section(&plain_record(0), 1, 0);
    let last = batch.len() - 1;
    batch[last] ^= 0x01;
    assert!(matches!(decode_err(&batch), BatchError::CrcMismatch { .. }));
}

#[test]
fn decompression_stops_at_the_bound_for_every_codec() {
    let zeros = vec![0u8; 4 << 20];
    for codec in Compression::ALL {
        let mut compressed = Vec::new();
        compression::compress(codec, &zeros, &mut compressed).expect("compress");
        let bound = 1 << 20;
        assert_eq!(
            compression::decompress(codec, &compressed, bound),
            Err(CodecError::TooLarge {
                compression: codec,
                limit: bound
            }),
            "{codec:?}"
        );
        let exact = compression::decompress(codec, &compressed, zeros.len()).expect("fits");
        assert_eq!(exact.len(), zeros.len(), "{codec:?}");
    }
}

#[test]
fn a_compressed_batch_over_the_limit_is_refused() {
    let record = Record {
        value: Some(Bytes::from(vec![7u8; 300_000])),
        ..Record::default()
    };
    let limits = DecodeLimits {
        decompressed_bytes_max: 100_000,
    };
    for codec in Compression::ALL
        .into_iter()
        .filter(|c| *c != Compression::None)
    {
        let opts = BatchOptions {
            compression: codec,
            ..BatchOptions::default()
        };
        let encoded = batch::encode(std::slice::from_ref(&record), &opts).expect("encode");
        assert!(
            encoded.len() < 100_000,
            "{codec:?} should compress a run of sevens"
        );
        assert!(matches!(
            batch::decode(&encoded, &limits),
            Err(BatchError::Codec(CodecError::TooLarge { .. }))
        ));
    }
}

#[test]
fn a_raw_snappy_block_claiming_a_huge_length_is_refused_before_allocating() {
    // Raw snappy starts with the uncompressed length as a varint: here 0xFFFF_FFFF.
    let claim = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00];
    assert!(matches!(
        compression::decompress(Compression::Snappy, &claim, 1 << 20),
        Err(CodecError::TooLarge { .. })
    ));
}

#[test]
fn garbage_in_a_compressed_section_is_a_codec_error() {
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let opts = BatchOptions {
            compression: codec,
            ..BatchOptions::default()
        };
        let mut encoded = batch::encode(&[Record::default()], &opts).expect("encode");
        encoded.truncate(HEADER_LEN);
        let garbage = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff\xff\xff".to_vec();
        let batch = {
            let mut b = encoded.clone();
            b.extend_from_slice(&garbage);
            let len = (b.len() - LOG_OVERHEAD) as i32;
            b[8..12].copy_from_slice(&len.to_be_bytes());
            let crc = crc32c::crc32c(&b[21..]);
            b[17..21].copy_from_slice(&crc.to_be_bytes());
            b
        };
        assert!(
            matches!(
                decode_err(&batch),
                BatchError::Codec(CodecError::Corrupt { .. })
            ),
            "{codec:?}"
        );
    }
}
