//! The upload engine against a scripted server that misbehaves on purpose, where the
//! emulator will not: waits it asks for that are too long or oddly written, commits it
//! answers wrongly, listings that never end, part sizes it should not choose, and text
//! meant for a terminal.

use std::time::Duration;

use box_upload::{Outcome, Source, UploadError};
use serde_json::json;

mod common;
#[path = "common/scripted.rs"]
mod scripted;
use common::{MIB, SourceFile, assert_says, random_bytes, run_upload_command};
use scripted::{Answer, Call, Script, Scripted};

/// Runs `work`, which must end long before this: a hang fails the test instead of blocking it.
async fn bounded<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("it ends instead of waiting as long as the server asks")
}

/// A character a terminal would act on, or one that reorders the text around it.
fn is_hostile(c: char) -> bool {
    c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)
}

/// A `Retry-After` of years, or a date far ahead, on any call: the engine never waits for
/// it; the error names the status, the wait asked for and the limit. A session that
/// failed in its parts is aborted; one whose parts are all stored is kept.
#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_refused_by_name() {
    let far = "Fri, 31 Dec 9999 23:59:59 GMT";
    let cases = [
        (Call::Create, 429, "999999999"),
        (Call::Part, 503, far),
        (Call::Commit, 503, "999999999"),
        (Call::Commit, 202, "99999999999999999999"),
    ];
    for (call, status, wait) in cases {
        let answer = match status {
            202 => Answer::new(202),
            _ => Answer::error(status, "unavailable"),
        }
        .header("retry-after", wait);
        let server = Scripted::start(Script::new(MIB as i64).always(call, answer)).await;
        let source = SourceFile::new(2 * MIB + 5, 1);
        let error = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
            .await
            .expect_err("the server asks for too long a wait");
        assert!(
            matches!(error.cause(), UploadError::WaitTooLong { status: s, limit, .. }
                if *s == status && *limit == Duration::from_secs(1)),
            "{error:?}"
        );
        let message = error.to_string();
        assert_says(
            &message,
            &[
                "asked to wait",
                "max_retry_after",
                "1s",
                &status.to_string(),
            ],
        );
        match call {
            Call::Create => assert_eq!(error.kept_session(), None, "{error:?}"),
            Call::Part => assert_eq!(server.count(Call::Abort), 1, "{error:?}"),
            _ => {
                assert_eq!(server.count(Call::Abort), 0, "{error:?}");
                assert!(error.kept_session().is_some(), "{error:?}");
            }
        }
    }
}

/// A 202 whose `Retry-After` is a fraction, or a date, is a commit in progress like any
/// other: it is waited out, and the file is committed.
#[tokio::test]
async fn a_202_with_a_retry_after_that_is_not_an_integer_is_waited_out() {
    let past = "Thu, 01 Jan 1970 00:00:01 GMT";
    let script = Script::new(MIB as i64)
        .then(Call::Commit, Answer::new(202).header("retry-after", "0.5"))
        .then(Call::Commit, Answer::new(202).header("retry-after", past))
        .then(Call::Commit, Answer::new(202).header("retry-after", "soon"));
    let server = Scripted::start(script).await;
    let source = SourceFile::new(2 * MIB + 5, 2);
    let file = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
        .await
        .expect("the commit goes through");
    assert_eq!(file.sha1.as_deref(), Some(source.sha1.as_str()));
    assert_eq!(server.count(Call::Commit), 4);
    assert_eq!(server.count(Call::Abort), 0);
}

/// A 201 whose file is not the source: the file exists but is wrong, and the error says
/// so with both values. Nothing is aborted (the session is gone with the commit).
#[tokio::test]
async fn a_committed_file_that_differs_from_the_source_is_an_error_naming_both() {
    let source = SourceFile::new(2 * MIB + 5, 3);
    let wrong_sha1 = "0".repeat(40);
    for (sha1, size, field, expected, got) in [
        (
            wrong_sha1.as_str(),
            source.len,
            "SHA-1",
            source.sha1.clone(),
            wrong_sha1.clone(),
        ),
        (
            source.sha1.as_str(),
            7,
            "size",
            source.len.to_string(),
            "7".to_string(),
        ),
    ] {
        let file = json!({"type": "file", "id": "77", "name": "a.bin", "size": size, "sha1": sha1});
        let answer = Answer::new(201).json(json!({"total_count": 1, "entries": [file]}));
        let server = Scripted::start(Script::new(MIB as i64).always(Call::Commit, answer)).await;
        let error = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
            .await
            .expect_err("the committed file is not the source");
        assert!(
            matches!(&error, UploadError::CommittedMismatch { field: f, .. } if *f == field),
            "{error:?}"
        );
        assert_says(
            &error.to_string(),
            &[field, &expected, &got, "77", "exists"],
        );
        assert_eq!(server.count(Call::Commit), 1);
        assert_eq!(server.count(Call::Abort), 0);
    }
}

/// A 201 that cannot be read still means that the file was created: the error says so,
/// shows the body (escaped, bounded), and the session is not aborted after it.
#[tokio::test]
async fn a_201_that_cannot_be_read_says_the_file_was_committed() {
    let unreadable = format!("\x1b[2J<html>{}", "x".repeat(100_000));
    for (body, shown) in [
        (unreadable.as_str(), r"\u{1b}[2J<html>xxx"),
        (r#"{"total_count": 0, "entries": []}"#, "entries: Some([])"),
    ] {
        let answer = Answer::new(201)
            .header("content-type", "application/json")
            .body(body.to_string());
        let server = Scripted::start(Script::new(MIB as i64).always(Call::Commit, answer)).await;
        let source = SourceFile::new(MIB + 5, 4);
        let error = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
            .await
            .expect_err("the answer cannot be read");
        assert!(
            matches!(error, UploadError::CommittedUnreadable { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert_says(&message, &["committed", "unreadable", shown]);
        assert!(!message.chars().any(is_hostile), "{message:?}");
        assert!(message.len() < 2000, "{} bytes", message.len());
        assert_eq!(server.count(Call::Commit), 1);
        assert_eq!(server.count(Call::Abort), 0);
    }
}

/// Box answers 202 to a new version whose content is the current one's, for ever. Once
/// the session says every part is processed (twice) and the commit still answers 202, the
/// upload ends as "unchanged" instead of waiting for the deadline, leaving the session;
/// while parts are still being processed, it keeps waiting.
#[tokio::test]
async fn a_new_version_with_the_same_content_ends_as_unchanged() {
    let accepted = Answer::new(202).header("retry-after", "0");
    let source = SourceFile::new(2 * MIB + 5, 5);
    let server =
        Scripted::start(Script::new(MIB as i64).always(Call::Commit, accepted.clone())).await;
    let error = bounded(
        server
            .uploader()
            .commit_deadline(Duration::from_secs(30))
            .upload_new_version(source.path(), "42", None),
    )
    .await
    .expect_err("nothing to commit");
    assert!(matches!(error, UploadError::Unchanged { .. }), "{error:?}");
    assert_says(&error.to_string(), &["unchanged", "file 42"]);
    assert!(
        server.count(Call::Commit) < 10,
        "{}",
        server.count(Call::Commit)
    );
    // Kept, in case the content differs after all: a resume would commit it.
    assert_eq!(server.count(Call::Abort), 0);
    // As an outcome rather than an error.
    let server =
        Scripted::start(Script::new(MIB as i64).always(Call::Commit, accepted.clone())).await;
    let outcome = bounded(server.uploader().upload_version(source.path(), "42", None))
        .await
        .expect("an outcome");
    assert!(
        matches!(&outcome, Outcome::Unchanged { file_id, .. } if file_id == "42"),
        "{outcome:?}"
    );

    // Still processing: waited for until the deadline, then kept.
    let mut script = Script::new(MIB as i64).always(Call::Commit, accepted);
    script.processed_parts = Some(1);
    let server = Scripted::start(script).await;
    let error = bounded(
        server
            .uploader()
            .commit_deadline(Duration::from_millis(1500))
            .upload_new_version(source.path(), "42", None),
    )
    .await
    .expect_err("still processing at the deadline");
    assert!(!error.to_string().contains("unchanged"), "{error}");
    assert!(error.kept_session().is_some(), "{error:?}");
    assert_eq!(server.count(Call::Abort), 0);
}

/// A listing that ignores `offset` and has no `total_count` ends all the same.
#[tokio::test]
async fn a_listing_that_ignores_the_offset_ends() {
    let bytes = random_bytes(45, 6);
    let source = SourceFile::new(45, 6);
    let mut script = Script::new(10);
    script.file_size = Some(45);
    script.list_ignores_offset = true;
    script.list_omits_total_count = true;
    let server = Scripted::start(script).await;
    server.store(0, &bytes[..10]);
    server.store(20, &bytes[20..30]);
    let file = bounded(server.uploader().resume(
        "F971964745A5CD0C001BBE4E58196BFD",
        Source::path(source.path()),
    ))
    .await
    .expect("the resume finishes");
    assert_eq!(file.sha1.as_deref(), Some(source.sha1.as_str()));
    assert!(server.count(Call::List) <= 3, "{:?}", server.calls());
    assert_eq!(server.stored(), vec![0, 10, 20, 30, 40]);
}

/// Box refuses a listing offset above 10000: of a session with more parts than it can
/// list, the parts it cannot list are sent again (the same bytes: the server answers 200),
/// and the upload finishes.
#[tokio::test]
async fn a_session_with_more_parts_than_the_listing_reaches_is_finished() {
    let parts = 12_001;
    let bytes = random_bytes(parts, 7);
    let source = SourceFile::new(parts, 7);
    let mut script = Script::new(1);
    script.file_size = Some(parts);
    let server = Scripted::start(script).await;
    for offset in 0..parts {
        let at = offset as usize;
        server.store(offset, &bytes[at..=at]);
    }
    let file = bounded(server.uploader().concurrency(16).resume(
        "F971964745A5CD0C001BBE4E58196BFD",
        Source::path(source.path()),
    ))
    .await
    .expect("the resume finishes");
    assert_eq!(file.sha1.as_deref(), Some(source.sha1.as_str()));
    let listed: Vec<String> = server
        .calls()
        .into_iter()
        .filter(|(call, _)| *call == Call::List)
        .map(|(_, uri)| uri)
        .collect();
    assert!(
        listed.iter().all(|uri| uri.contains("limit=1000")),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 11, "offsets 0 to 10000: {listed:?}");
    assert_eq!(server.count(Call::Part), 1001, "parts 11001 to 12001 again");
}

/// Part sizes that would make millions of requests, or buffers beyond the memory budget,
/// are refused before anything is sent; the session is aborted.
#[tokio::test]
async fn part_sizes_beyond_the_bounds_are_refused_before_anything_is_sent() {
    let small = SourceFile::new(300_000, 8);
    // A sparse file: big, without writing it.
    let big = tempfile::NamedTempFile::new().unwrap();
    big.as_file().set_len(129 * MIB + 1).unwrap();
    for (part_size, path, needles) in [
        (1, small.path(), vec!["300000 parts"]),
        (0, small.path(), vec!["part_size"]),
        (-5, small.path(), vec!["part_size"]),
        (
            (129 * MIB) as i64,
            big.path(),
            vec!["135266304", "134217728"],
        ),
    ] {
        let server = Scripted::start(Script::new(part_size)).await;
        let error = bounded(
            server
                .uploader()
                .concurrency(1)
                .upload_path(path, "0", "a.bin"),
        )
        .await
        .expect_err("the part size is refused");
        assert!(matches!(error, UploadError::Protocol { .. }), "{error:?}");
        assert_says(&error.to_string(), &needles);
        assert_eq!(server.count(Call::Part), 0, "{part_size}: {error}");
        assert_eq!(server.count(Call::Abort), 1, "{part_size}: {error}");
    }
}

/// What a server writes in a part's answer, or in a session id, reaches messages escaped
/// and bounded; an id that is no Box id is refused before anything is sent.
#[tokio::test]
async fn server_text_reaches_messages_escaped_and_bounded() {
    let sha1 = format!("\x1b]0;pwned\x07{}", "a".repeat(100_000));
    let part = json!({"part": {"part_id": "P", "offset": 0, "size": MIB, "sha1": sha1}});
    let server =
        Scripted::start(Script::new(MIB as i64).always(Call::Part, Answer::new(200).json(part)))
            .await;
    let source = SourceFile::new(MIB, 9);
    let error = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
        .await
        .expect_err("the answer describes another part");
    let message = error.to_string();
    assert_says(&message, &[r"\u{1b}]0;pwned\u{7}aaa", &source.sha1]);
    assert!(!message.chars().any(is_hostile), "{message:?}");
    assert!(message.len() < 1000, "{} bytes", message.len());

    // Its abort fails too: the session is reported kept, its id still escaped.
    let mut script =
        Script::new(MIB as i64).always(Call::Abort, Answer::error(500, "internal_server_error"));
    script.session_id = "x; rm -rf ~ #\x1b[2J".into();
    let server = Scripted::start(script).await;
    let error = bounded(server.uploader().upload_path(source.path(), "0", "a.bin"))
        .await
        .expect_err("no Box id");
    assert!(
        matches!(error.cause(), UploadError::Protocol { .. }),
        "{error:?}"
    );
    assert!(error.kept_session().is_some(), "{error:?}");
    let message = error.to_string();
    assert_says(&message, &[r"x; rm -rf ~ #\u{1b}[2J", "id"]);
    assert!(!message.chars().any(is_hostile), "{message:?}");
    assert_eq!(server.count(Call::Part), 0);
}

/// The command prints what a server said escaped, and never a command line it cannot
/// make safe: a session id that is a shell command is not pasted into `--resume`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_prints_server_text_escaped_and_no_unsafe_command() {
    let source = SourceFile::new(20_000_000, 10);
    let path = source.path().display().to_string();
    let file = json!({"type": "file", "id": "9\x1b[2J", "name": "\x1b]0;evil\x07.bin",
                      "size": source.len, "sha1": source.sha1});
    let answer = Answer::new(201).json(json!({"total_count": 1, "entries": [file]}));
    let server = Scripted::start(Script::new(8 * MIB as i64).always(Call::Commit, answer)).await;
    let url = server.url().to_string();
    let run = |url: String, args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_upload_command(&url, "token", &args)
        })
    };
    // In parts: from Box's 20 MB minimum on.
    let output = run(
        url,
        vec![path.clone(), "--chunked-from".into(), "20000000".into()],
    )
    .await
    .unwrap();
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(
        !output.stdout.chars().any(|c| c != '\n' && is_hostile(c)),
        "{:?}",
        output.stdout
    );
    assert!(
        output.stdout.contains(r"\u{1b}]0;evil\u{7}.bin"),
        "{}",
        output.stdout
    );

    let mut script = Script::new(8 * MIB as i64)
        .always(Call::Part, Answer::error(400, "bad_request"))
        .always(Call::Abort, Answer::error(500, "internal_server_error"));
    script.session_id = "x; rm -rf ~ #".into();
    let server = Scripted::start(script).await;
    let args = vec![path, "--chunked-from".into(), "20000000".into()];
    let output = run(server.url().to_string(), args).await.unwrap();
    assert_eq!(output.code, Some(1), "{}", output.stderr);
    let all = format!("{}{}", output.stdout, output.stderr);
    assert!(all.contains("x; rm -rf ~ #"), "{all}");
    assert!(!all.contains("--resume x; rm"), "{all}");
    assert!(!all.chars().any(|c| c != '\n' && is_hostile(c)), "{all:?}");
}
