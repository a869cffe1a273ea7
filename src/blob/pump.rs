//! Request bodies produced on the caller's thread and written to the socket on a helper thread.
//!
//! An upload reads its source and hashes every byte; the socket write (and, on loopback, the kernel copy
//! into the peer) costs about as much again. Doing both on one thread adds them up; here the caller's
//! thread reads and hashes into 256 KiB buffers while a scoped helper thread sends the request and writes
//! the buffers out, with at most [`POOL`] buffers (1 MiB) in flight. The source therefore never has to be
//! `Send`, and memory does not grow with the body.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use ureq::http::Method;
use url::Url;

use crate::error::{Error, Result};
use crate::pipeline::{Body, Pipeline, Request, Response};

/// Size of one buffer handed to the sending thread.
pub(crate) const PIECE: usize = 256 * 1024;
/// Buffers in flight.
const POOL: usize = 4;

/// Method, URL, headers and scope of a pumped request (the body is added on the sending thread).
pub(crate) struct Head {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub scope: String,
}

/// Why a pumped request failed.
pub(crate) enum Failure {
    /// Reading the source failed (or it ended before the announced length): not worth resuming.
    Source(Error),
    /// The request failed: transport, or the registry's answer.
    Transfer(Error),
}

type Piece = std::result::Result<(Vec<u8>, usize), ()>;

/// The body as the sending thread sees it.
struct ChannelReader {
    rx: Receiver<Piece>,
    back: Sender<Vec<u8>>,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.len {
                let n = buf.len().min(self.len - self.pos);
                buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if !self.cur.is_empty() {
                let _ = self.back.send(std::mem::take(&mut self.cur));
            }
            match self.rx.recv() {
                Ok(Ok((b, n))) => {
                    self.cur = b;
                    self.len = n;
                    self.pos = 0;
                }
                Ok(Err(())) => {
                    return Err(io::Error::other(
                        "upload aborted: reading the source failed",
                    ));
                }
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Sends `head` with a body of `len` bytes (chunked when `None`) pulled from `produce`, and hands the
/// response to `handle` on the sending thread.
///
/// `produce(buf)` fills `buf` with the next bytes and returns how many (0 = end). With `len` given it is
/// asked for exactly that many bytes; ending early is a [`Failure::Source`].
pub(crate) fn send<T: Send>(
    pipeline: &Pipeline,
    head: Head,
    len: Option<u64>,
    produce: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
    handle: impl FnOnce(Response) -> Result<T> + Send,
) -> std::result::Result<T, Failure> {
    std::thread::scope(|s| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Piece>(POOL);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let sender = s.spawn(move || -> Result<T> {
            let mut reader = ChannelReader {
                rx: full_rx,
                back: empty_tx,
                cur: Vec::new(),
                len: 0,
                pos: 0,
            };
            let mut req = Request::new(head.method, head.url).scope(head.scope);
            for (name, value) in head.headers {
                req = req.header(name, value);
            }
            let result = pipeline.send(req.body(Body::Reader {
                reader: &mut reader,
                len,
            }));
            drop(reader); // unblocks the producer if the request ended early
            handle(result?)
        });

        let mut remaining = len;
        let mut allocated = 0;
        let mut source_error = None;
        loop {
            if remaining == Some(0) {
                break;
            }
            let mut buf = match empty_rx.try_recv() {
                Ok(b) => b,
                Err(TryRecvError::Empty) if allocated < POOL => {
                    allocated += 1;
                    vec![0u8; PIECE]
                }
                Err(TryRecvError::Empty) => match empty_rx.recv() {
                    Ok(b) => b,
                    Err(_) => break, // the sending thread is done
                },
                Err(TryRecvError::Disconnected) => break,
            };
            let want = remaining.map_or(PIECE, |r| r.min(PIECE as u64) as usize);
            let mut n = 0;
            let filled = loop {
                if n == want {
                    break Ok(());
                }
                match produce(&mut buf[n..want]) {
                    Ok(0) => break Ok(()),
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            if let Err(e) = filled {
                source_error = Some(crate::digest::io_to_error(e));
                let _ = full_tx.send(Err(()));
                break;
            }
            if n == 0 {
                if let Some(r) = remaining {
                    source_error = Some(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the upload source ended {r} bytes early"),
                    )));
                    let _ = full_tx.send(Err(()));
                }
                break;
            }
            if let Some(r) = remaining.as_mut() {
                *r -= n as u64;
            }
            if full_tx.send(Ok((buf, n))).is_err() {
                break;
            }
            if remaining.is_none() && n < want {
                break; // the source is exhausted
            }
        }
        drop(full_tx);
        drop(empty_rx);
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
