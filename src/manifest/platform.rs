//! [`Platform`]: the operating system, architecture and variant an image runs on, as indexes list
//! them, with the aliases Docker and containerd accept when matching.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::json::null_as_empty;

/// The platform an image runs on: `linux/amd64`, `linux/arm64/v8`, `windows/amd64` with an OS
/// version…
///
/// ```
/// use azcontainerregistry::Platform;
/// let wanted = Platform::parse("linux/arm64")?;
/// assert!(wanted.matches(&Platform::parse("linux/arm64/v8")?)); // no variant asked: any variant
/// assert!(!Platform::parse("linux/arm/v7")?.matches(&Platform::parse("linux/arm/v6")?));
/// assert_eq!(Platform::parse("Linux/x86_64")?.to_string(), "linux/amd64");
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Platform {
    /// The CPU architecture, as in Go's `GOARCH` (`amd64`, `arm64`, `arm`, `386`, `ppc64le`,
    /// `s390x`…).
    #[serde(default)]
    pub architecture: String,
    /// The operating system, as in Go's `GOOS` (`linux`, `windows`…).
    #[serde(default)]
    pub os: String,
    /// The OS version (`os.version`), e.g. `10.0.17763.1879` for Windows.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features (`os.features`), e.g. `win32k`.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// The CPU variant (`variant`), e.g. `v7` for `arm`, `v8` for `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Required CPU features (`features`; reserved by OCI).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub features: Vec<String>,
}

const PLATFORM_RULE: &str =
    "a platform is os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8";

impl Platform {
    /// A platform with an OS and architecture and nothing else.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            ..Default::default()
        }
    }

    /// Parses `os/arch[/variant]`, as `docker --platform` takes it. The parts are lowercased and
    /// the common aliases normalised: `x86_64`/`x86-64` → `amd64`, `aarch64` → `arm64`,
    /// `i386`/`i686` → `386`, `armhf` → `arm/v7`, `armel` → `arm/v6`, and a bare `arm` variant
    /// number such as `7` → `v7`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::invalid("platform", s, PLATFORM_RULE);
        let parts: Vec<&str> = s.trim().split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(bad()),
        };
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        if !ok(os) || !ok(arch) || variant.is_some_and(|v| !ok(v)) {
            return Err(bad());
        }
        let (architecture, implied) = normalize_arch(&arch.to_ascii_lowercase());
        let variant = variant.map(normalize_variant).or(implied);
        Ok(Platform {
            os: os.to_ascii_lowercase(),
            architecture,
            variant,
            ..Default::default()
        })
    }

    /// True when this names no variant, or its architecture's default one (`arm64` is `v8`).
    pub(crate) fn is_plain(&self) -> bool {
        let arch = normalize_arch(&self.architecture.to_ascii_lowercase()).0;
        match &self.variant {
            None => true,
            Some(v) => default_variant(&arch) == Some(normalize_variant(v).as_str()),
        }
    }

    /// Whether an image for `candidate` satisfies a request for `self`.
    ///
    /// OS and architecture must be equal (ignoring case and the aliases [`Platform::parse`] knows).
    /// The variant is matched only when `self` names one, with `arm64` and `arm64/v8` taken as
    /// the same. The OS version is matched only when `self` names one. Features are not
    /// compared.
    pub fn matches(&self, candidate: &Platform) -> bool {
        let (arch, implied) = normalize_arch(&self.architecture.to_ascii_lowercase());
        let (other_arch, other_implied) =
            normalize_arch(&candidate.architecture.to_ascii_lowercase());
        if !self.os.eq_ignore_ascii_case(&candidate.os) || arch != other_arch {
            return false;
        }
        let wanted_variant = self.variant.as_deref().map(normalize_variant).or(implied);
        if let Some(wanted) = wanted_variant {
            let have = candidate
                .variant
                .as_deref()
                .map(normalize_variant)
                .or(other_implied);
            let default = default_variant(&arch);
            let same = match &have {
                Some(h) => h.eq_ignore_ascii_case(&wanted),
                None => default == Some(wanted.as_str()),
            };
            if !same {
                return false;
            }
        }
        match &self.os_version {
            Some(v) => candidate.os_version.as_deref() == Some(v.as_str()),
            None => true,
        }
    }
}

/// The architecture's canonical name, and the variant an alias implies.
fn normalize_arch(arch: &str) -> (String, Option<String>) {
    match arch {
        "x86_64" | "x86-64" => ("amd64".into(), None),
        "aarch64" => ("arm64".into(), None),
        "i386" | "i686" => ("386".into(), None),
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        other => (other.to_string(), None),
    }
}

fn normalize_variant(v: &str) -> String {
    let v = v.to_ascii_lowercase();
    if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() {
        format!("v{v}")
    } else {
        v
    }
}

/// The variant a platform without one is taken to have.
fn default_variant(arch: &str) -> Option<&'static str> {
    match arch {
        "arm64" => Some("v8"),
        _ => None,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_parsing() {
        let p = Platform::parse("linux/amd64").unwrap();
        assert_eq!(p, Platform::new("linux", "amd64"));
        assert_eq!(p.to_string(), "linux/amd64");
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            Platform::parse("linux/arm/7").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse("LINUX/AARCH64").unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            Platform::parse("linux/armhf").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse("linux/armel").unwrap().to_string(),
            "linux/arm/v6"
        );
        assert_eq!(
            Platform::parse("linux/i386").unwrap().to_string(),
            "linux/386"
        );
        assert_eq!(
            Platform::parse(" linux/ppc64le ").unwrap().to_string(),
            "linux/ppc64le"
        );
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/",
            "a/b/c/d",
            "linux/amd 64",
            "linux//v7",
        ] {
            match Platform::parse(bad) {
                Err(Error::InvalidInput { what, .. }) => assert_eq!(what, "platform"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn platform_matching() {
        let p = |s: &str| Platform::parse(s).unwrap();
        assert!(p("linux/amd64").matches(&p("linux/amd64")));
        assert!(!p("linux/amd64").matches(&p("windows/amd64")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        // variant optional on the wanted side
        assert!(p("linux/arm").matches(&p("linux/arm/v6")));
        assert!(p("linux/arm").matches(&p("linux/arm/v7")));
        assert!(p("linux/arm/v7").matches(&p("linux/arm/v7")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm/v6")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm")));
        // arm64 defaults to v8
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(!p("linux/arm64/v9").matches(&p("linux/arm64")));
        // aliases and case, also in hand-built platforms from an index
        assert!(p("linux/amd64").matches(&Platform::new("Linux", "x86_64")));
        assert!(Platform::new("linux", "armhf").matches(&p("linux/arm/v7")));
        let mut v7 = Platform::new("linux", "arm");
        v7.variant = Some("V7".into());
        assert!(p("linux/arm/7").matches(&v7));
        // OS version only when asked
        let mut win = p("windows/amd64");
        let mut img = win.clone();
        img.os_version = Some("10.0.17763.5576".into());
        assert!(win.matches(&img));
        win.os_version = Some("10.0.20348.1".into());
        assert!(!win.matches(&img));
        // features are ignored
        img.os_features = vec!["win32k".into()];
        assert!(p("windows/amd64").matches(&img));
    }

    #[test]
    fn platform_serde_names() {
        let mut p = Platform::parse("windows/amd64").unwrap();
        p.os_version = Some("10.0".into());
        p.os_features = vec!["win32k".into()];
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"architecture":"amd64","os":"windows","os.version":"10.0","os.features":["win32k"]}"#
        );
    }
}
