//! Bad input at the edges: each gives one clear error that says what is wrong and where,
//! from the library and from the `upload` command (with a non-zero exit).

use std::path::Path;
use std::time::Duration;

use box_emulator::Op;
use box_upload::{Client, Config, Source, UploadError, Uploader, servers};

mod common;
use common::{Fixture, MIB, SourceFile, assert_says, fixture, run_upload_command};

/// Uploads `path` with a fixture's uploader and returns the error.
async fn upload_error(fx: &Fixture, path: &Path) -> UploadError {
    fx.uploader()
        .upload_path(path, "0", "x.bin")
        .await
        .expect_err("the upload fails")
}

#[tokio::test]
async fn files_that_cannot_be_read_are_named_with_the_reason() {
    let fx = fixture(MIB, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.bin");
    let error = upload_error(&fx, &missing).await;
    assert_says(
        &error.to_string(),
        &[
            "cannot open",
            &missing.display().to_string(),
            "No such file",
        ],
    );

    let error = upload_error(&fx, dir.path()).await;
    assert_says(
        &error.to_string(),
        &[&dir.path().display().to_string(), "not a regular file"],
    );

    // A path through a regular file cannot be opened (as root, permissions do not stop a read).
    let source = SourceFile::new(10, 1);
    let through = source.path().join("inner.bin");
    let error = upload_error(&fx, &through).await;
    assert_says(
        &error.to_string(),
        &[
            "cannot open",
            &through.display().to_string(),
            "Not a directory",
        ],
    );
    assert_eq!(fx.emulator.stats().requests(Op::Any), 0, "nothing was sent");
}

#[tokio::test]
async fn an_empty_file_goes_in_one_request_even_when_all_else_is_chunked() {
    let fx = fixture(MIB, |_| {}).await;
    let empty = tempfile::NamedTempFile::new().unwrap();
    // The tests' uploader sends every non-empty file in parts; an empty one has no part.
    let file = fx
        .uploader()
        .upload_path(empty.path(), "0", "empty.bin")
        .await
        .expect("an empty file is uploaded");
    assert_eq!(file.size, Some(0));
    assert_eq!(
        file.sha1.as_deref(),
        Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadFile), 1);
    assert_eq!(stats.requests(Op::CreateSession), 0);
}

#[tokio::test]
async fn a_folder_or_file_that_does_not_exist_is_named() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(2 * MIB, 2);
    let error = fx
        .uploader()
        .upload_path(source.path(), "987654321", "x.bin")
        .await
        .expect_err("no such folder");
    // The preflight check finds it, before a session is opened.
    assert_says(
        &error.to_string(),
        &[
            "preflight check refused",
            "folder 987654321",
            "404",
            "nothing was sent",
        ],
    );
    assert_eq!(error.status(), Some(404));
    assert_eq!(fx.emulator.stats().requests(Op::CreateSession), 0);

    let error = fx
        .uploader()
        .upload_new_version(source.path(), "123456789", None)
        .await
        .expect_err("no such file");
    assert_says(
        &error.to_string(),
        &["creating the upload session", "file 123456789", "404"],
    );
    assert!(fx.emulator.open_sessions().is_empty());
}

#[tokio::test]
async fn an_aborted_or_unknown_session_cannot_be_resumed() {
    let fx = fixture(MIB, |_| {}).await;
    let source = SourceFile::new(2 * MIB, 3);
    for session in ["no-such-session", "../../folders/0"] {
        let error = fx
            .uploader()
            .resume(session, Source::path(source.path()))
            .await
            .expect_err("nothing to resume");
        assert!(
            matches!(error, UploadError::SessionExpired { .. }),
            "{error:?}"
        );
        assert_says(
            &error.to_string(),
            &[session, "has expired or no longer exists"],
        );
    }
}

#[tokio::test]
async fn an_invalid_token_is_reported_as_such() {
    let fx = fixture(MIB, |config| config.token = Some("the-right-one".into())).await;
    let client = Client::new(
        Config::bearer("a-wrong-token")
            .base_url(&servers::UPLOAD, fx.emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, fx.emulator.upload_url())
            .base_url(&servers::API, fx.emulator.api_url()),
    )
    .unwrap();
    let source = SourceFile::new(2 * MIB, 4);
    let error = Uploader::new(client)
        .min_file_size(1)
        .direct_upload_threshold(0)
        .upload_path(source.path(), "0", "x.bin")
        .await
        .expect_err("refused token");
    let message = error.to_string();
    assert_says(&message, &["preflight check refused", "401"]);
    assert_eq!(error.status(), Some(401));
    assert!(!message.contains("a-wrong-token"), "{message}");
}

/// Durations too long for the clock (`Duration::MAX` everywhere) are cut to a century: an
/// upload, with a commit answered 202 first, goes through without an overflow.
#[tokio::test]
async fn durations_too_long_for_the_clock_do_not_panic() {
    let fx = fixture(MIB, |c| c.commit_processing_polls = 1).await;
    let source = SourceFile::new(2 * MIB + 1, 7);
    let file = fx
        .uploader()
        .commit_deadline(Duration::MAX)
        .retry_pause(Duration::MAX)
        .part_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .max_part_size(u64::MAX)
        .concurrency(usize::MAX)
        .upload_path(source.path(), "0", "forever.bin")
        .await
        .expect("the upload succeeds");
    fx.assert_committed(&file, &source);
}

// ----------------------------------------------------------------------------- the command

/// The command says what went wrong, naming the file, folder or session, with the exit
/// code `--help` documents: 1 for files that failed, 2 for a wrong command line, 3 for
/// credentials or a destination it cannot read; never a panic, never the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_says_what_went_wrong_with_a_distinct_exit_code() {
    let fx = fixture(8 * MIB, |config| config.token = Some("cli-token".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.bin");
    let small = SourceFile::new(MIB, 5);
    let big = SourceFile::new(20_000_000, 6);
    let taken = fx.emulator.create_file("0", "taken.bin", b"in the way");
    let path = |p: &Path| p.display().to_string();
    // (case, arguments, token, exit code, what the output says)
    type Case<'a> = (&'a str, Vec<String>, &'a str, i32, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            "missing file",
            vec![path(&missing)],
            "cli-token",
            1,
            vec![path(&missing), "No such file".into()],
        ),
        (
            "a folder as a new version",
            vec![path(dir.path()), "--new-version".into(), "1".into()],
            "cli-token",
            2,
            vec!["--new-version takes a file, not a folder".into()],
        ),
        (
            "taken name",
            vec![path(small.path()), "--name".into(), "taken.bin".into()],
            "cli-token",
            1,
            vec![
                "the name is taken by file".into(),
                format!("file {}", taken.id),
            ],
        ),
        (
            "unknown folder",
            vec![path(big.path()), "--folder".into(), "55555".into()],
            "cli-token",
            3,
            vec!["folder 55555".into(), "404".into()],
        ),
        (
            "unknown file",
            vec![path(big.path()), "--new-version".into(), "66666".into()],
            "cli-token",
            1,
            vec!["file 66666".into(), "404".into()],
        ),
        (
            "unknown session",
            vec![path(big.path()), "--resume".into(), "S-gone".into()],
            "cli-token",
            1,
            vec!["S-gone".into(), "has expired or no longer exists".into()],
        ),
        (
            "invalid token",
            vec![path(big.path())],
            "not-the-token",
            3,
            vec!["401".into(), "BOX_TOKEN".into()],
        ),
    ];
    for (case, args, token, code, needles) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_upload_command(&fx.emulator.upload_url(), token, &args);
        let all = format!("{}{}", output.stdout, output.stderr);
        assert_eq!(output.code, Some(code), "{case}: exit code; output:\n{all}");
        for needle in &needles {
            assert!(
                all.contains(needle.as_str()),
                "{case}: {needle:?} missing:\n{all}"
            );
        }
        assert!(!all.contains("panicked"), "{case}: {all}");
        assert!(!all.contains(token), "{case}: the token is shown: {all}");
    }
    assert!(fx.emulator.open_sessions().is_empty());
}

/// The command uploads files of any size (an empty one, a small one in one request) and
/// says how each ended under `--on-conflict`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_says_the_outcome_under_each_conflict_policy() {
    let fx = fixture(8 * MIB, |config| config.token = Some("cli-token".into())).await;
    let small = SourceFile::new(3 * MIB, 8);
    let other = SourceFile::new(3 * MIB, 9);
    let empty = tempfile::NamedTempFile::new().unwrap();
    let path = |p: &Path| p.display().to_string();
    let run = |file: &Path, name: &str, policy: &str| {
        let args = [
            &path(file),
            "--name",
            name,
            "--on-conflict",
            policy,
            "--json",
        ];
        let output = run_upload_command(&fx.emulator.upload_url(), "cli-token", &args);
        assert_eq!(output.code, Some(0), "{name} {policy}: {}", output.stderr);
        let report: serde_json::Value = serde_json::from_str(output.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {}", output.stdout));
        let outcome = format!("outcome     {}", report["outcome"].as_str().unwrap());
        (
            outcome,
            report["id"].as_str().unwrap_or_default().to_string(),
        )
    };
    let (line, empty_id) = run(empty.path(), "empty.bin", "fail");
    assert_eq!(line, "outcome     uploaded");
    assert_eq!(fx.emulator.committed_file(&empty_id).unwrap().size, 0);
    let (line, id) = run(small.path(), "small.bin", "fail");
    assert_eq!(line, "outcome     uploaded");
    assert_eq!(fx.emulator.committed_file(&id).unwrap().sha1, small.sha1);
    let (line, skipped) = run(other.path(), "small.bin", "skip");
    assert_eq!(
        (line.as_str(), skipped.as_str()),
        ("outcome     skipped", id.as_str())
    );
    let (line, same) = run(small.path(), "small.bin", "new-version");
    assert_eq!(
        (line.as_str(), same.as_str()),
        ("outcome     unchanged", id.as_str())
    );
    let (line, versioned) = run(other.path(), "small.bin", "new-version");
    assert_eq!(
        (line.as_str(), versioned.as_str()),
        ("outcome     new version", id.as_str())
    );
    assert_eq!(fx.emulator.committed_file(&id).unwrap().sha1, other.sha1);
    let stats = fx.emulator.stats();
    assert_eq!(
        stats.requests(Op::CreateSession),
        0,
        "every file went in one request"
    );
    assert_eq!(stats.requests(Op::UploadFileVersion), 1);
}
