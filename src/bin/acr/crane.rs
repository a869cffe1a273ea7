//! The everyday commands crane users reach for: `digest`, `tag` and `config`.

use std::io::{IsTerminal, Read, Write};

use azcontainerregistry::{Manifest, Platform};

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::{Target, client_and_ref};
use crate::output;

/// The most of a config blob shown on a terminal (a pipe or a file gets all of it).
const CONFIG_SHOWN_LIMIT: u64 = 4 << 20;

/// `digest REF`: the manifest's digest, from a `HEAD` request.
pub fn digest(cli: &Cli, reference: &str) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let info = client
        .manifest_exists(r.repository(), r.tag_or_digest().as_str())?
        .ok_or_else(|| format!("{reference}: no such manifest"))?;
    output::line(info.digest)?;
    Ok(())
}

/// `tag REF TAG`: the manifest uploaded again under `TAG` in the same repository (its blobs are
/// already there); prints `tagged REPO:TAG`.
pub fn tag(cli: &Cli, reference: &str, tag: &str) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let repo = r.repository();
    let m = client.get_manifest(repo, r.tag_or_digest().as_str())?;
    client.upload_manifest(repo, tag, &m.bytes, &m.media_type)?;
    output::line(format_args!("tagged {repo}:{tag}"))?;
    Ok(())
}

/// `config REF`: the image's config blob, exactly; from an index, the manifest of `platform`
/// (default linux/amd64).
pub fn config(cli: &Cli, reference: &str, platform: Option<&str>) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    if matches!(Target::of(&r), Target::Repository) {
        return Err("config needs REPO:TAG or REPO@DIGEST".into());
    }
    let repo = r.repository();
    let mut manifest = client
        .get_manifest(repo, r.tag_or_digest().as_str())?
        .into_manifest()?;
    if let Manifest::Index(index) = &manifest {
        let wanted = Platform::parse(platform.unwrap_or("linux/amd64"))?;
        let chosen = index
            .manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)))
            .ok_or_else(|| format!("{reference} is an index without {wanted}: pass --platform"))?;
        manifest = client
            .get_manifest(repo, chosen.digest.as_str())?
            .into_manifest()?;
    }
    let Manifest::Image(image) = manifest else {
        return Err(format!("{reference} is not an image: it has no config").into());
    };
    let mut blob = client.blob_client().get_blob(repo, &image.config.digest)?;
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        // On a terminal, the config is shown with its control characters escaped.
        let mut bytes = Vec::new();
        (&mut blob)
            .take(CONFIG_SHOWN_LIMIT)
            .read_to_end(&mut bytes)?;
        stdout.write_all(&output::for_stdout(&bytes))?;
    } else {
        blob.copy_to(&mut stdout)?;
    }
    stdout.flush()?;
    Ok(())
}
