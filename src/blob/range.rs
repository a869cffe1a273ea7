//! Byte ranges on the wire: `Content-Range: bytes a-b/total` of a partial blob read, and the
//! `Range: 0-N` (no `bytes` prefix, `N` inclusive) an upload session reports.

use std::ops::Range;

/// The part of a blob a partial response carries: `Content-Range: bytes 10-19/100` is
/// `ContentRange { range: 10..20, total: Some(100) }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRange {
    /// The bytes carried, end exclusive.
    pub range: Range<u64>,
    /// The length of the whole blob, when the registry said (`/*` means unknown).
    pub total: Option<u64>,
}

impl ContentRange {
    /// Parses `bytes a-b/total` (or `bytes a-b/*`). `None` for anything else, including the `bytes
    /// */total` of a 416 answer.
    ///
    /// ```
    /// use azcontainerregistry::blob::ContentRange;
    /// let r = ContentRange::parse("bytes 0-10/11").unwrap();
    /// assert_eq!((r.range, r.total), (0..11, Some(11)));
    /// assert!(ContentRange::parse("bytes */11").is_none());
    /// ```
    pub fn parse(header: &str) -> Option<ContentRange> {
        let rest = header.trim().strip_prefix("bytes")?.trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        let (span, total) = rest.split_once('/')?;
        let (a, b) = span.trim().split_once('-')?;
        let start: u64 = a.trim().parse().ok()?;
        let last: u64 = b.trim().parse().ok()?;
        if last < start {
            return None;
        }
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse::<u64>().ok()?),
        };
        if total.is_some_and(|t| last >= t) {
            return None;
        }
        Some(ContentRange {
            range: start..last.checked_add(1)?,
            total,
        })
    }

    /// Bytes carried.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// True when no bytes are carried.
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }
}

/// The offset (bytes received) an upload session reports in `Range: 0-N`.
///
/// Distribution and ACR send `0-0` both for an empty session and after exactly one byte, so
/// `known`, the offset the caller believes in, settles that one case: `0-0` means 1 only when
/// `known` is at least 1.
pub(crate) fn upload_offset(header: &str, known: u64) -> Option<u64> {
    let h = header.trim();
    let h = h
        .strip_prefix("bytes")
        .map(|r| r.trim_start().trim_start_matches('=').trim_start())
        .unwrap_or(h);
    let (a, b) = h.split_once('-')?;
    if a.trim() != "0" {
        return None;
    }
    let last: u64 = b.trim().parse().ok()?;
    if last == 0 {
        return Some(if known >= 1 { 1 } else { 0 });
    }
    last.checked_add(1)
}

/// The `Range` request header for `range` (end exclusive, non-empty).
pub(crate) fn range_header(range: &Range<u64>) -> String {
    format!("bytes={}-{}", range.start, range.end - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            ContentRange::parse("bytes 10-19/100"),
            Some(ContentRange {
                range: 10..20,
                total: Some(100)
            })
        );
        assert_eq!(
            ContentRange::parse("bytes 0-0/*"),
            Some(ContentRange {
                range: 0..1,
                total: None
            })
        );
        assert_eq!(
            ContentRange::parse("bytes=5-9/10").map(|r| r.range),
            Some(5..10)
        );
        for bad in [
            "",
            "bytes */100",
            "bytes 9-5/100",
            "bytes 0-100/100",
            "items 0-1/2",
            "bytes a-b/c",
            "bytes 1-2",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn upload_offsets() {
        assert_eq!(upload_offset("0-0", 0), Some(0));
        assert_eq!(upload_offset("0-0", 1), Some(1));
        assert_eq!(upload_offset("0-0", 7), Some(1));
        assert_eq!(upload_offset("0-27", 0), Some(28));
        assert_eq!(upload_offset("bytes=0-9", 0), Some(10));
        assert_eq!(upload_offset("5-9", 0), None);
        assert_eq!(upload_offset("junk", 0), None);
        assert_eq!(range_header(&(0..10)), "bytes=0-9");
    }
}
