//! Azure AD sign-in without an async runtime: `azure_identity` credentials over the ureq transport,
//! against loopback fakes of Azure AD, the instance metadata service, App Service and the `az` CLI.
//!
//! The credentials read the process environment (the `AZURE_*` variables, `PATH` for `az`), which
//! every test of this binary shares: so each test that needs an environment runs its body in a
//! child process of its own (`support::child`), started without the machine's Azure variables and
//! with the ones the test sets. Mocks and files the parent made outlive the child, and the parent
//! asserts on them once the child passed. Every request goes to 127.0.0.1: transports are built
//! with `rewrites_only()`, so a request for any origin that is not mapped to a mock fails instead
//! of leaving.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use azcontainerregistry::credential::azure::{
    AZURE_PUBLIC_AUTHORITY, AzureCredentialOptions, AzureDefaultCredential, AzureTokenCredential,
    IMDS_ORIGIN, UreqTransport,
};
use azcontainerregistry::{
    AuthenticationClient, ClientOptions, Credential, Error, ExchangeOptions, TokenCredential,
};
use azure_core::http::{HttpClient, Method, Request, Url};
use base64::Engine;
use mockito::{Matcher, Server, ServerGuard};

use crate::support::acr_mock::JsonReply;
use crate::support::acr_mock::{API_VERSION, AcrMock, fixture};
use crate::support::child::{self, Child};
use crate::support::mock::CatchAll;

const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
const ACR_RESOURCE: &str = "https://containerregistry.azure.net";
/// 2099-01-01T00:00:00Z.
const FAR_FUTURE: u64 = 4_070_908_800;

/// A client secret in the environment.
const ENV_SECRET: [(&str, &str); 3] = [
    ("AZURE_TENANT_ID", "env-tenant"),
    ("AZURE_CLIENT_ID", "env-client"),
    ("AZURE_CLIENT_SECRET", "env-secret-value"),
];
/// Parent to child: the token the child must be handed.
const TOKEN: &str = "AZCR_IT_TOKEN";
/// Parent to child: the URL of a mock the parent runs.
const MOCK_URL: &str = "AZCR_IT_MOCK_URL";

// -------------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------------

/// The child process for the test `name` of this module.
fn child(name: &str) -> Child {
    Child::new(module_path!(), name)
}

/// True in the child process of the test `name`.
fn in_child(name: &str) -> bool {
    child::is_child(module_path!(), name)
}

/// A transport that sends the public Azure AD authority and the metadata service to `server`, and
/// refuses everything else.
fn loopback_transport(server: &str) -> UreqTransport {
    UreqTransport::new()
        .with_rewrite(AZURE_PUBLIC_AUTHORITY, server)
        .and_then(|t| t.with_rewrite(IMDS_ORIGIN, server))
        .expect("valid rewrites")
        .rewrites_only()
}

fn entra_token_body(token: &str) -> String {
    serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token})
        .to_string()
}

/// A unique token value, so that a test cannot pass on a value it did not receive.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{nanos:x}")
}

fn jwt(claims: serde_json::Value) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.signature",
        e.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        e.encode(claims.to_string())
    )
}

/// A fake `az` in a fresh directory: records its arguments (one line per run) in `calls`, prints
/// `stdout` and exits with `code` (writing `stderr` to standard error).
struct FakeAz {
    dir: tempfile::TempDir,
}

impl FakeAz {
    fn new(stdout: &str, stderr: &str, code: i32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let calls = dir.path().join("calls");
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\ncat <<'OUT'\n{stdout}\nOUT\ncat >&2 <<'ERR'\n{stderr}\nERR\nexit {code}\n",
            calls.display()
        );
        let path = dir.path().join("az");
        std::fs::write(&path, script).expect("write fake az");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod fake az");
        FakeAz { dir }
    }

    fn printing_token(token: &str) -> Self {
        let json = serde_json::json!({
            "accessToken": token,
            "expiresOn": "2099-01-01 00:00:00.000000",
            "expires_on": FAR_FUTURE,
            "subscription": "00000000-0000-0000-0000-000000000001",
            "tenant": "00000000-0000-0000-0000-000000000002",
            "tokenType": "Bearer"
        });
        Self::new(&json.to_string(), "", 0)
    }

    /// `PATH` with this fake first.
    fn path_env(&self) -> OsString {
        path_with(self.dir.path())
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// This process's `PATH` with `dir` first.
fn path_with(dir: &Path) -> OsString {
    let old = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(&old));
    std::env::join_paths(paths).expect("PATH entries are joinable")
}

/// The token `credential` yields for the ACR scope.
fn token_of(credential: &impl TokenCredential) -> String {
    let token = credential.get_token(&[ACR_SCOPE]).expect("token");
    token.token.expose().to_string()
}

/// An origin on 127.0.0.1 where nothing listens (bound, then released).
fn closed_origin() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn message(e: &Error) -> String {
    match e {
        Error::Authentication { message, .. } => message.clone(),
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

// -------------------------------------------------------------------------------------------------
// (a) Client secret over the ureq transport, then the ACR exchange
// -------------------------------------------------------------------------------------------------

#[test]
fn client_secret_token_from_fake_authority_is_exchanged_at_the_registry() {
    if child("client_secret_token_from_fake_authority_is_exchanged_at_the_registry")
        .run_unless_child()
    {
        return;
    }
    let mut aad = Server::new();
    let aad_token = unique("aad-token");
    let token_mock = aad
        .mock("POST", "/my-tenant/oauth2/v2.0/token")
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("client_id".into(), "my-client".into()),
            Matcher::UrlEncoded("client_secret".into(), "my-secret".into()),
            Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()),
            Matcher::UrlEncoded("scope".into(), ACR_SCOPE.into()),
        ]))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(entra_token_body(&aad_token))
        .expect(1)
        .create();
    let aad_unexpected = CatchAll::install(&mut aad);

    let transport = loopback_transport(&aad.url());
    let credential = azure_identity::ClientSecretCredential::new(
        "my-tenant",
        "my-client".to_string(),
        "my-secret".to_string().into(),
        Some(azure_identity::ClientSecretCredentialOptions {
            client_options: transport.client_options(),
        }),
    )
    .expect("credential");
    let adapter = AzureTokenCredential::new(credential);
    assert!(
        !format!("{adapter:?}").contains("my-secret"),
        "Debug must not show the secret"
    );

    let before = SystemTime::now();
    let token = adapter
        .get_token(&[ACR_SCOPE])
        .expect("token from the fake authority");
    assert_eq!(token.token.expose(), aad_token);
    let lifetime = token
        .expires_on
        .duration_since(before)
        .expect("expiry in the future");
    assert!(
        lifetime > Duration::from_secs(3500) && lifetime <= Duration::from_secs(3601),
        "{lifetime:?}"
    );
    // azure_identity caches the token: a second call must not reach the authority again.
    let again = adapter.get_token(&[ACR_SCOPE]).expect("cached token");
    assert_eq!(again.token.expose(), aad_token);
    token_mock.assert();
    aad_unexpected.assert();

    // The registry side: exchange the Azure AD token for an ACR refresh token.
    let mut acr = Server::new();
    let refresh = jwt(serde_json::json!({"exp": FAR_FUTURE, "grant_type": "refresh_token"}));
    let exchange = acr
        .mock("POST", "/oauth2/exchange")
        .match_query(Matcher::UrlEncoded(
            "api-version".into(),
            "2021-07-01".into(),
        ))
        .match_header("content-type", "application/x-www-form-urlencoded")
        .match_body(Matcher::Exact(format!(
            "grant_type=access_token&service=myregistry.azurecr.io&access_token={aad_token}"
        )))
        .with_status(200)
        .with_body(serde_json::json!({"refresh_token": refresh}).to_string())
        .expect(1)
        .create();
    let acr_unexpected = CatchAll::install(&mut acr);
    // the mock is on loopback, not an Azure registry domain: allow it explicitly
    let options = ClientOptions {
        azure_ad_hosts: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    let auth = AuthenticationClient::new(&acr.url(), options).expect("auth client");
    let acr_refresh = auth
        .exchange_aad_access_token_for_acr_refresh_token(
            "myregistry.azurecr.io",
            &token.token,
            ExchangeOptions::default(),
        )
        .expect("exchange");
    assert_eq!(acr_refresh.refresh_token.expose(), refresh);
    assert_eq!(
        acr_refresh.expires_on,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(FAR_FUTURE))
    );
    exchange.assert();
    acr_unexpected.assert();
}

/// The whole way through the client: `Credential::azure_default_with` (environment client secret,
/// fake Azure AD on loopback) → `Client` → 401 challenge → `/oauth2/exchange` with the token the
/// fake authority issued → `/oauth2/token` → the retried request with the ACR access token. Plain
/// `#[test]`, no runtime.
#[test]
fn client_signs_in_with_the_default_chain_end_to_end() {
    if child("client_signs_in_with_the_default_chain_end_to_end")
        .envs(ENV_SECRET)
        .run_unless_child()
    {
        return;
    }
    let mut aad = Server::new();
    let aad_token = unique("aad-token");
    let token_mock = client_secret_mock(&mut aad, "env-tenant", "env-secret-value", &aad_token);
    let aad_unexpected = CatchAll::install(&mut aad);

    const READ: &str = "repository:hello-world:metadata_read";
    let mut acr = AcrMock::start();
    let challenge = acr.challenge(
        "GET",
        "/acr/v1/hello-world",
        Matcher::Exact(API_VERSION.into()),
        READ,
        1,
    );
    let exchange = acr.exchange(&aad_token, "acr-refresh", 1);
    let token = acr.token(READ, "acr-refresh", "acr-access", 1);
    let get = acr
        .bearer_call("GET", "/acr/v1/hello-world", "acr-access")
        .json(200, fixture("repository_properties.json"))
        .expect(1)
        .create();
    acr.seal();

    let credential = Credential::azure_default_with(AzureCredentialOptions {
        transport: Some(loopback_transport(&aad.url())),
        ..Default::default()
    })
    .expect("credential");
    let props = acr
        .client(credential)
        .get_repository_properties("hello-world")
        .expect("signed in");
    assert_eq!(props.name, "library/hello-world"); // what the fixture says

    acr.verify_all([&challenge, &exchange, &token, &get, &token_mock]);
    aad_unexpected.assert();
}

// -------------------------------------------------------------------------------------------------
// (b) Azure CLI through a fake `az` on PATH
// -------------------------------------------------------------------------------------------------

#[test]
fn azure_cli_credential_yields_the_token_az_printed() {
    const NAME: &str = "azure_cli_credential_yields_the_token_az_printed";
    if !in_child(NAME) {
        let cli_token = unique("cli-token");
        let az = FakeAz::printing_token(&cli_token);
        child(NAME)
            .env("PATH", az.path_env())
            .env(TOKEN, &cli_token)
            .run();
        let calls = az.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert!(
            calls[0].starts_with("account get-access-token -o json --scope "),
            "{calls:?}"
        );
        assert!(
            calls[0].contains(&format!("--scope {ACR_SCOPE}")),
            "{calls:?}"
        );
        return;
    }
    let cli_token = child::var(TOKEN);

    let credential = Credential::azure_cli().expect("cli credential");
    assert!(format!("{credential:?}").contains("AzureCliCredential"));
    // azure_identity's own executor (a std thread per run) also works without a runtime; the
    // crate's executor (with a timeout) is exercised through the chain in the next test.
    let adapter =
        AzureTokenCredential::new(azure_identity::AzureCliCredential::new(None).expect("cli"));
    let token = adapter.get_token(&[ACR_SCOPE]).expect("token from fake az");
    assert_eq!(token.token.expose(), cli_token);
    assert_eq!(
        token.expires_on,
        SystemTime::UNIX_EPOCH + Duration::from_secs(FAR_FUTURE)
    );
}

#[test]
fn azure_cli_only_chain_uses_the_crate_executor() {
    const NAME: &str = "azure_cli_only_chain_uses_the_crate_executor";
    if !in_child(NAME) {
        let cli_token = unique("cli-token");
        let az = FakeAz::printing_token(&cli_token);
        child(NAME)
            .env("PATH", az.path_env())
            .env(TOKEN, &cli_token)
            .run();
        assert_eq!(az.calls().len(), 1);
        return;
    }
    let cli_token = child::var(TOKEN);

    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        exclude_environment: true,
        exclude_workload_identity: true,
        exclude_managed_identity: true,
        ..Default::default()
    })
    .expect("chain");
    assert_eq!(
        token_of(&AzureTokenCredential::new(chain.clone())),
        cli_token
    );
    assert_eq!(chain.selected(), Some("AzureCliCredential"));
}

#[test]
fn azure_cli_failure_reports_what_az_said() {
    const NAME: &str = "azure_cli_failure_reports_what_az_said";
    if !in_child(NAME) {
        let az = FakeAz::new("", "ERROR: Please run 'az login' to setup account.", 1);
        child(NAME).env("PATH", az.path_env()).run();
        assert_eq!(az.calls().len(), 1);
        return;
    }

    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        exclude_environment: true,
        exclude_workload_identity: true,
        exclude_managed_identity: true,
        ..Default::default()
    })
    .expect("chain");
    let err = AzureTokenCredential::new(chain)
        .get_token(&[ACR_SCOPE])
        .unwrap_err();
    let text = message(&err);
    assert!(text.contains("AzureCliCredential"), "{text}");
    assert!(text.contains("Please run 'az login'"), "{text}");
}

#[test]
fn azure_cli_timeout_ends_az_and_its_children() {
    const NAME: &str = "azure_cli_timeout_ends_az_and_its_children";
    if !in_child(NAME) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pid_file = dir.path().join("grandchild.pid");
        // like the real az: a script whose child (here a long sleep) holds the output pipes
        let script = format!(
            "#!/bin/sh\nsleep 300 &\necho $! > '{}'\nwait\n",
            pid_file.display()
        );
        let path = dir.path().join("az");
        std::fs::write(&path, script).expect("write fake az");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        child(NAME).env("PATH", path_with(dir.path())).run();
        assert_grandchild_ended(&pid_file);
        return;
    }
    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        exclude_environment: true,
        exclude_workload_identity: true,
        exclude_managed_identity: true,
        azure_cli_timeout: Some(std::time::Duration::from_millis(500)),
        ..Default::default()
    })
    .expect("chain");
    let err = AzureTokenCredential::new(chain)
        .get_token(&[ACR_SCOPE])
        .unwrap_err();
    assert!(
        message(&err).contains("did not answer"),
        "{}",
        message(&err)
    );
}

/// The process whose PID the fake az wrote to `pid_file` is gone (or a zombie), within a second.
fn assert_grandchild_ended(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).expect("the fake az started its child");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    // the kill is synchronous; allow the kernel a moment to reap
    for _ in 0..50 {
        let alive = std::fs::read_to_string(proc_dir.join("stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if !alive {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the grandchild {} of az survived the timeout", pid.trim());
}

// -------------------------------------------------------------------------------------------------
// (c) Managed identity, with the metadata service on loopback
// -------------------------------------------------------------------------------------------------

fn imds_token_mock(
    server: &mut ServerGuard,
    token: &str,
    client_id: Option<&str>,
) -> mockito::Mock {
    let mut query = vec![
        Matcher::UrlEncoded("api-version".into(), "2019-08-01".into()),
        Matcher::UrlEncoded("resource".into(), ACR_RESOURCE.into()),
    ];
    if let Some(id) = client_id {
        query.push(Matcher::UrlEncoded("client_id".into(), id.into()));
    }
    server
        .mock("GET", "/metadata/identity/oauth2/token")
        .match_query(Matcher::AllOf(query))
        .match_header("metadata", "true")
        .with_status(200)
        .with_body(
            serde_json::json!({
                "access_token": token,
                "expires_on": FAR_FUTURE.to_string(),
                "token_type": "Bearer",
                "resource": ACR_RESOURCE,
            })
            .to_string(),
        )
        .expect(1)
        .create()
}

#[test]
fn managed_identity_asks_the_rewritten_metadata_service() {
    if child("managed_identity_asks_the_rewritten_metadata_service").run_unless_child() {
        return;
    }
    let mut imds = Server::new();
    let mi_token = unique("mi-token");
    let token_mock = imds_token_mock(&mut imds, &mi_token, Some("mi-client-id"));
    let unexpected = CatchAll::install(&mut imds);

    let transport = loopback_transport(&imds.url());
    let credential = azure_identity::ManagedIdentityCredential::new(Some(
        azure_identity::ManagedIdentityCredentialOptions {
            user_assigned_id: Some(azure_identity::UserAssignedId::ClientId(
                "mi-client-id".into(),
            )),
            client_options: transport.client_options(),
        },
    ))
    .expect("managed identity credential");
    let token = AzureTokenCredential::new(credential)
        .get_token(&[ACR_SCOPE])
        .expect("token");
    assert_eq!(token.token.expose(), mi_token);
    assert_eq!(
        token.expires_on,
        SystemTime::UNIX_EPOCH + Duration::from_secs(FAR_FUTURE)
    );
    token_mock.assert();
    unexpected.assert();
}

#[test]
fn managed_identity_never_reaches_the_real_metadata_address() {
    if child("managed_identity_never_reaches_the_real_metadata_address").run_unless_child() {
        return;
    }
    // A transport with no rewrite for the metadata service: the request must be refused, not sent.
    let transport = UreqTransport::new()
        .with_rewrite(AZURE_PUBLIC_AUTHORITY, "http://127.0.0.1:9")
        .expect("rewrite")
        .rewrites_only();
    let credential = azure_identity::ManagedIdentityCredential::new(Some(
        azure_identity::ManagedIdentityCredentialOptions {
            client_options: transport.client_options(),
            ..Default::default()
        },
    ))
    .expect("managed identity credential");
    let started = std::time::Instant::now();
    let err = AzureTokenCredential::new(credential)
        .get_token(&[ACR_SCOPE])
        .unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("refused to send a request to http://169.254.169.254/"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusal is immediate, not a retried timeout"
    );
}

#[test]
fn default_chain_probes_the_metadata_service_then_uses_managed_identity() {
    if child("default_chain_probes_the_metadata_service_then_uses_managed_identity")
        .run_unless_child()
    {
        return;
    }
    let mut imds = Server::new();
    let mi_token = unique("mi-token");
    let token_mock = imds_token_mock(&mut imds, &mi_token, None);
    let probe = imds
        .mock("GET", "/metadata/identity/oauth2/token")
        .match_header("metadata", Matcher::Missing)
        .with_status(400)
        .with_body(r#"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#)
        .expect(1)
        .create();
    let unexpected = CatchAll::install(&mut imds);

    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        transport: Some(loopback_transport(&imds.url())),
        exclude_azure_cli: true,
        ..Default::default()
    })
    .expect("chain");
    let adapter = AzureTokenCredential::new(chain.clone());
    assert_eq!(token_of(&adapter), mi_token);
    assert_eq!(chain.selected(), Some("ManagedIdentityCredential"));
    // Second call: the chosen member, its cached token, no second probe.
    assert_eq!(token_of(&adapter), mi_token);
    probe.assert();
    token_mock.assert();
    unexpected.assert();
}

#[test]
fn default_chain_uses_app_service_endpoint_without_probing_the_metadata_service() {
    const NAME: &str =
        "default_chain_uses_app_service_endpoint_without_probing_the_metadata_service";
    if in_child(NAME) {
        let server = child::var(MOCK_URL);
        let transport = loopback_transport(&server)
            .with_rewrite(&server, &server)
            .expect("rewrite");
        let chain = AzureDefaultCredential::new(AzureCredentialOptions {
            transport: Some(transport),
            exclude_azure_cli: true,
            ..Default::default()
        })
        .expect("chain");
        assert_eq!(
            token_of(&AzureTokenCredential::new(chain.clone())),
            child::var(TOKEN)
        );
        assert_eq!(chain.selected(), Some("ManagedIdentityCredential"));
        return;
    }
    let mut server = Server::new();
    let mi_token = unique("app-service-token");
    let app_service = server
        .mock("GET", "/msi/token")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("api-version".into(), "2019-08-01".into()),
            Matcher::UrlEncoded("resource".into(), ACR_RESOURCE.into()),
        ]))
        .match_header("x-identity-header", "identity-header-value")
        .with_status(200)
        .with_body(
            serde_json::json!({
                "access_token": mi_token,
                "expires_on": FAR_FUTURE.to_string(),
                "token_type": "Bearer",
                "resource": ACR_RESOURCE,
            })
            .to_string(),
        )
        .expect(1)
        .create();
    let unexpected = CatchAll::install(&mut server);
    child(NAME)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", server.url()))
        .env("IDENTITY_HEADER", "identity-header-value")
        .env(MOCK_URL, server.url())
        .env(TOKEN, &mi_token)
        .run();
    app_service.assert();
    unexpected.assert(); // in particular: no probe of /metadata/identity
}

// -------------------------------------------------------------------------------------------------
// (d) The default chain
// -------------------------------------------------------------------------------------------------

fn client_secret_mock(
    server: &mut ServerGuard,
    tenant: &str,
    secret: &str,
    token: &str,
) -> mockito::Mock {
    server
        .mock("POST", format!("/{tenant}/oauth2/v2.0/token").as_str())
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("client_id".into(), "env-client".into()),
            Matcher::UrlEncoded("client_secret".into(), secret.into()),
            Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()),
            Matcher::UrlEncoded("scope".into(), ACR_SCOPE.into()),
        ]))
        .with_status(200)
        .with_body(entra_token_body(token))
        .expect(1)
        .create()
}

#[test]
fn default_chain_takes_the_client_secret_from_the_environment() {
    if child("default_chain_takes_the_client_secret_from_the_environment")
        .envs(ENV_SECRET)
        .run_unless_child()
    {
        return;
    }
    let mut aad = Server::new();
    let aad_token = unique("env-token");
    let token_mock = client_secret_mock(&mut aad, "env-tenant", "env-secret-value", &aad_token);
    let unexpected = CatchAll::install(&mut aad);

    let options = AzureCredentialOptions {
        transport: Some(loopback_transport(&aad.url())),
        ..Default::default()
    };
    // The public constructor accepts the same options.
    let credential = Credential::azure_default_with(options.clone()).expect("credential");
    assert!(!format!("{credential:?}").contains("env-secret-value"));

    let chain = AzureDefaultCredential::new(options).expect("chain");
    assert_eq!(
        token_of(&AzureTokenCredential::new(chain.clone())),
        aad_token
    );
    assert_eq!(
        chain.selected(),
        Some("EnvironmentCredential (client secret)")
    );
    token_mock.assert();
    unexpected.assert();
}

#[test]
fn default_chain_respects_azure_authority_host() {
    if child("default_chain_respects_azure_authority_host")
        .envs(ENV_SECRET)
        .env("AZURE_AUTHORITY_HOST", "https://login.sovereign.example")
        .run_unless_child()
    {
        return;
    }
    let mut aad = Server::new();
    let aad_token = unique("gov-token");
    let token_mock = client_secret_mock(&mut aad, "env-tenant", "env-secret-value", &aad_token);
    let unexpected = CatchAll::install(&mut aad);

    // Only the sovereign authority is mapped: a request to the public cloud would be refused.
    let transport = UreqTransport::new()
        .with_rewrite("https://login.sovereign.example", &aad.url())
        .expect("rewrite")
        .rewrites_only();
    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        transport: Some(transport),
        exclude_managed_identity: true,
        exclude_azure_cli: true,
        ..Default::default()
    })
    .expect("chain");
    assert_eq!(token_of(&AzureTokenCredential::new(chain)), aad_token);
    token_mock.assert();
    unexpected.assert();
}

#[test]
fn default_chain_uses_workload_identity() {
    const NAME: &str = "default_chain_uses_workload_identity";
    if !in_child(NAME) {
        let dir = tempfile::tempdir().expect("temp dir");
        let token_file: PathBuf = dir.path().join("token");
        std::fs::write(&token_file, unique("k8s-service-account-token")).expect("write token file");
        child(NAME)
            .env("AZURE_TENANT_ID", "wl-tenant")
            .env("AZURE_CLIENT_ID", "wl-client")
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            .run();
        return;
    }
    let assertion = std::fs::read_to_string(child::var("AZURE_FEDERATED_TOKEN_FILE"))
        .expect("the token file the parent wrote");
    let mut aad = Server::new();
    let aad_token = unique("workload-token");
    let token_mock = aad
        .mock("POST", "/wl-tenant/oauth2/v2.0/token")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("client_assertion".into(), assertion.clone()),
            Matcher::UrlEncoded(
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            Matcher::UrlEncoded("client_id".into(), "wl-client".into()),
            Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()),
            Matcher::UrlEncoded("scope".into(), ACR_SCOPE.into()),
        ]))
        .with_status(200)
        .with_body(entra_token_body(&aad_token))
        .expect(1)
        .create();
    let unexpected = CatchAll::install(&mut aad);

    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        transport: Some(loopback_transport(&aad.url())),
        exclude_azure_cli: true,
        ..Default::default()
    })
    .expect("chain");
    assert_eq!(
        token_of(&AzureTokenCredential::new(chain.clone())),
        aad_token
    );
    assert_eq!(chain.selected(), Some("WorkloadIdentityCredential"));
    token_mock.assert();
    unexpected.assert();
}

#[test]
fn default_chain_remembers_the_member_that_worked() {
    const NAME: &str = "default_chain_remembers_the_member_that_worked";
    if !in_child(NAME) {
        let cli_token = unique("cli-token");
        let az = FakeAz::printing_token(&cli_token);
        child(NAME)
            .envs(ENV_SECRET)
            .env("PATH", az.path_env())
            .env(TOKEN, &cli_token)
            .run();
        assert_eq!(az.calls().len(), 2);
        return;
    }
    let cli_token = child::var(TOKEN);
    let mut aad = Server::new();
    let refused = aad
        .mock("POST", "/env-tenant/oauth2/v2.0/token")
        .with_status(401)
        .with_body(r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#)
        .expect(1)
        .create();

    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        transport: Some(loopback_transport(&aad.url())),
        exclude_managed_identity: true,
        ..Default::default()
    })
    .expect("chain");
    let adapter = AzureTokenCredential::new(chain.clone());
    assert_eq!(token_of(&adapter), cli_token);
    assert_eq!(chain.selected(), Some("AzureCliCredential"));
    refused.assert();

    // Azure AD would now answer, but the chain stays with the Azure CLI.
    refused.remove();
    let now_working = aad
        .mock("POST", "/env-tenant/oauth2/v2.0/token")
        .with_status(200)
        .with_body(entra_token_body("should-not-be-used"))
        .expect(0)
        .create();
    let unexpected = CatchAll::install(&mut aad);
    assert_eq!(
        adapter
            .get_token(&["https://management.azure.com/.default"])
            .expect("token")
            .token
            .expose(),
        cli_token
    );
    now_working.assert();
    unexpected.assert();
}

#[test]
fn default_chain_error_lists_what_every_member_said() {
    const NAME: &str = "default_chain_error_lists_what_every_member_said";
    if !in_child(NAME) {
        let az = FakeAz::new("", "ERROR: Please run 'az login' to setup account.", 1);
        child(NAME)
            .envs(ENV_SECRET)
            .env("AZURE_CLIENT_SECRET", "wrong-secret-value")
            .env("PATH", az.path_env())
            .run();
        return;
    }
    let mut aad = Server::new();
    let refused = aad
        .mock("POST", "/env-tenant/oauth2/v2.0/token")
        .with_status(401)
        .with_body(r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#)
        .expect(1)
        .create();
    let unexpected = CatchAll::install(&mut aad);

    // The metadata service is mapped to a port where nothing listens: the probe fails fast.
    let transport = UreqTransport::new()
        .with_rewrite(AZURE_PUBLIC_AUTHORITY, &aad.url())
        .and_then(|t| t.with_rewrite(IMDS_ORIGIN, &closed_origin()))
        .expect("rewrites")
        .rewrites_only();
    let chain = AzureDefaultCredential::new(AzureCredentialOptions {
        transport: Some(transport),
        ..Default::default()
    })
    .expect("chain");
    let started = std::time::Instant::now();
    let err = AzureTokenCredential::new(chain.clone())
        .get_token(&[ACR_SCOPE])
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let text = message(&err);
    for expected in [
        "no credential of the default Azure chain yielded a token",
        "EnvironmentCredential (client secret):",
        "AADSTS7000215: Invalid client secret provided.",
        "WorkloadIdentityCredential: not configured: AZURE_FEDERATED_TOKEN_FILE not set",
        "ManagedIdentityCredential: no managed identity endpoint",
        "AzureCliCredential:",
        "Please run 'az login'",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("wrong-secret-value"),
        "the secret leaked into:\n{text}"
    );
    assert!(!format!("{err:?}").contains("wrong-secret-value"));
    assert_eq!(chain.selected(), None);
    refused.assert();
    unexpected.assert();
}

#[test]
fn default_chain_without_members_is_refused() {
    if child("default_chain_without_members_is_refused").run_unless_child() {
        return;
    }
    let err = Credential::azure_default_with(AzureCredentialOptions {
        exclude_environment: true,
        exclude_workload_identity: true,
        exclude_managed_identity: true,
        exclude_azure_cli: true,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    // The plain constructor builds (it sends nothing until a token is needed).
    Credential::azure_default().expect("default chain");
}

#[test]
fn convenience_constructors_keep_secrets_out_of_debug_and_errors() {
    if child("convenience_constructors_keep_secrets_out_of_debug_and_errors").run_unless_child() {
        return;
    }
    let credential = Credential::azure_client_secret("my-tenant", "my-client", "sup3r-secret")
        .expect("credential");
    assert!(!format!("{credential:?}").contains("sup3r-secret"));
    let err =
        Credential::azure_client_secret("not a tenant!", "my-client", "sup3r-secret").unwrap_err();
    let text = message(&err);
    assert!(text.contains("invalid tenant ID"), "{text}");
    assert!(!text.contains("sup3r-secret"), "{text}");
    Credential::azure_managed_identity(Some("mi-client")).expect("managed identity");
    let err = Credential::azure_workload_identity().unwrap_err();
    assert!(message(&err).contains("no tenant ID specified"), "{err}");
}

// -------------------------------------------------------------------------------------------------
// The transport itself
// -------------------------------------------------------------------------------------------------

fn execute(
    transport: &UreqTransport,
    request: &Request,
) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
    futures_executor::block_on(transport.execute_request(request))
}

#[test]
fn transport_returns_statuses_and_does_not_follow_redirects() {
    let mut server = Server::new();
    let unavailable = server
        .mock("GET", "/busy")
        .with_status(503)
        .with_header("retry-after", "1")
        .with_body("try later")
        .expect(1)
        .create();
    let redirect = server
        .mock("GET", "/moved")
        .with_status(302)
        .with_header("location", "/busy")
        .expect(1)
        .create();
    let unexpected = CatchAll::install(&mut server);
    let transport = UreqTransport::new()
        .with_rewrite(&server.url(), &server.url())
        .expect("rewrite")
        .rewrites_only();

    let url = |p: &str| Url::parse(&format!("{}{p}", server.url())).expect("url");
    let resp = execute(&transport, &Request::new(url("/busy"), Method::Get))
        .expect("a response, not an error");
    assert_eq!(u16::from(resp.status()), 503);
    assert_eq!(
        resp.headers().get_optional_str(&"retry-after".into()),
        Some("1")
    );
    let body = futures_executor::block_on(resp.into_body().collect()).expect("body");
    assert_eq!(&body[..], b"try later");

    let resp = execute(&transport, &Request::new(url("/moved"), Method::Get)).expect("response");
    assert_eq!(u16::from(resp.status()), 302);
    unavailable.assert();
    redirect.assert();
    unexpected.assert();
}

#[test]
fn transport_bounds_response_bodies() {
    let mut server = Server::new();
    let big = server
        .mock("GET", "/big")
        .with_status(200)
        .with_body(vec![b'x'; 4 * 1024 * 1024 + 1])
        .create();
    let transport = UreqTransport::new()
        .with_rewrite(&server.url(), &server.url())
        .expect("rewrite");
    let url = Url::parse(&format!("{}/big", server.url())).expect("url");
    let err = execute(&transport, &Request::new(url, Method::Get)).unwrap_err();
    assert!(
        err.to_string().contains("larger than 4194304 bytes"),
        "{err}"
    );
    big.assert();
}

#[test]
fn transport_sends_byte_and_streamed_bodies() {
    let mut server = Server::new();
    let posted = server
        .mock("POST", "/echo")
        .match_header("x-test", "yes")
        .match_body(Matcher::Exact("payload-bytes".into()))
        .with_status(201)
        .expect(2)
        .create();
    let unexpected = CatchAll::install(&mut server);
    let transport = UreqTransport::new()
        .with_rewrite(&server.url(), &server.url())
        .expect("rewrite");
    let url = Url::parse(&format!("{}/echo", server.url())).expect("url");

    let mut bytes = Request::new(url.clone(), Method::Post);
    bytes.insert_header("x-test", "yes");
    bytes.set_body("payload-bytes");
    assert_eq!(
        u16::from(execute(&transport, &bytes).expect("response").status()),
        201
    );

    let mut streamed = Request::new(url, Method::Post);
    streamed.insert_header("x-test", "yes");
    let stream: Box<dyn azure_core::stream::SeekableStream> = Box::new(
        azure_core::stream::BytesStream::new(azure_core::Bytes::from_static(b"payload-bytes")),
    );
    streamed.set_body(azure_core::http::Body::SeekableStream(stream));
    assert_eq!(
        u16::from(execute(&transport, &streamed).expect("response").status()),
        201
    );
    posted.assert();
    unexpected.assert();
}

#[test]
fn credentials_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AzureTokenCredential>();
    assert_send_sync::<UreqTransport>();
    assert_send_sync::<Arc<AzureDefaultCredential>>();
    assert_send_sync::<Credential>();
}
