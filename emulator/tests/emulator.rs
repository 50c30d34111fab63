//! The emulator against raw HTTP: the happy path, every refusal, auth, the second host,
//! expiry and the command-line binary. Fault injection is in `faults.rs`.

mod common;

use std::time::Duration;

use box_emulator::{EmulatorConfig, PartSizePolicy};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn full_upload_out_of_order_with_pagination_and_a_202() {
    let emulator = start(EmulatorConfig {
        commit_processing_polls: 1,
        retry_after_secs: 2,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let folder = emulator.create_folder("0", "Videos");
    let file = data(5000, 1);

    let session = api.create_session(&folder, "clip.mov", file.len()).await;
    assert_eq!(session["type"], "upload_session");
    assert_eq!(session["part_size"], 1024);
    assert_eq!(session["total_parts"], 5);
    assert_eq!(session["num_parts_processed"], 0);
    let id = session["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    let expires =
        chrono::DateTime::parse_from_rfc3339(session["session_expires_at"].as_str().unwrap())
            .unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days}");
    let endpoints = &session["session_endpoints"];
    let base = format!("{}/files/upload_sessions/{id}", emulator.session_url());
    assert_eq!(endpoints["upload_part"], base);
    assert_eq!(endpoints["status"], base);
    assert_eq!(endpoints["abort"], base);
    assert_eq!(endpoints["commit"], format!("{base}/commit"));
    assert_eq!(endpoints["list_parts"], format!("{base}/parts"));
    assert_eq!(endpoints["log_event"], format!("{base}/log"));

    // Parts out of order; the last one streamed with Transfer-Encoding: chunked.
    for index in [3usize, 0, 2, 1] {
        let bytes = &file[index * 1024..(index + 1) * 1024];
        let part = api
            .put_part(&session, bytes, index * 1024, file.len())
            .await
            .ok(200)["part"]
            .clone();
        assert_eq!(part["offset"], index * 1024);
        assert_eq!(part["size"], 1024);
        assert_eq!(part["sha1"], sha1_hex(bytes));
        let part_id = part["part_id"].as_str().unwrap();
        assert!(
            part_id.len() == 8
                && part_id
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
    let last = file[4096..].to_vec();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        last.chunks(100).map(|c| Ok(c.to_vec())).collect();
    let answer = api
        .send(
            api.request(Method::PUT, endpoints["upload_part"].as_str().unwrap())
                .header("digest", digest(&last))
                .header("content-range", format!("bytes 4096-4999/{}", file.len()))
                .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    chunks,
                ))),
        )
        .await;
    assert_eq!(answer.ok(200)["part"]["size"], 904);

    assert_eq!(api.status(&session).await.ok(200)["num_parts_processed"], 5);

    // Pages of two, ordered by offset.
    let mut parts = Vec::new();
    for offset in [0, 2, 4] {
        let page = api
            .list_parts(&session, &format!("?offset={offset}&limit=2"))
            .await
            .ok(200);
        assert_eq!(page["total_count"], 5);
        assert_eq!(page["offset"], offset);
        assert_eq!(page["limit"], 2);
        parts.extend(page["entries"].as_array().unwrap().iter().cloned());
    }
    let offsets: Vec<u64> = parts
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 1024, 2048, 3072, 4096]);

    // The first commit is "still processing".
    let answer = api.commit(&session, &parts, &file).await;
    assert_eq!(answer.status.as_u16(), 202);
    assert_eq!(answer.header("retry-after"), Some("2"));
    assert!(answer.body.is_empty());

    let commit_url = endpoints["commit"].as_str().unwrap();
    let answer = api
        .send(
            api.request(Method::POST, commit_url)
                .header("digest", digest(&file))
                .header("content-type", "application/json")
                .body(
                    serde_json::to_vec(&json!({
                        "parts": parts,
                        "attributes": {"content_modified_at": "2020-01-02T03:04:05-08:00"},
                    }))
                    .unwrap(),
                ),
        )
        .await;
    let files = answer.ok(201);
    assert_eq!(files["total_count"], 1);
    let entry = &files["entries"][0];
    assert_eq!(entry["type"], "file");
    assert_eq!(entry["name"], "clip.mov");
    assert_eq!(entry["size"], 5000);
    assert_eq!(entry["sha1"], sha1_hex(&file));
    assert_eq!(entry["file_version"]["type"], "file_version");
    assert_eq!(entry["file_version"]["sha1"], sha1_hex(&file));
    assert_eq!(entry["etag"], "0");
    assert_eq!(entry["sequence_id"], "0");
    assert_eq!(entry["item_status"], "active");
    assert_eq!(entry["parent"]["id"], folder);
    assert_eq!(entry["parent"]["type"], "folder");
    assert_eq!(entry["path_collection"]["total_count"], 2);
    assert_eq!(entry["path_collection"]["entries"][0]["id"], "0");
    assert_eq!(entry["path_collection"]["entries"][1]["name"], "Videos");
    assert_eq!(entry["content_modified_at"], "2020-01-02T11:04:05+00:00");
    assert_eq!(entry["extension"], "mov");

    let file_id = entry["id"].as_str().unwrap();
    let stored = emulator.committed_file(file_id).expect("committed");
    assert_eq!(stored.read().unwrap(), file);
    assert_eq!(stored.sha1, sha1_hex(&file));
    assert_eq!(stored.parent_id, folder);
    assert_eq!(emulator.find_file(&folder, "clip.mov"), Some(stored));

    let content = api
        .send(api.request(
            Method::GET,
            &format!("{}/files/{file_id}/content", emulator.api_url()),
        ))
        .await;
    assert_eq!(content.status.as_u16(), 200);
    assert_eq!(content.body, file);
    let json = api
        .send(api.request(
            Method::GET,
            &format!("{}/files/{file_id}", emulator.api_url()),
        ))
        .await
        .ok(200);
    assert_eq!(json["sha1"], sha1_hex(&file));

    // The session is gone.
    assert!(emulator.open_sessions().is_empty());
    api.status(&session).await.error(404, "not_found");
    api.commit(&session, &parts, &file)
        .await
        .error(404, "not_found");

    let stats = emulator.stats();
    assert_eq!(stats.parts_stored, 5);
    assert_eq!(stats.commits_accepted, 1);
    assert_eq!(stats.files_committed, 1);
    assert_eq!(stats.part_bytes_received, 5000);
    emulator.shutdown().await;
}

#[tokio::test]
async fn parts_upload_concurrently_with_box_sized_parts() {
    let emulator = start(EmulatorConfig {
        token: Some(TOKEN.to_string()),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(20_000_000 + 12_345, 2);
    let session = api.create_session("0", "big.bin", file.len()).await;
    assert_eq!(session["part_size"], 8 * 1024 * 1024);
    assert_eq!(session["total_parts"], 3);
    let part_size = 8 * 1024 * 1024;
    let uploads = file.chunks(part_size).enumerate().map(|(i, chunk)| {
        let request = api.put_part_request(&session, chunk, i * part_size, file.len());
        async move { Answer::read(request.send().await.unwrap()).await.ok(200)["part"].clone() }
    });
    let parts = futures_util::future::join_all(uploads).await;
    let files = api.commit(&session, &parts, &file).await.ok(201);
    let stored = emulator
        .committed_file(files["entries"][0]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored.size, file.len() as u64);
    assert_eq!(stored.sha1, sha1_hex(&file));
}

#[tokio::test]
async fn create_session_refusals() {
    let emulator = start(EmulatorConfig {
        min_file_size: 100,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let taken = emulator.create_file("0", "Taken.bin", b"x");
    let long = "x".repeat(256);
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"file_name": "a", "file_size": 100}),
            400,
            "missing_destination",
        ),
        (
            json!({"folder_id": null, "file_name": "a", "file_size": 100}),
            400,
            "missing_destination",
        ),
        (
            json!({"folder_id": 0, "file_name": "a", "file_size": 100}),
            400,
            "invalid_folder_id",
        ),
        (
            json!({"folder_id": "abc", "file_name": "a", "file_size": 100}),
            400,
            "invalid_folder_id",
        ),
        (
            json!({"folder_id": "0", "file_size": 100}),
            400,
            "missing_file_name",
        ),
        (
            json!({"folder_id": "0", "file_name": "", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": "a/b", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": "a\\b", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": " a", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": "a ", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": ".", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": "..", "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": long, "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": 7, "file_size": 100}),
            400,
            "item_name_invalid",
        ),
        (
            json!({"folder_id": "0", "file_name": "a"}),
            400,
            "missing_file_size",
        ),
        (
            json!({"folder_id": "0", "file_name": "a", "file_size": "100"}),
            400,
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_name": "a", "file_size": -1}),
            400,
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_name": "a", "file_size": 100.5}),
            400,
            "invalid_file_size",
        ),
        (
            json!({"folder_id": "0", "file_name": "a", "file_size": 99}),
            400,
            "file_size_too_small",
        ),
        (
            json!({"folder_id": "424242", "file_name": "a", "file_size": 100}),
            404,
            "invalid_parameter",
        ),
        (json!([1, 2]), 400, "bad_request"),
    ];
    for (body, status, code) in cases {
        let answer = api.create_session_raw(&body).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{body}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.error(status, code);
    }
    let answer = api
        .send(
            api.request(
                Method::POST,
                &format!("{}/files/upload_sessions", api.upload),
            )
            .body("{not json"),
        )
        .await;
    answer.error(400, "bad_request");

    // Names clash whatever their case.
    let conflict = api
        .create_session_raw(&json!({"folder_id": "0", "file_name": "taken.BIN", "file_size": 100}))
        .await
        .error(409, "item_name_in_use");
    assert_eq!(conflict["context_info"]["conflicts"]["id"], taken.id);
    assert_eq!(conflict["context_info"]["conflicts"]["type"], "file");
    assert!(emulator.open_sessions().is_empty());
}

#[tokio::test]
async fn a_new_version_replaces_the_content() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let old = emulator.create_file("0", "doc.bin", b"old content");
    emulator.create_file("0", "other.bin", b"other");

    let url = |id: &str| format!("{}/files/{id}/upload_sessions", emulator.upload_url());
    api.post_json(&url("999999"), &json!({"file_size": 10}))
        .await
        .error(404, "not_found");
    api.post_json(&url(&old.id), &json!({}))
        .await
        .error(400, "missing_file_size");
    api.post_json(
        &url(&old.id),
        &json!({"file_size": 10, "file_name": "Other.bin"}),
    )
    .await
    .error(409, "item_name_in_use");

    let file = data(2500, 3);
    let session = api
        .post_json(
            &url(&old.id),
            &json!({"file_size": file.len(), "file_name": "doc-v2.bin"}),
        )
        .await
        .ok(201);
    let parts = api.put_all(&session, &file).await;
    // if-match against the file's etag: "1" is wrong, "0" is right.
    api.commit_with(&session, &parts, &digest(&file), &[("if-match", "1")])
        .await
        .error(412, "precondition_failed");
    let entry = api
        .commit_with(&session, &parts, &digest(&file), &[("if-match", "0")])
        .await
        .ok(201)["entries"][0]
        .clone();
    assert_eq!(entry["id"], old.id.as_str());
    assert_eq!(entry["name"], "doc-v2.bin");
    assert_eq!(entry["etag"], "1");
    assert_eq!(entry["version_number"], "2");
    assert_ne!(entry["file_version"]["id"], old.version_id.as_str());
    let stored = emulator.committed_file(&old.id).unwrap();
    assert_eq!(stored.read().unwrap(), file);
    assert!(!old.path.exists(), "the old version's bytes are deleted");
}

#[tokio::test]
async fn part_upload_refusals() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let file = data(5000, 4);
    let session = api.create_session("0", "f.bin", file.len()).await;
    let url = session["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |range: Option<String>, digest_header: Option<String>, body: Vec<u8>| {
        let mut request = api.request(Method::PUT, &url).body(body);
        if let Some(range) = range {
            request = request.header("content-range", range);
        }
        if let Some(digest_header) = digest_header {
            request = request.header("digest", digest_header);
        }
        api.send(request)
    };
    let first = file[..1024].to_vec();
    let good_digest = Some(digest(&first));
    let range = |a: usize, b: usize, total: usize| Some(format!("bytes {a}-{b}/{total}"));

    put(None, good_digest.clone(), first.clone())
        .await
        .error(400, "bad_request");
    put(
        Some("bytes 0-1023".into()),
        good_digest.clone(),
        first.clone(),
    )
    .await
    .error(400, "bad_request");
    put(
        Some("bytes 1023-0/5000".into()),
        good_digest.clone(),
        first.clone(),
    )
    .await
    .error(400, "bad_request");
    put(range(0, 1023, 5000), None, first.clone())
        .await
        .error(400, "bad_request");
    put(range(0, 1023, 5000), Some("md5=abc".into()), first.clone())
        .await
        .error(400, "bad_request");
    put(
        range(0, 1023, 5000),
        Some("sha=not base64!".into()),
        first.clone(),
    )
    .await
    .error(400, "bad_request");

    let misfit = |answer: Answer, reason: &str| {
        let json = answer.error(416, "range_not_satisfiable");
        assert_eq!(json["context_info"]["reason"], reason);
    };
    misfit(
        put(range(0, 1023, 4999), good_digest.clone(), first.clone()).await,
        "total_mismatch",
    );
    misfit(
        put(range(512, 1535, 5000), good_digest.clone(), first.clone()).await,
        "misaligned",
    );
    misfit(
        put(
            range(0, 511, 5000),
            Some(digest(&first[..512])),
            first[..512].to_vec(),
        )
        .await,
        "wrong_size",
    );
    misfit(
        put(
            range(4096, 4998, 5000),
            Some(digest(&file[4096..4999])),
            file[4096..4999].to_vec(),
        )
        .await,
        "wrong_size",
    );
    misfit(
        put(range(5120, 6143, 5000), good_digest.clone(), first.clone()).await,
        "past_end",
    );

    // Digest of other bytes.
    let json = put(range(0, 1023, 5000), Some(digest(b"other")), first.clone())
        .await
        .error(412, "digest_mismatch");
    assert!(json["context_info"]["expected"].is_string());

    // A body shorter than its range (chunked, so no content-length gives it away).
    let short =
        reqwest::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            first[..1000].to_vec(),
        )]));
    api.send(
        api.request(Method::PUT, &url)
            .header("content-range", "bytes 0-1023/5000")
            .header("digest", digest(&first))
            .body(short),
    )
    .await
    .error(400, "bad_request");
    // Longer than its range.
    let long =
        reqwest::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            file[..2048].to_vec(),
        )]));
    api.send(
        api.request(Method::PUT, &url)
            .header("content-range", "bytes 0-1023/5000")
            .header("digest", digest(&first))
            .body(long),
    )
    .await
    .error(400, "bad_request");
    assert_eq!(emulator.stats().parts_stored, 0);

    // Stored once; the same bytes again are fine (same part), other bytes conflict.
    let part = put(
        range(0, 1023, 5000),
        Some(format!("SHA={}", &digest(&first)[4..])),
        first.clone(),
    )
    .await
    .ok(200)["part"]
        .clone();
    let again = put(range(0, 1023, 5000), good_digest.clone(), first.clone())
        .await
        .ok(200)["part"]
        .clone();
    assert_eq!(part, again);
    let other = file[1024..2048].to_vec();
    let conflict = put(range(0, 1023, 5000), Some(digest(&other)), other)
        .await
        .error(409, "conflict");
    assert_eq!(
        conflict["context_info"]["conflicts"]["part_id"],
        part["part_id"]
    );
    let stats = emulator.stats();
    assert_eq!((stats.parts_stored, stats.parts_repeated), (1, 1));
    assert_eq!(
        stats.part_uploads_at(session["id"].as_str().unwrap(), 0),
        11
    );

    // No such session.
    let unknown = format!(
        "{}/files/upload_sessions/0123456789ABCDEF0123456789ABCDEF",
        emulator.upload_url()
    );
    api.send(
        api.request(Method::PUT, &unknown)
            .header("content-range", "bytes 0-1023/5000")
            .header("digest", digest(&first))
            .body(first.clone()),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn list_parts_refusals() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let session = api.create_session("0", "f.bin", 5000).await;
    for query in [
        "?limit=1001",
        "?limit=0",
        "?limit=x",
        "?offset=10001",
        "?offset=-1",
        "?offset=abc",
    ] {
        api.list_parts(&session, query)
            .await
            .error(400, "bad_request");
    }
    let page = api
        .list_parts(&session, "?offset=10000&limit=1000")
        .await
        .ok(200);
    assert_eq!(page["entries"], json!([]));
    let page = api.list_parts(&session, "").await.ok(200);
    assert_eq!(
        (
            page["limit"].as_u64(),
            page["offset"].as_u64(),
            page["total_count"].as_u64()
        ),
        (Some(100), Some(0), Some(0))
    );
    api.abort(&session).await;
    api.list_parts(&session, "").await.error(404, "not_found");
}

#[tokio::test]
async fn commit_refusals() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let file = data(3000, 5);
    let session = api.create_session("0", "late.bin", file.len()).await;
    let mut parts = Vec::new(); // two of three parts
    for first in [0, 1024] {
        let answer = api
            .put_part(&session, &file[first..first + 1024], first, file.len())
            .await;
        parts.push(answer.ok(200)["part"].clone());
    }

    api.commit_with(&session, &parts, "", &[])
        .await
        .error(400, "bad_request");
    let url = session["session_endpoints"]["commit"].as_str().unwrap();
    api.send(
        api.request(Method::POST, url)
            .header("digest", digest(&file))
            .body("{}"),
    )
    .await
    .error(400, "bad_request");
    api.send(
        api.request(Method::POST, url)
            .header("digest", digest(&file))
            .body(r#"{"parts": [{"offset": 0}]}"#),
    )
    .await
    .error(400, "bad_request");
    let missing = api
        .commit(&session, &parts, &file)
        .await
        .error(400, "parts_mismatch");
    assert_eq!(missing["context_info"]["missing_offsets"], json!([2048]));

    let last = api
        .put_part(&session, &file[2048..], 2048, file.len())
        .await
        .ok(200)["part"]
        .clone();
    let all = [parts[0].clone(), parts[1].clone(), last];
    api.commit(&session, &all[..2], &file)
        .await
        .error(400, "parts_mismatch");
    api.commit(
        &session,
        &[all[1].clone(), all[0].clone(), all[2].clone()],
        &file,
    )
    .await
    .error(400, "parts_mismatch");
    let mut wrong_id = all.clone();
    wrong_id[1]["part_id"] = json!("DEADBEEF");
    api.commit(&session, &wrong_id, &file)
        .await
        .error(400, "parts_mismatch");
    let mut wrong_sha = all.clone();
    wrong_sha[0]["sha1"] = json!(sha1_hex(b"x"));
    api.commit(&session, &wrong_sha, &file)
        .await
        .error(400, "parts_mismatch");

    // Nothing of a new file to match.
    api.commit_with(&session, &all, &digest(&file), &[("if-match", "0")])
        .await
        .error(412, "precondition_failed");
    let json = api
        .commit_with(&session, &all, &digest(b"something else"), &[])
        .await
        .error(400, "digest_mismatch");
    assert!(json["context_info"]["actual"].is_string());

    // The name was taken after the session was created.
    let rival = emulator.create_file("0", "LATE.bin", b"rival");
    let conflict = api
        .commit(&session, &all, &file)
        .await
        .error(409, "item_name_in_use");
    assert_eq!(conflict["context_info"]["conflicts"]["id"], rival.id);
    assert_eq!(emulator.open_sessions(), [session["id"].as_str().unwrap()]);

    // Parts without sha1 are accepted; a failed commit can be retried.
    let session = api.create_session("0", "ok.bin", file.len()).await;
    let mut parts = api.put_all(&session, &file).await;
    for part in &mut parts {
        part.as_object_mut().unwrap().remove("sha1");
    }
    api.commit(&session, &parts, &file).await.ok(201);
}

#[tokio::test]
async fn abort_ends_the_session() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let file = data(2000, 6);
    let session = api.create_session("0", "f.bin", file.len()).await;
    let id = session["id"].as_str().unwrap();
    api.put_part(&session, &file[..1024], 0, file.len())
        .await
        .ok(200);
    let session_dir = emulator.storage_dir().join("sessions").join(id);
    assert!(session_dir.exists());
    assert_eq!(emulator.open_sessions(), [id]);

    let answer = api.abort(&session).await;
    assert_eq!(answer.status.as_u16(), 204);
    assert!(answer.body.is_empty());
    assert!(emulator.open_sessions().is_empty());
    assert!(!session_dir.exists(), "parts are deleted");
    api.status(&session).await.error(404, "not_found");
    api.put_part(&session, &file[1024..], 1024, file.len())
        .await
        .error(404, "not_found");
    api.abort(&session).await.error(404, "not_found");
}

#[tokio::test]
async fn every_call_needs_the_bearer_token() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let url = format!("{}/files/upload_sessions", emulator.upload_url());
    let body =
        serde_json::to_vec(&json!({"folder_id": "0", "file_name": "a", "file_size": 10})).unwrap();
    let http = client();
    let answer = Answer::read(http.post(&url).body(body.clone()).send().await.unwrap()).await;
    answer.error(401, "unauthorized");
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    for value in [
        "Bearer wrong",
        "Bearer ",
        "Basic dGVzdC10b2tlbg==",
        "test-token",
    ] {
        let answer = Answer::read(
            http.post(&url)
                .header("authorization", value)
                .body(body.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer.error(401, "unauthorized");
        assert!(answer.header("www-authenticate").is_some());
    }
    assert_eq!(emulator.stats().unauthorized, 5);
    api.create_session("0", "a", 10).await;

    // Without a configured token any non-empty one is accepted.
    let open = start(EmulatorConfig {
        token: None,
        ..small_config()
    })
    .await;
    let url = format!("{}/files/upload_sessions", open.upload_url());
    let answer = Answer::read(
        http.post(&url)
            .bearer_auth("anything")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.ok(201);
    let answer = Answer::read(http.post(&url).body(body).send().await.unwrap()).await;
    answer.error(401, "unauthorized");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_client_errors() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    api.send(api.request(Method::GET, &format!("{}/nothing/here", emulator.api_url())))
        .await
        .error(404, "not_found");
    api.send(api.request(
        Method::PATCH,
        &format!("{}/files/upload_sessions", emulator.upload_url()),
    ))
    .await
    .error(405, "method_not_allowed");
    // Both roots serve every operation.
    let session = api.create_session("0", "x", 5).await;
    let id = session["id"].as_str().unwrap();
    for root in [emulator.api_url(), emulator.upload_url()] {
        api.send(api.request(Method::GET, &format!("{root}/files/upload_sessions/{id}")))
            .await
            .ok(200);
    }
    // The log_event endpoint exists.
    let answer = api
        .send(api.request(
            Method::POST,
            &format!("{}/files/upload_sessions/{id}/log", emulator.upload_url()),
        ))
        .await;
    assert_eq!(answer.status.as_u16(), 204);
}

#[tokio::test]
async fn session_endpoints_point_at_the_second_host() {
    let emulator = start(EmulatorConfig {
        second_host: true,
        ..small_config()
    })
    .await;
    let second = emulator.second_addr().unwrap();
    assert_ne!(second.port(), emulator.addr().port());
    assert_eq!(emulator.session_url(), format!("http://{second}/api/2.0"));
    let api = Api::new(&emulator);
    let file = data(3000, 7);
    let session = api.create_session("0", "far.bin", file.len()).await;
    for name in [
        "upload_part",
        "commit",
        "abort",
        "list_parts",
        "status",
        "log_event",
    ] {
        let url = session["session_endpoints"][name].as_str().unwrap();
        assert!(
            url.starts_with(&format!("http://{second}/api/2.0/files/upload_sessions/")),
            "{url}"
        );
    }
    assert_eq!(emulator.stats().second_host_requests, 0);
    let parts = api.put_all(&session, &file).await;
    api.list_parts(&session, "").await.ok(200);
    api.commit(&session, &parts, &file).await.ok(201);
    assert_eq!(emulator.stats().second_host_requests, 5);
    assert_eq!(
        emulator.find_file("0", "far.bin").unwrap().read().unwrap(),
        file
    );
}

#[tokio::test]
async fn sessions_expire() {
    let emulator = start(EmulatorConfig {
        session_ttl: Duration::from_millis(1500),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let session = api.create_session("0", "a.bin", 2000).await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(session["session_expires_at"].as_str().unwrap())
            .unwrap();
    assert!((expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds() <= 2);
    let kept = api.create_session("0", "b.bin", 2000).await;
    emulator.expire_session(kept["id"].as_str().unwrap());
    api.status(&kept).await.error(404, "not_found");
    api.status(&session).await.ok(200);
    assert_eq!(emulator.open_sessions(), [session["id"].as_str().unwrap()]);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(emulator.open_sessions().is_empty());
    api.status(&session).await.error(404, "not_found");
    api.put_part(&session, &data(1024, 0), 0, 2000)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn the_binary_prints_its_roots_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_box-emulator"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--token",
            "T",
            "--min-file-size",
            "1",
            "--part-size",
            "512",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let api_line = lines.next().unwrap().unwrap();
    let upload_line = lines.next().unwrap().unwrap();
    let api_url = api_line.strip_prefix("api ").expect("api line");
    let upload_url = upload_line.strip_prefix("upload ").expect("upload line");
    assert!(
        api_url.starts_with("http://127.0.0.1:") && api_url.ends_with("/2.0"),
        "{api_line}"
    );
    assert_eq!(
        upload_url,
        format!("{}/api/2.0", api_url.trim_end_matches("/2.0"))
    );

    let http = client();
    let body = serde_json::to_vec(&json!({"folder_id": "0", "file_name": "a", "file_size": 2000}))
        .unwrap();
    let answer = http
        .post(format!("{upload_url}/files/upload_sessions"))
        .bearer_auth("T")
        .body(body)
        .send()
        .await;
    let _ = child.kill();
    let _ = child.wait();
    let session = Answer::read(answer.unwrap()).await.ok(201);
    assert_eq!(session["part_size"], 512);
    assert_eq!(session["total_parts"], 4);
}

#[tokio::test]
async fn get_file_routes_404_for_unknown_files() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    api.send(api.request(Method::GET, &format!("{}/files/123", emulator.api_url())))
        .await
        .error(404, "not_found");
    api.send(api.request(
        Method::GET,
        &format!("{}/files/123/content", emulator.api_url()),
    ))
    .await
    .error(404, "not_found");
    let fixed = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(1),
        ..small_config()
    })
    .await;
    let api = Api::new(&fixed);
    assert_eq!(api.create_session("0", "tiny", 3).await["total_parts"], 3);
}

#[tokio::test]
async fn a_slow_assembly_answers_202_until_it_is_done() {
    let emulator = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(1 << 20),
        assembly_wait: Duration::ZERO,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(6 << 20, 8);
    let session = api.create_session("0", "slow.bin", file.len()).await;
    let parts = api.put_all(&session, &file).await;
    // The first commit starts the assembly; with no time to wait it is (almost surely) a 202.
    let mut answers = Vec::new();
    loop {
        let answer = api
            .commit_with(&session, &parts, &digest(b"wrong"), &[])
            .await;
        let status = answer.status.as_u16();
        answers.push(status);
        if status != 202 {
            answer.error(400, "digest_mismatch");
            break;
        }
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert!(answers.len() < 200, "the assembly never ended");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The assembly is kept: the right digest now commits at once.
    let files = api.commit(&session, &parts, &file).await.ok(201);
    assert_eq!(files["entries"][0]["sha1"], sha1_hex(&file));
    assert_eq!(
        emulator.find_file("0", "slow.bin").unwrap().read().unwrap(),
        file
    );
    assert_eq!(
        emulator.stats().commits_accepted as usize,
        answers.len() - 1
    );
}

#[tokio::test]
async fn refusals_of_big_bodies_reach_the_client() {
    let emulator = start(EmulatorConfig {
        part_size: PartSizePolicy::Fixed(1 << 20),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = data(4 << 20, 9);
    let session = api.create_session("0", "big.bin", file.len()).await;
    let url = session["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap();
    // Refused before the body is read: the body is still read (and dropped) first.
    api.put_part(&session, &file[..1 << 20], 512, file.len())
        .await
        .error(416, "range_not_satisfiable");
    let answer = client()
        .put(url)
        .header("content-range", format!("bytes 0-1048575/{}", file.len()))
        .header("digest", digest(&file[..1 << 20]))
        .body(file[..1 << 20].to_vec())
        .send()
        .await
        .expect("an answer, not a reset");
    Answer::read(answer).await.error(401, "unauthorized");
    // Refused in the middle of the body: three times too long.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = file[..3 << 20]
        .chunks(64 << 10)
        .map(|c| Ok(c.to_vec()))
        .collect();
    api.send(
        api.request(Method::PUT, url)
            .header("content-range", format!("bytes 0-1048575/{}", file.len()))
            .header("digest", digest(&file[..1 << 20]))
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            ))),
    )
    .await
    .error(400, "bad_request");
    assert_eq!(emulator.stats().parts_stored, 0);
}
