//! Benchmark: pulling an image of N layers with parallel blob transfers against one at a time, on
//! the same registry in the same run. Called by `scripts/bench`; prints one line per mode and the
//! ratio.
//!
//! ```text
//! image_bench <registry-url> [layers=8] [layer-MiB=32] [runs=3]
//! ```

use std::time::{Duration, Instant};

use azcontainerregistry::image::{self, Layout};
use azcontainerregistry::manifest::{Descriptor, ImageManifest, Manifest, media_type};
use azcontainerregistry::{Client, ClientOptions, Credential};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let registry = args
        .get(1)
        .ok_or("usage: image_bench <registry-url> [layers] [layer-MiB] [runs]")?;
    let layers: usize = args.get(2).map_or(Ok(8), |s| s.parse())?;
    let mib: usize = args.get(3).map_or(Ok(32), |s| s.parse())?;
    let runs: usize = args.get(4).map_or(Ok(3), |s| s.parse())?;
    let client = Client::new(registry, Credential::anonymous(), ClientOptions::default())?;

    let src = tempfile::tempdir()?;
    let layout = Layout::create(src.path())?;
    let mut descriptors = Vec::new();
    for i in 0..layers {
        let bytes = noise(mib << 20, i as u64 + 1);
        let d = layout.write_blob_bytes(&bytes)?;
        descriptors.push(Descriptor::new(
            media_type::OCI_LAYER_TAR_GZIP,
            d,
            bytes.len() as u64,
        ));
    }
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = layout.write_blob_bytes(config)?;
    let manifest = Manifest::Image(ImageManifest::new(
        Descriptor::new(media_type::OCI_CONFIG, cd, config.len() as u64),
        descriptors,
    ));
    let bytes = manifest.to_bytes();
    let md = layout.write_blob_bytes(&bytes)?;
    layout.add_manifest(
        &Descriptor::new(media_type::OCI_MANIFEST, md, bytes.len() as u64),
        Some("bench"),
    )?;
    image::push(
        &client,
        src.path(),
        None,
        "bench/image:v1",
        Default::default(),
    )?;

    let best = |parallelism: usize| -> Result<Duration, Box<dyn std::error::Error>> {
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let dst = tempfile::tempdir()?;
            let started = Instant::now();
            let options = image::PullOptions {
                parallelism,
                ..Default::default()
            };
            let report = image::pull(&client, "bench/image:v1", dst.path(), options)?;
            best = best.min(started.elapsed());
            assert_eq!(report.blobs_transferred, layers + 1);
        }
        Ok(best)
    };
    let sequential = best(1)?;
    let parallel = best(image::DEFAULT_PARALLELISM)?;
    let total_mib = (layers * mib) as f64;
    println!(
        "pull {layers} x {mib} MiB, sequential:          {:.3} s ({:.0} MiB/s)",
        sequential.as_secs_f64(),
        total_mib / sequential.as_secs_f64()
    );
    println!(
        "pull {layers} x {mib} MiB, parallel ({} threads): {:.3} s ({:.0} MiB/s)",
        image::DEFAULT_PARALLELISM,
        parallel.as_secs_f64(),
        total_mib / parallel.as_secs_f64()
    );
    println!(
        "parallel / sequential throughput: {:.2}x",
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    Ok(())
}

/// Incompressible bytes, quickly (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
