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

use box_emulator::{Emulator, EmulatorConfig, PartSizePolicy};
use clap::Parser;

/// A local emulator of Box's upload-session API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// The one bearer token accepted (default: any non-empty token).
    #[arg(long)]
    token: Option<String>,
    /// Smallest file size a session accepts.
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
