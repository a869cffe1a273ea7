//! What to purge: [`RetentionPolicy`], its repository/tag [`Filter`]s, and the choices for untagged
//! manifests and for the registry's API.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use regex_lite::Regex;

use crate::error::{Error, Result};
use crate::models::Timestamp;

/// The acr-cli `--filter REPO:TAG` pair: two regular expressions, each matched against the WHOLE
/// repository name or tag (as if written `^(?:…)$`, the way acr-cli anchors them), so `app:v1`
/// matches the tag `v1` only, not `v10`; write `app:v1.*` for a prefix. An explicit `^` or `$`
/// changes nothing. The syntax is `regex-lite`'s (Perl-like, without Unicode classes).
///
/// ```
/// use azcontainerregistry::purge::Filter;
/// let f: Filter = "samples/.*:v1\\..*".parse()?;
/// assert!(f.matches_repository("samples/hello"));
/// assert!(f.matches_tag("v1.2"));
/// assert!(!f.matches_tag("xv1.2"));
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone)]
pub struct Filter {
    repository: Regex,
    tag: Regex,
    text: String,
}

impl Filter {
    /// A filter of repository names matching `repository` and tags matching `tag` (both whole).
    pub fn new(repository: &str, tag: &str) -> Result<Filter> {
        Ok(Filter {
            repository: anchored("repository regular expression", repository)?,
            tag: anchored("tag regular expression", tag)?,
            text: format!("{repository}:{tag}"),
        })
    }

    /// Whether the whole repository name matches.
    pub fn matches_repository(&self, name: &str) -> bool {
        self.repository.is_match(name)
    }

    /// Whether the whole tag matches.
    pub fn matches_tag(&self, tag: &str) -> bool {
        self.tag.is_match(tag)
    }

    /// The filter as written, `REPO:TAG`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn anchored(what: &'static str, pattern: &str) -> Result<Regex> {
    if pattern.is_empty() {
        return Err(Error::invalid(
            what,
            pattern,
            "it is empty; write .* to match everything",
        ));
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| Error::invalid(what, pattern, e.to_string()))
}

impl FromStr for Filter {
    type Err = Error;
    /// Reads `REPO:TAG`, split at the first `:` (repository names hold none).
    fn from_str(s: &str) -> Result<Filter> {
        match s.split_once(':') {
            Some((repo, tag)) => Filter::new(repo, tag),
            None => Err(Error::invalid(
                "filter",
                s,
                "a filter is REPOSITORY-REGEX:TAG-REGEX, e.g. 'hello-world:.*' or 'samples/.*:^v1'",
            )),
        }
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.text).finish()
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What to do with manifests that have no tag (acr-cli's `--untagged` and `--untagged-only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Untagged {
    /// Leave them (the default): only tags are purged.
    #[default]
    Skip,
    /// Also delete manifests left without a tag (before, or by this purge), older than
    /// [`RetentionPolicy::older_than`].
    Also,
    /// Delete only untagged manifests; tags are left alone.
    Only,
}

/// Which API the registry is read and purged through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryKind {
    /// ACR's when the registry is ACR ([`Client::is_acr`](crate::Client::is_acr): by host name,
    /// Azure AD sign-in or the registry's challenge), the OCI one elsewhere.
    #[default]
    Auto,
    /// Azure Container Registry's `/acr/v1`: times, locks, a manifest listing, tag deletion.
    Acr,
    /// The OCI distribution API of every registry: ages from image configs, no locks, no listing
    /// of untagged manifests, and a tag goes only with its manifest.
    Oci,
}

impl RegistryKind {
    /// `Acr` or `Oci` for a client's endpoint, resolving `Auto` by the host name only (`plan`
    /// resolves it with [`Client::is_acr`](crate::Client::is_acr), which also recognises custom
    /// domains).
    pub fn resolve(self, endpoint: &str) -> RegistryKind {
        match self {
            RegistryKind::Auto => {
                if crate::options::is_azure_registry_host(endpoint) {
                    RegistryKind::Acr
                } else {
                    RegistryKind::Oci
                }
            }
            other => other,
        }
    }
}

/// What a purge keeps and deletes. Build it with `..Default::default()`; the default matches
/// nothing (no filter), so a default policy plans no deletion.
///
/// ```
/// use std::time::Duration;
/// use azcontainerregistry::purge::{RetentionPolicy, Untagged};
/// let policy = RetentionPolicy {
///     filters: vec!["app/.*:.*".parse()?],
///     older_than: Some(Duration::from_secs(30 * 86_400)),
///     keep: 5,
///     untagged: Untagged::Also,
///     max_deletes: Some(500),
///     ..Default::default()
/// };
/// # let _ = policy;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicy {
    /// Which repositories and tags (acr-cli `--filter`, repeatable): a tag is a candidate when one
    /// filter matches both its repository and it.
    pub filters: Vec<Filter>,
    /// Only what was last updated longer ago than this (acr-cli `--ago`); `None` or zero: any
    /// age (and entries without a time are candidates too).
    pub older_than: Option<Duration>,
    /// Keep the newest `keep` candidates of each repository (acr-cli `--keep`).
    pub keep: usize,
    /// Untagged manifests (acr-cli `--untagged`, `--untagged-only`).
    pub untagged: Untagged,
    /// Also delete locked items (delete or write disabled), unlocking them first (acr-cli
    /// `--include-locked`; ACR only).
    pub include_locked: bool,
    /// Also delete the referrers (signatures, SBOMs, …) of deleted manifests; otherwise they are
    /// kept and reported.
    pub include_referrers: bool,
    /// Refuse to apply a plan with more deletions than this.
    pub max_deletes: Option<usize>,
    /// Which API to use.
    pub registry: RegistryKind,
    /// The time ages are measured from; `None`: now.
    pub now: Option<Timestamp>,
}

impl RetentionPolicy {
    /// The filters that match repository `name`.
    pub(crate) fn filters_for(&self, name: &str) -> Vec<&Filter> {
        self.filters
            .iter()
            .filter(|f| f.matches_repository(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_whole_names() {
        let f: Filter = "hello:v1".parse().unwrap();
        assert!(f.matches_repository("hello") && !f.matches_repository("hello-world"));
        assert!(f.matches_tag("v1") && !f.matches_tag("v10") && !f.matches_tag("av1"));
        let f: Filter = "a|b:^1.*$".parse().unwrap();
        assert!(f.matches_repository("a") && f.matches_repository("b"));
        assert!(!f.matches_repository("ab"));
        assert!(f.matches_tag("1.0") && !f.matches_tag("x1.0"));
        // split at the first colon: the tag pattern may hold one
        let f: Filter = "r:(?:x)".parse().unwrap();
        assert!(f.matches_tag("x"));
        assert!("nocolon".parse::<Filter>().is_err());
        assert!("r:(".parse::<Filter>().is_err());
        assert!(":x".parse::<Filter>().is_err());
    }

    #[test]
    fn registry_kind_from_endpoint() {
        use RegistryKind::*;
        assert_eq!(Auto.resolve("https://r.azurecr.io"), Acr);
        assert_eq!(Auto.resolve("https://R.AzureCR.cn:443/"), Acr);
        assert_eq!(Auto.resolve("http://127.0.0.1:5000"), Oci);
        assert_eq!(Auto.resolve("https://azurecr.io.evil.example"), Oci);
        assert_eq!(Oci.resolve("https://r.azurecr.io"), Oci);
    }
}
