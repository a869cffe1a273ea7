//! Carrying referrers along with a copied image ([`CopyOptions::referrers`]): every referrer of
//! the image and of each platform manifest, recursively (signatures of SBOMs), copied by digest so
//! digests stay the same, and listed at the target the way the target lists referrers: by the
//! registry itself (referrers API) or in the tag-schema index that is written here.
//!
//! [`CopyOptions::referrers`]: super::CopyOptions::referrers

use std::collections::{HashSet, VecDeque};

use super::graph::read_graph;
use super::tag_index;
use super::transfer::{BlobSource, fetch_child, send_image};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::{Reference, TagOrDigest};

/// Levels of referrers carried at most (referrers of referrers of ...).
pub const MAX_REFERRER_DEPTH: usize = 8;
/// Referrers carried at most by one copy.
pub const MAX_REFERRERS: usize = 10_000;

/// Where the referrers come from and go to.
pub(super) struct Ends<'a> {
    pub from: &'a Client,
    pub source: &'a str,
    pub to: &'a Client,
    pub target: &'a str,
    pub parallelism: usize,
}

/// Copies every referrer of `subjects` (already at the target), recursively; returns how many.
pub(super) fn carry(ends: &Ends<'_>, subjects: Vec<Digest>) -> Result<usize> {
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut queue: VecDeque<(Digest, usize)> = subjects.into_iter().map(|d| (d, 0)).collect();
    let mut target_has_api: Option<bool> = None;
    let mut carried = 0;
    let mount = ends.from.endpoint() == ends.to.endpoint() && ends.source != ends.target;
    while let Some((subject, depth)) = queue.pop_front() {
        let listed = ends.from.list_referrers(ends.source, &subject, None)?;
        if listed.is_empty() {
            continue;
        }
        if depth >= MAX_REFERRER_DEPTH {
            return Err(Error::decode(
                "referrers",
                format!("referrers nested deeper than {MAX_REFERRER_DEPTH} levels under {subject}"),
            ));
        }
        for referrer in listed {
            if !seen.insert(referrer.digest.clone()) {
                continue;
            }
            carried += 1;
            if carried > MAX_REFERRERS {
                return Err(Error::decode(
                    "referrers",
                    format!("more than {MAX_REFERRERS} referrers to copy"),
                ));
            }
            let d = &referrer.digest;
            let m = ends.from.get_manifest(ends.source, d)?;
            let top = (m.descriptor(), m.bytes);
            let graph = read_graph(top, &[], &|c| fetch_child(ends.from, ends.source, c))?;
            let source = BlobSource::Registry {
                blobs: ends.from.blob_client(),
                repository: ends.source,
                mount,
            };
            let target = Reference::new(ends.target, TagOrDigest::Digest(d.clone()))?;
            send_image(&source, ends.to, &target, &graph, ends.parallelism, None)?;
            let api = match target_has_api {
                Some(api) => api,
                None => *target_has_api.insert(ends.to.has_referrers_api(ends.target, &subject)?),
            };
            if !api {
                tag_index::add(ends.to, ends.target, &subject, &referrer)?;
            }
            queue.push_back((d.clone(), depth + 1));
        }
    }
    Ok(carried)
}
