//! `acr`: a crane-like command-line tool for Azure Container Registry and any OCI registry, built
//! only on the library's public API.
//!
//! ```text
//! cargo run --features cli --bin acr -- --registry http://127.0.0.1:5000 push ./layout hello:v1
//! cargo run --features cli --bin acr -- --registry https://myregistry.azurecr.io \
//!     tags hello --orderby timedesc
//! ```
//!
//! The registry (`--registry` or `ACR_REGISTRY`) is a URL; a bare `host[:port]` means `https://`,
//! or `http://` on loopback. A reference may name its own registry (`127.0.0.1:5001/app:v1`), e.g.
//! to `copy` across registries.
//!
//! Authentication (`--auth`, default `auto`): basic when a username is given (flags or
//! `ACR_USERNAME`/`ACR_PASSWORD`, `--password-stdin`); else the credentials `docker login`,
//! `podman login`, `az acr login` or `acr login` stored for the registry (Docker's `config.json`,
//! the containers `auth.json`, their credential helpers); else the default Azure credential chain
//! when the registry is an Azure one (`AZURE_REGISTRY_SUFFIXES`: `*.azurecr.io`, `.cn`, `.us`,
//! and the air-gapped clouds'); anonymous
//! otherwise, so a local registry never triggers a managed-identity probe. `login` and `logout`
//! store and remove credentials as `docker login`/`logout` do.
//!
//! Output, for scripts:
//! - stdout carries the result only: names one per line (`repos`, `tags`, `manifests`), a digest
//!   (`blob put`, `manifest put`, `push`, `pull`, `copy`, `attach`, `digest`), a manifest's exact
//!   bytes (`manifest get`), a config blob's (`config`), a size (`blob exists`), `DIGEST
//!   ARTIFACT_TYPE` lines (`referrers`), a tree (`discover`), one `deleted ...`/`updated
//!   ...`/`mounted ...`/`tagged ...`/`signed in ...`/`signed out ...` line, or readable `show`
//!   lines; `--json` turns listings, `show`, `set`, `referrers`, `discover` and `delete-repo`
//!   into JSON (the wire field names; `tags --json` lists tag objects with digests and times
//!   under the ACR API, names otherwise), and the report of `push`, `pull`, `copy` and `attach`
//!   into a JSON object.
//! - Listings are printed page by page as they arrive (a failure on a later page leaves the
//!   earlier ones printed). A closed stdout (`acr repos | head`) ends the command quietly, exit 0.
//! - Text from a registry or an image is printed with control characters escaped (`output.rs`);
//!   JSON stays exact.
//! - Logs (`-v`, `--debug`, `RUST_LOG`) go to stderr, redacted (`logger.rs`).
//! - `artifact push` and `artifact pull` print the artifact's digest (`--json`: its layers or the
//!   files written); `artifact pull` notes each file on stderr, and where an offline digest came
//!   from.
//! - stderr carries notes (what a transfer did, where `--output` went) and progress bars (only when
//!   stderr is a terminal).
//! - An error is ONE stderr line starting `acr: error: `, exit status 1 (2 for usage errors, from
//!   the argument parser). `blob exists` answers like `grep`: 0 and the size when the blob is
//!   there, 1 when it is not, 2 on an error.
//! - `delete` and `delete-repo` succeed when the target is already gone (a note says so when
//!   known).
//! - `purge` prints its plan table and one summary line on stdout (with `--json`, one JSON document
//!   at the end), a progress bar and one note per failed deletion on stderr; a failed deletion
//!   makes it end with the error line.
// The clap argument docs double as `--help` text, where a URL is plain text, not a link.
#![allow(rustdoc::bare_urls)]

mod args;
mod artifact;
mod attach;
mod blob;
mod connect;
mod crane;
mod credential;
mod delete;
mod discover;
mod host;
mod image;
mod list;
mod logger;
mod login;
mod manifest;
mod output;
mod progress;
mod props;
mod purge;
mod referrers;
mod upload_state;

use std::error::Error;
use std::io;
use std::process::ExitCode;

use clap::Parser;

use args::{Api, BlobCommand, Cli, Command};

/// What every command returns: any error ends up as the one `acr: error:` line.
type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Runs the command line; an error is one stderr line and exit status 1 (2 for `blob exists`); a
/// closed stdout ends it quietly with status 0.
fn main() -> ExitCode {
    let cli = Cli::parse();
    logger::init(cli.verbose, cli.debug);
    run(&cli).unwrap_or_else(|e| {
        if stdout_closed(e.as_ref()) {
            // `acr repos | head`: the reader has what it wanted
            return ExitCode::SUCCESS;
        }
        output::note(format!(
            "acr: error: {}",
            error_line(&cli.command, e.as_ref())
        ));
        // `blob exists` is a predicate: 1 means "absent", so an error must be something else
        if matches!(cli.command, Command::Blob(BlobCommand::Exists { .. })) {
            ExitCode::from(2)
        } else {
            ExitCode::FAILURE
        }
    })
}

/// Runs the command; its exit status on success (only `blob exists` may answer 1).
fn run(cli: &Cli) -> AnyResult<ExitCode> {
    if let Some(name) = cli.command.acr_only()
        && cli.api == Api::Oci
    {
        return Err(
            format!("{name} needs the ACR API (/acr/v1); it cannot work with --api oci").into(),
        );
    }
    match &cli.command {
        Command::Blob(command) => return blob::run(cli, command),
        Command::Login { registry, azure } => login::login(cli, registry.as_deref(), *azure),
        Command::Logout { registry } => login::logout(cli, registry.as_deref()),
        Command::Catalog {
            registry,
            page_size,
        } => {
            let reg = match registry {
                Some(r) => host::with_scheme(r, cli.plain_http),
                None => connect::registry(cli)?,
            };
            list::repos(cli, &reg, *page_size, None)
        }
        Command::Digest { reference } => crane::digest(cli, reference),
        Command::Tag { reference, tag } => crane::tag(cli, reference, tag),
        Command::Config {
            reference,
            platform,
        } => crane::config(cli, reference, platform.as_deref()),
        Command::Repos { page_size, last } => {
            list::repos(cli, &connect::registry(cli)?, *page_size, last.as_deref())
        }
        Command::Tags {
            repo,
            page_size,
            orderby,
            digest,
        } => list::tags(cli, repo, *page_size, *orderby, digest.as_deref()),
        Command::Manifests {
            repo,
            page_size,
            orderby,
        } => list::manifests(cli, repo, *page_size, *orderby),
        Command::Show { target } => props::show(cli, target),
        Command::Set {
            target,
            permissions,
        } => props::set(cli, target, permissions),
        Command::Delete { target } => delete::delete(cli, target),
        Command::DeleteRepo { repo } => delete::delete_repo(cli, repo),
        Command::Manifest(command) => manifest::run(cli, command),
        Command::Pull {
            reference,
            dir,
            platform,
            referrers,
        } => image::pull(cli, reference, dir, platform, *referrers),
        Command::Push {
            dir,
            reference,
            referrers,
        } => image::push(cli, dir, reference, *referrers),
        Command::Copy {
            source,
            destination,
            platform,
            referrers,
        } => image::copy(cli, source, destination, platform, *referrers),
        Command::Attach {
            reference,
            artifact_type,
            files,
            annotation,
        } => attach::attach(cli, reference, artifact_type, files, annotation),
        Command::Discover {
            reference,
            artifact_type,
            depth,
        } => discover::discover(cli, reference, artifact_type.as_deref(), *depth),
        Command::Referrers {
            reference,
            artifact_type,
        } => referrers::referrers(cli, reference, artifact_type.as_deref()),
        Command::Purge(args) => purge::purge(cli, args),
        Command::Artifact(command) => artifact::run(cli, command),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Whether the command failed because its stdout was closed (a broken pipe).
fn stdout_closed(e: &(dyn Error + 'static)) -> bool {
    let io_error = e.downcast_ref::<io::Error>().or_else(|| {
        e.downcast_ref::<azcontainerregistry::Error>()
            .and_then(|e| match e {
                azcontainerregistry::Error::Io(io) => Some(io),
                _ => None,
            })
    });
    io_error.is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The error on one line (escaped when printed); for an ACR-only command that got a bare 404, a
/// hint that the registry may lack the ACR API; for plain http, the flag that allows it.
fn error_line(command: &Command, e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string().replace(['\r', '\n'], " ");
    text = text.replace("ClientOptions::allow_http", "--plain-http");
    if command.acr_only().is_some() && without_acr_api(e) {
        text.push_str(
            " (does this registry have the ACR API? show, set, manifests and delete-repo need \
             Azure Container Registry)",
        );
    }
    text
}

/// A bare 404 (no registry error body): what a registry without the `/acr/v1` routes answers.
fn without_acr_api(e: &(dyn Error + 'static)) -> bool {
    e.downcast_ref::<azcontainerregistry::Error>()
        .and_then(|e| e.registry_error())
        .is_some_and(|r| r.status == 404 && r.errors.is_empty())
}
