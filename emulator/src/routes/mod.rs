//! The HTTP surface: routes under both `/2.0` and `/api/2.0`, the outer middleware (request
//! id, `Host` check, bearer auth, `ClientError` bodies), fault injection, and one handler per
//! operation.
//!
//! The status and code of every refusal are tabled in the crate documentation.

mod commit;
mod files;
mod folders;
mod input;
mod multipart;
mod oauth;
mod sessions;
mod uploads;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;

use crate::App;
use crate::error::ApiError;
use crate::faults::{FaultAction, Op};
use crate::server::Connection;

/// The most request-body bytes read and thrown away before an error answer, so that the
/// client, still sending, gets to read the answer instead of a reset.
const DRAIN_LIMIT: u64 = 128 * 1024 * 1024;

/// The header that carries the request id, as Box sends it.
const REQUEST_ID_HEADER: &str = "box-request-id";

/// The root of Box's API host, and of its upload host; both serve every operation.
const API_ROOT: &str = "/2.0";
const UPLOAD_ROOT: &str = "/api/2.0";

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
        .route(
            "/files/content",
            post(uploads::upload_file).options(uploads::preflight),
        )
        .route("/files/{file_id}", get(files::get_file))
        .route(
            "/files/{file_id}/content",
            get(files::get_file_content).post(uploads::upload_file_version),
        )
        .route("/folders", post(folders::create_folder))
        .route("/folders/{folder_id}", get(folders::get_folder))
        .route("/folders/{folder_id}/items", get(folders::list_items));
    // The token endpoint is at the root, beside the two roots, outside the calls that need
    // a bearer token (see `needs_bearer`).
    Router::new()
        .route("/oauth2/token", post(oauth::token))
        .route("/oauth2/revoke", post(oauth::revoke))
        .nest(API_ROOT, api.clone())
        .nest(UPLOAD_ROOT, api)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(middleware::from_fn_with_state(app.clone(), frame))
        .with_state(app)
}

/// The outer middleware: request id, `Host` check, auth, `ClientError` bodies for every
/// error, a log line.
async fn frame(State(app): Shared, request: Request, next: Next) -> Response {
    let _in_flight = app.stats.request_in_flight();
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
    let admitted = app
        .hosts
        .check(&request)
        .inspect_err(|_| app.stats.update(|s| s.misdirected += 1))
        .and_then(|()| match needs_bearer(&path) {
            false => Ok(()),
            true => {
                let upload = method == Method::POST && is_direct_upload(&path);
                app.auth
                    .check(request.headers(), upload)
                    .map_err(|refused| {
                        app.stats.update(|s| {
                            s.unauthorized += 1;
                            s.expired_tokens += u64::from(refused.expired);
                        });
                        refused.error
                    })
            }
        });
    let mut response = match admitted {
        Ok(()) => next.run(request).await,
        Err(error) => {
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

/// Whether a path is under one of the roots, whose calls need a bearer token.
fn needs_bearer(path: &str) -> bool {
    [API_ROOT, UPLOAD_ROOT].iter().any(|root| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// `POST /files/content` under a root: where an upload token from the preflight check is
/// accepted too.
fn is_direct_upload(path: &str) -> bool {
    [API_ROOT, UPLOAD_ROOT]
        .iter()
        .any(|root| path.strip_prefix(root) == Some("/files/content"))
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
            if let Some(id) = session_id {
                app.store.mark_processing(id);
            }
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
