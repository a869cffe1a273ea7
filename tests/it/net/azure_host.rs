//! An Azure AD token goes only to Azure registry hosts unless `ClientOptions::azure_ad_hosts`
//! lists the host: a loopback mock ACR without the opt-in gets no token, and the error says why.

use azcontainerregistry::{
    AuthenticationClient, ClientOptions, Error, ExchangeOptions, ListRepositoriesOptions, Secret,
};
use mockito::Matcher;

use crate::support::acr_mock::{AcrMock, FakeAad, fast_options};

fn without_opt_in() -> ClientOptions {
    ClientOptions {
        azure_ad_hosts: Vec::new(),
        ..fast_options()
    }
}

fn assert_refused(e: &Error) {
    assert!(matches!(e, Error::Authentication { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("refusing to send an Azure AD token to 127.0.0.1")
            && text.contains("ClientOptions::azure_ad_hosts")
            && text.contains("azurecr.io"),
        "{text}"
    );
}

#[test]
fn a_non_azure_host_gets_no_azure_ad_token_without_the_opt_in() {
    let mut acr = AcrMock::start();
    let challenge = acr.challenge(
        "GET",
        "/acr/v1/_catalog",
        Matcher::Any,
        "registry:catalog:*",
        1,
    );
    let exchange = acr
        .server
        .mock("POST", "/oauth2/exchange")
        .match_query(Matcher::Any)
        .expect(0)
        .create();
    acr.seal();
    let aad = FakeAad::new("aad-secret-token");
    let client = acr.client_with(aad.credential(), without_opt_in());
    let e = client
        .list_repositories(ListRepositoriesOptions::default())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert_refused(&e);
    assert_eq!(aad.calls(), 0, "no Azure AD token was even requested");
    exchange.assert();
    acr.verify_all([&challenge]);
}

#[test]
fn the_opt_in_lets_the_token_go_to_a_listed_host() {
    let mut acr = AcrMock::start();
    let mut mocks = acr.aad_login(
        "GET",
        "/acr/v1/_catalog",
        "registry:catalog:*",
        ("aad", "refresh", "access"),
    );
    mocks.push(
        acr.bearer_call("GET", "/acr/v1/_catalog", "access")
            .with_status(200)
            .with_header("content-type", "application/json")
            .with_body(r#"{"repositories":["a"]}"#)
            .expect(1)
            .create(),
    );
    acr.seal();
    let options = ClientOptions {
        azure_ad_hosts: vec!["127.0.0.1".into()],
        ..without_opt_in()
    };
    let client = acr.client_with(FakeAad::new("aad").credential(), options);
    let names = client
        .list_repositories(ListRepositoriesOptions::default())
        .collect::<Result<Vec<_>, _>>()
        .expect("listing");
    assert_eq!(names, ["a"]);
    acr.verify_all(&mocks);
}

#[test]
fn the_authentication_client_refuses_too() {
    let mut acr = AcrMock::start();
    acr.seal();
    let auth = AuthenticationClient::new(&acr.url(), without_opt_in()).expect("client");
    let e = auth
        .exchange_aad_access_token_for_acr_refresh_token(
            "myregistry.azurecr.io",
            &Secret::new("aad-secret-token"),
            ExchangeOptions::default(),
        )
        .unwrap_err();
    assert_refused(&e);
    acr.verify();
}
