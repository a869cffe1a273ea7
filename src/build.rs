//! Artifacts for build scripts: [`fetch`] pulls an artifact's files into `OUT_DIR` through the
//! shared [cache](crate::cache), so a clean build does not download them again, and a build
//! without network (`CARGO_NET_OFFLINE=true`) still finds them.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let out_dir = std::env::var("OUT_DIR")?;
//!     let files = azcontainerregistry::build::fetch(
//!         "myregistry.azurecr.io/tools/protoc:25.1",
//!         &out_dir,
//!     )?;
//!     for f in &files {
//!         println!("cargo:rustc-env=PROTOC={}", f.display());
//!     }
//!     Ok(())
//! }
//! ```
//!
//! What [`fetch`] does, and the variables it reads (each printed as
//! `cargo:rerun-if-env-changed=NAME`, so that cargo runs the script again when one changes):
//!
//! - the reference names its registry: `https://HOST`, or `http://` for a loopback host
//!   (`localhost`, `127.0.0.1`, `[::1]`);
//! - it signs in with [`sign_in`], as `acr --auth auto` does: `ACR_USERNAME`/`ACR_PASSWORD` when
//!   both are set, else the Docker and containers credentials for the registry (`DOCKER_CONFIG`,
//!   `HOME`, `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`; credential helpers included), else for an
//!   Azure registry ([`is_azure_registry_host`](crate::is_azure_registry_host)) the Azure default
//!   chain (feature `azure`: environment, workload identity, managed identity, `az`), else
//!   anonymous;
//! - the cache is [`Cache::from_env`] (`AZCR_CACHE_DIR`, `XDG_CACHE_HOME`, `HOME`);
//! - `CARGO_NET_OFFLINE=true` in the environment (cargo's own offline switch, which build scripts
//!   inherit; `cargo build --offline` alone does not pass it on) makes it offline: a reference
//!   pinned by digest is served from the cache or fails naming the missing digest; one by tag uses
//!   the digest the cache recorded for the tag, and says so with a `cargo:warning`.

use std::path::{Path, PathBuf};

use crate::artifact::{PullOptions, pull};
use crate::cache::{CACHE_DIR_ENV, Cache};
use crate::client::Client;
use crate::credential::{Credential, DockerConfig};
use crate::error::{Error, Result};
use crate::options::ClientOptions;
use crate::reference::Reference;

/// The variables [`sign_in`] reads from the environment for basic sign-in.
pub const USERNAME_ENV: &str = "ACR_USERNAME";
/// See [`USERNAME_ENV`].
pub const PASSWORD_ENV: &str = "ACR_PASSWORD";
/// The variable that makes [`fetch`] offline when it is `true`.
pub const OFFLINE_ENV: &str = "CARGO_NET_OFFLINE";

/// The Azure chain's variables, printed for cargo when the chain may be used.
#[cfg(feature = "azure")]
const AZURE_VARS: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
];

/// Options of [`fetch_with`].
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Only layers of these media types (empty: all).
    pub media_types: Vec<String>,
    /// Only layers with these titles (empty: all).
    pub titles: Vec<String>,
    /// The cache; `None`: [`Cache::from_env`].
    pub cache: Option<Cache>,
    /// The credential; `None`: [`sign_in`].
    pub credential: Option<Credential>,
    /// Offline; `None`: `CARGO_NET_OFFLINE=true`.
    pub offline: Option<bool>,
    /// The client's options.
    pub client: ClientOptions,
}

/// Pulls the artifact `reference` (`registry/repository:tag` or `…@sha256:…`) into `out_dir`
/// through the shared cache, and returns the paths of its files. See the [module docs](self).
pub fn fetch(reference: &str, out_dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    fetch_with(reference, out_dir, FetchOptions::default())
}

/// [`fetch`] with options.
///
/// ```no_run
/// use azcontainerregistry::build::{FetchOptions, fetch_with};
/// let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| "out".into());
/// let options = FetchOptions {
///     titles: vec!["schema.json".into()],
///     ..Default::default()
/// };
/// let files = fetch_with("myregistry.azurecr.io/schemas/api:v3", &out_dir, options)?;
/// # let _ = files;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn fetch_with(
    reference: &str,
    out_dir: impl AsRef<Path>,
    options: FetchOptions,
) -> Result<Vec<PathBuf>> {
    let r = Reference::parse(reference)?;
    let Some(registry) = r.registry().map(str::to_string) else {
        return Err(Error::invalid(
            "reference",
            reference,
            "a build script's reference names its registry: registry/repository:tag",
        ));
    };
    let offline = match options.offline {
        Some(o) => o,
        None => {
            rerun_if_env_changed(OFFLINE_ENV);
            std::env::var(OFFLINE_ENV).is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
        }
    };
    let cache = match options.cache {
        Some(c) => c,
        None => {
            for var in [CACHE_DIR_ENV, "XDG_CACHE_HOME", "HOME"] {
                rerun_if_env_changed(var);
            }
            Cache::from_env()?
        }
    };
    let credential = match options.credential {
        Some(c) => c,
        None if offline => Credential::anonymous(), // nothing is sent
        None => sign_in(&registry),
    };
    let client = Client::new(&endpoint(&registry), credential, options.client)?;
    let pull_options = PullOptions {
        media_types: options.media_types,
        titles: options.titles,
        cache: Some(cache),
        offline,
        progress: None,
    };
    let report = pull(&client, reference, out_dir, pull_options)?;
    if let Some(record) = &report.from_tag_record {
        println!(
            "cargo:warning=offline: {reference} taken as {}, the digest the cache last recorded \
             for the tag",
            record.digest
        );
    }
    Ok(report.files.into_iter().map(|f| f.path).collect())
}

/// The variables [`DockerConfig::from_env`] reads to find its files.
const DOCKER_CONFIG_VARS: [&str; 4] = [
    "DOCKER_CONFIG",
    "HOME",
    "REGISTRY_AUTH_FILE",
    "XDG_RUNTIME_DIR",
];

/// The credential [`fetch`] signs in with at `registry` (`host[:port]`), in the order of the `acr`
/// tool's `--auth auto`: `ACR_USERNAME` and `ACR_PASSWORD` when both are set; else what Docker
/// and containers config files hold for the registry ([`DockerConfig::from_env`], credential
/// helpers included); else, for an Azure registry with feature `azure`, the Azure default chain;
/// else anonymous. Prints `cargo:rerun-if-env-changed` for what it reads.
pub fn sign_in(registry: &str) -> Credential {
    rerun_if_env_changed(USERNAME_ENV);
    rerun_if_env_changed(PASSWORD_ENV);
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(user), Some(password)) = (var(USERNAME_ENV), var(PASSWORD_ENV)) {
        return Credential::basic(user, password);
    }
    for v in DOCKER_CONFIG_VARS {
        rerun_if_env_changed(v);
    }
    match DockerConfig::from_env().find(registry) {
        Ok(Some(c)) => return c,
        Ok(None) => {}
        Err(e) => log::warn!("the Docker/containers credentials are unusable ({e}): skipped"),
    }
    #[cfg(feature = "azure")]
    if is_azure(registry) {
        for v in AZURE_VARS {
            rerun_if_env_changed(v);
        }
        match Credential::azure_default() {
            Ok(c) => return c,
            Err(e) => log::warn!("the Azure credential chain is unusable ({e}): anonymous"),
        }
    }
    let _ = registry;
    Credential::anonymous()
}

#[cfg(feature = "azure")]
fn is_azure(registry: &str) -> bool {
    crate::options::is_azure_registry_host(registry)
}

/// `http://` for a loopback registry, `https://` for every other.
fn endpoint(registry: &str) -> String {
    let host = match registry.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => registry,
    };
    let ipv4_loopback =
        host.starts_with("127.") && host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let loopback = matches!(host, "localhost" | "[::1]") || ipv4_loopback;
    let scheme = if loopback { "http" } else { "https" };
    format!("{scheme}://{registry}")
}

fn rerun_if_env_changed(var: &str) {
    println!("cargo:rerun-if-env-changed={var}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(endpoint("localhost"), "http://localhost");
        assert_eq!(endpoint("r.azurecr.io"), "https://r.azurecr.io");
        assert_eq!(endpoint("127.example.com"), "https://127.example.com");
    }
}
