//! Upload and download round trips against the real distribution registry: every size class around
//! the chunk size, every upload mode, plain and seekable sources, the three ways of reading back,
//! and the `relativeurls` (ACR-style relative `Location`) variant.

use crate::support::blob_client;
use std::io::{Cursor, Read};

use crate::support::{Registry, pseudo_random, sha256_digest};
use azcontainerregistry::blob::{UploadMode, UploadOptions};
use azcontainerregistry::{BlobClient, Digest};

const CHUNK: usize = 64 * 1024;

fn sizes() -> Vec<(&'static str, usize)> {
    vec![
        ("empty", 0),
        ("one byte", 1),
        ("chunk-1", CHUNK - 1),
        ("exactly one chunk", CHUNK),
        ("3.5 chunks", CHUNK * 7 / 2),
    ]
}

/// Uploads `data`, checks the answer and reads it back through the registry's own API and ours.
fn round_trip(
    reg: &Registry,
    blobs: &BlobClient,
    repo: &str,
    data: &[u8],
    mode: UploadMode,
    seekable: bool,
) {
    let what = format!("{} bytes, {mode:?}, seekable={seekable}", data.len());
    let mut opts = UploadOptions {
        chunk_size: CHUNK,
        mode,
        ..Default::default()
    };
    if mode == UploadMode::Monolithic && !seekable && data.len() > CHUNK {
        // The PUT URL carries the digest: a plain reader larger than a chunk needs it up front.
        let e = blobs.upload_blob(repo, data, opts.clone()).unwrap_err();
        assert!(
            matches!(e, azcontainerregistry::Error::InvalidInput { .. }),
            "{what}: {e}"
        );
        opts.expected_digest = Some(sha256_digest(data).parse().unwrap());
        opts.skip_existing = false;
    }
    let up = if seekable {
        blobs.upload_blob_seekable(repo, Cursor::new(data), opts)
    } else {
        blobs.upload_blob(repo, data, opts)
    }
    .unwrap_or_else(|e| panic!("{what}: upload failed: {e}"));
    assert_eq!(up.digest.as_str(), sha256_digest(data), "{what}");
    assert_eq!(up.size, data.len() as u64, "{what}");
    assert!(!up.skipped, "{what}");

    // What the registry stored, read without our client.
    let raw = reg.request(
        "GET",
        &format!("/v2/{repo}/blobs/{}", up.digest),
        &[],
        &[],
        b"",
    );
    assert_eq!(raw.status, 200, "{what}: {}", raw.text());
    assert!(raw.body == data, "{what}: the registry holds other bytes");

    assert_eq!(
        blobs.check_blob_exists(repo, &up.digest).unwrap(),
        Some(data.len() as u64),
        "{what}"
    );

    let mut reader = blobs.get_blob(repo, &up.digest).unwrap();
    assert_eq!(reader.size(), Some(data.len() as u64));
    let mut back = Vec::new();
    reader.read_to_end(&mut back).unwrap();
    assert!(back == data, "{what}: get_blob returned other bytes");
    assert!(reader.is_verified(), "{what}");
    assert_eq!(reader.resumes(), 0);

    let mut copied = Vec::new();
    let n = blobs
        .get_blob(repo, &up.digest)
        .unwrap()
        .copy_to(&mut copied)
        .unwrap();
    assert_eq!(n, data.len() as u64, "{what}");
    assert!(copied == data, "{what}: copy_to wrote other bytes");
}

#[test]
fn every_size_and_mode_round_trips() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    for (i, (name, len)) in sizes().into_iter().enumerate() {
        let data = pseudo_random(len, 100 + i as u64);
        for (j, mode) in [
            UploadMode::Auto,
            UploadMode::Monolithic,
            UploadMode::Chunked,
            UploadMode::Streamed,
        ]
        .into_iter()
        .enumerate()
        {
            for seekable in [false, true] {
                // A repository per case, so no upload finds the blob of an earlier one.
                let repo = format!("rt/s{i}-m{j}-{}", if seekable { "seek" } else { "plain" });
                eprintln!("case {name}: {repo}");
                round_trip(&reg, &blobs, &repo, &data, mode, seekable);
            }
        }
    }
}

#[test]
fn relative_upload_locations_round_trip() {
    let reg = Registry::builder().relative_urls(true).start();
    // The registry really answers with relative locations.
    let r = reg.request("POST", "/v2/rel/probe/blobs/uploads/", &[], &[], b"");
    assert_eq!(r.status, 202);
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with("/v2/"),
        "expected a relative Location, got {location:?}"
    );

    let blobs = blob_client(&reg.url());
    for (i, (_, len)) in sizes().into_iter().enumerate() {
        let data = pseudo_random(len, 200 + i as u64);
        for (j, mode) in [
            UploadMode::Chunked,
            UploadMode::Streamed,
            UploadMode::Monolithic,
        ]
        .into_iter()
        .enumerate()
        {
            round_trip(&reg, &blobs, &format!("rel/s{i}-m{j}"), &data, mode, false);
        }
    }
}

#[test]
fn download_to_file_is_atomic() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(CHUNK * 5 + 17, 7);
    let digest: Digest = sha256_digest(&data).parse().unwrap();
    reg.push_blob("files/a", &data);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("layer.bin");

    let n = blobs.download_blob_to("files/a", &digest, &target).unwrap();
    assert_eq!(n, data.len() as u64);
    assert!(std::fs::read(&target).unwrap() == data);

    // A failed download leaves nothing behind, not even the temporary file, and does not touch an
    // existing file.
    let missing: Digest = sha256_digest(b"not there").parse().unwrap();
    let e = blobs
        .download_blob_to("files/a", &missing, &target)
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(
        std::fs::read(&target).unwrap() == data,
        "the existing file was touched"
    );
    let fresh = dir.path().join("fresh.bin");
    assert!(blobs.download_blob_to("files/a", &missing, &fresh).is_err());
    assert!(!fresh.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "leftovers: {names:?}");

    // A path that names no file is refused before any request.
    assert!(
        blobs
            .download_blob_to("files/a", &digest, dir.path().join(".."))
            .is_err()
    );
}

#[test]
fn corrupt_blob_is_an_error_at_eof_never_a_quiet_end() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(CHUNK * 2, 9);
    let digest_text = reg.push_blob("corrupt/a", &data);
    let digest: Digest = digest_text.parse().unwrap();
    // Flip one byte of the stored file behind the registry's back.
    let hex = digest.hex();
    let path = reg.storage_dir().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut stored = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    stored[1234] ^= 0xff;
    std::fs::write(&path, &stored).unwrap();

    let mut reader = blobs.get_blob("corrupt/a", &digest).unwrap();
    let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    // Reading on does not turn the failure into a clean end.
    assert!(reader.read(&mut [0u8; 16]).is_err());
    assert!(!reader.is_verified());

    let e = blobs
        .get_blob("corrupt/a", &digest)
        .unwrap()
        .copy_to(&mut Vec::new())
        .unwrap_err();
    assert!(
        matches!(e, azcontainerregistry::Error::DigestMismatch { .. }),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("x");
    assert!(
        blobs
            .download_blob_to("corrupt/a", &digest, &target)
            .is_err()
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a corrupt download left a file"
    );

    // A caller-supplied size that disagrees with the registry's is refused up front.
    let e = blobs
        .get_blob("corrupt/a", &digest)
        .unwrap()
        .with_expected_size(5)
        .unwrap_err();
    assert!(
        matches!(e, azcontainerregistry::Error::SizeMismatch { .. }),
        "{e}"
    );
}

#[test]
fn chunks_and_ranges() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(1000, 11);
    let digest: Digest = reg.push_blob("chunks/a", &data).parse().unwrap();

    let mut chunk = blobs.get_chunk("chunks/a", &digest, 100..200).unwrap();
    assert_eq!(chunk.content_range().range, 100..200);
    assert_eq!(chunk.content_range().total, Some(1000));
    let mut got = Vec::new();
    chunk.read_to_end(&mut got).unwrap();
    assert!(got == data[100..200]);

    // Past the end: clipped.
    let mut tail = blobs.get_chunk("chunks/a", &digest, 900..5000).unwrap();
    assert_eq!(tail.content_range().range, 900..1000);
    let mut got = Vec::new();
    tail.read_to_end(&mut got).unwrap();
    assert!(got == data[900..]);

    // Entirely beyond the end: the registry's 416.
    let e = blobs
        .get_chunk("chunks/a", &digest, 1000..1001)
        .unwrap_err();
    assert_eq!(e.status(), Some(416), "{e}");

    let r = blobs
        .check_chunk_exists("chunks/a", &digest, 10..20)
        .unwrap()
        .unwrap();
    assert_eq!((r.range, r.total), (10..20, Some(1000)));
    let missing: Digest = sha256_digest(b"nope").parse().unwrap();
    assert_eq!(
        blobs
            .check_chunk_exists("chunks/a", &missing, 0..1)
            .unwrap(),
        None
    );
    assert_eq!(blobs.check_blob_exists("chunks/a", &missing).unwrap(), None);
    let e = blobs.get_blob("chunks/a", &missing).unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Empty ranges are refused without a request (the registry would not know what to do).
    assert!(blobs.get_chunk("chunks/a", &digest, 5..5).is_err());
    let (start, end) = (7u64, 3u64);
    assert!(
        blobs
            .check_chunk_exists("chunks/a", &digest, start..end)
            .is_err()
    );
}

#[test]
fn expected_digest_skips_existing_and_rejects_wrong_content() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(CHUNK * 2 + 5, 12);
    let digest: Digest = sha256_digest(&data).parse().unwrap();
    let opts = || UploadOptions {
        expected_digest: Some(digest.clone()),
        chunk_size: CHUNK,
        ..Default::default()
    };

    let first = blobs.upload_blob("skip/a", &data[..], opts()).unwrap();
    assert!(!first.skipped);
    assert_eq!(first.digest, digest);
    // The second time nothing is read from the source.
    let mut never_read = FailingReader;
    let second = blobs
        .upload_blob("skip/a", &mut never_read, opts())
        .unwrap();
    assert!(second.skipped);
    assert_eq!(second.size, data.len() as u64);

    // skip_existing = false uploads again.
    let third = blobs
        .upload_blob(
            "skip/a",
            &data[..],
            UploadOptions {
                skip_existing: false,
                ..opts()
            },
        )
        .unwrap();
    assert!(!third.skipped);

    // Bytes that do not match the expected digest: refused, and nothing is stored under either
    // digest.
    let mut wrong = data.clone();
    wrong[3] ^= 1;
    for mode in [
        UploadMode::Auto,
        UploadMode::Chunked,
        UploadMode::Streamed,
        UploadMode::Monolithic,
    ] {
        let e = blobs
            .upload_blob("skip/b", &wrong[..], UploadOptions { mode, ..opts() })
            .expect_err("wrong bytes were accepted");
        let is_mismatch = matches!(e, azcontainerregistry::Error::DigestMismatch { .. })
            || e.has_code(azcontainerregistry::ErrorCode::DigestInvalid);
        assert!(is_mismatch, "{mode:?}: {e}");
    }
    assert_eq!(blobs.check_blob_exists("skip/b", &digest).unwrap(), None);
    let wrong_digest: Digest = sha256_digest(&wrong).parse().unwrap();
    assert_eq!(
        blobs.check_blob_exists("skip/b", &wrong_digest).unwrap(),
        None
    );
}

struct FailingReader;

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("the source was read although the blob exists")
    }
}

#[test]
fn source_errors_abort_the_upload() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }
    for mode in [UploadMode::Auto, UploadMode::Chunked, UploadMode::Streamed] {
        let e = blobs
            .upload_blob(
                "broken/a",
                Broken(CHUNK * 2 + 100),
                UploadOptions {
                    chunk_size: CHUNK,
                    mode,
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("disk on fire"), "{mode:?}: {e}");
    }
}
