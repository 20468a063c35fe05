//! The metadata image: every tenant, topic spec, API key, quota and producer-id block, as
//! plain data.
//!
//! Owns the rules of metadata: `validate` says whether a command may be made durable now,
//! `apply` turns the image into the next one. Both are pure: no I/O, no clock, no locks, so the
//! image can be tested command in, image out, and a Raft state machine can call the same
//! `apply`. Must not hold open partitions (the catalog does) or know how commands are stored.
//!
//! `apply` is total: it never refuses. A command in the log was validated against the image it
//! was appended to, and replaying it must rebuild that image even when a setting that
//! validation reads (a quota default, the partition limit) has changed since; a command naming
//! what no longer exists is a no-op.

use std::collections::BTreeMap;

use super::command::{
    Command, CoordinatorCmd, Imported, NodeCmd, NodeSpec, ProducerIdCmd, TenancyCmd, TopicCmd,
};
use crate::groups::OFFSETS_SHARDS;
use crate::tenancy::{ApiKey, KEYS_PER_TENANT_MAX, Quotas};
use crate::{BrokerError, TenantId, TopicConfig, TopicName};

/// Longest address a node registers, in bytes.
pub const NODE_ADDR_BYTES_MAX: usize = 255;
/// Longest rack name, in bytes.
pub const RACK_BYTES_MAX: usize = 64;
/// Longest token-verifying JWKS a node registers, in bytes.
pub const TOKEN_JWKS_BYTES_MAX: usize = 16 << 10;

/// The node settings validation reads besides the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Quotas of tenants without their own.
    pub quota_defaults: Quotas,
    /// Most partitions one topic may have.
    pub topic_partitions_max: u32,
}

/// A topic as the metadata knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub id: u64,
    pub tenant: TenantId,
    pub name: TopicName,
    pub partitions: u32,
    pub config: TopicConfig,
    /// Each partition's nodes, leader first (one node each until replication). Empty for a
    /// partition placed while no node was registered (a node run alone): every node that
    /// has the topic hosts it, until the first node registers and adopts it.
    pub replicas: Vec<Vec<u32>>,
}

impl TopicSpec {
    /// Partition `p`'s leader, when it is placed.
    pub fn leader(&self, p: u32) -> Option<u32> {
        self.replicas
            .get(usize::try_from(p).ok()?)
            .and_then(|r| r.first().copied())
    }

    /// Whether node `node` (`None`: a node that hosts everything) hosts partition `p`.
    pub fn hosted_on(&self, p: u32, node: Option<u32>) -> bool {
        let replicas = usize::try_from(p).ok().and_then(|p| self.replicas.get(p));
        match (node, replicas) {
            (None, _) | (_, None) => true,
            (Some(n), Some(r)) => r.is_empty() || r.contains(&n),
        }
    }
}

/// A tenant as the metadata knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantImage {
    /// See `TenancyCmd::CreateTenant`.
    pub incarnation: u64,
    /// Its own quotas; `None`: the node's defaults.
    pub quotas: Option<Quotas>,
    /// Its topics' ids by name.
    pub topics: BTreeMap<TopicName, u64>,
}

/// All metadata at one point of the command log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataImage {
    /// Commands applied so far: the image after the log's first `version` commands.
    version: u64,
    tenants: BTreeMap<TenantId, TenantImage>,
    topics: BTreeMap<u64, TopicSpec>,
    /// Never reused, even after the topic with the highest id is deleted.
    next_topic_id: u64,
    /// API keys by id, revoked ones included.
    keys: BTreeMap<String, ApiKey>,
    /// The reserved block of idempotent producer ids (`start..end`).
    producer_ids: (i64, i64),
    /// The registered nodes of a cluster, by id.
    nodes: BTreeMap<u32, NodeSpec>,
    /// Placed shards of group coordination: shard → its nodes, leader first.
    coordinators: BTreeMap<u32, Vec<u32>>,
}

impl MetadataImage {
    /// Whether the image holds nothing (no tenant, topic, key or producer id was ever made:
    /// the state an `Import` applies to).
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
            && self.topics.is_empty()
            && self.keys.is_empty()
            && self.next_topic_id == 0
            && self.producer_ids.1 == 0
    }

    /// The registered nodes, by id.
    pub fn nodes(&self) -> &BTreeMap<u32, NodeSpec> {
        &self.nodes
    }

    /// The node that coordinates the groups of shard `shard`; `None` while it is unplaced.
    pub fn coordinator(&self, shard: u32) -> Option<u32> {
        self.coordinators
            .get(&shard)
            .and_then(|r| r.first().copied())
    }

    /// The placed shards of group coordination, each with its nodes (leader first).
    pub fn coordinators(&self) -> &BTreeMap<u32, Vec<u32>> {
        &self.coordinators
    }

    /// Where a new shard of group coordination goes: the live node coordinating the fewest
    /// shards (the lowest id among equals); `None` with no live node.
    pub fn coordinator_for_new_shard(&self) -> Option<u32> {
        let mut load: BTreeMap<u32, usize> = self
            .nodes
            .values()
            .filter(|n| !n.fenced)
            .map(|n| (n.id, 0))
            .collect();
        for leader in self.coordinators.values().filter_map(|r| r.first()) {
            if let Some(count) = load.get_mut(leader) {
                *count += 1;
            }
        }
        load.into_iter()
            .min_by_key(|&(id, count)| (count, id))
            .map(|(id, _)| id)
    }

    /// Whether this image holds what `imported` carries: its tenants, keys and topics (by
    /// id, tenant and name). An upgrade that stopped after its import was committed finds it
    /// here on the next start.
    pub fn holds(&self, imported: &MetadataImage) -> bool {
        imported
            .tenants
            .keys()
            .all(|t| self.tenants.contains_key(t))
            && imported.keys.keys().all(|k| self.keys.contains_key(k))
            && imported.topics.values().all(|t| {
                self.topics
                    .get(&t.id)
                    .is_some_and(|s| s.tenant == t.tenant && s.name == t.name)
            })
    }

    /// This image as an `Import` command.
    pub fn to_import(&self) -> Command {
        Command::Import(Imported {
            next_topic_id: self.next_topic_id,
            commands: self.to_commands(),
        })
    }

    /// Commands applied to reach this image.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn tenants(&self) -> impl Iterator<Item = (&TenantId, &TenantImage)> {
        self.tenants.iter()
    }

    pub fn tenant(&self, tenant: &TenantId) -> Option<&TenantImage> {
        self.tenants.get(tenant)
    }

    /// Every topic, by id.
    pub fn topics(&self) -> &BTreeMap<u64, TopicSpec> {
        &self.topics
    }

    /// The topic `name` of `tenant`.
    pub fn topic(&self, tenant: &TenantId, name: &TopicName) -> Option<&TopicSpec> {
        let id = self.tenants.get(tenant)?.topics.get(name)?;
        self.topics.get(id)
    }

    pub fn next_topic_id(&self) -> u64 {
        self.next_topic_id
    }

    pub fn key(&self, id: &str) -> Option<&ApiKey> {
        self.keys.get(id)
    }

    pub fn keys(&self) -> impl Iterator<Item = &ApiKey> {
        self.keys.values()
    }

    /// End of the reserved producer-id block: every id below it may have been handed out.
    pub fn producer_ids_end(&self) -> i64 {
        self.producer_ids.1
    }

    /// The quotas in force for `tenant`: its own, or `defaults`.
    pub fn quotas(&self, tenant: &TenantId, defaults: Quotas) -> Quotas {
        self.tenants
            .get(tenant)
            .and_then(|t| t.quotas)
            .unwrap_or(defaults)
    }

    /// Live keys of `tenant` at `now_ms`.
    pub fn live_keys(&self, tenant: &TenantId, now_ms: u64) -> usize {
        self.keys
            .values()
            .filter(|k| &k.tenant == tenant && k.usable(now_ms))
            .count()
    }

    /// Partitions of all of `tenant`'s topics.
    fn partitions_of(&self, tenant: &TenantImage) -> u64 {
        tenant
            .topics
            .values()
            .filter_map(|id| self.topics.get(id))
            .map(|t| u64::from(t.partitions))
            .sum()
    }

    /// `command` with the values this image assigns (a new topic's id, the start of the next
    /// producer-id block, keeping its size) taken from this image: a command built on another
    /// node's older image is rebased onto the controller's before it is validated.
    pub fn rebase(&self, command: Command) -> Command {
        match command {
            Command::Topic(TopicCmd::Create {
                tenant,
                name,
                partitions,
                config,
                replicas,
                ..
            }) => Command::Topic(TopicCmd::Create {
                id: self.next_topic_id,
                tenant,
                name,
                partitions,
                config,
                replicas,
            }),
            Command::ProducerIds(ProducerIdCmd::Reserve { start, end }) => {
                let start_now = self.producer_ids.1;
                Command::ProducerIds(ProducerIdCmd::Reserve {
                    start: start_now,
                    end: start_now + (end - start),
                })
            }
            other => other,
        }
    }

    /// Whether `command` may be applied to this image, under `policy`. Checks what the image
    /// can tell: existence, names, counts and quotas. What depends on the caller (rights)
    /// is checked before the command is built.
    pub fn validate(&self, command: &Command, policy: &Policy) -> Result<(), BrokerError> {
        match command {
            Command::Topic(c) => self.validate_topic(c, policy),
            Command::Tenancy(c) => self.validate_tenancy(c),
            Command::Import(imported) => {
                if !self.is_empty() {
                    return Err(BrokerError::InvalidRequest(
                        "metadata can be imported only into an empty cluster, and this one \
                         already holds some"
                            .into(),
                    ));
                }
                if imported
                    .commands
                    .iter()
                    .any(|c| matches!(c, Command::Import(_)))
                {
                    return Err(BrokerError::InvalidRequest(
                        "an import cannot hold another import".into(),
                    ));
                }
                Ok(())
            }
            Command::Node(c) => self.validate_node(c),
            Command::Coordinator(CoordinatorCmd::Place { shard, replicas }) => {
                if *shard >= OFFSETS_SHARDS {
                    return Err(BrokerError::InvalidRequest(format!(
                        "coordination shards are 0 to {}, not {shard}",
                        OFFSETS_SHARDS - 1
                    )));
                }
                // A shard placed already is no refusal: the placement stays as it is, and the
                // node that asked (its image behind the controller's) learns where it is
                // once the no-op is applied there.
                if replicas.is_empty() || !replicas.iter().all(|r| self.nodes.contains_key(r)) {
                    return Err(BrokerError::InvalidRequest(format!(
                        "coordination shard {shard} must be placed on registered nodes, not {replicas:?}"
                    )));
                }
                Ok(())
            }
            Command::ProducerIds(ProducerIdCmd::Reserve { start, end }) => {
                if *start != self.producer_ids.1 || end <= start {
                    return Err(BrokerError::Internal(format!(
                        "producer ids {start}..{end} do not follow the reserved block ending at {}",
                        self.producer_ids.1
                    )));
                }
                Ok(())
            }
        }
    }

    fn validate_node(&self, command: &NodeCmd) -> Result<(), BrokerError> {
        match command {
            NodeCmd::Register(n) => {
                if n.id == 0 || i32::try_from(n.id).is_err() {
                    return Err(BrokerError::InvalidRequest(format!(
                        "node ids are 1 to {}, not {}",
                        i32::MAX,
                        n.id
                    )));
                }
                let addr_ok = |a: &str| !a.is_empty() && a.len() <= NODE_ADDR_BYTES_MAX;
                if !addr_ok(&n.http_addr) || !addr_ok(&n.grpc_addr) {
                    return Err(BrokerError::InvalidRequest(format!(
                        "a node's addresses are 1 to {NODE_ADDR_BYTES_MAX} bytes"
                    )));
                }
                if n.rack.as_ref().is_some_and(|r| {
                    r.is_empty() || r.len() > RACK_BYTES_MAX || r.chars().any(|c| c.is_control())
                }) {
                    return Err(BrokerError::InvalidRequest(format!(
                        "a rack is 1 to {RACK_BYTES_MAX} bytes of printable text"
                    )));
                }
                if n.token_jwks
                    .as_ref()
                    .is_some_and(|j| j.len() > TOKEN_JWKS_BYTES_MAX)
                {
                    return Err(BrokerError::InvalidRequest(format!(
                        "a node's token keys are at most {TOKEN_JWKS_BYTES_MAX} bytes"
                    )));
                }
                Ok(())
            }
            NodeCmd::Fence { id } | NodeCmd::Unfence { id } | NodeCmd::Unregister { id } => {
                if self.nodes.contains_key(id) {
                    Ok(())
                } else {
                    Err(BrokerError::InvalidRequest(format!(
                        "node {id} is not registered"
                    )))
                }
            }
        }
    }

    fn validate_topic(&self, command: &TopicCmd, policy: &Policy) -> Result<(), BrokerError> {
        match command {
            TopicCmd::Create {
                id,
                tenant,
                name,
                partitions,
                config,
                replicas,
            } => {
                check_partition_count(*partitions, policy)?;
                if let Some(r) = replicas
                    && (u32::try_from(r.len()) != Ok(*partitions)
                        || r.iter().flatten().any(|n| !self.nodes.contains_key(n)))
                {
                    return Err(BrokerError::InvalidRequest(format!(
                        "a placement of {partitions} partitions names {} and only registered nodes",
                        r.len()
                    )));
                }
                config.validate()?;
                let t = self.known(tenant)?;
                if t.topics.contains_key(name) {
                    return Err(BrokerError::TopicAlreadyExists(name.to_string()));
                }
                if *id != self.next_topic_id {
                    return Err(BrokerError::Internal(format!(
                        "new topic id {id} is not the next id {}",
                        self.next_topic_id
                    )));
                }
                self.check_counts(tenant, t, 1, u64::from(*partitions), policy)
            }
            TopicCmd::Alter {
                id,
                partitions,
                config,
            } => {
                let spec = self.spec(*id)?;
                if *partitions < spec.partitions {
                    return Err(BrokerError::InvalidPartitions(format!(
                        "partitions can only be added: topic has {}, asked for {partitions}",
                        spec.partitions
                    )));
                }
                check_partition_count(*partitions, policy)?;
                config.validate()?;
                let added = u64::from(partitions - spec.partitions);
                let t = self.known(&spec.tenant)?;
                self.check_counts(&spec.tenant, t, 0, added, policy)
            }
            TopicCmd::Delete { id } => self.spec(*id).map(|_| ()),
        }
    }

    fn validate_tenancy(&self, command: &TenancyCmd) -> Result<(), BrokerError> {
        match command {
            TenancyCmd::CreateTenant { tenant, .. } => {
                if self.tenants.contains_key(tenant) {
                    return Err(BrokerError::TenantAlreadyExists(tenant.to_string()));
                }
                Ok(())
            }
            TenancyCmd::DeleteTenant { tenant } => {
                let topics = self.known(tenant)?.topics.len();
                if topics > 0 {
                    return Err(BrokerError::TenantNotEmpty(format!(
                        "tenant {tenant:?} still has {topics} topics"
                    )));
                }
                Ok(())
            }
            TenancyCmd::CreateKey(key) => {
                self.known(&key.tenant)?;
                if self.keys.contains_key(&key.id) {
                    return Err(BrokerError::Internal(format!("key id {} is taken", key.id)));
                }
                if self.live_keys(&key.tenant, key.created_ms) >= KEYS_PER_TENANT_MAX {
                    return Err(BrokerError::CountQuotaExceeded(format!(
                        "tenant {} has {KEYS_PER_TENANT_MAX} live keys, the most allowed",
                        key.tenant
                    )));
                }
                Ok(())
            }
            TenancyCmd::RevokeKey { id, at_ms } => {
                let key = match self.keys.get(id) {
                    Some(k) if k.revoked_ms.is_none() => k,
                    _ => return Err(BrokerError::KeyNotFound(id.clone())),
                };
                if key.is_admin() && self.live_admin_keys(*at_ms) <= 1 {
                    return Err(BrokerError::Forbidden(format!(
                        "key {id} is the last live admin key; create another admin key before revoking it"
                    )));
                }
                Ok(())
            }
            TenancyCmd::SetQuotas { tenant, .. } => self.known(tenant).map(|_| ()),
        }
    }

    fn known(&self, tenant: &TenantId) -> Result<&TenantImage, BrokerError> {
        self.tenants
            .get(tenant)
            .ok_or_else(|| BrokerError::TenantNotFound(tenant.to_string()))
    }

    fn spec(&self, id: u64) -> Result<&TopicSpec, BrokerError> {
        self.topics
            .get(&id)
            .ok_or_else(|| BrokerError::TopicNotFound(format!("topic id {id}")))
    }

    /// Live keys holding `admin`, in every tenant.
    fn live_admin_keys(&self, now_ms: u64) -> usize {
        self.keys
            .values()
            .filter(|k| k.usable(now_ms) && k.is_admin())
            .count()
    }

    /// Refuses a new topic or more partitions past the tenant's count quotas. Only what adds
    /// is refused: a tenant already over a lowered quota can still change its topics.
    fn check_counts(
        &self,
        name: &TenantId,
        tenant: &TenantImage,
        new_topics: u64,
        new_partitions: u64,
        policy: &Policy,
    ) -> Result<(), BrokerError> {
        let q = tenant.quotas.unwrap_or(policy.quota_defaults);
        let topics = u64::try_from(tenant.topics.len()).unwrap_or(u64::MAX);
        let partitions = self.partitions_of(tenant);
        if new_topics > 0 && q.topics != 0 && topics + new_topics > q.topics {
            return Err(BrokerError::CountQuotaExceeded(format!(
                "tenant {name} may have {} topics and has {topics}",
                q.topics
            )));
        }
        if new_partitions > 0 && q.partitions != 0 && partitions + new_partitions > q.partitions {
            return Err(BrokerError::CountQuotaExceeded(format!(
                "tenant {name} may have {} partitions and has {partitions}; {new_partitions} more asked for",
                q.partitions
            )));
        }
        Ok(())
    }

    /// The image after `command`. Never refuses (see the module header).
    pub fn apply(&mut self, command: &Command) {
        match command {
            Command::Topic(c) => self.apply_topic(c),
            Command::Tenancy(c) => self.apply_tenancy(c),
            Command::ProducerIds(ProducerIdCmd::Reserve { start, end }) => {
                self.producer_ids = (*start, *end);
            }
            Command::Node(c) => self.apply_node(c),
            Command::Coordinator(CoordinatorCmd::Place { shard, replicas }) => {
                self.coordinators
                    .entry(*shard)
                    .or_insert_with(|| replicas.clone());
            }
            // Into anything but an empty image it is a no-op (validation refuses it there).
            Command::Import(imported) if self.is_empty() => {
                // Counts as one command, whatever it holds.
                let version = self.version;
                for command in &imported.commands {
                    if !matches!(command, Command::Import(_)) {
                        self.apply(command);
                    }
                }
                self.version = version;
                self.next_topic_id = self.next_topic_id.max(imported.next_topic_id);
            }
            Command::Import(_) => {}
        }
        self.version += 1;
    }

    fn apply_node(&mut self, command: &NodeCmd) {
        match command {
            NodeCmd::Register(n) => {
                // The first node to register adopts what was placed while none was (a node
                // run alone that became the first node of a cluster).
                if self.nodes.is_empty() {
                    for spec in self.topics.values_mut() {
                        for replicas in spec.replicas.iter_mut().filter(|r| r.is_empty()) {
                            replicas.push(n.id);
                        }
                    }
                }
                self.nodes.insert(
                    n.id,
                    NodeSpec {
                        fenced: false,
                        ..n.clone()
                    },
                );
            }
            NodeCmd::Fence { id } | NodeCmd::Unfence { id } => {
                if let Some(n) = self.nodes.get_mut(id) {
                    n.fenced = matches!(command, NodeCmd::Fence { .. });
                }
            }
            NodeCmd::Unregister { id } => {
                self.nodes.remove(id);
            }
        }
    }

    /// Places partitions `range` of topic `id` on the registered nodes, live ones first:
    /// racks interleaved, each topic starting at another node (by its id), one node per
    /// partition (replication adds followers). With no node registered (a node run alone)
    /// they stay unplaced.
    fn place(&self, id: u64, range: std::ops::Range<u32>) -> Vec<Vec<u32>> {
        let order = self.placement_order();
        if order.is_empty() {
            return range.map(|_| Vec::new()).collect();
        }
        let n = u64::try_from(order.len()).expect("a node count fits in u64");
        range
            .map(|p| {
                let at = usize::try_from((id + u64::from(p)) % n).expect("below the node count");
                vec![order[at]]
            })
            .collect()
    }

    /// The nodes partitions are placed on, in turn: the live ones (all, when every node is
    /// fenced), one from each rack at a time, by id within a rack.
    fn placement_order(&self) -> Vec<u32> {
        let live: Vec<&NodeSpec> = self.nodes.values().filter(|n| !n.fenced).collect();
        let pool = if live.is_empty() {
            self.nodes.values().collect()
        } else {
            live
        };
        let mut racks: BTreeMap<Option<&str>, Vec<u32>> = BTreeMap::new();
        for node in pool {
            racks.entry(node.rack.as_deref()).or_default().push(node.id);
        }
        let deepest = racks.values().map(Vec::len).max().unwrap_or(0);
        (0..deepest)
            .flat_map(|i| racks.values().filter_map(move |ids| ids.get(i).copied()))
            .collect()
    }

    fn apply_topic(&mut self, command: &TopicCmd) {
        match command {
            TopicCmd::Create {
                id,
                tenant,
                name,
                partitions,
                config,
                replicas,
            } => {
                self.next_topic_id = self.next_topic_id.max(id + 1);
                let replicas = replicas
                    .clone()
                    .unwrap_or_else(|| self.place(*id, 0..*partitions));
                let topics = &mut self.tenants.entry(tenant.clone()).or_default().topics;
                if let Some(old) = topics.insert(name.clone(), *id) {
                    self.topics.remove(&old);
                }
                let spec = TopicSpec {
                    id: *id,
                    tenant: tenant.clone(),
                    name: name.clone(),
                    partitions: *partitions,
                    config: config.clone(),
                    replicas,
                };
                self.topics.insert(*id, spec);
            }
            TopicCmd::Alter {
                id,
                partitions,
                config,
            } => {
                let Some(before) = self.topics.get(id).map(|s| s.partitions) else {
                    return;
                };
                // Partitions are only ever added; the new ones are placed now.
                let added = self.place(*id, before..(*partitions).max(before));
                if let Some(spec) = self.topics.get_mut(id) {
                    spec.partitions = spec.partitions.max(*partitions);
                    spec.replicas
                        .resize(usize::try_from(before).unwrap_or(0), Vec::new());
                    spec.replicas.extend(added);
                    spec.config = config.clone();
                }
            }
            TopicCmd::Delete { id } => {
                if let Some(spec) = self.topics.remove(id)
                    && let Some(t) = self.tenants.get_mut(&spec.tenant)
                {
                    t.topics.remove(&spec.name);
                }
            }
        }
    }

    fn apply_tenancy(&mut self, command: &TenancyCmd) {
        match command {
            TenancyCmd::CreateTenant {
                tenant,
                incarnation,
            } => {
                self.tenants.entry(tenant.clone()).or_default().incarnation = *incarnation;
            }
            TenancyCmd::DeleteTenant { tenant } => {
                if let Some(t) = self.tenants.remove(tenant) {
                    for id in t.topics.values() {
                        self.topics.remove(id);
                    }
                }
                self.keys.retain(|_, k| &k.tenant != tenant);
            }
            TenancyCmd::CreateKey(key) => {
                self.keys.insert(key.id.clone(), key.clone());
            }
            TenancyCmd::RevokeKey { id, at_ms } => {
                if let Some(k) = self.keys.get_mut(id) {
                    k.revoked_ms = Some(*at_ms);
                }
            }
            TenancyCmd::SetQuotas { tenant, quotas } => {
                if let Some(t) = self.tenants.get_mut(tenant) {
                    t.quotas = Some(*quotas);
                }
            }
        }
    }

    /// Commands that rebuild this image from an empty one (for a snapshot): tenants with their
    /// quotas, topics as they are now, keys (revoked ones revoked), the producer-id block.
    /// The version and the next topic id are not commands: the snapshot keeps them beside.
    pub fn to_commands(&self) -> Vec<Command> {
        let mut out = Vec::new();
        for (name, t) in &self.tenants {
            out.push(
                TenancyCmd::CreateTenant {
                    tenant: name.clone(),
                    incarnation: t.incarnation,
                }
                .into(),
            );
            if let Some(quotas) = t.quotas {
                out.push(
                    TenancyCmd::SetQuotas {
                        tenant: name.clone(),
                        quotas,
                    }
                    .into(),
                );
            }
        }
        // Nodes before topics: a first registration adopts unplaced partitions, and these
        // carry their placement.
        for node in self.nodes.values() {
            let registered = NodeSpec {
                fenced: false,
                ..node.clone()
            };
            out.push(NodeCmd::Register(registered).into());
            if node.fenced {
                out.push(NodeCmd::Fence { id: node.id }.into());
            }
        }
        for (shard, replicas) in &self.coordinators {
            let (shard, replicas) = (*shard, replicas.clone());
            out.push(CoordinatorCmd::Place { shard, replicas }.into());
        }
        for spec in self.topics.values() {
            out.push(
                TopicCmd::Create {
                    id: spec.id,
                    tenant: spec.tenant.clone(),
                    name: spec.name.clone(),
                    partitions: spec.partitions,
                    config: spec.config.clone(),
                    replicas: Some(spec.replicas.clone()),
                }
                .into(),
            );
        }
        for key in self.keys.values() {
            let created = ApiKey {
                revoked_ms: None,
                ..key.clone()
            };
            out.push(TenancyCmd::CreateKey(created).into());
            if let Some(at_ms) = key.revoked_ms {
                let id = key.id.clone();
                out.push(TenancyCmd::RevokeKey { id, at_ms }.into());
            }
        }
        let (start, end) = self.producer_ids;
        if end > 0 {
            out.push(ProducerIdCmd::Reserve { start, end }.into());
        }
        out
    }

    /// Rebuilds an image from a snapshot's commands and the values kept beside them.
    pub fn from_snapshot(version: u64, next_topic_id: u64, commands: &[Command]) -> Self {
        let mut image = MetadataImage::default();
        for command in commands {
            image.apply(command);
        }
        image.version = version;
        image.next_topic_id = image.next_topic_id.max(next_topic_id);
        image
    }
}

fn check_partition_count(partitions: u32, policy: &Policy) -> Result<(), BrokerError> {
    let max = policy.topic_partitions_max;
    if partitions == 0 || partitions > max {
        return Err(BrokerError::InvalidPartitions(format!(
            "partitions must be between 1 and topic_partitions_max {max}, got {partitions}"
        )));
    }
    Ok(())
}
