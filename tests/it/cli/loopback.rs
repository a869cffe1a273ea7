//! A tiny HTTP/1.1 server on 127.0.0.1 for the CLI tests that need answers no real registry gives
//! (a million names made on the fly, hostile text, silence): one thread accepting, one thread per
//! connection, one request per connection (`Connection: close`), every request recorded.
//! Stopped (its accept loop woken and joined) on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request as received: method and target (path and query).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
}

/// An answer: status, headers, body. `None` from the handler means: never answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// One more header.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Option<Answer> + Send + Sync;

/// The running server.
pub struct Loopback {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Loopback {
    /// Serves every request with `handler` until dropped.
    pub fn start(handler: impl Fn(&Request) -> Option<Answer> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let (requests, handler) = (requests.clone(), handler.clone());
                    std::thread::spawn(move || serve(stream, &requests, &*handler));
                }
            })
        };
        Loopback {
            port,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records it, writes the handler's answer (or holds the connection open,
/// silent, until the client goes away).
fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: u64 = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let _ = std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink());
    let request = Request { method, target };
    requests.lock().unwrap().push(request.clone());
    let mut stream = stream;
    match handler(&request) {
        Some(a) => {
            let mut head = format!("HTTP/1.1 {} X\r\n", a.status);
            for (k, v) in &a.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                a.body.len()
            ));
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&a.body);
            let _ = stream.flush();
        }
        None => {
            // silent: wait for the client to give up
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        }
    }
}

/// `acr ARGS...` as a command to spawn by hand (for streaming stdout), with the environment the
/// `Acr` runner gives: the CLI's and Azure's variables removed, stdin closed.
pub fn acr_command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Command {
    let mut cmd = std::process::Command::new(crate::support::cli::acr_bin());
    for k in ["ACR_REGISTRY", "ACR_USERNAME", "ACR_PASSWORD", "RUST_LOG"]
        .iter()
        .chain(crate::support::child::SCRUBBED)
    {
        cmd.env_remove(k);
    }
    cmd.args(args).stdin(std::process::Stdio::null());
    cmd
}
