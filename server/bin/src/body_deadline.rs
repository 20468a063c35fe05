//! A REST request body's deadline (`http_body_read_timeout_ms`), counted from its headers.
//! hyper bounds how long headers may take but not a body, so without this a client holding a
//! valid key could send one byte every few seconds and keep its connection (and a slot) for
//! as long as it liked.
//!
//! Owns only the timer around a body. Must not look at the bytes: reading them is the
//! handlers' job, and a body past its deadline reads as an error they turn into a problem.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Duration, Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `inner`, failing once `within` passed and the body has not ended.
#[derive(Debug)]
pub struct Deadline<B> {
    inner: B,
    /// When the body must have ended: from the request's arrival.
    until: Instant,
    within: Duration,
    /// Armed only once the body keeps the reader waiting, so a request whose body is already
    /// there (most are, and bodiless ones always) costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Deadline<B> {
    pub fn new(inner: B, within: Duration) -> Self {
        Deadline {
            inner,
            until: Instant::now() + within,
            within,
            timer: None,
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let until = this.until;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)))
                .as_mut()
                .poll(cx)
            {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the request body did not arrive within http_body_read_timeout_ms ({} ms)",
                    this.within.as_millis()
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
