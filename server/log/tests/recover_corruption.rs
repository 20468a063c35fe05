//! Corruption test: truncate or flip random bytes in the last segment after an unclean stop,
//! or damage random index files; recovery cuts the log at the last valid batch (or rebuilds
//! the indexes) and every lookup still agrees with the data.

mod common;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use weir_codec::batch::Compression;
use weir_log::{Log, LogConfig};

use common::{Rng, batch_for, read_all};

const ROUNDS: usize = 40;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 512,
        ..LogConfig::default()
    }
}

/// A batch as written: where it is and what it holds.
#[derive(Debug, Clone)]
struct Written {
    base: i64,
    timestamps: Vec<i64>,
    segment: i64,
    position: u64,
    size: u64,
}

impl Written {
    fn next(&self) -> i64 {
        self.base + self.timestamps.len() as i64
    }
}

/// Fills a fresh log with a few segments of random batches; returns what was written.
fn fill(dir: &Path, rng: &mut Rng) -> Vec<Written> {
    let mut log = Log::open(dir, config()).unwrap();
    let mut written = Vec::new();
    let mut ts = 5_000;
    for _ in 0..rng.range(20, 120) {
        let base = log.log_end_offset();
        let count = rng.range(1, 9) as usize;
        ts += rng.range(0, 120) as i64 - 20;
        let codec = Compression::ALL[rng.range(0, 5) as usize];
        let batch = batch_for(base, count, rng.range(20, 400) as usize, ts, codec);
        log.append(&batch).unwrap();
        let seg = *log.segments().last().unwrap();
        written.push(Written {
            base,
            timestamps: (0..count as i64).map(|i| ts + i).collect(),
            segment: seg.base_offset,
            position: seg.size_bytes - batch.len() as u64,
            size: batch.len() as u64,
        });
    }
    if rng.range(0, 2) == 0 {
        log.close().unwrap();
    }
    written
}

fn segment_file(dir: &Path, base: i64, ext: &str) -> PathBuf {
    dir.join(format!("{base:020}.{ext}"))
}

/// Reads, offset lookups and timestamp lookups all agree with the surviving batches.
fn check_agrees(log: &Log, survivors: &[Written], context: &str) {
    let end = survivors.last().map_or(0, Written::next);
    assert_eq!(log.log_end_offset(), end, "{context}: end offset");
    let records = read_all(log);
    let expected: Vec<(i64, i64)> = survivors
        .iter()
        .flat_map(|w| {
            w.timestamps
                .iter()
                .enumerate()
                .map(|(i, &t)| (w.base + i as i64, t))
        })
        .collect();
    let got: Vec<(i64, i64)> = records.iter().map(|(o, t, _)| (*o, *t)).collect();
    assert_eq!(got, expected, "{context}: records");
    for w in survivors {
        for offset in w.base..w.next() {
            let slice = log.read(offset, 1).unwrap();
            assert_eq!(slice.first_offset(), w.base, "{context}: read at {offset}");
            assert_eq!(slice.next_offset(), w.next(), "{context}: read at {offset}");
        }
    }
    let max_ts = survivors
        .iter()
        .flat_map(|w| w.timestamps.iter())
        .max()
        .copied();
    for target in (4_900..max_ts.unwrap_or(5_000) + 50).step_by(7) {
        let want = survivors
            .iter()
            .find(|w| w.timestamps.iter().max().is_some_and(|&m| m >= target))
            .map(|w| w.base + w.timestamps.iter().position(|&t| t >= target).unwrap() as i64);
        let got = log.offset_for_timestamp(target).unwrap();
        assert_eq!(got, want, "{context}: timestamp {target}");
    }
}

fn mark_unclean(dir: &Path) {
    let _ = std::fs::remove_file(dir.join("clean-shutdown"));
}

#[test]
fn torn_tail_is_cut_at_last_whole_batch() {
    let mut rng = Rng::from_env_or_time("torn_tail_is_cut_at_last_whole_batch");
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let written = fill(dir.path(), &mut rng);
        mark_unclean(dir.path());
        let last = written.last().unwrap().segment;
        let path = segment_file(dir.path(), last, "log");
        let len = std::fs::metadata(&path).unwrap().len();
        let cut = rng.range(0, len + 1);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();

        let survivors: Vec<Written> = written
            .into_iter()
            .filter(|w| w.segment != last || w.position + w.size <= cut)
            .collect();
        let log = Log::open(dir.path(), config()).unwrap();
        let whole = survivors
            .last()
            .is_some_and(|w| w.segment == last && w.position + w.size == cut);
        let expect_cut =
            cut < len && !whole && !(cut == 0 && survivors.iter().all(|w| w.segment != last));
        assert_eq!(
            log.recovery_report().truncated.is_some(),
            expect_cut,
            "round {round}: cut at {cut} of {len}: {:?}",
            log.recovery_report()
        );
        check_agrees(&log, &survivors, &format!("round {round}, cut {cut}/{len}"));
    }
}

#[test]
fn flipped_byte_in_last_segment_cuts_at_that_batch() {
    let mut rng = Rng::from_env_or_time("flipped_byte_in_last_segment_cuts_at_that_batch");
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let written = fill(dir.path(), &mut rng);
        mark_unclean(dir.path());
        let last = written.last().unwrap().segment;
        let path = segment_file(dir.path(), last, "log");
        let mut bytes = std::fs::read(&path).unwrap();
        let at = rng.range(0, bytes.len() as u64) as usize;
        bytes[at] ^= 1 << rng.range(0, 8);
        std::fs::write(&path, &bytes).unwrap();

        let hit = written
            .iter()
            .find(|w| {
                w.segment == last && w.position <= at as u64 && (at as u64) < w.position + w.size
            })
            .unwrap();
        // partitionLeaderEpoch (bytes 12..16) is outside the CRC and carries no offsets.
        let harmless = (12..16).contains(&(at as u64 - hit.position));
        let hit_base = hit.base;
        let survivors: Vec<Written> = written
            .into_iter()
            .filter(|w| harmless || w.base < hit_base)
            .collect();
        let log = Log::open(dir.path(), config()).unwrap();
        assert_eq!(
            log.recovery_report().truncated.is_some(),
            !harmless,
            "round {round}"
        );
        check_agrees(
            &log,
            &survivors,
            &format!("round {round}, flip at byte {at}"),
        );
    }
}

#[test]
fn damaged_or_missing_indexes_are_rebuilt() {
    let mut rng = Rng::from_env_or_time("damaged_or_missing_indexes_are_rebuilt");
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let written = fill(dir.path(), &mut rng);
        let mut segments: Vec<i64> = written.iter().map(|w| w.segment).collect();
        segments.dedup();
        for _ in 0..rng.range(1, 4) {
            let base = segments[rng.range(0, segments.len() as u64) as usize];
            let ext = if rng.range(0, 2) == 0 {
                "index"
            } else {
                "timeindex"
            };
            let path = segment_file(dir.path(), base, ext);
            let Ok(mut bytes) = std::fs::read(&path) else {
                continue; // the active segment of an unclean stop has no index files
            };
            match rng.range(0, 3) {
                0 if !bytes.is_empty() => {
                    let at = rng.range(0, bytes.len() as u64) as usize;
                    bytes[at] ^= 1 << rng.range(0, 8);
                    std::fs::write(&path, &bytes).unwrap();
                }
                1 => {
                    bytes.truncate(rng.range(0, bytes.len() as u64 + 1) as usize);
                    std::fs::write(&path, &bytes).unwrap();
                }
                _ => std::fs::remove_file(&path).unwrap(),
            }
        }
        let log = Log::open(dir.path(), config()).unwrap();
        assert_eq!(log.recovery_report().truncated, None, "round {round}");
        check_agrees(&log, &written, &format!("round {round}"));
    }
}

/// What a crash can leave of a file written without fsync: intact, empty, cut short or gone.
fn lose_some_of(path: &Path, rng: &mut Rng) {
    let Ok(mut bytes) = std::fs::read(path) else {
        return;
    };
    match rng.range(0, 4) {
        0 => {}
        1 => std::fs::write(path, b"").unwrap(),
        2 => {
            bytes.truncate(rng.range(0, bytes.len() as u64) as usize);
            std::fs::write(path, &bytes).unwrap();
        }
        _ => std::fs::remove_file(path).unwrap(),
    }
}

#[test]
fn a_clean_close_whose_unsynced_files_were_lost_opens_whole() {
    // A close syncs the data and leaves the active segment's index files and the
    // clean-shutdown marker to the kernel: a crash right after it may lose or tear them.
    let mut rng = Rng::from_env_or_time("a_clean_close_whose_unsynced_files_were_lost_opens_whole");
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let written = fill(dir.path(), &mut rng);
        Log::open(dir.path(), config()).unwrap().close().unwrap();
        let active = written.last().unwrap().segment;
        for ext in ["index", "timeindex"] {
            lose_some_of(&segment_file(dir.path(), active, ext), &mut rng);
        }
        lose_some_of(&dir.path().join("clean-shutdown"), &mut rng);
        let log = Log::open(dir.path(), config()).unwrap();
        assert_eq!(log.recovery_report().truncated, None, "round {round}");
        check_agrees(&log, &written, &format!("round {round}"));
    }
}
