//! [`discover`]: the referrers of a manifest as a tree (signatures of SBOMs, ...), through the
//! referrers API or the tag-schema fallback, bounded in depth and count.

use std::collections::HashSet;

use serde::Serialize;

use super::parse::parse_for;
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::Descriptor;

/// Levels of referrers followed by default (referrers of referrers of ...).
pub const DEFAULT_MAX_DEPTH: usize = 8;
/// Referrers listed at most by default, over the whole tree.
pub const DEFAULT_MAX_REFERRERS: usize = 10_000;

/// Options of [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Only referrers of this artifact type, at every level (as `oras discover`).
    pub artifact_type: Option<String>,
    /// Levels followed: 1 lists only the direct referrers. Deeper referrers are left out and
    /// [`ReferrerTree::truncated`] says so.
    pub max_depth: usize,
    /// Referrers listed at most over the whole tree; more is an error (a registry must not keep
    /// the client walking).
    pub max_referrers: usize,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            artifact_type: None,
            max_depth: DEFAULT_MAX_DEPTH,
            max_referrers: DEFAULT_MAX_REFERRERS,
        }
    }
}

/// A referrer and its own referrers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReferrerNode {
    /// The referrer's manifest as listed (media type, digest, size, artifact type, annotations).
    #[serde(flatten)]
    pub descriptor: Descriptor,
    /// The manifests that refer to this one.
    pub referrers: Vec<ReferrerNode>,
}

/// The referrers of a manifest, recursively ([`discover`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReferrerTree {
    /// The repository.
    pub repository: String,
    /// The manifest whose referrers these are.
    #[serde(flatten)]
    pub subject: Descriptor,
    /// Its referrers.
    pub referrers: Vec<ReferrerNode>,
    /// True when [`DiscoverOptions::max_depth`] left deeper referrers out.
    pub truncated: bool,
}

struct Walk<'a> {
    client: &'a Client,
    repository: &'a str,
    options: &'a DiscoverOptions,
    seen: HashSet<Digest>,
    count: usize,
    truncated: bool,
}

impl Walk<'_> {
    fn children(&mut self, subject: &Digest, depth: usize) -> Result<Vec<ReferrerNode>> {
        let filter = self.options.artifact_type.as_deref();
        let listed = self
            .client
            .list_referrers(self.repository, subject, filter)?;
        if depth >= self.options.max_depth {
            self.truncated |= !listed.is_empty();
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for descriptor in listed {
            // content addressing rules out cycles, but a registry's listing could still loop
            if !self.seen.insert(descriptor.digest.clone()) {
                continue;
            }
            self.count += 1;
            if self.count > self.options.max_referrers {
                return Err(Error::decode(
                    "referrers",
                    format!(
                        "more than {} referrers under one manifest; raise max_referrers to list them",
                        self.options.max_referrers
                    ),
                ));
            }
            let referrers = self.children(&descriptor.digest, depth + 1)?;
            out.push(ReferrerNode {
                descriptor,
                referrers,
            });
        }
        Ok(out)
    }
}

/// The referrers of the manifest `reference` (`repository:tag` or `repository@digest`) as a
/// tree: each referrer with its own referrers, depth first, in the registry's order. Works with
/// the referrers API and with the tag-schema fallback ([`Client::list_referrers`]).
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new(
/// #     "http://127.0.0.1:5000",
/// #     Credential::anonymous(),
/// #     ClientOptions::default(),
/// # )?;
/// let tree = image::discover(&client, "hello-world:v1", image::DiscoverOptions::default())?;
/// for r in &tree.referrers {
///     let d = &r.descriptor;
///     println!("{} {:?} ({} below)", d.digest, d.artifact_type, r.referrers.len());
/// }
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn discover(
    client: &Client,
    reference: &str,
    options: DiscoverOptions,
) -> Result<ReferrerTree> {
    let r = parse_for(client, reference)?;
    let repository = r.repository();
    let subject = client
        .get_manifest(repository, r.tag_or_digest().as_str())?
        .descriptor();
    let mut walk = Walk {
        client,
        repository,
        options: &options,
        seen: HashSet::from([subject.digest.clone()]),
        count: 0,
        truncated: false,
    };
    let referrers = walk.children(&subject.digest, 0)?;
    Ok(ReferrerTree {
        repository: repository.to_string(),
        subject,
        referrers,
        truncated: walk.truncated,
    })
}
