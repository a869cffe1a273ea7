//! What the build-script helper and the cache read from the environment, each body in a child
//! process with its own environment: the cache directory's precedence, and `build::fetch` signing
//! in with `ACR_USERNAME`/`ACR_PASSWORD` (and printing `cargo:rerun-if-env-changed` for them).

use std::path::PathBuf;

use azcontainerregistry::Credential;
use azcontainerregistry::build;
use azcontainerregistry::cache::Cache;

use super::push_one;
use crate::support::child::{self, Child};
use crate::support::{Registry, client_with};

#[test]
fn the_cache_directory_follows_the_environment() {
    if child::is_child(
        module_path!(),
        "the_cache_directory_follows_the_environment",
    ) {
        let want = PathBuf::from(child::var("ART_WANT"));
        assert_eq!(Cache::default_dir(), Some(want));
        return;
    }
    let cases = [
        // AZCR_CACHE_DIR first
        [
            ("AZCR_CACHE_DIR", "/c"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
            ("ART_WANT", "/c"),
        ],
        // then XDG_CACHE_HOME (an empty AZCR_CACHE_DIR counts as unset)
        [
            ("AZCR_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
            ("ART_WANT", "/x/azcontainerregistry"),
        ],
        // a relative XDG_CACHE_HOME is ignored, as the XDG specification says
        [
            ("AZCR_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "rel"),
            ("HOME", "/h"),
            ("ART_WANT", "/h/.cache/azcontainerregistry"),
        ],
    ];
    for envs in cases {
        Child::new(
            module_path!(),
            "the_cache_directory_follows_the_environment",
        )
        .envs(envs)
        .run();
    }
}

#[test]
fn fetch_signs_in_with_acr_username_and_password() {
    const NAME: &str = "fetch_signs_in_with_acr_username_and_password";
    if child::is_child(module_path!(), NAME) {
        let out = tempfile::tempdir().unwrap();
        let got = build::fetch(&child::var("ART_REF"), out.path());
        if child::var("ART_EXPECT") == "ok" {
            let files = got.unwrap();
            assert_eq!(std::fs::read(&files[0]).unwrap(), b"secret tool");
        } else {
            let e = got.unwrap_err();
            assert!(e.is_unauthorized(), "{e:?}");
        }
        return;
    }
    let reg = Registry::with_htpasswd("builder", "s3cret-pw");
    let credential = Credential::basic("builder", "s3cret-pw");
    push_one(
        &client_with(&reg.url(), credential),
        "private/tool:v1",
        "tool",
        b"secret tool",
    );
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/private/tool:v1", reg.host_port());
    let cache_s = cache.path().to_string_lossy().into_owned();
    let common = [
        ("ART_REF", reference.as_str()),
        ("AZCR_CACHE_DIR", cache_s.as_str()),
        ("CARGO_NET_OFFLINE", "false"),
    ];
    let stdout = Child::new(module_path!(), NAME)
        .envs(common)
        .envs([("ACR_USERNAME", "builder"), ("ACR_PASSWORD", "s3cret-pw")])
        .env("ART_EXPECT", "ok")
        .run();
    for var in [
        "ACR_USERNAME",
        "ACR_PASSWORD",
        "CARGO_NET_OFFLINE",
        "AZCR_CACHE_DIR",
    ] {
        let line = format!("cargo:rerun-if-env-changed={var}");
        assert!(stdout.contains(&line), "{line} missing from:\n{stdout}");
    }
    assert!(
        !stdout.contains("s3cret-pw"),
        "the password is never printed"
    );
    // without them: anonymous, refused
    let empty = tempfile::tempdir().unwrap();
    Child::new(module_path!(), NAME)
        .envs(common)
        .envs([("AZCR_CACHE_DIR", &*empty.path().to_string_lossy())])
        .envs([("ACR_USERNAME", ""), ("ACR_PASSWORD", "")])
        .env("ART_EXPECT", "refused")
        .run();
}
