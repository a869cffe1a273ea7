//! Manifests written to harm the puller: titles that are absolute, climb out with `..`, repeat, or
//! lead through a symbolic link; a packed directory whose entries climb out. Each is refused and
//! nothing lands outside (or, refused up front, inside) the output directory.

use std::fs;
use std::io::Write;
use std::path::Path;

use azcontainerregistry::artifact::{self, PullOptions};
use azcontainerregistry::cache::Cache;
use azcontainerregistry::manifest::media_type;

use crate::support::{Registry, client};

/// A layer to push: title, bytes, more annotations.
type Layer<'a> = (&'a str, &'a [u8], &'a [(&'a str, &'a str)]);

/// An archive entry: raw name bytes, type, data, link target.
type RawEntry<'a> = (&'a [u8], tar::EntryType, &'a [u8], Option<&'a str>);

/// Pushes a manifest tagged `v1` whose layers are `layers`.
fn push_layers(reg: &Registry, repo: &str, layers: &[Layer<'_>]) {
    let config = reg.push_blob(repo, b"{}");
    let mut descriptors = Vec::new();
    for (title, bytes, extra) in layers {
        let digest = reg.push_blob(repo, bytes);
        let mut annotations = serde_json::Map::new();
        annotations.insert("org.opencontainers.image.title".into(), (*title).into());
        for (k, v) in *extra {
            annotations.insert((*k).into(), (*v).into());
        }
        descriptors.push(serde_json::json!({
            "mediaType": "application/octet-stream", "digest": digest,
            "size": bytes.len(), "annotations": annotations,
        }));
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_EMPTY, "digest": config, "size": 2},
        "layers": descriptors,
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    reg.push_manifest(repo, "v1", media_type::OCI_MANIFEST, &bytes);
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_titles_are_refused_before_anything_is_written() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let cases: &[(&str, &[Layer<'_>])] = &[
        ("abs", &[("/tmp/pwned-by-title", b"x", &[])]),
        (
            "dotdot",
            &[("ok.txt", b"o", &[]), ("../escaped.txt", b"x", &[])],
        ),
        ("deepdotdot", &[("a/../../escaped.txt", b"x", &[])]),
        ("backslash", &[("..\\escaped.txt", b"x", &[])]),
        ("dup", &[("same.txt", b"1", &[]), ("same.txt", b"2", &[])]),
        (
            "dupdot",
            &[("same.txt", b"1", &[]), ("./same.txt", b"2", &[])],
        ),
        ("nested", &[("d", b"1", &[]), ("d/x", b"2", &[])]),
    ];
    for (name, layers) in cases {
        let repo = format!("hostile/{name}");
        push_layers(&reg, &repo, layers);
        for cached in [false, true] {
            let root = tempfile::tempdir().unwrap();
            let out = root.path().join("out");
            let cache = tempfile::tempdir().unwrap();
            let options = PullOptions {
                cache: cached.then(|| Cache::new(cache.path())),
                ..Default::default()
            };
            let e = artifact::pull(&client, &format!("{repo}:v1"), &out, options).unwrap_err();
            assert!(e.to_string().contains("title"), "{name}: {e}");
            assert_eq!(
                tree(root.path()),
                Vec::<String>::new(),
                "{name}: nothing is written"
            );
        }
    }
    assert!(!Path::new("/tmp/pwned-by-title").exists());
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_on_the_way_is_not_followed() {
    let reg = Registry::start();
    let client = client(&reg.url());
    push_layers(&reg, "hostile/link", &[("sub/f.txt", b"x", &[])]);
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let outside = root.path().join("outside");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("sub")).unwrap();
    let e = artifact::pull(&client, "hostile/link:v1", &out, PullOptions::default()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(tree(&outside), Vec::<String>::new());
}

/// A gzip'd tar of `entries` (name bytes written raw, as an attacker would).
fn hostile_tar(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_packed_directory_cannot_climb_out() {
    use tar::EntryType::{Block, Regular, Symlink};
    let reg = Registry::start();
    let client = client(&reg.url());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            hostile_tar(&[(b"d/../../escaped", Regular, b"x", None)]),
        ),
        (
            "absolute",
            hostile_tar(&[(b"/tmp/pwned-by-tar", Regular, b"x", None)]),
        ),
        ("other root", hostile_tar(&[(b"e/x", Regular, b"x", None)])),
        (
            "absolute link",
            hostile_tar(&[(b"d/l", Symlink, b"", Some("/etc"))]),
        ),
        (
            "climbing link",
            hostile_tar(&[(b"d/l", Symlink, b"", Some("../.."))]),
        ),
        ("device", hostile_tar(&[(b"d/dev", Block, b"", None)])),
        (
            "through a link",
            hostile_tar(&[
                (b"d/l", Symlink, b"", Some(".")),
                (b"d/l/x", Regular, b"x", None),
            ]),
        ),
    ];
    for (name, bytes) in cases {
        let repo = format!("hostile/tar{}", name.replace(' ', ""));
        push_layers(&reg, &repo, &[("d", &bytes, &[(artifact::UNPACK, "true")])]);
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let e = artifact::pull(&client, &format!("{repo}:v1"), &out, PullOptions::default());
        assert!(e.is_err(), "{name}: must be refused");
        assert_eq!(tree(root.path()), ["out"], "{name}: nothing is unpacked");
    }
    assert!(!Path::new("/tmp/pwned-by-tar").exists());
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_at_the_title_is_replaced_not_followed() {
    let reg = Registry::start();
    let client = client(&reg.url());
    push_layers(&reg, "hostile/target", &[("f.txt", b"new", &[])]);
    for cached in [false, true] {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let secret = root.path().join("secret");
        fs::create_dir_all(&out).unwrap();
        fs::write(&secret, b"keep").unwrap();
        std::os::unix::fs::symlink(&secret, out.join("f.txt")).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let options = PullOptions {
            cache: cached.then(|| Cache::new(cache.path())),
            ..Default::default()
        };
        artifact::pull(&client, "hostile/target:v1", &out, options).unwrap();
        assert_eq!(
            fs::read(&secret).unwrap(),
            b"keep",
            "the link's target is untouched"
        );
        let meta = fs::symlink_metadata(out.join("f.txt")).unwrap();
        assert!(meta.is_file(), "the link is replaced by the file");
        assert_eq!(fs::read(out.join("f.txt")).unwrap(), b"new");
    }
}
