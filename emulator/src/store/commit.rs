//! Commits of upload sessions: the checks, then the file or its new version.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::assembly::Assembled;
use super::files::{Content, FileTimes};
use super::sessions::{Session, Target, part_json, part_path};
use super::{FileView, State, Store};
use crate::config::UnchangedVersion;
use crate::error::ApiError;
use crate::protocol::hex;

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

/// How a commit ended.
#[derive(Debug)]
pub(crate) enum CommitOutcome {
    /// The file or its new version.
    Committed(Box<FileView>),
    /// A new version whose content equals the current version: nothing was done and the
    /// session stays open (see [`UnchangedVersion`]).
    Unchanged,
}

impl Store {
    /// The checks of a commit, in this order:
    ///
    /// 1. the session is live, else 404 `not_found`;
    /// 2. the listed parts are exactly the stored ones, ordered by offset, and they cover the
    ///    whole file, else 400 `parts_mismatch` (`context_info` says what differs);
    /// 3. the configured processing polls: 202 while `polls` are not used up (the session
    ///    is "processing" until its next commit);
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
            // Processing is over unless this commit is answered 202 for it again.
            session.processing = session.commit_polls_answered < polls;
            if session.processing {
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
        times: &FileTimes,
    ) -> Result<CommitOutcome, ApiError> {
        self.locked(|state| {
            let session = state.session(id)?;
            let (target, file_name, size) = (
                session.target.clone(),
                session.file_name.clone(),
                session.file_size,
            );
            check_target(state, &target, file_name.as_deref(), None)?;
            let content = Content {
                path: assembled,
                size,
                sha1,
            };
            let file = match target {
                Target::NewFile { folder_id } => {
                    let name = file_name.unwrap_or_default();
                    state.add_file(&self.dir, &folder_id, &name, content, times)?
                }
                Target::NewVersion { file_id } => {
                    let unchanged = state.file(&file_id)?.sha1 == sha1;
                    if unchanged && self.unchanged_version == UnchangedVersion::Accepted {
                        return Ok(CommitOutcome::Unchanged);
                    }
                    state.add_version(&self.dir, &file_id, file_name.as_deref(), content, times)?
                }
            };
            state.remove_session(id);
            Ok(CommitOutcome::Committed(Box::new(state.file_view(&file))))
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
pub(super) fn check_preconditions(pre: &Preconditions, etag: Option<&str>) -> Result<(), ApiError> {
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

fn listed_json(part: &ListedPart) -> Value {
    json!({"part_id": part.part_id, "offset": part.offset, "size": part.size, "sha1": part.sha1})
}
