//! The engine's hooks for tools: a request budget shared by uploads, and the report of
//! each new session before its first part.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use box_upload::SessionInfo;
use tokio::sync::Semaphore;

mod common;
use common::{MIB, SourceFile, fixture};

const PART: u64 = 64 * 1024;

/// Two uploads of four parts at a time each, given one budget of three: never more than
/// three requests in flight together (and more than one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_given_one_budget_never_pass_it_together() {
    let fx = fixture(PART, |config| {
        config.link_latency = Duration::from_millis(10)
    })
    .await;
    let budget = Arc::new(Semaphore::new(3));
    let uploader = fx.uploader().concurrency(4).request_budget(budget.clone());
    let (a, b) = (SourceFile::new(MIB, 1), SourceFile::new(MIB, 2));
    let (file_a, file_b) = tokio::join!(
        uploader.upload_path(a.path(), "0", "a.bin"),
        uploader.upload_path(b.path(), "0", "b.bin"),
    );
    fx.assert_committed(&file_a.unwrap(), &a);
    fx.assert_committed(&file_b.unwrap(), &b);
    let most = fx.emulator.stats().max_requests_in_flight;
    assert!((2..=3).contains(&most), "{most} requests in flight at most");
    assert_eq!(budget.available_permits(), 3, "every permit is given back");
}

/// The session is reported once, checked, before any part is read.
#[tokio::test]
async fn a_new_session_is_reported_before_its_first_part() {
    let fx = fixture(PART, |_| {}).await;
    let source = SourceFile::new(5 * PART + 1, 3);
    let reported: Arc<Mutex<Vec<SessionInfo>>> = Arc::default();
    let read_before_report = Arc::new(AtomicBool::new(false));
    let uploader = {
        let (reported, early) = (reported.clone(), read_before_report.clone());
        let seen = reported.clone();
        fx.uploader()
            .on_session_created(move |info| reported.lock().unwrap().push(info.clone()))
            .on_progress(move |p| {
                if p.read_bytes > 0 && seen.lock().unwrap().is_empty() {
                    early.store(true, Ordering::SeqCst);
                }
            })
    };
    let file = uploader
        .upload_path(source.path(), "0", "s.bin")
        .await
        .unwrap();
    fx.assert_committed(&file, &source);
    assert!(
        !read_before_report.load(Ordering::SeqCst),
        "a part was read first"
    );
    let infos = reported.lock().unwrap().clone();
    assert_eq!(infos.len(), 1);
    let info = &infos[0];
    assert_eq!(
        (info.part_size, info.total_parts, info.size),
        (PART, 6, 5 * PART + 1)
    );
    assert!(box_upload::is_box_id(&info.session_id));
    assert!(
        info.upload_part_url
            .as_deref()
            .is_some_and(|url| url.ends_with(&info.session_id)),
        "{info:?}"
    );
}
