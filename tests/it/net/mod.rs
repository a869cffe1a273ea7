//! The network layer against misbehaving servers: throttling and the retry budget, the total
//! deadline and minimum progress, proxies and loopback, Azure AD token hosts, what 401s and
//! malformed challenges say, and failures that are not retried because they cannot heal.
//!
//! [`Scripted`] is a raw loopback HTTP/1.1 server whose every answer a test scripts (trickled,
//! held, cut), counting connections and requests so tests assert attempts, never durations.

mod azure_host;
mod deadline;
mod heal;
mod messages;
mod proxy;
mod throttle;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use azcontainerregistry::{ClientOptions, RetryOptions, Timeouts};

/// What [`Scripted`] does with one request.
pub enum Reply {
    /// Sends these bytes and closes.
    Raw(Vec<u8>),
    /// Sends `head`, then `body` one byte per `pause`.
    Trickle {
        head: String,
        body: Vec<u8>,
        pause: Duration,
    },
    /// Reads the request and never answers (until the server stops).
    Hang,
}

impl Reply {
    /// A complete answer: `status`, the headers and `body`, `Connection: close`.
    pub fn status(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        out.push_str(body);
        Reply::Raw(out.into_bytes())
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `METHOD /path?query`.
    pub line: String,
    /// Header lines, lowercased names.
    pub headers: Vec<(String, String)>,
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// A raw loopback HTTP/1.1 server answering as its handler says (one request per connection);
/// stopped on drop, also on panic.
pub struct Scripted {
    port: u16,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    /// Starts the server; `handler(request, n)` gets the 0-based request number.
    pub fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (stop, connections, seen) = (stop.clone(), connections.clone(), seen.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (stop, seen, handler) = (stop.clone(), seen.clone(), handler.clone());
                    std::thread::spawn(move || serve(conn, &stop, &seen, &*handler));
                }
            })
        };
        Scripted {
            port,
            stop,
            connections,
            seen,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, stop: &AtomicBool, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = first.split_whitespace();
    let line = format!(
        "{} {}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    );
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let request = Seen { line, headers };
    let n = {
        let mut s = seen.lock().unwrap();
        s.push(request.clone());
        s.len() - 1
    };
    let mut conn = conn;
    match handler(&request, n) {
        Reply::Raw(bytes) => {
            let _ = conn.write_all(&bytes);
        }
        Reply::Trickle { head, body, pause } => {
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            for b in body {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(pause);
                if conn.write_all(&[b]).and_then(|_| conn.flush()).is_err() {
                    return;
                }
            }
        }
        Reply::Hang => {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Options with fast retries (1 ms, capped at 20 ms), `max_retries` of them.
pub fn fast(max_retries: u32) -> ClientOptions {
    ClientOptions {
        retry: RetryOptions {
            max_retries,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        },
        timeouts: Timeouts {
            connect: Some(Duration::from_secs(5)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Runs `f` on a thread and waits at most `limit` for it (a generous bound that only catches
/// hangs).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("the call did not return within {limit:?}"))
}
