//! A tiny local HTTP server that records requests and answers with canned
//! responses, in order.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Response};
use bytes::Bytes;
use oas_runtime::{Method, Operation, RetryPolicy, Server, ServerVariable};

pub static API: Server = Server {
    name: "api",
    url_template: "http://{host}/{version}/",
    variables: &[
        ServerVariable {
            name: "host",
            default: "127.0.0.1:9",
        },
        ServerVariable {
            name: "version",
            default: "2.0",
        },
    ],
    trusted_hosts: &[],
};

pub static GET_ITEM: Operation = Operation {
    id: "get_item",
    method: Method::GET,
    path_template: "/items/{item_id}",
    server: &API,
    idempotent: true,
    auth: true,
};

pub static PUT_PART: Operation = Operation {
    id: "put_part",
    method: Method::PUT,
    path_template: "/items/{item_id}/part",
    server: &API,
    idempotent: true,
    auth: true,
};

pub static CREATE_ITEM: Operation = Operation {
    id: "create_item",
    method: Method::POST,
    path_template: "/items",
    server: &API,
    idempotent: false,
    auth: true,
};

/// Retries fast enough for tests.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(5),
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    /// Send the body in chunks, without Content-Length.
    pub chunked: bool,
    pub delay: Duration,
}

impl Canned {
    pub fn new(status: u16, body: impl Into<Bytes>) -> Canned {
        Canned {
            status,
            headers: Vec::new(),
            body: body.into(),
            chunked: false,
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Canned {
        self.headers.push((name, value.into()));
        self
    }

    pub fn chunked(mut self) -> Canned {
        self.chunked = true;
        self
    }

    pub fn delay(mut self, delay: Duration) -> Canned {
        self.delay = delay;
        self
    }
}

#[derive(Clone, Default)]
pub struct Mock {
    requests: Arc<Mutex<Vec<Recorded>>>,
    responses: Arc<Mutex<VecDeque<Canned>>>,
}

impl Mock {
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// Starts a server that answers with `responses`, then with `200 {}`.
/// Returns it and its base URL, `http://127.0.0.1:<port>`.
pub async fn serve(responses: Vec<Canned>) -> (Mock, String) {
    let mock = Mock {
        requests: Arc::default(),
        responses: Arc::new(Mutex::new(responses.into())),
    };
    let app = Router::new().fallback(handle).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (mock, format!("http://{addr}"))
}

async fn handle(
    State(mock): State<Mock>,
    request: axum::extract::Request,
) -> Response<axum::body::Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    mock.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers,
        body,
    });
    let canned = mock
        .responses
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Canned::new(200, "{}"));
    tokio::time::sleep(canned.delay).await;
    let body = if canned.chunked {
        let chunks: Vec<Result<Bytes, std::io::Error>> = canned
            .body
            .chunks(10)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        axum::body::Body::from_stream(futures_util::stream::iter(chunks))
    } else {
        axum::body::Body::from(canned.body)
    };
    let mut response = Response::builder().status(canned.status);
    for (name, value) in canned.headers {
        response = response.header(name, value);
    }
    response.body(body).unwrap()
}
