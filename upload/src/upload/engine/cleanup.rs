//! After a failure: abort the session, or keep it to be resumed, and say which.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::super::Uploader;
use super::super::error::{Step, UploadError};
use super::session::Session;
use super::{gone_or, within};
use crate::Error;

/// Sends an abort in the background if the upload's future is dropped while armed.
pub(super) struct DropGuard {
    pub(super) session: Option<Arc<Session>>,
    /// The longest the abort may take.
    pub(super) limit: Duration,
}

impl DropGuard {
    pub(super) fn disarm(&mut self) {
        self.session = None;
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            tracing::info!(session_id = %session.id, "upload dropped: aborting its session");
            let limit = self.limit;
            runtime.spawn(async move {
                if let Err(e) = abort_within(&session.id, limit, session.abort()).await {
                    tracing::warn!(session_id = %session.id, error = %e, "abort failed");
                }
            });
        }
    }
}

impl Uploader {
    /// Aborts the session after `error`, or keeps it, and says which. Only what cannot be
    /// finished is aborted: a session the commit step kept (it holds every part) stays,
    /// and so does a resumed one (`resuming`), unless the upload was cancelled with
    /// [`abort_on_cancel`](Uploader::abort_on_cancel).
    pub(super) async fn clean_up(
        &self,
        session: &Session,
        error: UploadError,
        resuming: bool,
    ) -> UploadError {
        let error = if resuming {
            not_this_source(session, error)
        } else {
            error
        };
        let abort = match &error {
            // Nothing left to abort, a decision taken already, a file that exists, or a
            // session that is not this source's to throw away.
            UploadError::SessionExpired { .. }
            | UploadError::CommitOutcomeUnknown { .. }
            | UploadError::CommittedMismatch { .. }
            | UploadError::CommittedUnreadable { .. }
            | UploadError::SessionKept { .. }
            | UploadError::ResumeMismatch { .. } => return error,
            e if e.api_error().and_then(Error::status).map(|s| s.as_u16()) == Some(404) => {
                return error;
            }
            UploadError::Cancelled => self.options.abort_on_cancel,
            _ if resuming => false,
            _ => self.options.abort_on_failure,
        };
        if !abort {
            tracing::info!(session_id = %session.id, error = %error, "upload failed; session kept");
            return UploadError::SessionKept {
                session_id: session.id.clone(),
                source: Box::new(error),
                abort_error: None,
            };
        }
        let limit = self.options.request_timeout;
        abort_or_keep(&session.id, limit, session.abort(), error).await
    }
}

/// During a resume, a part refused as not fitting the session (416: its range is not the
/// session's; 409: it conflicts with a stored part) means the source is not the
/// session's: [`UploadError::ResumeMismatch`], which leaves the session as it is.
fn not_this_source(session: &Session, error: UploadError) -> UploadError {
    match error {
        UploadError::Part {
            number,
            range,
            session_id,
            source,
        } if matches!(source.status().map(|s| s.as_u16()), Some(409 | 416)) => {
            let status = source.status().map_or(0, |s| s.as_u16());
            UploadError::ResumeMismatch {
                session_id,
                what: format!(
                    "the server refuses part {number} (bytes {}-{}) with HTTP {status}: the \
                     source ({} bytes) is not the one the session was opened for",
                    range.0, range.1, session.size
                ),
            }
        }
        other => other,
    }
}

/// Aborts session `session_id` with `abort` within `limit`, after `error`: returns `error`
/// when the session is aborted or already gone, else `error` wrapped in
/// [`UploadError::SessionKept`] with why the abort failed.
pub(super) async fn abort_or_keep(
    session_id: &str,
    limit: Duration,
    abort: impl Future<Output = Result<(), Error>>,
    error: UploadError,
) -> UploadError {
    match abort_within(session_id, limit, abort).await {
        Ok(()) => {
            tracing::info!(session_id, error = %error, "upload failed; session aborted");
            error
        }
        Err(UploadError::SessionExpired { .. }) => error,
        Err(abort_error) => {
            tracing::warn!(session_id, error = %abort_error, "aborting the session failed");
            UploadError::SessionKept {
                session_id: session_id.to_string(),
                source: Box::new(error),
                abort_error: Some(Box::new(abort_error)),
            }
        }
    }
}

/// Runs `abort`, the abort of session `session_id`, within `limit`. A session already
/// gone is [`UploadError::SessionExpired`].
pub(super) async fn abort_within(
    session_id: &str,
    limit: Duration,
    abort: impl Future<Output = Result<(), Error>>,
) -> Result<(), UploadError> {
    within(limit, Step::Abort, Some(session_id), abort)
        .await?
        .map_err(|e| gone_or(e, session_id, Step::Abort))
}
