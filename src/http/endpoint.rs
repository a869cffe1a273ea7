//! Endpoints and the URLs registries send back: validating a registry endpoint, resolving a
//! `Location` (relative or absolute) without leaving http(s) or downgrading to plain http, telling
//! loopback hosts apart, and encoding path segments.

use std::net::IpAddr;

use super::url::{Host, Url, percent_encode};
use crate::error::{Error, Result};
use crate::redact;

/// Validates an endpoint: `https://host[:port]`, or a bare host (https assumed); plain `http` only
/// for loopback hosts or with `allow_http`.
pub(crate) fn parse_endpoint(endpoint: &str, allow_http: bool) -> Result<Url> {
    let text = endpoint.trim();
    // what error messages may repeat: the endpoint without any user info (a password must not be
    // echoed)
    let shown = match text.rfind('@') {
        Some(at) => match text.find("://") {
            Some(s) if s < at => format!("{}://REDACTED@{}", &text[..s], &text[at + 1..]),
            _ => format!("REDACTED@{}", &text[at + 1..]),
        },
        None => text.to_string(),
    };
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("endpoint {shown:?} is not a URL: {e}")))?;
    if url.has_userinfo() {
        return Err(Error::Config(
            "the endpoint must not carry credentials; use Credential::basic".into(),
        ));
    }
    let (_, after_authority) = with_scheme.split_once("://").unwrap_or_default();
    let raw_rest = after_authority
        .find(['/', '?', '#'])
        .map_or("", |i| &after_authority[i..]);
    if !raw_rest.trim_end_matches('/').is_empty() {
        return Err(Error::Config(format!(
            "endpoint {shown:?} must be scheme://host[:port] with no path or query"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || allow_http => {}
        "http" => {
            return Err(Error::Config(format!(
                "endpoint {shown:?} is plain http: set ClientOptions::allow_http to use it \
                 (credentials would travel unencrypted)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "endpoint scheme {other:?} is not http or https"
            )));
        }
    }
    Ok(url)
}

/// True for loopback addresses, and for `localhost` and `*.localhost` when the name resolves to
/// loopback addresses only (a resolver may send `*.localhost` anywhere). Other names are never
/// loopback, whatever they resolve to.
pub(crate) fn is_loopback(url: &Url) -> bool {
    is_loopback_with(url, lookup)
}

fn lookup(name: &str) -> Vec<IpAddr> {
    use std::net::ToSocketAddrs;
    (name, 0)
        .to_socket_addrs()
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .unwrap_or_default()
}

/// [`is_loopback`] with the resolver given.
fn is_loopback_with(url: &Url, resolve: impl Fn(&str) -> Vec<IpAddr>) -> bool {
    match url.host() {
        Host::Domain(d) if d == "localhost" || d.ends_with(".localhost") => {
            let addresses = resolve(d);
            !addresses.is_empty() && addresses.iter().all(IpAddr::is_loopback)
        }
        Host::Domain(_) => false,
        Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    }
}

/// Resolves a URL the registry sent (`what`: "redirect", "upload location"…), relative or absolute,
/// against the URL of the request it answered. It must stay on http(s), and must not downgrade an
/// https request to plain http (except on loopback).
pub(crate) fn resolve(base: &Url, location: &str, what: &'static str) -> Result<Url> {
    let url = base.join(location).map_err(|e| Error::decode(what, e))?;
    let refuse = |reason| {
        Err(Error::Redirect {
            what,
            url: redact::url(url.as_str()),
            reason,
        })
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if base.scheme() == "https" && !is_loopback(&url) => {
            refuse("it downgrades https to http")
        }
        "http" => Ok(url),
        _ => refuse("only http and https are followed"),
    }
}

/// Percent-encodes one path segment (ACR's `/acr/v1/{name}` wants `a%2Fb` for `a/b`).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode(&mut out, s, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let ok = |e: &str| parse_endpoint(e, false).map(|u| u.as_str().to_string());
        assert_eq!(ok("r.azurecr.io").unwrap(), "https://r.azurecr.io/");
        assert_eq!(
            ok("https://R.azurecr.io/").unwrap(),
            "https://r.azurecr.io/"
        );
        assert_eq!(
            ok("http://127.0.0.1:5000").unwrap(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(ok("http://[::1]:5000").unwrap(), "http://[::1]:5000/");
        assert_eq!(
            ok("http://localhost:5000").unwrap(),
            "http://localhost:5000/"
        );
        assert!(parse_endpoint("http://r.io", true).is_ok());
        for bad in [
            "http://r.io",
            "ftp://r.io",
            "https://r.io/v2",
            "https://r.io?x=1",
            "https://r.io#f",
            "https://",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        let e = ok("https://me:hunter2@r.io").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        let e = ok("https://me:hunter2@r.io/x").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn localhost_names_are_loopback_only_where_they_resolve() {
        let url = |u: &str| Url::parse(u).unwrap();
        let to = |ips: &'static [&'static str]| {
            move |_: &str| -> Vec<IpAddr> { ips.iter().map(|i| i.parse().unwrap()).collect() }
        };
        let x = url("http://x.localhost:5000/");
        assert!(is_loopback_with(&x, to(&["127.0.0.1", "::1"])));
        assert!(
            !is_loopback_with(&x, to(&["10.1.2.3"])),
            "resolves elsewhere"
        );
        assert!(!is_loopback_with(&x, to(&["127.0.0.1", "10.1.2.3"])));
        assert!(!is_loopback_with(&x, to(&[])), "does not resolve");
        // other names are never looked up
        let never = |_: &str| -> Vec<IpAddr> { panic!("looked up") };
        assert!(!is_loopback_with(&url("http://localhost.evil.io/"), never));
        assert!(is_loopback_with(&url("http://127.0.0.2/"), never));
        assert!(is_loopback_with(&url("http://[::1]/"), never));
        // `localhost` itself resolves through /etc/hosts here
        assert!(is_loopback(&url("http://localhost:5000/")));
    }

    #[test]
    fn locations() {
        let base = Url::parse("https://r.io/v2/a/blobs/uploads/").unwrap();
        assert_eq!(
            resolve(&base, "/v2/a/blobs/uploads/u?_state=x", "upload location")
                .unwrap()
                .as_str(),
            "https://r.io/v2/a/blobs/uploads/u?_state=x"
        );
        assert!(resolve(&base, "http://evil.example/x", "redirect").is_err());
        assert!(resolve(&base, "http://127.0.0.1:9/x", "redirect").is_ok());
        assert!(resolve(&base, "file://x/etc/passwd", "redirect").is_err());
        assert_eq!(encode_segment("a/b:c"), "a%2Fb%3Ac");
    }
}
