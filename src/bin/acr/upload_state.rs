//! `acr blob put --resume`: a chunked upload whose session is saved beside the file
//! (`FILE.acr-upload.json`: registry, repository, session location, the file's size and
//! modification time) after every acknowledged chunk, so a run that was killed or failed carries
//! on where the registry stands. The saved location is the registry's signed upload state: the
//! file is written private to its owner (0600).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use azcontainerregistry::{BlobClient, Digest, DigestCalculator, UploadSession};
use serde::{Deserialize, Serialize};

use crate::AnyResult;
use crate::output::{self, file_error};
use crate::progress::Meter;

#[derive(Serialize, Deserialize, PartialEq)]
struct Saved {
    registry: String,
    repository: String,
    location: String,
    size: u64,
    modified: u64,
}

fn state_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".acr-upload.json");
    PathBuf::from(s)
}

fn write_state(path: &Path, saved: &Saved) -> AnyResult<()> {
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(file_error(&tmp, "write"))?;
    std::io::Write::write_all(&mut f, &serde_json::to_vec(saved)?)
        .map_err(file_error(&tmp, "write"))?;
    std::fs::rename(&tmp, path).map_err(file_error(path, "write"))?;
    Ok(())
}

/// Uploads `file` to `repo` in chunks of `chunk` bytes, resuming a saved session; returns the
/// digest.
pub fn put(
    blobs: &BlobClient,
    registry: &str,
    repo: &str,
    file: &Path,
    chunk: u64,
) -> AnyResult<Digest> {
    let mut f = File::open(file).map_err(file_error(file, "open"))?;
    let meta = f.metadata().map_err(file_error(file, "read"))?;
    let size = meta.len();
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let state = state_path(file);
    let mut saved = Saved {
        registry: registry.to_string(),
        repository: repo.to_string(),
        location: String::new(),
        size,
        modified,
    };
    let earlier = std::fs::read(&state)
        .ok()
        .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
        .filter(|s| {
            s.registry == saved.registry
                && s.repository == saved.repository
                && s.size == size
                && s.modified == modified
        });
    let resumed = earlier.and_then(|s| match blobs.resume_upload(repo, &s.location) {
        Ok(session) if session.offset() <= size => Some(session),
        Ok(_) => None,
        Err(e) => {
            output::note(format!(
                "starting the upload again: the saved session is gone ({e})"
            ));
            None
        }
    });
    let mut session: UploadSession = match resumed {
        Some(s) => {
            output::note(format!("resuming the upload at byte {}", s.offset()));
            s
        }
        None => blobs.start_upload(repo)?,
    };
    let meter = Meter::new(Some(size), "upload");
    // the bytes the registry holds are hashed again from the file
    let mut calc = DigestCalculator::new();
    let mut prefix = (&mut f).take(session.offset());
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = prefix.read(&mut buf).map_err(file_error(file, "read"))?;
        if n == 0 {
            break;
        }
        calc.update(&buf[..n]);
    }
    meter.set_position(session.offset());
    while session.offset() < size {
        let at = session.offset();
        let len = chunk.min(size - at);
        f.seek(SeekFrom::Start(at))
            .map_err(file_error(file, "read"))?;
        session = blobs.upload_chunk(&session, (&mut f).take(len), Some(len), Some(&mut calc))?;
        saved.location = session.location().to_string();
        write_state(&state, &saved)?;
        meter.set_position(session.offset());
    }
    let digest = blobs.complete_upload(&session, &calc.digest())?;
    meter.finish();
    let _ = std::fs::remove_file(&state);
    Ok(digest)
}
