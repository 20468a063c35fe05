//! openraft's own storage suite against our log and state machine stores, and restarts.

use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};

use super::{LogStore, Machine, StateStore, TypeConfig};

/// A machine that remembers every command, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Journal(pub Vec<String>);

impl Machine for Journal {
    fn apply(&mut self, command: &str) {
        self.0.push(command.to_owned());
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).expect("strings serialize")
    }

    fn restore(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes)
            .map(Journal)
            .map_err(|e| e.to_string())
    }
}

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateStore<Journal>, tempfile::TempDir> for Builder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateStore<Journal>), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = LogStore::open(&dir.path().join("log")).expect("open log");
        let state = StateStore::open(&dir.path().join("state")).expect("open state");
        Ok((dir, log, state))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(Builder).unwrap();
}

mod single_voter {
    use std::time::{Duration, Instant};

    use super::Journal;
    use crate::raft::{Quorum, SNAPSHOT_EVERY};

    const LEAD_WITHIN: Duration = Duration::from_secs(10);

    async fn journal(q: &Quorum<Journal>) -> Vec<String> {
        q.watch().borrow().1.0.clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn proposals_apply_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quorum::<Journal>::start_single(1, dir.path())
            .await
            .unwrap();
        q.wait_leader(LEAD_WITHIN).await.unwrap();
        let mut indexes = Vec::new();
        for c in ["a", "b", "c"] {
            indexes.push(q.propose(c.into()).await.unwrap());
        }
        assert!(indexes.windows(2).all(|w| w[1] == w[0] + 1), "{indexes:?}");
        assert_eq!(journal(&q).await, ["a", "b", "c"]);
        // Metrics follow the applies a moment later.
        let deadline = Instant::now() + LEAD_WITHIN;
        while q.status().applied_index != indexes.last().copied() {
            assert!(Instant::now() < deadline, "{:?}", q.status());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let status = q.status();
        assert_eq!((status.role, status.controller), ("leader", Some(1)));
        assert_eq!(status.voters, [1]);
        assert_eq!(status.applied_index, indexes.last().copied());
        q.shutdown().await.unwrap();
        drop(q);

        let started = Instant::now();
        let q = Quorum::<Journal>::start_single(1, dir.path())
            .await
            .unwrap();
        q.wait_leader(LEAD_WITHIN).await.unwrap();
        let led_after = started.elapsed();
        q.propose("d".into()).await.unwrap();
        assert_eq!(journal(&q).await, ["a", "b", "c", "d"]);
        // A restarted single voter leads without waiting out an election timeout.
        assert!(led_after < Duration::from_secs(2), "{led_after:?}");
        q.shutdown().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_snapshot_purges_the_log_and_restores_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quorum::<Journal>::start_single(7, dir.path())
            .await
            .unwrap();
        q.wait_leader(LEAD_WITHIN).await.unwrap();
        let n = SNAPSHOT_EVERY + 50;
        for i in 0..n {
            q.propose(format!("c{i}")).await.unwrap();
        }
        let deadline = Instant::now() + LEAD_WITHIN;
        while !dir.path().join("raft/state/snapshot").exists() {
            assert!(Instant::now() < deadline, "no snapshot after {n} entries");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = journal(&q).await;
        assert_eq!(before.len(), usize::try_from(n).unwrap());
        q.shutdown().await.unwrap();
        drop(q);

        let q = Quorum::<Journal>::start_single(7, dir.path())
            .await
            .unwrap();
        q.wait_leader(LEAD_WITHIN).await.unwrap();
        q.propose("after".into()).await.unwrap();
        let after = journal(&q).await;
        assert_eq!(after[..before.len()], before[..]);
        assert_eq!(after.last().map(String::as_str), Some("after"));
        q.shutdown().await.unwrap();
    }
}

mod three_voters {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::net::TcpListener;
    use tokio_stream::wrappers::TcpListenerStream;

    use super::Journal;
    use crate::raft::net::{RaftClient, RaftMessage};
    use crate::raft::{Quorum, SECRET_HEADER};

    const SECRET: &str = "a-long-random-cluster-secret";
    const WITHIN: Duration = Duration::from_secs(15);

    struct Node {
        id: u64,
        quorum: Arc<Quorum<Journal>>,
        server: tokio::task::JoinHandle<()>,
        addr: String,
        _dir: tempfile::TempDir,
    }

    async fn start(id: u64, listener: TcpListener) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let quorum = Arc::new(
            Quorum::<Journal>::start_member(id, dir.path(), SECRET)
                .await
                .unwrap(),
        );
        let service = quorum.service(SECRET);
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        Node {
            id,
            quorum,
            server,
            addr,
            _dir: dir,
        }
    }

    async fn leader(nodes: &[&Node]) -> u64 {
        let deadline = Instant::now() + WITHIN;
        loop {
            let leaders: Vec<u64> = nodes
                .iter()
                .filter(|n| n.quorum.status().role == "leader")
                .map(|n| n.id)
                .collect();
            if let [one] = leaders[..] {
                return one;
            }
            assert!(Instant::now() < deadline, "no single leader: {leaders:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn converge(nodes: &[&Node], want: &[&str]) {
        let deadline = Instant::now() + WITHIN;
        for n in nodes {
            loop {
                let journal = n.quorum.watch().borrow().1.0.clone();
                if journal == want {
                    break;
                }
                assert!(Instant::now() < deadline, "node {}: {journal:?}", n.id);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_nodes_agree_and_survive_the_loss_of_the_leader() {
        let mut listeners = Vec::new();
        for _ in 0..3 {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let mut nodes = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            nodes.push(start(u64::try_from(i).unwrap() + 1, l).await);
        }
        let voters: BTreeMap<u64, String> = nodes.iter().map(|n| (n.id, n.addr.clone())).collect();
        nodes[0].quorum.found(voters).await.unwrap();

        let all: Vec<&Node> = nodes.iter().collect();
        let first = leader(&all).await;
        let lead = nodes.iter().find(|n| n.id == first).unwrap();
        lead.quorum.propose("a".into()).await.unwrap();
        lead.quorum.propose("b".into()).await.unwrap();
        converge(&all, &["a", "b"]).await;
        // A follower refuses and names the controller.
        let follower = nodes.iter().find(|n| n.id != first).unwrap();
        let refused = follower.quorum.propose("x".into()).await.unwrap_err();
        assert_eq!(
            refused,
            crate::raft::QuorumError::NotLeader {
                leader: Some(first)
            }
        );

        // The leader dies (its listener too): the other two elect one and go on.
        lead.server.abort();
        lead.quorum.shutdown().await.unwrap();
        let rest: Vec<&Node> = nodes.iter().filter(|n| n.id != first).collect();
        let second = leader(&rest).await;
        assert_ne!(second, first);
        let lead = rest.iter().find(|n| n.id == second).unwrap();
        lead.quorum.propose("c".into()).await.unwrap();
        converge(&rest, &["a", "b", "c"]).await;
        for n in &rest {
            n.quorum.shutdown().await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_without_the_cluster_secret_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let node = start(1, listener).await;
        let mut client = RaftClient::connect(format!("http://{}", node.addr))
            .await
            .unwrap();
        let vote = RaftMessage {
            json: b"{}".to_vec(),
        };
        let missing = client.vote(vote.clone()).await.unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let mut wrong = tonic::Request::new(vote);
        wrong
            .metadata_mut()
            .insert(SECRET_HEADER, "not-the-secret".parse().unwrap());
        let wrong = client.vote(wrong).await.unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        assert_eq!(node.quorum.status().term, 0, "nothing reached the Raft");
        node.quorum.shutdown().await.unwrap();
    }
}
