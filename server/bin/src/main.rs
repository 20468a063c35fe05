//! `weir`: the Weir server and its command-line tools in one binary.
//!
//! Owns argument parsing and dispatch. Each command lives in its own module; this file must
//! stay a table of contents.

mod bench;
mod body_deadline;
mod cli;
mod cluster_node;
mod config;
mod dev;
mod listen;
mod recover;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc keeps freed memory for reuse. glibc's malloc returns megabyte buffers (fetch
/// responses, produce requests) to the kernel on free, and the next one pays for touching
/// fresh pages, which on our VM runs at about 1 GB/s: it capped consume near 1.3 GB/s.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Weir: a multi-tenant streaming service.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: REST and gRPC on loopback, data under ./weir-data by default.
    Serve(ServeArgs),
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Create, list, describe and delete topics.
    Topic(cli::topic::TopicArgs),
    /// Write stdin to a topic, one record per line.
    Produce(cli::produce::ProduceArgs),
    /// Print a topic's records as JSON lines.
    Consume(cli::consume::ConsumeArgs),
    /// Show the cluster's nodes and controller; add and remove nodes.
    Cluster(cli::cluster::ClusterArgs),
    /// Measure produce or consume throughput and latency (MB = 1,000,000 bytes).
    Bench(bench::BenchArgs),
    /// Development helpers: `weir dev cluster` runs a cluster on this machine.
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Local administration of a stopped node's data directory.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Write a new admin API key of tenant `default` to <data-dir>/bootstrap-admin.token: the
    /// way back when every admin key is lost. Run it on the node's machine, node stopped.
    Recover(recover::RecoverArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Directory for all data (default ./weir-data).
    #[arg(long, env = "WEIR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// REST address, host:port (default 127.0.0.1:8780; port 0 picks a free one).
    #[arg(long, env = "WEIR_HTTP_ADDR")]
    http_addr: Option<SocketAddr>,
    /// gRPC address, host:port (default 127.0.0.1:8781; port 0 picks a free one).
    #[arg(long, env = "WEIR_GRPC_ADDR")]
    grpc_addr: Option<SocketAddr>,
    /// TOML config file; flags and WEIR_* variables override it.
    #[arg(long, env = "WEIR_CONFIG")]
    config: Option<PathBuf>,
    /// `required` (default): every request needs a credential. `none`: anyone may do
    /// anything — for local experiments only.
    #[arg(long, env = "WEIR_AUTH", value_parser = ["required", "none"])]
    auth: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Openapi => print_openapi(),
        Command::Topic(args) => client(cli::topic::run(args)),
        Command::Produce(args) => client(cli::produce::run(args)),
        Command::Consume(args) => client(cli::consume::run(args)),
        Command::Cluster(args) => client(cli::cluster::run(args)),
        Command::Bench(args) => client(bench::run(args)),
        Command::Admin(AdminCommand::Recover(args)) => recover::run(args),
        Command::Dev(command) => dev::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("weir: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    init_tracing();
    let overrides = config::Overrides {
        data_dir: args.data_dir,
        http_addr: args.http_addr,
        grpc_addr: args.grpc_addr,
        auth_off: args.auth.as_deref().map(|a| a == "none"),
    };
    let config = config::resolve(args.config.as_deref(), overrides)?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve::run(config))
}

/// Runs a client command; its error becomes the message `main` prints.
fn client(command: impl Future<Output = Result<(), cli::CliError>>) -> Result<(), String> {
    cli::block_on(command).map_err(|e| e.to_string())
}

fn print_openapi() -> Result<(), String> {
    let json = weir_api::openapi()
        .to_pretty_json()
        .map_err(|e| format!("cannot render the OpenAPI document: {e}"))?;
    println!("{json}");
    Ok(())
}

/// Logs to stderr; `WEIR_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
fn init_tracing() {
    let filter = std::env::var("WEIR_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}
