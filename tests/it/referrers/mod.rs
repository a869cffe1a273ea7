//! Supply-chain artifacts: `image::attach`, `image::discover` and `image::copy` with referrers, on
//! the real distribution registry (no referrers API: the tag schema), on mocks with the referrers
//! API and `OCI-Subject`, and between the two; the `acr attach`/`discover`/`copy --referrers`
//! commands.

#[cfg(feature = "cli")]
mod cli;
mod layout;
mod mock_api;
mod registry;
mod tag_index;

use azcontainerregistry::Digest;
use azcontainerregistry::image::{ReferrerNode, ReferrerTree};

pub const SIG: &str = "application/vnd.cncf.notary.signature";
pub const SBOM: &str = "application/spdx+json";

/// The tree as (depth, digest, artifact type) lines, depth first: what two registries must agree
/// on.
pub fn shape(tree: &ReferrerTree) -> Vec<(usize, Digest, Option<String>)> {
    fn walk(nodes: &[ReferrerNode], depth: usize, out: &mut Vec<(usize, Digest, Option<String>)>) {
        for n in nodes {
            out.push((
                depth,
                n.descriptor.digest.clone(),
                n.descriptor.artifact_type.clone(),
            ));
            walk(&n.referrers, depth + 1, out);
        }
    }
    let mut out = vec![(0, tree.subject.digest.clone(), None)];
    walk(&tree.referrers, 1, &mut out);
    out
}
