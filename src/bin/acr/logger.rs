//! The log on stderr: `RUST_LOG` (`debug`, `azcontainerregistry=trace,ureq=debug`, ...), or `-v`
//! (info), `-vv` (debug), `-vvv` (trace) and `--debug`, which win over it. Warnings only without
//! either.
//!
//! Dependencies log what they send: at trace level ureq-proto hex-dumps every request and
//! response head and body (`Authorization` included) and ureq prints whole URLs (upload `_state`
//! tokens, signatures). So every line is filtered here before it is written: the raw dumps
//! (target `ureq_proto::util`) are dropped, and secrets are redacted from the rest ([`redact`]):
//! `Authorization`/`Cookie` values, `Bearer`/`Basic` credentials, secret query and form
//! parameters, secret JSON fields, user info in URLs, and JWTs. Control characters are escaped.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

use crate::output::escape;

/// Targets whose records are raw bytes (hex dumps of requests and responses): never printed.
const DROPPED: &[&str] = &["ureq_proto::util"];

/// The logger: directives as `RUST_LOG` writes them (`target=level` or a bare level).
struct Logger {
    /// `(target prefix, level)`; a bare level has the empty prefix. The longest match wins.
    directives: Vec<(String, LevelFilter)>,
}

impl Logger {
    /// The level for `target`.
    fn level(&self, target: &str) -> LevelFilter {
        self.directives
            .iter()
            .filter(|(prefix, _)| {
                prefix.is_empty()
                    || target == prefix
                    || target
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(LevelFilter::Off, |(_, level)| *level)
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let target = metadata.target();
        metadata.level() <= self.level(target) && !DROPPED.iter().any(|d| target.starts_with(d))
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = redact(&record.args().to_string());
        let level = record.level().as_str().to_ascii_lowercase();
        let line = format!("acr: {level}: {}: {text}", record.target());
        let _ = writeln!(std::io::stderr().lock(), "{}", escape(&line));
    }

    fn flush(&self) {}
}

/// Installs the logger: `-v`/`--debug` when given, else `RUST_LOG`, else warnings only.
pub fn init(verbose: u8, debug: bool) {
    let flags = match verbose {
        0 if debug => Some(LevelFilter::Debug),
        0 => None,
        1 if debug => Some(LevelFilter::Debug),
        1 => Some(LevelFilter::Info),
        2 => Some(LevelFilter::Debug),
        _ => Some(LevelFilter::Trace),
    };
    let directives = match (flags, std::env::var("RUST_LOG")) {
        (Some(level), _) => vec![(String::new(), level)],
        (None, Ok(spec)) if !spec.trim().is_empty() => parse(&spec),
        _ => vec![(String::new(), LevelFilter::Warn)],
    };
    let max = directives
        .iter()
        .map(|(_, l)| *l)
        .max()
        .unwrap_or(LevelFilter::Off);
    let logger: &'static Logger = Box::leak(Box::new(Logger { directives }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max);
    }
}

/// `RUST_LOG` directives: `level`, `target`, `target=level`, comma-separated (a bare target means
/// trace; a hyphen in a crate name is an underscore in its target).
fn parse(spec: &str) -> Vec<(String, LevelFilter)> {
    spec.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| match d.split_once('=') {
            Some((target, level)) => Some((target.replace('-', "_"), level.parse().ok()?)),
            None => match d.parse::<LevelFilter>() {
                Ok(level) => Some((String::new(), level)),
                Err(_) => Some((d.replace('-', "_"), LevelFilter::Trace)),
            },
        })
        .collect()
}

/// Whether a parameter, field or header named `name` holds a secret: the library's list.
fn is_secret_name(name: &str) -> bool {
    azcontainerregistry::is_secret_name(name)
}

/// Characters of a parameter or field name.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'%')
}

/// Where a secret value that starts at `from` ends: at a delimiter of URLs, JSON and log lines.
fn value_end(s: &[u8], from: usize, quote: Option<u8>) -> usize {
    let mut i = from;
    while i < s.len() {
        let b = s[i];
        let end = match quote {
            Some(q) => b == q,
            None => b.is_ascii_whitespace() || b"&\"',;#)>]}".contains(&b),
        };
        if end {
            break;
        }
        i += 1;
    }
    i
}

/// A log line without secrets (see the module docs). Redacts too much rather than too little.
pub fn redact(line: &str) -> String {
    let s = line.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        // `NAME=value`, `NAME: value`, `"NAME": "value"` with a secret NAME
        if (s[i] == b'=' || s[i] == b':') && i > 0 {
            let quoted_name = s[i - 1] == b'"';
            let name_end = if quoted_name { i - 1 } else { i };
            let mut start = name_end;
            while start > 0 && is_name_char(s[start - 1]) {
                start -= 1;
            }
            let name = String::from_utf8_lossy(&s[start..name_end]);
            // `://` is a URL, not a header
            let url = s[i] == b':' && s.get(i + 1) == Some(&b'/');
            if !name.is_empty() && !url && is_secret_name(&name) {
                out.push(s[i]);
                let mut j = i + 1;
                while j < s.len() && s[j] == b' ' {
                    out.push(b' ');
                    j += 1;
                }
                let quote = match s.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        out.push(q);
                        j += 1;
                        Some(q)
                    }
                    _ => None,
                };
                // a header's value runs to the end of the line (`Authorization: Bearer x`)
                let end = if s[i] == b':' && quote.is_none() && !quoted_name {
                    s[j..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(s.len(), |p| j + p)
                } else {
                    value_end(s, j, quote)
                };
                out.extend_from_slice(b"REDACTED");
                i = end;
                continue;
            }
        }
        // `Bearer x`, `Basic x` anywhere
        if let Some(len) = scheme_at(s, i) {
            out.extend_from_slice(&s[i..i + len]);
            out.extend_from_slice(b"REDACTED");
            i = value_end(s, i + len, None);
            continue;
        }
        // `scheme://user:password@host`
        if s[i..].starts_with(b"://") {
            let host_start = i + 3;
            let auth_end = value_end(s, host_start, None);
            let authority_end = s[host_start..auth_end]
                .iter()
                .position(|&b| b == b'/' || b == b'?')
                .map_or(auth_end, |p| host_start + p);
            if let Some(at) = s[host_start..authority_end]
                .iter()
                .rposition(|&b| b == b'@')
            {
                out.extend_from_slice(b"://REDACTED");
                i = host_start + at;
                continue;
            }
        }
        // a JWT: three base64url parts, the first `eyJ`
        if s[i..].starts_with(b"eyJ") && (i == 0 || !is_name_char(s[i - 1])) {
            let end = s[i..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
                .map_or(s.len(), |p| i + p);
            if s[i..end].iter().filter(|&&b| b == b'.').count() >= 2 {
                out.extend_from_slice(b"REDACTED");
                i = end;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The length of `Bearer ` or `Basic ` (any case) at `i`, at a word start.
fn scheme_at(s: &[u8], i: usize) -> Option<usize> {
    if i > 0 && s[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    ["bearer ", "basic "].iter().find_map(|scheme| {
        let n = scheme.len();
        (s.len() > i + n
            && s[i..i + n].eq_ignore_ascii_case(scheme.as_bytes())
            && !s[i + n].is_ascii_whitespace())
        .then_some(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_secret_form() {
        let cases = [
            (
                "PATCH http://h/v2/r/blobs/uploads/x?_state=abc.def&n=1",
                "PATCH http://h/v2/r/blobs/uploads/x?_state=REDACTED&n=1",
            ),
            ("> authorization: Bearer abc", "> authorization: REDACTED"),
            (
                "Authorization: Basic YWxpY2U6czNj",
                "Authorization: REDACTED",
            ),
            (
                "header Bearer abc.def, next",
                "header Bearer REDACTED, next",
            ),
            (
                r#"{"access_token":"s3cret","expires_in":3}"#,
                r#"{"access_token":"REDACTED","expires_in":3}"#,
            ),
            (
                "grant_type=password&password=hunter2&service=x",
                "grant_type=password&password=REDACTED&service=x",
            ),
            ("GET https://u:p@h/v2/", "GET https://REDACTED@h/v2/"),
            ("token eyJhbGc.eyJzdWI.c2ln end", "token REDACTED end"),
            (
                "https://b.blob/x?sig=abc&se=1&X-Amz-Signature=def",
                "https://b.blob/x?sig=REDACTED&se=1&X-Amz-Signature=REDACTED",
            ),
            ("Cookie: a=b; c=d", "Cookie: REDACTED"),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
        let plain = "GET http://127.0.0.1:5000/v2/_catalog?n=100 status=200 realm=\"x\"";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn rust_log_directives_pick_the_longest_target() {
        let logger = Logger {
            directives: parse("warn,azcontainerregistry=trace,ureq=debug,bad=nonsense"),
        };
        assert_eq!(
            logger.level("azcontainerregistry::http"),
            LevelFilter::Trace
        );
        assert_eq!(logger.level("ureq::run"), LevelFilter::Debug);
        assert_eq!(logger.level("ureq_proto::client"), LevelFilter::Warn);
        assert_eq!(logger.level("acr"), LevelFilter::Warn);
        assert!(
            !logger.enabled(
                &Metadata::builder()
                    .target("ureq_proto::util")
                    .level(log::Level::Error)
                    .build()
            )
        );
    }
}
