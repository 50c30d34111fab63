//! Reading files back: `GET /files/{id}` and its content.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Shared, json_response};
use crate::error::ApiError;
use crate::store::internal;
use crate::wire::file_json;

/// `GET /files/{id}`: the file's JSON (not an upload operation; no faults).
pub(super) async fn get_file(
    State(app): Shared,
    Path(file_id): Path<String>,
) -> Result<Response, ApiError> {
    let file = app
        .store
        .file_view(&file_id)
        .ok_or_else(|| ApiError::not_found(format!("no file {file_id}")))?;
    Ok(json_response(StatusCode::OK, file_json(&file)))
}

/// `GET /files/{id}/content`: the file's bytes, streamed from disk.
pub(super) async fn get_file_content(
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
