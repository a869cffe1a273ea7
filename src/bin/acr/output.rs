//! What goes to stdout: JSON or text results, `show`'s labelled lines, permissions; and the message
//! of a file error.

use std::fmt::Display;
use std::io;
use std::path::Path;

use azcontainerregistry::ChangeableAttributes;
use serde::Serialize;

use crate::AnyResult;

/// Prints `value` as pretty JSON when `json` (`--json`), else as `text` prints it.
pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T)) -> AnyResult<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        text(value);
    }
    Ok(())
}

/// Prints a listing: a JSON array when `json` (`--json`), else one `line` per item.
pub fn print_lines<T: Serialize>(
    json: bool,
    items: &[T],
    line: impl Fn(&T) -> String,
) -> AnyResult<()> {
    print(json, &items, |items| {
        items.iter().for_each(|item| println!("{}", line(item)))
    })
}

/// Prints one `show` line: `label:` padded to 15 columns, then the value.
pub fn field(label: &str, value: impl Display) {
    println!("{:<15}{value}", format!("{label}:"));
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
