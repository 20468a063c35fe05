//! `Admin`: topics (create, list, describe, alter, delete), offsets by position or time,
//! partition counts, and consumer groups (list, describe with lag, delete, reset offsets).
//!
//! Owns the conversion between the SDK's arguments and `weir.v1` admin and group messages.
//! Must not cache anything: every call asks the server (producers keep their own metadata).
//! Results are the wire messages themselves (`TopicInfo`, `GroupInfo`, ...), re-exported here.

use weir_proto::v1::{
    AlterTopicRequest, CreateTopicRequest, FetchCommittedRequest, GroupRef, ListGroupsRequest,
    ListOffsetsRequest, ListTopicsRequest, MetadataRequest, ResetOffsetsRequest, ResetTarget,
    TopicRef,
};

pub use weir_proto::v1::{
    CommittedOffset, GroupInfo, GroupSummary, MemberInfo, OffsetChange, PartitionInfo,
    PartitionLag, TopicConfig, TopicInfo, TopicPartitions,
};

use crate::Error;
use crate::connection::{ClientConfig, Connection};

/// Which offset `Admin::list_offsets` looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The oldest offset still stored (the log start offset).
    Earliest,
    /// The high watermark: the offset the next record will get.
    Latest,
    /// The first offset whose record timestamp is at or after this many ms since the epoch.
    Timestamp(i64),
}

/// Where `Admin::reset_offsets` moves a group's committed offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTo {
    /// The oldest stored offset.
    Earliest,
    /// The high watermark.
    Latest,
    /// The first record at or after this many ms since the epoch.
    Timestamp(i64),
    /// This offset on every partition.
    Offset(i64),
    /// The committed offset plus this much (negative goes back).
    Shift(i64),
}

impl ResetTo {
    fn wire(self) -> (ResetTarget, i64) {
        match self {
            ResetTo::Earliest => (ResetTarget::Earliest, 0),
            ResetTo::Latest => (ResetTarget::Latest, 0),
            ResetTo::Timestamp(t) => (ResetTarget::Timestamp, t),
            ResetTo::Offset(o) => (ResetTarget::Offset, o),
            ResetTo::Shift(s) => (ResetTarget::Shift, s),
        }
    }
}

/// What `Admin::alter_topic` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicChange {
    /// Settings to change (unset fields keep their current value).
    pub config: Option<TopicConfig>,
    /// A new, larger partition count.
    pub partitions: Option<u32>,
}

/// The offset of one partition, as `Admin::list_offsets` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Partition index.
    pub partition: i32,
    /// The offset; `None` when no record is at or after the timestamp asked for.
    pub offset: Option<i64>,
}

/// Administration of one tenant's topics and groups.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) conn: Connection,
}

impl Admin {
    /// Connects now, so an unreachable server is reported at once.
    pub async fn connect(config: ClientConfig) -> Result<Admin, Error> {
        Ok(Admin {
            conn: Connection::open(config).await?,
        })
    }

    pub(crate) fn from_connection(conn: Connection) -> Admin {
        Admin { conn }
    }

    pub(crate) fn tenant(&self) -> String {
        self.conn.tenant().to_owned()
    }

    /// Creates a topic with `partitions` partitions; unset settings take the server default.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: u32,
        config: TopicConfig,
    ) -> Result<TopicInfo, Error> {
        let request = CreateTopicRequest {
            tenant: self.tenant(),
            name: name.to_owned(),
            partitions,
            config: Some(config),
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("create topic", admin.create_topic(request))
            .await
    }

    /// Every topic of the tenant.
    pub async fn list_topics(&self) -> Result<Vec<TopicInfo>, Error> {
        let request = ListTopicsRequest {
            tenant: self.tenant(),
        };
        let mut admin = self.conn.admin();
        let list = self
            .conn
            .call("list topics", admin.list_topics(request))
            .await?;
        Ok(list.topics)
    }

    /// One topic: partitions with offsets and sizes, and every setting.
    pub async fn describe_topic(&self, name: &str) -> Result<TopicInfo, Error> {
        let request = TopicRef {
            tenant: self.tenant(),
            name: name.to_owned(),
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("describe topic", admin.describe_topic(request))
            .await
    }

    /// Changes settings and/or grows the partition count.
    pub async fn alter_topic(&self, name: &str, change: TopicChange) -> Result<TopicInfo, Error> {
        let request = AlterTopicRequest {
            tenant: self.tenant(),
            name: name.to_owned(),
            config: change.config,
            partitions: change.partitions,
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("alter topic", admin.alter_topic(request))
            .await
    }

    /// Deletes a topic and its data.
    pub async fn delete_topic(&self, name: &str) -> Result<(), Error> {
        let request = TopicRef {
            tenant: self.tenant(),
            name: name.to_owned(),
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("delete topic", admin.delete_topic(request))
            .await?;
        Ok(())
    }

    /// Offsets of `partitions` of `topic` (every partition when empty) for `spec`.
    pub async fn list_offsets(
        &self,
        topic: &str,
        partitions: &[i32],
        spec: OffsetSpec,
    ) -> Result<Vec<PartitionOffset>, Error> {
        let (spec, timestamp) = match spec {
            OffsetSpec::Earliest => (weir_proto::v1::OffsetSpec::Earliest, 0),
            OffsetSpec::Latest => (weir_proto::v1::OffsetSpec::Latest, 0),
            OffsetSpec::Timestamp(t) => (weir_proto::v1::OffsetSpec::Timestamp, t),
        };
        let request = ListOffsetsRequest {
            tenant: self.tenant(),
            topic: topic.to_owned(),
            partitions: partitions.to_vec(),
            spec: spec.into(),
            timestamp,
        };
        let mut admin = self.conn.admin();
        let response = self
            .conn
            .call("list offsets", admin.list_offsets(request))
            .await?;
        Ok(response
            .offsets
            .into_iter()
            .map(|o| PartitionOffset {
                partition: o.partition,
                offset: (o.offset >= 0).then_some(o.offset),
            })
            .collect())
    }

    /// The partition count of `topic`, from cluster metadata.
    pub async fn partition_count(&self, topic: &str) -> Result<u32, Error> {
        let request = MetadataRequest {
            tenant: self.tenant(),
            topics: vec![topic.to_owned()],
        };
        let mut admin = self.conn.admin();
        let metadata = self.conn.call("metadata", admin.metadata(request)).await?;
        let info = metadata.topics.into_iter().find(|t| t.name == topic);
        let count = info.map_or(0, |t| t.partitions.len());
        u32::try_from(count).ok().filter(|&n| n > 0).ok_or_else(|| {
            Error::Corrupt(format!("metadata of topic {topic:?} lists no partitions"))
        })
    }

    /// Every consumer group of the tenant, with member counts and total lag.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>, Error> {
        let request = ListGroupsRequest {
            tenant: self.tenant(),
        };
        let mut groups = self.conn.groups();
        let list = self.conn.call("list groups", groups.list(request)).await?;
        Ok(list.groups)
    }

    /// A group's members, assignments and per-partition lag.
    pub async fn describe_group(&self, group: &str) -> Result<GroupInfo, Error> {
        let request = GroupRef {
            tenant: self.tenant(),
            group: group.to_owned(),
        };
        let mut groups = self.conn.groups();
        self.conn
            .call("describe group", groups.describe(request))
            .await
    }

    /// A group's committed offsets (`topics` empty = every topic).
    pub async fn committed_offsets(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<Vec<CommittedOffset>, Error> {
        let request = FetchCommittedRequest {
            tenant: self.tenant(),
            group: group.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        };
        let mut groups = self.conn.groups();
        let response = self
            .conn
            .call("fetch committed", groups.fetch_committed(request))
            .await?;
        Ok(response.offsets)
    }

    /// Deletes a group without members, with its committed offsets.
    pub async fn delete_group(&self, group: &str) -> Result<(), Error> {
        let request = GroupRef {
            tenant: self.tenant(),
            group: group.to_owned(),
        };
        let mut groups = self.conn.groups();
        self.conn
            .call("delete group", groups.delete(request))
            .await?;
        Ok(())
    }

    /// Moves the committed offsets of a group without members (`topics` empty = the topics it
    /// has offsets for); returns every change made.
    pub async fn reset_offsets(
        &self,
        group: &str,
        to: ResetTo,
        topics: &[&str],
    ) -> Result<Vec<OffsetChange>, Error> {
        self.reset(group, to, topics, false).await
    }

    /// What `reset_offsets` would change, without changing anything (a dry run).
    pub async fn preview_reset_offsets(
        &self,
        group: &str,
        to: ResetTo,
        topics: &[&str],
    ) -> Result<Vec<OffsetChange>, Error> {
        self.reset(group, to, topics, true).await
    }

    async fn reset(
        &self,
        group: &str,
        to: ResetTo,
        topics: &[&str],
        dry_run: bool,
    ) -> Result<Vec<OffsetChange>, Error> {
        let (target, value) = to.wire();
        let request = ResetOffsetsRequest {
            tenant: self.tenant(),
            group: group.to_owned(),
            to: target.into(),
            value,
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            dry_run,
        };
        let mut groups = self.conn.groups();
        let response = self
            .conn
            .call("reset offsets", groups.reset_offsets(request))
            .await?;
        Ok(response.offsets)
    }
}
