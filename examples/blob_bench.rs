//! The client side of `scripts/bench`: one blob transfer per run, timed by the script.
//!
//! ```text
//! blob_bench upload        <registry-url> <repository> <file>         # prints the digest
//! blob_bench download-null <registry-url> <repository> <digest>       # verified, to /dev/null
//! blob_bench download-file <registry-url> <repository> <digest> <path> # download_blob_to
//! blob_bench pull          <registry-url> <repository:tag> <dir>        # image::pull
//! ```
//!
//! `BENCH_PARALLEL=N` sets the connections per blob download (`ParallelOptions::connections`).

use std::time::Instant;

use azcontainerregistry::blob::UploadOptions;
use azcontainerregistry::{BlobClient, Client, ClientOptions, Credential, Digest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: blob_bench upload|download-null|download-file <registry-url> <repository> <file|digest> [path]";
    if args.len() < 5 {
        return Err(usage.into());
    }
    let mut options = ClientOptions::default();
    if let Some(n) = std::env::var("BENCH_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.parallel.connections = n;
    }
    let blobs = BlobClient::new(&args[2], Credential::anonymous(), options.clone())?;
    let repo = &args[3];
    let started = Instant::now();
    match args[1].as_str() {
        "upload" => {
            let options = UploadOptions {
                skip_existing: false,
                ..Default::default()
            };
            let up = blobs.upload_file(repo, &args[4], options)?;
            println!("{} {} bytes in {:?}", up.digest, up.size, started.elapsed());
        }
        "download-null" => {
            let digest: Digest = args[4].parse()?;
            let mut null = std::fs::File::create("/dev/null")?;
            let n = blobs.get_blob(repo, &digest)?.copy_to(&mut null)?;
            println!("{n} bytes verified in {:?}", started.elapsed());
        }
        "download-file" => {
            let digest: Digest = args[4].parse()?;
            let path = args.get(5).ok_or(usage)?;
            let n = blobs.download_blob_to(repo, &digest, path)?;
            println!("{n} bytes verified and written in {:?}", started.elapsed());
        }
        "pull" => {
            let client = Client::new(&args[2], Credential::anonymous(), options)?;
            let dir = &args[4];
            let report = azcontainerregistry::image::pull(&client, repo, dir, Default::default())?;
            println!("{} pulled in {:?}", report.digest, started.elapsed());
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
