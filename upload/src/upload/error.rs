//! The error of an upload: what failed, where, and whether the session was kept.

use std::path::PathBuf;
use std::time::Duration;

use super::conflict::ExistingItem;
use crate::Error;

/// The calls of an upload, as errors name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Opening the session (`POST /files/upload_sessions` or `/files/{id}/upload_sessions`).
    CreateSession,
    /// Reading the session (`GET` its status URL), when resuming.
    GetSession,
    /// Listing the stored parts.
    ListParts,
    /// Committing the session.
    Commit,
    /// Aborting the session.
    Abort,
    /// Sending the file in one request (a direct upload, `POST /files/content` or
    /// `/files/{id}/content`).
    DirectUpload,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::CreateSession => "creating the upload session",
            Step::GetSession => "reading the upload session",
            Step::ListParts => "listing the stored parts",
            Step::Commit => "committing the upload session",
            Step::Abort => "aborting the upload session",
            Step::DirectUpload => "uploading the file in one request",
        })
    }
}

/// Shows an optional value between two texts, or nothing when it is `None`.
struct Optional<'a>(&'static str, &'a Option<String>, &'static str);

impl std::fmt::Display for Optional<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(value) => write!(f, "{}{value}{}", self.0, self.2),
            None => Ok(()),
        }
    }
}

/// ` (upload session ID)`, or nothing.
fn of_session(id: &Option<String>) -> Optional<'_> {
    Optional(" (upload session ", id, ")")
}

/// Why an upload failed.
///
/// Messages say what failed and where: the step, the part number (from 1) and its byte
/// range (inclusive), the session id. When the session was left open (because
/// [`abort_on_failure`](super::Uploader::abort_on_failure) is off, or the upload was
/// cancelled, or the abort itself failed) the error is wrapped in
/// [`SessionKept`](UploadError::SessionKept), which names the session to
/// [`resume`](super::Uploader::resume); [`kept_session`](UploadError::kept_session) and
/// [`cause`](UploadError::cause) see through that wrapper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The name is taken in the folder (`409 item_name_in_use`) and the
    /// [conflict policy](super::ConflictPolicy) does not go past it: it is
    /// [`Fail`](super::ConflictPolicy::Fail), the item in the way is a folder, or the
    /// upload was a new version (a rename to a taken name). Found by the preflight check
    /// or session creation, nothing was sent; found at the commit, the session is aborted
    /// (unless [`abort_on_failure`](super::Uploader::abort_on_failure) is off).
    #[error(
        "cannot upload {target}: the name is taken by {existing}{}",
        same_content(existing, source_sha1)
    )]
    NameInUse {
        /// What the upload was for: `"name" in folder ID` or `a new version of file ID`.
        target: String,
        /// The item that holds the name.
        existing: Box<ExistingItem>,
        /// The source's SHA-1 (hex), when it was known by then (after a direct upload,
        /// or at the commit).
        source_sha1: Option<String>,
    },
    /// The name was taken and the [conflict policy](super::ConflictPolicy) is
    /// [`Skip`](super::ConflictPolicy::Skip): from
    /// [`Outcome::into_file`](super::Outcome::into_file), which has no file to give.
    #[error(
        "not uploaded: the name is taken by {existing}, which was left as it is (ConflictPolicy::Skip)"
    )]
    Skipped {
        /// The file that holds the name.
        existing: Box<ExistingItem>,
    },
    /// The preflight check (`OPTIONS /files/content`) refused the upload: the folder does
    /// not exist, the account has no room for the file, the name is not valid... Nothing
    /// was read or sent.
    #[error("the preflight check refused {target}; nothing was sent: {source}")]
    PreflightRefused {
        /// What the upload was for: `"name" in folder ID`.
        target: String,
        /// The error of the check.
        #[source]
        source: Box<oas_runtime::Error<serde_json::Value>>,
    },
    /// The file changed since its version was found (HTTP 412: its etag is no longer
    /// the one sent in `if-match`), so the new version was not made: another client
    /// changed it meanwhile.
    #[error(
        "file {file_id} changed after it was found (HTTP 412: its etag is no longer {etag}); \
         the new version was not uploaded"
    )]
    FileChanged {
        /// The file.
        file_id: String,
        /// The etag it had when it was found.
        etag: String,
        /// The error of the refused call.
        #[source]
        source: Box<Error>,
    },
    /// The source could not be opened or read.
    #[error("cannot {action} {}: {source}", path.as_ref().map_or_else(|| "the reader".to_string(), |p| p.display().to_string()))]
    Io {
        /// The file, if the source is a file.
        path: Option<PathBuf>,
        /// What was being done, e.g. `read bytes 0-8388607 of`.
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The source changed while it was being uploaded (its size or modification time), or a
    /// reader ended before its announced size. The upload was stopped.
    #[error("the source changed during the upload: {what}")]
    SourceChanged {
        /// What changed.
        what: String,
    },
    /// A call of the session failed (other than a part upload).
    #[error(
        "{step}{}{} failed: {source}",
        Optional(" for ", target, ""),
        of_session(session_id)
    )]
    Api {
        /// Which call.
        step: Step,
        /// What the session is for, when creating it: `"name" in folder ID` or `a new
        /// version of file ID`.
        target: Option<String>,
        /// The session, if there was one.
        session_id: Option<String>,
        /// The error of the call.
        #[source]
        source: Box<Error>,
    },
    /// A part could not be uploaded (after the retries of the runtime and of the engine).
    #[error("uploading part {number} (bytes {}-{}) of upload session {session_id} failed: {source}", range.0, range.1)]
    Part {
        /// The part number, from 1.
        number: u64,
        /// The first and last byte offsets of the part (inclusive).
        range: (u64, u64),
        /// The session.
        session_id: String,
        /// The error of the last attempt.
        #[source]
        source: Box<Error>,
    },
    /// Every send of a part took longer than the [part timeout](super::Uploader::part_timeout):
    /// the server stopped reading it, or never answered.
    #[error(
        "uploading part {number} (bytes {}-{}) of upload session {session_id} timed out: \
         {sends} send(s), none answered within {} ms",
        range.0, range.1, limit.as_millis()
    )]
    PartTimeout {
        /// The part number, from 1.
        number: u64,
        /// The first and last byte offsets of the part (inclusive).
        range: (u64, u64),
        /// The session.
        session_id: String,
        /// The limit of one send.
        limit: Duration,
        /// How many times the part was sent.
        sends: u32,
    },
    /// A call of the session (other than a part upload) took longer than the
    /// [request timeout](super::Uploader::request_timeout), each time it was tried.
    #[error(
        "{step}{} timed out: no answer within {} ms",
        of_session(session_id), limit.as_millis()
    )]
    Timeout {
        /// Which call.
        step: Step,
        /// The session, if there was one.
        session_id: Option<String>,
        /// The limit of one call.
        limit: Duration,
    },
    /// The server's answer to a part upload does not describe what was sent.
    #[error(
        "the server stored part {number} (bytes {}-{}) of upload session {session_id} with \
         {field} {got}, but the part sent has {field} {sent}",
        range.0, range.1
    )]
    PartAnswer {
        /// The part number, from 1.
        number: u64,
        /// The first and last byte offsets of the part (inclusive).
        range: (u64, u64),
        /// The session.
        session_id: String,
        /// The field that differs: `offset`, `size` or `sha1`.
        field: &'static str,
        /// The value sent.
        sent: String,
        /// The value the server answered (`none` when missing).
        got: String,
    },
    /// A part stored in the session being resumed differs from the source's bytes: the
    /// session belongs to another file. The session is left as it is.
    #[error(
        "upload session {session_id} does not hold this source: {what}; the session was left \
         as it is"
    )]
    ResumeMismatch {
        /// The session.
        session_id: String,
        /// What differs.
        what: String,
    },
    /// A server answer lacks something the upload needs, or makes no sense.
    #[error("unexpected answer{}: {what}", of_session(session_id))]
    Protocol {
        /// The session, if there was one.
        session_id: Option<String>,
        /// What is wrong.
        what: String,
    },
    /// The server named a URL for a call of the session (in `session_endpoints`) that the
    /// client does not trust: a host not on the allow-list, or plain `http` (see
    /// [`Config::trust_host`](crate::Config::trust_host)). Nothing was sent to it.
    #[error(
        "upload session {session_id}: the server's {endpoint} URL is refused, nothing was sent to it: {source}"
    )]
    UntrustedEndpoint {
        /// The session.
        session_id: String,
        /// Which endpoint: `upload_part`, `commit`, `abort` or `list_parts`.
        endpoint: &'static str,
        /// Why the URL is refused; it names the URL without its query.
        #[source]
        source: oas_runtime::InvalidRequest,
    },
    /// The server asked to wait longer before the call is tried again (`Retry-After` on a
    /// 429, a 5xx or a 202) than the client's
    /// [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after) allows. The
    /// engine does not wait for it: a wait is bounded by the user, never by the server.
    #[error(
        "{during}{} stopped: the server answered HTTP {status} and asked to wait {asked:?} \
         before trying again, longer than the {limit:?} allowed (RetryPolicy::max_retry_after)",
        of_session(session_id)
    )]
    WaitTooLong {
        /// What was being done: a [`Step`], or `uploading part N (bytes A-B)`.
        during: String,
        /// The session, if there was one.
        session_id: Option<String>,
        /// The status of the answer that asked for the wait.
        status: u16,
        /// The wait asked for.
        asked: Duration,
        /// The longest wait allowed.
        limit: Duration,
    },
    /// The commit (or the direct upload) created a file that is not the source: its
    /// SHA-1 or size differs. The file exists in Box, with the wrong content.
    #[error(
        "the upload{} was committed as file {file_id}, but that file is not the source: its \
         {field} is {got}, the source's is {expected}; the file exists in Box and is wrong",
        of_session(session_id)
    )]
    CommittedMismatch {
        /// The session; `None` for a direct upload.
        session_id: Option<String>,
        /// The file the commit created.
        file_id: String,
        /// What differs: `SHA-1` or `size`.
        field: &'static str,
        /// The source's value.
        expected: String,
        /// The file's value (`none` when the answer has none), escaped and bounded.
        got: String,
    },
    /// The commit (or the direct upload) answered that the file was created, with a body
    /// that does not decode or names no file: the file exists, but which one and whether
    /// it is whole is unknown.
    #[error(
        "the upload{} was committed, but the answer is unreadable, so the file cannot be \
         checked; look for it in Box. The answer: {body}",
        of_session(session_id)
    )]
    CommittedUnreadable {
        /// The session; `None` for a direct upload.
        session_id: Option<String>,
        /// The start of the answer, escaped and bounded.
        body: String,
    },
    /// A new version whose content is the file's current content, from
    /// [`Outcome::into_file`](super::Outcome::into_file): the file is as the source (see
    /// [`Outcome::Unchanged`](super::Outcome::Unchanged)).
    #[error(
        "a new version of file {file_id} was not committed: its content is unchanged{}",
        session_id.as_ref().map_or_else(
            || " (the SHA-1s are the same; nothing was sent)".to_string(),
            |id| format!(" (upload session {id} answered 202 with every part processed; it is left open)"),
        )
    )]
    Unchanged {
        /// The file.
        file_id: String,
        /// The session of a chunked new version, left open; `None` when nothing was sent.
        session_id: Option<String>,
    },
    /// The commit was still answered 202 (processing) when the deadline passed. The
    /// session may still be committed: it is kept (see [`UploadError::SessionKept`]).
    #[error(
        "upload session {session_id} was still being processed (HTTP 202) {} s after the \
         first commit; gave up at the commit deadline", waited.as_secs()
    )]
    CommitTimeout {
        /// The session.
        session_id: String,
        /// How long the engine waited from the first commit.
        waited: Duration,
    },
    /// The commit's answer was lost (a transport error) and the repeated commit found the
    /// session gone: the file was probably created, but its id is not known.
    #[error(
        "the answer to the commit of upload session {session_id} was lost and the session is \
         now gone: the file was probably created; look for it in Box. Last error: {source}"
    )]
    CommitOutcomeUnknown {
        /// The session.
        session_id: String,
        /// The error of the last commit.
        #[source]
        source: Box<Error>,
    },
    /// The session has expired or no longer exists (HTTP 404: expired, aborted, already
    /// committed or never created).
    #[error(
        "upload session {session_id} has expired or no longer exists (aborted, committed or \
         never created); start a new upload"
    )]
    SessionExpired {
        /// The session.
        session_id: String,
    },
    /// The upload was cancelled by its [cancel token](super::Uploader::cancel_token).
    #[error("the upload was cancelled")]
    Cancelled,
    /// The upload failed, and its session was left open so that it can be
    /// [resumed](super::Uploader::resume) (with the same source) or aborted.
    #[error(
        "{source}; upload session {session_id} was kept open and can be resumed{}",
        abort_error.as_ref().map_or_else(String::new, |e| format!(" ({e})"))
    )]
    SessionKept {
        /// The session left open.
        session_id: String,
        /// Why the upload stopped.
        #[source]
        source: Box<UploadError>,
        /// Why aborting the session failed, when the engine tried to: an
        /// [`Api`](UploadError::Api) or [`Timeout`](UploadError::Timeout) error of
        /// [`Step::Abort`].
        abort_error: Option<Box<UploadError>>,
    },
    /// A task of the engine stopped unexpectedly (a bug).
    #[error("internal error of the upload engine: {what}")]
    Internal {
        /// What happened.
        what: String,
    },
}

impl UploadError {
    /// The session left open (so it can be resumed), if any.
    pub fn kept_session(&self) -> Option<&str> {
        match self {
            UploadError::SessionKept { session_id, .. } => Some(session_id),
            _ => None,
        }
    }

    /// The error itself, without the [`SessionKept`](UploadError::SessionKept) wrapper.
    pub fn cause(&self) -> &UploadError {
        match self {
            UploadError::SessionKept { source, .. } => source,
            other => other,
        }
    }

    /// The item in the way, when the upload stopped at a name conflict
    /// ([`NameInUse`](UploadError::NameInUse)).
    pub fn name_in_use(&self) -> Option<&ExistingItem> {
        match self.cause() {
            UploadError::NameInUse { existing, .. } => Some(existing.as_ref()),
            _ => None,
        }
    }

    /// The HTTP status of the answer behind this error, if there is one (the preflight
    /// check's included).
    pub fn status(&self) -> Option<u16> {
        match self.cause() {
            UploadError::PreflightRefused { source, .. } => source.status(),
            UploadError::FileChanged { source, .. } => source.status(),
            other => other.api_error().and_then(Error::status),
        }
        .map(|status| status.as_u16())
    }

    /// Whether the upload stopped because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.cause(), UploadError::Cancelled)
    }

    /// The error of the API call behind this error, if there is one.
    pub fn api_error(&self) -> Option<&Error> {
        match self.cause() {
            UploadError::Api { source, .. }
            | UploadError::Part { source, .. }
            | UploadError::CommitOutcomeUnknown { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// `; it has the same content`, when both SHA-1s are known and equal.
fn same_content(existing: &ExistingItem, source_sha1: &Option<String>) -> &'static str {
    match source_sha1 {
        Some(sha1) if existing.has_sha1(sha1) => "; it has the same content",
        _ => "",
    }
}
