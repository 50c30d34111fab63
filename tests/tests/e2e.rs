//! End to end: every upload-session operation of the generated client (`box_api::Client`)
//! against the in-process emulator, through the runtime (`oas-runtime`), on its success
//! and error paths.
//!
//! Each test starts its own emulator (small fixed parts, one token) and a client whose
//! servers all point at it. The raw-HTTP tests of the emulator itself are in `emulator.rs`.

#[path = "../../emulator/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use box_api::{
    Body, Bytes, Client, ClientError, ClientErrorCode, ClientErrorType, CommitUploadSessionBody,
    CommitUploadSessionBodyAttributes, CommitUploadSessionRequest, CommitUploadSessionResponse,
    Config, CreateUploadSessionBody, CreateUploadSessionForFileBody, Error, FileBaseType, FileFull,
    ListUploadSessionPartsRequest, RetryPolicy, UploadPart, UploadPartRequest,
    UploadPartsOrderItemDirection, UploadSession, UploadSessionSessionEndpoints, UploadSessionType,
    UploadedPart, servers,
};
use box_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, Op};
use chrono::{DateTime, FixedOffset, Utc};
use common::{TOKEN, data, digest, sha1_hex, small_config, start};

/// The part size of [`small_config`].
const PART: usize = 1024;

// ---------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------

/// A client of `emulator` with this token and retry policy: every server of the spec
/// (`UPLOAD` where sessions are created, `UPLOAD_SESSION` for calls by session id) points
/// at the emulator's upload root.
fn client_for(emulator: &Emulator, token: &str, retry: RetryPolicy) -> Client {
    let config = Config::bearer(token)
        .base_url(&servers::UPLOAD, emulator.upload_url())
        .base_url(&servers::UPLOAD_SESSION, emulator.upload_url())
        .retry(retry);
    Client::new(config).expect("the client builds")
}

/// An emulator with `config`, and a client of it that never retries (so that every
/// answer the test sees is the emulator's first).
async fn setup(config: EmulatorConfig) -> (Emulator, Client) {
    let emulator = start(config).await;
    let client = client_for(&emulator, TOKEN, RetryPolicy::none());
    (emulator, client)
}

/// Up to `max_attempts` attempts with waits of a few milliseconds, so that tests stay fast.
fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(2),
        max_retry_after: Duration::from_millis(100),
    }
}

fn new_file(name: &str, size: usize) -> CreateUploadSessionBody {
    CreateUploadSessionBody {
        folder_id: "0".into(),
        file_size: size as i64,
        file_name: name.into(),
    }
}

/// The upload of `bytes` at `first` in a file of `total` bytes: `digest: sha=<base64 SHA-1>`
/// and `content-range: bytes first-last/total`.
fn part_request(bytes: &[u8], first: usize, total: usize) -> UploadPartRequest {
    UploadPartRequest {
        digest: digest(bytes),
        content_range: format!("bytes {first}-{}/{total}", first + bytes.len() - 1),
        body: Body::from(bytes.to_vec()),
    }
}

/// A commit of `parts` for a file whose content is `file`.
fn commit_request(file: &[u8], parts: &[UploadPart]) -> CommitUploadSessionRequest {
    CommitUploadSessionRequest {
        digest: digest(file),
        if_match: None,
        if_none_match: None,
        body: CommitUploadSessionBody {
            parts: parts.to_vec(),
            attributes: None,
        },
    }
}

fn endpoints(session: &UploadSession) -> &UploadSessionSessionEndpoints {
    session
        .session_endpoints
        .as_ref()
        .expect("the session has endpoints")
}

/// An endpoint URL of a session.
fn url(endpoint: &Option<String>) -> &str {
    endpoint.as_deref().expect("the endpoint is given")
}

fn session_id(session: &UploadSession) -> &str {
    session.id.as_deref().expect("the session has an id")
}

/// Checks the typed answer to a part upload of `bytes` at `offset`; returns the part.
#[track_caller]
fn check_uploaded(answer: UploadedPart, bytes: &[u8], offset: usize) -> UploadPart {
    let part = answer.part.expect("the answer holds the part");
    assert_eq!(part.offset, Some(offset as i64));
    assert_eq!(part.size, Some(bytes.len() as i64));
    assert_eq!(part.sha1.as_deref(), Some(sha1_hex(bytes).as_str()));
    let part_id = part.part_id.as_deref().expect("a part id");
    assert!(!part_id.is_empty());
    part
}

/// Uploads every part of `file` at the session's `upload_part` endpoint, in order.
async fn upload_all_at(client: &Client, session: &UploadSession, file: &[u8]) -> Vec<UploadPart> {
    let at = url(&endpoints(session).upload_part);
    let mut parts = Vec::new();
    for (index, chunk) in file.chunks(PART).enumerate() {
        let first = index * PART;
        let answer = client
            .upload_part_at(at, part_request(chunk, first, file.len()))
            .await
            .unwrap_or_else(|e| panic!("part at {first}: {e}"));
        parts.push(check_uploaded(answer, chunk, first));
    }
    parts
}

/// The only entry of a commit's `Created` answer.
#[track_caller]
fn created_file(outcome: CommitUploadSessionResponse) -> FileFull {
    let CommitUploadSessionResponse::Created(files) = outcome else {
        panic!("expected 201 Created, got {outcome:?}");
    };
    assert_eq!(files.total_count, Some(1));
    let mut entries = files.entries.expect("entries");
    assert_eq!(entries.len(), 1);
    entries.remove(0)
}

// ---------------------------------------------------------------------------------------
// What every API error must carry
// ---------------------------------------------------------------------------------------

/// Asserts that `error` is the emulator's `ClientError` answer with this status and code,
/// and checks what every such error carries: the decoded body (type, status, message), a
/// request id equal to the body's and to the `box-request-id` header, a `Display` that
/// names the status, the code and the request id, and no token in `Display` or `Debug`.
/// Returns the decoded body.
#[track_caller]
fn api_error<'a>(error: &'a Error, status: u16, code: &str) -> &'a ClientError {
    let api = error
        .api()
        .unwrap_or_else(|| panic!("expected an API error {status} {code}, got {error:?}"));
    assert_eq!(api.status.as_u16(), status, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    let body = api
        .body
        .as_ref()
        .unwrap_or_else(|| panic!("the body decodes as a ClientError: {error}"));
    assert_eq!(
        body.code.as_ref().map(ClientErrorCode::as_str),
        Some(code),
        "{error}"
    );
    assert_eq!(body.status, Some(i32::from(status)), "{error}");
    assert_eq!(body.type_, Some(ClientErrorType::Error), "{error}");
    assert!(
        body.message.as_deref().is_some_and(|m| !m.is_empty()),
        "{error}"
    );
    assert!(!api.raw_body.is_empty());

    let header = api
        .headers
        .get("box-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a box-request-id header");
    let request_id = api.request_id.as_deref().expect("a request id");
    assert!(!request_id.is_empty());
    assert_eq!(request_id, header);
    assert_eq!(body.request_id.as_deref(), Some(request_id));

    let shown = error.to_string();
    for needle in [&status.to_string(), code, request_id] {
        assert!(shown.contains(needle), "{needle:?} missing from {shown:?}");
    }
    assert_no_token(error, TOKEN);
    body
}

/// Asserts that the error is an `Unknown` code the spec's enum does not list, kept as is.
#[track_caller]
fn assert_unknown_code(body: &ClientError, code: &str) {
    assert_eq!(body.code, Some(ClientErrorCode::Unknown(code.to_owned())));
    assert_eq!(body.code.as_ref().unwrap().as_str(), code);
    assert_eq!(body.code.as_ref().unwrap().to_string(), code);
}

#[track_caller]
fn assert_no_token(error: &Error, token: &str) {
    let debug = format!("{error:?}");
    let display = error.to_string();
    assert!(!debug.contains(token), "the token is in the Debug: {debug}");
    assert!(
        !display.contains(token),
        "the token is in the Display: {display}"
    );
}

#[track_caller]
fn invalid_request(error: &Error) -> &str {
    match error {
        Error::InvalidRequest(invalid) => invalid.message(),
        other => panic!("expected an InvalidRequest, got {other:?}"),
    }
}

#[track_caller]
fn context<'a>(body: &'a ClientError, key: &str) -> &'a serde_json::Value {
    body.context_info
        .as_ref()
        .and_then(|c| c.get(key))
        .unwrap_or_else(|| panic!("context_info.{key} in {body:?}"))
}

// ---------------------------------------------------------------------------------------
// Whole uploads
// ---------------------------------------------------------------------------------------

/// A new file, every call made at the URLs of `session_endpoints`, which point at another
/// port: the client follows them (counted by the emulator's second listener).
#[tokio::test]
async fn new_file_through_session_endpoints_on_a_second_host() {
    let (emulator, client) = setup(EmulatorConfig {
        second_host: true,
        commit_processing_polls: 1,
        retry_after_secs: 3,
        ..small_config()
    })
    .await;
    let folder = emulator.create_folder("0", "Videos");
    let file = data(5 * PART + 380, 1);

    let session = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: folder.clone(),
            file_size: file.len() as i64,
            file_name: "clip.mov".into(),
        })
        .await
        .expect("create_upload_session");
    let id = session_id(&session).to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(session.type_, Some(UploadSessionType::UploadSession));
    assert_eq!(session.part_size, Some(PART as i64));
    assert_eq!(session.total_parts, Some(6));
    assert_eq!(session.num_parts_processed, Some(0));
    let expires = session.session_expires_at.expect("an expiry");
    assert!(
        expires > Utc::now() + chrono::Duration::days(6),
        "{expires}"
    );
    // The endpoints live on the second listener, not where the session was created.
    let ends = endpoints(&session);
    let base = format!("{}/files/upload_sessions/{id}", emulator.session_url());
    assert!(!base.starts_with(&emulator.upload_url()));
    assert_eq!(url(&ends.upload_part), base);
    assert_eq!(url(&ends.status), base);
    assert_eq!(url(&ends.abort), base);
    assert_eq!(url(&ends.commit), format!("{base}/commit"));
    assert_eq!(url(&ends.list_parts), format!("{base}/parts"));
    assert_eq!(emulator.stats().second_host_requests, 0);

    // Parts out of order, at the upload_part endpoint.
    let at = url(&ends.upload_part);
    let mut parts = Vec::new();
    for index in [3, 0, 5, 2, 4, 1] {
        let first = index * PART;
        let chunk = &file[first..file.len().min(first + PART)];
        let answer = client
            .upload_part_at(at, part_request(chunk, first, file.len()))
            .await
            .expect("upload_part_at");
        parts.push(check_uploaded(answer, chunk, first));
    }
    assert_eq!(emulator.stats().second_host_requests, 6);
    assert_eq!(emulator.stats().parts_stored, 6);

    let status = client
        .get_upload_session_at(url(&ends.status))
        .await
        .expect("get_upload_session_at");
    assert_eq!(status.id.as_deref(), Some(id.as_str()));
    assert_eq!(status.num_parts_processed, Some(6));
    assert_eq!(status.total_parts, Some(6));

    // Pages of two, ordered by offset, until an empty page.
    let mut listed = Vec::new();
    let mut pages = 0;
    loop {
        let page = client
            .list_upload_session_parts_at(
                url(&ends.list_parts),
                ListUploadSessionPartsRequest {
                    offset: Some(listed.len() as i64),
                    limit: Some(2),
                },
            )
            .await
            .expect("list_upload_session_parts_at");
        assert_eq!(page.total_count, Some(6));
        assert_eq!(page.limit, Some(2));
        assert_eq!(page.offset, Some(listed.len() as i64));
        let order = page.order.expect("an order");
        assert_eq!(order[0].by.as_deref(), Some("offset"));
        assert_eq!(order[0].direction, Some(UploadPartsOrderItemDirection::Asc));
        let entries = page.entries.expect("entries");
        assert!(entries.len() <= 2);
        if entries.is_empty() {
            break;
        }
        pages += 1;
        listed.extend(entries);
    }
    assert_eq!(pages, 3);
    parts.sort_by_key(|p| p.offset);
    assert_eq!(
        listed, parts,
        "the pages hold the uploaded parts, by offset"
    );

    // First commit: still processing.
    let modified: DateTime<FixedOffset> = "2021-06-07T08:09:10-07:00".parse().unwrap();
    let mut commit = commit_request(&file, &listed);
    commit.body.attributes = Some(CommitUploadSessionBodyAttributes {
        content_modified_at: Some(modified),
    });
    let first = client
        .commit_upload_session_at(url(&ends.commit), commit)
        .await
        .expect("commit_upload_session_at");
    assert_eq!(
        first,
        CommitUploadSessionResponse::Accepted {
            retry_after: Some(3)
        }
    );
    assert_eq!(emulator.stats().commits_accepted, 1);
    assert_eq!(emulator.open_sessions(), std::slice::from_ref(&id));

    // The same commit again creates the file.
    let mut commit = commit_request(&file, &listed);
    commit.body.attributes = Some(CommitUploadSessionBodyAttributes {
        content_modified_at: Some(modified),
    });
    let entry = created_file(
        client
            .commit_upload_session_at(url(&ends.commit), commit)
            .await
            .expect("commit_upload_session_at"),
    );
    assert_eq!(entry.type_, FileBaseType::File);
    assert_eq!(entry.name.as_deref(), Some("clip.mov"));
    assert_eq!(entry.size, Some(file.len() as i64));
    assert_eq!(entry.sha1.as_deref(), Some(sha1_hex(&file).as_str()));
    assert_eq!(
        entry.parent.as_ref().map(|p| p.id.as_str()),
        Some(folder.as_str())
    );
    assert_eq!(entry.version_number.as_deref(), Some("1"));
    assert_eq!(
        entry.file_version.as_ref().and_then(|v| v.sha1.as_deref()),
        Some(sha1_hex(&file).as_str())
    );
    assert_eq!(entry.content_modified_at, Some(modified));

    let stored = emulator
        .committed_file(&entry.id)
        .expect("the file is stored");
    assert_eq!(stored.sha1, sha1_hex(&file));
    assert_eq!(stored.size, file.len() as u64);
    assert_eq!(stored.read().unwrap(), file);
    assert!(emulator.open_sessions().is_empty());
    // 6 parts, 1 status, 4 pages, 2 commits: all at the second host.
    assert_eq!(emulator.stats().second_host_requests, 13);
    assert_eq!(emulator.stats().files_committed, 1);

    // A committed session is gone.
    let gone = client
        .get_upload_session_at(url(&ends.status))
        .await
        .unwrap_err();
    api_error(&gone, 404, "not_found");
}

/// The same by session id: the calls go to the configured `UPLOAD_SESSION` server (the
/// main listener), never to the endpoints' host; bodies may also be streams.
#[tokio::test]
async fn new_file_by_session_id_on_the_configured_server() {
    let (emulator, client) = setup(EmulatorConfig {
        second_host: true,
        ..small_config()
    })
    .await;
    let file = data(6 * PART + 100, 2);
    let session = client
        .create_upload_session(&new_file("by-id.bin", file.len()))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();
    assert_eq!(session.total_parts, Some(7));

    let mut parts = Vec::new();
    for (index, chunk) in file.chunks(PART).enumerate() {
        let first = index * PART;
        let mut request = part_request(chunk, first, file.len());
        // A stream of known length, and the last one of unknown length (chunked).
        if index == 1 {
            let stream = futures_util::stream::iter([
                Ok(Bytes::copy_from_slice(&chunk[..100])),
                Ok(Bytes::copy_from_slice(&chunk[100..])),
            ]);
            request.body = Body::from_stream(stream, Some(chunk.len() as u64));
        } else if index == 6 {
            let stream = futures_util::stream::iter([Ok(Bytes::copy_from_slice(chunk))]);
            request.body = Body::from_stream(stream, None);
        }
        let answer = client.upload_part(&id, request).await.expect("upload_part");
        parts.push(check_uploaded(answer, chunk, first));
    }

    let status = client
        .get_upload_session(&id)
        .await
        .expect("get_upload_session");
    assert_eq!(status.num_parts_processed, Some(7));
    assert_eq!(status.part_size, Some(PART as i64));

    // Pages of three; then one default page holding everything.
    let mut listed = Vec::new();
    for offset in [0, 3, 6] {
        let page = client
            .list_upload_session_parts(
                &id,
                ListUploadSessionPartsRequest {
                    offset: Some(offset),
                    limit: Some(3),
                },
            )
            .await
            .expect("list_upload_session_parts");
        assert_eq!(page.total_count, Some(7));
        assert_eq!(page.offset, Some(offset));
        listed.extend(page.entries.unwrap());
    }
    assert_eq!(listed, parts);
    let all = client
        .list_upload_session_parts(
            &id,
            ListUploadSessionPartsRequest {
                offset: None,
                limit: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.offset, Some(0));
    assert_eq!(all.entries.as_deref(), Some(parts.as_slice()));

    let entry = created_file(
        client
            .commit_upload_session(&id, commit_request(&file, &parts))
            .await
            .expect("commit_upload_session"),
    );
    assert_eq!(entry.name.as_deref(), Some("by-id.bin"));
    assert_eq!(entry.size, Some(file.len() as i64));
    assert_eq!(
        emulator.committed_file(&entry.id).unwrap().sha1,
        sha1_hex(&file)
    );
    let stats = emulator.stats();
    assert_eq!(
        stats.second_host_requests, 0,
        "nothing went to the endpoints' host"
    );
    assert_eq!(stats.requests(Op::UploadPart), 7);
    assert_eq!(stats.requests(Op::ListParts), 4);
    assert_eq!(stats.requests(Op::Commit), 1);
}

/// A new version of a file made by the emulator: `create_upload_session_for_file`, with
/// `if-match` on the file's etag, and a rename.
#[tokio::test]
async fn new_versions_of_an_existing_file() {
    let (emulator, client) = setup(small_config()).await;
    let old = emulator.create_file("0", "report.txt", b"the first version");

    let missing = client
        .create_upload_session_for_file(
            "999999",
            &CreateUploadSessionForFileBody {
                file_size: 10,
                file_name: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&missing, 404, "not_found").code,
        Some(ClientErrorCode::NotFound)
    );

    // Version 2, same name; if-match holds the current etag "0".
    let second = data(2 * PART + 7, 3);
    let session = client
        .create_upload_session_for_file(
            &old.id,
            &CreateUploadSessionForFileBody {
                file_size: second.len() as i64,
                file_name: None,
            },
        )
        .await
        .expect("create_upload_session_for_file");
    assert_eq!(session.part_size, Some(PART as i64));
    assert_eq!(session.total_parts, Some(3));
    assert!(endpoints(&session).upload_part.is_some());
    let parts = upload_all_at(&client, &session, &second).await;
    let mut commit = commit_request(&second, &parts);
    commit.if_match = Some(old.etag.clone());
    let entry = created_file(
        client
            .commit_upload_session(session_id(&session), commit)
            .await
            .unwrap(),
    );
    assert_eq!(entry.id, old.id);
    assert_eq!(entry.name.as_deref(), Some("report.txt"));
    assert_eq!(entry.version_number.as_deref(), Some("2"));
    assert_eq!(entry.etag.as_deref(), Some("1"));
    assert_eq!(entry.sha1.as_deref(), Some(sha1_hex(&second).as_str()));
    let stored = emulator.committed_file(&old.id).unwrap();
    assert_eq!(
        (stored.version_number, stored.sha1.as_str()),
        (2, sha1_hex(&second).as_str())
    );
    assert_eq!(stored.read().unwrap(), second);

    // Version 3, renamed; a stale if-match is refused with 412, the current one succeeds.
    let third = data(PART + 1, 4);
    let session = client
        .create_upload_session_for_file(
            &old.id,
            &CreateUploadSessionForFileBody {
                file_size: third.len() as i64,
                file_name: Some("report-final.txt".into()),
            },
        )
        .await
        .unwrap();
    let parts = upload_all_at(&client, &session, &third).await;
    let mut stale = commit_request(&third, &parts);
    stale.if_match = Some("0".into());
    let refused = client
        .commit_upload_session_at(url(&endpoints(&session).commit), stale)
        .await
        .unwrap_err();
    let body = api_error(&refused, 412, "precondition_failed");
    assert_eq!(body.code, Some(ClientErrorCode::PreconditionFailed));
    let mut current = commit_request(&third, &parts);
    current.if_match = Some("1".into());
    let entry = created_file(
        client
            .commit_upload_session_at(url(&endpoints(&session).commit), current)
            .await
            .unwrap(),
    );
    assert_eq!(entry.id, old.id);
    assert_eq!(entry.name.as_deref(), Some("report-final.txt"));
    assert_eq!(entry.version_number.as_deref(), Some("3"));
    let stored = emulator.committed_file(&old.id).unwrap();
    assert_eq!(stored.name, "report-final.txt");
    assert_eq!(stored.sha1, sha1_hex(&third));
}

// ---------------------------------------------------------------------------------------
// Abort
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn abort_ends_the_session_and_every_later_call_is_not_found() {
    let (emulator, client) = setup(small_config()).await;
    let file = data(2 * PART, 5);
    let session = client
        .create_upload_session(&new_file("aborted.bin", file.len()))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();
    let ends = endpoints(&session).clone();
    let first = client
        .upload_part(&id, part_request(&file[..PART], 0, file.len()))
        .await
        .unwrap();
    let first = check_uploaded(first, &file[..PART], 0);

    let () = client
        .abort_upload_session_at(url(&ends.abort))
        .await
        .expect("abort_upload_session_at");
    assert!(emulator.open_sessions().is_empty());

    let mut errors = vec![
        client.get_upload_session(&id).await.unwrap_err(),
        client
            .get_upload_session_at(url(&ends.status))
            .await
            .unwrap_err(),
        client
            .list_upload_session_parts(
                &id,
                ListUploadSessionPartsRequest {
                    offset: None,
                    limit: None,
                },
            )
            .await
            .unwrap_err(),
        client
            .upload_part(&id, part_request(&file[PART..], PART, file.len()))
            .await
            .unwrap_err(),
        client
            .commit_upload_session(&id, commit_request(&file, &[first]))
            .await
            .unwrap_err(),
    ];
    errors.push(client.abort_upload_session(&id).await.unwrap_err());
    errors.push(
        client
            .abort_upload_session_at(url(&ends.abort))
            .await
            .unwrap_err(),
    );
    for error in &errors {
        let body = api_error(error, 404, "not_found");
        assert_eq!(body.code, Some(ClientErrorCode::NotFound));
    }
    assert_eq!(emulator.stats().files_committed, 0);

    // By id, too.
    let other = client
        .create_upload_session(&new_file("aborted-too.bin", 10))
        .await
        .unwrap();
    let () = client
        .abort_upload_session(session_id(&other))
        .await
        .expect("abort_upload_session");
    assert!(emulator.open_sessions().is_empty());
    let gone = client
        .get_upload_session(session_id(&other))
        .await
        .unwrap_err();
    api_error(&gone, 404, "not_found");
}

// ---------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_refusals_keep_status_and_code() {
    let (emulator, client) = setup(EmulatorConfig {
        min_file_size: 1000,
        ..small_config()
    })
    .await;
    let taken = emulator.create_file("0", "taken.bin", b"already here");

    let small = client
        .create_upload_session(&new_file("small.bin", 999))
        .await
        .unwrap_err();
    let body = api_error(&small, 400, "file_size_too_small");
    assert_unknown_code(body, "file_size_too_small");
    assert_eq!(context(body, "min_file_size"), 1000);

    // Names clash whatever their case.
    for name in ["taken.bin", "TAKEN.BIN"] {
        let clash = client
            .create_upload_session(&new_file(name, 5000))
            .await
            .unwrap_err();
        let body = api_error(&clash, 409, "item_name_in_use");
        assert_unknown_code(body, "item_name_in_use");
        assert_eq!(context(body, "conflicts")["id"], taken.id.as_str());
    }
    // A new version may not take another file's name either.
    emulator.create_file("0", "other.bin", b"other");
    let clash = client
        .create_upload_session_for_file(
            &taken.id,
            &CreateUploadSessionForFileBody {
                file_size: 5000,
                file_name: Some("Other.bin".into()),
            },
        )
        .await
        .unwrap_err();
    assert_unknown_code(
        api_error(&clash, 409, "item_name_in_use"),
        "item_name_in_use",
    );

    let bad_name = client
        .create_upload_session(&new_file("a/b.bin", 5000))
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&bad_name, 400, "item_name_invalid").code,
        Some(ClientErrorCode::ItemNameInvalid)
    );
    let no_folder = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: "424242".into(),
            ..new_file("x.bin", 5000)
        })
        .await
        .unwrap_err();
    assert_unknown_code(
        api_error(&no_folder, 404, "invalid_parameter"),
        "invalid_parameter",
    );
    let bad_folder = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: "root".into(),
            ..new_file("x.bin", 5000)
        })
        .await
        .unwrap_err();
    assert_unknown_code(
        api_error(&bad_folder, 400, "invalid_folder_id"),
        "invalid_folder_id",
    );
    let empty = client
        .create_upload_session(&new_file("empty.bin", 0))
        .await
        .unwrap_err();
    api_error(&empty, 400, "file_size_too_small");

    assert!(emulator.open_sessions().is_empty());
    assert_eq!(emulator.stats().requests(Op::CreateSession), 7);
}

#[tokio::test]
async fn part_refusals_keep_status_and_code() {
    let (emulator, client) = setup(small_config()).await;
    let file = data(3 * PART + 10, 6);
    let total = file.len();
    let session = client
        .create_upload_session(&new_file("parts.bin", total))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();
    let first = &file[..PART];

    // The wrong digest: 412, with the digests in context_info.
    let mut wrong = part_request(first, 0, total);
    wrong.digest = digest(b"other bytes");
    let error = client.upload_part(&id, wrong).await.unwrap_err();
    let body = api_error(&error, 412, "digest_mismatch");
    assert_unknown_code(body, "digest_mismatch");
    assert_eq!(
        context(body, "expected").as_str(),
        Some(&digest(b"other bytes")[4..])
    );
    assert_eq!(context(body, "actual").as_str(), Some(&digest(first)[4..]));

    // Ranges that do not fit the session: 416, the reason in context_info.
    let misfits = [
        ("misaligned", part_request(first, 512, total)),
        ("wrong_size", part_request(&file[..PART - 1], 0, total)),
        ("past_end", part_request(&file[..PART], 3 * PART, total)),
        ("total_mismatch", part_request(first, 0, total + 1)),
    ];
    for (reason, request) in misfits {
        let error = client.upload_part(&id, request).await.unwrap_err();
        let body = api_error(&error, 416, "range_not_satisfiable");
        assert_unknown_code(body, "range_not_satisfiable");
        assert_eq!(context(body, "reason").as_str(), Some(reason));
    }

    // A content-range that is not one: 400 bad_request.
    let mut malformed = part_request(first, 0, total);
    malformed.content_range = format!("bytes=0-{}", PART - 1);
    let error = client.upload_part(&id, malformed).await.unwrap_err();
    assert_eq!(
        api_error(&error, 400, "bad_request").code,
        Some(ClientErrorCode::BadRequest)
    );

    // The part itself; the same bytes again are fine; other bytes for the range: 409.
    let stored = check_uploaded(
        client
            .upload_part(&id, part_request(first, 0, total))
            .await
            .unwrap(),
        first,
        0,
    );
    let again = check_uploaded(
        client
            .upload_part(&id, part_request(first, 0, total))
            .await
            .unwrap(),
        first,
        0,
    );
    assert_eq!(again, stored);
    let other = data(PART, 99);
    let error = client
        .upload_part(&id, part_request(&other, 0, total))
        .await
        .unwrap_err();
    let body = api_error(&error, 409, "conflict");
    assert_eq!(body.code, Some(ClientErrorCode::Conflict));
    assert_eq!(
        context(body, "conflicts")["sha1"].as_str(),
        Some(sha1_hex(first).as_str())
    );

    let stats = emulator.stats();
    assert_eq!(stats.parts_stored, 1);
    assert_eq!(stats.parts_repeated, 1);
    let page = client
        .list_upload_session_parts(
            &id,
            ListUploadSessionPartsRequest {
                offset: None,
                limit: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.entries,
        Some(vec![stored]),
        "only the good part is kept"
    );

    // A header value that cannot be sent is refused before any request.
    let before = emulator.stats();
    let mut newline = part_request(first, 0, total);
    newline.digest = "sha=abc\r\nx-injected: 1".into();
    let error = client.upload_part(&id, newline).await.unwrap_err();
    assert!(invalid_request(&error).contains("digest"), "{error}");
    assert_eq!(emulator.stats(), before);

    // Bad list queries: 400.
    let error = client
        .list_upload_session_parts(
            &id,
            ListUploadSessionPartsRequest {
                offset: None,
                limit: Some(0),
            },
        )
        .await
        .unwrap_err();
    api_error(&error, 400, "bad_request");
}

#[tokio::test]
async fn commit_refusals_keep_status_and_code() {
    let (emulator, client) = setup(small_config()).await;
    let file = data(3 * PART, 7);
    let session = client
        .create_upload_session(&new_file("commit.bin", file.len()))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();
    let parts = upload_all_at(&client, &session, &file).await;

    // Parts left out: 400 parts_mismatch, a code the spec's enum does not list.
    let error = client
        .commit_upload_session(&id, commit_request(&file, &parts[..2]))
        .await
        .unwrap_err();
    let body = api_error(&error, 400, "parts_mismatch");
    assert_unknown_code(body, "parts_mismatch");
    assert!(
        error.to_string().contains("parts_mismatch"),
        "the Display names the code: {error}"
    );
    // A part listed with the wrong SHA-1: parts_mismatch too.
    let mut tampered = parts.clone();
    tampered[1].sha1 = Some(sha1_hex(b"something else"));
    let error = client
        .commit_upload_session(&id, commit_request(&file, &tampered))
        .await
        .unwrap_err();
    assert_unknown_code(api_error(&error, 400, "parts_mismatch"), "parts_mismatch");

    // The wrong whole-file digest: 400 digest_mismatch.
    let mut wrong = commit_request(&file, &parts);
    wrong.digest = digest(b"not the file");
    let error = client.commit_upload_session(&id, wrong).await.unwrap_err();
    let body = api_error(&error, 400, "digest_mismatch");
    assert_unknown_code(body, "digest_mismatch");
    assert_eq!(context(body, "actual").as_str(), Some(&digest(&file)[4..]));

    // if-none-match "*" on a new file whose name is free: no item, so it holds.
    assert_eq!(emulator.stats().files_committed, 0);
    let mut commit = commit_request(&file, &parts);
    commit.if_none_match = Some("*".into());
    let entry = created_file(client.commit_upload_session(&id, commit).await.unwrap());
    assert_eq!(entry.sha1.as_deref(), Some(sha1_hex(&file).as_str()));
    assert_eq!(
        emulator.committed_file(&entry.id).unwrap().read().unwrap(),
        file
    );

    // A second commit of the same session: it is gone.
    let error = client
        .commit_upload_session(&id, commit_request(&file, &parts))
        .await
        .unwrap_err();
    api_error(&error, 404, "not_found");
}

// ---------------------------------------------------------------------------------------
// Auth
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_or_missing_token_is_unauthorized_and_never_shown() {
    const RIGHT: &str = "right-token-5f2a";
    const WRONG: &str = "wrong-token-9c1e";
    let emulator = start(EmulatorConfig {
        token: Some(RIGHT.into()),
        ..small_config()
    })
    .await;
    let wrong = client_for(&emulator, WRONG, RetryPolicy::none());

    let errors = [
        wrong
            .create_upload_session(&new_file("x.bin", 10))
            .await
            .unwrap_err(),
        wrong.get_upload_session("ABC").await.unwrap_err(),
        wrong.abort_upload_session("ABC").await.unwrap_err(),
    ];
    for error in &errors {
        let api = error.api().expect("an API error");
        assert_eq!(api.status.as_u16(), 401, "{error}");
        let body = api.body.as_ref().expect("a ClientError body");
        assert_eq!(body.code, Some(ClientErrorCode::Unauthorized));
        assert!(api.request_id.is_some());
        let challenge = api
            .headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        let shown = error.to_string();
        assert!(
            shown.contains("401") && shown.contains("unauthorized"),
            "{shown}"
        );
        assert_no_token(error, WRONG);
        assert_no_token(error, RIGHT);
    }
    assert!(!format!("{wrong:?}").contains(WRONG));
    let stats = emulator.stats();
    assert_eq!(stats.unauthorized, 3);
    assert_eq!(stats.requests(Op::Any), 0, "no operation ran");

    // An empty or blank token, or one a header cannot hold, is refused before any request.
    let before = emulator.stats();
    for token in ["", "   ", "secret\nwith-newline"] {
        let client = client_for(&emulator, token, RetryPolicy::none());
        let error = client.get_upload_session("ABC").await.unwrap_err();
        assert!(matches!(error, Error::Auth(_)), "{error:?}");
        if !token.trim().is_empty() {
            assert_no_token(&error, token);
            assert_no_token(&error, "secret");
        }
    }
    assert_eq!(emulator.stats(), before);

    // The right token works.
    let right = client_for(&emulator, RIGHT, RetryPolicy::none());
    right
        .create_upload_session(&new_file("x.bin", 10))
        .await
        .expect("the right token is accepted");
}

// ---------------------------------------------------------------------------------------
// Path parameters
// ---------------------------------------------------------------------------------------

/// Ids with `/`, `?`, `#`, `%`, `..` and non-ASCII reach the emulator as one path segment,
/// intact: each gets a 404 naming exactly that id, from the operation that was called, and
/// no other session, file or route is touched.
#[tokio::test]
async fn path_parameters_stay_one_segment() {
    let (emulator, client) = setup(small_config()).await;
    let file = data(PART, 8);
    let session = client
        .create_upload_session(&new_file("victim.bin", file.len()))
        .await
        .unwrap();
    let real = session_id(&session).to_owned();
    let target = emulator.create_file("0", "target.bin", b"content");
    let before = emulator.stats();

    let ids = [
        "../x?y".to_owned(),
        "a/b".to_owned(),
        "x#y".to_owned(),
        "100%".to_owned(),
        "%2E%2E".to_owned(),
        "...".to_owned(),
        "a b+c&d=e".to_owned(),
        "é/ü".to_owned(),
        format!("{real}/.."),
        format!("{real}/commit"),
        format!("{real}?offset=0"),
        format!("../upload_sessions/{real}"),
    ];
    for id in &ids {
        let not_found = |error: &Error| {
            let body = api_error(error, 404, "not_found");
            let message = body.message.as_deref().unwrap();
            assert!(
                message.ends_with(&format!("upload session {id}")),
                "the 404 names the id {id:?} exactly: {message}"
            );
        };
        not_found(&client.get_upload_session(id).await.unwrap_err());
        not_found(
            &client
                .list_upload_session_parts(
                    id,
                    ListUploadSessionPartsRequest {
                        offset: None,
                        limit: None,
                    },
                )
                .await
                .unwrap_err(),
        );
        not_found(
            &client
                .upload_part(id, part_request(&file, 0, file.len()))
                .await
                .unwrap_err(),
        );
        not_found(
            &client
                .commit_upload_session(id, commit_request(&file, &[]))
                .await
                .unwrap_err(),
        );
        not_found(&client.abort_upload_session(id).await.unwrap_err());
    }
    let stats = emulator.stats();
    let n = ids.len() as u64;
    for op in [
        Op::GetSession,
        Op::ListParts,
        Op::UploadPart,
        Op::Commit,
        Op::Abort,
    ] {
        assert_eq!(
            stats.requests(op) - before.requests(op),
            n,
            "each call reached its own operation: {op:?}"
        );
    }
    assert_eq!(stats.requests(Op::Any) - before.requests(Op::Any), 5 * n);
    assert_eq!(stats.parts_stored, 0);

    // The real session is untouched.
    assert_eq!(emulator.open_sessions(), std::slice::from_ref(&real));
    let status = client.get_upload_session(&real).await.unwrap();
    assert_eq!(status.num_parts_processed, Some(0));

    // A file id that tries to climb to the new-file route, or to another file.
    for file_id in [
        "../upload_sessions".to_owned(),
        format!("{}/..", target.id),
        format!("{}/../{}", target.id, target.id),
    ] {
        let error = client
            .create_upload_session_for_file(
                &file_id,
                &CreateUploadSessionForFileBody {
                    file_size: 10,
                    file_name: None,
                },
            )
            .await
            .unwrap_err();
        let body = api_error(&error, 404, "not_found");
        assert_eq!(
            body.message.as_deref(),
            Some(format!("no file {file_id}").as_str())
        );
    }
    let stats = emulator.stats();
    assert_eq!(
        stats.requests(Op::CreateSession),
        before.requests(Op::CreateSession)
    );
    assert_eq!(stats.requests(Op::CreateSessionForFile), 3);
    assert_eq!(emulator.open_sessions(), std::slice::from_ref(&real));

    // The whole segments `.` and `..` cannot be sent faithfully: refused before any request.
    let before = emulator.stats();
    for id in [".", ".."] {
        let error = client.get_upload_session(id).await.unwrap_err();
        assert!(invalid_request(&error).contains("dot segment"), "{error}");
        client.abort_upload_session(id).await.unwrap_err();
        client
            .create_upload_session_for_file(
                id,
                &CreateUploadSessionForFileBody {
                    file_size: 10,
                    file_name: None,
                },
            )
            .await
            .unwrap_err();
    }
    assert_eq!(emulator.stats(), before);
    assert_eq!(emulator.open_sessions(), [real]);
}

/// An empty id would address another resource (`/upload_sessions/` instead of
/// `/upload_sessions/{id}`): every operation refuses it before sending anything, as it does
/// an `_at` URL that is not an absolute http(s) URL.
#[tokio::test]
async fn empty_path_parameters_and_bad_urls_are_refused_before_sending() {
    let (emulator, client) = setup(small_config()).await;
    let list = || ListUploadSessionPartsRequest {
        offset: None,
        limit: None,
    };
    let body = CreateUploadSessionForFileBody {
        file_size: 10,
        file_name: None,
    };
    let errors = [
        (
            "upload_session_id",
            client.get_upload_session("").await.unwrap_err(),
        ),
        (
            "upload_session_id",
            client
                .list_upload_session_parts("", list())
                .await
                .unwrap_err(),
        ),
        (
            "upload_session_id",
            client
                .upload_part("", part_request(b"abc", 0, 3))
                .await
                .unwrap_err(),
        ),
        (
            "upload_session_id",
            client
                .commit_upload_session("", commit_request(b"abc", &[]))
                .await
                .unwrap_err(),
        ),
        (
            "upload_session_id",
            client.abort_upload_session("").await.unwrap_err(),
        ),
        (
            "file_id",
            client
                .create_upload_session_for_file("", &body)
                .await
                .unwrap_err(),
        ),
    ];
    for (name, error) in &errors {
        let message = invalid_request(error);
        assert!(message.contains(&format!("{name} is empty")), "{message}");
        assert!(error.to_string().contains("is empty"), "{error}");
        assert_no_token(error, TOKEN);
    }

    let upload = emulator.upload_url();
    for bad in [
        String::new(),
        "not a url".to_owned(),
        "/api/2.0/files/upload_sessions/ABC".to_owned(),
        "ftp://127.0.0.1/files/upload_sessions/ABC".to_owned(),
        upload.replace("http://", "http://user:pass@"),
    ] {
        let errors = [
            client.get_upload_session_at(&bad).await.unwrap_err(),
            client
                .list_upload_session_parts_at(&bad, list())
                .await
                .unwrap_err(),
            client
                .upload_part_at(&bad, part_request(b"abc", 0, 3))
                .await
                .unwrap_err(),
            client
                .commit_upload_session_at(&bad, commit_request(b"abc", &[]))
                .await
                .unwrap_err(),
            client.abort_upload_session_at(&bad).await.unwrap_err(),
        ];
        for error in &errors {
            let message = invalid_request(error);
            assert!(message.contains("URL"), "{message}");
        }
    }
    assert_eq!(emulator.stats(), Default::default(), "nothing was sent");
}

// ---------------------------------------------------------------------------------------
// Retries, and errors that are not API errors
// ---------------------------------------------------------------------------------------

/// With a retry policy, idempotent calls with a replayable body are retried on 503/429,
/// at most `max_attempts` times; a commit (not idempotent) and a streamed part are not.
#[tokio::test]
async fn retries_are_bounded_and_only_for_idempotent_replayable_calls() {
    let emulator = start(small_config()).await;
    let client = client_for(&emulator, TOKEN, quick_retries(3));
    let file = data(2 * PART, 9);
    let session = client
        .create_upload_session(&new_file("retried.bin", file.len()))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();

    // Two 503s, then the part is stored by the third attempt.
    emulator.faults().add(
        FaultRule::new(Op::UploadPart, FaultAction::status(503).retry_after(0))
            .times(2)
            .at_offset(0),
    );
    let first = check_uploaded(
        client
            .upload_part(&id, part_request(&file[..PART], 0, file.len()))
            .await
            .expect("the third attempt succeeds"),
        &file[..PART],
        0,
    );
    let statuses: Vec<_> = emulator
        .stats()
        .part_uploads
        .iter()
        .map(|u| u.status)
        .collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);

    // A streamed body cannot be sent again: the 503 comes back at once.
    emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(503)));
    let chunk = &file[PART..];
    let mut streamed = part_request(chunk, PART, file.len());
    streamed.body = Body::from_stream(
        futures_util::stream::iter([Ok(Bytes::copy_from_slice(chunk))]),
        Some(chunk.len() as u64),
    );
    let error = client.upload_part(&id, streamed).await.unwrap_err();
    assert_eq!(
        api_error(&error, 503, "unavailable").code,
        Some(ClientErrorCode::Unavailable)
    );
    assert!(error.is_retryable());
    assert_eq!(emulator.stats().part_uploads_at(&id, PART as u64), 1);
    let second = check_uploaded(
        client
            .upload_part(&id, part_request(chunk, PART, file.len()))
            .await
            .unwrap(),
        chunk,
        PART,
    );

    // Three 429s exhaust the three attempts: the last answer is returned.
    emulator
        .faults()
        .add(FaultRule::new(Op::GetSession, FaultAction::status(429).retry_after(0)).times(3));
    let error = client.get_upload_session(&id).await.unwrap_err();
    assert_eq!(
        api_error(&error, 429, "too_many_requests").code,
        Some(ClientErrorCode::TooManyRequests)
    );
    assert_eq!(emulator.stats().requests(Op::GetSession), 3);

    // A commit is not retried; its Retry-After is reported.
    emulator.faults().add(FaultRule::new(
        Op::Commit,
        FaultAction::status(503).retry_after(7),
    ));
    let parts = [first, second];
    let error = client
        .commit_upload_session(&id, commit_request(&file, &parts))
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status.as_u16(), 503);
    assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(emulator.stats().requests(Op::Commit), 1);
    // Box's parts_mismatch right after the last part, then success.
    emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::PartsMismatch));
    let error = client
        .commit_upload_session(&id, commit_request(&file, &parts))
        .await
        .unwrap_err();
    assert_unknown_code(api_error(&error, 400, "parts_mismatch"), "parts_mismatch");
    let entry = created_file(
        client
            .commit_upload_session(&id, commit_request(&file, &parts))
            .await
            .unwrap(),
    );
    assert_eq!(entry.sha1.as_deref(), Some(sha1_hex(&file).as_str()));
    assert_eq!(emulator.stats().requests(Op::Commit), 3);
}

/// A part whose answer is lost is stored all the same; the retry sends the same bytes,
/// which the emulator answers with the stored part. A lost commit answer is not retried.
#[tokio::test]
async fn a_lost_answer_is_retried_only_where_that_is_safe() {
    let emulator = start(small_config()).await;
    let client = client_for(&emulator, TOKEN, quick_retries(3));
    let file = data(PART + 1, 10);
    let session = client
        .create_upload_session(&new_file("lost.bin", file.len()))
        .await
        .unwrap();
    let id = session_id(&session).to_owned();

    emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::LoseResponse));
    let first = check_uploaded(
        client
            .upload_part(&id, part_request(&file[..PART], 0, file.len()))
            .await
            .expect("the retry gets the stored part"),
        &file[..PART],
        0,
    );
    let second = upload_all_at(&client, &session, &file).await.remove(1);
    let stats = emulator.stats();
    assert_eq!(
        stats.part_uploads_at(&id, 0),
        3,
        "lost, retried, and once more"
    );
    assert_eq!((stats.parts_stored, stats.parts_repeated), (2, 2));

    emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::LoseResponse));
    let error = client
        .commit_upload_session(&id, commit_request(&file, &[first, second]))
        .await
        .unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.attempts(), 1, "a commit is not retried");
    assert!(
        transport
            .to_string()
            .contains("post_files_upload_sessions_id_commit")
    );
    assert_no_token(&error, TOKEN);
    // The commit was carried out: the file exists and the session is gone.
    assert_eq!(emulator.stats().requests(Op::Commit), 1);
    let stored = emulator
        .find_file("0", "lost.bin")
        .expect("the file was committed");
    assert_eq!(stored.sha1, sha1_hex(&file));
    let gone = client.get_upload_session(&id).await.unwrap_err();
    api_error(&gone, 404, "not_found");
}

/// Transport, decode and auth errors are informative too, and never show the token.
#[tokio::test]
async fn other_errors_are_informative_and_never_show_the_token() {
    const SECRET: &str = "e2e-secret-token-3b7d";
    let emulator = start(EmulatorConfig {
        token: Some(SECRET.into()),
        ..small_config()
    })
    .await;
    let client = client_for(&emulator, SECRET, RetryPolicy::none());

    // Nothing listens: a transport error naming the operation and the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = Client::new(
        Config::bearer(SECRET)
            .base_url(
                &servers::UPLOAD_SESSION,
                format!("http://127.0.0.1:{port}/api/2.0"),
            )
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let error = nowhere.get_upload_session("ABC").await.unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert!(transport.is_connect(), "{error}");
    assert_eq!(transport.attempts(), 1);
    let shown = error.to_string();
    assert!(
        shown.contains(&format!(
            "127.0.0.1:{port}/api/2.0/files/upload_sessions/ABC"
        )) && shown.contains("get_files_upload_sessions_id"),
        "{shown}"
    );
    assert_no_token(&error, SECRET);

    // A 200 whose body is not an UploadSession: a decode error naming status and type.
    let stored = emulator.create_file("0", "plain.txt", b"plain text, not JSON");
    let content = format!("{}/files/{}/content", emulator.api_url(), stored.id);
    let error = client.get_upload_session_at(&content).await.unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("expected a decode error, got {error:?}");
    };
    assert_eq!(decode.status().as_u16(), 200);
    assert!(decode.type_name().ends_with("UploadSession"), "{error}");
    let shown = error.to_string();
    assert!(
        shown.contains("200") && shown.contains("UploadSession") && shown.contains("plain text"),
        "{shown}"
    );
    assert_no_token(&error, SECRET);

    // An API error: Display and Debug.
    let error = client
        .get_upload_session("NOSUCHSESSION")
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    let shown = error.to_string();
    assert!(
        shown.contains("404") && shown.contains("not_found") && shown.contains("NOSUCHSESSION"),
        "{shown}"
    );
    assert_no_token(&error, SECRET);
    assert!(!format!("{client:?}").contains(SECRET));
    assert!(!format!("{:?}", client.runtime()).contains(SECRET));
}
