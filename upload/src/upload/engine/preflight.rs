//! The preflight check (`OPTIONS /files/content`): would Box take a file of this name
//! and size in this folder? Asked before a byte is read, so that a taken name, a missing
//! folder or a full account fail in one round trip.

use super::super::Uploader;
use super::super::conflict::name_taken;
use super::super::error::UploadError;
use super::Target;
use crate::{PreflightFileUploadBody, PreflightFileUploadBodyParent};

impl Uploader {
    /// Asks whether `name` (`size` bytes) would be taken in folder `folder_id`.
    ///
    /// A taken name is [`UploadError::NameInUse`] (for the conflict policy to act on); any
    /// other refusal, [`UploadError::PreflightRefused`]. A check that cannot be made
    /// (429, 5xx, a network failure, no answer within the request timeout, each after the
    /// runtime's retries of this idempotent call) is not a refusal: it is logged and the
    /// upload goes on, since the calls after it make the same checks. The answer's
    /// `upload_url` and `upload_token` are not used: the upload goes to the configured
    /// server with the client's own token.
    pub(super) async fn preflight(
        &self,
        folder_id: &str,
        name: &str,
        size: u64,
    ) -> Result<(), UploadError> {
        let body = PreflightFileUploadBody {
            name: Some(name.to_string()),
            size: i64::try_from(size).ok(),
            parent: Some(PreflightFileUploadBodyParent {
                id: Some(folder_id.to_string()),
            }),
        };
        let limit = self.options.request_timeout;
        let call = tokio::time::timeout(limit, self.client.preflight_file_upload(&body));
        let target = Target::Folder { folder_id, name };
        let permit = self.budget_permit().await?;
        let answer = self.cancellable(call).await?;
        drop(permit);
        let error = match answer {
            Ok(Ok(_accepted)) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_elapsed) => {
                tracing::warn!(
                    limit_ms = limit.as_millis() as u64,
                    "the preflight check did not answer in time; uploading without it"
                );
                return Ok(());
            }
        };
        if let Some(existing) = name_taken(&error) {
            return Err(UploadError::NameInUse {
                target: target.to_string(),
                existing: Box::new(existing),
                source_sha1: None,
            });
        }
        if error.is_retryable() {
            tracing::warn!(%error, "the preflight check failed; uploading without it");
            return Ok(());
        }
        Err(UploadError::PreflightRefused {
            target: target.to_string(),
            source: Box::new(error),
        })
    }
}
