//! `NativeAdmin`: the addon face of `weir::Admin` and its tenancy methods (wrapped by `Admin`
//! in `lib/admin.js`).
//!
//! Owns the conversion of arguments into SDK calls and of the SDK's results (the `weir.v1`
//! messages) into plain JavaScript objects with camelCase keys. Must not cache anything or
//! add behaviour: every call is one SDK call.

use std::sync::Arc;

use napi::{Env, Result};
use napi_derive::napi;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use weir::admin::{
    CommittedOffset, GroupInfo, GroupSummary, MemberInfo, OffsetChange, OffsetSpec, PartitionLag,
    ResetTo, TopicChange, TopicConfig, TopicInfo, TopicPartitions,
};
use weir::tenancy::{CreatedKey, KeyInfo, QuotaChange, Quotas, TenantInfo, Usage};

use crate::config::{ClientOptions, count, integer};
use crate::error::{IntoNapi, invalid};
use crate::runtime::{Later, start};

/// Topic settings, as `createTopic` and `alterTopic` take them.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct TopicConfigIn {
    pub retention_ms: Option<f64>,
    pub retention_bytes: Option<f64>,
    pub segment_bytes: Option<f64>,
    pub segment_ms: Option<f64>,
    pub batch_bytes_max: Option<f64>,
    pub flush_records: Option<f64>,
    pub flush_ms: Option<f64>,
}

fn u64_of(value: Option<f64>, name: &str) -> Result<Option<u64>> {
    Ok(count(value, name)?.map(|n| n as u64))
}

impl TopicConfigIn {
    fn wire(&self) -> Result<TopicConfig> {
        let batch_bytes_max = u64_of(self.batch_bytes_max, "batchBytesMax")?
            .map(|n| u32::try_from(n).map_err(|_| invalid("batchBytesMax is too large")))
            .transpose()?;
        Ok(TopicConfig {
            retention_ms: self
                .retention_ms
                .map(|v| integer(v, "retentionMs"))
                .transpose()?,
            retention_bytes: self
                .retention_bytes
                .map(|v| integer(v, "retentionBytes"))
                .transpose()?,
            segment_bytes: u64_of(self.segment_bytes, "segmentBytes")?,
            segment_ms: u64_of(self.segment_ms, "segmentMs")?,
            batch_bytes_max,
            flush_records: u64_of(self.flush_records, "flushRecords")?,
            flush_ms: u64_of(self.flush_ms, "flushMs")?,
        })
    }
}

/// A quota change: unset keeps the current value, 0 means unlimited.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct QuotaChangeIn {
    pub produce_bytes_per_sec: Option<f64>,
    pub fetch_bytes_per_sec: Option<f64>,
    pub requests_per_sec: Option<f64>,
    pub storage_bytes: Option<f64>,
    pub topics: Option<f64>,
    pub partitions: Option<f64>,
    pub groups: Option<f64>,
    pub record_bytes_max: Option<f64>,
    pub request_bytes_max: Option<f64>,
    pub live_tails: Option<f64>,
}

impl QuotaChangeIn {
    fn change(&self) -> Result<QuotaChange> {
        Ok(QuotaChange {
            produce_bytes_per_sec: u64_of(self.produce_bytes_per_sec, "produceBytesPerSec")?,
            fetch_bytes_per_sec: u64_of(self.fetch_bytes_per_sec, "fetchBytesPerSec")?,
            requests_per_sec: u64_of(self.requests_per_sec, "requestsPerSec")?,
            storage_bytes: u64_of(self.storage_bytes, "storageBytes")?,
            topics: u64_of(self.topics, "topics")?,
            partitions: u64_of(self.partitions, "partitions")?,
            groups: u64_of(self.groups, "groups")?,
            record_bytes_max: u64_of(self.record_bytes_max, "recordBytesMax")?,
            request_bytes_max: u64_of(self.request_bytes_max, "requestBytesMax")?,
            live_tails: u64_of(self.live_tails, "liveTails")?,
        })
    }
}

/// Where `resetOffsets` moves offsets: `to` is earliest, latest, timestamp, offset or shift;
/// `value` the timestamp, offset or shift.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ResetIn {
    pub to: String,
    pub value: Option<f64>,
    pub topics: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl ResetIn {
    fn target(&self) -> Result<ResetTo> {
        let value = || {
            self.value
                .ok_or_else(|| invalid(format!("reset to {} needs a value", self.to)))
                .and_then(|v| integer(v, "value"))
        };
        Ok(match self.to.as_str() {
            "earliest" => ResetTo::Earliest,
            "latest" => ResetTo::Latest,
            "timestamp" => ResetTo::Timestamp(value()?),
            "offset" => ResetTo::Offset(value()?),
            "shift" => ResetTo::Shift(value()?),
            other => {
                return Err(invalid(format!(
                    "to must be earliest, latest, timestamp, offset or shift, not {other:?}"
                )));
            }
        })
    }
}

fn topic_config(c: &TopicConfig) -> Value {
    json!({
        "retentionMs": c.retention_ms,
        "retentionBytes": c.retention_bytes,
        "segmentBytes": c.segment_bytes,
        "segmentMs": c.segment_ms,
        "batchBytesMax": c.batch_bytes_max,
        "flushRecords": c.flush_records,
        "flushMs": c.flush_ms,
    })
}

fn topic_info(t: &TopicInfo) -> Value {
    let partitions: Vec<Value> = t
        .partitions
        .iter()
        .map(|p| {
            json!({
                "partition": p.partition,
                "logStartOffset": p.log_start_offset,
                "highWatermark": p.high_watermark,
                "sizeBytes": p.size_bytes,
                "leader": p.leader,
            })
        })
        .collect();
    json!({
        "name": t.name,
        "partitions": partitions,
        "config": t.config.as_ref().map(topic_config),
    })
}

fn topic_partitions(list: &[TopicPartitions]) -> Value {
    list.iter()
        .map(|tp| json!({"topic": tp.topic, "partitions": tp.partitions}))
        .collect()
}

fn member(m: &MemberInfo) -> Value {
    json!({
        "memberId": m.member_id,
        "instanceId": m.instance_id,
        "clientId": m.client_id,
        "host": m.host,
        "memberEpoch": m.member_epoch,
        "topics": m.topics,
        "assignment": topic_partitions(&m.assignment),
        "revoking": topic_partitions(&m.revoking),
    })
}

fn lag(p: &PartitionLag) -> Value {
    json!({
        "topic": p.topic,
        "partition": p.partition,
        "committedOffset": p.committed_offset,
        "highWatermark": p.high_watermark,
        "lag": p.lag,
    })
}

fn group_info(g: &GroupInfo) -> Value {
    json!({
        "group": g.group,
        "state": g.state,
        "epoch": g.epoch,
        "assignor": g.assignor,
        "members": g.members.iter().map(member).collect::<Vec<_>>(),
        "partitions": g.partitions.iter().map(lag).collect::<Vec<_>>(),
        "totalLag": g.total_lag,
    })
}

fn group_summary(g: &GroupSummary) -> Value {
    json!({"group": g.group, "state": g.state, "members": g.members, "totalLag": g.total_lag})
}

fn committed(c: &CommittedOffset) -> Value {
    json!({"topic": c.topic, "partition": c.partition, "offset": c.offset, "metadata": c.metadata})
}

fn offset_change(c: &OffsetChange) -> Value {
    json!({"topic": c.topic, "partition": c.partition, "previous": c.previous, "offset": c.offset})
}

fn quotas(q: &Quotas) -> Value {
    json!({
        "produceBytesPerSec": q.produce_bytes_per_sec,
        "fetchBytesPerSec": q.fetch_bytes_per_sec,
        "requestsPerSec": q.requests_per_sec,
        "storageBytes": q.storage_bytes,
        "topics": q.topics,
        "partitions": q.partitions,
        "groups": q.groups,
        "recordBytesMax": q.record_bytes_max,
        "requestBytesMax": q.request_bytes_max,
        "liveTails": q.live_tails,
    })
}

fn usage(u: &Usage) -> Value {
    json!({
        "produceBytesPerSec": u.produce_bytes_per_sec,
        "fetchBytesPerSec": u.fetch_bytes_per_sec,
        "requestsPerSec": u.requests_per_sec,
        "storageBytes": u.storage_bytes,
        "topics": u.topics,
        "partitions": u.partitions,
        "groups": u.groups,
        "throttleTimeMsTotal": u.throttle_time_ms_total,
        "throttledRequestsTotal": u.throttled_requests_total,
    })
}

fn tenant(t: &TenantInfo) -> Value {
    json!({
        "name": t.name,
        "quotas": t.quotas.as_ref().map(quotas),
        "keys": t.keys,
        "usage": t.usage.as_ref().map(usage),
    })
}

fn key_info(k: &KeyInfo) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "scopes": k.scopes,
        "createdAtMs": k.created_at_ms,
        "expiresAtMs": k.expires_at_ms,
        "revokedAtMs": k.revoked_at_ms,
        "createdBy": k.created_by,
    })
}

fn created_key(k: &CreatedKey) -> Value {
    json!({"info": k.info.as_ref().map(key_info), "key": k.key})
}

#[derive(Debug)]
struct Shared {
    config: weir::ClientConfig,
    admin: OnceCell<weir::Admin>,
}

impl Shared {
    async fn admin(&self) -> Result<&weir::Admin> {
        self.admin
            .get_or_try_init(|| weir::Admin::connect(self.config.clone()))
            .await
            .napi()
    }
}

/// The native admin client; see `Admin` in `index.d.ts`.
#[napi]
#[derive(Debug)]
pub struct NativeAdmin {
    shared: Arc<Shared>,
}

/// Runs one SDK call on the (lazily connected) admin client and converts its result.
macro_rules! call {
    ($self:ident, $env:ident, |$admin:ident| $body:expr) => {{
        let shared = Arc::clone(&$self.shared);
        start($env, async move {
            let $admin = shared.admin().await?;
            $body
        })
    }};
}

#[napi]
impl NativeAdmin {
    /// Checks the options; connects on first use.
    #[napi(constructor)]
    pub fn new(options: ClientOptions) -> Result<Self> {
        Ok(NativeAdmin {
            shared: Arc::new(Shared {
                config: options.config()?,
                admin: OnceCell::new(),
            }),
        })
    }

    #[napi]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        call!(self, env, |_admin| Ok(()))
    }

    #[napi]
    pub fn create_topic<'env>(
        &self,
        env: &'env Env,
        name: String,
        partitions: f64,
        config: Option<TopicConfigIn>,
    ) -> Result<Later<'env, Value>> {
        let partitions = u32::try_from(count(Some(partitions), "partitions")?.unwrap_or(0))
            .map_err(|_| invalid("partitions is too large"))?;
        let config = config.unwrap_or_default().wire()?;
        call!(self, env, |admin| {
            let info = admin.create_topic(&name, partitions, config).await.napi()?;
            Ok(topic_info(&info))
        })
    }

    #[napi]
    pub fn list_topics<'env>(&self, env: &'env Env) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            let list = admin.list_topics().await.napi()?;
            Ok(list.iter().map(topic_info).collect())
        })
    }

    #[napi]
    pub fn describe_topic<'env>(&self, env: &'env Env, name: String) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            Ok(topic_info(&admin.describe_topic(&name).await.napi()?))
        })
    }

    #[napi]
    pub fn alter_topic<'env>(
        &self,
        env: &'env Env,
        name: String,
        partitions: Option<f64>,
        config: Option<TopicConfigIn>,
    ) -> Result<Later<'env, Value>> {
        let partitions = u64_of(partitions, "partitions")?
            .map(|n| u32::try_from(n).map_err(|_| invalid("partitions is too large")))
            .transpose()?;
        let config = config.as_ref().map(TopicConfigIn::wire).transpose()?;
        let change = TopicChange { config, partitions };
        call!(self, env, |admin| {
            Ok(topic_info(&admin.alter_topic(&name, change).await.napi()?))
        })
    }

    #[napi]
    pub fn delete_topic<'env>(&self, env: &'env Env, name: String) -> Result<Later<'env, ()>> {
        call!(self, env, |admin| admin.delete_topic(&name).await.napi())
    }

    /// Offsets per partition: `spec` is earliest, latest or timestamp (with `timestamp`).
    #[napi]
    pub fn list_offsets<'env>(
        &self,
        env: &'env Env,
        topic: String,
        spec: String,
        timestamp: Option<f64>,
        partitions: Option<Vec<f64>>,
    ) -> Result<Later<'env, Value>> {
        let spec = match (spec.as_str(), timestamp) {
            ("earliest", _) => OffsetSpec::Earliest,
            ("latest", _) => OffsetSpec::Latest,
            ("timestamp", Some(t)) => OffsetSpec::Timestamp(integer(t, "timestamp")?),
            _ => {
                return Err(invalid(
                    "spec must be earliest, latest, or timestamp with a timestamp",
                ));
            }
        };
        let partitions = partitions
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                i32::try_from(integer(p, "partition")?)
                    .map_err(|_| invalid("partition is too large"))
            })
            .collect::<Result<Vec<i32>>>()?;
        call!(self, env, |admin| {
            let offsets = admin.list_offsets(&topic, &partitions, spec).await.napi()?;
            Ok(offsets
                .iter()
                .map(|o| json!({"partition": o.partition, "offset": o.offset}))
                .collect())
        })
    }

    #[napi]
    pub fn partition_count<'env>(&self, env: &'env Env, topic: String) -> Result<Later<'env, u32>> {
        call!(self, env, |admin| admin
            .partition_count(&topic)
            .await
            .napi())
    }

    #[napi]
    pub fn list_groups<'env>(&self, env: &'env Env) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            let list = admin.list_groups().await.napi()?;
            Ok(list.iter().map(group_summary).collect())
        })
    }

    #[napi]
    pub fn describe_group<'env>(
        &self,
        env: &'env Env,
        group: String,
    ) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            Ok(group_info(&admin.describe_group(&group).await.napi()?))
        })
    }

    #[napi]
    pub fn committed_offsets<'env>(
        &self,
        env: &'env Env,
        group: String,
        topics: Option<Vec<String>>,
    ) -> Result<Later<'env, Value>> {
        let topics = topics.unwrap_or_default();
        call!(self, env, |admin| {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let list = admin.committed_offsets(&group, &names).await.napi()?;
            Ok(list.iter().map(committed).collect())
        })
    }

    #[napi]
    pub fn delete_group<'env>(&self, env: &'env Env, group: String) -> Result<Later<'env, ()>> {
        call!(self, env, |admin| admin.delete_group(&group).await.napi())
    }

    #[napi]
    pub fn reset_offsets<'env>(
        &self,
        env: &'env Env,
        group: String,
        reset: ResetIn,
    ) -> Result<Later<'env, Value>> {
        let to = reset.target()?;
        let topics = reset.topics.clone().unwrap_or_default();
        let dry_run = reset.dry_run.unwrap_or(false);
        call!(self, env, |admin| {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let changes = match dry_run {
                true => admin.preview_reset_offsets(&group, to, &names).await,
                false => admin.reset_offsets(&group, to, &names).await,
            }
            .napi()?;
            Ok(changes.iter().map(offset_change).collect())
        })
    }

    #[napi]
    pub fn create_tenant<'env>(&self, env: &'env Env, name: String) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            Ok(tenant(&admin.create_tenant(&name).await.napi()?))
        })
    }

    #[napi]
    pub fn list_tenants<'env>(&self, env: &'env Env) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            let list = admin.list_tenants().await.napi()?;
            Ok(list.iter().map(tenant).collect())
        })
    }

    #[napi]
    pub fn delete_tenant<'env>(&self, env: &'env Env, name: String) -> Result<Later<'env, ()>> {
        call!(self, env, |admin| admin.delete_tenant(&name).await.napi())
    }

    #[napi]
    pub fn create_key<'env>(
        &self,
        env: &'env Env,
        name: String,
        scopes: Vec<String>,
        expires_at_ms: Option<f64>,
    ) -> Result<Later<'env, Value>> {
        let expires = u64_of(expires_at_ms, "expiresAtMs")?;
        call!(self, env, |admin| {
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let key = admin.create_key(&name, &scopes, expires).await.napi()?;
            Ok(created_key(&key))
        })
    }

    #[napi]
    pub fn list_keys<'env>(&self, env: &'env Env) -> Result<Later<'env, Value>> {
        call!(self, env, |admin| {
            let list = admin.list_keys().await.napi()?;
            Ok(list.iter().map(key_info).collect())
        })
    }

    #[napi]
    pub fn revoke_key<'env>(&self, env: &'env Env, id: String) -> Result<Later<'env, ()>> {
        call!(self, env, |admin| admin.revoke_key(&id).await.napi())
    }

    #[napi]
    pub fn quotas<'env>(
        &self,
        env: &'env Env,
        tenant: Option<String>,
    ) -> Result<Later<'env, Value>> {
        let tenant = tenant.unwrap_or_else(|| self.shared.config.tenant.clone());
        call!(self, env, |admin| {
            Ok(quotas(&admin.quotas(&tenant).await.napi()?))
        })
    }

    #[napi]
    pub fn set_quotas<'env>(
        &self,
        env: &'env Env,
        tenant: String,
        change: QuotaChangeIn,
    ) -> Result<Later<'env, Value>> {
        let change = change.change()?;
        call!(self, env, |admin| {
            Ok(quotas(&admin.set_quotas(&tenant, change).await.napi()?))
        })
    }

    #[napi]
    pub fn usage<'env>(
        &self,
        env: &'env Env,
        tenant: Option<String>,
    ) -> Result<Later<'env, Value>> {
        let tenant = tenant.unwrap_or_else(|| self.shared.config.tenant.clone());
        call!(self, env, |admin| {
            Ok(usage(&admin.usage(&tenant).await.napi()?))
        })
    }
}
