//! Helpers shared by the upload engine's tests: an emulator with a client, and seeded
//! source files whose SHA-1 is known.

#![allow(dead_code)] // Each test file uses its own part of these helpers.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use box_emulator::{Emulator, EmulatorConfig, PartSizePolicy};
use box_upload::{Client, Config, FileFull, RetryPolicy, Uploader, servers};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha1::{Digest, Sha1};

pub const MIB: u64 = 1024 * 1024;

pub struct Fixture {
    pub emulator: Emulator,
    pub client: Client,
}

/// An emulator with fixed parts, whose session endpoints are on a second port (so a client
/// that rebuilds URLs instead of following them is seen), and a client with quick retries.
pub async fn fixture(part_size: u64, tune: impl FnOnce(&mut EmulatorConfig)) -> Fixture {
    let mut config = EmulatorConfig {
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(part_size),
        retry_after_secs: 0,
        second_host: true,
        fault_seed: Some(7),
        ..EmulatorConfig::default()
    };
    tune(&mut config);
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("the emulator starts");
    let client = Client::new(client_config(&emulator)).expect("a client");
    Fixture { emulator, client }
}

/// A client configuration for `emulator`, with quick retries.
pub fn client_config(emulator: &Emulator) -> Config {
    let retry = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    Config::bearer("test-token")
        .base_url(&servers::UPLOAD, emulator.upload_url())
        .base_url(&servers::UPLOAD_SESSION, emulator.upload_url())
        .base_url(&servers::API, emulator.api_url())
        .retry(retry)
}

impl Fixture {
    /// An uploader for tests of the chunked upload: no minimum size, every non-empty file
    /// in parts (no direct uploads), short pauses.
    pub fn uploader(&self) -> Uploader {
        Uploader::new(self.client.clone())
            .min_file_size(1)
            .direct_upload_threshold(0)
            .retry_pause(Duration::from_millis(20))
    }

    /// Checks the committed file against the source, byte for byte (through its SHA-1 read
    /// from the emulator's storage), and that no session is left open.
    pub fn assert_committed(&self, file: &FileFull, source: &SourceFile) {
        let stored = self
            .emulator
            .committed_file(&file.id)
            .expect("the committed file is in the emulator");
        assert_eq!(stored.size, source.len, "stored size");
        assert_eq!(sha1_of_file(&stored.path), source.sha1, "stored content");
        assert_eq!(stored.sha1, source.sha1, "the emulator's SHA-1");
        assert_eq!(
            file.sha1.as_deref(),
            Some(source.sha1.as_str()),
            "answered SHA-1"
        );
        assert_eq!(file.size, Some(source.len as i64), "answered size");
        assert!(
            self.emulator.open_sessions().is_empty(),
            "sessions left open: {:?}",
            self.emulator.open_sessions()
        );
    }
}

/// A temporary file of seeded random bytes.
pub struct SourceFile {
    pub file: tempfile::NamedTempFile,
    pub len: u64,
    pub sha1: String,
}

impl SourceFile {
    pub fn new(len: u64, seed: u64) -> SourceFile {
        let bytes = random_bytes(len, seed);
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        file.write_all(&bytes).expect("write the source");
        file.flush().expect("flush the source");
        SourceFile {
            file,
            len,
            sha1: hex(&Sha1::digest(&bytes)),
        }
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The file's modification time in whole seconds, as `content_modified_at` carries it.
    pub fn mtime_secs(&self) -> i64 {
        let modified = std::fs::metadata(self.path()).unwrap().modified().unwrap();
        modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }
}

pub fn random_bytes(len: u64, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; len as usize];
    StdRng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha1_of_file(path: &Path) -> String {
    let mut file = std::fs::File::open(path).expect("open the stored file");
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).expect("read the stored file");
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    hex(&hasher.finalize())
}

/// How the `box-upload` command ended.
pub struct CommandOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `box-upload` command with `args`, `BOX_TOKEN=token`, and `upload_url` as both
/// the API and the upload root (the emulator serves every operation under both), with a
/// state directory of its own.
pub fn run_upload_command(upload_url: &str, token: &str, args: &[&str]) -> CommandOutput {
    // Only this package's tests have it (the workspace tests share this file).
    let Some(program) = option_env!("CARGO_BIN_EXE_box-upload") else {
        panic!("the box-upload command is built for box-upload's own tests only");
    };
    let state = tempfile::tempdir().expect("a state directory");
    let output = Command::new(program)
        .args(args)
        .env("BOX_TOKEN", token)
        .env("BOX_API_URL", upload_url)
        .env("BOX_UPLOAD_URL", upload_url)
        .env("XDG_STATE_HOME", state.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the command runs");
    CommandOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Asserts that `message` holds every needle.
pub fn assert_says(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            message.contains(needle),
            "{needle:?} is missing from: {message}"
        );
    }
}
