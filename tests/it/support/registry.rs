//! A real CNCF distribution registry (Debian `docker-registry` 2.8.2) for integration tests.
//!
//! ```ignore
//! let reg = Registry::start();                                  // no auth
//! let reg = Registry::with_htpasswd("alice", "s3cret");         // Basic
//! let reg = Registry::with_token_auth();                        // Bearer, issuer in this process
//! let reg = Registry::builder().relative_urls(true).token_auth_basic("u", "p").start();
//! reg.url();          // "http://127.0.0.1:PORT"
//! reg.token_issuer(); // counts token requests
//! ```
//!
//! The registry listens on 127.0.0.1 only, stores into its own temporary directory, logs at error
//! level (stdout+stderr captured to `<tempdir>/registry.log`, printed on drop when the test panics)
//! and is killed by its PID on drop.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http::{self, RawResponse};
use super::token_issuer::{TokenIssuer, TokenIssuerConfig};

/// `application/vnd.oci.image.manifest.v1+json`
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What [`Registry::push_test_image`] pushed.
#[derive(Clone, Debug)]
pub struct TestImage {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layer: Vec<u8>,
    pub layer_digest: String,
}

const REGISTRY_BIN: &str = "docker-registry";
const REGISTRY_PKG: &str = "docker-registry";
const START_ATTEMPTS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Finds `name` on `PATH` (or as an absolute path) or panics with the install hint
/// `apt-get install -y <debian_pkg>`. Never skips silently: a missing tool fails the test, under CI
/// (env `CI` set; the project's scripts/test installs it) and by hand alike.
pub fn require_tool(name: &str, debian_pkg: &str) -> PathBuf {
    if let Some(p) = find_tool(name) {
        return p;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "required tool `{name}` is missing on this CI machine: the test script must run \
             `apt-get install -y {debian_pkg}` before the tests (scripts/test does this)"
        );
    } else {
        panic!(
            "required tool `{name}` is missing: install it with `apt-get install -y {debian_pkg}` \
             (scripts/test does this) and run the tests again"
        );
    }
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|cand| cand.is_file())
        .or_else(|| {
            // Tests may run with a minimal PATH; the Debian package installs here.
            ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|cand| cand.is_file())
        })
}

#[derive(Clone, Debug)]
enum Auth {
    None,
    Htpasswd { user: String, pass: String },
    Token { basic: Option<(String, String)> },
}

/// Configures a [`Registry`] before starting it.
#[derive(Clone, Debug)]
pub struct RegistryBuilder {
    auth: Auth,
    relative_urls: bool,
    token_expires_in: u64,
    env: Vec<(String, String)>,
}

impl Default for RegistryBuilder {
    fn default() -> Self {
        RegistryBuilder {
            auth: Auth::None,
            relative_urls: false,
            token_expires_in: 300,
            env: Vec::new(),
        }
    }
}

impl RegistryBuilder {
    /// `http.relativeurls: true`: `Location` headers become relative (`/v2/...`), like ACR's.
    pub fn relative_urls(mut self, on: bool) -> Self {
        self.relative_urls = on;
        self
    }

    /// htpasswd (Basic) auth with one user (file made with `htpasswd -Bbn`).
    pub fn htpasswd(mut self, user: &str, pass: &str) -> Self {
        self.auth = Auth::Htpasswd {
            user: user.to_string(),
            pass: pass.to_string(),
        };
        self
    }

    /// Token auth; the issuer serves anonymous token requests.
    pub fn token_auth(mut self) -> Self {
        self.auth = Auth::Token { basic: None };
        self
    }

    /// Token auth; the issuer requires these Basic credentials (401 otherwise).
    pub fn token_auth_basic(mut self, user: &str, pass: &str) -> Self {
        self.auth = Auth::Token {
            basic: Some((user.to_string(), pass.to_string())),
        };
        self
    }

    /// `expires_in` of issued tokens (token auth only).
    pub fn token_expires_in(mut self, seconds: u64) -> Self {
        self.token_expires_in = seconds;
        self
    }

    /// Extra environment for the registry process (e.g. `REGISTRY_STORAGE_...` overrides).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn start(self) -> Registry {
        Registry::start_with(self)
    }
}

/// A running `docker-registry serve` child process. Killed (by PID) on drop.
pub struct Registry {
    child: Option<Child>,
    port: u16,
    pid: u32,
    credentials: Option<(String, String)>,
    issuer: Option<TokenIssuer>,
    log_path: PathBuf,
    storage: PathBuf,
    // Last: removed after the process is gone.
    dir: tempfile::TempDir,
}

enum StartFailure {
    /// The process exited; the log says why.
    Exited,
    TimedOut,
}

impl Registry {
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// No auth.
    pub fn start() -> Registry {
        Registry::builder().start()
    }

    /// htpasswd (Basic) auth with one user.
    pub fn with_htpasswd(user: &str, pass: &str) -> Registry {
        Registry::builder().htpasswd(user, pass).start()
    }

    /// Token auth with an anonymous-friendly issuer (see [`Registry::token_issuer`]).
    pub fn with_token_auth() -> Registry {
        Registry::builder().token_auth().start()
    }

    pub fn start_with(b: RegistryBuilder) -> Registry {
        let bin = require_tool(REGISTRY_BIN, REGISTRY_PKG);
        let dir = tempfile::Builder::new()
            .prefix("harness-registry-")
            .tempdir()
            .unwrap_or_else(|e| panic!("registry: cannot create a temp dir: {e}"));
        let storage = dir.path().join("storage");
        fs::create_dir_all(&storage)
            .unwrap_or_else(|e| panic!("registry: cannot create {}: {e}", storage.display()));

        let mut credentials = None;
        let mut issuer = None;
        let auth_yaml = match &b.auth {
            Auth::None => String::new(),
            Auth::Htpasswd { user, pass } => {
                let htpasswd = require_tool("htpasswd", "apache2-utils");
                let out = Command::new(&htpasswd)
                    .args(["-Bbn", user, pass])
                    .output()
                    .unwrap_or_else(|e| panic!("registry: cannot run {}: {e}", htpasswd.display()));
                if !out.status.success() {
                    panic!(
                        "registry: `htpasswd -Bbn {user} ...` failed ({}): {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let file = dir.path().join("htpasswd");
                fs::write(&file, &out.stdout)
                    .unwrap_or_else(|e| panic!("registry: cannot write {}: {e}", file.display()));
                credentials = Some((user.clone(), pass.clone()));
                format!(
                    "auth:\n  htpasswd:\n    realm: harness-registry\n    path: {}\n",
                    yaml_str(&file.to_string_lossy())
                )
            }
            Auth::Token { basic } => {
                let config = TokenIssuerConfig {
                    basic: basic.clone(),
                    expires_in: b.token_expires_in,
                    ..TokenIssuerConfig::default()
                };
                let iss = TokenIssuer::start(config);
                let bundle = dir.path().join("token-root.pem");
                fs::write(&bundle, iss.root_cert_pem())
                    .unwrap_or_else(|e| panic!("registry: cannot write {}: {e}", bundle.display()));
                let yaml = format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    yaml_str(&iss.realm()),
                    yaml_str(&iss.service()),
                    yaml_str(&iss.issuer()),
                    yaml_str(&bundle.to_string_lossy())
                );
                credentials = basic.clone();
                issuer = Some(iss);
                yaml
            }
        };

        let log_path = dir.path().join("registry.log");
        let config_path = dir.path().join("config.yml");
        let instance = format!("{:016x}", {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(std::process::id())
        });

        for attempt in 1..=START_ATTEMPTS {
            let port = super::free_port();
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: harness-secret-{instance}\n  relativeurls: {rel}\n  \
                 headers:\n    X-Harness-Instance: [{instance}]\n\
                 {auth_yaml}",
                storage = yaml_str(&storage.to_string_lossy()),
                rel = b.relative_urls,
            );
            fs::write(&config_path, &config).unwrap_or_else(|e| {
                panic!("registry: cannot write {}: {e}", config_path.display())
            });
            let log = fs::File::create(&log_path)
                .unwrap_or_else(|e| panic!("registry: cannot create {}: {e}", log_path.display()));
            let log2 = log
                .try_clone()
                .unwrap_or_else(|e| panic!("registry: cannot clone log handle: {e}"));

            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .arg(&config_path)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log2));
            // The caller's environment must not reconfigure the registry behind our back.
            for (k, _) in std::env::vars_os() {
                if k.to_string_lossy().starts_with("REGISTRY_") {
                    cmd.env_remove(&k);
                }
            }
            for (k, v) in &b.env {
                cmd.env(k, v);
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("registry: cannot start {}: {e}", bin.display()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            match wait_ready(&mut child, addr, &instance) {
                Ok(()) => {
                    return Registry {
                        pid: child.id(),
                        child: Some(child),
                        port,
                        credentials,
                        issuer,
                        log_path,
                        storage,
                        dir,
                    };
                }
                Err(failure) => {
                    // Child::kill sends SIGKILL to exactly this PID; wait() reaps it.
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    match failure {
                        StartFailure::Exited
                            if attempt < START_ATTEMPTS
                                && log.contains("address already in use") =>
                        {
                            // Someone took the port between free_port() and the registry's bind.
                            continue;
                        }
                        StartFailure::Exited => panic!(
                            "registry: {} exited during start-up (attempt {attempt}).\nconfig:\n{config}\nlog:\n{log}",
                            bin.display()
                        ),
                        StartFailure::TimedOut => panic!(
                            "registry: no answer on GET http://{addr}/v2/ within {READY_TIMEOUT:?}.\n\
                             config:\n{config}\nlog:\n{log}"
                        ),
                    }
                }
            }
        }
        unreachable!("registry start loop always returns or panics")
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// PID of the registry process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Root of the registry's filesystem storage (`.../docker/registry/v2/...` lives below).
    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// Basic credentials (htpasswd user, or what the token issuer requires), if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The token issuer; panics unless started with token auth.
    pub fn token_issuer(&self) -> &TokenIssuer {
        self.issuer
            .as_ref()
            .expect("Registry::token_issuer: this registry was not started with token auth")
    }

    /// The token issuer, if token auth.
    pub fn try_token_issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// The registry's captured stdout+stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// An `Authorization` header value good for `scopes` (e.g. `["repository:foo:pull,push"]`), for
    /// seeding and inspecting the registry outside the client under test: `Basic` for htpasswd,
    /// `Bearer` with a token minted directly by the issuer (**not** counted in
    /// `token_requests()`), `None` without auth.
    pub fn auth_header(&self, scopes: &[&str]) -> Option<String> {
        use base64::Engine as _;
        if let Some(iss) = &self.issuer {
            return Some(format!("Bearer {}", iss.issue(scopes)));
        }
        self.credentials.as_ref().map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        })
    }

    /// A raw request to `path` (e.g. `/v2/foo/tags/list`) with auth for `scopes` (see
    /// [`Registry::auth_header`]).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        scopes: &[&str],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let auth = self.auth_header(scopes);
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        http::request(method, &format!("{}{path}", self.url()), &all, body)
    }

    /// Uploads a blob (POST + PUT ?digest=, monolithic); returns its digest `sha256:...`.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = super::sha256_digest(bytes);
        let scope = format!("repository:{repo}:pull,push");
        let r = self.request(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[&scope],
            &[],
            b"",
        );
        if r.status != 202 {
            panic!(
                "push_blob: POST upload in {repo} answered {}: {}",
                r.status,
                r.text()
            );
        }
        let location = r
            .header("location")
            .unwrap_or_else(|| panic!("push_blob: upload start without Location"));
        let url = http::resolve(&self.url(), location);
        let sep = if url.contains('?') { '&' } else { '?' };
        let auth = self.auth_header(&[&scope]);
        let mut headers = vec![("Content-Type", "application/octet-stream")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let r = http::request(
            "PUT",
            &format!("{url}{sep}digest={digest}"),
            &headers,
            bytes,
        );
        if r.status != 201 {
            panic!(
                "push_blob: PUT ?digest= in {repo} answered {}: {}",
                r.status,
                r.text()
            );
        }
        digest
    }

    /// Puts a manifest under `reference` (tag or digest); returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let scope = format!("repository:{repo}:pull,push");
        let r = self.request(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[&scope],
            &[("Content-Type", media_type)],
            bytes,
        );
        if r.status != 201 {
            panic!(
                "push_manifest: PUT {repo}:{reference} answered {}: {}",
                r.status,
                r.text()
            );
        }
        super::sha256_digest(bytes)
    }

    /// Pushes a small OCI image (config + one pseudo-random layer of `layer_len` bytes from `seed`)
    /// tagged `tag`.
    pub fn push_test_image(&self, repo: &str, tag: &str, layer_len: usize, seed: u64) -> TestImage {
        let layer = super::pseudo_random(layer_len, seed);
        let config = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [super::sha256_digest(&layer)]},
        })
        .to_string()
        .into_bytes();
        let config_digest = self.push_blob(repo, &config);
        let layer_digest = self.push_blob(repo, &layer);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        })
        .to_string()
        .into_bytes();
        let manifest_digest = self.push_manifest(repo, tag, OCI_MANIFEST, &manifest);
        TestImage {
            manifest,
            manifest_digest,
            config,
            config_digest,
            layer,
            layer_digest,
        }
    }

    /// Kills the process now (also done on drop).
    pub fn stop(&mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Child::kill sends SIGKILL to exactly this PID; wait() reaps it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `GET /v2/` until our registry answers (any status), the process exits, or the timeout.
fn wait_ready(child: &mut Child, addr: SocketAddr, instance: &str) -> Result<(), StartFailure> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(_status)) = child.try_wait() {
            return Err(StartFailure::Exited);
        }
        // The instance header proves we reached *our* registry, not whoever else has the port.
        if let Some(head) = probe_v2(addr)
            && head.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("x-harness-instance:") && l.contains(instance)
            })
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(StartFailure::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// `GET /v2/` over a plain TcpStream; returns the response head if an HTTP response came back.
fn probe_v2(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(
        format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 64 * 1024 {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    text.starts_with("HTTP/1.").then_some(text)
}

/// A double-quoted YAML scalar.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            if !log.trim().is_empty() {
                eprintln!(
                    "---- registry log (127.0.0.1:{}, pid {}) ----\n{log}---- end of registry log ----",
                    self.port, self.pid
                );
            }
        }
    }
}
