//! Every kind of injected fault, seen from a raw HTTP client.

mod common;

use std::time::{Duration, Instant};

use box_emulator::{EmulatorConfig, FaultAction, FaultRule, Op, PartSizePolicy};
use common::*;
use reqwest::Method;

#[tokio::test]
async fn status_faults_answer_client_errors_with_retry_after() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    emulator.faults().add(FaultRule::new(
        Op::CreateSession,
        FaultAction::status(429).retry_after(3),
    ));
    let file = data(3000, 1);
    let answer = api
        .create_session_raw(
            &serde_json::json!({"folder_id": "0", "file_name": "a", "file_size": 3000}),
        )
        .await;
    answer.error(429, "too_many_requests");
    assert_eq!(answer.header("retry-after"), Some("3"));
    let session = api.create_session("0", "a", file.len()).await;

    emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::status(503).retry_after(1))
            .times(2)
            .at_offset(1024),
    );
    api.put_part(&session, &file[..1024], 0, file.len())
        .await
        .ok(200);
    for _ in 0..2 {
        let answer = api
            .put_part(&session, &file[1024..2048], 1024, file.len())
            .await;
        answer.error(503, "unavailable");
        assert_eq!(answer.header("retry-after"), Some("1"));
    }
    api.put_part(&session, &file[1024..2048], 1024, file.len())
        .await
        .ok(200);

    let fired = emulator.faults().fired();
    assert_eq!(fired.len(), 3);
    assert_eq!(fired[0].op, Op::CreateSession);
    assert_eq!(fired[1].op, Op::UploadPart);
    assert_eq!(fired[1].offset, Some(1024));
    assert_eq!(fired[2].session_id.as_deref(), session["id"].as_str());
    let stats = emulator.stats();
    assert_eq!(stats.requests(Op::CreateSession), 2);
    assert_eq!(stats.requests(Op::UploadPart), 4);
    assert_eq!(stats.parts_stored, 2);
    let id = session["id"].as_str().unwrap();
    assert_eq!(stats.part_uploads_at(id, 1024), 3);
    let statuses: Vec<Option<u16>> = stats.part_uploads.iter().map(|u| u.status).collect();
    assert_eq!(statuses, [Some(200), Some(503), Some(503), Some(200)]);
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_stores_nothing() {
    let emulator = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(1 << 20),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(3 << 20, 2);
    let session = api.create_session("0", "drop.bin", file.len()).await;
    emulator.faults().add(
        FaultRule::new(
            Op::UploadPart,
            FaultAction::DropConnection {
                after_bytes: 100_000,
            },
        )
        .at_offset(1 << 20),
    );
    let part = &file[1 << 20..2 << 20];
    let error = api
        .put_part_request(&session, part, 1 << 20, file.len())
        .send()
        .await
        .expect_err("no answer, a transport error");
    // Typically "connection reset by peer": the rest of the body was never read.
    assert!(
        error.is_request() && !error.is_status() && !error.is_timeout(),
        "{error:?}"
    );

    // Nothing was stored; sending it again works.
    assert_eq!(api.list_parts(&session, "").await.ok(200)["total_count"], 0);
    let stats = emulator.stats();
    assert_eq!(stats.part_uploads[0].status, None);
    assert_eq!(stats.part_bytes_received, 0);
    api.put_part(&session, part, 1 << 20, file.len())
        .await
        .ok(200);

    // Also for calls without a body.
    emulator.faults().add(FaultRule::new(
        Op::GetSession,
        FaultAction::DropConnection { after_bytes: 0 },
    ));
    let url = session["session_endpoints"]["status"].as_str().unwrap();
    let error = api
        .request(Method::GET, url)
        .send()
        .await
        .expect_err("dropped");
    assert!(!error.is_status(), "{error:?}");
    api.status(&session).await.ok(200);
}

#[tokio::test]
async fn a_lost_response_hides_a_stored_part() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let file = data(2048, 3);
    let session = api.create_session("0", "lost.bin", file.len()).await;
    emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::LoseResponse));
    api.put_part_request(&session, &file[..1024], 0, file.len())
        .send()
        .await
        .expect_err("the answer is lost");
    // The part is there; sending it again unchanged is answered 200 with the same part.
    let listed = api.list_parts(&session, "").await.ok(200);
    assert_eq!(listed["total_count"], 1);
    let part = api
        .put_part(&session, &file[..1024], 0, file.len())
        .await
        .ok(200)["part"]
        .clone();
    assert_eq!(part, listed["entries"][0]);
    let stats = emulator.stats();
    assert_eq!((stats.parts_stored, stats.parts_repeated), (1, 1));

    // A lost commit answer: the file exists, and the session is gone (a retry gets 404).
    let parts = vec![
        part,
        api.put_part(&session, &file[1024..], 1024, file.len())
            .await
            .ok(200)["part"]
            .clone(),
    ];
    emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::LoseResponse));
    let url = session["session_endpoints"]["commit"].as_str().unwrap();
    api.request(Method::POST, url)
        .header("digest", digest(&file))
        .body(serde_json::to_vec(&serde_json::json!({"parts": parts})).unwrap())
        .send()
        .await
        .expect_err("the answer is lost");
    assert!(emulator.find_file("0", "lost.bin").is_some());
    api.commit(&session, &parts, &file)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn delays_and_hangs() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let session = api.create_session("0", "slow.bin", 2000).await;

    emulator.faults().add(FaultRule::new(
        Op::GetSession,
        FaultAction::Delay(Duration::from_millis(300)),
    ));
    let started = Instant::now();
    api.status(&session).await.ok(200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    emulator
        .faults()
        .add(FaultRule::new(Op::ListParts, FaultAction::Hang));
    let url = session["session_endpoints"]["list_parts"].as_str().unwrap();
    let error = api
        .request(Method::GET, url)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    api.list_parts(&session, "").await.ok(200);
}

#[tokio::test]
async fn injected_commit_answers() {
    let emulator = start(EmulatorConfig {
        retry_after_secs: 5,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(2500, 4);
    let session = api.create_session("0", "c.bin", file.len()).await;
    let parts = api.put_all(&session, &file).await;
    emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::PartsMismatch));
    emulator
        .faults()
        .add(FaultRule::new(Op::Any, FaultAction::CommitAccepted).times(2));
    api.commit(&session, &parts, &file)
        .await
        .error(400, "parts_mismatch");
    for _ in 0..2 {
        let answer = api.commit(&session, &parts, &file).await;
        assert_eq!(answer.status.as_u16(), 202);
        assert_eq!(answer.header("retry-after"), Some("5"));
        assert!(answer.body.is_empty());
    }
    api.commit(&session, &parts, &file).await.ok(201);
    assert_eq!(emulator.stats().commits_accepted, 2);
    assert_eq!(emulator.faults().fired().len(), 3);
}

/// An emulator with small parts whose random fault draws start from `seed`.
async fn start_seeded(seed: u64) -> box_emulator::Emulator {
    start(EmulatorConfig {
        fault_seed: Some(seed),
        ..small_config()
    })
    .await
}

#[tokio::test]
async fn probabilistic_faults_follow_the_seed() {
    async fn pattern(seed: u64) -> Vec<bool> {
        let emulator = start_seeded(seed).await;
        assert_eq!(emulator.faults().seed(), seed);
        let api = Api::new(&emulator);
        let session = api.create_session("0", "p.bin", 2000).await;
        emulator
            .faults()
            .add(FaultRule::new(Op::Any, FaultAction::status(500)).probability(0.5));
        let mut hits = Vec::new();
        for _ in 0..24 {
            let answer = api.status(&session).await;
            hits.push(answer.status.as_u16() == 500);
        }
        assert_eq!(
            emulator.faults().fired().len(),
            hits.iter().filter(|h| **h).count()
        );
        hits
    }
    let first = pattern(42).await;
    assert_eq!(first, pattern(42).await);
    let hits = first.iter().filter(|h| **h).count();
    assert!((3..=21).contains(&hits), "{hits} of 24");
}

/// A server that stops reading a part in its middle: a client with a body larger than the
/// socket buffers stays blocked writing (it cannot even hand over the whole body) until its
/// own timeout; nothing is stored, and the same part goes through afterwards.
#[tokio::test]
async fn a_stalled_body_blocks_the_client_until_its_timeout() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    const PART: usize = 32 << 20;
    let emulator = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(PART as u64),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(PART + 1, 9);
    let session = api.create_session("0", "stall.bin", file.len()).await;
    emulator.faults().add(FaultRule::new(
        Op::UploadPart,
        FaultAction::StallBody {
            after_bytes: 1 << 20,
        },
    ));
    // The body as a stream, counting what the client managed to hand to the connection.
    let handed = Arc::new(AtomicU64::new(0));
    let part = bytes::Bytes::copy_from_slice(&file[..PART]);
    let chunks: Vec<bytes::Bytes> = (0..PART)
        .step_by(64 << 10)
        .map(|at| part.slice(at..(at + (64 << 10)).min(PART)))
        .collect();
    let counter = handed.clone();
    let stream = futures_util::stream::iter(chunks.into_iter().map(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk)
    }));
    let url = session["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap();
    let started = Instant::now();
    let error = api
        .request(Method::PUT, url)
        .header("digest", digest(&part))
        .header(
            "content-range",
            format!("bytes 0-{}/{}", PART - 1, file.len()),
        )
        .body(reqwest::Body::wrap_stream(stream))
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    let handed = handed.load(Ordering::SeqCst);
    assert!(
        handed < PART as u64,
        "the client handed over all {handed} bytes: the server did not stop reading"
    );
    let fired = emulator.faults().fired();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].action,
        FaultAction::StallBody {
            after_bytes: 1 << 20
        }
    );
    assert_eq!(emulator.stats().part_uploads[0].status, None);
    assert_eq!(api.list_parts(&session, "").await.ok(200)["total_count"], 0);
    api.put_part(&session, &file[..PART], 0, file.len())
        .await
        .ok(200);
}

fn fired_actions(emulator: &box_emulator::Emulator) -> Vec<FaultAction> {
    emulator
        .faults()
        .fired()
        .into_iter()
        .map(|f| f.action)
        .collect()
}

/// A weighted mix drawn per request: only the kinds that apply to each operation, each
/// recorded as drawn, the same draws for the same seed.
#[tokio::test]
async fn a_mix_of_faults_is_drawn_per_request() {
    async fn run(seed: u64) -> Vec<FaultAction> {
        let emulator = start_seeded(seed).await;
        let api = Api::new(&emulator);
        let file = data(1024, 5);
        let session = api.create_session("0", "mix.bin", file.len()).await;
        let mix = FaultAction::one_of([
            (1, FaultAction::status(503)),
            (1, FaultAction::Delay(Duration::from_millis(10))),
            (1, FaultAction::PartsMismatch),
        ]);
        emulator
            .faults()
            .add(FaultRule::new(Op::Any, mix.clone()).probability(0.5));
        let mut seen = Vec::new();
        for _ in 0..30 {
            let answer = api.status(&session).await;
            seen.push(answer.status.as_u16());
        }
        let fired = fired_actions(&emulator);
        // Status calls never get the commit-only kind; 503s and delays show in the answers.
        assert!(!fired.contains(&FaultAction::PartsMismatch), "{fired:?}");
        let unavailable = fired
            .iter()
            .filter(|a| matches!(a, FaultAction::Status { status: 503, .. }))
            .count();
        assert_eq!(seen.iter().filter(|s| **s == 503).count(), unavailable);
        assert_eq!(seen.iter().filter(|s| **s == 200).count(), 30 - unavailable);
        assert!(unavailable > 0 && unavailable < fired.len(), "{fired:?}");
        // Commits may draw every kind.
        emulator.faults().clear();
        let parts = api.put_all(&session, &file).await;
        emulator
            .faults()
            .add(FaultRule::new(Op::Commit, mix).probability(1.0));
        let mut mismatches = 0;
        for _ in 0..12 {
            let answer = api.commit(&session, &parts, &file).await;
            if answer.status.as_u16() == 400 {
                answer.error(400, "parts_mismatch");
                mismatches += 1;
            }
        }
        let fired = fired_actions(&emulator);
        assert_eq!(
            fired
                .iter()
                .filter(|a| **a == FaultAction::PartsMismatch)
                .count(),
            mismatches
        );
        assert!(mismatches > 0, "{fired:?}");
        fired
    }
    let first = run(11).await;
    assert_eq!(first, run(11).await);
}

/// A slow link: the body is read at the given pace, then the part is stored as usual.
#[tokio::test]
async fn a_slow_body_is_read_at_its_pace_and_stored() {
    let emulator = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(256 << 10),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(256 << 10, 6);
    let session = api.create_session("0", "slow-link.bin", file.len()).await;
    emulator.faults().add(FaultRule::new(
        Op::UploadPart,
        FaultAction::SlowBody {
            bytes_per_sec: 512 << 10,
        },
    ));
    let started = Instant::now();
    api.put_part(&session, &file, 0, file.len()).await.ok(200);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emulator.stats().parts_stored, 1);
    assert_eq!(emulator.faults().fired().len(), 1);
}
