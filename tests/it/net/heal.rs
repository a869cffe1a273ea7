//! What cannot heal is not retried: TLS against a plain-HTTP port (with a hint), a refused
//! connection on loopback, a name that does not resolve; a timeout is retried for a GET but not
//! for an upload-session start (a POST), and is for a token request (it only hands out a token).
//! Attempts are counted, never timed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azcontainerregistry::ureq;
use azcontainerregistry::{BlobClient, Client, ClientOptions, Credential, Error};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::DefaultConnector;

use super::{Reply, Scripted, fast, within};

fn tags(url: &str, options: ClientOptions) -> azcontainerregistry::Result<Vec<String>> {
    Client::new(url, Credential::anonymous(), options)?
        .list_tag_names("a", Default::default())
        .collect()
}

/// Counts every name resolution (one per connection attempt); answers `HostNotFound` when
/// `fail`, else resolves as ureq does.
#[derive(Debug)]
struct Counting {
    count: Arc<AtomicUsize>,
    fail: bool,
}

impl Resolver for Counting {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.count.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(ureq::Error::HostNotFound);
        }
        DefaultResolver::default().resolve(uri, config, timeout)
    }
}

/// Fast retries (three of them) on an agent whose resolutions are counted.
fn counted(fail: bool) -> (ClientOptions, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let resolver = Counting {
        count: count.clone(),
        fail,
    };
    let agent = ureq::Agent::with_parts(
        ureq::Agent::config_builder().build(),
        DefaultConnector::default(),
        resolver,
    );
    let options = ClientOptions {
        agent: Some(agent),
        ..fast(3)
    };
    (options, count)
}

#[test]
fn tls_against_a_plain_http_port_fails_once_and_says_so() {
    // answers whatever arrives with a plain HTTP 400, as HTTP servers do to a TLS hello
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    {
        let accepted = accepted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
    }
    let url = format!("https://127.0.0.1:{port}");
    let e = within(Duration::from_secs(30), move || tags(&url, fast(3))).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("plain HTTP") && text.contains("http://"),
        "{text}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "retried: {text}");
}

#[test]
fn a_refused_loopback_connection_is_not_retried() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again: nothing listens
    let (options, attempts) = counted(false);
    let e = tags(&format!("http://127.0.0.1:{port}"), options).unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "{e}");
}

#[test]
fn an_unknown_host_is_not_retried() {
    // the resolver fails every name itself: nothing leaves the machine
    let (options, attempts) = counted(true);
    let e = tags("https://registry.invalid", options).unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "{e}");
}

fn impatient(max_retries: u32) -> ClientOptions {
    let mut options = fast(max_retries);
    options.timeouts.response = Some(Duration::from_millis(300));
    options
}

#[test]
fn a_timed_out_get_is_retried() {
    let server = Scripted::start(|_, _| Reply::Hang);
    let url = server.url();
    let e = within(Duration::from_secs(30), move || tags(&url, impatient(2))).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn a_timed_out_upload_start_is_not_retried() {
    let server = Scripted::start(|_, _| Reply::Hang);
    let url = server.url();
    let e = within(Duration::from_secs(30), move || {
        BlobClient::new(&url, Credential::anonymous(), impatient(2))
            .unwrap()
            .start_upload("a")
            .map(|_| ())
    })
    .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].line.starts_with("POST /v2/a/blobs/uploads/"),
        "{seen:?}"
    );
}

#[test]
fn a_timed_out_refresh_token_request_is_retried() {
    // a token request only hands out a token: safe to send again, like ACR's token exchanges
    let server = Scripted::start(|seen, _| {
        if seen.line.starts_with("POST /token") {
            return Reply::Hang;
        }
        let host = seen
            .headers
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let challenge = format!(r#"Bearer realm="http://{host}/token",service="svc""#);
        Reply::status(401, &[("WWW-Authenticate", &challenge)], "")
    });
    let url = server.url();
    let e = within(Duration::from_secs(30), move || {
        Client::new(&url, Credential::identity_token("refresh"), impatient(2))?
            .list_tag_names("a", Default::default())
            .collect::<azcontainerregistry::Result<Vec<_>>>()
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("timed out") || matches!(e, Error::Timeout { .. }),
        "{e:?}"
    );
    let posts = server
        .seen()
        .iter()
        .filter(|s| s.line.starts_with("POST /token"))
        .count();
    assert_eq!(posts, 3, "{:?}", server.seen());
}
