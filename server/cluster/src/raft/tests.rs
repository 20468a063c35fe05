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
