//! `attach`: pushes files as an artifact (signature, SBOM, ...) that refers to a manifest.

use std::path::Path;

use azcontainerregistry::image::{self, DEFAULT_BLOB_MEDIA_TYPE, Referrer};

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::client_and_ref;
use crate::output;

/// `attach REF --artifact-type T FILE[:MEDIATYPE]... [--annotation K=V]...`: the artifact's digest
/// on stdout (or, with `--json`, its descriptor and subject), and a note on stderr saying where
/// it is listed.
pub fn attach(
    cli: &Cli,
    reference: &str,
    artifact_type: &str,
    files: &[String],
    annotations: &[String],
) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let mut referrer = Referrer::new(artifact_type);
    for f in files {
        let (path, media_type) = split_file(f);
        if !Path::new(path).is_file() {
            return Err(format!("cannot attach {path}: no such file").into());
        }
        referrer = referrer.file(path, media_type);
    }
    for a in annotations {
        let (key, value) = a
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("--annotation {a}: expected KEY=VALUE"))?;
        referrer = referrer.annotation(key, value);
    }
    let target = match (r.tag(), r.digest()) {
        (_, Some(d)) => format!("{}@{d}", r.repository()),
        (Some(t), None) => format!("{}:{t}", r.repository()),
        (None, None) => r.repository().to_string(),
    };
    let attached = image::attach(&client, &target, &referrer)?;
    let d = &attached.descriptor;
    let json = serde_json::json!({
        "digest": d.digest.as_str(),
        "mediaType": d.media_type,
        "artifactType": d.artifact_type,
        "size": d.size,
        "subject": attached.subject.digest.as_str(),
        "indexedByRegistry": attached.indexed_by_registry,
    });
    output::print(cli.json, &json, |_| output::line(&d.digest))?;
    let listed = if attached.indexed_by_registry {
        "indexed by the registry".to_string()
    } else {
        format!(
            "listed in the tag index {}",
            image::referrers_tag(&attached.subject.digest)
        )
    };
    output::note(format!(
        "attached {} to {} ({listed})",
        d.digest, attached.subject.digest
    ));
    Ok(())
}

/// `FILE` or `FILE:MEDIATYPE` (a media type has a `/`; an existing file named with a colon wins).
fn split_file(s: &str) -> (&str, &str) {
    match s.rsplit_once(':') {
        Some((path, mt)) if !path.is_empty() && mt.contains('/') && !Path::new(s).exists() => {
            (path, mt)
        }
        _ => (s, DEFAULT_BLOB_MEDIA_TYPE),
    }
}
