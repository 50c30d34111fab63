//! The emulated Box account: folders, files, upload sessions and their parts.
//!
//! Metadata lives in memory behind one mutex, which is never held across an `.await` nor
//! during bulk I/O; bytes live on disk under the storage directory:
//!
//! - `sessions/<session id>/<offset>.part`: stored parts (`*.tmp` while arriving),
//! - `files/<file id>.<version id>`: the content of each file's current version.
//!
//! Decisions that are the emulator's own (Box does not document them) are marked "Choice".

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::PartSizePolicy;
use crate::error::ApiError;
use crate::protocol::{ContentRange, hex, part_id};

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

#[derive(Debug, Clone)]
enum Target {
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
struct Session {
    id: String,
    target: Target,
    /// The new file's name (new files), or the new name (new versions; `None`: keep it).
    file_name: Option<String>,
    file_size: u64,
    part_size: u64,
    total_parts: u64,
    parts: BTreeMap<u64, Part>,
    expires_at: DateTime<Utc>,
    commit_polls_answered: u32,
    /// The concatenation of the parts into one file: started by the first part at offset
    /// 0 (see [`Session::feed_assembly`]) or by a commit; running (`None` inside) or done.
    /// Parts are immutable, so its result stays valid.
    assembly: Option<watch::Receiver<Option<Assembled>>>,
    /// Hands the parts that continue the file, in order, to the assembly started by the
    /// parts; `None` once it has every part (or when a commit started the assembly).
    feeder: Option<Feeder>,
    dir: PathBuf,
}

/// The sending side of an assembly that runs while parts arrive.
#[derive(Debug)]
struct Feeder {
    /// The offset of the next part it needs.
    next: u64,
    parts: std::sync::mpsc::Sender<PathBuf>,
}

/// The outcome of assembling a session's file: its SHA-1, or why it failed.
pub(crate) type Assembled = Result<[u8; 20], String>;

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
    /// Hands the stored parts that now continue the file, in order, to the assembly; the
    /// part at offset 0 starts it. The whole-file SHA-1 and the copy into one file then
    /// overlap the upload, instead of all following the commit. A failed assembly is
    /// redone whole by the next commit.
    fn feed_assembly(&mut self) {
        if self.feeder.is_none() {
            if self.assembly.is_some() || !self.parts.contains_key(&0) {
                return;
            }
            let (parts, received) = std::sync::mpsc::channel();
            let (done, assembly) = watch::channel(None);
            let dest = self.dir.join("assembled.tmp");
            let started = std::thread::Builder::new()
                .name("assembly".into())
                .spawn(move || {
                    let outcome = assemble(received, &dest).map_err(|e| e.to_string());
                    done.send_replace(Some(outcome));
                });
            if started.is_err() {
                return;
            }
            self.assembly = Some(assembly);
            self.feeder = Some(Feeder { next: 0, parts });
        }
        let Some(feeder) = &mut self.feeder else {
            return;
        };
        while let Some(part) = self.parts.get(&feeder.next) {
            // A closed channel means the assembly failed; the commit will see why.
            let _ = feeder.parts.send(part_path(&self.dir, feeder.next));
            feeder.next += part.size;
        }
        if feeder.next >= self.file_size {
            // Every part is handed over: the closed channel ends the assembly.
            self.feeder = None;
        }
    }

    fn view(&self) -> SessionView {
        SessionView {
            id: self.id.clone(),
            part_size: self.part_size,
            total_parts: self.total_parts,
            num_parts_processed: self.parts.len() as u64,
            expires_at: self.expires_at,
        }
    }
}

/// Where a part upload writes its bytes, and how many it must bring.
#[derive(Debug)]
pub(crate) struct PartPlan {
    pub tmp_path: PathBuf,
    pub size: u64,
}

/// A part as a commit request lists it.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct ListedPart {
    pub part_id: String,
    pub offset: u64,
    pub size: u64,
    #[serde(default)]
    pub sha1: Option<String>,
}

/// The conditional headers of a commit.
#[derive(Debug, Default)]
pub(crate) struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

/// What a commit does next.
#[derive(Debug)]
pub(crate) enum CommitStep {
    /// Answer 202: come back later.
    Accepted,
    /// Start assembling: concatenate `parts` into `dest` and send the outcome through `done`;
    /// then wait as for [`Wait`](Self::Wait).
    Start {
        parts: Vec<PathBuf>,
        dest: PathBuf,
        done: watch::Sender<Option<Assembled>>,
        assembly: watch::Receiver<Option<Assembled>>,
    },
    /// The file is being (or was) assembled at `dest`: wait for the outcome, then call
    /// [`Store::finish_commit`].
    Wait {
        dest: PathBuf,
        assembly: watch::Receiver<Option<Assembled>>,
    },
}

/// Optional attributes of a commit body.
#[derive(Debug, Default)]
pub(crate) struct CommitAttributes {
    pub content_created_at: Option<DateTime<Utc>>,
    pub content_modified_at: Option<DateTime<Utc>>,
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

    /// The file or folder in `folder_id` whose name equals `name`, ignoring case as Box does.
    /// `except` is a file id to leave out (a file being renamed clashes not with itself).
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
            .map(|f| json!({"type": "folder", "id": f.id, "etag": "0", "sequence_id": "0", "name": f.name}))
    }

    fn name_in_use(
        &self,
        folder_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<(), ApiError> {
        match self.item_named(folder_id, name, except) {
            None => Ok(()),
            Some(conflict) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "item_name_in_use",
                format!("an item named {name:?} already exists in folder {folder_id}"),
            )
            .with_context(json!({"conflicts": conflict}))),
        }
    }

    /// The live session `id`. Expired sessions are removed on the way (their parts deleted).
    fn session(&mut self, id: &str) -> Result<&mut Session, ApiError> {
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

    fn remove_session(&mut self, id: &str) -> bool {
        match self.sessions.remove(id) {
            Some(session) => {
                self.garbage.push(session.dir);
                true
            }
            None => false,
        }
    }

    fn sweep_expired(&mut self) {
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

    fn folder_mini(&self, id: &str) -> FolderMini {
        match self.folders.get(id) {
            Some(folder) => FolderMini {
                id: folder.id.clone(),
                name: folder.name.clone(),
                etag: (folder.id != ROOT_FOLDER).then(|| "0".to_string()),
            },
            None => FolderMini {
                id: id.to_string(),
                name: String::new(),
                etag: None,
            },
        }
    }

    fn file_view(&self, file: &FileRecord) -> FileView {
        let mut path = Vec::new();
        let mut next = Some(file.parent_id.clone());
        while let Some(id) = next {
            next = self.folders.get(&id).and_then(|f| f.parent_id.clone());
            path.push(self.folder_mini(&id));
        }
        path.reverse();
        FileView {
            parent: self.folder_mini(&file.parent_id),
            file: file.clone(),
            path,
        }
    }
}

/// The account and its storage.
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    min_file_size: u64,
    part_size: PartSizePolicy,
    ttl: chrono::Duration,
    state: Mutex<State>,
}

impl Store {
    pub fn new(
        dir: PathBuf,
        min_file_size: u64,
        part_size: PartSizePolicy,
        ttl: std::time::Duration,
    ) -> std::io::Result<Store> {
        std::fs::create_dir_all(dir.join("sessions"))?;
        std::fs::create_dir_all(dir.join("files"))?;
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
            },
        );
        Ok(Store {
            dir,
            min_file_size,
            part_size,
            ttl: chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX),
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
                    format!(
                        "the range ends past the file's last byte {}",
                        session.file_size - 1
                    ),
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

    /// The checks of a commit, in this order:
    ///
    /// 1. the session is live, else 404 `not_found`;
    /// 2. the listed parts are exactly the stored ones, ordered by offset, and they cover the
    ///    whole file, else 400 `parts_mismatch` (`context_info` says what differs);
    /// 3. the configured processing polls: 202 while `polls` are not used up;
    /// 4. the target: a new version's file still exists (404 `not_found`), a new file's folder
    ///    still exists (404 `not_found`);
    /// 5. `if-match` / `if-none-match` against the target's etag, else 412
    ///    `precondition_failed` (the target of a new file is a same-named item, usually none);
    /// 6. the name is free in the folder, else 409 `item_name_in_use`.
    ///
    /// Then the file is assembled, once per session, by whichever commit comes first.
    pub fn begin_commit(
        &self,
        id: &str,
        listed: &[ListedPart],
        pre: &Preconditions,
        polls: u32,
    ) -> Result<CommitStep, ApiError> {
        self.locked(|state| {
            let session = state.session(id)?;
            check_parts(session, listed)?;
            if session.commit_polls_answered < polls {
                session.commit_polls_answered += 1;
                return Ok(CommitStep::Accepted);
            }
            let (target, file_name) = (session.target.clone(), session.file_name.clone());
            check_target(state, &target, file_name.as_deref(), Some(pre))?;
            let session = state.session(id)?;
            let dest = session.dir.join("assembled.tmp");
            if let Some(assembly) = &session.assembly {
                return Ok(CommitStep::Wait {
                    dest,
                    assembly: assembly.clone(),
                });
            }
            let parts = session
                .parts
                .keys()
                .map(|offset| part_path(&session.dir, *offset))
                .collect();
            let (done, assembly) = watch::channel(None);
            session.assembly = Some(assembly.clone());
            Ok(CommitStep::Start {
                parts,
                dest,
                done,
                assembly,
            })
        })
    }

    /// Forgets a failed assembly, so that the next commit starts a new one.
    pub fn reset_assembly(&self, id: &str) {
        self.locked(|state| {
            if let Some(session) = state.sessions.get_mut(id) {
                session.assembly = None;
                session.feeder = None;
            }
        });
    }

    /// Turns the assembled content at `assembled` into the file (or its new version) and
    /// closes the session. Rechecks the target, as it may have changed meanwhile. Of two
    /// commits that finish together, the second finds the session gone (404).
    pub fn finish_commit(
        &self,
        id: &str,
        assembled: &Path,
        sha1: [u8; 20],
        attributes: &CommitAttributes,
    ) -> Result<FileView, ApiError> {
        self.locked(|state| {
            let session = state.session(id)?;
            let (target, file_name, size) = (
                session.target.clone(),
                session.file_name.clone(),
                session.file_size,
            );
            check_target(state, &target, file_name.as_deref(), None)?;
            let now = Utc::now();
            let version_id = state.new_id();
            let file = match target {
                Target::NewFile { folder_id } => {
                    let file_id = state.new_id();
                    let content_modified_at = attributes.content_modified_at.unwrap_or(now);
                    FileRecord {
                        path: self
                            .dir
                            .join("files")
                            .join(format!("{file_id}.{version_id}")),
                        id: file_id,
                        name: file_name.unwrap_or_default(),
                        parent_id: folder_id,
                        size,
                        sha1,
                        version_id,
                        version_number: 1,
                        created_at: now,
                        modified_at: now,
                        content_created_at: attributes
                            .content_created_at
                            .unwrap_or(content_modified_at),
                        content_modified_at,
                    }
                }
                Target::NewVersion { file_id } => {
                    let old = state
                        .files
                        .get(&file_id)
                        .cloned()
                        .ok_or_else(|| ApiError::not_found(format!("no file {file_id}")))?;
                    state.garbage.push(old.path.clone());
                    FileRecord {
                        path: self
                            .dir
                            .join("files")
                            .join(format!("{file_id}.{version_id}")),
                        name: file_name.unwrap_or(old.name),
                        size,
                        sha1,
                        version_id,
                        version_number: old.version_number + 1,
                        modified_at: now,
                        content_modified_at: attributes.content_modified_at.unwrap_or(now),
                        ..old
                    }
                }
            };
            std::fs::rename(assembled, &file.path).map_err(|e| internal("storing the file", &e))?;
            state.remove_session(id);
            state.files.insert(file.id.clone(), file.clone());
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

    pub fn open_sessions(&self) -> Vec<String> {
        self.locked(|state| {
            state.sweep_expired();
            let mut ids: Vec<String> = state.sessions.keys().cloned().collect();
            ids.sort();
            ids
        })
    }

    pub fn expire_session(&self, id: &str) {
        self.locked(|state| {
            if let Some(session) = state.sessions.get_mut(id) {
                session.expires_at = Utc::now() - chrono::Duration::seconds(1);
            }
        });
    }

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

/// Steps 4 to 6 of [`Store::begin_commit`]; `pre` is `None` when rechecking at the end.
fn check_target(
    state: &State,
    target: &Target,
    file_name: Option<&str>,
    pre: Option<&Preconditions>,
) -> Result<(), ApiError> {
    let (folder_id, current, except) = match target {
        Target::NewVersion { file_id } => {
            let file = state
                .files
                .get(file_id)
                .ok_or_else(|| ApiError::not_found(format!("file {file_id} no longer exists")))?;
            (
                file.parent_id.clone(),
                Some(file.mini_json()),
                Some(file_id.as_str()),
            )
        }
        Target::NewFile { folder_id } => {
            if !state.folders.contains_key(folder_id) {
                return Err(ApiError::not_found(format!(
                    "folder {folder_id} no longer exists"
                )));
            }
            let same_name = file_name.and_then(|name| state.item_named(folder_id, name, None));
            (folder_id.clone(), same_name, None)
        }
    };
    if let Some(pre) = pre {
        let etag = current.as_ref().and_then(|item| item["etag"].as_str());
        check_preconditions(pre, etag)?;
    }
    match file_name {
        Some(name) => state.name_in_use(&folder_id, name, except),
        None => Ok(()),
    }
}

/// HTTP conditional semantics on the target's etag (`None`: no target). `*` matches any
/// existing target.
fn check_preconditions(pre: &Preconditions, etag: Option<&str>) -> Result<(), ApiError> {
    let matches = |header: &str| {
        header
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|t| match etag {
                Some(etag) => t == "*" || t == etag,
                None => false,
            })
    };
    let failed = |message: String| {
        Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            message,
        ))
    };
    if let Some(header) = &pre.if_match
        && !matches(header)
    {
        return failed(format!(
            "if-match {header:?} does not match the item's etag {etag:?}"
        ));
    }
    if let Some(header) = &pre.if_none_match
        && matches(header)
    {
        return failed(format!(
            "if-none-match {header:?} matches the item's etag {etag:?}"
        ));
    }
    Ok(())
}

/// Step 2 of [`Store::begin_commit`].
fn check_parts(session: &Session, listed: &[ListedPart]) -> Result<(), ApiError> {
    let mismatch = |message: String, context: Value| {
        Err(ApiError::bad_request("parts_mismatch", message).with_context(context))
    };
    for (index, part) in listed.iter().enumerate() {
        if index > 0 && listed[index - 1].offset >= part.offset {
            return mismatch(
                format!(
                    "parts[{index}] is out of order: parts must be listed by increasing offset"
                ),
                json!({"index": index}),
            );
        }
        let stored = session.parts.get(&part.offset);
        let same = stored.is_some_and(|s| {
            s.part_id == part.part_id
                && s.size == part.size
                && part
                    .sha1
                    .as_deref()
                    .is_none_or(|sha1| sha1.eq_ignore_ascii_case(&hex(&s.sha1)))
        });
        if !same {
            return mismatch(
                format!("parts[{index}] does not match a stored part"),
                json!({"index": index, "listed": listed_json(part), "stored": stored.map(part_json)}),
            );
        }
    }
    if listed.len() != session.parts.len() {
        // Every listed part matched a stored one: the others are the unlisted.
        let listed_offsets: BTreeSet<u64> = listed.iter().map(|p| p.offset).collect();
        let unlisted: Vec<Value> = session
            .parts
            .values()
            .filter(|p| !listed_offsets.contains(&p.offset))
            .map(part_json)
            .collect();
        return mismatch(
            format!("{} stored parts are not listed", unlisted.len()),
            json!({"unlisted": unlisted}),
        );
    }
    if session.parts.len() as u64 != session.total_parts {
        let missing: Vec<u64> = (0..session.total_parts)
            .map(|i| i * session.part_size)
            .filter(|offset| !session.parts.contains_key(offset))
            .take(100)
            .collect();
        return mismatch(
            format!(
                "{} of {} parts are missing",
                session.total_parts - session.parts.len() as u64,
                session.total_parts
            ),
            json!({"missing_offsets": missing}),
        );
    }
    Ok(())
}

fn part_json(part: &Part) -> Value {
    json!(crate::wire::UploadPart::from(part))
}

fn listed_json(part: &ListedPart) -> Value {
    json!({"part_id": part.part_id, "offset": part.offset, "size": part.size, "sha1": part.sha1})
}

fn part_path(dir: &Path, offset: u64) -> PathBuf {
    dir.join(format!("{offset}.part"))
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

/// Concatenates the part files into `dest` in the order given, hashing on the way
/// (blocking I/O); returns the whole file's SHA-1.
pub(crate) fn assemble(
    parts: impl IntoIterator<Item = PathBuf>,
    dest: &Path,
) -> std::io::Result<[u8; 20]> {
    use sha1::{Digest, Sha1};
    use std::io::{Read, Write};

    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dest)?);
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 1 << 20];
    for part in parts {
        let mut input = std::fs::File::open(part)?;
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n])?;
        }
    }
    out.flush()?;
    Ok(hasher.finalize().into())
}
