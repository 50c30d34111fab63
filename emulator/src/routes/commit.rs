//! Committing an upload session.

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Shared, accepted, drain, field, header_str, json_response, read_json, run_op};
use crate::App;
use crate::error::ApiError;
use crate::faults::Op;
use crate::protocol::{DigestError, base64_sha1, parse_sha1_digest};
use crate::server::Connection;
use crate::store::{Assembled, CommitAttributes, CommitStep, ListedPart, Preconditions, internal};
use crate::wire::files_json;

pub(super) async fn commit(
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
