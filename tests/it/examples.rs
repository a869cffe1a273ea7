//! The Go-style examples run against the real registry: `upload_image` pushes an image that
//! `download_image` fetches back verified, and `upload_download_blob` round-trips a file in chunks.

use crate::support;
use crate::support::{blob_client, client};
use std::process::Command;

use crate::support::Registry;
use crate::support::cli::build_example;
use azcontainerregistry::manifest::Manifest;

fn run(name: &str, reg: &Registry, args: &[&str]) -> String {
    let out = Command::new(build_example(name))
        .args(["--registry", &reg.url(), "--anonymous"])
        .args(args)
        .env_remove("ACR_USERNAME")
        .env_remove("ACR_PASSWORD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn upload_image_then_download_image() {
    let reg = Registry::start();
    let printed = run(
        "upload_image",
        &reg,
        &["--repository", "hello", "--tag", "v1"],
    );
    let client = client(&reg.url());
    let m = client.get_manifest("hello", "v1").unwrap();
    assert!(printed.contains(m.digest.as_str()), "{printed}");
    let Manifest::Image(image) = m.manifest().unwrap() else {
        panic!("an image manifest")
    };
    assert_eq!(image.layers.len(), 2);
    // the config is real image-config JSON whose diff_ids name the (uncompressed) layers, not
    // swapped
    let config = client
        .blob_client()
        .get_blob("hello", &image.config.digest)
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut { config }, &mut bytes).unwrap();
    let config: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let layers: Vec<String> = image.layers.iter().map(|l| l.digest.to_string()).collect();
    assert_eq!(diff_ids, layers);

    let dir = tempfile::tempdir().unwrap();
    run(
        "download_image",
        &reg,
        &["hello:v1", dir.path().to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read(dir.path().join("manifest.json")).unwrap(),
        m.bytes
    );
    assert_eq!(
        support::sha256_digest(std::fs::read(dir.path().join("config.json")).unwrap()),
        image.config.digest.as_str()
    );
    for (i, l) in image.layers.iter().enumerate() {
        let bytes = std::fs::read(dir.path().join(format!("layer{i}.bin"))).unwrap();
        assert_eq!(support::sha256_digest(&bytes), l.digest.as_str());
    }
}

#[test]
fn upload_download_blob_in_chunks() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    let data = support::pseudo_random(300_000, 9);
    std::fs::write(&file, &data).unwrap();
    let printed = run(
        "upload_download_blob",
        &reg,
        &["--chunk-size", "65536", file.to_str().unwrap()],
    );
    let digest = support::sha256_digest(&data);
    assert!(printed.contains(&digest), "{printed}");
    assert!(
        printed.contains("300000 bytes, digest verified"),
        "{printed}"
    );
    let blobs = blob_client(&reg.url());
    assert_eq!(
        blobs
            .check_blob_exists("blobs", &digest.parse().unwrap())
            .unwrap(),
        Some(300_000)
    );
}
