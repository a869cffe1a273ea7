//! The table: one misbehaving registry per case, the operation it is met with, how it must end.

use std::time::Duration;

use azcontainerregistry::Error;

use super::{
    BLOB, Case, Ctx, Expect, MANIFEST, OCI_MANIFEST, Op, REPO, TOKEN, blob_digest, manifest_digest,
};
use crate::support::hostile::{Act, Seen, json, registry_error, reply, response};

const TRANSPORT: Expect = Expect::Err("Transport or Timeout", |e| e.is_transport());
const TIMEOUT: Expect = Expect::Err("Timeout", |e| matches!(e, Error::Timeout { .. }));
const DECODE: Expect = Expect::Err("Decode", |e| matches!(e, Error::Decode { .. }));
const TOO_LARGE: Expect = Expect::Err("TooLarge", |e| matches!(e, Error::TooLarge { .. }));
const DIGEST: Expect = Expect::Err("DigestMismatch", |e| {
    matches!(e, Error::DigestMismatch { .. })
});
const SIZE_OR_TRANSPORT: Expect = Expect::Err("SizeMismatch, Io or Transport", |e| {
    matches!(e, Error::SizeMismatch { .. } | Error::Io(_)) || e.is_transport()
});
const LOOP: Expect = Expect::Err(
    "Redirect (a loop)",
    |e| matches!(e, Error::Redirect { reason, .. } if reason.contains("loop")),
);
const BOUND: Expect = Expect::Err(
    "Redirect (page bound)",
    |e| matches!(e, Error::Redirect { reason, .. } if reason.contains("page bound")),
);
const REDIRECT: Expect = Expect::Err("Redirect", |e| matches!(e, Error::Redirect { .. }));
const REDIRECT_OR_TRANSPORT: Expect = Expect::Err("Redirect or Transport", |e| {
    matches!(e, Error::Redirect { .. }) || e.is_transport()
});
const STATUS_500: Expect = Expect::Err("Registry 500", |e| e.status() == Some(500));
const STATUS_503: Expect = Expect::Err("Registry 503", |e| e.status() == Some(503));
const THROTTLED: Expect = Expect::Err("Registry 429", |e| e.is_throttled());
const NOT_FOUND: Expect = Expect::Err("Registry 404", |e| e.is_not_found());
const UNAUTHORIZED: Expect = Expect::Err("Registry 401 or Authentication", |e| {
    e.status() == Some(401) || matches!(e, Error::Authentication { .. })
});
const AUTH: Expect = Expect::Err("Authentication", |e| {
    matches!(e, Error::Authentication { .. })
});
const REGISTRY: Expect = Expect::Err("Registry", |e| matches!(e, Error::Registry(_)));
const TOKEN_REFUSED: Expect =
    Expect::Err("Authentication, Decode or TooLarge (token response)", |e| {
        matches!(
            e,
            Error::Authentication { .. } | Error::Decode { .. } | Error::TooLarge { .. }
        )
    });

const fn case(
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
        pending: None,
        cli_pending: None,
    }
}

const fn pending(
    name: &'static str,
    op: Op,
    expect: Expect,
    why: &'static str,
    serve: fn(&Seen, &Ctx) -> Vec<Act>,
) -> Case {
    Case {
        name,
        serve,
        op,
        expect,
        pending: Some(why),
        cli_pending: Some(why),
    }
}

const fn cli_pending(c: Case, why: &'static str) -> Case {
    Case {
        cli_pending: Some(why),
        ..c
    }
}

fn manifest_ok() -> Vec<Act> {
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

fn blob_ok() -> Vec<Act> {
    reply(200, &[("Content-Type", "application/octet-stream")], BLOB)
}

/// The Bearer flow: the token endpoint at `/token` on the same origin hands out [`TOKEN`]; a
/// request without it gets the challenge; one with it gets `then`.
fn bearer(r: &Seen, then: impl FnOnce() -> Vec<Act>) -> Vec<Act> {
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

fn challenge(_r: &Seen, value: &str) -> Vec<Act> {
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
fn page(name: &str, next: Option<&str>) -> Vec<Act> {
    let body = format!(r#"{{"repositories":["{name}"],"tags":["{name}"]}}"#);
    let link = next.map(|n| format!(r#"<{n}>; rel="next""#));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(l) = &link {
        headers.push(("Link", l));
    }
    reply(200, &headers, body.as_bytes())
}

fn query_value<'a>(r: &'a Seen, key: &str) -> Option<&'a str> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
}

/// A cycle A → B → A on whatever listing path the request is for.
fn cycle(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    match query_value(r, "last") {
        None => page("first", Some(&format!("{path}?last=a"))),
        Some("a") => page("a", Some(&format!("{path}?last=b"))),
        _ => page("b", Some(&format!("{path}?last=a"))),
    }
}

/// A page whose next link is itself (spelled differently: escapes and parameter order).
fn self_link(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    match query_value(r, "last") {
        None => page("first", Some(&format!("{path}?last=a&n=1"))),
        _ => page("a", Some(&format!("{path}?n=1&last=%61"))),
    }
}

/// Pages without end, each with a new link.
fn endless_pages(r: &Seen) -> Vec<Act> {
    let path = r.path().to_string();
    let n: u64 = query_value(r, "last")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    page(&format!("r{n}"), Some(&format!("{path}?last={}", n + 1)))
}

fn referrers_index(next: Option<String>) -> Vec<Act> {
    let body = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let link = next.map(|n| format!(r#"<{n}>; rel="next""#));
    let mut headers = vec![("Content-Type", "application/vnd.oci.image.index.v1+json")];
    if let Some(l) = &link {
        headers.push(("Link", l));
    }
    reply(200, &headers, body.as_bytes())
}

/// The upload flow of a well-behaved registry.
fn upload_ok(r: &Seen) -> Vec<Act> {
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

fn raw(bytes: &[u8]) -> Vec<Act> {
    vec![Act::Send(bytes.to_vec())]
}

fn big(n: usize, byte: u8) -> String {
    String::from_utf8(vec![byte; n]).unwrap_or_default()
}

fn lm() -> String {
    blob_digest().to_string()
}

const NET_TOTAL: &str = "pending merge: net Timeouts::total deadline";
const NET_RETRY_AFTER: &str = "pending merge: net retry budget / Retry-After";
const NET_MIN_PROGRESS: &str = "pending merge: net minimum progress for blobs";
const NET_MESSAGES: &str = "pending merge: net error messages (malformed challenge)";
const CLI_TIMEOUT: &str = "pending merge: cli --timeout (the CLI's default timeouts are long)";
const CLI_ESCAPE: &str = "pending merge: cli control-character escaping";
const NO_CLI: &str = "-";

/// The table.
pub static CASES: &[Case] = &[
    // --- manifests
    case(
        "manifest_ok_baseline",
        Op::ManifestByDigest,
        Expect::Ok,
        |_, _| manifest_ok(),
    ),
    case(
        "manifest_wrong_digest",
        Op::ManifestByDigest,
        DIGEST,
        |_, _| {
            reply(
                200,
                &[("Content-Type", OCI_MANIFEST)],
                br#"{"schemaVersion":2,"evil":true}"#,
            )
        },
    ),
    case(
        "manifest_tag_header_digest_lies",
        Op::ManifestByTag,
        DIGEST,
        |_, _| {
            let d = blob_digest().to_string();
            reply(
                200,
                &[
                    ("Content-Type", OCI_MANIFEST),
                    ("Docker-Content-Digest", &d),
                ],
                MANIFEST.as_bytes(),
            )
        },
    ),
    case(
        "manifest_oversized_content_length",
        Op::ManifestByDigest,
        TOO_LARGE,
        |_, _| {
            let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 107374182400\r\nConnection: close\r\n\r\n");
            v.push(Act::Endless(b'{'));
            v
        },
    ),
    case(
        "manifest_endless_chunked_body",
        Op::ManifestByTag,
        TOO_LARGE,
        |_, _| {
            let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n");
            v.push(Act::Endless(b' '));
            v
        },
    ),
    case(
        "manifest_short_body",
        Op::ManifestByDigest,
        SIZE_OR_TRANSPORT,
        |_, _| {
            raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{\"schemaVersion\":2")
        },
    ),
    case(
        "manifest_trailing_junk_after_length",
        Op::ManifestByDigest,
        Expect::Ok,
        |_, _| {
            let mut v = manifest_ok();
            v.push(Act::Send(b"JUNK JUNK JUNK".to_vec()));
            v
        },
    ),
    case("manifest_404_html", Op::ManifestByTag, NOT_FOUND, |_, _| {
        reply(
            404,
            &[("Content-Type", "text/html")],
            b"<html><body>nope</body></html>",
        )
    }),
    case(
        "manifest_500_forever",
        Op::ManifestByTag,
        STATUS_500,
        |_, _| registry_error(500, "INTERNAL", "broken"),
    ),
    case(
        "manifest_503_forever",
        Op::ManifestByTag,
        STATUS_503,
        |_, _| reply(503, &[("Retry-After", "0")], b""),
    ),
    case(
        "manifest_429_forever",
        Op::ManifestByTag,
        THROTTLED,
        |_, _| {
            reply(
                429,
                &[("Retry-After", "0")],
                br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
            )
        },
    ),
    pending(
        "manifest_429_retry_after_a_day",
        Op::ManifestByTag,
        THROTTLED,
        NET_RETRY_AFTER,
        |_, _| reply(429, &[("Retry-After", "86400")], b""),
    ),
    pending(
        "manifest_429_retry_after_far_date",
        Op::ManifestByTag,
        THROTTLED,
        NET_RETRY_AFTER,
        |_, _| {
            reply(
                429,
                &[("Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT")],
                b"",
            )
        },
    ),
    cli_pending(
        case(
            "manifest_silent_server",
            Op::ManifestByTag,
            TIMEOUT,
            |_, _| vec![Act::Silence],
        ),
        CLI_TIMEOUT,
    ),
    cli_pending(
        case(
            "manifest_trickled_headers",
            Op::ManifestByTag,
            TRANSPORT,
            |_, _| {
                vec![Act::Trickle {
                    bytes: response(200, &[("X-Slow", &big(400, b'a'))], b"{}"),
                    chunk: 1,
                    every: Duration::from_millis(50),
                }]
            },
        ),
        CLI_TIMEOUT,
    ),
    pending(
        "manifest_trickled_body_past_total_deadline",
        Op::ManifestByTag,
        TIMEOUT,
        NET_TOTAL,
        |_, _| {
            let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n");
            v.push(Act::Trickle {
                bytes: vec![b' '; 1000],
                chunk: 1,
                every: Duration::from_millis(1000),
            });
            v
        },
    ),
    cli_pending(
        case(
            "manifest_silent_mid_body",
            Op::ManifestByDigest,
            TRANSPORT,
            |_, _| {
                let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{");
                v.push(Act::Silence);
                v
            },
        ),
        CLI_TIMEOUT,
    ),
    case(
        "manifest_closed_without_answer",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| vec![],
    ),
    case(
        "manifest_closed_mid_headers",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| raw(b"HTTP/1.1 200 OK\r\nContent-Type: appl"),
    ),
    case(
        "manifest_http09_garbage",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| raw(b"hello, this is not HTTP at all\n\n"),
    ),
    case(
        "manifest_binary_garbage",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| raw(&[0u8, 159, 146, 150, 255, 13, 10, 13, 10, 1, 2, 3]),
    ),
    case(
        "manifest_bad_status_line",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| raw(b"HTTP/1.1 abc Weird\r\nContent-Length: 0\r\n\r\n"),
    ),
    case(
        "manifest_one_megabyte_header",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| reply(200, &[("X-Huge", &big(1 << 20, b'x'))], MANIFEST.as_bytes()),
    ),
    case(
        "manifest_non_utf8_content_type",
        Op::ManifestByDigest,
        Expect::Ok,
        |_, _| {
            let mut b = b"HTTP/1.1 200 OK\r\nContent-Type: application/\xff\xfe\r\n".to_vec();
            b.extend_from_slice(
                format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n{MANIFEST}",
                    MANIFEST.len()
                )
                .as_bytes(),
            );
            raw(&b)
        },
    ),
    case(
        "manifest_conflicting_content_lengths",
        Op::ManifestByDigest,
        TRANSPORT,
        |_, _| {
            let b = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{MANIFEST}",
                MANIFEST.len()
            );
            raw(b.as_bytes())
        },
    ),
    case(
        "manifest_bad_chunked_encoding",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| {
            raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n")
        },
    ),
    cli_pending(
        case(
            "manifest_error_with_control_characters",
            Op::ManifestByTag,
            NOT_FOUND,
            |_, _| {
                registry_error(
                    404,
                    "MANIFEST_UNKNOWN",
                    "gone\u{1b}]0;owned\u{7}\u{1b}[2J\u{8}\u{0}\u{9b}31m",
                )
            },
        ),
        CLI_ESCAPE,
    ),
    case(
        "manifest_redirect_loop",
        Op::ManifestByTag,
        REDIRECT_OR_TRANSPORT,
        |r, _| {
            let to = format!("{}{}", r.origin, r.target);
            reply(307, &[("Location", &to)], b"")
        },
    ),
    case(
        "manifest_redirect_to_other_origin",
        Op::ManifestByDigest,
        Expect::Ok,
        |r, c| {
            let _ = r;
            let to = format!("{}/elsewhere/manifest", c.other);
            reply(307, &[("Location", &to)], b"")
        },
    ),
    case(
        "manifest_redirect_bad_scheme",
        Op::ManifestByTag,
        REDIRECT_OR_TRANSPORT,
        |_, _| reply(302, &[("Location", "gopher://127.0.0.1:1/x")], b""),
    ),
    // --- paging
    case("catalog_cycle_a_b_a", Op::Catalog, LOOP, |r, _| cycle(r)),
    case("catalog_self_link_respelled", Op::Catalog, LOOP, |r, _| {
        self_link(r)
    }),
    case(
        "catalog_endless_pages_hit_the_bound",
        Op::Catalog,
        BOUND,
        |r, _| endless_pages(r),
    ),
    case(
        "catalog_next_link_to_other_origin",
        Op::Catalog,
        REDIRECT,
        |_, c| page("a", Some(&format!("{}/v2/_catalog?last=a", c.other))),
    ),
    case(
        "catalog_next_link_to_other_listing",
        Op::Catalog,
        Expect::Err("InvalidInput or Redirect", |e| {
            matches!(
                e,
                Error::InvalidInput { .. } | Error::Redirect { .. } | Error::Decode { .. }
            )
        }),
        |_, _| page("a", Some("/v2/other/tags/list?last=a")),
    ),
    case(
        "catalog_garbled_link",
        Op::Catalog,
        Expect::Err("Decode or Redirect", |e| {
            matches!(e, Error::Decode { .. } | Error::Redirect { .. })
        }),
        |_, _| {
            reply(
                200,
                &[
                    ("Link", "<<<>>>; rel=next; ;;"),
                    ("Content-Type", "application/json"),
                ],
                br#"{"repositories":["a"]}"#,
            )
        },
    ),
    case(
        "catalog_empty_next_link_is_this_page",
        Op::Catalog,
        LOOP,
        |_, _| {
            reply(
                200,
                &[
                    ("Link", "<>; rel=\"next\""),
                    ("Content-Type", "application/json"),
                ],
                br#"{"repositories":["a"]}"#,
            )
        },
    ),
    case("catalog_wrong_typed_json", Op::Catalog, DECODE, |_, _| {
        json(200, r#"{"repositories":42}"#)
    }),
    case("catalog_not_json", Op::Catalog, DECODE, |_, _| {
        reply(200, &[], b"\x00\x01 not json")
    }),
    case("catalog_deeply_nested_json", Op::Catalog, DECODE, |_, _| {
        json(
            200,
            &format!(
                r#"{{"repositories":{}{}}}"#,
                big(100_000, b'['),
                big(100_000, b']')
            ),
        )
    }),
    case("catalog_oversized_page", Op::Catalog, TOO_LARGE, |_, _| {
        let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"repositories\":[\"");
        v.push(Act::Endless(b'a'));
        v
    }),
    case(
        "catalog_null_repositories",
        Op::Catalog,
        Expect::Ok,
        |_, _| json(200, r#"{"repositories":null}"#),
    ),
    case("tags_cycle_a_b_a", Op::Tags, LOOP, |r, _| cycle(r)),
    case("tags_self_link", Op::Tags, LOOP, |r, _| self_link(r)),
    case("acr_repositories_cycle", Op::AcrRepos, LOOP, |r, _| {
        cycle(r)
    }),
    case("acr_tags_cycle", Op::AcrTags, LOOP, |r, _| {
        let path = r.path().to_string();
        let body = r#"{"registry":"r","imageName":"hostile/repo","tags":[]}"#;
        let next = match query_value(r, "last") {
            None | Some("b") => format!("<{path}?last=a>; rel=\"next\""),
            _ => format!("<{path}?last=b>; rel=\"next\""),
        };
        reply(
            200,
            &[("Content-Type", "application/json"), ("Link", &next)],
            body.as_bytes(),
        )
    }),
    case("referrers_cycle_a_b_a", Op::Referrers, LOOP, |r, _| {
        let path = r.path().to_string();
        match query_value(r, "page") {
            None | Some("b") => referrers_index(Some(format!("{path}?page=a"))),
            _ => referrers_index(Some(format!("{path}?page=b"))),
        }
    }),
    case("referrers_self_link", Op::Referrers, LOOP, |r, _| {
        referrers_index(Some(r.target.clone()))
    }),
    case(
        "referrers_endless_pages_hit_the_bound",
        Op::Referrers,
        BOUND,
        |r, _| {
            let n: u64 = query_value(r, "page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            referrers_index(Some(format!("{}?page={}", r.path(), n + 1)))
        },
    ),
    case(
        "referrers_wrong_typed_json",
        Op::Referrers,
        DECODE,
        |_, _| {
            reply(
                200,
                &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
                br#"{"schemaVersion":2,"manifests":"none"}"#,
            )
        },
    ),
    // --- blobs
    case("blob_ok_baseline", Op::Download, Expect::Ok, |_, _| {
        blob_ok()
    }),
    case("blob_wrong_digest", Op::Download, DIGEST, |_, _| {
        reply(200, &[], b"not the bytes you asked for")
    }),
    case("blob_longer_than_the_blob", Op::Download, DIGEST, |_, _| {
        let mut b = BLOB.to_vec();
        b.extend_from_slice(b"and some more bytes");
        reply(200, &[], &b)
    }),
    case(
        "blob_short_body_every_time",
        Op::Download,
        SIZE_OR_TRANSPORT,
        |_, _| {
            let b = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\nhello",
                BLOB.len()
            );
            raw(b.as_bytes())
        },
    ),
    case("blob_404", Op::Download, NOT_FOUND, |_, _| {
        registry_error(404, "BLOB_UNKNOWN", "no such blob")
    }),
    case("blob_206_to_a_plain_get", Op::Download, REGISTRY, |_, _| {
        reply(206, &[("Content-Range", "bytes 0-4/100")], b"hello")
    }),
    case(
        "blob_resume_with_range_ignored",
        Op::Download,
        Expect::Ok,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                blob_ok()
            }
        },
    ),
    case(
        "blob_resume_garbled_content_range",
        Op::Download,
        DECODE,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                reply(206, &[("Content-Range", "bytes banana")], &BLOB[10..])
            }
        },
    ),
    case(
        "blob_resume_content_range_starts_later",
        Op::Download,
        DECODE,
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                let cr = format!("bytes 15-{}/{}", BLOB.len() - 1, BLOB.len());
                reply(206, &[("Content-Range", &cr)], &BLOB[15..])
            }
        },
    ),
    case(
        "blob_resume_total_changes",
        Op::Download,
        Expect::Err("SizeMismatch", |e| matches!(e, Error::SizeMismatch { .. })),
        |r, _| {
            if r.header("range").is_none() {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..10]);
                raw(&b)
            } else {
                reply(206, &[("Content-Range", "bytes 10-20/5000")], &BLOB[10..21])
            }
        },
    ),
    case(
        "blob_redirect_to_other_origin_without_credentials",
        Op::Download,
        Expect::Ok,
        |r, c| {
            let _ = r;
            reply(
                307,
                &[("Location", &format!("{}/storage/blob?sig=abc", c.other))],
                b"",
            )
        },
    ),
    case(
        "blob_redirect_loop",
        Op::Download,
        REDIRECT_OR_TRANSPORT,
        |r, _| {
            reply(
                302,
                &[("Location", &format!("{}{}", r.origin, r.target))],
                b"",
            )
        },
    ),
    cli_pending(
        case(
            "blob_silent_mid_body",
            Op::Download,
            SIZE_OR_TRANSPORT,
            |_, _| {
                let mut b = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BLOB.len()
                )
                .into_bytes();
                b.extend_from_slice(&BLOB[..4]);
                vec![Act::Send(b), Act::Silence]
            },
        ),
        CLI_TIMEOUT,
    ),
    pending(
        "blob_trickle_below_minimum_progress",
        Op::Download,
        TIMEOUT,
        NET_MIN_PROGRESS,
        |_, _| {
            let mut v =
                raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
            v.push(Act::Trickle {
                bytes: vec![b'x'; 100_000],
                chunk: 1,
                every: Duration::from_millis(1500),
            });
            v
        },
    ),
    case("chunk_206_longer_than_asked", Op::Chunk, DECODE, |_, _| {
        let cr = format!("bytes 0-{}/{}", BLOB.len() - 1, BLOB.len());
        reply(206, &[("Content-Range", &cr)], BLOB)
    }),
    case(
        "chunk_206_without_content_range",
        Op::Chunk,
        DECODE,
        |_, _| reply(206, &[], &BLOB[..10]),
    ),
    case("chunk_206_at_another_offset", Op::Chunk, DECODE, |_, _| {
        reply(206, &[("Content-Range", "bytes 5-14/37")], &BLOB[5..15])
    }),
    case(
        "chunk_range_ignored_whole_blob",
        Op::Chunk,
        Expect::Ok,
        |_, _| blob_ok(),
    ),
    case(
        "exists_garbled_content_length",
        Op::Exists,
        TRANSPORT,
        |_, _| raw(b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\nConnection: close\r\n\r\n"),
    ),
    case("exists_500_forever", Op::Exists, STATUS_500, |_, _| {
        registry_error(500, "INTERNAL", "x")
    }),
    // --- uploads
    case(
        "upload_ok_baseline",
        Op::UploadStreamed,
        Expect::Ok,
        |r, _| upload_ok(r),
    ),
    case(
        "upload_new_session_claims_bytes",
        Op::UploadStreamed,
        DECODE,
        |r, _| {
            if r.method == "POST" {
                reply(202, &[("Location", "/upload/1"), ("Range", "0-999")], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_new_session_offset_near_2_64",
        Op::UploadChunked,
        DECODE,
        |r, _| {
            if r.method == "POST" {
                reply(
                    202,
                    &[
                        ("Location", "/upload/1"),
                        ("Range", "0-18446744073709551614"),
                    ],
                    b"",
                )
            } else {
                upload_ok(r)
            }
        },
    ),
    case("upload_no_location", Op::UploadStreamed, DECODE, |r, _| {
        if r.method == "POST" {
            reply(202, &[], b"")
        } else {
            upload_ok(r)
        }
    }),
    case(
        "upload_location_on_other_origin",
        Op::UploadStreamed,
        REGISTRY,
        |r, c| {
            if r.method == "POST" {
                reply(202, &[("Location", &format!("{}/upload/1", c.other))], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_patch_claims_more_than_sent",
        Op::UploadChunked,
        DECODE,
        |r, _| {
            if r.method == "PATCH" {
                reply(202, &[("Location", "/upload/1"), ("Range", "0-99999")], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_patch_garbled_range",
        Op::UploadStreamed,
        DECODE,
        |r, _| {
            if r.method == "PATCH" {
                reply(
                    202,
                    &[("Location", "/upload/1"), ("Range", "bytes=lots")],
                    b"",
                )
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_put_reports_another_digest",
        Op::UploadStreamed,
        DIGEST,
        |r, _| {
            if r.method == "PUT" {
                reply(201, &[("Docker-Content-Digest", &lm())], b"")
            } else {
                upload_ok(r)
            }
        },
    ),
    case(
        "upload_500_forever",
        Op::UploadChunked,
        STATUS_500,
        |r, _| {
            if r.method == "POST" {
                registry_error(500, "INTERNAL", "down")
            } else {
                upload_ok(r)
            }
        },
    ),
    // --- auth
    case(
        "auth_bearer_ok_baseline",
        Op::ManifestByTag,
        Expect::Ok,
        |r, _| bearer(r, manifest_ok),
    ),
    case(
        "auth_challenge_missing",
        Op::ManifestByTag,
        UNAUTHORIZED,
        |_, _| registry_error(401, "UNAUTHORIZED", "who are you"),
    ),
    pending(
        "auth_challenge_garbled",
        Op::ManifestByTag,
        DECODE,
        NET_MESSAGES,
        |r, _| challenge(r, "Bearer realm=\"unterminated, ,,="),
    ),
    case(
        "auth_challenge_unknown_scheme",
        Op::ManifestByTag,
        UNAUTHORIZED,
        |r, _| challenge(r, "Negotiate abcdef"),
    ),
    case(
        "auth_401_forever_even_with_a_token",
        Op::ManifestByTag,
        UNAUTHORIZED,
        |r, _| {
            if r.path() == "/token" {
                return json(200, &format!(r#"{{"token":"{TOKEN}"}}"#));
            }
            challenge(
                r,
                &format!(r#"Bearer realm="{}/token",service="hostile""#, r.origin),
            )
        },
    ),
    case(
        "token_endpoint_wrong_json",
        Op::ManifestByTag,
        TOKEN_REFUSED,
        |r, _| {
            if r.path() == "/token" {
                return json(200, "[1,2,3]");
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_endpoint_not_json",
        Op::ManifestByTag,
        TOKEN_REFUSED,
        |r, _| {
            if r.path() == "/token" {
                return reply(200, &[], b"<html>login</html>");
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_endpoint_huge_token",
        Op::ManifestByTag,
        TOKEN_REFUSED,
        |r, _| {
            if r.path() == "/token" {
                let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"token\":\"");
                v.push(Act::Endless(b'A'));
                return v;
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_endpoint_500_forever",
        Op::ManifestByTag,
        AUTH,
        |r, _| {
            if r.path() == "/token" {
                return registry_error(500, "INTERNAL", "token service down");
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_expires_in_negative",
        Op::ManifestByTag,
        DECODE,
        |r, _| {
            if r.path() == "/token" {
                return json(
                    200,
                    &format!(
                        r#"{{"token":"{TOKEN}","expires_in":-100,"issued_at":"2001-01-01T00:00:00Z"}}"#
                    ),
                );
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_realm_on_other_origin_gets_no_password_over_redirect",
        Op::ManifestByTag,
        UNAUTHORIZED,
        |r, c| {
            if r.path() == "/token" {
                return reply(307, &[("Location", &format!("{}/token", c.other))], b"");
            }
            bearer(r, manifest_ok)
        },
    ),
    case(
        "token_expired_long_ago_is_used_once",
        Op::ManifestByTag,
        Expect::Ok,
        |r, _| {
            if r.path() == "/token" {
                return json(
                    200,
                    &format!(
                        r#"{{"token":"{TOKEN}","expires_in":1,"issued_at":"2001-01-01T00:00:00Z"}}"#
                    ),
                );
            }
            bearer(r, manifest_ok)
        },
    ),
    cli_pending(
        case(
            "token_endpoint_silent",
            Op::ManifestByTag,
            TRANSPORT,
            |r, _| {
                if r.path() == "/token" {
                    return vec![Act::Silence];
                }
                bearer(r, manifest_ok)
            },
        ),
        CLI_TIMEOUT,
    ),
    // --- error bodies
    case(
        "error_body_endless",
        Op::ManifestByTag,
        STATUS_500,
        |_, _| {
            let mut v = raw(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"errors\":[");
            v.push(Act::Endless(b' '));
            v
        },
    ),
    case(
        "error_body_not_json",
        Op::ManifestByTag,
        STATUS_500,
        |_, _| {
            reply(
                500,
                &[("Content-Type", "application/json")],
                b"\xff\xfe oops",
            )
        },
    ),
    case(
        "error_body_wrong_typed",
        Op::ManifestByTag,
        NOT_FOUND,
        |_, _| json(404, r#"{"errors":"everything","code":[1]}"#),
    ),
    case(
        "error_status_999",
        Op::ManifestByTag,
        Expect::Err("Registry 999 or Transport", |e| {
            e.status() == Some(999) || e.is_transport()
        }),
        |_, _| reply(999, &[], b""),
    ),
    case(
        "error_status_with_huge_reason",
        Op::ManifestByTag,
        Expect::Err("Transport or 404", |e| {
            e.is_transport() || e.status() == Some(404)
        }),
        |_, _| {
            let b = format!(
                "HTTP/1.1 404 {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                big(200_000, b'r')
            );
            raw(b.as_bytes())
        },
    ),
    case(
        "error_nul_bytes_in_header",
        Op::ManifestByTag,
        Expect::Err("Transport or 404", |e| {
            e.is_transport() || e.status() == Some(404)
        }),
        |_, _| {
            raw(b"HTTP/1.1 404 Not Found\r\nX-Evil: a\x00b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        },
    ),
    case(
        "manifest_for_repo_path_ignored",
        Op::ManifestByTag,
        Expect::Ok,
        |r, _| {
            assert!(r.target.contains(REPO), "request for {}", r.target);
            manifest_ok()
        },
    ),
    case(
        "blob_download_cli_has_no_partial_file",
        Op::Download,
        DIGEST,
        |_, _| {
            let mut body = vec![b'z'; 200_000];
            body[..BLOB.len()].copy_from_slice(BLOB);
            reply(200, &[], &body)
        },
    ),
    cli_pending(
        case("no_cli_for_chunks", Op::Chunk, Expect::Ok, |_, _| {
            let cr = "bytes 0-9/37".to_string();
            reply(206, &[("Content-Range", &cr)], &BLOB[..10])
        }),
        NO_CLI,
    ),
];
