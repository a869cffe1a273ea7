//! Deletes old images: in each repository, keeps the newest `--keep N` manifests and deletes the
//! rest (the Go SDK's `Example_deleteImages`, which keeps N per *page*; this keeps N per
//! repository, across all pages).
//!
//! ```text
//! cargo run --example delete_images -- --registry https://myregistry.azurecr.io \
//!     [--keep 3] [--repository NAME] [--dry-run]
//! ```
//!
//! The whole listing (newest first) is read before anything is deleted, so deleting never disturbs
//! the paging. Manifests that a kept manifest refers to (the platform images of a kept
//! multi-platform index) are kept too, and manifests locked against deletion are skipped.
//! Credentials: `ACR_USERNAME` + `ACR_PASSWORD`, else Azure AD (feature `azure`); the identity
//! needs delete permission.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashSet;

use azcontainerregistry::{ArtifactOrder, Client, ListManifestsOptions, ManifestAttributes};

const USAGE: &str =
    "usage: delete_images --registry URL [--keep N] [--repository NAME] [--dry-run] [--anonymous]
  (or ACR_REGISTRY; credentials from ACR_USERNAME/ACR_PASSWORD, else Azure AD)";

/// What to do with the manifests of one repository, newest first.
struct Plan {
    keep: Vec<ManifestAttributes>,
    delete: Vec<ManifestAttributes>,
    locked: Vec<ManifestAttributes>,
}

/// Splits `newest_first` into the `keep` newest, the rest to delete, and the rest that may not be
/// deleted.
fn plan(newest_first: Vec<ManifestAttributes>, keep: usize) -> Plan {
    let (kept, older): (Vec<_>, Vec<_>) = newest_first
        .into_iter()
        .enumerate()
        .partition(|(i, _)| *i < keep);
    let kept: Vec<ManifestAttributes> = kept.into_iter().map(|(_, m)| m).collect();
    // what the kept manifests refer to (an index's platform manifests) must stay
    let referenced: HashSet<String> = kept
        .iter()
        .flat_map(|m| m.related_artifacts.iter().map(|r| r.digest.to_string()))
        .collect();
    let mut plan = Plan {
        keep: kept,
        delete: Vec::new(),
        locked: Vec::new(),
    };
    for (_, m) in older {
        if referenced.contains(m.digest.as_str()) {
            plan.keep.push(m);
        } else if m.changeable_attributes.can_delete == Some(false) {
            plan.locked.push(m);
        } else {
            plan.delete.push(m);
        }
    }
    plan
}

fn clean(
    client: &Client,
    repository: &str,
    keep: usize,
    dry_run: bool,
) -> Result<usize, Box<dyn std::error::Error>> {
    let newest_first = ListManifestsOptions {
        order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
        ..Default::default()
    };
    let all = client
        .list_manifests(repository, newest_first)
        .collect::<Result<Vec<_>, _>>()?;
    let total = all.len();
    let plan = plan(all, keep);
    println!(
        "{repository}: {total} manifests, keeping {}, deleting {}, {} locked",
        plan.keep.len(),
        plan.delete.len(),
        plan.locked.len()
    );
    for m in &plan.locked {
        println!("  locked   {} {:?}", m.digest, m.tags);
    }
    for m in &plan.delete {
        let updated = m
            .last_updated_on
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        if dry_run {
            println!("  would delete {} {updated} {:?}", m.digest, m.tags);
        } else {
            client.delete_manifest(repository, m.digest.as_str())?;
            println!("  deleted  {} {updated} {:?}", m.digest, m.tags);
        }
    }
    Ok(plan.delete.len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let keep = match args.value("--keep")? {
        Some(n) => n
            .parse::<usize>()
            .map_err(|e| format!("--keep {n:?}: {e}"))?,
        None => 3,
    };
    let only = args.value("--repository")?;
    let dry_run = args.flag("--dry-run");
    args.finish()?;

    let repositories = match only {
        Some(r) => vec![r],
        None => client
            .list_repositories(Default::default())
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut deleted = 0;
    for repository in &repositories {
        deleted += clean(&client, repository, keep, dry_run)?;
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    println!(
        "{verb} {deleted} manifests in {} repositories",
        repositories.len()
    );
    Ok(())
}
