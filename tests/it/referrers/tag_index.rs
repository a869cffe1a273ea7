//! The tag-schema index under concurrent writers, on mocks that play the registry's part: a
//! conditional write refused (412) is read again and retried; a write another writer overwrote
//! (a registry without conditional requests) is noticed on the read-back and the entry put back.

use std::collections::BTreeMap;

use azcontainerregistry::image::{self, Referrer};
use azcontainerregistry::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest, media_type};
use mockito::{Matcher, Mock, ServerGuard};

use super::SIG;
use crate::support::client;
use crate::support::mock::{assert_all, strict_server};

/// The subject image the mock serves as `app:v1`.
pub fn subject_bytes() -> Vec<u8> {
    let config = Descriptor::for_bytes(media_type::OCI_CONFIG, b"{\"os\":\"linux\"}");
    Manifest::Image(ImageManifest::new(config, vec![])).to_bytes()
}

/// The artifact `image::attach` pushes for `Referrer::new(SIG).bytes(blob, "text/plain", None)`
/// on `subject`: the same manifest, built here from the public types.
pub fn expected_artifact(subject: &Descriptor, blob: &[u8]) -> (Vec<u8>, Descriptor) {
    let mut m = ImageManifest::new(
        Descriptor::empty(),
        vec![Descriptor::for_bytes("text/plain", blob)],
    );
    m.artifact_type = Some(SIG.into());
    m.subject = Some(subject.clone());
    let m = Manifest::Image(m);
    (m.to_bytes(), m.descriptor())
}

/// Mocks for what comes before the index: the subject, the blobs (present), the artifact's PUT
/// (answered without `OCI-Subject`, or with it when `oci_subject`).
pub fn before_the_index(
    server: &mut ServerGuard,
    blob: &[u8],
    oci_subject: bool,
) -> (Vec<Mock>, Descriptor, Descriptor) {
    let bytes = subject_bytes();
    let subject = Descriptor::for_bytes(media_type::OCI_MANIFEST, &bytes);
    let (artifact, descriptor) = expected_artifact(&subject, blob);
    let mut mocks = vec![
        server
            .mock("GET", "/v2/app/manifests/v1")
            .with_header("content-type", media_type::OCI_MANIFEST)
            .with_header("docker-content-digest", subject.digest.as_str())
            .with_body(&bytes)
            .create(),
    ];
    for b in [&b"{}"[..], blob] {
        let d = Descriptor::for_bytes("x/y", b);
        mocks.push(
            server
                .mock("HEAD", format!("/v2/app/blobs/{}", d.digest).as_str())
                .with_header("content-length", &b.len().to_string())
                .expect(1)
                .create(),
        );
    }
    let mut put = server
        .mock(
            "PUT",
            format!("/v2/app/manifests/{}", descriptor.digest).as_str(),
        )
        .match_body(artifact)
        .with_status(201)
        .with_header("docker-content-digest", descriptor.digest.as_str());
    if oci_subject {
        put = put.with_header("oci-subject", subject.digest.as_str());
    }
    mocks.push(put.expect(1).create());
    (mocks, subject, descriptor)
}

fn index_of(entries: &[&Descriptor]) -> Vec<u8> {
    Manifest::Index(ImageIndex::new(
        entries.iter().map(|d| (*d).clone()).collect(),
    ))
    .to_bytes()
}

fn other(n: u8) -> Descriptor {
    let mut d = Descriptor::for_bytes(media_type::OCI_MANIFEST, &[n]);
    d.artifact_type = Some("application/vnd.example.other".into());
    d.annotations = Some(BTreeMap::from([("n".to_string(), n.to_string())]));
    d
}

fn has(d: &Descriptor) -> Matcher {
    Matcher::Regex(d.digest.hex().to_string())
}

#[test]
fn a_refused_conditional_write_is_read_again_and_retried() {
    let (mut server, unexpected) = strict_server();
    let blob = b"signature".to_vec();
    let (mut mocks, subject, ours) = before_the_index(&mut server, &blob, false);
    let path = format!(
        "/v2/app/manifests/{}",
        image::referrers_tag(&subject.digest)
    );
    let (o1, o2) = (other(1), other(2));
    let mut get = |body: Vec<u8>, etag: &str, n: usize| {
        server
            .mock("GET", path.as_str())
            .with_header("content-type", media_type::OCI_INDEX)
            .with_header("etag", etag)
            .with_body(body)
            .expect(n)
            .create()
    };
    mocks.push(get(index_of(&[&o1]), "\"e1\"", 1));
    mocks.push(get(index_of(&[&o1, &o2]), "\"e2\"", 1));
    mocks.push(get(index_of(&[&o1, &o2, &ours]), "\"e3\"", 2));
    // the first write is refused: another writer added o2 after it was read
    mocks.push(
        server
            .mock("PUT", path.as_str())
            .match_header("if-match", "\"e1\"")
            .with_status(412)
            .expect(1)
            .create(),
    );
    mocks.push(
        server
            .mock("PUT", path.as_str())
            .match_header("if-match", "\"e2\"")
            .match_header("content-type", media_type::OCI_INDEX)
            .match_body(Matcher::AllOf(vec![has(&o1), has(&o2), has(&ours)]))
            .with_status(201)
            .expect(1)
            .create(),
    );
    let r = Referrer::new(SIG).bytes(blob, "text/plain", None);
    let attached = image::attach(&client(&server.url()), "app:v1", &r).unwrap();
    assert_eq!(attached.descriptor, ours);
    assert!(!attached.indexed_by_registry);
    assert_all(&mocks);
    unexpected.assert();
}

#[test]
fn an_entry_lost_to_an_unconditional_overwrite_is_put_back() {
    let (mut server, unexpected) = strict_server();
    let blob = b"signature".to_vec();
    let (mut mocks, subject, ours) = before_the_index(&mut server, &blob, false);
    let path = format!(
        "/v2/app/manifests/{}",
        image::referrers_tag(&subject.digest)
    );
    let o1 = other(1);
    // no index yet; after our write, another writer (who read "no index" too) wrote only o1
    mocks.push(
        server
            .mock("GET", path.as_str())
            .with_status(404)
            .expect(1)
            .create(),
    );
    let mut get = |body: Vec<u8>, n: usize| {
        server
            .mock("GET", path.as_str())
            .with_header("content-type", media_type::OCI_INDEX)
            .with_body(body)
            .expect(n)
            .create()
    };
    mocks.push(get(index_of(&[&o1]), 2)); // the read-back, then the new read
    mocks.push(get(index_of(&[&o1, &ours]), 2)); // both read-backs after the second write
    mocks.push(
        server
            .mock("PUT", path.as_str())
            .match_header("if-match", Matcher::Missing)
            .match_body(has(&ours))
            .with_status(201)
            .expect(1)
            .create(),
    );
    mocks.push(
        server
            .mock("PUT", path.as_str())
            .match_body(Matcher::AllOf(vec![has(&o1), has(&ours)]))
            .with_status(201)
            .expect(1)
            .create(),
    );
    let r = Referrer::new(SIG).bytes(blob, "text/plain", None);
    image::attach(&client(&server.url()), "app:v1", &r).unwrap();
    assert_all(&mocks);
    unexpected.assert();
}

#[test]
fn a_registry_that_answers_oci_subject_gets_no_tag_index() {
    // the catch-all fails any request for the sha256-<hex> tag
    let (mut server, unexpected) = strict_server();
    let blob = b"signature".to_vec();
    let (mocks, _subject, ours) = before_the_index(&mut server, &blob, true);
    let r = Referrer::new(SIG).bytes(blob, "text/plain", None);
    let attached = image::attach(&client(&server.url()), "app:v1", &r).unwrap();
    assert!(attached.indexed_by_registry);
    assert_eq!(attached.descriptor, ours);
    assert_all(&mocks);
    unexpected.assert();
}
