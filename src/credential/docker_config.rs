//! The credentials `docker login`, `podman login`, `az acr login`, `oras login` and
//! `crane auth login` leave behind: Docker's `config.json` and the containers `auth.json`, with
//! their credential helpers ([`DockerConfig`], [`Credential::docker_config`]).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::helper::{DEFAULT_HELPER_TIMEOUT, Helper};
use super::{Credential, Kind, NULL_GUID, Resolve};
use crate::error::{Error, Result};
use crate::http::Url;

/// Config files are read up to this size.
const FILE_LIMIT: u64 = 4 * 1024 * 1024;
/// Docker Hub's key in config files.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// The hosts that are Docker Hub.
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// Where registry credentials are looked up: Docker and containers config files, in order, and
/// the credential helpers they name.
///
/// For a registry, each file is read in turn (missing files are skipped) and the first that has
/// something for it wins. In a file: the `credHelpers` helper for the host, then the `credsStore`
/// helper, then the `auths` entry. An entry matches when its key is the registry's `host[:port]`
/// or becomes it once a scheme and a path are removed (`https://host`, `https://host/v1/`); Docker
/// Hub's hosts (`docker.io`, `index.docker.io`, `registry-1.docker.io`) share its entry
/// `https://index.docker.io/v1/`.
///
/// | entry | credential |
/// |---|---|
/// | `"auth": base64("user:password")` | [`Credential::basic`] |
/// | `"username"`, `"password"` | [`Credential::basic`] |
/// | `"identitytoken"` (`az acr login`: an ACR refresh token) | [`Credential::identity_token`] |
/// | `"registrytoken"` | [`Credential::registry_token`] |
/// | helper answer with `Username` `<token>` | [`Credential::identity_token`] |
/// | other helper answer | [`Credential::basic`] |
///
/// Helpers (`docker-credential-NAME get`) are given 30 seconds by default
/// ([`DockerConfig::helper_timeout`]); one that takes longer is ended with its process group.
///
/// ```no_run
/// use azcontainerregistry::credential::DockerConfig;
/// let config = DockerConfig::from_env();
/// match config.find("myregistry.azurecr.io")? {
///     Some(credential) => println!("signed in: {credential:?}"),
///     None => println!("no credentials for it"),
/// }
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone)]
pub struct DockerConfig {
    files: Vec<PathBuf>,
    helper_timeout: Duration,
}

impl fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerConfig")
            .field("files", &self.files)
            .field("helper_timeout", &self.helper_timeout)
            .finish()
    }
}

#[derive(serde::Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct Entry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl Entry {
    /// The credential of this entry (`path` and `key` name it in errors).
    fn credential(&self, path: &Path, key: &str) -> Result<Option<Credential>> {
        let decoded = match nonempty(&self.auth) {
            Some(auth) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .map_err(|_| bad_file(path, &format!("auths[{key:?}].auth is not base64")))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| bad_file(path, &format!("auths[{key:?}].auth is not UTF-8")))?;
                let (user, pass) = text.split_once(':').ok_or_else(|| {
                    bad_file(path, &format!("auths[{key:?}].auth is not user:password"))
                })?;
                Some((user.to_string(), pass.to_string()))
            }
            None => None,
        };
        let username = nonempty(&self.username)
            .map(str::to_string)
            .or_else(|| decoded.as_ref().map(|(u, _)| u.clone()))
            .filter(|u| !u.is_empty());
        if let Some(token) = nonempty(&self.identitytoken) {
            let user = username.unwrap_or_else(|| NULL_GUID.to_string());
            return Ok(Some(Credential::identity_token_for(user, token)));
        }
        if let Some(token) = nonempty(&self.registrytoken) {
            return Ok(Some(Credential::registry_token(token)));
        }
        let password = nonempty(&self.password)
            .map(str::to_string)
            .or_else(|| decoded.map(|(_, p)| p))
            .filter(|p| !p.is_empty());
        Ok(match (username, password) {
            (Some(u), Some(p)) => Some(Credential::basic(u, p)),
            _ => None,
        })
    }
}

fn bad_file(path: &Path, what: &str) -> Error {
    Error::Config(format!("{}: {what}", path.display()))
}

/// `host[:port]` of a config key: `https://host/v1/` → `host`.
fn key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or("").to_ascii_lowercase()
}

fn is_docker_hub(authority: &str) -> bool {
    DOCKER_HUB_HOSTS.contains(&authority)
}

/// Whether the config key `key` is for the registry `authority`.
fn key_matches(key: &str, authority: &str) -> bool {
    let host = key_host(key);
    host == authority || (is_docker_hub(authority) && is_docker_hub(&host))
}

/// The registry's `host[:port]` from a URL or a bare `host[:port]`.
fn authority_of(registry: &str) -> Result<String> {
    let text = if registry.contains("://") {
        registry.to_string()
    } else {
        format!("https://{registry}")
    };
    let url = Url::parse(&text)
        .map_err(|e| Error::invalid("registry", registry, format!("a URL or host[:port] ({e})")))?;
    Ok(url.authority())
}

/// The name the registry is stored under: its `host[:port]`, Docker Hub's historical URL.
fn server_name(authority: &str) -> String {
    if is_docker_hub(authority) {
        DOCKER_HUB_KEY.to_string()
    } else {
        authority.to_string()
    }
}

fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad_file(path, &format!("cannot be read: {e}"))),
    };
    let mut bytes = Vec::new();
    file.take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad_file(path, &format!("cannot be read: {e}")))?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(bad_file(
            path,
            &format!("is larger than {FILE_LIMIT} bytes"),
        ));
    }
    Ok(Some(bytes))
}

/// What [`DockerConfig::store`] and [`DockerConfig::erase`] went through.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Store {
    /// The config file itself.
    File(PathBuf),
    /// The credential helper `docker-credential-NAME`.
    Helper(String),
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::File(p) => write!(f, "{}", p.display()),
            Store::Helper(name) => write!(f, "docker-credential-{name}"),
        }
    }
}

impl DockerConfig {
    /// The standard files, from the environment: `$DOCKER_CONFIG/config.json` (else
    /// `~/.docker/config.json`), then `$REGISTRY_AUTH_FILE`,
    /// `$XDG_RUNTIME_DIR/containers/auth.json` and `~/.config/containers/auth.json`.
    pub fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME");
        let mut files = Vec::new();
        match var("DOCKER_CONFIG") {
            Some(dir) => files.push(dir.join("config.json")),
            None => files.extend(home.as_ref().map(|h| h.join(".docker").join("config.json"))),
        }
        files.extend(var("REGISTRY_AUTH_FILE"));
        files.extend(var("XDG_RUNTIME_DIR").map(|d| d.join("containers").join("auth.json")));
        files.extend(home.map(|h| h.join(".config").join("containers").join("auth.json")));
        DockerConfig {
            files,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// Only the file at `path` (Docker's `config.json` format; a containers `auth.json` is the
    /// same).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        DockerConfig {
            files: vec![path.into()],
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// How long a credential helper may run (default 30 seconds).
    pub fn helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The files looked at, in order. The first is the one [`DockerConfig::store`] writes.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The credential for `registry` (a URL or `host[:port]`), `None` when no file has one. Runs
    /// a credential helper when a file names one for it.
    pub fn find(&self, registry: &str) -> Result<Option<Credential>> {
        let authority = authority_of(registry)?;
        for path in &self.files {
            let Some(bytes) = read_bounded(path)? else {
                continue;
            };
            let file: ConfigFile = serde_json::from_slice(&bytes)
                .map_err(|e| bad_file(path, &format!("is not a Docker config file: {e}")))?;
            if let Some(c) = self.find_in(path, &file, &authority)? {
                log::debug!("credentials for {authority} from {}", path.display());
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn find_in(
        &self,
        path: &Path,
        file: &ConfigFile,
        authority: &str,
    ) -> Result<Option<Credential>> {
        let server = server_name(authority);
        for helper in helpers_of(file, authority) {
            if let Some(found) = Helper::new(&helper, self.helper_timeout).get(&server)? {
                return Ok(Some(if found.username == "<token>" {
                    Credential::identity_token(found.secret)
                } else {
                    Credential::basic(found.username, found.secret)
                }));
            }
        }
        // the exact key first, then keys that become it
        let exact = file
            .auths
            .get(authority)
            .or_else(|| file.auths.get(&server));
        let entries = exact.map(|e| (authority.to_string(), e)).into_iter().chain(
            file.auths
                .iter()
                .filter(|(k, _)| key_matches(k, authority))
                .map(|(k, e)| (k.clone(), e)),
        );
        for (key, entry) in entries {
            if let Some(c) = entry.credential(path, &key)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Stores `credential` for `registry` the way `docker login` does: through the file's
    /// `credHelpers` helper for the host or its `credsStore` when one is set, in its `auths`
    /// otherwise. The file (the first of [`DockerConfig::files`]) is rewritten atomically with mode
    /// 0600; its other keys and entries are kept. Takes a username and password
    /// ([`Credential::basic`]) or an identity token ([`Credential::identity_token`]).
    pub fn store(&self, registry: &str, credential: &Credential) -> Result<Store> {
        let (username, secret, identity) = match credential.kind() {
            Kind::Basic { username, password } => (username.as_str(), password, false),
            Kind::IdentityToken { username, token } => (username.as_str(), token, true),
            _ => {
                return Err(Error::Config(
                    "only a username and password or an identity token can be stored".into(),
                ));
            }
        };
        let authority = authority_of(registry)?;
        let server = server_name(&authority);
        let path = self.write_target()?;
        let mut root = read_object(&path)?;
        let helper = helpers_of(&parse_lenient(&root), &authority)
            .into_iter()
            .next();
        let entry = match &helper {
            Some(name) => {
                let user = if identity { "<token>" } else { username };
                Helper::new(name, self.helper_timeout).store(&server, user, secret)?;
                Value::Object(Map::new())
            }
            None => {
                let raw = if identity {
                    format!("{username}:")
                } else {
                    format!("{username}:{}", secret.expose())
                };
                let mut e = Map::new();
                let auth = base64::engine::general_purpose::STANDARD.encode(raw);
                e.insert("auth".into(), Value::String(auth));
                if identity {
                    e.insert(
                        "identitytoken".into(),
                        Value::String(secret.expose().into()),
                    );
                }
                Value::Object(e)
            }
        };
        let auths = auths_of(&mut root, &path)?;
        auths.retain(|k, _| !key_matches(k, &authority));
        auths.insert(server, entry);
        write_object(&path, &root)?;
        Ok(match helper {
            Some(name) => Store::Helper(name),
            None => Store::File(path),
        })
    }

    /// Removes what is stored for `registry`, as `docker logout` does: from the helper the file
    /// names for it, and every matching `auths` entry (other entries and keys are kept). `None`
    /// when nothing was stored.
    pub fn erase(&self, registry: &str) -> Result<Option<Store>> {
        let authority = authority_of(registry)?;
        let path = self.write_target()?;
        let Some(_) = read_bounded(&path)? else {
            return Ok(None);
        };
        let mut root = read_object(&path)?;
        let mut erased = None;
        if let Some(name) = helpers_of(&parse_lenient(&root), &authority)
            .into_iter()
            .next()
            && Helper::new(&name, self.helper_timeout).erase(&server_name(&authority))?
        {
            erased = Some(Store::Helper(name));
        }
        let auths = auths_of(&mut root, &path)?;
        let before = auths.len();
        auths.retain(|k, _| !key_matches(k, &authority));
        if auths.len() != before {
            write_object(&path, &root)?;
            erased = erased.or(Some(Store::File(path)));
        }
        Ok(erased)
    }

    fn write_target(&self) -> Result<PathBuf> {
        self.files.first().cloned().ok_or_else(|| {
            Error::Config("no Docker config file: set DOCKER_CONFIG or HOME".to_string())
        })
    }
}

/// The helpers a file names for `authority`: its `credHelpers` entry, then `credsStore`.
fn helpers_of(file: &ConfigFile, authority: &str) -> Vec<String> {
    let specific = file
        .cred_helpers
        .get(authority)
        .or_else(|| {
            file.cred_helpers
                .iter()
                .find(|(k, _)| key_matches(k, authority))
                .map(|(_, v)| v)
        })
        .filter(|h| !h.is_empty());
    specific
        .into_iter()
        .chain(file.creds_store.as_ref().filter(|h| !h.is_empty()))
        .cloned()
        .collect()
}

fn parse_lenient(root: &Map<String, Value>) -> ConfigFile {
    let text = |k: &str| root.get(k).and_then(Value::as_str).map(str::to_string);
    let cred_helpers = root
        .get("credHelpers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    ConfigFile {
        auths: BTreeMap::new(),
        creds_store: text("credsStore"),
        cred_helpers,
    }
}

fn read_object(path: &Path) -> Result<Map<String, Value>> {
    match read_bounded(path)? {
        None => Ok(Map::new()),
        Some(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Some(bytes) => match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(bad_file(path, "is not a JSON object")),
            Err(e) => Err(bad_file(path, &format!("is not JSON: {e}"))),
        },
    }
}

fn auths_of<'a>(
    root: &'a mut Map<String, Value>,
    path: &Path,
) -> Result<&'a mut Map<String, Value>> {
    root.entry("auths")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| bad_file(path, "its \"auths\" is not an object"))
}

/// Writes the config atomically, private to its owner (mode 0600), creating its directory.
fn write_object(path: &Path, root: &Map<String, Value>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut bytes = serde_json::to_vec_pretty(root)
        .map_err(|e| Error::Config(format!("cannot encode {}: {e}", path.display())))?;
    bytes.push(b'\n');
    crate::atomic_file::write_with(path, "Docker config file", |file| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&bytes)?;
        Ok(bytes.len() as u64)
    })?;
    Ok(())
}

impl Resolve for DockerConfig {
    fn resolve(&self, registry: &Url) -> Result<Credential> {
        Ok(self
            .find(registry.as_str())?
            .unwrap_or_else(Credential::anonymous))
    }
}

/// Credentials from Docker and containers config files.
impl Credential {
    /// The credential `docker login`, `podman login` or `az acr login` stored for the client's
    /// registry, looked up in the standard files ([`DockerConfig::from_env`]) when the client first
    /// needs it; anonymous when none has one.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::docker_config(),
    ///     ClientOptions::default(),
    /// )?;
    /// # let _ = client;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn docker_config() -> Self {
        Credential::from_config(DockerConfig::from_env())
    }

    /// Like [`Credential::docker_config`], from the one file at `path`.
    pub fn docker_config_at(path: impl Into<PathBuf>) -> Self {
        Credential::from_config(DockerConfig::at(path))
    }

    /// The credential a [`DockerConfig`] holds for the client's registry, looked up when the
    /// client first needs it.
    pub fn from_config(config: DockerConfig) -> Self {
        Credential::resolved_later(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_way_docker_matches_them() {
        for key in [
            "r.io:5000",
            "https://r.io:5000",
            "http://r.io:5000/v1/",
            "R.IO:5000",
        ] {
            assert!(key_matches(key, "r.io:5000"), "{key}");
        }
        for key in ["r.io", "r.io:5001", "https://other.io:5000", "r.io:50000"] {
            assert!(!key_matches(key, "r.io:5000"), "{key}");
        }
        for host in DOCKER_HUB_HOSTS {
            assert!(key_matches(DOCKER_HUB_KEY, host));
            assert_eq!(server_name(host), DOCKER_HUB_KEY);
        }
        assert_eq!(
            authority_of("http://127.0.0.1:5000/").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(authority_of("https://r.io:443").unwrap(), "r.io");
        assert_eq!(authority_of("r.io").unwrap(), "r.io");
    }
}
