//! The runtime against servers that misbehave on purpose, and against configurations at
//! the edges: nothing a server sends reaches a terminal raw, no secret of a URL shows, no
//! duration panics.

mod support;

use std::time::{Duration, SystemTime};

use oas_runtime::{Client, Config, Error, Method, Request, RetryPolicy};
use support::{API, Canned, GET_ITEM, PUT_PART, fast_retries, serve};

async fn api_error(base: &str, retry: RetryPolicy) -> Error<serde_json::Value> {
    let client = Client::new(Config::bearer("t").base_url(&API, base).retry(retry)).unwrap();
    let url = client.endpoint(&GET_ITEM, "/items/1").unwrap();
    client
        .execute(&GET_ITEM, Request::new(Method::GET, url))
        .await
        .expect("an answer")
        .into_error()
}

#[tokio::test]
async fn retry_after_is_read_leniently() {
    let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
    let (_mock, base) = serve(vec![
        Canned::new(503, "").header("retry-after", "1.5"),
        Canned::new(429, "").header("Retry-After", "99999999999999999999999"),
        Canned::new(503, "").header("retry-after", in_a_minute),
        Canned::new(503, "").header("retry-after", "-3"),
    ])
    .await;
    let asked = async || {
        api_error(&base, RetryPolicy::none())
            .await
            .api()
            .unwrap()
            .retry_after
    };
    assert_eq!(asked().await, Some(Duration::from_millis(1500)));
    assert_eq!(asked().await, Some(Duration::MAX), "huge numbers saturate");
    let date = asked().await.expect("an HTTP date");
    assert!(
        date > Duration::from_secs(55) && date <= Duration::from_secs(60),
        "{date:?}"
    );
    assert_eq!(asked().await, None);
}

/// A character a terminal would act on, or one that reorders the text around it.
fn is_hostile(c: char) -> bool {
    c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)
}

#[tokio::test]
async fn server_text_in_errors_is_escaped_and_bounded() {
    let raw = format!(
        "\x1b]0;pwned\x07 \u{202e}txt.exe\x1b[2J{}",
        "x".repeat(100_000)
    );
    // A JSON body may name the request; its id, decoded, holds an escape character.
    let json = format!(r#"{{"request_id": "\u001b[2J{}"}}"#, "r".repeat(100_000));
    let (_mock, base) = serve(vec![Canned::new(500, raw), Canned::new(500, json)]).await;
    for expected in [
        r"\u{1b}]0;pwned\u{7} \u{202e}txt.exe\u{1b}[2Jxxx",
        r"(request id \u{1b}[2Jrrr",
    ] {
        let error = api_error(&base, RetryPolicy::none()).await;
        let message = error.to_string();
        assert!(!message.chars().any(is_hostile), "{message:?}");
        assert!(message.contains(expected), "{message}");
        assert!(message.len() < 600, "{} bytes", message.len());
        let debug = format!("{error:?}");
        assert!(!debug.chars().any(is_hostile), "{debug:?}");
        assert!(debug.len() < 3000, "{} bytes", debug.len());
    }
}

#[test]
fn credentials_in_base_urls_never_show() {
    for url in [
        "https://user:s3cret@example.com/",
        "https://example.com/?token=s3cret",
        "https://example.com/#s3cret",
    ] {
        let error = Client::new(Config::bearer("t").base_url(&API, url)).unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("example.com"), "{message}");
    }
    let config = Config::bearer("t").base_url(&API, "https://user:s3cret@example.com/?k=s3cret");
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(debug.contains("https://***@example.com/"), "{debug}");

    // A server variable that makes a URL with credentials is refused without showing them.
    let client = Client::new(Config::bearer("t").server_variable("host", "u:s3cret@example.com"))
        .expect("a client");
    let error = client.endpoint(&GET_ITEM, "/items/1").unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
    assert!(error.to_string().contains("credentials"), "{error}");
}

#[tokio::test]
async fn durations_too_long_for_the_clock_do_not_panic() {
    let (mock, base) = serve(vec![
        Canned::new(503, "").header("retry-after", "0"),
        Canned::new(200, "ok"),
    ])
    .await;
    let forever = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::MAX,
        max_backoff: Duration::MAX,
        max_elapsed: Duration::MAX,
        max_retry_after: Duration::MAX,
    };
    let config = Config::bearer("t")
        .base_url(&API, &base)
        .retry(forever)
        .connect_timeout(Duration::MAX)
        .read_timeout(Some(Duration::MAX))
        .request_timeout(Some(Duration::MAX));
    let client = Client::new(config).expect("a client");
    let url = client.endpoint(&GET_ITEM, "/items/1").unwrap();
    let response = client
        .execute(&GET_ITEM, Request::new(Method::GET, url))
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn wildcards_never_match_ip_addresses() {
    for pattern in ["*.0.0.1", "1*.0.0.1", "*.168.1.1"] {
        let config = Config::bearer("t").trust_host(pattern);
        match Client::new(config) {
            Err(error) => assert!(error.to_string().contains(pattern), "{error}"),
            Ok(client) => {
                for url in [
                    "https://127.0.0.1/x",
                    "https://10.0.0.1/x",
                    "https://192.168.1.1/x",
                ] {
                    assert!(
                        client.endpoint_at(&PUT_PART, url).is_err(),
                        "{pattern} trusts {url}"
                    );
                }
            }
        }
    }
    // A wildcard still matches names.
    let client = Client::new(Config::bearer("t").trust_host("*.example.com")).unwrap();
    assert!(
        client
            .endpoint_at(&PUT_PART, "https://a.example.com/x")
            .is_ok()
    );
}

#[tokio::test]
async fn a_wait_within_the_cap_is_kept_and_a_longer_one_is_refused_by_name() {
    let policy = fast_retries(3);
    assert_eq!(
        policy.retry_after_wait(Duration::from_secs(2)).unwrap(),
        Duration::from_secs(2)
    );
    let error = policy.retry_after_wait(Duration::MAX).unwrap_err();
    assert_eq!(error.asked(), Duration::MAX);
    assert_eq!(error.limit(), policy.max_retry_after);
    let message = error.to_string();
    assert!(message.contains("max_retry_after"), "{message}");
    assert!(message.contains("5s"), "{message}");
}
