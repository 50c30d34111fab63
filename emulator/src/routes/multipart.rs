//! The `multipart/form-data` body of a direct upload: an `attributes` part (JSON), then a
//! `file` part, whose content is streamed to disk and hashed on the way, never held in
//! memory. Parsed by `multer` (the parser axum's own multipart support uses).

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;

use super::discard;
use super::input::{Object, body_error, header_str, parse_object};
use crate::error::ApiError;
use crate::protocol::hex;
use crate::store::{Upload, internal, remove_path};

/// The largest `attributes` part accepted.
const ATTRIBUTES_LIMIT: u64 = 1024 * 1024;

/// Whether an upload must carry `attributes` (a new file) or may leave them out (a new
/// version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attributes {
    Required,
    Optional,
}

/// A direct upload's body, read: its attributes, and its content on disk.
#[derive(Debug)]
pub(super) struct DirectUpload {
    pub attributes: Option<Object>,
    pub upload: Upload,
}

/// Reads the multipart body of a direct upload. `attributes` must come before `file`, or
/// the answer is 400 `metadata_after_file_contents` (Box's); other parts are ignored.
/// `check` sees the attributes before the content is read, so that a refused upload
/// (missing folder, name taken) is refused without storing anything; the rest of the body
/// is then read and thrown away (up to a limit), so the client gets to see the answer.
/// The content goes to `dest`, which is removed again on any error.
pub(super) async fn read_upload(
    headers: &HeaderMap,
    body: Body,
    attributes_rule: Attributes,
    dest: PathBuf,
    check: impl FnOnce(Option<&Object>) -> Result<(), ApiError>,
) -> Result<DirectUpload, ApiError> {
    let boundary = header_str(headers, header::CONTENT_TYPE)
        .ok_or_else(|| multer::Error::NoMultipart)
        .and_then(multer::parse_boundary)
        .map_err(|e| {
            ApiError::bad_request(
                "bad_request",
                format!("the body must be multipart/form-data with a boundary: {e}"),
            )
        })?;
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().for_field("attributes", ATTRIBUTES_LIMIT));
    let mut stream = body.into_data_stream();
    let mut multipart = multer::Multipart::with_constraints(stream.by_ref(), boundary, constraints);
    let outcome = read_parts(&mut multipart, attributes_rule, &dest, check).await;
    drop(multipart);
    match outcome {
        Ok(upload) => Ok(upload),
        Err(error) => {
            remove_path(&dest);
            if error.status != axum::http::StatusCode::REQUEST_TIMEOUT {
                discard(&mut stream, super::DRAIN_LIMIT).await;
            }
            Err(error)
        }
    }
}

async fn read_parts(
    multipart: &mut multer::Multipart<'_>,
    attributes_rule: Attributes,
    dest: &std::path::Path,
    check: impl FnOnce(Option<&Object>) -> Result<(), ApiError>,
) -> Result<DirectUpload, ApiError> {
    let mut attributes = None;
    let mut check = Some(check);
    let mut upload = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("attributes") if upload.is_some() => {
                return Err(metadata_after_file());
            }
            Some("attributes") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                attributes = Some(parse_object(&bytes, "the attributes part")?);
            }
            Some("file") if upload.is_some() => {
                return Err(ApiError::bad_request(
                    "bad_request",
                    "the body has more than one file part",
                ));
            }
            Some("file") => {
                if attributes.is_none() && attributes_rule == Attributes::Required {
                    return Err(metadata_after_file());
                }
                if let Some(check) = check.take() {
                    check(attributes.as_ref())?;
                }
                upload = Some(write_file(&mut field, dest).await?);
            }
            // Parts Box does not define are read and ignored.
            _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
        }
    }
    let upload =
        upload.ok_or_else(|| ApiError::bad_request("bad_request", "the body has no file part"))?;
    Ok(DirectUpload { attributes, upload })
}

/// Streams the content of the `file` part to `dest`, counting and hashing it.
async fn write_file(
    field: &mut multer::Field<'_>,
    dest: &std::path::Path,
) -> Result<Upload, ApiError> {
    let file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| internal("creating the upload file", &e))?;
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha1::new();
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| internal("writing the upload", &e))?;
    }
    file.flush()
        .await
        .map_err(|e| internal("writing the upload", &e))?;
    Ok(Upload {
        path: dest.to_path_buf(),
        size,
        sha1: hasher.finalize().into(),
    })
}

fn metadata_after_file() -> ApiError {
    ApiError::bad_request(
        "metadata_after_file_contents",
        "the attributes part must come before the file part",
    )
}

fn multipart_error(error: multer::Error) -> ApiError {
    match error {
        multer::Error::StreamReadFailed(cause) => body_error(cause.as_ref()),
        multer::Error::FieldSizeExceeded { limit, field_name } => ApiError::bad_request(
            "bad_request",
            format!(
                "the {} part is larger than {limit} bytes",
                field_name.as_deref().unwrap_or("unnamed")
            ),
        ),
        other => ApiError::bad_request(
            "bad_request",
            format!("the multipart body is malformed: {other}"),
        ),
    }
}

/// Checks the optional `content-md5` header, which carries the hex SHA-1 of the content
/// (not an MD5, despite its name): a mismatch is 400 `bad_digest`, as Box answers.
pub(super) fn check_content_sha1(headers: &HeaderMap, upload: &Upload) -> Result<(), ApiError> {
    let Some(expected) = header_str(headers, "content-md5") else {
        return Ok(());
    };
    let actual = hex(&upload.sha1);
    if expected.trim().eq_ignore_ascii_case(&actual) {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "bad_digest",
        "the specified content-md5 did not match what we received",
    )
    .with_context(serde_json::json!({"expected": expected, "actual": actual})))
}
