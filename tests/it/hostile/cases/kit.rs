//! What the tables share: the expected outcomes, the case constructors, the well-behaved answers
//! the scripts start from.

pub use std::time::Duration;

pub use azcontainerregistry::Error;

pub use super::super::{
    BLOB, Case, Ctx, Expect, MANIFEST, OCI_MANIFEST, Op, REPO, TOKEN, blob_digest, manifest_digest,
};
pub use crate::support::hostile::{Act, Seen, json, registry_error, reply, response};

pub const TRANSPORT: Expect = Expect::Err("Transport or Timeout", |e| e.is_transport());
pub const TIMEOUT: Expect = Expect::Err("Timeout", |e| matches!(e, Error::Timeout { .. }));
pub const DECODE: Expect = Expect::Err("Decode", |e| matches!(e, Error::Decode { .. }));
pub const TOO_LARGE: Expect = Expect::Err("TooLarge", |e| matches!(e, Error::TooLarge { .. }));
pub const DIGEST: Expect = Expect::Err("DigestMismatch", |e| {
    matches!(e, Error::DigestMismatch { .. })
});
pub const SIZE_OR_TRANSPORT: Expect = Expect::Err("SizeMismatch, Io or Transport", |e| {
    matches!(e, Error::SizeMismatch { .. } | Error::Io(_)) || e.is_transport()
});
pub const LOOP: Expect = Expect::Err(
    "Redirect (a loop)",
    |e| matches!(e, Error::Redirect { reason, .. } if reason.contains("loop")),
);
pub const BOUND: Expect = Expect::Err(
    "Redirect (page bound)",
    |e| matches!(e, Error::Redirect { reason, .. } if reason.contains("page bound")),
);
pub const REDIRECT: Expect = Expect::Err("Redirect", |e| matches!(e, Error::Redirect { .. }));
pub const REDIRECT_OR_TRANSPORT: Expect = Expect::Err("Redirect or Transport", |e| {
    matches!(e, Error::Redirect { .. }) || e.is_transport()
});
pub const STATUS_500: Expect = Expect::Err("Registry 500", |e| e.status() == Some(500));
pub const STATUS_503: Expect = Expect::Err("Registry 503", |e| e.status() == Some(503));
pub const THROTTLED: Expect = Expect::Err("Registry 429", |e| e.is_throttled());
pub const NOT_FOUND: Expect = Expect::Err("Registry 404", |e| e.is_not_found());
pub const UNAUTHORIZED: Expect = Expect::Err("Registry 401 or Authentication", |e| {
    e.status() == Some(401) || matches!(e, Error::Authentication { .. })
});
pub const AUTH: Expect = Expect::Err("Authentication", |e| {
    matches!(e, Error::Authentication { .. })
});
pub const MALFORMED_CHALLENGE: Expect =
    Expect::Err("Decode, or Authentication naming the challenge", |e| {
        matches!(e, Error::Decode { .. })
            || matches!(e, Error::Authentication { message, .. } if message.contains("challenge"))
    });
pub const REGISTRY: Expect = Expect::Err("Registry", |e| matches!(e, Error::Registry(_)));
pub const TOKEN_REFUSED: Expect =
    Expect::Err("Authentication, Decode or TooLarge (token response)", |e| {
        matches!(
            e,
            Error::Authentication { .. } | Error::Decode { .. } | Error::TooLarge { .. }
        )
    });

pub const fn case(
    name: &'static str,
    op: Op,
    expect: Expect,
    serve: fn(&Seen, &Ctx) -> Vec<Act>,
) -> Case {
    Case {
        name,
        serve,
        op,
        expect,
    }
}

pub fn manifest_ok() -> Vec<Act> {
    let d = manifest_digest().to_string();
    reply(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &d),
        ],
        MANIFEST.as_bytes(),
    )
}

pub fn blob_ok() -> Vec<Act> {
    reply(200, &[("Content-Type", "application/octet-stream")], BLOB)
}

/// The Bearer flow: the token endpoint at `/token` on the same origin hands out [`TOKEN`]; a
/// request without it gets the challenge; one with it gets `then`.
pub fn bearer(r: &Seen, then: impl FnOnce() -> Vec<Act>) -> Vec<Act> {
    if r.path() == "/token" {
        return json(200, &format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#));
    }
    if r.header("authorization") == Some(&format!("Bearer {TOKEN}")) {
        return then();
    }
    challenge(
        r,
        &format!(r#"Bearer realm="{}/token",service="hostile""#, r.origin),
    )
}

pub fn challenge(_r: &Seen, value: &str) -> Vec<Act> {
    reply(
        401,
        &[
            ("WWW-Authenticate", value),
            ("Content-Type", "application/json"),
        ],
        br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
}

/// A catalog page with one name and, when `next` is set, a next link.
pub fn page(name: &str, next: Option<&str>) -> Vec<Act> {
    let body = format!(r#"{{"repositories":["{name}"],"tags":["{name}"]}}"#);
    let link = next.map(|n| format!(r#"<{n}>; rel="next""#));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(l) = &link {
        headers.push(("Link", l));
    }
    reply(200, &headers, body.as_bytes())
}

pub fn query_value<'a>(r: &'a Seen, key: &str) -> Option<&'a str> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
}

/// A cycle A → B → A on whatever listing path the request is for.
pub fn cycle(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    match query_value(r, "last") {
        None => page("first", Some(&format!("{path}?last=a"))),
        Some("a") => page("a", Some(&format!("{path}?last=b"))),
        _ => page("b", Some(&format!("{path}?last=a"))),
    }
}

/// A page whose next link is itself (spelled differently: escapes and parameter order).
pub fn self_link(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    match query_value(r, "last") {
        None => page("first", Some(&format!("{path}?last=a&n=1"))),
        _ => page("a", Some(&format!("{path}?n=1&last=%61"))),
    }
}

/// Pages without end, each with a new link.
pub fn endless_pages(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    let n: u64 = query_value(r, "last")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    page(&format!("r{n}"), Some(&format!("{path}?last={}", n + 1)))
}

pub fn referrers_index(next: Option<String>) -> Vec<Act> {
    let body = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let link = next.map(|n| format!(r#"<{n}>; rel="next""#));
    let mut headers = vec![("Content-Type", "application/vnd.oci.image.index.v1+json")];
    if let Some(l) = &link {
        headers.push(("Link", l));
    }
    reply(200, &headers, body.as_bytes())
}

/// The upload flow of a well-behaved registry.
pub fn upload_ok(r: &Seen) -> Vec<Act> {
    match r.method.as_str() {
        "POST" => reply(202, &[("Location", "/upload/1")], b""),
        "PATCH" => {
            let end = match r.header("content-range") {
                Some(cr) => cr.split('-').nth(1).unwrap_or("0").trim().to_string(),
                None => r.body_len.saturating_sub(1).to_string(),
            };
            reply(
                202,
                &[("Location", "/upload/1"), ("Range", &format!("0-{end}"))],
                b"",
            )
        }
        "PUT" => {
            let d = query_value(r, "digest").unwrap_or("").replace("%3A", ":");
            reply(201, &[("Docker-Content-Digest", &d)], b"")
        }
        "DELETE" => reply(204, &[], b""),
        _ => registry_error(404, "BLOB_UNKNOWN", "no"),
    }
}

/// The second origin: serves the manifest and the blob (as a storage account would after a
/// redirect), refuses uploads, and records every request (the harness checks it got no secret).
pub fn other_origin(r: &Seen) -> Vec<Act> {
    if r.method != "GET" && r.method != "HEAD" {
        return registry_error(405, "UNSUPPORTED", "this is not a registry");
    }
    if r.path().contains("manifest") {
        manifest_ok()
    } else if r.path().contains("blob") {
        blob_ok()
    } else {
        registry_error(404, "NAME_UNKNOWN", "nothing here")
    }
}

pub fn raw(bytes: &[u8]) -> Vec<Act> {
    vec![Act::Send(bytes.to_vec())]
}

pub fn big(n: usize, byte: u8) -> String {
    String::from_utf8(vec![byte; n]).unwrap_or_default()
}

pub fn lm() -> String {
    blob_digest().to_string()
}
