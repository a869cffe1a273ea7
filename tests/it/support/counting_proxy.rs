//! A TCP proxy that records the request line of every HTTP/1.1 request passing through it
//! (keep-alive included), for tests that count round trips. Stops on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct CountingProxy {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CountingProxy {
    /// Listens on 127.0.0.1:<free port>, forwarding to `target` (`host:port`).
    pub fn start(target: &str) -> CountingProxy {
        let target: SocketAddr = target.parse().expect("target address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (lines, stop) = (lines.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((down, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = down.set_nonblocking(false);
                    let Ok(up) = TcpStream::connect(target) else {
                        continue;
                    };
                    let (lines, d2, u2) = (lines.clone(), down.try_clone(), up.try_clone());
                    let (Ok(d2), Ok(u2)) = (d2, u2) else { continue };
                    std::thread::spawn(move || requests(down, up, &lines));
                    std::thread::spawn(move || {
                        let (mut from, mut to) = (u2, d2);
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            })
        };
        CountingProxy {
            addr,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `METHOD PATH` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Copies requests from `down` to `up`, recording each request line.
fn requests(down: TcpStream, mut up: TcpStream, lines: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(down);
    loop {
        let mut head = Vec::new();
        let mut len = 0u64;
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = up.shutdown(Shutdown::Write);
                return;
            }
            if first {
                let mut p = line.split_whitespace();
                let text = format!("{} {}", p.next().unwrap_or(""), p.next().unwrap_or(""));
                lines.lock().unwrap().push(text);
                first = false;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.trim().eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" {
                break;
            }
        }
        if up.write_all(&head).is_err() {
            return;
        }
        let mut body = (&mut reader).take(len);
        if std::io::copy(&mut body, &mut up).is_err() {
            return;
        }
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
