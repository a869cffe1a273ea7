//! Challenges with several scopes, as real ACR sends for a cross-repository mount
//! (`scope="repository:target:pull,push repository:source:pull"`): the token request carries every
//! scope (one `scope` field each), and a mount asks for the source's `pull` before its first
//! request, so the first token has both.

use azcontainerregistry::blob::MountOutcome;
use azcontainerregistry::{Credential, Digest};
use mockito::Matcher;

use crate::support::acr_mock::{AcrMock, FakeAad};

const TARGET_PUSH: &str = "repository:target:pull,push";
/// As ACR writes it: the target first.
const MOUNT_SCOPES: &str = "repository:target:pull,push repository:source:pull";
/// As the client sends it: sorted.
const MOUNT_SCOPES_SORTED: &str = "repository:source:pull repository:target:pull,push";

fn mount_query(digest: &Digest) -> Matcher {
    Matcher::AllOf(vec![
        Matcher::UrlEncoded("mount".into(), digest.to_string()),
        Matcher::UrlEncoded("from".into(), "source".into()),
    ])
}

#[test]
fn a_mount_challenged_with_two_scopes_gets_one_token_for_both() {
    let mut acr = AcrMock::start();
    let digest = Digest::of(b"layer");
    let path = "/v2/target/blobs/uploads/";
    let challenge = acr.challenge("POST", path, mount_query(&digest), MOUNT_SCOPES, 1);
    let token = acr.anonymous_token(MOUNT_SCOPES_SORTED, "both", 1);
    let mount = acr
        .server
        .mock("POST", path)
        .match_query(mount_query(&digest))
        .match_header("authorization", "Bearer both")
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create();
    acr.seal();
    let blobs = acr.client(Credential::anonymous()).blob_client();
    let outcome = blobs.mount_blob("target", "source", &digest).unwrap();
    assert!(matches!(outcome, MountOutcome::Mounted), "{outcome:?}");
    acr.verify_all([&challenge, &token, &mount]);
}

#[test]
fn a_challenge_naming_more_scopes_than_asked_is_honoured_whole() {
    // An upload challenged with the target's and another repository's scopes (as after a mount
    // ACR could not serve): the token asked for carries both, through Azure AD too.
    let mut acr = AcrMock::start();
    let path = "/v2/target/blobs/uploads/";
    let challenge = acr.challenge("POST", path, Matcher::Missing, MOUNT_SCOPES, 1);
    let exchange = acr.exchange("aad", "refresh", 1);
    let token = acr.token(MOUNT_SCOPES_SORTED, "refresh", "both", 1);
    let start = acr
        .server
        .mock("POST", path)
        .match_query(Matcher::Missing)
        .match_header("authorization", "Bearer both")
        .with_status(202)
        .with_header("location", "/v2/target/blobs/uploads/u1?_state=s")
        .with_header("range", "0-0")
        .expect(1)
        .create();
    acr.seal();
    let aad = FakeAad::new("aad");
    let blobs = acr.client(aad.credential()).blob_client();
    let session = blobs.start_upload("target").unwrap();
    assert_eq!(session.offset(), 0);
    acr.verify_all([&challenge, &exchange, &token, &start]);
}

#[test]
fn a_mount_after_other_requests_asks_for_the_source_before_sending() {
    // The realm is known from a first request on the target: the mount's first request already
    // carries a token for both repositories, and is never challenged.
    let mut acr = AcrMock::start();
    let digest = Digest::of(b"layer");
    let head_path = format!("/v2/target/blobs/{digest}");
    let challenge = acr.challenge("HEAD", &head_path, Matcher::Any, TARGET_PUSH, 1);
    let first = acr.anonymous_token(TARGET_PUSH, "target-only", 1);
    let head = acr
        .server
        .mock("HEAD", head_path.as_str())
        .match_header("authorization", "Bearer target-only")
        .with_status(404)
        .expect(1)
        .create();
    let both = acr.anonymous_token(MOUNT_SCOPES_SORTED, "both", 1);
    let mount = acr
        .server
        .mock("POST", "/v2/target/blobs/uploads/")
        .match_query(mount_query(&digest))
        .match_header("authorization", "Bearer both")
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create();
    acr.seal();
    let blobs = acr.client(Credential::anonymous()).blob_client();
    assert_eq!(blobs.check_blob_exists("target", &digest).unwrap(), None);
    let outcome = blobs.mount_blob("target", "source", &digest).unwrap();
    assert!(matches!(outcome, MountOutcome::Mounted), "{outcome:?}");
    acr.verify_all([&challenge, &first, &head, &both, &mount]);
}
