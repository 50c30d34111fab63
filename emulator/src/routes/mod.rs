//! The HTTP surface: routes under both `/2.0` and `/api/2.0`, the outer middleware (request
//! id, bearer auth, `ClientError` bodies), fault injection, and one handler per operation.
//!
//! The status and code of every refusal are tabled in the crate documentation.

mod commit;
mod files;
mod sessions;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::Value;

use crate::App;
use crate::error::ApiError;
use crate::faults::{FaultAction, Op};
use crate::server::Connection;

/// The most request-body bytes read and thrown away before an error answer, so that the
/// client, still sending, gets to read the answer instead of a reset.
const DRAIN_LIMIT: u64 = 128 * 1024 * 1024;

/// The largest JSON body accepted.
const JSON_LIMIT: usize = 16 * 1024 * 1024;

/// The header that carries the request id, as Box sends it.
const REQUEST_ID_HEADER: &str = "box-request-id";

type Shared = State<Arc<App>>;

/// The whole router, for both roots.
pub(crate) fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/files/upload_sessions", post(sessions::create_session))
        .route(
            "/files/upload_sessions/{session_id}",
            get(sessions::get_session)
                .put(sessions::upload_part)
                .delete(sessions::abort),
        )
        .route(
            "/files/upload_sessions/{session_id}/parts",
            get(sessions::list_parts),
        )
        .route(
            "/files/upload_sessions/{session_id}/commit",
            post(commit::commit),
        )
        .route(
            "/files/upload_sessions/{session_id}/log",
            post(sessions::log_event),
        )
        .route(
            "/files/{file_id}/upload_sessions",
            post(sessions::create_session_for_file),
        )
        .route("/files/{file_id}", get(files::get_file))
        .route("/files/{file_id}/content", get(files::get_file_content));
    Router::new()
        .nest("/2.0", api.clone())
        .nest("/api/2.0", api)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(middleware::from_fn_with_state(app.clone(), frame))
        .with_state(app)
}

/// The outer middleware: request id, auth, `ClientError` bodies for every error, a log line.
async fn frame(State(app): Shared, request: Request, next: Next) -> Response {
    let request_id = format!("{:032x}", rand::random::<u128>());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    if request
        .extensions()
        .get::<Connection>()
        .is_some_and(|c| c.second_host)
    {
        app.stats.update(|s| s.second_host_requests += 1);
    }
    let mut response = match check_auth(app.config.token.as_deref(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            app.stats.update(|s| s.unauthorized += 1);
            drain(request.into_body()).await;
            error.into_response()
        }
    };
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        response = error.render(&request_id);
    } else if response.status().is_client_error() || response.status().is_server_error() {
        // An answer of axum's own (405, a rejected extractor): give it a ClientError body too.
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !is_json {
            response = ApiError::for_status(response.status()).render(&request_id);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(%method, %path, status = response.status().as_u16(), %request_id, "request");
    response
}

/// `authorization: Bearer <token>`; `expected` `None` accepts any non-empty token.
fn check_auth(expected: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let refuse = |message: &str, challenge: &'static str| {
        let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        error.www_authenticate = Some(challenge);
        Err(error)
    };
    match (token, expected) {
        (None, _) => refuse("a bearer token is required", r#"Bearer realm="Service""#),
        (Some(token), Some(expected)) if token != expected => refuse(
            "the access token is not valid",
            r#"Bearer realm="Service", error="invalid_token", error_description="the access token is not valid""#,
        ),
        _ => Ok(()),
    }
}

/// Counts the request, applies the fault injected into it if any, else runs `handler`.
async fn run_op<F, Fut>(
    app: &App,
    connection: &Connection,
    op: Op,
    session_id: Option<&str>,
    offset: Option<u64>,
    body: Body,
    handler: F,
) -> Response
where
    F: FnOnce(Body) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    app.stats.count_request(op);
    let Some(action) = app.faults.take(op, session_id, offset) else {
        return handler(body)
            .await
            .unwrap_or_else(IntoResponse::into_response);
    };
    match action {
        FaultAction::Status {
            status,
            code,
            retry_after,
        } => {
            drain(body).await;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::new(status, code, "an injected fault")
                .with_retry_after(retry_after)
                .into_response()
        }
        FaultAction::DropConnection { after_bytes } => {
            read_at_most(body, after_bytes).await;
            connection.drop_now().await;
            unanswered()
        }
        FaultAction::LoseResponse => {
            let _lost = handler(body).await;
            connection.drop_now().await;
            unanswered()
        }
        FaultAction::Delay(delay) => {
            tokio::time::sleep(delay).await;
            handler(body)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        FaultAction::SlowBody { bytes_per_sec } => {
            let pace = bytes_per_sec.max(1) as f64;
            let slow = body.into_data_stream().then(move |chunk| async move {
                if let Ok(bytes) = &chunk {
                    tokio::time::sleep(Duration::from_secs_f64(bytes.len() as f64 / pace)).await;
                }
                chunk
            });
            handler(Body::from_stream(slow))
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        FaultAction::Hang => {
            connection.wait_closed().await;
            unanswered()
        }
        FaultAction::StallBody { after_bytes } => {
            let mut stream = body.into_data_stream();
            discard(&mut stream, after_bytes).await;
            // The rest stays unread (the stream is held, not dropped) until the client leaves.
            connection.wait_closed().await;
            drop(stream);
            unanswered()
        }
        FaultAction::OneOf(_) => unreachable!("Faults::take draws one of the choices"),
        FaultAction::CommitAccepted => {
            drain(body).await;
            accepted(app)
        }
        FaultAction::PartsMismatch => {
            drain(body).await;
            ApiError::bad_request(
                "parts_mismatch",
                "the listed parts do not match the parts processed so far (injected)",
            )
            .into_response()
        }
    }
}

/// What a handler returns once its connection is gone (nobody reads it).
fn unanswered() -> Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// 202 with `Retry-After` and no body.
fn accepted(app: &App) -> Response {
    app.stats.update(|s| s.commits_accepted += 1);
    let mut response = StatusCode::ACCEPTED.into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(app.config.retry_after_secs),
    );
    response
}

fn json_response(status: StatusCode, value: impl serde::Serialize) -> Response {
    (status, Json(value)).into_response()
}

/// Reads and throws away the body, up to [`DRAIN_LIMIT`] bytes.
async fn drain(body: Body) {
    read_at_most(body, DRAIN_LIMIT).await;
}

/// Reads and throws away about `limit` bytes of the body (at least `limit` if it has them).
async fn read_at_most(body: Body, limit: u64) {
    discard(&mut body.into_data_stream(), limit).await;
}

/// Reads and throws away about `limit` bytes of what is left of a body.
async fn discard(stream: &mut BodyDataStream, limit: u64) {
    let mut read = 0u64;
    while read < limit {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => break,
        }
    }
}

async fn read_json(body: Body) -> Result<serde_json::Map<String, Value>, ApiError> {
    let bytes = axum::body::to_bytes(body, JSON_LIMIT).await.map_err(|e| {
        ApiError::bad_request(
            "bad_request",
            format!("the request body could not be read: {e}"),
        )
    })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "bad_request",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "bad_request",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A present, non-null field.
fn field<'a>(body: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}
