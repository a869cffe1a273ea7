//! Manifest operations against a mock ACR: `GET /acr/v1/{name}/_manifests` paging with `orderby`,
//! `GET`/`PATCH /acr/v1/{name}/_manifests/{digest}` by digest and by tag (the tag resolved through
//! `GET /acr/v1/{name}/_tags/{tag}`), and `DELETE /v2/{name}/manifests/{digest}` by digest and by
//! tag (the tag resolved with `HEAD /v2/{name}/manifests/{tag}`).
//!
//! Shapes follow the recordings test_list_registry_artifacts_by_page, test_anon_access
//! (get_manifest_properties) and test_set_oci_manifest_stream_without_spaces_with_tag.

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{API_VERSION, AcrMock, FakeAad, fixture};
use azcontainerregistry::{
    ArtifactOrder, Credential, Error, ListManifestsOptions, ManifestAttributes,
    ManifestWriteableProperties,
};
use mockito::Matcher;

const AAD: &str = "aad-token-for-manifests";
const REFRESH: &str = "acr-refresh-token";
const REPO: &str = "library/hello-world";
const MANIFESTS: &str = "/acr/v1/library%2Fhello-world/_manifests";
const READ: &str = "repository:library/hello-world:metadata_read";
const WRITE: &str = "repository:library/hello-world:metadata_write";
const PULL: &str = "repository:library/hello-world:pull";
const DELETE: &str = "repository:library/hello-world:delete";
const HELLO: &str = "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";
/// The digest as it appears in an `/acr/v1` path segment.
const HELLO_SEGMENT: &str =
    "sha256%3Aa40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";
const FULL_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.artifact.manifest.v1+json";

#[test]
fn list_manifests_pages_newest_first_and_decodes_every_field() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", MANIFESTS, Matcher::Any, READ, 1);
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(READ, REFRESH, "manifests-read", 1);
    let last1 = "sha256%3Ae2f2a7762257cf7dbb6f60ca2d4ceb6dfd5cded189e92936f6933a5c298e6244";
    let last2 = "sha256%3A8609f1753a27537fa5ea65336ba11cdfbc364f9430995d7e3039b6d3b0a31a27";
    let pages = [
        acr.page(
            MANIFESTS,
            &format!("n=2&orderby=timedesc&{API_VERSION}"),
            "manifests-read",
            "manifests_page1.json",
            Some(&format!(
                "/acr/v1/library%2Fhello-world/_manifests?last={last1}&n=2&orderby=timedesc"
            )),
            1,
        ),
        acr.page(
            MANIFESTS,
            &format!("last={last1}&n=2&orderby=timedesc"),
            "manifests-read",
            "manifests_page2.json",
            Some(&format!(
                "/acr/v1/library%2Fhello-world/_manifests?last={last2}&n=2&orderby=timedesc"
            )),
            1,
        ),
        acr.page(
            MANIFESTS,
            &format!("last={last2}&n=2&orderby=timedesc"),
            "manifests-read",
            "manifests_page3.json",
            None,
            1,
        ),
    ];
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let manifests: Vec<ManifestAttributes> = client
        .list_manifests(
            REPO,
            ListManifestsOptions {
                page_size: Some(2),
                order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
                ..Default::default()
            },
        )
        .collect::<Result<_, _>>()
        .expect("list manifests");

    let digests: Vec<&str> = manifests.iter().map(|m| m.digest.as_str()).collect();
    assert_eq!(
        digests,
        [
            "sha256:e977c8289626230bad6785d6c726e674172cd4bc5605a48cf573f80dd78d829e",
            "sha256:e2f2a7762257cf7dbb6f60ca2d4ceb6dfd5cded189e92936f6933a5c298e6244",
            "sha256:54ff915453bf68be051c961b147054b6d5e9cfc9cdc1e4d171e406cdb45744ac",
            "sha256:8609f1753a27537fa5ea65336ba11cdfbc364f9430995d7e3039b6d3b0a31a27",
            HELLO,
        ]
    );
    assert!(
        manifests
            .windows(2)
            .all(|w| w[0].last_updated_on > w[1].last_updated_on),
        "newest first"
    );
    let first = &manifests[0];
    assert_eq!(first.tags, ["v5"]);
    assert_eq!(first.size, Some(1024));
    assert_eq!(first.architecture.as_deref(), Some("amd64"));
    assert_eq!(first.operating_system.as_deref(), Some("linux"));
    assert_eq!(
        first.media_type.as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(
        first.config_media_type.as_deref(),
        Some("application/vnd.oci.image.config.v1+json")
    );
    assert_eq!(
        first.changeable_attributes.quarantine_state.as_deref(),
        Some("Passed")
    );
    let created = first.created_on.as_ref().unwrap();
    assert_eq!(created.to_string(), "2024-04-25T02:25:00.0000005Z");
    assert_eq!(created.subsec_nanos(), 500);
    // "tags": null reads as no tags; unknown keys ("signatureRecord", "variant") are ignored
    assert!(manifests[2].tags.is_empty());
    let index = &manifests[3];
    assert_eq!(
        index.media_type.as_deref(),
        Some("application/vnd.oci.image.index.v1+json")
    );
    assert_eq!(index.architecture, None);
    let platforms: Vec<(&str, &str)> = index
        .related_artifacts
        .iter()
        .map(|r| {
            (
                r.architecture.as_deref().unwrap_or(""),
                r.operating_system.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(platforms, [("amd64", "linux"), ("arm64", "linux")]);
    assert_eq!(manifests[4].tags, ["latest", "v1"]);
    assert_eq!(manifests[4].size, Some(12));

    challenge.assert();
    exchange.assert();
    token.assert();
    for p in &pages {
        p.assert();
    }
    acr.verify();
}

fn properties_mock(acr: &mut AcrMock, token: &str, hits: usize) -> mockito::Mock {
    acr.server
        .mock("GET", format!("{MANIFESTS}/{HELLO_SEGMENT}").as_str())
        .match_query(Matcher::Exact(API_VERSION.into()))
        .match_header("authorization", format!("Bearer {token}").as_str())
        .match_header("accept", "application/json")
        .json(200, fixture("manifest_properties.json"))
        .expect(hits)
        .create()
}

fn tag_mock(acr: &mut AcrMock, token: &str, hits: usize) -> mockito::Mock {
    acr.bearer_call("GET", "/acr/v1/library%2Fhello-world/_tags/latest", token)
        .json(200, fixture("tag_properties.json"))
        .expect(hits)
        .create()
}

#[test]
fn get_manifest_properties_by_digest_and_by_tag() {
    let mut acr = AcrMock::start();
    // anonymous, as in the recording test_anon_access get_manifest_properties
    let challenge = acr.challenge(
        "GET",
        &format!("{MANIFESTS}/{HELLO_SEGMENT}"),
        Matcher::Any,
        READ,
        1,
    );
    let token = acr.anonymous_token(READ, "anon-read", 1);
    let props = properties_mock(&mut acr, "anon-read", 2);
    let tag = tag_mock(&mut acr, "anon-read", 1);
    acr.seal();

    let client = acr.client(Credential::anonymous());
    let by_digest = client
        .get_manifest_properties(REPO, HELLO)
        .expect("by digest");
    assert_eq!(by_digest.registry_login_server, "myregistry.azurecr.io");
    assert_eq!(by_digest.name, REPO);
    assert_eq!(by_digest.manifest.digest.as_str(), HELLO);
    assert_eq!(by_digest.manifest.tags, ["latest", "v1"]);
    // 6 fractional digits here, 7 in lastUpdateTime
    assert_eq!(
        by_digest.manifest.created_on.as_ref().unwrap().to_string(),
        "2024-04-25T02:20:49.498914Z"
    );
    assert_eq!(
        by_digest
            .manifest
            .last_updated_on
            .as_ref()
            .unwrap()
            .subsec_nanos(),
        561_499_100
    );

    let by_tag = client
        .get_manifest_properties(REPO, "latest")
        .expect("by tag");
    assert_eq!(by_tag, by_digest);

    acr.verify_all([&challenge, &token, &props, &tag]);
}

#[test]
fn update_manifest_properties_by_digest_and_by_tag() {
    let mut acr = AcrMock::start();
    let path = format!("{MANIFESTS}/{HELLO_SEGMENT}");
    let challenge = acr.challenge("PATCH", &path, Matcher::Any, WRITE, 1);
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let write = acr.token(WRITE, REFRESH, "manifest-write", 1);
    // the tag lookup needs metadata_read: fetched upfront, the challenge being known by then
    let read = acr.token(READ, REFRESH, "manifest-read", 1);
    let tag = tag_mock(&mut acr, "manifest-read", 1);
    let patch = acr
        .bearer_call("PATCH", path.as_str(), "manifest-write")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(
            r#"{"deleteEnabled":false,"writeEnabled":false}"#.into(),
        ))
        .json(200, fixture("manifest_properties_locked.json"))
        .expect(2)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let frozen = ManifestWriteableProperties {
        can_delete: Some(false),
        can_write: Some(false),
        ..Default::default()
    };
    let by_digest = client
        .update_manifest_properties(REPO, HELLO, &frozen)
        .expect("by digest");
    assert_eq!(by_digest.manifest.digest.as_str(), HELLO);
    assert_eq!(
        by_digest.manifest.changeable_attributes.can_delete,
        Some(false)
    );
    assert_eq!(
        by_digest.manifest.changeable_attributes.can_write,
        Some(false)
    );
    assert_eq!(
        by_digest.manifest.changeable_attributes.can_read,
        Some(true)
    );
    assert_eq!(
        by_digest
            .manifest
            .last_updated_on
            .as_ref()
            .unwrap()
            .to_string(),
        "2024-04-25T02:30:00.1000001Z"
    );
    let by_tag = client
        .update_manifest_properties(REPO, "latest", &frozen)
        .expect("by tag");
    assert_eq!(by_tag, by_digest);

    acr.verify_all([&challenge, &exchange, &write, &read, &tag, &patch]);
}

#[test]
fn delete_manifest_by_digest_and_by_tag() {
    let mut acr = AcrMock::start();
    let by_digest_path = format!("/v2/library/hello-world/manifests/{HELLO}");
    let challenge = acr.challenge(
        "DELETE",
        &by_digest_path,
        Matcher::Exact(String::new()),
        DELETE,
        1,
    );
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let delete_token = acr.token(DELETE, REFRESH, "manifest-delete", 1);
    let pull_token = acr.token(PULL, REFRESH, "manifest-pull", 1);
    let delete = acr
        .server
        .mock("DELETE", by_digest_path.as_str())
        .match_header("authorization", "Bearer manifest-delete")
        .with_status(202)
        .expect(2)
        .create();
    let head = acr
        .server
        .mock("HEAD", "/v2/library/hello-world/manifests/v1")
        .match_header("authorization", "Bearer manifest-pull")
        .match_header("accept", FULL_ACCEPT)
        .with_status(200)
        .with_header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .with_header("docker-content-digest", HELLO)
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    client.delete_manifest(REPO, HELLO).expect("by digest");
    client.delete_manifest(REPO, "v1").expect("by tag");

    acr.verify_all([
        &challenge,
        &exchange,
        &delete_token,
        &pull_token,
        &delete,
        &head,
    ]);
}

#[test]
fn delete_manifest_treats_404_as_deleted() {
    let mut acr = AcrMock::start();
    let by_digest_path = format!("/v2/hello-world/manifests/{HELLO}");
    let delete_scope = "repository:hello-world:delete";
    let pull_scope = "repository:hello-world:pull";
    let challenge = acr.challenge("DELETE", &by_digest_path, Matcher::Any, delete_scope, 1);
    let delete_token = acr.anonymous_token(delete_scope, "anon-delete", 1);
    let pull_token = acr.anonymous_token(pull_scope, "anon-pull", 1);
    let gone = acr
        .server
        .mock("DELETE", by_digest_path.as_str())
        .match_header("authorization", "Bearer anon-delete")
        .json(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        )
        .expect(1)
        .create();
    // a tag that does not exist: HEAD answers 404 (no body), nothing is deleted
    let head = acr
        .server
        .mock("HEAD", "/v2/hello-world/manifests/wrong-tag")
        .match_header("authorization", "Bearer anon-pull")
        .match_header("accept", FULL_ACCEPT)
        .with_status(404)
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(Credential::anonymous());
    client
        .delete_manifest("hello-world", HELLO)
        .expect("404 by digest");
    client
        .delete_manifest("hello-world", "wrong-tag")
        .expect("404 by tag");

    acr.verify_all([&challenge, &delete_token, &pull_token, &gone, &head]);
}

/// Deletes `hello-world:v1` anonymously where the tag's HEAD answers 200 with `header` (name,
/// value); returns the error, having asserted that no DELETE went out.
fn delete_v1_with_head_header(header: (&str, &str)) -> Error {
    let mut acr = AcrMock::start();
    let path = "/v2/hello-world/manifests/v1";
    let scope = "repository:hello-world:pull";
    let login = acr.anonymous_login("HEAD", path, scope, "anon-pull", 1);
    let head = acr
        .server
        .mock("HEAD", path)
        .match_header("authorization", "Bearer anon-pull")
        .with_status(200)
        .with_header(header.0, header.1)
        .expect(1)
        .create();
    acr.seal();
    let err = acr
        .client(Credential::anonymous())
        .delete_manifest("hello-world", "v1")
        .expect_err("no usable Docker-Content-Digest, no delete");
    acr.verify_all(login.iter().chain([&head])); // no DELETE went out
    err
}

#[test]
fn delete_manifest_by_tag_needs_the_digest_header() {
    let err =
        delete_v1_with_head_header(("content-type", "application/vnd.oci.image.manifest.v1+json"));
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("Docker-Content-Digest"), "{err}");
}

#[test]
fn a_malformed_digest_header_is_a_decode_error_not_bad_input() {
    let err = delete_v1_with_head_header(("docker-content-digest", "sha256:NOT-A-DIGEST"));
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}
