//! The client: URLs of operations, and sending requests.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tracing::Instrument;
use url::Url;

use crate::auth::AccessToken;
use crate::config::Config;
use crate::error::{ConfigError, InvalidRequest, SendError, TransportError};
use crate::header::{bearer_error, retry_after};
use crate::idle::Activity;
use crate::operation::{Operation, Server};
use crate::request::{Body, BodyInner, Request};
use crate::response::Response;
use crate::retry::{backoff, is_retryable_status};
use crate::text::{ServerText, redacted_url};
use crate::trust::{HostPattern, is_loopback, same_origin};

/// A client of an API: sends the requests of its operations.
///
/// Cloning a client is cheap, and clones share their connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Honours the proxies of the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`…).
    http: reqwest::Client,
    /// The same without proxies, for loopback hosts: a proxy there would only be a
    /// detour, and a plain-http one would see the token in clear.
    direct: reqwest::Client,
    config: Config,
    /// The base URLs of `config`, parsed and checked.
    base_urls: Vec<(Server, Url)>,
    /// The host patterns of `config`, parsed.
    trusted_hosts: Vec<HostPattern>,
    /// The default headers of `config`, parsed.
    default_headers: HeaderMap,
}

impl Client {
    /// Builds a client from `config`.
    ///
    /// Fails when a base URL given to [`Config::base_url`] is not an
    /// absolute `http` or `https` URL without credentials, query or
    /// fragment, when a pattern given to [`Config::trust_host`] is invalid,
    /// when the user agent or a [default header](Config::default_header) is not a
    /// valid header, or when the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Client, ConfigError> {
        let base_urls = config
            .base_urls
            .iter()
            .map(|(server, url)| {
                check_base_url(url)
                    .map(|parsed| (*server, parsed))
                    .map_err(|reason| {
                        ConfigError::new(format!(
                            "the base URL {:?} of the server {} {reason}",
                            ServerText::new(&redacted_url(url)),
                            server.name
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_hosts = config
            .trusted_hosts
            .iter()
            .map(|pattern| {
                HostPattern::parse(pattern).map_err(|reason| {
                    ConfigError::new(format!(
                        "the host pattern {pattern:?} given to Config::trust_host {reason}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let default_headers = config.parsed_default_headers()?;

        let user_agent = HeaderValue::from_str(&config.user_agent).map_err(|_| {
            ConfigError::new(format!(
                "the user agent {:?} is not a valid header value",
                config.user_agent
            ))
        })?;
        // Redirects are not followed: a 3xx is an outcome the spec may declare (the
        // generated code then returns it typed), and following one would resend the
        // token and a body that a stream cannot replay.
        // The read timeout is the runtime's own (see `idle`): reqwest's would cut off every
        // upload that takes longer than it.
        let builder = || {
            let builder = reqwest::Client::builder()
                .user_agent(user_agent.clone())
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(config.connect_timeout);
            match config.request_timeout {
                Some(timeout) => builder.timeout(timeout),
                None => builder,
            }
        };
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .build()
                .map_err(|e| ConfigError::with_source("cannot build the HTTP client", e))
        };
        let http = build(builder())?;
        let direct = build(builder().no_proxy())?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                direct,
                config,
                base_urls,
                trusted_hosts,
                default_headers,
            }),
        })
    }

    /// When and how this client retries (see [`Config::retry`]); callers that repeat
    /// calls on their own use its [`max_retry_after`](crate::RetryPolicy::max_retry_after)
    /// through [`RetryPolicy::retry_after_wait`](crate::RetryPolicy::retry_after_wait).
    pub fn retry_policy(&self) -> &crate::RetryPolicy {
        &self.inner.config.retry
    }

    /// The URL at which to call `op`: the base URL of `op.server` followed by
    /// `encoded_path`, an already encoded path such as
    /// `/items/abc%2Fdef` (see [`encode_path_segment`](crate::encode_path_segment)).
    ///
    /// The base URL is the one given to [`Config::base_url`] for the server,
    /// or else the server's template filled with the values given to
    /// [`Config::server_variable`], or else the defaults. The path is
    /// appended to the base path, whose trailing slash is dropped.
    ///
    /// Fails when a variable of the template has no value, when the filled
    /// template is not an absolute `http` or `https` URL, or when the path
    /// is not a plain encoded path: one that holds `?` or `#`, characters
    /// that must be encoded, or dot segments (`.`, `..`, `%2E`, `%2E%2E`)
    /// that would move it elsewhere.
    pub fn endpoint(&self, op: &Operation, encoded_path: &str) -> Result<Url, InvalidRequest> {
        let mut url = self.base_url(op.server)?;
        let base_path = url.path().trim_end_matches('/');
        let mut path = String::with_capacity(base_path.len() + encoded_path.len() + 1);
        path.push_str(base_path);
        if !encoded_path.starts_with('/') {
            path.push('/');
        }
        path.push_str(encoded_path);
        url.set_path(&path);
        if url.path() != path {
            return Err(InvalidRequest::new(format!(
                "the path {encoded_path:?} of the operation {} is not a plain encoded path \
                 (it holds '?', '#', a character that must be encoded, or a dot segment \
                 such as '..'); the URL would have been {url}",
                op.id
            )));
        }
        Ok(url)
    }

    /// The URL at which to call `op` when the server gave one, such as an
    /// endpoint listed in an earlier response.
    ///
    /// The request will carry the token, and a server may answer with any
    /// URL, so the URL must be trusted:
    /// - its host is the host of a base URL given to [`Config::base_url`],
    ///   of the base URL of `op`'s server, or, unless
    ///   [`Config::trust_server_hosts`] is off, of the server's URL template
    ///   with the variables' defaults, or it matches one of the server's
    ///   [`trusted_hosts`](Server::trusted_hosts) or a pattern given to
    ///   [`Config::trust_host`];
    /// - and it is `https`, or it is plain `http` to a loopback host, to the
    ///   exact origin of a base URL given to [`Config::base_url`], or
    ///   anywhere trusted after [`Config::allow_insecure_http`].
    ///
    /// Fails, naming the URL (without credentials, query or fragment), when
    /// it is not an absolute `http` or `https` URL without credentials, or
    /// when it is not trusted.
    pub fn endpoint_at(&self, op: &Operation, absolute_url: &str) -> Result<Url, InvalidRequest> {
        // The message shows the URL without credentials, query or fragment: those
        // may hold secrets and errors end up in logs.
        let shown = redacted_url(absolute_url);
        let shown = ServerText::new(&shown);
        let url = Url::parse(absolute_url).map_err(|e| {
            InvalidRequest::new(format!(
                "the URL {shown:?} given for the operation {} is not a valid absolute URL: {e}",
                op.id
            ))
        })?;
        check_http_url(&url).map_err(|reason| {
            InvalidRequest::new(format!(
                "the URL {shown:?} given for the operation {} {reason}",
                op.id
            ))
        })?;
        self.check_trusted(op, &url).map_err(|reason| {
            InvalidRequest::new(format!(
                "refusing to send the access token to {shown:?}, given for the operation {}: \
                 {reason}",
                op.id
            ))
        })?;
        Ok(url)
    }

    /// Checks a URL given by a server against the trust rules of
    /// [`endpoint_at`](Self::endpoint_at); the error completes "refusing to
    /// send the access token to …: ".
    fn check_trusted(&self, op: &Operation, url: &Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default();
        let configured = self.inner.base_urls.iter().map(|(_, base)| base);
        let own_base = self.base_url(op.server).ok();
        let bases: Vec<&Url> = configured.chain(own_base.as_ref()).collect();
        let server = op.server;
        let default_base = if self.inner.config.trust_server_hosts {
            self.fill_template_with(server, false)
                .ok()
                .and_then(|filled| Url::parse(&filled).ok())
        } else {
            None
        };
        let server_patterns: Vec<HostPattern> = if self.inner.config.trust_server_hosts {
            // The generator checks these patterns; one it did not is ignored, not trusted.
            server
                .trusted_hosts
                .iter()
                .filter_map(|p| HostPattern::parse(p).ok())
                .collect()
        } else {
            Vec::new()
        };
        let trusted = bases.iter().any(|base| base.host_str() == Some(host))
            || default_base.as_ref().and_then(Url::host_str) == Some(host)
            || server_patterns.iter().any(|p| p.matches(host))
            || self.inner.trusted_hosts.iter().any(|p| p.matches(host));
        if !trusted {
            let mut known: Vec<String> = bases
                .iter()
                .copied()
                .chain(default_base.as_ref())
                .filter_map(|base| base.host_str().map(str::to_owned))
                .chain(server_patterns.iter().map(ToString::to_string))
                .chain(self.inner.trusted_hosts.iter().map(ToString::to_string))
                .collect();
            known.sort();
            known.dedup();
            return Err(format!(
                "its host {:?} is not trusted (trusted: {}); if the host is yours, add it \
                 with Config::trust_host",
                ServerText::new(host),
                known.join(", ")
            ));
        }
        let secure = url.scheme() == "https"
            || is_loopback(url)
            || self.inner.config.allow_insecure_http
            || self
                .inner
                .base_urls
                .iter()
                .any(|(_, base)| same_origin(base, url));
        if !secure {
            return Err(format!(
                "it is plain http to {:?}, which is not loopback; use https, or opt in \
                 with Config::allow_insecure_http",
                ServerText::new(host)
            ));
        }
        Ok(())
    }

    /// Sends `request`, with authentication and retries, and returns the
    /// final response whatever its status: a 4xx or 5xx is not an error
    /// here, and after the last retry the last response is returned.
    ///
    /// Each attempt of an operation that needs a token ([`Operation::auth`]) asks
    /// the [`TokenProvider`](crate::TokenProvider) for one and sends it as
    /// `Authorization: Bearer <token>`; the [default headers](Config::default_header)
    /// go with every request. A request is retried only when `op` is idempotent and
    /// the body can be sent again; see [`RetryPolicy`](crate::RetryPolicy). A `401`
    /// whose `WWW-Authenticate` says `invalid_token` (see
    /// [`header::bearer_error`](crate::header::bearer_error)) is different: the server
    /// did not act on the request, so, when the body can be sent again and the provider
    /// can give another token ([`TokenProvider::invalidate`](crate::TokenProvider::invalidate)),
    /// the request is sent once more with the new token, whatever its method.
    ///
    /// Fails when the request cannot be built, when no token can be had, or
    /// when the last attempt fails to send the request or read the response.
    pub async fn execute(
        &self,
        op: &'static Operation,
        request: Request,
    ) -> Result<Response, SendError> {
        let span = tracing::info_span!(
            "http",
            op = op.id,
            method = %op.method,
            path = op.path_template,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let start = Instant::now();
        let result = self
            .send_with_retries(op, request, &span, start)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", millis(start.elapsed()));
        result
    }

    async fn send_with_retries(
        &self,
        op: &'static Operation,
        request: Request,
        span: &tracing::Span,
        start: Instant,
    ) -> Result<Response, SendError> {
        let Request {
            method,
            url,
            headers,
            body,
            error,
        } = request;
        if let Some(error) = error {
            return Err(error.into());
        }
        let policy = &self.inner.config.retry;
        let max_attempts = policy.max_attempts.max(1);
        let replayable = body.as_ref().is_none_or(Body::is_replayable);
        let can_retry = op.idempotent && replayable;
        let len = body.as_ref().and_then(Body::len);
        let (bytes, mut stream, reopen) = match body.map(|b| b.inner) {
            None => (None, None, None),
            Some(BodyInner::Bytes(bytes)) => (Some(bytes), None, None),
            Some(BodyInner::Stream { stream, .. }) => (None, Some(stream), None),
            Some(BodyInner::Replayable { open, .. }) => (None, None, Some(open)),
        };

        let mut attempt = 0;
        // The one repeat after the server refused the token as invalid.
        let mut token_renewed = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let activity = Activity::new();
            let tracked = self.inner.config.read_timeout.is_some();
            // A replayable stream (a file, a multipart body) starts again for each attempt.
            let stream = stream
                .take()
                .or_else(|| reopen.as_deref().map(|open| open()));
            let body = match (&bytes, stream) {
                // Cloning `Bytes` shares the buffer; nothing is copied.
                (Some(bytes), _) if tracked => Some(activity.bytes_body(bytes.clone())),
                (Some(bytes), _) => Some(reqwest::Body::from(bytes.clone())),
                (None, Some(stream)) if tracked => Some(activity.stream_body(stream)),
                (None, Some(stream)) => Some(reqwest::Body::wrap_stream(stream)),
                (None, None) => None,
            };
            let retrying = can_retry && attempt < max_attempts;
            let token = match op.auth {
                true => Some(self.inner.config.tokens.token().await?),
                false => None,
            };
            let sent = self.attempt(
                op,
                &method,
                &url,
                &headers,
                token.as_ref(),
                body,
                len,
                &activity,
            );
            match sent.await {
                Ok(response) => {
                    span.record("status", response.status.as_u16());
                    // A refused token is dropped whatever happens next, so that the
                    // next request gets a new one even when this one cannot be repeated.
                    if let Some(token) = &token
                        && self.token_refused(&response, token)
                        && !token_renewed
                        && replayable
                    {
                        tracing::debug!(
                            attempt,
                            "the access token was refused as invalid; sending again with a new one"
                        );
                        token_renewed = true;
                        drop(response);
                        continue;
                    }
                    if retrying && is_retryable_status(response.status) {
                        let asked = retry_after(&response.headers, SystemTime::now());
                        if let Some(wait) = self.next_wait(start, attempt, asked) {
                            tracing::debug!(
                                attempt,
                                wait_ms = millis(wait),
                                reason = %format_args!("HTTP {}", response.status),
                                "retrying",
                            );
                            drop(response);
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    return Ok(response);
                }
                Err(SendError::Transport(mut error)) => {
                    error.attempts = attempt;
                    if retrying
                        && error.is_retryable()
                        && let Some(wait) = self.next_wait(start, attempt, None)
                    {
                        tracing::debug!(
                            attempt,
                            wait_ms = millis(wait),
                            reason = %error,
                            "retrying",
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(error.into());
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Whether `response` refuses `token` as invalid (the provider then drops it) and
    /// the provider can give another.
    fn token_refused(&self, response: &Response, token: &AccessToken) -> bool {
        response.status == StatusCode::UNAUTHORIZED
            && bearer_error(&response.headers).as_deref() == Some("invalid_token")
            && self.inner.config.tokens.invalidate(token)
    }

    /// The wait before the retry that follows attempt number `attempt`, or
    /// `None` when that retry would start after `max_elapsed`.
    fn next_wait(&self, start: Instant, attempt: u32, asked: Option<Duration>) -> Option<Duration> {
        let policy = &self.inner.config.retry;
        let wait = match asked {
            // A longer wait is cut to the limit: `max_elapsed` bounds the retries anyway.
            Some(asked) => policy
                .retry_after_wait(asked)
                .unwrap_or(policy.max_retry_after),
            None => backoff(policy, attempt),
        };
        (start.elapsed().saturating_add(wait) <= policy.max_elapsed).then_some(wait)
    }

    /// Sends the request once and reads the response; with a read timeout, fails when
    /// `activity` (the body going out, the response coming in) stalls for that long.
    #[expect(clippy::too_many_arguments, reason = "the parts of one attempt")]
    async fn attempt(
        &self,
        op: &'static Operation,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        token: Option<&AccessToken>,
        body: Option<reqwest::Body>,
        len: Option<u64>,
        activity: &Activity,
    ) -> Result<Response, SendError> {
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        let request_headers = request.headers_mut();
        request_headers.clone_from(headers);
        for (name, value) in &self.inner.default_headers {
            if !request_headers.contains_key(name) {
                request_headers.insert(name, value.clone());
            }
        }
        if let Some(token) = token {
            request_headers.insert(AUTHORIZATION, token.authorization()?);
        }
        if let (Some(len), Some(_)) = (len, &body) {
            request_headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        *request.body_mut() = body;

        let transport = |e| TransportError::from_reqwest(e, op.id, method.clone(), url);
        let idle = self.inner.config.read_timeout;
        let stalled = || SendError::from(TransportError::idle(op.id, method.clone(), url));
        let http = if is_loopback(url) {
            &self.inner.direct
        } else {
            &self.inner.http
        };
        let sending = http.execute(request);
        let response = match idle {
            Some(idle) => activity.within(idle, sending).await.ok_or_else(stalled)?,
            None => sending.await,
        }
        .map_err(transport)?;
        activity.mark();
        let status = response.status();
        let response_headers = response.headers().clone();
        let response_url = response.url().clone();
        let limit = self.inner.config.max_response_body;
        let body = match read_body(response, limit, idle.map(|idle| (activity, idle))).await {
            Ok(body) => body,
            Err(ReadError::TooLarge) => {
                return Err(
                    TransportError::body_too_large(limit, op.id, method.clone(), url).into(),
                );
            }
            Err(ReadError::Reqwest(e)) => return Err(transport(e).into()),
            Err(ReadError::Idle) => return Err(stalled()),
        };
        Ok(Response {
            status,
            headers: response_headers,
            body,
            method: method.clone(),
            url: response_url,
        })
    }

    fn base_url(&self, server: &Server) -> Result<Url, InvalidRequest> {
        if let Some((_, url)) = self.inner.base_urls.iter().find(|(s, _)| s == server) {
            return Ok(url.clone());
        }
        let filled = self.fill_template(server)?;
        check_base_url(&filled).map_err(|reason| {
            InvalidRequest::new(format!(
                "the URL {:?} of the server {} {reason}",
                ServerText::new(&redacted_url(&filled)),
                server.name
            ))
        })
    }

    /// The URL template of `server` with its variables replaced.
    fn fill_template(&self, server: &Server) -> Result<String, InvalidRequest> {
        self.fill_template_with(server, true)
    }

    /// The URL template of `server` with its variables replaced by the
    /// values of the configuration when `configured`, else by the defaults.
    fn fill_template_with(
        &self,
        server: &Server,
        configured: bool,
    ) -> Result<String, InvalidRequest> {
        let template = server.url_template;
        let mut filled = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            filled.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                InvalidRequest::new(format!(
                    "the URL template {template:?} of the server {} has an unclosed '{{'",
                    server.name
                ))
            })?;
            let name = &after[..close];
            let value = configured
                .then(|| self.inner.config.variables.iter().find(|(n, _)| n == name))
                .flatten()
                .map(|(_, v)| v.as_str())
                .or_else(|| {
                    server
                        .variables
                        .iter()
                        .find(|v| v.name == name)
                        .map(|v| v.default)
                })
                .ok_or_else(|| {
                    InvalidRequest::new(format!(
                        "the URL template {template:?} of the server {} needs a value for the \
                         variable {name:?}; give one with Config::server_variable",
                        server.name
                    ))
                })?;
            filled.push_str(value);
            rest = &after[close + 1..];
        }
        filled.push_str(rest);
        Ok(filled)
    }
}

/// Shows the configuration, never the token.
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Parses a base URL: absolute `http` or `https`, without credentials,
/// query or fragment. The error completes "the base URL … ".
fn check_base_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("is not a valid absolute URL: {e}"))?;
    check_http_url(&parsed)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("has a query or fragment".to_owned());
    }
    Ok(parsed)
}

/// Checks that a URL is `http` or `https`, with a host and no credentials.
/// The error completes "the URL … ".
fn check_http_url(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "has the scheme {:?}, not http or https",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("holds credentials".to_owned());
    }
    Ok(())
}

enum ReadError {
    TooLarge,
    Reqwest(reqwest::Error),
    /// No chunk came within the read timeout.
    Idle,
}

/// Reads the whole body, failing once it passes `limit` bytes, or, given an activity and
/// a read timeout, when no chunk comes within that timeout.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    idle: Option<(&Activity, Duration)>,
) -> Result<Bytes, ReadError> {
    let too_large = |len: u64| usize::try_from(len).map_or(true, |len| len > limit);
    if let Some(len) = response.content_length() {
        if too_large(len) {
            return Err(ReadError::TooLarge);
        }
        // The connection enforces the announced length.
        if idle.is_none() {
            return response.bytes().await.map_err(ReadError::Reqwest);
        }
    }
    let mut first: Option<Bytes> = None;
    let mut buffer = BytesMut::new();
    let mut total = 0usize;
    loop {
        let chunk = match idle {
            Some((activity, idle)) => activity
                .step(idle, response.chunk())
                .await
                .ok_or(ReadError::Idle)?,
            None => response.chunk().await,
        };
        let Some(chunk) = chunk.map_err(ReadError::Reqwest)? else {
            break;
        };
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(ReadError::TooLarge);
        }
        // A body in one chunk is kept as is, without a copy.
        match first.take() {
            None if buffer.is_empty() => first = Some(chunk),
            Some(earlier) => {
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&chunk);
            }
            None => buffer.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| buffer.freeze()))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
