//! The `acr` CLI (src/bin/acr) run as a process against the real distribution registry: one
//! test per command, asserting stdout, stderr and the exit status as documented at the top of
//! src/bin/acr (results on stdout; notes and progress on stderr; an error is ONE stderr line
//! `acr: error: ...` with exit 1; usage errors exit 2; `blob exists` exits 1 when the blob is
//! absent and 2 on an error). The ACR-only commands run against a mock ACR in `cli::acr`.

use std::path::Path;

use azcontainerregistry::manifest::media_type;

use crate::support::cli::{Acr, Run};
use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::{OCI_MANIFEST, Registry, pseudo_random, sha256_digest};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// `acr --registry URL ARGS...`
fn acr(reg: &Registry, args: &[&str]) -> Run {
    Acr::new().registry(&reg.url()).args(args).run()
}

/// The manifest descriptors (digest, ref name) listed in a layout's index.json.
fn layout_entries(dir: &Path) -> Vec<(String, Option<String>)> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap().to_string(),
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn repos_lists_every_repository_one_per_line_page_by_page_and_as_json() {
    let reg = Registry::start();
    for (i, repo) in ["zeta", "alpha/one", "alpha/two", "mid"].iter().enumerate() {
        reg.push_test_image(repo, "v1", 100, i as u64);
    }
    let expected = ["alpha/one", "alpha/two", "mid", "zeta"];

    let out = acr(&reg, &["repos"]).quiet_success();
    assert_eq!(out.stdout_lines(), expected);
    // one repository per page: 4 pages followed through Link headers, same result
    let paged = acr(&reg, &["repos", "--page-size", "1"]).quiet_success();
    assert_eq!(paged.stdout_lines(), expected);
    // a bare host:port on loopback means http
    let bare = Acr::new()
        .registry(&reg.host_port())
        .args(["repos"])
        .run()
        .quiet_success();
    assert_eq!(bare.stdout_lines(), expected);
    // the registry from the environment
    let from_env = Acr::new()
        .env("ACR_REGISTRY", &reg.url())
        .args(["repos", "--page-size", "3"])
        .run()
        .quiet_success();
    assert_eq!(from_env.stdout_lines(), expected);
    // resume after a name
    let after = acr(&reg, &["repos", "--last", "alpha/two"]).quiet_success();
    assert_eq!(after.stdout_lines(), ["mid", "zeta"]);

    let json = acr(&reg, &["repos", "--json"]).quiet_success().json();
    assert_eq!(json, serde_json::json!(expected));
    // --json is global: also accepted before the subcommand
    let json_first = Acr::new()
        .args([
            "--json",
            "--registry",
            &reg.url(),
            "repos",
            "--page-size",
            "2",
        ])
        .run()
        .quiet_success()
        .json();
    assert_eq!(json_first, serde_json::json!(expected));
}

#[test]
fn tags_lists_the_tags_of_a_repository() {
    let reg = Registry::start();
    let image = reg.push_test_image("app", "v1", 100, 7);
    for tag in ["latest", "v2", "a-tag"] {
        reg.push_manifest("app", tag, OCI_MANIFEST, &image.manifest);
    }
    // in the registry's order (distribution 2.8 does not sort tags)
    let listed = reg
        .request("GET", "/v2/app/tags/list", &[], &[], b"")
        .json();
    let expected: Vec<String> = serde_json::from_value(listed["tags"].clone()).unwrap();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(sorted, ["a-tag", "latest", "v1", "v2"]);

    let out = acr(&reg, &["tags", "app"]).quiet_success();
    assert_eq!(out.stdout_lines(), expected);
    let paged = acr(&reg, &["tags", "app", "--page-size", "1"]).quiet_success();
    assert_eq!(paged.stdout_lines(), expected);
    let json = acr(&reg, &["--json", "tags", "app"]).quiet_success().json();
    assert_eq!(json, serde_json::json!(expected));

    // the OCI API has no ordering: a clear error, nothing sent
    let ordered = acr(&reg, &["tags", "app", "--orderby", "timedesc"]);
    let line = ordered.error_line(1);
    assert!(line.contains("--api acr"), "{line}");
    // an unknown repository
    let missing = acr(&reg, &["tags", "nothing-here"]);
    let line = missing.error_line(1);
    assert!(line.contains("NAME_UNKNOWN"), "{line}");
}

#[test]
fn manifest_get_prints_the_exact_bytes_or_writes_them_to_a_file() {
    let reg = Registry::start();
    let image = reg.push_test_image("app", "v1", 500, 3);

    let by_tag = acr(&reg, &["manifest", "get", "app:v1"]).quiet_success();
    assert_eq!(
        by_tag.output.stdout, image.manifest,
        "exact bytes, no newline"
    );
    let by_digest = acr(
        &reg,
        &["manifest", "get", &format!("app@{}", image.manifest_digest)],
    )
    .quiet_success();
    assert_eq!(by_digest.output.stdout, image.manifest);
    let accepted = acr(
        &reg,
        &["manifest", "get", "app:v1", "--accept", OCI_MANIFEST],
    )
    .quiet_success();
    assert_eq!(accepted.output.stdout, image.manifest);

    // Docker types only: the registry cannot serve the OCI manifest
    let narrowed = acr(
        &reg,
        &[
            "manifest",
            "get",
            "app:v1",
            "--accept",
            DOCKER_MANIFEST,
            "--accept",
            DOCKER_LIST,
        ],
    );
    let line = narrowed.error_line(1);
    assert!(line.contains("MANIFEST_UNKNOWN"), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifest.json");
    let out = acr(
        &reg,
        &[
            "manifest",
            "get",
            "app:v1",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .success();
    assert!(out.output.stdout.is_empty(), "{}", out.describe());
    assert_eq!(std::fs::read(&file).unwrap(), image.manifest);
    let note = out.stderr();
    assert!(
        note.contains(&image.manifest_digest) && note.contains(OCI_MANIFEST),
        "the note names the digest and media type: {note}"
    );

    let missing = acr(&reg, &["manifest", "get", "app:nope"]);
    let line = missing.error_line(1);
    assert!(line.contains("MANIFEST_UNKNOWN"), "{line}");
}

#[test]
fn manifest_put_uploads_a_file_and_prints_its_digest() {
    let reg = Registry::start();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = pseudo_random(1234, 42);
    let config_digest = reg.push_blob("put", config);
    let layer_digest = reg.push_blob("put", &layer);
    let body = |with_media_type: bool| {
        let mut m = serde_json::json!({
            "schemaVersion": 2,
            "config": {"mediaType": media_type::OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": media_type::OCI_LAYER_TAR_GZIP, "digest": layer_digest, "size": layer.len()}],
        });
        if with_media_type {
            m["mediaType"] = OCI_MANIFEST.into();
        }
        serde_json::to_vec_pretty(&m).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with.json");
    let without = dir.path().join("without.json");
    std::fs::write(&with, body(true)).unwrap();
    std::fs::write(&without, body(false)).unwrap();

    // the media type from the file's mediaType field
    let out = acr(&reg, &["manifest", "put", "put:v1", with.to_str().unwrap()]).quiet_success();
    assert_eq!(out.stdout(), format!("{}\n", sha256_digest(body(true))));
    let r = reg.request(
        "GET",
        "/v2/put/manifests/v1",
        &[],
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body(true), "stored byte for byte");
    assert_eq!(r.header("content-type"), Some(OCI_MANIFEST));

    // no mediaType field: --media-type is needed
    let refused = acr(
        &reg,
        &["manifest", "put", "put:v2", without.to_str().unwrap()],
    );
    let line = refused.error_line(1);
    assert!(line.contains("--media-type"), "{line}");
    let out = acr(
        &reg,
        &[
            "manifest",
            "put",
            "put:v2",
            without.to_str().unwrap(),
            "--media-type",
            OCI_MANIFEST,
        ],
    )
    .quiet_success();
    let digest = sha256_digest(body(false));
    assert_eq!(out.stdout(), format!("{digest}\n"));
    let r = reg.request(
        "GET",
        "/v2/put/manifests/v2",
        &[],
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(r.body, body(false));
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));

    // a missing file: the error names it
    let gone = dir.path().join("gone.json");
    let missing = acr(&reg, &["manifest", "put", "put:v3", gone.to_str().unwrap()]);
    let line = missing.error_line(1);
    assert!(line.contains("gone.json"), "{line}");
}

#[test]
fn blob_put_uploads_a_file_monolithic_or_chunked_and_prints_its_digest() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let bytes = pseudo_random(300 * 1024, 5);
    let file = dir.path().join("blob.bin");
    std::fs::write(&file, &bytes).unwrap();
    let digest = sha256_digest(&bytes);

    let out = acr(&reg, &["blob", "put", "one", file.to_str().unwrap()]).quiet_success();
    assert_eq!(out.stdout(), format!("{digest}\n"));
    let r = reg.request("GET", &format!("/v2/one/blobs/{digest}"), &[], &[], b"");
    assert_eq!((r.status, r.body == bytes), (200, true));

    let chunked = acr(
        &reg,
        &[
            "blob",
            "put",
            "two",
            file.to_str().unwrap(),
            "--chunk-size",
            "65536",
        ],
    )
    .quiet_success();
    assert_eq!(chunked.stdout(), format!("{digest}\n"));
    let r = reg.request("GET", &format!("/v2/two/blobs/{digest}"), &[], &[], b"");
    assert_eq!((r.status, r.body == bytes), (200, true));

    let gone = dir.path().join("gone.bin");
    let missing = acr(&reg, &["blob", "put", "one", gone.to_str().unwrap()]);
    let line = missing.error_line(1);
    assert!(line.contains("gone.bin"), "{line}");
}

#[test]
fn blob_get_downloads_a_verified_blob_to_a_file() {
    let reg = Registry::start();
    let bytes = pseudo_random(200_000, 9);
    let digest = reg.push_blob("data", &bytes);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.bin");

    let out = acr(
        &reg,
        &[
            "blob",
            "get",
            &format!("data@{digest}"),
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .success();
    assert!(out.output.stdout.is_empty(), "{}", out.describe());
    assert!(out.stderr().contains(&digest), "{}", out.describe());
    assert_eq!(std::fs::read(&file).unwrap(), bytes);

    let absent = sha256_digest(b"not uploaded");
    let other = dir.path().join("absent.bin");
    let missing = acr(
        &reg,
        &[
            "blob",
            "get",
            &format!("data@{absent}"),
            "--output",
            other.to_str().unwrap(),
        ],
    );
    let line = missing.error_line(1);
    assert!(line.contains(&absent), "{line}");
    assert!(!other.exists(), "no file for a missing blob");

    // a blob is named by digest
    let by_tag = acr(
        &reg,
        &[
            "blob",
            "get",
            "data:v1",
            "--output",
            other.to_str().unwrap(),
        ],
    );
    let line = by_tag.error_line(1);
    assert!(line.contains("REPO@DIGEST"), "{line}");
}

#[test]
fn blob_exists_exits_0_with_the_size_1_when_absent_and_2_on_error() {
    let reg = Registry::start();
    let bytes = pseudo_random(4321, 1);
    let digest = reg.push_blob("data", &bytes);

    let there = acr(&reg, &["blob", "exists", &format!("data@{digest}")]).quiet_success();
    assert_eq!(there.stdout(), "4321\n");

    let absent = sha256_digest(b"absent");
    let not_there = acr(&reg, &["blob", "exists", &format!("data@{absent}")]);
    assert_eq!(not_there.code(), 1, "{}", not_there.describe());
    assert!(not_there.output.stdout.is_empty());
    assert_eq!(
        not_there.stderr(),
        format!("data@{absent} does not exist\n")
    );

    // an error is not "absent": nothing listens on port 1 (retried for a few seconds, then one line
    // naming what failed)
    let broken = Acr::new()
        .registry("http://127.0.0.1:1")
        .args(["blob", "exists", &format!("data@{digest}")])
        .run();
    let line = broken.error_line(2);
    assert!(line.contains("http://127.0.0.1:1/v2/data/blobs/"), "{line}");
}

#[test]
fn blob_mount_links_a_blob_from_another_repository() {
    let reg = Registry::start();
    let bytes = pseudo_random(10_000, 77);
    let digest = reg.push_blob("source", &bytes);

    let out = acr(
        &reg,
        &[
            "blob",
            "mount",
            &format!("target@{digest}"),
            "--from",
            "source",
        ],
    )
    .quiet_success();
    assert_eq!(
        out.stdout(),
        format!("mounted {digest} from source into target\n")
    );
    let r = reg.request("GET", &format!("/v2/target/blobs/{digest}"), &[], &[], b"");
    assert_eq!((r.status, r.body == bytes), (200, true));

    let absent = sha256_digest(b"never pushed");
    let refused = acr(
        &reg,
        &[
            "blob",
            "mount",
            &format!("target@{absent}"),
            "--from",
            "source",
        ],
    );
    let line = refused.error_line(1);
    assert!(line.contains("did not mount"), "{line}");
}

#[test]
fn push_then_pull_round_trips_a_two_platform_image_and_pulls_one_platform() {
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 3000, 1);
    let layout_dir = src.path().to_str().unwrap();

    let pushed = acr(&reg, &["push", layout_dir, "multi/app:v1"]).success();
    assert_eq!(pushed.stdout(), format!("{}\n", built.index));
    let note = pushed.stderr();
    // 2 x (2 layers + config) = 6 blobs
    assert!(
        note.contains(&format!("pushed {}", built.index)) && note.contains("6 blobs uploaded"),
        "{note}"
    );
    // DIR:NAME names the image in the layout; pushing again uploads nothing
    let again = acr(&reg, &["push", &format!("{layout_dir}:v1"), "multi/app:v2"]).success();
    assert_eq!(again.stdout(), format!("{}\n", built.index));
    assert!(
        again.stderr().contains("0 blobs uploaded, 6 already there"),
        "{}",
        again.describe()
    );
    let tags = acr(&reg, &["tags", "multi/app"]).quiet_success();
    assert_eq!(tags.stdout_lines(), ["v1", "v2"]);
    // a name the layout does not have
    let bad = acr(&reg, &["push", &format!("{layout_dir}:v9"), "multi/app:v9"]);
    let line = bad.error_line(1);
    assert!(line.contains("v9"), "{line}");

    let dst = tempfile::tempdir().unwrap();
    let pulled = acr(
        &reg,
        &["pull", "multi/app:v1", dst.path().to_str().unwrap()],
    )
    .success();
    assert_eq!(pulled.stdout(), format!("{}\n", built.index));
    assert!(
        pulled.stderr().contains("6 blobs fetched"),
        "{}",
        pulled.describe()
    );
    assert_eq!(verified_blob_files(dst.path()), built.all);
    for name in &built.all {
        assert_eq!(
            std::fs::read(dst.path().join("blobs/sha256").join(name)).unwrap(),
            std::fs::read(src.path().join("blobs/sha256").join(name)).unwrap()
        );
    }
    assert_eq!(
        layout_entries(dst.path()),
        [(built.index.to_string(), Some("v1".to_string()))]
    );

    let arm = tempfile::tempdir().unwrap();
    let one = acr(
        &reg,
        &[
            "pull",
            "multi/app:v1",
            arm.path().to_str().unwrap(),
            "--platform",
            "linux/arm64",
        ],
    )
    .success();
    // one platform: the layout holds that platform's manifest itself, not the index
    assert_eq!(one.stdout(), format!("{}\n", built.child("arm64").1));
    let blobs = verified_blob_files(arm.path());
    assert_eq!(blobs, *built.closure("arm64"));
    assert!(!blobs.contains(built.child("amd64").1.hex()) && !blobs.contains(built.index.hex()));
    assert_eq!(
        layout_entries(arm.path()),
        [(built.child("arm64").1.to_string(), Some("v1".to_string()))]
    );

    // a pull that cannot start leaves no directory behind
    let nowhere = arm.path().join("x");
    let none = acr(
        &reg,
        &[
            "pull",
            "multi/app:v1",
            nowhere.to_str().unwrap(),
            "--platform",
            "windows/amd64",
        ],
    );
    let line = none.error_line(1);
    assert!(line.contains("windows/amd64"), "{line}");
    let missing = acr(&reg, &["pull", "multi/app:v9", nowhere.to_str().unwrap()]);
    let line = missing.error_line(1);
    assert!(line.contains("MANIFEST_UNKNOWN"), "{line}");
    assert!(
        !nowhere.exists(),
        "a failed pull created {}",
        nowhere.display()
    );
}

#[test]
fn copy_within_a_registry_and_to_another_registry() {
    let reg = Registry::start();
    let other = Registry::start();
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 3000, 2);
    acr(&reg, &["push", src.path().to_str().unwrap(), "src/app:v1"]).success();

    // within: every blob mounted, none moved
    let out = acr(&reg, &["copy", "src/app:v1", "dst/app:v1"]).success();
    assert_eq!(out.stdout(), format!("{}\n", built.index));
    assert!(
        out.stderr()
            .contains("0 blobs moved, 6 mounted or already there"),
        "{}",
        out.describe()
    );
    let got = acr(&reg, &["manifest", "get", "dst/app:v1"]).quiet_success();
    assert_eq!(sha256_digest(&got.output.stdout), built.index.to_string());

    // across registries: the destination names its registry (another port of 127.0.0.1)
    let dst = format!("{}/far/app:v1", other.host_port());
    let out = acr(&reg, &["copy", "src/app:v1", &dst]).success();
    assert_eq!(out.stdout(), format!("{}\n", built.index));
    assert!(out.stderr().contains("6 blobs moved"), "{}", out.describe());
    let far = acr(&other, &["manifest", "get", "far/app:v1"]).quiet_success();
    assert_eq!(sha256_digest(&far.output.stdout), built.index.to_string());
    // and the source registry did not get it instead
    let repos = acr(&reg, &["repos"]).quiet_success();
    assert_eq!(repos.stdout_lines(), ["dst/app", "src/app"]);

    // one platform only
    let out = acr(
        &reg,
        &[
            "copy",
            "src/app:v1",
            "arm/app:v1",
            "--platform",
            "linux/arm64",
        ],
    )
    .success();
    // one platform: the tag names that platform's manifest
    assert_eq!(out.stdout(), format!("{}\n", built.child("arm64").1));
    let got = acr(&reg, &["manifest", "get", "arm/app:v1"]).quiet_success();
    assert_eq!(
        sha256_digest(&got.output.stdout),
        built.child("arm64").1.to_string()
    );
}

#[test]
fn delete_removes_a_manifest_by_digest_or_by_tag() {
    let reg = Registry::start();
    let a = reg.push_test_image("app", "a", 100, 1);
    let b = reg.push_test_image("app", "b", 100, 2);

    let out = acr(&reg, &["delete", &format!("app@{}", a.manifest_digest)]).quiet_success();
    assert_eq!(out.stdout(), format!("deleted app@{}\n", a.manifest_digest));
    let r = reg.request(
        "GET",
        &format!("/v2/app/manifests/{}", a.manifest_digest),
        &[],
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(r.status, 404);

    // the registry cannot untag: the manifest goes, and stderr says so
    let out = acr(&reg, &["delete", "app:b"]).success();
    assert_eq!(out.stdout(), "deleted app:b\n");
    assert!(
        out.stderr().contains(&b.manifest_digest),
        "the note names the manifest deleted: {}",
        out.describe()
    );
    let r = reg.request(
        "GET",
        &format!("/v2/app/manifests/{}", b.manifest_digest),
        &[],
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(r.status, 404);

    // already gone: success, and a note says nothing was there
    let missing = acr(&reg, &["delete", "app:never"]).success();
    assert_eq!(missing.stdout(), "deleted app:never\n");
    assert_eq!(
        missing.stderr(),
        "acr: note: app:never does not exist; nothing to delete\n"
    );
    let repo_only = acr(&reg, &["delete", "app"]);
    let line = repo_only.error_line(1);
    assert!(line.contains("delete-repo"), "{line}");
}

#[test]
fn referrers_prints_nothing_for_none_and_one_line_per_referrer() {
    let reg = Registry::start();
    let image = reg.push_test_image("app", "v1", 100, 1);
    let out = acr(&reg, &["referrers", "app:v1"]).quiet_success();
    assert_eq!(out.stdout(), "");
    let out = acr(
        &reg,
        &["referrers", &format!("app@{}", image.manifest_digest)],
    )
    .quiet_success();
    assert_eq!(out.stdout(), "");
    let json = acr(&reg, &["--json", "referrers", "app:v1"])
        .quiet_success()
        .json();
    assert_eq!(json, serde_json::json!([]));

    // two artifacts whose subject is the image
    let empty = reg.push_blob("app", b"{}");
    let referrer = |artifact_type: &str| {
        let m = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": image.manifest_digest, "size": image.manifest.len()},
        });
        let bytes = serde_json::to_vec(&m).unwrap();
        let digest = reg.push_manifest("app", &sha256_digest(&bytes), OCI_MANIFEST, &bytes);
        serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": digest, "size": bytes.len(), "artifactType": artifact_type,
        })
    };
    let sbom_desc = referrer("application/vnd.example.sbom+json");
    let sig_desc = referrer("application/vnd.example.signature");
    let sbom = sbom_desc["digest"].as_str().unwrap().to_string();
    let sig = sig_desc["digest"].as_str().unwrap().to_string();
    // distribution 2.8 has no referrers API: the tag-schema fallback index under sha256-<hex>
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [sbom_desc, sig_desc],
    });
    let tag = format!("sha256-{}", &image.manifest_digest["sha256:".len()..]);
    reg.push_manifest(
        "app",
        &tag,
        media_type::OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    let out = acr(&reg, &["referrers", "app:v1"]).quiet_success();
    assert_eq!(
        out.stdout_lines(),
        [
            format!("{sbom} application/vnd.example.sbom+json"),
            format!("{sig} application/vnd.example.signature"),
        ]
    );
    let only = acr(
        &reg,
        &[
            "referrers",
            &format!("app@{}", image.manifest_digest),
            "--artifact-type",
            "application/vnd.example.signature",
        ],
    )
    .quiet_success();
    assert_eq!(
        only.stdout_lines(),
        [format!("{sig} application/vnd.example.signature")]
    );
    let json = acr(&reg, &["referrers", "app:v1", "--json"])
        .quiet_success()
        .json();
    assert_eq!(json[1], sig_desc);
}

#[test]
fn basic_credentials_from_flags_or_environment_and_a_wrong_password() {
    const PASSWORD: &str = "s3cret-Passw0rd";
    let reg = Registry::with_htpasswd("alice", PASSWORD);
    reg.push_test_image("private", "v1", 100, 1);

    let out = acr(
        &reg,
        &[
            "--username",
            "alice",
            "--password",
            PASSWORD,
            "tags",
            "private",
        ],
    )
    .quiet_success();
    assert_eq!(out.stdout_lines(), ["v1"]);
    // --auth auto picks basic from ACR_USERNAME / ACR_PASSWORD
    let env = Acr::new()
        .env("ACR_REGISTRY", &reg.url())
        .env("ACR_USERNAME", "alice")
        .env("ACR_PASSWORD", PASSWORD)
        .args(["repos"])
        .run()
        .quiet_success();
    assert_eq!(env.stdout_lines(), ["private"]);

    let wrong = "wrong-Passw0rd-xyz";
    let denied = acr(
        &reg,
        &[
            "--username",
            "alice",
            "--password",
            wrong,
            "tags",
            "private",
        ],
    );
    let line = denied.error_line(1);
    assert!(
        line.contains("401") || line.to_lowercase().contains("unauthorized"),
        "{line}"
    );
    assert!(!line.contains(wrong), "the password is echoed: {line}");
    let denied_env = Acr::new()
        .registry(&reg.url())
        .env("ACR_USERNAME", "alice")
        .env("ACR_PASSWORD", wrong)
        .args(["repos"])
        .run();
    let line = denied_env.error_line(1);
    assert!(!line.contains(wrong), "the password is echoed: {line}");

    // no credentials at all
    let anonymous = acr(&reg, &["tags", "private"]);
    anonymous.error_line(1);
    // a username without a password, and a password without a username
    let half = acr(&reg, &["--username", "alice", "tags", "private"]);
    let line = half.error_line(1);
    assert!(line.contains("--password"), "{line}");
    let other_half = Acr::new()
        .registry(&reg.url())
        .env("ACR_PASSWORD", PASSWORD)
        .args(["tags", "private"])
        .run();
    let line = other_half.error_line(1);
    assert!(line.contains("--username"), "{line}");
    assert!(!line.contains(PASSWORD), "{line}");
}

#[test]
fn auto_auth_on_a_loopback_registry_stays_anonymous_despite_azure_variables() {
    // token auth: the registry challenges, so the credential the CLI picked is really used
    let reg = Registry::with_token_auth();
    reg.push_test_image("app", "v1", 100, 1);
    let out = Acr::new()
        .registry(&reg.url())
        .env("AZURE_CLIENT_ID", "x")
        .env("AZURE_TENANT_ID", "y")
        .env("AZURE_CLIENT_SECRET", "z")
        // should a sign-in be tried anyway, it goes nowhere but loopback
        .env("AZURE_AUTHORITY_HOST", "http://127.0.0.1:1")
        .env("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")
        .env("IDENTITY_HEADER", "h")
        .env("MSI_ENDPOINT", "http://127.0.0.1:1/msi/token")
        .args(["tags", "app"])
        .run()
        .quiet_success();
    assert_eq!(out.stdout_lines(), ["v1"]);
    let requests = reg.token_issuer().requests();
    assert!(
        !requests.is_empty()
            && requests
                .iter()
                .all(|r| r.basic_user.is_none() && r.status == 200),
        "anonymous token requests only: {requests:?}"
    );
}

#[test]
fn input_errors_are_one_clear_line_and_send_nothing() {
    // nothing listens on port 1: an input error must be reported before any connection is tried
    let nowhere = "http://127.0.0.1:1";
    let no_registry = Acr::new().args(["tags", "app"]).run();
    let line = no_registry.error_line(1);
    assert!(
        line.contains("--registry") && line.contains("ACR_REGISTRY"),
        "{line}"
    );

    let cases: [(&[&str], &str); 5] = [
        (&["tags", "Bad/Name"], "repository"),
        (&["manifest", "get", "app:-bad"], "tag"),
        (&["manifest", "get", "app@sha256:abc"], "digest"),
        (&["blob", "exists", "app@md5:abc"], "digest"),
        (
            &["pull", "UPPER:v1", "/nonexistent-dir-for-acr-test"],
            "repository",
        ),
    ];
    for (args, rule) in cases {
        let out = Acr::new().registry(nowhere).args(args).run();
        let code = if args[0] == "blob" && args[1] == "exists" {
            2
        } else {
            1
        };
        let line = out.error_line(code);
        assert!(
            line.contains("invalid") && line.contains(rule),
            "{args:?}: {line}"
        );
        assert!(
            !line.contains("onnection refused"),
            "{args:?} sent a request: {line}"
        );
    }
    assert!(!Path::new("/nonexistent-dir-for-acr-test").exists());

    // usage errors are clap's: exit 2
    let usage = Acr::new().registry(nowhere).args(["frobnicate"]).run();
    assert_eq!(usage.code(), 2, "{}", usage.describe());
    assert!(usage.output.stdout.is_empty());
}

#[test]
fn acr_only_commands_on_a_registry_without_the_acr_api_say_so() {
    let reg = Registry::start();
    reg.push_test_image("app", "v1", 100, 1);
    for args in [
        &["show", "app"][..],
        &["show", "app:v1"],
        &["set", "app", "--can-delete", "false"],
        &["manifests", "app"],
    ] {
        let out = acr(&reg, args);
        let line = out.error_line(1);
        assert!(
            line.contains("status 404") && line.contains("ACR API"),
            "{args:?}: {line}"
        );
    }
    // delete-repo: a 404 counts as done, but the note tells nothing was deleted
    let out = acr(&reg, &["delete-repo", "app"]).success();
    assert_eq!(out.stdout(), "deleted app: 0 manifests, 0 tags\n");
    assert!(
        out.stderr().contains("nothing deleted"),
        "{}",
        out.describe()
    );
    assert_eq!(acr(&reg, &["tags", "app"]).quiet_success().stdout(), "v1\n");
    // --api oci: refused before any request
    let out = Acr::new()
        .registry("http://127.0.0.1:1")
        .args(["--api", "oci", "show", "app"])
        .run();
    let line = out.error_line(1);
    assert!(line.contains("needs the ACR API"), "{line}");
}

#[test]
fn credentials_for_registry_are_never_sent_to_another_registry() {
    // Both registries accept the same password: if the CLI forwarded it, the copy would succeed.
    let a = Registry::with_htpasswd("alice", "same-Passw0rd");
    let b = Registry::with_htpasswd("alice", "same-Passw0rd");
    a.push_test_image("app", "v1", 100, 5);
    let target = format!("{}/app:v1", b.host_port());
    let run = acr(
        &a,
        &[
            "--username",
            "alice",
            "--password",
            "same-Passw0rd",
            "copy",
            "app:v1",
            &target,
        ],
    );
    assert_ne!(run.code(), 0, "the copy must fail: {}", run.stderr());
    assert!(
        run.stderr().contains("only sent to --registry"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("401") || run.stderr().contains("credentials"),
        "{}",
        run.stderr()
    );
    // nothing reached b (listing its tags with the right password finds no repository)
    let back = acr(
        &b,
        &[
            "--username",
            "alice",
            "--password",
            "same-Passw0rd",
            "tags",
            "app",
        ],
    );
    assert_ne!(back.code(), 0, "nothing was copied to b");
}
