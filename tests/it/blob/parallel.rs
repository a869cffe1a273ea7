//! Parallel ranged downloads of one blob: correct bytes over several connections, the digest
//! checked once (a corrupt range fails and leaves no file), one stream when the registry ignores
//! `Range`, short ranges completed, a cut range asked again, and an expiring storage URL resolved
//! again through the registry (which alone gets credentials).

use std::time::Duration;

use crate::support::blob_server::{Behaviour, BlobServer};
use crate::support::{FaultProxy, Registry, pseudo_random, sha256_digest};
use azcontainerregistry::{
    BlobClient, ClientOptions, Credential, Digest, Error, ParallelOptions, RetryOptions,
};

const KIB: u64 = 1024;

fn options(connections: usize) -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..Default::default()
        },
        parallel: ParallelOptions {
            connections,
            chunk_size: 64 * KIB,
            threshold: 128 * KIB,
            fan_out_below: u64::MAX,
        },
        ..Default::default()
    }
}

fn client(url: &str, credential: Credential) -> BlobClient {
    BlobClient::new(url, credential, options(4)).unwrap()
}

/// A 1 MiB + odd blob, its digest, and the path of its repository's blob URL.
fn blob() -> (Vec<u8>, Digest) {
    let data = pseudo_random(1024 * 1024 + 4321, 77);
    let digest = sha256_digest(&data).parse().unwrap();
    (data, digest)
}

fn download(blobs: &BlobClient, digest: &Digest) -> (tempfile::TempDir, Result<u64, Error>) {
    let dir = tempfile::tempdir().unwrap();
    let r = blobs.download_blob_to("r/x", digest, dir.path().join("out"));
    (dir, r)
}

fn ranged_gets(server: &BlobServer) -> usize {
    server
        .log()
        .iter()
        .filter(|l| l.method == "GET" && l.range.is_some())
        .count()
}

#[test]
fn ranges_over_several_connections_against_the_real_registry() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(3 * 1024 * 1024 + 17, 5);
    let digest: Digest = reg.push_blob("par/a", &data).parse().unwrap();
    let blobs = client(&proxy.url(), Credential::anonymous());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blob");
    let n = blobs.download_blob_to("par/a", &digest, &out).unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert!(
        proxy.connections() >= 3,
        "one blob came over {} connection(s)",
        proxy.connections()
    );
    // the head stream is dropped after its first chunk: what it over-read is bounded by the
    // socket buffers, far below the blob
    assert!(proxy.bytes_downstream() < 2 * data.len() as u64);

    // BlobReader reads in order too
    let mut reader = blobs.get_blob("par/a", &digest).unwrap();
    let mut got = Vec::new();
    std::io::copy(&mut reader, &mut got).unwrap();
    assert!(reader.is_verified());
    assert_eq!(got, data);
}

#[test]
fn a_cut_connection_in_one_range_is_asked_again() {
    let (data, digest) = blob();
    let server = BlobServer::start(
        data.clone(),
        Behaviour {
            cut_range_at: Some(5 * 64 * KIB),
            ..Default::default()
        },
    );
    let blobs = client(&server.url(), Credential::anonymous());
    let (dir, r) = download(&blobs, &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
    let again: Vec<_> = server
        .log()
        .into_iter()
        .filter_map(|l| l.range)
        .filter(|r| r.starts_with(&format!("bytes={}", 5 * 64 * KIB + 32 * KIB)))
        .collect();
    assert_eq!(again.len(), 1, "the rest of the cut range is asked once");
}

#[test]
fn a_corrupt_range_fails_the_digest_and_leaves_no_file() {
    let (data, digest) = blob();
    let server = BlobServer::start(
        data,
        Behaviour {
            corrupt_at: Some(700 * KIB),
            ..Default::default()
        },
    );
    let blobs = client(&server.url(), Credential::anonymous());
    let (dir, r) = download(&blobs, &digest);
    assert!(
        matches!(r, Err(Error::DigestMismatch { .. })),
        "expected a digest mismatch, got {r:?}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    assert!(ranged_gets(&server) >= 2, "the download was not parallel");
}

#[test]
fn a_registry_ignoring_range_is_read_over_one_stream() {
    let (data, digest) = blob();
    let server = BlobServer::start(
        data.clone(),
        Behaviour {
            ignore_range: true,
            ..Default::default()
        },
    );
    let blobs = client(&server.url(), Credential::anonymous());
    let (dir, r) = download(&blobs, &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
    // the first GET, then one probe for a range (answered 200 and dropped): nothing else
    assert_eq!(server.gets(), 2, "{:?}", server.log());
}

#[test]
fn small_blobs_take_one_get() {
    let data = pseudo_random(100 * 1024, 3);
    let digest: Digest = sha256_digest(&data).parse().unwrap();
    let server = BlobServer::start(data.clone(), Behaviour::default());
    let blobs = client(&server.url(), Credential::anonymous());
    let (_dir, r) = download(&blobs, &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(server.gets(), 1, "{:?}", server.log());
}

#[test]
fn short_ranges_are_completed() {
    let (data, digest) = blob();
    let server = BlobServer::start(
        data.clone(),
        Behaviour {
            short: Some(10_000),
            ..Default::default()
        },
    );
    let blobs = client(&server.url(), Credential::anonymous());
    let (dir, r) = download(&blobs, &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
}

#[test]
fn an_expired_storage_url_is_resolved_again_through_the_registry() {
    let (data, digest) = blob();
    let storage = BlobServer::start(
        data.clone(),
        Behaviour {
            sig_uses: Some(6),
            ..Default::default()
        },
    );
    let registry = BlobServer::start(
        Vec::new(),
        Behaviour {
            redirect_to: Some(storage.url()),
            ..Default::default()
        },
    );
    let blobs = client(
        &registry.url(),
        Credential::basic("user", "secret-password"),
    );
    let (dir, r) = download(&blobs, &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
    let refused = storage.log().iter().filter(|l| l.status == 403).count();
    assert!(refused >= 1, "the storage URL never expired");
    assert!(
        registry.gets() >= 2 && registry.gets() <= 1 + refused,
        "registry asked {} times for {refused} refusals",
        registry.gets()
    );
    assert!(
        storage.log().iter().all(|l| !l.authorization),
        "credentials went to the storage origin"
    );
}

/// A client that fans out only when the first 256 KiB range came slower than `below` bytes/s.
fn adaptive(url: &str, below: u64) -> BlobClient {
    let mut o = options(4);
    o.parallel.chunk_size = 256 * KIB;
    o.parallel.fan_out_below = below;
    BlobClient::new(url, Credential::anonymous(), o).unwrap()
}

#[test]
fn a_fast_first_stream_is_kept_and_a_slow_one_fans_out() {
    let (data, digest) = blob();
    // fast: loopback brings far more than 1 MiB/s, so one GET carries the whole blob
    let fast = BlobServer::start(data.clone(), Behaviour::default());
    let (dir, r) = download(&adaptive(&fast.url(), 1024 * KIB), &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
    assert_eq!(fast.gets(), 1, "{:?}", fast.log());

    // slow: at most 64 KiB per 20 ms (3.2 MiB/s) is below 64 MiB/s: ranges over 4 connections
    let slow = BlobServer::start(
        data.clone(),
        Behaviour {
            throttle: Some(Duration::from_millis(20)),
            ..Default::default()
        },
    );
    let (dir, r) = download(&adaptive(&slow.url(), 64 * 1024 * KIB), &digest);
    assert_eq!(r.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), data);
    assert!(ranged_gets(&slow) >= 2, "{:?}", slow.log());
}
