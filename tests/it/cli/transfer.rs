//! Transfers: `blob get` sends one `GET` (no `HEAD` first) and its progress moves to the size;
//! `blob put` counts each byte once; `push`, `pull` and `copy` print their report with `--json`.

use super::loopback::{Answer, Loopback};
use crate::support::cli::{Acr, Run};
use crate::support::layout::write_two_platform_image;
use crate::support::{Registry, pseudo_random, sha256_digest};

/// The `progress: WHAT POSITION/SIZE` events of a run with `ACR_PROGRESS_EVENTS=1`.
fn events(run: &Run, what: &str) -> Vec<(u64, u64)> {
    run.stderr()
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("progress: {what} ")))
        .map(|l| {
            let (pos, size) = l.split_once('/').unwrap();
            (pos.parse().unwrap(), size.parse().unwrap())
        })
        .collect()
}

#[test]
fn blob_get_sends_one_get_and_its_progress_reaches_the_size() {
    let data = pseudo_random(3 * 1024 * 1024 + 5, 3);
    let digest = sha256_digest(&data);
    let server = {
        let (data, path) = (data.clone(), format!("/v2/repo/blobs/{digest}"));
        Loopback::start(move |req| {
            if req.target != path {
                return Some(Answer::json(404, r#"{"errors":[]}"#));
            }
            let mut answer = Answer::json(200, data.clone());
            answer.headers = vec![
                ("Content-Type".into(), "application/octet-stream".into()),
                (
                    "Docker-Content-Digest".into(),
                    path.rsplit('/').next().unwrap().into(),
                ),
            ];
            Some(answer)
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blob");
    let run = Acr::new()
        .env("ACR_PROGRESS_EVENTS", "1")
        .registry(&server.url())
        .args(["blob", "get", &format!("repo@{digest}"), "--output"])
        .arg(out.to_str().unwrap())
        .run()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), data);
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET"], "one GET, no HEAD for the size");
    let moves = events(&run, "download");
    let size = data.len() as u64;
    assert!(moves.len() > 1, "the bar never moved: {}", run.describe());
    assert!(moves.iter().all(|&(_, s)| s == size), "{moves:?}");
    assert!(moves.windows(2).all(|w| w[0].0 < w[1].0), "{moves:?}");
    assert_eq!(moves.last().unwrap().0, size);
}

#[test]
fn blob_put_progress_counts_each_byte_once() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(2 * 1024 * 1024 + 17, 4);
    let file = dir.path().join("blob");
    std::fs::write(&file, &data).unwrap();
    let size = data.len() as u64;
    for extra in [&[][..], &["--chunk-size", "500000"][..]] {
        let run = Acr::new()
            .env("ACR_PROGRESS_EVENTS", "1")
            .registry(&reg.url())
            .args(["blob", "put", "repo", file.to_str().unwrap()])
            .args(extra)
            .run()
            .success();
        assert_eq!(run.stdout().trim(), sha256_digest(&data));
        let moves = events(&run, "upload");
        assert!(moves.len() > 1, "the bar never moved: {}", run.describe());
        assert!(
            moves.iter().all(|&(pos, s)| s == size && pos <= size),
            "more than the file counted: {moves:?}"
        );
        assert_eq!(moves.last().unwrap().0, size, "{extra:?}");
    }
}

#[test]
fn push_pull_and_copy_print_their_report_as_json() {
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 3000, 7);
    let index = built.index.to_string();
    let acr = |args: &[&str]| Acr::new().registry(&reg.url()).args(args).run().success();

    let pushed = acr(&["push", "--json", src.path().to_str().unwrap(), "app:v1"]).json();
    assert_eq!(pushed["digest"], index.as_str());
    assert_eq!(pushed["blobsTransferred"], 6);
    assert_eq!(pushed["manifests"], 3);
    assert!(pushed["mediaType"].as_str().unwrap().contains("index"));

    let dst = tempfile::tempdir().unwrap();
    let pulled = acr(&["--json", "pull", "app:v1", dst.path().to_str().unwrap()]).json();
    assert_eq!(pulled["digest"], index.as_str());
    assert_eq!(pulled["blobsTransferred"], 6);
    assert!(pulled["bytesTransferred"].as_u64().unwrap() > 4 * 3000);

    let copied = acr(&["copy", "app:v1", "other:v1", "--json"]).json();
    assert_eq!(copied["digest"], index.as_str());
    assert_eq!(
        copied["blobsTransferred"].as_u64().unwrap() + copied["blobsSkipped"].as_u64().unwrap(),
        6
    );
    // without --json: the digest alone
    let plain = acr(&["copy", "app:v1", "third:v1"]);
    assert_eq!(plain.stdout(), format!("{index}\n"));
}
