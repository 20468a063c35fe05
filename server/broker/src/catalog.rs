//! The catalog: this node's open topics, kept in step with the metadata image by a
//! reconciler.
//!
//! Owns the map lookups read (tenant → name → `Arc<Topic>`) and the reconciler that diffs the
//! image it last reached against a newer one: it opens new topics and partitions, applies new
//! settings, and forgets deleted topics and removes their directories (the image that no
//! longer holds them is durable, on this node or through the quorum). In a cluster it opens
//! only the partitions placed on this node, and notes where the others are led. The opening and the
//! removal (disk I/O) happen with no lock that lookups take held; the map is swapped under a
//! short write lock in between. Must not decide what exists (the image does).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use crate::metadata::{MetadataImage, TopicSpec};
use crate::topic::Placement;
use crate::{BrokerError, TenantId, Topic, TopicName};

type Tenants = BTreeMap<TenantId, BTreeMap<TopicName, Arc<Topic>>>;

/// This node's open topics.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// Where topic directories live: `<topics_dir>/<id>/<partition>`.
    topics_dir: PathBuf,
    /// This node's id in a cluster (it hosts the partitions placed on it); `None`: it hosts
    /// every partition (a node run alone, or embedded).
    node: Option<u32>,
    /// Lookups read this; the reconciler swaps entries under a short write lock.
    tenants: RwLock<Tenants>,
    /// The image the catalog matches; held while reconciling, so reconciles run one at a time.
    reached: Mutex<Arc<MetadataImage>>,
}

impl Catalog {
    /// An empty catalog (the empty image) of node `node` (see `Catalog::node`).
    pub(crate) fn new(topics_dir: PathBuf, node: Option<u32>) -> Catalog {
        Catalog {
            topics_dir,
            node,
            tenants: RwLock::new(Tenants::new()),
            reached: Mutex::new(Arc::new(MetadataImage::default())),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tenants> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }

    /// One topic of `tenant`; `None` for a tenant or topic the catalog does not hold.
    pub(crate) fn topic(&self, tenant: &TenantId, name: &TopicName) -> Option<Arc<Topic>> {
        self.read().get(tenant)?.get(name).cloned()
    }

    /// Topics of `tenant` by name; `None` for a tenant the catalog does not hold.
    pub(crate) fn topics_of(&self, tenant: &TenantId) -> Option<Vec<Arc<Topic>>> {
        Some(self.read().get(tenant)?.values().cloned().collect())
    }

    /// Every open topic.
    pub(crate) fn all(&self) -> Vec<Arc<Topic>> {
        self.read()
            .values()
            .flat_map(|t| t.values().cloned())
            .collect()
    }

    /// Brings the open topics in step with `image`. An image older than the one reached is
    /// skipped (two proposals may finish in either order). On an error the catalog keeps the
    /// image it reached, so the next reconcile retries what failed. Returns the topics the
    /// image deleted since the last one reached.
    pub(crate) fn reconcile(
        &self,
        image: &Arc<MetadataImage>,
    ) -> Result<Vec<(TenantId, TopicName)>, BrokerError> {
        let mut reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        if image.version() <= reached.version() {
            return Ok(Vec::new());
        }
        let (old, new) = (reached.topics(), image.topics());
        let added: Vec<&TopicSpec> = new.values().filter(|s| !old.contains_key(&s.id)).collect();
        let opened = crate::parallel::map(added, |spec| self.open(spec));
        let opened = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        for spec in new.values() {
            if let Some(before) = old.get(&spec.id)
                && before != spec
            {
                self.change(before, spec)?;
            }
        }
        let forgotten = old
            .values()
            .filter(|s| !new.contains_key(&s.id))
            .map(|s| (s.tenant.clone(), s.name.clone()))
            .collect();
        let deleted: Vec<Arc<Topic>> = old
            .values()
            .filter(|s| !new.contains_key(&s.id))
            .filter_map(|s| self.topic(&s.tenant, &s.name).filter(|t| t.id() == s.id))
            .collect();
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        tenants.retain(|t, _| image.tenant(t).is_some());
        for (name, t) in image.tenants() {
            let topics = tenants.entry(name.clone()).or_default();
            topics.retain(|n, topic| t.topics.get(n) == Some(&topic.id()));
        }
        for topic in opened {
            let topics = tenants.entry(topic.tenant().clone()).or_default();
            topics.insert(topic.name().clone(), topic);
        }
        drop(tenants);
        *reached = image.clone();
        for topic in deleted {
            remove_dir(topic.dir());
        }
        Ok(forgotten)
    }

    fn open(&self, spec: &TopicSpec) -> Result<Arc<Topic>, BrokerError> {
        let dir = self.topics_dir.join(spec.id.to_string());
        let topic = Topic::open(
            spec.id,
            spec.tenant.clone(),
            spec.name.clone(),
            dir,
            &self.placements(spec),
            spec.config.clone(),
        )?;
        Ok(Arc::new(topic))
    }

    /// Where `spec`'s partitions are, for this node.
    fn placements(&self, spec: &TopicSpec) -> Vec<Placement> {
        (0..spec.partitions)
            .map(|p| {
                if spec.hosted_on(p, self.node) {
                    Placement::Here
                } else {
                    Placement::Elsewhere(spec.leader(p))
                }
            })
            .collect()
    }

    /// Applies a changed spec to the open topic.
    fn change(&self, before: &TopicSpec, after: &TopicSpec) -> Result<(), BrokerError> {
        let topic = self.topic(&after.tenant, &after.name);
        let topic = topic.ok_or_else(|| {
            BrokerError::Internal(format!("topic {} changed but is not open", after.id))
        })?;
        if before.config != after.config {
            topic.set_config(after.config.clone())?;
        }
        if before.partitions != after.partitions || before.replicas != after.replicas {
            assert!(
                after.partitions >= before.partitions,
                "partitions are only added"
            );
            topic.place(&self.placements(after))?;
        }
        Ok(())
    }
}

/// Removes a deleted topic's directory; a failure is logged (start-up of a single node
/// removes what is left).
pub(crate) fn remove_dir(dir: &std::path::Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "could not remove topic data"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TopicConfig;
    use crate::metadata::{Command, TenancyCmd, TopicCmd};

    fn next(image: &Arc<MetadataImage>, command: Command) -> Arc<MetadataImage> {
        let mut next = MetadataImage::clone(image);
        next.apply(&command);
        Arc::new(next)
    }

    #[test]
    fn reconcile_opens_grows_and_forgets_topics() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path().join("topics"), None);
        let acme = TenantId::parse("acme").unwrap();
        let orders = TopicName::parse("orders").unwrap();
        let empty = Arc::new(MetadataImage::default());
        let tenant = TenancyCmd::CreateTenant {
            tenant: acme.clone(),
            incarnation: 1,
        };
        let with_tenant = next(&empty, tenant.into());
        let create = TopicCmd::Create {
            id: 0,
            tenant: acme.clone(),
            name: orders.clone(),
            partitions: 2,
            config: TopicConfig::default(),
            replicas: None,
        };
        let created = next(&with_tenant, create.into());
        catalog.reconcile(&created).unwrap();
        let topic = catalog.topic(&acme, &orders).expect("opened");
        assert_eq!(topic.partition_count(), 2);
        assert!(dir.path().join("topics/0/1").is_dir());

        let grow = TopicCmd::Alter {
            id: 0,
            partitions: 3,
            config: TopicConfig::default(),
        };
        let grown = next(&created, grow.into());
        catalog.reconcile(&grown).unwrap();
        assert_eq!(topic.partition_count(), 3);

        // An older image arriving late changes nothing.
        catalog.reconcile(&created).unwrap();
        assert_eq!(catalog.all().len(), 1);

        let deleted = next(&grown, TopicCmd::Delete { id: 0 }.into());
        catalog.reconcile(&deleted).unwrap();
        assert!(catalog.topic(&acme, &orders).is_none());
        assert!(
            !dir.path().join("topics/0").exists(),
            "a deleted topic's data is removed"
        );
        assert_eq!(catalog.topics_of(&acme).map(|t| t.len()), Some(0));
    }
}
