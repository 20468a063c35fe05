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

    /// Takes up to `max` records from unpaused partitions, advancing their positions.
    pub(crate) fn take(&mut self, max: usize) -> Vec<ConsumerRecord> {
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
                out.push(record);
            }
        }
        out
    }

    /// Positions that moved since this consumer last committed them.
    pub(crate) fn uncommitted(&self) -> Vec<(TopicPartition, i64)> {
        self.parts
            .iter()
            .filter_map(|(tp, p)| match p.position {
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
