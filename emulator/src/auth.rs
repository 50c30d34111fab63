//! Who may call: bearer tokens (the configured one, those the token endpoint issued), and
//! the upload tokens the preflight check hands out.
//!
//! Without a configured token or OAuth client any non-empty bearer token is accepted
//! (documented in the crate's table); the `Host` check ([`crate::host`]) is what keeps web
//! pages out then.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};

use crate::config::EmulatorConfig;
use crate::error::ApiError;
use crate::oauth::{TokenState, Tokens};

/// How long an upload token from the preflight check stays valid.
const UPLOAD_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

/// The most upload tokens kept; the oldest is forgotten first.
const UPLOAD_TOKEN_LIMIT: usize = 10_000;

/// The realm of Box's `WWW-Authenticate` challenges.
const CHALLENGE: &str = r#"Bearer realm="Service""#;

/// The tokens the emulator accepts.
#[derive(Debug)]
pub(crate) struct Auth {
    /// The one configured token; with neither it nor OAuth clients, any non-empty bearer
    /// token is accepted.
    token: Option<String>,
    /// The token endpoint's clients and the tokens it issued.
    tokens: Tokens,
    /// Upload tokens handed out by the preflight check, oldest first.
    upload_tokens: Mutex<VecDeque<(String, Instant)>>,
}

/// A request refused with 401.
#[derive(Debug)]
pub(crate) struct Unauthorized {
    pub error: ApiError,
    /// The token was one the emulator issued, and it has expired.
    pub expired: bool,
}

impl Auth {
    /// Fails when the configured JWT public key is not one.
    pub fn new(config: &EmulatorConfig) -> Result<Auth, String> {
        Ok(Auth {
            token: config.token.clone(),
            tokens: Tokens::new(
                config.clients.clone(),
                config.token_ttl,
                config.jwt_public_key.as_deref(),
                config.jwt_key_id.clone(),
            )
            .map_err(|e| format!("jwt_public_key: {e}"))?,
            upload_tokens: Mutex::new(VecDeque::new()),
        })
    }

    /// The token endpoint's side.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Checks `authorization: Bearer <token>`. An upload token from the preflight check is
    /// accepted too, where `upload_token_allowed` (the direct upload it was issued for).
    pub fn check(
        &self,
        headers: &HeaderMap,
        upload_token_allowed: bool,
    ) -> Result<(), Unauthorized> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty());
        let Some(token) = token else {
            let mut error = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token is required",
            );
            error.www_authenticate = Some(CHALLENGE.to_string());
            return Err(Unauthorized {
                error,
                expired: false,
            });
        };
        if self.token.as_deref() == Some(token)
            || (upload_token_allowed && self.is_upload_token(token))
        {
            return Ok(());
        }
        if self.tokens.checks_tokens() {
            return match self.tokens.access_state(token) {
                TokenState::Valid => Ok(()),
                TokenState::Expired => Err(invalid_token("the access token has expired", true)),
                TokenState::Revoked => {
                    Err(invalid_token("the access token has been revoked", false))
                }
                TokenState::Unknown => Err(invalid_token("the access token is not valid", false)),
            };
        }
        match self.token {
            Some(_) => Err(invalid_token("the access token is not valid", false)),
            None => Ok(()),
        }
    }

    /// A new upload token, valid for an hour for direct uploads.
    pub fn issue_upload_token(&self) -> String {
        let token = format!("{:032x}", rand::random::<u128>());
        let mut tokens = self.upload_tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while tokens
            .front()
            .is_some_and(|(_, expires)| *expires <= now || tokens.len() >= UPLOAD_TOKEN_LIMIT)
        {
            tokens.pop_front();
        }
        tokens.push_back((token.clone(), now + UPLOAD_TOKEN_TTL));
        token
    }

    fn is_upload_token(&self, token: &str) -> bool {
        let tokens = self.upload_tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens
            .iter()
            .any(|(t, expires)| t == token && *expires > now)
    }
}

/// 401 with Box's challenge for a token that is not (or no longer) good.
fn invalid_token(message: &str, expired: bool) -> Unauthorized {
    let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    error.www_authenticate = Some(format!(
        r#"{CHALLENGE}, error="invalid_token", error_description="{message}""#
    ));
    Unauthorized { error, expired }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_token(token: Option<&str>) -> Auth {
        Auth::new(&EmulatorConfig {
            token: token.map(str::to_string),
            ..EmulatorConfig::default()
        })
        .unwrap()
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn upload_tokens_open_direct_uploads_only() {
        let auth = with_token(Some("T"));
        assert!(auth.check(&bearer("T"), false).is_ok());
        let upload = auth.issue_upload_token();
        assert!(auth.check(&bearer(&upload), true).is_ok());
        assert!(auth.check(&bearer(&upload), false).is_err());
        assert!(auth.check(&bearer("other"), true).is_err());
        assert!(auth.check(&HeaderMap::new(), true).is_err());
        let open = with_token(None);
        assert!(open.check(&bearer("anything"), false).is_ok());
    }

    #[test]
    fn upload_tokens_are_bounded() {
        let auth = with_token(Some("T"));
        let first = auth.issue_upload_token();
        for _ in 0..UPLOAD_TOKEN_LIMIT {
            auth.issue_upload_token();
        }
        assert!(auth.upload_tokens.lock().unwrap().len() <= UPLOAD_TOKEN_LIMIT);
        assert!(
            auth.check(&bearer(&first), true).is_err(),
            "the oldest is gone"
        );
    }
}
