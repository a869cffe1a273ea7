//! Transfers that survive a cut connection: the real registry behind `support::FaultProxy`, cut at
//! several offsets in both directions, during downloads and uploads.

use std::io::{Cursor, Read};
use std::time::Duration;

use crate::support::{FaultProxy, Registry, pseudo_random, sha256_digest};
use azcontainerregistry::blob::{UploadMode, UploadOptions, UploadedBlob};
use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest, RetryOptions};

const BLOB: usize = 3 * 1024 * 1024 + 123;

fn fast_retries() -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            max_retries: 3,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn client(url: &str) -> BlobClient {
    BlobClient::new(url, Credential::anonymous(), fast_retries()).unwrap()
}

/// Cut offsets inside the response body (the response head is a few hundred bytes).
const DOWN_CUTS: [u64; 4] = [2_000, 100_000, 1_500_000, BLOB as u64 - 10];

#[test]
fn download_resumes_with_range_after_cuts() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(BLOB, 1);
    let digest: Digest = reg.push_blob("dl/a", &data).parse().unwrap();

    for (i, cut) in DOWN_CUTS.into_iter().enumerate() {
        // A fresh client per case, so the cut lands on the connection of this GET.
        let blobs = client(&proxy.url());
        let before_cuts = proxy.cuts();
        let before_bytes = proxy.bytes_downstream();
        proxy.cut_downstream_after(cut, 1);
        let mut reader = blobs.get_blob("dl/a", &digest).unwrap();
        let mut back = Vec::with_capacity(BLOB);
        match i % 2 {
            0 => {
                reader.read_to_end(&mut back).unwrap();
            }
            _ => {
                reader.copy_to(&mut back).unwrap();
            }
        }
        assert_eq!(proxy.cuts(), before_cuts + 1, "cut at {cut} did not happen");
        assert!(back == data, "cut at {cut}: wrong bytes");
        assert!(reader.is_verified());
        assert_eq!(reader.resumes(), 1, "cut at {cut}");
        // Only the missing tail came again: the second request asked for a Range.
        let moved = proxy.bytes_downstream() - before_bytes;
        assert!(
            moved < BLOB as u64 + 4096,
            "cut at {cut}: {moved} bytes came down for a {BLOB}-byte blob (whole blob fetched again?)"
        );
    }
}

#[test]
fn download_survives_repeated_cuts() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(BLOB, 2);
    let digest: Digest = reg.push_blob("dl/b", &data).parse().unwrap();

    // Every one of the next 4 connections is cut after 700 kB: 5 requests in all.
    let blobs = client(&proxy.url());
    proxy.cut_downstream_after(700_000, 4);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("b");
    let n = blobs.download_blob_to("dl/b", &digest, &target).unwrap();
    assert_eq!(n, BLOB as u64);
    assert!(std::fs::read(&target).unwrap() == data);
    assert_eq!(proxy.cuts(), 4);

    // (Giving up after a bounded number of attempts without progress is in `blob::acr_mock`, where
    // every resumed answer can be made to fail deterministically.)
    let _ = dir;
}

/// Uploads `data` with `mode`: from a seekable source in `chunk_size` chunks, or (not `seekable`)
/// from a plain reader with the whole blob in its first chunk, which it can start over from memory.
fn upload(
    blobs: &BlobClient,
    repo: &str,
    data: &[u8],
    (mode, seekable): (UploadMode, bool),
    chunk_size: usize,
) -> azcontainerregistry::Result<UploadedBlob> {
    let opts = UploadOptions {
        chunk_size,
        mode,
        ..Default::default()
    };
    if seekable {
        blobs.upload_blob_seekable(repo, Cursor::new(data), opts)
    } else {
        let whole = UploadOptions {
            chunk_size: 2 * 1024 * 1024,
            ..opts
        };
        blobs.upload_blob(repo, data, whole)
    }
}

fn upload_cases() -> Vec<(UploadMode, bool)> {
    vec![
        (UploadMode::Chunked, true),
        (UploadMode::Streamed, true),
        (UploadMode::Monolithic, true),
        (UploadMode::Auto, true),
        (UploadMode::Chunked, false),
    ]
}

#[test]
fn upload_recovers_from_cut_requests() {
    // Cuts in the request direction: in a request head (the registry saw nothing), or in a body
    // (the registry stored part of a chunk; distribution 2.8 then drops the session, so the
    // upload starts again, re-reading the seekable source).
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(1024 * 1024 + 77, 3);
    let expected = sha256_digest(&data);
    for (k, cut) in [150u64, 600, 70_000, 300_000, 900_000]
        .into_iter()
        .enumerate()
    {
        for (j, (mode, seekable)) in upload_cases().into_iter().enumerate() {
            if !seekable && cut > 100_000 {
                continue; // beyond the first chunk, see upload_from_plain_reader_cut_late_fails_cleanly
            }
            let repo = format!("up/c{k}-m{j}");
            let blobs = client(&proxy.url());
            let before = proxy.cuts();
            proxy.cut_upstream_after(cut, 1);
            let up = upload(&blobs, &repo, &data, (mode, seekable), 256 * 1024)
                .unwrap_or_else(|e| panic!("cut at {cut}, {mode:?}, seekable={seekable}: {e}"));
            proxy.clear_faults();
            assert_eq!(
                proxy.cuts(),
                before + 1,
                "cut at {cut}, {mode:?}: no cut happened"
            );
            assert_eq!(up.digest.as_str(), expected);
            assert_eq!(up.size, data.len() as u64);
            let raw = reg.request(
                "GET",
                &format!("/v2/{repo}/blobs/{expected}"),
                &[],
                &[],
                b"",
            );
            assert!(
                raw.body == data,
                "cut at {cut}, {mode:?}: the registry holds other bytes"
            );
        }
    }
}

#[test]
fn upload_recovers_from_lost_answers() {
    // Cuts in the response direction: the registry processed the request but the client never
    // heard. The upload asks where it stands; distribution 2.8 answers a status request on the
    // (now stale) location by dropping the session, so the upload starts again: by seeking, or
    // from a plain reader's first chunk still in memory.
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(1024 * 1024 + 77, 4);
    let expected = sha256_digest(&data);
    for (k, cut) in [100u64, 500, 1_000, 1_500, 2_500].into_iter().enumerate() {
        for (j, (mode, seekable)) in upload_cases().into_iter().enumerate() {
            let repo = format!("lost/c{k}-m{j}");
            let blobs = client(&proxy.url());
            let before = proxy.cuts();
            proxy.cut_downstream_after(cut, 1);
            let up =
                upload(&blobs, &repo, &data, (mode, seekable), 128 * 1024).unwrap_or_else(|e| {
                    panic!("response cut at {cut}, {mode:?}, seekable={seekable}: {e}")
                });
            let cut_happened = proxy.cuts() > before;
            proxy.clear_faults();
            assert_eq!(up.digest.as_str(), expected);
            let raw = reg.request(
                "GET",
                &format!("/v2/{repo}/blobs/{expected}"),
                &[],
                &[],
                b"",
            );
            assert!(
                raw.body == data,
                "response cut at {cut}, {mode:?}: the registry holds other bytes"
            );
            // Monolithic and streamed exchanges are short (two or three answers of a few hundred
            // bytes): the later offsets are past their end.
            if (mode == UploadMode::Chunked && seekable) || cut <= 500 {
                assert!(
                    cut_happened,
                    "response cut at {cut}, {mode:?}: no cut happened"
                );
            }
        }
    }
}

#[test]
fn upload_from_plain_reader_cut_late_fails_cleanly() {
    // Distribution drops a session whose PATCH broke after storing some bytes; a plain reader past
    // its first chunk cannot be re-read, so the upload fails (and is cancelled) instead of
    // storing garbage.
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(1024 * 1024, 5);
    let blobs = client(&proxy.url());
    proxy.cut_upstream_after(700_000, 1);
    let opts = UploadOptions {
        chunk_size: 128 * 1024,
        mode: UploadMode::Chunked,
        ..Default::default()
    };
    let e = blobs.upload_blob("late/a", &data[..], opts).unwrap_err();
    proxy.clear_faults();
    assert_eq!(proxy.cuts(), 1);
    assert!(e.is_transport() || e.is_not_found(), "{e}");
    let digest: Digest = sha256_digest(&data).parse().unwrap();
    assert_eq!(
        client(&reg.url())
            .check_blob_exists("late/a", &digest)
            .unwrap(),
        None
    );
}
