//! Client configuration: [`ClientOptions`] and its parts, all plain structs with `Default`.

use std::time::Duration;

/// The Azure AD audience the registry's tokens are requested for.
///
/// The default, [`Audience::Auto`], picks the audience from the registry's host: the Azure
/// Resource Manager audience of Azure China for `*.azurecr.cn`, of Azure US Government for
/// `*.azurecr.us`, and [`Audience::ContainerRegistry`] everywhere else. Older registries, or
/// registries whose "ARM audience tokens" setting is on, may want the Azure Resource Manager
/// audience of their cloud: set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Audience {
    /// From the registry's host (see [`Audience::for_host`]).
    #[default]
    Auto,
    /// `https://containerregistry.azure.net`, valid in the public cloud (and most others).
    ContainerRegistry,
    /// `https://management.azure.com` (Azure public cloud ARM).
    AzurePublicCloud,
    /// `https://management.chinacloudapi.cn` (Azure China ARM).
    AzureChina,
    /// `https://management.usgovcloudapi.net` (Azure US Government ARM).
    AzureGovernment,
    /// Any other audience, verbatim.
    Custom(String),
}

impl Audience {
    /// The audience URL ([`Audience::Auto`] without a host: the container registry audience).
    ///
    /// ```
    /// use azcontainerregistry::Audience;
    /// assert_eq!(
    ///     Audience::default().as_str(),
    ///     "https://containerregistry.azure.net"
    /// );
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Audience::Auto | Audience::ContainerRegistry => "https://containerregistry.azure.net",
            Audience::AzurePublicCloud => "https://management.azure.com",
            Audience::AzureChina => "https://management.chinacloudapi.cn",
            Audience::AzureGovernment => "https://management.usgovcloudapi.net",
            Audience::Custom(s) => s,
        }
    }

    /// The audience for the registry at `host`: this one, unless it is [`Audience::Auto`], which
    /// becomes the audience of the host's cloud.
    ///
    /// ```
    /// use azcontainerregistry::Audience;
    /// assert_eq!(Audience::Auto.for_host("r.azurecr.cn"), Audience::AzureChina);
    /// assert_eq!(Audience::Auto.for_host("r.azurecr.us"), Audience::AzureGovernment);
    /// assert_eq!(Audience::Auto.for_host("r.azurecr.io"), Audience::ContainerRegistry);
    /// let set = Audience::AzurePublicCloud;
    /// assert_eq!(set.for_host("r.azurecr.cn"), Audience::AzurePublicCloud);
    /// ```
    pub fn for_host(&self, host: &str) -> Audience {
        if *self != Audience::Auto {
            return self.clone();
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.ends_with(".azurecr.cn") {
            Audience::AzureChina
        } else if host.ends_with(".azurecr.us") {
            Audience::AzureGovernment
        } else {
            Audience::ContainerRegistry
        }
    }

    /// The Azure AD scope for this audience: `{audience}/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.as_str().trim_end_matches('/'))
    }
}

/// How failed requests are retried.
///
/// Retried: 408, 429, 500, 502, 503, 504 and connection failures that may heal (a reset, a
/// timeout; not a TLS failure, an unknown host, a bad URL or a refused connection to a loopback
/// address), and only when the request body can be sent again (streamed uploads resume through
/// their own logic instead). A timeout is retried only for idempotent requests (`GET`, `HEAD`,
/// `PUT`, `DELETE`) and token requests (`POST /oauth2/...`, which only hand out a token): a
/// timed-out upload-session start (`POST`) may still be running at a registry that is already
/// too slow, so it is not sent again. A broken connection is retried for every request above
/// (this crate's `POST`s are harmless to repeat: at worst an unused session that expires).
///
/// Delays grow exponentially with jitter. A `Retry-After` header (seconds or HTTP date) is
/// honoured when it fits within `max_delay` and what remains of `budget`; a longer one fails at
/// once with [`Error::Throttled`](crate::Error::Throttled), which says when to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOptions {
    /// Retries after the first attempt. Default 3; 0 disables retries.
    pub max_retries: u32,
    /// Delay before the first retry. Default 800 ms.
    pub initial_delay: Duration,
    /// Upper bound of any delay. A `429`/`503` whose `Retry-After` is longer than this fails at
    /// once with [`Error::Throttled`](crate::Error::Throttled) (other statuses wait this long at
    /// most). Default 30 s.
    pub max_delay: Duration,
    /// Overall time one call may spend waiting between attempts; `None` means no budget beyond
    /// `max_retries`. A `Retry-After` longer than what remains fails at once with
    /// [`Error::Throttled`](crate::Error::Throttled), naming when to retry; a backoff delay longer
    /// than what remains ends the retries (the last answer or error is returned). Default 2 min.
    pub budget: Option<Duration>,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: 3,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(30),
            budget: Some(Duration::from_secs(120)),
        }
    }
}

/// Timeouts; `None` means none. The defaults bound every wait without limiting the size of a
/// transfer: a multi-GiB blob streams as long as bytes keep coming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// Connection set-up (DNS, TCP, TLS). Default 30 s.
    pub connect: Option<Duration>,
    /// From sending the request to receiving the response headers, per call. Default 120 s.
    pub response: Option<Duration>,
    /// Longest silence while reading or writing a body. Default 60 s.
    pub idle: Option<Duration>,
    /// Whole-request deadline for requests whose answers are small (tokens, manifests, errors,
    /// listings): from sending to the last byte read, retries included. A registry that trickles
    /// a byte now and then cannot hold such a call (or the token cache behind it) longer. Blob
    /// transfers are not bound by it (see `min_progress`). Expiry is [`Error::Timeout`].
    /// Default 5 min.
    ///
    /// [`Error::Timeout`]: crate::Error::Timeout
    pub total: Option<Duration>,
    /// The least a blob transfer must move to go on: a download or upload that moves fewer than
    /// `bytes` in any `window` is abandoned with [`Error::Timeout`](crate::Error::Timeout)
    /// (time spent waiting for the caller's own reader of an upload does not count). `None`
    /// turns the rule off. Default 16 KiB per 60 s.
    pub min_progress: Option<MinProgress>,
}

/// A minimum transfer rate: at least `bytes` in every `window` (see [`Timeouts::min_progress`]).
///
/// ```
/// use azcontainerregistry::{MinProgress, Timeouts};
/// use std::time::Duration;
/// let timeouts = Timeouts {
///     min_progress: Some(MinProgress {
///         bytes: 1024 * 1024,
///         window: Duration::from_secs(30),
///     }),
///     ..Default::default()
/// };
/// # let _ = timeouts;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinProgress {
    /// Bytes that must move within each window.
    pub bytes: u64,
    /// The window.
    pub window: Duration,
}

impl Default for MinProgress {
    fn default() -> Self {
        MinProgress {
            bytes: 16 * 1024,
            window: Duration::from_secs(60),
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            response: Some(Duration::from_secs(120)),
            idle: Some(Duration::from_secs(60)),
            total: Some(Duration::from_secs(300)),
            min_progress: Some(MinProgress::default()),
        }
    }
}

/// Which API a [`Client`](crate::Client) takes the registry to have: Azure Container Registry's
/// (with `/acr/v1` and ACR's token endpoints) or the plain OCI distribution API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Api {
    /// Decide from the registry: `*.azurecr.io`/`.cn`/`.us` hosts and Azure AD credentials are
    /// ACR; any other registry is ACR when its challenge names a token realm `/oauth2/token` on
    /// its own origin (custom domains, private endpoints, replays). One probe (`GET /v2/`) at
    /// most per client, when nothing else has told.
    #[default]
    Auto,
    /// Azure Container Registry, whatever the host.
    Acr,
    /// A plain OCI distribution registry, whatever the host.
    Oci,
}

/// The host suffixes of Azure Container Registry login servers in every cloud: public, China,
/// US Government, and the air-gapped US Nat and US Sec clouds. An Azure AD token is sent only to
/// these hosts unless the caller lists more in [`ClientOptions::azure_ad_hosts`].
pub const AZURE_REGISTRY_SUFFIXES: &[&str] = &[
    ".azurecr.io",
    ".azurecr.cn",
    ".azurecr.us",
    ".azurecr.eaglex.ic.gov",
    ".azurecr.microsoft.scloud",
];

/// Whether `host` (a host name, `host:port` or a URL) is an Azure Container Registry login
/// server by its name ([`AZURE_REGISTRY_SUFFIXES`]). A custom domain is not: see
/// [`Client::is_acr`](crate::Client::is_acr) for ACR recognised by its behaviour.
///
/// ```
/// use azcontainerregistry::is_azure_registry_host;
/// assert!(is_azure_registry_host("myregistry.azurecr.io"));
/// assert!(is_azure_registry_host("https://MyRegistry.azurecr.cn:443/v2/"));
/// assert!(!is_azure_registry_host("azurecr.io.example.com"));
/// ```
pub fn is_azure_registry_host(host: &str) -> bool {
    let rest = host.split_once("://").map_or(host, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let name = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    AZURE_REGISTRY_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Options shared by [`Client`](crate::Client), [`BlobClient`](crate::BlobClient) and
/// [`AuthenticationClient`](crate::AuthenticationClient).
///
/// ```
/// use azcontainerregistry::{Audience, ClientOptions, RetryOptions};
/// use std::time::Duration;
/// let options = ClientOptions {
///     audience: Audience::AzureGovernment,
///     retry: RetryOptions {
///         max_retries: 5,
///         ..Default::default()
///     },
///     user_agent_suffix: Some("my-tool/1.0".into()),
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Azure AD audience for Azure credentials.
    pub audience: Audience,
    /// Retry policy.
    pub retry: RetryOptions,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Appended to `User-Agent: azcontainerregistry-rust/<version>`.
    pub user_agent_suffix: Option<String>,
    /// Proxy URL, `http://proxy:3128` or `https://…` (SOCKS proxies are not supported: a
    /// `socks…://` proxy is an [`Error::Config`](crate::Error::Config)). When `None`, the
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` environment variables apply.
    /// Loopback hosts (`127.0.0.0/8`, `::1`, and `localhost` names that resolve there) are never
    /// proxied. Cannot be combined with `agent` (configure the agent's proxy instead).
    pub proxy: Option<String>,
    /// Use this agent instead of building one. Its connection pool, proxy and TLS settings are
    /// used (but loopback hosts bypass its proxy, and a SOCKS proxy is refused); status handling,
    /// redirects, timeouts and the user agent are still set per request by this crate.
    pub agent: Option<ureq::Agent>,
    /// Allow plain `http://` endpoints that are not loopback addresses. Credentials then travel
    /// unencrypted.
    pub allow_http: bool,
    /// Which API the registry has (default [`Api::Auto`]: decided from its behaviour); see
    /// [`Client::is_acr`](crate::Client::is_acr).
    pub api: Api,
    /// More hosts an Azure AD token may be sent to (`POST /oauth2/exchange`), for a registry
    /// behind a custom domain. By default the token only goes to Azure registry domains:
    /// `*.azurecr.io`, `*.azurecr.cn`, `*.azurecr.us` and the air-gapped clouds'
    /// `*.azurecr.eaglex.ic.gov` and `*.azurecr.microsoft.scloud`; an Azure credential used
    /// with any other host fails with [`Error::Authentication`](crate::Error::Authentication)
    /// before a token is requested. An entry is a host name (`registry.contoso.com`, matched
    /// exactly) or a suffix starting with a dot (`.contoso.com`, matching its subdomains).
    /// The token opens every registry the identity can reach: list only hosts you trust.
    pub azure_ad_hosts: Vec<String>,
    /// How large blobs are downloaded: over several connections in byte ranges (default), or one.
    pub parallel: ParallelOptions,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("audience", &self.audience)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("proxy", &self.proxy.as_deref().map(crate::redact::proxy))
            .field("agent", &self.agent.as_ref().map(|_| "custom"))
            .field("allow_http", &self.allow_http)
            .field("api", &self.api)
            .field("azure_ad_hosts", &self.azure_ad_hosts)
            .field("parallel", &self.parallel)
            .finish()
    }
}

/// Parallel ranged downloads of one blob: above `threshold` bytes, when the first `chunk_size`
/// bytes came slower than `fan_out_below`, a download fetches byte ranges of `chunk_size` over
/// `connections` connections at once, and still hashes the bytes once, in order. Memory stays
/// below `connections × chunk_size`.
///
/// One connection to blob storage is limited by its round-trip time and by what the storage
/// serves per connection; several ranges in flight multiply that. A registry that ignores `Range`
/// (answers `200`), a blob of unknown length or one below the threshold is read over one stream.
///
/// ```
/// use azcontainerregistry::{ClientOptions, ParallelOptions};
/// let options = ClientOptions {
///     parallel: ParallelOptions {
///         connections: 4,
///         ..Default::default()
///     },
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelOptions {
    /// Connections per blob; 1 turns parallel downloads off. Default 8, at most
    /// [`ParallelOptions::MAX_CONNECTIONS`].
    pub connections: usize,
    /// Bytes per range. Default 4 MiB; at least 64 KiB, at most 256 MiB.
    pub chunk_size: u64,
    /// Blobs of at most this many bytes are read over one stream. Default 32 MiB.
    pub threshold: u64,
    /// Bytes per second: when the first range of a large blob comes at least this fast over
    /// the first connection, the download stays on that one stream (several connections only
    /// cost CPU on loopback or a fast LAN). Default 256 MiB/s; `0` never fans out, `u64::MAX`
    /// always does.
    pub fan_out_below: u64,
}

impl ParallelOptions {
    /// The most connections one blob is read over.
    pub const MAX_CONNECTIONS: usize = 32;

    /// One stream per blob.
    pub fn single() -> Self {
        ParallelOptions {
            connections: 1,
            ..Default::default()
        }
    }

    /// Connections, clamped to `1..=MAX_CONNECTIONS`.
    pub(crate) fn connections(&self) -> usize {
        self.connections.clamp(1, Self::MAX_CONNECTIONS)
    }

    /// The range size, clamped to 64 KiB..=256 MiB.
    pub(crate) fn chunk(&self) -> u64 {
        self.chunk_size.clamp(64 * 1024, 256 * 1024 * 1024)
    }
}

impl Default for ParallelOptions {
    fn default() -> Self {
        ParallelOptions {
            connections: 8,
            chunk_size: 4 * 1024 * 1024,
            threshold: 32 * 1024 * 1024,
            fan_out_below: 256 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_proxy_credentials() {
        let o = ClientOptions {
            proxy: Some("http://me:hunter2@proxy:3128".into()),
            ..Default::default()
        };
        let text = format!("{o:?}");
        assert!(
            !text.contains("hunter2") && text.contains("proxy:3128"),
            "{text}"
        );
    }
}
