//! Blobs through authentication: htpasswd (Basic) and the Docker token flow, the scopes each
//! operation asks for, and eight threads sharing one client (one token acquisition per scope).

use crate::support;
use crate::support::{blob_client, blob_client_with};
use std::io::Read;
use std::sync::Arc;

use crate::support::{Registry, pseudo_random, sha256_digest};
use azcontainerregistry::blob::{MountOutcome, UploadMode, UploadOptions};
use azcontainerregistry::{BlobClient, Credential, Digest};

/// `repository:x:push,pull` → `repository:x:pull,push`: distribution's challenges list actions in
/// random order (a Go map), and the client asks for the scope the challenge named.
fn normalize(scope: &str) -> String {
    match scope.rsplit_once(':') {
        Some((resource, actions)) => {
            let mut a: Vec<&str> = actions.split(',').collect();
            a.sort();
            format!("{resource}:{}", a.join(","))
        }
        None => scope.to_string(),
    }
}

/// Token requests that asked for `scope` (actions in any order).
fn scope_requests(issuer: &support::TokenIssuer, scope: &str) -> usize {
    let want = normalize(scope);
    issuer
        .requests()
        .iter()
        .filter(|r| r.scopes.iter().any(|s| normalize(s) == want))
        .count()
}

fn push_pull_delete(blobs: &BlobClient, repo: &str) {
    let data = pseudo_random(200_000, 5);
    let opts = UploadOptions {
        chunk_size: 64 * 1024,
        mode: UploadMode::Chunked,
        ..Default::default()
    };
    let up = blobs.upload_blob(repo, &data[..], opts).unwrap();
    assert_eq!(up.digest.as_str(), sha256_digest(&data));
    assert_eq!(
        blobs.check_blob_exists(repo, &up.digest).unwrap(),
        Some(data.len() as u64)
    );
    let mut back = Vec::new();
    blobs
        .get_blob(repo, &up.digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == data);
    blobs.delete_blob(repo, &up.digest).unwrap();
    assert_eq!(blobs.check_blob_exists(repo, &up.digest).unwrap(), None);
}

#[test]
fn htpasswd_push_pull_delete() {
    let reg = Registry::with_htpasswd("alice", "s3cret");
    let blobs = blob_client_with(&reg.url(), Credential::basic("alice", "s3cret"));
    push_pull_delete(&blobs, "auth/basic");

    let wrong = blob_client_with(&reg.url(), Credential::basic("alice", "nope"));
    let e = wrong.start_upload("auth/basic").unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    let anonymous = blob_client(&reg.url());
    let e = anonymous
        .check_blob_exists("auth/basic", &Digest::of(b"x"))
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
}

#[test]
fn token_auth_push_pull_delete_with_one_token_per_scope() {
    let reg = Registry::with_token_auth();
    let issuer = reg.token_issuer();
    let blobs = blob_client(&reg.url());
    push_pull_delete(&blobs, "auth/token");
    push_pull_delete(&blobs, "auth/token");
    // Every operation named its scope; each scope was fetched once, whatever the number of calls.
    assert_eq!(
        scope_requests(issuer, "repository:auth/token:pull,push"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    assert_eq!(
        scope_requests(issuer, "repository:auth/token:pull"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    assert_eq!(
        scope_requests(issuer, "repository:auth/token:delete"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    assert_eq!(issuer.token_requests(), 3, "{:?}", issuer.requests());
}

#[test]
fn token_auth_mount_asks_one_token_for_both_repositories() {
    let reg = Registry::with_token_auth();
    let issuer = reg.token_issuer();
    let data = pseudo_random(3000, 6);
    let digest: Digest = reg.push_blob("mnt/src", &data).parse().unwrap();
    let blobs = blob_client(&reg.url());
    match blobs.mount_blob("mnt/dst", "mnt/src", &digest).unwrap() {
        MountOutcome::Mounted => {}
        MountOutcome::UploadStarted(s) => panic!("not mounted: {s:?}"),
    }
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let mut scopes: Vec<String> = reqs[0].scopes.iter().map(|s| normalize(s)).collect();
    scopes.sort();
    assert_eq!(
        scopes,
        vec![
            "repository:mnt/dst:pull,push".to_string(),
            "repository:mnt/src:pull".to_string()
        ]
    );
    assert_eq!(
        blobs.check_blob_exists("mnt/dst", &digest).unwrap(),
        Some(3000)
    );
}

#[test]
fn eight_threads_share_one_client_and_one_token() {
    let reg = Registry::with_token_auth();
    let issuer = reg.token_issuer();
    let blobs = Arc::new(blob_client(&reg.url()));
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let blobs = Arc::clone(&blobs);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let data = pseudo_random(150_000 + i as usize * 1000, 40 + i);
                let mode = [
                    UploadMode::Chunked,
                    UploadMode::Streamed,
                    UploadMode::Monolithic,
                    UploadMode::Auto,
                ][i as usize % 4];
                barrier.wait(); // all start together: the first requests race for the token
                // With the digest known: a HEAD first (same scope), and monolithic works for any
                // size.
                let expected_digest = Some(sha256_digest(&data).parse().unwrap());
                let opts = UploadOptions {
                    chunk_size: 64 * 1024,
                    mode,
                    expected_digest,
                    ..Default::default()
                };
                let up = blobs.upload_blob("many/repo", &data[..], opts).unwrap();
                assert!(!up.skipped);
                assert_eq!(up.digest.as_str(), sha256_digest(&data));
                up.digest
            })
        })
        .collect();
    let digests: Vec<Digest> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Two scopes (HEAD: pull; upload: pull,push), each fetched once for all eight threads.
    assert_eq!(
        scope_requests(issuer, "repository:many/repo:pull"),
        1,
        "{:?}",
        issuer.requests()
    );
    assert_eq!(
        scope_requests(issuer, "repository:many/repo:pull,push"),
        1,
        "{:?}",
        issuer.requests()
    );
    assert_eq!(issuer.token_requests(), 2, "{:?}", issuer.requests());
    for d in &digests {
        let raw = reg.request(
            "HEAD",
            &format!("/v2/many/repo/blobs/{d}"),
            &["repository:many/repo:pull"],
            &[],
            b"",
        );
        assert_eq!(raw.status, 200, "{d}");
    }
}
