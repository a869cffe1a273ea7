//! Offline pulls: served from the cache without a request, or an error naming what is missing; by
//! tag through the digest the cache recorded for the tag.

use std::fs;

use azcontainerregistry::Error;
use azcontainerregistry::artifact::{self, PullOptions};
use azcontainerregistry::cache::Cache;

use super::counting::CountingProxy;
use super::push_one;
use crate::support::{Registry, client};

fn offline(cache: &Cache) -> PullOptions {
    PullOptions {
        cache: Some(cache.clone()),
        offline: true,
        ..Default::default()
    }
}

#[test]
fn offline_hits_send_nothing_and_misses_name_the_digest() {
    let reg = Registry::start();
    let proxy = CountingProxy::start(reg.host_port());
    let client = client(&proxy.url());
    let v1 = push_one(&client, "off/x:v1", "f.txt", b"one");
    let v2 = push_one(&client, "off/x:v2", "f.txt", b"two");
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let online = PullOptions {
        cache: Some(cache.clone()),
        ..Default::default()
    };
    let out = tempfile::tempdir().unwrap();
    artifact::pull(&client, "off/x:v1", out.path(), online).unwrap();
    proxy.reset();

    // by digest: from the cache
    let out = tempfile::tempdir().unwrap();
    let r = artifact::pull(&client, &format!("off/x@{v1}"), out.path(), offline(&cache)).unwrap();
    assert_eq!(r.digest, v1);
    assert_eq!(r.from_tag_record, None);
    assert_eq!(fs::read(out.path().join("f.txt")).unwrap(), b"one");

    // by tag: the recorded digest, and the report says so
    let out = tempfile::tempdir().unwrap();
    let r = artifact::pull(&client, "off/x:v1", out.path(), offline(&cache)).unwrap();
    assert_eq!(r.from_tag_record.as_ref().map(|t| &t.digest), Some(&v1));
    assert_eq!(fs::read(out.path().join("f.txt")).unwrap(), b"one");

    // misses: a digest never pulled, a tag never recorded
    let e =
        artifact::pull(&client, &format!("off/x@{v2}"), out.path(), offline(&cache)).unwrap_err();
    assert!(matches!(e, Error::Offline(_)), "{e:?}");
    assert!(e.to_string().contains(v2.as_str()), "{e}");
    let e = artifact::pull(&client, "off/x:v2", out.path(), offline(&cache)).unwrap_err();
    assert!(
        matches!(e, Error::Offline(_)) && e.to_string().contains("off/x:v2"),
        "{e}"
    );
    assert_eq!(
        proxy.requests(),
        Vec::<String>::new(),
        "offline sends nothing"
    );

    // the manifest cached, a blob gone: the error names the blob
    let layer = {
        let out = tempfile::tempdir().unwrap();
        let r = artifact::pull(&client, "off/x:v1", out.path(), offline(&cache)).unwrap();
        r.files[0].descriptor.digest.clone()
    };
    fs::remove_file(cache.blob_path(&layer)).unwrap();
    let e =
        artifact::pull(&client, &format!("off/x@{v1}"), out.path(), offline(&cache)).unwrap_err();
    assert!(e.to_string().contains(layer.as_str()), "{e}");

    // two layers, the second missing: the miss is found before the first is written
    let src = tempfile::tempdir().unwrap();
    super::write_tree(src.path(), &[("a.txt", b"aa"), ("b.txt", b"bb")]);
    let files = [
        artifact::FileSpec::new(src.path().join("a.txt")),
        artifact::FileSpec::new(src.path().join("b.txt")),
    ];
    let two = artifact::push(&client, "off/two:v1", &files, Default::default()).unwrap();
    let online = PullOptions {
        cache: Some(cache.clone()),
        ..Default::default()
    };
    artifact::pull(&client, "off/two:v1", out.path(), online).unwrap();
    fs::remove_file(cache.blob_path(&two.manifest.layers[1].digest)).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let pinned = format!("off/two@{}", two.digest);
    let e = artifact::pull(&client, &pinned, fresh.path(), offline(&cache)).unwrap_err();
    assert!(e.to_string().contains("b.txt"), "{e}");
    let left: Vec<_> = fs::read_dir(fresh.path()).unwrap().collect();
    assert!(left.is_empty(), "an offline miss writes nothing: {left:?}");

    // offline without a cache is refused
    let none = PullOptions {
        offline: true,
        ..Default::default()
    };
    assert!(artifact::pull(&client, "off/x:v1", out.path(), none).is_err());
}
