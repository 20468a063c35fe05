//! `weir bench produce`: producers writing RecordBatches over ProduceStream.
//!
//! As in kafka-producer-perf-test, the payload is built once: a few distinct batches of random
//! uppercase letters are encoded (and compressed) up front and every request sends one of
//! them as it is, so the figures measure the transport and the broker, not the client's
//! encoder. Each producer has its own connection, keeps up to `--max-in-flight` requests on
//! one stream, and targets partitions round robin. Latency is send → acknowledgement per batch.
//! Must not re-encode per send.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_stream::wrappers::ReceiverStream;
use weir_proto::batch::{BatchOptions, Compression, Record, encode};
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{Acks, CreateTopicRequest, ProduceRequest, ProduceResponse, TopicRef};

use super::progress::{Counters, Goal, Progress};
use super::report::{self, Report};
use super::{CommonArgs, connect_each};
use crate::cli::{CliError, Connection};

/// What `--total-bytes` defaults to: 2 GB of record values.
const TOTAL_BYTES_DEFAULT: u64 = 2_000_000_000;
/// Distinct batches built up front: enough that compression and caches do not see one
/// buffer over and over, few enough to keep memory at a few batches.
const PAYLOAD_VARIANTS: usize = 4;
/// Largest batch payload (`--record-size` × `--records-per-batch`, 64 MiB): all variants are
/// held in memory, and no server accepts larger messages by default anyway.
const BATCH_PAYLOAD_BYTES_MAX: usize = 64 << 20;

/// How the server acknowledges a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AckLevel {
    /// Answer before appending (errors are not reported).
    None,
    /// Answer once the leader appended.
    Leader,
    /// Answer once every in-sync replica has it.
    All,
}

impl AckLevel {
    fn name(self) -> &'static str {
        match self {
            AckLevel::None => "none",
            AckLevel::Leader => "leader",
            AckLevel::All => "all",
        }
    }

    fn wire(self) -> Acks {
        match self {
            AckLevel::None => Acks::None,
            AckLevel::Leader => Acks::Leader,
            AckLevel::All => Acks::All,
        }
    }
}

/// `weir bench produce`
#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Partitions of the topic when it has to be created.
    #[arg(long, default_value_t = 8)]
    partitions: u32,
    /// Concurrent producers, each with its own connection.
    #[arg(long, default_value_t = 8)]
    producers: usize,
    /// Bytes of each record value.
    #[arg(long, value_name = "BYTES", default_value_t = 1000)]
    record_size: usize,
    /// Records in each batch.
    #[arg(long, default_value_t = 1000)]
    records_per_batch: usize,
    /// Batch compression: none, gzip, snappy, lz4 or zstd.
    #[arg(long, default_value = "none", value_parser = parse_compression)]
    compression: Compression,
    /// When the server answers: none, leader or all.
    #[arg(long, value_enum, default_value_t = AckLevel::Leader)]
    acks: AckLevel,
    /// Requests each producer keeps unanswered on its stream.
    #[arg(long, default_value_t = 4)]
    max_in_flight: usize,
    /// Cap on the total send rate in MB/s (record value bytes), spread evenly over the
    /// producers, as kafka-producer-perf-test's --throughput. Requires --max-in-flight 1, so
    /// that waiting for a send slot never delays reading an answer (latency stays honest).
    #[arg(long, value_name = "MB_PER_SEC")]
    throughput: Option<f64>,
}

fn parse_compression(text: &str) -> Result<Compression, String> {
    text.parse()
        .map_err(|e: weir_proto::batch::BatchError| e.to_string())
}

/// What every producer shares.
#[derive(Debug)]
struct Plan {
    tenant: String,
    topic: String,
    partitions: u32,
    acks: Acks,
    max_in_flight: usize,
    payloads: Vec<Bytes>,
    records_per_batch: u64,
    /// Record value bytes per batch.
    payload_bytes: u64,
    /// Time between two sends of one producer, when the rate is capped.
    send_interval: Option<Duration>,
}

/// When producers stop sending.
#[derive(Debug)]
enum Budget {
    /// After this many more batches, over all producers.
    Batches(AtomicU64),
    /// At this instant.
    Until(Instant),
}

impl Budget {
    /// Claims one more batch; false when the run is over.
    fn take(&self) -> bool {
        match self {
            Budget::Batches(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            Budget::Until(deadline) => Instant::now() < *deadline,
        }
    }
}

/// Runs the producers and prints the report.
pub async fn run(args: ProduceArgs) -> Result<(), CliError> {
    check(&args)?;
    let admin = Connection::open(&args.common.connect).await?;
    let partitions = ensure_topic(&admin, &args.common.topic, args.partitions).await?;
    let payloads = build_payloads(&args)?;
    let payload_bytes = (args.record_size * args.records_per_batch) as u64;
    eprintln!(
        "weir: producing to {} ({partitions} partitions) with {} producers: batches of {} records × {} B, {} ({} B encoded), acks {}",
        args.common.topic,
        args.producers,
        args.records_per_batch,
        args.record_size,
        args.compression.name(),
        payloads[0].len(),
        args.acks.name(),
    );
    let conns = connect_each(&args.common.connect, args.producers).await?;
    let plan = Arc::new(Plan {
        tenant: admin.tenant().to_owned(),
        topic: args.common.topic.clone(),
        partitions,
        acks: args.acks.wire(),
        max_in_flight: args.max_in_flight,
        payloads,
        records_per_batch: args.records_per_batch as u64,
        payload_bytes,
        send_interval: args.throughput.map(|mb| {
            let per_producer = mb * 1e6 / args.producers as f64;
            Duration::from_secs_f64(payload_bytes as f64 / per_producer)
        }),
    });
    let (budget, goal) = budget(&args.common, payload_bytes);
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(goal, Arc::clone(&counters), args.common.show_progress());
    let started = Instant::now();
    let budget = Arc::new(budget);
    let mut producers = JoinSet::new();
    for (id, conn) in conns.into_iter().enumerate() {
        let producer = Producer {
            id,
            conn,
            plan: Arc::clone(&plan),
            budget: Arc::clone(&budget),
            counters: Arc::clone(&counters),
        };
        producers.spawn(producer.run());
    }
    let latencies = join_all(producers).await;
    let elapsed = started.elapsed();
    progress.finish();
    let report = Report::new(counters.records(), counters.bytes(), elapsed, &latencies?);
    report.print(args.common.json, "send → ack per batch");
    Ok(())
}

fn check(args: &ProduceArgs) -> Result<(), CliError> {
    if let Some(rate) = args.throughput {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(CliError::Usage(format!(
                "--throughput must be a positive number of MB/s, got {rate}"
            )));
        }
        if args.max_in_flight != 1 {
            return Err(CliError::Usage(
                "--throughput needs --max-in-flight 1".into(),
            ));
        }
    }
    let positive = [
        ("--producers", args.producers),
        ("--record-size", args.record_size),
        ("--records-per-batch", args.records_per_batch),
        ("--max-in-flight", args.max_in_flight),
        ("--partitions", args.partitions as usize),
    ];
    if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(CliError::Usage(format!("{flag} must be at least 1")));
    }
    let batch = args.record_size.saturating_mul(args.records_per_batch);
    if batch > BATCH_PAYLOAD_BYTES_MAX {
        return Err(CliError::Usage(format!(
            "--record-size × --records-per-batch is {batch} bytes, over {BATCH_PAYLOAD_BYTES_MAX}"
        )));
    }
    Ok(())
}

fn budget(common: &CommonArgs, payload_bytes: u64) -> (Budget, Goal) {
    if let Some(duration) = common.duration {
        return (
            Budget::Until(Instant::now() + duration),
            Goal::Time(duration),
        );
    }
    let total = common.total_bytes.unwrap_or(TOTAL_BYTES_DEFAULT);
    let batches = total.div_ceil(payload_bytes).max(1);
    (
        Budget::Batches(AtomicU64::new(batches)),
        Goal::Bytes(batches * payload_bytes),
    )
}

/// Uses the topic if it exists (whatever its partition count), creates it otherwise.
async fn ensure_topic(conn: &Connection, topic: &str, partitions: u32) -> Result<u32, CliError> {
    let topic_ref = TopicRef {
        tenant: conn.tenant().to_owned(),
        name: topic.to_owned(),
    };
    let info = match conn.admin().describe_topic(topic_ref).await {
        Ok(info) => info.into_inner(),
        Err(status) => {
            let error = conn.error(status);
            if error.code() != Some("TOPIC_NOT_FOUND") {
                return Err(error);
            }
            let request = CreateTopicRequest {
                tenant: conn.tenant().to_owned(),
                name: topic.to_owned(),
                partitions,
                config: None,
            };
            let created = conn.admin().create_topic(request).await;
            created.map_err(|s| conn.error(s))?.into_inner()
        }
    };
    let found = u32::try_from(info.partitions.len()).unwrap_or(u32::MAX);
    if found == 0 {
        return Err(CliError::Usage(format!("topic {topic} has no partitions")));
    }
    if found != partitions {
        eprintln!("weir: topic {topic} exists with {found} partitions; using them");
    }
    Ok(found)
}

/// Encodes `PAYLOAD_VARIANTS` distinct batches once; requests share them by reference count.
fn build_payloads(args: &ProduceArgs) -> Result<Vec<Bytes>, CliError> {
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let options = BatchOptions {
        compression: args.compression,
        ..BatchOptions::default()
    };
    (0..PAYLOAD_VARIANTS)
        .map(|variant| {
            let mut letters = Letters::seeded(variant as u64);
            let records: Vec<Record> = (0..args.records_per_batch)
                .map(|_| Record {
                    value: Some(letters.take(args.record_size)),
                    timestamp,
                    ..Record::default()
                })
                .collect();
            encode(&records, &options)
                .map(Bytes::from)
                .map_err(|e| CliError::Usage(format!("cannot build a batch: {e}")))
        })
        .collect()
}

/// Random uppercase letters (xorshift64*), as kafka-producer-perf-test fills its payload: text
/// that compresses about as well as typical data, not as well as zeros.
#[derive(Debug)]
struct Letters(u64);

impl Letters {
    fn seeded(seed: u64) -> Self {
        Letters(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn take(&mut self, len: usize) -> Bytes {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let mut bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
            // Eight letters per draw: the low byte of each step, mapped onto A..Z.
            for _ in 0..8.min(len - out.len()) {
                out.push(b'A' + (bits & 0xFF) as u8 % 26);
                bits >>= 8;
            }
        }
        Bytes::from(out)
    }
}

/// Waits for every producer and merges their histograms; the first failure stops the others.
async fn join_all(
    mut producers: JoinSet<Result<Histogram<u64>, CliError>>,
) -> Result<Histogram<u64>, CliError> {
    let mut latencies = report::histogram();
    while let Some(joined) = producers.join_next().await {
        let part = joined
            .map_err(|e| CliError::Incomplete(format!("a producer stopped unexpectedly: {e}")))
            .and_then(|r| r);
        match part {
            Ok(part) => report::merge(&mut latencies, &part),
            Err(e) => {
                producers.abort_all();
                return Err(e);
            }
        }
    }
    Ok(latencies)
}

/// One producer: one connection, one ProduceStream, up to `max_in_flight` requests on it.
#[derive(Debug)]
struct Producer {
    id: usize,
    conn: Connection,
    plan: Arc<Plan>,
    budget: Arc<Budget>,
    counters: Arc<Counters>,
}

/// Requests sent and not yet answered: sequence and send time, in send order (the server
/// answers in request order).
type InFlight = VecDeque<(u64, Instant)>;

impl Producer {
    async fn run(self) -> Result<Histogram<u64>, CliError> {
        let mut latencies = report::histogram();
        let (tx, rx) = mpsc::channel(self.plan.max_in_flight);
        let mut in_flight = InFlight::with_capacity(self.plan.max_in_flight);
        let mut sequence = 0;
        let mut next_send = Instant::now();
        // Queue the first requests before opening the stream, so they leave with it.
        self.fill(&tx, &mut in_flight, &mut sequence, &mut next_send)
            .await;
        if in_flight.is_empty() {
            return Ok(latencies);
        }
        let mut responses = self
            .conn
            .produce()
            .produce_stream(ReceiverStream::new(rx))
            .await
            .map_err(|s| self.conn.error(s))?
            .into_inner();
        while let Some((expected, sent)) = in_flight.pop_front() {
            let response = responses.message().await.map_err(|s| self.conn.error(s))?;
            report::record(&mut latencies, sent.elapsed());
            check_response(response, expected)?;
            self.counters
                .add(self.plan.records_per_batch, self.plan.payload_bytes);
            self.fill(&tx, &mut in_flight, &mut sequence, &mut next_send)
                .await;
        }
        Ok(latencies)
    }

    /// Sends requests until `max_in_flight` are unanswered or the budget is spent; with a
    /// capped rate, each send first waits for its slot (`next_send`).
    async fn fill(
        &self,
        tx: &mpsc::Sender<ProduceRequest>,
        in_flight: &mut InFlight,
        sequence: &mut u64,
        next_send: &mut Instant,
    ) {
        let plan = &self.plan;
        while in_flight.len() < plan.max_in_flight && self.budget.take() {
            if let Some(interval) = plan.send_interval {
                tokio::time::sleep_until((*next_send).into()).await;
                *next_send = (*next_send + interval).max(Instant::now());
            }
            *sequence += 1;
            let n = self.id as u64 + *sequence;
            let request = ProduceRequest {
                tenant: plan.tenant.clone(),
                topic: plan.topic.clone(),
                partition: (n % u64::from(plan.partitions)) as i32,
                acks: plan.acks as i32,
                payload: Some(Payload::Batch(
                    plan.payloads[n as usize % plan.payloads.len()].clone(),
                )),
                sequence: *sequence,
            };
            // The channel holds `max_in_flight` requests, so this never waits; it fails only
            // when the stream is gone, which the response loop reports.
            if tx.send(request).await.is_err() {
                return;
            }
            in_flight.push_back((*sequence, Instant::now()));
        }
    }
}

fn check_response(response: Option<ProduceResponse>, expected: u64) -> Result<(), CliError> {
    let Some(response) = response else {
        return Err(CliError::Incomplete(
            "the server closed the produce stream with requests unanswered".into(),
        ));
    };
    if let Some(e) = response.error {
        return Err(CliError::Server {
            code: e.code,
            message: e.message,
        });
    }
    if response.sequence != expected {
        return Err(CliError::Incomplete(format!(
            "answer for request {} arrived where {expected} was expected",
            response.sequence
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_uppercase_and_vary_by_seed() {
        let a = Letters::seeded(0).take(1_001);
        let b = Letters::seeded(1).take(1_001);
        assert_eq!(a.len(), 1_001);
        assert!(a.iter().all(u8::is_ascii_uppercase));
        assert_ne!(a, b);
    }

    #[test]
    fn byte_budget_rounds_up_to_whole_batches() {
        let common = CommonArgs {
            connect: crate::cli::ConnectArgs {
                url: String::new(),
                tenant: String::new(),
                token: None,
            },
            topic: "bench".into(),
            total_bytes: Some(5_000_001),
            duration: None,
            json: true,
        };
        let (budget, _) = budget(&common, 1_000_000);
        let mut taken = 0;
        while budget.take() {
            taken += 1;
        }
        assert_eq!(taken, 6);
    }
}
