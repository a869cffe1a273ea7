//! Whole images: `pull` into an OCI image layout, `push` from one, and `copy` between registries.

use std::path::Path;

use azcontainerregistry::Reference;
use azcontainerregistry::image::{self, CopyOptions, PullOptions, PushOptions, TransferReport};
use azcontainerregistry::manifest::Platform;

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::client_and_ref;
use crate::output;
use crate::progress::with_bars;

/// `pull`: an image (or only the platforms given) into the layout directory `dir`, with its
/// referrers when `referrers`.
pub fn pull(
    cli: &Cli,
    reference: &str,
    dir: &Path,
    platforms: &[String],
    referrers: bool,
) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let platforms = parse_platforms(platforms)?;
    let report = with_bars(|progress| {
        let options = PullOptions {
            platforms,
            progress,
            referrers,
            ..Default::default()
        };
        image::pull(&client, &r.to_string(), dir, options)
    })?;
    let mut detail = format!(
        "{} blobs fetched, {} already there, {} bytes",
        report.blobs_transferred, report.blobs_skipped, report.bytes_transferred
    );
    if referrers {
        detail.push_str(&format!(", {} referrers", report.referrers));
    }
    print_report(cli, "pulled", &report, &detail)
}

/// `push`: the image of a layout (`DIR`, or `DIR:NAME` for a name in its index.json), with its
/// referrers in the layout when `referrers`.
pub fn push(cli: &Cli, dir: &str, reference: &str, referrers: bool) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let (path, name) = split_layout(dir);
    let report = with_bars(|progress| {
        let options = PushOptions {
            progress,
            referrers,
            ..Default::default()
        };
        image::push(&client, path, name, &r.to_string(), options)
    })?;
    let mut detail = format!(
        "{} blobs uploaded, {} already there",
        report.blobs_transferred, report.blobs_skipped
    );
    if referrers {
        detail.push_str(&format!(", {} referrers", report.referrers));
    }
    print_report(cli, "pushed", &report, &detail)
}

/// `copy`: an image (or only the platforms given) from `source` to `destination`, with its
/// referrers when `referrers` (`--referrers`).
pub fn copy(
    cli: &Cli,
    source: &str,
    destination: &str,
    platforms: &[String],
    referrers: bool,
) -> AnyResult<()> {
    let (from, s) = client_and_ref(cli, source)?;
    let (to, d) = client_and_ref(cli, destination)?;
    let platforms = parse_platforms(platforms)?;
    let report = with_bars(|progress| {
        let options = CopyOptions {
            platforms,
            progress,
            referrers,
            ..Default::default()
        };
        let (s, d) = (without_registry(&s), without_registry(&d));
        image::copy(&from, &s, &to, &d, options)
    })?;
    let mut detail = format!(
        "{} blobs moved, {} mounted or already there",
        report.blobs_transferred, report.blobs_skipped
    );
    if referrers {
        detail.push_str(&format!(", {} referrers", report.referrers));
    }
    print_report(cli, "copied", &report, &detail)
}

/// The `--platform` values (`os/arch[/variant]`).
fn parse_platforms(platforms: &[String]) -> AnyResult<Vec<Platform>> {
    Ok(platforms
        .iter()
        .map(|p| Platform::parse(p))
        .collect::<Result<_, _>>()?)
}

/// A transfer's result: its digest on stdout (or, with `--json`, the whole report as a JSON
/// object), and `VERB DIGEST (DETAIL)` on stderr.
fn print_report(cli: &Cli, verb: &str, report: &TransferReport, detail: &str) -> AnyResult<()> {
    let json = serde_json::json!({
        "digest": report.digest.as_str(),
        "mediaType": report.media_type,
        "manifests": report.manifests,
        "blobsTransferred": report.blobs_transferred,
        "blobsSkipped": report.blobs_skipped,
        "bytesTransferred": report.bytes_transferred,
        "referrers": report.referrers,
    });
    output::print(cli.json, &json, |_| output::line(&report.digest))?;
    output::note(format!("{verb} {} ({detail})", report.digest));
    Ok(())
}

/// `REPO[:TAG][@DIGEST]`: a reference without its registry part.
fn without_registry(r: &Reference) -> String {
    let mut s = r.repository().to_string();
    if let Some(t) = r.tag() {
        s = format!("{s}:{t}");
    }
    if let Some(d) = r.digest() {
        s = format!("{s}@{d}");
    }
    s
}

/// `DIR` or `DIR:NAME` (a name in the layout's index.json).
fn split_layout(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once(':') {
        Some((dir, name)) if !dir.is_empty() && !name.contains('/') && !Path::new(s).exists() => {
            (dir, Some(name))
        }
        _ => (s, None),
    }
}
