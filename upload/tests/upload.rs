//! The upload engine against the Box emulator: big files at several concurrencies, injected
//! faults, resume, cancellation, and the errors that must stop an upload.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use box_emulator::{Emulator, FaultAction, FaultRule, Op};
use box_upload::{
    CancellationToken, Client, Phase, Progress, RetryPolicy, Source, Step, UploadError, Uploader,
};
use sha1::{Digest, Sha1};

mod common;
use common::{Fixture, MIB, SourceFile, client_config, fixture, hex, random_bytes, sha1_of_file};

/// The part size of the big-file tests.
const PART: u64 = 4 * MIB;
/// At least 50 MB and not a multiple of `PART`: 11 full parts and a short one.
const BIG: u64 = 50_000_000 + 12_345;
const BIG_PARTS: u64 = BIG.div_ceil(PART);

/// Every progress report, kept for checks.
#[derive(Clone, Default)]
struct Reports(Arc<Mutex<Vec<Progress>>>);

impl Reports {
    fn sink(&self) -> impl Fn(&Progress) + Send + Sync + 'static {
        let reports = self.0.clone();
        move |p: &Progress| reports.lock().unwrap().push(p.clone())
    }

    fn all(&self) -> Vec<Progress> {
        self.0.lock().unwrap().clone()
    }
}

/// Part uploads of `session` answered 200, by offset.
fn stored_offsets(emulator: &Emulator, session: &str) -> Vec<u64> {
    let mut offsets: Vec<u64> = emulator
        .stats()
        .part_uploads
        .iter()
        .filter(|u| u.session_id == session && u.status == Some(200))
        .filter_map(|u| u.offset)
        .collect();
    offsets.sort_unstable();
    offsets
}

async fn big_file(concurrency: usize) {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(BIG, concurrency as u64);
    let reports = Reports::default();
    let started = Instant::now();
    let file = fx
        .uploader()
        .concurrency(concurrency)
        .on_progress(reports.sink())
        .upload_path(source.path(), "0", "big.bin")
        .await
        .expect("the upload succeeds");
    eprintln!(
        "concurrency {concurrency}: {BIG} bytes in {:?}",
        started.elapsed()
    );
    fx.assert_committed(&file, &source);
    assert_eq!(file.name.as_deref(), Some("big.bin"));
    assert_eq!(
        file.content_modified_at.map(|t| t.timestamp()),
        Some(source.mtime_secs()),
        "content_modified_at is the file's mtime"
    );

    let stats = fx.emulator.stats();
    assert_eq!(stats.parts_stored, BIG_PARTS);
    assert_eq!(stats.parts_repeated, 0);
    assert_eq!(
        stats.requests(Op::UploadPart),
        BIG_PARTS,
        "each part sent once"
    );
    assert_eq!(stats.requests(Op::Commit), 1);
    assert_eq!(stats.requests(Op::Abort), 0);
    // Every call after the creation went to the session's endpoints (the second port).
    assert_eq!(stats.second_host_requests, BIG_PARTS + 1);

    let reports = reports.all();
    let last = reports.last().expect("progress reports");
    assert_eq!(last.phase, Phase::Done);
    assert_eq!(
        (last.uploaded_bytes, last.sent_bytes, last.read_bytes),
        (BIG, BIG, BIG)
    );
    assert_eq!(
        (last.uploaded_parts, last.total_parts),
        (BIG_PARTS, BIG_PARTS)
    );
    // Memory stays bounded: never more than `concurrency` parts read and not yet confirmed.
    let ahead = reports
        .iter()
        .map(|p| p.read_bytes - p.uploaded_bytes)
        .max()
        .unwrap();
    assert!(
        ahead <= concurrency as u64 * PART,
        "{ahead} bytes read ahead at concurrency {concurrency}"
    );
    assert!(
        reports
            .windows(2)
            .all(|w| w[0].uploaded_bytes <= w[1].uploaded_bytes)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_file_at_concurrency_1() {
    big_file(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_file_at_concurrency_8() {
    big_file(8).await;
}

/// 429, 500, a connection dropped in the middle of a part, a lost answer, commit 202 three
/// times and one `parts_mismatch`: the upload still succeeds, byte for byte.
async fn big_file_with_faults(concurrency: usize) {
    let fx = fixture(PART, |_| {}).await;
    let faults = fx.emulator.faults();
    faults.add(
        FaultRule::new(Op::UploadPart, FaultAction::status(429))
            .times(2)
            .at_offset(PART),
    );
    faults.add(
        FaultRule::new(Op::UploadPart, FaultAction::status(500))
            .times(2)
            .at_offset(3 * PART),
    );
    faults.add(
        FaultRule::new(
            Op::UploadPart,
            FaultAction::DropConnection {
                after_bytes: PART / 2,
            },
        )
        .at_offset(5 * PART),
    );
    faults.add(FaultRule::new(Op::UploadPart, FaultAction::LoseResponse).at_offset(7 * PART));
    faults.add(FaultRule::new(Op::Commit, FaultAction::CommitAccepted).times(3));
    faults.add(FaultRule::new(Op::Commit, FaultAction::PartsMismatch));

    let source = SourceFile::new(BIG + 1, 100 + concurrency as u64);
    let file = fx
        .uploader()
        .concurrency(concurrency)
        .upload_path(source.path(), "0", "faulty.bin")
        .await
        .expect("the upload succeeds despite the faults");
    fx.assert_committed(&file, &source);

    assert_eq!(
        faults.fired().len(),
        2 + 2 + 1 + 1 + 3 + 1,
        "{:?}",
        faults.fired()
    );
    let stats = fx.emulator.stats();
    let session = &stats.part_uploads[0].session_id;
    assert_eq!(stats.part_uploads_at(session, PART), 3);
    assert_eq!(stats.part_uploads_at(session, 3 * PART), 3);
    assert_eq!(stats.part_uploads_at(session, 5 * PART), 2);
    assert_eq!(stats.part_uploads_at(session, 7 * PART), 2);
    assert_eq!(stats.parts_stored, BIG_PARTS);
    assert_eq!(stats.parts_repeated, 1, "the part whose answer was lost");
    assert_eq!(stats.commits_accepted, 3);
    assert_eq!(stats.requests(Op::Commit), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_file_with_faults_at_concurrency_1() {
    big_file_with_faults(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_file_with_faults_at_concurrency_8() {
    big_file_with_faults(8).await;
}

#[tokio::test]
async fn a_part_failing_past_the_runtime_retries_is_sent_again() {
    let fx = fixture(MIB, |_| {}).await;
    // The runtime makes 5 attempts; the engine sends the part again and the 7th succeeds.
    fx.emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::status(503))
            .times(6)
            .at_offset(MIB),
    );
    let source = SourceFile::new(3 * MIB + 5, 1);
    let file = fx
        .uploader()
        .upload_path(source.path(), "0", "retried.bin")
        .await
        .expect("the upload succeeds");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.part_uploads_at(&stats.part_uploads[0].session_id, MIB),
        7
    );
}

#[tokio::test]
async fn a_part_failing_for_ever_fails_the_upload_and_aborts() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::status(500))
            .probability(1.0)
            .at_offset(2 * MIB),
    );
    let source = SourceFile::new(3 * MIB + 5, 2);
    let error = fx
        .uploader()
        .part_retries(1)
        .upload_path(source.path(), "0", "doomed.bin")
        .await
        .expect_err("the upload fails");
    let UploadError::Part {
        number,
        range,
        source: cause,
        ..
    } = &error
    else {
        panic!("not a part error: {error:?}");
    };
    assert_eq!((*number, *range), (3, (2 * MIB, 3 * MIB - 1)));
    assert_eq!(cause.status().map(|s| s.as_u16()), Some(500));
    // Runtime attempts (5) times engine sends (1 + 1).
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.part_uploads_at(&stats.part_uploads[0].session_id, 2 * MIB),
        10
    );
    assert!(fx.emulator.open_sessions().is_empty());
    assert_eq!(stats.requests(Op::Abort), 1);
}

/// A fatal error (409 conflict, 412 digest mismatch, 416 range) aborts the session and
/// names the part and its bytes.
#[tokio::test]
async fn fatal_part_errors_abort_the_session() {
    for status in [409, 412, 416] {
        let fx = fixture(MIB, |_| {}).await;
        fx.emulator
            .faults()
            .add(FaultRule::new(Op::UploadPart, FaultAction::status(status)).at_offset(2 * MIB));
        let source = SourceFile::new(4 * MIB + 1, 3);
        let error = fx
            .uploader()
            .concurrency(2)
            .upload_path(source.path(), "0", "fatal.bin")
            .await
            .expect_err("the upload fails");
        assert!(
            matches!(error, UploadError::Part { number: 3, range: (a, b), .. }
                if a == 2 * MIB && b == 3 * MIB - 1),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("part 3 (bytes 2097152-3145727)")
                && message.contains(&status.to_string()),
            "{message}"
        );
        let stats = fx.emulator.stats();
        assert_eq!(
            stats.part_uploads_at(&stats.part_uploads[0].session_id, 2 * MIB),
            1,
            "{status} is not retried"
        );
        assert_eq!(stats.requests(Op::Abort), 1);
        assert!(
            fx.emulator.open_sessions().is_empty(),
            "{status}: a session is left open"
        );
        assert_eq!(stats.requests(Op::Commit), 0);
    }
}

#[tokio::test]
async fn a_file_below_the_default_threshold_goes_in_one_request() {
    // Box's defaults (20 MB chunked minimum, 50 MB threshold): 1 MiB is one request and
    // no session; from 1 MiB on (DEFAULT_PREFLIGHT_FROM) the preflight check goes first.
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(MIB, 4);
    let outcome = Uploader::new(fx.client.clone())
        .upload(Source::path(source.path()), "0", "small.bin")
        .await
        .expect("a small file is uploaded");
    assert_eq!(outcome.label(), "uploaded");
    fx.assert_committed(outcome.file().expect("a file"), &source);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadFile), 1);
    assert_eq!(stats.requests(Op::PreflightUpload), 1);
    assert_eq!(stats.requests(Op::CreateSession), 0);
}

#[tokio::test]
async fn a_missing_file_fails_with_its_path() {
    let fx = fixture(MIB, |_| {}).await;
    let error = fx
        .uploader()
        .upload_path("/nonexistent/file.bin", "0", "x.bin")
        .await
        .expect_err("no such file");
    assert!(matches!(error, UploadError::Io { .. }), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/file.bin"),
        "{error}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::Any), 0);
}

/// Changes the file (once) when the first part is confirmed.
fn change_after_first_part(
    path: &Path,
    change: impl Fn(&Path) + Send + Sync + 'static,
) -> impl Fn(&Progress) + Send + Sync + 'static {
    let path = path.to_path_buf();
    let done = AtomicBool::new(false);
    move |p: &Progress| {
        if p.uploaded_parts == 1 && !done.swap(true, Ordering::SeqCst) {
            change(&path);
        }
    }
}

#[tokio::test]
async fn a_file_that_changes_during_the_upload_stops_it() {
    type Change = fn(&Path);
    let touch: Change = |path| {
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000))
            .unwrap();
    };
    let append: Change = |path| {
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        file.write_all(b"more").unwrap();
    };
    for (change, expected) in [(touch, "modification time"), (append, "size")] {
        let fx = fixture(MIB, |_| {}).await;
        let source = SourceFile::new(4 * MIB + 7, 5);
        let error = fx
            .uploader()
            .concurrency(1)
            .on_progress(change_after_first_part(source.path(), change))
            .upload_path(source.path(), "0", "moving.bin")
            .await
            .expect_err("the upload stops");
        assert!(
            matches!(error, UploadError::SourceChanged { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(expected), "{error}");
        let stats = fx.emulator.stats();
        assert_eq!(
            stats.requests(Op::UploadPart),
            1,
            "stopped at the next read"
        );
        assert_eq!(stats.requests(Op::Commit), 0);
        assert!(fx.emulator.open_sessions().is_empty());
    }
}

/// A file replaced after its last part was read (but before the commit) is caught too.
#[tokio::test]
async fn a_file_changed_after_its_last_read_is_not_committed() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(2 * MIB + 7, 6);
    let path = source.path().to_path_buf();
    let done = AtomicBool::new(false);
    let error = fx
        .uploader()
        .concurrency(1)
        .on_progress(move |p| {
            if p.read_bytes == p.total_bytes && !done.swap(true, Ordering::SeqCst) {
                let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                file.set_modified(SystemTime::UNIX_EPOCH).unwrap();
            }
        })
        .upload_path(source.path(), "0", "late.bin")
        .await
        .expect_err("the upload stops");
    assert!(
        matches!(error, UploadError::SourceChanged { .. }),
        "{error:?}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::Commit), 0);
    assert!(fx.emulator.open_sessions().is_empty());
}

/// Half-way through, a part fails fatally and the session is kept; the resume lists the
/// stored parts, checks them against the file and uploads only the missing ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_failure_uploads_only_the_missing_parts() {
    let fx = fixture(PART, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(6 * PART));
    let source = SourceFile::new(BIG, 8);
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_failure(false)
        .upload_path(source.path(), "0", "resumed.bin")
        .await
        .expect_err("the first run fails");
    let session = error
        .kept_session()
        .expect("the session is kept")
        .to_string();
    assert!(
        matches!(error.cause(), UploadError::Part { number: 7, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&session), "{error}");
    assert_eq!(fx.emulator.open_sessions(), vec![session.clone()]);
    let before = stored_offsets(&fx.emulator, &session);
    assert_eq!(before, (0..6).map(|i| i * PART).collect::<Vec<_>>());
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);

    let reports = Reports::default();
    let file = fx
        .uploader()
        .concurrency(4)
        .on_progress(reports.sink())
        .resume(&session, Source::path(source.path()))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.requests(Op::UploadPart) - uploads_before,
        BIG_PARTS - 6,
        "only the missing parts are sent"
    );
    assert_eq!(stats.parts_stored, BIG_PARTS);
    assert_eq!(stats.parts_repeated, 0);
    assert_eq!(stats.requests(Op::GetSession), 1);
    assert!(stats.requests(Op::ListParts) >= 1);
    let last = reports.all().last().cloned().unwrap();
    assert_eq!(last.uploaded_bytes, BIG);
    assert_eq!(last.sent_bytes, BIG - 6 * PART);
}

/// Cancelled half-way with a token: the session is kept, and the resume finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_cancel_uploads_only_the_missing_parts() {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(BIG, 9);
    let token = CancellationToken::new();
    let cancel = token.clone();
    let error = fx
        .uploader()
        .concurrency(1)
        .cancel_token(token)
        .on_progress(move |p| {
            if p.uploaded_parts == 6 {
                cancel.cancel();
            }
        })
        .upload_path(source.path(), "0", "cancelled.bin")
        .await
        .expect_err("cancelled");
    assert!(error.is_cancelled(), "{error:?}");
    let session = error.kept_session().expect("kept").to_string();
    assert_eq!(fx.emulator.open_sessions(), vec![session.clone()]);
    assert_eq!(stored_offsets(&fx.emulator, &session).len(), 6);
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);

    let file = fx
        .uploader()
        .concurrency(8)
        .resume(&session, Source::path(source.path()))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.requests(Op::UploadPart) - uploads_before,
        BIG_PARTS - 6
    );
    assert_eq!(stats.parts_repeated, 0);
}

#[tokio::test]
async fn resume_with_another_source_is_refused_and_keeps_the_session() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(2 * MIB));
    let source = SourceFile::new(4 * MIB + 3, 10);
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_failure(false)
        .upload_path(source.path(), "0", "a.bin")
        .await
        .expect_err("the first run fails");
    let session = error.kept_session().unwrap().to_string();
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);

    // Same size, other bytes.
    let other = SourceFile::new(4 * MIB + 3, 11);
    let error = fx
        .uploader()
        .resume(&session, Source::path(other.path()))
        .await
        .expect_err("another file");
    assert!(
        matches!(error, UploadError::ResumeMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("part 1 (bytes 0-1048575)"),
        "{error}"
    );
    // Another size.
    let other = SourceFile::new(9 * MIB, 12);
    let error = fx
        .uploader()
        .resume(&session, Source::path(other.path()))
        .await
        .expect_err("another size");
    assert!(
        matches!(error, UploadError::ResumeMismatch { .. }),
        "{error:?}"
    );

    let stats = fx.emulator.stats();
    assert_eq!(
        stats.requests(Op::UploadPart),
        uploads_before,
        "nothing sent"
    );
    assert_eq!(stats.requests(Op::Abort), 0);
    assert_eq!(fx.emulator.open_sessions(), vec![session.clone()]);

    // The right file still finishes it.
    let file = fx
        .uploader()
        .resume(&session, Source::path(source.path()))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
}

#[tokio::test]
async fn resuming_an_expired_session_says_so() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(MIB));
    let source = SourceFile::new(2 * MIB + 3, 13);
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_failure(false)
        .upload_path(source.path(), "0", "old.bin")
        .await
        .expect_err("the first run fails");
    let session = error.kept_session().unwrap().to_string();
    fx.emulator.expire_session(&session);
    for id in [session.as_str(), "999999"] {
        let error = fx
            .uploader()
            .resume(id, Source::path(source.path()))
            .await
            .expect_err("expired");
        assert!(
            matches!(&error, UploadError::SessionExpired { session_id } if session_id == id),
            "{error:?}"
        );
        assert!(error.to_string().contains("expired"), "{error}");
    }
}

#[tokio::test]
async fn cancel_with_abort_on_cancel_aborts_the_session() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(4 * MIB + 1, 14);
    let token = CancellationToken::new();
    let cancel = token.clone();
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_cancel(true)
        .cancel_token(token)
        .on_progress(move |p| {
            if p.uploaded_parts == 1 {
                cancel.cancel();
            }
        })
        .upload_path(source.path(), "0", "gone.bin")
        .await
        .expect_err("cancelled");
    assert!(matches!(error, UploadError::Cancelled), "{error:?}");
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadPart), 1);
    assert_eq!(stats.requests(Op::Abort), 1);
    assert!(fx.emulator.open_sessions().is_empty());
}

/// Waits (boundedly) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Dropping the future stops the upload; by default the session is kept and can be
/// resumed, with `abort_on_cancel` it is aborted in the background.
#[tokio::test]
async fn dropping_the_future_stops_the_upload() {
    for abort in [false, true] {
        let fx = fixture(MIB, |_| {}).await;
        fx.emulator
            .faults()
            .add(FaultRule::new(Op::UploadPart, FaultAction::Hang).at_offset(2 * MIB));
        let source = SourceFile::new(4 * MIB + 1, 15);
        let confirmed = Arc::new(AtomicU64::new(0));
        let seen = confirmed.clone();
        let uploader = fx
            .uploader()
            .concurrency(2)
            .abort_on_cancel(abort)
            .on_progress(move |p| seen.store(p.uploaded_parts, Ordering::SeqCst));
        // Parts 0, 1, 3 and 4 are stored; part 2 hangs for ever.
        tokio::select! {
            result = uploader.upload_path(source.path(), "0", "dropped.bin") => {
                panic!("the upload cannot finish: {result:?}")
            }
            () = eventually("only the hung part is left", || {
                fx.emulator.faults().fired().len() == 1 && confirmed.load(Ordering::SeqCst) == 4
            }) => {}
        }
        // The upload future is dropped here.
        let uploads = fx.emulator.stats().requests(Op::UploadPart);
        if abort {
            eventually("the session is aborted", || {
                fx.emulator.open_sessions().is_empty()
            })
            .await;
            assert_eq!(fx.emulator.stats().requests(Op::Abort), 1);
        } else {
            let sessions = fx.emulator.open_sessions();
            assert_eq!(sessions.len(), 1);
            let file = fx
                .uploader()
                .resume(&sessions[0], Source::path(source.path()))
                .await
                .expect("the resume succeeds");
            fx.assert_committed(&file, &source);
            let stats = fx.emulator.stats();
            assert_eq!(stats.parts_repeated, 0);
            assert_eq!(
                stats.requests(Op::UploadPart) - uploads,
                1,
                "the missing part only"
            );
            assert_eq!(stats.part_uploads_at(&sessions[0], 2 * MIB), 2);
        }
    }
}

/// Still processing at the deadline: the session holds every part and may yet be
/// committed, so it is kept (and named) rather than aborted.
#[tokio::test]
async fn commit_answered_202_past_the_deadline_times_out_and_keeps_the_session() {
    let fx = fixture(MIB, |c| c.commit_processing_polls = 1_000).await;
    let source = SourceFile::new(2 * MIB + 1, 16);
    let started = Instant::now();
    let error = fx
        .uploader()
        .commit_deadline(Duration::from_millis(700))
        .upload_path(source.path(), "0", "slow.bin")
        .await
        .expect_err("the commit times out");
    assert!(
        matches!(error.cause(), UploadError::CommitTimeout { waited, .. } if *waited >= Duration::from_millis(700)),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let stats = fx.emulator.stats();
    assert!(stats.commits_accepted >= 3, "{}", stats.commits_accepted);
    assert_eq!(stats.requests(Op::Abort), 0);
    let session = error.kept_session().expect("the session is kept");
    assert!(error.to_string().contains(session), "{error}");
    assert_eq!(fx.emulator.open_sessions(), vec![session.to_string()]);
}

#[tokio::test]
async fn commit_202_is_waited_out() {
    let fx = fixture(MIB, |c| {
        c.commit_processing_polls = 3;
        c.retry_after_secs = 1;
    })
    .await;
    let source = SourceFile::new(2 * MIB + 1, 17);
    let started = Instant::now();
    let file = fx
        .uploader()
        .upload_path(source.path(), "0", "patient.bin")
        .await
        .expect("the upload succeeds");
    fx.assert_committed(&file, &source);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "Retry-After is honoured"
    );
    assert_eq!(fx.emulator.stats().requests(Op::Commit), 4);
}

/// A commit whose answer is lost, then 404: never reported as a success.
#[tokio::test]
async fn a_lost_commit_answer_is_not_a_success() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::LoseResponse));
    let source = SourceFile::new(2 * MIB + 1, 18);
    let error = fx
        .uploader()
        .upload_path(source.path(), "0", "lost.bin")
        .await
        .expect_err("the outcome is unknown");
    assert!(
        matches!(error, UploadError::CommitOutcomeUnknown { .. }),
        "{error:?}"
    );
    // It was in fact committed.
    let stored = fx.emulator.find_file("0", "lost.bin").expect("created");
    assert_eq!(stored.sha1, source.sha1);
}

#[tokio::test]
async fn a_name_in_use_fails_at_the_preflight_check_by_default() {
    let fx = fixture(MIB, |_| {}).await;
    let taken = fx.emulator.create_file("0", "taken.bin", b"old");
    let source = SourceFile::new(2 * MIB, 19);
    let error = fx
        .uploader()
        .upload_path(source.path(), "0", "taken.bin")
        .await
        .expect_err("name in use");
    let existing = error.name_in_use().expect("a name conflict");
    assert_eq!(existing.id, taken.id);
    assert_eq!(existing.sha1.as_deref(), Some(taken.sha1.as_str()));
    assert_eq!(
        error.to_string(),
        format!(
            "cannot upload \"taken.bin\" in folder 0: the name is taken by file {} \
             (\"taken.bin\", SHA-1 {}, etag 0)",
            taken.id, taken.sha1
        )
    );
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::PreflightUpload), 1);
    assert_eq!(stats.requests(Op::CreateSession), 0);
    assert_eq!(stats.requests(Op::UploadPart), 0);
}

#[tokio::test]
async fn a_new_version_replaces_the_content() {
    let fx = fixture(MIB, |_| {}).await;
    let old = fx.emulator.create_file("0", "doc.bin", b"first version");
    let source = SourceFile::new(3 * MIB + 11, 20);
    let file = fx
        .uploader()
        .upload_new_version(source.path(), &old.id, Some("doc-v2.bin"))
        .await
        .expect("the upload succeeds");
    assert_eq!(file.id, old.id);
    assert_eq!(file.name.as_deref(), Some("doc-v2.bin"));
    fx.assert_committed(&file, &source);
    assert_eq!(
        fx.emulator.committed_file(&old.id).unwrap().version_number,
        2
    );
}

/// A reader that yields at most `chunk` bytes per read.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl tokio::io::AsyncRead for Trickle {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = self
            .chunk
            .min(buf.remaining())
            .min(self.data.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_of_known_size_is_uploaded() {
    let fx = fixture(PART, |_| {}).await;
    let data = random_bytes(BIG, 21);
    let expected = hex(&Sha1::digest(&data));
    let reader = Trickle {
        data,
        at: 0,
        chunk: 100_003,
    };
    let file = fx
        .uploader()
        .concurrency(3)
        .upload_reader(reader, BIG, "0", "stream.bin")
        .await
        .expect("the upload succeeds");
    let stored = fx.emulator.committed_file(&file.id).unwrap();
    assert_eq!(sha1_of_file(&stored.path), expected);
    assert!(fx.emulator.open_sessions().is_empty());
}

#[tokio::test]
async fn a_reader_of_the_wrong_size_fails_and_aborts() {
    for (actual, announced, expected) in [
        (3 * MIB, 3 * MIB + 10, "ended before"),
        (3 * MIB + 10, 3 * MIB, "more than"),
    ] {
        let fx = fixture(MIB, |_| {}).await;
        let reader = Trickle {
            data: random_bytes(actual, 22),
            at: 0,
            chunk: 65_536,
        };
        let error = fx
            .uploader()
            .upload_reader(reader, announced, "0", "short.bin")
            .await
            .expect_err("wrong size");
        assert!(
            matches!(error, UploadError::SourceChanged { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(fx.emulator.stats().requests(Op::Commit), 0);
        assert!(fx.emulator.open_sessions().is_empty());
    }
}

#[tokio::test]
async fn progress_goes_to_a_watch_channel() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(3 * MIB + 1, 23);
    let (sender, receiver) = tokio::sync::watch::channel(Progress::default());
    let file = fx
        .uploader()
        .progress_channel(sender)
        .upload_path(source.path(), "0", "watched.bin")
        .await
        .expect("the upload succeeds");
    let last = receiver.borrow().clone();
    assert_eq!(last.phase, Phase::Done);
    assert_eq!(last.uploaded_bytes, source.len);
    assert_eq!(last.total_parts, 4);
    assert!(!last.session_id.is_empty());
    fx.assert_committed(&file, &source);
}

/// More than 1000 stored parts: the resume reads every page of the listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_lists_every_page_of_parts() {
    let part = 1024;
    let fx = fixture(part, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(1100 * part));
    let source = SourceFile::new(1_300_000, 24);
    let total_parts = 1_300_000u64.div_ceil(part);
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_failure(false)
        .upload_path(source.path(), "0", "many.bin")
        .await
        .expect_err("the first run fails");
    let session = error.kept_session().expect("kept").to_string();
    assert_eq!(fx.emulator.stats().parts_stored, 1100);
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);

    let file = fx
        .uploader()
        .concurrency(8)
        .resume(&session, Source::path(source.path()))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::ListParts), 2, "two pages: 1000 + 100");
    assert_eq!(
        stats.requests(Op::UploadPart) - uploads_before,
        total_parts - 1100
    );
    assert_eq!(stats.parts_repeated, 0);
    assert_eq!(stats.parts_stored, total_parts);
}

/// Parts 0, 1, 3 and 4 stored, part 2 missing (it hung when the first run was dropped).
async fn session_with_a_hole(fx: &Fixture, source: &SourceFile) -> String {
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::Hang).at_offset(2 * MIB));
    let confirmed = Arc::new(AtomicU64::new(0));
    let seen = confirmed.clone();
    let uploader = fx
        .uploader()
        .concurrency(2)
        .on_progress(move |p| seen.store(p.uploaded_parts, Ordering::SeqCst));
    tokio::select! {
        result = uploader.upload_path(source.path(), "0", "holey.bin") => {
            panic!("the upload cannot finish: {result:?}")
        }
        () = eventually("only the hung part is left", || confirmed.load(Ordering::SeqCst) == 4) => {}
    }
    let sessions = fx.emulator.open_sessions();
    assert_eq!(sessions.len(), 1);
    sessions[0].clone()
}

/// A source that differs from the session only after a hole: the hole is not sent before
/// the stored parts after it are checked, so nothing is sent.
#[tokio::test]
async fn resume_sends_nothing_when_a_stored_part_after_a_hole_differs() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(4 * MIB + 1, 25);
    let session = session_with_a_hole(&fx, &source).await;
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);

    let mut bytes = std::fs::read(source.path()).unwrap();
    bytes[3 * MIB as usize + 10] ^= 0xff;
    let mut changed = tempfile::NamedTempFile::new().unwrap();
    changed.write_all(&bytes).unwrap();
    let error = fx
        .uploader()
        .concurrency(4)
        .resume(&session, Source::path(changed.path()))
        .await
        .expect_err("another file");
    assert!(
        matches!(error, UploadError::ResumeMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("part 4 (bytes 3145728-4194303)"),
        "{error}"
    );
    assert_eq!(
        fx.emulator.stats().requests(Op::UploadPart),
        uploads_before,
        "nothing sent, not even the hole"
    );
    assert_eq!(fx.emulator.open_sessions(), vec![session]);
}

/// A resume from a reader: the same bytes, read in order once.
#[tokio::test]
async fn resume_from_a_reader() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(4 * MIB + 1, 26);
    let session = session_with_a_hole(&fx, &source).await;
    let uploads_before = fx.emulator.stats().requests(Op::UploadPart);
    let reader = Trickle {
        data: std::fs::read(source.path()).unwrap(),
        at: 0,
        chunk: 50_000,
    };
    let file = fx
        .uploader()
        .resume(&session, Source::reader(reader, source.len))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadPart) - uploads_before, 1);
    assert_eq!(stats.parts_repeated, 0);
}

/// The hang tests' limit of one call, and the bound they check: generous (a correctness
/// bound, not a speed test), yet far below "for ever".
const LIMIT: Duration = Duration::from_millis(300);
const BOUND: Duration = Duration::from_secs(10);

/// Runs an upload that must end within [`BOUND`]: a hang fails the test instead of blocking it.
async fn bounded<T>(upload: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, upload)
        .await
        .expect("the upload ends within the bound")
}

impl Fixture {
    /// An uploader whose calls are limited to [`LIMIT`], on a client without a read timeout
    /// (so that only the uploader's limits can end a hang).
    fn hang_uploader(&self) -> Uploader {
        let config = client_config(&self.emulator).read_timeout(None);
        Uploader::new(Client::new(config).expect("a client"))
            .min_file_size(1)
            .direct_upload_threshold(0)
            .retry_pause(Duration::from_millis(20))
            .part_timeout(LIMIT)
            .request_timeout(LIMIT)
    }
}

/// A server that never answers a part: the upload ends with a timeout naming the part and
/// its bytes, after the part was sent `1 + part_retries` times, and the session is aborted.
#[tokio::test]
async fn a_part_that_is_never_answered_times_out_and_aborts() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::Hang)
            .probability(1.0)
            .at_offset(MIB),
    );
    let source = SourceFile::new(3 * MIB + 5, 30);
    let error = bounded(fx.hang_uploader().part_retries(1).upload_path(
        source.path(),
        "0",
        "hang.bin",
    ))
    .await
    .expect_err("the part times out");
    assert!(
        matches!(&error, UploadError::PartTimeout { number: 2, range: (a, b), limit, sends: 2, .. }
            if *a == MIB && *b == 2 * MIB - 1 && *limit == LIMIT),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("part 2 (bytes 1048576-2097151) of upload session")
            && message.contains("timed out"),
        "{message}"
    );
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.part_uploads_at(&stats.part_uploads[0].session_id, MIB),
        2
    );
    assert_eq!(stats.requests(Op::Abort), 1);
    assert!(fx.emulator.open_sessions().is_empty());
    assert!(fx.emulator.find_file("0", "hang.bin").is_none());
}

/// A server that stops reading a part in its middle (the client is left blocked writing a
/// body larger than the socket buffers) is no different.
#[tokio::test]
async fn a_part_whose_body_stops_being_read_times_out_and_aborts() {
    let fx = fixture(32 * MIB, |_| {}).await;
    fx.emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::StallBody { after_bytes: MIB })
            .probability(1.0)
            .at_offset(0),
    );
    let source = SourceFile::new(32 * MIB + 7, 31);
    let error = bounded(fx.hang_uploader().part_retries(0).upload_path(
        source.path(),
        "0",
        "stall.bin",
    ))
    .await
    .expect_err("the part times out");
    assert!(
        matches!(
            &error,
            UploadError::PartTimeout {
                number: 1,
                sends: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(fx.emulator.open_sessions().is_empty());
    assert_eq!(fx.emulator.stats().requests(Op::Abort), 1);
}

/// A commit that is never answered is tried again (it may have been carried out), then the
/// upload fails with a timeout naming the commit; the session, which still exists and
/// holds every part, is kept.
#[tokio::test]
async fn a_commit_that_is_never_answered_times_out_and_keeps_the_session() {
    let fx = fixture(MIB, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::Hang).probability(1.0));
    let source = SourceFile::new(2 * MIB + 1, 32);
    let error = bounded(
        fx.hang_uploader()
            .upload_path(source.path(), "0", "hung-commit.bin"),
    )
    .await
    .expect_err("the commit times out");
    assert!(
        matches!(error.cause(), UploadError::Timeout { step: Step::Commit, session_id: Some(_), limit }
            if *limit == LIMIT),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("committing the upload session"),
        "{error}"
    );
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::Commit), 4, "the first commit and 3 more");
    assert_eq!(stats.requests(Op::Abort), 0);
    let session = error.kept_session().expect("the session is kept");
    assert_eq!(fx.emulator.open_sessions(), vec![session.to_string()]);
    assert!(fx.emulator.find_file("0", "hung-commit.bin").is_none());
}

/// When the abort after a fatal error hangs, the error says that the session was kept,
/// and why.
#[tokio::test]
async fn a_hung_abort_reports_the_session_kept() {
    let fx = fixture(MIB, |_| {}).await;
    let faults = fx.emulator.faults();
    faults.add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(MIB));
    faults.add(FaultRule::new(Op::Abort, FaultAction::Hang).probability(1.0));
    let source = SourceFile::new(2 * MIB + 1, 33);
    let error = bounded(
        fx.hang_uploader()
            .upload_path(source.path(), "0", "kept.bin"),
    )
    .await
    .expect_err("the part fails");
    let UploadError::SessionKept {
        session_id,
        source: cause,
        abort_error: Some(abort_error),
    } = &error
    else {
        panic!("not a kept session: {error:?}");
    };
    assert!(
        matches!(**cause, UploadError::Part { number: 2, .. }),
        "{cause:?}"
    );
    assert!(
        matches!(
            **abort_error,
            UploadError::Timeout {
                step: Step::Abort,
                ..
            }
        ),
        "{abort_error:?}"
    );
    assert_eq!(
        fx.emulator.open_sessions(),
        std::slice::from_ref(session_id)
    );
    assert!(
        error.to_string().contains("aborting the upload session"),
        "{error}"
    );
}

/// One hang of the session creation, of a part and of the commit: each call is tried again
/// after the limit, and the upload succeeds.
#[tokio::test]
async fn single_hangs_are_outlasted() {
    let fx = fixture(MIB, |_| {}).await;
    for op in [Op::CreateSession, Op::UploadPart, Op::Commit] {
        fx.emulator
            .faults()
            .add(FaultRule::new(op, FaultAction::Hang));
    }
    let source = SourceFile::new(3 * MIB + 3, 34);
    let file = bounded(
        fx.hang_uploader()
            .upload_path(source.path(), "0", "outlasted.bin"),
    )
    .await
    .expect("the upload succeeds");
    fx.assert_committed(&file, &source);
    assert_eq!(fx.emulator.faults().fired().len(), 3);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::CreateSession), 2);
    assert_eq!(stats.requests(Op::Commit), 2);
}

/// A commit whose last try is carried out but its answer lost, after every other try failed
/// (lost on the network, or refused with 500): the session is gone, so the error must not
/// say that nothing was committed. And when no try was carried out, the error is the
/// commit's and the session, which can still be committed, is kept.
#[tokio::test]
async fn a_commit_failing_for_good_after_lost_answers_checks_the_session() {
    let dropped = FaultAction::DropConnection { after_bytes: 0 };
    let cases = [
        (dropped.clone(), FaultAction::LoseResponse, true),
        (FaultAction::status(500), FaultAction::LoseResponse, true),
        (dropped.clone(), dropped, false),
    ];
    for (earlier, last, carried_out) in cases {
        let fx = fixture(MIB, |_| {}).await;
        let faults = fx.emulator.faults();
        faults.add(FaultRule::new(Op::Commit, earlier).times(3));
        faults.add(FaultRule::new(Op::Commit, last));
        let source = SourceFile::new(2 * MIB + 1, 35);
        let error = fx
            .uploader()
            .upload_path(source.path(), "0", "last-try.bin")
            .await
            .expect_err("the commit fails");
        assert_eq!(fx.emulator.stats().requests(Op::Commit), 4);
        let stored = fx.emulator.find_file("0", "last-try.bin");
        if carried_out {
            assert!(
                matches!(error, UploadError::CommitOutcomeUnknown { .. }),
                "{error:?}"
            );
            assert_eq!(stored.expect("the file was committed").sha1, source.sha1);
            assert!(fx.emulator.open_sessions().is_empty());
        } else {
            assert!(
                matches!(
                    error.cause(),
                    UploadError::Api {
                        step: Step::Commit,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(stored.is_none());
            assert_eq!(fx.emulator.stats().requests(Op::Abort), 0);
            let session = error.kept_session().expect("the session is kept");
            assert_eq!(fx.emulator.open_sessions(), vec![session.to_string()]);
        }
    }
}

/// A slow link that keeps moving takes longer than the client's read timeout, and is not
/// cut off by it: the timeout counts time without progress, and the body going out is
/// progress. (reqwest's own read timeout counted from the start of the request.)
#[tokio::test]
async fn a_slow_upload_that_keeps_moving_outlasts_the_read_timeout() {
    let fx = fixture(32 * MIB, |_| {}).await;
    // 32 MiB at 16 MiB/s: 2 s, twice the read timeout, with the server reading throughout.
    fx.emulator.faults().add(
        FaultRule::new(
            Op::UploadPart,
            FaultAction::SlowBody {
                bytes_per_sec: 16 * MIB,
            },
        )
        .at_offset(0),
    );
    let config = client_config(&fx.emulator)
        .read_timeout(Some(Duration::from_secs(1)))
        .retry(RetryPolicy::none());
    let source = SourceFile::new(32 * MIB + 5, 36);
    let file = Uploader::new(Client::new(config).expect("a client"))
        .min_file_size(1)
        .direct_upload_threshold(0)
        .part_retries(0)
        .upload_path(source.path(), "0", "slow-link.bin")
        .await
        .expect("the upload succeeds");
    fx.assert_committed(&file, &source);
    assert_eq!(fx.emulator.faults().fired().len(), 1);
}

/// The client's read timeout alone (no part timeout) ends a part whose body the server
/// stopped reading, and the error names the part.
#[tokio::test]
async fn the_read_timeout_ends_a_stalled_body() {
    let fx = fixture(32 * MIB, |_| {}).await;
    fx.emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::StallBody { after_bytes: MIB })
            .probability(1.0)
            .at_offset(0),
    );
    let config = client_config(&fx.emulator)
        .read_timeout(Some(LIMIT))
        .retry(RetryPolicy::none());
    let source = SourceFile::new(32 * MIB + 5, 37);
    let uploader = Uploader::new(Client::new(config).expect("a client"))
        .min_file_size(1)
        .direct_upload_threshold(0)
        .part_retries(0);
    let upload = uploader.upload_path(source.path(), "0", "stalled.bin");
    let error = bounded(upload).await.expect_err("the part times out");
    let UploadError::Part {
        number: 1,
        source: cause,
        ..
    } = &error
    else {
        panic!("not a part error: {error:?}");
    };
    assert!(
        matches!(&**cause, box_upload::Error::Transport(t) if t.is_timeout()),
        "{cause:?}"
    );
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(fx.emulator.open_sessions().is_empty());
}
