//! Referrers to and from OCI image layouts ([`PullOptions::referrers`],
//! [`PushOptions::referrers`]). A layout keeps referrers as oras does: their manifests and blobs
//! among the layout's blobs, each listed in `index.json` without a name (with its artifact type),
//! so a layout's referrers are the listed manifests whose `subject` is the image.
//!
//! [`PullOptions::referrers`]: super::PullOptions::referrers
//! [`PushOptions::referrers`]: super::PushOptions::referrers

use std::collections::HashMap;

use super::graph::read_graph;
use super::layout::{Layout, REF_NAME};
use super::limits::ImageLimits;
use super::parallel;
use super::referrers_copy::{Lister, walk};
use super::transfer::{BlobSource, fetch_child, parallelism, send_image};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::Result;
use crate::manifest::{Descriptor, Manifest};
use crate::reference::{Reference, TagOrDigest};

/// Pulls every referrer of `subjects` (already in the layout) from `repository`, recursively, into
/// `layout`; returns how many.
pub(super) fn pull_referrers(
    client: &Client,
    repository: &str,
    layout: &Layout,
    subjects: Vec<Digest>,
    parallel_transfers: usize,
    limits: &ImageLimits,
) -> Result<usize> {
    let blobs = client.blob_client();
    let mut list = |subject: &Digest| client.list_referrers(repository, subject, None);
    let mut each = |_: &Digest, referrer: &Descriptor| {
        let m = client.get_manifest(repository, &referrer.digest)?;
        let top = (m.descriptor(), m.bytes);
        let graph = read_graph(top, &[], limits, &|c| fetch_child(client, repository, c))?;
        parallel::run(graph.blobs.clone(), parallelism(parallel_transfers), |b| {
            if layout.has_verified_blob(&b.digest, Some(b.size)) {
                return Ok(());
            }
            let mut stream = blobs
                .get_blob(repository, &b.digest)?
                .with_expected_size(b.size)?;
            layout.write_blob_with(&b.digest, |file| stream.copy_to(file))?;
            Ok(())
        })?;
        for node in graph.children.iter().chain(std::iter::once(&graph.top)) {
            let bytes = node.bytes.as_slice();
            layout.write_blob(&node.descriptor.digest, Some(bytes.len() as u64), bytes)?;
        }
        layout.add_manifest(referrer, None)
    };
    walk(subjects, &mut list, &mut each)
}

/// Pushes every referrer of `subjects` found in `layout` to `repository` on `to`, recursively, by
/// digest, and lists them there; returns how many.
pub(super) fn push_referrers(
    layout: &Layout,
    to: &Client,
    repository: &str,
    subjects: Vec<Digest>,
    parallel_transfers: usize,
    limits: &ImageLimits,
) -> Result<usize> {
    // the layout's manifests by subject: index.json is bounded, and so is each manifest read
    let mut by_subject: HashMap<Digest, Vec<Descriptor>> = HashMap::new();
    for entry in layout.index()?.manifests {
        let bytes = layout.read_manifest_bytes(&entry.digest)?;
        let manifest = Manifest::from_bytes(&entry.media_type, &bytes)?;
        if let Some(subject) = manifest.subject() {
            let mut d = entry.clone();
            // a name in this layout is no part of the referrer
            if let Some(a) = d.annotations.as_mut() {
                a.remove(REF_NAME);
            }
            d.annotations = d.annotations.filter(|a| !a.is_empty());
            d.artifact_type = d
                .artifact_type
                .or_else(|| manifest.artifact_type().map(str::to_string));
            by_subject
                .entry(subject.digest.clone())
                .or_default()
                .push(d);
        }
    }
    let mut lister = Lister::new(to, repository);
    let mut list = |subject: &Digest| Ok(by_subject.get(subject).cloned().unwrap_or_default());
    let mut each = |subject: &Digest, referrer: &Descriptor| {
        let d = &referrer.digest;
        let top = (referrer.clone(), layout.read_manifest_bytes(d)?);
        let graph = read_graph(top, &[], limits, &|c| layout.read_manifest_bytes(&c.digest))?;
        let target = Reference::new(repository, TagOrDigest::Digest(d.clone()))?;
        let source = BlobSource::Layout(layout);
        send_image(&source, to, &target, &graph, parallel_transfers, None)?;
        lister.list(subject, referrer)
    };
    walk(subjects, &mut list, &mut each)
}
