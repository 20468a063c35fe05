//! Choosing a partition for a record that names none: the `Partitioner` trait and the
//! default, Kafka's: murmur2 of the key, and a sticky partition for records without a key.
//!
//! Owns the sticky state (per topic: the current partition and the bytes sent to it). Must not
//! do I/O or know partition counts by itself: the producer passes the current count in.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Mutex;

use weir_proto::partitioner::partition_for_key;

use super::TopicMap;

/// Chooses the partition of a record that has no explicit partition.
///
/// Implementations must be cheap and must not block: `Producer::send` calls them inline. A
/// result outside `0..partitions` fails that `send` with `Error::InvalidArgument`.
pub trait Partitioner: Send + Sync + std::fmt::Debug {
    /// The partition of a record with `key` (and an estimated encoded size of
    /// `record_bytes`) among `partitions` (at least 1) partitions of `topic`.
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        record_bytes: usize,
        partitions: u32,
    ) -> u32;
}

/// Kafka's default: `murmur2(key) % partitions` exactly as the Java client computes it, and
/// for records without a key a sticky partition that takes one batch's worth of bytes
/// (`batch_bytes`) before the next partition takes over, so keyless records still fill
/// batches.
#[derive(Debug)]
pub struct DefaultPartitioner {
    batch_bytes: usize,
    sticky: Mutex<TopicMap<Sticky>>,
}

#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: u32,
    bytes: usize,
}

impl DefaultPartitioner {
    /// A partitioner whose sticky partitions move on after `batch_bytes` bytes.
    pub fn new(batch_bytes: usize) -> Self {
        DefaultPartitioner {
            batch_bytes: batch_bytes.max(1),
            sticky: Mutex::new(TopicMap::default()),
        }
    }

    fn sticky(&self, topic: &str, record_bytes: usize, partitions: u32) -> u32 {
        let mut sticky = self.sticky.lock().unwrap_or_else(|p| p.into_inner());
        // The topic's name is copied once, not per record.
        if !sticky.contains_key(topic) {
            let first = Sticky {
                partition: random_below(partitions),
                bytes: 0,
            };
            sticky.insert(topic.to_owned(), first);
        }
        let entry = sticky.get_mut(topic).expect("inserted above");
        if entry.partition >= partitions {
            *entry = Sticky {
                partition: random_below(partitions),
                bytes: 0,
            };
        }
        if entry.bytes > 0 && entry.bytes + record_bytes > self.batch_bytes {
            entry.partition = (entry.partition + 1) % partitions;
            entry.bytes = 0;
        }
        entry.bytes += record_bytes;
        entry.partition
    }
}

impl Partitioner for DefaultPartitioner {
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        record_bytes: usize,
        partitions: u32,
    ) -> u32 {
        match key {
            Some(key) => partition_for_key(key, partitions).unwrap_or(0),
            None => self.sticky(topic, record_bytes, partitions.max(1)),
        }
    }
}

/// A partition in `0..n` from the process's random hasher keys: sticky partitions of
/// different producers start at different places.
fn random_below(n: u32) -> u32 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(n);
    (hasher.finish() % u64::from(n.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_kafka_murmur2() {
        let p = DefaultPartitioner::new(1024);
        for key in ["alice", "sam", "leo", "maria"] {
            let expected = partition_for_key(key.as_bytes(), 3).unwrap();
            assert_eq!(p.partition("t", Some(key.as_bytes()), 10, 3), expected);
        }
    }

    #[test]
    fn keyless_records_fill_a_batch_then_move_to_the_next_partition() {
        let p = DefaultPartitioner::new(100);
        let first = p.partition("t", None, 30, 4);
        assert_eq!(p.partition("t", None, 30, 4), first);
        assert_eq!(p.partition("t", None, 30, 4), first);
        let second = p.partition("t", None, 30, 4);
        assert_eq!(second, (first + 1) % 4);
        assert_eq!(p.partition("t", None, 30, 4), second);
    }
}
