//! Box's token endpoint: the grants (`client_credentials`, JWT bearer, `refresh_token`),
//! the tokens they issue, their revocation, and whether a bearer token is still good.
//!
//! Everything lives in memory and is bounded whatever clients send: at most
//! [`TOKEN_LIMIT`] access tokens and as many refresh tokens (the oldest are forgotten
//! first), and the `jti` of each assertion only until its `exp`.

mod jwt;
mod ledger;

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;

pub(crate) use jwt::BOX_TOKEN_URL;
use jwt::Verifier;
use ledger::Ledger;

/// The most access tokens (and, apart, refresh tokens) remembered.
pub(crate) const TOKEN_LIMIT: usize = 100_000;

/// How long a refresh token lasts unused (Box: 60 days).
const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(60 * 24 * 60 * 60);

/// `grant_type` of the JWT bearer grant.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An OAuth 2.0 client (a Box app) the token endpoint knows: its client ID and secret.
/// `Debug` shows the ID only.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The client ID (`client_id`, `iss` of JWT assertions).
    pub id: String,
    /// The client secret (`client_secret`).
    pub secret: String,
}

impl OAuthClient {
    /// A client with this ID and secret.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> OAuthClient {
        OAuthClient {
            id: id.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// `ID:SECRET` (split at the first `:`; neither may be empty), as `--client` takes it.
impl FromStr for OAuthClient {
    type Err = String;

    fn from_str(value: &str) -> Result<OAuthClient, String> {
        match value.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok(OAuthClient::new(id, secret))
            }
            _ => Err("expected CLIENT_ID:CLIENT_SECRET, both non-empty".to_string()),
        }
    }
}

/// The grants the token endpoint answers, as [`Stats::grants`](crate::Stats::grants)
/// counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Grant {
    /// `client_credentials` (Box's Client Credentials Grant).
    ClientCredentials,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (Box's JWT server authentication).
    JwtBearer,
    /// `refresh_token`.
    RefreshToken,
}

impl Grant {
    /// Its `grant_type`.
    pub fn grant_type(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::JwtBearer => JWT_BEARER,
            Grant::RefreshToken => "refresh_token",
        }
    }
}

/// The `error` of an `OAuth2Error` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OAuthErrorKind {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    UnauthorizedClient,
}

impl OAuthErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorKind::InvalidRequest => "invalid_request",
            OAuthErrorKind::InvalidClient => "invalid_client",
            OAuthErrorKind::InvalidGrant => "invalid_grant",
            OAuthErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorKind::UnauthorizedClient => "unauthorized_client",
        }
    }
}

/// A refused token or revocation request: an `OAuth2Error` (`error`, `error_description`).
/// Descriptions never hold a secret, a token or an assertion.
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub kind: OAuthErrorKind,
    pub description: String,
}

impl OAuthError {
    pub fn new(kind: OAuthErrorKind, description: impl Into<String>) -> OAuthError {
        OAuthError {
            kind,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorKind::InvalidRequest, description)
    }

    fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorKind::InvalidGrant, description)
    }
}

/// The form of `POST /oauth2/token` (the fields the emulator reads; others are ignored).
/// No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
pub(crate) struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub box_subject_type: Option<String>,
    pub box_subject_id: Option<String>,
    pub assertion: Option<String>,
    pub refresh_token: Option<String>,
}

/// The form of `POST /oauth2/revoke`. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
pub(crate) struct RevokeRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token: Option<String>,
}

/// What a grant hands out.
pub(crate) struct Issued {
    pub grant: Grant,
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
}

/// Where a bearer token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    Valid,
    Expired,
    Revoked,
    Unknown,
}

struct AccessRecord {
    client_id: String,
    expires_at: Instant,
    revoked: bool,
    /// The refresh token issued with it, revoked with it.
    refresh_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Live,
    /// Exchanged once already: refresh tokens rotate.
    Used,
    Revoked,
}

struct RefreshRecord {
    client_id: String,
    expires_at: Instant,
    state: RefreshState,
    /// The access token issued with it, revoked with it.
    access_token: Option<String>,
}

#[derive(Default)]
struct Books {
    access: Ledger<AccessRecord>,
    refresh: Ledger<RefreshRecord>,
    /// The `jti` of accepted assertions, with their `exp`, to refuse a replay.
    jtis: jwt::Seen,
}

/// The token endpoint's clients, keys and tokens.
pub(crate) struct Tokens {
    clients: Vec<OAuthClient>,
    ttl: Duration,
    jwt: Option<Verifier>,
    books: Mutex<Books>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("clients", &self.clients)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Fails when `jwt_public_key` is not an RSA public key in PEM.
    pub fn new(
        clients: Vec<OAuthClient>,
        ttl: Duration,
        jwt_public_key: Option<&str>,
        jwt_key_id: Option<String>,
    ) -> Result<Tokens, String> {
        let jwt = jwt_public_key
            .map(|pem| Verifier::new(pem, jwt_key_id))
            .transpose()?;
        Ok(Tokens {
            clients,
            ttl,
            jwt,
            books: Mutex::new(Books {
                access: Ledger::new(TOKEN_LIMIT),
                refresh: Ledger::new(TOKEN_LIMIT),
                jtis: jwt::Seen::default(),
            }),
        })
    }

    /// Whether clients are configured: then only the tokens issued here are good.
    pub fn checks_tokens(&self) -> bool {
        !self.clients.is_empty()
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers a token request; `audiences` are the `aud` values a JWT assertion may name.
    pub fn grant(
        &self,
        request: &TokenRequest,
        audiences: &[String],
    ) -> Result<Issued, OAuthError> {
        let grant = match required(&request.grant_type, "grant_type")? {
            "client_credentials" => Grant::ClientCredentials,
            JWT_BEARER => Grant::JwtBearer,
            "refresh_token" => Grant::RefreshToken,
            other @ ("authorization_code" | "urn:ietf:params:oauth:grant-type:token-exchange") => {
                return Err(OAuthError::new(
                    OAuthErrorKind::UnsupportedGrantType,
                    format!("the emulator does not grant {other}"),
                ));
            }
            other => {
                return Err(OAuthError::new(
                    OAuthErrorKind::UnsupportedGrantType,
                    format!("grant_type {other:?} is not one Box knows"),
                ));
            }
        };
        let client = self.authenticate(&request.client_id, &request.client_secret)?;
        match grant {
            Grant::ClientCredentials => {
                let kind = required(&request.box_subject_type, "box_subject_type")?;
                check_subject("box_subject_type", kind, "box_subject_id")?;
                let id = required(&request.box_subject_id, "box_subject_id")?;
                check_box_id("box_subject_id", id)?;
                Ok(self.issue(grant, client, false))
            }
            Grant::JwtBearer => {
                let verifier = self.jwt.as_ref().ok_or_else(|| {
                    OAuthError::new(
                        OAuthErrorKind::UnauthorizedClient,
                        "the emulator has no public key for JWT assertions (--jwt-public-key)",
                    )
                })?;
                let assertion = required(&request.assertion, "assertion")?;
                let checked = verifier.verify(assertion, &client.id, audiences, unix_now())?;
                self.books().jtis.admit(checked, unix_now())?;
                Ok(self.issue(grant, client, false))
            }
            Grant::RefreshToken => {
                let token = required(&request.refresh_token, "refresh_token")?;
                self.retire_refresh_token(token, &client.id)?;
                Ok(self.issue(grant, client, true))
            }
        }
    }

    /// Answers a revocation: the token (access or refresh) and the one issued with it stop
    /// being good. An unknown token is not an error (RFC 7009).
    pub fn revoke(&self, request: &RevokeRequest) -> Result<(), OAuthError> {
        let client = self.authenticate(&request.client_id, &request.client_secret)?;
        let token = required(&request.token, "token")?;
        let mut books = self.books();
        let books = &mut *books;
        let (owner, access, refresh) = if let Some(record) = books.access.get(token) {
            let refresh = record.refresh_token.clone();
            (record.client_id.clone(), Some(token.to_string()), refresh)
        } else if let Some(record) = books.refresh.get(token) {
            let access = record.access_token.clone();
            (record.client_id.clone(), access, Some(token.to_string()))
        } else {
            return Ok(());
        };
        if owner != client.id {
            return Err(OAuthError::invalid_grant(
                "the token was issued to another client",
            ));
        }
        if let Some(record) = access.and_then(|t| books.access.get_mut(&t)) {
            record.revoked = true;
        }
        if let Some(record) = refresh.and_then(|t| books.refresh.get_mut(&t))
            && record.state == RefreshState::Live
        {
            record.state = RefreshState::Revoked;
        }
        Ok(())
    }

    /// Where the access token `token` stands.
    pub fn access_state(&self, token: &str) -> TokenState {
        match self.books().access.get(token) {
            None => TokenState::Unknown,
            Some(record) if record.revoked => TokenState::Revoked,
            Some(record) if record.expires_at <= Instant::now() => TokenState::Expired,
            Some(_) => TokenState::Valid,
        }
    }

    /// A new refresh token for `client_id`, as an OAuth 2.0 authorization would hand out;
    /// `None` if no such client is configured.
    pub fn issue_refresh_token(&self, client_id: &str) -> Option<String> {
        let client = self.clients.iter().find(|c| c.id == client_id)?;
        let token = random_token(64);
        self.books().refresh.insert(
            token.clone(),
            RefreshRecord {
                client_id: client.id.clone(),
                expires_at: Instant::now() + REFRESH_TOKEN_TTL,
                state: RefreshState::Live,
                access_token: None,
            },
        );
        Some(token)
    }

    /// Makes every access token issued so far expire now.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        self.books()
            .access
            .values_mut()
            .for_each(|record| record.expires_at = record.expires_at.min(now));
    }

    /// The configured client named by `client_id`, if `client_secret` is its secret.
    fn authenticate(
        &self,
        client_id: &Option<String>,
        client_secret: &Option<String>,
    ) -> Result<&OAuthClient, OAuthError> {
        let id = required(client_id, "client_id")?;
        let secret = required(client_secret, "client_secret")?;
        if self.clients.is_empty() {
            return Err(OAuthError::new(
                OAuthErrorKind::InvalidClient,
                "the emulator has no OAuth clients (--client ID:SECRET)",
            ));
        }
        match self.clients.iter().find(|c| c.id == id) {
            Some(client) if client.secret == secret => Ok(client),
            Some(_) => Err(OAuthError::new(
                OAuthErrorKind::InvalidClient,
                format!("the client secret is not the one of client {id:?}"),
            )),
            None => Err(OAuthError::new(
                OAuthErrorKind::InvalidClient,
                format!("no client has the client_id {id:?}"),
            )),
        }
    }

    /// Marks the refresh token used, if it is live and `client_id`'s.
    fn retire_refresh_token(&self, token: &str, client_id: &str) -> Result<(), OAuthError> {
        let mut books = self.books();
        let Some(record) = books.refresh.get_mut(token) else {
            return Err(OAuthError::invalid_grant("the refresh token is not valid"));
        };
        if record.client_id != client_id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        match record.state {
            RefreshState::Used => Err(OAuthError::invalid_grant(
                "the refresh token has been used already: refresh tokens rotate, and each \
                 grant returns the one to use next",
            )),
            RefreshState::Revoked => Err(OAuthError::invalid_grant(
                "the refresh token has been revoked",
            )),
            RefreshState::Live if record.expires_at <= Instant::now() => {
                Err(OAuthError::invalid_grant("the refresh token has expired"))
            }
            RefreshState::Live => {
                record.state = RefreshState::Used;
                Ok(())
            }
        }
    }

    /// A new access token for `client` (and a refresh token with it, when `with_refresh`).
    fn issue(&self, grant: Grant, client: &OAuthClient, with_refresh: bool) -> Issued {
        let access_token = random_token(32);
        let refresh_token = with_refresh.then(|| random_token(64));
        let now = Instant::now();
        let mut books = self.books();
        books.access.insert(
            access_token.clone(),
            AccessRecord {
                client_id: client.id.clone(),
                expires_at: now + self.ttl,
                revoked: false,
                refresh_token: refresh_token.clone(),
            },
        );
        if let Some(refresh) = &refresh_token {
            books.refresh.insert(
                refresh.clone(),
                RefreshRecord {
                    client_id: client.id.clone(),
                    expires_at: now + REFRESH_TOKEN_TTL,
                    state: RefreshState::Live,
                    access_token: Some(access_token.clone()),
                },
            );
        }
        tracing::info!(grant = grant.grant_type(), client_id = %client.id, "token granted");
        Issued {
            grant,
            access_token,
            // Whole seconds, rounded down: a client never believes a token lives longer
            // than it does.
            expires_in: self.ttl.as_secs(),
            refresh_token,
        }
    }
}

/// The value of a form field that must be there (an empty value counts as missing).
fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    match value.as_deref() {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(OAuthError::invalid_request(format!("{name} is missing"))),
    }
}

/// `enterprise` or `user`, as `box_subject_type` and `box_sub_type` take.
fn check_subject(name: &str, kind: &str, id_name: &str) -> Result<(), OAuthError> {
    match kind {
        "enterprise" | "user" => Ok(()),
        other => Err(OAuthError::invalid_request(format!(
            "{name} must be enterprise or user (the kind of {id_name}), not {other:?}"
        ))),
    }
}

/// An enterprise or user id: Box's ids are digits.
fn check_box_id(name: &str, id: &str) -> Result<(), OAuthError> {
    if id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(OAuthError::invalid_grant(format!(
        "{name} {id:?} is not a Box enterprise or user id (digits)"
    )))
}

/// `len` random letters and digits, as Box's tokens are.
fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Seconds since the Unix epoch, as JWT claims count time.
fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(
            vec![OAuthClient::new("app", "s3cret")],
            Duration::from_secs(60),
            None,
            None,
        )
        .unwrap()
    }

    fn ccg(secret: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("client_credentials".into()),
            client_id: Some("app".into()),
            client_secret: Some(secret.into()),
            box_subject_type: Some("enterprise".into()),
            box_subject_id: Some("42".into()),
            ..TokenRequest::default()
        }
    }

    #[test]
    fn clients_parse_from_the_command_line_and_hide_their_secret() {
        let client: OAuthClient = "id:se:cret".parse().unwrap();
        assert_eq!(
            (client.id.as_str(), client.secret.as_str()),
            ("id", "se:cret")
        );
        assert!(!format!("{client:?}").contains("se:cret"));
        for bad in ["id", ":secret", "id:", ""] {
            assert!(bad.parse::<OAuthClient>().is_err(), "{bad}");
        }
    }

    #[test]
    fn revoking_an_access_token_revokes_its_refresh_token() {
        let tokens = tokens();
        let seed = tokens.issue_refresh_token("app").unwrap();
        let request = TokenRequest {
            grant_type: Some("refresh_token".into()),
            client_id: Some("app".into()),
            client_secret: Some("s3cret".into()),
            refresh_token: Some(seed),
            ..TokenRequest::default()
        };
        let issued = tokens.grant(&request, &[]).unwrap();
        assert_eq!(tokens.access_state(&issued.access_token), TokenState::Valid);
        tokens
            .revoke(&RevokeRequest {
                client_id: Some("app".into()),
                client_secret: Some("s3cret".into()),
                token: Some(issued.access_token.clone()),
            })
            .unwrap();
        assert_eq!(
            tokens.access_state(&issued.access_token),
            TokenState::Revoked
        );
        let again = TokenRequest {
            refresh_token: issued.refresh_token,
            ..request
        };
        let refused = tokens.grant(&again, &[]).err().unwrap();
        assert_eq!(refused.kind, OAuthErrorKind::InvalidGrant);
        assert!(
            refused.description.contains("revoked"),
            "{}",
            refused.description
        );
    }

    #[test]
    fn access_tokens_are_bounded_and_expire() {
        let tokens = tokens();
        let first = tokens.grant(&ccg("s3cret"), &[]).unwrap().access_token;
        assert_eq!(tokens.access_state(&first), TokenState::Valid);
        tokens.expire_access_tokens();
        assert_eq!(tokens.access_state(&first), TokenState::Expired);
        for _ in 0..TOKEN_LIMIT {
            tokens.grant(&ccg("s3cret"), &[]).unwrap();
        }
        assert_eq!(tokens.books().access.len(), TOKEN_LIMIT);
        assert_eq!(
            tokens.access_state(&first),
            TokenState::Unknown,
            "forgotten"
        );
        assert_eq!(
            tokens.grant(&ccg("wrong"), &[]).err().unwrap().kind,
            OAuthErrorKind::InvalidClient
        );
    }
}
