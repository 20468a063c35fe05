//! Partition counts of the topics a producer writes to, read from Admin.Metadata and cached.
//!
//! Owns the cache and its freshness: an entry is read again after `METADATA_MAX_AGE`, and at
//! once after a partition or topic turned out not to exist (`invalidate`). Must not choose
//! partitions: that is the partitioner's job.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::TopicMap;
use crate::{Admin, Error};

/// How long a cached partition count is trusted before it is read again, so a grown topic's
/// new partitions get records without a restart (Kafka's `metadata.max.age.ms`).
pub const METADATA_MAX_AGE: Duration = Duration::from_secs(300);

/// Cached partition counts.
#[derive(Debug)]
pub(crate) struct Metadata {
    admin: Admin,
    counts: Mutex<TopicMap<(u32, Instant)>>,
}

impl Metadata {
    pub(crate) fn new(admin: Admin) -> Self {
        Metadata {
            admin,
            counts: Mutex::new(TopicMap::default()),
        }
    }

    /// The partition count of `topic`, from the cache when fresh.
    pub(crate) async fn partitions(&self, topic: &str) -> Result<u32, Error> {
        if let Some(&(count, read_at)) = self.lock().get(topic)
            && read_at.elapsed() < METADATA_MAX_AGE
        {
            return Ok(count);
        }
        let count = self.admin.partition_count(topic).await?;
        self.lock()
            .insert(topic.to_owned(), (count, Instant::now()));
        Ok(count)
    }

    /// Forgets `topic`'s count: the next record reads it again.
    pub(crate) fn invalidate(&self, topic: &str) {
        self.lock().remove(topic);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TopicMap<(u32, Instant)>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}
