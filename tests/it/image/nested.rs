//! Nested indexes (an index listing an index) on the real registry: pull, copy and push carry
//! every level, children first; a manifest listed at several levels is carried once; the depth is
//! bounded by `ImageLimits::max_depth`.

use azcontainerregistry::image::{self, ImageLimits, Layout};
use azcontainerregistry::manifest::{Descriptor, ImageIndex, Manifest, media_type};
use azcontainerregistry::{Client, Digest, Error};

use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::{Registry, client};

/// Pushes a two-platform image as `multi/app:v1`, then an outer index as `multi/app:outer` that
/// lists that index and, again, its amd64 child. Returns (outer digest, inner index digest,
/// the layout the inner image came from).
fn push_nested(client: &Client) -> (Digest, Digest, tempfile::TempDir) {
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 1, 2048, 7);
    image::push(client, src.path(), None, "multi/app:v1", Default::default()).unwrap();
    let inner = client.get_manifest("multi/app", "v1").unwrap();
    let inner_descriptor = inner.descriptor();
    let amd = client
        .get_manifest("multi/app", built.child("amd64").1.as_str())
        .unwrap()
        .descriptor();
    let mut outer = ImageIndex::new(vec![inner_descriptor.clone(), amd]);
    outer.media_type = Some(media_type::OCI_INDEX.to_string());
    let bytes = Manifest::Index(outer).to_bytes();
    let outer_digest = client
        .upload_manifest("multi/app", "outer", &bytes, media_type::OCI_INDEX)
        .unwrap();
    assert_eq!(
        outer_digest,
        Descriptor::for_bytes(media_type::OCI_INDEX, &bytes).digest
    );
    (outer_digest, inner_descriptor.digest, src)
}

#[test]
fn pull_copy_and_push_carry_every_level_of_a_nested_index() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let (outer, inner, src) = push_nested(&client);

    // pull: every manifest of every level and every blob, each once
    let dst = tempfile::tempdir().unwrap();
    let pulled = image::pull(&client, "multi/app:outer", dst.path(), Default::default()).unwrap();
    assert_eq!(pulled.digest, outer);
    assert_eq!(
        pulled.manifests, 4,
        "outer, inner, and the two platform manifests"
    );
    let mut expected = verified_blob_files(src.path());
    expected.insert(outer.hex().to_string());
    assert_eq!(verified_blob_files(dst.path()), expected);
    let layout = Layout::open(dst.path()).unwrap();
    assert_eq!(layout.resolve(Some("outer")).unwrap().digest, outer);

    // copy to another repository: the inner index arrives before the outer one names it
    let copied = image::copy(
        &client,
        "multi/app:outer",
        &client,
        "copied/app:outer",
        Default::default(),
    )
    .unwrap();
    assert_eq!(copied.digest, outer);
    for digest in [&outer, &inner] {
        let got = client.get_manifest("copied/app", digest.as_str()).unwrap();
        assert_eq!(&got.descriptor().digest, digest);
    }

    // push the pulled layout to a third repository
    let pushed = image::push(
        &client,
        dst.path(),
        Some("outer"),
        "pushed/app:outer",
        Default::default(),
    )
    .unwrap();
    assert_eq!(pushed.digest, outer);
    assert!(
        client
            .manifest_exists("pushed/app", inner.as_str())
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_nested_index_deeper_than_max_depth_is_refused_before_anything_is_written() {
    let reg = Registry::start();
    let client = client(&reg.url());
    push_nested(&client);

    let dst = tempfile::tempdir().unwrap();
    let options = image::PullOptions {
        limits: ImageLimits {
            max_depth: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let e = image::pull(&client, "multi/app:outer", dst.path(), options).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                option: "max_depth",
                ..
            }
        ),
        "{e:?}"
    );
    let blobs = dst.path().join("blobs/sha256");
    let written = std::fs::read_dir(&blobs).map_or(0, |d| d.count());
    assert_eq!(written, 0, "nothing written");
}
