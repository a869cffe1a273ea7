//! Retention (`azcontainerregistry::purge`): planning and applying purges.
//!
//! - `acr`: on the stateful fake ACR (`support::fake_acr`): filters, ages, `keep`, ordering,
//!   paging at the largest page size (request counts), locks, untagged manifests, indexes and
//!   their children, referrers, a failed delete in the middle and a rerun, the cap, parallelism.
//! - `acr_mock`: a dry run against the strict mockito ACR (`support::acr_mock`): no DELETE.
//! - `oci`: on the real distribution registry (deletes enabled): ages from image configs, tags
//!   that go only with their manifest, indexes, the untagged notice.
//! - `cli`: `acr purge` as a process (feature `cli`).

mod acr;
mod acr_mock;
#[cfg(feature = "cli")]
mod cli;
mod oci;
