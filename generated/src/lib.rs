//! A typed Rust client for Box's API: uploads (in one request or in a session), the
//! folder calls around them, and the token endpoints.
//!
//! Everything under `src/generated/` is written by `cargo xtask codegen` from
//! `spec/box-upload.yaml` (or Box's own `openapi.json`) and is never edited by
//! hand; this file only declares that module and re-exports it. HTTP, auth, retries and
//! errors come from [`oas_runtime`].
//!
//! Most users want the `box-upload` crate, which re-exports this client and adds the
//! upload engine (parallel parts, digests, commit polling, resume).
//!
//! ```no_run
//! use box_api::{Client, Config, CreateUploadSessionBody, servers};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::bearer(std::env::var("BOX_TOKEN")?)
//!     // Point the upload host elsewhere, for example at the local emulator:
//!     .base_url(&servers::UPLOAD, "http://127.0.0.1:8080/api/2.0");
//! let client = Client::new(config)?;
//! let session = client
//!     .create_upload_session(&CreateUploadSessionBody {
//!         folder_id: "0".into(),
//!         file_size: 104_857_600,
//!         file_name: "video.mov".into(),
//!     })
//!     .await?;
//! println!("part size {:?}", session.part_size);
//! # Ok(())
//! # }
//! ```

// Generated code is formatted by prettyplease at generation time; rustfmt would
// reformat it differently and `codegen --check` would then see it as stale.
#[rustfmt::skip]
mod generated;

pub use generated::types::*;
pub use generated::*;

pub use oas_runtime::{AccessToken, Body, Bytes, Config, RetryPolicy, StaticToken, TokenProvider};
