//! Credential helpers (`docker-credential-NAME`), faked by shell scripts in a temporary directory
//! put on the PATH of a child process (the test process's own environment never changes).

use std::path::Path;
use std::time::Duration;

use azcontainerregistry::{
    Client, ClientOptions, Credential, DockerConfig, ListNamesOptions, credential::Store,
};
use serde_json::json;

use super::{auth_field, path_with, write_config, write_helper};
use crate::support::Registry;
use crate::support::child::{self, Child};

/// A helper that logs `ACTION SERVER` (and what `store` got) to `log` and answers `user`/`secret`
/// for `server` only, "credentials not found" for anything else.
fn answering_helper(dir: &Path, name: &str, server: &str, user: &str, secret: &str) {
    let log = dir.join(format!("{name}.log"));
    let answer = json!({"ServerURL": server, "Username": user, "Secret": secret}).to_string();
    write_helper(
        dir,
        name,
        &format!(
            "input=$(cat)\necho \"$1 $input\" >> '{log}'\ncase \"$1:$input\" in\n  \
             'get:{server}') echo '{answer}' ;;\n  store:*|erase:*) ;;\n  \
             *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac",
            log = log.display()
        ),
    );
}

fn log_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn run_child(name: &str, dir: &Path, vars: &[(&str, String)]) {
    let mut c = Child::new(module_path!(), name).env("PATH", path_with(dir));
    c = c.env("HELPER_DIR", dir);
    for (k, v) in vars {
        c = c.env(k, v);
    }
    c.run();
}

#[test]
fn creds_store_helper_signs_in_to_an_htpasswd_registry() {
    const NAME: &str = "creds_store_helper_signs_in_to_an_htpasswd_registry";
    if !child::is_child(module_path!(), NAME) {
        let reg = Registry::with_htpasswd("alice", "from-helper");
        reg.push_test_image("app", "v1", 10, 5);
        let dir = tempfile::tempdir().unwrap();
        answering_helper(dir.path(), "fake", &reg.host_port(), "alice", "from-helper");
        write_config(
            dir.path(),
            &json!({"credsStore": "fake", "auths": {reg.host_port(): {}}}),
        );
        run_child(NAME, dir.path(), &[("REG", reg.url())]);
        assert_eq!(
            log_of(dir.path(), "fake").lines().next(),
            Some(format!("get {}", reg.host_port()).as_str())
        );
        return;
    }
    let dir = std::path::PathBuf::from(child::var("HELPER_DIR"));
    let client = Client::new(
        &child::var("REG"),
        Credential::docker_config_at(dir.join("config.json")),
        ClientOptions::default(),
    )
    .unwrap();
    let repos: Vec<String> = client
        .list_catalog(ListNamesOptions::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(repos, ["app"]);
}

#[test]
fn cred_helpers_win_over_creds_store_and_fall_back_to_auths() {
    const NAME: &str = "cred_helpers_win_over_creds_store_and_fall_back_to_auths";
    if !child::is_child(module_path!(), NAME) {
        let dir = tempfile::tempdir().unwrap();
        answering_helper(
            dir.path(),
            "special",
            "a.io",
            "<token>",
            "identity-from-special",
        );
        answering_helper(dir.path(), "general", "b.io", "bob", "from-general");
        write_config(
            dir.path(),
            &json!({
                "credsStore": "general",
                "credHelpers": {"a.io": "special"},
                "auths": {"c.io": {"auth": auth_field("carol", "from-file")}},
            }),
        );
        run_child(NAME, dir.path(), &[]);
        assert_eq!(log_of(dir.path(), "special").trim(), "get a.io");
        let general = log_of(dir.path(), "general");
        assert!(
            general.contains("get b.io") && general.contains("get c.io"),
            "{general}"
        );
        return;
    }
    let dir = std::path::PathBuf::from(child::var("HELPER_DIR"));
    let config = DockerConfig::at(dir.join("config.json"));
    let a = format!("{:?}", config.find("a.io").unwrap());
    assert!(
        a.contains("IdentityToken") && !a.contains("identity-from-special"),
        "{a}"
    );
    let b = format!("{:?}", config.find("https://b.io").unwrap());
    assert!(b.contains("Basic") && b.contains("\"bob\""), "{b}");
    // the store has nothing for c.io: the file's entry
    let c = format!("{:?}", config.find("c.io").unwrap());
    assert!(c.contains("\"carol\""), "{c}");
}

#[test]
fn missing_failing_and_slow_helpers_give_clear_errors() {
    const NAME: &str = "missing_failing_and_slow_helpers_give_clear_errors";
    if !child::is_child(module_path!(), NAME) {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        write_helper(
            dir.path(),
            "failing",
            "cat > /dev/null\necho 'the keychain is locked' >&2\nexit 3",
        );
        write_helper(
            dir.path(),
            "slow",
            &format!("sleep 300 &\necho $! > '{}'\nwait", pid_file.display()),
        );
        write_helper(
            dir.path(),
            "garbled",
            "cat > /dev/null\necho 'not json s3cret'",
        );
        write_config(
            dir.path(),
            &json!({"credHelpers": {
                "missing.io": "absent",
                "failing.io": "failing",
                "slow.io": "slow",
                "garbled.io": "garbled",
            }}),
        );
        run_child(NAME, dir.path(), &[]);
        let pid = std::fs::read_to_string(&pid_file).expect("the slow helper started its child");
        let stat = std::path::PathBuf::from(format!("/proc/{}/stat", pid.trim()));
        let mut gone = false;
        for _ in 0..100 {
            gone = std::fs::read_to_string(&stat).map_or(true, |s| s.contains(") Z "));
            if gone {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(gone, "the slow helper's child {} survived", pid.trim());
        return;
    }
    let dir = std::path::PathBuf::from(child::var("HELPER_DIR"));
    let config =
        DockerConfig::at(dir.join("config.json")).helper_timeout(Duration::from_millis(500));
    let err = |host: &str| config.find(host).unwrap_err().to_string();
    let missing = err("missing.io");
    assert!(
        missing.contains("docker-credential-absent") && missing.contains("not on PATH"),
        "{missing}"
    );
    let failing = err("failing.io");
    assert!(
        failing.contains("docker-credential-failing get failed")
            && failing.contains("exit status: 3")
            && failing.contains("the keychain is locked"),
        "{failing}"
    );
    let slow = err("slow.io");
    assert!(slow.contains("did not finish within"), "{slow}");
    let garbled = err("garbled.io");
    assert!(
        garbled.contains("not its JSON") && !garbled.contains("s3cret"),
        "{garbled}"
    );
}

#[test]
fn store_and_erase_go_through_the_configured_helper() {
    const NAME: &str = "store_and_erase_go_through_the_configured_helper";
    if !child::is_child(module_path!(), NAME) {
        let dir = tempfile::tempdir().unwrap();
        answering_helper(dir.path(), "keeper", "none", "x", "y");
        write_config(
            dir.path(),
            &json!({"credsStore": "keeper", "auths": {"other.io": {"auth": auth_field("o", "p")}}}),
        );
        run_child(NAME, dir.path(), &[]);
        let log = log_of(dir.path(), "keeper");
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2, "{log}");
        let stored: serde_json::Value =
            serde_json::from_str(lines[0].strip_prefix("store ").unwrap()).unwrap();
        assert_eq!(
            stored,
            json!({"ServerURL": "r.io:5000", "Username": "u", "Secret": "stored-secret"})
        );
        assert_eq!(lines[1], "erase r.io:5000");
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(file["credsStore"], "keeper");
        assert_eq!(file["auths"]["other.io"]["auth"], auth_field("o", "p"));
        assert!(file["auths"].get("r.io:5000").is_none(), "{file}");
        return;
    }
    let dir = std::path::PathBuf::from(child::var("HELPER_DIR"));
    let config = DockerConfig::at(dir.join("config.json"));
    let stored = config
        .store(
            "https://r.io:5000",
            &Credential::basic("u", "stored-secret"),
        )
        .unwrap();
    assert_eq!(stored, Store::Helper("keeper".into()));
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(
        !text.contains("stored-secret"),
        "the secret went to the file: {text}"
    );
    assert_eq!(
        config.erase("r.io:5000").unwrap(),
        Some(Store::Helper("keeper".into()))
    );
}
