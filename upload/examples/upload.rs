//! Uploads a file of any size to Box: in one request below 50 MB, in parallel parts
//! (chunked upload) above.
//!
//! ```text
//! cargo run --release -p box-upload --example upload -- FILE [--folder ID] [--name NAME]
//!     [--concurrency N] [--on-conflict fail|skip|new-version] [--direct-threshold BYTES]
//!     [--resume SESSION_ID] [--new-version FILE_ID]
//! ```
//!
//! The first line on stdout says how it ended: `uploaded`, `new version`, `skipped` (the
//! name is taken and `--on-conflict skip`) or `unchanged` (the file in the way, or the
//! file of `--new-version`, already has the content).
//!
//! Environment:
//! - Credentials, one kind (see `box_upload::auth::from_vars`): `BOX_TOKEN` (a developer
//!   token); `BOX_CLIENT_ID` + `BOX_CLIENT_SECRET` + `BOX_ENTERPRISE_ID` or `BOX_USER_ID`
//!   (Client Credentials Grant); `BOX_JWT_CONFIG` (JWT: the app config's path); or
//!   `BOX_CLIENT_ID` + `BOX_CLIENT_SECRET` + `BOX_REFRESH_TOKEN`/`BOX_TOKEN_STORE`
//!   (OAuth 2.0 refresh token). `BOX_OAUTH_URL` points the token endpoint elsewhere,
//!   `BOX_AS_USER` acts for a user. Without credentials, a local Box emulator is started
//!   on loopback and the file goes there (Box's 20 MB minimum and Box-like part sizes
//!   apply).
//! - `BOX_UPLOAD_URL`: the upload root (default `https://upload.box.com/api/2.0`), for
//!   example a standalone `box-emulator`'s `upload` line.
//! - `BOX_API_URL`: the API root (default `BOX_UPLOAD_URL` when that is set, as a local
//!   server serves both, else `https://api.box.com/2.0`): the preflight check goes there,
//!   and it is printed as where the file can be read back.
//! - `RUST_LOG`: log filter for stderr (default `warn`).
//!
//! Ctrl-C stops the upload and keeps its session; the command that resumes it is printed.
//! What the server sends (names, ids, error bodies) is printed escaped and bounded.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use box_emulator::{Emulator, EmulatorConfig};
use box_upload::{
    CancellationToken, Client, Config, ConflictPolicy, Outcome, Phase, Progress, Source,
    UploadError, Uploader, is_box_id, servers,
};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use oas_runtime::ServerText;

/// Uploads FILE to Box (in one request below 50 MB, in parallel parts above), or resumes
/// an upload.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The file to upload.
    file: PathBuf,
    /// The destination folder id (`0` is the root).
    #[arg(long, default_value = "0")]
    folder: String,
    /// The name in Box (default: the file's name).
    #[arg(long)]
    name: Option<String>,
    /// How many parts to send at once (memory: about N × part size).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// What to do when the name is taken in the folder: fail, skip (leave the file in the
    /// way) or new-version (upload FILE as a new version of it, unless it has the content).
    #[arg(long, value_name = "POLICY", default_value = "fail")]
    on_conflict: ConflictPolicy,
    /// Files below this size go in one request, bigger ones in parts (Box's advice: 50 MB;
    /// values below Box's 20 MB minimum for parts count as 20 MB).
    #[arg(long, value_name = "BYTES", default_value_t = box_upload::upload::DEFAULT_DIRECT_UPLOAD_THRESHOLD)]
    direct_threshold: u64,
    /// Resume this upload session (with the same FILE) instead of starting a new one.
    #[arg(long, value_name = "SESSION_ID")]
    resume: Option<String>,
    /// Upload FILE as a new version of this file instead of a new file.
    #[arg(long, value_name = "FILE_ID", conflicts_with = "resume")]
    new_version: Option<String>,
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
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

async fn run(args: Args) -> Result<(), ExitCode> {
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    };
    let name = match (&args.name, args.file.file_name()) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name.to_string_lossy().into_owned(),
        (None, None) => {
            return Err(fail(format!(
                "{} has no file name; give --name",
                args.file.display()
            )));
        }
    };

    // Where to upload: Box, a given host, or an emulator of our own.
    let mut emulator = None;
    let auth = box_upload::auth::from_env().map_err(|e| fail(e.to_string()))?;
    let mut config = match &auth {
        Some(auth) => auth.config(),
        None => {
            let started = Emulator::start(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                EmulatorConfig::default(),
            )
            .await
            .map_err(|e| fail(format!("cannot start the local emulator: {e}")))?;
            eprintln!(
                "no Box credentials are set (BOX_TOKEN, BOX_CLIENT_ID, BOX_JWT_CONFIG…): \
                 uploading to a local Box emulator at {} instead \
                 (Box's 20 MB minimum and Box-like part sizes apply; it stops when this \
                 program ends)",
                started.upload_url()
            );
            emulator = Some(started);
            Config::bearer("emulator")
        }
    };
    let upload_url = match &emulator {
        Some(emulator) => Some(emulator.upload_url()),
        None => std::env::var("BOX_UPLOAD_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    let api_url = match &emulator {
        Some(emulator) => emulator.api_url(),
        None => std::env::var("BOX_API_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| upload_url.clone())
            .unwrap_or_else(|| "https://api.box.com/2.0".into()),
    };
    config = config.base_url(&servers::API, api_url.clone());
    if let Some(url) = &upload_url {
        config = config
            .base_url(&servers::UPLOAD, url.clone())
            .base_url(&servers::UPLOAD_SESSION, url.clone());
    }
    let client = Client::new(config).map_err(|e| fail(e.to_string()))?;

    // Ctrl-C cancels; the session is kept so that it can be resumed.
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ninterrupted: stopping the upload");
                cancel.cancel();
            }
        });
    }

    let session_id: Arc<Mutex<Option<String>>> = Arc::default();
    let parts_stored_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let sent_bytes: Arc<Mutex<u64>> = Arc::default();
    let display = Display::new(std::io::stderr().is_terminal());
    let uploader = {
        let session_id = session_id.clone();
        let parts_stored_at = parts_stored_at.clone();
        let sent_bytes = sent_bytes.clone();
        let display = display.clone();
        Uploader::new(client)
            .concurrency(args.concurrency)
            .abort_on_failure(true)
            .abort_on_cancel(false)
            .on_conflict(args.on_conflict)
            .direct_upload_threshold(args.direct_threshold)
            .cancel_token(cancel)
            .on_progress(move |p| {
                if let Ok(mut id) = session_id.lock()
                    && id.is_none()
                {
                    *id = Some(p.session_id.to_string());
                }
                if let Ok(mut sent) = sent_bytes.lock() {
                    *sent = p.sent_bytes;
                }
                if p.phase == Phase::Committing
                    && let Ok(mut at) = parts_stored_at.lock()
                {
                    at.get_or_insert_with(Instant::now);
                }
                display.report(p);
            })
    };

    let started = Instant::now();
    let result = match (&args.resume, &args.new_version) {
        (Some(id), _) => uploader
            .resume(id, Source::path(&args.file))
            .await
            .map(Outcome::Uploaded),
        (None, Some(file_id)) => {
            uploader
                .upload_version(&args.file, file_id, args.name.as_deref())
                .await
        }
        (None, None) => {
            uploader
                .upload(Source::path(&args.file), &args.folder, &name)
                .await
        }
    };
    let elapsed = started.elapsed();
    display.finish();

    match result {
        Ok(Outcome::Unchanged { file_id, .. }) => {
            println!("outcome     unchanged");
            println!("file id     {}", ServerText::new(&file_id));
            println!("            its content is the source's; no new version was made");
            Ok(())
        }
        Ok(Outcome::Skipped { existing }) => {
            println!("outcome     skipped");
            println!("file id     {}", ServerText::new(&existing.id));
            println!("            the name is taken by {existing}, left as it is");
            Ok(())
        }
        Ok(outcome @ (Outcome::Uploaded(_) | Outcome::NewVersion(_))) => {
            println!("outcome     {}", outcome.label());
            let Some(file) = outcome.file() else {
                return Err(fail("the outcome names no file".into()));
            };
            let size = file.size.unwrap_or(0).max(0) as u64;
            // What the server says is shown escaped: a name may hold terminal escapes.
            let shown = |text: Option<&str>| ServerText::new(text.unwrap_or("?")).to_string();
            println!("file id     {}", ServerText::new(&file.id));
            println!(
                "name        {}",
                shown(file.name.as_deref().or(Some(&name)))
            );
            println!("size        {size} bytes");
            println!("sha1        {}", shown(file.sha1.as_deref()));
            // Bytes sent in this run: less than the size when resuming.
            let sent = sent_bytes.lock().map_or(size, |sent| *sent);
            println!(
                "throughput  {:.1} MB/s ({sent} bytes sent in {:.2} s, concurrency {})",
                sent as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9),
                elapsed.as_secs_f64(),
                args.concurrency
            );
            if let Some(at) = parts_stored_at.lock().ok().and_then(|at| *at) {
                let parts = at.duration_since(started);
                println!(
                    "phases      parts {:.2} s ({:.1} MB/s), commit {:.2} s",
                    parts.as_secs_f64(),
                    sent as f64 / 1e6 / parts.as_secs_f64().max(1e-9),
                    (elapsed - parts).as_secs_f64()
                );
            }
            println!("read back   {api_url}/files/{}", ServerText::new(&file.id));
            if let Some(emulator) = emulator {
                emulator.shutdown().await;
            }
            Ok(())
        }
        Ok(other) => Err(fail(format!(
            "an outcome this command does not know: {other:?}"
        ))),
        Err(error) => {
            let kept = error.kept_session().map(str::to_string);
            if error.is_cancelled() {
                eprintln!(
                    "the upload was cancelled after {:.1} s",
                    elapsed.as_secs_f64()
                );
            } else if error.status() == Some(401) {
                eprintln!(
                    "error: {error}; check the credentials ({} in {})",
                    auth.as_ref().map_or("the emulator's token", |a| a.kind()),
                    auth.as_ref().map_or("this program", |a| a.variables())
                );
            } else {
                eprintln!("error: {error}");
            }
            match kept {
                // A server-given id is pasted into a shell command only when it is an id.
                Some(id) if !is_box_id(&id) => eprintln!(
                    "upload session {:?} was kept, but that is not a Box id: no command is \
                     printed to resume it",
                    ServerText::new(&id)
                ),
                Some(id) => {
                    eprintln!("upload session {id} was kept; resume it with:");
                    // A path that cannot be a shell word as it is (control characters, NUL)
                    // is left for the user to give.
                    let file = shell_word(&args.file.to_string_lossy())
                        .unwrap_or_else(|| "FILE".to_string());
                    eprintln!(
                        "  cargo run --release -p box-upload --example upload -- {file} --resume {id} --concurrency {}",
                        args.concurrency
                    );
                    if emulator.is_some() {
                        eprintln!(
                            "  (with credentials set: the local emulator and its sessions end with this program)"
                        );
                    }
                }
                None => {
                    if let (UploadError::Cancelled, Some(id)) = (
                        error.cause(),
                        session_id.lock().ok().and_then(|id| id.clone()),
                    ) {
                        eprintln!("upload session {id} was aborted");
                    }
                }
            }
            Err(if error.is_cancelled() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Progress on stderr: a bar on a terminal, plain lines otherwise.
#[derive(Clone)]
struct Display {
    bar: Option<ProgressBar>,
    last_line: Arc<Mutex<(u64, Phase)>>,
}

impl Display {
    fn new(terminal: bool) -> Display {
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display {
            bar,
            last_line: Arc::new(Mutex::new((u64::MAX, Phase::Uploading))),
        }
    }

    fn report(&self, p: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.total_bytes);
            bar.set_position(p.uploaded_bytes);
            bar.set_message(match p.phase {
                Phase::Committing => "committing".to_string(),
                Phase::Done => "done".to_string(),
                _ => format!("part {}/{}", p.uploaded_parts, p.total_parts),
            });
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if *last == (p.uploaded_parts, p.phase) {
            return;
        }
        *last = (p.uploaded_parts, p.phase);
        match p.phase {
            // A direct upload has no session.
            Phase::Uploading if p.uploaded_parts == 0 && p.session_id.is_empty() => {
                eprintln!("{} bytes in one request", p.total_bytes)
            }
            Phase::Uploading if p.uploaded_parts == 0 => eprintln!(
                "session {}: {} bytes in {} parts",
                p.session_id, p.total_bytes, p.total_parts
            ),
            Phase::Uploading => eprintln!(
                "uploaded {}/{} parts ({:.1} of {:.1} MB)",
                p.uploaded_parts,
                p.total_parts,
                p.uploaded_bytes as f64 / 1e6,
                p.total_bytes as f64 / 1e6
            ),
            Phase::Committing => eprintln!("every part is stored; committing"),
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `text` as one word of a POSIX shell, quoted when it needs it; `None` when it holds a
/// control character (a terminal would act on it, and a shell would not see it).
fn shell_word(text: &str) -> Option<String> {
    if text.chars().any(char::is_control) {
        return None;
    }
    shlex::try_quote(text).ok().map(|word| word.into_owned())
}
