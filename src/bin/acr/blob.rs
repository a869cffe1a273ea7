//! The `blob` commands: get, put, exists (a predicate: its exit status is the answer) and mount.

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use azcontainerregistry::blob::DEFAULT_CHUNK_SIZE;
use azcontainerregistry::{BlobClient, Digest, MountOutcome, UploadMode, UploadOptions};

use crate::AnyResult;
use crate::args::{BlobCommand, Cli};
use crate::connect::{client_and_ref, client_for, registry};
use crate::output::{self, file_error};
use crate::progress::{CountingReader, Meter};
use crate::upload_state;

/// Runs a `blob` command; only `exists` answers with an exit status other than success.
pub fn run(cli: &Cli, command: &BlobCommand) -> AnyResult<ExitCode> {
    match command {
        BlobCommand::Get { reference, output } => get(cli, reference, output)?,
        BlobCommand::Put {
            repo,
            file,
            chunk_size,
            resume: true,
        } => {
            let registry = registry(cli)?;
            let blobs = client_for(cli, &registry)?.blob_client();
            let chunk = chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE) as u64;
            let digest = upload_state::put(&blobs, &registry, repo, file, chunk)?;
            output::line(digest)?;
        }
        BlobCommand::Put {
            repo,
            file,
            chunk_size,
            resume: false,
        } => put(cli, repo, file, *chunk_size)?,
        BlobCommand::Exists { reference } => return exists(cli, reference),
        BlobCommand::Mount { reference, from } => mount(cli, reference, from)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A blob named `REPO@DIGEST`: a blob client for its registry, the repository and the digest.
fn blob_ref(cli: &Cli, text: &str) -> AnyResult<(BlobClient, String, Digest)> {
    let (client, r) = client_and_ref(cli, text)?;
    let digest = r.digest().cloned().ok_or("a blob is named REPO@DIGEST")?;
    Ok((client.blob_client(), r.repository().to_string(), digest))
}

/// `blob get`: downloads a blob, verified, to `output` (resumable: `OUTPUT.partial` and its
/// sidecar keep what came when the download is interrupted, and the next `blob get` to the same
/// file carries on), with a note on stderr. One `GET` for a small blob: its `Content-Length`
/// sizes the progress bar; a large one comes in parallel ranges (`--parallel`).
fn get(cli: &Cli, reference: &str, output: &Path) -> AnyResult<()> {
    let (blobs, repo, digest) = blob_ref(cli, reference)?;
    let mut meter: Option<Meter> = None;
    let written =
        blobs.download_blob_to_with_progress(&repo, &digest, output, &mut |done, size| {
            meter
                .get_or_insert_with(|| Meter::new(size, "download"))
                .set_position(done)
        })?;
    if let Some(m) = meter {
        m.finish();
    }
    output::note(format!(
        "{digest}: {written} bytes verified -> {}",
        output.display()
    ));
    Ok(())
}

/// `blob put`: uploads a file (in chunks with `--chunk-size`) and prints its digest.
fn put(cli: &Cli, repo: &str, file: &Path, chunk_size: Option<usize>) -> AnyResult<()> {
    let client = client_for(cli, &registry(cli)?)?;
    let f = File::open(file).map_err(file_error(file, "open"))?;
    let size = f.metadata().map_err(file_error(file, "read"))?.len();
    let meter = Meter::new(Some(size), "upload");
    let mut options = UploadOptions::default();
    if let Some(c) = chunk_size {
        options.chunk_size = c;
        options.mode = UploadMode::Chunked;
    }
    let uploaded =
        client
            .blob_client()
            .upload_blob_seekable(repo, CountingReader::new(f, &meter), options)?;
    meter.finish();
    output::line(uploaded.digest)?;
    Ok(())
}

/// `blob exists`: prints the size and succeeds when the blob is there, exits 1 when it is not.
fn exists(cli: &Cli, reference: &str) -> AnyResult<ExitCode> {
    let (blobs, repo, digest) = blob_ref(cli, reference)?;
    Ok(match blobs.check_blob_exists(&repo, &digest)? {
        Some(size) => {
            output::line(size)?;
            ExitCode::SUCCESS
        }
        None => {
            output::note(format!("{repo}@{digest} does not exist"));
            ExitCode::from(1)
        }
    })
}

/// `blob mount`: links a blob from the repository `from` of the same registry.
fn mount(cli: &Cli, reference: &str, from: &str) -> AnyResult<()> {
    let (blobs, repo, digest) = blob_ref(cli, reference)?;
    match blobs.mount_blob(&repo, from, &digest)? {
        MountOutcome::Mounted => {
            output::line(format!("mounted {digest} from {from} into {repo}"))?;
            Ok(())
        }
        MountOutcome::UploadStarted(session) => {
            let _ = blobs.cancel_upload(&session);
            Err(format!(
                "the registry did not mount {digest} from {from} (no access to it, or it is not \
                 there)"
            )
            .into())
        }
    }
}
