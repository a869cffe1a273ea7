//! Progress bars on stderr, drawn only when stderr is a terminal: one bar for a single blob, or a
//! total and one bar per blob for an image transfer.

use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::sync::{Arc, Mutex};

use azcontainerregistry::image::{Progress, ProgressFn, ProgressKind};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `size` bytes labelled `what`, for one blob's transfer.
pub fn byte_bar(size: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), draw_target());
    bar.set_style(style(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ));
    bar.set_message(what.to_string());
    bar
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
