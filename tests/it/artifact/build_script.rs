//! The acceptance test of the build-script helper: a crate whose `build.rs` fetches an artifact
//! from the local registry with `build::fetch`, then builds again with the registry stopped and
//! `CARGO_NET_OFFLINE=true`, from the cache. The crate (`tests/it/fixtures/build-script-crate/`)
//! is copied to a temporary directory; its target directory lives under cargo's target `tmp/` so
//! that the dependencies compile once, and cargo itself runs `--offline` (they are already in
//! `~/.cargo/registry`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::push_one;
use crate::support::{Registry, client};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/fixtures/build-script-crate"
);

fn copy_fixture(to: &Path) {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let manifest = fs::read_to_string(Path::new(FIXTURE).join("Cargo.toml.in"))
        .unwrap()
        .replace("@CRATE@", &crate_dir.replace('\\', "/"));
    fs::create_dir_all(to.join("src")).unwrap();
    fs::write(to.join("Cargo.toml"), manifest).unwrap();
    for f in ["build.rs", "src/main.rs"] {
        fs::copy(Path::new(FIXTURE).join(f), to.join(f)).unwrap();
    }
    // the versions this crate is tested with, all in the local registry already
    fs::copy(
        Path::new(crate_dir).join("Cargo.lock"),
        to.join("Cargo.lock"),
    )
    .unwrap();
}

fn cargo_build(dir: &Path, target: &Path, envs: &[(&str, &str)]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--offline", "--target-dir"])
        .arg(target)
        .current_dir(dir)
        .env_remove("CARGO_NET_OFFLINE")
        .env_remove("AZCR_CACHE_DIR")
        .env_remove("ACR_USERNAME")
        .env_remove("ACR_PASSWORD");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("cargo runs")
}

fn describe(o: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_build_script_fetches_then_builds_offline_from_the_cache() {
    let mut reg = Registry::start();
    let payload = format!("fetched for the build by port {}\n", reg.port());
    push_one(
        &client(&reg.url()),
        "fixture/data:v1",
        "data.txt",
        payload.as_bytes(),
    );

    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("crate");
    copy_fixture(&project);
    let cache = work.path().join("cache");
    let target: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifact-build-script");
    let reference = format!("{}/fixture/data:v1", reg.host_port());
    let cache_s = cache.to_string_lossy().into_owned();
    let envs = [
        ("FIXTURE_REF", reference.as_str()),
        ("AZCR_CACHE_DIR", cache_s.as_str()),
    ];
    let bin = target.join("debug").join(format!(
        "build-script-fixture{}",
        std::env::consts::EXE_SUFFIX
    ));
    let run = || {
        let o = Command::new(&bin).output().expect("the fixture runs");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    let first = cargo_build(&project, &target, &envs);
    assert!(
        first.status.success(),
        "the online build: {}",
        describe(&first)
    );
    assert_eq!(run(), payload);
    assert!(cache.join("blobs/sha256").is_dir());

    reg.stop();
    let mut offline = envs.to_vec();
    offline.push(("CARGO_NET_OFFLINE", "true"));
    let second = cargo_build(&project, &target, &offline);
    assert!(
        second.status.success(),
        "the offline build: {}",
        describe(&second)
    );
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("offline:") && said.contains("recorded"),
        "the build script ran again and said where the digest came from: {}",
        describe(&second)
    );
    assert_eq!(run(), payload);

    // offline with an empty cache: the build fails, naming the tag
    let empty = work.path().join("empty-cache");
    let empty_s = empty.to_string_lossy().into_owned();
    let mut missing = offline.clone();
    missing[1] = ("AZCR_CACHE_DIR", empty_s.as_str());
    let third = cargo_build(&project, &target, &missing);
    assert!(!third.status.success(), "{}", describe(&third));
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("fixture/data:v1"),
        "{}",
        describe(&third)
    );
}
