//! The blob cache under pulls: what it saves in requests (counted by a proxy), hard links, several
//! processes pulling one digest into one cache at once, least-recently-used eviction.

use std::fs;

use azcontainerregistry::artifact::{self, PullOptions};
use azcontainerregistry::cache::Cache;

use super::counting::CountingProxy;
use super::push_one;
use crate::support::child::{self, Child};
use crate::support::{Registry, client, pseudo_random};

fn cached(cache: &Cache) -> PullOptions {
    PullOptions {
        cache: Some(cache.clone()),
        ..Default::default()
    }
}

fn blob_gets(proxy: &CountingProxy) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|r| r.contains("/blobs/"))
        .count()
}

#[test]
fn a_cached_pull_sends_the_manifest_request_at_most_and_by_digest_nothing() {
    let reg = Registry::start();
    let proxy = CountingProxy::start(reg.host_port());
    let bytes = pseudo_random(1 << 20, 3);
    let digest = push_one(&client(&reg.url()), "cached/x:v1", "data.bin", &bytes);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));

    let first = tempfile::tempdir().unwrap();
    let r = artifact::pull(
        &client(&proxy.url()),
        "cached/x:v1",
        first.path(),
        cached(&cache),
    )
    .unwrap();
    assert!(!r.files[0].cached && !r.manifest_cached);
    assert_eq!(blob_gets(&proxy), 1, "{:?}", proxy.requests());

    // by tag: the manifest only
    proxy.reset();
    let second = tempfile::tempdir().unwrap();
    let r = artifact::pull(
        &client(&proxy.url()),
        "cached/x:v1",
        second.path(),
        cached(&cache),
    )
    .unwrap();
    assert!(r.files[0].cached);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("GET /v2/cached/x/manifests/v1 "),
        "{seen:?}"
    );
    assert_eq!(fs::read(second.path().join("data.bin")).unwrap(), bytes);

    // by digest: nothing at all
    proxy.reset();
    let third = tempfile::tempdir().unwrap();
    let by_digest = format!("cached/x@{digest}");
    let r = artifact::pull(
        &client(&proxy.url()),
        &by_digest,
        third.path(),
        cached(&cache),
    )
    .unwrap();
    assert!(r.manifest_cached && r.files[0].cached);
    assert_eq!(proxy.requests(), Vec::<String>::new());
    assert_eq!(fs::read(third.path().join("data.bin")).unwrap(), bytes);

    #[cfg(unix)]
    {
        // the same filesystem: a hard link to the cache's file, read-only
        use std::os::unix::fs::MetadataExt;
        let blob = cache.blob_path(&r.files[0].descriptor.digest);
        let (a, b) = (
            fs::metadata(&blob).unwrap(),
            fs::metadata(third.path().join("data.bin")).unwrap(),
        );
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
        assert!(b.permissions().readonly());
    }
}

#[test]
fn several_processes_pulling_one_digest_fetch_it_once() {
    const CHILDREN: usize = 4;
    if child::is_child(
        module_path!(),
        "several_processes_pulling_one_digest_fetch_it_once",
    ) {
        let cache = Cache::new(child::var("ART_CACHE"));
        let out = tempfile::tempdir().unwrap();
        let client = client(&child::var("ART_URL"));
        let r = artifact::pull(&client, "shared/x:v1", out.path(), cached(&cache)).unwrap();
        let want = pseudo_random(4 << 20, 9);
        assert!(fs::read(out.path().join("big.bin")).unwrap() == want);
        let _ = r;
        return;
    }
    let reg = Registry::start();
    let proxy = CountingProxy::start(reg.host_port());
    push_one(
        &client(&reg.url()),
        "shared/x:v1",
        "big.bin",
        &pseudo_random(4 << 20, 9),
    );
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let runs: Vec<_> = (0..CHILDREN)
        .map(|_| {
            let (url, cache_dir) = (proxy.url(), cache_dir.clone());
            std::thread::spawn(move || {
                Child::new(
                    module_path!(),
                    "several_processes_pulling_one_digest_fetch_it_once",
                )
                .env("ART_URL", url)
                .env("ART_CACHE", cache_dir)
                .run()
            })
        })
        .collect();
    for r in runs {
        r.join().expect("a child's runner panicked");
    }
    let seen = proxy.requests();
    let manifests = seen.iter().filter(|r| r.contains("/manifests/")).count();
    assert_eq!(manifests, CHILDREN, "{seen:?}");
    assert_eq!(blob_gets(&proxy), 1, "the blob is fetched once: {seen:?}");
    let names: Vec<_> = fs::read_dir(cache_dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the blob and the manifest, no temporary file: {names:?}"
    );
}

#[test]
fn the_least_recently_used_blobs_are_evicted_past_the_limit() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let size = 100_000;
    let a = pseudo_random(size, 1);
    let b = pseudo_random(size, 2);
    let c = pseudo_random(size, 3);
    push_one(&client, "lru/a:v1", "a", &a);
    push_one(&client, "lru/b:v1", "b", &b);
    push_one(&client, "lru/c:v1", "c", &c);
    let dir = tempfile::tempdir().unwrap();
    // room for two layers and the small manifests
    let cache = Cache::new(dir.path()).with_max_size(2 * size as u64 + 10_000);
    let out = tempfile::tempdir().unwrap();
    let pull = |r: &str| artifact::pull(&client, r, out.path(), cached(&cache)).unwrap();
    let layer = |r: &artifact::PullReport| r.files[0].descriptor.digest.clone();
    let ra = pull("lru/a:v1");
    std::thread::sleep(std::time::Duration::from_millis(20)); // distinct modification times
    let rb = pull("lru/b:v1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    // a is used again: b is now the least recently used
    assert!(pull("lru/a:v1").files[0].cached);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let rc = pull("lru/c:v1");
    assert!(
        cache.get(&layer(&ra), None).unwrap().is_some(),
        "a was used recently"
    );
    assert!(
        cache.get(&layer(&rb), None).unwrap().is_none(),
        "b was the least recently used"
    );
    assert!(
        cache.get(&layer(&rc), None).unwrap().is_some(),
        "c was just added"
    );
    assert!(cache.size().unwrap() <= cache.max_size());
    // an evicted blob is fetched again
    assert!(!pull("lru/b:v1").files[0].cached);
    assert_eq!(fs::read(out.path().join("b")).unwrap(), b);
}
