//! A scriptable, misbehaving HTTP/1.1 server on 127.0.0.1 for the hostile-registry suite.
//!
//! Each [`Hostile`] runs one accept thread and one thread per connection. A connection's requests
//! are read (request line, headers up to 64 KiB, a `Content-Length` or chunked body, drained and
//! counted, never kept beyond 64 KiB), recorded in [`Hostile::requests`], and answered by the
//! case's script: a list of [`Act`]s (raw bytes, trickled bytes, silence, an endless body, a
//! close). After the acts the connection closes unless the script ends with [`Act::KeepAlive`].
//!
//! Every wait watches a stop flag set on drop, and every socket has a read timeout, so no thread
//! outlives its server by more than a fraction of a second, whatever the client does.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest a connection thread waits for anything (longer than any client timeout a case
/// relies on: the client must give up first).
const MAX_HOLD: Duration = Duration::from_secs(300);
/// Bytes an endless body sends at most (it stops earlier when the client hangs up).
const ENDLESS_CAP: u64 = 1 << 30;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Per server, from 0.
    pub index: usize,
    /// The server's own URL (`http://127.0.0.1:PORT`), for links and realms.
    pub origin: String,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes received (drained).
    pub body_len: u64,
    /// The first 64 KiB of the body.
    pub body: Vec<u8>,
}

impl Seen {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does, in order, for one request.
#[derive(Debug, Clone)]
pub enum Act {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Write these bytes `chunk` at a time, sleeping `every` between chunks.
    Trickle {
        bytes: Vec<u8>,
        chunk: usize,
        every: Duration,
    },
    /// Write `byte` repeatedly until the client hangs up (or 1 GiB).
    Endless(u8),
    /// Wait (the client hears nothing).
    Sleep(Duration),
    /// Hold the connection open, silent, until the client hangs up or the server stops.
    Silence,
    /// Keep the connection for the next request instead of closing it.
    KeepAlive,
}

/// A case's script: the acts for each request.
pub type Script = Arc<dyn Fn(&Seen) -> Vec<Act> + Send + Sync>;

/// A running hostile server.
pub struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: Option<JoinHandle<()>>,
}

impl Hostile {
    /// Starts a server answering every request with `script`.
    pub fn start(script: impl Fn(&Seen) -> Vec<Act> + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let counter = Arc::new(AtomicUsize::new(0));
        let accept = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (stop, seen, script, counter) =
                        (stop.clone(), seen.clone(), script.clone(), counter.clone());
                    std::thread::spawn(move || {
                        let origin = format!("http://{addr}");
                        let _ = serve(conn, &origin, &stop, &seen, &script, &counter);
                    });
                }
            })
        };
        Hostile {
            addr,
            stop,
            seen,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    conn: TcpStream,
    origin: &str,
    stop: &AtomicBool,
    seen: &Mutex<Vec<Seen>>,
    script: &Script,
    counter: &AtomicUsize,
) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_millis(200)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    loop {
        let Some(mut req) = read_request(&mut reader, stop)? else {
            return Ok(());
        };
        req.index = counter.fetch_add(1, Ordering::SeqCst);
        req.origin = origin.to_string();
        seen.lock().unwrap().push(req.clone());
        let acts = script(&req);
        let mut keep = false;
        for act in acts {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match act {
                Act::Send(b) => writer.write_all(&b)?,
                Act::Trickle {
                    bytes,
                    chunk,
                    every,
                } => {
                    for piece in bytes.chunks(chunk.max(1)) {
                        writer.write_all(piece)?;
                        writer.flush()?;
                        if !pause(every, stop) {
                            return Ok(());
                        }
                    }
                }
                Act::Endless(byte) => {
                    let block = vec![byte; 64 * 1024];
                    let mut sent = 0u64;
                    while sent < ENDLESS_CAP && !stop.load(Ordering::SeqCst) {
                        writer.write_all(&block)?;
                        sent += block.len() as u64;
                    }
                }
                Act::Sleep(d) => {
                    if !pause(d, stop) {
                        return Ok(());
                    }
                }
                Act::Silence => {
                    writer.flush()?;
                    let start = Instant::now();
                    let mut buf = [0u8; 4096];
                    while start.elapsed() < MAX_HOLD && !stop.load(Ordering::SeqCst) {
                        match reader.read(&mut buf) {
                            Ok(0) => return Ok(()),
                            Ok(_) => {}
                            Err(e) if timed_out(&e) => {}
                            Err(_) => return Ok(()),
                        }
                    }
                    return Ok(());
                }
                Act::KeepAlive => keep = true,
            }
        }
        writer.flush()?;
        if !keep {
            let _ = writer.shutdown(std::net::Shutdown::Write);
            // let the client read what was sent before the socket goes
            let start = Instant::now();
            let mut buf = [0u8; 4096];
            while start.elapsed() < Duration::from_secs(2) {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if timed_out(&e) => {}
                    Err(_) => break,
                }
            }
            return Ok(());
        }
    }
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Sleeps `d` in slices; false when the server stopped meanwhile.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
    !stop.load(Ordering::SeqCst)
}

/// One line (CRLF or LF), waiting through read timeouts until the stop flag or `MAX_HOLD`.
fn read_line(reader: &mut impl BufRead, stop: &AtomicBool, limit: usize) -> io::Result<Vec<u8>> {
    let start = Instant::now();
    let mut line = Vec::new();
    loop {
        if stop.load(Ordering::SeqCst) || start.elapsed() > MAX_HOLD {
            return Err(io::Error::other("stopped"));
        }
        let mut byte = [0u8; 1];
        match reader.read(&mut byte) {
            Ok(0) => return Ok(line),
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' || line.len() > limit {
                    return Ok(line);
                }
            }
            Err(e) if timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

fn read_request(reader: &mut impl BufRead, stop: &AtomicBool) -> io::Result<Option<Seen>> {
    let first = read_line(reader, stop, 64 * 1024)?;
    if first.is_empty() {
        return Ok(None);
    }
    let first = String::from_utf8_lossy(&first).trim().to_string();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut total = 0;
    loop {
        let line = read_line(reader, stop, 64 * 1024)?;
        total += line.len();
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        if line.is_empty() || total > 1 << 20 {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut req = Seen {
        index: 0,
        origin: String::new(),
        method,
        target,
        headers,
        body_len: 0,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let size_line = read_line(reader, stop, 1024)?;
            let size_text = String::from_utf8_lossy(&size_line);
            let size_text = size_text.trim().split(';').next().unwrap_or("");
            let Ok(size) = u64::from_str_radix(size_text, 16) else {
                return Ok(Some(req));
            };
            if size == 0 {
                let _ = read_line(reader, stop, 1024)?;
                break;
            }
            drain(reader, size, &mut req, stop)?;
            let _ = read_line(reader, stop, 1024)?;
        }
    } else if let Some(n) = req
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok())
    {
        drain(reader, n, &mut req, stop)?;
    }
    Ok(Some(req))
}

fn drain(reader: &mut impl Read, n: u64, req: &mut Seen, stop: &AtomicBool) -> io::Result<()> {
    let mut left = n;
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    while left > 0 {
        if stop.load(Ordering::SeqCst) || start.elapsed() > MAX_HOLD {
            return Err(io::Error::other("stopped"));
        }
        let want = buf.len().min(left as usize);
        match reader.read(&mut buf[..want]) {
            Ok(0) => return Ok(()),
            Ok(k) => {
                if req.body.len() < 64 * 1024 {
                    let room = 64 * 1024 - req.body.len();
                    req.body.extend_from_slice(&buf[..k.min(room)]);
                }
                req.body_len += k as u64;
                left -= k as u64;
            }
            Err(e) if timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A whole response: status line, `headers`, `Content-Length` (unless given) and
/// `Connection: close`, then `body`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let mut has_length = false;
    for (k, v) in headers {
        has_length |= k.eq_ignore_ascii_case("content-length");
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !has_length {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// A response as one [`Act`].
pub fn reply(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<Act> {
    vec![Act::Send(response(status, headers, body))]
}

/// A JSON response.
pub fn json(status: u16, body: &str) -> Vec<Act> {
    reply(
        status,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// A registry error body with `code` and `message`.
pub fn registry_error(status: u16, code: &str, message: &str) -> Vec<Act> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    json(status, &body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
