//! The total deadline of small requests (`Timeouts::total`) against a server that trickles a byte
//! every 200 ms, token fetches included, and the minimum-progress rule of blob downloads.

use std::time::Duration;

use azcontainerregistry::{
    BlobClient, Client, ClientOptions, Credential, Digest, Error, MinProgress, Timeouts,
};

use super::{Reply, Scripted, fast, within};

fn trickle(content_type: &str, body: &[u8]) -> Reply {
    Reply::Trickle {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        ),
        body: body.to_vec(),
        pause: Duration::from_millis(200),
    }
}

fn with_total(total: Duration) -> ClientOptions {
    let mut options = fast(3);
    options.timeouts.total = Some(total);
    options
}

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout { .. })
}

#[test]
fn a_trickled_listing_ends_at_the_total_deadline() {
    let body = format!(r#"{{"name":"a","tags":[{}"v1"]}}"#, " ".repeat(500));
    let server = Scripted::start(move |_, _| trickle("application/json", body.as_bytes()));
    let url = server.url();
    let result = within(Duration::from_secs(20), move || {
        let client = Client::new(
            &url,
            Credential::anonymous(),
            with_total(Duration::from_secs(1)),
        )
        .expect("client");
        client
            .list_tag_names("a", Default::default())
            .collect::<Result<Vec<_>, _>>()
    });
    let e = result.unwrap_err();
    assert!(is_timeout(&e), "{e:?}");
}

#[test]
fn a_trickled_token_is_bounded_too() {
    // the registry challenges; its token service trickles (the token cache's lock is held while
    // the token is fetched)
    let server = Scripted::start(move |seen, _| {
        if seen.line.starts_with("GET /token") {
            let body = format!(r#"{{"token":"t{}"}}"#, "x".repeat(500));
            return trickle("application/json", body.as_bytes());
        }
        let port = seen
            .headers
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let challenge = format!(r#"Bearer realm="http://{port}/token",service="s""#);
        Reply::status(401, &[("WWW-Authenticate", challenge.as_str())], "{}")
    });
    let url = server.url();
    let e = within(Duration::from_secs(20), move || {
        let client = Client::new(
            &url,
            Credential::basic("u", "p"),
            with_total(Duration::from_secs(1)),
        )
        .expect("client");
        client
            .list_tag_names("a", Default::default())
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_err();
    assert!(is_timeout(&e), "{e:?}");
    assert!(
        server
            .seen()
            .iter()
            .any(|s| s.line.starts_with("GET /token")),
        "{:?}",
        server.seen()
    );
}

#[test]
fn a_trickling_blob_connection_is_abandoned_and_resumed() {
    let blob: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    let digest = Digest::of(&blob);
    let served = blob.clone();
    let server = Scripted::start(move |seen, n| {
        let range_from = seen
            .headers
            .iter()
            .find(|(k, _)| k == "range")
            .and_then(|(_, v)| v.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok());
        match (n, range_from) {
            // the first connection trickles a byte every 200 ms
            (0, _) => trickle("application/octet-stream", &served),
            (_, Some(from)) => {
                let from: usize = from;
                let rest = &served[from..];
                let mut out = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: \
                     bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
                    rest.len(),
                    served.len() - 1,
                    served.len()
                )
                .into_bytes();
                out.extend_from_slice(rest);
                Reply::Raw(out)
            }
            (_, None) => Reply::status(500, &[], "unexpected"),
        }
    });
    let url = server.url();
    let mut options = fast(3);
    options.timeouts = Timeouts {
        // blob transfers are not bound by the total deadline
        total: Some(Duration::from_millis(100)),
        min_progress: Some(MinProgress {
            bytes: 1000,
            window: Duration::from_millis(600),
        }),
        ..options.timeouts
    };
    let (bytes, resumes) = within(Duration::from_secs(20), move || {
        let blobs = BlobClient::new(&url, Credential::anonymous(), options).expect("client");
        let mut reader = blobs.get_blob("a", &digest).expect("get_blob");
        let mut out = Vec::new();
        reader.copy_to(&mut out).expect("download");
        (out, reader.resumes())
    });
    assert_eq!(bytes, blob);
    assert_eq!(resumes, 1, "one resume after the trickling connection");
    assert_eq!(server.seen().len(), 2, "{:?}", server.seen());
}

#[test]
fn a_slow_blob_is_not_bound_by_the_total_deadline() {
    let blob = b"twenty bytes of blob".to_vec();
    let digest = Digest::of(&blob);
    let served = blob.clone();
    // 20 bytes at 200 ms: 4 s, four times the total deadline, above the minimum rate
    let server = Scripted::start(move |_, _| trickle("application/octet-stream", &served));
    let url = server.url();
    let mut options = with_total(Duration::from_secs(1));
    options.timeouts.min_progress = Some(MinProgress {
        bytes: 2,
        window: Duration::from_secs(1),
    });
    let bytes = within(Duration::from_secs(20), move || {
        let blobs = BlobClient::new(&url, Credential::anonymous(), options).expect("client");
        let mut out = Vec::new();
        blobs
            .get_blob("a", &digest)
            .and_then(|mut r| r.copy_to(&mut out))
            .expect("download");
        out
    });
    assert_eq!(bytes, blob);
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn an_upload_the_server_reads_slowly_is_abandoned() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // POST answers a session; the PATCH body is read 16 KiB every 100 ms (160 KiB/s)
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    // stops the server when the test ends, also on panic
    struct Guard(Arc<AtomicBool>, u16, Option<std::thread::JoinHandle<()>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
            let _ = std::net::TcpStream::connect(("127.0.0.1", self.1));
            if let Some(t) = self.2.take() {
                let _ = t.join();
            }
        }
    }
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                    }
                    if line.starts_with("POST") {
                        let _ = conn.write_all(
                            b"HTTP/1.1 202 Accepted\r\nLocation: /v2/a/blobs/uploads/u1\r\n\
                              Range: 0-0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                        return;
                    }
                    let mut buf = vec![0u8; 16 * 1024];
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100));
                        match reader.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                });
            }
        })
    };
    let guard = Guard(stop, port, Some(server));
    let mut options = fast(0);
    options.timeouts.min_progress = Some(MinProgress {
        bytes: 16 * 1024 * 1024,
        window: Duration::from_millis(500),
    });
    let url = format!("http://127.0.0.1:{port}");
    let result = within(Duration::from_secs(20), move || {
        let blobs = BlobClient::new(&url, Credential::anonymous(), options).expect("client");
        let session = blobs.start_upload("a")?;
        let len = 64 * 1024 * 1024;
        blobs
            .upload_chunk(&session, std::io::repeat(7).take(len), Some(len), None)
            .map(|_| ())
    });
    drop(guard);
    let e = result.unwrap_err();
    assert!(is_timeout(&e), "{e:?}");
    assert!(e.to_string().contains("min_progress"), "{e}");
}
