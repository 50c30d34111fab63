//! Committing an upload session.

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::input::{Object, digest_header, field, file_times, header_str, read_json};
use super::{Shared, accepted, drain, json_response, run_op};
use crate::App;
use crate::error::ApiError;
use crate::faults::Op;
use crate::protocol::base64_sha1;
use crate::server::Connection;
use crate::store::{
    Assembled, CommitOutcome, CommitStep, FileTimes, ListedPart, Preconditions, internal,
};
use crate::wire::{Fields, files_json};

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
    let digest = digest_header(headers)?;
    let listed = listed_parts(&body)?;
    let times = commit_times(&body)?;
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
        app.store.mark_processing(session_id);
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
    match app.store.finish_commit(session_id, &dest, sha1, &times)? {
        CommitOutcome::Committed(file) => {
            app.stats.update(|s| s.files_committed += 1);
            let files = files_json(&file, &Fields::default());
            Ok(json_response(StatusCode::CREATED, files))
        }
        // Box's answer to a version that changes nothing: 202, for as long as it is asked.
        CommitOutcome::Unchanged => Ok(accepted(app)),
    }
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

fn listed_parts(body: &Object) -> Result<Vec<ListedPart>, ApiError> {
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

fn commit_times(body: &Object) -> Result<FileTimes, ApiError> {
    match field(body, "attributes") {
        None => Ok(FileTimes::default()),
        Some(Value::Object(attributes)) => file_times(attributes),
        Some(_) => Err(ApiError::bad_request(
            "bad_request",
            "attributes must be an object",
        )),
    }
}
