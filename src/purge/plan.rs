//! A purge [`Plan`]: every tag and manifest a policy looked at, what happens to it and why.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::policy::RegistryKind;
use crate::digest::Digest;
use crate::models::Timestamp;

/// Why an entry is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DeleteReason {
    /// A tag that a filter matches, older than the policy's age, beyond the newest `keep`; on a
    /// registry without tag deletion, the manifest all of whose tags are so.
    Expired,
    /// A manifest without tags (before, or once the plan's tags are gone).
    Untagged,
    /// A referrer (signature, SBOM, …) of a deleted manifest, deleted because the policy asked.
    Referrer,
}

/// Why an entry is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeepReason {
    /// Updated more recently than the policy's age.
    TooNew,
    /// The registry gave no time for it (no `created` in the image config): it is never taken
    /// for old.
    NoAge,
    /// One of the newest `keep` candidates of its repository.
    Keep,
    /// Delete or write disabled, and the policy does not include locked items.
    Locked,
    /// An index that stays lists it, or (where a tag goes only with its manifest) another tag of
    /// its manifest stays.
    Referenced,
    /// A referrer whose subject stays.
    SubjectStays,
    /// A referrer of a deleted manifest, kept because the policy did not ask for referrers.
    Referrer,
}

/// What happens to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", content = "reason", rename_all = "lowercase")]
pub enum Decision {
    /// Deleted, for this reason.
    Delete(DeleteReason),
    /// Kept, for this reason.
    Keep(KeepReason),
}

impl Decision {
    /// Whether this is a deletion.
    pub fn is_delete(&self) -> bool {
        matches!(self, Decision::Delete(_))
    }

    /// `delete` or `keep`.
    pub fn action(&self) -> &'static str {
        match self {
            Decision::Delete(_) => "delete",
            Decision::Keep(_) => "keep",
        }
    }

    /// The reason as a word: `expired`, `untagged`, `referrer`, `too-new`, `no-age`, `keep`,
    /// `locked`, `referenced`, `subject-stays`.
    pub fn reason(&self) -> &'static str {
        match self {
            Decision::Delete(DeleteReason::Expired) => "expired",
            Decision::Delete(DeleteReason::Untagged) => "untagged",
            Decision::Delete(DeleteReason::Referrer) => "referrer",
            Decision::Keep(KeepReason::TooNew) => "too-new",
            Decision::Keep(KeepReason::NoAge) => "no-age",
            Decision::Keep(KeepReason::Keep) => "keep",
            Decision::Keep(KeepReason::Locked) => "locked",
            Decision::Keep(KeepReason::Referenced) => "referenced",
            Decision::Keep(KeepReason::SubjectStays) => "subject-stays",
            Decision::Keep(KeepReason::Referrer) => "referrer",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.action(), self.reason())
    }
}

/// A tag or a manifest the policy looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// Its repository.
    pub repository: String,
    /// The tag, for a tag; `None` for a manifest.
    pub tag: Option<String>,
    /// The manifest's digest (for a tag: the manifest it points at).
    pub digest: Digest,
    /// The manifest's media type, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// When it was last updated (ACR) or created (image config elsewhere), when known.
    pub updated: Option<Timestamp>,
    /// Delete or write disabled (ACR); a deletion unlocks it first.
    pub locked: bool,
    /// What happens to it and why.
    #[serde(flatten)]
    pub decision: Decision,
    /// A tag deleted by deleting its manifest (registries that cannot delete a tag alone): no
    /// request of its own.
    pub with_manifest: bool,
    /// A manifest's tags (all deleted with it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The manifests an index lists.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Digest>,
    /// The manifest a referrer refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Digest>,
}

impl Entry {
    /// `repo:tag` for a tag, `repo@digest` for a manifest.
    pub fn name(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}", self.repository),
            None => format!("{}@{}", self.repository, self.digest),
        }
    }

    /// Whether applying the plan sends a request for it (a deletion that is not just a tag going
    /// with its manifest).
    pub fn is_operation(&self) -> bool {
        self.decision.is_delete() && !self.with_manifest
    }
}

/// What a purge would do: see [`plan`](super::plan). Print it, check it, then
/// [`apply`](super::apply) it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The registry's endpoint.
    pub registry: String,
    /// The API it was read through (`Acr` or `Oci`).
    #[serde(serialize_with = "kind_name")]
    pub api: RegistryKind,
    /// The time ages were measured from.
    pub now: Timestamp,
    /// Entries updated before this are old enough; `None` when the policy has no age.
    pub cutoff: Option<Timestamp>,
    /// The policy's cap on deletions.
    pub max_deletes: Option<usize>,
    /// The repositories the filters matched.
    pub repositories: Vec<String>,
    /// Every tag the filters matched and every manifest considered, by repository.
    pub entries: Vec<Entry>,
    /// What the plan could not do, for the user to read (e.g. untagged manifests on a registry
    /// that cannot list them).
    pub notices: Vec<String>,
}

fn kind_name<S: serde::Serializer>(k: &RegistryKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match k {
        RegistryKind::Acr => "acr",
        RegistryKind::Oci => "oci",
        RegistryKind::Auto => "auto",
    })
}

impl Plan {
    /// The entries that are deleted by a request of their own, in plan order.
    pub fn deletions(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.is_operation())
    }

    /// How many requests of deletion applying it sends (unlocks not counted).
    pub fn deletion_count(&self) -> usize {
        self.deletions().count()
    }

    /// Whether it deletes more than the policy's cap allows ([`apply`](super::apply) refuses it).
    pub fn exceeds_cap(&self) -> bool {
        self.max_deletes.is_some_and(|m| self.deletion_count() > m)
    }

    /// How many entries each decision has (`"delete (expired)" → 12`, …).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.entries {
            *counts.entry(e.decision.to_string()).or_insert(0) += 1;
        }
        counts
    }
}
