//! Direct uploads and the preflight check against the emulator: which way each size goes,
//! what a direct upload sends, and what the preflight check stops before any byte is read.

mod common;

use std::sync::{Arc, Mutex};

use box_emulator::{FaultAction, FaultRule, Op};
use box_upload::{Phase, Progress, Source, Step, UploadError, Uploader};

use common::{Fixture, SourceFile, fixture, random_bytes};

/// The tests' threshold: 64 KiB, with 16 KiB parts above it.
const THRESHOLD: u64 = 64 * 1024;
const PART: u64 = 16 * 1024;

/// An uploader with the tests' threshold, no chunked minimum and short pauses.
fn uploader(fx: &Fixture) -> Uploader {
    fx.uploader().direct_upload_threshold(THRESHOLD)
}

#[tokio::test]
async fn each_size_arrives_whole_through_the_path_its_size_picks() {
    let fx = fixture(PART, |_| {}).await;
    for (seed, size) in [0, 1, THRESHOLD - 1, THRESHOLD, THRESHOLD + 1]
        .into_iter()
        .enumerate()
    {
        let before = fx.emulator.stats();
        let source = SourceFile::new(size, 100 + seed as u64);
        let name = format!("size-{size}.bin");
        let outcome = uploader(&fx)
            .upload(Source::path(source.path()), "0", &name)
            .await
            .unwrap_or_else(|e| panic!("{size} bytes: {e}"));
        assert_eq!(outcome.label(), "uploaded", "{size} bytes");
        let file = outcome.file().expect("a file");
        fx.assert_committed(file, &source);
        assert_eq!(
            file.content_modified_at.map(|t| t.timestamp()),
            Some(source.mtime_secs()),
            "{size} bytes: content_modified_at is the file's mtime"
        );
        let after = fx.emulator.stats();
        let made = |op| after.requests(op) - before.requests(op);
        let direct = size < THRESHOLD;
        assert_eq!(made(Op::UploadFile), u64::from(direct), "{size} bytes");
        assert_eq!(made(Op::CreateSession), u64::from(!direct), "{size} bytes");
        // The preflight check goes before parts (and direct uploads from 1 MiB).
        assert_eq!(
            made(Op::PreflightUpload),
            u64::from(!direct),
            "{size} bytes"
        );
        let parts = if direct { 0 } else { size.div_ceil(PART) };
        assert_eq!(made(Op::UploadPart), parts, "{size} bytes");
    }
}

#[tokio::test]
async fn a_threshold_below_the_chunked_minimum_counts_as_the_minimum() {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(THRESHOLD, 7);
    // The minimum is 2 × the threshold: a file of the threshold cannot go in parts.
    let file = Uploader::new(fx.client.clone())
        .min_file_size(2 * THRESHOLD)
        .direct_upload_threshold(THRESHOLD)
        .upload_path(source.path(), "0", "min.bin")
        .await
        .expect("uploaded");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadFile), 1);
    assert_eq!(stats.requests(Op::CreateSession), 0);
}

#[tokio::test]
async fn a_direct_upload_reports_progress_like_a_chunked_one() {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(THRESHOLD - 1, 8);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let file = uploader(&fx)
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
        .upload_path(source.path(), "0", "progress.bin")
        .await
        .expect("uploaded");
    fx.assert_committed(&file, &source);
    let seen = seen.lock().unwrap();
    let last = seen.last().expect("progress was reported");
    assert_eq!(last.phase, Phase::Done);
    assert_eq!(
        (
            last.total_bytes,
            last.read_bytes,
            last.uploaded_bytes,
            last.sent_bytes
        ),
        (source.len, source.len, source.len, source.len)
    );
    assert_eq!((last.total_parts, last.uploaded_parts), (1, 1));
    // Bytes read (hashed) and sent never go back, nor past the size.
    for pair in seen.windows(2) {
        assert!(pair[0].read_bytes <= pair[1].read_bytes, "{pair:?}");
        assert!(pair[0].sent_bytes <= pair[1].sent_bytes, "{pair:?}");
    }
    assert!(seen.iter().all(|p| p.sent_bytes <= source.len));
}

#[tokio::test]
async fn a_reader_below_the_threshold_goes_in_one_request() {
    let fx = fixture(PART, |_| {}).await;
    let bytes = random_bytes(THRESHOLD - 1, 9);
    let file = uploader(&fx)
        .upload_reader(&bytes[..], bytes.len() as u64, "0", "reader.bin")
        .await
        .expect("uploaded");
    let stored = fx.emulator.committed_file(&file.id).expect("stored");
    assert_eq!(stored.read().unwrap(), bytes);
    assert_eq!(fx.emulator.stats().requests(Op::UploadFile), 1);

    // A reader shorter than it said is an error, and nothing is sent.
    let error = uploader(&fx)
        .upload_reader(&bytes[..100], 200, "0", "short.bin")
        .await
        .expect_err("the reader ends early");
    assert!(
        matches!(error, UploadError::SourceChanged { .. }),
        "{error:?}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::UploadFile), 1);
    assert!(fx.emulator.find_file("0", "short.bin").is_none());
}

#[tokio::test]
async fn a_content_md5_refusal_is_an_error_and_is_not_sent_again() {
    let fx = fixture(PART, |_| {}).await;
    let bad_digest = FaultAction::Status {
        status: 400,
        code: "bad_digest".into(),
        retry_after: None,
    };
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadFile, bad_digest).times(1));
    let source = SourceFile::new(1000, 10);
    let error = uploader(&fx)
        .upload_path(source.path(), "0", "digest.bin")
        .await
        .expect_err("the server saw other bytes");
    let UploadError::Api { step, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*step, Step::DirectUpload);
    assert_eq!(error.status(), Some(400));
    assert!(error.to_string().contains("bad_digest"), "{error}");
    assert_eq!(fx.emulator.stats().requests(Op::UploadFile), 1);
    assert!(fx.emulator.find_file("0", "digest.bin").is_none());
}

#[tokio::test]
async fn the_emulator_checks_the_content_md5_the_uploader_sends() {
    // Without a fault, the real check passes: the header is the content's SHA-1 (hex).
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(5000, 11);
    let file = uploader(&fx)
        .upload_path(source.path(), "0", "md5.bin")
        .await
        .expect("the digest matches");
    fx.assert_committed(&file, &source);
}

/// What the preflight check refuses fails before the source is read or a byte is sent.
#[tokio::test]
async fn preflight_refusals_fail_before_any_byte_is_read_or_sent() {
    let fx = fixture(PART, |config| config.quota = Some(10 * THRESHOLD)).await;
    let big = SourceFile::new(20 * THRESHOLD, 12);
    let small = SourceFile::new(THRESHOLD / 2, 13);
    let cases = [
        ("missing folder, parts", &big, "987654321", 404, "not_found"),
        ("quota, parts", &big, "0", 403, "storage_limit_exceeded"),
        (
            "missing folder, direct",
            &small,
            "987654321",
            404,
            "not_found",
        ),
    ];
    for (case, source, folder, status, code) in cases {
        let read = Arc::new(Mutex::new(0u64));
        let sink = read.clone();
        // Direct uploads of any size ask the check here.
        let error = uploader(&fx)
            .preflight_from(0)
            .on_progress(move |p| *sink.lock().unwrap() += p.read_bytes + p.sent_bytes)
            .upload_path(source.path(), folder, "refused.bin")
            .await
            .expect_err(case);
        assert!(
            matches!(error, UploadError::PreflightRefused { .. }),
            "{case}: {error:?}"
        );
        assert_eq!(error.status(), Some(status), "{case}");
        let message = error.to_string();
        assert!(message.contains(code), "{case}: {message}");
        assert!(message.contains("nothing was sent"), "{case}: {message}");
        assert_eq!(*read.lock().unwrap(), 0, "{case}: the source was read");
    }
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::PreflightUpload), 3);
    for op in [Op::UploadFile, Op::CreateSession, Op::UploadPart] {
        assert_eq!(stats.requests(op), 0, "{op:?}");
    }
}

#[tokio::test]
async fn small_files_skip_the_preflight_check_unless_asked() {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(1000, 14);
    uploader(&fx)
        .upload_path(source.path(), "0", "a.bin")
        .await
        .expect("uploaded");
    assert_eq!(fx.emulator.stats().requests(Op::PreflightUpload), 0);
    uploader(&fx)
        .preflight_from(1000)
        .upload_path(source.path(), "0", "b.bin")
        .await
        .expect("uploaded");
    assert_eq!(fx.emulator.stats().requests(Op::PreflightUpload), 1);
}

#[tokio::test]
async fn a_preflight_check_that_cannot_be_made_is_skipped() {
    let fx = fixture(PART, |_| {}).await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::PreflightUpload, FaultAction::status(503)).probability(1.0));
    let source = SourceFile::new(2 * THRESHOLD, 15);
    let file = uploader(&fx)
        .upload_path(source.path(), "0", "unchecked.bin")
        .await
        .expect("uploaded without the check");
    fx.assert_committed(&file, &source);
    // Asked with the runtime's retries of an idempotent call, then given up.
    let stats = fx.emulator.stats();
    assert!(stats.requests(Op::PreflightUpload) > 1);
    assert_eq!(stats.requests(Op::CreateSession), 1);
}

#[tokio::test]
async fn a_new_version_below_the_threshold_goes_in_one_request() {
    let fx = fixture(PART, |_| {}).await;
    let old = fx.emulator.create_file("0", "doc.bin", b"first");
    let source = SourceFile::new(THRESHOLD - 1, 16);
    let file = uploader(&fx)
        .upload_new_version(source.path(), &old.id, None)
        .await
        .expect("a new version");
    assert_eq!(file.id, old.id);
    assert_eq!(file.name.as_deref(), Some("doc.bin"), "the name is kept");
    fx.assert_committed(&file, &source);
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadFileVersion), 1);
    assert_eq!(stats.requests(Op::CreateSessionForFile), 0);
    let stored = fx.emulator.committed_file(&old.id).unwrap();
    assert_eq!(stored.version_number, 2);
}
