//! Files, folders and folder listings as Box's schemas show them (`File--Full`, `Files`,
//! `Folder--Full`, `Items`), and the `fields` query parameter that trims them.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::protocol::{box_time, hex};
use crate::store::{FileView, FolderMini, FolderView, ItemOrder, ItemView};

/// The keys of a file's mini form (`File--Mini`).
const FILE_MINI: &[&str] = &[
    "type",
    "id",
    "etag",
    "sequence_id",
    "name",
    "sha1",
    "file_version",
];

/// The keys of a folder's mini form (`Folder--Mini`).
const FOLDER_MINI: &[&str] = &["type", "id", "etag", "sequence_id", "name"];

/// The `fields` query parameter: `None` when absent. With it, Box answers the mini form
/// of each item plus the fields asked for (names it does not know are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(Option<BTreeSet<String>>);

impl Fields {
    /// Parses `a,b,c`; empty names are skipped.
    pub fn parse(value: Option<&str>) -> Fields {
        Fields(value.map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect()
        }))
    }

    /// `full` trimmed to `mini` plus the requested fields; without `fields`, `full` itself
    /// or, where Box answers mini forms by default (listings), the mini form.
    fn select(&self, full: Value, mini: &[&str], mini_by_default: bool) -> Value {
        let keep = |key: &str| match &self.0 {
            Some(requested) => mini.contains(&key) || requested.contains(key),
            None => !mini_by_default || mini.contains(&key),
        };
        match full {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(key, _)| keep(key))
                    .collect::<Map<String, Value>>(),
            ),
            other => other,
        }
    }
}

/// `Files`: the answer to a commit or a direct upload.
pub(crate) fn files_json(file: &FileView, fields: &Fields) -> Value {
    let entry = fields.select(file_json(file), FILE_MINI, false);
    json!({"total_count": 1, "entries": [entry]})
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

fn path_json(path: &[FolderMini]) -> Value {
    json!({
        "total_count": path.len(),
        "entries": path.iter().map(folder_mini_json).collect::<Vec<_>>(),
    })
}

/// The user every item belongs to.
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
        "path_collection": path_json(&view.path),
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

/// A `Folder--Full` with the fields Box sends by default; `item_collection` when given
/// (reading or creating one folder). The root has no dates, parent, etag or sequence id.
pub(crate) fn folder_json(
    view: &FolderView,
    item_collection: Option<Value>,
    fields: &Fields,
) -> Value {
    let folder = &view.folder;
    let dated = |time| (!folder.is_root()).then(|| box_time(time));
    let mut full = json!({
        "type": "folder",
        "id": folder.id,
        "etag": folder.etag(),
        "sequence_id": folder.etag(),
        "name": folder.name,
        "created_at": dated(folder.created_at),
        "modified_at": dated(view.modified_at),
        "description": "",
        "size": view.size,
        "path_collection": path_json(&view.path),
        "created_by": user_json(),
        "modified_by": user_json(),
        "trashed_at": null,
        "purged_at": null,
        "content_created_at": dated(folder.created_at),
        "content_modified_at": dated(view.modified_at),
        "owned_by": user_json(),
        "shared_link": null,
        "folder_upload_email": null,
        "parent": view.parent.as_ref().map(folder_mini_json),
        "item_status": "active",
    });
    if let (Some(items), Value::Object(map)) = (item_collection, &mut full) {
        map.insert("item_collection".to_string(), items);
    }
    fields.select(full, FOLDER_MINI, false)
}

/// `Items` with offset paging: entries in their mini form plus the requested fields.
pub(crate) fn items_json(
    total: usize,
    offset: usize,
    limit: usize,
    order: ItemOrder,
    page: &[ItemView],
    fields: &Fields,
) -> Value {
    let direction = if order.descending { "DESC" } else { "ASC" };
    json!({
        "total_count": total,
        "entries": entries_json(page, fields),
        "offset": offset,
        "limit": limit,
        "order": [
            {"by": "type", "direction": "ASC"},
            {"by": order.by.as_str(), "direction": direction},
        ],
    })
}

/// `Items` with marker paging: no total, offset or order; `next_marker` is `null` on the
/// last page.
pub(crate) fn marker_items_json(
    limit: usize,
    next_marker: Option<String>,
    page: &[ItemView],
    fields: &Fields,
) -> Value {
    json!({
        "entries": entries_json(page, fields),
        "limit": limit,
        "next_marker": next_marker,
    })
}

fn entries_json(page: &[ItemView], fields: &Fields) -> Vec<Value> {
    page.iter()
        .map(|item| match item {
            ItemView::File(file) => fields.select(file_json(file), FILE_MINI, true),
            ItemView::Folder(folder) => fields.select(
                folder_json(folder, None, &Fields::default()),
                FOLDER_MINI,
                true,
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_the_mini_form_and_what_is_asked() {
        let full = json!({"type": "file", "id": "1", "name": "a", "size": 3, "description": ""});
        let mini = ["type", "id", "name"];
        assert_eq!(Fields::parse(None).select(full.clone(), &mini, false), full);
        assert_eq!(
            Fields::parse(None).select(full.clone(), &mini, true),
            json!({"type": "file", "id": "1", "name": "a"})
        );
        assert_eq!(
            Fields::parse(Some("size, nonsense,,")).select(full, &mini, true),
            json!({"type": "file", "id": "1", "name": "a", "size": 3})
        );
    }
}
