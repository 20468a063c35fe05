//! Independent, I/O-bound jobs on a bounded set of threads: opening and closing thousands of
//! partitions is mostly waiting for the disk (directory reads, fsyncs), and done one after
//! another it made a node with 10,000 partitions take many seconds to start and to stop.
//!
//! Owns the thread bound. Must not be used for CPU-bound work (the machine may have two
//! cores) or for jobs that depend on each other's order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most threads one call runs: enough to keep a disk's queue full of fsyncs, few enough to
/// cost little memory (each job's thread is short-lived and holds no large buffer).
pub(crate) const IO_THREADS_MAX: usize = 32;

/// `f` of every item, in the items' order, run on up to `IO_THREADS_MAX` threads.
pub(crate) fn map<T, R, F>(items: Vec<T>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = items.len().min(IO_THREADS_MAX);
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let count = items.len();
    let jobs: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { return };
                    let item = job.lock().unwrap_or_else(|p| p.into_inner()).take();
                    let item = item.expect("each job is taken once");
                    let result = f(item);
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .expect("every job ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_whatever_the_threads_do() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(items, |i| {
            if i % 7 == 0 {
                std::thread::yield_now();
            }
            i * 2
        });
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(map(Vec::<u8>::new(), |i| i), Vec::<u8>::new());
    }
}
