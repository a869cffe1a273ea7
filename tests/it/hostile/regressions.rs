//! Regression tests: listings that loop or never end (issue 8, defect 1), and registry numbers in
//! uploads and ranges (defect 9). Each failed (hung, panicked or succeeded) before its fix.

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use azcontainerregistry::{
    BlobClient, Client, Credential, Error, ListNamesOptions, ListReferrersOptions, UploadMode,
    UploadOptions,
};

use super::{BLOB, REPO, blob_digest, manifest_digest, options, upload_data};
use crate::support::hostile::{Act, Hostile, Seen, reply};

/// Runs `f` on a thread; panics when it has not ended after a minute (a loop that never ends).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the operation did not end (or panicked): a listing followed its links forever")
}

fn client(url: &str) -> Client {
    Client::new(url, Credential::anonymous(), options()).expect("client")
}

fn blobs(url: &str) -> BlobClient {
    BlobClient::new(url, Credential::anonymous(), options()).expect("blob client")
}

fn last(r: &Seen) -> Option<String> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|p| p.strip_prefix("last="))
        .map(str::to_string)
}

fn page(next: &str) -> Vec<Act> {
    reply(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Link", &format!(r#"<{next}>; rel="next""#)),
        ],
        br#"{"repositories":["x"],"tags":["x"]}"#,
    )
}

fn is_loop(e: &Error) -> bool {
    matches!(e, Error::Redirect { reason, .. } if reason.contains("loop"))
}

fn is_bound(e: &Error) -> bool {
    matches!(e, Error::Redirect { reason, .. } if reason.contains("page bound"))
}

#[test]
fn a_cycle_between_two_pages_is_refused_at_once() {
    // first → a → b → a: the link back to a is refused before it is fetched again
    let server = Hostile::start(|r| match last(r).as_deref() {
        None => page("/v2/_catalog?last=a"),
        Some("a") => page("/v2/_catalog?last=b"),
        _ => page("/v2/_catalog?last=a"),
    });
    let c = client(&server.url());
    let result = bounded(move || {
        c.list_catalog(ListNamesOptions::default())
            .collect::<Result<Vec<_>, _>>()
    });
    let err = result.expect_err("a cycle must fail");
    assert!(is_loop(&err), "{err:?}");
    assert_eq!(server.count(), 3, "pages fetched: {:?}", server.requests());
}

#[test]
fn a_page_linking_to_itself_respelled_is_refused() {
    // the same page, its query reordered and an unreserved character percent-encoded
    let server = Hostile::start(|r| match last(r).as_deref() {
        None => page("/v2/hostile/repo/tags/list?last=a&n=1"),
        _ => page("/v2/hostile/repo/tags/list?n=1&last=%61"),
    });
    let c = client(&server.url());
    let result = bounded(move || {
        c.list_tag_names(REPO, ListNamesOptions::default())
            .collect::<Result<Vec<_>, _>>()
    });
    let err = result.expect_err("a self link must fail");
    assert!(is_loop(&err), "{err:?}");
    assert_eq!(server.count(), 2);
}

#[test]
fn the_page_bound_stops_an_endless_listing_and_the_continuation_resumes() {
    let server = Hostile::start(|r| {
        let n: u64 = last(r).and_then(|v| v.parse().ok()).unwrap_or(0);
        page(&format!("/v2/_catalog?last={}", n + 1))
    });
    let c = client(&server.url());
    let mut pager = c.list_catalog(ListNamesOptions {
        max_pages: Some(3),
        ..Default::default()
    });
    let names: Vec<_> = pager.by_ref().take(3).collect::<Result<_, _>>().unwrap();
    assert_eq!(names.len(), 3);
    let err = pager
        .next()
        .expect("an error item")
        .expect_err("past the bound");
    assert!(is_bound(&err), "{err:?}");
    assert!(pager.next().is_none(), "the listing ends after the error");
    assert_eq!(server.count(), 3);
    // the refused page is the continuation: a caller can carry on, with a fresh bound
    assert_eq!(pager.continuation().as_deref(), Some("/v2/_catalog?last=3"));
    let more: Vec<_> = pager.resume("/v2/_catalog?last=3").take(2).collect();
    assert!(more.iter().all(Result::is_ok), "{more:?}");
    assert_eq!(server.count(), 5);
}

#[test]
fn a_bound_of_zero_pages_is_refused_before_sending() {
    let server = Hostile::start(|_| page("/v2/_catalog?last=1"));
    let c = client(&server.url());
    let err = c
        .list_catalog(ListNamesOptions {
            max_pages: Some(0),
            ..Default::default()
        })
        .next()
        .expect("an item")
        .expect_err("0 pages");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(server.count(), 0);
}

fn referrers_page(next: &str) -> Vec<Act> {
    reply(
        200,
        &[
            ("Content-Type", "application/vnd.oci.image.index.v1+json"),
            ("Link", &format!(r#"<{next}>; rel="next""#)),
        ],
        br#"{"schemaVersion":2,"manifests":[]}"#,
    )
}

#[test]
fn referrers_following_their_own_link_stop_at_the_first_repeat() {
    // before: the same page was fetched 1000 times
    let server = Hostile::start(|r| referrers_page(&r.target));
    let c = client(&server.url());
    let result = bounded(move || c.list_referrers(REPO, &manifest_digest(), None));
    let err = result.expect_err("a self link must fail");
    assert!(is_loop(&err), "{err:?}");
    assert_eq!(server.count(), 1);
}

#[test]
fn referrers_honour_their_page_bound() {
    let server = Hostile::start(|r| {
        let n: u64 = last(r).and_then(|v| v.parse().ok()).unwrap_or(0);
        referrers_page(&format!("{}?last={}", r.path(), n + 1))
    });
    let c = client(&server.url());
    let options = ListReferrersOptions {
        max_pages: Some(4),
        ..Default::default()
    };
    let result = bounded(move || c.list_referrers_with(REPO, &manifest_digest(), &options));
    let err = result.expect_err("past the bound");
    assert!(is_bound(&err), "{err:?}");
    assert_eq!(server.count(), 4);
}

#[test]
fn referrers_honour_their_count_bound() {
    // every page holds three referrers: the listing is held in memory, so it stops by count too
    let server = Hostile::start(|r| {
        let n: u64 = last(r).and_then(|v| v.parse().ok()).unwrap_or(0);
        let entry = format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":2}}"#,
            manifest_digest()
        );
        let body = format!(r#"{{"schemaVersion":2,"manifests":[{entry},{entry},{entry}]}}"#);
        reply(
            200,
            &[
                ("Content-Type", "application/vnd.oci.image.index.v1+json"),
                (
                    "Link",
                    &format!(r#"<{}?last={}>; rel="next""#, r.path(), n + 1),
                ),
            ],
            body.as_bytes(),
        )
    });
    let c = client(&server.url());
    let options = ListReferrersOptions {
        max_referrers: Some(5),
        ..Default::default()
    };
    let result = bounded(move || c.list_referrers_with(REPO, &manifest_digest(), &options));
    let err = result.expect_err("past the bound");
    assert!(
        matches!(&err, Error::Redirect { reason, .. } if reason.contains("max_referrers")),
        "{err:?}"
    );
    assert_eq!(
        server.count(),
        2,
        "stopped on the page that crossed the bound"
    );
}

/// An upload server whose new sessions claim `range` received; records what it is sent.
fn lying_upload_server(range: &'static str) -> Hostile {
    Hostile::start(move |r| match r.method.as_str() {
        "POST" => reply(202, &[("Location", "/upload/1"), ("Range", range)], b""),
        "PATCH" => reply(
            202,
            &[
                ("Location", "/upload/1"),
                ("Range", &format!("0-{}", r.body_len.saturating_sub(1))),
            ],
            b"",
        ),
        "PUT" => {
            let d = r
                .target
                .split("digest=")
                .nth(1)
                .unwrap_or("")
                .replace("%3A", ":");
            reply(201, &[("Docker-Content-Digest", &d)], b"")
        }
        _ => reply(204, &[], b""),
    })
}

#[test]
fn a_new_session_claiming_bytes_is_refused_not_completed_empty() {
    // before: the streamed upload of a seekable 1000-byte source skipped to the claimed offset,
    // sent nothing, and completed with the empty blob's digest
    let server = lying_upload_server("0-999");
    let b = blobs(&server.url());
    let data = upload_data();
    let options = UploadOptions {
        mode: UploadMode::Streamed,
        ..Default::default()
    };
    let result = b.upload_blob_seekable(REPO, &mut std::io::Cursor::new(data), options);
    let err = result.expect_err("a new session holding bytes");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(
        server.requests().iter().all(|r| r.method != "PUT"),
        "nothing may be completed: {:?}",
        server.requests()
    );
}

#[test]
fn a_new_session_at_2_64_is_refused() {
    // a new session at 2^64 - 1
    let server = lying_upload_server("0-18446744073709551614");
    let b = blobs(&server.url());
    let err = b
        .start_upload(REPO)
        .expect_err("a new session holding bytes");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_status_offset_near_2_64_is_an_error_not_an_overflow() {
    // a session whose status says 2^64 - 1: the next streamed chunk must not overflow (before: a
    // panic, "attempt to add with overflow", in debug builds; a wrapped offset in release)
    let server = Hostile::start(|r| match r.method.as_str() {
        "POST" => reply(202, &[("Location", "/upload/1")], b""),
        "GET" => reply(
            204,
            &[
                ("Location", "/upload/1"),
                ("Range", "0-18446744073709551614"),
            ],
            b"",
        ),
        "PATCH" => reply(202, &[("Location", "/upload/1")], b""),
        _ => reply(204, &[], b""),
    });
    let b = blobs(&server.url());
    let session = b.start_upload(REPO).expect("a fresh session");
    let status = b.get_upload_status(&session).expect("status");
    assert_eq!(status.offset, u64::MAX);
    let result = bounded(move || b.upload_chunk(&status.session, &b"abc"[..], None, None));
    let err = result.expect_err("an offset past 2^64");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_chunk_answer_longer_than_the_range_asked_is_refused() {
    let server = Hostile::start(|_| {
        let cr = format!("bytes 0-{}/{}", BLOB.len() - 1, BLOB.len());
        reply(206, &[("Content-Range", &cr)], BLOB)
    });
    let b = blobs(&server.url());
    let err = b
        .get_chunk(REPO, &blob_digest(), 0..10)
        .map(|mut c| {
            let mut v = Vec::new();
            let _ = c.read_to_end(&mut v);
            v
        })
        .expect_err("206 with more than asked");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_patch_answer_claiming_more_than_sent_is_refused() {
    let server = Hostile::start(|r| match r.method.as_str() {
        "POST" => reply(202, &[("Location", "/upload/1")], b""),
        "PATCH" => reply(202, &[("Location", "/upload/1"), ("Range", "0-4095")], b""),
        _ => reply(204, &[], b""),
    });
    let b = blobs(&server.url());
    let session = b.start_upload(REPO).expect("session");
    let err = b
        .upload_chunk(&session, &b"abc"[..], Some(3), None)
        .expect_err("the registry claims 4096 bytes after 3");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}
