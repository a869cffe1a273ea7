//! A mock Azure Container Registry on `mockito`, for the ACR-only behaviour (`/acr/v1`, `/oauth2`).
//!
//! ```ignore
//! let mut acr = AcrMock::start();
//! let aad = FakeAad::new("aad-token");
//! acr.challenge("GET", "/acr/v1/_catalog", Matcher::Any, "registry:catalog:*", 1);
//! acr.exchange("aad-token", "refresh", 1);
//! acr.token("registry:catalog:*", "refresh", "access", 1);
//! let page = acr.server.mock("GET", "/acr/v1/_catalog")
//!     .match_header("authorization", "Bearer access")...;
//! acr.seal();                      // the catch-all, registered LAST
//! let client = acr.client(aad.credential());
//! ...
//! acr.verify();                    // nothing unexpected reached the server
//! ```
//!
//! The challenge mimics ACR exactly (see /work/shared/acr-recordings): `401` with
//! `WWW-Authenticate: Bearer realm="{server}/oauth2/token",service="{SERVICE}",scope="{scope}"` and
//! the `UNAUTHORIZED` body. The token endpoints match their form bodies byte for byte. The
//! catch-all answers every method and path with 599 and an `UNEXPECTED_REQUEST` body naming the
//! request, so an unexpected request fails the operation loudly and [`AcrMock::verify`] fails the
//! test.
//!
//! Mockito picks, among the mocks matching a request, the first one still short of its expected
//! hits, else the LAST one matching: with the catch-all registered last, a mock hit more often than
//! its `.expect(n)` sends the extra request to the catch-all. Give every mock an exact count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use azcontainerregistry::{
    AccessToken, Client, ClientOptions, Credential, RetryOptions, Secret, TokenCredential,
};
use mockito::{Matcher, Mock, Server, ServerGuard};

use super::mock::{CatchAll, assert_all, next_link};

/// A JSON answer on a mock being built.
pub trait JsonReply {
    /// `status`, `Content-Type: application/json; charset=utf-8` (as ACR sends it) and `body`.
    fn json(self, status: usize, body: impl AsRef<[u8]>) -> Self;
}

impl JsonReply for Mock {
    fn json(self, status: usize, body: impl AsRef<[u8]>) -> Self {
        self.with_status(status)
            .with_header("content-type", "application/json; charset=utf-8")
            .with_body(body)
    }
}

/// The registry's service name, as the challenge announces it (deliberately not the mock's host:
/// the client must send back what the challenge said).
pub const SERVICE: &str = "myregistry.azurecr.io";
/// The query every `/oauth2/*` request (and the first page of a `/acr/v1` call) carries.
pub const API_VERSION: &str = "api-version=2021-07-01";
/// The default Azure AD scope.
pub const DEFAULT_AAD_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// The UNAUTHORIZED body ACR sends with a challenge.
pub const UNAUTHORIZED_BODY: &str = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}"#;

/// A mock ACR. See the module docs.
pub struct AcrMock {
    /// The mockito server; register endpoint mocks on it directly.
    pub server: ServerGuard,
    catch_all: Option<CatchAll>,
}

impl AcrMock {
    /// Starts a mock server on 127.0.0.1.
    pub fn start() -> Self {
        AcrMock {
            server: Server::new(),
            catch_all: None,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The `WWW-Authenticate` value of a Bearer challenge for `scope`, realm on this server.
    pub fn bearer_challenge(&self, scope: &str) -> String {
        format!(
            r#"Bearer realm="{}/oauth2/token",service="{SERVICE}",scope="{scope}""#,
            self.url()
        )
    }

    /// A 401 Bearer challenge for `method path?query` when the request carries no `Authorization`.
    pub fn challenge(
        &mut self,
        method: &str,
        path: &str,
        query: Matcher,
        scope: &str,
        hits: usize,
    ) -> Mock {
        let header = self.bearer_challenge(scope);
        self.server
            .mock(method, path)
            .match_query(query)
            .match_header("authorization", Matcher::Missing)
            .json(401, UNAUTHORIZED_BODY)
            .with_header("www-authenticate", &header)
            .expect(hits)
            .create()
    }

    /// `POST /oauth2/exchange?api-version=2021-07-01` with exactly
    /// `grant_type=access_token&service={SERVICE}&access_token={aad}`, answering `refresh`.
    pub fn exchange(&mut self, aad: &str, refresh: &str, hits: usize) -> Mock {
        let body = format!(
            "grant_type=access_token&service={}&access_token={}",
            form(SERVICE),
            form(aad)
        );
        let answer = serde_json::json!({ "refresh_token": refresh });
        self.form_post("/oauth2/exchange", body, answer, hits)
    }

    /// `POST /oauth2/token?api-version=2021-07-01` with exactly
    /// `grant_type=refresh_token&service={SERVICE}&scope={scope}&refresh_token={refresh}`,
    /// answering `access`. Several space-separated scopes are one `scope` field each.
    pub fn token(&mut self, scope: &str, refresh: &str, access: &str, hits: usize) -> Mock {
        let body = format!(
            "grant_type=refresh_token&service={}&scope={}&refresh_token={}",
            form(SERVICE),
            form_scopes(scope),
            form(refresh)
        );
        self.token_mock(body, access, hits)
    }

    /// Like [`AcrMock::token`], but the `n`-th request (from 0) is answered with the access token
    /// `access(n)`: for tests in which a token is renewed.
    pub fn token_sequence(
        &mut self,
        scope: &str,
        refresh: &str,
        hits: usize,
        access: impl Fn(usize) -> String + Send + Sync + 'static,
    ) -> Mock {
        let body = format!(
            "grant_type=refresh_token&service={}&scope={}&refresh_token={}",
            form(SERVICE),
            form(scope),
            form(refresh)
        );
        let calls = std::sync::atomic::AtomicUsize::new(0);
        self.server
            .mock("POST", "/oauth2/token")
            .match_query(Matcher::Exact(API_VERSION.into()))
            .match_header("content-type", "application/x-www-form-urlencoded")
            .match_header("authorization", Matcher::Missing)
            .match_body(Matcher::Exact(body))
            .with_status(200)
            .with_header("content-type", "application/json")
            .with_body_from_request(move |_| {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                serde_json::json!({ "access_token": access(n) })
                    .to_string()
                    .into_bytes()
            })
            .expect(hits)
            .create()
    }

    /// The anonymous ACR token request: `grant_type=password&service={SERVICE}&scope={scope}`, no
    /// refresh token field at all. Several space-separated scopes are one `scope` field each.
    pub fn anonymous_token(&mut self, scope: &str, access: &str, hits: usize) -> Mock {
        let body = format!(
            "grant_type=password&service={}&scope={}",
            form(SERVICE),
            form_scopes(scope)
        );
        self.token_mock(body, access, hits)
    }

    fn token_mock(&mut self, body: String, access: &str, hits: usize) -> Mock {
        let answer = serde_json::json!({ "access_token": access });
        self.form_post("/oauth2/token", body, answer, hits)
    }

    /// `POST path?api-version=...` with exactly the form `body` and no `Authorization`, answering
    /// `answer`.
    fn form_post(
        &mut self,
        path: &str,
        body: String,
        answer: serde_json::Value,
        hits: usize,
    ) -> Mock {
        self.server
            .mock("POST", path)
            .match_query(Matcher::Exact(API_VERSION.into()))
            .match_header("content-type", "application/x-www-form-urlencoded")
            .match_header("authorization", Matcher::Missing)
            .match_body(Matcher::Exact(body))
            .json(200, answer.to_string())
            .expect(hits)
            .create()
    }

    /// `method path?api-version=...` carrying `Authorization: {authorization}`, not yet created:
    /// add the answer (e.g. [`JsonReply::json`]), `.expect(n)` and `.create()`.
    pub fn call(&mut self, method: &str, path: &str, authorization: &str) -> Mock {
        self.server
            .mock(method, path)
            .match_query(Matcher::Exact(API_VERSION.into()))
            .match_header("authorization", authorization)
    }

    /// [`AcrMock::call`] with `Authorization: Bearer {access}`.
    pub fn bearer_call(&mut self, method: &str, path: &str, access: &str) -> Mock {
        self.call(method, path, &bearer(access))
    }

    /// The Azure AD sign-in of one client for `method path` (any query): challenged for `scope`
    /// once, the Azure AD token `aad` exchanged for `refresh`, which buys `access` for `scope`.
    pub fn aad_login(
        &mut self,
        method: &str,
        path: &str,
        scope: &str,
        (aad, refresh, access): (&str, &str, &str),
    ) -> Vec<Mock> {
        vec![
            self.challenge(method, path, Matcher::Any, scope, 1),
            self.exchange(aad, refresh, 1),
            self.token(scope, refresh, access, 1),
        ]
    }

    /// The anonymous sign-in of `runs` clients (or CLI processes, each with an empty cache) for
    /// `method path` (any query): each challenged for `scope` once, each given `access` by
    /// `/oauth2/token` (grant_type=password, no refresh token).
    pub fn anonymous_login(
        &mut self,
        method: &str,
        path: &str,
        scope: &str,
        access: &str,
        runs: usize,
    ) -> Vec<Mock> {
        vec![
            self.challenge(method, path, Matcher::Any, scope, runs),
            self.anonymous_token(scope, access, runs),
        ]
    }

    /// One page of a listing: `GET path?query` (exactly) with `Bearer access`, answering the
    /// fixture `body` and, if `next` is given, a `Link` to it; `hits` times.
    pub fn page(
        &mut self,
        path: &str,
        query: &str,
        access: &str,
        body: &str,
        next: Option<&str>,
        hits: usize,
    ) -> Mock {
        let mut m = self
            .server
            .mock("GET", path)
            .match_query(Matcher::Exact(query.to_string()))
            .match_header("authorization", bearer(access).as_str())
            .match_header("accept", "application/json")
            .json(200, fixture(body));
        if let Some(url) = next {
            m = m.with_header("link", &next_link(url));
        }
        m.expect(hits).create()
    }

    /// Registers the catch-all (every method, any path): call it after every other mock.
    pub fn seal(&mut self) {
        assert!(self.catch_all.is_none(), "seal() called twice");
        self.catch_all = Some(CatchAll::install(&mut self.server));
    }

    /// Asserts every mock of `mocks`, then [`AcrMock::verify`].
    #[track_caller]
    pub fn verify_all<'a>(&self, mocks: impl IntoIterator<Item = &'a Mock>) {
        assert_all(mocks);
        self.verify();
    }

    /// Asserts that no request reached the catch-all.
    pub fn verify(&self) {
        self.catch_all
            .as_ref()
            .expect("verify() before seal()")
            .assert();
    }

    /// A client for this server with fast retries (1 ms), so tests stay quick.
    pub fn client(&self, credential: Credential) -> Client {
        self.client_with(credential, fast_options())
    }

    /// A client for this server with `options`.
    pub fn client_with(&self, credential: Credential, options: ClientOptions) -> Client {
        Client::new(&self.url(), credential, options).expect("client for the mock registry")
    }
}

/// Client options with retries every millisecond, and Azure AD tokens allowed to the mock's
/// loopback host (by default they only go to Azure registry domains).
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            max_retries: 2,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        },
        azure_ad_hosts: vec!["127.0.0.1".into()],
        ..Default::default()
    }
}

/// Space-separated scopes as the values of consecutive `scope` fields (after the first `scope=`).
pub fn form_scopes(scopes: &str) -> String {
    let fields: Vec<String> = scopes.split_whitespace().map(form).collect();
    fields.join("&scope=")
}

/// `application/x-www-form-urlencoded` encoding of one value, written out here (not the library's)
/// so the tests check the library's encoding: unreserved characters `A-Za-z0-9*-._` stay, space is
/// `+`, everything else `%XX`.
pub fn form(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A fixture from `tests/it/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/it/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// An unsigned JWT (`alg: none`) whose payload is `{"exp": now + expires_in}`, the shape of ACR's
/// refresh and access tokens as far as the client reads them.
pub fn jwt_expiring_in(expires_in: Duration, tag: &str) -> String {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = (SystemTime::now() + expires_in)
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    format!(
        "{}.{}.{}",
        e.encode(r#"{"alg":"none","typ":"JWT"}"#),
        e.encode(format!(r#"{{"exp":{exp},"jti":"{tag}"}}"#)),
        e.encode(tag)
    )
}

/// A fake synchronous Azure AD credential: hands out one fixed token, counts calls, records the
/// scopes asked for, and can be slowed down to widen race windows.
#[derive(Debug)]
pub struct FakeAad {
    token: String,
    delay: Duration,
    calls: AtomicUsize,
    scopes: Mutex<Vec<Vec<String>>>,
}

impl FakeAad {
    /// A credential handing out `token`.
    pub fn new(token: &str) -> Arc<Self> {
        Self::slow(token, Duration::ZERO)
    }

    /// A credential that sleeps `delay` in every call.
    pub fn slow(token: &str, delay: Duration) -> Arc<Self> {
        Arc::new(FakeAad {
            token: token.to_string(),
            delay,
            calls: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        })
    }

    /// How often `get_token` was called.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The scopes of every call, in order.
    pub fn scopes(&self) -> Vec<Vec<String>> {
        self.scopes.lock().unwrap().clone()
    }

    /// The [`Credential`] using this source (shared: the counters stay readable).
    pub fn credential(self: &Arc<Self>) -> Credential {
        Credential::token_arc(self.clone())
    }
}

impl TokenCredential for FakeAad {
    fn get_token(&self, scopes: &[&str]) -> azcontainerregistry::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.scopes
            .lock()
            .unwrap()
            .push(scopes.iter().map(|s| s.to_string()).collect());
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        Ok(AccessToken {
            token: Secret::new(self.token.clone()),
            expires_on: SystemTime::now() + Duration::from_secs(3600),
        })
    }
}

/// The `Authorization` value for a bearer token.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
