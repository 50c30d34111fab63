//! Contract test of the multipart requests (`POST /files/content`, `POST
//! /files/{file_id}/content`): the generated client's and the `Uploader`'s requests are
//! recorded by a loopback server and validated against the spec (its overlays applied, as
//! the client is generated from it) with openapi-core (PyPI, pinned, installed on first use
//! under the target directory), by `tests/contract/validate_request.py`.
//!
//! Not Prism, as for the other operations (`contract.rs`): Prism 5 reads every multipart
//! part as a string, so Box's JSON `attributes` part is refused as "must be object", with or
//! without an `encoding` that names its content type (tried: stoplightio/prism 2008, 2672).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use box_upload::{
    Client, Config, ConflictPolicy, RetryPolicy, Source, UploadFileBodyAttributes,
    UploadFileBodyAttributesParent, UploadFileRequest, UploadFileVersionBodyAttributes,
    UploadFileVersionRequest, Uploader, servers,
};
use oas_runtime::FilePart;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

/// The validator release the script is written for.
const OPENAPI_CORE: &str = "openapi-core==0.23.1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Where the pinned validator is installed; installs it once if it is not there.
fn validator_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(OPENAPI_CORE.replace("==", "-"));
        if dir.join("openapi_core").is_dir() {
            return dir;
        }
        // Installed beside, then renamed: an interrupted install is never taken for one.
        let partial = dir.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        let output = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "--target"])
            .arg(&partial)
            .arg(OPENAPI_CORE)
            .env("PIP_ROOT_USER_ACTION", "ignore")
            .output()
            .unwrap_or_else(|e| panic!("the multipart contract test needs python3 with pip: {e}"));
        assert!(
            output.status.success(),
            "`python3 -m pip install --target {} {OPENAPI_CORE}` failed ({}):\n{}",
            partial.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        if std::fs::rename(&partial, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&partial);
        }
        dir
    })
}

/// `spec/box-upload.yaml` with the overlays of `spec/codegen.toml` applied, as JSON.
fn overlaid_spec(dir: &Path) -> PathBuf {
    let root = workspace_root();
    let config = oas_codegen::Config::load(&root.join("spec/codegen.toml")).expect("the config");
    let spec = config
        .spec
        .clone()
        .unwrap_or_else(|| "box-upload.yaml".into());
    let loaded = oas_codegen::load::load(&config.dir.join(spec), &config.overlay_paths())
        .expect("the spec loads");
    let path = dir.join("spec.json");
    std::fs::write(&path, serde_json::to_vec(&loaded.json).unwrap()).unwrap();
    path
}

/// A recorded request.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path_and_query: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

#[derive(Default)]
struct Recorder {
    requests: Vec<Recorded>,
    /// The answer's `Files` entry for the next requests.
    file: Value,
}

type Shared = Arc<Mutex<Recorder>>;

async fn record(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let mut recorder = shared.lock().unwrap();
    recorder.requests.push(Recorded {
        method: parts.method.to_string(),
        path_and_query: parts.uri.to_string(),
        headers,
        body,
    });
    let status = if parts.uri.path().ends_with("/files/content") {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let files = json!({"total_count": 1, "entries": [recorder.file.clone()]});
    (status, axum::Json(files)).into_response()
}

/// A loopback server that records every request and answers with a one-file `Files`.
async fn recorder() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/2.0", listener.local_addr().unwrap());
    let app = Router::new().fallback(record).with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, shared)
}

/// Writes `requests` as the script reads them (on Box's upload host, where the spec puts
/// these operations) and runs it; returns its exit code and output.
fn validate(spec: &Path, dir: &Path, requests: &[Recorded]) -> (i32, String) {
    let mut folders = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let folder = dir.join(format!("request-{i}"));
        std::fs::create_dir_all(&folder).unwrap();
        let described = json!({
            "method": request.method,
            "url": format!("https://upload.box.com{}", request.path_and_query),
            "headers": request.headers,
        });
        std::fs::write(folder.join("request.json"), described.to_string()).unwrap();
        std::fs::write(folder.join("body.bin"), &request.body).unwrap();
        folders.push(folder);
    }
    let output = Command::new("python3")
        .arg(workspace_root().join("tests/contract/validate_request.py"))
        .arg(spec)
        .args(&folders)
        .env("PYTHONPATH", validator_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_multipart_requests_are_valid_for_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = overlaid_spec(dir.path());
    let (base, shared) = recorder().await;
    let config = Config::bearer("token")
        .base_url(&servers::UPLOAD, &base)
        .base_url(&servers::UPLOAD_SESSION, &base)
        .retry(RetryPolicy::none());
    let client = Client::new(config).unwrap();

    // Binary content, not valid UTF-8.
    let content: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 256) as u8).collect();
    let sha1 = sha1_hex(&content);
    shared.lock().unwrap().file = json!({"type": "file", "id": "12345", "name": "a.bin",
        "size": content.len(), "sha1": sha1});

    let modified = "2025-03-14T09:26:53Z".parse().ok();
    client
        .upload_file(UploadFileRequest {
            fields: Some(vec!["id".into(), "sha1".into()]),
            content_md5: Some(sha1.clone()),
            attributes: UploadFileBodyAttributes {
                name: "a.bin".into(),
                parent: UploadFileBodyAttributesParent { id: "0".into() },
                content_created_at: modified,
                content_modified_at: modified,
            },
            file: FilePart::from_bytes(content.clone(), "a.bin"),
        })
        .await
        .expect("upload_file");
    for name in [None, Some("renamed.bin")] {
        client
            .upload_file_version(
                "12345",
                UploadFileVersionRequest {
                    fields: None,
                    if_match: Some("3".into()),
                    content_md5: Some(sha1.clone()),
                    attributes: UploadFileVersionBodyAttributes {
                        name: name.map(str::to_string),
                        content_modified_at: modified,
                    },
                    file: FilePart::from_bytes(content.clone(), "a.bin"),
                },
            )
            .await
            .expect("upload_file_version");
    }
    // The engine's own direct uploads: a new file, streamed from disk, and a new version.
    let source = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(source.path(), &content).unwrap();
    let uploader = Uploader::new(client.clone())
        .preflight_from(u64::MAX)
        .on_conflict(ConflictPolicy::Fail);
    let outcome = uploader
        .upload(Source::path(source.path()), "0", "a.bin")
        .await
        .expect("Uploader::upload");
    assert_eq!(outcome.label(), "uploaded");
    uploader
        .upload_new_version(source.path(), "12345", None)
        .await
        .expect("Uploader::upload_new_version");

    let requests = shared.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 5, "{requests:#?}");
    for request in &requests {
        let content_type = request
            .headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str());
        assert!(
            content_type.is_some_and(|t| t.starts_with("multipart/form-data; boundary=")),
            "{request:?}"
        );
        assert!(
            request
                .headers
                .iter()
                .any(|(n, v)| n == "content-md5" && *v == sha1),
            "{request:?}"
        );
    }
    let (code, output) = validate(&spec, dir.path(), &requests);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        output.lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{output}"
    );

    // The check can fail: the same request with a name that is not a string is invalid.
    let mut broken = requests[0].clone();
    let name = br#""name":"a.bin""#;
    let at = broken
        .body
        .windows(name.len())
        .position(|w| w == name)
        .expect("the attributes name the file");
    let mut body = broken.body.to_vec();
    body.splice(at..at + name.len(), br#""name":7"#.iter().copied());
    broken.body = Bytes::from(body);
    let (code, output) = validate(&spec, &dir.path().join("broken"), &[broken]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("invalid"), "{output}");
}
