//! The hostile-registry suite: a table of misbehaving registries (`cases.rs`), each a script for
//! the loopback server of `support::hostile`, an operation and the outcome it must end in: a typed
//! error (the variant or kind is asserted) or a correct recovery. Every case runs against the
//! library (`library` below) and, where the CLI has the operation, against the `acr` binary
//! (`cli.rs`).
//!
//! Around every case the harness asserts what holds for all of them: no panic, an end within a
//! generous outer bound (only to catch hangs: the client runs with 2 s timeouts, an 8 s deadline, a
//! 64 bytes per 2 s minimum progress and one retry; the CLI with `--timeout 10`), no secret (the
//! password, the token) sent to the second origin or printed in the error, and no file at the
//! download destination after a failure.
//!
//! `regressions.rs` holds the regression tests of the listing and upload-arithmetic defects.

mod cases;
#[cfg(feature = "cli")]
mod cli;
mod regressions;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use azcontainerregistry::{
    BlobClient, Client, ClientOptions, Credential, Digest, Error, ListNamesOptions,
    ListReferrersOptions, ListTagsOptions, MinProgress, RetryOptions, Timeouts, UploadMode,
    UploadOptions,
};

use crate::support::hostile::{Act, Hostile, Seen};

/// The password of the Basic credential every case signs in with.
pub const PASSWORD: &str = "hunter2-SECRET-password";
/// The user name.
pub const USER: &str = "hostile-user";
/// The token the hostile token endpoints hand out.
pub const TOKEN: &str = "eyJTOKEN-SECRET-value";
/// The repository every case works on.
pub const REPO: &str = "hostile/repo";
/// The blob the download cases serve.
pub const BLOB: &[u8] = b"hello, hostile world: nineteen+ bytes";
/// The manifest the manifest cases serve.
pub const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
/// The OCI manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The digest of [`BLOB`].
pub fn blob_digest() -> Digest {
    Digest::of(BLOB)
}

/// The digest of [`MANIFEST`].
pub fn manifest_digest() -> Digest {
    Digest::of(MANIFEST.as_bytes())
}

/// What the case's server knows besides the request: the second origin's URL.
pub struct Ctx {
    /// The second origin (a recorder that must never see a secret).
    pub other: String,
}

/// The operation a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `get_manifest(REPO, "latest")`.
    ManifestByTag,
    /// `get_manifest(REPO, <digest of MANIFEST>)`.
    ManifestByDigest,
    /// `list_catalog` collected, with `max_pages` 5.
    Catalog,
    /// `list_tag_names` collected.
    Tags,
    /// ACR's `list_repositories` collected.
    AcrRepos,
    /// ACR's `list_tags` collected.
    AcrTags,
    /// `list_referrers_with` (max 5 pages).
    Referrers,
    /// `download_blob_to` a file in a fresh tempdir.
    Download,
    /// `get_chunk(0..10)`, read to the end.
    Chunk,
    /// `check_blob_exists`.
    Exists,
    /// `upload_blob` of 1000 bytes, streamed.
    UploadStreamed,
    /// `upload_blob` of 1000 bytes in chunks of 400.
    UploadChunked,
}

/// How a case must end.
#[derive(Clone, Copy)]
pub enum Expect {
    /// Success (a correct recovery).
    Ok,
    /// An error the predicate accepts; the name says which.
    Err(&'static str, fn(&Error) -> bool),
}

/// One misbehaviour.
pub struct Case {
    pub name: &'static str,
    pub serve: fn(&Seen, &Ctx) -> Vec<Act>,
    pub op: Op,
    pub expect: Expect,
}

/// Client options for the suite: short timeouts, one quick retry.
pub fn options() -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            max_retries: 1,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        },
        timeouts: Timeouts {
            connect: Some(Duration::from_secs(2)),
            response: Some(Duration::from_secs(2)),
            idle: Some(Duration::from_secs(2)),
            total: Some(Duration::from_secs(8)),
            min_progress: Some(MinProgress {
                bytes: 64,
                window: Duration::from_secs(2),
            }),
        },
        ..Default::default()
    }
}

/// The outer bound of one case: generous, only to catch hangs.
pub const OUTER_BOUND: Duration = Duration::from_secs(90);

/// The secrets that must never leave for another origin nor be printed.
pub fn secrets() -> [&'static str; 2] {
    [PASSWORD, TOKEN]
}

/// Runs `op` against `url` with the library; the error, or what it produced.
fn run_op(op: Op, url: &str, dest: &Path) -> Result<String, Error> {
    let credential = Credential::basic(USER, PASSWORD);
    let client = Client::new(url, credential.clone(), options())?;
    let blobs = BlobClient::new(url, credential, options())?;
    let five = Some(5);
    match op {
        Op::ManifestByTag => client
            .get_manifest(REPO, "latest")
            .map(|m| format!("{} bytes", m.bytes.len())),
        Op::ManifestByDigest => client
            .get_manifest(REPO, manifest_digest().as_str())
            .map(|m| format!("{} bytes", m.bytes.len())),
        Op::Catalog => client
            .list_catalog(ListNamesOptions {
                max_pages: five,
                ..Default::default()
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        Op::Tags => client
            .list_tag_names(REPO, ListNamesOptions::default())
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        Op::AcrRepos => client
            .list_repositories(ListNamesOptions::default())
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        Op::AcrTags => client
            .list_tags(REPO, ListTagsOptions::default())
            .collect::<Result<Vec<_>, _>>()
            .map(|v| format!("{} tags", v.len())),
        Op::Referrers => client
            .list_referrers_with(
                REPO,
                &manifest_digest(),
                &ListReferrersOptions {
                    max_pages: five,
                    ..Default::default()
                },
            )
            .map(|v| format!("{} referrers", v.len())),
        Op::Download => blobs
            .download_blob_to(REPO, &blob_digest(), dest)
            .map(|n| format!("{n} bytes")),
        Op::Chunk => {
            let mut chunk = blobs.get_chunk(REPO, &blob_digest(), 0..10)?;
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut chunk, &mut out)?;
            if out != BLOB[..10] {
                return Err(Error::Io(std::io::Error::other(format!(
                    "chunk bytes differ: {out:?}"
                ))));
            }
            Ok(format!("{:?}", chunk.content_range()))
        }
        Op::Exists => blobs
            .check_blob_exists(REPO, &blob_digest())
            .map(|s| format!("{s:?}")),
        Op::UploadStreamed | Op::UploadChunked => {
            let data = upload_data();
            let mode = if op == Op::UploadChunked {
                UploadMode::Chunked
            } else {
                UploadMode::Streamed
            };
            let o = UploadOptions {
                mode,
                chunk_size: 400,
                ..Default::default()
            };
            blobs
                .upload_blob(REPO, &mut &data[..], o)
                .map(|b| b.digest.to_string())
        }
    }
}

/// The 1000 bytes the upload cases send.
pub fn upload_data() -> Vec<u8> {
    (0..1000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Runs one case against the library and asserts everything about it; `Err` describes a failure.
pub fn run_library(case: &Case) -> Result<(), String> {
    let other = Hostile::start(cases::other_origin);
    let ctx = Ctx { other: other.url() };
    let serve = case.serve;
    let server = Hostile::start(move |req| serve(req, &ctx));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dest = dir.path().join("blob.out");
    let (tx, rx) = mpsc::channel();
    let (op, url, d) = (case.op, server.url(), dest.clone());
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| run_op(op, &url, &d));
        let _ = tx.send(result);
    });
    let outcome = match rx.recv_timeout(OUTER_BOUND) {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Err("the operation panicked".into()),
        Err(_) => return Err(format!("no end within {OUTER_BOUND:?} (a hang)")),
    };
    check_other_origin(&other)?;
    match (&outcome, case.expect) {
        (Ok(_), Expect::Ok) => {}
        (Err(e), Expect::Err(name, pred)) => {
            if !pred(e) {
                return Err(format!("expected {name}, got {e:?} ({e})"));
            }
        }
        (Ok(v), Expect::Err(name, _)) => return Err(format!("expected {name}, got Ok({v})")),
        (Err(e), Expect::Ok) => return Err(format!("expected success, got {e:?} ({e})")),
    }
    if let Err(e) = &outcome {
        let text = format!("{e} {e:?}");
        for s in secrets() {
            if text.contains(s) {
                return Err(format!("the error shows a secret: {text}"));
            }
        }
        if case.op == Op::Download && leftovers(dir.path()).is_some() {
            return Err(format!(
                "a failed download left {:?}",
                leftovers(dir.path())
            ));
        }
    }
    Ok(())
}

/// Asserts that the second origin saw no secret.
pub fn check_other_origin(other: &Hostile) -> Result<(), String> {
    for req in other.requests() {
        for (k, v) in &req.headers {
            if k == "authorization" || secrets().iter().any(|s| v.contains(s)) {
                return Err(format!(
                    "the second origin got {k}: {v} on {} {}",
                    req.method, req.target
                ));
            }
        }
        if secrets().iter().any(|s| req.target.contains(s)) {
            return Err(format!("the second origin got a secret in {}", req.target));
        }
    }
    Ok(())
}

/// The files left in `dir`, if any.
pub fn leftovers(dir: &Path) -> Option<Vec<PathBuf>> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    (!files.is_empty()).then_some(files)
}

/// Runs the cases `select` picks, a few at a time, and fails with every failure listed.
fn run_all(select: impl Fn(&Case) -> bool, run: fn(&Case) -> Result<(), String>) {
    let cases: Vec<&'static Case> = cases::all().filter(|c| select(c)).collect();
    assert!(!cases.is_empty(), "no case selected");
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let result = run(case);
                    println!(
                        "{:<44} {}",
                        case.name,
                        match &result {
                            Ok(()) => "ok".to_string(),
                            Err(e) => format!("FAILED: {e}"),
                        }
                    );
                    if let Err(e) = result {
                        failures.lock().unwrap().push(format!("{}: {e}", case.name));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_has_a_unique_name_and_there_are_at_least_60() {
    let mut names: Vec<&str> = cases::all().map(|c| c.name).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate case names");
    assert!(n >= 60, "only {n} cases");
}

#[test]
fn library() {
    run_all(|_| true, run_library);
}

/// The cases whose registry sends without end or far too much: run alone in a child process, they
/// must leave its peak resident memory small (the bodies are cut at the client's limits).
const FLOODS: [&str; 8] = [
    "manifest_oversized_content_length",
    "manifest_endless_chunked_body",
    "manifest_one_megabyte_header",
    "catalog_oversized_page",
    "catalog_deeply_nested_json",
    "token_endpoint_huge_token",
    "error_body_endless",
    "error_status_with_huge_reason",
];

/// Generous: the largest limit is the 16 MiB list page.
const MAX_PEAK_KIB: u64 = 192 * 1024;

#[test]
fn floods_stay_in_bounded_memory() {
    use crate::support::child::Child;
    if Child::new(module_path!(), "floods_stay_in_bounded_memory").run_unless_child() {
        return;
    }
    for name in FLOODS {
        let case = cases::all()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        run_library(case).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let peak: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    println!("peak RSS after {} floods: {peak} KiB", FLOODS.len());
    assert!(peak < MAX_PEAK_KIB, "peak RSS {peak} KiB");
}
