//! A 100 MiB blob up and down in bounded memory.
//!
//! The transfer runs in a child process (this test binary, re-run on this one test with an
//! environment variable naming the registry) so that its peak resident memory (`VmHWM` in
//! `/proc/self/status`) is its own and not the sum of every test of the file. The source is a
//! pseudo-random reader (nothing is held in memory by the test), the upload a plain `Read`
//! (chunked, one 8 MiB chunk kept for resuming), the download `BlobReader::copy_to` into a hashing
//! sink.

use crate::support::blob_client;
use std::io::Write;

use crate::support::child::{self, Child};
use crate::support::{Registry, pseudo_random_reader, sha256_hex_of_reader};
use azcontainerregistry::Digest;
use azcontainerregistry::blob::UploadOptions;
use sha2::Digest as _;

const LEN: usize = 100 * 1024 * 1024;
const SEED: u64 = 2024;
/// The registry the child transfers to.
const REGISTRY_URL: &str = "AZCR_IT_REGISTRY_URL";
/// Debug build, test harness included (measured: about 17 MiB, 6.5 of them before the transfers).
const MAX_HWM_KIB: u64 = 40 * 1024;

/// Counts and hashes what is written, keeps nothing.
struct HashSink {
    hasher: sha2::Sha256,
    len: u64,
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status"))
}

fn transfer(url: &str) {
    // one stream: this is the single-stream memory bound (parallel ranges hold up to
    // connections x range size more, see blob::parallel)
    let options = azcontainerregistry::ClientOptions {
        parallel: azcontainerregistry::ParallelOptions::single(),
        ..Default::default()
    };
    let blobs = azcontainerregistry::BlobClient::new(
        url,
        azcontainerregistry::Credential::anonymous(),
        options,
    )
    .unwrap();
    let before = vm_hwm_kib();
    let up = blobs
        .upload_blob(
            "big/blob",
            pseudo_random_reader(LEN, SEED),
            UploadOptions::default(),
        )
        .unwrap();
    assert_eq!(up.size, LEN as u64);
    let mut sink = HashSink {
        hasher: sha2::Sha256::new(),
        len: 0,
    };
    let n = blobs
        .get_blob("big/blob", &up.digest)
        .unwrap()
        .copy_to(&mut sink)
        .unwrap();
    assert_eq!(n, LEN as u64);
    let downloaded = format!("sha256:{:x}", sink.hasher.finalize());
    println!(
        "CHILD-RESULT digest={} downloaded={downloaded} hwm_before={before} hwm_kib={}",
        up.digest,
        vm_hwm_kib()
    );
}

#[test]
fn hundred_mib_round_trip_in_bounded_memory() {
    const NAME: &str = "hundred_mib_round_trip_in_bounded_memory";
    if child::is_child(module_path!(), NAME) {
        transfer(&child::var(REGISTRY_URL));
        return;
    }
    let reg = Registry::start();
    let stdout = Child::new(module_path!(), NAME)
        .env(REGISTRY_URL, reg.url())
        .run();
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("CHILD-RESULT").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the child printed no result:\n{stdout}"));
    let field = |name: &str| -> String {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
            .to_string()
    };
    let expected = format!(
        "sha256:{}",
        sha256_hex_of_reader(pseudo_random_reader(LEN, SEED))
    );
    assert_eq!(field("digest"), expected, "uploaded digest");
    assert_eq!(field("downloaded"), expected, "downloaded bytes");
    let hwm: u64 = field("hwm_kib").parse().unwrap();
    eprintln!(
        "child peak RSS: {hwm} KiB (before the transfers: {} KiB)",
        field("hwm_before")
    );
    assert!(
        hwm <= MAX_HWM_KIB,
        "peak RSS {hwm} KiB > {MAX_HWM_KIB} KiB for a {LEN}-byte round trip"
    );

    // The registry holds exactly that blob.
    let digest: Digest = expected.parse().unwrap();
    let blobs = blob_client(&reg.url());
    assert_eq!(
        blobs.check_blob_exists("big/blob", &digest).unwrap(),
        Some(LEN as u64)
    );
}
