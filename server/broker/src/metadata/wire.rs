//! The stored form of metadata commands: one JSON object per command, tagged by `op`.
//!
//! Owns the serialized DTOs and their conversion to and from the domain `Command`. This shape
//! is an on-disk contract read back by every later version: never change a field without a
//! migration, and keep domain types (`Quotas`, `TopicConfig`, `ApiKey`) free of serde so that
//! changing them can never change what is on disk by accident.

use serde::{Deserialize, Serialize};

use super::command::{
    Command, CoordinatorCmd, Imported, NodeCmd, NodeSpec, ProducerIdCmd, TenancyCmd, TopicCmd,
};
use crate::tenancy::{ApiKey, Quotas, parse_scopes};
use crate::{BrokerError, TenantId, TopicConfig, TopicName};

/// One change to the metadata, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum StoredCommand {
    CreateTenant {
        tenant: String,
        /// Tells this tenant from an earlier one of the same name: tokens carry it, so a token
        /// of a deleted tenant never works for a new one. Absent in logs written before it
        /// existed (read as 0); new tenants get a random non-zero value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incarnation: Option<u64>,
    },
    CreateTopic {
        id: u64,
        tenant: String,
        name: String,
        partitions: u32,
        config: StoredConfig,
        /// Each partition's nodes, leader first, when the command carries them (snapshots,
        /// imports); absent: placed when applied (and in logs written before placement).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<Vec<Vec<u32>>>,
    },
    AlterTopic {
        id: u64,
        partitions: u32,
        config: StoredConfig,
    },
    DeleteTopic {
        id: u64,
    },
    /// Idempotent producer ids `start..end` are handed out from now on; at replay, every id
    /// below `end` counts as used, so ids stay unique across restarts.
    ReserveProducerIds {
        start: i64,
        end: i64,
    },
    /// Removes an empty tenant and revokes its keys.
    DeleteTenant {
        tenant: String,
    },
    /// An API key; `hash` is the hex SHA-256 of the key string, never the key.
    CreateKey {
        id: String,
        tenant: String,
        name: String,
        scopes: Vec<String>,
        hash: String,
        created_ms: u64,
        expires_ms: Option<u64>,
        created_by: String,
    },
    RevokeKey {
        id: String,
        at_ms: u64,
    },
    /// A tenant's quotas, replacing the previous ones.
    SetQuotas {
        tenant: String,
        quotas: StoredQuotas,
    },
    /// A node of a cluster says where clients reach it.
    RegisterNode {
        id: u32,
        http_addr: String,
        grpc_addr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rack: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_jwks: Option<String>,
    },
    /// The controller fenced a silent node.
    FenceNode {
        id: u32,
    },
    /// A fenced node is heard from again.
    UnfenceNode {
        id: u32,
    },
    /// A node left the cluster.
    UnregisterNode {
        id: u32,
    },
    /// A shard of group coordination is placed on these nodes, leader first.
    PlaceCoordinator {
        shard: u32,
        replicas: Vec<u32>,
    },
    /// A single node's whole image, upgraded in place into a quorum: applied only to an empty
    /// image.
    Import {
        next_topic_id: u64,
        commands: Vec<StoredCommand>,
    },
}

/// `TopicConfig` as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredConfig {
    retention_ms: Option<u64>,
    retention_bytes: Option<u64>,
    segment_bytes: u64,
    segment_ms: u64,
    batch_bytes_max: u32,
    flush_records: Option<u64>,
    flush_ms: Option<u64>,
}

/// `Quotas` as stored; a field absent in an older log reads as 0 (unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StoredQuotas {
    produce_bytes_per_sec: u64,
    fetch_bytes_per_sec: u64,
    requests_per_sec: u64,
    storage_bytes: u64,
    topics: u64,
    partitions: u64,
    groups: u64,
    record_bytes_max: u64,
    request_bytes_max: u64,
    live_tails: u64,
}

impl From<&TopicConfig> for StoredConfig {
    fn from(c: &TopicConfig) -> Self {
        StoredConfig {
            retention_ms: c.retention_ms,
            retention_bytes: c.retention_bytes,
            segment_bytes: c.segment_bytes,
            segment_ms: c.segment_ms,
            batch_bytes_max: c.batch_bytes_max,
            flush_records: c.flush_records,
            flush_ms: c.flush_ms,
        }
    }
}

impl From<StoredConfig> for TopicConfig {
    fn from(c: StoredConfig) -> Self {
        TopicConfig {
            retention_ms: c.retention_ms,
            retention_bytes: c.retention_bytes,
            segment_bytes: c.segment_bytes,
            segment_ms: c.segment_ms,
            batch_bytes_max: c.batch_bytes_max,
            flush_records: c.flush_records,
            flush_ms: c.flush_ms,
        }
    }
}

impl From<&Quotas> for StoredQuotas {
    fn from(q: &Quotas) -> Self {
        StoredQuotas {
            produce_bytes_per_sec: q.produce_bytes_per_sec,
            fetch_bytes_per_sec: q.fetch_bytes_per_sec,
            requests_per_sec: q.requests_per_sec,
            storage_bytes: q.storage_bytes,
            topics: q.topics,
            partitions: q.partitions,
            groups: q.groups,
            record_bytes_max: q.record_bytes_max,
            request_bytes_max: q.request_bytes_max,
            live_tails: q.live_tails,
        }
    }
}

impl From<StoredQuotas> for Quotas {
    fn from(q: StoredQuotas) -> Self {
        Quotas {
            produce_bytes_per_sec: q.produce_bytes_per_sec,
            fetch_bytes_per_sec: q.fetch_bytes_per_sec,
            requests_per_sec: q.requests_per_sec,
            storage_bytes: q.storage_bytes,
            topics: q.topics,
            partitions: q.partitions,
            groups: q.groups,
            record_bytes_max: q.record_bytes_max,
            request_bytes_max: q.request_bytes_max,
            live_tails: q.live_tails,
        }
    }
}

impl From<&Command> for StoredCommand {
    fn from(command: &Command) -> Self {
        match command {
            Command::Topic(c) => topic_to_wire(c),
            Command::Tenancy(c) => tenancy_to_wire(c),
            Command::ProducerIds(ProducerIdCmd::Reserve { start, end }) => {
                StoredCommand::ReserveProducerIds {
                    start: *start,
                    end: *end,
                }
            }
            Command::Node(NodeCmd::Register(n)) => StoredCommand::RegisterNode {
                id: n.id,
                http_addr: n.http_addr.clone(),
                grpc_addr: n.grpc_addr.clone(),
                rack: n.rack.clone(),
                token_jwks: n.token_jwks.clone(),
            },
            Command::Node(NodeCmd::Fence { id }) => StoredCommand::FenceNode { id: *id },
            Command::Node(NodeCmd::Unfence { id }) => StoredCommand::UnfenceNode { id: *id },
            Command::Node(NodeCmd::Unregister { id }) => StoredCommand::UnregisterNode { id: *id },
            Command::Coordinator(CoordinatorCmd::Place { shard, replicas }) => {
                StoredCommand::PlaceCoordinator {
                    shard: *shard,
                    replicas: replicas.clone(),
                }
            }
            Command::Import(imported) => StoredCommand::Import {
                next_topic_id: imported.next_topic_id,
                commands: imported.commands.iter().map(StoredCommand::from).collect(),
            },
        }
    }
}

fn topic_to_wire(command: &TopicCmd) -> StoredCommand {
    match command {
        TopicCmd::Create {
            id,
            tenant,
            name,
            partitions,
            config,
            replicas,
        } => StoredCommand::CreateTopic {
            id: *id,
            tenant: tenant.to_string(),
            name: name.to_string(),
            partitions: *partitions,
            config: config.into(),
            replicas: replicas.clone(),
        },
        TopicCmd::Alter {
            id,
            partitions,
            config,
        } => StoredCommand::AlterTopic {
            id: *id,
            partitions: *partitions,
            config: config.into(),
        },
        TopicCmd::Delete { id } => StoredCommand::DeleteTopic { id: *id },
    }
}

fn tenancy_to_wire(command: &TenancyCmd) -> StoredCommand {
    match command {
        TenancyCmd::CreateTenant {
            tenant,
            incarnation,
        } => StoredCommand::CreateTenant {
            tenant: tenant.to_string(),
            // 0 is how a tenant from before incarnations reads back: keep writing it as absent.
            incarnation: (*incarnation != 0).then_some(*incarnation),
        },
        TenancyCmd::DeleteTenant { tenant } => StoredCommand::DeleteTenant {
            tenant: tenant.to_string(),
        },
        TenancyCmd::CreateKey(key) => StoredCommand::CreateKey {
            id: key.id.clone(),
            tenant: key.tenant.to_string(),
            name: key.name.clone(),
            scopes: key.scopes.iter().map(ToString::to_string).collect(),
            hash: crate::tenancy::hex(&key.hash),
            created_ms: key.created_ms,
            expires_ms: key.expires_ms,
            created_by: key.created_by.clone(),
        },
        TenancyCmd::RevokeKey { id, at_ms } => StoredCommand::RevokeKey {
            id: id.clone(),
            at_ms: *at_ms,
        },
        TenancyCmd::SetQuotas { tenant, quotas } => StoredCommand::SetQuotas {
            tenant: tenant.to_string(),
            quotas: quotas.into(),
        },
    }
}

impl TryFrom<StoredCommand> for Command {
    type Error = BrokerError;

    /// Parses the names, scopes and hashes a stored command holds; one that does not parse
    /// was not written by Weir, and start-up refuses it rather than guess.
    fn try_from(stored: StoredCommand) -> Result<Command, BrokerError> {
        Ok(match stored {
            StoredCommand::CreateTenant {
                tenant,
                incarnation,
            } => Command::Tenancy(TenancyCmd::CreateTenant {
                tenant: TenantId::parse(&tenant)?,
                incarnation: incarnation.unwrap_or(0),
            }),
            StoredCommand::CreateTopic {
                id,
                tenant,
                name,
                partitions,
                config,
                replicas,
            } => Command::Topic(TopicCmd::Create {
                id,
                tenant: TenantId::parse(&tenant)?,
                name: TopicName::parse(&name)?,
                partitions,
                config: config.into(),
                replicas,
            }),
            StoredCommand::AlterTopic {
                id,
                partitions,
                config,
            } => Command::Topic(TopicCmd::Alter {
                id,
                partitions,
                config: config.into(),
            }),
            StoredCommand::DeleteTopic { id } => Command::Topic(TopicCmd::Delete { id }),
            StoredCommand::ReserveProducerIds { start, end } => {
                Command::ProducerIds(ProducerIdCmd::Reserve { start, end })
            }
            StoredCommand::DeleteTenant { tenant } => Command::Tenancy(TenancyCmd::DeleteTenant {
                tenant: TenantId::parse(&tenant)?,
            }),
            StoredCommand::CreateKey {
                id,
                tenant,
                name,
                scopes,
                hash,
                created_ms,
                expires_ms,
                created_by,
            } => Command::Tenancy(TenancyCmd::CreateKey(ApiKey {
                tenant: TenantId::parse(&tenant)?,
                scopes: parse_scopes(scopes.iter().map(String::as_str))?,
                hash: crate::tenancy::unhex32(&hash).ok_or_else(|| {
                    BrokerError::Internal(format!("stored key {id} has a malformed hash"))
                })?,
                id,
                name,
                created_ms,
                expires_ms,
                created_by,
                revoked_ms: None,
            })),
            StoredCommand::RevokeKey { id, at_ms } => {
                Command::Tenancy(TenancyCmd::RevokeKey { id, at_ms })
            }
            StoredCommand::SetQuotas { tenant, quotas } => {
                Command::Tenancy(TenancyCmd::SetQuotas {
                    tenant: TenantId::parse(&tenant)?,
                    quotas: quotas.into(),
                })
            }
            StoredCommand::RegisterNode {
                id,
                http_addr,
                grpc_addr,
                rack,
                token_jwks,
            } => Command::Node(NodeCmd::Register(NodeSpec {
                id,
                http_addr,
                grpc_addr,
                rack,
                fenced: false,
                token_jwks,
            })),
            StoredCommand::FenceNode { id } => Command::Node(NodeCmd::Fence { id }),
            StoredCommand::UnfenceNode { id } => Command::Node(NodeCmd::Unfence { id }),
            StoredCommand::UnregisterNode { id } => Command::Node(NodeCmd::Unregister { id }),
            StoredCommand::PlaceCoordinator { shard, replicas } => {
                Command::Coordinator(CoordinatorCmd::Place { shard, replicas })
            }
            StoredCommand::Import {
                next_topic_id,
                commands,
            } => Command::Import(Imported {
                next_topic_id,
                commands: commands
                    .into_iter()
                    .map(Command::try_from)
                    .collect::<Result<_, _>>()?,
            }),
        })
    }
}
