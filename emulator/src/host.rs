//! The `Host` check: a defence against DNS rebinding.
//!
//! A web page on `evil.example` can make its name resolve to 127.0.0.1 and then send requests
//! to the emulator from the user's browser; those requests still say `Host: evil.example`.
//! So a request is served only when its host (the `Host` header, or the authority of an
//! HTTP/2 request) is `localhost`, a loopback address, the address the emulator listens on
//! (any address, when it listens on all of them), or a configured name. The port is not
//! checked: a page can only reach the emulator through a name, and names are what is
//! checked.

use std::net::IpAddr;

use axum::http::Request;
use axum::http::StatusCode;
use axum::http::header;

use crate::error::ApiError;

/// The names and addresses requests may be addressed to.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    /// The listening addresses (unspecified: every address).
    listen: Vec<IpAddr>,
    /// Lower-case names, without port.
    names: Vec<String>,
}

impl AllowedHosts {
    pub fn new(listen: Vec<IpAddr>, names: impl IntoIterator<Item = String>) -> AllowedHosts {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|name| strip_port(name.trim()).to_ascii_lowercase())
            .collect();
        names.push("localhost".to_string());
        AllowedHosts { listen, names }
    }

    /// Checks the host a request is addressed to.
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), ApiError> {
        let host = request.uri().host().map(str::to_string).or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(|v| strip_port(v.trim()).to_string())
        });
        let Some(host) = host else {
            return Err(ApiError::bad_request(
                "bad_request",
                "the request has no Host header",
            ));
        };
        if self.allows(&host) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected_request",
            format!(
                "Host {host:?} is not a name of this emulator: use 127.0.0.1, [::1], localhost \
                 or the address it listens on, or allow the name with --allow-host"
            ),
        ))
    }

    fn allows(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return ip.is_loopback()
                || self
                    .listen
                    .iter()
                    .any(|listen| listen.is_unspecified() || *listen == ip);
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&name)
    }
}

/// `host:port` → `host`; `[v6]:port` → `[v6]`; a bare IPv6 address is left alone.
fn strip_port(authority: &str) -> &str {
    if let Some(end) = authority.find(']') {
        return &authority[..=end];
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str) -> Request<()> {
        Request::builder()
            .uri("/2.0/folders/0")
            .header(header::HOST, host)
            .body(())
            .unwrap()
    }

    #[test]
    fn loopback_listening_and_configured_names_pass_others_are_misdirected() {
        let hosts = AllowedHosts::new(
            vec!["127.0.0.1".parse().unwrap()],
            ["Emulator.Example:8080".to_string()],
        );
        for ok in [
            "127.0.0.1:4000",
            "127.0.0.1",
            "localhost:4000",
            "LOCALHOST",
            "[::1]:4000",
            "127.1.2.3",
            "emulator.example",
            "emulator.example.:1",
        ] {
            assert!(hosts.check(&request(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:4000",
            "10.0.0.1",
            "localhost.evil",
        ] {
            let error = hosts.check(&request(bad)).unwrap_err();
            assert_eq!(error.status, StatusCode::MISDIRECTED_REQUEST, "{bad}");
        }
        let none = Request::builder().uri("/").body(()).unwrap();
        assert_eq!(hosts.check(&none).unwrap_err().status, 400);
        // HTTP/2 requests name their host in the URI.
        let h2 = Request::builder()
            .uri("http://evil.example/2.0")
            .body(())
            .unwrap();
        assert!(hosts.check(&h2).is_err());
    }

    #[test]
    fn listening_on_every_address_accepts_any_address() {
        let hosts = AllowedHosts::new(vec!["0.0.0.0".parse().unwrap()], []);
        assert!(hosts.check(&request("192.0.2.7:9")).is_ok());
        assert!(hosts.check(&request("evil.example")).is_err());
    }
}
