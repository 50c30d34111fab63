//! The upload engine: any file, any size, in one request or in parallel parts, with
//! bounded memory, resumable, under a policy for names that are taken.
//!
//! An [`Uploader`] wraps a [`Client`] and picks the way by size. Below the
//! [direct-upload threshold](Uploader::direct_upload_threshold) (50 MB, Box's advice) the
//! file goes in one `multipart/form-data` request (Box's direct upload): its SHA-1 is
//! computed first, in a pass over the file, for the `content-md5` header Box checks, then
//! the bytes are streamed from disk. From the threshold on, it runs a chunked upload: it
//! opens the session, reads the source once, in order, sends the parts concurrently (each
//! with its SHA-1 digest and content range, each checked against the server's answer),
//! computes the whole-file SHA-1 in the same single pass, commits with the parts sorted by
//! offset (waiting out `202 Accepted` until a deadline). Either way, the file Box answers
//! with is checked against the source's SHA-1 and size, and progress is reported the same
//! way ([`Progress`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use box_upload::{Client, Config, ConflictPolicy, Source, Uploader};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(Config::bearer(std::env::var("BOX_TOKEN")?))?;
//! let uploader = Uploader::new(client)
//!     .concurrency(8)
//!     .commit_deadline(Duration::from_secs(600))
//!     .on_conflict(ConflictPolicy::NewVersion)
//!     .on_progress(|p| eprintln!("{} of {} bytes", p.uploaded_bytes, p.total_bytes));
//! let outcome = uploader.upload(Source::path("video.mov"), "0", "video.mov").await?;
//! println!("{}: file {}", outcome.label(), outcome.file_id());
//! # Ok(()) }
//! ```
//!
//! # Before any byte: the preflight check
//!
//! Before a chunked upload (and a direct one of at least
//! [`preflight_from`](Uploader::preflight_from) bytes, 1 MiB by default) the uploader asks
//! Box's preflight check (`OPTIONS /files/content`) whether it would take a file of that
//! name and size in that folder: a taken name, a missing folder or a full account fail
//! then, before the file is read. Smaller files skip it by default: the check costs a
//! round trip, about what sending them costs, and the upload makes the same checks. A
//! check that cannot be made (429, 5xx, no answer) is logged and skipped.
//!
//! # Names that are taken
//!
//! A name taken in the folder (`409 item_name_in_use`) follows the
//! [`ConflictPolicy`] set with [`on_conflict`](Uploader::on_conflict), wherever Box
//! reports it: at the preflight check, the direct upload, the creation of the session, or
//! its commit (another upload took the name meanwhile; the session is then aborted).
//! `Fail` (the default) is [`UploadError::NameInUse`], naming the file in the way; `Skip`
//! leaves it ([`Outcome::Skipped`]); `NewVersion` sends the source as a new version of it,
//! at its etag, unless its SHA-1 is the source's ([`Outcome::Unchanged`]: nothing sent).
//!
//! # Readers
//!
//! A reader must announce its size ([`Source::reader`]): Box's chunked upload needs the
//! size when the session is opened, and a direct upload needs the digest before the
//! bytes. A reader below the threshold is read into memory first (at most the threshold:
//! 50 MB by default), hashed, and sent from there; above it, it is read once, in parts. A
//! reader of unknown size has to be written to a file (or read into memory) first.
//!
//! # Memory
//!
//! At most [`concurrency`](Uploader::concurrency) parts are in memory at once: a part is read
//! only when one of the `concurrency` slots is free, and its buffer is reused for a later
//! part once the server has answered and the whole-file hash has consumed it. Peak memory
//! is therefore about `concurrency × part_size` plus a small constant, whatever the file
//! size. Files are read with positional reads on a blocking thread; readers are read in
//! order into the same bounded buffers. A direct upload of a file holds one 256 KiB piece
//! at a time (and the connection's buffers); of a reader, the reader's bytes.
//!
//! # Hashing
//!
//! In a chunked upload every byte is hashed twice: once for its part's `digest` header (on
//! a blocking thread per part, so parts hash in parallel) and once for the whole file's
//! digest. The whole-file hash runs on its own blocking thread, fed the parts in order as
//! they are read, while the parts are on the network; the file is never read a second
//! time. A direct upload reads a file twice, once to hash it and once to send it: the
//! `content-md5` header goes before the bytes, and Box takes no trailer. Below the
//! threshold the second read is usually served from the page cache, and hashing runs at
//! about 1.6 GB/s, a small part of the time the bytes take on the network.
//!
//! # Failures
//!
//! The runtime retries each part upload on 429, 5xx and transport errors (the body is in
//! memory, so it can be sent again unchanged); when a part still fails with such an error,
//! the engine sends it again, unchanged, up to [`part_retries`](Uploader::part_retries)
//! more times. Any other error is fatal: the upload stops, the session is aborted unless
//! [`abort_on_failure`](Uploader::abort_on_failure) is off, and the error names the part and
//! its byte range. A file that changes while it is read stops the upload.
//!
//! Only what cannot be finished is aborted. A session whose parts are all stored and
//! whose commit did not end in a refusal (still answered 202 at the deadline, timed out,
//! failed with 429 or 5xx while the session still exists) is kept, and so is a session
//! being [resumed](Uploader::resume) whatever stops it: the error is
//! [`UploadError::SessionKept`], which names it. A resume whose source does not fit the
//! session is [`UploadError::ResumeMismatch`] and leaves it as it is.
//!
//! The commit's answer is checked too: a created file whose SHA-1 or size is not the
//! source's is [`UploadError::CommittedMismatch`], and an answer that cannot be read is
//! [`UploadError::CommittedUnreadable`] (the file exists either way; nothing is aborted).
//!
//! # Waits and the server's choices
//!
//! Every wait is bounded by the user. The engine waits as long as a server's
//! `Retry-After` asks (seconds, fractions of them or an HTTP date) only up to the client's
//! [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after); a server that
//! asks for longer ends the step with [`UploadError::WaitTooLong`], naming the status, the
//! wait and the limit. The part size a server chooses is bounded by
//! [`max_part_size`](Uploader::max_part_size) (memory) and by 100,000 parts (requests);
//! a session id that is not written as Box writes ids ([`is_box_id`]) is refused.
//!
//! No call waits for ever: one send of a part is limited by
//! [`part_timeout`](Uploader::part_timeout) (a send that passes it is dropped and counts as a
//! failed send), every other call by [`request_timeout`](Uploader::request_timeout); a server
//! that stops reading or answering ends the upload with [`UploadError::PartTimeout`] or
//! [`UploadError::Timeout`], naming the step (and part, byte range and session), and the
//! session is aborted (within the request timeout too) or reported kept.
//!
//! # Cancellation
//!
//! Dropping the future stops every part upload at once. A
//! [`cancel_token`](Uploader::cancel_token) does the same and returns
//! [`UploadError::Cancelled`]; by default the session is then kept (the error, wrapped in
//! [`UploadError::SessionKept`], names it) so that the upload can be
//! [resumed](Uploader::resume); [`abort_on_cancel`](Uploader::abort_on_cancel) aborts it
//! instead, also when the future is dropped.

#![warn(missing_docs)]

mod conflict;
mod engine;
mod error;
mod hooks;
mod outcome;
mod progress;
mod source;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncRead;
use tokio::sync::watch;
pub use tokio_util::sync::CancellationToken;

pub use conflict::{ConflictPolicy, ExistingItem, UnknownConflictPolicy};
pub use engine::is_box_id;
pub use error::{Step, UploadError};
pub use hooks::SessionInfo;
pub use outcome::Outcome;
pub use progress::{Phase, Progress};
pub use source::Source;

use crate::{Client, FileFull};
use engine::Target;
use hooks::SessionCreatedFn;
use progress::ProgressFn;
use source::Input;

/// Box's smallest file size for a chunked upload, in bytes (its guides say 20 MB).
pub const MIN_FILE_SIZE: u64 = 20_000_000;

/// The default [`direct_upload_threshold`](Uploader::direct_upload_threshold): Box advises
/// chunked uploads above 50 MB.
pub const DEFAULT_DIRECT_UPLOAD_THRESHOLD: u64 = 50_000_000;

/// The default [`preflight_from`](Uploader::preflight_from): 1 MiB.
pub const DEFAULT_PREFLIGHT_FROM: u64 = 1024 * 1024;

/// The default [`request_timeout`](Uploader::request_timeout).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The default [`max_part_size`](Uploader::max_part_size): 128 MiB, twice the largest part
/// size Box has been seen to choose (64 MiB, for files of several GiB).
pub const DEFAULT_MAX_PART_SIZE: u64 = 128 * 1024 * 1024;

/// `d`, or [`LONGEST_DURATION`](oas_runtime::LONGEST_DURATION) (a century) when longer:
/// no setting can overflow the clock.
fn saturate(d: Duration) -> Duration {
    d.min(oas_runtime::LONGEST_DURATION)
}

/// Uploads files of any size to Box: in one request below a threshold, through Box's
/// chunked-upload API above it. See the [module](self) docs.
///
/// Built from a [`Client`] with [`Uploader::new`], tuned with its builder methods; cheap to
/// clone. [`upload`](Self::upload) says how an upload ended ([`Outcome`]); the other
/// operations return the committed file.
#[derive(Clone)]
pub struct Uploader {
    client: Client,
    options: Options,
}

#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) concurrency: usize,
    pub(crate) commit_deadline: Duration,
    pub(crate) abort_on_failure: bool,
    pub(crate) abort_on_cancel: bool,
    pub(crate) progress: Vec<ProgressFn>,
    pub(crate) cancel: CancellationToken,
    pub(crate) min_file_size: u64,
    pub(crate) part_retries: u32,
    pub(crate) retry_pause: Duration,
    /// `None`: derived from the session's part size, see [`Uploader::part_timeout`].
    pub(crate) part_timeout: Option<Duration>,
    pub(crate) request_timeout: Duration,
    pub(crate) max_part_size: u64,
    pub(crate) session_created: Vec<SessionCreatedFn>,
    pub(crate) request_budget: Option<Arc<tokio::sync::Semaphore>>,
    pub(crate) direct_upload_threshold: u64,
    pub(crate) preflight_from: u64,
    pub(crate) on_conflict: ConflictPolicy,
}

impl fmt::Debug for Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        f.debug_struct("Uploader")
            .field("client", &self.client)
            .field("concurrency", &o.concurrency)
            .field("commit_deadline", &o.commit_deadline)
            .field("abort_on_failure", &o.abort_on_failure)
            .field("abort_on_cancel", &o.abort_on_cancel)
            .field("progress_sinks", &o.progress.len())
            .field("cancelled", &o.cancel.is_cancelled())
            .field("min_file_size", &o.min_file_size)
            .field("part_retries", &o.part_retries)
            .field("retry_pause", &o.retry_pause)
            .field("part_timeout", &o.part_timeout)
            .field("request_timeout", &o.request_timeout)
            .field("max_part_size", &o.max_part_size)
            .field("session_created_callbacks", &o.session_created.len())
            .field(
                "request_budget",
                &o.request_budget.as_ref().map(|b| b.available_permits()),
            )
            .field("direct_upload_threshold", &o.direct_upload_threshold)
            .field("preflight_from", &o.preflight_from)
            .field("on_conflict", &o.on_conflict)
            .finish()
    }
}

impl Uploader {
    /// An uploader with the defaults: files below 50 MB in one request, with the
    /// preflight check from 1 MiB; a taken name fails; 4 parts at a time, a commit deadline
    /// of 10 minutes, abort on failure, keep the session on cancellation, Box's 20 MB
    /// minimum for a chunked upload, 2 more sends of a part after the runtime's retries, a
    /// pause of 1 s between them, a part timeout derived from the part size, a request
    /// timeout of 2 minutes and parts of at most [`DEFAULT_MAX_PART_SIZE`]. Durations
    /// longer than a century are cut to one.
    pub fn new(client: Client) -> Uploader {
        Uploader {
            client,
            options: Options {
                concurrency: 4,
                commit_deadline: Duration::from_secs(600),
                abort_on_failure: true,
                abort_on_cancel: false,
                progress: Vec::new(),
                cancel: CancellationToken::new(),
                min_file_size: MIN_FILE_SIZE,
                part_retries: 2,
                retry_pause: Duration::from_secs(1),
                part_timeout: None,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                max_part_size: DEFAULT_MAX_PART_SIZE,
                session_created: Vec::new(),
                request_budget: None,
                direct_upload_threshold: DEFAULT_DIRECT_UPLOAD_THRESHOLD,
                preflight_from: DEFAULT_PREFLIGHT_FROM,
                on_conflict: ConflictPolicy::Fail,
            },
        }
    }

    /// The client it calls.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How many parts are read ahead and uploaded at once (at least 1; default 4). It bounds
    /// memory: about `concurrency × part_size`.
    pub fn concurrency(mut self, parts: usize) -> Uploader {
        self.options.concurrency = parts.max(1);
        self
    }

    /// How long to keep committing while the server answers `202 Accepted` (it is still
    /// processing parts), or fails with 429, 5xx or on the network, from the first commit;
    /// then the upload fails with [`UploadError::CommitTimeout`] (or the commit's error),
    /// and the session, which may still be committed, is kept. Every wait between commits
    /// counts against it. Default 10 minutes.
    pub fn commit_deadline(mut self, deadline: Duration) -> Uploader {
        self.options.commit_deadline = saturate(deadline);
        self
    }

    /// Whether a failed upload aborts its session (default `true`). With `false` the
    /// session is kept and the error, wrapped in [`UploadError::SessionKept`], names it, so
    /// that [`resume`](Self::resume) can finish the upload. A session that can still be
    /// finished (every part stored and the commit not refused for good, or a resumed
    /// one) is kept either way.
    pub fn abort_on_failure(mut self, abort: bool) -> Uploader {
        self.options.abort_on_failure = abort;
        self
    }

    /// Whether a cancelled upload (by its [token](Self::cancel_token), or by dropping its
    /// future) aborts its session (default `false`: the session is kept, to be resumed).
    /// When the future is dropped, the abort is sent from a background task, best effort.
    pub fn abort_on_cancel(mut self, abort: bool) -> Uploader {
        self.options.abort_on_cancel = abort;
        self
    }

    /// Calls `callback` with each [`Progress`] report (from the task that drives the
    /// upload: keep it quick).
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Uploader {
        self.options.progress.push(Arc::new(callback));
        self
    }

    /// Sends each [`Progress`] report into a `watch` channel, whose receivers see the
    /// latest one.
    ///
    /// ```
    /// # use box_upload::{Client, Config, Progress, Uploader};
    /// # fn demo(client: Client) {
    /// let (sender, receiver) = tokio::sync::watch::channel(Progress::default());
    /// let uploader = Uploader::new(client).progress_channel(sender);
    /// // elsewhere: receiver.borrow().uploaded_bytes
    /// # drop(receiver); }
    /// ```
    pub fn progress_channel(self, sender: watch::Sender<Progress>) -> Uploader {
        self.on_progress(move |progress| {
            sender.send_replace(progress.clone());
        })
    }

    /// Stops the upload when `token` is cancelled: part uploads in flight are dropped and
    /// the operation returns [`UploadError::Cancelled`] (see
    /// [`abort_on_cancel`](Self::abort_on_cancel) for the session).
    pub fn cancel_token(mut self, token: CancellationToken) -> Uploader {
        self.options.cancel = token;
        self
    }

    /// The smallest file a chunked upload may send, in bytes (default [`MIN_FILE_SIZE`],
    /// Box's): smaller files always go in one request, whatever the
    /// [`direct_upload_threshold`](Self::direct_upload_threshold). Lower it only for a
    /// server that takes smaller sessions (an emulator).
    pub fn min_file_size(mut self, bytes: u64) -> Uploader {
        self.options.min_file_size = bytes;
        self
    }

    /// Files below this size, in bytes, are sent in one request (Box's direct upload);
    /// from it on, in parts (default [`DEFAULT_DIRECT_UPLOAD_THRESHOLD`], 50 MB, as Box
    /// advises). A value below [`min_file_size`](Self::min_file_size) (Box's 20 MB)
    /// counts as that minimum, since a smaller file cannot be sent in parts; so `0` sends
    /// every file that can be chunked in parts.
    pub fn direct_upload_threshold(mut self, bytes: u64) -> Uploader {
        self.options.direct_upload_threshold = bytes;
        self
    }

    /// Direct uploads of at least this many bytes ask Box's preflight check first
    /// (default [`DEFAULT_PREFLIGHT_FROM`], 1 MiB); chunked uploads always do. `0`:
    /// every upload; `u64::MAX`: chunked ones only. The check costs one round trip and
    /// spares sending a file that would be refused (a taken name, a missing folder, no
    /// room); below about a round trip's worth of bytes, sending it costs as little.
    pub fn preflight_from(mut self, bytes: u64) -> Uploader {
        self.options.preflight_from = bytes;
        self
    }

    /// What an upload does when its name is taken in the folder (default
    /// [`ConflictPolicy::Fail`]); see [`ConflictPolicy`].
    pub fn on_conflict(mut self, policy: ConflictPolicy) -> Uploader {
        self.options.on_conflict = policy;
        self
    }

    /// How many more times a part is sent when it still fails with a retryable error (429,
    /// 5xx, transport) after the runtime's own retries (default 2).
    pub fn part_retries(mut self, retries: u32) -> Uploader {
        self.options.part_retries = retries;
        self
    }

    /// The pause before the engine sends a part again, and before it repeats a commit that
    /// failed with `parts_mismatch` or a retryable error, when the server gave no
    /// `Retry-After` (default 1 s; it grows with each attempt).
    pub fn retry_pause(mut self, pause: Duration) -> Uploader {
        self.options.retry_pause = saturate(pause);
        self
    }

    /// The longest one send of a part may take, from its first byte to the server's answer,
    /// the runtime's own retries of it included. A send that takes longer is dropped (its
    /// connection closed) and counts as a failed send: the part is sent again, up to
    /// [`part_retries`](Self::part_retries) more times, then the upload fails with
    /// [`UploadError::PartTimeout`]. So a server that stops reading a part, or never
    /// answers, ends the upload within about `(1 + part_retries) × part_timeout`.
    ///
    /// By default it is derived from the part size the server chose: one minute plus the
    /// time the part takes at 128 KiB/s (8 MiB parts: 124 s; 64 MiB parts: 572 s). Set it
    /// higher on slower links, and above the client's
    /// [`RetryPolicy::max_elapsed`](crate::RetryPolicy::max_elapsed) if the runtime's
    /// retries of a part should run their course.
    pub fn part_timeout(mut self, limit: Duration) -> Uploader {
        self.options.part_timeout = Some(saturate(limit));
        self
    }

    /// The longest each other call may take (creating, reading or listing the session, one
    /// commit request, the abort), the runtime's own retries included (default 2 minutes).
    /// A commit or session creation that takes longer is dropped and repeated like one that
    /// failed on the network; when the limit is still passed, the upload fails with
    /// [`UploadError::Timeout`], naming the step. It does not limit the whole commit, which
    /// may be answered `202` until the [`commit_deadline`](Self::commit_deadline).
    pub fn request_timeout(mut self, limit: Duration) -> Uploader {
        self.options.request_timeout = saturate(limit);
        self
    }

    /// The largest part the server may choose, in bytes (default
    /// [`DEFAULT_MAX_PART_SIZE`]): a session whose parts are larger (and the file too) is
    /// refused with [`UploadError::Protocol`] before anything is sent, and aborted. Memory
    /// is about [`concurrency`](Self::concurrency) × the part size, so this bounds it.
    pub fn max_part_size(mut self, bytes: u64) -> Uploader {
        self.options.max_part_size = bytes.max(1);
        self
    }

    /// Uploads `source` as a new file `name` in folder `folder_id`, in one request or in
    /// parts by its size, under the [conflict policy](Self::on_conflict), and says how it
    /// ended. A file's modification time becomes `content_modified_at`.
    pub async fn upload(
        &self,
        source: Source<'_>,
        folder_id: &str,
        name: &str,
    ) -> Result<Outcome, UploadError> {
        let input = Input::open(source).await?;
        self.upload_any(input, folder_id, name).await
    }

    /// Uploads the file at `path` as a new file `name` in folder `folder_id` (see
    /// [`upload`](Self::upload)), and returns the file committed: the new one, or with
    /// [`ConflictPolicy::NewVersion`] the one it became a version of. An outcome without a
    /// committed file is an error: [`UploadError::Skipped`], [`UploadError::Unchanged`].
    pub async fn upload_path(
        &self,
        path: impl AsRef<Path>,
        folder_id: &str,
        name: &str,
    ) -> Result<FileFull, UploadError> {
        self.upload(Source::path(path.as_ref()), folder_id, name)
            .await?
            .into_file()
    }

    /// Uploads the file at `path` as a new version of file `file_id` (renamed to `name` if
    /// given), and returns the committed file; a source whose content is the file's
    /// current content fails with [`UploadError::Unchanged`] (see
    /// [`upload_version`](Self::upload_version), which returns it as an outcome).
    pub async fn upload_new_version(
        &self,
        path: impl AsRef<Path>,
        file_id: &str,
        name: Option<&str>,
    ) -> Result<FileFull, UploadError> {
        self.upload_version(path, file_id, name).await?.into_file()
    }

    /// Like [`upload_new_version`](Self::upload_new_version), with "unchanged" as an
    /// outcome rather than an error. Below the
    /// [direct-upload threshold](Self::direct_upload_threshold) the version goes in one
    /// request. In parts: Box answers `202` for ever to a new version whose content is the
    /// current one; after a few 202s the engine reads the session, and when it says every
    /// part is processed twice in a row and the commit still answers 202, the upload ends
    /// as [`Outcome::Unchanged`] (the session left as it is) instead of waiting for the
    /// [`commit_deadline`](Self::commit_deadline). (Box makes a new version of a direct
    /// upload with the same content.)
    pub async fn upload_version(
        &self,
        path: impl AsRef<Path>,
        file_id: &str,
        name: Option<&str>,
    ) -> Result<Outcome, UploadError> {
        let input = Input::open(Source::path(path.as_ref())).await?;
        let target = Target::Version {
            file_id,
            name,
            if_match: None,
        };
        self.upload_version_of(input, target, None).await
    }

    /// Uploads exactly `size` bytes read from `reader` as a new file `name` in folder
    /// `folder_id`, and returns the committed file, like
    /// [`upload_path`](Self::upload_path). Below the
    /// [direct-upload threshold](Self::direct_upload_threshold) the reader is read into
    /// memory first (see the [module](self) docs). A reader that ends early, or has more
    /// bytes, fails the upload with [`UploadError::SourceChanged`].
    pub async fn upload_reader(
        &self,
        reader: impl AsyncRead + Unpin + Send,
        size: u64,
        folder_id: &str,
        name: &str,
    ) -> Result<FileFull, UploadError> {
        self.upload(Source::reader(reader, size), folder_id, name)
            .await?
            .into_file()
    }

    /// Finishes the upload of session `session_id` from the same source: reads the session,
    /// lists every stored part, checks each against the source's bytes, uploads only the
    /// missing parts and commits. The source is read once, in full (the whole-file digest
    /// needs every byte). Stored parts are checked in order before any part after them is
    /// sent, and a part missing between stored parts is sent last (read again then), so a
    /// source that is not the session's sends nothing. A reader cannot be read twice: its
    /// missing parts are sent as they are read.
    ///
    /// A session that expired (or is otherwise gone) fails with
    /// [`UploadError::SessionExpired`]; a session that holds other bytes than the source,
    /// or whose parts the server refuses as not fitting it (HTTP 416 or 409: a source of
    /// another size), fails with [`UploadError::ResumeMismatch`] and is left as it is. A
    /// resume that fails otherwise keeps the session ([`UploadError::SessionKept`]), so
    /// that it can be resumed again; the listing of its stored parts is bounded (see
    /// `list_all_parts`), and parts it cannot reach are sent again.
    pub async fn resume(
        &self,
        session_id: &str,
        source: Source<'_>,
    ) -> Result<FileFull, UploadError> {
        let input = Input::open(source).await?;
        self.resume_session(session_id, input).await
    }
}
