//! The JSON the emulator answers with, shaped as Box's schemas (`UploadSession`,
//! `UploadedPart`, `UploadParts` here; files, folders and listings in [`items`]). These are
//! the emulator's own types, written from the schemas, independent of any generated client.

mod items;

pub(crate) use items::{Fields, file_json, files_json, folder_json, items_json, marker_items_json};

use serde::Serialize;
use serde_json::{Value, json};

use crate::protocol::{box_time, hex};
use crate::store::{Part, SessionView};

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
