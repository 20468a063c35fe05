//! Leader epochs and replica appends: every appended batch carries the current leader epoch,
//! the epoch history survives restarts in `leader-epoch-checkpoint` (Kafka's text format) and
//! is created for logs written before it existed, `append_replica` keeps a leader's offsets
//! and epoch and refuses a batch that does not start at the log end, and reads bounded by an
//! end offset (a high watermark) never return a batch reaching it.

use std::path::Path;

use bytes::Bytes;
use weir_codec::batch::{BatchHeader, BatchOptions, Record, batches, encode, set_base_offset};
use weir_log::{EpochEntry, Log, LogConfig, LogError, ReplicaAppendError};

const CHECKPOINT: &str = "leader-epoch-checkpoint";

/// A batch of `count` records as a producer sends it (base offset 0, epoch -1).
fn batch(count: usize) -> Vec<u8> {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            value: Some(Bytes::from(format!("v{i}"))),
            timestamp: 1_700_000_000_000 + i as i64,
            ..Record::default()
        })
        .collect();
    encode(&records, &BatchOptions::default()).unwrap()
}

/// A batch as a leader stored it: its base offset and leader epoch assigned.
fn leader_batch(base_offset: i64, epoch: i32, count: usize) -> Vec<u8> {
    let options = BatchOptions {
        partition_leader_epoch: epoch,
        ..BatchOptions::default()
    };
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            value: Some(Bytes::from(format!("r{base_offset}-{i}"))),
            timestamp: 1_700_000_000_000,
            ..Record::default()
        })
        .collect();
    let mut bytes = encode(&records, &options).unwrap();
    set_base_offset(&mut bytes, base_offset);
    bytes
}

/// Every stored batch's (base offset, leader epoch).
fn stamps(log: &Log) -> Vec<(i64, i32)> {
    let mut out = Vec::new();
    log.for_each_batch_header(|h| out.push((h.base_offset, h.partition_leader_epoch)))
        .unwrap();
    out
}

fn all_bytes(log: &Log) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, 1 << 20).unwrap();
        slice.read_into(&mut out).unwrap();
        offset = slice.next_offset();
    }
    out
}

fn checkpoint(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(CHECKPOINT)).unwrap()
}

fn entry(epoch: i32, start_offset: i64) -> EpochEntry {
    EpochEntry {
        epoch,
        start_offset,
    }
}

#[test]
fn appends_are_stamped_with_the_current_epoch_and_epochs_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    // Created at the first open, in epoch 0 from offset 0.
    assert_eq!(checkpoint(dir.path()), "0\n1\n0 0\n");
    assert_eq!(log.leader_epoch(), 0);
    log.append(&batch(2)).unwrap();
    assert!(!log.begin_epoch(0).unwrap(), "epoch 0 is current already");
    assert!(log.begin_epoch(3).unwrap());
    assert!(
        !log.begin_epoch(2).unwrap(),
        "an older epoch changes nothing"
    );
    log.append(&batch(1)).unwrap();
    log.roll().unwrap();
    log.append(&batch(3)).unwrap();
    assert_eq!(stamps(&log), [(0, 0), (2, 3), (3, 3)]);
    assert_eq!(log.leader_epochs(), [entry(0, 0), entry(3, 2)]);
    assert_eq!(checkpoint(dir.path()), "0\n2\n0 0\n3 2\n");
    // The CRC does not cover the stamped field: every stored batch still validates.
    for b in batches(&all_bytes(&log)) {
        weir_codec::batch::validate(b.unwrap().1).unwrap();
    }
    log.close().unwrap();

    let log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.leader_epochs(), [entry(0, 0), entry(3, 2)]);
    assert_eq!(log.leader_epoch(), 3);
    assert_eq!(stamps(&log), [(0, 0), (2, 3), (3, 3)]);
}

#[test]
fn a_log_written_before_epochs_opens_whole_and_gets_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    for n in 1..=4 {
        log.append(&batch(n)).unwrap();
        log.roll().unwrap();
    }
    log.append(&batch(2)).unwrap();
    let before = all_bytes(&log);
    drop(log); // unclean: recovery checks the tail too
    // What a data directory of an older Weir holds: no checkpoint.
    std::fs::remove_file(dir.path().join(CHECKPOINT)).unwrap();

    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.log_end_offset(), 12);
    assert_eq!(all_bytes(&log), before, "nothing lost or changed");
    // Epoch 0 from the end on: the batches already there carry what their producer wrote.
    assert_eq!(log.leader_epochs(), [entry(0, 12)]);
    assert_eq!(checkpoint(dir.path()), "0\n1\n0 12\n");
    let info = log.append(&batch(1)).unwrap();
    assert_eq!(info.base_offset, 12);
}

#[test]
fn a_damaged_checkpoint_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    Log::open(dir.path(), LogConfig::default())
        .unwrap()
        .close()
        .unwrap();
    std::fs::write(dir.path().join(CHECKPOINT), "0\n2\n0 0\n").unwrap();
    let err = Log::open(dir.path(), LogConfig::default()).unwrap_err();
    assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("leader epoch checkpoint"), "{err}");
}

#[test]
fn truncation_forgets_epochs_that_began_after_the_new_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    log.append(&batch(5)).unwrap();
    log.begin_epoch(1).unwrap();
    log.append(&batch(5)).unwrap();
    log.begin_epoch(2).unwrap();
    log.append(&batch(5)).unwrap();
    assert_eq!(
        log.leader_epochs(),
        [entry(0, 0), entry(1, 5), entry(2, 10)]
    );
    assert_eq!(log.truncate(7).unwrap(), 5, "cut at the start of the batch");
    assert_eq!(log.leader_epochs(), [entry(0, 0), entry(1, 5)]);
    assert_eq!(checkpoint(dir.path()), "0\n2\n0 0\n1 5\n");
    log.append(&batch(1)).unwrap();
    assert_eq!(stamps(&log).last(), Some(&(5, 1)));
}

#[test]
fn replica_batches_keep_their_offsets_and_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    let first = leader_batch(0, 0, 3);
    let info = log.append_replica(&first).unwrap();
    assert_eq!((info.base_offset, info.last_offset), (0, 2));
    // A newer epoch in a leader's batch becomes the log's, from that batch on.
    let second = leader_batch(3, 4, 2);
    log.append_replica(&second).unwrap();
    assert_eq!(log.leader_epochs(), [entry(0, 0), entry(4, 3)]);
    assert_eq!(log.leader_epoch(), 4);
    // Stored exactly as the leader sent them.
    assert_eq!(all_bytes(&log), [first, second].concat());
    assert_eq!(stamps(&log), [(0, 0), (3, 4)]);
    log.close().unwrap();
    let log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.leader_epochs(), [entry(0, 0), entry(4, 3)]);
}

#[test]
fn a_replica_batch_not_at_the_log_end_is_refused_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    log.append_replica(&leader_batch(0, 0, 3)).unwrap();
    for base in [0, 2, 4, 100] {
        let err = log.append_replica(&leader_batch(base, 0, 1)).unwrap_err();
        assert!(
            matches!(
                err,
                ReplicaAppendError::NotAtLogEnd {
                    base_offset,
                    log_end_offset: 3
                } if base_offset == base
            ),
            "{err}"
        );
    }
    // A newer epoch on a refused batch is not recorded either.
    assert!(log.append_replica(&leader_batch(7, 9, 1)).is_err());
    assert_eq!(log.leader_epochs(), [entry(0, 0)]);
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(stamps(&log), [(0, 0)]);
    // A damaged batch is the log's own error.
    let mut bad = leader_batch(3, 0, 1);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        log.append_replica(&bad),
        Err(ReplicaAppendError::Log(LogError::InvalidBatch(_)))
    ));
}

#[test]
fn reads_up_to_an_end_offset_leave_out_every_batch_reaching_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        index_interval_bytes: 64,
        ..LogConfig::default()
    };
    let mut log = Log::open(dir.path(), config).unwrap();
    // Batches [0,3) [3,5) | roll | [5,9) [9,10)
    for (n, roll) in [(3, false), (2, true), (4, false), (1, false)] {
        log.append(&batch(n)).unwrap();
        if roll {
            log.roll().unwrap();
        }
    }
    let next = |offset, end| log.read_up_to(offset, 1 << 20, end).unwrap().next_offset();
    let is_empty = |offset, end| log.read_up_to(offset, 1 << 20, end).unwrap().is_empty();
    assert_eq!(next(0, 10), 5, "one segment per read, as `read`");
    assert_eq!(next(0, 5), 5);
    assert_eq!(
        next(0, 4),
        3,
        "the batch holding the end offset is left out"
    );
    assert!(is_empty(0, 2), "even when it is the first");
    assert!(is_empty(3, 3));
    assert!(is_empty(4, 3), "past the end offset: nothing, not an error");
    assert_eq!(next(5, 9), 9);
    assert_eq!(next(6, 10), 10);
    assert!(is_empty(5, 7));
    assert!(is_empty(10, 10));
    // Small reads still return one whole batch, within the bound.
    assert_eq!(log.read_up_to(5, 1, 9).unwrap().next_offset(), 9);
    // Outside the log is still an error.
    assert!(matches!(
        log.read_up_to(11, 1024, 10),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    // `read` is a read up to the log end.
    let whole = log.read(5, 1 << 20).unwrap();
    assert_eq!((whole.first_offset(), whole.next_offset()), (5, 10));
}

#[test]
fn retention_up_to_a_limit_never_passes_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_bytes: Some(1),
        ..LogConfig::default()
    };
    let mut log = Log::open(dir.path(), config).unwrap();
    for _ in 0..4 {
        log.append(&batch(2)).unwrap();
        log.roll().unwrap();
    }
    // Segments start at 0, 2, 4, 6 and 8 (empty, active).
    let outcome = log.apply_retention_up_to(5).unwrap();
    assert_eq!(outcome.segments_deleted, 2);
    assert_eq!(log.log_start_offset(), 4);
    // Without a limit it goes on as far as `retention_bytes` says (the last full segment
    // stays: without it the log would hold 0 bytes, below the 1 allowed).
    log.apply_retention().unwrap();
    assert_eq!(log.log_start_offset(), 6);
    let header = BatchHeader::parse(&batch(1)).unwrap();
    assert_eq!(header.partition_leader_epoch, -1, "producers send no epoch");
}
