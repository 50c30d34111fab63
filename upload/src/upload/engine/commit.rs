//! The commit: with the parts sorted by offset and the whole file's digest, until the file
//! is created, the deadline passes, or a fatal error.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset};

use super::super::Uploader;
use super::super::error::{Step, UploadError};
use super::session::Session;
use super::{is_code, retry_after};
use crate::{
    CommitUploadSessionBody, CommitUploadSessionBodyAttributes, CommitUploadSessionRequest,
    CommitUploadSessionResponse, Error, FileFull, UploadPart,
};

/// The wait before committing again after a 202 without `Retry-After`.
const DEFAULT_ACCEPTED_WAIT: Duration = Duration::from_secs(2);
/// The shortest wait between two commits (a `Retry-After: 0` is not a reason to spin).
const MIN_COMMIT_WAIT: Duration = Duration::from_millis(100);
/// How many times a commit answered 400 `parts_mismatch` is repeated.
const PARTS_MISMATCH_RETRIES: u32 = 3;
/// How many times a commit that failed with 429, 5xx or a transport error is repeated.
const COMMIT_FAILURE_RETRIES: u32 = 3;

impl Uploader {
    /// Commits until the file is created, the deadline passes, or a fatal error.
    pub(super) async fn commit(
        &self,
        session: &Session,
        parts: Vec<UploadPart>,
        digest: [u8; 20],
        content_modified_at: Option<DateTime<FixedOffset>>,
    ) -> Result<FileFull, UploadError> {
        let digest = format!("sha={}", BASE64.encode(digest));
        let attributes = content_modified_at.map(|t| CommitUploadSessionBodyAttributes {
            content_modified_at: Some(t),
        });
        let start = Instant::now();
        let deadline = start + self.options.commit_deadline;
        let (mut mismatches, mut failures, mut lost_answer) = (0, 0, false);
        let api_error = |source| UploadError::Api {
            step: Step::Commit,
            target: None,
            session_id: Some(session.id.clone()),
            source: Box::new(source),
        };
        loop {
            let request = CommitUploadSessionRequest {
                digest: digest.clone(),
                if_match: None,
                if_none_match: None,
                body: CommitUploadSessionBody {
                    parts: parts.clone(),
                    attributes: attributes.clone(),
                },
            };
            let limit = self.options.request_timeout;
            let answer = match self
                .cancellable(tokio::time::timeout(limit, session.commit(request)))
                .await?
            {
                Ok(answer) => answer,
                Err(_elapsed) if failures < COMMIT_FAILURE_RETRIES => {
                    failures += 1;
                    // It may have been carried out all the same: a 404 later says it was.
                    lost_answer = true;
                    tracing::info!(
                        attempt = failures,
                        limit_ms = limit.as_millis() as u64,
                        "commit timed out; committing again"
                    );
                    let pause = self.options.retry_pause * failures;
                    self.cancellable(tokio::time::sleep(pause)).await?;
                    continue;
                }
                Err(_elapsed) => {
                    let timeout = UploadError::Timeout {
                        step: Step::Commit,
                        session_id: Some(session.id.clone()),
                        limit,
                    };
                    // This try too may have been carried out.
                    return Err(self.commit_failed(session, true, timeout).await);
                }
            };
            let wait = match answer {
                Ok(CommitUploadSessionResponse::Created(files)) => {
                    let file = files.entries.and_then(|entries| entries.into_iter().next());
                    return file.ok_or_else(|| UploadError::Protocol {
                        session_id: Some(session.id.clone()),
                        what: "the commit answered 201 without a file".into(),
                    });
                }
                Ok(CommitUploadSessionResponse::Accepted { retry_after }) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(UploadError::CommitTimeout {
                            session_id: session.id.clone(),
                            waited: now - start,
                        });
                    }
                    let asked = retry_after
                        .and_then(|s| u64::try_from(s).ok())
                        .map(Duration::from_secs)
                        .unwrap_or(DEFAULT_ACCEPTED_WAIT);
                    tracing::info!(
                        wait_ms = asked.as_millis() as u64,
                        "commit accepted, still processing"
                    );
                    asked.max(MIN_COMMIT_WAIT).min(deadline - now)
                }
                Err(e)
                    if is_code(&e, 400, "parts_mismatch")
                        && mismatches < PARTS_MISMATCH_RETRIES =>
                {
                    mismatches += 1;
                    tracing::info!(attempt = mismatches, error = %e, "commit refused with parts_mismatch; committing again");
                    self.options.retry_pause * mismatches
                }
                Err(e) if lost_answer && e.status().map(|s| s.as_u16()) == Some(404) => {
                    return Err(UploadError::CommitOutcomeUnknown {
                        session_id: session.id.clone(),
                        source: Box::new(e),
                    });
                }
                Err(e) if e.is_retryable() && failures < COMMIT_FAILURE_RETRIES => {
                    failures += 1;
                    lost_answer |= matches!(e, Error::Transport(_));
                    tracing::info!(attempt = failures, error = %e, "commit failed; committing again");
                    retry_after(&e).unwrap_or(self.options.retry_pause * failures)
                }
                Err(e) => {
                    let lost = lost_answer || matches!(e, Error::Transport(_));
                    return Err(self.commit_failed(session, lost, api_error(e)).await);
                }
            };
            self.cancellable(tokio::time::sleep(wait)).await?;
        }
    }

    /// The error of a commit that failed for good. When the answer to an earlier try was
    /// lost (or never came), that try may have been carried out all the same: if the
    /// session is now gone, the file was probably created, and `failure` would wrongly say
    /// that nothing was.
    async fn commit_failed(
        &self,
        session: &Session,
        lost_answer: bool,
        failure: UploadError,
    ) -> UploadError {
        if !lost_answer {
            return failure;
        }
        let status = self.client.get_upload_session(&session.id);
        match tokio::time::timeout(self.options.request_timeout, status).await {
            Ok(Err(gone)) if gone.status().map(|s| s.as_u16()) == Some(404) => {
                UploadError::CommitOutcomeUnknown {
                    session_id: session.id.clone(),
                    source: Box::new(gone),
                }
            }
            _ => failure,
        }
    }
}
