//! Box's grants against a small token endpoint of the test's own (the emulator's
//! end-to-end tests are in `auth_emulator.rs`): the forms they send, the JWT assertion
//! verified with the public key, refresh-token rotation and its store, clear final
//! errors that are never retried in a loop, and picking a grant from the environment.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use box_upload::auth::{
    ClientCredentials, FileTokenStore, JwtAppConfig, JwtGrant, MemoryTokenStore, RefreshTokenGrant,
    Subject, TokenEndpoint, TokenStore, from_vars,
};
use oas_runtime::{Grant, TokenCache, TokenProvider};
use secrecy::ExposeSecret;

const CLIENT_ID: &str = "client-id-1";
const CLIENT_SECRET: &str = "client-S3CRET-77a1";
/// The passphrase of the key in the emulator's test-only Box app config.
const PASSPHRASE: &str = "test-passphrase";

/// A test-only key of the emulator's fixtures (`emulator/tests/fixtures/README.md`):
/// `private.pem` and `public.pem` a pair, `encrypted.pem` the same private key encrypted
/// with [`PASSPHRASE`] (from the fixtures' Box app config), `other-private.pem` a key
/// that does not match.
fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../emulator/tests/fixtures");
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    match name {
        "private.pem" => read("test-only-jwt-key.pem"),
        "public.pem" => read("test-only-jwt-key.pub.pem"),
        "other-private.pem" => read("test-only-other-key.pem"),
        "encrypted.pem" => {
            let app: serde_json::Value =
                serde_json::from_str(&read("test-only-box-config.json")).unwrap();
            app["boxAppSettings"]["appAuth"]["privateKey"]
                .as_str()
                .unwrap()
                .to_owned()
        }
        _ => panic!("no fixture {name}"),
    }
}

/// Box's app config with `key` (and `passphrase`).
fn app_config(key: &str, passphrase: &str, enterprise: Option<&str>) -> String {
    serde_json::json!({
        "boxAppSettings": {
            "clientID": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "appAuth": {"publicKeyID": "kid-42", "privateKey": key, "passphrase": passphrase}
        },
        "enterpriseID": enterprise,
    })
    .to_string()
}

/// One request the token endpoint received.
#[derive(Debug, Clone)]
struct Seen {
    form: HashMap<String, String>,
    headers: HeaderMap,
}

/// A token endpoint: checks the form as Box would and grants `token-N` for `ttl` s.
#[derive(Clone, Default)]
struct Endpoint {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The refresh token it accepts next; each refresh rotates it.
    refresh: Arc<Mutex<String>>,
    /// Statuses to answer before granting.
    fail_first: Arc<Mutex<Vec<u16>>>,
    grants: Arc<AtomicUsize>,
    /// The audience assertions must name: this server's token URL.
    aud: Arc<Mutex<String>>,
}

impl Endpoint {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = serde_json::json!({"error": code, "error_description": description});
    (status, axum::Json(body)).into_response()
}

async fn token(State(endpoint): State<Endpoint>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
    endpoint.seen.lock().unwrap().push(Seen {
        form: form.clone(),
        headers,
    });
    if let Some(status) = endpoint.fail_first.lock().unwrap().pop() {
        let status = StatusCode::from_u16(status).unwrap();
        return oauth_error(status, "temporarily_unavailable", "try later");
    }
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "The client credentials are not valid",
        );
    }
    let mut answer = serde_json::json!({"token_type": "bearer", "expires_in": 3600});
    match field("grant_type") {
        Some("client_credentials") => {}
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            if let Err(why) = verify_assertion(
                field("assertion").unwrap_or_default(),
                &endpoint.aud.lock().unwrap(),
            ) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &why);
            }
        }
        Some("refresh_token") => {
            let mut current = endpoint.refresh.lock().unwrap();
            if field("refresh_token") != Some(current.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                );
            }
            *current = format!("refresh-{}", rand::random::<u64>());
            answer["refresh_token"] = current.clone().into();
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "no"),
    }
    let n = endpoint.grants.fetch_add(1, Ordering::SeqCst) + 1;
    answer["access_token"] = format!("token-{n}").into();
    axum::Json(answer).into_response()
}

/// Verifies an assertion as Box does: RS256 with the public key, the claims, `exp` at
/// most 60 s ahead and not past.
fn verify_assertion(assertion: &str, aud: &str) -> Result<(), String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let header = decode_header(assertion).map_err(|e| e.to_string())?;
    if header.kid.as_deref() != Some("kid-42") {
        return Err("unknown kid".into());
    }
    let key = DecodingKey::from_rsa_pem(fixture("public.pem").as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.set_audience(&[aud]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud", "jti"]);
    let claims = decode::<serde_json::Value>(assertion, &key, &validation)
        .map_err(|e| format!("Invalid assertion: {e}"))?
        .claims;
    let exp = claims["exp"].as_u64().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if exp > now + 60 {
        return Err("exp too far ahead".into());
    }
    let jti = claims["jti"].as_str().unwrap();
    if !(16..=128).contains(&jti.len())
        || claims["box_sub_type"] != "enterprise"
        || claims["sub"] != "ent-9"
    {
        return Err(format!("bad claims {claims}"));
    }
    Ok(())
}

async fn serve() -> (Endpoint, TokenEndpoint) {
    let endpoint = Endpoint::default();
    *endpoint.refresh.lock().unwrap() = "refresh-0".into();
    let app = Router::new()
        .route("/oauth2/token", axum::routing::post(token))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let token_endpoint = TokenEndpoint::new(&url).unwrap();
    *endpoint.aud.lock().unwrap() = token_endpoint.token_url().to_owned();
    (endpoint, token_endpoint)
}

/// The client-credentials grant of the test client for enterprise `e`, with `secret`.
fn ccg(endpoint: TokenEndpoint, secret: &str) -> ClientCredentials {
    ClientCredentials::new(endpoint, CLIENT_ID, secret, Subject::Enterprise("e".into()))
}

fn assert_no_secret(text: &str) {
    for secret in [
        CLIENT_SECRET,
        PASSPHRASE,
        "PRIVATE KEY",
        "refresh-",
        "token-",
    ] {
        assert!(!text.contains(secret), "{secret:?} shows in: {text}");
    }
}

#[tokio::test]
async fn client_credentials_send_boxs_form_without_a_bearer_and_once_for_many_callers() {
    let (endpoint, token_endpoint) = serve().await;
    let grant = ClientCredentials::new(
        token_endpoint,
        CLIENT_ID,
        CLIENT_SECRET,
        Subject::User("u-7".into()),
    );
    assert_no_secret(&format!("{grant:?}"));
    let provider = Arc::new(grant.into_provider());
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move { provider.token().await.unwrap().expose_secret().to_owned() })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), "token-1");
    }
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 1, "eight callers, one grant");
    let form = &seen[0].form;
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["box_subject_type"], "user");
    assert_eq!(form["box_subject_id"], "u-7");
    assert_eq!(seen[0].headers.get("authorization"), None);
    assert_eq!(
        seen[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_final_error_naming_the_grant_asked_once() {
    let (endpoint, token_endpoint) = serve().await;
    let grant = ccg(token_endpoint, "wrong-S3CRET");
    let provider = grant.into_provider();
    for _ in 0..3 {
        let error = provider.token().await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("client-credentials grant"), "{message}");
        assert!(message.contains("invalid_client"), "{message}");
        assert!(
            message.contains("check the client ID and client secret"),
            "{message}"
        );
        assert!(
            !message.contains("wrong-S3CRET") && !format!("{error:?}").contains("wrong-S3CRET")
        );
        assert!(!error.is_retryable());
    }
    assert_eq!(
        endpoint.seen().len(),
        1,
        "a refused grant is not asked again"
    );
}

#[tokio::test]
async fn server_errors_are_retried_within_the_policy() {
    let (endpoint, token_endpoint) = serve().await;
    *endpoint.fail_first.lock().unwrap() = vec![503, 500];
    let grant = ccg(token_endpoint, CLIENT_SECRET);
    let retry = box_upload::RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..box_upload::RetryPolicy::default()
    };
    let provider = TokenCache::with_retry(grant, retry);
    assert_eq!(provider.token().await.unwrap().expose_secret(), "token-1");
    assert_eq!(endpoint.seen().len(), 3);
}

#[tokio::test]
async fn jwt_assertions_verify_with_the_public_key_plain_or_encrypted() {
    let (endpoint, token_endpoint) = serve().await;
    for (key, passphrase) in [
        (fixture("private.pem"), ""),
        (fixture("encrypted.pem"), PASSPHRASE),
    ] {
        let app =
            JwtAppConfig::from_json(&app_config(&key, passphrase, Some("ent-9")), "test").unwrap();
        assert_no_secret(&format!("{app:?}"));
        let grant = JwtGrant::new(token_endpoint.clone(), &app, None).unwrap();
        assert_no_secret(&format!("{grant:?}"));
        let granted = grant.fetch().await.unwrap();
        assert!(granted.token.expose_secret().starts_with("token-"));
        assert_eq!(granted.expires_in, Some(Duration::from_secs(3600)));
    }
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_ne!(
        seen[0].form["assertion"], seen[1].form["assertion"],
        "a new jti each time"
    );
}

#[tokio::test]
async fn a_clock_behind_gives_an_expired_assertion_and_a_clear_error() {
    let (_endpoint, token_endpoint) = serve().await;
    let app = JwtAppConfig::from_json(
        &app_config(&fixture("private.pem"), "", Some("ent-9")),
        "test",
    )
    .unwrap();
    let grant = JwtGrant::new(token_endpoint, &app, None)
        .unwrap()
        .clock(|| SystemTime::now() - Duration::from_secs(300));
    let error = grant.fetch().await.unwrap_err().to_string();
    assert!(error.contains("JWT grant was refused"), "{error}");
    assert!(
        error.contains("invalid_grant") && error.contains("ExpiredSignature"),
        "{error}"
    );
    assert!(
        error.contains("the clock"),
        "the hint names the clock: {error}"
    );
}

#[test]
fn unusable_app_configs_and_keys_are_named() {
    let endpoint = TokenEndpoint::new("http://127.0.0.1:9").unwrap();
    let key = fixture("encrypted.pem");
    let grant = |json: &str| {
        JwtAppConfig::from_json(json, "config.json")
            .and_then(|app| JwtGrant::new(endpoint.clone(), &app, None))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let wrong = grant(&app_config(&key, "wrong-passphrase", Some("e")));
    assert!(
        wrong.contains("cannot be decrypted with the config's passphrase"),
        "{wrong}"
    );
    assert!(!wrong.contains("wrong-passphrase"), "{wrong}");
    let none = grant(&app_config(&key, "", Some("e")));
    assert!(
        none.contains("encrypted and the config has no passphrase"),
        "{none}"
    );
    let garbage = grant(&app_config("not a key", "", Some("e")));
    assert!(
        garbage.contains("/boxAppSettings/appAuth/privateKey") && garbage.contains("not a PEM"),
        "{garbage}"
    );
    let no_subject = grant(&app_config(&fixture("private.pem"), "", None));
    assert!(no_subject.contains("no enterpriseID"), "{no_subject}");
    let missing = grant(r#"{"boxAppSettings": {"clientID": "x", "clientSecret": "S3CRET-x"}}"#);
    assert!(
        missing.contains("config.json")
            && missing.contains("/boxAppSettings")
            && missing.contains("appAuth"),
        "{missing}"
    );
    assert!(!missing.contains("S3CRET"), "{missing}");
    let not_json = grant("{");
    assert!(not_json.contains("not JSON"), "{not_json}");
}

#[tokio::test]
async fn a_key_that_does_not_match_is_refused_clearly() {
    // The server knows `public.pem`; the app signs with a key of its own.
    let (_endpoint, token_endpoint) = serve().await;
    let key = fixture("other-private.pem");
    let app = JwtAppConfig::from_json(&app_config(&key, "", Some("ent-9")), "test").unwrap();
    let error = JwtGrant::new(token_endpoint, &app, None)
        .unwrap()
        .fetch()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("JWT grant was refused") && message.contains("InvalidSignature"),
        "{message}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn rotated_refresh_tokens_are_stored_before_use_and_the_old_one_is_spent() {
    let (endpoint, token_endpoint) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/box/refresh-token");
    let store = FileTokenStore::new(&path);
    store.save(&"refresh-0".to_owned().into()).unwrap();
    let grant = RefreshTokenGrant::new(
        token_endpoint.clone(),
        CLIENT_ID,
        CLIENT_SECRET,
        Arc::new(store.clone()),
    );
    assert_no_secret(&format!("{grant:?}"));
    for n in 1..=3 {
        let granted = grant.fetch().await.unwrap();
        assert_eq!(granted.token.expose_secret(), format!("token-{n}"));
        let stored = store.load().unwrap().unwrap();
        assert_eq!(
            stored.expose_secret(),
            endpoint.refresh.lock().unwrap().as_str(),
            "the rotated token is kept"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "no temporary file left"
    );

    // A spent token: a clear final error.
    let spent = Arc::new(MemoryTokenStore::new("refresh-0"));
    let grant = RefreshTokenGrant::new(token_endpoint, CLIENT_ID, CLIENT_SECRET, spent);
    let error = grant.fetch().await.unwrap_err().to_string();
    assert!(
        error.contains("refresh-token grant was refused") && error.contains("invalid_grant"),
        "{error}"
    );
    assert!(!error.contains("refresh-0"), "{error}");
}

fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn the_environment_picks_one_grant_or_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        app_config(&fixture("private.pem"), "", Some("ent-9")),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let oauth = ("BOX_OAUTH_URL", "http://127.0.0.1:9");

    let kind = |pairs: &[(&str, &str)]| from_vars(vars(pairs)).unwrap().map(|auth| auth.kind());
    assert_eq!(kind(&[]), None);
    assert_eq!(kind(&[("BOX_TOKEN", "t")]), Some("developer token"));
    assert_eq!(
        kind(&[
            ("BOX_CLIENT_ID", "i"),
            ("BOX_CLIENT_SECRET", "s"),
            ("BOX_ENTERPRISE_ID", "1"),
            oauth
        ]),
        Some("client-credentials grant")
    );
    assert_eq!(
        kind(&[("BOX_JWT_CONFIG", config), ("BOX_USER_ID", "5"), oauth]),
        Some("JWT grant")
    );
    assert_eq!(
        kind(&[
            ("BOX_CLIENT_ID", "i"),
            ("BOX_CLIENT_SECRET", "s"),
            ("BOX_REFRESH_TOKEN", "r-S3CRET"),
            ("BOX_TOKEN_STORE", store)
        ]),
        Some("refresh-token grant")
    );
    // The seed went to the store; later runs need only the store.
    assert_eq!(std::fs::read_to_string(store).unwrap().trim(), "r-S3CRET");
    assert_eq!(
        kind(&[
            ("BOX_CLIENT_ID", "i"),
            ("BOX_CLIENT_SECRET", "s"),
            ("BOX_TOKEN_STORE", store)
        ]),
        Some("refresh-token grant")
    );

    let error = |pairs: &[(&str, &str)]| from_vars(vars(pairs)).unwrap_err().to_string();
    let both = error(&[("BOX_TOKEN", "t"), ("BOX_JWT_CONFIG", config)]);
    assert!(
        both.contains("BOX_TOKEN") && both.contains("BOX_JWT_CONFIG") && both.contains("set one"),
        "{both}"
    );
    let jwt_and_ccg = error(&[
        ("BOX_JWT_CONFIG", config),
        ("BOX_CLIENT_ID", "i"),
        ("BOX_CLIENT_SECRET", "s"),
    ]);
    assert!(jwt_and_ccg.contains("unset one"), "{jwt_and_ccg}");
    let no_subject = error(&[("BOX_CLIENT_ID", "i"), ("BOX_CLIENT_SECRET", "s")]);
    assert!(
        no_subject.contains("BOX_ENTERPRISE_ID or BOX_USER_ID"),
        "{no_subject}"
    );
    let two_subjects = error(&[
        ("BOX_CLIENT_ID", "i"),
        ("BOX_CLIENT_SECRET", "s"),
        ("BOX_ENTERPRISE_ID", "1"),
        ("BOX_USER_ID", "2"),
    ]);
    assert!(two_subjects.contains("not both"), "{two_subjects}");
    let no_secret = error(&[("BOX_CLIENT_ID", "i"), ("BOX_ENTERPRISE_ID", "1")]);
    assert!(no_secret.contains("BOX_CLIENT_SECRET"), "{no_secret}");
    let no_config = error(&[("BOX_JWT_CONFIG", "/nonexistent/config.json")]);
    assert!(
        no_config.contains("BOX_JWT_CONFIG") && no_config.contains("/nonexistent/config.json"),
        "{no_config}"
    );
    let bad_url = error(&[
        ("BOX_CLIENT_ID", "i"),
        ("BOX_CLIENT_SECRET", "s"),
        ("BOX_USER_ID", "1"),
        ("BOX_OAUTH_URL", "ftp://x"),
    ]);
    assert!(bad_url.contains("BOX_OAUTH_URL"), "{bad_url}");
    let alone = error(&[("BOX_AS_USER", "5")]);
    assert!(alone.contains("no credentials"), "{alone}");
}

#[tokio::test]
async fn as_user_goes_with_every_call_and_tokens_never_go_to_the_token_endpoint() {
    use box_upload::{Client, servers};
    let (mock_seen, base) = {
        let seen = Arc::new(Mutex::new(Vec::<HeaderMap>::new()));
        let state = Arc::clone(&seen);
        let app = Router::new().fallback(move |headers: HeaderMap| {
            let state = Arc::clone(&state);
            async move {
                state.lock().unwrap().push(headers);
                axum::Json(serde_json::json!({"id": "0", "type": "folder"}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (seen, url)
    };
    let (endpoint, token_endpoint) = serve().await;
    let grant = ccg(token_endpoint, CLIENT_SECRET);
    let config =
        box_upload::auth::as_user(box_upload::Config::new(grant.into_provider()), "user-77")
            .base_url(&servers::API, &base);
    let client = Client::new(config).unwrap();
    let _ = client
        .get_folder(
            "0",
            box_upload::GetFolderRequest {
                fields: None,
                sort: None,
                direction: None,
                offset: None,
                limit: None,
                if_none_match: None,
                boxapi: None,
            },
        )
        .await;
    let seen = mock_seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["as-user"], "user-77");
    assert_eq!(seen[0]["authorization"], "Bearer token-1");
    assert!(
        endpoint
            .seen()
            .iter()
            .all(|s| s.headers.get("authorization").is_none())
    );
}
