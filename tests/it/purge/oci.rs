//! Purges on the real distribution registry (deletes enabled): ages from image configs, a tag
//! that goes only with its manifest, indexes and their children, the untagged notice.

use std::time::Duration;

use azcontainerregistry::purge::{
    self, ApplyOptions, Decision, DeleteReason, KeepReason, RegistryKind, RetentionPolicy, Untagged,
};
use azcontainerregistry::{Client, Timestamp};

use crate::support::{OCI_MANIFEST, Registry, client};

const NOW: &str = "2026-01-01T00:00:00Z";

/// Pushes an image whose config says it was created `created` (RFC 3339, or none), tagged with
/// `tags`; returns its digest.
fn push(reg: &Registry, repo: &str, tags: &[&str], created: Option<&str>, seed: u64) -> String {
    let mut config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []}, "seed": seed});
    if let Some(c) = created {
        config["created"] = c.into();
    }
    let config = config.to_string().into_bytes();
    let config_digest = reg.push_blob(repo, &config);
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest, "size": config.len()},
        "layers": []})
    .to_string()
    .into_bytes();
    let mut digest = String::new();
    for t in tags {
        digest = reg.push_manifest(repo, t, OCI_MANIFEST, &manifest);
    }
    digest
}

fn policy(filter: &str, ago: &str, keep: usize) -> RetentionPolicy {
    RetentionPolicy {
        filters: vec![filter.parse().unwrap()],
        older_than: Some(purge::parse_duration(ago).unwrap()),
        keep,
        registry: RegistryKind::Auto, // a loopback registry: the OCI API
        now: Some(Timestamp::parse(NOW).unwrap()),
        ..Default::default()
    }
}

fn tags(c: &Client, repo: &str) -> Vec<String> {
    let mut t: Vec<String> = c
        .list_tag_names(repo, Default::default())
        .collect::<Result<_, _>>()
        .unwrap();
    t.sort();
    t
}

#[test]
fn ages_come_from_image_configs_and_a_tag_goes_only_with_its_manifest() {
    let reg = Registry::start();
    let c = client(&reg.url());
    push(&reg, "app", &["v1"], Some("2025-09-01T00:00:00Z"), 1);
    push(&reg, "app", &["v2"], Some("2025-10-01T00:00:00Z"), 2);
    push(&reg, "app", &["v3"], Some("2025-12-30T00:00:00Z"), 3);
    push(&reg, "app", &["noage"], None, 4);
    // an old manifest with an expired tag and a tag the filter does not match
    let shared = push(
        &reg,
        "app",
        &["v0", "release"],
        Some("2025-01-01T00:00:00Z"),
        5,
    );
    let plan = purge::plan(&c, &policy("app:v.*|noage", "30d", 0)).unwrap();
    assert_eq!(plan.api, RegistryKind::Oci);
    let d: std::collections::BTreeMap<String, Decision> = plan
        .entries
        .iter()
        .map(|e| (e.name(), e.decision))
        .collect();
    assert_eq!(d["app:v1"], Decision::Delete(DeleteReason::Expired));
    assert_eq!(d["app:v2"], Decision::Delete(DeleteReason::Expired));
    assert_eq!(d["app:v3"], Decision::Keep(KeepReason::TooNew));
    assert_eq!(d["app:noage"], Decision::Keep(KeepReason::NoAge));
    assert_eq!(
        d["app:v0"],
        Decision::Keep(KeepReason::Referenced),
        "release stays on it"
    );
    let v1 = plan
        .entries
        .iter()
        .find(|e| e.tag.as_deref() == Some("v1"))
        .unwrap();
    assert_eq!(
        v1.updated.as_ref().map(|t| t.to_string()).as_deref(),
        Some("2025-09-01T00:00:00Z")
    );
    assert!(v1.with_manifest);
    // two manifest deletions carry the two tags
    assert_eq!(plan.deletion_count(), 2);
    let report = purge::apply(&c, &plan, ApplyOptions::default()).unwrap();
    assert_eq!((report.deleted(), report.failed()), (2, 0));
    assert_eq!(tags(&c, "app"), ["noage", "release", "v0", "v3"]);
    assert!(c.manifest_exists("app", &shared).unwrap().is_some());

    // a rerun finds nothing more to do
    let again = purge::plan(&c, &policy("app:v.*|noage", "30d", 0)).unwrap();
    assert_eq!(again.deletion_count(), 0);
}

#[test]
fn keep_and_indexes_on_a_real_registry() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let amd = push(
        &reg,
        "multi",
        &["amd-old"],
        Some("2025-01-01T00:00:00Z"),
        11,
    );
    let arm = push(
        &reg,
        "multi",
        &["arm-old"],
        Some("2025-02-01T00:00:00Z"),
        12,
    );
    let index = serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "annotations": {"org.opencontainers.image.created": "2025-03-01T00:00:00Z"},
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": amd, "size": 1,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": OCI_MANIFEST, "digest": arm, "size": 1,
             "platform": {"os": "linux", "architecture": "arm64"}}]})
    .to_string()
    .into_bytes();
    // the real sizes, so the registry accepts the index
    let fix = |bytes: &[u8]| -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        for m in v["manifests"].as_array_mut().unwrap() {
            let d = m["digest"].as_str().unwrap().to_string();
            let size = c.manifest_exists("multi", &d).unwrap().unwrap().size;
            m["size"] = size.into();
        }
        v.to_string().into_bytes()
    };
    let index = fix(&index);
    reg.push_manifest(
        "multi",
        "latest",
        "application/vnd.oci.image.index.v1+json",
        &index,
    );
    // the index (its age from its annotation, March 2025, the newest) is kept by keep 1; the
    // platforms' own tags expire but the index that stays lists them
    let plan = purge::plan(&c, &policy("multi:.*", "30d", 1)).unwrap();
    let d: std::collections::BTreeMap<String, Decision> = plan
        .entries
        .iter()
        .map(|e| (e.name(), e.decision))
        .collect();
    assert_eq!(d["multi:latest"], Decision::Keep(KeepReason::Keep));
    assert_eq!(d["multi:arm-old"], Decision::Keep(KeepReason::Referenced));
    assert_eq!(d["multi:amd-old"], Decision::Keep(KeepReason::Referenced));
    assert_eq!(plan.deletion_count(), 0);

    // without keep, the index goes first, then its platforms
    let plan = purge::plan(&c, &policy("multi:.*", "30d", 0)).unwrap();
    assert_eq!(plan.deletion_count(), 3, "{:#?}", plan.entries);
    let report = purge::apply(
        &c,
        &plan,
        ApplyOptions {
            concurrency: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((report.deleted(), report.failed()), (3, 0));
    assert!(tags(&c, "multi").is_empty());
}

#[test]
fn untagged_is_a_notice_and_untagged_only_an_error_on_registries_without_a_manifest_listing() {
    let reg = Registry::start();
    let c = client(&reg.url());
    push(&reg, "app", &["v1"], Some("2025-01-01T00:00:00Z"), 21);
    let mut p = policy("app:.*", "30d", 0);
    p.untagged = Untagged::Also;
    let plan = purge::plan(&c, &p).unwrap();
    assert_eq!(plan.notices.len(), 1);
    assert!(
        plan.notices[0].contains("untagged manifests cannot be discovered"),
        "{:?}",
        plan.notices
    );
    assert_eq!(plan.deletion_count(), 1, "the tags are still purged");
    p.untagged = Untagged::Only;
    let e = purge::plan(&c, &p).unwrap_err();
    assert!(
        e.to_string()
            .contains("untagged manifests cannot be discovered"),
        "{e}"
    );
    let _ = Duration::ZERO;
}

#[test]
fn the_delete_images_example_keeps_the_newest_per_repository() {
    let reg = Registry::start();
    push(&reg, "app", &["v1"], Some("2025-01-01T00:00:00Z"), 31);
    push(&reg, "app", &["v2"], Some("2025-02-01T00:00:00Z"), 32);
    push(&reg, "app", &["v3"], Some("2025-03-01T00:00:00Z"), 33);
    push(&reg, "web.site", &["a"], Some("2025-01-01T00:00:00Z"), 34);
    let example = crate::support::cli::build_example("delete_images");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&example)
            .args(["--registry", &reg.url(), "--anonymous"])
            .args(args)
            .env_remove("ACR_USERNAME")
            .env_remove("ACR_PASSWORD")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let c = client(&reg.url());
    let dry = run(&["--keep", "1", "--repository", "app", "--dry-run"]);
    assert!(dry.contains("would delete 2"), "{dry}");
    assert_eq!(tags(&c, "app"), ["v1", "v2", "v3"]);
    let done = run(&["--keep", "1", "--repository", "app"]);
    assert!(done.contains("deleted 2, failed 0"), "{done}");
    assert_eq!(tags(&c, "app"), ["v3"]);
    assert_eq!(tags(&c, "web.site"), ["a"]);
}
