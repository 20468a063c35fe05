//! `weir bench produce | consume`: end-to-end load over gRPC, in the manner of Kafka's
//! kafka-producer-perf-test and kafka-consumer-perf-test.
//!
//! Owns the flags both commands share and the rules for when a run stops (`--total-bytes` or
//! `--duration`). Reports records/s and MB/s (bytes ÷ wall time, MB = 1,000,000 bytes) and
//! latency p50/p99/p999/max. Must not assert anything about speed: it measures and prints,
//! and the machine's figures are for people to judge.

mod consume;
mod produce;
mod progress;
mod report;
mod units;

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{CliError, ConnectArgs, Connection};

/// Runs load against a node and reports throughput and latency. MB = 1,000,000 bytes.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Write pre-built RecordBatches as fast as the server takes them.
    ///
    /// Bytes counted are record value bytes (records × --record-size), as
    /// kafka-producer-perf-test counts them; MB = 1,000,000 bytes.
    Produce(produce::ProduceArgs),
    /// Read a topic from its start with FetchStream, one stream per partition.
    ///
    /// Bytes counted are RecordBatch bytes received (compressed size when compressed); stops
    /// at --total-bytes, --duration, or when every partition reached the high watermark it had
    /// at start. MB = 1,000,000 bytes.
    Consume(consume::ConsumeArgs),
}

/// Flags of both bench commands.
#[derive(Debug, clap::Args)]
struct CommonArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Topic to use.
    #[arg(long, default_value = "bench")]
    topic: String,
    /// Stop after this many bytes: 5000000, 500MB, 2GB, 1GiB (MB = 1,000,000 bytes).
    /// Produce defaults to 2GB; consume reads everything there is.
    #[arg(long, value_name = "SIZE", value_parser = units::parse_bytes, conflicts_with = "duration")]
    total_bytes: Option<u64>,
    /// Stop after this long: 10s, 500ms, 2m.
    #[arg(long, value_parser = units::parse_duration)]
    duration: Option<Duration>,
    /// Print one JSON object as the last line of stdout and no progress bar: {records, bytes,
    /// seconds, records_per_sec, mb_per_sec, p50_ms, p99_ms, p999_ms, max_ms}.
    #[arg(long)]
    json: bool,
}

impl CommonArgs {
    /// Whether to draw a progress bar.
    fn show_progress(&self) -> bool {
        !self.json && std::io::stdout().is_terminal()
    }
}

/// Runs a bench command.
pub async fn run(args: BenchArgs) -> Result<(), CliError> {
    match args.command {
        BenchCommand::Produce(a) => produce::run(a).await,
        BenchCommand::Consume(a) => consume::run(a).await,
    }
}

/// One connection per worker, so workers do not share an HTTP/2 connection's window and
/// its single I/O task.
async fn connect_each(args: &ConnectArgs, count: usize) -> Result<Vec<Connection>, CliError> {
    let mut conns = Vec::with_capacity(count);
    for _ in 0..count {
        conns.push(Connection::open(args).await?);
    }
    Ok(conns)
}
