//! Listings are printed page by page as they arrive: a million names in constant memory, `--json`
//! valid while streaming, and a reader that stops early (`acr repos | head`) ends the command
//! quietly with status 0.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::loopback::{Answer, Loopback, acr_command};
use crate::support::cli::Acr;

/// Names per page the catalog server sends.
const PAGE: usize = 5000;

/// The `i`-th repository name (sorted as `i` is).
fn name(i: usize) -> String {
    format!("library/a-repository-with-a-rather-long-name-{i:07}")
}

/// The index after `last` in a catalog query (`?last=NAME&n=..`), 0 without one.
fn start_after(target: &str) -> usize {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|p| p.strip_prefix("last="))
        .and_then(|last| last.rsplit('-').next())
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |n| n + 1)
}

/// A `/v2/_catalog` of `total` names made page by page, with `Link` next headers; `on_last` runs
/// when the last page is asked for.
fn catalog(total: usize, on_last: impl Fn() + Send + Sync + 'static) -> Loopback {
    Loopback::start(move |req| {
        if !req.target.starts_with("/v2/_catalog") {
            return Some(Answer::json(404, r#"{"errors":[{"code":"NOT_FOUND"}]}"#));
        }
        let start = start_after(&req.target).min(total);
        let end = (start + PAGE).min(total);
        if end == total {
            on_last();
        }
        let names: Vec<String> = (start..end).map(name).collect();
        let body = serde_json::json!({ "repositories": names }).to_string();
        let mut answer = Answer::json(200, body);
        if end < total {
            let link = format!(
                "</v2/_catalog?last={}&n={PAGE}>; rel=\"next\"",
                name(end - 1).replace('/', "%2F")
            );
            answer = answer.header("Link", &link);
        }
        Some(answer)
    })
}

/// `VmHWM` (peak resident memory) of process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_million_names_are_printed_in_small_constant_memory() {
    const TOTAL: usize = 1_000_000;
    let pid = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(Mutex::new(None::<u64>));
    let server = {
        let (pid, peak) = (pid.clone(), peak.clone());
        // the CLI is alive and has printed every page but the last one: its peak so far
        catalog(TOTAL, move || {
            *peak.lock().unwrap() = peak_rss_kib(pid.load(Ordering::SeqCst));
        })
    };
    let mut child = acr_command(&["--registry", &server.url(), "repos"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start acr");
    pid.store(child.id(), Ordering::SeqCst);
    let mut lines = 0usize;
    let mut last = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        lines += 1;
        std::mem::swap(&mut last, &mut line);
        line.clear();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "acr repos failed ({status}): {stderr}");
    assert_eq!(lines, TOTAL, "{stderr}");
    assert_eq!(last.trim_end(), name(TOTAL - 1));
    let peak = peak
        .lock()
        .unwrap()
        .expect("the peak memory of acr, read when it asked for the last page");
    // the names alone are ~50 MB as text and ~90 MB as a Vec<String>: collected, this fails
    assert!(
        peak < 64 * 1024,
        "acr repos held {} MiB for a million names: it collects the listing",
        peak / 1024
    );
}

#[test]
fn json_listings_stream_as_one_valid_array() {
    let server = catalog(PAGE * 2 + 3, || {});
    let out = Acr::new()
        .registry(&server.url())
        .args(["repos", "--json"])
        .run()
        .quiet_success();
    let expected: Vec<String> = (0..PAGE * 2 + 3).map(name).collect();
    assert_eq!(out.json(), serde_json::json!(expected));
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/v2/_catalog"))
        .count();
    assert_eq!(pages, 3, "three pages");

    let empty = catalog(0, || {});
    let out = Acr::new()
        .registry(&empty.url())
        .args(["repos", "--json"])
        .run()
        .quiet_success();
    assert_eq!(out.json(), serde_json::json!([]));
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly_with_status_0() {
    // `acr repos | head -3`
    let server = catalog(200_000, || {});
    let mut child = acr_command(&["--registry", &server.url(), "repos"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start acr");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        first.push(line.trim_end().to_string());
    }
    drop(out);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(first, [name(0), name(1), name(2)]);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.is_empty(),
        "a closed stdout is not an error: {stderr}"
    );
    assert!(
        server.requests().len() < 200_000 / PAGE,
        "acr went on listing after its reader left"
    );
}
