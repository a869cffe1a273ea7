//! The ACR metadata models: what `/acr/v1` answers, and the bodies its `PATCH` requests take.
//!
//! These mirror the Go SDK's models (module `azcontainerregistry` v0.2) field for field, in Rust case:
//! `RegistryLoginServer` is [`RepositoryProperties::registry_login_server`], `CreatedOn` is `created_on`,
//! `CanDelete` is `can_delete`, and so on. On the wire the ACR names are kept (`registry`, `imageName`,
//! `createdTime`, `deleteEnabled`, …), for reading and for writing, so a model printed with `serde_json`
//! looks like what the registry sent.
//!
//! Decoding is tolerant, because ACR adds keys no specification lists:
//! - unknown keys are ignored (real responses carry `quarantineState`, `teleportEnabled`, `signed`, …);
//! - a missing optional field becomes `None`, an empty list, an empty string or zero;
//! - architectures and operating systems are kept as the registry's strings (the Go SDK has closed enums
//!   `ArtifactArchitecture` / `ArtifactOperatingSystem`): a value that is new to this crate never fails to
//!   parse, and nothing is lost;
//! - times are parsed by [`Timestamp`], which accepts everything ACR has been seen to send (RFC 3339 with
//!   0 to 9 fractional digits, `T` or a space, `Z`, an offset, or no zone at all).
//!
//! Response structs are `#[non_exhaustive]`: the registry may grow fields, and so may they. The writeable
//! property structs ([`RepositoryWriteableProperties`], [`TagWriteableProperties`],
//! [`ManifestWriteableProperties`]) are built by callers with `..Default::default()`; only the fields set
//! go on the wire, so a `PATCH` changes exactly what was asked.
//!
//! ```
//! use azcontainerregistry::{ArtifactTagProperties, TagWriteableProperties};
//!
//! let body = br#"{"registry":"r.azurecr.io","imageName":"hello-world","tag":{"name":"latest",
//!   "digest":"sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f",
//!   "createdTime":"2024-04-25T02:20:49.5614991Z","lastUpdateTime":"2024-04-25T02:20:49.5614991Z",
//!   "signed":false,"changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,
//!   "readEnabled":true,"listEnabled":true,"quarantineState":"Passed"}}}"#;
//! let props: ArtifactTagProperties = serde_json::from_slice(body)?;
//! assert_eq!(props.tag.name, "latest");
//! assert_eq!(props.tag.changeable_attributes.can_delete, Some(true));
//! assert_eq!(
//!     props.tag.created_on.as_ref().map(|t| t.to_string()).as_deref(),
//!     Some("2024-04-25T02:20:49.5614991Z")
//! );
//!
//! // Lock the tag against deletion; the other attributes stay as they are.
//! let patch = TagWriteableProperties { can_delete: Some(false), ..Default::default() };
//! assert_eq!(serde_json::to_string(&patch)?, r#"{"deleteEnabled":false}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::manifest::null_as_empty;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------------------------------------
// Timestamp
// ---------------------------------------------------------------------------------------------------------

/// A point in time as ACR reports it, e.g. `2024-04-25T02:20:49.5614991Z`.
///
/// Parsing is tolerant: RFC 3339 with 0 to 9 fractional digits (more are accepted and truncated to
/// nanoseconds), `T`, `t` or a space between date and time, and `Z`, `z`, `+hh:mm`, `-hh:mm`, `+hhmm` or no
/// zone at all (read as UTC). Fields are range-checked (month 1–12, the day against the month's length in
/// that year, hour 0–23, minute and second 0–59, offset below 24 h); anything else is an
/// [`Error::Decode`]. The date arithmetic is done here (days-from-civil), with no date crate.
///
/// The instant is available as a [`SystemTime`] ([`Timestamp::system_time`]) or as Unix seconds and
/// nanoseconds; the string the registry sent is kept ([`Timestamp::as_str`]). [`Display`](fmt::Display) and
/// `Serialize` write RFC 3339 in UTC with the fraction's trailing zeros trimmed, which for ACR's own strings
/// reproduces them exactly. Equality, ordering and hashing compare the instant only, so `…T03:00:00+01:00`
/// equals `…T02:00:00Z`.
///
/// ```
/// use azcontainerregistry::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t: Timestamp = "2024-01-24 07:16:24.9272591+01:00".parse()?;
/// assert_eq!(t.to_string(), "2024-01-24T06:16:24.9272591Z");
/// assert_eq!(t.as_str(), "2024-01-24 07:16:24.9272591+01:00");
/// assert_eq!(t.unix_seconds(), 1_706_076_984);
/// assert_eq!(t.system_time(), UNIX_EPOCH + Duration::new(1_706_076_984, 927_259_100));
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

    /// The time `secs` seconds and `nanos` nanoseconds after the Unix epoch (`secs` may be negative).
    /// Nanoseconds of a second or more carry into the seconds.
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

    /// The instant as a [`SystemTime`]. Saturates at the platform's limits, which no real time reaches.
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

    /// RFC 3339 in UTC, e.g. `2024-04-25T02:20:49.5614991Z` (the fraction without trailing zeros, none
    /// when it is zero). The same as [`Display`](fmt::Display).
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
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
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

// ---------------------------------------------------------------------------------------------------------
// Ordering of list results
// ---------------------------------------------------------------------------------------------------------

/// The order in which tags or manifests are listed (the `orderby` query parameter).
///
/// The Go SDK has two enums with the same three values (`ArtifactTagOrderBy`, `ArtifactManifestOrderBy`);
/// here one type serves both, with the aliases [`TagOrderBy`] and [`ManifestOrderBy`].
///
/// ```
/// use azcontainerregistry::ArtifactOrder;
/// assert_eq!(ArtifactOrder::LastUpdatedOnDescending.as_query_value(), "timedesc");
/// assert_eq!("timeasc".parse::<ArtifactOrder>()?, ArtifactOrder::LastUpdatedOnAscending);
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArtifactOrder {
    /// No particular order (`none`): the registry's default, lexical by name or digest.
    #[default]
    None,
    /// Most recently updated first (`timedesc`).
    LastUpdatedOnDescending,
    /// Least recently updated first (`timeasc`).
    LastUpdatedOnAscending,
}

/// The order of [`TagAttributes`] in a tag list; the Go SDK's `ArtifactTagOrderBy`.
pub type TagOrderBy = ArtifactOrder;

/// The order of [`ManifestAttributes`] in a manifest list; the Go SDK's `ArtifactManifestOrderBy`.
pub type ManifestOrderBy = ArtifactOrder;

impl ArtifactOrder {
    /// The value of the `orderby` query parameter: `none`, `timedesc` or `timeasc`.
    pub fn as_query_value(self) -> &'static str {
        match self {
            ArtifactOrder::None => "none",
            ArtifactOrder::LastUpdatedOnDescending => "timedesc",
            ArtifactOrder::LastUpdatedOnAscending => "timeasc",
        }
    }
}

impl fmt::Display for ArtifactOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_query_value())
    }
}

impl FromStr for ArtifactOrder {
    type Err = Error;
    /// Reads `none`, `timedesc` or `timeasc` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(ArtifactOrder::None),
            "timedesc" => Ok(ArtifactOrder::LastUpdatedOnDescending),
            "timeasc" => Ok(ArtifactOrder::LastUpdatedOnAscending),
            _ => Err(Error::invalid(
                "order",
                s,
                "expected none, timedesc or timeasc",
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Changeable attributes
// ---------------------------------------------------------------------------------------------------------

/// The `changeableAttributes` of a repository, tag or manifest, as the registry reports them.
///
/// The four permissions are `None` only when the registry left them out. ACR also reports attributes no
/// specification lists; the known ones are kept, any other is ignored. To change attributes, send a
/// [`RepositoryWriteableProperties`], [`TagWriteableProperties`] or [`ManifestWriteableProperties`]; each
/// can be made from this with `From` (the four permissions are copied).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeableAttributes {
    /// Whether it may be deleted (`deleteEnabled`).
    #[serde(
        rename = "deleteEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_delete: Option<bool>,
    /// Whether it may be overwritten (`writeEnabled`).
    #[serde(
        rename = "writeEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_write: Option<bool>,
    /// Whether it shows in lists (`listEnabled`).
    #[serde(
        rename = "listEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_list: Option<bool>,
    /// Whether it may be pulled (`readEnabled`).
    #[serde(
        rename = "readEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_read: Option<bool>,
    /// The quarantine state of a manifest (`quarantineState`, e.g. `Passed`), on registries with the
    /// quarantine policy.
    #[serde(
        rename = "quarantineState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quarantine_state: Option<String>,
    /// Free-form detail of the quarantine state (`quarantineDetails`).
    #[serde(
        rename = "quarantineDetails",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quarantine_details: Option<String>,
    /// Whether image streaming ("teleport") is enabled for a repository (`teleportEnabled`).
    #[serde(
        rename = "teleportEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub teleport_enabled: Option<bool>,
}

macro_rules! writeable_properties {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        pub struct $name {
            #[doc = concat!("Whether the ", $what, " may be deleted (`deleteEnabled`).")]
            #[serde(rename = "deleteEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_delete: Option<bool>,
            #[doc = concat!("Whether the ", $what, " may be overwritten (`writeEnabled`).")]
            #[serde(rename = "writeEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_write: Option<bool>,
            #[doc = concat!("Whether the ", $what, " shows in lists (`listEnabled`).")]
            #[serde(rename = "listEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_list: Option<bool>,
            #[doc = concat!("Whether the ", $what, " may be pulled (`readEnabled`).")]
            #[serde(rename = "readEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_read: Option<bool>,
        }

        impl $name {
            /// True when no field is set: sending it would change nothing.
            pub fn is_empty(&self) -> bool {
                self.can_delete.is_none()
                    && self.can_write.is_none()
                    && self.can_list.is_none()
                    && self.can_read.is_none()
            }
        }

        impl From<&ChangeableAttributes> for $name {
            fn from(a: &ChangeableAttributes) -> Self {
                $name {
                    can_delete: a.can_delete,
                    can_write: a.can_write,
                    can_list: a.can_list,
                    can_read: a.can_read,
                }
            }
        }

        impl From<ChangeableAttributes> for $name {
            fn from(a: ChangeableAttributes) -> Self {
                $name::from(&a)
            }
        }
    };
}

writeable_properties!(
    /// The body of a repository `PATCH` (update repository properties): only the fields set are sent.
    ///
    /// ```
    /// use azcontainerregistry::RepositoryWriteableProperties;
    /// let p = RepositoryWriteableProperties { can_write: Some(false), can_delete: Some(false), ..Default::default() };
    /// assert_eq!(serde_json::to_string(&p)?, r#"{"deleteEnabled":false,"writeEnabled":false}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    RepositoryWriteableProperties,
    "repository"
);

writeable_properties!(
    /// The body of a tag `PATCH` (update tag properties): only the fields set are sent.
    TagWriteableProperties,
    "tag"
);

writeable_properties!(
    /// The body of a manifest `PATCH` (update manifest properties): only the fields set are sent.
    ManifestWriteableProperties,
    "manifest"
);

// ---------------------------------------------------------------------------------------------------------
// Repositories
// ---------------------------------------------------------------------------------------------------------

/// A repository's properties: the answer of `GET /acr/v1/{name}` and of its `PATCH`.
/// The Go SDK's `ContainerRepositoryProperties`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryProperties {
    /// The registry's login server, e.g. `myregistry.azurecr.io` (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// When the repository was created (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the repository last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// How many manifests it holds (`manifestCount`).
    #[serde(rename = "manifestCount", default)]
    pub manifest_count: u64,
    /// How many tags it holds (`tagCount`).
    #[serde(rename = "tagCount", default)]
    pub tag_count: u64,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// One page of `GET /acr/v1/_catalog`: repository names. The Go SDK's `Repositories`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryList {
    /// The repository names on this page (`repositories`; `null` reads as empty).
    #[serde(rename = "repositories", default, deserialize_with = "null_as_empty")]
    pub names: Vec<String>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What `DELETE /acr/v1/{name}` removed. The Go SDK's `DeleteRepositoryResult`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteRepositoryResult {
    /// The digests of the deleted manifests (`manifestsDeleted`).
    #[serde(
        rename = "manifestsDeleted",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub deleted_manifests: Vec<Digest>,
    /// The deleted tags (`tagsDeleted`).
    #[serde(rename = "tagsDeleted", default, deserialize_with = "null_as_empty")]
    pub deleted_tags: Vec<String>,
}

// ---------------------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------------------

/// A tag's properties. The Go SDK's `TagAttributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TagAttributes {
    /// The tag (`name`).
    #[serde(default)]
    pub name: String,
    /// The digest of the manifest it points to (`digest`).
    pub digest: Digest,
    /// When the tag was created (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the tag last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// Whether the tag is signed (`signed`, a legacy content-trust flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// The answer of `GET /acr/v1/{name}/_tags/{tag}`: a tag and where it lives.
/// The Go SDK's `ArtifactTagProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactTagProperties {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The tag (`tag`).
    pub tag: TagAttributes,
}

/// One page of `GET /acr/v1/{name}/_tags`. The Go SDK's `TagList`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TagList {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The tags on this page (`tags`; `null` reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<TagAttributes>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

// ---------------------------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------------------------

/// A manifest an index refers to, with its platform. The Go SDK's `ArtifactManifestPlatform`
/// (`ManifestAttributes.RelatedArtifacts`, `references` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestReference {
    /// The referenced manifest (`digest`).
    pub digest: Digest,
    /// Its CPU architecture, verbatim (`architecture`, e.g. `amd64`, `arm64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Its operating system, verbatim (`os`, e.g. `linux`, `windows`).
    #[serde(rename = "os", default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
}

/// A manifest's properties. The Go SDK's `ManifestAttributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestAttributes {
    /// The manifest's digest (`digest`).
    pub digest: Digest,
    /// The size in bytes ACR reports (`imageSize`); it may be 0 for artifacts.
    #[serde(rename = "imageSize", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When the manifest was pushed (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the manifest last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// The CPU architecture of an image, verbatim (`architecture`); `None` for an index or an artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The operating system of an image, verbatim (`os`); `None` for an index or an artifact.
    #[serde(rename = "os", default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// The manifest's media type (`mediaType`).
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The media type of its config blob (`configMediaType`).
    #[serde(
        rename = "configMediaType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub config_media_type: Option<String>,
    /// The tags pointing at it (`tags`; absent or `null` reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
    /// For an index, the manifests it lists with their platforms (`references`).
    #[serde(rename = "references", default, deserialize_with = "null_as_empty")]
    pub related_artifacts: Vec<ManifestReference>,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// The answer of `GET /acr/v1/{name}/_manifests/{digest}`: a manifest and where it lives.
/// The Go SDK's `ArtifactManifestProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactManifestProperties {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The manifest (`manifest`).
    pub manifest: ManifestAttributes,
}

/// One page of `GET /acr/v1/{name}/_manifests`. The Go SDK's `Manifests`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestList {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The manifests on this page (`manifests`; `null` reads as empty).
    #[serde(rename = "manifests", default, deserialize_with = "null_as_empty")]
    pub attributes: Vec<ManifestAttributes>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
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

    #[test]
    fn order_values() {
        assert_eq!(ArtifactOrder::default(), ArtifactOrder::None);
        for o in [
            ArtifactOrder::None,
            ArtifactOrder::LastUpdatedOnDescending,
            ArtifactOrder::LastUpdatedOnAscending,
        ] {
            assert_eq!(o.to_string().parse::<ArtifactOrder>().unwrap(), o);
        }
        assert_eq!(
            "TimeDesc".parse::<TagOrderBy>().unwrap(),
            ArtifactOrder::LastUpdatedOnDescending
        );
        assert!(matches!(
            "newest".parse::<ManifestOrderBy>(),
            Err(Error::InvalidInput { .. })
        ));
    }

    const TAG_PAGE: &str = r#"{"registry": "paulvaneckcr1.azurecr.io", "imageName": "library/hello-world", "tags": [{"name": "v1", "digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "createdTime": "2024-04-25T02:20:47.9352988Z", "lastUpdateTime": "2024-04-25T02:20:47.9352988Z", "signed": false, "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}, {"name": "latest", "digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "createdTime": "2024-04-25T02:20:47.6995047Z", "lastUpdateTime": "2024-04-25T02:20:47.6995047Z", "signed": false, "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}]}"#;

    #[test]
    fn tag_list_from_recording() {
        let page: TagList = serde_json::from_str(TAG_PAGE).unwrap();
        assert_eq!(page.registry_login_server, "paulvaneckcr1.azurecr.io");
        assert_eq!(page.name, "library/hello-world");
        assert_eq!(page.tags.len(), 2);
        let v1 = &page.tags[0];
        assert_eq!(v1.name, "v1");
        assert_eq!(
            v1.digest.as_str(),
            "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f"
        );
        assert_eq!(v1.signed, Some(false));
        assert!(v1.last_updated_on > page.tags[1].last_updated_on);
        assert_eq!(
            v1.changeable_attributes,
            ChangeableAttributes {
                can_delete: Some(true),
                can_write: Some(true),
                can_list: Some(true),
                can_read: Some(true),
                ..Default::default()
            }
        );
        assert!(page.link.is_none());
    }

    #[test]
    fn tag_properties_from_recording() {
        let body = r#"{"registry": "yallacrtests.azurecr.io", "imageName": "repoa4a73b86", "tag": {"name": "taga4a73b86", "digest": "sha256:6e8b6f026e0b9c419ea0fd02d3905dd0952ad1feea67543f525c73a0a790fefb", "createdTime": "2023-02-19T00:33:07.4948802Z", "lastUpdateTime": "2023-02-19T00:33:07.4948802Z", "signed": false, "changeableAttributes": {"deleteEnabled": false, "writeEnabled": false, "readEnabled": false, "listEnabled": false}}}"#;
        let p: ArtifactTagProperties = serde_json::from_str(body).unwrap();
        assert_eq!(p.registry_login_server, "yallacrtests.azurecr.io");
        assert_eq!(p.name, "repoa4a73b86");
        assert_eq!(p.tag.name, "taga4a73b86");
        assert_eq!(p.tag.changeable_attributes.can_read, Some(false));
        assert_eq!(
            p.tag.created_on.as_ref().unwrap().to_string(),
            "2023-02-19T00:33:07.4948802Z"
        );
    }

    #[test]
    fn manifest_properties_from_recording() {
        let body = r#"{"registry": "paulvaneckcr1anon.azurecr.io", "imageName": "library/hello-world", "manifest": {"digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "imageSize": 12, "createdTime": "2024-04-25T02:20:49.498914Z", "lastUpdateTime": "2024-04-25T02:20:49.498914Z", "mediaType": "application/vnd.oci.image.manifest.v1+json", "configMediaType": "application/vnd.oci.image.config.v1+json", "tags": ["latest", "v1"], "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}}"#;
        let p: ArtifactManifestProperties = serde_json::from_str(body).unwrap();
        let m = &p.manifest;
        assert_eq!(m.size, Some(12));
        assert_eq!(
            m.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        assert_eq!(
            m.config_media_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert_eq!(m.tags, ["latest", "v1"]);
        assert!(m.related_artifacts.is_empty());
        assert!(m.architecture.is_none() && m.operating_system.is_none());
        assert_eq!(m.changeable_attributes.can_write, Some(true));
    }

    #[test]
    fn manifest_list_with_index_references_and_extra_keys() {
        let body = r#"{"registry":"r.azurecr.io","imageName":"library/alpine","link":"/acr/v1/library%2Falpine/_manifests?last=sha256:x&n=1","manifests":[
            {"digest":"sha256:6e8b6f026e0b9c419ea0fd02d3905dd0952ad1feea67543f525c73a0a790fefb","imageSize":1638,
             "createdTime":"2023-02-19T00:33:07.4948802Z","lastUpdateTime":"2023-02-19T00:33:07.4948802Z",
             "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","tags":null,
             "references":[
               {"digest":"sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af","architecture":"amd64","os":"linux"},
               {"digest":"sha256:432f982638b3aefab73cc58ab28f5c16e96fdb504e8c134fc58dff4bae8bf338","architecture":"riscv128","os":"plan9"}],
             "changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true,
               "quarantineState":"Passed","quarantineDetails":"{\"state\":\"scan passed\"}","somethingNew":{"x":[1]}},
             "newTopLevelKey":42},
            {"digest":"sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af",
             "architecture":"amd64","os":"linux","changeableAttributes":{}}]}"#;
        let page: ManifestList = serde_json::from_str(body).unwrap();
        assert_eq!(page.attributes.len(), 2);
        let index = &page.attributes[0];
        assert!(index.tags.is_empty());
        assert_eq!(index.related_artifacts.len(), 2);
        assert_eq!(
            index.related_artifacts[1].architecture.as_deref(),
            Some("riscv128")
        );
        assert_eq!(
            index.related_artifacts[1].operating_system.as_deref(),
            Some("plan9")
        );
        assert_eq!(
            index.changeable_attributes.quarantine_state.as_deref(),
            Some("Passed")
        );
        assert!(index.changeable_attributes.quarantine_details.is_some());
        let image = &page.attributes[1];
        assert_eq!(image.architecture.as_deref(), Some("amd64"));
        assert_eq!(image.size, None);
        assert_eq!(image.created_on, None);
        assert_eq!(image.changeable_attributes, ChangeableAttributes::default());
        assert!(page.link.is_some());
    }

    #[test]
    fn repository_properties_and_lists() {
        let body = r#"{"registry":"r.azurecr.io","imageName":"hello-world","createdTime":"2021-05-04T11:41:40.4577545Z",
            "lastUpdateTime":"2021-05-04T11:41:41.3120386Z","manifestCount":11,"tagCount":1,
            "changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true,"teleportEnabled":false}}"#;
        let p: RepositoryProperties = serde_json::from_str(body).unwrap();
        assert_eq!(p.registry_login_server, "r.azurecr.io");
        assert_eq!(p.name, "hello-world");
        assert_eq!(p.manifest_count, 11);
        assert_eq!(p.tag_count, 1);
        assert_eq!(p.changeable_attributes.teleport_enabled, Some(false));
        assert!(p.created_on < p.last_updated_on);

        let list: RepositoryList =
            serde_json::from_str(r#"{"repositories": ["library/alpine", "library/busybox"]}"#)
                .unwrap();
        assert_eq!(list.names, ["library/alpine", "library/busybox"]);
        let empty: RepositoryList = serde_json::from_str(r#"{"repositories": null}"#).unwrap();
        assert!(empty.names.is_empty());
        let empty: RepositoryList = serde_json::from_str("{}").unwrap();
        assert!(empty.names.is_empty());

        let del: DeleteRepositoryResult = serde_json::from_str(
            r#"{"manifestsDeleted": ["sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af"], "tagsDeleted": ["latest"]}"#,
        )
        .unwrap();
        assert_eq!(del.deleted_manifests.len(), 1);
        assert_eq!(del.deleted_tags, ["latest"]);
    }

    #[test]
    fn missing_required_pieces_fail() {
        assert!(serde_json::from_str::<TagAttributes>(r#"{"name":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<TagAttributes>(r#"{"name":"x","digest":"md5:abc"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<ArtifactTagProperties>(
                r#"{"registry":"r","imageName":"i","tag":{"name":"t","digest":"sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f","createdTime":"soon"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn serialises_with_wire_names() {
        let page: TagList = serde_json::from_str(TAG_PAGE).unwrap();
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["registry"], "paulvaneckcr1.azurecr.io");
        assert_eq!(json["imageName"], "library/hello-world");
        assert_eq!(
            json["tags"][0]["createdTime"],
            "2024-04-25T02:20:47.9352988Z"
        );
        assert_eq!(
            json["tags"][0]["changeableAttributes"]["deleteEnabled"],
            true
        );
        assert!(json.get("link").is_none());
        let again: TagList = serde_json::from_value(json).unwrap();
        assert_eq!(again, page);
    }

    #[test]
    fn writeable_properties_send_only_what_is_set() {
        assert_eq!(
            serde_json::to_string(&ManifestWriteableProperties::default()).unwrap(),
            "{}"
        );
        assert!(ManifestWriteableProperties::default().is_empty());
        let all = TagWriteableProperties {
            can_delete: Some(false),
            can_write: Some(false),
            can_list: Some(false),
            can_read: Some(false),
        };
        assert!(!all.is_empty());
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"{"deleteEnabled":false,"writeEnabled":false,"listEnabled":false,"readEnabled":false}"#
        );
        let read = RepositoryWriteableProperties {
            can_read: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"readEnabled":true}"#
        );

        let attrs = ChangeableAttributes {
            can_delete: Some(true),
            can_write: Some(false),
            quarantine_state: Some("Passed".into()),
            ..Default::default()
        };
        let from: ManifestWriteableProperties = (&attrs).into();
        assert_eq!(
            serde_json::to_string(&from).unwrap(),
            r#"{"deleteEnabled":true,"writeEnabled":false}"#
        );
    }
}
