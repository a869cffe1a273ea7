//! Blobs by a sha512 digest against distribution 2.8.2, which stores them and answers their
//! canonical sha256 digest in `Docker-Content-Digest`: every upload mode (monolithic, chunked,
//! streamed; plain and seekable sources), a resumed upload, a completed session and a
//! cross-repository mount accept that answer when it is the sha256 of the bytes, and a lying
//! answer is still refused; and a whole image with a sha512 layer is pushed, copied and pulled.

use std::io::Cursor;

use azcontainerregistry::blob::{MountOutcome, UploadMode, UploadOptions};
use azcontainerregistry::{Algorithm, Digest, Hasher};

use crate::support::fault_proxy::FaultProxy;
use crate::support::{Registry, blob_client, pseudo_random, sha256_digest};

const CHUNK: usize = 64 * 1024;

fn sha512(bytes: &[u8]) -> Digest {
    let mut h = Hasher::new(Algorithm::Sha512);
    h.update(bytes);
    h.finish()
}

fn options(digest: &Digest, mode: UploadMode) -> UploadOptions {
    UploadOptions {
        expected_digest: Some(digest.clone()),
        skip_existing: false,
        chunk_size: CHUNK,
        mode,
    }
}

/// The registry holds `data` under `digest` (our sha512) and under its sha256.
fn assert_stored(reg: &Registry, repo: &str, digest: &Digest, data: &[u8], what: &str) {
    for d in [digest.to_string(), sha256_digest(data)] {
        let raw = reg.request("GET", &format!("/v2/{repo}/blobs/{d}"), &[], &[], b"");
        assert_eq!(raw.status, 200, "{what}: GET {d}");
        assert!(
            raw.body == data,
            "{what}: the registry holds other bytes under {d}"
        );
    }
}

#[test]
fn uploads_by_sha512_in_every_mode() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let cases = [
        (UploadMode::Monolithic, true),
        (UploadMode::Monolithic, false),
        (UploadMode::Chunked, false),
        (UploadMode::Chunked, true),
        (UploadMode::Streamed, true),
        (UploadMode::Auto, true),
        (UploadMode::Auto, false),
    ];
    for (k, len) in [10usize, CHUNK * 5 / 2].into_iter().enumerate() {
        let data = pseudo_random(len, 40 + k as u64);
        let digest = sha512(&data);
        for (j, (mode, seekable)) in cases.into_iter().enumerate() {
            let what = format!("{len} bytes, {mode:?}, seekable={seekable}");
            let repo = format!("sha512/l{k}-m{j}");
            let up = if seekable {
                blobs.upload_blob_seekable(&repo, Cursor::new(&data), options(&digest, mode))
            } else {
                blobs.upload_blob(&repo, &data[..], options(&digest, mode))
            }
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                up.digest, digest,
                "{what}: the digest asked for is the one reported"
            );
            assert_eq!(up.size, len as u64, "{what}");
            assert_stored(&reg, &repo, &digest, &data, &what);
            assert!(blobs.check_blob_exists(&repo, &digest).unwrap().is_some());
        }
    }
}

#[test]
fn wrong_bytes_under_a_sha512_digest_are_refused() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let digest = sha512(b"the right bytes");
    for mode in [
        UploadMode::Monolithic,
        UploadMode::Chunked,
        UploadMode::Streamed,
    ] {
        let e = blobs
            .upload_blob_seekable(
                "sha512/wrong",
                Cursor::new(b"other bytes"),
                options(&digest, mode),
            )
            .unwrap_err();
        assert!(
            matches!(e, azcontainerregistry::Error::DigestMismatch { .. })
                || e.status() == Some(400),
            "{mode:?}: {e}"
        );
    }
    let raw = reg.request(
        "HEAD",
        &format!("/v2/sha512/wrong/blobs/{digest}"),
        &[],
        &[],
        b"",
    );
    assert_eq!(raw.status, 404, "nothing was committed under the digest");
}

#[test]
fn resumed_upload_by_sha512() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(reg.host_port());
    let blobs = blob_client(&proxy.url());
    let data = pseudo_random(CHUNK * 3 + 5, 47);
    let digest = sha512(&data);
    for (j, mode) in [UploadMode::Chunked, UploadMode::Streamed]
        .into_iter()
        .enumerate()
    {
        let repo = format!("sha512/resumed{j}");
        let before = proxy.cuts();
        proxy.cut_upstream_after(100_000, 1);
        let up = blobs
            .upload_blob_seekable(&repo, Cursor::new(&data), options(&digest, mode))
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        proxy.clear_faults();
        assert_eq!(proxy.cuts(), before + 1, "{mode:?}: no cut happened");
        assert_eq!(up.digest, digest);
        assert_stored(&reg, &repo, &digest, &data, &format!("{mode:?} resumed"));
    }
}

#[test]
fn session_completed_and_mounted_by_sha512() {
    let reg = Registry::start();
    let blobs = blob_client(&reg.url());
    let data = pseudo_random(3000, 48);
    let digest = sha512(&data);
    let session = blobs.start_upload("sha512/src").unwrap();
    let session = blobs
        .upload_chunk(&session, &data[..], Some(data.len() as u64), None)
        .unwrap();
    assert_eq!(blobs.complete_upload(&session, &digest).unwrap(), digest);
    assert_stored(&reg, "sha512/src", &digest, &data, "completed session");

    // Distribution answers a sha512 mount with 201, yet the target then lacks the blob: the mount
    // hands back an upload session instead, through which the blob lands.
    let session = match blobs
        .mount_blob("sha512/dst", "sha512/src", &digest)
        .unwrap()
    {
        MountOutcome::Mounted => panic!("reported mounted, but the target lacks the blob"),
        MountOutcome::UploadStarted(session) => session,
    };
    let session = blobs
        .upload_chunk(&session, &data[..], Some(data.len() as u64), None)
        .unwrap();
    assert_eq!(blobs.complete_upload(&session, &digest).unwrap(), digest);
    assert_stored(&reg, "sha512/dst", &digest, &data, "mounted");
    let sha256: Digest = sha256_digest(&data).parse().unwrap();
    // A sha256 mount is a plain mount.
    assert!(matches!(
        blobs
            .mount_blob("sha512/dst2", "sha512/src", &sha256)
            .unwrap(),
        MountOutcome::Mounted
    ));
}

#[test]
fn an_image_with_a_sha512_layer_is_pushed_copied_by_mount_and_pulled() {
    use azcontainerregistry::image::{self, Layout};
    use azcontainerregistry::manifest::{Descriptor, ImageManifest, Manifest, media_type};

    let reg = Registry::start();
    let client = crate::support::client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let layout = Layout::create(src.path()).unwrap();
    let layer = pseudo_random(CHUNK * 3, 49);
    let layer_digest = sha512(&layer);
    layout
        .write_blob(&layer_digest, Some(layer.len() as u64), &layer[..])
        .unwrap();
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let config_digest = layout.write_blob_bytes(config).unwrap();
    let manifest = Manifest::Image(ImageManifest::new(
        Descriptor::new(media_type::OCI_CONFIG, config_digest, config.len() as u64),
        vec![Descriptor::new(
            media_type::OCI_LAYER_TAR_GZIP,
            layer_digest.clone(),
            layer.len() as u64,
        )],
    ));
    let bytes = manifest.to_bytes();
    let digest = layout.write_blob_bytes(&bytes).unwrap();
    let entry = Descriptor::new(media_type::OCI_MANIFEST, digest.clone(), bytes.len() as u64);
    layout.add_manifest(&entry, Some("v1")).unwrap();

    let pushed = image::push(&client, src.path(), None, "s512/a:v1", Default::default()).unwrap();
    assert_eq!(pushed.digest, digest);
    // within one registry a copy mounts, which distribution gets wrong for sha512: it uploads
    let copied = image::copy(
        &client,
        "s512/a:v1",
        &client,
        "s512/b:v1",
        Default::default(),
    )
    .unwrap();
    assert_eq!(copied.digest, digest);
    assert_stored(&reg, "s512/b", &layer_digest, &layer, "copied");
    let dst = tempfile::tempdir().unwrap();
    let pulled = image::pull(&client, "s512/b:v1", dst.path(), Default::default()).unwrap();
    assert_eq!(pulled.digest, digest);
    let got = Layout::open(dst.path()).unwrap();
    assert!(got.has_verified_blob(&layer_digest, Some(layer.len() as u64)));
}
