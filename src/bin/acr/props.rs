//! The ACR properties of a repository, tag or manifest: `show` prints them, `set` changes the
//! permissions.

use std::io;

use azcontainerregistry::{
    ArtifactManifestProperties, ArtifactTagProperties, ChangeableAttributes,
    ManifestWriteableProperties, RepositoryProperties, RepositoryWriteableProperties,
    TagWriteableProperties, Timestamp,
};

use crate::AnyResult;
use crate::args::{Cli, PermissionFlags};
use crate::connect::{Target, client_and_ref};
use crate::output::{self, field, or_dash, permissions};

/// `show`: the properties of what `target` names, as labelled lines or JSON.
pub fn show(cli: &Cli, target: &str) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, target)?;
    let repo = r.repository();
    match Target::of(&r) {
        Target::Manifest(d) => {
            let p = client.get_manifest_properties(repo, d.as_str())?;
            output::print(cli.json, &p, |p| print_manifest(repo, p))
        }
        Target::Tag(t) => {
            let p = client.get_tag_properties(repo, t)?;
            output::print(cli.json, &p, |p| print_tag(repo, p))
        }
        Target::Repository => {
            let p = client.get_repository_properties(repo)?;
            output::print(cli.json, &p, print_repository)
        }
    }
}

/// `set`: changes the permissions the flags give, then prints one `updated ...` line or JSON.
pub fn set(cli: &Cli, target: &str, flags: &PermissionFlags) -> AnyResult<()> {
    let attributes = flags.attributes().ok_or(
        "nothing to set: give at least one of --can-read, --can-write, --can-delete, --can-list",
    )?;
    let (client, r) = client_and_ref(cli, target)?;
    let repo = r.repository();
    match Target::of(&r) {
        Target::Manifest(d) => {
            let patch = ManifestWriteableProperties::from(&attributes);
            let m = client.update_manifest_properties(repo, d.as_str(), &patch)?;
            output::print(cli.json, &m, |m| {
                let m = &m.manifest;
                updated(&format!("{repo}@{}", m.digest), &m.changeable_attributes)
            })
        }
        Target::Tag(t) => {
            let patch = TagWriteableProperties::from(&attributes);
            let p = client.update_tag_properties(repo, t, &patch)?;
            output::print(cli.json, &p, |p| {
                updated(
                    &format!("{repo}:{}", p.tag.name),
                    &p.tag.changeable_attributes,
                )
            })
        }
        Target::Repository => {
            let patch = RepositoryWriteableProperties::from(&attributes);
            let p = client.update_repository_properties(repo, &patch)?;
            output::print(cli.json, &p, |p| updated(&p.name, &p.changeable_attributes))
        }
    }
}

/// `show`'s lines for a manifest.
fn print_manifest(repo: &str, p: &ArtifactManifestProperties) -> io::Result<()> {
    let m = &p.manifest;
    field("manifest", format!("{repo}@{}", m.digest))?;
    field("media type", or_dash(m.media_type.as_ref()))?;
    let os = or_dash(m.operating_system.as_ref());
    field(
        "platform",
        format!("{os}/{}", or_dash(m.architecture.as_ref())),
    )?;
    field("size", or_dash(m.size))?;
    field("tags", m.tags.join(", "))?;
    print_times(
        m.created_on.as_ref(),
        m.last_updated_on.as_ref(),
        &m.changeable_attributes,
    )
}

/// `show`'s lines for a tag.
fn print_tag(repo: &str, p: &ArtifactTagProperties) -> io::Result<()> {
    let t = &p.tag;
    field("tag", format!("{repo}:{}", t.name))?;
    field("digest", &t.digest)?;
    print_times(
        t.created_on.as_ref(),
        t.last_updated_on.as_ref(),
        &t.changeable_attributes,
    )
}

/// `show`'s lines for a repository.
fn print_repository(p: &RepositoryProperties) -> io::Result<()> {
    field("repository", &p.name)?;
    field("registry", &p.registry_login_server)?;
    field("manifests", p.manifest_count)?;
    field("tags", p.tag_count)?;
    print_times(
        p.created_on.as_ref(),
        p.last_updated_on.as_ref(),
        &p.changeable_attributes,
    )
}

/// The lines every `show` ends with: created, last updated, and the permissions.
fn print_times(
    created: Option<&Timestamp>,
    updated: Option<&Timestamp>,
    attributes: &ChangeableAttributes,
) -> io::Result<()> {
    field("created", or_dash(created))?;
    field("last updated", or_dash(updated))?;
    output::line(permissions(attributes))
}

/// `set`'s line: `updated NAME (can read/write/delete/list: ...)`.
fn updated(name: &str, attributes: &ChangeableAttributes) -> io::Result<()> {
    output::line(format!("updated {name} ({})", permissions(attributes)))
}
