//! The JSON the emulator answers with, shaped as Box's schemas (`UploadSession`,
//! `UploadedPart`, `UploadParts`, `Files` of `File--Full`). These are the emulator's own
//! types, written from the schemas, independent of any generated client.

use serde::Serialize;
use serde_json::{Value, json};

use crate::protocol::{box_time, hex};
use crate::store::{FileView, FolderMini, Part, SessionView};

/// `UploadSession`.
#[derive(Debug, Serialize)]
pub(crate) struct UploadSession {
    id: String,
    r#type: &'static str,
    session_expires_at: String,
    part_size: u64,
    total_parts: u64,
    num_parts_processed: u64,
    session_endpoints: SessionEndpoints,
}

/// `UploadSession.session_endpoints`: absolute URLs.
#[derive(Debug, Serialize)]
struct SessionEndpoints {
    upload_part: String,
    commit: String,
    abort: String,
    list_parts: String,
    status: String,
    log_event: String,
}

impl UploadSession {
    /// `base` is the root the endpoints live under, e.g. `http://127.0.0.1:PORT/api/2.0`.
    pub fn new(view: &SessionView, base: &str) -> UploadSession {
        let session = format!("{base}/files/upload_sessions/{}", view.id);
        UploadSession {
            id: view.id.clone(),
            r#type: "upload_session",
            session_expires_at: box_time(view.expires_at),
            part_size: view.part_size,
            total_parts: view.total_parts,
            num_parts_processed: view.num_parts_processed,
            session_endpoints: SessionEndpoints {
                commit: format!("{session}/commit"),
                abort: session.clone(),
                list_parts: format!("{session}/parts"),
                status: session.clone(),
                log_event: format!("{session}/log"),
                upload_part: session,
            },
        }
    }
}

/// `UploadPart`.
#[derive(Debug, Serialize)]
pub(crate) struct UploadPart {
    part_id: String,
    offset: u64,
    size: u64,
    sha1: String,
}

impl From<&Part> for UploadPart {
    fn from(part: &Part) -> UploadPart {
        UploadPart {
            part_id: part.part_id.clone(),
            offset: part.offset,
            size: part.size,
            sha1: hex(&part.sha1),
        }
    }
}

/// `UploadedPart`: the answer to a part upload.
#[derive(Debug, Serialize)]
pub(crate) struct UploadedPart {
    pub part: UploadPart,
}

/// `UploadParts`: a page of parts.
#[derive(Debug, Serialize)]
pub(crate) struct UploadParts {
    pub total_count: u64,
    pub limit: u64,
    pub offset: u64,
    pub order: Vec<Value>,
    pub entries: Vec<UploadPart>,
}

impl UploadParts {
    pub fn new(total_count: usize, offset: usize, limit: usize, parts: &[Part]) -> UploadParts {
        UploadParts {
            total_count: total_count as u64,
            limit: limit as u64,
            offset: offset as u64,
            order: vec![json!({"by": "offset", "direction": "ASC"})],
            entries: parts.iter().map(UploadPart::from).collect(),
        }
    }
}

/// `Files`: the answer to a successful commit.
pub(crate) fn files_json(file: &FileView) -> Value {
    json!({"total_count": 1, "entries": [file_json(file)]})
}

fn folder_mini_json(folder: &FolderMini) -> Value {
    json!({
        "type": "folder",
        "id": folder.id,
        "sequence_id": folder.etag,
        "etag": folder.etag,
        "name": folder.name,
    })
}

/// The user every file belongs to.
fn user_json() -> Value {
    json!({"type": "user", "id": "11446498", "name": "Emulator User", "login": "emulator@example.com"})
}

/// A `File--Full` with the fields Box sends by default, plus `version_number` and
/// `extension`.
pub(crate) fn file_json(view: &FileView) -> Value {
    let file = &view.file;
    let sha1 = hex(&file.sha1);
    let extension = file
        .name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty())
        .unwrap_or("");
    json!({
        "type": "file",
        "id": file.id,
        "etag": file.etag(),
        "sequence_id": file.etag(),
        "name": file.name,
        "sha1": sha1,
        "file_version": {"type": "file_version", "id": file.version_id, "sha1": sha1},
        "description": "",
        "size": file.size,
        "path_collection": {
            "total_count": view.path.len(),
            "entries": view.path.iter().map(folder_mini_json).collect::<Vec<_>>(),
        },
        "created_at": box_time(file.created_at),
        "modified_at": box_time(file.modified_at),
        "trashed_at": null,
        "purged_at": null,
        "content_created_at": box_time(file.content_created_at),
        "content_modified_at": box_time(file.content_modified_at),
        "created_by": user_json(),
        "modified_by": user_json(),
        "owned_by": user_json(),
        "shared_link": null,
        "parent": folder_mini_json(&view.parent),
        "item_status": "active",
        "version_number": file.version_number.to_string(),
        "comment_count": 0,
        "extension": extension,
        "is_package": false,
    })
}
