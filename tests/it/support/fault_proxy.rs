//! A fault-injecting TCP proxy: 127.0.0.1:<free port> -> target, one pair of std threads per
//! connection.
//!
//! ```ignore
//! let reg = Registry::start();
//! let proxy = FaultProxy::start(reg.host_port());
//! // the next connection to carry 10 000 response bytes is cut there
//! proxy.cut_downstream_after(10_000, 1);
//! // ... point the client at proxy.url() ...
//! assert_eq!(proxy.cuts(), 1);
//! ```
//!
//! # Byte counting is per connection
//! A fault counts the bytes forwarded **on one connection, in one direction**: upstream = client ->
//! server (requests), downstream = server -> client (responses). HTTP clients keep connections
//! alive, so that count covers every request/response that went over the connection, headers
//! included, not one body. Bytes are counted from the moment the fault was armed (or from the
//! connection's start, if later), so a pooled connection opened earlier starts at 0 when
//! [`FaultProxy::cut_downstream_after`] is called. To put the cut inside a given response body, arm
//! the fault right before the request that should fail.
//!
//! `cut_*_after(n, times)`: the first `times` connections whose count reaches `n` bytes are cut
//! right after exactly `n` bytes went through in that direction (the rest of the chunk is dropped);
//! later connections pass untouched. A connection that closes before reaching `n` does not use up a
//! cut. Calling it again re-arms (replaces) the fault for that direction and restarts all counts.
//!
//! Cutting shuts down both sockets (client and server side, read and write): the client sees EOF
//! (FIN, not RST) in the middle of the message, the server sees the connection go away.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// client -> server (requests)
    Upstream,
    /// server -> client (responses)
    Downstream,
}

#[derive(Clone, Copy, Debug, Default)]
struct Fault {
    after: u64,
    times: usize,
    /// Bumped on every (re-)arm; a pump resets its count when it sees a new epoch.
    epoch: u64,
}

#[derive(Default)]
struct Faults {
    up: Fault,
    down: Fault,
    epochs: u64,
}

impl Faults {
    fn get(&mut self, d: Direction) -> &mut Fault {
        match d {
            Direction::Upstream => &mut self.up,
            Direction::Downstream => &mut self.down,
        }
    }
}

#[derive(Default)]
struct Shared {
    faults: Mutex<Faults>,
    connections: AtomicUsize,
    active: AtomicUsize,
    cuts: AtomicUsize,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    /// Sockets of live connections, shut down on drop so pump threads end.
    sockets: Mutex<Vec<(usize, TcpStream, TcpStream)>>,
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The proxy; its listener thread exits and all live connections are shut down on drop.
pub struct FaultProxy {
    addr: SocketAddr,
    target: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1:<free port>, forwarding every connection to `target` (e.g.
    /// `reg.host_port()`).
    pub fn start(target: impl ToSocketAddrs) -> FaultProxy {
        let target = target
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("fault proxy: bad target address: {e}"))
            .next()
            .unwrap_or_else(|| panic!("fault proxy: target resolves to no address"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("fault proxy: cannot bind 127.0.0.1:0: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("fault proxy: set_nonblocking: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fault proxy: local_addr: {e}"));
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name(format!("fault-proxy-{}", addr.port()))
                .spawn(move || accept_loop(listener, target, shared, stop))
                .unwrap_or_else(|e| panic!("fault proxy: cannot spawn thread: {e}"))
        };
        FaultProxy {
            addr,
            target,
            shared,
            stop,
            thread: Some(thread),
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

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Cut the next `times` connections after exactly `n_bytes` server -> client (see the module
    /// doc).
    pub fn cut_downstream_after(&self, n_bytes: u64, times: usize) {
        self.arm(Direction::Downstream, n_bytes, times);
    }

    /// Cut the next `times` connections after exactly `n_bytes` client -> server (see the module
    /// doc).
    pub fn cut_upstream_after(&self, n_bytes: u64, times: usize) {
        self.arm(Direction::Upstream, n_bytes, times);
    }

    pub fn arm(&self, direction: Direction, n_bytes: u64, times: usize) {
        let mut f = self.shared.faults();
        f.epochs += 1;
        let epoch = f.epochs;
        *f.get(direction) = Fault {
            after: n_bytes,
            times,
            epoch,
        };
    }

    /// Disarms both directions.
    pub fn clear_faults(&self) {
        self.arm(Direction::Upstream, 0, 0);
        self.arm(Direction::Downstream, 0, 0);
    }

    /// Cuts armed but not yet done in `direction`.
    pub fn pending_cuts(&self, direction: Direction) -> usize {
        self.shared.faults().get(direction).times
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections currently open.
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Cuts done so far (both directions).
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Bytes forwarded client -> server so far (all connections).
    pub fn bytes_upstream(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::SeqCst)
    }

    /// Bytes forwarded server -> client so far (all connections).
    pub fn bytes_downstream(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let sockets = std::mem::take(
            &mut *self
                .shared
                .sockets
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for (_, c, s) in sockets {
            let _ = c.shutdown(Shutdown::Both);
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let id = shared.connections.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                let server = match TcpStream::connect_timeout(&target, Duration::from_secs(5)) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                if let Err(e) = start_pumps(id, client, server, &shared) {
                    eprintln!("fault proxy: cannot start connection {id}: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn start_pumps(
    id: usize,
    client: TcpStream,
    server: TcpStream,
    shared: &Arc<Shared>,
) -> std::io::Result<()> {
    shared
        .sockets
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((id, client.try_clone()?, server.try_clone()?));
    // Two pumps; the last one to finish closes the books on this connection.
    shared.active.fetch_add(1, Ordering::SeqCst);
    let remaining = Arc::new(AtomicUsize::new(2));
    let spawn = |dir: Direction, from: TcpStream, to: TcpStream, a: TcpStream, b: TcpStream| {
        let shared = Arc::clone(shared);
        let remaining = Arc::clone(&remaining);
        std::thread::Builder::new()
            .name(format!("fault-proxy-conn-{id}-{dir:?}"))
            .spawn(move || {
                pump(dir, from, to, (&a, &b), &shared);
                if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                    shared
                        .sockets
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .retain(|(i, _, _)| *i != id);
                }
            })
    };
    spawn(
        Direction::Upstream,
        client.try_clone()?,
        server.try_clone()?,
        client.try_clone()?,
        server.try_clone()?,
    )?;
    spawn(
        Direction::Downstream,
        server.try_clone()?,
        client.try_clone()?,
        client,
        server,
    )?;
    Ok(())
}

/// Copies `from` -> `to`; `both` = (client, server) for cutting.
fn pump(
    dir: Direction,
    mut from: TcpStream,
    mut to: TcpStream,
    both: (&TcpStream, &TcpStream),
    shared: &Shared,
) {
    use std::io::{Read, Write};
    let counter = match dir {
        Direction::Upstream => &shared.bytes_up,
        Direction::Downstream => &shared.bytes_down,
    };
    let cut = || {
        let _ = both.0.shutdown(Shutdown::Both);
        let _ = both.1.shutdown(Shutdown::Both);
    };
    let mut buf = vec![0u8; 32 * 1024];
    let mut epoch = 0u64;
    let mut count = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                // EOF (or error) on this side: pass the half-close on.
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        // Decide under the lock how much of this chunk may go through.
        let mut forward = n;
        let mut cut_now = false;
        {
            let mut faults = shared.faults();
            let f = faults.get(dir);
            if f.times > 0 {
                if f.epoch != epoch {
                    epoch = f.epoch;
                    count = 0;
                }
                if count + n as u64 >= f.after {
                    forward = (f.after - count) as usize;
                    cut_now = true;
                    f.times -= 1;
                } else {
                    count += n as u64;
                }
            }
        }
        if forward > 0 {
            if to.write_all(&buf[..forward]).is_err() {
                cut();
                return;
            }
            counter.fetch_add(forward as u64, Ordering::SeqCst);
        }
        if cut_now {
            let _ = to.flush();
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            cut();
            return;
        }
    }
}
