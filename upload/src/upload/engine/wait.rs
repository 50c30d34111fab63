//! Every wait of the engine, in one place: before a call is tried again, and between two
//! commits. A wait is bounded by what the user set (the client's
//! [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after), the commit
//! deadline), never by what a server asks: asking for longer is an error that says so.

use std::time::{Duration, Instant};

use super::super::error::UploadError;
use crate::{Error, RetryPolicy};

/// A server asked for a longer wait than allowed.
#[derive(Debug)]
pub(super) struct TooLong {
    status: u16,
    asked: Duration,
    limit: Duration,
}

impl TooLong {
    /// The error of `during` (`uploading part 3 (bytes …)`, a step) of `session_id`.
    pub(super) fn error(self, during: impl ToString, session_id: Option<&str>) -> UploadError {
        UploadError::WaitTooLong {
            during: during.to_string(),
            session_id: session_id.map(str::to_string),
            status: self.status,
            asked: self.asked,
            limit: self.limit,
        }
    }
}

/// The wait a server asked for in an answer of `status`, if `policy` allows it.
pub(super) fn asked(
    policy: &RetryPolicy,
    status: u16,
    asked: Duration,
) -> Result<Duration, TooLong> {
    policy.retry_after_wait(asked).map_err(|e| TooLong {
        status,
        asked: e.asked(),
        limit: e.limit(),
    })
}

/// The pause before trying a call again after it failed with `error` (`None`: it timed
/// out), if another try may succeed (a timeout, 429, 5xx or a transport error): the
/// server's `Retry-After` when `policy` allows it, else `pause × attempt`.
pub(super) fn before_retry(
    error: Option<&Error>,
    pause: Duration,
    attempt: u32,
    policy: &RetryPolicy,
) -> Result<Option<Duration>, TooLong> {
    let backoff = pause.saturating_mul(attempt);
    match error {
        Some(e) if !e.is_retryable() => Ok(None),
        Some(e) => match e.api().and_then(|api| Some((api.status, api.retry_after?))) {
            Some((status, wait)) => asked(policy, status.as_u16(), wait).map(Some),
            None => Ok(Some(backoff)),
        },
        None => Ok(Some(backoff)),
    }
}

/// The instant `after` from now, or `None` when that is beyond the clock (never).
pub(super) fn deadline_in(after: Duration) -> Option<Instant> {
    Instant::now().checked_add(after)
}

/// `wait`, cut so that it ends by `deadline`.
pub(super) fn until(wait: Duration, deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(deadline) => wait.min(deadline.saturating_duration_since(Instant::now())),
        None => wait,
    }
}

/// Whether `deadline` has passed.
pub(super) fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() >= deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_by_the_user() {
        let policy = RetryPolicy {
            max_retry_after: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        assert_eq!(
            asked(&policy, 503, Duration::from_secs(2)).unwrap(),
            Duration::from_secs(2)
        );
        let too_long = asked(&policy, 202, Duration::MAX).unwrap_err();
        let error = too_long.error("committing", Some("S1")).to_string();
        for needle in [
            "committing (upload session S1)",
            "HTTP 202",
            "2s",
            "max_retry_after",
        ] {
            assert!(error.contains(needle), "{needle:?}: {error}");
        }
        // A huge pause, or a deadline beyond the clock, does not overflow.
        assert_eq!(
            before_retry(None, Duration::MAX, 3, &policy).unwrap(),
            Some(Duration::MAX)
        );
        assert_eq!(deadline_in(Duration::MAX), None);
        assert_eq!(until(Duration::MAX, None), Duration::MAX);
        assert!(
            until(Duration::MAX, deadline_in(Duration::from_secs(1))) <= Duration::from_secs(1)
        );
        assert!(!passed(None));
        assert!(passed(Some(Instant::now())));
    }
}
