//! The command line as clap parses it: the global options, the commands and their arguments.
//!
//! A `///` comment on a field or variant here is its `--help` text: every argument has one (a
//! test reads each command's `--help`); the value enums carry plain `//` comments, their values
//! being listed by the option that takes them.

use std::path::PathBuf;
use std::time::Duration;

use azcontainerregistry::{ArtifactOrder, ChangeableAttributes};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The whole command line: the global options and one command.
#[derive(Parser, Debug)]
#[command(
    name = "acr",
    version,
    about = "Azure Container Registry and OCI registry client (blocking, no runtime)"
)]
pub struct Cli {
    /// Registry URL, e.g. https://myregistry.azurecr.io or http://127.0.0.1:5000.
    #[arg(long, env = "ACR_REGISTRY", global = true)]
    pub registry: Option<String>,
    /// How to sign in.
    #[arg(long, value_enum, default_value_t = AuthMode::Auto, global = true)]
    pub auth: AuthMode,
    /// Username for basic / Docker token authentication.
    #[arg(short = 'u', long, env = "ACR_USERNAME", global = true)]
    pub username: Option<String>,
    /// Password or token for basic authentication (visible to other users: prefer
    /// --password-stdin or ACR_PASSWORD).
    #[arg(
        short = 'p',
        long,
        env = "ACR_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Read the password or token from stdin (one line).
    #[arg(long, global = true, conflicts_with = "password")]
    pub password_stdin: bool,
    /// Azure AD audience (default: from the host; https://containerregistry.azure.net, or the
    /// cloud of a *.azurecr.cn or *.azurecr.us registry).
    #[arg(long, global = true)]
    pub audience: Option<String>,
    /// Which API: ACR's /acr/v1 or the OCI /v2 one (auto: ACR for *.azurecr.* hosts, Azure AD
    /// sign-in, and registries whose challenge names their own /oauth2/token).
    #[arg(long, value_enum, default_value_t = Api::Auto, global = true)]
    pub api: Api,
    /// Print JSON: listings, show, set, referrers, discover, attach, delete-repo, push, pull,
    /// copy, purge and artifact.
    #[arg(long, global = true)]
    pub json: bool,
    /// Give up on a registry that does not answer after this long (e.g. 90s, 5m, 1h; plain
    /// numbers are seconds). Bounds every request and its retries; a blob transfer may run
    /// longer as long as bytes keep moving.
    #[arg(long, global = true, value_name = "DURATION", default_value = "2m",
          value_parser = parse_duration)]
    pub timeout: Duration,
    /// Allow plain http:// to a registry that is not on loopback (e.g. on the LAN); a bare
    /// HOST:PORT then means http://. Credentials travel unencrypted.
    #[arg(long, global = true)]
    pub plain_http: bool,
    /// Also send Azure AD tokens to this host (a custom domain of an Azure registry; repeatable;
    /// .example.com for its subdomains). Without it they go only to Azure registry hosts
    /// (*.azurecr.io, .cn, .us and the air-gapped clouds').
    #[arg(long = "azure-ad-host", value_name = "HOST", global = true)]
    pub azure_ad_hosts: Vec<String>,
    /// Connections per blob download: a blob above 32 MiB comes in byte ranges over this many
    /// connections at once (1: one stream). Default 8.
    #[arg(long, global = true, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub parallel: u16,
    /// Bytes per range of a parallel download (64 KiB to 256 MiB). Default 4 MiB.
    #[arg(long, global = true, value_name = "BYTES")]
    pub range_size: Option<u64>,
    /// Log more on stderr: -v info, -vv debug, -vvv trace (secrets are redacted).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log at debug level, like RUST_LOG=debug (secrets are redacted).
    #[arg(long, global = true)]
    pub debug: bool,
    // the command to run
    #[command(subcommand)]
    pub command: Command,
}

/// The `--auth` values: how to sign in (`auto`: the username and password given, else Docker's and
/// the containers' credentials for the registry, else Azure AD for Azure registries, else none).
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    // no help text: the variants are listed as `--auth`'s possible values
    Auto,
    Anonymous,
    Basic,
    Docker,
    AzureCli,
    ManagedIdentity,
    WorkloadIdentity,
    ClientSecret,
    Default,
}

/// The `--api` values: which listing API to use (`auto`: ACR's for Azure registries).
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Api {
    // no help text: the variants are listed as `--api`'s possible values
    Auto,
    Acr,
    Oci,
}

/// The `--orderby` values of the ACR listings.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Order {
    // no help text: the variants are listed as `--orderby`'s possible values
    Timedesc,
    Timeasc,
}

impl From<Order> for ArtifactOrder {
    /// The library's order for an `--orderby` value.
    fn from(o: Order) -> Self {
        match o {
            Order::Timedesc => ArtifactOrder::LastUpdatedOnDescending,
            Order::Timeasc => ArtifactOrder::LastUpdatedOnAscending,
        }
    }
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in to a registry and store the credential as `docker login` does.
    Login {
        /// The registry (default: --registry).
        registry: Option<String>,
        /// Sign in with Azure AD (as --auth says) and store an ACR refresh token, like
        /// `az acr login`.
        #[arg(long)]
        azure: bool,
    },
    /// Remove the stored credential of a registry, as `docker logout` does.
    Logout {
        /// The registry (default: --registry).
        registry: Option<String>,
    },
    /// List the repositories of a registry (like `repos`, the registry as an argument).
    #[command(visible_alias = "ls")]
    Catalog {
        /// The registry (default: --registry).
        registry: Option<String>,
        /// Names per request (the registry may send fewer).
        #[arg(long)]
        page_size: Option<u32>,
    },
    /// Print the digest of a manifest (REPO:TAG).
    Digest {
        /// The manifest: REPO:TAG or REPO@DIGEST.
        reference: String,
    },
    /// Tag a manifest with another tag in its repository (no blob is copied).
    Tag {
        /// The manifest: REPO:TAG or REPO@DIGEST.
        reference: String,
        /// The new tag, in the same repository.
        tag: String,
    },
    /// Print an image's config blob.
    Config {
        /// The image: REPO:TAG or REPO@DIGEST.
        reference: String,
        /// The platform to pick from an index (os/arch[/variant]; default linux/amd64).
        #[arg(long)]
        platform: Option<String>,
    },
    /// List repositories.
    Repos {
        /// Names per request (the registry may send fewer).
        #[arg(long)]
        page_size: Option<u32>,
        /// Start after this repository name.
        #[arg(long)]
        last: Option<String>,
    },
    /// List the tags of a repository.
    Tags {
        /// The repository.
        repo: String,
        /// Tags per request (the registry may send fewer).
        #[arg(long)]
        page_size: Option<u32>,
        /// Order by last update (ACR API only).
        #[arg(long)]
        orderby: Option<Order>,
        /// Only the tags of this manifest digest (ACR API only).
        #[arg(long)]
        digest: Option<String>,
    },
    /// List the manifests of a repository (ACR).
    Manifests {
        /// The repository.
        repo: String,
        /// Manifests per request (the registry may send fewer).
        #[arg(long)]
        page_size: Option<u32>,
        /// Order by last update.
        #[arg(long)]
        orderby: Option<Order>,
    },
    /// Show the properties of a repository, tag (REPO:TAG) or manifest (REPO@DIGEST) (ACR).
    Show {
        /// REPO, REPO:TAG or REPO@DIGEST.
        target: String,
    },
    /// Set the read/write/delete/list permissions of a repository, tag or manifest (ACR).
    Set {
        /// REPO, REPO:TAG or REPO@DIGEST.
        target: String,
        #[command(flatten)]
        permissions: PermissionFlags,
    },
    /// Delete a tag (REPO:TAG) or a manifest (REPO@DIGEST).
    Delete {
        /// REPO:TAG or REPO@DIGEST.
        target: String,
    },
    /// Delete a repository with all its tags and manifests (ACR).
    DeleteRepo {
        /// The repository.
        repo: String,
    },
    /// Manifest operations.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Blob operations.
    #[command(subcommand)]
    Blob(BlobCommand),
    /// Pull an image into an OCI image layout directory.
    Pull {
        /// The image: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// The OCI image layout directory (created when missing).
        dir: PathBuf,
        /// Only this platform (os/arch[/variant]); repeatable.
        #[arg(long)]
        platform: Vec<String>,
        /// Also pull the referrers (signatures, SBOMs, ...) of the image and of each platform
        /// manifest, recursively (listed in index.json without a name).
        #[arg(long, short = 'r')]
        referrers: bool,
    },
    /// Push an image from an OCI image layout directory (DIR or DIR:NAME).
    Push {
        /// The layout: DIR, or DIR:NAME for a name in its index.json.
        dir: String,
        /// Where to: REPO:TAG, optionally after REGISTRY/.
        reference: String,
        /// Also push the layout's referrers of the image and of each platform manifest,
        /// recursively.
        #[arg(long, short = 'r')]
        referrers: bool,
    },
    /// Copy an image (mounts within a registry, streams across registries).
    Copy {
        /// The image: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        source: String,
        /// Where to: REPO:TAG, optionally after REGISTRY/.
        destination: String,
        /// Only this platform (os/arch[/variant]); repeatable.
        #[arg(long)]
        platform: Vec<String>,
        /// Also copy the referrers (signatures, SBOMs, ...) of the image and of each platform
        /// manifest, recursively, with the same digests.
        #[arg(long, short = 'r')]
        referrers: bool,
    },
    /// Attach an artifact (signature, SBOM, ...) to a manifest as a referrer.
    Attach {
        /// The manifest it refers to: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// The artifact's type, e.g. application/vnd.cncf.notary.signature.
        #[arg(long)]
        artifact_type: String,
        /// A file to attach, FILE or FILE:MEDIATYPE (default application/octet-stream).
        #[arg(value_name = "FILE[:MEDIATYPE]")]
        files: Vec<String>,
        /// An annotation of the artifact's manifest, KEY=VALUE; repeatable.
        #[arg(long, short = 'a', value_name = "KEY=VALUE")]
        annotation: Vec<String>,
    },
    /// Show the referrers of a manifest as a tree, recursively (referrers of referrers).
    Discover {
        /// The manifest: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// Only referrers of this artifact type (at every level).
        #[arg(long)]
        artifact_type: Option<String>,
        /// Levels followed (1: only the direct referrers).
        #[arg(long, default_value_t = 8)]
        depth: usize,
    },
    /// List the referrers (signatures, SBOMs, ...) of a manifest.
    Referrers {
        /// The manifest: REPO:TAG or REPO@DIGEST.
        reference: String,
        /// Only referrers of this artifact type.
        #[arg(long)]
        artifact_type: Option<String>,
    },
    /// Delete old tags and untagged manifests (acr-cli's purge): prints the plan, then deletes.
    Purge(PurgeArgs),
    /// Files as OCI artifacts, pushed and pulled the way oras does.
    #[command(subcommand)]
    Artifact(ArtifactCommand),
}

/// The arguments of `purge`, with acr-cli's meanings.
#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// REPO-REGEX:TAG-REGEX, each matched against the whole name; repeatable.
    #[arg(long, required = true)]
    pub filter: Vec<String>,
    /// Only what was last updated longer ago than this: 30d, 2d3h6m, 15m (0 for any age).
    #[arg(long)]
    pub ago: String,
    /// Keep the newest N matching tags (old enough, not locked) of each repository.
    #[arg(long, default_value_t = 0)]
    pub keep: usize,
    /// Also delete manifests left without tags (ACR).
    #[arg(long, conflicts_with = "untagged_only")]
    pub untagged: bool,
    /// Delete only manifests without tags, leaving tags alone (ACR).
    #[arg(long)]
    pub untagged_only: bool,
    /// Print the plan; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete locked tags and manifests, unlocking them first (ACR).
    #[arg(long)]
    pub include_locked: bool,
    /// Also delete the referrers (signatures, SBOMs) of deleted manifests.
    #[arg(long)]
    pub include_referrers: bool,
    /// Refuse to delete anything when the plan deletes more than this.
    #[arg(long)]
    pub max_deletes: Option<usize>,
    /// Deletions at once (1 to 32).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// The `artifact` subcommands.
#[derive(Subcommand, Debug)]
pub enum ArtifactCommand {
    /// Push files and directories (FILE or FILE:MEDIATYPE) as one artifact; prints its digest.
    Push {
        /// Where to push: REPO:TAG (or REGISTRY/REPO:TAG).
        reference: String,
        /// The files and directories, each FILE or FILE:MEDIATYPE.
        #[arg(required = true)]
        files: Vec<String>,
        /// The manifest's artifactType (default application/vnd.unknown.artifact.v1).
        #[arg(long)]
        artifact_type: Option<String>,
        /// A manifest annotation KEY=VALUE; repeatable.
        #[arg(long = "annotation")]
        annotations: Vec<String>,
    },
    /// Pull an artifact's files into a directory through the cache; prints its digest.
    Pull {
        /// What to pull: REPO:TAG or REPO@DIGEST (or with REGISTRY/).
        reference: String,
        /// The directory the files go to.
        #[arg(long, short, default_value = ".")]
        output: PathBuf,
        /// Only layers of this media type; repeatable.
        #[arg(long = "media-type")]
        media_types: Vec<String>,
        /// Send no request: serve everything from the cache.
        #[arg(long)]
        offline: bool,
        /// The cache directory (default: $AZCR_CACHE_DIR, else
        /// $XDG_CACHE_HOME/azcontainerregistry, else ~/.cache/azcontainerregistry).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Write straight to the output directory, without the cache.
        #[arg(long, conflicts_with_all = ["offline", "cache_dir"])]
        no_cache: bool,
    },
}

impl Command {
    /// The name of a command that only Azure Container Registry's `/acr/v1` API serves.
    pub fn acr_only(&self) -> Option<&'static str> {
        match self {
            Command::Show { .. } => Some("show"),
            Command::Set { .. } => Some("set"),
            Command::Manifests { .. } => Some("manifests"),
            Command::DeleteRepo { .. } => Some("delete-repo"),
            _ => None,
        }
    }
}

/// The `--can-*` flags of `set`; a flag left out keeps its permission as it is.
#[derive(Args, Debug)]
pub struct PermissionFlags {
    /// Allow pulls (true or false).
    #[arg(long)]
    can_read: Option<bool>,
    /// Allow pushes and updates (true or false).
    #[arg(long)]
    can_write: Option<bool>,
    /// Allow deletes (true or false).
    #[arg(long)]
    can_delete: Option<bool>,
    /// Show in listings (true or false).
    #[arg(long)]
    can_list: Option<bool>,
}

impl PermissionFlags {
    /// The permissions to change, or `None` when no flag was given.
    pub fn attributes(&self) -> Option<ChangeableAttributes> {
        let flags = [
            self.can_read,
            self.can_write,
            self.can_delete,
            self.can_list,
        ];
        if flags.iter().all(Option::is_none) {
            return None;
        }
        let mut attributes = ChangeableAttributes::default();
        attributes.can_read = self.can_read;
        attributes.can_write = self.can_write;
        attributes.can_delete = self.can_delete;
        attributes.can_list = self.can_list;
        Some(attributes)
    }
}

/// The `manifest` commands.
#[derive(Subcommand, Debug)]
pub enum ManifestCommand {
    /// Print a manifest's bytes as received (or write them to --output).
    Get {
        /// The manifest: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// Accepted media type; repeatable; default: every manifest type.
        #[arg(long)]
        accept: Vec<String>,
        /// Write the bytes to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Upload a manifest from a file.
    Put {
        /// Where to: REPO:TAG or REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// The manifest file.
        file: PathBuf,
        /// Media type; default: the file's `mediaType` field.
        #[arg(long)]
        media_type: Option<String>,
    },
}

/// The `blob` commands.
#[derive(Subcommand, Debug)]
pub enum BlobCommand {
    /// Download a blob, verified, to a file.
    Get {
        /// The blob: REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
        /// The file to write (replaced only once the digest matched).
        #[arg(long)]
        output: PathBuf,
    },
    /// Upload a file as a blob; prints its digest.
    Put {
        /// The repository.
        repo: String,
        /// The file to upload.
        file: PathBuf,
        /// Upload in chunks of this many bytes (default: one request).
        #[arg(long)]
        chunk_size: Option<usize>,
        /// Upload in chunks (8 MiB unless --chunk-size), saving the session beside the file
        /// (FILE.acr-upload.json) after each one, and carry on from a saved session.
        #[arg(long)]
        resume: bool,
    },
    /// Exit 0 and print the size when the blob exists, exit 1 otherwise.
    Exists {
        /// The blob: REPO@DIGEST, optionally after REGISTRY/.
        reference: String,
    },
    /// Mount a blob from another repository of the same registry.
    Mount {
        /// The blob to create: REPO@DIGEST.
        reference: String,
        /// The repository that has the blob.
        #[arg(long)]
        from: String,
    },
}

/// A `--timeout` value: `90s`, `5m`, `1h`, `500ms` or plain seconds (`30`); more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("{text:?} is not a duration: write e.g. 30s, 5m, 1h or 500ms");
    let n: u64 = number.parse().map_err(|_| bad())?;
    let d = match unit.trim() {
        "" | "s" | "sec" | "secs" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" | "min" | "mins" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(format!("{text:?}: the timeout must be more than zero"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds_minutes_hours_or_plain_numbers() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "s", "5x", "-1s", "1.5m", "0", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }
}
