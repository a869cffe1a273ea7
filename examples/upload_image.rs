//! Uploads an image (config, two layers, manifest), as the Go SDK's `Example_uploadImage` does, but
//! correctly: the config is valid image-config JSON, its `rootfs.diff_ids` are the digests of the
//! uncompressed layers, and the manifest's config and layer descriptors are not swapped.
//!
//! ```text
//! cargo run --example upload_image -- \
//!     --registry http://127.0.0.1:5000 --anonymous [--repository hello] [--tag v1]
//! ```

mod common;

use std::error::Error;

use azcontainerregistry::manifest::{Descriptor, ImageManifest, Manifest, media_type};
use azcontainerregistry::{Digest, UploadOptions};

const USAGE: &str =
    "usage: upload_image --registry URL [--anonymous] [--repository NAME] [--tag TAG]";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let repository = args
        .value("--repository")?
        .unwrap_or_else(|| "hello-world".into());
    let tag = args.value("--tag")?.unwrap_or_else(|| "v1".into());
    args.finish()?;
    let blobs = client.blob_client();

    // Two uncompressed layers (a real image would gzip them; the diff_ids are over the uncompressed
    // tar).
    let layers: Vec<Vec<u8>> = vec![
        tar_with("hello.txt", b"hello\n"),
        tar_with("world.txt", b"world\n"),
    ];
    let mut layer_descriptors = Vec::new();
    for layer in &layers {
        let uploaded =
            blobs.upload_blob(&repository, layer.as_slice(), UploadOptions::default())?;
        println!("layer  {} ({} bytes)", uploaded.digest, uploaded.size);
        layer_descriptors.push(Descriptor::new(
            media_type::OCI_LAYER_TAR,
            uploaded.digest,
            uploaded.size,
        ));
    }

    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Cmd": ["cat", "/hello.txt", "/world.txt"] },
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    }))?;
    let uploaded = blobs.upload_blob(&repository, config.as_slice(), UploadOptions::default())?;
    println!("config {} ({} bytes)", uploaded.digest, uploaded.size);
    let config_descriptor = Descriptor::new(media_type::OCI_CONFIG, uploaded.digest, uploaded.size);

    let manifest = Manifest::Image(ImageManifest::new(config_descriptor, layer_descriptors));
    let digest = client.upload_manifest_typed(&repository, &tag, &manifest)?;
    println!("pushed {repository}:{tag} = {digest}");
    Ok(())
}

/// A one-file POSIX tar archive (ustar), enough for an example layer.
fn tar_with(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{:011o}", content.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}
