//! The broker's metadata over the Raft quorum: a `MetadataLog` whose commands are Raft
//! entries and whose image is the replicated state machine.
//!
//! Owns proposing (serialized on this node; the image a command is built from is the
//! controller's, made current by a linearizable read first) and the image stream the broker
//! reconciles from. Must not validate commands (the broker does, against the image it is
//! handed) and must not block a tokio worker without handing its tasks on.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;
use weir_broker::BrokerError;
use weir_broker::metadata::{self, Build, MetadataImage, MetadataLog};

use crate::raft::{Machine, Quorum, QuorumError, QuorumStatus};

/// How long a proposal waits for the quorum (a leader, a commit) before it fails.
pub const PROPOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The metadata image as the replicated state machine. Held behind an `Arc` so publishing it
/// costs a pointer; `apply` copies it only while a reader still holds the old one.
#[derive(Debug, Clone, Default)]
pub struct MetadataMachine(pub Arc<MetadataImage>);

impl Machine for MetadataMachine {
    fn apply(&mut self, command: &str) {
        match metadata::decode(command) {
            Ok(command) => Arc::make_mut(&mut self.0).apply(&command),
            // Every replica refuses the same bytes the same way, so they stay equal; a
            // command this version cannot read came from a newer one (a mixed-version
            // cluster), which the operator must finish upgrading.
            Err(e) => {
                tracing::error!(error = %e, "skipping a metadata command this version cannot read")
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    fn restore(bytes: &[u8]) -> Result<Self, String> {
        MetadataImage::from_bytes(bytes)
            .map(|image| MetadataMachine(Arc::new(image)))
            .map_err(|e| e.to_string())
    }
}

/// The metadata log of a cluster node.
#[derive(Debug)]
pub struct RaftMetadataLog {
    quorum: Arc<Quorum<MetadataMachine>>,
    images: watch::Sender<Arc<MetadataImage>>,
    /// One proposal of this node at a time, so `build` sees the image its command applies to.
    proposing: Mutex<()>,
    runtime: Handle,
}

impl RaftMetadataLog {
    /// Wraps `quorum`; must be called inside the (multi-threaded) runtime the quorum runs on.
    pub fn new(quorum: Arc<Quorum<MetadataMachine>>) -> RaftMetadataLog {
        let mut applied = quorum.watch();
        let (images, _) = watch::channel(applied.borrow().1.0.clone());
        let forward = images.clone();
        tokio::spawn(async move {
            while applied.changed().await.is_ok() {
                let image = applied.borrow_and_update().1.0.clone();
                forward.send_replace(image);
            }
        });
        RaftMetadataLog {
            quorum,
            images,
            proposing: Mutex::new(()),
            runtime: Handle::current(),
        }
    }

    /// Starts a single-voter quorum in `data_dir` and wraps it.
    pub async fn start_single(node_id: u64, data_dir: &Path) -> Result<Self, QuorumError> {
        let quorum = Quorum::start_single(node_id, data_dir).await?;
        quorum.wait_leader(PROPOSE_TIMEOUT).await?;
        Ok(RaftMetadataLog::new(Arc::new(quorum)))
    }

    /// `start_single` from synchronous code (as `Broker::open_with` calls it), boxed as the
    /// broker takes it. Needs a multi-threaded runtime.
    pub fn open_single(node_id: u64, data_dir: &Path) -> Result<Box<dyn MetadataLog>, BrokerError> {
        let runtime = Handle::current();
        let log = tokio::task::block_in_place(|| {
            runtime.block_on(RaftMetadataLog::start_single(node_id, data_dir))
        })
        .map_err(refused)?;
        Ok(Box::new(log))
    }

    /// The quorum's status as this node sees it.
    pub fn status(&self) -> QuorumStatus {
        self.quorum.status()
    }

    /// Runs `f` to completion from synchronous code on a runtime worker, handing the worker's
    /// other tasks to another thread meanwhile.
    fn block_on<T>(&self, f: impl Future<Output = T>) -> T {
        tokio::task::block_in_place(|| self.runtime.block_on(f))
    }
}

fn refused(e: QuorumError) -> BrokerError {
    match e {
        QuorumError::NotLeader { .. } => BrokerError::NotController(e.to_string()),
        QuorumError::Fatal(_) | QuorumError::Storage(_) => {
            BrokerError::StorageUnavailable(e.to_string())
        }
    }
}

impl MetadataLog for RaftMetadataLog {
    fn propose(&self, build: Build<'_>) -> Result<Arc<MetadataImage>, BrokerError> {
        let _one = self.proposing.lock().unwrap_or_else(|p| p.into_inner());
        let quorum = &self.quorum;
        let index = self.block_on(async {
            let timeout =
                |_| BrokerError::NotController("the metadata quorum did not answer in time".into());
            tokio::time::timeout(PROPOSE_TIMEOUT, quorum.ensure_current())
                .await
                .map_err(timeout)?
                .map_err(refused)?;
            let image = quorum.watch().borrow().1.0.clone();
            let command = build(&image)?;
            tokio::time::timeout(PROPOSE_TIMEOUT, quorum.propose(metadata::encode(&command)))
                .await
                .map_err(timeout)?
                .map_err(refused)
        })?;
        let applied = quorum.watch().borrow().clone();
        assert!(
            applied.0.is_some_and(|a| a >= index),
            "a proposal answers once its entry is applied here"
        );
        Ok(applied.1.0.clone())
    }

    fn watch(&self) -> watch::Receiver<Arc<MetadataImage>> {
        self.images.subscribe()
    }

    fn shutdown(&self) -> Result<(), BrokerError> {
        self.block_on(self.quorum.shutdown()).map_err(refused)
    }
}
