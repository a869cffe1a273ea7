//! Purges on the fake ACR: what is planned, what is deleted, in which order, with how many
//! requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azcontainerregistry::purge::{
    self, ApplyOptions, Decision, DeleteReason, Entry, KeepReason, Outcome, Plan, RegistryKind,
    RetentionPolicy, Untagged,
};
use azcontainerregistry::{Client, ClientOptions, Credential};

use crate::support::acr_mock::fast_options;
use crate::support::fake_acr::{FakeAcr, days_ago, now};

fn client(acr: &FakeAcr) -> Client {
    Client::new(&acr.url(), Credential::anonymous(), fast_options()).unwrap()
}

fn policy(filters: &[&str], ago_days: Option<u64>, keep: usize) -> RetentionPolicy {
    RetentionPolicy {
        filters: filters.iter().map(|f| f.parse().unwrap()).collect(),
        older_than: ago_days.map(|d| Duration::from_secs(d * 86_400)),
        keep,
        registry: RegistryKind::Acr,
        now: Some(now()),
        ..Default::default()
    }
}

/// `name → reason` for every entry of the plan, `name` as `repo:tag` or `repo@digest`.
fn decisions(plan: &Plan) -> BTreeMap<String, Decision> {
    plan.entries
        .iter()
        .map(|e| (e.name(), e.decision))
        .collect()
}

fn expired() -> Decision {
    Decision::Delete(DeleteReason::Expired)
}

fn keep(why: KeepReason) -> Decision {
    Decision::Keep(why)
}

#[test]
fn keeps_the_newest_and_the_young_and_deletes_the_old_tags_only() {
    let acr = FakeAcr::start();
    for (tag, days) in [("v1", 90), ("v2", 80), ("v3", 70), ("v4", 60), ("v5", 5)] {
        acr.image("app", tag, &days_ago(days, 0));
    }
    acr.image("app", "latest", &days_ago(100, 0));
    acr.image("other", "v1", &days_ago(100, 0));
    let c = client(&acr);
    // v-tags older than 30 days, keeping the newest 1 of them
    let plan = purge::plan(&c, &policy(&["app:v.*"], Some(30), 1)).unwrap();
    assert_eq!(plan.repositories, ["app"]);
    let d = decisions(&plan);
    assert_eq!(
        d.len(),
        5,
        "latest and the other repository are not matched: {d:?}"
    );
    assert_eq!(d["app:v5"], keep(KeepReason::TooNew));
    assert_eq!(d["app:v4"], keep(KeepReason::Keep));
    for t in ["v1", "v2", "v3"] {
        assert_eq!(d[&format!("app:{t}")], expired());
    }
    // newest first in the plan
    let order: Vec<&str> = plan
        .entries
        .iter()
        .filter_map(|e| e.tag.as_deref())
        .collect();
    assert_eq!(order, ["v5", "v4", "v3", "v2", "v1"]);
    assert_eq!(plan.deletion_count(), 3);

    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (3, 0));
    assert_eq!(acr.tags("app"), ["latest", "v4", "v5"]);
    assert_eq!(acr.tags("other"), ["v1"]);
    // tags only: the manifests stay (untagged) without --untagged
    assert_eq!(acr.counts().manifest_deletes, 0);
    assert_eq!(acr.state().repos["app"].manifests.len(), 6);
}

#[test]
fn filters_are_anchored_and_several_combine() {
    let acr = FakeAcr::start();
    for tag in ["v1", "v10", "xv1", "dev-1"] {
        acr.image("web", tag, &days_ago(50, 0));
    }
    acr.image("web-old", "v1", &days_ago(50, 0));
    let plan = purge::plan(&client(&acr), &policy(&["web:v1", "web:dev-.*"], None, 0)).unwrap();
    let d = decisions(&plan);
    let names: Vec<&String> = d.keys().collect();
    assert_eq!(names, ["web:dev-1", "web:v1"], "whole-name matches only");
}

#[test]
fn planning_ten_thousand_tags_takes_one_list_request_per_page_of_1000() {
    let acr = FakeAcr::start();
    {
        let mut s = acr.state();
        // 19 repositories of 450 tags and one of 1450: 10,000 tags, all on one manifest each
        for r in 0..20 {
            let name = format!("repo{r:02}");
            let n = if r == 7 { 1450 } else { 450 };
            let repo = s.repos.entry(name).or_default();
            for t in 0..n {
                let digest = format!("sha256:{:064x}", r * 100_000 + t);
                repo.tags.insert(
                    format!("t{t:05}"),
                    crate::support::fake_acr::Tag {
                        digest,
                        updated: days_ago(1000 - t as i64 % 900, 0),
                        locked: false,
                    },
                );
            }
        }
    }
    let c = client(&acr);
    let plan = purge::plan(&c, &policy(&["repo.*:.*"], Some(30), 10)).unwrap();
    assert_eq!(plan.entries.len(), 10_000);
    let counts = acr.counts();
    // 1 catalog page, 19 × 1 tag page, 1 × 2 tag pages
    let pages = 1 + 19 + 2;
    assert_eq!(counts.list_requests(), pages, "{counts:?}");
    assert_eq!(counts.catalog_pages, 1);
    assert_eq!(counts.tag_pages, 21);
    assert_eq!(
        counts.manifest_pages + counts.manifest_gets + counts.deletes(),
        0
    );
    // keep 10 per repository, the young ones too
    let kept = plan
        .entries
        .iter()
        .filter(|e| e.decision == keep(KeepReason::Keep))
        .count();
    assert_eq!(kept, 200);
}

#[test]
fn locked_tags_are_kept_or_unlocked_then_deleted() {
    let acr = FakeAcr::start();
    acr.image("app", "a", &days_ago(40, 0));
    acr.image("app", "b", &days_ago(41, 0));
    acr.lock_tag("app", "b");
    let c = client(&acr);
    let plan = purge::plan(&c, &policy(&["app:.*"], Some(30), 0)).unwrap();
    let d = decisions(&plan);
    assert_eq!(d["app:a"], expired());
    assert_eq!(d["app:b"], keep(KeepReason::Locked));
    purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!(acr.tags("app"), ["b"]);

    let mut p = policy(&["app:.*"], Some(30), 0);
    p.include_locked = true;
    let plan = purge::plan(&c, &p).unwrap();
    let b = &plan.entries[0];
    assert!(b.locked && b.decision == expired(), "{b:?}");
    acr.reset_counts();
    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!(report.deleted(), 1);
    assert!(acr.tags("app").is_empty());
    let counts = acr.counts();
    assert_eq!(
        (counts.patches, counts.tag_deletes),
        (1, 1),
        "unlock, then delete"
    );
}

#[test]
fn untagged_manifests_go_unless_an_index_that_stays_lists_them() {
    let acr = FakeAcr::start();
    let old = days_ago(60, 0);
    // a multi-platform image that stays (tagged, young tag) and one whose tag expires
    let amd = acr.manifest("app", "amd", &old, &[], None);
    let arm = acr.manifest("app", "arm", &old, &[], None);
    let kept_index = acr.manifest("app", "i1", &old, &[&amd, &arm], None);
    acr.tag("app", "stable", &kept_index, &days_ago(1, 0));
    let amd2 = acr.manifest("app", "amd2", &old, &[], None);
    let shared = amd.clone();
    let old_index = acr.manifest("app", "i2", &old, &[&amd2, &shared], None);
    acr.tag("app", "v1", &old_index, &old);
    // a loose untagged manifest, old, and one too young
    let loose = acr.manifest("app", "loose", &old, &[], None);
    let young = acr.manifest("app", "young", &days_ago(2, 0), &[], None);
    let c = client(&acr);
    let mut p = policy(&["app:.*"], Some(30), 0);
    p.untagged = Untagged::Also;
    let plan = purge::plan(&c, &p).unwrap();
    let d = decisions(&plan);
    let m = |digest: &str| format!("app@{digest}");
    assert_eq!(d["app:v1"], expired());
    assert_eq!(d["app:stable"], keep(KeepReason::TooNew));
    assert_eq!(d[&m(&old_index)], Decision::Delete(DeleteReason::Untagged));
    assert_eq!(d[&m(&amd2)], Decision::Delete(DeleteReason::Untagged));
    assert_eq!(d[&m(&loose)], Decision::Delete(DeleteReason::Untagged));
    assert_eq!(
        d[&m(&amd)],
        keep(KeepReason::Referenced),
        "the kept index needs it"
    );
    assert_eq!(d[&m(&arm)], keep(KeepReason::Referenced));
    assert_eq!(d[&m(&young)], keep(KeepReason::TooNew));
    assert!(
        !d.contains_key(&m(&kept_index)),
        "tagged with a kept tag: not considered"
    );

    let report = purge::apply(
        &c,
        &plan,
        ApplyOptions {
            concurrency: 4,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((report.deleted(), report.failed()), (4, 0));
    for gone in [&old_index, &amd2, &loose] {
        assert!(!acr.has_manifest("app", gone));
    }
    for stays in [&amd, &arm, &kept_index, &young] {
        assert!(acr.has_manifest("app", stays));
    }
    // order: the tag before its manifest, the index before its child
    let log = acr.state().deleted.clone();
    let pos = |s: &str| log.iter().position(|l| l == s).unwrap();
    assert!(pos("app:v1") < pos(&m(&old_index)), "{log:?}");
    assert!(pos(&m(&old_index)) < pos(&m(&amd2)), "{log:?}");
}

#[test]
fn untagged_only_leaves_tags_alone() {
    let acr = FakeAcr::start();
    acr.image("app", "v1", &days_ago(60, 0));
    let loose = acr.manifest("app", "loose", &days_ago(60, 0), &[], None);
    let mut p = policy(&["app:.*"], Some(30), 0);
    p.untagged = Untagged::Only;
    let plan = purge::plan(&client(&acr), &p).unwrap();
    let d = decisions(&plan);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[&format!("app@{loose}")],
        Decision::Delete(DeleteReason::Untagged)
    );
}

#[test]
fn referrers_of_deleted_manifests_are_reported_and_deleted_only_when_asked() {
    let acr = FakeAcr::start();
    let old = days_ago(60, 0);
    let image = acr.image("app", "v1", &old);
    let signature = acr.manifest("app", "sig", &old, &[], Some(&image));
    let kept_image = acr.image("app", "v2", &days_ago(1, 0));
    let kept_signature = acr.manifest("app", "sig2", &old, &[], Some(&kept_image));
    let c = client(&acr);
    let mut p = policy(&["app:.*"], Some(30), 0);
    p.untagged = Untagged::Also;
    let plan = purge::plan(&c, &p).unwrap();
    let d = decisions(&plan);
    let m = |digest: &str| format!("app@{digest}");
    assert_eq!(d[&m(&image)], Decision::Delete(DeleteReason::Untagged));
    assert_eq!(d[&m(&signature)], keep(KeepReason::Referrer));
    assert_eq!(d[&m(&kept_signature)], keep(KeepReason::SubjectStays));
    let reported: Vec<&Entry> = plan
        .entries
        .iter()
        .filter(|e| e.decision == keep(KeepReason::Referrer))
        .collect();
    assert_eq!(
        reported[0].subject.as_ref().map(|d| d.to_string()),
        Some(image.clone())
    );

    p.include_referrers = true;
    let plan = purge::plan(&c, &p).unwrap();
    let d = decisions(&plan);
    assert_eq!(d[&m(&signature)], Decision::Delete(DeleteReason::Referrer));
    assert_eq!(d[&m(&kept_signature)], keep(KeepReason::SubjectStays));
    acr.reset_counts();
    purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    let log = acr.state().deleted.clone();
    let pos = |s: &str| log.iter().position(|l| l == s).unwrap();
    assert!(
        pos(&m(&signature)) < pos(&m(&image)),
        "referrer before subject: {log:?}"
    );
    assert!(acr.has_manifest("app", &kept_signature));
}

#[test]
fn a_failed_delete_in_the_middle_is_reported_its_dependants_skipped_and_a_rerun_finishes() {
    let acr = FakeAcr::start();
    let old = days_ago(60, 0);
    let child = acr.manifest("app", "child", &old, &[], None);
    let index = acr.manifest("app", "index", &old, &[&child], None);
    acr.tag("app", "multi", &index, &old);
    for t in ["a", "b", "c", "d"] {
        acr.image("app", t, &old);
    }
    let c = client(&acr);
    let mut p = policy(&["app:.*"], Some(30), 0);
    p.untagged = Untagged::Also;
    let plan = purge::plan(&c, &p).unwrap();
    // 5 tags, 5 formerly tagged manifests, the child
    assert_eq!(plan.deletion_count(), 11);
    // the tag c fails (more than the client's retries), and the index's manifest delete
    acr.fail("DELETE /acr/v1/app/_tags/c", 403, 1);
    acr.fail(&format!("DELETE /v2/app/manifests/{index}"), 403, 1);
    let progress: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let seen = progress.clone();
    let options = ApplyOptions {
        concurrency: 3,
        progress: Some(Arc::new(move |p: &purge::ApplyProgress<'_>| {
            seen.lock().unwrap().push((p.finished, p.total))
        })),
    };
    let report = purge::apply(&c, &plan, options).unwrap();
    let outcome = |name: &str| {
        let r = report
            .results
            .iter()
            .find(|r| plan.entries[r.entry].name() == name)
            .unwrap_or_else(|| panic!("no result for {name}"));
        &r.outcome
    };
    assert!(matches!(outcome("app:c"), Outcome::Failed(e) if e.status() == Some(403)));
    let c_digest = plan
        .entries
        .iter()
        .find(|e| e.tag.as_deref() == Some("c"))
        .unwrap();
    assert!(
        matches!(
            outcome(&format!("app@{}", c_digest.digest)),
            Outcome::Skipped(_)
        ),
        "its manifest waits for the tag"
    );
    assert!(matches!(
        outcome(&format!("app@{index}")),
        Outcome::Failed(_)
    ));
    assert!(
        matches!(outcome(&format!("app@{child}")), Outcome::Skipped(_)),
        "the child stays while its index does"
    );
    assert_eq!(
        (report.deleted(), report.failed(), report.skipped()),
        (7, 2, 2)
    );
    assert!(acr.has_manifest("app", &child) && acr.has_manifest("app", &index));
    let calls = progress.lock().unwrap().clone();
    assert_eq!(calls.len(), 11);
    assert!(calls.iter().all(|&(_, total)| total == 11));
    assert_eq!(calls.iter().map(|c| c.0).max(), Some(11));

    // the rerun plans what is left and finishes it
    let again = purge::plan(&c, &p).unwrap();
    assert_eq!(again.deletion_count(), 4, "{:?}", decisions(&again));
    let report = purge::apply(&c, &again, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (4, 0));
    let s = acr.state();
    assert!(s.repos["app"].tags.is_empty() && s.repos["app"].manifests.is_empty());
}

#[test]
fn a_delete_that_finds_nothing_counts_as_done() {
    let acr = FakeAcr::start();
    acr.image("app", "v1", &days_ago(60, 0));
    let c = client(&acr);
    let plan = purge::plan(&c, &policy(&["app:.*"], None, 0)).unwrap();
    acr.state().repos.get_mut("app").unwrap().tags.clear(); // deleted by someone else meanwhile
    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (1, 0));
}

#[test]
fn the_cap_refuses_the_whole_plan_before_any_request() {
    let acr = FakeAcr::start();
    for t in ["a", "b", "c"] {
        acr.image("app", t, &days_ago(60, 0));
    }
    let c = client(&acr);
    let mut p = policy(&["app:.*"], None, 0);
    p.max_deletes = Some(2);
    let plan = purge::plan(&c, &p).unwrap();
    assert!(plan.exceeds_cap());
    acr.reset_counts();
    let e = purge::apply(&c, &plan, ApplyOptions::default()).unwrap_err();
    assert!(e.to_string().contains("cap of 2"), "{e}");
    assert_eq!(acr.counts().deletes(), 0);
    assert_eq!(acr.tags("app").len(), 3);
}

#[test]
fn no_filter_is_refused() {
    let acr = FakeAcr::start();
    let e = purge::plan(&client(&acr), &RetentionPolicy::default()).unwrap_err();
    assert!(e.to_string().contains("at least one"), "{e}");
    assert_eq!(acr.counts(), Default::default());
}

#[test]
fn deletions_run_on_at_most_concurrency_threads() {
    let acr = FakeAcr::start();
    for t in 0..24 {
        acr.image("app", &format!("t{t:02}"), &days_ago(60, 0));
    }
    acr.set_delete_delay(Duration::from_millis(30));
    let c = Client::new(
        &acr.url(),
        Credential::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let plan = purge::plan(&c, &policy(&["app:.*"], None, 0)).unwrap();
    let options = ApplyOptions {
        concurrency: 4,
        ..Default::default()
    };
    let report = purge::apply(&c, &plan, options).unwrap();
    assert_eq!(report.deleted(), 24);
    // at most 4 at once (the bound); more than one (it is parallel: 24 deletions of 30 ms each
    // leave the pool's threads ample time to start)
    let peak = acr.state().peak_deletes_in_flight;
    assert!(
        (2..=4).contains(&peak),
        "{peak} deletions at once with concurrency 4"
    );
}

/// The fake through the OCI API only (as any registry): no `/acr/v1`, a tag goes with its
/// manifest, referrers through the referrers API.
fn oci_policy(include_referrers: bool) -> RetentionPolicy {
    RetentionPolicy {
        filters: vec!["app:.*".parse().unwrap()],
        registry: RegistryKind::Oci,
        include_referrers,
        ..Default::default()
    }
}

#[test]
fn oci_referrers_of_deleted_manifests_are_reported_then_deleted_first_when_asked() {
    let acr = FakeAcr::start();
    let old = days_ago(60, 0);
    let image = acr.image("app", "v1", &old);
    let signature = acr.manifest("app", "sig", &old, &[], Some(&image));
    let c = client(&acr);
    let plan = purge::plan(&c, &oci_policy(false)).unwrap();
    let d = decisions(&plan);
    let m = |digest: &str| format!("app@{digest}");
    assert_eq!(d[&m(&image)], expired());
    assert_eq!(d[&m(&signature)], keep(KeepReason::Referrer));
    assert!(
        plan.entries
            .iter()
            .any(|e| e.tag.as_deref() == Some("v1") && e.with_manifest)
    );
    assert_eq!(
        acr.counts().list_requests(),
        2,
        "the /v2 catalog and the tag list"
    );

    let plan = purge::plan(&c, &oci_policy(true)).unwrap();
    assert_eq!(
        decisions(&plan)[&m(&signature)],
        Decision::Delete(DeleteReason::Referrer)
    );
    acr.reset_counts();
    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (2, 0));
    assert_eq!(
        acr.counts().tag_deletes,
        0,
        "no /acr/v1 tag deletion on the OCI API"
    );
    let log = acr.state().deleted.clone();
    assert_eq!(log, [m(&signature), m(&image)], "the referrer first");
}

#[test]
fn oci_a_registry_that_cannot_list_referrers_gets_a_notice_not_a_failure() {
    let acr = FakeAcr::start();
    let image = acr.image("app", "v1", &days_ago(60, 0));
    acr.fail("GET /v2/app/referrers/", 405, 1);
    let plan = purge::plan(&client(&acr), &oci_policy(true)).unwrap();
    assert_eq!(plan.deletion_count(), 1);
    assert_eq!(plan.notices.len(), 1, "{:?}", plan.notices);
    assert!(
        plan.notices[0].contains(&format!("referrers of app@{image}")),
        "{:?}",
        plan.notices
    );
}

#[test]
fn a_locked_untagged_manifest_is_kept_or_unlocked_then_deleted() {
    let acr = FakeAcr::start();
    let loose = acr.manifest("app", "loose", &days_ago(60, 0), &[], None);
    acr.lock_manifest("app", &loose);
    let c = client(&acr);
    let mut p = policy(&["app:.*"], Some(30), 0);
    p.untagged = Untagged::Only;
    let plan = purge::plan(&c, &p).unwrap();
    assert_eq!(
        decisions(&plan)[&format!("app@{loose}")],
        keep(KeepReason::Locked)
    );
    p.include_locked = true;
    let plan = purge::plan(&c, &p).unwrap();
    assert!(plan.entries[0].locked && plan.entries[0].decision.is_delete());
    acr.reset_counts();
    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (1, 0));
    let counts = acr.counts();
    assert_eq!((counts.patches, counts.manifest_deletes), (1, 1));
    assert!(!acr.has_manifest("app", &loose));
}
