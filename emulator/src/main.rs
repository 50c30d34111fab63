//! `box-emulator`: runs the emulator until Ctrl-C or SIGTERM.
//!
//! On stdout it prints exactly two lines, then nothing more:
//!
//! ```text
//! api http://127.0.0.1:PORT/2.0
//! upload http://127.0.0.1:PORT/api/2.0
//! ```
//!
//! Logs go to stderr (`RUST_LOG` filters them; default `info`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use box_emulator::{Emulator, EmulatorConfig, PartSizePolicy, UnchangedVersion};
use clap::{Parser, ValueEnum};

/// A local emulator of Box's upload API: upload sessions, direct uploads, new versions, the
/// preflight check and folders.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// The one bearer token accepted. Without it any non-empty bearer token is accepted, so
    /// anything that can reach the address can use the emulator.
    #[arg(long)]
    token: Option<String>,
    /// Smallest file size an upload session accepts (Box: 20 MB); direct uploads have none.
    #[arg(long, default_value_t = 20_000_000)]
    min_file_size: u64,
    /// Fixed part size in bytes (default: a Box-like table by file size).
    #[arg(long)]
    part_size: Option<u64>,
    /// How many 202 answers each commit gets before it succeeds.
    #[arg(long, default_value_t = 0)]
    commit_polls: u32,
    /// Retry-After seconds sent with those 202 answers.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Milliseconds a commit waits for the file's assembly before answering 202.
    #[arg(long, default_value_t = 5000)]
    assembly_wait_ms: u64,
    /// Session lifetime in seconds.
    #[arg(long, default_value_t = 7 * 24 * 60 * 60)]
    session_ttl: u64,
    /// Serve session_endpoints from a second port.
    #[arg(long)]
    second_host: bool,
    /// Store parts and files here (default: a temporary directory, deleted at exit).
    #[arg(long)]
    storage: Option<PathBuf>,
    /// Seed for probabilistic fault rules.
    #[arg(long)]
    seed: Option<u64>,
    /// Storage quota in bytes (the current versions of all files); uploads past it get 403
    /// storage_limit_exceeded. Default: unlimited.
    #[arg(long, value_name = "BYTES")]
    quota: Option<u64>,
    /// The answer to a commit of a new version whose content is the current version's.
    #[arg(long, value_enum, default_value_t = Unchanged::Accepted)]
    unchanged_version: Unchanged,
    /// Seconds a client may take to send a request's headers (and to send its first
    /// request on a new connection) before the connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    header_timeout: u64,
    /// Seconds without a byte of a request body, while the emulator reads it, before the
    /// request fails with 408 and the connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    body_idle_timeout: u64,
    /// Most connections served at once; more clients wait until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// A host name to accept in the Host header besides localhost, loopback addresses and the
    /// listening address (repeatable). Other names get 421, which keeps web pages out
    /// (DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
}

/// `--unchanged-version`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Unchanged {
    /// 202 with Retry-After on every commit, as Box answers; the session stays open.
    Accepted,
    /// Commit a new version anyway.
    NewVersion,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = EmulatorConfig {
        token: args.token,
        min_file_size: args.min_file_size,
        part_size: args
            .part_size
            .map_or(PartSizePolicy::BoxLike, PartSizePolicy::Fixed),
        commit_processing_polls: args.commit_polls,
        retry_after_secs: args.retry_after,
        assembly_wait: Duration::from_millis(args.assembly_wait_ms),
        session_ttl: Duration::from_secs(args.session_ttl),
        second_host: args.second_host,
        session_endpoints_base: None,
        storage_dir: args.storage,
        fault_seed: args.seed,
        quota: args.quota,
        unchanged_version: match args.unchanged_version {
            Unchanged::Accepted => UnchangedVersion::Accepted,
            Unchanged::NewVersion => UnchangedVersion::NewVersion,
        },
        header_read_timeout: Duration::from_secs(args.header_timeout),
        body_idle_timeout: Duration::from_secs(args.body_idle_timeout),
        max_connections: args.max_connections.max(1),
        allowed_hosts: args.allow_hosts,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(args.addr, config).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "api {}", emulator.api_url())?;
    writeln!(stdout, "upload {}", emulator.upload_url())?;
    stdout.flush()?;
    drop(stdout);
    eprintln!(
        "box-emulator: sessions at {}, storage in {}, fault seed {}",
        emulator.session_url(),
        emulator.storage_dir().display(),
        emulator.faults().seed()
    );
    wait_for_signal().await;
    eprintln!("box-emulator: shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
