//! Property test: random appends, reads, timestamp lookups, rolls, retention, truncations, clock
//! moves and close/reopen cycles against a simple in-memory model of the log. After every
//! operation the log and the model agree on offsets, bytes, segments and lookups.

mod common;

use std::sync::Arc;

use proptest::prelude::*;
use weir_codec::batch::{Compression, DecodeLimits, batches, decode};
use weir_log::{Log, LogConfig};

use common::{ManualClock, batch_for, value_for};

#[derive(Debug, Clone)]
enum Op {
    Append {
        count: usize,
        value_len: usize,
        ts_step: i64,
        codec: usize,
    },
    Read {
        pick: u64,
        max_bytes: usize,
    },
    LookupTimestamp {
        pick: u64,
    },
    Roll,
    Advance(i64),
    Retention,
    Truncate {
        pick: u64,
    },
    Flush,
    Reopen {
        clean: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1usize..12, 0usize..300, -40i64..120, 0usize..5).prop_map(|(count, value_len, ts_step, codec)| {
            Op::Append { count, value_len, ts_step, codec }
        }),
        4 => (any::<u64>(), 0usize..6000).prop_map(|(pick, max_bytes)| Op::Read { pick, max_bytes }),
        3 => any::<u64>().prop_map(|pick| Op::LookupTimestamp { pick }),
        1 => Just(Op::Roll),
        2 => (0i64..800).prop_map(Op::Advance),
        1 => Just(Op::Retention),
        1 => any::<u64>().prop_map(|pick| Op::Truncate { pick }),
        1 => Just(Op::Flush),
        1 => any::<bool>().prop_map(|clean| Op::Reopen { clean }),
    ]
}

fn config() -> impl Strategy<Value = LogConfig> {
    (
        1024u64..6000,
        500u64..3000,
        1u32..1500,
        prop::option::of(200u64..4000),
        prop::option::of(3000u64..20000),
        // Write-back starts never change what is read: 0 (never), every append, or between.
        prop_oneof![Just(0u64), Just(1), 1u64..4000],
    )
        .prop_map(
            |(segment_bytes, segment_ms, interval, retention_ms, retention_bytes, writeback)| {
                LogConfig {
                    segment_bytes,
                    segment_ms,
                    index_interval_bytes: interval,
                    retention_ms,
                    retention_bytes,
                    writeback_bytes: writeback,
                    ..LogConfig::default()
                }
            },
        )
}

#[derive(Debug, Clone)]
struct ModelBatch {
    base: i64,
    timestamps: Vec<i64>,
    value_len: usize,
    size: u64,
}

impl ModelBatch {
    fn next(&self) -> i64 {
        self.base + self.timestamps.len() as i64
    }

    fn max_ts(&self) -> i64 {
        *self.timestamps.iter().max().expect("non-empty batch")
    }
}

#[derive(Debug, Clone)]
struct ModelSegment {
    base: i64,
    batches: Vec<ModelBatch>,
    first_append_ms: Option<i64>,
}

impl ModelSegment {
    fn new(base: i64) -> Self {
        ModelSegment {
            base,
            batches: vec![],
            first_append_ms: None,
        }
    }

    fn size(&self) -> u64 {
        self.batches.iter().map(|b| b.size).sum()
    }

    fn max_ts(&self) -> i64 {
        self.batches
            .iter()
            .map(ModelBatch::max_ts)
            .max()
            .unwrap_or(i64::MIN)
    }

    fn next(&self) -> i64 {
        self.batches.last().map_or(self.base, ModelBatch::next)
    }
}

/// The log as a list of segments of batches, with the rolling and retention rules spelled out
/// the simplest way.
#[derive(Debug)]
struct Model {
    config: LogConfig,
    segments: Vec<ModelSegment>,
    next_ts: i64,
}

impl Model {
    fn start(&self) -> i64 {
        self.segments[0].base
    }

    fn end(&self) -> i64 {
        self.segments.last().unwrap().next()
    }

    fn pick(&self, pick: u64) -> i64 {
        let span = (self.end() - self.start() + 1) as u64;
        self.start() + (pick % span) as i64
    }

    fn append(&mut self, batch: ModelBatch, now: i64) {
        let active = self.segments.last().unwrap();
        let full = active.size() + batch.size > self.config.segment_bytes;
        let old = active
            .first_append_ms
            .is_some_and(|t| now - t >= self.config.segment_ms as i64);
        if active.size() > 0 && (full || old) {
            self.roll();
        }
        let active = self.segments.last_mut().unwrap();
        active.first_append_ms.get_or_insert(now);
        active.batches.push(batch);
    }

    fn roll(&mut self) {
        if self.segments.last().unwrap().size() > 0 {
            let base = self.end();
            self.segments.push(ModelSegment::new(base));
        }
    }

    fn retention(&mut self, now: i64) -> usize {
        let mut deleted = 0;
        let mut total: u64 = self.segments.iter().map(ModelSegment::size).sum();
        while self.segments.len() > 1 {
            let oldest = &self.segments[0];
            let expired = self
                .config
                .retention_ms
                .is_some_and(|ms| oldest.max_ts() < now - ms as i64);
            let oversize = self
                .config
                .retention_bytes
                .is_some_and(|max| total - oldest.size() >= max);
            if !(expired || oversize) {
                break;
            }
            total -= oldest.size();
            self.segments.remove(0);
            deleted += 1;
        }
        deleted
    }

    fn truncate(&mut self, offset: i64) -> i64 {
        if offset == self.end() {
            return offset;
        }
        while self.segments.len() > 1 && self.segments.last().unwrap().base >= offset {
            self.segments.pop();
        }
        let active = self.segments.last_mut().unwrap();
        if let Some(i) = active.batches.iter().position(|b| b.next() > offset) {
            active.batches.truncate(i);
        }
        if active.batches.is_empty() {
            active.first_append_ms = None;
        }
        self.end()
    }

    fn batches(&self) -> impl Iterator<Item = (usize, &ModelBatch)> {
        self.segments
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.batches.iter().map(move |b| (i, b)))
    }

    /// Expected (first offset, next offset) of a read: the batch holding `offset`, then as many
    /// following batches of the same segment as fit in `max_bytes`.
    fn read(&self, offset: i64, max_bytes: usize) -> Option<(i64, i64)> {
        let (seg, first) = self.batches().find(|(_, b)| b.next() > offset)?;
        let mut used = first.size;
        let mut next = first.next();
        for b in self.segments[seg]
            .batches
            .iter()
            .filter(|b| b.base > first.base)
        {
            if used + b.size > max_bytes as u64 {
                break;
            }
            used += b.size;
            next = b.next();
        }
        Some((first.base, next))
    }

    fn offset_for_timestamp(&self, ts: i64) -> Option<i64> {
        let (_, batch) = self.batches().find(|(_, b)| b.max_ts() >= ts)?;
        let i = batch.timestamps.iter().position(|&t| t >= ts).unwrap();
        Some(batch.base + i as i64)
    }
}

fn check_agrees(log: &Log, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(log.log_start_offset(), model.start());
    prop_assert_eq!(log.log_end_offset(), model.end());
    let segs = log.segments();
    prop_assert_eq!(segs.len(), model.segments.len(), "segments {:?}", segs);
    for (s, m) in segs.iter().zip(&model.segments) {
        prop_assert_eq!(s.base_offset, m.base);
        prop_assert_eq!(s.next_offset, m.next());
        prop_assert_eq!(s.size_bytes, m.size());
        prop_assert_eq!(s.max_timestamp, m.max_ts());
    }
    Ok(())
}

fn check_read(
    log: &Log,
    model: &Model,
    offset: i64,
    max_bytes: usize,
) -> Result<(), TestCaseError> {
    let slice = log
        .read(offset, max_bytes)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let Some((first, next)) = model.read(offset, max_bytes) else {
        prop_assert!(slice.is_empty());
        prop_assert_eq!(slice.next_offset(), model.end());
        return Ok(());
    };
    prop_assert_eq!(slice.first_offset(), first);
    prop_assert_eq!(slice.next_offset(), next);
    let bytes = slice.to_vec().unwrap();
    let mut expected = first;
    for batch in batches(&bytes) {
        let (_, b) = batch.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (h, records) = decode(b, &DecodeLimits::default()).unwrap();
        let m = model
            .batches()
            .map(|(_, m)| m)
            .find(|m| m.base == h.base_offset)
            .unwrap();
        for (r, ts) in records.iter().zip(&m.timestamps) {
            prop_assert_eq!(r.offset, expected);
            prop_assert_eq!(r.timestamp, *ts);
            prop_assert_eq!(
                r.value.as_deref(),
                Some(&value_for(r.offset, m.value_len)[..])
            );
            expected += 1;
        }
    }
    prop_assert_eq!(expected, next);
    Ok(())
}

fn run(config: LogConfig, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000_000);
    let open = |clock: &Arc<ManualClock>| {
        Log::open_with_clock(dir.path(), config.clone(), clock.clone()).expect("open")
    };
    let mut log = open(&clock);
    let mut model = Model {
        config: config.clone(),
        segments: vec![ModelSegment::new(0)],
        next_ts: 1_000_000,
    };
    for op in ops {
        let now = weir_log::Clock::now_ms(&*clock);
        match op {
            Op::Append {
                count,
                value_len,
                ts_step,
                codec,
            } => {
                let ts = model.next_ts;
                model.next_ts += ts_step;
                let base = model.end();
                let bytes = batch_for(base, count, value_len, ts, Compression::ALL[codec]);
                let size = bytes.len() as u64;
                let info = log.append(&bytes).expect("append");
                prop_assert_eq!(info.base_offset, base);
                prop_assert_eq!(info.last_offset, base + count as i64 - 1);
                let timestamps = (0..count as i64).map(|i| ts + i).collect();
                model.append(
                    ModelBatch {
                        base,
                        timestamps,
                        value_len,
                        size,
                    },
                    now,
                );
            }
            Op::Read { pick, max_bytes } => check_read(&log, &model, model.pick(pick), max_bytes)?,
            Op::LookupTimestamp { pick } => {
                let ts = 999_900 + (pick % (model.next_ts - 999_800).max(1) as u64) as i64;
                let got = log.offset_for_timestamp(ts).expect("lookup");
                prop_assert_eq!(got, model.offset_for_timestamp(ts), "timestamp {}", ts);
            }
            Op::Roll => {
                log.roll().expect("roll");
                model.roll();
            }
            Op::Advance(ms) => clock.advance(ms),
            Op::Retention => {
                let outcome = log.apply_retention().expect("retention");
                prop_assert_eq!(outcome.segments_deleted, model.retention(now));
            }
            Op::Truncate { pick } => {
                let offset = model.pick(pick);
                let end = log.truncate(offset).expect("truncate");
                prop_assert_eq!(end, model.truncate(offset));
            }
            Op::Flush => {
                prop_assert_eq!(log.flush().expect("flush"), model.end());
            }
            Op::Reopen { clean } => {
                if clean {
                    log.close().expect("close");
                } else {
                    drop(log);
                }
                log = open(&clock);
                prop_assert_eq!(log.recovery_report().clean, clean);
                prop_assert_eq!(&log.recovery_report().truncated, &None);
                for seg in &mut model.segments {
                    seg.first_append_ms = None;
                }
            }
        }
        check_agrees(&log, &model)?;
    }
    // Every offset reads back, at several read sizes.
    for offset in model.start()..=model.end() {
        check_read(&log, &model, offset, 1)?;
        check_read(&log, &model, offset, 1 << 20)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn log_agrees_with_model(config in config(), ops in prop::collection::vec(op(), 1..80)) {
        run(config, ops)?;
    }
}
