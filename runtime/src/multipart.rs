//! `multipart/form-data` bodies (RFC 7578), written as a stream: each part's head,
//! its body and its closing line go out one after another, so a file part is never
//! gathered into one buffer and owned bytes are never copied.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderValue;
use rand::Rng;

use crate::error::InvalidRequest;
use crate::idle::pieces;
use crate::request::{Body, BodyInner, BoxStream, Reopen, exact_len};

/// Random characters in a boundary (RFC 2046 allows 70).
const BOUNDARY_LEN: usize = 40;

/// The content of a file part of a [`Multipart`] body: its bytes, the file
/// name sent with them, and their content type.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use oas_runtime::FilePart;
/// let from_disk = FilePart::from_path("report.pdf").await?; // streamed, replayable
/// let in_memory = FilePart::from_bytes(b"hello".to_vec(), "hello.txt").with_content_type("text/plain");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FilePart {
    /// The bytes: owned bytes, a file, or a stream (see [`Body`]).
    pub body: Body,
    /// The `filename` sent in the part's `Content-Disposition`.
    pub file_name: String,
    /// The part's `Content-Type`; `None` sends the default of the operation
    /// (`application/octet-stream` unless the API names another).
    pub content_type: Option<String>,
}

impl FilePart {
    /// A file part of `body` named `file_name`, with the default content type.
    pub fn new(body: impl Into<Body>, file_name: impl Into<String>) -> FilePart {
        FilePart {
            body: body.into(),
            file_name: file_name.into(),
            content_type: None,
        }
    }

    /// A file part of owned bytes (`Bytes`, `Vec<u8>`, `String`: not copied; replayable).
    pub fn from_bytes(bytes: impl Into<Bytes>, file_name: impl Into<String>) -> FilePart {
        FilePart::new(Body::from(bytes.into()), file_name)
    }

    /// A file part of a stream of `len` bytes, when known (sent once: never retried).
    pub fn from_stream<S>(stream: S, len: Option<u64>, file_name: impl Into<String>) -> FilePart
    where
        S: futures_util::Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        FilePart::new(Body::from_stream(stream, len), file_name)
    }

    /// The file at `path`, named by its last component and read as it is sent
    /// (from its start again on a retry); see [`Body::from_path`].
    pub async fn from_path(path: impl AsRef<Path>) -> io::Result<FilePart> {
        let path = path.as_ref();
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(FilePart::new(Body::from_path(path).await?, file_name))
    }

    /// The same part with the content type `content_type`.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> FilePart {
        self.content_type = Some(content_type.into());
        self
    }
}

/// A `multipart/form-data` body being built, its parts in the order they
/// are added (servers such as Box refuse some orders).
///
/// [`Request::multipart`](crate::Request::multipart) sends it as a stream:
/// every part's head and closing line are small buffers, a part of owned
/// bytes is sent without a copy, and a file or stream part passes its
/// chunks through as they come. The length, and so `Content-Length`, is known
/// when every part's length is; otherwise the body is sent in chunks. The
/// body is replayable (a retry sends it again) when every part is: bytes or
/// files, no stream.
///
/// The boundary is 40 random letters and digits, drawn again while it occurs
/// in any byte known up front (part heads, text, JSON and bytes parts). A
/// streamed part cannot be searched before it is sent; the chance that it
/// holds the boundary is at most its length divided by 62⁴⁰ (about 2²³⁸), which
/// is nil for any stream that can exist.
///
/// Part names and file names are escaped as browsers do (the HTML standard's
/// form-data encoding, which RFC 7578 defers to): `"`, CR and LF become `%22`,
/// `%0D` and `%0A`, so no name can end the header or add one; other
/// characters, UTF-8 included, are sent as they are.
#[derive(Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    body: Body,
}

impl Multipart {
    /// An empty body.
    pub fn new() -> Multipart {
        Multipart::default()
    }

    /// Adds a text part holding `value`'s text form: a string as it is, a
    /// number or boolean as written in JSON, an enum as its wire value, a date
    /// as RFC 3339. Without `content_type` the part has no `Content-Type`,
    /// which RFC 7578 reads as `text/plain`.
    ///
    /// Fails when `value` is not a scalar (a list or object has no text form).
    /// The message names the part, never the value.
    pub fn text<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        content_type: Option<&str>,
    ) -> Result<&mut Self, InvalidRequest> {
        let text = text_form(value).map_err(|what| {
            InvalidRequest::new(format!(
                "the multipart part {name:?} cannot be sent as text: {what}"
            ))
        })?;
        Ok(self.push(name, None, content_type.map(str::to_owned), text.into()))
    }

    /// Adds a part holding `value` as JSON, with the content type
    /// `content_type` (`application/json`, or another JSON media type).
    ///
    /// Fails when `value` cannot be serialized; the message names the part.
    pub fn json<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        content_type: &str,
    ) -> Result<&mut Self, InvalidRequest> {
        let json = serde_json::to_vec(value).map_err(|e| {
            InvalidRequest::new(format!(
                "cannot serialize the multipart part {name:?} as JSON: {e}"
            ))
        })?;
        Ok(self.push(name, None, Some(content_type.to_owned()), json.into()))
    }

    /// Adds a file part: `file`'s bytes with its file name, and its content
    /// type, or else `default_content_type` (the API's, such as
    /// `application/octet-stream`).
    pub fn file(&mut self, name: &str, file: FilePart, default_content_type: &str) -> &mut Self {
        let content_type = file
            .content_type
            .unwrap_or_else(|| default_content_type.to_owned());
        self.push(name, Some(file.file_name), Some(content_type), file.body)
    }

    fn push(
        &mut self,
        name: &str,
        file_name: Option<String>,
        content_type: Option<String>,
        body: Body,
    ) -> &mut Self {
        self.parts.push(Part {
            name: name.to_owned(),
            file_name,
            content_type,
            body,
        });
        self
    }

    /// The body and its `Content-Type` (with the boundary).
    ///
    /// Fails when a part's content type is not a valid header value.
    pub fn into_body(self) -> Result<(Body, String), InvalidRequest> {
        self.into_body_with(random_boundary)
    }

    /// [`into_body`](Self::into_body) with boundaries drawn from `draw`.
    fn into_body_with(
        self,
        draw: impl FnMut() -> String,
    ) -> Result<(Body, String), InvalidRequest> {
        let mut heads = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            heads.push(part_head(part)?);
        }
        let known = heads
            .iter()
            .map(Vec::as_slice)
            .chain(self.parts.iter().filter_map(|part| match &part.body.inner {
                BodyInner::Bytes(bytes) => Some(&bytes[..]),
                _ => None,
            }));
        let boundary = choose_boundary(known.collect(), draw);

        let mut segments = Vec::with_capacity(self.parts.len() * 3 + 1);
        let mut len = Some(0u64);
        let mut add = |segment: Segment, segment_len: Option<u64>| {
            len = len.zip(segment_len).map(|(a, b)| a + b);
            segments.push(segment);
        };
        for (part, head) in self.parts.into_iter().zip(heads) {
            let mut opening = format!("--{boundary}\r\n").into_bytes();
            opening.extend_from_slice(&head);
            let opening_len = opening.len() as u64;
            add(Segment::bytes(opening), Some(opening_len));
            let part_len = part.body.len();
            let what = format!("the multipart part {:?}", part.name);
            let body = match part.body.inner {
                BodyInner::Bytes(bytes) => Segment::bytes(bytes),
                BodyInner::Stream { stream, len } => Segment::Stream(match len {
                    Some(len) => exact_len(stream, len, what),
                    None => stream,
                }),
                BodyInner::Replayable { open, len } => Segment::Replay(Replay::Reopen(match len {
                    Some(len) => Arc::new(move || exact_len(open(), len, what.clone())),
                    None => open,
                })),
            };
            add(body, part_len);
            add(Segment::bytes(Bytes::from_static(b"\r\n")), Some(2));
        }
        let closing = format!("--{boundary}--\r\n");
        let closing_len = closing.len() as u64;
        add(Segment::bytes(closing), Some(closing_len));

        let content_type = format!("multipart/form-data; boundary={boundary}");
        Ok((body_of(segments, len), content_type))
    }
}

impl fmt::Debug for Multipart {
    /// Names, file names, content types and lengths; never the content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.parts.iter().map(|part| {
                (
                    &part.name,
                    &part.file_name,
                    &part.content_type,
                    part.body.len(),
                )
            }))
            .finish()
    }
}

/// A piece of the body: one that can start again, or a stream sent once.
enum Segment {
    Replay(Replay),
    Stream(BoxStream),
}

/// A piece of the body that can be sent again: bytes (shared, not copied), or a
/// stream started anew for each attempt.
enum Replay {
    Bytes(Bytes),
    Reopen(Reopen),
}

impl Segment {
    fn bytes(bytes: impl Into<Bytes>) -> Segment {
        Segment::Replay(Replay::Bytes(bytes.into()))
    }

    fn into_stream(self) -> BoxStream {
        match self {
            Segment::Replay(replay) => replay.start(),
            Segment::Stream(stream) => stream,
        }
    }
}

impl Replay {
    fn start(&self) -> BoxStream {
        match self {
            // Pieces of the shared buffer: a connection taking them shows progress.
            Replay::Bytes(bytes) => {
                Box::pin(futures_util::stream::iter(pieces(bytes.clone()).map(Ok)))
            }
            Replay::Reopen(open) => open(),
        }
    }
}

/// The body of `segments` in order: replayable when none is a one-shot stream.
fn body_of(segments: Vec<Segment>, len: Option<u64>) -> Body {
    let mut replays = Vec::with_capacity(segments.len());
    let mut rest = segments.into_iter();
    while let Some(segment) = rest.next() {
        match segment {
            Segment::Replay(replay) => replays.push(replay),
            Segment::Stream(stream) => {
                let streams: Vec<BoxStream> = replays
                    .iter()
                    .map(Replay::start)
                    .chain([stream])
                    .chain(rest.map(Segment::into_stream))
                    .collect();
                return Body::from_stream(concat(streams), len);
            }
        }
    }
    let replays = Arc::new(replays);
    let open: Reopen = Arc::new(move || concat(replays.iter().map(Replay::start).collect()));
    Body::replayable(open, len)
}

/// One stream of `streams`, one after another: each chunk passes through as it is.
fn concat(streams: Vec<BoxStream>) -> BoxStream {
    Box::pin(futures_util::stream::iter(streams).flatten())
}

/// The header lines of a part and the blank line that ends them.
fn part_head(part: &Part) -> Result<Vec<u8>, InvalidRequest> {
    let mut head = format!(
        "Content-Disposition: form-data; name=\"{}\"",
        escape(&part.name)
    );
    if let Some(file_name) = &part.file_name {
        head.push_str(&format!("; filename=\"{}\"", escape(file_name)));
    }
    head.push_str("\r\n");
    if let Some(content_type) = &part.content_type {
        if HeaderValue::from_str(content_type).is_err() {
            return Err(InvalidRequest::new(format!(
                "the content type {content_type:?} of the multipart part {:?} is not a valid \
                 header value (it holds a control character such as a newline, or a \
                 non-ASCII character)",
                part.name
            )));
        }
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

/// A name or file name for a quoted `Content-Disposition` parameter, escaped as the
/// HTML standard's form-data encoding does (and browsers, and Python's urllib3).
fn escape(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains(['"', '\r', '\n']) {
        return name.into();
    }
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .into()
}

/// The text form of a scalar, through its serde form (so enums give their wire
/// values and dates RFC 3339); the error says what the value is instead.
fn text_form<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        Ok(serde_json::Value::Number(number)) => Ok(number.to_string()),
        Ok(serde_json::Value::Bool(flag)) => Ok(flag.to_string()),
        Ok(serde_json::Value::Null) => Err("the value is null".to_owned()),
        Ok(serde_json::Value::Array(_)) => Err("the value is a list".to_owned()),
        Ok(serde_json::Value::Object(_)) => Err("the value is an object".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Random letters and digits.
fn random_boundary() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(BOUNDARY_LEN)
        .map(char::from)
        .collect()
}

/// The first boundary from `draw` that occurs in none of `known`.
fn choose_boundary(known: Vec<&[u8]>, mut draw: impl FnMut() -> String) -> String {
    loop {
        let boundary = draw();
        let finder = memchr::memmem::Finder::new(boundary.as_bytes());
        if known.iter().all(|bytes| finder.find(bytes).is_none()) {
            return boundary;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_found_in_known_content_is_drawn_again() {
        let mut drawn = vec!["second".to_owned(), "first".to_owned()];
        let text: &[u8] = b"the first draw occurs here";
        let chosen = choose_boundary(vec![b"head", text], || drawn.pop().unwrap());
        assert_eq!(chosen, "second");
    }

    #[tokio::test]
    async fn known_content_never_holds_the_boundary() {
        let mut form = Multipart::new();
        form.text("note", "holds AAAA and BBBB", None).unwrap();
        form.file(
            "file",
            FilePart::from_bytes("CCCC", "c.bin"),
            "application/octet-stream",
        );
        let mut drawn = ["DDDD", "CCCC", "BBBB", "AAAA"].map(String::from).to_vec();
        let (_, content_type) = form.into_body_with(|| drawn.pop().unwrap()).unwrap();
        assert_eq!(content_type, "multipart/form-data; boundary=DDDD");
    }

    /// The chunks a body yields, as the connection would take them.
    async fn chunks_of(body: Body) -> Vec<Bytes> {
        let stream = match body.inner {
            BodyInner::Stream { stream, .. } => stream,
            BodyInner::Replayable { open, .. } => open(),
            BodyInner::Bytes(bytes) => return vec![bytes],
        };
        stream.map(Result::unwrap).collect().await
    }

    #[tokio::test]
    async fn a_large_streamed_part_passes_through_chunk_by_chunk() {
        // 50 MiB in 800 chunks, each a view of one 64 KiB buffer: a chunk that comes out
        // pointing into that buffer was passed through, not copied or concatenated.
        const CHUNK: usize = 64 * 1024;
        const COUNT: usize = 800;
        let buffer = Bytes::from(vec![b'x'; CHUNK]);
        let source = buffer.clone();
        let stream = futures_util::stream::iter((0..COUNT).map(move |_| Ok(source.clone())));
        let mut form = Multipart::new();
        form.json(
            "attributes",
            &serde_json::json!({"name": "big"}),
            "application/json",
        )
        .unwrap();
        let total = (CHUNK * COUNT) as u64;
        form.file(
            "file",
            FilePart::from_stream(stream, Some(total), "big.bin"),
            "application/octet-stream",
        );
        let (body, _) = form.into_body().unwrap();
        let len = body.len().unwrap();
        assert!(!body.is_replayable());
        let chunks = chunks_of(body).await;
        let passed = chunks
            .iter()
            .filter(|c| c.as_ptr() == buffer.as_ptr() && c.len() == CHUNK)
            .count();
        assert_eq!(passed, COUNT);
        let framing: Vec<&Bytes> = chunks.iter().filter(|c| c.len() != CHUNK).collect();
        assert!(framing.iter().all(|c| c.len() < 300), "{framing:?}");
        let sent: usize = chunks.iter().map(Bytes::len).sum();
        assert_eq!(sent as u64, len);
        assert_eq!(
            len - total,
            framing.iter().map(|c| c.len() as u64).sum::<u64>()
        );
    }

    #[tokio::test]
    async fn an_owned_bytes_part_is_sent_from_its_own_buffer_in_pieces() {
        let data = Bytes::from(vec![3u8; 1024 * 1024 + 1]);
        let range = data.as_ptr_range();
        let mut form = Multipart::new();
        form.file(
            "file",
            FilePart::from_bytes(data.clone(), "a.bin"),
            "application/octet-stream",
        );
        let (body, _) = form.into_body().unwrap();
        assert!(body.is_replayable());
        let BodyInner::Replayable { open, .. } = body.inner else {
            panic!("not replayable");
        };
        for attempt in 0..2 {
            let chunks: Vec<Bytes> = open().map(Result::unwrap).collect().await;
            let borrowed: Vec<&Bytes> = chunks
                .iter()
                .filter(|c| range.contains(&c.as_ptr()))
                .collect();
            assert_eq!(borrowed.len(), 17, "attempt {attempt}");
            assert_eq!(borrowed.iter().map(|c| c.len()).sum::<usize>(), data.len());
        }
    }

    #[test]
    fn random_boundaries_are_long_alphanumerics_and_differ() {
        let a = random_boundary();
        assert_eq!(a.len(), BOUNDARY_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, random_boundary());
    }

    #[test]
    fn quotes_and_line_breaks_in_names_are_escaped() {
        assert_eq!(escape("plain name é.txt"), "plain name é.txt");
        assert_eq!(escape("a\"b\r\nc"), "a%22b%0D%0Ac");
    }

    #[test]
    fn text_forms_of_scalars_and_refusals_of_the_rest() {
        assert_eq!(text_form("a b").unwrap(), "a b");
        assert_eq!(text_form(&12).unwrap(), "12");
        assert_eq!(text_form(&1.5).unwrap(), "1.5");
        assert_eq!(text_form(&true).unwrap(), "true");
        assert_eq!(text_form(&[1, 2]).unwrap_err(), "the value is a list");
        assert_eq!(text_form(&None::<u8>).unwrap_err(), "the value is null");
    }
}
