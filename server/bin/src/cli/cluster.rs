//! `weir cluster status | add-node | remove-node`: the metadata quorum over gRPC.
//!
//! Owns the flags of these commands and how the cluster is shown: a table for people, or with
//! `--json` the REST API's `ClusterDto`. Must not check ids or addresses: the server does,
//! and its error is shown as it comes.

use weir_api::rest::cluster::{ClusterDto, ClusterMode, NodeDto};
use weir_proto::v1::{AddNodeRequest, ClusterInfo, DescribeClusterRequest, RemoveNodeRequest};

use super::table::Table;
use super::{CliError, ConnectArgs, Connection, print_json};

/// `weir cluster ...`
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ClusterCommand {
    /// Show the nodes, their roles, the controller, term, last log and applied index.
    Status(OutputArgs),
    /// Add a started node (its [cluster] table names no initial_voters): a learner until it
    /// caught up, then a voter. Needs the admin scope.
    AddNode(AddArgs),
    /// Remove a node (never the last voter); stop it afterwards. Needs the admin scope.
    RemoveNode(RemoveArgs),
}

#[derive(Debug, clap::Args)]
struct OutputArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print JSON (the REST API's shape) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The node's `cluster.node_id`.
    node_id: u32,
    /// The node's `cluster.internal_addr`, host:port.
    internal_addr: String,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, clap::Args)]
struct RemoveArgs {
    /// The node's id.
    node_id: u32,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs a cluster command.
pub async fn run(args: ClusterArgs) -> Result<(), CliError> {
    let (output, info) = match args.command {
        ClusterCommand::Status(output) => {
            let conn = Connection::open(&output.connect).await?;
            let info = conn
                .admin()
                .describe_cluster(DescribeClusterRequest {})
                .await
                .map_err(|s| conn.error(s))?;
            (output, info.into_inner())
        }
        ClusterCommand::AddNode(a) => {
            let conn = Connection::open(&a.output.connect).await?;
            let request = AddNodeRequest {
                node_id: a.node_id,
                internal_addr: a.internal_addr,
            };
            let info = conn
                .admin()
                .add_node(request)
                .await
                .map_err(|s| conn.error(s))?;
            (a.output, info.into_inner())
        }
        ClusterCommand::RemoveNode(a) => {
            let conn = Connection::open(&a.output.connect).await?;
            let request = RemoveNodeRequest { node_id: a.node_id };
            let info = conn
                .admin()
                .remove_node(request)
                .await
                .map_err(|s| conn.error(s))?;
            (a.output, info.into_inner())
        }
    };
    let dto = dto(info);
    if output.json {
        return print_json(&dto);
    }
    print!("{}", text(&dto));
    Ok(())
}

fn dto(info: ClusterInfo) -> ClusterDto {
    ClusterDto {
        mode: if info.mode == "single" {
            ClusterMode::Single
        } else {
            ClusterMode::Raft
        },
        node_id: info.node_id,
        role: info.role,
        controller: info.controller,
        term: info.term,
        last_log_index: info.last_log_index,
        applied_index: info.applied_index,
        voters: info.voters,
        nodes: info
            .nodes
            .into_iter()
            .map(|n| NodeDto {
                node_id: n.node_id,
                internal_addr: n.internal_addr,
                role: n.role,
                http_addr: n.http_addr,
                grpc_addr: n.grpc_addr,
                rack: n.rack,
                liveness: n.liveness,
                coordinator_shards: n.coordinator_shards,
            })
            .collect(),
    }
}

/// The cluster for people: a summary line, then one row per node.
fn text(c: &ClusterDto) -> String {
    let shown = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let controller = c
        .controller
        .map_or_else(|| "none".to_owned(), |id| format!("node {id}"));
    let mut out = format!(
        "controller: {controller}  term: {}  asked: node {} ({})  last log index: {}  applied: {}\n",
        c.term,
        c.node_id,
        c.role,
        shown(c.last_log_index),
        shown(c.applied_index),
    );
    let mut table = Table::new(&[
        "NODE",
        "ROLE",
        "LIVENESS",
        "CONTROLLER",
        "INTERNAL_ADDR",
        "GRPC_ADDR",
        "HTTP_ADDR",
        "RACK",
    ]);
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    for n in &c.nodes {
        let is_controller = if c.controller == Some(n.node_id) {
            "yes"
        } else {
            ""
        };
        table.row(vec![
            n.node_id.to_string(),
            n.role.clone(),
            n.liveness.clone(),
            is_controller.to_owned(),
            n.internal_addr.clone(),
            or_dash(&n.grpc_addr),
            or_dash(&n.http_addr),
            or_dash(&n.rack),
        ]);
    }
    out.push_str(&table.render());
    out
}
