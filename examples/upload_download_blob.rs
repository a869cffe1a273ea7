//! Uploads a file as a blob in chunks and downloads it again, verified, as the Go SDK's
//! `Example_uploadAndDownloadBlob` does, but streaming in constant memory both ways.
//!
//! ```text
//! cargo run --example upload_download_blob -- \
//!     --registry http://127.0.0.1:5000 --anonymous big.bin [--chunk-size 4194304]
//! ```

mod common;

use std::error::Error;

use azcontainerregistry::{UploadMode, UploadOptions};

const USAGE: &str = "usage: upload_download_blob --registry URL [--anonymous] [--repository NAME] [--chunk-size BYTES] FILE";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = common::Args::parse(USAGE);
    let client = args.client()?;
    let repository = args
        .value("--repository")?
        .unwrap_or_else(|| "blobs".into());
    let chunk_size = args
        .value("--chunk-size")?
        .map(|c| c.parse::<usize>())
        .transpose()?;
    let file = args.next_positional().ok_or(USAGE)?;
    args.finish()?;
    let blobs = client.blob_client();

    let mut options = UploadOptions::default();
    if let Some(c) = chunk_size {
        options.chunk_size = c;
        options.mode = UploadMode::Chunked;
    }
    let uploaded = blobs.upload_blob_seekable(&repository, std::fs::File::open(&file)?, options)?;
    println!(
        "uploaded {file} as {} ({} bytes)",
        uploaded.digest, uploaded.size
    );

    let mut reader = blobs.get_blob(&repository, &uploaded.digest)?; // verified at end of stream
    let copied = std::io::copy(&mut reader, &mut std::io::sink())?;
    println!("downloaded {copied} bytes, digest verified");
    Ok(())
}
