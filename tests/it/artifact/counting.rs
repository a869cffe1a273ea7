//! A proxy that records the request line of every request it forwards: 127.0.0.1:<free port> ->
//! target. It reads request heads only, so it suits body-less requests (GET, HEAD: pulls); a
//! request with a body would be miscounted. Stops (by flag) and joins its threads on drop.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct CountingProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CountingProxy {
    pub fn start(target: String) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("counting proxy: bind");
        listener
            .set_nonblocking(true)
            .expect("counting proxy: nonblocking");
        let port = listener
            .local_addr()
            .expect("counting proxy: address")
            .port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (requests, target) = (Arc::clone(&requests), target.clone());
                            std::thread::spawn(move || forward(client, &target, &requests));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        CountingProxy {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.host_port())
    }

    /// The request lines seen so far (`GET /v2/... HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Forgets the requests seen so far.
    pub fn reset(&self) {
        self.requests.lock().unwrap().clear();
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

fn forward(mut client: TcpStream, target: &str, requests: &Mutex<Vec<String>>) {
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    let (Ok(mut client2), Ok(mut server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut server2, &mut client2);
        let _ = client2.shutdown(Shutdown::Both);
    });
    let mut head = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        head.extend_from_slice(&buf[..n]);
        // every complete head: its first line
        while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..end]).into_owned();
            requests
                .lock()
                .unwrap()
                .push(text.lines().next().unwrap_or("").to_string());
            head.drain(..end + 4);
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = down.join();
}
