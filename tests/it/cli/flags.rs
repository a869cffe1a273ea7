//! Global flags and help: every flag of every command has a help text; `--timeout` bounds a
//! registry that never answers; `--plain-http` opens a plain-http registry that is not on loopback.

use std::time::{Duration, Instant};

use super::loopback::{Loopback, acr_command};
use crate::support::Registry;
use crate::support::cli::Acr;

/// The subcommands `help` lists under "Commands:" (without `help` itself).
fn subcommands(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_list = false;
    for line in help.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_list = line == "Commands:";
            continue;
        }
        let body = line.trim_start();
        if in_list && line.len() - body.len() == 2 {
            let name = body.split_whitespace().next().unwrap_or("");
            if !name.is_empty() && name != "help" {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Every command and subcommand of `acr`, as `acr <command...> --help` takes them, found by
/// walking the help texts (so a new command is checked without being listed here).
fn commands() -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    let mut i = 0;
    while i < all.len() {
        let path = all[i].clone();
        let help = Acr::new()
            .args(&path)
            .arg("--help")
            .run()
            .success()
            .stdout();
        for name in subcommands(&help) {
            let mut sub = path.clone();
            sub.push(name);
            all.push(sub);
        }
        i += 1;
    }
    all
}

/// The entries of `--help` (flags and arguments) that have no description.
fn undescribed(help: &str) -> Vec<String> {
    let lines: Vec<&str> = help.lines().collect();
    let mut missing = Vec::new();
    let mut in_list = false;
    for (i, line) in lines.iter().enumerate() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_list = matches!(*line, "Options:" | "Arguments:");
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if !in_list || indent == 0 || !body.starts_with(['-', '<', '[']) {
            continue;
        }
        // `  --flag <VALUE>  Description`, or the description on the next, deeper line
        let described_here = body
            .split_once("  ")
            .is_some_and(|(_, rest)| !rest.trim().is_empty());
        let described_below = lines.get(i + 1).is_some_and(|next| {
            let t = next.trim_start();
            !t.is_empty() && next.len() - t.len() > indent && !t.starts_with(['-', '<', '['])
        });
        if !described_here && !described_below {
            missing.push(body.to_string());
        }
    }
    missing
}

#[test]
fn every_flag_and_argument_of_every_command_has_a_help_text() {
    let mut missing = Vec::new();
    let commands = commands();
    for name in ["purge", "login", "attach", "discover", "artifact", "config"] {
        assert!(
            commands
                .iter()
                .any(|c| c.first().map(String::as_str) == Some(name)),
            "{name} not found in the help: {commands:?}"
        );
    }
    for command in &commands {
        let out = Acr::new().args(command).arg("--help").run().success();
        let help = out.stdout();
        assert!(help.contains("Options:"), "acr {command:?} --help: {help}");
        for entry in undescribed(&help) {
            missing.push(format!("acr {} {entry}", command.join(" ")));
        }
    }
    assert!(
        missing.is_empty(),
        "without help text:\n{}",
        missing.join("\n")
    );
    // the parser of this test finds what it looks for
    let sample = "Options:\n      --last <LAST>\n      --ok  Fine\n  -h, --help\n          Print\n";
    assert_eq!(undescribed(sample), ["--last <LAST>"]);
}

#[test]
fn timeout_bounds_a_registry_that_never_answers() {
    let silent = Loopback::start(|_| None);
    let started = Instant::now();
    let mut child = acr_command(&["--registry", &silent.url(), "--timeout", "2s", "repos"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start acr");
    // without --timeout reaching the client this takes minutes (120 s per attempt, 4 attempts)
    let limit = Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("acr --timeout 2s still waited after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("acr: error: "), "{stderr}");
    assert!(!silent.requests().is_empty(), "acr never asked");
}

#[test]
fn timeout_values_are_durations() {
    let bad = Acr::new()
        .args([
            "--registry",
            "http://127.0.0.1:9",
            "--timeout",
            "5x",
            "repos",
        ])
        .run();
    assert_eq!(bad.code(), 2, "{}", bad.describe());
    assert!(
        bad.stderr().contains("not a duration"),
        "{}",
        bad.describe()
    );
    let zero = Acr::new().args(["--timeout", "0", "repos"]).run();
    assert_eq!(zero.code(), 2, "{}", zero.describe());
}

#[test]
fn plain_http_opens_a_registry_that_is_not_on_loopback() {
    let reg = Registry::start();
    reg.push_test_image("lan/app", "v1", 100, 1);
    // the registry on 127.0.0.1, named as an IPv4-mapped IPv6 address: not loopback by its name
    let lan = format!("http://[::ffff:127.0.0.1]:{}", reg.port());

    let refused = Acr::new().registry(&lan).arg("repos").run();
    let line = refused.error_line(1);
    assert!(line.contains("--plain-http"), "{line}");

    let listed = Acr::new()
        .registry(&lan)
        .args(["--plain-http", "repos"])
        .run()
        .quiet_success();
    assert_eq!(listed.stdout_lines(), ["lan/app"]);
    // a bare HOST:PORT means http:// with --plain-http
    let bare = format!("[::ffff:127.0.0.1]:{}", reg.port());
    let tags = Acr::new()
        .registry(&bare)
        .args(["--plain-http", "tags", "lan/app"])
        .run()
        .quiet_success();
    assert_eq!(tags.stdout_lines(), ["v1"]);
}
