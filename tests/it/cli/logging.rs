//! The CLI's log (`RUST_LOG`, `-v`, `--debug`) at trace level, with every dependency logging,
//! prints no password, no token, no upload `_state` and no `Authorization` value, against real
//! registries with Basic and with Bearer (token) authentication.

use base64::Engine;

use crate::support::cli::{Acr, Run};
use crate::support::{Registry, pseudo_random, sha256_digest};

const USER: &str = "alice";
const PASSWORD: &str = "pw-Sup3rS3cret-7781";

/// `RUST_LOG=trace acr --registry REG --username USER --password PASSWORD ARGS...`
fn traced(reg: &Registry, args: &[&str]) -> Run {
    Acr::new()
        .env("RUST_LOG", "trace")
        .registry(&reg.url())
        .args(["--username", USER, "--password", PASSWORD])
        .args(args)
        .run()
        .success()
}

/// Panics when `log` holds a secret: the password (also as Basic credentials), a JWT, a value
/// after `_state=`, or an `Authorization` header value.
fn assert_no_secrets(log: &str) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(
        !log.contains(PASSWORD),
        "the password is in the log:\n{log}"
    );
    assert!(
        !log.contains(&basic),
        "Basic credentials are in the log:\n{log}"
    );
    // every token the issuers here sign is a JWT, whose header starts `eyJ`
    assert!(!log.contains("eyJ"), "a JWT is in the log:\n{log}");
    for (i, _) in log.match_indices("_state=") {
        let value = &log[i + "_state=".len()..];
        assert!(
            value.starts_with("REDACTED"),
            "an upload state is in the log: {}",
            &log[i..(i + 80).min(log.len())]
        );
    }
    let lower = log.to_ascii_lowercase();
    for (i, _) in lower.match_indices("authorization") {
        let rest = lower[i + "authorization".len()..].trim_start_matches(['"', ':', ' ', '=']);
        let shown = rest.strip_prefix("bearer ").or(rest.strip_prefix("basic "));
        let value = shown.unwrap_or(rest);
        assert!(
            value.starts_with("redacted") || !value.starts_with(|c: char| c.is_alphanumeric()),
            "an Authorization value is in the log: {}",
            &log[i..(i + 80).min(log.len())]
        );
    }
}

/// Runs a push, a chunked push, a get and a listing with trace logging; returns their stderr.
fn blob_round_trip(reg: &Registry, dir: &std::path::Path) -> String {
    let data = pseudo_random(300 * 1024, 9);
    let file = dir.join("blob.bin");
    std::fs::write(&file, &data).unwrap();
    let file = file.to_str().unwrap();
    let digest = sha256_digest(&data);
    let mut log = String::new();
    let put = traced(
        reg,
        &["blob", "put", "logged", file, "--chunk-size", "100000"],
    );
    assert_eq!(put.stdout().trim(), digest);
    log += &put.stderr();
    log += &traced(reg, &["blob", "put", "logged2", file]).stderr();
    let out = dir.join("back.bin");
    let reference = format!("logged@{digest}");
    log += &traced(
        reg,
        &["blob", "get", &reference, "--output", out.to_str().unwrap()],
    )
    .stderr();
    assert_eq!(std::fs::read(&out).unwrap(), data);
    let repos = traced(reg, &["repos"]);
    assert_eq!(repos.stdout_lines(), ["logged", "logged2"]);
    log += &repos.stderr();
    // the test can fail: the dependencies did log at trace level, requests and upload URLs
    assert!(
        log.contains("acr: trace: ureq"),
        "no ureq trace lines:\n{log}"
    );
    assert!(
        log.contains("_state=REDACTED"),
        "no upload URL in the log:\n{log}"
    );
    log
}

#[test]
fn trace_logs_with_basic_auth_hold_no_password_or_state() {
    let reg = Registry::with_htpasswd(USER, PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let log = blob_round_trip(&reg, dir.path());
    assert_no_secrets(&log);
}

#[test]
fn trace_logs_with_bearer_tokens_hold_no_token() {
    let reg = Registry::builder().token_auth_basic(USER, PASSWORD).start();
    let dir = tempfile::tempdir().unwrap();
    let log = blob_round_trip(&reg, dir.path());
    assert!(
        reg.token_issuer().token_requests() > 0,
        "no token was fetched"
    );
    assert_no_secrets(&log);

    // -vvv is trace too, and --debug is debug: both filtered the same way
    let verbose = Acr::new()
        .registry(&reg.url())
        .args(["--username", USER, "--password", PASSWORD, "-vvv", "repos"])
        .run()
        .success();
    assert!(verbose.stderr().contains("acr: trace:"));
    assert_no_secrets(&verbose.stderr());
    let debug = Acr::new()
        .registry(&reg.url())
        .args([
            "--username",
            USER,
            "--password",
            PASSWORD,
            "--debug",
            "repos",
        ])
        .run()
        .success();
    assert!(debug.stderr().contains("acr: debug:"));
    assert!(!debug.stderr().contains("acr: trace:"));
}
