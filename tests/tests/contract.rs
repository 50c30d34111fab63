//! Contract tests against the spec itself, with Stoplight Prism (pinned in
//! `tests/contract/package-lock.json`, installed into `tests/contract/node_modules` on
//! first use):
//!
//! - `prism mock --errors spec/box-upload.yaml`: every upload-session operation, the
//!   folder operations and the preflight check are called through the generated client; Prism answers 422 to a request that breaks
//!   the spec, so each call succeeding proves the request is valid, and the typed
//!   result proves Prism's spec-shaped answer decodes.
//! - `prism proxy spec/box-upload.yaml <emulator>`: a whole upload, and the
//!   error paths, go through Prism to the emulator; Prism checks every answer against
//!   the spec and logs each violation, so the emulator cannot drift from Box's contract.

#[path = "../../emulator/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use box_api::{
    Body, Client, ClientErrorCode, CommitUploadSessionBody, CommitUploadSessionBodyAttributes,
    CommitUploadSessionRequest, CommitUploadSessionResponse, Config, CreateFolderBody,
    CreateFolderBodyParent, CreateFolderRequest, CreateUploadSessionBody,
    CreateUploadSessionForFileBody, GetFolderRequest, GetFolderResponse, ListFolderItemsRequest,
    ListUploadSessionPartsRequest, PreflightFileUploadBody, PreflightFileUploadBodyParent,
    RetryPolicy, UploadPartRequest, servers,
};
use box_emulator::{EmulatorConfig, PartSizePolicy};
use common::{TOKEN, digest, sha1_hex};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Prism's executable, installed with `npm ci` from the lock file on first use.
fn prism_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contract");
        let bin = dir.join("node_modules/.bin/prism");
        if !bin.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| {
                    panic!("the contract tests need Node.js and npm to install Prism ({e}); install them (e.g. apt-get install nodejs npm) and run again")
                });
            assert!(status.success(), "npm ci in {} failed", dir.display());
        }
        bin
    })
}

/// A running Prism, killed on drop; its output is collected for inspection.
struct Prism {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Prism {
    fn start(args: &[&str]) -> Prism {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let port_text = port.to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--host", "127.0.0.1", "--port", &port_text]);
        let mut child = Command::new(prism_bin())
            .args(&all)
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Prism starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while !log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("Prism is listening"))
        {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "Prism exited ({status}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "Prism did not start:\n{}",
                log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Prism { child, url, log }
    }

    /// The validator's `Violation:` lines so far.
    fn violations(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|l| l.contains("Violation:"))
            .cloned()
            .collect()
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A generated client whose every server is `base` (Prism matches bare spec paths).
fn client_at(base: &str, token: &str) -> Client {
    let config = Config::bearer(token)
        .base_url(&servers::UPLOAD, base)
        .base_url(&servers::UPLOAD_SESSION, base)
        .base_url(&servers::API, base)
        .retry(RetryPolicy::none());
    Client::new(config).unwrap()
}

fn part_request(bytes: &[u8], first: u64, total: u64) -> UploadPartRequest {
    UploadPartRequest {
        digest: digest(bytes),
        content_range: format!("bytes {first}-{}/{total}", first + bytes.len() as u64 - 1),
        body: Body::from(bytes.to_vec()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_generated_request_passes_prism_validation_and_its_answer_decodes() {
    let prism = Prism::start(&["mock", "--errors", "spec/box-upload.yaml"]);
    let base = prism.url.clone();
    let client = client_at(&base, "token");
    let session_url = format!("{base}/files/upload_sessions/D5E3F7A");

    let session = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: "0".into(),
            file_size: 104_857_600,
            file_name: "Project.mov".into(),
        })
        .await
        .expect("create_upload_session");
    assert!(session.part_size.is_some() && session.session_endpoints.is_some());
    client
        .create_upload_session_for_file(
            "12345",
            &CreateUploadSessionForFileBody {
                file_size: 104_857_600,
                file_name: None,
            },
        )
        .await
        .expect("create_upload_session_for_file");
    client
        .get_upload_session("D5E3F7A")
        .await
        .expect("get_upload_session");
    client
        .get_upload_session_at(&session_url)
        .await
        .expect("get_upload_session_at");

    let bytes = b"the bytes of one part".to_vec();
    let uploaded = client
        .upload_part("D5E3F7A", part_request(&bytes, 0, 100))
        .await
        .expect("upload_part");
    client
        .upload_part_at(&session_url, part_request(&bytes, 0, 100))
        .await
        .expect("upload_part_at");

    let page = ListUploadSessionPartsRequest {
        offset: Some(0),
        limit: Some(1000),
    };
    client
        .list_upload_session_parts("D5E3F7A", page)
        .await
        .expect("list_upload_session_parts");
    client
        .list_upload_session_parts_at(
            &format!("{session_url}/parts"),
            ListUploadSessionPartsRequest {
                offset: None,
                limit: None,
            },
        )
        .await
        .expect("list_upload_session_parts_at");

    let commit = || CommitUploadSessionRequest {
        digest: digest(&bytes),
        if_match: Some("1".into()),
        if_none_match: None,
        body: CommitUploadSessionBody {
            parts: uploaded.part.clone().into_iter().collect(),
            attributes: Some(CommitUploadSessionBodyAttributes {
                content_modified_at: Some("2025-03-14T09:26:53Z".parse().unwrap()),
            }),
        },
    };
    let created = client
        .commit_upload_session("D5E3F7A", commit())
        .await
        .expect("commit_upload_session");
    assert!(
        matches!(created, CommitUploadSessionResponse::Created(_)),
        "{created:?}"
    );
    // Prism's `__code` picks the answer: the 202 decodes as `Accepted`.
    let accepted = client
        .commit_upload_session_at(&format!("{session_url}/commit?__code=202"), commit())
        .await
        .expect("commit_upload_session_at (202)");
    assert!(
        matches!(accepted, CommitUploadSessionResponse::Accepted { .. }),
        "{accepted:?}"
    );
    // A declared error status decodes into the typed ClientError.
    let conflict = client
        .commit_upload_session_at(&format!("{session_url}/commit?__code=409"), commit())
        .await
        .expect_err("a 409 is an error");
    let api = conflict.api().expect("an API error");
    assert_eq!(api.status.as_u16(), 409);
    assert!(api.body.is_some(), "the 409 body decodes: {conflict}");

    client
        .abort_upload_session("D5E3F7A")
        .await
        .expect("abort_upload_session");
    client
        .abort_upload_session_at(&session_url)
        .await
        .expect("abort_upload_session_at");

    json_requests_of_folders_and_the_preflight_check(&client).await;

    // The check can fail: a part upload without its headers is refused with 422.
    let raw = reqwest::Client::new()
        .put(&session_url)
        .bearer_auth("token")
        .header("content-type", "application/octet-stream")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 422, "Prism validates requests");
    assert!(!prism.log_text().is_empty());
}

/// The JSON requests of the folder operations and of the preflight check. (The multipart
/// ones Prism cannot read: `contract_multipart.rs`.)
async fn json_requests_of_folders_and_the_preflight_check(client: &Client) {
    let accepted = client
        .preflight_file_upload(&PreflightFileUploadBody {
            name: Some("Project.mov".into()),
            size: Some(104_857_600),
            parent: Some(PreflightFileUploadBodyParent {
                id: Some("0".into()),
            }),
        })
        .await
        .expect("preflight_file_upload");
    assert!(accepted.upload_url.is_some(), "{accepted:?}");
    let folder = client
        .create_folder(CreateFolderRequest {
            fields: Some(vec!["id".into(), "name".into()]),
            body: CreateFolderBody {
                name: "Videos".into(),
                parent: CreateFolderBodyParent { id: "0".into() },
                folder_upload_email: None,
                sync_state: None,
            },
        })
        .await
        .expect("create_folder");
    assert!(!folder.id.is_empty());
    let read = client
        .get_folder(
            "0",
            GetFolderRequest {
                fields: None,
                sort: None,
                direction: None,
                offset: Some(0),
                limit: Some(100),
                if_none_match: None,
                boxapi: None,
            },
        )
        .await
        .expect("get_folder");
    assert!(matches!(read, GetFolderResponse::Ok(_)), "{read:?}");
    client
        .list_folder_items(
            "0",
            ListFolderItemsRequest {
                fields: None,
                usemarker: Some(true),
                marker: None,
                offset: None,
                limit: Some(1000),
                sort: None,
                direction: None,
                boxapi: None,
            },
        )
        .await
        .expect("list_folder_items");
}

#[tokio::test(flavor = "multi_thread")]
async fn emulator_answers_conform_to_the_spec() {
    let emulator = common::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        min_file_size: 1000,
        part_size: PartSizePolicy::Fixed(1024),
        commit_processing_polls: 1,
        retry_after_secs: 0,
        fault_seed: Some(1),
        ..EmulatorConfig::default()
    })
    .await;
    let prism = Prism::start(&["proxy", "spec/box-upload.yaml", &emulator.upload_url()]);
    let client = client_at(&prism.url, TOKEN);

    // Prism's proxy re-encodes bytes that are not valid UTF-8, so the file is text.
    let file: Vec<u8> = (0..3000u32).map(|i| b'a' + (i * 7 % 26) as u8).collect();
    let total = file.len() as u64;
    let session = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: "0".into(),
            file_size: total as i64,
            file_name: "contract.txt".into(),
        })
        .await
        .unwrap();
    let id = session.id.clone().unwrap();
    let mut parts = Vec::new();
    for (i, chunk) in file.chunks(1024).enumerate() {
        let answer = client
            .upload_part(&id, part_request(chunk, i as u64 * 1024, total))
            .await
            .unwrap();
        parts.push(answer.part.unwrap());
    }
    client.get_upload_session(&id).await.unwrap();
    let listed = client
        .list_upload_session_parts(
            &id,
            ListUploadSessionPartsRequest {
                offset: Some(1),
                limit: Some(1),
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total_count, Some(3));
    let commit = || CommitUploadSessionRequest {
        digest: digest(&file),
        if_match: None,
        if_none_match: None,
        body: CommitUploadSessionBody {
            parts: parts.clone(),
            attributes: None,
        },
    };
    let first = client.commit_upload_session(&id, commit()).await.unwrap();
    assert!(
        matches!(first, CommitUploadSessionResponse::Accepted { .. }),
        "{first:?}"
    );
    let CommitUploadSessionResponse::Created(files) =
        client.commit_upload_session(&id, commit()).await.unwrap()
    else {
        panic!("second commit creates the file");
    };
    let entry = &files.entries.as_ref().unwrap()[0];
    assert_eq!(entry.sha1.as_deref(), Some(sha1_hex(&file).as_str()));

    // Error answers: each is checked by Prism too.
    let codes = [
        // a name clash, a file too small, an unknown session, an aborted one
        client
            .create_upload_session(&CreateUploadSessionBody {
                folder_id: "0".into(),
                file_size: total as i64,
                file_name: "contract.txt".into(),
            })
            .await
            .unwrap_err(),
        client
            .create_upload_session(&CreateUploadSessionBody {
                folder_id: "0".into(),
                file_size: 10,
                file_name: "small.txt".into(),
            })
            .await
            .unwrap_err(),
        client
            .get_upload_session("NOSUCHSESSION")
            .await
            .unwrap_err(),
    ];
    let statuses: Vec<u16> = codes.iter().map(|e| e.status().unwrap().as_u16()).collect();
    assert_eq!(statuses, [409, 400, 404]);
    let other = client
        .create_upload_session(&CreateUploadSessionBody {
            folder_id: "0".into(),
            file_size: total as i64,
            file_name: "other.txt".into(),
        })
        .await
        .unwrap();
    let other_id = other.id.unwrap();
    let misaligned = client
        .upload_part(&other_id, part_request(&file[..1024], 512, total))
        .await
        .unwrap_err();
    assert_eq!(misaligned.status().unwrap().as_u16(), 416);
    let mut bad_digest = part_request(&file[..1024], 0, total);
    bad_digest.digest = digest(b"something else");
    assert_eq!(
        client
            .upload_part(&other_id, bad_digest)
            .await
            .unwrap_err()
            .status()
            .unwrap()
            .as_u16(),
        412
    );
    client.abort_upload_session(&other_id).await.unwrap();
    let gone = client.get_upload_session(&other_id).await.unwrap_err();
    assert_eq!(
        gone.api().unwrap().body.as_ref().unwrap().code,
        Some(ClientErrorCode::NotFound)
    );
    let unauthorized = client_at(&prism.url, "wrong-token")
        .get_upload_session(&id)
        .await
        .unwrap_err();
    assert_eq!(unauthorized.status().unwrap().as_u16(), 401);

    // Box returns error codes its spec's enum does not list (file_size_too_small,
    // item_name_in_use, digest_mismatch, range_not_satisfiable...); that is the one
    // deviation allowed, and why the generated enums are open.
    let violations = prism.violations();
    let unexpected: Vec<&String> = violations
        .iter()
        .filter(|v| !v.contains("Violation: response.body.code Response body property code must be equal to one of the allowed values"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the emulator broke the contract:\n{}",
        violations.join("\n")
    );
    assert!(
        !violations.is_empty(),
        "the codes the spec does not list were noticed: the check is live"
    );
    let requests = prism.log_text().matches("Request received").count();
    assert!(requests >= 15, "{requests} requests went through Prism");
    emulator.shutdown().await;
}
