//! On the real distribution registry (2.8: no referrers API), so every referrer is listed in the
//! tag-schema index `sha256-<hex>` that the client maintains.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use azcontainerregistry::image::{self, CopyOptions, DiscoverOptions, Referrer};
use azcontainerregistry::{Digest, Manifest};

use super::{SBOM, SIG, shape};
use crate::support::layout::write_two_platform_image;
use crate::support::{Registry, client};

#[test]
fn attach_without_the_api_writes_the_tag_index_and_discover_walks_the_tree() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let img = reg.push_test_image("app", "v1", 64, 1);
    let subject: Digest = img.manifest_digest.parse().unwrap();

    let sig = image::attach(
        &c,
        "app:v1",
        &Referrer::new(SIG)
            .bytes(
                b"signature".to_vec(),
                "application/jose+json",
                Some("sig.jws"),
            )
            .annotation("io.example.signer", "alice"),
    )
    .unwrap();
    assert!(
        !sig.indexed_by_registry,
        "distribution 2.8 sends no OCI-Subject"
    );
    assert_eq!(sig.subject.digest, subject);
    let sbom = image::attach(
        &c,
        &format!("app@{subject}"),
        &Referrer::new(SBOM).bytes(br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec(), SBOM, None),
    )
    .unwrap();
    // a signature of the SBOM: a referrer of a referrer
    let sbom_sig = image::attach(
        &c,
        &format!("app@{}", sbom.descriptor.digest),
        &Referrer::new(SIG).bytes(b"sbom signature".to_vec(), "application/jose+json", None),
    )
    .unwrap();

    // the tag index as the registry stores it: both entries, with artifact type and annotations
    let index = c
        .get_manifest("app", image::referrers_tag(&subject))
        .unwrap()
        .manifest()
        .unwrap();
    let Manifest::Index(index) = index else {
        panic!("not an index: {index:?}")
    };
    assert_eq!(
        index.manifests,
        [sig.descriptor.clone(), sbom.descriptor.clone()]
    );
    assert_eq!(
        index.manifests[0].annotation("io.example.signer"),
        Some("alice")
    );
    // the artifact's manifest: the subject, the artifact type, the blob titled
    let pushed = c
        .get_manifest("app", &sig.descriptor.digest)
        .unwrap()
        .manifest()
        .unwrap();
    assert_eq!(pushed.subject().map(|s| &s.digest), Some(&subject));
    assert_eq!(pushed.artifact_type(), Some(SIG));
    let layer = &pushed.as_image().unwrap().layers[0];
    assert_eq!(layer.title(), Some("sig.jws"));
    assert_eq!(layer.media_type, "application/jose+json");

    let tree = image::discover(&c, "app:v1", DiscoverOptions::default()).unwrap();
    assert!(!tree.truncated);
    assert_eq!(
        shape(&tree),
        [
            (0, subject.clone(), None),
            (1, sig.descriptor.digest.clone(), Some(SIG.into())),
            (1, sbom.descriptor.digest.clone(), Some(SBOM.into())),
            (2, sbom_sig.descriptor.digest.clone(), Some(SIG.into())),
        ]
    );

    // the filter applies at every level: only the top signature (the SBOM's is under the SBOM)
    let only_sigs = DiscoverOptions {
        artifact_type: Some(SIG.into()),
        ..Default::default()
    };
    let tree = image::discover(&c, "app:v1", only_sigs).unwrap();
    assert_eq!(
        shape(&tree),
        [
            (0, subject.clone(), None),
            (1, sig.descriptor.digest.clone(), Some(SIG.into()))
        ]
    );

    // bounded depth: the deeper signature is left out, and the tree says so
    let shallow = DiscoverOptions {
        max_depth: 1,
        ..Default::default()
    };
    let tree = image::discover(&c, "app:v1", shallow).unwrap();
    assert!(tree.truncated);
    assert_eq!(shape(&tree).len(), 3);
    assert!(tree.referrers.iter().all(|n| n.referrers.is_empty()));

    // bounded count: an error, not a silent cut
    let few = DiscoverOptions {
        max_referrers: 2,
        ..Default::default()
    };
    let err = image::discover(&c, "app:v1", few).unwrap_err();
    assert!(err.to_string().contains("more than 2 referrers"), "{err}");
}

#[test]
fn attaching_the_same_artifact_twice_lists_it_once() {
    let reg = Registry::start();
    let c = client(&reg.url());
    reg.push_test_image("app", "v1", 16, 2);
    let r = Referrer::new(SIG).bytes(b"same".to_vec(), "application/jose+json", None);
    let a = image::attach(&c, "app:v1", &r).unwrap();
    let b = image::attach(&c, "app:v1", &r).unwrap();
    assert_eq!(a.descriptor, b.descriptor);
    let listed = c.list_referrers("app", &a.subject.digest, None).unwrap();
    assert_eq!(listed, [a.descriptor]);
}

#[test]
fn concurrent_attaches_to_one_subject_lose_nothing() {
    let reg = Registry::start();
    let url = reg.url();
    let img = reg.push_test_image("app", "v1", 16, 3);
    let subject: Digest = img.manifest_digest.parse().unwrap();
    const WRITERS: usize = 6;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|i| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                // one client per thread, as separate programs would have
                let c = client(&url);
                let r = Referrer::new(SIG).bytes(
                    format!("signature {i}").into_bytes(),
                    "application/jose+json",
                    None,
                );
                barrier.wait();
                image::attach(&c, "app:v1", &r).unwrap().descriptor.digest
            })
        })
        .collect();
    let attached: HashSet<Digest> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(attached.len(), WRITERS);
    let listed: HashSet<Digest> = client(&url)
        .list_referrers("app", &subject, None)
        .unwrap()
        .into_iter()
        .map(|d| d.digest)
        .collect();
    assert_eq!(listed, attached, "every writer's entry is in the tag index");
}

#[test]
fn copy_with_referrers_between_two_registries_keeps_the_tree_and_digests() {
    let (src, dst) = (Registry::start(), Registry::start());
    let (from, to) = (client(&src.url()), client(&dst.url()));
    src.push_test_image("app", "v1", 256, 4);
    let sig = image::attach(
        &from,
        "app:v1",
        &Referrer::new(SIG).bytes(b"sig".to_vec(), "application/jose+json", Some("sig")),
    )
    .unwrap();
    let sbom = image::attach(
        &from,
        "app:v1",
        &Referrer::new(SBOM).bytes(b"{}".to_vec(), SBOM, Some("sbom.json")),
    )
    .unwrap();
    image::attach(
        &from,
        &format!("app@{}", sbom.descriptor.digest),
        &Referrer::new(SIG).bytes(b"sbom sig".to_vec(), "application/jose+json", None),
    )
    .unwrap();
    let before = image::discover(&from, "app:v1", DiscoverOptions::default()).unwrap();

    // without --referrers nothing else moves
    let plain = image::copy(&from, "app:v1", &to, "plain:v1", CopyOptions::default()).unwrap();
    assert_eq!(plain.referrers, 0);
    let tree = image::discover(&to, "plain:v1", DiscoverOptions::default()).unwrap();
    assert!(tree.referrers.is_empty());

    let options = CopyOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::copy(&from, "app:v1", &to, "mirror/app:v2", options).unwrap();
    assert_eq!(report.referrers, 3);
    let after = image::discover(&to, "mirror/app:v2", DiscoverOptions::default()).unwrap();
    assert_eq!(shape(&after), shape(&before));
    // the artifacts themselves, byte for byte
    let a = from.get_manifest("app", &sig.descriptor.digest).unwrap();
    let b = to
        .get_manifest("mirror/app", &sig.descriptor.digest)
        .unwrap();
    assert_eq!(a.bytes, b.bytes);

    // copying again changes nothing in the index (no duplicate entries)
    let options = CopyOptions {
        referrers: true,
        ..Default::default()
    };
    image::copy(&from, "app:v1", &to, "mirror/app:v2", options).unwrap();
    let again = image::discover(&to, "mirror/app:v2", DiscoverOptions::default()).unwrap();
    assert_eq!(shape(&again), shape(&before));
}

#[test]
fn copy_with_referrers_carries_those_of_each_platform_manifest() {
    let (src, dst) = (Registry::start(), Registry::start());
    let (from, to) = (client(&src.url()), client(&dst.url()));
    let dir = tempfile::tempdir().unwrap();
    let img = write_two_platform_image(dir.path(), "v1", 1, 100, 5);
    image::push(&from, dir.path(), Some("v1"), "app:v1", Default::default()).unwrap();
    let (_, arm64) = img.child("arm64").clone();
    let on_index = image::attach(
        &from,
        "app:v1",
        &Referrer::new(SIG).bytes(b"index sig".to_vec(), "application/jose+json", None),
    )
    .unwrap();
    let on_arm64 = image::attach(
        &from,
        &format!("app@{arm64}"),
        &Referrer::new(SBOM).bytes(b"arm64 sbom".to_vec(), SBOM, None),
    )
    .unwrap();

    let options = CopyOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::copy(&from, "app:v1", &to, "app:v1", options).unwrap();
    assert_eq!(report.referrers, 2);
    let listed = |digest: &Digest| -> Vec<Digest> {
        to.list_referrers("app", digest, None)
            .unwrap()
            .into_iter()
            .map(|d| d.digest)
            .collect()
    };
    assert_eq!(listed(&img.index), [on_index.descriptor.digest]);
    assert_eq!(listed(&arm64), [on_arm64.descriptor.digest]);

    // one platform selected: its referrers come along, the index's do not (another digest)
    let only_arm = CopyOptions {
        referrers: true,
        platforms: vec!["linux/arm64".parse().unwrap()],
        ..Default::default()
    };
    let report = image::copy(&from, "app:v1", &to, "arm:v1", only_arm).unwrap();
    assert_eq!(report.digest, arm64);
    assert_eq!(report.referrers, 1);
}
