//! `purge`: plans with the library's `purge` module, prints the plan (a table, or JSON with
//! `--json`), then deletes with a progress bar on stderr and prints a summary; `--dry-run` stops
//! after the plan and sends no DELETE.
//!
//! Output: stdout has the plan table (every tag the filters matched and every manifest
//! considered, deletions first) and one summary line; stderr has notes, the progress bar (on a
//! terminal) and one note per failed deletion; failures end in the one `acr: error:` line. With
//! `--json`, stdout is ONE JSON document written at the end: `{"plan": …, "dry_run": …,
//! "results": [{"name", "outcome", "error"?}], "summary": {…}}`.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::sync::Arc;

use azcontainerregistry::purge::{
    self, ApplyOptions, ApplyProgress, ApplyReport, Entry, Outcome, Plan, RegistryKind,
    RetentionPolicy, Untagged,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::AnyResult;
use crate::args::{Cli, PurgeArgs};
use crate::connect::{client_for, registry, use_acr_api};
use crate::output;

/// A registry-provided name made safe to print (control characters escaped).
fn shown(text: &str) -> String {
    output::escape(text).into_owned()
}

/// The policy the arguments describe.
fn policy(args: &PurgeArgs, acr: bool) -> AnyResult<RetentionPolicy> {
    let filters = args
        .filter
        .iter()
        .map(|f| f.parse())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RetentionPolicy {
        filters,
        older_than: Some(purge::parse_duration(&args.ago)?),
        keep: args.keep,
        untagged: match (args.untagged, args.untagged_only) {
            (_, true) => Untagged::Only,
            (true, _) => Untagged::Also,
            _ => Untagged::Skip,
        },
        include_locked: args.include_locked,
        include_referrers: args.include_referrers,
        max_deletes: args.max_deletes,
        registry: if acr {
            RegistryKind::Acr
        } else {
            RegistryKind::Oci
        },
        now: None,
    })
}

/// `acr purge`.
pub fn purge(cli: &Cli, args: &PurgeArgs) -> AnyResult<()> {
    let reg = registry(cli)?;
    let client = client_for(cli, &reg)?;
    let acr = use_acr_api(&client)?;
    let policy = policy(args, acr)?;
    let plan = purge::plan(&client, &policy)?;
    for n in &plan.notices {
        output::note(format_args!("acr: note: {n}"));
    }
    if !cli.json {
        print_table(&plan)?;
    }
    let over_cap = format!(
        "the plan deletes {} items, more than --max-deletes {}",
        plan.deletion_count(),
        plan.max_deletes.unwrap_or_default()
    );
    if plan.exceeds_cap() && args.dry_run {
        output::note(format_args!(
            "acr: note: {over_cap}: a purge without --dry-run would delete nothing"
        ));
    } else if plan.exceeds_cap() {
        if cli.json {
            print_json(&plan, args.dry_run, None)?;
        }
        return Err(format!("{over_cap}: nothing was deleted").into());
    }
    if args.dry_run {
        if cli.json {
            print_json(&plan, true, None)?;
        } else {
            output::line(format_args!(
                "dry run: would delete {}; {}",
                plan.deletion_count(),
                kept(&plan)
            ))?;
        }
        return Ok(());
    }
    let bar = bar(plan.deletion_count() as u64);
    let progress = bar.clone();
    let options = ApplyOptions {
        concurrency: usize::from(args.concurrency),
        progress: Some(Arc::new(move |p: &ApplyProgress<'_>| {
            progress.set_position(p.finished as u64);
            progress.set_message(format!("{} failed", p.failed));
        })),
    };
    let report = purge::apply(&client, &plan, options)?;
    bar.finish_and_clear();
    for r in &report.results {
        let name = shown(&plan.entries[r.entry].name());
        match &r.outcome {
            Outcome::Failed(e) => {
                output::note(format_args!("acr: note: failed to delete {name}: {e}"))
            }
            Outcome::Skipped(why) => output::note(format_args!("acr: note: skipped {name}: {why}")),
            _ => {}
        }
    }
    if cli.json {
        print_json(&plan, false, Some(&report))?;
    } else {
        output::line(format_args!(
            "deleted {}, failed {}, skipped {}; {}",
            report.deleted(),
            report.failed(),
            report.skipped(),
            kept(&plan)
        ))?;
    }
    match report.failed() + report.skipped() {
        0 => Ok(()),
        n => Err(format!("{n} of {} deletions did not happen (see the notes above); run the same purge again to retry them", report.results.len()).into()),
    }
}

/// A bar of `total` deletions on stderr when it is a terminal.
fn bar(total: u64) -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("deleting [{bar:40}] {pos}/{len} ({msg})") {
        bar.set_style(style);
    }
    bar
}

/// `kept N (too-new 3, keep 2)`.
fn kept(plan: &Plan) -> String {
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for e in plan.entries.iter().filter(|e| !e.decision.is_delete()) {
        *by_reason.entry(e.decision.reason()).or_default() += 1;
    }
    let total: usize = by_reason.values().sum();
    let detail: Vec<String> = by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
    if detail.is_empty() {
        "kept 0".into()
    } else {
        format!("kept {total} ({})", detail.join(", "))
    }
}

/// What an entry names in the table: the tag, or `@` and a short digest.
fn target(e: &Entry) -> String {
    match &e.tag {
        Some(t) => shown(t),
        None => {
            let hex = e.digest.hex();
            format!(
                "@{}:{}",
                e.digest.algorithm().as_str(),
                &hex[..hex.len().min(12)]
            )
        }
    }
}

/// The plan as a table: deletions first, then what stays, each group in plan order.
fn print_table(plan: &Plan) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = plan
        .entries
        .iter()
        .filter(|e| e.decision.is_delete())
        .chain(plan.entries.iter().filter(|e| !e.decision.is_delete()))
        .map(|e| {
            let action = if e.with_manifest {
                "delete*".to_string()
            } else {
                e.decision.action().to_string()
            };
            // a locked entry that is deleted is unlocked first: say so
            let locked = if e.locked && e.decision.is_delete() {
                " (unlock)"
            } else {
                ""
            };
            [
                action,
                format!("{}{locked}", e.decision.reason()),
                shown(&e.repository),
                target(e),
                e.updated.as_ref().map_or("-".into(), |t| t.to_rfc3339()),
            ]
        })
        .collect();
    let header = ["ACTION", "REASON", "REPOSITORY", "TAG/DIGEST", "UPDATED"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        output::line(cells.join("  ").trim_end())?;
    }
    if plan.entries.iter().any(|e| e.with_manifest) {
        output::line("(delete*: goes with its manifest; this registry cannot delete a tag alone)")?;
    }
    Ok(())
}

/// The one JSON document of `--json`.
fn print_json(plan: &Plan, dry_run: bool, report: Option<&ApplyReport>) -> AnyResult<()> {
    let results: Vec<serde_json::Value> = report
        .map(|r| {
            r.results
                .iter()
                .map(|r| {
                    let name = plan.entries[r.entry].name();
                    match &r.outcome {
                        Outcome::Deleted => serde_json::json!({"name": name, "outcome": "deleted"}),
                        Outcome::Failed(e) => serde_json::json!({"name": name,
                            "outcome": "failed", "error": e.to_string()}),
                        Outcome::Skipped(why) => serde_json::json!({"name": name,
                            "outcome": "skipped", "error": why}),
                        _ => serde_json::json!({"name": name, "outcome": "unknown"}),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
    for e in plan.entries.iter().filter(|e| !e.decision.is_delete()) {
        *kept.entry(e.decision.reason()).or_default() += 1;
    }
    let summary = serde_json::json!({
        "planned": plan.deletion_count(),
        "deleted": report.map_or(0, ApplyReport::deleted),
        "failed": report.map_or(0, ApplyReport::failed),
        "skipped": report.map_or(0, ApplyReport::skipped),
        "kept": kept,
    });
    let doc = serde_json::json!({"plan": plan, "dry_run": dry_run, "results": results,
        "summary": summary});
    output::print(true, &doc, |_| Ok(()))
}
