//! Registries with the referrers API (mocks that answer `GET /v2/{name}/referrers/{digest}` and
//! send `OCI-Subject`), and copies between them and the real distribution registry (tag schema):
//! the referrers are translated from one way of listing to the other, with the same digests.

use azcontainerregistry::image::{self, CopyOptions, DiscoverOptions};
use azcontainerregistry::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, media_type};
use mockito::{Matcher, Mock, ServerGuard};

use super::{SBOM, SIG, shape};
use crate::support::mock::{assert_all, strict_server};
use crate::support::{Registry, client};

/// A manifest the source mock serves, with its blobs.
struct Served {
    bytes: Vec<u8>,
    descriptor: Descriptor,
    blobs: Vec<Vec<u8>>,
}

fn image_manifest() -> Served {
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = b"layer bytes".to_vec();
    let m = Manifest::Image(ImageManifest::new(
        Descriptor::for_bytes(media_type::OCI_CONFIG, &config),
        vec![Descriptor::for_bytes(media_type::OCI_LAYER_TAR, &layer)],
    ));
    Served {
        bytes: m.to_bytes(),
        descriptor: m.descriptor(),
        blobs: vec![config, layer],
    }
}

fn artifact(subject: &Descriptor, artifact_type: &str, blob: &[u8]) -> Served {
    let mut m = ImageManifest::new(
        Descriptor::empty(),
        vec![Descriptor::for_bytes("application/octet-stream", blob)],
    );
    m.artifact_type = Some(artifact_type.into());
    m.subject = Some(subject.clone());
    let m = Manifest::Image(m);
    Served {
        bytes: m.to_bytes(),
        descriptor: m.descriptor(),
        blobs: vec![b"{}".to_vec(), blob.to_vec()],
    }
}

fn serve(server: &mut ServerGuard, s: &Served, tag: Option<&str>) -> Vec<Mock> {
    let mut mocks = Vec::new();
    let digest = s.descriptor.digest.to_string();
    for reference in std::iter::once(digest.as_str()).chain(tag) {
        mocks.push(
            server
                .mock("GET", format!("/v2/app/manifests/{reference}").as_str())
                .with_header("content-type", &s.descriptor.media_type)
                .with_header("docker-content-digest", &digest)
                .with_body(&s.bytes)
                .create(),
        );
    }
    for b in &s.blobs {
        let d = Descriptor::for_bytes("x/y", b);
        mocks.push(
            server
                .mock("GET", format!("/v2/app/blobs/{}", d.digest).as_str())
                .with_body(b)
                .create(),
        );
    }
    mocks
}

/// The referrers API's answer for `subject`.
fn referrers(server: &mut ServerGuard, subject: &Descriptor, listed: &[&Descriptor]) -> Mock {
    let index = ImageIndex::new(listed.iter().map(|d| (*d).clone()).collect());
    server
        .mock(
            "GET",
            format!("/v2/app/referrers/{}", subject.digest).as_str(),
        )
        .match_query(Matcher::Any)
        .with_header("content-type", media_type::OCI_INDEX)
        .with_body(Manifest::Index(index).to_bytes())
        .expect_at_least(1)
        .create()
}

#[test]
fn discover_and_copy_from_a_registry_with_the_api_to_one_without() {
    let (mut server, unexpected) = strict_server();
    let img = image_manifest();
    let sig = artifact(&img.descriptor, SIG, b"sig");
    let sbom = artifact(&img.descriptor, SBOM, b"sbom");
    let sbom_sig = artifact(&sbom.descriptor, SIG, b"sbom sig");
    // what the mock serves (not every route is used: these are not asserted)
    let mut served = serve(&mut server, &img, Some("v1"));
    for a in [&sig, &sbom, &sbom_sig] {
        served.extend(serve(&mut server, a, None));
    }
    let mut mocks = Vec::new();
    let listed = [&sig.descriptor, &sbom.descriptor];
    mocks.push(referrers(&mut server, &img.descriptor, &listed));
    mocks.push(referrers(
        &mut server,
        &sbom.descriptor,
        &[&sbom_sig.descriptor],
    ));
    mocks.push(referrers(&mut server, &sig.descriptor, &[]));
    mocks.push(referrers(&mut server, &sbom_sig.descriptor, &[]));
    let from = client(&server.url());

    let tree = image::discover(&from, "app:v1", DiscoverOptions::default()).unwrap();
    let expected = vec![
        (0, img.descriptor.digest.clone(), None),
        (1, sig.descriptor.digest.clone(), Some(SIG.to_string())),
        (1, sbom.descriptor.digest.clone(), Some(SBOM.to_string())),
        (2, sbom_sig.descriptor.digest.clone(), Some(SIG.to_string())),
    ];
    assert_eq!(shape(&tree), expected);

    let reg = Registry::start();
    let to = client(&reg.url());
    let options = CopyOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::copy(&from, "app:v1", &to, "mirror:v1", options).unwrap();
    assert_eq!(report.referrers, 3);
    // at the target they are listed in the tag schema
    let index = to
        .get_manifest("mirror", image::referrers_tag(&img.descriptor.digest))
        .unwrap();
    let Manifest::Index(index) = index.manifest().unwrap() else {
        panic!("no index")
    };
    assert_eq!(
        index.manifests,
        [sig.descriptor.clone(), sbom.descriptor.clone()]
    );
    let there = image::discover(&to, "mirror:v1", DiscoverOptions::default()).unwrap();
    assert_eq!(shape(&there), expected);
    assert_all(&mocks);
    unexpected.assert();
}

#[test]
fn copy_from_the_tag_schema_to_a_registry_with_the_api_writes_no_tag_index() {
    let reg = Registry::start();
    let from = client(&reg.url());
    let img = reg.push_test_image("app", "v1", 32, 9);
    let sig = image::attach(
        &from,
        "app:v1",
        &image::Referrer::new(SIG).bytes(b"sig".to_vec(), "application/jose+json", None),
    )
    .unwrap();

    // the target has every blob already and the referrers API; the catch-all refuses anything
    // else, a PUT of the sha256-<hex> tag above all
    let (mut server, unexpected) = strict_server();
    let heads = server
        .mock(
            "HEAD",
            Matcher::Regex(r"^/v2/mirror/blobs/sha256:[0-9a-f]{64}$".into()),
        )
        .with_header("content-length", "1")
        .expect_at_least(1)
        .create();
    let put_image = server
        .mock("PUT", "/v2/mirror/manifests/v1")
        .match_body(img.manifest.clone())
        .with_status(201)
        .expect(1)
        .create();
    let put_sig = server
        .mock(
            "PUT",
            format!("/v2/mirror/manifests/{}", sig.descriptor.digest).as_str(),
        )
        .with_status(201)
        .with_header("oci-subject", &img.manifest_digest)
        .expect(1)
        .create();
    let probe = server
        .mock(
            "GET",
            format!("/v2/mirror/referrers/{}", img.manifest_digest).as_str(),
        )
        .with_header("content-type", media_type::OCI_INDEX)
        .with_body(Manifest::Index(ImageIndex::new(vec![])).to_bytes())
        .expect(1)
        .create();
    let to = client(&server.url());
    let options = CopyOptions {
        referrers: true,
        ..Default::default()
    };
    let report = image::copy(&from, "app:v1", &to, "mirror:v1", options).unwrap();
    assert_eq!(report.referrers, 1);
    assert_all([&heads, &put_image, &put_sig, &probe]);
    unexpected.assert();
}

#[test]
fn discover_stops_at_a_listing_that_loops() {
    // a hostile registry lists the subject among its referrer's referrers, and the referrer among
    // its own: each manifest shows once, and the walk ends
    let (mut server, unexpected) = strict_server();
    let img = image_manifest();
    let sig = artifact(&img.descriptor, SIG, b"sig");
    let _served = serve(&mut server, &img, Some("v1"));
    let mocks = [
        referrers(&mut server, &img.descriptor, &[&sig.descriptor]),
        referrers(
            &mut server,
            &sig.descriptor,
            &[&img.descriptor, &sig.descriptor],
        ),
    ];
    let tree = image::discover(&client(&server.url()), "app:v1", DiscoverOptions::default());
    assert_eq!(
        shape(&tree.unwrap()),
        [
            (0, img.descriptor.digest.clone(), None),
            (1, sig.descriptor.digest.clone(), Some(SIG.to_string())),
        ]
    );
    assert_all(&mocks);
    unexpected.assert();
}
