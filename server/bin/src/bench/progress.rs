//! Live counters of a bench run and the progress bar that shows them.
//!
//! Owns `Counters` (shared, lock-free, updated once per batch, not per record) and the bar,
//! which is drawn on stderr a few times a second and only when stdout is a terminal and
//! `--json` is off. Must not slow the workers: they only add to atomics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use super::units::MB;

/// How often the bar is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// Records and bytes done so far, summed over workers.
#[derive(Debug, Default)]
pub struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    /// Adds one batch's worth.
    pub fn add(&self, records: u64, bytes: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Bytes so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// What a full bar means.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// This many bytes.
    Bytes(u64),
    /// This many records.
    Records(u64),
    /// This much time.
    Time(Duration),
}

/// A progress bar fed from `Counters`.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    redraw: JoinHandle<()>,
}

impl Progress {
    /// Starts drawing (or not, when `visible` is false). Must run inside a tokio runtime.
    pub fn start(goal: Goal, counters: Arc<Counters>, visible: bool) -> Progress {
        let length = match goal {
            Goal::Bytes(n) | Goal::Records(n) => n,
            Goal::Time(d) => u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
        };
        let bar = ProgressBar::with_draw_target(Some(length), draw_target(visible));
        if let Ok(style) =
            ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {percent:>3}% {msg}")
        {
            bar.set_style(style);
        }
        let shown = bar.clone();
        let started = Instant::now();
        let redraw = tokio::spawn(async move {
            let mut tick = tokio::time::interval(REDRAW_EVERY);
            loop {
                tick.tick().await;
                let position = match goal {
                    Goal::Bytes(_) => counters.bytes(),
                    Goal::Records(_) => counters.records(),
                    Goal::Time(_) => {
                        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
                    }
                };
                shown.set_position(position.min(length));
                let seconds = started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
                shown.set_message(format!(
                    "{} records, {:.1} MB/s",
                    counters.records(),
                    counters.bytes() as f64 / MB as f64 / seconds
                ));
            }
        });
        Progress { bar, redraw }
    }

    /// Stops drawing and erases the bar.
    pub fn finish(self) {
        self.redraw.abort();
        self.bar.finish_and_clear();
    }
}

fn draw_target(visible: bool) -> ProgressDrawTarget {
    if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
