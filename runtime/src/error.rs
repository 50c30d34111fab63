//! The errors of the runtime.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::text::{
    BodySnippet, BoundedDebug, DisplayUrl, HeadersDebug, ServerText, snippet, snippet_of,
    without_query,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest body snippet in a [`DecodeError`], in bytes.
pub(crate) const DECODE_SNIPPET_LEN: usize = 512;

/// The error of a call to an API operation.
///
/// `E` is the type of the error bodies of the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The server answered with a status that the operation does not expect.
    #[error("{0}")]
    Api(Box<ApiError<E>>),
    /// The request could not be sent, or the response could not be read.
    #[error(transparent)]
    Transport(TransportError),
    /// The response could not be decoded.
    #[error(transparent)]
    Decode(DecodeError),
    /// The request could not be built.
    #[error(transparent)]
    InvalidRequest(InvalidRequest),
    /// No access token could be had.
    #[error(transparent)]
    Auth(AuthError),
}

impl<E> Error<E> {
    /// The status of the response, for [`Error::Api`].
    pub fn status(&self) -> Option<StatusCode> {
        self.api().map(|api| api.status)
    }

    /// The error response, for [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError<E>> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: a response with status 429 or
    /// 5xx, a connection error or timeout, or a token that could not be had for such
    /// a reason ([`AuthError::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => {
                api.status == StatusCode::TOO_MANY_REQUESTS || api.status.is_server_error()
            }
            Error::Transport(e) => e.is_retryable(),
            Error::Auth(e) => e.is_retryable(),
            _ => false,
        }
    }
}

impl<E> From<SendError> for Error<E> {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Transport(e) => Error::Transport(e),
            SendError::Auth(e) => Error::Auth(e),
            SendError::InvalidRequest(e) => Error::InvalidRequest(e),
        }
    }
}

impl<E> From<ApiError<E>> for Error<E> {
    fn from(e: ApiError<E>) -> Self {
        Error::Api(Box::new(e))
    }
}

impl<E> From<TransportError> for Error<E> {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

impl<E> From<DecodeError> for Error<E> {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl<E> From<InvalidRequest> for Error<E> {
    fn from(e: InvalidRequest) -> Self {
        Error::InvalidRequest(e)
    }
}

impl<E> From<AuthError> for Error<E> {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

/// A response whose status the operation does not expect.
///
/// Its message names the status, the method and URL (without query) of the
/// request, the request id if any, and the start of the body.
#[non_exhaustive]
pub struct ApiError<E> {
    /// The status of the response.
    pub status: StatusCode,
    /// The headers of the response.
    pub headers: HeaderMap,
    /// The body decoded as the API's error type, if it decodes as one.
    pub body: Option<E>,
    /// The body as received.
    pub raw_body: Bytes,
    /// The id that the server gave the request: the `x-request-id` or
    /// `request-id` header, or else the `request_id` string field at the top
    /// of a JSON body.
    pub request_id: Option<String>,
    /// How long the server asked the client to wait before trying again, in
    /// a `Retry-After` header (seconds or HTTP date, counted from when the
    /// error was made).
    pub retry_after: Option<Duration>,
    /// The method of the request.
    pub method: Method,
    /// The URL of the request.
    pub url: Url,
}

impl<E> fmt::Display for ApiError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {} from {} {}",
            self.status,
            self.method,
            DisplayUrl(&self.url)
        )?;
        if let Some(id) = &self.request_id {
            write!(
                f,
                " (request id {})",
                ServerText::new(id).max_len(REQUEST_ID_LEN)
            )?;
        }
        let body = ServerText::new(&self.raw_body).to_string();
        if !body.is_empty() {
            write!(f, ": {body}")?;
        }
        Ok(())
    }
}

/// Shows the body as a bounded snippet, never in full.
impl<E: fmt::Debug> fmt::Debug for ApiError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("url", &DisplayUrl(&self.url).to_string())
            .field(
                "request_id",
                &self
                    .request_id
                    .as_ref()
                    .map(|id| ServerText::new(id).max_len(REQUEST_ID_LEN)),
            )
            .field("retry_after", &self.retry_after)
            .field("body", &BoundedDebug(&self.body))
            .field("raw_body", &BodySnippet(&self.raw_body))
            .field("headers", &HeadersDebug(&self.headers))
            .finish()
    }
}

impl<E: fmt::Debug> std::error::Error for ApiError<E> {}

/// The longest request id a message shows, in bytes.
const REQUEST_ID_LEN: usize = 100;

/// A server asked to wait longer before trying again (in `Retry-After`) than the
/// [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after) allows. Made by
/// [`RetryPolicy::retry_after_wait`](crate::RetryPolicy::retry_after_wait).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the server asked to wait {asked:?} before trying again, longer than the {limit:?} allowed \
     (RetryPolicy::max_retry_after)"
)]
pub struct WaitTooLong {
    pub(crate) asked: Duration,
    pub(crate) limit: Duration,
}

impl WaitTooLong {
    /// The wait the server asked for.
    pub fn asked(&self) -> Duration {
        self.asked
    }

    /// The longest wait allowed.
    pub fn limit(&self) -> Duration {
        self.limit
    }
}

/// The error of [`Client::execute`](crate::Client::execute).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The request could not be sent, or the response could not be read.
    #[error(transparent)]
    Transport(TransportError),
    /// No access token could be had.
    #[error(transparent)]
    Auth(AuthError),
    /// The request could not be built.
    #[error(transparent)]
    InvalidRequest(InvalidRequest),
}

impl From<TransportError> for SendError {
    fn from(e: TransportError) -> Self {
        SendError::Transport(e)
    }
}

impl From<AuthError> for SendError {
    fn from(e: AuthError) -> Self {
        SendError::Auth(e)
    }
}

impl From<InvalidRequest> for SendError {
    fn from(e: InvalidRequest) -> Self {
        SendError::InvalidRequest(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    Timeout,
    Connect,
    BodyTooLarge { limit: usize },
    Other,
}

/// A request that could not be sent, or a response that could not be read:
/// connection refused or reset, timeout, response body too large…
///
/// The message names the operation, method, URL (without query) and the
/// number of attempts made; the underlying error, if any, is the
/// [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct TransportError {
    pub(crate) kind: TransportKind,
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) attempts: u32,
    pub(crate) source: Option<reqwest::Error>,
}

impl TransportError {
    pub(crate) fn from_reqwest(
        e: reqwest::Error,
        operation: &'static str,
        method: Method,
        url: &Url,
    ) -> TransportError {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        TransportError {
            kind,
            operation,
            method,
            url: without_query(url),
            attempts: 1,
            // The message shows the URL already, without its query.
            source: Some(e.without_url()),
        }
    }

    pub(crate) fn body_too_large(
        limit: usize,
        operation: &'static str,
        method: Method,
        url: &Url,
    ) -> TransportError {
        TransportError::of_kind(
            TransportKind::BodyTooLarge { limit },
            operation,
            method,
            url,
        )
    }

    /// An attempt that made no progress for longer than the read timeout.
    pub(crate) fn idle(operation: &'static str, method: Method, url: &Url) -> TransportError {
        TransportError::of_kind(TransportKind::Timeout, operation, method, url)
    }

    fn of_kind(
        kind: TransportKind,
        operation: &'static str,
        method: Method,
        url: &Url,
    ) -> TransportError {
        TransportError {
            kind,
            operation,
            method,
            url: without_query(url),
            attempts: 1,
            source: None,
        }
    }

    /// Whether an attempt timed out: connecting, between two reads, or in
    /// total.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportKind::Timeout
    }

    /// Whether the connection could not be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportKind::Connect
    }

    /// Whether the response body was larger than
    /// [`Config::max_response_body`](crate::Config::max_response_body).
    pub fn is_body_too_large(&self) -> bool {
        matches!(self.kind, TransportKind::BodyTooLarge { .. })
    }

    /// Whether trying again later may succeed: every transport error but a
    /// response body that is too large.
    pub fn is_retryable(&self) -> bool {
        !self.is_body_too_large()
    }

    /// The number of attempts made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The `operationId` of the operation.
    pub fn operation_id(&self) -> &'static str {
        self.operation
    }

    /// The method of the request.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL of the request, without its query.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (operation {}) failed after {} attempt{}: ",
            self.method,
            DisplayUrl(&self.url),
            self.operation,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
        )?;
        match self.kind {
            TransportKind::Timeout => f.write_str("timed out"),
            TransportKind::Connect => f.write_str("could not connect"),
            TransportKind::BodyTooLarge { limit } => {
                write!(
                    f,
                    "the response body is larger than the limit of {limit} bytes"
                )
            }
            TransportKind::Other => f.write_str("the connection failed"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

#[derive(Debug)]
enum DecodeKind {
    Body {
        message: String,
        line: usize,
        column: usize,
        snippet: String,
        truncated: bool,
        body_len: usize,
    },
    Header {
        name: String,
        value: String,
    },
}

/// A response body or header that could not be decoded as the expected type.
///
/// The message names the status of the response and the expected type, and,
/// for a body, gives the decoder's message with line and column and the
/// start of the body (at most 512 bytes).
#[derive(Debug)]
pub struct DecodeError {
    status: StatusCode,
    type_name: &'static str,
    kind: DecodeKind,
}

impl DecodeError {
    pub(crate) fn body(
        status: StatusCode,
        type_name: &'static str,
        error: &serde_json::Error,
        body: &[u8],
    ) -> DecodeError {
        let (snippet, truncated) = snippet_of(body, DECODE_SNIPPET_LEN);
        DecodeError {
            status,
            type_name,
            kind: DecodeKind::Body {
                message: error.to_string(),
                line: error.line(),
                column: error.column(),
                snippet,
                truncated,
                body_len: body.len(),
            },
        }
    }

    pub(crate) fn header(
        status: StatusCode,
        type_name: &'static str,
        name: &str,
        value: &[u8],
    ) -> DecodeError {
        DecodeError {
            status,
            type_name,
            kind: DecodeKind::Header {
                name: name.to_owned(),
                value: snippet(value, 100),
            },
        }
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The name of the expected type.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The header that could not be parsed, if the error is about a header.
    pub fn header_name(&self) -> Option<&str> {
        match &self.kind {
            DecodeKind::Header { name, .. } => Some(name),
            DecodeKind::Body { .. } => None,
        }
    }

    /// The start of the body (at most 512 bytes, invalid UTF-8 replaced), if
    /// the error is about the body.
    pub fn snippet(&self) -> Option<&str> {
        match &self.kind {
            DecodeKind::Body { snippet, .. } => Some(snippet),
            DecodeKind::Header { .. } => None,
        }
    }

    /// The line and column, from 1, at which decoding the body failed, if
    /// the error is about the body and the decoder knows where (zero when
    /// it does not).
    pub fn position(&self) -> Option<(usize, usize)> {
        match &self.kind {
            DecodeKind::Body { line, column, .. } => Some((*line, *column)),
            DecodeKind::Header { .. } => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeKind::Body {
                message,
                snippet,
                truncated,
                body_len,
                ..
            } => {
                write!(
                    f,
                    "cannot decode the body of an HTTP {} response as {}: {message}; ",
                    self.status, self.type_name
                )?;
                if *body_len == 0 {
                    f.write_str("the body is empty")
                } else if *truncated {
                    write!(f, "body ({body_len} bytes) starts with {snippet:?}")
                } else {
                    write!(f, "body: {snippet:?}")
                }
            }
            DecodeKind::Header { name, value } => write!(
                f,
                "cannot parse the header {name}: {value:?} of an HTTP {} response as {}",
                self.status, self.type_name
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A request that could not be built: an invalid header value, a body that
/// cannot be serialized, a URL that cannot be used…
#[derive(Debug, thiserror::Error)]
#[error("invalid request: {message}")]
pub struct InvalidRequest {
    message: String,
}

impl InvalidRequest {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> InvalidRequest {
        InvalidRequest {
            message: message.into(),
        }
    }

    /// What is wrong with the request.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// No access token could be had, or the token cannot be sent.
///
/// A [`TokenProvider`](crate::TokenProvider) or a [`Grant`](crate::Grant) makes one
/// with [`new`](Self::new) or [`with_source`](Self::with_source), and marks it
/// [`retryable`](Self::retryable) when asking again later may succeed (a server error,
/// a lost connection); otherwise it is final (wrong credentials, a refused grant). The
/// message never contains a secret. Cloning is cheap (the source is shared), so one
/// failed refresh can be handed to every caller that waited for it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("authentication failed: {message}")]
pub struct AuthError {
    message: String,
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    retryable: bool,
}

impl AuthError {
    /// A final error with this message.
    pub fn new(message: impl Into<String>) -> AuthError {
        AuthError {
            message: message.into(),
            source: None,
            retryable: false,
        }
    }

    /// A final error with this message, caused by `source`.
    pub fn with_source(message: impl Into<String>, source: impl Into<BoxError>) -> AuthError {
        AuthError {
            message: message.into(),
            source: Some(Arc::from(source.into())),
            retryable: false,
        }
    }

    /// The same error, marked as one that asking again later may cure.
    pub fn retryable(mut self) -> AuthError {
        self.retryable = true;
        self
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether asking again later may succeed (see [`retryable`](Self::retryable)).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// A configuration that cannot make a [`Client`](crate::Client).
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {message}")]
pub struct ConfigError {
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> ConfigError {
        ConfigError {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What is wrong with the configuration.
    pub fn message(&self) -> &str {
        &self.message
    }
}
