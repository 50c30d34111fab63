//! What the engine tells a caller, and what a caller lends it, beyond progress: the
//! session it created (so that a tool can record it before the first part is sent) and a
//! budget of requests shared with other uploads.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::UploadError;
use super::{Options, Uploader};

/// A new upload session, as the engine reports it once the server's answer is checked and
/// before any part is sent (see [`Uploader::on_session_created`]). Every text is the
/// server's, checked: the id is a Box id ([`is_box_id`](super::is_box_id)) and each
/// endpoint is one the client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id, which [`Uploader::resume`] takes.
    pub session_id: String,
    /// The part size the server chose, in bytes.
    pub part_size: u64,
    /// The number of parts.
    pub total_parts: u64,
    /// The size of the source, in bytes.
    pub size: u64,
    /// Where parts go (`session_endpoints.upload_part`), when the server said.
    pub upload_part_url: Option<String>,
    /// Where the session is committed, when the server said.
    pub commit_url: Option<String>,
    /// Where it is aborted, when the server said.
    pub abort_url: Option<String>,
    /// Where its parts are listed, when the server said.
    pub list_parts_url: Option<String>,
}

/// A session-created callback.
pub(crate) type SessionCreatedFn = Arc<dyn Fn(&SessionInfo) + Send + Sync>;

impl Uploader {
    /// Calls `callback` with each session this uploader creates, once the server's answer
    /// is checked and before the first part is read or sent: a tool records it there to
    /// [resume](Self::resume) the upload after a crash. Resumed sessions are not reported
    /// (they were created before). Keep it quick: the upload waits for it.
    pub fn on_session_created(
        mut self,
        callback: impl Fn(&SessionInfo) + Send + Sync + 'static,
    ) -> Uploader {
        self.options.session_created.push(Arc::new(callback));
        self
    }

    /// Shares a budget of requests with other uploads: each part takes one of `budget`'s
    /// permits before it is read and gives it back once the server answered it (so parts in
    /// memory are bounded by the permits too), and each direct upload, preflight check,
    /// session creation and commit request takes one while it is in flight. Uploaders (and other callers) given the same
    /// semaphore never have more requests in flight together than its permits, whatever
    /// each one's [`concurrency`](Self::concurrency). A caller must not hold a permit while
    /// it waits for an upload that uses the same budget.
    pub fn request_budget(mut self, budget: Arc<Semaphore>) -> Uploader {
        self.options.request_budget = Some(budget);
        self
    }

    /// A permit of the request budget, if there is one (waiting for it can be cancelled).
    pub(super) async fn budget_permit(&self) -> Result<Option<OwnedSemaphorePermit>, UploadError> {
        let Some(budget) = &self.options.request_budget else {
            return Ok(None);
        };
        self.cancellable(budget.clone().acquire_owned())
            .await?
            .map(Some)
            .map_err(|_closed| UploadError::Internal {
                what: "the request budget was closed".into(),
            })
    }
}

impl Options {
    /// Tells every session-created callback about `info`.
    pub(super) fn session_created(&self, info: &SessionInfo) {
        for callback in &self.session_created {
            callback(info);
        }
    }
}
