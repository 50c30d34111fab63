//! The listeners. Connections are served with hyper directly (HTTP/1.1, and HTTP/2 with prior
//! knowledge) rather than through `axum::serve`, because fault injection must be able to close
//! one connection in the middle of a request: each connection runs in its own task, which
//! drops the hyper connection (and with it the socket) when a handler asks for it through the
//! [`Connection`] extension of its request. Dropping a socket that still has unread request
//! bytes makes the kernel send a reset; otherwise the client reads end-of-stream before any
//! answer. Either way the client sees a transport error, never an HTTP answer.
//!
//! Slow or idle clients are bounded ([`Limits`]): at most `max_connections` connections are
//! served at once (the accept loop waits for a free slot); a connection must bring its first
//! request's headers within the header timeout (hyper's own timer then bounds the headers of
//! each later HTTP/1.1 request, and an idle keep-alive connection); and request bodies fail
//! after the body idle timeout without a byte ([`IdleTimeout`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::Service;

use crate::idle_body::IdleTimeout;
use crate::link::Throttle;

/// The bounds on what one client can hold, shared by both listeners.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// One permit per connection served.
    pub connections: Arc<Semaphore>,
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
    /// The simulated link (see `link.rs`).
    pub link_bandwidth: Option<u64>,
    pub link_latency: Duration,
}

/// The connection a request came on, as a request extension.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    kill: Arc<Notify>,
    /// Its sender is dropped when the connection task ends.
    closed: watch::Receiver<()>,
    /// The request came to the second listener.
    pub second_host: bool,
}

impl Connection {
    /// Closes the connection without answering. For HTTP/1 the calling handler is dropped
    /// with the connection and this never returns; for HTTP/2, whose handlers run in tasks of
    /// their own, it returns once the connection is gone.
    pub async fn drop_now(&self) {
        self.kill.notify_one();
        self.wait_closed().await;
    }

    /// Waits until the connection is closed (by the client, or at shutdown).
    pub async fn wait_closed(&self) {
        let mut closed = self.closed.clone();
        while closed.changed().await.is_ok() {}
    }
}

/// Accepts connections until `shutdown` changes (or its sender is dropped), then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    second_host: bool,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = accept_within_limit(&listener, &limits.connections) => match accepted {
                Ok((stream, permit)) => {
                    let serving = serve_connection(stream, router.clone(), second_host, limits.clone());
                    connections.spawn(async move {
                        serving.await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    connections.shutdown().await;
}

/// Waits for a free connection slot, then for a connection.
async fn accept_within_limit(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let permit = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(std::io::Error::other)?;
    let (stream, _peer) = listener.accept().await?;
    Ok((stream, permit))
}

async fn serve_connection(stream: TcpStream, router: Router, second_host: bool, limits: Limits) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "set_nodelay failed");
    }
    let kill = Arc::new(Notify::new());
    let (closed_tx, closed_rx) = watch::channel(());
    let connection = Connection {
        kill: kill.clone(),
        closed: closed_rx,
        second_host,
    };
    let first_request = Arc::new(Notify::new());
    let arrived = first_request.clone();
    let idle = limits.body_idle_timeout;
    let (bandwidth, latency) = (limits.link_bandwidth, limits.link_latency);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        arrived.notify_one();
        let mut request = request.map(|body| {
            let body = IdleTimeout::new(body, idle);
            match bandwidth {
                Some(rate) => Body::new(Throttle::new(body, rate)),
                None => Body::new(body),
            }
        });
        request.extensions_mut().insert(connection.clone());
        let mut router = router.clone();
        async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            Ok::<_, Infallible>(
                router
                    .call(request)
                    .await
                    .unwrap_or_else(|never| match never {}),
            )
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let serving = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(serving);
    // Until its first request, hyper's timer does not cover a connection (the protocol is
    // still being sniffed): this deadline does.
    let first_deadline = tokio::time::sleep(limits.header_read_timeout);
    tokio::pin!(first_deadline);
    let mut waiting_for_first = true;
    loop {
        tokio::select! {
            biased;
            _ = kill.notified() => {
                tracing::debug!("closing a connection without an answer (fault)");
                break;
            }
            result = &mut serving => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = first_request.notified(), if waiting_for_first => waiting_for_first = false,
            _ = &mut first_deadline, if waiting_for_first => {
                tracing::debug!("closing a connection that sent no request in time");
                break;
            }
        }
    }
    drop(closed_tx);
}
