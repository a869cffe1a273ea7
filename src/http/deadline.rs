//! Time limits beyond ureq's own: the whole-call deadline of small requests
//! ([`Timeouts::total`](crate::Timeouts::total)) and the minimum-progress rule of blob transfers
//! ([`Timeouts::min_progress`](crate::Timeouts::min_progress)).
//!
//! The deadline is handed to ureq as the request's global timeout, which also bounds the reading of
//! the body; retries must fit in what remains. The progress rule wraps the body readers: a
//! download counts the time spent inside its reads (waiting for the network), an upload the time
//! spent outside them (ureq writing to the network), so a slow caller never trips it.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::options::MinProgress;

/// When a call must be over, if ever.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// A deadline `limit` from now (`None`: none).
    pub(crate) fn after(limit: Option<Duration>) -> Self {
        Deadline(limit.and_then(|l| Instant::now().checked_add(l)))
    }

    /// Time left; `None` without a deadline, zero once it has passed.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// True when `wait` still fits before the deadline.
    pub(crate) fn allows(&self, wait: Duration) -> bool {
        self.remaining().is_none_or(|left| wait < left)
    }
}

/// Counts bytes against the minimum-progress rule.
#[derive(Debug)]
struct Meter {
    rule: MinProgress,
    moved: u64,
    spent: Duration,
    /// The redacted URL, for the error.
    url: String,
}

impl Meter {
    fn record(&mut self, n: usize, spent: Duration) -> io::Result<()> {
        self.moved = self.moved.saturating_add(n as u64);
        self.spent += spent;
        if self.spent < self.rule.window {
            return Ok(());
        }
        if self.moved < self.rule.bytes {
            let message = format!(
                "the transfer moved {} bytes in {:?}, less than the minimum of {} bytes per {:?} \
                 (Timeouts::min_progress)",
                self.moved, self.spent, self.rule.bytes, self.rule.window
            );
            let e = Error::Timeout {
                url: self.url.clone(),
                message,
            };
            return Err(io::Error::new(io::ErrorKind::TimedOut, e));
        }
        self.moved = 0;
        self.spent = Duration::ZERO;
        Ok(())
    }
}

/// A response body held to the minimum-progress rule (time inside reads counts).
pub(crate) struct DownloadProgress<R> {
    inner: R,
    meter: Meter,
}

impl<R: Read> DownloadProgress<R> {
    pub(crate) fn new(inner: R, rule: MinProgress, url: String) -> Self {
        DownloadProgress {
            inner,
            meter: Meter {
                rule,
                moved: 0,
                spent: Duration::ZERO,
                url,
            },
        }
    }
}

impl<R: Read> Read for DownloadProgress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let started = Instant::now();
        let n = self.inner.read(buf)?;
        if n == 0 || buf.is_empty() {
            return Ok(n); // the end arrived: the transfer is over
        }
        self.meter.record(n, started.elapsed())?;
        Ok(n)
    }
}

/// A request body held to the minimum-progress rule: the time between two reads (ureq sending
/// what it read) counts, the time inside a read (the caller's source) does not.
pub(crate) struct UploadProgress<'a> {
    inner: &'a mut dyn Read,
    meter: Meter,
    returned: Option<Instant>,
}

impl<'a> UploadProgress<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read, rule: MinProgress, url: String) -> Self {
        UploadProgress {
            inner,
            meter: Meter {
                rule,
                moved: 0,
                spent: Duration::ZERO,
                url,
            },
            returned: None,
        }
    }
}

impl Read for UploadProgress<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let sending = self.returned.map(|at| at.elapsed()).unwrap_or_default();
        // what ureq sent since the last read counts against the time it took
        self.meter.record(0, sending)?;
        let n = self.inner.read(buf)?;
        self.meter.moved = self.meter.moved.saturating_add(n as u64);
        self.returned = Some(Instant::now());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields one byte per read, sleeping `pause` first.
    struct Trickle {
        left: usize,
        pause: Duration,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 || buf.is_empty() {
                return Ok(0);
            }
            std::thread::sleep(self.pause);
            self.left -= 1;
            buf[0] = b'x';
            Ok(1)
        }
    }

    fn rule(bytes: u64, window_ms: u64) -> MinProgress {
        MinProgress {
            bytes,
            window: Duration::from_millis(window_ms),
        }
    }

    #[test]
    fn a_trickling_download_is_abandoned_and_a_fast_one_is_not() {
        let slow = Trickle {
            left: 1000,
            pause: Duration::from_millis(10),
        };
        let mut r = DownloadProgress::new(slow, rule(100, 50), "u".into());
        let e = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let inner = crate::digest::io_to_error(e);
        assert!(matches!(inner, Error::Timeout { .. }), "{inner:?}");
        assert!(inner.to_string().contains("min_progress"), "{inner}");

        let fast = io::repeat(7).take(1 << 20);
        let mut r = DownloadProgress::new(fast, rule(1, 1), "u".into());
        assert_eq!(io::copy(&mut r, &mut io::sink()).unwrap(), 1 << 20);
    }

    #[test]
    fn an_upload_does_not_count_the_callers_slowness() {
        // a slow source, read at once by a fast sender: no time outside the reads
        let mut slow = Trickle {
            left: 20,
            pause: Duration::from_millis(10),
        };
        let mut r = UploadProgress::new(&mut slow, rule(1000, 50), "u".into());
        assert_eq!(io::copy(&mut r, &mut io::sink()).unwrap(), 20);
        // a fast source and a slow network (pauses between reads)
        let mut fast = io::repeat(1).take(1000);
        let mut r = UploadProgress::new(&mut fast, rule(100, 50), "u".into());
        let mut buf = [0u8; 1];
        let e = (0..1000)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(10));
                r.read(&mut buf).err()
            })
            .expect("the slow sender was not abandoned");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn deadlines() {
        assert!(Deadline::after(None).allows(Duration::MAX));
        let d = Deadline::after(Some(Duration::from_secs(60)));
        assert!(d.allows(Duration::from_secs(1)));
        assert!(!d.allows(Duration::from_secs(61)));
        assert_eq!(
            Deadline::after(Some(Duration::ZERO)).remaining(),
            Some(Duration::ZERO)
        );
    }
}
