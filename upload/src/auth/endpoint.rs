//! Box's token endpoint, called through the generated client: `POST /oauth2/token` with
//! its typed form body, on a client of its own that never carries a bearer token.

use std::time::Duration;

use box_api::{
    Client, Config, Error, OAuth2Error, PostOAuth2Token, PostOAuth2TokenBoxSubjectType,
    PostOAuth2TokenGrantType, servers,
};
use oas_runtime::{AccessToken, AuthError, ConfigError, GrantedToken, NoToken, ServerText};
use secrecy::SecretString;

/// Where Box's token endpoint lives by default: `/oauth2/token` sits at this root.
pub const DEFAULT_OAUTH_URL: &str = "https://api.box.com";

/// The token endpoint: a generated [`Client`] configured with [`NoToken`] (the token
/// operations declare no security, so nothing is ever sent as a bearer token to it).
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    client: Client,
    token_url: String,
}

/// What the token endpoint answered: the access token, and the next refresh token when
/// the grant returns one.
pub(crate) struct TokenAnswer {
    pub(crate) granted: GrantedToken,
    pub(crate) refresh_token: Option<SecretString>,
}

impl TokenEndpoint {
    /// The endpoint under `oauth_url`, the root of `/oauth2/token` (such as
    /// [`DEFAULT_OAUTH_URL`] or a local emulator's address).
    ///
    /// Fails when `oauth_url` is not an absolute `http`/`https` URL without credentials,
    /// query or fragment (plain `http` only on loopback).
    pub fn new(oauth_url: &str) -> Result<TokenEndpoint, ConfigError> {
        let client = Client::new(Config::new(NoToken).base_url(&servers::OAUTH, oauth_url))?;
        let token_url = format!("{}/oauth2/token", oauth_url.trim_end_matches('/'));
        Ok(TokenEndpoint { client, token_url })
    }

    /// Box's own token endpoint, at [`DEFAULT_OAUTH_URL`].
    pub fn box_default() -> TokenEndpoint {
        TokenEndpoint::new(DEFAULT_OAUTH_URL).expect("the default OAuth URL is valid")
    }

    /// The URL of `/oauth2/token` (the audience of a JWT assertion).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// Asks for a token with `form`; `grant` names the grant in errors.
    pub(crate) async fn request(
        &self,
        grant: &str,
        form: &PostOAuth2Token,
    ) -> Result<TokenAnswer, AuthError> {
        let answer = self
            .client
            .request_access_token(form)
            .await
            .map_err(|error| grant_error(grant, error))?;
        let token = answer
            .access_token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                AuthError::new(format!(
                    "the {grant}: the token endpoint's answer holds no access token"
                ))
            })?;
        let expires_in = answer
            .expires_in
            .and_then(|s| u64::try_from(s).ok())
            .filter(|&s| s > 0)
            .map(Duration::from_secs);
        Ok(TokenAnswer {
            granted: GrantedToken::new(AccessToken::new(token), expires_in),
            refresh_token: answer.refresh_token.map(SecretString::from),
        })
    }
}

/// A token form for `grant_type`, every other field empty.
pub(crate) fn token_form(grant_type: PostOAuth2TokenGrantType) -> PostOAuth2Token {
    PostOAuth2Token {
        grant_type,
        client_id: None,
        client_secret: None,
        code: None,
        refresh_token: None,
        assertion: None,
        subject_token: None,
        subject_token_type: None,
        actor_token: None,
        actor_token_type: None,
        scope: None,
        resource: None,
        box_subject_type: None,
        box_subject_id: None,
        box_shared_link: None,
    }
}

/// Who a token is for: a service account of an enterprise, or one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The enterprise's service account (`box_subject_type=enterprise`).
    Enterprise(String),
    /// A user of the enterprise (`box_subject_type=user`).
    User(String),
}

impl Subject {
    pub(crate) fn kind(&self) -> PostOAuth2TokenBoxSubjectType {
        match self {
            Subject::Enterprise(_) => PostOAuth2TokenBoxSubjectType::Enterprise,
            Subject::User(_) => PostOAuth2TokenBoxSubjectType::User,
        }
    }

    pub(crate) fn id(&self) -> &str {
        match self {
            Subject::Enterprise(id) | Subject::User(id) => id,
        }
    }
}

/// The error of a token request, naming the grant: final when the server refused it (a
/// 4xx such as `invalid_client` or `invalid_grant`), retryable on 429, 5xx or a lost
/// connection. A body that does not decode is not shown: it may hold a token.
fn grant_error(grant: &str, error: Error<OAuth2Error>) -> AuthError {
    match error {
        Error::Api(api) => {
            let code = api.body.as_ref().and_then(|b| b.error.as_deref());
            let description = api
                .body
                .as_ref()
                .and_then(|b| b.error_description.as_deref());
            let mut message = format!("the {grant} was refused ({}", api.status);
            if let Some(code) = code {
                message += &format!(" {}", ServerText::new(code));
            }
            message.push(')');
            if let Some(description) = description {
                message += &format!(": {}", ServerText::new(description));
            }
            if let Some(hint) = code.and_then(hint) {
                message += &format!("; {hint}");
            }
            let retryable = api.status.as_u16() == 429 || api.status.is_server_error();
            let error = AuthError::new(message);
            if retryable { error.retryable() } else { error }
        }
        Error::Transport(transport) => {
            let retryable = transport.is_retryable();
            let error = AuthError::with_source(
                format!("the {grant} could not reach the token endpoint"),
                transport,
            );
            if retryable { error.retryable() } else { error }
        }
        Error::Decode(_) => AuthError::new(format!(
            "the {grant}: the token endpoint's answer is not a token (not shown: it may hold secrets)"
        )),
        Error::Auth(auth) => auth,
        other => AuthError::with_source(format!("the {grant} could not be sent"), other),
    }
}

/// What to check for an OAuth error code.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_client" => "check the client ID and client secret",
        "invalid_grant" => {
            "check the subject (enterprise or user ID), the key and its ID, the refresh \
             token, and the clock"
        }
        "unauthorized_client" => "check the app's authentication method and its authorization",
        _ => return None,
    })
}
