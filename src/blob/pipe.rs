//! The two-thread pumps of blob transfers, and the buffer pool they share.
//!
//! Moving a blob costs two things of about the same size: the socket (and, on loopback, the
//! kernel's copy into the peer) and the hashing (plus the source or the destination file). On one
//! thread they add up; here they overlap. Buffers of [`PIECE`] bytes circulate between a filling
//! thread and a draining thread, at most `pool` of them in flight, so memory does not grow with the
//! blob:
//!
//! - [`read_ahead`] (downloads): a helper thread reads the response into buffers while the caller's
//!   thread hashes and writes them.
//! - [`write_behind`] (uploads): the caller's thread reads and hashes the source into buffers while
//!   a helper thread sends the request whose body they are. The source therefore never has to be
//!   `Send`.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};

use crate::digest::io_to_error;
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Response, Url};
use crate::pipeline::Pipeline;

/// Size of one buffer.
pub(crate) const PIECE: usize = 256 * 1024;

type Piece = io::Result<(Vec<u8>, usize)>;

/// The filling side of a pool.
struct Filler {
    full: SyncSender<Piece>,
    empty: Receiver<Vec<u8>>,
    allocated: usize,
    pool: usize,
}

/// The draining side of a pool.
struct Drainer {
    full: Receiver<Piece>,
    empty: Sender<Vec<u8>>,
}

fn pool(size: usize) -> (Filler, Drainer) {
    let (full_tx, full_rx) = mpsc::sync_channel(size);
    let (empty_tx, empty_rx) = mpsc::channel();
    (
        Filler {
            full: full_tx,
            empty: empty_rx,
            allocated: 0,
            pool: size,
        },
        Drainer {
            full: full_rx,
            empty: empty_tx,
        },
    )
}

impl Filler {
    /// An empty buffer: a returned one, a new one while the pool is not full, else the next one
    /// returned. `None` once the draining side is gone.
    fn buffer(&mut self) -> Option<Vec<u8>> {
        match self.empty.try_recv() {
            Ok(b) => Some(b),
            Err(TryRecvError::Empty) if self.allocated < self.pool => {
                self.allocated += 1;
                Some(vec![0u8; PIECE])
            }
            Err(TryRecvError::Empty) => self.empty.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        }
    }

    /// Hands the first `n` bytes of `buf` over; false once the draining side is gone.
    fn send(&self, buf: Vec<u8>, n: usize) -> bool {
        self.full.send(Ok((buf, n))).is_ok()
    }

    /// Tells the draining side that filling failed.
    fn fail(&self, e: io::Error) {
        let _ = self.full.send(Err(e));
    }
}

impl Drainer {
    /// The next buffer and how many of its bytes count; `None` once the filling side is done.
    fn recv(&self) -> Option<Piece> {
        self.full.recv().ok()
    }

    /// Returns a drained buffer to the pool.
    fn give_back(&self, buf: Vec<u8>) {
        let _ = self.empty.send(buf);
    }
}

/// The draining side as a request body.
struct DrainReader {
    drainer: Drainer,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
}

impl Read for DrainReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.len {
                let n = buf.len().min(self.len - self.pos);
                buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if !self.cur.is_empty() {
                self.drainer.give_back(std::mem::take(&mut self.cur));
            }
            match self.drainer.recv() {
                Some(Ok((b, n))) => (self.cur, self.len, self.pos) = (b, n, 0),
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
    }
}

/// Fills `buf` from `read` until it is full or the stream ends (retrying `Interrupted`); returns
/// how many bytes it holds.
fn fill(buf: &mut [u8], read: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads `source` to its end on a helper thread, handing each piece to `drain` on this one, with
/// at most `pool` pieces in flight. Returns the bytes drained. A read error ends it (as the crate
/// error it carries, see [`io_to_error`]); so does an error from `drain`.
pub(crate) fn read_ahead(
    source: &mut (dyn Read + Send),
    pool_size: usize,
    drain: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    std::thread::scope(|s| {
        let (mut filler, drainer) = pool(pool_size);
        let reader = s.spawn(move || {
            while let Some(mut buf) = filler.buffer() {
                match fill(&mut buf, &mut |b| source.read(b)) {
                    Ok(n) => {
                        let last = n < buf.len();
                        if !filler.send(buf, n) || last {
                            return;
                        }
                    }
                    Err(e) => return filler.fail(e),
                }
            }
        });
        let mut drained = 0u64;
        let outcome = loop {
            match drainer.recv() {
                Some(Ok((buf, n))) => {
                    if let Err(e) = drain(&buf[..n]) {
                        break Err(e);
                    }
                    drained += n as u64;
                    let last = n < buf.len();
                    drainer.give_back(buf);
                    if last {
                        break Ok(drained);
                    }
                }
                Some(Err(e)) => break Err(io_to_error(e)),
                None => {
                    break Err(Error::Io(io::Error::other(
                        "the reading thread stopped unexpectedly",
                    )));
                }
            }
        };
        drop(drainer); // unblocks the reader if draining stopped early
        if let Err(p) = reader.join() {
            std::panic::resume_unwind(p);
        }
        outcome
    })
}

/// Method, URL, headers and scope of a request whose body [`write_behind`] produces.
pub(crate) struct Head {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub scope: String,
}

/// Why a [`write_behind`] request failed.
pub(crate) enum Failure {
    /// Reading the source failed (or it ended before the announced length): not worth resuming.
    Source(Error),
    /// The request failed: transport, or the registry's answer.
    Transfer(Error),
}

/// Sends `head` with a body of `len` bytes (chunked when `None`) that `produce` yields on this
/// thread, while a helper thread writes it to the socket and hands the response to `handle`.
///
/// `produce(buf)` fills `buf` with the next bytes and returns how many (0 = end). With `len` given
/// it is asked for exactly that many bytes; ending early is a [`Failure::Source`].
pub(crate) fn write_behind<T: Send>(
    pipeline: &Pipeline,
    head: Head,
    len: Option<u64>,
    produce: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
    handle: impl FnOnce(Response) -> Result<T> + Send,
) -> std::result::Result<T, Failure> {
    /// Buffers in flight: 1 MiB.
    const POOL: usize = 4;
    std::thread::scope(|s| {
        let (mut filler, drainer) = pool(POOL);
        let sender = s.spawn(move || -> Result<T> {
            let mut body = DrainReader {
                drainer,
                cur: Vec::new(),
                len: 0,
                pos: 0,
            };
            let mut req = Request::new(head.method, head.url).scope(head.scope);
            for (name, value) in head.headers {
                req = req.header(name, value);
            }
            let result = pipeline.send(req.body(Body::Reader {
                reader: &mut body,
                len,
            }));
            drop(body); // unblocks the producer if the request ended early
            handle(result?)
        });
        let source_error = produce_all(&mut filler, len, produce);
        drop(filler);
        let outcome = match sender.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        };
        match source_error {
            Some(e) => Err(Failure::Source(e)),
            None => outcome.map_err(Failure::Transfer),
        }
    })
}

/// Fills buffers from `produce` until `len` bytes (or the source's end) went to the sending
/// thread; the source's error, if any.
fn produce_all(
    filler: &mut Filler,
    len: Option<u64>,
    produce: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
) -> Option<Error> {
    let aborted = || io::Error::other("upload aborted: reading the source failed");
    let mut remaining = len;
    while remaining != Some(0) {
        let mut buf = filler.buffer()?; // the sending thread is done
        let want = remaining.map_or(PIECE, |r| r.min(PIECE as u64) as usize);
        let n = match fill(&mut buf[..want], produce) {
            Ok(n) => n,
            Err(e) => {
                filler.fail(aborted());
                return Some(io_to_error(e));
            }
        };
        if n == 0 {
            let r = remaining?;
            filler.fail(aborted());
            return Some(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the upload source ended {r} bytes early"),
            )));
        }
        if let Some(r) = remaining.as_mut() {
            *r -= n as u64;
        }
        if !filler.send(buf, n) || (remaining.is_none() && n < want) {
            break; // the sending thread is done, or the source is exhausted
        }
    }
    None
}
