//! Independent, I/O-bound jobs on a bounded set of threads: opening and closing thousands of
//! partitions is mostly waiting for the disk (directory reads, fsyncs), and done one after
//! another it made a node with 10,000 partitions take many seconds to start and to stop.
//!
//! Owns the thread bound. Must not be used for CPU-bound work (the machine may have two
//! cores) or for jobs that depend on each other's order.

use std::sync::Mutex;

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
    let jobs = Mutex::new(items.into_iter().enumerate());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some((i, item)) = next else { return out };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
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
