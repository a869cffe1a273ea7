//! `referrers`: the signatures, SBOMs and other artifacts that refer to a manifest.

use azcontainerregistry::TagOrDigest;

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::client_and_ref;
use crate::output::Listing;

/// `referrers`: one `DIGEST ARTIFACT_TYPE` line per referrer (a tag is resolved first), or JSON.
pub fn referrers(cli: &Cli, reference: &str, artifact_type: Option<&str>) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let digest = match r.tag_or_digest() {
        TagOrDigest::Digest(d) => d,
        TagOrDigest::Tag(t) => client.get_manifest(r.repository(), &t)?.digest,
    };
    let list = client.list_referrers(r.repository(), &digest, artifact_type)?;
    let mut listing = Listing::new(cli.json);
    listing.page(&list, |d| {
        let kind = d.artifact_type.as_deref().unwrap_or(&d.media_type);
        format!("{} {kind}", d.digest)
    })?;
    listing.finish()?;
    Ok(())
}
