//! Referrers through OCI image layouts: pulled with the image (listed in index.json without a
//! name, as oras does), read by skopeo, and pushed from the layout to another registry, where the
//! same tree shows with the same digests.

use std::process::Command;

use azcontainerregistry::Digest;
use azcontainerregistry::image::{
    self, DiscoverOptions, Layout, PullOptions, PushOptions, REF_NAME, Referrer,
};

use super::{SBOM, SIG, shape};
use crate::support::{self, Registry, client};

/// `skopeo --insecure-policy ARGS`: its stdout; panics with its output when it fails.
fn skopeo(args: &[&str]) -> Vec<u8> {
    let bin = support::require_tool("skopeo", "skopeo");
    let out = Command::new(&bin)
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "skopeo {args:?} failed ({}):\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn pull_with_referrers_into_a_layout_that_skopeo_reads_then_push_it_elsewhere() {
    let (src, dst) = (Registry::start(), Registry::start());
    let (from, to) = (client(&src.url()), client(&dst.url()));
    let img = src.push_test_image("app", "v1", 512, 21);
    let sig = image::attach(
        &from,
        "app:v1",
        &Referrer::new(SIG).bytes(b"sig".to_vec(), "application/jose+json", Some("sig.jws")),
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

    let dir = tempfile::tempdir().unwrap();
    let options = PullOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::pull(&from, "app:v1", dir.path(), options).unwrap();
    assert_eq!(report.referrers, 3);
    let entries = Layout::open(dir.path()).unwrap().index().unwrap().manifests;
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(entries[0].annotation(REF_NAME), Some("v1"));
    assert_eq!(
        entries[1], sig.descriptor,
        "unnamed, with artifact type and annotations"
    );
    assert!(
        entries[1..]
            .iter()
            .all(|e| e.annotation(REF_NAME).is_none())
    );

    // skopeo reads the image from that layout, and a referrer by its digest
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci:{}:v1", dir.path().display()),
    ]);
    assert_eq!(raw, img.manifest);
    let copy = tempfile::tempdir().unwrap();
    skopeo(&[
        "copy",
        "--preserve-digests",
        &format!("oci:{}:v1", dir.path().display()),
        &format!("oci:{}:v1", copy.path().display()),
    ]);

    // pushed from the layout with its referrers: the same tree there
    let options = PushOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::push(&to, dir.path(), Some("v1"), "mirror:v1", options).unwrap();
    assert_eq!(report.referrers, 3);
    let after = image::discover(&to, "mirror:v1", DiscoverOptions::default()).unwrap();
    assert_eq!(shape(&after), shape(&before));
    let subject: Digest = img.manifest_digest.parse().unwrap();
    let listed = to.list_referrers("mirror", &subject, None).unwrap();
    assert_eq!(listed, [sig.descriptor.clone(), sbom.descriptor.clone()]);

    // without the option, neither way carries them
    let plain = tempfile::tempdir().unwrap();
    image::pull(&from, "app:v1", plain.path(), PullOptions::default()).unwrap();
    assert_eq!(
        Layout::open(plain.path())
            .unwrap()
            .index()
            .unwrap()
            .manifests
            .len(),
        1
    );
    let report = image::push(
        &to,
        dir.path(),
        Some("v1"),
        "bare:v1",
        PushOptions::default(),
    )
    .unwrap();
    assert_eq!(report.referrers, 0);
    assert!(
        to.list_referrers("bare", &subject, None)
            .unwrap()
            .is_empty()
    );
}
