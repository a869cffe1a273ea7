//! [`Timestamp`]: points in time as ACR writes them (RFC 3339, tolerantly), with the date
//! arithmetic done here (days from the civil calendar), without a date crate.
//!
//! HTTP dates (`Retry-After`, RFC 9110's three formats) are read with the `httpdate` crate where
//! they are needed, in the HTTP layer.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A point in time as ACR reports it, e.g. `2024-04-25T02:20:49.5614991Z`.
///
/// Parsing is tolerant: RFC 3339 with 0 to 9 fractional digits (more are accepted and truncated to
/// nanoseconds), `T`, `t` or a space between date and time, and `Z`, `z`, `+hh:mm`, `-hh:mm`,
/// `+hhmm` or no zone at all (read as UTC). Fields are range-checked (month 1–12, the day against
/// the month's length in that year, hour 0–23, minute and second 0–59, offset below 24 h); anything
/// else is an [`Error::Decode`]. The date arithmetic is done here (days-from-civil), with no date
/// crate.
///
/// The instant is available as a [`SystemTime`] ([`Timestamp::system_time`]) or as Unix seconds and
/// nanoseconds; the string the registry sent is kept ([`Timestamp::as_str`]).
/// [`Display`](fmt::Display) and `Serialize` write RFC 3339 in UTC with the fraction's trailing
/// zeros trimmed, which for ACR's own strings reproduces them exactly. Equality, ordering and
/// hashing compare the instant only, so `…T03:00:00+01:00` equals `…T02:00:00Z`.
///
/// ```
/// use azcontainerregistry::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t: Timestamp = "2024-01-24 07:16:24.9272591+01:00".parse()?;
/// assert_eq!(t.to_string(), "2024-01-24T06:16:24.9272591Z");
/// assert_eq!(t.as_str(), "2024-01-24 07:16:24.9272591+01:00");
/// assert_eq!(t.unix_seconds(), 1_706_076_984);
/// assert_eq!(
///     t.system_time(),
///     UNIX_EPOCH + Duration::new(1_706_076_984, 927_259_100)
/// );
/// assert!("yesterday".parse::<Timestamp>().is_err());
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    original: String,
}

const RFC3339_RULE: &str = "expected an RFC 3339 time such as 2024-01-24T06:16:24.927259Z (a space for T and a missing zone are accepted)";

impl Timestamp {
    /// Parses a time (see the type's documentation for what is accepted).
    pub fn parse(s: &str) -> Result<Self> {
        let (secs, nanos) = parse_rfc3339(s).map_err(|why| {
            Error::decode(
                "timestamp",
                format!("{s:?} is not a valid time: {why}; {RFC3339_RULE}"),
            )
        })?;
        Ok(Timestamp {
            secs,
            nanos,
            original: s.to_string(),
        })
    }

    /// The time `secs` seconds and `nanos` nanoseconds after the Unix epoch (`secs` may be
    /// negative). Nanoseconds of a second or more carry into the seconds.
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        let secs = secs.saturating_add(i64::from(nanos / 1_000_000_000));
        let nanos = nanos % 1_000_000_000;
        let mut t = Timestamp {
            secs,
            nanos,
            original: String::new(),
        };
        t.original = t.to_rfc3339();
        t
    }

    /// The time of a [`SystemTime`] (saturating far outside ±292 billion years).
    pub fn from_system_time(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::from_unix(
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
                // -1.25 s is -2 s + 0.75 s
                if d.subsec_nanos() == 0 {
                    Timestamp::from_unix(secs, 0)
                } else {
                    Timestamp::from_unix(secs.saturating_sub(1), 1_000_000_000 - d.subsec_nanos())
                }
            }
        }
    }

    /// The current time.
    pub fn now() -> Self {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// The instant as a [`SystemTime`]. Saturates at the platform's limits, which no real time
    /// reaches.
    pub fn system_time(&self) -> SystemTime {
        let nanos = Duration::from_nanos(u64::from(self.nanos));
        if self.secs >= 0 {
            let d = Duration::from_secs(self.secs.unsigned_abs()) + nanos;
            UNIX_EPOCH.checked_add(d).unwrap_or(UNIX_EPOCH)
        } else {
            UNIX_EPOCH
                .checked_sub(Duration::from_secs(self.secs.unsigned_abs()))
                .and_then(|t| t.checked_add(nanos))
                .unwrap_or(UNIX_EPOCH)
        }
    }

    /// Whole seconds since the Unix epoch (negative before 1970); see [`Timestamp::subsec_nanos`].
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// The nanoseconds past [`Timestamp::unix_seconds`], always below 1 000 000 000.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// The string this was parsed from, verbatim; for a time made by [`Timestamp::from_unix`] or
    /// [`Timestamp::from_system_time`], its RFC 3339 form.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// RFC 3339 in UTC, e.g. `2024-04-25T02:20:49.5614991Z` (the fraction without trailing zeros,
    /// none when it is zero). The same as [`Display`](fmt::Display).
    pub fn to_rfc3339(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Timestamp::parse(s)
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Timestamp::from_system_time(t)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        t.system_time()
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        (self.secs, self.nanos) == (other.secs, other.nanos)
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.secs, self.nanos).hash(state);
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from((m + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    // Both fit: d is in [1, 31] and m in [1, 12].
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (era * 400 + yoe + i64::from(m <= 2), m, d)
}

fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A tiny cursor over ASCII bytes for the time parser.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn digits(&mut self, n: usize, field: &'static str) -> std::result::Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => return Err(format!("the {field} must be {n} digits")),
            }
        }
        Ok(v)
    }

    fn expect(&mut self, want: &[u8], after: &'static str) -> std::result::Result<(), String> {
        match self.peek() {
            Some(c) if want.contains(&c) => {
                self.i += 1;
                Ok(())
            }
            _ => {
                let want: Vec<String> = want.iter().map(|c| format!("{:?}", *c as char)).collect();
                Err(format!("expected {} after the {after}", want.join(" or ")))
            }
        }
    }
}

/// Parses to (seconds since the epoch, nanoseconds); the error says what was wrong.
fn parse_rfc3339(s: &str) -> std::result::Result<(i64, u32), String> {
    let mut c = Cursor {
        b: s.trim().as_bytes(),
        i: 0,
    };
    let year = c.digits(4, "year")?;
    c.expect(b"-", "year")?;
    let month = c.digits(2, "month")?;
    c.expect(b"-", "month")?;
    let day = c.digits(2, "day")?;
    c.expect(b"Tt ", "date")?;
    let hour = c.digits(2, "hour")?;
    c.expect(b":", "hour")?;
    let minute = c.digits(2, "minute")?;
    c.expect(b":", "minute")?;
    let second = c.digits(2, "second")?;

    let mut nanos = 0u32;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let start = c.i;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            if c.i - start < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            c.i += 1;
        }
        let n = c.i - start;
        if n == 0 {
            return Err("the fraction after '.' has no digits".into());
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }

    // The offset of local time from UTC, in seconds.
    let offset: i64 = match c.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            c.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2, "offset hour")?;
            if c.peek() == Some(b':') {
                c.i += 1;
            }
            let om = c.digits(2, "offset minute")?;
            if oh > 23 || om > 59 {
                return Err(format!("the offset {oh:02}:{om:02} is out of range"));
            }
            let o = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -o } else { o }
        }
        Some(_) => return Err("expected 'Z', an offset or the end after the time".into()),
    };
    if c.i != c.b.len() {
        return Err("unexpected characters after the time".into());
    }

    let year = i64::from(year);
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(format!("day {day} does not exist in {year:04}-{month:02}"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!(
            "the time {hour:02}:{minute:02}:{second:02} is out of range"
        ));
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    Ok((secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn secs(s: &str) -> (i64, u32) {
        let t = ts(s);
        (t.unix_seconds(), t.subsec_nanos())
    }

    #[test]
    fn civil_round_trip_over_a_wide_range() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn parses_what_acr_sends() {
        // 7 fractional digits, as ACR's .NET back end writes them.
        assert_eq!(
            secs("2024-04-25T02:20:49.5614991Z"),
            (1_714_011_649, 561_499_100)
        );
        // 6 digits.
        assert_eq!(
            secs("2024-01-24T06:16:24.927259Z"),
            (1_706_076_984, 927_259_000)
        );
        assert_eq!(
            ts("2024-04-25T02:20:49.5614991Z").to_string(),
            "2024-04-25T02:20:49.5614991Z"
        );
        assert_eq!(
            ts("2024-01-24T06:16:24.927259Z").to_string(),
            "2024-01-24T06:16:24.927259Z"
        );
    }

    #[test]
    fn fraction_lengths() {
        assert_eq!(secs("2024-01-01T00:00:00Z"), (1_704_067_200, 0));
        assert_eq!(secs("2024-01-01T00:00:00.1Z").1, 100_000_000);
        assert_eq!(secs("2024-01-01T00:00:00.12Z").1, 120_000_000);
        assert_eq!(secs("2024-01-01T00:00:00.123Z").1, 123_000_000);
        assert_eq!(secs("2024-01-01T00:00:00.123456789Z").1, 123_456_789);
        // beyond nanoseconds: truncated
        assert_eq!(secs("2024-01-01T00:00:00.1234567891234Z").1, 123_456_789);
        assert_eq!(secs("2024-01-01T00:00:00.000000001Z").1, 1);
        assert_eq!(
            ts("2024-01-01T00:00:00.000000001Z").to_string(),
            "2024-01-01T00:00:00.000000001Z"
        );
        assert_eq!(
            ts("2024-01-01T00:00:00.500Z").to_string(),
            "2024-01-01T00:00:00.5Z"
        );
        assert_eq!(
            ts("2024-01-01T00:00:00.000Z").to_string(),
            "2024-01-01T00:00:00Z"
        );
    }

    #[test]
    fn separators_and_zones() {
        let utc = secs("2024-03-10T12:30:45Z");
        assert_eq!(secs("2024-03-10 12:30:45Z"), utc);
        assert_eq!(secs("2024-03-10t12:30:45z"), utc);
        assert_eq!(secs("2024-03-10T12:30:45"), utc, "no zone is UTC");
        assert_eq!(secs("2024-03-10 12:30:45"), utc);
        assert_eq!(secs("2024-03-10T12:30:45+00:00"), utc);
        assert_eq!(secs("2024-03-10T12:30:45-00:00"), utc);
        assert_eq!(secs("2024-03-10T14:00:45+01:30"), utc);
        assert_eq!(secs("2024-03-10T14:00:45+0130"), utc);
        assert_eq!(secs("2024-03-10T07:30:45-05:00"), utc);
        assert_eq!(secs("  2024-03-10T12:30:45Z \n"), utc, "surrounding blanks");
        // an offset that crosses midnight and a year boundary
        assert_eq!(
            secs("2023-12-31T23:30:00-01:00"),
            secs("2024-01-01T00:30:00Z")
        );
        assert_eq!(
            secs("2024-01-01T00:30:00+01:00"),
            secs("2023-12-31T23:30:00Z")
        );
        assert_eq!(
            ts("2024-01-01T00:30:00.25+01:00").to_string(),
            "2023-12-31T23:30:00.25Z"
        );
        assert_eq!(
            ts("2024-01-01T00:30:00.25+01:00").as_str(),
            "2024-01-01T00:30:00.25+01:00"
        );
    }

    #[test]
    fn leap_years() {
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_ok());
        assert!(
            Timestamp::parse("2000-02-29T00:00:00Z").is_ok(),
            "divisible by 400"
        );
        assert!(Timestamp::parse("2023-02-29T00:00:00Z").is_err());
        assert!(
            Timestamp::parse("1900-02-29T00:00:00Z").is_err(),
            "divisible by 100"
        );
        assert!(Timestamp::parse("2100-02-29T00:00:00Z").is_err());
        assert_eq!(
            secs("2024-03-01T00:00:00Z").0 - secs("2024-02-28T00:00:00Z").0,
            2 * 86_400
        );
        assert_eq!(
            secs("2023-03-01T00:00:00Z").0 - secs("2023-02-28T00:00:00Z").0,
            86_400
        );
        assert_eq!(
            ts("2024-02-29T23:59:59Z").to_string(),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn known_instants() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(secs("2000-01-01T00:00:00Z").0, 946_684_800);
        assert_eq!(secs("2038-01-19T03:14:08Z").0, 1 << 31);
        assert_eq!(secs("9999-12-31T23:59:59Z").0, 253_402_300_799);
        assert_eq!(secs("0000-01-01T00:00:00Z").0, -62_167_219_200);
        assert_eq!(secs("1969-12-31T23:59:59.75Z"), (-1, 750_000_000));
        assert_eq!(
            ts("1969-12-31T23:59:59.75Z").to_string(),
            "1969-12-31T23:59:59.75Z"
        );
        assert_eq!(
            ts("1901-01-01T00:00:00-00:01").to_string(),
            "1901-01-01T00:01:00Z"
        );
    }

    #[test]
    fn rejects_garbage_with_a_decode_error() {
        for bad in [
            "",
            "yesterday",
            "2024",
            "2024-01-24",
            "2024-01-24T",
            "2024-01-24T06:16",
            "2024-01-24T06:16Z",
            "24-01-24T06:16:24Z",
            "2024-1-24T06:16:24Z",
            "2024/01/24T06:16:24Z",
            "2024-01-24X06:16:24Z",
            "2024-01-24T06-16-24Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-01-01T23:59:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.abcZ",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00+1:00",
            "2024-01-01T00:00:00+01:0",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+01:60",
            "2024-01-01T00:00:00 UTC",
            "2024-01-01T00:00:00Z garbage",
            "+2024-01-01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
        ] {
            match Timestamp::parse(bad) {
                Err(Error::Decode { what, message }) => {
                    assert_eq!(what, "timestamp");
                    assert!(message.contains("RFC 3339"), "{message}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let e = Timestamp::parse("2023-02-29T00:00:00Z")
            .unwrap_err()
            .to_string();
        assert!(e.contains("day 29 does not exist in 2023-02"), "{e}");
    }

    #[test]
    fn system_time_conversions() {
        let t = ts("2024-04-25T02:20:49.5614991Z");
        let st = t.system_time();
        assert_eq!(st, UNIX_EPOCH + Duration::new(1_714_011_649, 561_499_100));
        let back = Timestamp::from_system_time(st);
        assert_eq!(back, t);
        assert_eq!(back.as_str(), "2024-04-25T02:20:49.5614991Z");
        let before = ts("1969-12-31T23:59:58.75Z");
        assert_eq!(
            before.system_time(),
            UNIX_EPOCH - Duration::from_millis(1250)
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - Duration::from_millis(1250)),
            before
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - Duration::from_secs(2)).to_string(),
            "1969-12-31T23:59:58Z"
        );
        assert_eq!(
            Timestamp::from_unix(0, 1_500_000_000).to_string(),
            "1970-01-01T00:00:01.5Z"
        );
        let now = Timestamp::now();
        assert!(now > ts("2024-01-01T00:00:00Z"));
        let st: SystemTime = now.clone().into();
        assert_eq!(Timestamp::from(st), now);
    }

    #[test]
    fn equality_and_order_by_instant() {
        let a = ts("2024-01-01T01:00:00+01:00");
        let b = ts("2024-01-01T00:00:00Z");
        assert_eq!(a, b);
        assert_ne!(a.as_str(), b.as_str());
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&b));
        assert!(ts("2024-01-01T00:00:00.000000001Z") > b);
        assert!(Some(ts("1999-01-01T00:00:00Z")) > None);
    }

    #[test]
    fn timestamp_serde() {
        let t: Timestamp = serde_json::from_str(r#""2024-01-01 02:00:00+02:00""#).unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""2024-01-01T00:00:00Z""#
        );
        let e = serde_json::from_str::<Timestamp>(r#""nope""#).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }
}
