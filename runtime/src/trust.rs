//! Which hosts may receive the token when a response names the URL to call
//! next (see [`Client::endpoint_at`](crate::Client::endpoint_at)).
//!
//! A server that answers with a URL (Box's `session_endpoints`) could point
//! the client, and its bearer token, anywhere. Such a URL is followed only
//! when its host is trusted and, unless the host is loopback or the user
//! opted in, when it is `https`.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// A host pattern: a host name such as `upload.box.com`, an IP address, or
/// a name whose first label holds one `*`, such as `*.example.com` or
/// `upload-*.app.box.com`. The `*` stands for one or more characters of that
/// label only, as in TLS certificates: `*.example.com` matches
/// `a.example.com` but neither `example.com` nor `a.b.example.com`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    /// The pattern as given, lowercased, for messages.
    text: String,
    kind: PatternKind,
}

#[derive(Clone, PartialEq, Eq)]
enum PatternKind {
    /// A host name or an IP address, compared as a whole.
    Exact(String),
    /// `<prefix>*<suffix>.<rest>`.
    Wildcard {
        prefix: String,
        suffix: String,
        rest: String,
    },
}

impl HostPattern {
    /// Parses a pattern; the error completes "the host pattern … ".
    pub(crate) fn parse(pattern: &str) -> Result<HostPattern, String> {
        let text = pattern.trim().to_ascii_lowercase();
        if text.is_empty() {
            return Err("is empty".to_owned());
        }
        if text.contains("://") || text.contains('/') {
            return Err("must be a host name, without scheme or path".to_owned());
        }
        let Some(star) = text.find('*') else {
            // An IP address or a host name; `Host::parse` normalizes both as `Url` does.
            let host = Host::parse(&text).map_err(|e| format!("is not a valid host: {e}"))?;
            return Ok(HostPattern {
                kind: PatternKind::Exact(host.to_string()),
                text,
            });
        };
        let (first, rest) = text.split_once('.').unwrap_or((&text, ""));
        if star >= first.len() || first.matches('*').count() != 1 || rest.contains('*') {
            return Err("may hold one '*', in its first label only".to_owned());
        }
        // `*.com` or `*.co.uk`-like breadth would trust hosts of many owners.
        if rest.split('.').filter(|label| !label.is_empty()).count() < 2 {
            return Err("needs at least two labels after the wildcard label".to_owned());
        }
        match Host::parse(rest) {
            Ok(Host::Domain(_)) => {}
            // `*.0.0.1` would match `127.0.0.1`: a wildcard stands for part of a name.
            Ok(Host::Ipv4(_) | Host::Ipv6(_)) => {
                return Err(
                    "has a wildcard in an IP address; wildcards match host names only".to_owned(),
                );
            }
            Err(e) => return Err(format!("is not a valid host after its first label: {e}")),
        }
        let (prefix, suffix) = first.split_once('*').unwrap_or((first, ""));
        Ok(HostPattern {
            kind: PatternKind::Wildcard {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
                rest: rest.to_owned(),
            },
            text,
        })
    }

    /// Whether `host` (as `Url::host_str` gives it: lowercase, IPv6 in
    /// brackets) matches.
    pub(crate) fn matches(&self, host: &str) -> bool {
        match &self.kind {
            PatternKind::Exact(exact) => exact == host,
            PatternKind::Wildcard {
                prefix,
                suffix,
                rest,
            } => {
                // A wildcard matches names, never an IP address.
                if host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
                    return false;
                }
                let Some((first, host_rest)) = host.split_once('.') else {
                    return false;
                };
                host_rest == rest
                    && first.len() > prefix.len() + suffix.len()
                    && first.starts_with(prefix.as_str())
                    && first.ends_with(suffix.as_str())
            }
        }
    }
}

impl fmt::Debug for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether the URL's host is this machine: `localhost`, 127.0.0.0/8 or `::1`.
/// Plain HTTP to it never leaves the machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether two URLs have the same scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> HostPattern {
        HostPattern::parse(text).unwrap()
    }

    #[test]
    fn exact_patterns_match_only_their_host() {
        let p = pattern("Upload.Box.com");
        assert!(p.matches("upload.box.com"));
        assert!(!p.matches("upload.box.com.evil.example"));
        assert!(!p.matches("xupload.box.com"));
        assert!(pattern("127.0.0.1").matches("127.0.0.1"));
        assert!(pattern("[::1]").matches("[::1]"));
    }

    #[test]
    fn a_wildcard_stands_for_part_of_one_label() {
        let p = pattern("upload-*.app.box.com");
        assert!(p.matches("upload-las.app.box.com"));
        assert!(!p.matches("upload-.app.box.com"), "the star is not empty");
        assert!(!p.matches("upload.app.box.com"));
        assert!(!p.matches("upload-a.b.app.box.com"), "one label only");
        assert!(!p.matches("upload-las.app.box.com.evil.example"));
        assert!(!p.matches("evilupload-las.app.box.co"));
        let any = pattern("*.example.com");
        assert!(any.matches("a.example.com"));
        assert!(!any.matches("example.com"));
        assert!(!any.matches("a.b.example.com"));
        assert!(!any.matches("aexample.com"));
        // Even a pattern whose rest could be read as the end of an address.
        let numeric = HostPattern {
            text: "*.0.0.1".into(),
            kind: PatternKind::Wildcard {
                prefix: String::new(),
                suffix: String::new(),
                rest: "0.0.1".into(),
            },
        };
        assert!(!numeric.matches("127.0.0.1"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for (bad, reason) in [
            ("", "empty"),
            ("*", "two labels"),
            ("*.com", "two labels"),
            ("a.*.com", "first label"),
            ("**.example.com", "one '*'"),
            ("https://upload.box.com", "without scheme"),
            ("upload.box.com/api", "without scheme"),
            ("exa mple.com", "not a valid host"),
            ("*.0.0.1", "IP address"),
            ("1*.0.0.1", "IP address"),
            ("*.1.2.3.4", "IP address"),
        ] {
            let error = HostPattern::parse(bad).unwrap_err();
            assert!(error.contains(reason), "{bad:?}: {error}");
        }
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in [
            "http://localhost:1/",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://127.9.9.9/",
            "http://[::1]:8080/",
        ] {
            assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert!(!is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
    }
}
