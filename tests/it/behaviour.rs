//! One behavioural suite, run against every registry set-up of the harness (object_store style):
//! each operation group is written once, as a function of a [`Backend`], and [`matrix!`] makes one
//! `#[test]` per (backend, group), named `behaviour::<backend>::<group>`:
//!
//! | backend     | registry                                   | client credential          |
//! |-------------|--------------------------------------------|----------------------------|
//! | `anonymous` | distribution, no auth                      | anonymous                  |
//! | `basic`     | distribution, htpasswd (Basic)             | username/password (Basic)  |
//! | `bearer`    | distribution, token issuer (Docker Bearer) | username/password → Bearer |
//!
//! Groups: `listing` (catalog, tag names), `manifests` (put/get/exists/delete by tag and by
//! digest), `blobs` (put/get/exists/mount/delete), `images` (`image::push`, `pull`, `copy`). Each
//! asserts what the registry ends up holding, read back independently where it matters (the
//! harness's raw HTTP client, the layout's files), not just that calls returned `Ok`.
//!
//! Run one backend with `cargo test --test it -- behaviour::basic::`, one group everywhere with
//! `cargo test --test it -- behaviour:: manifests`.

use std::io::Read;

use azcontainerregistry::blob::{MountOutcome, UploadMode, UploadOptions};
use azcontainerregistry::image;
use azcontainerregistry::manifest::{Descriptor, ImageManifest, Manifest, media_type};
use azcontainerregistry::{Client, Credential, Digest, ListNamesOptions};

use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::{Registry, client_with, pseudo_random, sha256_digest};

const USER: &str = "behaviour";
const PASSWORD: &str = "behaviour-Passw0rd";

/// A registry and a client signed in to it.
struct Backend {
    reg: Registry,
    client: Client,
    /// Whether the registry refuses anonymous clients.
    protected: bool,
}

impl Backend {
    fn anonymous() -> Backend {
        let reg = Registry::start();
        Backend::new(reg, Credential::anonymous(), false)
    }

    fn basic() -> Backend {
        let reg = Registry::with_htpasswd(USER, PASSWORD);
        Backend::new(reg, Credential::basic(USER, PASSWORD), true)
    }

    fn bearer() -> Backend {
        let reg = Registry::builder().token_auth_basic(USER, PASSWORD).start();
        Backend::new(reg, Credential::basic(USER, PASSWORD), true)
    }

    fn new(reg: Registry, credential: Credential, protected: bool) -> Backend {
        let client = client_with(&reg.url(), credential);
        Backend {
            reg,
            client,
            protected,
        }
    }

    /// On a protected registry: an anonymous client is refused. With a token issuer: every token
    /// went to our user, and at least one was issued (the Bearer flow really ran).
    fn check_authentication(&self) {
        if self.protected {
            let anonymous = client_with(&self.reg.url(), Credential::anonymous());
            let e = anonymous
                .list_catalog(ListNamesOptions::default())
                .next()
                .expect("a result")
                .expect_err("an anonymous client is refused");
            assert!(e.is_unauthorized(), "{e}");
        }
        if let Some(issuer) = self.reg.try_token_issuer() {
            let ours: Vec<_> = issuer
                .requests()
                .into_iter()
                .filter(|r| r.basic_user.as_deref() == Some(USER))
                .collect();
            assert!(
                !ours.is_empty() && ours.iter().all(|r| r.status == 200),
                "{:?}",
                issuer.requests()
            );
        }
    }
}

/// `matrix!(backend, ... => [group, ...])`: a module per backend with a test per group.
macro_rules! matrix {
    ($($backend:ident),+ => $groups:tt) => {
        $( matrix!(@backend $backend $groups); )+
    };
    (@backend $backend:ident [$($group:ident),+]) => {
        mod $backend {
            $(
                #[test]
                fn $group() {
                    let backend = super::Backend::$backend();
                    super::$group(&backend);
                    backend.check_authentication();
                }
            )+
        }
    };
}

matrix!(anonymous, basic, bearer => [listing, manifests, blobs, images]);

fn collect<T>(items: impl Iterator<Item = azcontainerregistry::Result<T>>) -> Vec<T> {
    items.collect::<Result<_, _>>().expect("a complete listing")
}

fn listing(b: &Backend) {
    let repos = ["alpha/one", "alpha/two", "beta"];
    for (i, repo) in repos.iter().enumerate() {
        for tag in ["v1", "v2"] {
            b.reg.push_test_image(repo, tag, 32, i as u64);
        }
    }
    let c = &b.client;
    let all = |page_size| {
        collect(c.list_catalog(ListNamesOptions {
            page_size,
            ..Default::default()
        }))
    };
    assert_eq!(all(None), repos);
    assert_eq!(all(Some(1)), repos, "one name a page");
    let after = collect(c.list_catalog(ListNamesOptions {
        last: Some("alpha/one".into()),
        ..Default::default()
    }));
    assert_eq!(after, ["alpha/two", "beta"]);

    let mut tags = collect(c.list_tag_names("alpha/two", ListNamesOptions::default()));
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    let paged = collect(c.list_tag_names(
        "beta",
        ListNamesOptions {
            page_size: Some(1),
            ..Default::default()
        },
    ));
    assert_eq!(paged.len(), 2, "{paged:?}");
    let e = c
        .list_tag_names("nothing/here", ListNamesOptions::default())
        .next()
        .expect("a result")
        .expect_err("no such repository");
    assert!(e.is_not_found(), "{e}");
}

/// An image manifest whose config and layer the harness pushed into `repo`.
fn image_manifest(b: &Backend, repo: &str, seed: u64) -> Manifest {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#).into_bytes();
    let layer = pseudo_random(2000, seed);
    b.reg.push_blob(repo, &config);
    b.reg.push_blob(repo, &layer);
    Manifest::from(ImageManifest::new(
        Descriptor::for_bytes(media_type::OCI_CONFIG, &config),
        vec![Descriptor::for_bytes(media_type::OCI_LAYER_TAR, &layer)],
    ))
}

fn manifests(b: &Backend) {
    let (c, repo) = (&b.client, "team/app");
    let tagged = image_manifest(b, repo, 1);
    let tagged_bytes = tagged.to_bytes();
    let tagged_digest = c.upload_manifest_typed(repo, "v1", &tagged).unwrap();
    assert_eq!(tagged_digest.as_str(), sha256_digest(&tagged_bytes));
    let untagged = image_manifest(b, repo, 2);
    let untagged_bytes = untagged.to_bytes();
    let untagged_digest = c
        .upload_manifest(
            repo,
            sha256_digest(&untagged_bytes),
            &untagged_bytes,
            media_type::OCI_MANIFEST,
        )
        .unwrap();
    assert_eq!(untagged_digest.as_str(), sha256_digest(&untagged_bytes));

    for (reference, bytes, digest) in [
        ("v1", &tagged_bytes, &tagged_digest),
        (tagged_digest.as_str(), &tagged_bytes, &tagged_digest),
        (untagged_digest.as_str(), &untagged_bytes, &untagged_digest),
    ] {
        let got = c.get_manifest(repo, reference).unwrap();
        assert_eq!(&got.bytes, bytes, "{reference}");
        assert_eq!(&got.digest, digest, "{reference}");
        assert_eq!(got.media_type, media_type::OCI_MANIFEST, "{reference}");
        let info = c
            .manifest_exists(repo, reference)
            .unwrap()
            .expect(reference);
        assert_eq!((&info.digest, info.size), (digest, bytes.len() as u64));
    }
    // What the registry holds, read without the client: the bytes sent, and only the one tag.
    let scope = format!("repository:{repo}:pull");
    let raw = b.reg.request(
        "GET",
        &format!("/v2/{repo}/manifests/v1"),
        &[&scope],
        &[("Accept", media_type::OCI_MANIFEST)],
        b"",
    );
    assert_eq!((raw.status, &raw.body), (200, &tagged_bytes));
    assert_eq!(
        collect(c.list_tag_names(repo, ListNamesOptions::default())),
        ["v1"]
    );

    // Delete by digest, then by tag: gone under every reference.
    c.delete_manifest(repo, untagged_digest.as_str()).unwrap();
    c.delete_manifest(repo, "v1").unwrap();
    for reference in ["v1", tagged_digest.as_str(), untagged_digest.as_str()] {
        let e = c.get_manifest(repo, reference).unwrap_err();
        assert!(e.is_not_found(), "{reference}: {e}");
        assert_eq!(c.manifest_exists(repo, reference).unwrap(), None);
    }
    // Deleting what is gone counts as done.
    c.delete_manifest(repo, tagged_digest.as_str()).unwrap();
}

fn blobs(b: &Backend) {
    let blobs = b.client.blob_client();
    let data = pseudo_random(300_000, 7);
    let options = UploadOptions {
        chunk_size: 64 * 1024,
        mode: UploadMode::Chunked,
        ..Default::default()
    };
    let up = blobs.upload_blob("blobs/src", &data[..], options).unwrap();
    assert_eq!(up.digest.as_str(), sha256_digest(&data));
    assert_eq!((up.size, up.skipped), (data.len() as u64, false));
    assert_eq!(
        blobs.check_blob_exists("blobs/src", &up.digest).unwrap(),
        Some(data.len() as u64)
    );
    let mut back = Vec::new();
    let mut reader = blobs.get_blob("blobs/src", &up.digest).unwrap();
    reader.read_to_end(&mut back).unwrap();
    assert!(back == data, "get_blob returned other bytes");
    assert!(reader.is_verified());

    match blobs
        .mount_blob("blobs/dst", "blobs/src", &up.digest)
        .unwrap()
    {
        MountOutcome::Mounted => {}
        MountOutcome::UploadStarted(s) => panic!("not mounted: {s:?}"),
    }
    let scope = "repository:blobs/dst:pull";
    let raw = b.reg.request(
        "GET",
        &format!("/v2/blobs/dst/blobs/{}", up.digest),
        &[scope],
        &[],
        b"",
    );
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(raw.body == data, "the mounted blob holds other bytes");

    blobs.delete_blob("blobs/src", &up.digest).unwrap();
    assert_eq!(
        blobs.check_blob_exists("blobs/src", &up.digest).unwrap(),
        None
    );
    let e = blobs.get_blob("blobs/src", &up.digest).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // the mount in the other repository is its own link
    assert_eq!(
        blobs.check_blob_exists("blobs/dst", &up.digest).unwrap(),
        Some(data.len() as u64)
    );
    let missing = Digest::of(b"never uploaded");
    assert_eq!(
        blobs.check_blob_exists("blobs/dst", &missing).unwrap(),
        None
    );
}

fn images(b: &Backend) {
    let c = &b.client;
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 2, 5000, 3);

    let pushed = image::push(c, src.path(), Some("v1"), "img/app:v1", Default::default()).unwrap();
    assert_eq!(pushed.digest, built.index);
    assert_eq!(pushed.blobs_transferred, built.blobs.len());
    let info = c.manifest_exists("img/app", "v1").unwrap().expect("pushed");
    assert_eq!(info.digest, built.index);

    let dst = tempfile::tempdir().unwrap();
    let pulled = image::pull(c, "img/app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(pulled.digest, built.index);
    assert_eq!(verified_blob_files(dst.path()), built.all);

    let copied = image::copy(c, "img/app:v1", c, "img/mirror:v2", Default::default()).unwrap();
    assert_eq!(copied.digest, built.index);
    assert_eq!(
        (copied.blobs_transferred, copied.blobs_skipped),
        (0, built.blobs.len()),
        "within one registry every blob is mounted"
    );
    for (_, child) in &built.children {
        let got = c.get_manifest("img/mirror", child.as_str()).unwrap();
        assert_eq!(&got.digest, child);
    }
    let again = tempfile::tempdir().unwrap();
    image::pull(c, "img/mirror:v2", again.path(), Default::default()).unwrap();
    assert_eq!(verified_blob_files(again.path()), built.all);
}
