//! One group's live state: members, epochs, the target assignment and who owns what.
//!
//! Owns the reconciliation rule: a member gives up a partition (it is "revoking") and must
//! heartbeat again, or expire, before anyone else is given it, so no partition ever has two
//! owners; the rest keep consuming meanwhile. Must not do I/O: the coordinator reads offsets
//! and partitions and calls in here under its lock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::assignor::{self, Assignment, Assignor};

/// Partitions by topic.
pub type Partitions = BTreeMap<String, BTreeSet<u32>>;

/// A member of a group.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) host: String,
    pub(crate) topics: BTreeSet<String>,
    /// Bumped whenever the member's assignment changes; requests must carry the current one.
    pub(crate) epoch: i32,
    pub(crate) session_timeout: Duration,
    pub(crate) last_seen: Instant,
    /// What the member was told it owns.
    pub(crate) assigned: Partitions,
    /// Taken away in the last response; still owned until the member's next heartbeat.
    pub(crate) revoking: Partitions,
    /// Next offset to hand this member, per (topic, partition), for server-side fetches.
    pub(crate) positions: BTreeMap<(String, u32), i64>,
    /// Where the next server-side fetch starts looking, so no partition starves.
    pub(crate) cursor: usize,
}

impl Member {
    pub(crate) fn new(id: String, session_timeout: Duration, now: Instant) -> Self {
        Member {
            id,
            instance_id: None,
            client_id: String::new(),
            host: String::new(),
            topics: BTreeSet::new(),
            epoch: 0,
            session_timeout,
            last_seen: now,
            assigned: Partitions::new(),
            revoking: Partitions::new(),
            positions: BTreeMap::new(),
            cursor: 0,
        }
    }

    /// Whether the member may commit or read this partition (assigned or being revoked).
    pub(crate) fn owns(&self, topic: &str, partition: u32) -> bool {
        let has = |p: &Partitions| p.get(topic).is_some_and(|s| s.contains(&partition));
        has(&self.assigned) || has(&self.revoking)
    }

    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.last_seen) > self.session_timeout
    }
}

/// A group with live members.
#[derive(Debug)]
pub(crate) struct Group {
    /// Bumped on every membership, subscription or partition-count change.
    pub(crate) epoch: u64,
    pub(crate) assignor: Assignor,
    pub(crate) members: BTreeMap<String, Member>,
    pub(crate) target: Assignment,
    target_epoch: u64,
    partition_counts: BTreeMap<String, u32>,
    /// Current owner of each (topic, partition), whether assigned or revoking.
    owners: BTreeMap<(String, u32), String>,
    /// Sends the group epoch; waiting fetches wake on a change.
    pub(crate) changed: watch::Sender<u64>,
}

impl Group {
    pub(crate) fn new(assignor: Assignor) -> Self {
        Group {
            epoch: 0,
            assignor,
            members: BTreeMap::new(),
            target: Assignment::new(),
            target_epoch: u64::MAX,
            partition_counts: BTreeMap::new(),
            owners: BTreeMap::new(),
            changed: watch::channel(0).0,
        }
    }

    pub(crate) fn bump(&mut self) {
        self.epoch += 1;
        self.changed.send_replace(self.epoch);
    }

    /// Topics any member subscribes to.
    pub(crate) fn subscribed(&self) -> BTreeSet<String> {
        self.members
            .values()
            .flat_map(|m| m.topics.iter().cloned())
            .collect()
    }

    /// Removes members whose session ran out; returns how many.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.expired(now))
            .map(|m| m.id.clone())
            .collect();
        for id in &expired {
            tracing::info!(member = %id, "consumer group member session expired");
            self.remove(id);
        }
        expired.len()
    }

    /// Removes a member and frees everything it owned.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Member> {
        let member = self.members.remove(id)?;
        self.owners.retain(|_, owner| owner != id);
        self.bump();
        Some(member)
    }

    /// Frees what the member was giving up: it has heartbeated since it was told.
    pub(crate) fn ack_revocations(&mut self, id: &str) {
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        let revoked = std::mem::take(&mut member.revoking);
        for (topic, parts) in &revoked {
            for &p in parts {
                member.positions.remove(&(topic.clone(), p));
                self.owners.remove(&(topic.clone(), p));
            }
        }
        if !revoked.is_empty() {
            // Wake waiting fetches: the members these partitions go to can take them now.
            self.changed.send_replace(self.epoch);
        }
    }

    /// Recomputes the target assignment when membership, subscriptions or partition counts
    /// changed since the last computation.
    pub(crate) fn refresh_target(&mut self, counts: BTreeMap<String, u32>) {
        if counts != self.partition_counts {
            self.partition_counts = counts;
            self.bump();
        }
        if self.target_epoch == self.epoch {
            return;
        }
        let members: Vec<assignor::Member<'_>> = self
            .members
            .values()
            .map(|m| assignor::Member {
                id: &m.id,
                topics: &m.topics,
            })
            .collect();
        self.target = assignor::assign(
            self.assignor,
            &members,
            &self.partition_counts,
            &self.target,
        );
        self.target_epoch = self.epoch;
    }

    /// Moves a member toward its target: partitions it should no longer have become
    /// revoking; partitions it should have and nobody owns are added. Bumps the member epoch
    /// when its assignment changed.
    pub(crate) fn reconcile(&mut self, id: &str) {
        let desired = self.target.get(id).cloned().unwrap_or_default();
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        let mut changed = false;
        for (topic, parts) in &mut member.assigned {
            let keep = desired.get(topic);
            let gone: Vec<u32> = parts
                .iter()
                .copied()
                .filter(|p| !keep.is_some_and(|k| k.contains(p)))
                .collect();
            for p in gone {
                parts.remove(&p);
                member.revoking.entry(topic.clone()).or_default().insert(p);
                changed = true;
            }
        }
        member.assigned.retain(|_, parts| !parts.is_empty());
        for (topic, parts) in desired {
            for p in parts {
                let key = (topic.clone(), p);
                let owner = self.owners.get(&key);
                let mine = owner.is_some_and(|o| o == id);
                if owner.is_some() && !mine {
                    continue; // still being revoked from someone else
                }
                let revoking = member
                    .revoking
                    .get_mut(&topic)
                    .is_some_and(|r| r.remove(&p));
                if member.assigned.entry(topic.clone()).or_default().insert(p) {
                    changed = true;
                }
                changed |= revoking;
                self.owners.insert(key, id.to_owned());
            }
        }
        member.revoking.retain(|_, parts| !parts.is_empty());
        if changed {
            member.epoch += 1;
        }
    }

    /// "empty", "stable" (every member holds exactly its target) or "reconciling".
    pub(crate) fn state(&self) -> &'static str {
        if self.members.is_empty() {
            return "empty";
        }
        let settled = self.members.values().all(|m| {
            let target = self.target.get(&m.id).cloned().unwrap_or_default();
            let target: Partitions = target.into_iter().filter(|(_, p)| !p.is_empty()).collect();
            m.revoking.is_empty() && m.assigned == target
        });
        if settled { "stable" } else { "reconciling" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(group: &mut Group, id: &str, now: Instant) {
        let mut m = Member::new(id.into(), Duration::from_secs(30), now);
        m.topics.insert("t".into());
        group.members.insert(id.into(), m);
        group.bump();
    }

    fn counts() -> BTreeMap<String, u32> {
        BTreeMap::from([("t".to_owned(), 4)])
    }

    fn owned(group: &Group, id: &str) -> usize {
        group.members[id].assigned.values().map(BTreeSet::len).sum()
    }

    #[test]
    fn a_partition_moves_only_after_its_owner_lets_go() {
        let now = Instant::now();
        let mut g = Group::new(Assignor::Uniform);
        join(&mut g, "a", now);
        g.refresh_target(counts());
        g.reconcile("a");
        assert_eq!(owned(&g, "a"), 4);
        assert_eq!(g.members["a"].epoch, 1);

        join(&mut g, "b", now);
        g.refresh_target(counts());
        g.reconcile("b");
        assert_eq!(owned(&g, "b"), 0, "a still owns everything");
        g.reconcile("a");
        assert_eq!(owned(&g, "a"), 2);
        assert_eq!(
            g.members["a"]
                .revoking
                .values()
                .map(BTreeSet::len)
                .sum::<usize>(),
            2
        );
        assert_eq!(g.state(), "reconciling");
        g.reconcile("b");
        assert_eq!(owned(&g, "b"), 0, "revoking partitions are still a's");
        g.ack_revocations("a");
        g.reconcile("b");
        assert_eq!(owned(&g, "b"), 2);
        g.reconcile("a");
        assert_eq!(g.state(), "stable");
    }

    #[test]
    fn expiry_frees_partitions_at_once() {
        let now = Instant::now();
        let mut g = Group::new(Assignor::Uniform);
        join(&mut g, "a", now);
        join(&mut g, "b", now);
        g.refresh_target(counts());
        g.reconcile("a");
        g.reconcile("b");
        g.members.get_mut("a").unwrap().last_seen = now - Duration::from_secs(60);
        assert_eq!(g.expire(now), 1);
        g.refresh_target(counts());
        g.reconcile("b");
        assert_eq!(owned(&g, "b"), 4);
    }
}
