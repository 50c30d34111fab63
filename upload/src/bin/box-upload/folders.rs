//! Folders in Box: what a folder holds (every page of it), and sub-folders found or
//! created, each call within the run's request budget.

use std::collections::HashMap;
use std::sync::Arc;

use box_upload::{
    Client, CreateFolderBody, CreateFolderBodyParent, CreateFolderRequest, Error, Item,
    ListFolderItemsRequest,
};
use oas_runtime::ServerText;
use serde_json::Value;
use tokio::sync::Semaphore;

/// The page size of listings: Box's largest.
const PAGE: i64 = 1000;
/// The most pages one listing reads (a million entries): a server that never ends its
/// pages stops here, with an error, instead of for ever.
const MAX_PAGES: usize = 1000;

/// An item of a folder, as far as an upload cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    File {
        id: String,
        sha1: Option<String>,
        etag: Option<String>,
    },
    Folder {
        id: String,
    },
    /// A web link or an item of a type this client does not know: in the way of a name.
    Other {
        id: String,
    },
}

/// What a folder holds, by name. Box compares names without regard to case, so they are
/// kept lower-cased.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    by_name: HashMap<String, Existing>,
}

impl Listing {
    pub fn get(&self, name: &str) -> Option<&Existing> {
        self.by_name.get(&name.to_lowercase())
    }

    fn insert(&mut self, name: &str, item: Existing) {
        self.by_name.insert(name.to_lowercase(), item);
    }

    /// A listing of a folder created in this run: empty.
    pub fn empty() -> Listing {
        Listing::default()
    }
}

/// A folder call that failed, naming the folder.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot list folder {folder_id}: {source}")]
    List {
        folder_id: String,
        #[source]
        source: Box<Error>,
    },
    #[error("listing folder {folder_id}: {what}")]
    Paging { folder_id: String, what: String },
    #[error("cannot create folder {name:?} in folder {parent_id}: {source}")]
    Create {
        parent_id: String,
        name: String,
        #[source]
        source: Box<Error>,
    },
    #[error("{name:?} in folder {parent_id} is {what}, not a folder")]
    NotAFolder {
        parent_id: String,
        name: String,
        what: String,
    },
}

impl FolderError {
    /// Whether the server refused the credentials (401).
    pub fn is_unauthorized(&self) -> bool {
        let source = match self {
            FolderError::List { source, .. } | FolderError::Create { source, .. } => source,
            _ => return false,
        };
        source.status().is_some_and(|s| s.as_u16() == 401)
    }
}

/// Reads every page of folder `folder_id` (marker paging, which has no largest offset).
pub async fn list(
    client: &Client,
    budget: &Arc<Semaphore>,
    folder_id: &str,
) -> Result<Listing, FolderError> {
    let mut listing = Listing::default();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let request = ListFolderItemsRequest {
            fields: Some(vec!["name".into(), "sha1".into(), "etag".into()]),
            usemarker: Some(true),
            marker: marker.clone(),
            offset: None,
            limit: Some(PAGE),
            sort: None,
            direction: None,
            boxapi: None,
        };
        let page = {
            let _permit = budget.acquire().await;
            client.list_folder_items(folder_id, request).await
        }
        .map_err(|e| FolderError::List {
            folder_id: folder_id.to_string(),
            source: Box::new(e),
        })?;
        for entry in page.entries.unwrap_or_default() {
            let (name, item) = match entry {
                Item::FileFull(file) => (
                    file.name,
                    Existing::File {
                        id: file.id,
                        sha1: file.sha1,
                        etag: file.etag,
                    },
                ),
                Item::FolderMini(folder) => (folder.name, Existing::Folder { id: folder.id }),
                Item::WebLink(link) => (link.name, Existing::Other { id: link.id }),
                Item::Other(value) => (
                    value
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    Existing::Other {
                        id: text(&value, "id").unwrap_or_default(),
                    },
                ),
                _ => continue,
            };
            if let Some(name) = name {
                listing.insert(&name, item);
            }
        }
        match page.next_marker.filter(|m| !m.is_empty()) {
            None => return Ok(listing),
            Some(next) if Some(&next) == marker.as_ref() => {
                return Err(FolderError::Paging {
                    folder_id: folder_id.to_string(),
                    what: format!(
                        "the server gave the same marker {:?} twice",
                        ServerText::new(&next).to_string()
                    ),
                });
            }
            next => marker = next,
        }
    }
    Err(FolderError::Paging {
        folder_id: folder_id.to_string(),
        what: format!("more than {MAX_PAGES} pages"),
    })
}

/// The id of sub-folder `name` of `parent_id`, created if `listing` (the parent's) does
/// not hold it. A `409 item_name_in_use` (another client created it meanwhile) gives the
/// folder it names.
pub async fn ensure(
    client: &Client,
    budget: &Arc<Semaphore>,
    parent_id: &str,
    name: &str,
    listing: &Listing,
) -> Result<(String, bool), FolderError> {
    let not_a_folder = |what: &str| FolderError::NotAFolder {
        parent_id: parent_id.to_string(),
        name: name.to_string(),
        what: what.to_string(),
    };
    match listing.get(name) {
        Some(Existing::Folder { id }) => return Ok((id.clone(), false)),
        Some(Existing::File { id, .. }) => return Err(not_a_folder(&format!("file {id}"))),
        Some(Existing::Other { id }) => return Err(not_a_folder(&format!("item {id}"))),
        None => {}
    }
    let request = CreateFolderRequest {
        fields: None,
        body: CreateFolderBody {
            name: name.to_string(),
            parent: CreateFolderBodyParent {
                id: parent_id.to_string(),
            },
            ..CreateFolderBody::default()
        },
    };
    let created = {
        let _permit = budget.acquire().await;
        client.create_folder(request).await
    };
    match created {
        Ok(folder) => Ok((folder.id, true)),
        Err(error) => match conflicting_folder(&error) {
            Some(Ok(id)) => Ok((id, false)),
            Some(Err(what)) => Err(not_a_folder(&what)),
            None => Err(FolderError::Create {
                parent_id: parent_id.to_string(),
                name: name.to_string(),
                source: Box::new(error),
            }),
        },
    }
}

/// For a `409 item_name_in_use`: the folder in the way (`Ok(id)`), or what else is
/// (`Err`). Box answers folders with `context_info.conflicts` a list (files: an object);
/// both are read.
fn conflicting_folder(error: &Error) -> Option<Result<String, String>> {
    let api = error.api()?;
    if api.status.as_u16() != 409 {
        return None;
    }
    let body: Value = serde_json::from_slice(&api.raw_body).ok()?;
    if body.get("code").and_then(Value::as_str) != Some("item_name_in_use") {
        return None;
    }
    let items = match body.pointer("/context_info/conflicts")? {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    let item = items.iter().find(|item| text(item, "id").is_some())?;
    let id = text(item, "id")?;
    match text(item, "type").as_deref() {
        Some("folder") => Some(Ok(id)),
        other => Some(Err(format!(
            "{} {}",
            ServerText::new(other.unwrap_or("item")),
            ServerText::new(&id)
        ))),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_without_regard_to_case() {
        let mut listing = Listing::default();
        listing.insert("Docs", Existing::Folder { id: "7".into() });
        assert_eq!(
            listing.get("docs"),
            Some(&Existing::Folder { id: "7".into() })
        );
        assert_eq!(listing.get("doc"), None);
    }
}
