//! Carrying referrers along with a copied image ([`CopyOptions::referrers`]): every referrer of
//! the image and of each platform manifest, recursively (signatures of SBOMs), copied by digest so
//! digests stay the same, and listed at the target the way the target lists referrers: by the
//! registry itself (referrers API) or in the tag-schema index that is written here. The walk and
//! the listing at a target are shared with pull and push ([`walk`], [`Lister`]).
//!
//! [`CopyOptions::referrers`]: super::CopyOptions::referrers

use std::collections::{HashSet, VecDeque};

use super::graph::read_graph;
use super::limits::ImageLimits;
use super::tag_index;
use super::transfer::{BlobSource, fetch_child, send_image};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::reference::{Reference, TagOrDigest};

/// Levels of referrers carried at most (referrers of referrers of ...).
pub const MAX_REFERRER_DEPTH: usize = 8;
/// Referrers carried at most by one copy, pull or push.
pub const MAX_REFERRERS: usize = 10_000;

/// Walks the referrers of `subjects` breadth first (each once, bounded in depth and count):
/// `list` gives a subject's referrers, `each` is called with the subject and the referrer, which
/// then becomes a subject itself. Returns how many referrers were visited.
pub(super) fn walk(
    subjects: Vec<Digest>,
    list: &mut dyn FnMut(&Digest) -> Result<Vec<Descriptor>>,
    each: &mut dyn FnMut(&Digest, &Descriptor) -> Result<()>,
) -> Result<usize> {
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut queue: VecDeque<(Digest, usize)> = subjects.into_iter().map(|d| (d, 0)).collect();
    let mut visited = 0;
    while let Some((subject, depth)) = queue.pop_front() {
        let listed = list(&subject)?;
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
            visited += 1;
            if visited > MAX_REFERRERS {
                return Err(Error::decode(
                    "referrers",
                    format!("more than {MAX_REFERRERS} referrers to transfer"),
                ));
            }
            each(&subject, &referrer)?;
            queue.push_back((referrer.digest.clone(), depth + 1));
        }
    }
    Ok(visited)
}

/// Lists pushed referrers at a target repository: nothing to do where the registry has the
/// referrers API (asked once), the tag-schema index otherwise.
pub(super) struct Lister<'a> {
    to: &'a Client,
    repository: &'a str,
    has_api: Option<bool>,
}

impl<'a> Lister<'a> {
    pub(super) fn new(to: &'a Client, repository: &'a str) -> Self {
        Lister {
            to,
            repository,
            has_api: None,
        }
    }

    /// `referrer` of `subject` was pushed: make sure the target lists it.
    pub(super) fn list(&mut self, subject: &Digest, referrer: &Descriptor) -> Result<()> {
        let has_api = match self.has_api {
            Some(api) => api,
            None => *self
                .has_api
                .insert(self.to.has_referrers_api(self.repository, subject)?),
        };
        if has_api {
            Ok(())
        } else {
            tag_index::add(self.to, self.repository, subject, referrer)
        }
    }
}

/// Where the referrers come from and go to.
pub(super) struct Ends<'a> {
    pub from: &'a Client,
    pub source: &'a str,
    pub to: &'a Client,
    pub target: &'a str,
    pub parallelism: usize,
    /// How large each referrer may be.
    pub limits: &'a ImageLimits,
}

/// Copies every referrer of `subjects` (already at the target), recursively; returns how many.
pub(super) fn carry(ends: &Ends<'_>, subjects: Vec<Digest>) -> Result<usize> {
    let mount = ends.from.endpoint() == ends.to.endpoint() && ends.source != ends.target;
    let mut lister = Lister::new(ends.to, ends.target);
    let mut list = |subject: &Digest| ends.from.list_referrers(ends.source, subject, None);
    let mut each = |subject: &Digest, referrer: &Descriptor| {
        let d = &referrer.digest;
        let m = ends.from.get_manifest(ends.source, d)?;
        let top = (m.descriptor(), m.bytes);
        let graph = read_graph(top, &[], ends.limits, &|c| {
            fetch_child(ends.from, ends.source, c)
        })?;
        let source = BlobSource::Registry {
            blobs: ends.from.blob_client(),
            repository: ends.source,
            mount,
        };
        let target = Reference::new(ends.target, TagOrDigest::Digest(d.clone()))?;
        send_image(&source, ends.to, &target, &graph, ends.parallelism, None)?;
        lister.list(subject, referrer)
    };
    walk(subjects, &mut list, &mut each)
}
