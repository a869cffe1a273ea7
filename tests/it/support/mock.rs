//! mockito helpers shared by every mock-based test: the catch-all that fails loudly, a strict
//! server, asserting many mocks at once, `Link` headers.
//!
//! Mockito picks, among the mocks matching a request, the first one still short of its expected
//! hits, else the LAST one matching. So a [`CatchAll`] installed FIRST only ever sees requests no
//! other mock matches (a specific mock hit too often takes the extra hits and fails its own
//! `assert`), while one installed LAST (as [`super::acr_mock::AcrMock::seal`] does) also takes the
//! hits beyond a mock's `.expect(n)`, failing the operation at once.

use mockito::{Matcher, Mock, Server, ServerGuard};

/// The methods a catch-all covers.
pub const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// One mock per method for any path, expected never: answers 599 with an `UNEXPECTED_REQUEST` body
/// naming the request, so an unexpected request fails the operation loudly and [`CatchAll::assert`]
/// fails the test.
pub struct CatchAll(Vec<Mock>);

impl CatchAll {
    /// Installs it on `server` (see the module docs on where in the order).
    pub fn install(server: &mut ServerGuard) -> CatchAll {
        Self::install_with(server, |m| m)
    }

    /// Like [`CatchAll::install`], each mock changed by `configure` before it is created (a
    /// narrower match, another answer).
    pub fn install_with(server: &mut ServerGuard, configure: impl Fn(Mock) -> Mock) -> CatchAll {
        let mocks = METHODS
            .iter()
            .map(|method| {
                let mock = server
                    .mock(method, Matcher::Any)
                    .with_status(599)
                    .with_header("content-type", "application/json")
                    .with_body_from_request(|r| {
                        serde_json::json!({"errors": [{
                            "code": "UNEXPECTED_REQUEST",
                            "message": format!("the mock has no answer for {} {}", r.method(), r.path_and_query()),
                        }]})
                        .to_string()
                        .into_bytes()
                    });
                configure(mock).expect(0).create()
            })
            .collect();
        CatchAll(mocks)
    }

    /// A server elsewhere that must never be contacted: every request is answered 200 with `body`
    /// (so following it would look like success) and fails [`CatchAll::assert`].
    pub fn decoy(body: &'static str) -> (ServerGuard, CatchAll) {
        let mut server = Server::new();
        let trap = Self::install_with(&mut server, |m| m.with_status(200).with_body(body));
        (server, trap)
    }

    /// Asserts that no request reached it.
    #[track_caller]
    pub fn assert(&self) {
        assert_all(&self.0);
    }
}

/// A fresh server with a [`CatchAll`] installed first: add the expected mocks after it.
pub fn strict_server() -> (ServerGuard, CatchAll) {
    let mut server = Server::new();
    let unexpected = CatchAll::install(&mut server);
    (server, unexpected)
}

/// Asserts every mock.
#[track_caller]
pub fn assert_all<'a>(mocks: impl IntoIterator<Item = &'a Mock>) {
    for m in mocks {
        m.assert();
    }
}

/// A `Link` header value naming the next page.
pub fn next_link(url: &str) -> String {
    format!(r#"<{url}>; rel="next""#)
}
