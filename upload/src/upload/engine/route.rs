//! One entry for any size: which way a source goes (one request below the threshold,
//! parts above it), the preflight check first, and what a taken name leads to under the
//! conflict policy, wherever Box reports it.

use super::super::Uploader;
use super::super::conflict::{ConflictPolicy, ExistingItem};
use super::super::error::UploadError;
use super::super::outcome::Outcome;
use super::super::source::Input;
use super::{Target, is_box_id};
use oas_runtime::ServerText;

impl Uploader {
    /// The size from which a source is sent in parts: the configured threshold, but
    /// never below the smallest size a chunked upload takes (nor 1: an empty file has no
    /// part).
    pub(crate) fn effective_direct_threshold(&self) -> u64 {
        self.options
            .direct_upload_threshold
            .max(self.options.min_file_size)
            .max(1)
    }

    /// Whether a source of `size` bytes is sent in one request.
    fn goes_direct(&self, size: u64) -> bool {
        size < self.effective_direct_threshold()
    }

    /// Uploads `input` as file `name` in folder `folder_id`, by its size, under the
    /// conflict policy.
    pub(crate) async fn upload_any(
        &self,
        input: Input<'_>,
        folder_id: &str,
        name: &str,
    ) -> Result<Outcome, UploadError> {
        let direct = self.goes_direct(input.size());
        // A reader sent in one request is read first: its digest goes before its bytes.
        let mut input = if direct {
            input.into_memory().await?
        } else {
            input
        };
        let target = Target::Folder { folder_id, name };
        let error = match self.first_try(&mut input, target, direct).await {
            Ok(outcome) => return Ok(outcome),
            Err(error) => error,
        };
        let Some(existing) = error.name_in_use().cloned() else {
            return Err(error);
        };
        // Known when the source was read before the conflict was found.
        let sha1 = match error.cause() {
            UploadError::NameInUse { source_sha1, .. } => source_sha1.clone(),
            _ => None,
        };
        tracing::info!(existing = %existing, policy = %self.options.on_conflict, "the name is taken");
        match self.options.on_conflict {
            ConflictPolicy::Skip if existing.is_file() => Ok(Outcome::Skipped { existing }),
            ConflictPolicy::NewVersion if existing.is_file() => {
                self.replace(input, existing, sha1, error).await
            }
            _ => Err(error),
        }
    }

    /// The preflight check (before a chunked upload, and a direct one from
    /// `preflight_from` bytes on), then the upload as a new file.
    async fn first_try(
        &self,
        input: &mut Input<'_>,
        target: Target<'_>,
        direct: bool,
    ) -> Result<Outcome, UploadError> {
        let size = input.size();
        if let Target::Folder { folder_id, name } = target
            && (!direct || size >= self.options.preflight_from)
        {
            self.preflight(folder_id, name, size).await?;
        }
        if !direct {
            return self.upload_new(input, target).await;
        }
        let sha1 = self.source_sha1(input).await?;
        let file = self.send_direct(input, &target, &sha1).await?;
        Ok(Outcome::Uploaded(file))
    }

    /// [`ConflictPolicy::NewVersion`]: nothing when `existing` has the source's SHA-1
    /// (hashing the source first when it was not yet read), else the source as a new
    /// version of it, at its etag. `conflict` is the error to give when the source cannot
    /// be sent again (a reader read to its end by a commit that found the name taken).
    async fn replace(
        &self,
        mut input: Input<'_>,
        existing: ExistingItem,
        sha1: Option<String>,
        conflict: UploadError,
    ) -> Result<Outcome, UploadError> {
        if !is_box_id(&existing.id) {
            return Err(UploadError::Protocol {
                session_id: None,
                what: format!(
                    "the file that holds the name has the id {:?}, which is not a Box id \
                     (letters, digits, '-', '_')",
                    ServerText::new(&existing.id)
                ),
            });
        }
        let sha1 = match sha1 {
            Some(sha1) => Some(sha1),
            // Worth a read of the source when the other file's digest is known: an
            // unchanged file then costs no upload at all.
            None if existing.sha1.is_some() && input.can_read_again() => {
                Some(self.source_sha1(&mut input).await?)
            }
            None => None,
        };
        if let Some(sha1) = &sha1
            && existing.has_sha1(sha1)
        {
            tracing::info!(file_id = %existing.id, "the file has the source's content already");
            return Ok(Outcome::Unchanged {
                file_id: existing.id,
                session_id: None,
            });
        }
        if !input.can_start_over() {
            return Err(conflict);
        }
        let target = Target::Version {
            file_id: &existing.id,
            name: None,
            if_match: existing.etag.as_deref(),
        };
        self.upload_version_of(input, target, sha1).await
    }

    /// Uploads `input` as a new version (`target` is a [`Target::Version`]), in one
    /// request or in parts by its size; `sha1`, the source's when known.
    pub(crate) async fn upload_version_of(
        &self,
        input: Input<'_>,
        target: Target<'_>,
        sha1: Option<String>,
    ) -> Result<Outcome, UploadError> {
        if !self.goes_direct(input.size()) {
            let mut input = input;
            return self.upload_new(&mut input, target).await;
        }
        let mut input = input.into_memory().await?;
        let sha1 = match sha1 {
            Some(sha1) => sha1,
            None => self.source_sha1(&mut input).await?,
        };
        let file = self.send_direct(&mut input, &target, &sha1).await?;
        Ok(Outcome::NewVersion(file))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{DEFAULT_DIRECT_UPLOAD_THRESHOLD, MIN_FILE_SIZE};
    use super::*;
    use crate::{Client, Config};

    fn uploader() -> Uploader {
        Uploader::new(Client::new(Config::bearer("t")).unwrap())
    }

    #[test]
    fn below_the_threshold_is_one_request_from_it_parts() {
        let defaults = uploader();
        assert_eq!(DEFAULT_DIRECT_UPLOAD_THRESHOLD, 50_000_000);
        assert!(defaults.goes_direct(0));
        assert!(defaults.goes_direct(49_999_999));
        assert!(!defaults.goes_direct(50_000_000));
        assert!(!defaults.goes_direct(50_000_001));
        // Never below the chunked minimum: smaller files cannot go in parts.
        let low = uploader().direct_upload_threshold(1);
        assert_eq!(low.effective_direct_threshold(), MIN_FILE_SIZE);
        assert!(low.goes_direct(MIN_FILE_SIZE - 1));
        assert!(!low.goes_direct(MIN_FILE_SIZE));
        // With a lower minimum (a server that takes smaller sessions), lower thresholds.
        let tests = uploader()
            .min_file_size(1)
            .direct_upload_threshold(64 * 1024);
        assert!(tests.goes_direct(64 * 1024 - 1));
        assert!(!tests.goes_direct(64 * 1024));
        let all_parts = uploader().min_file_size(1).direct_upload_threshold(0);
        assert!(all_parts.goes_direct(0) && !all_parts.goes_direct(1));
    }
}
