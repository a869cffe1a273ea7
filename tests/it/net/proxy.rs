//! Proxies: loopback traffic never goes through one (from the environment or
//! `ClientOptions::proxy`), and SOCKS proxies, which ureq cannot use here, are refused clearly
//! instead of panicking. Environment variables are set in child processes only.

use azcontainerregistry::{Client, ClientOptions, Credential, Error};

use super::{Reply, Scripted, fast};
use crate::support::child::{self, Child};

const TAGS: &str = r#"{"name":"a","tags":["v1"]}"#;
const PROXY: &str = "AZCR_IT_PROXY";
const REGISTRY: &str = "AZCR_IT_REGISTRY";
#[cfg(feature = "azure")]
const AAD: &str = "AZCR_IT_AAD";

/// A fake proxy: every contact is counted (and answered 502, so a proxied call fails).
fn fake_proxy() -> Scripted {
    Scripted::start(|_, _| Reply::status(502, &[], "proxied"))
}

/// A registry that wants Basic `u:p` (dTpw).
fn basic_registry() -> Scripted {
    Scripted::start(|seen, _| {
        let auth = seen.headers.iter().find(|(k, _)| k == "authorization");
        match auth {
            Some((_, v)) if v == "Basic dTpw" => {
                Reply::status(200, &[("Content-Type", "application/json")], TAGS)
            }
            _ => Reply::status(401, &[("WWW-Authenticate", r#"Basic realm="r""#)], "{}"),
        }
    })
}

fn tags(url: &str, options: ClientOptions) -> azcontainerregistry::Result<Vec<String>> {
    Client::new(url, Credential::basic("u", "p"), options)?
        .list_tag_names("a", Default::default())
        .collect()
}

/// The child's environment: every proxy variable on the fake proxy, `NO_PROXY` empty.
fn proxied_child(name: &str, proxy: &str) -> Child {
    let mut c = Child::new(module_path!(), name);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c = c.env(var, proxy);
    }
    c.env("NO_PROXY", "").env("no_proxy", "").env(PROXY, proxy)
}

#[test]
fn loopback_is_never_proxied_from_the_environment() {
    let name = "loopback_is_never_proxied_from_the_environment";
    if !child::is_child(module_path!(), name) {
        let proxy = fake_proxy();
        let registry = basic_registry();
        proxied_child(name, &proxy.url())
            .env(REGISTRY, format!("{}", registry.port()))
            .run();
        assert_eq!(proxy.connections(), 0, "the proxy was contacted");
        // 127.0.0.1 and localhost: a challenge and the request with the password, each
        assert_eq!(registry.seen().len(), 4, "{:?}", registry.seen());
        return;
    }
    let port = child::var(REGISTRY);
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{port}");
        assert_eq!(tags(&url, fast(0)).expect(&url), ["v1"]);
    }
}

#[test]
fn loopback_is_never_proxied_through_the_proxy_option() {
    let proxy = fake_proxy();
    let registry = basic_registry();
    let options = ClientOptions {
        proxy: Some(proxy.url()),
        ..fast(0)
    };
    assert_eq!(tags(&registry.url(), options).unwrap(), ["v1"]);
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn a_socks_proxy_option_is_a_config_error() {
    for proxy in ["socks5://127.0.0.1:1080", "socks4://me:hunter2@127.0.0.1:1"] {
        let options = ClientOptions {
            proxy: Some(proxy.into()),
            ..fast(0)
        };
        let e = Client::new("https://r.azurecr.io", Credential::anonymous(), options).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("SOCKS"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn a_socks_proxy_in_the_environment_does_not_panic() {
    let name = "a_socks_proxy_in_the_environment_does_not_panic";
    if !child::is_child(module_path!(), name) {
        let proxy = fake_proxy();
        let registry = basic_registry();
        let socks = format!("socks5://127.0.0.1:{}", proxy.port());
        proxied_child(name, &socks)
            .env(REGISTRY, registry.url())
            .run();
        assert_eq!(proxy.connections(), 0);
        return;
    }
    // loopback goes direct: no SOCKS involved
    let url = child::var(REGISTRY);
    assert_eq!(tags(&url, fast(0)).unwrap(), ["v1"]);
}

#[cfg(feature = "azure")]
#[test]
fn azure_ad_requests_to_a_loopback_authority_are_not_proxied() {
    use azcontainerregistry::TokenCredential;
    use azcontainerregistry::credential::azure::{
        AZURE_PUBLIC_AUTHORITY, AzureTokenCredential, IMDS_ORIGIN, UreqTransport,
    };
    let name = "azure_ad_requests_to_a_loopback_authority_are_not_proxied";
    if !child::is_child(module_path!(), name) {
        let proxy = fake_proxy();
        let aad = Scripted::start(|seen, _| {
            if seen.line.starts_with("POST /my-tenant/oauth2/v2.0/token") {
                let body = r#"{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"aad-via-direct"}"#;
                Reply::status(200, &[("Content-Type", "application/json")], body)
            } else {
                Reply::status(404, &[], "{}")
            }
        });
        proxied_child(name, &proxy.url()).env(AAD, aad.url()).run();
        assert_eq!(proxy.connections(), 0, "the proxy was contacted");
        assert_eq!(aad.seen().len(), 1, "{:?}", aad.seen());
        return;
    }
    let aad = child::var(AAD);
    let transport = UreqTransport::new()
        .with_rewrite(AZURE_PUBLIC_AUTHORITY, &aad)
        .and_then(|t| t.with_rewrite(IMDS_ORIGIN, &aad))
        .expect("rewrites")
        .rewrites_only();
    let credential = azure_identity::ClientSecretCredential::new(
        "my-tenant",
        "my-client".to_string(),
        "my-secret".to_string().into(),
        Some(azure_identity::ClientSecretCredentialOptions {
            client_options: transport.client_options(),
        }),
    )
    .expect("credential");
    let token = AzureTokenCredential::new(credential)
        .get_token(&["https://containerregistry.azure.net/.default"])
        .expect("token through the loopback authority");
    assert_eq!(token.token.expose(), "aad-via-direct");
}
