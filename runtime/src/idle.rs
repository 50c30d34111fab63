//! The read timeout, as an idle timeout: an attempt fails when it has made no progress for
//! that long, neither sending its body nor receiving its response.
//!
//! reqwest's own read timeout cannot be used for this: its timer starts when the request is
//! sent and is not reset while the body goes out, so it cuts off every upload that takes
//! longer than it, even on a link that is busy all along.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::Instant;

/// The body is handed to the connection in pieces of this size, so that its progress shows.
pub(crate) const PIECE: usize = 64 * 1024;

/// When an attempt last made progress. Clones share it.
#[derive(Clone)]
pub(crate) struct Activity {
    start: Instant,
    /// Nanoseconds from `start` to the last progress.
    last: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Records progress now.
    pub(crate) fn mark(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.fetch_max(nanos, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_nanos(self.last.load(Ordering::Relaxed))
    }

    /// `bytes` as a body whose progress is recorded as the connection takes each piece.
    pub(crate) fn bytes_body(&self, bytes: Bytes) -> reqwest::Body {
        self.stream_body(futures_util::stream::iter(
            pieces(bytes).map(Ok::<_, std::io::Error>),
        ))
    }

    /// A streamed body whose progress is recorded as the connection takes each chunk.
    pub(crate) fn stream_body<S>(&self, stream: S) -> reqwest::Body
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        reqwest::Body::wrap_stream(Tracked {
            inner: Box::pin(stream),
            activity: self.clone(),
        })
    }

    /// Runs `future`, which marks progress through this activity (or [`step`](Self::step)),
    /// until it ends; `None` once it made no progress for `idle`.
    pub(crate) async fn within<F: Future>(&self, idle: Duration, future: F) -> Option<F::Output> {
        tokio::pin!(future);
        loop {
            let deadline = self.last() + idle;
            tokio::select! {
                output = &mut future => return Some(output),
                () = tokio::time::sleep_until(deadline) => {
                    if self.last() + idle <= Instant::now() {
                        return None;
                    }
                }
            }
        }
    }

    /// Runs one step of reading (such as one chunk of a response body), which is progress
    /// when it ends; `None` if it took longer than `idle`.
    pub(crate) async fn step<F: Future>(&self, idle: Duration, future: F) -> Option<F::Output> {
        let output = self.within(idle, future).await;
        self.mark();
        output
    }
}

/// `bytes` cut into pieces of at most [`PIECE`] bytes, each sharing its buffer (no copy),
/// so that a connection taking them shows progress.
pub(crate) fn pieces(bytes: Bytes) -> impl Iterator<Item = Bytes> + Send {
    (0..bytes.len())
        .step_by(PIECE)
        .map(move |at| bytes.slice(at..(at + PIECE).min(bytes.len())))
}

/// A body stream that records progress each time the connection takes a chunk.
struct Tracked {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>,
    activity: Activity,
}

impl Stream for Tracked {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        if polled.is_ready() {
            self.activity.mark();
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_resets_the_timer_and_idleness_ends_the_wait() {
        let activity = Activity::new();
        let idle = Duration::from_millis(200);
        let marker = activity.clone();
        // Progress every 20 ms for 10 times the idle limit: it ends on its own.
        let busy = async move {
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                marker.mark();
            }
            "done"
        };
        assert_eq!(activity.within(idle, busy).await, Some("done"));
        // No progress: it ends after `idle` (generous bound: correctness, not speed).
        let started = Instant::now();
        let silent = tokio::time::sleep(Duration::from_secs(3600));
        assert_eq!(activity.step(idle, silent).await, None);
        let waited = started.elapsed();
        assert!(
            waited >= idle && waited < Duration::from_secs(10),
            "{waited:?}"
        );
    }
}
