//! `discover`: the referrers of a manifest as a tree, like `oras discover`.

use azcontainerregistry::image::{self, DiscoverOptions, ReferrerNode};

use crate::AnyResult;
use crate::args::Cli;
use crate::connect::client_and_ref;
use crate::output;

/// `discover REF [--artifact-type T] [--depth N]`: `REPO@DIGEST` then one `DIGEST ARTIFACT_TYPE`
/// line per referrer, drawn as a tree; or, with `--json`, the tree as a JSON object (the
/// descriptor fields with `referrers` nested).
pub fn discover(
    cli: &Cli,
    reference: &str,
    artifact_type: Option<&str>,
    depth: usize,
) -> AnyResult<()> {
    let (client, r) = client_and_ref(cli, reference)?;
    let target = match (r.tag(), r.digest()) {
        (_, Some(d)) => format!("{}@{d}", r.repository()),
        (Some(t), None) => format!("{}:{t}", r.repository()),
        (None, None) => r.repository().to_string(),
    };
    let options = DiscoverOptions {
        artifact_type: artifact_type.map(str::to_string),
        max_depth: depth,
        ..Default::default()
    };
    let tree = image::discover(&client, &target, options)?;
    output::print(cli.json, &tree, |t| {
        output::line(format!("{}@{}", t.repository, t.subject.digest))?;
        print_level(&t.referrers, "")
    })?;
    if tree.truncated {
        output::note(format!(
            "deeper referrers not shown (--depth {depth}); raise --depth to see them"
        ));
    }
    Ok(())
}

/// One level of the tree, each line after `prefix` and its branch.
fn print_level(nodes: &[ReferrerNode], prefix: &str) -> std::io::Result<()> {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        let d = &node.descriptor;
        let kind = d.artifact_type.as_deref().unwrap_or(&d.media_type);
        let branch = if last { "└── " } else { "├── " };
        output::line(format!("{prefix}{branch}{} {kind}", d.digest))?;
        let below = format!("{prefix}{}", if last { "    " } else { "│   " });
        print_level(&node.referrers, &below)?;
    }
    Ok(())
}
