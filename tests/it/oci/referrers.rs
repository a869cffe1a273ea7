//! Referrers: the OCI 1.1 API (mockito) and the tag-schema fallback (real distribution 2.8, which
//! has no referrers API).

use crate::support::Registry;
use crate::support::client;
use azcontainerregistry::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, media_type};
use azcontainerregistry::{Client, Digest};
use mockito::Matcher;

const SBOM: &str = "application/vnd.example.sbom+json";
const SIG: &str = "application/vnd.example.signature";

/// Pushes an artifact manifest whose subject is `subject`; returns its descriptor.
fn push_referrer(
    reg: &Registry,
    client: &Client,
    repo: &str,
    subject: &Descriptor,
    artifact_type: &str,
) -> Descriptor {
    reg.push_blob(repo, b"{}");
    let mut m = ImageManifest::new(Descriptor::empty(), vec![]);
    m.artifact_type = Some(artifact_type.to_string());
    m.subject = Some(subject.clone());
    let manifest = Manifest::Image(m);
    let bytes = manifest.to_bytes();
    let digest = client
        .upload_manifest_typed(repo, Digest::of(&bytes).as_str(), &manifest)
        .unwrap();
    let mut d = Descriptor::new(media_type::OCI_MANIFEST, digest, bytes.len() as u64);
    d.artifact_type = Some(artifact_type.to_string());
    d
}

#[test]
fn tag_schema_fallback_on_a_registry_without_the_api() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let image = reg.push_test_image("app", "v1", 32, 7);
    let subject_digest: Digest = image.manifest_digest.parse().unwrap();
    let subject = Descriptor::new(
        media_type::OCI_MANIFEST,
        subject_digest.clone(),
        image.manifest.len() as u64,
    );

    assert!(
        client
            .list_referrers("app", &subject_digest, None)
            .unwrap()
            .is_empty(),
        "none yet"
    );

    let sbom = push_referrer(&reg, &client, "app", &subject, SBOM);
    let sig = push_referrer(&reg, &client, "app", &subject, SIG);
    // the fallback index a client maintains under sha256-<hex>
    let index = Manifest::Index(ImageIndex::new(vec![sbom.clone(), sig.clone()]));
    client
        .upload_manifest_typed("app", format!("sha256-{}", subject_digest.hex()), &index)
        .unwrap();

    let all = client.list_referrers("app", &subject_digest, None).unwrap();
    assert_eq!(
        all.iter().map(|d| &d.digest).collect::<Vec<_>>(),
        [&sbom.digest, &sig.digest]
    );
    let only_sbom = client
        .list_referrers("app", &subject_digest, Some(SBOM))
        .unwrap();
    assert_eq!(only_sbom.len(), 1);
    assert_eq!(only_sbom[0].digest, sbom.digest);
    assert!(
        client
            .list_referrers("app", &subject_digest, Some("none/such"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn referrers_api_with_server_side_filter_and_paging() {
    let mut server = mockito::Server::new();
    let subject = Digest::of(b"subject");
    let a = {
        let mut d = Descriptor::for_bytes(media_type::OCI_MANIFEST, b"a");
        d.artifact_type = Some(SBOM.into());
        d
    };
    let b = {
        let mut d = Descriptor::for_bytes(media_type::OCI_MANIFEST, b"b");
        d.artifact_type = Some(SIG.into());
        d
    };
    let path = format!("/v2/app/referrers/{subject}");
    let page1 = server
        .mock("GET", path.as_str())
        .match_query(Matcher::Missing)
        .match_header("accept", media_type::OCI_INDEX)
        .with_header("content-type", media_type::OCI_INDEX)
        .with_header("link", &format!("<{path}?next=2>; rel=\"next\""))
        .with_body(serde_json::to_vec(&ImageIndex::new(vec![a.clone()])).unwrap())
        .expect(1)
        .create();
    let page2 = server
        .mock("GET", path.as_str())
        .match_query(Matcher::UrlEncoded("next".into(), "2".into()))
        .with_header("content-type", media_type::OCI_INDEX)
        .with_body(serde_json::to_vec(&ImageIndex::new(vec![b.clone()])).unwrap())
        .expect(1)
        .create();
    let filtered = server
        .mock("GET", path.as_str())
        .match_query(Matcher::UrlEncoded("artifactType".into(), SBOM.into()))
        .with_header("content-type", media_type::OCI_INDEX)
        .with_header("oci-filters-applied", "artifactType")
        .with_body(serde_json::to_vec(&ImageIndex::new(vec![a.clone()])).unwrap())
        .expect(1)
        .create();
    let client = client(&server.url());
    let all = client.list_referrers("app", &subject, None).unwrap();
    assert_eq!(all, [a.clone(), b]);
    let sboms = client.list_referrers("app", &subject, Some(SBOM)).unwrap();
    assert_eq!(sboms, [a]);
    page1.assert();
    page2.assert();
    filtered.assert();
}
