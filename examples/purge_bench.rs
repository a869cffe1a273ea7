//! Benchmark of `purge` on the fake ACR of the tests (`tests/it/support/fake_acr.rs`, a local
//! std-only server): planning 10,000 tags in 20 repositories (time, and list requests against
//! pages of 1000), then applying the same purge with 1 thread and with 8 threads against a fake
//! that answers each DELETE after 20 ms, and the ratio. Called by `scripts/bench`.
//!
//! ```text
//! purge_bench [deletions=160] [delay-ms=20] [runs=3]
//! ```

#[path = "../tests/it/support/fake_acr.rs"]
mod fake_acr;

use std::time::{Duration, Instant};

use azcontainerregistry::purge::{self, ApplyOptions, RegistryKind, RetentionPolicy};
use azcontainerregistry::{Client, ClientOptions, Credential};

use fake_acr::{FakeAcr, Tag, days_ago, now};

fn policy() -> Result<RetentionPolicy, azcontainerregistry::Error> {
    Ok(RetentionPolicy {
        filters: vec![".*:.*".parse()?],
        older_than: Some(purge::parse_duration("30d")?),
        registry: RegistryKind::Acr,
        now: Some(now()),
        ..Default::default()
    })
}

/// `repos` repositories holding `per_repo` old tags each (each on a manifest of its own).
fn seed(acr: &FakeAcr, repos: usize, per_repo: usize) {
    let mut s = acr.state();
    s.repos.clear();
    for r in 0..repos {
        let repo = s.repos.entry(format!("repo{r:02}")).or_default();
        for t in 0..per_repo {
            let tag = Tag {
                digest: format!("sha256:{:064x}", r * 1_000_000 + t),
                updated: days_ago(100 + (t % 500) as i64, 0),
                locked: false,
            };
            repo.tags.insert(format!("t{t:05}"), tag);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let deletions: usize = args.get(1).map_or(Ok(160), |s| s.parse())?;
    let delay_ms: u64 = args.get(2).map_or(Ok(20), |s| s.parse())?;
    let runs: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let acr = FakeAcr::start();
    let client = Client::new(
        &acr.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )?;
    let policy = policy()?;

    seed(&acr, 20, 500);
    let mut best = Duration::MAX;
    for _ in 0..runs {
        acr.reset_counts();
        let t = Instant::now();
        let plan = purge::plan(&client, &policy)?;
        best = best.min(t.elapsed());
        assert_eq!(plan.entries.len(), 10_000);
    }
    let counts = acr.counts();
    let pages = 1 + 20; // one catalog page, one page of 500 tags per repository (1000 per page)
    println!(
        "plan 10,000 tags in 20 repositories: {:.3} s (best of {runs}); {} list requests for \
         {pages} pages at n=1000",
        best.as_secs_f64(),
        counts.list_requests()
    );

    acr.set_delete_delay(Duration::from_millis(delay_ms));
    let mut times = Vec::new();
    for threads in [1usize, 8] {
        let mut best = Duration::MAX;
        for _ in 0..runs {
            seed(&acr, 1, deletions);
            let plan = purge::plan(&client, &policy)?;
            let t = Instant::now();
            let options = ApplyOptions {
                concurrency: threads,
                ..Default::default()
            };
            let report = purge::apply(&client, &plan, options)?;
            best = best.min(t.elapsed());
            if report.deleted() != deletions {
                return Err(format!("{} of {deletions} deleted", report.deleted()).into());
            }
        }
        println!(
            "apply {deletions} deletions, {delay_ms} ms each, {threads} thread(s): {:.3} s",
            best.as_secs_f64()
        );
        times.push(best);
    }
    println!(
        "ratio 1 thread / 8 threads: {:.2} x (target >= 5)",
        times[0].as_secs_f64() / times[1].as_secs_f64()
    );
    Ok(())
}
