//! Locks a tag against deletion and overwriting, or unlocks it again (the Go SDK's
//! `Example_setArtifactProperties`).
//!
//! ```text
//! cargo run --example set_artifact_properties -- --registry https://myregistry.azurecr.io \
//!     [--repository library/hello-world] [--tag latest] [--unlock]
//! ```
//!
//! Credentials: `ACR_USERNAME` + `ACR_PASSWORD`, else Azure AD (feature `azure`); the identity
//! needs metadata write permission.

#[path = "common/mod.rs"]
mod common;

use azcontainerregistry::TagWriteableProperties;

const USAGE: &str = "usage: set_artifact_properties --registry URL [--repository NAME] [--tag TAG] [--unlock] [--anonymous]
  (or ACR_REGISTRY; credentials from ACR_USERNAME/ACR_PASSWORD, else Azure AD)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let repository = args
        .value("--repository")?
        .unwrap_or_else(|| "library/hello-world".to_string());
    let tag = args.value("--tag")?.unwrap_or_else(|| "latest".to_string());
    let unlock = args.flag("--unlock");
    args.finish()?;

    let before = client.get_tag_properties(&repository, &tag)?;
    let a = &before.tag.changeable_attributes;
    println!(
        "{repository}:{tag} before: delete={:?} write={:?}",
        a.can_delete, a.can_write
    );

    // only the fields that are Some go on the wire; read and list permissions stay as they are
    let allowed = Some(unlock);
    let after = client.update_tag_properties(
        &repository,
        &tag,
        &TagWriteableProperties {
            can_delete: allowed,
            can_write: allowed,
            ..Default::default()
        },
    )?;
    let a = &after.tag.changeable_attributes;
    println!(
        "{repository}:{tag} after:  delete={:?} write={:?}",
        a.can_delete, a.can_write
    );
    Ok(())
}
