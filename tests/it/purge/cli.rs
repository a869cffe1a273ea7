//! `acr purge` as a process: the plan table, a dry run that sends no DELETE, the deletion and its
//! summary, JSON, a failure in the middle, the cap, and the untagged notice on a real registry.

use azcontainerregistry::Timestamp;

use crate::support::Registry;
use crate::support::cli::{Acr, Run};
use crate::support::fake_acr::FakeAcr;

/// `days` days before the real now (the CLI measures ages from the clock).
fn ago(days: i64) -> String {
    Timestamp::from_unix(Timestamp::now().unix_seconds() - days * 86_400, 0).to_rfc3339()
}

fn purge(acr: &FakeAcr, args: &[&str]) -> Run {
    Acr::new()
        .registry(&acr.url())
        .args(["--api", "acr", "purge"])
        .args(args)
        .run()
}

/// Four tags: two old (`v1`, `v2`), one young (`v3`), and `latest` (old, not matched).
fn seeded() -> FakeAcr {
    let acr = FakeAcr::start();
    acr.image("app", "v1", &ago(90));
    acr.image("app", "v2", &ago(60));
    acr.image("app", "v3", &ago(1));
    acr.image("app", "latest", &ago(90));
    acr
}

#[test]
fn dry_run_prints_the_plan_table_and_sends_no_delete() {
    let acr = seeded();
    let run = purge(
        &acr,
        &[
            "--filter",
            "app:v.*",
            "--ago",
            "30d",
            "--keep",
            "1",
            "--dry-run",
        ],
    )
    .success();
    let lines = run.stdout_lines();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["ACTION", "REASON", "REPOSITORY", "TAG/DIGEST", "UPDATED"]
    );
    let rows: Vec<Vec<&str>> = lines[1..4]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..4], ["delete", "expired", "app", "v1"]);
    // what stays, newest first
    assert_eq!(rows[1][..4], ["keep", "too-new", "app", "v3"]);
    assert_eq!(rows[2][..4], ["keep", "keep", "app", "v2"]);
    assert_eq!(
        lines[4],
        "dry run: would delete 1; kept 2 (keep 1, too-new 1)",
        "{}",
        run.describe()
    );
    assert_eq!(acr.counts().deletes(), 0);
    assert_eq!(acr.tags("app").len(), 4);
}

#[test]
fn purge_deletes_and_prints_a_summary() {
    let acr = seeded();
    let run = purge(
        &acr,
        &["--filter", "app:v.*", "--ago", "30d", "--concurrency", "2"],
    )
    .success();
    let out = run.stdout();
    assert!(
        out.ends_with("deleted 2, failed 0, skipped 0; kept 1 (too-new 1)\n"),
        "{}",
        run.describe()
    );
    assert_eq!(acr.tags("app"), ["latest", "v3"]);
    assert_eq!(acr.counts().tag_deletes, 2);
}

#[test]
fn json_is_one_document_with_the_plan_and_the_results() {
    let acr = seeded();
    let run = purge(&acr, &["--json", "--filter", "app:v1|v2", "--ago", "0"]).success();
    let doc = run.json();
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["plan"]["api"], "acr");
    assert_eq!(doc["plan"]["entries"][0]["action"], "delete");
    assert_eq!(doc["plan"]["entries"][0]["reason"], "expired");
    assert_eq!(doc["summary"]["deleted"], 2);
    let names: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app:v2", "app:v1"]);
    assert_eq!(acr.tags("app"), ["latest", "v3"]);
}

#[test]
fn a_failed_delete_is_a_note_and_the_one_error_line() {
    let acr = seeded();
    acr.fail("DELETE /acr/v1/app/_tags/v1", 403, 1);
    let run = purge(&acr, &["--filter", "app:v.*", "--ago", "30d"]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let err = run.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("acr: note: failed to delete app:v1: "),
        "{err}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("acr: error: 1 of 2 deletions"),
        "{err}"
    );
    assert!(
        run.stdout().contains("deleted 1, failed 1, skipped 0"),
        "{}",
        run.describe()
    );
    assert_eq!(acr.tags("app"), ["latest", "v1", "v3"]);
}

#[test]
fn the_cap_stops_the_purge_after_printing_the_plan() {
    let acr = seeded();
    let run = purge(
        &acr,
        &["--filter", "app:.*", "--ago", "30d", "--max-deletes", "2"],
    );
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr().contains("more than --max-deletes 2"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout().starts_with("ACTION"),
        "the plan is printed: {}",
        run.describe()
    );
    assert_eq!(acr.counts().deletes(), 0);
    // a dry run says so and succeeds
    let run = purge(
        &acr,
        &[
            "--filter",
            "app:.*",
            "--ago",
            "30d",
            "--max-deletes",
            "2",
            "--dry-run",
        ],
    )
    .success();
    assert!(
        run.stderr().contains("would delete nothing"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout().contains("dry run: would delete 3"),
        "{}",
        run.describe()
    );
}

#[test]
fn arguments_are_checked_before_any_request() {
    let acr = seeded();
    let run = purge(&acr, &["--filter", "app", "--ago", "30d"]);
    assert!(run.error_line(1).contains("REPOSITORY-REGEX:TAG-REGEX"));
    let run = purge(&acr, &["--filter", "app:.*", "--ago", "3h2d"]);
    assert!(run.error_line(1).contains("duration"));
    // clap: --ago is required, --concurrency is 1 to 32
    assert_eq!(purge(&acr, &["--filter", "app:.*"]).code(), 2);
    assert_eq!(
        purge(
            &acr,
            &["--filter", "a:b", "--ago", "1d", "--concurrency", "33"]
        )
        .code(),
        2
    );
    assert_eq!(acr.counts(), Default::default());
}

#[test]
fn untagged_on_a_registry_without_manifest_listing_says_so() {
    let reg = Registry::start();
    reg.push_test_image("app", "v1", 10, 1);
    let run = Acr::new()
        .registry(&reg.url())
        .args([
            "purge",
            "--filter",
            "app:.*",
            "--ago",
            "1d",
            "--untagged",
            "--dry-run",
        ])
        .run()
        .success();
    assert!(
        run.stderr()
            .contains("acr: note: untagged manifests cannot be discovered"),
        "{}",
        run.describe()
    );
    // the test image's config has no `created`: no age, kept
    assert!(
        run.stdout().contains("keep    no-age"),
        "{}",
        run.describe()
    );
    let run = Acr::new()
        .registry(&reg.url())
        .args([
            "purge",
            "--filter",
            "app:.*",
            "--ago",
            "0",
            "--untagged-only",
        ])
        .run();
    assert!(
        run.error_line(1)
            .contains("untagged manifests cannot be discovered")
    );
}

#[test]
fn on_a_real_registry_tags_go_with_their_manifest() {
    let reg = Registry::start();
    reg.push_test_image("app", "v1", 10, 1);
    reg.push_test_image("app", "v2", 10, 2);
    // no `created` in these configs: `--ago 0` (any age) makes them candidates all the same
    let run = Acr::new()
        .registry(&reg.url())
        .args(["purge", "--filter", "app:v1", "--ago", "0"])
        .run()
        .success();
    let out = run.stdout();
    assert!(out.contains("delete*"), "{}", run.describe());
    assert!(
        out.contains("this registry cannot delete a tag alone"),
        "{out}"
    );
    assert!(
        out.ends_with("deleted 1, failed 0, skipped 0; kept 0\n"),
        "{out}"
    );
    let client = crate::support::client(&reg.url());
    let tags: Vec<String> = client
        .list_tag_names("app", Default::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tags, ["v2"]);
}
