//! Tokens that expire: the [`TokenCache`] (refresh ahead, single flight, invalidation,
//! failures that do not loop) on a paused clock, and the client's handling of a `401
//! invalid_token`, of operations that need no token, and of default headers.

mod support;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use oas_runtime::{
    AccessToken, AuthError, Body, Client, Config, Grant, GrantedToken, Method, NoToken, Operation,
    Request, SendError, StatusCode, TokenCache, TokenProvider,
};
use support::{API, CREATE_ITEM, Canned, GET_ITEM, PUT_PART, fast_retries, serve};
use tokio::time::advance;

/// What the next fetch of a [`Counting`] grant does.
enum Step {
    /// A token `token-N` (N counts fetches from 1) valid this long.
    Grant(Option<Duration>),
    Fail {
        retryable: bool,
    },
}

/// A grant that counts its fetches and takes `delay` (on the test's clock) for each.
#[derive(Clone)]
struct Counting {
    fetches: Arc<AtomicUsize>,
    script: Arc<Mutex<VecDeque<Step>>>,
    /// What a fetch does once the script is done.
    then: Option<Duration>,
    delay: Duration,
}

impl Counting {
    fn new(lifetime: Option<Duration>) -> Counting {
        Counting {
            fetches: Arc::default(),
            script: Arc::default(),
            then: lifetime,
            delay: Duration::from_millis(10),
        }
    }

    fn script(self, steps: Vec<Step>) -> Counting {
        *self.script.lock().unwrap() = steps.into();
        self
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Grant for Counting {
    fn name(&self) -> &str {
        "counting grant"
    }

    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
        Box::pin(async move {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            let step = self.script.lock().unwrap().pop_front();
            match step.unwrap_or(Step::Grant(self.then)) {
                Step::Grant(lifetime) => Ok(GrantedToken::new(
                    AccessToken::new(format!("token-{n}")),
                    lifetime,
                )),
                Step::Fail { retryable: true } => {
                    Err(AuthError::new("counting grant: the server answered 503").retryable())
                }
                Step::Fail { retryable: false } => Err(AuthError::new(
                    "counting grant: the server refused the grant (invalid_client)",
                )),
            }
        })
    }
}

async fn token(cache: &TokenCache<Counting>) -> String {
    cache.token().await.unwrap().expose_secret().to_owned()
}

/// Lets spawned refreshes run to their end (their only wait is the grant's delay).
async fn settle() {
    advance(Duration::from_millis(20)).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

/// The tokens `n` concurrent callers get.
async fn concurrent_tokens(cache: &Arc<TokenCache<Counting>>, n: usize) -> Vec<String> {
    let callers: Vec<_> = (0..n)
        .map(|_| {
            let cache = Arc::clone(cache);
            tokio::spawn(async move { token(&cache).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(caller.await.unwrap());
    }
    tokens
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(start_paused = true)]
async fn many_concurrent_callers_cause_one_grant() {
    let grant = Counting::new(Some(HOUR));
    let cache = Arc::new(TokenCache::new(grant.clone()));
    assert_eq!(concurrent_tokens(&cache, 16).await, vec!["token-1"; 16]);
    assert_eq!(grant.fetches(), 1);
    // And later callers get the cached token without asking again.
    assert_eq!(token(&cache).await, "token-1");
    assert_eq!(grant.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_token_is_refreshed_ahead_of_its_expiry_by_one_caller() {
    // A 100 s token is refreshed 10 s ahead (a tenth); an hour's token 60 s ahead.
    for (lifetime, ahead) in [
        (Duration::from_secs(100), Duration::from_secs(10)),
        (HOUR, Duration::from_secs(60)),
    ] {
        let grant = Counting::new(Some(lifetime));
        let cache = Arc::new(TokenCache::new(grant.clone()));
        assert_eq!(token(&cache).await, "token-1");
        // Asked at t0, obtained at t0 + 10 ms: the lifetime counts from the asking.
        advance(lifetime - ahead - Duration::from_millis(20)).await;
        assert_eq!(token(&cache).await, "token-1");
        assert_eq!(grant.fetches(), 1, "still fresh ({lifetime:?})");

        advance(Duration::from_millis(20)).await;
        // Due for a refresh but still valid: the callers keep the old token, and
        // only one refresh starts, whatever their number.
        assert_eq!(concurrent_tokens(&cache, 8).await, vec!["token-1"; 8]);
        settle().await;
        assert_eq!(grant.fetches(), 2);
        assert_eq!(token(&cache).await, "token-2");
    }
}

#[tokio::test(start_paused = true)]
async fn after_expiry_callers_wait_for_the_new_token() {
    let grant = Counting::new(Some(Duration::from_secs(2)));
    let cache = TokenCache::new(grant.clone());
    assert_eq!(token(&cache).await, "token-1");
    advance(Duration::from_secs(5)).await;
    // Expired: never handed out, even while the refresh runs.
    assert_eq!(token(&cache).await, "token-2");
    assert_eq!(grant.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_token_without_lifetime_is_kept_until_refused() {
    let grant = Counting::new(None);
    let cache = TokenCache::new(grant.clone());
    assert_eq!(token(&cache).await, "token-1");
    advance(HOUR * 48).await;
    assert_eq!(token(&cache).await, "token-1");
    assert_eq!(grant.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn invalidate_drops_the_refused_token_only() {
    let grant = Counting::new(Some(HOUR));
    let cache = TokenCache::new(grant.clone());
    let first = cache.token().await.unwrap();
    assert!(
        cache.invalidate(&first),
        "a cache can always give another token"
    );
    assert_eq!(token(&cache).await, "token-2");
    // A late refusal of the old token (a request that was in flight) keeps the new one.
    assert!(cache.invalidate(&first));
    assert_eq!(token(&cache).await, "token-2");
    assert_eq!(grant.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_final_failure_is_returned_to_every_caller_without_asking_again() {
    let grant = Counting::new(Some(HOUR)).script(vec![Step::Fail { retryable: false }]);
    let cache = TokenCache::with_retry(grant.clone(), fast_retries(5));
    for _ in 0..5 {
        let error = cache.token().await.unwrap_err();
        assert!(error.message().contains("counting grant"), "{error}");
        assert!(error.message().contains("invalid_client"), "{error}");
        assert!(!error.is_retryable());
    }
    assert_eq!(grant.fetches(), 1, "a refused grant is never asked again");
    // Nor can a 401 make the client send again: there is no other token.
    assert!(!cache.invalidate(&AccessToken::new("token-0")));
}

#[tokio::test(start_paused = true)]
async fn a_retryable_failure_is_retried_within_the_policy() {
    let grant = Counting::new(Some(HOUR)).script(vec![
        Step::Fail { retryable: true },
        Step::Fail { retryable: true },
    ]);
    let cache = TokenCache::with_retry(grant.clone(), fast_retries(5));
    assert_eq!(token(&cache).await, "token-3");
    assert_eq!(grant.fetches(), 3);

    // Failing more often than the policy allows: the error, after max_attempts.
    let grant =
        Counting::new(Some(HOUR)).script((0..10).map(|_| Step::Fail { retryable: true }).collect());
    let cache = TokenCache::with_retry(grant.clone(), fast_retries(3));
    let error = cache.token().await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(grant.fetches(), 3);
    // A later call (after the quiet time) asks again: the server may be back.
    advance(Duration::from_secs(1)).await;
    assert!(cache.token().await.is_err());
    assert_eq!(grant.fetches(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_does_not_cancel_the_refresh() {
    let mut grant = Counting::new(Some(HOUR));
    grant.delay = Duration::from_secs(5);
    let cache = TokenCache::new(grant.clone());
    let gave_up = tokio::time::timeout(Duration::from_secs(1), cache.token()).await;
    assert!(gave_up.is_err(), "the caller's timeout fired first");
    advance(Duration::from_secs(5)).await;
    settle().await;
    // The refresh ended on its own; its token is cached.
    assert_eq!(token(&cache).await, "token-1");
    assert_eq!(grant.fetches(), 1);
}

#[test]
fn the_cache_shows_the_grant_never_a_token() {
    let cache = TokenCache::new(Counting::new(None));
    assert_eq!(
        format!("{cache:?}"),
        r#"TokenCache { grant: "counting grant", .. }"#
    );
}

// ---------------------------------------------------------------- the client

fn refused() -> Canned {
    Canned::new(401, "").header(
        "www-authenticate",
        r#"Bearer realm="Service", error="invalid_token", error_description="expired""#,
    )
}

fn client_with(grant: Counting, base: &str) -> Client {
    let cache = TokenCache::with_retry(grant, fast_retries(3));
    Client::new(
        Config::new(cache)
            .base_url(&API, base)
            .retry(fast_retries(3)),
    )
    .unwrap()
}

async fn send(
    client: &Client,
    op: &'static Operation,
    body: Option<Body>,
) -> Result<oas_runtime::Response, SendError> {
    let path = op.path_template.replace("{item_id}", "1");
    let url = client.endpoint(op, &path).unwrap();
    let mut request = Request::new(op.method.clone(), url);
    if let Some(body) = body {
        request.body(body, "application/octet-stream");
    }
    client.execute(op, request).await
}

fn bearers(mock: &support::Mock) -> Vec<String> {
    mock.requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("-").to_owned())
        .collect()
}

#[tokio::test]
async fn a_refused_token_is_refreshed_and_the_request_sent_once_more() {
    // Even a request that is not idempotent: the server did not act on it.
    let (mock, base) = serve(vec![refused()]).await;
    let grant = Counting::new(Some(HOUR));
    let client = client_with(grant.clone(), &base);
    let response = send(
        &client,
        &CREATE_ITEM,
        Some(Body::from(Bytes::from_static(b"abc"))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(bearers(&mock), ["Bearer token-1", "Bearer token-2"]);
    assert_eq!(mock.requests()[1].body, Bytes::from_static(b"abc"));
    assert_eq!(grant.fetches(), 2);
}

#[tokio::test]
async fn a_second_refusal_is_returned_not_retried() {
    let (mock, base) = serve(vec![refused(), refused(), refused()]).await;
    let grant = Counting::new(Some(HOUR));
    let client = client_with(grant.clone(), &base);
    let response = send(&client, &GET_ITEM, None).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bearers(&mock), ["Bearer token-1", "Bearer token-2"]);
}

#[tokio::test]
async fn other_401s_and_unreplayable_bodies_are_returned_as_they_are() {
    let other = [
        Canned::new(401, ""),
        Canned::new(401, "").header("www-authenticate", r#"Bearer error="insufficient_scope""#),
        Canned::new(401, "").header("www-authenticate", r#"Basic error="invalid_token""#),
    ];
    for canned in other {
        let (mock, base) = serve(vec![canned]).await;
        let client = client_with(Counting::new(Some(HOUR)), &base);
        let response = send(&client, &GET_ITEM, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(mock.requests().len(), 1);
    }

    let (mock, base) = serve(vec![refused()]).await;
    let grant = Counting::new(Some(HOUR));
    let client = client_with(grant.clone(), &base);
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"abc"))]);
    let response = send(&client, &PUT_PART, Some(Body::from_stream(stream, Some(3))))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        mock.requests().len(),
        1,
        "a streamed body cannot be sent twice"
    );
    // The refused token is dropped all the same: the next request gets a new one.
    send(&client, &GET_ITEM, None).await.unwrap();
    assert_eq!(bearers(&mock), ["Bearer token-1", "Bearer token-2"]);
}

#[tokio::test]
async fn a_fixed_token_that_is_refused_is_not_sent_again() {
    let (mock, base) = serve(vec![refused()]).await;
    let client = Client::new(Config::bearer("fixed").base_url(&API, &base)).unwrap();
    let response = send(&client, &GET_ITEM, None).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(mock.requests().len(), 1);
}

static TOKEN_OP: Operation = Operation {
    id: "request_token",
    method: Method::POST,
    path_template: "/token",
    server: &API,
    idempotent: false,
    auth: false,
};

#[tokio::test]
async fn an_operation_without_security_never_asks_for_nor_sends_a_token() {
    let (mock, base) = serve(vec![]).await;
    let client = Client::new(Config::new(NoToken).base_url(&API, &base)).unwrap();
    send(&client, &TOKEN_OP, None).await.unwrap();
    assert_eq!(mock.requests()[0].header("authorization"), None);
    // The same client refuses an operation that needs a token, without sending it.
    let error = send(&client, &GET_ITEM, None).await.unwrap_err();
    assert!(matches!(error, SendError::Auth(_)), "{error:?}");
    assert!(error.to_string().contains("no access token"), "{error}");
    assert_eq!(mock.requests().len(), 1);

    // With a token provider, it is not asked either.
    let grant = Counting::new(Some(HOUR));
    let client = client_with(grant.clone(), &base);
    send(&client, &TOKEN_OP, None).await.unwrap();
    assert_eq!(mock.requests()[1].header("authorization"), None);
    assert_eq!(grant.fetches(), 0);
}

#[tokio::test]
async fn default_headers_go_with_every_request_unless_it_sets_them() {
    let (mock, base) = serve(vec![]).await;
    let config = Config::bearer("t")
        .base_url(&API, &base)
        .default_header("As-User", "1")
        .default_header("as-user", "42")
        .default_header("x-team", "blue");
    let client = Client::new(config).unwrap();
    send(&client, &GET_ITEM, None).await.unwrap();
    let url = client.endpoint(&GET_ITEM, "/items/1").unwrap();
    let mut request = Request::new(Method::GET, url);
    request.header("x-team", "red").unwrap();
    client.execute(&GET_ITEM, request).await.unwrap();
    let requests = mock.requests();
    assert_eq!(
        requests[0].header("as-user"),
        Some("42"),
        "the later value wins"
    );
    assert_eq!(requests[0].header("x-team"), Some("blue"));
    assert_eq!(requests[1].header("x-team"), Some("red"));
    assert_eq!(requests[1].headers.get_all("x-team").iter().count(), 1);

    for (name, value, needle) in [
        ("Authorization", "Bearer x", "sets itself"),
        ("bad name", "1", "not a valid header name"),
        ("as-user", "1\n2", "not a valid header value"),
    ] {
        let config = Config::bearer("t").default_header(name, value);
        let error = Client::new(config).unwrap_err().to_string();
        assert!(error.contains(needle), "{error}");
        assert!(
            !error.contains(value) || value == "1",
            "the value is not shown: {error}"
        );
    }
}
