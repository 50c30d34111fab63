//! `box-upload`: uploads files and folder trees to Box, in parallel within one budget of
//! requests, resuming interrupted uploads automatically. See `box-upload --help`.

mod connect;
mod display;
mod folders;
mod report;
mod run;
mod state;
mod transfer;
mod walk;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use report::Exit;

const AFTER_HELP: &str = "\
Environment (credentials: one kind; without any, a Box emulator is started on loopback
and the files go there, ending with the run):
  BOX_TOKEN       a developer token
  BOX_CLIENT_ID, BOX_CLIENT_SECRET with BOX_ENTERPRISE_ID or BOX_USER_ID
                  the Client Credentials Grant
  BOX_JWT_CONFIG  JWT: the path of the app config Box's console downloads
  BOX_CLIENT_ID, BOX_CLIENT_SECRET with BOX_REFRESH_TOKEN or BOX_TOKEN_STORE
                  OAuth 2.0: a refresh token (rotated, kept owner-only)
  BOX_OAUTH_URL   the token endpoint's root (default https://api.box.com)
  BOX_AS_USER     act for this user (Box's as-user header)
  BOX_API_URL     the API root (default BOX_UPLOAD_URL when that is set, else
                  https://api.box.com/2.0)
  BOX_UPLOAD_URL  the upload root (default https://upload.box.com/api/2.0)
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                  proxies, honoured for Box's hosts and never for loopback
  XDG_STATE_HOME  where the resume state goes (default ~/.local/state): box-upload/sessions/
  RUST_LOG        log filter for stderr (default warn)

Output: a progress display on stderr (plain lines when it is not a terminal), then one
line per file on stdout: outcome, file id, size, SHA-1, path. Outcomes: uploaded, new
version, skipped (--on-conflict skip), unchanged (a file of that name has the same SHA-1:
nothing is sent), failed (with the reason).

Resume: a file sent in parts is recorded in the state directory (session id and
endpoints, source path, size and modification time, destination; never a token) before
its first part. After Ctrl-C, a crash or kill -9, run the same command again: the
session is found, checked, and only the missing parts are sent. A changed source or an
expired session starts over, and says why.

Exit codes:
  0    every file uploaded, a new version, skipped or unchanged
  1    some files failed (the others were uploaded)
  2    the command line is wrong
  3    no usable credentials or hosts, or the destination folder cannot be read
  130  interrupted (Ctrl-C): run the same command again to resume";

/// Uploads files and folder trees to Box.
///
/// Each PATH is a file or a folder. A folder is uploaded as a folder of the same name
/// under --folder, with everything in it: sub-folders (empty ones too) are created, or
/// found when they exist; symbolic links are not followed (said in the output); files
/// that cannot be read are reported and the rest goes on. Running the same command again
/// sends only what is new or changed.
#[derive(Debug, Parser)]
#[command(name = "box-upload", version, about, long_about, after_help = AFTER_HELP)]
pub struct Args {
    /// Files or folders to upload.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// The Box folder to upload into (`0` is the root, "All Files").
    #[arg(long, value_name = "ID", default_value = "0")]
    folder: String,
    /// The name in Box of the one PATH given (default: its own name).
    #[arg(long)]
    name: Option<String>,
    /// How many requests may be in flight at once, across all files together (parts of
    /// big files and small files alike). Memory is about N × the part size (8 MiB to
    /// 64 MiB, the server's choice by file size).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// What to do when a file of the same name but other content is in the folder:
    /// fail that file, skip it, or upload a new version of it. A file with the same
    /// content (same SHA-1) is always left as it is ("unchanged").
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = OnConflict::Fail)]
    on_conflict: OnConflict,
    /// Upload the one file PATH as a new version of this Box file.
    #[arg(long, value_name = "FILE_ID", conflicts_with = "resume")]
    new_version: Option<String>,
    /// Finish this upload session with the one file PATH (sessions recorded in the state
    /// directory are resumed without it).
    #[arg(long, value_name = "SESSION_ID")]
    resume: Option<String>,
    /// Print one JSON object per file on stdout instead of the summary (fields: path, id,
    /// name, size, sha1, folder_id, outcome, seconds, error, notes).
    #[arg(long)]
    json: bool,
    /// Where to keep the resume state (default: the user's state directory).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Files of at least this many bytes are sent in parts (resumable); smaller ones in
    /// one request. Box sends parts only from 20 MB on.
    #[arg(long, value_name = "BYTES", default_value_t = 50_000_000)]
    chunked_from: u64,
}

/// `--on-conflict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    /// The file fails, naming the file in the way.
    Fail,
    /// The file in the way is left as it is.
    Skip,
    /// The source becomes a new version of the file in the way.
    NewVersion,
}

impl OnConflict {
    /// The engine's policy, for a name taken by another upload meanwhile.
    fn policy(self) -> box_upload::ConflictPolicy {
        match self {
            OnConflict::Fail => box_upload::ConflictPolicy::Fail,
            OnConflict::Skip => box_upload::ConflictPolicy::Skip,
            OnConflict::NewVersion => box_upload::ConflictPolicy::NewVersion,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: escape sequences in a log file or a pipe are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if let Err(message) = args.check() {
        eprintln!("error: {message}");
        return Exit::Usage.into();
    }
    run::run(args).await.into()
}

impl Args {
    /// What clap cannot say: options that take exactly one file.
    fn check(&self) -> Result<(), String> {
        for (given, option) in [
            (self.name.is_some(), "--name"),
            (self.new_version.is_some(), "--new-version"),
            (self.resume.is_some(), "--resume"),
        ] {
            if given && self.paths.len() != 1 {
                return Err(format!("{option} takes exactly one PATH"));
            }
            if given && option != "--name" && self.paths[0].is_dir() {
                return Err(format!("{option} takes a file, not a folder"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Args::command().debug_assert();
    }
}
