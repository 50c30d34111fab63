//! Who may call: bearer tokens, and the upload tokens the preflight check hands out.
//!
//! Without a configured token any non-empty bearer token is accepted (documented in the
//! crate's table); the `Host` check ([`crate::host`]) is what keeps web pages out then.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;

/// How long an upload token from the preflight check stays valid.
const UPLOAD_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

/// The most upload tokens kept; the oldest is forgotten first.
const UPLOAD_TOKEN_LIMIT: usize = 10_000;

/// The tokens the emulator accepts.
#[derive(Debug)]
pub(crate) struct Auth {
    /// The one configured token; `None` accepts any non-empty bearer token.
    token: Option<String>,
    /// Upload tokens handed out by the preflight check, oldest first.
    upload_tokens: Mutex<VecDeque<(String, Instant)>>,
}

impl Auth {
    pub fn new(token: Option<String>) -> Auth {
        Auth {
            token,
            upload_tokens: Mutex::new(VecDeque::new()),
        }
    }

    /// Checks `authorization: Bearer <token>`. An upload token from the preflight check is
    /// accepted too, where `upload_token_allowed` (the direct upload it was issued for).
    pub fn check(&self, headers: &HeaderMap, upload_token_allowed: bool) -> Result<(), ApiError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty());
        let refuse = |message: &str, challenge: &'static str| {
            let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
            error.www_authenticate = Some(challenge);
            Err(error)
        };
        match (token, &self.token) {
            (None, _) => refuse("a bearer token is required", r#"Bearer realm="Service""#),
            (Some(token), Some(expected))
                if token != expected && !(upload_token_allowed && self.is_upload_token(token)) =>
            {
                refuse(
                    "the access token is not valid",
                    r#"Bearer realm="Service", error="invalid_token", error_description="the access token is not valid""#,
                )
            }
            _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let auth = Auth::new(Some("T".into()));
        assert!(auth.check(&bearer("T"), false).is_ok());
        let upload = auth.issue_upload_token();
        assert!(auth.check(&bearer(&upload), true).is_ok());
        assert!(auth.check(&bearer(&upload), false).is_err());
        assert!(auth.check(&bearer("other"), true).is_err());
        assert!(auth.check(&HeaderMap::new(), true).is_err());
        let open = Auth::new(None);
        assert!(open.check(&bearer("anything"), false).is_ok());
    }

    #[test]
    fn upload_tokens_are_bounded() {
        let auth = Auth::new(Some("T".into()));
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
