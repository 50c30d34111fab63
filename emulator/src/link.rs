//! A simulated wide-area link, for benchmarks: each connection receives request bodies at
//! most at a given rate ([`Throttle`]), and each request waits a given latency before it
//! is handled (in the server's service function). Off by default.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// A request body read at most `rate` bytes per second: after each chunk, the next read
/// waits until the chunk's bytes have "arrived" at that rate. TCP's flow control passes
/// the wait back to the client, which sees a link of that bandwidth.
pub(crate) struct Throttle<B> {
    inner: B,
    rate: u64,
    /// When the bytes read so far have arrived at the rate.
    ready_at: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Throttle<B> {
    /// `rate`: bytes per second (at least 1).
    pub fn new(inner: B, rate: u64) -> Throttle<B> {
        Throttle {
            inner,
            rate: rate.max(1),
            ready_at: None,
            timer: None,
        }
    }
}

impl<B> Body for Throttle<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        if let Some(at) = this.ready_at
            && Instant::now() < at
        {
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            timer.as_mut().reset(at);
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let now = Instant::now();
            let start = this.ready_at.map_or(now, |at| at.max(now));
            let took = Duration::from_secs_f64(data.len() as f64 / this.rate as f64);
            this.ready_at = Some(start + took);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test(start_paused = true)]
    async fn a_body_arrives_no_faster_than_the_rate() {
        let chunks = futures_util::stream::iter(
            (0..4).map(|_| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![0u8; 1000])))),
        );
        let mut body = Throttle::new(http_body_util::StreamBody::new(chunks), 1000);
        let start = Instant::now();
        let mut received = 0;
        while let Some(frame) = body.frame().await {
            received += frame.unwrap().into_data().unwrap().len();
        }
        assert_eq!(received, 4000);
        // Four chunks of a second each: the last one is read after three waits.
        assert!(
            start.elapsed() >= Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        let mut whole = Throttle::new(Full::new(Bytes::from_static(b"abc")), 1);
        assert_eq!(
            whole.frame().await.unwrap().unwrap().into_data().unwrap(),
            "abc"
        );
    }
}
