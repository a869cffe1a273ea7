//! The `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` and `Basic realm="…"`.
//!
//! Handles quoted values with commas and escapes inside, unquoted values, several challenges in one
//! header, `error=` and several space-separated scopes.

use std::collections::BTreeMap;

/// One challenge: a scheme and its parameters.
///
/// ```
/// use azcontainerregistry::credential::challenge::Challenge;
/// let header = concat!(
///     r#"Bearer realm="https://r.io/oauth2/token",service="r.io","#,
///     r#"scope="repository:a:pull repository:b:pull""#,
/// );
/// let c = &Challenge::parse_all(header)[0];
/// assert!(c.is_bearer());
/// assert_eq!(c.realm(), Some("https://r.io/oauth2/token"));
/// assert_eq!(c.scopes(), vec!["repository:a:pull", "repository:b:pull"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lowercased (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters, names lowercased.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses every challenge in a header value.
    pub fn parse_all(header: &str) -> Vec<Challenge> {
        let s: Vec<char> = header.chars().collect();
        let mut out: Vec<Challenge> = Vec::new();
        let mut i = 0;
        let is_sep = |c: char| c == ',' || c.is_whitespace();
        loop {
            while i < s.len() && is_sep(s[i]) {
                i += 1;
            }
            if i >= s.len() {
                break;
            }
            let start = i;
            while i < s.len() && !is_sep(s[i]) && s[i] != '=' {
                i += 1;
            }
            let name: String = s[start..i].iter().collect();
            let mut j = i;
            while j < s.len() && s[j] == ' ' {
                j += 1;
            }
            if j < s.len() && s[j] == '=' && !out.is_empty() {
                i = j + 1;
                while i < s.len() && s[i] == ' ' {
                    i += 1;
                }
                let mut value = String::new();
                if i < s.len() && s[i] == '"' {
                    i += 1;
                    while i < s.len() && s[i] != '"' {
                        if s[i] == '\\' && i + 1 < s.len() {
                            i += 1;
                        }
                        value.push(s[i]);
                        i += 1;
                    }
                    i += 1; // closing quote
                } else {
                    while i < s.len() && !is_sep(s[i]) {
                        value.push(s[i]);
                        i += 1;
                    }
                }
                if let Some(last) = out.last_mut() {
                    last.params.insert(name.to_ascii_lowercase(), value);
                }
            } else if j < s.len() && s[j] == '=' {
                // token68 or garbage before any scheme: skip to the next separator
                i = j + 1;
                while i < s.len() && !is_sep(s[i]) {
                    i += 1;
                }
            } else if !name.is_empty() {
                out.push(Challenge {
                    scheme: name.to_ascii_lowercase(),
                    params: BTreeMap::new(),
                });
            }
        }
        out
    }

    /// `Bearer`?
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// `Basic`?
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }

    /// The token service URL.
    pub fn realm(&self) -> Option<&str> {
        self.params.get("realm").map(String::as_str)
    }

    /// The service name to ask tokens for.
    pub fn service(&self) -> Option<&str> {
        self.params.get("service").map(String::as_str)
    }

    /// The scope parameter as given (possibly several, space-separated).
    pub fn scope(&self) -> Option<&str> {
        self.params
            .get("scope")
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The scopes, split.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope()
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default()
    }

    /// The `error` parameter, e.g. `insufficient_scope`.
    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }
}

/// The first usable challenge among all `WWW-Authenticate` values: Bearer preferred, then Basic.
pub(crate) fn pick(values: &[&str]) -> Option<Challenge> {
    let all: Vec<Challenge> = values
        .iter()
        .flat_map(|v| Challenge::parse_all(v))
        .collect();
    all.iter()
        .find(|c| c.is_bearer())
        .or_else(|| all.iter().find(|c| c.is_basic()))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_bearer() {
        let h = r#"Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io",scope="repository:alpine:pull",error="insufficient_scope""#;
        let c = &Challenge::parse_all(h)[0];
        assert_eq!(c.service(), Some("r.azurecr.io"));
        assert_eq!(c.scope(), Some("repository:alpine:pull"));
        assert_eq!(c.error(), Some("insufficient_scope"));
    }

    #[test]
    fn commas_and_escapes_in_quotes_and_unquoted_values() {
        let h = r#"Bearer realm="https://a/t?x=1,2", service=svc , scope="repository:a:pull,push", note="say \"hi\"""#;
        let c = &Challenge::parse_all(h)[0];
        assert_eq!(c.realm(), Some("https://a/t?x=1,2"));
        assert_eq!(c.service(), Some("svc"));
        assert_eq!(c.scopes(), vec!["repository:a:pull,push"]);
        assert_eq!(c.params["note"], r#"say "hi""#);
    }

    #[test]
    fn basic_and_several_challenges() {
        let all = Challenge::parse_all(
            r#"Basic realm="Registry Realm", Bearer realm="https://x/t",service="x""#,
        );
        assert_eq!(all.len(), 2);
        assert!(all[0].is_basic());
        assert_eq!(all[0].realm(), Some("Registry Realm"));
        assert!(all[1].is_bearer());
        assert_eq!(
            pick(&[r#"Basic realm="r""#, r#"Bearer realm="https://x/t""#])
                .unwrap()
                .scheme,
            "bearer"
        );
        assert!(pick(&["garbage=1"]).is_none());
        assert!(Challenge::parse_all("").is_empty());
    }
}
