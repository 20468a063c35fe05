//! `Admin` over `weir::Admin`: topics, offsets and consumer groups of one tenant; tenants, API
//! keys, quotas and usage (`weir::tenancy`) as far as the credential allows; and the read-only
//! result classes (`TopicInfo`, `GroupInfo`, `TenantInfo`, `Quotas`, ...).
//!
//! Owns converting settings and quota-change dicts to `TopicConfig` and `QuotaChange` (unknown
//! names refused) and wire messages to Python objects. Must not cache anything: every call asks
//! the server, as the Rust `Admin`.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use weir::admin::{OffsetSpec, ResetTo, TopicChange, TopicConfig};
use weir::tenancy::QuotaChange;

use crate::consumer::TopicPartition;
use crate::convert;
use crate::errors::{IntoPyResult, invalid_argument, to_py};
use crate::runtime::wait;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Admin>()?;
    m.add_class::<PartitionInfo>()?;
    m.add_class::<TopicInfo>()?;
    m.add_class::<GroupSummary>()?;
    m.add_class::<MemberInfo>()?;
    m.add_class::<PartitionLag>()?;
    m.add_class::<GroupInfo>()?;
    m.add_class::<OffsetChange>()?;
    m.add_class::<Quotas>()?;
    m.add_class::<Usage>()?;
    m.add_class::<TenantInfo>()?;
    m.add_class::<KeyInfo>()?;
    m.add_class::<CreatedKey>()?;
    Ok(())
}

/// One partition of a topic.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct PartitionInfo {
    /// Partition index.
    partition: i32,
    /// The oldest offset still stored.
    log_start_offset: i64,
    /// The offset the next record will get.
    high_watermark: i64,
    /// Bytes stored.
    size_bytes: u64,
}

/// A topic: its partitions and every setting (defaults filled in).
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct TopicInfo {
    /// Topic name.
    name: String,
    /// Partitions, by index.
    partitions: Vec<PartitionInfo>,
    /// Settings by name (`retention_ms`, `segment_bytes`, ...); unset ones are absent.
    config: BTreeMap<String, i64>,
}

/// A consumer group in a list.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct GroupSummary {
    /// Group name.
    group: String,
    /// `"empty"`, `"stable"` or `"reconciling"`.
    state: String,
    /// Number of members.
    members: u32,
    /// Sum of the lag of every partition.
    total_lag: i64,
}

/// A member of a consumer group.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct MemberInfo {
    /// Member id given by the group.
    member_id: String,
    /// Static membership id, if any.
    instance_id: Option<String>,
    /// The client's name (`client_id`).
    client_id: String,
    /// Address the member last called from.
    host: String,
    /// The member's epoch.
    member_epoch: i32,
    /// Topics it subscribes to.
    topics: Vec<String>,
    /// Partitions it owns.
    assignment: Vec<TopicPartition>,
    /// Partitions it is giving up (still its own until its next heartbeat).
    revoking: Vec<TopicPartition>,
}

/// Committed offset and lag of one partition for a group.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct PartitionLag {
    /// Topic name.
    topic: String,
    /// Partition index.
    partition: i32,
    /// The group's committed offset, `None` before its first commit.
    committed_offset: Option<i64>,
    /// The partition's high watermark.
    high_watermark: i64,
    /// `high_watermark - committed_offset`, `None` before the first commit.
    lag: Option<i64>,
}

/// A consumer group: members, assignment and lag per partition.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// Group name.
    group: String,
    /// `"empty"`, `"stable"` or `"reconciling"`.
    state: String,
    /// The group's epoch.
    epoch: u64,
    /// `"uniform"` or `"range"`.
    assignor: String,
    /// Current members.
    members: Vec<MemberInfo>,
    /// Committed offsets and lag per partition.
    partitions: Vec<PartitionLag>,
    /// Sum of every partition's lag.
    total_lag: i64,
}

/// One committed offset moved (or, in a dry run, that would move) by `reset_offsets`.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct OffsetChange {
    /// Topic name.
    topic: String,
    /// Partition index.
    partition: i32,
    /// The committed offset before, `None` when there was none.
    previous: Option<i64>,
    /// The new committed offset.
    offset: i64,
}

/// The quotas in force for a tenant; 0 means unlimited.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct Quotas {
    /// Produced bytes per second.
    produce_bytes_per_sec: u64,
    /// Fetched bytes per second.
    fetch_bytes_per_sec: u64,
    /// Requests per second.
    requests_per_sec: u64,
    /// Bytes stored over all partitions.
    storage_bytes: u64,
    /// Topics.
    topics: u64,
    /// Partitions over all topics.
    partitions: u64,
    /// Consumer groups.
    groups: u64,
    /// Largest record, bytes.
    record_bytes_max: u64,
    /// Largest request, bytes.
    request_bytes_max: u64,
    /// Live tails (REST Server-Sent Events streams) open at once.
    live_tails: u64,
}

/// What a tenant uses now: rates of the last complete second, storage, counts, throttling.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct Usage {
    /// Bytes produced in the last complete second.
    produce_bytes_per_sec: u64,
    /// Bytes fetched in the last complete second.
    fetch_bytes_per_sec: u64,
    /// Requests in the last complete second.
    requests_per_sec: u64,
    /// Bytes stored over all partitions.
    storage_bytes: u64,
    /// Topics.
    topics: u64,
    /// Partitions over all topics.
    partitions: u64,
    /// Consumer groups.
    groups: u64,
    /// Milliseconds answers were held back for rate quotas since the server started.
    throttle_time_ms_total: u64,
    /// Requests refused for a rate quota since the server started.
    throttled_requests_total: u64,
}

/// A tenant with its quotas, number of API keys and usage.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct TenantInfo {
    /// Tenant name.
    name: String,
    /// The quotas in force.
    quotas: Quotas,
    /// Live (unrevoked, unexpired) API keys.
    keys: u64,
    /// What it uses now.
    usage: Usage,
}

/// An API key of a tenant, without its secret.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Key id (what `revoke_key` takes).
    id: String,
    /// The name given at creation.
    name: String,
    /// Granted scopes (`topics:write:orders-*`, `keys:admin`, ...).
    scopes: Vec<String>,
    /// Creation time, ms since the epoch.
    created_at_ms: u64,
    /// Expiry, ms since the epoch; `None`: never expires.
    expires_at_ms: Option<u64>,
    /// Revocation time, ms since the epoch; `None` while it works.
    revoked_at_ms: Option<u64>,
    /// Subject of the principal that created it.
    created_by: String,
}

/// A key just created: its `info` and its secret `key`, given in this answer only.
#[pyclass(module = "weir._weir", frozen, get_all)]
#[derive(Clone)]
pub struct CreatedKey {
    /// The key as `list_keys` reports it.
    info: KeyInfo,
    /// The secret (`weir_...`), the token clients pass as `token=`; never shown again.
    key: String,
}

/// Leaves the secret out, so that a logged or printed `CreatedKey` does not leak it.
impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("info", &self.info)
            .field("key", &"<secret>")
            .finish()
    }
}

macro_rules! repr {
    ($($t:ident),*) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{:?}", self)
            }
        }
    )*};
}

repr!(
    PartitionInfo,
    TopicInfo,
    GroupSummary,
    MemberInfo,
    PartitionLag,
    GroupInfo,
    OffsetChange,
    Quotas,
    Usage,
    TenantInfo,
    KeyInfo,
    CreatedKey
);

fn topic_config(settings: Option<BTreeMap<String, i64>>) -> PyResult<TopicConfig> {
    let mut config = TopicConfig::default();
    for (name, value) in settings.unwrap_or_default() {
        let unsigned =
            || u64::try_from(value).map_err(|_| invalid_argument(format!("{name} must be >= 0")));
        match name.as_str() {
            "retention_ms" => config.retention_ms = Some(value),
            "retention_bytes" => config.retention_bytes = Some(value),
            "segment_bytes" => config.segment_bytes = Some(unsigned()?),
            "segment_ms" => config.segment_ms = Some(unsigned()?),
            "batch_bytes_max" => {
                config.batch_bytes_max = Some(
                    u32::try_from(value)
                        .map_err(|_| invalid_argument("batch_bytes_max is out of range"))?,
                );
            }
            "flush_records" => config.flush_records = Some(unsigned()?),
            "flush_ms" => config.flush_ms = Some(unsigned()?),
            other => {
                return Err(invalid_argument(format!(
                    "unknown topic setting {other:?} (known: retention_ms, retention_bytes, \
                     segment_bytes, segment_ms, batch_bytes_max, flush_records, flush_ms)"
                )));
            }
        }
    }
    Ok(config)
}

fn config_dict(config: Option<TopicConfig>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let Some(c) = config else { return out };
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let fields = [
        ("retention_ms", c.retention_ms),
        ("retention_bytes", c.retention_bytes),
        ("segment_bytes", c.segment_bytes.map(clamp)),
        ("segment_ms", c.segment_ms.map(clamp)),
        ("batch_bytes_max", c.batch_bytes_max.map(i64::from)),
        ("flush_records", c.flush_records.map(clamp)),
        ("flush_ms", c.flush_ms.map(clamp)),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    out
}

impl From<weir::admin::TopicInfo> for TopicInfo {
    fn from(t: weir::admin::TopicInfo) -> Self {
        TopicInfo {
            name: t.name,
            partitions: t
                .partitions
                .into_iter()
                .map(|p| PartitionInfo {
                    partition: p.partition,
                    log_start_offset: p.log_start_offset,
                    high_watermark: p.high_watermark,
                    size_bytes: p.size_bytes,
                })
                .collect(),
            config: config_dict(t.config),
        }
    }
}

fn wire_tps(list: Vec<weir::admin::TopicPartitions>) -> Vec<TopicPartition> {
    list.into_iter()
        .flat_map(|tp| {
            let topic = tp.topic;
            tp.partitions
                .into_iter()
                .filter_map(move |p| {
                    u32::try_from(p)
                        .ok()
                        .map(|p| weir::TopicPartition::new(topic.clone(), p).into())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl From<weir::admin::GroupInfo> for GroupInfo {
    fn from(g: weir::admin::GroupInfo) -> Self {
        GroupInfo {
            group: g.group,
            state: g.state,
            epoch: g.epoch,
            assignor: g.assignor,
            members: g
                .members
                .into_iter()
                .map(|m| MemberInfo {
                    member_id: m.member_id,
                    instance_id: m.instance_id,
                    client_id: m.client_id,
                    host: m.host,
                    member_epoch: m.member_epoch,
                    topics: m.topics,
                    assignment: wire_tps(m.assignment),
                    revoking: wire_tps(m.revoking),
                })
                .collect(),
            partitions: g
                .partitions
                .into_iter()
                .map(|p| PartitionLag {
                    topic: p.topic,
                    partition: p.partition,
                    committed_offset: p.committed_offset,
                    high_watermark: p.high_watermark,
                    lag: p.lag,
                })
                .collect(),
            total_lag: g.total_lag,
        }
    }
}

fn offset_changes(list: Vec<weir::admin::OffsetChange>) -> Vec<OffsetChange> {
    list.into_iter()
        .map(|c| OffsetChange {
            topic: c.topic,
            partition: c.partition,
            previous: c.previous,
            offset: c.offset,
        })
        .collect()
}

/// Names `set_quotas` takes, in `QuotaChange` order.
const QUOTA_NAMES: &str = "produce_bytes_per_sec, fetch_bytes_per_sec, requests_per_sec, \
                           storage_bytes, topics, partitions, groups, record_bytes_max, \
                           request_bytes_max, live_tails";

/// A quota-change dict as `QuotaChange`: a name absent or `None` keeps its quota, 0 makes it
/// unlimited; unknown names and negative values are refused.
fn quota_change(change: BTreeMap<String, Option<i64>>) -> PyResult<QuotaChange> {
    let mut out = QuotaChange::default();
    for (name, value) in change {
        let value = value
            .map(|v| u64::try_from(v).map_err(|_| invalid_argument(format!("{name} must be >= 0"))))
            .transpose()?;
        let field = match name.as_str() {
            "produce_bytes_per_sec" => &mut out.produce_bytes_per_sec,
            "fetch_bytes_per_sec" => &mut out.fetch_bytes_per_sec,
            "requests_per_sec" => &mut out.requests_per_sec,
            "storage_bytes" => &mut out.storage_bytes,
            "topics" => &mut out.topics,
            "partitions" => &mut out.partitions,
            "groups" => &mut out.groups,
            "record_bytes_max" => &mut out.record_bytes_max,
            "request_bytes_max" => &mut out.request_bytes_max,
            "live_tails" => &mut out.live_tails,
            other => {
                return Err(invalid_argument(format!(
                    "unknown quota {other:?} (known: {QUOTA_NAMES})"
                )));
            }
        };
        *field = value;
    }
    Ok(out)
}

impl From<weir::tenancy::Quotas> for Quotas {
    fn from(q: weir::tenancy::Quotas) -> Self {
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

impl From<weir::tenancy::Usage> for Usage {
    fn from(u: weir::tenancy::Usage) -> Self {
        Usage {
            produce_bytes_per_sec: u.produce_bytes_per_sec,
            fetch_bytes_per_sec: u.fetch_bytes_per_sec,
            requests_per_sec: u.requests_per_sec,
            storage_bytes: u.storage_bytes,
            topics: u.topics,
            partitions: u.partitions,
            groups: u.groups,
            throttle_time_ms_total: u.throttle_time_ms_total,
            throttled_requests_total: u.throttled_requests_total,
        }
    }
}

impl From<weir::tenancy::KeyInfo> for KeyInfo {
    fn from(k: weir::tenancy::KeyInfo) -> Self {
        KeyInfo {
            id: k.id,
            name: k.name,
            scopes: k.scopes,
            created_at_ms: k.created_at_ms,
            expires_at_ms: k.expires_at_ms,
            revoked_at_ms: k.revoked_at_ms,
            created_by: k.created_by,
        }
    }
}

/// `weir.CorruptData` for an answer without a part the server always sends.
fn missing(what: &str) -> PyErr {
    to_py(weir::Error::Corrupt(format!(
        "the server's answer has no {what}"
    )))
}

fn tenant_info(t: weir::tenancy::TenantInfo) -> PyResult<TenantInfo> {
    Ok(TenantInfo {
        quotas: t.quotas.ok_or_else(|| missing("tenant quotas"))?.into(),
        usage: t.usage.ok_or_else(|| missing("tenant usage"))?.into(),
        name: t.name,
        keys: t.keys,
    })
}

fn created_key(k: weir::tenancy::CreatedKey) -> PyResult<CreatedKey> {
    Ok(CreatedKey {
        info: k.info.ok_or_else(|| missing("key info"))?.into(),
        key: k.key,
    })
}

/// `"earliest"`, `"latest"` or a timestamp (ms since the epoch).
#[derive(Debug)]
pub(crate) struct SpecArg(OffsetSpec);

impl<'a, 'py> FromPyObject<'a, 'py> for SpecArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(ts) = obj.extract::<i64>() {
            return Ok(SpecArg(OffsetSpec::Timestamp(ts)));
        }
        match obj.extract::<String>().ok().as_deref() {
            Some("earliest") => Ok(SpecArg(OffsetSpec::Earliest)),
            Some("latest") => Ok(SpecArg(OffsetSpec::Latest)),
            _ => Err(invalid_argument(
                "spec must be \"earliest\", \"latest\" or a timestamp in milliseconds",
            )),
        }
    }
}

/// Administration of one tenant's topics and consumer groups, and of tenants, API keys and
/// quotas as far as the credential allows.
#[pyclass(module = "weir._weir", frozen)]
#[derive(Debug)]
pub struct Admin {
    inner: weir::Admin,
    /// The tenant given at construction: where keys are made, and the default of `quotas`
    /// and `usage`.
    tenant: String,
}

#[pymethods]
impl Admin {
    /// Connects to `url` (the gRPC address of a Weir node).
    #[new]
    #[pyo3(signature = (
        *,
        url = weir::URL_DEFAULT.to_owned(),
        tenant = weir::TENANT_DEFAULT.to_owned(),
        token = None,
        request_timeout_ms = 30_000,
    ))]
    fn new(
        py: Python<'_>,
        url: String,
        tenant: String,
        token: Option<String>,
        request_timeout_ms: i64,
    ) -> PyResult<Self> {
        let config = convert::client_options(url, tenant, token, request_timeout_ms)
            .into_config(convert::SPELLING)
            .py()?;
        let tenant = config.tenant.clone();
        let inner = wait(py, weir::Admin::connect(config))?.py()?;
        Ok(Admin { inner, tenant })
    }

    /// Creates a topic; `config` holds settings by name (`retention_ms`, `retention_bytes`,
    /// `segment_bytes`, `segment_ms`, `batch_bytes_max`, `flush_records`, `flush_ms`);
    /// unset ones take the server's defaults. Raises `weir.TopicAlreadyExists`.
    #[pyo3(signature = (name, partitions=1, config=None))]
    fn create_topic(
        &self,
        py: Python<'_>,
        name: &str,
        partitions: u32,
        config: Option<BTreeMap<String, i64>>,
    ) -> PyResult<TopicInfo> {
        let config = topic_config(config)?;
        let admin = &self.inner;
        wait(py, admin.create_topic(name, partitions, config))?
            .py()
            .map(TopicInfo::from)
    }

    /// Every topic of the tenant.
    fn list_topics(&self, py: Python<'_>) -> PyResult<Vec<TopicInfo>> {
        let topics = wait(py, self.inner.list_topics())?.py()?;
        Ok(topics.into_iter().map(TopicInfo::from).collect())
    }

    /// One topic: partitions with offsets and sizes, and every setting.
    fn describe_topic(&self, py: Python<'_>, name: &str) -> PyResult<TopicInfo> {
        wait(py, self.inner.describe_topic(name))?
            .py()
            .map(TopicInfo::from)
    }

    /// Changes settings (`config`, as in `create_topic`) and/or grows the partition count.
    #[pyo3(signature = (name, *, config=None, partitions=None))]
    fn alter_topic(
        &self,
        py: Python<'_>,
        name: &str,
        config: Option<BTreeMap<String, i64>>,
        partitions: Option<u32>,
    ) -> PyResult<TopicInfo> {
        let change = TopicChange {
            config: config.map(|c| topic_config(Some(c))).transpose()?,
            partitions,
        };
        wait(py, self.inner.alter_topic(name, change))?
            .py()
            .map(TopicInfo::from)
    }

    /// Deletes a topic and its data.
    fn delete_topic(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        wait(py, self.inner.delete_topic(name))?.py()
    }

    /// Offsets of a topic's partitions (all when `partitions` is `None`): `spec` is
    /// `"earliest"`, `"latest"` (the next offset) or a timestamp in milliseconds (the first
    /// record at or after it; `None` when there is none). Returns partition → offset.
    #[pyo3(
        signature = (topic, spec=SpecArg(OffsetSpec::Latest), partitions=None),
        text_signature = "($self, topic, spec='latest', partitions=None)"
    )]
    fn list_offsets(
        &self,
        py: Python<'_>,
        topic: &str,
        spec: SpecArg,
        partitions: Option<Vec<i32>>,
    ) -> PyResult<BTreeMap<i32, Option<i64>>> {
        let spec = spec.0;
        let partitions = partitions.unwrap_or_default();
        let offsets = wait(py, self.inner.list_offsets(topic, &partitions, spec))?.py()?;
        Ok(offsets
            .into_iter()
            .map(|o| (o.partition, o.offset))
            .collect())
    }

    /// The partition count of a topic.
    fn partition_count(&self, py: Python<'_>, topic: &str) -> PyResult<u32> {
        wait(py, self.inner.partition_count(topic))?.py()
    }

    /// Every consumer group of the tenant, with member counts and total lag.
    fn list_groups(&self, py: Python<'_>) -> PyResult<Vec<GroupSummary>> {
        let groups = wait(py, self.inner.list_groups())?.py()?;
        Ok(groups
            .into_iter()
            .map(|g| GroupSummary {
                group: g.group,
                state: g.state,
                members: g.members,
                total_lag: g.total_lag,
            })
            .collect())
    }

    /// A group's members, assignments, committed offsets and lag per partition.
    fn describe_group(&self, py: Python<'_>, group: &str) -> PyResult<GroupInfo> {
        wait(py, self.inner.describe_group(group))?
            .py()
            .map(GroupInfo::from)
    }

    /// A group's committed offsets (next offsets to read) of `topics` (all when `None`).
    #[pyo3(signature = (group, topics=None))]
    fn committed_offsets(
        &self,
        py: Python<'_>,
        group: &str,
        topics: Option<Vec<String>>,
    ) -> PyResult<BTreeMap<TopicPartition, i64>> {
        let topics = topics.unwrap_or_default();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let offsets = wait(py, self.inner.committed_offsets(group, &names))?.py()?;
        Ok(offsets
            .into_iter()
            .filter_map(|o| {
                let partition = u32::try_from(o.partition).ok()?;
                Some((
                    TopicPartition::from(weir::TopicPartition::new(o.topic, partition)),
                    o.offset,
                ))
            })
            .collect())
    }

    /// Deletes a group without members, with its committed offsets.
    fn delete_group(&self, py: Python<'_>, group: &str) -> PyResult<()> {
        wait(py, self.inner.delete_group(group))?.py()
    }

    /// Moves the committed offsets of a group without members: `to` is `"earliest"`,
    /// `"latest"`, `"timestamp"` (`value` = ms since the epoch), `"offset"` (`value` on every
    /// partition) or `"shift"` (committed + `value`, negative goes back). `topics` `None`
    /// means the topics the group has offsets for. With `dry_run=True` nothing changes.
    #[pyo3(signature = (group, to, value=None, *, topics=None, dry_run=false))]
    fn reset_offsets(
        &self,
        py: Python<'_>,
        group: &str,
        to: &str,
        value: Option<i64>,
        topics: Option<Vec<String>>,
        dry_run: bool,
    ) -> PyResult<Vec<OffsetChange>> {
        let needs = |what: &str| {
            value.ok_or_else(|| invalid_argument(format!("reset to {what} needs a value")))
        };
        let target = match to {
            "earliest" => ResetTo::Earliest,
            "latest" => ResetTo::Latest,
            "timestamp" => ResetTo::Timestamp(needs("timestamp")?),
            "offset" => ResetTo::Offset(needs("offset")?),
            "shift" => ResetTo::Shift(needs("shift")?),
            other => {
                return Err(invalid_argument(format!(
                    "to must be earliest, latest, timestamp, offset or shift, not {other:?}"
                )));
            }
        };
        let topics = topics.unwrap_or_default();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let admin = &self.inner;
        let changes = if dry_run {
            wait(py, admin.preview_reset_offsets(group, target, &names))?
        } else {
            wait(py, admin.reset_offsets(group, target, &names))?
        }
        .py()?;
        Ok(offset_changes(changes))
    }

    /// Creates a tenant (needs the `admin` scope). Raises `weir.TenantAlreadyExists`.
    fn create_tenant(&self, py: Python<'_>, name: &str) -> PyResult<TenantInfo> {
        tenant_info(wait(py, self.inner.create_tenant(name))?.py()?)
    }

    /// The tenants the credential can see: every one with `admin`, else its own.
    fn list_tenants(&self, py: Python<'_>) -> PyResult<Vec<TenantInfo>> {
        let tenants = wait(py, self.inner.list_tenants())?.py()?;
        tenants.into_iter().map(tenant_info).collect()
    }

    /// Deletes a tenant without topics or groups (needs `admin`); its keys stop working.
    /// Raises `weir.TenantNotEmpty` or `weir.TenantNotFound`.
    fn delete_tenant(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        wait(py, self.inner.delete_tenant(name))?.py()
    }

    /// Creates an API key in this client's tenant with `scopes` (`"topics:write:orders-*"`,
    /// `"groups:read"`, `"keys:admin"`, ...; never more than the caller holds), expiring at
    /// `expires_at_ms` (ms since the epoch; `None`: never). The secret is `CreatedKey.key`,
    /// in this answer only.
    #[pyo3(signature = (name, scopes=None, *, expires_at_ms=None))]
    fn create_key(
        &self,
        py: Python<'_>,
        name: &str,
        scopes: Option<Vec<String>>,
        expires_at_ms: Option<i64>,
    ) -> PyResult<CreatedKey> {
        let expires_at_ms = expires_at_ms
            .map(|ms| u64::try_from(ms).map_err(|_| invalid_argument("expires_at_ms must be >= 0")))
            .transpose()?;
        let scopes = scopes.unwrap_or_default();
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let admin = &self.inner;
        created_key(wait(py, admin.create_key(name, &scopes, expires_at_ms))?.py()?)
    }

    /// This tenant's API keys, revoked ones included (never their secrets).
    fn list_keys(&self, py: Python<'_>) -> PyResult<Vec<KeyInfo>> {
        let keys = wait(py, self.inner.list_keys())?.py()?;
        Ok(keys.into_iter().map(KeyInfo::from).collect())
    }

    /// Revokes one of this tenant's keys by `KeyInfo.id`; it stops working at once. Raises
    /// `weir.KeyNotFound`.
    fn revoke_key(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        wait(py, self.inner.revoke_key(id))?.py()
    }

    /// The quotas in force for `tenant` (default: this client's); 0 means unlimited.
    #[pyo3(signature = (tenant=None))]
    fn quotas(&self, py: Python<'_>, tenant: Option<&str>) -> PyResult<Quotas> {
        let tenant = tenant.unwrap_or(&self.tenant);
        wait(py, self.inner.quotas(tenant))?.py().map(Quotas::from)
    }

    /// Changes `tenant`'s quotas (needs `admin`) and returns the quotas now in force.
    /// `change` maps quota names (`produce_bytes_per_sec`, `fetch_bytes_per_sec`,
    /// `requests_per_sec`, `storage_bytes`, `topics`, `partitions`, `groups`,
    /// `record_bytes_max`, `request_bytes_max`, `live_tails`) to a new limit; 0 clears the
    /// limit (unlimited), and a name absent or `None` keeps its quota.
    fn set_quotas(
        &self,
        py: Python<'_>,
        tenant: &str,
        change: BTreeMap<String, Option<i64>>,
    ) -> PyResult<Quotas> {
        let change = quota_change(change)?;
        wait(py, self.inner.set_quotas(tenant, change))?
            .py()
            .map(Quotas::from)
    }

    /// What `tenant` (default: this client's) uses now: rates of the last complete second,
    /// storage, counts and throttling since the server started.
    #[pyo3(signature = (tenant=None))]
    fn usage(&self, py: Python<'_>, tenant: Option<&str>) -> PyResult<Usage> {
        let tenant = tenant.unwrap_or(&self.tenant);
        wait(py, self.inner.usage(tenant))?.py().map(Usage::from)
    }

    /// Nothing to release (calls are independent); for symmetry with the other clients.
    fn close(&self) {}

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the admin client.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }
}
