//! Where a client command connects and as whom: `--url`, `--tenant`, `--token`, and the gRPC
//! `Connection` built from them.
//!
//! Owns the flags. The channel itself (tuning, bearer token, message limits, reading errors) is
//! the SDK's `weir::Connection`, so the CLI and the SDK cannot drift apart. Must not hide
//! failures: a refused connection becomes `CliError::Unreachable` naming the URL.

use weir_proto::v1::admin_client::AdminClient;
use weir_proto::v1::produce_client::ProduceClient;
use weir_proto::v1::{FetchRequest, FetchResponse};
use weir_sdk::FetchResponses;

use super::CliError;

pub use weir_sdk::{AuthChannel, URL_DEFAULT};

/// Flags shared by every command that talks to a server.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// gRPC address of a weir node.
    #[arg(long, env = "WEIR_URL", default_value = URL_DEFAULT)]
    pub url: String,
    /// Tenant whose topics to use.
    #[arg(long, env = "WEIR_TENANT", default_value = weir_broker::DEFAULT_TENANT)]
    pub tenant: String,
    /// Access token or API key, sent as `authorization: Bearer <token>`.
    #[arg(long, env = "WEIR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// One connection to a node: the SDK's (same channel tuning, credentials and error reading),
/// with errors worded for the terminal.
#[derive(Debug, Clone)]
pub struct Connection {
    inner: weir_sdk::Connection,
}

impl Connection {
    /// Connects now, so an unreachable server is reported before any work starts.
    pub async fn open(args: &ConnectArgs) -> Result<Connection, CliError> {
        tonic::transport::Endpoint::from_shared(args.url.clone())
            .map_err(|e| CliError::Usage(format!("invalid --url {:?}: {e}", args.url)))?;
        let config = weir_sdk::ClientConfig {
            url: args.url.clone(),
            tenant: args.tenant.clone(),
            token: args.token.clone(),
            ..weir_sdk::ClientConfig::default()
        };
        let inner = weir_sdk::Connection::open(config).await?;
        Ok(Connection { inner })
    }

    /// The tenant requests name.
    pub fn tenant(&self) -> &str {
        self.inner.tenant()
    }

    /// An Admin client on this connection.
    pub fn admin(&self) -> AdminClient<AuthChannel> {
        self.inner.admin()
    }

    /// A Produce client on this connection.
    pub fn produce(&self) -> ProduceClient<AuthChannel> {
        self.inner.produce()
    }

    /// One fetch (`Fetch`), bounded by the request time-out plus its wait.
    pub async fn fetch_once(&self, request: &FetchRequest) -> Result<FetchResponse, CliError> {
        Ok(self.inner.fetch_once(request).await?)
    }

    /// A fetch stream (`FetchStream`).
    pub async fn fetch_stream(&self, request: &FetchRequest) -> Result<FetchResponses, CliError> {
        Ok(self.inner.fetch_stream(request).await?)
    }

    /// The error for a failed call on this connection.
    pub fn error(&self, status: tonic::Status) -> CliError {
        self.inner.error(&status).into()
    }
}
