//! How an upload ended well: which of the four things happened, and to which file.

use super::conflict::ExistingItem;
use super::error::UploadError;
use crate::FileFull;

/// How an upload ended: a new file, a new version, a file left as it was because of its
/// name, or a file that already holds the source's content.
///
/// Every outcome names a file ([`file_id`](Self::file_id)), and
/// [`label`](Self::label) says which outcome it is in one word, for a summary line per
/// file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// A new file was created, checked against the source (SHA-1 and size).
    Uploaded(FileFull),
    /// A new version of an existing file was committed, checked against the source: by
    /// [`Uploader::upload_version`](super::Uploader::upload_version), or after a name
    /// conflict with [`ConflictPolicy::NewVersion`](super::ConflictPolicy::NewVersion).
    NewVersion(FileFull),
    /// The name was taken and the policy is
    /// [`ConflictPolicy::Skip`](super::ConflictPolicy::Skip): the existing file was left as
    /// it is, and nothing of the source was stored.
    Skipped {
        /// The file that holds the name.
        existing: ExistingItem,
    },
    /// The file already holds the source's content, so no version was made. Either its
    /// SHA-1 is the source's (a name conflict with
    /// [`ConflictPolicy::NewVersion`](super::ConflictPolicy::NewVersion): nothing was
    /// sent), or Box answered `202` to the commit of a new version with every part
    /// processed, which it does when there is nothing to change.
    Unchanged {
        /// The file.
        file_id: String,
        /// The upload session of a chunked new version, which is left as it is: should
        /// the content differ after all, [`Uploader::resume`](super::Uploader::resume)
        /// commits it; unused, it expires. `None` when nothing was sent.
        session_id: Option<String>,
    },
}

impl Outcome {
    /// The file the outcome is about: the new file, the file with the new version, the
    /// file left as it was, or the unchanged one.
    pub fn file_id(&self) -> &str {
        match self {
            Outcome::Uploaded(file) | Outcome::NewVersion(file) => &file.id,
            Outcome::Skipped { existing } => &existing.id,
            Outcome::Unchanged { file_id, .. } => file_id,
        }
    }

    /// The file as Box answered it, when something was committed.
    pub fn file(&self) -> Option<&FileFull> {
        match self {
            Outcome::Uploaded(file) | Outcome::NewVersion(file) => Some(file),
            Outcome::Skipped { .. } | Outcome::Unchanged { .. } => None,
        }
    }

    /// The outcome in a word or two: `uploaded`, `new version`, `skipped` or `unchanged`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Uploaded(_) => "uploaded",
            Outcome::NewVersion(_) => "new version",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Unchanged { .. } => "unchanged",
        }
    }

    /// The committed file; [`UploadError::Skipped`] or [`UploadError::Unchanged`] when
    /// nothing was committed.
    pub fn into_file(self) -> Result<FileFull, UploadError> {
        match self {
            Outcome::Uploaded(file) | Outcome::NewVersion(file) => Ok(file),
            Outcome::Skipped { existing } => Err(UploadError::Skipped {
                existing: Box::new(existing),
            }),
            Outcome::Unchanged {
                file_id,
                session_id,
            } => Err(UploadError::Unchanged {
                file_id,
                session_id,
            }),
        }
    }
}
