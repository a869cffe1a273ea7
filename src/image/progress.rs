//! Progress reporting for whole-image transfers: one callback, called from the transfer threads.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::digest::Digest;

/// What happened to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressKind {
    /// The transfer of a blob started.
    Started,
    /// More bytes of a blob moved.
    Advanced,
    /// A blob was transferred completely.
    Finished,
    /// A blob was not transferred: it was already there, or was mounted from another repository.
    Skipped,
}

/// One progress report. `transferred` counts this blob's bytes so far; the totals cover the whole
/// image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// What happened.
    pub kind: ProgressKind,
    /// The blob.
    pub digest: Digest,
    /// The blob's size.
    pub size: u64,
    /// Bytes of this blob moved so far.
    pub transferred: u64,
    /// Blobs finished or skipped so far.
    pub blobs_done: usize,
    /// Blobs in the image.
    pub blobs_total: usize,
    /// Bytes moved so far, all blobs (skipped blobs count as moved).
    pub bytes_done: u64,
    /// Bytes in all blobs of the image.
    pub bytes_total: u64,
}

/// The progress callback: called from several threads, keep it quick.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Shared counters of one transfer.
pub(crate) struct Tracker {
    callback: Option<ProgressFn>,
    blobs_total: usize,
    bytes_total: u64,
    blobs_done: AtomicUsize,
    bytes_done: AtomicU64,
}

impl Tracker {
    pub(crate) fn new(callback: Option<ProgressFn>, blobs_total: usize, bytes_total: u64) -> Self {
        Tracker {
            callback,
            blobs_total,
            bytes_total,
            blobs_done: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
        }
    }

    fn emit(&self, kind: ProgressKind, digest: &Digest, size: u64, transferred: u64) {
        if let Some(cb) = &self.callback {
            cb(&Progress {
                kind,
                digest: digest.clone(),
                size,
                transferred,
                blobs_done: self.blobs_done.load(Ordering::SeqCst),
                blobs_total: self.blobs_total,
                bytes_done: self.bytes_done.load(Ordering::SeqCst),
                bytes_total: self.bytes_total,
            });
        }
    }

    pub(crate) fn started(&self, digest: &Digest, size: u64) {
        self.emit(ProgressKind::Started, digest, size, 0);
    }

    pub(crate) fn skipped(&self, digest: &Digest, size: u64) {
        self.blobs_done.fetch_add(1, Ordering::SeqCst);
        self.bytes_done.fetch_add(size, Ordering::SeqCst);
        self.emit(ProgressKind::Skipped, digest, size, size);
    }

    pub(crate) fn finished(&self, digest: &Digest, size: u64) {
        self.blobs_done.fetch_add(1, Ordering::SeqCst);
        self.emit(ProgressKind::Finished, digest, size, size);
    }

    /// Wraps a blob's destination so that every write reports progress.
    pub(crate) fn writer<'a, W: Write>(
        &'a self,
        inner: W,
        digest: &'a Digest,
        size: u64,
    ) -> CountingWriter<'a, W> {
        CountingWriter {
            inner,
            tracker: self,
            digest,
            size,
            transferred: 0,
        }
    }

    /// Reports `n` more bytes of a blob, `transferred` in all.
    pub(crate) fn advanced(&self, digest: &Digest, size: u64, transferred: u64, n: usize) {
        self.bytes_done.fetch_add(n as u64, Ordering::SeqCst);
        self.emit(ProgressKind::Advanced, digest, size, transferred);
    }

    /// Wraps a blob's stream so that every read reports progress.
    pub(crate) fn reader<'a, R: Read>(
        &'a self,
        inner: R,
        digest: &'a Digest,
        size: u64,
    ) -> CountingReader<'a, R> {
        CountingReader {
            inner,
            tracker: self,
            digest,
            size,
            transferred: 0,
        }
    }
}

/// A reader that reports the bytes it yields.
pub(crate) struct CountingReader<'a, R> {
    inner: R,
    tracker: &'a Tracker,
    digest: &'a Digest,
    size: u64,
    transferred: u64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.transferred += n as u64;
            self.tracker
                .advanced(self.digest, self.size, self.transferred, n);
        }
        Ok(n)
    }
}

/// A writer that reports the bytes written through it.
pub(crate) struct CountingWriter<'a, W> {
    inner: W,
    tracker: &'a Tracker,
    digest: &'a Digest,
    size: u64,
    transferred: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if n > 0 {
            self.transferred += n as u64;
            self.tracker
                .advanced(self.digest, self.size, self.transferred, n);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: io::Seek> io::Seek for CountingReader<'_, R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        // A resumed upload re-reads bytes: take back what was counted past the new position.
        let at = self.inner.seek(pos)?;
        if at < self.transferred {
            let back = self.transferred - at;
            self.tracker.bytes_done.fetch_sub(back, Ordering::SeqCst);
            self.transferred = at;
        }
        Ok(at)
    }
}
