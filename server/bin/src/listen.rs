//! Accepting connections: at most `connections_max` open per listener, at most
//! `connections_per_address_max` from one client address, at most
//! `connections_unauthenticated_max` that have not yet carried an authenticated request, a
//! deadline for a connection's first bytes, and `TCP_NODELAY` on each.
//!
//! Owns the connection table. When a newcomer finds the slots taken it is not simply refused
//! (a flood of idle sockets would then lock everybody out): the idlest connection that never
//! authenticated is closed to make room, or else the idlest authenticated one that has been
//! quiet for `EVICT_IDLE_MIN`. Only when every connection is busy, or the newcomer's address
//! holds its share, is the newcomer closed as soon as it is accepted (the client sees a reset
//! or close, never a wait in the backlog). Refusals and evictions are counted
//! (`weir_connections_refused_total{listener,reason}`, `weir_connections_evicted_total`).
//! Must not look at what a connection carries: the gateway marks a connection authenticated
//! (`weir_api::ConnectionAuth`) when a request on it passed authentication.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Duration, Sleep};
use weir_api::ConnectionAuth;

/// An authenticated connection is closed for a newcomer only after this long without a byte
/// either way: one in the middle of an exchange is never cut for a stranger.
pub const EVICT_IDLE_MIN: Duration = Duration::from_secs(1);

/// How many connections a listener holds, and from whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLimits {
    /// Connections open at once.
    pub max: usize,
    /// Connections open at once from one client address.
    pub per_address_max: usize,
    /// Connections open at once that have not carried an authenticated request yet.
    pub unauthenticated_max: usize,
}

/// A listener's connection slots.
#[derive(Debug)]
pub struct Gate {
    /// `rest` or `grpc`, the metric's `listener` label.
    listener: &'static str,
    limits: GateLimits,
    table: Arc<Mutex<Table>>,
    /// Whether the current run of refusals was logged.
    refusing: AtomicBool,
    /// How long an admitted connection may take to send its first bytes; `None`: forever.
    first_bytes_within: Option<Duration>,
}

/// The open connections of one listener.
#[derive(Debug)]
struct Table {
    epoch: Instant,
    next_id: u64,
    open: HashMap<u64, Arc<Conn>>,
    by_address: HashMap<IpAddr, usize>,
}

/// What the gate knows of one open connection.
#[derive(Debug)]
struct Conn {
    address: IpAddr,
    auth: ConnectionAuth,
    /// Milliseconds after the table's epoch of the last byte read or written.
    last_active_ms: AtomicU64,
    /// Closed by the gate for a newcomer: reads end, writes fail.
    evicted: AtomicBool,
    /// Wakes the connection's reader when it is evicted.
    reader: AtomicWaker,
}

impl Table {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Removes connection `id`, if it is still in the table.
    fn remove(&mut self, id: u64) -> Option<Arc<Conn>> {
        let conn = self.open.remove(&id)?;
        if let Some(n) = self.by_address.get_mut(&conn.address) {
            *n -= 1;
            if *n == 0 {
                self.by_address.remove(&conn.address);
            }
        }
        Some(conn)
    }

    /// The connection to close for a newcomer: the idlest one that never authenticated,
    /// else (only when `authenticated_too`) the idlest authenticated one quiet for
    /// `EVICT_IDLE_MIN`.
    fn idlest(&self, authenticated_too: bool) -> Option<u64> {
        let quiet_before = self
            .now_ms()
            .saturating_sub(EVICT_IDLE_MIN.as_millis() as u64);
        let idlest = |want_authenticated: bool| {
            self.open
                .iter()
                .filter(|(_, c)| c.auth.is_authenticated() == want_authenticated)
                .map(|(id, c)| (c.last_active_ms.load(Ordering::Relaxed), *id))
                .filter(|(last, _)| !want_authenticated || *last <= quiet_before)
                .min()
                .map(|(_, id)| id)
        };
        idlest(false).or_else(|| authenticated_too.then(|| idlest(true)).flatten())
    }

    fn unauthenticated(&self) -> usize {
        self.open
            .values()
            .filter(|c| !c.auth.is_authenticated())
            .count()
    }
}

impl Gate {
    pub fn new(listener: &'static str, limits: GateLimits) -> Gate {
        Gate {
            listener,
            limits,
            table: Arc::new(Mutex::new(Table {
                epoch: Instant::now(),
                next_id: 0,
                open: HashMap::new(),
                by_address: HashMap::new(),
            })),
            refusing: AtomicBool::new(false),
            first_bytes_within: None,
        }
    }

    /// This gate, closing a connection that sends nothing for `within` after it is admitted.
    pub fn first_bytes_within(self, within: Duration) -> Gate {
        Gate {
            first_bytes_within: Some(within),
            ..self
        }
    }

    /// `stream` holding a slot, or `None` (and the stream closed) when it may not have one.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<Gated> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let address = peer.ip();
        let from_address = table.by_address.get(&address).copied().unwrap_or(0);
        if from_address >= self.limits.per_address_max {
            drop(table);
            self.refuse(peer, "per_address");
            return None;
        }
        let room = if table.unauthenticated() >= self.limits.unauthenticated_max {
            // Newcomers have not authenticated either: the budget is theirs in turn.
            table
                .idlest(false)
                .map(|id| self.evict(&mut table, id))
                .is_some()
        } else if table.open.len() >= self.limits.max {
            table
                .idlest(true)
                .map(|id| self.evict(&mut table, id))
                .is_some()
        } else {
            true
        };
        if !room {
            drop(table);
            self.refuse(peer, "full");
            return None;
        }
        self.refusing.store(false, Ordering::Relaxed);
        let id = table.next_id;
        table.next_id += 1;
        let conn = Arc::new(Conn {
            address,
            auth: ConnectionAuth::default(),
            last_active_ms: AtomicU64::new(table.now_ms()),
            evicted: AtomicBool::new(false),
            reader: AtomicWaker::new(),
        });
        let epoch = table.epoch;
        table.open.insert(id, Arc::clone(&conn));
        *table.by_address.entry(address).or_default() += 1;
        drop(table);
        if let Err(e) = stream.set_nodelay(true) {
            // Without it, Nagle and delayed ACKs hold small answers for ~40 ms.
            tracing::warn!(listener = self.listener, error = %e, "cannot set TCP_NODELAY");
        }
        Some(Gated {
            stream,
            id,
            conn,
            table: Arc::clone(&self.table),
            epoch,
            first_bytes: self
                .first_bytes_within
                .map(|within| Box::pin(tokio::time::sleep(within))),
        })
    }

    /// Closes connection `id` for a newcomer: out of the table now, its reader woken to end.
    fn evict(&self, table: &mut Table, id: u64) {
        if let Some(conn) = table.remove(id) {
            conn.evicted.store(true, Ordering::Release);
            conn.reader.wake();
            metrics::counter!("weir_connections_evicted_total", "listener" => self.listener)
                .increment(1);
        }
    }

    fn refuse(&self, peer: SocketAddr, reason: &'static str) {
        metrics::counter!("weir_connections_refused_total", "listener" => self.listener, "reason" => reason)
            .increment(1);
        if !self.refusing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                listener = self.listener,
                limits = ?self.limits,
                %peer,
                reason,
                "refusing connections: every slot is busy or the address holds its share"
            );
        }
    }

    /// Accepts until a connection is admitted. Accept errors (out of descriptors, a
    /// connection reset before it was accepted) are logged and retried after a pause.
    pub async fn accept(&self, listener: &TcpListener) -> (Gated, SocketAddr) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    if let Some(gated) = self.admit(stream, peer) {
                        return (gated, peer);
                    }
                }
                Err(e) => {
                    tracing::warn!(listener = self.listener, error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            }
        }
    }
}

/// Pause after a failed accept (most often: out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// An accepted connection, holding its slot until it is dropped or evicted.
#[derive(Debug)]
pub struct Gated {
    stream: TcpStream,
    id: u64,
    conn: Arc<Conn>,
    table: Arc<Mutex<Table>>,
    /// The table's clock.
    epoch: Instant,
    /// Until the first bytes arrive: when reading fails instead of waiting on.
    first_bytes: Option<Pin<Box<Sleep>>>,
}

impl Gated {
    /// The mark the gateway sets once a request on this connection authenticated.
    pub fn auth(&self) -> ConnectionAuth {
        self.conn.auth.clone()
    }

    fn evicted(&self) -> bool {
        self.conn.evicted.load(Ordering::Acquire)
    }

    /// Records activity without taking the table's lock (it runs on every read and write).
    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.conn.last_active_ms.store(now, Ordering::Relaxed);
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.remove(self.id);
    }
}

impl AsyncRead for Gated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.conn.reader.register(cx.waker());
        if self.evicted() {
            return Poll::Ready(Ok(())); // end of stream: the server closes the connection
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        let Some(deadline) = self.first_bytes.as_mut() else {
            return read;
        };
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() == before => Poll::Ready(Ok(())),
            Poll::Ready(_) => {
                self.first_bytes = None;
                read
            }
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent nothing in time",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The error of a write on an evicted connection.
fn evicted_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed to make room for a newcomer",
    )
}

impl AsyncWrite for Gated {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.evicted() {
            return Poll::Ready(Err(evicted_error()));
        }
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.evicted() {
            return Poll::Ready(Err(evicted_error()));
        }
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a gRPC request learns of its connection: its address (tonic's `remote_addr`) and the
/// mark to set once it authenticated.
#[derive(Debug, Clone)]
pub struct GatedInfo {
    /// tonic's own connect info.
    pub tcp: tonic::transport::server::TcpConnectInfo,
    /// See `Gated::auth`.
    pub auth: ConnectionAuth,
}

impl tonic::transport::server::Connected for Gated {
    type ConnectInfo = GatedInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        GatedInfo {
            tcp: self.stream.connect_info(),
            auth: self.auth(),
        }
    }
}
