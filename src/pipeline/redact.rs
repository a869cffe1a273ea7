//! Redaction of secrets from URLs and headers before they reach a log line or an error message.

use url::Url;

/// Query parameters whose values are secrets: SAS signatures, upload state, tokens, passwords.
fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "sig"
        || n == "_state"
        || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n == "code"
}

/// The URL with user info and secret query values replaced by `REDACTED`.
pub(crate) fn url(u: &Url) -> String {
    let mut u = u.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("REDACTED");
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
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

/// A header value fit for a log line.
pub(crate) fn header(name: &str, value: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" => {
            let scheme = value.split_whitespace().next().unwrap_or("");
            format!("{scheme} REDACTED")
        }
        "location" => match Url::parse(value) {
            Ok(u) => url(&u),
            Err(_) => value.split('?').next().unwrap_or("").to_string() + "?REDACTED",
        },
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets() {
        let u =
            Url::parse("https://a.blob.core.windows.net/x?sv=1&sig=SECRET&se=2&_state=STATE&n=1")
                .unwrap();
        let s = url(&u);
        assert!(!s.contains("SECRET") && !s.contains("STATE"), "{s}");
        assert!(s.contains("n=1") && s.contains("sv=1"), "{s}");
        let u = Url::parse("https://user:pw@h/p?access_token=T").unwrap();
        let s = url(&u);
        assert!(!s.contains("pw") && !s.contains("=T"), "{s}");
        assert_eq!(header("Authorization", "Bearer abc"), "Bearer REDACTED");
        assert_eq!(
            proxy("http://u:secret@proxy:3128"),
            "http://REDACTED@proxy:3128"
        );
        assert_eq!(proxy("proxy:3128"), "proxy:3128");
        assert!(!header("Location", "/v2/x/blobs/uploads/u?_state=S").contains("S&"));
        assert!(!header("Location", "/v2/x/blobs/uploads/u?_state=SECRET").contains("SECRET"));
    }
}
