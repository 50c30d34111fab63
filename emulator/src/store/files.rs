//! Files: direct uploads and new versions, the preflight check, and what every way of
//! making a file shares (a commit of a session ends in [`State::add_file`] or
//! [`State::add_version`] too).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::commit::{Preconditions, check_preconditions};
use super::{FileRecord, FileView, State, Store, StoredFile, internal};
use crate::error::ApiError;

/// The times a client may set on a file (`attributes` of an upload or a commit).
#[derive(Debug, Default, Clone)]
pub(crate) struct FileTimes {
    pub content_created_at: Option<DateTime<Utc>>,
    pub content_modified_at: Option<DateTime<Utc>>,
}

/// Content that arrived whole in a file of its own, with its size and SHA-1.
#[derive(Debug)]
pub(crate) struct Upload {
    pub path: PathBuf,
    pub size: u64,
    pub sha1: [u8; 20],
}

/// Content about to become a file's current version; it is moved, not copied.
#[derive(Debug, Clone, Copy)]
pub(super) struct Content<'a> {
    pub path: &'a Path,
    pub size: u64,
    pub sha1: [u8; 20],
}

impl<'a> From<&'a Upload> for Content<'a> {
    fn from(upload: &'a Upload) -> Content<'a> {
        Content {
            path: &upload.path,
            size: upload.size,
            sha1: upload.sha1,
        }
    }
}

impl State {
    /// Moves `content` into storage as the first version of a new file.
    pub(super) fn add_file(
        &mut self,
        dir: &Path,
        folder_id: &str,
        name: &str,
        content: Content<'_>,
        times: &FileTimes,
    ) -> Result<FileRecord, ApiError> {
        let (id, version_id) = (self.new_id(), self.new_id());
        let path = dir.join("files").join(format!("{id}.{version_id}"));
        std::fs::rename(content.path, &path).map_err(|e| internal("storing the file", &e))?;
        let now = Utc::now();
        let content_modified_at = times.content_modified_at.unwrap_or(now);
        let file = FileRecord {
            id,
            name: name.to_string(),
            parent_id: folder_id.to_string(),
            size: content.size,
            sha1: content.sha1,
            version_id,
            version_number: 1,
            path,
            created_at: now,
            modified_at: now,
            content_created_at: times.content_created_at.unwrap_or(content_modified_at),
            content_modified_at,
        };
        self.files.insert(file.id.clone(), file.clone());
        Ok(file)
    }

    /// Moves `content` into storage as the new current version of `file_id` (renamed to
    /// `new_name` if given): a new version id, the version number and so the etag go up.
    pub(super) fn add_version(
        &mut self,
        dir: &Path,
        file_id: &str,
        new_name: Option<&str>,
        content: Content<'_>,
        times: &FileTimes,
    ) -> Result<FileRecord, ApiError> {
        let old = self.file(file_id)?.clone();
        let version_id = self.new_id();
        let path = dir.join("files").join(format!("{file_id}.{version_id}"));
        std::fs::rename(content.path, &path).map_err(|e| internal("storing the file", &e))?;
        // Only now that the new version is in place may the old one go.
        self.garbage.push(old.path.clone());
        let now = Utc::now();
        let file = FileRecord {
            name: new_name.map_or(old.name.clone(), str::to_string),
            size: content.size,
            sha1: content.sha1,
            version_id,
            version_number: old.version_number + 1,
            path,
            modified_at: now,
            content_modified_at: times.content_modified_at.unwrap_or(now),
            ..old
        };
        self.files.insert(file.id.clone(), file.clone());
        Ok(file)
    }

    /// The checks of a new file named `name` in `folder_id` of `size` bytes (when known):
    /// the folder exists (404), the name is free (409), the quota holds (403).
    fn check_new_file(
        &self,
        quota: Option<u64>,
        folder_id: &str,
        name: &str,
        size: Option<u64>,
    ) -> Result<(), ApiError> {
        self.folder(folder_id)?;
        self.name_in_use(folder_id, name, None)?;
        self.check_quota(quota, size.unwrap_or(0), 0)
    }

    /// The checks of a new version of `file_id`: the file exists (404), the preconditions
    /// hold on its etag (412), a new name is free (409), the quota holds for `size` bytes
    /// in place of the current version's (403).
    fn check_new_version(
        &self,
        quota: Option<u64>,
        file_id: &str,
        pre: &Preconditions,
        new_name: Option<&str>,
        size: Option<u64>,
    ) -> Result<(), ApiError> {
        let file = self.file(file_id)?;
        check_preconditions(pre, Some(&file.etag()))?;
        if let Some(name) = new_name {
            self.name_in_use(&file.parent_id, name, Some(file_id))?;
        }
        self.check_quota(quota, size.unwrap_or(0), file.size)
    }
}

impl Store {
    /// Where a direct upload writes its content while it arrives.
    pub fn upload_path(&self) -> PathBuf {
        self.dir
            .join("uploads")
            .join(format!("{:032x}.tmp", rand::random::<u128>()))
    }

    /// The preflight check: would an upload of `size` bytes named `name` into `folder_id`
    /// be accepted? Each part of the question is asked only when given.
    pub fn preflight(
        &self,
        folder_id: Option<&str>,
        name: Option<&str>,
        size: Option<u64>,
    ) -> Result<(), ApiError> {
        self.locked(|state| {
            if let Some(folder_id) = folder_id {
                state.folder(folder_id)?;
                if let Some(name) = name {
                    state.name_in_use(folder_id, name, None)?;
                }
            }
            state.check_quota(self.quota, size.unwrap_or(0), 0)
        })
    }

    /// The checks of [`upload_file`](Self::upload_file) that need no content, to refuse
    /// before the content is read.
    pub fn check_upload(&self, folder_id: &str, name: &str) -> Result<(), ApiError> {
        self.locked(|state| state.check_new_file(self.quota, folder_id, name, None))
    }

    /// A direct upload of a new file; the checks are made again, now with the size.
    pub fn upload_file(
        &self,
        folder_id: &str,
        name: &str,
        upload: &Upload,
        times: &FileTimes,
    ) -> Result<FileView, ApiError> {
        self.locked(|state| {
            state.check_new_file(self.quota, folder_id, name, Some(upload.size))?;
            let file = state.add_file(&self.dir, folder_id, name, upload.into(), times)?;
            Ok(state.file_view(&file))
        })
    }

    /// The checks of [`upload_version`](Self::upload_version) that need no content.
    pub fn check_version_upload(
        &self,
        file_id: &str,
        pre: &Preconditions,
        new_name: Option<&str>,
    ) -> Result<(), ApiError> {
        self.locked(|state| state.check_new_version(self.quota, file_id, pre, new_name, None))
    }

    /// A direct upload of a new version of `file_id`; the checks are made again.
    pub fn upload_version(
        &self,
        file_id: &str,
        pre: &Preconditions,
        new_name: Option<&str>,
        upload: &Upload,
        times: &FileTimes,
    ) -> Result<FileView, ApiError> {
        self.locked(|state| {
            state.check_new_version(self.quota, file_id, pre, new_name, Some(upload.size))?;
            let file = state.add_version(&self.dir, file_id, new_name, upload.into(), times)?;
            Ok(state.file_view(&file))
        })
    }

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
        let path = self.upload_path();
        std::fs::write(&path, content).map_err(|e| format!("writing {}: {e}", path.display()))?;
        let upload = Upload {
            size: content.len() as u64,
            sha1: sha1::Sha1::digest(content).into(),
            path,
        };
        let created = self.upload_file(folder_id, name, &upload, &FileTimes::default());
        match created {
            Ok(view) => Ok(view.file.to_stored()),
            Err(error) => {
                super::remove_path(&upload.path);
                Err(error.message)
            }
        }
    }
}
