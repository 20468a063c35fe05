//! The broker's metadata over the Raft quorum: a `MetadataLog` whose commands are Raft
//! entries and whose image is the replicated state machine.
//!
//! Owns proposing: on the controller, serialized and built from an image made current by a
//! linearizable read; on any other node, built from the local image and forwarded to the
//! controller (one hop over the internal listener), which rebases it onto its own image,
//! validates it under its policy and proposes it; the forwarding node answers once it applied
//! the entry too. Also the image stream the broker reconciles from. Must not block a tokio
//! worker without handing its tasks on.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;
use weir_broker::BrokerError;
use weir_broker::metadata::{self, Applied, Build, Command, MetadataImage, MetadataLog, Policy};
use weir_codec::ErrorCode;

use crate::raft::{
    Forward, ForwardAnswer, Machine, ProposalHandler, Quorum, QuorumError, QuorumStatus,
};

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

/// Proposing on this node, shared by the broker's calls and the internal listener.
#[derive(Debug)]
struct Proposer {
    quorum: Arc<Quorum<MetadataMachine>>,
    /// The node's policy: forwarded commands are validated under the controller's.
    policy: Policy,
    /// One proposal of this node at a time, so a command's image is the one it applies to.
    proposing: tokio::sync::Mutex<()>,
}

impl Proposer {
    /// The current image (this node's machine).
    fn image(&self) -> Arc<MetadataImage> {
        self.quorum.watch().borrow().1.0.clone()
    }

    /// Proposes a command `build` makes from this node's image, made current first; this
    /// node must lead. Returns the entry's index and the command.
    async fn propose_here(
        &self,
        build: impl FnOnce(&MetadataImage) -> Result<Command, BrokerError>,
    ) -> Result<(u64, Command), BrokerError> {
        let _one = self.proposing.lock().await;
        within(self.quorum.ensure_current()).await?;
        let command = build(&self.image())?;
        let index = within(self.quorum.propose(metadata::encode(&command))).await?;
        Ok((index, command))
    }

    /// A command another node forwarded: rebased onto this image, validated under this
    /// node's policy, proposed.
    async fn serve(&self, forward: Forward) -> ForwardAnswer {
        let answer = self
            .propose_here(|image| {
                let command = image.rebase(metadata::decode(&forward.command)?);
                image.validate(&command, &self.policy)?;
                Ok(command)
            })
            .await;
        match answer {
            Ok((index, command)) => ForwardAnswer::Ok {
                index,
                command: metadata::encode(&command),
            },
            Err(e) => ForwardAnswer::Err {
                code: e.code().as_str().to_owned(),
                message: e.to_string(),
            },
        }
    }

    /// Proposes from this node: here when it leads, else forwarded to the controller. Answers
    /// once this node applied the entry, with the command as applied.
    async fn propose(&self, build: Build<'_>) -> Result<(u64, Command), BrokerError> {
        let leader = match within(self.quorum.ensure_current()).await {
            Ok(()) => return self.propose_here(|image| build(image)).await,
            Err(BrokerError::NotController(_)) => self.quorum.status().controller,
            Err(e) => return Err(e),
        };
        let leader = leader.ok_or_else(|| {
            BrokerError::NotController("the metadata quorum has no controller right now".into())
        })?;
        let command = build(&self.image())?;
        let answer = tokio::time::timeout(
            PROPOSE_TIMEOUT,
            self.quorum.forward(leader, metadata::encode(&command)),
        )
        .await
        .map_err(|_| late())?
        .map_err(refused)?;
        let (index, applied) = match answer {
            ForwardAnswer::Ok { index, command } => (index, metadata::decode(&command)?),
            ForwardAnswer::Err { code, message } => {
                let code = ErrorCode::parse(&code).unwrap_or(ErrorCode::Internal);
                return Err(BrokerError::Forwarded { code, message });
            }
        };
        self.quorum
            .wait_applied(index, PROPOSE_TIMEOUT)
            .await
            .map_err(refused)?;
        Ok((index, applied))
    }
}

/// Serves commands other nodes forward to this one.
#[derive(Debug)]
struct Controller(Arc<Proposer>);

impl ProposalHandler for Controller {
    fn handle(
        &self,
        forward: Forward,
    ) -> std::pin::Pin<Box<dyn Future<Output = ForwardAnswer> + Send + 'static>> {
        let proposer = self.0.clone();
        Box::pin(async move { proposer.serve(forward).await })
    }
}

/// The metadata log of a cluster node.
#[derive(Debug)]
pub struct RaftMetadataLog {
    proposer: Arc<Proposer>,
    images: watch::Sender<Arc<MetadataImage>>,
    runtime: Handle,
}

impl RaftMetadataLog {
    /// Wraps `quorum`, validating forwarded commands under `policy`; serves commands other
    /// nodes forward. Must be called inside the (multi-threaded) runtime the quorum runs on.
    pub fn new(quorum: Arc<Quorum<MetadataMachine>>, policy: Policy) -> RaftMetadataLog {
        let mut applied = quorum.watch();
        let (images, _) = watch::channel(applied.borrow().1.0.clone());
        let forward = images.clone();
        tokio::spawn(async move {
            while applied.changed().await.is_ok() {
                let image = applied.borrow_and_update().1.0.clone();
                publish(&forward, image);
            }
        });
        let proposer = Arc::new(Proposer {
            quorum: quorum.clone(),
            policy,
            proposing: tokio::sync::Mutex::new(()),
        });
        quorum.serve_proposals(Arc::new(Controller(proposer.clone())));
        RaftMetadataLog {
            proposer,
            images,
            runtime: Handle::current(),
        }
    }

    /// Starts a single-voter quorum in `data_dir` and wraps it.
    pub async fn start_single(
        node_id: u64,
        data_dir: &Path,
        policy: Policy,
    ) -> Result<Self, QuorumError> {
        let quorum = Quorum::start_single(node_id, data_dir).await?;
        quorum.wait_leader(PROPOSE_TIMEOUT).await?;
        // Everything the log holds is applied before the image is first read: a one-voter
        // node takes a topic its image lacks for a deleted one.
        quorum.ensure_current().await?;
        Ok(RaftMetadataLog::new(Arc::new(quorum), policy))
    }

    /// `start_single` from synchronous code (as `Broker::open_with` calls it), boxed as the
    /// broker takes it. Needs a multi-threaded runtime.
    pub fn open_single(
        node_id: u64,
        data_dir: &Path,
        policy: Policy,
    ) -> Result<Box<dyn MetadataLog>, BrokerError> {
        let runtime = Handle::current();
        let log = tokio::task::block_in_place(|| {
            runtime.block_on(RaftMetadataLog::start_single(node_id, data_dir, policy))
        })
        .map_err(refused)?;
        Ok(Box::new(log))
    }

    /// The quorum's status as this node sees it.
    pub fn status(&self) -> QuorumStatus {
        self.proposer.quorum.status()
    }

    /// Runs `f` to completion from synchronous code on a runtime worker, handing the worker's
    /// other tasks to another thread meanwhile.
    fn block_on<T>(&self, f: impl Future<Output = T>) -> T {
        tokio::task::block_in_place(|| self.runtime.block_on(f))
    }
}

/// Publishes `image` unless a newer one already is: the images a node watches never go back.
fn publish(images: &watch::Sender<Arc<MetadataImage>>, image: Arc<MetadataImage>) {
    images.send_if_modified(|current| {
        let newer = image.version() > current.version();
        if newer {
            *current = image;
        }
        newer
    });
}

fn refused(e: QuorumError) -> BrokerError {
    match e {
        QuorumError::NotLeader { .. } | QuorumError::Unreachable(_) => {
            BrokerError::NotController(e.to_string())
        }
        QuorumError::Fatal(_) | QuorumError::Storage(_) => {
            BrokerError::StorageUnavailable(e.to_string())
        }
        QuorumError::Refused(m) | QuorumError::UnknownNode(m) => BrokerError::InvalidRequest(m),
    }
}

fn late() -> BrokerError {
    BrokerError::NotController("the metadata quorum did not answer in time".into())
}

/// `f`, bounded by `PROPOSE_TIMEOUT`, its quorum errors as the broker's.
async fn within<T>(f: impl Future<Output = Result<T, QuorumError>>) -> Result<T, BrokerError> {
    tokio::time::timeout(PROPOSE_TIMEOUT, f)
        .await
        .map_err(|_| late())?
        .map_err(refused)
}

impl MetadataLog for RaftMetadataLog {
    fn propose(&self, build: Build<'_>) -> Result<Applied, BrokerError> {
        let (_, command) = self.block_on(self.proposer.propose(build))?;
        let image = self.proposer.image();
        // Whoever watches sees the command applied once the proposal returns.
        publish(&self.images, image.clone());
        Ok(Applied { image, command })
    }

    fn watch(&self) -> watch::Receiver<Arc<MetadataImage>> {
        self.images.subscribe()
    }

    fn shutdown(&self) -> Result<(), BrokerError> {
        self.block_on(self.proposer.quorum.shutdown())
            .map_err(refused)
    }
}
