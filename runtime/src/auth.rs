//! Access tokens and where they come from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderValue;

use crate::error::AuthError;

/// A source of access tokens, asked once per attempt of every request that needs one.
///
/// An implementation that fetches OAuth tokens should not do it itself: a
/// [`TokenCache`](crate::TokenCache) around a [`Grant`](crate::Grant) caches the
/// token, refreshes it ahead of its expiry once for all callers, and drops it when a
/// server says it is no longer valid.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use oas_runtime::{AccessToken, AuthError, TokenProvider};
///
/// struct FromEnv;
///
/// impl TokenProvider for FromEnv {
///     fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
///         Box::pin(async {
///             std::env::var("API_TOKEN")
///                 .map(AccessToken::new)
///                 .map_err(|e| AuthError::with_source("API_TOKEN is not set", e))
///         })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// Returns the current access token (an OAuth refresh can happen here).
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>>;

    /// Called when a server refused `token` as invalid (`401` with
    /// `WWW-Authenticate: Bearer error="invalid_token"`): returns whether the next
    /// [`token`](Self::token) may be another one, in which case the client sends the
    /// refused request once more. The default, for a fixed token, is `false`: the
    /// `401` is returned as it is.
    fn invalidate(&self, token: &AccessToken) -> bool {
        let _ = token;
        false
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        (**self).token()
    }

    fn invalidate(&self, token: &AccessToken) -> bool {
        (**self).invalidate(token)
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Box<T> {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        (**self).token()
    }

    fn invalidate(&self, token: &AccessToken) -> bool {
        (**self).invalidate(token)
    }
}

/// A bearer access token. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// The `Authorization: Bearer` value of this token, marked sensitive.
    pub(crate) fn authorization(&self) -> Result<HeaderValue, AuthError> {
        let secret = self.expose_secret();
        if secret.trim().is_empty() {
            return Err(AuthError::new("the access token is empty or blank"));
        }
        let mut value = HeaderValue::try_from(format!("Bearer {secret}")).map_err(|_| {
            AuthError::new(
                "the access token holds a character that an HTTP header cannot hold \
                 (a control character such as a newline, or a non-ASCII character)",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> AccessToken {
        AccessToken(token.into())
    }

    /// Returns the token itself.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// A [`TokenProvider`] that always returns the same token, such as a
/// developer token. Its `Debug` output never shows the secret.
#[derive(Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> StaticToken {
        StaticToken(AccessToken::new(token))
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

/// A [`TokenProvider`] for a client whose operations need no token, such as one that
/// only calls a token endpoint: asking it for a token is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoToken;

impl TokenProvider for NoToken {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        Box::pin(std::future::ready(Err(AuthError::new(
            "this client has no access token (it was configured with NoToken), and the \
             operation needs one",
        ))))
    }
}
