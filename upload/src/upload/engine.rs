//! The flow of one upload: session, parts, whole-file hash, commit, cleanup.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, FixedOffset};
use sha1::{Digest, Sha1};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::error::{Step, UploadError};
use super::progress::{Phase, Progress};
use super::source::{Input, internal};
use super::{Options, Uploader};
use crate::{
    Body, Client, CommitUploadSessionBody, CommitUploadSessionBodyAttributes,
    CommitUploadSessionRequest, CommitUploadSessionResponse, CreateUploadSessionBody,
    CreateUploadSessionForFileBody, Error, FileFull, ListUploadSessionPartsRequest, UploadPart,
    UploadPartRequest, UploadSession, operations,
};

/// The wait before committing again after a 202 without `Retry-After`.
const DEFAULT_ACCEPTED_WAIT: Duration = Duration::from_secs(2);
/// The shortest wait between two commits (a `Retry-After: 0` is not a reason to spin).
const MIN_COMMIT_WAIT: Duration = Duration::from_millis(100);
/// How many times a commit answered 400 `parts_mismatch` is repeated.
const PARTS_MISMATCH_RETRIES: u32 = 3;
/// How many times a commit that failed with 429, 5xx or a transport error is repeated.
const COMMIT_FAILURE_RETRIES: u32 = 3;
/// How many times session creation is repeated after a retryable error or a timeout.
const CREATE_RETRIES: u32 = 3;
/// The part timeout, by default: this much time for the answer...
const PART_TIMEOUT_BASE: Duration = Duration::from_secs(60);
/// ...plus the time the part takes at this many bytes per second.
const PART_TIMEOUT_THROUGHPUT: u64 = 128 * 1024;
/// The page size when listing parts (Box's maximum).
const LIST_LIMIT: i64 = 1000;

/// Where a new upload goes.
pub(crate) enum Target<'a> {
    Folder {
        folder_id: &'a str,
        name: &'a str,
    },
    Version {
        file_id: &'a str,
        name: Option<&'a str>,
    },
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

/// A live session and what the engine needs to call it.
struct Session {
    client: Client,
    id: String,
    part_size: u64,
    total_parts: u64,
    size: u64,
    upload_part: Option<String>,
    commit: Option<String>,
    abort: Option<String>,
    list_parts: Option<String>,
}

impl Session {
    /// Checks the server's answer against a source of `size` bytes.
    fn new(
        client: &Client,
        id: String,
        answer: UploadSession,
        size: u64,
        resuming: bool,
    ) -> Result<Session, UploadError> {
        let part_size = match answer.part_size {
            Some(n) if n > 0 => n as u64,
            other => {
                return Err(UploadError::Protocol {
                    session_id: Some(id),
                    what: format!("the session's part_size is {other:?}, not a positive number"),
                });
            }
        };
        let total_parts = size.div_ceil(part_size);
        if let Some(stated) = answer.total_parts
            && i64::from(stated) != total_parts as i64
        {
            let what = format!(
                "the session has {stated} parts of {part_size} bytes, but a source of {size} \
                 bytes makes {total_parts}"
            );
            return Err(if resuming {
                UploadError::ResumeMismatch {
                    session_id: id,
                    what,
                }
            } else {
                UploadError::Protocol {
                    session_id: Some(id),
                    what,
                }
            });
        }
        let endpoints = answer.session_endpoints.unwrap_or_default();
        // Refuse untrusted endpoints before anything is sent (the runtime checks every
        // call too): the session can still be aborted at the configured server.
        let runtime = client.runtime();
        for (endpoint, url, op) in [
            (
                "upload_part",
                &endpoints.upload_part,
                &operations::UPLOAD_PART,
            ),
            (
                "commit",
                &endpoints.commit,
                &operations::COMMIT_UPLOAD_SESSION,
            ),
            ("abort", &endpoints.abort, &operations::ABORT_UPLOAD_SESSION),
            (
                "list_parts",
                &endpoints.list_parts,
                &operations::LIST_UPLOAD_SESSION_PARTS,
            ),
        ] {
            if let Some(url) = url
                && let Err(source) = runtime.endpoint_at(op, url)
            {
                return Err(UploadError::UntrustedEndpoint {
                    session_id: id,
                    endpoint,
                    source,
                });
            }
        }
        Ok(Session {
            client: client.clone(),
            id,
            part_size,
            total_parts,
            size,
            upload_part: endpoints.upload_part,
            commit: endpoints.commit,
            abort: endpoints.abort,
            list_parts: endpoints.list_parts,
        })
    }

    /// Offset and length of part `index` (from 0).
    fn part(&self, index: u64) -> (u64, usize) {
        let offset = index * self.part_size;
        (offset, (self.part_size.min(self.size - offset)) as usize)
    }

    // Session-scoped calls go to the URLs in `session_endpoints`; the templated URL is only
    // a fallback for a server that does not give one.

    async fn upload_part(&self, request: UploadPartRequest) -> Result<crate::UploadedPart, Error> {
        match &self.upload_part {
            Some(url) => self.client.upload_part_at(url, request).await,
            None => self.client.upload_part(&self.id, request).await,
        }
    }

    async fn commit(
        &self,
        request: CommitUploadSessionRequest,
    ) -> Result<CommitUploadSessionResponse, Error> {
        match &self.commit {
            Some(url) => self.client.commit_upload_session_at(url, request).await,
            None => self.client.commit_upload_session(&self.id, request).await,
        }
    }

    async fn abort(&self) -> Result<(), Error> {
        match &self.abort {
            Some(url) => self.client.abort_upload_session_at(url).await,
            None => self.client.abort_upload_session(&self.id).await,
        }
    }

    async fn list_parts(
        &self,
        request: ListUploadSessionPartsRequest,
    ) -> Result<crate::UploadParts, Error> {
        match &self.list_parts {
            Some(url) => self.client.list_upload_session_parts_at(url, request).await,
            None => {
                self.client
                    .list_upload_session_parts(&self.id, request)
                    .await
            }
        }
    }
}

/// Sends an abort in the background if the upload's future is dropped while armed.
struct DropGuard {
    session: Option<Arc<Session>>,
    /// The longest the abort may take.
    limit: Duration,
}

impl DropGuard {
    fn disarm(&mut self) {
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

/// What a part task is given.
struct PartJob {
    index: u64,
    offset: u64,
    bytes: Bytes,
    /// Fires when the whole-file hash has consumed `bytes`.
    hashed: oneshot::Receiver<()>,
}

/// What happens to a part once it is read.
enum Plan {
    /// Send it.
    Upload,
    /// It is stored already (resume): check it against the source's bytes.
    Verify(UploadPart),
    /// It is missing but stored parts follow it (resume): send it after every stored part
    /// is checked, reading it again then.
    Defer,
}

/// What a part task gives back.
struct PartDone {
    len: u64,
    /// The stored part and whether this run sent it; `None` for a deferred part.
    result: Result<Option<(UploadPart, bool)>, UploadError>,
    /// The part's buffer, for the next read, when nothing else holds it.
    buffer: Option<BytesMut>,
}

/// Settings the part tasks share.
struct PartContext {
    session: Arc<Session>,
    part_retries: u32,
    retry_pause: Duration,
    /// The longest one send of a part may take.
    part_timeout: Duration,
}

/// The whole-file SHA-1, computed on one blocking thread from the parts in order.
struct WholeHasher {
    sender: Option<std::sync::mpsc::Sender<(Bytes, oneshot::Sender<()>)>>,
    task: JoinHandle<[u8; 20]>,
}

impl WholeHasher {
    fn start() -> WholeHasher {
        let (sender, receiver) = std::sync::mpsc::channel::<(Bytes, oneshot::Sender<()>)>();
        let task = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha1::new();
            // Ends when the sender is dropped: at the end, or when the upload stops.
            while let Ok((bytes, done)) = receiver.recv() {
                hasher.update(&bytes);
                drop(bytes);
                let _ = done.send(());
            }
            hasher.finalize().into()
        });
        WholeHasher {
            sender: Some(sender),
            task,
        }
    }

    /// Hands the next part over; the receiver fires once it is hashed.
    fn feed(&self, bytes: Bytes) -> Result<oneshot::Receiver<()>, UploadError> {
        let (done, hashed) = oneshot::channel();
        self.sender
            .as_ref()
            .and_then(|s| s.send((bytes, done)).ok())
            .ok_or_else(|| UploadError::Internal {
                what: "the whole-file hash stopped".into(),
            })?;
        Ok(hashed)
    }

    async fn finish(self) -> Result<[u8; 20], UploadError> {
        let WholeHasher { sender, task } = self;
        drop(sender);
        task.await.map_err(internal)
    }
}

impl Uploader {
    /// Runs `future` unless the cancel token fires first.
    async fn cancellable<F: Future>(&self, future: F) -> Result<F::Output, UploadError> {
        tokio::select! {
            biased;
            () = self.options.cancel.cancelled() => Err(UploadError::Cancelled),
            output = future => Ok(output),
        }
    }

    /// A new upload: check the size, create the session, upload, commit.
    pub(crate) async fn upload_new(
        &self,
        mut input: Input<'_>,
        target: Target<'_>,
    ) -> Result<FileFull, UploadError> {
        let size = input.size();
        let minimum = self.options.min_file_size.max(1);
        if size < minimum {
            return Err(UploadError::TooSmall { size, minimum });
        }
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
            tracing::Span::current().record("session_id", id.as_str());
            tracing::info!(
                part_size = answer.part_size,
                total_parts = answer.total_parts,
                "session created"
            );
            let session = match Session::new(&self.client, id.clone(), answer, size, false) {
                Ok(session) => Arc::new(session),
                Err(e) => {
                    // The session exists but cannot be used: abort it at the configured
                    // server (never at its endpoints, which may be what is wrong), and say
                    // so when that fails.
                    let limit = self.options.request_timeout;
                    let abort = self.client.abort_upload_session(&id);
                    return Err(abort_or_keep(&id, limit, abort, e).await);
                }
            };
            self.run_guarded(session, &mut input, None).await
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
                    what: format!("asked for session {session_id}, got session {id}"),
                });
            }
            let session = Arc::new(Session::new(
                &self.client,
                session_id.to_string(),
                answer,
                size,
                true,
            )?);
            let stored = self.cancellable(list_all_parts(&session, limit)).await??;
            tracing::info!(
                stored = stored.len(),
                total_parts = session.total_parts,
                "resuming"
            );
            self.run_guarded(session, &mut input, Some(stored)).await
        }
        .instrument(span)
        .await
    }

    /// Runs the session to its end; on failure aborts it or keeps it, as the options say.
    async fn run_guarded(
        &self,
        session: Arc<Session>,
        input: &mut Input<'_>,
        stored: Option<BTreeMap<u64, UploadPart>>,
    ) -> Result<FileFull, UploadError> {
        let mut guard = DropGuard {
            session: self.options.abort_on_cancel.then(|| session.clone()),
            limit: self.options.request_timeout,
        };
        let result = self
            .run_session(&session, input, stored.unwrap_or_default())
            .await;
        let result = match result {
            Ok(file) => Ok(file),
            Err(error) => Err(self.clean_up(&session, error).await),
        };
        guard.disarm();
        result
    }

    /// Aborts the session after `error`, or keeps it, and says which.
    async fn clean_up(&self, session: &Session, error: UploadError) -> UploadError {
        let abort = match &error {
            // Nothing left to abort, or a session that is not this source's to throw away.
            UploadError::SessionExpired { .. }
            | UploadError::CommitOutcomeUnknown { .. }
            | UploadError::ResumeMismatch { .. } => return error,
            e if e.api_error().and_then(Error::status).map(|s| s.as_u16()) == Some(404) => {
                return error;
            }
            UploadError::Cancelled => self.options.abort_on_cancel,
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

    async fn create_session(
        &self,
        target: &Target<'_>,
        size: u64,
    ) -> Result<UploadSession, UploadError> {
        let file_size = i64::try_from(size).unwrap_or(i64::MAX);
        let mut attempt = 0;
        loop {
            let call = async {
                match target {
                    Target::Folder { folder_id, name } => {
                        self.client
                            .create_upload_session(&CreateUploadSessionBody {
                                folder_id: folder_id.to_string(),
                                file_size,
                                file_name: name.to_string(),
                            })
                            .await
                    }
                    Target::Version { file_id, name } => {
                        self.client
                            .create_upload_session_for_file(
                                file_id,
                                &CreateUploadSessionForFileBody {
                                    file_size,
                                    file_name: name.map(str::to_string),
                                },
                            )
                            .await
                    }
                }
            };
            let limit = self.options.request_timeout;
            let error = match self.cancellable(tokio::time::timeout(limit, call)).await? {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(e)) => Some(e),
                Err(_elapsed) => None,
            };
            // A 5xx, a lost answer or a timeout may hide a session that was created: it is
            // left unused (it holds nothing, and expires), which beats failing the upload.
            match pause_before_retry(error.as_ref(), self.options.retry_pause, attempt + 1) {
                Some(wait) if attempt < CREATE_RETRIES => {
                    attempt += 1;
                    tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %Failure(error.as_ref()), "creating the session again");
                    self.cancellable(tokio::time::sleep(wait)).await?;
                }
                _ => {
                    return Err(match error {
                        Some(source) => UploadError::Api {
                            step: Step::CreateSession,
                            target: Some(target.to_string()),
                            session_id: None,
                            source: Box::new(source),
                        },
                        None => UploadError::Timeout {
                            step: Step::CreateSession,
                            session_id: None,
                            limit,
                        },
                    });
                }
            }
        }
    }

    /// Uploads the parts (those not in `stored`), then commits.
    async fn run_session(
        &self,
        session: &Arc<Session>,
        input: &mut Input<'_>,
        stored: BTreeMap<u64, UploadPart>,
    ) -> Result<FileFull, UploadError> {
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
        let file = self
            .commit(session, parts, digest, input.content_modified_at())
            .await?;
        reporter.state.phase = Phase::Done;
        reporter.emit();
        Ok(file)
    }

    /// Reads every part in order, feeds it to the whole-file hash and hands it to a part
    /// task; at most `concurrency` parts (and buffers) at once.
    ///
    /// When resuming, the stored parts are checked in order as they are read, before any
    /// part after them is sent; a missing part that comes before a stored one (a hole left
    /// by parts in flight when the first run stopped) is sent only once every stored part
    /// is checked, read a second time then (a file source; a reader cannot be read twice, so
    /// its holes are sent at once). So a source that is not the session's sends nothing.
    async fn transfer(
        &self,
        session: &Arc<Session>,
        input: &mut Input<'_>,
        mut stored: BTreeMap<u64, UploadPart>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(Vec<UploadPart>, [u8; 20]), UploadError> {
        let total = session.total_parts;
        let concurrency = self.options.concurrency.max(1).min(total.max(1) as usize);
        let context = Arc::new(PartContext {
            session: session.clone(),
            part_retries: self.options.part_retries,
            retry_pause: self.options.retry_pause,
            part_timeout: self
                .options
                .part_timeout
                .unwrap_or_else(|| default_part_timeout(session.part_size)),
        });
        let last_stored = stored.keys().next_back().copied();
        let can_defer = input.can_read_again();
        let hasher = WholeHasher::start();
        // Dropping the set (on error, cancellation or a dropped future) aborts the tasks.
        let mut tasks: JoinSet<PartDone> = JoinSet::new();
        let mut buffers: Vec<BytesMut> = Vec::with_capacity(concurrency);
        let mut parts = Vec::with_capacity(total as usize);
        // The first pass reads every part in order; then the deferred parts are read again.
        let mut next = 0u64;
        let mut deferred = Vec::new();
        let mut next_deferred = 0;

        let mut finished = |done: Result<PartDone, tokio::task::JoinError>,
                            buffers: &mut Vec<BytesMut>,
                            reporter: &mut Reporter<'_>|
         -> Result<(), UploadError> {
            let done = done.map_err(internal)?;
            let result = done.result?;
            if let Some(buffer) = done.buffer {
                buffers.push(buffer);
            }
            let Some((part, sent)) = result else {
                return Ok(());
            };
            parts.push(part);
            let state = &mut reporter.state;
            state.uploaded_bytes += done.len;
            state.uploaded_parts += 1;
            if sent {
                state.sent_bytes += done.len;
            }
            reporter.emit();
            Ok(())
        };

        loop {
            while let Some(done) = tasks.try_join_next() {
                finished(done, &mut buffers, reporter)?;
            }
            let first_pass = next < total;
            if (first_pass || next_deferred < deferred.len()) && tasks.len() < concurrency {
                let index = if first_pass {
                    next
                } else {
                    deferred[next_deferred]
                };
                let (offset, len) = session.part(index);
                let buffer = buffers.pop().unwrap_or_else(|| BytesMut::zeroed(len));
                let buffer = self
                    .cancellable(input.read_part(buffer, offset, len))
                    .await??;
                let bytes = buffer.freeze();
                let span = tracing::debug_span!("part", number = index + 1, offset, len);
                if !first_pass {
                    next_deferred += 1;
                    let (done, hashed) = oneshot::channel();
                    let _ = done.send(());
                    let job = PartJob {
                        index,
                        offset,
                        bytes,
                        hashed,
                    };
                    tasks.spawn(run_part(context.clone(), job).instrument(span));
                    continue;
                }
                next += 1;
                let hashed = hasher.feed(bytes.clone())?;
                reporter.state.read_bytes += len as u64;
                reporter.emit();
                let plan = match stored.remove(&offset) {
                    Some(part) => Plan::Verify(part),
                    None if can_defer && last_stored.is_some_and(|last| offset < last) => {
                        Plan::Defer
                    }
                    None => Plan::Upload,
                };
                match plan {
                    Plan::Upload => {
                        let job = PartJob {
                            index,
                            offset,
                            bytes,
                            hashed,
                        };
                        tasks.spawn(run_part(context.clone(), job).instrument(span));
                    }
                    Plan::Verify(part) => {
                        // Checked here, in order, before anything after it is sent.
                        let sha1 = part_sha1(&bytes).await?;
                        let part = check_stored(session, index, offset, &bytes, &sha1, part)?;
                        tasks.spawn(release(bytes, hashed, Some((part, false))));
                    }
                    Plan::Defer => {
                        tracing::debug!(
                            number = index + 1,
                            "missing before a stored part: sent last"
                        );
                        deferred.push(index);
                        tasks.spawn(release(bytes, hashed, None));
                    }
                }
                continue;
            }
            match self.cancellable(tasks.join_next()).await? {
                Some(done) => finished(done, &mut buffers, reporter)?,
                None => break,
            }
        }
        let digest = hasher.finish().await?;
        parts.sort_by_key(|p| p.offset);
        Ok((parts, digest))
    }

    /// Commits until the file is created, the deadline passes, or a fatal error.
    async fn commit(
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

/// One part: its SHA-1, then its upload; then the buffer back once the whole-file hash is
/// done with it.
async fn run_part(context: Arc<PartContext>, job: PartJob) -> PartDone {
    let PartJob {
        index,
        offset,
        bytes,
        hashed,
    } = job;
    let result = send_part(&context, index, offset, &bytes).await;
    release(bytes, hashed, None)
        .await
        .with_result(result.map(|part| Some((part, true))))
}

/// Gives the part's buffer back once the whole-file hash is done with it.
async fn release(
    bytes: Bytes,
    hashed: oneshot::Receiver<()>,
    part: Option<(UploadPart, bool)>,
) -> PartDone {
    // Ok or not, the whole-file hash reads the buffer until it says it is done.
    let _ = hashed.await;
    PartDone {
        len: bytes.len() as u64,
        result: Ok(part),
        buffer: bytes.try_into_mut().ok(),
    }
}

impl PartDone {
    fn with_result(self, result: Result<Option<(UploadPart, bool)>, UploadError>) -> PartDone {
        PartDone { result, ..self }
    }
}

/// The SHA-1 of a part, computed on a blocking thread.
async fn part_sha1(bytes: &Bytes) -> Result<[u8; 20], UploadError> {
    let bytes = bytes.clone();
    tokio::task::spawn_blocking(move || Sha1::digest(&bytes).into())
        .await
        .map_err(internal)
}

/// A part stored in the session being resumed must hold the source's bytes.
fn check_stored(
    session: &Session,
    index: u64,
    offset: u64,
    bytes: &Bytes,
    sha1: &[u8; 20],
    part: UploadPart,
) -> Result<UploadPart, UploadError> {
    let len = bytes.len() as u64;
    let number = index + 1;
    let mismatch = |what: String| UploadError::ResumeMismatch {
        session_id: session.id.clone(),
        what: format!("part {number} (bytes {offset}-{}) {what}", offset + len - 1),
    };
    if part.size != Some(len as i64) {
        return Err(mismatch(format!(
            "is stored with size {:?}, the source's part has {len} bytes",
            part.size
        )));
    }
    let sha1_hex = hex(sha1);
    match &part.sha1 {
        Some(stored) if !stored.eq_ignore_ascii_case(&sha1_hex) => {
            return Err(mismatch(format!(
                "is stored with SHA-1 {stored}, the source's bytes have {sha1_hex}"
            )));
        }
        Some(_) => tracing::debug!(number, "already stored, same bytes"),
        None => tracing::warn!(
            number,
            "the stored part has no SHA-1; the commit's whole-file digest will check it"
        ),
    }
    Ok(part)
}

async fn send_part(
    context: &PartContext,
    index: u64,
    offset: u64,
    bytes: &Bytes,
) -> Result<UploadPart, UploadError> {
    let session = &context.session;
    let number = index + 1;
    let len = bytes.len() as u64;
    let range = (offset, offset + len - 1);
    let sha1 = part_sha1(bytes).await?;
    let sha1_hex = hex(&sha1);
    let digest = format!("sha={}", BASE64.encode(sha1));
    let content_range = format!("bytes {}-{}/{}", range.0, range.1, session.size);
    let mut resends = 0;
    loop {
        let request = UploadPartRequest {
            digest: digest.clone(),
            content_range: content_range.clone(),
            // `Bytes` is shared, not copied; the runtime can send it again on a retry.
            body: Body::from(bytes.clone()),
        };
        let error =
            match tokio::time::timeout(context.part_timeout, session.upload_part(request)).await {
                Ok(Ok(answer)) => {
                    let part = check_answer(session, number, range, &sha1_hex, answer.part)?;
                    tracing::debug!(number, resends, "part stored");
                    return Ok(part);
                }
                Ok(Err(e)) => Some(e),
                Err(_elapsed) => None,
            };
        // After a 5xx or a timeout the part may be stored or not: sending the same bytes for
        // the same range again is safe either way (the server answers 200 to a repeat).
        match pause_before_retry(error.as_ref(), context.retry_pause, resends + 1) {
            Some(wait) if resends < context.part_retries => {
                resends += 1;
                tracing::warn!(number, resends, wait_ms = wait.as_millis() as u64, error = %Failure(error.as_ref()), "sending the part again");
                tokio::time::sleep(wait).await;
            }
            _ => {
                let session_id = session.id.clone();
                return Err(match error {
                    Some(source) => UploadError::Part {
                        number,
                        range,
                        session_id,
                        source: Box::new(source),
                    },
                    None => UploadError::PartTimeout {
                        number,
                        range,
                        session_id,
                        limit: context.part_timeout,
                        sends: resends + 1,
                    },
                });
            }
        }
    }
}

/// The stored part must have the offset, size and SHA-1 of the part sent.
fn check_answer(
    session: &Session,
    number: u64,
    range: (u64, u64),
    sha1_hex: &str,
    answer: Option<UploadPart>,
) -> Result<UploadPart, UploadError> {
    let Some(part) = answer else {
        return Err(UploadError::Protocol {
            session_id: Some(session.id.clone()),
            what: format!("the answer to part {number} has no `part`"),
        });
    };
    let len = range.1 - range.0 + 1;
    let differs = |field, sent: String, got: Option<String>| UploadError::PartAnswer {
        number,
        range,
        session_id: session.id.clone(),
        field,
        sent,
        got: got.unwrap_or_else(|| "none".into()),
    };
    if part.offset != Some(range.0 as i64) {
        return Err(differs(
            "offset",
            range.0.to_string(),
            part.offset.map(|o| o.to_string()),
        ));
    }
    if part.size != Some(len as i64) {
        return Err(differs(
            "size",
            len.to_string(),
            part.size.map(|s| s.to_string()),
        ));
    }
    if !part
        .sha1
        .as_deref()
        .is_some_and(|got| got.eq_ignore_ascii_case(sha1_hex))
    {
        return Err(differs("sha1", sha1_hex.to_string(), part.sha1.clone()));
    }
    Ok(part)
}

/// Every stored part of the session, by offset, each checked to fit the source.
async fn list_all_parts(
    session: &Session,
    limit: Duration,
) -> Result<BTreeMap<u64, UploadPart>, UploadError> {
    let mut parts = BTreeMap::new();
    let mut offset: i64 = 0;
    loop {
        let call = session.list_parts(ListUploadSessionPartsRequest {
            offset: Some(offset),
            limit: Some(LIST_LIMIT),
        });
        let page = within(limit, Step::ListParts, Some(&session.id), call)
            .await?
            .map_err(|e| gone_or(e, &session.id, Step::ListParts))?;
        let entries = page.entries.unwrap_or_default();
        if entries.is_empty() {
            break;
        }
        offset += entries.len() as i64;
        for part in entries {
            let Some(start) = part.offset.and_then(|o| u64::try_from(o).ok()) else {
                return Err(UploadError::Protocol {
                    session_id: Some(session.id.clone()),
                    what: format!("a listed part has no valid offset: {part:?}"),
                });
            };
            if start % session.part_size != 0 || start >= session.size {
                return Err(UploadError::ResumeMismatch {
                    session_id: session.id.clone(),
                    what: format!(
                        "it holds a part at offset {start}, which is not a part of a {}-byte \
                         source in parts of {} bytes",
                        session.size, session.part_size
                    ),
                });
            }
            parts.insert(start, part);
        }
        if parts.len() as u64 > session.total_parts {
            return Err(UploadError::Protocol {
                session_id: Some(session.id.clone()),
                what: format!(
                    "the listing has more parts than the session's {}",
                    session.total_parts
                ),
            });
        }
        if page.total_count.is_some_and(|total| offset >= total) {
            break;
        }
    }
    Ok(parts)
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

/// Aborts session `session_id` with `abort` within `limit`, after `error`: returns `error`
/// when the session is aborted or already gone, else `error` wrapped in
/// [`UploadError::SessionKept`] with why the abort failed.
async fn abort_or_keep(
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
async fn abort_within(
    session_id: &str,
    limit: Duration,
    abort: impl Future<Output = Result<(), Error>>,
) -> Result<(), UploadError> {
    within(limit, Step::Abort, Some(session_id), abort)
        .await?
        .map_err(|e| gone_or(e, session_id, Step::Abort))
}

/// The default part timeout for parts of `part_size` bytes.
fn default_part_timeout(part_size: u64) -> Duration {
    PART_TIMEOUT_BASE + Duration::from_secs(part_size / PART_TIMEOUT_THROUGHPUT)
}

/// The pause before trying a call again after it failed with `error` (`None`: it timed
/// out), if another try may succeed (a timeout, 429, 5xx or a transport error): the
/// server's `Retry-After`, else `pause × attempt`.
fn pause_before_retry(error: Option<&Error>, pause: Duration, attempt: u32) -> Option<Duration> {
    match error {
        Some(e) if !e.is_retryable() => None,
        Some(e) => Some(retry_after(e).unwrap_or(pause * attempt)),
        None => Some(pause * attempt),
    }
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

fn retry_after(error: &Error) -> Option<Duration> {
    error.api().and_then(|api| api.retry_after)
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
    use super::*;

    /// A session answer with these sizes (`UploadSession` is only read from responses,
    /// so `#[non_exhaustive]`: it is built field by field).
    fn answer(part_size: i64, total_parts: i32) -> UploadSession {
        let mut answer = UploadSession::default();
        answer.part_size = Some(part_size);
        answer.total_parts = Some(total_parts);
        answer
    }

    fn session() -> Session {
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let answer = answer(10, 3);
        Session::new(&client, "S1".into(), answer, 25, false).expect("a session")
    }

    #[test]
    fn parts_are_cut_at_the_part_size() {
        let session = session();
        assert_eq!(session.total_parts, 3);
        assert_eq!(session.part(0), (0, 10));
        assert_eq!(session.part(2), (20, 5));
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let wrong = answer(10, 4);
        let error = Session::new(&client, "S2".into(), wrong.clone(), 25, true)
            .err()
            .expect("a mismatch");
        assert!(
            matches!(error, UploadError::ResumeMismatch { .. }),
            "{error:?}"
        );
        let no_size = UploadSession::default();
        assert!(matches!(
            Session::new(&client, "S3".into(), no_size, 25, false),
            Err(UploadError::Protocol { .. })
        ));
    }

    #[test]
    fn part_answers_must_describe_the_part_sent() {
        let session = session();
        let sha1 = hex(&Sha1::digest(b"0123456789"));
        let good = UploadPart {
            part_id: Some("P".into()),
            offset: Some(10),
            size: Some(10),
            sha1: Some(sha1.to_uppercase()),
            ..UploadPart::default()
        };
        let check = |part: UploadPart| check_answer(&session, 2, (10, 19), &sha1, Some(part));
        assert_eq!(check(good.clone()).expect("the same part"), good);
        for (part, field) in [
            (
                UploadPart {
                    offset: Some(0),
                    ..good.clone()
                },
                "offset",
            ),
            (
                UploadPart {
                    size: Some(9),
                    ..good.clone()
                },
                "size",
            ),
            (
                UploadPart {
                    sha1: Some("00".repeat(20)),
                    ..good.clone()
                },
                "sha1",
            ),
            (
                UploadPart {
                    sha1: None,
                    ..good.clone()
                },
                "sha1",
            ),
        ] {
            let error = check(part).expect_err("a different part");
            assert!(
                matches!(&error, UploadError::PartAnswer { field: f, number: 2, range: (10, 19), .. } if *f == field),
                "{error:?}"
            );
            assert!(
                error
                    .to_string()
                    .contains("part 2 (bytes 10-19) of upload session S1"),
                "{error}"
            );
        }
        assert!(matches!(
            check_answer(&session, 2, (10, 19), &sha1, None),
            Err(UploadError::Protocol { .. })
        ));
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        assert_eq!(
            hex(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
