//! Encoding batches the way Kafka's producer lays them out, and walking a run of them the way a
//! fetch or a segment scan does.

use bytes::Bytes;
use weir_codec::batch::{
    self, BatchError, BatchOptions, Compression, DecodeLimits, Record, RecordError,
};

fn record(key: &'static str, timestamp: i64) -> Record {
    Record {
        key: Some(Bytes::from_static(key.as_bytes())),
        value: Some(Bytes::from_static(b"value")),
        headers: Vec::new(),
        timestamp,
    }
}

#[test]
fn zero_records_is_an_error() {
    assert_eq!(
        batch::encode(&[], &BatchOptions::default()),
        Err(BatchError::Empty)
    );
}

#[test]
fn header_carries_first_and_max_timestamps_and_offset_deltas() {
    let records = [
        record("a", 50),
        record("b", 10),
        record("c", 90),
        record("d", 20),
    ];
    let opts = BatchOptions {
        base_offset: 500,
        ..BatchOptions::default()
    };
    let encoded = batch::encode(&records, &opts).expect("encode");
    let header = batch::validate(&encoded).expect("valid");
    assert_eq!(header.base_timestamp, 50);
    assert_eq!(header.max_timestamp, 90);
    assert_eq!(header.last_offset_delta, 3);
    assert_eq!(header.records_count, 4);
    assert_eq!(header.producer_id, -1);
    assert_eq!(header.producer_epoch, -1);
    assert_eq!(header.base_sequence, -1);
    assert_eq!(header.partition_leader_epoch, -1);
    assert_eq!(header.attributes, 0);
    assert_eq!(header.last_offset(), 503);
}

#[test]
fn timestamps_too_far_apart_fail_and_leave_the_buffer_as_it_was() {
    let mut out = b"earlier".to_vec();
    let records = [record("a", i64::MIN), record("b", i64::MAX)];
    let result = batch::encode_into(&records, &BatchOptions::default(), &mut out);
    assert_eq!(
        result,
        Err(BatchError::InvalidRecord {
            index: 1,
            error: RecordError::TimestampOverflow
        })
    );
    assert_eq!(out, b"earlier");
}

#[test]
fn rewriting_base_offset_and_epoch_keeps_the_batch_valid() {
    let mut encoded = batch::encode(
        &[record("a", 1), record("b", 2)],
        &BatchOptions {
            compression: Compression::Zstd,
            ..BatchOptions::default()
        },
    )
    .expect("encode");
    batch::set_base_offset(&mut encoded, 1 << 40);
    batch::set_partition_leader_epoch(&mut encoded, 12);
    let (header, records) = batch::decode(&encoded, &DecodeLimits::default()).expect("decode");
    assert_eq!(header.partition_leader_epoch, 12);
    assert_eq!(records[1].offset, (1 << 40) + 1);
}

#[test]
fn walking_a_run_yields_each_batch_then_stops_at_a_torn_tail() {
    let mut run = Vec::new();
    let mut first_len = 0;
    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        let opts = BatchOptions {
            compression: codec,
            base_offset: i as i64 * 10,
            ..Default::default()
        };
        batch::encode_into(&[record("k", 7), record("l", 8)], &opts, &mut run).expect("encode");
        if i == 0 {
            first_len = run.len();
        }
    }
    // A torn write: the first 30 bytes of a copy of the first batch.
    run.extend_from_within(..30);
    let mut walk = batch::batches(&run);
    let offsets: Vec<i64> = walk
        .by_ref()
        .take(5)
        .map(|b| b.expect("valid batch").0.base_offset)
        .collect();
    assert_eq!(offsets, [0, 10, 20, 30, 40]);
    assert_eq!(walk.remaining().len(), 30);
    let torn = BatchError::Truncated {
        needed: first_len,
        available: 30,
    };
    assert_eq!(walk.next(), Some(Err(torn)));
    assert_eq!(walk.next(), None);
    assert_eq!(walk.remaining().len(), 30);
}

#[test]
fn a_corrupt_batch_in_the_middle_stops_the_walk_there() {
    let mut run = Vec::new();
    for _ in 0..3 {
        batch::encode_into(&[record("k", 1)], &BatchOptions::default(), &mut run).expect("encode");
    }
    let one = run.len() / 3;
    run[one + 70] ^= 0xFF;
    let results: Vec<_> = batch::batches(&run).collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(BatchError::CrcMismatch { .. })));
}
