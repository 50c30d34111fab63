//! Folders.

use super::{Folder, Store};

impl Store {
    /// Creates a folder, or returns the id of the folder of that name that exists.
    pub fn create_folder(&self, parent_id: &str, name: &str) -> Result<String, String> {
        self.locked(|state| {
            if !state.folders.contains_key(parent_id) {
                return Err(format!("no folder {parent_id}"));
            }
            let lower = name.to_lowercase();
            if let Some(existing) = state.folders.values().find(|f| {
                f.parent_id.as_deref() == Some(parent_id) && f.name.to_lowercase() == lower
            }) {
                return Ok(existing.id.clone());
            }
            if state.item_named(parent_id, name, None).is_some() {
                return Err(format!(
                    "a file named {name:?} exists in folder {parent_id}"
                ));
            }
            let id = state.new_id();
            state.folders.insert(
                id.clone(),
                Folder {
                    id: id.clone(),
                    name: name.to_string(),
                    parent_id: Some(parent_id.to_string()),
                },
            );
            Ok(id)
        })
    }
}
