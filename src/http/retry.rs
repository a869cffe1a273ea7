//! When to retry and how long to wait: exponential backoff with jitter, `Retry-After` honoured
//! and capped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use crate::options::RetryOptions;

/// Statuses worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay before retry number `attempt` (1-based): `Retry-After` when given (capped at
/// `max_delay`), else `initial_delay * 2^(attempt-1)` with ±25 % jitter, capped.
pub(crate) fn delay(options: &RetryOptions, attempt: u32, retry_after: Option<&str>) -> Duration {
    if let Some(d) = retry_after.and_then(parse_retry_after) {
        return d.min(options.max_delay);
    }
    let base = options
        .initial_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let base = base.min(options.max_delay);
    // jitter in [0.75, 1.25)
    let r = RandomState::new().build_hasher().finish() % 1000;
    let factor = 0.75 + (r as f64) / 2000.0;
    base.mul_f64(factor).min(options.max_delay)
}

/// `Retry-After`: delta-seconds or an HTTP date (any of RFC 9110's three formats).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        // RFC 9110's three formats, all in the past
        for past in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(past), Some(Duration::ZERO), "{past}");
        }
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(3500) && d <= Duration::from_secs(3600),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
            None,
            "no overflow"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let o = RetryOptions {
            max_retries: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..Default::default()
        };
        let d1 = delay(&o, 1, None);
        let d3 = delay(&o, 3, None);
        assert!(
            d1 >= Duration::from_millis(75) && d1 < Duration::from_millis(125),
            "{d1:?}"
        );
        assert!(
            d3 >= Duration::from_millis(300) && d3 < Duration::from_millis(500),
            "{d3:?}"
        );
        assert!(delay(&o, 30, None) >= Duration::from_millis(750));
        assert!(delay(&o, 30, None) <= Duration::from_secs(1));
        assert_eq!(delay(&o, 1, Some("600")), Duration::from_secs(1));
        assert_eq!(delay(&o, 1, Some("0")), Duration::ZERO);
    }
}
