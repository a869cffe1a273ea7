//! The table against the `acr` binary: every case the CLI has an operation for, signed in with the
//! Basic credential from the environment. A failure must be exit status non-zero with exactly one
//! `acr: error:` line, no panic text and no secret in the output; a recovery must exit 0.

use std::time::Duration;

use super::cases::other_origin;
use super::{
    Case, Ctx, Expect, Op, PASSWORD, REPO, USER, blob_digest, check_other_origin, leftovers,
    manifest_digest, secrets, upload_data,
};
use crate::support::cli::Acr;
use crate::support::hostile::Hostile;

/// The outer bound of one CLI run: generous (the CLI keeps its default retries), only to catch
/// hangs.
const CLI_BOUND: Duration = Duration::from_secs(150);

/// The CLI arguments for `op`, or `None` when the CLI has no such operation.
fn args(op: Op, dir: &std::path::Path) -> Option<Vec<String>> {
    let blob = format!("{REPO}@{}", blob_digest());
    let v: Vec<String> = match op {
        Op::ManifestByTag => vec!["manifest".into(), "get".into(), format!("{REPO}:latest")],
        Op::ManifestByDigest => vec![
            "manifest".into(),
            "get".into(),
            format!("{REPO}@{}", manifest_digest()),
        ],
        Op::Catalog => vec!["repos".into()],
        Op::Tags => vec!["tags".into(), REPO.into()],
        Op::AcrRepos => vec!["--api".into(), "acr".into(), "repos".into()],
        Op::AcrTags => vec!["--api".into(), "acr".into(), "tags".into(), REPO.into()],
        Op::Referrers => vec!["referrers".into(), format!("{REPO}@{}", manifest_digest())],
        Op::Download => vec![
            "blob".into(),
            "get".into(),
            blob,
            "--output".into(),
            dir.join("out").join("blob.out").display().to_string(),
        ],
        Op::Chunk => return None,
        Op::Exists => vec!["blob".into(), "exists".into(), blob],
        Op::UploadStreamed | Op::UploadChunked => {
            let file = dir.join("upload.bin");
            std::fs::write(&file, upload_data()).expect("write the upload file");
            vec![
                "blob".into(),
                "put".into(),
                REPO.into(),
                file.display().to_string(),
                "--chunk-size".into(),
                "400".into(),
            ]
        }
    };
    Some(v)
}

/// The CLI has no page-bound flag: the listing cases that need a small bound run on the library
/// only.
fn cli_applies(case: &Case) -> bool {
    case.op != Op::Chunk && !case.name.contains("endless_pages")
}

fn run_cli(case: &Case) -> Result<(), String> {
    let other = Hostile::start(other_origin);
    let ctx = Ctx { other: other.url() };
    let serve = case.serve;
    let server = Hostile::start(move |req| serve(req, &ctx));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::create_dir(dir.path().join("out")).map_err(|e| e.to_string())?;
    let Some(mut args) = args(case.op, dir.path()) else {
        return Ok(());
    };
    // silent and trickling servers end within the deadline (and the minimum-progress window)
    args.splice(0..0, ["--timeout".to_string(), "10".to_string()]);
    let run = Acr::new()
        .registry(&server.url())
        .env("ACR_USERNAME", USER)
        .env("ACR_PASSWORD", PASSWORD)
        .args(&args)
        .run_within(CLI_BOUND)
        .ok_or_else(|| format!("acr {} did not end within {CLI_BOUND:?}", args.join(" ")))?;
    check_other_origin(&other)?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.output.stdout).into_owned(),
        run.stderr(),
    );
    if stderr.contains("panicked") || stdout.contains("panicked") {
        return Err(format!("panic text: {}", run.describe()));
    }
    for s in secrets() {
        if stdout.contains(s) || stderr.contains(s) {
            return Err(format!("a secret was printed: {}", run.describe()));
        }
    }
    // registry text reaches the terminal escaped: no ESC, BEL, backspace, NUL or C1 control
    let raw_out = [&run.output.stdout[..], &run.output.stderr[..]].concat();
    let text = String::from_utf8_lossy(&raw_out);
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(format!(
            "a control character {c:?} was printed: {}",
            run.describe()
        ));
    }
    let code = run.output.status.code();
    match case.expect {
        Expect::Ok => {
            if code != Some(0) {
                return Err(format!("expected success: {}", run.describe()));
            }
        }
        Expect::Err(..) => {
            if code == Some(0) || code.is_none() {
                return Err(format!("expected a failure: {}", run.describe()));
            }
            let errors = stderr
                .lines()
                .filter(|l| l.starts_with("acr: error: "))
                .count();
            if errors != 1 {
                return Err(format!(
                    "expected one `acr: error:` line, got {errors}: {}",
                    run.describe()
                ));
            }
            if let Some(files) = leftovers(&dir.path().join("out")) {
                return Err(format!("a failed download left {files:?}"));
            }
        }
    }
    Ok(())
}

#[test]
fn cli() {
    super::run_all(cli_applies, run_cli);
}
