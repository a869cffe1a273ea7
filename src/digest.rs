//! Content digests: parsing, hashing while bytes flow, and verification at end of stream.
//!
//! A [`Digest`] is `algorithm:hex`; `sha256` and `sha512` are supported. [`DigestReader`] hashes
//! what it reads and turns end-of-stream into an error when the bytes do not match (wrong digest or
//! wrong length), so a caller that copies it to completion has verified it. [`DigestWriter`] hashes
//! what is written through it. [`DigestCalculator`] is the Go SDK's `BlobDigestCalculator`: it
//! hashes chunks as they are uploaded and can save and restore its state so a failed chunk is not
//! hashed twice.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, the default everywhere.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in digests (`sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest such as `sha256:2cf24d…`.
///
/// ```
/// use azcontainerregistry::Digest;
/// let d: Digest =
///     "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".parse()?;
/// assert_eq!(d, Digest::of(b"hello"));
/// assert_eq!(d.hex().len(), 64);
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    value: String,
}

impl Digest {
    /// Parses and validates `algorithm:hex` (lowercase hex of the right length).
    pub fn parse(s: &str) -> Result<Self> {
        let rule = "a digest is sha256:<64 lowercase hex> or sha512:<128 lowercase hex>";
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| Error::invalid("digest", s, rule))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(Error::invalid("digest", s, rule)),
        };
        if hex.len() != algorithm.hex_len()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::invalid("digest", s, rule));
        }
        Ok(Digest {
            algorithm,
            value: s.to_string(),
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(bytes);
        h.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.value[self.algorithm.as_str().len() + 1..]
    }

    /// The whole digest as a string.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Checks that `bytes` hash to this digest.
    pub fn verify(&self, what: &'static str, bytes: &[u8]) -> Result<()> {
        let mut h = Hasher::new(self.algorithm);
        h.update(bytes);
        let actual = h.finish();
        if &actual == self {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                what,
                expected: self.to_string(),
                actual: actual.to_string(),
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.value)
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An incremental hash for one [`Algorithm`].
#[derive(Clone)]
pub struct Hasher {
    state: HasherState,
}

#[derive(Clone)]
enum HasherState {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => HasherState::Sha256(Sha256::new()),
            Algorithm::Sha512 => HasherState::Sha512(Sha512::new()),
        };
        Hasher { state }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            HasherState::Sha256(h) => h.update(bytes),
            HasherState::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far (the hasher itself is left as it was).
    pub fn digest(&self) -> Digest {
        self.clone().finish()
    }

    /// Consumes the hasher and returns the digest.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self.state {
            HasherState::Sha256(h) => (Algorithm::Sha256, format!("{:x}", h.finalize())),
            HasherState::Sha512(h) => (Algorithm::Sha512, format!("{:x}", h.finalize())),
        };
        Digest {
            algorithm,
            value: format!("{}:{hex}", algorithm.as_str()),
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher")
    }
}

/// Hashes bytes as they are delivered and judges the end of stream: the length (the caller's, and
/// the one a server announced) and the digest. Shared by [`DigestReader`] and the blob reader.
#[derive(Debug)]
pub(crate) struct Verifier {
    hasher: Hasher,
    expected: Digest,
    /// A size the caller vouched for.
    expected_size: Option<u64>,
    seen: u64,
    verified: bool,
}

impl Verifier {
    /// Expects `expected`, and `expected_size` bytes when given.
    pub(crate) fn new(expected: Digest, expected_size: Option<u64>) -> Self {
        Verifier {
            hasher: Hasher::new(expected.algorithm()),
            expected,
            expected_size,
            seen: 0,
            verified: false,
        }
    }

    /// The digest the bytes must have.
    pub(crate) fn expected(&self) -> &Digest {
        &self.expected
    }

    /// Bytes hashed so far.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// True once [`finish`](Self::finish) succeeded.
    pub(crate) fn is_verified(&self) -> bool {
        self.verified
    }

    /// Also requires exactly `size` bytes.
    pub(crate) fn expect_size(&mut self, size: u64) {
        self.expected_size = Some(size);
    }

    /// Hashes the next bytes; more than the expected size is an error at once.
    pub(crate) fn update(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.seen += bytes.len() as u64;
        if let Some(size) = self.expected_size
            && self.seen > size
        {
            return Err(error_to_io(Error::SizeMismatch {
                what: "blob",
                expected: size,
                actual: self.seen,
            }));
        }
        self.hasher.update(bytes);
        Ok(())
    }

    /// At end of stream: the length (the caller's and the announced `total`) and the digest.
    pub(crate) fn finish(&mut self, total: Option<u64>) -> io::Result<()> {
        if self.verified {
            return Ok(());
        }
        for expected in [self.expected_size, total].into_iter().flatten() {
            if expected != self.seen {
                return Err(error_to_io(Error::SizeMismatch {
                    what: "blob",
                    expected,
                    actual: self.seen,
                }));
            }
        }
        let actual = self.hasher.digest();
        if actual != self.expected {
            return Err(error_to_io(Error::DigestMismatch {
                what: "blob",
                expected: self.expected.to_string(),
                actual: actual.to_string(),
            }));
        }
        self.verified = true;
        Ok(())
    }
}

/// A reader that hashes what passes through it and, at end of stream, fails unless the bytes match
/// the expected digest (and length, when one is given).
///
/// ```
/// use azcontainerregistry::{Digest, DigestReader};
/// use std::io::Read;
/// let mut r = DigestReader::new(&b"hello"[..], Digest::of(b"hello"), Some(5));
/// let mut out = Vec::new();
/// r.read_to_end(&mut out)?;
/// let mut bad = DigestReader::new(&b"hellO"[..], Digest::of(b"hello"), None);
/// assert!(bad.read_to_end(&mut Vec::new()).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DigestReader<R> {
    inner: R,
    verifier: Verifier,
}

impl<R: Read> DigestReader<R> {
    /// Wraps `inner`; `expected_len`, when given, is checked too.
    pub fn new(inner: R, expected: Digest, expected_len: Option<u64>) -> Self {
        DigestReader {
            inner,
            verifier: Verifier::new(expected, expected_len),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.verifier.seen()
    }

    /// True once end of stream was reached and the content matched.
    pub fn is_verified(&self) -> bool {
        self.verifier.is_verified()
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.verifier.finish(None)?;
            return Ok(0);
        }
        self.verifier.update(&buf[..n])?;
        Ok(n)
    }
}

/// Wraps a crate error in an `io::Error` so it can travel through `Read`/`Write`; [`io_to_error`]
/// unwraps it.
pub(crate) fn error_to_io(e: Error) -> io::Error {
    let kind = match &e {
        Error::Io(io) => io.kind(),
        Error::DigestMismatch { .. } | Error::SizeMismatch { .. } => io::ErrorKind::InvalidData,
        Error::Timeout { .. } => io::ErrorKind::TimedOut,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// Recovers a crate error carried in an `io::Error`, or wraps a plain I/O error.
pub(crate) fn io_to_error(e: io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        match e.into_inner().map(|b| b.downcast::<Error>()) {
            Some(Ok(err)) => *err,
            Some(Err(other)) => Error::Io(io::Error::other(other)),
            None => Error::Io(io::Error::other("unknown I/O error")),
        }
    } else {
        Error::Io(e)
    }
}

/// A writer that hashes what is written through it.
///
/// ```
/// use azcontainerregistry::{Algorithm, Digest, DigestWriter};
/// use std::io::Write;
/// let mut w = DigestWriter::new(Vec::new(), Algorithm::Sha256);
/// w.write_all(b"hello")?;
/// let (bytes, digest, len) = w.finish();
/// assert_eq!(
///     (bytes.as_slice(), digest, len),
///     (&b"hello"[..], Digest::of(b"hello"), 5)
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DigestWriter<W> {
    inner: W,
    hasher: Hasher,
    written: u64,
}

impl<W: Write> DigestWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, algorithm: Algorithm) -> Self {
        DigestWriter {
            inner,
            hasher: Hasher::new(algorithm),
            written: 0,
        }
    }

    /// The inner writer, the digest of what was written, and its length.
    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.hasher.finish(), self.written)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The digest of a blob uploaded chunk by chunk, with the Go SDK's semantics: call
/// [`save`](Self::save) before sending a chunk through [`wrap_reader`](Self::wrap_reader), and
/// [`restore`](Self::restore) when the chunk failed, so retried bytes are hashed once.
///
/// ```
/// use azcontainerregistry::{Digest, DigestCalculator};
/// use std::io::Read;
/// let mut calc = DigestCalculator::new();
/// calc.save();
/// calc.wrap_reader(&b"hel"[..]).read_to_end(&mut Vec::new())?; // this chunk failed on the wire…
/// calc.restore(); // …so forget it
/// calc.save();
/// calc.wrap_reader(&b"hel"[..]).read_to_end(&mut Vec::new())?;
/// calc.save();
/// calc.wrap_reader(&b"lo"[..]).read_to_end(&mut Vec::new())?;
/// assert_eq!(calc.digest(), Digest::of(b"hello"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DigestCalculator {
    hasher: Hasher,
    saved: Option<(Hasher, u64)>,
    len: u64,
}

impl Default for DigestCalculator {
    fn default() -> Self {
        Self::new()
    }
}

impl DigestCalculator {
    /// A SHA-256 calculator.
    pub fn new() -> Self {
        DigestCalculator {
            hasher: Hasher::new(Algorithm::Sha256),
            saved: None,
            len: 0,
        }
    }

    /// Remembers the current state (call before each chunk).
    pub fn save(&mut self) {
        self.saved = Some((self.hasher.clone(), self.len));
    }

    /// Returns to the state last saved (call when a chunk failed).
    pub fn restore(&mut self) {
        if let Some((h, len)) = self.saved.clone() {
            self.hasher = h;
            self.len = len;
        }
    }

    /// Hashes `bytes` directly.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// A reader that hashes what is read from `inner` into this calculator.
    pub fn wrap_reader<'a, R: Read + 'a>(&'a mut self, inner: R) -> impl Read + 'a {
        CalcReader { inner, calc: self }
    }

    /// The digest of everything hashed so far.
    pub fn digest(&self) -> Digest {
        self.hasher.digest()
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was hashed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

struct CalcReader<'a, R> {
    inner: R,
    calc: &'a mut DigestCalculator,
}

impl<R: Read> Read for CalcReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.calc.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn parse_and_reject() {
        let d = Digest::parse(HELLO).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d, Digest::of(b"hello"));
        for bad in [
            "",
            "sha256",
            "sha256:",
            "md5:abc",
            "sha256:ABC",
            &HELLO.to_uppercase(),
            &HELLO[..70],
        ] {
            let e = Digest::parse(bad).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { what: "digest", .. }),
                "{bad}: {e}"
            );
        }
        let sha512 = format!("sha512:{}", "a".repeat(128));
        assert_eq!(
            Digest::parse(&sha512).unwrap().algorithm(),
            Algorithm::Sha512
        );
    }

    #[test]
    fn reader_verifies_length_and_digest() {
        let mut ok = DigestReader::new(&b"hello"[..], Digest::of(b"hello"), Some(5));
        let mut v = Vec::new();
        ok.read_to_end(&mut v).unwrap();
        assert!(ok.is_verified());
        let mut short = DigestReader::new(&b"hell"[..], Digest::of(b"hello"), Some(5));
        let e = io_to_error(short.read_to_end(&mut Vec::new()).unwrap_err());
        assert!(
            matches!(
                e,
                Error::SizeMismatch {
                    expected: 5,
                    actual: 4,
                    ..
                }
            ),
            "{e}"
        );
        let mut long = DigestReader::new(&b"hello!"[..], Digest::of(b"hello"), Some(5));
        assert!(long.read_to_end(&mut Vec::new()).is_err());
        let mut wrong = DigestReader::new(&b"HELLO"[..], Digest::of(b"hello"), None);
        let e = io_to_error(wrong.read_to_end(&mut Vec::new()).unwrap_err());
        assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    }

    #[test]
    fn calculator_restores_state() {
        let mut c = DigestCalculator::new();
        c.save();
        c.update(b"garbage");
        c.restore();
        c.save();
        c.update(b"hel");
        c.save();
        c.update(b"lo");
        assert_eq!(c.digest(), Digest::of(b"hello"));
        assert_eq!(c.len(), 5);
    }
}
