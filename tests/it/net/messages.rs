//! Errors name what really happened: a malformed challenge is not a refused password, a 401 from a
//! redirect target or without a challenge says no credentials were sent, and an ACR-only call
//! against a plain registry says it is ACR-only.

use azcontainerregistry::{BlobClient, Client, Credential, Digest, Error, ListRepositoriesOptions};

use super::{Reply, Scripted, fast};

fn tags(url: &str) -> azcontainerregistry::Result<Vec<String>> {
    Client::new(url, Credential::basic("u", "p"), fast(0))?
        .list_tag_names("a", Default::default())
        .collect()
}

/// A registry whose 401s carry `challenge` (`{url}` replaced by its own URL); everything else is
/// answered by `other`.
fn challenging(
    challenge: &'static str,
    other: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> Scripted {
    Scripted::start(move |seen, _| {
        if seen.line.starts_with("GET /v2/a/tags/list") {
            let host = seen
                .headers
                .iter()
                .find(|(k, _)| k == "host")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let value = challenge.replace("{url}", &format!("http://{host}"));
            return Reply::status(401, &[("WWW-Authenticate", value.as_str())], "{}");
        }
        other(&seen.line)
    })
}

fn assert_not_a_refused_password(e: &Error) {
    let text = e.to_string();
    assert!(
        !text.contains("refused the username and password"),
        "{text}"
    );
    assert!(!text.contains("credentials were refused"), "{text}");
}

#[test]
fn an_empty_realm_is_a_malformed_challenge() {
    let server = challenging(r#"Bearer realm="",service="s""#, |_| {
        Reply::status(404, &[], "404 page not found")
    });
    let e = tags(&server.url()).unwrap_err();
    assert_not_a_refused_password(&e);
    assert!(e.to_string().contains("challenge is malformed"), "{e}");
    assert_eq!(
        server.seen().len(),
        1,
        "no token request: {:?}",
        server.seen()
    );
}

#[test]
fn a_realm_that_is_no_token_service_is_named_as_such() {
    let server = challenging(r#"Bearer realm="{url}/nothing",service="s""#, |_| {
        Reply::status(404, &[], "404 page not found")
    });
    let e = tags(&server.url()).unwrap_err();
    assert_not_a_refused_password(&e);
    assert!(
        e.to_string()
            .contains("answered status 404 instead of a token"),
        "{e}"
    );
}

#[test]
fn a_realm_answering_with_the_same_challenge_is_named_as_such() {
    let server = challenging(r#"Bearer realm="{url}/v2/a/tags/list",service="s""#, |_| {
        Reply::status(500, &[], "unexpected")
    });
    let e = tags(&server.url()).unwrap_err();
    assert_not_a_refused_password(&e);
    assert!(e.to_string().contains("not a token service"), "{e}");
}

#[test]
fn a_401_without_a_challenge_says_nothing_was_sent() {
    let server = Scripted::start(|_, _| Reply::status(401, &[], "{}"));
    let e = tags(&server.url()).unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert_not_a_refused_password(&e);
    assert!(
        e.to_string()
            .contains("without a WWW-Authenticate challenge"),
        "{e}"
    );
}

#[test]
fn a_401_from_a_redirect_target_says_no_credentials_went_there() {
    let storage = Scripted::start(|_, _| Reply::status(401, &[], "<Error>NoAuth</Error>"));
    let location = format!("{}/blob-data", storage.url());
    let registry = Scripted::start(move |seen, _| {
        let authorized = seen
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Basic dTpw");
        if authorized {
            Reply::status(307, &[("Location", location.as_str())], "")
        } else {
            Reply::status(401, &[("WWW-Authenticate", r#"Basic realm="r""#)], "{}")
        }
    });
    let blobs = BlobClient::new(&registry.url(), Credential::basic("u", "p"), fast(0)).unwrap();
    let e = blobs
        .get_blob("a", &Digest::of(b"x"))
        .and_then(|mut r| r.copy_to(&mut std::io::sink()))
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    assert_not_a_refused_password(&e);
    let text = e.to_string();
    assert!(
        text.contains("No credentials were sent") && text.contains("redirected"),
        "{text}"
    );
    // and indeed none went there
    let seen = storage.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.iter().all(|(k, _)| k != "authorization"));
}

#[test]
fn an_acr_only_call_on_a_plain_registry_says_so() {
    let server = Scripted::start(|_, _| {
        Reply::status(
            404,
            &[("Content-Type", "text/plain")],
            "404 page not found\n",
        )
    });
    let client = Client::new(&server.url(), Credential::anonymous(), fast(0)).unwrap();
    let e = client
        .list_repositories(ListRepositoriesOptions::default())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(
        e.to_string()
            .contains("Azure Container Registry-only call (/acr/v1)"),
        "{e}"
    );
}
