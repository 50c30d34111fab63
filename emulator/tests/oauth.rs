//! The token endpoint against raw HTTP: each grant, each refusal with its `OAuth2Error`,
//! refresh-token rotation, revocation, and what the API answers to tokens that expired.

mod common;
#[path = "common/oauth.rs"]
mod oauth;

use std::time::Duration;

use box_emulator::{EmulatorConfig, FaultAction, FaultRule, Grant, OAuthClient, Op};
use common::*;
use oauth::*;
use reqwest::Method;
use serde_json::json;

/// `GET /2.0/folders/0` with `token`.
async fn get_root(emulator: &box_emulator::Emulator, token: &str) -> Answer {
    let api = Api {
        token: token.to_string(),
        ..Api::new(emulator)
    };
    api.get("/folders/0").await
}

fn challenge(answer: &Answer) -> &str {
    answer.header("www-authenticate").expect("a challenge")
}

#[tokio::test]
async fn client_credentials_grant_a_token_that_opens_the_api() {
    let emulator = start(oauth_config()).await;
    for (kind, id) in [("enterprise", ENTERPRISE_ID), ("user", "33333")] {
        let answer = grant(
            &emulator,
            &[
                ("grant_type", "client_credentials"),
                ("box_subject_type", kind),
                ("box_subject_id", id),
            ],
        )
        .await;
        let body = answer.ok(200);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        let token = token_of(&body);
        assert_eq!(token.len(), 32, "{body}");
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["restricted_to"], json!([]));
        assert!(
            body.get("refresh_token").is_none(),
            "CCG gives none: {body}"
        );
        get_root(&emulator, &token).await.ok(200);
    }
    // Token checking is on: a token the emulator did not issue is refused.
    let answer = get_root(&emulator, TOKEN).await;
    answer.error(401, "unauthorized");
    assert_eq!(
        challenge(&answer),
        r#"Bearer realm="Service", error="invalid_token", error_description="the access token is not valid""#
    );
    let stats = emulator.stats();
    assert_eq!(stats.grants(Grant::ClientCredentials), 2);
    assert_eq!(stats.all_grants(), 2);
    assert_eq!(stats.requests(Op::Token), 2);
    assert_eq!((stats.unauthorized, stats.expired_tokens), (1, 0));
}

#[tokio::test]
async fn wrong_token_requests_get_an_oauth2_error_that_says_what_is_wrong() {
    let emulator = start(oauth_config()).await;
    let ccg = CCG_ENTERPRISE;
    let with = |client_id: &'static str, secret: &'static str| {
        let mut form = vec![("client_id", client_id), ("client_secret", secret)];
        form.extend_from_slice(&ccg);
        form
    };
    // (form, error, what the description names)
    type Case = (
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (with(CLIENT_ID, "wrong"), "invalid_client", "secret"),
        (with("nobody", CLIENT_SECRET), "invalid_client", "nobody"),
        (with(CLIENT_ID, ""), "invalid_request", "client_secret"),
        (ccg[1..].to_vec(), "invalid_request", "grant_type"),
        (
            vec![("grant_type", "password")],
            "unsupported_grant_type",
            "password",
        ),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            "unsupported_grant_type",
            "authorization_code",
        ),
    ];
    for (form, error, says) in cases {
        let description = oauth_error(&post_form(&emulator, "/oauth2/token", &form).await, error);
        assert!(description.contains(says), "{form:?}: {description}");
    }
    for (fields, error, says) in [
        (
            vec![("box_subject_type", "enterprise")],
            "invalid_request",
            "box_subject_id is missing",
        ),
        (
            vec![("box_subject_type", "group"), ("box_subject_id", "1")],
            "invalid_request",
            "enterprise or user",
        ),
        (
            vec![("box_subject_type", "user"), ("box_subject_id", "me")],
            "invalid_grant",
            "\"me\"",
        ),
    ] {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(fields);
        let description = oauth_error(&grant(&emulator, &form).await, error);
        assert!(description.contains(says), "{description}");
    }
    // Not a form.
    let answer = Answer::read(
        client()
            .post(format!("{}/oauth2/token", emulator.oauth_url()))
            .header("content-type", "application/json")
            .body(json!({"grant_type": "client_credentials"}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let description = oauth_error(&answer, "invalid_request");
    assert!(
        description.contains("application/x-www-form-urlencoded"),
        "{description}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.all_grants(), 0);
    assert_eq!(stats.grants_refused, 10);
}

#[tokio::test]
async fn jwt_grant_verifies_the_signature_and_each_claim() {
    let emulator = &start(oauth_config()).await;
    let jwt = |assertion: String| async move {
        grant(
            emulator,
            &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
        )
        .await
    };
    let token = token_of(&jwt(assertion(&claims())).await.ok(200));
    get_root(emulator, &token).await.ok(200);
    // The emulator's own token URL is an audience too, and `kid` may be left out.
    let mut own = claims();
    own.insert(
        "aud".into(),
        json!(format!("{}/oauth2/token", emulator.oauth_url())),
    );
    jwt(sign(&own, "test-only-jwt-key.pem", None)).await.ok(200);

    let replayed = claims();
    jwt(assertion(&replayed)).await.ok(200);
    let mut cases = vec![(assertion(&replayed), "used already")];
    cases.push((
        sign(&claims(), "test-only-other-key.pem", Some(KEY_ID)),
        "signature does not match",
    ));
    cases.push((
        sign(&claims(), "test-only-jwt-key.pem", Some("another-key")),
        "kid",
    ));
    let changed = |name: &str, value: serde_json::Value| {
        let mut claims = claims();
        claims.insert(name.into(), value);
        assertion(&claims)
    };
    cases.push((changed("exp", json!(now() - 5)), "has expired"));
    cases.push((changed("exp", json!(now() + 120)), "at most 60 s"));
    cases.push((
        changed("aud", json!("https://example.com/oauth2/token")),
        "aud",
    ));
    cases.push((changed("iss", json!("someone-else")), "iss"));
    cases.push((changed("box_sub_type", json!("group")), "box_sub_type"));
    cases.push((changed("jti", json!("short")), "16 to 128"));
    cases.push((changed("nbf", json!(now() + 30)), "not valid yet"));
    let mut no_sub = claims();
    no_sub.remove("sub");
    cases.push((assertion(&no_sub), "no sub"));
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    cases.push((hmac, "HS256"));
    cases.push(("not.a-jwt".to_string(), "not a JWT"));
    let refused = cases.len() as u64;
    for (assertion, says) in cases {
        let description = oauth_error(&jwt(assertion).await, "invalid_grant");
        assert!(description.contains(says), "{says}: {description}");
    }
    let description = oauth_error(
        &grant(emulator, &[("grant_type", JWT_BEARER)]).await,
        "invalid_request",
    );
    assert!(description.contains("assertion"), "{description}");
    let stats = emulator.stats();
    assert_eq!(stats.grants(Grant::JwtBearer), 3);
    assert_eq!(stats.grants_refused, refused + 1);
}

#[tokio::test]
async fn jwt_grant_without_a_public_key_is_unauthorized_client() {
    let emulator = start(EmulatorConfig {
        jwt_public_key: None,
        ..oauth_config()
    })
    .await;
    let answer = grant(
        &emulator,
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &assertion(&claims())),
        ],
    )
    .await;
    let description = oauth_error(&answer, "unauthorized_client");
    assert!(description.contains("public key"), "{description}");
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let emulator = &start(EmulatorConfig {
        clients: vec![
            OAuthClient::new(CLIENT_ID, CLIENT_SECRET),
            OAuthClient::new("other-app", "other-secret"),
        ],
        ..oauth_config()
    })
    .await;
    let refresh = |token: String| async move {
        grant(
            emulator,
            &[("grant_type", "refresh_token"), ("refresh_token", &token)],
        )
        .await
    };
    let seed = emulator.issue_refresh_token(CLIENT_ID);
    let first = refresh(seed.clone()).await.ok(200);
    assert_eq!(first["token_type"], "bearer");
    let next = first["refresh_token"]
        .as_str()
        .expect("a new refresh token");
    assert_ne!(next, seed);
    assert_eq!(next.len(), 64);
    get_root(emulator, &token_of(&first)).await.ok(200);

    let description = oauth_error(&refresh(seed).await, "invalid_grant");
    assert!(description.contains("used already"), "{description}");
    let second = refresh(next.to_string()).await.ok(200);
    let description = oauth_error(&refresh(next.to_string()).await, "invalid_grant");
    assert!(description.contains("used already"), "{description}");
    // The old access token lives on until it expires.
    get_root(emulator, &token_of(&first)).await.ok(200);

    let theirs = second["refresh_token"].as_str().unwrap();
    let answer = post_form(
        emulator,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "other-app"),
            ("client_secret", "other-secret"),
            ("refresh_token", theirs),
        ],
    )
    .await;
    let description = oauth_error(&answer, "invalid_grant");
    assert!(description.contains("another client"), "{description}");
    let description = oauth_error(&refresh("made-up".into()).await, "invalid_grant");
    assert!(description.contains("not valid"), "{description}");
    let description = oauth_error(
        &grant(emulator, &[("grant_type", "refresh_token")]).await,
        "invalid_request",
    );
    assert!(description.contains("refresh_token"), "{description}");
    // Refused by another client, it is still good for its own.
    refresh(theirs.to_string()).await.ok(200);
    assert_eq!(emulator.stats().grants(Grant::RefreshToken), 3);
}

#[tokio::test]
async fn revoking_ends_a_token_and_the_one_issued_with_it() {
    let emulator = start(oauth_config()).await;
    let answer = grant(
        &emulator,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &emulator.issue_refresh_token(CLIENT_ID)),
        ],
    )
    .await;
    let body = answer.ok(200);
    let (access, refresh) = (token_of(&body), body["refresh_token"].as_str().unwrap());
    let revoke = |token: String, secret: &'static str| {
        let emulator = &emulator;
        async move {
            post_form(
                emulator,
                "/oauth2/revoke",
                &[
                    ("client_id", CLIENT_ID),
                    ("client_secret", secret),
                    ("token", &token),
                ],
            )
            .await
        }
    };
    oauth_error(&revoke(access.clone(), "wrong").await, "invalid_client");
    let answer = revoke(access.clone(), CLIENT_SECRET).await;
    assert_eq!(answer.status.as_u16(), 200);
    assert!(answer.body.is_empty());
    let refused = get_root(&emulator, &access).await;
    refused.error(401, "unauthorized");
    assert!(
        challenge(&refused).contains(r#"error_description="the access token has been revoked""#),
        "{}",
        challenge(&refused)
    );
    let answer = grant(
        &emulator,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert!(oauth_error(&answer, "invalid_grant").contains("revoked"));
    // An unknown token is not an error (RFC 7009); a missing one is.
    assert_eq!(revoke("unknown".into(), CLIENT_SECRET).await.status, 200);
    let answer = post_form(
        &emulator,
        "/oauth2/revoke",
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
    )
    .await;
    assert!(oauth_error(&answer, "invalid_request").contains("token"));
    let stats = emulator.stats();
    assert_eq!((stats.revocations, stats.requests(Op::Revoke)), (2, 4));
}

#[tokio::test]
async fn an_expired_access_token_gets_401_with_boxs_challenge() {
    let emulator = start(oauth_config()).await;
    let token = ccg_token(&emulator).await;
    get_root(&emulator, &token).await.ok(200);
    emulator.expire_access_tokens();
    let answer = get_root(&emulator, &token).await;
    answer.error(401, "unauthorized");
    assert_eq!(
        challenge(&answer),
        r#"Bearer realm="Service", error="invalid_token", error_description="the access token has expired""#
    );
    // A new grant opens the API again.
    get_root(&emulator, &ccg_token(&emulator).await)
        .await
        .ok(200);
    let stats = emulator.stats();
    assert_eq!((stats.unauthorized, stats.expired_tokens), (1, 1));
    assert_eq!(stats.grants(Grant::ClientCredentials), 2);
}

#[tokio::test]
async fn access_tokens_live_for_the_token_ttl() {
    let emulator = start(EmulatorConfig {
        token_ttl: Duration::from_millis(1500),
        ..oauth_config()
    })
    .await;
    let body = grant(&emulator, &CCG_ENTERPRISE).await.ok(200);
    assert_eq!(body["expires_in"], 1, "whole seconds, rounded down");
    let token = token_of(&body);
    get_root(&emulator, &token).await.ok(200);
    // Expiry is no event to wait for: sleep past it.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let answer = get_root(&emulator, &token).await;
    answer.error(401, "unauthorized");
    assert!(challenge(&answer).contains("expired"));
    assert_eq!(emulator.stats().expired_tokens, 1);
}

#[tokio::test]
async fn without_clients_any_token_goes_and_the_endpoint_names_the_flag() {
    let emulator = start(EmulatorConfig {
        token: None,
        ..small_config()
    })
    .await;
    get_root(&emulator, "anything").await.ok(200);
    let answer = grant(&emulator, &[("grant_type", "client_credentials")]).await;
    let description = oauth_error(&answer, "invalid_client");
    assert!(description.contains("--client"), "{description}");

    // With clients, the developer token still goes.
    let both = start(EmulatorConfig {
        token: Some(TOKEN.into()),
        ..oauth_config()
    })
    .await;
    get_root(&both, TOKEN).await.ok(200);
    get_root(&both, &ccg_token(&both).await).await.ok(200);
    get_root(&both, "anything").await.error(401, "unauthorized");
}

#[tokio::test]
async fn the_token_endpoint_is_faulted_by_name_only() {
    let emulator = start(oauth_config()).await;
    emulator
        .faults()
        .add(FaultRule::new(Op::Any, FaultAction::status(500)).probability(1.0));
    let token = ccg_token(&emulator).await;
    emulator.faults().add(FaultRule::new(
        Op::Token,
        FaultAction::status(503).retry_after(2),
    ));
    let answer = grant(&emulator, &[("grant_type", "client_credentials")]).await;
    answer.error(503, "unavailable");
    assert_eq!(answer.header("retry-after"), Some("2"));
    let api = Api {
        token,
        ..Api::new(&emulator)
    };
    api.send(api.request(Method::GET, &format!("{}/folders/0", api.api)))
        .await
        .error(500, "internal_server_error");
    let stats = emulator.stats();
    assert_eq!(stats.requests(Op::Token), 2);
    assert_eq!(
        stats.requests(Op::Any),
        1,
        "the token endpoint is not an API call"
    );
}

/// Runs `box-emulator` with `args`; returns the child and the stdout lines it printed at
/// start (`count` of them).
fn spawn_binary(args: &[&str], count: usize) -> (std::process::Child, Vec<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_box-emulator"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let lines = std::io::BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(count)
        .map(|line| line.expect("a line"))
        .collect();
    (child, lines)
}

#[tokio::test]
async fn the_binary_prints_the_token_root_and_a_refresh_token() {
    let key = fixture("test-only-jwt-key.pub.pem");
    let (mut child, lines) = spawn_binary(
        &[
            "--client",
            "cli-app:cli-secret",
            "--jwt-public-key",
            key.to_str().unwrap(),
            "--token-ttl",
            "120",
            "--refresh-token",
            "cli-app",
        ],
        4,
    );
    let api = lines[0].strip_prefix("api ").expect("api line");
    let oauth = lines[2].strip_prefix("oauth ").expect("oauth line");
    assert_eq!(format!("{oauth}/2.0"), api);
    let seed = lines[3]
        .strip_prefix("refresh-token cli-app ")
        .expect("refresh-token line");
    let form = serde_urlencoded::to_string([
        ("grant_type", "refresh_token"),
        ("client_id", "cli-app"),
        ("client_secret", "cli-secret"),
        ("refresh_token", seed),
    ])
    .unwrap();
    let token_url = format!("{oauth}/oauth2/token");
    let granted = Answer::read(
        client()
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let body = granted.ok(200);
    assert_eq!(body["expires_in"], 120);
    let folder = client()
        .get(format!("{api}/folders/0"))
        .bearer_auth(token_of(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(folder.status().as_u16(), 200);
    let other = client()
        .get(format!("{api}/folders/0"))
        .bearer_auth("not-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 401);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_binary_refuses_bad_oauth_options_with_a_clear_message() {
    let private = fixture("test-only-jwt-key.pem");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--client", "a:b", "--refresh-token", "nobody"],
            "--refresh-token nobody: no --client has that id",
        ),
        (
            &[
                "--client",
                "a:b",
                "--jwt-public-key",
                private.to_str().unwrap(),
            ],
            "not an RSA public key",
        ),
        (&["--client", "no-secret"], "CLIENT_ID:CLIENT_SECRET"),
    ];
    for (args, says) in cases {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_box-emulator"))
            .args(args)
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
