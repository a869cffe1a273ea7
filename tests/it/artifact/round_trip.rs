//! Files and directories round trip through `artifact::push` and `artifact::pull`; the manifest is
//! laid out as oras lays it out; selection by media type and title.

use std::fs;

use azcontainerregistry::artifact::{self, FileSpec, PullOptions, PushOptions};
use azcontainerregistry::cache::Cache;
use azcontainerregistry::manifest::{Descriptor, Manifest, media_type};

use super::write_tree;
use crate::support::{Registry, client, pseudo_random};

#[test]
fn files_and_a_directory_round_trip_with_the_oras_layout() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    let big = pseudo_random(300_000, 7);
    write_tree(
        src.path(),
        &[
            ("tool.bin", &big),
            ("notes.txt", b"hello"),
            ("schemas/a.json", b"{\"a\":1}"),
            ("schemas/deep/b.json", b"{\"b\":2}"),
        ],
    );
    let files = [
        FileSpec::new(src.path().join("tool.bin")),
        FileSpec::parse(&format!(
            "{}:text/plain",
            src.path().join("notes.txt").display()
        )),
        FileSpec::new(src.path().join("schemas")),
    ];
    let options = PushOptions {
        artifact_type: None,
        annotations: [("org.example.k".to_string(), "v".to_string())].into(),
        ..Default::default()
    };
    let pushed = artifact::push(&client, "tools/kit:v1", &files, options).unwrap();

    // the manifest as the registry holds it
    let got = client.get_manifest("tools/kit", "v1").unwrap();
    assert_eq!(got.digest, pushed.digest);
    assert_eq!(got.media_type, media_type::OCI_MANIFEST);
    let Manifest::Image(m) = got.manifest().unwrap() else {
        panic!("an image manifest")
    };
    assert_eq!(
        m.artifact_type.as_deref(),
        Some(artifact::DEFAULT_ARTIFACT_TYPE)
    );
    assert_eq!(m.config, Descriptor::empty());
    assert_eq!(
        m.config.digest.as_str(),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(m.annotations.as_ref().unwrap()["org.example.k"], "v");
    let titles: Vec<_> = m.layers.iter().map(|l| l.title().unwrap()).collect();
    assert_eq!(titles, ["tool.bin", "notes.txt", "schemas"]);
    assert_eq!(m.layers[0].media_type, media_type::OCI_LAYER_TAR);
    assert_eq!(m.layers[1].media_type, "text/plain");
    assert_eq!(m.layers[2].media_type, media_type::OCI_LAYER_TAR_GZIP);
    assert_eq!(m.layers[2].annotation(artifact::UNPACK), Some("true"));
    assert!(
        m.layers[2]
            .annotation(artifact::CONTENT_DIGEST)
            .is_some_and(|d| d.starts_with("sha256:"))
    );

    // without a cache, then through one: the same files
    for cache in [None, Some(tempfile::tempdir().unwrap())] {
        let out = tempfile::tempdir().unwrap();
        let options = PullOptions {
            cache: cache.as_ref().map(|c| Cache::new(c.path())),
            ..Default::default()
        };
        let report = artifact::pull(&client, "tools/kit:v1", out.path(), options).unwrap();
        assert_eq!(report.digest, pushed.digest);
        assert_eq!(report.files.len(), 3);
        assert!(report.files[2].unpacked);
        assert_eq!(fs::read(out.path().join("tool.bin")).unwrap(), big);
        assert_eq!(fs::read(out.path().join("notes.txt")).unwrap(), b"hello");
        assert_eq!(
            fs::read(out.path().join("schemas/deep/b.json")).unwrap(),
            b"{\"b\":2}"
        );
        assert_eq!(
            fs::read(out.path().join("schemas/a.json")).unwrap(),
            b"{\"a\":1}"
        );
        let left: Vec<_> = fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "no temporary file is left: {left:?}");
    }

    // pushing again sends no layer twice
    let again = artifact::push(&client, "tools/kit:v1", &files, PushOptions::default()).unwrap();
    assert_eq!(again.layers_skipped, 3);
}

#[test]
fn selection_by_media_type_and_title_and_push_by_digest() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let src = tempfile::tempdir().unwrap();
    write_tree(
        src.path(),
        &[("a.txt", b"a"), ("b.json", b"b"), ("c.json", b"c")],
    );
    let files = [
        FileSpec::new(src.path().join("a.txt")).with_media_type("text/plain"),
        FileSpec::new(src.path().join("b.json")).with_media_type("application/json"),
        FileSpec::new(src.path().join("c.json"))
            .with_media_type("application/json")
            .with_title("renamed.json"),
    ];
    let pushed = artifact::push(&client, "sel/x:v1", &files, PushOptions::default()).unwrap();

    let out = tempfile::tempdir().unwrap();
    let by_type = PullOptions {
        media_types: vec!["application/json".into()],
        ..Default::default()
    };
    let r = artifact::pull(&client, "sel/x:v1", out.path(), by_type).unwrap();
    let names: Vec<_> = r.files.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(names, ["b.json", "renamed.json"]);
    assert!(!out.path().join("a.txt").exists());
    assert_eq!(fs::read(out.path().join("renamed.json")).unwrap(), b"c");

    let out = tempfile::tempdir().unwrap();
    let by_title = PullOptions {
        titles: vec!["a.txt".into()],
        ..Default::default()
    };
    let by_digest = format!("sel/x@{}", pushed.digest);
    let r = artifact::pull(&client, &by_digest, out.path(), by_title).unwrap();
    assert_eq!(r.files.len(), 1);
    assert_eq!(fs::read(out.path().join("a.txt")).unwrap(), b"a");

    let missing = PullOptions {
        titles: vec!["nope".into()],
        ..Default::default()
    };
    let e = artifact::pull(&client, "sel/x:v1", out.path(), missing).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");

    // by digest: stored under that digest, which must be the manifest's
    let at = format!("sel/y@{}", pushed.digest);
    let r = artifact::push(&client, &at, &files, PushOptions::default()).unwrap();
    assert_eq!(r.digest, pushed.digest);
    let wrong = format!("sel/y@sha256:{}", "0".repeat(64));
    assert!(artifact::push(&client, &wrong, &files, PushOptions::default()).is_err());
}

#[test]
fn a_corrupt_blob_is_refused_and_leaves_no_file() {
    let reg = Registry::start();
    let client = client(&reg.url());
    // a manifest announcing a layer whose bytes are not its digest's: the registry serves what
    // it stored under another digest, so point the descriptor at a real blob with the wrong size
    let blob = reg.push_blob("bad/x", b"actual bytes");
    let config = reg.push_blob("bad/x", b"{}");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_EMPTY, "digest": config, "size": 2},
        "layers": [{"mediaType": "text/plain", "digest": blob, "size": 5,
                    "annotations": {"org.opencontainers.image.title": "f.txt"}}]
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    reg.push_manifest("bad/x", "v1", media_type::OCI_MANIFEST, &bytes);
    for cache in [None, Some(tempfile::tempdir().unwrap())] {
        let out = tempfile::tempdir().unwrap();
        let options = PullOptions {
            cache: cache.as_ref().map(|c| Cache::new(c.path())),
            ..Default::default()
        };
        let e = artifact::pull(&client, "bad/x:v1", out.path(), options).unwrap_err();
        assert!(e.to_string().contains("size"), "{e}");
        let left: Vec<_> = fs::read_dir(out.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing is written: {left:?}");
    }
}

#[test]
fn progress_reports_moved_blobs_as_finished_and_cached_or_present_ones_as_skipped() {
    use azcontainerregistry::image::{Progress, ProgressKind};
    use std::sync::{Arc, Mutex};
    let reg = Registry::start();
    let client = client(&reg.url());
    let bytes = pseudo_random(200_000, 11);
    super::push_one(&client, "prog/x:v1", "f.bin", &bytes);
    let cache = tempfile::tempdir().unwrap();
    let pull = || {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let options = PullOptions {
            cache: Some(Cache::new(cache.path())),
            progress: Some(Arc::new(move |p: &Progress| {
                sink.lock().unwrap().push(p.clone())
            })),
            ..Default::default()
        };
        let out = tempfile::tempdir().unwrap();
        artifact::pull(&client, "prog/x:v1", out.path(), options).unwrap();
        seen.lock().unwrap().clone()
    };
    let first = pull();
    assert_eq!(first.first().map(|p| p.kind), Some(ProgressKind::Started));
    let last = first.last().unwrap();
    assert_eq!(last.kind, ProgressKind::Finished);
    assert_eq!(
        (last.blobs_done, last.blobs_total, last.bytes_done),
        (1, 1, 200_000)
    );
    assert!(first.iter().any(|p| p.kind == ProgressKind::Advanced));
    let second = pull();
    let kinds: Vec<_> = second.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProgressKind::Skipped]);

    // push: the new layer sent, then (pushed again) skipped
    let src = tempfile::tempdir().unwrap();
    super::write_tree(src.path(), &[("g.bin", &bytes[..1000])]);
    let push = || {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let options = PushOptions {
            progress: Some(Arc::new(move |p: &Progress| {
                sink.lock().unwrap().push(p.kind)
            })),
            ..Default::default()
        };
        let files = [FileSpec::new(src.path().join("g.bin"))];
        artifact::push(&client, "prog/y:v1", &files, options).unwrap();
        seen.lock().unwrap().clone()
    };
    let first = push();
    assert_eq!(first.last(), Some(&ProgressKind::Finished), "{first:?}");
    assert!(first.contains(&ProgressKind::Advanced), "{first:?}");
    assert_eq!(push().last(), Some(&ProgressKind::Skipped));
}
