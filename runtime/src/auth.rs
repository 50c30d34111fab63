//! Access tokens and where they come from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::AuthError;

/// A source of access tokens, asked once per attempt of every request.
///
/// An implementation that refreshes OAuth tokens does it in
/// [`token`](Self::token), and should cache the token until it expires.
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
}

impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        (**self).token()
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Box<T> {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        (**self).token()
    }
}

/// A bearer access token. Its `Debug` output never shows the secret.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
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
