//! Next-page links: `Link: </acr/v1/_catalog?last=x&n=2>; rel="next"`, resolved against the
//! endpoint and refused when they point at another origin.

use super::Url;
use crate::error::{Error, Result};
use crate::redact;

/// The `rel="next"` target of a `Link` header, resolved against `base`. `Ok(None)` when there is
/// none.
pub(crate) fn next_link(header: Option<&str>, base: &Url) -> Result<Option<Url>> {
    let Some(header) = header else {
        return Ok(None);
    };
    for part in split_links(header) {
        let part = part.trim();
        let Some(end) = part.find('>') else { continue };
        if !part.starts_with('<') {
            continue;
        }
        let target = &part[1..end];
        let is_next = part[end + 1..].split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .is_some_and(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
        });
        if !is_next {
            continue;
        }
        let url = base
            .join(target)
            .map_err(|e| Error::decode("Link header", e))?;
        if url.origin() != base.origin() {
            return Err(Error::Redirect {
                what: "next-page link",
                url: redact::url(url.as_str()),
                reason: "it points at another origin than the registry",
            });
        }
        return Ok(Some(url));
    }
    Ok(None)
}

fn split_links(h: &str) -> Vec<&str> {
    // commas may appear inside <...>; split only outside angle brackets
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in h.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&h[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&h[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_guards() {
        let base = Url::parse("https://r.azurecr.io/acr/v1/_catalog?n=2").unwrap();
        let n = next_link(
            Some(r#"</acr/v1/_catalog?last=a%2Fb&n=2&orderby=>; rel="next""#),
            &base,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            n.as_str(),
            "https://r.azurecr.io/acr/v1/_catalog?last=a%2Fb&n=2&orderby="
        );
        assert!(next_link(None, &base).unwrap().is_none());
        assert!(
            next_link(Some(r#"</x>; rel="prev""#), &base)
                .unwrap()
                .is_none()
        );
        let e = next_link(
            Some(r#"<https://evil.example/acr/v1/_catalog>; rel="next""#),
            &base,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Redirect { .. }), "{e}");
        let e = next_link(Some(r#"<http://r.azurecr.io/x>; rel="next""#), &base).unwrap_err();
        assert!(matches!(e, Error::Redirect { .. }));
        let two = r#"</p?a=1,2>; rel="prev", </n?x=1>; rel="next""#;
        assert_eq!(next_link(Some(two), &base).unwrap().unwrap().path(), "/n");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            /// A next link among others (in any position, with commas inside the brackets)
            /// resolves to its path and query on the registry's origin.
            #[test]
            fn next_links_round_trip(
                path in "(/[a-z0-9_-][a-z0-9_.-]{0,9}){1,4}",
                query in prop::option::of("[a-z]{1,5}=[a-z0-9%,]{0,10}(&[a-z]{1,5}=[a-z0-9,]{0,5})?"),
                others in prop::collection::vec(("(/[a-z,]{1,8})", "(prev|first|last)"), 0..3),
                at in 0usize..4,
                quoted in any::<bool>(),
            ) {
                let base = Url::parse("https://r.example/v2/_catalog?n=2").unwrap();
                let target = match &query {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                };
                let rel = if quoted { "\"next\"" } else { "next" };
                let mut parts: Vec<String> = others
                    .iter()
                    .map(|(p, r)| format!("<{p}>; rel=\"{r}\""))
                    .collect();
                parts.insert(at.min(parts.len()), format!("<{target}>; rel={rel}"));
                let header = parts.join(", ");
                let url = next_link(Some(&header), &base).unwrap().unwrap();
                prop_assert_eq!(url.origin(), base.origin());
                prop_assert_eq!(url.path(), path.as_str(), "{}", header);
                prop_assert_eq!(url.query(), query.as_deref(), "{}", header);
            }

            /// Any text: a link or none, never a panic, never another origin.
            #[test]
            fn any_link_text_is_safe(text in "\\PC{0,80}") {
                let base = Url::parse("https://r.example/v2/_catalog?n=2").unwrap();
                if let Ok(Some(url)) = next_link(Some(&text), &base) {
                    prop_assert_eq!(url.origin(), base.origin());
                }
            }
        }
    }
}
