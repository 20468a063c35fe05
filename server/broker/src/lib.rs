//! weir-broker: Weir's domain logic — tenants, topics, partitions, produce and fetch.
//!
//! REST and gRPC handlers call these same functions, so the two transports cannot drift apart.
//! Must not know HTTP, gRPC, JSON request shapes or status codes: errors carry an `ErrorCode`
//! and weir-api maps it. Every lookup is keyed by (tenant, name): a topic of another tenant is
//! indistinguishable from a missing one.

mod audit;
mod datadir;
mod door;
mod error;
pub mod groups;
mod metadata;
mod names;
mod parallel;
mod produce;
mod producers;
pub mod tenancy;
mod topic;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

pub use error::BrokerError;
pub use groups::{
    Assignor, CommitOffset, Committed, GroupDescription, GroupFetchOptions, GroupFetched,
    GroupLimits, GroupRecord, Heartbeat, MemberDescription, MemberView, OffsetChange, OffsetReset,
    PartitionLag, Partitions, ResetTo,
};
pub use names::{TENANT_NAME_BYTES_MAX, TOPIC_NAME_BYTES_MAX, TenantId, TopicName};
pub use produce::{NewRecord, RecordPosition, check_record};
pub use producers::{NO_PRODUCER_ID, PRODUCER_BATCHES_RETAINED, PRODUCERS_PER_PARTITION_MAX};
pub use tenancy::{Action, Principal, Quotas, Rate, Throttling};
pub use topic::{
    Fetched, FetchedSlices, Partition, PartitionOffsets, RETENTION_MS_DEFAULT, Topic, TopicConfig,
};
pub use weir_log::AppendInfo;

use audit::Audit;
use metadata::{Command, MetaLog, StoredConfig};
use tenancy::{ApiKey, Meter};

/// The tenant every fresh data directory starts with.
pub const DEFAULT_TENANT: &str = "default";

/// Named limits the broker enforces on every request, whatever the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest record (key + value + headers), in bytes.
    pub record_bytes_max: usize,
    /// Most headers on one record.
    pub record_headers_max: usize,
    /// Most records in one produce request.
    pub produce_records_max: usize,
    /// Most partitions a topic may have.
    pub topic_partitions_max: u32,
    /// Largest fetch response per partition, in bytes.
    pub fetch_bytes_max: usize,
    /// Longest a fetch may wait for records, in milliseconds.
    pub fetch_wait_ms_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            record_bytes_max: 1 << 20,
            record_headers_max: 64,
            produce_records_max: 10_000,
            topic_partitions_max: 1_000,
            fetch_bytes_max: 64 << 20,
            fetch_wait_ms_max: 30_000,
        }
    }
}

/// How to run a broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Root of all data: `meta/` and `topics/<id>/<partition>/`.
    pub data_dir: PathBuf,
    /// Request limits.
    pub limits: Limits,
    /// Settings for topics created without them.
    pub topic_defaults: TopicConfig,
    /// Consumer group limits.
    pub group_limits: GroupLimits,
    /// Quotas of tenants that have none of their own (0 = unlimited).
    pub quota_defaults: Quotas,
    /// How rate quotas absorb bursts and overage.
    pub throttling: Throttling,
}

impl BrokerConfig {
    /// A broker on `data_dir` with every default.
    pub fn new(data_dir: impl Into<PathBuf>) -> BrokerConfig {
        BrokerConfig {
            data_dir: data_dir.into(),
            limits: Limits::default(),
            topic_defaults: TopicConfig::default(),
            group_limits: GroupLimits::default(),
            quota_defaults: Quotas::default(),
            throttling: Throttling::default(),
        }
    }
}

/// Changes to a topic: any subset of new settings and a larger partition count.
#[derive(Debug, Clone, Default)]
pub struct TopicChange {
    /// New settings (whole).
    pub config: Option<TopicConfig>,
    /// New partition count; must not be smaller than the current one.
    pub partitions: Option<u32>,
}

/// Producer ids reserved by one metadata command: one fsync per this many `init_producer`
/// calls, and at most this many ids skipped by a restart.
pub const PRODUCER_ID_BLOCK: i64 = 1_000;

#[derive(Debug, Default)]
struct State {
    tenants: BTreeMap<TenantId, BTreeMap<TopicName, Arc<Topic>>>,
    next_topic_id: u64,
    /// Next idempotent producer id to hand out; ids up to `producer_ids_end` are reserved.
    next_producer_id: i64,
    producer_ids_end: i64,
    /// API keys by id, revoked ones included.
    keys: BTreeMap<String, ApiKey>,
    /// Quotas set for a tenant; absent = the configured defaults.
    quotas: BTreeMap<TenantId, Quotas>,
    /// Each tenant's incarnation (see `Command::CreateTenant`).
    incarnations: BTreeMap<TenantId, u64>,
}

/// The broker of one node.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    meta: Mutex<MetaLog>,
    groups: groups::Coordinator,
    state: RwLock<State>,
    shutting_down: AtomicBool,
    audit: Audit,
    meters: Mutex<HashMap<TenantId, Meter>>,
    storage_cache: Mutex<HashMap<TenantId, (Instant, u64)>>,
    /// The data directory's lock, held while the broker lives.
    _lock: std::fs::File,
}

impl Broker {
    /// Opens the data directory: replays the metadata, opens (and recovers) every partition,
    /// removes directories of deleted topics, and creates the `default` tenant when fresh.
    pub fn open(config: BrokerConfig) -> Result<Broker, BrokerError> {
        let data = &config.data_dir;
        let lock = datadir::open(data)?;
        let (meta, commands) = MetaLog::open(&data.join("meta"))?;
        let fresh = commands.is_empty();
        let groups = groups::Coordinator::open(&data.join("groups"), config.group_limits.clone())?;
        let audit = Audit::open(&data.join("audit.log"))?;
        let broker = Broker {
            config,
            meta: Mutex::new(meta),
            groups,
            state: RwLock::new(State::default()),
            shutting_down: AtomicBool::new(false),
            audit,
            meters: Mutex::new(HashMap::new()),
            storage_cache: Mutex::new(HashMap::new()),
            _lock: lock,
        };
        for command in commands {
            broker.apply(command)?;
        }
        {
            // Ids of the last reserved block may have been handed out before the restart.
            let mut state = broker.state_mut();
            state.next_producer_id = state.producer_ids_end;
        }
        broker.remove_orphan_topic_dirs()?;
        if fresh {
            // The bootstrap tenant is unlimited; tenants created later get the defaults.
            let default = TenantId::parse(DEFAULT_TENANT)?;
            broker.insert_tenant(&default)?;
            broker.commit(|_| {
                Ok(Command::SetQuotas {
                    tenant: default.to_string(),
                    quotas: Quotas::default(),
                })
            })?;
        }
        Ok(broker)
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// The limits in force for `tenant`: the server's, narrowed by the tenant's quotas.
    pub fn limits_for(&self, tenant: &TenantId) -> Limits {
        Limits {
            record_bytes_max: self.record_bytes_max(tenant),
            ..self.config.limits.clone()
        }
    }

    /// Settings for topics created without them.
    pub fn topic_defaults(&self) -> &TopicConfig {
        &self.config.topic_defaults
    }

    fn topics_dir(&self) -> PathBuf {
        self.config.data_dir.join("topics")
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a command to the in-memory state (at replay, and after it was made durable).
    fn apply(&self, command: Command) -> Result<(), BrokerError> {
        let mut state = self.state_mut();
        match command {
            Command::CreateTenant {
                tenant,
                incarnation,
            } => {
                let tenant = TenantId::parse(&tenant)?;
                state.tenants.entry(tenant.clone()).or_default();
                state.incarnations.insert(tenant, incarnation.unwrap_or(0));
            }
            Command::CreateTopic {
                id,
                tenant,
                name,
                partitions,
                config,
            } => {
                let (tenant, name) = (TenantId::parse(&tenant)?, TopicName::parse(&name)?);
                let dir = self.topics_dir().join(id.to_string());
                let topic = Topic::open(
                    id,
                    tenant.clone(),
                    name.clone(),
                    dir,
                    partitions,
                    config.into(),
                )?;
                state.next_topic_id = state.next_topic_id.max(id + 1);
                state
                    .tenants
                    .entry(tenant)
                    .or_default()
                    .insert(name, Arc::new(topic));
            }
            Command::AlterTopic {
                id,
                partitions,
                config,
            } => {
                if let Some(topic) = find_by_id(&state, id) {
                    topic.set_config(config.into())?;
                    topic.grow(partitions)?;
                }
            }
            Command::DeleteTopic { id } => {
                if let Some(topic) = find_by_id(&state, id)
                    && let Some(topics) = state.tenants.get_mut(topic.tenant())
                {
                    topics.remove(topic.name());
                }
            }
            Command::ReserveProducerIds { start, end } => {
                state.next_producer_id = start;
                state.producer_ids_end = end;
            }
            tenancy @ (Command::DeleteTenant { .. }
            | Command::CreateKey { .. }
            | Command::RevokeKey { .. }
            | Command::SetQuotas { .. }) => Broker::apply_tenancy(&mut state, tenancy)?,
        }
        Ok(())
    }

    /// Builds a command from the current state, makes it durable, then applies it. Holding
    /// the metadata lock throughout serializes changes: the checks `build` makes still hold
    /// when the command is applied, and the log order is the applied order.
    fn commit(
        &self,
        build: impl FnOnce(&State) -> Result<Command, BrokerError>,
    ) -> Result<(), BrokerError> {
        self.check_running()?;
        let mut meta = self.meta.lock().unwrap_or_else(|p| p.into_inner());
        let command = build(&self.state())?;
        meta.append(&command)?;
        self.apply(command)
    }

    pub(crate) fn check_running(&self) -> Result<(), BrokerError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(BrokerError::ShuttingDown);
        }
        Ok(())
    }

    fn remove_orphan_topic_dirs(&self) -> Result<(), BrokerError> {
        let live: Vec<u64> = self.all_topics().iter().map(|t| t.id()).collect();
        let dir = self.topics_dir();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| BrokerError::StorageUnavailable(format!("list {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().parse::<u64>().ok();
            if id.is_none_or(|id| !live.contains(&id)) {
                tracing::info!(dir = %entry.path().display(), "removing data of a deleted topic");
                remove_dir(&entry.path());
            }
        }
        Ok(())
    }

    /// Every topic of every tenant.
    pub fn all_topics(&self) -> Vec<Arc<Topic>> {
        self.state()
            .tenants
            .values()
            .flat_map(|t| t.values().cloned())
            .collect()
    }

    /// Tenant names.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.state().tenants.keys().cloned().collect()
    }

    /// Whether the tenant exists.
    pub fn tenant_exists(&self, tenant: &TenantId) -> bool {
        self.state().tenants.contains_key(tenant)
    }

    /// Adds a tenant (no rights checked: `create_tenant` is the public, audited way).
    fn insert_tenant(&self, tenant: &TenantId) -> Result<(), BrokerError> {
        self.commit(|state| {
            if state.tenants.contains_key(tenant) {
                return Err(BrokerError::TenantAlreadyExists(tenant.to_string()));
            }
            Ok(Command::CreateTenant {
                tenant: tenant.to_string(),
                incarnation: Some(tenancy::new_incarnation()?),
            })
        })
    }

    /// Creates a topic in `tenant`.
    pub fn create_topic(
        &self,
        by: &Principal,
        tenant: &TenantId,
        name: TopicName,
        partitions: u32,
        config: TopicConfig,
    ) -> Result<Arc<Topic>, BrokerError> {
        self.check_partition_count(partitions)?;
        config.validate()?;
        self.commit(|state| {
            let topics = state
                .tenants
                .get(tenant)
                .ok_or_else(|| BrokerError::TenantNotFound(tenant.to_string()))?;
            if topics.contains_key(&name) {
                return Err(BrokerError::TopicAlreadyExists(name.to_string()));
            }
            self.check_counts(state, tenant, 1, u64::from(partitions))?;
            Ok(Command::CreateTopic {
                id: state.next_topic_id,
                tenant: tenant.to_string(),
                name: name.to_string(),
                partitions,
                config: StoredConfig::from(&config),
            })
        })?;
        self.audit
            .record(by, "topic.create", tenant.as_str(), name.as_str());
        self.topic(tenant, name.as_str())
    }

    fn check_partition_count(&self, partitions: u32) -> Result<(), BrokerError> {
        let max = self.config.limits.topic_partitions_max;
        if partitions == 0 || partitions > max {
            return Err(BrokerError::InvalidRequest(format!(
                "partitions must be between 1 and topic_partitions_max {max}, got {partitions}"
            )));
        }
        Ok(())
    }

    /// Topics of `tenant`, by name.
    pub fn list_topics(&self, tenant: &TenantId) -> Result<Vec<Arc<Topic>>, BrokerError> {
        self.state()
            .tenants
            .get(tenant)
            .map(|t| t.values().cloned().collect())
            .ok_or_else(|| BrokerError::TenantNotFound(tenant.to_string()))
    }

    /// One topic of `tenant`. Another tenant's topic of that name is "not found" as well.
    pub fn topic(&self, tenant: &TenantId, name: &str) -> Result<Arc<Topic>, BrokerError> {
        let state = self.state();
        let topics = state
            .tenants
            .get(tenant)
            .ok_or_else(|| BrokerError::TenantNotFound(tenant.to_string()))?;
        TopicName::parse(name)
            .ok()
            .and_then(|n| topics.get(&n).cloned())
            .ok_or_else(|| BrokerError::TopicNotFound(name.to_owned()))
    }

    /// Changes settings and/or adds partitions.
    pub fn alter_topic(
        &self,
        by: &Principal,
        tenant: &TenantId,
        name: &str,
        change: TopicChange,
    ) -> Result<Arc<Topic>, BrokerError> {
        let topic = self.topic(tenant, name)?;
        let current = topic.partition_count();
        let partitions = change.partitions.unwrap_or(current);
        if partitions < current {
            return Err(BrokerError::InvalidRequest(format!(
                "partitions can only be added: topic has {current}, asked for {partitions}"
            )));
        }
        self.check_partition_count(partitions)?;
        let config = change.config.unwrap_or_else(|| topic.config());
        config.validate()?;
        self.commit(|state| {
            still_exists(state, &topic)?;
            self.check_counts(state, tenant, 0, u64::from(partitions - current))?;
            Ok(Command::AlterTopic {
                id: topic.id(),
                partitions,
                config: StoredConfig::from(&config),
            })
        })?;
        self.audit.record(by, "topic.alter", tenant.as_str(), name);
        Ok(topic)
    }

    /// Deletes a topic and its data.
    pub fn delete_topic(
        &self,
        by: &Principal,
        tenant: &TenantId,
        name: &str,
    ) -> Result<(), BrokerError> {
        let topic = self.topic(tenant, name)?;
        self.commit(|state| {
            still_exists(state, &topic)?;
            Ok(Command::DeleteTopic { id: topic.id() })
        })?;
        self.audit.record(by, "topic.delete", tenant.as_str(), name);
        self.forget_topic_offsets(tenant, name)?;
        remove_dir(topic.dir());
        Ok(())
    }

    /// A new idempotent producer id and its epoch (always 0: there are no transactional ids to
    /// fence yet). Ids are unique on this node across restarts: they are reserved in blocks of
    /// `PRODUCER_ID_BLOCK` by a durable metadata command before any of them is handed out.
    pub fn init_producer(&self, tenant: &TenantId) -> Result<(i64, i16), BrokerError> {
        self.check_running()?;
        if !self.tenant_exists(tenant) {
            return Err(BrokerError::TenantNotFound(tenant.to_string()));
        }
        loop {
            {
                let mut state = self.state_mut();
                if state.next_producer_id < state.producer_ids_end {
                    let id = state.next_producer_id;
                    state.next_producer_id += 1;
                    return Ok((id, 0));
                }
            }
            self.commit(|state| {
                let start = state.producer_ids_end;
                Ok(Command::ReserveProducerIds {
                    start,
                    end: start + PRODUCER_ID_BLOCK,
                })
            })?;
        }
    }

    /// Runs retention and due flushes on every partition and expires silent group members;
    /// returns segments deleted.
    pub fn maintain(&self) -> usize {
        self.groups.expire_all();
        let mut deleted = 0;
        for topic in self.all_topics() {
            for p in topic.partitions() {
                match p.maintain() {
                    Ok(n) => deleted += n,
                    Err(e) => {
                        tracing::warn!(topic = %topic.name(), partition = p.index(), error = %e, "log maintenance failed")
                    }
                }
            }
        }
        deleted
    }

    /// Refuses new writes, then flushes every partition and the metadata and writes their
    /// clean-shutdown markers. Returns the first error after trying everything.
    pub fn shutdown(&self) -> Result<(), BrokerError> {
        self.shutting_down.store(true, Ordering::SeqCst);
        let partitions = self
            .all_topics()
            .iter()
            .flat_map(|t| t.partitions())
            .collect();
        // Each syncs its data and writes its markers: waiting on the disk, so several at a time.
        let closed = parallel::map(partitions, |p: Arc<Partition>| p.shutdown());
        let mut first_error = closed.into_iter().find_map(Result::err);
        if let Err(e) = self.groups.shutdown() {
            first_error.get_or_insert(e);
        }
        let mut meta = self.meta.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = meta.shutdown() {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The topic with internal id `id`; commands are only built for live topics, so at replay a
/// miss is a no-op rather than a reason to refuse to start.
fn find_by_id(state: &State, id: u64) -> Option<Arc<Topic>> {
    state
        .tenants
        .values()
        .flat_map(|t| t.values())
        .find(|t| t.id() == id)
        .cloned()
}

/// Refuses a change to a topic deleted since it was looked up.
fn still_exists(state: &State, topic: &Topic) -> Result<(), BrokerError> {
    find_by_id(state, topic.id())
        .map(|_| ())
        .ok_or_else(|| BrokerError::TopicNotFound(topic.name().to_string()))
}

fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not remove topic data");
    }
}
