//! `weir bench produce`: SDK producers (`weir::Producer::send_batch`) writing pre-built
//! RecordBatches, as kafka-producer-perf-test drives the Java producer with one payload.
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
use tokio::task::JoinSet;
use weir_proto::batch::{BatchOptions, Compression, Record, encode};
use weir_proto::v1::{CreateTopicRequest, TopicRef};

use super::CommonArgs;
use super::progress::{Counters, Goal, Progress};
use super::report::{self, Report};
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

    fn sdk(self) -> weir_sdk::Acks {
        match self {
            AckLevel::None => weir_sdk::Acks::None,
            AckLevel::Leader => weir_sdk::Acks::Leader,
            AckLevel::All => weir_sdk::Acks::All,
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
    /// Batches each producer keeps unanswered.
    #[arg(long, default_value_t = 4)]
    max_in_flight: usize,
    /// Idempotent producers: each batch gets the producer id and sequence stamped in (one
    /// copy of it), as the SDK does by default. Off, batches go out as built.
    #[arg(long)]
    idempotent: bool,
    /// Cap on the total send rate in MB/s (record value bytes), spread evenly over the
    /// producers, as kafka-producer-perf-test's --throughput. Requires --max-in-flight 1, so
    /// that waiting for a send slot never delays reading an answer (latency stays honest).
    #[arg(long, value_name = "MB_PER_SEC")]
    throughput: Option<f64>,
    /// Send for this long first without measuring (as kafka-producer-perf-test's
    /// --warmup-records): streams open, buffers and files are created, and the figures show
    /// the steady state. --duration and --total-bytes count from its end.
    #[arg(long, value_parser = super::units::parse_duration)]
    warmup: Option<Duration>,
}

fn parse_compression(text: &str) -> Result<Compression, String> {
    text.parse()
        .map_err(|e: weir_proto::batch::BatchError| e.to_string())
}

/// What every producer shares.
#[derive(Debug)]
struct Plan {
    topic: String,
    partitions: u32,
    producers: usize,
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
struct Budget {
    /// Batches sent before this instant are warm-up: sent, but neither counted nor timed.
    measured_from: Instant,
    limit: Limit,
}

#[derive(Debug)]
enum Limit {
    /// After this many more measured batches, over all producers.
    Batches(AtomicU64),
    /// At this instant.
    Until(Instant),
}

/// A batch a producer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    WarmUp,
    Measured,
}

impl Budget {
    /// Claims one more batch; `None` when the run is over.
    fn take(&self) -> Option<Turn> {
        let now = Instant::now();
        if now < self.measured_from {
            return Some(Turn::WarmUp);
        }
        let more = match &self.limit {
            Limit::Batches(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            Limit::Until(deadline) => now < *deadline,
        };
        more.then_some(Turn::Measured)
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
    let sdks = sdk_producers(&args, payloads[0].len()).await?;
    let plan = Arc::new(Plan {
        topic: args.common.topic.clone(),
        partitions,
        producers: args.producers,
        max_in_flight: args.max_in_flight,
        payloads,
        records_per_batch: args.records_per_batch as u64,
        payload_bytes,
        send_interval: args.throughput.map(|mb| {
            let per_producer = mb * 1e6 / args.producers as f64;
            Duration::from_secs_f64(payload_bytes as f64 / per_producer)
        }),
    });
    let warmup = args.warmup.unwrap_or(Duration::ZERO);
    let (budget, goal) = budget(&args.common, warmup, payload_bytes);
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(goal, Arc::clone(&counters), args.common.show_progress());
    let started = budget.measured_from;
    let budget = Arc::new(budget);
    let mut producers = JoinSet::new();
    for (id, sdk) in sdks.into_iter().enumerate() {
        let producer = Producer {
            id,
            sdk,
            plan: Arc::clone(&plan),
            budget: Arc::clone(&budget),
            counters: Arc::clone(&counters),
        };
        producers.spawn(producer.run());
    }
    let latencies = join_all(producers).await;
    let elapsed = started.elapsed();
    if let Some(warmup) = args.warmup {
        eprintln!("weir: the first {warmup:?} were warm-up and are not in the figures");
    }
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

fn budget(common: &CommonArgs, warmup: Duration, payload_bytes: u64) -> (Budget, Goal) {
    let measured_from = Instant::now() + warmup;
    let (limit, goal) = match common.duration {
        Some(duration) => (
            Limit::Until(measured_from + duration),
            Goal::Time(warmup + duration),
        ),
        None => {
            let total = common.total_bytes.unwrap_or(TOTAL_BYTES_DEFAULT);
            let batches = total.div_ceil(payload_bytes).max(1);
            (
                Limit::Batches(AtomicU64::new(batches)),
                Goal::Bytes(batches * payload_bytes),
            )
        }
    };
    let budget = Budget {
        measured_from,
        limit,
    };
    (budget, goal)
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

/// One SDK producer per bench producer: its own connection, each partition's batches on
/// that partition's stream, every batch `send_batch`'s bytes as built.
async fn sdk_producers(
    args: &ProduceArgs,
    batch_len: usize,
) -> Result<Vec<weir_sdk::Producer>, CliError> {
    let connect = &args.common.connect;
    let in_flight = if args.idempotent {
        args.max_in_flight
            .min(weir_sdk::producer::IDEMPOTENT_IN_FLIGHT_MAX)
    } else {
        args.max_in_flight
    };
    let buffer = weir_sdk::producer::BUFFER_BYTES_DEFAULT.max(batch_len * (args.max_in_flight + 1));
    let mut producers = Vec::with_capacity(args.producers);
    for _ in 0..args.producers {
        let mut builder = weir_sdk::Producer::builder()
            .url(connect.url.clone())
            .tenant(connect.tenant.clone())
            .acks(args.acks.sdk())
            .idempotence(args.idempotent)
            .max_in_flight(in_flight)
            .buffer_bytes(buffer);
        if let Some(token) = &connect.token {
            builder = builder.token(token.clone());
        }
        producers.push(builder.build().await?);
    }
    Ok(producers)
}

/// One bench producer: up to `max_in_flight` batches unanswered, over its partitions in turn.
#[derive(Debug)]
struct Producer {
    id: usize,
    sdk: weir_sdk::Producer,
    plan: Arc<Plan>,
    budget: Arc<Budget>,
    counters: Arc<Counters>,
}

/// Batches sent and not yet answered, with their turn and send time, in send order.
type InFlight = VecDeque<(weir_sdk::BatchDelivery, Turn, Instant)>;

impl Producer {
    async fn run(self) -> Result<Histogram<u64>, CliError> {
        let mut latencies = report::histogram();
        let mut in_flight = InFlight::with_capacity(self.plan.max_in_flight);
        let mut sequence = 0;
        let mut next_send = Instant::now() + self.phase();
        loop {
            self.fill(&mut in_flight, &mut sequence, &mut next_send)
                .await?;
            let Some((delivery, turn, sent)) = in_flight.pop_front() else {
                break;
            };
            delivery.await?;
            if turn == Turn::Measured {
                report::record(&mut latencies, sent.elapsed());
                self.counters
                    .add(self.plan.records_per_batch, self.plan.payload_bytes);
            }
        }
        self.sdk.close().await?;
        Ok(latencies)
    }

    /// With a capped rate, how far this producer's sends lag the first producer's: the
    /// producers take turns at even spacing, so the server sees the rate as a steady stream
    /// rather than all of them sending at the same instant and queueing behind each other.
    fn phase(&self) -> Duration {
        let producers = u32::try_from(self.plan.producers)
            .unwrap_or(u32::MAX)
            .max(1);
        let id = u32::try_from(self.id).unwrap_or(0);
        self.plan
            .send_interval
            .map_or(Duration::ZERO, |interval| interval * id / producers)
    }

    /// Sends batches until `max_in_flight` are unanswered or the budget is spent; with a
    /// capped rate, each send first waits for its slot (`next_send`).
    async fn fill(
        &self,
        in_flight: &mut InFlight,
        sequence: &mut u64,
        next_send: &mut Instant,
    ) -> Result<(), CliError> {
        let plan = &self.plan;
        while in_flight.len() < plan.max_in_flight {
            let Some(turn) = self.budget.take() else {
                break;
            };
            if let Some(interval) = plan.send_interval {
                tokio::time::sleep_until((*next_send).into()).await;
                *next_send = (*next_send + interval).max(Instant::now());
            }
            *sequence += 1;
            let n = self.id as u64 + *sequence;
            let partition = (n % u64::from(plan.partitions)) as u32;
            let payload = plan.payloads[n as usize % plan.payloads.len()].clone();
            let delivery = self.sdk.send_batch(&plan.topic, partition, payload).await?;
            in_flight.push_back((delivery, turn, Instant::now()));
        }
        Ok(())
    }
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

    /// Bench flags with a byte budget and nothing else.
    fn with_total_bytes(total: u64) -> CommonArgs {
        CommonArgs {
            connect: crate::cli::ConnectArgs {
                url: String::new(),
                tenant: String::new(),
                token: None,
            },
            topic: "bench".into(),
            total_bytes: Some(total),
            duration: None,
            json: true,
        }
    }

    #[test]
    fn byte_budget_rounds_up_to_whole_batches() {
        let common = with_total_bytes(5_000_001);
        let (budget, _) = budget(&common, Duration::ZERO, 1_000_000);
        let mut taken = 0;
        while budget.take() == Some(Turn::Measured) {
            taken += 1;
        }
        assert_eq!(taken, 6);
        assert_eq!(budget.take(), None);
    }

    #[test]
    fn warm_up_batches_do_not_use_the_budget() {
        let common = with_total_bytes(1_000_000);
        let warmup = Duration::from_millis(50);
        let (budget, _) = budget(&common, warmup, 1_000_000);
        for _ in 0..10 {
            assert_eq!(budget.take(), Some(Turn::WarmUp));
        }
        std::thread::sleep(warmup);
        assert_eq!(
            budget.take(),
            Some(Turn::Measured),
            "the one measured batch"
        );
        assert_eq!(budget.take(), None);
    }
}
