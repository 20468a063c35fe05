//! Where a client command connects and as whom: `--url`, `--tenant`, `--token`, and the gRPC
//! `Connection` built from them.
//!
//! Owns the channel set-up (one HTTP/2 connection per `Connection`), the bearer-token
//! interceptor and the message size limits of the clients. Must not hide failures: a refused
//! connection becomes `CliError::Unreachable` naming the URL.

use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::serve::{GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES};
use weir_proto::v1::admin_client::AdminClient;
use weir_proto::v1::fetch_client::FetchClient;
use weir_proto::v1::produce_client::ProduceClient;

use super::CliError;

/// The gRPC address `weir serve` listens on by default.
pub const URL_DEFAULT: &str = "http://127.0.0.1:8781";
/// How long to wait for the TCP connection; a local server answers in microseconds, a
/// missing one should fail fast rather than hang the terminal.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest gRPC message a client accepts. tonic's 4 MiB default is below the server's fetch
/// limit (a fetch returns at least one whole batch, and batches may be larger than 4 MiB).
pub const MESSAGE_BYTES_MAX: usize = 64 << 20;

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

/// Adds `authorization: Bearer <token>` to every request when a token was given.
#[derive(Debug, Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel with the bearer token attached.
pub type AuthChannel = InterceptedService<Channel, Bearer>;

/// One connection to a node, with the tenant and credentials every request carries.
#[derive(Debug, Clone)]
pub struct Connection {
    channel: Channel,
    bearer: Bearer,
    url: String,
    tenant: String,
}

impl Connection {
    /// Connects now, so an unreachable server is reported before any work starts.
    pub async fn open(args: &ConnectArgs) -> Result<Connection, CliError> {
        let bearer = bearer(args.token.as_deref())?;
        let endpoint = Endpoint::from_shared(args.url.clone())
            .map_err(|e| CliError::Usage(format!("invalid --url {:?}: {e}", args.url)))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES);
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| CliError::unreachable(&args.url, &e))?;
        Ok(Connection {
            channel,
            bearer,
            url: args.url.clone(),
            tenant: args.tenant.clone(),
        })
    }

    /// The tenant requests name.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// An Admin client on this connection.
    pub fn admin(&self) -> AdminClient<AuthChannel> {
        AdminClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
    }

    /// A Produce client on this connection.
    pub fn produce(&self) -> ProduceClient<AuthChannel> {
        ProduceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
    }

    /// A Fetch client on this connection.
    pub fn fetch(&self) -> FetchClient<AuthChannel> {
        FetchClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
    }

    /// The error for a failed call on this connection.
    pub fn error(&self, status: tonic::Status) -> CliError {
        CliError::from_status(&status, &self.url)
    }
}

fn bearer(token: Option<&str>) -> Result<Bearer, CliError> {
    let Some(token) = token else {
        return Ok(Bearer(None));
    };
    format!("Bearer {token}")
        .parse()
        .map(|value| Bearer(Some(value)))
        .map_err(|_| CliError::Usage("the token holds characters not allowed in a header".into()))
}
