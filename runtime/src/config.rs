//! Configuration of a [`Client`](crate::Client).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{StaticToken, TokenProvider};
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue};

use crate::error::{ConfigError, WaitTooLong};
use crate::operation::Server;
use crate::text::redacted_url;

/// The longest duration the configuration keeps: a century, which is never in practice
/// and still leaves room to add it to any instant of the clock.
pub const LONGEST_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `d`, or [`LONGEST_DURATION`] when longer.
pub(crate) fn saturate(d: Duration) -> Duration {
    d.min(LONGEST_DURATION)
}

/// The default `User-Agent` header.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("oas-runtime/", env!("CARGO_PKG_VERSION"));

/// The configuration of a [`Client`](crate::Client), built by value.
///
/// Durations longer than [`LONGEST_DURATION`] (a century) are cut to it, so that no
/// setting, however large, can overflow the clock.
///
/// ```
/// use std::time::Duration;
/// use oas_runtime::{Config, RetryPolicy};
///
/// let config = Config::bearer("token")
///     .user_agent("my-app/1.0")
///     .connect_timeout(Duration::from_secs(5))
///     .retry(RetryPolicy { max_attempts: 3, ..RetryPolicy::default() });
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) tokens: Arc<dyn TokenProvider>,
    pub(crate) base_urls: Vec<(Server, String)>,
    pub(crate) variables: Vec<(String, String)>,
    pub(crate) user_agent: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_body: usize,
    pub(crate) trusted_hosts: Vec<String>,
    pub(crate) trust_server_hosts: bool,
    pub(crate) allow_insecure_http: bool,
    pub(crate) default_headers: Vec<(String, String)>,
}

impl Config {
    /// A configuration that takes access tokens from `tokens`, with defaults
    /// for everything else.
    pub fn new(tokens: impl TokenProvider) -> Config {
        Config {
            tokens: Arc::new(tokens),
            base_urls: Vec::new(),
            variables: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(60)),
            request_timeout: None,
            retry: RetryPolicy::default(),
            max_response_body: 64 * 1024 * 1024,
            trusted_hosts: Vec::new(),
            trust_server_hosts: true,
            allow_insecure_http: false,
            default_headers: Vec::new(),
        }
    }

    /// A configuration that sends the same bearer token with every request.
    pub fn bearer(token: impl Into<String>) -> Config {
        Config::new(StaticToken::new(token))
    }

    /// Replaces the whole base URL of `server`, template and variables
    /// included. [`Client::new`](crate::Client::new) checks that it is an
    /// absolute `http` or `https` URL without query or fragment.
    pub fn base_url(mut self, server: &Server, url: impl Into<String>) -> Config {
        let url = url.into();
        match self.base_urls.iter_mut().find(|(s, _)| s == server) {
            Some(entry) => entry.1 = url,
            None => self.base_urls.push((*server, url)),
        }
        self
    }

    /// Gives `value` to the server variable `name`: every `{name}` of every
    /// server URL template is replaced by it.
    pub fn server_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        let (name, value) = (name.into(), value.into());
        match self.variables.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.variables.push((name, value)),
        }
        self
    }

    /// Sets the `User-Agent` header. The default is `oas-runtime/<version>`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Config {
        self.user_agent = ua.into();
        self
    }

    /// Sets how long to wait for a connection. The default is 10 seconds.
    pub fn connect_timeout(mut self, d: Duration) -> Config {
        self.connect_timeout = saturate(d);
        self
    }

    /// Sets how long an attempt may go without progress before it fails:
    /// no piece of the request body taken by the connection, and no byte of
    /// the response received. A slow upload that keeps moving is not cut
    /// off; a server that stops reading the body, or never answers, is. The
    /// default is 60 seconds; `None` waits forever.
    pub fn read_timeout(mut self, d: Option<Duration>) -> Config {
        self.read_timeout = d.map(saturate);
        self
    }

    /// Sets how long one attempt may take in total, from sending the request
    /// to reading the end of the response. The default is `None`, no limit,
    /// so that large uploads on slow links are not cut off.
    pub fn request_timeout(mut self, d: Option<Duration>) -> Config {
        self.request_timeout = d.map(saturate);
        self
    }

    /// Sets when and how failed requests are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Config {
        self.retry = RetryPolicy {
            initial_backoff: saturate(policy.initial_backoff),
            max_backoff: saturate(policy.max_backoff),
            max_elapsed: saturate(policy.max_elapsed),
            max_retry_after: saturate(policy.max_retry_after),
            ..policy
        };
        self
    }

    /// Sets the largest response body, in bytes, that the client reads; a
    /// larger one fails the request with a [`TransportError`](crate::TransportError).
    /// The default is 64 MiB.
    pub fn max_response_body(mut self, bytes: usize) -> Config {
        self.max_response_body = bytes;
        self
    }

    /// Trusts a host for URLs that a server gives, such as the endpoints of
    /// an upload session (see [`Client::endpoint_at`](crate::Client::endpoint_at)):
    /// the token is sent to such a URL only when its host is trusted.
    ///
    /// Trusted by default: the hosts of the base URLs given to
    /// [`Config::base_url`], the host of the operation's own server, and the
    /// hosts that the API description names for that server (see
    /// [`trust_server_hosts`](Self::trust_server_hosts)).
    ///
    /// `pattern` is a host name (`files.example.com`), an IP address, or a
    /// name whose first label holds one `*` standing for one or more
    /// characters of that label only (`*.example.com` matches
    /// `eu.example.com`, not `example.com` nor `a.b.example.com`).
    /// [`Client::new`](crate::Client::new) refuses an invalid pattern.
    pub fn trust_host(mut self, pattern: impl Into<String>) -> Config {
        self.trusted_hosts.push(pattern.into());
        self
    }

    /// Whether the hosts that the API description names for a server (the
    /// host of its URL template with the variables' defaults, and the
    /// generator's list of the API's hosts) are trusted for URLs given by
    /// the server. The default is `true`; with `false`, only the base URLs'
    /// hosts and the hosts given to [`trust_host`](Self::trust_host) are.
    pub fn trust_server_hosts(mut self, trust: bool) -> Config {
        self.trust_server_hosts = trust;
        self
    }

    /// Whether a URL given by a server may use plain `http` on a trusted host
    /// that is not loopback. The default is `false`: the token then travels
    /// over `https` only, except to `localhost`, 127.0.0.0/8, `::1`, and the
    /// exact scheme, host and port of a base URL given to [`Config::base_url`].
    pub fn allow_insecure_http(mut self, allow: bool) -> Config {
        self.allow_insecure_http = allow;
        self
    }

    /// Adds the header `name: value` to every request that does not set `name` itself
    /// (a second call with the same name replaces the value). For a header an API wants
    /// on every call, such as one that names the user to act for.
    /// [`Client::new`](crate::Client::new) refuses a name or value that is not a valid
    /// header, and the headers the client sets itself (`Authorization`, `Host`,
    /// `Content-Length`, `Content-Type`, `Transfer-Encoding`).
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        let (name, value) = (name.into(), value.into());
        match self
            .default_headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(entry) => entry.1 = value,
            None => self.default_headers.push((name, value)),
        }
        self
    }
}

impl Config {
    /// The default headers of a configuration, checked: valid names and values, none that
    /// the client sets itself.
    pub(crate) fn parsed_default_headers(&self) -> Result<HeaderMap, ConfigError> {
        let headers = &self.default_headers;
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ConfigError::new(format!(
                    "the default header name {name:?} is not a valid header name"
                ))
            })?;
            if [
                AUTHORIZATION,
                HOST,
                CONTENT_LENGTH,
                CONTENT_TYPE,
                TRANSFER_ENCODING,
            ]
            .contains(&parsed)
            {
                return Err(ConfigError::new(format!(
                    "the default header {name:?} is one the client sets itself"
                )));
            }
            // The value is not shown: it may be a credential.
            let value = HeaderValue::from_str(value).map_err(|_| {
                ConfigError::new(format!(
                    "the value of the default header {name:?} is not a valid header value \
                     (a control character such as a newline, or a non-ASCII character)"
                ))
            })?;
            map.insert(parsed, value);
        }
        Ok(map)
    }
}

/// Lists the settings, never the token nor a base URL's credentials or query.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("tokens", &format_args!("<token provider>"))
            .field("base_urls", &BaseUrls(&self.base_urls))
            .field("variables", &self.variables)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("max_response_body", &self.max_response_body)
            .field("trusted_hosts", &self.trusted_hosts)
            .field("trust_server_hosts", &self.trust_server_hosts)
            .field("allow_insecure_http", &self.allow_insecure_http)
            // Names only: a value may be a credential.
            .field(
                "default_headers",
                &self
                    .default_headers
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

struct BaseUrls<'a>(&'a [(Server, String)]);

impl fmt::Debug for BaseUrls<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .iter()
                    .map(|(server, url)| (server.name, redacted_url(url))),
            )
            .finish()
    }
}

/// When and how a failed request is retried.
///
/// A request is retried only when its operation is
/// [idempotent](crate::Operation::idempotent) and its body can be sent again
/// (see [`Body::is_replayable`](crate::Body::is_replayable)), after a
/// response with status 429, 500, 502, 503 or 504, or after a connection
/// error or timeout.
///
/// Between attempts the client waits for the time the server asked for in a
/// `Retry-After` header (seconds, also fractional, or an HTTP date; see
/// [`header::retry_after`](crate::header::retry_after)), at most
/// [`max_retry_after`](Self::max_retry_after) (see [`retry_after_wait`](Self::retry_after_wait)),
/// or else for a random time between zero and an exponential backoff
/// (`initial_backoff`, doubled after each attempt, at most `max_backoff`).
/// It stops after `max_attempts` attempts, or when the next wait would end
/// more than `max_elapsed` after the first attempt began, and returns the
/// last response or error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most attempts made, the first included. Zero counts as one.
    /// Default 5.
    pub max_attempts: u32,
    /// The backoff before the first retry. Default 0.5 s.
    pub initial_backoff: Duration,
    /// The largest backoff. Default 30 s.
    pub max_backoff: Duration,
    /// The time after the first attempt began beyond which no retry starts.
    /// Default 120 s.
    pub max_elapsed: Duration,
    /// The longest wait that a `Retry-After` header can ask for; a longer
    /// one is cut to this. Default 60 s.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The wait before trying again when a server asked for `asked` (in `Retry-After`):
    /// `asked` itself when it is at most [`max_retry_after`](Self::max_retry_after), else
    /// an error that names both. The client's own retries cut a longer wait to the limit
    /// (they are bounded by `max_elapsed` too); a caller that retries on its own, such as
    /// an upload engine, refuses it with this error.
    pub fn retry_after_wait(&self, asked: Duration) -> Result<Duration, WaitTooLong> {
        if asked <= self.max_retry_after {
            Ok(asked)
        } else {
            Err(WaitTooLong {
                asked,
                limit: self.max_retry_after,
            })
        }
    }

    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
            max_retry_after: Duration::from_secs(60),
        }
    }
}
