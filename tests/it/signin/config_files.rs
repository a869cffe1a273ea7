//! `Credential::docker_config_at` / `DockerConfig` against real registries and the mock ACR: every
//! entry shape, the key forms Docker writes, malformed and missing files, and the lookup order of
//! the standard files.

use azcontainerregistry::{
    Client, ClientOptions, Credential, DockerConfig, Error, ListNamesOptions, NULL_GUID,
};
use mockito::Matcher;
use serde_json::json;

use super::{auth_field, write_config};
use crate::support::acr_mock::{API_VERSION, AcrMock, fixture};
use crate::support::child::{self, Child};
use crate::support::{Registry, RegistryBuilder};

/// The repositories `credential` lists on `reg`.
fn catalog(url: &str, credential: Credential) -> Result<Vec<String>, Error> {
    Client::new(url, credential, ClientOptions::default())
        .unwrap()
        .list_catalog(ListNamesOptions::default())
        .collect()
}

#[test]
fn auth_and_username_password_entries_sign_in_to_an_htpasswd_registry() {
    let reg = Registry::with_htpasswd("alice", "s3cret");
    reg.push_test_image("app", "v1", 10, 1);
    let dir = tempfile::tempdir().unwrap();
    let host = reg.host_port();
    // each key form Docker may have written, next to an entry for another registry
    let keys = [
        host.clone(),
        format!("https://{host}"),
        format!("http://{host}/v1/"),
    ];
    for key in keys {
        let path = write_config(
            dir.path(),
            &json!({
                "auths": {
                    "127.0.0.1:1": {"auth": auth_field("mallory", "wrong")},
                    key.clone(): {"auth": auth_field("alice", "s3cret")},
                },
                "unknownKey": {"kept": true},
            }),
        );
        let repos = catalog(&reg.url(), Credential::docker_config_at(&path))
            .unwrap_or_else(|e| panic!("key {key}: {e}"));
        assert_eq!(repos, ["app"], "key {key}");
    }
    let path = write_config(
        dir.path(),
        &json!({"auths": {host.clone(): {"username": "alice", "password": "s3cret"}}}),
    );
    assert_eq!(
        catalog(&reg.url(), Credential::docker_config_at(&path)).unwrap(),
        ["app"]
    );
    // an entry for another port of the same host is not this registry's: anonymous, refused
    let path = write_config(
        dir.path(),
        &json!({"auths": {"127.0.0.1:1": {"auth": auth_field("alice", "s3cret")}}}),
    );
    let err = catalog(&reg.url(), Credential::docker_config_at(&path)).unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    // a wrong password in the file is the registry's refusal
    let path = write_config(
        dir.path(),
        &json!({"auths": {host: {"auth": auth_field("alice", "nope")}}}),
    );
    let err = catalog(&reg.url(), Credential::docker_config_at(&path)).unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[test]
fn auth_entry_signs_in_through_the_token_issuer() {
    let reg = Registry::start_with(RegistryBuilder::default().token_auth_basic("bob", "pw"));
    reg.push_test_image("lib/app", "v1", 10, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &json!({"auths": {reg.host_port(): {"auth": auth_field("bob", "pw")}}}),
    );
    assert_eq!(
        catalog(&reg.url(), Credential::docker_config_at(&path)).unwrap(),
        ["lib/app"]
    );
    let users: Vec<_> = reg
        .token_issuer()
        .requests()
        .into_iter()
        .filter(|r| r.status == 200)
        .map(|r| r.basic_user)
        .collect();
    assert!(
        !users.is_empty() && users.iter().all(|u| u.as_deref() == Some("bob")),
        "{users:?}"
    );
}

#[test]
fn identity_token_uses_the_oauth2_refresh_grant_on_a_token_issuer() {
    let reg = Registry::with_token_auth();
    reg.push_test_image("app", "v1", 10, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &json!({"auths": {reg.host_port(): {
            "auth": auth_field("carol", ""),
            "identitytoken": "refresh-token-for-carol",
        }}}),
    );
    assert_eq!(
        catalog(&reg.url(), Credential::docker_config_at(&path)).unwrap(),
        ["app"]
    );
    let posts: Vec<_> = reg
        .token_issuer()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert!(!posts.is_empty(), "no POST to the token service");
    for p in &posts {
        assert_eq!(p.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(p.refresh_token.as_deref(), Some("refresh-token-for-carol"));
        assert_eq!(p.basic_user, None, "the refresh grant carries no password");
    }
    let gets = reg
        .token_issuer()
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(
        gets, 0,
        "the Docker GET flow was used instead of the refresh grant"
    );
}

const CATALOG_PAGE: &str = "catalog_page3.json";

/// An ACR mock whose `/acr/v1/_catalog` is challenged once and then wants `Bearer access`.
fn acr_catalog(acr: &mut AcrMock, access: &str) -> Vec<mockito::Mock> {
    vec![
        acr.challenge(
            "GET",
            "/acr/v1/_catalog",
            Matcher::Any,
            "registry:catalog:*",
            1,
        ),
        acr.page(
            "/acr/v1/_catalog",
            API_VERSION,
            access,
            CATALOG_PAGE,
            None,
            1,
        ),
    ]
}

fn acr_list(acr: &AcrMock, credential: Credential) -> Vec<String> {
    acr.client(credential)
        .list_repositories(Default::default())
        .collect::<Result<_, _>>()
        .expect("catalog")
}

fn expected_page() -> Vec<String> {
    let page: serde_json::Value = serde_json::from_str(&fixture(CATALOG_PAGE)).unwrap();
    serde_json::from_value(page["repositories"].clone()).unwrap()
}

#[test]
fn acr_identity_token_is_exchanged_at_the_registrys_oauth2_token() {
    // what `az acr login` leaves: the null-GUID user and an ACR refresh token
    let mut acr = AcrMock::start();
    let mut mocks = acr_catalog(&mut acr, "access-from-identity-token");
    mocks.push(acr.token(
        "registry:catalog:*",
        "acr-refresh-from-az",
        "access-from-identity-token",
        1,
    ));
    acr.seal();
    let dir = tempfile::tempdir().unwrap();
    let host = acr.url().trim_start_matches("http://").to_string();
    let path = write_config(
        dir.path(),
        &json!({"auths": {host: {
            "auth": auth_field(NULL_GUID, ""),
            "identitytoken": "acr-refresh-from-az",
        }}}),
    );
    assert_eq!(
        acr_list(&acr, Credential::docker_config_at(&path)),
        expected_page()
    );
    acr.verify_all(&mocks);
}

#[test]
fn expose_token_output_works_as_a_password_with_the_null_guid_user() {
    // `az acr login --expose-token` prints an ACR refresh token for the null-GUID user
    let mut acr = AcrMock::start();
    let mut mocks = acr_catalog(&mut acr, "access-from-exposed-token");
    mocks.push(acr.token(
        "registry:catalog:*",
        "exposed-refresh-token",
        "access-from-exposed-token",
        1,
    ));
    acr.seal();
    let credential = Credential::basic(NULL_GUID, "exposed-refresh-token");
    assert_eq!(acr_list(&acr, credential), expected_page());
    acr.verify_all(&mocks);
}

#[test]
fn registry_token_is_sent_as_a_bearer_token_without_a_challenge() {
    let mut acr = AcrMock::start();
    let page = acr.page(
        "/acr/v1/_catalog",
        API_VERSION,
        "the-registry-token",
        CATALOG_PAGE,
        None,
        1,
    );
    acr.seal();
    let dir = tempfile::tempdir().unwrap();
    let host = acr.url().trim_start_matches("http://").to_string();
    let path = write_config(
        dir.path(),
        &json!({"auths": {host: {"registrytoken": "the-registry-token"}}}),
    );
    assert_eq!(
        acr_list(&acr, Credential::docker_config_at(&path)),
        expected_page()
    );
    acr.verify_all([&page]);
}

#[test]
fn a_missing_file_is_anonymous_and_a_malformed_one_a_clear_error() {
    let reg = Registry::start();
    reg.push_test_image("open", "v1", 10, 4);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here.json");
    assert_eq!(
        catalog(&reg.url(), Credential::docker_config_at(&missing)).unwrap(),
        ["open"]
    );
    assert!(
        DockerConfig::at(&missing)
            .find(&reg.url())
            .unwrap()
            .is_none()
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"auths\": {\"x\": ").unwrap();
    let err = catalog(&reg.url(), Credential::docker_config_at(&bad)).unwrap_err();
    assert!(err.to_string().contains("bad.json"), "{err}");
    let not_base64 = write_config(
        dir.path(),
        &json!({"auths": {reg.host_port(): {"auth": "%%%not base64 s3cret"}}}),
    );
    let err = DockerConfig::at(&not_base64).find(&reg.url()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("not base64") && !text.contains("s3cret"),
        "{text}"
    );
}

/// The Debug text of what the standard files give for `registry` (usernames show, secrets not).
fn found_in_env(registry: &str) -> String {
    format!("{:?}", DockerConfig::from_env().find(registry).unwrap())
}

#[test]
fn standard_files_are_read_in_docker_then_containers_order() {
    const NAME: &str = "standard_files_are_read_in_docker_then_containers_order";
    if !child::is_child(module_path!(), NAME) {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let entry = |user: &str| json!({"auth": auth_field(user, "pw")});
        let write = |rel: &str, auths: serde_json::Value| {
            let path = h.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, json!({"auths": auths}).to_string()).unwrap();
        };
        // a.io is everywhere; b.io from REGISTRY_AUTH_FILE down; c.io from XDG down; d.io only
        // in ~/.config/containers; e.io only in ~/.docker (which DOCKER_CONFIG replaces)
        write(
            "dockercfg/config.json",
            json!({"a.io": entry("docker-config")}),
        );
        write(
            ".docker/config.json",
            json!({"a.io": entry("home-docker"), "e.io": entry("e")}),
        );
        write(
            "regauth.json",
            json!({"a.io": entry("x"), "b.io": entry("registry-auth-file")}),
        );
        write(
            "xdg/containers/auth.json",
            json!({"b.io": entry("x"), "c.io": entry("xdg-runtime")}),
        );
        write(
            ".config/containers/auth.json",
            json!({"c.io": entry("x"), "d.io": entry("home-containers")}),
        );
        Child::new(module_path!(), NAME)
            .env("HOME", h)
            .env("DOCKER_CONFIG", h.join("dockercfg"))
            .env("REGISTRY_AUTH_FILE", h.join("regauth.json"))
            .env("XDG_RUNTIME_DIR", h.join("xdg"))
            .run();
        // without DOCKER_CONFIG, ~/.docker/config.json is the Docker file
        Child::new(module_path!(), NAME)
            .env("HOME", h)
            .env("CHECK_HOME_DOCKER", "1")
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .run();
        return;
    }
    if std::env::var_os("CHECK_HOME_DOCKER").is_some() {
        assert!(
            found_in_env("a.io").contains("home-docker"),
            "{}",
            found_in_env("a.io")
        );
        assert!(
            found_in_env("e.io").contains("\"e\""),
            "{}",
            found_in_env("e.io")
        );
        assert!(found_in_env("https://d.io/").contains("home-containers"));
        return;
    }
    let home = std::path::PathBuf::from(child::var("HOME"));
    let files: Vec<_> = DockerConfig::from_env().files().to_vec();
    assert_eq!(
        files,
        [
            home.join("dockercfg/config.json"),
            home.join("regauth.json"),
            home.join("xdg/containers/auth.json"),
            home.join(".config/containers/auth.json"),
        ]
    );
    assert!(
        found_in_env("a.io").contains("docker-config"),
        "{}",
        found_in_env("a.io")
    );
    assert!(found_in_env("b.io").contains("registry-auth-file"));
    assert!(found_in_env("c.io").contains("xdg-runtime"));
    assert!(found_in_env("d.io").contains("home-containers"));
    assert_eq!(
        found_in_env("e.io"),
        "None",
        "DOCKER_CONFIG replaces ~/.docker"
    );
    assert!(!found_in_env("a.io").contains("pw"), "a secret in Debug");
}

#[test]
fn docker_config_reads_the_standard_file_for_the_clients_registry() {
    const NAME: &str = "docker_config_reads_the_standard_file_for_the_clients_registry";
    if !child::is_child(module_path!(), NAME) {
        let reg = Registry::with_htpasswd("dora", "from-env-file");
        reg.push_test_image("env/app", "v1", 10, 6);
        let dir = tempfile::tempdir().unwrap();
        write_config(
            dir.path(),
            &json!({"auths": {reg.host_port(): {"auth": auth_field("dora", "from-env-file")}}}),
        );
        Child::new(module_path!(), NAME)
            .env("DOCKER_CONFIG", dir.path())
            .env("HOME", dir.path())
            .env("REG", reg.url())
            .run();
        return;
    }
    assert_eq!(
        catalog(&child::var("REG"), Credential::docker_config()).unwrap(),
        ["env/app"]
    );
}
