//! Parallel ranged downloads of one blob ([`ParallelOptions`](crate::ParallelOptions)).
//!
//! The first answer of a download (a `GET` without `Range`, or `Range: bytes={start}-` when
//! resuming) tells the blob's length and where the bytes are served (ACR's redirect to blob
//! storage): no `HEAD` is sent. When the blob is large enough, that first response becomes the
//! *head stream*: it delivers the first chunk, timed (the time spent waiting for its bytes, not
//! for the caller to take them: a slow disk is no reason to fan out). When that chunk came
//! faster than `fan_out_below` (one stream is enough: loopback, a fast LAN), the head stream
//! simply carries on. Otherwise worker threads fetch the next chunks as byte ranges from the URL
//! the first answer came from (a storage origin gets no credentials). The consumer reads the
//! chunks strictly in order, so the caller hashes every byte exactly once; a worker takes chunk
//! `i` only while `i` is less than `connections` chunks ahead of the chunk being read, so at most
//! `connections` chunks are held in memory.
//!
//! Only one worker asks first: when the registry answers it with `200` (it ignores `Range`), the
//! workers stop and the head stream simply carries on as a single stream. A range whose
//! connection drops is asked again from the byte it reached (up to [`MAX_FAILURES`] failures
//! without progress); a `206` that starts elsewhere or runs past the range asked is refused; a
//! shorter one is completed by asking for the rest. A `403` from a storage origin (its pre-signed
//! URL expired) is resolved again through the registry, once per range.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::range::{ContentRange, range_header};
use crate::digest::error_to_io;
use crate::error::{Error, Result};
use crate::http::{Method, Request, Response, Url, retry_delay};
use crate::pipeline::Pipeline;

/// Failures of one range without a byte of progress in between before the download fails.
const MAX_FAILURES: u32 = 5;

type BodyReader = Box<dyn Read + Send>;

/// Where and what to fetch.
struct Plan {
    pipeline: Pipeline,
    /// The blob's URL at the registry (asked again when a storage URL expired).
    registry_url: Url,
    scope: String,
    /// First byte of chunk 0.
    start: u64,
    total: u64,
    chunk: u64,
    connections: usize,
    chunks: u64,
}

impl Plan {
    fn range(&self, idx: u64) -> std::ops::Range<u64> {
        let a = self.start + idx * self.chunk;
        a..(a + self.chunk).min(self.total)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ranges {
    Unknown,
    Honoured,
    Ignored,
}

struct State {
    /// Where ranges are asked for (the first answer's URL, or a re-resolved one).
    url: Url,
    next_assign: u64,
    /// The chunk the consumer is reading.
    reading: u64,
    ready: BTreeMap<u64, Vec<u8>>,
    ranges: Ranges,
    probing: bool,
    error: Option<io::Error>,
    closed: bool,
    /// Drained chunk buffers, reused: allocator arenas of several threads would otherwise keep
    /// freed chunks resident.
    spare: Vec<Vec<u8>>,
}

struct Shared {
    plan: Plan,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(g).unwrap_or_else(|p| p.into_inner())
    }
}

/// Turns the first answer of a download into the body to read: the response itself, or, for a
/// blob above the threshold whose length is known, a [`Ranged`] reader over several connections.
/// `start` is the offset the answer starts at, `total` the blob's length when announced.
pub(crate) fn body(
    pipeline: &Pipeline,
    registry_url: &Url,
    scope: &str,
    resp: Response,
    start: u64,
    total: Option<u64>,
) -> BodyReader {
    let options = pipeline.parallel();
    let connections = options.connections();
    let chunk = options.chunk();
    let Some(total) = total else {
        return Box::new(resp.into_reader());
    };
    let rest = total.saturating_sub(start);
    if connections < 2 || rest <= options.threshold.max(chunk) {
        return Box::new(resp.into_reader());
    }
    let url = resp.url.clone();
    let plan = Plan {
        pipeline: pipeline.clone(),
        registry_url: registry_url.clone(),
        scope: scope.to_string(),
        start,
        total,
        chunk,
        connections,
        chunks: rest.div_ceil(chunk),
    };
    let head_left = plan.range(0).end - start;
    let shared = Arc::new(Shared {
        plan,
        state: Mutex::new(State {
            url,
            next_assign: 1,
            reading: 0,
            ready: BTreeMap::new(),
            ranges: Ranges::Unknown,
            probing: false,
            error: None,
            closed: false,
            spare: Vec::new(),
        }),
        changed: Condvar::new(),
    });
    Box::new(Ranged {
        shared,
        head: Some(Box::new(resp.into_reader())),
        head_left,
        waited: Duration::ZERO,
        fan_out_below: options.fan_out_below,
        fanned_out: false,
        single: false,
        cur: Vec::new(),
        cur_pos: 0,
    })
}

fn worker(shared: &Shared) {
    let plan = &shared.plan;
    loop {
        let idx = {
            let mut st = shared.lock();
            loop {
                if st.closed || st.error.is_some() || st.next_assign >= plan.chunks {
                    return;
                }
                let may_ask = match st.ranges {
                    Ranges::Honoured => true,
                    Ranges::Unknown => !st.probing,
                    Ranges::Ignored => return,
                };
                if may_ask && st.next_assign < st.reading + plan.connections as u64 {
                    break;
                }
                st = shared.wait(st);
            }
            if st.ranges == Ranges::Unknown {
                st.probing = true;
            }
            st.next_assign += 1;
            st.next_assign - 1
        };
        let outcome = fetch(shared, idx);
        let mut st = shared.lock();
        match outcome {
            Ok(Some(bytes)) => {
                st.ranges = Ranges::Honoured;
                st.ready.insert(idx, bytes);
            }
            Ok(None) => st.ranges = Ranges::Ignored,
            Err(e) => {
                if st.error.is_none() {
                    st.error = Some(error_to_io(e));
                }
            }
        }
        shared.changed.notify_all();
        if st.ranges == Ranges::Ignored || st.error.is_some() {
            return;
        }
    }
}

/// Fetches chunk `idx`; `None` when the registry ignored `Range` (answered 200).
fn fetch(shared: &Shared, idx: u64) -> Result<Option<Vec<u8>>> {
    let plan = &shared.plan;
    let range = plan.range(idx);
    let want = (range.end - range.start) as usize;
    let mut buf = shared.lock().spare.pop().unwrap_or_default();
    buf.clear();
    buf.reserve_exact(want);
    let mut failures = 0;
    let mut resolved = false;
    let mut via_registry = false;
    while (buf.len() as u64) < range.end - range.start {
        if shared.lock().closed {
            return Err(Error::Io(io::Error::other("download abandoned")));
        }
        let pos = range.start + buf.len() as u64;
        let url = if via_registry {
            plan.registry_url.clone()
        } else {
            shared.lock().url.clone()
        };
        let req = Request::new(Method::GET, url.clone())
            .header("Range", range_header(&(pos..range.end)))
            .scope(plan.scope.clone());
        let resp = match plan.pipeline.send(req) {
            Ok(r) => r,
            Err(e) if e.is_transport() => {
                failed(plan, &mut failures, e, pos)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if via_registry {
            // the registry's answer (after its redirect) names the new storage URL
            via_registry = false;
            shared.lock().url = resp.url.clone();
        }
        match resp.status {
            206 => {}
            200 if pos == range.start && idx > 0 => {
                let honoured = shared.lock().ranges == Ranges::Honoured;
                if honoured {
                    return Err(Error::decode(
                        "blob range response",
                        "the registry stopped honouring Range (200)",
                    ));
                }
                return Ok(None);
            }
            403 | 401 if !resolved && url.origin() != plan.registry_url.origin() => {
                log::info!(
                    "the storage URL was refused ({}); asking the registry again",
                    resp.status
                );
                resolved = true;
                via_registry = true;
                continue;
            }
            _ => return Err(resp.into_error()),
        }
        let cr = resp
            .header("content-range")
            .and_then(ContentRange::parse)
            .ok_or_else(|| {
                Error::decode("blob range response", "206 without a valid Content-Range")
            })?;
        if cr.range.start != pos || cr.range.end > range.end || cr.is_empty() {
            return Err(Error::decode(
                "blob range response",
                format!("asked for bytes {pos}..{}, got {:?}", range.end, cr.range),
            ));
        }
        if cr.total.is_some_and(|t| t != plan.total) {
            return Err(Error::SizeMismatch {
                what: "blob (length changed between requests)",
                expected: plan.total,
                actual: cr.total.unwrap_or_default(),
            });
        }
        let before = buf.len();
        let mut body = resp.into_reader().take(cr.len());
        let read = body.read_to_end(&mut buf);
        let got = (buf.len() - before) as u64;
        if got > 0 {
            failures = 0;
        }
        match read {
            Ok(_) if got == cr.len() => {}
            Ok(_) => {
                let e = io::Error::new(io::ErrorKind::UnexpectedEof, "range ended early");
                failed(plan, &mut failures, Error::Io(e), pos + got)?;
            }
            Err(e) => failed(plan, &mut failures, Error::Io(e), pos + got)?,
        }
    }
    Ok(Some(buf))
}

/// Counts a failure and waits before the next attempt; `Err` once the budget is spent.
fn failed(plan: &Plan, failures: &mut u32, e: Error, pos: u64) -> Result<()> {
    *failures += 1;
    if *failures > MAX_FAILURES {
        return Err(e);
    }
    log::info!("blob range interrupted at byte {pos} ({e}); asking again");
    let delay = retry_delay(plan.pipeline.retry_options(), *failures, None);
    std::thread::sleep(delay);
    Ok(())
}

/// The consumer side: the chunks in order. Dropping it stops the workers.
struct Ranged {
    shared: Arc<Shared>,
    /// The first answer, serving chunk 0 (and everything when ranges are ignored).
    head: Option<BodyReader>,
    head_left: u64,
    /// Time spent waiting for the head stream's bytes (not for the caller to take them): how
    /// fast chunk 0 came decides whether to fan out.
    waited: Duration,
    fan_out_below: u64,
    fanned_out: bool,
    /// Ranges are ignored, or one stream is fast enough: the head stream carries the whole blob.
    single: bool,
    cur: Vec<u8>,
    cur_pos: usize,
}

impl Ranged {
    /// Reads from the head stream; on failure, fetches the rest of chunk 0 as a range.
    fn read_head(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(head) = self.head.as_mut() else {
            return Ok(0);
        };
        if self.single {
            return head.read(buf);
        }
        let want = buf.len().min(self.head_left as usize);
        let t = Instant::now();
        let read = head.read(&mut buf[..want]);
        self.waited += t.elapsed();
        match read {
            Ok(0) | Err(_) => {
                // the head connection failed: ask for the rest of chunk 0 as a range
                self.head = None;
                let plan = &self.shared.plan;
                let chunk0 = plan.range(0);
                let from = chunk0.end - self.head_left;
                let shared = Shared {
                    plan: Plan {
                        pipeline: plan.pipeline.clone(),
                        registry_url: plan.registry_url.clone(),
                        scope: plan.scope.clone(),
                        start: from,
                        total: plan.total,
                        chunk: self.head_left,
                        connections: 1,
                        chunks: 1,
                    },
                    state: Mutex::new(State {
                        url: self.shared.lock().url.clone(),
                        next_assign: 0,
                        reading: 0,
                        ready: BTreeMap::new(),
                        ranges: Ranges::Honoured,
                        probing: false,
                        error: None,
                        closed: false,
                        spare: Vec::new(),
                    }),
                    changed: Condvar::new(),
                };
                self.cur = fetch(&shared, 0).map_err(error_to_io)?.unwrap_or_default();
                self.cur_pos = 0;
                self.head_left = 0;
                Ok(0)
            }
            Ok(n) => {
                self.head_left -= n as u64;
                Ok(n)
            }
        }
    }
}

impl Ranged {
    /// Starts the workers.
    fn fan_out(&mut self) {
        self.fanned_out = true;
        let plan = &self.shared.plan;
        for _ in 1..plan.connections.min(plan.chunks as usize) {
            let s = self.shared.clone();
            std::thread::spawn(move || worker(&s));
        }
        log::debug!(
            "downloading {} bytes in {} ranges over {} connections",
            plan.total - plan.start,
            plan.chunks,
            plan.connections
        );
    }
}

impl Read for Ranged {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.cur_pos < self.cur.len() {
                let n = buf.len().min(self.cur.len() - self.cur_pos);
                buf[..n].copy_from_slice(&self.cur[self.cur_pos..self.cur_pos + n]);
                self.cur_pos += n;
                return Ok(n);
            }
            if self.single || (self.head.is_some() && self.head_left > 0) {
                let n = self.read_head(buf)?;
                if n > 0 || self.single {
                    return Ok(n);
                }
                continue;
            }
            if self.head.is_some() && !self.fanned_out {
                // chunk 0 is read: fan out only when one stream is slow
                let len = self.shared.plan.range(0).end - self.shared.plan.start;
                let rate = len as f64 / self.waited.as_secs_f64().max(1e-6);
                if rate >= self.fan_out_below as f64 {
                    log::debug!(
                        "one stream brings {:.0} MiB/s: staying on it",
                        rate / 1048576.0
                    );
                    self.single = true;
                    continue;
                }
                self.fan_out();
            }
            let shared = self.shared.clone();
            let mut st = shared.lock();
            if self.head.is_some() {
                // chunk 0 is read: keep the head stream only if ranges turn out to be ignored
                while st.ranges == Ranges::Unknown && st.error.is_none() {
                    st = shared.wait(st);
                }
                if st.ranges == Ranges::Ignored {
                    self.single = true;
                    continue;
                }
                self.head = None;
            }
            let next = st.reading + 1;
            if next >= shared.plan.chunks {
                return Ok(0);
            }
            loop {
                if let Some(bytes) = st.ready.remove(&next) {
                    st.reading = next;
                    shared.changed.notify_all();
                    let old = std::mem::replace(&mut self.cur, bytes);
                    if old.capacity() > 0 {
                        st.spare.push(old);
                    }
                    drop(st);
                    self.cur_pos = 0;
                    break;
                }
                if let Some(e) = st.error.take() {
                    st.closed = true;
                    shared.changed.notify_all();
                    return Err(e);
                }
                st = shared.wait(st);
            }
        }
    }
}

impl Drop for Ranged {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.closed = true;
        st.ready.clear();
        st.spare.clear();
        self.shared.changed.notify_all();
    }
}
