//! Tag operations against a mock ACR: `GET /acr/v1/{name}/_tags` paging with `orderby` and
//! `digest`, `GET`/`PATCH`/`DELETE /acr/v1/{name}/_tags/{tag}`. Repository names with `/` travel as
//! `%2F` in these paths, as in the recordings (test_list_tag_properties_order_descending,
//! test_update_tag_properties, test_anon_access).

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{API_VERSION, AcrMock, FakeAad, fixture};
use azcontainerregistry::{
    ArtifactOrder, Credential, Digest, ListTagsOptions, TagAttributes, TagWriteableProperties,
};
use mockito::Matcher;

const AAD: &str = "aad-token-for-tags";
const REFRESH: &str = "acr-refresh-token";
const TAGS: &str = "/acr/v1/library%2Fhello-world/_tags";
const READ: &str = "repository:library/hello-world:metadata_read";
const WRITE: &str = "repository:library/hello-world:metadata_write";
const DELETE: &str = "repository:library/hello-world:delete";
const HELLO_DIGEST: &str =
    "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";

/// The Azure AD flow of this file: `AAD` exchanged for `REFRESH`, which buys `access`.
const fn aad(access: &str) -> (&str, &str, &str) {
    (AAD, REFRESH, access)
}

#[test]
fn list_tags_pages_newest_first_with_one_challenge() {
    let mut acr = AcrMock::start();
    let login = acr.aad_login("GET", TAGS, READ, aad("tags-read"));
    let pages = [
        acr.page(
            TAGS,
            &format!("n=2&orderby=timedesc&{API_VERSION}"),
            "tags-read",
            "tags_page1.json",
            Some("/acr/v1/library%2Fhello-world/_tags?last=v4&n=2&orderby=timedesc"),
            1,
        ),
        acr.page(
            TAGS,
            "last=v4&n=2&orderby=timedesc",
            "tags-read",
            "tags_page2.json",
            Some("/acr/v1/library%2Fhello-world/_tags?last=v2&n=2&orderby=timedesc"),
            1,
        ),
        acr.page(
            TAGS,
            "last=v2&n=2&orderby=timedesc",
            "tags-read",
            "tags_page3.json",
            None,
            1,
        ),
    ];
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let tags: Vec<TagAttributes> = client
        .list_tags(
            "library/hello-world",
            ListTagsOptions {
                page_size: Some(2),
                order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
                ..Default::default()
            },
        )
        .collect::<Result<_, _>>()
        .expect("list tags");

    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v5", "v4", "v3", "v2", "latest"]);
    // times with 7 fractional digits, newest first
    let times: Vec<String> = tags
        .iter()
        .map(|t| {
            t.last_updated_on
                .as_ref()
                .expect("lastUpdateTime")
                .to_string()
        })
        .collect();
    assert_eq!(
        times,
        [
            "2024-04-25T02:25:00.0000005Z",
            "2024-04-25T02:24:00.1234567Z",
            "2024-04-25T02:23:00.7654321Z",
            "2024-04-25T02:22:00.9352988Z",
            "2024-04-25T02:20:47.6995047Z",
        ]
    );
    assert!(
        tags.windows(2)
            .all(|w| w[0].last_updated_on > w[1].last_updated_on)
    );
    assert_eq!(
        tags[0].last_updated_on.as_ref().unwrap().subsec_nanos(),
        500
    );
    assert_eq!(tags[4].digest.as_str(), HELLO_DIGEST);
    assert_eq!(tags[4].signed, Some(false));
    assert_eq!(tags[4].changeable_attributes.can_read, Some(true));

    for m in login.iter().chain(pages.iter()) {
        m.assert();
    }
    acr.verify();
}

#[test]
fn list_tags_filters_by_digest_and_resumes_page_by_page() {
    let mut acr = AcrMock::start();
    let scope = "repository:hello-world:metadata_read";
    let path = "/acr/v1/hello-world/_tags";
    let challenge = acr.challenge("GET", path, Matcher::Any, scope, 1);
    let token = acr.anonymous_token(scope, "anon-read", 1);
    let first_query = format!(
        "digest=sha256%3Aa40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f&{API_VERSION}"
    );
    let page1 = acr
        .server
        .mock("GET", path)
        .match_query(Matcher::AllOf(vec![
            Matcher::Exact(first_query),
            Matcher::UrlEncoded("digest".into(), HELLO_DIGEST.into()),
        ]))
        .match_header("authorization", "Bearer anon-read")
        .with_status(200)
        .with_header(
            "link",
            &format!(
                r#"</acr/v1/hello-world/_tags?last=latest&digest={HELLO_DIGEST}>; rel="next""#
            ),
        )
        .with_body(fixture("tags_page3.json"))
        .expect(1)
        .create();
    let page2 = acr
        .server
        .mock("GET", path)
        .match_query(Matcher::Exact(format!("last=latest&digest={HELLO_DIGEST}")))
        .match_header("authorization", "Bearer anon-read")
        .with_status(200)
        .with_body(r#"{"registry":"myregistry.azurecr.io","imageName":"hello-world","tags":null}"#)
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(Credential::anonymous());
    let mut pages = client
        .list_tags(
            "hello-world",
            ListTagsOptions {
                digest: Some(Digest::parse(HELLO_DIGEST).unwrap()),
                ..Default::default()
            },
        )
        .pages();
    let first = pages.next().expect("page 1").expect("page 1 ok");
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].name, "latest");
    let continuation = first.continuation.expect("a next page");
    assert_eq!(
        continuation,
        format!("/acr/v1/hello-world/_tags?last=latest&digest={HELLO_DIGEST}")
    );
    let second = pages.next().expect("page 2").expect("page 2 ok");
    assert!(second.items.is_empty(), "\"tags\": null is an empty page");
    assert!(second.continuation.is_none());
    assert!(pages.next().is_none());

    acr.verify_all([&challenge, &token, &page1, &page2]);
}

#[test]
fn get_tag_properties_with_a_slash_in_the_repository() {
    let mut acr = AcrMock::start();
    let path = "/acr/v1/library%2Fhello-world/_tags/latest";
    let login = acr.aad_login("GET", path, READ, aad("tag-read"));
    let get = acr
        .bearer_call("GET", path, "tag-read")
        .match_header("accept", "application/json")
        .json(200, fixture("tag_properties.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let props = client
        .get_tag_properties("library/hello-world", "latest")
        .expect("tag properties");
    assert_eq!(props.registry_login_server, "myregistry.azurecr.io");
    assert_eq!(props.name, "library/hello-world");
    assert_eq!(props.tag.name, "latest");
    assert_eq!(props.tag.digest.as_str(), HELLO_DIGEST);
    assert_eq!(
        props.tag.created_on.as_ref().unwrap().to_string(),
        "2024-04-25T02:20:49.5614991Z"
    );
    assert_eq!(
        props.tag.created_on.as_ref().unwrap().subsec_nanos(),
        561_499_100
    );

    for m in &login {
        m.assert();
    }
    get.assert();
    acr.verify();
}

#[test]
fn update_tag_properties_patches_only_what_is_set_and_returns_the_tag() {
    let mut acr = AcrMock::start();
    let path = "/acr/v1/library%2Fhello-world/_tags/latest";
    let login = acr.aad_login("PATCH", path, WRITE, aad("tag-write"));
    let lock = acr
        .bearer_call("PATCH", path, "tag-write")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(
            r#"{"deleteEnabled":false,"writeEnabled":false}"#.into(),
        ))
        .json(200, fixture("tag_properties_locked.json"))
        .expect(1)
        .create();
    // all four, as the Python SDK's recording sends them
    let unlock = acr.bearer_call("PATCH", path, "tag-write")
        .match_body(Matcher::JsonString(
            r#"{"deleteEnabled": true, "writeEnabled": true, "listEnabled": true, "readEnabled": true}"#
                .into(),
        ))
        .with_status(200)
        .with_body(fixture("tag_properties.json"))
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    let locked = client
        .update_tag_properties(
            "library/hello-world",
            "latest",
            &TagWriteableProperties {
                can_delete: Some(false),
                can_write: Some(false),
                ..Default::default()
            },
        )
        .expect("lock");
    assert_eq!(locked.tag.name, "latest");
    assert_eq!(locked.tag.changeable_attributes.can_delete, Some(false));
    assert_eq!(locked.tag.changeable_attributes.can_write, Some(false));
    assert_eq!(locked.tag.changeable_attributes.can_read, Some(true));

    let all = TagWriteableProperties {
        can_delete: Some(true),
        can_write: Some(true),
        can_list: Some(true),
        can_read: Some(true),
    };
    let unlocked = client
        .update_tag_properties("library/hello-world", "latest", &all)
        .expect("unlock");
    assert_eq!(
        TagWriteableProperties::from(&unlocked.tag.changeable_attributes),
        all
    );

    for m in &login {
        m.assert();
    }
    acr.verify_all([&lock, &unlock]);
}

#[test]
fn delete_tag_accepts_202_and_404() {
    let mut acr = AcrMock::start();
    let path = "/acr/v1/library%2Fhello-world/_tags/old";
    let login = acr.aad_login("DELETE", path, DELETE, aad("tag-delete"));
    let delete = acr
        .bearer_call("DELETE", path, "tag-delete")
        .with_status(202)
        .expect(1)
        .create();
    let missing = acr
        .bearer_call(
            "DELETE",
            "/acr/v1/library%2Fhello-world/_tags/never-was",
            "tag-delete",
        )
        .json(
            404,
            r#"{"errors":[{"code":"TAG_UNKNOWN","message":"the specified tag does not exist"}]}"#,
        )
        .expect(1)
        .create();
    let denied = acr.bearer_call("DELETE", "/acr/v1/library%2Fhello-world/_tags/locked", "tag-delete")
        .with_status(405)
        .with_body(r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported: the tag is locked"}]}"#)
        .expect(1)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new(AAD).credential());
    client
        .delete_tag("library/hello-world", "old")
        .expect("delete");
    client
        .delete_tag("library/hello-world", "never-was")
        .expect("404 counts as deleted");
    let err = client
        .delete_tag("library/hello-world", "locked")
        .expect_err("a locked tag is not deleted");
    assert_eq!(err.status(), Some(405));

    for m in &login {
        m.assert();
    }
    acr.verify_all([&delete, &missing, &denied]);
}
