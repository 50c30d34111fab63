//! JWT bearer assertions, as Box checks them: an RS256 (or RS384, RS512) signature by the
//! app's key pair, and the claims `iss` (the client ID), `sub` and `box_sub_type` (the
//! enterprise or user), `aud` (the token URL), `jti` (16 to 128 characters, never used
//! twice while it lives) and `exp` (not passed, at most 60 s ahead).
//!
//! The signature and the JSON are the `jsonwebtoken` crate's work; the claims are checked
//! here, one by one, so that each refusal says which claim is wrong.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::ledger::Ledger;
use super::{OAuthError, OAuthErrorKind, check_box_id, check_subject};

/// Box's token URL: the `aud` Box's SDKs put in assertions whatever their base URL.
pub(crate) const BOX_TOKEN_URL: &str = "https://api.box.com/oauth2/token";

/// How far ahead `exp` may be (Box: 60 s).
const MAX_LIFETIME_SECS: i64 = 60;

/// Past this many remembered `jti`, the expired ones are forgotten before the next is added.
const JTI_PRUNE_AT: usize = 1024;

/// The key assertions must be signed with.
pub(super) struct Verifier {
    key: DecodingKey,
    /// When set, an assertion's `kid` (if it has one) must be this.
    key_id: Option<String>,
}

/// What the replay check needs of an accepted assertion.
pub(super) struct Checked {
    jti: String,
    exp: i64,
}

impl Verifier {
    /// `pem`: an RSA public key, as SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`).
    pub fn new(pem: &str, key_id: Option<String>) -> Result<Verifier, String> {
        let parsed = pem::parse(pem).map_err(|e| format!("not a PEM file: {e}"))?;
        if !matches!(parsed.tag(), "PUBLIC KEY" | "RSA PUBLIC KEY") {
            return Err(format!(
                "a PEM {:?}, not an RSA public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\")",
                parsed.tag()
            ));
        }
        ensure_crypto_provider();
        let key = DecodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("not an RSA public key: {e}"))?;
        Ok(Verifier { key, key_id })
    }

    /// Checks `assertion` for `client_id`; `audiences` are the `aud` values accepted and
    /// `now` the time in Unix seconds.
    pub fn verify(
        &self,
        assertion: &str,
        client_id: &str,
        audiences: &[String],
        now: i64,
    ) -> Result<Checked, OAuthError> {
        let header = decode_header(assertion)
            .map_err(|e| invalid(format!("the assertion is not a JWT: {e}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(invalid(format!(
                "the assertion is signed with {:?}; Box takes RS256, RS384 or RS512",
                header.alg
            )));
        }
        if let (Some(expected), Some(kid)) = (&self.key_id, &header.kid)
            && kid != expected
        {
            return Err(invalid(format!(
                "the assertion's kid {kid:?} is not the id of the public key ({expected:?})"
            )));
        }
        // The claims are checked below, each with its own answer.
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        let claims = decode::<Map<String, Value>>(assertion, &self.key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => {
                    invalid("the assertion's signature does not match the public key")
                }
                _ => invalid(format!("the assertion could not be read: {e}")),
            })?
            .claims;
        check_claims(&claims, client_id, audiences)?;
        let jti = text(&claims, "jti")
            .ok_or_else(|| invalid("the assertion has no jti"))?
            .to_string();
        let length = jti.chars().count();
        if !(16..=128).contains(&length) {
            return Err(invalid(format!(
                "the assertion's jti must have 16 to 128 characters, not {length}"
            )));
        }
        let exp = time(&claims, "exp")?.ok_or_else(|| invalid("the assertion has no exp"))?;
        if exp <= now {
            return Err(invalid(format!(
                "the assertion has expired (its exp was {} s ago)",
                now - exp
            )));
        }
        if exp - now > MAX_LIFETIME_SECS {
            return Err(invalid(format!(
                "the assertion's exp is {} s ahead; at most {MAX_LIFETIME_SECS} s are allowed",
                exp - now
            )));
        }
        if let Some(nbf) = time(&claims, "nbf")?
            && nbf > now
        {
            return Err(invalid(format!(
                "the assertion is not valid yet (its nbf is {} s ahead)",
                nbf - now
            )));
        }
        Ok(Checked { jti, exp })
    }
}

/// `iss`, `sub`, `box_sub_type` and `aud`.
fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    audiences: &[String],
) -> Result<(), OAuthError> {
    match text(claims, "iss") {
        Some(iss) if iss == client_id => {}
        Some(iss) => {
            return Err(invalid(format!(
                "the assertion's iss {iss:?} is not the client_id {client_id:?}"
            )));
        }
        None => return Err(invalid("the assertion has no iss (the client id)")),
    }
    let sub = text(claims, "sub")
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| invalid("the assertion has no sub (the enterprise or user id)"))?;
    let kind = text(claims, "box_sub_type")
        .ok_or_else(|| invalid("the assertion has no box_sub_type (enterprise or user)"))?;
    check_subject("the assertion's box_sub_type", kind, "sub").map_err(as_invalid_grant)?;
    check_box_id("the assertion's sub", sub)?;
    // `aud` may be one string or a list (RFC 7519); Box's SDKs send one.
    let named: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(invalid("the assertion has no aud (the token URL)")),
    };
    if !named
        .iter()
        .any(|aud| audiences.iter().any(|accepted| accepted == aud))
    {
        return Err(invalid(format!(
            "the assertion's aud {named:?} is not the token URL (one of {audiences:?})"
        )));
    }
    Ok(())
}

/// The `jti` of assertions accepted, with their `exp`.
#[derive(Default)]
pub(super) struct Seen(Ledger<i64>);

impl Seen {
    /// Remembers an accepted assertion's `jti` until its `exp`; refuses one seen before.
    pub fn admit(&mut self, checked: Checked, now: i64) -> Result<(), OAuthError> {
        if self.0.len() >= JTI_PRUNE_AT {
            self.0.retain(|exp| *exp > now);
        }
        if self.0.contains(&checked.jti) {
            return Err(invalid(
                "the assertion's jti has been used already: each assertion needs a new one",
            ));
        }
        self.0.insert(checked.jti, checked.exp);
        Ok(())
    }
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// A NumericDate claim in whole seconds; an error if it is there but not a number.
fn time(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, OAuthError> {
    match claims.get(name) {
        None => Ok(None),
        // `as` saturates: an absurd date stays absurd rather than wrapping.
        Some(value) => value.as_f64().map(|secs| Some(secs as i64)).ok_or_else(|| {
            invalid(format!(
                "the assertion's {name} must be a number of seconds since 1970"
            ))
        }),
    }
}

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidGrant, description)
}

fn as_invalid_grant(error: OAuthError) -> OAuthError {
    invalid(error.description)
}

/// jsonwebtoken needs one crypto backend; should a build enable both of its backends (a
/// crate elsewhere in the tree asking for the other one), it is told which to use here.
fn ensure_crypto_provider() {
    use jsonwebtoken::crypto::CryptoProvider;
    if CryptoProvider::try_get_default().is_none() {
        // Err: another thread installed one meanwhile, which is as good.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    }
}
