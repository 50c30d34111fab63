//! Secrets: a whole upload logged at TRACE never shows the token, nor do `Debug` and
//! `Display` of the client, the uploader, the config and the errors; nor do uploads with
//! each of Box's grants show the client secret, the private key, its passphrase, an
//! assertion, a refresh token or an access token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use box_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, OAuthClient, Op};
use box_upload::auth::{
    ClientCredentials, JwtAppConfig, JwtGrant, MemoryTokenStore, RefreshTokenGrant, Subject,
    TokenEndpoint,
};
use box_upload::{Client, Config, servers};
use oas_runtime::TokenProvider;

#[path = "../../upload/tests/common/mod.rs"]
mod common;
use common::{MIB, SourceFile, fixture};

const TOKEN: &str = "tok-S3CRET-5f1d2c9a";

/// A tracing writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Asserts that `text` holds neither the token nor an `Authorization` value.
fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(TOKEN), "{what} holds the token:\n{text}");
    assert!(
        !text.contains("S3CRET"),
        "{what} holds part of the token:\n{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("bearer tok"),
        "{what} holds an Authorization value:\n{text}"
    );
}

/// A whole upload, with retried faults and a failed one, logged at TRACE by every crate
/// (runtime, engine, reqwest, hyper, the emulator): the token is nowhere in the log, nor in
/// the `Debug` and `Display` of the client, the uploader and the errors.
///
/// The only test of this file: its subscriber is the process's global one, so that events of
/// every thread are captured (a thread-scoped subscriber misses callsites that other tests'
/// threads registered first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_upload_never_shows_the_token() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let fx = fixture(MIB, |config| config.token = Some(TOKEN.to_string())).await;
    let client = Client::new(
        Config::bearer(TOKEN)
            .base_url(&servers::UPLOAD, fx.emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, fx.emulator.upload_url())
            .base_url(&servers::API, fx.emulator.api_url()),
    )
    .unwrap();
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(503)).times(1));
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::status(500)).times(1));
    let source = SourceFile::new(3 * MIB + 17, 41);
    let uploader = box_upload::Uploader::new(client.clone())
        .min_file_size(1)
        .direct_upload_threshold(0)
        .retry_pause(std::time::Duration::from_millis(10));
    let file = uploader
        .upload_path(source.path(), "0", "traced.bin")
        .await
        .expect("the upload commits");
    fx.assert_committed(&file, &source);

    // A failing call: the same token, refused by a server that wants another.
    let wrong = fixture(MIB, |config| config.token = Some("another".into())).await;
    let refused = Client::new(
        Config::bearer(TOKEN)
            .base_url(&servers::UPLOAD, wrong.emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, wrong.emulator.upload_url())
            .base_url(&servers::API, wrong.emulator.api_url()),
    )
    .unwrap();
    let error = box_upload::Uploader::new(refused)
        .min_file_size(1)
        .direct_upload_threshold(0)
        .upload_path(source.path(), "0", "refused.bin")
        .await
        .expect_err("a wrong token is refused");
    assert!(error.to_string().contains("401"), "{error}");

    let grant_secrets = uploads_with_each_grant().await;

    let log = capture.text();
    for secret in &grant_secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the TRACE log holds a grant's secret"
        );
    }
    // Every JWT (an assertion) starts with the base64 of `{"`.
    assert!(!log.contains("eyJ"), "the TRACE log holds a JWT");
    assert!(
        log.contains("access token obtained"),
        "the grants were traced"
    );
    assert!(log.contains("TRACE"), "TRACE events were captured:\n{log}");
    assert!(log.contains("session created"), "{log}");
    assert!(log.contains("put_files_upload_sessions_id"), "{log}");
    assert_no_secret("the TRACE log", &log);
    assert_no_secret("the error", &format!("{error} {error:?}"));
    assert_no_secret("the client", &format!("{client:?}"));
    assert_no_secret("the uploader", &format!("{uploader:?}"));
    assert_no_secret(
        "the config",
        &format!("{:?}", Config::bearer(TOKEN).trust_host("x.example.com")),
    );
}

/// The emulator's test-only fixture `name`.
fn emulator_fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../emulator/tests/fixtures")
        .join(name)
}

/// An upload with each grant (client credentials, JWT from the fixtures' app config with
/// its encrypted key, a refresh token), the first refused once with a wrong secret;
/// returns the secrets that must not show: the client secrets, the key's lines, its
/// passphrase, the refresh token and every access token granted.
async fn uploads_with_each_grant() -> Vec<String> {
    const SECRET: &str = "test-jwt-secret";
    let config = EmulatorConfig {
        token: None,
        clients: vec![OAuthClient::new("test-jwt-client", SECRET)],
        jwt_public_key: Some(
            std::fs::read_to_string(emulator_fixture("test-only-jwt-key.pub.pem")).unwrap(),
        ),
        jwt_key_id: Some("test-key-1".into()),
        min_file_size: 1,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let endpoint = TokenEndpoint::new(&emulator.oauth_url()).unwrap();
    let app_file = emulator_fixture("test-only-box-config.json");
    let app: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&app_file).unwrap()).unwrap();
    let refresh_token = emulator.issue_refresh_token("test-jwt-client");
    let enterprise = || Subject::Enterprise("1234567".into());
    fn shown<P: TokenProvider + std::fmt::Debug>(provider: P) -> (String, Arc<dyn TokenProvider>) {
        (format!("{provider:?}"), Arc::new(provider))
    }
    let providers = vec![
        shown(
            ClientCredentials::new(
                endpoint.clone(),
                "test-jwt-client",
                "wrong-S3CRET-x",
                enterprise(),
            )
            .into_provider(),
        ),
        shown(
            ClientCredentials::new(endpoint.clone(), "test-jwt-client", SECRET, enterprise())
                .into_provider(),
        ),
        shown(
            JwtGrant::new(
                endpoint.clone(),
                &JwtAppConfig::from_file(&app_file).unwrap(),
                None,
            )
            .unwrap()
            .into_provider(),
        ),
        shown(
            RefreshTokenGrant::new(
                endpoint,
                "test-jwt-client",
                SECRET,
                Arc::new(MemoryTokenStore::new(refresh_token.clone())),
            )
            .into_provider(),
        ),
    ];
    let source = common::SourceFile::new(2 * MIB + 5, 43);
    let mut secrets = vec![
        SECRET.to_string(),
        "wrong-S3CRET-x".to_string(),
        app["boxAppSettings"]["appAuth"]["passphrase"]
            .as_str()
            .unwrap()
            .to_string(),
        refresh_token,
    ];
    // Every line of the (encrypted) key but its armour.
    let key = app["boxAppSettings"]["appAuth"]["privateKey"]
        .as_str()
        .unwrap();
    secrets.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_string),
    );
    for (n, (debug, tokens)) in providers.into_iter().enumerate() {
        let client = Client::new(
            Config::new(Arc::clone(&tokens))
                .base_url(&servers::UPLOAD, emulator.upload_url())
                .base_url(&servers::UPLOAD_SESSION, emulator.upload_url()),
        )
        .unwrap();
        let uploaded = box_upload::Uploader::new(client.clone())
            .min_file_size(1)
            .upload_path(source.path(), "0", &format!("grant-{n}.bin"))
            .await;
        let shown = match &uploaded {
            Ok(_) => format!("{client:?} {debug}"),
            Err(error) => format!("{error} {error:?} {client:?} {debug}"),
        };
        assert_eq!(uploaded.is_ok(), n > 0, "grant {n}: {shown}");
        if let Ok(token) = tokens.token().await {
            secrets.push(token.expose_secret().to_string());
        }
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "grant {n}: Debug or Display holds a secret: {shown}"
            );
        }
    }
    secrets
}
