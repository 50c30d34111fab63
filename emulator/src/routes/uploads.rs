//! Direct uploads: `POST /files/content` (a new file), `POST /files/{file_id}/content` (a
//! new version), and the preflight check `OPTIONS /files/content`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::input::{Object, field, file_times, header_str, item_name, parent_id, read_json};
use super::multipart::{Attributes, DirectUpload, check_content_sha1, read_upload};
use super::{Shared, json_response, run_op};
use crate::App;
use crate::error::ApiError;
use crate::faults::Op;
use crate::server::Connection;
use crate::store::{FileView, Preconditions, remove_path};
use crate::wire::{Fields, files_json};

/// `POST /files/content`: a new file from a multipart body.
pub(super) async fn upload_file(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::UploadFile,
        None,
        None,
        body,
        |body| async {
            let fields = Fields::parse(query.get("fields").map(String::as_str));
            let dest = app.store.upload_path();
            let mut target = None;
            let read = read_upload(&headers, body, Attributes::Required, dest, |attributes| {
                let attributes = attributes.ok_or_else(|| {
                    ApiError::bad_request("bad_request", "the attributes part is required")
                })?;
                let name = new_file_name(attributes)?;
                let folder_id = parent_id(attributes, "attributes")?;
                app.store.check_upload(folder_id, name)?;
                target = Some((folder_id.to_string(), name.to_string()));
                Ok(())
            })
            .await?;
            // The check runs before any content is read, so a stored upload always has a target.
            let (folder_id, name) = target.ok_or_else(|| {
                ApiError::bad_request("bad_request", "the attributes part is required")
            })?;
            let file = store_upload(&app, &headers, &read, |upload, times| {
                app.store.upload_file(&folder_id, &name, upload, times)
            })?;
            Ok(json_response(
                StatusCode::CREATED,
                files_json(&file, &fields),
            ))
        },
    )
    .await
}

/// `POST /files/{file_id}/content`: a new version of a file from a multipart body, whose
/// `attributes` may rename it; `if-match` must name the current etag.
pub(super) async fn upload_file_version(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(file_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::UploadFileVersion,
        None,
        None,
        body,
        |body| async {
            let fields = Fields::parse(query.get("fields").map(String::as_str));
            let pre = Preconditions {
                if_match: header_str(&headers, header::IF_MATCH).map(str::to_string),
                if_none_match: None,
            };
            let dest = app.store.upload_path();
            let mut new_name = None;
            let read = read_upload(&headers, body, Attributes::Optional, dest, |attributes| {
                new_name = attributes
                    .and_then(|a| field(a, "name"))
                    .map(|name| item_name(name, "attributes.name"))
                    .transpose()?
                    .map(str::to_string);
                app.store
                    .check_version_upload(&file_id, &pre, new_name.as_deref())
            })
            .await?;
            let file = store_upload(&app, &headers, &read, |upload, times| {
                app.store
                    .upload_version(&file_id, &pre, new_name.as_deref(), upload, times)
            })?;
            // Box's spec gives this operation 200 (a new file is 201).
            Ok(json_response(StatusCode::OK, files_json(&file, &fields)))
        },
    )
    .await
}

/// The checks after the content arrived (`content-md5`, the attributes' dates), then
/// `store`; the content is removed unless it was stored.
fn store_upload(
    app: &App,
    headers: &HeaderMap,
    read: &DirectUpload,
    store: impl FnOnce(&crate::store::Upload, &crate::store::FileTimes) -> Result<FileView, ApiError>,
) -> Result<FileView, ApiError> {
    let stored = check_content_sha1(headers, &read.upload)
        .and_then(|()| match &read.attributes {
            Some(attributes) => file_times(attributes),
            None => Ok(Default::default()),
        })
        .and_then(|times| store(&read.upload, &times));
    match stored {
        Ok(file) => {
            app.stats.update(|s| s.files_uploaded += 1);
            Ok(file)
        }
        Err(error) => {
            remove_path(&read.upload.path);
            Err(error)
        }
    }
}

/// The required `name` of a new file's attributes.
fn new_file_name(attributes: &Object) -> Result<&str, ApiError> {
    let name = field(attributes, "name")
        .ok_or_else(|| ApiError::bad_request("bad_request", "attributes.name is required"))?;
    item_name(name, "attributes.name")
}

/// `OPTIONS /files/content`: would an upload with this name, size and parent be accepted?
/// Every property is optional; each one given is checked. The answer names where to send
/// the upload and a token for it.
pub(super) async fn preflight(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::PreflightUpload,
        None,
        None,
        body,
        |body| async {
            let body = read_json(body).await?;
            let name = field(&body, "name")
                .map(|name| item_name(name, "name"))
                .transpose()?;
            let size = field(&body, "size")
                .map(|size| {
                    size.as_u64().ok_or_else(|| {
                        ApiError::bad_request(
                            "bad_request",
                            format!("size must be a non-negative integer, not {size}"),
                        )
                    })
                })
                .transpose()?;
            let folder_id = match field(&body, "parent") {
                None => None,
                Some(Value::Object(_)) => Some(parent_id(&body, "the request body")?),
                Some(other) => {
                    return Err(ApiError::bad_request(
                        "bad_request",
                        format!("parent must be an object, not {other}"),
                    ));
                }
            };
            app.store.preflight(folder_id, name, size)?;
            Ok(json_response(
                StatusCode::OK,
                json!({
                    "upload_url": format!("{}/files/content", app.upload_url),
                    "upload_token": app.auth.issue_upload_token(),
                }),
            ))
        },
    )
    .await
}
