//! `weir produce TOPIC`: one record per line of stdin.
//!
//! Owns line parsing (`--key-separator`, `--format json`) and grouping lines into requests of
//! plain records, so the server picks partitions by key (murmur2, as Kafka does). Lines that
//! are already waiting go out together; a lone line typed at a terminal goes out at once.
//! Must not choose partitions itself or retry: a failed request ends the command, a failed
//! record is reported with its line number and makes the exit code 1.

use std::collections::BTreeSet;
use std::io::BufRead;

use bytes::Bytes;
use tokio::sync::mpsc;
use weir_proto::v1::produce_client::ProduceClient;
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{Acks, PlainRecord, ProduceRequest, RecordList};

use super::connect::AuthChannel;
use super::{CliError, ConnectArgs, Connection};

/// Most records in one request: large enough to amortise a round trip, far below the
/// server's `produce_records_max`.
pub const REQUEST_RECORDS_MAX: usize = 500;
/// A request is closed once its records reach this many bytes (1 MiB), well under the
/// server's gRPC message limit.
pub const REQUEST_BYTES_MAX: usize = 1 << 20;
/// Lines read ahead of the sender; bounds memory when stdin is faster than the server.
const LINE_QUEUE_LINES: usize = 4 * REQUEST_RECORDS_MAX;
/// Per-record failures printed before the rest are only counted.
const FAILURES_SHOWN_MAX: usize = 10;
/// Bytes a record costs beyond its key and value in a request (tags, lengths), roughly.
const RECORD_OVERHEAD_BYTES: usize = 16;

/// How each line's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Any bytes.
    Raw,
    /// Each value must be a JSON document.
    Json,
}

/// `weir produce`
#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    /// Topic to write to.
    topic: String,
    /// Split each line at the first SEP: the part before is the key, the rest the value.
    #[arg(long, value_name = "SEP")]
    key_separator: Option<String>,
    /// Write every record to this partition instead of choosing by key.
    #[arg(long)]
    partition: Option<i32>,
    /// Check that each value is JSON (`json`) or take it as it is (`raw`).
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    format: Format,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// One line of stdin, numbered from 1.
type Line = (u64, Vec<u8>);

/// Reads stdin and produces every line; prints a summary to stderr.
pub async fn run(args: ProduceArgs) -> Result<(), CliError> {
    let parser = Parser::new(&args)?;
    let conn = Connection::open(&args.connect).await?;
    let mut sender = Sender::new(&conn, &args.topic);
    let mut lines = spawn_stdin_reader();
    let mut batch = Batch::default();
    let outcome = loop {
        let Some(line) = lines.recv().await else {
            break Ok(());
        };
        let mut failed = line.and_then(|l| batch.push(&parser, l)).err();
        while failed.is_none() && !batch.is_full() {
            let Ok(line) = lines.try_recv() else { break };
            failed = line.and_then(|l| batch.push(&parser, l)).err();
        }
        if let Err(e) = sender.send(&mut batch).await {
            break Err(e);
        }
        if let Some(e) = failed {
            break Err(e);
        }
    };
    eprintln!("weir: {}", sender.summary());
    outcome?;
    sender.finish()
}

/// Reads stdin on its own thread (stdin is blocking) and numbers the lines.
fn spawn_stdin_reader() -> mpsc::Receiver<Result<Line, CliError>> {
    let (tx, rx) = mpsc::channel(LINE_QUEUE_LINES);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        for number in 1.. {
            let mut buf = Vec::new();
            let item = match stdin.read_until(b'\n', &mut buf) {
                Ok(0) => return,
                Ok(_) => Ok((number, trim_newline(buf))),
                Err(source) => Err(CliError::Io {
                    what: "cannot read stdin".into(),
                    source,
                }),
            };
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });
    rx
}

fn trim_newline(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    line
}

/// Turns lines into records.
#[derive(Debug)]
struct Parser {
    separator: Option<Vec<u8>>,
    format: Format,
    partition: Option<i32>,
}

impl Parser {
    fn new(args: &ProduceArgs) -> Result<Self, CliError> {
        if args.key_separator.as_deref() == Some("") {
            return Err(CliError::Usage("--key-separator must not be empty".into()));
        }
        Ok(Parser {
            separator: args.key_separator.as_ref().map(|s| s.as_bytes().to_vec()),
            format: args.format,
            partition: args.partition,
        })
    }

    fn record(&self, (number, line): Line) -> Result<PlainRecord, CliError> {
        let (key, value) = match &self.separator {
            None => (None, line),
            Some(sep) => {
                let at = find(&line, sep).ok_or_else(|| {
                    CliError::Usage(format!(
                        "line {number} has no key separator {:?}",
                        String::from_utf8_lossy(sep)
                    ))
                })?;
                let value = line[at + sep.len()..].to_vec();
                (Some(Bytes::copy_from_slice(&line[..at])), value)
            }
        };
        if self.format == Format::Json
            && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&value)
        {
            return Err(CliError::Usage(format!("line {number} is not json: {e}")));
        }
        Ok(PlainRecord {
            key,
            value: Some(Bytes::from(value)),
            headers: Vec::new(),
            timestamp: None,
            partition: self.partition,
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Records of the next request, with the line each came from.
#[derive(Debug, Default)]
struct Batch {
    records: Vec<PlainRecord>,
    lines: Vec<u64>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, parser: &Parser, line: Line) -> Result<(), CliError> {
        let number = line.0;
        let record = parser.record(line)?;
        self.bytes += RECORD_OVERHEAD_BYTES
            + record.key.as_ref().map_or(0, Bytes::len)
            + record.value.as_ref().map_or(0, Bytes::len);
        self.records.push(record);
        self.lines.push(number);
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.records.len() >= REQUEST_RECORDS_MAX || self.bytes >= REQUEST_BYTES_MAX
    }
}

/// Sends batches and tallies where records went.
#[derive(Debug)]
struct Sender<'a> {
    conn: &'a Connection,
    client: ProduceClient<AuthChannel>,
    topic: &'a str,
    sequence: u64,
    written: u64,
    failed: u64,
    partitions: BTreeSet<i32>,
}

impl<'a> Sender<'a> {
    fn new(conn: &'a Connection, topic: &'a str) -> Self {
        Sender {
            conn,
            client: conn.produce(),
            topic,
            sequence: 0,
            written: 0,
            failed: 0,
            partitions: BTreeSet::new(),
        }
    }

    /// Sends and empties `batch` (nothing to do when it is empty).
    async fn send(&mut self, batch: &mut Batch) -> Result<(), CliError> {
        if batch.records.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(batch);
        self.sequence += 1;
        let request = ProduceRequest {
            tenant: self.conn.tenant().to_owned(),
            topic: self.topic.to_owned(),
            partition: 0,
            acks: Acks::Leader as i32,
            payload: Some(Payload::Records(RecordList {
                records: batch.records,
            })),
            sequence: self.sequence,
        };
        let response = self
            .client
            .produce(request)
            .await
            .map_err(|s| self.conn.error(s))?
            .into_inner();
        if let Some(e) = response.error {
            return Err(CliError::Server {
                code: e.code,
                message: e.message,
            });
        }
        if response.positions.len() != batch.lines.len() {
            return Err(CliError::Server {
                code: "INTERNAL".into(),
                message: format!(
                    "the server answered {} positions for {} records",
                    response.positions.len(),
                    batch.lines.len()
                ),
            });
        }
        for (position, line) in response.positions.iter().zip(&batch.lines) {
            match &position.error {
                Some(e) => self.record_failure(*line, &e.code, &e.message),
                None => {
                    self.written += 1;
                    self.partitions.insert(position.partition);
                }
            }
        }
        Ok(())
    }

    fn record_failure(&mut self, line: u64, code: &str, message: &str) {
        self.failed += 1;
        if self.failed <= FAILURES_SHOWN_MAX as u64 {
            eprintln!("weir: line {line} was not written: {code}: {message}");
        }
    }

    fn summary(&self) -> String {
        let partitions: Vec<String> = self.partitions.iter().map(i32::to_string).collect();
        let mut text = format!("produced {} records to {}", self.written, self.topic);
        if !partitions.is_empty() {
            text += &format!(" (partitions {})", partitions.join(", "));
        }
        if self.failed > 0 {
            text += &format!("; {} records failed", self.failed);
        }
        text
    }

    fn finish(&self) -> Result<(), CliError> {
        if self.failed == 0 {
            return Ok(());
        }
        Err(CliError::Incomplete(format!(
            "{} of {} records were not written",
            self.failed,
            self.failed + self.written
        )))
    }
}
