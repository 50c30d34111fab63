//! A file in one request (Box's direct upload, `multipart/form-data`): its SHA-1 first,
//! in a pass over the source, for the `content-md5` header that Box checks (an HTTP
//! trailer would let the digest follow the bytes, but Box takes none); then the bytes,
//! streamed from the source in pieces behind the `attributes` part.

use std::sync::Arc;

use futures_util::TryStreamExt;
use oas_runtime::FilePart;

use super::super::Uploader;
use super::super::conflict::name_taken;
use super::super::error::{Step, UploadError};
use super::super::progress::{Phase, Progress, ProgressFn};
use super::super::source::Input;
use super::commit::{check_created, file_changed};
use super::parts::default_part_timeout;
use super::{Target, hex, is_code, wait};
use crate::{
    Body, Error, FileFull, Files, UploadFileBodyAttributes, UploadFileBodyAttributesParent,
    UploadFileRequest, UploadFileVersionBodyAttributes, UploadFileVersionRequest,
};

/// How many more times a direct upload is sent after an answer that says nothing was
/// stored (429, 503, or no connection).
const DIRECT_RETRIES: u32 = 3;

/// Calls every sink with `progress`.
fn report(sinks: &[ProgressFn], progress: &Progress) {
    for sink in sinks {
        sink(progress);
    }
}

impl Uploader {
    /// The progress of a direct upload of `size` bytes (no session, one part).
    fn direct_progress(&self, size: u64) -> Progress {
        Progress {
            total_bytes: size,
            total_parts: 1,
            ..Progress::default()
        }
    }

    /// The source's SHA-1 (hex), read from its start; the reads are reported as
    /// `read_bytes`.
    pub(super) async fn source_sha1(&self, input: &mut Input<'_>) -> Result<String, UploadError> {
        let sinks = self.options.progress.clone();
        let start = self.direct_progress(input.size());
        report(&sinks, &start);
        let hashing = input.sha1(move |read_bytes| {
            let progress = Progress {
                read_bytes,
                ..start.clone()
            };
            report(&sinks, &progress);
        });
        Ok(hex(&self.cancellable(hashing).await??))
    }

    /// Sends `input` to `target` in one request, with `sha1` (the source's, hex) as
    /// `content-md5`, and checks the file Box answers with against it.
    ///
    /// Sent again only after an answer that says nothing was stored (429, 503) or when no
    /// connection was made: the call is not idempotent, and a lost answer may hide a file
    /// that was created (or a new version made). A taken name is
    /// [`UploadError::NameInUse`], with the source's SHA-1.
    pub(super) async fn send_direct(
        &self,
        input: &mut Input<'_>,
        target: &Target<'_>,
        sha1: &str,
    ) -> Result<FileFull, UploadError> {
        let size = input.size();
        // As a part of that size would be given: the upload is one part.
        let limit = self
            .options
            .part_timeout
            .unwrap_or_else(|| default_part_timeout(size));
        let policy = self.client.runtime().retry_policy().clone();
        let mut attempt = 0;
        loop {
            let call = self.direct_call(input, target, sha1);
            let permit = self.budget_permit().await?;
            let answer = self.cancellable(tokio::time::timeout(limit, call)).await?;
            drop(permit);
            let error = match answer {
                Ok(answer) => match answer? {
                    Ok(files) => return self.created(files, sha1, size),
                    Err(error) => error,
                },
                Err(_elapsed) => {
                    return Err(UploadError::Timeout {
                        step: Step::DirectUpload,
                        session_id: None,
                        limit,
                    });
                }
            };
            let error = refusal(error, input, target, sha1).await?;
            let nothing_stored = match &error {
                Error::Api(api) => matches!(api.status.as_u16(), 429 | 503),
                Error::Transport(transport) => transport.is_connect(),
                _ => false,
            };
            let pause = if nothing_stored {
                wait::before_retry(Some(&error), self.options.retry_pause, attempt + 1, &policy)
                    .map_err(|too_long| too_long.error(Step::DirectUpload, None))?
            } else {
                None
            };
            match pause {
                Some(pause) if attempt < DIRECT_RETRIES => {
                    attempt += 1;
                    tracing::info!(attempt, wait_ms = pause.as_millis() as u64, %error, "sending the file again");
                    self.cancellable(tokio::time::sleep(pause)).await?;
                }
                _ => {
                    return Err(UploadError::Api {
                        step: Step::DirectUpload,
                        target: Some(target.to_string()),
                        session_id: None,
                        source: Box::new(error),
                    });
                }
            }
        }
    }

    /// The request of one try: the attributes, then the content as a stream that reports
    /// what it hands to the connection as `sent_bytes`.
    async fn direct_call(
        &self,
        // `&mut`: a shared reference held across the call would need `Input: Sync`, which
        // a reader is not.
        input: &mut Input<'_>,
        target: &Target<'_>,
        sha1: &str,
    ) -> Result<Result<Files, Error>, UploadError> {
        let size = input.size();
        let content = input.content().ok_or_else(|| UploadError::Internal {
            what: "a reader was to be sent in one request before it was read".into(),
        })?;
        let sinks = self.options.progress.clone();
        let mut progress = Progress {
            read_bytes: size,
            ..self.direct_progress(size)
        };
        let content = content.map_ok(move |piece| {
            progress.sent_bytes += piece.len() as u64;
            report(&sinks, &progress);
            piece
        });
        let body = Body::from_stream(content, Some(size));
        let modified = input.content_modified_at();
        let content_md5 = Some(sha1.to_string());
        let client = &self.client;
        Ok(match *target {
            Target::Folder { folder_id, name } => {
                let request = UploadFileRequest {
                    fields: None,
                    content_md5,
                    attributes: UploadFileBodyAttributes {
                        name: name.to_string(),
                        parent: UploadFileBodyAttributesParent {
                            id: folder_id.to_string(),
                        },
                        content_created_at: None,
                        content_modified_at: modified,
                    },
                    file: FilePart::new(body, name),
                };
                client.upload_file(request).await
            }
            Target::Version {
                file_id,
                name,
                if_match,
            } => {
                let request = UploadFileVersionRequest {
                    fields: None,
                    if_match: if_match.map(str::to_string),
                    content_md5,
                    attributes: UploadFileVersionBodyAttributes {
                        name: name.map(str::to_string),
                        content_modified_at: modified,
                    },
                    file: FilePart::new(body, name.unwrap_or("file")),
                };
                client.upload_file_version(file_id, request).await
            }
        })
    }

    /// The created file, checked against the source; reported done.
    fn created(&self, files: Files, sha1: &str, size: u64) -> Result<FileFull, UploadError> {
        let file = check_created(files, sha1, size, None)?;
        let done = Progress {
            session_id: Arc::from(""),
            read_bytes: size,
            uploaded_bytes: size,
            uploaded_parts: 1,
            sent_bytes: size,
            phase: Phase::Done,
            ..self.direct_progress(size)
        };
        report(&self.options.progress, &done);
        Ok(file)
    }
}

/// The refusals of a direct upload that end it with their own error: a taken name
/// ([`UploadError::NameInUse`]), a version whose file is no longer at the etag of
/// `if-match` ([`UploadError::FileChanged`]), and content whose SHA-1 is not `content-md5`
/// because the source changed while it was sent ([`UploadError::SourceChanged`]). Any other
/// error is given back as it is.
async fn refusal(
    error: Error,
    input: &mut Input<'_>,
    target: &Target<'_>,
    sha1: &str,
) -> Result<Error, UploadError> {
    if let Some(existing) = name_taken(&error) {
        return Err(UploadError::NameInUse {
            target: target.to_string(),
            existing: Box::new(existing),
            source_sha1: Some(sha1.to_string()),
        });
    }
    if let Target::Version {
        file_id,
        if_match: Some(etag),
        ..
    } = target
        && error.status().map(|s| s.as_u16()) == Some(412)
    {
        return Err(file_changed(file_id, etag, error));
    }
    if is_code(&error, 400, "bad_digest") {
        // Box received other bytes than those hashed: the source changed since, or they
        // were damaged on the way. Only the first can be told apart.
        input.check_unchanged().await?;
    }
    Ok(error)
}
