//! `weir topic create | list | describe | delete`: topic administration over gRPC.
//!
//! Owns the flags of these commands and how topics are shown: a table for people, or with
//! `--json` the same JSON shapes as the REST API (`TopicDetailDto`, `TopicList`). Must not
//! validate names, counts or settings: the server does, and its error is shown as it comes.

use weir_api::dto::topics::{PartitionDto, TopicConfigDto};
use weir_api::rest::topics::{TopicDetailDto, TopicDto, TopicList};
use weir_proto::v1::{CreateTopicRequest, ListTopicsRequest, TopicConfig, TopicInfo, TopicRef};

use super::table::Table;
use super::{CliError, ConnectArgs, Connection, print_json};

/// `weir topic ...`
#[derive(Debug, clap::Args)]
pub struct TopicArgs {
    #[command(subcommand)]
    command: TopicCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TopicCommand {
    /// Create a topic.
    Create(CreateArgs),
    /// List the tenant's topics.
    List(OutputArgs),
    /// Show a topic's partitions, offsets, sizes and settings.
    Describe(NameArgs),
    /// Delete a topic and all its records.
    Delete(NameArgs),
}

/// Connection and output flags shared by the topic commands.
#[derive(Debug, clap::Args)]
struct OutputArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print JSON (the REST API's shapes) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct NameArgs {
    /// Topic name.
    name: String,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Topic name: 1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'.
    name: String,
    /// Number of partitions.
    #[arg(long, default_value_t = 1)]
    partitions: u32,
    /// Delete segments older than this many milliseconds; -1 keeps them forever.
    #[arg(long, allow_negative_numbers = true)]
    retention_ms: Option<i64>,
    /// Delete the oldest segments while a partition is larger than this; -1 = no limit.
    #[arg(long, allow_negative_numbers = true)]
    retention_bytes: Option<i64>,
    /// Roll a segment before it grows past this many bytes.
    #[arg(long)]
    segment_bytes: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs a topic command.
pub async fn run(args: TopicArgs) -> Result<(), CliError> {
    match args.command {
        TopicCommand::Create(a) => create(a).await,
        TopicCommand::List(a) => list(a).await,
        TopicCommand::Describe(a) => describe(a).await,
        TopicCommand::Delete(a) => delete(a).await,
    }
}

async fn create(args: CreateArgs) -> Result<(), CliError> {
    let conn = Connection::open(&args.output.connect).await?;
    let request = CreateTopicRequest {
        tenant: conn.tenant().to_owned(),
        name: args.name.clone(),
        partitions: args.partitions,
        config: Some(TopicConfig {
            retention_ms: args.retention_ms,
            retention_bytes: args.retention_bytes,
            segment_bytes: args.segment_bytes,
            ..TopicConfig::default()
        }),
    };
    let info = conn
        .admin()
        .create_topic(request)
        .await
        .map_err(|s| conn.error(s))?
        .into_inner();
    if args.output.json {
        return print_json(&detail(&info));
    }
    println!(
        "created topic {} with {} partition{}",
        info.name,
        info.partitions.len(),
        plural(info.partitions.len())
    );
    Ok(())
}

async fn list(args: OutputArgs) -> Result<(), CliError> {
    let conn = Connection::open(&args.connect).await?;
    let request = ListTopicsRequest {
        tenant: conn.tenant().to_owned(),
    };
    let topics = conn
        .admin()
        .list_topics(request)
        .await
        .map_err(|s| conn.error(s))?
        .into_inner()
        .topics;
    if args.json {
        let topics = topics.iter().map(summary).collect();
        return print_json(&TopicList { topics });
    }
    if topics.is_empty() {
        println!("no topics in tenant {}", conn.tenant());
        return Ok(());
    }
    let mut table = Table::new(&["NAME", "PARTITIONS", "RECORDS", "SIZE_BYTES"]);
    for t in topics.iter().map(summary) {
        table.row(vec![
            t.name,
            t.partitions.to_string(),
            t.records.to_string(),
            t.size_bytes.to_string(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

async fn describe(args: NameArgs) -> Result<(), CliError> {
    let conn = Connection::open(&args.output.connect).await?;
    let info = conn
        .admin()
        .describe_topic(topic_ref(&conn, &args.name))
        .await
        .map_err(|s| conn.error(s))?
        .into_inner();
    let detail = detail(&info);
    if args.output.json {
        return print_json(&detail);
    }
    print!("{}", describe_text(&detail));
    Ok(())
}

async fn delete(args: NameArgs) -> Result<(), CliError> {
    let conn = Connection::open(&args.output.connect).await?;
    conn.admin()
        .delete_topic(topic_ref(&conn, &args.name))
        .await
        .map_err(|s| conn.error(s))?;
    if args.output.json {
        return print_json(&serde_json::json!({ "deleted": args.name }));
    }
    println!("deleted topic {}", args.name);
    Ok(())
}

fn topic_ref(conn: &Connection, name: &str) -> TopicRef {
    TopicRef {
        tenant: conn.tenant().to_owned(),
        name: name.to_owned(),
    }
}

/// Settings, then one row per partition.
fn describe_text(t: &TopicDetailDto) -> String {
    let records: i64 = t
        .partitions
        .iter()
        .map(|p| p.high_watermark - p.log_start_offset)
        .sum();
    let size: u64 = t.partitions.iter().map(|p| p.size_bytes).sum();
    let c = &t.config;
    let setting = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut settings = Table::new(&["TOPIC", &t.name]);
    let lines: [(&str, Option<String>); 10] = [
        ("partitions", Some(t.partitions.len().to_string())),
        ("records", Some(records.to_string())),
        ("size_bytes", Some(size.to_string())),
        ("retention_ms", c.retention_ms.map(unlimited)),
        ("retention_bytes", c.retention_bytes.map(unlimited)),
        ("segment_bytes", c.segment_bytes.map(|v| v.to_string())),
        ("segment_ms", c.segment_ms.map(|v| v.to_string())),
        ("batch_bytes_max", c.batch_bytes_max.map(|v| v.to_string())),
        ("flush_records", c.flush_records.map(|v| v.to_string())),
        ("flush_ms", c.flush_ms.map(|v| v.to_string())),
    ];
    for (name, value) in lines {
        settings.row(vec![name.into(), setting(value)]);
    }
    let mut parts = Table::new(&[
        "PARTITION",
        "LOG_START",
        "HIGH_WATERMARK",
        "RECORDS",
        "SIZE_BYTES",
        "LEADER",
    ]);
    for p in &t.partitions {
        parts.row(vec![
            p.partition.to_string(),
            p.log_start_offset.to_string(),
            p.high_watermark.to_string(),
            (p.high_watermark - p.log_start_offset).to_string(),
            p.size_bytes.to_string(),
            p.leader.to_string(),
        ]);
    }
    format!("{}\n{}", settings.render(), parts.render())
}

fn unlimited(v: i64) -> String {
    if v < 0 {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The REST API's detail shape of a topic.
fn detail(info: &TopicInfo) -> TopicDetailDto {
    TopicDetailDto {
        name: info.name.clone(),
        partitions: partitions(info),
        config: config(info.config.as_ref()),
    }
}

/// The REST API's list-entry shape of a topic.
fn summary(info: &TopicInfo) -> TopicDto {
    let parts = partitions(info);
    TopicDto {
        name: info.name.clone(),
        partitions: parts.len() as u32,
        records: parts
            .iter()
            .map(|p| p.high_watermark - p.log_start_offset)
            .sum(),
        size_bytes: parts.iter().map(|p| p.size_bytes).sum(),
        config: config(info.config.as_ref()),
    }
}

fn partitions(info: &TopicInfo) -> Vec<PartitionDto> {
    info.partitions
        .iter()
        .map(|p| PartitionDto {
            // Partitions on the wire are non-negative i32s.
            partition: p.partition.max(0) as u32,
            log_start_offset: p.log_start_offset,
            high_watermark: p.high_watermark,
            size_bytes: p.size_bytes,
            leader: p.leader,
        })
        .collect()
}

fn config(c: Option<&TopicConfig>) -> TopicConfigDto {
    let Some(c) = c else {
        return TopicConfigDto::default();
    };
    TopicConfigDto {
        retention_ms: c.retention_ms,
        retention_bytes: c.retention_bytes,
        segment_bytes: c.segment_bytes,
        segment_ms: c.segment_ms,
        batch_bytes_max: c.batch_bytes_max,
        flush_records: c.flush_records,
        flush_ms: c.flush_ms,
    }
}
