//! Bad input is refused before anything is sent: every operation validates repository names, tags,
//! digests, page sizes and continuations first, and `Client::new` validates the endpoint. The mock
//! registry here has nothing but the catch-all, asserted to have received ZERO requests.

use crate::support::acr_mock::{AcrMock, FakeAad};
use azcontainerregistry::{
    Client, ClientOptions, Credential, Error, ListManifestsOptions, ListRepositoriesOptions,
    ListTagsOptions, ManifestWriteableProperties, RepositoryWriteableProperties,
    TagWriteableProperties,
};

const GOOD_REPO: &str = "library/hello-world";
const GOOD_DIGEST: &str = "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f";

const BAD_REPOSITORIES: &[&str] = &[
    "",
    "Hello",
    "library/Hello",
    "a//b",
    "/a",
    "a/",
    "-a",
    "a-",
    "a..b",
    "a___b",
    "a:b",
    "a b",
    "a/../b",
    "caf\u{e9}",
    "a%2Fb",
    "a?b",
];

const BAD_TAGS: &[&str] = &[
    "",
    ".hidden",
    "-dash",
    "a/b",
    "a b",
    "a+b",
    "tag?x",
    "%2e%2e",
    "..",
    "caf\u{e9}",
];

const BAD_DIGESTS: &[&str] = &[
    ":",
    "sha256:",
    "sha256:xyz",
    "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9",
    "sha256:A40A15D7A9909805F4E4D0144374026E4641268CFD12001C6AD3ED70749CCD9F",
    "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f/../x",
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    "sha512:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f",
];

fn invalid<T: std::fmt::Debug>(result: Result<T, Error>, what: &str, value: &str) {
    match result {
        Err(Error::InvalidInput { .. }) => {}
        other => panic!("{what} {value:?}: expected Error::InvalidInput, got {other:?}"),
    }
}

/// The first item of a listing must be the validation error, and the listing must end there.
fn invalid_listing<T: std::fmt::Debug>(
    mut pager: impl Iterator<Item = Result<T, Error>>,
    what: &str,
    value: &str,
) {
    invalid(
        pager.next().unwrap_or_else(|| panic!("{what}: no result")),
        what,
        value,
    );
    assert!(
        pager.next().is_none(),
        "{what} {value:?}: the listing must end"
    );
}

/// A mock with only the catch-all, and an Azure AD client for it (the most eager to send requests).
fn sealed() -> (AcrMock, Client) {
    let mut acr = AcrMock::start();
    acr.seal();
    let client = acr.client(FakeAad::new("aad").credential());
    (acr, client)
}

#[test]
fn bad_repository_names_send_nothing() {
    let (acr, client) = sealed();
    let long = "a".repeat(256);
    let mut names: Vec<&str> = BAD_REPOSITORIES.to_vec();
    names.push(&long);
    for &repo in &names {
        invalid(
            client.get_repository_properties(repo),
            "get_repository_properties",
            repo,
        );
        invalid(
            client.update_repository_properties(
                repo,
                &RepositoryWriteableProperties {
                    can_delete: Some(false),
                    ..Default::default()
                },
            ),
            "update_repository_properties",
            repo,
        );
        invalid(client.delete_repository(repo), "delete_repository", repo);
        invalid_listing(
            client.list_tags(repo, ListTagsOptions::default()),
            "list_tags",
            repo,
        );
        invalid(
            client.get_tag_properties(repo, "latest"),
            "get_tag_properties",
            repo,
        );
        invalid(
            client.update_tag_properties(repo, "latest", &TagWriteableProperties::default()),
            "update_tag_properties",
            repo,
        );
        invalid(client.delete_tag(repo, "latest"), "delete_tag", repo);
        invalid_listing(
            client.list_manifests(repo, ListManifestsOptions::default()),
            "list_manifests",
            repo,
        );
        for reference in ["latest", GOOD_DIGEST] {
            invalid(
                client.get_manifest_properties(repo, reference),
                "get_manifest_properties",
                repo,
            );
            invalid(
                client.update_manifest_properties(
                    repo,
                    reference,
                    &ManifestWriteableProperties::default(),
                ),
                "update_manifest_properties",
                repo,
            );
            invalid(
                client.delete_manifest(repo, reference),
                "delete_manifest",
                repo,
            );
        }
    }
    // the error names the value and the rule
    let err = client.get_repository_properties("Hello").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("\"Hello\"") && text.contains("lowercase"),
        "{text}"
    );
    acr.verify();
}

#[test]
fn repository_names_may_have_255_characters_but_not_256() {
    use azcontainerregistry::reference::validate_repository;
    assert!(validate_repository(&"a".repeat(255)).is_ok());
    assert!(validate_repository(&format!("{}/{}", "a".repeat(127), "b".repeat(127))).is_ok());
    assert!(validate_repository(&"a".repeat(256)).is_err());
    let (acr, client) = sealed();
    let err = client
        .get_repository_properties(&"a".repeat(256))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    acr.verify();
}

#[test]
fn bad_tags_send_nothing() {
    let (acr, client) = sealed();
    let long = "t".repeat(129);
    let mut tags: Vec<&str> = BAD_TAGS.to_vec();
    tags.push(&long);
    for &tag in &tags {
        invalid(
            client.get_tag_properties(GOOD_REPO, tag),
            "get_tag_properties",
            tag,
        );
        invalid(
            client.update_tag_properties(
                GOOD_REPO,
                tag,
                &TagWriteableProperties {
                    can_write: Some(false),
                    ..Default::default()
                },
            ),
            "update_tag_properties",
            tag,
        );
        invalid(client.delete_tag(GOOD_REPO, tag), "delete_tag", tag);
        invalid(
            client.get_manifest_properties(GOOD_REPO, tag),
            "get_manifest_properties",
            tag,
        );
        invalid(
            client.update_manifest_properties(
                GOOD_REPO,
                tag,
                &ManifestWriteableProperties::default(),
            ),
            "update_manifest_properties",
            tag,
        );
        invalid(
            client.delete_manifest(GOOD_REPO, tag),
            "delete_manifest",
            tag,
        );
    }
    acr.verify();
}

#[test]
fn bad_digests_send_nothing() {
    let (acr, client) = sealed();
    for &digest in BAD_DIGESTS {
        invalid(
            client.get_manifest_properties(GOOD_REPO, digest),
            "get_manifest_properties",
            digest,
        );
        invalid(
            client.update_manifest_properties(
                GOOD_REPO,
                digest,
                &ManifestWriteableProperties {
                    can_delete: Some(true),
                    ..Default::default()
                },
            ),
            "update_manifest_properties",
            digest,
        );
        invalid(
            client.delete_manifest(GOOD_REPO, digest),
            "delete_manifest",
            digest,
        );
        assert!(
            azcontainerregistry::Digest::parse(digest).is_err(),
            "{digest} must not parse"
        );
    }
    acr.verify();
}

#[test]
fn a_page_size_of_zero_sends_nothing() {
    let (acr, client) = sealed();
    invalid_listing(
        client.list_repositories(ListRepositoriesOptions {
            page_size: Some(0),
            ..Default::default()
        }),
        "list_repositories",
        "n=0",
    );
    invalid_listing(
        client
            .list_repositories(ListRepositoriesOptions {
                page_size: Some(0),
                ..Default::default()
            })
            .pages(),
        "list_repositories().pages()",
        "n=0",
    );
    invalid_listing(
        client.list_tags(
            GOOD_REPO,
            ListTagsOptions {
                page_size: Some(0),
                ..Default::default()
            },
        ),
        "list_tags",
        "n=0",
    );
    invalid_listing(
        client.list_manifests(
            GOOD_REPO,
            ListManifestsOptions {
                page_size: Some(0),
                ..Default::default()
            },
        ),
        "list_manifests",
        "n=0",
    );
    acr.verify();
}

#[test]
fn continuations_for_another_listing_or_host_send_nothing() {
    let (acr, client) = sealed();
    let other_port = {
        // a loopback origin that is not the mock's
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let foreign = [
        "https://evil.example/acr/v1/_catalog?n=1".to_string(),
        "//evil.example/acr/v1/_catalog?n=1".to_string(),
        format!("http://127.0.0.1:{other_port}/acr/v1/_catalog?n=1"),
        acr.url().replacen("http://", "https://", 1) + "/acr/v1/_catalog?n=1",
    ];
    for c in &foreign {
        let through_options = client
            .list_repositories(ListRepositoriesOptions {
                continuation: Some(c.clone()),
                ..Default::default()
            })
            .next()
            .expect("a result");
        assert!(
            matches!(through_options, Err(Error::Redirect { .. })),
            "{c}: {through_options:?}"
        );
        let through_resume = client
            .list_repositories(ListRepositoriesOptions::default())
            .resume(c)
            .pages()
            .next()
            .expect("a result");
        assert!(
            matches!(through_resume, Err(Error::Redirect { .. })),
            "{c}: {through_resume:?}"
        );
    }

    let other_listing = [
        ("/acr/v1/library%2Fhello-world/_tags?last=v1&n=2", "catalog"),
        ("/v2/_catalog?n=1", "catalog"),
        ("/acr/v1/_catalog/../library%2Fhello-world/_tags", "catalog"),
    ];
    for (c, _) in other_listing {
        invalid_listing(
            client.list_repositories(ListRepositoriesOptions {
                continuation: Some(c.to_string()),
                ..Default::default()
            }),
            "list_repositories continuation",
            c,
        );
        invalid_listing(
            client.list_repositories(Default::default()).resume(c),
            "list_repositories resume",
            c,
        );
    }
    // a tags continuation for another repository, a manifests continuation from a tags listing
    invalid_listing(
        client.list_tags(
            GOOD_REPO,
            ListTagsOptions {
                continuation: Some("/acr/v1/other/_tags?last=v1&n=2".into()),
                ..Default::default()
            },
        ),
        "list_tags continuation",
        "other repository",
    );
    invalid_listing(
        client.list_manifests(
            GOOD_REPO,
            ListManifestsOptions {
                continuation: Some("/acr/v1/library%2Fhello-world/_tags?last=v1".into()),
                ..Default::default()
            },
        ),
        "list_manifests continuation",
        "a tags listing",
    );
    acr.verify();
}

fn config_error(endpoint: &str, options: ClientOptions) -> String {
    match Client::new(endpoint, Credential::anonymous(), options) {
        Err(Error::Config(message)) => message,
        other => panic!("{endpoint:?}: expected Error::Config, got {other:?}"),
    }
}

#[test]
fn bad_endpoints_are_configuration_errors() {
    for endpoint in [
        "",
        "   ",
        "ftp://r.azurecr.io",
        "https://",
        "https://r.azurecr.io/v2/",
        "https://r.azurecr.io/acr",
        "https://r.azurecr.io?x=1",
        "https://r.azurecr.io#frag",
        "https://r.azurecr.io:99999",
        "https://bad host.azurecr.io",
        "http://r.azurecr.io",
        "http://10.0.0.5:5000",
    ] {
        config_error(endpoint, ClientOptions::default());
    }
    let message = config_error("http://r.azurecr.io", ClientOptions::default());
    assert!(message.contains("allow_http"), "{message}");
    // credentials in the endpoint are refused, and not repeated in the message
    for endpoint in [
        "https://robot:hunter2secret@r.azurecr.io",
        "https://robot:hunter2secret@bad host.azurecr.io",
        "robot:hunter2secret@r.azurecr.io/path",
    ] {
        let message = config_error(endpoint, ClientOptions::default());
        assert!(!message.contains("hunter2secret"), "{message}");
    }

    // and what is accepted
    let allow_http = ClientOptions {
        allow_http: true,
        ..Default::default()
    };
    for (endpoint, options, expected) in [
        (
            "r.azurecr.io",
            ClientOptions::default(),
            "https://r.azurecr.io/",
        ),
        (
            "https://r.azurecr.io/",
            ClientOptions::default(),
            "https://r.azurecr.io/",
        ),
        (
            "http://localhost:5000",
            ClientOptions::default(),
            "http://localhost:5000/",
        ),
        (
            "http://127.0.0.1:5000",
            ClientOptions::default(),
            "http://127.0.0.1:5000/",
        ),
        (
            "http://[::1]:5000",
            ClientOptions::default(),
            "http://[::1]:5000/",
        ),
        ("http://r.azurecr.io", allow_http, "http://r.azurecr.io/"),
    ] {
        let client = Client::new(endpoint, Credential::anonymous(), options)
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"));
        assert_eq!(client.endpoint(), expected);
    }
}
