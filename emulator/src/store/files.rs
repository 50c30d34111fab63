//! Committed files.

use chrono::Utc;

use super::{FileRecord, FileView, Store, StoredFile};

impl Store {
    pub fn file_view(&self, file_id: &str) -> Option<FileView> {
        self.locked(|state| state.files.get(file_id).map(|f| state.file_view(f)))
    }

    pub fn stored_file(&self, file_id: &str) -> Option<StoredFile> {
        self.locked(|state| state.files.get(file_id).map(FileRecord::to_stored))
    }

    pub fn find_file(&self, folder_id: &str, name: &str) -> Option<StoredFile> {
        self.locked(|state| {
            state
                .files
                .values()
                .find(|f| f.parent_id == folder_id && f.name == name)
                .map(FileRecord::to_stored)
        })
    }

    /// Creates a file directly (a test fixture, not an API call).
    pub fn create_file(
        &self,
        folder_id: &str,
        name: &str,
        content: &[u8],
    ) -> Result<StoredFile, String> {
        use sha1::Digest;
        self.locked(|state| {
            if !state.folders.contains_key(folder_id) {
                return Err(format!("no folder {folder_id}"));
            }
            if state.item_named(folder_id, name, None).is_some() {
                return Err(format!(
                    "an item named {name:?} exists in folder {folder_id}"
                ));
            }
            let (id, version_id) = (state.new_id(), state.new_id());
            let path = self.dir.join("files").join(format!("{id}.{version_id}"));
            std::fs::write(&path, content)
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            let now = Utc::now();
            let file = FileRecord {
                id: id.clone(),
                name: name.to_string(),
                parent_id: folder_id.to_string(),
                size: content.len() as u64,
                sha1: sha1::Sha1::digest(content).into(),
                version_id,
                version_number: 1,
                path,
                created_at: now,
                modified_at: now,
                content_created_at: now,
                content_modified_at: now,
            };
            let stored = file.to_stored();
            state.files.insert(id, file);
            Ok(stored)
        })
    }
}
