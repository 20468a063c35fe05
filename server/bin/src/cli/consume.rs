//! `weir consume TOPIC`: records as JSON lines on stdout.
//!
//! Owns where reading starts (`--from-beginning`, `--offset`, `--timestamp`, latest by
//! default), where it stops (each partition's high watermark at start, or never with
//! `--follow`, or after `--max-records`) and the line format, which is the REST API's record
//! JSON (`record_dto`) so both interfaces show the same bytes the same way. One reader task
//! per partition long-polls Fetch; one printer writes lines in the order chunks arrive. Must
//! not commit offsets or join groups: this is a plain reader.

use std::collections::HashMap;
use std::io::Write;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use weir_api::rest::records::record_dto;
use weir_proto::batch::{BatchError, DecodeLimits, batches, decode};
use weir_proto::v1::{
    FetchRequest, FetchResponse, ListOffsetsRequest, OffsetSpec, PartitionInfo, TopicInfo, TopicRef,
};

use super::{CliError, ConnectArgs, Connection};

/// Bytes asked for per fetch (1 MiB): a few hundred typical records per round trip.
pub const FETCH_BYTES_MAX: u32 = 1 << 20;
/// How long one fetch waits for new records before answering empty (long poll), in ms.
const FETCH_WAIT_MS: u32 = 1_000;
/// Decoded chunks (one per fetch) waiting for the printer; bounds memory when stdout is slow.
const CHUNK_QUEUE_CHUNKS: usize = 16;

/// `weir consume`
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    /// Topic to read.
    topic: String,
    /// Read only this partition (default: all).
    #[arg(long)]
    partition: Option<i32>,
    /// Start at the oldest stored record.
    #[arg(long, conflicts_with_all = ["offset", "timestamp"])]
    from_beginning: bool,
    /// Start at this offset in every partition read.
    #[arg(long, conflicts_with = "timestamp")]
    offset: Option<i64>,
    /// Start at the first record with a timestamp at or after this (ms since the Unix epoch).
    #[arg(long, value_name = "MS")]
    timestamp: Option<i64>,
    /// Keep waiting for new records instead of stopping at the end. Without --follow and
    /// without a start flag, reading starts at the end and prints nothing.
    #[arg(long)]
    follow: bool,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Where reading starts in each partition.
#[derive(Debug, Clone, Copy)]
enum Start {
    Beginning,
    Latest,
    Offset(i64),
    Timestamp(i64),
}

/// What one reader task reads.
#[derive(Debug, Clone, Copy)]
struct Range {
    partition: i32,
    start: i64,
    /// Stop before this offset; `None` follows forever.
    end: Option<i64>,
}

/// One fetch's records as JSON lines, or why a reader stopped.
type Chunk = Result<Vec<String>, CliError>;

/// Reads the topic and prints its records.
pub async fn run(args: ConsumeArgs) -> Result<(), CliError> {
    let conn = Connection::open(&args.connect).await?;
    let info = conn
        .admin()
        .describe_topic(TopicRef {
            tenant: conn.tenant().to_owned(),
            name: args.topic.clone(),
        })
        .await
        .map_err(|s| conn.error(s))?
        .into_inner();
    let chosen = chosen_partitions(&info, args.partition)?;
    let ranges = ranges(&conn, &args, &chosen).await?;
    let (tx, rx) = mpsc::channel(CHUNK_QUEUE_CHUNKS);
    let mut readers = JoinSet::new();
    for range in ranges {
        if range.end.is_some_and(|end| range.start >= end) {
            continue;
        }
        let reader = Reader {
            conn: conn.clone(),
            topic: args.topic.clone(),
            range,
        };
        readers.spawn(reader.run(tx.clone()));
    }
    drop(tx);
    // Dropping `readers` on return stops any reader still fetching.
    print_lines(rx, args.max_records).await
}

fn chosen_partitions(info: &TopicInfo, only: Option<i32>) -> Result<Vec<PartitionInfo>, CliError> {
    let Some(p) = only else {
        return Ok(info.partitions.clone());
    };
    match info.partitions.iter().find(|i| i.partition == p) {
        Some(found) => Ok(vec![*found]),
        None => Err(CliError::Usage(format!(
            "topic {} has no partition {p} (it has {})",
            info.name,
            info.partitions.len()
        ))),
    }
}

fn start_of(args: &ConsumeArgs) -> Start {
    match (args.from_beginning, args.offset, args.timestamp) {
        (true, _, _) => Start::Beginning,
        (_, Some(offset), _) => Start::Offset(offset),
        (_, _, Some(ts)) => Start::Timestamp(ts),
        _ => Start::Latest,
    }
}

async fn ranges(
    conn: &Connection,
    args: &ConsumeArgs,
    partitions: &[PartitionInfo],
) -> Result<Vec<Range>, CliError> {
    let start = start_of(args);
    let by_time = match start {
        Start::Timestamp(ts) => offsets_for_time(conn, &args.topic, partitions, ts).await?,
        _ => HashMap::new(),
    };
    let ranges = partitions.iter().map(|p| {
        let first = match start {
            Start::Beginning => p.log_start_offset,
            Start::Latest => p.high_watermark,
            Start::Offset(offset) => offset,
            // -1 (or no answer): no record that late yet, so start at the end.
            Start::Timestamp(_) => match by_time.get(&p.partition) {
                Some(&offset) if offset >= 0 => offset,
                _ => p.high_watermark,
            },
        };
        Range {
            partition: p.partition,
            start: first,
            end: (!args.follow).then_some(p.high_watermark),
        }
    });
    Ok(ranges.collect())
}

async fn offsets_for_time(
    conn: &Connection,
    topic: &str,
    partitions: &[PartitionInfo],
    timestamp: i64,
) -> Result<HashMap<i32, i64>, CliError> {
    let request = ListOffsetsRequest {
        tenant: conn.tenant().to_owned(),
        topic: topic.to_owned(),
        partitions: partitions.iter().map(|p| p.partition).collect(),
        spec: OffsetSpec::Timestamp as i32,
        timestamp,
    };
    let response = conn
        .admin()
        .list_offsets(request)
        .await
        .map_err(|s| conn.error(s))?
        .into_inner();
    Ok(response
        .offsets
        .into_iter()
        .map(|o| (o.partition, o.offset))
        .collect())
}

/// Reads one partition and hands decoded chunks to the printer.
#[derive(Debug)]
struct Reader {
    conn: Connection,
    topic: String,
    range: Range,
}

impl Reader {
    async fn run(self, tx: mpsc::Sender<Chunk>) {
        let mut position = self.range.start;
        while self.range.end.is_none_or(|end| position < end) {
            let request = FetchRequest {
                tenant: self.conn.tenant().to_owned(),
                topic: self.topic.clone(),
                partition: self.range.partition,
                offset: position,
                max_bytes: FETCH_BYTES_MAX,
                wait_ms: FETCH_WAIT_MS,
            };
            let fetched = self
                .conn
                .fetch_once(&request)
                .await
                .and_then(|r| self.decode(&r, position));
            let (lines, next) = match fetched {
                Ok(fetched) => fetched,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            // Without --follow the end is below the high watermark, so a fetch that moves
            // nothing means the records are gone; stop rather than spin.
            if next <= position && lines.is_empty() && self.range.end.is_some() {
                return;
            }
            position = next.max(position);
            if !lines.is_empty() && tx.send(Ok(lines)).await.is_err() {
                return;
            }
        }
    }

    /// The records of a response at or after `position` (and before the end) as JSON lines,
    /// and the offset to fetch next.
    fn decode(
        &self,
        response: &FetchResponse,
        position: i64,
    ) -> Result<(Vec<String>, i64), CliError> {
        let partition = self.range.partition;
        let mut lines = Vec::new();
        let mut next = position;
        let mut torn = false;
        for item in batches(&response.batches) {
            let (header, bytes) = match item {
                Ok(batch) => batch,
                // A partial last batch: fetch it again from its start.
                Err(BatchError::Truncated { .. }) => {
                    torn = true;
                    break;
                }
                Err(e) => return Err(corrupt(partition, next, &e)),
            };
            let (_, records) = decode(bytes, &DecodeLimits::default())
                .map_err(|e| corrupt(partition, next, &e))?;
            let wanted = records
                .into_iter()
                .filter(|r| r.offset >= position && self.range.end.is_none_or(|e| r.offset < e));
            for record in wanted {
                let dto = record_dto(record, Some(partition.max(0) as u32));
                let line = serde_json::to_string(&dto)
                    .map_err(|e| CliError::Usage(format!("cannot render a record as json: {e}")))?;
                lines.push(line);
            }
            next = next.max(header.next_offset());
        }
        if !torn {
            next = next.max(response.next_offset);
        }
        Ok((lines, next))
    }
}

fn corrupt(partition: i32, offset: i64, e: &BatchError) -> CliError {
    CliError::Server {
        code: "INVALID_BATCH".into(),
        message: format!("partition {partition} returned a bad batch near offset {offset}: {e}"),
    }
}

/// Prints chunks until every reader is done, a reader fails, or `max` lines were printed.
async fn print_lines(mut rx: mpsc::Receiver<Chunk>, max: Option<u64>) -> Result<(), CliError> {
    let mut printed = 0u64;
    if max == Some(0) {
        return Ok(());
    }
    while let Some(chunk) = rx.recv().await {
        let lines = chunk?;
        let mut out = std::io::stdout().lock();
        for line in lines {
            if let Err(e) = writeln!(out, "{line}") {
                return stdout_closed(e);
            }
            printed += 1;
            if max.is_some_and(|m| printed >= m) {
                break;
            }
        }
        if let Err(e) = out.flush() {
            return stdout_closed(e);
        }
        if max.is_some_and(|m| printed >= m) {
            return Ok(());
        }
    }
    Ok(())
}

/// A closed pipe (`weir consume ... | head`) is a normal way to stop reading.
fn stdout_closed(e: std::io::Error) -> Result<(), CliError> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(CliError::Io {
        what: "cannot write to stdout".into(),
        source: e,
    })
}
