//! `/v2/_catalog` and `/v2/{name}/tags/list` against the real distribution registry, with each kind
//! of authentication the registry offers: none, htpasswd (Basic) and token (Docker token flow).

use crate::support::Registry;
use crate::support::{client, client_with};
use azcontainerregistry::{Client, Credential, Error, ListNamesOptions};

fn seed(reg: &Registry, repos: &[&str], tags: &[&str]) {
    for repo in repos {
        for tag in tags {
            reg.push_test_image(repo, tag, 16, 1);
        }
    }
}

fn names(client: &Client, page_size: Option<u32>) -> Vec<String> {
    let options = ListNamesOptions {
        page_size,
        ..Default::default()
    };
    client
        .list_catalog(options)
        .collect::<Result<Vec<_>, _>>()
        .expect("catalog")
}

#[test]
fn catalog_pages_follow_relative_links_with_encoded_last() {
    let reg = Registry::start();
    seed(&reg, &["alpha/one", "alpha/two", "beta", "gamma"], &["v1"]);
    let client = client(&reg.url());
    let all = names(&client, None);
    assert_eq!(all, ["alpha/one", "alpha/two", "beta", "gamma"]);
    assert_eq!(names(&client, Some(1)), all, "one name a page, 4 pages");

    let mut pages = client
        .list_catalog(ListNamesOptions {
            page_size: Some(3),
            ..Default::default()
        })
        .pages();
    let first = pages.next().unwrap().unwrap();
    assert_eq!(first.items, ["alpha/one", "alpha/two", "beta"]);
    let token = first.continuation.expect("a next link after a full page");
    assert!(token.contains("last=beta"), "{token}");
    let rest: Vec<String> = client
        .list_catalog(ListNamesOptions {
            continuation: Some(token),
            ..Default::default()
        })
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rest, ["gamma"]);

    let after: Vec<String> = client
        .list_catalog(ListNamesOptions {
            last: Some("alpha/two".into()),
            ..Default::default()
        })
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(after, ["beta", "gamma"]);
}

#[test]
fn tag_names_and_missing_repository() {
    let reg = Registry::start();
    seed(&reg, &["app"], &["v1", "v2", "latest"]);
    let client = client(&reg.url());
    let mut tags: Vec<String> = client
        .list_tag_names("app", ListNamesOptions::default())
        .collect::<Result<_, _>>()
        .unwrap();
    tags.sort();
    assert_eq!(tags, ["latest", "v1", "v2"]);
    let err: Error = client
        .list_tag_names("nope", ListNamesOptions::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let bad = client
        .list_tag_names("Bad", ListNamesOptions::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidInput { .. }), "{bad}");
}

#[test]
fn htpasswd_registry_needs_the_password() {
    let reg = Registry::with_htpasswd("alice", "s3cret");
    seed(&reg, &["private"], &["v1"]);
    let good = client_with(&reg.url(), Credential::basic("alice", "s3cret"));
    assert_eq!(names(&good, Some(10)), ["private"]);

    let anon = client(&reg.url());
    let e = anon
        .list_catalog(ListNamesOptions::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert!(e.to_string().contains("needs credentials"), "{e}");

    let wrong = client_with(&reg.url(), Credential::basic("alice", "wrong"));
    let e = wrong
        .list_catalog(ListNamesOptions::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert!(
        !format!("{e:?}{e}").contains("wrong"),
        "the password must not leak: {e:?}"
    );
}

#[test]
fn token_registry_uses_the_docker_token_flow_and_caches_per_scope() {
    let reg = Registry::builder().token_auth_basic("bob", "pw").start();
    seed(&reg, &["one", "two"], &["v1", "v2"]);
    let issuer = reg.token_issuer();
    issuer.reset_counts();
    let client = client_with(&reg.url(), Credential::basic("bob", "pw"));
    // paging: 2 pages, one token for the catalog scope
    assert_eq!(names(&client, Some(1)), ["one", "two"]);
    assert_eq!(
        issuer.scope_requests("registry:catalog:*"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    for _ in 0..3 {
        let tags: Vec<String> = client
            .list_tag_names("one", ListNamesOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tags.len(), 2);
    }
    assert_eq!(
        issuer.scope_requests("repository:one:pull"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    let _ = client
        .list_tag_names("two", ListNamesOptions::default())
        .count();
    assert_eq!(
        issuer.scope_requests("repository:two:pull"),
        1,
        "{:?}",
        issuer.scope_counts()
    );
    assert_eq!(issuer.token_requests(), 3, "{:?}", issuer.scope_counts());
    assert!(
        issuer
            .requests()
            .iter()
            .all(|r| r.basic_user.as_deref() == Some("bob"))
    );

    let wrong = client_with(&reg.url(), Credential::basic("bob", "nope"));
    let e = wrong
        .list_catalog(ListNamesOptions::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Authentication { .. }), "{e:?}");
    assert!(
        e.to_string().contains("refused the username and password"),
        "{e}"
    );
}

#[test]
fn a_next_link_to_the_same_page_stops_instead_of_looping() {
    let mut server = mockito::Server::new();
    let page = server
        .mock("GET", "/v2/_catalog")
        .match_query(mockito::Matcher::Any)
        .with_header("content-type", "application/json")
        .with_header("link", r#"</v2/_catalog?n=2>; rel="next""#)
        .with_body(r#"{"repositories":["a","b"]}"#)
        .expect(1)
        .create();
    let client = client(&server.url());
    let results: Vec<_> = client
        .list_catalog(ListNamesOptions {
            page_size: Some(2),
            ..Default::default()
        })
        .collect();
    // the page's items, then one error instead of the same page again, and the iterator ends
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].as_deref().ok(), Some("a"));
    assert_eq!(results[1].as_deref().ok(), Some("b"));
    let e = results.into_iter().nth(2).unwrap().unwrap_err();
    assert!(
        matches!(e, Error::Redirect { .. }) && e.to_string().contains("loop"),
        "{e}"
    );
    page.assert();
}
