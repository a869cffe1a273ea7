//! The Go SDK's one-request-per-call upload API against the real registry: sessions, chunks,
//! status, completion (also with a wrong digest), cancellation; mounts across repositories;
//! deletes.

use crate::support::blob_client;
use crate::support::{Registry, pseudo_random, sha256_digest};
use azcontainerregistry::blob::MountOutcome;
use azcontainerregistry::{Digest, DigestCalculator, ErrorCode};

#[test]
fn chunk_by_chunk_with_a_digest_calculator() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(300_000, 1);
    let mut calc = DigestCalculator::new();

    let s0 = blobs.start_upload("low/a").unwrap();
    assert_eq!(s0.offset(), 0);
    assert_eq!(s0.repository(), "low/a");
    assert!(s0.uuid().is_some_and(|u| !u.is_empty()));
    assert!(s0.location().starts_with(&reg.url()), "{}", s0.location());
    assert_eq!(blobs.get_upload_status(&s0).unwrap().offset, 0);

    let s1 = blobs
        .upload_chunk(&s0, &data[..100_000], Some(100_000), Some(&mut calc))
        .unwrap();
    assert_eq!(s1.offset(), 100_000);
    assert_ne!(
        s1.location(),
        s0.location(),
        "each chunk gets a new location"
    );
    let status = blobs.get_upload_status(&s1).unwrap();
    assert_eq!(status.offset, 100_000);

    // A stale location is refused by the registry (it signs the offset into it)…
    let e = blobs
        .upload_chunk(&s0, &data[100_000..200_000], Some(100_000), Some(&mut calc))
        .unwrap_err();
    assert!(e.status().is_some(), "{e}");
    // …and the calculator forgot the failed chunk (Go semantics), so sending it again hashes it
    // once.
    assert_eq!(calc.len(), 100_000);

    // The registry drops a session after a refused chunk; start over the low-level way.
    let s0 = blobs.start_upload("low/a").unwrap();
    let mut calc = DigestCalculator::new();
    let s1 = blobs
        .upload_chunk(&s0, &data[..100_000], Some(100_000), Some(&mut calc))
        .unwrap();
    let s2 = blobs
        .upload_chunk(&s1, &data[100_000..200_000], Some(100_000), Some(&mut calc))
        .unwrap();
    // A streamed chunk (no Content-Range) for the rest.
    let s3 = blobs
        .upload_chunk(&s2, &data[200_000..], None, Some(&mut calc))
        .unwrap();
    assert_eq!(s3.offset(), 300_000);
    assert_eq!(calc.digest().as_str(), sha256_digest(&data));

    // Completing with a wrong digest: DIGEST_INVALID.
    let wrong = Digest::of(b"something else");
    let e = blobs.complete_upload(&s3, &wrong).unwrap_err();
    assert!(e.has_code(ErrorCode::DigestInvalid), "{e}");

    // The right one, in a fresh session (the registry dropped the refused one).
    let s = blobs.start_upload("low/a").unwrap();
    let s = blobs
        .upload_chunk(&s, &data[..], Some(data.len() as u64), None)
        .unwrap();
    let d = blobs.complete_upload(&s, &calc.digest()).unwrap();
    assert_eq!(d, calc.digest());
    let raw = reg.request("GET", &format!("/v2/low/a/blobs/{d}"), &[], &[], b"");
    assert!(raw.body == data);

    // A chunk with fewer bytes than announced is refused locally.
    let s = blobs.start_upload("low/a").unwrap();
    let e = blobs
        .upload_chunk(&s, &data[..10], Some(20), None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            azcontainerregistry::Error::SizeMismatch { .. }
                | azcontainerregistry::Error::Transport { .. }
        ),
        "{e}"
    );
    // Zero-length chunks are refused before any request.
    assert!(matches!(
        blobs.upload_chunk(&s, &b""[..], Some(0), None).unwrap_err(),
        azcontainerregistry::Error::InvalidInput { .. }
    ));
}

#[test]
fn empty_blob_low_level() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let s = blobs.start_upload("low/empty").unwrap();
    let d = blobs.complete_upload(&s, &Digest::of(b"")).unwrap();
    assert_eq!(blobs.check_blob_exists("low/empty", &d).unwrap(), Some(0));
}

#[test]
fn cancel_ends_the_session() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let s = blobs.start_upload("low/cancel").unwrap();
    let s = blobs.upload_chunk(&s, &b"abc"[..], Some(3), None).unwrap();
    assert_eq!(s.offset(), 3);
    blobs.cancel_upload(&s).unwrap();
    let e = blobs.get_upload_status(&s).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Cancelling again is not an error.
    blobs.cancel_upload(&s).unwrap();
}

#[test]
fn one_byte_session_offsets_are_not_confused_with_empty() {
    // Distribution reports `Range: 0-0` for both 0 and 1 bytes held.
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let s = blobs.start_upload("low/one").unwrap();
    let s = blobs.upload_chunk(&s, &b"x"[..], Some(1), None).unwrap();
    assert_eq!(s.offset(), 1);
    assert_eq!(blobs.get_upload_status(&s).unwrap().offset, 1);
    let s = blobs.upload_chunk(&s, &b"yz"[..], Some(2), None).unwrap();
    assert_eq!(s.offset(), 3);
    assert_eq!(
        blobs.complete_upload(&s, &Digest::of(b"xyz")).unwrap(),
        Digest::of(b"xyz")
    );
}

#[test]
fn mount_across_repositories() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(5000, 2);
    let digest: Digest = reg.push_blob("mount/src", &data).parse().unwrap();

    match blobs.mount_blob("mount/dst", "mount/src", &digest).unwrap() {
        MountOutcome::Mounted => {}
        MountOutcome::UploadStarted(s) => panic!("not mounted: {s:?}"),
    }
    assert_eq!(
        blobs.check_blob_exists("mount/dst", &digest).unwrap(),
        Some(5000)
    );

    // A blob the source does not have: the registry opens an upload session instead, usable as is.
    let other = pseudo_random(100, 3);
    let other_digest: Digest = sha256_digest(&other).parse().unwrap();
    let session = match blobs
        .mount_blob("mount/dst", "mount/src", &other_digest)
        .unwrap()
    {
        MountOutcome::UploadStarted(s) => s,
        MountOutcome::Mounted => panic!("mounted a blob nobody has"),
    };
    assert_eq!(session.repository(), "mount/dst");
    let session = blobs
        .upload_chunk(&session, &other[..], Some(100), None)
        .unwrap();
    blobs.complete_upload(&session, &other_digest).unwrap();
    assert_eq!(
        blobs.check_blob_exists("mount/dst", &other_digest).unwrap(),
        Some(100)
    );
}

#[test]
fn deletes() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(1000, 4);
    let digest: Digest = reg.push_blob("del/a", &data).parse().unwrap();
    assert_eq!(
        blobs.check_blob_exists("del/a", &digest).unwrap(),
        Some(1000)
    );
    blobs.delete_blob("del/a", &digest).unwrap();
    assert_eq!(blobs.check_blob_exists("del/a", &digest).unwrap(), None);
    // Already gone (404 BLOB_UNKNOWN): counts as deleted.
    blobs.delete_blob("del/a", &digest).unwrap();
    blobs.delete_blob("del/never", &digest).unwrap();
}
