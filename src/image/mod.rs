//! Whole images: [`pull`] into an OCI image layout directory, [`push`] from one, and [`copy`] between
//! repositories or registries, with multi-platform indexes, platform selection, bounded parallel blob
//! transfers on std threads, and progress reports.
//!
//! What none of the Azure SDKs offers: an image in one call.
//!
//! ```no_run
//! use azcontainerregistry::{Client, ClientOptions, Credential, image};
//! let client = Client::new("https://myregistry.azurecr.io", Credential::anonymous(), ClientOptions::default())?;
//! // every platform of a multi-arch image into ./out (skopeo: oci:out:latest)
//! image::pull(&client, "hello-world:latest", "out", image::PullOptions::default())?;
//! // only linux/arm64
//! let arm = image::PullOptions { platforms: vec!["linux/arm64".parse()?], ..Default::default() };
//! image::pull(&client, "hello-world:latest", "out-arm64", arm)?;
//! // back into another repository
//! image::push(&client, "out", Some("latest"), "mirror/hello-world:latest", image::PushOptions::default())?;
//! # Ok::<(), azcontainerregistry::Error>(())
//! ```
//!
//! ## Platform selection
//! With `platforms` empty, an index is transferred whole, children included. With platforms named, only
//! the matching children are: when one matches, the result is that child manifest itself (as
//! `docker pull --platform` does); when several match, a new index listing just them is written, **whose
//! digest differs from the source index's**. No match is an error naming the platforms available.

mod layout;
mod parallel;
mod progress;

use std::collections::HashSet;
use std::path::Path;

pub use layout::{Layout, REF_NAME};
pub use progress::{Progress, ProgressFn, ProgressKind};

use crate::blob::{BlobClient, MountOutcome, UploadOptions};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageIndex, Manifest, Platform, media_type};
use crate::reference::{Reference, TagOrDigest};
use progress::Tracker;

/// Blob transfers at once, by default.
pub const DEFAULT_PARALLELISM: usize = 4;

/// Options of [`pull`].
#[derive(Clone, Default)]
pub struct PullOptions {
    /// Only these platforms of an index (see the [module docs](self)); empty means all.
    pub platforms: Vec<Platform>,
    /// Blob transfers at once; 0 means [`DEFAULT_PARALLELISM`].
    pub parallelism: usize,
    /// Called as blobs move.
    pub progress: Option<ProgressFn>,
    /// The name the image gets in the layout's `index.json`; default: the tag, or none for a digest.
    pub name: Option<String>,
}

/// Options of [`push`].
#[derive(Clone, Default)]
pub struct PushOptions {
    /// Blob transfers at once; 0 means [`DEFAULT_PARALLELISM`].
    pub parallelism: usize,
    /// Called as blobs move.
    pub progress: Option<ProgressFn>,
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
}

macro_rules! debug_options {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("parallelism", &self.parallelism)
                    .field("progress", &self.progress.is_some())
                    .finish_non_exhaustive()
            }
        }
    };
}
debug_options!(PullOptions);
debug_options!(PushOptions);
debug_options!(CopyOptions);

/// What a transfer did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferReport {
    /// The digest of the top manifest at the destination (differs from the source's when platforms were
    /// selected from an index).
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Manifests written (the top one and an index's children).
    pub manifests: usize,
    /// Blobs transferred.
    pub blobs_transferred: usize,
    /// Blobs already present (or mounted) and not transferred.
    pub blobs_skipped: usize,
    /// Bytes of the blobs transferred.
    pub bytes_transferred: u64,
}

/// A manifest and the bytes it was read from.
struct Node {
    descriptor: Descriptor,
    bytes: Vec<u8>,
    manifest: Manifest,
}

/// An image read from somewhere: the top manifest, the children of an index (in order), and every blob.
struct Graph {
    top: Node,
    children: Vec<Node>,
    blobs: Vec<Descriptor>,
}

impl Graph {
    /// Progress counters for this image's blobs (sizes from the network: summed without overflow).
    fn tracker(&self, callback: Option<ProgressFn>) -> Tracker {
        let bytes = self
            .blobs
            .iter()
            .fold(0u64, |sum, b| sum.saturating_add(b.size));
        Tracker::new(callback, self.blobs.len(), bytes)
    }
}

fn parallelism(n: usize) -> usize {
    if n == 0 { DEFAULT_PARALLELISM } else { n }
}

fn blobs_of(manifest: &Manifest) -> Vec<Descriptor> {
    match manifest {
        Manifest::Image(m) => std::iter::once(m.config.clone())
            .chain(m.layers.iter().cloned())
            .collect(),
        Manifest::Artifact(a) => a.blobs.clone(),
        _ => Vec::new(),
    }
}

/// Reads an image graph with `fetch` (digest or tag → descriptor and bytes), selecting platforms.
fn read_graph(
    top: (Descriptor, Vec<u8>),
    platforms: &[Platform],
    fetch_child: &dyn Fn(&Descriptor) -> Result<Vec<u8>>,
) -> Result<Graph> {
    let (descriptor, bytes) = top;
    let manifest = Manifest::from_bytes(&descriptor.media_type, &bytes)?;
    let mut top = Node {
        descriptor,
        bytes,
        manifest,
    };
    let mut children = Vec::new();
    if let Manifest::Index(index) = &top.manifest {
        let selected: Vec<Descriptor> = if platforms.is_empty() {
            index.manifests.clone()
        } else {
            select_platforms(index, platforms)?
        };
        for child in &selected {
            let bytes = fetch_child(child)?;
            let manifest = Manifest::from_bytes(&child.media_type, &bytes)?;
            if matches!(manifest, Manifest::Index(_)) {
                return Err(Error::decode(
                    "image index",
                    "nested indexes are not supported",
                ));
            }
            children.push(Node {
                descriptor: child.clone(),
                bytes,
                manifest,
            });
        }
        if !platforms.is_empty() {
            if children.len() == 1 {
                top = children.remove(0);
            } else {
                let mut filtered = ImageIndex::new(selected.clone());
                filtered.media_type = index
                    .media_type
                    .clone()
                    .or(Some(media_type::OCI_INDEX.to_string()));
                filtered.annotations = index.annotations.clone();
                let manifest = Manifest::Index(filtered);
                let bytes = manifest.to_bytes();
                let descriptor = Descriptor::for_bytes(manifest.media_type().to_string(), &bytes);
                top = Node {
                    descriptor,
                    bytes,
                    manifest,
                };
            }
        }
    }
    let mut seen = HashSet::new();
    let mut blobs = Vec::new();
    for node in std::iter::once(&top).chain(children.iter()) {
        for b in blobs_of(&node.manifest) {
            if seen.insert(b.digest.clone()) {
                blobs.push(b);
            }
        }
    }
    Ok(Graph {
        top,
        children,
        blobs,
    })
}

fn select_platforms(index: &ImageIndex, platforms: &[Platform]) -> Result<Vec<Descriptor>> {
    let mut out: Vec<Descriptor> = Vec::new();
    for wanted in platforms {
        if let Some(d) = index.find_platform(wanted)
            && !out.iter().any(|o| o.digest == d.digest)
        {
            out.push(d.clone());
        }
    }
    if out.is_empty() {
        let available: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
            .collect();
        let wanted: Vec<String> = platforms.iter().map(|p| p.to_string()).collect();
        return Err(Error::invalid(
            "platform",
            wanted.join(", "),
            format!("the index offers only: {}", available.join(", ")),
        ));
    }
    Ok(out)
}

fn fetch_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
) -> Result<(Descriptor, Vec<u8>)> {
    let m = client.get_manifest(repository, reference)?;
    let descriptor = Descriptor::new(m.media_type.clone(), m.digest.clone(), m.bytes.len() as u64);
    Ok((descriptor, m.bytes))
}

fn fetch_child(client: &Client, repository: &str, child: &Descriptor) -> Result<Vec<u8>> {
    let m = client.get_manifest(repository, child.digest.as_str())?;
    if m.digest != child.digest {
        return Err(Error::DigestMismatch {
            what: "manifest",
            expected: child.digest.to_string(),
            actual: m.digest.to_string(),
        });
    }
    Ok(m.bytes)
}

/// Parses a reference for `client`: a registry part, when present, must be the client's.
fn parse_for(client: &Client, reference: &str) -> Result<Reference> {
    let r = Reference::parse(reference)?;
    if let Some(host) = r.registry() {
        let endpoint =
            url::Url::parse(client.endpoint()).map_err(|e| Error::Config(e.to_string()))?;
        // compare origins: case, and an explicit default port (r.io:443), do not make another registry
        let named = url::Url::parse(&format!("{}://{host}", endpoint.scheme()));
        if named.map(|u| u.origin()) != Ok(endpoint.origin()) {
            let ours = endpoint.host_str().unwrap_or_default();
            return Err(Error::invalid(
                "reference",
                reference,
                format!("it names registry {host}, not {ours}"),
            ));
        }
    }
    Ok(r)
}

/// Counts of blobs moved by one transfer.
#[derive(Default)]
struct Stats {
    blobs: std::sync::atomic::AtomicUsize,
    bytes: std::sync::atomic::AtomicU64,
}

impl Stats {
    fn moved(&self, size: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        self.blobs.fetch_add(1, SeqCst);
        self.bytes.fetch_add(size, SeqCst);
    }

    fn report(self, graph: &Graph, top: &Node) -> TransferReport {
        let blobs = self.blobs.into_inner();
        TransferReport {
            digest: top.descriptor.digest.clone(),
            media_type: top.descriptor.media_type.clone(),
            manifests: 1 + if matches!(top.manifest, Manifest::Index(_)) {
                graph.children.len()
            } else {
                0
            },
            blobs_transferred: blobs,
            blobs_skipped: graph.blobs.len() - blobs,
            bytes_transferred: self.bytes.into_inner(),
        }
    }
}

/// Pulls an image (manifest, config, layers; for an index its children too, or only the selected
/// platforms) into the OCI image layout at `dir`, creating it if needed. Blobs already in the layout are
/// not fetched again; every blob and manifest is verified before it lands.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
/// let report = image::pull(&client, "hello-world:latest", "hello-layout", image::PullOptions::default())?;
/// println!("{} ({} blobs fetched, {} already there)", report.digest, report.blobs_transferred, report.blobs_skipped);
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn pull(
    client: &Client,
    reference: &str,
    dir: impl AsRef<Path>,
    options: PullOptions,
) -> Result<TransferReport> {
    let r = parse_for(client, reference)?;
    let repo = r.repository().to_string();
    let top = fetch_manifest(client, &repo, r.tag_or_digest().as_str())?;
    let graph = read_graph(top, &options.platforms, &|c| fetch_child(client, &repo, c))?;
    // only now: a pull that cannot start (no such image, no such platform) leaves no empty layout
    let layout = Layout::create(dir)?;

    let tracker = graph.tracker(options.progress.clone());
    let stats = Stats::default();
    let blobs = client.blob_client();
    parallel::run(graph.blobs.clone(), parallelism(options.parallelism), |b| {
        if layout.has_blob(&b.digest, Some(b.size)) {
            tracker.skipped(&b.digest, b.size);
            return Ok(());
        }
        tracker.started(&b.digest, b.size);
        // verified once, hashing on its own thread (BlobReader::copy_to), straight into the layout
        let mut stream = blobs
            .get_blob(&repo, &b.digest)?
            .with_expected_size(b.size)?;
        layout.write_blob_with(&b.digest, |file| {
            stream.copy_to(&mut tracker.writer(file, &b.digest, b.size))
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
    Ok(stats.report(&graph, &graph.top))
}

/// Pushes the image named `name` in the OCI image layout at `dir` (or its only image, when `name` is
/// `None`) to `target` (`repository:tag`, or `repository@digest`, which must be the image's digest; not
/// both: that is refused before anything is sent). Blobs the registry already has are
/// skipped (HEAD); then an index's children are pushed by digest, and the top manifest last, so the tag
/// never points at an incomplete image.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
/// image::push(&client, "hello-layout", Some("latest"), "hello-world:v2", image::PushOptions::default())?;
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
    let graph = read_graph(top, &[], &|c| layout.read_manifest_bytes(&c.digest))?;
    let reference = target_reference(&t, &graph)?;
    let repo = t.repository().to_string();
    let blobs = client.blob_client();

    let tracker = graph.tracker(options.progress.clone());
    let stats = Stats::default();
    parallel::run(graph.blobs.clone(), parallelism(options.parallelism), |b| {
        if blobs.check_blob_exists(&repo, &b.digest)?.is_some() {
            tracker.skipped(&b.digest, b.size);
            return Ok(());
        }
        tracker.started(&b.digest, b.size);
        let file = layout.open_blob(&b.digest)?;
        blobs.upload_blob_seekable(
            &repo,
            tracker.reader(file, &b.digest, b.size),
            exactly(&b.digest),
        )?;
        stats.moved(b.size);
        tracker.finished(&b.digest, b.size);
        Ok(())
    })?;
    put_manifests(client, &repo, &reference, &graph)?;
    Ok(stats.report(&graph, &graph.top))
}

/// Upload options for a blob whose digest is known: verified against it; existence was checked already.
fn exactly(digest: &Digest) -> UploadOptions {
    UploadOptions {
        expected_digest: Some(digest.clone()),
        skip_existing: false,
        ..Default::default()
    }
}

/// What a push or copy writes the top manifest as: the tag, or the digest, which must be the image's.
/// Checked before anything is sent.
fn target_reference(target: &Reference, graph: &Graph) -> Result<TagOrDigest> {
    match (target.tag(), target.digest()) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "target",
            target.to_string(),
            "a target is REPOSITORY:TAG or REPOSITORY@DIGEST, not both",
        )),
        (_, Some(d)) if d != &graph.top.descriptor.digest => Err(Error::DigestMismatch {
            what: "manifest",
            expected: d.to_string(),
            actual: graph.top.descriptor.digest.to_string(),
        }),
        _ => Ok(target.tag_or_digest()),
    }
}

/// Children by digest, then the top manifest by `reference`.
fn put_manifests(
    client: &Client,
    repo: &str,
    reference: &TagOrDigest,
    graph: &Graph,
) -> Result<()> {
    for child in &graph.children {
        client.upload_manifest(
            repo,
            child.descriptor.digest.as_str(),
            &child.bytes,
            &child.descriptor.media_type,
        )?;
    }
    client.upload_manifest(
        repo,
        reference.as_str(),
        &graph.top.bytes,
        &graph.top.descriptor.media_type,
    )?;
    Ok(())
}

/// Copies an image from `source` (on `from`) to `target` (on `to`). Within one registry blobs are
/// mounted across repositories (no bytes move); across registries they stream from one to the other
/// without touching the disk. An index keeps its children, or only the selected platforms.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// let src = Client::new("https://source.azurecr.io", Credential::anonymous(), ClientOptions::default())?;
/// let dst = Client::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
/// image::copy(&src, "library/alpine:3.20", &dst, "alpine:3.20", image::CopyOptions::default())?;
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
    let src_repo = s.repository().to_string();
    let dst_repo = t.repository().to_string();
    let top = fetch_manifest(from, &src_repo, s.tag_or_digest().as_str())?;
    let graph = read_graph(top, &options.platforms, &|c| {
        fetch_child(from, &src_repo, c)
    })?;
    let reference = target_reference(&t, &graph)?;
    let same_registry = from.endpoint() == to.endpoint();
    let (src_blobs, dst_blobs): (BlobClient, BlobClient) = (from.blob_client(), to.blob_client());

    let tracker = graph.tracker(options.progress.clone());
    let stats = Stats::default();
    parallel::run(graph.blobs.clone(), parallelism(options.parallelism), |b| {
        if dst_blobs.check_blob_exists(&dst_repo, &b.digest)?.is_some() {
            tracker.skipped(&b.digest, b.size);
            return Ok(());
        }
        if same_registry && src_repo != dst_repo {
            match dst_blobs.mount_blob(&dst_repo, &src_repo, &b.digest)? {
                MountOutcome::Mounted => {
                    tracker.skipped(&b.digest, b.size);
                    return Ok(());
                }
                MountOutcome::UploadStarted(session) => {
                    // not mounted (e.g. no read access to the source): stream it instead
                    let _ = dst_blobs.cancel_upload(&session);
                }
            }
        }
        tracker.started(&b.digest, b.size);
        let stream = src_blobs.get_blob(&src_repo, &b.digest)?;
        dst_blobs.upload_blob(
            &dst_repo,
            tracker.reader(stream, &b.digest, b.size),
            exactly(&b.digest),
        )?;
        stats.moved(b.size);
        tracker.finished(&b.digest, b.size);
        Ok(())
    })?;
    put_manifests(to, &dst_repo, &reference, &graph)?;
    Ok(stats.report(&graph, &graph.top))
}
