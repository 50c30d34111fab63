//! Folders: creation, reading one, and listing the items in one.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{FileView, Folder, FolderMini, State, Store, name_in_use_error};
use crate::error::ApiError;

/// A folder with what its JSON needs from the tree.
#[derive(Debug, Clone)]
pub(crate) struct FolderView {
    pub folder: Folder,
    /// `None` for the root.
    pub parent: Option<FolderMini>,
    /// From the root down to the parent (empty for the root).
    pub path: Vec<FolderMini>,
    /// The bytes of every file below it.
    pub size: u64,
    /// When something in it last changed (at least its creation).
    pub modified_at: DateTime<Utc>,
}

/// An entry of a folder listing.
#[derive(Debug, Clone)]
pub(crate) enum ItemView {
    Folder(FolderView),
    File(FileView),
}

/// The second key items are sorted by; folders always come before files, as in Box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortBy {
    Id,
    /// Without regard to case; the default.
    #[default]
    Name,
    /// The time of the last change.
    Date,
    Size,
}

impl SortBy {
    pub fn parse(value: &str) -> Option<SortBy> {
        match value {
            "id" => Some(SortBy::Id),
            "name" => Some(SortBy::Name),
            "date" => Some(SortBy::Date),
            "size" => Some(SortBy::Size),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::Name => "name",
            SortBy::Date => "date",
            SortBy::Size => "size",
        }
    }
}

/// How a listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ItemOrder {
    pub by: SortBy,
    pub descending: bool,
}

impl ItemView {
    fn is_folder(&self) -> bool {
        matches!(self, ItemView::Folder(_))
    }

    fn id(&self) -> &str {
        match self {
            ItemView::Folder(f) => &f.folder.id,
            ItemView::File(f) => &f.file.id,
        }
    }

    fn name(&self) -> &str {
        match self {
            ItemView::Folder(f) => &f.folder.name,
            ItemView::File(f) => &f.file.name,
        }
    }

    fn size(&self) -> u64 {
        match self {
            ItemView::Folder(f) => f.size,
            ItemView::File(f) => f.file.size,
        }
    }

    fn date(&self) -> DateTime<Utc> {
        match self {
            ItemView::Folder(f) => f.modified_at,
            ItemView::File(f) => f.file.modified_at,
        }
    }

    /// Folders first; then by `order`; ties broken by id, so the order is total.
    fn compare(&self, other: &ItemView, order: ItemOrder) -> Ordering {
        let by_id = |a: &str, b: &str| a.len().cmp(&b.len()).then_with(|| a.cmp(b));
        let second = match order.by {
            SortBy::Id => by_id(self.id(), other.id()),
            SortBy::Name => (self.name().to_lowercase().cmp(&other.name().to_lowercase()))
                .then_with(|| self.name().cmp(other.name())),
            SortBy::Date => self.date().cmp(&other.date()),
            SortBy::Size => self.size().cmp(&other.size()),
        };
        let second = if order.descending {
            second.reverse()
        } else {
            second
        };
        other
            .is_folder()
            .cmp(&self.is_folder())
            .then(second)
            .then_with(|| by_id(self.id(), other.id()))
    }
}

impl State {
    /// The bytes below each folder that holds files (directly or further down).
    fn folder_sizes(&self) -> HashMap<String, (u64, DateTime<Utc>)> {
        let mut totals: HashMap<String, (u64, DateTime<Utc>)> = HashMap::new();
        for file in self.files.values() {
            let mut next = Some(file.parent_id.as_str());
            while let Some(id) = next {
                let entry = totals
                    .entry(id.to_string())
                    .or_insert((0, file.modified_at));
                entry.0 += file.size;
                entry.1 = entry.1.max(file.modified_at);
                next = self.folders.get(id).and_then(|f| f.parent_id.as_deref());
            }
        }
        totals
    }

    fn folder_view(
        &self,
        folder: &Folder,
        sizes: &HashMap<String, (u64, DateTime<Utc>)>,
    ) -> FolderView {
        let (size, last_change) = sizes
            .get(&folder.id)
            .copied()
            .unwrap_or((0, folder.created_at));
        let (parent, path) = match &folder.parent_id {
            Some(parent_id) => (Some(self.folder_mini(parent_id)), self.path_to(parent_id)),
            None => (None, Vec::new()),
        };
        FolderView {
            folder: folder.clone(),
            parent,
            path,
            size,
            modified_at: last_change.max(folder.created_at),
        }
    }
}

impl Store {
    /// Creates a folder, or returns the id of the folder of that name that exists (a test
    /// fixture, not an API call).
    pub fn create_folder(&self, parent_id: &str, name: &str) -> Result<String, String> {
        self.locked(|state| {
            state.folder(parent_id).map_err(|e| e.message)?;
            let lower = name.to_lowercase();
            if let Some(existing) = state.folders.values().find(|f| {
                f.parent_id.as_deref() == Some(parent_id) && f.name.to_lowercase() == lower
            }) {
                return Ok(existing.id.clone());
            }
            add_folder(state, parent_id, name)
                .map(|folder| folder.id)
                .map_err(|e| e.message)
        })
    }

    /// `POST /folders`: a new folder `name` in `parent_id`. The parent must exist (404
    /// `not_found`) and the name be free, whatever its case (409 `item_name_in_use`, whose
    /// `context_info.conflicts` is a list holding the item with that name, as Box answers
    /// folder creation).
    pub fn add_folder(&self, parent_id: &str, name: &str) -> Result<FolderView, ApiError> {
        self.locked(|state| {
            let folder = add_folder(state, parent_id, name)?;
            Ok(state.folder_view(&folder, &HashMap::new()))
        })
    }

    /// The folder `id`, else 404 `not_found`.
    pub fn folder(&self, id: &str) -> Result<FolderView, ApiError> {
        self.locked(|state| {
            let folder = state.folder(id)?;
            Ok(state.folder_view(folder, &state.folder_sizes()))
        })
    }

    /// One page of the items in folder `id`: `(total count, the page)`.
    pub fn folder_items(
        &self,
        id: &str,
        order: ItemOrder,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<ItemView>), ApiError> {
        self.locked(|state| {
            state.folder(id)?;
            let sizes = state.folder_sizes();
            let folders = state
                .folders
                .values()
                .filter(|f| f.parent_id.as_deref() == Some(id))
                .map(|f| ItemView::Folder(state.folder_view(f, &sizes)));
            let files = state
                .files
                .values()
                .filter(|f| f.parent_id == id)
                .map(|f| ItemView::File(state.file_view(f)));
            let mut items: Vec<ItemView> = folders.chain(files).collect();
            items.sort_by(|a, b| a.compare(b, order));
            let total = items.len();
            let page = items.into_iter().skip(offset).take(limit).collect();
            Ok((total, page))
        })
    }
}

fn add_folder(state: &mut State, parent_id: &str, name: &str) -> Result<Folder, ApiError> {
    state.folder(parent_id)?;
    if let Some(conflict) = state.item_named(parent_id, name, None) {
        return Err(name_in_use_error(parent_id, name, vec![conflict].into()));
    }
    let folder = Folder {
        id: state.new_id(),
        name: name.to_string(),
        parent_id: Some(parent_id.to_string()),
        created_at: Utc::now(),
    };
    state.folders.insert(folder.id.clone(), folder.clone());
    Ok(folder)
}
