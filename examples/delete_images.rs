//! Deletes old images: in each repository, keeps the newest `--keep N` tags and deletes the rest
//! (the Go SDK's `Example_deleteImages`, which keeps N per *page*; this keeps N per repository),
//! as a short use of the `purge` module.
//!
//! ```text
//! cargo run --example delete_images -- --registry https://myregistry.azurecr.io \
//!     [--keep 3] [--repository NAME] [--dry-run]
//! ```
//!
//! The plan is made from the whole listing before anything is deleted. On ACR the deleted tags'
//! manifests go too when nothing else tags them; manifests that a kept index lists stay, and
//! locked ones are skipped. Elsewhere a tag goes with its manifest, when all its tags go.
//! Credentials: `ACR_USERNAME` + `ACR_PASSWORD`, else Azure AD (feature `azure`); the identity
//! needs delete permission.

#[path = "common/mod.rs"]
mod common;

use azcontainerregistry::purge::{self, ApplyOptions, Filter, RegistryKind, RetentionPolicy};

const USAGE: &str =
    "usage: delete_images --registry URL [--keep N] [--repository NAME] [--dry-run] [--anonymous]
  (or ACR_REGISTRY; credentials from ACR_USERNAME/ACR_PASSWORD, else Azure AD)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let keep = match args.value("--keep")? {
        Some(n) => n.parse().map_err(|e| format!("--keep {n:?}: {e}"))?,
        None => 3,
    };
    // a repository name is matched as a regular expression: its dots must be literal
    let repository = args.value("--repository")?.map(|r| r.replace('.', "\\."));
    let dry_run = args.flag("--dry-run");
    args.finish()?;

    let acr = RegistryKind::Auto.resolve(client.endpoint()) == RegistryKind::Acr;
    let policy = RetentionPolicy {
        filters: vec![Filter::new(repository.as_deref().unwrap_or(".*"), ".*")?],
        keep,
        untagged: if acr {
            purge::Untagged::Also
        } else {
            purge::Untagged::Skip
        },
        ..Default::default()
    };
    let plan = purge::plan(&client, &policy)?;
    for e in &plan.entries {
        let verb = match (e.decision.is_delete(), dry_run) {
            (true, true) => "would delete",
            (true, false) => "delete",
            (false, _) => "keep",
        };
        println!("{verb:<12} {:<10} {}", e.decision.reason(), e.name());
    }
    if dry_run {
        println!("would delete {}", plan.deletion_count());
        return Ok(());
    }
    let report = purge::apply(&client, &plan, ApplyOptions::default())?;
    println!("deleted {}, failed {}", report.deleted(), report.failed());
    if report.failed() > 0 {
        return Err("some deletions failed".into());
    }
    Ok(())
}
