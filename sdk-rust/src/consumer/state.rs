//! What a consumer's poll, its fetchers and its group task share: per-partition positions,
//! prefetched records, pause flags, the group membership and the first unreported error.
//!
//! Owns the rules of that state: records are handed out in offset order per partition, a
//! seek or a reassignment bumps the partition's generation so a fetch begun before it is
//! dropped, and prefetched bytes are counted so fetchers stop at `prefetch_bytes`. Must not
//! do I/O: callers lock, change and unlock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::{ConsumerConfig, ConsumerRecord, TopicPartition};
use crate::Error;
use crate::connection::Connection;

/// One assigned partition.
#[derive(Debug)]
pub(crate) struct Part {
    /// Next offset to hand to the application; `None` until initialised.
    pub(crate) position: Option<i64>,
    /// The first offset of records a `poll_ahead` handed out that the caller may not have
    /// passed on yet: commits made behind the caller's back (on revocation) stop there.
    pub(crate) ahead: Option<i64>,
    /// Next offset to fetch; `None` until initialised.
    pub(crate) fetch_offset: Option<i64>,
    /// Bumped by seeks: fetches started under an older generation are dropped.
    pub(crate) generation: u64,
    pub(crate) paused: bool,
    pub(crate) queue: VecDeque<ConsumerRecord>,
    pub(crate) queued_bytes: usize,
    /// The last offset this consumer committed for the partition.
    pub(crate) committed: Option<i64>,
    pub(crate) fetcher: Option<AbortHandle>,
}

impl Part {
    pub(crate) fn new() -> Self {
        Part {
            position: None,
            ahead: None,
            fetch_offset: None,
            generation: 0,
            paused: false,
            queue: VecDeque::new(),
            queued_bytes: 0,
            committed: None,
            fetcher: None,
        }
    }
}

impl Part {
    /// The position a commit may store: the position, or where records handed out ahead
    /// begin.
    pub(crate) fn committable(&self) -> Option<i64> {
        match (self.position, self.ahead) {
            (Some(position), Some(ahead)) => Some(position.min(ahead)),
            (position, _) => position,
        }
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if let Some(fetcher) = &self.fetcher {
            fetcher.abort();
        }
    }
}

/// The group membership the consumer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) epoch: i32,
}

/// Everything under the consumer's lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) parts: BTreeMap<TopicPartition, Part>,
    /// Bytes of every partition's queue.
    pub(crate) buffered_bytes: usize,
    pub(crate) member: Option<Member>,
    /// The first error not yet returned by `poll`.
    pub(crate) error: Option<Error>,
    /// Where the next poll starts taking records, so no partition starves.
    pub(crate) cursor: usize,
}

impl State {
    /// Drops a partition's queued records (after a seek or when it goes away).
    pub(crate) fn clear_queue(&mut self, tp: &TopicPartition) {
        if let Some(part) = self.parts.get_mut(tp) {
            self.buffered_bytes = self.buffered_bytes.saturating_sub(part.queued_bytes);
            part.queue.clear();
            part.queued_bytes = 0;
        }
    }

    /// Removes a partition; returns its position for a last commit.
    pub(crate) fn remove(&mut self, tp: &TopicPartition) -> Option<Part> {
        self.clear_queue(tp);
        self.parts.remove(tp)
    }

    /// Keeps the first error for the next poll.
    pub(crate) fn report(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }

    /// Forgets which records were handed out ahead: the caller passed them on (it polls
    /// again or gives the rest back).
    pub(crate) fn passed_on(&mut self) {
        for part in self.parts.values_mut() {
            part.ahead = None;
        }
    }

    /// Takes up to `max` records from unpaused partitions, advancing their positions. With
    /// `ahead`, they are marked as handed out ahead (see `Part::ahead`).
    pub(crate) fn take(&mut self, max: usize, ahead: bool) -> Vec<ConsumerRecord> {
        let mut out = Vec::new();
        let n = self.parts.len();
        if n == 0 {
            return out;
        }
        let start = self.cursor % n;
        self.cursor = self.cursor.wrapping_add(1);
        let keys: Vec<TopicPartition> = self.parts.keys().cloned().collect();
        for tp in keys.iter().cycle().skip(start).take(n) {
            let part = self.parts.get_mut(tp).expect("key taken from the map");
            if part.paused {
                continue;
            }
            while out.len() < max {
                let Some(record) = part.queue.pop_front() else {
                    break;
                };
                let size = record.size();
                part.queued_bytes = part.queued_bytes.saturating_sub(size);
                self.buffered_bytes = self.buffered_bytes.saturating_sub(size);
                part.position = Some(record.offset + 1);
                if ahead {
                    part.ahead.get_or_insert(record.offset);
                }
                out.push(record);
            }
        }
        out
    }

    /// Puts records handed out but not passed on back at the front of their partitions'
    /// queues, and moves the positions back to them. A partition's records go back only
    /// when they end right before its position (nothing sought or handed out since), and
    /// only while it is assigned; the others are dropped.
    pub(crate) fn put_back(&mut self, records: Vec<ConsumerRecord>) {
        self.passed_on();
        let mut by_part: BTreeMap<TopicPartition, Vec<ConsumerRecord>> = BTreeMap::new();
        for r in records {
            let tp = TopicPartition::new(r.topic.clone(), r.partition);
            by_part.entry(tp).or_default().push(r);
        }
        for (tp, records) in by_part {
            let (Some(first), Some(last)) = (records.first(), records.last()) else {
                continue;
            };
            let first_offset = first.offset;
            let Some(part) = self.parts.get_mut(&tp) else {
                continue;
            };
            let ordered = records.windows(2).all(|w| w[0].offset < w[1].offset);
            if !ordered || part.position != Some(last.offset + 1) {
                continue;
            }
            for r in records.into_iter().rev() {
                let size = r.size();
                part.queued_bytes += size;
                self.buffered_bytes += size;
                part.queue.push_front(r);
            }
            part.position = Some(first_offset);
        }
    }

    /// Positions that moved since this consumer last committed them.
    pub(crate) fn uncommitted(&self) -> Vec<(TopicPartition, i64)> {
        self.parts
            .iter()
            .filter_map(|(tp, p)| match p.committable() {
                Some(pos) if p.committed != Some(pos) => Some((tp.clone(), pos)),
                _ => None,
            })
            .collect()
    }
}

/// The consumer's shared core.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) conn: Connection,
    pub(crate) config: ConsumerConfig,
    state: Mutex<State>,
    /// Records arrived or an error was reported: a waiting poll looks again.
    pub(crate) data: Notify,
    /// Room was made, a partition resumed or was sought: waiting fetchers look again.
    pub(crate) room: Notify,
}

impl Shared {
    pub(crate) fn new(conn: Connection, config: ConsumerConfig) -> Arc<Shared> {
        Arc::new(Shared {
            conn,
            config,
            state: Mutex::new(State::default()),
            data: Notify::new(),
            room: Notify::new(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reports an error to the next poll and wakes it.
    pub(crate) fn report(&self, error: Error) {
        self.lock().report(error);
        self.data.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: u32, offset: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: "t".into(),
            partition,
            offset,
            timestamp: 0,
            key: None,
            value: Some(bytes::Bytes::from(vec![b'x'; 10])),
            headers: Vec::new(),
        }
    }

    /// Two partitions with records 0..5 queued, positions at 0.
    fn state() -> State {
        let mut state = State::default();
        for p in 0..2 {
            let mut part = Part::new();
            part.position = Some(0);
            for offset in 0..5 {
                let r = record(p, offset);
                part.queued_bytes += r.size();
                state.buffered_bytes += r.size();
                part.queue.push_back(r);
            }
            state.parts.insert(TopicPartition::new("t", p), part);
        }
        state
    }

    fn offsets(records: &[ConsumerRecord]) -> Vec<(u32, i64)> {
        records.iter().map(|r| (r.partition, r.offset)).collect()
    }

    #[test]
    fn records_put_back_are_handed_out_again_and_not_committed_meanwhile() {
        let mut state = state();
        let bytes = state.buffered_bytes;
        let taken = state.take(10, false);
        assert_eq!(taken.len(), 10);
        // The caller passed on the first three of each partition's records.
        let kept: Vec<ConsumerRecord> = taken.iter().filter(|r| r.offset >= 3).cloned().collect();
        state.put_back(kept);
        assert_eq!(state.parts[&TopicPartition::new("t", 0)].position, Some(3));
        assert_eq!(state.parts[&TopicPartition::new("t", 1)].position, Some(3));
        let committed: Vec<i64> = state.uncommitted().iter().map(|(_, p)| *p).collect();
        assert_eq!(committed, vec![3, 3]);
        let again = state.take(10, false);
        let mut again = offsets(&again);
        again.sort_unstable();
        assert_eq!(again, vec![(0, 3), (0, 4), (1, 3), (1, 4)]);
        assert_eq!(state.buffered_bytes, 0);
        assert!(bytes > 0);
    }

    #[test]
    fn records_handed_out_ahead_are_not_committable_until_the_next_poll() {
        let mut state = state();
        let taken = state.take(6, true);
        assert_eq!(taken.len(), 6);
        // Revocation commits what `committable` says: where the records taken ahead begin.
        let committable: Vec<Option<i64>> = state.parts.values().map(Part::committable).collect();
        assert!(committable.iter().all(|c| *c == Some(0)), "{committable:?}");
        let ahead: Vec<i64> = state.uncommitted().iter().map(|(_, p)| *p).collect();
        assert_eq!(ahead, vec![0, 0]);
        // The next poll means they were passed on.
        state.passed_on();
        let rest = state.take(10, false);
        assert_eq!(rest.len(), 4);
        let committed: Vec<i64> = state.uncommitted().iter().map(|(_, p)| *p).collect();
        assert_eq!(committed, vec![5, 5]);
    }

    #[test]
    fn a_partition_sought_or_gone_since_takes_nothing_back() {
        let mut state = state();
        let taken = state.take(10, false);
        // Partition 0 was sought elsewhere, partition 1 revoked.
        let p0 = state.parts.get_mut(&TopicPartition::new("t", 0)).unwrap();
        p0.position = Some(100);
        state.remove(&TopicPartition::new("t", 1));
        state.put_back(taken);
        let p0 = &state.parts[&TopicPartition::new("t", 0)];
        assert_eq!(p0.position, Some(100));
        assert!(p0.queue.is_empty());
        assert_eq!(state.buffered_bytes, 0);
    }
}
