//! weir-broker: Weir's domain logic — tenants, topics, partitions, produce and fetch.
//!
//! REST and gRPC handlers call these same functions, so the two transports cannot drift apart.
//! Must not know HTTP, gRPC, JSON request shapes or status codes: errors carry an `ErrorCode`
//! and weir-api maps it. Every lookup is keyed by (tenant, name): a topic of another tenant is
//! indistinguishable from a missing one.

mod audit;
mod catalog;
mod datadir;
mod door;
pub use door::PartitionState;
mod error;
pub mod groups;
pub mod metadata;
mod names;
mod nodes;
mod parallel;
mod produce;
mod producers;
mod remote;
pub mod tenancy;
mod tenants;
mod topic;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::watch;

pub use error::BrokerError;
pub use groups::{
    Assignor, CommitOffset, Committed, GroupDescription, GroupFetchOptions, GroupFetched,
    GroupLimits, GroupRecord, Heartbeat, MemberDescription, MemberView, OffsetChange, OffsetReset,
    PartitionLag, Partitions, ResetTo,
};
pub use names::{TENANT_NAME_BYTES_MAX, TOPIC_NAME_BYTES_MAX, TenantId, TopicName};
pub use produce::{Acks, NewRecord, Produced, ProducedRecords, RecordPosition, check_record};
pub use producers::{NO_PRODUCER_ID, PRODUCER_BATCHES_RETAINED, PRODUCERS_PER_PARTITION_MAX};
pub use remote::{Remote, RemoteFetch, RemoteGroup};
pub use tenancy::{Action, Principal, Quotas, Rate, Throttling};
pub use topic::{
    Fetched, FetchedSlices, Partition, PartitionOffsets, RETENTION_MS_DEFAULT, Slot, Topic,
    TopicConfig,
};
pub use weir_log::AppendInfo;

use audit::Audit;
use catalog::Catalog;
use metadata::{
    Command, LocalMetadataLog, MetadataImage, MetadataLog, Policy, ProducerIdCmd, TenancyCmd,
    TopicCmd, TopicSpec,
};
use tenancy::Meter;

/// How long opening a one-voter node waits for its quorum to take an upgrade.
const UPGRADE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long an upgrade waits before it asks the quorum again.
const UPGRADE_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

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
    /// This node's id in a cluster: it hosts the partitions placed on it. `None` (a node run
    /// alone, or embedded): it hosts every partition.
    pub node_id: Option<u32>,
}

impl BrokerConfig {
    /// What metadata validation reads of this configuration.
    pub fn policy(&self) -> Policy {
        Policy {
            quota_defaults: self.quota_defaults,
            topic_partitions_max: self.limits.topic_partitions_max,
        }
    }

    /// A broker on `data_dir` with every default.
    pub fn new(data_dir: impl Into<PathBuf>) -> BrokerConfig {
        BrokerConfig {
            data_dir: data_dir.into(),
            limits: Limits::default(),
            topic_defaults: TopicConfig::default(),
            group_limits: GroupLimits::default(),
            quota_defaults: Quotas::default(),
            throttling: Throttling::default(),
            node_id: None,
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

/// The broker of one node.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    /// Where metadata commands become durable; its image is the truth about what exists.
    meta: Box<dyn MetadataLog>,
    /// The latest image `meta` published.
    images: watch::Receiver<Arc<MetadataImage>>,
    /// The open topics, reconciled from the image.
    catalog: Catalog,
    /// The block of idempotent producer ids this node reserved: the next to hand out and
    /// its end.
    producer_ids: Mutex<(i64, i64)>,
    groups: groups::Coordinator,
    shutting_down: AtomicBool,
    audit: Audit,
    meters: Mutex<HashMap<TenantId, Meter>>,
    storage_cache: Mutex<HashMap<TenantId, (Instant, u64)>>,
    /// How partitions other nodes lead are reached (a cluster node's, set once at start).
    remote: std::sync::OnceLock<Arc<dyn Remote>>,
    /// The data directory's lock, held while the broker lives.
    _lock: std::fs::File,
}

impl Broker {
    /// Opens the data directory: rebuilds the metadata image (snapshot and tail), opens (and
    /// recovers) every partition, removes directories of deleted topics, and creates the
    /// `default` tenant when fresh.
    pub fn open(config: BrokerConfig) -> Result<Broker, BrokerError> {
        let broker = Broker::open_with(config, |data| {
            let meta = LocalMetadataLog::open(
                &data.join(metadata::LOCAL_LOG_DIR),
                &data.join(metadata::LOCAL_SNAPSHOT_FILE),
            )?;
            Ok(Box::new(meta))
        })?;
        // The local log holds every command, so a directory the image does not know belongs
        // to a deleted topic. (A cluster node's image may still be catching up at open: it
        // never removes directories at start.)
        broker.remove_orphan_topic_dirs()?;
        broker.bootstrap_if_fresh()?;
        Ok(broker)
    }

    /// Opens the data directory with the metadata log `meta` makes (given the data directory,
    /// once it is locked): the image it holds decides which topics open. Creates nothing:
    /// the node that founds a cluster calls `bootstrap_if_fresh`.
    pub fn open_with(
        config: BrokerConfig,
        meta: impl FnOnce(&Path) -> Result<Box<dyn MetadataLog>, BrokerError>,
    ) -> Result<Broker, BrokerError> {
        let data = &config.data_dir;
        let lock = datadir::open(data)?;
        let meta = meta(data)?;
        let images = meta.watch();
        let image = images.borrow().clone();
        let catalog = Catalog::new(data.join("topics"), config.node_id);
        catalog.reconcile(&image)?;
        let groups = groups::Coordinator::open(&data.join("groups"), config.group_limits.clone())?;
        let audit = Audit::open(&data.join("audit.log"))?;
        let broker = Broker {
            config,
            meta,
            images,
            catalog,
            // Ids of blocks reserved before this start may have been handed out: this node
            // reserves a new block before its first id.
            producer_ids: Mutex::new((0, 0)),
            groups,
            shutting_down: AtomicBool::new(false),
            audit,
            meters: Mutex::new(HashMap::new()),
            storage_cache: Mutex::new(HashMap::new()),
            remote: std::sync::OnceLock::new(),
            _lock: lock,
        };
        Ok(broker)
    }

    /// Creates the `default` tenant (unlimited; tenants created later get the defaults) when
    /// the metadata is empty (node registrations aside: they come before any bootstrap).
    pub fn bootstrap_if_fresh(&self) -> Result<(), BrokerError> {
        if !self.image().is_empty() {
            return Ok(());
        }
        let default = TenantId::parse(DEFAULT_TENANT)?;
        self.insert_tenant(&default)?;
        self.propose(|_| {
            Ok(TenancyCmd::SetQuotas {
                tenant: default.clone(),
                quotas: Quotas::default(),
            }
            .into())
        })?;
        Ok(())
    }

    /// Reaches partitions other nodes lead through `remote` (set once, at start).
    pub fn set_remote(&self, remote: Arc<dyn Remote>) {
        let _ = self.remote.set(remote);
    }

    /// Finishes opening a node that holds all the metadata by itself in a one-voter quorum:
    /// upgrades a single node's command log in place (`upgrade_in_place`), removes
    /// directories of deleted topics and creates tenant `default` when fresh.
    pub fn settle_alone(&self) -> Result<(), BrokerError> {
        self.upgrade_in_place(UPGRADE_WAIT)?;
        self.remove_orphan_topic_dirs()?;
        self.bootstrap_if_fresh()
    }

    /// Upgrades a data directory whose metadata a single node kept in its own command log
    /// (`meta/`) in place: its whole image (tenants, keys, quotas, topics with their ids,
    /// producer ids) becomes one `Import` entry of the quorum, and the log is renamed aside.
    /// Records, committed offsets and the audit log stay where they are. Only an empty
    /// quorum takes an import: a node upgraded with other metadata already there is refused,
    /// and nothing changes. Waits up to `within` for a controller. Returns whether there was
    /// anything to upgrade.
    pub fn upgrade_in_place(&self, within: std::time::Duration) -> Result<bool, BrokerError> {
        let data = &self.config.data_dir;
        let Some(old) = metadata::local_image(data)? else {
            return Ok(false);
        };
        let deadline = Instant::now() + within;
        let import = old.to_import();
        loop {
            let refused = match self.meta.propose(&mut |image| {
                image.validate(&import, &self.policy())?;
                Ok(import.clone())
            }) {
                Ok(applied) => {
                    self.reconcile(&applied.image)?;
                    break;
                }
                Err(e) => e,
            };
            // Committed by an earlier start that stopped before renaming the log, or this
            // node's image is behind the controller that refused it.
            if self.meta.watch().borrow().holds(&old) {
                break;
            }
            if Instant::now() >= deadline {
                return Err(match refused {
                    e @ (BrokerError::InvalidRequest(_) | BrokerError::Forwarded { .. }) => {
                        BrokerError::InvalidRequest(format!(
                            "{} holds a single node's metadata ({}/) but the cluster already \
                             holds other metadata ({e}); to upgrade it in place, start it as \
                             the only initial voter and add the other nodes afterwards",
                            data.display(),
                            metadata::LOCAL_LOG_DIR
                        ))
                    }
                    e => e,
                });
            }
            std::thread::sleep(UPGRADE_RETRY);
        }
        metadata::retire_local_log(data)?;
        tracing::info!(
            topics = old.topics().len(),
            tenants = old.tenants().count(),
            "upgraded the data directory in place: its metadata is in the quorum now"
        );
        Ok(true)
    }

    /// Brings the open topics in step with every image the metadata log publishes, also
    /// those other nodes proposed; returns when the log closes. A node of a cluster runs it.
    pub async fn follow_metadata(&self) {
        let mut images = self.meta.watch();
        while images.changed().await.is_ok() {
            let image = images.borrow_and_update().clone();
            if let Err(e) = self.reconcile(&image) {
                tracing::error!(version = image.version(), error = %e, "could not open what the metadata holds; retrying with the next change");
            }
        }
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

    /// The current metadata image.
    fn image(&self) -> Arc<MetadataImage> {
        self.images.borrow().clone()
    }

    /// What validation reads besides the image.
    fn policy(&self) -> Policy {
        self.config.policy()
    }

    /// Builds a command from the current image, validates it against that image, makes it
    /// durable, then brings the open topics in step. `build` checks what the image cannot
    /// (the caller's rights); the proposal is serialized with every other, so what both
    /// checked still holds when the command applies.
    fn propose(
        &self,
        mut build: impl FnMut(&MetadataImage) -> Result<Command, BrokerError>,
    ) -> Result<Command, BrokerError> {
        self.check_running()?;
        let policy = self.policy();
        let applied = self.meta.propose(&mut |image| {
            let command = build(image)?;
            image.validate(&command, &policy)?;
            Ok(command)
        })?;
        self.reconcile(&applied.image)?;
        Ok(applied.command)
    }

    /// Brings the open topics in step with `image`, and forgets the committed offsets of the
    /// topics it deleted (in the groups this node coordinates).
    fn reconcile(&self, image: &Arc<MetadataImage>) -> Result<(), BrokerError> {
        for (tenant, topic) in self.catalog.reconcile(image)? {
            self.groups.forget_topic(&tenant, topic.as_str())?;
        }
        Ok(())
    }

    pub(crate) fn check_running(&self) -> Result<(), BrokerError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(BrokerError::ShuttingDown);
        }
        Ok(())
    }

    fn remove_orphan_topic_dirs(&self) -> Result<(), BrokerError> {
        let image = self.image();
        let dir = self.topics_dir();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| BrokerError::StorageUnavailable(format!("list {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().parse::<u64>().ok();
            if id.is_none_or(|id| !image.topics().contains_key(&id)) {
                tracing::info!(dir = %entry.path().display(), "removing data of a deleted topic");
                catalog::remove_dir(&entry.path());
            }
        }
        Ok(())
    }

    /// Every topic of every tenant.
    pub fn all_topics(&self) -> Vec<Arc<Topic>> {
        self.catalog.all()
    }

    /// Tenant names.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.image().tenants().map(|(t, _)| t.clone()).collect()
    }

    /// Whether the tenant exists.
    pub fn tenant_exists(&self, tenant: &TenantId) -> bool {
        self.image().tenant(tenant).is_some()
    }

    /// Adds a tenant (no rights checked: `create_tenant` is the public, audited way).
    fn insert_tenant(&self, tenant: &TenantId) -> Result<(), BrokerError> {
        let incarnation = tenancy::new_incarnation()?;
        self.propose(|_| {
            Ok(TenancyCmd::CreateTenant {
                tenant: tenant.clone(),
                incarnation,
            }
            .into())
        })?;
        Ok(())
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
        self.propose(|image| {
            Ok(TopicCmd::Create {
                id: image.next_topic_id(),
                tenant: tenant.clone(),
                name: name.clone(),
                partitions,
                config: config.clone(),
                replicas: None,
            }
            .into())
        })?;
        self.audit
            .record(by, "topic.create", tenant.as_str(), name.as_str());
        self.topic(tenant, name.as_str())
    }

    /// Topics of `tenant`, by name.
    pub fn list_topics(&self, tenant: &TenantId) -> Result<Vec<Arc<Topic>>, BrokerError> {
        if !self.tenant_exists(tenant) {
            return Err(BrokerError::TenantNotFound(tenant.to_string()));
        }
        Ok(self.catalog.topics_of(tenant).unwrap_or_default())
    }

    /// One topic of `tenant`. Another tenant's topic of that name is "not found" as well.
    pub fn topic(&self, tenant: &TenantId, name: &str) -> Result<Arc<Topic>, BrokerError> {
        let found = TopicName::parse(name)
            .ok()
            .and_then(|n| self.catalog.topic(tenant, &n));
        match found {
            Some(topic) => Ok(topic),
            None if !self.tenant_exists(tenant) => {
                Err(BrokerError::TenantNotFound(tenant.to_string()))
            }
            None => Err(BrokerError::TopicNotFound(name.to_owned())),
        }
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
        self.propose(|image| {
            let spec = live_spec(image, &topic)?;
            Ok(TopicCmd::Alter {
                id: spec.id,
                partitions: change.partitions.unwrap_or(spec.partitions),
                config: change.config.clone().unwrap_or_else(|| spec.config.clone()),
            }
            .into())
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
        self.propose(|image| {
            let id = live_spec(image, &topic)?.id;
            Ok(TopicCmd::Delete { id }.into())
        })?;
        // The reconcile after the proposal removed the topic's directory and its groups'
        // offsets (every node does the same when the deletion reaches it).
        self.audit.record(by, "topic.delete", tenant.as_str(), name);
        Ok(())
    }

    /// A new idempotent producer id and its epoch (always 0: there are no transactional ids to
    /// fence yet). Ids are unique across restarts and nodes: each node reserves its own blocks
    /// of `PRODUCER_ID_BLOCK` by a durable metadata command before it hands any of them out,
    /// and a restart starts a new block.
    pub fn init_producer(&self, tenant: &TenantId) -> Result<(i64, i16), BrokerError> {
        self.check_running()?;
        if !self.tenant_exists(tenant) {
            return Err(BrokerError::TenantNotFound(tenant.to_string()));
        }
        let mut block = self.producer_ids.lock().unwrap_or_else(|p| p.into_inner());
        if block.0 >= block.1 {
            let applied = self.propose(|image| {
                let start = image.producer_ids_end();
                let end = start + PRODUCER_ID_BLOCK;
                Ok(ProducerIdCmd::Reserve { start, end }.into())
            })?;
            // The block as applied: a controller may have moved it past blocks other nodes
            // reserved meanwhile.
            let Command::ProducerIds(ProducerIdCmd::Reserve { start, end }) = applied else {
                return Err(BrokerError::Internal(format!(
                    "a producer-id reservation applied as {applied:?}"
                )));
            };
            *block = (start, end);
        }
        let id = block.0;
        assert!(id < block.1, "ids come from this node's reserved block");
        block.0 += 1;
        Ok((id, 0))
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
        if let Err(e) = self.meta.shutdown() {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The image's spec of `topic`: refuses a change to a topic deleted (or deleted and created
/// again) since it was looked up.
fn live_spec<'a>(image: &'a MetadataImage, topic: &Topic) -> Result<&'a TopicSpec, BrokerError> {
    image
        .topic(topic.tenant(), topic.name())
        .filter(|spec| spec.id == topic.id())
        .ok_or_else(|| BrokerError::TopicNotFound(topic.name().to_string()))
}
