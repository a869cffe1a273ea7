//! Whole images: [`pull`] into an OCI image layout directory, [`push`] from one, and [`copy`]
//! between repositories or registries, with multi-platform indexes, platform selection, bounded
//! parallel blob transfers on std threads, and progress reports.
//!
//! What none of the Azure SDKs offers: an image in one call.
//!
//! ```no_run
//! use azcontainerregistry::{Client, ClientOptions, Credential, image};
//! let client = Client::new(
//!     "https://myregistry.azurecr.io",
//!     Credential::anonymous(),
//!     ClientOptions::default(),
//! )?;
//! // every platform of a multi-arch image into ./out (skopeo: oci:out:latest)
//! image::pull(
//!     &client,
//!     "hello-world:latest",
//!     "out",
//!     image::PullOptions::default(),
//! )?;
//! // only linux/arm64
//! let arm = image::PullOptions {
//!     platforms: vec!["linux/arm64".parse()?],
//!     ..Default::default()
//! };
//! image::pull(&client, "hello-world:latest", "out-arm64", arm)?;
//! // back into another repository
//! image::push(
//!     &client,
//!     "out",
//!     Some("latest"),
//!     "mirror/hello-world:latest",
//!     image::PushOptions::default(),
//! )?;
//! # Ok::<(), azcontainerregistry::Error>(())
//! ```
//!
//! ## Platform selection
//! With `platforms` empty, an index is transferred whole, children included. With platforms named,
//! only the matching children are: when one matches, the result is that child manifest itself (as
//! `docker pull --platform` does); when several match, a new index listing just them is written,
//! **whose digest differs from the source index's**. No match is an error naming the platforms
//! available.
//!
//! ## Untrusted images and layouts
//! Neither a registry's images nor a layout on disk are trusted. A child an index lists several
//! times is fetched once; an image past its [`ImageLimits`] (entries of an index, bytes of
//! manifests, distinct blobs) fails with [`Error::LimitExceeded`](crate::Error::LimitExceeded)
//! before anything is written.
//! [`push`] reads blobs only from regular files under the layout's `blobs/` (symbolic links are
//! refused) and checks each one's digest before sending it; [`pull`] keeps a blob already in the
//! layout only when its bytes match its digest. Concurrent pulls into one layout keep each other's
//! `index.json` entries.
//!
//! ## Referrers
//! [`attach`] pushes a signature, an SBOM or another artifact ([`Referrer`]) that refers to a
//! manifest, keeping the tag-schema index (`sha256-<hex>`) on registries without the referrers
//! API; [`discover`] lists the referrers as a tree; `referrers: true` in [`CopyOptions`],
//! [`PullOptions`] and [`PushOptions`] carries them along with the image, digests unchanged.

mod attach;
mod discover;
mod graph;
mod layout;
mod limits;
mod parallel;
mod parse;
mod progress;
mod referrers_copy;
mod referrers_layout;
mod tag_index;
mod transfer;

use std::path::Path;

pub use attach::{Attached, DEFAULT_BLOB_MEDIA_TYPE, Referrer, attach};
pub use discover::{
    DEFAULT_MAX_DEPTH, DEFAULT_MAX_REFERRERS, DiscoverOptions, ReferrerNode, ReferrerTree, discover,
};
pub use layout::{Layout, REF_NAME};
pub use limits::ImageLimits;
pub use progress::{Progress, ProgressFn, ProgressKind};
pub use referrers_copy::{MAX_REFERRER_DEPTH, MAX_REFERRERS};
pub use tag_index::referrers_tag;
// for artifact transfers, which report progress the same way
pub(crate) use progress::Tracker;

use crate::client::Client;
use crate::error::Result;
use crate::manifest::Platform;
use graph::read_graph;
// also for artifact transfers, which take references the same way
pub(crate) use parse::parse_for;
use referrers_copy::{Ends, carry};
use referrers_layout::{pull_referrers, push_referrers};
use transfer::{BlobSource, Stats, fetch_child, fetch_manifest, parallelism, send_image};
pub use transfer::{DEFAULT_PARALLELISM, TransferReport};

/// Options of [`pull`].
#[derive(Clone, Default)]
pub struct PullOptions {
    /// Only these platforms of an index (see the [module docs](self)); empty means all.
    pub platforms: Vec<Platform>,
    /// Blob transfers at once; 0 means [`DEFAULT_PARALLELISM`].
    pub parallelism: usize,
    /// Called as blobs move.
    pub progress: Option<ProgressFn>,
    /// The name the image gets in the layout's `index.json`; default: the tag, or none for a
    /// digest.
    pub name: Option<String>,
    /// How large an image may be ([`ImageLimits`]).
    pub limits: ImageLimits,
    /// Also pull every referrer (signature, SBOM, ...) of the image and of each platform
    /// manifest, recursively, listed in `index.json` without a name (as oras does).
    pub referrers: bool,
}

/// Options of [`push`].
#[derive(Clone, Default)]
pub struct PushOptions {
    /// Blob transfers at once; 0 means [`DEFAULT_PARALLELISM`].
    pub parallelism: usize,
    /// Called as blobs move.
    pub progress: Option<ProgressFn>,
    /// How large an image may be ([`ImageLimits`]).
    pub limits: ImageLimits,
    /// Also push the layout's referrers of the image and of each platform manifest (the
    /// manifests listed in `index.json` whose `subject` is one of them), recursively, by digest;
    /// at a registry without the referrers API they are listed in the tag-schema index.
    pub referrers: bool,
}

/// Options of [`copy`].
#[derive(Clone, Default)]
pub struct CopyOptions {
    /// Only these platforms of an index (see the [module docs](self)); empty means all.
    pub platforms: Vec<Platform>,
    /// Blob transfers at once; 0 means [`DEFAULT_PARALLELISM`].
    pub parallelism: usize,
    /// Called as blobs move.
    pub progress: Option<ProgressFn>,
    /// How large an image may be ([`ImageLimits`]).
    pub limits: ImageLimits,
    /// Also copy every referrer (signature, SBOM, attestation) of the image and of each
    /// platform manifest, recursively, by digest; at a target without the referrers API they
    /// are listed in the tag-schema index (`sha256-<hex>`). See [`copy`].
    pub referrers: bool,
}

macro_rules! debug_options {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("parallelism", &self.parallelism)
                    .field("progress", &self.progress.is_some())
                    .field("limits", &self.limits)
                    .field("referrers", &self.referrers)
                    .finish_non_exhaustive()
            }
        }
    };
}
debug_options!(PullOptions);
debug_options!(PushOptions);
debug_options!(CopyOptions);

/// Pulls an image (manifest, config, layers; for an index its children too, or only the selected
/// platforms) into the OCI image layout at `dir`, creating it if needed. Blobs already in the
/// layout (verified by their digest) are not fetched again; every blob and manifest is verified
/// before it lands. Several pulls into one layout at once keep each other's `index.json` entries.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new(
/// #     "http://127.0.0.1:5000",
/// #     Credential::anonymous(),
/// #     ClientOptions::default(),
/// # )?;
/// let options = image::PullOptions::default();
/// let report = image::pull(&client, "hello-world:latest", "hello-layout", options)?;
/// let (fetched, there) = (report.blobs_transferred, report.blobs_skipped);
/// println!(
///     "{} ({fetched} blobs fetched, {there} already there)",
///     report.digest
/// );
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn pull(
    client: &Client,
    reference: &str,
    dir: impl AsRef<Path>,
    options: PullOptions,
) -> Result<TransferReport> {
    let r = parse_for(client, reference)?;
    let repo = r.repository();
    let top = fetch_manifest(client, repo, r.tag_or_digest().as_str())?;
    let graph = read_graph(top, &options.platforms, &options.limits, &|c| {
        fetch_child(client, repo, c)
    })?;
    // only now: a pull that cannot start (no such image, no such platform) leaves no empty layout
    let layout = Layout::create(dir)?;

    let tracker = graph.tracker(options.progress.clone());
    let stats = Stats::default();
    let blobs = client.blob_client();
    parallel::run(graph.blobs.clone(), parallelism(options.parallelism), |b| {
        // a blob already there is trusted only once its bytes match its digest
        if layout.has_verified_blob(&b.digest, Some(b.size)) {
            tracker.skipped(&b.digest, b.size);
            return Ok(());
        }
        tracker.started(&b.digest, b.size);
        // verified once, hashing on its own thread, into BLOB.partial beside its place in the
        // layout: a pull that dies resumes there (BlobClient::download_blob_to)
        let path = layout.blob_path(&b.digest);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut reported = 0u64;
        blobs.download_resumable(repo, &b.digest, Some(b.size), &path, &mut |done, _| {
            if done > reported {
                tracker.advanced(&b.digest, b.size, done, (done - reported) as usize);
                reported = done;
            }
        })?;
        stats.moved(b.size);
        tracker.finished(&b.digest, b.size);
        Ok(())
    })?;

    for node in graph.children.iter().chain(std::iter::once(&graph.top)) {
        layout.write_blob(
            &node.descriptor.digest,
            Some(node.bytes.len() as u64),
            node.bytes.as_slice(),
        )?;
    }
    let name = options.name.clone().or_else(|| r.tag().map(str::to_string));
    let mut entry = graph.top.descriptor.clone();
    entry.size = graph.top.bytes.len() as u64;
    layout.add_manifest(&entry, name.as_deref())?;
    let mut report = stats.report(&graph);
    if options.referrers {
        let subjects = subjects_of(&graph);
        report.referrers = pull_referrers(
            client,
            repo,
            &layout,
            subjects,
            options.parallelism,
            &options.limits,
        )?;
    }
    Ok(report)
}

/// The manifests of a transferred image whose referrers go along: the top one and the children.
fn subjects_of(graph: &graph::Graph) -> Vec<crate::digest::Digest> {
    std::iter::once(&graph.top)
        .chain(graph.children.iter())
        .map(|n| n.descriptor.digest.clone())
        .collect()
}

/// Pushes the image named `name` in the OCI image layout at `dir` (or its only image, when `name`
/// is `None`) to `target` (`repository:tag`, or `repository@digest`, which must be the image's
/// digest; not both: that is refused before anything is sent). Blobs the registry already has are
/// skipped (HEAD); then an index's children are pushed by digest, and the top manifest last, so the
/// tag never points at an incomplete image.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new(
/// #     "http://127.0.0.1:5000",
/// #     Credential::anonymous(),
/// #     ClientOptions::default(),
/// # )?;
/// let options = image::PushOptions::default();
/// image::push(
///     &client,
///     "hello-layout",
///     Some("latest"),
///     "hello-world:v2",
///     options,
/// )?;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn push(
    client: &Client,
    dir: impl AsRef<Path>,
    name: Option<&str>,
    target: &str,
    options: PushOptions,
) -> Result<TransferReport> {
    let t = parse_for(client, target)?;
    let layout = Layout::open(dir)?;
    let root = layout.resolve(name)?;
    let top = (root.clone(), layout.read_manifest_bytes(&root.digest)?);
    let graph = read_graph(top, &[], &options.limits, &|c| {
        layout.read_manifest_bytes(&c.digest)
    })?;
    let source = BlobSource::Layout(&layout);
    let mut report = send_image(
        &source,
        client,
        &t,
        &graph,
        options.parallelism,
        options.progress,
    )?;
    if options.referrers {
        let subjects = subjects_of(&graph);
        let target = t.repository();
        report.referrers = push_referrers(
            &layout,
            client,
            target,
            subjects,
            options.parallelism,
            &options.limits,
        )?;
    }
    Ok(report)
}

/// Copies an image from `source` (on `from`) to `target` (on `to`). Within one registry blobs are
/// mounted across repositories (no bytes move); across registries they stream from one to the other
/// without touching the disk. An index keeps its children, or only the selected platforms.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// let src = Client::new(
///     "https://source.azurecr.io",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// let dst = Client::new(
///     "http://127.0.0.1:5000",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// image::copy(
///     &src,
///     "library/alpine:3.20",
///     &dst,
///     "alpine:3.20",
///     image::CopyOptions::default(),
/// )?;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn copy(
    from: &Client,
    source: &str,
    to: &Client,
    target: &str,
    options: CopyOptions,
) -> Result<TransferReport> {
    let s = parse_for(from, source)?;
    let t = parse_for(to, target)?;
    let repository = s.repository();
    let top = fetch_manifest(from, repository, s.tag_or_digest().as_str())?;
    let graph = read_graph(top, &options.platforms, &options.limits, &|c| {
        fetch_child(from, repository, c)
    })?;
    let source = BlobSource::Registry {
        blobs: from.blob_client(),
        repository,
        // within one registry a blob can be mounted across repositories: no bytes move
        mount: from.endpoint() == to.endpoint() && repository != t.repository(),
    };
    let mut report = send_image(
        &source,
        to,
        &t,
        &graph,
        options.parallelism,
        options.progress,
    )?;
    if options.referrers {
        let subjects = subjects_of(&graph);
        let ends = Ends {
            from,
            source: repository,
            to,
            target: t.repository(),
            parallelism: options.parallelism,
            limits: &options.limits,
        };
        report.referrers = carry(&ends, subjects)?;
    }
    Ok(report)
}
