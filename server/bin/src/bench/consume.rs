//! `weir bench consume`: consumers reading a topic from its start with FetchStream.
//!
//! Each consumer has its own connection and one FetchStream per partition it was given
//! (partitions are dealt round robin). Batches are validated (length, magic, CRC) but records
//! are not decoded, as a broker-side read benchmark should not be bound by client decoding.
//! Latency is the fetch round trip as a stream sees it: the time from opening the stream, or
//! from the previous response on it, to the next response carrying batches. Stops at
//! `--total-bytes`, `--duration`, or when every partition reached the high watermark it had
//! when the run started. Must not write anything to the topic.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio_stream::{StreamExt, StreamMap};
use weir_proto::batch::batches;
use weir_proto::v1::{FetchRequest, TopicRef};

use super::progress::{Counters, Goal, Progress};
use super::report::{self, Report};
use super::{CommonArgs, connect_each};
use crate::cli::{CliError, Connection};

/// Bytes asked for per fetch response by default (1 MiB, Kafka's max.partition.fetch.bytes).
const FETCH_BYTES_DEFAULT: u32 = 1 << 20;
/// How long the server may hold a fetch open waiting for records, in ms. Bench reads stop at
/// the high watermark seen at start, so this only matters when records vanish (retention).
const FETCH_WAIT_MS: u32 = 500;

/// `weir bench consume`
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Concurrent consumers, each with its own connection (default: one per partition).
    #[arg(long)]
    consumers: Option<usize>,
    /// Bytes asked for per fetch response.
    #[arg(long, value_name = "BYTES", default_value_t = FETCH_BYTES_DEFAULT)]
    fetch_bytes: u32,
}

/// One partition to read, `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Range {
    partition: i32,
    start: i64,
    end: i64,
}

/// When consumers stop, besides reaching the end.
#[derive(Debug)]
struct Stop {
    bytes: Option<u64>,
    deadline: Option<Instant>,
}

impl Stop {
    fn reached(&self, counters: &Counters) -> bool {
        self.bytes.is_some_and(|max| counters.bytes() >= max)
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// What every consumer shares.
#[derive(Debug)]
struct Plan {
    tenant: String,
    topic: String,
    fetch_bytes: u32,
    stop: Stop,
    counters: Arc<Counters>,
}

/// Runs the consumers and prints the report.
pub async fn run(args: ConsumeArgs) -> Result<(), CliError> {
    if args.consumers == Some(0) || args.fetch_bytes == 0 {
        return Err(CliError::Usage(
            "--consumers and --fetch-bytes must be at least 1".into(),
        ));
    }
    let admin = Connection::open(&args.common.connect).await?;
    let ranges = readable_ranges(&admin, &args.common.topic).await?;
    let consumers = args.consumers.unwrap_or(ranges.len()).min(ranges.len());
    let mut assigned = vec![Vec::new(); consumers];
    for (i, range) in ranges.iter().enumerate() {
        assigned[i % consumers].push(*range);
    }
    let available: i64 = ranges.iter().map(|r| r.end - r.start).sum();
    eprintln!(
        "weir: consuming {available} records of {} ({} partitions) with {consumers} consumers",
        args.common.topic,
        ranges.len()
    );
    let conns = connect_each(&args.common.connect, consumers).await?;
    let counters = Arc::new(Counters::default());
    let goal = match (args.common.total_bytes, args.common.duration) {
        (Some(bytes), _) => Goal::Bytes(bytes),
        (None, Some(d)) => Goal::Time(d),
        (None, None) => Goal::Records(u64::try_from(available).unwrap_or(0)),
    };
    let progress = Progress::start(goal, Arc::clone(&counters), args.common.show_progress());
    let started = Instant::now();
    let plan = Arc::new(Plan {
        tenant: admin.tenant().to_owned(),
        topic: args.common.topic.clone(),
        fetch_bytes: args.fetch_bytes,
        stop: Stop {
            bytes: args.common.total_bytes,
            deadline: args.common.duration.map(|d| started + d),
        },
        counters: Arc::clone(&counters),
    });
    let mut workers = JoinSet::new();
    for (conn, ranges) in conns.into_iter().zip(assigned) {
        workers.spawn(consume(conn, Arc::clone(&plan), ranges));
    }
    let latencies = join_all(workers).await;
    let elapsed = started.elapsed();
    progress.finish();
    let report = Report::new(counters.records(), counters.bytes(), elapsed, &latencies?);
    report.print(args.common.json, "fetch round trip");
    Ok(())
}

/// Partitions with records, from their log start to their current high watermark.
async fn readable_ranges(conn: &Connection, topic: &str) -> Result<Vec<Range>, CliError> {
    let topic_ref = TopicRef {
        tenant: conn.tenant().to_owned(),
        name: topic.to_owned(),
    };
    let info = conn
        .admin()
        .describe_topic(topic_ref)
        .await
        .map_err(|s| conn.error(s))?
        .into_inner();
    let ranges: Vec<Range> = info
        .partitions
        .iter()
        .filter(|p| p.high_watermark > p.log_start_offset)
        .map(|p| Range {
            partition: p.partition,
            start: p.log_start_offset,
            end: p.high_watermark,
        })
        .collect();
    if ranges.is_empty() {
        return Err(CliError::Usage(format!(
            "topic {topic} has no records to read; run `weir bench produce --topic {topic}` first"
        )));
    }
    Ok(ranges)
}

async fn join_all(
    mut workers: JoinSet<Result<Histogram<u64>, CliError>>,
) -> Result<Histogram<u64>, CliError> {
    let mut latencies = report::histogram();
    while let Some(joined) = workers.join_next().await {
        let part = joined
            .map_err(|e| CliError::Incomplete(format!("a consumer stopped unexpectedly: {e}")))
            .and_then(|r| r);
        match part {
            Ok(part) => report::merge(&mut latencies, &part),
            Err(e) => {
                workers.abort_all();
                return Err(e);
            }
        }
    }
    Ok(latencies)
}

/// Where a stream stands.
#[derive(Debug)]
struct Track {
    end: i64,
    last: Instant,
    done: bool,
}

/// One consumer: a FetchStream per assigned partition, read as responses arrive.
async fn consume(
    conn: Connection,
    plan: Arc<Plan>,
    ranges: Vec<Range>,
) -> Result<Histogram<u64>, CliError> {
    let mut latencies = report::histogram();
    let mut streams = StreamMap::new();
    let mut tracks = HashMap::new();
    for range in ranges {
        let opened = Instant::now();
        let request = FetchRequest {
            tenant: plan.tenant.clone(),
            topic: plan.topic.clone(),
            partition: range.partition,
            offset: range.start,
            max_bytes: plan.fetch_bytes,
            wait_ms: FETCH_WAIT_MS,
        };
        let stream = conn.fetch_stream(&request).await?;
        streams.insert(range.partition, stream);
        let track = Track {
            end: range.end,
            last: opened,
            done: false,
        };
        tracks.insert(range.partition, track);
    }
    while let Some((partition, item)) = streams.next().await {
        let response = item.map_err(CliError::from)?;
        let Some(track) = tracks.get_mut(&partition) else {
            continue;
        };
        let now = Instant::now();
        if !response.batches.is_empty() {
            report::record(&mut latencies, now - track.last);
        }
        track.last = now;
        let (records, bytes) = count(&response.batches, track.end, partition)?;
        plan.counters.add(records, bytes);
        if response.next_offset >= track.end {
            track.done = true;
            streams.remove(&partition);
        }
        if plan.stop.reached(&plan.counters) {
            return Ok(latencies);
        }
    }
    match tracks.iter().find(|(_, t)| !t.done) {
        Some((p, t)) => Err(CliError::Incomplete(format!(
            "the fetch stream of partition {p} ended before offset {}",
            t.end
        ))),
        None => Ok(latencies),
    }
}

/// Records and bytes of the whole batches in `bytes` that start before `end`, each validated.
fn count(bytes: &[u8], end: i64, partition: i32) -> Result<(u64, u64), CliError> {
    let (mut records, mut total) = (0u64, 0u64);
    for item in batches(bytes) {
        let (header, batch) = item.map_err(|e| CliError::Server {
            code: "INVALID_BATCH".into(),
            message: format!("partition {partition} returned a bad batch: {e}"),
        })?;
        if header.base_offset >= end {
            break;
        }
        records += u64::try_from(header.records_count).unwrap_or(0);
        total += batch.len() as u64;
    }
    Ok((records, total))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stop_needs_bytes_or_time() {
        let counters = Counters::default();
        let open = Stop {
            bytes: None,
            deadline: None,
        };
        counters.add(10, 10_000);
        assert!(!open.reached(&counters));
        let by_bytes = Stop {
            bytes: Some(10_000),
            deadline: None,
        };
        assert!(by_bytes.reached(&counters));
        let by_time = Stop {
            bytes: None,
            deadline: Some(Instant::now() - Duration::from_millis(1)),
        };
        assert!(by_time.reached(&counters));
    }
}
