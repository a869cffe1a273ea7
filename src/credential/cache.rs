//! The token cache of one client pipeline: tokens by key (refresh tokens per service, access tokens
//! per service and scope), each valid until a margin before its expiry, with one acquisition in
//! flight per key.
//!
//! Each key has a slot behind its own mutex: the first thread to find the slot empty or stale
//! fetches while holding it, and the others wait on the same mutex and then find the fresh token.
//! Different access keys only meet at the shared refresh-token slot while it is being renewed
//! (locks are always taken access-slot first, then refresh-slot, so they cannot deadlock).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use base64::Engine as _;

use super::Secret;
use crate::error::Result;

/// A cached token.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub token: Secret,
    pub expires_at: SystemTime,
}

/// No token is cached longer than this, whatever its expiry says.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<String, Arc<Mutex<Option<Cached>>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TokenCache {
    fn slot(&self, key: &str) -> Arc<Mutex<Option<Cached>>> {
        lock(&self.slots)
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    /// The token for `key`, fetched with `fetch` unless one is cached that is valid for `margin`
    /// more.
    pub(crate) fn get_or_fetch(
        &self,
        key: &str,
        margin: Duration,
        fetch: impl FnOnce() -> Result<Cached>,
    ) -> Result<Secret> {
        let slot = self.slot(key);
        let mut guard = lock(&slot);
        if let Some(c) = guard.as_ref()
            && SystemTime::now() + margin < c.expires_at
        {
            return Ok(c.token.clone());
        }
        let mut fresh = fetch()?;
        // A token service must not be able to pin a token forever (or overflow the clock).
        if let Some(latest) = SystemTime::now().checked_add(MAX_LIFETIME) {
            fresh.expires_at = fresh.expires_at.min(latest);
        }
        let token = fresh.token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    /// A cached token for `key` that is still valid for `margin`, without fetching.
    #[cfg(test)]
    pub(crate) fn peek(&self, key: &str, margin: Duration) -> Option<Secret> {
        let slot = self.slot(key);
        let guard = lock(&slot);
        guard
            .as_ref()
            .filter(|c| SystemTime::now() + margin < c.expires_at)
            .map(|c| c.token.clone())
    }

    /// Forgets `key`'s token if it is still `refused` (another thread may have renewed it already).
    pub(crate) fn invalidate(&self, key: &str, refused: Option<&str>) {
        let slot = self.slot(key);
        let mut guard = lock(&slot);
        let matches = match (guard.as_ref(), refused) {
            (Some(c), Some(r)) => c.token.expose() == r,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if matches {
            *guard = None;
        }
    }
}

/// The `exp` claim of a JWT, if the token is one. Accepts base64url with or without padding, and
/// standard base64.
pub(crate) fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let trimmed = payload.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(trimmed).ok())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    let secs = exp
        .as_u64()
        .or_else(|| exp.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode(r#"{"alg":"none"}"#), e.encode(claims))
    }

    #[test]
    fn reads_exp() {
        let t = jwt(r#"{"exp":1700000000}"#);
        assert_eq!(
            jwt_expiry(&t),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        let std_b64 = format!(
            "x.{}.y",
            base64::engine::general_purpose::STANDARD.encode(r#"{"exp":5,"p":"??>"}"#)
        );
        assert_eq!(
            jwt_expiry(&std_b64),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(5))
        );
        assert_eq!(jwt_expiry("opaque"), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"sub":1}"#)), None);
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp":18446744073709551615}"#)),
            None,
            "no overflow panic"
        );
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp":1e300}"#)),
            None,
            "no overflow panic"
        );
    }

    #[test]
    fn caches_until_margin_and_single_flight() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                std::thread::spawn(move || {
                    cache
                        .get_or_fetch("k", Duration::from_secs(30), || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            Ok(Cached {
                                token: Secret::new("t"),
                                expires_at: SystemTime::now() + Duration::from_secs(600),
                            })
                        })
                        .unwrap()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().expose(), "t");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // a token inside the margin is fetched again
        let short = || {
            Ok(Cached {
                token: Secret::new("s"),
                expires_at: SystemTime::now() + Duration::from_secs(10),
            })
        };
        cache
            .get_or_fetch("s", Duration::from_secs(30), short)
            .unwrap();
        assert!(cache.peek("s", Duration::from_secs(30)).is_none());
        cache.invalidate("k", Some("other"));
        assert!(cache.peek("k", Duration::ZERO).is_some());
        cache.invalidate("k", Some("t"));
        assert!(cache.peek("k", Duration::ZERO).is_none());
    }
}
