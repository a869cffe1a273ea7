//! A registry that takes one blob upload slowly and keeps what a broken `PATCH` delivered (as a
//! registry whose sessions survive a cut connection does; distribution 2.8 drops such a session),
//! so a client killed in the middle of a chunk can be run again and resume. std only.
//!
//! It answers: `POST …/blobs/uploads/` (a new session), `PATCH` and `GET` of the session (the
//! bytes held as `Range: 0-N`), `PUT …?digest=` (201 when the bytes hash to the digest), and
//! `HEAD …/blobs/<digest>` (404 until completed). Everything else is a 404.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::sha256_digest;

#[derive(Default)]
struct State {
    /// The bytes of the session so far.
    held: Mutex<Vec<u8>>,
    /// Body bytes received in all, resent ones included.
    received: AtomicU64,
    /// A `PUT` completed the blob.
    completed: AtomicBool,
    stop: AtomicBool,
}

/// The server; stops when dropped.
pub struct UploadServer {
    url: String,
    state: Arc<State>,
}

impl UploadServer {
    /// Starts the server; it reads request bodies at about `bytes_per_sec`.
    pub fn start(bytes_per_sec: u64) -> UploadServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let state = Arc::new(State::default());
        let s = state.clone();
        std::thread::spawn(move || {
            while !s.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || serve(stream, &s, bytes_per_sec));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        UploadServer { url, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Bytes the session holds.
    pub fn held(&self) -> u64 {
        self.state.held.lock().unwrap().len() as u64
    }

    /// Body bytes received in all.
    pub fn received(&self) -> u64 {
        self.state.received.load(Ordering::SeqCst)
    }

    /// Whether a `PUT` completed the blob with the right digest.
    pub fn completed(&self) -> bool {
        self.state.completed.load(Ordering::SeqCst)
    }
}

impl Drop for UploadServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
    }
}

const SESSION: &str = "/v2/put/resume/blobs/uploads/1";

fn serve(stream: TcpStream, state: &State, bytes_per_sec: u64) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0u64;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        // the body, read slowly; what came before a cut is kept
        let mut body = Vec::new();
        let mut left = length;
        let mut buf = vec![0u8; 16 * 1024];
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = match reader.read(&mut buf[..want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            body.extend_from_slice(&buf[..n]);
            state.received.fetch_add(n as u64, Ordering::SeqCst);
            if method == "PATCH" {
                state.held.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            left -= n as u64;
            std::thread::sleep(Duration::from_micros(n as u64 * 1_000_000 / bytes_per_sec));
        }
        if left > 0 {
            return; // the client went away in the middle of the body
        }
        let path = target.split('?').next().unwrap_or("");
        let held = state.held.lock().unwrap().len();
        let range = format!("0-{}", held.saturating_sub(1));
        let answer = match (method.as_str(), path) {
            ("POST", "/v2/put/resume/blobs/uploads/") => {
                format!("HTTP/1.1 202 Accepted\r\nLocation: {SESSION}\r\nContent-Length: 0\r\n")
            }
            ("PATCH" | "GET", SESSION) => format!(
                "HTTP/1.1 {}\r\nLocation: {SESSION}\r\nRange: {range}\r\nContent-Length: 0\r\n",
                if method == "GET" {
                    "204 No Content"
                } else {
                    "202 Accepted"
                }
            ),
            ("PUT", SESSION) => {
                let mut held = state.held.lock().unwrap();
                held.extend_from_slice(&body);
                let digest = target
                    .split("digest=")
                    .nth(1)
                    .unwrap_or("")
                    .replace("%3A", ":");
                if sha256_digest(&*held) == digest {
                    state.completed.store(true, Ordering::SeqCst);
                    format!(
                        "HTTP/1.1 201 Created\r\nDocker-Content-Digest: {digest}\r\n\
                         Location: /v2/put/resume/blobs/{digest}\r\nContent-Length: 0\r\n"
                    )
                } else {
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n".to_string()
                }
            }
            _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
        };
        if out.write_all(format!("{answer}\r\n").as_bytes()).is_err() {
            return;
        }
    }
}
