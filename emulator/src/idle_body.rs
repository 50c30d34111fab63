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
    /// Armed while a read waits on the client; kept to be reset rather than reallocated.
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    timed_out: bool,
}

impl<B> IdleTimeout<B> {
    pub fn new(inner: B, idle: Duration) -> IdleTimeout<B> {
        IdleTimeout {
            inner,
            idle,
            timer: None,
            waiting: false,
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
            this.waiting = false;
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        if !this.waiting {
            this.waiting = true;
            let deadline = Instant::now() + this.idle;
            match &mut this.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let Some(timer) = &mut this.timer else {
            return Poll::Pending;
        };
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.timed_out = true;
                Poll::Ready(Some(Err(Box::new(BodyIdleTimeout(this.idle)))))
            }
            Poll::Pending => Poll::Pending,
        }
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
        let stream = tokio_stream_from(rx);
        let mut body = IdleTimeout::new(StreamBody::new(stream), Duration::from_secs(5));
        tx.send(Ok(Frame::data(Bytes::from_static(b"a"))))
            .await
            .unwrap();
        // The reader dawdles for longer than the limit: that is not the client's fault.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "a");
        // Now the client sends nothing for more than 5 s.
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(BodyIdleTimeout::is_cause_of(&*error), "{error}");
        assert!(body.frame().await.unwrap().is_err(), "it stays failed");
        drop(tx);
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
