//! Idempotent producer state of one partition: for each producer id, its epoch and its last
//! few appended batches, so that a resent batch is answered with its original offsets and a
//! batch that skips or repeats part of a producer's sequence is refused.
//!
//! Owns the sequence rules (Kafka's): a batch equal to a retained one (epoch, base sequence,
//! record count) is a duplicate; otherwise it must start at the last sequence + 1, or at 0 for
//! a producer new to the partition or with a newer epoch. Must not touch the log: the caller
//! (`Partition::append`, under the partition lock) checks, appends, then records. The state is
//! rebuilt at open from the batch headers of the whole log (one 61-byte read per batch).

use std::collections::{HashMap, VecDeque};

use weir_codec::batch::BatchHeader;
use weir_log::AppendInfo;

use crate::BrokerError;

/// Batches remembered per producer and partition: Kafka's bound on an idempotent producer's
/// batches in flight, so any batch a client may still resend is recognized.
pub const PRODUCER_BATCHES_RETAINED: usize = 5;

/// Producers remembered per partition. Beyond it, the producer whose last batch is oldest is
/// forgotten (its next batch must then start a new sequence at 0, as a new producer would).
pub const PRODUCERS_PER_PARTITION_MAX: usize = 10_000;

/// `producerId` of batches from a producer without idempotence.
pub const NO_PRODUCER_ID: i64 = -1;

/// One appended batch of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retained {
    base_sequence: i32,
    records: i32,
    info: AppendInfo,
}

impl Retained {
    fn last_sequence(&self) -> i32 {
        advance(self.base_sequence, self.records - 1)
    }
}

/// What a partition knows of one producer.
#[derive(Debug, Clone, Default)]
struct Producer {
    epoch: i16,
    /// Oldest first, at most `PRODUCER_BATCHES_RETAINED`.
    batches: VecDeque<Retained>,
}

/// What to do with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Append it (and `record` it afterwards).
    Append,
    /// It was appended before: answer with these offsets, write nothing.
    Duplicate(AppendInfo),
}

/// The producer state of one partition.
#[derive(Debug, Default)]
pub(crate) struct Producers {
    by_id: HashMap<i64, Producer>,
}

impl Producers {
    /// Rebuilds the state from every batch header of a log, oldest first.
    pub(crate) fn rebuild(log: &weir_log::Log) -> Result<Producers, BrokerError> {
        let mut producers = Producers::default();
        log.for_each_batch_header(|h| {
            let info = AppendInfo {
                base_offset: h.base_offset,
                last_offset: h.last_offset(),
                max_timestamp: h.max_timestamp,
            };
            producers.record(h, info);
        })?;
        Ok(producers)
    }

    /// Number of producers known.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Decides whether the batch with this header may be appended.
    pub(crate) fn check(&self, h: &BatchHeader) -> Result<Check, BrokerError> {
        if h.producer_id == NO_PRODUCER_ID {
            return Ok(Check::Append);
        }
        if h.producer_id < 0 || h.producer_epoch < 0 || h.base_sequence < 0 {
            return Err(BrokerError::InvalidRequest(format!(
                "idempotent batch with producer id {}, epoch {}, base sequence {}",
                h.producer_id, h.producer_epoch, h.base_sequence
            )));
        }
        let Some(known) = self.by_id.get(&h.producer_id) else {
            return first_sequence(h);
        };
        if h.producer_epoch < known.epoch {
            return Err(BrokerError::StaleProducerEpoch {
                producer_id: h.producer_id,
                given: h.producer_epoch,
                current: known.epoch,
            });
        }
        if h.producer_epoch > known.epoch {
            return first_sequence(h);
        }
        let duplicate = known
            .batches
            .iter()
            .find(|b| b.base_sequence == h.base_sequence && b.records == h.records_count);
        if let Some(b) = duplicate {
            return Ok(Check::Duplicate(b.info));
        }
        let expected = known
            .batches
            .back()
            .map_or(0, |b| advance(b.last_sequence(), 1));
        if h.base_sequence != expected {
            return Err(out_of_order(h, expected));
        }
        Ok(Check::Append)
    }

    /// Remembers an appended batch (a no-op for batches without a producer id).
    pub(crate) fn record(&mut self, h: &BatchHeader, info: AppendInfo) {
        if h.producer_id < 0 {
            return;
        }
        if !self.by_id.contains_key(&h.producer_id)
            && self.by_id.len() >= PRODUCERS_PER_PARTITION_MAX
        {
            self.evict_oldest();
        }
        let producer = self.by_id.entry(h.producer_id).or_default();
        if h.producer_epoch != producer.epoch {
            producer.epoch = h.producer_epoch;
            producer.batches.clear();
        }
        if producer.batches.len() == PRODUCER_BATCHES_RETAINED {
            producer.batches.pop_front();
        }
        producer.batches.push_back(Retained {
            base_sequence: h.base_sequence,
            records: h.records_count,
            info,
        });
    }

    /// Forgets the producer whose last batch is the oldest in the log.
    fn evict_oldest(&mut self) {
        let oldest = self
            .by_id
            .iter()
            .min_by_key(|(_, p)| p.batches.back().map_or(i64::MIN, |b| b.info.last_offset))
            .map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.by_id.remove(&id);
        }
    }
}

/// A producer's first batch in a partition (or in a new epoch) starts its sequence at 0.
fn first_sequence(h: &BatchHeader) -> Result<Check, BrokerError> {
    match h.base_sequence {
        0 => Ok(Check::Append),
        _ => Err(out_of_order(h, 0)),
    }
}

fn out_of_order(h: &BatchHeader, expected: i32) -> BrokerError {
    BrokerError::OutOfOrderSequence {
        producer_id: h.producer_id,
        given: h.base_sequence,
        expected,
    }
}

/// `sequence + n`, wrapping from `i32::MAX` to 0 as Kafka's sequences do.
pub(crate) fn advance(sequence: i32, n: i32) -> i32 {
    let wrapped = (i64::from(sequence) + i64::from(n)) % (i64::from(i32::MAX) + 1);
    i32::try_from(wrapped).expect("a remainder of 2^31 lies strictly between -2^31 and 2^31")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(producer_id: i64, epoch: i16, base_sequence: i32, records: i32) -> BatchHeader {
        BatchHeader {
            base_offset: 0,
            batch_length: 49,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: records - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id,
            producer_epoch: epoch,
            base_sequence,
            records_count: records,
        }
    }

    fn info(base_offset: i64, records: i32) -> AppendInfo {
        AppendInfo {
            base_offset,
            last_offset: base_offset + i64::from(records) - 1,
            max_timestamp: 0,
        }
    }

    /// Checks and, when allowed, records the batch at `offset`; returns the outcome.
    fn append(p: &mut Producers, h: &BatchHeader, offset: i64) -> Result<Check, BrokerError> {
        let check = p.check(h)?;
        if check == Check::Append {
            p.record(h, info(offset, h.records_count));
        }
        Ok(check)
    }

    #[test]
    fn sequences_continue_and_duplicates_return_the_original_offsets() {
        let mut p = Producers::default();
        assert_eq!(
            append(&mut p, &header(7, 0, 0, 3), 0).unwrap(),
            Check::Append
        );
        assert_eq!(
            append(&mut p, &header(7, 0, 3, 2), 3).unwrap(),
            Check::Append
        );
        let again = append(&mut p, &header(7, 0, 0, 3), 5).unwrap();
        assert_eq!(again, Check::Duplicate(info(0, 3)));
        let again = append(&mut p, &header(7, 0, 3, 2), 5).unwrap();
        assert_eq!(again, Check::Duplicate(info(3, 2)));
    }

    #[test]
    fn gaps_and_unknown_starts_are_refused() {
        let mut p = Producers::default();
        let e = append(&mut p, &header(7, 0, 4, 1), 0).unwrap_err();
        assert!(matches!(
            e,
            BrokerError::OutOfOrderSequence { expected: 0, .. }
        ));
        append(&mut p, &header(7, 0, 0, 2), 0).unwrap();
        let e = append(&mut p, &header(7, 0, 3, 1), 2).unwrap_err();
        assert!(matches!(
            e,
            BrokerError::OutOfOrderSequence {
                given: 3,
                expected: 2,
                ..
            }
        ));
        // Same base sequence, other record count: not the retained batch.
        assert!(append(&mut p, &header(7, 0, 0, 1), 2).is_err());
    }

    #[test]
    fn only_the_last_batches_are_retained() {
        let mut p = Producers::default();
        for i in 0..(PRODUCER_BATCHES_RETAINED as i32 + 1) {
            append(&mut p, &header(1, 0, i, 1), i64::from(i)).unwrap();
        }
        assert!(append(&mut p, &header(1, 0, 0, 1), 9).is_err());
        let last = PRODUCER_BATCHES_RETAINED as i32;
        let again = append(&mut p, &header(1, 0, last, 1), 9).unwrap();
        assert_eq!(again, Check::Duplicate(info(i64::from(last), 1)));
    }

    #[test]
    fn epochs_fence_older_producers_and_restart_sequences() {
        let mut p = Producers::default();
        append(&mut p, &header(1, 1, 0, 2), 0).unwrap();
        let e = append(&mut p, &header(1, 0, 2, 1), 2).unwrap_err();
        assert!(matches!(
            e,
            BrokerError::StaleProducerEpoch { current: 1, .. }
        ));
        assert!(append(&mut p, &header(1, 2, 5, 1), 2).is_err());
        assert_eq!(
            append(&mut p, &header(1, 2, 0, 1), 2).unwrap(),
            Check::Append
        );
    }

    #[test]
    fn batches_without_producer_id_are_not_checked() {
        let mut p = Producers::default();
        for offset in 0..3 {
            let h = header(NO_PRODUCER_ID, -1, -1, 1);
            assert_eq!(append(&mut p, &h, offset).unwrap(), Check::Append);
        }
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        assert_eq!(advance(i32::MAX, 1), 0);
        let mut p = Producers::default();
        let mut h = header(3, 0, 0, 1);
        append(&mut p, &h, 0).unwrap();
        p.by_id.get_mut(&3).unwrap().batches[0].base_sequence = i32::MAX - 1;
        p.by_id.get_mut(&3).unwrap().batches[0].records = 2;
        h.base_sequence = 0;
        assert_eq!(append(&mut p, &h, 1).unwrap(), Check::Append);
    }

    #[test]
    fn the_producer_idle_longest_is_evicted_at_the_bound() {
        let mut p = Producers::default();
        for id in 0..PRODUCERS_PER_PARTITION_MAX as i64 {
            p.record(&header(id, 0, 0, 1), info(id, 1));
        }
        p.record(&header(-2, 0, 0, 1), info(0, 1));
        p.record(&header(i64::MAX, 0, 0, 1), info(1 << 20, 1));
        assert_eq!(p.len(), PRODUCERS_PER_PARTITION_MAX);
        assert!(!p.by_id.contains_key(&0));
        assert!(p.by_id.contains_key(&i64::MAX));
    }
}
