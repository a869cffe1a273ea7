//! `manifest get` and `manifest put`: a manifest's exact bytes, to and from the registry.

use std::io::{self, Write};
use std::path::Path;

use azcontainerregistry::GetManifestOptions;

use crate::AnyResult;
use crate::args::{Cli, ManifestCommand};
use crate::connect::client_and_ref;
use crate::output::{self, file_error};

/// Runs a `manifest` command.
pub fn run(cli: &Cli, command: &ManifestCommand) -> AnyResult<()> {
    match command {
        ManifestCommand::Get {
            reference,
            accept,
            output,
        } => get(cli, reference, accept, output.as_deref()),
        ManifestCommand::Put {
            reference,
            file,
            media_type,
        } => put(cli, reference, file, media_type.clone()),
    }
}

/// `manifest get`: the bytes as received, to stdout or to `output` (with a note on stderr).
fn get(cli: &Cli, reference: &str, accept: &[String], output: Option<&Path>) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let options = GetManifestOptions {
        accept: (!accept.is_empty()).then(|| accept.to_vec()),
    };
    let m = client.get_manifest_with(r.repository(), r.tag_or_digest().as_str(), options)?;
    match output {
        Some(path) => {
            std::fs::write(path, &m.bytes).map_err(file_error(path, "write"))?;
            output::note(format!(
                "{} {} ({} bytes) -> {}",
                m.digest,
                m.media_type,
                m.bytes.len(),
                path.display()
            ));
        }
        None => io::stdout().write_all(&output::for_stdout(&m.bytes))?,
    }
    Ok(())
}

/// `manifest put`: uploads a file as a manifest and prints its digest.
fn put(cli: &Cli, reference: &str, file: &Path, media_type: Option<String>) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let bytes = std::fs::read(file).map_err(file_error(file, "read"))?;
    let media_type = match media_type {
        Some(m) => m,
        None => media_type_field(&bytes)?,
    };
    let digest = client.upload_manifest(
        r.repository(),
        r.tag_or_digest().as_str(),
        &bytes,
        &media_type,
    )?;
    output::line(digest)?;
    Ok(())
}

/// The `mediaType` field of a manifest's JSON.
fn media_type_field(bytes: &[u8]) -> AnyResult<String> {
    let manifest: serde_json::Value = serde_json::from_slice(bytes)?;
    let media_type = manifest.get("mediaType").and_then(|v| v.as_str());
    Ok(media_type
        .ok_or("the manifest has no mediaType field: pass --media-type")?
        .to_string())
}
