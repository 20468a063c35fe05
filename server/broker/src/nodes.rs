//! The nodes of a cluster as the metadata knows them: where clients reach each, its rack, and
//! whether the controller fenced it for silence.
//!
//! Owns registering this node, fencing and unfencing (the controller's liveness verdicts) and
//! unregistering a node that left. Must not decide liveness (the cluster crate does, from
//! heartbeats) or know Raft membership.

use crate::metadata::{NodeCmd, NodeSpec};
use crate::{Broker, BrokerError};

impl Broker {
    /// The registered nodes, by id.
    pub fn nodes(&self) -> Vec<NodeSpec> {
        self.image().nodes().values().cloned().collect()
    }

    /// Registers this node, or its new addresses or rack; proposes nothing when the metadata
    /// holds it already, live and as given.
    pub fn register_node(&self, spec: NodeSpec) -> Result<(), BrokerError> {
        let live = NodeSpec {
            fenced: false,
            ..spec
        };
        if self.image().nodes().get(&live.id) == Some(&live) {
            return Ok(());
        }
        self.propose(|_| Ok(NodeCmd::Register(live.clone()).into()))?;
        Ok(())
    }

    /// Fences node `id` (silent past its session timeout) or lifts its fence; a node already
    /// so is left alone.
    pub fn set_node_fenced(&self, id: u32, fenced: bool) -> Result<(), BrokerError> {
        self.propose(|image| {
            let now = image.nodes().get(&id).map(|n| n.fenced);
            if now == Some(fenced) {
                return Err(BrokerError::InvalidRequest(format!(
                    "node {id} is {} already",
                    if fenced { "fenced" } else { "live" }
                )));
            }
            Ok(if fenced {
                NodeCmd::Fence { id }
            } else {
                NodeCmd::Unfence { id }
            }
            .into())
        })?;
        Ok(())
    }

    /// Partitions no live node leads now: placed on a node that is fenced or gone.
    pub fn offline_partitions(&self) -> u64 {
        let image = self.image();
        let live = |id: &u32| image.nodes().get(id).is_some_and(|n| !n.fenced);
        let offline = image
            .topics()
            .values()
            .flat_map(|t| (0..t.partitions).map(move |p| t.leader(p)))
            .filter(|leader| leader.is_some_and(|l| !live(&l)))
            .count();
        u64::try_from(offline).unwrap_or(u64::MAX)
    }

    /// How many shards of group coordination each node coordinates.
    pub fn coordinator_shards(&self) -> std::collections::BTreeMap<u32, u32> {
        let mut per_node = std::collections::BTreeMap::new();
        for leader in self
            .image()
            .coordinators()
            .values()
            .filter_map(|r| r.first())
        {
            *per_node.entry(*leader).or_default() += 1;
        }
        per_node
    }

    /// Forgets node `id` (it left the cluster); a node never registered is no error.
    pub fn unregister_node(&self, id: u32) -> Result<(), BrokerError> {
        if !self.image().nodes().contains_key(&id) {
            return Ok(());
        }
        self.propose(|_| Ok(NodeCmd::Unregister { id }.into()))?;
        Ok(())
    }
}
