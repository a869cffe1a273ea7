//! `acr artifact push` and `acr artifact pull` as processes: digests on stdout, notes on stderr,
//! `--json`, the cache under `$XDG_CACHE_HOME`, `--offline`, and one error line on failure.

use std::fs;

use crate::support::Registry;
use crate::support::cli::Acr;

#[test]
fn push_then_pull_through_the_xdg_cache_then_offline() {
    let reg = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    fs::create_dir_all(src.join("dir/sub")).unwrap();
    fs::write(src.join("a.txt"), b"alpha").unwrap();
    fs::write(src.join("dir/sub/b.txt"), b"beta").unwrap();
    let a = src.join("a.txt").display().to_string();
    let dir = src.join("dir").display().to_string();
    let xdg = work.path().join("xdg");
    let xdg_s = xdg.display().to_string();
    let acr = || {
        Acr::new()
            .registry(&reg.url())
            .env("XDG_CACHE_HOME", &xdg_s)
            .env("AZCR_CACHE_DIR", "")
    };

    let pushed = acr()
        .args([
            "artifact",
            "push",
            "cli/art:v1",
            &format!("{a}:text/plain"),
            &dir,
        ])
        .args([
            "--artifact-type",
            "application/vnd.example.kit",
            "--annotation",
            "k=v",
        ])
        .run()
        .success();
    let digest = pushed.stdout().trim().to_string();
    assert!(digest.starts_with("sha256:"), "{}", pushed.describe());
    assert!(
        pushed.stderr().contains("2 layers"),
        "{}",
        pushed.describe()
    );

    let out = work.path().join("out");
    let out_s = out.display().to_string();
    let pulled = acr()
        .args([
            "--json",
            "artifact",
            "pull",
            "cli/art:v1",
            "--output",
            &out_s,
        ])
        .run()
        .success();
    let json = pulled.json();
    assert_eq!(json["digest"], digest.as_str());
    assert_eq!(json["artifactType"], "application/vnd.example.kit");
    assert_eq!(json["files"].as_array().unwrap().len(), 2);
    assert_eq!(fs::read(out.join("a.txt")).unwrap(), b"alpha");
    assert_eq!(fs::read(out.join("dir/sub/b.txt")).unwrap(), b"beta");
    assert!(
        xdg.join("azcontainerregistry/blobs/sha256").is_dir(),
        "the cache is under XDG"
    );

    // offline, by tag, from the cache: the registry is gone (records are per registry: same URL)
    let url = reg.url();
    drop(reg);
    let out2 = work.path().join("out2");
    let offline = Acr::new()
        .registry(&url)
        .env("XDG_CACHE_HOME", &xdg_s)
        .env("AZCR_CACHE_DIR", "")
        .args([
            "artifact",
            "pull",
            "cli/art:v1",
            "--offline",
            "--media-type",
            "text/plain",
        ])
        .args(["-o", &out2.display().to_string()])
        .run()
        .success();
    assert_eq!(offline.stdout().trim(), digest);
    assert!(
        offline.stderr().contains("offline: "),
        "{}",
        offline.describe()
    );
    assert_eq!(fs::read(out2.join("a.txt")).unwrap(), b"alpha");
    assert!(!out2.join("dir").exists(), "only the text/plain layer");

    // offline miss: one error line naming the tag
    let miss = Acr::new()
        .registry(&url)
        .env("XDG_CACHE_HOME", &xdg_s)
        .env("AZCR_CACHE_DIR", "")
        .args(["artifact", "pull", "cli/art:v2", "--offline"])
        .run();
    let line = miss.error_line(1);
    assert!(line.contains("cli/art:v2"), "{line}");
}
