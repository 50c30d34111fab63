//! `POST /oauth2/token` and `POST /oauth2/revoke`, at the root of the address as on Box
//! (`https://api.box.com/oauth2/token`): form bodies in, `AccessToken` or `OAuth2Error`
//! JSON out. The grants themselves are [`crate::oauth`]'s.

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::input::{body_error, header_str};
use super::{Shared, json_response, run_op};
use crate::App;
use crate::error::ApiError;
use crate::faults::Op;
use crate::idle_body::BodyIdleTimeout;
use crate::oauth::{BOX_TOKEN_URL, Issued, OAuthError, OAuthErrorKind};
use crate::server::Connection;

/// The largest form accepted: a JWT assertion is a few kilobytes.
const FORM_LIMIT: usize = 64 * 1024;

/// The media type of token and revocation requests.
const FORM: &str = "application/x-www-form-urlencoded";

pub(super) async fn token(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run_op(&app, &connection, Op::Token, None, None, body, |body| {
        grant(&app, &uri, &headers, body)
    })
    .await
}

pub(super) async fn revoke(
    State(app): Shared,
    Extension(connection): Extension<Connection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run_op(&app, &connection, Op::Revoke, None, None, body, |body| {
        revoke_token(&app, &headers, body)
    })
    .await
}

async fn grant(
    app: &App,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let issued = match read_form(headers, body).await? {
        Ok(request) => app.auth.tokens().grant(&request, &audiences(uri, headers)),
        Err(refused) => Err(refused),
    };
    match issued {
        Ok(issued) => {
            app.stats
                .update(|s| *s.grants.entry(issued.grant).or_default() += 1);
            Ok(no_store(json_response(
                StatusCode::OK,
                AccessToken::from(&issued),
            )))
        }
        Err(refused) => {
            app.stats.update(|s| s.grants_refused += 1);
            Ok(refusal(&refused))
        }
    }
}

async fn revoke_token(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let revoked = match read_form(headers, body).await? {
        Ok(request) => app.auth.tokens().revoke(&request),
        Err(refused) => Err(refused),
    };
    match revoked {
        Ok(()) => {
            app.stats.update(|s| s.revocations += 1);
            Ok(StatusCode::OK.into_response())
        }
        Err(refused) => Ok(refusal(&refused)),
    }
}

/// The form in the body. The outer error is an answer of the emulator's own (the body
/// stopped arriving); the inner one an `OAuth2Error`.
async fn read_form<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<Result<T, OAuthError>, ApiError> {
    let media_type = header_str(headers, header::CONTENT_TYPE)
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !media_type.is_some_and(|m| m.eq_ignore_ascii_case(FORM)) {
        super::drain(body).await;
        return Ok(Err(invalid_request(format!(
            "the body must be {FORM}, not {}",
            media_type.map_or_else(|| "untyped".to_string(), |m| format!("{m:?}"))
        ))));
    }
    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if BodyIdleTimeout::is_cause_of(&e) => return Err(body_error(&e)),
        Err(e) => {
            return Ok(Err(invalid_request(format!(
                "the body could not be read (at most {FORM_LIMIT} bytes): {e}"
            ))));
        }
    };
    Ok(serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| invalid_request(format!("the form could not be read: {e}"))))
}

/// The `aud` a JWT assertion may name: Box's token URL (what Box's SDKs send, whatever
/// their base URL), or the emulator's own under the host the request names.
fn audiences(uri: &Uri, headers: &HeaderMap) -> Vec<String> {
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| header_str(headers, header::HOST).map(|h| h.trim().to_string()));
    let mut accepted = vec![BOX_TOKEN_URL.to_string()];
    if let Some(host) = host {
        for scheme in ["http", "https"] {
            accepted.push(format!("{scheme}://{host}/oauth2/token"));
        }
    }
    accepted
}

/// Box's `AccessToken`.
#[derive(Serialize)]
struct AccessToken<'a> {
    access_token: &'a str,
    expires_in: u64,
    token_type: &'static str,
    restricted_to: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

impl<'a> From<&'a Issued> for AccessToken<'a> {
    fn from(issued: &'a Issued) -> Self {
        AccessToken {
            access_token: &issued.access_token,
            expires_in: issued.expires_in,
            token_type: "bearer",
            restricted_to: [],
            refresh_token: issued.refresh_token.as_deref(),
        }
    }
}

/// 400 with Box's `OAuth2Error`.
fn refusal(error: &OAuthError) -> Response {
    #[derive(Serialize)]
    struct OAuth2Error<'a> {
        error: &'static str,
        error_description: &'a str,
    }
    tracing::info!(error = error.kind.as_str(), description = %error.description, "token request refused");
    no_store(json_response(
        StatusCode::BAD_REQUEST,
        OAuth2Error {
            error: error.kind.as_str(),
            error_description: &error.description,
        },
    ))
}

/// Answers that carry tokens, or refuse them, are not to be cached (RFC 6749, 5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn invalid_request(description: String) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidRequest, description)
}
