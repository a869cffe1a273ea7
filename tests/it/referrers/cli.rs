//! The commands: `acr attach`, `acr discover` (text tree and `--json`), `acr copy --referrers`;
//! the acceptance run: a signature and an SBOM attached, the image copied with its referrers to
//! another registry, the same tree with the same digests discovered there.

use super::{SBOM, SIG};
use crate::support::Registry;
use crate::support::cli::Acr;

#[test]
fn attach_copy_with_referrers_and_discover_show_the_same_tree_elsewhere() {
    let (src, dst) = (Registry::start(), Registry::start());
    let img = src.push_test_image("app", "v1", 128, 11);
    let dir = tempfile::tempdir().unwrap();
    let sig_file = dir.path().join("sig.jws");
    let sbom_file = dir.path().join("sbom.spdx.json");
    std::fs::write(&sig_file, b"eyJhbGciOiJFUzI1NiJ9.payload.signature").unwrap();
    std::fs::write(&sbom_file, br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#).unwrap();

    let sig = Acr::new()
        .registry(&src.url())
        .args(["attach", "app:v1", "--artifact-type", SIG])
        .arg(format!("{}:application/jose+json", sig_file.display()))
        .args(["--annotation", "io.example.signer=alice"])
        .run()
        .success();
    let sig_digest = sig.stdout().trim().to_string();
    assert!(sig_digest.starts_with("sha256:"), "{}", sig.describe());
    assert!(
        sig.stderr().contains(&format!(
            "listed in the tag index sha256-{}",
            &img.manifest_digest[7..]
        )),
        "{}",
        sig.describe()
    );
    let sbom = Acr::new()
        .registry(&src.url())
        .args(["--json", "attach", "app:v1", "--artifact-type", SBOM])
        .arg(sbom_file.to_str().unwrap())
        .run()
        .success()
        .json();
    assert_eq!(sbom["artifactType"], SBOM);
    assert_eq!(sbom["subject"], img.manifest_digest.as_str());
    assert_eq!(sbom["indexedByRegistry"], false);
    assert_eq!(
        sbom["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let sbom_digest = sbom["digest"].as_str().unwrap().to_string();

    let tree = Acr::new()
        .registry(&src.url())
        .args(["discover", "app:v1"])
        .run()
        .success();
    assert_eq!(
        tree.stdout_lines(),
        [
            format!("app@{}", img.manifest_digest),
            format!("├── {sig_digest} {SIG}"),
            format!("└── {sbom_digest} {SBOM}"),
        ]
    );
    let json_before = Acr::new()
        .registry(&src.url())
        .args(["discover", "app:v1", "--json"])
        .run()
        .success()
        .json();

    let copied = Acr::new()
        .registry(&src.url())
        .args(["--json", "copy", "--referrers", "app:v1"])
        .arg(format!("{}/mirror/app:v1", dst.host_port()))
        .run()
        .success()
        .json();
    assert_eq!(copied["referrers"], 2);
    assert_eq!(copied["digest"], img.manifest_digest.as_str());

    let json_after = Acr::new()
        .registry(&dst.url())
        .args(["discover", "mirror/app:v1", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json_after["referrers"], json_before["referrers"]);
    assert_eq!(json_after["digest"], json_before["digest"]);
    assert_eq!(json_after["repository"], "mirror/app");
    let first = &json_after["referrers"][0];
    assert_eq!(first["digest"], sig_digest.as_str());
    assert_eq!(first["artifactType"], SIG);
    assert_eq!(first["annotations"]["io.example.signer"], "alice");
    assert_eq!(first["referrers"], serde_json::json!([]));

    // through an OCI layout: pull --referrers, push --referrers
    let layout = dir.path().join("layout");
    let pulled = Acr::new()
        .registry(&src.url())
        .args(["--json", "pull", "--referrers", "app:v1"])
        .arg(layout.to_str().unwrap())
        .run()
        .success()
        .json();
    assert_eq!(pulled["referrers"], 2);
    let pushed = Acr::new()
        .registry(&dst.url())
        .args(["--json", "push", "--referrers"])
        .arg(format!("{}:v1", layout.display()))
        .arg("layout/app:v1")
        .run()
        .success()
        .json();
    assert_eq!(pushed["referrers"], 2);
    let from_layout = Acr::new()
        .registry(&dst.url())
        .args(["discover", "layout/app:v1", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(from_layout["referrers"], json_before["referrers"]);

    // the filter
    let only = Acr::new()
        .registry(&dst.url())
        .args(["discover", "mirror/app:v1", "--artifact-type", SBOM])
        .run()
        .success();
    assert_eq!(only.stdout_lines().len(), 2, "{}", only.describe());
    assert!(only.stdout_lines()[1].contains(&sbom_digest));
}

#[test]
fn attach_refuses_a_missing_file_and_a_bad_annotation_before_sending() {
    let reg = Registry::start();
    let img = reg.push_test_image("app", "v1", 16, 12);
    let run = Acr::new()
        .registry(&reg.url())
        .args(["attach", "app:v1", "--artifact-type", SIG, "/no/such/file"])
        .run();
    assert!(
        run.error_line(1).contains("/no/such/file: no such file"),
        "{}",
        run.describe()
    );
    let run = Acr::new()
        .registry(&reg.url())
        .args([
            "attach",
            "app:v1",
            "--artifact-type",
            SIG,
            "--annotation",
            "novalue",
        ])
        .run();
    assert!(
        run.error_line(1).contains("KEY=VALUE"),
        "{}",
        run.describe()
    );
    let listed = crate::support::client(&reg.url())
        .list_referrers("app", &img.manifest_digest.parse().unwrap(), None)
        .unwrap();
    assert!(listed.is_empty(), "nothing was attached");
}
