//! Names: repositories, tags, digests and whole references (`registry/repo:tag@digest`).
//!
//! Every operation validates its names here before it sends anything, so a bad value is an
//! [`Error::InvalidInput`] naming the value and the rule, and never a request.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::{Error, Result};

const REPO_RULE: &str = "a repository name is lowercase path components [a-z0-9]+((.|_|__|-+)[a-z0-9]+)* joined by '/', at most 255 characters";
const TAG_RULE: &str = "a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}";

/// Checks a repository name against the distribution grammar.
///
/// ```
/// use azcontainerregistry::reference::validate_repository;
/// assert!(validate_repository("library/hello-world").is_ok());
/// assert!(validate_repository("Hello").is_err());
/// ```
pub fn validate_repository(name: &str) -> Result<()> {
    let bad = || Error::invalid("repository name", name, REPO_RULE);
    if name.is_empty() || name.len() > 255 {
        return Err(bad());
    }
    for component in name.split('/') {
        if !valid_component(component) {
            return Err(bad());
        }
    }
    Ok(())
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ ( (\.|_|__|-+) [a-z0-9]+ )*
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run: ".", "_", "__" or one or more "-"
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

/// Checks a tag against the distribution grammar.
///
/// ```
/// use azcontainerregistry::reference::validate_tag;
/// assert!(validate_tag("v1.0_rc-2").is_ok());
/// assert!(validate_tag(".hidden").is_err());
/// ```
pub fn validate_tag(tag: &str) -> Result<()> {
    let b = tag.as_bytes();
    let first_ok = b
        .first()
        .is_some_and(|&x| x.is_ascii_alphanumeric() || x == b'_');
    let rest_ok = b
        .iter()
        .skip(1)
        .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'_' | b'-'));
    if first_ok && rest_ok && b.len() <= 128 {
        Ok(())
    } else {
        Err(Error::invalid("tag", tag, TAG_RULE))
    }
}

/// A tag or a digest: what names a manifest within a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TagOrDigest {
    /// A tag such as `latest`.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl TagOrDigest {
    /// Parses a digest (anything with a `:`) or else a tag.
    ///
    /// ```
    /// use azcontainerregistry::reference::TagOrDigest;
    /// assert!(matches!(TagOrDigest::parse("latest")?, TagOrDigest::Tag(_)));
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self> {
        if s.contains(':') {
            Digest::parse(s).map(TagOrDigest::Digest)
        } else {
            validate_tag(s).map(|()| TagOrDigest::Tag(s.to_string()))
        }
    }

    /// The digest, when this is one.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            TagOrDigest::Digest(d) => Some(d),
            TagOrDigest::Tag(_) => None,
        }
    }

    /// The text as it goes into a URL path.
    pub fn as_str(&self) -> &str {
        match self {
            TagOrDigest::Tag(t) => t,
            TagOrDigest::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for TagOrDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for TagOrDigest {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<Digest> for TagOrDigest {
    fn from(d: Digest) -> Self {
        TagOrDigest::Digest(d)
    }
}

/// A full image reference: `[registry/]repository[:tag][@digest]`.
///
/// The registry part is present when the first path component contains a `.` or a `:`, or is
/// `localhost`, as Docker decides it.
///
/// ```
/// use azcontainerregistry::Reference;
/// let r: Reference = "myregistry.azurecr.io/team/app:v1".parse()?;
/// assert_eq!(r.registry(), Some("myregistry.azurecr.io"));
/// assert_eq!(r.repository(), "team/app");
/// assert_eq!(r.tag(), Some("v1"));
/// let local: Reference =
///     "hello@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".parse()?;
/// assert!(local.digest().is_some());
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and validates a reference.
    pub fn parse(s: &str) -> Result<Self> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d)?)),
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_string()), path)
            }
            _ => (None, rest),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => (&path[..last_slash + i], Some(&path[last_slash + i + 1..])),
            None => (path, None),
        };
        validate_repository(repository)?;
        if let Some(t) = tag {
            validate_tag(t)?;
        }
        if let Some(reg) = &registry
            && (reg.is_empty() || reg.contains(char::is_whitespace))
        {
            return Err(Error::invalid(
                "registry",
                reg.as_str(),
                "a registry is host[:port]",
            ));
        }
        Ok(Reference {
            registry,
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// A reference with no registry part.
    pub fn new(repository: &str, reference: TagOrDigest) -> Result<Self> {
        validate_repository(repository)?;
        let (tag, digest) = match reference {
            TagOrDigest::Tag(t) => (Some(t), None),
            TagOrDigest::Digest(d) => (None, Some(d)),
        };
        Ok(Reference {
            registry: None,
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// The registry host, when one was given.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The repository.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What names the manifest: the digest when there is one (it is exact), else the tag, else
    /// `latest`.
    pub fn tag_or_digest(&self) -> TagOrDigest {
        match (&self.digest, &self.tag) {
            (Some(d), _) => TagOrDigest::Digest(d.clone()),
            (None, Some(t)) => TagOrDigest::Tag(t.clone()),
            (None, None) => TagOrDigest::Tag("latest".to_string()),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        for ok in [
            "a",
            "hello-world",
            "library/ubuntu",
            "a.b_c__d---e/f0",
            "x/y/z",
            "0",
        ] {
            assert!(validate_repository(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(256);
        for bad in [
            "", "A", "a/", "/a", "a//b", "a..b", "a___b", "-a", "a-", "a b", "a:b", &long, "a._b",
        ] {
            let e = validate_repository(bad).unwrap_err();
            assert!(e.to_string().contains("repository name"), "{bad}: {e}");
        }
    }

    #[test]
    fn tags() {
        assert!(validate_tag("latest").is_ok());
        assert!(validate_tag("_x").is_ok());
        assert!(validate_tag(&"a".repeat(128)).is_ok());
        for bad in ["", "-x", ".x", "a/b", "a:b", &"a".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references() {
        let r = Reference::parse("localhost:5000/a/b:v1").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            (Some("localhost:5000"), "a/b", Some("v1"))
        );
        let r = Reference::parse("a/b").unwrap();
        assert_eq!((r.registry(), r.repository(), r.tag()), (None, "a/b", None));
        assert_eq!(r.tag_or_digest(), TagOrDigest::Tag("latest".into()));
        let d = Digest::of(b"x");
        let r = Reference::parse(&format!("r.io/a:t@{d}")).unwrap();
        assert_eq!(r.tag_or_digest(), TagOrDigest::Digest(d.clone()));
        assert_eq!(r.to_string(), format!("r.io/a:t@{d}"));
        assert!(Reference::parse("A/b").is_err());
        assert!(Reference::parse("a@sha256:zz").is_err());
    }
}
