//! Box's grants end to end against the emulator's token endpoint: uploads that outlive
//! several token lifetimes with each grant (one grant per lifetime, no part refused), a
//! token that stops working mid-upload, and the clear errors of a wrong secret, a key
//! that does not match and an expired assertion.
//!
//! The app config, its encrypted key and the public key the emulator checks are the
//! emulator's test-only fixtures (`emulator/tests/fixtures/`).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use box_emulator::{
    Emulator, EmulatorConfig, FaultAction, FaultRule, OAuthClient, Op, PartSizePolicy,
};
use box_upload::auth::{
    ClientCredentials, JwtAppConfig, JwtGrant, MemoryTokenStore, RefreshTokenGrant, Subject,
    TokenEndpoint,
};
use box_upload::{Client, Config, RetryPolicy, Uploader, servers};
use common::{MIB, SourceFile};
use oas_runtime::TokenProvider;

const CLIENT_ID: &str = "test-jwt-client";
const CLIENT_SECRET: &str = "test-jwt-secret";
const ENTERPRISE_ID: &str = "1234567";

fn emulator_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../emulator/tests/fixtures")
        .join(name)
}

/// An emulator that checks tokens: the fixtures' client and public key, tokens living
/// `ttl`, parts of 1 MiB.
async fn emulator(ttl: Duration) -> Arc<Emulator> {
    let config = EmulatorConfig {
        token: None,
        clients: vec![OAuthClient::new(CLIENT_ID, CLIENT_SECRET)],
        jwt_public_key: Some(
            std::fs::read_to_string(emulator_fixture("test-only-jwt-key.pub.pem")).unwrap(),
        ),
        jwt_key_id: Some("test-key-1".into()),
        token_ttl: ttl,
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(MIB),
        retry_after_secs: 0,
        ..EmulatorConfig::default()
    };
    Arc::new(
        Emulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap(),
    )
}

/// The grants under test, by the emulator's name for them.
#[derive(Debug, Clone, Copy)]
enum Kind {
    ClientCredentials,
    Jwt,
    Refresh,
}

fn provider(kind: Kind, emulator: &Emulator) -> Arc<dyn TokenProvider> {
    let endpoint = TokenEndpoint::new(&emulator.oauth_url()).unwrap();
    match kind {
        Kind::ClientCredentials => Arc::new(
            ClientCredentials::new(
                endpoint,
                CLIENT_ID,
                CLIENT_SECRET,
                Subject::Enterprise(ENTERPRISE_ID.into()),
            )
            .into_provider(),
        ),
        Kind::Jwt => {
            let app =
                JwtAppConfig::from_file(&emulator_fixture("test-only-box-config.json")).unwrap();
            Arc::new(JwtGrant::new(endpoint, &app, None).unwrap().into_provider())
        }
        Kind::Refresh => {
            let store = Arc::new(MemoryTokenStore::new(
                emulator.issue_refresh_token(CLIENT_ID),
            ));
            Arc::new(
                RefreshTokenGrant::new(endpoint, CLIENT_ID, CLIENT_SECRET, store).into_provider(),
            )
        }
    }
}

fn emulator_grant(kind: Kind) -> box_emulator::Grant {
    match kind {
        Kind::ClientCredentials => box_emulator::Grant::ClientCredentials,
        Kind::Jwt => box_emulator::Grant::JwtBearer,
        Kind::Refresh => box_emulator::Grant::RefreshToken,
    }
}

fn client(emulator: &Emulator, tokens: Arc<dyn TokenProvider>) -> Client {
    let retry = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    Client::new(
        Config::new(tokens)
            .base_url(&servers::UPLOAD, emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, emulator.upload_url())
            .retry(retry),
    )
    .unwrap()
}

fn uploader(client: Client) -> Uploader {
    // In parts whatever the size: the tests hold each part to make uploads last.
    Uploader::new(client)
        .min_file_size(1)
        .direct_upload_threshold(0)
        .concurrency(2)
        .retry_pause(Duration::from_millis(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_spanning_several_token_lifetimes_succeed_with_each_grant() {
    for kind in [Kind::ClientCredentials, Kind::Jwt, Kind::Refresh] {
        let ttl = Duration::from_secs(2);
        let emulator = emulator(ttl).await;
        // Each part is held 300 ms by the emulator: 24 parts two at a time span about
        // 3.6 s of parts, two token lifetimes, plus the session and the commit.
        emulator.faults().add(
            FaultRule::new(
                Op::UploadPart,
                FaultAction::Delay(Duration::from_millis(300)),
            )
            .probability(1.0),
        );
        let source = SourceFile::new(24 * MIB, 3);
        let started = Instant::now();
        let file = uploader(client(&emulator, provider(kind, &emulator)))
            .upload_path(source.path(), "0", "long.bin")
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let took = started.elapsed();
        assert_eq!(file.sha1.as_deref(), Some(source.sha1.as_str()), "{kind:?}");

        let stats = emulator.stats();
        let grants = stats.grants(emulator_grant(kind));
        // Refreshed a tenth of the lifetime ahead: one grant per 1.8 s, plus the first.
        let lifetimes = (took.as_secs_f64() / (ttl.as_secs_f64() * 0.9)).ceil() as u64;
        eprintln!("{kind:?}: {grants} grants in {took:?}");
        assert!(
            took > ttl,
            "{kind:?}: the upload outlived a token ({took:?})"
        );
        assert!(
            (3..=lifetimes + 1).contains(&grants),
            "{kind:?}: {grants} grants in {took:?}"
        );
        assert_eq!(stats.all_grants(), grants, "{kind:?}: only this grant");
        assert_eq!(
            stats.expired_tokens, 0,
            "{kind:?}: no request with an expired token"
        );
        assert_eq!(stats.unauthorized, 0, "{kind:?}: no part refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_stops_working_mid_upload_is_renewed_once_and_the_upload_finishes() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    emulator.faults().add(
        FaultRule::new(
            Op::UploadPart,
            FaultAction::Delay(Duration::from_millis(50)),
        )
        .probability(1.0),
    );
    let source = SourceFile::new(6 * MIB, 4);
    let expired = Arc::new(AtomicBool::new(false));
    let uploader = {
        let (emulator, expired) = (Arc::clone(&emulator), Arc::clone(&expired));
        uploader(client(
            &emulator,
            provider(Kind::ClientCredentials, &emulator),
        ))
        .on_progress(move |progress| {
            // After the second part: every token the emulator issued stops working.
            if progress.uploaded_parts >= 2 && !expired.swap(true, Ordering::SeqCst) {
                emulator.expire_access_tokens();
            }
        })
    };
    let file = uploader
        .upload_path(source.path(), "0", "renewed.bin")
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(source.sha1.as_str()));
    assert!(expired.load(Ordering::SeqCst));
    let stats = emulator.stats();
    assert_eq!(
        stats.grants(box_emulator::Grant::ClientCredentials),
        2,
        "one new grant"
    );
    assert!(
        stats.expired_tokens >= 1,
        "a request carried the expired token"
    );
    assert_eq!(
        stats.unauthorized, stats.expired_tokens,
        "every refused request was one with the expired token, each sent again"
    );
}

#[tokio::test]
async fn a_wrong_secret_a_key_that_does_not_match_and_an_expired_assertion_are_named() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    let endpoint = TokenEndpoint::new(&emulator.oauth_url()).unwrap();
    let source = SourceFile::new(MIB + 1, 5);
    let upload = |tokens: Arc<dyn TokenProvider>| {
        let client = client(&emulator, tokens);
        let path = source.path().to_owned();
        async move {
            uploader(client)
                .upload_path(&path, "0", "x.bin")
                .await
                .unwrap_err()
                .to_string()
        }
    };

    let wrong = ClientCredentials::new(
        endpoint.clone(),
        CLIENT_ID,
        "wrong-secret",
        Subject::Enterprise(ENTERPRISE_ID.into()),
    );
    let error = upload(Arc::new(wrong.into_provider())).await;
    assert!(
        error.contains("client-credentials grant was refused") && error.contains("invalid_client"),
        "{error}"
    );
    assert!(!error.contains("wrong-secret"), "{error}");

    // The fixtures' config with the other key: its signature does not verify.
    let mut config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(emulator_fixture("test-only-box-config.json")).unwrap(),
    )
    .unwrap();
    config["boxAppSettings"]["appAuth"]["privateKey"] =
        std::fs::read_to_string(emulator_fixture("test-only-other-key.pem"))
            .unwrap()
            .into();
    config["boxAppSettings"]["appAuth"]["passphrase"] = "".into();
    let other = JwtAppConfig::from_json(&config.to_string(), "other key").unwrap();
    let grant = JwtGrant::new(endpoint.clone(), &other, None).unwrap();
    let error = upload(Arc::new(grant.into_provider())).await;
    assert!(
        error.contains("JWT grant was refused") && error.contains("invalid_grant"),
        "{error}"
    );

    // A clock five minutes behind: the assertion has expired when it arrives.
    let app = JwtAppConfig::from_file(&emulator_fixture("test-only-box-config.json")).unwrap();
    let grant = JwtGrant::new(endpoint, &app, None)
        .unwrap()
        .clock(|| SystemTime::now() - Duration::from_secs(300));
    let error = upload(Arc::new(grant.into_provider())).await;
    assert!(
        error.contains("JWT grant was refused") && error.contains("expired"),
        "{error}"
    );

    let stats = emulator.stats();
    assert_eq!(
        stats.grants_refused, 3,
        "each refused once, never asked again"
    );
    assert_eq!(stats.requests(Op::Any), 0, "no API call without a token");
}
