//! Interop with the `oras` Python package (`pip install oras==0.2.43`, which `scripts/test`
//! installs): it pulls what we push (files, and a directory it unpacks), we pull what it pushes.
//! Python runs as a subprocess; a missing package fails the test with the install command.
//!
//! oras-py marks a directory by its media type only (tar+gzip, no `io.deis.oras.content.unpack`
//! annotation), so, as the oras Go CLI does, `artifact::pull` keeps such a layer as the archive
//! file under its title.

use std::fs;
use std::path::Path;
use std::process::Command;

use azcontainerregistry::artifact::{self, FileSpec, PullOptions, PushOptions};
use azcontainerregistry::manifest::media_type;

use super::write_tree;
use crate::support::{Registry, client, pseudo_random};

const PULL: &str = r#"
import sys, oras.client
c = oras.client.OrasClient(insecure=True)
for f in c.pull(target=sys.argv[1], outdir=sys.argv[2]):
    print(f)
"#;

const PUSH: &str = r#"
import sys, oras.client
c = oras.client.OrasClient(insecure=True)
r = c.push(target=sys.argv[1], files=sys.argv[2:], disable_path_validation=True)
r.raise_for_status()
"#;

fn python(script: &str, args: &[&str], cwd: &Path) -> String {
    let check = Command::new("python3")
        .args(["-c", "import oras.client"])
        .output();
    match check {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "the oras Python package is missing: pip install oras==0.2.43 (scripts/test does)"
        ),
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python oras {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn oras_pulls_what_we_push() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let big = pseudo_random(200_000, 5);
    write_tree(
        &src,
        &[("a.bin", &big), ("d/x.txt", b"x"), ("d/sub/y.txt", b"y")],
    );
    let files = [
        FileSpec::new(src.join("a.bin")),
        FileSpec::new(src.join("d")),
    ];
    artifact::push(&client, "interop/ours:v1", &files, PushOptions::default()).unwrap();

    let out = work.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let target = format!("{}/interop/ours:v1", reg.host_port());
    let listed = python(PULL, &[&target, &out.to_string_lossy()], work.path());
    assert!(listed.contains("a.bin"), "{listed}");
    assert_eq!(fs::read(out.join("a.bin")).unwrap(), big);
    assert_eq!(fs::read(out.join("d/x.txt")).unwrap(), b"x");
    assert_eq!(fs::read(out.join("d/sub/y.txt")).unwrap(), b"y");
}

#[test]
fn we_pull_what_oras_pushes() {
    let reg = Registry::start();
    let client = client(&reg.url());
    let work = tempfile::tempdir().unwrap();
    let big = pseudo_random(300_000, 6);
    write_tree(
        work.path(),
        &[
            ("tool.bin", &big),
            ("notes.txt", b"notes"),
            ("d/f.txt", b"f"),
        ],
    );
    let target = format!("{}/interop/theirs:v1", reg.host_port());
    python(
        PUSH,
        &[&target, "tool.bin", "notes.txt:text/plain", "d"],
        work.path(),
    );

    let out = tempfile::tempdir().unwrap();
    let report = artifact::pull(
        &client,
        "interop/theirs:v1",
        out.path(),
        PullOptions::default(),
    )
    .unwrap();
    let titles: Vec<_> = report.files.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(titles, ["tool.bin", "notes.txt", "d"]);
    assert_eq!(fs::read(out.path().join("tool.bin")).unwrap(), big);
    assert_eq!(fs::read(out.path().join("notes.txt")).unwrap(), b"notes");
    assert_eq!(report.files[1].descriptor.media_type, "text/plain");
    // the directory: oras-py's tar+gzip, kept whole (no unpack annotation)
    assert_eq!(
        report.files[2].descriptor.media_type,
        media_type::OCI_LAYER_TAR_GZIP
    );
    assert!(!report.files[2].unpacked);
    let gz = fs::read(out.path().join("d")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
}
