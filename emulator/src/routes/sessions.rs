//! The upload-session operations other than commit: create, status, parts, abort.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;

use super::input::{Object, body_error, digest_header, field, header_str, item_name, read_json};
use super::{DRAIN_LIMIT, Shared, discard, drain, json_response, run_op};
use crate::App;
use crate::error::ApiError;
use crate::faults::Op;
use crate::protocol::{ContentRange, base64_sha1};
use crate::server::Connection;
use crate::stats::PartUpload;
use crate::store::{PartPlan, internal, remove_path};
use crate::wire::{UploadParts, UploadSession, UploadedPart};

fn file_size(body: &Object, min: u64) -> Result<u64, ApiError> {
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

pub(super) async fn create_session(
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
            let name = item_name(name, "file_name")?;
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

pub(super) async fn create_session_for_file(
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
            let name = field(&body, "file_name")
                .map(|name| item_name(name, "file_name"))
                .transpose()?;
            let session = app.store.create_version_session(&file_id, name, size)?;
            Ok(json_response(
                StatusCode::CREATED,
                UploadSession::new(&session, &app.session_url),
            ))
        },
    )
    .await
}

pub(super) async fn get_session(
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

pub(super) async fn upload_part(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let range = header_str(&headers, header::CONTENT_RANGE).map(ContentRange::parse);
    let offset = range.flatten().map(|r| r.first);
    // Only uploads to real sessions are logged, so that the log cannot be grown at will.
    let entry = app.store.session_exists(&session_id).then(|| {
        // One line per part upload, for benchmarks that count what a client sends again.
        tracing::info!(%session_id, offset = offset.unwrap_or(u64::MAX), "part upload");
        app.stats.log_part_upload(PartUpload {
            session_id: session_id.clone(),
            offset,
            status: None,
        })
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
    if let Some(entry) = entry {
        app.stats
            .part_upload_answered(entry, response.status().as_u16());
    }
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
    let digest = digest_header(headers)?;
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
            Some(Err(e)) => break Err(body_error(&e)),
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

pub(super) async fn list_parts(
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

pub(super) async fn abort(
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
pub(super) async fn log_event(
    State(app): Shared,
    Path(session_id): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    drain(body).await;
    app.store.session(&session_id)?;
    Ok(StatusCode::NO_CONTENT)
}
