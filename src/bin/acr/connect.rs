//! Clients for the command line's registries, and what a reference names in them.

use azcontainerregistry::Api as LibApi;
use azcontainerregistry::{Audience, Client, ClientOptions, Credential, Digest, Reference};

use crate::AnyResult;
use crate::args::{Api, Cli};
use crate::credential;
use crate::host::{url_authority, with_scheme};

/// The `--registry` URL (a bare `host[:port]` gets its scheme).
pub fn registry(cli: &Cli) -> AnyResult<String> {
    cli.registry
        .as_deref()
        .map(|r| with_scheme(r, cli.plain_http))
        .ok_or_else(|| "no registry: pass --registry URL or set ACR_REGISTRY".into())
}

/// A client for `registry`, with the credential `--registry` gets.
pub fn client_for(cli: &Cli, registry: &str) -> AnyResult<Client> {
    client_with(cli, registry, credential::for_registry(cli, registry)?)
}

/// A reference relative to `--registry`, or with a registry part of its own (for `copy`), and a
/// client for its registry.
pub fn client_and_ref(cli: &Cli, text: &str) -> AnyResult<(Client, Reference)> {
    let r = Reference::parse(text)?;
    let client = match (r.registry(), registry(cli)) {
        // the same registry as --registry (host AND port: two local registries differ by port only)
        (Some(host), Ok(base)) if url_authority(&base) == url_authority(host) => {
            client_for(cli, &base)?
        }
        (Some(host), _) => {
            let other = with_scheme(host, cli.plain_http);
            client_with(cli, &other, credential::for_other_registry(cli, &other)?)?
        }
        (None, base) => client_for(cli, &base?)?,
    };
    Ok((client, r))
}

/// Whether to use ACR's `/acr/v1` API rather than the OCI one, as `--api` says (auto: the
/// library decides from the registry's host, credential or challenge).
pub fn use_acr_api(client: &Client) -> AnyResult<bool> {
    Ok(client.is_acr()?)
}

/// A client for `registry` signing in with `credential`, with the options the command line gives.
pub fn client_with(cli: &Cli, registry: &str, credential: Credential) -> AnyResult<Client> {
    Ok(Client::new(registry, credential, options(cli))?)
}

/// The client options of the command line: `--api`, `--audience`, `--plain-http`,
/// `--azure-ad-host`, and
/// `--timeout`, which is the whole-request deadline and the retry budget, and caps the connect,
/// response and idle timeouts and the minimum-progress window (a blob transfer runs longer as long
/// as bytes keep moving).
pub fn options(cli: &Cli) -> ClientOptions {
    let mut options = ClientOptions {
        user_agent_suffix: Some("acr-cli".into()),
        allow_http: cli.plain_http,
        azure_ad_hosts: cli.azure_ad_hosts.clone(),
        api: match cli.api {
            Api::Acr => LibApi::Acr,
            Api::Oci => LibApi::Oci,
            Api::Auto => LibApi::Auto,
        },
        ..Default::default()
    };
    options.parallel.connections = usize::from(cli.parallel);
    if let Some(r) = cli.range_size {
        options.parallel.chunk_size = r;
    }
    if let Some(a) = &cli.audience {
        options.audience = Audience::Custom(a.clone());
    }
    let limit = cli.timeout;
    let t = &mut options.timeouts;
    t.total = Some(limit);
    for timeout in [&mut t.connect, &mut t.response, &mut t.idle] {
        *timeout = Some(timeout.map_or(limit, |d| d.min(limit)));
    }
    if let Some(rule) = &mut t.min_progress {
        // a blob connection that moves too little within the limit is abandoned (and resumed)
        rule.window = rule.window.min(limit);
    }
    options.retry.budget = Some(options.retry.budget.map_or(limit, |b| b.min(limit)));
    options
}

/// What a reference names: a manifest (REPO@DIGEST), a tag (REPO:TAG) or a repository (REPO).
pub enum Target<'a> {
    /// A manifest, by digest (a tag given with it is ignored).
    Manifest(&'a Digest),
    /// A tag.
    Tag(&'a str),
    /// The repository itself.
    Repository,
}

impl<'a> Target<'a> {
    /// What `r` names.
    pub fn of(r: &'a Reference) -> Self {
        match (r.digest(), r.tag()) {
            (Some(d), _) => Target::Manifest(d),
            (None, Some(t)) => Target::Tag(t),
            (None, None) => Target::Repository,
        }
    }
}
