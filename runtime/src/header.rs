//! Response headers as typed values: leniently, since a header a server gets slightly
//! wrong is no reason to fail a call that succeeded.
//!
//! Generated code reads each response header it declares with [`decode`] (or
//! [`decode_list`] for a list, [`decode_json`] for JSON text). `Retry-After`,
//! HTTP's own header, is parsed in one place, [`retry_after`], for generated header
//! fields and for the runtime's retries alike; `WWW-Authenticate` by [`bearer_error`].

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue};

use crate::text::ServerText;

/// The header `name` (in any case) parsed as a `T`, or `None` when the response does not
/// have it or its value does not parse (which is logged as a warning: the call itself
/// succeeded, and a hint such as a wait is not worth failing it over).
///
/// `Retry-After` is read with [`retry_after`] (seconds, fractional seconds or an HTTP date;
/// huge values saturate) and given to `T` as the wait in seconds: as written when `T`
/// takes it (`1.5` for an `f64`), else rounded up to whole seconds (`2` for an `i64`),
/// so that the caller never waits less than asked.
pub fn decode<T: FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    let value = headers.get(name)?;
    let parsed = value.to_str().ok().and_then(|text| {
        if name.eq_ignore_ascii_case(RETRY_AFTER.as_str()) {
            let wait = parse_retry_after(text, SystemTime::now())?;
            return parse_seconds(wait);
        }
        text.trim().parse().ok()
    });
    if parsed.is_none() {
        warn_unparsed::<T>(name, value);
    }
    parsed
}

/// The `error` of the `Bearer` challenge of a response's `WWW-Authenticate` headers
/// (RFC 6750 §3), such as `invalid_token` for a token that expired or was revoked.
///
/// Challenges are parsed by the `http-auth` crate (quoted strings, escapes, several
/// challenges in one header or in several headers); the scheme and the parameter name
/// are compared without regard to case. A header that does not parse is read up to
/// the fault: a `Bearer` challenge before it still counts.
///
/// ```
/// use oas_runtime::{HeaderMap, header::bearer_error};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     "www-authenticate",
///     r#"Bearer realm="Service", error="invalid_token", error_description="expired""#.parse().unwrap(),
/// );
/// assert_eq!(bearer_error(&headers).as_deref(), Some("invalid_token"));
/// ```
pub fn bearer_error(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| http_auth::parser::ChallengeParser::new(value).map_while(Result::ok))
        .filter(|challenge| challenge.scheme.eq_ignore_ascii_case("bearer"))
        .find_map(|challenge| {
            challenge
                .params
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("error"))
                .map(|(_, value)| value.to_unescaped())
        })
}

/// Every item of the list header `name` (its values split at commas, over all the
/// lines the response has of it), or `None` when it has none or an item does not parse
/// (logged as a warning, like [`decode`]).
pub fn decode_list<T: FromStr>(headers: &HeaderMap, name: &str) -> Option<Vec<T>> {
    let mut items = Vec::new();
    let mut found = false;
    for value in headers.get_all(name) {
        found = true;
        let parsed: Option<Vec<T>> = value.to_str().ok().and_then(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| item.parse().ok())
                .collect()
        });
        let Some(parsed) = parsed else {
            warn_unparsed::<T>(name, value);
            return None;
        };
        items.extend(parsed);
    }
    found.then_some(items)
}

/// The header `name` read as JSON text (a header described by `content` in a JSON
/// media type), or `None` when the response does not have it or it does not decode
/// (logged as a warning, like [`decode`]).
pub fn decode_json<T: serde::de::DeserializeOwned>(headers: &HeaderMap, name: &str) -> Option<T> {
    let value = headers.get(name)?;
    let parsed = serde_json::from_slice(value.as_bytes()).ok();
    if parsed.is_none() {
        warn_unparsed::<T>(name, value);
    }
    parsed
}

/// Logs a header left out because its value does not parse as a `T`.
fn warn_unparsed<T>(name: &str, value: &HeaderValue) {
    tracing::warn!(
        header = name,
        value = %ServerText::new(value.as_bytes()),
        expected = std::any::type_name::<T>(),
        "ignoring a response header that does not parse"
    );
}

/// `wait` in seconds as a `T`: with its fraction, else rounded up, else the largest whole
/// number of seconds `T` takes (a wait too long to write is still too long).
fn parse_seconds<T: FromStr>(wait: Duration) -> Option<T> {
    let whole = wait
        .as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    let exact = format!("{}.{:09}", wait.as_secs(), wait.subsec_nanos());
    let exact = exact.trim_end_matches('0').trim_end_matches('.');
    exact
        .parse()
        .or_else(|_| whole.to_string().parse())
        .or_else(|_| i64::MAX.to_string().parse())
        .or_else(|_| i32::MAX.to_string().parse())
        .ok()
}

/// The wait that a response's `Retry-After` header asks for, counted from `now`, if it
/// has one that parses (see [`parse_retry_after`]).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// The wait that a `Retry-After` value asks for, counted from `now`: delta-seconds, also
/// with a fraction (`1.5`), or an HTTP date (a date in the past asks for no wait). Numbers
/// too large for a [`Duration`] saturate to [`Duration::MAX`]; a negative number, or
/// anything else, is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !whole.is_empty() && digits(whole) && digits(fraction) {
        let Ok(seconds) = whole.parse::<u64>() else {
            // Only digits, so too many of them.
            return Some(Duration::MAX);
        };
        let nanos = format!("{fraction:0<9}")[..9].parse::<u32>().unwrap_or(0);
        return Some(Duration::new(seconds, nanos));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_headers_join_every_line_and_json_headers_decode() {
        let mut headers = HeaderMap::new();
        headers.append("link", "a, b".parse().unwrap());
        headers.append("link", "c".parse().unwrap());
        assert_eq!(
            decode_list::<String>(&headers, "Link"),
            Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
        );
        assert_eq!(decode_list::<String>(&headers, "nope"), None);
        headers.append("x-n", "1, x".parse().unwrap());
        assert_eq!(decode_list::<i64>(&headers, "x-n"), None);
        headers.append("x-rate", r#"{"limit": 3}"#.parse().unwrap());
        let rate: Option<serde_json::Value> = decode_json(&headers, "X-Rate");
        assert_eq!(rate, Some(serde_json::json!({"limit": 3})));
        assert_eq!(decode_json::<serde_json::Value>(&headers, "x-n"), None);
    }

    fn wait(value: &str) -> Option<Duration> {
        parse_retry_after(value, SystemTime::now())
    }

    #[test]
    fn retry_after_is_read_leniently() {
        assert_eq!(wait("7"), Some(Duration::from_secs(7)));
        assert_eq!(wait(" 0 "), Some(Duration::ZERO));
        assert_eq!(wait("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(wait("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(wait("2."), Some(Duration::from_secs(2)));
        assert_eq!(wait("1.0000000019"), Some(Duration::new(1, 1)));
        assert_eq!(wait("999999999999999999999999"), Some(Duration::MAX));
        assert_eq!(wait(&"9".repeat(400)), Some(Duration::MAX));
        for bad in [
            "", "-1", "soon", ".5", "1e3", "1.5.2", "+3", "inf", "NaN", "1 2",
        ] {
            assert_eq!(wait(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_dates_count_from_now() {
        let now = SystemTime::now();
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        let asked = parse_retry_after(&later, now).unwrap();
        // HTTP dates have a resolution of one second.
        assert!(
            asked > Duration::from_secs(28) && asked <= Duration::from_secs(30),
            "{asked:?}"
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
    }

    #[test]
    fn header_fields_never_fail_a_response() {
        let mut headers = HeaderMap::new();
        assert_eq!(decode::<i64>(&headers, "Retry-After"), None);
        for (value, seconds, exact) in [
            ("3", 3, 3.0),
            ("1.5", 2, 1.5),
            ("0.001", 1, 0.001),
            ("99999999999999999999", i64::MAX, u64::MAX as f64),
        ] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
            assert_eq!(
                decode::<i64>(&headers, "retry-after"),
                Some(seconds),
                "{value}"
            );
            assert_eq!(
                decode::<f64>(&headers, "Retry-After"),
                Some(exact),
                "{value}"
            );
        }
        headers.insert(RETRY_AFTER, HeaderValue::from_static("u64::MAX"));
        assert_eq!(decode::<i64>(&headers, "Retry-After"), None);
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&in_a_minute).unwrap());
        let seconds = decode::<i32>(&headers, "Retry-After").unwrap();
        assert!((58..=60).contains(&seconds), "{seconds}");

        headers.insert("x-count", HeaderValue::from_static(" 12 "));
        assert_eq!(decode::<u8>(&headers, "X-Count"), Some(12));
        headers.insert("x-count", HeaderValue::from_static("twelve"));
        assert_eq!(decode::<u8>(&headers, "x-count"), None);
        headers.insert("x-count", HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(decode::<String>(&headers, "x-count"), None);
    }

    fn challenges(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_bearer_error_is_found_among_challenges() {
        let error = |values: &[&str]| bearer_error(&challenges(values));
        // Box's own answer to an expired token.
        assert_eq!(
            error(&[r#"Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.""#]).as_deref(),
            Some("invalid_token")
        );
        // Case, tokens instead of quoted strings, escapes, another scheme first.
        assert_eq!(
            error(&["bearer ERROR=invalid_token"]).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            error(&[r#"Bearer error="inv\alid_token""#]).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            error(&[r#"Basic realm="x", Bearer realm="y", error="insufficient_scope""#]).as_deref(),
            Some("insufficient_scope")
        );
        // Several headers: the Bearer one counts.
        assert_eq!(
            error(&[r#"Basic realm="x""#, r#"Bearer error="invalid_token""#]).as_deref(),
            Some("invalid_token")
        );
        // A comma inside a quoted string is no separator.
        assert_eq!(
            error(&[
                r#"Bearer error_description="a, error=invalid_token", error="invalid_request""#
            ])
            .as_deref(),
            Some("invalid_request")
        );
    }

    #[test]
    fn no_bearer_error_is_none() {
        let error = |values: &[&str]| bearer_error(&challenges(values));
        assert_eq!(error(&[]), None);
        assert_eq!(error(&[r#"Bearer realm="Service""#]), None);
        // `error` of another scheme is not the Bearer one.
        assert_eq!(error(&[r#"Basic error="invalid_token""#]), None);
        // Garbage, or a fault before any Bearer challenge.
        assert_eq!(error(&["\"invalid_token\""]), None);
        assert_eq!(
            error(&[r#"Bearer error="invalid_token"#]),
            None,
            "unclosed quote"
        );
        // A fault after a complete Bearer challenge leaves it readable.
        assert_eq!(
            error(&[r#"Bearer error="invalid_token", Basic realm="#]).as_deref(),
            Some("invalid_token")
        );
    }
}
