//! The HTTP surface: routes under both `/2.0` and `/api/2.0`, the outer middleware (request
//! id, bearer auth, `ClientError` bodies), fault injection, and one handler per operation.
//!
//! The status and code of every refusal are tabled in the crate documentation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::App;
use crate::error::ApiError;
use crate::faults::{FaultAction, Op};
use crate::protocol::{ContentRange, DigestError, base64_sha1, check_item_name, parse_sha1_digest};
use crate::server::Connection;
use crate::stats::PartUpload;
use crate::store::{
    Assembled, CommitAttributes, CommitStep, ListedPart, PartPlan, Preconditions, internal,
    remove_path,
};
use crate::wire::{UploadParts, UploadSession, UploadedPart, file_json, files_json};

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
        .route("/files/upload_sessions", post(create_session))
        .route(
            "/files/upload_sessions/{session_id}",
            get(get_session).put(upload_part).delete(abort),
        )
        .route("/files/upload_sessions/{session_id}/parts", get(list_parts))
        .route("/files/upload_sessions/{session_id}/commit", post(commit))
        .route("/files/upload_sessions/{session_id}/log", post(log_event))
        .route(
            "/files/{file_id}/upload_sessions",
            post(create_session_for_file),
        )
        .route("/files/{file_id}", get(get_file))
        .route("/files/{file_id}/content", get(get_file_content));
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

fn file_size(body: &serde_json::Map<String, Value>, min: u64) -> Result<u64, ApiError> {
    let value = field(body, "file_size")
        .ok_or_else(|| ApiError::bad_request("missing_file_size", "file_size is required"))?;
    let size = value.as_u64().ok_or_else(|| {
        ApiError::bad_request(
            "invalid_file_size",
            format!("file_size must be a non-negative integer, not {value}"),
        )
    })?;
    if size < min {
        return Err(ApiError::bad_request(
            "file_size_too_small",
            format!("file_size {size} is below the minimum of {min} bytes for upload sessions"),
        )
        .with_context(json!({"min_file_size": min})));
    }
    Ok(size)
}

fn file_name(value: &Value) -> Result<&str, ApiError> {
    let name = value
        .as_str()
        .ok_or_else(|| ApiError::bad_request("item_name_invalid", "file_name must be a string"))?;
    check_item_name(name).map_err(|why| {
        ApiError::bad_request(
            "item_name_invalid",
            format!("file_name {name:?} is not valid: {why}"),
        )
    })?;
    Ok(name)
}

async fn create_session(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::CreateSession,
        None,
        None,
        body,
        |body| async {
            let body = read_json(body).await?;
            let folder_id = match field(&body, "folder_id") {
                None => {
                    return Err(ApiError::bad_request(
                        "missing_destination",
                        "folder_id is required",
                    ));
                }
                Some(Value::String(id))
                    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    id
                }
                Some(other) => {
                    return Err(ApiError::bad_request(
                        "invalid_folder_id",
                        format!("folder_id must be a string of digits, not {other}"),
                    ));
                }
            };
            let name = field(&body, "file_name").ok_or_else(|| {
                ApiError::bad_request("missing_file_name", "file_name is required")
            })?;
            let name = file_name(name)?;
            let size = file_size(&body, app.store.min_file_size())?;
            let session = app.store.create_session(folder_id, name, size)?;
            Ok(json_response(
                StatusCode::CREATED,
                UploadSession::new(&session, &app.session_url),
            ))
        },
    )
    .await
}

async fn create_session_for_file(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(file_id): Path<String>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::CreateSessionForFile,
        None,
        None,
        body,
        |body| async {
            let body = read_json(body).await?;
            let size = file_size(&body, app.store.min_file_size())?;
            let name = field(&body, "file_name").map(file_name).transpose()?;
            let session = app.store.create_version_session(&file_id, name, size)?;
            Ok(json_response(
                StatusCode::CREATED,
                UploadSession::new(&session, &app.session_url),
            ))
        },
    )
    .await
}

async fn get_session(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::GetSession,
        Some(&session_id),
        None,
        body,
        |_| async {
            let session = app.store.session(&session_id)?;
            Ok(json_response(
                StatusCode::OK,
                UploadSession::new(&session, &app.session_url),
            ))
        },
    )
    .await
}

async fn upload_part(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let range = header_str(&headers, header::CONTENT_RANGE).map(ContentRange::parse);
    let offset = range.flatten().map(|r| r.first);
    let mut index = 0;
    app.stats.update(|s| {
        index = s.part_uploads.len();
        s.part_uploads.push(PartUpload {
            session_id: session_id.clone(),
            offset,
            status: None,
        });
    });
    let response = run_op(
        &app,
        &connection,
        Op::UploadPart,
        Some(&session_id),
        offset,
        body,
        |body| receive_part(&app, &session_id, &headers, range, body),
    )
    .await;
    app.stats
        .update(|s| s.part_uploads[index].status = Some(response.status().as_u16()));
    response
}

/// The checks of a part upload that need no body: session, `content-range`, `digest`,
/// range against the session, `content-length` against the range.
fn plan_part(
    app: &App,
    session_id: &str,
    headers: &HeaderMap,
    range: Option<Option<ContentRange>>,
) -> Result<(PartPlan, ContentRange, [u8; 20]), ApiError> {
    app.store.session(session_id)?;
    let range = match range {
        None => {
            return Err(ApiError::bad_request(
                "bad_request",
                "the content-range header is required",
            ));
        }
        Some(None) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "content-range must read `bytes <first>-<last>/<file size>`",
            ));
        }
        Some(Some(range)) => range,
    };
    let digest = parse_sha1_digest(header_str(headers, "digest")).map_err(|e| match e {
        DigestError::Missing => {
            ApiError::bad_request("bad_request", "the digest header is required")
        }
        DigestError::Malformed => ApiError::bad_request(
            "bad_request",
            "digest must read `sha=<base64 of the SHA-1>`",
        ),
    })?;
    let plan = app.store.plan_part(session_id, range)?;
    if let Some(length) = header_str(headers, header::CONTENT_LENGTH)
        && length.trim().parse::<u64>().ok() != Some(plan.size)
    {
        return Err(ApiError::bad_request(
            "bad_request",
            format!(
                "content-length {length} differs from the {} bytes of content-range",
                plan.size
            ),
        ));
    }
    Ok((plan, range, digest))
}

async fn receive_part(
    app: &App,
    session_id: &str,
    headers: &HeaderMap,
    range: Option<Option<ContentRange>>,
    body: Body,
) -> Result<Response, ApiError> {
    let (plan, range, digest) = match plan_part(app, session_id, headers, range) {
        Ok(planned) => planned,
        Err(error) => {
            drain(body).await;
            return Err(error);
        }
    };
    let sha1 = match write_part(app, &plan, body).await {
        Ok(sha1) => sha1,
        Err(error) => {
            remove_path(&plan.tmp_path);
            if !app.store.session_exists(session_id) {
                return Err(ApiError::not_found(format!(
                    "no upload session {session_id}"
                )));
            }
            return Err(error);
        }
    };
    if sha1 != digest {
        remove_path(&plan.tmp_path);
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "digest_mismatch",
            "the part's SHA-1 differs from the digest header",
        )
        .with_context(json!({"expected": base64_sha1(&digest), "actual": base64_sha1(&sha1)})));
    }
    let (part, new) =
        app.store
            .finish_part(session_id, range.first, plan.size, sha1, &plan.tmp_path)?;
    app.stats.update(|s| {
        if new {
            s.parts_stored += 1;
        } else {
            s.parts_repeated += 1;
        }
    });
    Ok(json_response(
        StatusCode::OK,
        UploadedPart {
            part: (&part).into(),
        },
    ))
}

/// Streams the body into the part's temporary file, hashing on the way; checks its length.
async fn write_part(app: &App, plan: &PartPlan, body: Body) -> Result<[u8; 20], ApiError> {
    let file = tokio::fs::File::create(&plan.tmp_path)
        .await
        .map_err(|e| internal("creating the part file", &e))?;
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha1::new();
    let mut received = 0u64;
    let mut stream = body.into_data_stream();
    let outcome = loop {
        let chunk: Bytes = match stream.next().await {
            None => break Ok(()),
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                break Err(ApiError::bad_request(
                    "bad_request",
                    format!("the request body could not be read: {e}"),
                ));
            }
        };
        received += chunk.len() as u64;
        if received > plan.size {
            // Read on (up to a limit) so that the client gets to see the answer.
            discard(&mut stream, DRAIN_LIMIT).await;
            break Err(ApiError::bad_request(
                "bad_request",
                "the body is longer than its content-range",
            ));
        }
        hasher.update(&chunk);
        if let Err(e) = file.write_all(&chunk).await {
            break Err(internal("writing the part", &e));
        }
    };
    app.stats.update(|s| s.part_bytes_received += received);
    outcome?;
    file.flush()
        .await
        .map_err(|e| internal("writing the part", &e))?;
    if received != plan.size {
        return Err(ApiError::bad_request(
            "bad_request",
            format!(
                "the body has {received} bytes, its content-range {}",
                plan.size
            ),
        )
        .with_context(json!({"expected_bytes": plan.size, "received_bytes": received})));
    }
    Ok(hasher.finalize().into())
}

async fn list_parts(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::ListParts,
        Some(&session_id),
        None,
        body,
        |_| async {
            app.store.session(&session_id)?;
            let number =
                |name: &str, default: usize, range: std::ops::RangeInclusive<usize>| match query
                    .get(name)
                {
                    None => Ok(default),
                    Some(text) => text
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| range.contains(n))
                        .ok_or_else(|| {
                            ApiError::bad_request(
                                "bad_request",
                                format!(
                                    "{name} must be an integer from {} to {}, not {text:?}",
                                    range.start(),
                                    range.end()
                                ),
                            )
                        }),
                };
            let offset = number("offset", 0, 0..=10_000)?;
            let limit = number("limit", 100, 1..=1000)?;
            let (total, page) = app.store.list_parts(&session_id, offset, limit)?;
            Ok(json_response(
                StatusCode::OK,
                UploadParts::new(total, offset, limit, &page),
            ))
        },
    )
    .await
}

async fn commit(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::Commit,
        Some(&session_id),
        None,
        body,
        |body| commit_session(&app, &session_id, &headers, body),
    )
    .await
}

async fn commit_session(
    app: &App,
    session_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Err(error) = app.store.session(session_id) {
        drain(body).await;
        return Err(error);
    }
    let body = read_json(body).await?;
    let digest = parse_sha1_digest(header_str(headers, "digest")).map_err(|e| match e {
        DigestError::Missing => {
            ApiError::bad_request("bad_request", "the digest header is required")
        }
        DigestError::Malformed => ApiError::bad_request(
            "bad_request",
            "digest must read `sha=<base64 of the SHA-1>`",
        ),
    })?;
    let listed = listed_parts(&body)?;
    let attributes = commit_attributes(&body)?;
    let preconditions = Preconditions {
        if_match: header_str(headers, header::IF_MATCH).map(str::to_string),
        if_none_match: header_str(headers, header::IF_NONE_MATCH).map(str::to_string),
    };
    let step = app.store.begin_commit(
        session_id,
        &listed,
        &preconditions,
        app.config.commit_processing_polls,
    )?;
    let (dest, assembly) = match step {
        CommitStep::Accepted => return Ok(accepted(app)),
        CommitStep::Wait { dest, assembly } => (dest, assembly),
        CommitStep::Start {
            parts,
            dest,
            done,
            assembly,
        } => {
            let target = dest.clone();
            tokio::task::spawn_blocking(move || {
                let outcome = crate::store::assemble(parts, &target).map_err(|e| e.to_string());
                done.send_replace(Some(outcome));
            });
            (dest, assembly)
        }
    };
    // A big file takes a while to assemble: past `assembly_wait` the client is told to come back.
    let Ok(outcome) = tokio::time::timeout(app.config.assembly_wait, assembled(assembly)).await
    else {
        return Ok(accepted(app));
    };
    let sha1 = match outcome {
        Ok(sha1) => sha1,
        Err(e) => {
            app.store.reset_assembly(session_id);
            app.store.session(session_id)?;
            return Err(internal("assembling the file", &std::io::Error::other(e)));
        }
    };
    if sha1 != digest {
        return Err(ApiError::bad_request(
            "digest_mismatch",
            "the file's SHA-1 differs from the digest header",
        )
        .with_context(json!({"expected": base64_sha1(&digest), "actual": base64_sha1(&sha1)})));
    }
    let file = app
        .store
        .finish_commit(session_id, &dest, sha1, &attributes)?;
    app.stats.update(|s| s.files_committed += 1);
    Ok(json_response(StatusCode::CREATED, files_json(&file)))
}

/// The outcome of an assembly, once there is one.
async fn assembled(mut assembly: watch::Receiver<Option<Assembled>>) -> Assembled {
    match assembly.wait_for(Option::is_some).await {
        Ok(outcome) => outcome
            .clone()
            .unwrap_or_else(|| Err("no outcome".to_string())),
        Err(_) => Err("the assembly stopped without an outcome".to_string()),
    }
}

fn listed_parts(body: &serde_json::Map<String, Value>) -> Result<Vec<ListedPart>, ApiError> {
    let parts = field(body, "parts")
        .ok_or_else(|| ApiError::bad_request("bad_request", "parts is required"))?
        .as_array()
        .ok_or_else(|| ApiError::bad_request("bad_request", "parts must be an array"))?;
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| {
            serde_json::from_value(part.clone()).map_err(|e| {
                ApiError::bad_request(
                    "bad_request",
                    format!(
                        "parts[{index}] must have part_id, offset, size (and may have sha1): {e}"
                    ),
                )
            })
        })
        .collect()
}

fn commit_attributes(body: &serde_json::Map<String, Value>) -> Result<CommitAttributes, ApiError> {
    let Some(attributes) = field(body, "attributes") else {
        return Ok(CommitAttributes::default());
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(value) = attributes.get(name).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        value
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_request",
                    format!("attributes.{name} must be an RFC 3339 date-time, not {value}"),
                )
            })
    };
    if !attributes.is_object() {
        return Err(ApiError::bad_request(
            "bad_request",
            "attributes must be an object",
        ));
    }
    Ok(CommitAttributes {
        content_created_at: time("content_created_at")?,
        content_modified_at: time("content_modified_at")?,
    })
}

async fn abort(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::Abort,
        Some(&session_id),
        None,
        body,
        |_| async {
            app.store.abort(&session_id)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

/// `session_endpoints.log_event`: accepted and ignored (204) while the session lives.
async fn log_event(
    State(app): Shared,
    Path(session_id): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    drain(body).await;
    app.store.session(&session_id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /files/{id}`: the file's JSON (not an upload operation; no faults).
async fn get_file(State(app): Shared, Path(file_id): Path<String>) -> Result<Response, ApiError> {
    let file = app
        .store
        .file_view(&file_id)
        .ok_or_else(|| ApiError::not_found(format!("no file {file_id}")))?;
    Ok(json_response(StatusCode::OK, file_json(&file)))
}

/// `GET /files/{id}/content`: the file's bytes, streamed from disk.
async fn get_file_content(
    State(app): Shared,
    Path(file_id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = app
        .store
        .stored_file(&file_id)
        .ok_or_else(|| ApiError::not_found(format!("no file {file_id}")))?;
    let file = tokio::fs::File::open(&stored.path)
        .await
        .map_err(|e| internal("opening the file", &e))?;
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buffer = vec![0u8; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(stored.size));
    Ok(response)
}
