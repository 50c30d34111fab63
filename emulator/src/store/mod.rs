//! The emulated Box account: folders, files, upload sessions and their parts.
//!
//! Metadata lives in memory behind one mutex, which is never held across an `.await` nor
//! during bulk I/O; bytes live on disk under the storage directory:
//!
//! - `sessions/<session id>/<offset>.part`: stored parts (`*.tmp` while arriving),
//! - `files/<file id>.<version id>`: the content of each file's current version,
//! - `uploads/<random>.tmp`: the content of a direct upload while it arrives.
//!
//! Decisions that are the emulator's own (Box does not document them) are marked "Choice".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::{EmulatorConfig, PartSizePolicy, UnchangedVersion};
use crate::error::ApiError;
use crate::protocol::hex;

mod assembly;
mod commit;
mod files;
mod folders;
mod sessions;

pub(crate) use assembly::{Assembled, assemble};
pub(crate) use commit::{CommitOutcome, CommitStep, ListedPart, Preconditions};
pub(crate) use files::{FileTimes, Upload};
pub(crate) use folders::{FolderView, ItemOrder, ItemView, SortBy};
use sessions::Session;
pub(crate) use sessions::{Part, PartPlan, SessionView};

/// The id of the root folder ("All Files").
pub(crate) const ROOT_FOLDER: &str = "0";

/// A committed file as the emulator stores it, from
/// [`Emulator::committed_file`](crate::Emulator::committed_file) and
/// [`Emulator::find_file`](crate::Emulator::find_file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The file id.
    pub id: String,
    /// The file name.
    pub name: String,
    /// The id of the folder it is in.
    pub parent_id: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-1 of its content, lower-case hex (as Box's `sha1` fields).
    pub sha1: String,
    /// The id of its current version (`file_version.id`).
    pub version_id: String,
    /// 1 for the first version, 2 after one new version, ...
    pub version_number: u64,
    /// Its `etag` (and `sequence_id`): `version_number - 1`.
    pub etag: String,
    /// Where its content is on disk.
    pub path: PathBuf,
}

impl StoredFile {
    /// Reads the whole content into memory (for small test files).
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.path)
    }

    /// Opens the content for streaming reads.
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.path)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Folder {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Folder {
    pub fn is_root(&self) -> bool {
        self.id == ROOT_FOLDER
    }

    /// Its `etag` and `sequence_id`: folders are never changed, so "0"; the root has none.
    pub fn etag(&self) -> Option<String> {
        (!self.is_root()).then(|| "0".to_string())
    }

    /// The mini form, as in `context_info.conflicts`.
    fn mini_json(&self) -> Value {
        json!({"type": "folder", "id": self.id, "etag": self.etag(), "sequence_id": self.etag(), "name": self.name})
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FileRecord {
    pub id: String,
    pub name: String,
    pub parent_id: String,
    pub size: u64,
    pub sha1: [u8; 20],
    pub version_id: String,
    pub version_number: u64,
    pub path: PathBuf,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub content_created_at: DateTime<Utc>,
    pub content_modified_at: DateTime<Utc>,
}

impl FileRecord {
    pub fn etag(&self) -> String {
        (self.version_number - 1).to_string()
    }

    fn to_stored(&self) -> StoredFile {
        StoredFile {
            id: self.id.clone(),
            name: self.name.clone(),
            parent_id: self.parent_id.clone(),
            size: self.size,
            sha1: hex(&self.sha1),
            version_id: self.version_id.clone(),
            version_number: self.version_number,
            etag: self.etag(),
            path: self.path.clone(),
        }
    }

    /// The mini form Box puts in `context_info.conflicts`.
    fn mini_json(&self) -> Value {
        json!({
            "type": "file",
            "id": self.id,
            "etag": self.etag(),
            "sequence_id": self.etag(),
            "name": self.name,
            "sha1": hex(&self.sha1),
            "file_version": {"type": "file_version", "id": self.version_id, "sha1": hex(&self.sha1)},
        })
    }
}

/// A folder as the `parent` and `path_collection` fields show it.
#[derive(Debug, Clone)]
pub(crate) struct FolderMini {
    pub id: String,
    pub name: String,
    /// Root has no etag or sequence id (Box sends null); other folders have "0".
    pub etag: Option<String>,
}

/// A file with what its JSON needs from the folder tree.
#[derive(Debug, Clone)]
pub(crate) struct FileView {
    pub file: FileRecord,
    pub parent: FolderMini,
    /// From the root down to the parent.
    pub path: Vec<FolderMini>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    folders: HashMap<String, Folder>,
    files: HashMap<String, FileRecord>,
    sessions: HashMap<String, Session>,
    /// Paths to delete once the lock is released.
    garbage: Vec<PathBuf>,
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// The mini JSON of the file or folder in `folder_id` whose name equals `name`, ignoring
    /// case as Box does. `except` is a file id to leave out (a file being renamed clashes not
    /// with itself).
    fn item_named(&self, folder_id: &str, name: &str, except: Option<&str>) -> Option<Value> {
        let name = name.to_lowercase();
        let file = self.files.values().find(|f| {
            f.parent_id == folder_id
                && f.name.to_lowercase() == name
                && Some(f.id.as_str()) != except
        });
        if let Some(file) = file {
            return Some(file.mini_json());
        }
        self.folders
            .values()
            .find(|f| f.parent_id.as_deref() == Some(folder_id) && f.name.to_lowercase() == name)
            .map(Folder::mini_json)
    }

    /// 409 `item_name_in_use` when `name` is taken in `folder_id`; for uploads, whose
    /// `context_info.conflicts` is the existing item (as Box answers uploads).
    fn name_in_use(
        &self,
        folder_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<(), ApiError> {
        match self.item_named(folder_id, name, except) {
            None => Ok(()),
            Some(conflict) => Err(name_in_use_error(folder_id, name, conflict)),
        }
    }

    /// The bytes stored: the current version of every file.
    fn used_bytes(&self) -> u64 {
        self.files.values().map(|f| f.size).sum()
    }

    /// 403 `storage_limit_exceeded` when storing `add` more bytes (and freeing `free`) would
    /// pass the quota.
    fn check_quota(&self, quota: Option<u64>, add: u64, free: u64) -> Result<(), ApiError> {
        let Some(quota) = quota else {
            return Ok(());
        };
        let used = self.used_bytes().saturating_sub(free);
        if used.saturating_add(add) <= quota {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "storage_limit_exceeded",
            format!(
                "{add} more bytes would pass the account's quota: {used} of {quota} bytes are used"
            ),
        )
        .with_context(json!({"quota": quota, "used": used, "requested": add})))
    }

    /// The live folder `id`, else 404 `not_found`.
    fn folder(&self, id: &str) -> Result<&Folder, ApiError> {
        self.folders
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("no folder {id}")))
    }

    /// The file `id`, else 404 `not_found`.
    fn file(&self, id: &str) -> Result<&FileRecord, ApiError> {
        self.files
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("no file {id}")))
    }

    fn folder_mini(&self, id: &str) -> FolderMini {
        match self.folders.get(id) {
            Some(folder) => FolderMini {
                id: folder.id.clone(),
                name: folder.name.clone(),
                etag: folder.etag(),
            },
            None => FolderMini {
                id: id.to_string(),
                name: String::new(),
                etag: None,
            },
        }
    }

    /// The folders from the root down to `folder_id`, both included.
    fn path_to(&self, folder_id: &str) -> Vec<FolderMini> {
        let mut path = Vec::new();
        let mut next = Some(folder_id.to_string());
        while let Some(id) = next {
            next = self.folders.get(&id).and_then(|f| f.parent_id.clone());
            path.push(self.folder_mini(&id));
        }
        path.reverse();
        path
    }

    fn file_view(&self, file: &FileRecord) -> FileView {
        FileView {
            parent: self.folder_mini(&file.parent_id),
            file: file.clone(),
            path: self.path_to(&file.parent_id),
        }
    }
}

/// 409 `item_name_in_use` naming `conflict`, the item that holds the name.
fn name_in_use_error(folder_id: &str, name: &str, conflicts: Value) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "item_name_in_use",
        format!("an item named {name:?} already exists in folder {folder_id}"),
    )
    .with_context(json!({"conflicts": conflicts}))
}

/// The account and its storage.
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    min_file_size: u64,
    part_size: PartSizePolicy,
    ttl: chrono::Duration,
    quota: Option<u64>,
    unchanged_version: UnchangedVersion,
    state: Mutex<State>,
}

impl Store {
    pub fn new(dir: PathBuf, config: &EmulatorConfig) -> std::io::Result<Store> {
        for sub in ["sessions", "files", "uploads"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let mut state = State {
            next_id: 100_000_000_000,
            ..State::default()
        };
        state.folders.insert(
            ROOT_FOLDER.to_string(),
            Folder {
                id: ROOT_FOLDER.to_string(),
                name: "All Files".to_string(),
                parent_id: None,
                created_at: Utc::now(),
            },
        );
        Ok(Store {
            dir,
            min_file_size: config.min_file_size,
            part_size: config.part_size,
            ttl: chrono::Duration::from_std(config.session_ttl).unwrap_or(chrono::Duration::MAX),
            quota: config.quota,
            unchanged_version: config.unchanged_version,
            state: Mutex::new(state),
        })
    }

    pub fn min_file_size(&self) -> u64 {
        self.min_file_size
    }

    /// Runs `f` under the lock, then deletes what it left in the garbage.
    fn locked<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let (result, garbage) = {
            let mut state: MutexGuard<'_, State> =
                self.state.lock().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut state);
            (result, std::mem::take(&mut state.garbage))
        };
        for path in garbage {
            remove_path(&path);
        }
        result
    }
}

pub(crate) fn internal(what: &str, e: &std::io::Error) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_server_error",
        format!("{what}: {e}"),
    )
}

/// Deletes a file or a directory tree, ignoring what is already gone.
pub(crate) fn remove_path(path: &Path) {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not delete");
    }
}
