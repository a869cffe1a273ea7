//! Carrying out a [`Plan`]: deletions in dependency order (tags before their manifest, an index
//! before its children, a referrer before its subject) on a bounded pool of threads, each with
//! its result.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::plan::{Entry, Plan};
use super::policy::RegistryKind;
use super::pool;
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::models::{ManifestWriteableProperties, TagWriteableProperties};

/// Deletions at once when [`ApplyOptions::concurrency`] is 0 (acr-cli's default pool size).
pub const DEFAULT_CONCURRENCY: usize = 6;
/// The most deletions at once.
pub const MAX_CONCURRENCY: usize = 32;

/// What [`ApplyOptions::progress`] is told after each deletion.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApplyProgress<'a> {
    /// Deletions finished (done, failed or skipped).
    pub finished: usize,
    /// Of those, failed or skipped.
    pub failed: usize,
    /// Deletions in the plan.
    pub total: usize,
    /// The entry just finished.
    pub entry: &'a Entry,
    /// How it went.
    pub outcome: &'a Outcome,
}

/// A progress callback, called from the worker threads.
pub type ApplyProgressFn = Arc<dyn Fn(&ApplyProgress<'_>) + Send + Sync>;

/// Options of [`apply`](super::apply).
#[derive(Clone, Default)]
pub struct ApplyOptions {
    /// Deletions at once, 1 to [`MAX_CONCURRENCY`]; 0 means [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Called after each deletion.
    pub progress: Option<ApplyProgressFn>,
}

impl fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// How one deletion went.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Deleted (or already gone: a 404 counts as done).
    Deleted,
    /// The registry refused or the request failed.
    Failed(Error),
    /// Not tried, because something it waits for did not go (a tag of the manifest, the index
    /// that lists it, a referrer of it).
    Skipped(String),
}

impl Outcome {
    /// Whether it was deleted.
    pub fn is_deleted(&self) -> bool {
        matches!(self, Outcome::Deleted)
    }
}

/// The result of one deletion: the index of its entry in [`Plan::entries`], and the outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct ItemResult {
    /// The entry's index in [`Plan::entries`].
    pub entry: usize,
    /// How it went.
    pub outcome: Outcome,
}

/// What [`apply`](super::apply) did, one result per deletion of the plan, in plan order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ApplyReport {
    /// One per deletion.
    pub results: Vec<ItemResult>,
}

impl ApplyReport {
    /// How many were deleted.
    pub fn deleted(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.is_deleted())
            .count()
    }

    /// How many failed.
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }

    /// How many were skipped.
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
            .count()
    }
}

/// Each deletion's position in the plan and the deletions it waits for.
struct Operation {
    entry: usize,
    after: Vec<usize>,
}

/// The deletions of `plan` with what each waits for: a manifest waits for its own tags' deletion
/// (ACR), for every deleted index that lists it, and for its deleted referrers.
fn operations(plan: &Plan) -> Vec<Operation> {
    let ops: Vec<usize> = (0..plan.entries.len())
        .filter(|&i| plan.entries[i].is_operation())
        .collect();
    let mut manifest_op: HashMap<(&str, &Digest), usize> = HashMap::new();
    let mut tag_ops: HashMap<(&str, &Digest), Vec<usize>> = HashMap::new();
    for (k, &i) in ops.iter().enumerate() {
        let e = &plan.entries[i];
        let key = (e.repository.as_str(), &e.digest);
        match e.tag {
            Some(_) => tag_ops.entry(key).or_default().push(k),
            None => {
                manifest_op.insert(key, k);
            }
        }
    }
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (k, &i) in ops.iter().enumerate() {
        let e = &plan.entries[i];
        if e.tag.is_some() {
            continue;
        }
        let repo = e.repository.as_str();
        if let Some(t) = tag_ops.get(&(repo, &e.digest)) {
            after[k].extend(t);
        }
        for child in &e.children {
            if let Some(&c) = manifest_op.get(&(repo, child)) {
                after[c].push(k);
            }
        }
        if let Some(s) = &e.subject
            && let Some(&s) = manifest_op.get(&(repo, s))
        {
            after[s].push(k);
        }
    }
    ops.into_iter()
        .zip(after)
        .map(|(entry, after)| Operation { entry, after })
        .collect()
}

/// Levels: each operation after all it waits for (a cycle, which content addressing rules out,
/// would land in the last level).
fn levels(ops: &[Operation]) -> Vec<Vec<usize>> {
    let mut level = vec![0usize; ops.len()];
    for _ in 0..ops.len() {
        let mut changed = false;
        for (k, op) in ops.iter().enumerate() {
            let l = op.after.iter().map(|&a| level[a] + 1).max().unwrap_or(0);
            if l > level[k] && l < ops.len() {
                level[k] = l;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let depth = level.iter().max().map_or(0, |m| m + 1);
    let mut out = vec![Vec::new(); depth];
    for (k, l) in level.into_iter().enumerate() {
        out[l].push(k);
    }
    out
}

/// Unlocks a locked entry (ACR: delete and write enabled), then deletes it.
fn delete_one(client: &Client, api: RegistryKind, e: &Entry) -> Result<()> {
    let repo = e.repository.as_str();
    match (&e.tag, api) {
        (Some(tag), RegistryKind::Acr) => {
            if e.locked {
                let unlock = TagWriteableProperties {
                    can_delete: Some(true),
                    can_write: Some(true),
                    ..Default::default()
                };
                match client.update_tag_properties(repo, tag, &unlock) {
                    Err(err) if err.is_not_found() => return Ok(()),
                    other => other.map(drop)?,
                }
            }
            client.delete_tag(repo, tag)
        }
        (Some(tag), _) => Err(Error::invalid(
            "plan entry",
            format!("{repo}:{tag}"),
            "this registry deletes a tag only with its manifest",
        )),
        (None, _) => {
            if e.locked && api == RegistryKind::Acr {
                let unlock = ManifestWriteableProperties {
                    can_delete: Some(true),
                    can_write: Some(true),
                    ..Default::default()
                };
                match client.update_manifest_properties(repo, &e.digest, &unlock) {
                    Err(err) if err.is_not_found() => return Ok(()),
                    other => other.map(drop)?,
                }
            }
            client.delete_manifest(repo, &e.digest)
        }
    }
}

/// See [`super::apply`].
pub(crate) fn run(client: &Client, plan: &Plan, options: &ApplyOptions) -> Result<ApplyReport> {
    let ops = operations(plan);
    if let Some(cap) = plan.max_deletes
        && ops.len() > cap
    {
        return Err(Error::invalid(
            "plan",
            format!("{} deletions", ops.len()),
            format!(
                "more than the cap of {cap} (max_deletes): nothing was deleted; narrow the \
                 filters or raise the cap"
            ),
        ));
    }
    let threads = match options.concurrency {
        0 => DEFAULT_CONCURRENCY,
        n => n.min(MAX_CONCURRENCY),
    };
    let mut outcomes: Vec<Option<Outcome>> = ops.iter().map(|_| None).collect();
    let finished = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let total = ops.len();
    for level in levels(&ops) {
        let done = &outcomes;
        let level_outcomes = pool::map(&level, threads, |&k| {
            let entry = &plan.entries[ops[k].entry];
            let blocked = ops[k]
                .after
                .iter()
                .find(|&&a| !done[a].as_ref().is_some_and(Outcome::is_deleted));
            let outcome = match blocked {
                Some(&a) => Outcome::Skipped(format!(
                    "{} was not deleted first",
                    plan.entries[ops[a].entry].name()
                )),
                None => match delete_one(client, plan.api, entry) {
                    Ok(()) => Outcome::Deleted,
                    Err(e) => Outcome::Failed(e),
                },
            };
            let finished = finished.fetch_add(1, Ordering::SeqCst) + 1;
            let failed = if outcome.is_deleted() {
                failed.load(Ordering::SeqCst)
            } else {
                failed.fetch_add(1, Ordering::SeqCst) + 1
            };
            if let Some(p) = &options.progress {
                p(&ApplyProgress {
                    finished,
                    failed,
                    total,
                    entry,
                    outcome: &outcome,
                });
            }
            outcome
        });
        for (k, o) in level.into_iter().zip(level_outcomes) {
            outcomes[k] = Some(o);
        }
    }
    let results = ops
        .iter()
        .zip(outcomes)
        .map(|(op, o)| ItemResult {
            entry: op.entry,
            outcome: o.unwrap_or_else(|| Outcome::Skipped("not reached".into())),
        })
        .collect();
    Ok(ApplyReport { results })
}
