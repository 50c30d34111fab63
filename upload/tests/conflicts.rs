//! Name conflicts against the emulator: every policy at every call that can report the
//! name taken (the preflight check, a direct upload, session creation, the commit), and a
//! new version whose file changed meanwhile.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use box_emulator::{Emulator, FaultAction, FaultRule, Op};
use box_upload::{Client, ConflictPolicy, Outcome, Phase, Source, UploadError, Uploader};

use common::{Fixture, SourceFile, fixture};

const THRESHOLD: u64 = 64 * 1024;
const PART: u64 = 16 * 1024;
const NAME: &str = "taken.bin";

/// Where the taken name is found.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// The preflight check, before a chunked upload.
    Preflight,
    /// A direct upload (too small for the preflight check).
    Direct,
    /// Session creation (the preflight check cannot be made: 503).
    CreateSession,
    /// The commit: the name is taken while the parts are sent.
    Commit,
}

/// What the file in the way holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum InTheWay {
    Other,
    Same,
}

struct Case {
    emulator: Arc<Emulator>,
    client: Client,
    source: SourceFile,
    /// The content of the file in the way.
    content: Vec<u8>,
    /// The id of the file in the way, once it exists.
    existing: Arc<std::sync::Mutex<Option<String>>>,
}

impl Case {
    async fn new(place: Place, in_the_way: InTheWay) -> Case {
        let Fixture { emulator, client } = fixture(PART, |_| {}).await;
        let size = match place {
            Place::Direct => THRESHOLD / 2,
            _ => 3 * THRESHOLD + 5,
        };
        let source = SourceFile::new(size, 40 + place as u64);
        let content = match in_the_way {
            InTheWay::Other => b"the file in the way".to_vec(),
            InTheWay::Same => std::fs::read(source.path()).unwrap(),
        };
        let existing = Arc::new(std::sync::Mutex::new(None));
        if place == Place::CreateSession {
            emulator.faults().add(
                FaultRule::new(Op::PreflightUpload, FaultAction::status(503)).probability(1.0),
            );
        }
        let emulator = Arc::new(emulator);
        if place != Place::Commit {
            let file = emulator.create_file("0", NAME, &content);
            *existing.lock().unwrap() = Some(file.id);
        }
        Case {
            emulator,
            client,
            source,
            content,
            existing,
        }
    }

    /// An uploader under `policy`; for [`Place::Commit`], one that takes the name when the
    /// first upload starts committing.
    fn uploader(&self, place: Place, policy: ConflictPolicy) -> Uploader {
        let uploader = Uploader::new(self.client.clone())
            .min_file_size(1)
            .direct_upload_threshold(THRESHOLD)
            .retry_pause(Duration::from_millis(20))
            .on_conflict(policy);
        if place != Place::Commit {
            return uploader;
        }
        let emulator = self.emulator.clone();
        let existing = self.existing.clone();
        let content = self.content.clone();
        let done = AtomicBool::new(false);
        uploader.on_progress(move |p| {
            if p.phase == Phase::Committing && !done.swap(true, Ordering::SeqCst) {
                let file = emulator.create_file("0", NAME, &content);
                *existing.lock().unwrap() = Some(file.id);
            }
        })
    }

    fn existing_id(&self) -> String {
        self.existing
            .lock()
            .unwrap()
            .clone()
            .expect("the name was taken")
    }
}

/// Runs one upload of `place` × `policy` × `in_the_way`.
async fn run(
    place: Place,
    policy: ConflictPolicy,
    in_the_way: InTheWay,
) -> (Case, Result<Outcome, UploadError>) {
    let case = Case::new(place, in_the_way).await;
    let result = case
        .uploader(place, policy)
        .upload(Source::path(case.source.path()), "0", NAME)
        .await;
    (case, result)
}

const PLACES: [Place; 4] = [
    Place::Preflight,
    Place::Direct,
    Place::CreateSession,
    Place::Commit,
];

/// The calls of the upload itself, as the emulator counted them.
fn sent(emulator: &Emulator) -> (u64, u64, u64) {
    let stats = emulator.stats();
    (
        stats.requests(Op::UploadFile) + stats.requests(Op::UploadFileVersion),
        stats.requests(Op::CreateSession) + stats.requests(Op::CreateSessionForFile),
        stats.requests(Op::Commit),
    )
}

#[tokio::test]
async fn fail_names_the_file_in_the_way_wherever_it_is_found() {
    for place in PLACES {
        let (case, result) = run(place, ConflictPolicy::Fail, InTheWay::Other).await;
        let error = result.expect_err("the name is taken");
        let existing = error
            .name_in_use()
            .unwrap_or_else(|| panic!("{place:?}: {error:?}"));
        assert_eq!(existing.id, case.existing_id(), "{place:?}");
        assert!(existing.is_file(), "{place:?}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("the name is taken by file {}", existing.id)),
            "{place:?}: {message}"
        );
        // The file in the way is left as it was, and no session is left open.
        let stored = case.emulator.committed_file(&existing.id).unwrap();
        assert_eq!(stored.version_number, 1, "{place:?}");
        assert!(case.emulator.open_sessions().is_empty(), "{place:?}");
        let (direct, sessions, commits) = sent(&case.emulator);
        let expected = match place {
            Place::Preflight => (0, 0, 0),
            Place::Direct => (1, 0, 0),
            Place::CreateSession => (0, 1, 0),
            Place::Commit => (0, 1, 1),
        };
        assert_eq!((direct, sessions, commits), expected, "{place:?}");
    }
}

#[tokio::test]
async fn skip_leaves_the_file_in_the_way_wherever_it_is_found() {
    for place in PLACES {
        let (case, result) = run(place, ConflictPolicy::Skip, InTheWay::Other).await;
        let outcome = result.unwrap_or_else(|e| panic!("{place:?}: {e}"));
        assert_eq!(outcome.label(), "skipped", "{place:?}");
        let Outcome::Skipped { existing } = &outcome else {
            panic!("{place:?}: {outcome:?}");
        };
        assert_eq!(existing.id, case.existing_id(), "{place:?}");
        assert_eq!(outcome.file_id(), existing.id);
        let stored = case.emulator.committed_file(&existing.id).unwrap();
        assert_eq!(stored.read().unwrap(), b"the file in the way", "{place:?}");
        assert!(case.emulator.open_sessions().is_empty(), "{place:?}");
        // As a file: an error that names it.
        let error = outcome.into_file().expect_err("no file was committed");
        assert!(matches!(error, UploadError::Skipped { .. }), "{error:?}");
    }
}

#[tokio::test]
async fn new_version_replaces_the_content_of_the_file_in_the_way() {
    for place in PLACES {
        let (case, result) = run(place, ConflictPolicy::NewVersion, InTheWay::Other).await;
        let outcome = result.unwrap_or_else(|e| panic!("{place:?}: {e}"));
        assert_eq!(outcome.label(), "new version", "{place:?}");
        let file = outcome.file().expect("a file");
        assert_eq!(file.id, case.existing_id(), "{place:?}");
        let stored = case.emulator.committed_file(&file.id).unwrap();
        assert_eq!(stored.version_number, 2, "{place:?}");
        assert_eq!(stored.sha1, case.source.sha1, "{place:?}");
        assert_eq!(file.sha1.as_deref(), Some(case.source.sha1.as_str()));
        assert!(case.emulator.open_sessions().is_empty(), "{place:?}");
        // The version goes the way its size picks.
        let stats = case.emulator.stats();
        let direct = place == Place::Direct;
        assert_eq!(stats.requests(Op::UploadFileVersion), u64::from(direct));
        assert_eq!(stats.requests(Op::CreateSessionForFile), u64::from(!direct));
    }
}

#[tokio::test]
async fn new_version_of_the_same_content_sends_nothing_more() {
    for place in PLACES {
        let (case, result) = run(place, ConflictPolicy::NewVersion, InTheWay::Same).await;
        let outcome = result.unwrap_or_else(|e| panic!("{place:?}: {e}"));
        assert_eq!(outcome.label(), "unchanged", "{place:?}");
        let Outcome::Unchanged {
            file_id,
            session_id,
        } = &outcome
        else {
            panic!("{place:?}: {outcome:?}");
        };
        assert_eq!(*file_id, case.existing_id(), "{place:?}");
        assert_eq!(*session_id, None, "{place:?}");
        let stored = case.emulator.committed_file(file_id).unwrap();
        assert_eq!(stored.version_number, 1, "{place:?}: no version was made");
        let stats = case.emulator.stats();
        assert_eq!(stats.requests(Op::UploadFileVersion), 0, "{place:?}");
        assert_eq!(stats.requests(Op::CreateSessionForFile), 0, "{place:?}");
        assert!(case.emulator.open_sessions().is_empty(), "{place:?}");
        let error = outcome.into_file().expect_err("nothing was committed");
        assert!(
            error.to_string().contains("nothing was sent"),
            "{place:?}: {error}"
        );
    }
}

#[tokio::test]
async fn a_folder_in_the_way_fails_whatever_the_policy() {
    let fx = fixture(PART, |_| {}).await;
    let folder = fx.emulator.create_folder("0", NAME);
    let source = SourceFile::new(THRESHOLD / 2, 50);
    for policy in [ConflictPolicy::Skip, ConflictPolicy::NewVersion] {
        let error = fx
            .uploader()
            .direct_upload_threshold(THRESHOLD)
            .on_conflict(policy)
            .upload(Source::path(source.path()), "0", NAME)
            .await
            .expect_err("a folder is no file");
        let existing = error.name_in_use().expect("a conflict");
        assert_eq!(
            (existing.id.as_str(), existing.is_file()),
            (folder.as_str(), false)
        );
        assert!(
            error
                .to_string()
                .contains(&format!("taken by folder {folder}")),
            "{error}"
        );
    }
}

/// The file changed between the conflict and the new version: `if-match` fails (412), in
/// one request and in parts, with an error that says so.
#[tokio::test]
async fn a_new_version_of_a_file_that_changed_meanwhile_is_refused() {
    for (size, op) in [
        (THRESHOLD / 2, Op::UploadFileVersion),
        (3 * THRESHOLD, Op::Commit),
    ] {
        let fx = fixture(PART, |_| {}).await;
        let taken = fx.emulator.create_file("0", NAME, b"old");
        let precondition = FaultAction::Status {
            status: 412,
            code: "precondition_failed".into(),
            retry_after: None,
        };
        fx.emulator
            .faults()
            .add(FaultRule::new(op, precondition).times(1));
        let source = SourceFile::new(size, 51);
        let error = fx
            .uploader()
            .direct_upload_threshold(THRESHOLD)
            .on_conflict(ConflictPolicy::NewVersion)
            .upload(Source::path(source.path()), "0", NAME)
            .await
            .expect_err("the file changed");
        assert!(
            matches!(error.cause(), UploadError::FileChanged { .. }),
            "{op:?}: {error:?}"
        );
        assert_eq!(error.status(), Some(412));
        let message = error.to_string();
        assert!(
            message.contains(&format!("file {} changed after it was found", taken.id))
                && message.contains("etag is no longer 0"),
            "{op:?}: {message}"
        );
        assert_eq!(
            fx.emulator
                .committed_file(&taken.id)
                .unwrap()
                .version_number,
            1
        );
        assert!(fx.emulator.open_sessions().is_empty(), "{op:?}");
    }
}

/// A reader sent in parts cannot be read again: when the name is taken at its commit,
/// `NewVersion` fails with the conflict instead of sending something else.
#[tokio::test]
async fn a_reader_that_meets_the_name_at_the_commit_is_not_sent_again() {
    let case = Case::new(Place::Commit, InTheWay::Other).await;
    let bytes = std::fs::read(case.source.path()).unwrap();
    let error = case
        .uploader(Place::Commit, ConflictPolicy::NewVersion)
        .upload(Source::reader(&bytes[..], bytes.len() as u64), "0", NAME)
        .await
        .expect_err("a reader cannot be read again");
    let existing = error.name_in_use().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(existing.id, case.existing_id());
    let stored = case.emulator.committed_file(&existing.id).unwrap();
    assert_eq!(stored.version_number, 1, "the file in the way is untouched");
    assert!(case.emulator.open_sessions().is_empty());
    assert_eq!(case.emulator.stats().requests(Op::CreateSessionForFile), 0);
}
