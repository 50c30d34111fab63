//! Sessions that can still be finished are kept, never thrown away: a resume that fails
//! leaves its session to be resumed again, and a source that no longer fits the session
//! leaves it as it is.

use std::io::Write;

use box_emulator::{FaultAction, FaultRule, Op};
use box_upload::{Source, UploadError};

mod common;
use common::{Fixture, MIB, SourceFile, fixture};

/// A session of 5 parts of 1 MiB whose first run stopped with parts 1 and 2 stored.
async fn half_done(fx: &Fixture, source: &SourceFile) -> String {
    let rule = FaultRule::new(Op::UploadPart, FaultAction::status(403)).at_offset(2 * MIB);
    fx.emulator.faults().add(rule);
    let error = fx
        .uploader()
        .concurrency(1)
        .abort_on_failure(false)
        .upload_path(source.path(), "0", "half.bin")
        .await
        .expect_err("the first run fails");
    error.kept_session().expect("kept").to_string()
}

/// The source grew by a byte: the same number of parts, so the session's facts still fit,
/// but the server refuses every part (416, the range does not fit its file). The session
/// is left as it is, and the error says that the source does not match it.
#[tokio::test]
async fn a_resume_whose_source_changed_size_leaves_the_session() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(4 * MIB + 1, 1);
    let session = half_done(&fx, &source).await;
    let mut grown = std::fs::OpenOptions::new()
        .append(true)
        .open(source.path())
        .unwrap();
    grown.write_all(b"!").unwrap();
    drop(grown);

    let error = fx
        .uploader()
        .resume(&session, Source::path(source.path()))
        .await
        .expect_err("the source is not the session's");
    assert!(
        matches!(error, UploadError::ResumeMismatch { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("416") && message.contains(&session),
        "{message}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::Abort), 0);
    assert_eq!(fx.emulator.open_sessions(), vec![session]);
}

/// A resume that fails for any other reason keeps the session, and says so.
#[tokio::test]
async fn a_failed_resume_keeps_the_session() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(4 * MIB + 1, 2);
    let session = half_done(&fx, &source).await;
    // Every part now fails for good (403 is not worth sending again).
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(403)).probability(1.0));

    let error = fx
        .uploader()
        .resume(&session, Source::path(source.path()))
        .await
        .expect_err("every part fails");
    assert_eq!(error.kept_session(), Some(session.as_str()), "{error:?}");
    assert!(
        matches!(error.cause(), UploadError::Part { .. }),
        "{error:?}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::Abort), 0);
    assert_eq!(fx.emulator.open_sessions(), vec![session.clone()]);

    // It can still be finished.
    fx.emulator.faults().clear();
    let file = fx
        .uploader()
        .resume(&session, Source::path(source.path()))
        .await
        .expect("the resume succeeds");
    fx.assert_committed(&file, &source);
}
