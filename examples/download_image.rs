//! Downloads an image's manifest, config and layers into a directory, each verified against its
//! digest, as the Go SDK's `Example_downloadImage` does (for an index, the first platform's image,
//! or `--platform`).
//!
//! ```text
//! cargo run --example download_image -- \
//!     --registry http://127.0.0.1:5000 --anonymous hello-world:v1 out/
//! ```

mod common;

use std::error::Error;
use std::path::PathBuf;

use azcontainerregistry::Reference;
use azcontainerregistry::manifest::{Manifest, Platform};

const USAGE: &str =
    "usage: download_image --registry URL [--anonymous] [--platform os/arch] REPOSITORY:TAG DIR";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let platform = args
        .value("--platform")?
        .map(|p| Platform::parse(&p))
        .transpose()?;
    let reference: Reference = args.next_positional().ok_or(USAGE)?.parse()?;
    let dir = PathBuf::from(args.next_positional().ok_or(USAGE)?);
    args.finish()?;
    std::fs::create_dir_all(&dir)?;
    let repo = reference.repository();

    let mut response = client.get_manifest(repo, reference.tag_or_digest().as_str())?;
    if let Manifest::Index(index) = response.manifest()? {
        let wanted = platform.unwrap_or_else(|| Platform::new("linux", "amd64"));
        let child = index
            .find_platform(&wanted)
            .or(index.manifests.first())
            .ok_or("the index lists no manifest")?;
        println!("index {} -> {} for {wanted}", response.digest, child.digest);
        response = client.get_manifest(repo, child.digest.as_str())?;
    }
    std::fs::write(dir.join("manifest.json"), &response.bytes)?;
    println!("manifest {} ({})", response.digest, response.media_type);
    let Manifest::Image(image) = response.manifest()? else {
        return Err("not an image manifest".into());
    };

    let blobs = client.blob_client();
    for (name, d) in std::iter::once(("config.json".to_string(), &image.config)).chain(
        image
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("layer{i}.bin"), l)),
    ) {
        let written = blobs.download_blob_to(repo, &d.digest, dir.join(&name))?; // verified, atomic
        println!("{name:12} {} ({written} bytes)", d.digest);
    }
    Ok(())
}
