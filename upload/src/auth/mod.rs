//! Signing in to Box: each kind of Box app as a token provider.
//!
//! - a developer token: [`StaticToken`](oas_runtime::StaticToken) (`Config::bearer`);
//! - the Client Credentials Grant: [`ClientCredentials`];
//! - JWT with the app's key pair: [`JwtGrant`], from Box's app config ([`JwtAppConfig`]);
//! - OAuth 2.0 refresh tokens with rotation: [`RefreshTokenGrant`] and a [`TokenStore`].
//!
//! Each grant's `into_provider` wraps it in the runtime's
//! [`TokenCache`](oas_runtime::TokenCache): one token per lifetime for all parts in
//! flight, refreshed ahead of its expiry, renewed once when Box refuses it. Token
//! requests go through the generated `request_access_token` on a client of their own
//! ([`TokenEndpoint`]) that carries no bearer token. [`from_env`] picks one from the
//! environment. Secrets never show in `Debug` output, errors or logs.

mod ccg;
mod endpoint;
mod env;
mod jwt;
mod refresh;

pub use ccg::ClientCredentials;
pub use endpoint::{DEFAULT_OAUTH_URL, Subject, TokenEndpoint};
pub use env::{EnvAuth, EnvAuthError, VARIABLES, as_user, from_env, from_vars};
pub use jwt::{ASSERTION_LIFETIME, AppConfigError, JwtAppConfig, JwtGrant};
pub use refresh::{FileTokenStore, MemoryTokenStore, RefreshTokenGrant, StoreError, TokenStore};
