//! Files as artifacts (`artifact::push`/`pull`), the blob cache, offline pulls, the build-script
//! helper, and interop with the `oras` Python package, against the real distribution registry.

mod build_env;
mod build_script;
mod cache;
#[cfg(feature = "cli")]
mod cli;
mod counting;
mod hostile;
mod offline;
mod oras;
mod round_trip;

use std::path::Path;

use azcontainerregistry::artifact::{self, FileSpec};
use azcontainerregistry::{Client, Digest};

/// Writes `files` (relative path, bytes) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Pushes one file `name` with `bytes` as `reference`; returns the manifest digest.
pub fn push_one(client: &Client, reference: &str, name: &str, bytes: &[u8]) -> Digest {
    let src = tempfile::tempdir().unwrap();
    write_tree(src.path(), &[(name, bytes)]);
    artifact::push(
        client,
        reference,
        &[FileSpec::new(src.path().join(name))],
        Default::default(),
    )
    .unwrap()
    .digest
}
