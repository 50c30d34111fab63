//! The parts: one in-order read loop, each part hashed and sent (or, when resuming,
//! checked against what is stored), and the whole-file SHA-1 from the same reads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};
use sha1::{Digest, Sha1};
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::super::Uploader;
use super::super::error::UploadError;
use super::super::source::{Input, internal};
use super::session::Session;
use super::{Failure, Reporter, hex, wait};
use crate::{Body, RetryPolicy, UploadPart, UploadPartRequest};
use oas_runtime::ServerText;

/// The part timeout, by default: this much time for the answer...
const PART_TIMEOUT_BASE: Duration = Duration::from_secs(60);
/// ...plus the time the part takes at this many bytes per second.
const PART_TIMEOUT_THROUGHPUT: u64 = 128 * 1024;

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
    /// The client's, for the longest wait a server may ask for.
    policy: RetryPolicy,
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
    /// Reads every part in order, feeds it to the whole-file hash and hands it to a part
    /// task; at most `concurrency` parts (and buffers) at once.
    ///
    /// When resuming, the stored parts are checked in order as they are read, before any
    /// part after them is sent; a missing part that comes before a stored one (a hole left
    /// by parts in flight when the first run stopped) is sent only once every stored part
    /// is checked, read a second time then (a file source; a reader cannot be read twice, so
    /// its holes are sent at once). So a source that is not the session's sends nothing.
    pub(super) async fn transfer(
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
            policy: self.client.runtime().retry_policy().clone(),
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
                // Taken before the read: a part holds memory from its read to its answer.
                let permit = self.budget_permit().await?;
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
                    tasks.spawn(holding(permit, run_part(context.clone(), job)).instrument(span));
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
                        tasks.spawn(
                            holding(permit, run_part(context.clone(), job)).instrument(span),
                        );
                    }
                    Plan::Verify(part) => {
                        // Checked here, in order, before anything after it is sent.
                        let sha1 = part_sha1(&bytes).await?;
                        let part = check_stored(session, index, offset, &bytes, &sha1, part)?;
                        tasks.spawn(holding(permit, release(bytes, hashed, Some((part, false)))));
                    }
                    Plan::Defer => {
                        tracing::debug!(
                            number = index + 1,
                            "missing before a stored part: sent last"
                        );
                        deferred.push(index);
                        tasks.spawn(holding(permit, release(bytes, hashed, None)));
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
}

/// Runs `task`, then gives its permit of the request budget back.
async fn holding<T>(
    permit: Option<OwnedSemaphorePermit>,
    task: impl std::future::Future<Output = T>,
) -> T {
    let output = task.await;
    drop(permit);
    output
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
                "is stored with SHA-1 {}, the source's bytes have {sha1_hex}",
                ServerText::new(stored)
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
        let policy = &context.policy;
        let pause = wait::before_retry(error.as_ref(), context.retry_pause, resends + 1, policy)
            .map_err(|too_long| {
                let during = format!("uploading part {number} (bytes {}-{})", range.0, range.1);
                too_long.error(during, Some(&session.id))
            })?;
        match pause {
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
        got: got.map_or_else(|| "none".into(), |got| ServerText::new(&got).to_string()),
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

/// The default part timeout for parts of `part_size` bytes (and for a direct upload of
/// that many).
pub(super) fn default_part_timeout(part_size: u64) -> Duration {
    PART_TIMEOUT_BASE.saturating_add(Duration::from_secs(part_size / PART_TIMEOUT_THROUGHPUT))
}

#[cfg(test)]
mod tests {
    use super::super::session::tests::session;
    use super::*;

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
}
