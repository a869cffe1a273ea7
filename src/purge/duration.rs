//! Durations as acr-cli's `--ago` writes them: `30d`, `2d3h6m`, `15m`, `90s`, `0`.

use std::time::Duration;

use crate::error::{Error, Result};

const RULE: &str = "a duration is numbers with units d (days), h, m or s, e.g. 30d, 2d3h6m, 15m; \
                    each unit at most once, largest first";

/// Parses an acr-cli duration: whole numbers each followed by a unit, `d` (24 hours), `h`, `m` or
/// `s`, largest unit first, each at most once (`30d`, `2d3h6m`, `15m`, `1h30s`); `0` alone is
/// zero.
///
/// ```
/// use std::time::Duration;
/// use azcontainerregistry::purge::parse_duration;
/// assert_eq!(parse_duration("30d")?, Duration::from_secs(30 * 86_400));
/// assert_eq!(parse_duration("2d3h6m")?, Duration::from_secs(2 * 86_400 + 3 * 3600 + 6 * 60));
/// assert!(parse_duration("3h2d").is_err());
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || Error::invalid("duration", text, RULE);
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let units = [('d', 86_400u64), ('h', 3600), ('m', 60), ('s', 1)];
    let mut next_unit = 0; // index into `units` of the smallest unit still allowed first
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let Some(i) = units.iter().position(|(u, _)| *u == c) else {
            return Err(bad());
        };
        if digits.is_empty() || i < next_unit {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(units[i].1)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        digits.clear();
        next_unit = i + 1;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_cli_forms() {
        let s = |n| Duration::from_secs(n);
        assert_eq!(parse_duration("30d").unwrap(), s(30 * 86_400));
        assert_eq!(
            parse_duration("2d3h6m").unwrap(),
            s(2 * 86_400 + 3 * 3600 + 360)
        );
        assert_eq!(parse_duration("15m").unwrap(), s(900));
        assert_eq!(parse_duration("1h30s").unwrap(), s(3630));
        assert_eq!(parse_duration("0").unwrap(), s(0));
        assert_eq!(parse_duration("0d").unwrap(), s(0));
        for bad in [
            "",
            "d",
            "30",
            "30x",
            "3h2d",
            "1d1d",
            "-1d",
            "1.5h",
            "1 d",
            "99999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }
}
