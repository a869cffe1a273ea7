//! `artifact push` and `artifact pull`: files as OCI artifacts, through the shared cache.

use std::collections::BTreeMap;
use std::path::Path;

use azcontainerregistry::artifact::{self, FileSpec, PullOptions, PushOptions};
use azcontainerregistry::cache::Cache;
use serde_json::json;

use crate::AnyResult;
use crate::args::{ArtifactCommand, Cli};
use crate::connect::client_and_ref;
use crate::output;
use crate::progress::with_bars;

/// Runs an `artifact` subcommand.
pub fn run(cli: &Cli, command: &ArtifactCommand) -> AnyResult<()> {
    match command {
        ArtifactCommand::Push {
            reference,
            files,
            artifact_type,
            annotations,
        } => push(cli, reference, files, artifact_type.clone(), annotations),
        ArtifactCommand::Pull {
            reference,
            output,
            media_types,
            offline,
            cache_dir,
            no_cache,
        } => {
            let cache = match (no_cache, cache_dir) {
                (true, _) => None,
                (false, Some(dir)) => Some(Cache::new(dir)),
                (false, None) => Some(Cache::from_env()?),
            };
            let options = PullOptions {
                media_types: media_types.clone(),
                cache,
                offline: *offline,
                ..Default::default()
            };
            pull(cli, reference, output, options)
        }
    }
}

fn push(
    cli: &Cli,
    reference: &str,
    files: &[String],
    artifact_type: Option<String>,
    annotations: &[String],
) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let mut map = BTreeMap::new();
    for a in annotations {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| format!("--annotation {a:?}: expected KEY=VALUE"))?;
        map.insert(k.to_string(), v.to_string());
    }
    let specs: Vec<FileSpec> = files.iter().map(|f| FileSpec::parse(f)).collect();
    let report = with_bars(|progress| {
        let options = PushOptions {
            artifact_type,
            annotations: map,
            progress,
        };
        artifact::push(&client, &without_registry(&r), &specs, options)
    })?;
    let layers = &report.manifest.layers;
    output::note(format_args!(
        "pushed {} ({} layers, {} already there)",
        r,
        layers.len(),
        report.layers_skipped
    ));
    if cli.json {
        let value = json!({
            "digest": report.digest.to_string(),
            "artifactType": report.manifest.artifact_type,
            "layers": layers,
        });
        output::print(true, &value, |_| Ok(()))?;
    } else {
        output::line(&report.digest)?;
    }
    Ok(())
}

fn pull(cli: &Cli, reference: &str, output: &Path, options: PullOptions) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let report = with_bars(|progress| {
        let options = PullOptions {
            progress,
            ..options
        };
        artifact::pull(&client, &without_registry(&r), output, options)
    })?;
    if let Some(record) = &report.from_tag_record {
        output::note(format_args!(
            "offline: {r} taken as {}, the digest the cache last recorded for the tag",
            record.digest
        ));
    }
    for f in &report.files {
        let how = if f.cached {
            "from the cache"
        } else {
            "fetched"
        };
        output::note(format_args!("{} -> {} ({how})", f.title, f.path.display()));
    }
    if cli.json {
        let files: Vec<_> = report
            .files
            .iter()
            .map(|f| {
                json!({
                    "title": f.title,
                    "path": f.path,
                    "digest": f.descriptor.digest.to_string(),
                    "size": f.descriptor.size,
                    "mediaType": f.descriptor.media_type,
                    "cached": f.cached,
                    "unpacked": f.unpacked,
                })
            })
            .collect();
        let value = json!({
            "digest": report.digest.to_string(),
            "artifactType": report.artifact_type,
            "files": files,
            "fromTagRecord": report.from_tag_record.as_ref().map(|t| t.digest.to_string()),
        });
        output::print(true, &value, |_| Ok(()))?;
    } else {
        output::line(&report.digest)?;
    }
    Ok(())
}

/// The reference without its registry part (the client already names the registry).
fn without_registry(r: &azcontainerregistry::Reference) -> String {
    let mut s = r.repository().to_string();
    if let Some(t) = r.tag() {
        s = format!("{s}:{t}");
    }
    if let Some(d) = r.digest() {
        s = format!("{s}@{d}");
    }
    s
}
