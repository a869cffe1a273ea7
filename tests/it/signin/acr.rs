//! ACR recognised by its behaviour on a loopback host (one probe at most), what `az acr login`
//! does (`AuthenticationClient::sign_in`), and Azure AD credentials built by the caller
//! (`Credential::azure_with`).

use azcontainerregistry::{Api, Client, ClientOptions, Credential};
use mockito::Matcher;

use crate::support::Registry;
use crate::support::acr_mock::{AcrMock, UNAUTHORIZED_BODY, fast_options};

/// `GET /v2/` answered with ACR's challenge, expected `hits` times.
fn v2_challenge(acr: &mut AcrMock, hits: usize) -> mockito::Mock {
    let header = format!(
        r#"Bearer realm="{}/oauth2/token",service="{}""#,
        acr.url(),
        acr.url().trim_start_matches("http://")
    );
    acr.server
        .mock("GET", "/v2/")
        .match_header("authorization", Matcher::Missing)
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_header("www-authenticate", &header)
        .with_body(UNAUTHORIZED_BODY)
        .expect(hits)
        .create()
}

#[test]
fn acr_on_a_loopback_host_is_recognised_with_one_probe() {
    let mut acr = AcrMock::start();
    let probe = v2_challenge(&mut acr, 1);
    acr.seal();
    let client = acr.client(Credential::anonymous());
    assert!(client.is_acr().unwrap());
    // asked again, and from a clone: the answer is kept, no second probe
    assert!(client.is_acr().unwrap());
    assert!(client.clone().is_acr().unwrap());
    acr.verify_all([&probe]);
}

#[test]
fn the_api_option_forces_the_answer_without_a_probe() {
    let mut acr = AcrMock::start();
    acr.seal(); // any request fails the test
    for (api, expected) in [(Api::Acr, true), (Api::Oci, false)] {
        let options = ClientOptions {
            api,
            ..fast_options()
        };
        assert_eq!(
            acr.client_with(Credential::anonymous(), options)
                .is_acr()
                .unwrap(),
            expected
        );
    }
    // an Azure AD credential means ACR: only ACR takes it
    let aad = crate::support::acr_mock::FakeAad::new("unused");
    assert!(acr.client(aad.credential()).is_acr().unwrap());
    assert_eq!(aad.calls(), 0);
    acr.verify();
}

#[test]
fn plain_registries_are_not_acr() {
    for reg in [
        Registry::start(),
        Registry::with_htpasswd("u", "p"),
        Registry::with_token_auth(),
    ] {
        let client = Client::new(
            &reg.url(),
            Credential::anonymous(),
            ClientOptions::default(),
        )
        .unwrap();
        assert!(!client.is_acr().unwrap(), "{}", reg.url());
    }
}

#[cfg(feature = "azure")]
mod azure {
    use azcontainerregistry::credential::azure::{
        AZURE_PUBLIC_AUTHORITY, IMDS_ORIGIN, UreqTransport,
    };
    use azcontainerregistry::{AuthenticationClient, Credential, NULL_GUID};
    use mockito::{Matcher, Server};

    use crate::support::acr_mock::{AcrMock, DEFAULT_AAD_SCOPE, FakeAad, SERVICE, fast_options};
    use crate::support::child::{self, Child};
    use crate::support::mock::CatchAll;

    #[test]
    fn sign_in_exchanges_an_azure_ad_token_for_an_acr_refresh_token() {
        let mut acr = AcrMock::start();
        let exchange = acr.exchange("aad-for-login", "refresh-for-login", 1);
        acr.seal();
        let aad = FakeAad::new("aad-for-login");
        let auth = AuthenticationClient::new(&acr.url(), fast_options()).unwrap();
        let refresh = auth.sign_in(SERVICE, &aad.credential()).unwrap();
        assert_eq!(refresh.refresh_token.expose(), "refresh-for-login");
        assert_eq!(aad.scopes(), [vec![DEFAULT_AAD_SCOPE.to_string()]]);
        acr.verify_all([&exchange]);
        // what it gives works as an identity token, or a password for the null-GUID user
        let err = auth
            .sign_in(SERVICE, &Credential::basic(NULL_GUID, "x"))
            .unwrap_err();
        assert!(
            err.to_string().contains("needs an Azure AD credential"),
            "{err}"
        );
    }

    fn transport(server: &str) -> UreqTransport {
        UreqTransport::new()
            .with_rewrite(AZURE_PUBLIC_AUTHORITY, server)
            .and_then(|t| t.with_rewrite(IMDS_ORIGIN, server))
            .unwrap()
            .rewrites_only()
    }

    #[test]
    fn azure_with_wires_the_crates_transport_into_an_azure_identity_credential() {
        const NAME: &str =
            "azure_with_wires_the_crates_transport_into_an_azure_identity_credential";
        if !child::is_child(module_path!(), NAME) {
            Child::new(module_path!(), NAME).run();
            return;
        }
        let mut aad = Server::new();
        let token = aad
            .mock("POST", "/t1/oauth2/v2.0/token")
            .match_body(Matcher::UrlEncoded("client_secret".into(), "shh".into()))
            .with_status(200)
            .with_body(
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600,
                    "access_token": "aad-from-azure-with"})
                .to_string(),
            )
            .expect(1)
            .create();
        let unexpected = CatchAll::install(&mut aad);
        let credential = Credential::azure_with(&transport(&aad.url()), |client_options| {
            azure_identity::ClientSecretCredential::new(
                "t1",
                "client".to_string(),
                "shh".to_string().into(),
                Some(azure_identity::ClientSecretCredentialOptions { client_options }),
            )
        })
        .unwrap();
        let mut acr = AcrMock::start();
        let exchange = acr.exchange("aad-from-azure-with", "refresh-x", 1);
        acr.seal();
        let auth = AuthenticationClient::new(&acr.url(), fast_options()).unwrap();
        let refresh = auth.sign_in(SERVICE, &credential).unwrap();
        assert_eq!(refresh.refresh_token.expose(), "refresh-x");
        token.assert();
        unexpected.assert();
        acr.verify_all([&exchange]);
    }

    #[test]
    fn a_credential_without_a_transport_is_an_error_not_a_panic() {
        const NAME: &str = "a_credential_without_a_transport_is_an_error_not_a_panic";
        if !child::is_child(module_path!(), NAME) {
            // in a child: the panic hook prints azure_core's message to stderr
            Child::new(module_path!(), NAME).run();
            return;
        }
        let err = Credential::azure_with(&UreqTransport::new().rewrites_only(), |_ignored| {
            azure_identity::ClientSecretCredential::new(
                "t1",
                "client".to_string(),
                "shh".to_string().into(),
                None, // azure_core's default options: no transport without reqwest
            )
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no HTTP transport") && text.contains("Credential::azure_with"),
            "{text}"
        );
    }
}
