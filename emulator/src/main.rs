//! `box-emulator`: runs the emulator until Ctrl-C or SIGTERM.
//!
//! On stdout it prints these lines at once, then nothing more (one `refresh-token` line per
//! `--refresh-token`):
//!
//! ```text
//! api http://127.0.0.1:PORT/2.0
//! upload http://127.0.0.1:PORT/api/2.0
//! oauth http://127.0.0.1:PORT
//! refresh-token CLIENT_ID TOKEN
//! ```
//!
//! Logs go to stderr (`RUST_LOG` filters them; default `info`). Bad options end it with a
//! message on stderr and exit status 2.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use box_emulator::{Emulator, EmulatorConfig, OAuthClient, PartSizePolicy, UnchangedVersion};
use clap::{Parser, ValueEnum};

/// How the token endpoint is used, after the options in `--help`.
const TOKEN_HELP: &str = "\
Token endpoint (form bodies, at the root printed as `oauth URL`):
  POST /oauth2/token  grant_type=client_credentials: client_id, client_secret,
                        box_subject_type (enterprise|user), box_subject_id
                      grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer: client_id,
                        client_secret, assertion (RS256 JWT: iss=client_id, sub,
                        box_sub_type, aud=https://api.box.com/oauth2/token, jti, exp <= 60 s)
                      grant_type=refresh_token: client_id, client_secret, refresh_token
                        (rotates: the answer holds the next one, the old one is refused)
  POST /oauth2/revoke client_id, client_secret, token
Answers: 200 {access_token, expires_in, token_type: bearer, restricted_to: [],
refresh_token?}; 400 {error, error_description}. Stdout: `api URL`, `upload URL`,
`oauth URL`, then one `refresh-token CLIENT_ID TOKEN` per --refresh-token.";

/// A local emulator of Box's upload API: upload sessions, direct uploads, new versions, the
/// preflight check and folders, and Box's token endpoint (POST /oauth2/token and
/// /oauth2/revoke at the root of the address: client credentials, JWT and refresh tokens).
#[derive(Debug, Parser)]
#[command(version, about, after_help = TOKEN_HELP)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// A bearer token always accepted (a developer token). With neither it nor --client, any
    /// non-empty bearer token is accepted, so anything that can reach the address can use
    /// the emulator.
    #[arg(long)]
    token: Option<String>,
    /// An OAuth client (a Box app) that /oauth2/token grants tokens to (repeatable). Turns
    /// token checking on: besides --token, only access tokens the emulator issued, neither
    /// expired nor revoked, are accepted; others get 401 with
    /// `WWW-Authenticate: Bearer realm="Service", error="invalid_token", ...`.
    #[arg(long = "client", value_name = "ID:SECRET")]
    clients: Vec<OAuthClient>,
    /// The RSA public key (PEM: SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY") that JWT
    /// assertions must be signed with (RS256, RS384 or RS512). Without it the JWT grant
    /// answers unauthorized_client.
    #[arg(long, value_name = "PEM_FILE")]
    jwt_public_key: Option<PathBuf>,
    /// The id of that key (Box's publicKeyID): an assertion's `kid`, when it has one, must
    /// be this.
    #[arg(long, value_name = "ID", requires = "jwt_public_key")]
    jwt_key_id: Option<String>,
    /// Lifetime of the access tokens the emulator issues (their expires_in).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    token_ttl: u64,
    /// Issue a refresh token for this --client at start and print it as
    /// `refresh-token CLIENT_ID TOKEN` (repeatable): what a user's authorization of the app
    /// would hand out. Each refresh_token grant invalidates the one it used and returns the
    /// next (refresh tokens rotate).
    #[arg(long = "refresh-token", value_name = "CLIENT_ID")]
    refresh_tokens: Vec<String>,
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
    /// Simulate a wide-area link: each connection receives request bodies at most this
    /// fast, in bytes per second (for benchmarks).
    #[arg(long, value_name = "BYTES_PER_SEC")]
    link_bandwidth: Option<u64>,
    /// Simulate a wide-area link: each request waits this long before it is handled.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    link_latency_ms: u64,
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
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("box-emulator: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    for client_id in &args.refresh_tokens {
        if !args.clients.iter().any(|c| &c.id == client_id) {
            return Err(format!(
                "--refresh-token {client_id}: no --client has that id"
            ));
        }
    }
    let jwt_public_key = match &args.jwt_public_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("--jwt-public-key {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let config = EmulatorConfig {
        token: args.token,
        clients: args.clients,
        jwt_public_key,
        jwt_key_id: args.jwt_key_id,
        token_ttl: Duration::from_secs(args.token_ttl),
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
        link_bandwidth: args.link_bandwidth,
        link_latency: Duration::from_millis(args.link_latency_ms),
        ..EmulatorConfig::default()
    };
    let emulator =
        Emulator::start(args.addr, config)
            .await
            .map_err(|e| match &args.jwt_public_key {
                Some(path) if e.kind() == std::io::ErrorKind::InvalidInput => {
                    format!("--jwt-public-key {}: {e}", path.display())
                }
                _ => format!("cannot start: {e}"),
            })?;
    let mut lines = format!(
        "api {}\nupload {}\noauth {}\n",
        emulator.api_url(),
        emulator.upload_url(),
        emulator.oauth_url()
    );
    for client_id in &args.refresh_tokens {
        let token = emulator.issue_refresh_token(client_id);
        lines.push_str(&format!("refresh-token {client_id} {token}\n"));
    }
    // One write: a reader that stops after the lines it wants (and closes the pipe) cannot
    // make a later line fail.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(lines.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
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
