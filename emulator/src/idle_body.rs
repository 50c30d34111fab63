//! A request body that fails when the client stops sending: [`IdleTimeout`].
//!
//! Only time spent waiting on the client counts: the timer runs from the moment a read finds
//! nothing to read until bytes arrive. A handler that pauses between reads (an injected slow
//! body, a commit waiting for its assembly) or stops reading on purpose (a stalled body) is
//! never cut off by it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error of a body whose client sent nothing for too long.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no request body bytes arrived for {} s", .0.as_secs_f64())]
pub(crate) struct BodyIdleTimeout(pub Duration);

impl BodyIdleTimeout {
    /// Whether `error` (or any error it was caused by) is a [`BodyIdleTimeout`].
    pub fn is_cause_of(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(error) = next {
            if error.is::<BodyIdleTimeout>() {
                return true;
            }
            next = error.source();
        }
        false
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps a body so that waiting more than `idle` for its next frame is an error.
pub(crate) struct IdleTimeout<B> {
    inner: B,
    idle: Duration,
    /// When the current wait on the client began; `None` while frames keep coming.
    waiting_since: Option<Instant>,
    /// Armed at the first wait and only moved when it fires early: resetting a timer on
    /// every wait would cost a timer-wheel update per chunk of every body.
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl<B> IdleTimeout<B> {
    pub fn new(inner: B, idle: Duration) -> IdleTimeout<B> {
        IdleTimeout {
            inner,
            idle,
            waiting_since: None,
            timer: None,
            timed_out: false,
        }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.timed_out {
            return Poll::Ready(Some(Err(Box::new(BodyIdleTimeout(this.idle)))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.waiting_since = None;
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let deadline = *this.waiting_since.get_or_insert_with(Instant::now) + this.idle;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // The timer may have been set for an earlier wait, so an early deadline is moved on.
        while timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= deadline {
                this.timed_out = true;
                return Poll::Ready(Some(Err(Box::new(BodyIdleTimeout(this.idle)))));
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        !self.timed_out && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    #[tokio::test(start_paused = true)]
    async fn waiting_on_the_client_too_long_is_an_error_but_slow_reading_is_not() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
        let mut body = IdleTimeout::new(StreamBody::new(stream_of(rx)), Duration::from_secs(5));
        let send_after = |secs, tx: tokio::sync::mpsc::Sender<_>| {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                tx.send(Ok(Frame::data(Bytes::from_static(b"a"))))
                    .await
                    .unwrap();
                tx
            })
        };
        // The client takes 4 s of the 5 allowed.
        let sender = send_after(4, tx);
        assert!(body.frame().await.unwrap().is_ok());
        let tx = sender.await.unwrap();
        // The reader dawdles for longer than the limit: that is not the client's fault, and
        // a wait that starts afterwards has its own 5 s, again 4 of them used.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let sender = send_after(4, tx);
        assert!(body.frame().await.unwrap().is_ok());
        let tx = sender.await.unwrap();
        // Now the client sends nothing for more than 5 s.
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(BodyIdleTimeout::is_cause_of(&*error), "{error}");
        assert!(body.frame().await.unwrap().is_err(), "it stays failed");
        drop(tx);
    }

    fn stream_of<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
