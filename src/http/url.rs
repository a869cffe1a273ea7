//! [`Url`]: absolute `http(s)` URLs, parsed and resolved per RFC 3986, without the `url` crate.
//!
//! The `url` crate implements the WHATWG URL standard, and its IDNA tables bring 28 crates into
//! every build for hosts no registry uses. A registry client needs less: parse absolute URLs,
//! resolve the references registries send (`Location`, `Link`, token realms: RFC 3986 §5.2,
//! relative or absolute), compare origins, and read or write the query. That is this module.
//!
//! A parsed URL is normalised: scheme and host in lowercase, the scheme's default port dropped, an
//! empty path written `/`, dot segments removed, and bytes a URI may not carry (spaces, controls,
//! non-ASCII, `"<>\^`{|}`) percent-encoded in the path and query. Fragments are dropped: they never
//! reach a server. Hosts must be ASCII (an internationalised name is refused, not converted).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An absolute URL with an authority (`scheme://[userinfo@]host[:port]/path[?query]`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Url {
    /// The serialization; the fields below index into it.
    text: String,
    scheme_end: usize,
    host: (usize, usize),
    port: Option<u16>,
    path_start: usize,
    /// Index of the `?`, when there is a query.
    query_start: Option<usize>,
    userinfo: bool,
}

/// The parts of an origin: scheme, host and port (the default port when none is written).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

/// A host, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host<'a> {
    /// A registered name (lowercase).
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    Ipv6(Ipv6Addr),
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(&'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParseError {}

type Parsed<T> = std::result::Result<T, ParseError>;

/// The components of a reference before resolution (RFC 3986 §3).
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

fn split(reference: &str) -> Parts<'_> {
    // the fragment never matters here
    let s = reference.split('#').next().unwrap_or("");
    let (s, query) = match s.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (s, None),
    };
    let scheme_end = s.find(':').filter(|&i| {
        let name = &s[..i];
        !name.is_empty()
            && !name.contains('/')
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    });
    let (scheme, rest) = match scheme_end {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
    }
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue;
        }
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// RFC 3986 §5.2.3: the base path up to its last `/`, then the reference path.
fn merge(base_path: &str, has_authority: bool, reference: &str) -> String {
    if has_authority && base_path.is_empty() {
        return format!("/{reference}");
    }
    match base_path.rfind('/') {
        Some(i) => format!("{}{reference}", &base_path[..=i]),
        None => reference.to_string(),
    }
}

/// Bytes that may stand in a path or query as they are; anything else is percent-encoded.
fn is_uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
                | b'%'
                | b'['
                | b']'
        )
}

/// Appends `text` to `out`, each byte that `keep` refuses percent-encoded (`%XX`).
pub(crate) fn percent_encode(out: &mut String, text: &str, keep: impl Fn(u8) -> bool) {
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn encode_into(out: &mut String, text: &str) {
    percent_encode(out, text, is_uri_byte);
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `host[:port]` of an authority (user info already removed): the host lowercase and checked.
fn parse_host_port(hostport: &str) -> Parsed<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or(ParseError("unclosed '[' in the host"))?;
        let addr = &rest[..end];
        addr.parse::<Ipv6Addr>()
            .map_err(|_| ParseError("invalid IPv6 address"))?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(ParseError("invalid port"))?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (hostport.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() {
        return Err(ParseError("empty host"));
    }
    let host_ok = host.starts_with('[')
        || host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !host_ok {
        return Err(ParseError(
            "invalid host (only ASCII names and IP addresses are accepted)",
        ));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| ParseError("port out of range"))?,
        ),
        Some(_) => return Err(ParseError("invalid port")),
    };
    Ok((host, port))
}

impl Url {
    /// Parses an absolute URL (`scheme://authority…`).
    pub(crate) fn parse(text: &str) -> Parsed<Url> {
        let parts = split(text.trim());
        let scheme = parts
            .scheme
            .ok_or(ParseError("relative URL without a base"))?;
        let authority = parts
            .authority
            .ok_or(ParseError("no authority (scheme://host)"))?;
        Url::build(
            &scheme.to_ascii_lowercase(),
            authority,
            parts.path,
            parts.query,
        )
    }

    fn build(scheme: &str, authority: &str, path: &str, query: Option<&str>) -> Parsed<Url> {
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = parse_host_port(hostport)?;
        let port = port.filter(|p| Some(*p) != default_port(scheme));
        let mut text = String::with_capacity(scheme.len() + authority.len() + path.len() + 8);
        text.push_str(scheme);
        let scheme_end = text.len();
        text.push_str("://");
        if let Some(u) = userinfo {
            // user info may not carry `@`, `/`, `?`, `[` or `]` as they are
            percent_encode(&mut text, u, |b| {
                is_uri_byte(b) && !matches!(b, b'@' | b'/' | b'?' | b'[' | b']')
            });
            text.push('@');
        }
        let host_start = text.len();
        text.push_str(&host);
        let host_end = text.len();
        if let Some(p) = port {
            text.push_str(&format!(":{p}"));
        }
        let path_start = text.len();
        let path = remove_dot_segments(path);
        if path.is_empty() {
            text.push('/');
        } else {
            encode_into(&mut text, &path);
        }
        let query_start = query.map(|q| {
            let at = text.len();
            text.push('?');
            encode_into(&mut text, q);
            at
        });
        Ok(Url {
            text,
            scheme_end,
            host: (host_start, host_end),
            port,
            path_start,
            query_start,
            userinfo: userinfo.is_some(),
        })
    }

    /// Resolves `reference` (absolute, `//host…`, `/path`, `path`, `?query` or empty) against this
    /// URL, as RFC 3986 §5.2.2 says.
    pub(crate) fn join(&self, reference: &str) -> Parsed<Url> {
        let r = split(reference.trim());
        if let Some(scheme) = r.scheme {
            let authority = r
                .authority
                .ok_or(ParseError("no authority (scheme://host)"))?;
            return Url::build(&scheme.to_ascii_lowercase(), authority, r.path, r.query);
        }
        let authority = &self.text[self.scheme_end + 3..self.path_start];
        if let Some(a) = r.authority {
            return Url::build(self.scheme(), a, r.path, r.query);
        }
        let (path, query) = if r.path.is_empty() {
            (self.path().to_string(), r.query.or(self.query()))
        } else if r.path.starts_with('/') {
            (r.path.to_string(), r.query)
        } else {
            (merge(self.path(), true, r.path), r.query)
        };
        Url::build(self.scheme(), authority, &path, query)
    }

    /// The whole URL.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The scheme, lowercase.
    pub(crate) fn scheme(&self) -> &str {
        &self.text[..self.scheme_end]
    }

    /// The host, lowercase (an IPv6 address in brackets).
    pub(crate) fn host_str(&self) -> &str {
        &self.text[self.host.0..self.host.1]
    }

    /// The host, classified.
    pub(crate) fn host(&self) -> Host<'_> {
        let h = self.host_str();
        if let Some(v6) = h
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .and_then(|x| x.parse().ok())
        {
            return Host::Ipv6(v6);
        }
        match h.parse::<Ipv4Addr>() {
            Ok(v4) => Host::Ipv4(v4),
            Err(_) => Host::Domain(h),
        }
    }

    /// True when the URL carries `user[:password]@`.
    pub(crate) fn has_userinfo(&self) -> bool {
        self.userinfo
    }

    /// The path, never empty.
    pub(crate) fn path(&self) -> &str {
        let end = self.query_start.unwrap_or(self.text.len());
        &self.text[self.path_start..end]
    }

    /// The query, without the `?`.
    pub(crate) fn query(&self) -> Option<&str> {
        self.query_start.map(|i| &self.text[i + 1..])
    }

    /// Path and query, as a request line carries them.
    pub(crate) fn path_and_query(&self) -> &str {
        &self.text[self.path_start..]
    }

    /// Replaces the query (`None` removes it).
    pub(crate) fn set_query(&mut self, query: Option<&str>) {
        let end = self.query_start.unwrap_or(self.text.len());
        self.text.truncate(end);
        self.query_start = query.map(|q| {
            let at = self.text.len();
            self.text.push('?');
            encode_into(&mut self.text, q);
            at
        });
    }

    /// Appends `key=value` to the query, form-encoded.
    pub(crate) fn append_pair(&mut self, key: &str, value: &str) {
        let pair = form_urlencode(&[(key, value)]);
        let query = match self.query() {
            Some(q) if !q.is_empty() => format!("{q}&{pair}"),
            _ => pair,
        };
        self.set_query(Some(&query));
    }

    /// `host[:port]`, the port only when it is not the scheme's default: how Docker's config
    /// files key a registry.
    pub(crate) fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host_str()),
            None => self.host_str().to_string(),
        }
    }

    /// Scheme, host and port: two URLs with the same origin share credentials and connections.
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            scheme: self.scheme().to_string(),
            host: self.host_str().to_string(),
            port: self.port.or_else(|| default_port(self.scheme())),
        }
    }
}

impl Origin {
    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    #[cfg_attr(not(any(test, feature = "azure")), allow(dead_code))]
    pub(crate) fn serialize(&self) -> String {
        match self.port.filter(|p| Some(*p) != default_port(&self.scheme)) {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({})", crate::redact::url(&self.text))
    }
}

/// `application/x-www-form-urlencoded` pairs: `a=1&b=x+y` (alphanumerics and `*-._` as they are,
/// space as `+`, every other byte percent-encoded).
pub(crate) fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(&mut out, k);
        out.push('=');
        form_encode_into(&mut out, v);
    }
    out
}

fn form_encode_into(out: &mut String, text: &str) {
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push('+');
        }
        percent_encode(out, word, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
        });
    }
}

/// A query built from optional pairs, form-encoded; `None` values are left out.
pub(crate) fn query_of(pairs: &[(&str, Option<&str>)]) -> String {
    let present: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    form_urlencode(&present)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses, and checks that the `http` crate (which ureq sends with) takes the result.
    fn u(s: &str) -> Url {
        let url = Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let uri = ureq::http::Uri::try_from(url.as_str());
        assert!(uri.is_ok(), "{s} became {url}, which http::Uri refuses");
        url
    }

    #[test]
    fn parses_and_normalises() {
        let x = u("HTTPS://R.AzureCR.io:443");
        assert_eq!(x.as_str(), "https://r.azurecr.io/");
        assert_eq!((x.scheme(), x.host_str()), ("https", "r.azurecr.io"));
        assert_eq!(x.origin(), u("https://r.azurecr.io:443/").origin());
        let x = u("http://127.0.0.1:5000/v2/a/../b/./c?n=1&last=a%2Fb#frag");
        assert_eq!(x.as_str(), "http://127.0.0.1:5000/v2/b/c?n=1&last=a%2Fb");
        assert_eq!(x.path(), "/v2/b/c");
        assert_eq!(x.query(), Some("n=1&last=a%2Fb"));
        assert_eq!(x.path_and_query(), "/v2/b/c?n=1&last=a%2Fb");
        assert_eq!(x.host(), Host::Ipv4(Ipv4Addr::LOCALHOST));
        let x = u("http://[::1]:8080/x y/\u{e9}?q=\"1\"");
        assert_eq!(x.as_str(), "http://[::1]:8080/x%20y/%C3%A9?q=%221%22");
        assert_eq!(x.host(), Host::Ipv6(Ipv6Addr::LOCALHOST));
        assert!(u("https://me:pw@h/").has_userinfo());
        assert_eq!(
            u("https://us[er:p@w@h/x").as_str(),
            "https://us%5Ber:p%40w@h/x"
        );
        assert_eq!(u("https://me:pw@h/").host_str(), "h");
        for bad in [
            "",
            "/relative",
            "r.io/x",
            "https://",
            "https:///x",
            "https://h:99999/",
            "https://h:abc/",
            "https://[::1/",
            "https://[zz]/",
            "https://b\u{fc}cher.example/",
            "https://a b/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn rfc3986_normal_examples() {
        let base = u("http://a/b/c/d;p?q");
        for (r, want) in [
            ("g:h", None),
            ("g", Some("http://a/b/c/g")),
            ("./g", Some("http://a/b/c/g")),
            ("g/", Some("http://a/b/c/g/")),
            ("/g", Some("http://a/g")),
            ("//g", Some("http://g/")),
            ("?y", Some("http://a/b/c/d;p?y")),
            ("g?y", Some("http://a/b/c/g?y")),
            ("#s", Some("http://a/b/c/d;p?q")),
            ("g#s", Some("http://a/b/c/g")),
            (";x", Some("http://a/b/c/;x")),
            ("g;x", Some("http://a/b/c/g;x")),
            ("", Some("http://a/b/c/d;p?q")),
            (".", Some("http://a/b/c/")),
            ("./", Some("http://a/b/c/")),
            ("..", Some("http://a/b/")),
            ("../", Some("http://a/b/")),
            ("../g", Some("http://a/b/g")),
            ("../..", Some("http://a/")),
            ("../../", Some("http://a/")),
            ("../../g", Some("http://a/g")),
            // abnormal examples (§5.4.2)
            ("../../../g", Some("http://a/g")),
            ("/./g", Some("http://a/g")),
            ("/../g", Some("http://a/g")),
            ("g.", Some("http://a/b/c/g.")),
            ("..g", Some("http://a/b/c/..g")),
            ("./../g", Some("http://a/b/g")),
            ("g/./h", Some("http://a/b/c/g/h")),
            ("g/../h", Some("http://a/b/c/h")),
            ("g?y/./x", Some("http://a/b/c/g?y/./x")),
            ("https://other:8443/x?y", Some("https://other:8443/x?y")),
        ] {
            let got = base.join(r);
            match want {
                Some(w) => {
                    let got = got.unwrap();
                    assert_eq!(got.as_str(), w, "{r:?}");
                    assert!(ureq::http::Uri::try_from(got.as_str()).is_ok(), "{got}");
                }
                // "g:h" is a URL without authority: not one this module accepts
                None => assert!(got.is_err(), "{r:?}"),
            }
        }
    }

    #[test]
    fn origins() {
        assert_eq!(u("https://r.io").origin(), u("https://R.IO:443/x").origin());
        assert_ne!(u("https://r.io").origin(), u("http://r.io").origin());
        assert_ne!(u("https://r.io").origin(), u("https://r.io:8443").origin());
        assert_eq!(
            u("https://r.io:8443/a").origin().serialize(),
            "https://r.io:8443"
        );
        assert_eq!(u("http://r.io:80/a").origin().serialize(), "http://r.io");
    }

    #[test]
    fn queries() {
        let mut x = u("https://r.io/token");
        x.append_pair("service", "r.io");
        x.append_pair("scope", "repository:a/b:pull,push");
        assert_eq!(
            x.as_str(),
            "https://r.io/token?service=r.io&scope=repository%3Aa%2Fb%3Apull%2Cpush"
        );
        x.set_query(Some("digest=sha256:abc"));
        assert_eq!(x.as_str(), "https://r.io/token?digest=sha256:abc");
        x.set_query(None);
        assert_eq!(x.as_str(), "https://r.io/token");
        assert_eq!(form_urlencode(&[("a b", "x&y=z~")]), "a+b=x%26y%3Dz%7E");
        assert_eq!(
            query_of(&[
                ("n", Some("2")),
                ("last", None),
                ("orderby", Some("timedesc"))
            ]),
            "n=2&orderby=timedesc"
        );
    }
}
