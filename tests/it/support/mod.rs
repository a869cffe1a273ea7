//! Shared integration-test harness.
//!
//! The harness of the `it` binary, used by every test module as `crate::support`.
//!
//! - [`Registry`]: a real CNCF distribution registry 2.8.2 (`/usr/bin/docker-registry`) on a free
//!   loopback port, with plain, htpasswd (Basic) or token (Bearer) auth, optionally with
//!   `http.relativeurls: true`. Killed (by PID) and its storage removed on drop, also on panic.
//! - [`TokenIssuer`]: the Docker token endpoint (`GET /token?service=..&scope=..`) that signs ES256
//!   JWTs the registry accepts; counts requests per scope.
//! - [`FaultProxy`]: a TCP proxy that can cut connections after N bytes in either direction.
//! - [`hostile`]: a scriptable misbehaving HTTP/1.1 server (raw bytes, trickling, silence).
//! - [`http`]: a raw std-only HTTP/1.1 client for seeding/inspecting the registry.
//! - [`blob_server`]: one blob over HTTP/1.1 with `Range`, misbehaving on demand (ignoring
//!   `Range`, short, corrupt or cut ranges, redirects to expiring storage URLs), throttled, logged.
//! - [`counting_proxy`]: a TCP proxy recording the request line of every request (round trips).
//! - [`acr_mock`]: a mock Azure Container Registry on mockito (challenge, `/oauth2/exchange`,
//!   `/oauth2/token`, sign-in flows, paged listings), `FakeAad`, fixtures from
//!   `tests/it/fixtures/`.
//! - [`fake_acr`]: a stateful fake ACR (std only): listings, deletions, locks, request counts.
//! - [`mock`]: mockito helpers: the catch-all that fails loudly, a strict server, `assert_all`.
//! - [`child`]: runs a test's body in a child process (another environment, its own memory
//!   figures).
//! - [`layout`]: a two-platform image written into an OCI layout; a layout's blob files, verified.
//! - Clients with default options: [`client`], [`client_with`], [`blob_client`],
//!   [`blob_client_with`].
//! - Helpers: [`free_port`], [`sha256_hex`], [`pseudo_random`], [`pseudo_random_reader`],
//!   [`require_tool`].
//!
//! Everything is std-only blocking code and binds to 127.0.0.1 only.
#![allow(dead_code, unused_imports)]

pub mod acr_mock;
pub mod blob_server;
pub mod child;
pub mod cli;
pub mod counting_proxy;
pub mod fake_acr;
pub mod fault_proxy;
pub mod hostile;
pub mod http;
pub mod layout;
pub mod mock;
pub mod registry;
pub mod token_issuer;
pub mod upload_server;

pub use fault_proxy::{Direction, FaultProxy};
pub use http::RawResponse;
pub use registry::{OCI_MANIFEST, Registry, RegistryBuilder, TestImage, require_tool};
pub use token_issuer::{GrantPolicy, TokenIssuer, TokenIssuerConfig, TokenRequest};

use std::io::{self, Read};
use std::net::TcpListener;

use azcontainerregistry::{BlobClient, Client, ClientOptions, Credential};

/// A `Client` for `url` with `credential` and default options.
pub fn client_with(url: &str, credential: Credential) -> Client {
    Client::new(url, credential, ClientOptions::default())
        .unwrap_or_else(|e| panic!("client for {url}: {e}"))
}

/// An anonymous `Client` for `url` with default options.
pub fn client(url: &str) -> Client {
    client_with(url, Credential::anonymous())
}

/// A `BlobClient` for `url` with `credential` and default options.
pub fn blob_client_with(url: &str, credential: Credential) -> BlobClient {
    BlobClient::new(url, credential, ClientOptions::default())
        .unwrap_or_else(|e| panic!("blob client for {url}: {e}"))
}

/// An anonymous `BlobClient` for `url` with default options.
pub fn blob_client(url: &str) -> BlobClient {
    blob_client_with(url, Credential::anonymous())
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to `:0`, then released).
///
/// Someone else may take it before you bind it: callers that start a server on it should retry on
/// "address already in use" (as [`Registry`] does).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("free_port: cannot bind 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("free_port: no local address: {e}"))
        .port()
}

/// Lowercase hex SHA-256 of `bytes` (without the `sha256:` prefix).
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(bytes.as_ref()))
}

/// `sha256:<hex>` digest of `bytes`.
pub fn sha256_digest(bytes: impl AsRef<[u8]>) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lowercase hex SHA-256 of everything `reader` yields (streams; does not buffer it all).
pub fn sha256_hex_of_reader(mut reader: impl Read) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("sha256_hex_of_reader: read failed: {e}"),
        };
        hasher.update(&buf[..n]);
    }
    format!("{:x}", hasher.finalize())
}

/// `len` deterministic pseudo-random bytes for `seed` (xorshift64; not cryptographic).
///
/// Identical to what [`pseudo_random_reader`]`(len, seed)` yields.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut reader = pseudo_random_reader(len, seed);
    reader.fill(&mut out);
    out
}

/// A reader yielding the same `len` bytes as [`pseudo_random`]`(len, seed)` without allocating
/// them.
pub fn pseudo_random_reader(len: usize, seed: u64) -> PseudoRandomReader {
    PseudoRandomReader {
        state: seed_state(seed),
        remaining: len,
        word: [0; 8],
        word_pos: 8,
    }
}

/// See [`pseudo_random_reader`].
#[derive(Debug, Clone)]
pub struct PseudoRandomReader {
    state: u64,
    remaining: usize,
    word: [u8; 8],
    word_pos: usize,
}

impl PseudoRandomReader {
    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    fn next_word(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// Fills `buf` completely (caller guarantees `buf.len() <= remaining`).
    fn fill(&mut self, buf: &mut [u8]) {
        let n = buf.len();
        let mut i = 0;
        while i < n && self.word_pos < 8 {
            buf[i] = self.word[self.word_pos];
            self.word_pos += 1;
            i += 1;
        }
        while n - i >= 8 {
            let w = self.next_word().to_le_bytes();
            buf[i..i + 8].copy_from_slice(&w);
            i += 8;
        }
        if i < n {
            self.word = self.next_word().to_le_bytes();
            self.word_pos = 0;
            while i < n {
                buf[i] = self.word[self.word_pos];
                self.word_pos += 1;
                i += 1;
            }
        }
        self.remaining -= n;
    }
}

impl Read for PseudoRandomReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.remaining);
        self.fill(&mut buf[..n]);
        Ok(n)
    }
}

/// splitmix64 of the seed, so that nearby seeds give unrelated streams; never 0 (xorshift's fixed
/// point).
fn seed_state(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z == 0 { 0x2545_F491_4F6C_DD1D } else { z }
}

/// Percent-decodes a URL query component (`+` means space).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
