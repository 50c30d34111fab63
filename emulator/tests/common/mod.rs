//! Helpers for the emulator's tests: raw HTTP calls with reqwest, no client crate.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use box_emulator::{Emulator, EmulatorConfig, PartSizePolicy};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub const TOKEN: &str = "test-token";

/// Small files: 1 KiB parts, no minimum size, one fixed token.
pub fn small_config() -> EmulatorConfig {
    EmulatorConfig {
        token: Some(TOKEN.to_string()),
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(1024),
        fault_seed: Some(1),
        ..EmulatorConfig::default()
    }
}

pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("emulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Deterministic, non-repeating test bytes.
pub fn data(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha1_raw(bytes: &[u8]) -> [u8; 20] {
    Sha1::digest(bytes).into()
}

pub fn sha1_hex(bytes: &[u8]) -> String {
    sha1_raw(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn digest(bytes: &[u8]) -> String {
    format!("sha={}", BASE64.encode(sha1_raw(bytes)))
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a success status and returns the JSON body.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// Asserts a `ClientError` answer with this status and code; returns the body.
    pub fn error(&self, status: u16, code: &str) -> Value {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status.as_u16(), status, "body: {body}");
        let json = self.json();
        assert_eq!(json["type"], "error", "{body}");
        assert_eq!(json["status"], status, "{body}");
        assert_eq!(json["code"], code, "{body}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(json["help_url"].as_str().is_some(), "{body}");
        let request_id = json["request_id"].as_str().expect("request_id");
        assert_eq!(self.header("box-request-id"), Some(request_id));
        json
    }
}

/// Raw calls against one emulator.
pub struct Api {
    pub http: reqwest::Client,
    pub upload: String,
    pub api: String,
    pub token: String,
}

impl Api {
    pub fn new(emulator: &Emulator) -> Api {
        Api {
            http: client(),
            upload: emulator.upload_url(),
            api: emulator.api_url(),
            token: TOKEN.to_string(),
        }
    }

    pub fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http.request(method, url).bearer_auth(&self.token)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request.send().await.expect("request sent")).await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> Answer {
        self.send(
            self.request(Method::POST, url)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap()),
        )
        .await
    }

    pub async fn create_session_raw(&self, body: &Value) -> Answer {
        self.post_json(&format!("{}/files/upload_sessions", self.upload), body)
            .await
    }

    /// Creates a session and returns its JSON (asserting 201).
    pub async fn create_session(&self, folder_id: &str, name: &str, size: usize) -> Value {
        self.create_session_raw(
            &json!({"folder_id": folder_id, "file_name": name, "file_size": size}),
        )
        .await
        .ok(201)
    }

    pub fn put_part_request(
        &self,
        session: &Value,
        bytes: &[u8],
        first: usize,
        total: usize,
    ) -> reqwest::RequestBuilder {
        let url = session["session_endpoints"]["upload_part"]
            .as_str()
            .unwrap();
        self.request(Method::PUT, url)
            .header("content-type", "application/octet-stream")
            .header("digest", digest(bytes))
            .header(
                "content-range",
                format!("bytes {first}-{}/{total}", first + bytes.len() - 1),
            )
            .body(bytes.to_vec())
    }

    pub async fn put_part(
        &self,
        session: &Value,
        bytes: &[u8],
        first: usize,
        total: usize,
    ) -> Answer {
        self.send(self.put_part_request(session, bytes, first, total))
            .await
    }

    /// Uploads every part of `file` in order; returns the parts as the server answered them.
    pub async fn put_all(&self, session: &Value, file: &[u8]) -> Vec<Value> {
        let part_size = session["part_size"].as_u64().unwrap() as usize;
        let mut parts = Vec::new();
        for (i, chunk) in file.chunks(part_size).enumerate() {
            let answer = self
                .put_part(session, chunk, i * part_size, file.len())
                .await;
            parts.push(answer.ok(200)["part"].clone());
        }
        parts
    }

    pub async fn list_parts(&self, session: &Value, query: &str) -> Answer {
        let url = session["session_endpoints"]["list_parts"].as_str().unwrap();
        self.send(self.request(Method::GET, &format!("{url}{query}")))
            .await
    }

    pub async fn commit_with(
        &self,
        session: &Value,
        parts: &[Value],
        digest_header: &str,
        extra: &[(&str, &str)],
    ) -> Answer {
        let url = session["session_endpoints"]["commit"].as_str().unwrap();
        let mut request = self
            .request(Method::POST, url)
            .header("content-type", "application/json")
            .header("digest", digest_header)
            .body(serde_json::to_vec(&json!({"parts": parts})).unwrap());
        for (name, value) in extra {
            request = request.header(*name, HeaderValue::from_str(value).unwrap());
        }
        self.send(request).await
    }

    pub async fn commit(&self, session: &Value, parts: &[Value], file: &[u8]) -> Answer {
        self.commit_with(session, parts, &digest(file), &[]).await
    }

    pub async fn status(&self, session: &Value) -> Answer {
        let url = session["session_endpoints"]["status"].as_str().unwrap();
        self.send(self.request(Method::GET, url)).await
    }

    pub async fn abort(&self, session: &Value) -> Answer {
        let url = session["session_endpoints"]["abort"].as_str().unwrap();
        self.send(self.request(Method::DELETE, url)).await
    }
}

/// A `multipart/form-data` body written by hand, parts in the order given, so tests can
/// also send them in the wrong order: `(name, filename, content)`.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "emulator-test-boundary-7d1f0c";
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
        let kind = match filename {
            Some(_) => "application/octet-stream",
            None => "application/json",
        };
        body.extend_from_slice(format!("Content-Type: {kind}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Api {
    /// `POST {url}` with a multipart body of an `attributes` part and a `file` part.
    pub async fn upload_to(
        &self,
        url: &str,
        attributes: &Value,
        content: &[u8],
        headers: &[(&str, &str)],
    ) -> Answer {
        let attributes = serde_json::to_vec(attributes).unwrap();
        let (content_type, body) = multipart(&[
            ("attributes", None, &attributes),
            ("file", Some("content.bin"), content),
        ]);
        self.send_multipart(url, content_type, body, headers).await
    }

    pub async fn send_multipart(
        &self,
        url: &str,
        content_type: String,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .request(Method::POST, url)
            .header("content-type", content_type)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_str(value).unwrap());
        }
        self.send(request).await
    }

    /// A direct upload of a new file into `folder_id` (asserting nothing).
    pub async fn upload_file(&self, folder_id: &str, name: &str, content: &[u8]) -> Answer {
        let attributes = json!({"name": name, "parent": {"id": folder_id}});
        self.upload_to(
            &format!("{}/files/content", self.upload),
            &attributes,
            content,
            &[],
        )
        .await
    }

    /// `GET {api}{path}`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, &format!("{}{path}", self.api)))
            .await
    }
}
