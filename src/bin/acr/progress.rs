//! Progress bars on stderr, drawn only when stderr is a terminal: one bar for a single blob, or a
//! total and one bar per blob for an image transfer.
//!
//! A blob's bar shows the position in the blob, moved by the adapters [`CountingReader`] (an
//! upload's source: a seek back, to hash first or to resume, moves the bar back) and by
//! [`Meter::set_position`] (a download's progress callback). With `ACR_PROGRESS_EVENTS=1` (a
//! hidden test hook) each
//! move is also printed on stderr as `progress: WHAT POSITION/SIZE`, where no terminal is needed.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use azcontainerregistry::image::{Progress, ProgressFn, ProgressKind};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The hidden variable that prints each progress move on stderr (for tests: no terminal needed).
const EVENTS: &str = "ACR_PROGRESS_EVENTS";

/// The progress of one blob's transfer: a bar (on a terminal) of its position in the blob.
pub struct Meter {
    /// The bar (hidden unless stderr is a terminal).
    bar: ProgressBar,
    /// `upload` or `download`.
    what: &'static str,
    /// Whether each move is printed (`ACR_PROGRESS_EVENTS`).
    events: bool,
}

impl Meter {
    /// A meter labelled `what`, of `size` bytes when known.
    pub fn new(size: Option<u64>, what: &'static str) -> Meter {
        let bar = ProgressBar::with_draw_target(size, draw_target());
        bar.set_style(style(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ));
        bar.set_message(what);
        Meter {
            bar,
            what,
            events: std::env::var_os(EVENTS).is_some_and(|v| v == "1"),
        }
    }

    /// Moves the bar to `position`.
    pub fn set_position(&self, position: u64) {
        if position == self.bar.position() {
            return;
        }
        self.bar.set_position(position);
        if self.events {
            let size = self.bar.length().map_or("?".into(), |l| l.to_string());
            let line = format!("progress: {} {position}/{size}", self.what);
            // a closed stderr must not end the transfer
            let _ = writeln!(io::stderr().lock(), "{line}");
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A source whose reads and seeks move a [`Meter`] to the position reached.
pub struct CountingReader<'a, R> {
    /// The source.
    inner: R,
    /// The meter it moves.
    meter: &'a Meter,
    /// The position in the source.
    position: u64,
}

impl<'a, R> CountingReader<'a, R> {
    /// Counts what is read from `inner`, which starts at position 0.
    pub fn new(inner: R, meter: &'a Meter) -> Self {
        CountingReader {
            inner,
            meter,
            position: 0,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        self.meter.set_position(self.position);
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.position = self.inner.seek(to)?;
        // seeking to the end only measures the source: nothing was transferred
        if !matches!(to, SeekFrom::End(_)) {
            self.meter.set_position(self.position);
        }
        Ok(self.position)
    }
}

/// Runs an image transfer with bars: `transfer` gets the progress callback to pass on. The bars
/// are cleared when it succeeds.
pub fn with_bars<T, E>(transfer: impl FnOnce(Option<ProgressFn>) -> Result<T, E>) -> Result<T, E> {
    let bars = Arc::new(Bars::new());
    let callback = bars.clone();
    let result = transfer(Some(Arc::new(move |p: &Progress| callback.update(p))))?;
    bars.total.finish_and_clear();
    Ok(result)
}

/// Stderr when it is a terminal, else nowhere.
fn draw_target() -> ProgressDrawTarget {
    if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar style from a template (the default style should the template not parse).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// The bars of an image transfer: a total, and one per blob in flight, by digest.
struct Bars {
    /// Draws the bars together.
    multi: MultiProgress,
    /// Bytes and blobs of the whole image.
    total: ProgressBar,
    /// The bar of each blob in flight, by digest.
    per_blob: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// The total bar alone, until blobs start.
    fn new() -> Self {
        let multi = MultiProgress::with_draw_target(draw_target());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(style(
            "total [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ({msg})",
        ));
        Bars {
            multi,
            total,
            per_blob: Mutex::default(),
        }
    }

    /// Moves the total, and adds, advances or clears the bar of the blob reported.
    fn update(&self, p: &Progress) {
        self.total.set_length(p.bytes_total);
        self.total.set_position(p.bytes_done);
        self.total
            .set_message(format!("{}/{} blobs", p.blobs_done, p.blobs_total));
        let key = p.digest.to_string();
        let mut bars = self.per_blob.lock().unwrap_or_else(|e| e.into_inner());
        match p.kind {
            ProgressKind::Started => {
                let bar = self.multi.add(ProgressBar::new(p.size));
                bar.set_style(style("{msg} [{bar:30}] {bytes}/{total_bytes}"));
                bar.set_message(p.digest.hex()[..12].to_string());
                bars.insert(key, bar);
            }
            ProgressKind::Advanced => {
                if let Some(b) = bars.get(&key) {
                    b.set_position(p.transferred);
                }
            }
            _ => {
                if let Some(b) = bars.remove(&key) {
                    b.finish_and_clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_reader_read_twice_counts_the_position_not_the_sum() {
        let meter = Meter::new(Some(1000), "upload");
        let mut r = CountingReader::new(Cursor::new(vec![7u8; 1000]), &meter);
        // what an upload does: measure, hash the whole source, seek back, send it
        assert_eq!(r.seek(SeekFrom::End(0)).unwrap(), 1000);
        r.seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(meter.bar.position(), 0);
        io::copy(&mut r, &mut io::sink()).unwrap();
        r.seek(SeekFrom::Start(0)).unwrap();
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert_eq!(meter.bar.position(), 1000);
    }
}
