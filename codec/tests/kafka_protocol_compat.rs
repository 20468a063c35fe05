//! Cross-checks Weir's RecordBatch v2 codec against `kafka-protocol`, an independent Rust
//! implementation of Kafka's wire format: each side must read what the other writes, for every
//! codec, and batches must be identical byte for byte where both make the same choices.

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    self as kp, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
};
use weir_codec::batch::{
    self, BatchOptions, Compression, DecodeLimits, DecodedRecord, Header, Record, TimestampType,
};

const BASE_OFFSET: i64 = 1_000;
const PRODUCER_ID: i64 = 4_242;
const PRODUCER_EPOCH: i16 = 3;
const BASE_SEQUENCE: i32 = 77;
const LEADER_EPOCH: i32 = 9;

/// Records that cover each field's edge cases; the large values span several 32 KiB snappy
/// blocks and 64 KiB lz4 blocks. Timestamps never go below the first (see
/// `first_timestamp_not_smallest_reads_back_the_same`). Header keys are unique because
/// kafka-protocol keeps headers in a map.
fn sample_records() -> Vec<Record> {
    let big: Bytes = (0..100_000u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<_>>()
        .into();
    vec![
        record(Some(b"k1"), Some(b"v1"), &[], 1_700_000_000_000),
        record(
            None,
            Some(b"no key"),
            &[("trace", Some(b"abc"))],
            1_700_000_000_005,
        ),
        record(
            Some(b""),
            None,
            &[("empty", Some(b"")), ("null", None)],
            1_700_000_000_001,
        ),
        record(
            Some(b"k4"),
            Some(&big),
            &[("ключ-ü", Some(b"\x00\xff"))],
            1_700_000_900_000,
        ),
        record(None, None, &[], 1_700_000_000_000),
        Record {
            key: Some(big.slice(..70_000)),
            value: Some(big.slice(1..)),
            headers: vec![],
            timestamp: 1_700_000_000_002,
        },
    ]
}

fn record(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
    timestamp: i64,
) -> Record {
    Record {
        key: key.map(Bytes::copy_from_slice),
        value: value.map(Bytes::copy_from_slice),
        headers: headers
            .iter()
            .map(|(key, value)| Header {
                key: (*key).to_owned(),
                value: value.map(Bytes::copy_from_slice),
            })
            .collect(),
        timestamp,
    }
}

fn idempotent(compression: Compression) -> BatchOptions {
    BatchOptions {
        compression,
        producer_id: PRODUCER_ID,
        producer_epoch: PRODUCER_EPOCH,
        base_sequence: BASE_SEQUENCE,
        base_offset: BASE_OFFSET,
        partition_leader_epoch: LEADER_EPOCH,
        timestamp_type: TimestampType::CreateTime,
    }
}

fn kp_compression(compression: Compression) -> kp::Compression {
    match compression {
        Compression::None => kp::Compression::None,
        Compression::Gzip => kp::Compression::Gzip,
        Compression::Snappy => kp::Compression::Snappy,
        Compression::Lz4 => kp::Compression::Lz4,
        Compression::Zstd => kp::Compression::Zstd,
    }
}

/// kafka-protocol's view of our records: one batch needs `offset - sequence` constant.
fn to_kp(records: &[Record], opts: &BatchOptions) -> Vec<kp::Record> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| kp::Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: opts.partition_leader_epoch,
            producer_id: opts.producer_id,
            producer_epoch: opts.producer_epoch,
            timestamp_type: kp::TimestampType::Creation,
            offset: opts.base_offset + i as i64,
            sequence: opts.base_sequence.wrapping_add(i as i32),
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| (StrBytes::from_string(h.key.clone()), h.value.clone()))
                .collect(),
        })
        .collect()
}

fn kp_encode(records: &[Record], opts: &BatchOptions) -> Vec<u8> {
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: kp_compression(opts.compression),
    };
    RecordBatchEncoder::encode(&mut out, &to_kp(records, opts), &options).expect("kp encodes");
    out.to_vec()
}

fn kp_decode(batch: &[u8]) -> kp::RecordSet {
    let mut buf = Bytes::copy_from_slice(batch);
    let set = RecordBatchDecoder::decode(&mut buf).expect("kafka-protocol decodes our batch");
    assert!(buf.is_empty(), "kafka-protocol left bytes unread");
    set
}

/// The record as a Weir decoder would report it, for comparing with kafka-protocol's.
fn expected(records: &[Record], base_offset: i64) -> Vec<DecodedRecord> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| DecodedRecord {
            offset: base_offset + i as i64,
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r.headers.clone(),
        })
        .collect()
}

fn from_kp(record: &kp::Record) -> DecodedRecord {
    DecodedRecord {
        offset: record.offset,
        timestamp: record.timestamp,
        key: record.key.clone(),
        value: record.value.clone(),
        headers: record
            .headers
            .iter()
            .map(|(key, value)| Header {
                key: key.as_str().to_owned(),
                value: value.clone(),
            })
            .collect(),
    }
}

#[test]
fn kafka_protocol_reads_our_batches_for_every_codec() {
    let records = sample_records();
    for compression in Compression::ALL {
        let opts = idempotent(compression);
        let batch = batch::encode(&records, &opts).expect("encode");
        let set = kp_decode(&batch);
        assert_eq!(
            set.compression,
            kp_compression(compression),
            "{compression:?}"
        );
        assert_eq!(set.version, 2);
        let theirs: Vec<_> = set.records.iter().map(from_kp).collect();
        assert_eq!(theirs, expected(&records, BASE_OFFSET), "{compression:?}");
        for (i, r) in set.records.iter().enumerate() {
            assert_eq!(r.producer_id, PRODUCER_ID);
            assert_eq!(r.producer_epoch, PRODUCER_EPOCH);
            assert_eq!(r.sequence, BASE_SEQUENCE + i as i32);
            assert_eq!(r.partition_leader_epoch, LEADER_EPOCH);
            assert_eq!(r.timestamp_type, kp::TimestampType::Creation);
            assert!(!r.transactional && !r.control);
        }
    }
}

#[test]
fn we_read_kafka_protocol_batches_for_every_codec() {
    let records = sample_records();
    for compression in Compression::ALL {
        let opts = idempotent(compression);
        let batch = kp_encode(&records, &opts);
        let (header, ours) = batch::decode(&batch, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{compression:?}: {e}"));
        assert_eq!(ours, expected(&records, BASE_OFFSET), "{compression:?}");
        assert_eq!(header.compression(), Ok(compression));
        assert_eq!(header.base_offset, BASE_OFFSET);
        assert_eq!(header.producer_id, PRODUCER_ID);
        assert_eq!(header.producer_epoch, PRODUCER_EPOCH);
        assert_eq!(header.base_sequence, BASE_SEQUENCE);
        assert_eq!(header.partition_leader_epoch, LEADER_EPOCH);
        assert_eq!(header.records_count, records.len() as i32);
        assert_eq!(header.last_offset_delta, records.len() as i32 - 1);
        assert_eq!(header.max_timestamp, 1_700_000_900_000);
        assert_eq!(header.timestamp_type(), TimestampType::CreateTime);
    }
}

#[test]
fn uncompressed_batches_are_identical_byte_for_byte() {
    let records = sample_records();
    for opts in [idempotent(Compression::None), BatchOptions::default()] {
        let ours = batch::encode(&records, &opts).expect("encode");
        assert_eq!(ours, kp_encode(&records, &opts), "{opts:?}");
    }
}

/// Compressed sections match too, because both sides use the same codec crates with the same
/// settings: snappy in xerial framing with 32 KiB blocks (`snap`), gzip at the default level
/// (`flate2`), zstd level 3 streamed (`zstd`). This holds while both resolve to the same crate
/// versions. lz4 differs by design: kafka-protocol uses the lz4 C library with block and
/// content checksums, we write lz4_flex frames without checksums (as Kafka's Java producer
/// does), so lz4 is only cross-decoded above.
#[test]
fn gzip_snappy_and_zstd_batches_are_identical_byte_for_byte() {
    let records = sample_records();
    for compression in [Compression::Gzip, Compression::Snappy, Compression::Zstd] {
        let opts = idempotent(compression);
        let ours = batch::encode(&records, &opts).expect("encode");
        assert_eq!(ours, kp_encode(&records, &opts), "{compression:?}");
    }
}

/// Kafka's Java producer writes the first record's timestamp as `baseTimestamp` (and so do
/// we); kafka-protocol writes the smallest. The bytes differ, the records read back the same.
#[test]
fn first_timestamp_not_smallest_reads_back_the_same() {
    let records = vec![
        record(Some(b"a"), Some(b"1"), &[], 5_000),
        record(Some(b"b"), Some(b"2"), &[], 1_000),
        record(Some(b"c"), Some(b"3"), &[], 9_000),
    ];
    let opts = idempotent(Compression::None);
    let ours = batch::encode(&records, &opts).expect("encode");
    let theirs = kp_encode(&records, &opts);
    assert_ne!(ours, theirs);
    let (our_header, _) = batch::decode(&ours, &DecodeLimits::default()).expect("decode");
    let (their_header, from_theirs) =
        batch::decode(&theirs, &DecodeLimits::default()).expect("decode");
    assert_eq!(our_header.base_timestamp, 5_000);
    assert_eq!(their_header.base_timestamp, 1_000);
    assert_eq!(our_header.max_timestamp, their_header.max_timestamp);
    let from_ours: Vec<_> = kp_decode(&ours).records.iter().map(from_kp).collect();
    assert_eq!(from_ours, expected(&records, BASE_OFFSET));
    assert_eq!(from_theirs, expected(&records, BASE_OFFSET));
}

/// kafka-protocol writes snappy in xerial framing; Kafka's reader (xerial's
/// `SnappyInputStream`) also accepts one plain raw snappy block, and so must we.
#[test]
fn we_read_raw_snappy_sections() {
    let records = sample_records();
    let opts = idempotent(Compression::Snappy);
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: kp::Compression::Snappy,
    };
    let raw_snappy = |section: &mut BytesMut, out: &mut BytesMut, _: kp::Compression| {
        let block = snap::raw::Encoder::new().compress_vec(section)?;
        out.extend_from_slice(&block);
        Ok(())
    };
    let kp_records = to_kp(&records, &opts);
    RecordBatchEncoder::encode_with_custom_compression(
        &mut out,
        &kp_records,
        &options,
        Some(raw_snappy),
    )
    .expect("kp encodes");
    assert_ne!(
        &out[61..69],
        b"\x82SNAPPY\x00",
        "section must be raw snappy"
    );
    let (_, ours) = batch::decode(&out, &DecodeLimits::default()).expect("decode raw snappy");
    assert_eq!(ours, expected(&records, BASE_OFFSET));
}

/// kafka-protocol ignores LogAppendTime when encoding, but reads the attribute bit we write.
/// Kafka's Java client (and our decoder) then report `maxTimestamp` for every record;
/// kafka-protocol reports the stored per-record timestamps.
#[test]
fn kafka_protocol_reads_our_log_append_time_bit() {
    let records = sample_records();
    let opts = BatchOptions {
        timestamp_type: TimestampType::LogAppendTime,
        ..idempotent(Compression::Lz4)
    };
    let batch = batch::encode(&records, &opts).expect("encode");
    let set = kp_decode(&batch);
    assert!(
        set.records
            .iter()
            .all(|r| r.timestamp_type == kp::TimestampType::LogAppend)
    );
    let (header, ours) = batch::decode(&batch, &DecodeLimits::default()).expect("decode");
    assert!(ours.iter().all(|r| r.timestamp == header.max_timestamp));
}
