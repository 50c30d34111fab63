//! Progress reports.

use std::sync::Arc;

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Phase {
    /// Reading, hashing and sending parts.
    #[default]
    Uploading,
    /// Every part is stored; committing (and waiting while the server processes).
    Committing,
    /// The file is committed.
    Done,
}

/// A progress report, in bytes.
///
/// Sent to the [callback](super::Uploader::on_progress) and the
/// [channel](super::Uploader::progress_channel) once the session exists, after each part
/// that was read and each part the server confirmed, and at each phase change. A direct
/// upload (one request) reports as one part without a session: its hash pass as
/// `read_bytes`, what it hands to the connection as `sent_bytes`, then
/// [`Phase::Done`] with the part confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The upload session; empty for a direct upload.
    pub session_id: Arc<str>,
    /// The size of the file.
    pub total_bytes: u64,
    /// Bytes read from the source (and hashed) so far.
    pub read_bytes: u64,
    /// Bytes the server confirmed it stored, parts found already stored when resuming
    /// included.
    pub uploaded_bytes: u64,
    /// The number of parts of the file.
    pub total_parts: u64,
    /// Parts the server confirmed, parts found already stored when resuming included.
    pub uploaded_parts: u64,
    /// Bytes sent in this run (not counting parts found already stored when resuming).
    pub sent_bytes: u64,
    /// The phase.
    pub phase: Phase,
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
