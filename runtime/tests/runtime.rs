//! End-to-end tests of the runtime against a local HTTP server.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use oas_runtime::{
    AccessToken, AuthError, Body, Client, Config, Error, Method, Operation, Request, RetryPolicy,
    SendError, Server, StaticToken, StatusCode, TokenProvider, Url, encode_path_segment,
};
use serde::Deserialize;
use support::{API, CREATE_ITEM, Canned, GET_ITEM, PUT_PART, fast_retries, serve};

const SECRET: &str = "s3cr3t-T0KEN-value";

fn client(base: &str, retry: RetryPolicy) -> Client {
    Client::new(Config::bearer(SECRET).base_url(&API, base).retry(retry)).unwrap()
}

async fn get(client: &Client, path: &str) -> Result<oas_runtime::Response, SendError> {
    let url = client.endpoint(&GET_ITEM, path).unwrap();
    client
        .execute(&GET_ITEM, Request::new(Method::GET, url))
        .await
}

// ---------------------------------------------------------------- URLs

static TEMPLATED: Server = Server {
    name: "regional",
    url_template: "https://{region}.example.com/{version}/",
    variables: &[
        oas_runtime::ServerVariable {
            name: "region",
            default: "eu",
        },
        oas_runtime::ServerVariable {
            name: "version",
            default: "2.0",
        },
    ],
    trusted_hosts: &["upload-*.example.net"],
};

static NO_DEFAULT: Server = Server {
    name: "tenant",
    url_template: "https://{tenant}.example.com",
    variables: &[],
    trusted_hosts: &[],
};

const REGIONAL_OP: Operation = Operation {
    id: "regional_op",
    method: Method::GET,
    path_template: "/files/{id}",
    server: &TEMPLATED,
    idempotent: true,
    auth: true,
};

static TENANT_OP: Operation = Operation {
    id: "tenant_op",
    method: Method::GET,
    path_template: "/x",
    server: &NO_DEFAULT,
    idempotent: true,
    auth: true,
};

#[test]
fn endpoint_uses_template_defaults_and_variables() {
    // A `const` operation can be borrowed for 'static, as a `static` can.
    let op: &'static Operation = &REGIONAL_OP;

    let client = Client::new(Config::bearer("t")).unwrap();
    let url = client.endpoint(op, "/files/abc").unwrap();
    assert_eq!(url.as_str(), "https://eu.example.com/2.0/files/abc");

    let client = Client::new(Config::bearer("t").server_variable("region", "us")).unwrap();
    let url = client.endpoint(op, "/files/abc").unwrap();
    assert_eq!(url.as_str(), "https://us.example.com/2.0/files/abc");

    // No leading slash: one is added.
    let url = client.endpoint(op, "files/abc").unwrap();
    assert_eq!(url.as_str(), "https://us.example.com/2.0/files/abc");

    let error = client.endpoint(&TENANT_OP, "/x").unwrap_err();
    assert!(error.message().contains("\"tenant\""), "{error}");
    assert!(error.message().contains("server_variable"), "{error}");
    let client = Client::new(Config::bearer("t").server_variable("tenant", "acme")).unwrap();
    let url = client.endpoint(&TENANT_OP, "/x").unwrap();
    assert_eq!(url.as_str(), "https://acme.example.com/x");
}

#[test]
fn endpoint_uses_base_url_override_without_double_slashes() {
    for (base, expected) in [
        (
            "http://localhost:8080/api/",
            "http://localhost:8080/api/files/abc",
        ),
        (
            "http://localhost:8080/api",
            "http://localhost:8080/api/files/abc",
        ),
        ("http://localhost:8080/", "http://localhost:8080/files/abc"),
        ("http://localhost:8080", "http://localhost:8080/files/abc"),
    ] {
        let client = Client::new(
            Config::bearer("t")
                .base_url(&TEMPLATED, base)
                .server_variable("region", "ignored"),
        )
        .unwrap();
        let url = client.endpoint(&REGIONAL_OP, "/files/abc").unwrap();
        assert_eq!(url.as_str(), expected, "base {base}");
    }
}

#[test]
fn encoded_segment_stays_one_segment() {
    let client = Client::new(Config::bearer("t")).unwrap();
    let id = "a/../b?c=%2F#d e\\f";
    let path = format!("/files/{}", encode_path_segment(id));
    let url = client.endpoint(&REGIONAL_OP, &path).unwrap();
    assert_eq!(url.query(), None);
    assert_eq!(url.fragment(), None);
    let segments: Vec<_> = url.path_segments().unwrap().collect();
    assert_eq!(segments.len(), 3, "{url}");
    assert_eq!(segments[..2], ["2.0", "files"]);
    let decoded = percent_decode(segments[2]);
    assert_eq!(decoded, id);
}

#[test]
fn endpoint_rejects_paths_that_would_escape() {
    let client = Client::new(Config::bearer("t")).unwrap();
    for path in [
        format!("/files/{}", encode_path_segment("..")),
        format!("/files/{}", encode_path_segment(".")),
        "/files/../../etc".to_owned(),
        "/files/%2e%2e/x".to_owned(),
        "/files/a?b".to_owned(),
        "/files/a#b".to_owned(),
        "/files/a b".to_owned(),
        "/files\\a".to_owned(),
    ] {
        let error = client.endpoint(&REGIONAL_OP, &path).unwrap_err();
        assert!(error.message().contains("regional_op"), "{error}");
    }
}

#[test]
fn client_rejects_bad_base_urls() {
    // The message names the URL without its credentials or query (they may be secrets).
    for (bad, shown) in [
        ("ftp://example.com", "ftp://example.com"),
        ("/relative/path", "/relative/path"),
        ("not a url", "not a url"),
        ("https://example.com/?q=1", "https://example.com/"),
        ("https://user:pw@example.com/", "https://***@example.com/"),
    ] {
        let error = Client::new(Config::bearer("t").base_url(&API, bad)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&format!("{shown:?}")), "{message}");
        assert!(message.contains("api"), "{message}");
        assert!(
            !message.contains("pw@") && !message.contains("q=1"),
            "{message}"
        );
    }
    let error = Client::new(Config::bearer("t").user_agent("bad\nagent")).unwrap_err();
    assert!(error.to_string().contains("user agent"), "{error}");
}

#[test]
fn endpoint_at_checks_absolute_http_urls() {
    let client = Client::new(Config::bearer("t").trust_host("upload.example.com")).unwrap();
    let url = client
        .endpoint_at(&PUT_PART, "https://upload.example.com/sessions/ABC?x=1")
        .unwrap();
    assert_eq!(url.as_str(), "https://upload.example.com/sessions/ABC?x=1");
    for bad in [
        "/sessions/ABC",
        "ftp://example.com/x",
        "https://",
        "mailto:a@b.c",
    ] {
        let error = client.endpoint_at(&PUT_PART, bad).unwrap_err();
        assert!(error.message().contains(&format!("{bad:?}")), "{error}");
        assert!(error.message().contains("put_part"), "{error}");
    }
}

/// Asserts that `endpoint_at` refuses `url` for `op`, with a message that
/// names the operation and holds `reason` but never the URL's query.
fn assert_refused(client: &Client, op: &Operation, url: &str, reason: &str) {
    let error = client.endpoint_at(op, url).unwrap_err();
    let message = error.message();
    assert!(
        message.contains("refusing to send the access token"),
        "{url}: {message}"
    );
    assert!(message.contains(op.id), "{url}: {message}");
    assert!(message.contains(reason), "{url}: {message}");
    assert!(!message.contains("secret=1"), "{url}: {message}");
}

#[test]
fn endpoint_at_sends_the_token_only_to_trusted_hosts() {
    let client = Client::new(Config::bearer("t")).unwrap();
    // The server's template with its defaults (eu.example.com) and its patterns.
    for trusted in [
        "https://eu.example.com/files/1",
        "https://EU.Example.COM/files/1",
        "https://eu.example.com:8443/files/1",
        "https://upload-las.example.net/files/1?secret=1",
    ] {
        client.endpoint_at(&REGIONAL_OP, trusted).unwrap();
    }
    for untrusted in [
        "https://evil.example/files/1?secret=1",
        "https://us.example.com/files/1",
        "https://eu.example.com.evil.example/files/1",
        "https://upload.example.net/files/1",
        "https://upload-a.b.example.net/files/1",
        "https://127.0.0.1/files/1",
    ] {
        assert_refused(&client, &REGIONAL_OP, untrusted, "is not trusted");
    }
    let error = client
        .endpoint_at(&REGIONAL_OP, "https://evil.example/x")
        .unwrap_err();
    let message = error.message();
    assert!(message.contains("\"evil.example\""), "{message}");
    assert!(
        message.contains("eu.example.com, upload-*.example.net"),
        "{message}"
    );
    assert!(message.contains("Config::trust_host"), "{message}");
}

#[test]
fn configured_hosts_and_patterns_are_trusted() {
    let config = Config::bearer("t")
        .server_variable("region", "us")
        .trust_host("*.files.example.org")
        .trust_host("198.51.100.7");
    let client = Client::new(config).unwrap();
    for trusted in [
        "https://us.example.com/x",
        "https://eu.example.com/x",
        "https://a.files.example.org/x",
        "https://198.51.100.7/x",
    ] {
        client.endpoint_at(&REGIONAL_OP, trusted).unwrap();
    }
    assert_refused(
        &client,
        &REGIONAL_OP,
        "https://files.example.org/x",
        "is not trusted",
    );

    // Without the description's hosts, only the configured ones remain.
    let strict = Config::bearer("t")
        .server_variable("region", "us")
        .trust_server_hosts(false);
    let client = Client::new(strict).unwrap();
    client
        .endpoint_at(&REGIONAL_OP, "https://us.example.com/x")
        .unwrap();
    assert_refused(
        &client,
        &REGIONAL_OP,
        "https://eu.example.com/x",
        "is not trusted",
    );
    assert_refused(
        &client,
        &REGIONAL_OP,
        "https://upload-las.example.net/x",
        "is not trusted",
    );
}

#[test]
fn plain_http_only_to_loopback_the_configured_origin_or_after_opting_in() {
    let base = "http://10.1.2.3:8080/2.0";
    let config = Config::bearer("t")
        .base_url(&API, base)
        .trust_host("files.example.com")
        .trust_host("localhost");
    let client = Client::new(config.clone()).unwrap();
    client
        .endpoint_at(&PUT_PART, "http://10.1.2.3:8080/up/1")
        .unwrap();
    client
        .endpoint_at(&PUT_PART, "https://10.1.2.3/up/1")
        .unwrap();
    client
        .endpoint_at(&PUT_PART, "http://localhost:1234/up/1")
        .unwrap();
    client
        .endpoint_at(&PUT_PART, "https://files.example.com/up/1")
        .unwrap();
    assert_refused(
        &client,
        &PUT_PART,
        "http://10.1.2.3:9090/up/1",
        "plain http",
    );
    assert_refused(
        &client,
        &PUT_PART,
        "http://files.example.com/up/1",
        "allow_insecure_http",
    );

    let client = Client::new(config.allow_insecure_http(true)).unwrap();
    client
        .endpoint_at(&PUT_PART, "http://files.example.com/up/1")
        .unwrap();
    client
        .endpoint_at(&PUT_PART, "http://10.1.2.3:9090/up/1")
        .unwrap();
    assert_refused(
        &client,
        &PUT_PART,
        "http://evil.example/up/1",
        "is not trusted",
    );

    // A loopback base trusts its host on every port (an emulator's second port).
    let client =
        Client::new(Config::bearer("t").base_url(&API, "http://127.0.0.1:5000/2.0")).unwrap();
    client
        .endpoint_at(&PUT_PART, "http://127.0.0.1:6000/up/1")
        .unwrap();
    assert_refused(
        &client,
        &PUT_PART,
        "http://127.0.0.2:6000/up/1",
        "is not trusted",
    );
}

#[test]
fn invalid_host_patterns_are_refused_by_the_client() {
    for bad in ["*.com", "https://x.example.com", "a.*.example.com", ""] {
        let error = Client::new(Config::bearer("t").trust_host(bad)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&format!("{bad:?}")), "{message}");
        assert!(message.contains("Config::trust_host"), "{message}");
    }
}

#[test]
fn query_pairs_are_encoded() {
    let url = Url::parse("https://example.com/items").unwrap();
    let mut request = Request::new(Method::GET, url);
    request
        .query("q", "a b&c=d/é")
        .query("limit", 5)
        .query("fields", "x,y");
    assert_eq!(
        request.url().query(),
        Some("q=a+b%26c%3Dd%2F%C3%A9&limit=5&fields=x%2Cy")
    );
}

#[test]
fn invalid_header_names_the_header() {
    let url = Url::parse("https://example.com/").unwrap();
    let mut request = Request::new(Method::GET, url);
    let error = request
        .header("x-digest", "sha=abc\r\nevil: 1")
        .unwrap_err();
    assert!(error.message().contains("x-digest"), "{error}");
    assert!(error.to_string().contains("newline"), "{error}");
    let error = request.header("bad name", "v").unwrap_err();
    assert!(error.message().contains("bad name"), "{error}");
    request.header("If-Match", "\"1\"").unwrap();
    request.header("if-match", "\"2\"").unwrap();
    assert_eq!(request.headers().get_all("if-match").iter().count(), 1);
    assert_eq!(request.headers()["if-match"], "\"2\"");
}

#[test]
fn body_length_and_replayability() {
    let body = Body::from(Bytes::from_static(b"abc"));
    assert_eq!((body.len(), body.is_replayable()), (Some(3), true));
    let body = Body::from(vec![0u8; 10]);
    assert_eq!((body.len(), body.is_replayable()), (Some(10), true));
    let body = Body::from(String::from("xy"));
    assert_eq!(body.len(), Some(2));
    let stream = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
    let body = Body::from_stream(stream, Some(7));
    assert_eq!((body.len(), body.is_replayable()), (Some(7), false));
}

// ---------------------------------------------------------------- sending

#[tokio::test]
async fn sends_bearer_token_user_agent_and_query() {
    let (mock, base) = serve(vec![Canned::new(200, r#"{"id":"1"}"#)]).await;
    let client = client(&base, RetryPolicy::none());
    let url = client.endpoint(&GET_ITEM, "/items/abc%2Fdef").unwrap();
    let mut request = Request::new(Method::GET, url);
    request.query("fields", "a b");
    let response = client.execute(&GET_ITEM, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), &Bytes::from_static(br#"{"id":"1"}"#));

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].uri, "/items/abc%2Fdef?fields=a+b");
    assert_eq!(
        requests[0].header("authorization"),
        Some(&*format!("Bearer {SECRET}"))
    );
    let ua = requests[0].header("user-agent").unwrap();
    assert!(ua.starts_with("oas-runtime/"), "{ua}");
}

#[tokio::test]
async fn sends_json_body_with_content_type() {
    let (mock, base) = serve(vec![]).await;
    let client = client(&base, RetryPolicy::none());
    let url = client.endpoint(&CREATE_ITEM, "/items").unwrap();
    let mut request = Request::new(Method::POST, url);
    request
        .json(&serde_json::json!({"name": "a.txt", "size": 3}))
        .unwrap();
    client.execute(&CREATE_ITEM, request).await.unwrap();
    let recorded = &mock.requests()[0];
    assert_eq!(recorded.header("content-type"), Some("application/json"));
    let sent: serde_json::Value = serde_json::from_slice(&recorded.body).unwrap();
    assert_eq!(sent, serde_json::json!({"name": "a.txt", "size": 3}));
    assert_eq!(
        recorded.header("content-length"),
        Some(&*recorded.body.len().to_string())
    );
}

#[tokio::test]
async fn sends_bytes_body_as_is_with_content_length() {
    let (mock, base) = serve(vec![]).await;
    let client = client(&base, RetryPolicy::none());
    let data: Bytes = (0..100_000u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<_>>()
        .into();
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url);
    request.body(Body::from(data.clone()), "application/octet-stream");
    client.execute(&PUT_PART, request).await.unwrap();
    let recorded = &mock.requests()[0];
    assert_eq!(
        recorded.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(recorded.header("content-length"), Some("100000"));
    assert_eq!(recorded.header("transfer-encoding"), None);
    assert_eq!(recorded.body, data);
}

fn chunks() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"hello ")),
        Ok(Bytes::from_static(b"streamed ")),
        Ok(Bytes::from_static(b"world")),
    ])
}

#[tokio::test]
async fn streamed_body_of_unknown_length_is_chunked() {
    let (mock, base) = serve(vec![]).await;
    let client = client(&base, RetryPolicy::none());
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url.clone());
    request.body(Body::from_stream(chunks(), None), "text/plain");
    client.execute(&PUT_PART, request).await.unwrap();

    let mut request = Request::new(Method::PUT, url);
    request.body(Body::from_stream(chunks(), Some(20)), "text/plain");
    client.execute(&PUT_PART, request).await.unwrap();

    let requests = mock.requests();
    assert_eq!(requests[0].header("transfer-encoding"), Some("chunked"));
    assert_eq!(requests[0].header("content-length"), None);
    assert_eq!(
        requests[0].body,
        Bytes::from_static(b"hello streamed world")
    );
    assert_eq!(requests[1].header("transfer-encoding"), None);
    assert_eq!(requests[1].header("content-length"), Some("20"));
    assert_eq!(
        requests[1].body,
        Bytes::from_static(b"hello streamed world")
    );
}

#[tokio::test]
async fn invalid_content_type_fails_at_execute() {
    let (mock, base) = serve(vec![]).await;
    let client = client(&base, RetryPolicy::none());
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url);
    request.body(Body::from("x"), "text/plain\n");
    let error = client.execute(&PUT_PART, request).await.unwrap_err();
    assert!(matches!(error, SendError::InvalidRequest(_)), "{error:?}");
    assert!(error.to_string().contains("content type"), "{error}");
    assert!(mock.requests().is_empty());
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn retries_503_then_succeeds() {
    let (mock, base) = serve(vec![
        Canned::new(503, "busy"),
        Canned::new(502, "bad gateway"),
        Canned::new(200, "ok"),
    ])
    .await;
    let client = client(&base, fast_retries(5));
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url);
    request.body(
        Body::from(Bytes::from_static(b"payload")),
        "application/octet-stream",
    );
    let response = client.execute(&PUT_PART, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), &Bytes::from_static(b"ok"));
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    for recorded in &requests {
        // The body is sent again, whole, with every attempt.
        assert_eq!(recorded.body, Bytes::from_static(b"payload"));
        assert_eq!(
            recorded.header("authorization"),
            Some(&*format!("Bearer {SECRET}"))
        );
    }
}

#[tokio::test]
async fn returns_last_response_when_attempts_run_out() {
    let (mock, base) = serve(
        (0..5)
            .map(|i| Canned::new(503, format!("busy {i}")))
            .collect(),
    )
    .await;
    let client = client(&base, fast_retries(3));
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body(), &Bytes::from_static(b"busy 2"));
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn does_not_retry_other_statuses() {
    let (mock, base) = serve(vec![Canned::new(501, ""), Canned::new(200, "")]).await;
    let client = client(&base, fast_retries(3));
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn honours_retry_after_seconds() {
    let (mock, base) = serve(vec![
        Canned::new(429, "slow down").header("retry-after", "1"),
        Canned::new(200, "ok"),
    ])
    .await;
    let client = client(&base, fast_retries(3));
    let start = Instant::now();
    let response = get(&client, "/items/1").await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(mock.requests().len(), 2);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1900), "{elapsed:?}");
}

#[tokio::test]
async fn caps_retry_after() {
    let (mock, base) = serve(vec![
        Canned::new(503, "").header("retry-after", "3600"),
        Canned::new(200, "ok"),
    ])
    .await;
    let policy = RetryPolicy {
        max_retry_after: Duration::from_millis(50),
        ..fast_retries(3)
    };
    let client = client(&base, policy);
    let start = Instant::now();
    let response = get(&client, "/items/1").await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(mock.requests().len(), 2);
    assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn stops_when_the_wait_would_pass_max_elapsed() {
    let (mock, base) = serve(vec![
        Canned::new(503, "").header("retry-after", "10"),
        Canned::new(200, "ok"),
    ])
    .await;
    let policy = RetryPolicy {
        max_retry_after: Duration::from_secs(60),
        max_elapsed: Duration::from_secs(5),
        ..fast_retries(3)
    };
    let client = client(&base, policy);
    let start = Instant::now();
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(mock.requests().len(), 1);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn does_not_retry_non_idempotent_operations() {
    let (mock, base) = serve(vec![Canned::new(503, "busy"), Canned::new(200, "ok")]).await;
    let client = client(&base, fast_retries(5));
    let url = client.endpoint(&CREATE_ITEM, "/items").unwrap();
    let mut request = Request::new(Method::POST, url);
    request.json(&serde_json::json!({})).unwrap();
    let response = client.execute(&CREATE_ITEM, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn does_not_retry_streamed_bodies() {
    let (mock, base) = serve(vec![Canned::new(503, "busy"), Canned::new(200, "ok")]).await;
    let client = client(&base, fast_retries(5));
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url);
    request.body(Body::from_stream(chunks(), None), "text/plain");
    let response = client.execute(&PUT_PART, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(mock.requests().len(), 1);
}

/// A URL on which nothing listens.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn retries_connection_errors_and_counts_attempts() {
    let base = closed_port_url().await;
    let client = client(&base, fast_retries(3));
    let url = client.endpoint(&GET_ITEM, "/items/1").unwrap();
    let mut request = Request::new(Method::GET, url);
    request.query("secret_cursor", "zzz");
    let error = client.execute(&GET_ITEM, request).await.unwrap_err();
    let SendError::Transport(transport) = &error else {
        panic!("not a transport error: {error:?}");
    };
    assert!(transport.is_connect(), "{transport:?}");
    assert!(transport.is_retryable());
    assert_eq!(transport.attempts(), 3);
    assert_eq!(transport.operation_id(), "get_item");
    assert_eq!(transport.method(), Method::GET);
    assert_eq!(transport.url().query(), None);
    let message = error.to_string();
    assert!(
        message.contains(&format!("GET {base}/items/1")),
        "{message}"
    );
    assert!(message.contains("get_item"), "{message}");
    assert!(message.contains("3 attempts"), "{message}");
    assert!(!message.contains("zzz"), "{message}");
    assert!(std::error::Error::source(&error).is_some());
    let error: Error<serde_json::Value> = error.into();
    assert!(error.is_retryable());
    assert_eq!(error.status(), None);
}

#[tokio::test]
async fn request_timeout_is_a_timeout_error() {
    let (_mock, base) = serve(vec![Canned::new(200, "late").delay(Duration::from_secs(1))]).await;
    let client = Client::new(
        Config::bearer(SECRET)
            .base_url(&API, &base)
            .request_timeout(Some(Duration::from_millis(100)))
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let start = Instant::now();
    let error = get(&client, "/items/1").await.unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(900));
    let SendError::Transport(transport) = &error else {
        panic!("not a transport error: {error:?}");
    };
    assert!(transport.is_timeout(), "{transport:?}");
    assert_eq!(transport.attempts(), 1);
    assert!(error.to_string().contains("timed out"), "{error}");
}

// ---------------------------------------------------------------- responses

#[derive(Debug, Deserialize, PartialEq)]
struct ApiBody {
    code: String,
    message: String,
}

#[tokio::test]
async fn client_error_is_a_response_and_decodes_as_typed_error() {
    let body = r#"{"code":"conflict","message":"already exists","request_id":"body-id"}"#;
    let (_mock, base) = serve(vec![
        Canned::new(409, body)
            .header("x-request-id", "hdr-id")
            .header("retry-after", "7"),
    ])
    .await;
    let client = client(&base, fast_retries(3));
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error = response.into_error::<ApiBody>();
    assert_eq!(error.status(), Some(StatusCode::CONFLICT));
    assert!(!error.is_retryable());
    let api = error.api().unwrap();
    assert_eq!(
        api.body,
        Some(ApiBody {
            code: "conflict".into(),
            message: "already exists".into()
        })
    );
    assert_eq!(api.raw_body, Bytes::from(body));
    assert_eq!(api.request_id.as_deref(), Some("hdr-id"));
    assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
    let message = error.to_string();
    assert_eq!(
        message,
        format!("HTTP 409 Conflict from GET {base}/items/1 (request id hdr-id): {body}")
    );
}

#[tokio::test]
async fn undecodable_error_body_is_kept_raw() {
    let html = "<html>\n  <body>Bad   gateway</body>\n</html>";
    let (_mock, base) = serve(vec![Canned::new(400, html)]).await;
    let client = client(&base, fast_retries(3));
    let response = get(&client, "/items/1").await.unwrap();
    let error = response.into_error::<ApiBody>();
    let api = error.api().unwrap();
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert!(api.body.is_none());
    assert_eq!(api.raw_body, Bytes::from(html));
    assert_eq!(api.request_id, None);
    assert_eq!(api.retry_after, None);
    assert!(
        error
            .to_string()
            .ends_with(": <html> <body>Bad gateway</body> </html>"),
        "{error}"
    );
}

#[tokio::test]
async fn request_id_comes_from_the_body_without_headers() {
    let (_mock, base) = serve(vec![Canned::new(
        404,
        r#"{"code":"not_found","message":"no","request_id":"body-id"}"#,
    )])
    .await;
    let client = client(&base, RetryPolicy::none());
    let error = get(&client, "/items/1")
        .await
        .unwrap()
        .into_error::<ApiBody>();
    assert_eq!(error.api().unwrap().request_id.as_deref(), Some("body-id"));
}

#[tokio::test]
async fn api_error_message_is_bounded() {
    let big = "x".repeat(100_000);
    let (_mock, base) = serve(vec![Canned::new(500, big)]).await;
    let client = client(&base, RetryPolicy::none());
    let error = get(&client, "/items/1")
        .await
        .unwrap()
        .into_error::<ApiBody>();
    assert!(error.is_retryable());
    assert!(error.to_string().len() < 400, "{}", error.to_string().len());
    assert!(error.to_string().ends_with('…'));
    assert!(format!("{error:?}").len() < 2000);
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Item {
    id: String,
}

#[tokio::test]
async fn decode_error_names_type_and_shows_bounded_snippet() {
    let long = format!(r#"{{"id": 5, "padding": "{}"}}"#, "é".repeat(2000));
    let (_mock, base) = serve(vec![Canned::new(200, long.clone()), Canned::new(200, "")]).await;
    let client = client(&base, RetryPolicy::none());
    let response = get(&client, "/items/1").await.unwrap();
    let error = response.json::<Item>().unwrap_err();
    assert_eq!(error.status(), StatusCode::OK);
    assert!(error.type_name().ends_with("Item"), "{}", error.type_name());
    let snippet = error.snippet().unwrap();
    assert!(snippet.len() <= 512, "{}", snippet.len());
    assert!(long.starts_with(snippet));
    assert_eq!(error.position(), Some((1, 8)));
    let message = error.to_string();
    assert!(message.contains("Item"), "{message}");
    assert!(message.contains("line 1 column 8"), "{message}");
    assert!(
        message.contains(&format!("({} bytes)", long.len())),
        "{message}"
    );
    assert!(message.len() < 1000, "{}", message.len());

    let response = get(&client, "/items/1").await.unwrap();
    let error = response.json::<Item>().unwrap_err();
    assert!(error.to_string().contains("the body is empty"), "{error}");
    let error: Error<ApiBody> = error.into();
    assert!(matches!(error, Error::Decode(_)));
}

#[tokio::test]
async fn headers_are_parsed_case_insensitively() {
    let (_mock, base) = serve(vec![
        Canned::new(200, "{}")
            .header("x-count", "42")
            .header("x-bad", "forty"),
    ])
    .await;
    let client = client(&base, RetryPolicy::none());
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.header::<u64>("X-Count").unwrap(), Some(42));
    assert_eq!(
        response.header::<String>("x-count").unwrap().as_deref(),
        Some("42")
    );
    assert_eq!(response.header::<u64>("x-missing").unwrap(), None);
    let error = response.header::<u64>("X-Bad").unwrap_err();
    assert_eq!(error.header_name(), Some("X-Bad"));
    assert!(error.to_string().contains("X-Bad"), "{error}");
    assert!(error.to_string().contains("forty"), "{error}");
    assert!(error.to_string().contains("u64"), "{error}");
}

#[tokio::test]
async fn response_body_is_capped() {
    let (_mock, base) = serve(vec![
        Canned::new(200, vec![b'a'; 1000]),
        Canned::new(200, vec![b'b'; 1000]).chunked(),
        Canned::new(200, vec![b'c'; 100]).chunked(),
        Canned::new(503, vec![b'd'; 1000]),
    ])
    .await;
    let client = Client::new(
        Config::bearer(SECRET)
            .base_url(&API, &base)
            .max_response_body(100)
            .retry(fast_retries(3)),
    )
    .unwrap();
    for _ in 0..2 {
        let error = get(&client, "/items/1").await.unwrap_err();
        let SendError::Transport(transport) = &error else {
            panic!("not a transport error: {error:?}");
        };
        assert!(transport.is_body_too_large(), "{transport:?}");
        assert!(!transport.is_retryable());
        assert!(error.to_string().contains("limit of 100 bytes"), "{error}");
    }
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.body().len(), 100);
    // Not retried, though the status is.
    let error = get(&client, "/items/1").await.unwrap_err();
    assert!(
        matches!(&error, SendError::Transport(t) if t.is_body_too_large() && t.attempts() == 1)
    );
}

// ---------------------------------------------------------------- auth and secrets

struct Failing;

impl TokenProvider for Failing {
    fn token(
        &self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        Box::pin(async {
            Err(AuthError::with_source(
                "refresh failed",
                std::io::Error::other("network down"),
            ))
        })
    }
}

#[tokio::test]
async fn auth_errors_are_reported_and_not_sent() {
    let (mock, base) = serve(vec![]).await;
    for (config, needle) in [
        (Config::bearer(""), "empty"),
        (Config::bearer(format!("{SECRET}\nX-Evil: 1")), "newline"),
        (Config::new(Failing), "refresh failed"),
    ] {
        let client = Client::new(config.base_url(&API, &base).retry(fast_retries(3))).unwrap();
        let error = get(&client, "/items/1").await.unwrap_err();
        assert!(matches!(error, SendError::Auth(_)), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(needle), "{message}");
        assert!(!message.contains(SECRET), "{message}");
        assert!(!format!("{error:?}").contains(SECRET));
    }
    assert!(mock.requests().is_empty());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let token = AccessToken::new(SECRET);
    assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    assert_eq!(token.expose_secret(), SECRET);
    assert_eq!(
        format!("{:?}", StaticToken::new(SECRET)),
        "StaticToken(<redacted>)"
    );
    let config = Config::bearer(SECRET).base_url(&API, "https://example.com");
    let shown = format!("{config:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("example.com"), "{shown}");
    let client = Client::new(config).unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_spans_and_retries_without_secrets() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (_mock, base) = serve(vec![Canned::new(503, "busy"), Canned::new(200, "ok")]).await;
    let client = client(&base, fast_retries(3));
    let response = get(&client, "/items/1").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let error = format!("{:?}", response.into_error::<ApiBody>());
    assert!(!error.contains(SECRET));

    let output = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(!output.contains(SECRET), "{output}");
    assert!(output.contains("retrying"), "{output}");
    assert!(output.contains("HTTP 503 Service Unavailable"), "{output}");
    assert!(
        output.contains("op=\"get_item\"") || output.contains("op=get_item"),
        "{output}"
    );
    assert!(
        output.contains("path=\"/items/{item_id}\"") || output.contains("path=/items/{item_id}"),
        "{output}"
    );
    assert!(output.contains("attempt=2"), "{output}");
    assert!(output.contains("status=200"), "{output}");
    assert!(output.contains("duration_ms="), "{output}");
}

// ---------------------------------------------------------------- types

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<Client>();
    send_sync::<Config>();
    send_sync::<oas_runtime::Response>();
    error::<Error<ApiBody>>();
    error::<SendError>();
    error::<oas_runtime::ConfigError>();
    error::<oas_runtime::DecodeError>();

    fn send<T: Send>(_: &T) {}
    let client = Client::new(Config::bearer("t")).unwrap();
    let url = Url::parse("https://example.com/").unwrap();
    let future = client.execute(&GET_ITEM, Request::new(Method::GET, url));
    send(&future);
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}
