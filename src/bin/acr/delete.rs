//! `delete` (a tag or a manifest) and `delete-repo`; both succeed when the target is already gone.

use azcontainerregistry::Client;

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::{Target, client_and_ref, client_for, registry, use_acr_api};
use crate::output;

/// `delete`: removes a manifest (REPO@DIGEST) or a tag (REPO:TAG) and prints `deleted ...`.
pub fn delete(cli: &Cli, target: &str) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, target)?;
    let repo = r.repository();
    match Target::of(&r) {
        Target::Manifest(d) => {
            client.delete_manifest(repo, d.as_str())?;
            output::line(format!("deleted {repo}@{d}"))?;
        }
        Target::Tag(t) => {
            if use_acr_api(&client)? {
                client.delete_tag(repo, t)?;
            } else {
                untag_by_deleting_manifest(&client, repo, t)?;
            }
            output::line(format!("deleted {repo}:{t}"))?;
        }
        Target::Repository => {
            return Err(
                "delete needs REPO:TAG or REPO@DIGEST (use delete-repo for a repository)".into(),
            );
        }
    }
    Ok(())
}

/// The OCI API cannot remove a tag alone: deletes the manifest it names, by the digest resolved
/// here (so it is the manifest the note names).
fn untag_by_deleting_manifest(client: &Client, repo: &str, tag: &str) -> AnyResult<()> {
    match client.manifest_exists(repo, tag)? {
        Some(info) => {
            client.delete_manifest(repo, info.digest.as_str())?;
            output::note(format!(
                "acr: note: the OCI API cannot untag; deleted manifest {} (and every tag on it)",
                info.digest
            ));
        }
        None => output::note(format!(
            "acr: note: {repo}:{tag} does not exist; nothing to delete"
        )),
    }
    Ok(())
}

/// `delete-repo`: removes a repository (ACR only) and prints what went, as a line or JSON.
pub fn delete_repo(cli: &Cli, repo: &str) -> AnyResult<()> {
    let client = client_for(cli, &registry(cli)?)?;
    let result = client.delete_repository(repo)?;
    if result.deleted_manifests.is_empty() && result.deleted_tags.is_empty() {
        // a 404 counts as done, and so does a registry without the ACR API: say which
        output::note(format!(
            "acr: note: the registry reported nothing deleted: {repo} does not exist (or the \
             registry has no ACR API)"
        ));
    }
    output::print(cli.json, &result, |r| {
        output::line(format!(
            "deleted {repo}: {} manifests, {} tags",
            r.deleted_manifests.len(),
            r.deleted_tags.len()
        ))
    })
}
