//! Azure AD (Entra ID) sign-in through `azure_identity`, without an async runtime.
//!
//! `azure_identity` credentials are `async` and, by default, send their requests with `reqwest` on tokio.
//! This crate builds them without either: every request goes through [`UreqTransport`], an
//! `azure_core` HTTP client on a blocking `ureq::Agent`, and every token is awaited with
//! `futures_executor::block_on` on the calling thread. `az` is run with `std::process`. A plain
//! `fn main()` is all it takes.
//!
//! | constructor | identity |
//! |---|---|
//! | [`Credential::azure_default`] | the first of: environment client secret, workload identity, managed identity, Azure CLI |
//! | [`Credential::azure_client_secret`] | a service principal and its secret |
//! | [`Credential::azure_workload_identity`] | a Kubernetes workload identity (`AZURE_FEDERATED_TOKEN_FILE`) |
//! | [`Credential::azure_managed_identity`] | the managed identity of the Azure host (IMDS, App Service) |
//! | [`Credential::azure_cli`] | the account `az login` signed in |
//! | [`Credential::azure`] | any `azure_core` [`TokenCredential`](AzTokenCredential) you built yourself |
//!
//! To build an `azure_identity` credential yourself, give it this crate's transport with
//! [`UreqTransport::client_options`]: without `reqwest`, `azure_core` has no transport of its own and its
//! default `ClientOptions` panic when a credential is constructed.
//!
//! ```no_run
//! use std::sync::Arc;
//! use azcontainerregistry::credential::azure::UreqTransport;
//! use azcontainerregistry::Credential;
//! use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
//!
//! let transport = UreqTransport::new();
//! let aad = ClientSecretCredential::new(
//!     "my-tenant",
//!     "my-client-id".to_string(),
//!     "my-secret".to_string().into(),
//!     Some(ClientSecretCredentialOptions { client_options: transport.client_options() }),
//! )
//! .map_err(|e| e.to_string())?;
//! let credential = Credential::azure(aad);
//! # let _ = credential;
//! # Ok::<(), String>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read};
use std::pin::Pin;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{
    AccessToken as AzAccessToken, TokenCredential as AzTokenCredential, TokenRequestOptions,
};
use azure_core::error::ErrorKind as AzErrorKind;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{AsyncRawResponse, Body as AzBody, HttpClient, Request as AzRequest};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, Executor, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use ureq::http;
use url::{Position, Url};

use super::{AccessToken, Credential, Secret, TokenCredential};
use crate::error::{Error, Result};
use crate::options::Timeouts;
use crate::pipeline::redact;

/// The origin of Azure AD in the public cloud, the default authority host.
pub const AZURE_PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The origin of the Azure instance metadata service (IMDS), where virtual machines get managed-identity
/// tokens.
pub const IMDS_ORIGIN: &str = "http://169.254.169.254";

const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
/// Longest wait for the instance metadata service to answer the default chain's probe.
const IMDS_PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Responses from Azure AD and the metadata service are read up to this size.
const BODY_LIMIT: u64 = 4 * 1024 * 1024;
/// Default limit for one run of `az`; the other Azure SDKs allow 10 seconds.
const DEFAULT_CLI_TIMEOUT: Duration = Duration::from_secs(10);
/// Output of `az` is read up to this size.
const CLI_OUTPUT_LIMIT: u64 = 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Rewrite {
    from: url::Origin,
    from_text: String,
    to: String,
}

/// An `azure_core` HTTP client on a blocking [`ureq::Agent`]: the transport of every Azure AD request this
/// crate makes.
///
/// Statuses come back as responses, never as errors (`azure_identity` reads Azure AD's error bodies);
/// redirects are not followed; bodies are read up to 4 MiB; connect, response and read timeouts are set
/// (see [`Timeouts`]). Connection failures and timeouts are reported as `azure_core` `Connection`/`Io`
/// errors, which `azure_core`'s retry policy retries.
///
/// The request runs on the thread that polls the future, which is what `futures_executor::block_on`
/// does: use it from this crate's blocking API, not on an async runtime's worker threads.
///
/// A rewrite table maps origins to others, for tests and air-gapped networks: `azure_identity` insists on
/// `https` authority hosts, so a test maps `https://login.microsoftonline.com` to its loopback mock here,
/// and maps [`IMDS_ORIGIN`] too so that a managed-identity credential never reaches the real metadata
/// address. [`UreqTransport::rewrites_only`] refuses every other origin.
///
/// ```
/// use azcontainerregistry::credential::azure::{UreqTransport, AZURE_PUBLIC_AUTHORITY, IMDS_ORIGIN};
/// let transport = UreqTransport::new()
///     .with_rewrite(AZURE_PUBLIC_AUTHORITY, "http://127.0.0.1:8080")?
///     .with_rewrite(IMDS_ORIGIN, "http://127.0.0.1:8080")?
///     .rewrites_only();
/// # let _ = transport;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    timeouts: Timeouts,
    rewrites: Vec<Rewrite>,
    rewrites_only: bool,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rewrites: Vec<String> = self
            .rewrites
            .iter()
            .map(|r| format!("{} -> {}", r.from_text, r.to))
            .collect();
        f.debug_struct("UreqTransport")
            .field("timeouts", &self.timeouts)
            .field("rewrites", &rewrites)
            .field("rewrites_only", &self.rewrites_only)
            .finish_non_exhaustive()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// An origin given to [`UreqTransport::with_rewrite`]: `scheme://host[:port]`, http or https, nothing else.
fn parse_origin(text: &str, what: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::Config(format!("rewrite {what} {text:?} is not a URL: {e}")))?;
    let bare = url.path().trim_end_matches('/').is_empty()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !bare
    {
        return Err(Error::Config(format!(
            "rewrite {what} {text:?} must be an origin: http(s)://host[:port]"
        )));
    }
    Ok(url)
}

impl UreqTransport {
    /// A transport on a new agent with the default [`Timeouts`] and no rewrites.
    pub fn new() -> Self {
        Self::with_agent(ureq::Agent::config_builder().build().into())
    }

    /// A transport on `agent` (its proxy, TLS and connection pool are used; status handling, redirects
    /// and timeouts are set per request).
    pub fn with_agent(agent: ureq::Agent) -> Self {
        UreqTransport {
            agent,
            timeouts: Timeouts::default(),
            rewrites: Vec::new(),
            rewrites_only: false,
        }
    }

    /// These timeouts instead of the defaults.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sends requests for `from_origin` to `to_origin` instead, keeping path and query: e.g.
    /// `https://login.microsoftonline.com` → `http://127.0.0.1:8080`. Both must be bare origins
    /// (`scheme://host[:port]`). The first matching rewrite wins.
    pub fn with_rewrite(mut self, from_origin: &str, to_origin: &str) -> Result<Self> {
        let from = parse_origin(from_origin, "source")?;
        let to = parse_origin(to_origin, "target")?;
        self.rewrites.push(Rewrite {
            from: from.origin(),
            from_text: from.origin().ascii_serialization(),
            to: to.origin().ascii_serialization(),
        });
        Ok(self)
    }

    /// Refuses every request whose origin has no rewrite, so that nothing leaves for a host the table does
    /// not name (tests, air-gapped networks).
    pub fn rewrites_only(mut self) -> Self {
        self.rewrites_only = true;
        self
    }

    /// `azure_core` client options whose transport is this one: give them to any `azure_identity`
    /// credential you construct yourself.
    pub fn client_options(&self) -> azure_core::http::ClientOptions {
        azure_core::http::ClientOptions {
            transport: Some(azure_core::http::Transport::new(Arc::new(self.clone()))),
            ..Default::default()
        }
    }

    /// The URL a request for `url` really goes to, or why it may not be sent.
    fn target(&self, url: &Url) -> std::result::Result<Url, String> {
        let origin = url.origin();
        match self.rewrites.iter().find(|r| r.from == origin) {
            Some(r) => {
                let text = format!("{}{}", r.to, &url[Position::BeforePath..]);
                Url::parse(&text)
                    .map_err(|e| format!("rewriting {} to {} failed: {e}", redact::url(url), r.to))
            }
            None if self.rewrites_only => Err(format!(
                "refused to send a request to {}: its origin is not in the transport's rewrite table",
                redact::url(url)
            )),
            None => Ok(url.clone()),
        }
    }

    fn configure<B: ureq::AsSendBody>(
        &self,
        r: http::Request<B>,
        global: Option<Duration>,
    ) -> http::Request<B> {
        let t = &self.timeouts;
        self.agent
            .configure_request(r)
            .http_status_as_error(false)
            .max_redirects(0)
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .timeout_global(global)
            .timeout_connect(t.connect)
            .timeout_recv_response(t.response)
            .timeout_per_read(t.idle)
            .timeout_per_write(t.idle)
            .build()
    }

    /// Sends one request and reads the whole (bounded) body.
    fn send_blocking(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
        global_timeout: Option<Duration>,
    ) -> azure_core::Result<(u16, Headers, Vec<u8>)> {
        let target = self
            .target(url)
            .map_err(|m| azure_core::Error::with_message(AzErrorKind::Other, m))?;
        let shown = redact::url(&target);
        let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| {
            azure_core::Error::with_message(
                AzErrorKind::Other,
                format!("bad HTTP method {method:?}: {e}"),
            )
        })?;
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(target.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body).map_err(|e| {
            azure_core::Error::with_message(
                AzErrorKind::Other,
                format!("cannot build request for {shown}: {e}"),
            )
        })?;
        let started = Instant::now();
        let response = self
            .agent
            .run(self.configure(request, global_timeout))
            .map_err(|e| map_ureq_error(e, &shown))?;
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        log::debug!(
            "azure: {method} {shown} -> {status} in {:?}",
            started.elapsed()
        );

        let announced = parts
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if announced.is_some_and(|len| len > BODY_LIMIT) {
            return Err(too_large(&shown));
        }
        let mut bytes = Vec::new();
        body.into_with_config()
            .limit(u64::MAX)
            .reader()
            .take(BODY_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                azure_core::Error::with_error(
                    AzErrorKind::Io,
                    e,
                    format!("reading the answer of {shown} failed"),
                )
            })?;
        if bytes.len() as u64 > BODY_LIMIT {
            return Err(too_large(&shown));
        }

        let mut map: std::collections::HashMap<HeaderName, HeaderValue> =
            std::collections::HashMap::new();
        for name in parts.headers.keys() {
            let values: Vec<&str> = parts
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if !values.is_empty() {
                map.insert(
                    HeaderName::from(name.as_str().to_string()),
                    HeaderValue::from(values.join(", ")),
                );
            }
        }
        Ok((status, Headers::from(map), bytes))
    }
}

fn too_large(shown: &str) -> azure_core::Error {
    azure_core::Error::with_message(
        AzErrorKind::Other,
        format!(
            "the answer of {shown} is larger than {BODY_LIMIT} bytes; refused without reading further"
        ),
    )
}

/// Connection failures and timeouts become the kinds `azure_core` retries (`Connection`, `Io`).
fn map_ureq_error(e: ureq::Error, shown: &str) -> azure_core::Error {
    let kind = match &e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::Tls(_) => {
            AzErrorKind::Connection
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
            ) =>
        {
            AzErrorKind::Connection
        }
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::Protocol(_) => AzErrorKind::Io,
        _ => AzErrorKind::Other,
    };
    let message = format!("request to {shown} failed: {e}");
    azure_core::Error::with_error(kind, e, message)
}

/// Reads a streamed request body into memory (`azure_identity` itself only sends bytes).
async fn read_stream(body: &AzBody) -> azure_core::Result<Vec<u8>> {
    let mut stream = match body {
        AzBody::Bytes(b) => return Ok(b.to_vec()),
        AzBody::SeekableStream(s) => s.clone(),
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::future::poll_fn(|cx| {
            futures_io::AsyncRead::poll_read(Pin::new(&mut *stream), cx, &mut buf)
        })
        .await
        .map_err(|e| {
            azure_core::Error::with_error(AzErrorKind::Io, e, "reading the request body failed")
        })?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqTransport {
    async fn execute_request(&self, request: &AzRequest) -> azure_core::Result<AsyncRawResponse> {
        let body = read_stream(request.body()).await?;
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let method = request.method();
        let (status, headers, bytes) =
            self.send_blocking(method.as_ref(), request.url(), &headers, &body, None)?;
        Ok(AsyncRawResponse::from_bytes(status.into(), headers, bytes))
    }
}

impl From<UreqTransport> for azure_core::http::Transport {
    fn from(t: UreqTransport) -> Self {
        azure_core::http::Transport::new(Arc::new(t))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Running `az` without a runtime
// ---------------------------------------------------------------------------------------------------------

/// Runs `az` (through `azure_identity`'s shell command) with `std::process`, killing it after a timeout.
#[derive(Debug)]
struct ProcessExecutor {
    timeout: Duration,
}

#[async_trait::async_trait]
impl Executor for ProcessExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        run_with_timeout(program, args, self.timeout)
    }
}

fn run_with_timeout(program: &OsStr, args: &[&OsStr], timeout: Duration) -> io::Result<Output> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // `az` is a script that starts python: give it a process group of its own, so a timeout can end
    // the whole tree (a surviving grandchild would keep the pipes, and the drain threads, alive).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(CLI_OUTPUT_LIMIT).read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    loop {
        let finished = match child.try_wait() {
            Ok(f) => f,
            Err(e) => {
                kill_tree(&mut child);
                return Err(e);
            }
        };
        if let Some(status) = finished {
            let stdout = stdout.join().unwrap_or_default();
            let stderr = stderr.join().unwrap_or_default();
            return Ok(Output {
                status,
                stdout,
                stderr,
            });
        }
        if started.elapsed() >= timeout {
            kill_tree(&mut child);
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the Azure CLI did not answer within {timeout:?}; run `az account get-access-token` to see why"
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Ends `child` and, on Unix, every process of its group; the drain threads then see end of file.
fn kill_tree(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------------------
// The synchronous adapter
// ---------------------------------------------------------------------------------------------------------

/// The crate's synchronous [`TokenCredential`] over any `azure_core` credential: each token is awaited
/// with `futures_executor::block_on` on the calling thread.
#[derive(Clone)]
pub struct AzureTokenCredential {
    inner: Arc<dyn AzTokenCredential>,
}

impl fmt::Debug for AzureTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AzureTokenCredential")
            .field(&self.inner)
            .finish()
    }
}

impl AzureTokenCredential {
    /// Wraps an `azure_core` credential.
    pub fn new(inner: Arc<dyn AzTokenCredential>) -> Self {
        AzureTokenCredential { inner }
    }

    /// The wrapped credential.
    pub fn inner(&self) -> &Arc<dyn AzTokenCredential> {
        &self.inner
    }
}

impl TokenCredential for AzureTokenCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken> {
        let token: AzAccessToken = futures_executor::block_on(self.inner.get_token(scopes, None))
            .map_err(|e| {
            Error::auth(format!("Azure AD sign-in failed: {}", describe(&e)), None)
        })?;
        Ok(AccessToken {
            token: Secret::new(token.token.secret().to_string()),
            expires_on: SystemTime::from(token.expires_on),
        })
    }
}

/// An `azure_core` error with the messages of its sources that it does not already contain.
fn describe(e: &azure_core::Error) -> String {
    let mut text = e.to_string().trim().to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let m = s.to_string();
        let m = m.trim();
        if !m.is_empty() && !text.contains(m) {
            text.push_str(": ");
            text.push_str(m);
        }
        source = s.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------------------
// The default chain
// ---------------------------------------------------------------------------------------------------------

/// Options of [`Credential::azure_default_with`] and [`AzureDefaultCredential`].
///
/// ```
/// use azcontainerregistry::credential::azure::AzureCredentialOptions;
/// // Only the Azure CLI, e.g. on a developer machine where the environment holds other secrets.
/// let options = AzureCredentialOptions {
///     exclude_environment: true,
///     exclude_workload_identity: true,
///     exclude_managed_identity: true,
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct AzureCredentialOptions {
    /// The transport of every Azure AD and managed-identity request; default [`UreqTransport::new`].
    pub transport: Option<UreqTransport>,
    /// The Azure AD authority host, e.g. `https://login.microsoftonline.us`. Default: the
    /// `AZURE_AUTHORITY_HOST` environment variable, else `https://login.microsoftonline.com`.
    pub authority_host: Option<String>,
    /// Client ID of a user-assigned managed identity. Default: `AZURE_CLIENT_ID`, else the
    /// system-assigned identity.
    pub managed_identity_client_id: Option<String>,
    /// Longest run of `az`; default 10 seconds.
    pub azure_cli_timeout: Option<Duration>,
    /// Skip the environment client secret.
    pub exclude_environment: bool,
    /// Skip workload identity.
    pub exclude_workload_identity: bool,
    /// Skip managed identity.
    pub exclude_managed_identity: bool,
    /// Skip the Azure CLI.
    pub exclude_azure_cli: bool,
}

struct Member {
    name: &'static str,
    credential: std::result::Result<Arc<dyn AzTokenCredential>, String>,
    /// For managed identity on a VM: the metadata service must answer before it is asked for a token.
    probe: Option<ImdsProbe>,
}

struct ImdsProbe {
    transport: UreqTransport,
    /// `None` until probed; then `Ok` (it answered) or why it is unusable.
    state: Mutex<Option<std::result::Result<(), String>>>,
}

impl ImdsProbe {
    fn check(&self) -> std::result::Result<(), String> {
        let mut state = lock(&self.state);
        if let Some(s) = state.as_ref() {
            return s.clone();
        }
        // Any answer, even 400 for the missing `Metadata` header, proves the service is there.
        let url =
            Url::parse(&format!("{IMDS_ORIGIN}{IMDS_TOKEN_PATH}")).map_err(|e| e.to_string())?;
        let result = self
            .transport
            .send_blocking("GET", &url, &[], &[], Some(IMDS_PROBE_TIMEOUT))
            .map(|_| ())
            .map_err(|e| format!("no managed identity endpoint: the instance metadata service did not answer ({})", describe(&e)));
        *state = Some(result.clone());
        result
    }
}

/// Like `DefaultAzureCredential` of the other Azure SDKs: a chain of credentials tried in order, the first
/// that yields a token wins and is used from then on.
///
/// 1. **Environment client secret**: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
/// 2. **Workload identity**: `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` (set by the
///    AKS workload identity webhook).
/// 3. **Managed identity**: App Service (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`) or the VM metadata service,
///    which is probed first with a 1-second limit so that machines outside Azure move on quickly;
///    user-assigned when [`AzureCredentialOptions::managed_identity_client_id`] or `AZURE_CLIENT_ID` is set.
/// 4. **Azure CLI**: `az account get-access-token`, as signed in with `az login`.
///
/// The environment is read when the chain is built. Azure AD requests go to `AZURE_AUTHORITY_HOST` when
/// set. When no member yields a token, the error lists what each one said.
pub struct AzureDefaultCredential {
    members: Vec<Member>,
    winner: Mutex<Option<usize>>,
}

impl fmt::Debug for AzureDefaultCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.members.iter().map(|m| m.name).collect();
        f.debug_struct("AzureDefaultCredential")
            .field("members", &names)
            .field("winner", &lock(&self.winner).map(|i| self.members[i].name))
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `Ok` when every variable is set (and not blank), else which are not.
fn missing(names: &[&'static str]) -> std::result::Result<(), String> {
    let absent: Vec<&str> = names.iter().copied().filter(|n| env(n).is_none()).collect();
    if absent.is_empty() {
        Ok(())
    } else {
        Err(format!("not configured: {} not set", absent.join(", ")))
    }
}

fn cloud_options(
    transport: &UreqTransport,
    authority_host: Option<&str>,
) -> azure_core::http::ClientOptions {
    let mut options = transport.client_options();
    if let Some(host) = authority_host {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = host.to_string();
        options.cloud = Some(Arc::new(CloudConfiguration::Custom(custom)));
    }
    options
}

fn az_err(e: azure_core::Error) -> String {
    describe(&e)
}

impl AzureDefaultCredential {
    /// Builds the chain. Members whose configuration is missing stay in it as unavailable, to be named in
    /// the error; building fails only when every member is excluded.
    pub fn new(options: AzureCredentialOptions) -> Result<Arc<Self>> {
        let transport = options.transport.clone().unwrap_or_default();
        let authority = options.authority_host.as_deref();
        let mut members = Vec::new();

        if !options.exclude_environment {
            let credential =
                missing(&["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]).and_then(
                    |()| {
                        let tenant = env("AZURE_TENANT_ID").unwrap_or_default();
                        let client_id = env("AZURE_CLIENT_ID").unwrap_or_default();
                        let secret = env("AZURE_CLIENT_SECRET").unwrap_or_default();
                        ClientSecretCredential::new(
                            &tenant,
                            client_id,
                            secret.into(),
                            Some(ClientSecretCredentialOptions {
                                client_options: cloud_options(&transport, authority),
                            }),
                        )
                        .map(|c| c as Arc<dyn AzTokenCredential>)
                        .map_err(az_err)
                    },
                );
            members.push(Member {
                name: "EnvironmentCredential (client secret)",
                credential,
                probe: None,
            });
        }

        if !options.exclude_workload_identity {
            let credential = missing(&[
                "AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
            ])
            .and_then(|()| {
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: cloud_options(&transport, authority),
                    },
                    ..Default::default()
                }))
                .map(|c| c as Arc<dyn AzTokenCredential>)
                .map_err(az_err)
            });
            members.push(Member {
                name: "WorkloadIdentityCredential",
                credential,
                probe: None,
            });
        }

        if !options.exclude_managed_identity {
            let client_id = options
                .managed_identity_client_id
                .clone()
                .or_else(|| env("AZURE_CLIENT_ID"));
            let credential = managed_identity(&transport, client_id).map_err(az_err);
            // Where no App Service / Cloud Shell / Arc endpoint is configured, the credential asks the VM
            // metadata service: see first whether there is one.
            let on_vm = env("IDENTITY_ENDPOINT").is_none() && env("MSI_ENDPOINT").is_none();
            let probe = on_vm.then(|| ImdsProbe {
                transport: transport.clone(),
                state: Mutex::new(None),
            });
            members.push(Member {
                name: "ManagedIdentityCredential",
                credential,
                probe,
            });
        }

        if !options.exclude_azure_cli {
            let timeout = options.azure_cli_timeout.unwrap_or(DEFAULT_CLI_TIMEOUT);
            let credential = azure_cli(timeout).map_err(az_err);
            members.push(Member {
                name: "AzureCliCredential",
                credential,
                probe: None,
            });
        }

        if members.is_empty() {
            return Err(Error::Config(
                "AzureCredentialOptions excludes every credential of the chain".into(),
            ));
        }
        Ok(Arc::new(AzureDefaultCredential {
            members,
            winner: Mutex::new(None),
        }))
    }

    /// The name of the member that yielded the first token, once one has.
    pub fn selected(&self) -> Option<&'static str> {
        lock(&self.winner).map(|i| self.members[i].name)
    }
}

fn managed_identity(
    transport: &UreqTransport,
    client_id: Option<String>,
) -> azure_core::Result<Arc<dyn AzTokenCredential>> {
    // `..Default::default()` also fills fields azure_identity has only in its own tests, and any it adds.
    #[allow(clippy::needless_update)]
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(UserAssignedId::ClientId),
        client_options: transport.client_options(),
        ..Default::default()
    };
    let credential = ManagedIdentityCredential::new(Some(options))?;
    Ok(credential)
}

fn azure_cli(timeout: Duration) -> azure_core::Result<Arc<dyn AzTokenCredential>> {
    #[allow(clippy::needless_update)] // as in `managed_identity`
    let options = AzureCliCredentialOptions {
        executor: Some(Arc::new(ProcessExecutor { timeout })),
        ..Default::default()
    };
    let credential = AzureCliCredential::new(Some(options))?;
    Ok(credential)
}

#[async_trait::async_trait]
impl AzTokenCredential for AzureDefaultCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AzAccessToken> {
        let winner = *lock(&self.winner);
        if let Some(Ok(c)) = winner.map(|i| &self.members[i].credential) {
            return c.get_token(scopes, options).await;
        }
        let mut said = Vec::new();
        for (i, member) in self.members.iter().enumerate() {
            let credential = match &member.credential {
                Ok(c) => c,
                Err(why) => {
                    said.push(format!("- {}: {why}", member.name));
                    continue;
                }
            };
            if let Some(Err(why)) = member.probe.as_ref().map(ImdsProbe::check) {
                said.push(format!("- {}: {why}", member.name));
                continue;
            }
            match credential.get_token(scopes, options.clone()).await {
                Ok(token) => {
                    log::info!("azure: signed in with {}", member.name);
                    *lock(&self.winner) = Some(i);
                    return Ok(token);
                }
                Err(e) => {
                    let why = describe(&e).replace('\n', " ");
                    // Configured but refused: worth a warning even if a later member signs in.
                    log::warn!(
                        "azure: {} failed, trying the next credential: {why}",
                        member.name
                    );
                    said.push(format!("- {}: {why}", member.name));
                }
            }
        }
        Err(azure_core::Error::with_message(
            AzErrorKind::Credential,
            format!(
                "no credential of the default Azure chain yielded a token:\n{}\nConfigure one of them, or choose a \
                 credential explicitly (Credential::azure_client_secret, azure_cli, azure_managed_identity, \
                 azure_workload_identity).",
                said.join("\n")
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Credential constructors
// ---------------------------------------------------------------------------------------------------------

fn build_err(what: &str, e: azure_core::Error) -> Error {
    Error::auth(format!("cannot build the {what}: {}", describe(&e)), None)
}

/// Azure AD credentials (feature `azure`, on by default).
impl Credential {
    /// Any `azure_core` credential, e.g. one of `azure_identity`'s built with
    /// [`UreqTransport::client_options`]. Tokens are awaited with `futures_executor::block_on`.
    ///
    /// *Feature `azure`.*
    pub fn azure(credential: Arc<dyn AzTokenCredential>) -> Self {
        Credential::token(AzureTokenCredential::new(credential))
    }

    /// The default chain ([`AzureDefaultCredential`]): environment client secret, workload identity,
    /// managed identity, Azure CLI; the first that yields a token is used from then on.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new("https://myregistry.azurecr.io", Credential::azure_default()?, ClientOptions::default())?;
    /// # let _ = client;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_default() -> Result<Self> {
        Self::azure_default_with(AzureCredentialOptions::default())
    }

    /// The default chain with options: a transport, an authority host, members left out.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// use azcontainerregistry::credential::azure::AzureCredentialOptions;
    /// use azcontainerregistry::Credential;
    /// let credential = Credential::azure_default_with(AzureCredentialOptions {
    ///     exclude_azure_cli: true,
    ///     ..Default::default()
    /// })?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_default_with(options: AzureCredentialOptions) -> Result<Self> {
        Ok(Self::azure(AzureDefaultCredential::new(options)?))
    }

    /// A service principal with a client secret. Respects `AZURE_AUTHORITY_HOST`.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_client_secret("my-tenant", "my-client-id", "my-secret")?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_client_secret(
        tenant_id: &str,
        client_id: &str,
        secret: impl Into<Secret>,
    ) -> Result<Self> {
        let secret: Secret = secret.into();
        let credential = ClientSecretCredential::new(
            tenant_id,
            client_id.to_string(),
            secret.expose().to_string().into(),
            Some(ClientSecretCredentialOptions {
                client_options: UreqTransport::new().client_options(),
            }),
        )
        .map_err(|e| build_err("client secret credential", e))?;
        Ok(Self::azure(credential))
    }

    /// The account signed in to the Azure CLI (`az login`); each token runs `az account get-access-token`
    /// (at most 10 seconds).
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_cli()?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_cli() -> Result<Self> {
        Ok(Self::azure(
            azure_cli(DEFAULT_CLI_TIMEOUT).map_err(|e| build_err("Azure CLI credential", e))?,
        ))
    }

    /// The managed identity of the Azure host: system-assigned, or the user-assigned identity with this
    /// client ID.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_managed_identity(None)?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_managed_identity(client_id: Option<&str>) -> Result<Self> {
        let credential = managed_identity(&UreqTransport::new(), client_id.map(str::to_string))
            .map_err(|e| build_err("managed identity credential", e))?;
        Ok(Self::azure(credential))
    }

    /// A Kubernetes workload identity, from `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID` and
    /// `AZURE_CLIENT_ID`. Respects `AZURE_AUTHORITY_HOST`.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_workload_identity()?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_workload_identity() -> Result<Self> {
        let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: UreqTransport::new().client_options(),
            },
            ..Default::default()
        }))
        .map_err(|e| build_err("workload identity credential", e))?;
        Ok(Self::azure(credential))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_path_and_query() {
        let t = UreqTransport::new()
            .with_rewrite(AZURE_PUBLIC_AUTHORITY, "http://127.0.0.1:9")
            .unwrap();
        let u =
            Url::parse("https://login.microsoftonline.com:443/t/oauth2/v2.0/token?x=1").unwrap();
        assert_eq!(
            t.target(&u).unwrap().as_str(),
            "http://127.0.0.1:9/t/oauth2/v2.0/token?x=1"
        );
        let other = Url::parse("https://login.microsoftonline.us/t").unwrap();
        assert_eq!(t.target(&other).unwrap(), other);
        let strict = t.rewrites_only();
        assert!(
            strict
                .target(&other)
                .unwrap_err()
                .contains("not in the transport's rewrite table")
        );
    }

    #[test]
    fn rewrite_origins_are_validated() {
        assert!(
            UreqTransport::new()
                .with_rewrite("https://a/b", "http://127.0.0.1:1")
                .is_err()
        );
        assert!(
            UreqTransport::new()
                .with_rewrite("https://a", "ftp://127.0.0.1")
                .is_err()
        );
        assert!(
            UreqTransport::new()
                .with_rewrite("nonsense", "http://127.0.0.1")
                .is_err()
        );
        assert!(
            UreqTransport::new()
                .with_rewrite("http://169.254.169.254/", "http://127.0.0.1:1")
                .is_ok()
        );
    }

    #[test]
    fn process_executor_times_out_and_reports_output() {
        let ok = run_with_timeout(
            OsStr::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new("echo hi; echo err >&2")],
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(ok.status.success());
        assert_eq!(ok.stdout, b"hi\n");
        assert_eq!(ok.stderr, b"err\n");
        let started = Instant::now();
        let err = run_with_timeout(
            OsStr::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new("exec sleep 5")],
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
