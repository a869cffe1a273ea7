//! What goes to stdout and stderr: results as text or JSON, listings streamed page by page,
//! `show`'s labelled lines, notes; and the one escaping function every printed line goes through.
//!
//! Text from a registry or an image (names, messages, media types, annotations) is printed with
//! its control characters escaped ([`escape`]): a hostile registry cannot move the cursor, retitle
//! the terminal or hide a line. JSON stays exact: serde escapes C0 controls, and [`json_safe`]
//! writes the C1 ones, DEL and the bidi controls as `\u` escapes, which decode to the same text.
//!
//! A closed stdout (`acr repos | head`) is an [`io::ErrorKind::BrokenPipe`] error that `main`
//! turns into a quiet exit 0.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};
use std::path::Path;

use azcontainerregistry::ChangeableAttributes;
use serde::Serialize;

use crate::AnyResult;

/// Whether `c` must not reach a terminal as it is: C0 controls, DEL, C1 controls (U+0080–U+009F,
/// which some terminals obey as ESC sequences) and the Unicode bidi and line controls that can
/// reorder or hide what is shown.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character written visibly: `\x1b` for ASCII controls, `\u{9b}` for the
/// others. Borrowed when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Serialized JSON with the unsafe characters serde leaves raw (DEL, C1, bidi) as `\uXXXX`: the
/// same JSON value, safe on a terminal. Outside strings JSON has only ASCII punctuation and
/// whitespace, so every such character is inside a string, where the escape is exact.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(is_unsafe) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) && !matches!(c, '\n' | ' ' | '\t' | '\r') {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints one line on stdout, escaped.
pub fn line(text: impl Display) -> io::Result<()> {
    let text = text.to_string();
    writeln!(io::stdout().lock(), "{}", escape(&text))
}

/// Prints a note on stderr, escaped.
pub fn note(text: impl Display) {
    let text = text.to_string();
    let _ = writeln!(io::stderr().lock(), "{}", escape(&text));
}

/// Prints `value` as pretty JSON when `json` (`--json`), else as `text` prints it.
pub fn print<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> io::Result<()>,
) -> AnyResult<()> {
    if json {
        let s = json_safe(serde_json::to_string_pretty(value)?);
        writeln!(io::stdout().lock(), "{s}")?;
    } else {
        text(value)?;
    }
    Ok(())
}

/// A listing printed as it arrives: one line per item, or (`--json`) a JSON array written element
/// by element, so a listing of any length is printed in constant memory. Call
/// [`end_page`](Self::end_page) after each page and [`finish`](Self::finish) at the end.
pub struct Listing {
    /// Buffered stdout, flushed at each page's end.
    out: BufWriter<StdoutLock<'static>>,
    /// `--json`.
    json: bool,
    /// Items printed so far.
    count: u64,
}

impl Listing {
    /// A listing on stdout, as JSON when `json`.
    pub fn new(json: bool) -> Self {
        Listing {
            out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            json,
            count: 0,
        }
    }

    /// Prints one item: `line(item)` escaped, or the item as a JSON array element.
    pub fn item<T: Serialize>(&mut self, item: &T, line: impl Fn(&T) -> String) -> AnyResult<()> {
        if self.json {
            let sep = if self.count == 0 { "[\n  " } else { ",\n  " };
            let element = json_safe(serde_json::to_string(item)?);
            write!(self.out, "{sep}{element}")?;
        } else {
            writeln!(self.out, "{}", escape(&line(item)))?;
        }
        self.count += 1;
        Ok(())
    }

    /// Prints a page of items and flushes them.
    pub fn page<T: Serialize>(
        &mut self,
        items: &[T],
        line: impl Fn(&T) -> String,
    ) -> AnyResult<()> {
        for item in items {
            self.item(item, &line)?;
        }
        self.end_page()?;
        Ok(())
    }

    /// A page is done: what it printed goes out now.
    pub fn end_page(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the listing (closes the JSON array).
    pub fn finish(mut self) -> io::Result<()> {
        if self.json {
            let end = if self.count == 0 { "[]\n" } else { "\n]\n" };
            self.out.write_all(end.as_bytes())?;
        }
        self.out.flush()
    }
}

/// Prints one `show` line: `label:` padded to 15 columns, then the value (escaped).
pub fn field(label: &str, value: impl Display) -> io::Result<()> {
    line(format!("{:<15}{value}", format!("{label}:")))
}

/// A value, or `-` when the registry did not send it.
pub fn or_dash(value: Option<impl Display>) -> String {
    value.map_or("-".into(), |v| v.to_string())
}

/// `can read/write/delete/list: yes/no/yes/yes` (`-` for an attribute the registry did not send).
pub fn permissions(c: &ChangeableAttributes) -> String {
    let yes_no = |b: Option<bool>| b.map_or("-", |b| if b { "yes" } else { "no" });
    format!(
        "can read/write/delete/list: {}/{}/{}/{}",
        yes_no(c.can_read),
        yes_no(c.can_write),
        yes_no(c.can_delete),
        yes_no(c.can_list)
    )
}

/// An I/O error on `path`, naming it: `cannot WHAT PATH: ERROR`.
pub fn file_error(path: &Path, what: &str) -> impl FnOnce(io::Error) -> String {
    let path = path.display().to_string();
    let what = what.to_string();
    move |e| format!("cannot {what} {path}: {e}")
}

/// Bytes from a registry (a manifest, a config) for stdout: exact into a pipe or a file; on a
/// terminal, with control characters other than line breaks and tabs escaped (a registry cannot
/// drive the terminal).
pub fn for_stdout(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !io::stdout().is_terminal() {
        return Cow::Borrowed(bytes);
    }
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            l.split('\t')
                .map(|part| escape(part).into_owned())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect();
    Cow::Owned(lines.join("\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_writes_controls_visibly_and_keeps_the_rest() {
        assert_eq!(escape("plain/name:v1 ünï"), "plain/name:v1 ünï");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\u{1b}[31mb\u{7}c\u{8}\0d\u{7f}"),
            "a\\x1b[31mb\\x07c\\x08\\x00d\\x7f"
        );
        assert_eq!(escape("x\u{9b}2Jy\u{85}"), "x\\u{9b}2Jy\\u{85}");
        assert_eq!(escape("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(escape("two\nlines\r"), "two\\x0alines\\x0d");
    }

    #[test]
    fn json_safe_escapes_c1_and_del_and_stays_the_same_value() {
        let value = serde_json::json!(["t\u{9b}2J\u{7f}\u{1b}", "x\u{202e}"]);
        let raw = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_safe(raw);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe}");
        assert!(
            safe.contains("\\u009b") && safe.contains("\\u007f"),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
