//! Interoperability with `skopeo`: images whose manifests this crate uploads are copied out by
//! skopeo into OCI image layouts with every digest intact, and images skopeo pushes from an OCI
//! layout read back through this crate with the same digests; and `image::pull` / `image::push`
//! trade whole layouts with skopeo both ways.
//!
//! Blobs are pushed and fetched with the test harness (the blob API is tested on its own);
//! manifests go through `Client::upload_manifest*` and `Client::get_manifest`. skopeo runs with
//! `--preserve-digests` (it fails rather than rewrite a manifest), `--insecure-policy` (no
//! dependence on the machine's `/etc/containers/policy.json`) and `--*-no-creds` (no dependence on
//! the machine's auth files).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use azcontainerregistry::image::{self, Layout};

use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::{self, Registry, client};
use azcontainerregistry::manifest::{
    Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_type,
};
use azcontainerregistry::{Client, Digest};

/// Runs `skopeo --insecure-policy <args>`; panics with its output when it fails.
fn skopeo(args: &[&str]) {
    let bin = support::require_tool("skopeo", "skopeo");
    let out = Command::new(&bin)
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "skopeo {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `skopeo copy --preserve-digests [--all]` between `reg` and a layout; `to_registry` says which
/// way.
fn copy(reg: &Registry, to_registry: bool, image: &str, layout: &Path, tag: &str, all: bool) {
    let registry = format!("docker://{}/{image}", reg.host_port());
    let layout = format!("oci:{}:{tag}", layout.display());
    let side = if to_registry { "dest" } else { "src" };
    let (tls, creds) = (
        format!("--{side}-tls-verify=false"),
        format!("--{side}-no-creds"),
    );
    let mut args = vec!["copy", "--preserve-digests", &tls, &creds];
    if all {
        args.push("--all");
    }
    if to_registry {
        args.extend([layout.as_str(), registry.as_str()]);
    } else {
        args.extend([registry.as_str(), layout.as_str()]);
    }
    skopeo(&args);
}

/// Copies image `from` of `reg` into the layout at `layout`, tagged `tag` there.
fn copy_out(reg: &Registry, from: &str, layout: &Path, tag: &str, all: bool) {
    copy(reg, false, from, layout, tag, all);
}

/// Copies the image tagged `tag` in the layout at `layout` to `to` in `reg`.
fn copy_in(reg: &Registry, layout: &Path, tag: &str, to: &str, all: bool) {
    copy(reg, true, to, layout, tag, all);
}

/// Every blob of an OCI layout, by digest; panics unless each file hashes to its name.
fn layout_blobs(layout: &Path) -> BTreeMap<String, Vec<u8>> {
    let layout_file: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.join("oci-layout")).expect("oci-layout")).unwrap();
    assert_eq!(layout_file["imageLayoutVersion"], "1.0.0");
    let mut blobs = BTreeMap::new();
    for entry in fs::read_dir(layout.join("blobs/sha256")).expect("blobs/sha256") {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let bytes = fs::read(entry.path()).unwrap();
        assert_eq!(
            support::sha256_hex(&bytes),
            name,
            "blob file {name} does not hash to its name"
        );
        blobs.insert(format!("sha256:{name}"), bytes);
    }
    blobs
}

/// The descriptor index.json lists for `tag`.
fn layout_ref(layout: &Path, tag: &str) -> Descriptor {
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index.json")).unwrap();
    let entry = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("index.json names no {tag}: {index}"))
        .clone();
    serde_json::from_value(entry).unwrap()
}

/// Fetches a blob with the harness and checks it against its digest.
fn fetch_blob(reg: &Registry, repo: &str, digest: &Digest) -> Vec<u8> {
    let r = reg.request(
        "GET",
        &format!("/v2/{repo}/blobs/{digest}"),
        &[&format!("repository:{repo}:pull")],
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "blob {digest} in {repo}: {}", r.text());
    assert_eq!(support::sha256_digest(&r.body), digest.as_str());
    r.body
}

struct Pushed {
    manifest: Manifest,
    bytes: Vec<u8>,
    digest: Digest,
    blobs: BTreeMap<String, Vec<u8>>,
}

/// Pushes a config and two layers with the harness and the manifest with the client, under `tag`.
fn push_image(reg: &Registry, c: &Client, repo: &str, tag: &str, seed: u64) -> Pushed {
    let layers = [
        support::pseudo_random(150_000, seed),
        support::pseudo_random(40_000, seed + 100),
    ];
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(support::sha256_digest).collect::<Vec<_>>()},
    })
    .to_string()
    .into_bytes();
    let mut blobs = BTreeMap::new();
    blobs.insert(reg.push_blob(repo, &config), config.clone());
    for l in &layers {
        blobs.insert(reg.push_blob(repo, l), l.clone());
    }
    let mut m = ImageManifest::new(
        Descriptor::for_bytes(media_type::OCI_CONFIG, &config),
        layers
            .iter()
            .map(|l| Descriptor::for_bytes(media_type::OCI_LAYER_TAR, l))
            .collect(),
    );
    m.annotations = Some(BTreeMap::from([(
        "org.example.seed".to_string(),
        seed.to_string(),
    )]));
    let manifest = Manifest::from(m);
    let digest = c.upload_manifest_typed(repo, tag, &manifest).unwrap();
    let bytes = manifest.to_bytes();
    assert_eq!(digest.as_str(), support::sha256_digest(&bytes));
    Pushed {
        manifest,
        bytes,
        digest,
        blobs,
    }
}

#[test]
fn image_uploaded_by_client_is_copied_out_by_skopeo_with_every_digest() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let pushed = push_image(&reg, &c, "interop/app", "v1", 1);

    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    copy_out(&reg, "interop/app:v1", &layout, "v1", false);

    // index.json names our manifest by our digest and size.
    let top = layout_ref(&layout, "v1");
    assert_eq!(top.digest, pushed.digest);
    assert_eq!(top.size, pushed.bytes.len() as u64);
    assert_eq!(top.media_type, media_type::OCI_MANIFEST);

    // The layout holds exactly the manifest, config and layers, each with the right hash.
    let blobs = layout_blobs(&layout);
    let mut want = pushed.blobs.clone();
    want.insert(pushed.digest.to_string(), pushed.bytes.clone());
    assert_eq!(
        blobs.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    assert_eq!(blobs, want);
    let from_layout =
        Manifest::from_bytes(media_type::OCI_MANIFEST, &blobs[pushed.digest.as_str()]).unwrap();
    assert_eq!(from_layout, pushed.manifest);

    // And skopeo's layout goes back into the registry, byte for byte, under another name.
    copy_in(&reg, &layout, "v1", "interop/copy:v2", false);
    let got = c.get_manifest("interop/copy", "v2").unwrap();
    assert_eq!(got.digest, pushed.digest);
    assert_eq!(got.bytes, pushed.bytes);
    let image = got.manifest().unwrap();
    let image = image.as_image().unwrap();
    for d in std::iter::once(&image.config).chain(&image.layers) {
        let bytes = fetch_blob(&reg, "interop/copy", &d.digest);
        assert_eq!(bytes, pushed.blobs[d.digest.as_str()]);
        assert_eq!(bytes.len() as u64, d.size);
    }
}

#[test]
fn hand_made_layout_pushed_by_skopeo_reads_back_through_client() {
    let reg = Registry::start();
    let c = client(&reg.url());

    // An OCI image layout written by hand: oci-layout, blobs/sha256/*, index.json.
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("hand");
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let write_blob = |bytes: &[u8]| {
        let hex = support::sha256_hex(bytes);
        fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
    };
    let layers = [
        support::pseudo_random(70_000, 21),
        support::pseudo_random(3_000, 22),
    ];
    let config = serde_json::json!({
        "architecture": "arm64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(support::sha256_digest).collect::<Vec<_>>()},
    })
    .to_string()
    .into_bytes();
    write_blob(&config);
    for l in &layers {
        write_blob(l);
    }
    let manifest = Manifest::from(ImageManifest::new(
        Descriptor::for_bytes(media_type::OCI_CONFIG, &config),
        layers
            .iter()
            .map(|l| Descriptor::for_bytes(media_type::OCI_LAYER_TAR, l))
            .collect(),
    ));
    let manifest_bytes = manifest.to_bytes();
    write_blob(&manifest_bytes);
    let mut top = manifest.descriptor();
    top.annotations = Some(BTreeMap::from([(
        "org.opencontainers.image.ref.name".to_string(),
        "hand".to_string(),
    )]));
    let index = ImageIndex::new(vec![top]);
    fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    copy_in(&reg, &layout, "hand", "other:hand", false);

    let want_digest = Digest::of(&manifest_bytes);
    let info = c.manifest_exists("other", "hand").unwrap().expect("pushed");
    assert_eq!(info.digest, want_digest);
    assert_eq!(info.size, manifest_bytes.len() as u64);
    for reference in ["hand", want_digest.as_str()] {
        let got = c.get_manifest("other", reference).unwrap();
        assert_eq!(got.digest, want_digest);
        assert_eq!(got.bytes, manifest_bytes, "skopeo kept the manifest bytes");
        assert_eq!(got.media_type, media_type::OCI_MANIFEST);
        assert_eq!(got.manifest().unwrap(), manifest);
    }
    let image = manifest.as_image().unwrap();
    assert_eq!(fetch_blob(&reg, "other", &image.config.digest), config);
    for (d, l) in image.layers.iter().zip(&layers) {
        assert_eq!(&fetch_blob(&reg, "other", &d.digest), l);
    }
}

#[test]
fn index_uploaded_by_client_round_trips_through_skopeo() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "interop/multi";

    // Two platform images pushed by digest, then the index by tag.
    let mut children = Vec::new();
    let mut all_blobs = BTreeMap::new();
    for (seed, platform) in [(31, "linux/amd64"), (32, "linux/arm64/v8")] {
        let tag = format!("p{seed}");
        let pushed = push_image(&reg, &c, repo, &tag, seed);
        let mut d = pushed.manifest.descriptor();
        d.platform = Some(Platform::parse(platform).unwrap());
        all_blobs.extend(pushed.blobs.clone());
        all_blobs.insert(pushed.digest.to_string(), pushed.bytes.clone());
        children.push(d);
    }
    let index = Manifest::from(ImageIndex::new(children.clone()));
    let index_bytes = index.to_bytes();
    let index_digest = c.upload_manifest_typed(repo, "multi", &index).unwrap();
    all_blobs.insert(index_digest.to_string(), index_bytes.clone());

    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("multi");
    copy_out(&reg, &format!("{repo}:multi"), &layout, "multi", true);
    let top = layout_ref(&layout, "multi");
    assert_eq!(top.digest, index_digest);
    assert_eq!(top.media_type, media_type::OCI_INDEX);
    assert_eq!(layout_blobs(&layout), all_blobs);

    copy_in(&reg, &layout, "multi", "interop/multi-copy:m", true);
    let got = c.get_manifest("interop/multi-copy", "m").unwrap();
    assert_eq!(got.digest, index_digest);
    assert_eq!(got.bytes, index_bytes);
    let typed = got.manifest().unwrap();
    let idx = typed.as_index().unwrap();
    assert_eq!(idx.manifests, children);
    for d in &children {
        let child = c
            .get_manifest("interop/multi-copy", d.digest.as_str())
            .unwrap();
        assert_eq!(child.bytes, all_blobs[d.digest.as_str()]);
    }
}

#[test]
fn skopeo_reads_what_we_pull_and_we_push_what_skopeo_writes() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 5000, 0);

    // skopeo writes a layout from our source layout into the registry; we pull it
    copy_in(&reg, src.path(), "v1", "from-skopeo:v1", true);
    let ours = tempfile::tempdir().unwrap();
    let pulled = image::pull(&client, "from-skopeo:v1", ours.path(), Default::default()).unwrap();
    assert_eq!(pulled.digest, built.index);
    assert_eq!(
        verified_blob_files(ours.path()),
        verified_blob_files(src.path())
    );

    // skopeo reads the layout we pulled and pushes it back; digests survive
    copy_in(&reg, ours.path(), "v1", "back:v1", true);
    assert_eq!(
        client
            .manifest_exists("back", "v1")
            .unwrap()
            .unwrap()
            .digest,
        built.index
    );

    // skopeo copies what we pushed into its own layout: same digests
    image::push(&client, src.path(), None, "ours:v1", Default::default()).unwrap();
    let theirs = tempfile::tempdir().unwrap();
    copy_out(&reg, "ours:v1", theirs.path(), "v1", true);
    assert_eq!(
        Layout::open(theirs.path())
            .unwrap()
            .resolve(Some("v1"))
            .unwrap()
            .digest,
        built.index
    );
    assert_eq!(
        verified_blob_files(theirs.path()),
        verified_blob_files(src.path())
    );
}
