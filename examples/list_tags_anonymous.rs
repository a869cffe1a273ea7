//! Lists the tags of a repository without signing in, on a registry that allows anonymous pull (the
//! Go SDK's `Example_listTagsWithAnonymousAccess`).
//!
//! ```text
//! cargo run --example list_tags_anonymous -- \
//!     --registry https://myregistry.azurecr.io [--repository library/hello-world]
//! ```

#[path = "common/mod.rs"]
mod common;

use azcontainerregistry::{ArtifactOrder, Client, ClientOptions, Credential, ListTagsOptions};

const USAGE: &str = "usage: list_tags_anonymous --registry URL [--repository NAME]
  (or ACR_REGISTRY; the registry must allow anonymous pull)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = common::Args::parse(USAGE);
    let registry = args.registry()?;
    let repository = args
        .value("--repository")?
        .unwrap_or_else(|| "library/hello-world".to_string());
    args.finish()?;

    let client = Client::new(&registry, Credential::anonymous(), ClientOptions::default())?;
    let newest_first = ListTagsOptions {
        order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
        ..Default::default()
    };
    for tag in client.list_tags(&repository, newest_first) {
        let tag = tag?;
        let updated = tag
            .last_updated_on
            .map(|t| t.to_string())
            .unwrap_or_default();
        println!("{repository}:{}\t{}\t{updated}", tag.name, tag.digest);
    }
    Ok(())
}
