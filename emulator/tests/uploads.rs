//! Direct uploads, new versions and the preflight check against raw HTTP: every answer and
//! every refusal of the crate's table.

mod common;

use box_emulator::{EmulatorConfig, UnchangedVersion};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn content_url(api: &Api) -> String {
    format!("{}/files/content", api.upload)
}

fn version_url(api: &Api, file_id: &str) -> String {
    format!("{}/files/{file_id}/content", api.upload)
}

/// The entry of a `Files` answer.
fn entry(files: &Value) -> &Value {
    assert_eq!(files["total_count"], 1, "{files}");
    &files["entries"][0]
}

/// Nothing is left behind in the storage's upload area.
fn no_leftovers(emulator: &box_emulator::Emulator) {
    let uploads = std::fs::read_dir(emulator.storage_dir().join("uploads")).unwrap();
    assert_eq!(
        uploads.count(),
        0,
        "temporary upload files were left behind"
    );
}

#[tokio::test]
async fn a_direct_upload_creates_the_file() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let folder = emulator.create_folder("0", "Docs");
    let bytes = data(3000, 1);
    let attributes = json!({
        "name": "report.pdf",
        "parent": {"id": folder},
        "content_created_at": "2019-05-06T07:08:09Z",
        "content_modified_at": "2020-01-02T03:04:05-08:00",
    });
    let sha1 = sha1_hex(&bytes);
    let files = api
        .upload_to(
            &content_url(&api),
            &attributes,
            &bytes,
            &[("content-md5", &sha1)],
        )
        .await
        .ok(201);
    let file = entry(&files);
    assert_eq!(file["type"], "file");
    assert_eq!(file["name"], "report.pdf");
    assert_eq!(file["size"], 3000);
    assert_eq!(file["sha1"], sha1);
    assert_eq!(file["etag"], "0");
    assert_eq!(file["file_version"]["sha1"], sha1);
    assert_eq!(file["parent"]["id"], folder);
    assert_eq!(file["path_collection"]["total_count"], 2);
    assert_eq!(file["content_modified_at"], "2020-01-02T11:04:05+00:00");
    assert_eq!(file["content_created_at"], "2019-05-06T07:08:09+00:00");
    let stored = emulator.find_file(&folder, "report.pdf").expect("stored");
    assert_eq!(stored.id, file["id"]);
    assert_eq!(stored.read().unwrap(), bytes);

    // Empty files, under the API root too, with `fields`: the mini form plus what is asked.
    let url = format!("{}/files/content?fields=size,content_modified_at", api.api);
    let attributes = json!({"name": "empty", "parent": {"id": "0"}});
    let files = api.upload_to(&url, &attributes, b"", &[]).await.ok(201);
    let empty = entry(&files);
    assert_eq!(empty["size"], 0);
    assert_eq!(empty["sha1"], sha1_hex(b""));
    assert!(empty["content_modified_at"].is_string());
    assert!(empty.get("path_collection").is_none(), "{empty}");
    assert_eq!(emulator.find_file("0", "empty").unwrap().size, 0);
    assert_eq!(emulator.stats().files_uploaded, 2);
    // Parts Box does not define are ignored.
    let (content_type, body) = multipart(&[
        ("note", None, b"ignored"),
        (
            "attributes",
            None,
            br#"{"name": "third", "parent": {"id": "0"}}"#,
        ),
        ("file", Some("x"), b"abc"),
        ("after", None, b"ignored too"),
    ]);
    api.send_multipart(&content_url(&api), content_type, body, &[])
        .await
        .ok(201);
    no_leftovers(&emulator);
    emulator.shutdown().await;
}

#[tokio::test]
async fn direct_upload_refusals() {
    let emulator = start(EmulatorConfig {
        quota: Some(10_000),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let url = content_url(&api);
    let taken = emulator.create_file("0", "Taken.txt", b"old");

    // The file part before the attributes.
    let (content_type, body) = multipart(&[
        ("file", Some("a"), b"abc"),
        (
            "attributes",
            None,
            br#"{"name": "a", "parent": {"id": "0"}}"#,
        ),
    ]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "metadata_after_file_contents");
    let (content_type, body) = multipart(&[("file", Some("a"), b"abc")]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "metadata_after_file_contents");
    // Not multipart, no file part, attributes that are not a JSON object.
    api.send(api.request(Method::POST, &url).body("{}"))
        .await
        .error(400, "bad_request");
    let (content_type, body) = multipart(&[(
        "attributes",
        None,
        br#"{"name": "a", "parent": {"id": "0"}}"#,
    )]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "bad_request");
    let (content_type, body) =
        multipart(&[("attributes", None, b"[1]"), ("file", Some("a"), b"x")]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "bad_request");
    // Attributes: name and parent.id required, valid name, valid dates.
    for (attributes, code) in [
        (json!({"parent": {"id": "0"}}), "bad_request"),
        (json!({"name": "a"}), "bad_request"),
        (json!({"name": "a", "parent": {"id": 0}}), "bad_request"),
        (
            json!({"name": "a/b", "parent": {"id": "0"}}),
            "item_name_invalid",
        ),
        (
            json!({"name": 5, "parent": {"id": "0"}}),
            "item_name_invalid",
        ),
        (
            json!({"name": "a", "parent": {"id": "0"}, "content_modified_at": "yesterday"}),
            "bad_request",
        ),
    ] {
        api.upload_to(&url, &attributes, b"x", &[])
            .await
            .error(400, code);
    }
    // No such folder.
    api.upload_file("4242", "a", b"x")
        .await
        .error(404, "not_found");
    // The name is taken, whatever its case: the conflict names the existing file.
    let answer = api.upload_file("0", "taken.TXT", b"new").await;
    let body = answer.error(409, "item_name_in_use");
    let conflict = &body["context_info"]["conflicts"];
    assert_eq!(conflict["id"], taken.id.as_str());
    assert_eq!(conflict["type"], "file");
    assert_eq!(conflict["name"], "Taken.txt");
    assert_eq!(conflict["sha1"], taken.sha1.as_str());
    assert_eq!(conflict["etag"], "0");
    assert_eq!(conflict["file_version"]["id"], taken.version_id.as_str());
    // Two file parts; attributes over 1 MiB.
    let (content_type, body) = multipart(&[
        (
            "attributes",
            None,
            br#"{"name": "two", "parent": {"id": "0"}}"#,
        ),
        ("file", Some("a"), b"one"),
        ("file", Some("b"), b"two"),
    ]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "bad_request");
    assert!(emulator.find_file("0", "two").is_none());
    let padding = "x".repeat(1 << 20);
    let big = json!({"name": "big", "parent": {"id": "0"}, "description": padding});
    api.upload_to(&url, &big, b"x", &[])
        .await
        .error(400, "bad_request");
    // content-md5 (the hex SHA-1) that does not match.
    let attributes = json!({"name": "bad.bin", "parent": {"id": "0"}});
    let body = api
        .upload_to(
            &url,
            &attributes,
            b"abc",
            &[("content-md5", &sha1_hex(b"abd"))],
        )
        .await
        .error(400, "bad_digest");
    assert_eq!(body["context_info"]["actual"], sha1_hex(b"abc"));
    assert!(emulator.find_file("0", "bad.bin").is_none());
    // Past the quota (10,000 bytes; 3 used).
    api.upload_file("0", "huge.bin", &data(9_998, 1))
        .await
        .error(403, "storage_limit_exceeded");
    api.upload_file("0", "fits.bin", &data(9_997, 1))
        .await
        .ok(201);
    no_leftovers(&emulator);
    assert_eq!(emulator.stats().files_uploaded, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_new_version_by_direct_upload() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let original = emulator.create_file("0", "a.txt", b"one");
    emulator.create_file("0", "other.txt", b"x");
    let url = version_url(&api, &original.id);

    let two = data(2000, 2);
    let answer = api
        .upload_to(
            &url,
            &json!({"name": "b.txt", "content_modified_at": "2021-01-01T00:00:00Z"}),
            &two,
            &[("if-match", "0"), ("content-md5", &sha1_hex(&two))],
        )
        .await;
    let files = answer.ok(200);
    let file = entry(&files);
    assert_eq!(file["id"], original.id.as_str());
    assert_eq!(file["name"], "b.txt");
    assert_eq!(file["etag"], "1");
    assert_eq!(file["sha1"], sha1_hex(&two));
    assert_ne!(file["file_version"]["id"], original.version_id.as_str());
    assert_eq!(file["content_modified_at"], "2021-01-01T00:00:00+00:00");
    let stored = emulator.committed_file(&original.id).unwrap();
    assert_eq!((stored.version_number, stored.read().unwrap()), (2, two));
    assert!(!original.path.exists(), "the old version's content is gone");

    // Without attributes (they are optional here) and without if-match.
    let (content_type, body) = multipart(&[("file", Some("f"), b"three")]);
    let files = api
        .send_multipart(&url, content_type, body, &[])
        .await
        .ok(200);
    assert_eq!(entry(&files)["etag"], "2");
    assert_eq!(entry(&files)["name"], "b.txt");

    // A stale etag, an unknown file, a taken name, attributes after the file.
    api.upload_to(&url, &json!({}), b"x", &[("if-match", "1")])
        .await
        .error(412, "precondition_failed");
    api.upload_to(&version_url(&api, "999"), &json!({}), b"x", &[])
        .await
        .error(404, "not_found");
    api.upload_to(&url, &json!({"name": "OTHER.txt"}), b"x", &[])
        .await
        .error(409, "item_name_in_use");
    let (content_type, body) = multipart(&[("file", Some("f"), b"x"), ("attributes", None, b"{}")]);
    api.send_multipart(&url, content_type, body, &[])
        .await
        .error(400, "metadata_after_file_contents");
    api.upload_to(&url, &json!({}), b"x", &[("content-md5", "00")])
        .await
        .error(400, "bad_digest");
    api.upload_to(&url, &json!({"name": "a\\b"}), b"x", &[])
        .await
        .error(400, "item_name_invalid");
    assert_eq!(
        emulator
            .committed_file(&original.id)
            .unwrap()
            .read()
            .unwrap(),
        b"three"
    );
    no_leftovers(&emulator);
    emulator.shutdown().await;
}

/// Uploads `content` as a new version of `file_id` through a session; returns the session
/// and its parts.
async fn version_session(api: &Api, file_id: &str, content: &[u8]) -> (Value, Vec<Value>) {
    let url = format!("{}/files/{file_id}/upload_sessions", api.upload);
    let session = api
        .post_json(&url, &json!({"file_size": content.len()}))
        .await
        .ok(201);
    let parts = api.put_all(&session, content).await;
    (session, parts)
}

#[tokio::test]
async fn chunked_versions_bump_the_etag_and_unchanged_ones_answer_202() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let first = data(2500, 3);
    let file = emulator.create_file("0", "v.bin", &first);

    // A changed version: if-match is honoured, the etag and version go up.
    let second = data(2500, 4);
    let (session, parts) = version_session(&api, &file.id, &second).await;
    api.commit_with(&session, &parts, &digest(&second), &[("if-match", "7")])
        .await
        .error(412, "precondition_failed");
    let files = api
        .commit_with(&session, &parts, &digest(&second), &[("if-match", "0")])
        .await
        .ok(201);
    assert_eq!(entry(&files)["etag"], "1");
    assert_eq!(entry(&files)["id"], file.id.as_str());
    assert_eq!(emulator.committed_file(&file.id).unwrap().version_number, 2);

    // The same content again: 202 with Retry-After on every commit, and nothing changes.
    let (session, parts) = version_session(&api, &file.id, &second).await;
    for _ in 0..3 {
        let answer = api.commit(&session, &parts, &second).await;
        assert_eq!(answer.status.as_u16(), 202);
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert!(answer.body.is_empty());
    }
    let id = session["id"].as_str().unwrap();
    assert_eq!(emulator.open_sessions(), [id], "the session stays open");
    assert_eq!(emulator.committed_file(&file.id).unwrap().version_number, 2);
    api.abort(&session).await;

    // Configured to commit unchanged versions anyway.
    let emulator = start(EmulatorConfig {
        unchanged_version: UnchangedVersion::NewVersion,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = emulator.create_file("0", "v.bin", &first);
    let (session, parts) = version_session(&api, &file.id, &first).await;
    let files = api.commit(&session, &parts, &first).await.ok(201);
    assert_eq!(entry(&files)["etag"], "1");
}

/// `num_parts_processed` of the session's status.
async fn parts_processed(api: &Api, session: &Value) -> u64 {
    api.status(session).await.ok(200)["num_parts_processed"]
        .as_u64()
        .expect("num_parts_processed")
}

#[tokio::test]
async fn a_version_still_processing_counts_fewer_parts_than_an_unchanged_one() {
    let emulator = start(EmulatorConfig {
        commit_processing_polls: 1,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let first = data(2500, 5);
    let file = emulator.create_file("0", "p.bin", &first);

    // A changed version whose commit is answered 202 while it is processed: fewer parts
    // processed than the session has, so a client cannot take it for unchanged.
    let second = data(2500, 6);
    let (session, parts) = version_session(&api, &file.id, &second).await;
    assert_eq!(session["total_parts"], 3);
    assert_eq!(parts_processed(&api, &session).await, 3, "all parts stored");
    let wrong = digest(b"wrong");
    let answer = api.commit_with(&session, &parts, &wrong, &[]).await;
    assert_eq!(answer.status.as_u16(), 202);
    assert_eq!(parts_processed(&api, &session).await, 2, "still processing");
    // Processing done (this commit is refused for its digest): every part counts again.
    api.commit_with(&session, &parts, &wrong, &[])
        .await
        .error(400, "digest_mismatch");
    assert_eq!(parts_processed(&api, &session).await, 3);
    api.commit(&session, &parts, &second).await.ok(201);

    // An unchanged version: 202 on every commit with every part processed.
    let (session, parts) = version_session(&api, &file.id, &second).await;
    for _ in 0..3 {
        assert_eq!(
            api.commit(&session, &parts, &second).await.status.as_u16(),
            202
        );
    }
    assert_eq!(parts_processed(&api, &session).await, 3);
    assert_eq!(emulator.committed_file(&file.id).unwrap().version_number, 2);
}

#[tokio::test]
async fn the_preflight_check() {
    let emulator = start(EmulatorConfig {
        quota: Some(1000),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let folder = emulator.create_folder("0", "In");
    let taken = emulator.create_file(&folder, "taken.bin", b"abc");
    let preflight = |body: Value| {
        let request = api
            .request(Method::OPTIONS, &format!("{}/files/content", api.api))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap());
        api.send(request)
    };

    let answer = preflight(json!({"name": "new.bin", "size": 997, "parent": {"id": folder}}))
        .await
        .ok(200);
    assert_eq!(
        answer["upload_url"],
        format!("{}/files/content", emulator.upload_url())
    );
    let upload_token = answer["upload_token"].as_str().unwrap().to_string();
    // Every property is optional.
    preflight(json!({})).await.ok(200);
    preflight(json!({"parent": {"id": folder}})).await.ok(200);

    let body = preflight(json!({"name": "TAKEN.bin", "size": 1, "parent": {"id": folder}}))
        .await
        .error(409, "item_name_in_use");
    assert_eq!(body["context_info"]["conflicts"]["id"], taken.id.as_str());
    assert_eq!(
        body["context_info"]["conflicts"]["sha1"],
        taken.sha1.as_str()
    );
    preflight(json!({"name": "x", "size": 1, "parent": {"id": "55555"}}))
        .await
        .error(404, "not_found");
    preflight(json!({"name": "x", "size": 998, "parent": {"id": folder}}))
        .await
        .error(403, "storage_limit_exceeded");
    for (body, code) in [
        (json!({"size": -1}), "bad_request"),
        (json!({"size": "1"}), "bad_request"),
        (json!({"parent": "0"}), "bad_request"),
        (json!({"parent": {}}), "bad_request"),
        (json!({"name": ".."}), "item_name_invalid"),
        (json!([]), "bad_request"),
    ] {
        preflight(body).await.error(400, code);
    }

    // The upload token opens the direct upload it was issued for, and nothing else.
    let attributes =
        serde_json::to_vec(&json!({"name": "new.bin", "parent": {"id": folder}})).unwrap();
    let (content_type, body) = multipart(&[
        ("attributes", None, &attributes),
        ("file", Some("f"), b"hello"),
    ]);
    let with_token = Api {
        token: upload_token,
        ..Api::new(&emulator)
    };
    with_token
        .send_multipart(
            answer["upload_url"].as_str().unwrap(),
            content_type,
            body,
            &[],
        )
        .await
        .ok(201);
    with_token
        .create_session_raw(&json!({"folder_id": "0", "file_name": "s", "file_size": 5}))
        .await
        .error(401, "unauthorized");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_quota_holds_for_sessions_and_versions() {
    let emulator = start(EmulatorConfig {
        quota: Some(5000),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let file = emulator.create_file("0", "base.bin", &data(3000, 1));
    // New files: 3000 used, 2000 left.
    api.create_session_raw(&json!({"folder_id": "0", "file_name": "s", "file_size": 2001}))
        .await
        .error(403, "storage_limit_exceeded");
    api.create_session("0", "s", 2000).await;
    // A new version replaces the current one: 5000 in its place is fine, 5001 is not.
    let url = format!("{}/files/{}/upload_sessions", api.upload, file.id);
    api.post_json(&url, &json!({"file_size": 5001}))
        .await
        .error(403, "storage_limit_exceeded");
    api.post_json(&url, &json!({"file_size": 5000}))
        .await
        .ok(201);
    api.upload_to(
        &version_url(&api, &file.id),
        &json!({}),
        &data(5001, 2),
        &[],
    )
    .await
    .error(403, "storage_limit_exceeded");
    api.upload_to(
        &version_url(&api, &file.id),
        &json!({}),
        &data(5000, 2),
        &[],
    )
    .await
    .ok(200);
    no_leftovers(&emulator);
}
