//! Uploads files of any size to Box.
//!
//! The [`Uploader`] (module [`upload`]) uploads files of any size: in one request below
//! 50 MB (Box's direct upload), with Box's chunked upload above (parallel parts in bounded
//! memory, digests, commit polling, abort on failure, resume), with the preflight check
//! first, a policy for names that are taken, and progress. It is
//! built on the generated client of the `box-api` crate, which this crate re-exports
//! whole, so `box_upload::{Client, Config, Uploader}` is all most users import.
//!
//! ```no_run
//! use std::time::Duration;
//! use box_upload::{Client, Config, Uploader};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(Config::bearer(std::env::var("BOX_TOKEN")?))?;
//! let file = Uploader::new(client)
//!     .concurrency(8)
//!     .commit_deadline(Duration::from_secs(600))
//!     .upload_path("video.mov", "0", "video.mov")
//!     .await?;
//! println!("file {} with SHA-1 {:?}", file.id, file.sha1);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

/// The generated Box client: [`Client`], one method per operation, and its types.
pub use box_api::*;

pub mod auth;
pub mod upload;
pub use upload::{
    CancellationToken, ConflictPolicy, ExistingItem, Outcome, Phase, Progress, SessionInfo, Source,
    Step, UnknownConflictPolicy, UploadError, Uploader, is_box_id,
};

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
