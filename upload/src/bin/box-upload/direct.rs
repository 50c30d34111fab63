//! Small files in one request (Box's direct upload), until the engine has its own direct
//! path: the source's SHA-1 goes in `content-md5` (Box checks it), the bytes are streamed
//! from disk, and the answer is checked against the source.

use std::path::Path;
use std::time::SystemTime;

use box_upload::{
    Body, Client, FileFull, Files, UploadFileBodyAttributes, UploadFileBodyAttributesParent,
    UploadFileRequest, UploadFileVersionBodyAttributes, UploadFileVersionRequest,
};
use oas_runtime::{FilePart, ServerText};

/// Sends the file at `path` (whose SHA-1 is `sha1`) as `name` in `folder_id`, or as a new
/// version of `file_id` at `etag` when given.
pub async fn send(
    client: &Client,
    path: &Path,
    sha1: &str,
    modified: SystemTime,
    to: Direct<'_>,
) -> Result<FileFull, String> {
    let body = Body::from_path(path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let modified = chrono::DateTime::<chrono::Utc>::from(modified).fixed_offset();
    let files: Files = match to {
        Direct::New { folder_id, name } => client
            .upload_file(UploadFileRequest {
                fields: None,
                content_md5: Some(sha1.to_string()),
                attributes: UploadFileBodyAttributes {
                    name: name.to_string(),
                    parent: UploadFileBodyAttributesParent {
                        id: folder_id.to_string(),
                    },
                    content_created_at: None,
                    content_modified_at: Some(modified),
                },
                file: FilePart::new(body, name),
            })
            .await
            .map_err(|e| e.to_string())?,
        Direct::Version {
            file_id,
            name,
            etag,
        } => client
            .upload_file_version(
                file_id,
                UploadFileVersionRequest {
                    fields: None,
                    if_match: etag.map(str::to_string),
                    content_md5: Some(sha1.to_string()),
                    attributes: UploadFileVersionBodyAttributes {
                        name: name.to_string(),
                        content_modified_at: Some(modified),
                    },
                    file: FilePart::new(body, name),
                },
            )
            .await
            .map_err(|e| e.to_string())?,
    };
    let file = files
        .entries
        .and_then(|entries| entries.into_iter().next())
        .ok_or("the server's answer names no file")?;
    match file.sha1.as_deref() {
        Some(got) if got.eq_ignore_ascii_case(sha1) => Ok(file),
        got => Err(format!(
            "file {} was stored with SHA-1 {}, the source's is {sha1}",
            ServerText::new(&file.id),
            ServerText::new(got.unwrap_or("(none)"))
        )),
    }
}

/// Where a direct upload goes.
pub enum Direct<'a> {
    New {
        folder_id: &'a str,
        name: &'a str,
    },
    Version {
        file_id: &'a str,
        name: &'a str,
        etag: Option<&'a str>,
    },
}
