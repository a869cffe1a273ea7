//! Manifest operations on `Client`: against the real distribution registry (OCI and Docker
//! manifests, indexes and lists, by tag and by digest, exists, Accept narrowing, delete) and
//! against mockito for what a well-behaved registry never does (oversized or tampered manifests, a
//! lying Docker-Content-Digest).

use crate::support;
use crate::support::client;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::Registry;
use crate::support::mock::strict_server;
use azcontainerregistry::manifest::{
    DEFAULT_ACCEPT, Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_type,
};
use azcontainerregistry::{Digest, Error, GetManifestOptions, MAX_MANIFEST_SIZE};

fn invalid<T>(r: azcontainerregistry::Result<T>) -> bool {
    matches!(r, Err(Error::InvalidInput { .. }))
}

/// Pushes a config and `layer_count` layers with the harness and returns the (not yet pushed) image
/// manifest naming them, in OCI or Docker flavour.
fn image_manifest(reg: &Registry, repo: &str, seed: u64, docker: bool) -> ImageManifest {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#).into_bytes();
    let layer = support::pseudo_random(1000 + seed as usize, seed);
    let config_digest = reg.push_blob(repo, &config);
    let layer_digest = reg.push_blob(repo, &layer);
    let (config_type, layer_type, manifest_type) = if docker {
        (
            media_type::DOCKER_CONFIG,
            media_type::DOCKER_LAYER,
            media_type::DOCKER_MANIFEST,
        )
    } else {
        (
            media_type::OCI_CONFIG,
            media_type::OCI_LAYER_TAR,
            media_type::OCI_MANIFEST,
        )
    };
    let config_desc = Descriptor::for_bytes(config_type, &config);
    assert_eq!(config_desc.digest.as_str(), config_digest);
    let layer_desc = Descriptor::for_bytes(layer_type, &layer);
    assert_eq!(layer_desc.digest.as_str(), layer_digest);
    let mut m = ImageManifest::new(config_desc, vec![layer_desc]);
    m.media_type = Some(manifest_type.to_string());
    m
}

/// What the registry itself holds under a reference, read with the raw harness client.
fn raw_manifest(reg: &Registry, repo: &str, reference: &str) -> (u16, Vec<u8>, Option<String>) {
    let accept = DEFAULT_ACCEPT.join(", ");
    let r = reg.request(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[&format!("repository:{repo}:pull")],
        &[("Accept", &accept)],
        b"",
    );
    let ct = r.header("content-type").map(str::to_string);
    (r.status, r.body, ct)
}

// -------------------------------------------------------------------------------------------------
// Real registry
// -------------------------------------------------------------------------------------------------

#[test]
fn oci_manifest_upload_and_get_by_tag_and_digest() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "team/oci-app";

    // By tag, typed.
    let manifest = Manifest::from(image_manifest(&reg, repo, 1, false));
    let bytes = manifest.to_bytes();
    let digest = c.upload_manifest_typed(repo, "v1", &manifest).unwrap();
    assert_eq!(digest.as_str(), support::sha256_digest(&bytes));
    assert_eq!(digest, manifest.descriptor().digest);
    let (status, stored, ct) = raw_manifest(&reg, repo, "v1");
    assert_eq!(status, 200);
    assert_eq!(stored, bytes, "the registry stores exactly the bytes sent");
    assert_eq!(ct.as_deref(), Some(media_type::OCI_MANIFEST));

    for reference in ["v1", digest.as_str()] {
        let got = c.get_manifest(repo, reference).unwrap();
        assert_eq!(got.bytes, bytes, "{reference}");
        assert_eq!(got.media_type, media_type::OCI_MANIFEST, "{reference}");
        assert_eq!(got.digest, digest, "{reference}");
        assert_eq!(got.manifest().unwrap(), manifest, "{reference}");
        let descriptor = got.descriptor();
        assert_eq!(descriptor.size, bytes.len() as u64);
        assert_eq!(descriptor.digest, digest);
        let image = got.into_manifest().unwrap();
        let image = image.as_image().expect("an image manifest");
        assert_eq!(image.layers.len(), 1);
        assert_eq!(image.config.media_type, media_type::OCI_CONFIG);
    }

    // By digest, from bytes: no tag is created, the digest reference works.
    let other = Manifest::from(image_manifest(&reg, repo, 2, false));
    let other_bytes = other.to_bytes();
    let other_digest = support::sha256_digest(&other_bytes);
    let pushed = c
        .upload_manifest(repo, &other_digest, &other_bytes, media_type::OCI_MANIFEST)
        .unwrap();
    assert_eq!(pushed.as_str(), other_digest);
    let (status, stored, _) = raw_manifest(&reg, repo, &other_digest);
    assert_eq!(status, 200);
    assert_eq!(stored, other_bytes);
    let got = c.get_manifest(repo, &other_digest).unwrap();
    assert_eq!(got.bytes, other_bytes);
    assert_eq!(got.manifest().unwrap(), other);
    let tags = reg.request(
        "GET",
        &format!("/v2/{repo}/tags/list"),
        &[&format!("repository:{repo}:pull")],
        &[],
        b"",
    );
    assert_eq!(tags.json()["tags"], serde_json::json!(["v1"]));

    // A manifest the harness pushed reads back the same through the client.
    let image = reg.push_test_image(repo, "harness", 300, 9);
    let got = c.get_manifest(repo, "harness").unwrap();
    assert_eq!(got.bytes, image.manifest);
    assert_eq!(got.digest.as_str(), image.manifest_digest);

    // Unknown tag and digest are not found.
    let e = c.get_manifest(repo, "nope").unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = c
        .get_manifest(repo, support::sha256_digest(b"nothing"))
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = c.get_manifest("no/such-repo", "v1").unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn oci_index_with_two_platforms() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "multi";

    let mut children = Vec::new();
    for (seed, platform) in [(3, "linux/amd64"), (4, "linux/arm64/v8")] {
        let m = Manifest::from(image_manifest(&reg, repo, seed, false));
        let d = m.descriptor();
        // Children are pushed by digest only, as an index's children usually are.
        let pushed = c
            .upload_manifest_typed(repo, d.digest.as_str(), &m)
            .unwrap();
        assert_eq!(pushed, d.digest);
        let mut d = d;
        d.platform = Some(Platform::parse(platform).unwrap());
        children.push((d, m));
    }
    let index = Manifest::from(ImageIndex::new(
        children.iter().map(|(d, _)| d.clone()).collect(),
    ));
    let index_bytes = index.to_bytes();
    let index_digest = c.upload_manifest_typed(repo, "latest", &index).unwrap();
    assert_eq!(index_digest.as_str(), support::sha256_digest(&index_bytes));

    for reference in ["latest", index_digest.as_str()] {
        let got = c.get_manifest(repo, reference).unwrap();
        assert_eq!(got.media_type, media_type::OCI_INDEX);
        assert_eq!(got.bytes, index_bytes);
        assert_eq!(got.digest, index_digest);
        let typed = got.manifest().unwrap();
        assert_eq!(typed, index);
        let idx = typed.as_index().expect("an index");
        assert_eq!(idx.manifests.len(), 2);
        let arm = idx
            .find_platform(&Platform::parse("linux/arm64").unwrap())
            .expect("arm64 child");
        assert_eq!(arm.digest, children[1].0.digest);
        let amd = idx
            .find_platform(&Platform::parse("linux/amd64").unwrap())
            .expect("amd64 child");
        assert_eq!(amd.digest, children[0].0.digest);
    }
    // Each child by the digest the index names.
    for (d, m) in &children {
        let got = c.get_manifest(repo, d.digest.as_str()).unwrap();
        assert_eq!(&got.manifest().unwrap(), m);
        assert_eq!(got.bytes.len() as u64, d.size);
    }
}

#[test]
fn docker_manifest_and_manifest_list() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "dockerish";

    let amd = Manifest::from(image_manifest(&reg, repo, 5, true));
    let arm = Manifest::from(image_manifest(&reg, repo, 6, true));
    assert_eq!(amd.media_type(), media_type::DOCKER_MANIFEST);

    // One by tag (from bytes), one by digest (typed).
    let amd_bytes = amd.to_bytes();
    let amd_digest = c
        .upload_manifest(repo, "amd64", &amd_bytes, media_type::DOCKER_MANIFEST)
        .unwrap();
    assert_eq!(amd_digest.as_str(), support::sha256_digest(&amd_bytes));
    let arm_digest = arm.descriptor().digest;
    assert_eq!(
        c.upload_manifest_typed(repo, arm_digest.as_str(), &arm)
            .unwrap(),
        arm_digest
    );

    for (reference, want) in [
        ("amd64", &amd),
        (amd_digest.as_str(), &amd),
        (arm_digest.as_str(), &arm),
    ] {
        let got = c.get_manifest(repo, reference).unwrap();
        assert_eq!(got.media_type, media_type::DOCKER_MANIFEST, "{reference}");
        assert_eq!(&got.manifest().unwrap(), want, "{reference}");
        let image = got.manifest().unwrap();
        let image = image.as_image().unwrap();
        assert_eq!(image.config.media_type, media_type::DOCKER_CONFIG);
        assert_eq!(image.layers[0].media_type, media_type::DOCKER_LAYER);
    }

    let mut amd_desc = amd.descriptor();
    amd_desc.platform = Some(Platform::new("linux", "amd64"));
    let mut arm_desc = arm.descriptor();
    arm_desc.platform = Some(Platform::parse("linux/arm64/v8").unwrap());
    let mut list = ImageIndex::new(vec![amd_desc.clone(), arm_desc.clone()]);
    list.media_type = Some(media_type::DOCKER_MANIFEST_LIST.to_string());
    let list = Manifest::from(list);
    let list_bytes = list.to_bytes();
    let list_digest = support::sha256_digest(&list_bytes);
    // The list by digest, then by tag.
    assert_eq!(
        c.upload_manifest_typed(repo, &list_digest, &list)
            .unwrap()
            .as_str(),
        list_digest
    );
    assert_eq!(
        c.upload_manifest_typed(repo, "latest", &list)
            .unwrap()
            .as_str(),
        list_digest
    );
    for reference in ["latest", list_digest.as_str()] {
        let got = c.get_manifest(repo, reference).unwrap();
        assert_eq!(got.media_type, media_type::DOCKER_MANIFEST_LIST);
        assert_eq!(got.bytes, list_bytes);
        let typed = got.manifest().unwrap();
        assert_eq!(typed, list);
        let idx = typed.as_index().unwrap();
        assert_eq!(idx.manifests, vec![amd_desc.clone(), arm_desc.clone()]);
    }
    let info = c.manifest_exists(repo, "latest").unwrap().unwrap();
    assert_eq!(info.media_type, media_type::DOCKER_MANIFEST_LIST);
    assert_eq!(info.digest.as_str(), list_digest);
    assert_eq!(info.size, list_bytes.len() as u64);
}

#[test]
fn manifest_exists_and_accept_narrowing() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "exists";
    let image = reg.push_test_image(repo, "v1", 100, 7);

    for reference in ["v1", image.manifest_digest.as_str()] {
        let info = c
            .manifest_exists(repo, reference)
            .unwrap()
            .expect("it exists");
        assert_eq!(info.digest.as_str(), image.manifest_digest);
        assert_eq!(info.media_type, media_type::OCI_MANIFEST);
        assert_eq!(info.size, image.manifest.len() as u64);
    }
    assert_eq!(c.manifest_exists(repo, "v2").unwrap(), None);
    assert_eq!(
        c.manifest_exists(repo, support::sha256_digest(b"absent"))
            .unwrap(),
        None
    );
    assert_eq!(c.manifest_exists("no-such-repo", "v1").unwrap(), None);

    // Distribution answers 404 for an OCI manifest when the request accepts only Docker types…
    let docker_only = GetManifestOptions {
        accept: Some(vec![
            media_type::DOCKER_MANIFEST.to_string(),
            media_type::DOCKER_MANIFEST_LIST.to_string(),
        ]),
    };
    for reference in ["v1", image.manifest_digest.as_str()] {
        let e = c
            .get_manifest_with(repo, reference, docker_only.clone())
            .unwrap_err();
        assert!(e.is_not_found(), "{reference}: {e}");
    }
    // …and finds it with the default list, or one naming the OCI type.
    let got = c
        .get_manifest_with(repo, "v1", GetManifestOptions::default())
        .unwrap();
    assert_eq!(got.bytes, image.manifest);
    let oci_only = GetManifestOptions {
        accept: Some(vec![media_type::OCI_MANIFEST.to_string()]),
    };
    let got = c.get_manifest_with(repo, "v1", oci_only).unwrap();
    assert_eq!(got.digest.as_str(), image.manifest_digest);
}

#[test]
fn delete_manifest_by_digest_and_by_tag() {
    let reg = Registry::start();
    let c = client(&reg.url());
    let repo = "deleting";
    let first = reg.push_test_image(repo, "one", 100, 11);
    let second = reg.push_test_image(repo, "two", 100, 12);
    assert!(c.manifest_exists(repo, "one").unwrap().is_some());

    c.delete_manifest(repo, &first.manifest_digest).unwrap();
    for reference in ["one", first.manifest_digest.as_str()] {
        let e = c.get_manifest(repo, reference).unwrap_err();
        assert!(e.is_not_found(), "{reference}: {e}");
        assert_eq!(c.manifest_exists(repo, reference).unwrap(), None);
    }
    // The other image is untouched.
    assert_eq!(
        c.get_manifest(repo, "two").unwrap().digest.as_str(),
        second.manifest_digest
    );

    c.delete_manifest(repo, "two").unwrap();
    for reference in ["two", second.manifest_digest.as_str()] {
        let e = c.get_manifest(repo, reference).unwrap_err();
        assert!(e.is_not_found(), "{reference}: {e}");
    }
    // Deleting what is gone counts as done.
    c.delete_manifest(repo, "two").unwrap();
    c.delete_manifest(repo, &second.manifest_digest).unwrap();
}

#[test]
fn registry_refuses_manifest_with_missing_blobs() {
    let reg = Registry::start();
    let c = client(&reg.url());
    // Nothing pushed: the config and layer are unknown to the registry.
    let manifest = Manifest::from(ImageManifest::new(
        Descriptor::for_bytes(media_type::OCI_CONFIG, b"{}"),
        vec![Descriptor::for_bytes(media_type::OCI_LAYER_TAR, b"layer")],
    ));
    let e = c
        .upload_manifest_typed("missing", "v1", &manifest)
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.has_code(azcontainerregistry::ErrorCode::ManifestBlobUnknown),
        "{e}"
    );
}

// -------------------------------------------------------------------------------------------------
// mockito: inputs refused before sending, and registries that misbehave
// -------------------------------------------------------------------------------------------------

const SMALL_MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

#[test]
fn invalid_inputs_send_nothing() {
    let (server, unexpected) = strict_server();
    let c = client(&server.url());
    let bytes = SMALL_MANIFEST;
    let wrong = Digest::of(b"some other bytes");

    // Upload by a digest the bytes do not hash to.
    let e = c
        .upload_manifest("repo", wrong.as_str(), bytes, media_type::OCI_MANIFEST)
        .unwrap_err();
    match &e {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, wrong.as_str());
            assert_eq!(actual, &support::sha256_digest(bytes));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    // The same with a typed manifest.
    let typed = Manifest::from_bytes(media_type::OCI_MANIFEST, bytes).unwrap();
    assert!(matches!(
        c.upload_manifest_typed("repo", wrong.as_str(), &typed),
        Err(Error::DigestMismatch { .. })
    ));
    // A sha512 digest reference is checked with sha512.
    let sha512_wrong = format!("sha512:{}", "ab".repeat(64));
    assert!(matches!(
        c.upload_manifest("repo", &sha512_wrong, bytes, media_type::OCI_MANIFEST),
        Err(Error::DigestMismatch { .. })
    ));

    // Too large to upload.
    let big = vec![b' '; MAX_MANIFEST_SIZE as usize + 1];
    assert!(matches!(
        c.upload_manifest("repo", "v1", &big, media_type::OCI_MANIFEST),
        Err(Error::InvalidInput { .. })
    ));

    // Bad names and media types.
    assert!(invalid(c.upload_manifest(
        "Bad/Repo",
        "v1",
        bytes,
        media_type::OCI_MANIFEST
    )));
    assert!(invalid(c.upload_manifest(
        "repo",
        ".tag",
        bytes,
        media_type::OCI_MANIFEST
    )));
    assert!(invalid(c.upload_manifest("repo", "v1", bytes, "")));
    assert!(invalid(c.upload_manifest(
        "repo",
        "v1",
        bytes,
        "application/json\r\nX-Evil: 1"
    )));
    assert!(invalid(c.get_manifest("repo", "sha256:short")));
    assert!(invalid(c.get_manifest("repo/", "v1")));
    assert!(invalid(c.get_manifest_with(
        "repo",
        "v1",
        GetManifestOptions {
            accept: Some(vec![])
        }
    )));
    assert!(invalid(c.get_manifest_with(
        "repo",
        "v1",
        GetManifestOptions {
            accept: Some(vec!["a, b".into()])
        }
    )));
    assert!(invalid(c.manifest_exists("repo", "bad tag")));

    unexpected.assert();
}

#[test]
fn get_sends_the_full_accept_list_and_verifies() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    let digest = Digest::of(SMALL_MANIFEST);
    let accept = DEFAULT_ACCEPT.join(", ");
    for path in [
        "/v2/repo/manifests/v1".to_string(),
        format!("/v2/repo/manifests/{digest}"),
    ] {
        server
            .mock("GET", path.as_str())
            .match_header("accept", accept.as_str())
            .with_header(
                "content-type",
                "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
            )
            .with_header("docker-content-digest", digest.as_str())
            .with_body(SMALL_MANIFEST)
            .expect(1)
            .create();
    }
    for reference in ["v1", digest.as_str()] {
        let got = c.get_manifest("repo", reference).unwrap();
        assert_eq!(got.bytes, SMALL_MANIFEST);
        assert_eq!(
            got.media_type,
            media_type::OCI_MANIFEST,
            "parameters dropped"
        );
        assert_eq!(got.digest, digest);
    }

    // A narrowed list is sent as given.
    let narrowed = server
        .mock("GET", "/v2/repo/manifests/narrow")
        .match_header(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .with_status(404)
        .with_body(r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#)
        .expect(1)
        .create();
    let e = c
        .get_manifest_with(
            "repo",
            "narrow",
            GetManifestOptions {
                accept: Some(vec![media_type::DOCKER_MANIFEST.into()]),
            },
        )
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    narrowed.assert();

    // No Docker-Content-Digest and a generic Content-Type: the digest is computed, the media type
    // read from the manifest.
    server
        .mock("GET", "/v2/repo/manifests/plain")
        .with_header("content-type", "application/json")
        .with_body(SMALL_MANIFEST)
        .create();
    let got = c.get_manifest("repo", "plain").unwrap();
    assert_eq!(got.digest, digest);
    assert_eq!(got.media_type, media_type::OCI_MANIFEST);
    unexpected.assert();
}

#[test]
fn tampered_manifests_are_refused() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    let genuine = SMALL_MANIFEST;
    let tampered = String::from_utf8(genuine.to_vec())
        .unwrap()
        .replace("\"layers\":[]", "\"layers\":[ ]")
        .into_bytes();
    let genuine_digest = Digest::of(genuine);
    let tampered_digest = Digest::of(&tampered);
    assert_ne!(genuine_digest, tampered_digest);

    // By tag: the body does not match Docker-Content-Digest.
    server
        .mock("GET", "/v2/repo/manifests/v1")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_header("docker-content-digest", genuine_digest.as_str())
        .with_body(&tampered)
        .expect(1)
        .create();
    match c.get_manifest("repo", "v1").unwrap_err() {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, genuine_digest.as_str());
            assert_eq!(actual, tampered_digest.as_str());
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }

    // By digest, no header: the body does not match the requested digest.
    server
        .mock(
            "GET",
            format!("/v2/repo/manifests/{genuine_digest}").as_str(),
        )
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_body(&tampered)
        .expect(1)
        .create();
    assert!(matches!(
        c.get_manifest("repo", genuine_digest.as_str()),
        Err(Error::DigestMismatch { .. })
    ));

    // By digest, with a header that agrees with the (tampered) body: the requested digest still
    // wins.
    let other = Digest::of(b"yet another manifest");
    server
        .mock("GET", format!("/v2/repo/manifests/{other}").as_str())
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_header("docker-content-digest", tampered_digest.as_str())
        .with_body(&tampered)
        .expect(1)
        .create();
    match c.get_manifest("repo", other.as_str()).unwrap_err() {
        Error::DigestMismatch { expected, .. } => assert_eq!(expected, other.as_str()),
        e => panic!("expected DigestMismatch, got {e:?}"),
    }

    // A garbage Docker-Content-Digest is an error, not silently ignored.
    server
        .mock("GET", "/v2/repo/manifests/garbage")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_header("docker-content-digest", "sha256:nothex")
        .with_body(genuine)
        .expect(1)
        .create();
    assert!(matches!(
        c.get_manifest("repo", "garbage"),
        Err(Error::Decode { .. })
    ));
    unexpected.assert();
}

#[test]
fn oversized_manifest_with_content_length_is_refused() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    let five_mib = vec![b' '; 5 * 1024 * 1024];
    server
        .mock("GET", "/v2/repo/manifests/big")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_body(&five_mib)
        .expect(1)
        .create();
    match c.get_manifest("repo", "big").unwrap_err() {
        Error::TooLarge { limit, .. } => assert_eq!(limit, MAX_MANIFEST_SIZE),
        other => panic!("expected TooLarge, got {other:?}"),
    }

    // Exactly the limit is fine (a valid manifest padded with whitespace).
    let mut at_limit = SMALL_MANIFEST.to_vec();
    at_limit.resize(MAX_MANIFEST_SIZE as usize, b' ');
    server
        .mock("GET", "/v2/repo/manifests/edge")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_body(&at_limit)
        .expect(1)
        .create();
    let got = c.get_manifest("repo", "edge").unwrap();
    assert_eq!(got.bytes.len() as u64, MAX_MANIFEST_SIZE);
    assert!(got.manifest().unwrap().as_image().is_some());
    unexpected.assert();
}

/// Proves "without reading further": a server that announces 5 MiB, sends a few bytes and then
/// stalls. Reading the body would hang until a timeout; the client must answer at once from
/// `Content-Length`.
#[test]
fn oversized_content_length_is_refused_before_reading_the_body() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{{\"schema",
            media_type::OCI_MANIFEST,
            5 * 1024 * 1024
        )
        .unwrap();
        stream.flush().unwrap();
        // Stall with the connection open until the client hangs up (or 15 s).
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let _ = reader.read_line(&mut line);
        request_line
    });
    let c = client(&url);
    let started = Instant::now();
    match c.get_manifest("repo", "stalled").unwrap_err() {
        Error::TooLarge { limit, .. } => assert_eq!(limit, MAX_MANIFEST_SIZE),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: the client waited for the body"
    );
    drop(c);
    let request_line = server.join().unwrap();
    assert!(
        request_line.starts_with("GET /v2/repo/manifests/stalled "),
        "{request_line}"
    );
}

#[test]
fn oversized_streamed_manifest_is_refused_without_reading_it_all() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    const CHUNK: usize = 64 * 1024;
    const TOTAL: u64 = 64 * 1024 * 1024;
    let written = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let (w, f) = (written.clone(), finished.clone());
    server
        .mock("GET", "/v2/repo/manifests/stream")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_chunked_body(move |out| {
            let chunk = vec![b' '; CHUNK];
            let result = (|| {
                while w.load(Ordering::SeqCst) < TOTAL {
                    out.write_all(&chunk)?;
                    w.fetch_add(CHUNK as u64, Ordering::SeqCst);
                }
                Ok(())
            })();
            f.store(true, Ordering::SeqCst);
            result
        })
        .expect(1)
        .create();
    let started = Instant::now();
    match c.get_manifest("repo", "stream").unwrap_err() {
        Error::TooLarge { limit, .. } => assert_eq!(limit, MAX_MANIFEST_SIZE),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The client hung up: the server's writer fails long before it has written everything.
    while !finished.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(finished.load(Ordering::SeqCst), "the writer never stopped");
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < TOTAL,
        "the server could write all {sent} bytes: the client read far past the limit"
    );
    assert!(sent > MAX_MANIFEST_SIZE, "{sent}");
    eprintln!("server wrote {sent} bytes before the client hung up");
    unexpected.assert();
}

#[test]
fn upload_checks_the_registry_digest() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    let digest = Digest::of(SMALL_MANIFEST);

    let honest = server
        .mock("PUT", "/v2/repo/manifests/v1")
        .match_header("content-type", media_type::OCI_MANIFEST)
        .match_body(SMALL_MANIFEST.to_vec())
        .with_status(201)
        .with_header("docker-content-digest", digest.as_str())
        .expect(1)
        .create();
    assert_eq!(
        c.upload_manifest("repo", "v1", SMALL_MANIFEST, media_type::OCI_MANIFEST)
            .unwrap(),
        digest
    );
    honest.assert();

    let liar = server
        .mock("PUT", "/v2/repo/manifests/v2")
        .with_status(201)
        .with_header(
            "docker-content-digest",
            Digest::of(b"something else").as_str(),
        )
        .expect(1)
        .create();
    match c
        .upload_manifest("repo", "v2", SMALL_MANIFEST, media_type::OCI_MANIFEST)
        .unwrap_err()
    {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, digest.as_str());
            assert_eq!(actual, Digest::of(b"something else").as_str());
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    liar.assert();

    // By digest: the path carries the digest; no header is fine.
    let by_digest = server
        .mock("PUT", format!("/v2/repo/manifests/{digest}").as_str())
        .with_status(201)
        .expect(1)
        .create();
    assert_eq!(
        c.upload_manifest(
            "repo",
            digest.as_str(),
            SMALL_MANIFEST,
            media_type::OCI_MANIFEST
        )
        .unwrap(),
        digest
    );
    by_digest.assert();

    // A refusal is the registry's error.
    server
        .mock("PUT", "/v2/repo/manifests/bad")
        .with_status(400)
        .with_body(r#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}"#)
        .expect(1)
        .create();
    let e = c
        .upload_manifest("repo", "bad", SMALL_MANIFEST, media_type::OCI_MANIFEST)
        .unwrap_err();
    assert!(
        e.has_code(azcontainerregistry::ErrorCode::ManifestInvalid),
        "{e}"
    );
    unexpected.assert();
}

#[test]
fn manifest_exists_falls_back_to_get_when_head_says_little() {
    let (mut server, unexpected) = strict_server();
    let c = client(&server.url());
    let digest = Digest::of(SMALL_MANIFEST);
    // HEAD without Docker-Content-Digest; the GET then measures the manifest.
    let head = server
        .mock("HEAD", "/v2/repo/manifests/v1")
        .with_status(200)
        .with_header("content-type", media_type::OCI_MANIFEST)
        .expect(1)
        .create();
    let get = server
        .mock("GET", "/v2/repo/manifests/v1")
        .with_header("content-type", media_type::OCI_MANIFEST)
        .with_body(SMALL_MANIFEST)
        .expect(1)
        .create();
    let info = c.manifest_exists("repo", "v1").unwrap().unwrap();
    assert_eq!(info.digest, digest);
    assert_eq!(info.size, SMALL_MANIFEST.len() as u64);
    assert_eq!(info.media_type, media_type::OCI_MANIFEST);
    head.assert();
    get.assert();

    server
        .mock("HEAD", "/v2/repo/manifests/gone")
        .with_status(404)
        .expect(1)
        .create();
    assert_eq!(c.manifest_exists("repo", "gone").unwrap(), None);

    server
        .mock("HEAD", "/v2/repo/manifests/locked")
        .with_status(403)
        .expect(1)
        .create();
    let e = c.manifest_exists("repo", "locked").unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    unexpected.assert();
}
