//! A scripted Box upload server, for what the emulator will not do: honest by default (it
//! opens a session, stores parts, lists them, commits), hostile on demand. Each call can
//! be given answers to send first, in order, and one to send every time after them; the
//! session's id and part size, and the listing's behaviour, are set by the script.

#![allow(dead_code)] // Each test file uses its own part of it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, options, post};
use box_upload::{Client, Config, RetryPolicy, Uploader, servers};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

/// The calls of the upload-session API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Call {
    Create,
    GetSession,
    Part,
    List,
    Commit,
    Abort,
    /// `OPTIONS /files/content`, the preflight check: accepted unless scripted.
    Preflight,
}

/// One answer: a status, headers and a body.
#[derive(Debug, Clone)]
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Answer {
    pub fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A Box error body with this `code`.
    pub fn error(status: u16, code: &str) -> Answer {
        Answer::new(status).json(json!({"type": "error", "status": status, "code": code}))
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Answer {
        self.body = body.into();
        self
    }

    pub fn json(self, value: Value) -> Answer {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}

/// What the server does.
#[derive(Debug, Clone)]
pub struct Script {
    pub session_id: String,
    pub part_size: i64,
    /// The size of the session's file; learned from the creation, or set for a resume.
    pub file_size: Option<u64>,
    /// `num_parts_processed` in the session's status; by default, the parts stored.
    pub processed_parts: Option<i64>,
    /// The listing starts at offset 0 whatever the client asks.
    pub list_ignores_offset: bool,
    /// The listing has no `total_count`.
    pub list_omits_total_count: bool,
    /// The listing refuses an offset above this with 400, as Box does above 10000.
    pub list_max_offset: Option<i64>,
    /// Answers sent first, in order, per call.
    pub first: BTreeMap<Call, VecDeque<Answer>>,
    /// The answer sent every time after those, per call, instead of an honest one.
    pub always: BTreeMap<Call, Answer>,
}

impl Script {
    pub fn new(part_size: i64) -> Script {
        Script {
            session_id: "F971964745A5CD0C001BBE4E58196BFD".into(),
            part_size,
            file_size: None,
            processed_parts: None,
            list_ignores_offset: false,
            list_omits_total_count: false,
            list_max_offset: Some(10_000),
            first: BTreeMap::new(),
            always: BTreeMap::new(),
        }
    }

    /// Sends `answer` once, after the answers already given for `call`.
    pub fn then(mut self, call: Call, answer: Answer) -> Script {
        self.first.entry(call).or_default().push_back(answer);
        self
    }

    /// Sends `answer` to every `call` once the answers given by [`then`](Self::then) are used.
    pub fn always(mut self, call: Call, answer: Answer) -> Script {
        self.always.insert(call, answer);
        self
    }
}

struct Shared {
    script: Script,
    base: String,
    /// Stored parts by offset.
    parts: BTreeMap<u64, Bytes>,
    calls: Vec<(Call, String)>,
    file_name: String,
}

/// A running scripted server.
#[derive(Clone)]
pub struct Scripted {
    base: String,
    shared: Arc<Mutex<Shared>>,
}

impl Scripted {
    pub async fn start(script: Script) -> Scripted {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/2.0", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            script,
            base: base.clone(),
            parts: BTreeMap::new(),
            calls: Vec::new(),
            file_name: "file.bin".into(),
        }));
        let session = "/api/2.0/files/upload_sessions/{id}";
        let app = Router::new()
            .route("/api/2.0/files/upload_sessions", post(create))
            .route("/api/2.0/files/{file_id}/upload_sessions", post(create))
            .route(
                session,
                get(get_session).put(upload_part).delete(abort_session),
            )
            .route(&format!("{session}/parts"), get(list_parts))
            .route(&format!("{session}/commit"), post(commit))
            .route("/api/2.0/files/content", options(preflight))
            // An empty folder, for the command, which lists its destination first.
            .route("/api/2.0/folders/{folder_id}/items", get(empty_folder))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Scripted { base, shared }
    }

    /// The upload root, for both upload servers (and the API server's preflight check).
    pub fn url(&self) -> &str {
        &self.base
    }

    /// A client of this server with quick retries, whose `Retry-After` limit is 1 s.
    pub fn client(&self) -> Client {
        let retry = RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(1),
        };
        let config = Config::bearer("scripted-token")
            .base_url(&servers::UPLOAD, self.url())
            .base_url(&servers::UPLOAD_SESSION, self.url())
            .base_url(&servers::API, self.url())
            .retry(retry);
        Client::new(config).expect("a client")
    }

    /// An uploader of this server for tests: no minimum size, every non-empty file in
    /// parts, short pauses and limits.
    pub fn uploader(&self) -> Uploader {
        Uploader::new(self.client())
            .min_file_size(1)
            .direct_upload_threshold(0)
            .retry_pause(Duration::from_millis(10))
            .request_timeout(Duration::from_secs(5))
            .part_timeout(Duration::from_secs(5))
            .commit_deadline(Duration::from_secs(5))
    }

    /// Stores `bytes` as the part at `offset`, as an earlier run would have.
    pub fn store(&self, offset: u64, bytes: &[u8]) {
        let mut shared = self.shared.lock().unwrap();
        shared.parts.insert(offset, Bytes::copy_from_slice(bytes));
    }

    /// How many times `call` was made.
    pub fn count(&self, call: Call) -> usize {
        self.calls().iter().filter(|(c, _)| *c == call).count()
    }

    /// Every call made, with its path and query.
    pub fn calls(&self) -> Vec<(Call, String)> {
        self.shared.lock().unwrap().calls.clone()
    }

    /// The offsets of the stored parts.
    pub fn stored(&self) -> Vec<u64> {
        self.shared.lock().unwrap().parts.keys().copied().collect()
    }
}

type Shared_ = State<Arc<Mutex<Shared>>>;

/// Records the call and returns the scripted answer for it, if any.
fn scripted(state: &Arc<Mutex<Shared>>, call: Call, uri: &str) -> Option<Response> {
    let mut shared = state.lock().unwrap();
    shared.calls.push((call, uri.to_string()));
    let script = &mut shared.script;
    let answer = match script.first.get_mut(&call).and_then(VecDeque::pop_front) {
        Some(answer) => answer,
        None => script.always.get(&call)?.clone(),
    };
    Some(respond(answer))
}

fn respond(answer: Answer) -> Response {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(answer.body)).unwrap()
}

fn json_answer(status: StatusCode, value: Value) -> Response {
    respond(Answer::new(status.as_u16()).json(value))
}

impl Shared {
    fn session_json(&self) -> Value {
        let script = &self.script;
        let id = &script.session_id;
        let size = script.file_size.unwrap_or(0);
        let total = match u64::try_from(script.part_size) {
            Ok(part) if part > 0 => size.div_ceil(part),
            _ => 0,
        };
        let processed = script.processed_parts.unwrap_or(self.parts.len() as i64);
        let mut session = json!({
            "type": "upload_session",
            "id": id,
            "session_expires_at": "2099-01-01T00:00:00Z",
            "part_size": script.part_size,
            "total_parts": total,
            "num_parts_processed": processed,
        });
        // Endpoints only for an id that can stand in a URL as it is.
        if id.chars().all(|c| c.is_ascii_alphanumeric()) {
            let at = format!("{}/files/upload_sessions/{id}", self.base);
            session["session_endpoints"] = json!({
                "upload_part": at,
                "commit": format!("{at}/commit"),
                "abort": at,
                "list_parts": format!("{at}/parts"),
                "status": at,
            });
        }
        session
    }
}

async fn create(State(state): Shared_, request: Request) -> Response {
    let uri = request.uri().to_string();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    if let Some(answer) = scripted(&state, Call::Create, &uri) {
        return answer;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut shared = state.lock().unwrap();
    shared.script.file_size = body["file_size"].as_u64();
    if let Some(name) = body["file_name"].as_str() {
        shared.file_name = name.to_string();
    }
    json_answer(StatusCode::CREATED, shared.session_json())
}

async fn get_session(State(state): Shared_, request: Request) -> Response {
    let uri = request.uri().to_string();
    if let Some(answer) = scripted(&state, Call::GetSession, &uri) {
        return answer;
    }
    json_answer(StatusCode::OK, state.lock().unwrap().session_json())
}

async fn upload_part(State(state): Shared_, headers: HeaderMap, request: Request) -> Response {
    let uri = request.uri().to_string();
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    if let Some(answer) = scripted(&state, Call::Part, &uri) {
        return answer;
    }
    // `bytes FIRST-LAST/SIZE`
    let range = headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split_once('-'))
        .and_then(|(first, rest)| Some((first.parse::<u64>().ok()?, rest.split_once('/')?)))
        .and_then(|(first, (last, size))| {
            Some((first, last.parse::<u64>().ok()?, size.parse::<u64>().ok()?))
        });
    let mut shared = state.lock().unwrap();
    let fits = range.is_some_and(|(first, last, size)| {
        Some(size) == shared.script.file_size && last + 1 - first == bytes.len() as u64
    });
    let Some((offset, _, _)) = range.filter(|_| fits) else {
        return json_answer(
            StatusCode::RANGE_NOT_SATISFIABLE,
            json!({"type": "error", "status": 416, "code": "range_not_satisfiable"}),
        );
    };
    let sha1 = hex(&Sha1::digest(&bytes));
    let size = bytes.len();
    shared.parts.insert(offset, bytes);
    json_answer(
        StatusCode::OK,
        json!({"part": {"part_id": format!("P{offset}"), "offset": offset, "size": size, "sha1": sha1}}),
    )
}

async fn list_parts(
    State(state): Shared_,
    Path(_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    let uri = request.uri().to_string();
    if let Some(answer) = scripted(&state, Call::List, &uri) {
        return answer;
    }
    let shared = state.lock().unwrap();
    let script = &shared.script;
    let number = |name: &str, default: i64| {
        query
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(default)
    };
    let (mut offset, limit) = (number("offset", 0), number("limit", 100).clamp(1, 1000));
    if script.list_max_offset.is_some_and(|max| offset > max) {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"type": "error", "status": 400, "code": "bad_request"}),
        );
    }
    if script.list_ignores_offset {
        offset = 0;
    }
    let entries: Vec<Value> = shared
        .parts
        .iter()
        .skip(offset.max(0) as usize)
        .take(limit as usize)
        .map(|(at, bytes)| {
            json!({"part_id": format!("P{at}"), "offset": at, "size": bytes.len(),
                   "sha1": hex(&Sha1::digest(bytes))})
        })
        .collect();
    let mut page = json!({"entries": entries, "limit": limit, "offset": offset});
    if !script.list_omits_total_count {
        page["total_count"] = json!(shared.parts.len());
    }
    json_answer(StatusCode::OK, page)
}

async fn commit(State(state): Shared_, request: Request) -> Response {
    let uri = request.uri().to_string();
    let _ = axum::body::to_bytes(request.into_body(), usize::MAX).await;
    if let Some(answer) = scripted(&state, Call::Commit, &uri) {
        return answer;
    }
    let shared = state.lock().unwrap();
    let mut hasher = Sha1::new();
    let mut size = 0;
    for bytes in shared.parts.values() {
        hasher.update(bytes);
        size += bytes.len();
    }
    let file = json!({"type": "file", "id": "12345", "name": shared.file_name, "size": size,
                      "sha1": hex(&hasher.finalize())});
    json_answer(
        StatusCode::CREATED,
        json!({"total_count": 1, "entries": [file]}),
    )
}

async fn abort_session(State(state): Shared_, request: Request) -> Response {
    let uri = request.uri().to_string();
    if let Some(answer) = scripted(&state, Call::Abort, &uri) {
        return answer;
    }
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap()
}

async fn preflight(State(state): Shared_, request: Request) -> Response {
    let uri = request.uri().to_string();
    if let Some(answer) = scripted(&state, Call::Preflight, &uri) {
        return answer;
    }
    let base = state.lock().unwrap().base.clone();
    json_answer(
        StatusCode::OK,
        json!({"upload_url": format!("{base}/files/content"), "upload_token": "scripted-upload-token"}),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Any folder, empty: one page with no entries.
async fn empty_folder() -> Response {
    axum::Json(serde_json::json!({"entries": [], "limit": 1000})).into_response()
}
