//! The fault matrix: many small uploads, each against its own emulator that injects a random
//! mix of faults into a random share (5 % to 30 %) of all requests, and the invariants every
//! upload must keep whatever happens:
//!
//! - it commits a file whose stored bytes have the source's size and SHA-1, or it fails with
//!   a clear error (the step, part and byte range, session) and commits nothing; the one
//!   exception is [`UploadError::CommitOutcomeUnknown`] (the commit's answer was lost), where
//!   the file must be there, whole;
//! - no session the client knew of is left open, unless the error says it was kept; a
//!   session it never learned of (the answer to its creation was lost) holds no part;
//! - no wait is as long as the server asks: a `Retry-After` of years (on a 429, a 503, or
//!   a 202 to the commit) is waited for only up to the client's limit, then the upload
//!   fails saying so ([`UploadError::WaitTooLong`]), which no other fault may cause.
//!
//! Each upload draws everything (size, part size, concurrency, file or reader, fault rate,
//! the client's read timeout, emulator seed) from its own seed, derived from a master seed that is printed. Replay with
//! `FAULT_MATRIX_SEED=<master>` (and `FAULT_MATRIX_UPLOADS=<n>`, default 120), or one upload
//! with `FAULT_MATRIX_UPLOAD_SEED=<seed>`. With parts in parallel, requests may arrive in
//! another order in a replay, so the same upload may meet its faults on other requests.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use box_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, Op, PartSizePolicy};
use box_upload::{Client, Config, Error, RetryPolicy, UploadError, Uploader, servers};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sha1::{Digest, Sha1};

#[path = "../../upload/tests/common/mod.rs"]
mod common;
use common::hex;

/// Uploads in a default run.
const DEFAULT_UPLOADS: u64 = 120;
/// Uploads run at once (each with its own emulator).
const PARALLEL: usize = 4;
/// The uploader's limit of each call in the matrix: a hang costs this much when the
/// client's read timeout is the default.
const CALL_LIMIT: Duration = Duration::from_millis(1500);
/// The client's short read timeout (half the uploads): a hang of one attempt costs this
/// much, and the runtime tries the call again within the uploader's limit.
const SHORT_READ_TIMEOUT: Duration = Duration::from_millis(400);
/// A `Retry-After` of about 31 years: hostile, never to be waited for.
const YEARS: u64 = 999_999_999;
/// The longest wait the client allows a server to ask for (its `max_retry_after`).
const MAX_RETRY_AFTER: Duration = Duration::from_millis(300);

/// What one upload does, all drawn from its seed.
#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    size: u64,
    part_size: u64,
    concurrency: usize,
    /// The share of requests that meet a fault.
    rate: f64,
    /// A file on disk (else an in-memory reader).
    from_path: bool,
    /// Commits answered 202 before the emulator carries one out.
    processing_polls: u32,
    second_host: bool,
    /// The client's read timeout is [`SHORT_READ_TIMEOUT`] (else the default, longer than
    /// the uploader's limits).
    short_read_timeout: bool,
    /// A 202 to the commit asks for a wait of [`YEARS`] (else none).
    hostile_accepted_wait: bool,
}

impl Plan {
    fn new(seed: u64) -> Plan {
        let mut rng = StdRng::seed_from_u64(seed);
        let part_size = [64 * 1024, 100_000, 256 * 1024, 300_001][rng.random_range(0..4)];
        let mut size = rng.random_range(1_000_000..=3_000_000u64);
        if size % part_size == 0 {
            size += 1;
        }
        Plan {
            seed,
            size,
            part_size,
            concurrency: rng.random_range(1..=6),
            rate: rng.random_range(0.05..=0.30),
            from_path: rng.random_bool(0.5),
            processing_polls: rng.random_range(0..=2),
            second_host: rng.random_bool(0.5),
            short_read_timeout: rng.random_bool(0.5),
            hostile_accepted_wait: rng.random_bool(0.05),
        }
    }

    /// Every kind of fault, in equal shares; those that only make sense for commits are
    /// drawn for commits only.
    fn faults(&self) -> FaultAction {
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0xFA17);
        let mid_body = rng.random_range(1..self.part_size);
        let delay = Duration::from_millis(rng.random_range(20..150));
        FaultAction::one_of([
            (1, FaultAction::status(429)),
            (1, FaultAction::status(500)),
            (1, FaultAction::status(503)),
            (1, FaultAction::status(429).retry_after(YEARS)),
            (1, FaultAction::status(503).retry_after(YEARS)),
            (
                1,
                FaultAction::DropConnection {
                    after_bytes: mid_body,
                },
            ),
            (1, FaultAction::LoseResponse),
            (1, FaultAction::Delay(delay)),
            (1, FaultAction::Hang),
            (
                1,
                FaultAction::StallBody {
                    after_bytes: mid_body,
                },
            ),
            (1, FaultAction::CommitAccepted),
            (1, FaultAction::PartsMismatch),
        ])
    }
}

/// How one upload ended, as the totals count it.
#[derive(Debug, Default)]
struct Outcome {
    committed: bool,
    /// The error kind and message, for failures.
    failure: Option<(String, String)>,
    /// Sessions left open that the client never learned of.
    orphans: usize,
    faults: Vec<String>,
    requests: u64,
    breaches: Vec<String>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

/// A name for a fault, for the totals: `429`, `DropConnection`, ...
fn fault_kind(action: &FaultAction) -> String {
    match action {
        FaultAction::Status { status, .. } => status.to_string(),
        other => format!("{other:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// A name for the error of the call behind an upload error.
fn cause_kind(error: &Error) -> String {
    match error.status() {
        Some(status) => status.as_u16().to_string(),
        None if matches!(error, Error::Transport(_)) => "transport".into(),
        None => "other".into(),
    }
}

/// A name for an upload error, for the totals, or `Err` when no fault of the matrix may
/// cause it (a bug).
fn error_kind(error: &UploadError) -> Result<String, String> {
    Ok(match error {
        UploadError::SessionKept { source, .. } => format!("kept: {}", error_kind(source)?),
        UploadError::Part { source, .. } if source.is_retryable() => {
            format!("part {}", cause_kind(source))
        }
        UploadError::PartTimeout { .. } => "part timeout".into(),
        UploadError::Api { step, source, .. }
            if source.is_retryable() || source.status().is_some_and(|s| s.as_u16() == 400) =>
        {
            format!("{step:?} {}", cause_kind(source))
        }
        UploadError::Timeout { step, .. } => format!("{step:?} timeout"),
        UploadError::CommitTimeout { .. } => "commit deadline (202)".into(),
        UploadError::WaitTooLong {
            status,
            asked,
            limit,
            ..
        } if *asked >= Duration::from_secs(YEARS) && *limit == MAX_RETRY_AFTER => {
            format!("wait too long {status}")
        }
        UploadError::CommitOutcomeUnknown { .. } => "commit outcome unknown".into(),
        other => return Err(format!("an error no injected fault explains: {other:?}")),
    })
}

/// Whether the message names what failed: the part and its bytes, or the step, and the
/// session when there is one.
fn names_its_place(error: &UploadError, session: Option<&str>) -> bool {
    let message = error.to_string();
    let place = match error.cause() {
        UploadError::Part { number, range, .. }
        | UploadError::PartTimeout { number, range, .. } => {
            message.contains(&format!("part {number} (bytes {}-{})", range.0, range.1))
        }
        UploadError::Api { step, .. } | UploadError::Timeout { step, .. } => {
            message.contains(&step.to_string())
        }
        UploadError::WaitTooLong { during, .. } => message.contains(during.as_str()),
        _ => true,
    };
    place && session.is_none_or(|id| message.contains(id))
}

async fn run_one(plan: Plan, client_retry: RetryPolicy) -> Outcome {
    let config = EmulatorConfig {
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(plan.part_size),
        retry_after_secs: if plan.hostile_accepted_wait { YEARS } else { 0 },
        commit_processing_polls: plan.processing_polls,
        second_host: plan.second_host,
        fault_seed: Some(plan.seed),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("the emulator starts");
    emulator
        .faults()
        .add(FaultRule::new(Op::Any, plan.faults()).probability(plan.rate));
    let mut config = Config::bearer("matrix-token")
        .base_url(&servers::UPLOAD, emulator.upload_url())
        .base_url(&servers::UPLOAD_SESSION, emulator.upload_url())
        .base_url(&servers::API, emulator.api_url())
        .retry(client_retry);
    if plan.short_read_timeout {
        config = config.read_timeout(Some(SHORT_READ_TIMEOUT));
    }
    let client = Client::new(config).expect("a client");

    let mut bytes = vec![0u8; plan.size as usize];
    StdRng::seed_from_u64(plan.seed).fill_bytes(&mut bytes);
    let sha1 = hex(&Sha1::digest(&bytes));
    let sessions: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = sessions.clone();
    let uploader = Uploader::new(client)
        .min_file_size(1)
        .direct_upload_threshold(0)
        .concurrency(plan.concurrency)
        .retry_pause(Duration::from_millis(10))
        .part_timeout(CALL_LIMIT)
        .request_timeout(CALL_LIMIT)
        .commit_deadline(Duration::from_secs(20))
        .on_progress(move |p| {
            let mut seen = seen.lock().unwrap();
            if !seen.iter().any(|s| **s == *p.session_id) {
                seen.push(p.session_id.to_string());
            }
        });
    let name = format!("matrix-{}.bin", plan.seed);
    let result = if plan.from_path {
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        file.write_all(&bytes).expect("write the source");
        uploader.upload_path(file.path(), "0", &name).await
    } else {
        let reader = std::io::Cursor::new(bytes);
        uploader.upload_reader(reader, plan.size, "0", &name).await
    };

    let mut outcome = Outcome::default();
    let mut breaches = Vec::new();
    let mut breach = |what: String| breaches.push(what);
    let known = sessions.lock().unwrap().clone();
    let stored = emulator.find_file("0", &name);
    let intact = |file: &box_emulator::StoredFile| {
        let on_disk = std::fs::read(&file.path).expect("read the stored file");
        file.size == plan.size && file.sha1 == sha1 && hex(&Sha1::digest(&on_disk)) == sha1
    };
    match &result {
        Ok(file) => {
            outcome.committed = true;
            if file.sha1.as_deref() != Some(sha1.as_str()) || file.size != Some(plan.size as i64) {
                breach(format!(
                    "committed {file:?}, but the source has SHA-1 {sha1}"
                ));
            }
            match &stored {
                Some(stored) if stored.id == file.id && intact(stored) => {}
                other => breach(format!("committed file {} is stored as {other:?}", file.id)),
            }
        }
        Err(error) => {
            match error_kind(error) {
                Ok(kind) => outcome.failure = Some((kind, error.to_string())),
                Err(why) => breach(why),
            }
            if !names_its_place(error, known.first().map(String::as_str)) {
                breach(format!("the error does not say where it failed: {error}"));
            }
            let unknown_outcome = matches!(error.cause(), UploadError::CommitOutcomeUnknown { .. });
            match (&stored, unknown_outcome) {
                (None, false) => {}
                (Some(stored), true) if intact(stored) => {}
                (stored, _) => breach(format!("after `{error}` the folder holds {stored:?}")),
            }
        }
    }
    let kept = result.as_ref().err().and_then(UploadError::kept_session);
    let stats = emulator.stats();
    for open in emulator.open_sessions() {
        if known.contains(&open) {
            if kept != Some(open.as_str()) {
                breach(format!(
                    "session {open} is left open and the client was not told"
                ));
            }
        } else if stats.part_uploads.iter().any(|u| u.session_id == open) {
            breach(format!(
                "session {open}, unknown to the client, holds parts"
            ));
        } else {
            outcome.orphans += 1;
        }
    }
    outcome.requests = stats.requests(Op::Any);
    outcome.faults = emulator
        .faults()
        .fired()
        .iter()
        .map(|f| fault_kind(&f.action))
        .collect();
    if !breaches.is_empty() {
        let fired: Vec<String> = emulator
            .faults()
            .fired()
            .iter()
            .map(|f| f.to_string())
            .collect();
        breaches.push(format!("{plan:?}; result {result:?}; faults {fired:#?}"));
    }
    outcome.breaches = breaches;
    emulator.shutdown().await;
    outcome
}

/// Adds `key` to a count.
fn count(counts: &mut BTreeMap<String, u64>, key: impl Into<String>) {
    *counts.entry(key.into()).or_default() += 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_survive_random_faults_or_fail_cleanly() {
    let master = env_u64("FAULT_MATRIX_SEED").unwrap_or_else(rand::random);
    let seeds: Vec<u64> = match env_u64("FAULT_MATRIX_UPLOAD_SEED") {
        Some(seed) => vec![seed],
        None => {
            let uploads = env_u64("FAULT_MATRIX_UPLOADS").unwrap_or(DEFAULT_UPLOADS);
            (0..uploads).map(|i| splitmix(master ^ i)).collect()
        }
    };
    eprintln!(
        "fault matrix: master seed {master}, {} uploads (replay: FAULT_MATRIX_SEED={master} \
         FAULT_MATRIX_UPLOADS={})",
        seeds.len(),
        seeds.len()
    );
    // Quick retries, so that many uploads fit in a short test; their number is the default.
    let retry = RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_retry_after: MAX_RETRY_AFTER,
        ..RetryPolicy::default()
    };
    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    for seed in seeds.iter().copied() {
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is open");
        let retry = retry.clone();
        tasks.spawn(async move {
            let plan = Plan::new(seed);
            let outcome = run_one(plan.clone(), retry).await;
            drop(permit);
            (plan, outcome)
        });
    }

    let (mut committed, mut orphans, mut requests) = (0u64, 0usize, 0u64);
    // Uploads that failed because a server asked for years: a failure by design.
    let mut refused_waits = 0u64;
    let mut failures = BTreeMap::new();
    let mut faults = BTreeMap::new();
    let mut breaches = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (plan, outcome) = done.expect("an upload task ends");
        committed += u64::from(outcome.committed);
        orphans += outcome.orphans;
        requests += outcome.requests;
        if let Some((kind, message)) = outcome.failure {
            eprintln!("  upload seed {} failed cleanly: {message}", plan.seed);
            refused_waits += u64::from(kind.contains("wait too long"));
            count(&mut failures, kind);
        }
        for kind in outcome.faults {
            count(&mut faults, kind);
        }
        for what in outcome.breaches {
            breaches.push(format!(
                "upload seed {} (replay: FAULT_MATRIX_UPLOAD_SEED={}): {what}",
                plan.seed, plan.seed
            ));
        }
    }
    let uploads = seeds.len() as u64;
    let fired: u64 = faults.values().sum();
    eprintln!(
        "fault matrix: {uploads} uploads in {:.1} s: {committed} committed, {} failed; \
         {requests} requests, {fired} faults\n  failures by kind: {failures:?}\n  faults \
         by kind: {faults:?}\n  sessions left open that the client never learned of: \
         {orphans}",
        started.elapsed().as_secs_f64(),
        uploads - committed,
    );
    assert!(
        breaches.is_empty(),
        "{} invariant breaches (master seed {master}; replay: FAULT_MATRIX_SEED={master} \
         FAULT_MATRIX_UPLOADS={uploads}):\n{}",
        breaches.len(),
        breaches.join("\n")
    );
    // With the runtime's and the engine's retries, a failure takes several faults in a row
    // on the same call: most uploads must commit.
    let replaying_one = seeds.len() == 1;
    assert!(
        replaying_one || committed * 10 >= (uploads - refused_waits) * 9,
        "only {committed} of {uploads} uploads committed (master seed {master}): {failures:?}"
    );
}
