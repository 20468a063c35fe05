//! `ClientConfig` and `Connection`: where a client connects, as whom, and how every call is
//! bounded in time.
//!
//! Owns the tonic channel set-up (one HTTP/2 connection with large flow-control windows), the
//! bearer-token interceptor, message size limits and `Connection::call`, the one place a unary
//! call of a generated client gets its time-out and its `Error` (fetches and produce streams
//! are made without one, in `grpc_call`). Must not retry: producers and consumers decide.

use std::future::Future;
use std::time::Duration;

use tonic::codegen::http::HeaderValue;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use weir_proto::v1::admin_client::AdminClient;
use weir_proto::v1::groups_client::GroupsClient;
use weir_proto::v1::produce_client::ProduceClient;

use crate::Error;
use crate::error::within;

/// The gRPC address `weir serve` listens on by default.
pub const URL_DEFAULT: &str = "http://127.0.0.1:8781";
/// The tenant every fresh server has.
pub const TENANT_DEFAULT: &str = "default";
/// Default bound on one unary call (long polls add their wait to it).
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// How long to wait for the TCP connection: a missing server should fail fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest gRPC message a client accepts or sends. tonic's 4 MiB default is below the server's
/// fetch limit (a fetch returns at least one whole batch, and batches may be larger).
pub const MESSAGE_BYTES_MAX: usize = 64 << 20;
/// HTTP/2 window per stream, as the server's: a fetch of a few MiB arrives in one round trip.
pub const STREAM_WINDOW_BYTES: u32 = 16 << 20;
/// HTTP/2 window per connection, shared by every stream (many partitions at once).
pub const CONNECTION_WINDOW_BYTES: u32 = 64 << 20;
/// Largest HTTP/2 frame the client accepts: the protocol's maximum, so a fetch response
/// arrives in one frame (the server cuts frames at the flow-control window too) and
/// `fetch_call` decodes it from that frame's bytes without a copy. With the protocol default
/// (16 KiB) the server cut a 1 MiB fetch response into 64 frames, each its own write.
pub const FRAME_BYTES: u32 = (1 << 24) - 1;

/// Where and as whom a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// gRPC address of a Weir node, e.g. `http://127.0.0.1:8781`, or several separated by
    /// commas (bootstrap addresses of a cluster's nodes, tried in order until one answers:
    /// any node serves any request).
    pub url: String,
    /// Tenant whose topics and groups to use.
    pub tenant: String,
    /// Access token or API key, sent as `authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Bound on every unary call (long polls add their wait to it).
    pub request_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            url: URL_DEFAULT.to_owned(),
            tenant: TENANT_DEFAULT.to_owned(),
            token: None,
            request_timeout: REQUEST_TIMEOUT_DEFAULT,
        }
    }
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

/// One HTTP/2 connection to a node (reconnected by tonic when it drops), with the tenant and
/// credentials every request carries. Cheap to clone. Public for tools that speak the
/// `weir.v1` services directly (the `weir` CLI and `weir bench`), so they connect and read
/// errors exactly as the SDK does.
#[derive(Debug, Clone)]
pub struct Connection {
    channel: Channel,
    bearer: Bearer,
    /// The bearer token as a plain header, for calls made without a generated client.
    authorization: Option<HeaderValue>,
    config: ClientConfig,
}

impl Connection {
    /// Connects now, so an unreachable server is reported before any work starts.
    pub async fn open(config: ClientConfig) -> Result<Connection, Error> {
        if config.request_timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "request_timeout must be above 0".into(),
            ));
        }
        let bearer = bearer(config.token.as_deref())?;
        let urls = bootstrap_urls(&config.url)?;
        let mut failed = None;
        let mut connected = None;
        for url in &urls {
            let endpoint = Endpoint::from_shared(url.clone())
                .map_err(|e| Error::InvalidArgument(format!("invalid url {url:?}: {e}")))?
                .connect_timeout(CONNECT_TIMEOUT)
                .tcp_nodelay(true)
                .initial_stream_window_size(STREAM_WINDOW_BYTES)
                .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
                .max_frame_size(FRAME_BYTES);
            match endpoint.connect().await {
                Ok(channel) => {
                    connected = Some((url.clone(), channel));
                    break;
                }
                Err(e) => failed = Some(Error::transport(url, &e)),
            }
        }
        let Some((url, channel)) = connected else {
            return Err(failed.expect("at least one url was tried"));
        };
        // Errors name the node this connection reached.
        let config = ClientConfig { url, ..config };
        let authorization = bearer
            .0
            .as_ref()
            .and_then(|value| HeaderValue::from_bytes(value.as_encoded_bytes()).ok());
        Ok(Connection {
            channel,
            bearer,
            authorization,
            config,
        })
    }

    /// The tenant requests name.
    pub fn tenant(&self) -> &str {
        &self.config.tenant
    }

    /// The bound on one unary call.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.config.request_timeout
    }

    /// The server's address.
    pub(crate) fn url(&self) -> &str {
        &self.config.url
    }

    /// The HTTP/2 connection (for calls made without a generated client).
    pub(crate) fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The `authorization` header every request carries, when a token was given.
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    pub fn admin(&self) -> AdminClient<AuthChannel> {
        AdminClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
            .max_encoding_message_size(MESSAGE_BYTES_MAX)
    }

    pub fn produce(&self) -> ProduceClient<AuthChannel> {
        ProduceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
            .max_encoding_message_size(MESSAGE_BYTES_MAX)
    }

    pub fn groups(&self) -> GroupsClient<AuthChannel> {
        GroupsClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(MESSAGE_BYTES_MAX)
            .max_encoding_message_size(MESSAGE_BYTES_MAX)
    }

    /// A stream on this connection ended before answering everything: a transport failure,
    /// worth a retry (unlike `Error::Closed`, which means the client itself was closed).
    pub(crate) fn stream_ended(&self, what: &str) -> Error {
        Error::Transport {
            url: self.config.url.clone(),
            reason: format!("{what} ended before every request was answered"),
        }
    }

    /// The error for a failed call on this connection.
    pub fn error(&self, status: &tonic::Status) -> Error {
        Error::from_status(status, &self.config.url)
    }

    /// Runs one unary call bounded by `request_timeout`.
    pub(crate) async fn call<T>(
        &self,
        what: &'static str,
        call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, Error> {
        let answered = async {
            call.await
                .map(tonic::Response::into_inner)
                .map_err(|status| self.error(&status))
        };
        within(what, self.config.request_timeout, answered).await
    }
}

#[cfg(test)]
impl Connection {
    /// A connection that would connect on its first call, for tests of logic that makes none.
    pub(crate) fn unconnected(config: ClientConfig) -> Connection {
        let channel = Endpoint::from_shared(config.url.clone())
            .expect("a valid url")
            .connect_lazy();
        Connection {
            channel,
            bearer: Bearer(None),
            authorization: None,
            config,
        }
    }
}

/// The addresses in `urls` (one, or several separated by commas), in order.
fn bootstrap_urls(urls: &str) -> Result<Vec<String>, Error> {
    let list: Vec<String> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err(Error::InvalidArgument(format!("no url in {urls:?}")));
    }
    Ok(list)
}

fn bearer(token: Option<&str>) -> Result<Bearer, Error> {
    let Some(token) = token else {
        return Ok(Bearer(None));
    };
    format!("Bearer {token}")
        .parse()
        .map(|value| Bearer(Some(value)))
        .map_err(|_| {
            Error::InvalidArgument("the token holds characters not allowed in a header".into())
        })
}
