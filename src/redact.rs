//! Redaction of secrets from URLs and headers before they reach a log line, a `Debug` output or an
//! error message.
//!
//! Works on text, so that every layer can use it: user info becomes `REDACTED@`, and the values of
//! query parameters that carry secrets (SAS and presigned-URL signatures, upload state, tokens,
//! passwords, codes) become `REDACTED`; everything else is kept as it was written.

/// Whether a query parameter, JSON field or header named `name` holds a secret: signatures
/// (SAS, presigned URLs), upload state, codes, and anything naming a token, secret, password,
/// credential, authorization, cookie, assertion or API key. The one list the crate and the `acr`
/// logger share; a program that installs its own logger can use it to redact what dependencies
/// print.
///
/// ```
/// use azcontainerregistry::is_secret_name;
/// assert!(is_secret_name("X-Amz-Signature") && is_secret_name("access_token"));
/// assert!(!is_secret_name("digest"));
/// ```
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "sig" | "signature" | "_state" | "code" | "x-amz-signature" | "x-goog-signature"
    ) || [
        "token",
        "secret",
        "password",
        "credential",
        "authorization",
        "cookie",
        "assertion",
        "api-key",
        "apikey",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn is_secret_param(name: &str) -> bool {
    is_secret_name(name)
}

/// Percent-decodes a query key (`+` is a space), for comparing parameter names.
fn decode_key(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3) {
                Some(h) if h.iter().all(u8::is_ascii_hexdigit) => {
                    let hex = std::str::from_utf8(h).unwrap_or("0");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'%'));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query with secret values replaced.
fn query(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_param(&decode_key(k)) => format!("{k}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL (absolute, or a path with a query) with its user info and secret query values replaced by
/// `REDACTED`; the fragment is dropped.
pub(crate) fn url(text: &str) -> String {
    let text = text.split('#').next().unwrap_or("");
    let (base, q) = match text.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (text, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://REDACTED@{host}{path}"),
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    if let Some(q) = q {
        out.push('?');
        out.push_str(&query(q));
    }
    out
}

/// A proxy URL with its user info (`user:password@`) replaced.
pub(crate) fn proxy(p: &str) -> String {
    match p.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://REDACTED@{host}"),
            None => p.to_string(),
        },
        None => match p.rsplit_once('@') {
            Some((_, host)) => format!("REDACTED@{host}"),
            None => p.to_string(),
        },
    }
}

/// Header names whose values are secrets, whatever their scheme: cookies, API keys, signatures,
/// the managed-identity `X-IDENTITY-HEADER`, anything that names a token or a password.
fn is_secret_header(name: &str) -> bool {
    [
        "cookie",
        "token",
        "secret",
        "key",
        "signature",
        "identity",
        "password",
        "credential",
        "auth",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// A header value fit for a log line.
pub(crate) fn header(name: &str, value: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" => {
            let scheme = value.split_whitespace().next().unwrap_or("");
            format!("{scheme} REDACTED")
        }
        "location" | "link" => url(value),
        n if is_secret_header(n) => "REDACTED".to_string(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets() {
        let s = url("https://a.blob.core.windows.net/x?sv=1&sig=SECRET&se=2&_state=STATE&n=1");
        assert_eq!(
            s,
            "https://a.blob.core.windows.net/x?sv=1&sig=REDACTED&se=2&_state=REDACTED&n=1"
        );
        let s = url("https://user:pw@h/p?access_token=T#frag");
        assert_eq!(s, "https://REDACTED@h/p?access_token=REDACTED");
        let s = url(
            "https://s3/x?X-Amz-Signature=S1&x-goog-signature=S2&Signature=S3&X-Amz-Credential=C",
        );
        assert!(
            !s.contains("S1") && !s.contains("S2") && !s.contains("S3"),
            "{s}"
        );
        assert!(!s.contains("=C"), "{s}");
        assert_eq!(
            url("/v2/x/blobs/uploads/u?_st%61te=S"),
            "/v2/x/blobs/uploads/u?_st%61te=REDACTED"
        );
        assert_eq!(url("https://r.io/v2/?n=1"), "https://r.io/v2/?n=1");
        assert_eq!(header("Authorization", "Bearer abc"), "Bearer REDACTED");
        assert_eq!(
            proxy("http://u:secret@proxy:3128"),
            "http://REDACTED@proxy:3128"
        );
        assert_eq!(proxy("proxy:3128"), "proxy:3128");
        assert!(!header("Location", "/v2/x/blobs/uploads/u?_state=SECRET").contains("SECRET"));
        for name in [
            "X-IDENTITY-HEADER",
            "Cookie",
            "x-api-key",
            "X-Ms-Token",
            "secret",
        ] {
            assert_eq!(header(name, "SECRET"), "REDACTED", "{name}");
        }
        assert_eq!(
            header("Content-Type", "application/json"),
            "application/json"
        );
        assert_eq!(decode_key("a%2"), "a%2");
        assert_eq!(decode_key("%"), "%");
    }
}
