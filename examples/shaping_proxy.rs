//! A loopback proxy that models a wide-area link, for `scripts/bench --wan` and tests: each
//! request waits a fixed delay before it is forwarded, and each connection's throughput is
//! capped in both directions. Ctrl-C (or killing it) stops it.
//!
//! ```text
//! shaping_proxy <target host:port> <delay-ms> <MiB/s per connection> [listen port]
//! ```
//!
//! It prints `listening on 127.0.0.1:PORT` once ready, and on exit (SIGTERM is not caught: the
//! count goes to stdout after every connection instead) `bytes down N` lines as connections
//! close. A "request" is a burst from the client after the connection was quiet upstream: small
//! requests (GET, HEAD, token exchanges) pay the delay once, an upload's body once.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Copies `from` to `to` at most `rate` bytes per second; waits `delay` before forwarding a read
/// that follows a quiet spell (a new request) when `delay` is given.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    rate: f64,
    delay: Option<Duration>,
    counter: &AtomicU64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let mut sent = 0f64;
    let mut last = Instant::now() - Duration::from_secs(1);
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(d) = delay
            && last.elapsed() > Duration::from_millis(2)
        {
            std::thread::sleep(d);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        last = Instant::now();
        counter.fetch_add(n as u64, Ordering::Relaxed);
        sent += n as f64;
        let due = Duration::from_secs_f64(sent / rate);
        let elapsed = started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: shaping_proxy <target host:port> <delay-ms> <MiB/s per connection> [port]";
    let target = args.get(1).ok_or(usage)?.clone();
    let delay = Duration::from_millis(args.get(2).ok_or(usage)?.parse()?);
    let rate = args.get(3).ok_or(usage)?.parse::<f64>()? * 1024.0 * 1024.0;
    let port: u16 = args.get(4).map_or(Ok(0), |p| p.parse())?;
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let down = Arc::new(AtomicU64::new(0));
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(&target) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (c2, s2) = (client.try_clone()?, server.try_clone()?);
        let (up_count, down_count) = (Arc::new(AtomicU64::new(0)), down.clone());
        std::thread::spawn(move || pump(client, server, rate, Some(delay), &up_count));
        std::thread::spawn(move || {
            pump(s2, c2, rate, None, &down_count);
            println!("bytes down {}", down_count.load(Ordering::Relaxed));
        });
    }
    Ok(())
}
