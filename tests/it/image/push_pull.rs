//! Whole images against the real distribution registry: push from and pull into OCI layouts, copy
//! within and across registries, two-platform indexes and platform selection, progress reports.
//! (Interop with skopeo is in `image::skopeo`.)

use std::sync::{Arc, Mutex};

use azcontainerregistry::image::{self, Layout, Progress, ProgressKind};
use azcontainerregistry::manifest::{Manifest, Platform};
use azcontainerregistry::{Digest, Error};

use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::{Registry, client};

#[test]
fn push_then_pull_a_two_platform_index_round_trips_every_digest() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 4096, 0);

    let pushed = image::push(
        &client,
        src.path(),
        Some("v1"),
        "multi/app:v1",
        Default::default(),
    )
    .unwrap();
    assert_eq!(pushed.digest, built.index);
    assert_eq!(pushed.manifests, 3);
    assert_eq!(pushed.blobs_transferred, built.blobs.len());
    assert_eq!(
        client
            .manifest_exists("multi/app", "v1")
            .unwrap()
            .unwrap()
            .digest,
        built.index
    );

    // pushing again skips every blob
    let again = image::push(
        &client,
        src.path(),
        Some("v1"),
        "multi/app:v1",
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        (again.blobs_transferred, again.blobs_skipped),
        (0, built.blobs.len())
    );

    let dst = tempfile::tempdir().unwrap();
    let pulled = image::pull(&client, "multi/app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(pulled.digest, built.index);
    assert_eq!(
        verified_blob_files(dst.path()),
        verified_blob_files(src.path()),
        "every blob and manifest came back"
    );
    let layout = Layout::open(dst.path()).unwrap();
    assert_eq!(layout.resolve(Some("v1")).unwrap().digest, built.index);

    // a second pull into the same layout fetches nothing
    let again = image::pull(&client, "multi/app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!((again.blobs_transferred, again.bytes_transferred), (0, 0));
}

#[test]
fn platform_selection_on_pull_and_copy() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 1, 1000, 0);
    image::push(
        &client,
        src.path(),
        None,
        "multi/app:v1",
        Default::default(),
    )
    .unwrap();
    let (arm, arm_digest) = built.child("arm64").clone();
    let amd_digest = &built.child("amd64").1;

    let dst = tempfile::tempdir().unwrap();
    let opts = image::PullOptions {
        platforms: vec![arm.clone()],
        ..Default::default()
    };
    let r = image::pull(&client, "multi/app:v1", dst.path(), opts).unwrap();
    assert_eq!(
        r.digest, arm_digest,
        "one platform: the child manifest itself"
    );
    let files = verified_blob_files(dst.path());
    assert!(
        files.contains(arm_digest.hex()) && !files.contains(amd_digest.hex()),
        "{files:?}"
    );
    assert!(
        !files.contains(built.index.hex()),
        "the source index is not part of a single-platform pull"
    );

    let none = image::PullOptions {
        platforms: vec![Platform::parse("windows/amd64").unwrap()],
        ..Default::default()
    };
    let e = image::pull(
        &client,
        "multi/app:v1",
        tempfile::tempdir().unwrap().path(),
        none,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { .. }) && e.to_string().contains("linux/arm64"),
        "{e}"
    );

    let copy = image::CopyOptions {
        platforms: vec![arm],
        ..Default::default()
    };
    let c = image::copy(&client, "multi/app:v1", &client, "single/app:arm", copy).unwrap();
    assert_eq!(c.digest, arm_digest);
    assert_eq!(
        client
            .manifest_exists("single/app", "arm")
            .unwrap()
            .unwrap()
            .digest,
        arm_digest
    );

    // both platforms named: a new index of just them (here: same children, but our own
    // serialization)
    let both = image::CopyOptions {
        platforms: vec![
            Platform::parse("linux/arm64").unwrap(),
            Platform::parse("linux/amd64").unwrap(),
        ],
        ..Default::default()
    };
    let c = image::copy(&client, "multi/app:v1", &client, "both/app:v1", both).unwrap();
    let m = client.get_manifest("both/app", "v1").unwrap();
    assert_eq!(m.digest, c.digest);
    let Manifest::Index(idx) = m.manifest().unwrap() else {
        panic!("an index")
    };
    assert_eq!(idx.manifests.len(), 2);
}

#[test]
fn copy_mounts_within_a_registry_and_streams_across_registries() {
    let a = Registry::start();
    let b = Registry::start();
    let (ca, cb) = (client(&a.url()), client(&b.url()));
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 20_000, 0);
    image::push(&ca, src.path(), None, "team/app:v1", Default::default()).unwrap();

    let within = image::copy(&ca, "team/app:v1", &ca, "mirror/app:v1", Default::default()).unwrap();
    assert_eq!(within.digest, built.index);
    assert_eq!(
        within.blobs_transferred, 0,
        "within one registry every blob is mounted"
    );
    assert_eq!(within.blobs_skipped, built.blobs.len());

    let across = image::copy(&ca, "team/app:v1", &cb, "copied/app:v1", Default::default()).unwrap();
    assert_eq!(across.digest, built.index);
    assert_eq!(across.blobs_transferred, built.blobs.len());
    let pulled = tempfile::tempdir().unwrap();
    image::pull(&cb, "copied/app:v1", pulled.path(), Default::default()).unwrap();
    assert_eq!(
        verified_blob_files(pulled.path()),
        verified_blob_files(src.path())
    );
}

#[test]
fn progress_reports_add_up_to_the_bytes_moved() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    write_two_platform_image(src.path(), "v1", 3, 300_000, 0);
    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = events.clone();
    let options = image::PushOptions {
        parallelism: 3,
        progress: Some(Arc::new(move |p: &Progress| {
            sink.lock().unwrap().push(p.clone())
        })),
        ..Default::default()
    };
    let report = image::push(&client, src.path(), None, "p/app:v1", options).unwrap();
    let events = events.lock().unwrap();
    let finished: Vec<&Progress> = events
        .iter()
        .filter(|e| e.kind == ProgressKind::Finished)
        .collect();
    assert_eq!(finished.len(), report.blobs_transferred);
    let sum: u64 = finished.iter().map(|e| e.size).sum();
    assert_eq!(sum, report.bytes_transferred);
    let last = events.last().unwrap();
    assert_eq!(
        (last.blobs_done, last.bytes_done),
        (last.blobs_total, last.bytes_total)
    );
    for f in &finished {
        let max_advanced = events
            .iter()
            .filter(|e| e.digest == f.digest && e.kind == ProgressKind::Advanced)
            .map(|e| e.transferred)
            .max()
            .unwrap_or(0);
        assert_eq!(
            max_advanced, f.size,
            "advances of {} reach its size",
            f.digest
        );
    }

    // pulling reports too
    let events2: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink2 = events2.clone();
    let opts = image::PullOptions {
        progress: Some(Arc::new(move |p: &Progress| {
            sink2.lock().unwrap().push(p.clone())
        })),
        ..Default::default()
    };
    let pulled = image::pull(
        &client,
        "p/app:v1",
        tempfile::tempdir().unwrap().path(),
        opts,
    )
    .unwrap();
    let total: u64 = events2
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == ProgressKind::Finished)
        .map(|e| e.size)
        .sum();
    assert_eq!(total, pulled.bytes_transferred);
    assert!(total > 0);
}

#[test]
fn references_naming_another_registry_are_refused() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let e = image::pull(
        &client,
        "elsewhere.io/app:v1",
        tempfile::tempdir().unwrap().path(),
        Default::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    let own = format!("{}/nothing:v1", reg.host_port());
    let e = image::pull(
        &client,
        &own,
        tempfile::tempdir().unwrap().path(),
        Default::default(),
    )
    .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn a_wrong_digest_target_is_refused_before_any_blob_moves() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 1, 2000, 0);
    let wrong = Digest::of(b"not the image");
    let e = image::push(
        &client,
        src.path(),
        None,
        &format!("app@{wrong}"),
        Default::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    let both = format!("app:v1@{}", built.index);
    let e = image::push(&client, src.path(), None, &both, Default::default()).unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    let blobs = client.blob_client();
    for b in &built.blobs {
        assert_eq!(
            blobs.check_blob_exists("app", b).unwrap(),
            None,
            "nothing was uploaded"
        );
    }
    // the right digest works
    let ok = image::push(
        &client,
        src.path(),
        None,
        &format!("app@{}", built.index),
        Default::default(),
    )
    .unwrap();
    assert_eq!(ok.digest, built.index);
}
