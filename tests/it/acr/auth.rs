//! Authentication against a mock ACR: the Azure AD flow (challenge → exchange → token → retry), the
//! anonymous ACR flow, username/password through the Docker token flow and Basic, token caching per
//! scope, refresh-token renewal, single-flight under contention, refusal handling, error typing,
//! retries, audience, realm steering, redaction and the User-Agent.
//!
//! Form bodies are written out literally here (not built with the helpers) so that the exact bytes
//! the client sends are on the page: compare them with the recordings in
//! /work/shared/acr-recordings.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use azcontainerregistry::{
    Audience, ClientOptions, Credential, Error, ErrorCode, ListTagsOptions, RetryOptions,
};
use base64::Engine as _;
use mockito::{Matcher, Server};

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{
    API_VERSION, AcrMock, DEFAULT_AAD_SCOPE, FakeAad, SERVICE, UNAUTHORIZED_BODY, fast_options,
    fixture, jwt_expiring_in,
};
use crate::support::mock::CatchAll;

const REPO_PATH: &str = "/acr/v1/hello-world";
const READ: &str = "repository:hello-world:metadata_read";

/// `GET /acr/v1/hello-world?api-version=…` with `authorization`, answering the repository
/// properties.
fn repo_get(acr: &mut AcrMock, path: &str, authorization: &str, hits: usize) -> mockito::Mock {
    acr.call("GET", path, authorization)
        .json(200, fixture("repository_properties.json"))
        .expect(hits)
        .create()
}

#[test]
fn azure_ad_challenge_exchange_token_retry() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge(
        "GET",
        REPO_PATH,
        Matcher::Exact(API_VERSION.into()),
        READ,
        1,
    );
    let exchange = acr
        .server
        .mock("POST", "/oauth2/exchange")
        .match_query(Matcher::Exact("api-version=2021-07-01".into()))
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_body(Matcher::Exact(
            "grant_type=access_token&service=myregistry.azurecr.io&access_token=aad-secret-token"
                .into(),
        ))
        .with_status(200)
        .with_body(r#"{"refresh_token":"acr-refresh"}"#)
        .expect(1)
        .create();
    let token = acr
        .server
        .mock("POST", "/oauth2/token")
        .match_query(Matcher::Exact("api-version=2021-07-01".into()))
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_body(Matcher::Exact(
            "grant_type=refresh_token&service=myregistry.azurecr.io\
             &scope=repository%3Ahello-world%3Ametadata_read&refresh_token=acr-refresh"
                .into(),
        ))
        .with_status(200)
        .with_body(r#"{"access_token":"acr-access"}"#)
        .expect(1)
        .create();
    let get = repo_get(&mut acr, REPO_PATH, "Bearer acr-access", 1);
    acr.seal();

    let aad = FakeAad::new("aad-secret-token");
    let props = acr
        .client(aad.credential())
        .get_repository_properties("hello-world")
        .expect("authorized after the challenge");
    assert_eq!(props.name, "library/hello-world"); // what the fixture says

    assert_eq!(aad.calls(), 1);
    assert_eq!(aad.scopes(), vec![vec![DEFAULT_AAD_SCOPE.to_string()]]);
    acr.verify_all([&challenge, &exchange, &token, &get]);
}

#[test]
fn anonymous_acr_flow_uses_the_password_grant_without_refresh_token() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let token = acr
        .server
        .mock("POST", "/oauth2/token")
        .match_query(Matcher::Exact("api-version=2021-07-01".into()))
        .match_header("authorization", Matcher::Missing)
        .match_body(Matcher::Exact(
            "grant_type=password&service=myregistry.azurecr.io\
             &scope=repository%3Ahello-world%3Ametadata_read"
                .into(),
        ))
        .with_status(200)
        .with_body(r#"{"access_token":"anonymous-access"}"#)
        .expect(1)
        .create();
    let get = repo_get(&mut acr, REPO_PATH, "Bearer anonymous-access", 2);
    acr.seal();

    let client = acr.client(Credential::anonymous());
    client
        .get_repository_properties("hello-world")
        .expect("first");
    client
        .get_repository_properties("hello-world")
        .expect("cached");
    acr.verify_all([&challenge, &token, &get]);
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn username_and_password_use_the_docker_token_flow_on_the_realm() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let realm = acr
        .server
        .mock("GET", "/oauth2/token")
        .match_query(Matcher::Exact(
            "service=myregistry.azurecr.io&scope=repository%3Ahello-world%3Ametadata_read".into(),
        ))
        .match_header("authorization", basic("admin", "admin-password").as_str())
        .with_status(200)
        .with_body(r#"{"access_token":"docker-flow-access","expires_in":300}"#)
        .expect(1)
        .create();
    let realm_other = acr
        .server
        .mock("GET", "/oauth2/token")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("service".into(), SERVICE.into()),
            Matcher::UrlEncoded("scope".into(), "repository:other:metadata_read".into()),
        ]))
        .match_header("authorization", basic("admin", "admin-password").as_str())
        .with_status(200)
        .with_body(r#"{"token":"docker-flow-other"}"#)
        .expect(1)
        .create();
    let get = repo_get(&mut acr, REPO_PATH, "Bearer docker-flow-access", 2);
    let get_other = repo_get(&mut acr, "/acr/v1/other", "Bearer docker-flow-other", 1);
    acr.seal();

    let client = acr.client(Credential::basic("admin", "admin-password"));
    client
        .get_repository_properties("hello-world")
        .expect("first");
    client
        .get_repository_properties("hello-world")
        .expect("cached");
    client
        .get_repository_properties("other")
        .expect("token field");
    acr.verify_all([&challenge, &realm, &realm_other, &get, &get_other]); // nothing went to /oauth2/exchange
}

#[test]
fn a_basic_challenge_gets_basic_on_the_retry_and_upfront_afterwards() {
    let mut acr = AcrMock::start();
    let challenge = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry Realm""#)
        .expect(1)
        .create();
    let auth = basic("user", "pw:with:colons");
    let get = repo_get(&mut acr, REPO_PATH, &auth, 3);
    acr.seal();
    let client = acr.client(Credential::basic("user", "pw:with:colons"));
    for _ in 0..3 {
        client
            .get_repository_properties("hello-world")
            .expect("basic");
    }
    acr.verify_all([&challenge, &get]);
}

#[test]
fn anonymous_cannot_answer_a_basic_challenge() {
    let mut acr = AcrMock::start();
    let challenge = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("www-authenticate", r#"Basic realm="Registry Realm""#)
        .with_body(UNAUTHORIZED_BODY)
        .expect(1)
        .create();
    acr.seal();
    let err = acr
        .client(Credential::anonymous())
        .get_repository_properties("hello-world")
        .expect_err("no credentials");
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(err.to_string().contains("needs credentials"), "{err}");
    challenge.assert();
    acr.verify();
}

#[test]
fn paging_is_challenged_once() {
    let mut acr = AcrMock::start();
    let path = "/acr/v1/hello-world/_tags";
    let challenge = acr.challenge("GET", path, Matcher::Any, READ, 1);
    let exchange = acr.exchange("aad", "refresh", 1);
    let token = acr.token(READ, "refresh", "tags-access", 1);
    let page1 = acr
        .server
        .mock("GET", path)
        .match_query(Matcher::Exact(format!("n=1&{API_VERSION}")))
        .match_header("authorization", "Bearer tags-access")
        .with_status(200)
        .with_header(
            "link",
            r#"</acr/v1/hello-world/_tags?last=v2&n=1&orderby=>; rel="next""#,
        )
        .with_body(fixture("tags_page2.json"))
        .expect(1)
        .create();
    let page2 = acr
        .server
        .mock("GET", path)
        .match_query(Matcher::Exact("last=v2&n=1&orderby=".into()))
        .match_header("authorization", "Bearer tags-access")
        .with_status(200)
        .with_body(fixture("tags_page3.json"))
        .expect(1)
        .create();
    acr.seal();
    let aad = FakeAad::new("aad");
    let n = acr
        .client(aad.credential())
        .list_tags(
            "hello-world",
            ListTagsOptions {
                page_size: Some(1),
                ..Default::default()
            },
        )
        .collect::<Result<Vec<_>, _>>()
        .expect("two pages")
        .len();
    assert_eq!(n, 3);
    assert_eq!(aad.calls(), 1);
    acr.verify_all([&challenge, &exchange, &token, &page1, &page2]);
}

#[test]
fn access_tokens_are_cached_per_scope() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let exchange = acr.exchange("aad", "refresh", 1);
    let token_a = acr.token(READ, "refresh", "access-a", 1);
    let token_b = acr.token("repository:other:metadata_read", "refresh", "access-b", 1);
    let get_a = repo_get(&mut acr, REPO_PATH, "Bearer access-a", 3);
    let get_b = repo_get(&mut acr, "/acr/v1/other", "Bearer access-b", 3);
    acr.seal();

    let aad = FakeAad::new("aad");
    let client = acr.client(aad.credential());
    for _ in 0..3 {
        client.get_repository_properties("hello-world").expect("a");
        client.get_repository_properties("other").expect("b");
    }
    // clones share the cache
    let clone = client.clone();
    drop(client);
    assert!(clone.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(aad.calls(), 1);
    acr.verify_all([&challenge, &exchange, &token_a, &token_b, &get_a, &get_b]);
}

#[test]
fn a_refresh_token_close_to_expiry_is_renewed_before_the_next_exchange() {
    let mut acr = AcrMock::start();
    // ACR refresh tokens are JWTs; these expire in 60 s, inside the 5-minute renewal margin
    let refresh1 = jwt_expiring_in(Duration::from_secs(60), "refresh-1");
    let refresh2 = jwt_expiring_in(Duration::from_secs(60), "refresh-2");
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let served = Arc::new(AtomicUsize::new(0));
    let (r1, r2, counter) = (refresh1.clone(), refresh2.clone(), served.clone());
    let exchange = acr
        .server
        .mock("POST", "/oauth2/exchange")
        .match_query(Matcher::Exact(API_VERSION.into()))
        .match_body(Matcher::Exact(format!(
            "grant_type=access_token&service={SERVICE}&access_token=aad"
        )))
        .with_status(200)
        .with_body_from_request(move |_| {
            let token = if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                &r1
            } else {
                &r2
            };
            format!(r#"{{"refresh_token":"{token}"}}"#).into_bytes()
        })
        .expect(2)
        .create();
    let token_a = acr.token(READ, &refresh1, "access-a", 1);
    let token_b = acr.token("repository:other:metadata_read", &refresh2, "access-b", 1);
    let get_a = repo_get(&mut acr, REPO_PATH, "Bearer access-a", 1);
    let get_b = repo_get(&mut acr, "/acr/v1/other", "Bearer access-b", 1);
    acr.seal();

    let aad = FakeAad::new("aad");
    let client = acr.client(aad.credential());
    client.get_repository_properties("hello-world").expect("a");
    client
        .get_repository_properties("other")
        .expect("b, after renewing the refresh token");
    assert_eq!(served.load(Ordering::SeqCst), 2);
    assert_eq!(aad.calls(), 2);
    acr.verify_all([&challenge, &exchange, &token_a, &token_b, &get_a, &get_b]);
}

#[test]
fn sixteen_threads_on_a_fresh_client_share_one_exchange_and_one_token_per_scope() {
    let mut acr = AcrMock::start();
    let other_read = "repository:other:metadata_read";
    // Before the first challenge is answered every thread may be challenged; none after. Which
    // repository's threads meet it depends on scheduling (once one challenge taught the realm,
    // the others fetch their token first), so one mock answers both, naming each path's scope.
    let (challenge_read, challenge_other) =
        (acr.bearer_challenge(READ), acr.bearer_challenge(other_read));
    let challenge = acr
        .server
        .mock(
            "GET",
            Matcher::Regex(format!("^({REPO_PATH}|/acr/v1/other)$")),
        )
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header_from_request("www-authenticate", move |req| {
            if req.path() == "/acr/v1/other" {
                challenge_other.clone()
            } else {
                challenge_read.clone()
            }
        })
        .expect_at_least(1)
        .expect_at_most(16)
        .create();
    let exchange = acr.exchange("slow-aad", "refresh", 1);
    let token_a = acr.token(READ, "refresh", "access-a", 1);
    let token_b = acr.token(other_read, "refresh", "access-b", 1);
    let get_a = repo_get(&mut acr, REPO_PATH, "Bearer access-a", 8);
    let get_b = repo_get(&mut acr, "/acr/v1/other", "Bearer access-b", 8);
    acr.seal();

    // a slow Azure AD widens the window in which the threads race
    let aad = FakeAad::slow("slow-aad", Duration::from_millis(150));
    let client = acr.client(aad.credential());
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                let repo = if i % 2 == 0 { "hello-world" } else { "other" };
                barrier.wait();
                client.get_repository_properties(repo)
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("authorized");
    }
    assert_eq!(aad.calls(), 1, "one Azure AD token for all threads");
    acr.verify_all([&challenge, &exchange, &token_a, &token_b, &get_a, &get_b]);
}

#[test]
fn a_refused_token_is_renewed_once_and_then_the_client_gives_up() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let exchange = acr.exchange("aad", "refresh", 1);
    let token = acr.token_sequence(READ, "refresh", 2, |n| format!("access-{}", n + 1));
    // the registry refuses every token it is shown
    let refused = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header(
            "authorization",
            Matcher::Regex("^Bearer access-[0-9]+$".into()),
        )
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!("{},error=\"invalid_token\"", acr.bearer_challenge(READ)),
        )
        .with_body(UNAUTHORIZED_BODY)
        .expect(3)
        .create();
    acr.seal();

    let client = acr.client(FakeAad::new("aad").credential());
    // 1st call: challenge, token access-1, retry refused: error (one retry only)
    let err = client
        .get_repository_properties("hello-world")
        .expect_err("refused");
    assert!(err.is_unauthorized(), "{err:?}");
    // 2nd call: the cached access-1 is refused, renewed once as access-2, refused again: error
    let err = client
        .get_repository_properties("hello-world")
        .expect_err("refused again");
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(
        err.to_string().contains("credentials were refused"),
        "{err}"
    );
    acr.verify_all([&challenge, &exchange, &token, &refused]);
}

/// `/oauth2/exchange` refusing the Azure AD token with the fixture `body`, once.
fn exchange_refused(acr: &mut AcrMock, body: &str) -> mockito::Mock {
    acr.server
        .mock("POST", "/oauth2/exchange")
        .match_query(Matcher::Exact(API_VERSION.into()))
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_body(fixture(body))
        .expect(1)
        .create()
}

#[test]
fn arm_token_disallowed_points_at_the_audience() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let exchange = exchange_refused(&mut acr, "error_arm_token_disallowed.json");
    acr.seal();
    let options = ClientOptions {
        audience: Audience::AzurePublicCloud,
        ..fast_options()
    };
    let aad = FakeAad::new("arm-token");
    let err = acr
        .client_with(aad.credential(), options)
        .get_repository_properties("hello-world")
        .expect_err("the registry refuses ARM tokens");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(err.is_unauthorized(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("audience"), "{text}");
    assert!(text.contains("Audience::ContainerRegistry"), "{text}");
    assert_eq!(
        aad.scopes(),
        vec![vec!["https://management.azure.com/.default".to_string()]]
    );
    acr.verify_all([&challenge, &exchange]);
}

#[test]
fn a_wrong_audience_is_named_in_the_error() {
    // test_set_audience: a US Government ARM token sent to a public-cloud registry
    let mut acr = AcrMock::start();
    let challenge = acr.challenge(
        "GET",
        "/acr/v1/_catalog",
        Matcher::Any,
        "registry:catalog:*",
        1,
    );
    let exchange = exchange_refused(&mut acr, "error_invalid_audience.json");
    acr.seal();
    let options = ClientOptions {
        audience: Audience::AzureGovernment,
        ..fast_options()
    };
    let err = acr
        .client_with(FakeAad::new("gov-token").credential(), options)
        .list_repositories(Default::default())
        .next()
        .expect("one result")
        .expect_err("wrong audience");
    let text = err.to_string();
    assert!(text.contains("audience"), "{text}");
    assert!(text.contains("ClientOptions::audience"), "{text}");
    acr.verify_all([&challenge, &exchange]);
}

#[test]
fn anonymous_delete_is_refused_with_a_hint_about_credentials() {
    // test_anon_access delete_tag: the anonymous token is issued, the retry is refused
    let mut acr = AcrMock::start();
    let path = "/acr/v1/library%2Fhello-world/_tags/latest";
    let scope = "repository:library/hello-world:delete";
    let challenge = acr.challenge("DELETE", path, Matcher::Exact(API_VERSION.into()), scope, 1);
    let token = acr.anonymous_token(scope, "anon-delete", 1);
    let refused = acr
        .bearer_call("DELETE", path, "anon-delete")
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(
                "{},error=\"insufficient_scope\"",
                acr.bearer_challenge(scope)
            ),
        )
        .with_body(UNAUTHORIZED_BODY)
        .expect(1)
        .create();
    acr.seal();
    let err = acr
        .client(Credential::anonymous())
        .delete_tag("library/hello-world", "latest")
        .expect_err("anonymous may not delete");
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(err.has_code(ErrorCode::Unauthorized), "{err:?}");
    assert!(err.to_string().contains("needs credentials"), "{err}");
    acr.verify_all([&challenge, &token, &refused]);
}

#[test]
fn a_firewall_refusal_says_so() {
    let mut acr = AcrMock::start();
    let denied = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Exact(API_VERSION.into()))
        .json(403, fixture("error_firewall.json"))
        .expect(1)
        .create();
    acr.seal();
    let err = acr
        .client(Credential::anonymous())
        .get_repository_properties("hello-world")
        .expect_err("firewall");
    assert!(err.is_forbidden(), "{err:?}");
    assert!(err.has_code(ErrorCode::Denied), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("firewall"), "{text}");
    assert!(
        text.contains("203.0.113.7"),
        "the registry's own message is kept: {text}"
    );
    denied.assert();
    acr.verify();
}

#[test]
fn error_bodies_become_typed_errors() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let token = acr.anonymous_token(READ, "anon", 1);
    let not_found = acr
        .bearer_call("GET", REPO_PATH, "anon")
        .json(404, fixture("error_name_unknown.json"))
        .expect(1)
        .create();
    let manifest_scope = "repository:hello-world:metadata_read";
    assert_eq!(manifest_scope, READ);
    let manifest_missing = acr
        .bearer_call("GET", "/acr/v1/hello-world/_tags/wrong-tag", "anon")
        .with_status(404)
        .with_body(fixture("error_manifest_unknown.json"))
        .expect(1)
        .create();
    let throttle_scope = "repository:busy:metadata_read";
    let throttle_token = acr.anonymous_token(throttle_scope, "anon-busy", 1);
    let throttled = acr
        .bearer_call("GET", "/acr/v1/busy", "anon-busy")
        .with_status(429)
        .with_body(fixture("error_too_many_requests.json"))
        .expect(2) // the first attempt and one retry
        .create();
    acr.seal();

    let options = ClientOptions {
        retry: RetryOptions {
            max_retries: 1,
            initial_delay: Duration::from_millis(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let client = acr.client_with(Credential::anonymous(), options);
    let err = client
        .get_repository_properties("hello-world")
        .expect_err("404");
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.has_code(ErrorCode::NameUnknown), "{err:?}");
    assert_eq!(err.status(), Some(404));
    let reg = err.registry_error().expect("a registry error");
    assert_eq!(reg.method, "GET");
    assert!(
        reg.url
            .ends_with("/acr/v1/hello-world?api-version=2021-07-01"),
        "{}",
        reg.url
    );
    assert_eq!(
        reg.errors[0].message,
        "repository \"library/hello-world\" is not found"
    );

    let err = client
        .get_manifest_properties("hello-world", "wrong-tag")
        .expect_err("unknown tag");
    assert!(
        err.is_not_found() && err.has_code(ErrorCode::ManifestUnknown),
        "{err:?}"
    );
    assert_eq!(
        err.registry_error().unwrap().errors[0].detail,
        Some(serde_json::json!({"Tag": "wrong-tag"}))
    );

    let err = client.get_repository_properties("busy").expect_err("429");
    assert!(err.is_throttled(), "{err:?}");
    assert!(err.has_code(ErrorCode::TooManyRequests), "{err:?}");
    assert!(!err.is_not_found());

    acr.verify_all([
        &challenge,
        &token,
        &not_found,
        &manifest_missing,
        &throttle_token,
        &throttled,
    ]);
}

#[test]
fn transient_failures_are_retried_until_success() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let token = acr.anonymous_token(READ, "anon", 1);
    let unavailable = acr
        .bearer_call("GET", REPO_PATH, "anon")
        .with_status(503)
        .expect(2)
        .create();
    let ok = repo_get(&mut acr, REPO_PATH, "Bearer anon", 1);
    acr.seal();
    let props = acr
        .client(Credential::anonymous()) // 2 retries
        .get_repository_properties("hello-world")
        .expect("third attempt succeeds");
    assert_eq!(props.tag_count, 2);
    acr.verify_all([&challenge, &token, &unavailable, &ok]);
}

#[test]
fn retry_after_is_honoured() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let token = acr.anonymous_token(READ, "anon", 1);
    let busy = acr
        .bearer_call("GET", REPO_PATH, "anon")
        .with_status(429)
        .with_header("retry-after", "1")
        .with_body(fixture("error_too_many_requests.json"))
        .expect(1)
        .create();
    let ok = repo_get(&mut acr, REPO_PATH, "Bearer anon", 1);
    acr.seal();
    let options = ClientOptions {
        retry: RetryOptions {
            max_retries: 1,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(10),
            ..Default::default()
        },
        ..Default::default()
    };
    let client = acr.client_with(Credential::anonymous(), options);
    let started = Instant::now();
    client
        .get_repository_properties("hello-world")
        .expect("after waiting");
    let waited = started.elapsed();
    // only Retry-After explains a wait of a second: the backoff alone would be about 1 ms
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    acr.verify_all([&challenge, &token, &busy, &ok]);
}

#[test]
fn a_custom_audience_is_asked_for_with_dot_default() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let exchange = acr.exchange("sovereign-aad", "refresh", 1);
    let token = acr.token(READ, "refresh", "access", 1);
    let get = repo_get(&mut acr, REPO_PATH, "Bearer access", 1);
    acr.seal();
    let aad = FakeAad::new("sovereign-aad");
    let options = ClientOptions {
        audience: Audience::Custom("https://containerregistry.example.sovereign/".into()),
        ..fast_options()
    };
    acr.client_with(aad.credential(), options)
        .get_repository_properties("hello-world")
        .expect("custom audience");
    assert_eq!(
        aad.scopes(),
        vec![vec![
            "https://containerregistry.example.sovereign/.default".to_string()
        ]]
    );
    acr.verify_all([&challenge, &exchange, &token, &get]);
}

#[test]
fn the_azure_ad_token_never_goes_to_a_realm_on_another_host() {
    let (elsewhere, nothing_elsewhere) =
        CatchAll::decoy(r#"{"refresh_token":"stolen","access_token":"stolen","token":"stolen"}"#);
    let mut acr = AcrMock::start();
    let challenge = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(
                r#"Bearer realm="{}/oauth2/token",service="{SERVICE}",scope="{READ}""#,
                elsewhere.url()
            ),
        )
        .with_body(UNAUTHORIZED_BODY)
        .expect(1)
        .create();
    let exchange = acr.exchange("precious-aad", "refresh", 1);
    let token = acr.token(READ, "refresh", "access", 1);
    let get = repo_get(&mut acr, REPO_PATH, "Bearer access", 1);
    acr.seal();
    acr.client(FakeAad::new("precious-aad").credential())
        .get_repository_properties("hello-world")
        .expect("the registry's own endpoints");
    acr.verify_all([&challenge, &exchange, &token, &get]);
    nothing_elsewhere.assert();
}

fn assert_hidden(err: &Error, secrets: &[&str]) {
    let debug = format!("{err:?}");
    let display = err.to_string();
    let mut chain = display.clone();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push_str(&format!(" / {s} / {s:?}"));
        source = s.source();
    }
    for secret in secrets {
        assert!(!debug.contains(secret), "Debug shows {secret:?}: {debug}");
        assert!(!chain.contains(secret), "Display shows {secret:?}: {chain}");
    }
}

#[test]
fn errors_and_credentials_never_show_secrets() {
    let password = "pa55-w0rd-do-not-print";
    let credential = Credential::basic("robot", password);
    let shown = format!("{credential:?}");
    assert!(!shown.contains(password), "{shown}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("robot:{password}"));

    let mut acr = AcrMock::start();
    // Basic flow: the realm refuses the password (the body even echoes a token-like value)
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let realm = acr
        .server
        .mock("GET", "/oauth2/token")
        .match_query(Matcher::Any)
        .match_header("authorization", basic("robot", password).as_str())
        .with_status(401)
        .with_body(UNAUTHORIZED_BODY)
        .expect(1)
        .create();
    // Azure AD flow on another path: the exchange works, the token endpoint refuses
    let other = "repository:other:metadata_read";
    let challenge_other = acr.challenge("GET", "/acr/v1/other", Matcher::Any, other, 1);
    let exchange = acr.exchange("aad-secret-value", "refresh-secret-value", 1);
    let token = acr
        .server
        .mock("POST", "/oauth2/token")
        .match_query(Matcher::Exact(API_VERSION.into()))
        .with_status(401)
        .with_body(UNAUTHORIZED_BODY)
        // refused, then retried once with a fresh exchange: the refresh token was revoked
        .expect(2)
        .create();
    let exchange_again = acr.exchange("aad-secret-value", "refresh-secret-value", 1);
    acr.seal();

    let err = acr
        .client(credential)
        .get_repository_properties("hello-world")
        .expect_err("password refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_hidden(&err, &[password, &encoded]);

    let err = acr
        .client(FakeAad::new("aad-secret-value").credential())
        .get_repository_properties("other")
        .expect_err("token refused");
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_hidden(&err, &["aad-secret-value", "refresh-secret-value"]);

    acr.verify_all([
        &challenge,
        &realm,
        &challenge_other,
        &exchange,
        &token,
        &exchange_again,
    ]);
}

#[test]
fn the_user_agent_names_the_crate_and_the_suffix() {
    let ua = format!(
        "azcontainerregistry-rust/{} my-tool/1.0",
        env!("CARGO_PKG_VERSION")
    );
    let mut acr = AcrMock::start();
    let challenge = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .match_header("user-agent", ua.as_str())
        .with_status(401)
        .with_header("www-authenticate", &acr.bearer_challenge(READ))
        .expect(1)
        .create();
    let token = acr
        .server
        .mock("POST", "/oauth2/token")
        .match_query(Matcher::Exact(API_VERSION.into()))
        .match_header("user-agent", ua.as_str())
        .with_status(200)
        .with_body(r#"{"access_token":"anon"}"#)
        .expect(1)
        .create();
    let get = acr
        .bearer_call("GET", REPO_PATH, "anon")
        .match_header("user-agent", ua.as_str())
        .with_status(200)
        .with_body(fixture("repository_properties.json"))
        .expect(1)
        .create();
    acr.seal();
    let options = ClientOptions {
        user_agent_suffix: Some("my-tool/1.0".into()),
        ..fast_options()
    };
    acr.client_with(Credential::anonymous(), options)
        .get_repository_properties("hello-world")
        .expect("user agent");
    acr.verify_all([&challenge, &token, &get]);
}

#[test]
fn an_access_token_about_to_expire_is_fetched_again() {
    let mut acr = AcrMock::start();
    // ACR access tokens are JWTs; this one expires in 10 s, inside the 30-second renewal margin
    let short = jwt_expiring_in(Duration::from_secs(10), "short-lived");
    let long = jwt_expiring_in(Duration::from_secs(3600), "long-lived");
    let challenge = acr.challenge("GET", REPO_PATH, Matcher::Any, READ, 1);
    let exchange = acr.exchange("aad", "refresh", 1);
    let (s, l) = (short.clone(), long.clone());
    let token = acr.token_sequence(READ, "refresh", 2, move |n| {
        if n == 0 { s.clone() } else { l.clone() }
    });
    let get_short = repo_get(&mut acr, REPO_PATH, &format!("Bearer {short}"), 1);
    let get_long = repo_get(&mut acr, REPO_PATH, &format!("Bearer {long}"), 2);
    acr.seal();
    let client = acr.client(FakeAad::new("aad").credential());
    for _ in 0..3 {
        client
            .get_repository_properties("hello-world")
            .expect("authorized");
    }
    acr.verify_all([&challenge, &exchange, &token, &get_short, &get_long]);
}

#[test]
fn username_and_password_follow_a_realm_the_registry_names_elsewhere() {
    // Docker Hub keeps its token service on another host: the anonymous and username/password flows
    // follow the realm the registry's own challenge named (only the Azure AD token never leaves).
    let mut auth = Server::new();
    let realm = auth
        .mock("GET", "/token")
        .match_query(Matcher::Exact(
            "service=myregistry.azurecr.io&scope=repository%3Ahello-world%3Ametadata_read".into(),
        ))
        .match_header("authorization", basic("robot", "robot-password").as_str())
        .with_status(200)
        .with_body(r#"{"token":"from-the-auth-host","expires_in":600}"#)
        .expect(1)
        .create();
    let mut acr = AcrMock::start();
    let challenge = acr
        .server
        .mock("GET", REPO_PATH)
        .match_query(Matcher::Any)
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header(
            "www-authenticate",
            &format!(
                r#"Bearer realm="{}/token",service="{SERVICE}",scope="{READ}""#,
                auth.url()
            ),
        )
        .expect(1)
        .create();
    let get = repo_get(&mut acr, REPO_PATH, "Bearer from-the-auth-host", 1);
    acr.seal();
    acr.client(Credential::basic("robot", "robot-password"))
        .get_repository_properties("hello-world")
        .expect("token from the auth host");
    acr.verify_all([&realm, &challenge, &get]);
}
