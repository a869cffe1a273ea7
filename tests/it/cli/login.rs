//! The CLI's sign-in: `--auth auto` reading Docker config files and credential helpers with no
//! credential flags, `login`/`logout` round trips, and crane's everyday commands (`digest`, `tag`,
//! `config`, `catalog`/`ls REGISTRY`). Every run gets its own `HOME` and `DOCKER_CONFIG` (and
//! `PATH` for helpers) on the spawned process only.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;

use crate::signin::{auth_field, path_with, write_config, write_helper};
use crate::support::Registry;
use crate::support::cli::{Acr, Run};

/// `acr` with `HOME` and `DOCKER_CONFIG` in `dir` (nothing else of the caller's).
fn acr_in(dir: &Path) -> Acr {
    Acr::new()
        .env("HOME", dir.to_str().unwrap())
        .env("DOCKER_CONFIG", dir.to_str().unwrap())
        .env("XDG_RUNTIME_DIR", dir.join("xdg").to_str().unwrap())
        .env(
            "REGISTRY_AUTH_FILE",
            dir.join("none.json").to_str().unwrap(),
        )
}

fn config_of(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

fn repos(dir: &Path, reg: &Registry) -> Run {
    acr_in(dir).registry(&reg.url()).arg("repos").run()
}

#[test]
fn repos_signs_in_with_a_plain_auth_entry_and_no_flags() {
    let reg = Registry::with_htpasswd("alice", "s3cret");
    reg.push_test_image("app", "v1", 10, 11);
    let dir = tempfile::tempdir().unwrap();
    // without credentials the registry refuses
    let refused = repos(dir.path(), &reg);
    assert!(
        refused.error_line(1).contains("401"),
        "{}",
        refused.describe()
    );
    write_config(
        dir.path(),
        &json!({"auths": {reg.host_port(): {"auth": auth_field("alice", "s3cret")}}}),
    );
    assert_eq!(
        repos(dir.path(), &reg).quiet_success().stdout_lines(),
        ["app"]
    );
    // explicit flags come first: a wrong password is not rescued by the file
    let flags = acr_in(dir.path())
        .registry(&reg.url())
        .args(["repos", "-u", "alice"])
        .env("ACR_PASSWORD", "wrong")
        .run();
    flags.error_line(1);
    // --password-stdin works for any command
    let piped = acr_in(dir.path())
        .registry(&reg.url())
        .args(["repos", "-u", "alice", "--password-stdin"])
        .stdin("s3cret\n")
        .run();
    assert_eq!(piped.quiet_success().stdout_lines(), ["app"]);
    // --auth docker reads only the files
    let docker = acr_in(dir.path())
        .registry(&reg.url())
        .args(["--auth", "docker", "repos"])
        .run();
    assert_eq!(docker.quiet_success().stdout_lines(), ["app"]);
    let other = tempfile::tempdir().unwrap();
    let none = acr_in(other.path())
        .registry(&reg.url())
        .args(["--auth", "docker", "repos"])
        .run();
    assert!(
        none.error_line(1).contains("acr login"),
        "{}",
        none.describe()
    );
}

#[test]
fn repos_signs_in_through_a_creds_store_helper() {
    let reg = Registry::with_htpasswd("alice", "from-helper");
    reg.push_test_image("app", "v1", 10, 12);
    let dir = tempfile::tempdir().unwrap();
    let answer =
        json!({"ServerURL": reg.host_port(), "Username": "alice", "Secret": "from-helper"});
    write_helper(
        dir.path(),
        "fake",
        &format!(
            "[ \"$1\" = get ] || exit 1\nserver=$(cat)\n[ \"$server\" = '{}' ] || {{ echo \
             'credentials not found in native keychain'; exit 1; }}\necho '{answer}'",
            reg.host_port()
        ),
    );
    write_config(dir.path(), &json!({"credsStore": "fake"}));
    // the helper is not on this run's PATH: a clear error
    let missing = repos(dir.path(), &reg);
    let line = missing.error_line(1);
    assert!(
        line.contains("docker-credential-fake") && line.contains("not on PATH"),
        "{line}"
    );
    let out = Acr::new()
        .env("HOME", dir.path().to_str().unwrap())
        .env("DOCKER_CONFIG", dir.path().to_str().unwrap())
        .env("PATH", path_with(dir.path()).to_str().unwrap())
        .registry(&reg.url())
        .arg("repos")
        .run()
        .quiet_success();
    assert_eq!(out.stdout_lines(), ["app"]);
}

#[test]
fn login_verifies_stores_and_logout_removes_only_that_entry() {
    let reg = Registry::with_htpasswd("alice", "pw-1");
    reg.push_test_image("app", "v1", 10, 13);
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &json!({
            "auths": {"other.example": {"auth": auth_field("o", "p")}},
            "psFormat": "table {{.ID}}",
        }),
    );
    let before = std::fs::read(dir.path().join("config.json")).unwrap();

    // a wrong password is refused by the registry and nothing is stored
    let wrong = acr_in(dir.path())
        .args([
            "login",
            &reg.url(),
            "--username",
            "alice",
            "--password-stdin",
        ])
        .stdin("nope\n")
        .run();
    wrong.error_line(1);
    assert_eq!(
        std::fs::read(dir.path().join("config.json")).unwrap(),
        before
    );

    let ok = acr_in(dir.path())
        .args(["login", &reg.host_port(), "-u", "alice", "--password-stdin"])
        .stdin("pw-1\n")
        .run()
        .quiet_success();
    assert_eq!(
        ok.stdout_lines(),
        [format!(
            "signed in to {} (stored in {})",
            reg.host_port(),
            dir.path().join("config.json").display()
        )]
    );
    let config = config_of(dir.path());
    assert_eq!(
        config["auths"][reg.host_port()]["auth"],
        auth_field("alice", "pw-1")
    );
    assert_eq!(
        config["auths"]["other.example"]["auth"],
        auth_field("o", "p")
    );
    assert_eq!(config["psFormat"], "table {{.ID}}");
    let mode = std::fs::metadata(dir.path().join("config.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // then every command signs in with no flags
    assert_eq!(
        repos(dir.path(), &reg).quiet_success().stdout_lines(),
        ["app"]
    );

    // -p works, with a warning
    let typed = acr_in(dir.path())
        .args(["login", &reg.url(), "-u", "alice", "-p", "pw-1"])
        .run()
        .success();
    assert!(
        typed.stderr().contains("--password-stdin"),
        "{}",
        typed.describe()
    );

    let out = acr_in(dir.path())
        .args(["logout", &reg.url()])
        .run()
        .quiet_success();
    assert!(
        out.stdout().starts_with("signed out of"),
        "{}",
        out.describe()
    );
    let config = config_of(dir.path());
    assert!(config["auths"].get(reg.host_port()).is_none(), "{config}");
    assert_eq!(
        config["auths"]["other.example"]["auth"],
        auth_field("o", "p")
    );
    assert_eq!(config["psFormat"], "table {{.ID}}");
    repos(dir.path(), &reg).error_line(1);
    // nothing left to remove: a note, success
    let again = acr_in(dir.path())
        .args(["logout", &reg.url()])
        .run()
        .success();
    assert!(
        again.stderr().contains("no stored credentials"),
        "{}",
        again.describe()
    );
}

#[test]
fn digest_tag_config_and_catalog_work_like_crane() {
    let reg = Registry::start();
    let image = reg.push_test_image("app", "v1", 100, 14);
    let dir = tempfile::tempdir().unwrap();
    let acr = |args: &[&str]| acr_in(dir.path()).registry(&reg.url()).args(args).run();

    let digest = acr(&["digest", "app:v1"]).quiet_success();
    assert_eq!(digest.stdout_lines(), [image.manifest_digest.as_str()]);
    let tagged = acr(&["tag", "app:v1", "stable"]).quiet_success();
    assert_eq!(tagged.stdout_lines(), ["tagged app:stable"]);
    assert_eq!(
        acr(&["digest", "app:stable"])
            .quiet_success()
            .stdout_lines(),
        [image.manifest_digest.as_str()]
    );
    let config = acr(&["config", "app:stable"]).quiet_success();
    assert_eq!(config.output.stdout, image.config);
    acr(&["digest", "app:missing"]).error_line(1);

    for cmd in ["catalog", "ls"] {
        let listed = acr_in(dir.path())
            .args([cmd, &reg.host_port()])
            .run()
            .quiet_success();
        assert_eq!(listed.stdout_lines(), ["app"], "{cmd}");
    }
}

#[test]
fn copy_signs_in_to_each_registry_with_its_own_entry() {
    let src = Registry::with_htpasswd("src-user", "src-pw");
    let dst = Registry::with_htpasswd("dst-user", "dst-pw");
    let image = src.push_test_image("app", "v1", 50, 15);
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &json!({"auths": {
            src.host_port(): {"auth": auth_field("src-user", "src-pw")},
            dst.host_port(): {"auth": auth_field("dst-user", "dst-pw")},
        }}),
    );
    let target = format!("{}/copied/app:v1", dst.host_port());
    acr_in(dir.path())
        .registry(&src.url())
        .args(["copy", "app:v1", &target])
        .run()
        .success();
    let digest = acr_in(dir.path())
        .registry(&dst.url())
        .args(["digest", "copied/app:v1"])
        .run()
        .quiet_success();
    assert_eq!(digest.stdout_lines(), [image.manifest_digest.as_str()]);
}
