//! A tiny HTTP/1.1 server serving one blob with `Range`, keep-alive and configurable misbehaviour
//! (ignoring `Range`, short ranges, a corrupt range, a cut range, a redirect to a second server
//! whose pre-signed URLs expire), with a request log. Stops on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub authorization: bool,
    pub status: u16,
}

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Answer every GET with 200 and the whole blob.
    pub ignore_range: bool,
    /// Serve at most this many bytes of a range (a shorter 206).
    pub short: Option<u64>,
    /// Flip the byte at this offset in ranged answers.
    pub corrupt_at: Option<u64>,
    /// Cut the connection once, half-way through the range that starts at this offset.
    pub cut_range_at: Option<u64>,
    /// Registry mode: redirect blob GETs to this base URL plus `?sig=N`.
    pub redirect_to: Option<String>,
    /// Storage mode: a signature is good for this many requests, then 403.
    pub sig_uses: Option<usize>,
    /// Sleep this long after each 64 KiB of a body.
    pub throttle: Option<Duration>,
}

#[derive(Default)]
struct State {
    log: Vec<Logged>,
    cut_done: bool,
    sig: usize,
    sig_used: usize,
    bytes_sent: u64,
}

/// The server.
pub struct BlobServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlobServer {
    pub fn start(blob: Vec<u8>, behaviour: Behaviour) -> BlobServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let blob = Arc::new(blob);
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((s, _)) => {
                            let (blob, b, st, stop) =
                                (blob.clone(), behaviour.clone(), state.clone(), stop.clone());
                            std::thread::spawn(move || serve(s, &blob, &b, &st, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        BlobServer {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Body bytes sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.state.lock().unwrap().bytes_sent
    }

    /// GETs logged.
    pub fn gets(&self) -> usize {
        self.log().iter().filter(|l| l.method == "GET").count()
    }
}

impl Drop for BlobServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn parse_range(h: &str, len: u64) -> Option<(u64, u64)> {
    let r = h.trim().strip_prefix("bytes=")?;
    let (a, b) = r.split_once('-')?;
    let a: u64 = a.parse().ok()?;
    let b: u64 = if b.is_empty() {
        len - 1
    } else {
        b.parse().ok()?
    };
    Some((a, b.min(len - 1) + 1))
}

fn serve(s: TcpStream, blob: &[u8], b: &Behaviour, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut out = match s.try_clone() {
        Ok(o) => o,
        Err(_) => return,
    };
    let mut reader = BufReader::new(s);
    while !stop.load(Ordering::SeqCst) {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let (mut range, mut authorization, mut body_len) = (None, false, 0usize);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                match n.trim().to_ascii_lowercase().as_str() {
                    "range" => range = Some(v.trim().to_string()),
                    "authorization" => authorization = true,
                    "content-length" => body_len = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut sink = vec![0u8; body_len];
        let _ = reader.read_exact(&mut sink);
        let len = blob.len() as u64;
        let mut st = state.lock().unwrap();
        let entry = |status| Logged {
            method: method.clone(),
            path: path.clone(),
            range: range.clone(),
            authorization,
            status,
        };
        if let Some(to) = &b.redirect_to {
            st.log.push(entry(307));
            let sig = st.sig_used;
            st.sig_used += 1;
            drop(st);
            let head = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}/storage/blob?sig={sig}\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        if let Some(uses) = b.sig_uses {
            // storage: only the newest signature works, for `uses` requests
            let sig: usize = path
                .split("sig=")
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(usize::MAX);
            if sig > st.sig || st.sig_used == 0 {
                st.sig = sig;
                st.sig_used = 0;
            }
            st.sig_used += 1;
            if sig != st.sig || st.sig_used > uses {
                st.log.push(entry(403));
                drop(st);
                let _ = out.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
        }
        let ranged = match (&range, b.ignore_range) {
            (Some(r), false) => parse_range(r, len),
            _ => None,
        };
        let (status, start, mut end) = match ranged {
            Some((a, e)) => (206, a, e),
            None => (200, 0, len),
        };
        if let (206, Some(short)) = (status, b.short) {
            end = end.min(start + short);
        }
        st.log.push(entry(status));
        let cut = status == 206 && b.cut_range_at == Some(start) && !st.cut_done && start > 0;
        if cut {
            st.cut_done = true;
        }
        drop(st);
        let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", end - start);
        if status == 206 {
            head.push_str(&format!(
                "Content-Range: bytes {start}-{}/{len}\r\n",
                end - 1
            ));
        }
        head.push_str("\r\n");
        let mut body = blob[start as usize..end as usize].to_vec();
        if let (206, Some(at)) = (status, b.corrupt_at)
            && (start..end).contains(&at)
        {
            body[(at - start) as usize] ^= 0xff;
        }
        if cut {
            body.truncate(body.len() / 2);
        }
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        for piece in body.chunks(64 * 1024) {
            if stop.load(Ordering::SeqCst) || out.write_all(piece).is_err() {
                return;
            }
            state.lock().unwrap().bytes_sent += piece.len() as u64;
            if let Some(t) = b.throttle {
                std::thread::sleep(t);
            }
        }
        if cut {
            let _ = out.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}
