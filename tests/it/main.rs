//! The integration tests, as one binary (`cargo test --test it`).

mod acr;
mod behaviour;
#[cfg(feature = "azure")]
mod azure_identity;
mod blob;
#[cfg(feature = "cli")]
mod cli;
mod examples;
mod image;
mod oci;
mod support;
