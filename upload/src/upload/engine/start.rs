//! The start of an upload: creating its session, or listing the parts of the session
//! being resumed.

use std::collections::BTreeMap;
use std::time::Duration;

use super::super::Uploader;
use super::super::conflict::name_taken;
use super::super::error::{Step, UploadError};
use super::session::Session;
use super::{Failure, Target, gone_or, wait, within};
use crate::{
    CreateUploadSessionBody, CreateUploadSessionForFileBody, ListUploadSessionPartsRequest,
    UploadPart, UploadSession,
};
use oas_runtime::ServerText;

/// How many times session creation is repeated after a retryable error or a timeout.
const CREATE_RETRIES: u32 = 3;
/// The page size when listing parts (Box's maximum).
const LIST_LIMIT: i64 = 1000;
/// The largest listing offset Box accepts (it refuses larger ones with 400).
const LIST_MAX_OFFSET: i64 = 10_000;

impl Uploader {
    pub(super) async fn create_session(
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
                    Target::Version { file_id, name, .. } => {
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
            let permit = self.budget_permit().await?;
            let answer = self.cancellable(tokio::time::timeout(limit, call)).await?;
            drop(permit);
            let error = match answer {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(e)) => Some(e),
                Err(_elapsed) => None,
            };
            if let Some(existing) = error.as_ref().and_then(name_taken) {
                return Err(UploadError::NameInUse {
                    target: target.to_string(),
                    existing: Box::new(existing),
                    source_sha1: None,
                });
            }
            // A 5xx, a lost answer or a timeout may hide a session that was created: it is
            // left unused (it holds nothing, and expires), which beats failing the upload.
            let policy = self.client.runtime().retry_policy();
            let pause = wait::before_retry(
                error.as_ref(),
                self.options.retry_pause,
                attempt + 1,
                policy,
            )
            .map_err(|too_long| too_long.error(Step::CreateSession, None))?;
            match pause {
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
}

/// Every stored part of the session that can be listed, by offset, each checked to fit
/// the source.
///
/// The pages are bounded: by the session's `total_parts` (a server that ignores `offset`,
/// or leaves out `total_count`, gives no new part and ends the listing), and by Box's
/// largest offset, 10000. Parts past what can be listed count as missing: they are sent
/// again, which stores nothing new when the bytes are the same (Box answers 200).
pub(super) async fn list_all_parts(
    session: &Session,
    limit: Duration,
) -> Result<BTreeMap<u64, UploadPart>, UploadError> {
    let mut parts = BTreeMap::new();
    let mut offset: i64 = 0;
    let total = i64::try_from(session.total_parts).unwrap_or(i64::MAX);
    while offset < total {
        if offset > LIST_MAX_OFFSET {
            tracing::warn!(
                listed = parts.len(),
                total_parts = session.total_parts,
                "parts past the listing's largest offset count as missing: they are sent again"
            );
            break;
        }
        let call = session.list_parts(ListUploadSessionPartsRequest {
            offset: Some(offset),
            limit: Some(LIST_LIMIT),
        });
        let page = within(limit, Step::ListParts, Some(&session.id), call)
            .await?
            .map_err(|e| gone_or(e, &session.id, Step::ListParts))?;
        let entries = page.entries.unwrap_or_default();
        let before = parts.len();
        offset = offset.saturating_add(entries.len() as i64);
        for part in entries {
            let Some(start) = part.offset.and_then(|o| u64::try_from(o).ok()) else {
                return Err(UploadError::Protocol {
                    session_id: Some(session.id.clone()),
                    what: format!(
                        "a listed part has no valid offset: {}",
                        ServerText::new(&format!("{part:?}"))
                    ),
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
        // An empty page, or one that repeats what is known (an `offset` ignored), ends it.
        let done = page.total_count.is_some_and(|total| offset >= total);
        if parts.len() == before || done {
            break;
        }
    }
    Ok(parts)
}
