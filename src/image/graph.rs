//! An image as a graph: the top manifest, an index's children (all, or the selected platforms),
//! and every blob they name, read from a registry or a layout through one function.

use std::collections::HashSet;

use super::limits::ImageLimits;
use super::progress::{ProgressFn, Tracker};
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageIndex, Manifest, Platform, media_type};

/// A manifest and the bytes it was read from.
pub(super) struct Node {
    pub descriptor: Descriptor,
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
}

/// An image read from somewhere: the top manifest, the children of an index (in order), and every
/// blob.
pub(super) struct Graph {
    pub top: Node,
    pub children: Vec<Node>,
    pub blobs: Vec<Descriptor>,
}

impl Graph {
    /// Progress counters for this image's blobs (sizes from the network: summed without overflow).
    pub(super) fn tracker(&self, callback: Option<ProgressFn>) -> Tracker {
        let bytes = self
            .blobs
            .iter()
            .fold(0u64, |sum, b| sum.saturating_add(b.size));
        Tracker::new(callback, self.blobs.len(), bytes)
    }
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

/// Reads an image graph with `fetch_child` (a child's descriptor → its bytes), selecting platforms,
/// within `limits`. A child listed several times is fetched once.
pub(super) fn read_graph(
    top: (Descriptor, Vec<u8>),
    platforms: &[Platform],
    limits: &ImageLimits,
    fetch_child: &dyn Fn(&Descriptor) -> Result<Vec<u8>>,
) -> Result<Graph> {
    let (descriptor, bytes) = top;
    let mut manifest_bytes = Budget::new(
        "the manifests of the image together (bytes)",
        limits.max_manifest_bytes,
        "max_manifest_bytes",
    );
    manifest_bytes.add(bytes.len() as u64)?;
    let manifest = Manifest::from_bytes(&descriptor.media_type, &bytes)?;
    let mut top = Node {
        descriptor,
        bytes,
        manifest,
    };
    let mut children = Vec::new();
    if let Manifest::Index(index) = &top.manifest {
        if index.manifests.len() > limits.max_children {
            return Err(Error::LimitExceeded {
                what: "the entries of the image index",
                limit: limits.max_children as u64,
                option: "max_children",
            });
        }
        let selected: Vec<Descriptor> = if platforms.is_empty() {
            index.manifests.clone()
        } else {
            select_platforms(index, platforms)?
        };
        let mut walk = Walk {
            limits,
            fetch_child,
            manifest_bytes: &mut manifest_bytes,
            seen: HashSet::new(),
            children: &mut children,
        };
        for child in &selected {
            walk.visit(child, 1)?;
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
                if blobs.len() == limits.max_blobs {
                    return Err(Error::LimitExceeded {
                        what: "the distinct blobs of the image",
                        limit: limits.max_blobs as u64,
                        option: "max_blobs",
                    });
                }
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

/// The children of an index, read depth first: a nested index's own children come before it, so
/// the list is in the order a registry accepts them (what an index names already there).
struct Walk<'a> {
    limits: &'a ImageLimits,
    fetch_child: &'a dyn Fn(&Descriptor) -> Result<Vec<u8>>,
    manifest_bytes: &'a mut Budget,
    /// Digests already read: a manifest listed several times, at any level, is read once.
    seen: HashSet<crate::digest::Digest>,
    children: &'a mut Vec<Node>,
}

impl Walk<'_> {
    /// Reads `child` (at `depth` levels below the top index) and, for an index, its children.
    fn visit(&mut self, child: &Descriptor, depth: usize) -> Result<()> {
        if !self.seen.insert(child.digest.clone()) {
            return Ok(());
        }
        // the index's word first: a child announced too large is not fetched at all
        self.manifest_bytes.check(child.size)?;
        let bytes = (self.fetch_child)(child)?;
        self.manifest_bytes.add(bytes.len() as u64)?;
        let manifest = Manifest::from_bytes(&child.media_type, &bytes)?;
        if let Manifest::Index(index) = &manifest {
            if depth > self.limits.max_depth {
                return Err(Error::LimitExceeded {
                    what: "the levels of nested image indexes",
                    limit: self.limits.max_depth as u64,
                    option: "max_depth",
                });
            }
            if index.manifests.len() > self.limits.max_children {
                return Err(Error::LimitExceeded {
                    what: "the entries of the image index",
                    limit: self.limits.max_children as u64,
                    option: "max_children",
                });
            }
            for grandchild in &index.manifests {
                self.visit(grandchild, depth + 1)?;
            }
        }
        self.children.push(Node {
            descriptor: child.clone(),
            bytes,
            manifest,
        });
        Ok(())
    }
}

/// A running total that must stay within a limit.
struct Budget {
    used: u64,
    limit: u64,
    what: &'static str,
    option: &'static str,
}

impl Budget {
    fn new(what: &'static str, limit: u64, option: &'static str) -> Self {
        Budget {
            used: 0,
            limit,
            what,
            option,
        }
    }

    /// Fails when `n` more would exceed the limit.
    fn check(&self, n: u64) -> Result<()> {
        if self.used.saturating_add(n) > self.limit {
            return Err(Error::LimitExceeded {
                what: self.what,
                limit: self.limit,
                option: self.option,
            });
        }
        Ok(())
    }

    fn add(&mut self, n: u64) -> Result<()> {
        self.check(n)?;
        self.used += n;
        Ok(())
    }
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
