//! Picking a grant from the environment, for the CLI and the examples.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use box_api::Config;
use oas_runtime::{StaticToken, TokenProvider};
use secrecy::SecretString;

use super::ccg::ClientCredentials;
use super::endpoint::{DEFAULT_OAUTH_URL, Subject, TokenEndpoint};
use super::jwt::{JwtAppConfig, JwtGrant};
use super::refresh::{FileTokenStore, RefreshTokenGrant, TokenStore};

/// The variables [`from_env`] reads.
pub const VARIABLES: &[&str] = &[
    "BOX_TOKEN",
    "BOX_CLIENT_ID",
    "BOX_CLIENT_SECRET",
    "BOX_ENTERPRISE_ID",
    "BOX_USER_ID",
    "BOX_JWT_CONFIG",
    "BOX_REFRESH_TOKEN",
    "BOX_TOKEN_STORE",
    "BOX_OAUTH_URL",
    "BOX_AS_USER",
];

/// How to authenticate, as the environment says: a token provider and, with
/// `BOX_AS_USER`, the user every call acts for.
#[derive(Clone)]
pub struct EnvAuth {
    provider: Arc<dyn TokenProvider>,
    kind: &'static str,
    variables: &'static str,
    as_user: Option<String>,
}

impl EnvAuth {
    /// The kind of credentials, such as `client-credentials grant` (never a secret).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The variables the credentials came from, such as `BOX_JWT_CONFIG`, for messages.
    pub fn variables(&self) -> &'static str {
        self.variables
    }

    /// The token provider.
    pub fn provider(&self) -> Arc<dyn TokenProvider> {
        Arc::clone(&self.provider)
    }

    /// A client configuration with this provider and the `as-user` header, if any.
    pub fn config(&self) -> Config {
        let config = Config::new(self.provider());
        match &self.as_user {
            Some(user) => as_user(config, user),
            None => config,
        }
    }
}

impl fmt::Debug for EnvAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvAuth")
            .field("kind", &self.kind)
            .field("as_user", &self.as_user)
            .finish_non_exhaustive()
    }
}

/// Makes every call of a client with `config` act for the user `user_id` (Box's
/// `as-user` header; the token must be allowed to).
pub fn as_user(config: Config, user_id: &str) -> Config {
    config.default_header("as-user", user_id)
}

/// The environment does not say how to authenticate, or says it in contradictory ways.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EnvAuthError {
    message: String,
}

impl EnvAuthError {
    fn new(message: impl Into<String>) -> EnvAuthError {
        EnvAuthError {
            message: message.into(),
        }
    }
}

/// Picks the credentials from the process's environment; see [`from_vars`].
pub fn from_env() -> Result<Option<EnvAuth>, EnvAuthError> {
    from_vars(|name| std::env::var(name).ok())
}

/// Picks the credentials from variables (`get` returns a variable's value): exactly one
/// of these, or `None` when none is set:
///
/// - a developer token: `BOX_TOKEN`;
/// - the Client Credentials Grant: `BOX_CLIENT_ID`, `BOX_CLIENT_SECRET`, and
///   `BOX_ENTERPRISE_ID` or `BOX_USER_ID`;
/// - JWT: `BOX_JWT_CONFIG`, the path of Box's app-config JSON; the token is for
///   `BOX_USER_ID` if set, else `BOX_ENTERPRISE_ID`, else the config's `enterpriseID`;
/// - a refresh token: `BOX_CLIENT_ID`, `BOX_CLIENT_SECRET`, and `BOX_REFRESH_TOKEN` or
///   `BOX_TOKEN_STORE` (the store file, default [`FileTokenStore::default_path`]); the
///   stored token, the latest one, wins over `BOX_REFRESH_TOKEN`, which only seeds an
///   empty store.
///
/// `BOX_OAUTH_URL` points the token endpoint elsewhere (default
/// [`DEFAULT_OAUTH_URL`]); `BOX_AS_USER` makes every call act for that user. Empty
/// variables count as unset. Two kinds at once are refused, naming the variables.
pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<EnvAuth>, EnvAuthError> {
    let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let token = var("BOX_TOKEN");
    let jwt = var("BOX_JWT_CONFIG");
    let refresh = var("BOX_REFRESH_TOKEN");
    let store = var("BOX_TOKEN_STORE");
    let (client_id, client_secret) = (var("BOX_CLIENT_ID"), var("BOX_CLIENT_SECRET"));
    let (enterprise, user) = (var("BOX_ENTERPRISE_ID"), var("BOX_USER_ID"));
    let client = client_id.is_some() || client_secret.is_some();

    let mut kinds = Vec::new();
    if token.is_some() {
        kinds.push("a developer token (BOX_TOKEN)");
    }
    if jwt.is_some() {
        kinds.push("a JWT app config (BOX_JWT_CONFIG)");
    }
    if refresh.is_some() || store.is_some() {
        kinds.push("a refresh token (BOX_REFRESH_TOKEN or BOX_TOKEN_STORE)");
    } else if client && jwt.is_none() {
        kinds.push("client credentials (BOX_CLIENT_ID and BOX_CLIENT_SECRET)");
    }
    if jwt.is_some() && client {
        return Err(EnvAuthError::new(
            "both a JWT app config (BOX_JWT_CONFIG) and client credentials \
             (BOX_CLIENT_ID/BOX_CLIENT_SECRET) are set; the JWT config holds its own: \
             unset one",
        ));
    }
    if kinds.len() > 1 {
        return Err(EnvAuthError::new(format!(
            "several kinds of credentials are set: {}; set one",
            kinds.join(", ")
        )));
    }
    let as_user = var("BOX_AS_USER");
    let oauth_url = var("BOX_OAUTH_URL").unwrap_or_else(|| DEFAULT_OAUTH_URL.into());
    let endpoint = || {
        TokenEndpoint::new(&oauth_url).map_err(|e| EnvAuthError::new(format!("BOX_OAUTH_URL: {e}")))
    };
    let client_pair = |kind: &str| match (&client_id, &client_secret) {
        (Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
        (None, _) => Err(EnvAuthError::new(format!("{kind} needs BOX_CLIENT_ID too"))),
        (_, None) => Err(EnvAuthError::new(format!(
            "{kind} needs BOX_CLIENT_SECRET too"
        ))),
    };
    let done = |provider: Arc<dyn TokenProvider>, kind, variables| {
        Ok(Some(EnvAuth {
            provider,
            kind,
            variables,
            as_user: as_user.clone(),
        }))
    };

    if let Some(token) = token {
        return done(
            Arc::new(StaticToken::new(token)),
            "developer token",
            "BOX_TOKEN",
        );
    }
    if let Some(path) = jwt {
        let app = JwtAppConfig::from_file(path.as_ref())
            .map_err(|e| EnvAuthError::new(format!("BOX_JWT_CONFIG: {e}")))?;
        let subject = match (user, enterprise) {
            (Some(user), _) => Some(Subject::User(user)),
            (None, Some(enterprise)) => Some(Subject::Enterprise(enterprise)),
            (None, None) => None,
        };
        let grant = JwtGrant::new(endpoint()?, &app, subject)
            .map_err(|e| EnvAuthError::new(format!("BOX_JWT_CONFIG: {e}")))?;
        return done(
            Arc::new(grant.into_provider()),
            "JWT grant",
            "BOX_JWT_CONFIG",
        );
    }
    if refresh.is_some() || store.is_some() {
        let (id, secret) = client_pair("a refresh token")?;
        let store = match store
            .map(PathBuf::from)
            .or_else(FileTokenStore::default_path)
        {
            Some(path) => FileTokenStore::new(path),
            None => {
                return Err(EnvAuthError::new(
                    "a refresh token needs a store file: set BOX_TOKEN_STORE (no home \
                     directory to put it in)",
                ));
            }
        };
        let store_error = |e| EnvAuthError::new(format!("{e}"));
        if store.load().map_err(store_error)?.is_none() {
            match refresh {
                Some(seed) => store.save(&SecretString::from(seed)).map_err(store_error)?,
                None => {
                    return Err(EnvAuthError::new(format!(
                        "the refresh-token store {} is empty: set BOX_REFRESH_TOKEN",
                        store.path().display()
                    )));
                }
            }
        }
        let grant = RefreshTokenGrant::new(endpoint()?, id, secret, Arc::new(store));
        return done(
            Arc::new(grant.into_provider()),
            "refresh-token grant",
            "BOX_CLIENT_ID, BOX_CLIENT_SECRET and the refresh token",
        );
    }
    if client {
        let (id, secret) = client_pair("the client-credentials grant")?;
        let subject = match (enterprise, user) {
            (Some(enterprise), None) => Subject::Enterprise(enterprise),
            (None, Some(user)) => Subject::User(user),
            (Some(_), Some(_)) => {
                return Err(EnvAuthError::new(
                    "the client-credentials grant is for an enterprise or a user: set \
                     BOX_ENTERPRISE_ID or BOX_USER_ID, not both",
                ));
            }
            (None, None) => {
                return Err(EnvAuthError::new(
                    "the client-credentials grant needs BOX_ENTERPRISE_ID or BOX_USER_ID \
                     (the enterprise or the user the token is for)",
                ));
            }
        };
        let grant = ClientCredentials::new(endpoint()?, id, secret, subject);
        return done(
            Arc::new(grant.into_provider()),
            "client-credentials grant",
            "BOX_CLIENT_ID and BOX_CLIENT_SECRET",
        );
    }
    if as_user.is_some() || enterprise.is_some() || user.is_some() {
        return Err(EnvAuthError::new(
            "BOX_AS_USER, BOX_ENTERPRISE_ID or BOX_USER_ID is set but no credentials are \
             (BOX_TOKEN, BOX_CLIENT_ID/BOX_CLIENT_SECRET, BOX_JWT_CONFIG or BOX_REFRESH_TOKEN)",
        ));
    }
    Ok(None)
}
