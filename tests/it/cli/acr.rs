//! The ACR-only commands of the `acr` CLI (src/bin/acr), run as a process against a mock ACR
//! (`support::acr_mock`, fixtures from tests/it/fixtures/): `show`, `set`, `manifests`, `tags` with
//! ordering, `delete-repo`, `delete` through `/acr/v1`, and `--auth auto` on a loopback endpoint
//! that must never try an Azure sign-in.
//!
//! Every CLI run is a new process with an empty token cache, so each run meets the challenge and
//! the anonymous token request once per scope; mocks count them exactly, and the catch-all fails
//! the test on anything else.

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{API_VERSION, AcrMock, fixture};
use crate::support::cli::{Acr, Run};
use mockito::{Matcher, Mock};

const REPO: &str = "library/hello-world";
const REPO_PATH: &str = "/acr/v1/library%2Fhello-world";
const HELLO: &str = "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";
const HELLO_SEGMENT: &str =
    "sha256%3Aa40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";

fn scope(action: &str) -> String {
    format!("repository:{REPO}:{action}")
}

/// `acr --api acr --auth anonymous --registry <mock> ARGS...`
fn acr(mock: &AcrMock, args: &[&str]) -> Run {
    Acr::new()
        .registry(&mock.url())
        .args(["--api", "acr", "--auth", "anonymous"])
        .args(args)
        .run()
}

/// `method path?api-version=...` with `Bearer access`, answering `status` and `body`, `hits` times.
fn acr_call(
    acr: &mut AcrMock,
    method: &str,
    path: &str,
    access: &str,
    status: usize,
    body: &str,
    hits: usize,
) -> Mock {
    acr.bearer_call(method, path, access)
        .json(status, body)
        .expect(hits)
        .create()
}

#[test]
fn show_prints_repository_tag_and_manifest_properties_as_lines_or_json() {
    let mut acr_mock = AcrMock::start();
    let read = scope("metadata_read");
    let tag_path = format!("{REPO_PATH}/_tags/latest");
    let manifest_path = format!("{REPO_PATH}/_manifests/{HELLO_SEGMENT}");
    let missing_path = format!("{REPO_PATH}/_tags/nope");
    let mut mocks = Vec::new();
    for (path, body, runs) in [
        (REPO_PATH, fixture("repository_properties.json"), 2),
        (&tag_path, fixture("tag_properties.json"), 2),
        (&manifest_path, fixture("manifest_properties.json"), 2),
    ] {
        mocks.extend(acr_mock.anonymous_login("GET", path, &read, "anon-read", runs));
        mocks.push(acr_call(
            &mut acr_mock,
            "GET",
            path,
            "anon-read",
            200,
            &body,
            runs,
        ));
    }
    mocks.extend(acr_mock.anonymous_login("GET", &missing_path, &read, "anon-read", 1));
    mocks.push(acr_call(
        &mut acr_mock,
        "GET",
        &missing_path,
        "anon-read",
        404,
        r#"{"errors":[{"code":"TAG_UNKNOWN","message":"the specified tag does not exist"}]}"#,
        1,
    ));
    acr_mock.seal();

    let repo = acr(&acr_mock, &["show", REPO]).quiet_success();
    assert_eq!(
        repo.stdout_lines(),
        [
            "repository:    library/hello-world",
            "registry:      myregistry.azurecr.io",
            "manifests:     3",
            "tags:          2",
            "created:       2024-04-25T02:20:46.8716497Z",
            "last updated:  2024-04-25T02:20:49.5614991Z",
            "can read/write/delete/list: yes/yes/yes/yes",
        ]
    );
    let json = acr(&acr_mock, &["show", REPO, "--json"])
        .quiet_success()
        .json();
    assert_eq!(json["imageName"], REPO);
    assert_eq!(json["registry"], "myregistry.azurecr.io");
    assert_eq!(json["manifestCount"], 3);
    assert_eq!(json["tagCount"], 2);
    assert_eq!(json["createdTime"], "2024-04-25T02:20:46.8716497Z");
    assert_eq!(json["changeableAttributes"]["deleteEnabled"], true);
    assert_eq!(json["changeableAttributes"]["teleportEnabled"], false);

    let tag = acr(&acr_mock, &["show", &format!("{REPO}:latest")]).quiet_success();
    assert_eq!(
        tag.stdout_lines(),
        [
            "tag:           library/hello-world:latest",
            &format!("digest:        {HELLO}"),
            "created:       2024-04-25T02:20:49.5614991Z",
            "last updated:  2024-04-25T02:20:49.5614991Z",
            "can read/write/delete/list: yes/yes/yes/yes",
        ]
    );
    let json = acr(&acr_mock, &["--json", "show", &format!("{REPO}:latest")])
        .quiet_success()
        .json();
    assert_eq!(json["imageName"], REPO);
    assert_eq!(json["tag"]["name"], "latest");
    assert_eq!(json["tag"]["digest"], HELLO);
    assert_eq!(
        json["tag"]["lastUpdateTime"],
        "2024-04-25T02:20:49.5614991Z"
    );
    assert_eq!(json["tag"]["changeableAttributes"]["writeEnabled"], true);

    let manifest = acr(&acr_mock, &["show", &format!("{REPO}@{HELLO}")]).quiet_success();
    assert_eq!(
        manifest.stdout_lines(),
        [
            &format!("manifest:      library/hello-world@{HELLO}"),
            "media type:    application/vnd.oci.image.manifest.v1+json",
            "platform:      -/-",
            "size:          12",
            "tags:          latest, v1",
            "created:       2024-04-25T02:20:49.498914Z",
            "last updated:  2024-04-25T02:20:49.5614991Z",
            "can read/write/delete/list: yes/yes/yes/yes",
        ]
    );
    let json = acr(&acr_mock, &["show", &format!("{REPO}@{HELLO}"), "--json"])
        .quiet_success()
        .json();
    assert_eq!(json["manifest"]["digest"], HELLO);
    assert_eq!(json["manifest"]["imageSize"], 12);
    assert_eq!(
        json["manifest"]["tags"],
        serde_json::json!(["latest", "v1"])
    );
    assert_eq!(
        json["manifest"]["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );

    let missing = acr(&acr_mock, &["show", &format!("{REPO}:nope")]);
    let line = missing.error_line(1);
    assert!(line.contains("TAG_UNKNOWN"), "{line}");

    acr_mock.verify_all(&mocks);
}

#[test]
fn set_sends_only_the_attributes_given() {
    let mut acr_mock = AcrMock::start();
    let write = scope("metadata_write");
    let tag_path = format!("{REPO_PATH}/_tags/latest");
    let manifest_path = format!("{REPO_PATH}/_manifests/{HELLO_SEGMENT}");
    let mut mocks = Vec::new();
    for (path, body, reply) in [
        (
            tag_path.as_str(),
            r#"{"deleteEnabled":false}"#,
            fixture("tag_properties_locked.json"),
        ),
        (
            REPO_PATH,
            r#"{"writeEnabled":false,"listEnabled":true}"#,
            fixture("repository_properties_locked.json"),
        ),
        (
            manifest_path.as_str(),
            r#"{"readEnabled":true}"#,
            fixture("manifest_properties.json"),
        ),
    ] {
        mocks.extend(acr_mock.anonymous_login("PATCH", path, &write, "anon-write", 1));
        mocks.push(
            acr_mock
                .bearer_call("PATCH", path, "anon-write")
                .match_header("content-type", "application/json")
                .match_body(Matcher::Exact(body.into()))
                .json(200, reply)
                .expect(1)
                .create(),
        );
    }
    acr_mock.seal();

    let tag = acr(
        &acr_mock,
        &["set", &format!("{REPO}:latest"), "--can-delete", "false"],
    )
    .quiet_success();
    // the state the registry answered with
    assert_eq!(
        tag.stdout(),
        "updated library/hello-world:latest (can read/write/delete/list: yes/no/no/yes)\n"
    );
    let repo = acr(
        &acr_mock,
        &["set", REPO, "--can-write", "false", "--can-list", "true"],
    )
    .quiet_success();
    assert_eq!(
        repo.stdout(),
        "updated library/hello-world (can read/write/delete/list: yes/yes/no/yes)\n"
    );
    let manifest = acr(
        &acr_mock,
        &[
            "--json",
            "set",
            &format!("{REPO}@{HELLO}"),
            "--can-read",
            "true",
        ],
    )
    .quiet_success()
    .json();
    assert_eq!(manifest["manifest"]["digest"], HELLO);
    assert_eq!(
        manifest["manifest"]["changeableAttributes"]["readEnabled"],
        true
    );

    // nothing to set: an error, no request (the catch-all would see it)
    let nothing = acr(&acr_mock, &["set", REPO]);
    let line = nothing.error_line(1);
    assert!(line.contains("--can-delete"), "{line}");

    acr_mock.verify_all(&mocks);
}

#[test]
fn manifests_lists_digests_newest_first_across_pages() {
    let mut acr_mock = AcrMock::start();
    let path = format!("{REPO_PATH}/_manifests");
    let read = scope("metadata_read");
    let mut mocks = acr_mock.anonymous_login("GET", &path, &read, "anon-read", 2);
    let last = "sha256%3Ae2f2a7762257cf7dbb6f60ca2d4ceb6dfd5cded189e92936f6933a5c298e6244";
    // the first page carries the options and the api-version; the next one is the Link as given
    let next = format!("{path}?last={last}&n=2&orderby=timedesc");
    mocks.push(acr_mock.page(
        &path,
        &format!("n=2&orderby=timedesc&{API_VERSION}"),
        "anon-read",
        "manifests_page1.json",
        Some(&next),
        2,
    ));
    mocks.push(acr_mock.page(
        &path,
        &format!("last={last}&n=2&orderby=timedesc"),
        "anon-read",
        "manifests_page2.json",
        None,
        2,
    ));
    acr_mock.seal();

    let args = [
        "manifests",
        REPO,
        "--orderby",
        "timedesc",
        "--page-size",
        "2",
    ];
    let out = acr(&acr_mock, &args).quiet_success();
    assert_eq!(
        out.stdout_lines(),
        [
            "sha256:e977c8289626230bad6785d6c726e674172cd4bc5605a48cf573f80dd78d829e",
            "sha256:e2f2a7762257cf7dbb6f60ca2d4ceb6dfd5cded189e92936f6933a5c298e6244",
            "sha256:54ff915453bf68be051c961b147054b6d5e9cfc9cdc1e4d171e406cdb45744ac",
            "sha256:8609f1753a27537fa5ea65336ba11cdfbc364f9430995d7e3039b6d3b0a31a27",
        ]
    );
    let json = acr(&acr_mock, &[&args[..], &["--json"]].concat())
        .quiet_success()
        .json();
    let items = json.as_array().expect("a JSON array");
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[3]["digest"],
        "sha256:8609f1753a27537fa5ea65336ba11cdfbc364f9430995d7e3039b6d3b0a31a27"
    );
    assert!(items[0]["lastUpdateTime"].is_string(), "{json}");

    acr_mock.verify_all(&mocks);
}

#[test]
fn tags_with_the_acr_api_are_ordered_by_the_registry() {
    let mut acr_mock = AcrMock::start();
    let path = format!("{REPO_PATH}/_tags");
    let read = scope("metadata_read");
    let mut mocks = acr_mock.anonymous_login("GET", &path, &read, "anon-read", 2);
    mocks.push(
        acr_mock
            .server
            .mock("GET", path.as_str())
            .match_query(Matcher::Exact(format!("orderby=timeasc&{API_VERSION}")))
            .match_header("authorization", "Bearer anon-read")
            .json(200, fixture("tags_page1.json"))
            .expect(2)
            .create(),
    );
    acr_mock.seal();

    let out = acr(&acr_mock, &["tags", REPO, "--orderby", "timeasc"]).quiet_success();
    assert_eq!(out.stdout_lines(), ["v5", "v4"]);
    let json = acr(&acr_mock, &["tags", REPO, "--orderby", "timeasc", "--json"])
        .quiet_success()
        .json();
    assert_eq!(json[0]["name"], "v5");
    assert_eq!(
        json[1]["digest"],
        "sha256:e2f2a7762257cf7dbb6f60ca2d4ceb6dfd5cded189e92936f6933a5c298e6244"
    );
    assert_eq!(json[1]["createdTime"], "2024-04-25T02:24:00.1234567Z");

    acr_mock.verify_all(&mocks);
}

#[test]
fn delete_repo_prints_what_was_deleted_and_a_missing_repository_is_done() {
    let mut acr_mock = AcrMock::start();
    let mut mocks =
        acr_mock.anonymous_login("DELETE", REPO_PATH, &scope("delete"), "anon-delete", 2);
    mocks.push(acr_call(
        &mut acr_mock,
        "DELETE",
        REPO_PATH,
        "anon-delete",
        202,
        &fixture("delete_repository.json"),
        2,
    ));
    mocks.extend(acr_mock.anonymous_login(
        "DELETE",
        "/acr/v1/gone",
        "repository:gone:delete",
        "anon-gone",
        1,
    ));
    mocks.push(acr_call(
        &mut acr_mock,
        "DELETE",
        "/acr/v1/gone",
        "anon-gone",
        404,
        r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        1,
    ));
    acr_mock.seal();

    let out = acr(&acr_mock, &["delete-repo", REPO]).quiet_success();
    assert_eq!(
        out.stdout(),
        "deleted library/hello-world: 3 manifests, 2 tags\n"
    );
    let json = acr(&acr_mock, &["delete-repo", REPO, "--json"])
        .quiet_success()
        .json();
    let expected: serde_json::Value =
        serde_json::from_str(&fixture("delete_repository.json")).unwrap();
    assert_eq!(json, expected);

    // 404: already gone, a success; a note says nothing was deleted
    let gone = acr(&acr_mock, &["delete-repo", "gone"]).success();
    assert_eq!(gone.stdout(), "deleted gone: 0 manifests, 0 tags\n");
    assert_eq!(
        gone.stderr(),
        "acr: note: the registry reported nothing deleted: gone does not exist (or the registry has no ACR API)\n"
    );

    acr_mock.verify_all(&mocks);
}

#[test]
fn delete_with_the_acr_api_untags_through_acr_v1_and_deletes_manifests_through_v2() {
    let mut acr_mock = AcrMock::start();
    let tag_path = format!("{REPO_PATH}/_tags/v1");
    let delete = scope("delete");
    let mut mocks = acr_mock.anonymous_login("DELETE", &tag_path, &delete, "anon-delete", 1);
    mocks.push(acr_call(
        &mut acr_mock,
        "DELETE",
        &tag_path,
        "anon-delete",
        202,
        "",
        1,
    ));
    let manifest_path = format!("/v2/{REPO}/manifests/{HELLO}");
    mocks.extend(acr_mock.anonymous_login("DELETE", &manifest_path, &delete, "anon-delete", 1));
    mocks.push(
        acr_mock
            .server
            .mock("DELETE", manifest_path.as_str())
            .match_header("authorization", "Bearer anon-delete")
            .with_status(202)
            .expect(1)
            .create(),
    );
    acr_mock.seal();

    let out = acr(&acr_mock, &["delete", &format!("{REPO}:v1")]).quiet_success();
    assert_eq!(out.stdout(), "deleted library/hello-world:v1\n");
    let out = acr(&acr_mock, &["delete", &format!("{REPO}@{HELLO}")]).quiet_success();
    assert_eq!(
        out.stdout(),
        format!("deleted library/hello-world@{HELLO}\n")
    );

    acr_mock.verify_all(&mocks);
}

#[test]
fn auto_auth_on_a_loopback_endpoint_never_signs_in_to_azure() {
    let mut acr_mock = AcrMock::start();
    let read = "registry:catalog:*";
    let mut mocks = acr_mock.anonymous_login("GET", "/acr/v1/_catalog", read, "anon-catalog", 1);
    mocks.push(
        acr_mock
            .bearer_call("GET", "/acr/v1/_catalog", "anon-catalog")
            .json(200, fixture("catalog_page3.json"))
            .expect(1)
            .create(),
    );
    // an ACR refresh-token exchange would mean an Azure AD token was obtained
    let exchange = acr_mock.exchange("any", "refresh", 0);
    mocks.push(
        acr_mock
            .server
            .mock("POST", "/oauth2/exchange")
            .match_query(Matcher::Any)
            .expect(0)
            .create(),
    );
    acr_mock.seal();
    let expected: serde_json::Value = serde_json::from_str(&fixture("catalog_page3.json")).unwrap();
    let names: Vec<String> = serde_json::from_value(expected["repositories"].clone()).unwrap();

    // Azure credentials in the environment, and the Azure AD authority on the mock: a sign-in
    // attempt would reach the catch-all (or fail the command), never the network
    let out = Acr::new()
        .registry(&acr_mock.url())
        .args(["--api", "acr", "repos"])
        .env("AZURE_CLIENT_ID", "x")
        .env("AZURE_TENANT_ID", "y")
        .env("AZURE_CLIENT_SECRET", "z")
        .env("AZURE_AUTHORITY_HOST", &acr_mock.url())
        .env(
            "IDENTITY_ENDPOINT",
            &format!("{}/msi/token", acr_mock.url()),
        )
        .env("IDENTITY_HEADER", "h")
        .env("MSI_ENDPOINT", &format!("{}/msi/token", acr_mock.url()))
        .run()
        .quiet_success();
    assert_eq!(out.stdout_lines(), names);

    exchange.assert();
    acr_mock.verify_all(&mocks);
}
