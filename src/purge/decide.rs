//! The decisions for one repository: which tags and manifests a policy deletes and why the others
//! stay. Pure: the facts come in (`inventory`), the entries go out; the two look-ups it may need
//! (a manifest's subject, a manifest's referrers) are passed in.

use std::collections::{HashMap, HashSet};

use super::inventory::{ManifestFacts, RepoFacts};
use super::plan::{Decision, DeleteReason, Entry, KeepReason};
use super::policy::{Filter, RegistryKind, RetentionPolicy, Untagged};
use crate::digest::Digest;
use crate::error::Result;
use crate::models::Timestamp;

/// Finds the subjects of manifests, in order (`None`: no subject, or gone).
pub(crate) type SubjectsFn<'a> = &'a mut dyn FnMut(&[Digest]) -> Result<Vec<Option<Digest>>>;

/// The look-ups a repository's decisions may need.
pub(crate) struct Lookups<'a> {
    /// The subjects of manifests, in order (ACR: fetched for the untagged candidates no index
    /// lists).
    pub subjects: SubjectsFn<'a>,
    /// The referrers of a manifest (OCI: asked for every deleted manifest).
    pub referrers: &'a mut dyn FnMut(&Digest) -> Result<Vec<Digest>>,
}

/// `Ok` when old enough, else why not.
fn old_enough(cutoff: Option<&Timestamp>, updated: Option<&Timestamp>) -> Result<(), KeepReason> {
    match (cutoff, updated) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(KeepReason::NoAge),
        (Some(c), Some(t)) if t < c => Ok(()),
        _ => Err(KeepReason::TooNew),
    }
}

/// The entries of one repository.
pub(crate) fn repository(
    policy: &RetentionPolicy,
    kind: RegistryKind,
    cutoff: Option<&Timestamp>,
    repo: &RepoFacts,
    filters: &[&Filter],
    lookups: Lookups<'_>,
) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    if policy.untagged != Untagged::Only {
        entries = tag_entries(policy, cutoff, repo, filters);
    }
    match kind {
        RegistryKind::Acr => {
            if policy.untagged != Untagged::Skip {
                let untagged = untagged_entries(policy, cutoff, repo, &entries, lookups.subjects)?;
                entries.extend(untagged);
            }
        }
        _ => {
            let manifests = oci_manifest_entries(policy, repo, &mut entries, lookups.referrers)?;
            entries.extend(manifests);
        }
    }
    Ok(entries)
}

/// The tags the filters match, newest first, decided one by one: too new, locked, among the
/// newest `keep` candidates, or expired.
fn tag_entries(
    policy: &RetentionPolicy,
    cutoff: Option<&Timestamp>,
    repo: &RepoFacts,
    filters: &[&Filter],
) -> Vec<Entry> {
    let mut matched: Vec<_> = repo
        .tags
        .iter()
        .filter(|t| filters.iter().any(|f| f.matches_tag(&t.name)))
        .collect();
    // newest first (no time last), then by name, so `keep` keeps the newest
    matched.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| a.name.cmp(&b.name)));
    let media_types: HashMap<&Digest, &String> = repo
        .manifests
        .iter()
        .filter_map(|m| m.media_type.as_ref().map(|t| (&m.digest, t)))
        .collect();
    let mut kept = 0;
    matched
        .into_iter()
        .map(|t| {
            let decision = match old_enough(cutoff, t.updated.as_ref()) {
                Err(why) => Decision::Keep(why),
                Ok(()) if t.locked && !policy.include_locked => Decision::Keep(KeepReason::Locked),
                Ok(()) if kept < policy.keep => {
                    kept += 1;
                    Decision::Keep(KeepReason::Keep)
                }
                Ok(()) => Decision::Delete(DeleteReason::Expired),
            };
            let media_type = media_types.get(&t.digest).map(|t| t.to_string());
            Entry {
                repository: repo.name.clone(),
                tag: Some(t.name.clone()),
                digest: t.digest.clone(),
                media_type,
                updated: t.updated.clone(),
                locked: t.locked,
                decision,
                with_manifest: false,
                tags: Vec::new(),
                children: Vec::new(),
                subject: None,
            }
        })
        .collect()
}

fn manifest_entry(repo: &str, m: &ManifestFacts, decision: Decision) -> Entry {
    Entry {
        repository: repo.to_string(),
        tag: None,
        digest: m.digest.clone(),
        media_type: m.media_type.clone(),
        updated: m.updated.clone(),
        locked: m.locked,
        decision,
        with_manifest: false,
        tags: m.tags.clone(),
        children: m.children.clone(),
        subject: m.subject.clone(),
    }
}

/// Removes from `deleted` every manifest that a manifest staying lists, until none is left:
/// deleting an index never takes a child another index still needs.
fn keep_children_of_survivors(
    manifests: &[ManifestFacts],
    deleted: &mut HashSet<Digest>,
    decisions: &mut HashMap<Digest, Decision>,
) -> bool {
    let mut changed = false;
    loop {
        let needed: Vec<Digest> = manifests
            .iter()
            .filter(|m| !deleted.contains(&m.digest))
            .flat_map(|m| m.children.iter())
            .filter(|c| deleted.contains(*c))
            .cloned()
            .collect();
        if needed.is_empty() {
            return changed;
        }
        for c in needed {
            deleted.remove(&c);
            decisions.insert(c, Decision::Keep(KeepReason::Referenced));
        }
        changed = true;
    }
}

/// ACR: the manifests without a tag once the plan's tag deletions are done, decided: too new,
/// locked, listed by an index that stays, a referrer, or untagged (deleted).
fn untagged_entries(
    policy: &RetentionPolicy,
    cutoff: Option<&Timestamp>,
    repo: &RepoFacts,
    tags: &[Entry],
    subjects_of: SubjectsFn<'_>,
) -> Result<Vec<Entry>> {
    let going: HashSet<&str> = tags
        .iter()
        .filter(|e| e.decision.is_delete())
        .filter_map(|e| e.tag.as_deref())
        .collect();
    let untagged: Vec<&ManifestFacts> = repo
        .manifests
        .iter()
        .filter(|m| m.tags.iter().all(|t| going.contains(t.as_str())))
        .collect();
    let mut decisions: HashMap<Digest, Decision> = HashMap::new();
    let mut deleted: HashSet<Digest> = HashSet::new();
    for m in &untagged {
        let d = match old_enough(cutoff, m.updated.as_ref()) {
            Err(why) => Decision::Keep(why),
            Ok(()) if m.locked && !policy.include_locked => Decision::Keep(KeepReason::Locked),
            Ok(()) => {
                deleted.insert(m.digest.clone());
                Decision::Delete(DeleteReason::Untagged)
            }
        };
        decisions.insert(m.digest.clone(), d);
    }
    // which candidates refer to a subject: only those no index lists can be referrers worth a
    // fetch (an index's platform images have none)
    let listed: HashSet<&Digest> = repo
        .manifests
        .iter()
        .flat_map(|m| m.children.iter())
        .collect();
    let present: HashSet<&Digest> = repo.manifests.iter().map(|m| &m.digest).collect();
    let loose: Vec<Digest> = untagged
        .iter()
        .filter(|m| deleted.contains(&m.digest) && !listed.contains(&m.digest))
        .map(|m| m.digest.clone())
        .collect();
    let found = if loose.is_empty() {
        Vec::new()
    } else {
        subjects_of(&loose)?
    };
    let subjects: HashMap<Digest, Digest> = loose
        .into_iter()
        .zip(found)
        .filter_map(|(m, s)| s.filter(|s| present.contains(s)).map(|s| (m, s)))
        .collect();
    loop {
        let mut changed = keep_children_of_survivors(&repo.manifests, &mut deleted, &mut decisions);
        for (r, s) in &subjects {
            if !deleted.contains(r) {
                continue;
            }
            let why = if !deleted.contains(s) {
                Some(Decision::Keep(KeepReason::SubjectStays))
            } else if !policy.include_referrers {
                Some(Decision::Keep(KeepReason::Referrer))
            } else {
                decisions.insert(r.clone(), Decision::Delete(DeleteReason::Referrer));
                None
            };
            if let Some(d) = why {
                deleted.remove(r);
                decisions.insert(r.clone(), d);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Ok(untagged
        .into_iter()
        .map(|m| {
            let mut e = manifest_entry(&repo.name, m, decisions[&m.digest]);
            e.subject = subjects.get(&m.digest).cloned();
            e
        })
        .collect())
}

/// Registries that delete a tag only with its manifest: a manifest goes when every one of its
/// tags expires and no index that stays lists it; the other expired tags stay (referenced). The
/// referrers of each deleted manifest are looked up, and deleted only when the policy asks.
fn oci_manifest_entries(
    policy: &RetentionPolicy,
    repo: &RepoFacts,
    tags: &mut [Entry],
    referrers_of: &mut dyn FnMut(&Digest) -> Result<Vec<Digest>>,
) -> Result<Vec<Entry>> {
    let going: HashSet<&str> = tags
        .iter()
        .filter(|e| e.decision.is_delete())
        .filter_map(|e| e.tag.as_deref())
        .collect();
    let mut deleted: HashSet<Digest> = repo
        .manifests
        .iter()
        .filter(|m| !m.tags.is_empty() && m.tags.iter().all(|t| going.contains(t.as_str())))
        .map(|m| m.digest.clone())
        .collect();
    let mut decisions = HashMap::new();
    keep_children_of_survivors(&repo.manifests, &mut deleted, &mut decisions);
    for e in tags.iter_mut().filter(|e| e.decision.is_delete()) {
        if deleted.contains(&e.digest) {
            e.with_manifest = true;
        } else {
            e.decision = Decision::Keep(KeepReason::Referenced);
        }
    }
    let mut out = Vec::new();
    let mut seen: HashSet<Digest> = deleted.clone();
    for m in repo
        .manifests
        .iter()
        .filter(|m| deleted.contains(&m.digest))
    {
        out.push(manifest_entry(
            &repo.name,
            m,
            Decision::Delete(DeleteReason::Expired),
        ));
    }
    // referrers of what goes: tagged ones that stay are left alone, the others reported
    let tagged: HashSet<&Digest> = repo.manifests.iter().map(|m| &m.digest).collect();
    let subjects: Vec<Digest> = out.iter().map(|e| e.digest.clone()).collect();
    for subject in subjects {
        for r in referrers_of(&subject)? {
            if tagged.contains(&r) || !seen.insert(r.clone()) {
                continue;
            }
            let decision = if policy.include_referrers {
                Decision::Delete(DeleteReason::Referrer)
            } else {
                Decision::Keep(KeepReason::Referrer)
            };
            out.push(Entry {
                repository: repo.name.clone(),
                tag: None,
                digest: r,
                media_type: None,
                updated: None,
                locked: false,
                decision,
                with_manifest: false,
                tags: Vec::new(),
                children: Vec::new(),
                subject: Some(subject.clone()),
            });
        }
    }
    Ok(out)
}
