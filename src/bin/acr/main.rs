//! `acr`: a crane-like command-line tool for Azure Container Registry and any OCI registry, built only on
//! the library's public API.
//!
//! ```text
//! cargo run --features cli --bin acr -- --registry http://127.0.0.1:5000 push ./layout hello:v1
//! cargo run --features cli --bin acr -- --registry https://myregistry.azurecr.io tags hello --orderby timedesc
//! ```
//!
//! The registry (`--registry` or `ACR_REGISTRY`) is a URL; a bare `host[:port]` means `https://`, or
//! `http://` on loopback. A reference may name its own registry (`127.0.0.1:5001/app:v1`), e.g. to `copy`
//! across registries.
//!
//! Authentication (`--auth`, default `auto`): basic when a username is given; the default Azure credential
//! chain when the registry is an Azure one (`*.azurecr.io`, `*.azurecr.cn`, `*.azurecr.us`); anonymous
//! otherwise, so a local registry never triggers a managed-identity probe.
//!
//! Output, for scripts:
//! - stdout carries the result only: names one per line (`repos`, `tags`, `manifests`), a digest
//!   (`blob put`, `manifest put`, `push`, `pull`, `copy`), a manifest's exact bytes (`manifest get`), a
//!   size (`blob exists`), `DIGEST ARTIFACT_TYPE` lines (`referrers`), one `deleted ...`/`updated ...`/
//!   `mounted ...` line, or readable `show` lines;
//!   `--json` turns listings, `show`, `set`, `referrers` and `delete-repo` into JSON (the wire field
//!   names; `tags --json` lists tag objects with digests and times under the ACR API, names otherwise).
//! - stderr carries notes (what a transfer did, where `--output` went) and progress bars (only when
//!   stderr is a terminal).
//! - An error is ONE stderr line starting `acr: error: `, exit status 1 (2 for usage errors, from the
//!   argument parser). `blob exists` answers like `grep`: 0 and the size when the blob is there, 1 when
//!   it is not, 2 on an error.
//! - `delete` and `delete-repo` succeed when the target is already gone (a note says so when known).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use azcontainerregistry::image::{self, Progress, ProgressKind};
use azcontainerregistry::manifest::Platform;
use azcontainerregistry::{
    ArtifactOrder, Audience, BlobClient, ChangeableAttributes, Client, ClientOptions, Credential,
    Digest, GetManifestOptions, ListManifestsOptions, ListNamesOptions, ListRepositoriesOptions,
    ListTagsOptions, ManifestWriteableProperties, Reference, RepositoryWriteableProperties,
    TagOrDigest, TagWriteableProperties,
};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

#[derive(Parser, Debug)]
#[command(
    name = "acr",
    version,
    about = "Azure Container Registry and OCI registry client (blocking, no runtime)"
)]
struct Cli {
    /// Registry URL, e.g. https://myregistry.azurecr.io or http://127.0.0.1:5000.
    #[arg(long, env = "ACR_REGISTRY", global = true)]
    registry: Option<String>,
    /// How to sign in.
    #[arg(long, value_enum, default_value_t = AuthMode::Auto, global = true)]
    auth: AuthMode,
    /// Username for basic / Docker token authentication.
    #[arg(long, env = "ACR_USERNAME", global = true)]
    username: Option<String>,
    /// Password or token for basic authentication.
    #[arg(long, env = "ACR_PASSWORD", global = true, hide_env_values = true)]
    password: Option<String>,
    /// Azure AD audience (default https://containerregistry.azure.net).
    #[arg(long, global = true)]
    audience: Option<String>,
    /// Which listing API: ACR's /acr/v1 or the OCI /v2 one (auto: ACR for *.azurecr.* hosts).
    #[arg(long, value_enum, default_value_t = Api::Auto, global = true)]
    api: Api,
    /// Print JSON for listings and `show`.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum AuthMode {
    Auto,
    Anonymous,
    Basic,
    AzureCli,
    ManagedIdentity,
    WorkloadIdentity,
    ClientSecret,
    Default,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Api {
    Auto,
    Acr,
    Oci,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Order {
    Timedesc,
    Timeasc,
}

impl From<Order> for ArtifactOrder {
    fn from(o: Order) -> Self {
        match o {
            Order::Timedesc => ArtifactOrder::LastUpdatedOnDescending,
            Order::Timeasc => ArtifactOrder::LastUpdatedOnAscending,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List repositories.
    Repos {
        #[arg(long)]
        page_size: Option<u32>,
        #[arg(long)]
        last: Option<String>,
    },
    /// List the tags of a repository.
    Tags {
        repo: String,
        #[arg(long)]
        page_size: Option<u32>,
        #[arg(long)]
        orderby: Option<Order>,
        #[arg(long)]
        digest: Option<String>,
    },
    /// List the manifests of a repository (ACR).
    Manifests {
        repo: String,
        #[arg(long)]
        page_size: Option<u32>,
        #[arg(long)]
        orderby: Option<Order>,
    },
    /// Show the properties of a repository, tag (REPO:TAG) or manifest (REPO@DIGEST) (ACR).
    Show { target: String },
    /// Set the read/write/delete/list permissions of a repository, tag or manifest (ACR).
    Set {
        target: String,
        #[arg(long)]
        can_read: Option<bool>,
        #[arg(long)]
        can_write: Option<bool>,
        #[arg(long)]
        can_delete: Option<bool>,
        #[arg(long)]
        can_list: Option<bool>,
    },
    /// Delete a tag (REPO:TAG) or a manifest (REPO@DIGEST).
    Delete { target: String },
    /// Delete a repository with all its tags and manifests (ACR).
    DeleteRepo { repo: String },
    /// Manifest operations.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Blob operations.
    #[command(subcommand)]
    Blob(BlobCommand),
    /// Pull an image into an OCI image layout directory.
    Pull {
        reference: String,
        dir: PathBuf,
        /// Only this platform (os/arch[/variant]); repeatable.
        #[arg(long)]
        platform: Vec<String>,
    },
    /// Push an image from an OCI image layout directory (DIR or DIR:NAME).
    Push { dir: String, reference: String },
    /// Copy an image (mounts within a registry, streams across registries).
    Copy {
        source: String,
        destination: String,
        #[arg(long)]
        platform: Vec<String>,
    },
    /// List the referrers (signatures, SBOMs, ...) of a manifest.
    Referrers {
        reference: String,
        #[arg(long)]
        artifact_type: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ManifestCommand {
    /// Print a manifest's bytes as received (or write them to --output).
    Get {
        reference: String,
        /// Accepted media type; repeatable; default: every manifest type.
        #[arg(long)]
        accept: Vec<String>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Upload a manifest from a file.
    Put {
        reference: String,
        file: PathBuf,
        /// Media type; default: the file's `mediaType` field.
        #[arg(long)]
        media_type: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum BlobCommand {
    /// Download a blob, verified, to a file.
    Get {
        reference: String,
        #[arg(long)]
        output: PathBuf,
    },
    /// Upload a file as a blob; prints its digest.
    Put {
        repo: String,
        file: PathBuf,
        #[arg(long)]
        chunk_size: Option<usize>,
    },
    /// Exit 0 and print the size when the blob exists, exit 1 otherwise.
    Exists { reference: String },
    /// Mount a blob from another repository of the same registry.
    Mount {
        reference: String,
        #[arg(long)]
        from: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            let mut text = e.to_string().replace(['\r', '\n'], " ");
            if acr_only(&cli.command).is_some() && without_acr_api(e.as_ref()) {
                text.push_str(
                    " (does this registry have the ACR API? show, set, manifests and delete-repo need \
                     Azure Container Registry)",
                );
            }
            eprintln!("acr: error: {text}");
            // `blob exists` is a predicate: 1 means "absent", so an error must be something else
            if matches!(cli.command, Command::Blob(BlobCommand::Exists { .. })) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The name of a command that only Azure Container Registry's `/acr/v1` API serves.
fn acr_only(command: &Command) -> Option<&'static str> {
    match command {
        Command::Show { .. } => Some("show"),
        Command::Set { .. } => Some("set"),
        Command::Manifests { .. } => Some("manifests"),
        Command::DeleteRepo { .. } => Some("delete-repo"),
        _ => None,
    }
}

/// A bare 404 (no registry error body): what a registry without the `/acr/v1` routes answers.
fn without_acr_api(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<azcontainerregistry::Error>()
        .and_then(|e| e.registry_error())
        .is_some_and(|r| r.status == 404 && r.errors.is_empty())
}

/// An I/O error on `path`, naming it.
fn file_error(path: &std::path::Path, what: &str) -> impl FnOnce(io::Error) -> String {
    let path = path.display().to_string();
    let what = what.to_string();
    move |e| format!("cannot {what} {path}: {e}")
}

fn is_azure_host(registry: &str) -> bool {
    let host = url_host(registry);
    [".azurecr.io", ".azurecr.cn", ".azurecr.us"]
        .iter()
        .any(|s| host.ends_with(s))
}

/// `host[:port]` of a registry URL (or of a bare `host[:port]`), lowercase.
fn url_authority(registry: &str) -> String {
    let rest = registry.split_once("://").map_or(registry, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, a)| a)
        .to_ascii_lowercase()
}

/// The host of a registry URL (or of a bare `host[:port]`), lowercase, IPv6 in brackets.
fn url_host(registry: &str) -> String {
    let authority = url_authority(registry);
    match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.starts_with('[') || host.ends_with(']')) =>
        {
            host.to_string()
        }
        _ => authority,
    }
}

fn credential(cli: &Cli, registry: &str) -> AnyResult<Credential> {
    let basic = || -> AnyResult<Credential> {
        let user = cli
            .username
            .clone()
            .ok_or("--auth basic needs --username (or ACR_USERNAME)")?;
        let pass = cli
            .password
            .clone()
            .ok_or("--auth basic needs --password (or ACR_PASSWORD)")?;
        Ok(Credential::basic(user, pass))
    };
    let mode = match cli.auth {
        AuthMode::Auto if cli.username.is_some() => AuthMode::Basic,
        AuthMode::Auto if cli.password.is_some() => {
            return Err(
                "a password needs a username: pass --username (or ACR_USERNAME) too".into(),
            );
        }
        AuthMode::Auto if is_azure_host(registry) => AuthMode::Default,
        AuthMode::Auto => AuthMode::Anonymous,
        m => m,
    };
    match mode {
        AuthMode::Anonymous | AuthMode::Auto => Ok(Credential::anonymous()),
        AuthMode::Basic => basic(),
        other => azure_credential(other),
    }
}

#[cfg(feature = "azure")]
fn azure_credential(mode: AuthMode) -> AnyResult<Credential> {
    let env = |k: &str| {
        std::env::var(k).map_err(|_| format!("--auth client-secret needs {k} in the environment"))
    };
    Ok(match mode {
        AuthMode::AzureCli => Credential::azure_cli()?,
        AuthMode::ManagedIdentity => {
            Credential::azure_managed_identity(std::env::var("AZURE_CLIENT_ID").ok().as_deref())?
        }
        AuthMode::WorkloadIdentity => Credential::azure_workload_identity()?,
        AuthMode::ClientSecret => Credential::azure_client_secret(
            &env("AZURE_TENANT_ID")?,
            &env("AZURE_CLIENT_ID")?,
            env("AZURE_CLIENT_SECRET")?,
        )?,
        _ => Credential::azure_default()?,
    })
}

#[cfg(not(feature = "azure"))]
fn azure_credential(_mode: AuthMode) -> AnyResult<Credential> {
    Err("Azure AD sign-in needs the `azure` feature (build without --no-default-features)".into())
}

fn client_for(cli: &Cli, registry: &str) -> AnyResult<Client> {
    client_with(cli, registry, credential(cli, registry)?)
}

/// A client for a registry named only inside a reference (e.g. the other side of `copy`). A username and
/// password belong to `--registry`: they are never sent elsewhere. Azure AD sign-in is used for other
/// Azure registries (its token only goes to each registry's own endpoint); anything else is anonymous.
fn client_for_other(cli: &Cli, registry: &str) -> AnyResult<Client> {
    let azure = is_azure_host(registry)
        && !matches!(cli.auth, AuthMode::Anonymous | AuthMode::Basic)
        && !(cli.auth == AuthMode::Auto && cli.username.is_some());
    let credential = if azure {
        let mode = if cli.auth == AuthMode::Auto {
            AuthMode::Default
        } else {
            cli.auth
        };
        azure_credential(mode)?
    } else {
        if cli.username.is_some() {
            eprintln!(
                "acr: note: credentials are only sent to --registry; {registry} is accessed anonymously"
            );
        }
        Credential::anonymous()
    };
    client_with(cli, registry, credential)
}

fn client_with(cli: &Cli, registry: &str, credential: Credential) -> AnyResult<Client> {
    let mut options = ClientOptions {
        user_agent_suffix: Some("acr-cli".into()),
        ..Default::default()
    };
    if let Some(a) = &cli.audience {
        options.audience = Audience::Custom(a.clone());
    }
    Ok(Client::new(registry, credential, options)?)
}

fn registry(cli: &Cli) -> AnyResult<String> {
    cli.registry
        .as_deref()
        .map(with_scheme)
        .ok_or_else(|| "no registry: pass --registry URL or set ACR_REGISTRY".into())
}

/// A registry URL; a bare `host[:port]` gets `http://` on loopback, `https://` elsewhere.
fn with_scheme(registry: &str) -> String {
    if registry.contains("://") {
        return registry.to_string();
    }
    let loopback = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|l| url_host(registry) == *l);
    if loopback {
        format!("http://{registry}")
    } else {
        format!("https://{registry}")
    }
}

fn use_acr_api(cli: &Cli, registry: &str) -> bool {
    match cli.api {
        Api::Acr => true,
        Api::Oci => false,
        Api::Auto => is_azure_host(registry),
    }
}

/// A reference relative to the --registry, or with a registry part of its own (for `copy`).
fn client_and_ref(cli: &Cli, text: &str) -> AnyResult<(Client, Reference)> {
    let r = Reference::parse(text)?;
    let base = registry(cli).ok();
    let client = match (r.registry(), &base) {
        // the same registry as --registry (host AND port: two local registries differ by port only)
        (Some(host), Some(b)) if url_authority(b) == url_authority(host) => client_for(cli, b)?,
        (Some(host), _) => client_for_other(cli, &with_scheme(host))?,
        (None, Some(b)) => client_for(cli, b)?,
        (None, None) => return Err("no registry: pass --registry URL or set ACR_REGISTRY".into()),
    };
    Ok((client, r))
}

fn print_json(value: &impl serde::Serialize) -> AnyResult<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn run(cli: &Cli) -> AnyResult<ExitCode> {
    if let Some(name) = acr_only(&cli.command)
        && cli.api == Api::Oci
    {
        return Err(
            format!("{name} needs the ACR API (/acr/v1); it cannot work with --api oci").into(),
        );
    }
    match &cli.command {
        Command::Repos { page_size, last } => {
            let reg = registry(cli)?;
            let client = client_for(cli, &reg)?;
            let names: Vec<String> = if use_acr_api(cli, &reg) {
                let o = ListRepositoriesOptions {
                    page_size: *page_size,
                    last: last.clone(),
                    ..Default::default()
                };
                client.list_repositories(o).collect::<Result<_, _>>()?
            } else {
                let o = ListNamesOptions {
                    page_size: *page_size,
                    last: last.clone(),
                    ..Default::default()
                };
                client.list_catalog(o).collect::<Result<_, _>>()?
            };
            if cli.json {
                print_json(&names)?
            } else {
                names.iter().for_each(|n| println!("{n}"))
            }
        }
        Command::Tags {
            repo,
            page_size,
            orderby,
            digest,
        } => {
            let reg = registry(cli)?;
            let client = client_for(cli, &reg)?;
            if use_acr_api(cli, &reg) {
                let digest = digest.as_deref().map(Digest::parse).transpose()?;
                let o = ListTagsOptions {
                    page_size: *page_size,
                    order_by: orderby.map(Into::into),
                    digest,
                    ..Default::default()
                };
                let tags = client.list_tags(repo, o).collect::<Result<Vec<_>, _>>()?;
                if cli.json {
                    print_json(&tags)?
                } else {
                    tags.iter().for_each(|t| println!("{}", t.name))
                }
            } else {
                if orderby.is_some() || digest.is_some() {
                    return Err("--orderby and --digest need the ACR API (--api acr)".into());
                }
                let o = ListNamesOptions {
                    page_size: *page_size,
                    ..Default::default()
                };
                let tags = client
                    .list_tag_names(repo, o)
                    .collect::<Result<Vec<_>, _>>()?;
                if cli.json {
                    print_json(&tags)?
                } else {
                    tags.iter().for_each(|t| println!("{t}"))
                }
            }
        }
        Command::Manifests {
            repo,
            page_size,
            orderby,
        } => {
            let client = client_for(cli, &registry(cli)?)?;
            let o = ListManifestsOptions {
                page_size: *page_size,
                order_by: orderby.map(Into::into),
                ..Default::default()
            };
            let manifests = client
                .list_manifests(repo, o)
                .collect::<Result<Vec<_>, _>>()?;
            if cli.json {
                print_json(&manifests)?
            } else {
                manifests.iter().for_each(|m| println!("{}", m.digest))
            }
        }
        Command::Show { target } => {
            let (client, r) = client_and_ref(cli, target)?;
            show(cli, &client, &r)?;
        }
        Command::Set {
            target,
            can_read,
            can_write,
            can_delete,
            can_list,
        } => {
            if [can_read, can_write, can_delete, can_list]
                .iter()
                .all(|v| v.is_none())
            {
                return Err("nothing to set: give at least one of --can-read, --can-write, --can-delete, --can-list".into());
            }
            let (client, r) = client_and_ref(cli, target)?;
            let repo = r.repository();
            match (r.digest(), r.tag()) {
                (Some(d), _) => {
                    let p = ManifestWriteableProperties {
                        can_read: *can_read,
                        can_write: *can_write,
                        can_delete: *can_delete,
                        can_list: *can_list,
                    };
                    let m = client.update_manifest_properties(repo, d.as_str(), &p)?;
                    if cli.json {
                        print_json(&m)?
                    } else {
                        println!(
                            "updated {repo}@{} ({})",
                            m.manifest.digest,
                            permissions(&m.manifest.changeable_attributes)
                        )
                    }
                }
                (None, Some(t)) => {
                    let p = TagWriteableProperties {
                        can_read: *can_read,
                        can_write: *can_write,
                        can_delete: *can_delete,
                        can_list: *can_list,
                    };
                    let tag = client.update_tag_properties(repo, t, &p)?;
                    if cli.json {
                        print_json(&tag)?
                    } else {
                        println!(
                            "updated {repo}:{} ({})",
                            tag.tag.name,
                            permissions(&tag.tag.changeable_attributes)
                        )
                    }
                }
                (None, None) => {
                    let p = RepositoryWriteableProperties {
                        can_read: *can_read,
                        can_write: *can_write,
                        can_delete: *can_delete,
                        can_list: *can_list,
                    };
                    let props = client.update_repository_properties(repo, &p)?;
                    if cli.json {
                        print_json(&props)?
                    } else {
                        println!(
                            "updated {} ({})",
                            props.name,
                            permissions(&props.changeable_attributes)
                        )
                    }
                }
            }
        }
        Command::Delete { target } => {
            let (client, r) = client_and_ref(cli, target)?;
            let repo = r.repository();
            match (r.digest(), r.tag()) {
                (Some(d), _) => {
                    client.delete_manifest(repo, d.as_str())?;
                    println!("deleted {repo}@{d}");
                }
                (None, Some(t)) => {
                    if use_acr_api(cli, client.endpoint()) {
                        client.delete_tag(repo, t)?;
                        println!("deleted {repo}:{t}");
                    } else {
                        // the OCI API cannot remove a tag alone: delete the manifest it names, by the
                        // digest resolved here (so it is the manifest the note names)
                        match client.manifest_exists(repo, t)? {
                            Some(info) => {
                                client.delete_manifest(repo, info.digest.as_str())?;
                                eprintln!(
                                    "acr: note: the OCI API cannot untag; deleted manifest {} (and every tag on it)",
                                    info.digest
                                );
                            }
                            None => {
                                eprintln!("acr: note: {repo}:{t} does not exist; nothing to delete")
                            }
                        }
                        println!("deleted {repo}:{t}");
                    }
                }
                (None, None) => {
                    return Err(
                        "delete needs REPO:TAG or REPO@DIGEST (use delete-repo for a repository)"
                            .into(),
                    );
                }
            }
        }
        Command::DeleteRepo { repo } => {
            let client = client_for(cli, &registry(cli)?)?;
            let result = client.delete_repository(repo)?;
            if result.deleted_manifests.is_empty() && result.deleted_tags.is_empty() {
                // a 404 counts as done, and so does a registry without the ACR API: say which
                eprintln!(
                    "acr: note: the registry reported nothing deleted: {repo} does not exist (or the registry has no ACR API)"
                );
            }
            if cli.json {
                print_json(&result)?
            } else {
                println!(
                    "deleted {repo}: {} manifests, {} tags",
                    result.deleted_manifests.len(),
                    result.deleted_tags.len()
                )
            }
        }
        Command::Manifest(ManifestCommand::Get {
            reference,
            accept,
            output,
        }) => {
            let (client, r) = client_and_ref(cli, reference)?;
            let options = GetManifestOptions {
                accept: if accept.is_empty() {
                    None
                } else {
                    Some(accept.clone())
                },
            };
            let m =
                client.get_manifest_with(r.repository(), r.tag_or_digest().as_str(), options)?;
            match output {
                Some(path) => {
                    std::fs::write(path, &m.bytes).map_err(file_error(path, "write"))?;
                    eprintln!(
                        "{} {} ({} bytes) -> {}",
                        m.digest,
                        m.media_type,
                        m.bytes.len(),
                        path.display()
                    );
                }
                None => io::stdout().write_all(&m.bytes)?,
            }
        }
        Command::Manifest(ManifestCommand::Put {
            reference,
            file,
            media_type,
        }) => {
            let (client, r) = client_and_ref(cli, reference)?;
            let bytes = std::fs::read(file).map_err(file_error(file, "read"))?;
            let media_type = match media_type {
                Some(m) => m.clone(),
                None => serde_json::from_slice::<serde_json::Value>(&bytes)?
                    .get("mediaType")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or("the manifest has no mediaType field: pass --media-type")?,
            };
            let digest = client.upload_manifest(
                r.repository(),
                r.tag_or_digest().as_str(),
                &bytes,
                &media_type,
            )?;
            println!("{digest}");
        }
        Command::Blob(cmd) => return blob(cli, cmd),
        Command::Pull {
            reference,
            dir,
            platform,
        } => {
            let (client, r) = client_and_ref(cli, reference)?;
            let platforms = platform
                .iter()
                .map(|p| Platform::parse(p))
                .collect::<Result<Vec<_>, _>>()?;
            let bars = Bars::new();
            let options = image::PullOptions {
                platforms,
                progress: bars.callback(),
                ..Default::default()
            };
            let report = image::pull(&client, &r.to_string(), dir, options)?;
            bars.finish();
            println!("{}", report.digest);
            eprintln!(
                "pulled {} ({} blobs fetched, {} already there, {} bytes)",
                report.digest,
                report.blobs_transferred,
                report.blobs_skipped,
                report.bytes_transferred
            );
        }
        Command::Push { dir, reference } => {
            let (client, r) = client_and_ref(cli, reference)?;
            let (path, name) = split_layout(dir);
            let bars = Bars::new();
            let options = image::PushOptions {
                progress: bars.callback(),
                ..Default::default()
            };
            let report = image::push(&client, path, name, &r.to_string(), options)?;
            bars.finish();
            println!("{}", report.digest);
            eprintln!(
                "pushed {} ({} blobs uploaded, {} already there)",
                report.digest, report.blobs_transferred, report.blobs_skipped
            );
        }
        Command::Copy {
            source,
            destination,
            platform,
        } => {
            let (from, s) = client_and_ref(cli, source)?;
            let (to, d) = client_and_ref(cli, destination)?;
            let platforms = platform
                .iter()
                .map(|p| Platform::parse(p))
                .collect::<Result<Vec<_>, _>>()?;
            let bars = Bars::new();
            let options = image::CopyOptions {
                platforms,
                progress: bars.callback(),
                ..Default::default()
            };
            let report = image::copy(
                &from,
                &strip_registry(&s),
                &to,
                &strip_registry(&d),
                options,
            )?;
            bars.finish();
            println!("{}", report.digest);
            eprintln!(
                "copied {} ({} blobs moved, {} mounted or already there)",
                report.digest, report.blobs_transferred, report.blobs_skipped
            );
        }
        Command::Referrers {
            reference,
            artifact_type,
        } => {
            let (client, r) = client_and_ref(cli, reference)?;
            let digest = match r.tag_or_digest() {
                TagOrDigest::Digest(d) => d,
                TagOrDigest::Tag(t) => client.get_manifest(r.repository(), &t)?.digest,
            };
            let list = client.list_referrers(r.repository(), &digest, artifact_type.as_deref())?;
            if cli.json {
                print_json(&list)?
            } else {
                for d in list {
                    println!(
                        "{} {}",
                        d.digest,
                        d.artifact_type.as_deref().unwrap_or(&d.media_type)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn strip_registry(r: &Reference) -> String {
    let mut s = r.repository().to_string();
    if let Some(t) = r.tag() {
        s = format!("{s}:{t}");
    }
    if let Some(d) = r.digest() {
        s = format!("{s}@{d}");
    }
    s
}

/// `DIR` or `DIR:NAME` (a name in the layout's index.json).
fn split_layout(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once(':') {
        Some((dir, name))
            if !dir.is_empty() && !name.contains('/') && !std::path::Path::new(s).exists() =>
        {
            (dir, Some(name))
        }
        _ => (s, None),
    }
}

/// `can read/write/delete/list: yes/no/yes/yes` (`-` for an attribute the registry did not send).
fn permissions(c: &ChangeableAttributes) -> String {
    let yes_no = |b: Option<bool>| b.map_or("-", |b| if b { "yes" } else { "no" });
    format!(
        "can read/write/delete/list: {}/{}/{}/{}",
        yes_no(c.can_read),
        yes_no(c.can_write),
        yes_no(c.can_delete),
        yes_no(c.can_list)
    )
}

fn show(cli: &Cli, client: &Client, r: &Reference) -> AnyResult<()> {
    let repo = r.repository();
    match (r.digest(), r.tag()) {
        (Some(d), _) => {
            let p = client.get_manifest_properties(repo, d.as_str())?;
            if cli.json {
                return print_json(&p);
            }
            let m = &p.manifest;
            println!("manifest:      {repo}@{}", m.digest);
            println!("media type:    {}", m.media_type.as_deref().unwrap_or("-"));
            println!(
                "platform:      {}/{}",
                m.operating_system.as_deref().unwrap_or("-"),
                m.architecture.as_deref().unwrap_or("-")
            );
            println!(
                "size:          {}",
                m.size.map_or("-".into(), |s| s.to_string())
            );
            println!("tags:          {}", m.tags.join(", "));
            println!(
                "created:       {}",
                m.created_on.as_ref().map_or("-".into(), |t| t.to_string())
            );
            println!(
                "last updated:  {}",
                m.last_updated_on
                    .as_ref()
                    .map_or("-".into(), |t| t.to_string())
            );
            let c = &m.changeable_attributes;
            println!("{}", permissions(c));
        }
        (None, Some(t)) => {
            let p = client.get_tag_properties(repo, t)?;
            if cli.json {
                return print_json(&p);
            }
            println!("tag:           {repo}:{}", p.tag.name);
            println!("digest:        {}", p.tag.digest);
            println!(
                "created:       {}",
                p.tag
                    .created_on
                    .as_ref()
                    .map_or("-".into(), |t| t.to_string())
            );
            println!(
                "last updated:  {}",
                p.tag
                    .last_updated_on
                    .as_ref()
                    .map_or("-".into(), |t| t.to_string())
            );
            let c = &p.tag.changeable_attributes;
            println!("{}", permissions(c));
        }
        (None, None) => {
            let p = client.get_repository_properties(repo)?;
            if cli.json {
                return print_json(&p);
            }
            println!("repository:    {}", p.name);
            println!("registry:      {}", p.registry_login_server);
            println!("manifests:     {}", p.manifest_count);
            println!("tags:          {}", p.tag_count);
            println!(
                "created:       {}",
                p.created_on.as_ref().map_or("-".into(), |t| t.to_string())
            );
            println!(
                "last updated:  {}",
                p.last_updated_on
                    .as_ref()
                    .map_or("-".into(), |t| t.to_string())
            );
            let c = &p.changeable_attributes;
            println!("{}", permissions(c));
        }
    }
    Ok(())
}

fn blob(cli: &Cli, cmd: &BlobCommand) -> AnyResult<ExitCode> {
    let digest_ref = |text: &str| -> AnyResult<(BlobClient, String, Digest)> {
        let (client, r) = client_and_ref(cli, text)?;
        let d = r.digest().cloned().ok_or("a blob is named REPO@DIGEST")?;
        Ok((client.blob_client(), r.repository().to_string(), d))
    };
    match cmd {
        BlobCommand::Get { reference, output } => {
            let (blobs, repo, digest) = digest_ref(reference)?;
            let size = blobs
                .check_blob_exists(&repo, &digest)?
                .ok_or_else(|| format!("blob {digest} not found in {repo}"))?;
            let bar = single_bar(size, "download");
            let written = blobs.download_blob_to(&repo, &digest, output)?;
            bar.finish_and_clear();
            eprintln!("{digest}: {written} bytes verified -> {}", output.display());
        }
        BlobCommand::Put {
            repo,
            file,
            chunk_size,
        } => {
            let client = client_for(cli, &registry(cli)?)?;
            let f = File::open(file).map_err(file_error(file, "open"))?;
            let size = f.metadata().map_err(file_error(file, "read"))?.len();
            let bar = single_bar(size, "upload");
            let mut options = azcontainerregistry::UploadOptions::default();
            if let Some(c) = chunk_size {
                options.chunk_size = *c;
                options.mode = azcontainerregistry::UploadMode::Chunked;
            }
            let uploaded =
                client
                    .blob_client()
                    .upload_blob_seekable(repo, bar.wrap_read(f), options)?;
            bar.finish_and_clear();
            println!("{}", uploaded.digest);
        }
        BlobCommand::Exists { reference } => {
            let (blobs, repo, digest) = digest_ref(reference)?;
            return Ok(match blobs.check_blob_exists(&repo, &digest)? {
                Some(size) => {
                    println!("{size}");
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("{repo}@{digest} does not exist");
                    ExitCode::from(1)
                }
            });
        }
        BlobCommand::Mount { reference, from } => {
            let (blobs, repo, digest) = digest_ref(reference)?;
            match blobs.mount_blob(&repo, from, &digest)? {
                azcontainerregistry::MountOutcome::Mounted => {
                    println!("mounted {digest} from {from} into {repo}")
                }
                azcontainerregistry::MountOutcome::UploadStarted(session) => {
                    let _ = blobs.cancel_upload(&session);
                    return Err(format!("the registry did not mount {digest} from {from} (no access to it, or it is not there)").into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn draw_target() -> ProgressDrawTarget {
    if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn single_bar(size: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), draw_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

/// One bar per blob plus a total, drawn only when stderr is a terminal.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    per_blob: Arc<Mutex<std::collections::HashMap<String, ProgressBar>>>,
}

impl Bars {
    fn new() -> Self {
        let multi = MultiProgress::with_draw_target(draw_target());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "total [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ({msg})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bars {
            multi,
            total,
            per_blob: Arc::default(),
        }
    }

    fn callback(&self) -> Option<image::ProgressFn> {
        let (multi, total, per_blob) = (
            self.multi.clone(),
            self.total.clone(),
            self.per_blob.clone(),
        );
        Some(Arc::new(move |p: &Progress| {
            total.set_length(p.bytes_total);
            total.set_position(p.bytes_done);
            total.set_message(format!("{}/{} blobs", p.blobs_done, p.blobs_total));
            let key = p.digest.to_string();
            let mut bars = per_blob.lock().unwrap_or_else(|e| e.into_inner());
            match p.kind {
                ProgressKind::Started => {
                    let bar = multi.add(ProgressBar::new(p.size));
                    bar.set_style(
                        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message(p.digest.hex()[..12].to_string());
                    bars.insert(key, bar);
                }
                ProgressKind::Advanced => {
                    if let Some(b) = bars.get(&key) {
                        b.set_position(p.transferred);
                    }
                }
                _ => {
                    if let Some(b) = bars.remove(&key) {
                        b.finish_and_clear();
                    }
                }
            }
        }))
    }

    fn finish(&self) {
        self.total.finish_and_clear();
    }
}
