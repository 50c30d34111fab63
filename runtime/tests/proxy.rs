//! Proxies from the environment: requests to loopback never go through one (a plain-http
//! proxy would see the bearer token in clear), requests elsewhere still do.
//!
//! Alone in its test binary: it sets `HTTP_PROXY` for the whole process.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use oas_runtime::{Client, Config, Method, Request, RetryPolicy};
use support::{API, GET_ITEM, serve};

/// What the proxy saw: each request line, and whether it carried a token.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// A proxy that records what it sees and answers `200 proxied` to each request.
fn fake_proxy() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut first, mut token, mut line) = (String::new(), false, String::new());
            reader.read_line(&mut first).unwrap_or_default();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                token |= line.to_ascii_lowercase().starts_with("authorization:");
                line.clear();
            }
            log.lock().unwrap().push((first.trim().to_string(), token));
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nproxied");
        }
    });
    (url, seen)
}

#[test]
fn loopback_never_goes_through_a_proxy() {
    let (proxy, seen) = fake_proxy();
    // SAFETY: the only test of this binary sets these before it starts any thread that
    // reads the environment.
    unsafe {
        for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::set_var(name, &proxy);
        }
        for name in ["NO_PROXY", "no_proxy"] {
            std::env::remove_var(name);
        }
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mock, base) = serve(Vec::new()).await;
        let port = base.rsplit(':').next().unwrap().to_string();
        let get = async |base: &str| {
            let config = Config::bearer("s3cret")
                .base_url(&API, base)
                .retry(RetryPolicy::none());
            let client = Client::new(config).unwrap();
            let url = client.endpoint(&GET_ITEM, "/items/1").unwrap();
            let response = client
                .execute(&GET_ITEM, Request::new(Method::GET, url))
                .await;
            response.map(|r| String::from_utf8_lossy(r.body()).into_owned())
        };
        for direct in [base.clone(), format!("http://localhost:{port}")] {
            assert_eq!(get(&direct).await.unwrap(), "{}", "{direct}");
        }
        assert_eq!(mock.requests().len(), 2, "both reached the server directly");
        assert_eq!(
            seen.lock().unwrap().as_slice(),
            &[] as &[(String, bool)],
            "the proxy saw loopback requests"
        );

        // Elsewhere, the proxy from the environment is used as before.
        assert_eq!(
            get("http://upload.example.invalid").await.unwrap(),
            "proxied"
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].0.starts_with("GET http://upload.example.invalid/"),
            "{seen:?}"
        );
    });
}
