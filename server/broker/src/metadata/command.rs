//! Metadata commands as the domain sees them: parsed names, typed settings, split by area.
//!
//! Owns what a change to the metadata says. Must not know how it is stored (`wire` does) or
//! whether it is allowed (`MetadataImage::validate` does).

use crate::tenancy::{ApiKey, Quotas};
use crate::{TenantId, TopicConfig, TopicName};

/// One change to the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Command {
    Topic(TopicCmd),
    Tenancy(TenancyCmd),
    ProducerIds(ProducerIdCmd),
    Node(NodeCmd),
    Coordinator(CoordinatorCmd),
    /// A whole image carried over from a single node's command log when its data directory is
    /// upgraded in place: applied only to an empty image, keeping topic ids (they name the
    /// topics' directories).
    Import(Imported),
}

/// The image an `Import` carries, as the commands that rebuild it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The importing image's next topic id (above every id it ever gave, deleted topics' too).
    pub next_topic_id: u64,
    /// Commands that rebuild the image from an empty one (`MetadataImage::to_commands`).
    pub commands: Vec<Command>,
}

/// Topics: their existence, partition counts and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TopicCmd {
    /// A new topic; `id` is the image's next topic id and names its directory. `replicas`:
    /// each partition's nodes, leader first, as a snapshot or an import keeps them; `None`
    /// (a proposal) places the partitions when the command applies.
    Create {
        id: u64,
        tenant: TenantId,
        name: TopicName,
        partitions: u32,
        config: TopicConfig,
        replicas: Option<Vec<Vec<u32>>>,
    },
    /// New settings (whole) and a partition count never below the current one.
    Alter {
        id: u64,
        partitions: u32,
        config: TopicConfig,
    },
    Delete {
        id: u64,
    },
}

/// Tenants, their API keys and their quotas.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TenancyCmd {
    /// A tenant; `incarnation` tells it from an earlier one of the same name (0: created
    /// before incarnations existed).
    CreateTenant {
        tenant: TenantId,
        incarnation: u64,
    },
    /// Removes an empty tenant and its keys.
    DeleteTenant {
        tenant: TenantId,
    },
    /// A new key (never revoked yet).
    CreateKey(ApiKey),
    RevokeKey {
        id: String,
        at_ms: u64,
    },
    /// A tenant's quotas, replacing the previous ones.
    SetQuotas {
        tenant: TenantId,
        quotas: Quotas,
    },
}

/// The nodes of a cluster: where clients reach them, their rack, whether they are fenced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum NodeCmd {
    /// A node says where it serves clients (a node proposes it at every start where it
    /// changed); a registered node is live until the controller fences it.
    Register(NodeSpec),
    /// The controller heard nothing from the node for `node_session_timeout_ms`.
    Fence { id: u32 },
    /// A fenced node is heard from again.
    Unfence { id: u32 },
    /// The node left the cluster.
    Unregister { id: u32 },
}

/// A registered node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Its `cluster.node_id`.
    pub id: u32,
    /// Where clients reach its REST API (host:port).
    pub http_addr: String,
    /// Where clients reach its gRPC API (host:port).
    pub grpc_addr: String,
    /// Its rack (or zone): replicas of a partition are spread over racks.
    pub rack: Option<String>,
    /// Silent past its session timeout: its partitions are led elsewhere (or offline).
    pub fenced: bool,
    /// The public keys (a JWKS, as JSON) that verify the tokens it issues, so every node
    /// accepts a token any node issued.
    pub token_jwks: Option<String>,
}

/// Where consumer groups are coordinated: each group hashes to one of
/// `OFFSETS_SHARDS` shards (the partitions of the internal offsets topic), and the first node
/// of a shard's replicas coordinates its groups and keeps their committed offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CoordinatorCmd {
    /// Shard `shard` is placed on `replicas` (leader first). A shard is placed once, when a
    /// group of it is first used in a cluster, or claimed by the node that kept its offsets
    /// while it ran alone; a second placement of a placed shard changes nothing.
    Place { shard: u32, replicas: Vec<u32> },
}

impl From<CoordinatorCmd> for Command {
    fn from(c: CoordinatorCmd) -> Self {
        Command::Coordinator(c)
    }
}

/// Idempotent producer ids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ProducerIdCmd {
    /// Ids `start..end` are handed out from now on; every id below `end` counts as used.
    Reserve { start: i64, end: i64 },
}

impl From<TopicCmd> for Command {
    fn from(c: TopicCmd) -> Self {
        Command::Topic(c)
    }
}

impl From<TenancyCmd> for Command {
    fn from(c: TenancyCmd) -> Self {
        Command::Tenancy(c)
    }
}

impl From<NodeCmd> for Command {
    fn from(c: NodeCmd) -> Self {
        Command::Node(c)
    }
}

impl From<ProducerIdCmd> for Command {
    fn from(c: ProducerIdCmd) -> Self {
        Command::ProducerIds(c)
    }
}
