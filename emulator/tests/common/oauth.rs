//! Helpers for the token endpoint's tests: the test-only key pair and Box app config of
//! `tests/fixtures/`, JWT assertions signed with them, and form posts. Included with
//! `#[path]` by the suites that need it (it needs `jsonwebtoken`).

#![allow(dead_code)]

use std::path::PathBuf;

use box_emulator::{Emulator, EmulatorConfig, OAuthClient};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use super::common::{Answer, client, small_config};

/// The client of `tests/fixtures/test-only-box-config.json`.
pub const CLIENT_ID: &str = "test-jwt-client";
pub const CLIENT_SECRET: &str = "test-jwt-secret";
/// Its `publicKeyID`.
pub const KEY_ID: &str = "test-key-1";
/// Its `enterpriseID`.
pub const ENTERPRISE_ID: &str = "1234567";
/// Box's token URL, the `aud` Box's SDKs send.
pub const BOX_TOKEN_URL: &str = "https://api.box.com/oauth2/token";
/// The fields of a client-credentials grant for the enterprise (besides the client's).
pub const CCG_ENTERPRISE: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("box_subject_type", "enterprise"),
    ("box_subject_id", ENTERPRISE_ID),
];
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A file of `emulator/tests/fixtures/` (from the emulator's tests or the workspace's).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../emulator/tests/fixtures")
        .join(name)
}

pub fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Small files, the fixtures' client and public key, no developer token.
pub fn oauth_config() -> EmulatorConfig {
    EmulatorConfig {
        token: None,
        clients: vec![OAuthClient::new(CLIENT_ID, CLIENT_SECRET)],
        jwt_public_key: Some(read_fixture("test-only-jwt-key.pub.pem")),
        jwt_key_id: Some(KEY_ID.to_string()),
        ..small_config()
    }
}

/// Seconds since 1970.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims Box wants, for the enterprise, `exp` 30 s ahead, a fresh `jti`.
pub fn claims() -> Map<String, Value> {
    let value = json!({
        "iss": CLIENT_ID,
        "sub": ENTERPRISE_ID,
        "box_sub_type": "enterprise",
        "aud": BOX_TOKEN_URL,
        "jti": format!("{:032x}", rand::random::<u128>()),
        "exp": now() + 30,
    });
    value.as_object().unwrap().clone()
}

/// `claims` signed RS256 with the private key in fixture `key`, with `kid`.
pub fn sign(claims: &Map<String, Value>, key: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    let key = EncodingKey::from_rsa_pem(read_fixture(key).as_bytes()).expect("a private key");
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

/// `claims` signed with the fixture's key, as Box's SDKs sign them.
pub fn assertion(claims: &Map<String, Value>) -> String {
    sign(claims, "test-only-jwt-key.pem", Some(KEY_ID))
}

/// `POST {oauth}{path}` with a form body.
pub async fn post_form(emulator: &Emulator, path: &str, form: &[(&str, &str)]) -> Answer {
    let url = format!("{}{path}", emulator.oauth_url());
    let body = serde_urlencoded::to_string(form).unwrap();
    let response = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request sent");
    Answer::read(response).await
}

/// `POST /oauth2/token` with the fixture's client and `fields`.
pub async fn grant(emulator: &Emulator, fields: &[(&str, &str)]) -> Answer {
    let mut form = vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
    form.extend_from_slice(fields);
    post_form(emulator, "/oauth2/token", &form).await
}

/// A client-credentials grant for the enterprise; asserts 200 and returns the token.
pub async fn ccg_token(emulator: &Emulator) -> String {
    token_of(&grant(emulator, &CCG_ENTERPRISE).await.ok(200))
}

pub fn token_of(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {body}"))
        .to_string()
}

/// Asserts a 400 `OAuth2Error` with this `error` (and nothing else in the body); returns
/// its `error_description`.
pub fn oauth_error(answer: &Answer, error: &str) -> String {
    let body = answer.ok(400);
    let object = body.as_object().expect("an object");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(object.len(), 2, "only error and error_description: {body}");
    let description = body["error_description"].as_str().expect("a description");
    assert!(!description.is_empty());
    description.to_string()
}
