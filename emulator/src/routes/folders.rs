//! Folders: `POST /folders`, `GET /folders/{folder_id}` and `GET /folders/{folder_id}/items`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as MARKER;

use super::input::{field, item_name, parent_id, read_json};
use super::{Shared, json_response, run_op};
use crate::error::ApiError;
use crate::faults::Op;
use crate::server::Connection;
use crate::store::{ItemOrder, SortBy};
use crate::wire::{Fields, folder_json, items_json, marker_items_json};

/// Box's default page size of folder listings.
const DEFAULT_LIMIT: usize = 100;

/// Box's largest page size of folder listings; larger limits are lowered to it.
const MAX_LIMIT: usize = 1000;

type QueryMap = HashMap<String, String>;

/// `POST /folders`: `{name, parent: {id}}` → 201 `Folder--Full`.
pub(super) async fn create_folder(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Query(query): Query<QueryMap>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::CreateFolder,
        None,
        None,
        body,
        |body| async {
            let fields = fields(&query);
            let body = read_json(body).await?;
            let name = field(&body, "name")
                .ok_or_else(|| ApiError::bad_request("bad_request", "name is required"))?;
            let name = item_name(name, "name")?;
            let parent = parent_id(&body, "the request body")?;
            let folder = app.store.add_folder(parent, name)?;
            let items = items_json(
                0,
                0,
                DEFAULT_LIMIT,
                ItemOrder::default(),
                &[],
                &Fields::default(),
            );
            Ok(json_response(
                StatusCode::CREATED,
                folder_json(&folder, Some(items), &fields),
            ))
        },
    )
    .await
}

/// `GET /folders/{folder_id}`: `Folder--Full`, with the first page of its items in
/// `item_collection` (shaped by `sort`, `direction`, `offset`, `limit`).
pub(super) async fn get_folder(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(folder_id): Path<String>,
    Query(query): Query<QueryMap>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::GetFolder,
        None,
        None,
        body,
        |_| async {
            let fields = fields(&query);
            let (order, offset, limit) = (order(&query)?, offset(&query)?, limit(&query)?);
            let folder = app.store.folder(&folder_id)?;
            let (total, page) = app.store.folder_items(&folder_id, order, offset, limit)?;
            let items = items_json(total, offset, limit, order, &page, &Fields::default());
            Ok(json_response(
                StatusCode::OK,
                folder_json(&folder, Some(items), &fields),
            ))
        },
    )
    .await
}

/// `GET /folders/{folder_id}/items`: a page of `Items`, folders first, by offset or (with
/// `usemarker=true`) by marker.
pub(super) async fn list_items(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    Path(folder_id): Path<String>,
    Query(query): Query<QueryMap>,
    body: Body,
) -> Response {
    run_op(
        &app,
        &connection,
        Op::ListFolderItems,
        None,
        None,
        body,
        |_| async {
            let fields = fields(&query);
            let (order, limit) = (order(&query)?, limit(&query)?);
            // Box's Python SDK sends `True`: booleans are read without regard to case.
            let use_marker = match query.get("usemarker").map(|v| v.to_ascii_lowercase()) {
                None => false,
                Some(v) if v == "false" => false,
                Some(v) if v == "true" => true,
                Some(other) => {
                    return Err(bad_query(format!(
                        "usemarker must be true or false, not {other:?}"
                    )));
                }
            };
            let offset = match (use_marker, query.get("marker")) {
                (true, Some(marker)) => marker_offset(marker)?,
                (true, None) => 0,
                (false, Some(_)) => {
                    return Err(bad_query("marker needs usemarker=true".to_string()));
                }
                (false, None) => offset(&query)?,
            };
            let (total, page) = app.store.folder_items(&folder_id, order, offset, limit)?;
            let items = if use_marker {
                let next = offset + page.len();
                let next_marker = (next < total).then(|| MARKER.encode(format!("offset:{next}")));
                marker_items_json(limit, next_marker, &page, &fields)
            } else {
                items_json(total, offset, limit, order, &page, &fields)
            };
            Ok(json_response(StatusCode::OK, items))
        },
    )
    .await
}

fn bad_query(message: String) -> ApiError {
    ApiError::bad_request("bad_request", message)
}

fn fields(query: &QueryMap) -> Fields {
    Fields::parse(query.get("fields").map(String::as_str))
}

fn offset(query: &QueryMap) -> Result<usize, ApiError> {
    match query.get("offset") {
        None => Ok(0),
        Some(text) => text.trim().parse().map_err(|_| {
            bad_query(format!(
                "offset must be a non-negative integer, not {text:?}"
            ))
        }),
    }
}

/// `limit`: 1 or more (100 when absent); above 1000 it is lowered to 1000, as Box does.
fn limit(query: &QueryMap) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
            _ => Err(bad_query(format!(
                "limit must be an integer from 1 to {MAX_LIMIT}, not {text:?}"
            ))),
        },
    }
}

/// `sort` (`id`, `name`, `date`, `size`; default `name`) and `direction` (`ASC`, `DESC`).
fn order(query: &QueryMap) -> Result<ItemOrder, ApiError> {
    let by = match query.get("sort") {
        None => SortBy::default(),
        Some(text) => SortBy::parse(text).ok_or_else(|| {
            bad_query(format!("sort must be id, name, date or size, not {text:?}"))
        })?,
    };
    let descending = match query.get("direction").map(|d| d.to_ascii_uppercase()) {
        None => false,
        Some(d) if d == "ASC" => false,
        Some(d) if d == "DESC" => true,
        Some(d) => {
            return Err(bad_query(format!(
                "direction must be ASC or DESC, not {d:?}"
            )));
        }
    };
    Ok(ItemOrder { by, descending })
}

/// The offset a marker of ours stands for.
fn marker_offset(marker: &str) -> Result<usize, ApiError> {
    MARKER
        .decode(marker)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("offset:")?.parse().ok())
        .ok_or_else(|| {
            bad_query(format!(
                "marker {marker:?} is not one this emulator handed out"
            ))
        })
}
