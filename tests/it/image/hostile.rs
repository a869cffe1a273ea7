//! Hostile images and layouts: an index listing one child many times (fetched once), indexes and
//! images past the safety limits (refused before anything is fetched or written), layouts whose
//! `blobs/` holds symbolic links or bytes that do not match their names (refused before a byte is
//! sent), a corrupt blob already in a pull's layout (fetched again), an oversized `oci-layout`,
//! and concurrent writers of one `index.json`.

use std::fs;
use std::path::Path;

use azcontainerregistry::image::{self, ImageLimits, Layout};
use azcontainerregistry::manifest::{
    Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_type,
};
use azcontainerregistry::{Digest, Error};
use mockito::ServerGuard;

use crate::support::fault_proxy::FaultProxy;
use crate::support::layout::{verified_blob_files, write_two_platform_image};
use crate::support::mock::strict_server;
use crate::support::{Registry, client, pseudo_random};

/// A one-layer image manifest, its config and its layer.
struct Child {
    manifest: Vec<u8>,
    digest: Digest,
    blobs: Vec<(Digest, Vec<u8>)>,
}

fn child(seed: u64) -> Child {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#).into_bytes();
    let layer = pseudo_random(2000, seed);
    let (cd, ld) = (Digest::of(&config), Digest::of(&layer));
    let m = Manifest::Image(ImageManifest::new(
        Descriptor::new(media_type::OCI_CONFIG, cd.clone(), config.len() as u64),
        vec![Descriptor::new(
            media_type::OCI_LAYER_TAR_GZIP,
            ld.clone(),
            layer.len() as u64,
        )],
    ));
    let manifest = m.to_bytes();
    Child {
        digest: Digest::of(&manifest),
        manifest,
        blobs: vec![(cd, config), (ld, layer)],
    }
}

/// An index listing `child` `times` times.
fn index_of(child: &Child, times: usize) -> Vec<u8> {
    let mut d = Descriptor::new(
        media_type::OCI_MANIFEST,
        child.digest.clone(),
        child.manifest.len() as u64,
    );
    d.platform = Some(Platform::new("linux", "amd64"));
    Manifest::Index(ImageIndex::new(vec![d; times])).to_bytes()
}

fn serve_manifest(
    server: &mut ServerGuard,
    reference: &str,
    media: &str,
    bytes: &[u8],
    hits: usize,
) -> mockito::Mock {
    server
        .mock("GET", format!("/v2/app/manifests/{reference}").as_str())
        .with_status(200)
        .with_header("content-type", media)
        .with_header("docker-content-digest", Digest::of(bytes).as_str())
        .with_body(bytes)
        .expect(hits)
        .create()
}

#[test]
fn an_index_listing_one_child_many_times_fetches_it_once() {
    let (mut server, unexpected) = strict_server();
    let c = child(1);
    let index = index_of(&c, 300);
    let top = serve_manifest(&mut server, "v1", media_type::OCI_INDEX, &index, 1);
    let child_mock = serve_manifest(
        &mut server,
        c.digest.as_str(),
        media_type::OCI_MANIFEST,
        &c.manifest,
        1,
    );
    let blob_mocks: Vec<_> = c
        .blobs
        .iter()
        .map(|(d, bytes)| {
            server
                .mock("GET", format!("/v2/app/blobs/{d}").as_str())
                .with_status(200)
                .with_body(bytes)
                .expect(1)
                .create()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let report = image::pull(
        &client(&server.url()),
        "app:v1",
        dir.path(),
        Default::default(),
    )
    .unwrap();
    assert_eq!(report.digest, Digest::of(&index));
    assert_eq!(report.manifests, 2, "the index and its one distinct child");
    assert_eq!(report.blobs_transferred, 2);
    top.assert();
    child_mock.assert();
    for m in &blob_mocks {
        m.assert();
    }
    unexpected.assert();
    // the layout holds the index as it was (300 entries) and each blob once
    let layout = Layout::open(dir.path()).unwrap();
    assert_eq!(layout.read_manifest_bytes(&report.digest).unwrap(), index);
    assert_eq!(verified_blob_files(dir.path()).len(), 4);
}

#[test]
fn images_past_the_limits_are_refused_before_anything_is_written() {
    let c = child(2);
    let cases: Vec<(&str, Vec<u8>, ImageLimits, usize, &str)> = vec![
        // (what, index, limits, child fetches, the option named)
        (
            "entries",
            index_of(&c, 1025),
            ImageLimits::default(),
            0,
            "max_children",
        ),
        (
            "custom entries",
            index_of(&c, 3),
            ImageLimits {
                max_children: 2,
                ..Default::default()
            },
            0,
            "max_children",
        ),
        (
            "manifest bytes",
            index_of(&c, 1),
            ImageLimits {
                max_manifest_bytes: index_of(&c, 1).len() as u64 + 10,
                ..Default::default()
            },
            0,
            "max_manifest_bytes",
        ),
        (
            "blobs",
            index_of(&c, 1),
            ImageLimits {
                max_blobs: 1,
                ..Default::default()
            },
            1,
            "max_blobs",
        ),
    ];
    for (what, index, limits, fetches, option) in cases {
        let (mut server, unexpected) = strict_server();
        let top = serve_manifest(&mut server, "v1", media_type::OCI_INDEX, &index, 1);
        let child_mock = serve_manifest(
            &mut server,
            c.digest.as_str(),
            media_type::OCI_MANIFEST,
            &c.manifest,
            fetches,
        );
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let options = image::PullOptions {
            limits,
            ..Default::default()
        };
        let e = image::pull(&client(&server.url()), "app:v1", &target, options).unwrap_err();
        match &e {
            Error::LimitExceeded { option: o, .. } => assert_eq!(*o, option, "{what}: {e}"),
            other => panic!("{what}: expected LimitExceeded, got {other}"),
        }
        assert!(e.to_string().contains(option), "{what}: {e}");
        assert!(!target.exists(), "{what}: nothing is written");
        top.assert();
        child_mock.assert();
        unexpected.assert();
    }
}

/// One transfer at a time: the blob that fails is the last one that could have sent anything
/// (the amd64 child's config, small, goes before its layer).
fn one_at_a_time() -> image::PushOptions {
    image::PushOptions {
        parallelism: 1,
        ..Default::default()
    }
}

/// The layer of the amd64 child of a two-platform image written to `dir`, and its bytes.
fn first_layer(dir: &Path) -> (Digest, std::path::PathBuf, Vec<u8>) {
    first_layer_of(dir, 300_000)
}

/// [`first_layer`] with layers of about `len` bytes.
fn first_layer_of(dir: &Path, len: usize) -> (Digest, std::path::PathBuf, Vec<u8>) {
    let built = write_two_platform_image(dir, "v1", 1, len, 7);
    let layer = built.blobs[0].clone();
    let path = dir.join("blobs/sha256").join(layer.hex());
    let bytes = fs::read(&path).unwrap();
    (layer, path, bytes)
}

#[cfg(unix)]
#[test]
fn push_refuses_symbolic_links_in_blobs() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let client = client(&proxy.url());

    // a layer replaced by a link to a file outside the layout (same bytes: only the link is wrong)
    let outside = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let (layer, path, bytes) = first_layer(src.path());
    let secret = outside.path().join("secret");
    fs::write(&secret, &bytes).unwrap();
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&secret, &path).unwrap();
    let before = proxy.bytes_upstream();
    let e = image::push(&client, src.path(), Some("v1"), "app:v1", one_at_a_time()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { .. }) && e.to_string().contains("symbolic link"),
        "{e}"
    );
    assert!(
        proxy.bytes_upstream() - before < 100_000,
        "the linked file was not sent ({} bytes went up)",
        proxy.bytes_upstream() - before
    );
    assert_eq!(
        client
            .blob_client()
            .check_blob_exists("app", &layer)
            .unwrap(),
        None
    );

    // blobs/sha256 itself a link to a directory outside the layout
    let src = tempfile::tempdir().unwrap();
    write_two_platform_image(src.path(), "v1", 1, 1000, 8);
    let moved = outside.path().join("sha256");
    fs::rename(src.path().join("blobs/sha256"), &moved).unwrap();
    std::os::unix::fs::symlink(&moved, src.path().join("blobs/sha256")).unwrap();
    let e = image::push(
        &client,
        src.path(),
        Some("v1"),
        "app:v2",
        Default::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");

    // a FIFO under a blob's name is refused without blocking on it
    let src = tempfile::tempdir().unwrap();
    let (_, path, _) = first_layer(src.path());
    fs::remove_file(&path).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let e = image::push(
        &client,
        src.path(),
        Some("v1"),
        "app:v3",
        Default::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not a file"), "{e}");
}

#[test]
fn push_verifies_a_blob_before_sending_it() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let client = client(&proxy.url());
    let src = tempfile::tempdir().unwrap();
    // larger than a chunk: such a blob is streamed, not hashed first by the upload itself
    let len = azcontainerregistry::DEFAULT_CHUNK_SIZE + 4096;
    let (layer, path, mut bytes) = first_layer_of(src.path(), len);
    // same size, other bytes
    bytes[1000] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let before = proxy.bytes_upstream();
    let e = image::push(&client, src.path(), Some("v1"), "app:v1", one_at_a_time()).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    let sent = proxy.bytes_upstream() - before;
    assert!(
        sent < bytes.len() as u64 / 2,
        "the corrupt layer was not streamed ({sent} bytes went up)"
    );
    assert_eq!(
        client
            .blob_client()
            .check_blob_exists("app", &layer)
            .unwrap(),
        None
    );
    assert!(client.manifest_exists("app", "v1").unwrap().is_none());
}

#[test]
fn pull_fetches_again_a_corrupt_blob_already_in_the_layout() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let built = write_two_platform_image(src.path(), "v1", 1, 5000, 9);
    image::push(
        &client,
        src.path(),
        Some("v1"),
        "app:v1",
        Default::default(),
    )
    .unwrap();

    let dst = tempfile::tempdir().unwrap();
    let first = image::pull(&client, "app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(first.blobs_transferred, built.blobs.len());
    let again = image::pull(&client, "app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(
        (again.blobs_transferred, again.blobs_skipped),
        (0, built.blobs.len())
    );

    // the same size, other bytes: trusted by size alone it would stay
    let path = dst.path().join("blobs/sha256").join(built.blobs[0].hex());
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let repaired = image::pull(&client, "app:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(repaired.blobs_transferred, 1);
    assert_eq!(verified_blob_files(dst.path()), built.all);
}

#[test]
fn an_oversized_oci_layout_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Layout::create(dir.path()).unwrap();
    let mut big = br#"{"imageLayoutVersion":"1.0.0","pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 8 * 1024 * 1024));
    big.extend(br#""}"#);
    fs::write(dir.path().join("oci-layout"), &big).unwrap();
    let e = Layout::open(dir.path()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn layout_files_that_are_links_or_fifos_are_refused_without_blocking() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("index.json");
    fs::write(&target, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    for (file, fifo) in [
        ("oci-layout", true),
        ("index.json", true),
        ("index.json", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        Layout::create(dir.path()).unwrap();
        let path = dir.path().join(file);
        fs::remove_file(&path).unwrap();
        if fifo {
            let status = std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
        } else {
            std::os::unix::fs::symlink(&target, &path).unwrap();
        }
        // a FIFO opened for reading would block until a writer comes: run it aside, with a
        // generous limit that only catches a hang
        let root = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = Layout::open(&root).and_then(|l| l.index().map(|_| ()));
            let _ = tx.send(result);
        });
        let Ok(result) = rx.recv_timeout(std::time::Duration::from_secs(30)) else {
            // the reader is stuck opening the FIFO: a writer opening it lets it go
            let _ = fs::OpenOptions::new().write(true).open(&path);
            panic!("{file} (fifo: {fifo}): reading it blocked");
        };
        let e = result.unwrap_err();
        assert!(
            e.to_string().contains("not a file"),
            "{file} (fifo: {fifo}): {e}"
        );
    }
}

#[test]
fn concurrent_writers_keep_every_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let layout = Layout::create(&path).unwrap();
                for i in 0..25 {
                    let bytes = format!(r#"{{"schemaVersion":2,"w":{w},"i":{i}}}"#);
                    let d = Digest::of(bytes.as_bytes());
                    let desc = Descriptor::new(media_type::OCI_MANIFEST, d, bytes.len() as u64);
                    layout
                        .add_manifest(&desc, Some(&format!("w{w}-{i}")))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let index = Layout::open(&path).unwrap().index().unwrap();
    assert_eq!(index.manifests.len(), 100, "no entry is lost");
}

#[cfg(unix)]
#[test]
fn layout_files_get_the_mode_file_create_gives() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    fs::File::create(&plain).unwrap();
    let want = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    let root = dir.path().join("layout");
    let layout = Layout::create(&root).unwrap();
    let digest = layout.write_blob_bytes(b"blob").unwrap();
    let desc = Descriptor::new(media_type::OCI_MANIFEST, digest.clone(), 4);
    layout.add_manifest(&desc, Some("v1")).unwrap();
    for file in [
        root.join("oci-layout"),
        root.join("index.json"),
        layout.blob_path(&digest),
    ] {
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            want,
            "{}: {mode:o}, File::create gives {want:o}",
            file.display()
        );
    }
}

#[test]
fn concurrent_pulls_into_one_new_layout_keep_every_image() {
    let reg = Registry::start();
    let tags: Vec<String> = (0..4).map(|i| format!("v{i}")).collect();
    for (i, tag) in tags.iter().enumerate() {
        reg.push_test_image("app", tag, 1000, 50 + i as u64);
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("layout");
    std::thread::scope(|s| {
        for tag in &tags {
            let (url, target) = (reg.url(), &target);
            s.spawn(move || {
                image::pull(
                    &client(&url),
                    &format!("app:{tag}"),
                    target,
                    Default::default(),
                )
                .unwrap();
            });
        }
    });
    let layout = Layout::open(&target).unwrap();
    for tag in &tags {
        layout.resolve(Some(tag)).unwrap();
    }
    assert_eq!(layout.index().unwrap().manifests.len(), tags.len());
}
