//! The metadata command log: tenants and topics as a durable sequence of commands, replayed at
//! start-up into the broker's in-memory state.
//!
//! Owns the on-disk form of metadata: each command is one JSON record in a weir-log partition
//! under `<data-dir>/meta`, flushed on every append. Must not hold the state itself (the broker
//! applies commands) and must not change the JSON shape of a command without a migration: it
//! is read back by every later version.

use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use weir_codec::batch::{BatchOptions, DecodeLimits, Record, batches, decode, encode};
use weir_log::{FlushPolicy, Log, LogConfig};

use crate::tenancy::Quotas;
use crate::{BrokerError, TopicConfig};

/// Bytes read from the metadata log at a time during replay.
const REPLAY_READ_BYTES: usize = 1 << 20;

/// One change to the metadata. The serialized form is an on-disk contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Command {
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
        quotas: Quotas,
    },
}

/// `TopicConfig` as stored in the metadata log.
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

/// The durable command log.
#[derive(Debug)]
pub(crate) struct MetaLog {
    log: Log,
}

impl MetaLog {
    /// Opens the log in `dir` and returns every command in it, oldest first.
    pub(crate) fn open(dir: &Path) -> Result<(MetaLog, Vec<Command>), BrokerError> {
        let config = LogConfig {
            flush: FlushPolicy::EveryAppend,
            segment_bytes: 64 << 20,
            ..LogConfig::default()
        };
        let log = Log::open(dir, config)?;
        let commands = replay(&log)?;
        Ok((MetaLog { log }, commands))
    }

    /// Appends one command durably (fsynced before returning).
    pub(crate) fn append(&mut self, command: &Command) -> Result<(), BrokerError> {
        let value = serde_json::to_vec(command)
            .map_err(|e| BrokerError::Internal(format!("encode metadata command: {e}")))?;
        let record = Record {
            value: Some(Bytes::from(value)),
            timestamp: now_ms(),
            ..Record::default()
        };
        let batch = encode(&[record], &BatchOptions::default())?;
        self.log.append(&batch)?;
        Ok(())
    }

    pub(crate) fn shutdown(&mut self) -> Result<(), BrokerError> {
        Ok(self.log.shutdown()?)
    }
}

fn replay(log: &Log) -> Result<Vec<Command>, BrokerError> {
    let mut commands = Vec::new();
    let mut offset = log.log_start_offset();
    let mut buf = Vec::new();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, REPLAY_READ_BYTES)?;
        buf.clear();
        slice
            .read_into(&mut buf)
            .map_err(|e| BrokerError::StorageUnavailable(format!("read metadata: {e}")))?;
        for batch in batches(&buf) {
            let (_, bytes) = batch?;
            let (_, records) = decode(bytes, &DecodeLimits::default())?;
            for record in records {
                let value = record.value.unwrap_or_default();
                let command = serde_json::from_slice(&value).map_err(|e| {
                    BrokerError::Internal(format!("metadata record {}: {e}", record.offset))
                })?;
                commands.push(command);
            }
        }
        offset = slice.next_offset();
    }
    Ok(commands)
}

/// Wall-clock milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
