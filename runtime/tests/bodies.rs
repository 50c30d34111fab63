//! Form and multipart bodies, sent to a local server and read back by well-kept
//! parsers (multer for multipart, serde_urlencoded for forms).

mod support;

use std::convert::Infallible;

use bytes::Bytes;
use oas_runtime::{
    Body, Client, Config, FilePart, Method, Multipart, Request, RetryPolicy, SendError,
};
use serde::{Deserialize, Serialize};
use support::{API, CREATE_ITEM, Canned, PUT_PART, Recorded, fast_retries, serve};

fn client(base: &str, retry: RetryPolicy) -> Client {
    Client::new(Config::bearer("token").base_url(&API, base).retry(retry)).unwrap()
}

/// A part as multer reads it back.
#[derive(Debug, PartialEq)]
struct Parsed {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    /// Header names of the part, in order.
    headers: Vec<String>,
    body: Bytes,
}

/// The parts of a recorded multipart request, parsed by multer from its body and
/// the boundary of its `Content-Type`.
async fn parse(recorded: &Recorded) -> Vec<Parsed> {
    let content_type = recorded.header("content-type").unwrap();
    let boundary = multer::parse_boundary(content_type).unwrap();
    let body = recorded.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        parts.push(Parsed {
            name: field.name().unwrap().to_owned(),
            file_name: field.file_name().map(str::to_owned),
            content_type: field.content_type().map(ToString::to_string),
            headers: field.headers().keys().map(ToString::to_string).collect(),
            body: field.bytes().await.unwrap(),
        });
    }
    parts
}

fn part(name: &str, file_name: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Parsed {
    let mut headers = vec!["content-disposition".to_owned()];
    if content_type.is_some() {
        headers.push("content-type".to_owned());
    }
    Parsed {
        name: name.to_owned(),
        file_name: file_name.map(str::to_owned),
        content_type: content_type.map(str::to_owned),
        headers,
        body: Bytes::copy_from_slice(body),
    }
}

/// Sends `request` as `PUT_PART` (idempotent) and returns what the server got.
async fn send(
    request_body: impl FnOnce(&mut Request),
    canned: Vec<Canned>,
    retry: RetryPolicy,
) -> (Result<u16, SendError>, Vec<Recorded>) {
    let (mock, base) = serve(canned).await;
    let client = client(&base, retry);
    let url = client.endpoint(&PUT_PART, "/items/1/part").unwrap();
    let mut request = Request::new(Method::PUT, url);
    request_body(&mut request);
    let status = client
        .execute(&PUT_PART, request)
        .await
        .map(|r| r.status().as_u16());
    (status, mock.requests())
}

/// Sends `form` as `PUT_PART` and returns what the server got.
async fn send_multipart(
    form: Multipart,
    canned: Vec<Canned>,
    retry: RetryPolicy,
) -> (Result<u16, SendError>, Vec<Recorded>) {
    let attach = |request: &mut Request| {
        request.multipart(form).unwrap();
    };
    send(attach, canned, retry).await
}

fn file_with(contents: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), contents).unwrap();
    file
}

#[tokio::test]
async fn multipart_parts_parse_back_in_order_with_their_headers() {
    let on_disk = file_with(b"bytes read from a file");
    let file_name = on_disk
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut form = Multipart::new();
    let attributes = serde_json::json!({"name": "photo.png", "parent": {"id": "0"}});
    form.json("attributes", &attributes, "application/json")
        .unwrap();
    form.text("size", &12, None).unwrap();
    form.text("note", "plain text", Some("text/plain; charset=utf-8"))
        .unwrap();
    form.file(
        "file",
        FilePart::from_bytes(&b"\x89PNG\r\n--not a boundary"[..], "photo.png")
            .with_content_type("image/png"),
        "application/octet-stream",
    );
    form.file(
        "copy",
        FilePart::from_path(on_disk.path()).await.unwrap(),
        "application/octet-stream",
    );

    let (status, requests) = send_multipart(form, vec![], RetryPolicy::none()).await;
    assert_eq!(status.unwrap(), 200);
    let recorded = &requests[0];
    assert!(
        recorded
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    // Every part's length is known, so the whole length is.
    assert_eq!(
        recorded.header("content-length"),
        Some(&*recorded.body.len().to_string())
    );
    let expected = vec![
        part(
            "attributes",
            None,
            Some("application/json"),
            br#"{"name":"photo.png","parent":{"id":"0"}}"#,
        ),
        part("size", None, None, b"12"),
        part(
            "note",
            None,
            Some("text/plain; charset=utf-8"),
            b"plain text",
        ),
        part(
            "file",
            Some("photo.png"),
            Some("image/png"),
            b"\x89PNG\r\n--not a boundary",
        ),
        part(
            "copy",
            Some(&file_name),
            Some("application/octet-stream"),
            b"bytes read from a file",
        ),
    ];
    assert_eq!(parse(recorded).await, expected);
}

#[tokio::test]
async fn quotes_and_line_breaks_in_names_cannot_add_a_header_or_a_part() {
    let mut form = Multipart::new();
    form.text("a\"\r\nX-Injected: 1", "v", None).unwrap();
    form.file(
        "file",
        FilePart::from_bytes("x", "evil\".txt\r\n\r\n--boundary"),
        "application/octet-stream",
    );
    let (_, requests) = send_multipart(form, vec![], RetryPolicy::none()).await;
    let parts = parse(&requests[0]).await;
    assert_eq!(
        parts,
        [
            part("a%22%0D%0AX-Injected: 1", None, None, b"v"),
            part(
                "file",
                Some("evil%22.txt%0D%0A%0D%0A--boundary"),
                Some("application/octet-stream"),
                b"x"
            ),
        ]
    );
}

#[tokio::test]
async fn a_part_of_unknown_length_is_sent_in_chunks_without_content_length() {
    let mut form = Multipart::new();
    form.text("name", "a", None).unwrap();
    let chunks = futures_util::stream::iter(
        ["one ", "two ", "three"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
    );
    form.file(
        "file",
        FilePart::from_stream(chunks, None, "f.txt"),
        "text/plain",
    );
    let (_, requests) = send_multipart(form, vec![], RetryPolicy::none()).await;
    let recorded = &requests[0];
    assert_eq!(recorded.header("content-length"), None);
    assert_eq!(recorded.header("transfer-encoding"), Some("chunked"));
    let parts = parse(recorded).await;
    assert_eq!(parts[1].body, Bytes::from_static(b"one two three"));
}

#[tokio::test]
async fn a_part_whose_stream_breaks_its_length_fails_naming_the_part() {
    let mut form = Multipart::new();
    let short = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("abc"))]);
    form.file(
        "file",
        FilePart::from_stream(short, Some(10), "f.bin"),
        "application/octet-stream",
    );
    let (status, _) = send_multipart(form, vec![], RetryPolicy::none()).await;
    let error = status.unwrap_err();
    let chain = std::iter::successors(
        Some(&error as &dyn std::error::Error),
        |e: &&dyn std::error::Error| e.source(),
    )
    .map(ToString::to_string)
    .collect::<Vec<_>>()
    .join(": ");
    assert!(
        chain.contains(
            "the multipart part \"file\" ended after 3 bytes, but its length was given as 10"
        ),
        "{chain}"
    );
}

#[tokio::test]
async fn retries_send_a_multipart_body_of_bytes_and_files_again() {
    let on_disk = file_with(&vec![7u8; 200_000]);
    let mut form = Multipart::new();
    form.json(
        "attributes",
        &serde_json::json!({"name": "a"}),
        "application/json",
    )
    .unwrap();
    form.file(
        "file",
        FilePart::from_path(on_disk.path()).await.unwrap(),
        "application/octet-stream",
    );
    form.file(
        "more",
        FilePart::from_bytes(vec![1u8; 100_000], "more.bin"),
        "application/octet-stream",
    );
    let (status, requests) = send_multipart(
        form,
        vec![Canned::new(503, "busy"), Canned::new(503, "busy")],
        fast_retries(5),
    )
    .await;
    assert_eq!(status.unwrap(), 200);
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    let parts = parse(&requests[2]).await;
    assert_eq!(parts[1].body.len(), 200_000);
    assert!(parts[1].body.iter().all(|&b| b == 7));
    assert_eq!(parts[2].body, Bytes::from(vec![1u8; 100_000]));
}

#[tokio::test]
async fn a_multipart_body_with_a_streamed_part_is_never_sent_twice() {
    let mut form = Multipart::new();
    form.text("name", "a", None).unwrap();
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("data"))]);
    form.file(
        "file",
        FilePart::from_stream(stream, Some(4), "f.bin"),
        "application/octet-stream",
    );
    let (status, requests) =
        send_multipart(form, vec![Canned::new(503, "busy")], fast_retries(5)).await;
    assert_eq!(status.unwrap(), 503);
    assert_eq!(requests.len(), 1);
}

#[tokio::test]
async fn a_file_body_is_streamed_and_sent_again_on_a_retry() {
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let on_disk = file_with(&contents);
    let body = Body::from_path(on_disk.path()).await.unwrap();
    assert_eq!((body.len(), body.is_replayable()), (Some(300_000), true));
    let (status, requests) = send(
        |request| {
            request.body(body, "application/octet-stream");
        },
        vec![Canned::new(500, "oops")],
        fast_retries(3),
    )
    .await;
    assert_eq!(status.unwrap(), 200);
    assert_eq!(requests.len(), 2);
    for recorded in &requests {
        assert_eq!(recorded.header("content-length"), Some("300000"));
        assert_eq!(recorded.body, contents);
    }
    let missing = Body::from_path(on_disk.path().with_extension("gone")).await;
    assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn a_content_type_that_could_add_a_header_is_refused_naming_the_part() {
    let mut form = Multipart::new();
    form.file(
        "file",
        FilePart::from_bytes("x", "x.bin").with_content_type("text/plain\r\nX-Injected: 1"),
        "application/octet-stream",
    );
    let url = "http://127.0.0.1:9/2.0/items".parse().unwrap();
    let error = Request::new(Method::POST, url).multipart(form).unwrap_err();
    assert!(
        error.message().contains("of the multipart part \"file\""),
        "{error}"
    );
}

#[test]
fn a_text_part_that_is_not_a_scalar_is_refused_without_its_value() {
    let mut form = Multipart::new();
    let error = form
        .text("tags", &["secret-a", "secret-b"], None)
        .unwrap_err();
    assert_eq!(
        error.message(),
        "the multipart part \"tags\" cannot be sent as text: the value is a list"
    );
}

/// A token request like OAuth 2.0's, with an enum and optional fields.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TokenRequest {
    grant_type: GrantType,
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    expires_in: i64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum GrantType {
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
}

#[tokio::test]
async fn a_form_body_decodes_back_into_the_struct_in_declared_order() {
    let token = TokenRequest {
        grant_type: GrantType::JwtBearer,
        client_id: "id with spaces & = + é".to_owned(),
        client_secret: Some("s3cr3t/?#".to_owned()),
        scope: None,
        expires_in: 60,
    };
    let (mock, base) = serve(vec![]).await;
    let client = client(&base, RetryPolicy::none());
    let url = client.endpoint(&CREATE_ITEM, "/items").unwrap();
    let mut request = Request::new(Method::POST, url);
    request.form(&token).unwrap();
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("s3cr3t"),
        "the Debug of a request never shows its body: {shown}"
    );
    client.execute(&CREATE_ITEM, request).await.unwrap();
    let recorded = &mock.requests()[0];
    assert_eq!(
        recorded.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let text = std::str::from_utf8(&recorded.body).unwrap();
    let names: Vec<&str> = text
        .split('&')
        .map(|pair| pair.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["grant_type", "client_id", "client_secret", "expires_in"]
    );
    assert!(
        text.starts_with("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&"),
        "{text}"
    );
    let decoded: TokenRequest = serde_urlencoded::from_bytes(&recorded.body).unwrap();
    assert_eq!(decoded, token);
}

#[test]
fn a_form_field_that_is_a_list_is_refused() {
    #[derive(Serialize)]
    struct Tags {
        tags: Vec<&'static str>,
    }
    let url = "http://127.0.0.1:9/2.0/items".parse().unwrap();
    let error = Request::new(Method::POST, url)
        .form(&Tags { tags: vec!["a"] })
        .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("cannot serialize the body as application/x-www-form-urlencoded"),
        "{error}"
    );
}
