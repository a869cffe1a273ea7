//! When to retry and how long to wait: exponential backoff with jitter, `Retry-After` honoured and capped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use crate::options::RetryOptions;

/// Statuses worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay before retry number `attempt` (1-based): `Retry-After` when given (capped at `max_delay`),
/// else `initial_delay * 2^(attempt-1)` with ±25 % jitter, capped.
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

/// `Retry-After`: delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(v)?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u32 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as u32
        + 1;
    let year: i64 = parts[3]
        .parse()
        .ok()
        .filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<u64> = parts[4]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || !(1..=31).contains(&day) {
        return None;
    }
    let days = crate::models::days_from_civil(year, month, day);
    let secs = days.checked_mul(86_400)? + (hms[0] * 3600 + hms[1] * 60 + hms[2]) as i64;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
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
