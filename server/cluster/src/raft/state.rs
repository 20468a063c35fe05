//! The replicated state machine of one node and its snapshots.
//!
//! Owns the `Machine` (the metadata image), the last applied log id and membership, and
//! `<dir>/snapshot`: the latest snapshot (JSON: meta and the machine's own bytes), written
//! atomically and fsynced. Open restores the machine from it, and openraft applies the
//! committed entries after it. Every applied state is published on a `watch`. Must not decide
//! what a command means (the `Machine` does).

use std::io::{self, Cursor};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::log_store::{read_json, write_atomic};
use super::{Applied, Machine, TypeConfig};

type NodeId = u64;
type Membership = StoredMembership<NodeId, openraft::BasicNode>;
type Meta = SnapshotMeta<NodeId, openraft::BasicNode>;

/// `<dir>/snapshot`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: Meta,
    /// `Machine::snapshot`, as a string when it is UTF-8 JSON (it is for the metadata).
    data: Vec<u8>,
}

#[derive(Debug)]
struct Inner<M> {
    machine: M,
    applied: Option<LogId<NodeId>>,
    membership: Membership,
    snapshots_built: u64,
    current: Option<StoredSnapshot>,
}

/// The state machine store of one node; clones share it.
#[derive(Debug)]
pub struct StateStore<M> {
    inner: Arc<Mutex<Inner<M>>>,
    path: PathBuf,
    applied: watch::Sender<(Option<u64>, Arc<M>)>,
}

impl<M> Clone for StateStore<M> {
    fn clone(&self) -> Self {
        StateStore {
            inner: self.inner.clone(),
            path: self.path.clone(),
            applied: self.applied.clone(),
        }
    }
}

impl<M: Machine> StateStore<M> {
    /// Opens the store in `dir`, restoring the machine from the latest snapshot if any.
    pub fn open(dir: &Path) -> io::Result<StateStore<M>> {
        weir_log::private::create_dir_all(dir)?;
        let path = dir.join("snapshot");
        let current: Option<StoredSnapshot> = read_json(&path)?;
        let (machine, applied, membership) = match &current {
            Some(s) => (
                M::restore(&s.data).map_err(io::Error::other)?,
                s.meta.last_log_id,
                s.meta.last_membership.clone(),
            ),
            None => (M::default(), None, Membership::default()),
        };
        let index = applied.map(|id| id.index);
        let (tx, _) = watch::channel((index, Arc::new(machine.clone())));
        Ok(StateStore {
            inner: Arc::new(Mutex::new(Inner {
                machine,
                applied,
                membership,
                snapshots_built: 0,
                current,
            })),
            path,
            applied: tx,
        })
    }

    /// A receiver of (last applied index, machine) after every apply.
    pub fn watch(&self) -> watch::Receiver<(Option<u64>, Arc<M>)> {
        self.applied.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Inner<M>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, inner: &Inner<M>) {
        let index = inner.applied.map(|id| id.index);
        self.applied
            .send_replace((index, Arc::new(inner.machine.clone())));
    }

    fn install(&self, inner: &mut Inner<M>, stored: StoredSnapshot) -> io::Result<()> {
        let bytes = serde_json::to_vec(&stored)?;
        write_atomic(&self.path, &bytes, true)?;
        inner.current = Some(stored);
        Ok(())
    }
}

impl<M: Machine> RaftSnapshotBuilder<TypeConfig> for StateStore<M> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let mut inner = self.lock();
        inner.snapshots_built += 1;
        let meta = Meta {
            last_log_id: inner.applied,
            last_membership: inner.membership.clone(),
            snapshot_id: format!(
                "{}-{}",
                inner.applied.map_or(0, |id| id.index),
                inner.snapshots_built
            ),
        };
        let data = inner.machine.snapshot();
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        };
        self.install(&mut inner, stored)
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl<M: Machine> RaftStateMachine<TypeConfig> for StateStore<M> {
    type SnapshotBuilder = StateStore<M>;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, Membership), StorageError<NodeId>> {
        let inner = self.lock();
        Ok((inner.applied, inner.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = openraft::Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut inner = self.lock();
        let mut answers = Vec::new();
        for entry in entries {
            assert!(
                inner.applied.is_none_or(|a| a.index < entry.log_id.index),
                "entries are applied once, in order"
            );
            match entry.payload {
                EntryPayload::Blank => {}
                EntryPayload::Normal(proposal) => inner.machine.apply(&proposal.0),
                EntryPayload::Membership(m) => {
                    inner.membership = StoredMembership::new(Some(entry.log_id), m);
                }
            }
            inner.applied = Some(entry.log_id);
            answers.push(Applied {
                index: entry.log_id.index,
            });
        }
        self.publish(&inner);
        Ok(answers)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let data = snapshot.into_inner();
        let machine = M::restore(&data).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), &io::Error::other(e))
        })?;
        let mut inner = self.lock();
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data,
        };
        self.install(&mut inner, stored)
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        inner.machine = machine;
        inner.applied = meta.last_log_id;
        inner.membership = meta.last_membership.clone();
        self.publish(&inner);
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let inner = self.lock();
        Ok(inner.current.as_ref().map(|s| Snapshot {
            meta: s.meta.clone(),
            snapshot: Box::new(Cursor::new(s.data.clone())),
        }))
    }
}
