//! Node liveness as the controller sees it: when it last heard each node's heartbeat, and the
//! fencing verdicts that follow.
//!
//! Owns the heartbeat clock and the rule: a node silent for longer than its session timeout,
//! counted from the later of its last heartbeat and the moment this node began to lead (a new
//! controller heard nobody before), is fenced; a fenced node heard again within the timeout
//! is unfenced. Must not propose anything (the caller turns verdicts into metadata commands)
//! or read a clock of its own: `now` is handed in, so the rule is tested without waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The last heartbeat heard from each node, on this node (it matters while it leads).
#[derive(Debug, Default)]
pub struct Liveness {
    heard: Mutex<HashMap<u64, Instant>>,
}

impl Liveness {
    /// Node `id` was heard at `now`.
    pub fn heard(&self, id: u64, now: Instant) {
        let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        heard.insert(id, now);
    }

    /// The changes due for `nodes` (id, fenced now) at `now`, as (id, fence): fence a live
    /// node silent past `timeout` since the later of its last heartbeat and `since` (when this
    /// node began to lead), unfence a fenced one heard since then and within `timeout`.
    pub fn verdicts(
        &self,
        nodes: impl IntoIterator<Item = (u64, bool)>,
        since: Instant,
        timeout: Duration,
        now: Instant,
    ) -> Vec<(u64, bool)> {
        let heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        nodes
            .into_iter()
            .filter_map(|(id, fenced)| {
                let last = heard.get(&id).copied().filter(|&t| t >= since);
                let silent = now.saturating_duration_since(last.unwrap_or(since)) > timeout;
                match (fenced, silent) {
                    (false, true) => Some((id, true)),
                    (true, false) if last.is_some() => Some((id, false)),
                    _ => None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_nodes_are_fenced_and_heard_ones_unfenced() {
        let live = Liveness::default();
        let t0 = Instant::now();
        let timeout = Duration::from_secs(9);
        let at = |s: u64| t0 + Duration::from_secs(s);
        // A new controller gives everyone a full timeout, heard or not.
        assert!(
            live.verdicts([(1, false), (2, false)], t0, timeout, at(9))
                .is_empty()
        );
        assert_eq!(
            live.verdicts([(1, false), (2, false)], t0, timeout, at(10)),
            [(1, true), (2, true)]
        );
        live.heard(1, at(8));
        assert_eq!(
            live.verdicts([(1, false), (2, false)], t0, timeout, at(10)),
            [(2, true)]
        );
        assert_eq!(
            live.verdicts([(1, false)], t0, timeout, at(18)),
            [(1, true)],
            "silent since its last heartbeat"
        );
        // A fenced node stays fenced until it is heard, and is unfenced once it is.
        assert!(live.verdicts([(2, true)], t0, timeout, at(30)).is_empty());
        live.heard(2, at(30));
        assert_eq!(
            live.verdicts([(2, true)], t0, timeout, at(31)),
            [(2, false)]
        );
        // A heartbeat from before this node led does not count for it.
        let later = at(40);
        assert!(
            live.verdicts([(2, true)], later, timeout, at(41))
                .is_empty()
        );
    }
}
