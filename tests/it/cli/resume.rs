//! Downloads and uploads resumed across processes: `acr blob get` / `acr blob put --resume`
//! killed midway, then run again, fetch or send little more than what was missing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::blob_server::{Behaviour, BlobServer};
use crate::support::cli::acr_bin;
use crate::support::{pseudo_random, sha256_digest};

const MIB: u64 = 1024 * 1024;

fn spawn(args: &[&str]) -> Child {
    Command::new(acr_bin())
        .args(args)
        .env_remove("ACR_REGISTRY")
        .env_remove("ACR_USERNAME")
        .env_remove("ACR_PASSWORD")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start acr")
}

/// What the sidecar of a partial download says is in the file.
fn recorded(sidecar: &Path) -> u64 {
    std::fs::read(sidecar)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["done"].as_u64())
        .unwrap_or(0)
}

#[test]
fn a_killed_blob_get_resumes_and_fetches_only_the_rest() {
    let len = 40 * MIB as usize + 12_345;
    let data = pseudo_random(len, 42);
    let digest = sha256_digest(&data);
    let server = BlobServer::start(
        data.clone(),
        Behaviour {
            throttle: Some(Duration::from_millis(4)),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blob");
    let sidecar = dir.path().join("blob.partial.json");
    let out_text = out.to_str().unwrap().to_string();
    let reference = format!("r/x@{digest}");
    let args = [
        "--registry",
        &server.url(),
        "--parallel",
        "4",
        "--range-size",
        "1048576",
        "blob",
        "get",
        &reference,
        "--output",
        &out_text,
    ];

    let mut first = spawn(&args);
    let deadline = Instant::now() + Duration::from_secs(120);
    while recorded(&sidecar) < len as u64 / 2 {
        assert!(
            Instant::now() < deadline,
            "the first download made no progress"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first download ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!out.exists(), "a killed download left the destination");
    let kept = recorded(&sidecar);
    assert!(kept >= len as u64 / 2 && kept < len as u64, "kept {kept}");

    let before = server.bytes_sent();
    let second = spawn(&args).wait_with_output().unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert!(!sidecar.exists() && !dir.path().join("blob.partial").exists());
    let rest = len as u64 - kept;
    let fetched = server.bytes_sent() - before;
    assert!(
        fetched >= rest && fetched <= rest + rest / 10,
        "the second run fetched {fetched} bytes for the {rest} missing"
    );
}

#[test]
fn a_partial_of_another_digest_is_discarded() {
    let data = pseudo_random(300_000, 1);
    let digest = sha256_digest(&data);
    let server = BlobServer::start(data.clone(), Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blob");
    std::fs::write(
        dir.path().join("blob.partial"),
        b"stale bytes of another blob",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("blob.partial.json"),
        br#"{"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":null,"done":10}"#,
    )
    .unwrap();
    let reference = format!("r/x@{digest}");
    let run = spawn(&[
        "--registry",
        &server.url(),
        "blob",
        "get",
        &reference,
        "--output",
        out.to_str().unwrap(),
    ])
    .wait_with_output()
    .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert_eq!(server.log()[0].range, None, "a stale partial was resumed");
}

/// The file's modification time as `acr blob put --resume` records it.
fn modified_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn blob_put_resume_carries_on_from_a_saved_session_and_starts_again_when_it_is_gone() {
    use crate::support::{FaultProxy, Registry};
    use azcontainerregistry::{BlobClient, ClientOptions, Credential};

    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let data = pseudo_random(5 * MIB as usize + 3, 21);
    let digest = sha256_digest(&data);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layer.bin");
    std::fs::write(&file, &data).unwrap();
    let state = dir.path().join("layer.bin.acr-upload.json");

    // an earlier run sent the first 2 MiB and saved its session
    let blobs = BlobClient::new(
        &proxy.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let session = blobs.start_upload("put/resume").unwrap();
    let first = 2 * MIB;
    let session = blobs
        .upload_chunk(&session, &data[..first as usize], Some(first), None)
        .unwrap();
    let saved = serde_json::json!({
        "registry": proxy.url(),
        "repository": "put/resume",
        "location": session.location(),
        "size": data.len(),
        "modified": modified_secs(&file),
    });
    std::fs::write(&state, saved.to_string()).unwrap();

    let before = proxy.bytes_upstream();
    let args = [
        "--registry",
        &proxy.url(),
        "blob",
        "put",
        "--resume",
        "--chunk-size",
        "1048576",
        "put/resume",
        file.to_str().unwrap(),
    ];
    let run = spawn(&args).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming the upload at byte 2097152"),
        "{stderr}"
    );
    let rest = data.len() as u64 - first;
    let sent = proxy.bytes_upstream() - before;
    assert!(
        sent >= rest && sent <= rest + rest / 10,
        "sent {sent} bytes for the {rest} missing"
    );
    assert!(!state.exists(), "the saved session outlived the upload");
    let out = Command::new(acr_bin())
        .args(["--registry", &proxy.url(), "blob", "exists"])
        .arg(format!("put/resume@{digest}"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        data.len().to_string()
    );

    // a session the registry no longer knows: a note, then the whole upload again
    std::fs::write(&state, saved.to_string()).unwrap();
    let run = spawn(&args).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("starting the upload again"), "{stderr}");
}

#[test]
fn a_killed_blob_put_resume_carries_on_from_what_the_registry_holds() {
    use crate::support::upload_server::UploadServer;

    // 6 MiB sent at about 2 MiB/s in 1 MiB chunks: killed after about half, in a chunk
    let server = UploadServer::start(2 * MIB);
    let data = pseudo_random(6 * MIB as usize + 5, 33);
    let digest = sha256_digest(&data);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layer.bin");
    std::fs::write(&file, &data).unwrap();
    let url = server.url();
    let args = [
        "--api",
        "oci",
        "--registry",
        &url,
        "blob",
        "put",
        "--resume",
        "--chunk-size",
        "1048576",
        "put/resume",
        file.to_str().unwrap(),
    ];
    let mut child = spawn(&args);
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.held() < 3 * MIB {
        assert!(Instant::now() < deadline, "the upload did not get to half");
        assert!(
            child.try_wait().unwrap().is_none(),
            "acr ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let kept = server.held();
    assert!(!server.completed());

    let before = server.received();
    let run = spawn(&args).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("resuming the upload at byte {kept}")),
        "{stderr}"
    );
    assert!(server.completed(), "the blob {digest} was not completed");
    let missing = data.len() as u64 - kept;
    let sent = server.received() - before;
    assert!(
        sent >= missing && sent <= missing + missing / 10,
        "sent {sent} bytes for the {missing} missing"
    );
}

/// `examples/shaping_proxy` in front of `target`, killed on drop; counts the bytes it sent down.
struct Shaper {
    child: Child,
    url: String,
    down: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Shaper {
    fn start(target: &str, mib_per_sec: &str) -> Shaper {
        use std::io::BufRead;
        let bin = crate::support::cli::build_example("shaping_proxy");
        let mut child = Command::new(bin)
            .args([target, "0", mib_per_sec])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start shaping_proxy");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.strip_prefix("listening on ").unwrap().to_string();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let d = down.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(n) = line
                    .strip_prefix("bytes down ")
                    .and_then(|n| n.parse().ok())
                {
                    d.store(n, std::sync::atomic::Ordering::SeqCst);
                }
            }
        });
        Shaper {
            child,
            url: format!("http://{addr}"),
            down,
        }
    }

    fn down(&self) -> u64 {
        self.down.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Shaper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_killed_pull_resumes_its_layer_and_fetches_only_the_rest() {
    use crate::support::Registry;
    let reg = Registry::start();
    let layer_len = 40 * MIB as usize + 99;
    let img = reg.push_test_image("pull/resume", "v1", layer_len, 17);
    let shaper = Shaper::start(&reg.host_port(), "4");
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let hex = img.layer_digest.trim_start_matches("sha256:").to_string();
    let sidecar = layout.join(format!("blobs/sha256/{hex}.partial.json"));
    let args = [
        "--registry",
        &shaper.url,
        "pull",
        "pull/resume:v1",
        layout.to_str().unwrap(),
    ];
    let mut first = spawn(&args);
    let deadline = Instant::now() + Duration::from_secs(120);
    while recorded(&sidecar) < layer_len as u64 / 2 {
        assert!(Instant::now() < deadline, "the first pull made no progress");
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first pull ended early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let kept = recorded(&sidecar);
    std::thread::sleep(Duration::from_millis(300)); // the proxy counts closed connections
    let before = shaper.down();

    let second = spawn(&args).wait_with_output().unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let layer = std::fs::read(layout.join(format!("blobs/sha256/{hex}"))).unwrap();
    assert_eq!(layer, img.layer);
    assert!(!sidecar.exists());
    std::thread::sleep(Duration::from_millis(300));
    let fetched = shaper.down() - before;
    let rest = layer_len as u64 - kept;
    // manifest and config come again too: a few KiB
    assert!(
        fetched >= rest && fetched <= rest + rest / 10,
        "the second pull fetched {fetched} bytes for the {rest} missing"
    );
}
