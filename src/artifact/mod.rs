//! Files as OCI artifacts, the way [oras](https://oras.land) pushes and pulls them: [`push`] files
//! and directories as one artifact, [`pull`] them back into a directory, through the shared
//! [cache](crate::cache) when asked, offline when asked.
//!
//! The layout is oras's: an OCI image manifest with `artifactType` (default
//! [`DEFAULT_ARTIFACT_TYPE`]), the empty config (`application/vnd.oci.empty.v1+json`, the blob
//! `{}`), one layer per file titled with its name ([`TITLE`]), a directory as a tar+gzip layer
//! marked for unpacking ([`UNPACK`], [`CONTENT_DIGEST`]). What `oras push` writes, [`pull`] reads;
//! what [`push`] writes, `oras pull` reads.
//!
//! ```no_run
//! use azcontainerregistry::{Client, ClientOptions, Credential, artifact, cache::Cache};
//! let client = Client::new(
//!     "https://myregistry.azurecr.io",
//!     Credential::anonymous(),
//!     ClientOptions::default(),
//! )?;
//! artifact::push(
//!     &client,
//!     "schemas/bundle:v3",
//!     &[artifact::FileSpec::new("schema.json"), artifact::FileSpec::new("examples")],
//!     artifact::PushOptions::default(),
//! )?;
//! let options = artifact::PullOptions {
//!     cache: Some(Cache::from_env()?),
//!     ..Default::default()
//! };
//! artifact::pull(&client, "schemas/bundle:v3", "out", options)?;
//! // out/schema.json, out/examples/…
//! # Ok::<(), azcontainerregistry::Error>(())
//! ```

mod pack;
mod pull;
mod push;
mod target;
mod title;

pub use pack::{CONTENT_DIGEST, UNPACK};
pub use pull::{PullOptions, PullReport, PulledFile, pull};
pub use push::{DEFAULT_ARTIFACT_TYPE, FileSpec, PushOptions, PushReport, TITLE, push};
