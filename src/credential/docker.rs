//! The Docker token flow: `GET {realm}?service=…&scope=…` with optional `Authorization: Basic`,
//! answered with `{"token":…}` or `{"access_token":…}` and an optional `expires_in`.

use std::time::{Duration, SystemTime};

use base64::Engine as _;

use super::Secret;
use super::cache::Cached;
use crate::error::{Error, Result};
use crate::http::{Method, Request, Transport, Url, form_urlencode};

/// Tokens without `expires_in` or `exp` are valid this long (the distribution spec's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// The `Basic` header value for a username and password.
pub(crate) fn basic_header(username: &str, password: &Secret) -> String {
    let raw = format!("{username}:{}", password.expose());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Fetches a token for `scopes` from `realm`.
pub(crate) fn fetch_token(
    transport: &Transport,
    realm: &Url,
    service: Option<&str>,
    scopes: &[&str],
    basic: Option<(&str, &Secret)>,
) -> Result<Cached> {
    let mut url = realm.clone();
    if let Some(s) = service {
        url.append_pair("service", s);
    }
    for s in scopes {
        url.append_pair("scope", s);
    }
    let auth = basic.map(|(u, p)| basic_header(u, p));
    let mut req = Request::new(Method::GET, url).header("Accept", "application/json");
    let resp = transport.send(&mut req, auth.as_deref())?;
    if !resp.is_success() {
        let status = resp.status;
        // a realm that answers with the very challenge that named it is not a token service
        let loops = status == 401
            && super::challenge::pick(&resp.header_all("www-authenticate"))
                .and_then(|c| c.realm().and_then(|r| realm.join(r).ok()))
                .is_some_and(|named| named == *realm);
        let shown = crate::redact::url(realm.as_str());
        let refused = match (status, basic.is_some()) {
            _ if loops => None,
            (401 | 403, true) => Some("refused the username and password"),
            (401 | 403, false) => Some("refused an anonymous token"),
            _ => None,
        };
        let err = resp.into_error();
        if let Some(what) = refused {
            return Err(Error::auth_refused(
                format!("the token service {what} (status {status})"),
                err,
            ));
        }
        // not a refusal: no hint about credentials
        let context = if loops {
            format!(
                "the registry's challenge names {shown} as its token service, but that URL answers \
                 401 with the same challenge: the challenge is wrong (not a token service)"
            )
        } else {
            format!(
                "the token service at {shown} answered status {status} instead of a token (is the \
                 challenge's realm a token service?)"
            )
        };
        return Err(Error::auth(context, Some(err)));
    }
    decode(resp)
}

/// The OAuth2 refresh grant (Docker's `identitytoken` on a registry that is not ACR):
/// `POST {realm}` with `grant_type=refresh_token`, `service`, `scope`, `client_id` and
/// `refresh_token`, answered with `{"access_token":…}`.
pub(crate) fn fetch_token_with_refresh(
    transport: &Transport,
    realm: &Url,
    service: Option<&str>,
    scopes: &[&str],
    refresh_token: &Secret,
) -> Result<Cached> {
    let scope = scopes.join(" ");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", "azcontainerregistry"),
    ];
    if let Some(s) = service {
        form.push(("service", s));
    }
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    form.push(("refresh_token", refresh_token.expose()));
    let body = form_urlencode(&form);
    // a token request only hands out a token: safe to send again after a timeout
    let mut req = Request::new(Method::POST, realm.clone())
        .idempotent()
        .header("Accept", "application/json")
        .form(body.as_bytes());
    let resp = transport.send(&mut req, None)?;
    if !resp.is_success() {
        let status = resp.status;
        let err = resp.into_error();
        return Err(Error::auth_refused(
            format!("the token service refused the identity token (status {status})"),
            err,
        ));
    }
    decode(resp)
}

/// A token service's answer.
fn decode(resp: crate::http::Response) -> Result<Cached> {
    let body: TokenResponse = resp.json("token response", 1024 * 1024)?;
    let token = body
        .token
        .filter(|t| !t.is_empty())
        .or(body.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            Error::decode(
                "token response",
                "neither token nor access_token in the answer",
            )
        })?;
    let expires_at = super::cache::jwt_expiry(&token).unwrap_or_else(|| {
        SystemTime::now()
            + body
                .expires_in
                .map(|secs| Duration::from_secs(secs.min(24 * 3600)))
                .unwrap_or(DEFAULT_LIFETIME)
    });
    Ok(Cached {
        token: Secret::new(token),
        expires_at,
    })
}
