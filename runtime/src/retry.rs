//! When to retry, and how long to wait.

use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};
use rand::Rng;

use crate::config::RetryPolicy;

/// Whether a response with this status is worth another attempt.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The wait that a `Retry-After` header asks for, in seconds or as an HTTP
/// date, counted from `now`. A date in the past asks for no wait.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The exponential backoff before retry number `retry` (from 1), with full
/// jitter: a random time between zero and
/// `min(max_backoff, initial_backoff * 2^(retry - 1))`.
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let ceiling = policy
        .initial_backoff
        .saturating_mul(factor)
        .min(policy.max_backoff);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retryable_statuses() {
        for code in [429, 500, 502, 503, 504] {
            assert!(
                is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [200, 400, 401, 404, 409, 501, 505] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);

        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));

        let later = now + Duration::from_secs(30);
        let date = HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap();
        headers.insert(RETRY_AFTER, date);
        let wait = retry_after(&headers, now).unwrap();
        // HTTP dates have a resolution of one second.
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );

        let earlier = now - Duration::from_secs(30);
        let date = HeaderValue::from_str(&httpdate::fmt_http_date(earlier)).unwrap();
        headers.insert(RETRY_AFTER, date);
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert!(backoff(&policy, 1) <= Duration::from_millis(100));
            assert!(backoff(&policy, 2) <= Duration::from_millis(200));
            assert!(backoff(&policy, 3) <= Duration::from_millis(350));
            assert!(backoff(&policy, 40) <= Duration::from_millis(350));
            assert!(backoff(&policy, u32::MAX) <= Duration::from_millis(350));
        }
        // Full jitter: not always the ceiling.
        let waits: Vec<_> = (0..20).map(|_| backoff(&policy, 3)).collect();
        assert!(waits.iter().any(|w| *w != waits[0]));
    }
}
