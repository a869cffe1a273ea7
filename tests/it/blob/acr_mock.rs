//! ACR-only behaviour with mockito: relative `Location`s, the 307 to blob storage (fetched without
//! `Authorization`, also when a download resumes), a mount answered with 202, a delete answered
//! with 404, a 206 past the blob's end, an upload resumed from the registry's status, and bad input
//! that never reaches the wire. A catch-all (`support::mock::CatchAll`) created first answers
//! anything unexpected with 599 and must never be hit.

use std::io::Read;
use std::time::Duration;

use azcontainerregistry::blob::{MountOutcome, UploadMode, UploadOptions};
use azcontainerregistry::{
    BlobClient, ClientOptions, Credential, Digest, DigestCalculator, RetryOptions,
};
use mockito::{Matcher, Server, ServerGuard};

use crate::support::mock::{CatchAll, METHODS, strict_server};

fn options() -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            max_retries: 1,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        },
        ..Default::default()
    }
}

const STATE0: &str = "_nouploadcache=false&_state=S0";
const STATE1: &str = "_nouploadcache=false&_state=S1";

#[test]
fn relative_locations_are_resolved_and_their_query_kept() {
    let (mut server, unexpected) = strict_server();
    let data = b"hello world";
    let digest = Digest::of(data);
    let post = server
        .mock("POST", "/v2/acr/repo/blobs/uploads/")
        .match_header("content-length", "0")
        .with_status(202)
        .with_header(
            "location",
            &format!("/v2/acr/repo/blobs/uploads/u1?{STATE0}"),
        )
        .with_header("docker-upload-uuid", "u1")
        .with_header("range", "0-0")
        .create();
    let patch = server
        .mock("PATCH", "/v2/acr/repo/blobs/uploads/u1")
        .match_query(Matcher::Exact(STATE0.into()))
        .match_header("content-type", "application/octet-stream")
        .match_header("content-range", "0-10")
        .match_header("content-length", "11")
        .match_body(Matcher::Exact("hello world".into()))
        .with_status(202)
        .with_header(
            "location",
            &format!("/v2/acr/repo/blobs/uploads/u1?{STATE1}"),
        )
        .with_header("range", "0-10")
        .create();
    let put = server
        .mock("PUT", "/v2/acr/repo/blobs/uploads/u1")
        .match_query(Matcher::Exact(format!("{STATE1}&digest={digest}")))
        .match_header("content-length", "0")
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .create();

    let blobs = BlobClient::new(&server.url(), Credential::anonymous(), options()).unwrap();
    let mut calc = DigestCalculator::new();
    let s = blobs.start_upload("acr/repo").unwrap();
    assert_eq!(
        s.location(),
        format!("{}/v2/acr/repo/blobs/uploads/u1?{STATE0}", server.url())
    );
    assert_eq!(s.uuid(), Some("u1"));
    let s = blobs
        .upload_chunk(&s, &data[..], Some(11), Some(&mut calc))
        .unwrap();
    assert_eq!(s.offset(), 11);
    assert_eq!(blobs.complete_upload(&s, &calc.digest()).unwrap(), digest);
    post.assert();
    patch.assert();
    put.assert();
    unexpected.assert();
}

#[test]
fn registry_digest_disagreeing_with_ours_is_an_error() {
    let (mut server, unexpected) = strict_server();
    server
        .mock("POST", "/v2/r/blobs/uploads/")
        .with_status(202)
        .with_header("location", &format!("/v2/r/blobs/uploads/u?{STATE0}"))
        .create();
    let other = Digest::of(b"other");
    server
        .mock("PUT", "/v2/r/blobs/uploads/u")
        .match_query(Matcher::Regex("digest=sha256:".into()))
        .with_status(201)
        .with_header("docker-content-digest", other.as_str())
        .create();
    // The failed upload is cancelled (harmless here).
    server
        .mock("DELETE", "/v2/r/blobs/uploads/u")
        .match_query(Matcher::Any)
        .with_status(204)
        .create();
    let blobs = BlobClient::new(&server.url(), Credential::anonymous(), options()).unwrap();
    let e = blobs
        .upload_blob("r", &b"abc"[..], UploadOptions::default())
        .unwrap_err();
    assert!(
        matches!(e, azcontainerregistry::Error::DigestMismatch { .. }),
        "{e}"
    );
    unexpected.assert();
}

/// Fails on any request to `storage` that carries an `Authorization` header.
fn no_authorization_to(storage: &mut ServerGuard) -> CatchAll {
    CatchAll::install_with(storage, |m| m.match_header("authorization", Matcher::Any))
}

/// A registry that asks for Basic credentials and redirects blob reads to a "storage" server.
struct Acr {
    registry: ServerGuard,
    storage: ServerGuard,
    blobs: BlobClient,
}

fn acr() -> Acr {
    let mut registry = Server::new();
    let storage = Server::new();
    for m in METHODS {
        registry
            .mock(m, Matcher::Any)
            .match_header("authorization", Matcher::Missing)
            .with_status(401)
            .with_header("www-authenticate", "Basic realm=\"acr\"")
            .create();
    }
    let blobs = BlobClient::new(
        &registry.url(),
        Credential::basic("user", "pass"),
        options(),
    )
    .unwrap();
    Acr {
        registry,
        storage,
        blobs,
    }
}

#[test]
fn redirect_to_storage_is_followed_without_authorization() {
    let Acr {
        mut registry,
        mut storage,
        blobs,
    } = acr();
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let digest = Digest::of(&data);
    let path = format!("/v2/acr/repo/blobs/{digest}");
    let sas = format!(
        "{}/container/blob/data?se=2030&sig=SECRET&sp=r",
        storage.url()
    );
    let redirect = registry
        .mock("GET", path.as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(307)
        .with_header("location", &sas)
        .with_header("docker-content-digest", digest.as_str())
        .expect(2)
        .create();
    let leaked = no_authorization_to(&mut storage);
    let blob = storage
        .mock("GET", "/container/blob/data")
        .match_query(Matcher::UrlEncoded("sig".into(), "SECRET".into()))
        .match_header("authorization", Matcher::Missing)
        .with_status(200)
        .with_body(&data)
        .expect(2)
        .create();

    let mut reader = blobs.get_blob("acr/repo", &digest).unwrap();
    let mut back = Vec::new();
    reader.read_to_end(&mut back).unwrap();
    assert!(back == data);
    let dir = tempfile::tempdir().unwrap();
    let n = blobs
        .download_blob_to("acr/repo", &digest, dir.path().join("b"))
        .unwrap();
    assert_eq!(n, 5000);
    redirect.assert();
    blob.assert();
    leaked.assert();
}

#[test]
fn resumed_download_goes_through_the_redirect_again_with_range() {
    let Acr {
        mut registry,
        mut storage,
        blobs,
    } = acr();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let digest = Digest::of(&data);
    let path = format!("/v2/acr/repo/blobs/{digest}");
    let redirect = registry
        .mock("GET", path.as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(307)
        .with_header("location", &format!("{}/c/data?sig=SECRET", storage.url()))
        .expect_at_least(2)
        .create();
    let leaked = no_authorization_to(&mut storage);
    // The first answer breaks off after 40 000 bytes (a chunked body that never ends properly).
    let head: Vec<u8> = data[..40_000].to_vec();
    let first = storage
        .mock("GET", "/c/data")
        .match_query(Matcher::Any)
        .match_header("range", Matcher::Missing)
        .with_status(200)
        .with_chunked_body(move |w| {
            w.write_all(&head)?;
            w.flush()?;
            Err(std::io::Error::other("connection lost"))
        })
        // mockito sometimes aborts before flushing any of it; then the whole GET is made again
        .expect_at_least(1)
        .create();
    let tail = storage
        .mock("GET", "/c/data")
        .match_query(Matcher::Any)
        .match_header("range", "bytes=40000-")
        .match_header("authorization", Matcher::Missing)
        .with_status(206)
        .with_header("content-range", "bytes 40000-99999/100000")
        .with_body(&data[40_000..])
        .expect(1)
        .create();

    let mut reader = blobs.get_blob("acr/repo", &digest).unwrap();
    let mut back = Vec::new();
    reader.read_to_end(&mut back).unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data);
    assert!(reader.resumes() >= 1);
    assert!(reader.is_verified());
    redirect.assert();
    first.assert();
    tail.assert();
    leaked.assert();
}

#[test]
fn resumes_without_progress_are_bounded() {
    let Acr {
        mut registry,
        mut storage,
        blobs,
    } = acr();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 17 % 251) as u8).collect();
    let digest = Digest::of(&data);
    registry
        .mock("GET", format!("/v2/r/blobs/{digest}").as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(307)
        .with_header("location", &format!("{}/c/data", storage.url()))
        .create();
    let head: Vec<u8> = data[..30_000].to_vec();
    storage
        .mock("GET", "/c/data")
        .match_header("range", Matcher::Missing)
        .with_status(200)
        .with_chunked_body(move |w| {
            w.write_all(&head)?;
            w.flush()?;
            Err(std::io::Error::other("connection lost"))
        })
        .create();
    // Every resumed request dies before its first byte.
    let resumed = storage
        .mock("GET", "/c/data")
        .match_header("range", Matcher::Regex("^bytes=[0-9]+-$".into()))
        .with_status(206)
        .with_header("content-range", "bytes 30000-99999/100000")
        .with_chunked_body(|_| Err(std::io::Error::other("connection lost")))
        // 5 attempts; one whose answer dies before its head is retried once by the transport
        .expect_at_least(5)
        .expect_at_most(10)
        .create();
    let mut reader = blobs.get_blob("r", &digest).unwrap();
    let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
    resumed.assert();
    assert!(!reader.is_verified(), "{e}");
    assert!(reader.bytes_read() <= 30_000);
}

#[test]
fn chunk_past_the_end_is_clipped_from_content_range() {
    let Acr {
        mut registry,
        storage: _storage,
        blobs,
    } = acr();
    let data = b"hello world";
    let digest = Digest::of(data);
    let m = registry
        .mock("GET", format!("/v2/r/blobs/{digest}").as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .match_header("range", "bytes=0-4194303")
        .with_status(206)
        .with_header("content-range", "bytes 0-10/11")
        .with_body(data)
        .create();
    let mut chunk = blobs.get_chunk("r", &digest, 0..4 * 1024 * 1024).unwrap();
    assert_eq!(chunk.content_range().range, 0..11);
    assert_eq!(chunk.content_range().total, Some(11));
    let mut got = Vec::new();
    chunk.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
    m.assert();
}

#[test]
fn mount_answered_202_hands_back_the_session() {
    let Acr {
        mut registry,
        storage: _storage,
        blobs,
    } = acr();
    let digest = Digest::of(b"layer");
    let mount = registry
        .mock("POST", "/v2/dst/blobs/uploads/")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("mount".into(), digest.to_string()),
            Matcher::UrlEncoded("from".into(), "src/repo".into()),
        ]))
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(202)
        .with_header("location", &format!("/v2/dst/blobs/uploads/m1?{STATE0}"))
        .with_header("range", "0-0")
        .create();
    let cancel = registry
        .mock("DELETE", "/v2/dst/blobs/uploads/m1")
        .match_query(Matcher::Exact(STATE0.into()))
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(204)
        .create();
    let session = match blobs.mount_blob("dst", "src/repo", &digest).unwrap() {
        MountOutcome::UploadStarted(s) => s,
        MountOutcome::Mounted => panic!("202 is not a mount"),
    };
    assert_eq!(session.offset(), 0);
    assert_eq!(
        session.location(),
        format!("{}/v2/dst/blobs/uploads/m1?{STATE0}", registry.url())
    );
    blobs.cancel_upload(&session).unwrap();
    mount.assert();
    cancel.assert();
}

#[test]
fn delete_of_a_missing_blob_succeeds() {
    let Acr {
        mut registry,
        storage: _storage,
        blobs,
    } = acr();
    let digest = Digest::of(b"gone");
    let m = registry
        .mock("DELETE", format!("/v2/r/blobs/{digest}").as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(404)
        .with_body(r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#)
        .create();
    blobs.delete_blob("r", &digest).unwrap();
    m.assert();
    // Other failures still fail.
    let denied = registry
        .mock("DELETE", format!("/v2/other/blobs/{digest}").as_str())
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(403)
        .with_body(r#"{"errors":[{"code":"DENIED","message":"no"}]}"#)
        .create();
    assert!(
        blobs
            .delete_blob("other", &digest)
            .unwrap_err()
            .is_forbidden()
    );
    denied.assert();
}

#[test]
fn failed_chunk_resumes_from_the_registry_status_without_hashing_twice() {
    // An ACR-like registry that keeps the session: the second chunk fails with 500 after the
    // registry stored two of its bytes; the status says so; the upload re-sends from byte 6 out
    // of the chunk it holds in memory (a plain reader) and completes with the digest of the ten
    // bytes.
    let (mut server, unexpected) = strict_server();
    let data = b"0123456789";
    let digest = Digest::of(data);
    let loc = |s: &str| format!("/v2/r/blobs/uploads/u?_state={s}");
    let mut mocks = vec![
        server
            .mock("POST", "/v2/r/blobs/uploads/")
            .with_status(202)
            .with_header("location", &loc("A"))
            .create(),
        server
            .mock("PATCH", "/v2/r/blobs/uploads/u")
            .match_query(Matcher::Exact("_state=A".into()))
            .match_header("content-range", "0-3")
            .match_body("0123")
            .with_status(202)
            .with_header("location", &loc("B"))
            .with_header("range", "0-3")
            .create(),
        server
            .mock("PATCH", "/v2/r/blobs/uploads/u")
            .match_query(Matcher::Exact("_state=B".into()))
            .match_header("content-range", "4-7")
            .match_body("4567")
            .with_status(500)
            .create(),
        server
            .mock("GET", "/v2/r/blobs/uploads/u")
            .match_query(Matcher::Exact("_state=B".into()))
            .with_status(204)
            .with_header("location", &loc("C"))
            .with_header("range", "0-5")
            .create(),
        server
            .mock("PATCH", "/v2/r/blobs/uploads/u")
            .match_query(Matcher::Exact("_state=C".into()))
            .match_header("content-range", "6-9")
            .match_body("6789")
            .with_status(202)
            .with_header("location", &loc("D"))
            .with_header("range", "0-9")
            .create(),
        server
            .mock("PUT", "/v2/r/blobs/uploads/u")
            .match_query(Matcher::Exact(format!("_state=D&digest={digest}")))
            .with_status(201)
            .with_header("docker-content-digest", digest.as_str())
            .create(),
    ];
    let blobs = BlobClient::new(&server.url(), Credential::anonymous(), options()).unwrap();
    let opts = UploadOptions {
        chunk_size: 4,
        mode: UploadMode::Chunked,
        ..Default::default()
    };
    let up = blobs.upload_blob("r", &data[..], opts).unwrap();
    assert_eq!(up.digest, digest);
    assert_eq!(up.size, 10);
    for m in mocks.drain(..) {
        m.assert();
    }
    unexpected.assert();
}

#[test]
fn bad_input_sends_nothing() {
    let (server, unexpected) = strict_server();
    let blobs = BlobClient::new(&server.url(), Credential::anonymous(), options()).unwrap();
    let d = Digest::of(b"x");
    let invalid = |e: azcontainerregistry::Error| {
        assert!(
            matches!(e, azcontainerregistry::Error::InvalidInput { .. }),
            "{e}"
        );
    };
    for repo in ["", "Upper", "a//b", "-lead", "trail/", "sp ace", "a..b"] {
        invalid(blobs.check_blob_exists(repo, &d).unwrap_err());
        invalid(blobs.check_chunk_exists(repo, &d, 0..1).unwrap_err());
        invalid(blobs.get_blob(repo, &d).unwrap_err());
        invalid(blobs.get_chunk(repo, &d, 0..1).unwrap_err());
        invalid(blobs.delete_blob(repo, &d).unwrap_err());
        invalid(blobs.start_upload(repo).unwrap_err());
        invalid(blobs.mount_blob(repo, "ok", &d).unwrap_err());
        invalid(blobs.mount_blob("ok", repo, &d).unwrap_err());
        invalid(
            blobs
                .upload_blob(repo, &b"abc"[..], UploadOptions::default())
                .unwrap_err(),
        );
        invalid(
            blobs
                .upload_blob_seekable(repo, std::io::Cursor::new(b"abc"), UploadOptions::default())
                .unwrap_err(),
        );
        invalid(
            blobs
                .upload_file(repo, "/nonexistent", UploadOptions::default())
                .unwrap_err(),
        );
        invalid(
            blobs
                .download_blob_to(repo, &d, "/tmp/never-written")
                .unwrap_err(),
        );
    }
    invalid(blobs.get_chunk("ok", &d, 3..3).unwrap_err());
    let (start, end) = (4u64, 1u64);
    invalid(blobs.check_chunk_exists("ok", &d, start..end).unwrap_err());
    let zero = UploadOptions {
        chunk_size: 0,
        ..Default::default()
    };
    invalid(
        blobs
            .upload_blob("ok", &b"abc"[..], zero.clone())
            .unwrap_err(),
    );
    invalid(blobs.upload_file("ok", "/nonexistent", zero).unwrap_err());
    invalid(blobs.download_blob_to("ok", &d, "/").unwrap_err());
    assert!(!std::path::Path::new("/tmp/never-written").exists());
    unexpected.assert();
}
