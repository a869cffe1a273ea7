//! Benchmark: a build script's `build::fetch` of one large artifact, first into an empty cache,
//! then as a second clean build (a new OUT_DIR, the same cache) would, by tag and by digest.
//! Requests are counted by a proxy in front of the registry. Called by `scripts/bench`; prints the
//! times, the request counts and the ratio first/second.
//!
//! ```text
//! artifact_bench <registry-url> [MiB=200]
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use azcontainerregistry::artifact::{self, FileSpec};
use azcontainerregistry::build::{FetchOptions, fetch_with};
use azcontainerregistry::cache::Cache;
use azcontainerregistry::{Client, ClientOptions, Credential};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let registry = args
        .get(1)
        .ok_or("usage: artifact_bench <registry-url> [MiB]")?;
    let mib: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let client = Client::new(registry, Credential::anonymous(), ClientOptions::default())?;

    let work = tempfile::tempdir()?;
    let file = work.path().join("model.bin");
    write_noise(&file, mib << 20)?;
    let pushed = artifact::push(
        &client,
        "bench/artifact:v1",
        &[FileSpec::new(&file)],
        Default::default(),
    )?;

    let authority = registry
        .split("://")
        .nth(1)
        .unwrap_or(registry)
        .trim_end_matches('/');
    let (proxy, requests) = counting_proxy(authority)?;
    let by_tag = format!("{proxy}/bench/artifact:v1");
    let by_digest = format!("{proxy}/bench/artifact@{}", pushed.digest);
    let cache = Cache::new(work.path().join("cache")).with_max_size(4 << 30);
    let fetch = |reference: &str, out: &str| -> Result<(f64, usize), Box<dyn std::error::Error>> {
        requests.lock().map_err(|_| "poisoned")?.clear();
        let options = FetchOptions {
            cache: Some(cache.clone()),
            credential: Some(Credential::anonymous()),
            offline: Some(false),
            ..Default::default()
        };
        let t = Instant::now();
        let files = fetch_with(reference, work.path().join(out), options)?;
        let secs = t.elapsed().as_secs_f64();
        if files.len() != 1 {
            return Err(format!("expected one file, got {files:?}").into());
        }
        Ok((secs, requests.lock().map_err(|_| "poisoned")?.len()))
    };
    let (first, first_requests) = fetch(&by_tag, "out-1")?;
    let (second, second_requests) = fetch(&by_tag, "out-2")?;
    let (pinned, pinned_requests) = fetch(&by_digest, "out-3")?;
    println!(
        "{:<44} {:>9.3} s {:>3} requests",
        format!("first fetch, {mib} MiB, empty cache"),
        first,
        first_requests
    );
    println!(
        "{:<44} {:>9.3} s {:>3} requests",
        "second clean build, by tag (cached)", second, second_requests
    );
    println!(
        "{:<44} {:>9.3} s {:>3} requests",
        "second clean build, by digest (cached)", pinned, pinned_requests
    );
    println!(
        "ratio first/second: {:.0}x by tag, {:.0}x by digest (target >= 20x, <= 1 and 0 requests)",
        first / second,
        first / pinned
    );
    Ok(())
}

/// The request lines a proxy saw.
type Seen = Arc<Mutex<Vec<String>>>;

/// A proxy on 127.0.0.1 forwarding to `target`, recording every request head's first line.
fn counting_proxy(target: &str) -> Result<(String, Seen), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (seen, target) = (Arc::clone(&requests), target.to_string());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (seen, target) = (Arc::clone(&seen), target.clone());
            std::thread::spawn(move || forward(client, &target, &seen));
        }
    });
    Ok((addr.to_string(), requests))
}

fn forward(mut client: TcpStream, target: &str, seen: &Mutex<Vec<String>>) {
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut s2, &mut c2);
        let _ = c2.shutdown(Shutdown::Both);
    });
    let (mut head, mut buf) = (Vec::new(), [0u8; 16 * 1024]);
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        // GETs only (a pull): every head ends with an empty line
        while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let line = String::from_utf8_lossy(&head[..end])
                .lines()
                .next()
                .map(str::to_string);
            if let (Some(line), Ok(mut s)) = (line, seen.lock()) {
                s.push(line);
            }
            head.drain(..end + 4);
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = down.join();
}

fn write_noise(path: &std::path::Path, len: usize) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    while left > 0 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        let n = left.min(8);
        f.write_all(&b[..n])?;
        left -= n;
    }
    f.flush()
}
