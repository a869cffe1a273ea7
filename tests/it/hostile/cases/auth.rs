//! Challenges and token endpoints.

use super::kit::*;

pub static AUTH_CASES: &[Case] = &[
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
    case(
        "auth_challenge_garbled",
        Op::ManifestByTag,
        MALFORMED_CHALLENGE,
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
];
