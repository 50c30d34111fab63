//! The flow of one upload, one module per phase. Which way a source goes, and what a
//! name conflict leads to (`route`); the preflight check (`preflight`); a small file in
//! one request (`direct`). A big file in parts: the session and its calls (`session`),
//! creating it or listing what a resumed one holds (`start`), reading and sending the parts
//! (`parts`), the commit (`commit`), and after a failure, abort or keep (`cleanup`). Every
//! wait in between is bounded in one place (`wait`).

mod cleanup;
mod commit;
mod direct;
mod parts;
mod preflight;
mod route;
mod session;
mod start;
mod wait;

pub use session::is_box_id;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::error::{Step, UploadError};
use super::progress::{Phase, Progress};
use super::source::Input;
use super::{Options, Outcome, Uploader};
use crate::{Error, FileFull, UploadPart};
use cleanup::{DropGuard, abort_or_keep};
use commit::Committed;
use oas_runtime::ServerText;
use session::Session;
use start::list_all_parts;

/// Where a new upload goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Folder {
        folder_id: &'a str,
        name: &'a str,
    },
    Version {
        file_id: &'a str,
        /// A new name, or `None` to keep the file's.
        name: Option<&'a str>,
        /// The etag the file must still have (`if-match`).
        if_match: Option<&'a str>,
    },
}

impl Target<'_> {
    /// The file a new version is for.
    fn version_of(&self) -> Option<&str> {
        match self {
            Target::Version { file_id, .. } => Some(file_id),
            Target::Folder { .. } => None,
        }
    }
}

/// As error messages name it: `"name" in folder ID` or `a new version of file ID`.
impl std::fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Folder { folder_id, name } => write!(f, "{name:?} in folder {folder_id}"),
            Target::Version { file_id, .. } => write!(f, "a new version of file {file_id}"),
        }
    }
}

/// Progress state and its sinks.
struct Reporter<'a> {
    state: Progress,
    options: &'a Options,
}

impl Reporter<'_> {
    fn emit(&self) {
        for sink in &self.options.progress {
            sink(&self.state);
        }
    }
}

impl Uploader {
    /// Runs `future` unless the cancel token fires first.
    pub(super) async fn cancellable<F: Future>(&self, future: F) -> Result<F::Output, UploadError> {
        tokio::select! {
            biased;
            () = self.options.cancel.cancelled() => Err(UploadError::Cancelled),
            output = future => Ok(output),
        }
    }

    /// A new chunked upload: create the session, upload, commit.
    pub(crate) async fn upload_new(
        &self,
        input: &mut Input<'_>,
        target: Target<'_>,
    ) -> Result<Outcome, UploadError> {
        let size = input.size();
        let span = tracing::info_span!(
            "upload",
            size,
            path = ?input.path(),
            session_id = tracing::field::Empty,
        );
        async {
            let answer = self.create_session(&target, size).await?;
            let Some(id) = answer.id.clone().filter(|id| !id.is_empty()) else {
                return Err(UploadError::Protocol {
                    session_id: None,
                    what: "the created session has no id".into(),
                });
            };
            let checked = if is_box_id(&id) {
                tracing::Span::current().record("session_id", id.as_str());
                tracing::info!(
                    part_size = answer.part_size,
                    total_parts = answer.total_parts,
                    "session created"
                );
                let max_part_size = self.options.max_part_size;
                Session::new(&self.client, id.clone(), answer, size, max_part_size, false)
            } else {
                Err(UploadError::Protocol {
                    session_id: None,
                    what: format!(
                        "the created session's id {:?} is not a Box id (letters, digits, '-', \
                         '_')",
                        ServerText::new(&id)
                    ),
                })
            };
            let session = match checked {
                Ok(session) => Arc::new(session),
                Err(e) => {
                    // The session exists but cannot be used: abort it at the configured
                    // server (never at its endpoints, which may be what is wrong), and say
                    // so when that fails.
                    let limit = self.options.request_timeout;
                    let abort = self.client.abort_upload_session(&id);
                    // Messages and logs name an id that is not a Box id escaped.
                    let shown = if is_box_id(&id) {
                        id.clone()
                    } else {
                        ServerText::new(&id).to_string()
                    };
                    return Err(abort_or_keep(&shown, limit, abort, e).await);
                }
            };
            // Recorded by the caller before the first part, so a crash leaves it resumable.
            self.options.session_created(&session.info());
            let committed = self.run_guarded(session.clone(), input, None, Some(&target));
            Ok(match (committed.await?, target.version_of()) {
                (Committed::File(file), None) => Outcome::Uploaded(file),
                (Committed::File(file), Some(_)) => Outcome::NewVersion(file),
                (Committed::Unchanged, file_id) => Outcome::Unchanged {
                    file_id: file_id.unwrap_or_default().to_string(),
                    session_id: Some(session.id.clone()),
                },
            })
        }
        .instrument(span)
        .await
    }

    /// A resumed upload: read the session, list its parts, upload the rest, commit.
    pub(crate) async fn resume_session(
        &self,
        session_id: &str,
        mut input: Input<'_>,
    ) -> Result<FileFull, UploadError> {
        let size = input.size();
        let span = tracing::info_span!("resume", size, path = ?input.path(), session_id);
        async {
            let limit = self.options.request_timeout;
            let call = self.client.get_upload_session(session_id);
            let answer = self
                .cancellable(within(limit, Step::GetSession, Some(session_id), call))
                .await??
                .map_err(|e| gone_or(e, session_id, Step::GetSession))?;
            if let Some(expires) = answer.session_expires_at
                && expires < chrono::Utc::now()
            {
                return Err(UploadError::SessionExpired {
                    session_id: session_id.to_string(),
                });
            }
            if let Some(id) = &answer.id
                && id != session_id
            {
                return Err(UploadError::Protocol {
                    session_id: Some(session_id.to_string()),
                    what: format!(
                        "asked for session {session_id}, got session {}",
                        ServerText::new(id)
                    ),
                });
            }
            let session = Arc::new(Session::new(
                &self.client,
                session_id.to_string(),
                answer,
                size,
                self.options.max_part_size,
                true,
            )?);
            let stored = self.cancellable(list_all_parts(&session, limit)).await??;
            tracing::info!(
                stored = stored.len(),
                total_parts = session.total_parts,
                "resuming"
            );
            match self
                .run_guarded(session, &mut input, Some(stored), None)
                .await?
            {
                Committed::File(file) => Ok(file),
                Committed::Unchanged => Err(UploadError::Internal {
                    what: "a resumed commit was taken for an unchanged version".into(),
                }),
            }
        }
        .instrument(span)
        .await
    }

    /// Runs the session to its end; on failure aborts it or keeps it, as the options say
    /// (a resumed session, `stored` given, is never aborted: it was kept to be finished).
    /// `target`: what a new upload is for (`None` when resuming).
    async fn run_guarded(
        &self,
        session: Arc<Session>,
        input: &mut Input<'_>,
        stored: Option<BTreeMap<u64, UploadPart>>,
        target: Option<&Target<'_>>,
    ) -> Result<Committed, UploadError> {
        let mut guard = DropGuard {
            session: self.options.abort_on_cancel.then(|| session.clone()),
            limit: self.options.request_timeout,
        };
        let resuming = stored.is_some();
        let result = self
            .run_session(&session, input, stored.unwrap_or_default(), target)
            .await;
        let result = match result {
            Ok(committed) => Ok(committed),
            Err(error) => Err(self.clean_up(&session, error, resuming).await),
        };
        guard.disarm();
        result
    }

    /// Uploads the parts (those not in `stored`), then commits.
    async fn run_session(
        &self,
        session: &Arc<Session>,
        input: &mut Input<'_>,
        stored: BTreeMap<u64, UploadPart>,
        target: Option<&Target<'_>>,
    ) -> Result<Committed, UploadError> {
        let mut reporter = Reporter {
            state: Progress {
                session_id: Arc::from(session.id.as_str()),
                total_bytes: session.size,
                total_parts: session.total_parts,
                ..Progress::default()
            },
            options: &self.options,
        };
        reporter.emit();
        let started = Instant::now();
        let (parts, digest) = self.transfer(session, input, stored, &mut reporter).await?;
        input.check_unchanged().await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            sent_bytes = reporter.state.sent_bytes,
            "every part is stored"
        );
        reporter.state.phase = Phase::Committing;
        reporter.emit();
        let modified = input.content_modified_at();
        let committed = self
            .commit(session, parts, digest, modified, target)
            .await?;
        reporter.state.phase = Phase::Done;
        reporter.emit();
        Ok(committed)
    }
}

/// Runs `call`, one call of `step`; fails with [`UploadError::Timeout`] past `limit`.
async fn within<T>(
    limit: Duration,
    step: Step,
    session_id: Option<&str>,
    call: impl Future<Output = T>,
) -> Result<T, UploadError> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_elapsed| UploadError::Timeout {
            step,
            session_id: session_id.map(str::to_string),
            limit,
        })
}

/// Shows a failed try in logs: its error, or that it timed out.
struct Failure<'a>(Option<&'a Error>);

impl std::fmt::Display for Failure<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(e) => e.fmt(f),
            None => f.write_str("timed out"),
        }
    }
}

/// A 404 means the session is gone (expired, aborted, committed or never created).
fn gone_or(error: Error, session_id: &str, step: Step) -> UploadError {
    if error.status().map(|s| s.as_u16()) == Some(404) {
        UploadError::SessionExpired {
            session_id: session_id.to_string(),
        }
    } else {
        UploadError::Api {
            step,
            target: None,
            session_id: Some(session_id.to_string()),
            source: Box::new(error),
        }
    }
}

/// Whether `error` is an answer of `status` with error code `code`.
fn is_code(error: &Error, status: u16, code: &str) -> bool {
    error.api().is_some_and(|api| {
        api.status.as_u16() == status
            && api
                .body
                .as_ref()
                .and_then(|body| body.code.as_ref())
                .is_some_and(|c| c.as_str() == code)
    })
}

/// Lower-case hex, as Box writes `sha1` fields.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use sha1::{Digest, Sha1};

    use super::*;

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        assert_eq!(
            hex(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
