//! `weir dev cluster`: a cluster of `weir serve` processes on this machine, for trying the
//! cluster out and for development; Ctrl-C (or SIGTERM) stops them all.
//!
//! Owns writing each node's TOML (`<dir>/node<N>.toml`: its data directory, its REST, gRPC
//! and internal ports on 127.0.0.1, the founding voters and a cluster secret generated once
//! into `<dir>/cluster-secret`), starting the nodes as child processes of this binary,
//! prefixing their output with the node, and stopping them (SIGTERM, then a kill after the
//! grace period). Must not run a node itself: each is a real `weir serve`, as in production.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::CLUSTER_SECRET_BYTES_MIN;

/// How long the nodes get to stop after SIGTERM before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(15);
/// Ports a node uses from its base: REST, gRPC, internal.
const PORTS_PER_NODE: u16 = 3;
/// Distance between two nodes' base ports.
const PORT_STRIDE: u16 = 10;

/// `weir dev ...`
#[derive(Debug, clap::Subcommand)]
pub enum DevCommand {
    /// Run a cluster of N nodes on this machine (127.0.0.1), each its own `weir serve` with
    /// its own data directory; Ctrl-C stops them.
    Cluster(ClusterArgs),
}

/// Arguments of `weir dev cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// Number of nodes: 1, 3 or 5 (all of them found the cluster as voters).
    #[arg(long, default_value_t = 3)]
    nodes: u16,
    /// Where the nodes' configs and data directories go (kept between runs).
    #[arg(long, default_value = "./weir-dev-cluster")]
    dir: PathBuf,
    /// Node N listens for REST on base + 10(N-1), gRPC on the next port, other nodes on the
    /// one after; 0 picks free ports.
    #[arg(long, default_value_t = 8780)]
    base_port: u16,
    /// `required` (default) or `none`, as `weir serve --auth`.
    #[arg(long, default_value = "required", value_parser = ["required", "none"])]
    auth: String,
}

/// Runs `weir dev ...`.
pub fn run(command: DevCommand) -> Result<(), String> {
    match command {
        DevCommand::Cluster(args) => cluster(&args),
    }
}

/// One node's ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    http: u16,
    grpc: u16,
    internal: u16,
}

fn cluster(args: &ClusterArgs) -> Result<(), String> {
    if ![1, 3, 5].contains(&args.nodes) {
        return Err(format!("--nodes: 1, 3 or 5, not {}", args.nodes));
    }
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    std::fs::create_dir_all(&args.dir).map_err(|e| io(&args.dir.display().to_string(), e))?;
    let ports = ports(args)?;
    let secret = secret(&args.dir)?;
    let voters: Vec<String> = (1u16..)
        .zip(&ports)
        .map(|(id, p)| format!("\"{id}@127.0.0.1:{}\"", p.internal))
        .collect();
    let exe = std::env::current_exe().map_err(|e| io("this binary's path", e))?;
    let mut children = Vec::new();
    for (id, p) in (1u16..).zip(&ports) {
        let config = write_config(&args.dir, id, *p, &voters, &secret)?;
        let child = Command::new(&exe)
            .args(["serve", "--auth", &args.auth, "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io("cannot start a node", e))?;
        println!(
            "weir dev: node {id}: REST http://127.0.0.1:{}  gRPC http://127.0.0.1:{}  data {}",
            p.http,
            p.grpc,
            args.dir.join(format!("node{id}")).display()
        );
        children.push(prefix_output(id, child));
    }
    println!(
        "weir dev: {} nodes running; `weir cluster status --url http://127.0.0.1:{}` shows them; \
         Ctrl-C stops them",
        args.nodes, ports[0].grpc
    );
    std::io::stdout().flush().map_err(|e| io("stdout", e))?;
    let signal = wait_for_signal()?;
    println!("weir dev: {signal}: stopping the nodes");
    stop(&mut children);
    println!("weir dev: stopped");
    Ok(())
}

/// Each node's ports: from `--base-port`, or free ones.
fn ports(args: &ClusterArgs) -> Result<Vec<Ports>, String> {
    if args.base_port == 0 {
        let free = || -> Result<u16, String> {
            let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
            Ok(l.local_addr().map_err(|e| e.to_string())?.port())
        };
        return (0..args.nodes)
            .map(|_| {
                Ok(Ports {
                    http: free()?,
                    grpc: free()?,
                    internal: free()?,
                })
            })
            .collect();
    }
    (0..args.nodes)
        .map(|i| {
            let base = i
                .checked_mul(PORT_STRIDE)
                .and_then(|o| args.base_port.checked_add(o))
                .filter(|b| b.checked_add(PORTS_PER_NODE).is_some())
                .ok_or_else(|| {
                    format!(
                        "--base-port {} leaves no room for {} nodes",
                        args.base_port, args.nodes
                    )
                })?;
            Ok(Ports {
                http: base,
                grpc: base + 1,
                internal: base + 2,
            })
        })
        .collect()
}

/// The cluster secret in `<dir>/cluster-secret`, generated the first time (0600).
fn secret(dir: &Path) -> Result<String, String> {
    let path = dir.join("cluster-secret");
    if let Ok(s) = std::fs::read_to_string(&path)
        && s.trim_end().len() >= CLUSTER_SECRET_BYTES_MIN
    {
        return Ok(s.trim_end().to_owned());
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the secret: {e}"))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = weir_log::private::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(secret)
}

fn write_config(
    dir: &Path,
    id: u16,
    p: Ports,
    voters: &[String],
    secret: &str,
) -> Result<PathBuf, String> {
    let data = std::path::absolute(dir.join(format!("node{id}")))
        .map_err(|e| format!("node {id} data directory: {e}"))?;
    let toml = format!(
        "# Written by `weir dev cluster`.\n\
         data_dir = {data:?}\n\
         http_addr = \"127.0.0.1:{}\"\n\
         grpc_addr = \"127.0.0.1:{}\"\n\n\
         [cluster]\n\
         node_id = {id}\n\
         internal_addr = \"127.0.0.1:{}\"\n\
         initial_voters = [{}]\n\
         secret = \"{secret}\"\n",
        p.http,
        p.grpc,
        p.internal,
        voters.join(", "),
    );
    let path = dir.join(format!("node{id}.toml"));
    let mut file = weir_log::private::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(toml.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Copies the child's stdout and stderr to ours, each line prefixed with its node.
fn prefix_output(id: u16, mut child: Child) -> Child {
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                println!("node {id}| {line}");
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("node {id}| {line}");
            }
        });
    }
    child
}

/// Blocks until SIGINT or SIGTERM; its name.
fn wait_for_signal() -> Result<&'static str, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
        Ok(tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        })
    })
}

/// SIGTERM to every node (each stops cleanly), then a kill for any still running after
/// `STOP_GRACE`.
fn stop(children: &mut [Child]) {
    for child in children.iter() {
        // A node that already got the terminal's SIGINT is stopping anyway.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    let deadline = Instant::now() + STOP_GRACE;
    for child in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}
