//! The command line as clap parses it: the global options, the commands and their arguments.
//!
//! A `///` comment on a field or variant here is its `--help` text, so the arguments that have no
//! help text carry plain `//` comments.

use std::path::PathBuf;

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
    #[arg(long, env = "ACR_USERNAME", global = true)]
    pub username: Option<String>,
    /// Password or token for basic authentication.
    #[arg(long, env = "ACR_PASSWORD", global = true, hide_env_values = true)]
    pub password: Option<String>,
    /// Azure AD audience (default https://containerregistry.azure.net).
    #[arg(long, global = true)]
    pub audience: Option<String>,
    /// Which listing API: ACR's /acr/v1 or the OCI /v2 one (auto: ACR for *.azurecr.* hosts).
    #[arg(long, value_enum, default_value_t = Api::Auto, global = true)]
    pub api: Api,
    /// Print JSON for listings and `show`.
    #[arg(long, global = true)]
    pub json: bool,
    // the command to run
    #[command(subcommand)]
    pub command: Command,
}

/// The `--auth` values: how to sign in (`auto` picks one from the registry and the username).
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    // no help text: the variants are listed as `--auth`'s possible values
    Auto,
    Anonymous,
    Basic,
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
        #[command(flatten)]
        permissions: PermissionFlags,
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
    /// Files as OCI artifacts, pushed and pulled the way oras does.
    #[command(subcommand)]
    Artifact(ArtifactCommand),
}

/// The `artifact` subcommands.
#[derive(Subcommand, Debug)]
pub enum ArtifactCommand {
    /// Push files and directories (FILE or FILE:MEDIATYPE) as one artifact; prints its digest.
    Push {
        reference: String,
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
    #[arg(long)]
    can_read: Option<bool>,
    #[arg(long)]
    can_write: Option<bool>,
    #[arg(long)]
    can_delete: Option<bool>,
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

/// The `blob` commands.
#[derive(Subcommand, Debug)]
pub enum BlobCommand {
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
