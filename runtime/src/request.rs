//! Requests and their bodies.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use crate::error::InvalidRequest;
use crate::idle::PIECE;
use crate::multipart::Multipart;
use crate::style::{Style, style_pairs};
use crate::text::DisplayUrl;

pub(crate) type BoxStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// Starts a body stream again from its beginning, once per attempt.
pub(crate) type Reopen = Arc<dyn Fn() -> BoxStream + Send + Sync>;

/// A request to send with [`Client::execute`](crate::Client::execute).
///
/// The client adds the `Authorization`, `User-Agent` and, when the body's
/// length is known, `Content-Length` headers.
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Body>,
    /// An error found by a method that cannot return one, reported by
    /// `execute`.
    pub(crate) error: Option<InvalidRequest>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            error: None,
        }
    }

    /// Appends the query parameter `name=value`, both encoded as in an HTML
    /// form (`application/x-www-form-urlencoded`).
    pub fn query(&mut self, name: &str, value: impl fmt::Display) -> &mut Self {
        self.url
            .query_pairs_mut()
            .append_pair(name, &value.to_string());
        self
    }

    /// Appends a query pair whose value is `value` as compact JSON text (how APIs such
    /// as Box read an object, or a list of objects, in a query parameter).
    pub fn query_json<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<&mut Self, InvalidRequest> {
        let text = serde_json::to_string(value).map_err(|e| {
            InvalidRequest::new(format!(
                "cannot serialize the query parameter {name} as JSON: {e}"
            ))
        })?;
        self.url.query_pairs_mut().append_pair(name, &text);
        Ok(self)
    }

    /// Appends the query pairs of `value` written in an OpenAPI `style` (see
    /// [`Style`]): `deepObject` as `name[key]=value`, delimited lists, exploded
    /// objects. Names and values are percent-encoded as in an HTML form.
    pub fn query_styled<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
        style: Style,
        explode: bool,
    ) -> Result<&mut Self, InvalidRequest> {
        let value = serde_json::to_value(value).map_err(|e| {
            InvalidRequest::new(format!("cannot serialize the query parameter {name}: {e}"))
        })?;
        let mut pairs = Vec::new();
        style_pairs(name, &value, style, explode, &mut pairs);
        self.url.query_pairs_mut().extend_pairs(pairs);
        Ok(self)
    }

    /// Sets the header `name` to `value`, replacing any value it had.
    ///
    /// Fails, naming the header, when the name is not a valid header name or
    /// the value holds a character that a header value cannot hold, such as
    /// a newline.
    pub fn header(&mut self, name: &'static str, value: &str) -> Result<&mut Self, InvalidRequest> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| InvalidRequest::new(format!("{name:?} is not a valid header name")))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            InvalidRequest::new(format!(
                "the value of the header {name} holds a character that a header value \
                 cannot hold (a control character such as a newline, or a non-ASCII character)"
            ))
        })?;
        if header == AUTHORIZATION || header == PROXY_AUTHORIZATION || header == COOKIE {
            value.set_sensitive(true);
        }
        self.headers.insert(header, value);
        Ok(self)
    }

    /// Serializes `body` as JSON now and sets it as the body, with the
    /// content type `application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(
        &mut self,
        body: &T,
    ) -> Result<&mut Self, InvalidRequest> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| InvalidRequest::new(format!("cannot serialize the body as JSON: {e}")))?;
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Body::from(bytes));
        Ok(self)
    }

    /// Serializes `body` as an HTML form now (`application/x-www-form-urlencoded`, with
    /// serde_urlencoded: fields in declaration order, `None` left out, enums as their
    /// wire values) and sets it as the body, with that content type.
    ///
    /// Fails when `body` is not a flat struct or map of scalars (a list or an object
    /// in a field has no form encoding). The message never holds a field's value.
    pub fn form<T: serde::Serialize + ?Sized>(
        &mut self,
        body: &T,
    ) -> Result<&mut Self, InvalidRequest> {
        let text = serde_urlencoded::to_string(body).map_err(|e| {
            InvalidRequest::new(format!(
                "cannot serialize the body as application/x-www-form-urlencoded: {e}"
            ))
        })?;
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Some(Body::from(text));
        Ok(self)
    }

    /// Serializes `body`, an object, as an HTML form now, each field written by its
    /// OpenAPI style (see [`Style`]): `fields` gives `(name, style, explode)` for the
    /// fields whose encoding says so; the others are `form` and exploded, the default
    /// of a form (a list as the name repeated per item, an object as its members).
    /// Sets it as the body, with the content type
    /// `application/x-www-form-urlencoded`.
    pub fn form_styled<T: serde::Serialize + ?Sized>(
        &mut self,
        body: &T,
        fields: &[(&str, Style, bool)],
    ) -> Result<&mut Self, InvalidRequest> {
        let value = serde_json::to_value(body)
            .map_err(|e| InvalidRequest::new(format!("cannot serialize the form body: {e}")))?;
        let serde_json::Value::Object(members) = value else {
            return Err(InvalidRequest::new(
                "a form body must serialize as an object of fields",
            ));
        };
        let mut pairs = Vec::new();
        for (name, member) in &members {
            let (style, explode) = fields
                .iter()
                .find(|(field, ..)| field == name)
                .map_or((Style::Form, true), |(_, style, explode)| {
                    (*style, *explode)
                });
            style_pairs(name, member, style, explode, &mut pairs);
        }
        let text = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Some(Body::from(text));
        Ok(self)
    }

    /// Sets a `multipart/form-data` body: the parts of `form`, streamed in order
    /// under a fresh random boundary, with the content type that names it.
    ///
    /// Fails when a part cannot be sent (see [`Multipart`]).
    pub fn multipart(&mut self, form: Multipart) -> Result<&mut Self, InvalidRequest> {
        let (body, content_type) = form.into_body()?;
        let value = HeaderValue::from_str(&content_type).map_err(|_| {
            InvalidRequest::new(format!("{content_type:?} is not a valid content type"))
        })?;
        self.headers.insert(CONTENT_TYPE, value);
        self.body = Some(body);
        Ok(self)
    }

    /// Sets the body and its content type.
    ///
    /// A content type that is not a valid header value makes
    /// [`Client::execute`](crate::Client::execute) fail with
    /// [`InvalidRequest`].
    pub fn body(&mut self, body: Body, content_type: &'static str) -> &mut Self {
        match HeaderValue::from_str(content_type) {
            Ok(value) => {
                self.headers.insert(CONTENT_TYPE, value);
            }
            Err(_) => {
                self.error.get_or_insert_with(|| {
                    InvalidRequest::new(format!("{content_type:?} is not a valid content type"))
                });
            }
        }
        self.body = Some(body);
        self
    }

    /// The method of the request.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL of the request, query included.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &DisplayUrl(&self.url).to_string())
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

/// The body of a [`Request`]: bytes in memory, a file, or a stream.
///
/// Bytes are sent without being copied, and sent again on a retry; a file
/// ([`from_path`](Self::from_path)) is read again from its start on a retry;
/// a stream is sent once, so a request with a streamed body is never retried.
pub struct Body {
    pub(crate) inner: BodyInner,
}

pub(crate) enum BodyInner {
    Bytes(Bytes),
    Stream {
        stream: BoxStream,
        len: Option<u64>,
    },
    /// A stream that starts again for each attempt (a file, or a multipart body of
    /// such parts and bytes).
    Replayable {
        open: Reopen,
        len: Option<u64>,
    },
}

impl Body {
    /// A streamed body of known or unknown length; not replayable (no retry).
    ///
    /// With a known length the request has a `Content-Length` header, and
    /// fails if the stream yields a different number of bytes; without one
    /// the body is sent in chunks.
    pub fn from_stream<S>(stream: S, len: Option<u64>) -> Body
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        Body {
            inner: BodyInner::Stream {
                stream: Box::pin(stream),
                len,
            },
        }
    }

    /// The file at `path`, read in pieces as it is sent (never whole into
    /// memory), from its start again on each attempt: replayable.
    ///
    /// Its length is taken now and sent as `Content-Length`; a file that has
    /// another length when it is read fails that attempt, naming the file.
    /// Fails when the file's metadata cannot be read or it is not a file.
    pub async fn from_path(path: impl AsRef<Path>) -> io::Result<Body> {
        let path = path.as_ref().to_owned();
        let metadata = tokio::fs::metadata(&path).await?;
        if !metadata.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file", path.display()),
            ));
        }
        let len = metadata.len();
        let path = Arc::new(path);
        let open: Reopen = Arc::new(move || {
            let what = format!("the file {}", path.display());
            exact_len(read_file(Arc::clone(&path)), len, what)
        });
        Ok(Body::replayable(open, Some(len)))
    }

    pub(crate) fn replayable(open: Reopen, len: Option<u64>) -> Body {
        Body {
            inner: BodyInner::Replayable { open, len },
        }
    }

    /// The length of the body in bytes, if known.
    #[expect(
        clippy::len_without_is_empty,
        reason = "the length may be unknown; `len() == Some(0)` says it all"
    )]
    pub fn len(&self) -> Option<u64> {
        match &self.inner {
            BodyInner::Bytes(bytes) => Some(bytes.len() as u64),
            BodyInner::Stream { len, .. } | BodyInner::Replayable { len, .. } => *len,
        }
    }

    /// Whether the body can be sent again, which a retry needs: true for
    /// bytes and files (and multipart bodies made only of them), false for a
    /// stream.
    pub fn is_replayable(&self) -> bool {
        !matches!(self.inner, BodyInner::Stream { .. })
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            BodyInner::Bytes(_) => "bytes",
            BodyInner::Stream { .. } => "stream",
            BodyInner::Replayable { .. } => "replayable stream",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("len", &self.len())
            .finish()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body {
            inner: BodyInner::Bytes(bytes),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Body::from(Bytes::from(bytes))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Body {
        Body::from(Bytes::from_static(bytes))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

/// The file at `path` as a stream of pieces, opened when first polled.
fn read_file(path: Arc<PathBuf>) -> BoxStream {
    let opened = futures_util::stream::once(async move { tokio::fs::File::open(&*path).await });
    Box::pin(
        opened
            .map_ok(|file| tokio_util::io::ReaderStream::with_capacity(file, PIECE))
            .try_flatten(),
    )
}

/// `stream`, failing (with a message naming `what`) as soon as it yields more than
/// `len` bytes, or ends short of them: a part or file whose length changed after it was
/// announced must not be sent as something else.
pub(crate) fn exact_len(stream: BoxStream, len: u64, what: String) -> BoxStream {
    let mismatch = move |seen: u64, ended: bool| {
        let how = if ended { "ended after" } else { "went past" };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} {how} {seen} bytes, but its length was given as {len}"),
        )
    };
    let state = (stream, 0u64, false);
    Box::pin(futures_util::stream::unfold(
        state,
        move |(mut stream, seen, done)| {
            let mismatch = mismatch.clone();
            async move {
                if done {
                    return None;
                }
                match stream.next().await {
                    Some(Ok(chunk)) => {
                        let seen = seen.saturating_add(chunk.len() as u64);
                        if seen > len {
                            Some((Err(mismatch(seen, false)), (stream, seen, true)))
                        } else {
                            Some((Ok(chunk), (stream, seen, false)))
                        }
                    }
                    Some(Err(e)) => Some((Err(e), (stream, seen, true))),
                    None if seen != len => Some((Err(mismatch(seen, true)), (stream, seen, true))),
                    None => None,
                }
            }
        },
    ))
}
