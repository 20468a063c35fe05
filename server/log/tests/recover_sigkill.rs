//! Crash test: a child process appends in a loop and is killed with SIGKILL at random moments.
//! After each kill, reopening yields a gapless prefix of what was appended, every batch passes
//! its CRC, and everything the child reported flushed is there.
//!
//! The child is this same test binary, re-run with `WEIR_CRASH_CHILD_DIR` set.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use weir_codec::batch::Compression;
use weir_log::{FlushPolicy, Log, LogConfig};

use common::{Rng, batch_for, read_all};

const TEST_NAME: &str = "sigkill_during_appends_keeps_a_flushed_prefix";
const CHILD_DIR_ENV: &str = "WEIR_CRASH_CHILD_DIR";
const CHILD_SEED_ENV: &str = "WEIR_CRASH_CHILD_SEED";
const CYCLES: usize = 60;
/// A child whose parent vanished stops by itself after this long.
const CHILD_LIFETIME_MAX: Duration = Duration::from_secs(20);

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 64 * 1024,
        index_interval_bytes: 1024,
        flush: FlushPolicy::Never,
        ..LogConfig::default()
    }
}

#[test]
fn sigkill_during_appends_keeps_a_flushed_prefix() {
    if let Ok(dir) = std::env::var(CHILD_DIR_ENV) {
        let seed = std::env::var(CHILD_SEED_ENV).unwrap().parse().unwrap();
        run_child(Path::new(&dir), seed);
        return;
    }
    let mut rng = Rng::from_env_or_time(TEST_NAME);
    let dir = tempfile::tempdir().unwrap();
    let mut flushed_ever = 0i64;
    let mut truncations = 0;
    for cycle in 0..CYCLES {
        let flushed = Arc::new(AtomicI64::new(0));
        let mut child = KillOnDrop(spawn_child(dir.path(), rng.next_u64()));
        let reader = watch_flushes(&mut child.0, Arc::clone(&flushed));
        std::thread::sleep(Duration::from_millis(rng.range(5, 60)));
        child.0.kill().expect("SIGKILL child");
        child.0.wait().expect("reap child");
        reader.join().expect("reader thread");
        flushed_ever = flushed_ever.max(flushed.load(Ordering::SeqCst));

        let log = Log::open(dir.path(), config()).expect("reopen after SIGKILL");
        truncations += usize::from(log.recovery_report().truncated.is_some());
        assert!(
            log.log_end_offset() >= flushed_ever,
            "cycle {cycle}: end {} lost flushed offset {flushed_ever}",
            log.log_end_offset()
        );
        check_contents(&log, cycle);
        // Alternate clean and unclean hand-overs to the next child.
        if rng.range(0, 2) == 0 {
            log.close().expect("close");
        }
    }
    eprintln!("{CYCLES} kills, {truncations} recoveries cut a torn tail, {flushed_ever} flushed");
    assert!(
        flushed_ever > 0,
        "the child never reported a flush: the test checked nothing"
    );
}

/// Offsets gapless from 0 and every value is the one written at its offset.
fn check_contents(log: &Log, cycle: usize) {
    assert_eq!(log.log_start_offset(), 0);
    let records = read_all(log);
    assert_eq!(
        records.len() as i64,
        log.log_end_offset(),
        "cycle {cycle}: gap in offsets"
    );
    for (i, (offset, _, value)) in records.iter().enumerate() {
        assert_eq!(*offset, i as i64, "cycle {cycle}");
        let prefix = format!("offset-{offset}-");
        assert!(
            value.starts_with(prefix.as_bytes()),
            "cycle {cycle}: wrong value at {offset}"
        );
        assert!(value[prefix.len()..].iter().all(|&b| b == b'x'));
    }
}

fn spawn_child(dir: &Path, seed: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_SEED_ENV, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

/// Collects the largest `flushed N` line the child printed.
fn watch_flushes(child: &mut Child, flushed: Arc<AtomicI64>) -> std::thread::JoinHandle<()> {
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("flushed ").and_then(|n| n.parse().ok()) {
                flushed.fetch_max(n, Ordering::SeqCst);
            }
        }
    })
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Appends random batches forever, flushing every few and reporting each flushed offset.
fn run_child(dir: &Path, seed: u64) {
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut log = Log::open(dir, config()).expect("child open");
    let mut out = std::io::stdout().lock();
    let mut ts = 1_000_000;
    while started.elapsed() < CHILD_LIFETIME_MAX {
        let base = log.log_end_offset();
        let count = rng.range(1, 12) as usize;
        let codec = Compression::ALL[rng.range(0, 5) as usize];
        let batch = batch_for(base, count, rng.range(8, 600) as usize, ts, codec);
        ts += 1;
        log.append(&batch).expect("child append");
        if rng.range(0, 8) == 0 {
            let offset = log.flush().expect("child flush");
            writeln!(out, "flushed {offset}").unwrap();
            out.flush().unwrap();
        }
    }
}
