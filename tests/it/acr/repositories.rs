//! Repository operations against a mock ACR: `GET /acr/v1/_catalog` paging (items, pages,
//! continuation, resume, foreign next links), `GET`/`PATCH`/`DELETE /acr/v1/{name}`.
//!
//! Wire shapes follow /work/shared/acr-recordings (test_list_repository_names_by_page,
//! test_delete_repository).

use azcontainerregistry::{
    Credential, Error, ListRepositoriesOptions, Page, RepositoryWriteableProperties,
};
use mockito::Matcher;

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{API_VERSION, AcrMock, DEFAULT_AAD_SCOPE, FakeAad, fixture};
use crate::support::mock::CatchAll;

const AAD: &str = "aad-token-for-repositories";
const REFRESH: &str = "acr-refresh-token";
const CATALOG: &str = "/acr/v1/_catalog";
const CATALOG_SCOPE: &str = "registry:catalog:*";
const PAGE2_QUERY: &str = "last=library%2Fbusybox&n=2&orderby=";
const PAGE3_QUERY: &str = "last=repo142616d29b3f2b&n=2&orderby=";

const ALL_REPOSITORIES: [&str; 5] = [
    "library/alpine",
    "library/busybox",
    "library/hello-world",
    "repo142616d29b3f2b",
    "repo143711d29b3f2b",
];

/// The three catalog pages of the recording, each asked for with `token`, each expected `hits`
/// times (page 1 `first_hits` times).
fn catalog_pages(
    acr: &mut AcrMock,
    token: &str,
    first_hits: usize,
    hits: usize,
) -> Vec<mockito::Mock> {
    vec![
        acr.page(
            CATALOG,
            &format!("n=2&{API_VERSION}"),
            token,
            "catalog_page1.json",
            Some("/acr/v1/_catalog?last=library%2Fbusybox&n=2&orderby="),
            first_hits,
        ),
        acr.page(
            CATALOG,
            PAGE2_QUERY,
            token,
            "catalog_page2.json",
            Some("/acr/v1/_catalog?last=repo142616d29b3f2b&n=2&orderby="),
            hits,
        ),
        acr.page(
            CATALOG,
            PAGE3_QUERY,
            token,
            "catalog_page3.json",
            None,
            hits,
        ),
    ]
}

#[test]
fn list_repositories_follows_links_across_three_pages_with_one_challenge() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge(
        "GET",
        CATALOG,
        Matcher::Exact(format!("n=2&{API_VERSION}")),
        CATALOG_SCOPE,
        1,
    );
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(CATALOG_SCOPE, REFRESH, "catalog-access", 1);
    let pages = catalog_pages(&mut acr, "catalog-access", 1, 1);
    acr.seal();

    let aad = FakeAad::new(AAD);
    let client = acr.client(aad.credential());
    let names: Vec<String> = client
        .list_repositories(ListRepositoriesOptions {
            page_size: Some(2),
            ..Default::default()
        })
        .collect::<Result<_, _>>()
        .expect("list repositories");

    assert_eq!(names, ALL_REPOSITORIES);
    // one challenge for the whole listing: pages 2 and 3 carried the cached token
    challenge.assert();
    exchange.assert();
    token.assert();
    for p in &pages {
        p.assert();
    }
    assert_eq!(aad.calls(), 1);
    assert_eq!(aad.scopes(), vec![vec![DEFAULT_AAD_SCOPE.to_string()]]);
    acr.verify();
}

#[test]
fn pages_carry_continuations_that_resume_the_listing() {
    let mut acr = AcrMock::start();
    // anonymous ACR pull: the token comes from /oauth2/token with grant_type=password
    let challenge = acr.challenge(
        "GET",
        CATALOG,
        Matcher::Exact(format!("n=2&{API_VERSION}")),
        CATALOG_SCOPE,
        1,
    );
    let token = acr.anonymous_token(CATALOG_SCOPE, "anonymous-catalog", 1);
    // page 1 once; pages 2 and 3 twice: once through the options' continuation, once through
    // resume()
    let pages = catalog_pages(&mut acr, "anonymous-catalog", 1, 2);
    acr.seal();
    let client = acr.client(Credential::anonymous());

    let mut walk = client
        .list_repositories(ListRepositoriesOptions {
            page_size: Some(2),
            ..Default::default()
        })
        .pages();
    let first: Page<String> = walk.next().expect("a first page").expect("page 1");
    assert_eq!(first.items, ["library/alpine", "library/busybox"]);
    let continuation = first.continuation.expect("page 1 has a next page");
    assert_eq!(continuation, format!("{CATALOG}?{PAGE2_QUERY}"));
    drop(walk); // stop here, as a process would before saving the continuation

    // resume through the options (what another process would do with the saved string)
    let rest: Vec<String> = client
        .list_repositories(ListRepositoriesOptions {
            continuation: Some(continuation.clone()),
            // ignored: the continuation wins
            page_size: Some(7),
            last: Some("zzz".into()),
            max_pages: None,
        })
        .collect::<Result<_, _>>()
        .expect("resumed listing");
    assert_eq!(rest, ALL_REPOSITORIES[2..]);

    // resume through Pager::resume, page by page
    let pager = client
        .list_repositories(ListRepositoriesOptions::default())
        .resume(&continuation);
    assert_eq!(pager.continuation().as_deref(), Some(continuation.as_str()));
    let pages_after: Vec<Page<String>> = pager
        .pages()
        .collect::<Result<_, _>>()
        .expect("resumed pages");
    assert_eq!(pages_after.len(), 2);
    assert_eq!(
        pages_after[0].items,
        ["library/hello-world", "repo142616d29b3f2b"]
    );
    assert_eq!(
        pages_after[0].continuation.as_deref(),
        Some(format!("{CATALOG}?{PAGE3_QUERY}").as_str())
    );
    assert_eq!(pages_after[1].items, ["repo143711d29b3f2b"]);
    assert_eq!(pages_after[1].continuation, None);

    challenge.assert();
    token.assert();
    for p in &pages {
        p.assert();
    }
    acr.verify();
}

#[test]
fn a_next_link_to_another_host_is_refused_and_never_followed() {
    let (elsewhere, nothing_elsewhere) = CatchAll::decoy(r#"{"repositories":["stolen"]}"#);

    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", CATALOG, Matcher::Any, CATALOG_SCOPE, 1);
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(CATALOG_SCOPE, REFRESH, "catalog-access", 1);
    let link = format!(
        r#"<{}/acr/v1/_catalog?last=library%2Fbusybox&n=2>; rel="next""#,
        elsewhere.url()
    );
    let page1 = acr
        .server
        .mock("GET", CATALOG)
        .match_query(Matcher::Exact(format!("n=2&{API_VERSION}")))
        .match_header("authorization", "Bearer catalog-access")
        .with_status(200)
        .with_header("link", &link)
        .with_body(fixture("catalog_page1.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let results: Vec<_> = client
        .list_repositories(ListRepositoriesOptions {
            page_size: Some(2),
            ..Default::default()
        })
        .collect();
    assert_eq!(
        results.len(),
        1,
        "one error, then the listing ends: {results:?}"
    );
    match &results[0] {
        Err(Error::Redirect { what, url, .. }) => {
            assert_eq!(*what, "next-page link");
            assert!(url.starts_with(&elsewhere.url()), "{url}");
        }
        other => panic!("expected Error::Redirect, got {other:?}"),
    }

    acr.verify_all([&challenge, &exchange, &token, &page1]);
    nothing_elsewhere.assert();
}

#[test]
fn a_next_link_that_changes_scheme_is_refused() {
    let mut acr = AcrMock::start();
    let token = acr.anonymous_token(CATALOG_SCOPE, "anon", 1);
    let challenge = acr.challenge("GET", CATALOG, Matcher::Any, CATALOG_SCOPE, 1);
    let https_self = acr.url().replacen("http://", "https://", 1);
    let page1 = acr
        .bearer_call("GET", CATALOG, "anon")
        .with_status(200)
        .with_header(
            "link",
            &format!(r#"<{https_self}/acr/v1/_catalog?last=x>; rel="next""#),
        )
        .with_body(fixture("catalog_page1.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(Credential::anonymous());
    let mut pages = client
        .list_repositories(ListRepositoriesOptions::default())
        .pages();
    let err = pages.next().expect("one result").expect_err("refused");
    assert!(matches!(err, Error::Redirect { .. }), "{err:?}");
    assert!(pages.next().is_none(), "nothing after the refusal");
    acr.verify_all([&token, &challenge, &page1]);
}

const REPO_PATH: &str = "/acr/v1/library%2Fhello-world";

#[test]
fn get_repository_properties_reads_the_acr_shape() {
    let mut acr = AcrMock::start();
    let scope = "repository:library/hello-world:metadata_read";
    let challenge = acr.challenge(
        "GET",
        REPO_PATH,
        Matcher::Exact(API_VERSION.into()),
        scope,
        1,
    );
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(scope, REFRESH, "read-access", 1);
    let get = acr
        .bearer_call("GET", REPO_PATH, "read-access")
        .match_header("accept", "application/json")
        .json(200, fixture("repository_properties.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let props = client
        .get_repository_properties("library/hello-world")
        .expect("repository properties");
    assert_eq!(props.registry_login_server, "myregistry.azurecr.io");
    assert_eq!(props.name, "library/hello-world");
    assert_eq!(props.manifest_count, 3);
    assert_eq!(props.tag_count, 2);
    let created = props.created_on.as_ref().expect("createdTime");
    assert_eq!(created.to_string(), "2024-04-25T02:20:46.8716497Z");
    assert_eq!(created.unix_seconds(), 1_714_011_646);
    assert_eq!(created.subsec_nanos(), 871_649_700);
    assert_eq!(
        props
            .last_updated_on
            .as_ref()
            .map(|t| t.to_string())
            .as_deref(),
        Some("2024-04-25T02:20:49.5614991Z")
    );
    let attrs = &props.changeable_attributes;
    assert_eq!(
        (
            attrs.can_delete,
            attrs.can_write,
            attrs.can_read,
            attrs.can_list
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(attrs.teleport_enabled, Some(false));

    acr.verify_all([&challenge, &exchange, &token, &get]);
}

#[test]
fn update_repository_properties_sends_only_the_fields_set() {
    let mut acr = AcrMock::start();
    let scope = "repository:library/hello-world:metadata_write";
    let challenge = acr.challenge(
        "PATCH",
        REPO_PATH,
        Matcher::Exact(API_VERSION.into()),
        scope,
        1,
    );
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(scope, REFRESH, "write-access", 1);
    let patch = acr
        .bearer_call("PATCH", REPO_PATH, "write-access")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(r#"{"deleteEnabled":false}"#.into()))
        .json(200, fixture("repository_properties_locked.json"))
        .expect(1)
        .create();
    let patch_two = acr
        .bearer_call("PATCH", REPO_PATH, "write-access")
        .match_body(Matcher::Json(serde_json::json!({
            "writeEnabled": true,
            "listEnabled": false
        })))
        .with_status(200)
        .with_body(fixture("repository_properties.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let locked = client
        .update_repository_properties(
            "library/hello-world",
            &RepositoryWriteableProperties {
                can_delete: Some(false),
                ..Default::default()
            },
        )
        .expect("update");
    assert_eq!(locked.changeable_attributes.can_delete, Some(false));
    assert_eq!(locked.changeable_attributes.can_write, Some(true));
    assert_eq!(
        locked.last_updated_on.map(|t| t.to_string()).as_deref(),
        Some("2024-04-25T02:21:03.1234567Z")
    );
    client
        .update_repository_properties(
            "library/hello-world",
            &RepositoryWriteableProperties {
                can_write: Some(true),
                can_list: Some(false),
                ..Default::default()
            },
        )
        .expect("second update, token from the cache");

    acr.verify_all([&challenge, &exchange, &token, &patch, &patch_two]);
}

#[test]
fn delete_repository_returns_what_was_deleted_and_treats_404_as_done() {
    let mut acr = AcrMock::start();
    let scope = "repository:library/hello-world:delete";
    let challenge = acr.challenge(
        "DELETE",
        REPO_PATH,
        Matcher::Exact(API_VERSION.into()),
        scope,
        1,
    );
    let exchange = acr.exchange(AAD, REFRESH, 1);
    let token = acr.token(scope, REFRESH, "delete-access", 1);
    let delete = acr
        .bearer_call("DELETE", REPO_PATH, "delete-access")
        .json(202, fixture("delete_repository.json"))
        .expect(1)
        .create();
    // a second repository: the registry already knows the challenge, so the token is fetched
    // upfront
    let token_gone = acr.token("repository:gone:delete", REFRESH, "gone-access", 1);
    let delete_gone = acr.bearer_call("DELETE", "/acr/v1/gone", "gone-access")
        .json(404, r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"gone"}}]}"#)
        .expect(1)
        .create();
    // 202 without a body
    let token_empty = acr.token("repository:empty:delete", REFRESH, "empty-access", 1);
    let delete_empty = acr
        .bearer_call("DELETE", "/acr/v1/empty", "empty-access")
        .with_status(202)
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let result = client
        .delete_repository("library/hello-world")
        .expect("delete");
    let manifests: Vec<String> = result
        .deleted_manifests
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        manifests,
        [
            "sha256:396c00555fb67668f7c41d51f3d03277dd3d8084b862af6d35abdd0705c35980",
            "sha256:8609f1753a27537fa5ea65336ba11cdfbc364f9430995d7e3039b6d3b0a31a27",
            "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f",
        ]
    );
    assert_eq!(result.deleted_tags, ["latest", "v1"]);

    let gone = client
        .delete_repository("gone")
        .expect("404 counts as deleted");
    assert!(gone.deleted_manifests.is_empty() && gone.deleted_tags.is_empty());
    let empty = client.delete_repository("empty").expect("202 without body");
    assert!(empty.deleted_manifests.is_empty() && empty.deleted_tags.is_empty());

    challenge.assert();
    exchange.assert();
    acr.verify_all([
        &token,
        &delete,
        &token_gone,
        &delete_gone,
        &token_empty,
        &delete_empty,
    ]);
}

#[test]
fn delete_repository_reports_other_failures() {
    let mut acr = AcrMock::start();
    let scope = "repository:locked:delete";
    let challenge = acr.challenge("DELETE", "/acr/v1/locked", Matcher::Any, scope, 1);
    let token = acr.anonymous_token(scope, "anon-delete", 1);
    let refused = acr
        .bearer_call("DELETE", "/acr/v1/locked", "anon-delete")
        .with_status(405)
        .with_body(
            r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
        )
        .expect(1)
        .create();
    acr.seal();
    let err = acr
        .client(Credential::anonymous())
        .delete_repository("locked")
        .expect_err("405 is a failure");
    assert_eq!(err.status(), Some(405));
    assert!(
        err.has_code(azcontainerregistry::ErrorCode::Unsupported),
        "{err}"
    );
    acr.verify_all([&challenge, &token, &refused]);
}

#[test]
fn a_listing_that_fails_midway_can_be_resumed_from_the_failed_page() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", CATALOG, Matcher::Any, CATALOG_SCOPE, 1);
    let token = acr.anonymous_token(CATALOG_SCOPE, "anon", 1);
    let page1 = acr
        .server
        .mock("GET", CATALOG)
        .match_query(Matcher::Exact(format!("n=2&{API_VERSION}")))
        .match_header("authorization", "Bearer anon")
        .with_status(200)
        .with_header(
            "link",
            r#"</acr/v1/_catalog?last=library%2Fbusybox&n=2&orderby=>; rel="next""#,
        )
        .with_body(fixture("catalog_page1.json"))
        .expect(1)
        .create();
    // page 2 fails once (retries are off), then works
    let broken = acr
        .server
        .mock("GET", CATALOG)
        .match_query(Matcher::Exact(PAGE2_QUERY.into()))
        .match_header("authorization", "Bearer anon")
        .with_status(500)
        .expect(1)
        .create();
    let page2 = acr
        .server
        .mock("GET", CATALOG)
        .match_query(Matcher::Exact(PAGE2_QUERY.into()))
        .match_header("authorization", "Bearer anon")
        .with_status(200)
        .with_body(fixture("catalog_page2.json"))
        .expect(1)
        .create();
    acr.seal();
    let options = azcontainerregistry::ClientOptions {
        retry: azcontainerregistry::RetryOptions {
            max_retries: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let client = acr.client_with(Credential::anonymous(), options);

    let mut pager = client.list_repositories(ListRepositoriesOptions {
        page_size: Some(2),
        ..Default::default()
    });
    let mut seen = Vec::new();
    let mut failure = None;
    for item in pager.by_ref() {
        match item {
            Ok(name) => seen.push(name),
            Err(e) => failure = Some(e),
        }
    }
    assert_eq!(seen, ["library/alpine", "library/busybox"]);
    let failure = failure.expect("page 2 failed");
    assert_eq!(failure.status(), Some(500));
    assert!(pager.next().is_none(), "a failed listing stays ended");
    let continuation = pager.continuation().expect("the failed page");
    assert_eq!(continuation, format!("{CATALOG}?{PAGE2_QUERY}"));

    let rest: Vec<String> = pager
        .resume(&continuation)
        .collect::<Result<_, _>>()
        .expect("resumed after the failure");
    assert_eq!(rest, ["library/hello-world", "repo142616d29b3f2b"]);
    acr.verify_all([&challenge, &token, &page1, &broken, &page2]);
}
