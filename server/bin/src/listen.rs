//! Accepting connections: at most `connections_max` open per listener, a deadline for a
//! connection's first bytes, and `TCP_NODELAY` on each.
//!
//! Owns the connection limit. A connection past it is closed as soon as it is accepted (the
//! client sees the connection reset or closed, as at Kafka's `max.connections`), counted in
//! `weir_connections_refused_total` and logged once per run of refusals; it is never left
//! waiting in the backlog, where a client could not tell a full server from a slow one. A
//! connection holds its slot until it closes, so one that sends nothing is closed once its
//! first-bytes deadline passes (when the gate has one), instead of holding the slot for good.
//! Must not look at what a connection carries: limits on requests are the gateway's.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Duration, Sleep};

/// A listener's connection slots.
#[derive(Debug)]
pub struct Gate {
    /// `rest` or `grpc`, the metric's `listener` label.
    listener: &'static str,
    max: usize,
    slots: Arc<Semaphore>,
    /// Whether the current run of refusals was logged.
    refusing: AtomicBool,
    /// How long an admitted connection may take to send its first bytes; `None`: forever.
    first_bytes_within: Option<Duration>,
}

impl Gate {
    pub fn new(listener: &'static str, max: usize) -> Gate {
        Gate {
            listener,
            max,
            slots: Arc::new(Semaphore::new(max)),
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

    /// `stream` holding a slot, or `None` (and the stream closed) when every slot is taken.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<Gated> {
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            metrics::counter!("weir_connections_refused_total", "listener" => self.listener)
                .increment(1);
            if !self.refusing.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    listener = self.listener,
                    connections_max = self.max,
                    %peer,
                    "refusing connections: connections_max are open"
                );
            }
            return None;
        };
        self.refusing.store(false, Ordering::Relaxed);
        if let Err(e) = stream.set_nodelay(true) {
            // Without it, Nagle and delayed ACKs hold small answers for ~40 ms.
            tracing::warn!(listener = self.listener, error = %e, "cannot set TCP_NODELAY");
        }
        Some(Gated {
            stream,
            _slot: slot,
            first_bytes: self
                .first_bytes_within
                .map(|within| Box::pin(tokio::time::sleep(within))),
        })
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

/// An accepted connection and the slot it holds until it is dropped.
#[derive(Debug)]
pub struct Gated {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
    /// Until the first bytes arrive: when reading fails instead of waiting on.
    first_bytes: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for Gated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
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

impl AsyncWrite for Gated {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
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

impl tonic::transport::server::Connected for Gated {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}
