//! Tokens that expire: a [`Grant`] fetches one, a [`TokenCache`] keeps it, refreshes it
//! ahead of its expiry once for all callers, and drops it when a server refuses it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::time::Instant;

use crate::auth::{AccessToken, TokenProvider};
use crate::config::{RetryPolicy, saturate};
use crate::error::AuthError;
use crate::retry::backoff;

/// The most a token is refreshed ahead of its expiry; a short-lived token is refreshed
/// a tenth of its lifetime ahead instead.
pub const MAX_REFRESH_AHEAD: Duration = Duration::from_secs(60);

/// A way to obtain an access token from an authorization server: client credentials,
/// a signed assertion, a refresh token…
///
/// A grant only fetches; wrap it in a [`TokenCache`] to get a [`TokenProvider`] that
/// asks it once per token lifetime. An error is [`retryable`](AuthError::retryable)
/// when asking again may succeed (a 5xx, a lost connection), and final otherwise
/// (wrong credentials, a refused grant); it names the grant and never holds a secret.
pub trait Grant: Send + Sync + 'static {
    /// What the grant is, for messages and logs, such as `client-credentials grant`.
    /// Never a secret.
    fn name(&self) -> &str;

    /// Asks the authorization server for a new access token.
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>>;
}

impl<G: Grant + ?Sized> Grant for Arc<G> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
        (**self).fetch()
    }
}

/// A token a [`Grant`] obtained, and how long it stays valid from when it was asked for.
#[derive(Clone)]
#[non_exhaustive]
pub struct GrantedToken {
    /// The access token.
    pub token: AccessToken,
    /// How long it stays valid (the answer's `expires_in`); `None` when the server did
    /// not say, in which case it is kept until a server refuses it.
    pub expires_in: Option<Duration>,
}

impl GrantedToken {
    /// A token valid for `expires_in` (`None`: until refused).
    pub fn new(token: AccessToken, expires_in: Option<Duration>) -> GrantedToken {
        GrantedToken { token, expires_in }
    }
}

impl fmt::Debug for GrantedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantedToken")
            .field("token", &self.token)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A [`TokenProvider`] that caches the token of a [`Grant`].
///
/// - The token is refreshed ahead of its expiry, [`MAX_REFRESH_AHEAD`] or a tenth of
///   its lifetime, whichever is shorter. Until it expires, callers keep using it while
///   the refresh runs; after that they wait for it.
/// - Single flight: whatever the number of callers, one refresh runs at a time, and
///   every caller that needs it waits for that one. It runs in a task of its own, so a
///   caller that gives up (a timeout, a cancelled upload) does not cut it short: a
///   grant whose answer must be kept (a rotated refresh token) always gets it.
/// - A refresh that fails with a [retryable](AuthError::is_retryable) error is tried
///   again within the [`RetryPolicy`] (attempts, backoff, total time), then its error
///   goes to every caller that waited for it; while the old token is still valid, no
///   new refresh starts for [`max_backoff`](RetryPolicy::max_backoff).
/// - A final error (wrong credentials, a refused grant) is kept: every later call
///   returns it without asking the server again, so no request loops on it.
/// - [`invalidate`](TokenProvider::invalidate) drops a token a server refused, so
///   that the client's one retry of that request gets a new one.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::time::Duration;
/// use oas_runtime::{AccessToken, AuthError, Config, Grant, GrantedToken, TokenCache};
///
/// struct Fixed;
///
/// impl Grant for Fixed {
///     fn name(&self) -> &str {
///         "fixed grant"
///     }
///     fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
///         Box::pin(async {
///             Ok(GrantedToken::new(AccessToken::new("abc"), Some(Duration::from_secs(3600))))
///         })
///     }
/// }
///
/// let config = Config::new(TokenCache::new(Fixed));
/// ```
pub struct TokenCache<G> {
    inner: Arc<Inner<G>>,
}

struct Inner<G> {
    grant: G,
    retry: RetryPolicy,
    state: Mutex<State>,
}

/// The result of one refresh, awaited by every caller that needs it.
type Flight = Shared<BoxFuture<'static, Result<AccessToken, AuthError>>>;

#[derive(Default)]
struct State {
    current: Option<Cached>,
    flight: Option<Flight>,
    /// After a failed refresh: no new one starts before this while the token is valid.
    quiet_until: Option<Instant>,
    /// A final failure: every call returns it.
    refused: Option<AuthError>,
}

struct Cached {
    token: AccessToken,
    /// From then on, the next caller starts a refresh.
    refresh_at: Option<Instant>,
    /// From then on, callers wait for the refresh.
    expires_at: Option<Instant>,
}

impl Cached {
    /// A token asked for at `asked_at`, valid for `expires_in` from then.
    fn new(granted: GrantedToken, asked_at: Instant) -> Cached {
        let (refresh_at, expires_at) = match granted.expires_in {
            Some(lifetime) => {
                let lifetime = saturate(lifetime);
                let ahead = MAX_REFRESH_AHEAD.min(lifetime / 10);
                (
                    asked_at.checked_add(lifetime - ahead),
                    asked_at.checked_add(lifetime),
                )
            }
            None => (None, None),
        };
        Cached {
            token: granted.token,
            refresh_at,
            expires_at,
        }
    }

    fn is_fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }

    fn is_valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

impl<G: Grant> TokenCache<G> {
    /// A cache around `grant`, whose refreshes are retried with the default
    /// [`RetryPolicy`].
    pub fn new(grant: G) -> TokenCache<G> {
        TokenCache::with_retry(grant, RetryPolicy::default())
    }

    /// A cache around `grant`; a refresh that fails with a retryable error is tried
    /// again as `policy` says (attempts, backoff, total time; `Retry-After` plays no
    /// part here).
    pub fn with_retry(grant: G, policy: RetryPolicy) -> TokenCache<G> {
        TokenCache {
            inner: Arc::new(Inner {
                grant,
                retry: RetryPolicy {
                    initial_backoff: saturate(policy.initial_backoff),
                    max_backoff: saturate(policy.max_backoff),
                    max_elapsed: saturate(policy.max_elapsed),
                    ..policy
                },
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The grant the tokens come from.
    pub fn grant(&self) -> &G {
        &self.inner.grant
    }

    async fn current_token(&self) -> Result<AccessToken, AuthError> {
        let flight = {
            let mut state = self.inner.lock();
            if let Some(refused) = &state.refused {
                return Err(refused.clone());
            }
            let now = Instant::now();
            let valid = match &state.current {
                Some(cached) if cached.is_fresh(now) => return Ok(cached.token.clone()),
                Some(cached) if cached.is_valid(now) => Some(cached.token.clone()),
                _ => None,
            };
            let quiet = state.quiet_until.is_some_and(|until| now < until);
            match (valid, state.flight.clone()) {
                // Still valid: use it while the refresh (if one may start) runs.
                (Some(token), Some(_)) => return Ok(token),
                (Some(token), None) if quiet => return Ok(token),
                (Some(token), None) => {
                    state.flight = Some(self.start_flight());
                    return Ok(token);
                }
                (None, Some(flight)) => flight,
                (None, None) => {
                    let flight = self.start_flight();
                    state.flight = Some(flight.clone());
                    flight
                }
            }
        };
        flight.await
    }

    /// Starts a refresh in a task of its own; it stores its result when it ends.
    fn start_flight(&self) -> Flight {
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move { inner.refresh().await });
        let name = self.inner.grant.name().to_owned();
        async move {
            task.await.unwrap_or_else(|_| {
                Err(AuthError::new(format!(
                    "the {name} stopped abnormally (its task panicked or was cancelled)"
                )))
            })
        }
        .boxed()
        .shared()
    }
}

impl<G: Grant> Inner<G> {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches a token, retrying retryable failures within the policy, and stores it.
    async fn refresh(&self) -> Result<AccessToken, AuthError> {
        let start = Instant::now();
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            let asked_at = Instant::now();
            match self.grant.fetch().await {
                Ok(granted) => break Ok((granted, asked_at)),
                Err(error) => {
                    let wait = backoff(&self.retry, attempt);
                    let in_time = start.elapsed().saturating_add(wait) <= self.retry.max_elapsed;
                    if error.is_retryable() && attempt < self.retry.max_attempts && in_time {
                        tracing::debug!(grant = self.grant.name(), attempt, %error, "retrying the grant");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    break Err(error);
                }
            }
        };
        let mut state = self.lock();
        state.flight = None;
        match result {
            Ok((granted, asked_at)) => {
                tracing::debug!(
                    grant = self.grant.name(),
                    expires_in_s = granted.expires_in.map(|d| d.as_secs()),
                    "access token obtained"
                );
                let token = granted.token.clone();
                state.current = Some(Cached::new(granted, asked_at));
                state.quiet_until = None;
                Ok(token)
            }
            Err(error) => {
                tracing::warn!(grant = self.grant.name(), %error, "no access token");
                if error.is_retryable() {
                    state.quiet_until = Instant::now().checked_add(self.retry.max_backoff);
                } else {
                    state.refused = Some(error.clone());
                }
                Err(error)
            }
        }
    }
}

impl<G: Grant> TokenProvider for TokenCache<G> {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + '_>> {
        Box::pin(self.current_token())
    }

    /// Drops `token` if it is the cached one: the next call asks the grant. Always
    /// `true`: the next token is a new one (or one a refresh already brought).
    fn invalidate(&self, token: &AccessToken) -> bool {
        let mut state = self.inner.lock();
        if state
            .current
            .as_ref()
            .is_some_and(|cached| &cached.token == token)
        {
            tracing::debug!(
                grant = self.inner.grant.name(),
                "the access token was refused; it will be refreshed"
            );
            state.current = None;
        }
        state.refused.is_none()
    }
}

/// Names the grant, never a token.
impl<G: Grant> fmt::Debug for TokenCache<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("grant", &self.inner.grant.name())
            .finish_non_exhaustive()
    }
}
