//! Retention: plan and purge old images, on Azure Container Registry and on any OCI registry —
//! acr-cli's `acr purge` as a library call.
//!
//! [`plan`] reads the registry and decides, for every tag the [`RetentionPolicy`]'s filters match
//! (and, when asked, every untagged manifest), whether it goes and why; nothing is changed.
//! [`apply`] carries a [`Plan`] out on a bounded pool of threads and reports each deletion. A dry
//! run is a plan that is printed and not applied.
//!
//! ```no_run
//! use std::time::Duration;
//! use azcontainerregistry::{Client, ClientOptions, Credential, purge};
//! let client = Client::new(
//!     "https://myregistry.azurecr.io",
//!     Credential::anonymous(),
//!     ClientOptions::default(),
//! )?;
//! let policy = purge::RetentionPolicy {
//!     filters: vec!["hello-world:.*".parse()?],
//!     older_than: Some(purge::parse_duration("30d")?),
//!     keep: 5,
//!     ..Default::default()
//! };
//! let plan = purge::plan(&client, &policy)?;
//! for e in plan.deletions() {
//!     println!("would delete {} ({})", e.name(), e.decision.reason());
//! }
//! // and to do it:
//! let report = purge::apply(&client, &plan, purge::ApplyOptions::default())?;
//! println!("{} deleted, {} failed", report.deleted(), report.failed());
//! # Ok::<(), azcontainerregistry::Error>(())
//! ```
//!
//! ## What is decided, and how (acr-cli's meanings)
//! - **Filters** (`REPO:TAG`, several allowed) are regular expressions matched against the whole
//!   repository name and the whole tag ([`Filter`]). A tag is a candidate when one filter
//!   matches both its repository and it.
//! - **Age** ([`RetentionPolicy::older_than`], `--ago`): a candidate last updated later than
//!   `now - older_than` is kept (`too-new`). On ACR the time is the tag's (or manifest's)
//!   `lastUpdateTime`; elsewhere it is the image config's `created` (an index: the newest of its
//!   platforms'; an `org.opencontainers.image.created` annotation wins), fetched once per digest.
//!   No time at all keeps it (`no-age`).
//! - **Locks** (ACR): delete or write disabled. Kept (`locked`) unless
//!   [`include_locked`](RetentionPolicy::include_locked), in which case [`apply`] first enables
//!   delete and write on the item, then deletes it.
//! - **Keep** ([`RetentionPolicy::keep`], `--keep N`): of the candidates old enough and not
//!   locked, the newest N of each repository stay (`keep`); the rest go (`expired`).
//! - **Tags and manifests.** On ACR a tag is deleted alone (`/acr/v1/{repo}/_tags/{tag}`); its
//!   manifest stays, untagged, unless untagged manifests are purged too. Other registries cannot
//!   delete a tag alone, so a manifest goes only when all its tags are deleted; its expired tags
//!   are otherwise kept (`referenced`).
//! - **Untagged** ([`Untagged::Also`], `--untagged`; [`Untagged::Only`], `--untagged-only`; ACR
//!   only): manifests without a tag, before or once the plan's tags are gone, and older than the
//!   age, are deleted (`untagged`). Other registries cannot list untagged manifests: the plan
//!   carries a notice saying so (`Also`), or planning fails (`Only`); there the untagged
//!   platform manifests of a deleted index are left to the registry's garbage collection.
//! - **Indexes.** A manifest that an index staying lists is kept (`referenced`), so deleting
//!   never breaks an image that remains; an index is deleted before its platform manifests.
//! - **Referrers** (signatures, SBOMs): a referrer whose subject stays is kept
//!   (`subject-stays`); the referrers of a deleted manifest are reported, and deleted (before
//!   their subject) only with [`include_referrers`](RetentionPolicy::include_referrers).
//! - **Cap**: [`apply`] refuses a plan with more deletions than
//!   [`max_deletes`](RetentionPolicy::max_deletes), before sending anything.
//!
//! [`apply`] is idempotent: a 404 counts as done, so a purge that was interrupted is finished by
//! planning and applying again. A deletion whose prerequisite failed (the index listing it, say)
//! is skipped, never attempted.

mod apply;
mod decide;
mod duration;
mod inventory;
mod plan;
mod policy;
mod pool;

pub use apply::{
    ApplyOptions, ApplyProgress, ApplyProgressFn, ApplyReport, DEFAULT_CONCURRENCY, ItemResult,
    MAX_CONCURRENCY, Outcome,
};
pub use duration::parse_duration;
pub use plan::{Decision, DeleteReason, Entry, KeepReason, Plan};
pub use policy::{Filter, RegistryKind, RetentionPolicy, Untagged};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::Timestamp;

/// Reads the registry and decides what `policy` deletes and keeps; changes nothing. See the
/// [module docs](self).
///
/// Requests: the repository listing and, per matched repository, the tag listing (ACR also the
/// manifest listing when untagged manifests are purged), all at the largest page size (1000).
/// On ACR, untagged candidates that no index lists are fetched to learn their subject. Elsewhere
/// every tag's manifest is fetched, and one config per digest, for ages; and the referrers of
/// each deleted manifest are asked for. Manifests are fetched on up to 6 threads.
pub fn plan(client: &Client, policy: &RetentionPolicy) -> Result<Plan> {
    if policy.filters.is_empty() {
        return Err(Error::invalid(
            "retention policy",
            "no filter",
            "a purge needs at least one REPO:TAG filter (e.g. 'hello-world:.*')",
        ));
    }
    let api = match policy.registry {
        RegistryKind::Auto if client.is_acr()? => RegistryKind::Acr,
        RegistryKind::Auto => RegistryKind::Oci,
        kind => kind,
    };
    let acr = api == RegistryKind::Acr;
    let mut notices = Vec::new();
    if !acr && policy.untagged != Untagged::Skip {
        let text = "untagged manifests cannot be discovered on this registry: the OCI API lists \
                    tags, not manifests (ACR's /acr/v1 does)";
        if policy.untagged == Untagged::Only {
            return Err(Error::invalid("retention policy", "untagged only", text));
        }
        notices.push(format!("{text}; no untagged manifest is deleted"));
    }
    if !acr && policy.include_locked {
        notices.push("locks exist only on ACR: --include-locked changes nothing here".into());
    }
    let now = policy.now.clone().unwrap_or_else(Timestamp::now);
    // zero is "any age", so a manifest without a time is a candidate too
    let cutoff = policy.older_than.filter(|d| !d.is_zero()).map(|d| {
        Timestamp::from_system_time(
            now.system_time()
                .checked_sub(d)
                .unwrap_or(std::time::UNIX_EPOCH),
        )
    });
    let repositories: Vec<String> = inventory::repositories(client, acr)?
        .into_iter()
        .filter(|r| !policy.filters_for(r).is_empty())
        .collect();
    let mut entries = Vec::new();
    let mut oci = inventory::OciReader::new(client);
    for name in &repositories {
        let filters = policy.filters_for(name);
        let facts = if acr {
            inventory::acr_repository(client, name, policy.untagged != Untagged::Skip)
        } else {
            let matched = |t: &str| filters.iter().any(|f| f.matches_tag(t));
            oci.repository(name, matched)
        };
        let facts = match facts {
            Ok(f) => f,
            // deleted since the catalog was read (its last manifest gone): nothing to purge
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        // a registry that cannot list referrers (some answer 400 or 405) leaves them unknown:
        // the plan says so, and deletes none
        let mut referrers =
            |d: &crate::digest::Digest| match inventory::referrers_of(client, name, d) {
                Ok(r) => Ok(r),
                Err(e) if e.registry_error().is_some() => {
                    notices.push(format!("could not list the referrers of {name}@{d}: {e}"));
                    Ok(Vec::new())
                }
                Err(e) => Err(e),
            };
        let lookups = decide::Lookups {
            subjects: &mut |digests| {
                pool::map(digests, pool::LOOKUP_THREADS, |d| {
                    inventory::subject_of(client, name, d)
                })
                .into_iter()
                .collect()
            },
            referrers: &mut referrers,
        };
        entries.extend(decide::repository(
            policy,
            api,
            cutoff.as_ref(),
            &facts,
            &filters,
            lookups,
        )?);
    }
    Ok(Plan {
        registry: client.endpoint().to_string(),
        api,
        now,
        cutoff,
        max_deletes: policy.max_deletes,
        repositories,
        entries,
        notices,
    })
}

/// Carries out `plan`: deletes its entries in dependency order (tags before their manifest, an
/// index before its platform manifests, referrers before their subject) with at most
/// `options.concurrency` threads, unlocking locked ACR items first. A 404 counts as deleted; a
/// failure is reported in its [`ItemResult`] and the rest goes on, except what depended on it
/// (skipped). Fails before any request when the plan exceeds its cap
/// ([`RetentionPolicy::max_deletes`]).
pub fn apply(client: &Client, plan: &Plan, options: ApplyOptions) -> Result<ApplyReport> {
    apply::run(client, plan, &options)
}
