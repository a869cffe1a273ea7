//! Manifests over raw, broken and hostile HTTP, and error bodies.

use super::kit::*;

pub static PROTOCOL: &[Case] = &[
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
    // the library's options cap every delay at 20 ms; the CLI keeps the 30 s default cap
    case(
        "manifest_429_retry_after_a_day",
        Op::ManifestByTag,
        THROTTLED,
        |_, _| reply(429, &[("Retry-After", "86400")], b""),
    ),
    case(
        "manifest_429_retry_after_far_date",
        Op::ManifestByTag,
        THROTTLED,
        |_, _| {
            reply(
                429,
                &[("Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT")],
                b"",
            )
        },
    ),
    case(
        "manifest_silent_server",
        Op::ManifestByTag,
        TIMEOUT,
        |_, _| vec![Act::Silence],
    ),
    case(
        "manifest_trickled_headers",
        Op::ManifestByTag,
        TRANSPORT,
        |_, _| {
            vec![Act::Trickle {
                bytes: response(200, &[("X-Slow", &big(3000, b'a'))], b"{}"),
                chunk: 1,
                every: Duration::from_millis(100),
            }]
        },
    ),
    case(
        "manifest_trickled_body_past_total_deadline",
        Op::ManifestByTag,
        TIMEOUT,
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
        "manifest_by_tag_baseline",
        Op::ManifestByTag,
        Expect::Ok,
        |r, _| {
            if r.target == format!("/v2/{REPO}/manifests/latest") {
                manifest_ok()
            } else {
                registry_error(404, "MANIFEST_UNKNOWN", "unexpected request")
            }
        },
    ),
    case(
        "blob_200_kib_of_wrong_bytes_leave_no_partial_file",
        Op::Download,
        DIGEST,
        |_, _| {
            let mut body = vec![b'z'; 200_000];
            body[..BLOB.len()].copy_from_slice(BLOB);
            reply(200, &[], &body)
        },
    ),
    case("chunk_ok_baseline", Op::Chunk, Expect::Ok, |_, _| {
        let cr = "bytes 0-9/37".to_string();
        reply(206, &[("Content-Range", &cr)], &BLOB[..10])
    }),
];
