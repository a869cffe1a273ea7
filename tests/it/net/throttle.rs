//! Throttling: a `Retry-After` longer than the client may wait fails at once with
//! `Error::Throttled` (saying when to retry); the retry budget bounds the waiting of one call.

use std::time::{Duration, SystemTime};

use azcontainerregistry::{Client, ClientOptions, Credential, Error, RetryOptions};

use super::{Reply, Scripted, within};

const THROTTLED: &str = r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
const TAGS: &str = r#"{"name":"a","tags":["v1"]}"#;

fn tags(url: &str, retry: RetryOptions) -> azcontainerregistry::Result<Vec<String>> {
    let options = ClientOptions {
        retry,
        ..Default::default()
    };
    let client = Client::new(url, Credential::anonymous(), options).expect("client");
    client
        .list_tag_names("a", Default::default())
        .collect::<Result<Vec<_>, _>>()
}

/// Default delays and budget, but a quick first retry.
fn retry_defaults() -> RetryOptions {
    RetryOptions {
        initial_delay: Duration::from_millis(1),
        ..Default::default()
    }
}

#[test]
fn a_retry_after_of_hours_fails_at_once_saying_when() {
    let server = Scripted::start(|_, _| Reply::status(429, &[("Retry-After", "7200")], THROTTLED));
    let url = server.url();
    let result = within(Duration::from_secs(20), move || {
        tags(&url, retry_defaults())
    });
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Throttled { .. }), "{e:?}");
    assert!(e.is_throttled(), "{e}");
    assert_eq!(e.status(), Some(429));
    let wait = e.retry_after().expect("retry_after");
    assert!(wait >= Duration::from_secs(7100), "{wait:?}");
    let text = e.to_string();
    assert!(text.contains("retry after 2 h 0 min"), "{text}");
    assert!(text.contains("TOOMANYREQUESTS"), "{text}");
    assert_eq!(server.seen().len(), 1, "no retry: {:?}", server.seen());
}

#[test]
fn a_far_http_date_on_503_is_throttling_too() {
    let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3 * 3600));
    let server =
        Scripted::start(move |_, _| Reply::status(503, &[("Retry-After", later.as_str())], "{}"));
    let url = server.url();
    let e = within(Duration::from_secs(20), move || {
        tags(&url, retry_defaults())
    })
    .unwrap_err();
    assert!(matches!(e, Error::Throttled { .. }), "{e:?}");
    assert_eq!(e.status(), Some(503));
    assert!(
        e.retry_after().unwrap() > Duration::from_secs(2 * 3600),
        "{e}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_wait_beyond_the_remaining_budget_fails_at_once() {
    // 5 s is within max_delay (30 s) but not within the 2 s budget
    let server = Scripted::start(|_, _| Reply::status(429, &[("Retry-After", "5")], THROTTLED));
    let url = server.url();
    let retry = RetryOptions {
        budget: Some(Duration::from_secs(2)),
        ..retry_defaults()
    };
    let e = within(Duration::from_secs(20), move || tags(&url, retry)).unwrap_err();
    assert!(matches!(e, Error::Throttled { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_short_retry_after_is_honoured() {
    let server = Scripted::start(|_, n| match n {
        0 => Reply::status(429, &[("Retry-After", "0")], THROTTLED),
        _ => Reply::status(200, &[("Content-Type", "application/json")], TAGS),
    });
    let url = server.url();
    let names = within(Duration::from_secs(20), move || {
        tags(&url, retry_defaults())
    })
    .unwrap();
    assert_eq!(names, ["v1"]);
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn backoff_stops_when_the_budget_is_spent() {
    // 500s back off 1 s, 2 s, 4 s…; a 1.5 s budget allows the first wait only
    let server = Scripted::start(|_, _| Reply::status(500, &[], "{}"));
    let url = server.url();
    let retry = RetryOptions {
        max_retries: 5,
        initial_delay: Duration::from_secs(1),
        budget: Some(Duration::from_millis(1500)),
        ..Default::default()
    };
    let e = within(Duration::from_secs(30), move || tags(&url, retry)).unwrap_err();
    assert_eq!(e.status(), Some(500), "{e}");
    assert_eq!(server.seen().len(), 2, "one retry within the budget");
}
