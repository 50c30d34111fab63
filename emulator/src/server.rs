//! The listeners. Connections are served with hyper directly (HTTP/1.1, and HTTP/2 with prior
//! knowledge) rather than through `axum::serve`, because fault injection must be able to close
//! one connection in the middle of a request: each connection runs in its own task, which
//! drops the hyper connection (and with it the socket) when a handler asks for it through the
//! [`Connection`] extension of its request. Dropping a socket that still has unread request
//! bytes makes the kernel send a reset; otherwise the client reads end-of-stream before any
//! answer. Either way the client sees a transport error, never an HTTP answer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::Service;

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
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, router.clone(), second_host));
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

async fn serve_connection(stream: TcpStream, router: Router, second_host: bool) {
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
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(connection.clone());
        let mut router = router.clone();
        async move {
            Ok::<_, Infallible>(
                router
                    .call(request)
                    .await
                    .unwrap_or_else(|never| match never {}),
            )
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let serving = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        biased;
        _ = kill.notified() => tracing::debug!("closing a connection without an answer (fault)"),
        result = serving => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
    }
    drop(closed_tx);
}
