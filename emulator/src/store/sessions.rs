//! Upload sessions: creation, parts, listing, abort, expiry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::assembly::{Assembled, Feeder};
use super::{State, Store, internal};
use crate::error::ApiError;
use crate::protocol::{ContentRange, part_id};

#[derive(Debug, Clone)]
pub(super) enum Target {
    NewFile { folder_id: String },
    NewVersion { file_id: String },
}

#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub part_id: String,
    pub offset: u64,
    pub size: u64,
    pub sha1: [u8; 20],
}

#[derive(Debug)]
pub(super) struct Session {
    pub(super) id: String,
    pub(super) target: Target,
    /// The new file's name (new files), or the new name (new versions; `None`: keep it).
    pub(super) file_name: Option<String>,
    pub(super) file_size: u64,
    pub(super) part_size: u64,
    pub(super) total_parts: u64,
    pub(super) parts: BTreeMap<u64, Part>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) commit_polls_answered: u32,
    /// A commit was answered 202 because the file is still "processing" (a configured
    /// poll, an assembly still running, an injected 202); until the next commit, the
    /// session says so by counting at most `total_parts - 1` parts processed.
    pub(super) processing: bool,
    /// The concatenation of the parts into one file: started by the first part at offset
    /// 0 (see [`Session::feed_assembly`]) or by a commit; running (`None` inside) or done.
    /// Parts are immutable, so its result stays valid.
    pub(super) assembly: Option<watch::Receiver<Option<Assembled>>>,
    /// Hands the parts that continue the file, in order, to the assembly started by the
    /// parts; `None` once it has every part (or when a commit started the assembly).
    pub(super) feeder: Option<Feeder>,
    pub(super) dir: PathBuf,
}

/// What an upload-session JSON shows.
#[derive(Debug, Clone)]
pub(crate) struct SessionView {
    pub id: String,
    pub part_size: u64,
    pub total_parts: u64,
    pub num_parts_processed: u64,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    pub(super) fn view(&self) -> SessionView {
        SessionView {
            id: self.id.clone(),
            part_size: self.part_size,
            total_parts: self.total_parts,
            num_parts_processed: self.parts_processed(),
            expires_at: self.expires_at,
        }
    }
}

impl Session {
    /// `num_parts_processed`: the parts stored, but fewer than all while the session is
    /// processing, as Box's count of processed parts is. (A client that sees every part
    /// processed while a commit still answers 202 may take the new version for unchanged.)
    fn parts_processed(&self) -> u64 {
        let stored = self.parts.len() as u64;
        match self.processing {
            true => stored.min(self.total_parts.saturating_sub(1)),
            false => stored,
        }
    }
}

/// Where a part upload writes its bytes, and how many it must bring.
#[derive(Debug)]
pub(crate) struct PartPlan {
    pub tmp_path: PathBuf,
    pub size: u64,
}

impl State {
    /// The live session `id`. Expired sessions are removed on the way (their parts deleted).
    pub(super) fn session(&mut self, id: &str) -> Result<&mut Session, ApiError> {
        let expired = match self.sessions.get(id) {
            None => return Err(ApiError::not_found(format!("no upload session {id}"))),
            Some(session) => session.expires_at <= Utc::now(),
        };
        if expired {
            self.remove_session(id);
            return Err(ApiError::not_found(format!(
                "upload session {id} has expired"
            )));
        }
        self.sessions
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("no upload session {id}")))
    }

    pub(super) fn remove_session(&mut self, id: &str) -> bool {
        match self.sessions.remove(id) {
            Some(session) => {
                self.garbage.push(session.dir);
                true
            }
            None => false,
        }
    }

    pub(super) fn sweep_expired(&mut self) {
        let now = Utc::now();
        let expired: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.expires_at <= now)
            .map(|s| s.id.clone())
            .collect();
        for id in expired {
            self.remove_session(&id);
        }
    }
}

impl Store {
    fn new_session(
        &self,
        state: &mut State,
        target: Target,
        file_name: Option<String>,
        file_size: u64,
    ) -> Result<SessionView, ApiError> {
        state.sweep_expired();
        let id = format!("{:032X}", rand::random::<u128>());
        let dir = self.dir.join("sessions").join(&id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| internal("creating the session directory", &e))?;
        let part_size = self.part_size.part_size(file_size);
        let session = Session {
            id: id.clone(),
            target,
            file_name,
            file_size,
            part_size,
            total_parts: file_size.div_ceil(part_size),
            parts: BTreeMap::new(),
            expires_at: Utc::now() + self.ttl,
            commit_polls_answered: 0,
            processing: false,
            assembly: None,
            feeder: None,
            dir,
        };
        let view = session.view();
        state.sessions.insert(id, session);
        Ok(view)
    }

    /// A session for a new file (the request body already validated).
    pub fn create_session(
        &self,
        folder_id: &str,
        file_name: &str,
        file_size: u64,
    ) -> Result<SessionView, ApiError> {
        self.locked(|state| {
            if !state.folders.contains_key(folder_id) {
                // The spec names this 404's code `invalid_parameter`.
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "invalid_parameter",
                    format!("no folder {folder_id}"),
                ));
            }
            state.name_in_use(folder_id, file_name, None)?;
            state.check_quota(self.quota, file_size, 0)?;
            let target = Target::NewFile {
                folder_id: folder_id.to_string(),
            };
            self.new_session(state, target, Some(file_name.to_string()), file_size)
        })
    }

    /// A session for a new version of `file_id`, optionally renaming it.
    pub fn create_version_session(
        &self,
        file_id: &str,
        file_name: Option<&str>,
        file_size: u64,
    ) -> Result<SessionView, ApiError> {
        self.locked(|state| {
            let Some(file) = state.files.get(file_id) else {
                return Err(ApiError::not_found(format!("no file {file_id}")));
            };
            if let Some(name) = file_name {
                state.name_in_use(&file.parent_id, name, Some(file_id))?;
            }
            state.check_quota(self.quota, file_size, file.size)?;
            let target = Target::NewVersion {
                file_id: file_id.to_string(),
            };
            self.new_session(state, target, file_name.map(str::to_string), file_size)
        })
    }

    pub fn session(&self, id: &str) -> Result<SessionView, ApiError> {
        self.locked(|state| state.session(id).map(|s| s.view()))
    }

    pub fn session_exists(&self, id: &str) -> bool {
        self.session(id).is_ok()
    }

    /// Checks that `range` fits the session and says where its bytes go.
    ///
    /// All misfits answer 416 `range_not_satisfiable` (the spec's status for a range that
    /// does not fit the session); `context_info.reason` says which rule was broken:
    /// `total_mismatch`, `past_end`, `misaligned` or `wrong_size`.
    pub fn plan_part(&self, id: &str, range: ContentRange) -> Result<PartPlan, ApiError> {
        self.locked(|state| {
            let session = state.session(id)?;
            let misfit = |reason: &str, message: String| {
                ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    message,
                )
                .with_context(json!({
                    "reason": reason,
                    "file_size": session.file_size,
                    "part_size": session.part_size,
                }))
            };
            if range.total != session.file_size {
                return Err(misfit(
                    "total_mismatch",
                    format!(
                        "the range's total {} is not the session's file size {}",
                        range.total, session.file_size
                    ),
                ));
            }
            if range.last >= session.file_size {
                return Err(misfit(
                    "past_end",
                    match session.file_size.checked_sub(1) {
                        Some(last) => format!("the range ends past the file's last byte {last}"),
                        None => "the file is empty: it has no bytes to upload".to_string(),
                    },
                ));
            }
            if !range.first.is_multiple_of(session.part_size) {
                return Err(misfit(
                    "misaligned",
                    format!(
                        "the range starts at {}, not at a multiple of the part size {}",
                        range.first, session.part_size
                    ),
                ));
            }
            let size = session.part_size.min(session.file_size - range.first);
            if range.len() != size {
                return Err(misfit(
                    "wrong_size",
                    format!(
                        "a part at offset {} must have {size} bytes, not {}",
                        range.first,
                        range.len()
                    ),
                ));
            }
            let tmp_path = session.dir.join(format!(
                "{}.{:016x}.tmp",
                range.first,
                rand::random::<u64>()
            ));
            Ok(PartPlan { tmp_path, size })
        })
    }

    /// Records a part whose bytes (checked against its digest) are in `tmp_path`. Returns the
    /// part and whether it is new (`false`: an identical re-send of a stored part).
    ///
    /// Parts are immutable: other bytes for a stored range answer 409 `conflict` (Choice:
    /// the spec gives 409 for conflicting parts but names no code).
    pub fn finish_part(
        &self,
        id: &str,
        offset: u64,
        size: u64,
        sha1: [u8; 20],
        tmp_path: &Path,
    ) -> Result<(Part, bool), ApiError> {
        self.locked(|state| {
            let session = match state.session(id) {
                Ok(session) => session,
                Err(e) => {
                    state.garbage.push(tmp_path.to_path_buf());
                    return Err(e);
                }
            };
            if let Some(existing) = session.parts.get(&offset) {
                let existing = existing.clone();
                state.garbage.push(tmp_path.to_path_buf());
                if existing.sha1 == sha1 {
                    return Ok((existing, false));
                }
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("a part with other content is already stored at offset {offset}"),
                )
                .with_context(json!({"conflicts": part_json(&existing)})));
            }
            let path = part_path(&session.dir, offset);
            std::fs::rename(tmp_path, &path).map_err(|e| internal("storing the part", &e))?;
            let part = Part {
                part_id: part_id(id, offset, &sha1),
                offset,
                size,
                sha1,
            };
            session.parts.insert(offset, part.clone());
            session.feed_assembly();
            Ok((part, true))
        })
    }

    /// The session's parts ordered by offset: `(total count, the page)`.
    pub fn list_parts(
        &self,
        id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Part>), ApiError> {
        self.locked(|state| {
            let session = state.session(id)?;
            let page = session
                .parts
                .values()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect();
            Ok((session.parts.len(), page))
        })
    }

    /// Aborts a session: its parts are deleted and it answers 404 from now on.
    pub fn abort(&self, id: &str) -> Result<(), ApiError> {
        self.locked(|state| {
            state.session(id)?;
            state.remove_session(id);
            Ok(())
        })
    }

    pub fn open_sessions(&self) -> Vec<String> {
        self.locked(|state| {
            state.sweep_expired();
            let mut ids: Vec<String> = state.sessions.keys().cloned().collect();
            ids.sort();
            ids
        })
    }

    /// A commit of session `id` was answered 202 while its file is processed: until its
    /// next commit, the session counts fewer parts processed than it has.
    pub fn mark_processing(&self, id: &str) {
        self.locked(|state| {
            if let Some(session) = state.sessions.get_mut(id) {
                session.processing = true;
            }
        });
    }

    pub fn expire_session(&self, id: &str) {
        self.locked(|state| {
            if let Some(session) = state.sessions.get_mut(id) {
                session.expires_at = Utc::now() - chrono::Duration::seconds(1);
            }
        });
    }
}

pub(super) fn part_json(part: &Part) -> Value {
    json!(crate::wire::UploadPart::from(part))
}

pub(super) fn part_path(dir: &Path, offset: u64) -> PathBuf {
    dir.join(format!("{offset}.part"))
}
