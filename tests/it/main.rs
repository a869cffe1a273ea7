//! The integration tests, as ONE test binary: `cargo test --test it` (cargo finds
//! `tests/it/main.rs` by itself). One binary links once and builds the harness once; the price is a
//! shared process, so no test may change anything process-global (see `support::child` for tests
//! that need their own environment or memory figures).
//!
//! Modules, one per area (a test's full name is its module path, e.g. `blob::sessions::deletes`):
//!
//! - `acr`: the ACR metadata API (`/acr/v1`, `/oauth2`) against a mock ACR: auth, repositories,
//!   tags, manifests, input validation.
//! - `artifact`: files as artifacts (`artifact::push`/`pull`), the blob cache (request counts,
//!   processes sharing it, eviction), offline pulls, the `build::fetch` acceptance test (a fixture
//!   crate built twice), `acr artifact`, interop with the `oras` Python package.
//! - `azure_identity`: Azure AD sign-in through `azure_identity` on loopback fakes (feature
//!   `azure`).
//! - `behaviour`: the same operations against every real-registry set-up (no auth, Basic,
//!   Bearer).
//! - `blob`: blob uploads and downloads: real registry, cut connections, ACR-only behaviour on
//!   mocks, 100 MiB in bounded memory.
//! - `cli`: the `acr` binary as a process (feature `cli`): `cli::oci` on the real registry,
//!   `cli::acr` on the mock ACR.
//! - `examples`: the examples, built and run against the real registry.
//! - `faults`: 50 uploads and 50 downloads of 8 MiB through the fault proxy, cut at random offsets.
//! - `hostile`: a table of misbehaving registries (raw loopback server), library and CLI.
//! - `image`: `image::push`/`pull`/`copy` on OCI layouts, interop with skopeo.
//! - `net`: the network layer against scripted loopback servers: throttling and the retry budget,
//!   deadlines and minimum progress, proxies, Azure AD token hosts, error messages, what is not
//!   retried.
//! - `purge`: retention (`azcontainerregistry::purge`, `acr purge`) on the fake ACR and the real
//!   registry.
//! - `oci`: the OCI distribution API on `Client`: catalog, manifests, referrers, connection reuse.
//! - `signin`: Docker/containers config files, credential helpers, identity and registry tokens,
//!   ACR recognised by behaviour, Azure AD credentials built by the caller.
//! - `props`: property tests (proptest) of the parsers: references, digests, `Content-Range`,
//!   timestamps, challenges, manifests.
//! - `referrers`: supply-chain artifacts: attach, discover, copy with referrers; the tag schema on
//!   the real registry, the referrers API on mocks, copies between them, the CLI commands.
//! - `support`: the harness: real registry, token issuer, fault proxy, mock ACR, child processes.
//!
//! Run one area, one module or one test by name filter:
//!
//! ```text
//! cargo test --all-features --test it -- acr::
//! cargo test --all-features --test it -- behaviour::bearer::
//! cargo test --all-features --test it -- --exact blob::sessions::deletes
//! ```
//!
//! The tests that need the real registry start `docker-registry` (and use `htpasswd`, `skopeo`): a
//! missing tool fails the test with the install command, it never skips.

mod acr;
mod artifact;
#[cfg(feature = "azure")]
mod azure_identity;
mod behaviour;
mod blob;
#[cfg(feature = "cli")]
mod cli;
mod examples;
mod faults;
mod hostile;
mod image;
mod net;
mod oci;
mod props;
mod purge;
mod referrers;
mod signin;
mod support;
