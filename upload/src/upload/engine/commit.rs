//! The commit: with the parts sorted by offset and the whole file's digest, until the file
//! is created and checked against the source, the deadline passes, or a fatal error. A
//! session that may still be committed is kept, never aborted.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset};
use oas_runtime::ServerText;
use tokio::time::timeout;

use super::super::Uploader;
use super::super::conflict::name_taken;
use super::super::error::{Step, UploadError};
use super::session::Session;
use super::{Target, hex, is_code, wait};
use crate::{
    CommitUploadSessionBody, CommitUploadSessionBodyAttributes, CommitUploadSessionRequest,
    CommitUploadSessionResponse, Error, FileFull, Files, RetryPolicy, UploadPart,
};

/// The wait before committing again after a 202 without `Retry-After`.
const DEFAULT_ACCEPTED_WAIT: Duration = Duration::from_secs(2);
/// The shortest wait between two commits (a `Retry-After: 0` is not a reason to spin).
const MIN_COMMIT_WAIT: Duration = Duration::from_millis(100);
/// How many times a commit answered 400 `parts_mismatch` is repeated.
const PARTS_MISMATCH_RETRIES: u32 = 3;
/// How many times a commit that failed with 429, 5xx or a transport error is repeated.
const COMMIT_FAILURE_RETRIES: u32 = 3;
/// From this many 202s to a new version's commit on, the session's progress is read after
/// each: Box answers 202 for ever to a version whose content is the current one.
const UNCHANGED_CHECK_AFTER: u32 = 3;
/// The most of an unreadable 201 answer an error shows, in bytes.
const UNREADABLE_LEN: usize = 300;

/// How a commit ended well.
#[expect(
    clippy::large_enum_variant,
    reason = "one per upload; a box would only add an allocation"
)]
pub(super) enum Committed {
    /// The file created, with the source's SHA-1 and size.
    File(FileFull),
    /// A new version with the current content: nothing was committed.
    Unchanged,
}

/// What a commit's answer leads to.
#[expect(
    clippy::large_enum_variant,
    reason = "one per upload; a box would only add an allocation"
)]
enum Next {
    /// Commit again after this wait.
    Wait(Duration),
    /// The commit is over.
    Done(Result<Committed, UploadError>),
}

/// What happened in the tries so far.
#[derive(Default)]
struct Tries {
    accepted: u32,
    mismatches: u32,
    failures: u32,
    /// An answer was lost (a timeout, a transport error): that try may have been carried out.
    lost_answer: bool,
    /// The session said every part is processed after a 202 (of a new version).
    processed: bool,
}

impl Uploader {
    /// Commits until the file is created, the deadline passes, or a fatal error. `target`:
    /// what the session is for (`None`: resumed); a new version's may be answered 202 for
    /// ever when unchanged, and may have to still be at an etag (`if-match`).
    pub(super) async fn commit(
        &self,
        session: &Session,
        parts: Vec<UploadPart>,
        digest: [u8; 20],
        content_modified_at: Option<DateTime<FixedOffset>>,
        target: Option<&Target<'_>>,
    ) -> Result<Committed, UploadError> {
        let version = target.and_then(Target::version_of).is_some();
        let if_match = match target {
            Some(Target::Version { if_match, .. }) => if_match.map(str::to_string),
            _ => None,
        };
        let expected_sha1 = hex(&digest);
        let digest = format!("sha={}", BASE64.encode(digest));
        let attributes = content_modified_at.map(|t| CommitUploadSessionBodyAttributes {
            content_modified_at: Some(t),
        });
        let start = Instant::now();
        let deadline = wait::deadline_in(self.options.commit_deadline);
        let policy = self.client.runtime().retry_policy().clone();
        let mut tries = Tries::default();
        loop {
            let request = CommitUploadSessionRequest {
                digest: digest.clone(),
                if_match: if_match.clone(),
                if_none_match: None,
                body: CommitUploadSessionBody {
                    parts: parts.clone(),
                    attributes: attributes.clone(),
                },
            };
            let limit = self.options.request_timeout;
            let permit = self.budget_permit().await?;
            let answer = self
                .cancellable(timeout(limit, session.commit(request)))
                .await?;
            drop(permit);
            let next = match answer {
                Ok(Ok(CommitUploadSessionResponse::Created(files))) => {
                    let checked =
                        check_created(files, &expected_sha1, session.size, Some(&session.id));
                    Next::Done(checked.map(Committed::File))
                }
                Ok(Ok(CommitUploadSessionResponse::Accepted { retry_after })) => {
                    let waited = start.elapsed();
                    self.accepted(
                        session,
                        retry_after,
                        waited,
                        deadline,
                        version,
                        &policy,
                        &mut tries,
                    )
                    .await
                }
                Ok(Err(e)) => match refusal(e, target, &expected_sha1) {
                    Ok(e) => {
                        self.refused(session, e, deadline, &policy, &mut tries)
                            .await
                    }
                    Err(final_error) => Next::Done(Err(final_error)),
                },
                Err(_elapsed)
                    if tries.failures < COMMIT_FAILURE_RETRIES && !wait::passed(deadline) =>
                {
                    tries.failures += 1;
                    // It may have been carried out all the same: a 404 later says it was.
                    tries.lost_answer = true;
                    tracing::info!(
                        attempt = tries.failures,
                        limit_ms = limit.as_millis() as u64,
                        "commit timed out; committing again"
                    );
                    Next::Wait(self.options.retry_pause.saturating_mul(tries.failures))
                }
                Err(_elapsed) => {
                    let timeout = UploadError::Timeout {
                        step: Step::Commit,
                        session_id: Some(session.id.clone()),
                        limit,
                    };
                    // This try too may have been carried out.
                    Next::Done(Err(self.commit_failed(session, true, timeout).await))
                }
            };
            match next {
                Next::Wait(pause) => {
                    let pause = wait::until(pause, deadline);
                    self.cancellable(tokio::time::sleep(pause)).await?;
                }
                Next::Done(result) => return result,
            }
        }
    }

    /// After a 202: wait as asked (within the limit), or stop at the deadline, or, for a
    /// new version whose every part is processed, end as unchanged.
    #[expect(clippy::too_many_arguments, reason = "the state of one commit")]
    async fn accepted(
        &self,
        session: &Session,
        retry_after: Option<i64>,
        waited: Duration,
        deadline: Option<Instant>,
        version: bool,
        policy: &RetryPolicy,
        tries: &mut Tries,
    ) -> Next {
        tries.accepted += 1;
        if wait::passed(deadline) {
            let timeout = UploadError::CommitTimeout {
                session_id: session.id.clone(),
                waited,
            };
            return Next::Done(Err(kept(session, timeout)));
        }
        let asked = retry_after
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs);
        let pause = match asked.map(|asked| wait::asked(policy, 202, asked)) {
            Some(Ok(asked)) => asked,
            Some(Err(too_long)) => {
                let error = too_long.error(Step::Commit, Some(&session.id));
                return Next::Done(Err(kept(session, error)));
            }
            None => DEFAULT_ACCEPTED_WAIT,
        };
        tracing::info!(
            wait_ms = pause.as_millis() as u64,
            "commit accepted, still processing"
        );
        if version && tries.accepted >= UNCHANGED_CHECK_AFTER && self.all_processed(session).await {
            // Twice in a row: every part processed, and still 202.
            if tries.processed {
                // Kept, not aborted: should the content differ after all, a resume
                // commits it; an unused session expires on its own.
                tracing::info!(session_id = %session.id, "the new version is unchanged; session kept");
                return Next::Done(Ok(Committed::Unchanged));
            }
            tries.processed = true;
        }
        Next::Wait(pause.max(MIN_COMMIT_WAIT))
    }

    /// Whether the session says that every part is processed (`false` when it cannot be
    /// read: then the commit goes on being waited for).
    async fn all_processed(&self, session: &Session) -> bool {
        let status = self.client.get_upload_session(&session.id);
        match timeout(self.options.request_timeout, status).await {
            Ok(Ok(status)) => status
                .num_parts_processed
                .is_some_and(|n| u64::try_from(n).is_ok_and(|n| n >= session.total_parts)),
            _ => false,
        }
    }

    /// After an error answer: commit again (after a `parts_mismatch`, or a retryable error
    /// within the limits), or end with the error, keeping the session when it may still
    /// be committed.
    async fn refused(
        &self,
        session: &Session,
        e: Error,
        deadline: Option<Instant>,
        policy: &RetryPolicy,
        tries: &mut Tries,
    ) -> Next {
        if let Error::Decode(decode) = &e
            && decode.status().as_u16() == 201
        {
            // The file was created: never abort after it.
            let body = decode.snippet().unwrap_or_default();
            return Next::Done(Err(UploadError::CommittedUnreadable {
                session_id: Some(session.id.clone()),
                body: ServerText::new(body).max_len(UNREADABLE_LEN).to_string(),
            }));
        }
        let mismatch = is_code(&e, 400, "parts_mismatch");
        let in_time = !wait::passed(deadline);
        if mismatch && tries.mismatches < PARTS_MISMATCH_RETRIES && in_time {
            tries.mismatches += 1;
            tracing::info!(attempt = tries.mismatches, error = %e, "commit refused with parts_mismatch; committing again");
            return Next::Wait(self.options.retry_pause.saturating_mul(tries.mismatches));
        }
        if tries.lost_answer && e.status().map(|s| s.as_u16()) == Some(404) {
            return Next::Done(Err(UploadError::CommitOutcomeUnknown {
                session_id: session.id.clone(),
                source: Box::new(e),
            }));
        }
        let transport = matches!(e, Error::Transport(_));
        if e.is_retryable() && tries.failures < COMMIT_FAILURE_RETRIES && in_time {
            tries.failures += 1;
            tries.lost_answer |= transport;
            tracing::info!(attempt = tries.failures, error = %e, "commit failed; committing again");
            let pause = self.options.retry_pause;
            match wait::before_retry(Some(&e), pause, tries.failures, policy) {
                Ok(Some(pause)) => return Next::Wait(pause),
                Ok(None) => {}
                Err(too_long) => {
                    let error = too_long.error(Step::Commit, Some(&session.id));
                    return Next::Done(Err(kept(session, error)));
                }
            }
        }
        let lost = tries.lost_answer || transport;
        // A refusal that repeating cannot change (a name in use, a wrong digest…) ends
        // the session; anything else may yet be committed.
        let may_finish = e.is_retryable() || mismatch || lost;
        let failure = UploadError::Api {
            step: Step::Commit,
            target: None,
            session_id: Some(session.id.clone()),
            source: Box::new(e),
        };
        Next::Done(Err(if may_finish {
            self.commit_failed(session, lost, failure).await
        } else {
            failure
        }))
    }

    /// The error of a commit that failed for good but may yet be committed, after reading
    /// the session: still there (or unreadable), it is kept to be resumed. Gone, after an
    /// answer was lost (or never came), that try may have been carried out all the same:
    /// the file was probably created, and `failure` would wrongly say that nothing was.
    async fn commit_failed(
        &self,
        session: &Session,
        lost_answer: bool,
        failure: UploadError,
    ) -> UploadError {
        let status = self.client.get_upload_session(&session.id);
        match timeout(self.options.request_timeout, status).await {
            Ok(Err(gone)) if gone.status().map(|s| s.as_u16()) == Some(404) => {
                if lost_answer {
                    UploadError::CommitOutcomeUnknown {
                        session_id: session.id.clone(),
                        source: Box::new(gone),
                    }
                } else {
                    failure
                }
            }
            _ => kept(session, failure),
        }
    }
}

/// `error`, with the session kept: it holds every part and may still be committed.
fn kept(session: &Session, error: UploadError) -> UploadError {
    tracing::info!(session_id = %session.id, error = %error, "commit stopped; session kept");
    UploadError::SessionKept {
        session_id: session.id.clone(),
        source: Box::new(error),
        abort_error: None,
    }
}

/// The refusals of a commit that end it with their own error: the name is taken
/// ([`UploadError::NameInUse`]), or the file is no longer at the etag of `if-match`
/// ([`UploadError::FileChanged`]). Any other error is given back as it is.
fn refusal(
    error: Error,
    target: Option<&Target<'_>>,
    source_sha1: &str,
) -> Result<Error, UploadError> {
    let shown = target.map_or_else(|| "the resumed upload".to_string(), Target::to_string);
    if let Some(existing) = name_taken(&error) {
        return Err(UploadError::NameInUse {
            target: shown,
            existing: Box::new(existing),
            source_sha1: Some(source_sha1.to_string()),
        });
    }
    match target {
        Some(Target::Version {
            file_id,
            if_match: Some(etag),
            ..
        }) if error.status().map(|s| s.as_u16()) == Some(412) => {
            Err(file_changed(file_id, etag, error))
        }
        _ => Ok(error),
    }
}

/// [`UploadError::FileChanged`]: `file_id` is no longer at `etag`, as `error` says.
pub(super) fn file_changed(file_id: &str, etag: &str, error: Error) -> UploadError {
    UploadError::FileChanged {
        file_id: ServerText::new(file_id).to_string(),
        etag: ServerText::new(etag).to_string(),
        source: Box::new(error),
    }
}

/// The file an answer of a commit or a direct upload names, if it is the source: its
/// SHA-1 and `size`.
pub(super) fn check_created(
    files: Files,
    expected_sha1: &str,
    size: u64,
    session_id: Option<&str>,
) -> Result<FileFull, UploadError> {
    let session_id = session_id.map(str::to_string);
    let Some(file) = files.entries.as_ref().and_then(|entries| entries.first()) else {
        return Err(UploadError::CommittedUnreadable {
            session_id,
            body: ServerText::new(&format!("{files:?}"))
                .max_len(UNREADABLE_LEN)
                .to_string(),
        });
    };
    let differs = |field, expected: String, got: Option<String>| UploadError::CommittedMismatch {
        session_id: session_id.clone(),
        file_id: ServerText::new(&file.id).to_string(),
        field,
        expected,
        got: got.map_or_else(|| "none".into(), |got| ServerText::new(&got).to_string()),
    };
    if !file
        .sha1
        .as_deref()
        .is_some_and(|sha1| sha1.eq_ignore_ascii_case(expected_sha1))
    {
        return Err(differs(
            "SHA-1",
            expected_sha1.to_string(),
            file.sha1.clone(),
        ));
    }
    if file.size != i64::try_from(size).ok() {
        let got = file.size.map(|size| size.to_string());
        return Err(differs("size", size.to_string(), got));
    }
    Ok(file.clone())
}
