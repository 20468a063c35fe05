//! Target assignment of partitions to the members of a consumer group (KIP-848 style, computed
//! by the server): the `uniform` strategy (sticky and balanced) and the `range` strategy.
//!
//! Owns only the arithmetic of who should own which partition, as a pure function of the
//! members, the partition counts and the previous target. Must not know generations,
//! heartbeats, revocation or offsets: the coordinator turns a target into revoke-then-assign
//! steps. Must stay deterministic — no randomness, no dependence on hashed iteration order —
//! because every node computing a target from the same inputs must agree.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::BrokerError;

/// Which strategy computes the target assignment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Assignor {
    /// Sticky and balanced: keeps previous owners and moves only as many partitions as balance
    /// needs.
    #[default]
    Uniform,
    /// Kafka's RangeAssignor: per topic, its subscribers sorted by id get contiguous ranges,
    /// the first ones one partition more. Not sticky.
    Range,
}

impl Assignor {
    /// Every strategy, the default first.
    pub const ALL: [Assignor; 2] = [Assignor::Uniform, Assignor::Range];

    /// Lowercase name as used in configs and APIs (`uniform`, `range`).
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Uniform => "uniform",
            Assignor::Range => "range",
        }
    }
}

impl FromStr for Assignor {
    type Err = BrokerError;

    /// Parses a name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Assignor::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                BrokerError::InvalidRequest(format!(
                    "unknown assignor {s:?}: expected uniform or range"
                ))
            })
    }
}

/// A target assignment: member id → topic → partitions.
pub type Assignment = BTreeMap<String, BTreeMap<String, BTreeSet<u32>>>;

/// A group member as the assignor sees it.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Member id; unique in the group (a repeated id keeps its first subscription).
    pub id: &'a str,
    /// Topics the member subscribes to.
    pub topics: &'a BTreeSet<String>,
}

/// Computes the target assignment.
///
/// `partitions` maps a topic to its partition count; a topic missing there has none.
/// `previous` is the previous target, used by `Uniform` to keep owners; entries for departed
/// members, unsubscribed or shrunk topics, and partitions claimed twice (the lower member id
/// wins) are ignored. Every member appears in the result, possibly with nothing; a topic
/// appears under a member only when it holds at least one of its partitions.
pub fn assign(
    assignor: Assignor,
    members: &[Member<'_>],
    partitions: &BTreeMap<String, u32>,
    previous: &Assignment,
) -> Assignment {
    let subs = Subscriptions::new(members, partitions);
    let owners = match assignor {
        Assignor::Uniform => uniform(&subs, previous),
        Assignor::Range => range(&subs),
    };
    subs.to_assignment(&owners)
}

/// A topic with partitions and subscribers.
#[derive(Debug)]
struct Topic<'a> {
    name: &'a str,
    partitions: u32,
    /// Index of its subscriber set in `Subscriptions::classes`.
    class: usize,
}

/// The inputs, indexed. Topics with the same subscribers share a class, so a group whose
/// members all subscribe alike has one class however many topics it reads.
#[derive(Debug)]
struct Subscriptions<'a> {
    /// Member ids, sorted and unique: a member's index is its rank, so ties broken by index
    /// are ties broken by id.
    ids: Vec<&'a str>,
    /// Each member's subscription.
    subscribed: Vec<&'a BTreeSet<String>>,
    /// Topics with at least one partition and one subscriber, sorted by name.
    topics: Vec<Topic<'a>>,
    /// Per class, its members (indices, ascending).
    classes: Vec<Vec<usize>>,
    /// Per member, the classes it belongs to.
    member_classes: Vec<Vec<usize>>,
}

impl<'a> Subscriptions<'a> {
    fn new(members: &[Member<'a>], partitions: &'a BTreeMap<String, u32>) -> Subscriptions<'a> {
        let mut by_id: BTreeMap<&'a str, &'a BTreeSet<String>> = BTreeMap::new();
        for m in members {
            by_id.entry(m.id).or_insert(m.topics);
        }
        let (ids, subscribed): (Vec<_>, Vec<_>) = by_id.into_iter().unzip();
        let cohorts = cohorts(&subscribed);
        let mut class_of: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
        let mut classes = Vec::new();
        let mut topics = Vec::new();
        for (name, (count, in_cohorts)) in topic_cohorts(&cohorts, partitions) {
            let class = *class_of.entry(in_cohorts).or_insert_with_key(|in_cohorts| {
                let mut members: Vec<usize> = in_cohorts
                    .iter()
                    .flat_map(|&c| cohorts[c].1.iter().copied())
                    .collect();
                members.sort_unstable();
                classes.push(members);
                classes.len() - 1
            });
            topics.push(Topic {
                name,
                partitions: count,
                class,
            });
        }
        let mut member_classes = vec![Vec::new(); ids.len()];
        for (c, members) in classes.iter().enumerate() {
            for &m in members {
                member_classes[m].push(c);
            }
        }
        Subscriptions {
            ids,
            subscribed,
            topics,
            classes,
            member_classes,
        }
    }

    fn member(&self, id: &str) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    fn topic(&self, name: &str) -> Option<usize> {
        self.topics.binary_search_by(|t| t.name.cmp(name)).ok()
    }

    /// Turns per-topic, per-partition owner indices into the public shape.
    fn to_assignment(&self, owners: &[Vec<usize>]) -> Assignment {
        let mut out: Assignment = self
            .ids
            .iter()
            .map(|id| (id.to_string(), BTreeMap::new()))
            .collect();
        for (topic, owners) in self.topics.iter().zip(owners) {
            for (partition, &m) in (0u32..).zip(owners) {
                out.get_mut(self.ids[m])
                    .expect("owner is a member")
                    .entry(topic.name.to_owned())
                    .or_default()
                    .insert(partition);
            }
        }
        out
    }
}

/// Members subscribing alike, as (subscription, member indices). Topics are matched per
/// cohort rather than per member, which keeps the common case (everyone reads the same topics)
/// linear in the number of members.
fn cohorts<'a>(subscribed: &[&'a BTreeSet<String>]) -> Vec<(&'a BTreeSet<String>, Vec<usize>)> {
    let mut cohorts: BTreeMap<&BTreeSet<String>, Vec<usize>> = BTreeMap::new();
    for (m, topics) in subscribed.iter().enumerate() {
        cohorts.entry(*topics).or_default().push(m);
    }
    cohorts.into_iter().collect()
}

/// Per topic with partitions and subscribers, by name: its partition count and the cohorts
/// (indices, ascending) subscribing to it.
fn topic_cohorts<'a>(
    cohorts: &[(&BTreeSet<String>, Vec<usize>)],
    partitions: &'a BTreeMap<String, u32>,
) -> BTreeMap<&'a str, (u32, Vec<usize>)> {
    let mut out: BTreeMap<&'a str, (u32, Vec<usize>)> = BTreeMap::new();
    for (c, (topics, _)) in cohorts.iter().enumerate() {
        for name in topics.iter() {
            if let Some((name, &count)) = partitions.get_key_value(name)
                && count > 0
            {
                out.entry(name).or_insert((count, vec![])).1.push(c);
            }
        }
    }
    out
}

/// Kafka's RangeAssignor: per topic, subscribers sorted by id get contiguous ranges.
fn range(subs: &Subscriptions<'_>) -> Vec<Vec<usize>> {
    subs.topics
        .iter()
        .map(|topic| {
            let members = &subs.classes[topic.class];
            let count = index(topic.partitions);
            let (share, extra) = (count / members.len(), count % members.len());
            let mut owners = Vec::with_capacity(count);
            for (rank, &m) in members.iter().enumerate() {
                let len = share + usize::from(rank < extra);
                owners.extend(std::iter::repeat_n(m, len));
            }
            debug_assert_eq!(owners.len(), count);
            owners
        })
        .collect()
}

/// Sticky and balanced: keep every valid previous owner, give the rest to the least-loaded
/// subscriber, then move partitions from the most to the least loaded member that may own
/// them until no subscriber of a topic holds two fewer partitions than a member holding one
/// of that topic's partitions.
fn uniform(subs: &Subscriptions<'_>, previous: &Assignment) -> Vec<Vec<usize>> {
    let (owned, held) = keep_previous(subs, previous);
    let mut balancer = Balancer::new(subs, held);
    // Topics with fewer subscribers first: they have fewer places to go, so placing them
    // early leaves the flexible ones to even out the loads.
    let mut order: Vec<usize> = (0..subs.topics.len()).collect();
    order.sort_by_key(|&t| (subs.classes[subs.topics[t].class].len(), t));
    for t in order {
        let class = subs.topics[t].class;
        for (partition, &taken) in (0u32..).zip(&owned[t]) {
            if !taken {
                let receiver = balancer.least_loaded(class);
                balancer.place(receiver, Held::new(t, partition));
            }
        }
    }
    balancer.rebalance();
    balancer.into_owners()
}

/// Per member, per class, the partitions it holds.
type Holdings = Vec<BTreeMap<usize, BTreeSet<Held>>>;

/// The valid part of the previous target: per topic, which partitions have an owner, and what
/// each member keeps. A partition claimed twice stays with the lower member id.
fn keep_previous(subs: &Subscriptions<'_>, previous: &Assignment) -> (Vec<Vec<bool>>, Holdings) {
    let mut owned: Vec<Vec<bool>> = subs
        .topics
        .iter()
        .map(|t| vec![false; index(t.partitions)])
        .collect();
    let mut held: Holdings = vec![BTreeMap::new(); subs.ids.len()];
    for (id, topics) in previous {
        let Some(m) = subs.member(id) else { continue };
        for (name, partitions) in topics {
            let Some(t) = subs.topic(name) else { continue };
            if !subs.subscribed[m].contains(name) {
                continue;
            }
            let topic = &subs.topics[t];
            for &p in partitions.range(..topic.partitions) {
                let taken = &mut owned[t][index(p)];
                if !*taken {
                    *taken = true;
                    let kept = Held {
                        kept: true,
                        ..Held::new(t, p)
                    };
                    held[m].entry(topic.class).or_default().insert(kept);
                }
            }
        }
    }
    (owned, held)
}

/// A partition held during balancing. The order makes a member give away first what it did
/// not own in the previous target, so balancing costs as little stickiness as it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    /// Owned by this member in the previous target.
    kept: bool,
    topic: usize,
    partition: u32,
}

impl Held {
    fn new(topic: usize, partition: u32) -> Held {
        Held {
            kept: false,
            topic,
            partition,
        }
    }
}

/// A class out of balance: `giver` holds one of its partitions and has at least two more
/// partitions than its least-loaded subscriber. Ordered so the most loaded giver (lowest id
/// on ties) comes first, then its class with the least-loaded receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Imbalance {
    giver_load: Reverse<usize>,
    giver: usize,
    receiver_load: usize,
    class: usize,
}

/// Loads and holdings, indexed so that the least-loaded subscriber of a class and the worst
/// imbalance are each one ordered-set lookup away.
#[derive(Debug)]
struct Balancer<'s, 'a> {
    subs: &'s Subscriptions<'a>,
    /// Partitions per member.
    loads: Vec<usize>,
    held: Holdings,
    /// Per class, its members by (load, index).
    by_load: Vec<BTreeSet<(usize, usize)>>,
    /// Per class, the members holding at least one of its partitions, most loaded first.
    holders: Vec<BTreeSet<(Reverse<usize>, usize)>>,
    /// Per class, its entry in `imbalances`, if any.
    imbalance: Vec<Option<Imbalance>>,
    imbalances: BTreeSet<Imbalance>,
}

impl<'s, 'a> Balancer<'s, 'a> {
    fn new(subs: &'s Subscriptions<'a>, held: Holdings) -> Balancer<'s, 'a> {
        let loads: Vec<usize> = held
            .iter()
            .map(|classes| classes.values().map(BTreeSet::len).sum())
            .collect();
        let by_load = subs
            .classes
            .iter()
            .map(|members| members.iter().map(|&m| (loads[m], m)).collect())
            .collect();
        let mut holders = vec![BTreeSet::new(); subs.classes.len()];
        for (m, classes) in held.iter().enumerate() {
            for &class in classes.keys() {
                holders[class].insert((Reverse(loads[m]), m));
            }
        }
        let mut balancer = Balancer {
            subs,
            loads,
            held,
            by_load,
            holders,
            imbalance: vec![None; subs.classes.len()],
            imbalances: BTreeSet::new(),
        };
        for class in 0..subs.classes.len() {
            balancer.refresh(class);
        }
        balancer
    }

    /// The member of `class` with the fewest partitions (lowest id on ties).
    fn least_loaded(&self, class: usize) -> usize {
        self.by_load[class].first().expect("a class has members").1
    }

    /// Moves partitions from the most to the least loaded eligible member until no class is
    /// out of balance. Each move lowers the sum of squared loads by at least two, so it ends.
    fn rebalance(&mut self) {
        while let Some(&worst) = self.imbalances.first() {
            let receiver = self.least_loaded(worst.class);
            debug_assert_ne!(receiver, worst.giver);
            let moved = self.take(worst.giver, worst.class);
            self.place(
                receiver,
                Held {
                    kept: false,
                    ..moved
                },
            );
        }
    }

    fn place(&mut self, m: usize, partition: Held) {
        let class = self.subs.topics[partition.topic].class;
        let held = self.held[m].entry(class).or_default();
        if held.is_empty() {
            self.holders[class].insert((Reverse(self.loads[m]), m));
        }
        held.insert(partition);
        self.set_load(m, self.loads[m] + 1);
    }

    fn take(&mut self, m: usize, class: usize) -> Held {
        let held = self.held[m].get_mut(&class).expect("giver holds the class");
        let partition = held.pop_first().expect("holdings are never empty");
        if held.is_empty() {
            self.held[m].remove(&class);
            self.holders[class].remove(&(Reverse(self.loads[m]), m));
        }
        self.set_load(m, self.loads[m] - 1);
        partition
    }

    fn set_load(&mut self, m: usize, load: usize) {
        let old = std::mem::replace(&mut self.loads[m], load);
        for &class in &self.subs.member_classes[m] {
            self.by_load[class].remove(&(old, m));
            self.by_load[class].insert((load, m));
            if self.holders[class].remove(&(Reverse(old), m)) {
                self.holders[class].insert((Reverse(load), m));
            }
            self.refresh(class);
        }
    }

    fn refresh(&mut self, class: usize) {
        if let Some(old) = self.imbalance[class].take() {
            self.imbalances.remove(&old);
        }
        let (Some(&(Reverse(giver_load), giver)), Some(&(receiver_load, _))) =
            (self.holders[class].first(), self.by_load[class].first())
        else {
            return;
        };
        if giver_load >= receiver_load + 2 {
            let imbalance = Imbalance {
                giver_load: Reverse(giver_load),
                giver,
                receiver_load,
                class,
            };
            self.imbalances.insert(imbalance);
            self.imbalance[class] = Some(imbalance);
        }
    }

    /// Per topic, per partition, its owner.
    fn into_owners(self) -> Vec<Vec<usize>> {
        let mut owners: Vec<Vec<usize>> = self
            .subs
            .topics
            .iter()
            .map(|t| vec![usize::MAX; index(t.partitions)])
            .collect();
        for (m, classes) in self.held.iter().enumerate() {
            for h in classes.values().flatten() {
                owners[h.topic][index(h.partition)] = m;
            }
        }
        debug_assert!(owners.iter().flatten().all(|&m| m != usize::MAX));
        owners
    }
}

/// A partition number or count as an index. Never fails: `usize` has at least 32 bits on every
/// target Weir builds for (where it has 64, the conversion compiles to nothing).
fn index(partition: u32) -> usize {
    usize::try_from(partition).expect("u32 fits in usize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Members as (id, subscription), owned so tests can lend them out as `Member`s.
    type Group = Vec<(String, BTreeSet<String>)>;

    fn group(members: &[(&str, &[&str])]) -> Group {
        members
            .iter()
            .map(|(id, topics)| (id.to_string(), names(topics)))
            .collect()
    }

    fn alike(ids: &[&str], topics: &[&str]) -> Group {
        ids.iter()
            .map(|id| (id.to_string(), names(topics)))
            .collect()
    }

    fn names(topics: &[&str]) -> BTreeSet<String> {
        topics.iter().map(|t| t.to_string()).collect()
    }

    fn counts(topics: &[(&str, u32)]) -> BTreeMap<String, u32> {
        topics.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    /// Builds an assignment from (member, topic, partitions) rows.
    fn target(rows: &[(&str, &str, &[u32])]) -> Assignment {
        let mut out = Assignment::new();
        for (member, topic, partitions) in rows {
            let topics = out.entry(member.to_string()).or_default();
            if !partitions.is_empty() {
                let held = topics.entry(topic.to_string()).or_default();
                held.extend(partitions.iter().copied());
            }
        }
        out
    }

    /// Runs the assignor and checks the result is a valid assignment.
    fn run(
        assignor: Assignor,
        group: &Group,
        partitions: &BTreeMap<String, u32>,
        previous: &Assignment,
    ) -> Assignment {
        let members: Vec<Member<'_>> = group
            .iter()
            .map(|(id, topics)| Member { id, topics })
            .collect();
        let out = assign(assignor, &members, partitions, previous);
        if let Err(e) = check_valid(group, partitions, &out) {
            panic!("invalid assignment {out:?}: {e}");
        }
        out
    }

    /// Every member appears; every partition of a subscribed topic has exactly one owner, a
    /// subscriber; nothing else is assigned.
    fn check_valid(
        group: &Group,
        partitions: &BTreeMap<String, u32>,
        out: &Assignment,
    ) -> Result<(), String> {
        let mut subscribed: BTreeMap<&str, &BTreeSet<String>> = BTreeMap::new();
        for (id, topics) in group {
            subscribed.entry(id).or_insert(topics);
        }
        if !out
            .keys()
            .map(String::as_str)
            .eq(subscribed.keys().copied())
        {
            return Err("members differ".into());
        }
        let mut seen = BTreeSet::new();
        for (member, topics) in out {
            for (topic, held) in topics {
                let count = partitions.get(topic).copied().unwrap_or(0);
                if !subscribed[member.as_str()].contains(topic) {
                    return Err(format!("{member} holds unsubscribed {topic}"));
                }
                if held.is_empty() || held.iter().any(|&p| p >= count) {
                    return Err(format!("{member} holds bad partitions of {topic}"));
                }
                for &p in held {
                    if !seen.insert((topic.as_str(), p)) {
                        return Err(format!("{topic}/{p} has two owners"));
                    }
                }
            }
        }
        let wanted: usize = partitions
            .iter()
            .filter(|(t, _)| subscribed.values().any(|s| s.contains(*t)))
            .map(|(_, &n)| n as usize)
            .sum();
        if seen.len() != wanted {
            return Err(format!("{} of {wanted} partitions assigned", seen.len()));
        }
        Ok(())
    }

    fn loads(out: &Assignment) -> BTreeMap<&str, usize> {
        out.iter()
            .map(|(m, topics)| (m.as_str(), topics.values().map(BTreeSet::len).sum()))
            .collect()
    }

    fn spread(out: &Assignment) -> usize {
        let loads = loads(out);
        let max = loads.values().max().copied().unwrap_or(0);
        max - loads.values().min().copied().unwrap_or(0)
    }

    /// Partitions of `next` whose owner differs from their owner in `previous` (the lower id
    /// when `previous` names two), counting partitions that had none.
    fn moved(previous: &Assignment, next: &Assignment) -> usize {
        let mut owner: BTreeMap<(&str, u32), &str> = BTreeMap::new();
        for (member, topics) in previous {
            for (topic, held) in topics {
                for &p in held {
                    owner.entry((topic.as_str(), p)).or_insert(member.as_str());
                }
            }
        }
        let mut moved = 0;
        for (member, topics) in next {
            for (topic, held) in topics {
                let differs =
                    |p: &&u32| owner.get(&(topic.as_str(), **p)) != Some(&member.as_str());
                moved += held.iter().filter(differs).count();
            }
        }
        moved
    }

    /// No subscriber of a topic holds two fewer partitions than a member holding one of its
    /// partitions.
    fn check_locally_balanced(group: &Group, out: &Assignment) -> Result<(), String> {
        let loads = loads(out);
        for (member, topics) in out {
            for topic in topics.keys() {
                let poorer = group.iter().find(|(id, subscribed)| {
                    subscribed.contains(topic) && loads[id.as_str()] + 2 <= loads[member.as_str()]
                });
                if let Some((id, _)) = poorer {
                    return Err(format!(
                        "{id} could take a partition of {topic} from {member}"
                    ));
                }
            }
        }
        Ok(())
    }

    #[test]
    fn uniform_assigns_every_partition_once_to_a_subscriber() {
        let g = group(&[("a", &["x", "y"]), ("b", &["y"]), ("c", &[])]);
        let p = counts(&[("x", 3), ("y", 4), ("z", 2)]);
        let out = run(Assignor::Uniform, &g, &p, &Assignment::new());
        assert!(out["c"].is_empty());
        assert!(out.values().all(|topics| !topics.contains_key("z")));
        assert_eq!(out["a"]["x"].len(), 3);
        check_locally_balanced(&g, &out).unwrap();
    }

    #[test]
    fn uniform_balances_identical_subscriptions() {
        let g = alike(&["a", "b", "c"], &["x", "y"]);
        let out = run(
            Assignor::Uniform,
            &g,
            &counts(&[("x", 5), ("y", 3)]),
            &Assignment::new(),
        );
        let mut l: Vec<usize> = loads(&out).into_values().collect();
        l.sort_unstable();
        assert_eq!(l, [2, 3, 3]);
    }

    #[test]
    fn uniform_join_moves_the_minimum() {
        let p = counts(&[("x", 6)]);
        let before = run(
            Assignor::Uniform,
            &alike(&["a", "b"], &["x"]),
            &p,
            &Assignment::new(),
        );
        let after = run(
            Assignor::Uniform,
            &alike(&["a", "b", "c"], &["x"]),
            &p,
            &before,
        );
        assert_eq!(moved(&before, &after), 2);
        assert!(loads(&after).values().all(|&n| n == 2));
        assert!(after["a"]["x"].is_subset(&before["a"]["x"]));
        assert!(after["b"]["x"].is_subset(&before["b"]["x"]));
    }

    #[test]
    fn uniform_leave_moves_only_the_leavers_partitions() {
        let p = counts(&[("x", 6)]);
        let three = alike(&["a", "b", "c"], &["x"]);
        let before = run(Assignor::Uniform, &three, &p, &Assignment::new());
        let after = run(Assignor::Uniform, &alike(&["a", "b"], &["x"]), &p, &before);
        assert_eq!(moved(&before, &after), before["c"]["x"].len());
        assert!(before["a"]["x"].is_subset(&after["a"]["x"]));
        assert!(before["b"]["x"].is_subset(&after["b"]["x"]));
        assert_eq!(spread(&after), 0);
    }

    #[test]
    fn uniform_leaves_one_of_seven_members_idle_on_six_partitions() {
        let ids = ["a", "b", "c", "d", "e", "f", "g"];
        let out = run(
            Assignor::Uniform,
            &alike(&ids, &["x"]),
            &counts(&[("x", 6)]),
            &Assignment::new(),
        );
        let l = loads(&out);
        assert_eq!(l.values().filter(|&&n| n == 0).count(), 1);
        assert_eq!(l.values().filter(|&&n| n == 1).count(), 6);
    }

    #[test]
    fn uniform_keeps_a_balanced_previous_target() {
        let previous = target(&[("a", "x", &[0, 2, 4]), ("b", "x", &[1, 3, 5])]);
        let g = alike(&["a", "b"], &["x"]);
        assert_eq!(
            run(Assignor::Uniform, &g, &counts(&[("x", 6)]), &previous),
            previous
        );
    }

    #[test]
    fn uniform_moves_shared_topics_to_members_that_can_take_them() {
        let g = group(&[("a", &["x"]), ("b", &["x", "y"])]);
        let p = counts(&[("x", 2), ("y", 4)]);
        let previous = target(&[("b", "x", &[0, 1]), ("b", "y", &[0, 1, 2, 3])]);
        let out = run(Assignor::Uniform, &g, &p, &previous);
        let expected = target(&[("a", "x", &[0, 1]), ("b", "y", &[0, 1, 2, 3])]);
        assert_eq!(out, expected);
    }

    #[test]
    fn uniform_balances_overlapping_subscriptions() {
        let g = group(&[("a", &["x"]), ("b", &["x", "y"]), ("c", &["y"])]);
        let out = run(
            Assignor::Uniform,
            &g,
            &counts(&[("x", 4), ("y", 5)]),
            &Assignment::new(),
        );
        check_locally_balanced(&g, &out).unwrap();
        assert_eq!(spread(&out), 0);
    }

    #[test]
    fn uniform_ignores_invalid_previous_entries() {
        let g = group(&[("a", &["x"]), ("b", &["x"])]);
        let previous = target(&[
            ("gone", "x", &[0]),
            ("a", "x", &[0, 1, 99]),
            ("a", "z", &[0]),
            ("b", "x", &[1, 2]),
        ]);
        let out = run(
            Assignor::Uniform,
            &g,
            &counts(&[("x", 4), ("z", 1)]),
            &previous,
        );
        assert_eq!(out, target(&[("a", "x", &[0, 1]), ("b", "x", &[2, 3])]));
    }

    #[test]
    fn topics_without_partitions_are_not_assigned() {
        let g = alike(&["a", "b"], &["x", "empty", "unknown"]);
        let p = counts(&[("x", 1), ("empty", 0)]);
        for assignor in Assignor::ALL {
            let out = run(assignor, &g, &p, &Assignment::new());
            assert_eq!(
                out,
                target(&[("a", "x", &[0]), ("b", "x", &[])]),
                "{assignor:?}"
            );
        }
    }

    #[test]
    fn empty_group_assigns_nothing() {
        let p = counts(&[("x", 3)]);
        for assignor in Assignor::ALL {
            assert!(run(assignor, &Group::new(), &p, &Assignment::new()).is_empty());
        }
    }

    #[test]
    fn repeated_member_id_keeps_its_first_subscription() {
        let g = group(&[("a", &["x"]), ("a", &["y"])]);
        let out = run(
            Assignor::Uniform,
            &g,
            &counts(&[("x", 1), ("y", 1)]),
            &Assignment::new(),
        );
        assert_eq!(out, target(&[("a", "x", &[0])]));
    }

    #[test]
    fn range_gives_the_first_members_one_extra() {
        let g = alike(&["b", "a"], &["x"]);
        let out = run(
            Assignor::Range,
            &g,
            &counts(&[("x", 5)]),
            &Assignment::new(),
        );
        assert_eq!(out, target(&[("a", "x", &[0, 1, 2]), ("b", "x", &[3, 4])]));
    }

    #[test]
    fn range_splits_each_topic_among_its_subscribers() {
        let g = group(&[("a", &["x", "y"]), ("b", &["y"]), ("c", &["x", "y"])]);
        let out = run(
            Assignor::Range,
            &g,
            &counts(&[("x", 3), ("y", 4)]),
            &Assignment::new(),
        );
        let expected = target(&[
            ("a", "x", &[0, 1]),
            ("a", "y", &[0, 1]),
            ("b", "y", &[2]),
            ("c", "x", &[2]),
            ("c", "y", &[3]),
        ]);
        assert_eq!(out, expected);
    }

    #[test]
    fn range_ignores_the_previous_target() {
        let g = alike(&["a", "b"], &["x"]);
        let previous = target(&[("b", "x", &[0, 1, 2, 3])]);
        let out = run(Assignor::Range, &g, &counts(&[("x", 4)]), &previous);
        assert_eq!(out, target(&[("a", "x", &[0, 1]), ("b", "x", &[2, 3])]));
    }

    #[test]
    fn assignor_names_round_trip_and_default_is_uniform() {
        assert_eq!(Assignor::default(), Assignor::Uniform);
        for assignor in Assignor::ALL {
            assert_eq!(assignor.name().parse::<Assignor>().unwrap(), assignor);
        }
        assert_eq!("RANGE".parse::<Assignor>().unwrap(), Assignor::Range);
    }

    #[test]
    fn unknown_assignor_is_an_invalid_request() {
        let err = "sticky".parse::<Assignor>().unwrap_err();
        assert!(matches!(err, BrokerError::InvalidRequest(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "unknown assignor \"sticky\": expected uniform or range"
        );
    }

    /// 1,000 members on 10,000 partitions: a fresh target, a leave and a join.
    #[test]
    fn large_group_rebalances_quickly() {
        let topics: Vec<String> = (0..10).map(|t| format!("t{t}")).collect();
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let ids: Vec<String> = (0..1000).map(|m| format!("m{m:04}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let p: BTreeMap<String, u32> = topics.iter().map(|t| (t.clone(), 1000)).collect();
        let all = alike(&id_refs, &topic_refs);
        let fresh = run(Assignor::Uniform, &all, &p, &Assignment::new());
        assert_eq!(spread(&fresh), 0);
        let without_one = alike(&id_refs[1..], &topic_refs);
        let left = run(Assignor::Uniform, &without_one, &p, &fresh);
        assert_eq!(moved(&fresh, &left), 10);
        assert!(spread(&left) <= 1);
        let rejoined = run(Assignor::Uniform, &all, &p, &left);
        assert_eq!(moved(&left, &rejoined), 10);
        assert_eq!(spread(&rejoined), 0);
        let ranged = run(Assignor::Range, &all, &p, &Assignment::new());
        assert_eq!(spread(&ranged), 0);
    }

    const TOPICS: usize = 4;

    fn member_id(m: usize) -> String {
        format!("m{m}")
    }

    fn topic_name(t: usize) -> String {
        format!("t{t}")
    }

    /// The topics whose bits are set in `mask` (bit i: topic i).
    fn subscription(mask: u8) -> BTreeSet<String> {
        (0..TOPICS)
            .filter(|t| mask >> t & 1 == 1)
            .map(topic_name)
            .collect()
    }

    /// Up to 8 members, each subscribing to a subset of 4 topics (bit i: topic i).
    fn any_group() -> impl Strategy<Value = Group> {
        prop::collection::btree_map(0..8usize, 0..16u8, 0..8).prop_map(|members| {
            members
                .into_iter()
                .map(|(m, mask)| (member_id(m), subscription(mask)))
                .collect()
        })
    }

    fn any_counts() -> impl Strategy<Value = BTreeMap<String, u32>> {
        prop::collection::vec(0..9u32, TOPICS).prop_map(|n| {
            n.into_iter()
                .enumerate()
                .map(|(t, n)| (topic_name(t), n))
                .collect()
        })
    }

    /// Any previous target, including departed members (m8, m9), an unknown topic (t4),
    /// partitions out of range and partitions claimed twice.
    fn any_previous() -> impl Strategy<Value = Assignment> {
        let held = prop::collection::btree_set(0..10u32, 1..6);
        let topics = prop::collection::btree_map((0..=TOPICS).prop_map(topic_name), held, 0..4);
        prop::collection::btree_map((0..10usize).prop_map(member_id), topics, 0..10)
    }

    /// A previous target without double claims: per topic, an old partition count and an
    /// optional owner per partition, drawn from current and departed members.
    fn any_single_owner_previous() -> impl Strategy<Value = Assignment> {
        let owners = prop::collection::vec(prop::option::of(0..10usize), 0..12);
        prop::collection::vec(owners, TOPICS).prop_map(|topics| {
            let mut out = Assignment::new();
            for (t, owners) in topics.into_iter().enumerate() {
                for (p, owner) in (0u32..).zip(owners) {
                    if let Some(m) = owner {
                        let held = out.entry(member_id(m)).or_default();
                        held.entry(topic_name(t)).or_default().insert(p);
                    }
                }
            }
            out
        })
    }

    /// The fewest owner changes any balanced target allows when every member subscribes
    /// alike: each member keeps at most its quota of what it validly held, and the members
    /// that held the most get the quotas that are one larger.
    fn fewest_moves(
        group: &Group,
        partitions: &BTreeMap<String, u32>,
        previous: &Assignment,
    ) -> usize {
        let subscribed = &group[0].1;
        let total: usize = subscribed
            .iter()
            .map(|t| partitions.get(t).copied().unwrap_or(0) as usize)
            .sum();
        let mut held: Vec<usize> = group
            .iter()
            .map(|(id, _)| {
                let topics = previous.get(id).into_iter().flatten();
                topics
                    .filter(|(t, _)| subscribed.contains(*t))
                    .map(|(t, ps)| ps.range(..partitions.get(t).copied().unwrap_or(0)).count())
                    .sum()
            })
            .collect();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let (quota, larger) = (total / group.len(), total % group.len());
        let kept: usize = held
            .iter()
            .enumerate()
            .map(|(rank, &h)| h.min(quota + usize::from(rank < larger)))
            .sum();
        total - kept
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_every_partition_has_one_subscribed_owner(
            g in any_group(), p in any_counts(), previous in any_previous(),
        ) {
            for assignor in Assignor::ALL {
                let members: Vec<Member<'_>> =
                    g.iter().map(|(id, topics)| Member { id, topics }).collect();
                let out = assign(assignor, &members, &p, &previous);
                check_valid(&g, &p, &out).map_err(TestCaseError::fail)?;
                let reversed: Vec<Member<'_>> = members.iter().rev().copied().collect();
                prop_assert_eq!(&assign(assignor, &reversed, &p, &previous), &out);
                prop_assert_eq!(&assign(assignor, &members, &p, &previous), &out);
            }
        }

        #[test]
        fn prop_uniform_is_locally_balanced(
            g in any_group(), p in any_counts(), previous in any_previous(),
        ) {
            let out = run(Assignor::Uniform, &g, &p, &previous);
            check_locally_balanced(&g, &out).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn prop_uniform_alike_is_balanced_and_moves_the_fewest(
            ids in prop::collection::btree_set(0..10usize, 1..8),
            mask in 0..16u8,
            p in any_counts(),
            previous in any_single_owner_previous(),
        ) {
            let topics = subscription(mask);
            let g: Group = ids.iter().map(|&m| (member_id(m), topics.clone())).collect();
            let out = run(Assignor::Uniform, &g, &p, &previous);
            prop_assert!(spread(&out) <= 1, "unbalanced: {:?}", loads(&out));
            prop_assert_eq!(moved(&previous, &out), fewest_moves(&g, &p, &previous));
        }
    }
}
